/* The FID Inception-v3 against PyTorch (torchvision's blocks with pytorch-fid's
 * changes, seeded random weights exported by name): the preprocessed input
 * (bit-exact for the TF1 resize), the 64/192/768/2048-d features and both
 * logits to 1e-4 max relative error (max |ours - torch| / max |torch|) on
 * Fashion-MNIST images (28x28 grayscale -> 299) and random RGB images of odd
 * sizes; the three forward paths (fused, ops with folded BN, ops with
 * BatchNorm) against each other; the chunked pipeline; errors. */
#include <zlib.h>

#include "../common/harness.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
#define REL_TOL 1e-4

/* n Fashion-MNIST test images (n, 1, 28, 28), or NULL when the file is absent. */
static uint8_t *read_fmnist(int n) {
    gzFile f = gzopen(FMNIST, "rb");
    if (!f) return NULL;
    unsigned char hdr[16];
    uint8_t *img = malloc((size_t)n * 784);
    bool ok = img && gzread(f, hdr, 16) == 16 && hdr[2] == 8 && hdr[3] == 3 && gzread(f, img, n * 784) == n * 784;
    gzclose(f);
    if (!ok) free(img);
    return ok ? img : NULL;
}

typedef struct {
    const char *name;
    int n, c, h, w, mode;
    uint8_t *img;
} group;

static uint8_t *random_u8(uint64_t seed, int64_t n) {
    uint8_t *p = malloc((size_t)n);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; p && i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        p[i] = (uint8_t)(s >> 24);
    }
    return p;
}

static gt_tensor *u8_tensor(const group *g) {
    int64_t n = (int64_t)g->n * g->c * g->h * g->w;
    int32_t *v = malloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++) v[i] = g->img[i];
    gt_tensor *t = gt_from_i32(4, (const int64_t[]){g->n, g->c, g->h, g->w}, v);
    free(v);
    return t;
}

/* max |a - b| / max |b| over the first `rows` rows (all when rows <= 0). */
static double rel_err(const gt_tensor *a, const gt_tensor *b, int64_t rows) {
    if (!a || !b) return INFINITY;
    int64_t n = gt_numel(b), per = n / b->shape[0];
    if (rows > 0) n = rows * per;
    if (gt_numel(a) < n) return INFINITY;
    const float *x = gt_data(a), *y = gt_data(b);
    double md = 0, mb = 0;
    for (int64_t i = 0; i < n; i++) {
        md = fmax(md, fabs((double)x[i] - y[i]));
        mb = fmax(mb, fabs((double)y[i]));
    }
    return mb > 0 ? md / mb : md;
}

static const char *FEAT[6] = {"pool64", "pool192", "pool768", "pool2048", "logits", "logits_unbiased"};

static gt_tensor *feat(const gt_inception_outputs *o, int i) {
    gt_tensor *t[6] = {o->pool64, o->pool192, o->pool768, o->pool2048, o->logits, o->logits_unbiased};
    return t[i];
}

static void check_features(const char *what, const char *grp, const gt_inception_outputs *o, int64_t rows) {
    char key[128];
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof key, "%s.%s", grp, FEAT[i]);
        double e = rel_err(feat(o, i), gt_golden(key), rows);
        CHECK_MSG(e <= REL_TOL, "%s %s: max relative error %.3g > %g", what, key, e, REL_TOL);
        if (e <= REL_TOL && i == 3) printf("  %-8s %-16s max rel err %.2e\n", what, key, e);
    }
}

static group G[5];
static char WEIGHTS[512], PTH[512];
static int NG;
static gt_inception *NET;

