/* Spectral normalization (torch.nn.utils.spectral_norm semantics, dim 0) and
 * the Conv2d / Linear / Embedding modules that may carry it; the layers'
 * shared helpers (registration, batch norm in a mode). */
#include "../internal.h"
#include "gantry/layers.h"

#define GT__NAME_MAX 256

gt_tensor *gt_layer_register(gt_params *P, const char *prefix, const char *leaf, bool buffer, int ndim,
                             const int64_t *shape) {
    char name[GT__NAME_MAX];
    if (!P) {
        gt_set_error(GT_ERR_ARG, "gt_layer_register: registry is NULL");
        return NULL;
    }
    if (gt_params_join(name, sizeof name, prefix, leaf) != GT_OK) return NULL;
    gt_tensor *t = gt_zeros(ndim, shape);
    if (!t || gt_params_add(P, name, t, buffer) != GT_OK) return NULL;
    return t;
}

gt_tensor *gt_nn_batch_norm_forward_mode(const gt_nn_batch_norm *m, gt_tensor *x, gt_layer_mode mode) {
    if (!m || !x) {
        if (!m) gt_set_error(GT_ERR_ARG, "gt_nn_batch_norm_forward_mode: module is NULL");
        return NULL;
    }
    switch (mode) {
    case GT_LAYER_TRAIN:
        return gt_batch_norm(x, m->weight, m->bias, m->running_mean, m->running_var, true, m->momentum, m->eps);
    case GT_LAYER_BATCH: return gt_batch_norm(x, m->weight, m->bias, NULL, NULL, true, m->momentum, m->eps);
    default:
        return gt_batch_norm(x, m->weight, m->bias, m->running_mean, m->running_var, !m->running_mean, m->momentum,
                             m->eps);
    }
}

/* --- spectral norm ----------------------------------------------------------- */

gt_status gt_nn_spectral_norm_init(gt_nn_spectral_norm *sn, gt_params *P, const char *prefix, int ndim,
                                   const int64_t *shape) {
    if (!sn) return gt_set_error(GT_ERR_ARG, "gt_nn_spectral_norm_init: module is NULL");
    memset(sn, 0, sizeof *sn);
    if (!P) return gt_set_error(GT_ERR_ARG, "gt_nn_spectral_norm_init: registry is NULL");
    if (ndim < 1 || ndim > GT_MAX_DIMS || !shape)
        return gt_set_error(GT_ERR_ARG, "gt_nn_spectral_norm_init: the weight needs 1 to %d dims, got %d",
                            GT_MAX_DIMS, ndim);
    int64_t cols = 1;
    for (int i = 1; i < ndim; i++) cols *= shape[i];
    if (shape[0] <= 0 || cols <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_spectral_norm_init: the weight must not be empty (rows %lld, cols %lld)",
                            (long long)shape[0], (long long)cols);
    sn->rows = shape[0];
    sn->cols = cols;
    sn->n_power_iterations = 1;
    sn->eps = 1e-12f;
    int mk = gt_scope_begin();
    bool ok = (sn->weight_orig = gt_layer_register(P, prefix, "weight_orig", false, ndim, shape)) &&
              (sn->weight_u = gt_layer_register(P, prefix, "weight_u", true, 1, &sn->rows)) &&
              (sn->weight_v = gt_layer_register(P, prefix, "weight_v", true, 1, &sn->cols));
    gt_scope_end(mk);
    return ok ? GT_OK : gt_last_status();
}

/* x / max(|x|, eps) in place (no autograd), the norm in double. */
static void gt__normalize_(gt_tensor *t, float eps) {
    float *d = gt_data(t);
    int64_t n = gt_numel(t);
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)d[i] * d[i];
    float nrm = (float)sqrt(s);
    if (nrm < eps) nrm = eps;
    for (int64_t i = 0; i < n; i++) d[i] /= nrm;
}

gt_status gt_nn_spectral_norm_reset_uv(gt_nn_spectral_norm *sn, gt_rng *r) {
    if (!sn || !sn->weight_u) return gt_set_error(GT_ERR_ARG, "gt_nn_spectral_norm_reset_uv: module not initialised");
    gt_status st = gt_init_normal(sn->weight_u, r, 0.0f, 1.0f);
    if (st == GT_OK) gt__normalize_(sn->weight_u, sn->eps);
    if (st == GT_OK) st = gt_init_normal(sn->weight_v, r, 0.0f, 1.0f);
    if (st == GT_OK) gt__normalize_(sn->weight_v, sn->eps);
    return st;
}

