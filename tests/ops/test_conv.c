/* conv2d, conv_transpose2d, conv2d_weight_grad: golden values and gradients
 * (first and second order) from PyTorch, fast vs naive kernels (one chunk and
 * several), finite differences, and the error messages. */
#include "../../src/backend/cpu/conv.h" /* gt_cpu_conv_set_chunking */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

enum { K_CONV, K_CONVT, K_WGRAD };

typedef struct {
    const char *name;
    int kind;
    int64_t a[4], b[4]; /* conv: x, w; conv_transpose: x, w; weight_grad: x, gy */
    bool bias;
    gt_conv_params p;
    int kh, kw;         /* weight_grad only */
} conv_case;

/* {stride h, w, pad h, w, dil h, w, out_pad h, w, groups} */
#define P(sh, sw, ph, pw, dh, dw, oh, ow, g) {sh, sw, ph, pw, dh, dw, oh, ow, g}
#define S2P1 P(2, 2, 1, 1, 1, 1, 0, 0, 1)

static const conv_case SMALL[] = {
    {"c_s2", K_CONV, {2, 3, 7, 6}, {4, 3, 3, 3}, true, P(2, 2, 0, 0, 1, 1, 0, 0, 1), 0, 0},
    {"c_pad", K_CONV, {2, 3, 5, 5}, {5, 3, 3, 3}, true, P(1, 1, 1, 2, 1, 1, 0, 0, 1), 0, 0},
    {"c_dil2", K_CONV, {2, 2, 9, 8}, {3, 2, 3, 2}, false, P(1, 1, 1, 1, 2, 2, 0, 0, 1), 0, 0},
    {"c_groups2", K_CONV, {2, 4, 6, 6}, {6, 2, 3, 3}, true, P(1, 1, 1, 1, 1, 1, 0, 0, 2), 0, 0},
    {"c_odd", K_CONV, {3, 3, 11, 9}, {4, 3, 4, 3}, false, P(3, 2, 2, 1, 1, 1, 0, 0, 1), 0, 0},
    {"c_1x1", K_CONV, {2, 5, 4, 4}, {3, 5, 1, 1}, true, P(1, 1, 0, 0, 1, 1, 0, 0, 1), 0, 0},
    {"c_dcgan", K_CONV, {2, 8, 16, 16}, {16, 8, 4, 4}, false, S2P1, 0, 0},
    {"t_s2op1", K_CONVT, {2, 4, 5, 5}, {4, 3, 3, 3}, true, P(2, 2, 1, 1, 1, 1, 1, 1, 1), 0, 0},
    {"t_dcgan", K_CONVT, {2, 16, 4, 4}, {16, 8, 4, 4}, false, S2P1, 0, 0},
    {"t_first", K_CONVT, {3, 10, 1, 1}, {10, 6, 4, 4}, true, P(1, 1, 0, 0, 1, 1, 0, 0, 1), 0, 0},
    {"t_groups", K_CONVT, {2, 4, 5, 4}, {4, 3, 3, 3}, true, P(1, 1, 1, 1, 2, 2, 0, 0, 2), 0, 0},
    {"t_odd", K_CONVT, {2, 3, 4, 5}, {3, 2, 3, 2}, false, P(2, 3, 1, 0, 1, 1, 1, 2, 1), 0, 0},
    {"t_opdil", K_CONVT, {1, 2, 4, 4}, {2, 2, 3, 3}, false, P(1, 1, 0, 0, 2, 2, 1, 1, 1), 0, 0},
    {"w_s2", K_WGRAD, {2, 3, 7, 7}, {2, 4, 3, 3}, false, P(2, 2, 0, 0, 1, 1, 0, 0, 1), 3, 3},
    {"w_g2", K_WGRAD, {2, 4, 6, 6}, {2, 6, 6, 6}, false, P(1, 1, 1, 1, 1, 1, 0, 0, 2), 3, 3},
    {"w_dil", K_WGRAD, {1, 2, 8, 7}, {1, 3, 4, 3}, false, P(1, 2, 0, 1, 2, 2, 0, 0, 1), 3, 3},
};
#define NSMALL (int)(sizeof SMALL / sizeof SMALL[0])

