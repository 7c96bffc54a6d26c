/* The Fashion-MNIST domain evaluator (gantry/fmnist.h) with the shipped
 * weights (assets/fmnist_classifier.safetensors):
 *   - the file loads, is small, and records its architecture, recipe and
 *     test accuracy;
 *   - its accuracy on the full fashion-mnist:test (10000 images) is >= 90%;
 *   - the classifier score (the Inception Score formula on its 10-class
 *     probabilities) of the test set, and FID(fashion-mnist:train, test) with
 *     its features -- "the floor" -- on 10000 images each, end-to-end timed;
 *   - the extractor: name, dims, output shapes, features >= 0 (ReLU), logits
 *     and features alone, batch-size independence, gray == gray-as-RGB;
 *   - where the weights are found ($GANTRY_FMNIST_WEIGHTS, next to the
 *     executable, the current directory) and errors that name the paths;
 *   - missing, truncated, corrupt, foreign, incomplete, mis-shaped or
 *     non-finite weights files: refused with a message, network unchanged. */
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/harness.h"
#include "gantry/fmnist.h"

#define SHIPPED GT_SOURCE_DIR "/assets/" GT_FMNIST_WEIGHTS_FILE

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool err_has(const char *s) { return strstr(gt_last_error(), s) != NULL; }
#define CHECK_ERR(call, want, text)                                                                            \
    do {                                                                                                       \
        gt_status st_ = (call);                                                                                \
        CHECK_MSG(st_ == (want) && err_has(text), "expected %s naming '%s', got %s: %s", gt_status_name(want), \
                  text, gt_status_name(st_), gt_last_error());                                                 \
    } while (0)


static const char *tpath(const char *name) { return gt_test_path(name); }

static uint8_t *random_u8(uint64_t seed, int64_t n) {
    uint8_t *p = malloc((size_t)n);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; p && i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        p[i] = (uint8_t)(s >> 24);
    }
    return p;
}

static bool write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* --- the shipped file ---------------------------------------------------------- */
static void test_shipped_file(void) {
    struct stat sb;
    CHECK_MSG(stat(SHIPPED, &sb) == 0, "%s is missing (run build/train_fmnist_classifier)", SHIPPED);
    if (stat(SHIPPED, &sb) != 0) return;
    CHECK_MSG(sb.st_size < 1024 * 1024, "%s is %lld bytes; it should stay small", SHIPPED, (long long)sb.st_size);
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_load(&s, SHIPPED) == GT_OK);
    const char *arch = gt_st_get_meta(&s, "arch"), *acc = gt_st_get_meta(&s, "test_accuracy");
    const char *recipe = gt_st_get_meta(&s, "recipe");
    CHECK(arch && !strcmp(arch, GT_FMNIST_ARCH));
    CHECK(acc && atof(acc) >= 0.90);
    CHECK(recipe && strstr(recipe, "adam"));
    printf("  %s: %lld bytes, %d tensors, arch %s, recorded test accuracy %s, trained in %s s\n", SHIPPED,
           (long long)sb.st_size, s.n, arch ? arch : "?", acc ? acc : "?",
           gt_st_get_meta(&s, "train_seconds") ? gt_st_get_meta(&s, "train_seconds") : "?");
    if (recipe) printf("  recipe: %s\n", recipe);
    gt_st_free(&s);
    gt_fmnist *net = gt_fmnist_new(0);
    CHECK(net && gt_fmnist_load(net, SHIPPED) == GT_OK);
    CHECK(gt_params_count(gt_fmnist_params(net)) == s.n || s.n == 0);
    gt_fmnist_free(net);
}

