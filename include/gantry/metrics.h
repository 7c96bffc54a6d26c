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
#include "data.h" /* gt_dataset_opts */

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
/* The same over the ranks of an MPI job (gantry/dist.h; collective: every rank calls it with its own
 * rows, n may be 0 on some): the count, the float64 sums and then the centred float64 cross-products are
 * summed over the ranks, and every rank gets the statistics of all rows together. With one process it
 * is gt_fid_stats_compute, bit for bit. A rank that fails here makes every rank fail. */
gt_status gt_fid_stats_compute_dist(const float *feat, int64_t n, int64_t dim, gt_fid_stats *out);
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
/* FID between two statistics (GT_FID_SQRT_FACTOR). Dims must match. When a
 * statistics' n (samples) is known and n - 1 < dim / 2, only the top n - 1
 * eigenpairs of its covariance are computed (dsyevr; the others are zero by
 * rank): the same value, faster. */
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

/* Built-in extractors by name:
 *   "inception"  the FID Inception-v3 (gantry/inception.h): dim 2048 (pool),
 *                logits_dim 1008 (torch-fidelity's logits_unbiased, for IS);
 *                resized with o->resize (GT_RESIZE_TF1 or GT_RESIZE_CLEAN).
 *                Weights: o->weights, else $GANTRY_INCEPTION, else
 *                <cache dir>/inception-2015-12-05.safetensors; a missing file
 *                gives GT_ERR_IO with where to get and how to convert them.
 *                Its name carries a fingerprint of the weights file
 *                ("inception-v3-compat-1a2b3c4d"), so cached statistics of
 *                other weights are never mixed up.
 *   "pixels"     the raw pixels / 255 in (c, h, w) order, dim c*h*w from
 *                o->c, o->h, o->w; no logits. For tests and toy data.
 *   "fmnist"     the Fashion-MNIST classifier: not built yet (GT_ERR_STATE). */
typedef struct gt_extractor_opts {
    const char *weights; /* inception weights file (NULL: see above) */
    int resize;          /* gt_resize_mode for "inception" (0 = GT_RESIZE_TF1) */
    int c, h, w;         /* image size for "pixels" */
} gt_extractor_opts;
gt_status gt_extractor_open(const char *name, const gt_extractor_opts *o, gt_extractor *out);

/* --- image sources --------------------------------------------------------------
 * Where the images to evaluate come from, as uint8 (n, c, h, w):
 *   fashion-mnist:train | fashion-mnist:test, IDX files, CIFAR-10 folders, or a
 *       folder of PNG / JPEG images: anything gt_dataset_open takes (gantry/data.h),
 *       at the source's own size (a folder: all brought to its first image's size)
 *   FILE.npy / FILE.npz  uint8 images (N, H, W), (N, H, W, C) or (N, C, H, W),
 *       C = 1 or 3 (a 4-d array is (N, C, H, W) when dim 1 is 1 or 3, else
 *       (N, H, W, C)); in a .npz the array "images", else "arr_0", else the only one
 *   a callback (gt_image_source_from_fn): images made on the fly, e.g. by a generator. */
typedef struct gt_image_source gt_image_source;
/* Writes images [start, start + count) into out (count, c, h, w). */
typedef gt_status (*gt_image_fn)(void *ctx, int64_t start, int64_t count, uint8_t *out);

/* Opens spec, keeping at most limit images (0 = all). NULL + error on failure;
 * a statistics .npz (mu, sigma) is refused with a message saying so. */
gt_image_source *gt_image_source_open(const char *spec, int64_t limit);
/* n images of (c, h, w) from fn; free_ctx (may be NULL) runs on ctx at free. */
gt_image_source *gt_image_source_from_fn(const char *name, int64_t n, int c, int h, int w, gt_image_fn fn,
                                         void *ctx, void (*free_ctx)(void *));
const char *gt_image_source_name(const gt_image_source *s);
int64_t gt_image_source_count(const gt_image_source *s);
void gt_image_source_dims(const gt_image_source *s, int *c, int *h, int *w);
gt_status gt_image_source_read(gt_image_source *s, int64_t start, int64_t count, uint8_t *out);
void gt_image_source_free(gt_image_source *s); /* NULL-safe */

/* An evaluation input: a statistics .npz (mu, sigma; *stats filled, *images
 * NULL) or an image source (*images set). Exactly one comes back on GT_OK.
 * Files are told apart by their content. opts (NULL = all images): limit
 * for every kind; offset, flat and skip_bad for datasets and folders. */
gt_status gt_eval_input_open(const char *spec, const gt_dataset_opts *opts, gt_image_source **images,
                             gt_fid_stats *stats);
/* Images a folder source left out (gt_dataset_opts.skip_bad); *first (may be
 * NULL) gets the first of them and why, valid while s is. */
int64_t gt_image_source_skipped(const gt_image_source *s, const char **first);

/* --- feature sets ------------------------------------------------------------- */
typedef struct gt_feature_set {
    int64_t n, dim, logits_dim;
    float *feats;  // (n, dim)
    float *logits; // (n, logits_dim), NULL when not extracted
} gt_feature_set;
/* Called after each batch with the images done so far. */
typedef void (*gt_progress_fn)(int64_t done, int64_t total, void *user);
/* The features (and, with want_logits and an extractor that has them, the
 * logits) of the first n images of src (n <= 0 or more than it has: all),
 * ex->batch images at a time. out is empty on failure. */
