/* The energy-based GANs, laid out as PyTorch-GAN's implementations (eriklindernoren/PyTorch-GAN,
 * implementations/ebgan and began) so parameter names match their state_dicts: D is an
 * autoencoder whose output is each image's energy, its reconstruction error; G is the
 * reference's generator (src/models/pygan.c).
 *   BEGAN (Berthelot et al. 2017): D: down.0 Conv3x3 stride 2 (C -> 64) + ReLU; fc.0 Linear(64 s s
 *     -> hidden), fc.1 BN1d, ReLU, fc.3 Linear(hidden -> 64 s s), fc.4 BN1d, ReLU; up: x2 nearest,
 *     up.1 Conv3x3(64 -> C). Energy: mean |D(x) - x| per image (s = res / 2). Loss: began.
 *   EBGAN (Zhao et al. 2017): D: down as BEGAN's; embedding Linear(64 s s -> hidden); fc.0 BN1d,
 *     ReLU, fc.2 Linear(hidden -> 64 s s), fc.3 BN1d, ReLU; up as BEGAN's. Energy: mean (D(x) - x)^2
 *     per image. Loss: ebgan, plus G's pulling-away term on the embeddings of the fakes
 *     (lambda_pt: the mean cosine similarity of distinct pairs, as the reference computes it).
 * Differences from the reference: BN eps 1e-5 (it passes 0.8 as eps for its momentum). */
#include <math.h>
#include <string.h>

#include "models_internal.h"

typedef struct {
    bool eb;                         /* EBGAN; else BEGAN */
    gt__pygan_g g;
    gt_nn_conv2d down, up;
    gt_nn_linear enc, dec;           /* fc.0 / embedding, fc.3 / fc.2 */
    gt_nn_batch_norm bn_h, bn_d;     /* fc.1 / fc.0 (hidden), fc.4 / fc.3 (64 s s) */
} gt__energy;

static const gt_model_opt_def gt__began_opts[] = {
    {"ngf", GT_OPT_INT, 128, 2, 1024, NULL, "generator width (channels after its linear layer)", NAN},
    {"hidden", GT_OPT_INT, 32, 1, 4096, NULL, "the autoencoder's code size", NAN},
};
static const gt_model_opt_def gt__ebgan_opts[] = {
    {"ngf", GT_OPT_INT, 128, 2, 1024, NULL, "generator width (channels after its linear layer)", NAN},
    {"hidden", GT_OPT_INT, 32, 1, 4096, NULL, "the autoencoder's embedding size", NAN},
    {"lambda_pt", GT_OPT_FLOAT, 0.1, 0, 100, NULL, "weight of the pulling-away term in G's loss", NAN},
};

static void gt__en_defaults(gt_model_config *c) {
    if (!c->res) c->res = 32;
    if (!c->channels) c->channels = 1;
    if (!c->nz) c->nz = 62; /* the reference's latent_dim */
}

static gt_status gt__en_check(const gt_model_config *c) {
    if (c->res != 28 && c->res != 32)
        return gt_set_error(GT_ERR_ARG, "%s: resolution %d is not supported (use 28 or 32)", c->name, c->res);
    if (c->channels != 1 && c->channels != 3)
        return gt_set_error(GT_ERR_ARG, "%s: channels must be 1 or 3, got %d", c->name, c->channels);
    if (c->nz < 1 || c->nz > 4096) return gt_set_error(GT_ERR_ARG, "%s: nz must be in 1..4096, got %d", c->name, c->nz);
    return GT_OK;
}

static gt_tensor *gt__en_forward(gt_net *net, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    gt__energy *m = net->impl;
    if (net->kind == GT_NET_G) return gt__pygan_g_forward(&m->g, x, y, mode);
    const gt_layer_mode lm = (gt_layer_mode)mode;
    const int64_t n = x->shape[0], s = net->cfg.res / 2;
    gt_tensor *h = gt_flatten(gt_relu(gt_nn_conv2d_forward(&m->down, x)), 1);
    gt_tensor *code = gt_nn_linear_forward(&m->enc, h);
    if (m->eb) net->aux = code; /* the embedding, for the pulling-away term */
    h = gt_relu(gt_nn_batch_norm_forward_mode(&m->bn_h, code, lm));
    h = gt_relu(gt_nn_batch_norm_forward_mode(&m->bn_d, gt_nn_linear_forward(&m->dec, h), lm));
    h = gt_upsample_nearest2d(gt_reshape(h, GT_SHAPE(n, 64, s, s)), 2 * s, 2 * s);
    gt_tensor *d = gt_sub(gt_nn_conv2d_forward(&m->up, h), x);
    d = m->eb ? gt_mul(d, d) : gt_abs(d);
    return gt_mean(gt_flatten(d, 1), 1, (int[]){1}, false); /* (N) energies */
}

