/* Batch / instance / layer norm: golden values from PyTorch (outputs,
 * gradients, running statistics after a training step, eval mode, 1-D batch
 * norm), fast vs naive kernels, fused vs composite backward, gradients and
 * gradients of gradients against finite differences, and errors. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

enum { BN = 0, IN = 1, LN = 2 };

typedef struct {
    const char *name;
    int kind;
    int ndim;
    int64_t shape[4];
    bool w, b, rs, training;
    float momentum, eps;
    int n_norm;
} ncase;

static const ncase CASES[] = {
    {"bn4d_train", BN, 4, {3, 4, 5, 7}, true, true, true, true, 0.1f, 1e-5f, 0},
    {"bn4d_train_plain", BN, 4, {2, 3, 3, 3}, false, false, false, true, 0.1f, 1e-5f, 0},
    {"bn4d_train_w_only", BN, 4, {2, 3, 2, 5}, true, false, true, true, 0.5f, 1e-3f, 0},
    {"bn3d_train_b_only", BN, 3, {4, 3, 6}, false, true, true, true, 0.2f, 1e-5f, 0},
    {"bn1d_train", BN, 2, {6, 5}, true, true, true, true, 0.3f, 1e-3f, 0},
    {"bn1d_wide", BN, 2, {5, 300}, true, true, true, true, 0.1f, 1e-5f, 0},
    {"bn4d_eval", BN, 4, {3, 4, 5, 7}, true, true, true, false, 0.1f, 1e-5f, 0},
    {"bn1d_eval", BN, 2, {6, 5}, false, true, true, false, 0.1f, 1e-2f, 0},
    {"in_affine", IN, 4, {2, 3, 4, 5}, true, true, false, true, 0, 1e-5f, 0},
    {"in_plain", IN, 4, {3, 2, 3, 3}, false, false, false, true, 0, 1e-5f, 0},
    {"in_1d", IN, 3, {2, 3, 7}, true, false, false, true, 0, 1e-3f, 0},
    {"ln_last2", LN, 3, {3, 4, 5}, true, true, false, true, 0, 1e-5f, 2},
    {"ln_last1", LN, 2, {4, 6}, false, false, false, true, 0, 1e-5f, 1},
    {"ln_all", LN, 3, {2, 3, 4}, true, false, false, true, 0, 1e-4f, 3},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

/* inputs: in[0] = x, then weight if c->w, then bias if c->b; the running
 * statistics ride in the context (they are state, not inputs). */
typedef struct {
    const ncase *c;
    gt_tensor *rm, *rv;
} nctx;

static gt_tensor *f_norm(gt_tensor *const *in, void *p) {
    nctx *k = p;
    const ncase *c = k->c;
    gt_tensor *x = in[0], *w = c->w ? in[1] : NULL, *b = c->b ? in[c->w ? 2 : 1] : NULL;
    switch (c->kind) {
    case BN: return gt_batch_norm(x, w, b, k->rm, k->rv, c->training, c->momentum, c->eps);
    case IN: return gt_instance_norm(x, w, b, c->eps);
    default: return gt_layer_norm(x, c->n_norm, w, b, c->eps);
    }
}

static int64_t nchan(const ncase *c) { return c->kind == LN ? 0 : c->shape[1]; }

/* Parameter shape: (C) for batch / instance norm, the normalised dims for layer norm. */
static gt_tensor *param(const ncase *c, uint64_t seed, float base) {
    gt_tensor *t;
    if (c->kind == LN) t = gt_test_randn(seed, c->n_norm, c->shape + c->ndim - c->n_norm, 0.5f);
    else t = gt_test_randn(seed, 1, (int64_t[]){nchan(c)}, 0.5f);
    float *d = gt_data(t);
    for (int64_t i = 0; i < gt_numel(t); i++) d[i] += base;
    return t;
}

