/* Grid sampling, as torch.nn.functional.grid_sample, and its adjoint.
 *
 * gt_grid_sample(x, grid) reads x (N, C, H, W) at the points of grid (N, Ho, Wo, 2) (x then y, in
 * [-1, 1] normalised coordinates) -> (N, C, Ho, Wo). Each output point is a fixed linear combination
 * of at most four input pixels of its plane (one for nearest), so the op is linear in x: its
 * backward is the transposed sampling gt_grid_sample_t (a scatter-add with the same weights), whose
 * backward is gt_grid_sample again. Gradients of any order flow through x; the grid is a constant
 * (its requires_grad is ignored: an augmentation's grid comes from random draws).
 *
 * Coordinates follow PyTorch's rules (its CPU kernel's arithmetic): unnormalise
 *   align_corners:  (g + 1) * ((size - 1) / 2)    (-1 and 1 are the centres of the corner pixels)
 *   otherwise:      (g + 1) * (size / 2) - 0.5    (-1 and 1 are the outer edges of the corner pixels)
 * then pad: border clips to [0, size - 1]; reflection reflects about the corner centres
 * (align_corners) or the outer edges (otherwise), then clips; zeros leaves the coordinate alone and
 * reads 0 outside the image. NaN becomes 0 under border / reflection (clipped as torch's CPU
 * kernel); non-finite or huge coordinates otherwise read nothing (0).
 * Bilinear reads the four neighbours of (floor(ix), floor(iy)), those inside the image, with the
 * usual weights; nearest reads the pixel at nearbyint (half to even), if inside.
 *
 * The arithmetic is in src/backend/formulas.h (gt__gs_taps4, shared with the CUDA kernel); the
 * loops are the kernel table's grid_sample (src/backend/cpu/grid_sample.c, cuda/kernels_resample.cu). */
#include <limits.h>

#include "../backend/kernels.h"
#include "../internal.h"

/* The sampling in either direction. `src` is x (adjoint false) or y (adjoint true); grid is a
 * detached contiguous (N, Ho, Wo, 2); (H, W) the image plane. Checks done by the callers. */
static gt_tensor *gt__gs_run(bool adjoint, gt_tensor *src, gt_tensor *grid, int64_t H, int64_t W, bool bilinear,
                             gt_grid_pad pad, bool align);

static gt_status gt__gs_fwd_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__gs_run(true, gy, n->saved[0], n->in[0]->shape[2], n->in[0]->shape[3], n->iarg[0] != 0,
                       (gt_grid_pad)n->iarg[1], n->iarg[2] != 0);
    return gx[0] ? GT_OK : gt_last_status();
}
static gt_status gt__gs_adj_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gx[0] = gt__gs_run(false, gy, n->saved[0], n->iarg[3], n->iarg[4], n->iarg[0] != 0, (gt_grid_pad)n->iarg[1],
                       n->iarg[2] != 0);
    return gx[0] ? GT_OK : gt_last_status();
}

static gt_tensor *gt__gs_run(bool adjoint, gt_tensor *src, gt_tensor *grid, int64_t H, int64_t W, bool bilinear,
                             gt_grid_pad pad, bool align) {
    int64_t N = src->shape[0], C = src->shape[1], Ho = grid->shape[1], Wo = grid->shape[2];
    gt_tensor *sc = gt_contiguous(src);
    if (!sc) return NULL;
    gt_tensor *out = gt__new(GT_F32, 4, adjoint ? (const int64_t[]){N, C, H, W} : (const int64_t[]){N, C, Ho, Wo});
    if (!out) return NULL;
    const gt_kernels *K = gt__kern(3, (gt_tensor *const[]){sc, grid, out});
    if (!GT_K(K, grid_sample)(adjoint, N, C, H, W, Ho, Wo, bilinear, (int)pad, align, gt__ptr(grid), gt__ptr(sc),
                              gt__ptr(out)))
        return gt__fail(GT_ERR_OOM, "gt_grid_sample: out of memory for %lld sampling taps", (long long)(N * Ho * Wo));
    if (gt__needs_grad(1, &sc)) {
        gt_node *n = gt__record(out, adjoint ? GT_OP_GRID_SAMPLE_BACKWARD : GT_OP_GRID_SAMPLE,
                                adjoint ? gt__gs_adj_bw : gt__gs_fwd_bw, 1, &sc);
        if (!n) return NULL;
        gt__save(n, grid);
        n->iarg[0] = bilinear;
        n->iarg[1] = pad;
        n->iarg[2] = align;
        n->iarg[3] = H;
        n->iarg[4] = W;
    }
    return out;
}

