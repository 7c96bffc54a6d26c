/* DiffAugment: each transform (brightness, saturation, contrast, translation, cutout) and their
 * composition equal the reference (tests/parity/diffaug.py, DiffAugment_pytorch.py's formulas fed
 * the same draws) to 1e-6 forward and 1e-5 in the gradient w.r.t. x; finite-difference gradient
 * checks (first and second order) of the pipeline with fixed draws; gt_augment_apply draws as
 * documented; bad specs name what is wrong. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)
#define N 4

static const float UB[N] = {0.03f, 0.51f, 0.97f, 0.25f};
static const float US[N] = {0.9f, 0.1f, 0.5f, 0.0f};
static const float UC[N] = {0.2f, 0.99f, 0.6f, 0.45f};
/* (4, 3, 16, 12): shift 2 rows, 2 columns; cutout 8 x 6, ox in [0, 17), oy in [0, 13) */
static const int32_t TX[N] = {-2, 2, 0, 1};
static const int32_t TY[N] = {1, -2, 2, 0};
static const int32_t OX[N] = {0, 16, 7, 3};
static const int32_t OY[N] = {12, 0, 5, 11};

static gt_tensor *pipeline(gt_tensor *x) {
    x = gt_diffaug_brightness(x, UB);
    x = gt_diffaug_saturation(x, US);
    x = gt_diffaug_contrast(x, UC);
    x = gt_diffaug_translation(x, TX, TY);
    return gt_diffaug_cutout(x, OX, OY);
}

static gt_tensor *apply_named(const char *name, gt_tensor *x) {
    if (!strcmp(name, "brightness")) return gt_diffaug_brightness(x, UB);
    if (!strcmp(name, "saturation")) return gt_diffaug_saturation(x, US);
    if (!strcmp(name, "contrast")) return gt_diffaug_contrast(x, UC);
    if (!strcmp(name, "translation")) return gt_diffaug_translation(x, TX, TY);
    if (!strcmp(name, "cutout")) return gt_diffaug_cutout(x, OX, OY);
    return pipeline(x);
}

static void test_vs_pytorch(void) {
    gt_tensor *x = gt_test_randn(11, S(N, 3, 16, 12), 1.0f);
    gt_tensor *w = gt_test_randn(12, S(N, 3, 16, 12), 1.0f);
    x->requires_grad = true;
    gt_tensor *in[9] = {x,
                        w,
                        gt_from_data(S(N), UB),
                        gt_from_data(S(N), US),
                        gt_from_data(S(N), UC),
                        gt_from_i32(S(N), TX),
                        gt_from_i32(S(N), TY),
                        gt_from_i32(S(N), OX),
                        gt_from_i32(S(N), OY)};
    const char *names[9] = {"x", "w", "u_b", "u_s", "u_c", "tx", "ty", "ox", "oy"};
    const char *path = gt_test_path("diffaug_in.gtb");
    CHECK(gt_golden_write(path, 9, names, in));
    if (!gt_golden_run("diffaug.py", path)) return;
    const char *fn[6] = {"brightness", "saturation", "contrast", "translation", "cutout", "pipeline"};
    for (int k = 0; k < 6; k++) {
        char ny[64], ng[64];
        snprintf(ny, sizeof ny, "y.%s", fn[k]);
        snprintf(ng, sizeof ng, "g.%s", fn[k]);
        gt_tensor *y = apply_named(fn[k], x);
        CHECK_MSG(y != NULL, "%s: %s", fn[k], gt_last_error());
        if (!y) continue;
        CHECK(gt_same_shape(y, x));
        CHECK(gt_test_close(ny, y, gt_golden(ny), 0.0f, 1e-6f));
        gt_tensor *g;
        CHECK(gt_grad(gt_sum_all(gt_mul(y, w)), NULL, 1, &x, &g, false) == GT_OK);
        CHECK(gt_test_close(ng, g, gt_golden(ng), 0.0f, 1e-5f));
    }
    gt_golden_free();
}

