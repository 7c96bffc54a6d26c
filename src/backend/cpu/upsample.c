/* Resampling kernels. The naive ones compute every source index on the spot
 * (and the backward ones gather: for each input, every output that reads it);
 * the fast ones build the row / column tables once and run OpenMP over planes
 * (falling back to the naive loops if a table cannot be allocated). */
#include "upsample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../internal.h"
#include "../formulas.h"

/* --- nearest ----------------------------------------------------------------------- */
void gt_naive_upsample_nearest2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++)
                y[(p * OH + oh) * OW + ow] = x[(p * H + gt__nearest_src(oh, H, OH)) * W + gt__nearest_src(ow, W, OW)];
}

void gt_naive_upsample_nearest2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                          float *gx) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < W; w++) {
                double s = 0;
                for (int64_t oh = 0; oh < OH; oh++)
                    for (int64_t ow = 0; ow < OW; ow++)
                        if (gt__nearest_src(oh, H, OH) == h && gt__nearest_src(ow, W, OW) == w)
                            s += gy[(p * OH + oh) * OW + ow];
                gx[(p * H + h) * W + w] = (float)s;
            }
}

void gt_cpu_upsample_nearest2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    int64_t *col = malloc((size_t)OW * sizeof *col);
    if (!col) {
        gt_naive_upsample_nearest2d(P, H, W, OH, OW, x, y);
        return;
    }
    for (int64_t ow = 0; ow < OW; ow++) col[ow] = gt__nearest_src(ow, W, OW);
#pragma omp parallel for schedule(static) if (P * OH * OW > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < OH; oh++) {
            const float *r = x + (p * H + gt__nearest_src(oh, H, OH)) * W;
            float *o = y + (p * OH + oh) * OW;
            if (oh > 0 && gt__nearest_src(oh, H, OH) == gt__nearest_src(oh - 1, H, OH)) {
                memcpy(o, o - OW, (size_t)OW * sizeof(float)); /* same source row as the last one */
                continue;
            }
            for (int64_t ow = 0; ow < OW; ow++) o[ow] = r[col[ow]];
        }
    free(col);
}

void gt_cpu_upsample_nearest2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                        float *gx) {
    int64_t *col = malloc((size_t)OW * sizeof *col);
    if (!col) {
        gt_naive_upsample_nearest2d_backward(P, H, W, OH, OW, gy, gx);
        return;
    }
    for (int64_t ow = 0; ow < OW; ow++) col[ow] = gt__nearest_src(ow, W, OW);
#pragma omp parallel for schedule(static) if (P * OH * OW > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        memset(gx + p * H * W, 0, (size_t)(H * W) * sizeof(float));
        for (int64_t oh = 0; oh < OH; oh++) {
            float *r = gx + (p * H + gt__nearest_src(oh, H, OH)) * W;
            const float *g = gy + (p * OH + oh) * OW;
            for (int64_t ow = 0; ow < OW; ow++) r[col[ow]] += g[ow];
        }
    }
    free(col);
}

/* --- bilinear ------------------------------------------------------------------------ */
void gt_naive_upsample_bilinear2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t h0, h1, w0, w1;
                float a0, a1, b0, b1;
                gt__linear_src(oh, H, OH, &h0, &h1, &a0, &a1);
                gt__linear_src(ow, W, OW, &w0, &w1, &b0, &b1);
                const float *xp = x + p * H * W;
                double v = (double)a0 * b0 * xp[h0 * W + w0] + (double)a0 * b1 * xp[h0 * W + w1] +
                           (double)a1 * b0 * xp[h1 * W + w0] + (double)a1 * b1 * xp[h1 * W + w1];
                y[(p * OH + oh) * OW + ow] = (float)v;
            }
}

/* Weight with which output d reads input i along one axis. */
static double gt__linear_weight(int64_t d, int64_t i, int64_t in, int64_t out) {
    int64_t i0, i1;
    float l0, l1;
    gt__linear_src(d, in, out, &i0, &i1, &l0, &l1);
    return (i0 == i ? (double)l0 : 0.0) + (i1 == i ? (double)l1 : 0.0);
}