/* --- accuracy, classifier score, the FID floor ---------------------------------- */
static void test_accuracy_score_fid(void) {
    if (access(GT_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", R_OK) != 0 && !getenv("GANTRY_FASHION_MNIST_DIR")) {
        printf("  (skipped: %s not installed; apt-get install dataset-fashion-mnist)\n", GT_FASHION_MNIST_DIR);
        return;
    }
    double t0 = now_s();
    gt_extractor ex;
    gt_status st = gt_fmnist_extractor_open(SHIPPED, &ex);
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    if (st) return;
    gt_dataset *test = gt_dataset_open("fashion-mnist:test", 0, 0, NULL);
    gt_dataset_opts lim = {.limit = 10000};
    gt_dataset *train = gt_dataset_open("fashion-mnist:train", 0, 0, &lim);
    CHECK_MSG(test && train, "%s", gt_last_error());
    if (!test || !train) goto out;
    CHECK(test->n == 10000 && train->n == 10000 && test->labels);
    const int64_t n = test->n, D = ex.dim, K = ex.logits_dim;
    float *ft = malloc(sizeof(float) * (size_t)(n * D)), *lt = malloc(sizeof(float) * (size_t)(n * K));
    float *fr = malloc(sizeof(float) * (size_t)(train->n * D));
    double t1 = now_s();
    gt_image_batch bt = {test->pixels, n, test->c, test->h, test->w};
    gt_image_batch br = {train->pixels, train->n, train->c, train->h, train->w};
    CHECK(ex.extract(ex.ctx, &bt, ft, lt) == GT_OK);
    double t2 = now_s();
    CHECK(ex.extract(ex.ctx, &br, fr, NULL) == GT_OK);
    double t3 = now_s();
    int64_t ok = 0;
    for (int64_t i = 0; i < n; i++) {
        int best = 0;
        for (int k = 1; k < K; k++)
            if (lt[i * K + k] > lt[i * K + best]) best = k;
        ok += best == test->labels[i];
    }
    double acc = (double)ok / (double)n;
    CHECK_MSG(acc >= 0.90, "accuracy on fashion-mnist:test %.4f < 0.90", acc);
    printf("  accuracy on fashion-mnist:test: %.4f (%lld / %lld)\n", acc, (long long)ok, (long long)n);

    double is_mean = 0, is_std = 0;
    CHECK(gt_metric_is(lt, n, K, NULL, &is_mean, &is_std) == GT_OK);
    CHECK(isfinite(is_mean) && is_mean > 5.0 && is_mean <= 10.0);
    printf("  classifier score (IS formula, 10 splits) of fashion-mnist:test: %.4f +- %.4f\n", is_mean, is_std);

    gt_fid_stats sr = {0}, st_ = {0};
    double fid = NAN;
    CHECK(gt_fid_stats_compute(fr, train->n, D, &sr) == GT_OK);
    CHECK(gt_fid_stats_compute(ft, n, D, &st_) == GT_OK);
    CHECK(gt_metric_fid(&sr, &st_, &fid) == GT_OK);
    double t4 = now_s();
    CHECK_MSG(isfinite(fid) && fid > 0.0 && fid < 5.0, "FID floor %g is not small and positive", fid);
    printf("  FID(fashion-mnist:train[:10000], fashion-mnist:test) with fmnist features = %.4f (the floor)\n", fid);
    printf("  end-to-end FID on 10000 vs 10000 images: %.2f s (open %.2f s, extract %.2f + %.2f s = %.0f img/s, "
           "statistics + FID %.2f s)\n",
           t4 - t0, t1 - t0, t2 - t1, t3 - t2, (double)(n + train->n) / (t3 - t1), t4 - t3);
    /* a shifted distribution is further away than the floor */
    {
        gt_fid_stats sa = {0};
        double fid_a = NAN;
        int64_t half = n / 2;
        /* the test set's first half restricted to classes 0..4 vs the train statistics */
        int64_t m = 0;
        for (int64_t i = 0; i < half; i++)
            if (test->labels[i] < 5) memmove(ft + m++ * D, ft + i * D, sizeof(float) * (size_t)D);
        CHECK(gt_fid_stats_compute(ft, m, D, &sa) == GT_OK && gt_metric_fid(&sr, &sa, &fid_a) == GT_OK);
        CHECK_MSG(fid_a > 10 * fid, "FID of 5 classes vs all %g should be far above the floor %g", fid_a, fid);
        printf("  FID(train, test restricted to classes 0-4) = %.3f\n", fid_a);
        gt_fid_stats_free(&sa);
    }
    gt_fid_stats_free(&sr);
    gt_fid_stats_free(&st_);
    free(ft);
    free(lt);
    free(fr);
out:
    gt_dataset_free(test);
    gt_dataset_free(train);
    gt_extractor_free(&ex);
}

/* --- the extractor ---------------------------------------------------------------- */
static void test_extractor(void) {
    gt_extractor ex;
    if (gt_fmnist_extractor_open(SHIPPED, &ex) != GT_OK) {
        CHECK_MSG(false, "%s", gt_last_error());
        return;
    }
    /* "fmnist-<8 hex digits of the weights file's fingerprint>": cached statistics follow the weights */
    CHECK(!strncmp(ex.name, "fmnist-", 7) && strlen(ex.name) == 15 && strspn(ex.name + 7, "0123456789abcdef") == 8);
    CHECK(ex.dim == GT_FMNIST_FEATURE_DIM && ex.dim == 128 && ex.logits_dim == 10 && ex.batch > 0);
    CHECK(ex.extract && ex.destroy && ex.ctx);
    const int n = 7, C = 3, H = 32, W = 32;
    uint8_t *img = random_u8(9, (int64_t)n * C * H * W);
    float *f = malloc(sizeof(float) * n * 128), *l = malloc(sizeof(float) * n * 10);
    float *f2 = malloc(sizeof(float) * n * 128), *l2 = malloc(sizeof(float) * n * 10);
    gt_image_batch b = {img, n, C, H, W};
    CHECK(ex.extract(ex.ctx, &b, f, l) == GT_OK);
    bool finite = true, nonneg = true;
    for (int i = 0; i < n * 128; i++) finite &= isfinite(f[i]), nonneg &= f[i] >= 0;
    for (int i = 0; i < n * 10; i++) finite &= isfinite(l[i]);
    CHECK(finite && nonneg);
    /* features alone and logits alone give the same rows */
    memset(f2, 0, sizeof(float) * n * 128);
    memset(l2, 0, sizeof(float) * n * 10);
    CHECK(ex.extract(ex.ctx, &b, f2, NULL) == GT_OK && !memcmp(f, f2, sizeof(float) * n * 128));
    CHECK(ex.extract(ex.ctx, &b, NULL, l2) == GT_OK && !memcmp(l, l2, sizeof(float) * n * 10));
    /* rows do not depend on the batch they run in (eval-mode BN) */
    gt_fmnist *net = ex.ctx;
    CHECK(gt_fmnist_extract(net, img, n, C, H, W, 1, f2, l2) == GT_OK);
    CHECK(gt_test_close_buf("batch 1 vs 7 features", f2, f, n * 128, 1e-5f, 1e-6f));
    CHECK(gt_test_close_buf("batch 1 vs 7 logits", l2, l, n * 10, 1e-5f, 1e-6f));
    /* a gray image and the same image as RGB with equal channels */
    uint8_t *gray = random_u8(10, (int64_t)n * H * W), *rgb = malloc((size_t)n * 3 * H * W);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) memcpy(rgb + ((int64_t)i * 3 + c) * H * W, gray + (int64_t)i * H * W, H * W);
    gt_image_batch bg = {gray, n, 1, H, W}, bc = {rgb, n, 3, H, W};
    CHECK(ex.extract(ex.ctx, &bg, f, l) == GT_OK && ex.extract(ex.ctx, &bc, f2, l2) == GT_OK);
    CHECK(!memcmp(f, f2, sizeof(float) * n * 128) && !memcmp(l, l2, sizeof(float) * n * 10));
    /* 28x28 gray is fed as v / 255, untouched */
    {
        int m = gt_scope_begin();
        gt_tensor *x = gt_fmnist_preprocess(gray, 2, 1, 28, 28);
        bool same = x != NULL;
        for (int i = 0; x && i < 2 * 784; i++) same &= gt_data(x)[i] == (float)gray[i] / 255.0f;
        CHECK(same && x->shape[0] == 2 && x->shape[1] == 1 && x->shape[2] == 28 && x->shape[3] == 28);
        gt_scope_end(m);
    }
    /* the fused forward (fmnist_fast.c) against the engine's ops (gt_fmnist_forward, eval mode; the folded
     * BN rounds differently: ~2e-6 absolute on features up to ~10):
     * 150 images, so several chunks per thread, at 2 and 3 threads, and at batch 1 */
    {
        const int m150 = 150;
        uint8_t *many = random_u8(11, (int64_t)m150 * 784);
        float *ff = malloc(sizeof(float) * m150 * 128), *fl = malloc(sizeof(float) * m150 * 10);
        int mk = gt_scope_begin();
        bool prev = gt_no_grad_begin();
        gt_tensor *x = gt_fmnist_preprocess(many, m150, 1, 28, 28), *rf = NULL, *rl = NULL;
        CHECK(x && gt_fmnist_forward(net, x, &rf, &rl) == GT_OK);
        gt_grad_mode_restore(prev);
        const int threads[3] = {2, 3, 1}, batches[3] = {0, 0, 1};
        for (int t = 0; t < 3 && rf && rl; t++) {
            gt_set_num_threads(threads[t]);
            memset(ff, 0xff, sizeof(float) * m150 * 128); /* NaN: every row must be written */
            CHECK(gt_fmnist_extract(net, many, m150, 1, 28, 28, batches[t], ff, fl) == GT_OK);
            CHECK_MSG(gt_test_close_buf("fused vs ops features", ff, gt_data(rf), m150 * 128, 1e-5f, 3e-5f),
                      "%d threads, batch %d", threads[t], batches[t]);
            CHECK_MSG(gt_test_close_buf("fused vs ops logits", fl, gt_data(rl), m150 * 10, 1e-5f, 3e-5f),
                      "%d threads, batch %d", threads[t], batches[t]);
        }
        gt_set_num_threads(2);
        gt_scope_end(mk);
        free(many);
        free(ff);
        free(fl);
    }
    /* n = 0 is fine; bad inputs are refused */
    gt_image_batch b0 = {img, 0, C, H, W}, bad = {img, n, 2, H, W}, big = {img, n, 1, 0, W};
    CHECK(ex.extract(ex.ctx, &b0, f, l) == GT_OK);
    CHECK_ERR(ex.extract(ex.ctx, &bad, f, l), GT_ERR_ARG, "C 1 or 3");
    CHECK_ERR(ex.extract(ex.ctx, &big, f, l), GT_ERR_ARG, "(7, 1, 0, 32)");
    CHECK_ERR(ex.extract(ex.ctx, &b, NULL, NULL), GT_ERR_ARG, "no output");
    gt_image_batch bnull = {NULL, 3, 1, 28, 28};
    CHECK_ERR(ex.extract(ex.ctx, &bnull, f, l), GT_ERR_ARG, "NULL");
    CHECK_ERR(gt_fmnist_extract(net, img, n, C, H, W, -1, f, l), GT_ERR_ARG, "batch");
    {
        int m = gt_scope_begin();
        gt_tensor *x = gt_zeros(4, (int64_t[]){2, 3, 28, 28});
        gt_tensor *y = NULL;
        CHECK_ERR(gt_fmnist_forward(net, x, NULL, &y), GT_ERR_SHAPE, "(2, 3, 28, 28)");
        CHECK(y == NULL);
        gt_scope_end(m);
    }
    free(img), free(gray), free(rgb), free(f), free(l), free(f2), free(l2);
    gt_extractor_free(&ex);
    CHECK(ex.ctx == NULL);
}

