/* FID statistics: mean and covariance of a feature set in float64 (np.cov
 * semantics), their checks, and the feature checks the metrics share.
 * Statistics files and the cache are in stats_io.c. */
#include <cblas.h>
#include <float.h>

#include "metrics_internal.h"

gt_status gt__check_features(const float *x, int64_t n, int64_t dim, const char *metric, const char *what) {
    if (!x && n > 0) return gt_set_error(GT_ERR_ARG, "%s: %s features are NULL", metric, what);
    if (n < 0 || dim <= 0)
        return gt_set_error(GT_ERR_ARG, "%s: %s features must be (n >= 0, dim >= 1), got (%lld, %lld)", metric,
                            what, (long long)n, (long long)dim);
    return gt_features_check_finite(x, n, dim, what);
}

gt_status gt_features_check_finite(const float *x, int64_t n, int64_t dim, const char *what) {
    int64_t total = n * dim, first = total;
#pragma omp parallel for reduction(min : first) if (total > GT_PAR_MIN)
    for (int64_t i = 0; i < total; i++)
        if (!isfinite(x[i]) && i < first) first = i;
    if (first == total) return GT_OK;
    return gt_set_error(GT_ERR_ARG, "%s features hold a non-finite value (%g) at row %lld, column %lld of (%lld, %lld): "
                        "expected finite numbers (is the model diverging?)",
                        what ? what : "the", (double)x[first], (long long)(first / dim), (long long)(first % dim),
                        (long long)n, (long long)dim);
}

gt_status gt_fid_stats_alloc(gt_fid_stats *s, int64_t dim) {
    if (!s) return gt_set_error(GT_ERR_ARG, "gt_fid_stats_alloc: NULL statistics");
    memset(s, 0, sizeof *s);
    if (dim <= 0 || dim > (1 << 20))
        return gt_set_error(GT_ERR_ARG, "FID statistics: dim must be in 1..%d, got %lld", 1 << 20, (long long)dim);
    s->mu = calloc((size_t)dim, sizeof(double));
    s->sigma = calloc((size_t)(dim * dim), sizeof(double));
    if (!s->mu || !s->sigma) {
        gt_fid_stats_free(s);
        return gt_set_error(GT_ERR_OOM, "FID statistics: out of memory for dim %lld (%.1f MB)", (long long)dim,
                            (double)dim * (double)dim * 8.0 / 1e6);
    }
    s->dim = dim;
    return GT_OK;
}

void gt_fid_stats_free(gt_fid_stats *s) {
    if (!s) return;
    free(s->mu);
    free(s->sigma);
    memset(s, 0, sizeof *s);
}

gt_status gt_fid_stats_check(const gt_fid_stats *s, const char *what) {
    what = what ? what : "FID statistics";
    if (!s || !s->mu || !s->sigma || s->dim <= 0) return gt_set_error(GT_ERR_ARG, "%s: empty (no mu / sigma)", what);
    int64_t d = s->dim;
    for (int64_t i = 0; i < d; i++)
        if (!isfinite(s->mu[i]))
            return gt_set_error(GT_ERR_FORMAT, "%s: mu[%lld] = %g, expected finite values", what, (long long)i,
                                s->mu[i]);
    for (int64_t i = 0; i < d * d; i++)
        if (!isfinite(s->sigma[i]))
            return gt_set_error(GT_ERR_FORMAT, "%s: sigma[%lld, %lld] = %g, expected finite values", what,
                                (long long)(i / d), (long long)(i % d), s->sigma[i]);
    return GT_OK;
}

/* Mean: float64 sums over rows. */
static void gt__mean(const float *x, int64_t n, int64_t d, double *mu) {
    for (int64_t j = 0; j < d; j++) mu[j] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *r = x + i * d;
        for (int64_t j = 0; j < d; j++) mu[j] += (double)r[j];
    }
    for (int64_t j = 0; j < d; j++) mu[j] /= (double)n;
}

/* Covariance, naive: sigma[a][b] = sum_i (x_ia - mu_a)(x_ib - mu_b) / (n - 1). */
static void gt__cov_naive(const float *x, int64_t n, int64_t d, const double *mu, double *sig) {
    for (int64_t a = 0; a < d; a++)
        for (int64_t b = a; b < d; b++) {
            double acc = 0.0;
            for (int64_t i = 0; i < n; i++) acc += ((double)x[i * d + a] - mu[a]) * ((double)x[i * d + b] - mu[b]);
            sig[a * d + b] = sig[b * d + a] = acc / (double)(n - 1);
        }
}

/* Covariance, fast: centred float64 row blocks, sigma += Xc^T Xc with dsyrk.
 * Memory: one (block, d) float64 buffer. */
static gt_status gt__cov_blas(const float *x, int64_t n, int64_t d, const double *mu, double *sig) {
    int64_t blk = GT_MAX(1, GT_MIN(n, (int64_t)((64 << 20) / (8 * d)))); /* <= 64 MB */
    double *xc = malloc((size_t)(blk * d) * sizeof(double)); // (blk, d)
    if (!xc)
        return gt_set_error(GT_ERR_OOM, "FID statistics: out of memory for a (%lld, %lld) block", (long long)blk,
                            (long long)d);
    memset(sig, 0, (size_t)(d * d) * sizeof(double));
    for (int64_t r0 = 0; r0 < n; r0 += blk) {
        int64_t m = GT_MIN(blk, n - r0);
#pragma omp parallel for if (m * d > GT_PAR_MIN)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < d; j++) xc[i * d + j] = (double)x[(r0 + i) * d + j] - mu[j];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0, xc, (int)d, 1.0, sig, (int)d);
    }
    free(xc);
    double inv = 1.0 / (double)(n - 1);
    for (int64_t a = 0; a < d; a++)
        for (int64_t b = a; b < d; b++) sig[a * d + b] = sig[b * d + a] = sig[a * d + b] * inv;
    return GT_OK;
}

gt_status gt_fid_stats_compute(const float *feat, int64_t n, int64_t dim, gt_fid_stats *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_fid_stats_compute: NULL output");
    memset(out, 0, sizeof *out);
    gt_status st = gt__check_features(feat, n, dim, "FID", "the");
    if (st) return st;
    if (n < 2)
        return gt_set_error(GT_ERR_ARG, "FID: a covariance needs at least 2 samples, got %lld", (long long)n);
    if (dim > INT32_MAX / 2 || n > INT32_MAX)
        return gt_set_error(GT_ERR_ARG, "FID: (%lld, %lld) features are too large", (long long)n, (long long)dim);
    if ((st = gt_fid_stats_alloc(out, dim))) return st;
    out->n = n;
    gt__mean(feat, n, dim, out->mu);
    if (gt_backend_get() == GT_BACKEND_NAIVE) gt__cov_naive(feat, n, dim, out->mu, out->sigma);
    else if ((st = gt__cov_blas(feat, n, dim, out->mu, out->sigma))) gt_fid_stats_free(out);
    return st;
}
