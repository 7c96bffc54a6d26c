/* `mpirun -np N gantry eval`: the result does not depend on N. A tiny checkpoint's generator (the fake
 * side, 525 images from latents drawn by seed) against 310 real images, all five metrics with the
 * fmnist extractor in batches of 50 (uneven slices: 525 = 11 batches = 6 + 5 on 2 ranks, 4 + 4 + 3 on
 * 3), in one process, on 2 ranks and on 3: the FID statistics (--save-*-stats) and every metric equal
 * to 1e-9 relative; also with a rank that has no batch. A missing input under 2 ranks ends with exit 1 and one message, no hang; ranks
 * started with different arguments are refused; the reference-statistics cache written on 2 ranks is
 * read on 2 and by 1 process (the same FID). The
 * slicing (gt_shard_range) and the one-process identities of the collective entry points are checked
 * without MPI. Skipped, saying why, when there is no mpirun or no MPI plugin (gantry built without
 * MPI). */
#include <cjson/cJSON.h>
#include <signal.h>

#include "dist_util.h"

static const char *tp(const char *name) { return gt_test_path(name); }

/* mpirun and the plugin beside gantry (dist_util.h says which is missing); else false with why. */
static bool have_mpi(char *why, size_t n) {
    if (gt_dist_ready()) return true;
    snprintf(why, n, "no mpirun or no MPI plugin (above)");
    return false;
}

/* Runs argv (argv[0] a path) with output into gt_cli_out, 2 threads per process; the job is killed
 * (its process group) after limit_s seconds: returns 124 then. */
static int run_argv(char *const *argv, int limit_s) {
    char *const env[] = {"OMP_NUM_THREADS=2", NULL};
    int rc = gt_dist_exec(argv, env, limit_s);
    return rc == -2 ? 124 : rc;
}

/* `mpirun -np np gantry ARGS` (np 0: gantry alone), as run_argv. */
static int run_np(int np, int limit_s, char *const *args) {
    char nps[16];
    snprintf(nps, sizeof nps, "%d", np);
    char *argv[80];
    int k = 0;
    if (np > 0) {
        argv[k++] = gt_mpirun, argv[k++] = "-np", argv[k++] = nps, argv[k++] = "--oversubscribe";
        argv[k++] = "--bind-to", argv[k++] = "none";
    }
    argv[k++] = gt_cli_bin;
    for (int i = 0; args[i] && k < 79; i++) argv[k++] = args[i];
    argv[k] = NULL;
    return run_argv(argv, limit_s);
}

static double json_num(const char *path, const char *key) {
    size_t n = 0;
    char *t = (char *)gt_test_read_all(path, &n);
    cJSON *root = t ? cJSON_ParseWithLength(t, n) : NULL;
    free(t);
    cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "metrics"), key);
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    cJSON_Delete(root);
    return x;
}

/* max |a - b| / max |a|, over mu and over sigma */
static double stats_rel(const char *a, const char *b, double *mu_rel) {
    gt_fid_stats x, y;
    bool ok = gt_fid_stats_load(a, &x) == GT_OK;
    ok = gt_fid_stats_load(b, &y) == GT_OK && ok;
    double rel = INFINITY;
    *mu_rel = INFINITY;
    if (ok && x.dim == y.dim) {
        double dm = 0, m = 0, ds = 0, s = 0;
        for (int64_t i = 0; i < x.dim; i++) dm = fmax(dm, fabs(x.mu[i] - y.mu[i])), m = fmax(m, fabs(x.mu[i]));
        for (int64_t i = 0; i < x.dim * x.dim; i++)
            ds = fmax(ds, fabs(x.sigma[i] - y.sigma[i])), s = fmax(s, fabs(x.sigma[i]));
        *mu_rel = dm / m, rel = ds / s;
    }
    gt_fid_stats_free(&x), gt_fid_stats_free(&y);
    return rel;
}

/* The slices: contiguous, in rank order, whole units but the last, 0 .. n-1 in all, balanced to a unit. */
static void test_shard_range(void) {
    const int64_t ns[] = {0, 1, 49, 50, 51, 525, 1000};
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
        for (int64_t unit = 1; unit <= 64; unit *= 4)
            for (int size = 1; size <= 5; size++) {
                int64_t at = 0, lo = INT64_MAX, hi = 0;
                for (int r = 0; r < size; r++) {
                    int64_t s0 = -1, c = -1;
                    gt_shard_range(ns[a], unit, r, size, &s0, &c);
                    CHECK_MSG(s0 == at && c >= 0 && (s0 % unit == 0 || c == 0), "n %lld unit %lld: rank %d of %d "
                              "has [%lld, +%lld), expected to start at %lld", (long long)ns[a], (long long)unit, r,
                              size, (long long)s0, (long long)c, (long long)at);
                    at = s0 + c;
                    int64_t units = (c + unit - 1) / unit;
                    lo = units < lo ? units : lo, hi = units > hi ? units : hi;
                }
                CHECK_MSG(at == ns[a] && hi - lo <= 1, "n %lld unit %lld size %d: covers %lld, units %lld..%lld",
                          (long long)ns[a], (long long)unit, size, (long long)at, (long long)lo, (long long)hi);
            }
}