/* DCGAN-64 layer shapes (k4 s2 p1, and G's first layer) at batch 2. */
static const conv_case BIG[] = {
    {"d_conv1", K_CONV, {2, 3, 64, 64}, {64, 3, 4, 4}, false, S2P1, 0, 0},
    {"d_conv2", K_CONV, {2, 64, 32, 32}, {128, 64, 4, 4}, false, S2P1, 0, 0},
    {"d_conv4", K_CONV, {2, 256, 8, 8}, {512, 256, 4, 4}, false, S2P1, 0, 0},
    {"g_first", K_CONVT, {2, 100, 1, 1}, {100, 512, 4, 4}, false, P(1, 1, 0, 0, 1, 1, 0, 0, 1), 0, 0},
    {"g_convt2", K_CONVT, {2, 256, 8, 8}, {256, 128, 4, 4}, false, S2P1, 0, 0},
    {"g_convt4", K_CONVT, {2, 64, 32, 32}, {64, 3, 4, 4}, false, S2P1, 0, 0},
};
#define NBIG (int)(sizeof BIG / sizeof BIG[0])

static gt_tensor *f_case(gt_tensor *const *in, void *ctx) {
    const conv_case *c = ctx;
    switch (c->kind) {
    case K_CONV: return gt_conv2d(in[0], in[1], c->bias ? in[2] : NULL, c->p);
    case K_CONVT: return gt_conv_transpose2d(in[0], in[1], c->bias ? in[2] : NULL, c->p);
    default: return gt_conv2d_weight_grad(in[0], in[1], c->kh, c->kw, c->p);
    }
}

static int n_inputs(const conv_case *c) { return c->bias ? 3 : 2; }

/* The bias has C_out entries: w's dim 0 for conv2d, dim 1 * groups for conv_transpose2d. */
static void make_inputs(const conv_case *c, uint64_t seed, gt_tensor **in) {
    in[0] = gt_test_randn(seed, 4, c->a, 1.0f);
    in[1] = gt_test_randn(seed + 1, 4, c->b, 0.5f);
    if (c->bias) {
        int64_t cout = c->kind == K_CONV ? c->b[0] : c->b[1] * c->p.groups;
        in[2] = gt_test_randn(seed + 2, S(cout), 1.0f);
    }
    for (int i = 0; i < n_inputs(c); i++) in[i]->requires_grad = true;
}

