/* The Inception input resizes against their references on uint8-valued
 * planes: TF1 bilinear bit-exact with a PyTorch re-implementation of
 * torch-fidelity's interpolate_bilinear_2d_like_tensorflow1x; the clean
 * resize against PIL's Image.resize(BICUBIC) on mode "F" images (what
 * clean-fid runs) to CLEAN_TOL absolute on the 0..255 scale (it is expected
 * bit-exact: the same double coefficients and sums, no contraction); the
 * uint8 pipeline's channel handling; errors. */
#include "../common/harness.h"

#define CLEAN_TOL 1e-4f
/* pytorch-fid's F.interpolate on [0, 1] values: the same weights, bit for bit; the combination
 * differs by at most an ulp (PyTorch's build fuses some multiply-adds): 1.2e-7 */
#define TORCH_TOL 2.4e-7f

typedef struct {
    const char *name;
    int planes, h, w, oh, ow;
} rcase;

static const rcase CASES[] = {
    {"fmnist", 1, 28, 28, 299, 299},  {"odd", 3, 37, 53, 299, 299},  {"big", 3, 300, 211, 299, 299},
    {"same", 1, 299, 299, 299, 299}, {"up", 2, 8, 5, 17, 23},        {"down", 2, 64, 64, 16, 16},
    {"mixed", 1, 40, 9, 13, 30},      {"hsame", 1, 20, 33, 20, 7},    {"vsame", 1, 33, 20, 7, 20},
    {"one", 1, 1, 1, 3, 4},
};
#define NC (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *u8_planes(uint64_t seed, int p, int h, int w) {
    gt_tensor *t = gt_test_uniform(seed, 3, (const int64_t[]){p, h, w}, 0.0f, 256.0f);
    float *d = gt_data(t);
    for (int64_t i = 0; i < gt_numel(t); i++) d[i] = floorf(d[i]) > 255.0f ? 255.0f : floorf(d[i]);
    return t;
}

