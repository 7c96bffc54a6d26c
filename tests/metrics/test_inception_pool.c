/* The fused Inception forward's pools (src/metrics/inception_fast_pool.c)
 * against direct window loops: every plane size from 1x1 up, the strides and
 * paddings the net uses and a few it does not, NaN propagation of the max
 * pool, and the loops shared out over a work pool or run on the caller. */
#include <math.h>

#include "../../src/metrics/inception_fast.h"
#include "../common/harness.h"

static float *random_planes(uint64_t seed, int64_t n) {
    float *x = malloc(sizeof(float) * (size_t)n);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((s >> 40) & 0xFFFF) / 32768.0f - 1.0f;
    }
    return x;
}

/* 3x3 / 1 / 1 average, padding left out of the count, as PyTorch sums it. */
static void avg_ref(const float *x, int H, int W, float *y) {
    for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++) {
            int h0 = h > 0 ? h - 1 : 0, h1 = h + 2 < H ? h + 2 : H, w0 = w > 0 ? w - 1 : 0, w1 = w + 2 < W ? w + 2 : W;
            double sum = 0.0;
            for (int i = h0; i < h1; i++)
                for (int j = w0; j < w1; j++) sum += x[i * W + j];
            y[h * W + w] = (float)(sum / ((h1 - h0) * (w1 - w0)));
        }
}

/* 3x3 / s / p max; NaN when the window holds one. */
static void max_ref(const float *x, int H, int W, int s, int p, float *y) {
    int Ho = (H + 2 * p - 3) / s + 1, Wo = (W + 2 * p - 3) / s + 1;
    for (int oh = 0; oh < Ho; oh++)
        for (int ow = 0; ow < Wo; ow++) {
            float m = -INFINITY;
            bool nan = false;
            for (int i = oh * s - p; i < oh * s - p + 3; i++)
                for (int j = ow * s - p; j < ow * s - p + 3; j++)
                    if (i >= 0 && i < H && j >= 0 && j < W) {
                        float v = x[i * W + j];
                        if (isnan(v)) nan = true;
                        else if (v > m) m = v;
                    }
            y[oh * Wo + ow] = nan ? NAN : m;
        }
}

static void test_pools(void) {
    const int sizes[] = {1, 2, 3, 4, 5, 8, 17, 35, 600};
    const int ns = (int)(sizeof sizes / sizeof *sizes);
    const int sp[][2] = {{1, 1}, {2, 0}, {1, 0}, {2, 1}, {3, 1}};
    gt__par *pool = gt__par_new(3);
    for (int u = 0; u < 2; u++) {
        gt__par *par = u ? pool : NULL;
        for (int a = 0; a < ns; a++)
            for (int b = 0; b < ns; b++) {
                const int H = sizes[a], W = sizes[b], planes = H * W > 5000 ? 2 : 5;
                const int64_t hw = (int64_t)H * W;
                float *x = random_planes((uint64_t)(H * 1000 + W), planes * hw);
                float *y = malloc(sizeof(float) * (size_t)(planes * hw)), *r = malloc(sizeof(float) * (size_t)hw);
                gt__favg3(par, x, planes, H, W, y);
                double worst = 0.0;
                for (int q = 0; q < planes; q++) {
                    avg_ref(x + q * hw, H, W, r);
                    for (int64_t i = 0; i < hw; i++) worst = fmax(worst, fabs(y[q * hw + i] - r[i]));
                }
                CHECK_MSG(worst <= 4e-7, "avg3 %dx%d: off by %.3g", H, W, worst);
                for (int k = 0; k < 5; k++) {
                    const int s = sp[k][0], p = sp[k][1];
                    if (H + 2 * p < 3 || W + 2 * p < 3) continue;
                    const int Ho = (H + 2 * p - 3) / s + 1, Wo = (W + 2 * p - 3) / s + 1;
                    const int64_t ohw = (int64_t)Ho * Wo;
                    if (hw > 3) x[(3 * hw) / 7] = NAN; /* plane 0 */
                    if (planes > 2) x[2 * hw + hw - 1] = NAN; /* a corner of plane 2 */
                    float *ym = malloc(sizeof(float) * (size_t)(planes * ohw)), *rm = malloc(sizeof(float) * (size_t)ohw);
                    gt__fmax3(par, x, planes, H, W, s, p, ym);
                    int bad = 0;
                    for (int q = 0; q < planes; q++) {
                        max_ref(x + q * hw, H, W, s, p, rm);
                        for (int64_t i = 0; i < ohw; i++) {
                            float g = ym[q * ohw + i];
                            bad += isnan(rm[i]) ? !isnan(g) : g != rm[i];
                        }
                    }
                    CHECK_MSG(bad == 0, "max3 %dx%d s%d p%d: %d outputs differ", H, W, s, p, bad);
                    free(ym);
                    free(rm);
                }
                free(x);
                free(y);
                free(r);
            }
    }
    gt__par_free(pool);
}

int main(void) {
    RUN(test_pools);
    return gt_test_finish();
}
