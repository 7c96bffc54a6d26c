/* Precision/recall and density/coverage against a NumPy reference with
 * float64 distances: counts equal exactly, including ties (duplicate rows,
 * integer-valued features), blocks smaller than the sets, features whose
 * norms dwarf their distances (the float32 GEMM cannot decide: every pair goes
 * the exact way), fast vs naive, and errors. */
#include "../../src/metrics/metrics_internal.h"
#include "metrics_test_util.h"

typedef enum { F_RELU, F_DUPS, F_INT, F_OFFSET } feat_kind;

typedef struct {
    const char *name;
    int64_t nr, nf, d;
    feat_kind kind;
    int k_pr, k_dc;
    int64_t block;
} prdc_case;

static const prdc_case CASES[] = {
    {"c0", 300, 250, 64, F_RELU, 3, 5, 0},
    {"c1", 200, 180, 16, F_DUPS, 3, 5, 64},
    {"c2", 150, 170, 2048, F_RELU, 3, 5, 64},
    {"c3", 97, 131, 7, F_RELU, 1, 2, 16},
    {"c4", 260, 240, 6, F_INT, 3, 5, 100},
    {"c5", 120, 110, 32, F_OFFSET, 3, 5, 50},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *reals[NCASES], *fakes[NCASES];

static gt_tensor *make_set(const prdc_case *k, uint64_t seed, int64_t n, float scale, float shift) {
    /* real and fake share W: overlapping manifolds, so every predicate has both answers */
    gt_tensor *x = make_features_w(seed, 4242, n, k->d, k->d < 16 ? k->d : 16, scale, shift, k->kind == F_RELU);
    float *p = gt_data(x);
    if (k->kind == F_INT) /* values in {0, 1, 2, 3}: distances are small integers, ties everywhere */
        for (int64_t i = 0; i < n * k->d; i++) p[i] = (float)((int)fabsf(p[i] * 2.0f) % 4);
    if (k->kind == F_OFFSET) /* |x|^2 ~ 32e6, distances ~ 1: no float32 approximation can decide */
        for (int64_t i = 0; i < n * k->d; i++) p[i] = 1000.0f + p[i];
    return x;
}

static void make_inputs(void) {
    int m = gt_scope_begin(); /* temporaries die with it; the inputs are retained */
    for (int c = 0; c < NCASES; c++) {
        const prdc_case *k = &CASES[c];
        reals[c] = gt_retain(make_set(k, 700 + c, k->nr, 1.0f, 0.0f));
        fakes[c] = gt_retain(make_set(k, 800 + c, k->nf, 1.1f, 0.05f));
        if (k->kind == F_DUPS) {
            float *r = gt_data(reals[c]), *f = gt_data(fakes[c]);
            size_t row = (size_t)k->d * sizeof(float);
            for (int64_t i = 1; i < 6; i++) memcpy(r + i * k->d, r, row);       /* 6 copies: radius 0 */
            for (int64_t i = 11; i < 13; i++) memcpy(r + i * k->d, r + 10 * k->d, row); /* 3 copies */
            for (int64_t j = 0; j < 40; j++) memcpy(f + j * k->d, r + (j * 5) * k->d, row); /* fake = real */
            for (int64_t j = 41; j < 46; j++) memcpy(f + j * k->d, f + 40 * k->d, row);     /* fake dups */
        }
    }
    gt_scope_end(m);
}

static gt_prdc_opts opts_for(const prdc_case *k) {
    gt_prdc_opts o = gt_prdc_default_opts();
    o.k_pr = k->k_pr;
    o.k_dc = k->k_dc;
    o.block = k->block;
    return o;
}

static void test_parity(void) {
    const char *names[3 * NCASES];
    gt_tensor *ts[3 * NCASES];
    char buf[3 * NCASES][32];
    for (int c = 0; c < NCASES; c++) {
        const char *suf[3] = {"real", "fake", "k"};
        for (int s = 0; s < 3; s++) {
            snprintf(buf[3 * c + s], 32, "%s.%s", CASES[c].name, suf[s]);
            names[3 * c + s] = buf[3 * c + s];
        }
        ts[3 * c] = reals[c];
        ts[3 * c + 1] = fakes[c];
        ts[3 * c + 2] = gt_from_i32(1, (int64_t[]){2}, (int32_t[]){CASES[c].k_pr, CASES[c].k_dc});
    }
    char in[512];
    snprintf(in, sizeof in, "%s/prdc_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(in, 3 * NCASES, names, ts));
    if (!gt_golden_run("metrics_prdc.py", in)) return;
    for (int c = 0; c < NCASES; c++) {
        const prdc_case *k = &CASES[c];
        gt_prdc_opts o = opts_for(k);
        gt_prdc_result r;
        int64_t ex0 = gt__prdc_exact_pairs();
        CHECK(gt_metric_prdc(gt_data(reals[c]), k->nr, gt_data(fakes[c]), k->nf, k->d, &o, &r) == GT_OK);
        int64_t pairs = k->nr * k->nr + k->nf * k->nf + k->nr * k->nf, exact = gt__prdc_exact_pairs() - ex0;
        char g[64];
        snprintf(g, sizeof g, "%s.counts", k->name);
        gt_tensor *cnt = gt_golden(g);
        if (!cnt) continue;
        const int32_t *w = gt_data_i32(cnt);
        /* our counts from the ratios (exact: count / n is a correctly rounded division) */
        int64_t got[4] = {llround(r.precision * (double)k->nf), llround(r.recall * (double)k->nr),
                          llround(r.density * k->k_dc * (double)k->nf), llround(r.coverage * (double)k->nr)};
        const char *what[4] = {"precision", "recall", "density", "coverage"};
        for (int t = 0; t < 4; t++)
            CHECK_MSG(got[t] == w[t], "%s: %s count %lld, NumPy %d", k->name, what[t], (long long)got[t], w[t]);
        double want_p = (double)w[0] / (double)k->nf, want_r = (double)w[1] / (double)k->nr;
        CHECK(r.precision == want_p && r.recall == want_r);
        CHECK(r.f_score == 2.0 * want_p * want_r / fmax(1e-5, want_p + want_r));
        CHECK(r.density == (1.0 / k->k_dc) * ((double)w[2] / (double)k->nf));
        CHECK(r.coverage == (double)w[3] / (double)k->nr);
        snprintf(g, sizeof g, "%s.values", k->name);
        double v[5] = {r.precision, r.recall, r.f_score, r.density, r.coverage};
        for (int t = 0; t < 5; t++) check_rel(k->name, v[t], gold64(g, t), 1e-12, 1e-12);
        printf("  %s (%lld real, %lld fake, d %lld, k %d/%d): P %.4f R %.4f F %.4f D %.4f C %.4f; %.2f%% of pairs "
               "decided exactly\n", k->name, (long long)k->nr, (long long)k->nf, (long long)k->d, k->k_pr, k->k_dc,
               r.precision, r.recall, r.f_score, r.density, r.coverage, 100.0 * (double)exact / (double)pairs);
        if (k->kind == F_OFFSET) /* the float32 band is far wider than the distances */
            CHECK_MSG(exact > pairs / 2, "%s: only %lld of %lld pairs went the exact way", k->name,
                      (long long)exact, (long long)pairs);
    }
}

static void test_fast_vs_naive(void) {
    for (int c = 0; c < NCASES; c++) {
        const prdc_case *k = &CASES[c];
        if (k->d > 64) continue; /* the naive path is O(n^2 d) float64 */
        gt_prdc_opts o = opts_for(k);
        gt_prdc_result f, n;
        CHECK(gt_metric_prdc(gt_data(reals[c]), k->nr, gt_data(fakes[c]), k->nf, k->d, &o, &f) == GT_OK);
        gt_backend_set(GT_BACKEND_NAIVE);
        CHECK(gt_metric_prdc(gt_data(reals[c]), k->nr, gt_data(fakes[c]), k->nf, k->d, &o, &n) == GT_OK);
        gt_backend_set(GT_BACKEND_CPU);
        CHECK_MSG(f.precision == n.precision && f.recall == n.recall && f.density == n.density &&
                      f.coverage == n.coverage,
                  "%s: fast P %.6f R %.6f D %.6f C %.6f vs naive %.6f %.6f %.6f %.6f", k->name, f.precision,
                  f.recall, f.density, f.coverage, n.precision, n.recall, n.density, n.coverage);
        /* any block size gives the same answer */
        o.block = 7;
        CHECK(gt_metric_prdc(gt_data(reals[c]), k->nr, gt_data(fakes[c]), k->nf, k->d, &o, &n) == GT_OK);
        CHECK(f.precision == n.precision && f.recall == n.recall && f.density == n.density &&
              f.coverage == n.coverage);
    }
}

static void test_options(void) {
    const prdc_case *k = &CASES[0];
    gt_prdc_opts o = gt_prdc_default_opts();
    CHECK(o.k_pr == 3 && o.k_dc == 5 && o.pr && o.dc);
    gt_prdc_result both, pr, dc;
    CHECK(gt_metric_prdc(gt_data(reals[0]), k->nr, gt_data(fakes[0]), k->nf, k->d, NULL, &both) == GT_OK);
    o.dc = false;
    CHECK(gt_metric_prdc(gt_data(reals[0]), k->nr, gt_data(fakes[0]), k->nf, k->d, &o, &pr) == GT_OK);
    CHECK(pr.precision == both.precision && pr.recall == both.recall && isnan(pr.density) && isnan(pr.coverage));
    o.dc = true;
    o.pr = false;
    CHECK(gt_metric_prdc(gt_data(reals[0]), k->nr, gt_data(fakes[0]), k->nf, k->d, &o, &dc) == GT_OK);
    CHECK(dc.density == both.density && dc.coverage == both.coverage && isnan(dc.precision));
    /* identical sets: every sample lies in the other manifold */
    CHECK(gt_metric_prdc(gt_data(reals[0]), k->nr, gt_data(reals[0]), k->nr, k->d, NULL, &both) == GT_OK);
    CHECK(both.precision == 1.0 && both.recall == 1.0 && both.coverage == 1.0);
}

static void test_errors(void) {
    float x[8 * 3] = {0};
    for (int i = 0; i < 24; i++) x[i] = (float)i;
    gt_prdc_result r;
    gt_prdc_opts o = gt_prdc_default_opts();
    CHECK(gt_metric_prdc(x, 3, x, 8, 3, &o, &r) == GT_ERR_ARG && isnan(r.precision));
    CHECK_MSG(has_text(gt_last_error(), "k = 3 needs more than k") && has_text(gt_last_error(), "got 3 real"), "%s",
              gt_last_error());
    o.dc = false;
    CHECK(gt_metric_prdc(x, 8, x, 3, 3, &o, &r) == GT_ERR_ARG);
    CHECK(gt_metric_prdc(x, 4, x, 4, 3, &o, &r) == GT_OK);
    o.dc = true;
    CHECK(gt_metric_prdc(x, 5, x, 8, 3, &o, &r) == GT_ERR_ARG); /* k_dc = 5 needs 6 real */
    CHECK_MSG(has_text(gt_last_error(), "density/coverage"), "%s", gt_last_error());
    o.k_pr = 0;
    CHECK(gt_metric_prdc(x, 8, x, 8, 3, &o, &r) == GT_ERR_ARG);
    o = gt_prdc_default_opts();
    o.pr = o.dc = false;
    CHECK(gt_metric_prdc(x, 8, x, 8, 3, &o, &r) == GT_ERR_ARG);
    x[5] = NAN;
    CHECK(gt_metric_prdc(x, 8, x + 3, 7, 3, NULL, &r) == GT_ERR_ARG);
    CHECK_MSG(has_text(gt_last_error(), "real") && has_text(gt_last_error(), "row 1, column 2"), "%s",
              gt_last_error());
    CHECK(gt_metric_prdc(x, 8, NULL, 7, 3, NULL, &r) == GT_ERR_ARG);
    CHECK(gt_metric_prdc(x, 8, x, 7, 3, NULL, NULL) == GT_ERR_ARG);
}

int main(void) {
    make_inputs();
    RUN(test_parity);
    RUN(test_fast_vs_naive);
    RUN(test_options);
    RUN(test_errors);
    for (int c = 0; c < NCASES; c++) {
        gt_release(reals[c]);
        gt_release(fakes[c]);
    }
    return gt_test_finish();
}
