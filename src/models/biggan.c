/* BigGAN for 32 px (Brock et al. 2019; BigGAN-PyTorch's CIFAR architecture,
 * with StudioGAN's big_resnet names): a class-conditional G whose batch norms
 * take their gains and biases from a vector (a shared class embedding joined
 * to a chunk of z: hierarchical latents), a projection D with spectral norm,
 * self-attention in both at attn_res.
 *
 * G: z (N, nz) split into 4 chunks of nz / 4; linear0 (chunk 0 -> (ngf, 4,
 * 4)); three GenBlocks (4 -> 8 -> 16 -> 32) with vector-conditional BN from
 * cat(shared(y), chunk i + 1) (gain 1 + Linear, bias Linear, spectral-normed
 * with g_sn); bn4, ReLU, conv2d5 (3x3 -> channels), tanh.
 * D: DiscOptBlock (channels -> ndf, 32 -> 16), DiscBlock (down, 16 -> 8), two
 * DiscBlocks at 8 (BigGAN-PyTorch's D_arch[32]); ReLU, sum over H and W,
 * linear (ndf -> 1) + sum(embed(y) * h).
 * Attention after the G block and the first D block whose output side is
 * attn_res (BigGAN-PyTorch's D lists every D block at 16 px for 32 px images,
 * so asking for 16 would put attention after each of them; here it follows
 * the block that actually outputs 16 x 16).
 *
 * Names: G linear0, shared, blocks.<i>.0 (bn1.bn, bn1.gain, bn1.bias, bn2...,
 * conv2d0..2; attention theta, phi, g, o, gamma), bn4, conv2d5; D blocks.<i>.0,
 * linear, embed (BigGAN-PyTorch's head names).
 * Initialization: BigGAN-PyTorch's CIFAR runs (--G_init N02 --D_init N02):
 * every conv, linear and embedding weight N(0, 0.02) (the ImageNet runs use
 * orthogonal), biases torch's default, BN weight 1, bias 0, gamma 0. */
#include <math.h>
#include <string.h>

#include "models_internal.h"
#include "gantry/models.h"

#define GT__BG_GBLOCKS 3
#define GT__BG_CHUNKS (GT__BG_GBLOCKS + 1) /* z: one chunk for linear0, one per G block */

typedef struct {
    int ch, attn_after, chunk;
    /* G */
    gt_nn_snlinear linear0;
    gt_nn_embedding shared;
    gt_nn_gen_block g[GT__BG_GBLOCKS];
    gt_nn_batch_norm bn4;
    gt_nn_snconv2d conv2d5;
    gt_nn_self_attention attn;
    gt__res_d D; /* models_internal.h */
} gt__bg;

static const gt_model_opt_def gt__bg_opts[] = {
    {"ngf", GT_OPT_INT, 64, 1, 2048, NULL,
     "generator width: channels of every G block (BigGAN-PyTorch's CIFAR G: 256 = 4 x ch 64)", NAN},
    {"ndf", GT_OPT_INT, 64, 1, 2048, NULL, "discriminator width: channels of every D block (BigGAN's CIFAR D: 256)",
     NAN},
    {"shared_dim", GT_OPT_INT, 128, 1, 4096, NULL, "size of the shared class embedding fed to every G block", NAN},
    {"attn_res", GT_OPT_INT, 16, 0, 32, NULL,
     "side at which self-attention follows a G block and a D block: 8 or 16; 0 = none", NAN},
    {"g_sn", GT_OPT_BOOL, 1, 0, 1, NULL, "spectral norm on every G conv and linear (not the shared embedding)", NAN},
    {"d_sn", GT_OPT_BOOL, 1, 0, 1, NULL, "spectral norm on every D conv, linear and the projection embedding", NAN},
};

static void gt__bg_defaults(gt_model_config *c) {
    if (!c->res) c->res = 32;
    if (!c->channels) c->channels = 3;
    if (!c->nz) c->nz = 128;
}

