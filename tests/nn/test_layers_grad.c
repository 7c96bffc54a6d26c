/* The GAN layers (gantry/layers.h) against finite differences: first-order
 * gradients with respect to the inputs and the parameters (spectral norm's
 * sigma(W) included, in eval mode where u and v stay fixed), and the
 * gradients of gradients that R1 / gradient penalties take through a
 * discriminator built from these layers; the fast kernels against the naive
 * ones through the layers. Harness defaults (eps 1e-2, rtol
 * 2e-2, atol 2e-3) unless a check says otherwise. */
#include "../common/harness.h"
#include "gantry/layers.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

/* a float input with statistics away from (0, 1), requiring grad */
static gt_tensor *xin(uint64_t seed, int ndim, const int64_t *shape) {
    gt_tensor *x = gt_test_randn(seed, ndim, shape, 1.0f);
    float *d = gt_data(x);
    for (int64_t i = 0; i < gt_numel(x); i++) d[i] = 2.0f * d[i] + 0.7f;
    x->requires_grad = true;
    return x;
}

/* the conv's weight: weight_orig with spectral norm, else weight */
static gt_tensor **conv_w(gt_nn_snconv2d *c) { return c->sn ? &c->norm.weight_orig : &c->weight; }

/* --- self-attention ------------------------------------------------------------------ */

/* the module with its tensors replaced by the checked inputs */
static gt_tensor *g_attn(gt_tensor *const *in, void *ctx) {
    gt_nn_self_attention m = *(gt_nn_self_attention *)ctx;
    gt_nn_snconv2d *c[4] = {&m.theta, &m.phi, &m.g, &m.o};
    for (int i = 0; i < 4; i++) *conv_w(c[i]) = in[1 + i];
    m.gamma = in[5];
    return gt_nn_self_attention_forward(&m, in[0], GT_LAYER_EVAL); /* eval: u, v fixed */
}

static void attn_inputs(gt_nn_self_attention *m, gt_tensor **in, uint64_t seed) {
    gt_nn_snconv2d *c[4] = {&m->theta, &m->phi, &m->g, &m->o};
    in[0] = gt_test_randn(seed, S(2, 8, 4, 2), 1.0f);
    in[0]->requires_grad = true;
    for (int i = 0; i < 4; i++) in[1 + i] = *conv_w(c[i]);
    in[5] = m->gamma;
}

