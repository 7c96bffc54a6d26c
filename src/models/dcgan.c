/* DCGAN generator and discriminator (Radford et al. 2016), laid out as the
 * PyTorch DCGAN example's nn.Sequential `main`, so parameter names match its
 * state_dict: G = main.{0,3,6,...}.weight (ConvTranspose2d) with main.{1,4,...}
 * BatchNorm2d; D = main.0.weight (Conv2d), main.{2,5,...} Conv2d with
 * main.{3,6,...} BatchNorm2d, and the last Conv2d. D's BatchNorm2d can be a
 * GroupNorm(1, C) instead (option d_norm = layer, same names, no buffers) or
 * nothing (none: the later indices shift down). */
#include <math.h>
#include <string.h>

#include "gantry/compress.h"
#include "gantry/layers.h"
#include "gantry/models.h"

#define GT__DC_MAX_LAYERS 6
#define GT__LRELU_SLOPE 0.2f

typedef struct {
    int c_in, c_out, k, stride, pad;
    int norm_kind;                 /* GT_NORM_BATCH / _LAYER: that norm follows; _NONE: nothing */
    bool bn;                       /* a BatchNorm2d follows */
    gt_nn_conv2d conv;             /* D */
    gt_nn_conv_transpose2d convt;  /* G */
    gt_nn_batch_norm norm;
} gt__dc_layer;

typedef struct {
    int n;
    gt__dc_layer l[GT__DC_MAX_LAYERS];
} gt__dcgan;

static const char *const gt__dc_norms[] = {"default", "batch", "layer", "none", NULL}; /* gt_norm_kind order */

static const gt_model_opt_def gt__dc_opts[] = {
    {"ngf", GT_OPT_INT, 64, 1, 1024, NULL, "generator width (channels of its last hidden layer)", NAN},
    {"ndf", GT_OPT_INT, 64, 1, 1024, NULL, "discriminator width (channels of its first layer)", NAN},
    {"gw0", GT_OPT_INT, 0, 0, 4096, NULL, "G's first layer width (0: ngf * 2^(L-1)); set by pruning", NAN},
    {"gw1", GT_OPT_INT, 0, 0, 4096, NULL, "G's second layer width (0: from ngf)", NAN},
    {"gw2", GT_OPT_INT, 0, 0, 4096, NULL, "G's third layer width (0: from ngf)", NAN},
    {"gw3", GT_OPT_INT, 0, 0, 4096, NULL, "G's fourth layer width at 64 px (0: from ngf)", NAN},
    {"d_norm", GT_OPT_ENUM, GT_NORM_DEFAULT, 0, 0, gt__dc_norms,
     "normalization after D's middle convs: batch, layer (GroupNorm(1, C)) or none; default: batch, layer with a "
     "gradient penalty",
     GT_NORM_BATCH},
};

static void gt__dc_defaults(gt_model_config *c) {
    if (!c->res) c->res = 32;
    if (!c->channels) c->channels = 3;
    if (!c->nz) c->nz = 100;
    if (gt_model_opt(c, "d_norm") == GT_NORM_DEFAULT) gt_model_opt_set(c, "d_norm", GT_NORM_BATCH);
}

static gt_status gt__dc_check(const gt_model_config *c) {
    const int d_norm = (int)gt_model_opt(c, "d_norm");
    if (c->res != 28 && c->res != 32 && c->res != 64)
        return gt_set_error(GT_ERR_ARG, "dcgan: resolution %d is not supported (use 28, 32 or 64)", c->res);
    if (c->channels != 1 && c->channels != 3)
        return gt_set_error(GT_ERR_ARG, "dcgan: channels must be 1 or 3, got %d", c->channels);
    if (c->nz < 1 || c->nz > 4096) return gt_set_error(GT_ERR_ARG, "dcgan: nz must be in 1..4096, got %d", c->nz);
    if (c->res != 64 && gt_model_opt(c, "gw3") > 0)
        return gt_set_error(GT_ERR_ARG, "dcgan: gw3 is a 64 px generator's fourth layer; this one is %d px", c->res);
    if (d_norm != GT_NORM_BATCH && d_norm != GT_NORM_LAYER && d_norm != GT_NORM_NONE)
        return gt_set_error(GT_ERR_ARG, "dcgan: d_norm must be batch, layer or none, got %d", d_norm);
    return GT_OK;
}

/* G's hidden layer i width: option gw<i> when set, else def (from ngf). */
static int gt__dc_gw(const gt_model_config *c, int i, int def) {
    char key[8];
    snprintf(key, sizeof key, "gw%d", i);
    int w = (int)gt_model_opt(c, key);
    return w > 0 ? w : def;
}

