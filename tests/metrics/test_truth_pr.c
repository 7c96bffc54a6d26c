/* Precision and recall where the truth is known (gantry/truth_pr.h): the exact numbers on sets whose
 * answer is known by construction (the truth's own samples, a generator collapsed onto one mode,
 * points far away, hand-placed counts at the tau boundary), the k-NN estimates beside them within
 * stated tolerances, their known biases (outliers inflate k-NN recall; a too-narrow generator
 * deflates it), the lab's drawn data being the mixture, and bad input. */
#include <math.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "gantry/truth_pr.h"

#define N 4000

static float real_ring[2 * N], real_grid[2 * N], fake[2 * N];
static gt_truth_mixture ring, grid;

/* 4 standard errors of a proportion p on n points (plus float slack). */
static double tol(double p, int64_t n) { return 4.0 * sqrt(p * (1.0 - p) / (double)n) + 1e-9; }

static void report(const char *what, const gt_truth_report *r) {
    fprintf(stderr, "  %-28s exact P %.4f R %.4f modes %d/%d matched %.4f | k3 P %.4f R %.4f | k5 P %.4f R %.4f"
                    " | dens %.4f cov %.4f\n",
            what, r->exact.precision, r->exact.recall, r->exact.modes_covered, r->exact.k, r->exact.mass_matched,
            r->knn[0].precision, r->knn[0].recall, r->knn[1].precision, r->knn[1].recall, r->knn[1].density,
            r->knn[1].coverage);
}

static void test_mixtures(void) {
    CHECK(gt_truth_dist_parse("ring8") == GT_TRUTH_RING8 && gt_truth_dist_parse("grid25") == GT_TRUTH_GRID25);
    CHECK(gt_truth_dist_parse("ring") == -1 && gt_truth_dist_parse(NULL) == -1);
    CHECK(strcmp(gt_truth_dist_name(GT_TRUTH_GRID25), "grid25") == 0);
    CHECK(ring.k == 8 && grid.k == 25 && ring.sigma == 0.02 && grid.sigma == 0.02);
    CHECK(fabs(ring.mu[2][0] - 0.5) < 1e-12 && fabs(ring.mu[2][1] - 0.85) < 1e-12);
    CHECK(fabs(grid.mu[24][0] - 0.9) < 1e-12 && fabs(grid.mu[7][1] - 0.3) < 1e-12);
    CHECK(gt_truth_mixture_check(&ring, 3) == GT_OK && gt_truth_mixture_check(&grid, 3) == GT_OK);
    /* the sampler: mean and spread of each mode's points, each mode's share */
    int64_t cnt[8] = {0};
    double s2 = 0;
    for (int i = 0; i < N; i++) {
        double best = 1e9;
        int bj = 0;
        for (int j = 0; j < 8; j++) {
            double dx = real_ring[2 * i] - ring.mu[j][0], dy = real_ring[2 * i + 1] - ring.mu[j][1];
            if (dx * dx + dy * dy < best) best = dx * dx + dy * dy, bj = j;
        }
        cnt[bj]++;
        s2 += best;
    }
    double sd = sqrt(s2 / (2.0 * N)); /* per coordinate */
    CHECK_MSG(fabs(sd - 0.02) < 0.02 * 0.05, "sampled sigma %g", sd);
    for (int j = 0; j < 8; j++)
        CHECK_MSG(fabs(cnt[j] / (double)N - 0.125) < tol(0.125, N), "mode %d: %lld", j, (long long)cnt[j]);
    float again[16];
    gt_truth_sample(&ring, 11, 8, again);
    CHECK(memcmp(again, real_ring, sizeof again) == 0); /* deterministic in the seed */
}

