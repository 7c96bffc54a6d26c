/* gantry/anycost_edit.h - projecting images into an anycost generator's latent space and editing
 * them (src/train/anycost_edit.c, anycost_encoder.c).
 *
 * Projection optimizes w (or w+) so that the full generator reproduces an image, with Anycost
 * GAN's consistency loss: a few sub-generators drawn each step must reproduce it too (at their
 * resolutions), so an edit previewed with a cheap sub-generator looks like the final render.
 * A small encoder (image -> w), trained on the generator's own samples, gives the start point.
 * Directions: for a Fashion-MNIST model, the shipped classifier (gantry/fmnist.h) labels N
 * generated images; a linear classifier (one-vs-rest logistic regression) on their w gives each
 * class's unit normal, the direction to move w along to make an item more of that class.
 *
 *     gt_anycost_project_opts o = gt_anycost_project_default();
 *     gt_tensor *w = NULL; double before, after;
 *     gt_anycost_project(&G, img, &o, NULL, &w, &before, &after);
 *     gt_tensor *w2 = gt_anycost_edit(w, dirs, 3, 2.0f);          // + 2 x class 3's direction
 *     gt_tensor *x = gt_anycost_synthesis(&G, w2, &sub, NULL, NULL);
 */
#ifndef GANTRY_ANYCOST_EDIT_H
#define GANTRY_ANYCOST_EDIT_H

#include "anycost.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int steps;           /* Adam steps on w (300) */
    float lr;            /* 0.05 */
    bool wplus;          /* optimize one w per conv (N, n_convs, w_dim) instead of one (N, w_dim) */
    float consistency;   /* weight of the sub-generators' reconstruction terms (1; 0: off) */
    int n_sub;           /* sub-generators drawn per step for it (2) */
    float feat;          /* weight of the fmnist-feature distance (1-channel models; 0: pixels only) */
    uint64_t seed;       /* the sub-generators' draws and the start point's latents */
} gt_anycost_project_opts;
gt_anycost_project_opts gt_anycost_project_default(void);

/* w (1, w_dim) or w+ (1, n_convs, w_dim) for img (1, C, R, R) in [-1, 1] (R the model's res):
 * starts at the encoder's output (enc not NULL) or the mean w of 4096 mapped latents, then
 * o->steps Adam steps on MSE(full(w), img) + feat * feature distance + consistency * mean over
 * n_sub drawn subs of MSE(sub(w), img average-pooled to the sub's res). Fixed noise buffers
 * throughout. *w_out: a new retained tensor (caller releases). before / after (may be NULL): the
 * full generator's pixel MSE at the start point and at the end. GT_ERR_SHAPE naming both sizes when
 * img is not (1, C, R, R). */
typedef struct gt_anycost_encoder gt_anycost_encoder;
gt_status gt_anycost_project(gt_net *G, gt_tensor *img, const gt_anycost_project_opts *o, gt_anycost_encoder *enc,
                             gt_tensor **w_out, double *before, double *after);

/* The encoder: a small strided CNN (C, R, R) -> w_dim, trained to predict w from G's full-res
 * images of w (MSE), steps Adam steps of batch 32 from seed. */
gt_status gt_anycost_encoder_train(gt_net *G, int steps, uint64_t seed, gt_anycost_encoder **out);
gt_status gt_anycost_encoder_save(const gt_anycost_encoder *e, const char *path);    /* atomic */
gt_status gt_anycost_encoder_load(const gt_model_config *c, const char *path, gt_anycost_encoder **out);
/* w (N, w_dim) for images (N, C, R, R). New reference in the current scope. */
gt_tensor *gt_anycost_encode(gt_anycost_encoder *e, gt_tensor *img);
void gt_anycost_encoder_free(gt_anycost_encoder *e);

/* Class directions (K, w_dim), unit norm, from n generated images labelled by the fmnist
 * classifier (1-channel 32 px models; GT_ERR_ARG otherwise): a new retained tensor. */
gt_status gt_anycost_directions(gt_net *G, int n, uint64_t seed, gt_tensor **dirs_out);
/* w + strength * dirs[k] (w (N, w_dim) or w+ (N, n_convs, w_dim): every style input moved).
 * New reference in the current scope. */
gt_tensor *gt_anycost_edit(gt_tensor *w, gt_tensor *dirs, int k, float strength);

/* w (or w+) files: safetensors with the tensor "w" and the metadata "gantry" = "anycost-w". */
gt_status gt_anycost_w_save(const char *path, gt_tensor *w);
gt_status gt_anycost_w_load(const gt_model_config *c, const char *path, gt_tensor **w_out);

#ifdef __cplusplus
}
#endif
#endif
