/* The fused Inception forward's pools over (C, B, H, W) planes, its spatial
 * means and the fc: each plane loop shared through the work pool
 * (src/backend/cpu/par.c). */
#include "inception_fast.h"

#include <cblas.h>

#define GT__GRAIN 16384

void gt__ffc(const float *pool, int64_t n, const float *w, const float *b, float *y) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, GT__INC_CLASSES, 2048, 1.0f, pool, 2048, w, 2048,
                0.0f, y, GT__INC_CLASSES);
    if (b)
        for (int64_t i = 0; i < n; i++)
            for (int j = 0; j < GT__INC_CLASSES; j++) y[i * GT__INC_CLASSES + j] += b[j];
}

typedef struct {
    const float *x;
    float *y;
    int H, W, s, p, C, B;
    int64_t hw;
} gt__pool_job;

/* 3x3 / 1 / 1 average, the padding left out of the count; separable: the
 * sum of the window's rows into vs (W), then of 3 columns, over the count. */
static void gt__avg3_planes(void *ctx, int64_t p0, int64_t p1) {
    const gt__pool_job *J = ctx;
    const int H = J->H, W = J->W;
    const int64_t HW = (int64_t)H * W;
    float vs_small[512], *vs = W <= 512 ? vs_small : malloc(sizeof(float) * (size_t)W);
    if (!vs) { /* no scratch for a very wide plane: the direct window loop */
        for (int64_t p = p0; p < p1; p++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++) {
                    int h0 = GT_MAX(h - 1, 0), h1 = GT_MIN(h + 2, H), w0 = GT_MAX(w - 1, 0), w1 = GT_MIN(w + 2, W);
                    float sum = 0.0f;
                    for (int i = h0; i < h1; i++)
                        for (int j = w0; j < w1; j++) sum += J->x[p * HW + (int64_t)i * W + j];
                    J->y[p * HW + (int64_t)h * W + w] = sum / (float)((h1 - h0) * (w1 - w0));
                }
        return;
    }
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = J->x + p * HW;
        float *yp = J->y + p * HW;
        for (int h = 0; h < H; h++) {
            const int h0 = h > 0 ? h - 1 : 0, h1 = h + 2 < H ? h + 2 : H, rows = h1 - h0;
            const float *r0 = xp + (int64_t)h0 * W, *r1 = r0 + W, *r2 = r1 + W;
            if (rows == 3) {
#pragma omp simd
                for (int w = 0; w < W; w++) vs[w] = r0[w] + r1[w] + r2[w];
            } else if (rows == 2) {
#pragma omp simd
                for (int w = 0; w < W; w++) vs[w] = r0[w] + r1[w];
            } else {
                memcpy(vs, r0, sizeof(float) * (size_t)W);
            }
            float *yr = yp + (int64_t)h * W;
            if (W == 1) {
                yr[0] = vs[0] / (float)rows;
                continue;
            }
            const float c3 = (float)(3 * rows), c2 = (float)(2 * rows);
            yr[0] = (vs[0] + vs[1]) / c2;
#pragma omp simd
            for (int w = 1; w < W - 1; w++) yr[w] = (vs[w - 1] + vs[w] + vs[w + 1]) / c3;
            yr[W - 1] = (vs[W - 2] + vs[W - 1]) / c2;
        }
    }
    if (vs != vs_small) free(vs);
}

void gt__favg3(gt_cpu_par *par, const float *x, int64_t planes, int H, int W, float *y) {
    gt__pool_job J = {x, y, H, W, 1, 1, 0, 0, (int64_t)H * W};
    gt_cpu_par_run(par, planes, GT_MAX(1, GT__GRAIN / J.hw), gt__avg3_planes, &J);
}

/* NaN-propagating max (PyTorch's max pool returns NaN for a window holding one). */
static inline float gt__max2(float a, float b) {
    const float m = a > b ? a : b;
    return a != a ? a : m; /* no short-circuit: a select the loops vectorize */
}

/* 3x3 / s / p max, separable: the max over the window's rows into vm (W),
 * then over 3 columns. */
