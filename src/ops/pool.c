/* Pooling ops: avg_pool2d, max_pool2d, adaptive_avg_pool2d. Each backward is
 * an op of its own whose backward is the forward again (avg pool and its
 * adjoint), or, for max pool, a scatter through the argmax whose backward is
 * the matching gather (and the gather's is the scatter), so gradients of
 * gradients flow through every one of them. */
#include "../backend/kernels.h"
#include "../internal.h"

/* The kernel fn of the table for an op reading a and writing b. */
#define GT__K2(a, b, fn) GT_K(gt__kern(2, (gt_tensor *const[]){(a), (b)}), fn)

/* The geometry rides in a node's iarg[0..10]. */
static void gt__geom_put(gt_node *n, const gt_pool2d_geom *g) {
    int64_t v[11] = {g->H, g->W, g->OH, g->OW, g->kh, g->kw, g->sh, g->sw, g->ph, g->pw, g->count_include_pad};
    memcpy(n->iarg, v, sizeof v);
}
static gt_pool2d_geom gt__geom_get(const gt_node *n) {
    const int64_t *v = n->iarg;
    gt_pool2d_geom g = {v[0], v[1], v[2], v[3], (int)v[4], (int)v[5], (int)v[6], (int)v[7], (int)v[8], (int)v[9],
                        v[10] != 0};
    return g;
}

/* PyTorch's pooling_output_shape (dilation 1): floor division, and in
 * ceil_mode the last window must start inside the input or the left padding. */
static int64_t gt__pool_out(int64_t in, int k, int s, int p, bool ceil_mode) {
    int64_t num = in + 2 * (int64_t)p - (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
    int64_t q = num >= 0 ? num / s : -((-num + s - 1) / s);
    int64_t o = q + 1;
    if (ceil_mode && (o - 1) * s >= in + p) o--;
    return o;
}

/* Validates the arguments and fills g; on failure the error is set (or, for a
 * NULL x, left as the earlier one). */
static gt_status gt__pool_geom(const gt_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil_mode,
                               bool cip, const char *op, gt_pool2d_geom *g) {
    char b[96];
    if (!gt__check(x, op, "x", 4)) return GT_ERR_ARG;
    if (kh <= 0 || kw <= 0) return gt_set_error(GT_ERR_ARG, "%s: kernel size must be > 0, got %dx%d", op, kh, kw);
    if (sh <= 0 || sw <= 0) return gt_set_error(GT_ERR_ARG, "%s: stride must be > 0, got %dx%d", op, sh, sw);
    if (ph < 0 || pw < 0 || ph > kh / 2 || pw > kw / 2)
        return gt_set_error(GT_ERR_ARG, "%s: padding %dx%d must be >= 0 and at most half the kernel %dx%d", op, ph,
                            pw, kh, kw);
    g->H = x->shape[2];
    g->W = x->shape[3];
    g->OH = gt__pool_out(g->H, kh, sh, ph, ceil_mode);
    g->OW = gt__pool_out(g->W, kw, sw, pw, ceil_mode);
    if (g->H < 1 || g->W < 1 || g->OH < 1 || g->OW < 1)
        return gt_set_error(GT_ERR_SHAPE,
                            "%s: kernel %dx%d with padding %dx%d does not fit x of shape %s (output would be "
                            "%lldx%lld)", op, kh, kw, ph, pw, gt_shape_str(x, b, sizeof b), (long long)g->OH,
                            (long long)g->OW);
    g->kh = kh, g->kw = kw, g->sh = sh, g->sw = sw, g->ph = ph, g->pw = pw;
    g->count_include_pad = cip;
    return GT_OK;
}

static gt_tensor *gt__new4(const gt_tensor *x, int64_t h, int64_t w) {
    return gt__new(GT_F32, 4, (const int64_t[]){x->shape[0], x->shape[1], h, w});
}

/* --- avg pool and its adjoint --------------------------------------------------- */
static gt_tensor *gt__avg_fwd(gt_tensor *x, const gt_pool2d_geom *g);
static gt_tensor *gt__avg_bwd(gt_tensor *gy, const gt_pool2d_geom *g);

static gt_status gt__avg_fwd_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_pool2d_geom g = gt__geom_get(n);
    gx[0] = gt__avg_bwd(gy, &g);
    return GT_OK;
}
static gt_status gt__avg_bwd_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_pool2d_geom g = gt__geom_get(n);
    gx[0] = gt__avg_fwd(gy, &g);
    return GT_OK;
}