/* The layer plan: widths, kernels, strides and paddings for G or D. */
static void gt__dc_plan(const gt_model_config *c, gt_net_kind kind, gt__dcgan *m) {
    int L = c->res == 64 ? 4 : 3; /* up-sampling layers after the first */
    const int ngf = (int)gt_model_opt(c, "ngf"), ndf = (int)gt_model_opt(c, "ndf"), d_norm = (int)gt_model_opt(c, "d_norm");
    bool r28 = c->res == 28;
    m->n = L + 1;
    if (kind == GT_NET_G) {
        /* 1 -> 4 (3 at 28 px) -> 8 (7) -> ... -> res */
        for (int i = 0; i <= L; i++) {
            gt__dc_layer *l = &m->l[i];
            l->c_in = i == 0 ? c->nz : m->l[i - 1].c_out;
            l->c_out = i == L ? c->channels : gt__dc_gw(c, i, ngf << (L - 1 - i));
            l->k = 4, l->stride = i == 0 ? 1 : 2, l->pad = i == 0 ? 0 : 1;
            if (r28 && i <= 1) l->k = 3, l->pad = 0; /* 1 -> 3 -> 7 */
            l->bn = i < L;
            l->norm_kind = l->bn ? GT_NORM_BATCH : GT_NORM_NONE;
        }
    } else {
        /* res -> res/2 -> ... -> 4 (3 at 28 px) -> 1 */
        for (int i = 0; i <= L; i++) {
            gt__dc_layer *l = &m->l[i];
            l->c_in = i == 0 ? c->channels : ndf << (i - 1);
            l->c_out = i == L ? 1 : ndf << i;
            l->k = 4, l->stride = i == L ? 1 : 2, l->pad = i == L ? 0 : 1;
            if (r28 && i >= L - 1) l->k = 3, l->pad = 0; /* 7 -> 3 -> 1 */
            l->norm_kind = i > 0 && i < L ? d_norm : GT_NORM_NONE;
            l->bn = l->norm_kind == GT_NORM_BATCH;
        }
    }
}

/* GroupNorm(1, C): each sample normalized over (C, H, W), then a per-channel
 * affine; never depends on the other samples of the batch. */
static gt_tensor *gt__dc_ln(gt_nn_batch_norm *b, gt_tensor *x) {
    int64_t c = b->num_features;
    gt_tensor *y = gt_layer_norm(x, 3, NULL, NULL, b->eps); // (N, C, H, W)
    y = gt_mul(y, gt_reshape(b->weight, GT_SHAPE(c, 1, 1)));
    return gt_add(y, gt_reshape(b->bias, GT_SHAPE(c, 1, 1)));
}

static gt_tensor *gt__dc_forward(gt_net *net, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    (void)y; /* unconditional */
    gt__dcgan *m = net->impl;
    if (net->kind == GT_NET_G) {
        gt_tensor *h = gt_reshape(x, GT_SHAPE(x->shape[0], net->cfg.nz, 1, 1)); // (N, nz, 1, 1)
        for (int i = 0; i < m->n; i++) {
            gt__dc_layer *l = &m->l[i];
            h = gt_nn_conv_transpose2d_forward(&l->convt, h);
            h = l->bn ? gt_relu(gt_nn_batch_norm_forward_mode(&l->norm, h, (gt_layer_mode)mode)) : gt_tanh(h);
            if (l->bn) gt_net_tap(net, h);
        }
        return h; // (N, C, res, res)
    }
    gt_tensor *h = x;
    for (int i = 0; i < m->n; i++) {
        gt__dc_layer *l = &m->l[i];
        h = gt_nn_conv2d_forward(&l->conv, h);
        if (l->norm_kind == GT_NORM_BATCH) h = gt_nn_batch_norm_forward_mode(&l->norm, h, (gt_layer_mode)mode);
        else if (l->norm_kind == GT_NORM_LAYER) h = gt__dc_ln(&l->norm, h);
        if (i < m->n - 1) h = gt_leaky_relu(h, GT__LRELU_SLOPE), gt_net_tap(net, h);
    }
    return h ? gt_reshape(h, GT_SHAPE(-1)) : NULL; // (N)
}

static void gt__dc_momentum(gt_net *net, float momentum) {
    gt__dcgan *m = net->impl;
    for (int i = 0; i < m->n; i++)
        if (m->l[i].bn) m->l[i].norm.momentum = momentum;
}

static void gt__dc_free(gt_net *net) {
    free(net->impl);
    net->impl = NULL;
}

static const gt_net_ops gt__dc_ops = {gt__dc_forward, gt__dc_momentum, gt__dc_free};

/* Registers layer i's modules under main.<idx> and initialises them as the
 * DCGAN paper: conv weights N(0, 0.02); BN weight N(1, 0.02), bias 0; a
 * layer norm's weight 1, bias 0 (torch's GroupNorm init; no draws). */
