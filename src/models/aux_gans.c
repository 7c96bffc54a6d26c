/* AC-GAN (Odena et al. 2017) and InfoGAN (Chen et al. 2016): GANs whose
 * discriminator has a second head, laid out as the PyTorch-GAN reference
 * implementations (eriklindernoren/PyTorch-GAN, implementations/acgan and
 * infogan), so parameter names match their state_dicts:
 *   G: [label_emb (AC-GAN: Embedding(K, nz), multiplied into z)] -> l1.0 Linear(nz, ngf*s*s)
 *      -> conv_blocks: 0 BN(ngf), 1 up x2, 2 Conv3x3(ngf, ngf), 3 BN, 4 LReLU(0.2), 5 up x2,
 *      6 Conv3x3(ngf, ngf/2), 7 BN, 8 LReLU(0.2), 9 Conv3x3(ngf/2, C), 10 tanh     (s = res / 4)
 *   D: conv_blocks: four Conv3x3 stride 2 (C -> ndf -> 2ndf -> 4ndf -> 8ndf) at indices 0, 3, 7, 11,
 *      each + LReLU(0.2), the last three + BN at 6, 10, 14; then on the flattened (8ndf * 2 * 2):
 *      adv_layer.0 Linear(-> 1) (the logit) and the second head:
 *        AC-GAN   aux_layer.0 Linear(-> K): class logits; loss CE on reals and fakes, G's on fakes;
 *        InfoGAN  aux_layer.0 Linear(-> n_cat) and latent_layer.0 Linear(-> n_cont): Q(c | x);
 *                 loss lambda_cat CE(categorical code) + lambda_cont MSE(continuous codes), on
 *                 the fakes, for D (Q) and for G.
 * Differences from the reference: no Dropout2d in D (the steps stay deterministic), batch-norm
 * eps 1e-5 (the reference passes 0.8 as BatchNorm2d's eps by mistake for its momentum), logits
 * instead of sigmoid / softmax outputs (the losses take logits), and InfoGAN's information loss
 * added to D's and G's losses instead of a third optimizer over both. */
#include <math.h>
#include <string.h>

#include "models_internal.h"

typedef struct {
    bool ac;                      /* AC-GAN; else InfoGAN */
    gt__pygan_g g;                /* G (models_internal.h) */
    gt_nn_conv2d dconv[4];        /* D: conv_blocks.0, .3, .7, .11 */
    gt_nn_batch_norm dbn[3];      /* D: conv_blocks.6, .10, .14 */
    gt_nn_linear adv, aux, latent; /* D's heads */
} gt__aux;

static const gt_model_opt_def gt__ac_opts[] = {
    {"ngf", GT_OPT_INT, 128, 2, 1024, NULL, "generator width (channels after its linear layer)", NAN},
    {"ndf", GT_OPT_INT, 16, 1, 256, NULL, "discriminator width (channels of its first conv; x2 per block)", NAN},
    {"aux_weight", GT_OPT_FLOAT, 1.0, 0, 100, NULL, "weight of the classifier's cross entropy", NAN},
};

static const gt_model_opt_def gt__info_opts[] = {
    {"ngf", GT_OPT_INT, 128, 2, 1024, NULL, "generator width (channels after its linear layer)", NAN},
    {"ndf", GT_OPT_INT, 16, 1, 256, NULL, "discriminator width (channels of its first conv; x2 per block)", NAN},
    {"n_cat", GT_OPT_INT, 10, 0, 1000, NULL, "categories of the categorical code (0 = none)", NAN},
    {"n_cont", GT_OPT_INT, 2, 0, 64, NULL, "continuous codes, each U[-1, 1]", NAN},
    {"lambda_cat", GT_OPT_FLOAT, 1.0, 0, 100, NULL, "weight of the categorical code's cross entropy", NAN},
    {"lambda_cont", GT_OPT_FLOAT, 0.1, 0, 100, NULL, "weight of the continuous codes' squared error", NAN},
};

static void gt__aux_defaults(gt_model_config *c) {
    if (!c->res) c->res = 32;
    if (!c->channels) c->channels = 1;
    if (!c->nz) c->nz = strcmp(c->name, "infogan") == 0 ? 74 : 100; /* InfoGAN's MNIST: 62 noise + 10 + 2 codes */
}

static gt_status gt__aux_check(const gt_model_config *c) {
    if (c->res != 28 && c->res != 32)
        return gt_set_error(GT_ERR_ARG, "%s: resolution %d is not supported (use 28 or 32)", c->name, c->res);
    if (c->channels != 1 && c->channels != 3)
        return gt_set_error(GT_ERR_ARG, "%s: channels must be 1 or 3, got %d", c->name, c->channels);
    if (c->nz < 1 || c->nz > 4096) return gt_set_error(GT_ERR_ARG, "%s: nz must be in 1..4096, got %d", c->name, c->nz);
    if (strcmp(c->name, "infogan") == 0) {
        int codes = (int)gt_model_opt(c, "n_cat") + (int)gt_model_opt(c, "n_cont");
        if (codes < 1) return gt_set_error(GT_ERR_ARG, "infogan: n_cat + n_cont must be at least 1 (a code to learn)");
        if (c->nz <= codes)
            return gt_set_error(GT_ERR_ARG, "infogan: nz %d holds the noise and the %d code values: it must exceed %d",
                                c->nz, codes, codes);
    }
    return GT_OK;
}

