/* avg / max / adaptive-avg pooling: golden values from PyTorch (outputs,
 * argmax, gradients; ceil_mode, count_include_pad, odd and rectangular
 * windows), fast vs naive kernels, gradients and gradients of gradients
 * against finite differences, and errors. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

enum { AVG = 0, MAX = 1, ADAPT = 2 };

typedef struct {
    const char *name;
    int kind;
    int64_t shape[4];
    int kh, kw, sh, sw, ph, pw;
    bool ceil, cip;
    int oh, ow; /* adaptive only */
} pcase;

static const pcase CASES[] = {
    {"avg_k3s2p1", AVG, {2, 3, 7, 9}, 3, 3, 2, 2, 1, 1, false, true, 0, 0},
    {"avg_k3s2p1_nocip", AVG, {2, 3, 7, 9}, 3, 3, 2, 2, 1, 1, false, false, 0, 0},
    {"avg_ceil_partial", AVG, {2, 2, 8, 8}, 3, 3, 2, 2, 0, 0, true, true, 0, 0},
    {"avg_ceil_pad_cip", AVG, {1, 2, 5, 6}, 2, 2, 2, 2, 1, 1, true, true, 0, 0},
    {"avg_ceil_pad_nocip", AVG, {1, 2, 5, 6}, 2, 2, 2, 2, 1, 1, true, false, 0, 0},
    {"avg_ceil_last_dropped", AVG, {1, 2, 4, 4}, 2, 2, 3, 3, 1, 1, true, true, 0, 0},
    {"avg_rect", AVG, {2, 2, 6, 5}, 3, 2, 2, 1, 1, 0, false, false, 0, 0},
    {"avg_2x2", AVG, {2, 3, 8, 8}, 2, 2, 2, 2, 0, 0, false, true, 0, 0},
    {"max_k3s2p1", MAX, {2, 3, 7, 9}, 3, 3, 2, 2, 1, 1, false, false, 0, 0},
    {"max_ceil_pad", MAX, {1, 2, 5, 6}, 2, 2, 2, 2, 1, 1, true, false, 0, 0},
    {"max_ceil_last_dropped", MAX, {1, 2, 4, 4}, 2, 2, 3, 3, 1, 1, true, false, 0, 0},
    {"max_rect", MAX, {2, 2, 6, 5}, 3, 2, 1, 2, 1, 1, false, false, 0, 0},
    {"max_2x2", MAX, {2, 3, 8, 8}, 2, 2, 2, 2, 0, 0, false, false, 0, 0},
    {"max_overlap", MAX, {2, 2, 5, 5}, 3, 3, 1, 1, 1, 1, false, false, 0, 0},
    {"adapt_down", ADAPT, {2, 3, 7, 9}, 0, 0, 0, 0, 0, 0, false, false, 3, 4},
    {"adapt_up", ADAPT, {1, 2, 4, 5}, 0, 0, 0, 0, 0, 0, false, false, 6, 7},
    {"adapt_global", ADAPT, {2, 3, 5, 5}, 0, 0, 0, 0, 0, 0, false, false, 1, 1},
    {"adapt_same", ADAPT, {1, 2, 5, 5}, 0, 0, 0, 0, 0, 0, false, false, 5, 5},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *pool(const pcase *c, gt_tensor *x) {
    switch (c->kind) {
    case AVG: return gt_avg_pool2d(x, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->ceil, c->cip);
    case MAX: return gt_max_pool2d(x, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->ceil);
    default: return gt_adaptive_avg_pool2d(x, c->oh, c->ow);
    }
}
static gt_tensor *f_pool(gt_tensor *const *in, void *p) { return pool(p, in[0]); }
/* squared, so the gradient depends on x and its backward runs the backward op's backward */
static gt_tensor *f_pool_sq(gt_tensor *const *in, void *p) {
    gt_tensor *y = pool(p, in[0]);
    return gt_mul(y, y);
}

/* Distinct values 0.05 apart in a shuffled order (max pool stays put under
 * finite-difference steps of 1e-2), centred on 0. */
static gt_tensor *distinct(uint64_t seed, int ndim, const int64_t *shape) {
    gt_tensor *t = gt_empty(ndim, shape);
    int64_t n = gt_numel(t);
    float *d = gt_data(t);
    for (int64_t i = 0; i < n; i++) d[i] = 0.05f * (float)(i - n / 2);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = n - 1; i > 0; i--) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        int64_t j = (int64_t)(s % (uint64_t)(i + 1));
        float v = d[i];
        d[i] = d[j];
        d[j] = v;
    }
    return t;
}

static gt_tensor *input(int i) {
    gt_tensor *x = distinct(100 + (uint64_t)i, 4, CASES[i].shape);
    x->requires_grad = true;
    return x;
}

