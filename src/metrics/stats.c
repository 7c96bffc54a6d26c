/* FID statistics: mean and covariance of a feature set in float64 (np.cov
 * semantics), their checks, the feature checks the metrics share, statistics
 * files (.npz with mu and sigma) and the cache of reference statistics. */
#include <cblas.h>
#include <errno.h>
#include <float.h>
#include <sys/stat.h>

#include "gantry/dist.h"
#include "gantry/io.h"

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
    return gt_set_error(GT_ERR_ARG,
                        "%s features hold a non-finite value (%g) at row %lld, column %lld of (%lld, %lld): "
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

/* Mean, first half: float64 sums over rows (mu[j] = sum_i x_ij). */
static void gt__sum(const float *x, int64_t n, int64_t d, double *mu) {
    for (int64_t j = 0; j < d; j++) mu[j] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *r = x + i * d;
        for (int64_t j = 0; j < d; j++) mu[j] += (double)r[j];
    }
}

/* Scatter, naive: sig[a][b] = sum_i (x_ia - mu_a)(x_ib - mu_b), both triangles. */
static void gt__scatter_naive(const float *x, int64_t n, int64_t d, const double *mu, double *sig) {
    for (int64_t a = 0; a < d; a++)
        for (int64_t b = a; b < d; b++) {
            double acc = 0.0;
            for (int64_t i = 0; i < n; i++) acc += ((double)x[i * d + a] - mu[a]) * ((double)x[i * d + b] - mu[b]);
            sig[a * d + b] = sig[b * d + a] = acc;
        }
}

/* The row block of the fast scatter: at most 64 MB of float64 (blk, d). */
static int64_t gt__blk(int64_t n, int64_t d) { return GT_MAX(1, GT_MIN(n, (int64_t)((64 << 20) / (8 * d)))); }

/* Scatter, fast: centred float64 row blocks, sig += Xc^T Xc with dsyrk (upper triangle only; the lower
 * stays 0). xc: a (gt__blk(n, d), d) buffer. */
static void gt__scatter_blas(const float *x, int64_t n, int64_t d, const double *mu, double *sig, double *xc) {
    int64_t blk = gt__blk(n, d);
    memset(sig, 0, (size_t)(d * d) * sizeof(double));
    for (int64_t r0 = 0; r0 < n; r0 += blk) {
        int64_t m = GT_MIN(blk, n - r0);
#pragma omp parallel for if (m * d > GT_PAR_MIN)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < d; j++) xc[i * d + j] = (double)x[(r0 + i) * d + j] - mu[j];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0, xc, (int)d, 1.0, sig, (int)d);
    }
}

/* The covariance from the scatter of n rows (np.cov: / (n - 1)), mirrored from the upper triangle. */
static void gt__cov_finish(int64_t n, int64_t d, bool naive, double *sig) {
    double inv = 1.0 / (double)(n - 1);
    for (int64_t a = 0; a < d; a++)
        for (int64_t b = a; b < d; b++)
            sig[a * d + b] = sig[b * d + a] = naive ? sig[a * d + b] / (double)(n - 1) : sig[a * d + b] * inv;
}

/* Both entry points: the statistics of the rows of feat on this process (dist false), or of the rows of
 * every rank together (dist true: the counts, the sums and then the centred cross-products are summed
 * over the ranks in float64, so one rank gives the single-process result bit for bit). */