/* Runs every case through PyTorch once: output, first- and second-order gradients. */
static void golden_cases(const conv_case *cases, int ncase, float rtol, float atol, const char *tag) {
    gt_tensor *in[64][3], *wl[64], *v[64][2];
    const char *names[64 * 8];
    gt_tensor *ts[64 * 8];
    static char buf[64 * 8][48];
    int k = 0;
    for (int c = 0; c < ncase; c++) {
        const conv_case *cc = &cases[c];
        make_inputs(cc, 100 + 10 * (uint64_t)c, in[c]);
        gt_tensor *y = f_case(in[c], (void *)cc);
        CHECK_MSG(y != NULL, "%s: %s", cc->name, gt_last_error());
        if (!y) return;
        wl[c] = gt_test_randn(5000 + (uint64_t)c, y->ndim, y->shape, 1.0f);
        for (int i = 0; i < 2; i++) v[c][i] = gt_test_randn(7000 + 2 * (uint64_t)c + i, 4, i ? cc->b : cc->a, 1.0f);
        int32_t pv[12] = {cc->kind,   cc->p.stride_h,  cc->p.stride_w,  cc->p.pad_h, cc->p.pad_w, cc->p.dil_h,
                          cc->p.dil_w, cc->p.out_pad_h, cc->p.out_pad_w, cc->p.groups, cc->kh,      cc->kw};
        const char *sfx[7] = {"p", "a", "b", "w", "v0", "v1", "bias"};
        gt_tensor *tv[7] = {gt_from_i32(S(12), pv), in[c][0], in[c][1], wl[c], v[c][0], v[c][1],
                            cc->bias ? in[c][2] : NULL};
        for (int i = 0; i < 7; i++) {
            if (!tv[i]) continue;
            snprintf(buf[k], sizeof buf[k], "%s.%s", cc->name, sfx[i]);
            names[k] = buf[k];
            ts[k++] = tv[i];
        }
    }
    char path[512];
    snprintf(path, sizeof path, "%s/conv_%s_in.gtb", gt_test_tmpdir(), tag);
    CHECK(gt_golden_write(path, k, names, ts));
    if (!gt_golden_run("ops_conv.py", path)) return;
    for (int c = 0; c < ncase; c++) {
        const conv_case *cc = &cases[c];
        int n = n_inputs(cc);
        char nm[96];
        gt_tensor *y = f_case(in[c], (void *)cc);
        snprintf(nm, sizeof nm, "%s.y", cc->name);
        gt_test_close(nm, y, gt_golden(nm), rtol, atol);
        /* first order, with the graph kept for the second */
        gt_tensor *g[3];
        if (gt_grad(gt_sum_all(gt_mul(y, wl[c])), NULL, n, in[c], g, true) != GT_OK) {
            CHECK_MSG(false, "%s: grad failed: %s", cc->name, gt_last_error());
            continue;
        }
        for (int i = 0; i < n; i++) {
            snprintf(nm, sizeof nm, "%s.g%d", cc->name, i);
            gt_test_close(nm, g[i], gt_golden(nm), rtol, atol);
        }
        gt_tensor *h = gt_add(gt_sum_all(gt_mul(g[0], v[c][0])), gt_sum_all(gt_mul(g[1], v[c][1])));
        gt_tensor *hg[2];
        if (gt_grad(h, NULL, 2, in[c], hg, false) != GT_OK) {
            CHECK_MSG(false, "%s: second-order grad failed: %s", cc->name, gt_last_error());
            continue;
        }
        for (int i = 0; i < 2; i++) {
            snprintf(nm, sizeof nm, "%s.h%d", cc->name, i);
            gt_test_close(nm, hg[i], gt_golden(nm), rtol, atol);
        }
    }
}

static void test_golden_small(void) { golden_cases(SMALL, NSMALL, 1e-4f, 1e-4f, "small"); }
static void test_golden_dcgan_shapes(void) { golden_cases(BIG, NBIG, 1e-3f, 2e-3f, "big"); }

static void fast_vs_naive_cases(const conv_case *cases, int ncase, float tol) {
    for (int c = 0; c < ncase; c++) {
        gt_tensor *in[3];
        make_inputs(&cases[c], 300 + 10 * (uint64_t)c, in);
        /* the default chunking, then one image per chunk */
        gt_test_fast_vs_naive(cases[c].name, f_case, n_inputs(&cases[c]), in, (void *)&cases[c], tol, tol);
        gt_cpu_conv_set_chunking(1, 1);
        char nm[96];
        snprintf(nm, sizeof nm, "%s (one image per chunk)", cases[c].name);
        gt_test_fast_vs_naive(nm, f_case, n_inputs(&cases[c]), in, (void *)&cases[c], tol, tol);
        gt_cpu_conv_set_chunking(0, 0);
        /* the forwards that go through space-to-depth by default, through im2col's gathers */
        gt_cpu_conv_set_s2d(false);
        snprintf(nm, sizeof nm, "%s (no space-to-depth)", cases[c].name);
        gt_test_fast_vs_naive(nm, f_case, n_inputs(&cases[c]), in, (void *)&cases[c], tol, tol);
        gt_cpu_conv_set_s2d(true);
    }
}

