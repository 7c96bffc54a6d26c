/* NumPy .npz / .npy: round trips; files numpy writes (np.savez,
 * np.savez_compressed, np.save: FID statistics as pytorch-fid and clean-fid
 * store them) load with exact values; ours load in numpy; corrupt archives
 * and arrays get clear errors, never a crash. */
#include "../common/harness.h"
#include "io_test_util.h"

static const char *tpath(const char *name) { return gt_test_path(name); }

/* The array's bytes equal the file numpy wrote beside it. */
static bool same_as_bin(const gt_npy_array *a, const char *file, const char *name) {
    char bin[700];
    snprintf(bin, sizeof bin, "%s.%s.bin", tpath(file), name);
    void *buf;
    size_t n;
    if (!a || gt_read_file(bin, &buf, &n, 0) != GT_OK) return false;
    bool ok = n == (size_t)a->numel * gt_npy_dtype_size(a->dtype) && memcmp(buf, a->data, n) == 0;
    free(buf);
    return ok;
}

static void test_round_trip(void) {
    double mu[2048], sigma[50 * 40];
    float f[24];
    uint8_t img[3 * 4 * 5];
    int64_t i8 = -((int64_t)1 << 50);
    uint64_t s = 1;
    for (int i = 0; i < 2048; i++) mu[i] = (double)(int64_t)io_rand(&s) / 3e18;
    for (int i = 0; i < 2000; i++) sigma[i] = (double)(int64_t)io_rand(&s) * 1e-300;
    for (int i = 0; i < 24; i++) f[i] = (float)i / 7.0f;
    for (int i = 0; i < 60; i++) img[i] = (uint8_t)(i * 17);
    for (int compress = 0; compress < 2; compress++) {
        gt_npz z, r;
        gt_npz_init(&z);
        gt_npz_init(&r);
        CHECK(gt_npz_add(&z, "mu", GT_NPY_F8, 1, (const int64_t[]){2048}, mu) == GT_OK);
        CHECK(gt_npz_add(&z, "sigma", GT_NPY_F8, 2, (const int64_t[]){50, 40}, sigma) == GT_OK);
        CHECK(gt_npz_add(&z, "f", GT_NPY_F4, 3, (const int64_t[]){2, 3, 4}, f) == GT_OK);
        CHECK(gt_npz_add(&z, "img", GT_NPY_U1, 3, (const int64_t[]){3, 4, 5}, img) == GT_OK);
        CHECK(gt_npz_add(&z, "step", GT_NPY_I8, 0, NULL, &i8) == GT_OK);
        CHECK(gt_npz_add(&z, "none", GT_NPY_I4, 2, (const int64_t[]){0, 3}, NULL) == GT_OK);
        CHECK(gt_npz_add(&z, "mu", GT_NPY_F8, 1, (const int64_t[]){1}, mu) == GT_ERR_ARG);
        const char *path = tpath(compress ? "rt_c.npz" : "rt_s.npz");
        CHECK(gt_npz_save(&z, path, compress) == GT_OK);
        CHECK(gt_npz_load(&r, path) == GT_OK && r.n == 6);
        for (int i = 0; i < z.n; i++) {
            const gt_npy_array *a = &z.a[i], *b = gt_npz_find(&r, a->name);
            CHECK_MSG(b && b->dtype == a->dtype && b->ndim == a->ndim && b->numel == a->numel &&
                          !memcmp(b->shape, a->shape, sizeof(int64_t) * (size_t)a->ndim) &&
                          !memcmp(a->data, b->data, (size_t)a->numel * gt_npy_dtype_size(a->dtype)),
                      "%s differs (compress %d)", a->name, compress);
        }
        double *d;
        int nd;
        int64_t sh[8];
        CHECK(gt_npz_get_f64(&r, "sigma", 2, (const int64_t[]){50, -1}, &d, &nd, sh) == GT_OK);
        CHECK(nd == 2 && sh[1] == 40 && !memcmp(d, sigma, sizeof sigma));
        free(d);
        CHECK(gt_npz_get_f64(&r, "f", -1, NULL, &d, NULL, NULL) == GT_OK && d[23] == (double)f[23]);
        free(d);
        CHECK(gt_npz_get_f64(&r, "img", 3, NULL, &d, NULL, NULL) == GT_OK && d[59] == (double)img[59]);
        free(d);
        CHECK(gt_npz_get_f64(&r, "sigma", 2, (const int64_t[]){2048, 2048}, &d, NULL, NULL) == GT_ERR_SHAPE);
        const char *m = gt_last_error();
        CHECK_MSG(strstr(m, "'sigma'") && strstr(m, "(50, 40)") && strstr(m, "(2048, 2048)") && strstr(m, path), "%s",
                  m);
        CHECK(gt_npz_get_f64(&r, "mu", 2, NULL, &d, NULL, NULL) == GT_ERR_SHAPE && strstr(gt_last_error(), "(2048,)"));
        CHECK(gt_npz_get_f64(&r, "nope", -1, NULL, &d, NULL, NULL) == GT_ERR_FORMAT &&
              strstr(gt_last_error(), "no array 'nope'"));
        CHECK(io_count_temps(gt_test_tmpdir(), compress ? "rt_c.npz" : "rt_s.npz") == 0);
        gt_npz_free(&z);
        gt_npz_free(&r);
    }
    /* a single .npy */
    gt_npy_array a;
    CHECK(gt_npy_save(tpath("one.npy"), GT_NPY_F8, 2, (const int64_t[]){40, 50}, sigma) == GT_OK);
    CHECK(gt_npy_load(&a, tpath("one.npy")) == GT_OK && a.ndim == 2 && a.shape[0] == 40 && a.dtype == GT_NPY_F8);
    CHECK(!memcmp(a.data, sigma, sizeof sigma));
    gt_npy_array_free(&a);
}

