/* StyleGAN2's minibatch standard deviation, and the discriminator heads
 * (projection, auxiliary classifier). */
#include "../internal.h"
#include "gantry/layers.h"

gt_tensor *gt_nn_minibatch_std(gt_tensor *x, int group_size, int num_channels) {
    if (!x) return NULL;
    char b[96];
    if (x->ndim != 4) {
        gt_set_error(GT_ERR_SHAPE, "gt_nn_minibatch_std: expected x (N, C, H, W), got %s", gt_shape_str(x, b, sizeof b));
        return NULL;
    }
    const int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
    if (group_size <= 0 || num_channels <= 0 || c % num_channels) {
        gt_set_error(GT_ERR_ARG,
                     "gt_nn_minibatch_std: group_size %d and num_channels %d must be positive and num_channels must "
                     "divide the %lld channels",
                     group_size, num_channels, (long long)c);
        return NULL;
    }
    const int64_t g = n < group_size ? n : group_size, f = num_channels;
    if (g == 0 || n % g) {
        gt_set_error(GT_ERR_SHAPE,
                     "gt_nn_minibatch_std: the batch %lld is not a multiple of the group size %lld (use a batch "
                     "divisible by %d, or a smaller group_size)",
                     (long long)n, (long long)g, group_size);
        return NULL;
    }
    const int64_t ng = n / g;
    gt_tensor *y = gt_reshape(x, GT_SHAPE(g, ng, f, c / f, h, w));     // sample i in group i mod ng
    y = gt_sub(y, gt_mean(y, 1, (int[]){0}, true));                   // minus the group mean
    y = gt_mean(gt_mul(y, y), 1, (int[]){0}, false);                  // (ng, F, c, H, W) variance
    y = gt_sqrt(gt_add_scalar(y, 1e-8f));                             // stddev
    y = gt_mean(y, 3, (int[]){2, 3, 4}, false);                       // (ng, F)
    y = gt_expand(gt_reshape(y, GT_SHAPE(1, ng, f, 1, 1)), GT_SHAPE(g, ng, f, h, w));
    y = gt_reshape(gt_contiguous(y), GT_SHAPE(n, f, h, w));
    return gt_concat(2, (gt_tensor *[]){x, y}, 1);
}

gt_status gt_nn_proj_head_init(gt_nn_proj_head *m, gt_params *P, const char *prefix, int in_features,
                               int num_classes, bool sn, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_proj_head_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (in_features <= 0 || num_classes < 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_proj_head_init: in_features %d must be positive, num_classes %d >= 0",
                            in_features, num_classes);
    m->in_features = in_features;
    m->num_classes = num_classes;
    char name[256];
    gt_status st = gt_params_join(name, sizeof name, prefix, "linear");
    if (st == GT_OK) st = gt_nn_snlinear_init(&m->linear, P, name, in_features, 1, true, sn, r);
    if (st == GT_OK && num_classes > 0) st = gt_params_join(name, sizeof name, prefix, "embed");
    if (st == GT_OK && num_classes > 0) st = gt_nn_snembedding_init(&m->embed, P, name, num_classes, in_features, sn, r);
    return st;
}

gt_tensor *gt_nn_proj_head_forward(gt_nn_proj_head *m, gt_tensor *h, gt_tensor *y, gt_layer_mode mode) {
    if (!h || (m->num_classes > 0 && !y)) return NULL;
    char b[96];
    if (h->ndim != 2 || h->shape[1] != m->in_features) {
        gt_set_error(GT_ERR_SHAPE, "gt_nn_proj_head_forward: expected h (N, %d), got %s", m->in_features,
                     gt_shape_str(h, b, sizeof b));
        return NULL;
    }
    const int64_t n = h->shape[0];
    gt_tensor *out = gt_reshape(gt_nn_snlinear_forward(&m->linear, h, mode), GT_SHAPE(n)); // (N)
    if (m->num_classes == 0) return out;
    if (y->dtype != GT_I32 || y->ndim != 1 || y->shape[0] != n) {
        gt_set_error(GT_ERR_SHAPE, "gt_nn_proj_head_forward: expected int32 labels (%lld), got %s%s", (long long)n,
                     y->dtype == GT_I32 ? "" : "float32 ", gt_shape_str(y, b, sizeof b));
        return NULL;
    }
    gt_tensor *proj = gt_sum(gt_mul(gt_nn_snembedding_forward(&m->embed, y, mode), h), 1, (int[]){1}, false);
    return gt_add(out, proj);
}

gt_status gt_nn_ac_head_init(gt_nn_ac_head *m, gt_params *P, const char *prefix, int in_features, int num_classes,
                             bool sn, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_ac_head_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (in_features <= 0 || num_classes <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_ac_head_init: in_features %d and num_classes %d must be positive",
                            in_features, num_classes);
    m->in_features = in_features;
    m->num_classes = num_classes;
    char name[256];
    gt_status st = gt_params_join(name, sizeof name, prefix, "linear");
    return st == GT_OK ? gt_nn_snlinear_init(&m->linear, P, name, in_features, num_classes, true, sn, r) : st;
}

gt_tensor *gt_nn_ac_head_forward(gt_nn_ac_head *m, gt_tensor *h, gt_layer_mode mode) {
    if (!h) return NULL;
    if (h->ndim != 2 || h->shape[1] != m->in_features) {
        char b[96];
        gt_set_error(GT_ERR_SHAPE, "gt_nn_ac_head_forward: expected h (N, %d), got %s", m->in_features,
                     gt_shape_str(h, b, sizeof b));
        return NULL;
    }
    return gt_nn_snlinear_forward(&m->linear, h, mode);
}
