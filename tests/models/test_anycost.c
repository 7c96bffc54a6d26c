/* The anycost family (src/models/anycost*.c): a sliced sub-generator equals the full generator
 * with the dropped channels' reading weights zeroed, exactly; a sub at a lower resolution equals
 * the full net's skip sum there, exactly; D at every level, conditioned and not; the sub configs'
 * checks and texts; channel sorting keeps the function; costs; gradients by finite differences;
 * a checkpoint round trip through gt_load_generator. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/harness.h"

#include "gantry/anycost.h"
#include "gantry/checkpoint.h"
#include "gantry/train.h"

#include "../../src/models/anycost_internal.h" /* gt__ac_channel_importance */

static gt_model_config cfg(int res, const char *opts) {
    gt_model_config c = gt_model_config_default("anycost");
    c.res = res;
    if (opts) CHECK_MSG(gt_model_opts_parse_list(&c, opts) == GT_OK, "%s", gt_last_error());
    return c;
}

static bool build(const gt_model_config *c, gt_net_kind k, uint64_t seed, gt_net *n) {
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_status st = gt_model_build(c, k, &r, n);
    CHECK_MSG(st == GT_OK, "build: %s", gt_last_error());
    return st == GT_OK;
}

/* Noise strengths are 0 at init: give them values so the noise path is tested. */
static void perturb(gt_net *G, uint64_t seed) {
    gt_rng r;
    gt_rng_init(&r, seed);
    for (int i = 0; i < G->P.n; i++) {
        const char *nm = G->P.v[i].name;
        gt_tensor *t = G->P.v[i].t;
        if (strstr(nm, "noise.weight") || strstr(nm, "activate.bias") || (strstr(nm, "rgb") && strstr(nm, ".bias")))
            gt_rng_normal(&r, gt_data(t), gt_numel(t), 0.0f, 0.3f);
    }
}

static float max_abs_diff(gt_tensor *a, gt_tensor *b) {
    if (!a || !b || gt_numel(a) != gt_numel(b)) return INFINITY;
    gt_tensor *ca = gt_contiguous(a), *cb = gt_contiguous(b);
    const float *x = gt_data(ca), *y = gt_data(cb);
    float m = 0;
    for (int64_t i = 0; i < gt_numel(a); i++) {
        const float d = fabsf(x[i] - y[i]);
        if (!(d <= m)) m = d;
    }
    return m;
}

static float max_abs(gt_tensor *a) {
    gt_tensor *ca = a ? gt_contiguous(a) : NULL;
    float m = 0;
    for (int64_t i = 0; ca && i < gt_numel(ca); i++) m = fmaxf(m, fabsf(gt_data(ca)[i]));
    return m;
}

/* Zeroes, in G2 (a copy of G), the input columns >= k of weight (Cout, Cin, kh, kw). */
static void zero_cols(gt_net *G, const char *name, int k) {
    gt_tensor *t = gt_params_get(&G->P, name);
    CHECK_MSG(t != NULL, "no %s", name);
    if (!t) return;
    const int64_t co = t->shape[0], ci = t->shape[1], kk = t->shape[2] * t->shape[3];
    float *p = gt_data(t);
    for (int64_t o = 0; o < co; o++)
        for (int64_t i = k; i < ci; i++)
            for (int64_t q = 0; q < kk; q++) p[(o * ci + i) * kk + q] = 0.0f;
}

static const char *conv_name(int i, char *buf) {
    if (i == 0) snprintf(buf, 64, "conv1.conv.weight");
    else snprintf(buf, 64, "convs.%d.conv.weight", i - 1);
    return buf;
}

static const char *rgb_name(int l, char *buf) {
    if (l == 0) snprintf(buf, 64, "to_rgb1.conv.weight");
    else snprintf(buf, 64, "to_rgbs.%d.conv.weight", l - 1);
    return buf;
}

