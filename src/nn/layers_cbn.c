/* Conditional batch norm: BatchNorm2d(affine=False) at prefix.bn, then a
 * per-sample, per-channel gain and bias from the class (embeddings) or from
 * a vector (BigGAN's linears). */
#include "../internal.h"
#include "gantry/layers.h"

static gt_status gt__cbn_bn(gt_nn_batch_norm *bn, gt_params *P, const char *prefix, int c) {
    char name[256];
    gt_status st = gt_params_join(name, sizeof name, prefix, "bn");
    return st == GT_OK ? gt_nn_batch_norm_init(bn, P, name, c, false, true) : st;
}

/* x must be (N, C, H, W) */
static bool gt__cbn_check_x(const char *fn, const gt_tensor *x, int c) {
    if (x->ndim == 4 && x->shape[1] == c) return true;
    char b[96];
    gt_set_error(GT_ERR_SHAPE, "%s: expected x (N, %d, H, W), got %s", fn, c, gt_shape_str(x, b, sizeof b));
    return false;
}

/* bn(x) * gain + bias with gain, bias (N, C) */
static gt_tensor *gt__cbn_apply(gt_tensor *h, gt_tensor *gain, gt_tensor *bias, int64_t n, int64_t c) {
    return gt_add(gt_mul(h, gt_reshape(gain, GT_SHAPE(n, c, 1, 1))), gt_reshape(bias, GT_SHAPE(n, c, 1, 1)));
}

gt_status gt_nn_class_bn_init(gt_nn_class_bn *m, gt_params *P, const char *prefix, int num_features,
                              int num_classes) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_class_bn_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (num_features <= 0 || num_classes <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_class_bn_init: num_features %d and num_classes %d must be positive",
                            num_features, num_classes);
    m->num_features = num_features;
    m->num_classes = num_classes;
    gt_status st = gt__cbn_bn(&m->bn, P, prefix, num_features);
    if (st != GT_OK) return st;
    int mk = gt_scope_begin();
    const int64_t shape[2] = {num_classes, num_features};
    bool ok = (m->gain = gt_layer_register(P, prefix, "gain.weight", false, 2, shape)) &&
              (m->bias = gt_layer_register(P, prefix, "bias.weight", false, 2, shape)) &&
              gt_init_constant(m->gain, 1.0f) == GT_OK; /* bias stays 0 */
    gt_scope_end(mk);
    return ok ? GT_OK : gt_last_status();
}

gt_tensor *gt_nn_class_bn_forward(gt_nn_class_bn *m, gt_tensor *x, gt_tensor *y, gt_layer_mode mode) {
    if (!x || !y) return NULL;
    if (!gt__cbn_check_x("gt_nn_class_bn_forward", x, m->num_features)) return NULL;
    if (y->dtype != GT_I32 || y->ndim != 1 || y->shape[0] != x->shape[0]) {
        char b[96];
        gt_set_error(GT_ERR_SHAPE, "gt_nn_class_bn_forward: expected int32 labels (%lld), got %s%s",
                     (long long)x->shape[0], y->dtype == GT_I32 ? "" : "float32 ", gt_shape_str(y, b, sizeof b));
        return NULL;
    }
    gt_tensor *h = gt_nn_batch_norm_forward_mode(&m->bn, x, mode);
    return gt__cbn_apply(h, gt_embedding(m->gain, y), gt_embedding(m->bias, y), x->shape[0], m->num_features);
}

gt_status gt_nn_cond_bn_init(gt_nn_cond_bn *m, gt_params *P, const char *prefix, int num_features, int in_features,
                             bool sn, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_cond_bn_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (num_features <= 0 || in_features <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_cond_bn_init: num_features %d and in_features %d must be positive",
                            num_features, in_features);
    m->num_features = num_features;
    m->in_features = in_features;
    char name[256];
    gt_status st = gt__cbn_bn(&m->bn, P, prefix, num_features);
    if (st == GT_OK) st = gt_params_join(name, sizeof name, prefix, "gain");
    if (st == GT_OK) st = gt_nn_snlinear_init(&m->gain, P, name, in_features, num_features, false, sn, r);
    if (st == GT_OK) st = gt_params_join(name, sizeof name, prefix, "bias");
    if (st == GT_OK) st = gt_nn_snlinear_init(&m->bias, P, name, in_features, num_features, false, sn, r);
    return st;
}

gt_tensor *gt_nn_cond_bn_forward(gt_nn_cond_bn *m, gt_tensor *x, gt_tensor *v, gt_layer_mode mode) {
    if (!x || !v) return NULL;
    if (!gt__cbn_check_x("gt_nn_cond_bn_forward", x, m->num_features)) return NULL;
    if (v->ndim != 2 || v->shape[0] != x->shape[0] || v->shape[1] != m->in_features) {
        char b[96];
        gt_set_error(GT_ERR_SHAPE, "gt_nn_cond_bn_forward: expected the vector (%lld, %d), got %s",
                     (long long)x->shape[0], m->in_features, gt_shape_str(v, b, sizeof b));
        return NULL;
    }
    gt_tensor *h = gt_nn_batch_norm_forward_mode(&m->bn, x, mode);
    gt_tensor *gain = gt_add_scalar(gt_nn_snlinear_forward(&m->gain, v, mode), 1.0f);
    return gt__cbn_apply(h, gain, gt_nn_snlinear_forward(&m->bias, v, mode), x->shape[0], m->num_features);
}
