/* Views and shape ops: reshape, permute, slice, concat, split, expand,
 * contiguous, (un)squeeze. Views share storage; their backward maps the
 * gradient back with the inverse view. */
#include "../backend/kernels.h"
#include "../internal.h"

static gt_tensor *gt__record1(gt_tensor *out, gt_op op, gt_backward_fn bw, gt_tensor *x) {
    if (out && gt__needs_grad(1, &x) && !gt__record(out, op, bw, 1, &x)) return NULL;
    return out;
}

/* --- contiguous ----------------------------------------------------------- */
static gt_status gt__contig_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    (void)n;
    gx[0] = gt__autorelease(gt_retain(gy));
    return GT_OK;
}

gt_tensor *gt_contiguous(gt_tensor *x) {
    if (!x) return NULL;
    if (gt_is_contiguous(x)) return gt__autorelease(gt_retain(x));
    gt_tensor *out = gt__new(x->dtype, x->ndim, x->shape);
    if (!out) return NULL;
    if (x->dtype == GT_I32) {
        /* integer tensors: a plain strided walk (rare, small) */
        int64_t n = gt_numel(x);
        (void)gt_data_i32(x); /* host access: waits for a device's queued work */
        const int32_t *s = (const int32_t *)x->storage->data;
        int32_t *d = gt_data_i32(out);
        for (int64_t i = 0; i < n; i++) {
            int64_t r = i, o = x->offset;
            for (int k = x->ndim - 1; k >= 0; k--) {
                o += (r % x->shape[k]) * x->stride[k];
                r /= x->shape[k];
            }
            d[i] = s[o];
        }
        return out;
    }
    GT_K(gt__kern(2, (gt_tensor *const[]){x, out}), copy)(x->ndim, x->shape, gt__ptr(x), x->stride, gt__ptr(out));
    return gt__record1(out, GT_OP_CONTIGUOUS, gt__contig_bw, x);
}

/* --- reshape -------------------------------------------------------------- */
static gt_status gt__reshape_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt_reshape(gy, n->in[0]->ndim, n->in[0]->shape);
    return GT_OK;
}

gt_tensor *gt_reshape(gt_tensor *x, int ndim, const int64_t *shape_in) {
    if (!x) return NULL;
    if (ndim < 0 || ndim > GT_MAX_DIMS) return gt__fail(GT_ERR_ARG, "gt_reshape: ndim %d outside 0..%d", ndim, GT_MAX_DIMS);
    int64_t shape[GT_MAX_DIMS], known = 1;
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        shape[i] = shape_in[i];
        if (shape[i] == -1) {
            if (infer >= 0) return gt__fail(GT_ERR_ARG, "gt_reshape: more than one -1 in the new shape");
            infer = i;
        } else if (shape[i] < 0) {
            return gt__fail(GT_ERR_ARG, "gt_reshape: negative size %lld", (long long)shape[i]);
        } else {
            known *= shape[i];
        }
    }
    int64_t n = gt_numel(x);
    if (infer >= 0) {
        if (known == 0 || n % known != 0) {
            char b[96];
            return gt__fail(GT_ERR_SHAPE, "gt_reshape: cannot infer -1 reshaping %s (%lld elements)",
                            gt_shape_str(x, b, sizeof b), (long long)n);
        }
        shape[infer] = n / known;
        known *= shape[infer];
    }
    if (known != n) {
        char b[96];
        return gt__fail(GT_ERR_SHAPE, "gt_reshape: %s has %lld elements, the new shape %lld", gt_shape_str(x, b, sizeof b),
                        (long long)n, (long long)known);
    }
    gt_tensor *c = gt_contiguous(x);
    if (!c) return NULL;
    int64_t st[GT_MAX_DIMS];
    gt__contiguous_strides(ndim, shape, st);
    gt_tensor *out = gt__view(c, ndim, shape, st, c->offset);
    return gt__record1(out, GT_OP_RESHAPE, gt__reshape_bw, c);
}

