/* gantry/layers.h - the layers of the GAN model zoo (SNGAN, SAGAN, BigGAN,
 * StyleGAN2's minibatch stddev), built from the public ops.
 *
 * Same style as nn.h: an init registers named tensors under a prefix into a
 * gt_params (names = PyTorch's state_dict keys of the equivalent torch
 * module, so checkpoints line up) and draws initial values from a gt_rng as
 * PyTorch's default init does (same distributions; values from gantry's
 * Philox); a forward computes with ops, so every layer is differentiable
 * twice. Forwards take a gt_layer_mode saying train / sample / eval.
 *
 *     gt_nn_snconv2d c; gt_nn_self_attention a;
 *     gt_nn_snconv2d_init(&c, &P, "D.conv", 3, 64, 3, 3, gt_conv_params_make(1, 1), true, true, &r);
 *         // D.conv.weight_orig, D.conv.weight_u, D.conv.weight_v, D.conv.bias
 *     gt_nn_self_attention_init(&a, &P, "D.attn", 64, true, &r);
 *     h = gt_nn_self_attention_forward(&a, gt_nn_snconv2d_forward(&c, x, GT_LAYER_TRAIN), GT_LAYER_TRAIN);
 */
#ifndef GANTRY_LAYERS_H
#define GANTRY_LAYERS_H

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a layer runs (the same values as models.h's gt_bn_mode, so one casts
 * to the other):
 *  GT_LAYER_TRAIN  batch norm: batch statistics, running ones updated;
 *                  spectral norm: one power iteration, u and v stored;
 *  GT_LAYER_BATCH  batch statistics, nothing updated (no power iteration:
 *                  a sample grid during training changes no state);
 *  GT_LAYER_EVAL   running statistics; the stored u and v. */
typedef enum { GT_LAYER_TRAIN = 0, GT_LAYER_BATCH = 1, GT_LAYER_EVAL = 2 } gt_layer_mode;

/* Registers a zero tensor of (ndim, shape) as "prefix.leaf" (a buffer when
 * buffer) and returns it, borrowed from P; NULL + gt_last_error() on failure.
 * Call inside a scope (the registry keeps its own reference). For writing
 * modules. */
gt_tensor *gt_layer_register(gt_params *P, const char *prefix, const char *leaf, bool buffer, int ndim,
                             const int64_t *shape);
/* Batch norm in a mode (the module's own `training` flag is not read). */
gt_tensor *gt_nn_batch_norm_forward_mode(const gt_nn_batch_norm *m, gt_tensor *x, gt_layer_mode mode);

/* --- spectral normalization (torch.nn.utils.spectral_norm, dim 0) ------------
 * W (rows, ...) seen as the matrix (rows, cols), cols = the product of the
 * other dims. Registers prefix.weight_orig (trainable, the wrapped weight),
 * buffers prefix.weight_u (rows) and prefix.weight_v (cols). A TRAIN forward
 * does one power iteration (n_power_iterations) without gradient, v = normalize(W^T u),
 * u = normalize(W v) (normalize: x / max(|x|, eps)), stores u and v; every
 * forward then takes sigma = u . (W v) with the gradient flowing through W
 * only and returns W / sigma. */
typedef struct {
    int64_t rows, cols;
    int n_power_iterations; /* per TRAIN forward: 1 (torch's default) */
    float eps;              /* 1e-12 (torch's default); StudioGAN uses 1e-6 */
    gt_tensor *weight_orig; // (rows, ...) parameter
    gt_tensor *weight_u;    // (rows) buffer
    gt_tensor *weight_v;    // (cols) buffer
    float sigma;            /* sigma of the last forward (0 before the first; CPU tensors only) */
} gt_nn_spectral_norm;
/* Registers the three tensors (weight_orig zero: the caller initialises it,
 * then draws u and v with gt_nn_spectral_norm_reset_uv, torch's order). */
gt_status gt_nn_spectral_norm_init(gt_nn_spectral_norm *sn, gt_params *P, const char *prefix, int ndim,
                                   const int64_t *shape);
/* u ~ N(0, 1) normalized, then v ~ N(0, 1) normalized (eps as sn->eps). */
gt_status gt_nn_spectral_norm_reset_uv(gt_nn_spectral_norm *sn, gt_rng *r);
/* weight_orig / sigma (new reference, in scope). */
gt_tensor *gt_nn_spectral_norm_weight(gt_nn_spectral_norm *sn, gt_layer_mode mode);

/* Conv2d / Linear / Embedding whose weight is spectrally normalized when sn
 * (names weight_orig, weight_u, weight_v, bias: torch's spectral_norm(module))
 * or plain (weight, bias: exactly nn.Conv2d / nn.Linear / nn.Embedding). The
 * default init of the torch module, then u and v. */
