/* pix2pix (Isola et al. 2017), as junyanz/pytorch-CycleGAN-and-pix2pix builds it, adapted to 28 and
 * 32 px: G is its ResnetGenerator with 2 down-samplings, D its PatchGAN NLayerDiscriminator on the
 * input and output concatenated on channels. Parameter names follow the PyTorch state_dicts:
 *   G  model.1 stem conv (7x7 after ReflectionPad2d(3)), model.2 its norm;
 *      model.4 / model.7 the down-sampling convs (3x3 s2 p1), model.5 / model.8 their norms;
 *      model.<10+b>.conv_block.{1,5} block b's convs (3x3 after ReflectionPad2d(1)), .{2,6} their norms;
 *      model.<10+nb> / model.<13+nb> the up-sampling ConvTranspose2d (3x3 s2 p1 out_pad 1),
 *      model.<11+nb> / model.<14+nb> their norms; model.<17+nb> the last 7x7 conv (bias), then tanh.
 *   D  model.0 conv 4x4 s2 p1 (bias) + LeakyReLU(0.2); then per layer model.<3i-1> conv, model.<3i> norm,
 *      LeakyReLU; the last conv 4x4 s1 p1 -> 1 channel: (N, P) patch logits.
 * Instance norm (default) is nn.InstanceNorm2d(affine False): no parameters, so the convs before it
 * have biases; batch norm is nn.BatchNorm2d (weight, bias, running statistics) and those convs have
 * none. Init as pix2pix's init_weights('normal', 0.02): conv weights N(0, 0.02), biases 0, batch norm
 * weights N(1, 0.02), biases 0. Reflection padding is a composition of slices and a concat
 * (gt__reflect_pad2d), so its gradient is the engine's. */
#include <math.h>
#include <string.h>

#include "gantry/compress.h"
#include "gantry/layers.h"
#include "gantry/models.h"

#define GT__P2_MAX_BLOCKS 9
#define GT__P2_MAX_DLAYERS 5
#define GT__P2_EPS 1e-5f
#define GT__P2_SLOPE 0.2f

enum { GT__P2_INSTANCE = 0, GT__P2_BATCH = 1 };

typedef struct {
    int cin, cout, k, stride, pad, out_pad;
    int reflect;          /* reflection padding before a pad-0 conv (0: none; then pad is zero padding) */
    bool transposed, norm, bias;
    gt_nn_conv2d conv;
    gt_nn_conv_transpose2d convt;
    gt_nn_batch_norm bn;  /* batch norm only */
} gt__p2_unit;

typedef struct {
    int norm;             /* GT__P2_INSTANCE / GT__P2_BATCH */
    int nb;               /* residual blocks (G) */
    int n;                /* units */
    gt__p2_unit u[6 + 2 * GT__P2_MAX_BLOCKS];
} gt__p2;

static const char *const gt__p2_norms[] = {"instance", "batch", NULL};