gt_tensor *gt_flatten(gt_tensor *x, int start_dim) {
    if (!x) return NULL;
    int d = gt__dim(x, start_dim, "gt_flatten");
    if (d < 0) return NULL;
    int64_t shape[GT_MAX_DIMS];
    for (int i = 0; i < d; i++) shape[i] = x->shape[i];
    shape[d] = -1;
    return gt_reshape(x, d + 1, shape);
}

gt_tensor *gt_unsqueeze(gt_tensor *x, int dim) {
    if (!x) return NULL;
    int d = dim < 0 ? dim + x->ndim + 1 : dim;
    if (d < 0 || d > x->ndim || x->ndim >= GT_MAX_DIMS)
        return gt__fail(GT_ERR_ARG, "gt_unsqueeze: dim %d out of range for %d dims", dim, x->ndim);
    int64_t shape[GT_MAX_DIMS];
    for (int i = 0, k = 0; i <= x->ndim; i++) shape[i] = i == d ? 1 : x->shape[k++];
    return gt_reshape(x, x->ndim + 1, shape);
}

gt_tensor *gt_squeeze(gt_tensor *x, int dim) {
    if (!x) return NULL;
    int d = gt__dim(x, dim, "gt_squeeze");
    if (d < 0) return NULL;
    if (x->shape[d] != 1) return gt__autorelease(gt_retain(x));
    int64_t shape[GT_MAX_DIMS];
    for (int i = 0, k = 0; i < x->ndim; i++)
        if (i != d) shape[k++] = x->shape[i];
    return gt_reshape(x, x->ndim - 1, shape);
}

/* --- permute -------------------------------------------------------------- */
static gt_status gt__permute_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    int inv[GT_MAX_DIMS];
    for (int i = 0; i < n->in[0]->ndim; i++) inv[n->iarg[i]] = i;
    gx[0] = gt_permute(gy, inv);
    return GT_OK;
}

gt_tensor *gt_permute(gt_tensor *x, const int *perm) {
    if (!x) return NULL;
    bool seen[GT_MAX_DIMS] = {0};
    int64_t shape[GT_MAX_DIMS], st[GT_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) {
        int p = perm[i];
        if (p < 0 || p >= x->ndim || seen[p])
            return gt__fail(GT_ERR_ARG, "gt_permute: entry %d (%d) is not a permutation of 0..%d", i, p, x->ndim - 1);
        seen[p] = true;
        shape[i] = x->shape[p];
        st[i] = x->stride[p];
    }
    gt_tensor *out = gt__view(x, x->ndim, shape, st, x->offset);
    out = gt__record1(out, GT_OP_PERMUTE, gt__permute_bw, x);
    if (out && out->node)
        for (int i = 0; i < x->ndim; i++) out->node->iarg[i] = perm[i];
    return out;
}

gt_tensor *gt_transpose(gt_tensor *x, int d0, int d1) {
    if (!x) return NULL;
    int a = gt__dim(x, d0, "gt_transpose"), b = a < 0 ? -1 : gt__dim(x, d1, "gt_transpose");
    if (a < 0 || b < 0) return NULL;
    int perm[GT_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) perm[i] = i;
    perm[a] = b;
    perm[b] = a;
    return gt_permute(x, perm);
}

/* --- slice and its adjoint ---------------------------------------------- */
/* iarg: dim, start, end, step */
static gt_tensor *gt__slice_backward(gt_tensor *g, gt_tensor *src_shape_of, const int64_t *a);

static gt_status gt__slice_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__slice_backward(gy, n->in[0], n->iarg);
    return GT_OK;
}

static gt_status gt__slice_backward_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt_slice(gy, (int)n->iarg[0], n->iarg[1], n->iarg[2], n->iarg[3]);
    return GT_OK;
}

