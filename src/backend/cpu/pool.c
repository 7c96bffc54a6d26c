/* Pooling kernels. The naive ones test every kernel tap against the bounds
 * (and the backward ones gather: for each input element, every window that
 * holds it); the fast ones clamp each window once and run OpenMP over planes. */
#include "pool.h"

#include <math.h>
#include <string.h>

#include "../../internal.h"

/* --- avg pool ---------------------------------------------------------------- */
/* Window of output (oh, ow): rows [*h0, *h1), cols [*w0, *w1) clamped to the
 * input; returns the divisor (PyTorch: the window clipped to the padded input
 * when count_include_pad, else the clamped window). */
static inline int64_t gt__avg_window(const gt_pool2d_geom *g, int64_t oh, int64_t ow, int64_t *h0, int64_t *h1,
                                     int64_t *w0, int64_t *w1) {
    int64_t hs = oh * g->sh - g->ph, ws = ow * g->sw - g->pw;
    int64_t he = GT_MIN(hs + g->kh, g->H + g->ph), we = GT_MIN(ws + g->kw, g->W + g->pw);
    int64_t pool = (he - hs) * (we - ws);
    *h0 = GT_MAX(hs, 0);
    *w0 = GT_MAX(ws, 0);
    *h1 = GT_MIN(he, g->H);
    *w1 = GT_MIN(we, g->W);
    return g->count_include_pad ? pool : (*h1 - *h0) * (*w1 - *w0);
}

void gt_cpu_avg_pool2d(const gt_pool2d_geom *g, int64_t P, const float *x, float *y) {
    int64_t HW = g->H * g->W, OHW = g->OH * g->OW;
#pragma omp parallel for schedule(static) if (P * HW > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        const float *xp = x + p * HW;
        float *yp = y + p * OHW;
        for (int64_t oh = 0; oh < g->OH; oh++)
            for (int64_t ow = 0; ow < g->OW; ow++) {
                int64_t h0, h1, w0, w1;
                int64_t div = gt__avg_window(g, oh, ow, &h0, &h1, &w0, &w1);
                float s = 0;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) s += xp[h * g->W + w];
                yp[oh * g->OW + ow] = div > 0 ? s / (float)div : 0.0f;
            }
    }
}

void gt_cpu_avg_pool2d_backward(const gt_pool2d_geom *g, int64_t P, const float *gy, float *gx) {
    int64_t HW = g->H * g->W, OHW = g->OH * g->OW;
#pragma omp parallel for schedule(static) if (P * HW > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        float *gp = gx + p * HW;
        const float *yp = gy + p * OHW;
        memset(gp, 0, (size_t)HW * sizeof(float));
        for (int64_t oh = 0; oh < g->OH; oh++)
            for (int64_t ow = 0; ow < g->OW; ow++) {
                int64_t h0, h1, w0, w1;
                int64_t div = gt__avg_window(g, oh, ow, &h0, &h1, &w0, &w1);
                if (div <= 0) continue;
                float v = yp[oh * g->OW + ow] / (float)div;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) gp[h * g->W + w] += v;
            }
    }
}

/* Naive divisor: count the taps, padded ones included when asked (a tap is
 * "padding" inside [-ph, H+ph) x [-pw, W+pw) but outside the input). */
static int64_t gt__naive_div(const gt_pool2d_geom *g, int64_t oh, int64_t ow) {
    int64_t cnt = 0;
    for (int i = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++) {
            int64_t h = oh * g->sh - g->ph + i, w = ow * g->sw - g->pw + j;
            bool in = h >= 0 && h < g->H && w >= 0 && w < g->W;
            bool padded = h >= -g->ph && h < g->H + g->ph && w >= -g->pw && w < g->W + g->pw;
            if (in || (g->count_include_pad && padded)) cnt++;
        }
    return cnt;
}