/* LeakyReLU(0.2) of the reference's blocks */
#define GT__LRELU 0.2f

static gt_tensor *gt__aux_forward(gt_net *net, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    gt__aux *m = net->impl;
    if (net->kind == GT_NET_G) return gt__pygan_g_forward(&m->g, x, y, mode);
    gt_tensor *h = x;
    for (int i = 0; i < 4; i++) {
        h = gt_leaky_relu(gt_nn_conv2d_forward(&m->dconv[i], h), GT__LRELU);
        if (i > 0) h = gt_nn_batch_norm_forward_mode(&m->dbn[i - 1], h, (gt_layer_mode)mode);
    }
    h = gt_flatten(h, 1);
    if (m->ac) net->aux = gt_nn_linear_forward(&m->aux, h); /* (N, K) */
    else {
        gt_tensor *parts[2];
        int n = 0;
        if (m->aux.weight) parts[n++] = gt_nn_linear_forward(&m->aux, h);        /* (N, n_cat) */
        if (m->latent.weight) parts[n++] = gt_nn_linear_forward(&m->latent, h);  /* (N, n_cont) */
        net->aux = n == 1 ? parts[0] : gt_concat(2, parts, 1);
    }
    if (!net->aux) return NULL;
    gt_tensor *out = gt_nn_linear_forward(&m->adv, h);
    return out ? gt_reshape(out, GT_SHAPE(-1)) : NULL;
}

static void gt__aux_momentum(gt_net *net, float momentum) {
    gt__aux *m = net->impl;
    gt__pygan_g_momentum(&m->g, momentum);
    for (int i = 0; i < 3; i++) m->dbn[i].momentum = momentum;
}

static void gt__aux_free(gt_net *net) {
    free(net->impl);
    net->impl = NULL;
}

static const gt_net_ops gt__aux_ops = {gt__aux_forward, gt__aux_momentum, gt__aux_free};

/* The reference's weights_init_normal: conv weights N(0, 0.02), BN weight N(1, 0.02) and bias 0; the
 * linear layers keep PyTorch's default init. */
static gt_status gt__aux_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out) {
    gt__aux *m = calloc(1, sizeof *m);
    if (!m) return gt_set_error(GT_ERR_OOM, "%s: out of memory", c->name);
    out->impl = m;
    out->ops = &gt__aux_ops;
    m->ac = strcmp(c->name, "acgan") == 0;
    const int ngf = (int)gt_model_opt(c, "ngf"), ndf = (int)gt_model_opt(c, "ndf");
    gt_params *P = &out->P;
    gt_status st = GT_OK;
    gt_conv_params p2 = gt_conv_params_make(2, 1);
    char name[64];
    if (kind == GT_NET_G) {
        st = gt__pygan_g_init(&m->g, P, c, ngf, m->ac ? c->n_classes : 0, r);
    } else {
        const int dconv_i[4] = {0, 3, 7, 11};
        for (int i = 0; i < 4 && st == GT_OK; i++) {
            int cin = i == 0 ? c->channels : ndf << (i - 1), cout = ndf << i;
            snprintf(name, sizeof name, "conv_blocks.%d", dconv_i[i]);
            st = gt_nn_conv2d_init(&m->dconv[i], P, name, cin, cout, 3, 3, p2, true, r);
            if (st == GT_OK) st = gt_init_normal(m->dconv[i].weight, r, 0.0f, 0.02f);
            if (st == GT_OK && i > 0) {
                snprintf(name, sizeof name, "conv_blocks.%d", dconv_i[i] + 3);
                st = gt_nn_batch_norm_init(&m->dbn[i - 1], P, name, cout, true, true);
                if (st == GT_OK) st = gt_init_normal(m->dbn[i - 1].weight, r, 1.0f, 0.02f);
            }
        }
        const int feat = (ndf << 3) * 2 * 2; /* 28 and 32 px both end at 2 x 2 */
        if (st == GT_OK) st = gt_nn_linear_init(&m->adv, P, "adv_layer.0", feat, 1, true, r);
        int n_cat = m->ac ? c->n_classes : (int)gt_model_opt(c, "n_cat"), n_cont = m->ac ? 0 : (int)gt_model_opt(c, "n_cont");
        if (st == GT_OK && n_cat > 0) st = gt_nn_linear_init(&m->aux, P, "aux_layer.0", feat, n_cat, true, r);
        if (st == GT_OK && n_cont > 0) st = gt_nn_linear_init(&m->latent, P, "latent_layer.0", feat, n_cont, true, r);
    }
    return st == GT_OK ? gt_params_finalize(P) : st;
}

