/* Module constructors: create each module's tensors, register them under the
 * module's prefix, and initialise them as PyTorch's reset_parameters does.
 * (The forwards are one-line inline functions in nn.h.) */
#include "../internal.h"

#define GT__NAME_MAX 256

/* Creates a (ndim, shape) tensor, registers it as prefix.leaf and returns it
 * (borrowed from the registry) or NULL. Call inside a scope. */
static gt_tensor *gt__reg(gt_params *P, const char *prefix, const char *leaf, bool buffer, int ndim,
                          const int64_t *shape) {
    char name[GT__NAME_MAX];
    if (gt_params_join(name, sizeof name, prefix, leaf) != GT_OK) return NULL;
    gt_tensor *t = gt_zeros(ndim, shape);
    if (!t || gt_params_add(P, name, t, buffer) != GT_OK) return NULL;
    return t;
}

/* weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)): kaiming_uniform_(a=sqrt(5))
 * and the bias rule of torch's Linear / _ConvNd reset_parameters. */
static gt_status gt__init_default(gt_tensor *w, gt_tensor *b, int64_t fan_in, gt_rng *r) {
    double bound = fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0.0;
    gt_status st = gt_init_uniform(w, r, (float)-bound, (float)bound);
    if (st == GT_OK && b) st = gt_init_uniform(b, r, (float)-bound, (float)bound);
    return st;
}

static gt_status gt__check_common(const char *fn, const gt_params *P, const gt_rng *r, bool need_rng) {
    if (!P) return gt_set_error(GT_ERR_ARG, "%s: registry is NULL", fn);
    if (need_rng && !r) return gt_set_error(GT_ERR_ARG, "%s: rng is NULL", fn);
    return GT_OK;
}

gt_status gt_nn_linear_init(gt_nn_linear *m, gt_params *P, const char *prefix, int in_features, int out_features,
                            bool bias, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_linear_init: module is NULL");
    memset(m, 0, sizeof *m);
    gt_status st = gt__check_common("gt_nn_linear_init", P, r, true);
    if (st != GT_OK) return st;
    if (in_features <= 0 || out_features <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_linear_init: features must be positive, got in %d out %d", in_features,
                            out_features);
    int mk = gt_scope_begin();
    m->in_features = in_features;
    m->out_features = out_features;
    m->weight = gt__reg(P, prefix, "weight", false, 2, (int64_t[]){out_features, in_features});
    if (m->weight && bias) m->bias = gt__reg(P, prefix, "bias", false, 1, (int64_t[]){out_features});
    st = !m->weight || (bias && !m->bias) ? gt_last_status() : gt__init_default(m->weight, m->bias, in_features, r);
    gt_scope_end(mk);
    return st;
}

/* Argument checks shared by conv and conv-transpose. */
static gt_status gt__conv_check(const char *fn, int c_in, int c_out, int kh, int kw, gt_conv_params p, bool transpose) {
    if (c_in <= 0 || c_out <= 0 || kh <= 0 || kw <= 0)
        return gt_set_error(GT_ERR_ARG, "%s: channels and kernel must be positive, got C_in %d C_out %d kernel %dx%d",
                            fn, c_in, c_out, kh, kw);
    if (p.stride_h <= 0 || p.stride_w <= 0 || p.dil_h <= 0 || p.dil_w <= 0 || p.groups <= 0)
        return gt_set_error(GT_ERR_ARG,
                            "%s: stride %dx%d, dilation %dx%d and groups %d must be positive (build the parameters "
                            "with gt_conv_params_make(stride, pad))",
                            fn, p.stride_h, p.stride_w, p.dil_h, p.dil_w, p.groups);
    if (p.pad_h < 0 || p.pad_w < 0 || p.out_pad_h < 0 || p.out_pad_w < 0)
        return gt_set_error(GT_ERR_ARG, "%s: padding %dx%d / output padding %dx%d must be >= 0", fn, p.pad_h, p.pad_w,
                            p.out_pad_h, p.out_pad_w);
    if (c_in % p.groups || c_out % p.groups)
        return gt_set_error(GT_ERR_ARG, "%s: groups %d must divide C_in %d and C_out %d", fn, p.groups, c_in, c_out);
    if (!transpose && (p.out_pad_h || p.out_pad_w))
        return gt_set_error(GT_ERR_ARG, "%s: output padding is for conv-transpose only", fn);
    if (transpose && (p.out_pad_h >= GT_MAX(p.stride_h, p.dil_h) || p.out_pad_w >= GT_MAX(p.stride_w, p.dil_w)))
        return gt_set_error(GT_ERR_ARG, "%s: output padding %dx%d must be smaller than stride or dilation", fn,
                            p.out_pad_h, p.out_pad_w);
    return GT_OK;
}