static void test_attention_gradcheck(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 35);
    gt_nn_self_attention plain, sn;
    CHECK(gt_nn_self_attention_init(&plain, &P, "plain", 8, false, &r) == GT_OK);
    CHECK(gt_nn_self_attention_init(&sn, &P, "sn", 8, true, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    gt_fill_(plain.gamma, 0.8f);
    gt_fill_(sn.gamma, 1.3f);
    CHECK(gt_nn_self_attention_forward(&sn, gt_test_randn(1, S(2, 8, 4, 2), 1.0f), GT_LAYER_TRAIN) != NULL);
    gt_tensor *in[6];
    /* a small step: max pooling's kinks (a window's maximum changing hands)
     * within 1e-2 would spoil the differences; differences of a float32
     * gradient (second order, o2) are noisier at 1e-3 */
    gt_gradcheck_opts o = {.eps = 1e-3f}, o2 = {.eps = 3e-3f};
    attn_inputs(&plain, in, 91);
    CHECK(gt_test_gradcheck("attention", g_attn, 6, in, &plain, &o));
    CHECK(gt_test_gradgradcheck("attention", g_attn, 6, in, &plain, &o));
    attn_inputs(&sn, in, 95);
    /* spectral norm's sigma(W) differentiated too */
    CHECK(gt_test_gradcheck("attention sn", g_attn, 6, in, &sn, &o));
    CHECK(gt_test_gradgradcheck("attention sn", g_attn, 6, in, &sn, &o2));
    gt_params_free(&P);
}

/* --- conditional batch norm -------------------------------------------------------------- */

static gt_tensor *g_class_bn(gt_tensor *const *in, void *ctx) {
    gt_nn_class_bn m = *(gt_nn_class_bn *)ctx;
    m.gain = in[1];
    m.bias = in[2];
    return gt_nn_class_bn_forward(&m, in[0], in[3], GT_LAYER_BATCH);
}

static gt_tensor *g_cond_bn(gt_tensor *const *in, void *ctx) {
    gt_nn_cond_bn m = *(gt_nn_cond_bn *)ctx;
    *(m.gain.sn ? &m.gain.norm.weight_orig : &m.gain.weight) = in[2];
    *(m.bias.sn ? &m.bias.norm.weight_orig : &m.bias.weight) = in[3];
    return gt_nn_cond_bn_forward(&m, in[0], in[1], GT_LAYER_BATCH);
}

static void test_conditional_bn_gradcheck(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 36);
    gt_nn_class_bn cls;
    gt_nn_cond_bn vec, vecsn;
    CHECK(gt_nn_class_bn_init(&cls, &P, "cls", 3, 4) == GT_OK);
    CHECK(gt_nn_cond_bn_init(&vec, &P, "vec", 3, 5, false, &r) == GT_OK);
    CHECK(gt_nn_cond_bn_init(&vecsn, &P, "vecsn", 3, 5, true, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    CHECK(gt_params_set(&P, "cls.gain.weight", gt_test_uniform(7, S(4, 3), 0.5f, 1.5f)) == GT_OK);
    CHECK(gt_params_set(&P, "cls.bias.weight", gt_test_uniform(8, S(4, 3), -0.5f, 0.5f)) == GT_OK);
    gt_tensor *x = xin(93, S(4, 3, 2, 2));
    gt_tensor *in[4] = {x, cls.gain, cls.bias, gt_from_i32(S(4), (int32_t[]){1, 3, 1, 0})};
    CHECK(gt_test_gradcheck("class bn", g_class_bn, 4, in, &cls, NULL));
    CHECK(gt_test_gradgradcheck("class bn", g_class_bn, 4, in, &cls, NULL));
    gt_tensor *v = gt_test_randn(94, S(4, 5), 1.0f);
    v->requires_grad = true;
    gt_tensor *in2[4] = {x, v, vec.gain.weight, vec.bias.weight};
    CHECK(gt_test_gradcheck("cond bn", g_cond_bn, 4, in2, &vec, NULL));
    CHECK(gt_test_gradgradcheck("cond bn", g_cond_bn, 4, in2, &vec, NULL));
    gt_tensor *in3[4] = {x, v, vecsn.gain.norm.weight_orig, vecsn.bias.norm.weight_orig};
    CHECK(gt_test_gradcheck("cond bn sn", g_cond_bn, 4, in3, &vecsn, NULL));
    gt_params_free(&P);
}

/* --- minibatch stddev, heads ------------------------------------------------------------ */

static gt_tensor *g_mbstd(gt_tensor *const *in, void *ctx) {
    const int *gf = ctx;
    return gt_nn_minibatch_std(in[0], gf[0], gf[1]);
}

static void test_minibatch_std_gradcheck(void) {
    int g2f2[2] = {2, 2}, g4[2] = {4, 1};
    gt_tensor *x = xin(95, S(4, 4, 2, 3));
    CHECK(gt_test_gradcheck("minibatch std g2 f2", g_mbstd, 1, &x, g2f2, NULL));
    CHECK(gt_test_gradgradcheck("minibatch std g2 f2", g_mbstd, 1, &x, g2f2, NULL));
    CHECK(gt_test_gradcheck("minibatch std g4", g_mbstd, 1, &x, g4, NULL));
}

static gt_tensor *g_proj(gt_tensor *const *in, void *ctx) {
    gt_nn_proj_head m = *(gt_nn_proj_head *)ctx;
    m.linear.norm.weight_orig = in[1];
    m.embed.norm.weight_orig = in[2];
    return gt_nn_proj_head_forward(&m, in[0], in[3], GT_LAYER_EVAL);
}

static void test_heads_gradcheck(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 37);
    gt_nn_proj_head proj;
    CHECK(gt_nn_proj_head_init(&proj, &P, "proj", 6, 4, true, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    gt_tensor *h = gt_test_randn(96, S(3, 6), 1.0f);
    h->requires_grad = true;
    gt_tensor *in[4] = {h, proj.linear.norm.weight_orig, proj.embed.norm.weight_orig,
                        gt_from_i32(S(3), (int32_t[]){2, 0, 2})};
    CHECK(gt_test_gradcheck("projection head sn", g_proj, 4, in, &proj, NULL));
    CHECK(gt_test_gradgradcheck("projection head sn", g_proj, 4, in, &proj, NULL));
    gt_params_free(&P);
}

/* --- residual blocks ------------------------------------------------------------------- */

static gt_tensor *g_dblk(gt_tensor *const *in, void *ctx) {
    gt_nn_disc_block m = *(gt_nn_disc_block *)ctx;
    *conv_w(&m.conv2d0) = in[1];
    *conv_w(&m.conv2d1) = in[2];
    *conv_w(&m.conv2d2) = in[3];
    return gt_nn_disc_block_forward(&m, in[0], GT_LAYER_EVAL);
}

static gt_tensor *g_dopt(gt_tensor *const *in, void *ctx) {
    gt_nn_disc_opt_block m = *(gt_nn_disc_opt_block *)ctx;
    *conv_w(&m.conv2d0) = in[1];
    *conv_w(&m.conv2d1) = in[2];
    *conv_w(&m.conv2d2) = in[3];
    return gt_nn_disc_opt_block_forward(&m, in[0], GT_LAYER_EVAL);
}

static gt_tensor *g_gen(gt_tensor *const *in, void *ctx) {
    gt_nn_gen_block m = *(gt_nn_gen_block *)ctx;
    *conv_w(&m.conv2d1) = in[1];
    m.cbn2.gain = in[2];
    return gt_nn_gen_block_forward(&m, in[0], in[3], GT_LAYER_BATCH);
}

static void test_blocks_gradcheck(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 38);
    gt_nn_disc_block dblk;
    gt_nn_disc_opt_block dopt;
    gt_nn_gen_block gen;
    CHECK(gt_nn_disc_block_init(&dblk, &P, "dblk", 2, 3, true, true, &r) == GT_OK);
    CHECK(gt_nn_disc_opt_block_init(&dopt, &P, "dopt", 2, 3, true, &r) == GT_OK);
    CHECK(gt_nn_gen_block_init(&gen, &P, "gen", 3, 2, GT_RES_CLASS_BN, 3, false, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    /* a training forward moves u and v away from their random start */
    gt_tensor *x = gt_test_randn(97, S(2, 2, 4, 4), 1.0f);
    CHECK(gt_nn_disc_block_forward(&dblk, x, GT_LAYER_TRAIN) && gt_nn_disc_opt_block_forward(&dopt, x, GT_LAYER_TRAIN));
    x->requires_grad = true;
    gt_tensor *in[4] = {x, dblk.conv2d0.norm.weight_orig, dblk.conv2d1.norm.weight_orig, dblk.conv2d2.norm.weight_orig};
    /* ReLU's kink at 0: a step small enough that no pre-activation crosses it */
    gt_gradcheck_opts o = {.eps = 1e-3f};
    CHECK(gt_test_gradcheck("disc block sn", g_dblk, 4, in, &dblk, &o));
    /* R1 / gradient penalty: the gradient of |dD/dx|^2 through the block */
    gt_tensor *xo[4] = {x, dopt.conv2d0.norm.weight_orig, dopt.conv2d1.norm.weight_orig,
                        dopt.conv2d2.norm.weight_orig};
    CHECK(gt_test_gradcheck("disc opt block sn", g_dopt, 4, xo, &dopt, &o));
    CHECK(gt_test_gradgradcheck("disc opt block sn", g_dopt, 4, xo, &dopt, &o));
    gt_tensor *xg = xin(98, S(2, 3, 2, 2));
    gt_tensor *ig[4] = {xg, gen.conv2d1.weight, gen.cbn2.gain, gt_from_i32(S(2), (int32_t[]){1, 2})};
    CHECK(gt_test_gradcheck("gen block class bn", g_gen, 4, ig, &gen, &o));
    gt_params_free(&P);
}

/* The layers on the fast kernels and on the naive reference: outputs and
 * gradients agree (1e-4 relative, 1e-5 absolute). */
static void test_layers_fast_vs_naive(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 39);
    gt_nn_self_attention a;
    gt_nn_disc_block dblk;
    gt_nn_gen_block gen;
    CHECK(gt_nn_self_attention_init(&a, &P, "a", 16, true, &r) == GT_OK);
    CHECK(gt_nn_disc_block_init(&dblk, &P, "dblk", 3, 5, true, true, &r) == GT_OK);
    CHECK(gt_nn_gen_block_init(&gen, &P, "gen", 3, 2, GT_RES_CLASS_BN, 3, false, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    gt_fill_(a.gamma, 0.9f);
    /* u and v near the singular vectors, as in training (random ones make
     * sigma small and the gradients large and ill-conditioned) */
    gt_tensor *xt = gt_test_randn(98, S(2, 16, 6, 4), 1.0f);
    for (int i = 0; i < 5; i++) CHECK(gt_nn_self_attention_forward(&a, xt, GT_LAYER_TRAIN) != NULL);
    gt_tensor *in[6];
    attn_inputs(&a, in, 99);
    in[0] = gt_test_randn(99, S(2, 16, 6, 4), 1.0f);
    in[0]->requires_grad = true;
    CHECK(gt_test_fast_vs_naive("attention sn", g_attn, 6, in, &a, 1e-4f, 1e-5f));
    gt_tensor *x = gt_test_randn(100, S(2, 3, 8, 8), 1.0f);
    x->requires_grad = true;
    gt_tensor *ind[4] = {x, dblk.conv2d0.norm.weight_orig, dblk.conv2d1.norm.weight_orig,
                         dblk.conv2d2.norm.weight_orig};
    CHECK(gt_test_fast_vs_naive("disc block sn", g_dblk, 4, ind, &dblk, 1e-4f, 1e-5f));
    gt_tensor *ig[4] = {xin(101, S(2, 3, 4, 4)), gen.conv2d1.weight, gen.cbn2.gain,
                        gt_from_i32(S(2), (int32_t[]){1, 2})};
    CHECK(gt_test_fast_vs_naive("gen block class bn", g_gen, 4, ig, &gen, 1e-4f, 1e-5f));
    gt_params_free(&P);
}

int main(void) {
    RUN(test_attention_gradcheck);
    RUN(test_conditional_bn_gradcheck);
    RUN(test_minibatch_std_gradcheck);
    RUN(test_heads_gradcheck);
    RUN(test_blocks_gradcheck);
    RUN(test_layers_fast_vs_naive);
    return gt_test_finish();
}