/* x / max(|x|, eps) with ops */
static gt_tensor *gt__normalize(gt_tensor *x, float eps) {
    return gt_div(x, gt_clamp(gt_sqrt(gt_sum_all(gt_mul(x, x))), eps, INFINITY));
}

gt_tensor *gt_nn_spectral_norm_weight(gt_nn_spectral_norm *sn, gt_layer_mode mode) {
    if (!sn || !sn->weight_orig) {
        gt_set_error(GT_ERR_ARG, "gt_nn_spectral_norm_weight: module not initialised");
        return NULL;
    }
    const int64_t rows = sn->rows, cols = sn->cols;
    gt_tensor *w = gt_reshape(sn->weight_orig, GT_SHAPE(rows, cols)); // (rows, cols)
    if (mode == GT_LAYER_TRAIN && sn->n_power_iterations > 0) {
        /* power iterations, no gradient: v = normalize(W^T u), u = normalize(W v) */
        bool prev = gt_no_grad_begin();
        gt_tensor *wt = gt_transpose(w, 0, 1), *u = gt_reshape(sn->weight_u, GT_SHAPE(rows, 1)), *v = NULL;
        for (int it = 0; it < sn->n_power_iterations; it++) {
            v = gt__normalize(gt_matmul(wt, u), sn->eps); // (cols, 1)
            u = gt__normalize(gt_matmul(w, v), sn->eps);  // (rows, 1)
        }
        bool ok = u && v && gt_copy_(sn->weight_v, v) == GT_OK && gt_copy_(sn->weight_u, u) == GT_OK;
        gt_grad_mode_restore(prev);
        if (!ok) return NULL;
    }
    /* copies of u and v: constants of this graph, untouched by later power iterations */
    gt_tensor *u = gt_reshape(gt_to_device(sn->weight_u, gt_tensor_device(sn->weight_u)), GT_SHAPE(rows, 1));
    gt_tensor *v = gt_reshape(gt_to_device(sn->weight_v, gt_tensor_device(sn->weight_v)), GT_SHAPE(cols, 1));
    gt_tensor *sigma = gt_sum_all(gt_mul(u, gt_matmul(w, v))); // u . (W v), 0-d
    if (!sigma) return NULL;
    /* read back on the CPU only: on a GPU it would drain the queue at every layer */
    if (gt_tensor_device(sigma) == GT_DEVICE_CPU) sn->sigma = gt_item(sigma);
    return gt_div(sn->weight_orig, sigma);
}

/* --- modules that may carry it ---------------------------------------------------- */

/* The weight the forward uses (a new reference in scope, or the borrowed plain one). */
static gt_tensor *gt__sn_or_plain(gt_tensor *plain, gt_nn_spectral_norm *sn, bool use_sn, gt_layer_mode mode) {
    return use_sn ? gt_nn_spectral_norm_weight(sn, mode) : plain;
}

/* Registers the weight (plain or spectrally normed) and the bias (when nbias
 * > 0), draws the weight U(-bound, bound) (N(0, 1) when bound < 0), the bias
 * U(-bound, bound), then u and v: torch's order. */
static gt_status gt__sn_module(gt_params *P, const char *prefix, int ndim, const int64_t *wshape, int64_t nbias,
                               bool sn, double bound, gt_rng *r, gt_tensor **weight, gt_tensor **bias,
                               gt_nn_spectral_norm *norm) {
    if (!P) return gt_set_error(GT_ERR_ARG, "%s: registry is NULL", prefix ? prefix : "module");
    if (!r) return gt_set_error(GT_ERR_ARG, "%s: rng is NULL", prefix ? prefix : "module");
    int mk = gt_scope_begin();
    gt_status st = GT_OK;
    gt_tensor *w = NULL;
    if (sn) {
        st = gt_nn_spectral_norm_init(norm, P, prefix, ndim, wshape);
        w = norm->weight_orig;
    } else {
        w = *weight = gt_layer_register(P, prefix, "weight", false, ndim, wshape);
        if (!w) st = gt_last_status();
    }
    if (st == GT_OK && nbias > 0 && !(*bias = gt_layer_register(P, prefix, "bias", false, 1, &nbias)))
        st = gt_last_status();
    if (st == GT_OK)
        st = bound < 0 ? gt_init_normal(w, r, 0.0f, 1.0f) : gt_init_uniform(w, r, (float)-bound, (float)bound);
    if (st == GT_OK && nbias > 0) st = gt_init_uniform(*bias, r, (float)-bound, (float)bound);
    if (st == GT_OK && sn) st = gt_nn_spectral_norm_reset_uv(norm, r);
    gt_scope_end(mk);
    return st;
}