static gt_tensor *gt__avg_fwd(gt_tensor *x, const gt_pool2d_geom *g) {
    gt_tensor *xc = gt_contiguous(x), *y = xc ? gt__new4(x, g->OH, g->OW) : NULL;
    if (!y) return NULL;
    GT__K2(xc, y, avg_pool2d)(g, x->shape[0] * x->shape[1], gt__ptr(xc), gt__ptr(y));
    if (gt__needs_grad(1, &xc)) {
        gt_node *n = gt__record(y, GT_OP_AVG_POOL2D, gt__avg_fwd_bw, 1, &xc);
        if (!n) return NULL;
        gt__geom_put(n, g);
    }
    return y;
}

static gt_tensor *gt__avg_bwd(gt_tensor *gy, const gt_pool2d_geom *g) {
    gt_tensor *gc = gt_contiguous(gy), *gx = gc ? gt__new4(gy, g->H, g->W) : NULL;
    if (!gx) return NULL;
    GT__K2(gc, gx, avg_pool2d_backward)(g, gy->shape[0] * gy->shape[1], gt__ptr(gc), gt__ptr(gx));
    if (gt__needs_grad(1, &gc)) {
        gt_node *n = gt__record(gx, GT_OP_AVG_POOL2D_BACKWARD, gt__avg_bwd_bw, 1, &gc);
        if (!n) return NULL;
        gt__geom_put(n, g);
    }
    return gx;
}

gt_tensor *gt_avg_pool2d(gt_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil_mode,
                         bool count_include_pad) {
    gt_pool2d_geom g;
    if (gt__pool_geom(x, kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad, "gt_avg_pool2d", &g) != GT_OK)
        return NULL;
    return gt__avg_fwd(x, &g);
}

/* --- max pool: values gathered at the argmax ---------------------------------- */
/* gather: x (N, C, H, W), idx (N, C, OH, OW) -> (N, C, OH, OW);
 * scatter: g (N, C, OH, OW), idx -> (N, C, H, W) (sums repeated positions).
 * Nodes save idx; iarg[0], iarg[1] = H, W of the scatter's output. */
static gt_tensor *gt__gather(gt_tensor *x, gt_tensor *idx);
static gt_tensor *gt__scatter(gt_tensor *g, gt_tensor *idx, int64_t H, int64_t W);

static gt_status gt__gather_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__scatter(gy, n->saved[0], n->in[0]->shape[2], n->in[0]->shape[3]);
    return GT_OK;
}
static gt_status gt__scatter_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__gather(gy, n->saved[0]);
    return GT_OK;
}

static gt_tensor *gt__gather(gt_tensor *x, gt_tensor *idx) {
    gt_tensor *xc = gt_contiguous(x), *y = xc ? gt__new4(x, idx->shape[2], idx->shape[3]) : NULL;
    if (!y) return NULL;
    int64_t P = x->shape[0] * x->shape[1], Lin = x->shape[2] * x->shape[3], Lout = idx->shape[2] * idx->shape[3];
    GT_K(gt__kern(3, (gt_tensor *const[]){xc, idx, y}), index_gather)(P, Lin, Lout, gt__ptr(xc), gt__ptr_i32(idx),
                                                                        gt__ptr(y));
    if (gt__needs_grad(1, &xc)) {
        gt_node *n = gt__record(y, GT_OP_INDEX_GATHER, gt__gather_bw, 1, &xc);
        if (!n) return NULL;
        gt__save(n, idx);
    }
    return y;
}

static gt_tensor *gt__scatter(gt_tensor *g, gt_tensor *idx, int64_t H, int64_t W) {
    gt_tensor *gc = gt_contiguous(g), *y = gc ? gt__new4(g, H, W) : NULL;
    if (!y) return NULL;
    int64_t P = g->shape[0] * g->shape[1], Lout = g->shape[2] * g->shape[3];
    GT_K(gt__kern(3, (gt_tensor *const[]){gc, idx, y}), index_scatter)(P, H * W, Lout, gt__ptr(gc),
                                                                         gt__ptr_i32(idx), gt__ptr(y));
    if (gt__needs_grad(1, &gc)) {
        gt_node *n = gt__record(y, GT_OP_INDEX_SCATTER, gt__scatter_bw, 1, &gc);
        if (!n) return NULL;
        gt__save(n, idx);
        n->iarg[0] = H;
        n->iarg[1] = W;
    }
    return y;
}