static void test_truth_itself(void) {
    const double sm = 1.0 - exp(-4.5);
    gt_truth_report r;
    gt_truth_sample(&ring, 12, N, fake);
    CHECK(gt_truth_evaluate(&ring, real_ring, N, fake, N, NULL, &r) == GT_OK);
    report("ring8 truth", &r);
    CHECK(fabs(r.exact.support_mass - sm) < 1e-15);
    CHECK_MSG(fabs(r.exact.precision - sm) < tol(sm, N), "precision %g, want %g", r.exact.precision, sm);
    CHECK(r.exact.recall == 1.0 && r.exact.modes_covered == 8);
    CHECK_MSG(r.exact.mass_matched > 0.97, "mass matched %g", r.exact.mass_matched);
    /* k-NN on two samples of one distribution: within 0.06 of the exact values (measured 0.95-0.99) */
    for (int i = 0; i < GT_TRUTH_NK; i++) {
        CHECK_MSG(fabs(r.knn[i].precision - r.exact.precision) < 0.06, "k=%d P %g", r.k[i], r.knn[i].precision);
        CHECK_MSG(fabs(r.knn[i].recall - r.exact.recall) < 0.06, "k=%d R %g", r.k[i], r.knn[i].recall);
        /* coverage of a sample against its own distribution: 1 - 2^-k in expectation (Naeem et al.
         * 2020): 0.875 at k = 3, 0.969 at k = 5 */
        double want = 1.0 - ldexp(1.0, -r.k[i]);
        CHECK_MSG(fabs(r.knn[i].coverage - want) < 0.03, "k=%d coverage %g, want %g", r.k[i], r.knn[i].coverage, want);
    }
    gt_truth_sample(&grid, 13, N, fake);
    CHECK(gt_truth_evaluate(&grid, real_grid, N, fake, N, NULL, &r) == GT_OK);
    report("grid25 truth", &r);
    CHECK_MSG(fabs(r.exact.precision - sm) < tol(sm, N), "precision %g, want %g", r.exact.precision, sm);
    CHECK(r.exact.recall > 1.0 - 1e-12 && r.exact.modes_covered == 25);
    for (int i = 0; i < GT_TRUTH_NK; i++) {
        CHECK_MSG(fabs(r.knn[i].precision - r.exact.precision) < 0.06, "k=%d P %g", r.k[i], r.knn[i].precision);
        CHECK_MSG(fabs(r.knn[i].recall - r.exact.recall) < 0.06, "k=%d R %g", r.k[i], r.knn[i].recall);
    }
    /* a larger radius holds more of the truth */
    gt_truth_opts o = {.radius = 4.0, .tau = 0.2};
    gt_truth_exact e;
    CHECK(gt_truth_exact_pr(&grid, fake, N, &o, &e) == GT_OK);
    CHECK_MSG(fabs(e.precision - (1.0 - exp(-8.0))) < tol(1.0 - exp(-8.0), N) + 1e-3, "r = 4: %g", e.precision);
}

/* A generator collapsed onto mode m of the ring: the mode's own gaussian, spread * sigma. */
static void collapsed(int mode, double spread, int64_t n, uint64_t seed, float *out) {
    gt_truth_mixture one = ring;
    one.k = 1;
    one.mu[0][0] = ring.mu[mode][0];
    one.mu[0][1] = ring.mu[mode][1];
    one.w[0] = 1.0;
    one.sigma = ring.sigma * spread;
    gt_truth_sample(&one, seed, n, out);
}

static void test_collapse(void) {
    const double sm = 1.0 - exp(-4.5);
    gt_truth_report r;
    collapsed(3, 1.0, N, 21, fake);
    CHECK(gt_truth_evaluate(&ring, real_ring, N, fake, N, NULL, &r) == GT_OK);
    report("ring8 collapsed on 1 mode", &r);
    CHECK_MSG(fabs(r.exact.precision - sm) < tol(sm, N), "precision %g", r.exact.precision);
    CHECK(r.exact.recall == 0.125 && r.exact.modes_covered == 1 && r.exact.count[3] == N - r.exact.outside);
    CHECK(fabs(r.exact.mass_matched - 0.125) < 1e-12);
    /* k-NN: precision near the exact one, recall near 1/8 (the collapsed mode's share), within 0.03 */
    for (int i = 0; i < GT_TRUTH_NK; i++) {
        CHECK_MSG(fabs(r.knn[i].precision - r.exact.precision) < 0.06, "k=%d P %g", r.k[i], r.knn[i].precision);
        CHECK_MSG(fabs(r.knn[i].recall - 0.125) < 0.03, "k=%d R %g", r.k[i], r.knn[i].recall);
        CHECK_MSG(fabs(r.knn[i].coverage - 0.125) < 0.03, "k=%d coverage %g", r.k[i], r.knn[i].coverage);
    }

    /* the known bias: 2% of outliers spread over the plane make the fakes' k-NN balls huge, and
     * k-NN recall jumps far above the exact 1/8 (Kynkaanniemi et al. and Naeem et al. note it);
     * the exact numbers barely move, coverage (real-centred balls) stays near 1/8 */
    int64_t no = N / 50;
    gt_rng g;
    gt_rng_init(&g, 5);
    gt_rng_uniform(&g, fake + 2 * (N - no), 2 * no, 0.0f, 1.0f);
    CHECK(gt_truth_evaluate(&ring, real_ring, N, fake, N, NULL, &r) == GT_OK);
    report("collapsed + 2% outliers", &r);
    CHECK(r.exact.recall == 0.125);
    CHECK_MSG(r.exact.precision > 0.96 && r.exact.precision < sm, "precision %g", r.exact.precision);
    CHECK_MSG(r.knn[0].recall > 0.5 && r.knn[1].recall > 0.5, "k-NN recall with outliers: %g %g (want > 0.5)",
              r.knn[0].recall, r.knn[1].recall);
    CHECK_MSG(r.knn[1].coverage < 0.2, "coverage with outliers %g", r.knn[1].coverage);

    /* the other bias: every mode covered but each 5x too narrow (a "truncated" generator): exact
     * precision 1 and recall 1 by mode, k-NN recall far below (the fakes' balls are small) */
    for (int j = 0; j < 8; j++) collapsed(j, 0.2, N / 8, 30 + j, fake + 2 * j * (N / 8));
    CHECK(gt_truth_evaluate(&ring, real_ring, N, fake, N, NULL, &r) == GT_OK);
    report("8 modes, 0.2 sigma", &r);
    CHECK(r.exact.precision == 1.0 && r.exact.recall == 1.0);
    CHECK_MSG(r.knn[0].recall < 0.6 && r.knn[1].recall < 0.7, "k-NN recall of a narrow generator %g %g",
              r.knn[0].recall, r.knn[1].recall);
    CHECK_MSG(r.knn[0].precision > 0.95, "k-NN precision of a narrow generator %g", r.knn[0].precision);
}

