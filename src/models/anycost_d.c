/* Anycost GAN's discriminator: multi-resolution (one fromRGB per resolution 8..R, entering the
 * residual trunk at that resolution; Anycost's DiscriminatorMultiRes) and conditioned on the
 * generator's channel config (its one-hot arch code through a linear layer scales the features of
 * the last d_cond blocks by 1 + linear(code)).
 *
 * Widths Dc(r) = min(ch_max, dch * R / r). Names: from_rgbs.<b>.weight (Dc, channels, 1, 1) / .bias
 * (b = 0 at R, 1 at R/2, ...: it enters before blocks.<b>); blocks.<b>.conv1.weight / .bias
 * (3x3, Dc(r) -> Dc(r)), .conv2.* (3x3, Dc(r) -> Dc(r/2), then 2x2 average pool), .skip.weight
 * (1x1, no bias, on the pooled input), .cond.weight (Dc(r/2), n_convs * 4) / .bias for the last
 * d_cond blocks; final_conv.* (3x3, Dc(4) + 1 -> Dc(4)); final_linear.0.* (Dc(4) * 16 -> Dc(4)),
 * final_linear.1.* (Dc(4) -> 1). Equalized learning rate everywhere (weights N(0, 1) scaled by
 * 1/sqrt(fan_in) in the forward, biases 0); activations leaky ReLU 0.2 * sqrt 2. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "anycost_internal.h"

/* Equalized conv: x (N, Cin, H, W), w (Cout, Cin, k, k), bias or NULL, then lrelu * sqrt 2 when act. */
static gt_tensor *gt__acd_conv(gt_tensor *x, gt_tensor *w, gt_tensor *b, bool act) {
    if (!x || !w) return NULL;
    const int64_t co = w->shape[0], fan = w->shape[1] * w->shape[2] * w->shape[3];
    gt_tensor *y = gt_conv2d(x, gt_mul_scalar(w, 1.0f / sqrtf((float)fan)), NULL,
                             gt_conv_params_make(1, (int)w->shape[2] / 2));
    if (b) y = gt_add(y, gt_reshape(b, GT_SHAPE(1, co, 1, 1)));
    return act ? gt_mul_scalar(gt_leaky_relu(y, 0.2f), GT__AC_SQRT2) : y;
}

static gt_tensor *gt__acd_linear(gt_tensor *x, gt_tensor *w, gt_tensor *b, bool act) {
    if (!x || !w) return NULL;
    gt_tensor *y = gt_add(gt_mul_scalar(gt_linear(x, w, NULL), 1.0f / sqrtf((float)w->shape[1])), b);
    return act ? gt_mul_scalar(gt_leaky_relu(y, 0.2f), GT__AC_SQRT2) : y;
}

static gt_tensor *gt__ac_d_fwd(gt_net *D, gt_tensor *x, const gt_anycost_sub *g) {
    if (!D || D->ops != &gt__ac_d_ops) {
        gt_set_error(GT_ERR_ARG, "gt_anycost_d_forward: not an anycost discriminator");
        return NULL;
    }
    if (!x) return NULL;
    gt__ac_d *d = D->impl;
    const gt_model_config *c = &D->cfg;
    char s[64];
    const int r = x->ndim == 4 ? (int)x->shape[2] : 0, l = gt__ac_level_of(r);
    if (x->ndim != 4 || x->shape[0] < 1 || x->shape[1] != d->channels || x->shape[3] != r || l < 1 ||
        l >= d->levels) {
        gt_set_error(GT_ERR_SHAPE, "anycost D: images must be (N, %d, r, r) with r one of 8..%d (powers of 2), got %s",
                     d->channels, d->R, gt_shape_str(x, s, sizeof s));
        return NULL;
    }
    if (g && gt_anycost_sub_check(c, g) != GT_OK) return NULL;
    const int64_t n = x->shape[0];
    const int nblocks = d->levels - 1, b0 = d->levels - 1 - l;
    gt_tensor *code = NULL;
    if (d->d_cond > 0) {
        float buf[GT_AC_MAX_CONVS * GT_AC_NRATIOS];
        gt_anycost_arch_code(c, g, buf);
        code = gt_from_data(GT_SHAPE(1, d->n_convs * GT_AC_NRATIOS), buf);
    }
    gt_tensor *h = gt__acd_conv(x, d->frgb_w[l], d->frgb_b[l], true);
    for (int b = b0; b < nblocks; b++) {
        const int lb = d->levels - 1 - b; /* this block's level */
        gt_tensor *m = gt__acd_conv(h, d->b_c1w[b], d->b_c1b[b], true);
        m = gt_avg_pool2d(gt__acd_conv(m, d->b_c2w[b], d->b_c2b[b], true), 2, 2, 2, 2, 0, 0, false, true);
        gt_tensor *sk = gt__acd_conv(gt_avg_pool2d(h, 2, 2, 2, 2, 0, 0, false, true), d->b_skw[b], NULL, false);
        h = gt_mul_scalar(gt_add(m, sk), 1.0f / GT__AC_SQRT2);
        if (d->cond_w[b]) {
            gt_tensor *e = gt__acd_linear(code, d->cond_w[b], d->cond_b[b], false); // (1, Dc)
            h = gt_mul(h, gt_reshape(gt_add_scalar(e, 1.0f), GT_SHAPE(1, d->Dc[lb - 1], 1, 1)));
        }
    }
    const int G = n % (n < 4 ? n : 4) == 0 ? (int)(n < 4 ? n : 4) : (int)n;
    h = gt_nn_minibatch_std(h, G, 1);
    h = gt__acd_conv(h, d->fconv_w, d->fconv_b, true);
    h = gt__acd_linear(gt_reshape(h, GT_SHAPE(n, (int64_t)d->Dc[0] * 16)), d->lin1_w, d->lin1_b, true);
    h = gt__acd_linear(h, d->lin2_w, d->lin2_b, false);
    return gt_reshape(h, GT_SHAPE(n));
}

