/* Statistics files: ours load in NumPy bit for bit, NumPy's (np.savez,
 * np.savez_compressed as pytorch-fid writes them, float32 members) load in
 * gantry bit for bit; broken files refused with messages naming the file and
 * the array; the cache of reference statistics. */
#include <sys/stat.h>
#include <unistd.h>

#include "metrics_test_util.h"

static int64_t bits_differ(const double *x, const int32_t *bits, int64_t n) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) bad += memcmp(&x[i], bits + 2 * i, 8) != 0;
    return bad;
}

static void test_numpy_interop(void) {
    gt_tensor *f = make_features(31, 300, 48, 16, 1.0f, 0.5f, true);
    gt_fid_stats s, l;
    CHECK(gt_fid_stats_compute(gt_data(f), 300, 48, &s) == GT_OK);
    char ours[512], args[1100];
    snprintf(ours, sizeof ours, "%s/ours_stats.npz", gt_test_tmpdir());
    CHECK(gt_fid_stats_save(ours, &s) == GT_OK);
    /* our own round trip */
    CHECK(gt_fid_stats_load(ours, &l) == GT_OK);
    CHECK(l.dim == 48 && memcmp(l.mu, s.mu, 48 * 8) == 0 && memcmp(l.sigma, s.sigma, 48 * 48 * 8) == 0);
    gt_fid_stats_free(&l);
    snprintf(args, sizeof args, "--npz %s %s", ours, gt_test_tmpdir());
    if (!gt_golden_run("metrics_fid.py", args)) return;
    gt_tensor *t = gt_golden("ours.n_members");
    CHECK(t && gt_data_i32(t)[0] == 2);
    t = gt_golden("ours.dtypes_f64");
    CHECK(t && gt_data_i32(t)[0] == 1);
    t = gt_golden("ours.mu_bits");
    CHECK(t && gt_numel(t) == 96 && bits_differ(s.mu, gt_data_i32(t), 48) == 0);
    t = gt_golden("ours.sigma_bits");
    CHECK(t && gt_numel(t) == 2 * 48 * 48 && bits_differ(s.sigma, gt_data_i32(t), 48 * 48) == 0);
    /* NumPy's files in gantry */
    const char *files[2] = {"np_comp.npz", "np_savez.npz"};
    for (int i = 0; i < 2; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", gt_test_tmpdir(), files[i]);
        CHECK_MSG(gt_fid_stats_load(p, &l) == GT_OK, "%s: %s", files[i], gt_last_error());
        CHECK(l.dim == 64 && l.n == 0);
        t = gt_golden("np.mu_bits");
        CHECK_MSG(l.mu && t && bits_differ(l.mu, gt_data_i32(t), 64) == 0, "%s: mu differs", files[i]);
        t = gt_golden("np.sigma_bits");
        CHECK_MSG(l.sigma && t && bits_differ(l.sigma, gt_data_i32(t), 64 * 64) == 0, "%s: sigma differs", files[i]);
        gt_fid_stats_free(&l);
    }
    char p[600];
    snprintf(p, sizeof p, "%s/np_f32.npz", gt_test_tmpdir());
    CHECK(gt_fid_stats_load(p, &l) == GT_OK);
    t = gt_golden("np.sigma_f32");
    int64_t bad = 0;
    for (int64_t i = 0; t && l.sigma && i < 64 * 64; i++) bad += l.sigma[i] != (double)gt_data(t)[i];
    CHECK_MSG(l.sigma && bad == 0, "float32 members: %lld values differ", (long long)bad);
    gt_fid_stats_free(&l);
    /* FID from loaded statistics = FID from the ones computed */
    double a, b;
    CHECK(gt_fid_stats_load(ours, &l) == GT_OK);
    CHECK(gt_metric_fid(&s, &s, &a) == GT_OK && gt_metric_fid(&l, &s, &b) == GT_OK && a == b);
    gt_fid_stats_free(&l);
    gt_fid_stats_free(&s);
}

static void expect_load_error(const char *file, gt_status want, const char *text) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", gt_test_tmpdir(), file);
    gt_fid_stats l;
    gt_status st = gt_fid_stats_load(p, &l);
    CHECK_MSG(st == want && l.mu == NULL && l.sigma == NULL && has_text(gt_last_error(), text) &&
                  has_text(gt_last_error(), file),
              "%s: status %d (want %d), message '%s' (want '%s' and the file name)", file, (int)st, (int)want,
              gt_last_error(), text);
}