static void gt__en_momentum(gt_net *net, float momentum) {
    gt__energy *m = net->impl;
    gt__pygan_g_momentum(&m->g, momentum);
    m->bn_h.momentum = m->bn_d.momentum = momentum;
}

static void gt__en_free(gt_net *net) {
    free(net->impl);
    net->impl = NULL;
}

static const gt_net_ops gt__en_ops = {gt__en_forward, gt__en_momentum, gt__en_free};

/* D: PyTorch's default init for every layer (the reference's weights_init_normal touches the
 * convs: N(0, 0.02), and BatchNorm2d, which D has none of). */
static gt_status gt__en_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out) {
    gt__energy *m = calloc(1, sizeof *m);
    if (!m) return gt_set_error(GT_ERR_OOM, "%s: out of memory", c->name);
    out->impl = m, out->ops = &gt__en_ops;
    m->eb = strcmp(c->name, "ebgan") == 0;
    gt_params *P = &out->P;
    gt_status st;
    if (kind == GT_NET_G) {
        st = gt__pygan_g_init(&m->g, P, c, (int)gt_model_opt(c, "ngf"), 0, r);
        return st == GT_OK ? gt_params_finalize(P) : st;
    }
    const int hidden = (int)gt_model_opt(c, "hidden"), s = c->res / 2, down = 64 * s * s;
    st = gt_nn_conv2d_init(&m->down, P, "down.0", c->channels, 64, 3, 3, gt_conv_params_make(2, 1), true, r);
    if (st == GT_OK) st = gt_init_normal(m->down.weight, r, 0.0f, 0.02f);
    if (st == GT_OK) st = gt_nn_linear_init(&m->enc, P, m->eb ? "embedding" : "fc.0", down, hidden, true, r);
    if (st == GT_OK) st = gt_nn_batch_norm_init(&m->bn_h, P, m->eb ? "fc.0" : "fc.1", hidden, true, true);
    if (st == GT_OK) st = gt_nn_linear_init(&m->dec, P, m->eb ? "fc.2" : "fc.3", hidden, down, true, r);
    if (st == GT_OK) st = gt_nn_batch_norm_init(&m->bn_d, P, m->eb ? "fc.3" : "fc.4", down, true, true);
    if (st == GT_OK) st = gt_nn_conv2d_init(&m->up, P, "up.1", 64, c->channels, 3, 3, gt_conv_params_make(1, 1), true, r);
    if (st == GT_OK) st = gt_init_normal(m->up.weight, r, 0.0f, 0.02f);
    return st == GT_OK ? gt_params_finalize(P) : st;
}

/* EBGAN's pulling-away term on the fakes' embeddings, G's loss only:
 * (sum of cos(e_i, e_j) over all i, j - N) / (N (N - 1)). */
static gt_tensor *gt__pt_loss(const gt_model_config *c, gt_tensor *aux, gt_tensor *z, gt_tensor *y, bool real,
                              bool for_g) {
    (void)z, (void)y;
    if (real || !for_g) return gt_zeros(0, NULL);
    if (!aux) return (gt_set_error(GT_ERR_ARG, "ebgan: the pulling-away term needs D's embeddings"), NULL);
    const int64_t n = aux->shape[0];
    if (n < 2) return gt_zeros(0, NULL);
    gt_tensor *norm = gt_sqrt(gt_sum(gt_mul(aux, aux), 1, (int[]){1}, true));
    gt_tensor *e = gt_div(aux, norm);
    gt_tensor *sim = gt_matmul(e, gt_transpose(e, 0, 1));
    gt_tensor *pt = gt_mul_scalar(gt_add_scalar(gt_sum_all(sim), -(float)n), 1.0f / (float)(n * (n - 1)));
    return gt_mul_scalar(pt, (float)gt_model_opt(c, "lambda_pt"));
}

const gt_model_entry gt_model_began = {
    .name = "began",
    .summary = "BEGAN (Berthelot et al.): an autoencoder D whose energy is the L1 reconstruction error, with "
               "the began loss's k_t control (PyTorch-GAN's layout); 28/32 px",
    .defaults = gt__en_defaults,
    .check = gt__en_check,
    .build = gt__en_build,
    .opts = gt__began_opts,
    .n_opts = (int)(sizeof gt__began_opts / sizeof gt__began_opts[0]),
    .d_energy = true,
};

const gt_model_entry gt_model_ebgan = {
    .name = "ebgan",
    .summary = "EBGAN (Zhao et al.): an autoencoder D whose energy is the squared reconstruction error, margin "
               "loss and the pulling-away term (PyTorch-GAN's layout); 28/32 px",
    .defaults = gt__en_defaults,
    .check = gt__en_check,
    .build = gt__en_build,
    .opts = gt__ebgan_opts,
    .n_opts = (int)(sizeof gt__ebgan_opts / sizeof gt__ebgan_opts[0]),
    .aux_loss = gt__pt_loss,
    .d_energy = true,
};
