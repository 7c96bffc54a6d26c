/* The ResNet GANs of the zoo at 32 px, on StudioGAN's resnet backbone (its
 * CIFAR-10 configs): SNGAN (Miyato et al. 2018), SAGAN (Zhang et al. 2019:
 * self-attention, spectral norm in G too) and the projection cGAN (Miyato &
 * Koyama 2018: class-conditional BN in G, a projection head in D).
 *
 * G: linear0 z -> (ngf, 4, 4); three GenBlocks (4 -> 8 -> 16 -> 32; BN, or
 * class-conditional BN for cgan); bn4, ReLU, conv2d5 (3x3 -> channels), tanh.
 * D: DiscOptBlock (channels -> ndf, 32 -> 16), DiscBlock (down, 16 -> 8), two
 * DiscBlocks at 8; ReLU, sum over H and W, then the head: linear (ndf -> 1)
 * plus, for cgan, the projection sum(embed(y) * h).
 * SAGAN's self-attention sits after the G block and the first D block whose
 * output side is attn_res (its own entry of the blocks list, as StudioGAN).
 *
 * Names as the equivalent torch modules' state_dict (tests/parity/train_zoo.py):
 * G: linear0, blocks.<i>.0 (GenBlock bn1, bn2, conv2d0..2, or the attention's
 * theta, phi, g, o, gamma), bn4, conv2d5; D: blocks.<i>.0, linear, embed.
 * Spectral norm (weight_orig, weight_u, weight_v) on every D conv / linear /
 * embedding when d_sn, on every G conv / linear when g_sn.
 *
 * Initialization: Miyato's SNGAN / projection code (chainer GlorotUniform):
 * xavier_uniform with gain sqrt(2) on the residual branches' 3x3 convs, gain 1
 * on the 1x1 shortcuts, linear0, conv2d5, the head, the embeddings and the
 * attention's convs; biases 0; BN weight 1, bias 0; class BN gain 1, bias 0. */
#include <math.h>
#include <string.h>

#include "models_internal.h"

#define GT__RG_GBLOCKS 3 /* 4 -> 8 -> 16 -> 32 */

typedef enum { GT__RG_SNGAN = 0, GT__RG_SAGAN, GT__RG_CGAN } gt__rg_family;

typedef struct {
    gt__rg_family fam;
    int ch, attn_after; /* the attention follows block attn_after (-1: none) */
    /* G */
    gt_nn_snlinear linear0;
    gt_nn_gen_block g[GT__RG_GBLOCKS];
    gt_nn_batch_norm bn4;
    gt_nn_snconv2d conv2d5;
    gt_nn_self_attention attn;
    gt__res_d D; /* models_internal.h */
} gt__rg;

static const gt_model_opt_def gt__sngan_opts[] = {
    {"ngf", GT_OPT_INT, 128, 1, 2048, NULL, "generator width: channels of linear0's output and of every G block", NAN},
    {"ndf", GT_OPT_INT, 128, 1, 2048, NULL, "discriminator width: channels of every D block", NAN},
    {"d_sn", GT_OPT_BOOL, 1, 0, 1, NULL, "spectral norm on every D conv and linear", NAN},
    {"g_sn", GT_OPT_BOOL, 0, 0, 1, NULL, "spectral norm on every G conv and linear", NAN},
};
static const gt_model_opt_def gt__sagan_opts[] = {
    {"ngf", GT_OPT_INT, 128, 1, 2048, NULL, "generator width: channels of linear0's output and of every G block", NAN},
    {"ndf", GT_OPT_INT, 128, 1, 2048, NULL, "discriminator width: channels of every D block", NAN},
    {"d_sn", GT_OPT_BOOL, 1, 0, 1, NULL, "spectral norm on every D conv and linear (and D's attention)", NAN},
    {"g_sn", GT_OPT_BOOL, 1, 0, 1, NULL, "spectral norm on every G conv and linear (and G's attention)", NAN},
    {"attn_res", GT_OPT_INT, 16, 0, 32, NULL,
     "side at which self-attention follows a G block and a D block: 8 or 16; 0 = none", NAN},
};
static const gt_model_opt_def gt__cgan_opts[] = {
    {"ngf", GT_OPT_INT, 128, 1, 2048, NULL, "generator width: channels of linear0's output and of every G block", NAN},
    {"ndf", GT_OPT_INT, 128, 1, 2048, NULL, "discriminator width: channels of every D block", NAN},
    {"d_sn", GT_OPT_BOOL, 1, 0, 1, NULL, "spectral norm on every D conv, linear and the projection embedding", NAN},
    {"g_sn", GT_OPT_BOOL, 0, 0, 1, NULL, "spectral norm on every G conv and linear", NAN},
};

