/* SNGAN's ResNet discriminator for 32 px, shared by the ResNet families (models_internal.h). */
#include "models_internal.h"

gt_status gt__res_d_init(gt__res_d *d, gt_params *P, int channels, int ch, int attn_after, int classes, bool sn,
                         gt_rng *r, gt__res_d_after after) {
    char name[64];
    int idx = 0;
    d->attn_after = attn_after;
    snprintf(name, sizeof name, "blocks.%d.0", idx++);
    gt_status st = gt_nn_disc_opt_block_init(&d->d0, P, name, channels, ch, sn, r);
    if (st == GT_OK && after) st = after(d, 0, r);
    for (int i = 0; i < GT__RES_DBLOCKS && st == GT_OK; i++) {
        if (i > 0) {
            snprintf(name, sizeof name, "blocks.%d.0", idx++);
            st = gt_nn_disc_block_init(&d->d[i - 1], P, name, ch, ch, i == 1, sn, r);
            if (st == GT_OK && after) st = after(d, i, r);
        }
        if (st == GT_OK && attn_after == i) {
            snprintf(name, sizeof name, "blocks.%d.0", idx++);
            st = gt_nn_self_attention_init(&d->attn, P, name, ch, sn, r);
            if (st == GT_OK && after) st = after(d, GT__RES_D_ATTN, r);
        }
    }
    if (st == GT_OK) st = gt_nn_proj_head_init(&d->head, P, "", ch, classes, sn, r);
    if (st == GT_OK && after) st = after(d, GT__RES_D_HEAD, r);
    return st;
}

gt_tensor *gt__res_d_forward(gt__res_d *d, gt_tensor *x, gt_tensor *y, gt_layer_mode lm) {
    gt_tensor *h = gt_nn_disc_opt_block_forward(&d->d0, x, lm);
    if (d->attn_after == 0) h = gt_nn_self_attention_forward(&d->attn, h, lm);
    for (int i = 1; i < GT__RES_DBLOCKS; i++) {
        h = gt_nn_disc_block_forward(&d->d[i - 1], h, lm);
        if (d->attn_after == i) h = gt_nn_self_attention_forward(&d->attn, h, lm);
    }
    h = gt_sum(gt_relu(h), 2, (int[]){2, 3}, false); // (N, ch)
    return gt_nn_proj_head_forward(&d->head, h, y, lm); // (N)
}