gt_status gt_nn_conv2d_init(gt_nn_conv2d *m, gt_params *P, const char *prefix, int c_in, int c_out, int kh, int kw,
                            gt_conv_params p, bool bias, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_conv2d_init: module is NULL");
    memset(m, 0, sizeof *m);
    gt_status st = gt__check_common("gt_nn_conv2d_init", P, r, true);
    if (st == GT_OK) st = gt__conv_check("gt_nn_conv2d_init", c_in, c_out, kh, kw, p, false);
    if (st != GT_OK) return st;
    int mk = gt_scope_begin();
    *m = (gt_nn_conv2d){.c_in = c_in, .c_out = c_out, .kh = kh, .kw = kw, .p = p};
    m->weight = gt__reg(P, prefix, "weight", false, 4, (int64_t[]){c_out, c_in / p.groups, kh, kw});
    if (m->weight && bias) m->bias = gt__reg(P, prefix, "bias", false, 1, (int64_t[]){c_out});
    int64_t fan_in = (int64_t)(c_in / p.groups) * kh * kw;
    st = !m->weight || (bias && !m->bias) ? gt_last_status() : gt__init_default(m->weight, m->bias, fan_in, r);
    gt_scope_end(mk);
    return st;
}

gt_status gt_nn_conv_transpose2d_init(gt_nn_conv_transpose2d *m, gt_params *P, const char *prefix, int c_in,
                                      int c_out, int kh, int kw, gt_conv_params p, bool bias, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_conv_transpose2d_init: module is NULL");
    memset(m, 0, sizeof *m);
    gt_status st = gt__check_common("gt_nn_conv_transpose2d_init", P, r, true);
    if (st == GT_OK) st = gt__conv_check("gt_nn_conv_transpose2d_init", c_in, c_out, kh, kw, p, true);
    if (st != GT_OK) return st;
    int mk = gt_scope_begin();
    *m = (gt_nn_conv_transpose2d){.c_in = c_in, .c_out = c_out, .kh = kh, .kw = kw, .p = p};
    m->weight = gt__reg(P, prefix, "weight", false, 4, (int64_t[]){c_in, c_out / p.groups, kh, kw});
    if (m->weight && bias) m->bias = gt__reg(P, prefix, "bias", false, 1, (int64_t[]){c_out});
    /* torch's fan_in is weight.size(1) * kH * kW, i.e. from C_out for this layout */
    int64_t fan_in = (int64_t)(c_out / p.groups) * kh * kw;
    st = !m->weight || (bias && !m->bias) ? gt_last_status() : gt__init_default(m->weight, m->bias, fan_in, r);
    gt_scope_end(mk);
    return st;
}

gt_status gt_nn_batch_norm_init(gt_nn_batch_norm *m, gt_params *P, const char *prefix, int num_features,
                                bool affine, bool track_running_stats) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_batch_norm_init: module is NULL");
    memset(m, 0, sizeof *m);
    gt_status st = gt__check_common("gt_nn_batch_norm_init", P, NULL, false);
    if (st != GT_OK) return st;
    if (num_features <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_batch_norm_init: num_features must be positive, got %d", num_features);
    int mk = gt_scope_begin();
    *m = (gt_nn_batch_norm){.num_features = num_features, .momentum = 0.1f, .eps = 1e-5f, .training = true};
    const int64_t c[1] = {num_features};
    bool ok = true;
    if (affine) {
        ok = (m->weight = gt__reg(P, prefix, "weight", false, 1, c)) &&
             (m->bias = gt__reg(P, prefix, "bias", false, 1, c));
        if (ok) ok = gt_init_constant(m->weight, 1.0f) == GT_OK; /* bias stays 0 */
    }
    if (ok && track_running_stats) {
        ok = (m->running_mean = gt__reg(P, prefix, "running_mean", true, 1, c)) &&
             (m->running_var = gt__reg(P, prefix, "running_var", true, 1, c));
        if (ok) ok = gt_init_constant(m->running_var, 1.0f) == GT_OK;
    }
    st = ok ? GT_OK : gt_last_status();
    gt_scope_end(mk);
    return st;
}

gt_status gt_nn_embedding_init(gt_nn_embedding *m, gt_params *P, const char *prefix, int num, int dim, gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_embedding_init: module is NULL");
    memset(m, 0, sizeof *m);
    gt_status st = gt__check_common("gt_nn_embedding_init", P, r, true);
    if (st != GT_OK) return st;
    if (num <= 0 || dim <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_nn_embedding_init: num %d and dim %d must be positive", num, dim);
    int mk = gt_scope_begin();
    m->num = num;
    m->dim = dim;
    m->weight = gt__reg(P, prefix, "weight", false, 2, (int64_t[]){num, dim});
    st = m->weight ? gt_init_normal(m->weight, r, 0.0f, 1.0f) : gt_last_status();
    gt_scope_end(mk);
    return st;
}
