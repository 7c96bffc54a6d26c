/* KID against a NumPy re-implementation of torch-fidelity's (the same
 * RandomState subsets, float64 kernel), fast (dsyrk/dgemm) vs naive loops,
 * the default subset size, and errors. */
#include "metrics_test_util.h"

typedef struct {
    const char *name;
    int64_t n1, n2, d, k;
    float shift2;     /* second set: scale 1 + shift2, shift shift2 */
    gt_kid_opts o;    /* subset_size 0 = min(1000, n) */
} kid_case;

static const kid_case CASES[] = {
    {"c0", 300, 250, 64, 32, 0.3f, {20, 100, 2020, 3, 0.0, 1.0}},
    {"c1", 120, 130, 2048, 128, 0.2f, {5, 0, 7, 3, 0.0, 1.0}},     /* m = min(1000, n) = 120 */
    {"c2", 400, 400, 32, 32, 0.0f, {50, 200, 2020, 3, 0.0, 1.0}},  /* same distribution: KID ~ 0 */
    {"c3", 200, 150, 16, 16, 0.5f, {10, 150, 99, 2, 0.5, 0.3}},    /* another kernel */
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *xs1[NCASES], *xs2[NCASES];

static void make_inputs(void) {
    int m = gt_scope_begin(); /* temporaries die with it; the inputs are retained */
    for (int c = 0; c < NCASES; c++) {
        const kid_case *k = &CASES[c];
        xs1[c] = gt_retain(make_features(400 + c, k->n1, k->d, k->k, 1.0f, 0.0f, true));
        /* c2: the second set from the same distribution (same W, other z) */
        xs2[c] = gt_retain(k->shift2 == 0.0f ? make_features_w(777, 1400 + c, k->n2, k->d, k->k, 1.0f, 0.0f, true)
                                             : make_features(500 + c, k->n2, k->d, k->k, 1.0f + k->shift2,
                                                             k->shift2, true));
    }
    gt_scope_end(m);
}

static void test_parity(void) {
    const char *names[4 * NCASES];
    gt_tensor *ts[4 * NCASES];
    char buf[4 * NCASES][32];
    for (int c = 0; c < NCASES; c++) {
        const kid_case *k = &CASES[c];
        const char *suf[4] = {"x1", "x2", "opts", "kern"};
        for (int s = 0; s < 4; s++) {
            snprintf(buf[4 * c + s], 32, "%s.%s", k->name, suf[s]);
            names[4 * c + s] = buf[4 * c + s];
        }
        int64_t m = k->o.subset_size ? k->o.subset_size : (k->n1 < k->n2 ? k->n1 : k->n2); /* both < 1000 */
        ts[4 * c] = xs1[c];
        ts[4 * c + 1] = xs2[c];
        ts[4 * c + 2] = gt_from_i32(1, (int64_t[]){4}, (int32_t[]){k->o.subsets, (int32_t)m, (int32_t)k->o.seed,
                                                                   k->o.degree});
        ts[4 * c + 3] = gt_from_data(1, (int64_t[]){2}, (float[]){(float)k->o.gamma, (float)k->o.coef0});
    }
    char in[512];
    snprintf(in, sizeof in, "%s/kid_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(in, 4 * NCASES, names, ts));
    if (!gt_golden_run("metrics_kid.py", in)) return;
    for (int c = 0; c < NCASES; c++) {
        const kid_case *k = &CASES[c];
        double mean = NAN, std = NAN;
        char g[64], what[128];
        CHECK(gt_metric_kid(gt_data(xs1[c]), k->n1, gt_data(xs2[c]), k->n2, k->d, &k->o, &mean, &std) == GT_OK);
        snprintf(g, sizeof g, "%s.mean", k->name);
        double wm = gold64(g, 0);
        snprintf(g, sizeof g, "%s.std", k->name);
        double ws = gold64(g, 0);
        snprintf(g, sizeof g, "%s.mean32", k->name);
        double w32 = gold64(g, 0);
        snprintf(what, sizeof what, "%s (%lld vs %lld x %lld, %d subsets): KID mean", k->name, (long long)k->n1,
                 (long long)k->n2, (long long)k->d, k->o.subsets);
        check_rel(what, mean, wm, 1e-6, 0);
        snprintf(what, sizeof what, "%s: KID std", k->name);
        check_rel(what, std, ws, 1e-6, 0);
        printf("  %s: KID %.10g +- %.6g (NumPy float64 %.10g +- %.6g; torch-fidelity's float32 kernel %.10g, "
               "rel diff %.2g)\n",
               k->name, mean, std, wm, ws, w32, fabs(w32 - wm) / fabs(wm));
    }
}

static void test_fast_vs_naive(void) {
    const kid_case *k = &CASES[0];
    double mf, sf, mn, sn;
    CHECK(gt_metric_kid(gt_data(xs1[0]), k->n1, gt_data(xs2[0]), k->n2, k->d, &k->o, &mf, &sf) == GT_OK);
    gt_backend_set(GT_BACKEND_NAIVE);
    CHECK(gt_metric_kid(gt_data(xs1[0]), k->n1, gt_data(xs2[0]), k->n2, k->d, &k->o, &mn, &sn) == GT_OK);
    gt_backend_set(GT_BACKEND_CPU);
    check_rel("KID mean: BLAS vs naive", mf, mn, 1e-10, 0);
    check_rel("KID std: BLAS vs naive", sf, sn, 1e-10, 0);
}

static void test_defaults(void) {
    gt_kid_opts o = gt_kid_default_opts();
    CHECK(o.subsets == 100 && o.subset_size == 1000 && o.seed == 2020 && o.degree == 3 && o.coef0 == 1.0);
    /* NULL opts: 100 subsets of 1000 need 1000 samples */
    double m, s;
    const kid_case *k = &CASES[0];
    CHECK(gt_metric_kid(gt_data(xs1[0]), k->n1, gt_data(xs2[0]), k->n2, k->d, NULL, &m, &s) == GT_ERR_ARG);
    CHECK_MSG(has_text(gt_last_error(), "subset size 1000 is larger than the number of samples") &&
                  has_text(gt_last_error(), "first set: 300, second set: 250"),
              "%s", gt_last_error());
    /* subset size 0 = min(1000, n1, n2): every subset is the whole smaller set */
    o.subset_size = 0;
    o.subsets = 3;
    CHECK(gt_metric_kid(gt_data(xs1[0]), 250, gt_data(xs2[0]), 250, k->d, &o, &m, &s) == GT_OK);
    CHECK_MSG(s < 1e-12 * fabs(m), "subsets = the whole sets: std %.3g should be 0 (mean %.6g)", s, m);
}

static void test_errors(void) {
    float x[12 * 4] = {0};
    double m, s;
    gt_kid_opts o = gt_kid_default_opts();
    o.subset_size = 1;
    CHECK(gt_metric_kid(x, 10, x, 10, 4, &o, &m, &s) == GT_ERR_ARG && isnan(m));
    CHECK_MSG(has_text(gt_last_error(), "at least 2"), "%s", gt_last_error());
    o.subset_size = 11;
    CHECK(gt_metric_kid(x, 10, x, 12, 4, &o, &m, &s) == GT_ERR_ARG);
    o.subset_size = 0;
    CHECK(gt_metric_kid(x, 1, x, 10, 4, &o, &m, &s) == GT_ERR_ARG); /* m = 1 */
    o.subset_size = 5;
    o.subsets = 0;
    CHECK(gt_metric_kid(x, 10, x, 10, 4, &o, &m, &s) == GT_ERR_ARG);
    o.subsets = 2;
    o.degree = 0;
    CHECK(gt_metric_kid(x, 10, x, 10, 4, &o, &m, &s) == GT_ERR_ARG);
    o.degree = 3;
    x[22] = NAN;
    CHECK(gt_metric_kid(x, 10, x, 10, 4, &o, &m, &s) == GT_ERR_ARG);
    CHECK_MSG(has_text(gt_last_error(), "first set") && has_text(gt_last_error(), "row 5, column 2"), "%s",
              gt_last_error());
    x[22] = 0;
    CHECK(gt_metric_kid(x, 10, NULL, 10, 4, &o, &m, &s) == GT_ERR_ARG);
    CHECK(gt_metric_kid(x, 10, x, 10, 4, &o, &m, &s) == GT_OK && m == 0.0 && s == 0.0);
}

int main(void) {
    make_inputs();
    RUN(test_parity);
    RUN(test_fast_vs_naive);
    RUN(test_defaults);
    RUN(test_errors);
    for (int c = 0; c < NCASES; c++) {
        gt_release(xs1[c]);
        gt_release(xs2[c]);
    }
    return gt_test_finish();
}
