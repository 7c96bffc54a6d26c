/* Matrix products: gt_matmul (plain, batched, batch-broadcast) and gt_linear
 * (x @ w^T + b with the bias fused into the sgemm) - forward and backward.
 * Backward is written with gt_matmul / gt_transpose / gt_reshape / gt_sum,
 * so it differentiates again. */
#include "../backend/kernels.h"
#include "../internal.h"
#include "gantry/device.h"


/* A gemm kernel that failed (out of memory for its packing or the device's workspace) may not have
 * said so: name the product. */
static gt_tensor *gt__gemm_fail(gt_status st, const char *op, int64_t batch, int64_t M, int64_t N, int64_t K) {
    return gt__fail(st, "%s: the (%lld x) %lld x %lld x %lld product failed (%s)", op, (long long)batch, (long long)M,
                    (long long)N, (long long)K, st == GT_ERR_OOM ? "out of memory" : "kernel error");
}

/* --- matmul ------------------------------------------------------------------ */
/* Reduce a gradient computed at the broadcast batch shape back to t's shape. */
static gt_tensor *gt__to_shape_of(gt_tensor *g, const gt_tensor *t) {
    if (!g) return NULL;
    if (gt_same_shape(g, t)) return g;
    return gt_sum_to(g, t->ndim, t->shape);
}

static gt_status gt__matmul_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *a = n->in[0], *b = n->in[1]; // a (..., M, K), b (..., K, N), gy (..., M, N)
    if (gt__need(n, 0)) gx[0] = gt__to_shape_of(gt_matmul(gy, gt_transpose(b, -1, -2)), a);
    if (gt__need(n, 1)) {
        if (a->ndim == 3 && b->ndim == 2) {
            /* b shared across the batch: one (K, B*M) @ (B*M, N) product sums it */
            int64_t rows = a->shape[0] * a->shape[1];
            gt_tensor *a2 = gt_reshape(a, GT_SHAPE(rows, a->shape[2]));
            gt_tensor *g2 = gt_reshape(gy, GT_SHAPE(rows, gy->shape[2]));
            gx[1] = gt_matmul(gt_transpose(a2, 0, 1), g2);
        } else {
            gx[1] = gt__to_shape_of(gt_matmul(gt_transpose(a, -1, -2), gy), b);
        }
    }
    return GT_OK;
}

gt_tensor *gt_matmul(gt_tensor *a, gt_tensor *b) {
    if (!gt__check(a, "gt_matmul", "a", -1) || !gt__check(b, "gt_matmul", "b", -1)) return NULL;
    char sa[96], sb[96];
#define GT__SHAPES gt_shape_str(a, sa, sizeof sa), gt_shape_str(b, sb, sizeof sb)
    if (a->ndim < 2 || a->ndim > 3 || b->ndim < 2 || b->ndim > 3)
        return gt__fail(GT_ERR_SHAPE,
                        "gt_matmul: a %s and b %s must each have 2 or 3 dims ((M,K), (B,M,K) with (K,N), (B,K,N)); "
                        "reshape 1-D vectors to (1,K) or (K,1)",
                        GT__SHAPES);
    int da = a->ndim - 2, db = b->ndim - 2; /* index of the matrix rows */
    int64_t M = a->shape[da], K = a->shape[da + 1], N = b->shape[db + 1];
    if (b->shape[db] != K)
        return gt__fail(GT_ERR_SHAPE, "gt_matmul: a %s @ b %s: inner sizes differ (%lld vs %lld)", GT__SHAPES,
                        (long long)K, (long long)b->shape[db]);
    int64_t ba = da ? a->shape[0] : 1, bb = db ? b->shape[0] : 1;
    if (da && db && ba != bb && ba != 1 && bb != 1)
        return gt__fail(GT_ERR_SHAPE, "gt_matmul: a %s @ b %s: batch sizes %lld and %lld do not broadcast", GT__SHAPES,
                        (long long)ba, (long long)bb);
#undef GT__SHAPES
    int64_t batch = GT_MAX(ba, bb);
    int nd = (da || db) ? 3 : 2;
    int64_t shape[3] = {batch, M, N};
    gt_tensor *out = gt__new(GT_F32, nd, nd == 3 ? shape : shape + 1); // (B, M, N) or (M, N)
    if (!out) return NULL;
    /* the operands at the current precision (bf16: rounded contiguous copies, outside the graph) */
    gt_tensor *ra = gt__prec_operand(a), *rb = gt__prec_operand(b);
    if (!ra || !rb) return NULL;
    gt_mat ma = {gt__ptr(ra), ra->stride[da], ra->stride[da + 1]};
    gt_mat mb = {gt__ptr(rb), rb->stride[db], rb->stride[db + 1]};
    int64_t a_bs = (da && ba > 1) ? ra->stride[0] : 0, b_bs = (db && bb > 1) ? rb->stride[0] : 0;
    gt_tensor *ts[3] = {ra, rb, out};
    gt_status st = GT_K(gt__kern(3, ts), gemm)(batch, M, N, K, ma, a_bs, mb, b_bs, 0.0f, gt__ptr(out));
    if (st != GT_OK) return gt__gemm_fail(st, "gt_matmul", batch, M, N, K);
    gt_tensor *in[2] = {a, b};
    if (gt__needs_grad(2, in) && !gt__record(out, GT_OP_MATMUL, gt__matmul_bw, 2, in)) return NULL;
    return out;
}