static const gt_model_opt_def gt__p2_opts[] = {
    {"ngf", GT_OPT_INT, 16, 1, 1024, NULL, "generator width (the stem's channels; ngf*4 in the residual blocks)", NAN},
    {"ndf", GT_OPT_INT, 16, 1, 1024, NULL, "discriminator width (channels of its first layer)", NAN},
    {"n_blocks", GT_OPT_INT, 6, 0, GT__P2_MAX_BLOCKS, NULL, "residual blocks of the generator", NAN},
    {"n_layers", GT_OPT_INT, 2, 1, 3, NULL, "the PatchGAN discriminator's stride-2 layers", NAN},
    {"norm", GT_OPT_ENUM, GT__P2_INSTANCE, 0, 0, gt__p2_norms,
     "instance (InstanceNorm2d, no affine; convs with biases) or batch (BatchNorm2d), in G and D", NAN},
    {"lambda_l1", GT_OPT_FLOAT, 100, 0, 1e6, NULL, "training: the weight of G's L1 term (pix2pix's lambda_L1)", NAN},
    {"w_stem", GT_OPT_INT, 0, 0, 4096, NULL, "G's stem width (0: ngf); set by pruning", NAN},
    {"w_down1", GT_OPT_INT, 0, 0, 4096, NULL, "G's first down-sampling width (0: ngf*2)", NAN},
    {"w_down2", GT_OPT_INT, 0, 0, 4096, NULL, "G's residual stream width (0: ngf*4)", NAN},
    {"w_block0", GT_OPT_INT, 0, 0, 4096, NULL, "block 0's middle width (0: ngf*4)", NAN},
    {"w_block1", GT_OPT_INT, 0, 0, 4096, NULL, "block 1's middle width (0: ngf*4)", NAN},
    {"w_block2", GT_OPT_INT, 0, 0, 4096, NULL, "block 2's middle width (0: ngf*4)", NAN},
    {"w_block3", GT_OPT_INT, 0, 0, 4096, NULL, "block 3's middle width (0: ngf*4)", NAN},
    {"w_block4", GT_OPT_INT, 0, 0, 4096, NULL, "block 4's middle width (0: ngf*4)", NAN},
    {"w_block5", GT_OPT_INT, 0, 0, 4096, NULL, "block 5's middle width (0: ngf*4)", NAN},
    {"w_block6", GT_OPT_INT, 0, 0, 4096, NULL, "block 6's middle width (0: ngf*4)", NAN},
    {"w_block7", GT_OPT_INT, 0, 0, 4096, NULL, "block 7's middle width (0: ngf*4)", NAN},
    {"w_block8", GT_OPT_INT, 0, 0, 4096, NULL, "block 8's middle width (0: ngf*4)", NAN},
    {"w_up1", GT_OPT_INT, 0, 0, 4096, NULL, "G's first up-sampling width (0: ngf*2)", NAN},
    {"w_up2", GT_OPT_INT, 0, 0, 4096, NULL, "G's second up-sampling width (0: ngf)", NAN},
};

static void gt__p2_defaults(gt_model_config *c) {
    if (!c->res) c->res = 28;
    if (!c->channels) c->channels = 1;
    if (!c->nz) c->nz = 1; /* unused: the input is an image */
}

static int gt__p2_w(const gt_model_config *c, const char *key, int def) {
    int w = (int)gt_model_opt(c, key);
    return w > 0 ? w : def;
}

static gt_status gt__p2_check(const gt_model_config *c) {
    if (c->res != 28 && c->res != 32)
        return gt_set_error(GT_ERR_ARG, "pix2pix: resolution %d is not supported (use 28 or 32)", c->res);
    if (c->channels != 1 && c->channels != 3)
        return gt_set_error(GT_ERR_ARG, "pix2pix: channels must be 1 or 3, got %d", c->channels);
    if (c->n_classes != 0)
        return gt_set_error(GT_ERR_ARG, "pix2pix: the translator takes no classes (n_classes %d)", c->n_classes);
    int nb = (int)gt_model_opt(c, "n_blocks");
    for (int b = nb; b < GT__P2_MAX_BLOCKS; b++) {
        char key[24];
        snprintf(key, sizeof key, "w_block%d", b);
        if (gt_model_opt(c, key) > 0)
            return gt_set_error(GT_ERR_ARG, "pix2pix: %s is set, but the generator has %d residual blocks", key, nb);
    }
    return GT_OK;
}

static void gt__p2_unit_set(gt__p2_unit *u, int cin, int cout, int k, int stride, int pad, int reflect, bool tr,
                            bool norm, int norm_kind) {
    memset(u, 0, sizeof *u);
    u->cin = cin, u->cout = cout, u->k = k, u->stride = stride, u->pad = pad, u->reflect = reflect;
    u->transposed = tr, u->norm = norm;
    u->out_pad = tr ? 1 : 0;
    u->bias = !norm || norm_kind == GT__P2_INSTANCE;
}