/* Checks the grid (N, Ho, Wo, 2) against the batch N and the mode; returns it detached and
 * contiguous, or NULL with the error set. */
static gt_tensor *gt__gs_grid(gt_tensor *grid, int64_t N, gt_grid_pad pad, int64_t H, int64_t W, const char *op) {
    char gs[96];
    if (!gt__check(grid, op, "grid", 4)) return NULL;
    if ((int)pad < GT_GRID_ZEROS || (int)pad > GT_GRID_REFLECTION)
        return gt__fail(GT_ERR_ARG, "%s: padding %d is not one of GT_GRID_ZEROS, GT_GRID_BORDER, GT_GRID_REFLECTION",
                        op, (int)pad);
    gt_shape_str(grid, gs, sizeof gs);
    if (grid->shape[3] != 2)
        return gt__fail(GT_ERR_SHAPE, "%s: grid must be (N, Ho, Wo, 2) (x then y), got %s", op, gs);
    if (grid->shape[0] != N)
        return gt__fail(GT_ERR_SHAPE, "%s: grid %s has batch %lld, the image has %lld", op, gs,
                        (long long)grid->shape[0], (long long)N);
    if (grid->shape[1] < 1 || grid->shape[2] < 1) return gt__fail(GT_ERR_SHAPE, "%s: grid %s is empty", op, gs);
    if (H < 1 || W < 1 || H * W > INT32_MAX)
        return gt__fail(GT_ERR_SHAPE, "%s: the image plane %lldx%lld must be non-empty and below 2^31 pixels", op,
                        (long long)H, (long long)W);
    return gt_contiguous(gt_detach(grid));
}

gt_tensor *gt_grid_sample(gt_tensor *x, gt_tensor *grid, bool bilinear, gt_grid_pad pad, bool align_corners) {
    static const char op[] = "gt_grid_sample";
    char xs[96];
    if (!gt__check(x, op, "x", 4)) return NULL;
    if (x->shape[0] < 1 || x->shape[1] < 1)
        return gt__fail(GT_ERR_SHAPE, "%s: x %s has no images or no channels", op, gt_shape_str(x, xs, sizeof xs));
    gt_tensor *g = gt__gs_grid(grid, x->shape[0], pad, x->shape[2], x->shape[3], op);
    if (!g) return NULL;
    return gt__gs_run(false, x, g, x->shape[2], x->shape[3], bilinear, pad, align_corners);
}

gt_tensor *gt_grid_sample_t(gt_tensor *y, gt_tensor *grid, int h, int w, bool bilinear, gt_grid_pad pad,
                            bool align_corners) {
    static const char op[] = "gt_grid_sample_t";
    char ys[96], gs[96];
    if (!gt__check(y, op, "y", 4)) return NULL;
    if (y->shape[0] < 1 || y->shape[1] < 1)
        return gt__fail(GT_ERR_SHAPE, "%s: y %s has no images or no channels", op, gt_shape_str(y, ys, sizeof ys));
    gt_tensor *g = gt__gs_grid(grid, y->shape[0], pad, h, w, op);
    if (!g) return NULL;
    if (y->shape[2] != g->shape[1] || y->shape[3] != g->shape[2])
        return gt__fail(GT_ERR_SHAPE, "%s: y %s must be (N, C, Ho, Wo) of grid %s", op, gt_shape_str(y, ys, sizeof ys),
                        gt_shape_str(g, gs, sizeof gs));
    return gt__gs_run(true, y, g, h, w, bilinear, pad, align_corners);
}