static gt_status gt__max_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__scatter(gy, n->saved[0], n->in[0]->shape[2], n->in[0]->shape[3]);
    return GT_OK;
}

gt_tensor *gt_max_pool2d(gt_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil_mode) {
    gt_pool2d_geom g;
    if (gt__pool_geom(x, kh, kw, sh, sw, ph, pw, ceil_mode, false, "gt_max_pool2d", &g) != GT_OK) return NULL;
    if (g.H * g.W > INT32_MAX) return gt__fail(GT_ERR_SHAPE, "gt_max_pool2d: planes over 2^31 elements");
    gt_tensor *xc = gt_contiguous(x), *y = xc ? gt__new4(x, g.OH, g.OW) : NULL;
    if (!y) return NULL;
    bool grad = gt__needs_grad(1, &xc);
    gt_tensor *idx = grad ? gt__new(GT_I32, 4, y->shape) : NULL;
    if (grad && !idx) return NULL;
    GT_K(gt__kern(3, (gt_tensor *const[]){xc, y, idx}), max_pool2d)(&g, x->shape[0] * x->shape[1], gt__ptr(xc),
                                                                      gt__ptr(y), idx ? gt__ptr_i32(idx) : NULL);
    if (grad) {
        gt_node *n = gt__record(y, GT_OP_MAX_POOL2D, gt__max_bw, 1, &xc);
        if (!n) return NULL;
        gt__geom_put(n, &g);
        gt__save(n, idx);
    }
    return y;
}

/* --- adaptive avg pool and its adjoint ------------------------------------------ */
static gt_tensor *gt__adapt_fwd(gt_tensor *x, int64_t OH, int64_t OW);
static gt_tensor *gt__adapt_bwd(gt_tensor *gy, int64_t H, int64_t W);

static gt_status gt__adapt_fwd_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__adapt_bwd(gy, n->in[0]->shape[2], n->in[0]->shape[3]);
    return GT_OK;
}
static gt_status gt__adapt_bwd_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__adapt_fwd(gy, n->in[0]->shape[2], n->in[0]->shape[3]);
    return GT_OK;
}

static gt_tensor *gt__adapt_fwd(gt_tensor *x, int64_t OH, int64_t OW) {
    gt_tensor *xc = gt_contiguous(x), *y = xc ? gt__new4(x, OH, OW) : NULL;
    if (!y) return NULL;
    GT__K2(xc, y, adaptive_avg_pool2d)(x->shape[0] * x->shape[1], x->shape[2], x->shape[3], OH, OW, gt__ptr(xc),
                                       gt__ptr(y));
    if (gt__needs_grad(1, &xc) && !gt__record(y, GT_OP_ADAPTIVE_AVG_POOL2D, gt__adapt_fwd_bw, 1, &xc)) return NULL;
    return y;
}

static gt_tensor *gt__adapt_bwd(gt_tensor *gy, int64_t H, int64_t W) {
    gt_tensor *gc = gt_contiguous(gy), *gx = gc ? gt__new4(gy, H, W) : NULL;
    if (!gx) return NULL;
    GT__K2(gc, gx, adaptive_avg_pool2d_backward)(gy->shape[0] * gy->shape[1], H, W, gy->shape[2], gy->shape[3],
                                                 gt__ptr(gc), gt__ptr(gx));
    if (gt__needs_grad(1, &gc) && !gt__record(gx, GT_OP_ADAPTIVE_AVG_POOL2D_BACKWARD, gt__adapt_bwd_bw, 1, &gc))
        return NULL;
    return gx;
}

gt_tensor *gt_adaptive_avg_pool2d(gt_tensor *x, int oh, int ow) {
    if (!gt__check(x, "gt_adaptive_avg_pool2d", "x", 4)) return NULL;
    char b[96];
    if (oh < 1 || ow < 1)
        return gt__fail(GT_ERR_ARG, "gt_adaptive_avg_pool2d: output size must be >= 1, got %dx%d", oh, ow);
    if (x->shape[2] < 1 || x->shape[3] < 1)
        return gt__fail(GT_ERR_SHAPE, "gt_adaptive_avg_pool2d: x of shape %s has an empty plane",
                        gt_shape_str(x, b, sizeof b));
    return gt__adapt_fwd(x, oh, ow);
}
