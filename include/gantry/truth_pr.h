/* gantry/truth_pr.h - precision and recall where the truth is known (src/metrics/truth_pr.c).
 *
 * A known distribution: a mixture of K isotropic 2-D gaussians (centres mu_j, one sigma, weights
 * w_j). Two are built in, the standard mode-collapse benchmarks in GAN Lab's [0,1]^2 plane:
 *   ring8   8 modes on a circle of radius 0.35 around (0.5, 0.5), sigma 0.02, weights 1/8
 *           (neighbouring centres 0.268 = 13.4 sigma apart);
 *   grid25  a 5 x 5 grid, centres {0.1, 0.3, 0.5, 0.7, 0.9}^2, sigma 0.02, weights 1/25
 *           (10 sigma apart; the outer centres 5 sigma from the plane's edge).
 * Both are exactly GAN Lab's "drawn" data with the centres as the drawn points (each sample: a
 * drawn point chosen uniformly plus N(0, 0.02^2) per coordinate; see src/lab/lab_data.c), so the
 * lab trains on the very distribution the exact numbers refer to (gt_truth_lab_config). The lab
 * redraws samples that fall outside [0,1]^2: for grid25 that is 3e-7 of a mode's mass per edge it
 * touches (ring8: under 1e-12), ignored below.
 *
 * Exact precision and recall of a generated sample set X (n points), computed from the known
 * parameters, no k-NN (the definitions of the 2-D mode-collapse literature: "high-quality" samples
 * within 3 standard deviations of a mode and "modes covered", VEEGAN (Srivastava et al. 2017),
 * Unrolled GAN (Metz et al. 2017), PacGAN (Lin et al. 2018)):
 *   support S    = the union of the disks D_j = {x : |x - mu_j| <= r sigma}, r = opts.radius (3).
 *                  The disks must not overlap (centres more than 2 r sigma apart). A 2-D gaussian
 *                  puts 1 - exp(-r^2 / 2) of its mass in its disk (0.98889 at r = 3, not the 1-D
 *                  0.9973): that is the true distribution's own precision, reported as
 *                  support_mass.
 *   precision    = #{x in X : x in S} / n: the generated mass inside the true support.
 *   c_j          = #{x in X : x in D_j}.
 *   covered j    <=> c_j >= tau w_j n (tau = opts.tau, 0.2: PacGAN's "a mode with fewer than 20 of
 *                  its expected 100 samples is lost", as a fraction so it does not depend on n).
 *   recall       = sum of w_j over the covered modes: the true distribution's mass in the modes
 *                  the generator reaches (1 for the truth's own samples, 1/8 for a generator
 *                  collapsed onto one mode of ring8).
 *   mass_matched = sum_j min(w_j, c_j / (n support_mass)): a graded recall, the mass the generator
 *                  puts on each mode (in-disk counts, scaled by the truth's own in-disk fraction)
 *                  capped by what the mode should get; 1 - mass_matched is the total-variation
 *                  distance between the mode weights and the generator's, over the modes. It
 *                  tells a balanced cover from a lopsided one that recall calls complete.
 * These are exact for the sample set (sampling error only from X's finite size: the standard
 * error of a proportion, sqrt(p (1 - p) / n)).
 *
 * Beside them, the k-NN estimates of gantry/metrics.h (gt_metric_prdc, Kynkaanniemi et al. 2019;
 * density / coverage, Naeem et al. 2020) on a real sample drawn from the mixture against X, for
 * k = 3 and k = 5 (gt_truth_evaluate). */
#ifndef GANTRY_TRUTH_PR_H
#define GANTRY_TRUTH_PR_H

#include <stdint.h>

#include "base.h"
#include "lab.h"
#include "metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_TRUTH_MAX_MODES 64

typedef enum { GT_TRUTH_RING8, GT_TRUTH_GRID25, GT_TRUTH_DIST_COUNT } gt_truth_dist;

