/* Nearest and bilinear (align_corners=false) resampling: golden values from
 * PyTorch (non-integer factors up and down, 2x, identity, mixed), fast vs
 * naive kernels, gradients and gradients of gradients against finite
 * differences, the adjoint's own backward, and errors. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

enum { NEAREST = 0, BILINEAR = 1 };

typedef struct {
    const char *name;
    int mode;
    int64_t shape[4];
    int oh, ow;
} ucase;

static const ucase CASES[] = {
    {"nearest_5to7", NEAREST, {2, 3, 5, 5}, 7, 7},
    {"nearest_7to3", NEAREST, {2, 2, 7, 7}, 3, 3},
    {"nearest_2x", NEAREST, {2, 3, 4, 4}, 8, 8},
    {"nearest_mixed", NEAREST, {1, 2, 3, 5}, 6, 4},
    {"nearest_same", NEAREST, {1, 2, 5, 5}, 5, 5},
    {"nearest_3to10", NEAREST, {1, 2, 3, 3}, 10, 10},
    {"nearest_1to4", NEAREST, {2, 2, 1, 1}, 4, 4},
    {"nearest_6to1", NEAREST, {1, 2, 6, 6}, 1, 1},
    {"bilinear_5to7", BILINEAR, {2, 3, 5, 5}, 7, 7},
    {"bilinear_7to3", BILINEAR, {2, 2, 7, 7}, 3, 3},
    {"bilinear_2x", BILINEAR, {2, 3, 4, 4}, 8, 8},
    {"bilinear_mixed", BILINEAR, {1, 2, 3, 5}, 6, 4},
    {"bilinear_same", BILINEAR, {1, 2, 5, 5}, 5, 5},
    {"bilinear_2to5", BILINEAR, {1, 2, 2, 2}, 5, 5},
    {"bilinear_7x4to3x9", BILINEAR, {2, 1, 7, 4}, 3, 9},
    {"bilinear_1to4", BILINEAR, {2, 2, 1, 1}, 4, 4},
    {"bilinear_6to1", BILINEAR, {1, 2, 6, 6}, 1, 1},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *up(const ucase *c, gt_tensor *x) {
    return c->mode == NEAREST ? gt_upsample_nearest2d(x, c->oh, c->ow) : gt_upsample_bilinear2d(x, c->oh, c->ow);
}
static gt_tensor *f_up(gt_tensor *const *in, void *p) { return up(p, in[0]); }
/* squared, so the gradient depends on x and the adjoint op's backward runs */
static gt_tensor *f_up_sq(gt_tensor *const *in, void *p) {
    gt_tensor *y = up(p, in[0]);
    return gt_mul(y, y);
}

static gt_tensor *input(int i) {
    gt_tensor *x = gt_test_randn(100 + (uint64_t)i, 4, CASES[i].shape, 1.0f);
    x->requires_grad = true;
    return x;
}

