/* Kernel Inception Distance as torch-fidelity computes it (metric_kid.py):
 * for each of `subsets` rounds, m rows drawn without replacement from each set
 * by NumPy's RandomState(seed).choice (= permutation(n)[:m]), the unbiased
 * MMD^2 with the polynomial kernel (gamma x.y + coef0)^degree; the mean and
 * population std over rounds. Kernel sums in float64 (dsyrk / dgemm). */
#include <cblas.h>

#include "metrics_internal.h"

gt_kid_opts gt_kid_default_opts(void) {
    gt_kid_opts o = {.subsets = 100, .subset_size = 1000, .seed = 2020, .degree = 3, .gamma = 0.0, .coef0 = 1.0};
    return o;
}

static inline double gt__kpow(double v, int degree) {
    double r = 1.0;
    for (int i = 0; i < degree; i++) r *= v;
    return r;
}

/* sum over i != j of k(G_ij) for the symmetric Gram g (m, m), upper triangle set. */
static double gt__offdiag_sum(const double *g, int64_t m, double gamma, double coef0, int degree) {
    double acc = 0.0;
#pragma omp parallel for reduction(+ : acc) schedule(static) if (m * m > GT_PAR_MIN)
    for (int64_t i = 0; i < m; i++) {
        double r = 0.0;
        for (int64_t j = i + 1; j < m; j++) r += gt__kpow(gamma * g[i * m + j] + coef0, degree);
        acc += r;
    }
    return 2.0 * acc;
}

static double gt__full_sum(const double *g, int64_t m, double gamma, double coef0, int degree) {
    double acc = 0.0;
#pragma omp parallel for reduction(+ : acc) schedule(static) if (m * m > GT_PAR_MIN)
    for (int64_t i = 0; i < m; i++) {
        double r = 0.0;
        for (int64_t j = 0; j < m; j++) r += gt__kpow(gamma * g[i * m + j] + coef0, degree);
        acc += r;
    }
    return acc;
}

/* g = a b^T for a, b (m, d) float64; upper triangle only when a == b (sym). */
static void gt__gram(const double *a, const double *b, int64_t m, int64_t d, bool sym, double *g) {
    if (gt_backend_get() == GT_BACKEND_NAIVE) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = sym ? i : 0; j < m; j++) {
                double acc = 0.0;
                for (int64_t k = 0; k < d; k++) acc += a[i * d + k] * b[j * d + k];
                g[i * m + j] = acc;
            }
    } else if (sym) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)m, (int)d, 1.0, a, (int)d, 0.0, g, (int)m);
    } else {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)m, (int)d, 1.0, a, (int)d, b, (int)d, 0.0,
                    g, (int)m);
    }
}

static void gt__gather(const float *x, int64_t d, const int64_t *idx, int64_t m, double *out) {
#pragma omp parallel for if (m * d > GT_PAR_MIN)
    for (int64_t i = 0; i < m; i++)
        for (int64_t k = 0; k < d; k++) out[i * d + k] = (double)x[idx[i] * d + k];
}

gt_status gt_metric_kid(const float *f1, int64_t n1, const float *f2, int64_t n2, int64_t dim,
                        const gt_kid_opts *opts, double *mean, double *std) {
    gt_kid_opts o = opts ? *opts : gt_kid_default_opts();
    if (!mean || !std) return gt_set_error(GT_ERR_ARG, "KID: NULL output");
    *mean = *std = NAN;
    gt_status st = gt__check_features(f1, n1, dim, "KID", "the first set's");
    if (!st) st = gt__check_features(f2, n2, dim, "KID", "the second set's");
    if (st) return st;
    if (o.subsets < 1) return gt_set_error(GT_ERR_ARG, "KID: subsets must be >= 1, got %d", o.subsets);
    if (o.degree < 1 || o.degree > 16)
        return gt_set_error(GT_ERR_ARG, "KID: kernel degree must be in 1..16, got %d", o.degree);
    if (o.subset_size < 0)
        return gt_set_error(GT_ERR_ARG, "KID: subset size must be >= 0 (0 = min(1000, n)), got %lld",
                            (long long)o.subset_size);
    int64_t m = o.subset_size ? o.subset_size : GT_MIN((int64_t)1000, GT_MIN(n1, n2));
    if (m > n1 || m > n2)
        return gt_set_error(GT_ERR_ARG, "KID: subset size %lld is larger than the number of samples (first set: "
                            "%lld, second set: %lld); expected at least %lld samples in each, or a smaller subset size",
                            (long long)m, (long long)n1, (long long)n2, (long long)m);
    if (m < 2)
        return gt_set_error(GT_ERR_ARG, "KID: the unbiased MMD needs subsets of at least 2 samples, got %lld "
                            "(first set: %lld, second set: %lld samples)", (long long)m, (long long)n1, (long long)n2);
    if (m > INT32_MAX / 2 || dim > INT32_MAX / 2) return gt_set_error(GT_ERR_ARG, "KID: sizes too large");
    double gamma = o.gamma > 0 ? o.gamma : 1.0 / (double)dim;
    int64_t *p1 = malloc((size_t)n1 * sizeof(int64_t)), *p2 = malloc((size_t)n2 * sizeof(int64_t));
    double *x = malloc((size_t)(m * dim) * sizeof(double)), *y = malloc((size_t)(m * dim) * sizeof(double));
    double *g = malloc((size_t)(m * m) * sizeof(double)); // (m, m)
    double *mmd = malloc((size_t)o.subsets * sizeof(double));
    if (!p1 || !p2 || !x || !y || !g || !mmd) {
        st = gt_set_error(GT_ERR_OOM, "KID: out of memory for subsets of (%lld, %lld)", (long long)m, (long long)dim);
        goto done;
    }
    gt__mt19937 mt;
    gt__mt_seed(&mt, o.seed);
    double mm = (double)m;
    for (int s = 0; s < o.subsets; s++) {
        gt__mt_permutation(&mt, n1, p1);
        gt__mt_permutation(&mt, n2, p2);
        gt__gather(f1, dim, p1, m, x);
        gt__gather(f2, dim, p2, m, y);
        gt__gram(x, x, m, dim, true, g);
        double kxx = gt__offdiag_sum(g, m, gamma, o.coef0, o.degree);
        gt__gram(y, y, m, dim, true, g);
        double kyy = gt__offdiag_sum(g, m, gamma, o.coef0, o.degree);
        gt__gram(x, y, m, dim, false, g);
        double kxy = gt__full_sum(g, m, gamma, o.coef0, o.degree);
        mmd[s] = (kxx + kyy) / (mm * (mm - 1.0)) - 2.0 * kxy / (mm * mm);
    }
    double mu = 0.0, var = 0.0;
    for (int s = 0; s < o.subsets; s++) mu += mmd[s];
    mu /= o.subsets;
    for (int s = 0; s < o.subsets; s++) var += (mmd[s] - mu) * (mmd[s] - mu);
    *mean = mu;
    *std = sqrt(var / o.subsets);
done:
    free(p1);
    free(p2);
    free(x);
    free(y);
    free(g);
    free(mmd);
    return st;
}