static gt_tensor *gt__slice_backward(gt_tensor *g, gt_tensor *like, const int64_t *a) {
    if (!g) return NULL;
    gt_tensor *out = gt_zeros(like->ndim, like->shape);
    if (!out) return NULL;
    gt_tensor *dst = gt__view(out, out->ndim, out->shape, out->stride, 0);
    if (!dst) return NULL;
    int d = (int)a[0];
    dst->offset = a[1] * out->stride[d];
    dst->shape[d] = g->shape[d];
    dst->stride[d] = out->stride[d] * a[3];
    /* strided write of g (made contiguous) into the view */
    gt_tensor *gc;
    {
        bool prev = gt_no_grad_begin(); /* data only: the node below records g itself */
        gc = gt_contiguous(g);
        gt_grad_mode_restore(prev);
    }
    if (!gc) return NULL;
    GT_K(gt__kern(2, (gt_tensor *const[]){gc, out}), copy_to_strided)(dst->ndim, dst->shape, gt__ptr(gc),
                                                                       gt__ptr(dst), dst->stride);
    if (gt__needs_grad(1, &g)) {
        gt_node *nd = gt__record(out, GT_OP_SLICE_BACKWARD, gt__slice_backward_bw, 1, &g);
        if (!nd) return NULL;
        for (int i = 0; i < 4; i++) nd->iarg[i] = a[i];
    }
    return out;
}

gt_tensor *gt_slice(gt_tensor *x, int dim, int64_t start, int64_t end, int64_t step) {
    if (!x) return NULL;
    int d = gt__dim(x, dim, "gt_slice");
    if (d < 0) return NULL;
    if (step <= 0) return gt__fail(GT_ERR_ARG, "gt_slice: step must be positive, got %lld", (long long)step);
    int64_t L = x->shape[d];
    if (start < 0) start += L;
    if (end < 0) end += L;
    if (start < 0) start = 0;
    if (end > L) end = L;
    if (start > L) start = L;
    if (end < start) end = start;
    int64_t shape[GT_MAX_DIMS], st[GT_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) {
        shape[i] = x->shape[i];
        st[i] = x->stride[i];
    }
    shape[d] = (end - start + step - 1) / step;
    st[d] = x->stride[d] * step;
    gt_tensor *out = gt__view(x, x->ndim, shape, st, x->offset + start * x->stride[d]);
    out = gt__record1(out, GT_OP_SLICE, gt__slice_bw, x);
    if (out && out->node) {
        out->node->iarg[0] = d;
        out->node->iarg[1] = start;
        out->node->iarg[2] = end;
        out->node->iarg[3] = step;
    }
    return out;
}

gt_status gt_split(gt_tensor *x, int dim, int n, const int64_t *sizes, gt_tensor **out) {
    if (!x) return gt_last_status() ? gt_last_status() : gt_set_error(GT_ERR_ARG, "gt_split: x is NULL");
    int d = gt__dim(x, dim, "gt_split");
    if (d < 0) return GT_ERR_ARG;
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0) return gt_set_error(GT_ERR_ARG, "gt_split: size %d is negative", i);
        total += sizes[i];
    }
    if (total != x->shape[d]) {
        char b[96];
        return gt_set_error(GT_ERR_SHAPE, "gt_split: sizes add up to %lld but dim %d of %s is %lld", (long long)total,
                            dim, gt_shape_str(x, b, sizeof b), (long long)x->shape[d]);
    }
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        out[i] = gt_slice(x, d, at, at + sizes[i], 1);
        if (!out[i]) return gt_last_status();
        at += sizes[i];
    }
    return GT_OK;
}

/* --- concat ----------------------------------------------------------------- */
static gt_status gt__concat_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    int d = (int)n->iarg[0];
    int64_t at = 0;
    for (int i = 0; i < n->n_in; i++) {
        int64_t len = n->in[i]->shape[d];
        if (gt__need(n, i)) gx[i] = gt_slice(gy, d, at, at + len, 1);
        at += len;
    }
    return GT_OK;
}