static void test_fast_vs_naive_small(void) { fast_vs_naive_cases(SMALL, NSMALL, 1e-4f); }
static void test_fast_vs_naive_dcgan_shapes(void) { fast_vs_naive_cases(BIG, NBIG, 1e-3f); }

/* One thread: the chunks run one after another (the path batch-1 calls take). */
static void test_fast_vs_naive_one_thread(void) {
    int prev = gt_get_num_threads();
    gt_set_num_threads(1);
    fast_vs_naive_cases(SMALL, NSMALL, 1e-4f);
    gt_set_num_threads(prev);
}

static void test_fast_vs_naive_uneven_chunks(void) {
    /* batch 5 in chunks of 2 (the last one short), threaded loops, groups */
    static const conv_case c[] = {
        {"conv b5 chunks of 2", K_CONV, {5, 16, 20, 20}, {32, 8, 3, 3}, true, P(1, 1, 1, 1, 1, 1, 0, 0, 2), 0, 0},
        {"convT b5 chunks of 2", K_CONVT, {5, 16, 10, 10}, {16, 4, 4, 4}, true, P(2, 2, 1, 1, 1, 1, 0, 0, 2), 0, 0},
    };
    /* im2col floats per image: C * kh * kw * Ho * Wo of the conv geometry (the convT's runs from y to x) */
    const int64_t per[2] = {16 * 9 * 20 * 20, 8 * 16 * 10 * 10};
    for (int i = 0; i < 2; i++) {
        gt_cpu_conv_set_chunking(2 * per[i], 1);
        gt_tensor *in[3];
        make_inputs(&c[i], 900 + (uint64_t)i, in);
        gt_test_fast_vs_naive(c[i].name, f_case, 3, in, (void *)&c[i], 1e-4f, 1e-4f);
    }
    gt_cpu_conv_set_chunking(0, 0);
}

/* One image whose im2col is large goes a block of output rows at a time (forward and weight
 * gradient): blocks of 3 rows over 20 (the last one short), with groups and with dilation. */
static void test_fast_vs_naive_row_blocks(void) {
    static const conv_case c[] = {
        {"conv row blocks, groups", K_CONV, {2, 16, 20, 20}, {8, 8, 3, 3}, true, P(1, 1, 1, 1, 1, 1, 0, 0, 2), 0, 0},
        {"conv row blocks, dilation", K_CONV, {2, 16, 22, 20}, {8, 16, 3, 3}, false, P(1, 1, 1, 1, 2, 1, 0, 0, 1), 0,
         0},
        {"wgrad row blocks", K_WGRAD, {2, 16, 20, 20}, {2, 8, 20, 20}, false, P(1, 1, 1, 1, 1, 1, 0, 0, 1), 3, 3},
    };
    for (int i = 0; i < 3; i++) {
        gt_cpu_conv_set_chunking(3 * 16 * 9 * 20, 1); /* 3 rows of K = 16 * 9 taps by Wo = 20 */
        gt_tensor *in[3];
        make_inputs(&c[i], 950 + (uint64_t)i, in);
        gt_test_fast_vs_naive(c[i].name, f_case, n_inputs(&c[i]), in, (void *)&c[i], 1e-4f, 1e-4f);
    }
    gt_cpu_conv_set_chunking(0, 0);
}

/* Winograd F(2x2, 3x3) (3x3 stride-1 convs with >= 16 channels: the forward, and the input gradient,
 * which is also what a 3x3 stride-1 transposed conv's forward runs): against the naive kernel, outputs
 * and gradients, with odd sizes (a last tile half outside), padding 0, 1 and 2, bias or none; and
 * the same results as the im2col path. */
