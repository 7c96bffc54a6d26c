/* gantry/anycost.h - Anycost GAN (Lin et al., CVPR 2021): one style-based generator that runs at
 * many costs. A sub-generator keeps the first k channels of every convolution and stops at a lower
 * resolution; trained jointly (multi-resolution sampling, the sandwich rule, distillation towards
 * the full output, a generator-conditioned discriminator) its output looks like the full one's, so
 * a preview costs a fraction of the full image.
 *
 * The family "anycost" (src/models/anycost*.c) is a registry model like the others: gt_net_forward
 * runs the full generator at its full resolution with the fixed noise buffers (deterministic), so
 * `gantry sample`, `gantry eval` and the trainer's grids work unchanged. The functions below run
 * one sub-generator, computing only its slice (sliced weights, fewer layers; never the full net
 * masked).
 *
 * Generator (res R = 32 or 64; levels 4, 8, ..., R; n_convs = 1 + 2 * (levels - 1)):
 *   mapping   z (N, nz) -> pixel norm -> n_mlp x [equalized linear (lr_mul 0.01) + leaky ReLU 0.2
 *             * sqrt 2] -> w (N, w_dim)
 *   synthesis const (1, C(4), 4, 4) -> conv 0 (3x3, C(4) -> C(4)) -> torgb at 4;
 *             at each next level r: conv up (bilinear x2, then 3x3, C(r/2) -> C(r)), conv (3x3,
 *             C(r) -> C(r)), torgb; rgb(r) = upsample_bilinear_x2(rgb(r/2)) + torgb_r(x).
 *   a conv    style s = affine(w) (equalized linear w_dim -> C_in, bias init 1); modulated 3x3
 *             weights W[o,i] * s[i], demodulated by rsqrt(sum_{i,kh,kw} (W[o,i] s[i])^2 + 1e-8);
 *             + noise_strength (scalar, init 0) * noise (N, 1, H, W); + bias (C_out);
 *             leaky ReLU 0.2 * sqrt 2. Computed as conv2d(x * s, W) * demod (the same function
 *             as per-sample weights).
 *   torgb     1x1 modulated, no demodulation, + bias (channels); no tanh (as StyleGAN2).
 *   C(r) = min(ch_max, ch * R / r) (model options ch, ch_max). Equalized learning rate throughout
 *   (weights N(0, 1), scaled by 1/sqrt(fan_in) in the forward).
 *   Style input i of w+ (N, n_convs, w_dim) feeds conv i; a level's torgb uses the w of that
 *   level's last conv.
 *
 * Discriminator (multi-resolution, Anycost's DiscriminatorMultiRes): one fromRGB (1x1 conv +
 * leaky ReLU) per resolution 8..R entering the trunk at that resolution; residual blocks
 * (3x3, 3x3, average-pool down, 1x1 skip, sum / sqrt 2) down to 4x4; minibatch stddev; 3x3 conv;
 * linear; linear -> 1 logit. Generator-conditioned: the sub-generator's channel config as a
 * one-hot per conv (gt_anycost_arch_code), through a linear layer, scales the features of the
 * last d_cond blocks (1 + linear(code) per channel). D widths from model option dch.
 */
#ifndef GANTRY_ANYCOST_H
#define GANTRY_ANYCOST_H

#include "models.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_AC_MAX_CONVS 16 /* n_convs of R = 64 is 9 */
#define GT_AC_NRATIOS 4
/* The channel ratios the family trains: 0.25, 0.5, 0.75, 1. */
extern const float gt_anycost_ratios[GT_AC_NRATIOS];

/* A sub-generator. Zero-initialised = the full generator at its full resolution. */
typedef struct {
    int res;                      /* output side: 0 (= the model's res) or one of its levels 8..R */
    float ratio[GT_AC_MAX_CONVS]; /* per conv: one of gt_anycost_ratios; 0 = 1 (full) */
} gt_anycost_sub;