static void check_golden(void) {
    uint8_t *fm = read_fmnist(3);
    CHECK_MSG(fm != NULL, "cannot read %s", FMNIST);
    if (!fm) return;
    G[0] = (group){"fmnist", 3, 1, 28, 28, GT_RESIZE_TF1, fm};
    G[1] = (group){"rgb37x53", 1, 3, 37, 53, GT_RESIZE_TF1, random_u8(1, 3 * 37 * 53)};
    G[2] = (group){"rgb300x211", 1, 3, 300, 211, GT_RESIZE_TF1, random_u8(2, 3 * 300 * 211)};
    G[3] = (group){"clean45x40", 1, 3, 45, 40, GT_RESIZE_CLEAN, random_u8(3, 3 * 45 * 40)};
    G[4] = (group){"pfid33x41", 1, 3, 33, 41, GT_RESIZE_PYTORCH_FID, random_u8(4, 3 * 33 * 41)};
    NG = 5;
    const char *names[10];
    gt_tensor *ts[10];
    char nb[10][64];
    for (int i = 0; i < NG; i++) {
        snprintf(nb[2 * i], 64, "%s.img", G[i].name);
        snprintf(nb[2 * i + 1], 64, "%s.mode", G[i].name);
        names[2 * i] = nb[2 * i], names[2 * i + 1] = nb[2 * i + 1];
        ts[2 * i] = u8_tensor(&G[i]);
        ts[2 * i + 1] = gt_from_i32(1, (const int64_t[]){1}, (const int32_t[]){G[i].mode});
    }
    char path[512], args[2048];
    snprintf(path, sizeof path, "%s/inception_in.gtb", gt_test_tmpdir());
    snprintf(WEIGHTS, sizeof WEIGHTS, "%s/inception_w.safetensors", gt_test_tmpdir());
    snprintf(PTH, sizeof PTH, "%s/inception_w.pth", gt_test_tmpdir());
    CHECK(gt_golden_write(path, 2 * NG, names, ts));
    snprintf(args, sizeof args, "%s %s %s", path, WEIGHTS, PTH);
    if (!gt_golden_run("metrics_inception.py", args)) return;

    /* the weights file holds exactly the registry's tensors, by pytorch-fid's names */
    NET = gt_inception_new();
    CHECK(NET != NULL);
    if (!NET) return;
    gt_safetensors st;
    gt_st_init(&st);
    CHECK(gt_st_load(&st, WEIGHTS) == GT_OK);
    CHECK(st.n == 472 && gt_params_count(gt_inception_params(NET)) == 472);
    CHECK(gt_st_load_params(&st, "", gt_inception_params(NET), true, true) == GT_OK);
    gt_st_free(&st);
    CHECK_MSG(gt_inception_load(NET, WEIGHTS) == GT_OK, "%s", gt_last_error());
    char key[160];

    for (int i = 0; i < NG; i++) {
        group *g = &G[i];
        gt_tensor *x = gt_inception_preprocess(g->img, g->n, g->c, g->h, g->w, (gt_resize_mode)g->mode);
        snprintf(key, sizeof key, "%s.x", g->name);
        gt_tensor *want = gt_golden(key);
        if (g->mode == GT_RESIZE_TF1) CHECK_MSG(rel_err(x, want, 0) == 0.0, "%s: the TF1 input is not bit-exact", key);
        else CHECK_MSG(gt_test_close(key, x, want, 0, 1e-6f), "%s: clean input off", key);
        gt_inception_outputs o;
        CHECK(gt_inception_forward(NET, x, GT_INCEPTION_ALL, &o) == GT_OK);
        check_features("fast", g->name, &o, 0);
    }
}

/* The engine-op paths (BN folded, and BN as PyTorch runs it) on one image. */
static void check_paths(void) {
    if (!NET) return;
    gt_tensor *x = gt_inception_preprocess(G[0].img, 1, 1, 28, 28, GT_RESIZE_TF1);
    gt_inception_path paths[3] = {GT_INCEPTION_OPS_BN, GT_INCEPTION_OPS, GT_INCEPTION_FAST};
    const char *nm[3] = {"ops_bn", "ops", "fast"};
    gt_inception_outputs o[3];
    for (int p = 0; p < 3; p++) {
        gt_inception_set_path(NET, paths[p]);
        CHECK(gt_inception_get_path(NET) == paths[p]);
        CHECK(gt_inception_forward(NET, x, GT_INCEPTION_ALL, &o[p]) == GT_OK);
        check_features(nm[p], "fmnist", &o[p], 1);
    }
    /* folded BN (ops, fused) against BatchNorm as PyTorch runs it, directly; the fused path's
     * spatial means sum in double, the engine's gt_mean in float (~1e-5 apart over 73x73) */
    for (int p = 1; p < 3; p++)
        for (int i = 0; i < 6; i++) {
            double e = rel_err(feat(&o[p], i), feat(&o[0], i), 0), tol = p == 1 ? 2e-5 : REL_TOL;
            CHECK_MSG(e <= tol, "%s vs ops_bn %s: max relative error %.3g > %g", nm[p], FEAT[i], e, tol);
        }
}

