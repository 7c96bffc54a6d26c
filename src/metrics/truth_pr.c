/* src/metrics/truth_pr.c - precision and recall where the truth is known: the built-in mixtures,
 * sampling them, the exact numbers of a sample set, the k-NN estimates beside them, and the glue
 * to GAN Lab's experiments (gantry/truth_pr.h has the definitions). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lab/lab_internal.h" /* the lab's noise and G's plain forward */
#include "gantry/truth_pr.h"

#define TRUTH_PI 3.14159265358979323846
#define TRUTH_LAB_SIGMA 0.02 /* the lab's brush: src/lab/lab_data.c */

static const char *const gt__truth_names[GT_TRUTH_DIST_COUNT] = {"ring8", "grid25"};

const char *gt_truth_dist_name(gt_truth_dist d) {
    return (unsigned)d < GT_TRUTH_DIST_COUNT ? gt__truth_names[d] : "?";
}

int gt_truth_dist_parse(const char *s) {
    for (int i = 0; s && i < GT_TRUTH_DIST_COUNT; i++)
        if (strcmp(s, gt__truth_names[i]) == 0) return i;
    return -1;
}

gt_status gt_truth_mixture_get(gt_truth_dist d, gt_truth_mixture *m) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_truth_mixture_get: NULL mixture");
    if ((unsigned)d >= GT_TRUTH_DIST_COUNT)
        return gt_set_error(GT_ERR_ARG, "truth-pr: unknown distribution %d (ring8 or grid25)", (int)d);
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", gt__truth_names[d]);
    m->sigma = TRUTH_LAB_SIGMA;
    if (d == GT_TRUTH_RING8) {
        m->k = 8;
        for (int j = 0; j < 8; j++) {
            double a = 2.0 * TRUTH_PI * j / 8.0;
            m->mu[j][0] = 0.5 + 0.35 * cos(a);
            m->mu[j][1] = 0.5 + 0.35 * sin(a);
        }
    } else {
        m->k = 25;
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 5; c++) {
                m->mu[5 * r + c][0] = 0.1 + 0.2 * c;
                m->mu[5 * r + c][1] = 0.1 + 0.2 * r;
            }
    }
    for (int j = 0; j < m->k; j++) m->w[j] = 1.0 / m->k;
    return GT_OK;
}

gt_status gt_truth_mixture_check(const gt_truth_mixture *m, double radius) {
    if (!m) return gt_set_error(GT_ERR_ARG, "truth-pr: NULL mixture");
    if (m->k < 1 || m->k > GT_TRUTH_MAX_MODES)
        return gt_set_error(GT_ERR_ARG, "truth-pr: a mixture has 1 to %d modes (got %d)", GT_TRUTH_MAX_MODES, m->k);
    if (!isfinite(m->sigma) || !(m->sigma > 0))
        return gt_set_error(GT_ERR_ARG, "truth-pr: sigma must be finite and > 0 (got %g)", m->sigma);
    if (!isfinite(radius) || !(radius > 0) || radius > 10)
        return gt_set_error(GT_ERR_ARG, "truth-pr: the radius must be in (0, 10] sigmas (got %g)", radius);
    double sw = 0;
    for (int j = 0; j < m->k; j++) {
        if (!isfinite(m->mu[j][0]) || !isfinite(m->mu[j][1]))
            return gt_set_error(GT_ERR_ARG, "truth-pr: centre %d is not finite", j);
        if (!isfinite(m->w[j]) || !(m->w[j] > 0))
            return gt_set_error(GT_ERR_ARG, "truth-pr: weight %d must be > 0 (got %g)", j, m->w[j]);
        sw += m->w[j];
    }
    if (fabs(sw - 1.0) > 1e-9) return gt_set_error(GT_ERR_ARG, "truth-pr: the weights sum to %.12g, not 1", sw);
    double lim = 2.0 * radius * m->sigma;
    for (int i = 0; i < m->k; i++)
        for (int j = i + 1; j < m->k; j++) {
            double dx = m->mu[i][0] - m->mu[j][0], dy = m->mu[i][1] - m->mu[j][1];
            if (sqrt(dx * dx + dy * dy) <= lim)
                return gt_set_error(GT_ERR_ARG,
                                    "truth-pr: the disks of modes %d and %d overlap (centres %.4g apart, radius "
                                    "%g sigma = %.4g each)",
                                    i, j, sqrt(dx * dx + dy * dy), radius, radius * m->sigma);
        }
    return GT_OK;
}