typedef struct {
    int c_in, c_out, kh, kw;
    gt_conv_params p;
    bool sn;
    gt_tensor *weight;        // (C_out, C_in/groups, kH, kW) without sn; NULL with sn
    gt_tensor *bias;          // (C_out) or NULL
    gt_nn_spectral_norm norm; // with sn: norm.weight_orig has weight's shape
} gt_nn_snconv2d;
gt_status gt_nn_snconv2d_init(gt_nn_snconv2d *m, gt_params *P, const char *prefix, int c_in, int c_out, int kh,
                              int kw, gt_conv_params p, bool bias, bool sn, gt_rng *r);
gt_tensor *gt_nn_snconv2d_forward(gt_nn_snconv2d *m, gt_tensor *x, gt_layer_mode mode);

typedef struct {
    int in_features, out_features;
    bool sn;
    gt_tensor *weight; // (out, in) without sn; NULL with sn
    gt_tensor *bias;   // (out) or NULL
    gt_nn_spectral_norm norm;
} gt_nn_snlinear;
gt_status gt_nn_snlinear_init(gt_nn_snlinear *m, gt_params *P, const char *prefix, int in_features, int out_features,
                              bool bias, bool sn, gt_rng *r);
gt_tensor *gt_nn_snlinear_forward(gt_nn_snlinear *m, gt_tensor *x, gt_layer_mode mode);

typedef struct {
    int num, dim;
    bool sn;
    gt_tensor *weight; // (num, dim) without sn; NULL with sn
    gt_nn_spectral_norm norm;
} gt_nn_snembedding;
gt_status gt_nn_snembedding_init(gt_nn_snembedding *m, gt_params *P, const char *prefix, int num, int dim, bool sn,
                                 gt_rng *r);
/* idx i32 of any shape -> (idx..., dim) */
gt_tensor *gt_nn_snembedding_forward(gt_nn_snembedding *m, gt_tensor *idx, gt_layer_mode mode);

/* --- self-attention (SAGAN; BigGAN-PyTorch's Attention) ------------------------
 * theta, phi: 1x1 conv ch -> ch/8; g: 1x1 conv ch -> ch/2; o: 1x1 conv
 * ch/2 -> ch (no biases, spectral norm when sn); gamma a scalar, 0 at init.
 * beta = softmax(theta^T maxpool2(phi)) over the last dim,
 * out = x + gamma * o((maxpool2(g) beta^T) as (N, ch/2, H, W)). */
typedef struct {
    int ch;
    gt_nn_snconv2d theta, phi, g, o;
    gt_tensor *gamma; // () parameter
} gt_nn_self_attention;
/* ch >= 8 (ch/8 and ch/2 round down as in torch). */
gt_status gt_nn_self_attention_init(gt_nn_self_attention *m, gt_params *P, const char *prefix, int ch, bool sn,
                                    gt_rng *r);
/* x (N, ch, H, W), H and W even -> (N, ch, H, W) */
gt_tensor *gt_nn_self_attention_forward(gt_nn_self_attention *m, gt_tensor *x, gt_layer_mode mode);

/* --- conditional batch norm --------------------------------------------------
 * BatchNorm2d(affine=False) at prefix.bn (running_mean, running_var; torch's
 * momentum 0.1, eps 1e-5), then a per-sample gain and bias per channel. */

/* From the class: gain = prefix.gain.weight[y] (an Embedding (classes, C),
 * initialised 1), bias = prefix.bias.weight[y] (initialised 0) - the
 * projection discriminator's / SNGAN's conditional G. */
typedef struct {
    int num_features, num_classes;
    gt_nn_batch_norm bn;
    gt_tensor *gain; // (classes, C)
    gt_tensor *bias; // (classes, C)
} gt_nn_class_bn;
gt_status gt_nn_class_bn_init(gt_nn_class_bn *m, gt_params *P, const char *prefix, int num_features,
                              int num_classes);
/* x (N, C, H, W), y i32 (N) in [0, classes) -> (N, C, H, W) */
gt_tensor *gt_nn_class_bn_forward(gt_nn_class_bn *m, gt_tensor *x, gt_tensor *y, gt_layer_mode mode);

/* From a vector (BigGAN): gain = 1 + prefix.gain(v), bias = prefix.bias(v),
 * both Linear(in, C) without bias, spectral-normed when sn. */
typedef struct {
    int num_features, in_features;
    gt_nn_batch_norm bn;
    gt_nn_snlinear gain, bias;
} gt_nn_cond_bn;
gt_status gt_nn_cond_bn_init(gt_nn_cond_bn *m, gt_params *P, const char *prefix, int num_features, int in_features,
                             bool sn, gt_rng *r);
/* x (N, C, H, W), v (N, in) -> (N, C, H, W) */
gt_tensor *gt_nn_cond_bn_forward(gt_nn_cond_bn *m, gt_tensor *x, gt_tensor *v, gt_layer_mode mode);

/* --- minibatch standard deviation (StyleGAN2's MinibatchStdLayer) --------------
 * G = min(group_size, N) (N must be a multiple of G); sample i is in group
 * i mod (N/G); per group and each of the num_channels channel groups, the
 * mean over (c, H, W) of sqrt(var over the group + 1e-8) (biased), appended
 * as num_channels channels: (N, C, H, W) -> (N, C + F, H, W). No parameters. */
