/* Evaluation inputs and `gantry eval`: image sources (.npy / .npz layouts,
 * Fashion-MNIST, statistics files told apart, bad files), feature extraction,
 * the command end to end with the pixels extractor (values equal the library's
 * exactly), a checkpoint's generator against a folder of its own samples,
 * the Inception-v3 extractor with random weights and the statistics cache,
 * and the command's errors. */
#include <cjson/cJSON.h>

#include "../cli/cli_util.h"
#include "gantry/inception.h"
#include "metrics_test_util.h"

static const char *tp(const char *name) { return gt_test_path(name); }

/* n images (n, c, h, w) with a pattern that depends on the seed */
static uint8_t *pattern(int64_t n, int c, int h, int w, int seed) {
    uint8_t *p = malloc((size_t)(n * c * h * w));
    for (int64_t i = 0; i < n * c * h * w; i++) p[i] = (uint8_t)((i * 37 + seed * 101 + (i / 7) * (i % 13)) % 256);
    return p;
}

static void test_sources(void) {
    int64_t n = 5;
    uint8_t *chw = pattern(n, 3, 4, 6, 1), *hwc = malloc(5 * 72), *out = malloc(5 * 72);
    for (int64_t i = 0; i < n; i++) gt_chw_to_hwc_u8(chw + i * 72, hwc + i * 72, 4, 6, 3);
    CHECK(gt_npy_save(tp("chw.npy"), GT_NPY_U1, 4, (int64_t[]){5, 3, 4, 6}, chw) == GT_OK);
    CHECK(gt_npy_save(tp("hwc.npy"), GT_NPY_U1, 4, (int64_t[]){5, 4, 6, 3}, hwc) == GT_OK);
    CHECK(gt_npy_save(tp("gray.npy"), GT_NPY_U1, 3, (int64_t[]){5, 4, 6}, chw) == GT_OK);
    const char *files[3] = {"chw.npy", "hwc.npy", "gray.npy"};
    for (int f = 0; f < 3; f++) {
        gt_image_source *s = gt_image_source_open(tp(files[f]), 0);
        CHECK_MSG(s != NULL, "%s: %s", files[f], gt_last_error());
        if (!s) continue;
        int c, h, w;
        gt_image_source_dims(s, &c, &h, &w);
        CHECK(gt_image_source_count(s) == 5 && h == 4 && w == 6 && c == (f == 2 ? 1 : 3));
        CHECK(gt_image_source_read(s, 1, 3, out) == GT_OK);
        CHECK_MSG(memcmp(out, chw + (f == 2 ? 24 : 72), (size_t)(3 * c * 24)) == 0, "%s: pixels differ", files[f]);
        CHECK(gt_image_source_read(s, 3, 3, out) == GT_ERR_ARG); /* past the end */
        gt_image_source_free(s);
    }
    /* limit, npz members: "images", else arr_0, else the only array */
    gt_npz z;
    gt_npz_init(&z);
    CHECK(gt_npz_add(&z, "labels", GT_NPY_I4, 1, (int64_t[]){5}, (int32_t[]){0, 1, 2, 3, 4}) == GT_OK);
    CHECK(gt_npz_add(&z, "images", GT_NPY_U1, 4, (int64_t[]){5, 4, 6, 3}, hwc) == GT_OK);
    CHECK(gt_npz_save(&z, tp("imgs.npz"), true) == GT_OK);
    gt_npz_free(&z);
    gt_image_source *s = gt_image_source_open(tp("imgs.npz"), 2);
    CHECK(s && gt_image_source_count(s) == 2 && gt_image_source_read(s, 0, 2, out) == GT_OK &&
          memcmp(out, chw, 144) == 0);
    gt_image_source_free(s);
    gt_npz_init(&z);
    CHECK(gt_npz_add(&z, "a", GT_NPY_U1, 3, (int64_t[]){5, 4, 6}, chw) == GT_OK);
    CHECK(gt_npz_add(&z, "b", GT_NPY_U1, 3, (int64_t[]){5, 4, 6}, chw) == GT_OK);
    CHECK(gt_npz_save(&z, tp("two.npz"), false) == GT_OK);
    gt_npz_free(&z);
    CHECK(gt_image_source_open(tp("two.npz"), 0) == NULL);
    CHECK_MSG(has_text(gt_last_error(), "[a, b]") && has_text(gt_last_error(), "'images'"), "%s", gt_last_error());
    /* not uint8, not images */
    float fl[24] = {0};
    CHECK(gt_npy_save(tp("float.npy"), GT_NPY_F4, 3, (int64_t[]){1, 4, 6}, fl) == GT_OK);
    CHECK(gt_image_source_open(tp("float.npy"), 0) == NULL);
    CHECK_MSG(has_text(gt_last_error(), "<f4") && has_text(gt_last_error(), "uint8"), "%s", gt_last_error());
    CHECK(gt_npy_save(tp("vec.npy"), GT_NPY_U1, 2, (int64_t[]){4, 6}, chw) == GT_OK);
    CHECK(gt_image_source_open(tp("vec.npy"), 0) == NULL);
    CHECK_MSG(has_text(gt_last_error(), "(4, 6)"), "%s", gt_last_error());
    CHECK(gt_image_source_open(tp("missing.npy"), 0) == NULL);
    CHECK_MSG(has_text(gt_last_error(), "missing.npy"), "%s", gt_last_error());
    /* statistics files are inputs too, but not image sources */
    gt_fid_stats st;
    CHECK(gt_fid_stats_alloc(&st, 4) == GT_OK);
    CHECK(gt_fid_stats_save(tp("st.npz"), &st) == GT_OK);
    gt_fid_stats_free(&st);
    gt_image_source *img = NULL;
    CHECK(gt_eval_input_open(tp("st.npz"), 0, &img, &st) == GT_OK && !img && st.dim == 4);
    gt_fid_stats_free(&st);
    CHECK(gt_image_source_open(tp("st.npz"), 0) == NULL);
    CHECK_MSG(has_text(gt_last_error(), "statistics file"), "%s", gt_last_error());
    /* Fashion-MNIST through gantry/data.h */
    s = gt_image_source_open("fashion-mnist:test", 7);
    CHECK_MSG(s != NULL, "%s", gt_last_error());
    if (s) {
        int c, h, w;
        gt_image_source_dims(s, &c, &h, &w);
        CHECK(gt_image_source_count(s) == 7 && c == 1 && h == 28 && w == 28);
    }
    gt_image_source_free(s);
    free(chw);
    free(hwc);
    free(out);
}