/* (a) the test: sliced == full with the dropped channels' readers zeroed, exactly. */
static void check_sliced(const gt_model_config *c, const gt_anycost_sub *s, int batch, const char *what) {
    gt_net G, G2;
    if (!build(c, GT_NET_G, 1, &G)) return;
    if (!build(c, GT_NET_G, 1, &G2)) return gt_net_free(&G);
    perturb(&G, 7);
    CHECK(gt_params_copy(&G2.P, &G.P) == GT_OK);
    const int run = gt_anycost_sub_convs(c, s);
    char nm[64];
    for (int i = 0; i < run; i++) {
        const int k = gt_anycost_sub_channels(c, s, i);
        if (i + 1 < run) zero_cols(&G2, conv_name(i + 1, nm), k);
        if (i % 2 == 0) zero_cols(&G2, rgb_name(i / 2, nm), k);
    }
    gt_tensor *z = gt_test_randn(11, GT_SHAPE(batch, c->nz), 1.0f);
    gt_tensor *w = gt_anycost_mapping(&G, z);
    gt_tensor *a = gt_anycost_synthesis(&G, w, s, NULL, NULL);
    gt_anycost_sub full = gt_anycost_uniform(1.0f, s->res);
    gt_tensor *b = gt_anycost_synthesis(&G2, w, &full, NULL, NULL);
    CHECK_MSG(a && b, "%s: %s", what, gt_last_error());
    const float d = max_abs_diff(a, b);
    CHECK_MSG(d == 0.0f, "%s: sliced vs zeroed full: max abs diff %g (must be exactly 0)", what, (double)d);
    /* and it is not the full output (the slice matters) */
    gt_tensor *f = gt_anycost_synthesis(&G, w, &full, NULL, NULL);
    CHECK_MSG(max_abs_diff(a, f) > 1e-3f, "%s: the sub's output equals the full one's", what);
    gt_net_free(&G);
    gt_net_free(&G2);
}

static void test_sliced_exact_mode(void) {
    gt_model_config c = cfg(32, NULL);
    gt_anycost_sub s = gt_anycost_uniform(0.5f, 0);
    check_sliced(&c, &s, 2, "0.5@32");
    s = gt_anycost_uniform(0.25f, 0);
    check_sliced(&c, &s, 3, "0.25@32");
    const float mix[] = {1, 0.25f, 0.75f, 0.5f, 1, 0.25f, 0.5f};
    for (int i = 0; i < 7; i++) s.ratio[i] = mix[i];
    check_sliced(&c, &s, 2, "mix@32");
    s = gt_anycost_uniform(0.75f, 16);
    check_sliced(&c, &s, 4, "0.75@16");
    /* a batch large enough for the Winograd convs (>= 4096 output positions) */
    s = gt_anycost_uniform(0.5f, 0);
    check_sliced(&c, &s, 5, "0.5@32 batch 5");
}

/* in both grad modes: without gradients the modulated convs take their own loops
 * (src/models/anycost_fast.c), which must keep the slice exact too */
static void test_sliced_exact(void) {
    test_sliced_exact_mode();
    bool prev = gt_no_grad_begin();
    test_sliced_exact_mode();
    gt_grad_mode_restore(prev);
}

/* the no-grad path (src/models/anycost_fast.c) computes what the op path does, to float rounding:
 * mapping, full and sliced synthesis, fixed and fresh noise, w+ */
