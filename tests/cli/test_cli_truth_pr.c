/* gantry truth-pr end to end: bad input (unknown distribution, loss, --n below k + 1, disks that
 * overlap, training flags with --samples) exits 2 and writes nothing; bad sample files exit 1; a
 * short training writes the JSON with exact and k-NN numbers at every evaluation, the table, the
 * plots and the last samples, and --samples on those samples gives back the last row exactly; the
 * truth's own samples given as a file score exact recall 1. */
#include <cjson/cJSON.h>

#include "cli_util.h"
#include "gantry/truth_pr.h"

static const char *tp(const char *name) { return gt_test_path(name); }

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static cJSON *load_json(const char *path) {
    size_t n = 0;
    unsigned char *b = gt_test_read_all(path, &n);
    cJSON *j = b ? cJSON_ParseWithLength((const char *)b, n) : NULL;
    free(b);
    return j;
}

static double num(const cJSON *o, const char *a, const char *b, const char *c) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
    if (c) x = cJSON_GetObjectItemCaseSensitive(x, c);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static void test_bad_input(void) {
    const char *out = tp("never");
    CHECK_CLI(0, "--samples", "truth-pr", "--help");
    CHECK_CLI(2, "--dist must be ring8 or grid25, got 'ring'", "truth-pr", "--dist", "ring", "--out", out);
    CHECK_CLI(2, "--n", "truth-pr", "--n", "5", "--out", out);
    CHECK_CLI(2, "--n", "truth-pr", "--n", "many", "--out", out);
    CHECK_CLI(2, "--loss must be", "truth-pr", "--loss", "wasserstein", "--out", out);
    CHECK_CLI(2, "--optim must be", "truth-pr", "--optim", "rmsprop", "--out", out);
    CHECK_CLI(2, "overlap", "truth-pr", "--radius", "7", "--out", out);
    CHECK_CLI(2, "--tau", "truth-pr", "--tau", "0", "--out", out);
    CHECK_CLI(2, "--steps trains the lab's GAN", "truth-pr", "--samples", "x.npy", "--steps", "10", "--out", out);
    CHECK_CLI(2, "--r1 trains the lab's GAN", "truth-pr", "--samples", "x.npy", "--r1", "1", "--out", out);
    CHECK_CLI(2, "--lr-g", "truth-pr", "--lr-g", "0", "--out", out);
    CHECK_CLI(2, "unknown flag", "truth-pr", "--bogus");
    CHECK_MSG(!exists(out), "a refused command created %s", out);

    CHECK_CLI(1, "--samples", "truth-pr", "--samples", tp("missing.npy"));
    int64_t shape[2] = {10, 3};
    float pts[30] = {0};
    CHECK(gt_npy_save(tp("three.npy"), GT_NPY_F4, 2, shape, pts) == GT_OK);
    CHECK_CLI(1, "(N, 2)", "truth-pr", "--samples", tp("three.npy"));
    shape[0] = 5, shape[1] = 2;
    CHECK(gt_npy_save(tp("five.npy"), GT_NPY_F4, 2, shape, pts) == GT_OK);
    CHECK_CLI(1, "at least 6", "truth-pr", "--samples", tp("five.npy"));
}