/* Some features only (the forward stops early), and the chunked pipeline. */
static void check_extract(void) {
    if (!NET) return;
    gt_inception_outputs o;
    gt_inception_set_chunk(NET, 2); /* a batch of 3 runs as fused chunks of 2 and 1 */
    CHECK(gt_inception_extract(NET, G[0].img, 3, 1, 28, 28, GT_RESIZE_TF1,
                               GT_INCEPTION_POOL_64 | GT_INCEPTION_POOL_768, 3, &o) == GT_OK);
    CHECK(o.pool64 && o.pool768 && !o.pool192 && !o.pool2048 && !o.logits);
    CHECK(rel_err(o.pool64, gt_golden("fmnist.pool64"), 0) <= REL_TOL);
    CHECK(rel_err(o.pool768, gt_golden("fmnist.pool768"), 0) <= REL_TOL);
    gt_inception_set_chunk(NET, 1); /* chunks of one image inside the fused path */
    CHECK(gt_inception_extract(NET, G[2].img, 1, 3, 300, 211, GT_RESIZE_TF1,
                               GT_INCEPTION_POOL_192 | GT_INCEPTION_LOGITS, 0, &o) == GT_OK);
    CHECK(rel_err(o.pool192, gt_golden("rgb300x211.pool192"), 0) <= REL_TOL);
    CHECK(rel_err(o.logits, gt_golden("rgb300x211.logits"), 0) <= REL_TOL);
    gt_inception_set_chunk(NET, 0);
    CHECK(gt_inception_extract(NET, G[1].img, 1, 3, 37, 53, GT_RESIZE_TF1, GT_INCEPTION_POOL_64, 0, &o) == GT_OK);
    CHECK(o.pool64 && !o.pool192 && rel_err(o.pool64, gt_golden("rgb37x53.pool64"), 0) <= REL_TOL);
    /* an input that is not 299x299: the fused path against the engine's ops */
    gt_tensor *x = gt_test_uniform(7, 4, (const int64_t[]){2, 3, 150, 171}, -1.0f, 1.0f);
    gt_inception_outputs a, b;
    CHECK(gt_inception_forward(NET, x, GT_INCEPTION_ALL, &a) == GT_OK);
    gt_inception_set_path(NET, GT_INCEPTION_OPS);
    CHECK(gt_inception_forward(NET, x, GT_INCEPTION_ALL, &b) == GT_OK);
    gt_inception_set_path(NET, GT_INCEPTION_FAST);
    for (int i = 0; i < 6; i++)
        CHECK_MSG(rel_err(feat(&a, i), feat(&b, i), 0) <= REL_TOL, "150x171 %s: fast vs ops %.3g", FEAT[i],
                  rel_err(feat(&a, i), feat(&b, i), 0));
}

/* Threads on whole images (lanes) against threads on layers, and against the
 * PyTorch goldens: the same features whatever the chunks or thread count. */