typedef struct {
    char name[32];
    int k;                              /* modes, 1..GT_TRUTH_MAX_MODES */
    double mu[GT_TRUTH_MAX_MODES][2];   /* centres */
    double w[GT_TRUTH_MAX_MODES];       /* weights, > 0, summing to 1 */
    double sigma;                       /* every mode's standard deviation per coordinate, > 0 */
} gt_truth_mixture;

const char *gt_truth_dist_name(gt_truth_dist d); /* "ring8", "grid25" */
int gt_truth_dist_parse(const char *s);          /* -1 when unknown */
/* The built-in mixture d (above). GT_ERR_ARG for an unknown d. */
gt_status gt_truth_mixture_get(gt_truth_dist d, gt_truth_mixture *m);
/* k in range, finite centres, weights > 0 summing to 1 (within 1e-9), sigma > 0, and no two disks
 * of radius `radius` sigma overlapping. GT_ERR_ARG naming what is wrong. */
gt_status gt_truth_mixture_check(const gt_truth_mixture *m, double radius);
/* n samples (n, 2) of the mixture from seed: mode j chosen with probability w_j, then
 * mu_j + sigma N(0, I) (float64 arithmetic, rounded to float). Deterministic in (m, seed, n). */
gt_status gt_truth_sample(const gt_truth_mixture *m, uint64_t seed, int64_t n, float *out);

typedef struct {
    double radius; /* disk radius in sigmas (3) */
    double tau;    /* a mode is covered with at least tau of its expected samples in its disk (0.2) */
} gt_truth_opts;
gt_truth_opts gt_truth_default_opts(void);

typedef struct {
    int64_t n;
    int k;
    double precision, recall, mass_matched;
    int modes_covered;
    double support_mass;                 /* 1 - exp(-radius^2 / 2): the truth's own precision */
    int64_t count[GT_TRUTH_MAX_MODES];   /* c_j */
    int64_t outside;                     /* points in no disk (n - sum c_j) */
} gt_truth_exact;

/* The exact numbers of x (n, 2), n >= 1, finite. opts NULL = defaults (radius in (0, 10],
 * tau in (0, 1]). */
gt_status gt_truth_exact_pr(const gt_truth_mixture *m, const float *x, int64_t n, const gt_truth_opts *opts,
                            gt_truth_exact *out);

/* Exact and estimated side by side. */
#define GT_TRUTH_NK 2
typedef struct {
    gt_truth_exact exact;
    int k[GT_TRUTH_NK];                 /* 3, 5 */
    gt_prdc_result knn[GT_TRUTH_NK];    /* gt_metric_prdc with k_pr = k_dc = k[i] */
} gt_truth_report;
/* The exact numbers of fake (n_fake, 2) and the k-NN ones of real (n_real, 2: a sample of m, e.g.
 * from gt_truth_sample) against it. Both n > 5 (the largest k + 1). */
gt_status gt_truth_evaluate(const gt_truth_mixture *m, const float *real, int64_t n_real, const float *fake,
                            int64_t n_fake, const gt_truth_opts *opts, gt_truth_report *out);

/* --- the lab: GAN Lab's 2-D GANs on a known mixture ------------------------------------------------
 * c's data set to GT_LAB_DRAWN with m's centres as the drawn points (everything else kept). The lab's
 * drawn data is the mixture only when sigma is 0.02 and the weights are equal: GT_ERR_ARG otherwise,
 * and for centres outside [0,1]^2. */
gt_status gt_truth_lab_config(const gt_truth_mixture *m, gt_lab_config *c);
/* n samples (n, 2) of the lab's current generator: G on n noise vectors drawn from the lab's noise
 * distribution with seed (the same seed gives the same noise, so successive calls during training
 * move only with G's weights). */
gt_status gt_truth_lab_sample(gt_lab *L, uint64_t seed, int64_t n, float *out);

#ifdef __cplusplus
}
#endif
#endif