/* The units of G or D in order (G: stem, down1, down2, block convs, up1, up2, last). */
static void gt__p2_plan(const gt_model_config *c, gt_net_kind kind, gt__p2 *m) {
    const int ngf = (int)gt_model_opt(c, "ngf"), ndf = (int)gt_model_opt(c, "ndf");
    const int nk = (int)gt_model_opt(c, "norm");
    m->norm = nk;
    m->n = 0;
    if (kind == GT_NET_G) {
        const int nb = (int)gt_model_opt(c, "n_blocks");
        const int ws = gt__p2_w(c, "w_stem", ngf), w1 = gt__p2_w(c, "w_down1", 2 * ngf);
        const int w2 = gt__p2_w(c, "w_down2", 4 * ngf);
        const int u1 = gt__p2_w(c, "w_up1", 2 * ngf), u2 = gt__p2_w(c, "w_up2", ngf);
        m->nb = nb;
        gt__p2_unit_set(&m->u[m->n++], c->channels, ws, 7, 1, 0, 3, false, true, nk);
        gt__p2_unit_set(&m->u[m->n++], ws, w1, 3, 2, 1, 0, false, true, nk);
        gt__p2_unit_set(&m->u[m->n++], w1, w2, 3, 2, 1, 0, false, true, nk);
        for (int b = 0; b < nb; b++) {
            char key[24];
            snprintf(key, sizeof key, "w_block%d", b);
            const int wb = gt__p2_w(c, key, 4 * ngf);
            gt__p2_unit_set(&m->u[m->n++], w2, wb, 3, 1, 0, 1, false, true, nk);
            gt__p2_unit_set(&m->u[m->n++], wb, w2, 3, 1, 0, 1, false, true, nk);
        }
        gt__p2_unit_set(&m->u[m->n++], w2, u1, 3, 2, 1, 0, true, true, nk);
        gt__p2_unit_set(&m->u[m->n++], u1, u2, 3, 2, 1, 0, true, true, nk);
        gt__p2_unit_set(&m->u[m->n++], u2, c->channels, 7, 1, 0, 3, false, false, nk);
    } else {
        const int nl = (int)gt_model_opt(c, "n_layers");
        int prev = 1, mult = 1;
        gt__p2_unit_set(&m->u[m->n++], 2 * c->channels, ndf, 4, 2, 1, 0, false, false, nk);
        for (int i = 1; i < nl; i++) {
            prev = mult, mult = (1 << i) < 8 ? 1 << i : 8;
            gt__p2_unit_set(&m->u[m->n++], ndf * prev, ndf * mult, 4, 2, 1, 0, false, true, nk);
        }
        prev = mult, mult = (1 << nl) < 8 ? 1 << nl : 8;
        gt__p2_unit_set(&m->u[m->n++], ndf * prev, ndf * mult, 4, 1, 1, 0, false, true, nk);
        gt__p2_unit_set(&m->u[m->n++], ndf * mult, 1, 4, 1, 1, 0, false, false, nk);
    }
}

/* nn.ReflectionPad2d(p) on (N, C, H, W) as slices and concats (differentiable; p < H, W):
 * the side's columns p..1 in front, W-2..W-1-p behind, then the same on rows. */
gt_tensor *gt__reflect_pad2d(gt_tensor *x, int p) {
    if (!x || p <= 0) return x;
    if (x->ndim != 4 || p >= x->shape[2] || p >= x->shape[3]) {
        gt_set_error(GT_ERR_SHAPE, "reflection padding %d needs a (N, C, H, W) input with H, W > %d", p, p);
        return NULL;
    }
    gt_tensor *h = x;
    for (int dim = 3; dim >= 2; dim--) {
        const int64_t n = h->shape[dim];
        gt_tensor *parts[2 * 8 + 1];
        int k = 0;
        for (int i = p; i >= 1; i--) parts[k++] = gt_slice(h, dim, i, i + 1, 1);
        parts[k++] = h;
        for (int i = 1; i <= p; i++) parts[k++] = gt_slice(h, dim, n - 1 - i, n - i, 1);
        h = gt_concat(k, parts, dim);
        if (!h) return NULL;
    }
    return h;
}

static gt_tensor *gt__p2_unit_fwd(gt__p2_unit *u, int norm_kind, gt_tensor *h, gt_bn_mode mode) {
    if (u->reflect) h = gt__reflect_pad2d(h, u->reflect);
    h = u->transposed ? gt_nn_conv_transpose2d_forward(&u->convt, h) : gt_nn_conv2d_forward(&u->conv, h);
    if (!u->norm || !h) return h;
    if (norm_kind == GT__P2_BATCH) return gt_nn_batch_norm_forward_mode(&u->bn, h, (gt_layer_mode)mode);
    return gt_instance_norm(h, NULL, NULL, GT__P2_EPS);
}

