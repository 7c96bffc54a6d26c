/* Embedding lookup (a row gather) and its adjoint, the row scatter-add. Each
 * is the other's backward, so gradients of gradients work. */
#include "../backend/kernels.h"
#include "../internal.h"

static gt_tensor *gt__embedding_backward(gt_tensor *g, gt_tensor *idx, int64_t num);

/* iarg[0] = num; saved[0] = idx (contiguous i32) */
static gt_status gt__embedding_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__embedding_backward(gy, n->saved[0], n->iarg[0]);
    return GT_OK;
}

static gt_status gt__embedding_backward_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt_embedding(gy, n->saved[0]);
    return GT_OK;
}

/* The adjoint of the gather: g (idx..., dim) scatter-added into zeros (num, dim). */
static gt_tensor *gt__embedding_backward(gt_tensor *g, gt_tensor *idx, int64_t num) {
    if (!g) return NULL;
    int64_t dim = g->shape[g->ndim - 1], n = gt_numel(idx);
    gt_tensor *gc;
    {
        bool prev = gt_no_grad_begin(); /* data only: the node below records g itself */
        gc = gt_contiguous(g);
        gt_grad_mode_restore(prev);
    }
    gt_tensor *out = gt_zeros(GT_SHAPE(num, dim)); // (num, dim)
    if (!gc || !out) return NULL;
    gt_tensor *ts[3] = {gc, idx, out};
    GT_K(gt__kern(3, ts), embed_scatter)(gt__ptr(gc), gt__ptr_i32(idx), n, dim, gt__ptr(out));
    if (gt__needs_grad(1, &g)) {
        gt_node *nd = gt__record(out, GT_OP_EMBEDDING_BACKWARD, gt__embedding_backward_bw, 1, &g);
        if (!nd) return NULL;
        gt__save(nd, idx);
    }
    return out;
}

gt_tensor *gt_embedding(gt_tensor *weight, gt_tensor *idx) {
    if (!gt__check(weight, "gt_embedding", "weight", 2) || !idx) return NULL;
    if (idx->dtype != GT_I32) return gt__fail(GT_ERR_ARG, "gt_embedding: idx must be int32 (gt_from_i32)");
    if (idx->ndim >= GT_MAX_DIMS) {
        char b[96];
        return gt__fail(GT_ERR_SHAPE, "gt_embedding: idx %s has too many dims (the output adds one, at most %d)",
                        gt_shape_str(idx, b, sizeof b), GT_MAX_DIMS);
    }
    int64_t num = weight->shape[0], dim = weight->shape[1], n = gt_numel(idx);
    gt_tensor *ic = gt_contiguous(idx); /* i32: no graph */
    if (!ic) return NULL;
    const int32_t *pi = gt_data_i32(ic);
    for (int64_t i = 0; i < n; i++)
        if (pi[i] < 0 || pi[i] >= num) {
            char b[96];
            return gt__fail(GT_ERR_ARG,
                            "gt_embedding: index %d (at flat position %lld of idx) is out of range for num = %lld "
                            "embeddings (weight %s); indices must be in [0, %lld)",
                            (int)pi[i], (long long)i, (long long)num, gt_shape_str(weight, b, sizeof b),
                            (long long)num);
        }
    int64_t shape[GT_MAX_DIMS];
    for (int d = 0; d < idx->ndim; d++) shape[d] = idx->shape[d];
    shape[idx->ndim] = dim;
    gt_tensor *out = gt__new(GT_F32, idx->ndim + 1, shape); // (idx..., dim)
    if (!out) return NULL;
    gt_tensor *ts[3] = {weight, ic, out};
    GT_K(gt__kern(3, ts), embed_gather)(gt__ptr(weight), weight->stride[0], weight->stride[1], gt__ptr_i32(ic), n,
                                          dim, gt__ptr(out));
    if (gt__needs_grad(1, &weight)) {
        gt_node *nd = gt__record(out, GT_OP_EMBEDDING, gt__embedding_bw, 1, &weight);
        if (!nd) return NULL;
        nd->iarg[0] = num;
        gt__save(nd, ic);
    }
    return out;
}