static gt_tensor *gt__concat_fwd(int n, gt_tensor *const *ts, int d) {
    const gt_tensor *t0 = ts[0];
    int64_t shape[GT_MAX_DIMS];
    for (int i = 0; i < t0->ndim; i++) shape[i] = t0->shape[i];
    shape[d] = 0;
    for (int k = 0; k < n; k++) shape[d] += ts[k]->shape[d];
    gt_tensor *out = gt__new(GT_F32, t0->ndim, shape);
    if (!out) return NULL;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < d; i++) outer *= shape[i];
    for (int i = d + 1; i < t0->ndim; i++) inner *= shape[i];
    int64_t at = 0;
    for (int k = 0; k < n; k++) {
        gt_tensor *c = gt_contiguous(ts[k]);
        if (!c) return NULL;
        int64_t len = ts[k]->shape[d] * inner;
        GT_K(gt__kern(2, (gt_tensor *const[]){c, out}), copy_rows)(outer, len, gt__ptr(c), len,
                                                                     gt__ptr(out) + at, shape[d] * inner);
        at += len;
    }
    return out;
}

gt_tensor *gt_concat(int n, gt_tensor *const *ts, int dim) {
    if (n <= 0 || !ts) return gt__fail(GT_ERR_ARG, "gt_concat: needs at least one tensor");
    for (int k = 0; k < n; k++)
        if (!gt__check(ts[k], "gt_concat", "input", -1)) return NULL;
    int d = gt__dim(ts[0], dim, "gt_concat");
    if (d < 0) return NULL;
    for (int k = 1; k < n; k++) {
        bool ok = ts[k]->ndim == ts[0]->ndim;
        for (int i = 0; ok && i < ts[0]->ndim; i++)
            if (i != d && ts[k]->shape[i] != ts[0]->shape[i]) ok = false;
        if (!ok) {
            char a[96], b[96];
            return gt__fail(GT_ERR_SHAPE, "gt_concat: tensor %d has shape %s, tensor 0 %s; they must match except in dim %d",
                            k, gt_shape_str(ts[k], a, sizeof a), gt_shape_str(ts[0], b, sizeof b), dim);
        }
    }
    /* chain in groups of GT_NODE_MAX_IN so each node has a bounded input list */
    if (n > GT_NODE_MAX_IN && gt__needs_grad(n, ts)) {
        gt_tensor *acc = gt_concat(GT_NODE_MAX_IN, ts, d);
        for (int k = GT_NODE_MAX_IN; k < n && acc; k += GT_NODE_MAX_IN - 1) {
            gt_tensor *grp[GT_NODE_MAX_IN] = {acc};
            int m = GT_MIN(GT_NODE_MAX_IN - 1, n - k);
            for (int j = 0; j < m; j++) grp[1 + j] = ts[k + j];
            acc = gt_concat(m + 1, grp, d);
        }
        return acc;
    }
    gt_tensor *out = gt__concat_fwd(n, ts, d);
    if (out && gt__needs_grad(n, ts)) {
        gt_node *nd = gt__record(out, GT_OP_CONCAT, gt__concat_bw, n, ts);
        if (!nd) return NULL;
        nd->iarg[0] = d;
    }
    return out;
}

/* --- expand ------------------------------------------------------------------ */
static gt_status gt__expand_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt_sum_to(gy, n->in[0]->ndim, n->in[0]->shape);
    return GT_OK;
}

gt_tensor *gt_expand(gt_tensor *x, int ndim, const int64_t *shape) {
    if (!x) return NULL;
    if (ndim < x->ndim || ndim > GT_MAX_DIMS) {
        char b[96];
        return gt__fail(GT_ERR_SHAPE, "gt_expand: cannot expand %s to %d dims", gt_shape_str(x, b, sizeof b), ndim);
    }
    int64_t st[GT_MAX_DIMS];
    int lead = ndim - x->ndim;
    for (int i = 0; i < ndim; i++) {
        int k = i - lead;
        if (k < 0) st[i] = 0;
        else if (x->shape[k] == shape[i]) st[i] = x->stride[k];
        else if (x->shape[k] == 1) st[i] = 0;
        else {
            char b[96];
            return gt__fail(GT_ERR_SHAPE, "gt_expand: dim %d of %s is %lld, cannot expand to %lld", k,
                            gt_shape_str(x, b, sizeof b), (long long)x->shape[k], (long long)shape[i]);
        }
    }
    gt_tensor *out = gt__view(x, ndim, shape, st, x->offset);
    return gt__record1(out, GT_OP_EXPAND, gt__expand_bw, x);
}
