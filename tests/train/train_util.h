/* tests/train/train_util.h - small fixtures for the training and CLI tests:
 * a tiny raw IDX image file, and whole-file helpers. */
#ifndef GT_TEST_TRAIN_UTIL_H
#define GT_TEST_TRAIN_UTIL_H

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

/* Writes n 28x28 gray images (a bright disc whose centre and radius vary)
 * as a raw IDX file (magic 0x00000803) at path. */
static inline bool gt_test_write_idx(const char *path, int n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    const unsigned char hdr[16] = {0, 0, 8, 3, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                                   (unsigned char)(n >> 8), (unsigned char)n, 0, 0, 0, 28, 0, 0, 0, 28};
    bool ok = fwrite(hdr, 1, 16, f) == 16;
    unsigned char img[28 * 28];
    for (int i = 0; i < n && ok; i++) {
        int cx = 8 + (i * 7) % 12, cy = 8 + (i * 5) % 12, r = 4 + i % 5;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) {
                int d = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                img[y * 28 + x] = (unsigned char)(d <= r * r ? 200 + (x * 3 + i) % 55 : (x + y + i) % 16);
            }
        ok = fwrite(img, 1, sizeof img, f) == sizeof img;
    }
    return fclose(f) == 0 && ok;
}

/* Whole file into a malloc'd buffer (*n bytes and a NUL after them), or NULL. */
static inline unsigned char *gt_test_read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    if (b) b[sz] = 0; /* callers read text files as strings */
    fclose(f);
    if (b) *n = (size_t)sz;
    return b;
}

/* The tiny DCGAN the train tests share (28 px gray, nz 16, ngf = ndf = 8) on data into out, for
 * steps; each test sets its own batch, EMA, seed and intervals on top. */
static inline gt_train_config gt_test_tiny_config(const char *data, const char *out, int64_t steps) {
    gt_train_config c = gt_train_config_default();
    snprintf(c.data, sizeof c.data, "%s", data);
    snprintf(c.out, sizeof c.out, "%s", out);
    c.model.res = 28, c.model.channels = 1, c.model.nz = 16;
    gt_model_opt_set(&c.model, "ngf", 8);
    gt_model_opt_set(&c.model, "ndf", 8);
    c.steps = steps;
    return c;
}

static inline bool gt_test_write_all(const char *path, const void *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(buf, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

#endif