/* --- finding the weights --------------------------------------------------------- */
static void test_weights_path(void) {
    char buf[4200], cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    unsetenv(GT_FMNIST_WEIGHTS_ENV);
    CHECK(gt_fmnist_weights_path("/some/where.safetensors", buf, sizeof buf) == GT_OK &&
          !strcmp(buf, "/some/where.safetensors"));
    setenv(GT_FMNIST_WEIGHTS_ENV, SHIPPED, 1);
    CHECK(gt_fmnist_weights_path(NULL, buf, sizeof buf) == GT_OK && !strcmp(buf, SHIPPED));
    setenv(GT_FMNIST_WEIGHTS_ENV, "/nonexistent/fm.safetensors", 1);
    CHECK_ERR(gt_fmnist_weights_path(NULL, buf, sizeof buf), GT_ERR_IO, "/nonexistent/fm.safetensors");
    gt_extractor ex;
    CHECK_ERR(gt_fmnist_extractor_open(NULL, &ex), GT_ERR_IO, GT_FMNIST_WEIGHTS_ENV);
    CHECK(ex.ctx == NULL && ex.extract == NULL);
    unsetenv(GT_FMNIST_WEIGHTS_ENV);
    /* from the source tree's root: ./assets (or next to the executable) */
    CHECK(chdir(GT_SOURCE_DIR) == 0);
    gt_status st = gt_fmnist_weights_path(NULL, buf, sizeof buf);
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    if (!st) printf("  shipped weights found at %s\n", buf);
    st = gt_fmnist_extractor_open(NULL, &ex);
    CHECK_MSG(st == GT_OK && ex.dim == 128, "%s", gt_last_error());
    gt_extractor_free(&ex);
    /* from elsewhere: found next to the executable (build/ or build/x/ under the
     * source tree), else an error that lists every path tried */
    CHECK(chdir(gt_test_tmpdir()) == 0);
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[len > 0 ? len : 0] = 0;
    st = gt_fmnist_weights_path(NULL, buf, sizeof buf);
    if (st == GT_OK) {
        CHECK(strstr(buf, "/assets/" GT_FMNIST_WEIGHTS_FILE) != NULL);
        printf("  from %s: found next to the executable (%s)\n", gt_test_tmpdir(), buf);
    } else {
        CHECK_ERR(st, GT_ERR_IO, "(in the current directory)");
        CHECK(err_has("../assets/" GT_FMNIST_WEIGHTS_FILE) && err_has(GT_FMNIST_WEIGHTS_ENV));
        printf("  from %s: not found, message: %s\n", gt_test_tmpdir(), gt_last_error());
    }
    CHECK(chdir(cwd) == 0);
    CHECK_ERR(gt_fmnist_weights_path(NULL, buf, 0), GT_ERR_ARG, "buf");
}

