/* Inverted dropout with a Philox mask: y = x * mask, mask = 1/(1-p) where the
 * draw u in [0,1) is >= p, else 0. The mask is a constant, so the backward is
 * gy * mask (gt_mul), which differentiates again. */
#include "../internal.h"

/* Element i draws u from Philox block (offset + i/4), word i%4 - the same
 * numbers gt_rng_uniform gives - so a seed fixes the mask whatever the
 * number of threads. */
static inline float gt__u01(uint32_t v) { return (float)(v >> 8) * (1.0f / 16777216.0f); }

/* y = x * mask over n contiguous elements; mask (may be NULL) gets the mask. */
static void gt__dropout_fast(uint64_t seed, uint64_t base, float p, float scale, int64_t n, const float *x,
                             float *y, float *mask) {
    int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN)
    for (int64_t b = 0; b < blocks; b++) {
        uint32_t v[4];
        gt_philox4x32(seed, 0, base + (uint64_t)b, v);
        for (int k = 0; k < 4 && b * 4 + k < n; k++) {
            int64_t i = b * 4 + k;
            float m = gt__u01(v[k]) >= p ? scale : 0.0f;
            y[i] = x[i] * m;
            if (mask) mask[i] = m;
        }
    }
}

static gt_status gt__dropout_naive(gt_rng *rng, float p, float scale, int64_t n, const float *x, float *y,
                                   float *mask) {
    float *u = malloc((size_t)(n ? n : 1) * sizeof(float));
    if (!u) return gt_set_error(GT_ERR_OOM, "gt_dropout: out of memory");
    gt_rng_uniform(rng, u, n, 0.0f, 1.0f);
    for (int64_t i = 0; i < n; i++) {
        float m = u[i] >= p ? scale : 0.0f;
        y[i] = x[i] * m;
        if (mask) mask[i] = m;
    }
    free(u);
    return GT_OK;
}

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
    float *pm = mask ? gt_data(mask) : NULL;
    if (gt_backend_get() == GT_BACKEND_NAIVE) {
        if (gt__dropout_naive(rng, p, scale, n, gt_data(xc), gt_data(y), pm) != GT_OK) return NULL;
    } else {
        gt__dropout_fast(rng->seed, rng->offset, p, scale, n, gt_data(xc), gt_data(y), pm);
        rng->offset += (uint64_t)((n + 3) / 4);
    }
    if (grad) {
        gt_node *nd = gt__record(y, GT_OP_DROPOUT, gt__dropout_bw, 1, &x);
        if (!nd) return NULL;
        nd->farg[0] = p;
        gt__save(nd, mask);
    }
    return y;
}