static gt_status gt__dc_layer_init(gt__dc_layer *l, gt_net_kind kind, int idx, gt_params *P, gt_rng *r) {
    char name[64];
    snprintf(name, sizeof name, "main.%d", idx);
    gt_conv_params p = gt_conv_params_make(l->stride, l->pad);
    gt_status st;
    gt_tensor *w;
    if (kind == GT_NET_G) {
        st = gt_nn_conv_transpose2d_init(&l->convt, P, name, l->c_in, l->c_out, l->k, l->k, p, false, r);
        w = l->convt.weight;
    } else {
        st = gt_nn_conv2d_init(&l->conv, P, name, l->c_in, l->c_out, l->k, l->k, p, false, r);
        w = l->conv.weight;
    }
    if (st == GT_OK) st = gt_init_normal(w, r, 0.0f, 0.02f);
    if (st != GT_OK || l->norm_kind == GT_NORM_NONE) return st;
    snprintf(name, sizeof name, "main.%d", idx + 1);
    if (l->norm_kind == GT_NORM_LAYER) /* the affine weight and bias only: gt__dc_ln */
        return gt_nn_batch_norm_init(&l->norm, P, name, l->c_out, true, false);
    st = gt_nn_batch_norm_init(&l->norm, P, name, l->c_out, true, true);
    if (st == GT_OK) st = gt_init_normal(l->norm.weight, r, 1.0f, 0.02f);
    if (st == GT_OK) st = gt_init_constant(l->norm.bias, 0.0f);
    return st;
}

static gt_status gt__dc_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out) {
    gt__dcgan *m = calloc(1, sizeof *m);
    if (!m) return gt_set_error(GT_ERR_OOM, "dcgan: out of memory");
    out->impl = m;
    out->ops = &gt__dc_ops;
    gt__dc_plan(c, kind, m);
    /* Sequential indices: G layer = conv, bn, relu (3 entries; the last conv, tanh);
     * D layer 0 = conv, lrelu (2), then conv, norm, lrelu (3; conv, lrelu without a norm), the last conv. */
    int idx = 0;
    for (int i = 0; i < m->n; i++) {
        gt_status st = gt__dc_layer_init(&m->l[i], kind, idx, &out->P, r);
        if (st != GT_OK) return st;
        idx += m->l[i].norm_kind != GT_NORM_NONE ? 3 : 2;
    }
    return gt_params_finalize(&out->P);
}

/* G as a program: per layer a transposed conv, then the eval batch norm folded and ReLU (tanh last). */
static gt_status gt__dc_lower(const gt_net *G, gt_prog *p) {
    const gt__dcgan *m = G->impl;
    gt_prog_init(p, "dcgan", false, G->cfg.nz, 1, 1);
    for (int i = 0; i < m->n; i++) {
        const gt__dc_layer *l = &m->l[i];
        gt_status st = gt_prog_push_layer(p, GT_PROG_CONVT, l->c_in, l->c_out, l->k, l->stride, l->pad, 0,
                                          gt_data(l->convt.weight), NULL);
        if (st == GT_OK && l->bn)
            st = gt_prog_push_bn(p, l->c_out, gt_data(l->norm.weight), gt_data(l->norm.bias),
                                 gt_data(l->norm.running_mean), gt_data(l->norm.running_var), l->norm.eps);
        if (st == GT_OK && !gt_prog_push(p, l->bn ? GT_PROG_RELU : GT_PROG_TANH))
            st = gt_set_error(GT_ERR_OOM, "dcgan: out of memory");
        if (st != GT_OK) return st;
    }
    return gt_prog_finish(p);
}

/* G's groups: the output channels of each hidden layer i (option gw<i>): its transposed conv's
 * dim 1, its batch norm's four vectors, the next transposed conv's dim 0. */
static int gt__dc_groups(const gt_net *G, gt_channel_group *out, int max) {
    const gt__dcgan *m = G->impl;
    int n = 0;
    for (int i = 0; i < m->n - 1 && n < max; i++, n++) {
        gt_channel_group *g = &out[n];
        memset(g, 0, sizeof *g);
        snprintf(g->opt_key, sizeof g->opt_key, "gw%d", i);
        g->size = m->l[i].c_out;
        const int conv = 3 * i, bn = 3 * i + 1, next = 3 * (i + 1);
        snprintf(g->refs[g->n_refs].param, GT_PARAM_NAME_MAX, "main.%d.weight", conv), g->refs[g->n_refs++].dim = 1;
        static const char *const leaves[] = {"weight", "bias", "running_mean", "running_var"};
        for (int k = 0; k < 4; k++)
            snprintf(g->refs[g->n_refs].param, GT_PARAM_NAME_MAX, "main.%d.%s", bn, leaves[k]), g->refs[g->n_refs++].dim = 0;
        snprintf(g->refs[g->n_refs].param, GT_PARAM_NAME_MAX, "main.%d.weight", next), g->refs[g->n_refs++].dim = 0;
        g->producer = g->refs[0];
        snprintf(g->bn_weight, sizeof g->bn_weight, "main.%d.weight", bn);
    }
    return n;
}

const gt_model_entry gt_model_dcgan = {
    .name = "dcgan",
    .summary = "DCGAN (Radford et al.): transposed-conv + BN + ReLU generator, conv + BN (or d_norm layer/none) + "
               "LeakyReLU discriminator; 28/32/64 px",
    .defaults = gt__dc_defaults,
    .check = gt__dc_check,
    .build = gt__dc_build,
    .opts = gt__dc_opts,
    .n_opts = (int)(sizeof gt__dc_opts / sizeof gt__dc_opts[0]),
    .lower = gt__dc_lower,
    .channel_groups = gt__dc_groups,
};