static void gt__max3_planes(void *ctx, int64_t q0, int64_t q1) {
    const gt__pool_job *J = ctx;
    const int H = J->H, W = J->W, s = J->s, p = J->p;
    const int Ho = (H + 2 * p - 3) / s + 1, Wo = (W + 2 * p - 3) / s + 1;
    const int64_t HW = (int64_t)H * W, OHW = (int64_t)Ho * Wo;
    float vm_small[512], *vm = W <= 512 ? vm_small : malloc(sizeof(float) * (size_t)W);
    for (int64_t q = q0; q < q1; q++) {
        const float *xp = J->x + q * HW;
        float *yp = J->y + q * OHW;
        for (int oh = 0; oh < Ho; oh++) {
            int h0 = GT_MAX(oh * s - p, 0), h1 = GT_MIN(oh * s - p + 3, H);
            float *yr = yp + (int64_t)oh * Wo;
            if (!vm) { /* no scratch for a very wide plane: the direct window loop */
                for (int ow = 0; ow < Wo; ow++) {
                    float m = -INFINITY;
                    for (int i = h0; i < h1; i++)
                        for (int j = GT_MAX(ow * s - p, 0); j < GT_MIN(ow * s - p + 3, W); j++)
                            m = gt__max2(xp[(int64_t)i * W + j], m);
                    yr[ow] = m;
                }
                continue;
            }
            const float *r0 = xp + (int64_t)h0 * W;
            if (h1 - h0 == 3) {
                const float *r1 = r0 + W, *r2 = r1 + W;
#pragma omp simd
                for (int w = 0; w < W; w++) vm[w] = gt__max2(r2[w], gt__max2(r1[w], r0[w]));
            } else if (h1 - h0 == 2) {
#pragma omp simd
                for (int w = 0; w < W; w++) vm[w] = gt__max2(r0[w + W], r0[w]);
            } else {
                memcpy(vm, r0, sizeof(float) * (size_t)W);
            }
            /* output columns whose window lies inside the row: [lo, hi) */
            const int lo = p > 0 ? (p + s - 1) / s : 0,
                      hi = GT_MAX(lo, W - 3 + p >= 0 ? GT_MIN(Wo, (W - 3 + p) / s + 1) : 0);
            for (int ow = 0; ow < lo; ow++) {
                float m = -INFINITY;
                for (int j = GT_MAX(ow * s - p, 0); j < GT_MIN(ow * s - p + 3, W); j++) m = gt__max2(vm[j], m);
                yr[ow] = m;
            }
            if (s == 1) {
                const float *v = vm - p;
#pragma omp simd
                for (int ow = lo; ow < hi; ow++) yr[ow] = gt__max2(v[ow + 2], gt__max2(v[ow + 1], v[ow]));
            } else if (s == 2) {
                const float *v = vm - p;
#pragma omp simd
                for (int ow = lo; ow < hi; ow++)
                    yr[ow] = gt__max2(v[2 * ow + 2], gt__max2(v[2 * ow + 1], v[2 * ow]));
            } else {
                for (int ow = lo; ow < hi; ow++) {
                    const float *v = vm + ow * s - p;
                    yr[ow] = gt__max2(v[2], gt__max2(v[1], v[0]));
                }
            }
            for (int ow = hi; ow < Wo; ow++) {
                float m = -INFINITY;
                for (int j = GT_MAX(ow * s - p, 0); j < GT_MIN(ow * s - p + 3, W); j++) m = gt__max2(vm[j], m);
                yr[ow] = m;
            }
        }
    }
    if (vm != vm_small) free(vm);
}

void gt__fmax3(gt_cpu_par *par, const float *x, int64_t planes, int H, int W, int s, int p, float *y) {
    gt__pool_job J = {x, y, H, W, s, p, 0, 0, (int64_t)H * W};
    gt_cpu_par_run(par, planes, GT_MAX(1, GT__GRAIN / J.hw), gt__max3_planes, &J);
}

static void gt__mean_planes(void *ctx, int64_t q0, int64_t q1) {
    const gt__pool_job *J = ctx;
    for (int64_t q = q0; q < q1; q++) {
        const float *xp = J->x + q * J->hw;
        double sum = 0.0;
        for (int64_t k = 0; k < J->hw; k++) sum += xp[k];
        int c = (int)(q / J->B), b = (int)(q % J->B);
        J->y[(int64_t)b * J->C + c] = (float)(sum / (double)J->hw);
    }
}

void gt__fmean(gt_cpu_par *par, const float *x, int C, int B, int64_t hw, float *out) {
    gt__pool_job J = {x, out, 0, 0, 0, 0, C, B, hw};
    gt_cpu_par_run(par, (int64_t)C * B, GT_MAX(1, GT__GRAIN / hw), gt__mean_planes, &J);
}
