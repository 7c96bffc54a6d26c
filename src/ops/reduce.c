/* Reductions: sum / mean over dims, sum_to (adjoint of expand), max,
 * logsumexp, softmax. */
#include "../backend/kernels.h"
#include "../internal.h"

/* Parse a dim list into a mask; n == 0 means every dim. */
static bool gt__dim_mask(const gt_tensor *x, int n, const int *dims, bool *mask, const char *name) {
    for (int d = 0; d < x->ndim; d++) mask[d] = (n == 0);
    for (int i = 0; i < n; i++) {
        int d = gt__dim(x, dims[i], name);
        if (d < 0) return false;
        if (mask[d]) {
            gt_set_error(GT_ERR_ARG, "%s: dim %d listed twice", name, dims[i]);
            return false;
        }
        mask[d] = true;
    }
    return true;
}

/* Shape with the reduced dims kept as 1. */
static void gt__keep_shape(const gt_tensor *x, const bool *mask, int64_t *shape) {
    for (int d = 0; d < x->ndim; d++) shape[d] = mask[d] ? 1 : x->shape[d];
}

static gt_status gt__sum_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *x = n->in[0];
    int64_t ks[GT_MAX_DIMS];
    bool mask[GT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) mask[d] = (n->iarg[0] >> d) & 1;
    gt__keep_shape(x, mask, ks);
    gx[0] = gt_expand(gt_reshape(gy, x->ndim, ks), x->ndim, x->shape);
    return GT_OK;
}

static gt_tensor *gt__sum_mask(gt_tensor *x, const bool *mask, bool keepdim) {
    int64_t ks[GT_MAX_DIMS], os[GT_MAX_DIMS];
    int on = 0;
    gt__keep_shape(x, mask, ks);
    for (int d = 0; d < x->ndim; d++)
        if (!mask[d] || keepdim) os[on++] = ks[d];
    gt_tensor *xc = gt_contiguous(x);
    if (!xc) return NULL;
    gt_tensor *out = gt__new(GT_F32, on, os);
    if (!out) return NULL;
    GT_K(gt__kern(2, (gt_tensor *const[]){xc, out}), sum)(x->ndim, x->shape, mask, gt__ptr(xc), gt__ptr(out));
    if (gt__needs_grad(1, &x)) {
        gt_node *nd = gt__record(out, GT_OP_SUM, gt__sum_bw, 1, &x);
        if (!nd) return NULL;
        int64_t bits = 0;
        for (int d = 0; d < x->ndim; d++)
            if (mask[d]) bits |= (int64_t)1 << d;
        nd->iarg[0] = bits;
    }
    return out;
}

gt_tensor *gt_sum(gt_tensor *x, int n, const int *dims, bool keepdim) {
    bool mask[GT_MAX_DIMS];
    if (!gt__check(x, "gt_sum", "x", -1) || !gt__dim_mask(x, n, dims, mask, "gt_sum")) return NULL;
    return gt__sum_mask(x, mask, keepdim);
}

gt_tensor *gt_mean(gt_tensor *x, int n, const int *dims, bool keepdim) {
    bool mask[GT_MAX_DIMS];
    if (!gt__check(x, "gt_mean", "x", -1) || !gt__dim_mask(x, n, dims, mask, "gt_mean")) return NULL;
    int64_t cnt = 1;
    for (int d = 0; d < x->ndim; d++)
        if (mask[d]) cnt *= x->shape[d];
    if (cnt == 0) return gt__fail(GT_ERR_ARG, "gt_mean: mean over zero elements");
    return gt_mul_scalar(gt__sum_mask(x, mask, keepdim), 1.0f / (float)cnt);
}

gt_tensor *gt_sum_all(gt_tensor *x) { return gt_sum(x, 0, NULL, false); }
gt_tensor *gt_mean_all(gt_tensor *x) { return gt_mean(x, 0, NULL, false); }