static const char *gt__rg_name(gt__rg_family f) {
    return f == GT__RG_SAGAN ? "sagan" : f == GT__RG_CGAN ? "cgan" : "sngan";
}

static void gt__rg_defaults(gt_model_config *c) {
    if (!c->res) c->res = 32;
    if (!c->channels) c->channels = 3;
    if (!c->nz) c->nz = 128;
}

static gt_status gt__rg_check_common(const gt_model_config *c, const char *name, int attn_res) {
    if (c->res != 32) return gt_set_error(GT_ERR_ARG, "%s: resolution %d is not supported (use 32)", name, c->res);
    if (c->channels != 1 && c->channels != 3)
        return gt_set_error(GT_ERR_ARG, "%s: channels must be 1 or 3, got %d", name, c->channels);
    if (c->nz < 1 || c->nz > 4096) return gt_set_error(GT_ERR_ARG, "%s: nz must be in 1..4096, got %d", name, c->nz);
    if (attn_res != 0 && attn_res != 8 && attn_res != 16)
        return gt_set_error(GT_ERR_ARG,
                            "%s: attn_res must be 8 or 16 (the sides where both G and D have a block output), or 0 "
                            "for none; got %d",
                            name, attn_res);
    const int ngf = (int)gt_model_opt(c, "ngf"), ndf = (int)gt_model_opt(c, "ndf");
    if (attn_res && (ngf < 8 || ndf < 8))
        return gt_set_error(GT_ERR_ARG,
                            "%s: self-attention needs ngf and ndf >= 8 (ch / 8 channels for theta and phi), got ngf "
                            "%d, ndf %d (or set attn_res 0)",
                            name, ngf, ndf);
    return GT_OK;
}

static gt_status gt__sngan_check(const gt_model_config *c) { return gt__rg_check_common(c, "sngan", 0); }
static gt_status gt__cgan_check(const gt_model_config *c) { return gt__rg_check_common(c, "cgan", 0); }
static gt_status gt__sagan_check(const gt_model_config *c) {
    return gt__rg_check_common(c, "sagan", (int)gt_model_opt(c, "attn_res"));
}

/* --- initialization ----------------------------------------------------------- */
static gt_tensor *gt__conv_w(gt_nn_snconv2d *m) { return m->sn ? m->norm.weight_orig : m->weight; }
static gt_tensor *gt__lin_w(gt_nn_snlinear *m) { return m->sn ? m->norm.weight_orig : m->weight; }

static gt_status gt__xavier_conv(gt_nn_snconv2d *m, float gain, gt_rng *r) {
    gt_status st = gt_init_xavier_uniform(gt__conv_w(m), r, gain);
    if (st == GT_OK && m->bias) st = gt_init_constant(m->bias, 0.0f);
    return st;
}

static gt_status gt__xavier_lin(gt_nn_snlinear *m, float gain, gt_rng *r) {
    gt_status st = gt_init_xavier_uniform(gt__lin_w(m), r, gain);
    if (st == GT_OK && m->bias) st = gt_init_constant(m->bias, 0.0f);
    return st;
}

/* The three convs of a residual block: the branch's 3x3 at gain sqrt(2), the 1x1 shortcut at 1. */
static gt_status gt__xavier_block(gt_nn_snconv2d *c0, gt_nn_snconv2d *c1, gt_nn_snconv2d *c2, bool has_c0,
                                  gt_rng *r) {
    gt_status st = has_c0 ? gt__xavier_conv(c0, 1.0f, r) : GT_OK;
    if (st == GT_OK) st = gt__xavier_conv(c1, 1.41421356237f, r);
    if (st == GT_OK) st = gt__xavier_conv(c2, 1.41421356237f, r);
    return st;
}

static gt_status gt__xavier_attn(gt_nn_self_attention *a, gt_rng *r) {
    gt_nn_snconv2d *cs[4] = {&a->theta, &a->phi, &a->g, &a->o};
    gt_status st = GT_OK;
    for (int i = 0; i < 4 && st == GT_OK; i++) st = gt__xavier_conv(cs[i], 1.0f, r);
    return st;
}

