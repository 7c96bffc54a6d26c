/* The gradient penalty (WGAN-GP): for a small conv discriminator D with fixed
 * weights, gp = mean_n ||grad_x D(x)_n||^2 and d gp / d theta equal PyTorch's
 * create_graph=True result to 1e-4 relative. Also checked against finite
 * differences, so the double backward is right on its own terms too. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

typedef struct {
    bool smooth;
} dctx;

/* in: x, w1, b1, w2, b2, w3, b3 */
static gt_tensor *D(gt_tensor *const *in, bool smooth) {
    gt_conv_params p = gt_conv_params_make(2, 1);
    gt_tensor *h = gt_conv2d(in[0], in[1], in[2], p);
    h = smooth ? gt_softplus(h, 1.0f, 20.0f) : gt_leaky_relu(h, 0.2f);
    h = gt_conv2d(h, in[3], in[4], p);
    h = smooth ? gt_tanh(h) : gt_leaky_relu(h, 0.2f);
    return gt_linear(gt_flatten(h, 1), in[5], in[6]);
}

/* gp(x, theta) with the graph recorded (create_graph) */
static gt_tensor *gp_fn(gt_tensor *const *in, void *c) {
    bool smooth = ((dctx *)c)->smooth;
    gt_tensor *d = D(in, smooth);
    gt_tensor *x = in[0], *gx;
    if (!d || gt_grad(gt_sum_all(d), NULL, 1, &x, &gx, true) != GT_OK) return NULL;
    gt_tensor *sq = gt_sum(gt_pow_scalar(gt_flatten(gx, 1), 2.0f), 1, (int[]){1}, false);
    return gt_mean_all(sq);
}

static void make_params(uint64_t seed, gt_tensor **in) {
    in[0] = gt_test_randn(seed, S(4, 3, 16, 16), 1.0f);
    in[1] = gt_test_randn(seed + 1, S(8, 3, 4, 4), 0.15f);
    in[2] = gt_test_randn(seed + 2, S(8), 0.1f);
    in[3] = gt_test_randn(seed + 3, S(16, 8, 4, 4), 0.1f);
    in[4] = gt_test_randn(seed + 4, S(16), 0.1f);
    in[5] = gt_test_randn(seed + 5, S(1, 256), 0.06f);
    in[6] = gt_test_randn(seed + 6, S(1), 0.1f);
    for (int i = 0; i < 7; i++) in[i]->requires_grad = true;
}

static const char *PN[7] = {"x", "w1", "b1", "w2", "b2", "w3", "b3"};

static void test_matches_pytorch(void) {
    gt_tensor *in[2][7];
    const char *names[14];
    char buf[14][32];
    gt_tensor *all[14];
    for (int v = 0; v < 2; v++) {
        make_params(40 + 10 * (uint64_t)v, in[v]);
        for (int i = 0; i < 7; i++) {
            snprintf(buf[v * 7 + i], 32, "%s.%s", v ? "smooth" : "leaky", PN[i]);
            names[v * 7 + i] = buf[v * 7 + i];
            all[v * 7 + i] = in[v][i];
        }
    }
    char path[512];
    snprintf(path, sizeof path, "%s/gp_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(path, 14, names, all));
    if (!gt_golden_run("gradient_penalty.py", path)) return;
    for (int v = 0; v < 2; v++) {
        const char *vn = v ? "smooth" : "leaky";
        dctx c = {v == 1};
        gt_tensor *gp = gp_fn(in[v], &c);
        CHECK_MSG(gp != NULL, "%s: %s", vn, gt_last_error());
        if (!gp) continue;
        char nm[64];
        snprintf(nm, sizeof nm, "%s.gp", vn);
        gt_test_close(nm, gp, gt_golden(nm), 1e-4f, 0.0f);
        gt_tensor *g[6];
        CHECK(gt_grad(gp, NULL, 6, in[v] + 1, g, false) == GT_OK);
        for (int i = 0; i < 6; i++) {
            snprintf(nm, sizeof nm, "%s.d%s", vn, PN[i + 1]);
            /* 1e-4 relative to the largest entry of each parameter's gradient */
            gt_tensor *ref = gt_golden(nm);
            float mx = 0;
            for (int64_t k = 0; k < gt_numel(ref); k++) mx = fmaxf(mx, fabsf(gt_data(ref)[k]));
            gt_test_close(nm, g[i], ref, 1e-4f, 1e-4f * mx);
        }
    }
}

static void test_gp_gradient_finite_differences(void) {
    gt_tensor *in[7];
    make_params(90, in);
    /* smaller input keeps the finite differences quick */
    in[0] = gt_test_randn(91, S(2, 3, 8, 8), 1.0f);
    in[0]->requires_grad = true;
    in[5] = gt_test_randn(92, S(1, 64), 0.1f);
    in[5]->requires_grad = true;
    dctx c = {true};
    gt_gradcheck_opts o = {.eps = 1e-2f, .rtol = 3e-2f, .atol = 3e-3f, .max_elems = 12, .wrt = 0x7e};
    gt_test_gradcheck("gp wrt D's parameters", gp_fn, 7, in, &c, &o);
}

int main(void) {
    RUN(test_matches_pytorch);
    RUN(test_gp_gradient_finite_differences);
    return gt_test_finish();
}