gt_tensor *gt_nn_minibatch_std(gt_tensor *x, int group_size, int num_channels);

/* --- discriminator heads -------------------------------------------------------
 * Projection (Miyato & Koyama 2018): out = linear(h) + sum(embed(y) * h, 1),
 * prefix.linear (in -> 1, with bias), prefix.embed (classes x in); no embed
 * when num_classes is 0 (unconditional: y may be NULL). */
typedef struct {
    int in_features, num_classes;
    gt_nn_snlinear linear;
    gt_nn_snembedding embed;
} gt_nn_proj_head;
gt_status gt_nn_proj_head_init(gt_nn_proj_head *m, gt_params *P, const char *prefix, int in_features,
                               int num_classes, bool sn, gt_rng *r);
/* h (N, in), y i32 (N) -> (N) */
gt_tensor *gt_nn_proj_head_forward(gt_nn_proj_head *m, gt_tensor *h, gt_tensor *y, gt_layer_mode mode);

/* Auxiliary classifier (AC-GAN): prefix.linear (in -> classes, with bias). */
typedef struct {
    int in_features, num_classes;
    gt_nn_snlinear linear;
} gt_nn_ac_head;
gt_status gt_nn_ac_head_init(gt_nn_ac_head *m, gt_params *P, const char *prefix, int in_features, int num_classes,
                             bool sn, gt_rng *r);
/* h (N, in) -> class logits (N, classes) */
gt_tensor *gt_nn_ac_head_forward(gt_nn_ac_head *m, gt_tensor *h, gt_layer_mode mode);

/* --- residual blocks (SNGAN / BigGAN; StudioGAN's resnet blocks) ---------------
 * ReLU activations; every conv has a bias and is spectral-normed when sn. */
typedef enum {
    GT_RES_BN = 0,        /* BatchNorm2d (affine): bn1, bn2 */
    GT_RES_CLASS_BN = 1,  /* gt_nn_class_bn from labels */
    GT_RES_COND_BN = 2    /* gt_nn_cond_bn from a vector */
} gt_res_norm;

/* G block: x0 = conv2d0(up2(x)) (1x1); out = x0 + conv2d2(relu(bn2(conv2d1(
 * up2(relu(bn1(x))))))) (3x3 pad 1), up2 = nearest x2. */
typedef struct {
    int c_in, c_out;
    gt_res_norm norm;
    gt_nn_batch_norm bn1, bn2;     /* GT_RES_BN */
    gt_nn_class_bn cbn1, cbn2;     /* GT_RES_CLASS_BN (named bn1, bn2) */
    gt_nn_cond_bn vbn1, vbn2;      /* GT_RES_COND_BN (named bn1, bn2) */
    gt_nn_snconv2d conv2d0, conv2d1, conv2d2;
} gt_nn_gen_block;
/* cond: classes for GT_RES_CLASS_BN, the vector's size for GT_RES_COND_BN
 * (its gain / bias linears spectral-normed when sn), unused for GT_RES_BN. */
gt_status gt_nn_gen_block_init(gt_nn_gen_block *m, gt_params *P, const char *prefix, int c_in, int c_out,
                               gt_res_norm norm, int cond, bool sn, gt_rng *r);
/* x (N, c_in, H, W) -> (N, c_out, 2H, 2W); y: i32 labels (N), vector (N, cond), or NULL for GT_RES_BN. */
gt_tensor *gt_nn_gen_block_forward(gt_nn_gen_block *m, gt_tensor *x, gt_tensor *y, gt_layer_mode mode);

/* D's first block: out = avgpool2(conv2d2(relu(conv2d1(x)))) + conv2d0(avgpool2(x)). */
typedef struct {
    int c_in, c_out;
    gt_nn_snconv2d conv2d0, conv2d1, conv2d2;
} gt_nn_disc_opt_block;
gt_status gt_nn_disc_opt_block_init(gt_nn_disc_opt_block *m, gt_params *P, const char *prefix, int c_in, int c_out,
                                    bool sn, gt_rng *r);
/* x (N, c_in, H, W) -> (N, c_out, H/2, W/2) */
gt_tensor *gt_nn_disc_opt_block_forward(gt_nn_disc_opt_block *m, gt_tensor *x, gt_layer_mode mode);

/* D block: h = conv2d2(relu(conv2d1(relu(x)))), avgpool2 when downsample;
 * shortcut conv2d0 (1x1) then avgpool2 when downsample or c_in != c_out
 * (conv2d0 exists only then), else x. */
typedef struct {
    int c_in, c_out;
    bool downsample, learnable_sc;
    gt_nn_snconv2d conv2d0, conv2d1, conv2d2;
} gt_nn_disc_block;
gt_status gt_nn_disc_block_init(gt_nn_disc_block *m, gt_params *P, const char *prefix, int c_in, int c_out,
                                bool downsample, bool sn, gt_rng *r);
gt_tensor *gt_nn_disc_block_forward(gt_nn_disc_block *m, gt_tensor *x, gt_layer_mode mode);

#ifdef __cplusplus
}
#endif
#endif
