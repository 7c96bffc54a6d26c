/* FID: statistics (np.cov semantics) and the Frechet distance against NumPy
 * references (exact nuclear-norm form, torch-fidelity's eigvals formula, a
 * symmetric eigh form), singular covariances (n = 100 samples of 2048-d
 * features), the fast covariance against the naive one, and errors. */
#include "metrics_test_util.h"

typedef struct {
    const char *name;
    int64_t n1, n2, d, k;
    bool relu, tf, eigh; /* features; which NumPy formulas to run */
    bool same;           /* b = a */
} fid_case;

static const fid_case CASES[] = {
    {"c0", 500, 400, 24, 24, false, true, true, false},   /* well conditioned */
    {"c1", 100, 100, 2048, 256, true, true, false, false}, /* n < d: both covariances singular */
    {"c2", 300, 50, 128, 64, true, true, true, false},    /* one full rank, one singular */
    {"c3", 80, 80, 96, 16, false, false, false, true},    /* identical sets: FID 0 */
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *feats_a[NCASES], *feats_b[NCASES];

static void make_inputs(void) {
    int m = gt_scope_begin(); /* temporaries die with it; the inputs are retained */
    for (int c = 0; c < NCASES; c++) {
        const fid_case *k = &CASES[c];
        feats_a[c] = gt_retain(make_features(10 + c, k->n1, k->d, k->k, 1.0f, 0.0f, k->relu));
        feats_b[c] = k->same ? gt_retain(feats_a[c])
                             : gt_retain(make_features(50 + c, k->n2, k->d, k->k, 1.3f, 0.2f, k->relu));
    }
    gt_scope_end(m);
}

static void test_parity(void) {
    const char *names[3 * NCASES];
    gt_tensor *ts[3 * NCASES];
    char buf[3 * NCASES][32];
    for (int c = 0; c < NCASES; c++) {
        snprintf(buf[3 * c], 32, "%s.a", CASES[c].name);
        snprintf(buf[3 * c + 1], 32, "%s.b", CASES[c].name);
        snprintf(buf[3 * c + 2], 32, "%s.flags", CASES[c].name);
        names[3 * c] = buf[3 * c], names[3 * c + 1] = buf[3 * c + 1], names[3 * c + 2] = buf[3 * c + 2];
        ts[3 * c] = feats_a[c];
        ts[3 * c + 1] = feats_b[c];
        ts[3 * c + 2] = gt_from_i32(1, (int64_t[]){2}, (int32_t[]){CASES[c].tf, CASES[c].eigh});
    }
    char in[512];
    snprintf(in, sizeof in, "%s/fid_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(in, 3 * NCASES, names, ts));
    if (!gt_golden_run("metrics_fid.py", in)) return;
    for (int c = 0; c < NCASES; c++) {
        const fid_case *k = &CASES[c];
        char what[96], g[64];
        gt_fid_stats sa, sb;
        CHECK(gt_fid_stats_compute(gt_data(feats_a[c]), k->n1, k->d, &sa) == GT_OK);
        CHECK(gt_fid_stats_compute(gt_data(feats_b[c]), k->n2, k->d, &sb) == GT_OK);
        /* statistics: float64 to ~1e-12 of the largest covariance entry */
        double smax = 0, worst = 0;
        snprintf(g, sizeof g, "%s.sigma_a", k->name);
        for (int64_t i = 0; i < k->d * k->d; i++) smax = fmax(smax, fabs(gold64(g, i)));
        for (int64_t i = 0; i < k->d * k->d; i++) worst = fmax(worst, fabs(sa.sigma[i] - gold64(g, i)));
        snprintf(g, sizeof g, "%s.sigma_b", k->name);
        for (int64_t i = 0; i < k->d * k->d; i++) worst = fmax(worst, fabs(sb.sigma[i] - gold64(g, i)));
        CHECK_MSG(worst <= 1e-11 * smax, "%s: sigma differs from np.cov by %.3g (max |sigma| %.3g)", k->name, worst,
                  smax);
        worst = 0;
        snprintf(g, sizeof g, "%s.mu_a", k->name);
        for (int64_t i = 0; i < k->d; i++) worst = fmax(worst, fabs(sa.mu[i] - gold64(g, i)));
        snprintf(g, sizeof g, "%s.mu_b", k->name);
        for (int64_t i = 0; i < k->d; i++) worst = fmax(worst, fabs(sb.mu[i] - gold64(g, i)));
        CHECK_MSG(worst <= 1e-12, "%s: mu differs from np.mean by %.3g", k->name, worst);
        CHECK(sa.n == k->n1 && sb.n == k->n2 && sa.dim == k->d);

        double fid = NAN, trace_scale = 0;
        for (int64_t i = 0; i < k->d; i++) trace_scale += sa.sigma[i * k->d + i] + sb.sigma[i * k->d + i];
        CHECK(gt_metric_fid(&sa, &sb, &fid) == GT_OK);
        snprintf(g, sizeof g, "%s.fid_exact", k->name);
        double exact = gold64(g, 0);
        snprintf(what, sizeof what, "%s (%lld x %lld vs %lld x %lld): FID vs the exact NumPy value", k->name,
                 (long long)k->n1, (long long)k->d, (long long)k->n2, (long long)k->d);
        /* identical sets: FID is 0 up to rounding of the traces */
        check_rel(what, fid, exact, k->same ? 1e-12 : 1e-6, k->same ? trace_scale : 0);
        printf("  %s: FID %.10g (exact %.10g, rel diff %.2g)", k->name, fid, exact,
               fabs(fid - exact) / fmax(fabs(exact), trace_scale * (k->same ? 1.0 : 0.0)));
        if (k->tf) {
            snprintf(g, sizeof g, "%s.fid_tf", k->name);
            double tf = gold64(g, 0);
            printf(", torch-fidelity formula %.10g (rel diff %.2g)", tf, fabs(tf - exact) / fabs(exact));
            if (c == 0) {
                snprintf(what, sizeof what, "%s: FID vs torch-fidelity's formula", k->name);
                check_rel(what, fid, tf, 1e-6, 0);
                double fe = NAN;
                CHECK(gt_metric_fid_method(&sa, &sb, GT_FID_SQRT_EIGVALS, &fe) == GT_OK);
                snprintf(what, sizeof what, "%s: our torch-fidelity formula (dgeev) vs NumPy's", k->name);
                check_rel(what, fe, tf, 1e-9, 0);
            }
        }
        if (k->eigh) {
            snprintf(g, sizeof g, "%s.fid_eigh", k->name);
            double eh = gold64(g, 0);
            printf(", symmetric eigh form %.10g (rel diff %.2g)", eh, fabs(eh - exact) / fabs(exact));
            if (c == 0) check_rel("c0: FID vs the symmetric eigh form", fid, eh, 1e-6, 0);
        }
        printf("\n");
        double ff = NAN;
        CHECK(gt_metric_fid_features(gt_data(feats_a[c]), k->n1, gt_data(feats_b[c]), k->n2, k->d, &ff) == GT_OK);
        CHECK_MSG(ff == fid, "%s: gt_metric_fid_features %.17g vs stats path %.17g", k->name, ff, fid);
        gt_fid_stats_free(&sa);
        gt_fid_stats_free(&sb);
    }
}

static void test_fast_vs_naive(void) {
    const fid_case *k = &CASES[2];
    gt_fid_stats f, n;
    CHECK(gt_fid_stats_compute(gt_data(feats_a[2]), k->n1, k->d, &f) == GT_OK);
    gt_backend_set(GT_BACKEND_NAIVE);
    CHECK(gt_fid_stats_compute(gt_data(feats_a[2]), k->n1, k->d, &n) == GT_OK);
    gt_backend_set(GT_BACKEND_CPU);
    double worst = 0, smax = 0;
    int64_t asym = 0, mu_diff = 0;
    for (int64_t i = 0; i < k->d * k->d; i++) {
        worst = fmax(worst, fabs(f.sigma[i] - n.sigma[i]));
        smax = fmax(smax, fabs(n.sigma[i]));
        asym += f.sigma[i] != f.sigma[(i % k->d) * k->d + i / k->d];
    }
    CHECK_MSG(worst <= 1e-12 * smax, "covariance: dsyrk vs naive loops differ by %.3g", worst);
    CHECK_MSG(asym == 0, "covariance: %lld entries not symmetric bit for bit", (long long)asym);
    for (int64_t i = 0; i < k->d; i++) mu_diff += f.mu[i] != n.mu[i];
    CHECK(mu_diff == 0);
    gt_fid_stats_free(&f);
    gt_fid_stats_free(&n);
}

/* Symmetric by construction: FID(a, b) == FID(b, a) to rounding, and FID(a, a) ~ 0. */
static void test_properties(void) {
    const fid_case *k = &CASES[2];
    gt_fid_stats sa, sb;
    CHECK(gt_fid_stats_compute(gt_data(feats_a[2]), k->n1, k->d, &sa) == GT_OK);
    CHECK(gt_fid_stats_compute(gt_data(feats_b[2]), k->n2, k->d, &sb) == GT_OK);
    double ab, ba, aa, tr = 0;
    CHECK(gt_metric_fid(&sa, &sb, &ab) == GT_OK);
    CHECK(gt_metric_fid(&sb, &sa, &ba) == GT_OK);
    CHECK(gt_metric_fid(&sa, &sa, &aa) == GT_OK);
    for (int64_t i = 0; i < k->d; i++) tr += sa.sigma[i * k->d + i];
    check_rel("FID(a, b) vs FID(b, a) with n2 < d", ab, ba, 1e-9, 0);
    /* b has n = 50 < d / 2: only its top 49 eigenpairs are computed; the full
     * decomposition (no rank known) gives the same trace */
    double tr_full, dd = 0, t1 = 0, t2 = 0;
    CHECK(gt_fid_trace_sqrt(sa.sigma, sb.sigma, k->d, GT_FID_SQRT_FACTOR, &tr_full) == GT_OK);
    for (int64_t i = 0; i < k->d; i++) {
        dd += (sa.mu[i] - sb.mu[i]) * (sa.mu[i] - sb.mu[i]);
        t1 += sa.sigma[i * k->d + i];
        t2 += sb.sigma[i * k->d + i];
    }
    check_rel("FID: top-(n-1) eigenpairs vs the full decomposition", ab, dd + t1 + t2 - 2 * tr_full, 1e-12, 0);
    CHECK_MSG(fabs(aa) <= 1e-10 * tr, "FID(a, a) with n2 < d = %.3g (trace %.3g)", aa, tr);
    gt_fid_stats_free(&sa);
    gt_fid_stats_free(&sb);
}

static void test_errors(void) {
    float x[4 * 3] = {0};
    gt_fid_stats s = {0}, s2 = {0};
    double fid;
    CHECK(gt_fid_stats_compute(x, 1, 3, &s) == GT_ERR_ARG);
    CHECK_MSG(has_text(gt_last_error(), "at least 2 samples") && has_text(gt_last_error(), "got 1"), "%s",
              gt_last_error());
    CHECK(s.mu == NULL && s.sigma == NULL);
    x[7] = NAN;
    CHECK(gt_fid_stats_compute(x, 4, 3, &s) == GT_ERR_ARG);
    CHECK_MSG(has_text(gt_last_error(), "non-finite") && has_text(gt_last_error(), "row 2, column 1"), "%s",
              gt_last_error());
    x[7] = INFINITY;
    CHECK(gt_metric_fid_features(x, 4, x, 4, 3, &fid) == GT_ERR_ARG && isnan(fid));
    x[7] = 0;
    CHECK(gt_fid_stats_compute(NULL, 4, 3, &s) == GT_ERR_ARG);
    CHECK(gt_fid_stats_compute(x, 4, 0, &s) == GT_ERR_ARG);
    /* mismatched feature sizes */
    CHECK(gt_fid_stats_alloc(&s, 64) == GT_OK && gt_fid_stats_alloc(&s2, 2048) == GT_OK);
    CHECK(gt_metric_fid(&s, &s2, &fid) == GT_ERR_SHAPE);
    CHECK_MSG(has_text(gt_last_error(), "(64,)") && has_text(gt_last_error(), "(2048, 2048)"), "%s",
              gt_last_error());
    /* non-finite statistics (a corrupt file) */
    gt_fid_stats_free(&s2);
    CHECK(gt_fid_stats_alloc(&s2, 64) == GT_OK);
    s2.sigma[3 * 64 + 5] = NAN;
    CHECK(gt_metric_fid(&s, &s2, &fid) == GT_ERR_FORMAT);
    CHECK_MSG(has_text(gt_last_error(), "sigma[3, 5]"), "%s", gt_last_error());
    gt_fid_stats empty = {0};
    CHECK(gt_metric_fid(&s, &empty, &fid) == GT_ERR_ARG);
    CHECK(gt_fid_trace_sqrt(s.sigma, s.sigma, 64, (gt_fid_sqrt)7, &fid) == GT_ERR_ARG);
    /* zero covariances: FID = |mu1 - mu2|^2 */
    gt_fid_stats_free(&s2);
    CHECK(gt_fid_stats_alloc(&s2, 64) == GT_OK);
    s2.mu[0] = 3.0;
    CHECK(gt_metric_fid(&s, &s2, &fid) == GT_OK && fid == 9.0);
    gt_fid_stats_free(&s);
    gt_fid_stats_free(&s2);
    gt_fid_stats_free(NULL);
}

int main(void) {
    make_inputs();
    RUN(test_parity);
    RUN(test_fast_vs_naive);
    RUN(test_properties);
    RUN(test_errors);
    for (int c = 0; c < NCASES; c++) {
        gt_release(feats_a[c]);
        gt_release(feats_b[c]);
    }
    return gt_test_finish();
}