/* --- bad weights files ---------------------------------------------------------- */
static void fmnist_outputs(gt_fmnist *net, const uint8_t *img, float *f) {
    CHECK(gt_fmnist_extract(net, img, 4, 1, 28, 28, 0, f, f + 4 * 128) == GT_OK);
}

/* Writes a safetensors file from net's registry with arch metadata; drop
 * leaves one tensor out, extra adds one, reshape gives fc2.bias a wrong shape,
 * nan puts a NaN in conv2.weight. */
static const char *bad_file(const char *name, gt_fmnist *net, const char *arch, const char *drop, bool extra,
                            bool reshape, bool nan) {
    gt_params *P = gt_fmnist_params(net);
    gt_safetensors s;
    gt_st_init(&s);
    float *nanbuf = NULL, junk[3] = {1, 2, 3};
    for (int i = 0; i < P->n; i++) {
        const gt_param *e = &P->v[i];
        if (drop && !strcmp(e->name, drop)) continue;
        if (reshape && !strcmp(e->name, "fc2.bias")) {
            CHECK(gt_st_add(&s, e->name, GT_ST_F32, 1, (int64_t[]){3}, junk, true) == GT_OK);
            continue;
        }
        if (nan && !strcmp(e->name, "conv2.weight")) {
            int64_t n = gt_numel(e->t);
            nanbuf = malloc(sizeof(float) * (size_t)n);
            memcpy(nanbuf, gt_data(e->t), sizeof(float) * (size_t)n);
            nanbuf[5] = NAN;
            CHECK(gt_st_add(&s, e->name, GT_ST_F32, e->t->ndim, e->t->shape, nanbuf, true) == GT_OK);
            continue;
        }
        CHECK(gt_st_add_tensor(&s, e->name, e->t) == GT_OK);
    }
    if (extra) CHECK(gt_st_add(&s, "fc3.weight", GT_ST_F32, 1, (int64_t[]){3}, junk, true) == GT_OK);
    if (arch) CHECK(gt_st_set_meta(&s, "arch", arch) == GT_OK);
    const char *path = tpath(name);
    CHECK(gt_st_save(&s, path) == GT_OK);
    gt_st_free(&s);
    free(nanbuf);
    return path;
}

