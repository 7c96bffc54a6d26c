/* Normalisation ops: batch norm (fused forward; fused backward when no graph
 * is recorded, a composite of ops when one is, so gradient penalties can
 * differentiate through it), and instance / layer norm, which are batch norm
 * on a reshaped tensor (plus the affine part for layer norm). */
#include "../backend/kernels.h"
#include "../internal.h"

bool gt__bn_sync_on(void);
gt_tensor *gt__bn_sync(gt_tensor *x, gt_tensor *weight, gt_tensor *bias, gt_tensor *rmean, gt_tensor *rvar,
                       float momentum, float eps);

/* Batch-norm node:
 *   in[0] = x (contiguous, (N, C, ...)); in[1], in[2] = weight and/or bias (C)
 *   iarg[0] = index of weight in in[] or -1, iarg[1] = index of bias or -1,
 *   iarg[2] = training; farg[0] = eps
 *   saved[0] = mean (C), saved[1] = invstd (C): the batch statistics when
 *   training, a snapshot of the running ones in eval mode. */

/* The dims a batch norm reduces over: all but dim 1. */
static int gt__bn_dims(int ndim, int *dims) {
    int k = 0;
    for (int d = 0; d < ndim; d++)
        if (d != 1) dims[k++] = d;
    return k;
}

/* A (C) tensor viewed as (1, C, 1, ...) to broadcast against an ndim-dim x. */
static gt_tensor *gt__chan(gt_tensor *t, int ndim) {
    int64_t shape[GT_MAX_DIMS];
    for (int d = 0; d < ndim; d++) shape[d] = 1;
    if (!t) return NULL;
    shape[1] = t->shape[0];
    return gt_reshape(t, ndim, shape);
}

/* Backward written with ops (used while a graph is being recorded). */
static gt_status gt__bn_bw_composite(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *x = n->in[0];
    int iw = (int)n->iarg[0], ib = (int)n->iarg[1];
    gt_tensor *w = iw >= 0 ? n->in[iw] : NULL;
    bool training = n->iarg[2] != 0;
    int dims[GT_MAX_DIMS], nd = x->ndim, k = gt__bn_dims(nd, dims);
    gt_tensor *xh, *inv;
    if (training) { /* recompute the statistics from x so they carry their gradient */
        gt_tensor *xc = gt_sub(x, gt_mean(x, k, dims, true));
        inv = gt_pow_scalar(gt_add_scalar(gt_mean(gt_mul(xc, xc), k, dims, true), n->farg[0]), -0.5f);
        xh = gt_mul(xc, inv);
    } else {
        inv = gt__chan(n->saved[1], nd);
        xh = gt_mul(gt_sub(x, gt__chan(n->saved[0], nd)), inv);
    }
    if (ib >= 0 && gt__need(n, ib)) gx[ib] = gt_sum(gy, k, dims, false);
    if (iw >= 0 && gt__need(n, iw)) gx[iw] = gt_sum(gt_mul(gy, xh), k, dims, false);
    if (gt__need(n, 0)) {
        gt_tensor *g = w ? gt_mul(gy, gt__chan(w, nd)) : gy;
        if (training) {
            gt_tensor *proj = gt_mul(xh, gt_mean(gt_mul(g, xh), k, dims, true));
            g = gt_sub(gt_sub(g, gt_mean(g, k, dims, true)), proj);
        }
        gx[0] = gt_mul(g, inv);
    }
    return GT_OK;
}

static gt_status gt__bn_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    if (gt_grad_enabled()) return gt__bn_bw_composite(n, gy, gx);
    gt_tensor *x = n->in[0];
    int iw = (int)n->iarg[0], ib = (int)n->iarg[1];
    gt_tensor *w = iw >= 0 ? gt_contiguous(n->in[iw]) : NULL;
    gt_tensor *g = gt_contiguous(gy);
    if (!g || (iw >= 0 && !w)) return gt_last_status();
    int64_t N = x->shape[0], C = x->shape[1], S = gt_numel(x) / (N * C);
    gt_tensor *dx = gt__need(n, 0) ? gt__new_like(x) : NULL;
    gt_tensor *dw = iw >= 0 && gt__need(n, iw) ? gt__new(GT_F32, 1, &C) : NULL;
    gt_tensor *db = ib >= 0 && gt__need(n, ib) ? gt__new(GT_F32, 1, &C) : NULL;
    if ((gt__need(n, 0) && !dx) || (iw >= 0 && gt__need(n, iw) && !dw) || (ib >= 0 && gt__need(n, ib) && !db))
        return gt_last_status();
    gt_tensor *ts[8] = {x, g, n->saved[0], n->saved[1], w, dx, dw, db};
    GT_K(gt__kern(8, ts), bn_backward)(N, C, S, gt__ptr(x), gt__ptr(g), gt__ptr(n->saved[0]), gt__ptr(n->saved[1]),
                                       w ? gt__ptr(w) : NULL, n->iarg[2] != 0, dx ? gt__ptr(dx) : NULL,
                                       dw ? gt__ptr(dw) : NULL, db ? gt__ptr(db) : NULL);
    gx[0] = dx;
    if (iw >= 0) gx[iw] = dw;
    if (ib >= 0) gx[ib] = db;
    return GT_OK;
}