static void test_winograd(void) {
    static const conv_case c[] = {
        {"wino pad1 odd", K_CONV, {2, 16, 9, 11}, {24, 16, 3, 3}, true, P(1, 1, 1, 1, 1, 1, 0, 0, 1), 0, 0},
        {"wino pad0", K_CONV, {3, 17, 12, 10}, {16, 17, 3, 3}, false, P(1, 1, 0, 0, 1, 1, 0, 0, 1), 0, 0},
        {"wino pad2 mixed", K_CONV, {1, 20, 8, 9}, {18, 20, 3, 3}, true, P(1, 1, 2, 1, 1, 1, 0, 0, 1), 0, 0},
        {"wino convT", K_CONVT, {2, 16, 9, 8}, {16, 20, 3, 3}, true, P(1, 1, 1, 1, 1, 1, 0, 0, 1), 0, 0},
    };
    gt_cpu_conv_set_winograd(2); /* small shapes: Winograd wherever it fits */
    for (int i = 0; i < 4; i++) {
        gt_tensor *in[3];
        make_inputs(&c[i], 970 + (uint64_t)i, in);
        gt_test_fast_vs_naive(c[i].name, f_case, n_inputs(&c[i]), in, (void *)&c[i], 1e-4f, 1e-4f);
        /* and against the im2col path on the same inputs */
        for (int k = 0; k < n_inputs(&c[i]); k++) gt_set_requires_grad(in[k], false);
        gt_tensor *yw = f_case(in, (void *)&c[i]);
        gt_cpu_conv_set_winograd(0);
        gt_tensor *yi = f_case(in, (void *)&c[i]);
        gt_cpu_conv_set_winograd(2);
        char nm[96];
        snprintf(nm, sizeof nm, "%s: Winograd vs im2col", c[i].name);
        CHECK(yw && yi && gt_test_close(nm, yw, yi, 1e-4f, 1e-5f));
    }
    gt_cpu_conv_set_winograd(1);
}

static void test_gradcheck(void) {
    for (int c = 0; c < NSMALL; c++) {
        gt_tensor *in[3];
        make_inputs(&SMALL[c], 500 + 10 * (uint64_t)c, in);
        gt_test_gradcheck(SMALL[c].name, f_case, n_inputs(&SMALL[c]), in, (void *)&SMALL[c], NULL);
    }
}

static void test_gradgradcheck(void) {
    for (int c = 0; c < NSMALL; c++) {
        gt_tensor *in[3];
        make_inputs(&SMALL[c], 600 + 10 * (uint64_t)c, in);
        gt_test_gradgradcheck(SMALL[c].name, f_case, n_inputs(&SMALL[c]), in, (void *)&SMALL[c], NULL);
    }
}

/* A strided (transposed) input gives the same values and gradient as its contiguous copy. */
static void test_strided_input(void) {
    gt_tensor *x = gt_test_randn(41, S(2, 3, 6, 7), 1.0f), *w = gt_test_randn(42, S(4, 3, 3, 3), 1.0f);
    x->requires_grad = true;
    gt_tensor *xt = gt_transpose(x, 2, 3); /* (2, 3, 7, 6), not contiguous */
    gt_conv_params p = gt_conv_params_make(1, 1);
    gt_tensor *y1 = gt_conv2d(xt, w, NULL, p), *y2 = gt_conv2d(gt_contiguous(xt), w, NULL, p);
    gt_test_close("strided x", y1, y2, 0, 0);
    gt_tensor *g;
    CHECK(gt_grad(gt_sum_all(gt_mul(y1, y1)), NULL, 1, &x, &g, false) == GT_OK);
    CHECK(g && gt_same_shape(g, x));
}

/* The threaded weight gradient sums its partials in a fixed order: two runs agree bit for bit. */
static void test_weight_grad_deterministic(void) {
    gt_tensor *x = gt_test_randn(61, S(9, 16, 12, 12), 1.0f), *gy = gt_test_randn(62, S(9, 24, 6, 6), 1.0f);
    gt_conv_params p = gt_conv_params_make(2, 1);
    gt_tensor *a = gt_conv2d_weight_grad(x, gy, 4, 4, p), *b = gt_conv2d_weight_grad(x, gy, 4, 4, p);
    gt_test_close("weight grad run 1 vs run 2", a, b, 0, 0);
}

