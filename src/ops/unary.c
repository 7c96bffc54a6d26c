/* Unary elementwise ops and activations - forward and backward. Backward
 * formulas use ops (so they differentiate again); constant masks carry the
 * piecewise parts. */
#include "../backend/kernels.h"
#include "../internal.h"

/* Apply kernel op to x (any strides) into a new contiguous tensor; no graph. */
static gt_tensor *gt__map(gt_unop op, gt_tensor *x, float p0, float p1) {
    gt_tensor *out = gt__new(GT_F32, x->ndim, x->shape);
    if (!out) return NULL;
    gt_tensor *ts[2] = {x, out};
    GT_K(gt__kern(2, ts), unary)(op, p0, p1, x->ndim, x->shape, gt__ptr(x), x->stride, gt__ptr(out));
    return out;
}

static gt_tensor *gt__unary(gt_unop kop, gt_op op, gt_backward_fn bw, gt_tensor *x, float p0, float p1,
                            const char *name) {
    if (!gt__check(x, name, "x", -1)) return NULL;
    gt_tensor *out = gt__map(kop, x, p0, p1);
    if (!out) return NULL;
    if (gt__needs_grad(1, &x)) {
        gt_node *n = gt__record(out, op, bw, 1, &x);
        if (!n) return NULL;
        n->farg[0] = p0;
        n->farg[1] = p1;
    }
    return out;
}

/* --- backward formulas ---------------------------------------------------- */
static gt_status gt__id_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    (void)n;
    gx[0] = gt__autorelease(gt_retain(gy));
    return GT_OK;
}
static gt_status gt__mul_scalar_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt_mul_scalar(gy, n->farg[0]);
    return GT_OK;
}
static gt_status gt__neg_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    (void)n;
    gx[0] = gt_neg(gy);
    return GT_OK;
}
static gt_status gt__pow_scalar_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    float p = n->farg[0];
    gt_tensor *x = n->in[0];
    gt_tensor *d = p == 2.0f ? gt_mul_scalar(x, 2.0f) : gt_mul_scalar(gt_pow_scalar(x, p - 1.0f), p);
    gx[0] = gt_mul(gy, d);
    return GT_OK;
}
static gt_status gt__exp_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    /* d exp = exp(x); with grad off use the saved (detached) output */
    gt_tensor *e = gt_grad_enabled() ? gt_exp(n->in[0]) : n->saved[0];
    gx[0] = gt_mul(gy, e);
    return GT_OK;
}
static gt_status gt__log_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt_div(gy, n->in[0]);
    return GT_OK;
}
static gt_status gt__sqrt_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *s = gt_grad_enabled() ? gt_sqrt(n->in[0]) : n->saved[0];
    gx[0] = gt_div(gt_mul_scalar(gy, 0.5f), s);
    return GT_OK;
}
static gt_status gt__abs_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *x = n->in[0];
    gt_tensor *sign = gt_sub(gt__map(GT_UN_GT, x, 0.0f, 0.0f), gt__map(GT_UN_LT, x, 0.0f, 0.0f));
    gx[0] = gt_mul(gy, sign);
    return GT_OK;
}
static gt_status gt__clamp_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt_mul(gy, gt__map(GT_UN_GE_LE, n->in[0], n->farg[0], n->farg[1]));
    return GT_OK;
}
static gt_status gt__relu_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt_mul(gy, gt__map(GT_UN_GT, n->in[0], 0.0f, 0.0f));
    return GT_OK;
}
static gt_status gt__leaky_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt_mul(gy, gt__map(GT_UN_LEAKY_COEF, n->in[0], n->farg[0], 0.0f));
    return GT_OK;
}
static gt_status gt__tanh_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *t = gt_grad_enabled() ? gt_tanh(n->in[0]) : n->saved[0];
    gx[0] = gt_mul(gy, gt_rsub_scalar(gt_mul(t, t), 1.0f));
    return GT_OK;
}
static gt_status gt__sigmoid_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_tensor *s = gt_grad_enabled() ? gt_sigmoid(n->in[0]) : n->saved[0];
    gx[0] = gt_mul(gy, gt_mul(s, gt_rsub_scalar(s, 1.0f)));
    return GT_OK;
}
static gt_status gt__softplus_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    float beta = n->farg[0], thr = n->farg[1];
    gt_tensor *x = n->in[0];
    gt_tensor *lin = gt__map(GT_UN_GT, x, thr / beta, 0.0f); /* beta*x > threshold: linear */
    gt_tensor *sig = gt_sigmoid(gt_mul_scalar(x, beta));
    /* coef = sig * (1 - lin) + lin */
    gt_tensor *coef = gt_add(gt_mul(sig, gt_rsub_scalar(lin, 1.0f)), lin);
    gx[0] = gt_mul(gy, coef);
    return GT_OK;
}
static gt_status gt__elu_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    float alpha = n->farg[0];
    gt_tensor *x = n->in[0];
    gt_tensor *pos = gt__map(GT_UN_GT, x, 0.0f, 0.0f);
    gt_tensor *neg = gt_mul_scalar(gt_exp(gt_clamp(x, -INFINITY, 0.0f)), alpha);
    gt_tensor *coef = gt_add(pos, gt_mul(neg, gt_rsub_scalar(pos, 1.0f)));
    gx[0] = gt_mul(gy, coef);
    return GT_OK;
}

