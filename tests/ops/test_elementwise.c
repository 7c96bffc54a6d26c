/* Elementwise, reduction and view ops: golden values from PyTorch, fast vs
 * naive kernels, gradients and gradients of gradients against finite
 * differences, and errors that name the shapes. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

static gt_tensor *f_add(gt_tensor *const *x, void *c) { (void)c; return gt_add(x[0], x[1]); }
static gt_tensor *f_sub(gt_tensor *const *x, void *c) { (void)c; return gt_sub(x[0], x[1]); }
static gt_tensor *f_mul(gt_tensor *const *x, void *c) { (void)c; return gt_mul(x[0], x[1]); }
static gt_tensor *f_div(gt_tensor *const *x, void *c) { (void)c; return gt_div(x[0], x[1]); }
static gt_tensor *f_pow(gt_tensor *const *x, void *c) { (void)c; return gt_pow(x[0], x[1]); }
static gt_tensor *f_add_scalar(gt_tensor *const *x, void *c) { (void)c; return gt_add_scalar(x[0], 1.5f); }
static gt_tensor *f_mul_scalar(gt_tensor *const *x, void *c) { (void)c; return gt_mul_scalar(x[0], -2.5f); }
static gt_tensor *f_rsub_scalar(gt_tensor *const *x, void *c) { (void)c; return gt_rsub_scalar(x[0], 3.0f); }
static gt_tensor *f_pow_scalar(gt_tensor *const *x, void *c) { (void)c; return gt_pow_scalar(x[0], 3.0f); }
static gt_tensor *f_neg(gt_tensor *const *x, void *c) { (void)c; return gt_neg(x[0]); }
static gt_tensor *f_exp(gt_tensor *const *x, void *c) { (void)c; return gt_exp(x[0]); }
static gt_tensor *f_log(gt_tensor *const *x, void *c) { (void)c; return gt_log(x[0]); }
static gt_tensor *f_sqrt(gt_tensor *const *x, void *c) { (void)c; return gt_sqrt(x[0]); }
static gt_tensor *f_abs(gt_tensor *const *x, void *c) { (void)c; return gt_abs(x[0]); }
static gt_tensor *f_clamp(gt_tensor *const *x, void *c) { (void)c; return gt_clamp(x[0], -0.5f, 0.7f); }
static gt_tensor *f_relu(gt_tensor *const *x, void *c) { (void)c; return gt_relu(x[0]); }
static gt_tensor *f_leaky(gt_tensor *const *x, void *c) { (void)c; return gt_leaky_relu(x[0], 0.2f); }
static gt_tensor *f_tanh(gt_tensor *const *x, void *c) { (void)c; return gt_tanh(x[0]); }
static gt_tensor *f_sigmoid(gt_tensor *const *x, void *c) { (void)c; return gt_sigmoid(x[0]); }
static gt_tensor *f_softplus(gt_tensor *const *x, void *c) { (void)c; return gt_softplus(x[0], 2.0f, 3.0f); }
static gt_tensor *f_elu(gt_tensor *const *x, void *c) { (void)c; return gt_elu(x[0], 0.7f); }
static gt_tensor *f_sum_dims(gt_tensor *const *x, void *c) { (void)c; return gt_sum(x[0], 2, (int[]){0, 2}, false); }
static gt_tensor *f_mean_keep(gt_tensor *const *x, void *c) { (void)c; return gt_mean(x[0], 2, (int[]){1, 3}, true); }
static gt_tensor *f_sum_all(gt_tensor *const *x, void *c) { (void)c; return gt_sum_all(x[0]); }
static gt_tensor *f_max_dim(gt_tensor *const *x, void *c) { (void)c; return gt_max(x[0], 1, false); }
static gt_tensor *f_lse(gt_tensor *const *x, void *c) { (void)c; return gt_logsumexp(x[0], -1, false); }
static gt_tensor *f_log_softmax(gt_tensor *const *x, void *c) { (void)c; return gt_log_softmax(x[0], 1); }
static gt_tensor *f_softmax(gt_tensor *const *x, void *c) { (void)c; return gt_softmax(x[0], 0); }
static gt_tensor *f_permute_reshape(gt_tensor *const *x, void *c) {
    (void)c;
    return gt_reshape(gt_permute(x[0], (int[]){2, 0, 1}), S(-1, 6));
}
static gt_tensor *f_slice_step(gt_tensor *const *x, void *c) { (void)c; return gt_slice(x[0], 1, 1, 5, 2); }
static gt_tensor *f_concat(gt_tensor *const *x, void *c) { (void)c; return gt_concat(2, x, 1); }
static gt_tensor *f_expand_mul(gt_tensor *const *x, void *c) {
    (void)c;
    return gt_mul(gt_expand(x[0], S(3, 4, 5)), x[1]);
}

typedef enum { D_ANY, D_POS, D_AWAY0 } gt_domain; /* input ranges: any, positive, |x| > 0.1 */

