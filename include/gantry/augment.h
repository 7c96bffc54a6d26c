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
 *                                       applied with probability p, p adapted from r_t
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
/* The state a checkpoint keeps (p, the accumulators): GT_AUGMENT_STATE doubles. */
#define GT_AUGMENT_STATE 4
void gt_augment_get_state(const gt_augment *a, double *state);
gt_status gt_augment_set_state(gt_augment *a, const double *state);

/* --- the transforms with explicit draws (the PyTorch references take the same draws) ------------
 * Declared by src/augment/ below this line: DiffAugment's brightness, saturation, contrast,
 * translation and cutout; ADA's matrices and color transform. */

#ifdef __cplusplus
}
#endif
#endif