static void test_numpy_files(void) {
    char args[600];
    snprintf(args, sizeof args, "write %s", gt_test_tmpdir());
    if (!gt_golden_run("io_npz.py", args)) return;
    gt_npz z;
    gt_npz_init(&z);
    /* pytorch-fid: np.savez(mu (2048,), sigma (2048, 2048)) */
    CHECK(gt_npz_load(&z, tpath("fid_stats.npz")) == GT_OK);
    double *mu = NULL, *sigma = NULL;
    CHECK(gt_npz_get_f64(&z, "mu", 1, (const int64_t[]){2048}, &mu, NULL, NULL) == GT_OK);
    CHECK(gt_npz_get_f64(&z, "sigma", 2, (const int64_t[]){2048, 2048}, &sigma, NULL, NULL) == GT_OK);
    CHECK(same_as_bin(gt_npz_find(&z, "mu"), "fid_stats.npz", "mu"));
    CHECK(same_as_bin(gt_npz_find(&z, "sigma"), "fid_stats.npz", "sigma"));
    CHECK(mu && sigma && sigma[1] == sigma[2048] && sigma[5 * 2048 + 7] == sigma[7 * 2048 + 5]); /* symmetric */
    free(mu);
    free(sigma);
    /* clean-fid: np.savez_compressed */
    CHECK(gt_npz_load(&z, tpath("clean_stats.npz")) == GT_OK);
    CHECK(same_as_bin(gt_npz_find(&z, "mu"), "clean_stats.npz", "mu"));
    CHECK(same_as_bin(gt_npz_find(&z, "sigma"), "clean_stats.npz", "sigma"));
    const char *mixed[] = {"mixed_c.npz", "mixed_s.npz"};
    const char *names[] = {"f4", "u8", "i8", "scalar", "empty", "special"};
    const gt_npy_dtype dts[] = {GT_NPY_F4, GT_NPY_U1, GT_NPY_I8, GT_NPY_F8, GT_NPY_F8, GT_NPY_F8};
    for (int f = 0; f < 2; f++) {
        CHECK_MSG(gt_npz_load(&z, tpath(mixed[f])) == GT_OK, "%s", gt_last_error());
        CHECK(z.n == 6);
        for (int i = 0; i < 6; i++) {
            const gt_npy_array *a = gt_npz_find(&z, names[i]);
            CHECK_MSG(a && a->dtype == dts[i] && same_as_bin(a, mixed[f], names[i]), "%s:%s", mixed[f], names[i]);
        }
        const gt_npy_array *a = gt_npz_find(&z, "u8");
        CHECK(a && a->ndim == 4 && a->shape[0] == 10 && a->shape[1] == 1);
        a = gt_npz_find(&z, "scalar");
        CHECK(a && a->ndim == 0 && ((double *)a->data)[0] == 3.25);
    }
    CHECK(gt_npz_load(&z, tpath("positional.npz")) == GT_OK && gt_npz_find(&z, "arr_0") && gt_npz_find(&z, "arr_1"));
    CHECK(same_as_bin(gt_npz_find(&z, "arr_1"), "positional.npz", "arr_1"));
    CHECK(gt_npz_load(&z, tpath("extra_member.npz")) == GT_OK && z.n == 1);
    CHECK(same_as_bin(gt_npz_find(&z, "mu"), "extra_member.npz", "mu"));
    gt_npy_array one;
    CHECK(gt_npy_load(&one, tpath("single.npy")) == GT_OK && one.dtype == GT_NPY_F4);
    CHECK(same_as_bin(&one, "single.npy", "x"));
    gt_npy_array_free(&one);
    /* what numpy can write but gantry refuses, saying why */
    struct {
        const char *file, *expect;
    } bad[] = {
        {"bigendian.npz", "'>f8' is not supported"},
        {"fortran.npz", "Fortran order"},
        {"complex.npz", "'<c16' is not supported"},
    };
    for (int i = 0; i < 3; i++) {
        CHECK(gt_npz_load(&z, tpath(bad[i].file)) == GT_ERR_FORMAT);
        CHECK_MSG(strstr(gt_last_error(), bad[i].expect) && strstr(gt_last_error(), bad[i].file), "%s",
                  gt_last_error());
    }
    CHECK(gt_npy_load(&one, tpath("fortran.npy")) == GT_ERR_FORMAT && strstr(gt_last_error(), "Fortran"));
    CHECK(z.n == 0);
    gt_npz_free(&z);
}