/* the translation and cutout on hand-made cases: which pixels move where, which are zeroed */
static void test_by_hand(void) {
    float v[2 * 4 * 4];
    for (int i = 0; i < 32; i++) v[i] = (float)(i + 1);
    gt_tensor *x = gt_from_data(S(2, 1, 4, 4), v);
    /* sample 0: rows shifted by +1 (y[i] = x[i + 1]), sample 1: columns by -1 (y[:, j] = x[:, j - 1]) */
    gt_tensor *y = gt_diffaug_translation(x, (const int32_t[]){1, 0}, (const int32_t[]){0, -1});
    const float *p = gt_data(y);
    CHECK(p[0] == 5.0f && p[11] == 16.0f && p[12] == 0.0f && p[15] == 0.0f);
    CHECK(p[16] == 0.0f && p[17] == 17.0f && p[19] == 19.0f && p[20] == 0.0f && p[31] == 31.0f);
    /* cutout of a 4x4: size 2, offset (0, 0) -> rows clamp(-1..0) = {0}, columns {0}; (2, 3) -> rows
     * 1, 2, columns 2, 3 */
    gt_tensor *c = gt_diffaug_cutout(x, (const int32_t[]){0, 2}, (const int32_t[]){0, 3});
    p = gt_data(c);
    int zeros0 = 0, zeros1 = 0;
    for (int i = 0; i < 16; i++) zeros0 += p[i] == 0.0f, zeros1 += p[16 + i] == 0.0f;
    CHECK(zeros0 == 1 && p[0] == 0.0f);
    CHECK(zeros1 == 4 && p[16 + 6] == 0.0f && p[16 + 7] == 0.0f && p[16 + 10] == 0.0f && p[16 + 11] == 0.0f);
    CHECK(gt_diffaug_shift(32) == 4 && gt_diffaug_shift(28) == 4 && gt_diffaug_shift(12) == 2);
    CHECK(gt_diffaug_cutout_size(28) == 14 && gt_diffaug_cutout_size(9) == 5);
    CHECK(gt_diffaug_randint(0.0f, -4, 5) == -4 && gt_diffaug_randint(0.99999f, -4, 5) == 4);
    CHECK(gt_diffaug_randint(0.5f, 0, 2) == 1);
}

static gt_tensor *f_pipe(gt_tensor *const *in, void *ctx) { return gt_tanh(pipeline(in[0])); }

static void test_gradcheck(void) {
    gt_tensor *x = gt_test_randn(21, S(N, 3, 16, 12), 0.7f);
    x->requires_grad = true;
    gt_gradcheck_opts o = {.eps = 1e-2f, .rtol = 2e-2f, .atol = 2e-3f, .max_elems = 96};
    CHECK(gt_test_gradcheck("diffaug pipeline", f_pipe, 1, &x, NULL, &o));
    CHECK(gt_test_gradgradcheck("diffaug pipeline", f_pipe, 1, &x, NULL, &o));
}