static gt_tensor *gt__p2_forward(gt_net *net, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    (void)y;
    gt__p2 *m = net->impl;
    gt_tensor *h = x;
    if (net->kind == GT_NET_G) {
        int i = 0;
        for (; i < 3; i++) h = gt_relu(gt__p2_unit_fwd(&m->u[i], m->norm, h, mode)), gt_net_tap(net, h);
        for (int b = 0; b < m->nb; b++, i += 2) {
            gt_tensor *r = gt_relu(gt__p2_unit_fwd(&m->u[i], m->norm, h, mode));
            h = gt_add(h, gt__p2_unit_fwd(&m->u[i + 1], m->norm, r, mode));
            gt_net_tap(net, h);
        }
        for (int k = 0; k < 2; k++, i++) h = gt_relu(gt__p2_unit_fwd(&m->u[i], m->norm, h, mode)), gt_net_tap(net, h);
        return gt_tanh(gt__p2_unit_fwd(&m->u[i], m->norm, h, mode)); // (N, C, res, res)
    }
    for (int i = 0; i < m->n; i++) {
        h = gt__p2_unit_fwd(&m->u[i], m->norm, h, mode);
        if (i < m->n - 1) h = gt_leaky_relu(h, GT__P2_SLOPE), gt_net_tap(net, h);
    }
    return h ? gt_flatten(h, 1) : NULL; // (N, P)
}

static void gt__p2_momentum(gt_net *net, float momentum) {
    gt__p2 *m = net->impl;
    for (int i = 0; i < m->n; i++)
        if (m->u[i].norm && m->norm == GT__P2_BATCH) m->u[i].bn.momentum = momentum;
}

static void gt__p2_free(gt_net *net) {
    free(net->impl);
    net->impl = NULL;
}

static const gt_net_ops gt__p2_ops = {gt__p2_forward, gt__p2_momentum, gt__p2_free};

/* Sequential names of G's unit i ("model.1", "model.10.conv_block.5") and its norm's. */
static void gt__p2_names(const gt__p2 *m, gt_net_kind kind, int i, char *conv, char *norm, size_t n) {
    if (kind == GT_NET_D) {
        int idx = i == 0 ? 0 : 3 * i - 1;
        snprintf(conv, n, "model.%d", idx), snprintf(norm, n, "model.%d", idx + 1);
        return;
    }
    const int nb = m->nb;
    if (i < 3) {
        static const int ci[3] = {1, 4, 7};
        snprintf(conv, n, "model.%d", ci[i]), snprintf(norm, n, "model.%d", ci[i] + 1);
    } else if (i < 3 + 2 * nb) {
        int b = (i - 3) / 2, second = (i - 3) % 2;
        snprintf(conv, n, "model.%d.conv_block.%d", 10 + b, second ? 5 : 1);
        snprintf(norm, n, "model.%d.conv_block.%d", 10 + b, second ? 6 : 2);
    } else {
        int k = i - 3 - 2 * nb; /* 0 up1, 1 up2, 2 last */
        int idx = k == 2 ? 17 + nb : 10 + nb + 3 * k;
        snprintf(conv, n, "model.%d", idx), snprintf(norm, n, "model.%d", idx + 1);
    }
}

static gt_status gt__p2_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out) {
    gt__p2 *m = calloc(1, sizeof *m);
    if (!m) return gt_set_error(GT_ERR_OOM, "pix2pix: out of memory");
    out->impl = m;
    out->ops = &gt__p2_ops;
    gt__p2_plan(c, kind, m);
    for (int i = 0; i < m->n; i++) {
        gt__p2_unit *u = &m->u[i];
        char conv[40], norm[40];
        gt__p2_names(m, kind, i, conv, norm, sizeof conv);
        gt_conv_params p = gt_conv_params_make(u->stride, u->pad);
        gt_status st;
        gt_tensor *w, *b;
        if (u->transposed) {
            p.out_pad_h = p.out_pad_w = u->out_pad;
            st = gt_nn_conv_transpose2d_init(&u->convt, &out->P, conv, u->cin, u->cout, u->k, u->k, p, u->bias, r);
            w = u->convt.weight, b = u->convt.bias;
        } else {
            st = gt_nn_conv2d_init(&u->conv, &out->P, conv, u->cin, u->cout, u->k, u->k, p, u->bias, r);
            w = u->conv.weight, b = u->conv.bias;
        }
        if (st == GT_OK) st = gt_init_normal(w, r, 0.0f, 0.02f);
        if (st == GT_OK && b) st = gt_init_constant(b, 0.0f);
        if (st == GT_OK && u->norm && m->norm == GT__P2_BATCH) {
            st = gt_nn_batch_norm_init(&u->bn, &out->P, norm, u->cout, true, true);
            if (st == GT_OK) st = gt_init_normal(u->bn.weight, r, 1.0f, 0.02f);
            if (st == GT_OK) st = gt_init_constant(u->bn.bias, 0.0f);
        }
        if (st != GT_OK) return st;
    }
    return gt_params_finalize(&out->P);
}