static double gt__unif(gt_rng *r) { return (gt_rng_u32(r) >> 8) * (1.0 / 16777216.0); } /* [0, 1) */

static double gt__normal(gt_rng *r) { /* Box-Muller, u and v in (0, 1] */
    double u = 1.0 - gt__unif(r), v = 1.0 - gt__unif(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * TRUTH_PI * v);
}

gt_status gt_truth_sample(const gt_truth_mixture *m, uint64_t seed, int64_t n, float *out) {
    gt_status st = gt_truth_mixture_check(m, 1e-9);
    if (st != GT_OK) return st;
    if (n < 0 || (n > 0 && !out))
        return gt_set_error(GT_ERR_ARG, "gt_truth_sample: bad n %lld or NULL out", (long long)n);
    gt_rng r;
    gt_rng_init(&r, seed);
    for (int64_t i = 0; i < n; i++) {
        double t = gt__unif(&r), acc = 0;
        int j = 0;
        for (; j < m->k - 1; j++) {
            acc += m->w[j];
            if (t < acc) break;
        }
        out[2 * i] = (float)(m->mu[j][0] + m->sigma * gt__normal(&r));
        out[2 * i + 1] = (float)(m->mu[j][1] + m->sigma * gt__normal(&r));
    }
    return GT_OK;
}

gt_truth_opts gt_truth_default_opts(void) { return (gt_truth_opts){.radius = 3.0, .tau = 0.2}; }

gt_status gt_truth_exact_pr(const gt_truth_mixture *m, const float *x, int64_t n, const gt_truth_opts *opts,
                            gt_truth_exact *out) {
    gt_truth_opts o = opts ? *opts : gt_truth_default_opts();
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_truth_exact_pr: NULL out");
    memset(out, 0, sizeof *out);
    if (!isfinite(o.tau) || !(o.tau > 0) || o.tau > 1)
        return gt_set_error(GT_ERR_ARG, "truth-pr: tau must be in (0, 1] (got %g)", o.tau);
    gt_status st = gt_truth_mixture_check(m, o.radius);
    if (st != GT_OK) return st;
    if (n < 1 || !x) return gt_set_error(GT_ERR_ARG, "truth-pr: the sample set is empty (n = %lld)", (long long)n);
    if ((st = gt_features_check_finite(x, n, 2, "generated samples")) != GT_OK) return st;
    double r2 = o.radius * m->sigma * o.radius * m->sigma;
    out->n = n;
    out->k = m->k;
    out->support_mass = -expm1(-0.5 * o.radius * o.radius);
    int64_t inside = 0;
    for (int64_t i = 0; i < n; i++) {
        double px = x[2 * i], py = x[2 * i + 1];
        for (int j = 0; j < m->k; j++) { /* disks are disjoint: at most one holds the point */
            double dx = px - m->mu[j][0], dy = py - m->mu[j][1];
            if (dx * dx + dy * dy <= r2) {
                out->count[j]++;
                inside++;
                break;
            }
        }
    }
    out->outside = n - inside;
    out->precision = (double)inside / (double)n;
    for (int j = 0; j < m->k; j++) {
        if ((double)out->count[j] >= o.tau * m->w[j] * (double)n) {
            out->modes_covered++;
            out->recall += m->w[j];
        }
        double q = (double)out->count[j] / ((double)n * out->support_mass);
        out->mass_matched += q < m->w[j] ? q : m->w[j];
    }
    if (out->recall > 1.0) out->recall = 1.0; /* rounding of the weights' sum */
    if (out->mass_matched > 1.0) out->mass_matched = 1.0;
    return GT_OK;
}

