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
    float feat;          /* weight of the fmnist-feature distance (0.1; 1-channel models; 0: pixels only) */
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

/* Class directions (K = 10, w_dim), unit norm (zero for a class no image got), from n (>= 10)
 * generated images labelled by the fmnist classifier (1-channel models, images resized to 28 px;
 * GT_ERR_ARG otherwise): a new retained tensor. */
gt_status gt_anycost_directions(gt_net *G, int n, uint64_t seed, gt_tensor **dirs_out);
/* w + strength * dirs[k] (w (N, w_dim) or w+ (N, n_convs, w_dim): every style input moved).
 * New reference in the current scope. */
gt_tensor *gt_anycost_edit(gt_tensor *w, gt_tensor *dirs, int k, float strength);

/* w (or w+) files: safetensors with the tensor "w" and the metadata "gantry" = "anycost-w". */
gt_status gt_anycost_w_save(const char *path, gt_tensor *w);
/* *w_out: a new retained tensor (caller releases), (N, w_dim) or (N, n_convs, w_dim) of c's sizes
 * (GT_ERR_FORMAT naming the file, the expected and the found shape otherwise). */
gt_status gt_anycost_w_load(const gt_model_config *c, const char *path, gt_tensor **w_out);

/* --- helpers (additions to the agreed API) ------------------------------------------------ */
/* Fashion-MNIST's class names (index = the classifier's class = the direction's row):
 * "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
 * "Ankle boot". */
extern const char *const gt_anycost_class_names[10];
/* The sub-generator s's (NULL: full) pixel MSE for w against img (1, C, R, R) average-pooled
 * to the sub's resolution, without recording a graph. */
gt_status gt_anycost_recon_error(gt_net *G, gt_tensor *w, gt_tensor *img, const gt_anycost_sub *s, double *mse);
/* Images (N, 1, H, H) in [-1, 1] -> the fmnist classifier's input (N, 1, 28, 28) in [0, 1]:
 * (x + 1) / 2 clamped, resized with the extractor's filter (antialiased bilinear, gt_resize_f32)
 * as two matrix products, so differentiable. New reference in the current scope. */
gt_tensor *gt_anycost_fmnist_input(gt_tensor *x);
/* gt_anycost_directions, also counting the generated images of each class (counts: NULL or
 * 10 entries (GT_FMNIST_CLASSES); a class with count 0 gets a zero direction). */
gt_status gt_anycost_directions_ex(gt_net *G, int n, uint64_t seed, gt_tensor **dirs_out, int64_t *counts);
/* The linear classifier behind the directions: one-vs-rest logistic regression on x (n, d)
 * (standardized per dimension inside) with labels in [0, K) (others ignored), iters full-batch
 * gradient steps; dirs (K, d): each class's normal mapped back to x's space, unit length (zero
 * for a class with no samples or all of them). */
gt_status gt_anycost_logreg_directions(const float *x, const int32_t *labels, int64_t n, int d, int K, int iters,
                                       float *dirs);
/* Directions files: safetensors "dirs" (K, w_dim), metadata "gantry" = "anycost-directions",
 * "w_dim", "classes" (names, comma-separated) and "counts" (images per class, when given). */
gt_status gt_anycost_dirs_save(const char *path, gt_tensor *dirs, const int64_t *counts);
/* dirs_out: a new retained tensor (K, w_dim); GT_ERR_FORMAT when w_dim is not c's. */
gt_status gt_anycost_dirs_load(const gt_model_config *c, const char *path, gt_tensor **dirs_out);
/* gt_anycost_encoder_train with a progress callback (NULL: none) every `every` steps and at the
 * last: the step (1-based) and the mean training loss since the previous call. */
typedef void (*gt_anycost_encoder_progress)(int step, double loss, void *ctx);
gt_status gt_anycost_encoder_train_ex(gt_net *G, int steps, uint64_t seed, gt_anycost_encoder_progress cb, int every,
                                      void *ctx, gt_anycost_encoder **out);
/* The encoder's model config (the G's it was trained for). */
const gt_model_config *gt_anycost_encoder_config(const gt_anycost_encoder *e);

#ifdef __cplusplus
}
#endif
#endif
