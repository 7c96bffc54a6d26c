/* R3GAN's baseline at 32 px ("The GAN is dead; long live the GAN!", Huang et
 * al. 2024), a simple version faithful in spirit: residual G and D without
 * any normalization (no BN, no spectral norm), leaky ReLU 0.2, nearest
 * upsampling and average pooling between stages, residual branches whose last
 * conv starts at zero (the paper's fix-up initialization: every block is the
 * identity at first), trained with the relativistic pairing loss and R1 + R2
 * (configs/r3gan.json).
 *
 * G: basis: a learned (ngf, 4, 4) constant times linear(z) per channel (R3GAN's
 * GenerativeBasis); four stages at 4, 8, 16, 32 px (nearest x2 before each but
 * the first) of n_blocks blocks x + conv2(lrelu(conv1(x))) (3x3, conv1 with a
 * bias, conv2 without); out: 1x1 conv -> channels, tanh.
 * D: extract: 1x1 conv channels -> ndf; four stages at 32, 16, 8, 4 px of the
 * same blocks, 2x2 average pooling after each but the last; basis: a depthwise
 * 4x4 conv (ndf, 1, 4, 4) to (ndf, 1, 1) and linear ndf -> 1 (R3GAN's
 * DiscriminativeBasis), neither with a bias.
 *
 * Simplified against the paper: plain 3x3 convs in two-layer branches instead
 * of its inverted bottlenecks (1x1 expand, grouped 3x3, 1x1) with grouped
 * convs; one width for every stage (the paper widens the low resolutions);
 * nearest / average resampling instead of its [1, 2, 1] low-pass filters;
 * biases in the branches' first convs instead of separate biased activations;
 * a tanh on G's output (gantry's G returns images in [-1, 1]; the paper's is
 * linear); the paper's schedules (gamma, lr and beta2 annealed) left to the
 * config.
 *
 * Names: G basis.weight, basis.linear.weight, stages.<s>.<b>.conv1.weight /
 * .bias, .conv2.weight, out.weight / .bias; D extract.*, stages.*, basis.weight,
 * linear.weight.
 * Initialization (R3GAN's MSRInitializer): weights N(0, gain^2 / fan_in), gain
 * 1 except the branches' first convs: sqrt(2 / (1 + 0.2^2)) * L^(-1/2), L the
 * blocks of the net (the paper's variance scaling for two-layer branches); the
 * branches' last convs 0; G's basis constant N(0, 1); biases 0. */
#include <math.h>
#include <string.h>

#include "gantry/layers.h"
#include "gantry/models.h"

#define GT__R3_STAGES 4 /* 4, 8, 16, 32 px */
#define GT__R3_MAX_BLOCKS 8
#define GT__R3_SLOPE 0.2f

typedef struct {
    gt_nn_conv2d conv1, conv2;
} gt__r3_block;

typedef struct {
    int ch, nb;
    gt__r3_block b[GT__R3_STAGES][GT__R3_MAX_BLOCKS];
    /* G */
    gt_tensor *basis; // (ngf, 4, 4)
    gt_nn_linear basis_linear;
    gt_nn_conv2d out;
    /* D */
    gt_nn_conv2d extract, dbasis;
    gt_nn_linear linear;
} gt__r3;

static const gt_model_opt_def gt__r3_opts[] = {
    {"ngf", GT_OPT_INT, 128, 1, 2048, NULL, "generator width: channels of every G stage", NAN},
    {"ndf", GT_OPT_INT, 128, 1, 2048, NULL, "discriminator width: channels of every D stage", NAN},
    {"n_blocks", GT_OPT_INT, 2, 1, GT__R3_MAX_BLOCKS, NULL, "residual blocks per stage (the paper's CIFAR nets: 2)",
     NAN},
};

static void gt__r3_defaults(gt_model_config *c) {
    if (!c->res) c->res = 32;
    if (!c->channels) c->channels = 3;
    if (!c->nz) c->nz = 128;
}