void gt_naive_avg_pool2d(const gt_pool2d_geom *g, int64_t P, const float *x, float *y) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < g->OH; oh++)
            for (int64_t ow = 0; ow < g->OW; ow++) {
                double s = 0;
                for (int i = 0; i < g->kh; i++)
                    for (int j = 0; j < g->kw; j++) {
                        int64_t h = oh * g->sh - g->ph + i, w = ow * g->sw - g->pw + j;
                        if (h >= 0 && h < g->H && w >= 0 && w < g->W) s += x[(p * g->H + h) * g->W + w];
                    }
                int64_t div = gt__naive_div(g, oh, ow);
                y[(p * g->OH + oh) * g->OW + ow] = div > 0 ? (float)(s / (double)div) : 0.0f;
            }
}

void gt_naive_avg_pool2d_backward(const gt_pool2d_geom *g, int64_t P, const float *gy, float *gx) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t h = 0; h < g->H; h++)
            for (int64_t w = 0; w < g->W; w++) {
                double s = 0;
                for (int64_t oh = 0; oh < g->OH; oh++)
                    for (int64_t ow = 0; ow < g->OW; ow++) {
                        int64_t i = h - (oh * g->sh - g->ph), j = w - (ow * g->sw - g->pw);
                        if (i < 0 || i >= g->kh || j < 0 || j >= g->kw) continue;
                        int64_t div = gt__naive_div(g, oh, ow);
                        if (div > 0) s += gy[(p * g->OH + oh) * g->OW + ow] / (double)div;
                    }
                gx[(p * g->H + h) * g->W + w] = (float)s;
            }
}

/* --- max pool ------------------------------------------------------------------ */
void gt_cpu_max_pool2d(const gt_pool2d_geom *g, int64_t P, const float *x, float *y, int32_t *idx) {
    int64_t HW = g->H * g->W, OHW = g->OH * g->OW;
#pragma omp parallel for schedule(static) if (P * HW > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        const float *xp = x + p * HW;
        for (int64_t oh = 0; oh < g->OH; oh++) {
            int64_t hs = oh * g->sh - g->ph;
            int64_t h0 = GT_MAX(hs, 0), h1 = GT_MIN(hs + g->kh, g->H);
            for (int64_t ow = 0; ow < g->OW; ow++) {
                int64_t ws = ow * g->sw - g->pw;
                int64_t w0 = GT_MAX(ws, 0), w1 = GT_MIN(ws + g->kw, g->W);
                int64_t best = h0 * g->W + w0;
                float m = -INFINITY;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) {
                        float v = xp[h * g->W + w];
                        if (v > m || isnan(v)) { /* as PyTorch: a NaN wins (the last one) */
                            m = v;
                            best = h * g->W + w;
                        }
                    }
                y[p * OHW + oh * g->OW + ow] = m;
                if (idx) idx[p * OHW + oh * g->OW + ow] = (int32_t)best;
            }
        }
    }
}

void gt_naive_max_pool2d(const gt_pool2d_geom *g, int64_t P, const float *x, float *y, int32_t *idx) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < g->OH; oh++)
            for (int64_t ow = 0; ow < g->OW; ow++) {
                int64_t best = -1;
                float m = -INFINITY;
                for (int i = 0; i < g->kh; i++)
                    for (int j = 0; j < g->kw; j++) {
                        int64_t h = oh * g->sh - g->ph + i, w = ow * g->sw - g->pw + j;
                        if (h < 0 || h >= g->H || w < 0 || w >= g->W) continue;
                        float v = x[(p * g->H + h) * g->W + w];
                        if (best < 0) best = h * g->W + w; /* all -inf: the first tap */
                        if (v > m || isnan(v)) {
                            m = v;
                            best = h * g->W + w;
                        }
                    }
                y[(p * g->OH + oh) * g->OW + ow] = m;
                if (idx) idx[(p * g->OH + oh) * g->OW + ow] = (int32_t)best;
            }
}

/* --- gather / scatter ---------------------------------------------------------- */
void gt_cpu_index_gather(int64_t P, int64_t Lin, int64_t Lout, const float *x, const int32_t *idx, float *y) {
#pragma omp parallel for schedule(static) if (P * Lout > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        const float *xp = x + p * Lin;
        const int32_t *ip = idx + p * Lout;
        float *yp = y + p * Lout;
        for (int64_t j = 0; j < Lout; j++) yp[j] = xp[ip[j]];
    }
}

void gt_naive_index_gather(int64_t P, int64_t Lin, int64_t Lout, const float *x, const int32_t *idx, float *y) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t j = 0; j < Lout; j++) y[p * Lout + j] = x[p * Lin + idx[p * Lout + j]];
}

