/* Inverted dropout with a Philox mask: y = x * mask, mask = 1/(1-p) where the
 * draw u in [0,1) is >= p, else 0. The mask is a constant, so the backward is
 * gy * mask (gt_mul), which differentiates again. */
#include "../backend/kernels.h"
#include "../internal.h"

static gt_status gt__dropout_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt_mul(gy, n->saved[0]);
    return GT_OK;
}

gt_tensor *gt_dropout(gt_tensor *x, float p, bool training, struct gt_rng *rng) {
    if (!gt__check(x, "gt_dropout", "x", -1)) return NULL;
    if (!(p >= 0.0f && p < 1.0f)) return gt__fail(GT_ERR_ARG, "gt_dropout: p must be in [0, 1), got %g", p);
    if (!training || p == 0.0f) return gt__autorelease(gt_retain(x));
    if (!rng) return gt__fail(GT_ERR_ARG, "gt_dropout: rng is NULL (needed when training with p = %g)", p);
    gt_tensor *xc;
    {
        bool prev = gt_no_grad_begin(); /* data only: the node below records x itself */
        xc = gt_contiguous(x);
        gt_grad_mode_restore(prev);
    }
    gt_tensor *y = gt__new_like(x);
    if (!xc || !y) return NULL;
    bool grad = gt__needs_grad(1, &x);
    gt_tensor *mask = grad ? gt__new_like(x) : NULL;
    if (grad && !mask) return NULL;
    int64_t n = gt_numel(x);
    float scale = 1.0f / (1.0f - p);
    /* the kernel table's (src/backend/cpu/kernels_cpu.c, cuda/): element i draws from Philox block
       (offset + i/4), word i%4 - the numbers gt_rng_uniform gives - so a seed fixes the mask whatever
       the number of threads or the device */
    const gt_kernels *K = gt__kern(3, (gt_tensor *const[]){xc, y, mask});
    GT_K(K, dropout)(n, rng->seed, rng->offset, p, scale, gt__ptr(xc), gt__ptr(y), mask ? gt__ptr(mask) : NULL);
    rng->offset += (uint64_t)((n + 3) / 4);
    if (grad) {
        gt_node *nd = gt__record(y, GT_OP_DROPOUT, gt__dropout_bw, 1, &x);
        if (!nd) return NULL;
        nd->farg[0] = p;
        gt__save(nd, mask);
    }
    return y;
}