static void check_lanes(void) {
    if (!NET) return;
    gt_inception_outputs o, l, m;
    gt_inception_set_parallel(NET, GT_INCEPTION_PAR_IMAGES); /* 3 images on 2 or 3 lanes */
    int chunks[3] = {0, 1, 2};
    for (int k = 0; k < 3; k++) {
        gt_inception_set_chunk(NET, chunks[k]);
        CHECK(gt_inception_extract(NET, G[0].img, 3, 1, 28, 28, GT_RESIZE_TF1, GT_INCEPTION_ALL, 3, &o) == GT_OK);
        check_features("lanes", "fmnist", &o, 0);
    }
    gt_inception_set_chunk(NET, 0);
    /* 7 images of 150x171 at 2 and 3 threads: AUTO picks lanes; LAYERS as the reference. Not
     * bit-identical: the chunks differ, so do the sgemm sizes and OpenBLAS's kernels for them;
     * a misplaced image is off by O(1) */
    gt_tensor *x = gt_test_uniform(11, 4, (const int64_t[]){7, 3, 150, 171}, -1.0f, 1.0f);
    int threads[2] = {2, 3};
    for (int t = 0; t < 2; t++) {
        gt_set_num_threads(threads[t]);
        gt_inception_set_parallel(NET, GT_INCEPTION_PAR_LAYERS);
        CHECK(gt_inception_forward(NET, x, GT_INCEPTION_ALL, &m) == GT_OK);
        gt_inception_set_parallel(NET, GT_INCEPTION_PAR_AUTO);
        gt_inception_set_chunk(NET, t ? 2 : 0);
        CHECK(gt_inception_forward(NET, x, GT_INCEPTION_ALL, &l) == GT_OK);
        for (int i = 0; i < 6; i++) {
            double e = rel_err(feat(&l, i), feat(&m, i), 0);
            CHECK_MSG(e <= 2e-5, "%d threads, 7 images %s: lanes vs layers %.3g", threads[t], FEAT[i], e);
        }
    }
    gt_set_num_threads(2);
    gt_inception_set_chunk(NET, 0);
    gt_inception_set_parallel(NET, GT_INCEPTION_PAR_AUTO);
}

/* Registries hold the same values. */
static bool same_weights(gt_inception *a, gt_inception *b) {
    gt_params *p = gt_inception_params(a), *q = gt_inception_params(b);
    for (int i = 0; i < p->n; i++)
        if (memcmp(gt_data(p->v[i].t), gt_data(q->v[i].t), sizeof(float) * (size_t)gt_numel(p->v[i].t)) != 0)
            return false;
    return true;
}

static bool file_has(const char *path, const char *needle) {
    FILE *f = fopen(path, "rb");
    char buf[8192] = {0};
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    return strstr(buf, needle) != NULL;
}

/* scripts/convert_inception.py on a .pth with the network's layout: refused
 * without the 6726825d SHA-256 prefix, converted with --skip-hash-check to a
 * file that loads to the same values. Then broken weight files. */
static void check_converter(void) {
    if (!NET) return;
    char out[600], err[600], cmd[2400];
    snprintf(out, sizeof out, "%s/converted.safetensors", gt_test_tmpdir());
    snprintf(err, sizeof err, "%s/convert.err", gt_test_tmpdir());
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/scripts/convert_inception.py %s %s 2>%s >/dev/null", GT_SOURCE_DIR,
             PTH, out, err);
    CHECK(system(cmd) != 0);
    CHECK(file_has(err, "expected it to start with 6726825d"));
    FILE *none = fopen(out, "rb"); /* nothing written on failure */
    CHECK(none == NULL);
    if (none) fclose(none);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/scripts/convert_inception.py %s %s --skip-hash-check 2>%s >/dev/null",
             GT_SOURCE_DIR, PTH, out, err);
    CHECK(system(cmd) == 0);
    gt_inception *net = gt_inception_new();
    CHECK_MSG(gt_inception_load(net, out) == GT_OK, "%s", gt_last_error());
    CHECK(same_weights(net, NET));
    /* the unconverted .pth */
    CHECK(gt_inception_load(net, PTH) == GT_ERR_FORMAT);
    CHECK(strstr(gt_last_error(), "convert_inception.py") != NULL);
    /* a truncated file */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/truncated.safetensors", gt_test_tmpdir());
    FILE *f = fopen(WEIGHTS, "rb"), *g = fopen(bad, "wb");
    char buf[65536];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (g) fwrite(buf, 1, n, g);
    if (f) fclose(f);
    if (g) fclose(g);
    CHECK(gt_inception_load(net, bad) == GT_ERR_FORMAT);
    CHECK(strstr(gt_last_error(), bad) != NULL);
    /* a file without the BN running statistics */
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_add_params(&s, NULL, gt_inception_params(NET), false) == GT_OK);
    snprintf(bad, sizeof bad, "%s/no_buffers.safetensors", gt_test_tmpdir());
    CHECK(gt_st_save(&s, bad) == GT_OK);
    gt_st_free(&s);
    CHECK(gt_inception_load(net, bad) != GT_OK);
    CHECK(strstr(gt_last_error(), "running_mean") != NULL || strstr(gt_last_error(), "running_var") != NULL);
    CHECK(same_weights(net, NET)); /* a failed load changes nothing */
    gt_inception_free(net);
    remove(out);
    remove(err);
    remove(bad);
    snprintf(bad, sizeof bad, "%s/truncated.safetensors", gt_test_tmpdir());
    remove(bad);
}

