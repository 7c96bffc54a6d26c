/* Resampling ops: nearest and bilinear (align_corners=false) upsampling - or
 * downsampling - to a given size, as PyTorch's F.interpolate(size=...). Each
 * backward is the adjoint as an op of its own, whose backward is the forward
 * again, so gradients of gradients flow through. */
#include "../backend/cpu/upsample.h"
#include "../internal.h"

typedef void (*gt__resample_kernel)(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y);

/* One resampling family: forward and adjoint kernels (fast, naive) and ops. */
typedef struct {
    gt_op fwd_op, bwd_op;
    gt__resample_kernel fwd_fast, fwd_naive, bwd_fast, bwd_naive;
} gt__family;

static const gt__family GT__NEAREST = {GT_OP_UPSAMPLE_NEAREST2D, GT_OP_UPSAMPLE_NEAREST2D_BACKWARD,
                                       gt_cpu_upsample_nearest2d, gt_naive_upsample_nearest2d,
                                       gt_cpu_upsample_nearest2d_backward, gt_naive_upsample_nearest2d_backward};
static const gt__family GT__BILINEAR = {GT_OP_UPSAMPLE_BILINEAR2D, GT_OP_UPSAMPLE_BILINEAR2D_BACKWARD,
                                        gt_cpu_upsample_bilinear2d, gt_naive_upsample_bilinear2d,
                                        gt_cpu_upsample_bilinear2d_backward, gt_naive_upsample_bilinear2d_backward};

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
    bool naive = gt_backend_get() == GT_BACKEND_NAIVE;
    int64_t P = x->shape[0] * x->shape[1];
    if (adjoint) /* kernels take the big (input-side) plane first: here that is y's */
        (naive ? f->bwd_naive : f->bwd_fast)(P, oh, ow, x->shape[2], x->shape[3], gt_data(xc), gt_data(y));
    else
        (naive ? f->fwd_naive : f->fwd_fast)(P, x->shape[2], x->shape[3], oh, ow, gt_data(xc), gt_data(y));
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