static void test_fast_path(void) {
    gt_model_config c = cfg(32, NULL);
    gt_net G;
    if (!build(&c, GT_NET_G, 2, &G)) return;
    perturb(&G, 3);
    gt_tensor *z = gt_test_randn(8, GT_SHAPE(3, c.nz), 1.0f);
    const float mix[] = {1, 0.25f, 0.75f, 0.5f, 1, 0.25f, 0.5f};
    gt_anycost_sub subs[4] = {gt_anycost_uniform(1.0f, 0), gt_anycost_uniform(0.25f, 16), gt_anycost_uniform(0.5f, 8)};
    subs[3] = gt_anycost_uniform(1.0f, 0);
    for (int i = 0; i < 7; i++) subs[3].ratio[i] = mix[i];
    for (int k = 0; k < 4; k++)
        for (int fresh = 0; fresh < 2; fresh++) {
            gt_rng r1, r2;
            gt_rng_init(&r1, 5), gt_rng_init(&r2, 5);
            gt_tensor *a = gt_anycost_generate(&G, z, &subs[k], fresh ? &r1 : NULL);
            bool prev = gt_no_grad_begin();
            gt_tensor *b = gt_anycost_generate(&G, z, &subs[k], fresh ? &r2 : NULL);
            gt_grad_mode_restore(prev);
            CHECK_MSG(a && b, "%s", gt_last_error());
            if (!a || !b) continue;
            const float d = max_abs_diff(a, b), m = max_abs(a);
            CHECK_MSG(d <= 1e-5f * (m > 1 ? m : 1), "config %d fresh %d: no-grad vs op path %g (max %g)", k, fresh,
                      (double)d, (double)m);
        }
    gt_tensor *w = gt_anycost_mapping(&G, z);
    bool prev = gt_no_grad_begin();
    gt_tensor *wf = gt_anycost_mapping(&G, z);
    gt_tensor *wp = gt_test_randn(9, GT_SHAPE(3, gt_anycost_n_convs(&c), c.nz), 1.0f);
    gt_tensor *pf = gt_anycost_synthesis(&G, wp, NULL, NULL, NULL);
    gt_grad_mode_restore(prev);
    CHECK_MSG(w && wf && max_abs_diff(w, wf) <= 1e-5f * max_abs(w), "mapping: no-grad vs op path %g",
              (double)max_abs_diff(w, wf));
    gt_tensor *po = gt_anycost_synthesis(&G, wp, NULL, NULL, NULL);
    CHECK_MSG(po && pf && max_abs_diff(po, pf) <= 1e-5f * max_abs(po), "w+: no-grad vs op path %g",
              (double)max_abs_diff(po, pf));
    gt_net_free(&G);
}

/* (b) a full-width sub at 16 px == the full net's skip sum at 16, exactly; and every level */
static void test_lower_res(void) {
    gt_model_config c = cfg(32, "ch=16,ch_max=32,w_dim=32");
    gt_net G;
    if (!build(&c, GT_NET_G, 3, &G)) return;
    perturb(&G, 5);
    gt_tensor *w = gt_anycost_mapping(&G, gt_test_randn(4, GT_SHAPE(3, c.nz), 1.0f));
    gt_tensor *rgbs[4] = {0};
    gt_tensor *full = gt_anycost_synthesis(&G, w, NULL, NULL, rgbs);
    CHECK(full && full->shape[2] == 32 && rgbs[3] == full);
    for (int l = 1; l < 3; l++) {
        gt_anycost_sub s = gt_anycost_uniform(1.0f, 4 << l);
        gt_tensor *o = gt_anycost_synthesis(&G, w, &s, NULL, NULL);
        CHECK_MSG(o && o->shape[2] == (4 << l) && rgbs[l] && max_abs_diff(o, rgbs[l]) == 0.0f,
                  "sub at %d != the full net's skip sum there (%g)", 4 << l, (double)max_abs_diff(o, rgbs[l]));
    }
    /* gt_net_forward is the full sub with the fixed noise; fresh noise changes it once noise_w != 0 */
    gt_tensor *z = gt_test_randn(4, GT_SHAPE(3, c.nz), 1.0f);
    gt_tensor *g = gt_net_forward(&G, z, GT_BN_EVAL);
    CHECK(g && max_abs_diff(g, full) == 0.0f);
    CHECK(max_abs_diff(gt_net_forward(&G, gt_reshape(z, GT_SHAPE(3, c.nz, 1, 1)), GT_BN_EVAL), full) == 0.0f);
    gt_rng nr;
    gt_rng_init(&nr, 9);
    gt_tensor *gn = gt_anycost_generate(&G, z, NULL, &nr);
    CHECK(gn && max_abs_diff(gn, full) > 1e-4f);
    /* w+ with every row equal to w is w */
    gt_tensor *wp = gt_expand(gt_unsqueeze(w, 1), GT_SHAPE(3, gt_anycost_n_convs(&c), 32));
    CHECK(max_abs_diff(gt_anycost_synthesis(&G, wp, NULL, NULL, NULL), full) == 0.0f);
    gt_net_free(&G);
}

