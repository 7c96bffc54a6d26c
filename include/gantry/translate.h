/* gantry/translate.h - image-to-image translation (the pix2pix family): the edges -> item task
 * built from any image data, the translation of a batch, and the FID of translations.
 *
 *     gt_tensor *a = gt_edges(b);                        // (N, C, H, W) in {-1, 1} from items in [-1, 1]
 *     gt_tensor *fake = gt_translate(&G, a);             // G in eval mode, in chunks
 *     double fid;
 *     gt_translate_fid(&G, "fashion-mnist:test", 10000, NULL, &fid);
 */
#ifndef GANTRY_TRANSLATE_H
#define GANTRY_TRANSLATE_H

#include "models.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The edge map's threshold on the Sobel magnitude (in the units of [-1, 1] images). */
#define GT_EDGE_THRESHOLD 1.0f

/* The edges of images x (N, C, H, W) float in [-1, 1] (H, W >= 1), deterministic:
 *   g = the mean over the C channels (N, H, W);
 *   Sobel with replicated borders (index clamped to the image):
 *     gx = (g[y-1][x+1] + 2 g[y][x+1] + g[y+1][x+1]) - (g[y-1][x-1] + 2 g[y][x-1] + g[y+1][x-1]),
 *     gy = (g[y+1][x-1] + 2 g[y+1][x] + g[y+1][x+1]) - (g[y-1][x-1] + 2 g[y-1][x] + g[y-1][x+1]);
 *   edge = sqrt(gx^2 + gy^2) > GT_EDGE_THRESHOLD (strictly);
 *   out = 1 on an edge, -1 elsewhere, the same in every channel.
 * A new tensor (N, C, H, W) without a graph (in the current scope); NULL + error on a bad shape. */
gt_tensor *gt_edges(gt_tensor *x);
/* The same on raw floats: x and out (n, c, h, w) (out may not alias x). */
gt_status gt_edges_f32(const float *x, int64_t n, int c, int h, int w, float *out);

/* G (a translator's generator) in GT_BN_EVAL mode, no graph, over a (N, C, res, res) in chunks of
 * at most 256 -> (N, C, res, res) in the current scope. NULL + error when G is not a translator. */
gt_tensor *gt_translate(gt_net *G, gt_tensor *a);

/* FID (extractor: NULL = "fmnist") of G(edges(items)) against the items, for the first n (0: all)
 * items of real_spec ("fashion-mnist:test"), as `gantry eval` computes a generator's: the
 * translations converted to uint8 as save_image, the real statistics from the cache. */
gt_status gt_translate_fid(gt_net *G, const char *real_spec, int64_t n, const char *extractor, double *fid);

/* The pix2pix training scheme (src/train/pix2pix_train.c; a row of the trainer's scheme table):
 * A = gt_edges(B) from each real batch B;
 *   D: 0.5 (BCE(D(A|B), 1) + BCE(D(A|G(A)), 0)), means over every patch logit;
 *   G: BCE(D(A|G(A)), 1) + lambda_l1 * mean |G(A) - B| (model option lambda_l1, default 100).
 * n_critic D steps on their own batches, then G's step on the last one. Loss ns only, no
 * regularizers (GT_ERR_ARG otherwise); the trainer's latents are unused. */
extern const gt_train_scheme gt_train_scheme_pix2pix;
/* The L1 term |G(A) - B|_1 (before its weight) of t's last G step (GT_ERR_STATE when t does not run
 * the pix2pix scheme or has not stepped). */
gt_status gt_pix2pix_train_last_l1(const gt_trainer *t, double *l1);

#ifdef __cplusplus
}
#endif
#endif
