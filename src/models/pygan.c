/* PyTorch-GAN's generator for 28 / 32 px, shared by AC-GAN, InfoGAN, BEGAN and EBGAN
 * (models_internal.h says what it is). */
#include <string.h>

#include "models_internal.h"

#define GT__LRELU 0.2f

gt_status gt__pygan_g_init(gt__pygan_g *g, gt_params *P, const gt_model_config *c, int ngf, int classes, gt_rng *r) {
    memset(g, 0, sizeof *g);
    g->s = c->res / 4, g->ngf = ngf, g->emb = classes > 0;
    gt_status st = GT_OK;
    if (g->emb) st = gt_nn_embedding_init(&g->label_emb, P, "label_emb", classes, c->nz, r);
    if (st == GT_OK) st = gt_nn_linear_init(&g->l1, P, "l1.0", c->nz, ngf * g->s * g->s, true, r);
    const int cin[3] = {ngf, ngf, ngf / 2}, cout[3] = {ngf, ngf / 2, c->channels}, bn_i[3] = {0, 3, 7},
              conv_i[3] = {2, 6, 9};
    gt_conv_params p1 = gt_conv_params_make(1, 1);
    char name[64];
    for (int i = 0; i < 3 && st == GT_OK; i++) {
        snprintf(name, sizeof name, "conv_blocks.%d", bn_i[i]);
        st = gt_nn_batch_norm_init(&g->bn[i], P, name, cin[i], true, true);
        if (st == GT_OK) st = gt_init_normal(g->bn[i].weight, r, 1.0f, 0.02f);
        snprintf(name, sizeof name, "conv_blocks.%d", conv_i[i]);
        if (st == GT_OK) st = gt_nn_conv2d_init(&g->conv[i], P, name, cin[i], cout[i], 3, 3, p1, true, r);
        if (st == GT_OK) st = gt_init_normal(g->conv[i].weight, r, 0.0f, 0.02f);
    }
    return st;
}

gt_tensor *gt__pygan_g_forward(gt__pygan_g *g, gt_tensor *z, gt_tensor *y, gt_bn_mode mode) {
    const int64_t n = z->shape[0];
    gt_tensor *h = gt_reshape(z, GT_SHAPE(n, -1));
    if (g->emb) h = gt_mul(gt_embedding(g->label_emb.weight, y), h); /* label_emb(y) * z */
    h = gt_reshape(gt_nn_linear_forward(&g->l1, h), GT_SHAPE(n, g->ngf, g->s, g->s));
    gt_layer_mode lm = (gt_layer_mode)mode;
    h = gt_nn_batch_norm_forward_mode(&g->bn[0], h, lm);
    h = gt_nn_conv2d_forward(&g->conv[0], gt_upsample_nearest2d(h, 2 * g->s, 2 * g->s));
    h = gt_leaky_relu(gt_nn_batch_norm_forward_mode(&g->bn[1], h, lm), GT__LRELU);
    h = gt_nn_conv2d_forward(&g->conv[1], gt_upsample_nearest2d(h, 4 * g->s, 4 * g->s));
    h = gt_leaky_relu(gt_nn_batch_norm_forward_mode(&g->bn[2], h, lm), GT__LRELU);
    return gt_tanh(gt_nn_conv2d_forward(&g->conv[2], h));
}

void gt__pygan_g_momentum(gt__pygan_g *g, float momentum) {
    for (int i = 0; i < 3; i++) g->bn[i].momentum = momentum;
}
