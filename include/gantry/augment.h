/* gantry/augment.h - differentiable augmentation of what D sees (DiffAugment, ADA), applied to
 * real and fake batches alike, the gradient flowing through it to G.
 *
 *     gt_augment *a;
 *     gt_augment_opts o = gt_augment_opts_default();
 *     if (gt_augment_new("diffaug:color,translation,cutout", &o, &a) != GT_OK) puts(gt_last_error());
 *     gt_tensor *xa = gt_augment_apply(a, x, &rng);   // (N, C, H, W) -> same shape, differentiable in x
 *     gt_augment_observe(a, real_logits);              // ADA: D's outputs on the reals of one D step
 *     printf("p %.3f r_t %.3f\n", gt_augment_p(a), gt_augment_rt(a));
 *     gt_augment_free(a);
 *
 * Specs:
 *   "none"                              nothing (gt_augment_apply returns x itself)
 *   "diffaug:POLICY[,POLICY...]"        DiffAugment (Zhao et al. 2020), policies applied in the order
 *                                       given: color (brightness, saturation, contrast), translation
 *                                       (up to 1/8 of the side, zero padding), cutout (half the side);
 *                                       always on (p = 1), as the reference
 *   "ada" | "ada:GROUPS"                ADA (Karras et al. 2020): GROUPS letters b (pixel blitting:
 *                                       x-flip, 90-degree rotations, integer translation), g (general
 *                                       geometric: isotropic and anisotropic scaling, rotation,
 *                                       fractional translation), c (color: brightness, contrast, luma
 *                                       flip, hue rotation, saturation); default "bgc"; each transform
 *                                       applied with probability p, p adapted from r_t; the geometric
 *                                       part resampled once (bilinear, reflection padding)
 *   "ada[:GROUPS]+aa"                   the same with the reference's anti-aliased geometric step
 *                                       (2x upsampling with its wavelet filter around the resampling,
 *                                       filtered downsampling): exact, 6-20x the cost of plain ada
 */
#ifndef GANTRY_AUGMENT_H
#define GANTRY_AUGMENT_H

#include "rng.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gt_augment gt_augment;

typedef struct {
    double p;           /* ADA's initial p (0) */
    double ada_target;  /* r_t's target (0.6) */
    double ada_kimg;    /* thousands of real images over which p can move from 0 to 1 (500) */
    int ada_interval;   /* D steps between p's updates (4) */
    bool ada_fixed;     /* keep p fixed (no adaptation) */
} gt_augment_opts;

gt_augment_opts gt_augment_opts_default(void);
/* Parses spec (above). GT_ERR_ARG naming the unknown augmentation or policy and listing the known
 * ones, or an option out of range (p outside [0, 1], target outside (0, 1], kimg <= 0, interval < 1). */
gt_status gt_augment_new(const char *spec, const gt_augment_opts *o, gt_augment **out);
void gt_augment_free(gt_augment *a); /* NULL-safe */
/* The spec as given ("diffaug:color,translation,cutout"). */
const char *gt_augment_spec(const gt_augment *a);
/* Augments x (N, C, H, W) with draws from r: a new tensor in the current scope, differentiable in x
 * (second order included, for R1 on augmented reals); x itself (a new reference) for "none" or ADA at
 * p = 0. */
gt_tensor *gt_augment_apply(gt_augment *a, gt_tensor *x, gt_rng *r);
/* ADA's overfitting heuristic: accumulates sign(real_logits) of one D step; every ada_interval calls,
 * r_t = the mean sign since the last update and p += sign(r_t - target) * (images since the last
 * update) / (ada_kimg * 1000), clamped to [0, 1]. Nothing for DiffAugment or a fixed p. */
gt_status gt_augment_observe(gt_augment *a, gt_tensor *real_logits);
double gt_augment_p(const gt_augment *a);  /* the current p (1 for DiffAugment, 0 for none) */
double gt_augment_rt(const gt_augment *a); /* the last r_t (NAN before the first update) */
bool gt_augment_adaptive(const gt_augment *a);
/* Data-parallel training: x holds rows [start, start + n) of a batch of total images, and each of
 * DiffAugment's per-sample draws gives those rows of the whole batch's draw (r ends where one process
 * drawing for the whole batch ends). total 0: not sharded. GT_ERR_ARG for ADA (not supported). */
gt_status gt_augment_set_shard(gt_augment *a, int64_t start, int64_t total);
/* The state a checkpoint keeps (p, the accumulators): GT_AUGMENT_STATE doubles. */
#define GT_AUGMENT_STATE 4
void gt_augment_get_state(const gt_augment *a, double *state);
gt_status gt_augment_set_state(gt_augment *a, const double *state);

/* --- the transforms with explicit draws (the PyTorch references take the same draws) ------------
 * Declared by src/augment/ below this line: DiffAugment's brightness, saturation, contrast,
 * translation and cutout; ADA's matrices and color transform. */