/* Ops whose fast backward reuses the output save a detached view of it. */
static gt_tensor *gt__unary_saveout(gt_unop kop, gt_op op, gt_backward_fn bw, gt_tensor *x, const char *name) {
    gt_tensor *out = gt__unary(kop, op, bw, x, 0.0f, 0.0f, name);
    if (out && out->node) {
        gt_tensor *d = gt_detach(out);
        if (!d) return NULL;
        gt__save(out->node, d);
    }
    return out;
}

gt_tensor *gt_add_scalar(gt_tensor *a, float s) {
    return gt__unary(GT_UN_ADD_SCALAR, GT_OP_ADD_SCALAR, gt__id_bw, a, s, 0, "gt_add_scalar");
}
gt_tensor *gt_mul_scalar(gt_tensor *a, float s) {
    return gt__unary(GT_UN_MUL_SCALAR, GT_OP_MUL_SCALAR, gt__mul_scalar_bw, a, s, 0, "gt_mul_scalar");
}
gt_tensor *gt_rsub_scalar(gt_tensor *a, float s) {
    return gt__unary(GT_UN_RSUB_SCALAR, GT_OP_ADD_SCALAR, gt__neg_bw, a, s, 0, "gt_rsub_scalar");
}
gt_tensor *gt_pow_scalar(gt_tensor *a, float p) {
    return gt__unary(GT_UN_POW_SCALAR, GT_OP_POW_SCALAR, gt__pow_scalar_bw, a, p, 0, "gt_pow_scalar");
}
gt_tensor *gt_neg(gt_tensor *a) { return gt__unary(GT_UN_NEG, GT_OP_NEG, gt__neg_bw, a, 0, 0, "gt_neg"); }
gt_tensor *gt_exp(gt_tensor *a) { return gt__unary_saveout(GT_UN_EXP, GT_OP_EXP, gt__exp_bw, a, "gt_exp"); }
gt_tensor *gt_log(gt_tensor *a) { return gt__unary(GT_UN_LOG, GT_OP_LOG, gt__log_bw, a, 0, 0, "gt_log"); }
gt_tensor *gt_sqrt(gt_tensor *a) { return gt__unary_saveout(GT_UN_SQRT, GT_OP_SQRT, gt__sqrt_bw, a, "gt_sqrt"); }
gt_tensor *gt_abs(gt_tensor *a) { return gt__unary(GT_UN_ABS, GT_OP_ABS, gt__abs_bw, a, 0, 0, "gt_abs"); }
gt_tensor *gt_clamp(gt_tensor *a, float lo, float hi) {
    if (lo > hi) return gt__fail(GT_ERR_ARG, "gt_clamp: lo %g is greater than hi %g", lo, hi);
    return gt__unary(GT_UN_CLAMP, GT_OP_CLAMP, gt__clamp_bw, a, lo, hi, "gt_clamp");
}
gt_tensor *gt_relu(gt_tensor *a) { return gt__unary(GT_UN_RELU, GT_OP_RELU, gt__relu_bw, a, 0, 0, "gt_relu"); }
gt_tensor *gt_leaky_relu(gt_tensor *a, float slope) {
    return gt__unary(GT_UN_LEAKY_RELU, GT_OP_LEAKY_RELU, gt__leaky_bw, a, slope, 0, "gt_leaky_relu");
}
gt_tensor *gt_tanh(gt_tensor *a) { return gt__unary_saveout(GT_UN_TANH, GT_OP_TANH, gt__tanh_bw, a, "gt_tanh"); }
gt_tensor *gt_sigmoid(gt_tensor *a) {
    return gt__unary_saveout(GT_UN_SIGMOID, GT_OP_SIGMOID, gt__sigmoid_bw, a, "gt_sigmoid");
}
gt_tensor *gt_softplus(gt_tensor *a, float beta, float threshold) {
    if (!(beta > 0)) return gt__fail(GT_ERR_ARG, "gt_softplus: beta must be > 0, got %g", beta);
    return gt__unary(GT_UN_SOFTPLUS, GT_OP_SOFTPLUS, gt__softplus_bw, a, beta, threshold, "gt_softplus");
}
gt_tensor *gt_elu(gt_tensor *a, float alpha) {
    return gt__unary(GT_UN_ELU, GT_OP_ELU, gt__elu_bw, a, alpha, 0, "gt_elu");
}

gt_tensor *gt_gt_scalar(gt_tensor *a, float s) {
    return gt__check(a, "gt_gt_scalar", "a", -1) ? gt__map(GT_UN_GT, a, s, 0) : NULL;
}
gt_tensor *gt_lt_scalar(gt_tensor *a, float s) {
    return gt__check(a, "gt_lt_scalar", "a", -1) ? gt__map(GT_UN_LT, a, s, 0) : NULL;
}