static int g_calls;
static void count_progress(int64_t done, int64_t total, void *user) {
    (void)user;
    g_calls++;
    CHECK(done <= total && total == 300);
}

static void test_extract(void) {
    uint8_t *px = pattern(300, 1, 5, 5, 2);
    CHECK(gt_npy_save(tp("px.npy"), GT_NPY_U1, 3, (int64_t[]){300, 5, 5}, px) == GT_OK);
    gt_image_source *s = gt_image_source_open(tp("px.npy"), 0);
    gt_extractor ex;
    CHECK(gt_extractor_open("pixels", &(gt_extractor_opts){.c = 1, .h = 5, .w = 5}, &ex) == GT_OK);
    CHECK(ex.dim == 25 && ex.logits_dim == 0);
    gt_feature_set fs;
    g_calls = 0;
    CHECK(gt_features_extract(&ex, s, 0, false, count_progress, NULL, &fs) == GT_OK);
    CHECK(fs.n == 300 && fs.dim == 25 && g_calls == 2); /* batches of 256 */
    int64_t bad = 0;
    for (int64_t i = 0; i < 300 * 25; i++) bad += fs.feats[i] != (float)px[i] / 255.0f;
    CHECK(bad == 0);
    gt_feature_set_free(&fs);
    CHECK(gt_features_extract(&ex, s, 10, true, NULL, NULL, &fs) == GT_ERR_ARG && fs.feats == NULL);
    CHECK_MSG(has_text(gt_last_error(), "no class logits"), "%s", gt_last_error());
    gt_extractor_free(&ex);
    /* the shipped Fashion-MNIST classifier: 128-d features, 10 class logits */
    CHECK_MSG(gt_extractor_open("fmnist", NULL, &ex) == GT_OK, "%s", gt_last_error());
    CHECK(ex.dim == 128 && ex.logits_dim == 10);
    gt_extractor_free(&ex);
    CHECK(gt_extractor_open("vgg", NULL, &ex) == GT_ERR_ARG);
    CHECK_MSG(has_text(gt_last_error(), "'vgg'"), "%s", gt_last_error());
    char cache[700];
    snprintf(cache, sizeof cache, "%s/nocache", gt_test_tmpdir());
    setenv("GANTRY_CACHE", cache, 1);
    CHECK(gt_extractor_open("inception", NULL, &ex) == GT_ERR_IO);
    CHECK_MSG(has_text(gt_last_error(), GT_INCEPTION_WEIGHTS_PTH), "%s", gt_last_error());
    unsetenv("GANTRY_CACHE");
    gt_image_source_free(s);
    free(px);
}

