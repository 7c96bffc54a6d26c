/* The anycost commands' shared start: a checkpoint's generator, which must be anycost. */
#include <stdio.h>

#include "commands.h"
#include "gantry.h"

int gt_cli_load_anycost(const char *cmd, const char *ckpt, bool ema, gt_net *G, gt_train_config *cfg,
                        bool *used_ema) {
    if (gt_load_generator(ckpt, ema, G, cfg, used_ema) != GT_OK) {
        fprintf(stderr, "gantry %s: %s\n", cmd, gt_last_error());
        return GT_EXIT_FAIL;
    }
    if (gt_anycost_is(G)) return GT_EXIT_OK;
    fprintf(stderr, "gantry %s: %s holds a %s generator; %s needs an anycost checkpoint (gantry train --model anycost)\n",
            cmd, ckpt, cfg->model.name, cmd);
    gt_net_free(G);
    return GT_EXIT_FAIL;
}