void gt_cpu_index_scatter(int64_t P, int64_t Lin, int64_t Lout, const float *gy, const int32_t *idx, float *gx) {
#pragma omp parallel for schedule(static) if (P * Lin > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        float *gp = gx + p * Lin;
        const int32_t *ip = idx + p * Lout;
        const float *yp = gy + p * Lout;
        memset(gp, 0, (size_t)Lin * sizeof(float));
        for (int64_t j = 0; j < Lout; j++) gp[ip[j]] += yp[j];
    }
}

void gt_naive_index_scatter(int64_t P, int64_t Lin, int64_t Lout, const float *gy, const int32_t *idx, float *gx) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t i = 0; i < Lin; i++) {
            double s = 0;
            for (int64_t j = 0; j < Lout; j++)
                if (idx[p * Lout + j] == i) s += gy[p * Lout + j];
            gx[p * Lin + i] = (float)s;
        }
}

/* --- adaptive avg pool ------------------------------------------------------------ */
static inline int64_t gt__ad_start(int64_t i, int64_t out, int64_t in) { return (i * in) / out; }
static inline int64_t gt__ad_end(int64_t i, int64_t out, int64_t in) { return ((i + 1) * in + out - 1) / out; }

void gt_cpu_adaptive_avg_pool2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
#pragma omp parallel for schedule(static) if (P * H * W > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        const float *xp = x + p * H * W;
        for (int64_t oh = 0; oh < OH; oh++) {
            int64_t h0 = gt__ad_start(oh, OH, H), h1 = gt__ad_end(oh, OH, H);
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t w0 = gt__ad_start(ow, OW, W), w1 = gt__ad_end(ow, OW, W);
                float s = 0;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) s += xp[h * W + w];
                y[(p * OH + oh) * OW + ow] = s / (float)((h1 - h0) * (w1 - w0));
            }
        }
    }
}

void gt_cpu_adaptive_avg_pool2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                         float *gx) {
#pragma omp parallel for schedule(static) if (P * H * W > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        float *gp = gx + p * H * W;
        memset(gp, 0, (size_t)(H * W) * sizeof(float));
        for (int64_t oh = 0; oh < OH; oh++) {
            int64_t h0 = gt__ad_start(oh, OH, H), h1 = gt__ad_end(oh, OH, H);
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t w0 = gt__ad_start(ow, OW, W), w1 = gt__ad_end(ow, OW, W);
                float v = gy[(p * OH + oh) * OW + ow] / (float)((h1 - h0) * (w1 - w0));
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) gp[h * W + w] += v;
            }
        }
    }
}

/* Naive: the window bounds straight from PyTorch's floor / ceil formulas. */
static void gt__ad_naive_bounds(int64_t i, int64_t out, int64_t in, int64_t *s, int64_t *e) {
    *s = (int64_t)floor((double)(i * in) / (double)out);
    *e = (int64_t)ceil((double)((i + 1) * in) / (double)out);
}

void gt_naive_adaptive_avg_pool2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t h0, h1, w0, w1;
                gt__ad_naive_bounds(oh, OH, H, &h0, &h1);
                gt__ad_naive_bounds(ow, OW, W, &w0, &w1);
                double s = 0;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) s += x[(p * H + h) * W + w];
                y[(p * OH + oh) * OW + ow] = (float)(s / (double)((h1 - h0) * (w1 - w0)));
            }
}

void gt_naive_adaptive_avg_pool2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                           float *gx) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < W; w++) {
                double s = 0;
                for (int64_t oh = 0; oh < OH; oh++)
                    for (int64_t ow = 0; ow < OW; ow++) {
                        int64_t h0, h1, w0, w1;
                        gt__ad_naive_bounds(oh, OH, H, &h0, &h1);
                        gt__ad_naive_bounds(ow, OW, W, &w0, &w1);
                        if (h >= h0 && h < h1 && w >= w0 && w < w1)
                            s += gy[(p * OH + oh) * OW + ow] / (double)((h1 - h0) * (w1 - w0));
                    }
                gx[(p * H + h) * W + w] = (float)s;
            }
}