/* In a scope of its own, as gt_net_forward: only the logits reach the caller's scope. */
gt_tensor *gt_anycost_d_forward(gt_net *D, gt_tensor *x, const gt_anycost_sub *g, gt_bn_mode mode) {
    (void)mode; /* no batch norm, no spectral norm */
    int m = gt_scope_begin();
    gt_tensor *out = gt__ac_d_fwd(D, x, g);
    gt__scope_end_keep(m, &out, 1);
    return out;
}

static gt_tensor *gt__ac_d_forward(gt_net *net, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    (void)y, (void)mode; /* gt_net_forward has opened the scope */
    return gt__ac_d_fwd(net, x, NULL);
}

static void gt__ac_d_free(gt_net *net) {
    free(net->impl);
    net->impl = NULL;
}

const gt_net_ops gt__ac_d_ops = {gt__ac_d_forward, NULL, gt__ac_d_free};

gt_status gt__ac_d_build(const gt_model_config *c, gt_rng *r, gt_net *out) {
    gt__ac_d *d = calloc(1, sizeof *d);
    if (!d) return gt_set_error(GT_ERR_OOM, "anycost: out of memory");
    out->impl = d;
    out->ops = &gt__ac_d_ops;
    gt__ac_dims(c, &d->R, &d->levels, NULL);
    d->channels = c->channels;
    d->n_convs = 2 * d->levels - 1;
    d->d_cond = (int)gt_model_opt(c, "d_cond");
    const int dch = (int)gt_model_opt(c, "dch"), chmax = (int)gt_model_opt(c, "ch_max");
    for (int l = 0; l < d->levels; l++) {
        int64_t v = (int64_t)dch * d->R / (4 << l);
        d->Dc[l] = (int)(v < chmax ? v : chmax);
    }
    const int nblocks = d->levels - 1, K = d->n_convs * GT_AC_NRATIOS;
    gt_params *P = &out->P;
    gt_status st = GT_OK;
    char p[64];
    for (int b = 0; b < nblocks; b++) { /* from_rgbs.b enters before blocks.b */
        const int l = d->levels - 1 - b;
        snprintf(p, sizeof p, "from_rgbs.%d", b);
        d->frgb_w[l] = gt__ac_param(P, p, "weight", 4, (const int64_t[]){d->Dc[l], d->channels, 1, 1}, r, 1, 0,
                                    false, &st);
        d->frgb_b[l] = gt__ac_param(P, p, "bias", 1, (const int64_t[]){d->Dc[l]}, r, 0, 0, false, &st);
    }
    for (int b = 0; b < nblocks; b++) {
        const int l = d->levels - 1 - b, ci = d->Dc[l], co = d->Dc[l - 1];
        snprintf(p, sizeof p, "blocks.%d.conv1", b);
        d->b_c1w[b] = gt__ac_param(P, p, "weight", 4, (const int64_t[]){ci, ci, 3, 3}, r, 1, 0, false, &st);
        d->b_c1b[b] = gt__ac_param(P, p, "bias", 1, (const int64_t[]){ci}, r, 0, 0, false, &st);
        snprintf(p, sizeof p, "blocks.%d.conv2", b);
        d->b_c2w[b] = gt__ac_param(P, p, "weight", 4, (const int64_t[]){co, ci, 3, 3}, r, 1, 0, false, &st);
        d->b_c2b[b] = gt__ac_param(P, p, "bias", 1, (const int64_t[]){co}, r, 0, 0, false, &st);
        snprintf(p, sizeof p, "blocks.%d.skip", b);
        d->b_skw[b] = gt__ac_param(P, p, "weight", 4, (const int64_t[]){co, ci, 1, 1}, r, 1, 0, false, &st);
        if (b >= nblocks - d->d_cond) {
            snprintf(p, sizeof p, "blocks.%d.cond", b);
            d->cond_w[b] = gt__ac_param(P, p, "weight", 2, (const int64_t[]){co, K}, r, 1, 0, false, &st);
            d->cond_b[b] = gt__ac_param(P, p, "bias", 1, (const int64_t[]){co}, r, 0, 0, false, &st);
        }
    }
    const int64_t c4 = d->Dc[0];
    d->fconv_w = gt__ac_param(P, "final_conv", "weight", 4, (const int64_t[]){c4, c4 + 1, 3, 3}, r, 1, 0, false, &st);
    d->fconv_b = gt__ac_param(P, "final_conv", "bias", 1, (const int64_t[]){c4}, r, 0, 0, false, &st);
    d->lin1_w = gt__ac_param(P, "final_linear.0", "weight", 2, (const int64_t[]){c4, c4 * 16}, r, 1, 0, false, &st);
    d->lin1_b = gt__ac_param(P, "final_linear.0", "bias", 1, (const int64_t[]){c4}, r, 0, 0, false, &st);
    d->lin2_w = gt__ac_param(P, "final_linear.1", "weight", 2, (const int64_t[]){1, c4}, r, 1, 0, false, &st);
    d->lin2_b = gt__ac_param(P, "final_linear.1", "bias", 1, (const int64_t[]){1}, r, 0, 0, false, &st);
    return st == GT_OK ? gt_params_finalize(P) : st;
}