/* (c) D at every level, conditioned and not */
static void test_discriminator(void) {
    for (int dc = 0; dc <= 2; dc += 2) {
        char o[64];
        snprintf(o, sizeof o, "dch=8,ch_max=32,d_cond=%d", dc);
        gt_model_config c = cfg(32, o);
        gt_net D;
        if (!build(&c, GT_NET_D, 2, &D)) return;
        CHECK(gt_anycost_is(&D));
        for (int r = 8; r <= 32; r *= 2) {
            gt_tensor *x = gt_test_randn(r, GT_SHAPE(4, 1, r, r), 1.0f);
            gt_tensor *a = gt_anycost_d_forward(&D, x, NULL, GT_BN_TRAIN);
            gt_anycost_sub q = gt_anycost_uniform(0.25f, r);
            gt_tensor *b = gt_anycost_d_forward(&D, x, &q, GT_BN_TRAIN);
            CHECK_MSG(a && b && a->ndim == 1 && a->shape[0] == 4, "D at %d: %s", r, gt_last_error());
            if (!a || !b) continue;
            const float d = max_abs_diff(a, b);
            CHECK(isfinite(gt_item(gt_sum_all(a))));
            if (dc) CHECK_MSG(d > 1e-5f, "conditioned D at %d ignores the config", r);
            else CHECK_MSG(d == 0.0f, "unconditioned D at %d depends on the config", r);
        }
        /* gt_net_forward = full res, full config; a batch of 3 (group falls back to 3) */
        gt_tensor *x = gt_test_randn(5, GT_SHAPE(3, 1, 32, 32), 1.0f);
        gt_tensor *a = gt_net_forward(&D, x, GT_BN_TRAIN), *b = gt_anycost_d_forward(&D, x, NULL, GT_BN_TRAIN);
        CHECK(a && b && max_abs_diff(a, b) == 0.0f);
        /* R1 at 16 px: the penalty's gradient reaches D's weights (its ops are twice differentiable) */
        gt_tensor *xr = gt_test_randn(6, GT_SHAPE(4, 1, 16, 16), 1.0f), *gx = NULL;
        xr->requires_grad = true;
        gt_anycost_sub q = gt_anycost_uniform(0.5f, 16);
        CHECK(gt_grad(gt_sum_all(gt_anycost_d_forward(&D, xr, &q, GT_BN_TRAIN)), NULL, 1, &xr, &gx, true) == GT_OK);
        CHECK(gt_params_zero_grad(&D.P) == GT_OK);
        CHECK(gx && gt_backward(gt_sum_all(gt_mul(gx, gx))) == GT_OK);
        gt_tensor *c1 = gt_params_get(&D.P, "blocks.1.conv1.weight"), *top = gt_params_get(&D.P, "blocks.0.conv1.weight");
        CHECK(c1 && c1->grad && isfinite(gt_item(gt_sum_all(gt_abs(c1->grad)))) &&
              gt_item(gt_sum_all(gt_abs(c1->grad))) > 0);
        CHECK(top && (!top->grad || gt_item(gt_sum_all(gt_abs(top->grad))) == 0)); /* the 32 px block is not run */
        /* errors: a 4 px or a 64 px input */
        CHECK(gt_anycost_d_forward(&D, gt_test_randn(5, GT_SHAPE(2, 1, 4, 4), 1.0f), NULL, GT_BN_TRAIN) == NULL);
        CHECK(gt_anycost_d_forward(&D, gt_test_randn(5, GT_SHAPE(2, 1, 64, 64), 1.0f), NULL, GT_BN_TRAIN) == NULL);
        gt_net_free(&D);
    }
}

