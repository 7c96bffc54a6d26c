/* GAN losses and D's regularizers, written with differentiable ops: one row
 * each in the tables below (gantry/train.h says what each computes). */
#include <math.h>
#include <string.h>

#include "gantry/train.h"

/* --- the losses: one row each ------------------------------------------------------------ */
/* BCE against a constant target t: the D terms of ns and minimax (t = 1 - label smoothing). */
static gt_tensor *gt__bce_d(gt_tensor *l, bool real, float t) {
    return gt_bce_with_logits(l, real ? gt_mul_scalar(gt_ones_like(l), t) : gt_zeros_like(l));
}
static gt_tensor *gt__ns_g(gt_tensor *f) { return gt_bce_with_logits(f, gt_ones_like(f)); }
/* log(1 - sigmoid(f)) = -softplus(f): the saturating G loss */
static gt_tensor *gt__minimax_g(gt_tensor *f) { return gt_neg(gt_mean_all(gt_softplus(f, 1.0f, 20.0f))); }
static gt_tensor *gt__ls_d(gt_tensor *l, bool real, float t) {
    (void)t;
    gt_tensor *d = real ? gt_add_scalar(l, -1.0f) : l;
    return gt_mul_scalar(gt_mean_all(gt_mul(d, d)), 0.5f);
}
static gt_tensor *gt__ls_g(gt_tensor *f) {
    gt_tensor *d = gt_add_scalar(f, -1.0f);
    return gt_mul_scalar(gt_mean_all(gt_mul(d, d)), 0.5f);
}
static gt_tensor *gt__hinge_d(gt_tensor *l, bool real, float t) {
    (void)t;
    return gt_mean_all(gt_relu(real ? gt_rsub_scalar(l, 1.0f) : gt_add_scalar(l, 1.0f)));
}
static gt_tensor *gt__neg_mean(gt_tensor *f) { return gt_neg(gt_mean_all(f)); }
static gt_tensor *gt__wgan_d(gt_tensor *l, bool real, float t) {
    (void)t;
    return real ? gt_neg(gt_mean_all(l)) : gt_mean_all(l);
}
/* softplus(-(a - b)) = softplus(b - a), per pair; softplus's threshold 20 as torch's default */
static gt_tensor *gt__rp(gt_tensor *a, gt_tensor *b) { return gt_mean_all(gt_softplus(gt_sub(b, a), 1.0f, 20.0f)); }
static gt_tensor *gt__rp_d(gt_tensor *r, gt_tensor *f) { return gt__rp(r, f); }
static gt_tensor *gt__rp_g(gt_tensor *r, gt_tensor *f) { return gt__rp(f, r); }

/* The energy-based losses: D's output is each image's energy (an autoencoder's reconstruction
 * error, >= 0), and every term is on the batch mean, as the references compute it. */
/* EBGAN: D E(x) + relu(m - E(G(z))), m = max(1, N / 64) (PyTorch-GAN's margin); G E(G(z)) */
static gt_tensor *gt__eb_d(gt_tensor *e, bool real, float p) {
    (void)p;
    gt_tensor *m = gt_mean_all(e);
    float margin = e->shape[0] / 64.0f > 1.0f ? e->shape[0] / 64.0f : 1.0f;
    return real ? m : gt_relu(gt_rsub_scalar(m, margin));
}
static gt_tensor *gt__mean(gt_tensor *e) { return gt_mean_all(e); }
/* BEGAN: D L(x) - k_t L(G(z)), G L(G(z)); k_t (the loss's state, p) moves by lambda_k (gamma L(x)
 * - L(G(z))) after each D step, kept in [0, 1]; gamma 0.75, lambda_k 0.001 (PyTorch-GAN's) */
#define GT__BEGAN_GAMMA 0.75
#define GT__BEGAN_LAMBDA_K 0.001
static gt_tensor *gt__began_d(gt_tensor *e, bool real, float k) {
    return real ? gt_mean_all(e) : gt_mul_scalar(gt_mean_all(e), -k);
}
static double gt__began_update(double k, double e_real, double e_fake) {
    k += GT__BEGAN_LAMBDA_K * (GT__BEGAN_GAMMA * e_real - e_fake);
    return k < 0 ? 0 : k > 1 ? 1 : k;
}
/* BEGAN's convergence measure M = L(x) + |gamma L(x) - L(G(z))| */
static double gt__began_measure(double e_real, double e_fake) {
    return e_real + fabs(GT__BEGAN_GAMMA * e_real - e_fake);
}