static gt_status gt__r3_check(const gt_model_config *c) {
    if (c->res != 32) return gt_set_error(GT_ERR_ARG, "r3gan: resolution %d is not supported (use 32)", c->res);
    if (c->channels != 1 && c->channels != 3)
        return gt_set_error(GT_ERR_ARG, "r3gan: channels must be 1 or 3, got %d", c->channels);
    if (c->nz < 1 || c->nz > 4096) return gt_set_error(GT_ERR_ARG, "r3gan: nz must be in 1..4096, got %d", c->nz);
    const int nb = (int)gt_model_opt(c, "n_blocks");
    if (nb < 1 || nb > GT__R3_MAX_BLOCKS)
        return gt_set_error(GT_ERR_ARG, "r3gan: n_blocks must be in 1..%d, got %d", GT__R3_MAX_BLOCKS, nb);
    return GT_OK;
}

/* --- forward --------------------------------------------------------------------- */
static gt_tensor *gt__r3_block_fwd(gt__r3_block *b, gt_tensor *x) {
    gt_tensor *h = gt_leaky_relu(gt_nn_conv2d_forward(&b->conv1, x), GT__R3_SLOPE);
    return gt_add(x, gt_nn_conv2d_forward(&b->conv2, h));
}

static gt_tensor *gt__r3_forward(gt_net *net, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    (void)y, (void)mode; /* unconditional; no batch norm, no spectral norm */
    gt__r3 *m = net->impl;
    const int64_t n = x->shape[0];
    if (net->kind == GT_NET_G) {
        gt_tensor *z = gt_reshape(x, GT_SHAPE(n, net->cfg.nz));
        gt_tensor *s = gt_reshape(gt_nn_linear_forward(&m->basis_linear, z), GT_SHAPE(n, m->ch, 1, 1));
        gt_tensor *h = gt_mul(gt_reshape(m->basis, GT_SHAPE(1, m->ch, 4, 4)), s); // (N, ngf, 4, 4)
        for (int st = 0; st < GT__R3_STAGES; st++) {
            if (st && h) h = gt_upsample_nearest2d(h, (int)h->shape[2] * 2, (int)h->shape[3] * 2);
            for (int i = 0; i < m->nb; i++) h = gt__r3_block_fwd(&m->b[st][i], h);
        }
        return gt_tanh(gt_nn_conv2d_forward(&m->out, h)); // (N, C, 32, 32)
    }
    gt_tensor *h = gt_nn_conv2d_forward(&m->extract, x);
    for (int st = 0; st < GT__R3_STAGES; st++) {
        for (int i = 0; i < m->nb; i++) h = gt__r3_block_fwd(&m->b[st][i], h);
        if (st < GT__R3_STAGES - 1) h = gt_avg_pool2d(h, 2, 2, 2, 2, 0, 0, false, true);
    }
    h = gt_reshape(gt_nn_conv2d_forward(&m->dbasis, h), GT_SHAPE(n, m->ch)); // (N, ndf)
    return gt_reshape(gt_nn_linear_forward(&m->linear, h), GT_SHAPE(n));      // (N)
}

static void gt__r3_free(gt_net *net) {
    free(net->impl);
    net->impl = NULL;
}

static const gt_net_ops gt__r3_ops = {gt__r3_forward, NULL, gt__r3_free};

/* --- build ------------------------------------------------------------------------ */
/* R3GAN's MSRInitializer: N(0, gain^2 / fan_in); the bias (if any) 0. */
static gt_status gt__msr(gt_tensor *w, gt_tensor *b, double gain, gt_rng *r) {
    int64_t fan_in = 0;
    gt_status st = gt_init_fans(w, &fan_in, NULL);
    if (st == GT_OK) st = gt_init_normal(w, r, 0.0f, (float)(gain / sqrt((double)fan_in)));
    if (st == GT_OK && b) st = gt_init_constant(b, 0.0f);
    return st;
}