/* An empty batch gives empty outputs and zero weight / bias gradients. */
static void test_empty_batch(void) {
    gt_tensor *x = gt_zeros(S(0, 3, 8, 8)), *w = gt_test_randn(3, S(4, 3, 3, 3), 1.0f), *b = gt_ones(S(4));
    w->requires_grad = b->requires_grad = true;
    gt_tensor *y = gt_conv2d(x, w, b, gt_conv_params_make(1, 1));
    CHECK(y && y->shape[0] == 0 && y->shape[1] == 4 && y->shape[2] == 8 && y->shape[3] == 8);
    gt_tensor *g[2], *in[2] = {w, b};
    CHECK(gt_grad(gt_sum_all(y), NULL, 2, in, g, false) == GT_OK);
    gt_test_close("empty batch: dw", g[0], gt_zeros_like(w), 0, 0);
    gt_test_close("empty batch: db", g[1], gt_zeros_like(b), 0, 0);
    gt_tensor *t = gt_conv_transpose2d(gt_zeros(S(0, 4, 3, 3)), gt_zeros(S(4, 2, 4, 4)), NULL,
                                       gt_conv_params_make(2, 1));
    CHECK(t && t->shape[0] == 0 && t->shape[2] == 6);
}

static bool err_has(gt_tensor *y, gt_status st, const char *s1, const char *s2) {
    const char *e = gt_last_error();
    bool ok = y == NULL && gt_last_status() == st && strstr(e, s1) && (!s2 || strstr(e, s2));
    if (!ok) fprintf(stderr, "  unexpected: status %d, message '%s'\n", (int)gt_last_status(), gt_last_error());
    gt_clear_error();
    return ok;
}