/* --- forward --------------------------------------------------------------------- */
static gt_tensor *gt__rg_forward(gt_net *net, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    gt__rg *m = net->impl;
    const gt_layer_mode lm = (gt_layer_mode)mode;
    const int64_t n = x->shape[0];
    if (net->kind == GT_NET_G) {
        gt_tensor *z = gt_reshape(x, GT_SHAPE(n, net->cfg.nz));
        gt_tensor *h = gt_reshape(gt_nn_snlinear_forward(&m->linear0, z, lm), GT_SHAPE(n, m->ch, 4, 4));
        for (int i = 0; i < GT__RG_GBLOCKS; i++) {
            h = gt_nn_gen_block_forward(&m->g[i], h, m->fam == GT__RG_CGAN ? y : NULL, lm);
            if (m->attn_after == i) h = gt_nn_self_attention_forward(&m->attn, h, lm);
        }
        h = gt_relu(gt_nn_batch_norm_forward_mode(&m->bn4, h, lm));
        return gt_tanh(gt_nn_snconv2d_forward(&m->conv2d5, h, lm)); // (N, C, 32, 32)
    }
    return gt__res_d_forward(&m->D, x, m->fam == GT__RG_CGAN ? y : NULL, lm); // (N)
}

static void gt__rg_momentum(gt_net *net, float momentum) {
    gt__rg *m = net->impl;
    if (net->kind != GT_NET_G) return;
    for (int i = 0; i < GT__RG_GBLOCKS; i++) {
        gt_nn_gen_block *b = &m->g[i];
        b->bn1.momentum = b->bn2.momentum = momentum;
        b->cbn1.bn.momentum = b->cbn2.bn.momentum = momentum;
    }
    m->bn4.momentum = momentum;
}

static void gt__rg_free(gt_net *net) {
    free(net->impl);
    net->impl = NULL;
}

static const gt_net_ops gt__rg_ops = {gt__rg_forward, gt__rg_momentum, gt__rg_free};

/* --- build ------------------------------------------------------------------------ */
static gt_status gt__rg_build_g(const gt_model_config *c, gt__rg *m, gt_params *P, gt_rng *r) {
    const bool sn = gt_model_opt(c, "g_sn") != 0;
    const int ch = m->ch;
    char name[64];
    gt_status st = gt_nn_snlinear_init(&m->linear0, P, "linear0", c->nz, ch * 16, true, sn, r);
    if (st == GT_OK) st = gt__xavier_lin(&m->linear0, 1.0f, r);
    const gt_res_norm norm = m->fam == GT__RG_CGAN ? GT_RES_CLASS_BN : GT_RES_BN;
    int idx = 0;
    for (int i = 0; i < GT__RG_GBLOCKS && st == GT_OK; i++) {
        snprintf(name, sizeof name, "blocks.%d.0", idx++);
        st = gt_nn_gen_block_init(&m->g[i], P, name, ch, ch, norm, c->n_classes, sn, r);
        if (st == GT_OK) st = gt__xavier_block(&m->g[i].conv2d0, &m->g[i].conv2d1, &m->g[i].conv2d2, true, r);
        if (st == GT_OK && m->attn_after == i) {
            snprintf(name, sizeof name, "blocks.%d.0", idx++);
            st = gt_nn_self_attention_init(&m->attn, P, name, ch, sn, r);
            if (st == GT_OK) st = gt__xavier_attn(&m->attn, r);
        }
    }
    if (st == GT_OK) st = gt_nn_batch_norm_init(&m->bn4, P, "bn4", ch, true, true);
    if (st == GT_OK)
        st = gt_nn_snconv2d_init(&m->conv2d5, P, "conv2d5", ch, c->channels, 3, 3, gt_conv_params_make(1, 1), true,
                                 sn, r);
    if (st == GT_OK) st = gt__xavier_conv(&m->conv2d5, 1.0f, r);
    return st;
}