static void test_bad_weights(void) {
    gt_fmnist *net = gt_fmnist_new(0), *other = gt_fmnist_new(3);
    CHECK(net && other && gt_fmnist_load(net, SHIPPED) == GT_OK);
    if (!net || !other) return;
    uint8_t *img = random_u8(12, 4 * 784);
    float before[4 * 138], after[4 * 138];
    fmnist_outputs(net, img, before);

    CHECK_ERR(gt_fmnist_load(net, tpath("nope.safetensors")), GT_ERR_IO, "nope.safetensors");
    CHECK(err_has("not found"));
    CHECK_ERR(gt_fmnist_load(net, gt_test_tmpdir()), GT_ERR_IO, "not a regular file");
    CHECK_ERR(gt_fmnist_load(net, NULL), GT_ERR_ARG, "NULL");
    /* truncated copies of the shipped file and random bytes */
    void *buf = NULL;
    size_t n = 0;
    CHECK(gt_read_file(SHIPPED, &buf, &n, 0) == GT_OK);
    size_t cuts[] = {0, 5, 8, 100, n / 2, n - 1};
    for (int i = 0; buf && i < 6; i++) {
        const char *p = tpath("cut.safetensors");
        CHECK(write_bytes(p, buf, cuts[i]));
        CHECK_ERR(gt_fmnist_load(net, p), GT_ERR_FORMAT, "not a valid safetensors file");
        CHECK(err_has("cut.safetensors"));
    }
    uint8_t *junk = random_u8(13, 4096);
    char pj[600];
    snprintf(pj, sizeof pj, "%s", tpath("junk.safetensors"));
    CHECK(write_bytes(pj, junk, 4096));
    CHECK_ERR(gt_fmnist_load(net, pj), GT_ERR_FORMAT, "junk.safetensors");
    free(junk);
    free(buf);
    /* valid safetensors, wrong content */
    gt_status st;
    CHECK_ERR(gt_fmnist_load(net, bad_file("noarch.safetensors", other, NULL, NULL, false, false, false)),
              GT_ERR_FORMAT, "\"arch\" is missing");
    CHECK_ERR(gt_fmnist_load(net, bad_file("arch.safetensors", other, "resnet-50", NULL, false, false, false)),
              GT_ERR_FORMAT, "\"resnet-50\"");
    CHECK(err_has(GT_FMNIST_ARCH));
    st = gt_fmnist_load(net, bad_file("drop.safetensors", other, GT_FMNIST_ARCH, "bn2.running_var", false, false,
                                      false));
    CHECK_MSG(st != GT_OK && err_has("bn2.running_var") && err_has("missing"), "%s", gt_last_error());
    st = gt_fmnist_load(net, bad_file("shape.safetensors", other, GT_FMNIST_ARCH, NULL, false, true, false));
    CHECK_MSG(st != GT_OK && err_has("fc2.bias") && err_has("shape.safetensors"), "%s", gt_last_error());
    st = gt_fmnist_load(net, bad_file("extra.safetensors", other, GT_FMNIST_ARCH, NULL, true, false, false));
    CHECK_MSG(st != GT_OK && err_has("fc3.weight"), "%s", gt_last_error());
    CHECK_ERR(gt_fmnist_load(net, bad_file("nan.safetensors", other, GT_FMNIST_ARCH, NULL, false, false, true)),
              GT_ERR_FORMAT, "conv2.weight");
    /* after every failed load the network computes what it did */
    fmnist_outputs(net, img, after);
    CHECK(!memcmp(before, after, sizeof before));
    /* the extractor over a bad file: an error, nothing half-open */
    gt_extractor ex;
    CHECK_ERR(gt_fmnist_extractor_open(pj, &ex), GT_ERR_FORMAT, "junk.safetensors");
    CHECK(ex.ctx == NULL && ex.extract == NULL);
    CHECK_ERR(gt_fmnist_extractor_open(tpath("nope.safetensors"), &ex), GT_ERR_IO, "nope.safetensors");
    CHECK_ERR(gt_fmnist_extractor_open(NULL, NULL), GT_ERR_ARG, "NULL");
    /* a save / load round trip is exact, metadata kept */
    const char *k[] = {"test_accuracy"}, *v[] = {"0.5"};
    const char *rt = tpath("rt.safetensors");
    CHECK(gt_fmnist_save(other, rt, 1, k, v) == GT_OK);
    CHECK(gt_fmnist_load(net, rt) == GT_OK);
    float o1[4 * 138], o2[4 * 138];
    fmnist_outputs(net, img, o1);
    fmnist_outputs(other, img, o2);
    CHECK(!memcmp(o1, o2, sizeof o1));
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_load(&s, rt) == GT_OK && gt_st_get_meta(&s, "test_accuracy") &&
          !strcmp(gt_st_get_meta(&s, "test_accuracy"), "0.5"));
    gt_st_free(&s);
    /* other weights: another extractor name, so another statistics cache key */
    gt_extractor e1, e2;
    CHECK(gt_fmnist_extractor_open(SHIPPED, &e1) == GT_OK && gt_fmnist_extractor_open(rt, &e2) == GT_OK);
    CHECK_MSG(strcmp(e1.name, e2.name) != 0, "shipped and other weights share the name %s", e1.name);
    char p1[1024], p2[1024];
    CHECK(gt_stats_cache_path("fashion-mnist:test", e1.name, "none", 100, p1, sizeof p1) == GT_OK &&
          gt_stats_cache_path("fashion-mnist:test", e2.name, "none", 100, p2, sizeof p2) == GT_OK && strcmp(p1, p2));
    gt_extractor_free(&e1);
    gt_extractor_free(&e2);
    CHECK_ERR(gt_fmnist_save(other, NULL, 0, NULL, NULL), GT_ERR_ARG, "path");
    free(img);
    gt_fmnist_free(net);
    gt_fmnist_free(other);
}

