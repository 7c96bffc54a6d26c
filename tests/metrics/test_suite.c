/* The metrics suite (gt_metrics_parse / gt_metrics_compute), which `gantry
 * eval` and `gantry train --eval-metrics` share: the parser's names and
 * errors; each metric equal to its own function called as documented (KID
 * with the fake set first, as torch-fidelity's input1), NAN where not asked;
 * missing inputs refused. */
#include "../common/harness.h"

static float *feats(uint64_t seed, int64_t n, int64_t d, float shift) {
    gt_tensor *t = gt_test_randn(seed, GT_SHAPE(n, d), 1.0f); /* the test's scope owns it */
    float *f = malloc((size_t)(n * d) * sizeof(float));
    memcpy(f, gt_data(t), (size_t)(n * d) * sizeof(float));
    for (int64_t i = 0; i < n * d; i++) f[i] += shift;
    return f;
}

static void test_parse(void) {
    unsigned m = 0;
    CHECK(gt_metrics_parse("fid,kid", &m) == GT_OK && m == (GT_METRIC_FID | GT_METRIC_KID));
    CHECK(gt_metrics_parse("dc,pr,is", &m) == GT_OK && m == (GT_METRIC_DC | GT_METRIC_PR | GT_METRIC_IS));
    CHECK(gt_metrics_parse("all", &m) == GT_OK && m == GT_METRIC_ALL);
    CHECK(gt_metrics_parse("fid,fd", &m) == GT_ERR_ARG && strstr(gt_last_error(), "'fd'"));
    CHECK(gt_metrics_parse("", &m) == GT_ERR_ARG);
    CHECK(gt_eval_metrics_parse("kidd", &m) == GT_ERR_ARG && strstr(gt_last_error(), "eval-metrics: ") &&
          strstr(gt_last_error(), "'kidd'"));
}

static void test_compute(void) {
    const int64_t nr = 120, nf = 100, d = 16, classes = 10;
    float *fr = feats(1, nr, d, 0.0f), *ff = feats(2, nf, d, 0.3f), *lg = feats(3, nf, classes, 0.0f);
    gt_feature_set R = {nr, d, 0, fr, NULL}, F = {nf, d, classes, ff, lg};
    gt_fid_stats sr = {0}, sf = {0};
    CHECK(gt_fid_stats_compute(fr, nr, d, &sr) == GT_OK && gt_fid_stats_compute(ff, nf, d, &sf) == GT_OK);
    gt_metrics_opts o = gt_metrics_default_opts();
    o.kid.subset_size = 50, o.kid.subsets = 7, o.is.splits = 5, o.prdc.k_pr = 4, o.prdc.k_dc = 3;
    gt_metrics_result r;
    CHECK(gt_metrics_compute(GT_METRIC_ALL, &o, &sr, &R, &sf, &F, &r) == GT_OK && r.mask == GT_METRIC_ALL);
    double fid, km, ks, im, is;
    CHECK(gt_metric_fid(&sr, &sf, &fid) == GT_OK && fid == r.fid);
    CHECK(gt_metric_kid(ff, nf, fr, nr, d, &o.kid, &km, &ks) == GT_OK && km == r.kid && ks == r.kid_std);
    CHECK(gt_metric_is(lg, nf, classes, &o.is, &im, &is) == GT_OK && im == r.is && is == r.is_std);
    gt_prdc_result p;
    gt_prdc_opts po = o.prdc;
    CHECK(gt_metric_prdc(fr, nr, ff, nf, d, &po, &p) == GT_OK && p.precision == r.precision &&
          p.recall == r.recall && p.f_score == r.f_score && p.density == r.density && p.coverage == r.coverage);
    /* only what was asked; FID from statistics alone (no features needed) */
    CHECK(gt_metrics_compute(GT_METRIC_FID, NULL, &sr, NULL, &sf, NULL, &r) == GT_OK && r.fid == fid &&
          isnan(r.kid) && isnan(r.is) && isnan(r.precision) && isnan(r.coverage));
    CHECK(gt_metrics_compute(GT_METRIC_KID, NULL, &sr, NULL, &sf, NULL, &r) == GT_ERR_ARG);
    CHECK(gt_metrics_compute(GT_METRIC_IS, NULL, NULL, NULL, NULL, NULL, &r) == GT_ERR_ARG);
    gt_fid_stats_free(&sr);
    gt_fid_stats_free(&sf);
    free(fr), free(ff), free(lg);
}

int main(void) {
    RUN(test_parse);
    RUN(test_compute);
    return gt_test_finish();
}