gt_status gt_nn_snconv2d_init(gt_nn_snconv2d *m, gt_params *P, const char *prefix, int c_in, int c_out, int kh,
                              int kw, gt_conv_params p, bool bias, bool sn, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_snconv2d_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (c_in <= 0 || c_out <= 0 || kh <= 0 || kw <= 0 || p.groups <= 0 || c_in % p.groups || c_out % p.groups)
        return gt_set_error(GT_ERR_ARG,
                            "gt_nn_snconv2d_init: channels and kernel must be positive and divisible by the groups, "
                            "got C_in %d C_out %d kernel %dx%d groups %d (build the parameters with "
                            "gt_conv_params_make(stride, pad))",
                            c_in, c_out, kh, kw, p.groups);
    if (p.stride_h <= 0 || p.stride_w <= 0 || p.dil_h <= 0 || p.dil_w <= 0 || p.pad_h < 0 || p.pad_w < 0 ||
        p.out_pad_h || p.out_pad_w)
        return gt_set_error(GT_ERR_ARG,
                            "gt_nn_snconv2d_init: stride %dx%d and dilation %dx%d must be positive, padding %dx%d >= "
                            "0, output padding 0 (build the parameters with gt_conv_params_make(stride, pad))",
                            p.stride_h, p.stride_w, p.dil_h, p.dil_w, p.pad_h, p.pad_w);
    *m = (gt_nn_snconv2d){.c_in = c_in, .c_out = c_out, .kh = kh, .kw = kw, .p = p, .sn = sn};
    int64_t fan_in = (int64_t)(c_in / p.groups) * kh * kw;
    return gt__sn_module(P, prefix, 4, (int64_t[]){c_out, c_in / p.groups, kh, kw}, bias ? c_out : 0, sn,
                         1.0 / sqrt((double)fan_in), r, &m->weight, &m->bias, &m->norm);
}

gt_tensor *gt_nn_snconv2d_forward(gt_nn_snconv2d *m, gt_tensor *x, gt_layer_mode mode) {
    if (!x) return NULL;
    return gt_conv2d(x, gt__sn_or_plain(m->weight, &m->norm, m->sn, mode), m->bias, m->p);
}

gt_status gt_nn_snlinear_init(gt_nn_snlinear *m, gt_params *P, const char *prefix, int in_features, int out_features,
                              bool bias, bool sn, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_snlinear_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (in_features <= 0 || out_features <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_snlinear_init: features must be positive, got in %d out %d",
                            in_features, out_features);
    *m = (gt_nn_snlinear){.in_features = in_features, .out_features = out_features, .sn = sn};
    return gt__sn_module(P, prefix, 2, (int64_t[]){out_features, in_features}, bias ? out_features : 0, sn,
                         1.0 / sqrt((double)in_features), r, &m->weight, &m->bias, &m->norm);
}

gt_tensor *gt_nn_snlinear_forward(gt_nn_snlinear *m, gt_tensor *x, gt_layer_mode mode) {
    if (!x) return NULL;
    return gt_linear(x, gt__sn_or_plain(m->weight, &m->norm, m->sn, mode), m->bias);
}

gt_status gt_nn_snembedding_init(gt_nn_snembedding *m, gt_params *P, const char *prefix, int num, int dim, bool sn,
                                 gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_snembedding_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (num <= 0 || dim <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_snembedding_init: num %d and dim %d must be positive", num, dim);
    *m = (gt_nn_snembedding){.num = num, .dim = dim, .sn = sn};
    gt_tensor *nobias = NULL;
    return gt__sn_module(P, prefix, 2, (int64_t[]){num, dim}, 0, sn, -1.0, r, &m->weight, &nobias, &m->norm);
}

gt_tensor *gt_nn_snembedding_forward(gt_nn_snembedding *m, gt_tensor *idx, gt_layer_mode mode) {
    if (!idx) return NULL;
    return gt_embedding(gt__sn_or_plain(m->weight, &m->norm, m->sn, mode), idx);
}
