/* IDX files (MNIST family): magic 00 00 08 <ndim>, big-endian uint32 dims, then
 * unsigned bytes. Read through zlib's gzread, so gzip and raw files both work.
 * Every size is checked against the file before and while reading. */
#include "data_internal.h"

#include <errno.h>
#include <sys/stat.h>
#include <zlib.h>

#define GT_IDX_CHUNK (1u << 20)

static gt_status gt__gz_fail(gzFile gz, const char *path, const char *what, int64_t want, int64_t got) {
    int code = Z_OK;
    const char *msg = gzerror(gz, &code);
    if (code != Z_OK && code != Z_BUF_ERROR)
        return gt_set_error(GT_ERR_FORMAT, "%s: corrupt gzip data while reading the %s (%s)", path, what,
                            msg ? msg : "zlib error");
    return gt_set_error(GT_ERR_FORMAT, "%s: truncated: the %s needs %lld bytes but the file ends after %lld", path,
                        what, (long long)want, (long long)got);
}

/* Reads exactly n bytes (in chunks); *got receives how many arrived. */
static int64_t gt__gz_read(gzFile gz, uint8_t *dst, int64_t n) {
    int64_t got = 0;
    while (got < n) {
        unsigned ask = (unsigned)((n - got) < GT_IDX_CHUNK ? (n - got) : GT_IDX_CHUNK);
        int r = gzread(gz, dst + got, ask);
        if (r <= 0) break;
        got += r;
    }
    return got;
}

/* Reads an IDX file of ndim dimensions into *data (dims[0] * ... bytes). */
static gt_status gt__idx_read(const char *path, int ndim, uint32_t *dims, uint8_t **data) {
    *data = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) return gt_set_error(GT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return gt_set_error(GT_ERR_IO, "%s: not a regular file", path);
    gzFile gz = gzopen(path, "rb");
    if (!gz) return gt_set_error(GT_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "zlib error");
    gzbuffer(gz, 1u << 17);
    gt_status st = GT_OK;
    uint8_t head[4 + 4 * 3];
    int64_t hlen = 4 + 4 * (int64_t)ndim, got;
    uint8_t *buf = NULL;
    if ((got = gt__gz_read(gz, head, 4)) != 4) {
        st = gt__gz_fail(gz, path, "4-byte IDX magic", 4, got);
        goto done;
    }
    if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] != ndim) {
        if (head[0] != 0 || head[1] != 0)
            st = gt_set_error(GT_ERR_FORMAT,
                              "%s: not an IDX file (magic bytes %02x %02x %02x %02x, expected 00 00 08 %02x); a "
                              "dataset is an IDX file (raw or gzip), a CIFAR-10 .bin batch, a folder of PNG/JPEG "
                              "images or fashion-mnist[:train|:test]",
                              path, head[0], head[1], head[2], head[3], ndim);
        else if (head[2] != 0x08)
            st = gt_set_error(GT_ERR_FORMAT, "%s: IDX data type 0x%02x not supported (only 0x08, unsigned byte)", path,
                              head[2]);
        else
            st = gt_set_error(GT_ERR_FORMAT, "%s: IDX file has %d dimensions, expected %d (%s)", path, head[3], ndim,
                              ndim == 3 ? "images: count x height x width" : "labels: count");
        goto done;
    }
    if ((got = gt__gz_read(gz, head + 4, hlen - 4)) != hlen - 4) {
        st = gt__gz_fail(gz, path, "IDX header", hlen, 4 + got);
        goto done;
    }
    int64_t total = 1;
    for (int d = 0; d < ndim; d++) {
        const uint8_t *p = head + 4 + 4 * d;
        dims[d] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        uint32_t lim = d == 0 ? 0x7fffffffu : GT_IMAGE_MAX_SIDE;
        if (dims[d] < 1 || dims[d] > lim) {
            st = gt_set_error(GT_ERR_FORMAT, "%s: IDX dimension %d is %u (must be 1..%u); the header is corrupt", path,
                              d, dims[d], lim);
            goto done;
        }
        total *= dims[d];
        if (total > GT_DATA_MAX_BYTES) {
            st = gt_set_error(GT_ERR_FORMAT, "%s: IDX header claims more than %lld bytes of data; the header is corrupt",
                              path, (long long)GT_DATA_MAX_BYTES);
            goto done;
        }
    }
    if (gzdirect(gz) && (int64_t)sb.st_size != hlen + total) {
        if ((int64_t)sb.st_size < hlen + total)
            st = gt_set_error(GT_ERR_FORMAT,
                              "%s: truncated: the header says %lld bytes of data but the file holds only %lld after "
                              "its %lld-byte header",
                              path, (long long)total, (long long)(sb.st_size - hlen), (long long)hlen);
        else
            st = gt_set_error(GT_ERR_FORMAT, "%s: %lld unexpected bytes after the %lld bytes of data the header announces",
                              path, (long long)(sb.st_size - hlen - total), (long long)total);
        goto done;
    }
    /* Grow the buffer as data arrives, so a corrupt header cannot make us
     * allocate gigabytes for a small compressed file. */
    int64_t cap = total < GT_IDX_CHUNK ? total : GT_IDX_CHUNK, have = 0;
    bool oom = !(buf = malloc((size_t)cap));
    while (!oom && have < total) {
        if (have == cap) {
            int64_t ncap = cap * 2 < total ? cap * 2 : total;
            uint8_t *nb = realloc(buf, (size_t)ncap);
            if (!nb) {
                oom = true;
                break;
            }
            buf = nb, cap = ncap;
        }
        int64_t want = cap - have, r = gt__gz_read(gz, buf + have, want);
        have += r;
        if (r < want) break; /* end of file or error */
    }
    if (oom) {
        st = gt_set_error(GT_ERR_OOM, "%s: out of memory for %lld bytes of IDX data", path, (long long)total);
        goto done;
    }
    if (have < total) {
        st = gt__gz_fail(gz, path, ndim == 3 ? "image data" : "label data", hlen + total, hlen + have);
        goto done;
    }
    uint8_t extra;
    int r = gzread(gz, &extra, 1); /* also makes zlib check the gzip trailer (CRC, length) */
    if (r != 0) {
        int code = Z_OK;
        const char *msg = gzerror(gz, &code);
        if (r < 0 || (code != Z_OK && code != Z_BUF_ERROR))
            st = gt_set_error(GT_ERR_FORMAT, "%s: corrupt gzip data at the end of the file (%s)", path,
                              msg ? msg : "zlib error");
        else
            st = gt_set_error(GT_ERR_FORMAT, "%s: unexpected bytes after the %lld bytes of data the header announces",
                              path, (long long)total);
        goto done;
    }
    int code = Z_OK;
    const char *zmsg = gzerror(gz, &code);
    if (code != Z_OK) {
        st = gt_set_error(GT_ERR_FORMAT, "%s: truncated or corrupt gzip stream at its end (%s)", path,
                          zmsg && *zmsg ? zmsg : "zlib error");
        goto done;
    }
