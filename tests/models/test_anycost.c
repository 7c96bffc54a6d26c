/* The anycost family (src/models/anycost*.c): a sliced sub-generator equals the full generator
 * with the dropped channels' reading weights zeroed, exactly; a sub at a lower resolution equals
 * the full net's skip sum there, exactly; D at every level, conditioned and not; the sub configs'
 * checks and texts; channel sorting keeps the function; costs; gradients by finite differences;
 * a checkpoint round trip through gt_load_generator. */
#include <math.h>
#include <string.h>

#include "../common/harness.h"

#include "gantry/anycost.h"
#include "gantry/checkpoint.h"
#include "gantry/train.h"

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

static void test_sliced_exact(void) {
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

int main(void) {
    gt_set_num_threads(2);
    RUN(test_errors);
    RUN(test_sliced_exact);
    RUN(test_lower_res);
    RUN(test_discriminator);
    return gt_test_finish();
}