/* (d) errors */
static void test_errors(void) {
    gt_model_config c = cfg(32, NULL);
    gt_anycost_sub s = gt_anycost_uniform(0.3f, 0);
    CHECK(gt_anycost_sub_check(&c, &s) == GT_ERR_ARG && strstr(gt_last_error(), "0.3"));
    s = gt_anycost_uniform(1.0f, 128);
    CHECK(gt_anycost_sub_check(&c, &s) == GT_ERR_ARG && strstr(gt_last_error(), "128"));
    s = gt_anycost_uniform(1.0f, 4);
    CHECK(gt_anycost_sub_check(&c, &s) == GT_ERR_ARG && strstr(gt_last_error(), "resolution 4"));
    s = gt_anycost_uniform(1.0f, 12);
    CHECK(gt_anycost_sub_check(&c, &s) == GT_ERR_ARG);
    gt_model_config d = gt_model_config_default("dcgan");
    s = gt_anycost_uniform(1.0f, 0);
    CHECK(gt_anycost_sub_check(&d, &s) == GT_ERR_ARG && strstr(gt_last_error(), "not an anycost"));
    CHECK(gt_anycost_sub_parse(&d, "0.5", 16, &s) == GT_ERR_ARG);
    CHECK(gt_anycost_sub_parse(&c, "0.3", 16, &s) == GT_ERR_ARG && strstr(gt_last_error(), "0.3"));
    CHECK(gt_anycost_sub_parse(&c, "0.5,1", 16, &s) == GT_ERR_ARG && strstr(gt_last_error(), "7 conv"));
    CHECK(gt_anycost_sub_parse(&c, "half", 16, &s) == GT_ERR_ARG);
    CHECK(gt_anycost_sub_parse(&c, "0.5", 64, &s) == GT_ERR_ARG && strstr(gt_last_error(), "64"));
    /* the model's own checks */
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 0);
    gt_model_config e = cfg(128, NULL);
    CHECK(gt_model_build(&e, GT_NET_G, &r, &G) == GT_ERR_ARG && strstr(gt_last_error(), "32 or 64"));
    e = cfg(32, NULL);
    e.n_classes = 10;
    CHECK(gt_model_build(&e, GT_NET_G, &r, &G) == GT_ERR_ARG && strstr(gt_last_error(), "n_classes"));
    /* a dcgan net given to the anycost functions */
    gt_net Gd;
    if (!build(&d, GT_NET_G, 0, &Gd)) return;
    CHECK(!gt_anycost_is(&Gd));
    CHECK(gt_anycost_mapping(&Gd, gt_test_randn(1, GT_SHAPE(1, d.nz), 1.0f)) == NULL &&
          strstr(gt_last_error(), "not an anycost"));
    CHECK(gt_anycost_sort_channels(&Gd, NULL, 0) == GT_ERR_ARG);
    gt_net_free(&Gd);
    /* a good parse and its text */
    char buf[128];
    CHECK(gt_anycost_sub_parse(&c, "0.25", 16, &s) == GT_OK);
    CHECK(strcmp(gt_anycost_sub_text(&c, &s, buf, sizeof buf), "0.25@16") == 0);
    CHECK(gt_anycost_sub_parse(&c, "1,1,0.5,0.5,0.25,0.25,0.75", 0, &s) == GT_OK);
    CHECK_MSG(strcmp(gt_anycost_sub_text(&c, &s, buf, sizeof buf), "1,1,0.5,0.5,0.25,0.25,0.75@32") == 0, "%s", buf);
    CHECK(gt_anycost_sub_channels(&c, &s, 4) == 16 && gt_anycost_conv_channels(&c, 4) == 64);
    CHECK(gt_anycost_sub_convs(&c, &s) == 7 && gt_anycost_n_convs(&c) == 7);
    s = gt_anycost_uniform(0.25f, 16);
    CHECK(gt_anycost_sub_convs(&c, &s) == 5);
    float code[7 * 4];
    gt_anycost_arch_code(&c, &s, code);
    CHECK(code[0] == 1 && code[1] == 0 && code[4 * 4] == 1 && code[5 * 4 + 3] == 1 && code[6 * 4 + 3] == 1 &&
          code[5 * 4] == 0);
}