/* The same ratio for every conv, at resolution res (0: full). */
gt_anycost_sub gt_anycost_uniform(float ratio, int res);
/* Convolutions of c's generator (1 + 2 * (levels - 1)). */
int gt_anycost_n_convs(const gt_model_config *c);
/* Channels C of conv i at full width, and k, the first channels the sub keeps: round(C * ratio), >= 1. */
int gt_anycost_conv_channels(const gt_model_config *c, int conv);
int gt_anycost_sub_channels(const gt_model_config *c, const gt_anycost_sub *s, int conv);
/* The convs the sub runs (those up to its resolution): 1 + 2 * (log2(res) - 2). */
int gt_anycost_sub_convs(const gt_model_config *c, const gt_anycost_sub *s);
/* GT_ERR_ARG with a clear message when c is not an anycost config, a ratio is not one of
 * gt_anycost_ratios, or res is not one of the model's levels 8..R. */
gt_status gt_anycost_sub_check(const gt_model_config *c, const gt_anycost_sub *s);
/* "0.25" (every conv) or "1,1,0.5,..." (one per conv, n_convs values) and res -> *out (checked). */
gt_status gt_anycost_sub_parse(const gt_model_config *c, const char *channels, int res, gt_anycost_sub *out);
/* "0.25@16" (uniform) or "1,0.5,...@32" into buf. */
const char *gt_anycost_sub_text(const gt_model_config *c, const gt_anycost_sub *s, char *buf, size_t n);
/* The generator-conditioned D's code for s: one-hot of each conv's ratio index, (n_convs * 4)
 * floats into out (convs the sub does not run: the full ratio's one-hot). */
void gt_anycost_arch_code(const gt_model_config *c, const gt_anycost_sub *s, float *out);

/* Multiply-accumulates per image of the sub (mapping + synthesis, the convolutions' and linear
 * layers' products; upsampling and activations not counted) and the parameters it uses. */
int64_t gt_anycost_macs(const gt_model_config *c, const gt_anycost_sub *s);
int64_t gt_anycost_params(const gt_model_config *c, const gt_anycost_sub *s);

/* Whether n is an anycost network (G or D). */
bool gt_anycost_is(const gt_net *n);

/* w (N, w_dim) from z (N, nz): the mapping network. New reference in the current scope. */
gt_tensor *gt_anycost_mapping(gt_net *G, gt_tensor *z);
/* The sub-generator's images (N, C, r, r), r = s->res (s NULL: the full generator), from w
 * (N, w_dim) or w+ (N, n_convs, w_dim). noise: fresh N(0, 1) noise drawn from it, or NULL for the
 * net's fixed noise buffers (deterministic; what gt_net_forward uses). rgbs (NULL or an array of
 * log2(r) - 1 entries): the skip sums at 4, 8, ..., r (rgbs[last] is the output), each a new
 * reference in the current scope. Differentiable w.r.t. w and every parameter used. */
gt_tensor *gt_anycost_synthesis(gt_net *G, gt_tensor *w, const gt_anycost_sub *s, gt_rng *noise, gt_tensor **rgbs);
/* mapping then synthesis. */
gt_tensor *gt_anycost_generate(gt_net *G, gt_tensor *z, const gt_anycost_sub *s, gt_rng *noise);
/* D's logits (N) for x (N, C, r, r) at any level r in 8..R, conditioned on the sub-generator g
 * (NULL: the full one) when the model has d_cond > 0. */
gt_tensor *gt_anycost_d_forward(gt_net *D, gt_tensor *x, const gt_anycost_sub *g, gt_bn_mode mode);

/* Channel sorting (the paper's, before channel training): each conv's output channels ordered by
 * importance - the L1 norm of the weights that read the channel in its consumers (the next conv
 * and the level's torgb) times the mean |style| the consumers give it over 256 mapped latents
 * drawn from seed - most important first. Permutes the weights that write and read each channel
 * (and their modulation rows), so the full generator's function is unchanged (to float rounding).
 * also (NULL or another G of the same config, the EMA copy) gets the same permutation. */
gt_status gt_anycost_sort_channels(gt_net *G, gt_net *also, uint64_t seed);

/* The model (gantry/models.h): options res (32, 64), nz, w_dim, n_mlp, ch, ch_max, dch, d_cond
 * and the training scheme's (gantry/train.h, src/train/anycost_train.c). */
extern const gt_model_entry gt_model_anycost;

#ifdef __cplusplus
}
#endif
#endif
