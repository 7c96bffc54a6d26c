/* gantry/metrics.h - evaluation metrics for generative models, as torch-fidelity
 * (and, for density/coverage, the prdc package) compute them: FID, Inception
 * Score, KID, precision/recall and density/coverage, plus FID statistics files
 * (.npz with float64 `mu` and `sigma`, the files pytorch-fid and clean-fid
 * read and write) and a cache of reference statistics.
 *
 * Every metric takes feature matrices: row-major float32 (n, dim), one row per
 * image. All arithmetic is float64. Inputs are checked: too few samples for
 * the metric, mismatched dims, non-finite values -> an error status with a
 * message (gt_last_error()) that says what was expected.
 *
 *     gt_fid_stats a, b;
 *     double fid;
 *     if (gt_fid_stats_compute(real, n_real, 2048, &a) == GT_OK &&
 *         gt_fid_stats_compute(fake, n_fake, 2048, &b) == GT_OK &&
 *         gt_metric_fid(&a, &b, &fid) == GT_OK) printf("FID %.4f\n", fid);
 *     gt_fid_stats_free(&a); gt_fid_stats_free(&b);
 *
 * Argument order: (real, fake) everywhere except KID, which follows
 * torch-fidelity's (input1, input2) order because the order of the subset
 * draws depends on it (see gt_metric_kid). */
#ifndef GANTRY_METRICS_H
#define GANTRY_METRICS_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- FID ---------------------------------------------------------------------
 * Statistics of a feature set: mean and covariance (np.cov semantics: unbiased,
 * divided by n - 1). FID = |mu1 - mu2|^2 + tr(s1) + tr(s2) - 2 tr sqrt(s1 s2). */
typedef struct gt_fid_stats {
    int64_t dim;
    int64_t n;     /* samples behind the statistics; 0 when unknown (a file without it) */
    double *mu;    // (dim)
    double *sigma; // (dim, dim), row-major, symmetric
} gt_fid_stats;

/* Computes mean and covariance of feat (n, dim); needs n >= 2. out is
 * overwritten (not freed first); on error it is left empty. */
gt_status gt_fid_stats_compute(const float *feat, int64_t n, int64_t dim, gt_fid_stats *out);
/* Allocates zeroed statistics of the given dim. */
gt_status gt_fid_stats_alloc(gt_fid_stats *s, int64_t dim);
void gt_fid_stats_free(gt_fid_stats *s); /* NULL-safe, leaves s empty */
/* mu and sigma finite, sigma square of matching dim. what names the set in messages. */
gt_status gt_fid_stats_check(const gt_fid_stats *s, const char *what);

/* How tr sqrt(s1 s2) is computed.
 * GT_FID_SQRT_FACTOR (default): s1 = P P^T and s2 = Q Q^T from symmetric
 *   eigendecompositions (dsyevd; eigenvalues below max * dim * DBL_EPSILON are
 *   zero, the numerical null space); tr sqrt(s1 s2) = the sum of singular values
 *   of P^T Q (the eigenvalues of s1 s2 are those of (P^T Q)(P^T Q)^T). Exact for
 *   singular covariances (n < dim): no square roots of rounding noise.
 * GT_FID_SQRT_EIGVALS: torch-fidelity's formula literally: eigenvalues of the
 *   product s1 s2 (dgeev), sum of the real parts of their complex square roots.
 *   Agrees with FACTOR to ~1e-12 when both covariances are well conditioned;
 *   when one is singular it adds sqrt(noise) for every zero eigenvalue. */
typedef enum { GT_FID_SQRT_FACTOR = 0, GT_FID_SQRT_EIGVALS = 1 } gt_fid_sqrt;
gt_status gt_fid_trace_sqrt(const double *s1, const double *s2, int64_t dim, gt_fid_sqrt method, double *tr);
/* FID between two statistics (GT_FID_SQRT_FACTOR). Dims must match. */
gt_status gt_metric_fid(const gt_fid_stats *s1, const gt_fid_stats *s2, double *fid);
gt_status gt_metric_fid_method(const gt_fid_stats *s1, const gt_fid_stats *s2, gt_fid_sqrt method, double *fid);
/* FID straight from two feature sets. */
gt_status gt_metric_fid_features(const float *f1, int64_t n1, const float *f2, int64_t n2, int64_t dim,
                                 double *fid);

