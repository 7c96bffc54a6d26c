/* src/train/distill_internal.h - what distill.c and distill_saved.c share: the record of a
 * distillation's options in its checkpoints ("distill" metadata) and reading it back to resume. */
#ifndef GT_DISTILL_INTERNAL_H
#define GT_DISTILL_INTERNAL_H

#include "gantry/distill.h"
#include "gantry/prune.h"

typedef struct {
    char teacher[GT_PATH_MAX], init[GT_PATH_MAX], layers[256];
    char *config; /* the checkpoint's "config" metadata (the student's resolved config), owned */
} gt__distill_saved;

/* The "distill" metadata of o: {"teacher": absolute path, "init": ..., "w_feat": ..., "layers": ...}
 * (malloc'd JSON; NULL when out of memory). */
char *gt__distill_opts_json(const gt_distill_opts *o);
/* given->out_dir's last.safetensors: its options into *o (given's steps, quiet and callbacks kept),
 * strings in *sv (gt__distill_saved_free). GT_ERR_ARG "out: ..." when there is no checkpoint or it
 * is not a distillation's, GT_ERR_FORMAT when its record is malformed. */
gt_status gt__distill_read_saved(const gt_distill_opts *given, gt__distill_saved *sv, gt_distill_opts *o);
void gt__distill_saved_free(gt__distill_saved *sv);

/* A once-for-all supernet's step (distill_ofa.c): its channel groups, each group's width choices,
 * this step's widths and the sub-network built from the supernet's weights. */
typedef struct {
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    int n;
    int w[GT_PRUNE_GROUPS_MAX][GT_PRUNE_FRACS_DEFAULT_N], nc[GT_PRUNE_GROUPS_MAX];
    int width[GT_PRUNE_GROUPS_MAX];
    int *prefix; /* 0, 1, 2, ...: every group keeps its first channels */
    gt_net sub;
    bool live;
} gt__ofa;
/* The groups of supernet (GT_ERR_ARG naming the families that can be pruned when it has none). */
gt_status gt__ofa_init(gt__ofa *s, const gt_net *super);
void gt__ofa_free(gt__ofa *s);
/* Step step's sub-network of super (widths drawn from (seed, step)) into *G (owned by s, valid
 * until the next begin or free). */
gt_status gt__ofa_begin(gt__ofa *s, const gt_net *super, uint64_t seed, uint64_t step, gt_net **G);
/* super's gradients := the sub-network's at its positions (0 elsewhere); its buffers copied back. */
gt_status gt__ofa_back(gt__ofa *s, gt_net *super);

#endif