static void test_errors(void) {
    gt_tensor *x = gt_zeros(S(2, 3, 8, 8)), *w = gt_zeros(S(4, 3, 3, 3)), *x3 = gt_zeros(S(3, 8, 8));
    gt_conv_params p = gt_conv_params_make(1, 0), q;
    CHECK(err_has(gt_conv2d(x, gt_zeros(S(4, 2, 3, 3)), NULL, p), GT_ERR_SHAPE, "(2, 3, 8, 8)", "(4, 2, 3, 3)"));
    CHECK(err_has(gt_conv2d(x3, w, NULL, p), GT_ERR_SHAPE, "4 dims", "(3, 8, 8)"));
    q = p, q.groups = 2;
    CHECK(err_has(gt_conv2d(x, w, NULL, q), GT_ERR_SHAPE, "divisible by groups 2", "(2, 3, 8, 8)"));
    q = p, q.groups = 0;
    CHECK(err_has(gt_conv2d(x, w, NULL, q), GT_ERR_ARG, "groups must be positive", NULL));
    CHECK(err_has(gt_conv2d(x, gt_zeros(S(4, 3, 9, 9)), NULL, p), GT_ERR_SHAPE, "larger than the padded input",
                  "(2, 3, 8, 8)"));
    q = p, q.dil_h = q.dil_w = 4; /* effective 9x9 kernel */
    CHECK(err_has(gt_conv2d(x, w, NULL, q), GT_ERR_SHAPE, "effective 9x9", NULL));
    q = p, q.stride_w = 0;
    CHECK(err_has(gt_conv2d(x, w, NULL, q), GT_ERR_ARG, "stride must be positive", "(1, 0)"));
    q = p, q.pad_h = -1;
    CHECK(err_has(gt_conv2d(x, w, NULL, q), GT_ERR_ARG, "padding must be >= 0", NULL));
    q = p, q.dil_w = 0;
    CHECK(err_has(gt_conv2d(x, w, NULL, q), GT_ERR_ARG, "dilation must be positive", NULL));
    q = p, q.out_pad_h = 1;
    CHECK(err_has(gt_conv2d(x, w, NULL, q), GT_ERR_ARG, "only for conv_transpose2d", NULL));
    CHECK(err_has(gt_conv2d(x, w, gt_zeros(S(5)), p), GT_ERR_SHAPE, "bias (5,)", "(4, 3, 3, 3)"));
    /* transposed: w's dim 0 must be x's channels; output padding vs stride and dilation */
    CHECK(err_has(gt_conv_transpose2d(x, w, NULL, p), GT_ERR_SHAPE, "(4, 3, 3, 3)", "(2, 3, 8, 8)"));
    gt_tensor *wt = gt_zeros(S(3, 4, 3, 3));
    q = gt_conv_params_make(2, 1), q.out_pad_h = 2;
    CHECK(err_has(gt_conv_transpose2d(x, wt, NULL, q), GT_ERR_ARG, "output_padding (2, 0)", "stride (2, 2)"));
    q.dil_h = 3; /* now smaller than the dilation: allowed */
    CHECK(gt_conv_transpose2d(x, wt, NULL, q) != NULL);
    q = gt_conv_params_make(1, 5);
    CHECK(err_has(gt_conv_transpose2d(gt_zeros(S(1, 3, 2, 2)), wt, NULL, q), GT_ERR_SHAPE, "not positive",
                  "(1, 3, 2, 2)"));
    CHECK(err_has(gt_conv_transpose2d(x, wt, gt_zeros(S(3)), p), GT_ERR_SHAPE, "bias (3,)", NULL));
    q = p, q.groups = 2;
    CHECK(err_has(gt_conv_transpose2d(x, wt, NULL, q), GT_ERR_SHAPE, "divisible by groups 2", NULL));
    /* weight gradient: gy must be the conv output of x */
    CHECK(err_has(gt_conv2d_weight_grad(x, gt_zeros(S(2, 4, 5, 6)), 3, 3, p), GT_ERR_SHAPE, "(2, 4, 5, 6)",
                  "(2, 3, 8, 8)"));
    CHECK(err_has(gt_conv2d_weight_grad(x, gt_zeros(S(2, 4, 6, 6)), 0, 3, p), GT_ERR_ARG, "kernel size", NULL));
    CHECK(gt_conv2d_weight_grad(x, gt_zeros(S(2, 4, 6, 6)), 3, 3, p) != NULL);
    /* NULL in, NULL out, the first error kept */
    CHECK(gt_conv2d(gt_conv2d(x3, w, NULL, p), w, NULL, p) == NULL && strstr(gt_last_error(), "(3, 8, 8)"));
    gt_clear_error();
}

static void test_params_make(void) {
    gt_conv_params p = gt_conv_params_make(2, 1);
    CHECK(p.stride_h == 2 && p.stride_w == 2 && p.pad_h == 1 && p.pad_w == 1 && p.dil_h == 1 && p.dil_w == 1 &&
          p.out_pad_h == 0 && p.out_pad_w == 0 && p.groups == 1);
}

int main(void) {
    RUN(test_params_make);
    RUN(test_golden_small);
    RUN(test_golden_dcgan_shapes);
    RUN(test_fast_vs_naive_small);
    RUN(test_fast_vs_naive_dcgan_shapes);
    RUN(test_fast_vs_naive_one_thread);
    RUN(test_fast_vs_naive_uneven_chunks);
    RUN(test_fast_vs_naive_row_blocks);
    RUN(test_winograd);
    RUN(test_gradcheck);
    RUN(test_gradgradcheck);
    RUN(test_strided_input);
    RUN(test_empty_batch);
    RUN(test_weight_grad_deterministic);
    RUN(test_errors);
    return gt_test_finish();
}