static const gt_loss_def gt__losses[GT_LOSS_COUNT] = {
    [GT_LOSS_NS] = {"ns", "non-saturating (DCGAN): D BCE(D(x),1) + BCE(D(G(z)),0), G BCE(D(G(z)),1)", gt__bce_d,
                    gt__ns_g, NULL, NULL, true, false, NULL, NULL},
    [GT_LOSS_HINGE] = {"hinge", "hinge (SAGAN, BigGAN): D relu(1-D(x)) + relu(1+D(G(z))), G -D(G(z))", gt__hinge_d,
                       gt__neg_mean, NULL, NULL, false, false, NULL, NULL},
    [GT_LOSS_WGAN] = {"wgan",
                      "Wasserstein: D D(G(z)) - D(x), G -D(G(z)); weight clipping, or a gradient penalty (wgan-gp)",
                      gt__wgan_d, gt__neg_mean, NULL, NULL, false, false, NULL, NULL},
    [GT_LOSS_MINIMAX] = {"minimax",
                         "the original saturating game (Goodfellow et al.): D as ns, G minimizes log(1 - D(G(z)))",
                         gt__bce_d, gt__minimax_g, NULL, NULL, true, false, NULL, NULL},
    [GT_LOSS_LS] = {"ls", "least squares (LSGAN): D 0.5(D(x)-1)^2 + 0.5 D(G(z))^2, G 0.5(D(G(z))-1)^2", gt__ls_d,
                    gt__ls_g, NULL, NULL, false, false, NULL, NULL},
    [GT_LOSS_RPGAN] = {"rpgan",
                       "relativistic pairing (RpGAN; R3GAN's loss): D softplus(D(G(z))-D(x)), G softplus(D(x)-D(G(z)))",
                       NULL, NULL, gt__rp_d, gt__rp_g, false, false, NULL, NULL},
    [GT_LOSS_EBGAN] = {"ebgan",
                       "energy-based (EBGAN): D E(x) + relu(m - E(G(z))), G E(G(z)) (+ the model's pulling-away term); "
                       "an autoencoder D",
                       gt__eb_d, gt__mean, NULL, NULL, false, true, NULL, NULL},
    [GT_LOSS_BEGAN] = {"began",
                       "boundary equilibrium (BEGAN): D L(x) - k_t L(G(z)), G L(G(z)), k_t and M logged; an "
                       "autoencoder D",
                       gt__began_d, gt__mean, NULL, NULL, false, true, gt__began_update, gt__began_measure},
};

const gt_loss_def *gt_loss_def_get(gt_loss_kind k) { return (unsigned)k < GT_LOSS_COUNT ? &gt__losses[k] : NULL; }

const char *gt_loss_name(gt_loss_kind k) { return (unsigned)k < GT_LOSS_COUNT ? gt__losses[k].name : "?"; }

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