static void test_train(void) {
    const char *out = tp("run");
    char p[1200];
    CHECK_CLI(0, "wrote", "truth-pr", "--dist", "ring8", "--steps", "300", "--every", "100", "--n", "500", "--out",
              out);
    const char *files[] = {"truth_pr.json", "truth_pr.md", "truth_pr.png", "samples.png", "samples.npy"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", out, files[i]);
        CHECK_MSG(exists(p), "%s missing", p);
    }
    snprintf(p, sizeof p, "%s/truth_pr.json", out);
    cJSON *j = load_json(p);
    CHECK_MSG(j != NULL, "%s does not parse", p);
    if (!j) return;
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "evaluations");
    CHECK(cJSON_GetArraySize(ev) == 4); /* epochs 0, 100, 200, 300 */
    for (int i = 0; i < cJSON_GetArraySize(ev); i++) {
        const cJSON *e = cJSON_GetArrayItem(ev, i);
        CHECK(num(e, "epoch", NULL, NULL) == 100.0 * i);
        double pe = num(e, "exact", "precision", NULL), re = num(e, "exact", "recall", NULL);
        double p3 = num(e, "knn", "3", "precision"), r5 = num(e, "knn", "5", "recall");
        double c5 = num(e, "knn", "5", "coverage");
        CHECK_MSG(pe >= 0 && pe <= 1 && re >= 0 && re <= 1 && p3 >= 0 && p3 <= 1 && r5 >= 0 && r5 <= 1 && c5 >= 0,
                  "evaluation %d: %g %g %g %g %g", i, pe, re, p3, r5, c5);
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "exact"),
                                                                 "count")) == 8);
    }
    CHECK(num(j, "definitions", "radius_sigmas", NULL) == 3.0 && num(j, "definitions", "tau", NULL) == 0.2);
    CHECK(fabs(num(j, "definitions", "support_mass", NULL) - (1.0 - exp(-4.5))) < 1e-15);
    CHECK(num(j, "n_generated", NULL, NULL) == 500.0 && num(j, "n_real", NULL, NULL) == 500.0);
    double fp = num(j, "final", "exact", "precision"), fr = num(j, "final", "exact", "recall");
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(j, "final");
    double k3p = num(cJSON_GetObjectItemCaseSensitive(fin, "knn"), "3", "precision", NULL);
    double k5r = num(cJSON_GetObjectItemCaseSensitive(fin, "knn"), "5", "recall", NULL);
    cJSON_Delete(j);

    /* the last samples back through --samples: the same numbers (same points, same real sample) */
    const char *out2 = tp("again");
    snprintf(p, sizeof p, "%s/samples.npy", out);
    CHECK_CLI(0, "wrote", "truth-pr", "--samples", p, "--out", out2);
    snprintf(p, sizeof p, "%s/truth_pr.json", out2);
    j = load_json(p);
    CHECK(j != NULL);
    if (!j) return;
    fin = cJSON_GetObjectItemCaseSensitive(j, "final");
    CHECK_MSG(num(fin, "exact", "precision", NULL) == fp && num(fin, "exact", "recall", NULL) == fr,
              "exact %g %g, trained %g %g", num(fin, "exact", "precision", NULL), num(fin, "exact", "recall", NULL),
              fp, fr);
    CHECK(num(cJSON_GetObjectItemCaseSensitive(fin, "knn"), "3", "precision", NULL) == k3p);
    CHECK(num(cJSON_GetObjectItemCaseSensitive(fin, "knn"), "5", "recall", NULL) == k5r);
    cJSON_Delete(j);
}

/* The truth's own samples (float64 file) score exact recall 1, all 25 modes. */
static void test_truth_file(void) {
    gt_truth_mixture m;
    gt_truth_mixture_get(GT_TRUTH_GRID25, &m);
    enum { M = 2000 };
    static float x[2 * M];
    static double xd[2 * M];
    gt_truth_sample(&m, 99, M, x);
    for (int i = 0; i < 2 * M; i++) xd[i] = x[i];
    int64_t shape[2] = {M, 2};
    CHECK(gt_npy_save(tp("truth.npy"), GT_NPY_F8, 2, shape, xd) == GT_OK);
    CHECK_CLI(0, "25/25", "truth-pr", "--dist", "grid25", "--samples", tp("truth.npy"));
    CHECK_MSG(strstr(gt_cli_out, " 1.0000 25/25") != NULL, "%s", gt_cli_out);
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built\n");
        return 1;
    }
    RUN(test_bad_input);
    RUN(test_train);
    RUN(test_truth_file);
    return gt_test_finish();
}