/* gt_augment_apply = the explicit transforms on the draws documented in augment.h */
static void test_apply_draws(void) {
    gt_augment *a;
    CHECK(gt_augment_new("diffaug:color,translation,cutout", NULL, &a) == GT_OK);
    if (!a) return;
    CHECK(gt_augment_p(a) == 1.0 && !gt_augment_adaptive(a));
    CHECK(!strcmp(gt_augment_spec(a), "diffaug:color,translation,cutout"));
    gt_tensor *x = gt_test_randn(31, S(5, 3, 28, 28), 1.0f);
    gt_rng r, r2;
    gt_rng_init(&r, 77);
    gt_rng_init(&r2, 77);
    gt_tensor *y = gt_augment_apply(a, x, &r);
    CHECK(y && gt_same_shape(y, x));
    float ub[5], us[5], uc[5], u[10];
    int32_t i0[5], i1[5];
    gt_rng_uniform(&r2, ub, 5, 0, 1);
    gt_rng_uniform(&r2, us, 5, 0, 1);
    gt_rng_uniform(&r2, uc, 5, 0, 1);
    gt_tensor *z = gt_diffaug_contrast(gt_diffaug_saturation(gt_diffaug_brightness(x, ub), us), uc);
    gt_rng_uniform(&r2, u, 10, 0, 1);
    for (int i = 0; i < 5; i++) i0[i] = gt_diffaug_randint(u[i], -4, 5), i1[i] = gt_diffaug_randint(u[5 + i], -4, 5);
    z = gt_diffaug_translation(z, i0, i1);
    gt_rng_uniform(&r2, u, 10, 0, 1);
    for (int i = 0; i < 5; i++) i0[i] = gt_diffaug_randint(u[i], 0, 29), i1[i] = gt_diffaug_randint(u[5 + i], 0, 29);
    z = gt_diffaug_cutout(z, i0, i1);
    CHECK(y && z && gt_test_close("apply = explicit draws", y, z, 0.0f, 0.0f));
    CHECK(r.offset == r2.offset);
    /* a second call draws new values */
    gt_tensor *y2 = gt_augment_apply(a, x, &r);
    float d = 0;
    for (int64_t i = 0; y && y2 && i < gt_numel(y); i++) d = fmaxf(d, fabsf(gt_data(y)[i] - gt_data(y2)[i]));
    CHECK(d > 0.1f);
    /* gradient flows through apply */
    gt_tensor *xg = gt_test_randn(32, S(2, 1, 8, 8), 1.0f), *g;
    xg->requires_grad = true;
    CHECK(gt_grad(gt_sum_all(gt_augment_apply(a, xg, &r)), NULL, 1, &xg, &g, false) == GT_OK);
    gt_augment_free(a);
    /* none: x itself */
    CHECK(gt_augment_new("none", NULL, &a) == GT_OK);
    CHECK(gt_augment_apply(a, x, &r) == x && gt_augment_p(a) == 0.0);
    gt_augment_free(a);
}

static void expect_bad(const char *spec, double p, const char *needle) {
    gt_augment_opts o = gt_augment_opts_default();
    o.p = p;
    gt_augment *a = (gt_augment *)1;
    gt_status st = gt_augment_new(spec, &o, &a);
    CHECK_MSG(st == GT_ERR_ARG && a == NULL, "%s: status %d", spec, (int)st);
    CHECK_MSG(strstr(gt_last_error(), needle) != NULL, "%s: '%s' lacks '%s'", spec, gt_last_error(), needle);
}

static void test_bad_specs(void) {
    expect_bad("diffaug:blur", 0, "'blur'");
    expect_bad("diffaug:color,,cutout", 0, "policy");
    expect_bad("diffaug:color,", 0, "policy");
    expect_bad("diffaug:", 0, "policy");
    expect_bad("diffaug", 0, "diffaug");
    expect_bad("ada:bx", 0, "'x'");
    expect_bad("ada:", 0, "group");
    expect_bad("fancy", 0, "'fancy'");
    expect_bad("ada", 1.5, "1.5");
    expect_bad("ada", -0.1, "-0.1");
    gt_augment_opts o = gt_augment_opts_default();
    o.ada_interval = 0;
    gt_augment *a;
    CHECK(gt_augment_new("ada", &o, &a) == GT_ERR_ARG && strstr(gt_last_error(), "interval"));
    o = gt_augment_opts_default();
    o.ada_target = 0;
    CHECK(gt_augment_new("ada", &o, &a) == GT_ERR_ARG && strstr(gt_last_error(), "target"));
    CHECK(gt_diffaug_brightness(gt_zeros(S(2, 3)), UB) == NULL);
    CHECK(gt_diffaug_translation(gt_zeros(S(1, 1, 2, 2)), NULL, TY) == NULL);
}

int main(void) {
    RUN(test_by_hand);
    RUN(test_vs_pytorch);
    RUN(test_gradcheck);
    RUN(test_apply_draws);
    RUN(test_bad_specs);
    return gt_test_finish();
}