const char *gt_loss_names(char *buf, size_t n) {
    if (!buf || !n) return buf;
    size_t k = (size_t)snprintf(buf, n, "%s", gt__losses[0].name);
    for (int i = 1; i < GT_LOSS_COUNT && k < n; i++) {
        k += (size_t)snprintf(buf + k, n - k, ", %s", gt__losses[i].name);
        if (i == GT_LOSS_WGAN && k < n) k += (size_t)snprintf(buf + k, n - k, ", wgan-gp");
    }
    return buf;
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

static const gt_loss_def *gt__def(const char *fn, gt_loss_kind k) {
    const gt_loss_def *d = gt_loss_def_get(k);
    if (!d) gt_set_error(GT_ERR_ARG, "%s: unknown loss %d", fn, (int)k);
    return d;
}

static bool gt__pair_ok(const char *fn, gt_tensor *r, gt_tensor *f) {
    if (!gt__logits_ok(fn, r) || !gt__logits_ok(fn, f)) return false;
    if (r->shape[0] != f->shape[0]) {
        gt_set_error(GT_ERR_SHAPE, "%s: a pairwise loss pairs each fake with a real: %lld real and %lld fake logits",
                     fn, (long long)r->shape[0], (long long)f->shape[0]);
        return false;
    }
    return true;
}

gt_tensor *gt_gan_loss_d_part_smooth(gt_loss_kind k, gt_tensor *logits, bool real, float real_target) {
    if (!gt__logits_ok("gt_gan_loss_d_part", logits)) return NULL;
    const gt_loss_def *d = gt__def("gt_gan_loss_d_part", k);
    if (!d) return NULL;
    if (!d->d_part)
        return (gt_set_error(GT_ERR_ARG, "gt_gan_loss_d_part: loss %s is pairwise (real and fake together)", d->name),
                NULL);
    return d->d_part(logits, real, real_target);
}

gt_tensor *gt_gan_loss_d_part(gt_loss_kind k, gt_tensor *logits, bool real) {
    return gt_gan_loss_d_part_smooth(k, logits, real, 1.0f);
}

gt_tensor *gt_gan_loss_d_smooth(gt_loss_kind k, gt_tensor *real, gt_tensor *fake, float real_target) {
    const gt_loss_def *d = gt__def("gt_gan_loss_d", k);
    if (!d) return NULL;
    if (d->d_pair) return gt__pair_ok("gt_gan_loss_d", real, fake) ? d->d_pair(real, fake) : NULL;
    if (!gt__logits_ok("gt_gan_loss_d", real) || !gt__logits_ok("gt_gan_loss_d", fake)) return NULL;
    return gt_add(d->d_part(real, true, real_target), d->d_part(fake, false, real_target));
}

gt_tensor *gt_gan_loss_d(gt_loss_kind k, gt_tensor *real, gt_tensor *fake) {
    return gt_gan_loss_d_smooth(k, real, fake, 1.0f);
}

gt_tensor *gt_gan_loss_g_pair(gt_loss_kind k, gt_tensor *real, gt_tensor *fake) {
    const gt_loss_def *d = gt__def("gt_gan_loss_g", k);
    if (!d) return NULL;
    if (d->g_pair) return gt__pair_ok("gt_gan_loss_g", real, fake) ? d->g_pair(real, fake) : NULL;
    return gt__logits_ok("gt_gan_loss_g", fake) ? d->g(fake) : NULL;
}

gt_tensor *gt_gan_loss_g(gt_loss_kind k, gt_tensor *fake) {
    const gt_loss_def *d = gt__def("gt_gan_loss_g", k);
    if (!d) return NULL;
    if (!d->g) return (gt_set_error(GT_ERR_ARG, "gt_gan_loss_g: loss %s needs the real logits too", d->name), NULL);
    return gt__logits_ok("gt_gan_loss_g", fake) ? d->g(fake) : NULL;
}

/* --- the regularizers: one row each ------------------------------------------------------- */
static const gt_reg_def gt__regs[GT_REG_COUNT] = {
    [GT_REG_GP] = {"gp", "WGAN-GP: mean((||grad D(x_hat)|| - 1)^2) between reals and fakes", 1.0f, 1.0f, false},
    [GT_REG_DRAGAN] = {"dragan", "DRAGAN: mean((||grad D(x_hat)|| - 1)^2) around the reals (x + noise)", 1.0f, 1.0f,
                       false},
    [GT_REG_R1] = {"r1", "R1: gamma/2 mean(||grad D(x)||^2) on the reals", -1.0f, 0.5f, false},
    [GT_REG_R2] = {"r2", "R2: gamma/2 mean(||grad D(G(z))||^2) on the fakes", -1.0f, 0.5f, true},
};

const gt_reg_def *gt_reg_def_get(gt_reg_kind k) { return (unsigned)k < GT_REG_COUNT ? &gt__regs[k] : NULL; }

static bool gt__images_ok(const char *fn, gt_tensor *real, gt_tensor *fake) {
    if (!real || !fake) return (gt_set_error(GT_ERR_ARG, "%s: NULL argument", fn), false);
    if (!gt_same_shape(real, fake) || real->ndim != 4) {
        char a[64], b[64];
        gt_set_error(GT_ERR_SHAPE, "%s: real %s and fake %s must be the same (N, C, H, W)", fn,
                     gt_shape_str(real, a, sizeof a), gt_shape_str(fake, b, sizeof b));
        return false;
    }
    return true;
}

gt_status gt_reg_noise(gt_reg_kind k, gt_tensor *real, gt_rng *r, gt_tensor **e, gt_tensor **u) {
    *e = *u = NULL;
    if (!real || !r || real->ndim != 4) return gt_set_error(GT_ERR_ARG, "gt_reg_noise: images (N, C, H, W) and an rng");
    if (k == GT_REG_GP || k == GT_REG_DRAGAN) *e = gt_rand(r, GT_SHAPE(real->shape[0], 1, 1, 1));
    if (k == GT_REG_DRAGAN) *u = gt_rand(r, GT_SHAPE(real->shape[0], real->shape[1], real->shape[2], real->shape[3]));
    return (k == GT_REG_GP && !*e) || (k == GT_REG_DRAGAN && !*u) ? gt_last_status() : GT_OK;
}

gt_tensor *gt_reg_point(gt_reg_kind k, gt_tensor *real, gt_tensor *fake, gt_tensor *e, gt_tensor *u) {
    if (!gt__images_ok("gt_reg_point", real, fake)) return NULL;
    gt_tensor *rd = gt_detach(real), *fd = gt_detach(fake), *x = NULL;
    switch (k) {
    case GT_REG_GP: /* fake + e * (real - fake) */
        if (!e) return (gt_set_error(GT_ERR_ARG, "gt_reg_point: gp needs e (N, 1, 1, 1)"), NULL);
        x = gt_add(fd, gt_mul(e, gt_sub(rd, fd)));
        break;
    case GT_REG_DRAGAN: { /* real + e * 0.5 * std(real) * u, std unbiased over the whole batch */
        if (!e || !u) return (gt_set_error(GT_ERR_ARG, "gt_reg_point: dragan needs e and u"), NULL);
        double n = (double)gt_numel(rd), mean = 0, ss = 0;
        const float *p = gt_data(gt_contiguous(rd));
        if (!p || n < 2) return (gt_set_error(GT_ERR_ARG, "gt_reg_point: dragan needs at least 2 values"), NULL);
        for (int64_t i = 0; i < (int64_t)n; i++) mean += p[i];
        mean /= n;
        for (int64_t i = 0; i < (int64_t)n; i++) ss += (p[i] - mean) * (p[i] - mean);
        float sd = (float)sqrt(ss / (n - 1));
        x = gt_add(rd, gt_mul(e, gt_mul_scalar(u, 0.5f * sd)));
        break;
    }
    case GT_REG_R1: x = rd; break;
    case GT_REG_R2: x = fd; break;
    default: return (gt_set_error(GT_ERR_ARG, "gt_reg_point: unknown regularizer %d", (int)k), NULL);
    }
    if (!x) return NULL;
    x = gt_detach(gt_contiguous(x)); /* a fresh leaf for gt_grad */
    if (x) gt_set_requires_grad(x, true);
    return x;
}

gt_tensor *gt_reg_penalty_at(gt_reg_kind k, gt_tensor *d, gt_tensor *x_hat) {
    const gt_reg_def *def = gt_reg_def_get(k);
    if (!def) return (gt_set_error(GT_ERR_ARG, "gt_reg_penalty_at: unknown regularizer %d", (int)k), NULL);
    if (!d || !x_hat) return NULL;
    gt_tensor *g = NULL;
    if (gt_grad(gt_sum_all(d), NULL, 1, &x_hat, &g, true) != GT_OK) return NULL;
    gt_tensor *sq = gt_sum(gt_pow_scalar(gt_flatten(g, 1), 2.0f), 1, (int[]){1}, false); // (N)
    if (def->target < 0) return gt_mean_all(sq);
    /* the norm's square root with a tiny floor, so its gradient stays finite at g = 0 */
    gt_tensor *norm = gt_sqrt(gt_add_scalar(sq, 1e-12f));
    return gt_mean_all(gt_pow_scalar(gt_add_scalar(norm, -def->target), 2.0f));
}

gt_tensor *gt_reg_penalty(gt_reg_kind k, gt_net *D, gt_tensor *real, gt_tensor *fake, gt_rng *r) {
    return gt_reg_penalty_y(k, D, real, fake, NULL, r);
}

gt_tensor *gt_reg_penalty_y(gt_reg_kind k, gt_net *D, gt_tensor *real, gt_tensor *fake, gt_tensor *y, gt_rng *r) {
    if (!D || !r) return (gt_set_error(GT_ERR_ARG, "gt_reg_penalty: NULL argument"), NULL);
    if (!gt__images_ok("gt_reg_penalty", real, fake)) return NULL;
    gt_tensor *e, *u;
    if (gt_reg_noise(k, real, r, &e, &u) != GT_OK) return NULL;
    gt_tensor *xh = gt_reg_point(k, real, fake, e, u);
    if (!xh) return NULL;
    return gt_reg_penalty_at(k, gt_net_forward_y(D, xh, y, GT_BN_BATCH), xh);
}

gt_tensor *gt_gradient_penalty(gt_net *D, gt_tensor *real, gt_tensor *fake, gt_rng *r) {
    return gt_reg_penalty(GT_REG_GP, D, real, fake, r);
}
