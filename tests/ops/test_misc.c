/* embedding and dropout. Embedding: golden values from PyTorch (outputs,
 * gradients, gradients of gradients), fast vs naive gather / scatter-add,
 * finite differences, index errors. Dropout (no golden: the RNGs differ):
 * kept fraction, scaling, determinism for a seed, fast vs naive masks, the
 * gradient is gy * mask, gradients of gradients, errors. */
#include "../../src/internal.h" /* gt_node: which op recorded a tensor */
#include "linalg_cases.h"

static gt_tensor *f_emb(gt_tensor *const *x, void *c) {
    (void)c;
    return gt_embedding(x[0], x[1]);
}
static gt_tensor *f_emb_wt(gt_tensor *const *x, void *c) {
    (void)c;
    return gt_embedding(gt_transpose(x[0], 0, 1), x[1]);
}
static gt_tensor *f_emb_square(gt_tensor *const *x, void *c) {
    (void)c;
    gt_tensor *e = gt_embedding(x[0], x[1]);
    return gt_mul(e, e);
}
static gt_tensor *f_emb_tanh(gt_tensor *const *x, void *c) {
    (void)c;
    return gt_embedding(gt_tanh(x[0]), x[1]);
}

static const gt_case CASES[] = {
    {.name = "emb", .f = f_emb, .n = 2, .ndim = {2, 2}, .shape = {{7, 3}, {2, 4}}, .dom = {D_ANY, D_I32}, .imax = {0, 7}},
    {.name = "emb_1d", .f = f_emb, .n = 2, .ndim = {2, 1}, .shape = {{5, 4}, {9}}, .dom = {D_ANY, D_I32}, .imax = {0, 5}},
    {.name = "emb_wt", .f = f_emb_wt, .n = 2, .ndim = {2, 1}, .shape = {{3, 6}, {5}}, .dom = {D_ANY, D_I32}, .imax = {0, 6}},
    {.name = "emb_square", .f = f_emb_square, .n = 2, .ndim = {2, 2}, .shape = {{4, 3}, {3, 3}}, .dom = {D_ANY, D_I32},
     .imax = {0, 4}},
    {.name = "emb_3d_tanh", .f = f_emb_tanh, .n = 2, .ndim = {2, 3}, .shape = {{6, 2}, {2, 2, 3}}, .dom = {D_ANY, D_I32},
     .imax = {0, 6}},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *inputs[NCASES][CASE_MAX_IN];

static void test_embedding_golden_pytorch(void) {
    cases_inputs(CASES, NCASES, inputs, 100);
    cases_golden("ops_misc.py", CASES, NCASES, inputs, 1e-5f, 1e-5f);
}

static void test_embedding_fast_vs_naive(void) {
    cases_inputs(CASES, NCASES, inputs, 200);
    cases_fast_vs_naive(CASES, NCASES, inputs, 0.0f, 0.0f);
    /* large: the parallel gather and the column-split scatter-add, many repeats */
    gt_case big = {.name = "emb_big", .f = f_emb, .n = 2, .ndim = {2, 2}, .shape = {{50, 200}, {64, 80}},
                   .dom = {D_ANY, D_I32}, .imax = {0, 50}};
    gt_tensor *x[2] = {case_input(&big, 0, 7), case_input(&big, 1, 8)};
    gt_test_fast_vs_naive(big.name, big.f, 2, x, NULL, 1e-6f, 1e-6f);
}

static void test_embedding_gradchecks(void) {
    cases_inputs(CASES, NCASES, inputs, 300);
    cases_gradcheck(CASES, NCASES, inputs, false);
    cases_gradcheck(CASES, NCASES, inputs, true);
}

static void test_embedding_values(void) {
    gt_tensor *w = gt_from_data(S(3, 2), (float[]){0, 1, 10, 11, 20, 21});
    gt_tensor *idx = gt_from_i32(S(2, 2), (int32_t[]){2, 0, 1, 1});
    w->requires_grad = true;
    gt_tensor *y = gt_embedding(w, idx);
    CHECK(y && y->ndim == 3 && y->shape[0] == 2 && y->shape[1] == 2 && y->shape[2] == 2);
    if (y) CHECK(gt_data(y)[0] == 20 && gt_data(y)[3] == 1 && gt_data(y)[7] == 11);
    /* repeated rows add up in the gradient; unused rows get zeros */
    gt_tensor *g;
    CHECK(gt_grad(gt_sum_all(y), NULL, 1, &w, &g, false) == GT_OK);
    float want[6] = {1, 1, 2, 2, 1, 1};
    gt_test_close_buf("embedding grad counts", gt_data(g), want, 6, 0.0f, 0.0f);
    /* the adjoint is an op of its own whose backward gathers again */
    gt_tensor *gc, *y2 = gt_embedding(w, idx); /* the first gt_grad freed y's graph */
    CHECK(gt_grad(gt_sum_all(gt_mul(y2, y2)), NULL, 1, &w, &gc, true) == GT_OK);
    CHECK(gc && gc->node && gc->requires_grad);
    CHECK(gc && gc->node && gc->node->op == GT_OP_EMBEDDING_BACKWARD);
    /* empty idx */
    gt_tensor *e = gt_embedding(w, gt_empty_i32(S(0)));
    CHECK(e && e->ndim == 2 && e->shape[0] == 0 && e->shape[1] == 2);
}

static void test_embedding_errors(void) {
    gt_tensor *w = gt_zeros(S(5, 3));
    check_error("index 5", gt_embedding(w, gt_from_i32(S(3), (int32_t[]){0, 5, 1})), GT_ERR_ARG, "index 5",
                "num = 5");
    check_error("index -1", gt_embedding(w, gt_from_i32(S(1), (int32_t[]){-1})), GT_ERR_ARG, "index -1", "num = 5");
    check_error("float idx", gt_embedding(w, gt_zeros(S(2))), GT_ERR_ARG, "int32", NULL);
    check_error("1-D weight", gt_embedding(gt_zeros(S(5)), gt_from_i32(S(1), (int32_t[]){0})), GT_ERR_SHAPE, "(5,)",
                NULL);
    check_error("6-D idx", gt_embedding(w, gt_empty_i32(S(1, 1, 1, 1, 1, 1))), GT_ERR_SHAPE, "(1, 1, 1, 1, 1, 1)",
                NULL);
    CHECK(gt_embedding(NULL, gt_from_i32(S(1), (int32_t[]){0})) == NULL);
    CHECK(gt_embedding(w, NULL) == NULL);
}

/* --- dropout ------------------------------------------------------------------- */
typedef struct {
    float p;
    uint64_t seed;
} drop_ctx;

/* A fresh generator per call, so gradcheck sees one fixed mask. */
static gt_tensor *f_drop_sq(gt_tensor *const *x, void *c) {
    drop_ctx *d = c;
    gt_rng r;
    gt_rng_init(&r, d->seed);
    gt_tensor *y = gt_dropout(x[0], d->p, true, &r);
    return gt_mul(y, gt_tanh(y));
}
static gt_tensor *f_drop(gt_tensor *const *x, void *c) {
    drop_ctx *d = c;
    gt_rng r;
    gt_rng_init(&r, d->seed);
    return gt_dropout(x[0], d->p, true, &r);
}

static void test_dropout_statistics(void) {
    const int64_t n = 1 << 20;
    float ps[3] = {0.1f, 0.5f, 0.8f};
    gt_tensor *x = gt_ones(S(n));
    for (int k = 0; k < 3; k++) {
        float p = ps[k], scale = 1.0f / (1.0f - p);
        gt_rng r;
        gt_rng_init(&r, 1234 + (uint64_t)k);
        gt_tensor *y = gt_dropout(x, p, true, &r);
        if (!y) {
            CHECK_MSG(false, "dropout failed: %s", gt_last_error());
            continue;
        }
        int64_t kept = 0, bad = 0;
        double sum = 0;
        for (int64_t i = 0; i < n; i++) {
            float v = gt_data(y)[i];
            if (v != 0.0f) kept++;
            if (v != 0.0f && v != scale) bad++;
            sum += v;
        }
        double frac = (double)kept / (double)n, sigma = sqrt(p * (1.0 - p) / (double)n);
        CHECK_MSG(fabs(frac - (1.0 - p)) < 5 * sigma, "p=%g: kept %.5f, want %.5f +- %.5f", p, frac, 1.0 - p,
                  5 * sigma);
        CHECK_MSG(bad == 0, "p=%g: %lld kept values differ from 1/(1-p)", p, (long long)bad);
        /* inverted dropout keeps the mean: E[y] = x */
        CHECK_MSG(fabs(sum / (double)n - 1.0) < 5 * sigma * scale, "p=%g: mean %.5f", p, sum / (double)n);
        CHECK(r.offset == (uint64_t)(n / 4)); /* one Philox block per 4 elements */
    }
}

static void test_dropout_determinism(void) {
    gt_tensor *x = gt_test_randn(1, S(3, 1000), 1.0f);
    gt_rng a, b, c;
    gt_rng_init(&a, 42);
    gt_rng_init(&b, 42);
    gt_rng_init(&c, 43);
    gt_tensor *y1 = gt_dropout(x, 0.5f, true, &a), *y2 = gt_dropout(x, 0.5f, true, &b);
    gt_tensor *y3 = gt_dropout(x, 0.5f, true, &c), *y4 = gt_dropout(x, 0.5f, true, &a);
    CHECK(y1 && y2 && y3 && y4);
    if (!y1 || !y2 || !y3 || !y4) return;
    CHECK(memcmp(gt_data(y1), gt_data(y2), 3000 * sizeof(float)) == 0); /* same seed, same mask */
    CHECK(memcmp(gt_data(y1), gt_data(y3), 3000 * sizeof(float)) != 0); /* other seed */
    CHECK(memcmp(gt_data(y1), gt_data(y4), 3000 * sizeof(float)) != 0); /* next draw of the generator */
    /* threads do not change the mask: the large input runs in parallel */
    gt_tensor *big = gt_test_randn(2, S(300000), 1.0f);
    gt_rng r1, r2;
    gt_rng_init(&r1, 7);
    gt_rng_init(&r2, 7);
    int threads = gt_get_num_threads();
    gt_set_num_threads(1);
    gt_tensor *s1 = gt_dropout(big, 0.3f, true, &r1);
    gt_set_num_threads(threads > 1 ? threads : 2);
    gt_tensor *s2 = gt_dropout(big, 0.3f, true, &r2);
    gt_set_num_threads(threads);
    CHECK(s1 && s2 && memcmp(gt_data(s1), gt_data(s2), 300000 * sizeof(float)) == 0);
    /* a strided view draws in its row-major element order */
    gt_rng r3, r4;
    gt_rng_init(&r3, 9);
    gt_rng_init(&r4, 9);
    gt_tensor *t = gt_transpose(x, 0, 1);
    gt_tensor *v1 = gt_dropout(t, 0.4f, true, &r3), *v2 = gt_dropout(gt_contiguous(t), 0.4f, true, &r4);
    CHECK(v1 && v2 && memcmp(gt_data(v1), gt_data(v2), 3000 * sizeof(float)) == 0);
}

static void test_dropout_fast_vs_naive(void) {
    drop_ctx small = {0.3f, 5}, big = {0.6f, 6};
    gt_tensor *x[1] = {gt_test_randn(3, S(4, 5, 6), 1.0f)};
    x[0]->requires_grad = true;
    gt_test_fast_vs_naive("dropout (4,5,6)", f_drop, 1, x, &small, 0.0f, 0.0f);
    gt_tensor *xb[1] = {gt_test_randn(4, S(64, 1000), 1.0f)};
    xb[0]->requires_grad = true;
    gt_test_fast_vs_naive("dropout (64,1000)", f_drop, 1, xb, &big, 0.0f, 0.0f);
}

static void test_dropout_gradient_is_mask(void) {
    float p = 0.25f, scale = 1.0f / (1.0f - p);
    gt_tensor *x = gt_test_uniform(5, S(8, 50), 0.5f, 1.5f); /* nonzero: y != 0 exactly where kept */
    gt_tensor *w = gt_test_randn(6, S(8, 50), 1.0f);
    x->requires_grad = true;
    gt_rng r;
    gt_rng_init(&r, 11);
    gt_tensor *y = gt_dropout(x, p, true, &r);
    gt_tensor *g;
    CHECK(y && gt_grad(gt_sum_all(gt_mul(y, w)), NULL, 1, &x, &g, false) == GT_OK);
    if (!y || !g) return;
    int64_t bad = 0;
    for (int64_t i = 0; i < 400; i++) {
        float mask = gt_data(y)[i] != 0.0f ? scale : 0.0f;
        if (gt_data(g)[i] != gt_data(w)[i] * mask) bad++;
        if (gt_data(y)[i] != gt_data(x)[i] * mask) bad++;
    }
    CHECK_MSG(bad == 0, "%lld elements where y != x * mask or grad != gy * mask", (long long)bad);
    /* finite differences through dropout (fixed mask), first and second order */
    drop_ctx d = {0.4f, 99};
    gt_tensor *in[1] = {gt_test_randn(7, S(3, 7), 1.0f)};
    in[0]->requires_grad = true;
    gt_test_gradcheck("dropout * tanh", f_drop_sq, 1, in, &d, NULL);
    gt_test_gradgradcheck("dropout * tanh", f_drop_sq, 1, in, &d, NULL);
}

static void test_dropout_identity_and_errors(void) {
    gt_tensor *x = gt_test_randn(8, S(4, 4), 1.0f);
    gt_rng r;
    gt_rng_init(&r, 1);
    int rc = x->refcount;
    gt_tensor *y0 = gt_dropout(x, 0.0f, true, &r), *y1 = gt_dropout(x, 0.7f, false, NULL);
    CHECK(y0 == x && y1 == x && x->refcount == rc + 2); /* x itself, new references */
    CHECK(r.offset == 0);                               /* nothing drawn */
    check_error("p = 1", gt_dropout(x, 1.0f, true, &r), GT_ERR_ARG, "p must be in [0, 1)", "got 1");
    check_error("p < 0", gt_dropout(x, -0.1f, true, &r), GT_ERR_ARG, "got -0.1", NULL);
    check_error("p nan", gt_dropout(x, NAN, false, &r), GT_ERR_ARG, "nan", NULL);
    check_error("rng", gt_dropout(x, 0.5f, true, NULL), GT_ERR_ARG, "rng", NULL);
    CHECK(gt_dropout(NULL, 0.5f, true, &r) == NULL);
}

int main(void) {
    RUN(test_embedding_golden_pytorch);
    RUN(test_embedding_fast_vs_naive);
    RUN(test_embedding_gradchecks);
    RUN(test_embedding_values);
    RUN(test_embedding_errors);
    RUN(test_dropout_statistics);
    RUN(test_dropout_determinism);
    RUN(test_dropout_fast_vs_naive);
    RUN(test_dropout_gradient_is_mask);
    RUN(test_dropout_identity_and_errors);
    return gt_test_finish();
}
