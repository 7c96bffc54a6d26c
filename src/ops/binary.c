/* Broadcasting binary ops: add, sub, mul, div, pow - forward and backward. */
#include "../backend/kernels.h"
#include "../internal.h"

/* Strides of t seen in an out-ndim broadcast index space. */
static void gt__bstrides(const gt_tensor *t, int ndim, const int64_t *shape, int64_t *s) {
    for (int i = 0; i < ndim; i++) {
        int it = t->ndim - ndim + i;
        s[i] = (it < 0 || t->shape[it] == 1 || shape[i] == 1) ? 0 : t->stride[it];
    }
}

static gt_tensor *gt__binary_fwd(gt_binop op, gt_tensor *a, gt_tensor *b, const char *name) {
    if (!gt__check(a, name, "a", -1) || !gt__check(b, name, "b", -1)) return NULL;
    int nd;
    int64_t shape[GT_MAX_DIMS], sa[GT_MAX_DIMS], sb[GT_MAX_DIMS];
    if (gt__broadcast_shape(a, b, &nd, shape, name) != GT_OK) return NULL;
    gt_tensor *out = gt__new(GT_F32, nd, shape);
    if (!out) return NULL;
    gt__bstrides(a, nd, shape, sa);
    gt__bstrides(b, nd, shape, sb);
    gt_tensor *ts[3] = {a, b, out};
    GT_K(gt__kern(3, ts), binary)(op, nd, shape, gt__ptr(a), sa, gt__ptr(b), sb, gt__ptr(out));
    return out;
}

/* Reduce g to t's shape when t was broadcast. */
static gt_tensor *gt__unbroadcast(gt_tensor *g, const gt_tensor *t) {
    if (gt_same_shape(g, t)) return gt_retain(g) ? gt__autorelease(g) : NULL;
    return gt_sum_to(g, t->ndim, t->shape);
}

static gt_status gt__add_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    if (gt__need(n, 0)) gx[0] = gt__unbroadcast(gy, n->in[0]);
    if (gt__need(n, 1)) gx[1] = gt__unbroadcast(gy, n->in[1]);
    return GT_OK;
}
static gt_status gt__sub_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    if (gt__need(n, 0)) gx[0] = gt__unbroadcast(gy, n->in[0]);
    if (gt__need(n, 1)) gx[1] = gt__unbroadcast(gt_neg(gy), n->in[1]);
    return GT_OK;
}
static gt_status gt__mul_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    if (gt__need(n, 0)) gx[0] = gt__unbroadcast(gt_mul(gy, n->in[1]), n->in[0]);
    if (gt__need(n, 1)) gx[1] = gt__unbroadcast(gt_mul(gy, n->in[0]), n->in[1]);
    return GT_OK;
}
static gt_status gt__div_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *a = n->in[0], *b = n->in[1];
    if (gt__need(n, 0)) gx[0] = gt__unbroadcast(gt_div(gy, b), a);
    if (gt__need(n, 1)) gx[1] = gt__unbroadcast(gt_neg(gt_div(gt_mul(gy, a), gt_mul(b, b))), b);
    return GT_OK;
}
static gt_status gt__pow_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *a = n->in[0], *b = n->in[1];
    if (gt__need(n, 0)) gx[0] = gt__unbroadcast(gt_mul(gy, gt_mul(b, gt_pow(a, gt_add_scalar(b, -1.0f)))), a);
    if (gt__need(n, 1)) gx[1] = gt__unbroadcast(gt_mul(gy, gt_mul(gt_pow(a, b), gt_log(a))), b);
    return GT_OK;
}

static gt_tensor *gt__binary(gt_binop op, gt_op gop, gt_backward_fn bw, gt_tensor *a, gt_tensor *b, const char *name) {
    gt_tensor *out = gt__binary_fwd(op, a, b, name);
    gt_tensor *in[2] = {a, b};
    if (out && gt__needs_grad(2, in) && !gt__record(out, gop, bw, 2, in)) return NULL;
    return out;
}

gt_tensor *gt_add(gt_tensor *a, gt_tensor *b) { return gt__binary(GT_BIN_ADD, GT_OP_ADD, gt__add_bw, a, b, "gt_add"); }
gt_tensor *gt_sub(gt_tensor *a, gt_tensor *b) { return gt__binary(GT_BIN_SUB, GT_OP_SUB, gt__sub_bw, a, b, "gt_sub"); }
gt_tensor *gt_mul(gt_tensor *a, gt_tensor *b) { return gt__binary(GT_BIN_MUL, GT_OP_MUL, gt__mul_bw, a, b, "gt_mul"); }
gt_tensor *gt_div(gt_tensor *a, gt_tensor *b) { return gt__binary(GT_BIN_DIV, GT_OP_DIV, gt__div_bw, a, b, "gt_div"); }
gt_tensor *gt_pow(gt_tensor *a, gt_tensor *b) { return gt__binary(GT_BIN_POW, GT_OP_POW, gt__pow_bw, a, b, "gt_pow"); }