static void test_far_away(void) {
    gt_truth_report r;
    gt_rng g;
    gt_rng_init(&g, 9);
    gt_rng_normal(&g, fake, 2 * N, 3.0f, 0.05f); /* around (3, 3), far off the plane */
    CHECK(gt_truth_evaluate(&ring, real_ring, N, fake, N, NULL, &r) == GT_OK);
    report("far away", &r);
    CHECK(r.exact.precision == 0.0 && r.exact.recall == 0.0 && r.exact.modes_covered == 0);
    CHECK(r.exact.mass_matched == 0.0 && r.exact.outside == N);
    for (int i = 0; i < GT_TRUTH_NK; i++)
        CHECK_MSG(r.knn[i].precision == 0.0 && r.knn[i].recall == 0.0 && r.knn[i].coverage == 0.0, "k=%d %g %g",
                  r.k[i], r.knn[i].precision, r.knn[i].recall);
}

/* Hand-placed points: every number known exactly, the tau boundary included. */
static void test_exact_by_hand(void) {
    const double sm = 1.0 - exp(-4.5);
    enum { M = 80 };
    float x[2 * M];
    int k = 0;
    for (int i = 0; i < 10; i++, k++) x[2 * k] = (float)ring.mu[0][0], x[2 * k + 1] = (float)ring.mu[0][1];
    for (int i = 0; i < 2; i++, k++) /* 2 = tau * w * n exactly: covered (>=) */
        x[2 * k] = (float)(ring.mu[1][0] + 2.9 * 0.02), x[2 * k + 1] = (float)ring.mu[1][1];
    x[2 * k] = (float)ring.mu[2][0], x[2 * k + 1] = (float)(ring.mu[2][1] - 0.05), k++; /* 1 of 10: not */
    x[2 * k] = (float)(ring.mu[3][0] + 3.1 * 0.02), x[2 * k + 1] = (float)ring.mu[3][1], k++; /* just outside */
    for (; k < M; k++) x[2 * k] = 0.5f, x[2 * k + 1] = 0.5f;                           /* the ring's centre */
    gt_truth_exact e;
    CHECK(gt_truth_exact_pr(&ring, x, M, NULL, &e) == GT_OK);
    CHECK(e.count[0] == 10 && e.count[1] == 2 && e.count[2] == 1 && e.count[3] == 0 && e.outside == M - 13);
    CHECK(fabs(e.precision - 13.0 / M) < 1e-15);
    CHECK(e.modes_covered == 2 && fabs(e.recall - 0.25) < 1e-15);
    double mm = 0.125 + 2.0 / (M * sm) + 1.0 / (M * sm);
    CHECK_MSG(fabs(e.mass_matched - mm) < 1e-12, "mass matched %.15g, want %.15g", e.mass_matched, mm);
    gt_truth_opts o = {.radius = 3.0, .tau = 0.25}; /* 2 < 0.25 * 10: mode 1 no longer covered */
    CHECK(gt_truth_exact_pr(&ring, x, M, &o, &e) == GT_OK && e.modes_covered == 1 && e.recall == 0.125);
    o.radius = 3.2; /* the point at 3.1 sigma comes in */
    CHECK(gt_truth_exact_pr(&ring, x, M, &o, &e) == GT_OK && e.count[3] == 1);
}