gt_tensor *gt_sum_to(gt_tensor *x, int ndim, const int64_t *shape) {
    if (!gt__check(x, "gt_sum_to", "x", -1)) return NULL;
    bool mask[GT_MAX_DIMS];
    int lead = x->ndim - ndim;
    bool ok = lead >= 0;
    for (int d = 0; ok && d < x->ndim; d++) {
        int k = d - lead;
        if (k < 0) mask[d] = true;
        else if (shape[k] == x->shape[d]) mask[d] = false;
        else if (shape[k] == 1) mask[d] = true;
        else ok = false;
    }
    if (!ok) {
        char b[96];
        return gt__fail(GT_ERR_SHAPE, "gt_sum_to: %s does not broadcast from the %d-dim target shape",
                        gt_shape_str(x, b, sizeof b), ndim);
    }
    /* sum keeping dims, then drop the leading ones; both record their own backward */
    return gt_reshape(gt__sum_mask(x, mask, true), ndim, shape);
}

/* --- max over one dim --------------------------------------------------- */
static gt_status gt__max_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *x = n->in[0], *onehot = n->saved[0];
    int d = (int)n->iarg[0];
    int64_t ks[GT_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) ks[i] = i == d ? 1 : x->shape[i];
    gx[0] = gt_mul(gt_reshape(gy, x->ndim, ks), onehot);
    return GT_OK;
}

gt_tensor *gt_max(gt_tensor *x, int dim, bool keepdim) {
    if (!gt__check(x, "gt_max", "x", -1)) return NULL;
    int d = gt__dim(x, dim, "gt_max");
    if (d < 0) return NULL;
    if (x->shape[d] == 0) return gt__fail(GT_ERR_ARG, "gt_max: dim %d is empty", dim);
    gt_tensor *xc = gt_contiguous(x);
    if (!xc) return NULL;
    int64_t os[GT_MAX_DIMS];
    int on = 0;
    for (int i = 0; i < x->ndim; i++)
        if (i != d || keepdim) os[on++] = i == d ? 1 : x->shape[i];
    gt_tensor *out = gt__new(GT_F32, on, os);
    bool grad = gt__needs_grad(1, &x);
    gt_tensor *onehot = grad ? gt_zeros(x->ndim, x->shape) : NULL;
    if (!out || (grad && !onehot)) return NULL;
    int64_t outer = 1, inner = 1, L = x->shape[d];
    for (int i = 0; i < d; i++) outer *= x->shape[i];
    for (int i = d + 1; i < x->ndim; i++) inner *= x->shape[i];
    GT_K(gt__kern(3, (gt_tensor *const[]){xc, out, onehot}), max_dim)(outer, L, inner, gt__ptr(xc), gt__ptr(out),
                                                                        onehot ? gt__ptr(onehot) : NULL);
    if (grad) {
        gt_node *nd = gt__record(out, GT_OP_MAX, gt__max_bw, 1, &x);
        if (!nd) return NULL;
        nd->iarg[0] = d;
        gt__save(nd, onehot);
    }
    return out;
}

/* logsumexp = m + log(sum(exp(x - m))) with m = max(x) held constant: the
 * composite is exact and differentiates to softmax (and again). */
gt_tensor *gt_logsumexp(gt_tensor *x, int dim, bool keepdim) {
    if (!gt__check(x, "gt_logsumexp", "x", -1)) return NULL;
    int d = gt__dim(x, dim, "gt_logsumexp");
    if (d < 0) return NULL;
    bool prev = gt_no_grad_begin();
    gt_tensor *m = gt_max(x, d, true);
    gt_grad_mode_restore(prev);
    if (!m) return NULL;
    /* guard against -inf rows: use 0 there */
    GT_K(gt__kern(1, &m), nonfinite_to_zero)(gt_numel(m), gt__ptr(m));
    gt_tensor *s = gt_add(gt_log(gt_sum(gt_exp(gt_sub(x, m)), 1, &d, true)), m);
    if (!s || keepdim) return s;
    return gt_squeeze(s, d);
}

gt_tensor *gt_log_softmax(gt_tensor *x, int dim) { return gt_sub(x, gt_logsumexp(x, dim, true)); }
gt_tensor *gt_softmax(gt_tensor *x, int dim) { return gt_exp(gt_log_softmax(x, dim)); }