typedef struct {
    const char *name;
    gt_test_fn f;
    int n;
    int ndim[2];
    int64_t shape[2][4];
    gt_domain dom[2];
    bool smooth; /* second derivative continuous enough for finite differences */
} gt_case;

static const gt_case CASES[] = {
    {"add", f_add, 2, {3, 2}, {{2, 3, 4}, {3, 1}}, {D_ANY, D_ANY}, true},
    {"sub", f_sub, 2, {2, 3}, {{1, 4}, {2, 3, 4}}, {D_ANY, D_ANY}, true},
    {"mul", f_mul, 2, {3, 1}, {{2, 3, 4}, {4}}, {D_ANY, D_ANY}, true},
    {"div", f_div, 2, {2, 2}, {{3, 4}, {3, 1}}, {D_ANY, D_POS}, true},
    {"pow", f_pow, 2, {2, 2}, {{3, 4}, {3, 4}}, {D_POS, D_ANY}, true},
    {"add_scalar", f_add_scalar, 1, {2}, {{3, 4}}, {D_ANY}, true},
    {"mul_scalar", f_mul_scalar, 1, {2}, {{3, 4}}, {D_ANY}, true},
    {"rsub_scalar", f_rsub_scalar, 1, {2}, {{3, 4}}, {D_ANY}, true},
    {"pow_scalar", f_pow_scalar, 1, {2}, {{3, 4}}, {D_ANY}, true},
    {"neg", f_neg, 1, {2}, {{3, 4}}, {D_ANY}, true},
    {"exp", f_exp, 1, {2}, {{3, 4}}, {D_ANY}, true},
    {"log", f_log, 1, {2}, {{3, 4}}, {D_POS}, true},
    {"sqrt", f_sqrt, 1, {2}, {{3, 4}}, {D_POS}, true},
    {"abs", f_abs, 1, {2}, {{3, 4}}, {D_AWAY0}, true},
    {"clamp", f_clamp, 1, {2}, {{3, 4}}, {D_AWAY0}, true},
    {"relu", f_relu, 1, {3}, {{2, 3, 4}}, {D_AWAY0}, true},
    {"leaky_relu", f_leaky, 1, {3}, {{2, 3, 4}}, {D_AWAY0}, true},
    {"tanh", f_tanh, 1, {2}, {{3, 4}}, {D_ANY}, true},
    {"sigmoid", f_sigmoid, 1, {2}, {{3, 4}}, {D_ANY}, true},
    {"softplus", f_softplus, 1, {2}, {{3, 4}}, {D_ANY}, true},
    {"elu", f_elu, 1, {2}, {{3, 4}}, {D_AWAY0}, true},
    {"sum_dims", f_sum_dims, 1, {3}, {{2, 3, 4}}, {D_ANY}, true},
    {"mean_keep", f_mean_keep, 1, {4}, {{2, 3, 4, 5}}, {D_ANY}, true},
    {"sum_all", f_sum_all, 1, {2}, {{3, 4}}, {D_ANY}, true},
    {"max_dim", f_max_dim, 1, {3}, {{2, 5, 3}}, {D_ANY}, true},
    {"logsumexp", f_lse, 1, {2}, {{3, 5}}, {D_ANY}, true},
    {"log_softmax", f_log_softmax, 1, {2}, {{3, 5}}, {D_ANY}, true},
    {"softmax", f_softmax, 1, {2}, {{3, 5}}, {D_ANY}, true},
    {"permute_reshape", f_permute_reshape, 1, {3}, {{2, 3, 4}}, {D_ANY}, true},
    {"slice_step", f_slice_step, 1, {2}, {{3, 6}}, {D_ANY}, true},
    {"concat", f_concat, 2, {2, 2}, {{3, 2}, {3, 4}}, {D_ANY, D_ANY}, true},
    {"expand_mul", f_expand_mul, 2, {2, 3}, {{4, 1}, {3, 4, 5}}, {D_ANY, D_ANY}, true},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *make_input(const gt_case *c, int i, uint64_t seed) {
    gt_tensor *t = gt_test_randn(seed, c->ndim[i], c->shape[i], 1.0f);
    float *d = gt_data(t);
    for (int64_t k = 0; k < gt_numel(t); k++) {
        if (c->dom[i] == D_POS) d[k] = 0.5f + fabsf(d[k]);
        if (c->dom[i] == D_AWAY0 && fabsf(d[k]) < 0.1f) d[k] += d[k] < 0 ? -0.15f : 0.15f;
    }
    /* keep clamp's inputs away from its edges */
    if (strcmp(c->name, "clamp") == 0)
        for (int64_t k = 0; k < gt_numel(t); k++)
            if (fabsf(d[k] + 0.5f) < 0.05f || fabsf(d[k] - 0.7f) < 0.05f) d[k] += 0.12f;
    return t;
}

static gt_tensor *inputs[NCASES][2];

static void make_inputs(void) {
    for (int c = 0; c < NCASES; c++)
        for (int i = 0; i < CASES[c].n; i++) {
            inputs[c][i] = make_input(&CASES[c], i, 100 + 10 * (uint64_t)c + (uint64_t)i);
            inputs[c][i]->requires_grad = true;
        }
}

static void test_golden_pytorch(void) {
    make_inputs();
    /* write inputs and weights, let PyTorch compute outputs and gradients */
    const char *names[NCASES * 3];
    gt_tensor *ts[NCASES * 3];
    char buf[NCASES * 3][64];
    gt_tensor *w[NCASES];
    int k = 0;
    for (int c = 0; c < NCASES; c++) {
        gt_tensor *y = CASES[c].f(inputs[c], NULL);
        CHECK_MSG(y != NULL, "%s: %s", CASES[c].name, gt_last_error());
        if (!y) return;
        w[c] = gt_test_randn(5000 + (uint64_t)c, y->ndim, y->shape, 1.0f);
        for (int i = 0; i < CASES[c].n; i++) {
            snprintf(buf[k], 64, "%s.x%d", CASES[c].name, i);
            names[k] = buf[k];
            ts[k++] = inputs[c][i];
        }
        snprintf(buf[k], 64, "%s.w", CASES[c].name);
        names[k] = buf[k];
        ts[k++] = w[c];
    }
    char path[512], args[600];
    snprintf(path, sizeof path, "%s/elementwise_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(path, k, names, ts));
    snprintf(args, sizeof args, "%s", path);
    if (!gt_golden_run("ops_elementwise.py", args)) return;
    for (int c = 0; c < NCASES; c++) {
        char nm[96];
        gt_tensor *y = CASES[c].f(inputs[c], NULL);
        snprintf(nm, sizeof nm, "%s.y", CASES[c].name);
        gt_test_close(nm, y, gt_golden(nm), 1e-5f, 1e-6f);
        gt_tensor *l = gt_sum_all(gt_mul(y, w[c]));
        gt_tensor *g[2];
        CHECK(gt_grad(l, NULL, CASES[c].n, inputs[c], g, false) == GT_OK);
        for (int i = 0; i < CASES[c].n; i++) {
            snprintf(nm, sizeof nm, "%s.g%d", CASES[c].name, i);
            gt_test_close(nm, g[i], gt_golden(nm), 1e-5f, 1e-5f);
        }
    }
}

static void test_fast_vs_naive(void) {
    make_inputs();
    for (int c = 0; c < NCASES; c++) gt_test_fast_vs_naive(CASES[c].name, CASES[c].f, CASES[c].n, inputs[c], NULL, 1e-5f, 1e-6f);
}

static void test_gradcheck(void) {
    make_inputs();
    for (int c = 0; c < NCASES; c++) gt_test_gradcheck(CASES[c].name, CASES[c].f, CASES[c].n, inputs[c], NULL, NULL);
}

static void test_gradgradcheck(void) {
    make_inputs();
    for (int c = 0; c < NCASES; c++)
        if (CASES[c].smooth) gt_test_gradgradcheck(CASES[c].name, CASES[c].f, CASES[c].n, inputs[c], NULL, NULL);
}

static void test_large_fast_vs_naive(void) {
    /* big enough to take the threaded paths, with broadcasting and strides */
    gt_tensor *x[2] = {gt_test_randn(1, S(8, 64, 16, 16), 1.0f), gt_test_randn(2, S(1, 64, 1, 1), 1.0f)};
    x[0]->requires_grad = x[1]->requires_grad = true;
    gt_test_fast_vs_naive("mul (8,64,16,16)*(1,64,1,1)", f_mul, 2, x, NULL, 1e-4f, 1e-4f);
    gt_test_fast_vs_naive("sum over (0,2)", f_sum_dims, 1, x, NULL, 1e-4f, 1e-4f);
    gt_tensor *t[1] = {gt_permute(x[0], (int[]){0, 2, 3, 1})};
    gt_test_fast_vs_naive("tanh of a permuted view", f_tanh, 1, t, NULL, 1e-5f, 1e-6f);
}

static void test_errors_name_shapes(void) {
    gt_tensor *a = gt_zeros(S(2, 3)), *b = gt_zeros(S(4, 5));
    gt_tensor *y = gt_add(a, b);
    CHECK(y == NULL);
    CHECK(gt_last_status() == GT_ERR_SHAPE);
    CHECK_MSG(strstr(gt_last_error(), "(2, 3)") && strstr(gt_last_error(), "(4, 5)"), "message: %s", gt_last_error());
    /* NULL propagates without overwriting the first error */
    CHECK(gt_relu(gt_mul(y, a)) == NULL);
    CHECK(strstr(gt_last_error(), "(4, 5)") != NULL);
    CHECK(gt_reshape(a, S(4, 2)) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_sum(a, 1, (int[]){5}, false) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_permute(a, (int[]){0, 0}) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_clamp(a, 1.0f, -1.0f) == NULL && gt_last_status() == GT_ERR_ARG);
    gt_tensor *parts[2];
    CHECK(gt_split(a, 1, 2, (int64_t[]){1, 1}, parts) == GT_ERR_SHAPE);
    CHECK(gt_backward(a) != GT_OK); /* a requires no grad */
}

static void test_split_and_views_share_storage(void) {
    gt_tensor *x = gt_test_randn(9, S(4, 6), 1.0f);
    gt_tensor *p[3];
    CHECK(gt_split(x, 1, 3, (int64_t[]){1, 2, 3}, p) == GT_OK);
    CHECK(p[2]->shape[1] == 3 && p[2]->storage == x->storage);
    CHECK(gt_data(p[1])[0] == gt_data(x)[1]);
    gt_tensor *tr = gt_transpose(x, 0, 1);
    CHECK(!gt_is_contiguous(tr) && tr->shape[0] == 6);
    gt_tensor *c = gt_contiguous(tr);
    CHECK(gt_is_contiguous(c) && gt_data(c)[1] == gt_data(x)[6]);
}

int main(void) {
    RUN(test_golden_pytorch);
    RUN(test_fast_vs_naive);
    RUN(test_gradcheck);
    RUN(test_gradgradcheck);
    RUN(test_large_fast_vs_naive);
    RUN(test_errors_name_shapes);
    RUN(test_split_and_views_share_storage);
    return gt_test_finish();
}
