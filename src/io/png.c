/* PNG decoding and encoding with libpng. libpng reports errors by calling our
 * error function, which longjmps back to the setjmp here: nothing exits, every
 * allocation made before the jump is released, and the message names the file. */
#include "image.h"

#include <png.h>
#include <setjmp.h>

typedef struct {
    char msg[256];
} gt__png_err;

static void gt__png_error(png_structp png, png_const_charp msg) {
    gt__png_err *e = png_get_error_ptr(png);
    if (e) snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : "libpng error");
    png_longjmp(png, 1);
}

static void gt__png_warning(png_structp png, png_const_charp msg) {
    (void)png, (void)msg; /* warnings (bad ancillary chunks) are not fatal and not printed */
}

typedef struct {
    const uint8_t *p;
    size_t len, pos;
} gt__png_src;

static void gt__png_read(png_structp png, png_bytep out, size_t n) {
    gt__png_src *s = png_get_io_ptr(png);
    if (n > s->len - s->pos) png_error(png, "unexpected end of data (file truncated)");
    memcpy(out, s->p + s->pos, n);
    s->pos += n;
}

gt_status gt_png_decode(const void *buf, size_t len, const char *name_in, gt_image *out) {
    const char *volatile name = name_in ? name_in : "(memory)";
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_png_decode: NULL output");
    memset(out, 0, sizeof *out);
        if (!buf || len < 8 || png_sig_cmp((png_const_bytep)buf, 0, 8) != 0)
        return gt_set_error(GT_ERR_FORMAT, "%s: not a PNG file (bad signature%s)", name, len < 8 ? ", file too short" : "");
    gt__png_err err = {""};
    gt__png_src src = {buf, len, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, gt__png_error, gt__png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        return gt_set_error(GT_ERR_OOM, "%s: out of memory starting the PNG decoder", name);
    }
    uint8_t *volatile pix = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(pix);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return gt_set_error(GT_ERR_FORMAT, "%s: corrupt PNG: %s", name, err.msg);
    }
    png_set_read_fn(png, &src, gt__png_read);
    png_set_user_limits(png, GT_IMAGE_MAX_SIDE, GT_IMAGE_MAX_SIDE);
    png_set_chunk_malloc_max(png, (png_alloc_size_t)64 << 20);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((int64_t)w * h > GT_IMAGE_MAX_PIXELS) {
        snprintf(err.msg, sizeof err.msg, "%u x %u pixels is more than the %lld accepted", (unsigned)w, (unsigned)h,
                 (long long)GT_IMAGE_MAX_PIXELS);
        png_longjmp(png, 1);
    }
    png_set_expand(png); /* palette -> RGB, gray < 8 bits -> 8 bits, tRNS -> alpha */
#ifdef PNG_READ_SCALE_16_TO_8_SUPPORTED
    png_set_scale_16(png); /* 16 -> 8 bits, rounded (v / 257) */
#else
    png_set_strip_16(png);
#endif
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int c = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if ((c != 1 && c != 3) || rowbytes != (size_t)w * c) {
        snprintf(err.msg, sizeof err.msg, "unsupported layout (%d channels, %zu bytes per row)", c, rowbytes);
        png_longjmp(png, 1);
    }
    pix = malloc((size_t)w * h * c);
    rows = malloc(sizeof(png_bytep) * h);
    if (!pix || !rows) {
        snprintf(err.msg, sizeof err.msg, "out of memory for %u x %u pixels", (unsigned)w, (unsigned)h);
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pix + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->w = (int)w, out->h = (int)h, out->c = c, out->data = pix;
    return GT_OK;
}

typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} gt__png_dst;

static void gt__png_write_fn(png_structp png, png_bytep data, size_t n) {
    gt__png_dst *d = png_get_io_ptr(png);
    if (d->len + n > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + n) cap *= 2;
        uint8_t *np = realloc(d->p, cap);
        if (!np) {
            d->oom = true;
            png_error(png, "out of memory");
        }
        d->p = np, d->cap = cap;
    }
    memcpy(d->p + d->len, data, n);
    d->len += n;
}

static void gt__png_flush(png_structp png) { (void)png; }

gt_status gt__check_write(const char *path, const uint8_t *pixels, int w, int h, int c) {
    if (!path || !*path) return gt_set_error(GT_ERR_ARG, "image write: empty path");
    if (!pixels || w < 1 || h < 1 || w > GT_IMAGE_MAX_SIDE || h > GT_IMAGE_MAX_SIDE || (c != 1 && c != 3))
        return gt_set_error(GT_ERR_ARG, "%s: cannot write a %d x %d image with %d channels (sides 1..%d, channels 1 or 3)",
                            path, w, h, c, GT_IMAGE_MAX_SIDE);
    return GT_OK;
}

gt_status gt_png_write(const char *path, const uint8_t *pixels, int w, int h, int c) {
    gt_status st = gt__check_write(path, pixels, w, h, c);
    if (st) return st;
    gt__png_err err = {""};
    gt__png_dst dst = {NULL, 0, 0, false};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, gt__png_error, gt__png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(png ? &png : NULL, NULL);
        return gt_set_error(GT_ERR_OOM, "%s: out of memory starting the PNG encoder", path);
    }
    png_bytep *volatile rows = malloc(sizeof(png_bytep) * (size_t)h);
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(dst.p);
        png_destroy_write_struct(&png, &info);
        return gt_set_error(GT_ERR_OOM, "%s: PNG encoding failed: %s", path, err.msg);
    }
    if (!rows) png_error(png, "out of memory");
    for (int y = 0; y < h; y++) rows[y] = (png_bytep)(pixels + (size_t)y * w * c);
    png_set_write_fn(png, &dst, gt__png_write_fn, gt__png_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    st = gt_write_file_atomic(path, dst.p, dst.len);
    free(dst.p);
    return st;
}
