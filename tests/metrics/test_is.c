/* Inception Score against a NumPy re-implementation of torch-fidelity's isc
 * (shuffle with RandomState(2020), 10 contiguous splits), our MT19937
 * permutation against NumPy's RandomState.permutation, and errors. */
#include "../../src/metrics/metrics_internal.h"
#include "metrics_test_util.h"

typedef struct {
    const char *name;
    int64_t n, classes;
    float scale; /* logit scale: larger = more confident classes */
    gt_is_opts o;
} is_case;

static const is_case CASES[] = {
    {"c0", 1000, 1008, 4.0f, {10, true, 2020}},  /* torch-fidelity's defaults */
    {"c1", 1003, 10, 2.0f, {7, false, 2020}},    /* uneven splits, no shuffle */
    {"c2", 500, 1008, 8.0f, {10, true, 7}},
    {"c3", 64, 5, 0.0f, {4, true, 1}},           /* equal logits: IS exactly 1 */
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])
static const int64_t PERM_N[] = {1, 2, 10, 1000, 70000, 300007};
static const int32_t PERM_SEED[] = {2020, 0, 2020, 123, 4294967, 2020};
#define NPERM (int)(sizeof PERM_N / sizeof PERM_N[0])

static void test_parity(void) {
    const char *names[2 * NCASES + 2];
    gt_tensor *ts[2 * NCASES + 2], *logits[NCASES];
    char buf[2 * NCASES][32];
    for (int c = 0; c < NCASES; c++) {
        logits[c] = gt_test_randn(300 + c, GT_SHAPE(CASES[c].n, CASES[c].classes), CASES[c].scale);
        snprintf(buf[2 * c], 32, "%s.logits", CASES[c].name);
        snprintf(buf[2 * c + 1], 32, "%s.opts", CASES[c].name);
        names[2 * c] = buf[2 * c], names[2 * c + 1] = buf[2 * c + 1];
        ts[2 * c] = logits[c];
        ts[2 * c + 1] = gt_from_i32(1, (int64_t[]){3},
                                    (int32_t[]){CASES[c].o.splits, CASES[c].o.shuffle, (int32_t)CASES[c].o.seed});
    }
    int32_t pn[NPERM];
    for (int i = 0; i < NPERM; i++) pn[i] = (int32_t)PERM_N[i];
    names[2 * NCASES] = "perm.n";
    names[2 * NCASES + 1] = "perm.seed";
    ts[2 * NCASES] = gt_from_i32(1, (int64_t[]){NPERM}, pn);
    ts[2 * NCASES + 1] = gt_from_i32(1, (int64_t[]){NPERM}, PERM_SEED);
    char in[512];
    snprintf(in, sizeof in, "%s/is_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(in, 2 * NCASES + 2, names, ts));
    if (!gt_golden_run("metrics_is.py", in)) return;
    for (int c = 0; c < NCASES; c++) {
        const is_case *k = &CASES[c];
        double mean = NAN, std = NAN;
        char g[64], what[96];
        CHECK(gt_metric_is(gt_data(logits[c]), k->n, k->classes, &k->o, &mean, &std) == GT_OK);
        snprintf(g, sizeof g, "%s.mean", k->name);
        double wm = gold64(g, 0);
        snprintf(g, sizeof g, "%s.std", k->name);
        double ws = gold64(g, 0);
        snprintf(what, sizeof what, "%s (%lld x %lld, %d splits): IS mean", k->name, (long long)k->n,
                 (long long)k->classes, k->o.splits);
        check_rel(what, mean, wm, 1e-6, 0);
        snprintf(what, sizeof what, "%s: IS std", k->name);
        check_rel(what, std, ws, 1e-6, 1e-12 * wm); /* c3: std 0 */
        printf("  %s: IS %.10g +- %.6g (NumPy %.10g +- %.6g)\n", k->name, mean, std, wm, ws);
    }
    for (int i = 0; i < NPERM; i++) {
        int64_t *perm = malloc((size_t)PERM_N[i] * sizeof(int64_t));
        gt__mt19937 mt;
        gt__mt_seed(&mt, (uint32_t)PERM_SEED[i]);
        gt__mt_permutation(&mt, PERM_N[i], perm);
        char g[32];
        snprintf(g, sizeof g, "perm.%d", i);
        gt_tensor *want = gt_golden(g);
        int64_t bad = -1;
        for (int64_t j = 0; want && j < PERM_N[i] && bad < 0; j++)
            if (perm[j] != gt_data_i32(want)[j]) bad = j;
        CHECK_MSG(want && bad < 0, "RandomState(%d).permutation(%lld) differs at %lld", PERM_SEED[i],
                  (long long)PERM_N[i], (long long)bad);
        free(perm);
    }
}

/* Confident, balanced classes give IS = the number of classes. */
static void test_properties(void) {
    int64_t n = 1000, k = 10;
    float *x = calloc((size_t)(n * k), sizeof(float));
    for (int64_t i = 0; i < n; i++) x[i * k + i % k] = 60.0f; /* one-hot-like, balanced */
    double mean, std;
    gt_is_opts o = gt_is_default_opts();
    o.shuffle = false; /* every split of 100 holds each class 10 times */
    CHECK(gt_metric_is(x, n, k, &o, &mean, &std) == GT_OK);
    CHECK_MSG(fabs(mean - 10.0) < 1e-9 && std < 1e-9, "balanced confident classes: IS %.12g +- %.3g, expected 10",
              mean, std);
    CHECK(gt_metric_is(x, n, k, NULL, &mean, &std) == GT_OK); /* NULL opts = defaults: shuffled splits */
    CHECK_MSG(mean > 9.0 && mean < 10.0, "shuffled: IS %.6g, expected a little below 10", mean);
    free(x);
}

static void test_errors(void) {
    float x[20 * 4] = {0};
    double m, s;
    CHECK(gt_metric_is(x, 5, 4, NULL, &m, &s) == GT_ERR_ARG && isnan(m));
    CHECK_MSG(has_text(gt_last_error(), "10 splits need at least 10 samples, got 5"), "%s", gt_last_error());
    gt_is_opts o = {0, false, 0};
    CHECK(gt_metric_is(x, 20, 4, &o, &m, &s) == GT_ERR_ARG);
    CHECK(gt_metric_is(x, 20, 1, NULL, &m, &s) == GT_ERR_ARG);
    CHECK_MSG(has_text(gt_last_error(), "at least 2 classes"), "%s", gt_last_error());
    x[13] = -INFINITY;
    CHECK(gt_metric_is(x, 20, 4, NULL, &m, &s) == GT_ERR_ARG);
    CHECK_MSG(has_text(gt_last_error(), "non-finite") && has_text(gt_last_error(), "row 3, column 1"), "%s",
              gt_last_error());
    CHECK(gt_metric_is(NULL, 20, 4, NULL, &m, &s) == GT_ERR_ARG);
    CHECK(gt_metric_is(x, 20, 4, NULL, NULL, &s) == GT_ERR_ARG);
}

int main(void) {
    RUN(test_parity);
    RUN(test_properties);
    RUN(test_errors);
    return gt_test_finish();
}
