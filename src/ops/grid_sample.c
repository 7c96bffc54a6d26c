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
 * Both directions first build a table (per n and output point: four in-plane offsets, -1 for
 * outside, and four weights) once per call, then run over the N * C planes (OpenMP when the work is
 * large enough): the forward gathers, the adjoint scatters into its own plane, so no races. */
#include <limits.h>

#include "../internal.h"

typedef struct {
    int32_t i[4]; /* offsets in the (H, W) plane, -1: outside (reads 0) */
    float w[4];
} gt__gs_tap;

/* The coordinate arithmetic is PyTorch's CPU kernel's, operation for operation, in float, with
 * its roundings made explicit (no contraction left to the compiler), so that the sampled points -
 * and with them which pixels nearest picks - are the same bits as torch's: a one-ulp shift of a
 * coordinate near x = 40 moves a bilinear output by ~1e-5 where neighbours differ. */
#if defined(__GNUC__) && !defined(__clang__)
#define GT__GS_EXACT __attribute__((optimize("fp-contract=off")))
#else
#define GT__GS_EXACT
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
#endif

/* clamps to [0, size - 1]; NaN -> 0 (as torch's clip_coordinates) */
GT__GS_EXACT static inline float gt__gs_clip(float v, float hi) {
    v = (v > 0.0f) ? v : 0.0f;
    return (v < hi) ? v : hi;
}

/* The source coordinate (in pixels) of normalised coordinate g along an axis of `size`. */
GT__GS_EXACT static float gt__gs_source(float g, int64_t size, gt_grid_pad pad, bool align) {
    float hi = (float)(size - 1), v;
    /* one rounding after the product and the shift (the product is exact in double), as torch's
     * fused multiply-add: its CPU kernel is built with contraction */
    if (align)
        v = (float)((double)(g + 1.0f) * (double)((float)(size - 1) / 2.0f));
    else
        v = (float)((double)(g + 1.0f) * (double)((float)size / 2.0f) - 0.5);
    if (pad == GT_GRID_BORDER) {
        v = gt__gs_clip(v, hi);
    } else if (pad == GT_GRID_REFLECTION) {
        /* reflect about the corner centres (0, size - 1) or the outer edges (-0.5, size - 0.5):
         * fold |v - low| by twice the span, then mirror the far half */
        float low = align ? 0.0f : -0.5f, span2 = align ? (float)(size - 1) * 2.0f : (float)size * 2.0f;
        if (align && size <= 1) {
            v = 0.0f;
        } else {
            float a = fabsf(v - low), flips = truncf(a / span2);
            float extra = a - flips * span2, other = span2 - extra;
            v = ((extra < other) ? extra : other) + low;
        }
        v = gt__gs_clip(v, hi);
    }
    if (!isfinite(v) || v > (float)(INT_MAX - 1) || v < (float)INT_MIN) v = -100.0f; /* outside */
    return v;
}

static inline int32_t gt__gs_at(int64_t yy, int64_t xx, int64_t H, int64_t W) {
    return (yy >= 0 && yy < H && xx >= 0 && xx < W) ? (int32_t)(yy * W + xx) : -1;
}

/* One tap per (n, ho, wo) of grid (contiguous (N, Ho, Wo, 2)). */
GT__GS_EXACT static void gt__gs_taps(const float *grid, int64_t NL, int64_t H, int64_t W, bool bilinear,
                                     gt_grid_pad pad, bool align, gt__gs_tap *t) {
#pragma omp parallel for schedule(static) if (NL > GT_PAR_MIN)
    for (int64_t k = 0; k < NL; k++) {
        float ix = gt__gs_source(grid[2 * k], W, pad, align), iy = gt__gs_source(grid[2 * k + 1], H, pad, align);
        gt__gs_tap *o = &t[k];
        if (!bilinear) { /* nearest: round half to even */
            int64_t xn = (int64_t)nearbyintf(ix), yn = (int64_t)nearbyintf(iy);
            o->i[0] = gt__gs_at(yn, xn, H, W);
            o->w[0] = 1.0f;
            o->i[1] = o->i[2] = o->i[3] = -1;
            o->w[1] = o->w[2] = o->w[3] = 0.0f;
            continue;
        }
        float fx = floorf(ix), fy = floorf(iy);
        int64_t x0 = (int64_t)fx, y0 = (int64_t)fy;
        float w = ix - fx, e = 1.0f - w; /* distances to the west and east neighbours */
        float n = iy - fy, s = 1.0f - n; /* to the north and south */
        o->i[0] = gt__gs_at(y0, x0, H, W); /* nw */
        o->w[0] = s * e;
        o->i[1] = gt__gs_at(y0, x0 + 1, H, W); /* ne */
        o->w[1] = s * w;
        o->i[2] = gt__gs_at(y0 + 1, x0, H, W); /* sw */
        o->w[2] = n * e;
        o->i[3] = gt__gs_at(y0 + 1, x0 + 1, H, W); /* se */
        o->w[3] = n * w;
    }
}

/* forward: x planes (P, HW) -> y (P, L); adjoint: y (P, L) -> x planes (P, HW), zeroed first;
 * nt: the taps used (1 nearest, 4 bilinear). */
static void gt__gs_gather(int64_t P, int64_t C, int64_t HW, int64_t L, int nt, const gt__gs_tap *taps, const float *x,
                          float *y) {
#pragma omp parallel for schedule(static) if (P * L > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        const gt__gs_tap *t = taps + (p / C) * L;
        const float *xp = x + p * HW;
        float *yp = y + p * L;
        for (int64_t l = 0; l < L; l++) {
            float acc = 0.0f;
            for (int k = 0; k < nt; k++)
                if (t[l].i[k] >= 0) acc += xp[t[l].i[k]] * t[l].w[k];
            yp[l] = acc;
        }
    }
}

static void gt__gs_scatter(int64_t P, int64_t C, int64_t HW, int64_t L, int nt, const gt__gs_tap *taps,
                           const float *y, float *x) {
#pragma omp parallel for schedule(static) if (P * L > GT_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        const gt__gs_tap *t = taps + (p / C) * L;
        const float *yp = y + p * L;
        float *xp = x + p * HW;
        memset(xp, 0, (size_t)HW * sizeof(float));
        for (int64_t l = 0; l < L; l++)
            for (int k = 0; k < nt; k++)
                if (t[l].i[k] >= 0) xp[t[l].i[k]] += yp[l] * t[l].w[k];
    }
}

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
    int64_t L = Ho * Wo, HW = H * W;
    gt_tensor *sc = gt_contiguous(src);
    if (!sc) return NULL;
    gt_tensor *out = gt__new(GT_F32, 4, adjoint ? (const int64_t[]){N, C, H, W} : (const int64_t[]){N, C, Ho, Wo});
    if (!out) return NULL;
    gt__gs_tap *taps = gt__alloc((size_t)(N * L) * sizeof(gt__gs_tap) + sizeof(gt__gs_tap));
    if (!taps) return gt__fail(GT_ERR_OOM, "gt_grid_sample: out of memory for %lld sampling taps", (long long)(N * L));
    gt__gs_taps(gt_data(grid), N * L, H, W, bilinear, pad, align, taps);
    if (adjoint)
        gt__gs_scatter(N * C, C, HW, L, bilinear ? 4 : 1, taps, gt_data(sc), gt_data(out));
    else
        gt__gs_gather(N * C, C, HW, L, bilinear ? 4 : 1, taps, gt_data(sc), gt_data(out));
    gt__free(taps);
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