/* --- the trainer (tools/train_fmnist_classifier, built beside this test) ------------- */
static void test_trainer(void) {
    char exe[4096], cmd[9000];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[len > 0 ? len : 0] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    char tool[4200];
    snprintf(tool, sizeof tool, "%s/train_fmnist_classifier", exe);
    if (access(tool, X_OK) != 0 || access(GT_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        printf("  (skipped: %s or Fashion-MNIST not there)\n", tool);
        return;
    }
    const char *out = tpath("trained.safetensors"), *log = tpath("trainer.log");
    snprintf(cmd, sizeof cmd, "%s --epochs 1 --limit 512 --batch 64 --seed 3 --out %s > %s 2>&1", tool, out, log);
    CHECK_MSG(system(cmd) == 0, "%s failed (see %s)", cmd, log);
    gt_fmnist *net = gt_fmnist_new(0);
    CHECK_MSG(net && gt_fmnist_load(net, out) == GT_OK, "%s", gt_last_error());
    gt_fmnist_free(net);
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_load(&s, out) == GT_OK);
    const char *recipe = gt_st_get_meta(&s, "recipe"), *acc = gt_st_get_meta(&s, "test_accuracy");
    CHECK(recipe && strstr(recipe, "\"images\": 512") && strstr(recipe, "\"epochs\": 1"));
    CHECK(acc && atof(acc) > 0.3); /* 8 steps on 512 images: far better than chance */
    if (acc) printf("  trainer: 8 steps on 512 images -> test accuracy %s\n", acc);
    gt_st_free(&s);
    /* bad flags: exit status 2, a message naming the flag, nothing written */
    const char *out2 = tpath("never.safetensors");
    snprintf(cmd, sizeof cmd, "%s --epochs 0 --out %s > %s 2>&1", tool, out2, log);
    int rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 2 && access(out2, F_OK) != 0);
    void *buf = NULL;
    size_t n = 0;
    CHECK(gt_read_file(log, &buf, &n, 0) == GT_OK && buf && strstr(buf, "--epochs"));
    free(buf);
    snprintf(cmd, sizeof cmd, "%s --bogus > %s 2>&1", tool, log);
    rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 2);
}

/* Passive OpenMP waiting (as cli/main.c): spinning workers make the CNN
 * many times slower on a busy 2-core machine. */
int main(int argc, char **argv) {
    (void)argc;
    if (!getenv("OMP_WAIT_POLICY") && setenv("OMP_WAIT_POLICY", "passive", 1) == 0) execv("/proc/self/exe", argv);
    RUN(test_shipped_file);
    RUN(test_extractor);
    RUN(test_weights_path);
    RUN(test_bad_weights);
    RUN(test_accuracy_score_fid);
    RUN(test_trainer);
    return gt_test_finish();
}
