/* Residual blocks of SNGAN / BigGAN (StudioGAN's resnet GenBlock,
 * DiscOptBlock, DiscBlock): ReLU, nearest x2 upsampling, 2x2 average pooling,
 * convs with biases (spectral-normed when asked). */
#include "../internal.h"
#include "gantry/layers.h"

static gt_status gt__rb_conv(gt_nn_snconv2d *c, gt_params *P, const char *prefix, const char *leaf, int c_in,
                             int c_out, int k, bool sn, gt_rng *r) {
    char name[256];
    gt_status st = gt_params_join(name, sizeof name, prefix, leaf);
    return st == GT_OK ? gt_nn_snconv2d_init(c, P, name, c_in, c_out, k, k, gt_conv_params_make(1, k / 2), true, sn, r)
                       : st;
}

static gt_tensor *gt__up2(gt_tensor *x) {
    return x ? gt_upsample_nearest2d(x, (int)x->shape[2] * 2, (int)x->shape[3] * 2) : NULL;
}

static gt_tensor *gt__avg2(gt_tensor *x) { return gt_avg_pool2d(x, 2, 2, 2, 2, 0, 0, false, true); }

static bool gt__rb_check(const char *fn, const gt_tensor *x, int c_in) {
    if (x->ndim == 4 && x->shape[1] == c_in) return true;
    char b[96];
    gt_set_error(GT_ERR_SHAPE, "%s: expected x (N, %d, H, W), got %s", fn, c_in, gt_shape_str(x, b, sizeof b));
    return false;
}

/* --- generator block ------------------------------------------------------------ */

static gt_status gt__gb_norm(gt_nn_gen_block *m, gt_params *P, const char *prefix, const char *leaf, int c, int which,
                             int cond, bool sn, gt_rng *r) {
    char name[256];
    gt_status st = gt_params_join(name, sizeof name, prefix, leaf);
    if (st != GT_OK) return st;
    switch (m->norm) {
    case GT_RES_BN: return gt_nn_batch_norm_init(which == 1 ? &m->bn1 : &m->bn2, P, name, c, true, true);
    case GT_RES_CLASS_BN: return gt_nn_class_bn_init(which == 1 ? &m->cbn1 : &m->cbn2, P, name, c, cond);
    default: return gt_nn_cond_bn_init(which == 1 ? &m->vbn1 : &m->vbn2, P, name, c, cond, sn, r);
    }
}

gt_status gt_nn_gen_block_init(gt_nn_gen_block *m, gt_params *P, const char *prefix, int c_in, int c_out,
                               gt_res_norm norm, int cond, bool sn, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_gen_block_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (c_in <= 0 || c_out <= 0 || (unsigned)norm > GT_RES_COND_BN || (norm != GT_RES_BN && cond <= 0))
        return gt_set_error(GT_ERR_ARG,
                            "gt_nn_gen_block_init: channels %d -> %d must be positive, norm %d one of gt_res_norm, "
                            "cond %d positive for a conditional norm",
                            c_in, c_out, (int)norm, cond);
    m->c_in = c_in;
    m->c_out = c_out;
    m->norm = norm;
    gt_status st = gt__gb_norm(m, P, prefix, "bn1", c_in, 1, cond, sn, r);
    if (st == GT_OK) st = gt__gb_norm(m, P, prefix, "bn2", c_out, 2, cond, sn, r);
    if (st == GT_OK) st = gt__rb_conv(&m->conv2d0, P, prefix, "conv2d0", c_in, c_out, 1, sn, r);
    if (st == GT_OK) st = gt__rb_conv(&m->conv2d1, P, prefix, "conv2d1", c_in, c_out, 3, sn, r);
    if (st == GT_OK) st = gt__rb_conv(&m->conv2d2, P, prefix, "conv2d2", c_out, c_out, 3, sn, r);
    return st;
}

static gt_tensor *gt__gb_norm_fwd(gt_nn_gen_block *m, int which, gt_tensor *x, gt_tensor *y, gt_layer_mode mode) {
    switch (m->norm) {
    case GT_RES_BN: return gt_nn_batch_norm_forward_mode(which == 1 ? &m->bn1 : &m->bn2, x, mode);
    case GT_RES_CLASS_BN: return gt_nn_class_bn_forward(which == 1 ? &m->cbn1 : &m->cbn2, x, y, mode);
    default: return gt_nn_cond_bn_forward(which == 1 ? &m->vbn1 : &m->vbn2, x, y, mode);
    }
}

