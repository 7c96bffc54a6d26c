/* Images: JPEG decoding / encoding with libjpeg-turbo (its error_exit longjmps
 * back here instead of exiting), format dispatch, whole-file reads, and
 * sample grids in the manner of torchvision's make_grid + save_image. */
#include "image.h"

#include <errno.h>
#include <jpeglib.h>
#include <setjmp.h>
#include <sys/stat.h>

#define GT_JPEG_MAX_SCANS 256

void gt_image_free(gt_image *img) {
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

gt_status gt__read_file(const char *path, int64_t max, uint8_t **buf, size_t *len) {
    *buf = NULL, *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return gt_set_error(GT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return gt_set_error(GT_ERR_IO, "%s: not a regular file", path);
    }
    if ((int64_t)sb.st_size > max) {
        fclose(f);
        return gt_set_error(GT_ERR_FORMAT, "%s: file of %lld bytes is larger than the %lld accepted", path,
                            (long long)sb.st_size, (long long)max);
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) {
        fclose(f);
        return gt_set_error(GT_ERR_OOM, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = n ? fread(b, 1, n, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (got != n || err) {
        free(b);
        return gt_set_error(GT_ERR_IO, "%s: read %zu of %zu bytes%s", path, got, n, err ? " (read error)" : "");
    }
    *buf = b, *len = n;
    return GT_OK;
}

/* --- JPEG ------------------------------------------------------------------ */
typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} gt__jerr;

static void gt__jpeg_error_exit(j_common_ptr cinfo) {
    gt__jerr *e = (gt__jerr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jb, 1);
}

/* Warnings (truncated or damaged data, which libjpeg would fill in with gray)
 * end decoding at once: we refuse such files, and stopping early bounds the
 * work a damaged header that claims a huge image can cause. */
static void gt__jpeg_emit(j_common_ptr cinfo, int level) {
    gt__jerr *e = (gt__jerr *)cinfo->err;
    if (level >= 0) return; /* trace messages */
    char w[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, w);
    snprintf(e->msg, sizeof e->msg, "damaged data (%.150s)", w);
    longjmp(e->jb, 1);
}

static void gt__jpeg_output(j_common_ptr cinfo) { (void)cinfo; }

/* Bounds the work a crafted progressive file can cause. */
static void gt__jpeg_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > GT_JPEG_MAX_SCANS) {
        gt__jerr *e = (gt__jerr *)cinfo->err;
        snprintf(e->msg, sizeof e->msg, "more than %d progressive scans", GT_JPEG_MAX_SCANS);
        longjmp(e->jb, 1);
    }
}

static void gt__jpeg_errmgr(gt__jerr *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = gt__jpeg_error_exit;
    e->pub.emit_message = gt__jpeg_emit;
    e->pub.output_message = gt__jpeg_output;
    e->msg[0] = 0;
}

gt_status gt_jpeg_decode(const void *buf, size_t len, const char *name_in, gt_image *out) {
    const char *volatile name = name_in ? name_in : "(memory)";
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_jpeg_decode: NULL output");
    memset(out, 0, sizeof *out);
    const uint8_t *b = buf;
    if (!buf || len < 3 || b[0] != 0xFF || b[1] != 0xD8 || b[2] != 0xFF)
        return gt_set_error(GT_ERR_FORMAT, "%s: not a JPEG file (bad signature)", name);
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr prog = {.progress_monitor = gt__jpeg_progress};
    gt__jerr err;
    uint8_t *volatile pix = NULL;
    gt__jpeg_errmgr(&err);
    cinfo.err = &err.pub;
    if (setjmp(err.jb)) {
        jpeg_destroy_decompress(&cinfo);
        free(pix);
        return gt_set_error(GT_ERR_FORMAT, "%s: corrupt JPEG: %s", name, err.msg);
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &prog;
    cinfo.mem->max_memory_to_use = (long)512 << 20;
    jpeg_mem_src(&cinfo, (const unsigned char *)buf, (unsigned long)len);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        snprintf(err.msg, sizeof err.msg, "no image in the file (tables only)");
        longjmp(err.jb, 1);
    }
    JDIMENSION w = cinfo.image_width, h = cinfo.image_height;
    if (w < 1 || h < 1 || w > GT_IMAGE_MAX_SIDE || h > GT_IMAGE_MAX_SIDE || (int64_t)w * h > GT_IMAGE_MAX_PIXELS) {
        snprintf(err.msg, sizeof err.msg, "%u x %u pixels is outside the accepted sizes (sides 1..%d, %lld pixels)",
                 (unsigned)w, (unsigned)h, GT_IMAGE_MAX_SIDE, (long long)GT_IMAGE_MAX_PIXELS);
        longjmp(err.jb, 1);
    }
    int c;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE, c = 1; break;
    case JCS_YCbCr:
    case JCS_RGB: cinfo.out_color_space = JCS_RGB, c = 3; break;
    default:
        snprintf(err.msg, sizeof err.msg, "colour space %d (CMYK / YCCK) not supported; convert it to RGB",
                 (int)cinfo.jpeg_color_space);
        longjmp(err.jb, 1);
    }
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != c || cinfo.output_width != w || cinfo.output_height != h) {
        snprintf(err.msg, sizeof err.msg, "unexpected decoder output (%d components)", cinfo.output_components);
        longjmp(err.jb, 1);
    }
    pix = malloc((size_t)w * h * c);
    if (!pix) {
        snprintf(err.msg, sizeof err.msg, "out of memory for %u x %u pixels", (unsigned)w, (unsigned)h);
        longjmp(err.jb, 1);
    }
    while (cinfo.output_scanline < h) {
        JSAMPROW row = pix + (size_t)cinfo.output_scanline * w * c;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            snprintf(err.msg, sizeof err.msg, "decoder stopped at row %u of %u", cinfo.output_scanline, (unsigned)h);
            longjmp(err.jb, 1);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    out->w = (int)w, out->h = (int)h, out->c = c, out->data = pix;
    return GT_OK;
}