static gt_status gt__r3_stages(gt__r3 *m, gt_params *P, gt_rng *r) {
    const gt_conv_params p = gt_conv_params_make(1, 1);
    const double gain = sqrt(2.0 / (1.0 + GT__R3_SLOPE * GT__R3_SLOPE)) / sqrt((double)(GT__R3_STAGES * m->nb));
    char name[64];
    gt_status st = GT_OK;
    for (int s = 0; s < GT__R3_STAGES; s++)
        for (int i = 0; i < m->nb && st == GT_OK; i++) {
            gt__r3_block *b = &m->b[s][i];
            snprintf(name, sizeof name, "stages.%d.%d.conv1", s, i);
            st = gt_nn_conv2d_init(&b->conv1, P, name, m->ch, m->ch, 3, 3, p, true, r);
            if (st == GT_OK) st = gt__msr(b->conv1.weight, b->conv1.bias, gain, r);
            snprintf(name, sizeof name, "stages.%d.%d.conv2", s, i);
            if (st == GT_OK) st = gt_nn_conv2d_init(&b->conv2, P, name, m->ch, m->ch, 3, 3, p, false, r);
            if (st == GT_OK) st = gt_init_constant(b->conv2.weight, 0.0f); /* fix-up: the block starts as x */
        }
    return st;
}

static gt_status gt__r3_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out) {
    gt__r3 *m = calloc(1, sizeof *m);
    if (!m) return gt_set_error(GT_ERR_OOM, "r3gan: out of memory");
    out->impl = m;
    out->ops = &gt__r3_ops;
    m->ch = (int)gt_model_opt(c, kind == GT_NET_G ? "ngf" : "ndf");
    m->nb = (int)gt_model_opt(c, "n_blocks");
    gt_params *P = &out->P;
    gt_status st;
    if (kind == GT_NET_G) {
        int mk = gt_scope_begin();
        m->basis = gt_layer_register(P, "basis", "weight", false, 3, (const int64_t[]){m->ch, 4, 4});
        st = m->basis ? gt_init_normal(m->basis, r, 0.0f, 1.0f) : gt_last_status();
        gt_scope_end(mk);
        if (st == GT_OK) st = gt_nn_linear_init(&m->basis_linear, P, "basis.linear", c->nz, m->ch, false, r);
        if (st == GT_OK) st = gt__msr(m->basis_linear.weight, NULL, 1.0, r);
        if (st == GT_OK) st = gt__r3_stages(m, P, r);
        if (st == GT_OK)
            st = gt_nn_conv2d_init(&m->out, P, "out", m->ch, c->channels, 1, 1, gt_conv_params_make(1, 0), true, r);
        if (st == GT_OK) st = gt__msr(m->out.weight, m->out.bias, 1.0, r);
    } else {
        st = gt_nn_conv2d_init(&m->extract, P, "extract", c->channels, m->ch, 1, 1, gt_conv_params_make(1, 0), true, r);
        if (st == GT_OK) st = gt__msr(m->extract.weight, m->extract.bias, 1.0, r);
        if (st == GT_OK) st = gt__r3_stages(m, P, r);
        gt_conv_params dw = gt_conv_params_make(1, 0);
        dw.groups = m->ch;
        if (st == GT_OK) st = gt_nn_conv2d_init(&m->dbasis, P, "basis", m->ch, m->ch, 4, 4, dw, false, r);
        if (st == GT_OK) st = gt__msr(m->dbasis.weight, NULL, 1.0, r);
        if (st == GT_OK) st = gt_nn_linear_init(&m->linear, P, "linear", m->ch, 1, false, r);
        if (st == GT_OK) st = gt__msr(m->linear.weight, NULL, 1.0, r);
    }
    return st == GT_OK ? gt_params_finalize(P) : st;
}

const gt_model_entry gt_model_r3gan = {
    .name = "r3gan",
    .summary = "R3GAN baseline (Huang et al. 2024), 32 px: normalization-free residual G and D (leaky ReLU, fix-up "
               "init); train with rpgan + r1 + r2",
    .defaults = gt__r3_defaults,
    .check = gt__r3_check,
    .build = gt__r3_build,
    .opts = gt__r3_opts,
    .n_opts = (int)(sizeof gt__r3_opts / sizeof gt__r3_opts[0]),
};
