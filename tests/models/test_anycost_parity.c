/* The anycost family against PyTorch (tests/parity/anycost_modconv.py, written from the header's
 * formulas with StyleGAN2's per-sample modulated weights, in float64): one modulated conv layer
 * (demodulation, noise, bias, leaky ReLU * sqrt 2), one that upsamples, and a torgb (no
 * demodulation): forward, the gradients w.r.t. the inputs, the style input w and every weight, and
 * a gradient penalty's second order (|dL/dx|^2 differentiated w.r.t. w and the weights); then a
 * tiny whole generator (mapping + synthesis at 8, 16 and 32 px, full and sliced). */
#include <math.h>
#include <string.h>

#include "../common/harness.h"

#include "gantry/anycost.h"

#include "../../src/models/anycost_internal.h" /* gt__ac_mconv_fwd, the layer itself */

static const char *PNAMES[] = {
    "convs.1.conv.weight",   "convs.1.conv.modulation.weight", "convs.1.conv.modulation.bias", "convs.1.noise.weight",
    "convs.1.activate.bias", "convs.0.conv.weight",            "convs.0.conv.modulation.weight", "convs.0.noise.weight",
    "to_rgbs.0.conv.weight", "to_rgbs.0.conv.modulation.weight", "to_rgbs.0.bias",
};
#define NP (int)(sizeof PNAMES / sizeof PNAMES[0])

/* to rtol relative to the largest |entry| of the reference */
static void close_rel(const char *name, gt_tensor *a, float rtol) {
    gt_tensor *ref = gt_golden(name);
    CHECK_MSG(ref != NULL && a != NULL, "%s: missing (%s)", name, gt_last_error());
    if (!ref || !a) return;
    float mx = 0;
    for (int64_t k = 0; k < gt_numel(ref); k++) mx = fmaxf(mx, fabsf(gt_data(ref)[k]));
    gt_test_close(name, a, ref, rtol, rtol * mx + 1e-12f);
}

