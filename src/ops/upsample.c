/* Resampling ops: nearest and bilinear (align_corners=false) upsampling - or
 * downsampling - to a given size, as PyTorch's F.interpolate(size=...). Each
 * backward is the adjoint as an op of its own, whose backward is the forward
 * again, so gradients of gradients flow through. */
#include <stddef.h>

#include "../backend/kernels.h"
#include "../internal.h"

/* One resampling family: its ops and where its kernels sit in a kernel table. */
typedef struct {
    gt_op fwd_op, bwd_op;
    size_t fwd, bwd; /* offsetof(gt_kernels, ...) */
} gt__family;

static const gt__family GT__NEAREST = {GT_OP_UPSAMPLE_NEAREST2D, GT_OP_UPSAMPLE_NEAREST2D_BACKWARD,
                                       offsetof(gt_kernels, upsample_nearest2d),
                                       offsetof(gt_kernels, upsample_nearest2d_backward)};
static const gt__family GT__BILINEAR = {GT_OP_UPSAMPLE_BILINEAR2D, GT_OP_UPSAMPLE_BILINEAR2D_BACKWARD,
                                        offsetof(gt_kernels, upsample_bilinear2d),
                                        offsetof(gt_kernels, upsample_bilinear2d_backward)};

/* The family's kernel at offset off of table K, or the CPU's when K lacks it. */
static gt_resample_fn gt__fn(const gt_kernels *K, size_t off) {
    gt_resample_fn f = *(const gt_resample_fn *)((const char *)K + off);
    return f ? f : *(const gt_resample_fn *)((const char *)gt__kern_host() + off);
}

static const gt__family *gt__family_of(gt_op op) {
    return (op == GT_OP_UPSAMPLE_NEAREST2D || op == GT_OP_UPSAMPLE_NEAREST2D_BACKWARD) ? &GT__NEAREST : &GT__BILINEAR;
}

/* forward: x (N, C, H, W) -> (N, C, oh, ow); adjoint: g (N, C, oh, ow) -> (N, C, H, W). */
static gt_tensor *gt__resample(const gt__family *f, bool adjoint, gt_tensor *x, int64_t oh, int64_t ow);

static gt_status gt__fwd_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__resample(gt__family_of(n->op), true, gy, n->in[0]->shape[2], n->in[0]->shape[3]);
    return GT_OK;
}
static gt_status gt__adj_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__resample(gt__family_of(n->op), false, gy, n->in[0]->shape[2], n->in[0]->shape[3]);
    return GT_OK;
}

static gt_tensor *gt__resample(const gt__family *f, bool adjoint, gt_tensor *x, int64_t oh, int64_t ow) {
    gt_tensor *xc = gt_contiguous(x);
    gt_tensor *y = xc ? gt__new(GT_F32, 4, (const int64_t[]){x->shape[0], x->shape[1], oh, ow}) : NULL;
    if (!y) return NULL;
    const gt_kernels *K = gt__kern(2, (gt_tensor *const[]){xc, y});
    int64_t P = x->shape[0] * x->shape[1];
    if (adjoint) /* kernels take the big (input-side) plane first: here that is y's */
        gt__fn(K, f->bwd)(P, oh, ow, x->shape[2], x->shape[3], gt__ptr(xc), gt__ptr(y));
    else
        gt__fn(K, f->fwd)(P, x->shape[2], x->shape[3], oh, ow, gt__ptr(xc), gt__ptr(y));
    if (gt__needs_grad(1, &xc) &&
        !gt__record(y, adjoint ? f->bwd_op : f->fwd_op, adjoint ? gt__adj_bw : gt__fwd_bw, 1, &xc))
        return NULL;
    return y;
}

static bool gt__resample_check(gt_tensor *x, int oh, int ow, const char *op) {
    char b[96];
    if (!gt__check(x, op, "x", 4)) return false;
    if (oh < 1 || ow < 1) {
        gt_set_error(GT_ERR_ARG, "%s: output size must be >= 1, got %dx%d", op, oh, ow);
        return false;
    }
    if (x->shape[2] < 1 || x->shape[3] < 1) {
        gt_set_error(GT_ERR_SHAPE, "%s: x of shape %s has an empty plane", op, gt_shape_str(x, b, sizeof b));
        return false;
    }
    return true;
}

gt_tensor *gt_upsample_nearest2d(gt_tensor *x, int oh, int ow) {
    if (!gt__resample_check(x, oh, ow, "gt_upsample_nearest2d")) return NULL;
    return gt__resample(&GT__NEAREST, false, x, oh, ow);
}

gt_tensor *gt_upsample_bilinear2d(gt_tensor *x, int oh, int ow) {
    if (!gt__resample_check(x, oh, ow, "gt_upsample_bilinear2d")) return NULL;
    return gt__resample(&GT__BILINEAR, false, x, oh, ow);
}