static gt_status gt__stats(const float *feat, int64_t n, int64_t dim, bool dist, gt_fid_stats *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_fid_stats_compute: NULL output");
    memset(out, 0, sizeof *out);
    bool naive = gt_backend_get() == GT_BACKEND_NAIVE;
    double *xc = NULL;
    gt_status st = gt__check_features(feat, n, dim, "FID", "the");
    if (!st && (dim > INT32_MAX / 2 || n > INT32_MAX))
        st = gt_set_error(GT_ERR_ARG, "FID: (%lld, %lld) features are too large", (long long)n, (long long)dim);
    if (!st) st = gt_fid_stats_alloc(out, dim);
    if (!st && !naive && n > 0 && !(xc = malloc((size_t)(gt__blk(n, dim) * dim) * sizeof(double))))
        st = gt_set_error(GT_ERR_OOM, "FID statistics: out of memory for a (%lld, %lld) block",
                          (long long)gt__blk(n, dim), (long long)dim);
    int64_t total = n;
    if (dist) { /* every rank learns whether all are ready, the total count, and that all have one dim */
        int64_t v[2] = {st ? 1 : 0, n}, dd[2] = {dim, -dim};
        gt_status cs = gt_dist_allreduce(v, 2, GT_DIST_I64, GT_DIST_SUM);
        if (!cs) cs = gt_dist_allreduce(dd, 2, GT_DIST_I64, GT_DIST_MAX);
        if (cs) st = cs;
        else if (!st && v[0])
            st = gt_set_error(GT_ERR_STATE, "FID statistics: %lld other rank%s failed (see %s message)",
                              (long long)v[0], v[0] == 1 ? "" : "s", v[0] == 1 ? "its" : "their");
        else if (!st && (dd[0] != dim || -dd[1] != dim))
            st = gt_set_error(GT_ERR_SHAPE, "FID statistics: the ranks have features of different sizes (%lld here, "
                              "%lld to %lld over the ranks)", (long long)dim, (long long)-dd[1], (long long)dd[0]);
        total = v[1];
    }
    if (!st && total < 2)
        st = gt_set_error(GT_ERR_ARG, "FID: a covariance needs at least 2 samples, got %lld", (long long)total);
    if (!st) {
        out->n = total;
        gt__sum(feat, n, dim, out->mu);
        if (dist) st = gt_dist_allreduce(out->mu, (size_t)dim, GT_DIST_F64, GT_DIST_SUM);
        for (int64_t j = 0; j < dim; j++) out->mu[j] /= (double)total;
    }
    if (!st) {
        if (naive) gt__scatter_naive(feat, n, dim, out->mu, out->sigma);
        else gt__scatter_blas(feat, n, dim, out->mu, out->sigma, xc);
        if (dist) st = gt_dist_allreduce(out->sigma, (size_t)(dim * dim), GT_DIST_F64, GT_DIST_SUM);
        if (!st) gt__cov_finish(total, dim, naive, out->sigma);
    }
    free(xc);
    if (st) gt_fid_stats_free(out);
    return st;
}

gt_status gt_fid_stats_compute(const float *feat, int64_t n, int64_t dim, gt_fid_stats *out) {
    return gt__stats(feat, n, dim, false, out);
}

gt_status gt_fid_stats_compute_dist(const float *feat, int64_t n, int64_t dim, gt_fid_stats *out) {
    return gt__stats(feat, n, dim, true, out);
}

/* --- statistics files --------------------------------------------------------- */
gt_status gt_fid_stats_save(const char *path, const gt_fid_stats *s) {
    if (!path) return gt_set_error(GT_ERR_ARG, "gt_fid_stats_save: NULL path");
    gt_status st = gt_fid_stats_check(s, "FID statistics to save");
    if (st) return st;
    gt_npz z;
    gt_npz_init(&z);
    int64_t d = s->dim;
    st = gt_npz_add(&z, "mu", GT_NPY_F8, 1, (int64_t[]){d}, s->mu);
    if (!st) st = gt_npz_add(&z, "sigma", GT_NPY_F8, 2, (int64_t[]){d, d}, s->sigma);
    if (!st) st = gt_npz_save(&z, path, false); /* np.savez layout; np.load reads it */
    gt_npz_free(&z);
    return st;
}

gt_status gt_fid_stats_load(const char *path, gt_fid_stats *s) {
    if (!path || !s) return gt_set_error(GT_ERR_ARG, "gt_fid_stats_load: NULL argument");
    memset(s, 0, sizeof *s);
    gt_npz z;
    gt_npz_init(&z);
    gt_status st = gt_npz_load(&z, path);
    double *mu = NULL, *sigma = NULL;
    int64_t shape[GT_NPY_MAX_DIMS] = {0};
    if (!st) st = gt_npz_get_f64(&z, "mu", 1, NULL, &mu, NULL, shape);
    if (!st && (shape[0] < 1 || shape[0] > (1 << 20)))
        st = gt_set_error(GT_ERR_FORMAT, "'%s': mu has %lld entries, expected 1 to %d", path, (long long)shape[0],
                          1 << 20);
    int64_t d = shape[0];
    if (!st) st = gt_npz_get_f64(&z, "sigma", 2, (int64_t[]){d, d}, &sigma, NULL, NULL);
    gt_npz_free(&z);
    if (st) {
        free(mu);
        free(sigma);
        if (gt_last_status() == GT_ERR_SHAPE) {
            char msg[800];
            snprintf(msg, sizeof msg, "%s", gt_last_error());
            gt_set_error(GT_ERR_FORMAT, "%s (FID statistics: mu (d,) and sigma (d, d) from the same features)", msg);
        }
        return st == GT_ERR_SHAPE ? GT_ERR_FORMAT : st;
    }
    s->dim = d;
    s->mu = mu;
    s->sigma = sigma;
    char what[600];
    snprintf(what, sizeof what, "FID statistics '%s'", path);
    if ((st = gt_fid_stats_check(s, what))) gt_fid_stats_free(s);
    return st;
}

