/* Exponential moving average of a registry's parameters (plus its buffers). */
#include "../backend/kernels.h"
#include "optim_internal.h"

gt_status gt_ema_init(gt_ema *e, gt_params *src, gt_params *dst, double decay) {
    if (!e) return gt_set_error(GT_ERR_ARG, "gt_ema_init: EMA is NULL");
    memset(e, 0, sizeof *e);
    gt_status st = gt__optim_check_params("gt_ema_init", src);
    if (st == GT_OK && dst) st = gt__optim_check_params("gt_ema_init (dst)", dst);
    if (st != GT_OK) return st;
    if (!(decay >= 0 && decay <= 1)) return gt_set_error(GT_ERR_ARG, "gt_ema_init: decay %g outside [0, 1]", decay);
    if (dst == src) return gt_set_error(GT_ERR_ARG, "gt_ema_init: dst is src; give a second copy of the model or NULL");
    if (dst && !gt_params_same_layout(src, dst))
        return gt_set_error(GT_ERR_ARG,
                            "gt_ema_init: dst's names and shapes differ from src's (%d vs %d entries); build it "
                            "with the same constructors",
                            dst->n, src->n);
    *e = (gt_ema){.src = src, .dst = dst, .decay = decay};
    e->params = dst ? gt_retain(dst->slab) : gt__optim_slab(src->numel);
    e->buffers = dst ? gt_retain(dst->buffers) : gt__optim_slab(src->buffer_numel);
    if (!e->params || !e->buffers) {
        st = gt_last_status();
        gt_ema_free(e);
        return st;
    }
    memcpy(gt_data(e->params), gt_data(src->slab), (size_t)src->numel * sizeof(float));
    memcpy(gt_data(e->buffers), gt_data(src->buffers), (size_t)src->buffer_numel * sizeof(float));
    return GT_OK;
}

void gt_ema_free(gt_ema *e) {
    if (!e) return;
    gt_release(e->params);
    gt_release(e->buffers);
    memset(e, 0, sizeof *e);
}

static gt_status gt__ema_check(const gt_ema *e, const char *fn) {
    if (!e || !e->params) return gt_set_error(GT_ERR_STATE, "%s: EMA not initialised", fn);
    if (gt_numel(e->params) != e->src->numel || gt_numel(e->buffers) != e->src->buffer_numel)
        return gt_set_error(GT_ERR_STATE, "%s: the registry changed size since gt_ema_init", fn);
    return GT_OK;
}

gt_status gt_ema_update_with(gt_ema *e, double decay) {
    gt_status st = gt__ema_check(e, "gt_ema_update");
    if (st != GT_OK) return st;
    if (!(decay >= 0 && decay <= 1)) return gt_set_error(GT_ERR_ARG, "gt_ema_update: decay %g outside [0, 1]", decay);
    const float d = (float)decay, a = (float)(1.0 - decay);
    const gt_kernels *K = gt__kern(4, (gt_tensor *const[]){e->params, e->src->slab, e->buffers, e->src->buffers});
    GT_K(K, axpby)(e->src->numel, a, gt__ptr(e->src->slab), d, gt__ptr(e->params));
    GT_K(K, copy_rows)(1, e->src->buffer_numel, gt__ptr(e->src->buffers), 0, gt__ptr(e->buffers), 0);
    e->updates++;
    return GT_OK;
}

gt_status gt_ema_update(gt_ema *e) {
    if (!e) return gt_set_error(GT_ERR_STATE, "gt_ema_update: EMA is NULL");
    return gt_ema_update_with(e, e->decay);
}

static void gt__swap(float *a, float *b, int64_t n) {
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

gt_status gt_ema_swap(gt_ema *e) {
    gt_status st = gt__ema_check(e, "gt_ema_swap");
    if (st != GT_OK) return st;
    gt__swap(gt_data(e->params), gt_data(e->src->slab), e->src->numel);
    gt__swap(gt_data(e->buffers), gt_data(e->src->buffers), e->src->buffer_numel);
    return GT_OK;
}
