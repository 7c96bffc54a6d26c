/* Adam (torch.optim.Adam, 1.13 single-tensor path), one loop over the slab. */
#include "../backend/kernels.h"
#include "optim_internal.h"

gt_status gt_adam_init(gt_adam *o, gt_params *P, double lr, double beta1, double beta2, double eps,
                       double weight_decay) {
    if (!o) return gt_set_error(GT_ERR_ARG, "gt_adam_init: optimizer is NULL");
    memset(o, 0, sizeof *o);
    gt_status st = gt__optim_check_params("gt_adam_init", P);
    if (st != GT_OK) return st;
    if (!(lr >= 0) || !(eps >= 0) || !(weight_decay >= 0))
        return gt_set_error(GT_ERR_ARG, "gt_adam_init: lr %g, eps %g and weight_decay %g must be >= 0", lr, eps,
                            weight_decay);
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
        return gt_set_error(GT_ERR_ARG, "gt_adam_init: betas (%g, %g) must lie in [0, 1)", beta1, beta2);
    *o = (gt_adam){.params = P, .lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps, .weight_decay = weight_decay};
    o->exp_avg = gt__optim_slab(P->numel);
    o->exp_avg_sq = gt__optim_slab(P->numel);
    if (!o->exp_avg || !o->exp_avg_sq) {
        st = gt_last_status();
        gt_adam_free(o);
        return st;
    }
    return GT_OK;
}

void gt_adam_free(gt_adam *o) {
    if (!o) return;
    gt_release(o->exp_avg);
    gt_release(o->exp_avg_sq);
    gt_release(o->max_exp_avg_sq);
    memset(o, 0, sizeof *o);
}

gt_status gt_adam_step(gt_adam *o) {
    if (!o || !o->exp_avg) return gt_set_error(GT_ERR_STATE, "gt_adam_step: optimizer not initialised");
    gt_params *P = o->params;
    gt_status st = gt__optim_check_params("gt_adam_step", P);
    if (st == GT_OK && gt_numel(o->exp_avg) != P->numel)
        st = gt_set_error(GT_ERR_STATE, "gt_adam_step: the registry now has %lld parameters, the optimizer was made "
                                        "for %lld",
                          (long long)P->numel, (long long)gt_numel(o->exp_avg));
    if (st == GT_OK) st = gt_params_sync_grads(P);
    if (st != GT_OK) return st;
    if (o->amsgrad && !o->max_exp_avg_sq) {
        o->max_exp_avg_sq = gt__optim_slab(P->numel);
        if (!o->max_exp_avg_sq) return gt_last_status();
    }
    o->step++;
    /* scalars exactly as torch forms them: Python doubles, cast to float by the kernels */
    double step = (double)o->step;
    double bc1 = 1.0 - pow(o->beta1, step), bc2 = 1.0 - pow(o->beta2, step);
    const float b1 = (float)o->beta1, b2 = (float)o->beta2;
    const float a1 = (float)(1.0 - o->beta1), a2 = (float)(1.0 - o->beta2);
    const float wd = (float)o->weight_decay, eps = (float)o->eps;
    const float neg_step = (float)-(o->lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    gt_tensor *vmax = o->amsgrad ? o->max_exp_avg_sq : NULL;
    gt_tensor *ts[5] = {P->slab, P->grad, o->exp_avg, o->exp_avg_sq, vmax};
    GT_K(gt__kern(5, ts), adam)(P->numel, gt__ptr(P->slab), gt__ptr(P->grad), gt__ptr(o->exp_avg),
                                gt__ptr(o->exp_avg_sq), vmax ? gt__ptr(vmax) : NULL, b1, b2, a1, a2, wd, eps, neg_step,
                                bc2_sqrt);
    return GT_OK;
}