/* (e) channel sorting: same function, channels by decreasing importance, the EMA copy alike */
static void test_sort(void) {
    gt_model_config c = cfg(32, "ch=16,ch_max=32,w_dim=32,n_mlp=2");
    gt_net G, E;
    if (!build(&c, GT_NET_G, 4, &G)) return;
    if (!build(&c, GT_NET_G, 4, &E)) return gt_net_free(&G);
    perturb(&G, 8);
    CHECK(gt_params_copy(&E.P, &G.P) == GT_OK);
    gt_tensor *z = gt_test_randn(6, GT_SHAPE(4, c.nz), 1.0f);
    gt_tensor *before = gt_contiguous(gt_net_forward(&G, z, GT_BN_EVAL));
    gt_tensor *w0 = gt_contiguous(gt_params_get(&G.P, "convs.2.conv.weight"));
    gt_tensor *keep = gt_from_data(w0->ndim, w0->shape, gt_data(w0)); /* a copy: the slab is sorted in place */
    CHECK_MSG(gt_anycost_sort_channels(&G, &E, 42) == GT_OK, "%s", gt_last_error());
    gt_tensor *after = gt_net_forward(&G, z, GT_BN_EVAL);
    CHECK(gt_test_close("sorted G", after, before, 1e-5f, 1e-5f));
    CHECK_MSG(max_abs_diff(gt_params_get(&G.P, "convs.2.conv.weight"), keep) > 0, "sorting changed nothing");
    CHECK(max_abs_diff(G.P.slab, E.P.slab) == 0.0f);
    CHECK(max_abs_diff(gt_net_forward(&E, z, GT_BN_EVAL), after) == 0.0f);
    float imp[64];
    for (int i = 0; i < gt_anycost_n_convs(&c); i++) {
        CHECK(gt__ac_channel_importance(&G, 42, i, imp) == GT_OK);
        const int C = gt_anycost_conv_channels(&c, i);
        int bad = 0;
        for (int j = 1; j < C; j++) bad += imp[j] > imp[j - 1] * (1 + 1e-5f);
        CHECK_MSG(bad == 0 && imp[0] > imp[C - 1], "conv %d: channels not by decreasing importance", i);
    }
    /* sorting again keeps the order */
    CHECK(gt_anycost_sort_channels(&G, NULL, 42) == GT_OK);
    CHECK(gt_test_close("sorted twice", gt_net_forward(&G, z, GT_BN_EVAL), before, 1e-5f, 1e-5f));
    gt_net_free(&G);
    gt_net_free(&E);
}

/* costs: the formula on a tiny config by hand; the full sub's params are G's */
static void test_costs(void) {
    gt_model_config c = cfg(32, "ch=4,ch_max=8,w_dim=8,n_mlp=2");
    c.nz = 8;
    gt_anycost_sub s = gt_anycost_uniform(1.0f, 8);
    /* mapping 8x8 twice; conv 0 at 4x4 (8 -> 8): affine 8*8, conv 8*8*9*16, demod 8*8; torgb 4: affine 8*8, 1*8*16;
       convs 1 and 2 at 8x8 (8 -> 8): 8*8 + 8*8*9*64 + 8*8 each; torgb 8: 8*8 + 1*8*64 */
    const int64_t macs = 2 * 64 + (64 + 8 * 8 * 9 * 16 + 64) + (64 + 8 * 16) + 2 * (64 + 8 * 8 * 9 * 64 + 64) +
                         (64 + 8 * 64);
    CHECK_MSG(gt_anycost_macs(&c, &s) == macs, "macs %lld, by hand %lld", (long long)gt_anycost_macs(&c, &s),
              (long long)macs);
    /* mapping (64 + 8) * 2; const 8*16; each conv 8*8*9 + affine 8*8 + 8 + noise 1 + bias 8; torgb 8 + 64 + 8 + 1 */
    const int64_t params = 2 * 72 + 128 + 3 * (576 + 64 + 8 + 1 + 8) + 2 * (8 + 64 + 8 + 1);
    CHECK(gt_anycost_params(&c, &s) == params);
    s = gt_anycost_uniform(0.5f, 8); /* k = 4 everywhere; conv 0 still reads the 8 constant channels */
    CHECK(gt_anycost_macs(&c, &s) == 2 * 64 + (64 + 4 * 8 * 9 * 16 + 32) + (32 + 4 * 16) + (32 + 4 * 4 * 9 * 64 + 16) +
                                         (32 + 4 * 4 * 9 * 64 + 16) + (32 + 4 * 64));
    gt_model_config d = cfg(32, NULL);
    gt_net G;
    if (!build(&d, GT_NET_G, 0, &G)) return;
    CHECK_MSG(gt_anycost_params(&d, NULL) == gt_net_num_params(&G), "params %lld vs the net's %lld",
              (long long)gt_anycost_params(&d, NULL), (long long)gt_net_num_params(&G));
    gt_anycost_sub q = gt_anycost_uniform(0.25f, 16);
    const int64_t mf = gt_anycost_macs(&d, NULL), mq = gt_anycost_macs(&d, &q);
    printf("    default 32 px G: %lld MACs, %lld params; 0.25@16: %lld MACs (%.1fx fewer), %lld params\n",
           (long long)mf, (long long)gt_anycost_params(&d, NULL), (long long)mq, (double)mf / (double)mq,
           (long long)gt_anycost_params(&d, &q));
    CHECK(mq * 10 < mf && gt_anycost_params(&d, &q) < gt_anycost_params(&d, NULL));
    gt_net_free(&G);
    /* options and defaults */
    gt_model_config e = gt_model_config_default("anycost");
    CHECK(e.res == 32 && e.nz == 128 && e.channels == 1);
    CHECK(gt_model_opt(&e, "w_dim") == 128 && gt_model_opt(&e, "n_mlp") == 4 && gt_model_opt(&e, "ch") == 32 &&
          gt_model_opt(&e, "ch_max") == 128 && gt_model_opt(&e, "dch") == 32 && gt_model_opt(&e, "d_cond") == 2);
    CHECK(gt_model_opt(&e, "ac_nres") == 2 && gt_model_opt(&e, "ac_channels_at") == -1 &&
          gt_model_opt(&e, "ac_sandwich") == 2 && gt_model_opt(&e, "ac_distill") == 1.0);
    CHECK(gt_model_opt_set(&e, "ac_nres", 9) == GT_ERR_ARG && gt_model_opt_set(&e, "d_cond", -1) == GT_ERR_ARG);
    CHECK(gt_model_opt_set(&e, "d_cond", 4) == GT_OK && gt_model_build(&e, GT_NET_D, &(gt_rng){0}, &G) == GT_ERR_ARG &&
          strstr(gt_last_error(), "d_cond"));
}