static gt_status gt__bg_check(const gt_model_config *c) {
    if (c->res != 32) return gt_set_error(GT_ERR_ARG, "biggan: resolution %d is not supported (use 32)", c->res);
    if (c->channels != 1 && c->channels != 3)
        return gt_set_error(GT_ERR_ARG, "biggan: channels must be 1 or 3, got %d", c->channels);
    if (c->nz < GT__BG_CHUNKS || c->nz > 4096 || c->nz % GT__BG_CHUNKS)
        return gt_set_error(GT_ERR_ARG,
                            "biggan: nz must be a multiple of %d in %d..4096 (hierarchical z: one chunk for linear0, "
                            "one per G block), got %d",
                            GT__BG_CHUNKS, GT__BG_CHUNKS, c->nz);
    const int attn_res = (int)gt_model_opt(c, "attn_res");
    if (attn_res != 0 && attn_res != 8 && attn_res != 16)
        return gt_set_error(GT_ERR_ARG,
                            "biggan: attn_res must be 8 or 16 (the sides where both G and D have a block output), or 0 "
                            "for none; got %d",
                            attn_res);
    const int ngf = (int)gt_model_opt(c, "ngf"), ndf = (int)gt_model_opt(c, "ndf");
    if (attn_res && (ngf < 8 || ndf < 8))
        return gt_set_error(GT_ERR_ARG,
                            "biggan: self-attention needs ngf and ndf >= 8 (ch / 8 channels for theta and phi), got "
                            "ngf %d, ndf %d (or set attn_res 0)",
                            ngf, ndf);
    return GT_OK;
}

/* --- forward --------------------------------------------------------------------- */
static gt_tensor *gt__bg_forward(gt_net *net, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    gt__bg *m = net->impl;
    const gt_layer_mode lm = (gt_layer_mode)mode;
    const int64_t n = x->shape[0];
    if (net->kind == GT_NET_G) {
        gt_tensor *z = gt_reshape(x, GT_SHAPE(n, net->cfg.nz)), *zs[GT__BG_CHUNKS];
        const int64_t sizes[GT__BG_CHUNKS] = {m->chunk, m->chunk, m->chunk, m->chunk};
        if (!z || gt_split(z, 1, GT__BG_CHUNKS, sizes, zs) != GT_OK) return NULL;
        gt_tensor *e = gt_nn_embedding_forward(&m->shared, y); // (N, shared_dim)
        gt_tensor *h = gt_reshape(gt_nn_snlinear_forward(&m->linear0, zs[0], lm), GT_SHAPE(n, m->ch, 4, 4));
        for (int i = 0; i < GT__BG_GBLOCKS; i++) {
            gt_tensor *v = gt_concat(2, (gt_tensor *[]){e, zs[i + 1]}, 1); // (N, shared_dim + chunk)
            h = gt_nn_gen_block_forward(&m->g[i], h, v, lm);
            if (m->attn_after == i) h = gt_nn_self_attention_forward(&m->attn, h, lm);
        }
        h = gt_relu(gt_nn_batch_norm_forward_mode(&m->bn4, h, lm));
        return gt_tanh(gt_nn_snconv2d_forward(&m->conv2d5, h, lm)); // (N, C, 32, 32)
    }
    return gt__res_d_forward(&m->D, x, y, lm); // (N)
}

static void gt__bg_momentum(gt_net *net, float momentum) {
    gt__bg *m = net->impl;
    if (net->kind != GT_NET_G) return;
    for (int i = 0; i < GT__BG_GBLOCKS; i++) m->g[i].vbn1.bn.momentum = m->g[i].vbn2.bn.momentum = momentum;
    m->bn4.momentum = momentum;
}

static void gt__bg_free(gt_net *net) {
    free(net->impl);
    net->impl = NULL;
}

static const gt_net_ops gt__bg_ops = {gt__bg_forward, gt__bg_momentum, gt__bg_free};

/* --- build ------------------------------------------------------------------------ */
/* N(0, 0.02) on every conv / linear / embedding weight registered so far (2-D and up: BN's 1-D
 * weights keep 1). */