gt_status gt_truth_evaluate(const gt_truth_mixture *m, const float *real, int64_t n_real, const float *fake,
                            int64_t n_fake, const gt_truth_opts *opts, gt_truth_report *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_truth_evaluate: NULL out");
    memset(out, 0, sizeof *out);
    static const int ks[GT_TRUTH_NK] = {3, 5};
    int kmax = ks[GT_TRUTH_NK - 1];
    if (n_real <= kmax || n_fake <= kmax || !real || !fake)
        return gt_set_error(GT_ERR_ARG, "truth-pr: the k-NN estimates need more than %d real and generated points "
                                        "(got %lld real, %lld generated)",
                            kmax, (long long)n_real, (long long)n_fake);
    gt_status st = gt_truth_exact_pr(m, fake, n_fake, opts, &out->exact);
    if (st != GT_OK) return st;
    if ((st = gt_features_check_finite(real, n_real, 2, "real samples")) != GT_OK) return st;
    for (int i = 0; i < GT_TRUTH_NK; i++) {
        gt_prdc_opts po = gt_prdc_default_opts();
        po.k_pr = po.k_dc = ks[i];
        out->k[i] = ks[i];
        if ((st = gt_metric_prdc(real, n_real, fake, n_fake, 2, &po, &out->knn[i])) != GT_OK) return st;
    }
    return GT_OK;
}

gt_status gt_truth_lab_config(const gt_truth_mixture *m, gt_lab_config *c) {
    if (!c) return gt_set_error(GT_ERR_ARG, "gt_truth_lab_config: NULL config");
    gt_status st = gt_truth_mixture_check(m, 1e-9);
    if (st != GT_OK) return st;
    if (m->k > GT_LAB_MAX_DRAWN) return gt_set_error(GT_ERR_ARG, "truth-pr: too many modes for the lab");
    if (fabs(m->sigma - TRUTH_LAB_SIGMA) > 1e-12)
        return gt_set_error(GT_ERR_ARG, "truth-pr: the lab's drawn data has sigma %g (the mixture's is %g)",
                            TRUTH_LAB_SIGMA, m->sigma);
    for (int j = 0; j < m->k; j++) {
        if (fabs(m->w[j] - 1.0 / m->k) > 1e-12)
            return gt_set_error(GT_ERR_ARG, "truth-pr: the lab's drawn data has equal weights (mode %d has %g)", j,
                                m->w[j]);
        for (int a = 0; a < 2; a++)
            if (m->mu[j][a] < 0 || m->mu[j][a] > 1)
                return gt_set_error(GT_ERR_ARG, "truth-pr: centre %d is outside the lab's plane [0,1]^2", j);
    }
    c->data = GT_LAB_DRAWN;
    c->n_drawn = m->k;
    for (int j = 0; j < m->k; j++) {
        c->drawn[j][0] = (float)m->mu[j][0];
        c->drawn[j][1] = (float)m->mu[j][1];
    }
    return GT_OK;
}

gt_status gt_truth_lab_sample(gt_lab *L, uint64_t seed, int64_t n, float *out) {
    if (!L || !out || n < 1) return gt_set_error(GT_ERR_ARG, "gt_truth_lab_sample: NULL lab or out, or n < 1");
    float *z = malloc(sizeof(float) * (size_t)n * (size_t)L->cfg.noise_dim);
    if (!z) return gt_set_error(GT_ERR_OOM, "truth-pr: out of memory for %lld noise vectors", (long long)n);
    gt_rng r;
    gt_rng_init(&r, seed);
    gt__lab_sample_noise(&L->cfg, &r, z, n);
    gt__lab_net_eval(&L->G, z, n, out, true, L->scratch);
    free(z);
    return GT_OK;
}
