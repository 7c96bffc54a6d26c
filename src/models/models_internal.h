/* Pieces several model files share (not public). */
#ifndef GT_MODELS_INTERNAL_H
#define GT_MODELS_INTERNAL_H

#include "gantry/layers.h"
#include "gantry/models.h"

/* The generator of PyTorch-GAN's AC-GAN, InfoGAN, BEGAN and EBGAN (src/models/pygan.c):
 * [label_emb: Embedding(K, nz), multiplied into z] -> l1.0 Linear(nz, ngf*s*s), s = res / 4 ->
 * conv_blocks: 0 BN(ngf), 1 up x2, 2 Conv3x3(ngf, ngf), 3 BN, 4 LReLU(0.2), 5 up x2,
 * 6 Conv3x3(ngf, ngf/2), 7 BN, 8 LReLU(0.2), 9 Conv3x3(ngf/2, C), 10 tanh. Convs N(0, 0.02), BN
 * weight N(1, 0.02) (the reference's weights_init_normal), the linear and embedding PyTorch's
 * defaults; BN eps 1e-5 (the reference passes 0.8 as eps by mistake for its momentum). */
typedef struct {
    int s, ngf;
    bool emb;
    gt_nn_embedding label_emb;
    gt_nn_linear l1;
    gt_nn_batch_norm bn[3]; /* conv_blocks.0, .3, .7 */
    gt_nn_conv2d conv[3];   /* conv_blocks.2, .6, .9 */
} gt__pygan_g;

/* classes > 0: with the label embedding (AC-GAN). */
gt_status gt__pygan_g_init(gt__pygan_g *g, gt_params *P, const gt_model_config *c, int ngf, int classes, gt_rng *r);
gt_tensor *gt__pygan_g_forward(gt__pygan_g *g, gt_tensor *z, gt_tensor *y, gt_bn_mode mode);
void gt__pygan_g_momentum(gt__pygan_g *g, float momentum);

/* SNGAN's discriminator for 32 px (StudioGAN's resnet D), shared by sngan, sagan, cgan and
 * biggan (src/models/resnet_d.c): blocks.0.0 DiscOptBlock (channels -> ch, 32 -> 16), DiscBlock
 * (down, 16 -> 8), two DiscBlocks at 8, the self-attention as its own entry of the list after
 * block attn_after (-1: none); ReLU, sum over H and W, the projection head (linear, and embed
 * when classes > 0). The layers' own (PyTorch default) init: families re-initialise after. */
#define GT__RES_DBLOCKS 4
typedef struct {
    int attn_after;
    gt_nn_disc_opt_block d0;
    gt_nn_disc_block d[GT__RES_DBLOCKS - 1];
    gt_nn_self_attention attn;
    gt_nn_proj_head head;
} gt__res_d;

/* after (may be NULL) runs as each part is built, before the next draws from r (a family's own
 * init, in the order its weights were always drawn): part 0 the first block, 1..3 the others,
 * GT__RES_D_ATTN the attention, GT__RES_D_HEAD the head. */
enum { GT__RES_D_ATTN = -1, GT__RES_D_HEAD = -2 };
typedef gt_status (*gt__res_d_after)(gt__res_d *d, int part, gt_rng *r);
gt_status gt__res_d_init(gt__res_d *d, gt_params *P, int channels, int ch, int attn_after, int classes, bool sn,
                         gt_rng *r, gt__res_d_after after);
/* x (N, channels, 32, 32), y labels for the projection (NULL without classes) -> (N) */
gt_tensor *gt__res_d_forward(gt__res_d *d, gt_tensor *x, gt_tensor *y, gt_layer_mode lm);

#endif