static void test_lab(void) {
    gt_lab_config c = gt_lab_config_default();
    CHECK(gt_truth_lab_config(&ring, &c) == GT_OK);
    CHECK(c.data == GT_LAB_DRAWN && c.n_drawn == 8 && fabs(c.drawn[4][0] - 0.15f) < 1e-6);
    c.batch = 1024;
    gt_lab *L = NULL;
    CHECK(gt_lab_new(&L, &c) == GT_OK);
    if (!L) return;
    /* the lab's real data is the mixture: its points' exact precision and recall are the truth's */
    static gt_lab_frame f;
    CHECK(gt_lab_frame_get(L, &f) == GT_OK);
    gt_truth_exact e;
    const double sm = 1.0 - exp(-4.5);
    CHECK(gt_truth_exact_pr(&ring, &f.real[0][0], f.n, NULL, &e) == GT_OK);
    CHECK_MSG(fabs(e.precision - sm) < tol(sm, f.n), "the lab's reals: precision %g", e.precision);
    CHECK(e.recall == 1.0);
    /* G's samples: deterministic in the seed, finite, moving with training */
    static float a[2 * 512], b[2 * 512];
    CHECK(gt_truth_lab_sample(L, 7, 512, a) == GT_OK && gt_truth_lab_sample(L, 7, 512, b) == GT_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(gt_features_check_finite(a, 512, 2, "G") == GT_OK);
    CHECK(gt_lab_epochs(L, 20, GT_LAB_BOTH) == GT_OK);
    CHECK(gt_truth_lab_sample(L, 7, 512, b) == GT_OK && memcmp(a, b, sizeof a) != 0);
    gt_truth_report r;
    CHECK(gt_truth_evaluate(&ring, real_ring, 512, b, 512, NULL, &r) == GT_OK);
    CHECK(r.exact.precision >= 0 && r.exact.precision <= 1 && isfinite(r.knn[1].density));
    gt_lab_free(L);
    /* the lab's brush has sigma 0.02 and equal weights: another mixture is refused */
    gt_truth_mixture other = ring;
    other.sigma = 0.03;
    CHECK(gt_truth_lab_config(&other, &c) == GT_ERR_ARG);
    other = ring;
    other.w[0] = 0.2, other.w[1] = 0.05;
    CHECK(gt_truth_lab_config(&other, &c) == GT_ERR_ARG);
}

static void test_errors(void) {
    gt_truth_exact e;
    gt_truth_report r;
    gt_truth_mixture m;
    CHECK(gt_truth_mixture_get((gt_truth_dist)7, &m) == GT_ERR_ARG);
    gt_truth_opts o = {.radius = 7.0, .tau = 0.2}; /* ring8's centres are 13.4 sigma apart */
    CHECK(gt_truth_exact_pr(&ring, real_ring, 10, &o, &e) == GT_ERR_ARG);
    CHECK_MSG(strstr(gt_last_error(), "overlap") != NULL, "%s", gt_last_error());
    o = (gt_truth_opts){.radius = 3.0, .tau = 0.0};
    CHECK(gt_truth_exact_pr(&ring, real_ring, 10, &o, &e) == GT_ERR_ARG);
    o.tau = 1.5;
    CHECK(gt_truth_exact_pr(&ring, real_ring, 10, &o, &e) == GT_ERR_ARG);
    CHECK(gt_truth_exact_pr(&ring, real_ring, 0, NULL, &e) == GT_ERR_ARG);
    float bad[12] = {0.1f, 0.2f, NAN, 0.3f};
    CHECK(gt_truth_exact_pr(&ring, bad, 6, NULL, &e) == GT_ERR_ARG);
    CHECK(gt_truth_evaluate(&ring, real_ring, 5, fake, 100, NULL, &r) == GT_ERR_ARG);
    CHECK(gt_truth_evaluate(&ring, real_ring, 100, fake, 5, NULL, &r) == GT_ERR_ARG);
    CHECK(gt_truth_evaluate(&ring, real_ring, 6, real_ring, 6, NULL, &r) == GT_OK);
    m = ring;
    m.w[0] = 0.5;
    CHECK(gt_truth_mixture_check(&m, 3) == GT_ERR_ARG);
    m = ring;
    m.sigma = 0;
    CHECK(gt_truth_mixture_check(&m, 3) == GT_ERR_ARG);
    m.k = 0;
    CHECK(gt_truth_mixture_check(&m, 3) == GT_ERR_ARG);
}

int main(void) {
    gt_truth_mixture_get(GT_TRUTH_RING8, &ring);
    gt_truth_mixture_get(GT_TRUTH_GRID25, &grid);
    gt_truth_sample(&ring, 11, N, real_ring);
    gt_truth_sample(&grid, 14, N, real_grid);
    RUN(test_mixtures);
    RUN(test_truth_itself);
    RUN(test_collapse);
    RUN(test_far_away);
    RUN(test_exact_by_hand);
    RUN(test_lab);
    RUN(test_errors);
    return gt_test_finish();
}
