/* src/optim/optim_internal.h - what the optimizers share. */
#ifndef GANTRY_OPTIM_INTERNAL_H
#define GANTRY_OPTIM_INTERNAL_H

#include "../internal.h"

/* A zero-filled (n) slab owned by the caller (not by any open scope). */
static inline gt_tensor *gt__optim_slab(int64_t n) {
    int m = gt_scope_begin();
    gt_tensor *t = gt_retain(gt_zeros(1, (const int64_t[]){n}));
    gt_scope_end(m);
    return t;
}

/* The registry an optimizer may work on: finalized, with a gradient slab. */
static inline gt_status gt__optim_check_params(const char *fn, const gt_params *P) {
    if (!P) return gt_set_error(GT_ERR_ARG, "%s: registry is NULL", fn);
    if (!P->finalized)
        return gt_set_error(GT_ERR_STATE, "%s: call gt_params_finalize on the registry first (after building every "
                                          "module)",
                            fn);
    return GT_OK;
}

#endif