/* Inputs for case i (x with a non-zero mean and scale), and running stats. */
static int make_inputs(int i, gt_tensor **in, nctx *k) {
    const ncase *c = &CASES[i];
    int n = 0;
    in[n] = gt_test_randn(300 + (uint64_t)i, c->ndim, c->shape, 1.7f);
    float *d = gt_data(in[n]);
    for (int64_t e = 0; e < gt_numel(in[n]); e++) d[e] += 0.8f;
    in[n++]->requires_grad = true;
    if (c->w) {
        in[n] = param(c, 400 + (uint64_t)i, 1.0f);
        in[n++]->requires_grad = true;
    }
    if (c->b) {
        in[n] = param(c, 500 + (uint64_t)i, 0.0f);
        in[n++]->requires_grad = true;
    }
    k->c = c;
    k->rm = k->rv = NULL;
    if (c->rs) {
        k->rm = gt_test_randn(600 + (uint64_t)i, 1, (int64_t[]){nchan(c)}, 0.3f);
        k->rv = gt_test_uniform(700 + (uint64_t)i, 1, (int64_t[]){nchan(c)}, 0.5f, 2.0f);
    }
    return n;
}

static gt_tensor *clone(gt_tensor *t) {
    gt_tensor *c = gt_empty(t->ndim, t->shape);
    gt_copy_to(t, gt_data(c));
    return c;
}