/* (f) gradients: backward against central differences (double sums) for a few parameters */
typedef struct {
    gt_net *G;
    gt_anycost_sub s;
    gt_tensor *z, *v;
} fd_ctx;

static double fd_loss(fd_ctx *x) {
    int m = gt_scope_begin();
    gt_tensor *o = gt_contiguous(gt_anycost_generate(x->G, x->z, &x->s, NULL));
    double L = 0;
    const float *a = gt_data(o), *b = gt_data(x->v);
    for (int64_t i = 0; o && i < gt_numel(o); i++) L += (double)a[i] * b[i];
    gt_scope_end(m);
    return L;
}

static gt_tensor *f_synth(gt_tensor *const *in, void *ctx) {
    fd_ctx *x = ctx;
    return gt_anycost_synthesis(x->G, in[0], &x->s, NULL, NULL);
}

static void test_gradients(void) {
    gt_model_config c = cfg(32, "ch=4,ch_max=8,w_dim=8,n_mlp=2");
    c.nz = 8;
    gt_net G;
    if (!build(&c, GT_NET_G, 5, &G)) return;
    perturb(&G, 3);
    /* 8 px: fewer leaky-ReLU kinks for a perturbation to cross (a parameter that moves every unit, a noise
       strength or a style, crosses some at any step; the differences then converge only as eps shrinks, so each
       element is checked at eps 1e-2, 3e-3 and 1e-3 and must agree at one of them) */
    fd_ctx x = {&G, gt_anycost_uniform(0.5f, 8), gt_test_randn(1, GT_SHAPE(2, 8), 1.0f), NULL};
    x.s.ratio[0] = 1.0f;
    x.v = gt_test_randn(2, GT_SHAPE(2, 1, 8, 8), 1.0f);
    CHECK(gt_params_zero_grad(&G.P) == GT_OK);
    gt_tensor *o = gt_anycost_generate(&G, x.z, &x.s, NULL);
    CHECK(gt_backward(gt_sum_all(gt_mul(o, x.v))) == GT_OK);
    const char *names[] = {"convs.0.conv.weight", "convs.1.conv.modulation.weight", "conv1.conv.modulation.bias",
                           "style.1.weight", "style.2.bias", "to_rgbs.0.conv.weight", "convs.1.noise.weight",
                           "input.input", "to_rgb1.bias", "convs.0.activate.bias", "convs.0.noise.weight"};
    for (int q = 0; q < (int)(sizeof names / sizeof names[0]); q++) {
        gt_tensor *t = gt_params_get(&G.P, names[q]);
        CHECK_MSG(t && t->grad, "%s: no gradient", names[q]);
        if (!t || !t->grad) continue;
        float *p = gt_data(t);
        const float *g = gt_data(t->grad);
        const int64_t idx = (int64_t)(q * 7) % gt_numel(t);
        const float keep = p[idx], epss[] = {1e-2f, 3e-3f, 1e-3f};
        double fd = 0, best = INFINITY;
        for (int e = 0; e < 3; e++) {
            p[idx] = keep + epss[e];
            const double lp = fd_loss(&x);
            p[idx] = keep - epss[e];
            const double lm = fd_loss(&x);
            p[idx] = keep;
            const double d = (lp - lm) / (2 * epss[e]), err = fabs(d - g[idx]) / (2e-2 * fabs(d) + 1e-3);
            if (err < best) best = err, fd = d;
        }
        CHECK_MSG(best <= 1.0, "%s[%lld]: backward %g, differences %g", names[q], (long long)idx, (double)g[idx], fd);
    }
    /* a dropped channel's weights get no gradient (conv 1 keeps 4 of 8: column 5 of conv 2 is unread), nor the
       convs above the sub's resolution */
    gt_tensor *w2 = gt_params_get(&G.P, "convs.1.conv.weight"), *w3 = gt_params_get(&G.P, "convs.2.conv.weight");
    CHECK(w2 && w2->grad && gt_data(w2->grad)[5 * 9] == 0.0f && gt_data(w2->grad)[0] != 0.0f);
    CHECK(w3 && w3->grad && gt_data(w3->grad)[0] == 0.0f);
    /* w: the harness's gradcheck */
    gt_tensor *w = gt_anycost_mapping(&G, x.z);
    gt_gradcheck_opts go = {.eps = 1e-3f, .rtol = 2e-2f, .atol = 2e-3f, .max_elems = 16, .wrt = 1};
    CHECK(gt_test_gradcheck("synthesis wrt w", f_synth, 1, (gt_tensor *const[]){gt_detach(w)}, &x, &go));
    gt_net_free(&G);
}

