/* Weight initialisation (torch.nn.init): the same distributions and bounds as
 * PyTorch, drawn from gantry's Philox generator. In place, no autograd. */
#include "../internal.h"

static bool gt__init_ok(const gt_tensor *t, const gt_rng *r, bool need_rng, const char *fn) {
    if (!t) {
        if (!gt_last_status()) gt_set_error(GT_ERR_ARG, "%s: tensor is NULL", fn);
        return false;
    }
    if (t->dtype != GT_F32 || !gt_is_contiguous(t)) {
        gt_set_error(GT_ERR_ARG, "%s: needs a contiguous float32 tensor", fn);
        return false;
    }
    if (need_rng && !r) {
        gt_set_error(GT_ERR_ARG, "%s: rng is NULL", fn);
        return false;
    }
    return true;
}

gt_status gt_init_fans(const gt_tensor *t, int64_t *fan_in, int64_t *fan_out) {
    if (!t || t->ndim < 2) {
        char b[96];
        return gt_set_error(GT_ERR_SHAPE, "gt_init_fans: fan in and fan out need at least 2 dims, got shape %s",
                            gt_shape_str(t, b, sizeof b));
    }
    int64_t rf = 1; /* receptive field */
    for (int i = 2; i < t->ndim; i++) rf *= t->shape[i];
    if (fan_in) *fan_in = t->shape[1] * rf;
    if (fan_out) *fan_out = t->shape[0] * rf;
    return GT_OK;
}

gt_status gt_init_uniform(gt_tensor *t, gt_rng *r, float lo, float hi) {
    if (!gt__init_ok(t, r, true, "gt_init_uniform")) return gt_last_status();
    if (!(lo <= hi)) return gt_set_error(GT_ERR_ARG, "gt_init_uniform: lo %g > hi %g", (double)lo, (double)hi);
    gt_rng_uniform(r, gt_data(t), gt_numel(t), lo, hi);
    return GT_OK;
}

gt_status gt_init_normal(gt_tensor *t, gt_rng *r, float mean, float std) {
    if (!gt__init_ok(t, r, true, "gt_init_normal")) return gt_last_status();
    if (!(std >= 0)) return gt_set_error(GT_ERR_ARG, "gt_init_normal: std %g < 0", (double)std);
    gt_rng_normal(r, gt_data(t), gt_numel(t), mean, std);
    return GT_OK;
}

gt_status gt_init_constant(gt_tensor *t, float v) {
    if (!gt__init_ok(t, NULL, false, "gt_init_constant")) return gt_last_status();
    return gt_fill_(t, v);
}

gt_status gt_init_kaiming_uniform(gt_tensor *t, gt_rng *r, float a) {
    int64_t fan_in = 0;
    gt_status st = gt_init_fans(t, &fan_in, NULL);
    if (st != GT_OK) return st;
    if (fan_in == 0) return GT_OK; /* torch warns and leaves an empty tensor alone */
    double gain = sqrt(2.0 / (1.0 + (double)a * a));
    double bound = sqrt(3.0) * gain / sqrt((double)fan_in);
    return gt_init_uniform(t, r, (float)-bound, (float)bound);
}

gt_status gt_init_xavier_uniform(gt_tensor *t, gt_rng *r, float gain) {
    int64_t fan_in = 0, fan_out = 0;
    gt_status st = gt_init_fans(t, &fan_in, &fan_out);
    if (st != GT_OK) return st;
    if (fan_in + fan_out == 0) return GT_OK;
    double bound = gain * sqrt(6.0 / (double)(fan_in + fan_out));
    return gt_init_uniform(t, r, (float)-bound, (float)bound);
}