/* --- lowering: G as a program of plain layers ----------------------------------------------- */
static gt_status gt__p2_lower_unit(const gt__p2 *m, const gt__p2_unit *u, gt_prog *p, gt_prog_kind act) {
    const float *w = gt_data(u->transposed ? u->convt.weight : u->conv.weight);
    const gt_tensor *bt = u->transposed ? u->convt.bias : u->conv.bias;
    gt_status st = gt_prog_push_layer(p, u->transposed ? GT_PROG_CONVT : GT_PROG_CONV, u->cin, u->cout, u->k, u->stride,
                                      u->reflect ? u->reflect : u->pad, u->out_pad, w, bt ? gt_data(bt) : NULL);
    if (st != GT_OK) return st;
    if (u->reflect) p->ops[p->n - 1].pad_reflect = true;
    if (u->norm && m->norm == GT__P2_BATCH) {
        st = gt_prog_push_bn(p, u->cout, gt_data(u->bn.weight), gt_data(u->bn.bias), gt_data(u->bn.running_mean),
                             gt_data(u->bn.running_var), u->bn.eps);
        if (st != GT_OK) return st;
    } else if (u->norm) {
        gt_prog_op *o = gt_prog_push(p, GT_PROG_INORM);
        if (!o) return gt_set_error(GT_ERR_OOM, "pix2pix: out of memory");
        o->cin = o->cout = u->cout, o->eps = GT__P2_EPS;
    }
    if (act != GT_PROG_COUNT && !gt_prog_push(p, act)) return gt_set_error(GT_ERR_OOM, "pix2pix: out of memory");
    return GT_OK;
}

static gt_status gt__p2_lower(const gt_net *G, gt_prog *p) {
    const gt__p2 *m = G->impl;
    const gt_model_config *c = &G->cfg;
    gt_prog_init(p, "pix2pix", true, c->channels, c->res, c->res);
    gt_status st = GT_OK;
    int i = 0;
    for (; i < 3 && st == GT_OK; i++) st = gt__p2_lower_unit(m, &m->u[i], p, GT_PROG_RELU);
    for (int b = 0; b < m->nb && st == GT_OK; b++, i += 2) {
        if (!gt_prog_push(p, GT_PROG_SAVE)) return gt_set_error(GT_ERR_OOM, "pix2pix: out of memory");
        st = gt__p2_lower_unit(m, &m->u[i], p, GT_PROG_RELU);
        if (st == GT_OK) st = gt__p2_lower_unit(m, &m->u[i + 1], p, GT_PROG_COUNT);
        if (st == GT_OK && !gt_prog_push(p, GT_PROG_ADD)) st = gt_set_error(GT_ERR_OOM, "pix2pix: out of memory");
    }
    for (int k = 0; k < 2 && st == GT_OK; k++, i++) st = gt__p2_lower_unit(m, &m->u[i], p, GT_PROG_RELU);
    if (st == GT_OK) st = gt__p2_lower_unit(m, &m->u[i], p, GT_PROG_TANH);
    return st == GT_OK ? gt_prog_finish(p) : st;
}

/* --- channel groups (pruning) ----------------------------------------------------------------- */
static bool gt__p2_ref(gt_channel_group *g, const char *prefix, const char *leaf, int dim) {
    if (g->n_refs == GT_GROUP_REFS_MAX) return false;
    snprintf(g->refs[g->n_refs].param, GT_PARAM_NAME_MAX, "%s.%s", prefix, leaf);
    g->refs[g->n_refs++].dim = dim;
    return true;
}

/* Unit i's outputs: its weight (dim 0, a transposed conv's dim 1), bias, norm's vectors. */
static bool gt__p2_out_refs(const gt__p2 *m, int i, gt_channel_group *g, bool producer) {
    char conv[40], norm[40];
    gt__p2_names(m, GT_NET_G, i, conv, norm, sizeof conv);
    const gt__p2_unit *u = &m->u[i];
    bool ok = gt__p2_ref(g, conv, "weight", u->transposed ? 1 : 0);
    if (producer) g->producer = g->refs[g->n_refs - 1];
    if (ok && u->bias) ok = gt__p2_ref(g, conv, "bias", 0);
    if (ok && u->norm && m->norm == GT__P2_BATCH) {
        static const char *const leaves[] = {"weight", "bias", "running_mean", "running_var"};
        for (int k = 0; k < 4 && ok; k++) ok = gt__p2_ref(g, norm, leaves[k], 0);
        if (producer) snprintf(g->bn_weight, sizeof g->bn_weight, "%s.weight", norm);
    }
    return ok;
}