/* One process: the collective entry points are the local ones, bit for bit (the same code, with every
 * collective the identity). */
static void test_single_process_identity(void) {
    int64_t n = 37, d = 6;
    float *x = malloc(sizeof(float) * (size_t)(n * d));
    for (int64_t i = 0; i < n * d; i++) x[i] = sinf((float)i * 0.37f) * 3.0f + (float)(i % d);
    gt_fid_stats a, b;
    CHECK(gt_fid_stats_compute(x, n, d, &a) == GT_OK);
    CHECK(gt_fid_stats_compute_dist(x, n, d, &b) == GT_OK);
    CHECK(a.n == n && b.n == n && a.dim == d && b.dim == d);
    CHECK(a.mu && b.mu && memcmp(a.mu, b.mu, sizeof(double) * (size_t)d) == 0);
    CHECK(a.sigma && b.sigma && memcmp(a.sigma, b.sigma, sizeof(double) * (size_t)(d * d)) == 0);
    gt_fid_stats_free(&a), gt_fid_stats_free(&b);
    gt_feature_set fs = {.n = n, .dim = d, .feats = x};
    CHECK(gt_feature_set_gather(&fs, n, 50, 0) == GT_OK && fs.feats == x && fs.n == n);
    CHECK(gt_feature_set_gather(&fs, n + 1, 50, 0) == GT_ERR_ARG);
    free(x);
}

/* One fake input evaluated in 1 process, on 2 ranks and on 3: the same statistics and metrics. */
static void same_on_all(const char *label, const char *fake) {
    const int nps[3] = {0, 2, 3};
    /* the 3-rank run gathers in rounds of 7 rows per rank (a gatherv holds at most 2 GiB) */
    unsetenv("GANTRY_GATHER_ROWS");
    char fs[3][PATH_MAX], rs[3][PATH_MAX], js[3][PATH_MAX];
    for (int i = 0; i < 3; i++) {
        snprintf(fs[i], sizeof fs[i], "%s/fake%d.npz", gt_test_tmpdir(), nps[i]);
        snprintf(rs[i], sizeof rs[i], "%s/real%d.npz", gt_test_tmpdir(), nps[i]);
        snprintf(js[i], sizeof js[i], "%s/m%d.json", gt_test_tmpdir(), nps[i]);
        char *args[] = {"eval", "--fake", (char *)fake, "--n", "525", "--seed", "7", "--real",
                        (char *)tp("real-idx3-ubyte"), "--extractor", "fmnist", "--batch", "50", "--metrics", "all",
                        "--kid-subset-size", "100", "--kid-subsets", "20", "--is-splits", "5", "--save-fake-stats",
                        fs[i], "--save-real-stats", rs[i], "--json", js[i], "--no-cache", NULL};
        if (nps[i] == 3) setenv("GANTRY_GATHER_ROWS", "7", 1);
        int rc = run_np(nps[i], 120, args);
        unsetenv("GANTRY_GATHER_ROWS");
        CHECK_MSG(rc == 0 && strstr(gt_cli_out, "FID"), "%s, %d ranks: rc %d\n%s", label, nps[i], rc, gt_cli_out);
        if (nps[i]) { /* rank 0 alone reports, and says how the job is laid out */
            const char *first = strstr(gt_cli_out, "  FID ");
            CHECK_MSG(first && !strstr(first + 1, "  FID "), "%d ranks: FID reported more than once:\n%s", nps[i],
                      gt_cli_out);
            char says[64];
            snprintf(says, sizeof says, "gantry eval: %d ranks", nps[i]);
            CHECK_MSG(strstr(gt_cli_out, says) && strstr(gt_cli_out, "per rank"), "no '%s ... per rank':\n%s", says,
                      gt_cli_out);
        }
    }
    const char *keys[] = {"frechet_inception_distance", "kernel_inception_distance_mean", "inception_score_mean",
                          "inception_score_std", "precision", "recall", "f_score", "density", "coverage"};
    for (int i = 1; i < 3; i++) {
        double mu_rel, sig_rel = stats_rel(fs[0], fs[i], &mu_rel);
        printf("  %s: fake statistics, 1 process vs %d ranks: mu %.3g, sigma %.3g relative\n", label, nps[i], mu_rel,
               sig_rel);
        CHECK_MSG(mu_rel <= 1e-9 && sig_rel <= 1e-9, "fake statistics, 1 process vs %d ranks: mu %.3g, sigma %.3g "
                  "relative", nps[i], mu_rel, sig_rel);
        sig_rel = stats_rel(rs[0], rs[i], &mu_rel);
        printf("  %s: real statistics, 1 process vs %d ranks: mu %.3g, sigma %.3g relative\n", label, nps[i], mu_rel,
               sig_rel);
        CHECK_MSG(mu_rel <= 1e-9 && sig_rel <= 1e-9, "real statistics, 1 process vs %d ranks: mu %.3g, sigma %.3g "
                  "relative", nps[i], mu_rel, sig_rel);
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            double a = json_num(js[0], keys[k]), b = json_num(js[i], keys[k]);
            if (i == 1) printf("  %s: %-31s %.17g (1 process)  %.17g (2 ranks)\n", label, keys[k], a, b);
            CHECK_MSG(isfinite(a) && fabs(a - b) <= 1e-9 * fabs(a), "%s: %s: %.17g in 1 process, %.17g on %d ranks",
                      label, keys[k], a, b, nps[i]);
        }
        /* KID's std over the subsets can be 0 up to rounding: measured against the mean */
        double a = json_num(js[0], "kernel_inception_distance_std"), b = json_num(js[i], "kernel_inception_distance_std");
        double m = fabs(json_num(js[0], "kernel_inception_distance_mean"));
        CHECK_MSG(isfinite(a) && fabs(a - b) <= 1e-9 * (fabs(a) + m), "%s: KID std %.17g vs %.17g on %d ranks", label,
                  a, b, nps[i]);
    }
}

