/* Frechet distance between two Gaussians fitted to feature sets:
 * FID = |mu1 - mu2|^2 + tr(s1) + tr(s2) - 2 tr sqrt(s1 s2).
 * tr sqrt(s1 s2) from symmetric eigendecompositions (see gt_fid_sqrt in
 * metrics.h), or torch-fidelity's eigenvalues-of-the-product formula. */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>

#include "metrics_internal.h"

/* s = F F^T with F (d, r) = V sqrt(lambda) over the eigenvalues above the
 * numerical-rank threshold max(lambda) * d * DBL_EPSILON. rank_bound: the rank
 * s cannot exceed (n - 1 for a covariance of n samples; 0 or >= d: unknown).
 * A small bound computes only the top rank_bound eigenpairs (dsyevr), the
 * others are zero by rank; otherwise all of them (dsyevd). *f is malloc'd
 * (NULL when r = 0). */
static gt_status gt__sqrt_factor(const double *s, int64_t d, int64_t rank_bound, double **f, int64_t *r) {
    *f = NULL;
    *r = 0;
    bool partial = rank_bound > 0 && rank_bound < d / 2;
    int64_t k = partial ? rank_bound : d;                   /* eigenpairs computed */
    double *a = malloc((size_t)(d * d) * sizeof(double));  // (d, d): s, then the eigenvectors (dsyevd)
    double *v = partial ? malloc((size_t)(d * k) * sizeof(double)) : a; // (d, k) eigenvectors in columns
    double *w = malloc((size_t)d * sizeof(double));         // (k) ascending
    lapack_int *supp = partial ? malloc((size_t)(2 * k) * sizeof(lapack_int)) : NULL;
    gt_status st = GT_OK;
    if (!a || !v || !w || (partial && !supp)) {
        st = gt_set_error(GT_ERR_OOM, "FID: out of memory for a %lld x %lld eigendecomposition", (long long)d,
                          (long long)d);
        goto done;
    }
    memcpy(a, s, (size_t)(d * d) * sizeof(double));
    lapack_int info, m = (lapack_int)k;
    if (partial)
        info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)d, a, (lapack_int)d, 0.0, 0.0,
                              (lapack_int)(d - k + 1), (lapack_int)d, 0.0, &m, w, v, (lapack_int)k, supp);
    else
        info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)d, a, (lapack_int)d, w);
    if (info != 0 || m != (lapack_int)k) {
        st = gt_set_error(GT_ERR_STATE, "FID: the eigendecomposition of a covariance failed (%s info %d)",
                          partial ? "dsyevr" : "dsyevd", (int)info);
        goto done;
    }
    double tol = GT_MAX(w[k - 1], 0.0) * (double)d * DBL_EPSILON;
    int64_t first = k;
    while (first > 0 && w[first - 1] > tol) first--;
    int64_t rank = k - first;
    if (rank > 0) {
        double *p = malloc((size_t)(d * rank) * sizeof(double)); // (d, rank)
        if (!p) {
            st = gt_set_error(GT_ERR_OOM, "FID: out of memory for a (%lld, %lld) factor", (long long)d,
                              (long long)rank);
            goto done;
        }
        for (int64_t c = 0; c < rank; c++) {
            double sc = sqrt(w[first + c]);
            for (int64_t i = 0; i < d; i++) p[i * rank + c] = v[i * k + first + c] * sc;
        }
        *f = p;
    }
    *r = rank;
done:
    if (v != a) free(v);
    free(a);
    free(w);
    free(supp);
    return st;
}

/* tr sqrt(s1 s2) = || P^T Q ||_* (nuclear norm) with s1 = P P^T, s2 = Q Q^T. */
static gt_status gt__trace_factor(const double *s1, const double *s2, int64_t d, int64_t rb1, int64_t rb2,
                                  double *tr) {
    double *p = NULL, *q = NULL, *m = NULL, *sv = NULL;
    int64_t r1 = 0, r2 = 0;
    gt_status st = gt__sqrt_factor(s1, d, rb1, &p, &r1);
    if (!st) st = gt__sqrt_factor(s2, d, rb2, &q, &r2);
    *tr = 0.0;
    if (!st && r1 > 0 && r2 > 0) {
        m = malloc((size_t)(r1 * r2) * sizeof(double)); // (r1, r2)
        sv = malloc((size_t)GT_MIN(r1, r2) * sizeof(double));
        if (!m || !sv) {
            st = gt_set_error(GT_ERR_OOM, "FID: out of memory for a %lld x %lld product", (long long)r1,
                              (long long)r2);
        } else {
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r1, (int)r2, (int)d, 1.0, p, (int)r1, q,
                        (int)r2, 0.0, m, (int)r2);
            lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)r1, (lapack_int)r2, m,
                                             (lapack_int)r2, sv, NULL, (lapack_int)GT_MAX(r1, r2), NULL,
                                             (lapack_int)r2);
            if (info != 0) {
                st = gt_set_error(GT_ERR_STATE, "FID: the singular value decomposition failed (dgesdd info %d)",
                                  (int)info);
            } else {
                double acc = 0.0;
                for (int64_t i = 0; i < GT_MIN(r1, r2); i++) acc += sv[i];
                *tr = acc;
            }
        }
    }
    free(p);
    free(q);
    free(m);
    free(sv);
    return st;
}