/* Batch norm without the public argument checks (x has >= 2 dims, weight and
 * bias are (C) or NULL, the running statistics (C) contiguous or NULL). */
static gt_tensor *gt__bn(gt_tensor *x, gt_tensor *weight, gt_tensor *bias, gt_tensor *rmean, gt_tensor *rvar,
                         bool training, float momentum, float eps) {
    if (!x) return NULL;
    gt_tensor *xc = gt_contiguous(x);
    gt_tensor *w = weight ? gt_contiguous(weight) : NULL, *b = bias ? gt_contiguous(bias) : NULL;
    if (!xc || (weight && !w) || (bias && !b)) return NULL;
    int64_t N = x->shape[0], C = x->shape[1], S = (N * C != 0) ? gt_numel(x) / (N * C) : 0;
    gt_tensor *mean = gt__new(GT_F32, 1, &C), *inv = gt__new(GT_F32, 1, &C), *y = gt__new_like(x);
    if (!mean || !inv || !y) return NULL;
    float *pm = gt__ptr(mean), *pi = gt__ptr(inv);
    gt_tensor *ts[8] = {xc, w, b, rmean, rvar, mean, inv, y};
    const gt_kernels *K = gt__kern(8, ts);
    if (training) GT_K(K, bn_stats)(N, C, S, gt__ptr(xc), pm, pi);
    GT_K(K, bn_prepare)(C, training, (double)(N * S), momentum, eps, rmean ? gt__ptr(rmean) : NULL,
                        rvar ? gt__ptr(rvar) : NULL, pm, pi);
    GT_K(K, bn_apply)(N, C, S, gt__ptr(xc), pm, pi, w ? gt__ptr(w) : NULL, b ? gt__ptr(b) : NULL, gt__ptr(y));
    gt_tensor *in[3] = {xc};
    int n_in = 1, iw = -1, ib = -1;
    if (w) in[iw = n_in++] = w;
    if (b) in[ib = n_in++] = b;
    if (gt__needs_grad(n_in, in)) {
        gt_node *nd = gt__record(y, GT_OP_BATCH_NORM, gt__bn_bw, n_in, in);
        if (!nd) return NULL;
        nd->iarg[0] = iw;
        nd->iarg[1] = ib;
        nd->iarg[2] = training;
        nd->farg[0] = eps;
        gt__save(nd, mean);
        gt__save(nd, inv);
    }
    return y;
}

/* t is NULL or a float (n) vector; otherwise an error naming both shapes. */
static bool gt__check_vec(const gt_tensor *t, int64_t n, const gt_tensor *x, const char *op, const char *arg) {
    if (!t) return true;
    if (t->dtype != GT_F32 || t->ndim != 1 || t->shape[0] != n) {
        char a[96], b[96];
        gt_set_error(GT_ERR_SHAPE, "%s: %s has shape %s%s but x %s has %lld channels: expected (%lld,)", op, arg,
                     gt_shape_str(t, a, sizeof a), t->dtype != GT_F32 ? " (not float32)" : "",
                     gt_shape_str(x, b, sizeof b), (long long)n, (long long)n);
        return false;
    }
    return true;
}

static bool gt__check_eps(float eps, const char *op) {
    if (eps >= 0.0f && isfinite(eps)) return true;
    gt_set_error(GT_ERR_ARG, "%s: eps must be finite and >= 0, got %g", op, eps);
    return false;
}

gt_tensor *gt_batch_norm(gt_tensor *x, gt_tensor *weight, gt_tensor *bias, gt_tensor *running_mean,
                         gt_tensor *running_var, bool training, float momentum, float eps) {
    const char *op = "gt_batch_norm";
    if (!gt__check(x, op, "x", -1)) return NULL;
    char b[96];
    if (x->ndim < 2)
        return gt__fail(GT_ERR_SHAPE, "gt_batch_norm: x must be (N, C) or (N, C, H, W), got shape %s",
                        gt_shape_str(x, b, sizeof b));
    int64_t C = x->shape[1], M = C ? gt_numel(x) / C : 0;
    if (!gt__check_vec(weight, C, x, op, "weight") || !gt__check_vec(bias, C, x, op, "bias") ||
        !gt__check_vec(running_mean, C, x, op, "running_mean") ||
        !gt__check_vec(running_var, C, x, op, "running_var") || !gt__check_eps(eps, op))
        return NULL;
    if (!running_mean != !running_var)
        return gt__fail(GT_ERR_ARG, "gt_batch_norm: pass both running_mean and running_var, or neither");
    if ((running_mean && !gt_is_contiguous(running_mean)) || (running_var && !gt_is_contiguous(running_var)))
        return gt__fail(GT_ERR_ARG, "gt_batch_norm: running_mean / running_var must be contiguous (updated in place)");
    if (!training && !running_mean)
        return gt__fail(GT_ERR_ARG, "gt_batch_norm: eval mode (training=false) needs running_mean and running_var");
    if (training && M <= 1)
        return gt__fail(GT_ERR_SHAPE,
                        "gt_batch_norm: expected more than 1 value per channel when training, got x of shape %s",
                        gt_shape_str(x, b, sizeof b));
    if (training && !(momentum >= 0.0f && momentum <= 1.0f))
        return gt__fail(GT_ERR_ARG, "gt_batch_norm: momentum must be in [0, 1], got %g", momentum);
    if (training && gt__bn_sync_on()) /* --sync-bn: the whole data-parallel batch's statistics (norm_sync.c) */
        return gt__bn_sync(x, weight, bias, running_mean, running_var, momentum, eps);
    return gt__bn(x, weight, bias, running_mean, running_var, training, momentum, eps);
}