/* Unit i's inputs: its weight's dim 1 (a transposed conv's dim 0). */
static bool gt__p2_in_ref(const gt__p2 *m, int i, gt_channel_group *g) {
    char conv[40], norm[40];
    gt__p2_names(m, GT_NET_G, i, conv, norm, sizeof conv);
    return gt__p2_ref(g, conv, "weight", m->u[i].transposed ? 0 : 1);
}

static int gt__p2_groups(const gt_net *G, gt_channel_group *out, int max) {
    const gt__p2 *m = G->impl;
    const int nb = m->nb, up1 = 3 + 2 * nb;
    int n = 0;
    /* (option, producing unit, consuming unit) for stem, down1, up1, up2; down2 and blocks apart */
    struct { const char *key; int prod, cons; } simple[] = {{"w_stem", 0, 1}, {"w_down1", 1, 2}};
    for (int s = 0; s < 2 && n < max; s++, n++) {
        gt_channel_group *g = &out[n];
        memset(g, 0, sizeof *g);
        snprintf(g->opt_key, sizeof g->opt_key, "%s", simple[s].key);
        g->size = m->u[simple[s].prod].cout;
        gt__p2_out_refs(m, simple[s].prod, g, true);
        gt__p2_in_ref(m, simple[s].cons, g);
    }
    if (n < max) { /* the residual stream: down2's outputs, every block's input and output, up1's input */
        gt_channel_group *g = &out[n++];
        memset(g, 0, sizeof *g);
        snprintf(g->opt_key, sizeof g->opt_key, "w_down2");
        g->size = m->u[2].cout;
        bool ok = gt__p2_out_refs(m, 2, g, true);
        for (int b = 0; b < nb && ok; b++)
            ok = gt__p2_in_ref(m, 3 + 2 * b, g) && gt__p2_out_refs(m, 4 + 2 * b, g, false);
        if (ok) ok = gt__p2_in_ref(m, up1, g);
        if (!ok)
            return gt_set_error(GT_ERR_ARG, "pix2pix: the residual stream indexes more than %d tensors (%d blocks with "
                                            "batch norm); use fewer blocks to prune it", GT_GROUP_REFS_MAX, nb), -1;
    }
    for (int b = 0; b < nb && n < max; b++, n++) {
        gt_channel_group *g = &out[n];
        memset(g, 0, sizeof *g);
        snprintf(g->opt_key, sizeof g->opt_key, "w_block%d", b);
        g->size = m->u[3 + 2 * b].cout;
        gt__p2_out_refs(m, 3 + 2 * b, g, true);
        gt__p2_in_ref(m, 4 + 2 * b, g);
    }
    struct { const char *key; int prod, cons; } ups[] = {{"w_up1", up1, up1 + 1}, {"w_up2", up1 + 1, up1 + 2}};
    for (int s = 0; s < 2 && n < max; s++, n++) {
        gt_channel_group *g = &out[n];
        memset(g, 0, sizeof *g);
        snprintf(g->opt_key, sizeof g->opt_key, "%s", ups[s].key);
        g->size = m->u[ups[s].prod].cout;
        gt__p2_out_refs(m, ups[s].prod, g, true);
        gt__p2_in_ref(m, ups[s].cons, g);
    }
    return n;
}

const gt_model_entry gt_model_pix2pix = {
    .name = "pix2pix",
    .summary = "pix2pix translator (Isola et al.): ResNet generator (reflection pads, instance or batch norm), "
               "PatchGAN discriminator on input|output; 28/32 px",
    .defaults = gt__p2_defaults,
    .check = gt__p2_check,
    .build = gt__p2_build,
    .opts = gt__p2_opts,
    .n_opts = (int)(sizeof gt__p2_opts / sizeof gt__p2_opts[0]),
    .translator = true,
    .lower = gt__p2_lower,
    .channel_groups = gt__p2_groups,
};