/* The value of key in the "metrics" object of a --json file. */
static double json_metric(const char *path, const char *key) {
    size_t n = 0;
    unsigned char *b = gt_test_read_all(path, &n);
    cJSON *root = b ? cJSON_ParseWithLength((const char *)b, n) : NULL;
    free(b);
    cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "metrics"), key);
    double r = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    cJSON_Delete(root);
    return r;
}

static void test_cli_pixels(void) {
    uint8_t *a = pattern(120, 3, 8, 8, 3), *b = pattern(100, 3, 8, 8, 4);
    for (int64_t i = 0; i < 100 * 192; i++) b[i] = (uint8_t)((b[i] + a[i]) / 2);
    CHECK(gt_npy_save(tp("a.npy"), GT_NPY_U1, 4, (int64_t[]){120, 3, 8, 8}, a) == GT_OK);
    CHECK(gt_npy_save(tp("b.npy"), GT_NPY_U1, 4, (int64_t[]){100, 3, 8, 8}, b) == GT_OK);
    CHECK_CLI(0, "FID", "eval", "--real", tp("a.npy"), "--fake", tp("b.npy"), "--extractor", "pixels", "--metrics",
              "fid,kid,pr,dc", "--kid-subsets", "7", "--json", tp("pix.json"), "--save-real-stats", tp("a_st.npz"), "--save-fake-stats", tp("b_st.npz"));
    CHECK(gt_cli_said("KID") && gt_cli_said("precision") && gt_cli_said("coverage") && gt_cli_said("img/s"));
    /* the library on the same features */
    float *fa = malloc(120 * 192 * 4), *fb = malloc(100 * 192 * 4);
    for (int64_t i = 0; i < 120 * 192; i++) fa[i] = (float)a[i] / 255.0f;
    for (int64_t i = 0; i < 100 * 192; i++) fb[i] = (float)b[i] / 255.0f;
    double fid, km, ks;
    gt_prdc_result r;
    gt_kid_opts ko = gt_kid_default_opts();
    ko.subsets = 7, ko.subset_size = 0;
    CHECK(gt_metric_fid_features(fa, 120, fb, 100, 192, &fid) == GT_OK);
    CHECK(gt_metric_kid(fb, 100, fa, 120, 192, &ko, &km, &ks) == GT_OK);
    CHECK(gt_metric_prdc(fa, 120, fb, 100, 192, NULL, &r) == GT_OK);
    const char *js = tp("pix.json");
    /* the command and the library take different paths to the same FID (statistics first, BLAS reductions):
       1e-12 relative; that --json reads back as exactly what was computed is tests/io/test_json_number.c */
    check_rel("FID: gantry eval vs the library", json_metric(js, "frechet_inception_distance"), fid, 1e-12, 0);
    /* KID: BLAS / OpenMP reductions may round differently in another process */
    check_rel("KID mean: gantry eval vs the library", json_metric(js, "kernel_inception_distance_mean"), km, 1e-12, 0);
    check_rel("KID std: gantry eval vs the library", json_metric(js, "kernel_inception_distance_std"), ks, 1e-9, 0);
    CHECK(json_metric(js, "precision") == r.precision && json_metric(js, "recall") == r.recall);
    CHECK(json_metric(js, "density") == r.density && json_metric(js, "coverage") == r.coverage);
    /* the saved real statistics stand in for the real images */
    CHECK_CLI(0, "FID", "eval", "--real", tp("a_st.npz"), "--fake", tp("b.npy"), "--extractor", "pixels", "--json",
              tp("pix2.json"), "--quiet");
    check_rel("FID from the saved statistics", json_metric(tp("pix2.json"), "frechet_inception_distance"), fid, 1e-12,
              0);
    /* --json reads back as exactly the value computed: the library on the same two statistics files, in this
       process, is the same computation, so the numbers agree to the last bit */
    CHECK_CLI(0, "FID", "eval", "--real", tp("a_st.npz"), "--fake", tp("b_st.npz"), "--json", tp("pix3.json"),
              "--quiet");
    gt_fid_stats sa = {0}, sb = {0};
    double fid_lib = NAN;
    CHECK(gt_fid_stats_load(tp("a_st.npz"), &sa) == GT_OK && gt_fid_stats_load(tp("b_st.npz"), &sb) == GT_OK &&
          gt_metric_fid(&sa, &sb, &fid_lib) == GT_OK);
    double fid_json = json_metric(tp("pix3.json"), "frechet_inception_distance");
    CHECK_MSG(memcmp(&fid_json, &fid_lib, sizeof fid_lib) == 0, "FID in --json %.17g, computed %.17g", fid_json,
              fid_lib);
    gt_fid_stats_free(&sa);
    gt_fid_stats_free(&sb);
    free(fa);
    free(fb);
    free(a);
    free(b);
}