gt_tensor *gt_instance_norm(gt_tensor *x, gt_tensor *weight, gt_tensor *bias, float eps) {
    const char *op = "gt_instance_norm";
    if (!gt__check(x, op, "x", -1)) return NULL;
    char b[96];
    if (x->ndim < 3)
        return gt__fail(GT_ERR_SHAPE, "gt_instance_norm: x must be (N, C, H, W) (or (N, C, L)), got shape %s",
                        gt_shape_str(x, b, sizeof b));
    int64_t N = x->shape[0], C = x->shape[1], S = (N * C != 0) ? gt_numel(x) / (N * C) : 0;
    if (!gt__check_vec(weight, C, x, op, "weight") || !gt__check_vec(bias, C, x, op, "bias") ||
        !gt__check_eps(eps, op))
        return NULL;
    if (S <= 1 || N * C == 0)
        return gt__fail(GT_ERR_SHAPE, "gt_instance_norm: expected more than 1 spatial element, got x of shape %s",
                        gt_shape_str(x, b, sizeof b));
    /* each (n, c) plane is one channel of a (1, N*C, S) batch norm; the
     * affine parameters repeat over n */
    int64_t NC = N * C;
    gt_tensor *w = weight ? gt_reshape(gt_expand(gt_reshape(weight, GT_SHAPE(1, C)), GT_SHAPE(N, C)), 1, &NC) : NULL;
    gt_tensor *bb = bias ? gt_reshape(gt_expand(gt_reshape(bias, GT_SHAPE(1, C)), GT_SHAPE(N, C)), 1, &NC) : NULL;
    if ((weight && !w) || (bias && !bb)) return NULL;
    gt_tensor *xr = gt_reshape(x, GT_SHAPE(1, NC, S));
    if (!xr) return NULL;
    return gt_reshape(gt__bn(xr, w, bb, NULL, NULL, true, 0.0f, eps), x->ndim, x->shape);
}

gt_tensor *gt_layer_norm(gt_tensor *x, int n_norm, gt_tensor *weight, gt_tensor *bias, float eps) {
    const char *op = "gt_layer_norm";
    if (!gt__check(x, op, "x", -1) || !gt__check_eps(eps, op)) return NULL;
    char a[96], b[96];
    if (n_norm < 1 || n_norm > x->ndim)
        return gt__fail(GT_ERR_ARG, "gt_layer_norm: n_norm %d must be in 1..%d for x of shape %s", n_norm, x->ndim,
                        gt_shape_str(x, b, sizeof b));
    int lead = x->ndim - n_norm;
    int64_t K = gt__shape_numel(n_norm, x->shape + lead), M = gt__shape_numel(lead, x->shape);
    gt_tensor *const ps[2] = {weight, bias};
    for (int i = 0; i < 2; i++) {
        gt_tensor *p = ps[i];
        if (!p) continue;
        bool ok = p->dtype == GT_F32 && p->ndim == n_norm;
        for (int d = 0; ok && d < n_norm; d++) ok = p->shape[d] == x->shape[lead + d];
        if (!ok)
            return gt__fail(GT_ERR_SHAPE,
                            "gt_layer_norm: %s has shape %s but must be float32 and match the last %d dims of x %s",
                            i ? "bias" : "weight", gt_shape_str(p, a, sizeof a), n_norm, gt_shape_str(x, b, sizeof b));
    }
    if (K == 0 || M == 0)
        return gt__fail(GT_ERR_SHAPE, "gt_layer_norm: x of shape %s is empty", gt_shape_str(x, b, sizeof b));
    /* each row of K values is one channel of a (1, M, K) batch norm */
    gt_tensor *y = gt_reshape(gt__bn(gt_reshape(x, GT_SHAPE(1, M, K)), NULL, NULL, NULL, NULL, true, 0.0f, eps),
                              x->ndim, x->shape);
    if (weight) y = gt_mul(y, weight);
    if (bias) y = gt_add(y, bias);
    return y;
}