/* Writes an archive and the truth files io_npz.py compares with. */
static void save_for_numpy(const char *file, bool compress) {
    gt_npz z;
    gt_npz_init(&z);
    double mu[2048];
    float x[6 * 7];
    uint8_t u[2 * 3 * 4];
    uint64_t s = 5;
    for (int i = 0; i < 2048; i++) mu[i] = (double)(int64_t)io_rand(&s) / 7e17;
    for (int i = 0; i < 42; i++) x[i] = (float)(int64_t)io_rand(&s) / 1e18f;
    for (int i = 0; i < 24; i++) u[i] = (uint8_t)io_rand(&s);
    double *sigma = malloc(300 * 300 * sizeof(double));
    for (int i = 0; i < 300 * 300; i++) sigma[i] = (double)(int64_t)io_rand(&s) / 9e18;
    CHECK(gt_npz_add(&z, "mu", GT_NPY_F8, 1, (const int64_t[]){2048}, mu) == GT_OK);
    CHECK(gt_npz_add(&z, "sigma", GT_NPY_F8, 2, (const int64_t[]){300, 300}, sigma) == GT_OK);
    CHECK(gt_npz_add(&z, "x", GT_NPY_F4, 2, (const int64_t[]){6, 7}, x) == GT_OK);
    CHECK(gt_npz_add(&z, "u", GT_NPY_U1, 3, (const int64_t[]){2, 3, 4}, u) == GT_OK);
    CHECK(gt_npz_add(&z, "e", GT_NPY_F8, 2, (const int64_t[]){0, 5}, NULL) == GT_OK);
    CHECK(gt_npz_add(&z, "s", GT_NPY_F8, 0, NULL, mu) == GT_OK);
    CHECK(gt_npz_save(&z, tpath(file), compress) == GT_OK);
    for (int i = 0; i < z.n; i++) {
        const gt_npy_array *a = &z.a[i];
        char p[700];
        snprintf(p, sizeof p, "%s.%s.bin", tpath(file), a->name);
        CHECK(io_write_bytes(p, a->data, (size_t)a->numel * gt_npy_dtype_size(a->dtype)));
        snprintf(p, sizeof p, "%s.%s.meta", tpath(file), a->name);
        char meta[200];
        int k = snprintf(meta, sizeof meta, "%s %d", gt_npy_dtype_descr(a->dtype), a->ndim);
        for (int d = 0; d < a->ndim; d++) k += snprintf(meta + k, sizeof meta - (size_t)k, " %lld", (long long)a->shape[d]);
        CHECK(io_write_bytes(p, meta, (size_t)k));
    }
    free(sigma);
    gt_npz_free(&z);
}

static void test_numpy_reads_ours(void) {
    save_for_numpy("ours_s.npz", false);
    save_for_numpy("ours_c.npz", true);
    char args[1200];
    snprintf(args, sizeof args, "check %s %s", tpath("ours_s.npz"), tpath("ours_c.npz"));
    CHECK(gt_golden_run("io_npz.py", args));
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_numpy_files);
    RUN(test_numpy_reads_ours);
    return gt_test_finish();
}