done:
    if (gzclose_r(gz) != Z_OK && !st) st = gt_set_error(GT_ERR_FORMAT, "%s: truncated or corrupt gzip stream", path);
    if (st) free(buf);
    else *data = buf;
    return st;
}

/* The labels file beside an images file: "images-idx3" -> "labels-idx1" (also the
 * "images.idx3" spelling), with the same compression or the other. */
static bool gt__labels_path(const char *images, char *out, size_t n) {
    static const char *pairs[][2] = {{"images-idx3", "labels-idx1"}, {"images.idx3", "labels.idx1"}};
    const char *slash = strrchr(images, '/');
    const char *name = slash ? slash + 1 : images;
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        const char *at = strstr(name, pairs[k][0]);
        if (!at) continue;
        size_t pre = (size_t)(at - images), len = strlen(images);
        if (len + 8 >= n) return false;
        char cand[2][4096];
        if (len + 8 > sizeof cand[0]) return false;
        snprintf(cand[0], sizeof cand[0], "%.*s%s%s", (int)pre, images, pairs[k][1], at + strlen(pairs[k][0]));
        size_t cl = strlen(cand[0]);
        memcpy(cand[1], cand[0], cl + 1);
        if (cl > 3 && !strcmp(cand[0] + cl - 3, ".gz")) cand[1][cl - 3] = 0;
        else memcpy(cand[1] + cl, ".gz", 4);
        for (int i = 0; i < 2; i++) {
            struct stat sb;
            if (stat(cand[i], &sb) == 0) {
                snprintf(out, n, "%s", cand[i]);
                return true;
            }
        }
    }
    return false;
}

gt_status gt__idx_load(gt_dataset *ds, const char *path, int res, int ch, const gt_dataset_opts *o) {
    uint32_t dims[3], ldims[1];
    uint8_t *raw = NULL, *lab = NULL;
    gt_status st = gt__idx_read(path, 3, dims, &raw);
    if (st) return st;
    char lpath[4096];
    if (gt__labels_path(path, lpath, sizeof lpath)) {
        if ((st = gt__idx_read(lpath, 1, ldims, &lab))) goto done;
        if (ldims[0] != dims[0]) {
            st = gt_set_error(GT_ERR_FORMAT, "%s: %u labels, but the images file %s holds %u images", lpath, ldims[0],
                              path, dims[0]);
            goto done;
        }
    }
    int64_t first, count;
    if ((st = gt__select(dims[0], o, path, &first, &count))) goto done;
    int H = (int)dims[1], W = (int)dims[2];
    int h = res ? res : H, w = res ? res : W, c = ch ? ch : 1;
    if ((st = gt__dataset_alloc(ds, count, c, h, w, lab != NULL, path))) goto done;
    ds->src_c = 1, ds->src_h = H, ds->src_w = W;
    gt__resizer r;
    if ((st = gt__resizer_init(&r, H, W, h, w, true))) goto done;
    int64_t per = (int64_t)c * h * w, failed = 0;
#pragma omp parallel for schedule(static) reduction(+ : failed) if (count * per > GT_PAR_MIN)
    for (int64_t i = 0; i < count; i++)
        if (gt__transform_into(&r, raw + (first + i) * H * W, 1, ds->pixels + i * per, c) != GT_OK) failed++;
    gt__resizer_free(&r);
    if (failed) {
        st = gt_set_error(GT_ERR_OOM, "%s: out of memory while resizing", path);
        goto done;
    }
    if (lab) {
        int mx = 0;
        for (int64_t i = 0; i < count; i++) {
            ds->labels[i] = lab[first + i];
            if (lab[first + i] > mx) mx = lab[first + i];
        }
        ds->num_classes = mx + 1;
    }
done:
    free(raw);
    free(lab);
    return st;
}