static void test_golden_pytorch(void) {
    const char *names[NCASES * 3];
    gt_tensor *ts[NCASES * 3], *x[NCASES], *w[NCASES];
    static char buf[NCASES * 3][64];
    int m = 0;
    for (int i = 0; i < NCASES; i++) {
        const ucase *c = &CASES[i];
        x[i] = input(i);
        w[i] = gt_test_randn(200 + (uint64_t)i, S(c->shape[0], c->shape[1], c->oh, c->ow), 1.0f);
        float cfg[3] = {(float)c->mode, (float)c->oh, (float)c->ow};
        gt_tensor *list[3] = {gt_from_data(1, (int64_t[]){3}, cfg), x[i], w[i]};
        const char *tags[3] = {"cfg", "x", "wout"};
        for (int j = 0; j < 3; j++) {
            snprintf(buf[m], 64, "%s.%s", c->name, tags[j]);
            names[m] = buf[m];
            ts[m++] = list[j];
        }
    }
    char path[512];
    snprintf(path, sizeof path, "%s/upsample_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(path, m, names, ts));
    if (!gt_golden_run("ops_upsample.py", path)) return;
    for (int i = 0; i < NCASES; i++) {
        const ucase *c = &CASES[i];
        char nm[96];
        gt_tensor *y = up(c, x[i]);
        CHECK_MSG(y != NULL, "%s: %s", c->name, gt_last_error());
        if (!y) continue;
        snprintf(nm, sizeof nm, "%s.y", c->name);
        gt_test_close(nm, y, gt_golden(nm), 1e-5f, 1e-6f);
        gt_tensor *g;
        CHECK(gt_grad(gt_sum_all(gt_mul(y, w[i])), NULL, 1, &x[i], &g, false) == GT_OK);
        snprintf(nm, sizeof nm, "%s.gx", c->name);
        gt_test_close(nm, g, gt_golden(nm), 1e-5f, 1e-5f);
    }
}

static void test_fast_vs_naive(void) {
    for (int i = 0; i < NCASES; i++) {
        gt_tensor *x = input(i);
        gt_test_fast_vs_naive(CASES[i].name, f_up, 1, &x, (void *)&CASES[i], 1e-5f, 1e-6f);
    }
    static const ucase big[] = {
        {"nearest_big_2x", NEAREST, {4, 8, 16, 16}, 32, 32},
        {"nearest_big_odd", NEAREST, {4, 8, 16, 16}, 23, 37},
        {"bilinear_big_2x", BILINEAR, {4, 8, 16, 16}, 32, 32},
        {"bilinear_big_odd", BILINEAR, {4, 8, 16, 16}, 23, 37},
    };
    for (int i = 0; i < 4; i++) {
        gt_tensor *x = gt_test_randn(7 + (uint64_t)i, 4, big[i].shape, 1.0f);
        x->requires_grad = true;
        gt_test_fast_vs_naive(big[i].name, f_up_sq, 1, &x, (void *)&big[i], 1e-5f, 1e-5f);
    }
}

static void test_gradcheck(void) {
    for (int i = 0; i < NCASES; i++) {
        gt_tensor *x = input(i);
        gt_test_gradcheck(CASES[i].name, f_up, 1, &x, (void *)&CASES[i], NULL);
        gt_test_gradcheck(CASES[i].name, f_up_sq, 1, &x, (void *)&CASES[i], NULL);
    }
}

static void test_gradgradcheck(void) {
    for (int i = 0; i < NCASES; i++) {
        gt_tensor *x = input(i);
        gt_test_gradgradcheck(CASES[i].name, f_up_sq, 1, &x, (void *)&CASES[i], NULL);
    }
}

/* The adjoint op's own backward is the forward: d/d(gy) <v, up_backward(gy)> = up(v). */
static void test_backward_of_backward(void) {
    for (int i = 0; i < NCASES; i++) {
        const ucase *c = &CASES[i];
        gt_tensor *x = input(i), *y = up(c, x);
        gt_tensor *gy = gt_test_randn(31, 4, y->shape, 1.0f), *v = gt_test_randn(32, 4, x->shape, 1.0f);
        gy->requires_grad = true;
        gt_tensor *gx, *ggy;
        CHECK(gt_grad(gt_sum_all(gt_mul(y, gy)), NULL, 1, &x, &gx, true) == GT_OK);
        CHECK(gt_grad(gt_sum_all(gt_mul(gx, v)), NULL, 1, &gy, &ggy, false) == GT_OK);
        char nm[96];
        snprintf(nm, sizeof nm, "%s: gradient of the gradient wrt gy", c->name);
        gt_test_close(nm, ggy, up(c, v), 1e-5f, 1e-6f);
    }
}

static void test_errors(void) {
    gt_tensor *x = gt_zeros(S(2, 3, 4, 4));
    CHECK(gt_upsample_nearest2d(x, 0, 4) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_upsample_bilinear2d(x, 4, -1) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_upsample_nearest2d(gt_zeros(S(3, 4, 4)), 8, 8) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK_MSG(strstr(gt_last_error(), "(3, 4, 4)") != NULL, "message: %s", gt_last_error());
    CHECK(gt_upsample_bilinear2d(gt_zeros(S(2, 3, 0, 4)), 8, 8) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_upsample_bilinear2d(NULL, 8, 8) == NULL);
}

static void test_strided_input(void) {
    gt_tensor *x = gt_test_randn(41, S(2, 5, 4, 3), 1.0f);
    gt_tensor *p = gt_permute(x, (int[]){0, 3, 2, 1}); /* (2, 3, 4, 5) view */
    for (int i = 0; i < NCASES; i += 4) {
        const ucase *c = &CASES[i];
        gt_test_close(c->name, up(c, p), up(c, gt_contiguous(p)), 1e-6f, 1e-7f);
    }
}

int main(void) {
    RUN(test_golden_pytorch);
    RUN(test_fast_vs_naive);
    RUN(test_gradcheck);
    RUN(test_gradgradcheck);
    RUN(test_backward_of_backward);
    RUN(test_errors);
    RUN(test_strided_input);
    return gt_test_finish();
}