/* One run of the PyTorch script; the golden tensors live until the RUN ends. */
static void test_parity(void) {
    check_golden();
    check_paths();
    check_extract();
    check_lanes();
    check_converter();
    gt_inception_free(NET);
    NET = NULL;
    remove(WEIGHTS); /* ~100 MB each */
    remove(PTH);
}

static void test_errors(void) {
    uint8_t img[3 * 8 * 8] = {0};
    gt_clear_error();
    CHECK(gt_inception_preprocess(img, 1, 2, 8, 8, GT_RESIZE_TF1) == NULL);
    CHECK(strstr(gt_last_error(), "1 (grayscale) or 3 (RGB)") != NULL);
    CHECK(gt_inception_preprocess(img, 0, 3, 8, 8, GT_RESIZE_TF1) == NULL);
    CHECK(gt_inception_preprocess(img, 1, 3, 8, 8, (gt_resize_mode)7) == NULL);
    CHECK(gt_inception_preprocess(NULL, 1, 3, 8, 8, GT_RESIZE_TF1) == NULL);
    gt_inception *net = gt_inception_new();
    gt_inception_outputs o;
    gt_tensor *small = gt_zeros(4, (const int64_t[]){1, 3, 60, 60});
    CHECK(gt_inception_forward(net, small, GT_INCEPTION_POOL_2048, &o) == GT_ERR_SHAPE);
    CHECK(strstr(gt_last_error(), ">= 75") != NULL);
    gt_tensor *gray = gt_zeros(4, (const int64_t[]){1, 1, 299, 299});
    CHECK(gt_inception_forward(net, gray, GT_INCEPTION_POOL_2048, &o) == GT_ERR_SHAPE);
    CHECK(gt_inception_forward(net, gray, 0, &o) != GT_OK);
    CHECK(gt_inception_forward(net, NULL, GT_INCEPTION_POOL_2048, &o) != GT_OK);
    CHECK(gt_inception_extract(net, img, 1, 3, 8, 8, GT_RESIZE_TF1, 1u << 9, 0, &o) == GT_ERR_ARG);
    /* a missing weights file: where to get the .pth and how to convert it */
    CHECK(gt_inception_load(net, "/nonexistent/inception.safetensors") == GT_ERR_IO);
    const char *e = gt_last_error();
    CHECK(strstr(e, "/nonexistent/inception.safetensors") != NULL);
    CHECK(strstr(e, "pt_inception-2015-12-05-6726825d.pth") != NULL);
    CHECK(strstr(e, "https://github.com/mseitzer/pytorch-fid/releases") != NULL);
    CHECK(strstr(e, "python3 scripts/convert_inception.py") != NULL);
    CHECK(gt_inception_feature_dim(GT_INCEPTION_POOL_768) == 768 && gt_inception_feature_dim(3) == 0);
    gt_resize_mode m;
    CHECK(gt_resize_mode_parse("clean", &m) == GT_OK && m == GT_RESIZE_CLEAN);
    CHECK(gt_resize_mode_parse("bicubic", &m) == GT_ERR_ARG && strstr(gt_last_error(), "'tf1'"));
    gt_inception_free(net);
}

int main(void) {
    gt_set_num_threads(2);
    RUN(test_parity);
    RUN(test_errors);
    for (int i = 0; i < NG; i++) free(G[i].img);
    gt_golden_free();
    return gt_test_finish();
}