/* Re sqrt(a + bi), the principal root, computed without cancellation. */
static double gt__re_csqrt(double a, double b) {
    if (a == 0.0 && b == 0.0) return 0.0;
    double t = sqrt((fabs(a) + hypot(a, b)) * 0.5);
    return a >= 0.0 ? t : fabs(b) / (2.0 * t);
}

/* torch-fidelity: sum(sqrt(eigvals(s1 @ s2) as complex).real). */
static gt_status gt__trace_eigvals(const double *s1, const double *s2, int64_t d, double *tr) {
    double *a = malloc((size_t)(d * d) * sizeof(double)); // (d, d)
    double *wr = malloc((size_t)d * sizeof(double)), *wi = malloc((size_t)d * sizeof(double));
    gt_status st = GT_OK;
    *tr = 0.0;
    if (!a || !wr || !wi) {
        st = gt_set_error(GT_ERR_OOM, "FID: out of memory for a %lld x %lld product", (long long)d, (long long)d);
    } else {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0, s1, (int)d, s2, (int)d,
                    0.0, a, (int)d);
        lapack_int info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)d, a, (lapack_int)d, wr, wi, NULL, 1,
                                        NULL, 1);
        if (info != 0) {
            st = gt_set_error(GT_ERR_STATE, "FID: the eigenvalues of s1 s2 did not converge (dgeev info %d)",
                              (int)info);
        } else {
            double acc = 0.0;
            for (int64_t i = 0; i < d; i++) acc += gt__re_csqrt(wr[i], wi[i]);
            *tr = acc;
        }
    }
    free(a);
    free(wr);
    free(wi);
    return st;
}

/* rb1, rb2: rank bounds of s1, s2 (0: unknown) */
static gt_status gt__trace_sqrt(const double *s1, const double *s2, int64_t dim, int64_t rb1, int64_t rb2,
                                gt_fid_sqrt method, double *tr) {
    if (!s1 || !s2 || !tr) return gt_set_error(GT_ERR_ARG, "gt_fid_trace_sqrt: NULL argument");
    if (dim <= 0 || dim > INT32_MAX / 2)
        return gt_set_error(GT_ERR_ARG, "gt_fid_trace_sqrt: dim must be positive, got %lld", (long long)dim);
    if (method == GT_FID_SQRT_FACTOR) return gt__trace_factor(s1, s2, dim, rb1, rb2, tr);
    if (method == GT_FID_SQRT_EIGVALS) return gt__trace_eigvals(s1, s2, dim, tr);
    return gt_set_error(GT_ERR_ARG, "gt_fid_trace_sqrt: unknown method %d (expected GT_FID_SQRT_FACTOR or "
                        "GT_FID_SQRT_EIGVALS)", (int)method);
}

gt_status gt_fid_trace_sqrt(const double *s1, const double *s2, int64_t dim, gt_fid_sqrt method, double *tr) {
    return gt__trace_sqrt(s1, s2, dim, 0, 0, method, tr);
}

gt_status gt_metric_fid_method(const gt_fid_stats *s1, const gt_fid_stats *s2, gt_fid_sqrt method, double *fid) {
    if (!fid) return gt_set_error(GT_ERR_ARG, "gt_metric_fid: NULL output");
    *fid = NAN;
    gt_status st = gt_fid_stats_check(s1, "FID: the first statistics");
    if (!st) st = gt_fid_stats_check(s2, "FID: the second statistics");
    if (st) return st;
    if (s1->dim != s2->dim)
        return gt_set_error(GT_ERR_SHAPE, "FID: the statistics have different feature sizes: mu (%lld,) sigma (%lld, "
                            "%lld) vs mu (%lld,) sigma (%lld, %lld); expected both from the same feature extractor",
                            (long long)s1->dim, (long long)s1->dim, (long long)s1->dim, (long long)s2->dim,
                            (long long)s2->dim, (long long)s2->dim);
    int64_t d = s1->dim;
    double tr = 0.0;
    /* a covariance of n samples has rank <= n - 1 */
    if ((st = gt__trace_sqrt(s1->sigma, s2->sigma, d, s1->n > 1 ? s1->n - 1 : 0, s2->n > 1 ? s2->n - 1 : 0, method,
                             &tr)))
        return st;
    double dd = 0.0, t1 = 0.0, t2 = 0.0;
    for (int64_t i = 0; i < d; i++) {
        double df = s1->mu[i] - s2->mu[i];
        dd += df * df;
        t1 += s1->sigma[i * d + i];
        t2 += s2->sigma[i * d + i];
    }
    *fid = dd + t1 + t2 - 2.0 * tr;
    return GT_OK;
}

gt_status gt_metric_fid(const gt_fid_stats *s1, const gt_fid_stats *s2, double *fid) {
    return gt_metric_fid_method(s1, s2, GT_FID_SQRT_FACTOR, fid);
}

gt_status gt_metric_fid_features(const float *f1, int64_t n1, const float *f2, int64_t n2, int64_t dim,
                                 double *fid) {
    if (!fid) return gt_set_error(GT_ERR_ARG, "gt_metric_fid_features: NULL output");
    *fid = NAN;
    gt_fid_stats a, b;
    gt_status st = gt_fid_stats_compute(f1, n1, dim, &a);
    if (st) return st;
    if ((st = gt_fid_stats_compute(f2, n2, dim, &b))) {
        gt_fid_stats_free(&a);
        return st;
    }
    st = gt_metric_fid(&a, &b, fid);
    gt_fid_stats_free(&a);
    gt_fid_stats_free(&b);
    return st;
}