static void test_cli_errors(void) {
    CHECK_CLI(2, "--fake SRC (or --ckpt FILE) is required", "eval", "--real", tp("a.npy"));
    CHECK_CLI(2, "--real SRC is required", "eval", "--fake", tp("a.npy"), "--metrics", "kid");
    CHECK_CLI(2, "unknown metric 'fd'", "eval", "--fake", tp("a.npy"), "--real", tp("a.npy"), "--metrics", "fid,fd");
    CHECK_CLI(2, "--resize must be tf1, clean or pytorch-fid", "eval", "--fake", tp("a.npy"), "--real", tp("a.npy"), "--resize",
              "bicubic");
    CHECK_CLI(2, "--extractor must be", "eval", "--fake", tp("a.npy"), "--real", tp("a.npy"), "--extractor", "vgg");
    CHECK_CLI(2, "--n must be", "eval", "--fake", tp("a.npy"), "--real", tp("a.npy"), "--n", "0");
    CHECK_CLI(2, "serves FID only", "eval", "--real", tp("a_st.npz"), "--fake", tp("b.npy"), "--extractor", "pixels",
              "--metrics", "fid,kid");
    CHECK_CLI(2, "needs class logits", "eval", "--fake", tp("b.npy"), "--extractor", "pixels", "--metrics", "is");
    CHECK_CLI(1, "missing.npy", "eval", "--real", tp("missing.npy"), "--fake", tp("b.npy"), "--extractor", "pixels");
    /* a corrupt statistics file */
    FILE *f = fopen(tp("bad.npz"), "wb");
    fputs("PK\003\004 not really a zip", f);
    fclose(f);
    CHECK_CLI(1, "bad.npz", "eval", "--real", tp("bad.npz"), "--fake", tp("b.npy"), "--extractor", "pixels");
    /* statistics of another feature size */
    gt_fid_stats st;
    CHECK(gt_fid_stats_alloc(&st, 10) == GT_OK);
    CHECK(gt_fid_stats_save(tp("st10.npz"), &st) == GT_OK);
    gt_fid_stats_free(&st);
    CHECK_CLI(1, "different feature sizes", "eval", "--real", tp("st10.npz"), "--fake", tp("b.npy"), "--extractor",
              "pixels", "--quiet");
    /* too few samples for a metric */
    CHECK_CLI(1, "needs more than k", "eval", "--real", tp("a.npy"), "--fake", tp("b.npy"), "--n", "3",
              "--extractor", "pixels", "--metrics", "pr", "--quiet");
    CHECK_CLI(1, "subset size 50 is larger", "eval", "--real", tp("a.npy"), "--fake", tp("b.npy"), "--n", "20",
              "--extractor", "pixels", "--metrics", "kid", "--kid-subset-size", "50", "--quiet");
    CHECK_CLI(1, "at least 2 samples", "eval", "--real", tp("a.npy"), "--fake", tp("b.npy"), "--n", "1",
              "--extractor", "pixels", "--quiet");
    /* an output path that cannot be written: exit 1, the path named, before any image is read */
    CHECK_CLI(1, "no-such-dir", "eval", "--real", tp("a.npy"), "--fake", tp("b.npy"), "--extractor", "pixels",
              "--json", "/no-such-dir/x.json");
    CHECK_MSG(!gt_cli_said("images") && !gt_cli_said("FID"), "worked before failing:\n%s", gt_cli_out);
    CHECK_CLI(1, "--save-real-stats: cannot write", "eval", "--real", tp("a.npy"), "--fake", tp("b.npy"),
              "--extractor", "pixels", "--save-real-stats", gt_test_tmpdir());
    CHECK(!gt_cli_said("images"));
    /* one image file where a dataset belongs: said what it is and what is expected */
    uint8_t px[28 * 28] = {0};
    CHECK(gt_png_write(tp("one.png"), px, 28, 28, 1) == GT_OK);
    CHECK_CLI(1, "single PNG image", "eval", "--real", tp("one.png"), "--fake", tp("b.npy"), "--extractor", "pixels");
    CHECK(gt_cli_said("folder") && !gt_cli_said("IDX file (magic"));
    /* an array by content, whatever its name */
    CHECK_CLI(0, "FID", "eval", "--real", tp("a.npy"), "--fake", tp("b.npy"), "--extractor", "pixels", "--quiet",
              "--json", tp("named.json"));
    CHECK(link(tp("a.npy"), tp("a_array.dat")) == 0);
    CHECK_CLI(0, "FID", "eval", "--real", tp("a_array.dat"), "--fake", tp("b.npy"), "--extractor", "pixels",
              "--quiet", "--json", tp("sniffed.json"));
    CHECK(json_metric(tp("sniffed.json"), "frechet_inception_distance") ==
          json_metric(tp("named.json"), "frechet_inception_distance"));
}