gt_tensor *gt_nn_gen_block_forward(gt_nn_gen_block *m, gt_tensor *x, gt_tensor *y, gt_layer_mode mode) {
    if (!x) return NULL;
    if (!gt__rb_check("gt_nn_gen_block_forward", x, m->c_in)) return NULL;
    if (m->norm != GT_RES_BN && !y) {
        gt_set_error(GT_ERR_ARG, "gt_nn_gen_block_forward: a conditional norm needs y (labels or a vector)");
        return NULL;
    }
    gt_tensor *h = gt__up2(gt_relu(gt__gb_norm_fwd(m, 1, x, y, mode)));
    h = gt_nn_snconv2d_forward(&m->conv2d1, h, mode);
    h = gt_nn_snconv2d_forward(&m->conv2d2, gt_relu(gt__gb_norm_fwd(m, 2, h, y, mode)), mode);
    gt_tensor *x0 = gt_nn_snconv2d_forward(&m->conv2d0, gt__up2(x), mode);
    return gt_add(h, x0);
}

/* --- discriminator blocks ----------------------------------------------------------- */

gt_status gt_nn_disc_opt_block_init(gt_nn_disc_opt_block *m, gt_params *P, const char *prefix, int c_in, int c_out,
                                    bool sn, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_disc_opt_block_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (c_in <= 0 || c_out <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_disc_opt_block_init: channels %d -> %d must be positive", c_in, c_out);
    m->c_in = c_in;
    m->c_out = c_out;
    gt_status st = gt__rb_conv(&m->conv2d0, P, prefix, "conv2d0", c_in, c_out, 1, sn, r);
    if (st == GT_OK) st = gt__rb_conv(&m->conv2d1, P, prefix, "conv2d1", c_in, c_out, 3, sn, r);
    if (st == GT_OK) st = gt__rb_conv(&m->conv2d2, P, prefix, "conv2d2", c_out, c_out, 3, sn, r);
    return st;
}

gt_tensor *gt_nn_disc_opt_block_forward(gt_nn_disc_opt_block *m, gt_tensor *x, gt_layer_mode mode) {
    if (!x) return NULL;
    if (!gt__rb_check("gt_nn_disc_opt_block_forward", x, m->c_in)) return NULL;
    gt_tensor *h = gt_relu(gt_nn_snconv2d_forward(&m->conv2d1, x, mode));
    h = gt__avg2(gt_nn_snconv2d_forward(&m->conv2d2, h, mode));
    return gt_add(h, gt_nn_snconv2d_forward(&m->conv2d0, gt__avg2(x), mode));
}

gt_status gt_nn_disc_block_init(gt_nn_disc_block *m, gt_params *P, const char *prefix, int c_in, int c_out,
                                bool downsample, bool sn, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_disc_block_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (c_in <= 0 || c_out <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_disc_block_init: channels %d -> %d must be positive", c_in, c_out);
    m->c_in = c_in;
    m->c_out = c_out;
    m->downsample = downsample;
    m->learnable_sc = downsample || c_in != c_out;
    gt_status st = GT_OK;
    if (m->learnable_sc) st = gt__rb_conv(&m->conv2d0, P, prefix, "conv2d0", c_in, c_out, 1, sn, r);
    if (st == GT_OK) st = gt__rb_conv(&m->conv2d1, P, prefix, "conv2d1", c_in, c_out, 3, sn, r);
    if (st == GT_OK) st = gt__rb_conv(&m->conv2d2, P, prefix, "conv2d2", c_out, c_out, 3, sn, r);
    return st;
}

gt_tensor *gt_nn_disc_block_forward(gt_nn_disc_block *m, gt_tensor *x, gt_layer_mode mode) {
    if (!x) return NULL;
    if (!gt__rb_check("gt_nn_disc_block_forward", x, m->c_in)) return NULL;
    gt_tensor *h = gt_nn_snconv2d_forward(&m->conv2d1, gt_relu(x), mode);
    h = gt_nn_snconv2d_forward(&m->conv2d2, gt_relu(h), mode);
    if (m->downsample) h = gt__avg2(h);
    gt_tensor *x0 = x;
    if (m->learnable_sc) {
        x0 = gt_nn_snconv2d_forward(&m->conv2d0, x, mode);
        if (m->downsample) x0 = gt__avg2(x0);
    }
    return gt_add(h, x0);
}