/* (g) a checkpoint of an anycost G through gt_load_generator */
static void test_checkpoint(void) {
    gt_train_config tc = gt_train_config_default();
    tc.model = cfg(32, "ch=8,ch_max=16,w_dim=16,d_cond=1,ac_nres=3");
    tc.model.nz = 16;
    gt_net G;
    if (!build(&tc.model, GT_NET_G, 6, &G)) return;
    perturb(&G, 1);
    char *json = gt_train_config_to_json(&tc);
    CHECK(json != NULL);
    gt_ckpt ck;
    gt_ckpt_init(&ck);
    CHECK(gt_ckpt_add_params(&ck, "G.", &G.P) == GT_OK);
    CHECK(gt_ckpt_set_meta(&ck, "config", json) == GT_OK);
    const char *path = gt_test_path("ac.safetensors");
    CHECK_MSG(gt_ckpt_save(&ck, path) == GT_OK, "%s", gt_last_error());
    gt_ckpt_free(&ck);
    free(json);
    gt_net L;
    gt_train_config lc;
    bool ema = true;
    CHECK_MSG(gt_load_generator(path, true, &L, &lc, &ema) == GT_OK, "%s", gt_last_error());
    CHECK(!ema && gt_anycost_is(&L) && gt_model_config_same(&L.cfg, &tc.model) && gt_model_opt(&L.cfg, "ac_nres") == 3);
    gt_tensor *z = gt_test_randn(3, GT_SHAPE(2, 16), 1.0f);
    gt_anycost_sub s = gt_anycost_uniform(0.25f, 16);
    CHECK(max_abs_diff(gt_net_forward(&L, z, GT_BN_EVAL), gt_net_forward(&G, z, GT_BN_EVAL)) == 0.0f);
    CHECK(max_abs_diff(gt_anycost_generate(&L, z, &s, NULL), gt_anycost_generate(&G, z, &s, NULL)) == 0.0f);
    gt_net_free(&L);
    gt_net_free(&G);
}

int main(void) {
    gt_set_num_threads(2);
    RUN(test_errors);
    RUN(test_sliced_exact);
    RUN(test_fast_path);
    RUN(test_lower_res);
    RUN(test_discriminator);
    RUN(test_sort);
    RUN(test_costs);
    RUN(test_gradients);
    RUN(test_checkpoint);
    return gt_test_finish();
}
