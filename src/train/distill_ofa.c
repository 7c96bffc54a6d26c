/* Once-for-all supernet training (gantry distill --ofa, GAN Compression's supernet): each step
 * the student is a random sub-network of itself - every channel group at one of the width
 * search's widths (gt_prune_width_choices over the default fractions), its first k channels - built
 * with the supernet's weights, run through the distillation step, and its gradients added back
 * into the supernet's before the supernet's Adam steps. So every width that `gantry prune
 * --budget --importance first` later scores has been trained to work on its own, weights shared. */
#include <string.h>

#include "distill_internal.h"

#define GT__OFA_SEED 0x0FA5EEDull

gt_status gt__ofa_init(gt__ofa *s, const gt_net *super) {
    memset(s, 0, sizeof *s);
    s->n = gt_prune_groups(super, s->g, GT_PRUNE_GROUPS_MAX);
    if (s->n < 0) return gt_last_status();
    int most = 0;
    for (int i = 0; i < s->n; i++) {
        s->nc[i] = gt_prune_width_choices(s->g[i].size, gt_prune_fracs_default, GT_PRUNE_FRACS_DEFAULT_N, s->w[i]);
        most = s->g[i].size > most ? s->g[i].size : most;
    }
    s->prefix = malloc((size_t)(most > 0 ? most : 1) * sizeof *s->prefix);
    if (!s->prefix) return gt_set_error(GT_ERR_OOM, "distill --ofa: out of memory");
    for (int k = 0; k < most; k++) s->prefix[k] = k;
    return GT_OK;
}

void gt__ofa_free(gt__ofa *s) {
    if (s->live) gt_net_free(&s->sub);
    free(s->prefix);
    memset(s, 0, sizeof *s);
}

/* Step step's widths: a draw per group from its choices, reproducible from (seed, step) alone. */
static void gt__ofa_widths(gt__ofa *s, uint64_t seed, uint64_t step) {
    gt_rng r;
    gt_rng_init(&r, (seed ^ GT__OFA_SEED) + step * 0x9E3779B97F4A7C15ull);
    for (int i = 0; i < s->n; i++) s->width[i] = s->w[i][gt_rng_u32(&r) % (uint32_t)s->nc[i]];
}

gt_status gt__ofa_begin(gt__ofa *s, const gt_net *super, uint64_t seed, uint64_t step, gt_net **G) {
    if (s->live) gt_net_free(&s->sub), s->live = false;
    gt__ofa_widths(s, seed, step);
    const int *keep[GT_PRUNE_GROUPS_MAX];
    for (int i = 0; i < s->n; i++) keep[i] = s->prefix;
    gt_status st = gt_prune_indices(super, s->width, keep, &s->sub);
    if (st != GT_OK) return st;
    s->live = true;
    *G = &s->sub;
    return GT_OK;
}

gt_status gt__ofa_back(gt__ofa *s, gt_net *super) {
    if (!s->live) return gt_set_error(GT_ERR_STATE, "distill --ofa: no sub-network this step");
    const int *keep[GT_PRUNE_GROUPS_MAX];
    for (int i = 0; i < s->n; i++) keep[i] = s->prefix;
    gt_status st = gt_params_zero_grad(&super->P);
    if (st == GT_OK) st = gt_prune_scatter_back(super, keep, &s->sub);
    return st;
}