static void test_golden_pytorch(void) {
    enum { PER = 7 };
    const char *names[NCASES * PER];
    gt_tensor *ts[NCASES * PER];
    static char buf[NCASES * PER][64];
    gt_tensor *in[NCASES][3], *wout[NCASES];
    nctx k[NCASES];
    int nin[NCASES], m = 0;
    for (int i = 0; i < NCASES; i++) {
        const ncase *c = &CASES[i];
        nin[i] = make_inputs(i, in[i], &k[i]);
        wout[i] = gt_test_randn(800 + (uint64_t)i, c->ndim, c->shape, 1.0f);
        float cfg[5] = {(float)c->kind, c->training, c->momentum, c->eps, (float)c->n_norm};
        gt_tensor *list[7] = {gt_from_data(1, (int64_t[]){5}, cfg), in[i][0], wout[i]};
        const char *tags[7] = {"cfg", "x", "wout"};
        int nt = 3;
        if (c->w) list[nt] = in[i][1], tags[nt++] = "w";
        if (c->b) list[nt] = in[i][c->w ? 2 : 1], tags[nt++] = "b";
        if (c->rs) list[nt] = k[i].rm, tags[nt++] = "rm", list[nt] = k[i].rv, tags[nt++] = "rv";
        for (int j = 0; j < nt; j++) {
            snprintf(buf[m], 64, "%s.%s", c->name, tags[j]);
            names[m] = buf[m];
            ts[m++] = list[j];
        }
    }
    char path[512];
    snprintf(path, sizeof path, "%s/norm_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(path, m, names, ts));
    if (!gt_golden_run("ops_norm.py", path)) return;
    for (int i = 0; i < NCASES; i++) {
        const ncase *c = &CASES[i];
        char nm[96];
        nctx kk = k[i];
        if (c->rs) kk.rm = clone(k[i].rm), kk.rv = clone(k[i].rv);
        gt_tensor *y = f_norm(in[i], &kk);
        CHECK_MSG(y != NULL, "%s: %s", c->name, gt_last_error());
        if (!y) continue;
        snprintf(nm, sizeof nm, "%s.y", c->name);
        gt_test_close(nm, y, gt_golden(nm), 1e-5f, 2e-5f);
        if (c->rs) {
            snprintf(nm, sizeof nm, "%s.rm_after", c->name);
            gt_test_close(nm, kk.rm, gt_golden(nm), 1e-5f, 1e-6f);
            snprintf(nm, sizeof nm, "%s.rv_after", c->name);
            gt_test_close(nm, kk.rv, gt_golden(nm), 1e-5f, 1e-6f);
        }
        gt_tensor *g[3];
        CHECK(gt_grad(gt_sum_all(gt_mul(y, wout[i])), NULL, nin[i], in[i], g, false) == GT_OK);
        const char *gtags[3] = {"gx", c->w ? "gw" : "gb", "gb"};
        for (int j = 0; j < nin[i]; j++) {
            snprintf(nm, sizeof nm, "%s.%s", c->name, gtags[j]);
            gt_test_close(nm, g[j], gt_golden(nm), 1e-4f, 1e-4f);
        }
    }
}

static void test_fast_vs_naive(void) {
    for (int i = 0; i < NCASES; i++) {
        gt_tensor *in[3];
        nctx k;
        int n = make_inputs(i, in, &k);
        if (CASES[i].rs && CASES[i].training) k.rm = k.rv = NULL; /* no state drift between the runs */
        gt_test_fast_vs_naive(CASES[i].name, f_norm, n, in, &k, 1e-4f, 1e-4f);
    }
    /* big enough for the threaded paths and the channel blocks of (N, C) */
    static const ncase big[] = {
        {"bn4d_big_train", BN, 4, {8, 16, 12, 12}, true, true, false, true, 0.1f, 1e-5f, 0},
        {"bn4d_big_eval", BN, 4, {8, 16, 12, 12}, true, true, true, false, 0.1f, 1e-5f, 0},
        {"bn1d_big_train", BN, 2, {128, 600}, true, true, false, true, 0.1f, 1e-5f, 0},
        {"ln_big", LN, 3, {8, 64, 96}, true, true, false, true, 0, 1e-5f, 1},
    };
    for (int i = 0; i < 4; i++) {
        const ncase *c = &big[i];
        gt_tensor *in[3] = {gt_test_randn(11 + (uint64_t)i, c->ndim, c->shape, 2.0f), param(c, 21, 1.0f),
                            param(c, 31, 0.0f)};
        for (int j = 0; j < 3; j++) in[j]->requires_grad = true;
        nctx k = {c, NULL, NULL};
        if (c->rs) {
            k.rm = gt_test_randn(41, 1, (int64_t[]){c->shape[1]}, 0.3f);
            k.rv = gt_test_uniform(51, 1, (int64_t[]){c->shape[1]}, 0.5f, 2.0f);
        }
        gt_test_fast_vs_naive(c->name, f_norm, 3, in, &k, 1e-4f, 1e-4f);
    }
}

/* The composite backward (recorded when create_graph) gives the same first
 * gradients as the fused kernel. */
static void test_fused_vs_composite(void) {
    for (int i = 0; i < NCASES; i++) {
        gt_tensor *in[3], *g0[3], *g1[3];
        nctx k;
        int n = make_inputs(i, in, &k);
        if (CASES[i].training) k.rm = k.rv = NULL;
        gt_tensor *w = gt_test_randn(900, CASES[i].ndim, CASES[i].shape, 1.0f);
        gt_tensor *l = gt_sum_all(gt_mul(f_norm(in, &k), w));
        CHECK(gt_grad(l, NULL, n, in, g0, true) == GT_OK);
        l = gt_sum_all(gt_mul(f_norm(in, &k), w));
        CHECK(gt_grad(l, NULL, n, in, g1, false) == GT_OK);
        for (int j = 0; j < n; j++) {
            char nm[96];
            snprintf(nm, sizeof nm, "%s: composite vs fused gradient %d", CASES[i].name, j);
            CHECK_MSG(!g1[j]->requires_grad, "%s: no graph without create_graph", nm);
            if (j == 0 && CASES[i].training) CHECK_MSG(g0[j]->requires_grad, "%s: graph recorded", nm);
            gt_test_close(nm, g0[j], g1[j], 1e-4f, 1e-5f);
        }
    }
}

static void test_gradcheck(void) {
    gt_gradcheck_opts o = {.eps = 1e-2f, .rtol = 2e-2f, .atol = 3e-3f};
    for (int i = 0; i < NCASES; i++) {
        gt_tensor *in[3];
        nctx k;
        int n = make_inputs(i, in, &k);
        if (CASES[i].training) k.rm = k.rv = NULL;
        gt_test_gradcheck(CASES[i].name, f_norm, n, in, &k, &o);
    }
}

static void test_gradgradcheck(void) {
    gt_gradcheck_opts o = {.eps = 1e-2f, .rtol = 3e-2f, .atol = 5e-3f};
    for (int i = 0; i < NCASES; i++) {
        gt_tensor *in[3];
        nctx k;
        int n = make_inputs(i, in, &k);
        if (CASES[i].training) k.rm = k.rv = NULL;
        gt_test_gradgradcheck(CASES[i].name, f_norm, n, in, &k, &o);
    }
}

/* A WGAN-GP style penalty through a batch norm: the gradient of
 * |d D(x) / dx|^2 reaches the weight, and matches finite differences. */
static gt_tensor *f_penalty(gt_tensor *const *in, void *p) {
    (void)p;
    bool prev = gt_grad_enabled(); /* the harness evaluates f under no_grad for finite differences */
    gt_grad_mode_set(true);
    gt_tensor *x = in[0], *w = in[1];
    gt_tensor *y = gt_tanh(gt_batch_norm(x, w, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    gt_tensor *d = gt_sum_all(gt_mul(y, y));
    gt_tensor *gx = NULL, *r = NULL;
    if (gt_grad(d, NULL, 1, &x, &gx, prev) == GT_OK) r = gt_sum_all(gt_mul(gx, gx));
    gt_grad_mode_set(prev);
    return r;
}

static void test_gradient_penalty(void) {
    gt_tensor *in[2] = {gt_test_randn(61, S(4, 3, 2, 2), 1.0f), gt_test_uniform(62, S(3), 0.5f, 1.5f)};
    in[0]->requires_grad = in[1]->requires_grad = true;
    gt_gradcheck_opts o = {.eps = 5e-3f, .rtol = 3e-2f, .atol = 5e-3f};
    gt_test_gradcheck("penalty through batch norm", f_penalty, 2, in, NULL, &o);
}

static void test_running_stats(void) {
    /* several training steps follow PyTorch's update rule; eval leaves them alone */
    gt_tensor *x = gt_test_randn(71, S(4, 2, 3, 3), 2.0f);
    gt_tensor *rm = gt_zeros(S(2)), *rv = gt_ones(S(2));
    double em[2] = {0, 0}, ev[2] = {1, 1};
    for (int step = 0; step < 3; step++) {
        CHECK(gt_batch_norm(x, NULL, NULL, rm, rv, true, 0.25f, 1e-5f) != NULL);
        const float *d = gt_data(x);
        for (int c = 0; c < 2; c++) {
            double s = 0, q = 0;
            for (int n = 0; n < 4; n++)
                for (int i = 0; i < 9; i++) s += d[(n * 2 + c) * 9 + i];
            double m = s / 36;
            for (int n = 0; n < 4; n++)
                for (int i = 0; i < 9; i++) q += (d[(n * 2 + c) * 9 + i] - m) * (d[(n * 2 + c) * 9 + i] - m);
            em[c] = 0.75 * em[c] + 0.25 * m;
            ev[c] = 0.75 * ev[c] + 0.25 * q / 35; /* unbiased */
        }
    }
    for (int c = 0; c < 2; c++) {
        CHECK_MSG(fabs(gt_data(rm)[c] - em[c]) < 1e-5, "running mean %d: %g vs %g", c, gt_data(rm)[c], em[c]);
        CHECK_MSG(fabs(gt_data(rv)[c] - ev[c]) < 1e-5 * ev[c], "running var %d: %g vs %g", c, gt_data(rv)[c], ev[c]);
    }
    float before[2] = {gt_data(rm)[0], gt_data(rv)[1]};
    gt_tensor *y = gt_batch_norm(x, NULL, NULL, rm, rv, false, 0.25f, 1e-5f);
    CHECK(y && gt_data(rm)[0] == before[0] && gt_data(rv)[1] == before[1]);
    /* eval output: (x - rm) / sqrt(rv + eps) */
    float want = (gt_data(x)[9] - gt_data(rm)[1]) / sqrtf(gt_data(rv)[1] + 1e-5f);
    CHECK_MSG(y && fabsf(gt_data(y)[9] - want) < 1e-5f, "eval value %g vs %g", y ? gt_data(y)[9] : 0.0f, want);
}

static void test_errors(void) {
    gt_tensor *x = gt_zeros(S(4, 3, 2, 2)), *w5 = gt_ones(S(5)), *w3 = gt_ones(S(3));
    gt_tensor *rm = gt_zeros(S(3)), *rv = gt_ones(S(3));
    CHECK(gt_batch_norm(x, w5, NULL, NULL, NULL, true, 0.1f, 1e-5f) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK_MSG(strstr(gt_last_error(), "(5,)") && strstr(gt_last_error(), "(4, 3, 2, 2)"), "message: %s",
              gt_last_error());
    CHECK(gt_batch_norm(x, w3, w5, NULL, NULL, true, 0.1f, 1e-5f) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_batch_norm(x, NULL, NULL, rm, w5, true, 0.1f, 1e-5f) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_batch_norm(gt_zeros(S(6)), NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f) == NULL &&
          gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_batch_norm(x, NULL, NULL, NULL, NULL, false, 0.1f, 1e-5f) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_batch_norm(x, NULL, NULL, rm, NULL, true, 0.1f, 1e-5f) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_batch_norm(x, NULL, NULL, NULL, NULL, true, 0.1f, -1.0f) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_batch_norm(x, NULL, NULL, rm, rv, true, 1.5f, 1e-5f) == NULL && gt_last_status() == GT_ERR_ARG);
    /* one value per channel cannot be normalised with batch statistics (fine in eval) */
    CHECK(gt_batch_norm(gt_zeros(S(1, 3)), NULL, NULL, rm, rv, true, 0.1f, 1e-5f) == NULL &&
          gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_batch_norm(gt_zeros(S(1, 3)), NULL, NULL, rm, rv, false, 0.1f, 1e-5f) != NULL);
    CHECK(gt_instance_norm(gt_zeros(S(2, 3, 1, 1)), NULL, NULL, 1e-5f) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_instance_norm(gt_zeros(S(2, 3)), NULL, NULL, 1e-5f) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_instance_norm(x, w5, NULL, 1e-5f) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_layer_norm(x, 0, NULL, NULL, 1e-5f) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_layer_norm(x, 5, NULL, NULL, 1e-5f) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_layer_norm(x, 2, w3, NULL, 1e-5f) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK_MSG(strstr(gt_last_error(), "(3,)") && strstr(gt_last_error(), "(4, 3, 2, 2)"), "message: %s",
              gt_last_error());
    CHECK(gt_layer_norm(x, 2, NULL, gt_ones(S(2, 3)), 1e-5f) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_layer_norm(x, 2, gt_ones(S(2, 2)), NULL, 1e-5f) != NULL);
    /* NULL propagates */
    CHECK(gt_batch_norm(NULL, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f) == NULL);
}

static void test_strided_input(void) {
    /* a permuted (non-contiguous) input gives the same result as its copy */
    gt_tensor *x = gt_test_randn(81, S(3, 5, 4, 2), 1.0f);
    gt_tensor *p = gt_permute(x, (int[]){0, 3, 2, 1}); /* (3, 2, 4, 5) */
    gt_tensor *a = gt_batch_norm(p, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f);
    gt_tensor *b = gt_batch_norm(gt_contiguous(p), NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f);
    gt_test_close("batch norm of a permuted view", a, b, 1e-6f, 1e-7f);
}

int main(void) {
    RUN(test_golden_pytorch);
    RUN(test_fast_vs_naive);
    RUN(test_fused_vs_composite);
    RUN(test_gradcheck);
    RUN(test_gradgradcheck);
    RUN(test_gradient_penalty);
    RUN(test_running_stats);
    RUN(test_errors);
    RUN(test_strided_input);
    return gt_test_finish();
}