gt_status gt_features_extract(const gt_extractor *ex, gt_image_source *src, int64_t n, bool want_logits,
                              gt_progress_fn progress, void *user, gt_feature_set *out);
void gt_feature_set_free(gt_feature_set *fs); /* NULL-safe */
/* The same for images [start, start + n) of src (all must exist). */
gt_status gt_features_extract_range(const gt_extractor *ex, gt_image_source *src, int64_t start, int64_t n,
                                    bool want_logits, gt_progress_fn progress, void *user, gt_feature_set *out);

/* --- sharded over the ranks of an MPI job (gantry/dist.h) ----------------------------
 * Rank r of size takes the contiguous images [*start, *start + *count) of n, made of whole units of
 * `unit` images (the extractor's batch: every image then goes through the extractor in the same batch
 * as in one process; the last unit may be short): the first ranks one unit more than the others, so the
 * ranks' slices in rank order are 0 .. n-1. unit < 1 is 1. */
void gt_shard_range(int64_t n, int64_t unit, int rank, int size, int64_t *start, int64_t *count);
/* Collective: every rank's fs (its slice of n rows, from gt_shard_range with this unit) gathered to root
 * in rank order, which is the single-process order. On root fs then holds all n rows (features, and
 * logits when it had them); on the others it is left as it was. Root needs n x (dim + logits_dim) x 4
 * bytes. */
gt_status gt_feature_set_gather(gt_feature_set *fs, int64_t n, int64_t unit, int root);

/* --- the metrics suite: one list, one parser, one computation ----------------------
 * What `gantry eval --metrics` and `gantry train --eval-metrics` both use. */
enum {
    GT_METRIC_FID = 1, GT_METRIC_KID = 2, GT_METRIC_IS = 4, GT_METRIC_PR = 8, GT_METRIC_DC = 16,
    GT_METRIC_ALL = 31
};
/* "fid,kid,is,pr,dc" (any subset, any order) or "all" -> a GT_METRIC_* mask;
 * GT_ERR_ARG naming the entry it does not know, or for an empty list. */
gt_status gt_metrics_parse(const char *list, unsigned *mask);
typedef struct {
    gt_kid_opts kid;   /* subsets, subset size, seed */
    gt_is_opts is;     /* splits, shuffle, seed */
    gt_prdc_opts prdc; /* k_pr, k_dc (pr / dc come from the mask) */
} gt_metrics_opts;
gt_metrics_opts gt_metrics_default_opts(void);
/* One evaluation's results; NAN where not asked for. */
typedef struct {
    unsigned mask;
    double fid, kid, kid_std, is, is_std;
    double precision, recall, f_score, density, coverage;
} gt_metrics_result;
/* The metrics of mask from what they need: FID the two sets' statistics; KID, PR and DC both
 * feature sets; IS the fake set's logits. KID's first set is the fake one (torch-fidelity's input1).
 * opts NULL = defaults. */
gt_status gt_metrics_compute(unsigned mask, const gt_metrics_opts *opts, const gt_fid_stats *real_stats,
                             const gt_feature_set *real, const gt_fid_stats *fake_stats, const gt_feature_set *fake,
                             gt_metrics_result *r);

/* --- image similarity (src/metrics/similarity.c) --------------------------------------
 * Between two image batches a, b (n, c, h, w) float in [-1, 1] (the generators' range), per image
 * into out[n]:
 * PSNR  10 log10(peak^2 / MSE) with the images mapped to [0, 1] (peak 1); +inf (HUGE_VAL) for
 *       identical images.
 * SSIM  Wang et al. 2004 as skimage's structural_similarity(gaussian_weights=True, sigma=1.5,
 *       use_sample_covariance=False, data_range=1) on [0, 1] images: an 11x11 Gaussian window
 *       (sigma 1.5, truncated at 3.5 sigma), K1 0.01, K2 0.03, valid region only (the window's
 *       half-width cropped at each border), mean over the image and then over the channels.
 *       h, w >= 11. */
gt_status gt_metric_psnr(const float *a, const float *b, int64_t n, int c, int h, int w, double *out);
gt_status gt_metric_ssim(const float *a, const float *b, int64_t n, int c, int h, int w, double *out);

/* --- FID of images made in memory (src/metrics/fid_images.c) --------------------------------
 * Images x (n, c, h, w) float in [-1, 1] (a generator's range) to uint8 as torchvision's save_image
 * does (the conversion `gantry eval` applies to a checkpoint's images). */
void gt_images_to_u8(const float *x, int64_t n, uint8_t *out);
/* FID of x (n >= 2 images) against the first n_real images (0: all) of real_spec (any
 * gt_image_source_open spec: "fashion-mnist:test", ...) with the extractor named (NULL: "fmnist"),
 * the real statistics from (and into) the cache for the Fashion-MNIST splits, as `gantry eval`. */
gt_status gt_fid_images(const char *extractor, const float *x, int64_t n, int c, int h, int w, const char *real_spec,
                        int64_t n_real, double *fid);

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