/* A checkpoint's generator evaluated on the fly equals a folder of the same
 * samples written by `gantry sample`. */
static void test_cli_checkpoint(void) {
    CHECK(gt_test_write_idx(tp("tiny-images-idx3-ubyte"), 64));
    CHECK_CLI(0, NULL, "train", "--data", tp("tiny-images-idx3-ubyte"), "--steps", "2", "--out", tp("run"), "--res",
              "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "16", "--quiet");
    char ckpt[800];
    snprintf(ckpt, sizeof ckpt, "%s/run/last.safetensors", gt_test_tmpdir());
    CHECK_CLI(0, NULL, "sample", "--ckpt", ckpt, "--n", "40", "--seed", "3", "--outdir", tp("samples"));
    CHECK_CLI(0, "FID", "eval", "--fake", ckpt, "--n", "40", "--seed", "3", "--real", tp("tiny-images-idx3-ubyte"),
              "--extractor", "pixels", "--metrics", "fid,pr", "--json", tp("ck.json"));
    CHECK(gt_cli_said("EMA generator"));
    CHECK_CLI(0, "FID", "eval", "--fake", tp("samples"), "--n", "40", "--real", tp("tiny-images-idx3-ubyte"),
              "--extractor", "pixels", "--metrics", "fid,pr", "--json", tp("dir.json"), "--quiet");
    double a = json_metric(tp("ck.json"), "frechet_inception_distance");
    double b = json_metric(tp("dir.json"), "frechet_inception_distance");
    CHECK_MSG(isfinite(a) && a == b, "checkpoint FID %.17g vs its samples' folder %.17g", a, b);
    CHECK(json_metric(tp("ck.json"), "precision") == json_metric(tp("dir.json"), "precision"));
    /* the checkpoint against its own samples: FID 0 */
    CHECK_CLI(0, "FID", "eval", "--fake", ckpt, "--n", "40", "--seed", "3", "--real", tp("samples"), "--extractor",
              "pixels", "--json", tp("self.json"), "--quiet");
    double z = json_metric(tp("self.json"), "frechet_inception_distance");
    CHECK_MSG(fabs(z) < 1e-9, "FID of a checkpoint against its own samples: %.3g", z);
    CHECK_CLI(1, "png.safetensors", "eval", "--fake", tp("png.safetensors"), "--real", tp("samples"));
}

/* Random Inception-v3 weights (He-normal convs, unit BN), saved by name. */
static bool write_random_inception(const char *path) {
    gt_inception *net = gt_inception_new();
    if (!net) return false;
    gt_params *P = gt_inception_params(net);
    gt_rng r;
    gt_rng_init(&r, 77);
    for (int i = 0; i < P->n; i++) {
        gt_tensor *t = P->v[i].t;
        const char *nm = P->v[i].name;
        int64_t numel = gt_numel(t);
        float *d = gt_data(t);
        size_t len = strlen(nm);
        bool w = len > 6 && strcmp(nm + len - 6, "weight") == 0;
        if (strstr(nm, "conv.weight")) {
            gt_rng_normal(&r, d, numel, 0.0f, sqrtf(2.0f / (float)(numel / t->shape[0])));
        } else if (strstr(nm, "fc.weight")) {
            gt_rng_normal(&r, d, numel, 0.0f, 0.05f);
        } else {
            float v = (w || strstr(nm, "running_var")) ? 1.0f : 0.0f;
            for (int64_t k = 0; k < numel; k++) d[k] = v;
        }
    }
    gt_safetensors st;
    gt_st_init(&st);
    bool ok = gt_st_add_params(&st, "", P, true) == GT_OK && gt_st_save(&st, path) == GT_OK;
    gt_st_free(&st);
    gt_inception_free(net);
    return ok;
}

static void test_cli_inception_cache(void) {
    if (!write_random_inception(tp("incep.safetensors"))) {
        CHECK_MSG(false, "random Inception weights: %s", gt_last_error());
        return;
    }
    char cache[700];
    snprintf(cache, sizeof cache, "%s/cache", gt_test_tmpdir());
    setenv("GANTRY_CACHE", cache, 1);
    uint8_t *b = pattern(4, 3, 32, 32, 9);
    CHECK(gt_npy_save(tp("rgb.npy"), GT_NPY_U1, 4, (int64_t[]){4, 3, 32, 32}, b) == GT_OK);
    free(b);
    CHECK_CLI(0, "IS", "eval", "--real", "fashion-mnist:test", "--n", "4", "--fake", tp("rgb.npy"), "--inception",
              tp("incep.safetensors"), "--metrics", "fid,kid,is", "--kid-subset-size", "3", "--kid-subsets", "3",
              "--is-splits", "2", "--json", tp("in1.json"));
    CHECK(gt_cli_said("extractor inception-v3-compat-") && gt_cli_said("resize tf1"));
    double f1 = json_metric(tp("in1.json"), "frechet_inception_distance");
    double is = json_metric(tp("in1.json"), "inception_score_mean");
    CHECK_MSG(isfinite(f1) && f1 > 0 && isfinite(is) && is >= 1.0, "FID %g IS %g", f1, is);
    /* the real statistics now come from the cache, and give the same FID */
    CHECK_CLI(0, "statistics from the cache", "eval", "--real", "fashion-mnist:test", "--n", "4", "--fake",
              tp("rgb.npy"), "--inception", tp("incep.safetensors"), "--json", tp("in2.json"));
    double f2 = json_metric(tp("in2.json"), "frechet_inception_distance");
    CHECK_MSG(f2 == f1, "FID with cached real statistics %.17g vs computed %.17g", f2, f1);
    /* (another resize mode or weights file is another cache key: test_stats covers the keys) */
    /* no weights: the message offers what works now (fmnist) and a conversion command that ends where gantry
       looks; weights put at that very path are then found without --inception */
    unsetenv("GANTRY_INCEPTION");
    CHECK_CLI(1, GT_INCEPTION_WEIGHTS_PTH, "eval", "--real", "fashion-mnist:test", "--fake", tp("rgb.npy"));
    CHECK(gt_cli_said("--extractor fmnist"));
    char conv[1024], *dest = NULL;
    const char *cmd = strstr(gt_cli_out, "convert_inception.py " GT_INCEPTION_WEIGHTS_PTH " ");
    if (cmd && sscanf(cmd + strlen("convert_inception.py " GT_INCEPTION_WEIGHTS_PTH " "), "%1023s", conv) == 1)
        dest = conv;
    char want[1024];
    snprintf(want, sizeof want, "%s/" GT_INCEPTION_WEIGHTS_FILE, cache);
    CHECK_MSG(dest && strcmp(dest, want) == 0, "the printed command writes to '%s', gantry looks at '%s'",
              dest ? dest : "(none)", want);
    if (dest && strcmp(dest, want) == 0 && link(tp("incep.safetensors"), dest) == 0)
        CHECK_CLI(0, "FID", "eval", "--real", "fashion-mnist:test", "--n", "4", "--fake", tp("rgb.npy"), "--quiet");
    unsetenv("GANTRY_CACHE");
}

int main(void) {
    RUN(test_sources);
    RUN(test_extract);
    if (!gt_cli_find()) {
        CHECK_MSG(false, "the gantry program is not built (looked for %s)", gt_cli_bin);
        return gt_test_finish();
    }
    RUN(test_cli_pixels);
    RUN(test_cli_errors);
    RUN(test_cli_checkpoint);
    RUN(test_cli_inception_cache);
    return gt_test_finish();
}