static void test_parity(void) {
    gt_model_config c = gt_model_config_default("anycost");
    c.nz = 8;
    CHECK(gt_model_opts_parse_list(&c, "ch=4,ch_max=8,w_dim=8,n_mlp=2") == GT_OK);
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 21);
    if (gt_model_build(&c, GT_NET_G, &r, &G) != GT_OK) {
        CHECK_MSG(false, "%s", gt_last_error());
        return;
    }
    /* noise strengths, biases and modulation biases away from their init, so every term counts */
    for (int i = 0; i < G.P.n; i++) {
        const char *nm = G.P.v[i].name;
        gt_tensor *t = G.P.v[i].t;
        if (strstr(nm, "noise.weight") || strstr(nm, "bias")) {
            float *p = gt_data(t);
            gt_tensor *e = gt_test_randn(100 + (uint64_t)i, GT_SHAPE(gt_numel(t)), 0.3f);
            for (int64_t k = 0; k < gt_numel(t); k++) p[k] += gt_data(e)[k];
        }
    }
    gt_tensor *x8 = gt_test_randn(1, GT_SHAPE(2, 8, 8, 8), 1.0f), *x4 = gt_test_randn(2, GT_SHAPE(2, 8, 4, 4), 1.0f);
    gt_tensor *w = gt_test_randn(3, GT_SHAPE(2, 8), 1.0f), *z = gt_test_randn(4, GT_SHAPE(3, 8), 1.0f);
    gt_tensor *vy = gt_test_randn(5, GT_SHAPE(2, 8, 8, 8), 1.0f), *vu = gt_test_randn(6, GT_SHAPE(2, 8, 8, 8), 1.0f);
    gt_tensor *vr = gt_test_randn(7, GT_SHAPE(2, 1, 8, 8), 1.0f);
    /* the inputs file: G's parameters and buffers, the data, the config */
    enum { MAXN = 96 };
    const char *names[MAXN];
    gt_tensor *ts[MAXN];
    char buf[MAXN][96];
    int n = 0;
    for (int i = 0; i < G.P.n && n < MAXN - 16; i++) {
        snprintf(buf[n], sizeof buf[n], "G.%s", G.P.v[i].name);
        names[n] = buf[n];
        ts[n++] = G.P.v[i].t;
    }
    const char *dn[] = {"x8", "x4", "w", "z", "vy", "vu", "vr"};
    gt_tensor *dt[] = {x8, x4, w, z, vy, vu, vr};
    for (int i = 0; i < 7; i++) names[n] = dn[i], ts[n++] = dt[i];
    const char *cn[] = {"cfg.w_dim", "cfg.n_mlp", "cfg.nz"};
    const int32_t cv[] = {8, 2, 8};
    for (int i = 0; i < 3; i++) names[n] = cn[i], ts[n++] = gt_from_i32(GT_SHAPE(1), &cv[i]);
    const char *path = gt_test_path("anycost_in.gtb");
    CHECK(gt_golden_write(path, n, names, ts));
    if (!gt_golden_run("anycost_modconv.py", path)) return gt_net_free(&G);

    /* --- the layers --- */
    gt__ac_g *g = G.impl;
    gt_tensor *in[3 + NP];
    in[0] = x8, in[1] = x4, in[2] = w;
    for (int i = 0; i < 3; i++) in[i]->requires_grad = true;
    for (int i = 0; i < NP; i++) in[3 + i] = gt_params_get(&G.P, PNAMES[i]);
    gt_tensor *ws = gt_mul_scalar(w, 1.0f / sqrtf(8.0f));
    gt_tensor *y = gt__ac_mconv_fwd(&g->conv[2], x8, ws, 8, 8, false, g->noise[2]);
    gt_tensor *yu = gt__ac_mconv_fwd(&g->conv[1], x4, ws, 8, 8, true, g->noise[1]);
    gt_tensor *rgb = gt__ac_mconv_fwd(&g->torgb[1], y, ws, 8, 1, false, NULL);
    close_rel("layer.y", y, 1e-5f);
    close_rel("layer.yu", yu, 1e-5f);
    close_rel("layer.rgb", rgb, 1e-5f);
    gt_tensor *L = gt_add(gt_add(gt_sum_all(gt_mul(y, vy)), gt_sum_all(gt_mul(yu, vu))), gt_sum_all(gt_mul(rgb, vr)));
    gt_tensor *gr[3 + NP];
    CHECK_MSG(gt_grad(L, NULL, 3 + NP, in, gr, true) == GT_OK, "%s", gt_last_error());
    char nm[128];
    for (int i = 0; i < 3 + NP; i++) {
        snprintf(nm, sizeof nm, "grad.%s", i < 3 ? dn[i] : PNAMES[i - 3]);
        close_rel(nm, gr[i], 1e-5f);
    }
    gt_tensor *gp = gt_add(gt_sum_all(gt_mul(gr[0], gr[0])), gt_sum_all(gt_mul(gr[1], gr[1])));
    close_rel("gp", gp, 1e-5f);
    gt_tensor *gg[2 + NP];
    CHECK_MSG(gt_grad(gp, NULL, 1 + NP, in + 2, gg, false) == GT_OK, "%s", gt_last_error());
    for (int i = 0; i < 1 + NP; i++) {
        snprintf(nm, sizeof nm, "gp.%s", i < 1 ? "w" : PNAMES[i - 1]);
        /* a parameter the penalty does not reach (the biases after the last nonlinearity) gets a zero or no
           gradient */
        close_rel(nm, gg[i] ? gg[i] : gt_zeros_like(in[2 + i]), 1e-5f);
    }

    /* --- the whole generator --- */
    gt_tensor *wz = gt_anycost_mapping(&G, z);
    close_rel("G.w", wz, 1e-5f);
    const float ratios[] = {1.0f, 0.5f, 1.0f, 0.25f, 0.75f};
    const int res[] = {8, 8, 32, 32, 16};
    for (int q = 0; q < 5; q++) {
        gt_anycost_sub s = gt_anycost_uniform(ratios[q], res[q]);
        snprintf(nm, sizeof nm, "G.%g@%d", (double)ratios[q], res[q]);
        close_rel(nm, gt_anycost_synthesis(&G, wz, &s, NULL, NULL), 1e-5f);
    }
    gt_net_free(&G);
}

int main(void) {
    gt_set_num_threads(2);
    RUN(test_parity);
    return gt_test_finish();
}