/* Miyato's xavier init of each part of D as it is built (resnet_d.c) */
static gt_status gt__rg_xavier_d(gt__res_d *d, int part, gt_rng *r) {
    if (part == 0) return gt__xavier_block(&d->d0.conv2d0, &d->d0.conv2d1, &d->d0.conv2d2, true, r);
    if (part > 0) {
        gt_nn_disc_block *b = &d->d[part - 1];
        return gt__xavier_block(&b->conv2d0, &b->conv2d1, &b->conv2d2, b->learnable_sc, r);
    }
    if (part == GT__RES_D_ATTN) return gt__xavier_attn(&d->attn, r);
    gt_status st = gt__xavier_lin(&d->head.linear, 1.0f, r);
    if (st == GT_OK && d->head.num_classes)
        st = gt_init_xavier_uniform(d->head.embed.sn ? d->head.embed.norm.weight_orig : d->head.embed.weight, r, 1.0f);
    return st;
}

static gt_status gt__rg_build_d(const gt_model_config *c, gt__rg *m, gt_params *P, gt_rng *r) {
    const int classes = m->fam == GT__RG_CGAN ? c->n_classes : 0;
    return gt__res_d_init(&m->D, P, c->channels, m->ch, m->attn_after, classes, gt_model_opt(c, "d_sn") != 0, r,
                          gt__rg_xavier_d);
}

static gt_status gt__rg_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out, gt__rg_family fam) {
    gt__rg *m = calloc(1, sizeof *m);
    if (!m) return gt_set_error(GT_ERR_OOM, "%s: out of memory", gt__rg_name(fam));
    out->impl = m;
    out->ops = &gt__rg_ops;
    m->fam = fam;
    m->ch = (int)gt_model_opt(c, kind == GT_NET_G ? "ngf" : "ndf");
    m->attn_after = -1;
    const int attn_res = fam == GT__RG_SAGAN ? (int)gt_model_opt(c, "attn_res") : 0;
    /* G blocks' output sides 8, 16, 32; D blocks' 16, 8, 8, 8 */
    if (attn_res) m->attn_after = kind == GT_NET_G ? (attn_res == 8 ? 0 : 1) : (attn_res == 16 ? 0 : 1);
    gt_status st = kind == GT_NET_G ? gt__rg_build_g(c, m, &out->P, r) : gt__rg_build_d(c, m, &out->P, r);
    return st == GT_OK ? gt_params_finalize(&out->P) : st;
}

static gt_status gt__sngan_build(const gt_model_config *c, gt_net_kind k, gt_rng *r, gt_net *o) {
    return gt__rg_build(c, k, r, o, GT__RG_SNGAN);
}
static gt_status gt__sagan_build(const gt_model_config *c, gt_net_kind k, gt_rng *r, gt_net *o) {
    return gt__rg_build(c, k, r, o, GT__RG_SAGAN);
}
static gt_status gt__cgan_build(const gt_model_config *c, gt_net_kind k, gt_rng *r, gt_net *o) {
    return gt__rg_build(c, k, r, o, GT__RG_CGAN);
}

const gt_model_entry gt_model_sngan = {
    .name = "sngan",
    .summary = "SNGAN (Miyato et al.): ResNet G with BN, ResNet D with spectral norm, sum pooling, linear; 32 px",
    .defaults = gt__rg_defaults,
    .check = gt__sngan_check,
    .build = gt__sngan_build,
    .opts = gt__sngan_opts,
    .n_opts = (int)(sizeof gt__sngan_opts / sizeof gt__sngan_opts[0]),
};

const gt_model_entry gt_model_sagan = {
    .name = "sagan",
    .summary = "SAGAN (Zhang et al.): SNGAN's ResNets with self-attention at attn_res in G and D, spectral norm in "
               "both; 32 px",
    .defaults = gt__rg_defaults,
    .check = gt__sagan_check,
    .build = gt__sagan_build,
    .opts = gt__sagan_opts,
    .n_opts = (int)(sizeof gt__sagan_opts / sizeof gt__sagan_opts[0]),
};

const gt_model_entry gt_model_cgan = {
    .name = "cgan",
    .summary = "projection cGAN (Miyato & Koyama): SNGAN's ResNets, class-conditional BN in G, projection D; "
               "conditional, 32 px",
    .defaults = gt__rg_defaults,
    .check = gt__cgan_check,
    .build = gt__cgan_build,
    .opts = gt__cgan_opts,
    .n_opts = (int)(sizeof gt__cgan_opts / sizeof gt__cgan_opts[0]),
    .conditional = true,
};