/* --- Inception Score ---------------------------------------------------------
 * torch-fidelity's isc: softmax of the logits (float64), the set split into
 * `splits` contiguous chunks [i*n/splits, (i+1)*n/splits), per chunk
 * exp(mean_i KL(p_i || mean p)), then the mean and population std (ddof 0) of
 * the chunk scores. torch-fidelity shuffles the rows first by default with
 * NumPy's RandomState(2020).permutation(n); shuffle/seed reproduce that. */
typedef struct gt_is_opts {
    int splits;    /* 10 */
    bool shuffle;  /* true, as torch-fidelity's samples_shuffle */
    uint32_t seed; /* 2020 */
} gt_is_opts;
gt_is_opts gt_is_default_opts(void);
/* logits: (n, classes) (for Inception-v3: the 1008-way fc without its bias,
 * torch-fidelity's "logits_unbiased"). Needs n >= splits. opts NULL = defaults. */
gt_status gt_metric_is(const float *logits, int64_t n, int64_t classes, const gt_is_opts *opts, double *mean,
                       double *std);

/* --- KID -----------------------------------------------------------------------
 * Unbiased MMD^2 with the polynomial kernel k(x, y) = (gamma x.y + coef0)^degree
 * (defaults: degree 3, gamma 1/dim, coef0 1), averaged over `subsets` random
 * subsets of subset_size rows of each set; mean and population std.
 * The subsets are torch-fidelity's: NumPy RandomState(seed), and for each
 * subset rng.choice(n1, m, replace=False) then rng.choice(n2, m, replace=False)
 * (a full permutation each, first m kept), reproduced bit for bit here; so
 * with the same seed and the same (input1, input2) order the values equal
 * torch-fidelity's (ours in float64; torch-fidelity's kernel runs in float32). */
typedef struct gt_kid_opts {
    int subsets;         /* 100 */
    int64_t subset_size; /* 1000; 0 = min(1000, n1, n2). Larger than n1 or n2: an error */
    uint32_t seed;       /* 2020 */
    int degree;          /* 3 */
    double gamma;        /* 0 = 1 / dim */
    double coef0;        /* 1 */
} gt_kid_opts;
gt_kid_opts gt_kid_default_opts(void);
gt_status gt_metric_kid(const float *f1, int64_t n1, const float *f2, int64_t n2, int64_t dim,
                        const gt_kid_opts *opts, double *mean, double *std);

/* --- precision / recall, density / coverage ------------------------------------
 * k-NN manifolds. Precision/recall as torch-fidelity's prc (Kynkaanniemi et
 * al. 2019): radius of a point = distance to its k_pr-th nearest neighbour in
 * its own set (the (k+1)-th smallest distance counting itself); a sample is
 * inside a manifold when its distance to some point of the other set is <= that
 * point's radius. precision = fraction of fake inside the real manifold, recall
 * = fraction of real inside the fake manifold, f_score = 2pr / max(1e-5, p + r).
 * Density/coverage as the prdc package (Naeem et al. 2020), with its strict <:
 * density = (1/k_dc) mean over fake of #{real i: d(fake, real_i) < r_i},
 * coverage = fraction of real i with some fake closer than r_i.
 * Distances: a float32 GEMM in blocks (memory O(block^2)) with a rigorous
 * rounding-error bound; every pair whose decision the bound cannot settle is
 * recomputed as an exact float64 sum of squared differences. So results equal
 * comparisons on float64 distances (ties, e.g. duplicate images, included). */