/* --- the cache of reference statistics ------------------------------------------ */
bool gt_cache_dir(char *buf, size_t n) {
    const char *e = getenv("GANTRY_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    int w = -1;
    if (e && *e) w = snprintf(buf, n, "%s", e);
    else if (x && *x) w = snprintf(buf, n, "%s/gantry", x);
    else if (h && *h) w = snprintf(buf, n, "%s/.cache/gantry", h);
    return w > 0 && (size_t)w < n;
}

/* mkdir -p */
static gt_status gt__mkdirs(const char *dir) {
    char p[1024];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return gt_set_error(GT_ERR_ARG, "cache directory path too long: %s", dir);
    for (char *c = p + 1;; c++) {
        if (*c == '/' || *c == 0) {
            char keep = *c;
            *c = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return gt_set_error(GT_ERR_IO, "cannot create the cache directory '%s': %s (set $GANTRY_CACHE to a "
                                    "writable directory)", p, strerror(errno));
            *c = keep;
            if (!keep) break;
        }
    }
    return GT_OK;
}

/* File-name-safe copy of s ([A-Za-z0-9._-], others -> '_'), at most 80 chars. */
static void gt__sanitize(const char *s, char *out, size_t n) {
    size_t k = 0;
    for (; *s && k + 1 < n && k < 80; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '-' || c == '_';
        out[k++] = ok ? c : '_';
    }
    out[k] = 0;
}

gt_status gt_stats_cache_path(const char *spec, const char *extractor, const char *resize, int64_t n, char *buf,
                              size_t len) {
    if (!spec || !extractor || !resize || !buf)
        return gt_set_error(GT_ERR_ARG, "gt_stats_cache_path: NULL argument");
    char dir[768], a[96], b[96], c[96];
    if (!gt_cache_dir(dir, sizeof dir))
        return gt_set_error(GT_ERR_IO, "no cache directory: set $GANTRY_CACHE (or $HOME)");
    /* the sanitized names are for people; the FNV-1a hash of the exact key keeps "a/b" and "a_b" apart */
    char key[1024];
    snprintf(key, sizeof key, "%s\n%s\n%s\n%lld", spec, extractor, resize, (long long)n);
    uint64_t h = 1469598103934665603ull;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    gt__sanitize(spec, a, sizeof a);
    gt__sanitize(extractor, b, sizeof b);
    gt__sanitize(resize, c, sizeof c);
    int w = snprintf(buf, len, "%s/stats/%s-%s-%s-n%lld-%08x.npz", dir, a, b, c, (long long)n, (unsigned)(h >> 32));
    if (w < 0 || (size_t)w >= len) return gt_set_error(GT_ERR_ARG, "cache path too long under %s", dir);
    return GT_OK;
}

gt_status gt_stats_cache_load(const char *spec, const char *extractor, const char *resize, int64_t n,
                              gt_fid_stats *s) {
    char path[1024];
    gt_status st = gt_stats_cache_path(spec, extractor, resize, n, path, sizeof path);
    if (st) return st;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        memset(s, 0, sizeof *s);
        return gt_set_error(GT_ERR_IO, "no cached statistics at '%s'", path); /* a miss */
    }
    if ((st = gt_fid_stats_load(path, s))) return st;
    s->n = n;
    return GT_OK;
}

gt_status gt_stats_cache_store(const char *spec, const char *extractor, const char *resize, int64_t n,
                               const gt_fid_stats *s) {
    char path[1024], dir[1024];
    gt_status st = gt_stats_cache_path(spec, extractor, resize, n, path, sizeof path);
    if (st) return st;
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    if ((st = gt__mkdirs(dir))) return st;
    return gt_fid_stats_save(path, s);
}