static gt_status gt__bg_init_n02(gt_params *P, gt_rng *r) {
    for (int i = 0; i < P->n; i++) {
        const char *nm = P->v[i].name;
        size_t len = strlen(nm);
        bool w = (len >= 7 && !strcmp(nm + len - 7, ".weight")) ||
                 (len >= 12 && !strcmp(nm + len - 12, ".weight_orig"));
        if (P->v[i].is_buffer || !w || P->v[i].t->ndim < 2) continue;
        gt_status st = gt_init_normal(P->v[i].t, r, 0.0f, 0.02f);
        if (st != GT_OK) return st;
    }
    return GT_OK;
}

static gt_status gt__bg_build_g(const gt_model_config *c, gt__bg *m, gt_params *P, gt_rng *r) {
    const bool sn = gt_model_opt(c, "g_sn") != 0;
    const int ch = m->ch, sd = (int)gt_model_opt(c, "shared_dim");
    char name[64];
    gt_status st = gt_nn_snlinear_init(&m->linear0, P, "linear0", m->chunk, ch * 16, true, sn, r);
    if (st == GT_OK) st = gt_nn_embedding_init(&m->shared, P, "shared", c->n_classes, sd, r);
    int idx = 0;
    for (int i = 0; i < GT__BG_GBLOCKS && st == GT_OK; i++) {
        snprintf(name, sizeof name, "blocks.%d.0", idx++);
        st = gt_nn_gen_block_init(&m->g[i], P, name, ch, ch, GT_RES_COND_BN, sd + m->chunk, sn, r);
        if (st == GT_OK && m->attn_after == i) {
            snprintf(name, sizeof name, "blocks.%d.0", idx++);
            st = gt_nn_self_attention_init(&m->attn, P, name, ch, sn, r);
        }
    }
    if (st == GT_OK) st = gt_nn_batch_norm_init(&m->bn4, P, "bn4", ch, true, true);
    if (st == GT_OK)
        st = gt_nn_snconv2d_init(&m->conv2d5, P, "conv2d5", ch, c->channels, 3, 3, gt_conv_params_make(1, 1), true,
                                 sn, r);
    return st;
}


static gt_status gt__bg_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out) {
    gt__bg *m = calloc(1, sizeof *m);
    if (!m) return gt_set_error(GT_ERR_OOM, "biggan: out of memory");
    out->impl = m;
    out->ops = &gt__bg_ops;
    m->ch = (int)gt_model_opt(c, kind == GT_NET_G ? "ngf" : "ndf");
    m->chunk = c->nz / GT__BG_CHUNKS;
    const int attn_res = (int)gt_model_opt(c, "attn_res");
    /* G blocks' output sides 8, 16, 32; D blocks' 16, 8, 8, 8 */
    m->attn_after = !attn_res ? -1 : kind == GT_NET_G ? (attn_res == 8 ? 0 : 1) : (attn_res == 16 ? 0 : 1);
    gt_status st = kind == GT_NET_G ? gt__bg_build_g(c, m, &out->P, r) : gt__res_d_init(&m->D, &out->P, c->channels, m->ch, m->attn_after,
                                                                          c->n_classes, gt_model_opt(c, "d_sn") != 0, r,
                                                                          NULL);
    if (st == GT_OK) st = gt__bg_init_n02(&out->P, r);
    return st == GT_OK ? gt_params_finalize(&out->P) : st;
}

const gt_model_entry gt_model_biggan = {
    .name = "biggan",
    .summary = "BigGAN (Brock et al.), 32 px: shared class embedding + hierarchical z into conditional BN, "
               "projection D, spectral norm and self-attention in both; conditional",
    .defaults = gt__bg_defaults,
    .check = gt__bg_check,
    .build = gt__bg_build,
    .opts = gt__bg_opts,
    .n_opts = (int)(sizeof gt__bg_opts / sizeof gt__bg_opts[0]),
    .conditional = true,
};