typedef struct gt_prdc_opts {
    int k_pr;      /* 3 (torch-fidelity's prc_neighborhood) */
    int k_dc;      /* 5 (prdc's recommended nearest_k) */
    bool pr, dc;   /* which to compute (both true) */
    int64_t block; /* rows per distance block (0 = 2048) */
} gt_prdc_opts;
typedef struct gt_prdc_result {
    double precision, recall, f_score; /* NAN when not computed */
    double density, coverage;          /* NAN when not computed */
} gt_prdc_result;
gt_prdc_opts gt_prdc_default_opts(void);
gt_status gt_metric_prdc(const float *real, int64_t n_real, const float *fake, int64_t n_fake, int64_t dim,
                         const gt_prdc_opts *opts, gt_prdc_result *out);

/* --- feature extractors --------------------------------------------------------
 * The interface both the Inception-v3 network (gantry/inception.h) and the
 * Fashion-MNIST classifier plug into. An extractor takes a batch of uint8
 * images and writes one feature row (and optionally one logits row) per image;
 * it does its own preprocessing (grayscale -> 3 channels, resizing). */
typedef struct gt_image_batch {
    const uint8_t *data; // (n, c, h, w), values 0..255; c = 1 (grayscale) or 3 (RGB)
    int64_t n;
    int c, h, w;
} gt_image_batch;

typedef struct gt_extractor {
    char name[64];      /* names network + weights + preprocessing, part of cache keys
                           ("inception-v3-compat", "fmnist") */
    int64_t dim;        /* feature dim for FID/KID/PR/DC (2048 for Inception-v3) */
    int64_t logits_dim; /* class logits for IS (1008 for Inception-v3); 0 = none */
    int64_t batch;      /* preferred images per call; 0 = 50 */
    void *ctx;
    /* feats: (b->n, dim); logits: (b->n, logits_dim), or NULL when not wanted.
     * Returns GT_OK or an error status with gt_last_error() set. */
    gt_status (*extract)(void *ctx, const gt_image_batch *b, float *feats, float *logits);
    void (*destroy)(void *ctx); /* frees ctx; may be NULL */
} gt_extractor;

/* Runs the extractor's destroy and clears it. NULL-safe. */
void gt_extractor_free(gt_extractor *ex);

/* --- checks shared by the metrics ------------------------------------------- */
/* GT_ERR_ARG naming `what` and the first bad (row, column) when x (n, dim) holds
 * a NaN or an infinity. */
gt_status gt_features_check_finite(const float *x, int64_t n, int64_t dim, const char *what);

/* --- statistics files and the cache ------------------------------------------
 * .npz with `mu` (dim,) and `sigma` (dim, dim), float64, as pytorch-fid's
 * save_fid_stats / clean-fid write them (np.savez or np.savez_compressed);
 * float32 members are accepted on load and widened. */
gt_status gt_fid_stats_save(const char *path, const gt_fid_stats *s);
gt_status gt_fid_stats_load(const char *path, gt_fid_stats *s);

/* The cache directory: $GANTRY_CACHE, else $XDG_CACHE_HOME/gantry, else
 * ~/.cache/gantry (created on demand). Writes into buf; false if none. */
bool gt_cache_dir(char *buf, size_t n);
/* Path of the cached statistics for (data spec, extractor, resize mode, n):
 * <cache>/stats/<sanitized spec>-<extractor>-<resize>-n<n>.npz. */
gt_status gt_stats_cache_path(const char *spec, const char *extractor, const char *resize, int64_t n, char *buf,
                              size_t len);
/* Loads cached statistics; GT_ERR_IO when there are none (a miss). */
gt_status gt_stats_cache_load(const char *spec, const char *extractor, const char *resize, int64_t n,
                              gt_fid_stats *s);
gt_status gt_stats_cache_store(const char *spec, const char *extractor, const char *resize, int64_t n,
                               const gt_fid_stats *s);

#ifdef __cplusplus
}
#endif
#endif