static void test_bad_files(void) {
    /* written by the NumPy script in test_numpy_interop */
    expect_load_error("np_dims.npz", GT_ERR_FORMAT, "(64, 63)");
    expect_load_error("np_nosigma.npz", GT_ERR_FORMAT, "no array 'sigma'");
    expect_load_error("np_3d.npz", GT_ERR_FORMAT, "(4, 4, 4)");
    expect_load_error("np_nan.npz", GT_ERR_FORMAT, "sigma[2, 3]");
    expect_load_error("does_not_exist.npz", GT_ERR_IO, "does_not_exist.npz");
    /* truncated and garbage files */
    char src[600], dst[600];
    snprintf(src, sizeof src, "%s/np_savez.npz", gt_test_tmpdir());
    snprintf(dst, sizeof dst, "%s/truncated.npz", gt_test_tmpdir());
    FILE *f = fopen(src, "rb");
    char *buf = malloc(1 << 16);
    size_t n = f ? fread(buf, 1, 1 << 16, f) : 0;
    if (f) fclose(f);
    CHECK(n > 1000);
    f = fopen(dst, "wb");
    fwrite(buf, 1, n / 2, f);
    fclose(f);
    gt_fid_stats l;
    CHECK(gt_fid_stats_load(dst, &l) == GT_ERR_FORMAT && l.mu == NULL);
    CHECK_MSG(has_text(gt_last_error(), "truncated.npz"), "%s", gt_last_error());
    snprintf(dst, sizeof dst, "%s/garbage.npz", gt_test_tmpdir());
    f = fopen(dst, "wb");
    fputs("this is not a zip file at all, just some text of moderate length........", f);
    fclose(f);
    CHECK(gt_fid_stats_load(dst, &l) == GT_ERR_FORMAT);
    free(buf);
    /* saving refuses empty / non-finite statistics and leaves no file */
    gt_fid_stats s;
    CHECK(gt_fid_stats_alloc(&s, 8) == GT_OK);
    s.mu[3] = INFINITY;
    snprintf(dst, sizeof dst, "%s/never.npz", gt_test_tmpdir());
    CHECK(gt_fid_stats_save(dst, &s) == GT_ERR_FORMAT && access(dst, F_OK) != 0);
    gt_fid_stats_free(&s);
    CHECK(gt_fid_stats_save(dst, &s) == GT_ERR_ARG);
    CHECK(gt_fid_stats_load(NULL, &l) == GT_ERR_ARG);
}

static void test_cache(void) {
    char dir[600], path[1024], path2[1024];
    snprintf(dir, sizeof dir, "%s/cache/a b", gt_test_tmpdir());
    setenv("GANTRY_CACHE", dir, 1);
    CHECK(gt_cache_dir(path, sizeof path) && strcmp(path, dir) == 0);
    CHECK(gt_stats_cache_path("fashion-mnist:test", "inception-v3-compat", "tf1", 10000, path, sizeof path) == GT_OK);
    CHECK_MSG(has_text(path, "/stats/fashion-mnist_test-inception-v3-compat-tf1-n10000-") && has_text(path, ".npz"),
              "%s", path);
    /* keys that sanitize alike still get different files */
    CHECK(gt_stats_cache_path("fashion-mnist_test", "inception-v3-compat", "tf1", 10000, path2, sizeof path2) ==
          GT_OK);
    CHECK(strcmp(path, path2) != 0);
    gt_fid_stats s, l;
    CHECK(gt_stats_cache_load("fashion-mnist:test", "fmnist", "none", 100, &l) == GT_ERR_IO); /* miss */
    CHECK_MSG(has_text(gt_last_error(), "no cached statistics"), "%s", gt_last_error());
    gt_tensor *f = make_features(32, 50, 12, 12, 1.0f, 0.0f, false);
    CHECK(gt_fid_stats_compute(gt_data(f), 50, 12, &s) == GT_OK);
    CHECK(gt_stats_cache_store("fashion-mnist:test", "fmnist", "none", 50, &s) == GT_OK); /* creates the dirs */
    CHECK(gt_stats_cache_load("fashion-mnist:test", "fmnist", "none", 50, &l) == GT_OK);
    CHECK(l.dim == 12 && l.n == 50 && memcmp(l.sigma, s.sigma, 12 * 12 * 8) == 0);
    gt_fid_stats_free(&l);
    CHECK(gt_stats_cache_load("fashion-mnist:test", "fmnist", "none", 51, &l) == GT_ERR_IO);   /* other n */
    CHECK(gt_stats_cache_load("fashion-mnist:test", "fmnist", "clean", 50, &l) == GT_ERR_IO);  /* other resize */
    /* an unwritable cache: a clear message */
    snprintf(dir, sizeof dir, "%s/cache/file", gt_test_tmpdir());
    FILE *fp = fopen(dir, "w");
    fclose(fp);
    snprintf(path, sizeof path, "%s/sub", dir);
    setenv("GANTRY_CACHE", path, 1);
    CHECK(gt_stats_cache_store("x", "y", "z", 1, &s) == GT_ERR_IO);
    CHECK_MSG(has_text(gt_last_error(), "GANTRY_CACHE"), "%s", gt_last_error());
    unsetenv("GANTRY_CACHE");
    gt_fid_stats_free(&s);
}

int main(void) {
    RUN(test_numpy_interop);
    RUN(test_bad_files);
    RUN(test_cache);
    return gt_test_finish();
}
