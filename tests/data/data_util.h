/* tests/data/data_util.h - small helpers the data tests share (files, folders,
 * checks on error messages). Header-only: each test includes it once. */
#ifndef GT_TEST_DATA_UTIL_H
#define GT_TEST_DATA_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../common/harness.h"

/* Path under the test's temp dir (a few rotating static buffers). */
static inline const char *tpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *tpath(const char *fmt, ...) {
    static char bufs[8][1024];
    static int k;
    char *b = bufs[k++ & 7];
    int n = snprintf(b, 1024, "%s/", gt_test_tmpdir());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, 1024 - (size_t)n, fmt, ap);
    va_end(ap);
    return b;
}

static inline bool write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static inline bool write_gz(const char *path, const void *p, size_t n) {
    gzFile g = gzopen(path, "wb6");
    if (!g) return false;
    bool ok = n == 0 || gzwrite(g, p, (unsigned)n) == (int)n;
    return gzclose(g) == Z_OK && ok;
}

/* Whole file into a malloc'd buffer (also through gzip when gz). */
static inline uint8_t *read_all(const char *path, size_t *len, bool gz) {
    *len = 0;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    if (!b) return NULL;
    if (gz) {
        gzFile g = gzopen(path, "rb");
        if (!g) return free(b), NULL;
        int r;
        while ((r = gzread(g, b + n, (unsigned)(cap - n))) > 0) {
            n += (size_t)r;
            if (n == cap) {
                uint8_t *nb = realloc(b, cap *= 2);
                if (!nb) return gzclose(g), free(b), NULL;
                b = nb;
            }
        }
        gzclose(g);
    } else {
        FILE *f = fopen(path, "rb");
        if (!f) return free(b), NULL;
        size_t r;
        while ((r = fread(b + n, 1, cap - n, f)) > 0) {
            n += r;
            if (n == cap) {
                uint8_t *nb = realloc(b, cap *= 2);
                if (!nb) return fclose(f), free(b), NULL;
                b = nb;
            }
        }
        fclose(f);
    }
    *len = n;
    return b;
}

static inline void mkdir_p(const char *path) {
    char b[1024];
    snprintf(b, sizeof b, "%s", path);
    for (char *p = b + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(b, 0755);
            *p = '/';
        }
    mkdir(b, 0755);
}

static inline void rm_rf(const char *path) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "warning: %s failed\n", cmd);
}

/* An IDX file: magic 00 00 08 ndim, big-endian dims, data. */
static inline uint8_t *make_idx(int ndim, const uint32_t *dims, const uint8_t *data, size_t *len) {
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= dims[d];
    *len = 4 + 4 * (size_t)ndim + n;
    uint8_t *b = malloc(*len);
    b[0] = 0, b[1] = 0, b[2] = 8, b[3] = (uint8_t)ndim;
    for (int d = 0; d < ndim; d++) {
        b[4 + 4 * d] = (uint8_t)(dims[d] >> 24), b[5 + 4 * d] = (uint8_t)(dims[d] >> 16);
        b[6 + 4 * d] = (uint8_t)(dims[d] >> 8), b[7 + 4 * d] = (uint8_t)dims[d];
    }
    memcpy(b + 4 + 4 * ndim, data, n);
    return b;
}

/* The last error names `what` (a file) and, when given, contains `also`. */
static inline bool err_names(const char *what, const char *also) {
    const char *e = gt_last_error();
    return strstr(e, what) != NULL && (!also || strstr(e, also) != NULL);
}
#define CHECK_ERR_NAMES(what, also)                                                                         \
    CHECK_MSG(err_names((what), (also)), "error should name '%s'%s%s; got: %s", (what),                    \
              (also) ? " and say " : "", (also) ? (const char *)(also) : "", gt_last_error())

#endif
