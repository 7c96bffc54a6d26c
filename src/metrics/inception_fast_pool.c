/* The fused Inception forward's pools over (C, B, H, W) planes, its spatial
 * means and the fc: each plane loop shared through the work pool
 * (inception_par.c). */
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

/* 3x3 / 1 / 1 average, the padding left out of the count. */
static void gt__avg3_planes(void *ctx, int64_t p0, int64_t p1) {
    const gt__pool_job *J = ctx;
    const int H = J->H, W = J->W;
    const int64_t HW = (int64_t)H * W;
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = J->x + p * HW;
        float *yp = J->y + p * HW;
        for (int h = 0; h < H; h++) {
            int h0 = h > 0 ? h - 1 : 0, h1 = h + 2 < H ? h + 2 : H;
            for (int w = 0; w < W; w++) {
                int w0 = w > 0 ? w - 1 : 0, w1 = w + 2 < W ? w + 2 : W;
                float sum = 0.0f;
                for (int i = h0; i < h1; i++)
                    for (int j = w0; j < w1; j++) sum += xp[(int64_t)i * W + j];
                yp[(int64_t)h * W + w] = sum / (float)((h1 - h0) * (w1 - w0));
            }
        }
    }
}

void gt__favg3(gt__par *par, const float *x, int64_t planes, int H, int W, float *y) {
    gt__pool_job J = {x, y, H, W, 1, 1, 0, 0, (int64_t)H * W};
    gt__par_run(par, planes, GT_MAX(1, GT__GRAIN / J.hw), gt__avg3_planes, &J);
}

/* NaN-propagating max (PyTorch's max pool returns NaN for a window holding one). */
static inline float gt__max2(float a, float b) { return a > b || a != a ? a : b; }

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
                for (int w = 0; w < W; w++) vm[w] = gt__max2(gt__max2(r0[w], r1[w]), r2[w]);
            } else if (h1 - h0 == 2) {
                for (int w = 0; w < W; w++) vm[w] = gt__max2(r0[w], r0[w + W]);
            } else {
                memcpy(vm, r0, sizeof(float) * (size_t)W);
            }
            for (int ow = 0; ow < Wo; ow++) {
                int w0 = ow * s - p;
                if (w0 >= 0 && w0 + 3 <= W) {
                    yr[ow] = gt__max2(gt__max2(vm[w0], vm[w0 + 1]), vm[w0 + 2]);
                } else {
                    float m = -INFINITY;
                    for (int j = GT_MAX(w0, 0); j < GT_MIN(w0 + 3, W); j++) m = gt__max2(vm[j], m);
                    yr[ow] = m;
                }
            }
        }
    }
    if (vm != vm_small) free(vm);
}

void gt__fmax3(gt__par *par, const float *x, int64_t planes, int H, int W, int s, int p, float *y) {
    gt__pool_job J = {x, y, H, W, s, p, 0, 0, (int64_t)H * W};
    gt__par_run(par, planes, GT_MAX(1, GT__GRAIN / J.hw), gt__max3_planes, &J);
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

void gt__fmean(gt__par *par, const float *x, int C, int B, int64_t hw, float *out) {
    gt__pool_job J = {x, out, 0, 0, 0, 0, C, B, hw};
    gt__par_run(par, (int64_t)C * B, GT_MAX(1, GT__GRAIN / hw), gt__mean_planes, &J);
}
