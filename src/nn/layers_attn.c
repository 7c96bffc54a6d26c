/* Self-attention (SAGAN, BigGAN-PyTorch's Attention): theta, phi, g, o 1x1
 * convs without bias (spectral-normed when asked) and a scalar gamma. */
#include "../internal.h"
#include "gantry/layers.h"

gt_status gt_nn_self_attention_init(gt_nn_self_attention *m, gt_params *P, const char *prefix, int ch, bool sn,
                                    gt_rng *r) {
    if (!m) return gt_set_error(GT_ERR_ARG, "gt_nn_self_attention_init: module is NULL");
    memset(m, 0, sizeof *m);
    if (ch < 8)
        return gt_set_error(GT_ERR_ARG, "gt_nn_self_attention_init: needs at least 8 channels (ch / 8 of them for "
                                        "theta and phi), got %d", ch);
    m->ch = ch;
    const int c8 = ch / 8, c2 = ch / 2;
    const gt_conv_params p = gt_conv_params_make(1, 0);
    char name[256];
    struct {
        const char *leaf;
        gt_nn_snconv2d *conv;
        int c_in, c_out;
    } convs[4] = {{"theta", &m->theta, ch, c8}, {"phi", &m->phi, ch, c8}, {"g", &m->g, ch, c2},
                  {"o", &m->o, c2, ch}};
    for (int i = 0; i < 4; i++) {
        gt_status st = gt_params_join(name, sizeof name, prefix, convs[i].leaf);
        if (st == GT_OK) st = gt_nn_snconv2d_init(convs[i].conv, P, name, convs[i].c_in, convs[i].c_out, 1, 1, p, false, sn, r);
        if (st != GT_OK) return st;
    }
    int mk = gt_scope_begin();
    m->gamma = gt_layer_register(P, prefix, "gamma", false, 0, NULL); /* 0, as torch.tensor(0.) */
    gt_scope_end(mk);
    return m->gamma ? GT_OK : gt_last_status();
}

gt_tensor *gt_nn_self_attention_forward(gt_nn_self_attention *m, gt_tensor *x, gt_layer_mode mode) {
    if (!x) return NULL;
    if (x->ndim != 4 || x->shape[1] != m->ch || x->shape[2] % 2 || x->shape[3] % 2) {
        char b[96];
        gt_set_error(GT_ERR_SHAPE,
                     "gt_nn_self_attention_forward: expected x (N, %d, H, W) with H and W even (phi and g are "
                     "max-pooled by 2), got %s",
                     m->ch, gt_shape_str(x, b, sizeof b));
        return NULL;
    }
    const int64_t n = x->shape[0], h = x->shape[2], w = x->shape[3], hw = h * w;
    const int64_t c8 = m->ch / 8, c2 = m->ch / 2;
    gt_tensor *theta = gt_reshape(gt_nn_snconv2d_forward(&m->theta, x, mode), GT_SHAPE(n, c8, hw));
    gt_tensor *phi = gt_reshape(gt_max_pool2d(gt_nn_snconv2d_forward(&m->phi, x, mode), 2, 2, 2, 2, 0, 0, false),
                                GT_SHAPE(n, c8, hw / 4));
    gt_tensor *g = gt_reshape(gt_max_pool2d(gt_nn_snconv2d_forward(&m->g, x, mode), 2, 2, 2, 2, 0, 0, false),
                              GT_SHAPE(n, c2, hw / 4));
    gt_tensor *beta = gt_softmax(gt_matmul(gt_transpose(theta, 1, 2), phi), -1); // (N, HW, HW/4)
    gt_tensor *att = gt_reshape(gt_matmul(g, gt_transpose(beta, 1, 2)), GT_SHAPE(n, c2, h, w));
    return gt_add(gt_mul(m->gamma, gt_nn_snconv2d_forward(&m->o, att, mode)), x);
}
