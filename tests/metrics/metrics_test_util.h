/* Helpers shared by the metric tests: float64 golden values (hi, lo float32
 * pairs), relative comparisons, and feature matrices that look like network
 * features (correlated, some non-negative). */
#ifndef GT_METRICS_TEST_UTIL_H
#define GT_METRICS_TEST_UTIL_H

#include "../common/harness.h"

/* Element i of a golden float64 array stored as (..., 2) hi/lo pairs. */
static inline double gold64(const char *name, int64_t i) {
    gt_tensor *t = gt_golden(name);
    if (!t) return NAN;
    const float *p = gt_data(t);
    return (double)p[2 * i] + (double)p[2 * i + 1];
}

/* |a - b| <= rtol * max(|b|, floor): prints both on failure. */
static inline bool check_rel(const char *what, double a, double b, double rtol, double floor) {
    double lim = rtol * fmax(fabs(b), floor);
    bool ok = fabs(a - b) <= lim && isfinite(a);
    CHECK_MSG(ok, "%s: got %.17g want %.17g (rel diff %.3g, allowed %.3g)", what, a, b,
              fabs(a - b) / fmax(fabs(b), 1e-300), rtol);
    return ok;
}

/* Features x (n, d) = act((z W) * scale + shift + noise) with z (n, k) standard
 * normal (seed), W (k, d) (wseed), noise 0.1 N(0, 1): correlated columns of
 * rank <= k before the noise. Two sets with the same wseed share a distribution
 * up to scale / shift. relu: max(., 0). */
static inline gt_tensor *make_features_w(uint64_t seed, uint64_t wseed, int64_t n, int64_t d, int64_t k,
                                         float scale, float shift, bool relu) {
    gt_tensor *z = gt_test_randn(seed, GT_SHAPE(n, k), 1.0f);
    gt_tensor *w = gt_test_randn(wseed, GT_SHAPE(k, d), 1.0f / sqrtf((float)k));
    gt_tensor *nz = gt_test_randn(seed + 2000, GT_SHAPE(n, d), 0.1f);
    gt_tensor *x = gt_empty(2, (int64_t[]){n, d});
    const float *pz = gt_data(z), *pw = gt_data(w), *pn = gt_data(nz);
    float *px = gt_data(x);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) {
            double acc = 0;
            for (int64_t q = 0; q < k; q++) acc += (double)pz[i * k + q] * pw[q * d + j];
            float v = (float)(acc * scale + shift) + pn[i * d + j];
            px[i * d + j] = relu ? fmaxf(v, 0.0f) : v;
        }
    if (gt_scope_depth() == 0) { /* no scope owns the temporaries: we do */
        gt_release(z);
        gt_release(w);
        gt_release(nz);
    }
    return x;
}

/* The same with W from seed + 1000 (a distribution of its own). */
static inline gt_tensor *make_features(uint64_t seed, int64_t n, int64_t d, int64_t k, float scale, float shift,
                                       bool relu) {
    return make_features_w(seed, seed + 1000, n, d, k, scale, shift, relu);
}

static inline bool has_text(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

#endif