/* --- AC-GAN's classifier loss ------------------------------------------------------------ */
static gt_tensor *gt__ac_loss(const gt_model_config *c, gt_tensor *aux, gt_tensor *z, gt_tensor *y, bool real,
                             bool for_g) {
    (void)z, (void)real, (void)for_g; /* the reals' classes and the fakes' alike, for D and for G */
    if (!aux || !y) return (gt_set_error(GT_ERR_ARG, "acgan: the classifier needs D's class logits and the labels"), NULL);
    return gt_mul_scalar(gt_cross_entropy(aux, y), (float)gt_model_opt(c, "aux_weight"));
}

/* --- InfoGAN's latents and information loss ------------------------------------------------ */
/* z = [noise N(0, 1) (nz - n_cat - n_cont) | one-hot category (n_cat) | U[-1, 1] codes (n_cont)] */
static gt_tensor *gt__info_latents(const gt_model_config *c, gt_rng *r, int64_t n) {
    const int n_cat = (int)gt_model_opt(c, "n_cat"), n_cont = (int)gt_model_opt(c, "n_cont"), nn = c->nz - n_cat - n_cont;
    gt_tensor *z = gt_randn(r, GT_SHAPE(n, c->nz));
    if (!z) return NULL;
    float *p = gt_data(z);
    for (int64_t i = 0; i < n; i++) {
        float *row = p + i * c->nz;
        if (n_cat > 0) {
            int k = (int)(((uint64_t)gt_rng_u32(r) * (uint64_t)n_cat) >> 32);
            for (int j = 0; j < n_cat; j++) row[nn + j] = j == k ? 1.0f : 0.0f;
        }
        if (n_cont > 0) gt_rng_uniform(r, row + nn + n_cat, n_cont, -1.0f, 1.0f);
    }
    return z;
}

static gt_tensor *gt__info_loss(const gt_model_config *c, gt_tensor *aux, gt_tensor *z, gt_tensor *y, bool real,
                               bool for_g) {
    (void)y, (void)for_g; /* Q with D, and G */
    if (real) return gt_zeros(0, NULL); /* the codes are the fakes' */
    if (!aux || !z) return (gt_set_error(GT_ERR_ARG, "infogan: the information loss needs Q's outputs and the codes"), NULL);
    const int n_cat = (int)gt_model_opt(c, "n_cat"), n_cont = (int)gt_model_opt(c, "n_cont"), nn = c->nz - n_cat - n_cont;
    const int64_t n = z->shape[0];
    gt_tensor *loss = gt_zeros(0, NULL);
    if (n_cat > 0) { /* the category's index from its one-hot columns */
        gt_tensor *k = gt_empty_i32(1, (int64_t[]){n});
        gt_tensor *zc = gt_contiguous(z);
        if (!k || !zc) return NULL;
        for (int64_t i = 0; i < n; i++) {
            const float *row = gt_data(zc) + i * c->nz + nn;
            int best = 0;
            for (int j = 1; j < n_cat; j++) best = row[j] > row[best] ? j : best;
            gt_data_i32(k)[i] = best;
        }
        gt_tensor *ce = gt_cross_entropy(gt_slice(aux, 1, 0, n_cat, 1), k);
        loss = gt_add(loss, gt_mul_scalar(ce, (float)gt_model_opt(c, "lambda_cat")));
    }
    if (n_cont > 0) {
        gt_tensor *target = gt_detach(gt_slice(z, 1, nn + n_cat, c->nz, 1));
        gt_tensor *mse = gt_mse_loss(gt_slice(aux, 1, n_cat, n_cat + n_cont, 1), target);
        loss = gt_add(loss, gt_mul_scalar(mse, (float)gt_model_opt(c, "lambda_cont")));
    }
    return loss;
}

const gt_model_entry gt_model_acgan = {
    .name = "acgan",
    .summary = "AC-GAN (Odena et al.): conditional G (label embedding times z), D with an auxiliary classifier "
               "(PyTorch-GAN's layout); 28/32 px",
    .defaults = gt__aux_defaults,
    .check = gt__aux_check,
    .build = gt__aux_build,
    .opts = gt__ac_opts,
    .n_opts = (int)(sizeof gt__ac_opts / sizeof gt__ac_opts[0]),
    .conditional = true,
    .aux_loss = gt__ac_loss,
};

const gt_model_entry gt_model_infogan = {
    .name = "infogan",
    .summary = "InfoGAN (Chen et al.): latent = noise + categorical + continuous codes, D's Q head recovers them "
               "(PyTorch-GAN's layout); 28/32 px",
    .defaults = gt__aux_defaults,
    .check = gt__aux_check,
    .build = gt__aux_build,
    .opts = gt__info_opts,
    .n_opts = (int)(sizeof gt__info_opts / sizeof gt__info_opts[0]),
    .sample_latents = gt__info_latents,
    .aux_loss = gt__info_loss,
};