/* --- linear -------------------------------------------------------------------- */
/* Can x (..., in) be read as a strided (rows, in) matrix without a copy?
 * True when the leading dims collapse into one with a single row stride. */
static bool gt__rows_view(const gt_tensor *x, int64_t *rs) {
    *rs = 0;
    int64_t expect = -1;
    for (int d = x->ndim - 2; d >= 0; d--) {
        if (x->shape[d] == 1) continue;
        if (expect < 0) *rs = x->stride[d];
        else if (x->stride[d] != expect) return false;
        expect = x->stride[d] * x->shape[d];
    }
    return true;
}

static gt_status gt__linear_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *x = n->in[0], *w = n->in[1]; // x (..., in), w (out, in), gy (..., out)
    int64_t in = w->shape[1], out = w->shape[0], R = gt__shape_numel(x->ndim - 1, x->shape);
    gt_tensor *g2 = gt_reshape(gy, GT_SHAPE(R, out)); // (R, out)
    if (gt__need(n, 0)) gx[0] = gt_reshape(gt_matmul(g2, w), x->ndim, x->shape);
    if (gt__need(n, 1)) gx[1] = gt_matmul(gt_transpose(g2, 0, 1), gt_reshape(x, GT_SHAPE(R, in)));
    if (n->n_in > 2 && gt__need(n, 2)) gx[2] = gt_sum(g2, 1, (int[]){0}, false);
    return GT_OK;
}

gt_tensor *gt_linear(gt_tensor *x, gt_tensor *w, gt_tensor *b) {
    if (!gt__check(x, "gt_linear", "x", -1) || !gt__check(w, "gt_linear", "w", 2)) return NULL;
    if (b && !gt__check(b, "gt_linear", "b", 1)) return NULL;
    char sx[96], sw[96], sb[96];
    int64_t out_f = w->shape[0], in_f = w->shape[1];
    if (x->ndim < 1 || x->shape[x->ndim - 1] != in_f)
        return gt__fail(GT_ERR_SHAPE, "gt_linear: x %s must end in w's in_features: w %s is (out, in) = (%lld, %lld)",
                        gt_shape_str(x, sx, sizeof sx), gt_shape_str(w, sw, sizeof sw), (long long)out_f,
                        (long long)in_f);
    if (b && b->shape[0] != out_f)
        return gt__fail(GT_ERR_SHAPE, "gt_linear: bias %s must have w's out_features %lld (w %s)",
                        gt_shape_str(b, sb, sizeof sb), (long long)out_f, gt_shape_str(w, sw, sizeof sw));
    int64_t shape[GT_MAX_DIMS];
    for (int d = 0; d < x->ndim - 1; d++) shape[d] = x->shape[d];
    shape[x->ndim - 1] = out_f;
    int64_t R = gt__shape_numel(x->ndim - 1, x->shape);
    gt_tensor *y = gt__new(GT_F32, x->ndim, shape); // (..., out)
    if (!y) return NULL;
    /* x as a (R, in) matrix, packed only when its leading dims do not collapse */
    gt_tensor *xs = x, *wr = gt__prec_operand(w); /* the operands at the current precision */
    int64_t rs;
    if (gt_precision_get() == GT_PREC_BF16) { /* a rounded contiguous copy of x */
        if (!(xs = gt__prec_operand(x)) || !wr) return NULL;
        rs = in_f;
    } else if (!gt__rows_view(x, &rs)) {
        bool prev = gt_no_grad_begin();
        xs = gt_contiguous(x);
        gt_grad_mode_restore(prev);
        if (!xs) return NULL;
        rs = in_f;
    }
    gt_tensor *ts[4] = {xs, wr, b, y};
    const gt_kernels *K = gt__kern(4, ts);
    float *py = gt__ptr(y);
    float beta = 0.0f;
    if (b) { /* fused bias: every row starts at b (a stride-0 copy), sgemm adds x @ w^T (beta = 1) */
        GT_K(K, copy)(2, (const int64_t[]){R, out_f}, gt__ptr(b), (const int64_t[]){0, b->stride[0]}, py);
        beta = 1.0f;
    }
    gt_mat mx = {gt__ptr(xs), rs, xs->stride[xs->ndim - 1]};
    gt_mat mwt = {gt__ptr(wr), wr->stride[1], wr->stride[0]}; /* w^T: (in, out) */
    gt_status st = GT_K(K, gemm)(1, R, out_f, in_f, mx, 0, mwt, 0, beta, py);
    if (st != GT_OK) return gt__gemm_fail(st, "gt_linear", 1, R, out_f, in_f);
    gt_tensor *in[3] = {x, w, b};
    int n_in = b ? 3 : 2;
    /* recorded as a matmul (a linear is one, with a fused bias): no op enum entry of its own */
    if (gt__needs_grad(n_in, in) && !gt__record(y, GT_OP_LINEAR, gt__linear_bw, n_in, in)) return NULL;
    return y;
}
