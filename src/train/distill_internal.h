/* src/train/distill_internal.h - what distill.c and distill_saved.c share: the record of a
 * distillation's options in its checkpoints ("distill" metadata) and reading it back to resume. */
#ifndef GT_DISTILL_INTERNAL_H
#define GT_DISTILL_INTERNAL_H

#include "gantry/distill.h"

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

#endif