static double max_abs(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void test_golden(void) {
    const char *names[2 * NC];
    gt_tensor *ts[2 * NC];
    char nb[2 * NC][64];
    gt_tensor *x[NC];
    for (int i = 0; i < NC; i++) {
        const rcase *c = &CASES[i];
        x[i] = u8_planes(100 + i, c->planes, c->h, c->w);
        snprintf(nb[2 * i], 64, "%s.x", c->name);
        snprintf(nb[2 * i + 1], 64, "%s.size", c->name);
        names[2 * i] = nb[2 * i], names[2 * i + 1] = nb[2 * i + 1];
        ts[2 * i] = x[i];
        ts[2 * i + 1] = gt_from_data(1, (const int64_t[]){2}, (const float[]){(float)c->oh, (float)c->ow});
    }
    char path[512];
    snprintf(path, sizeof path, "%s/resize_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(path, 2 * NC, names, ts));
    if (!gt_golden_run("metrics_resize.py", path)) return;
    for (int i = 0; i < NC; i++) {
        const rcase *c = &CASES[i];
        int64_t n = (int64_t)c->planes * c->oh * c->ow;
        gt_tensor *y = gt_empty(3, (const int64_t[]){c->planes, c->oh, c->ow});
        char key[80];
        snprintf(key, sizeof key, "%s.tf1", c->name);
        gt_tensor *want = gt_golden(key);
        CHECK(gt_resize_tf1(gt_data(x[i]), c->planes, c->h, c->w, gt_data(y), c->oh, c->ow) == GT_OK);
        double e = want ? max_abs(gt_data(y), gt_data(want), n) : INFINITY;
        CHECK_MSG(e == 0.0, "%s: TF1 resize differs from torch by %g (want bit-exact)", key, e);
        snprintf(key, sizeof key, "%s.clean", c->name);
        want = gt_golden(key);
        CHECK(gt_resize(GT_RESIZE_CLEAN, gt_data(x[i]), c->planes, c->h, c->w, gt_data(y), c->oh, c->ow) == GT_OK);
        e = want ? max_abs(gt_data(y), gt_data(want), n) : INFINITY;
        CHECK_MSG(e <= CLEAN_TOL, "%s: clean resize differs from PIL by %g > %g", key, e, (double)CLEAN_TOL);
        /* pytorch-fid: F.interpolate on x / 255 */
        snprintf(key, sizeof key, "%s.torch", c->name);
        want = gt_golden(key);
        gt_tensor *x255 = gt_empty(3, (const int64_t[]){c->planes, c->h, c->w});
        for (int64_t k = 0; k < gt_numel(x255); k++) gt_data(x255)[k] = gt_data(x[i])[k] / 255.0f;
        CHECK(gt_resize(GT_RESIZE_PYTORCH_FID, gt_data(x255), c->planes, c->h, c->w, gt_data(y), c->oh, c->ow) ==
              GT_OK);
        double et = want ? max_abs(gt_data(y), gt_data(want), n) : INFINITY;
        CHECK_MSG(et <= TORCH_TOL, "%s: bilinear resize differs from F.interpolate by %g > %g", key, et,
                  (double)TORCH_TOL);
        printf("  %-8s %3dx%-3d -> %3dx%-3d  tf1 exact, clean max |diff| vs PIL %.3g, pytorch-fid vs torch %.3g\n",
               c->name, c->h, c->w, c->oh, c->ow, e, et);
    }
}

/* Grayscale is repeated to 3 channels; RGB channels stay apart; values map
 * by (x - 128) / 128, or for pytorch-fid x / 255 before the resize and
 * 2x - 1 after. */
static float net_value(gt_resize_mode m, float r) {
    return m == GT_RESIZE_PYTORCH_FID ? 2.0f * r - 1.0f : (r - 128.0f) / 128.0f;
}

static void test_pipeline(void) {
    uint8_t g[2 * 1 * 5 * 4], rgb[3 * 5 * 4];
    for (int i = 0; i < 40; i++) g[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 60; i++) rgb[i] = (uint8_t)(255 - i * 4);
    for (int m = 0; m < GT_RESIZE_COUNT; m++) {
        gt_tensor *x = gt_inception_preprocess(g, 2, 1, 5, 4, (gt_resize_mode)m);
        CHECK(x && x->shape[0] == 2 && x->shape[1] == 3 && x->shape[2] == 299 && x->shape[3] == 299);
        if (!x) continue;
        const int64_t ss = 299 * 299;
        float *ref = malloc(sizeof(float) * 2 * ss), *src = malloc(sizeof(float) * 40);
        for (int i = 0; i < 40; i++) src[i] = m == GT_RESIZE_PYTORCH_FID ? (float)g[i] / 255.0f : g[i];
        CHECK(gt_resize((gt_resize_mode)m, src, 2, 5, 4, ref, 299, 299) == GT_OK);
        bool ok = true;
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 3; c++)
                for (int64_t k = 0; k < ss; k++)
                    ok &= gt_data(x)[(n * 3 + c) * ss + k] == net_value((gt_resize_mode)m, ref[n * ss + k]);
        CHECK_MSG(ok, "grayscale pipeline (%s)", gt_resize_mode_name((gt_resize_mode)m));
        free(ref);
        free(src);
        x = gt_inception_preprocess(rgb, 1, 3, 5, 4, (gt_resize_mode)m);
        CHECK(x && gt_data(x)[ss] != gt_data(x)[0] && gt_data(x)[2 * ss] != gt_data(x)[ss]);
        if (x && m == GT_RESIZE_TF1) CHECK(gt_data(x)[0] == (255.0f - 128.0f) / 128.0f); /* TF1 keeps the corner */
    }
    /* 299x299 input passes through untouched by either resize */
    uint8_t *big = malloc(3 * 299 * 299);
    for (int i = 0; i < 3 * 299 * 299; i++) big[i] = (uint8_t)(i * 31 + 7);
    for (int m = 0; m < GT_RESIZE_COUNT; m++) {
        gt_tensor *x = gt_inception_preprocess(big, 1, 3, 299, 299, (gt_resize_mode)m);
        bool ok = x != NULL;
        for (int i = 0; ok && i < 3 * 299 * 299; i++)
            ok = gt_data(x)[i] == (m == GT_RESIZE_PYTORCH_FID ? net_value((gt_resize_mode)m, (float)big[i] / 255.0f)
                                                               : net_value((gt_resize_mode)m, (float)big[i]));
        CHECK_MSG(ok, "299x299 identity (%s)", gt_resize_mode_name((gt_resize_mode)m));
    }
    free(big);
}

static void test_errors(void) {
    float a[4] = {0}, b[4];
    CHECK(gt_resize_tf1(NULL, 1, 2, 2, b, 2, 2) == GT_ERR_ARG);
    CHECK(gt_resize_tf1(a, 1, 0, 2, b, 2, 2) == GT_ERR_ARG);
    CHECK(strstr(gt_last_error(), "positive") != NULL);
    CHECK(gt_resize_pil_bicubic(a, 1, 2, 2, b, -1, 2) == GT_ERR_ARG);
    CHECK(gt_resize((gt_resize_mode)5, a, 1, 2, 2, b, 2, 2) == GT_ERR_ARG);
    CHECK(strcmp(gt_resize_mode_name(GT_RESIZE_TF1), "tf1") == 0);
    gt_resize_mode m;
    CHECK(gt_resize_mode_parse(NULL, &m) == GT_ERR_ARG);
    CHECK(gt_resize_mode_parse("tf1", &m) == GT_OK && m == GT_RESIZE_TF1);
    CHECK(gt_resize_mode_parse("pytorch-fid", &m) == GT_OK && m == GT_RESIZE_PYTORCH_FID);
    CHECK(strcmp(gt_resize_mode_name(GT_RESIZE_PYTORCH_FID), "pytorch-fid") == 0);
    CHECK(gt_resize_mode_parse("bilinear", &m) == GT_ERR_ARG && strstr(gt_last_error(), "pytorch-fid"));
    CHECK(gt_resize_torch_bilinear(a, 1, 2, 2, b, 0, 2) == GT_ERR_ARG);
}

int main(void) {
    RUN(test_golden);
    RUN(test_pipeline);
    RUN(test_errors);
    return gt_test_finish();
}