static void test_eval_independent_of_ranks(void) {
    char why[PATH_MAX + 200];
    if (!have_mpi(why, sizeof why)) {
        printf("SKIP test_eval_independent_of_ranks: %s\n", why);
        return;
    }
    /* a generator's images (drawn by seed, each rank its slice) and images like the real ones (PR, DC > 0) */
    CHECK(gt_test_write_idx(tp("real-idx3-ubyte"), 310));
    CHECK(gt_test_write_idx(tp("fake-idx3-ubyte"), 525));
    CHECK_CLI(0, NULL, "train", "--data", tp("real-idx3-ubyte"), "--steps", "2", "--out", tp("run"), "--res", "28",
              "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "16", "--quiet");
    char ckpt[PATH_MAX];
    snprintf(ckpt, sizeof ckpt, "%s/run/last.safetensors", gt_test_tmpdir());
    same_on_all("checkpoint", ckpt);
    same_on_all("images", tp("fake-idx3-ubyte"));
}

static void test_missing_input(void) {
    char why[PATH_MAX + 200];
    if (!have_mpi(why, sizeof why)) {
        printf("SKIP test_missing_input: %s\n", why);
        return;
    }
    char *args[] = {"eval", "--fake", (char *)tp("nowhere.npy"), "--real", (char *)tp("nowhere.npy"), "--extractor",
                    "fmnist", "--json", (char *)tp("never.json"), NULL};
    int rc = run_np(2, 60, args);
    const char *msg = strstr(gt_cli_out, "gantry eval: --fake ");
    CHECK_MSG(rc == 1 && msg && strstr(msg, "nowhere.npy") && !strstr(msg + 1, "gantry eval: --fake "),
              "a missing input on 2 ranks: rc %d (want 1, 124 is a hang), one message naming it:\n%s", rc, gt_cli_out);
    CHECK(access(tp("never.json"), F_OK) != 0);
}

/* More ranks than batches: 100 images in 2 batches on 3 ranks, the third has none (its counts are 0 in
 * the reductions and the gathers); the same metrics as one process. */
static void test_idle_rank(void) {
    char why[PATH_MAX + 200];
    if (!have_mpi(why, sizeof why)) {
        printf("SKIP test_idle_rank: %s\n", why);
        return;
    }
    uint8_t *noise = malloc(100 * 28 * 28); /* fake: discs with noise; real: the discs */
    CHECK(noise && gt_test_write_idx(tp("j-idx3-ubyte"), 100));
    size_t got = 0;
    uint8_t *discs = gt_test_read_all(tp("j-idx3-ubyte"), &got);
    uint64_t r = 12345;
    for (int i = 0; noise && discs && got == 16 + 100 * 28 * 28 && i < 100 * 28 * 28; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        noise[i] = (uint8_t)((discs[16 + i] + (r >> 59)) & 255);
    }
    free(discs);
    CHECK(noise && gt_npy_save(tp("i.npy"), GT_NPY_U1, 3, (int64_t[]){100, 28, 28}, noise) == GT_OK);
    free(noise);
    char js[2][PATH_MAX];
    for (int i = 0; i < 2; i++) {
        snprintf(js[i], sizeof js[i], "%s/idle%d.json", gt_test_tmpdir(), i);
        char *args[] = {"eval", "--fake", (char *)tp("i.npy"), "--real", (char *)tp("j-idx3-ubyte"), "--n",
                        "100", "--batch", "50", "--extractor", "fmnist", "--metrics", "all", "--kid-subset-size", "50",
                        "--is-splits", "2", "--json", js[i], NULL};
        int rc = run_np(i ? 3 : 0, 120, args);
        CHECK_MSG(rc == 0, "%s: rc %d\n%s", i ? "3 ranks" : "1 process", rc, gt_cli_out);
    }
    const char *keys[] = {"frechet_inception_distance", "kernel_inception_distance_mean", "inception_score_mean",
                          "precision", "recall", "density", "coverage"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        double a = json_num(js[0], keys[k]), b = json_num(js[1], keys[k]);
        CHECK_MSG(isfinite(a) && fabs(a - b) <= 1e-9 * fabs(a), "%s: %.17g in 1 process, %.17g on 3 ranks (one idle)",
                  keys[k], a, b);
    }
}

/* Ranks started with different arguments (an MPMD line) are refused at the start. */
static void test_mismatched_ranks(void) {
    char why[PATH_MAX + 200];
    if (!have_mpi(why, sizeof why)) {
        printf("SKIP test_mismatched_ranks: %s\n", why);
        return;
    }
    CHECK(gt_test_write_idx(tp("m-idx3-ubyte"), 120));
    char *argv[] = {gt_mpirun, "--oversubscribe", "--bind-to", "none", "-np", "1", gt_cli_bin, "eval", "--fake",
                    (char *)tp("m-idx3-ubyte"), "--real", (char *)tp("m-idx3-ubyte"), "--extractor", "fmnist", "--n",
                    "100", ":", "-np", "1", gt_cli_bin, "eval", "--fake", (char *)tp("m-idx3-ubyte"), "--real",
                    (char *)tp("m-idx3-ubyte"), "--extractor", "fmnist", "--n", "99", NULL};
    int rc = run_argv(argv, 60);
    CHECK_MSG(rc == 1 && strstr(gt_cli_out, "started with different arguments") && !strstr(gt_cli_out, "FID"),
              "ranks with different arguments: rc %d (want 1, 124 is a hang), refused before any work:\n%s", rc,
              gt_cli_out);
}

/* The reference-statistics cache: written by rank 0 of a 2-rank job, read by the next 2-rank job and by
 * one process, the same FID each time. Needs the fashion-mnist package (the cache serves only it). */
static void test_cache(void) {
    char why[PATH_MAX + 200];
    gt_dataset_opts o = {.limit = 10};
    gt_dataset *ds = gt_dataset_open("fashion-mnist:test", 0, 0, &o);
    if (!ds) snprintf(why, sizeof why, "no fashion-mnist:test (%s)", gt_last_error());
    gt_dataset_free(ds);
    if (!ds || !have_mpi(why, sizeof why)) {
        printf("SKIP test_cache: %s\n", why);
        return;
    }
    CHECK(gt_test_write_idx(tp("c-idx3-ubyte"), 300));
    char cache[PATH_MAX];
    snprintf(cache, sizeof cache, "%s/cache", gt_test_tmpdir());
    setenv("GANTRY_CACHE", cache, 1);
    double fid[3];
    for (int i = 0; i < 3; i++) {
        char js[PATH_MAX];
        snprintf(js, sizeof js, "%s/c%d.json", gt_test_tmpdir(), i);
        char *args[] = {"eval", "--fake", (char *)tp("c-idx3-ubyte"), "--real", "fashion-mnist:test", "--n", "300",
                        "--extractor", "fmnist", "--batch", "50", "--json", js, NULL};
        int rc = run_np(i < 2 ? 2 : 0, 120, args);
        bool cached = strstr(gt_cli_out, "statistics from the cache") != NULL;
        CHECK_MSG(rc == 0 && cached == (i > 0), "run %d: rc %d, cache %s:\n%s", i, rc, cached ? "read" : "not read",
                  gt_cli_out);
        fid[i] = json_num(js, "frechet_inception_distance");
    }
    unsetenv("GANTRY_CACHE");
    CHECK_MSG(isfinite(fid[0]) && fabs(fid[1] - fid[0]) <= 1e-9 * fid[0] && fabs(fid[2] - fid[0]) <= 1e-9 * fid[0],
              "FID with the cache written on 2 ranks %.17g, read on 2 ranks %.17g, read by 1 process %.17g", fid[0],
              fid[1], fid[2]);
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built (%s)\n", gt_cli_bin);
        return 1;
    }
    RUN(test_shard_range);
    RUN(test_single_process_identity);
    RUN(test_eval_independent_of_ranks);
    RUN(test_idle_rank);
    RUN(test_missing_input);
    RUN(test_mismatched_ranks);
    RUN(test_cache);
    return gt_test_finish();
}