/* DiffAugment with explicit draws, for N = x's batch size (the reference's semantics exactly):
 *   brightness  x + (u - 0.5)                                  u (N) in [0, 1)
 *   saturation  (x - mean_C x) * 2u + mean_C x                 u (N)
 *   contrast    (x - mean_CHW x) * (u + 0.5) + mean_CHW x      u (N)
 *   translation y[n, :, i, j] = x[n, :, i + tx[n], j + ty[n]], 0 outside (tx moves rows, dim 2; ty
 *               columns, dim 3; the reference draws them in [-shift, shift], gt_diffaug_shift)
 *   cutout      rows clamp(ox - size_h / 2 + k, 0, H - 1), k < size_h, times the columns likewise
 *               from oy, set to 0; size = gt_diffaug_cutout_size(side); the reference draws ox in
 *               [0, H + 1 - size_h % 2), oy in [0, W + 1 - size_w % 2)
 * Each a new tensor in the current scope, differentiable in x to any order; NULL (gt_last_error) on
 * a bad x (not 4-d) or NULL draws. */
gt_tensor *gt_diffaug_brightness(gt_tensor *x, const float *u);
gt_tensor *gt_diffaug_saturation(gt_tensor *x, const float *u);
gt_tensor *gt_diffaug_contrast(gt_tensor *x, const float *u);
gt_tensor *gt_diffaug_translation(gt_tensor *x, const int32_t *tx, const int32_t *ty);
gt_tensor *gt_diffaug_cutout(gt_tensor *x, const int32_t *ox, const int32_t *oy);
int gt_diffaug_shift(int side);       /* int(side * 0.125 + 0.5) */
int gt_diffaug_cutout_size(int side); /* int(side * 0.5 + 0.5) */
/* torch.randint(lo, hi) from one uniform u in [0, 1): lo + min(floor(u * (hi - lo)), hi - lo - 1).
 * gt_augment_apply draws, per transform and sample, one gt_rng uniform (brightness, saturation,
 * contrast) or one uniform per integer (translation tx then ty, cutout ox then oy), mapped so. */
int32_t gt_diffaug_randint(float u, int32_t lo, int32_t hi);

/* ADA with explicit draws. Each sample takes GT_ADA_NDRAWS values, row n of draws (N, NDRAWS);
 * "u" columns are uniforms in [0, 1), "z" columns standard normals; a transform applies where its
 * gate u < its probability (p, or 1 - sqrt(1 - p) for each of the two rotations):
 *   0 u xflip i = floor(2u)          1 u gate        |  14 u post-rotation gate
 *   2 u rotate90 i = floor(4u)       3 u gate        |  15 z xfrac tx * 0.125   16 z ty * 0.125
 *   4 u xint tx = (2u - 1) * 0.125   5 u ty          |  17 u xfrac gate
 *   6 u xint gate                                    |  18 z brightness b = 0.2z   19 u gate
 *   7 z scale s = 2^(0.2z)           8 u gate        |  20 z contrast c = 2^(0.5z)  21 u gate
 *   9 u pre-rotation th = (2u - 1)pi 10 u gate       |  22 u lumaflip i = floor(2u) 23 u gate
 *  11 z aniso s = 2^(0.2z)          12 u gate        |  24 u hue th = (2u - 1)pi   25 u gate
 *  13 u post-rotation th = (2u - 1)pi                |  26 z saturation s = 2^z    27 u gate
 * (the reference's draws and default strengths; hue and saturation only where C > 1). */
#define GT_ADA_NDRAWS 28
#define GT_ADA_GROUP_B 1u
#define GT_ADA_GROUP_G 2u
#define GT_ADA_GROUP_C 4u
/* The per-sample matrices, as the reference composes them: G (n, 3, 3) row-major, G_inv in pixel
 * coordinates centred on the image (output pixel -> input pixel), from groups b and g; C (n, 4, 4),
 * the homogeneous RGB transform, from group c. Identity for a group not in groups. channels 1 or 3. */
gt_status gt_ada_matrices(int n, int channels, int h, int w, double p, unsigned groups, const float *draws,
                          float *G, float *C);
/* x (N, C, H, W) resampled at G_inv (N 3x3 pixel-centred matrices): bilinear, reflection padding,
 * no anti-aliasing filter (see docs/augment/augment.md). */
gt_tensor *gt_ada_geometric(gt_tensor *x, const float *G);
/* The same with the reference's anti-aliasing: reflection padding by the batch's margin, 2x
 * upsampling with the sym6 wavelet, bilinear sampling (zero padding), filtering and 2x downsampling
 * (what augment.py does; gt_augment_apply uses it for the specs "ada+aa", "ada:GROUPS+aa"; 6 to
 * 20 times the cost of gt_ada_geometric). */
gt_tensor *gt_ada_geometric_aa(gt_tensor *x, const float *G);
/* x (N, C, H, W) colour-transformed by C (N 4x4): RGB: C[:3, :3] @ rgb + C[:3, 3]; one channel: the
 * reference's luma rule, x * sum_j mean_i C[i, j] + mean_i C[i, 3] (i, j < 3). */
gt_tensor *gt_ada_color(gt_tensor *x, const float *C);

#ifdef __cplusplus
}
#endif
#endif