gt_status gt_jpeg_write(const char *path, const uint8_t *pixels, int w, int h, int c, int quality) {
    gt_status st = gt__check_write(path, pixels, w, h, c);
    if (st) return st;
    if (quality < 1 || quality > 100) return gt_set_error(GT_ERR_ARG, "%s: JPEG quality %d not in 1..100", path, quality);
    struct jpeg_compress_struct cinfo;
    gt__jerr err;
    unsigned char *mem = NULL;
    unsigned long mlen = 0;
    gt__jpeg_errmgr(&err);
    cinfo.err = &err.pub;
    if (setjmp(err.jb)) {
        jpeg_destroy_compress(&cinfo);
        free(mem);
        return gt_set_error(GT_ERR_FORMAT, "%s: JPEG encoding failed: %s", path, err.msg);
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &mem, &mlen);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = c;
    cinfo.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * w * c);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    st = gt_write_file_atomic(path, mem, (size_t)mlen);
    free(mem);
    return st;
}

/* --- dispatch -------------------------------------------------------------- */
gt_status gt_image_decode(const void *buf, size_t len, const char *name, gt_image *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_image_decode: NULL output");
    memset(out, 0, sizeof *out);
    if (!name) name = "(memory)";
    const uint8_t *b = buf;
    if (b && len >= 8 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return gt_png_decode(buf, len, name, out);
    if (b && len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return gt_jpeg_decode(buf, len, name, out);
    if (!b || len < 4) return gt_set_error(GT_ERR_FORMAT, "%s: not a PNG or JPEG file (%zu bytes)", name, b ? len : 0);
    return gt_set_error(GT_ERR_FORMAT, "%s: not a PNG or JPEG file (first bytes %02x %02x %02x %02x)", name, b[0], b[1],
                        b[2], b[3]);
}

gt_status gt_image_load(const char *path, gt_image *out) {
    if (!path || !out) return gt_set_error(GT_ERR_ARG, "gt_image_load: NULL path or output");
    memset(out, 0, sizeof *out);
    uint8_t *buf;
    size_t len;
    gt_status st = gt__read_file(path, (int64_t)512 << 20, &buf, &len);
    if (st) return st;
    st = gt_image_decode(buf, len, path, out);
    free(buf);
    return st;
}

/* --- grids ----------------------------------------------------------------- */
static inline uint8_t gt__grid_u8(float v) {
    v = v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v; /* normalize(value_range=(-1, 1)) */
    if (v != v) v = -1.0f;                        /* NaN -> black */
    float t = (v + 1.0f) / 2.0f * 255.0f + 0.5f;  /* save_image: mul(255).add_(0.5).clamp_(0, 255) */
    return t >= 255.0f ? 255 : t <= 0.0f ? 0 : (uint8_t)t;
}

gt_status gt_make_grid(const gt_tensor *x, int nrow, int padding, gt_image *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_make_grid: NULL output");
    memset(out, 0, sizeof *out);
    if (!x || x->dtype != GT_F32 || (x->ndim != 4 && x->ndim != 3))
        return gt_set_error(GT_ERR_ARG, "gt_make_grid: need a float tensor (N, C, H, W) or (C, H, W)");
    int off = x->ndim == 4 ? 1 : 0;
    int64_t n = off ? x->shape[0] : 1, c = x->shape[off], h = x->shape[off + 1], w = x->shape[off + 2];
    int64_t sn = off ? x->stride[0] : 0, sc = x->stride[off], sh = x->stride[off + 1], sw = x->stride[off + 2];
    if (n < 1 || (c != 1 && c != 3) || h < 1 || w < 1)
        return gt_set_error(GT_ERR_ARG, "gt_make_grid: images (%lld, %lld, %lld, %lld) need N >= 1 and C = 1 or 3",
                            (long long)n, (long long)c, (long long)h, (long long)w);
    if (nrow < 1 || padding < 0 || padding > 1024)
        return gt_set_error(GT_ERR_ARG, "gt_make_grid: nrow %d must be >= 1 and padding %d in 0..1024", nrow, padding);
    int64_t xm = n < nrow ? n : nrow, ym = (n + xm - 1) / xm;
    int64_t ch = h + padding, cw = w + padding, gh = ym * ch + padding, gw = xm * cw + padding;
    if (gh > GT_IMAGE_MAX_SIDE || gw > GT_IMAGE_MAX_SIDE)
        return gt_set_error(GT_ERR_ARG, "gt_make_grid: a %lld x %lld grid is larger than %d pixels a side",
                            (long long)gh, (long long)gw, GT_IMAGE_MAX_SIDE);
    uint8_t *g = calloc((size_t)(gh * gw * c), 1);
    if (!g) return gt_set_error(GT_ERR_OOM, "gt_make_grid: out of memory for a %lld x %lld grid", (long long)gh,
                                (long long)gw);
    const float *d = gt_data(x); /* at x's offset */
    for (int64_t k = 0; k < n; k++) {
        int64_t top = (k / xm) * ch + padding, left = (k % xm) * cw + padding;
        for (int64_t y = 0; y < h; y++)
            for (int64_t xx = 0; xx < w; xx++)
                for (int64_t p = 0; p < c; p++)
                    g[((top + y) * gw + left + xx) * c + p] = gt__grid_u8(d[k * sn + p * sc + y * sh + xx * sw]);
    }
    out->w = (int)gw, out->h = (int)gh, out->c = (int)c, out->data = g;
    return GT_OK;
}

gt_status gt_save_grid(const char *path, const gt_tensor *x, int nrow, int padding) {
    gt_image img;
    gt_status st = gt_make_grid(x, nrow, padding, &img);
    if (st) return st;
    st = gt_png_write(path, img.data, img.w, img.h, img.c);
    gt_image_free(&img);
    return st;
}