static void test_golden_pytorch(void) {
    const char *names[NCASES * 3];
    gt_tensor *ts[NCASES * 3], *x[NCASES], *w[NCASES];
    static char buf[NCASES * 3][64];
    int m = 0;
    for (int i = 0; i < NCASES; i++) {
        const pcase *c = &CASES[i];
        x[i] = input(i);
        gt_tensor *y = pool(c, x[i]);
        CHECK_MSG(y != NULL, "%s: %s", c->name, gt_last_error());
        if (!y) return;
        w[i] = gt_test_randn(200 + (uint64_t)i, 4, y->shape, 1.0f);
        float cfg[11] = {(float)c->kind, (float)c->kh, (float)c->kw, (float)c->sh, (float)c->sw, (float)c->ph,
                         (float)c->pw, c->ceil, c->cip, (float)c->oh, (float)c->ow};
        gt_tensor *list[3] = {gt_from_data(1, (int64_t[]){11}, cfg), x[i], w[i]};
        const char *tags[3] = {"cfg", "x", "wout"};
        for (int j = 0; j < 3; j++) {
            snprintf(buf[m], 64, "%s.%s", c->name, tags[j]);
            names[m] = buf[m];
            ts[m++] = list[j];
        }
    }
    char path[512];
    snprintf(path, sizeof path, "%s/pool_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(path, m, names, ts));
    if (!gt_golden_run("ops_pool.py", path)) return;
    for (int i = 0; i < NCASES; i++) {
        const pcase *c = &CASES[i];
        char nm[96], a[64], b[64];
        gt_tensor *y = pool(c, x[i]);
        snprintf(nm, sizeof nm, "%s.y", c->name);
        gt_tensor *want = gt_golden(nm);
        CHECK_MSG(want && gt_same_shape(y, want), "%s: shape %s, PyTorch %s", nm, gt_shape_str(y, a, sizeof a),
                  want ? gt_shape_str(want, b, sizeof b) : "?");
        gt_test_close(nm, y, want, 1e-5f, 1e-6f);
        gt_tensor *g;
        CHECK(gt_grad(gt_sum_all(gt_mul(y, w[i])), NULL, 1, &x[i], &g, false) == GT_OK);
        snprintf(nm, sizeof nm, "%s.gx", c->name);
        gt_test_close(nm, g, gt_golden(nm), 1e-5f, 1e-6f);
    }
}

static void test_fast_vs_naive(void) {
    for (int i = 0; i < NCASES; i++) {
        gt_tensor *x = input(i);
        gt_test_fast_vs_naive(CASES[i].name, f_pool, 1, &x, (void *)&CASES[i], 1e-5f, 1e-6f);
    }
    /* big enough for the threaded paths */
    static const pcase big[] = {
        {"avg_big", AVG, {4, 16, 32, 32}, 3, 3, 2, 2, 1, 1, true, false, 0, 0},
        {"max_big", MAX, {4, 16, 32, 32}, 3, 3, 2, 2, 1, 1, true, false, 0, 0},
        {"adapt_big", ADAPT, {4, 16, 17, 23}, 0, 0, 0, 0, 0, 0, false, false, 5, 6},
    };
    for (int i = 0; i < 3; i++) {
        gt_tensor *x = gt_test_randn(7 + (uint64_t)i, 4, big[i].shape, 1.0f);
        x->requires_grad = true;
        gt_test_fast_vs_naive(big[i].name, f_pool, 1, &x, (void *)&big[i], 1e-5f, 1e-5f);
        gt_test_fast_vs_naive(big[i].name, f_pool_sq, 1, &x, (void *)&big[i], 1e-5f, 1e-5f);
    }
}

static void test_gradcheck(void) {
    for (int i = 0; i < NCASES; i++) {
        gt_tensor *x = input(i);
        gt_test_gradcheck(CASES[i].name, f_pool, 1, &x, (void *)&CASES[i], NULL);
        gt_test_gradcheck(CASES[i].name, f_pool_sq, 1, &x, (void *)&CASES[i], NULL);
    }
}

static void test_gradgradcheck(void) {
    for (int i = 0; i < NCASES; i++) {
        gt_tensor *x = input(i);
        gt_test_gradgradcheck(CASES[i].name, f_pool_sq, 1, &x, (void *)&CASES[i], NULL);
    }
}

/* The backward op's own backward: d/d(gy) of <v, pool_backward(gy)> is pool(v). */
static void test_backward_of_backward(void) {
    for (int i = 0; i < NCASES; i++) {
        const pcase *c = &CASES[i];
        gt_tensor *x = input(i), *y = pool(c, x);
        gt_tensor *gy = gt_test_randn(31, 4, y->shape, 1.0f), *v = gt_test_randn(32, 4, x->shape, 1.0f);
        gy->requires_grad = true;
        gt_tensor *gx, *ggy;
        CHECK(gt_grad(gt_sum_all(gt_mul(y, gy)), NULL, 1, &x, &gx, true) == GT_OK);
        CHECK(gx->requires_grad);
        CHECK(gt_grad(gt_sum_all(gt_mul(gx, v)), NULL, 1, &gy, &ggy, false) == GT_OK);
        /* adjointness: <ggy, u> = <v, J^T u> for any u (J^T u from the checked first-order backward) */
        gt_tensor *u = gt_test_randn(33, 4, y->shape, 1.0f), *jtu;
        CHECK(gt_grad(gt_sum_all(gt_mul(pool(c, x), u)), NULL, 1, &x, &jtu, false) == GT_OK);
        float lhs = gt_item(gt_sum_all(gt_mul(ggy, u))), rhs = gt_item(gt_sum_all(gt_mul(v, jtu)));
        CHECK_MSG(fabsf(lhs - rhs) <= 1e-4f * (1.0f + fabsf(rhs)), "%s: <ggy, u> %g vs <v, J^T u> %g", c->name, lhs,
                  rhs);
        if (c->kind != MAX) { /* linear: ggy = pool(v) */
            char nm[96];
            snprintf(nm, sizeof nm, "%s: gradient of the gradient wrt gy", c->name);
            gt_test_close(nm, ggy, pool(c, v), 1e-5f, 1e-6f);
        }
    }
}

static void test_max_pool_nan_and_inf(void) {
    /* NaN wins its window (as PyTorch); a window of -inf keeps its first position */
    float d[16] = {1, 2, 3, 4, 5, NAN, 7, 8, -INFINITY, -INFINITY, 0, 1, -INFINITY, -INFINITY, 2, 3};
    gt_tensor *x = gt_from_data(S(1, 1, 4, 4), d);
    x->requires_grad = true;
    for (int b = 0; b < 2; b++) {
        gt_backend_set(b ? GT_BACKEND_NAIVE : GT_BACKEND_CPU);
        gt_tensor *y = gt_max_pool2d(x, 2, 2, 2, 2, 0, 0, false), *g;
        CHECK(y && isnan(gt_data(y)[0]) && gt_data(y)[1] == 8 && gt_data(y)[2] == -INFINITY && gt_data(y)[3] == 3);
        /* the gradient lands on the NaN (position 5) and on the first -inf (position 8) */
        float wv[4] = {10, 20, 30, 40};
        CHECK(gt_grad(gt_sum_all(gt_mul(y, gt_from_data(S(1, 1, 2, 2), wv))), NULL, 1, &x, &g, false) == GT_OK);
        CHECK(gt_data(g)[5] == 10 && gt_data(g)[7] == 20 && gt_data(g)[8] == 30 && gt_data(g)[9] == 0 &&
              gt_data(g)[15] == 40 && gt_data(g)[0] == 0);
    }
    gt_backend_set(GT_BACKEND_CPU);
}

static void test_errors(void) {
    gt_tensor *x = gt_zeros(S(2, 3, 5, 6));
    CHECK(gt_avg_pool2d(gt_zeros(S(3, 5, 6)), 2, 2, 2, 2, 0, 0, false, true) == NULL &&
          gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_avg_pool2d(x, 0, 2, 2, 2, 0, 0, false, true) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_avg_pool2d(x, 2, 2, 0, 2, 0, 0, false, true) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_avg_pool2d(x, 2, 2, 2, 2, 2, 0, false, true) == NULL && gt_last_status() == GT_ERR_ARG); /* pad > k/2 */
    CHECK(gt_max_pool2d(x, 3, 3, 1, 1, -1, 0, false) == NULL && gt_last_status() == GT_ERR_ARG);
    /* kernel larger than the (padded) input */
    CHECK(gt_max_pool2d(x, 7, 2, 1, 1, 0, 0, false) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK_MSG(strstr(gt_last_error(), "(2, 3, 5, 6)") && strstr(gt_last_error(), "7x2"), "message: %s",
              gt_last_error());
    CHECK(gt_avg_pool2d(x, 6, 6, 1, 1, 0, 0, true, true) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_avg_pool2d(x, 6, 6, 1, 1, 1, 1, false, true) != NULL); /* fits with padding */
    CHECK(gt_adaptive_avg_pool2d(x, 0, 3) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_adaptive_avg_pool2d(gt_zeros(S(2, 3, 0, 4)), 2, 2) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_adaptive_avg_pool2d(gt_zeros(S(5, 6)), 2, 2) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_max_pool2d(NULL, 2, 2, 2, 2, 0, 0, false) == NULL);
}

static void test_strided_input(void) {
    gt_tensor *x = gt_test_randn(41, S(2, 6, 5, 3), 1.0f);
    gt_tensor *p = gt_permute(x, (int[]){0, 3, 1, 2}); /* (2, 3, 6, 5) view */
    for (int i = 0; i < NCASES; i += 3) {
        const pcase *c = &CASES[i];
        gt_tensor *a = pool(c, p), *b = pool(c, gt_contiguous(p));
        gt_test_close(c->name, a, b, 1e-6f, 1e-7f);
    }
}

int main(void) {
    RUN(test_golden_pytorch);
    RUN(test_fast_vs_naive);
    RUN(test_gradcheck);
    RUN(test_gradgradcheck);
    RUN(test_backward_of_backward);
    RUN(test_max_pool_nan_and_inf);
    RUN(test_errors);
    RUN(test_strided_input);
    return gt_test_finish();
}
