/* Losses: golden values from PyTorch (outputs, gradients, gradients of
 * gradients, saturating logits included), fast vs naive, finite
 * differences, stability at extreme logits, and shape / target errors. */
#include "linalg_cases.h"

static gt_tensor *f_bce(gt_tensor *const *x, void *c) {
    (void)c;
    return gt_bce_with_logits(x[0], x[1]);
}
static gt_tensor *f_bce_binary(gt_tensor *const *x, void *c) {
    (void)c;
    return gt_bce_with_logits(x[0], gt_gt_scalar(x[1], 0.5f));
}
static gt_tensor *f_mse(gt_tensor *const *x, void *c) {
    (void)c;
    return gt_mse_loss(x[0], x[1]);
}
static gt_tensor *f_l1(gt_tensor *const *x, void *c) {
    (void)c; /* |x| > 0.15 and target < 0.05: away from the kink */
    return gt_l1_loss(x[0], gt_mul_scalar(x[1], 0.05f));
}
static gt_tensor *f_ce(gt_tensor *const *x, void *c) {
    (void)c;
    return gt_cross_entropy(x[0], x[1]);
}

static const gt_case CASES[] = {
    {.name = "bce", .f = f_bce, .n = 2, .ndim = {2, 2}, .shape = {{4, 5}, {4, 5}}, .dom = {D_ANY, D_PROB}},
    {.name = "bce_big", .f = f_bce, .n = 2, .ndim = {1, 1}, .shape = {{12}, {12}}, .dom = {D_BIG, D_PROB}},
    {.name = "bce_binary", .f = f_bce_binary, .n = 2, .ndim = {2, 2}, .shape = {{3, 4}, {3, 4}}, .dom = {D_ANY, D_PROB},
     .no_grad = {false, true}},
    {.name = "bce_3d", .f = f_bce, .n = 2, .ndim = {3, 3}, .shape = {{2, 1, 3}, {2, 1, 3}}, .dom = {D_ANY, D_PROB}},
    {.name = "mse", .f = f_mse, .n = 2, .ndim = {2, 2}, .shape = {{3, 4}, {3, 4}}, .dom = {D_ANY, D_ANY}},
    {.name = "mse_1d", .f = f_mse, .n = 2, .ndim = {1, 1}, .shape = {{7}, {7}}, .dom = {D_ANY, D_ANY}},
    {.name = "l1", .f = f_l1, .n = 2, .ndim = {2, 2}, .shape = {{3, 4}, {3, 4}}, .dom = {D_AWAY0, D_PROB}},
    {.name = "ce", .f = f_ce, .n = 2, .ndim = {2, 1}, .shape = {{5, 7}, {5}}, .dom = {D_ANY, D_I32}, .imax = {0, 7}},
    {.name = "ce_big", .f = f_ce, .n = 2, .ndim = {2, 1}, .shape = {{4, 3}, {4}}, .dom = {D_BIG, D_I32}, .imax = {0, 3}},
    {.name = "ce_one_class", .f = f_ce, .n = 2, .ndim = {2, 1}, .shape = {{3, 1}, {3}}, .dom = {D_ANY, D_I32},
     .imax = {0, 1}},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *inputs[NCASES][CASE_MAX_IN];

static void test_golden_pytorch(void) {
    cases_inputs(CASES, NCASES, inputs, 100);
    cases_golden("ops_loss.py", CASES, NCASES, inputs, 1e-5f, 1e-6f);
}

static void test_fast_vs_naive(void) {
    cases_inputs(CASES, NCASES, inputs, 200);
    cases_fast_vs_naive(CASES, NCASES, inputs, 1e-6f, 1e-7f);
}

static void test_gradcheck(void) {
    cases_inputs(CASES, NCASES, inputs, 300);
    cases_gradcheck(CASES, NCASES, inputs, false);
}

static void test_gradgradcheck(void) {
    cases_inputs(CASES, NCASES, inputs, 400);
    cases_gradcheck(CASES, NCASES, inputs, true);
}

/* Exact values at extreme and zero logits (float64 reference by hand). */
static void test_bce_stability(void) {
    float xs[8] = {0.0f, 0.0f, 100.0f, -100.0f, 1e4f, -1e4f, 15.0f, -15.0f};
    float ts[8] = {1.0f, 0.3f, 1.0f, 1.0f, 0.0f, 0.0f, 1.0f, 0.0f};
    gt_tensor *x = gt_from_data(S(8), xs), *t = gt_from_data(S(8), ts);
    x->requires_grad = true;
    double want = 0;
    float gwant[8];
    for (int i = 0; i < 8; i++) {
        double xi = xs[i], sp = xi > 0 ? xi + log1p(exp(-xi)) : log1p(exp(xi)); /* softplus */
        want += sp - xi * ts[i];
        gwant[i] = (float)((1.0 / (1.0 + exp(-xi)) - ts[i]) / 8.0);
    }
    want /= 8.0;
    gt_tensor *l = gt_bce_with_logits(x, t);
    CHECK(l && isfinite(gt_item(l)));
    if (l) CHECK_MSG(fabs(gt_item(l) - want) <= 1e-6 * fabs(want), "bce %.9g want %.9g", gt_item(l), want);
    gt_tensor *g;
    CHECK(l && gt_grad(l, NULL, 1, &x, &g, false) == GT_OK);
    /* at x = 0 the slope is sigmoid(0) - t = 0.5 - t, not a one-sided kink */
    if (l) gt_test_close_buf("bce grad at 0 and at saturation", gt_data(g), gwant, 8, 1e-6f, 1e-9f);
    /* each element alone: the tiny losses of confident, right logits are kept */
    gt_tensor *one = gt_bce_with_logits(gt_from_data(S(1), (float[]){15.0f}), gt_from_data(S(1), (float[]){1.0f}));
    CHECK(one && fabs(gt_item(one) - log1p(exp(-15.0))) < 1e-6 * log1p(exp(-15.0)));
    gt_tensor *ce = gt_cross_entropy(gt_from_data(S(2, 3), (float[]){1000, 0, -1000, -1e4f, 1e4f, 0}),
                                     gt_from_i32(S(2), (int32_t[]){0, 2}));
    CHECK(ce && fabs(gt_item(ce) - 5000.0) < 1e-3); /* 0 and 1e4, mean 5000 */
}

static void test_loss_values(void) {
    gt_tensor *x = gt_from_data(S(2, 2), (float[]){1, 2, 3, 4}), *t = gt_from_data(S(2, 2), (float[]){0, 2, 5, 3});
    gt_tensor *m = gt_mse_loss(x, t), *a = gt_l1_loss(x, t);
    CHECK(m && gt_item(m) == 1.5f && m->ndim == 0);  /* (1 + 0 + 4 + 1) / 4 */
    CHECK(a && gt_item(a) == 1.0f && a->ndim == 0);  /* (1 + 0 + 2 + 1) / 4 */
    gt_tensor *ce = gt_cross_entropy(gt_zeros(S(3, 4)), gt_from_i32(S(3), (int32_t[]){0, 3, 1}));
    CHECK(ce && fabsf(gt_item(ce) - logf(4.0f)) < 1e-6f);
    /* a strided (transposed) target and logits go through as views */
    gt_tensor *xt = gt_transpose(x, 0, 1), *tt = gt_transpose(t, 0, 1);
    gt_tensor *m2 = gt_mse_loss(xt, tt);
    CHECK(m2 && gt_item(m2) == 1.5f);
    gt_tensor *idx = gt_slice(gt_from_i32(S(6), (int32_t[]){1, 9, 0, 9, 2, 9}), 0, 0, 6, 2); /* 1, 0, 2 */
    gt_tensor *ce2 = gt_cross_entropy(gt_from_data(S(3, 3), (float[]){0, 5, 0, 5, 0, 0, 0, 0, 5}), idx);
    CHECK_MSG(ce2 && fabs(gt_item(ce2) - (log(exp(5.0) + 2.0) - 5.0)) < 1e-5, "%s", gt_last_error());
}

static void test_errors(void) {
    gt_tensor *a = gt_zeros(S(2, 3)), *b = gt_zeros(S(3, 2));
    check_error("bce shapes", gt_bce_with_logits(a, b), GT_ERR_SHAPE, "(2, 3)", "(3, 2)");
    check_error("mse shapes", gt_mse_loss(a, gt_zeros(S(3))), GT_ERR_SHAPE, "(2, 3)", "(3,)");
    check_error("l1 shapes", gt_l1_loss(gt_zeros(S(2, 3, 1)), a), GT_ERR_SHAPE, "(2, 3, 1)", "(2, 3)");
    check_error("mse empty", gt_mse_loss(gt_zeros(S(0, 3)), gt_zeros(S(0, 3))), GT_ERR_ARG, "empty", NULL);
    check_error("bce i32", gt_bce_with_logits(a, gt_from_i32(S(1), (int32_t[]){0})), GT_ERR_ARG, "target", NULL);
    gt_tensor *lg = gt_zeros(S(3, 4));
    check_error("ce range", gt_cross_entropy(lg, gt_from_i32(S(3), (int32_t[]){0, 4, 1})), GT_ERR_ARG,
                "target[1] = 4", "C = 4");
    check_error("ce negative", gt_cross_entropy(lg, gt_from_i32(S(3), (int32_t[]){0, 1, -1})), GT_ERR_ARG,
                "target[2] = -1", NULL);
    check_error("ce length", gt_cross_entropy(lg, gt_from_i32(S(2), (int32_t[]){0, 1})), GT_ERR_SHAPE, "(3, 4)",
                "(2,)");
    check_error("ce float target", gt_cross_entropy(lg, gt_zeros(S(3))), GT_ERR_ARG, "int32", NULL);
    check_error("ce 3-D", gt_cross_entropy(gt_zeros(S(3, 4, 1)), gt_from_i32(S(3), (int32_t[]){0, 1, 2})),
                GT_ERR_SHAPE, "(3, 4, 1)", NULL);
    check_error("ce empty", gt_cross_entropy(gt_zeros(S(0, 4)), gt_empty_i32(S(0))), GT_ERR_ARG, "empty", NULL);
    CHECK(gt_mse_loss(NULL, a) == NULL && gt_cross_entropy(lg, NULL) == NULL);
}

/* A whole step: logits from linear, loss, backward into .grad. */
static void test_backward_through_loss(void) {
    gt_tensor *x = gt_test_randn(1, S(6, 4), 1.0f), *w = gt_test_randn(2, S(3, 4), 0.5f);
    w->requires_grad = true;
    gt_tensor *tgt = gt_from_i32(S(6), (int32_t[]){0, 1, 2, 2, 1, 0});
    gt_tensor *l = gt_cross_entropy(gt_linear(x, w, NULL), tgt);
    CHECK(l && gt_backward(l) == GT_OK && w->grad && gt_numel(w->grad) == 12);
    /* each row of dL/dlogits sums to zero (softmax - onehot), so summing
     * dL/dw = gl^T x over the classes gives zeros; and the gradient is not all zero */
    double s = 0, worst = 0;
    for (int i = 0; w->grad && i < 4; i++) {
        double col = 0;
        for (int o = 0; o < 3; o++) {
            col += gt_data(w->grad)[o * 4 + i];
            s += fabs(gt_data(w->grad)[o * 4 + i]);
        }
        worst = fmax(worst, fabs(col));
    }
    CHECK(s > 1e-3 && isfinite(s));
    CHECK_MSG(worst < 1e-6, "class sums of dL/dw: %g", worst);
    gt_zero_grad(w);
}

int main(void) {
    RUN(test_golden_pytorch);
    RUN(test_fast_vs_naive);
    RUN(test_gradcheck);
    RUN(test_gradgradcheck);
    RUN(test_bce_stability);
    RUN(test_loss_values);
    RUN(test_errors);
    RUN(test_backward_through_loss);
    return gt_test_finish();
}