void gt_naive_upsample_bilinear2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                           float *gx) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < W; w++) {
                double s = 0;
                for (int64_t oh = 0; oh < OH; oh++) {
                    double a = gt__linear_weight(oh, h, H, OH);
                    if (a == 0.0) continue;
                    for (int64_t ow = 0; ow < OW; ow++)
                        s += a * gt__linear_weight(ow, w, W, OW) * gy[(p * OH + oh) * OW + ow];
                }
                gx[(p * H + h) * W + w] = (float)s;
            }
}

/* Row and column tables: index pairs and weights. */
typedef struct {
    int64_t *i0, *i1;
    float *l0, *l1;
} gt__lintab;

static bool gt__lintab_make(gt__lintab *t, int64_t in, int64_t out) {
    t->i0 = malloc((size_t)out * 2 * sizeof(int64_t));
    t->l0 = malloc((size_t)out * 2 * sizeof(float));
    if (!t->i0 || !t->l0) return false;
    t->i1 = t->i0 + out;
    t->l1 = t->l0 + out;
    for (int64_t d = 0; d < out; d++) gt__linear_src(d, in, out, &t->i0[d], &t->i1[d], &t->l0[d], &t->l1[d]);
    return true;
}
static void gt__lintab_free(gt__lintab *t) {
    free(t->i0);
    free(t->l0);
}

void gt_cpu_upsample_bilinear2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    gt__lintab r = {0}, c = {0};
    if (!gt__lintab_make(&r, H, OH) || !gt__lintab_make(&c, W, OW)) {
        gt__lintab_free(&r);
        gt__lintab_free(&c);
        gt_naive_upsample_bilinear2d(P, H, W, OH, OW, x, y);
        return;
    }
#pragma omp parallel for schedule(static) if (P * OH * OW > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < OH; oh++) {
            const float *x0 = x + (p * H + r.i0[oh]) * W, *x1 = x + (p * H + r.i1[oh]) * W;
            float a0 = r.l0[oh], a1 = r.l1[oh];
            float *o = y + (p * OH + oh) * OW;
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t w0 = c.i0[ow], w1 = c.i1[ow];
                float b0 = c.l0[ow], b1 = c.l1[ow];
                o[ow] = a0 * (b0 * x0[w0] + b1 * x0[w1]) + a1 * (b0 * x1[w0] + b1 * x1[w1]);
            }
        }
    gt__lintab_free(&r);
    gt__lintab_free(&c);
}

void gt_cpu_upsample_bilinear2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                         float *gx) {
    gt__lintab r = {0}, c = {0};
    if (!gt__lintab_make(&r, H, OH) || !gt__lintab_make(&c, W, OW)) {
        gt__lintab_free(&r);
        gt__lintab_free(&c);
        gt_naive_upsample_bilinear2d_backward(P, H, W, OH, OW, gy, gx);
        return;
    }
#pragma omp parallel for schedule(static) if (P * OH * OW > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        memset(gx + p * H * W, 0, (size_t)(H * W) * sizeof(float));
        for (int64_t oh = 0; oh < OH; oh++) {
            float *x0 = gx + (p * H + r.i0[oh]) * W, *x1 = gx + (p * H + r.i1[oh]) * W;
            float a0 = r.l0[oh], a1 = r.l1[oh];
            const float *g = gy + (p * OH + oh) * OW;
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t w0 = c.i0[ow], w1 = c.i1[ow];
                float b0 = c.l0[ow], b1 = c.l1[ow];
                x0[w0] += a0 * b0 * g[ow];
                x0[w1] += a0 * b1 * g[ow];
                x1[w0] += a1 * b0 * g[ow];
                x1[w1] += a1 * b1 * g[ow];
            }
        }
    }
    gt__lintab_free(&r);
    gt__lintab_free(&c);
}
