/* GAN losses (non-saturating BCE, hinge, Wasserstein) and WGAN-GP's gradient
 * penalty, written with differentiable ops. */
#include <string.h>

#include "gantry/train.h"

/* --- the losses: one row each ------------------------------------------------------------ */
/* D's loss is the sum of a term on real logits and one on fake logits (d_part); G's is on fakes. */
static gt_tensor *gt__ns_d(gt_tensor *l, bool real) { return gt_bce_with_logits(l, real ? gt_ones_like(l) : gt_zeros_like(l)); }
static gt_tensor *gt__ns_g(gt_tensor *f) { return gt_bce_with_logits(f, gt_ones_like(f)); }
static gt_tensor *gt__hinge_d(gt_tensor *l, bool real) {
    return gt_mean_all(gt_relu(real ? gt_rsub_scalar(l, 1.0f) : gt_add_scalar(l, 1.0f)));
}
static gt_tensor *gt__neg_mean(gt_tensor *f) { return gt_neg(gt_mean_all(f)); }
static gt_tensor *gt__wgan_d(gt_tensor *l, bool real) { return real ? gt_neg(gt_mean_all(l)) : gt_mean_all(l); }

static const gt_loss_def gt__losses[GT_LOSS_COUNT] = {
    [GT_LOSS_NS] = {"ns", "non-saturating (DCGAN): D BCE(D(x),1) + BCE(D(G(z)),0), G BCE(D(G(z)),1)", gt__ns_d,
                    gt__ns_g},
    [GT_LOSS_HINGE] = {"hinge", "hinge (SAGAN, BigGAN): D relu(1-D(x)) + relu(1+D(G(z))), G -D(G(z))", gt__hinge_d,
                       gt__neg_mean},
    [GT_LOSS_WGAN] = {"wgan", "Wasserstein: D D(G(z)) - D(x), G -D(G(z)); weight clipping, or a gradient penalty "
                              "(wgan-gp)",
                      gt__wgan_d, gt__neg_mean},
};

const gt_loss_def *gt_loss_def_get(gt_loss_kind k) { return (unsigned)k < GT_LOSS_COUNT ? &gt__losses[k] : NULL; }

const char *gt_loss_name(gt_loss_kind k) {
    return (unsigned)k < GT_LOSS_COUNT ? gt__losses[k].name : "?";
}

int gt_loss_parse(const char *s, double *gp) {
    if (!s) return -1;
    if (strcmp(s, "wgan-gp") == 0) {
        if (gp) *gp = 10.0;
        return GT_LOSS_WGAN;
    }
    for (int k = 0; k < GT_LOSS_COUNT; k++)
        if (strcmp(s, gt__losses[k].name) == 0) return k;
    if (strcmp(s, "bce") == 0) return GT_LOSS_NS;
    return -1;
}

static bool gt__logits_ok(const char *fn, gt_tensor *x) {
    if (!x) return false;
    if (x->ndim != 1) {
        char s[64];
        gt_set_error(GT_ERR_SHAPE, "%s: logits must be (N), got %s", fn, gt_shape_str(x, s, sizeof s));
        return false;
    }
    return true;
}

gt_tensor *gt_gan_loss_d_part(gt_loss_kind k, gt_tensor *logits, bool real) {
    if (!gt__logits_ok("gt_gan_loss_d_part", logits)) return NULL;
    const gt_loss_def *d = gt_loss_def_get(k);
    if (!d) return (gt_set_error(GT_ERR_ARG, "gt_gan_loss_d_part: unknown loss %d", (int)k), NULL);
    return d->d_part(logits, real);
}

gt_tensor *gt_gan_loss_d(gt_loss_kind k, gt_tensor *real, gt_tensor *fake) {
    if (!gt__logits_ok("gt_gan_loss_d", real) || !gt__logits_ok("gt_gan_loss_d", fake)) return NULL;
    return gt_add(gt_gan_loss_d_part(k, real, true), gt_gan_loss_d_part(k, fake, false));
}

gt_tensor *gt_gan_loss_g(gt_loss_kind k, gt_tensor *fake) {
    if (!gt__logits_ok("gt_gan_loss_g", fake)) return NULL;
    const gt_loss_def *d = gt_loss_def_get(k);
    if (!d) return (gt_set_error(GT_ERR_ARG, "gt_gan_loss_g: unknown loss %d", (int)k), NULL);
    return d->g(fake);
}

gt_tensor *gt_gradient_penalty(gt_net *D, gt_tensor *real, gt_tensor *fake, gt_rng *r) {
    if (!D || !real || !fake || !r) {
        gt_set_error(GT_ERR_ARG, "gt_gradient_penalty: NULL argument");
        return NULL;
    }
    if (!gt_same_shape(real, fake) || real->ndim != 4) {
        char a[64], b[64];
        gt_set_error(GT_ERR_SHAPE, "gt_gradient_penalty: real %s and fake %s must be the same (N, C, H, W)",
                     gt_shape_str(real, a, sizeof a), gt_shape_str(fake, b, sizeof b));
        return NULL;
    }
    int64_t n = real->shape[0];
    gt_tensor *e = gt_rand(r, GT_SHAPE(n, 1, 1, 1)); // (N, 1, 1, 1)
    gt_tensor *rd = gt_detach(real), *fd = gt_detach(fake);
    /* x_hat = fake + e * (real - fake): a fresh tensor that is a leaf for gt_grad */
    gt_tensor *xh = gt_add(fd, gt_mul(e, gt_sub(rd, fd)));
    if (!xh) return NULL;
    xh = gt_detach(xh);
    gt_set_requires_grad(xh, true);
    gt_tensor *out = gt_net_forward(D, xh, GT_BN_BATCH);
    if (!out) return NULL;
    gt_tensor *g = NULL;
    if (gt_grad(gt_sum_all(out), NULL, 1, &xh, &g, true) != GT_OK) return NULL;
    gt_tensor *norm = gt_sqrt(gt_add_scalar(gt_sum(gt_mul(g, g), 3, (int[]){1, 2, 3}, false), 1e-12f)); // (N)
    return gt_mean_all(gt_pow_scalar(gt_add_scalar(norm, -1.0f), 2.0f));
}
