/* SGD with momentum (torch.optim.SGD, 1.13 single-tensor path), one loop over the slab. */
#include "optim_internal.h"

gt_status gt_sgd_init(gt_sgd *o, gt_params *P, double lr, double momentum, double dampening, double weight_decay,
                      bool nesterov) {
    if (!o) return gt_set_error(GT_ERR_ARG, "gt_sgd_init: optimizer is NULL");
    memset(o, 0, sizeof *o);
    gt_status st = gt__optim_check_params("gt_sgd_init", P);
    if (st != GT_OK) return st;
    if (!(lr >= 0) || !(momentum >= 0) || !(weight_decay >= 0))
        return gt_set_error(GT_ERR_ARG, "gt_sgd_init: lr %g, momentum %g and weight_decay %g must be >= 0", lr,
                            momentum, weight_decay);
    if (nesterov && (momentum <= 0 || dampening != 0))
        return gt_set_error(GT_ERR_ARG, "gt_sgd_init: nesterov needs momentum > 0 and dampening 0 (got %g and %g)",
                            momentum, dampening);
    *o = (gt_sgd){.params = P, .lr = lr, .momentum = momentum, .dampening = dampening,
                  .weight_decay = weight_decay, .nesterov = nesterov};
    if (momentum != 0) {
        o->momentum_buffer = gt__optim_slab(P->numel);
        if (!o->momentum_buffer) {
            st = gt_last_status();
            gt_sgd_free(o);
            return st;
        }
    }
    return GT_OK;
}

void gt_sgd_free(gt_sgd *o) {
    if (!o) return;
    gt_release(o->momentum_buffer);
    memset(o, 0, sizeof *o);
}

gt_status gt_sgd_step(gt_sgd *o) {
    if (!o || !o->params) return gt_set_error(GT_ERR_STATE, "gt_sgd_step: optimizer not initialised");
    gt_params *P = o->params;
    gt_status st = gt__optim_check_params("gt_sgd_step", P);
    if (st == GT_OK && o->momentum_buffer && gt_numel(o->momentum_buffer) != P->numel)
        st = gt_set_error(GT_ERR_STATE, "gt_sgd_step: the registry now has %lld parameters, the optimizer was made "
                                        "for %lld",
                          (long long)P->numel, (long long)gt_numel(o->momentum_buffer));
    if (st == GT_OK) st = gt_params_sync_grads(P);
    if (st != GT_OK) return st;
    const bool use_wd = o->weight_decay != 0, first = o->step == 0, nesterov = o->nesterov;
    const float wd = (float)o->weight_decay, mu = (float)o->momentum;
    const float damp = (float)(1.0 - o->dampening), neg_lr = (float)-o->lr;
    float *p = gt_data(P->slab);                                         // (numel)
    const float *g = gt_data(P->grad);                                   // (numel)
    float *buf = o->momentum_buffer ? gt_data(o->momentum_buffer) : NULL; // (numel) or NULL
    const int64_t n = P->numel;
    /* fmaf where ATen's add_(x, alpha) uses vec::fmadd: the same roundings as torch. */
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float d = use_wd ? fmaf(wd, p[i], g[i]) : g[i];
        if (buf) {
            buf[i] = first ? d : fmaf(damp, d, buf[i] * mu);
            d = nesterov ? fmaf(mu, buf[i], d) : buf[i];
        }
        p[i] = fmaf(neg_lr, d, p[i]);
    }
    o->step++;
    return GT_OK;
}
