/* gantry/translate.h - image-to-image translation (the pix2pix family): the task A -> B from the
 * data at hand (paired data's own A, else the edges -> item task built from any image data), the
 * translation of a batch, and the FID of translations.
 *
 *     gt_tensor *a, *b;
 *     gt_translate_pair(ds, 0, 64, &a, &b);              // paired:DIR: its A | B; else A = gt_edges(B)
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

/* The task: a translator's input A for real images b (N, C, H, W) in [-1, 1], given a_data, the A
 * the data pairs with those images (gt_dataset_slice_a, gt_batcher_next_pair), or NULL:
 *   paired data (a_data given): A = a_data (a folder of A | B images, paired:DIR);
 *   otherwise: the edges -> item task, A = gt_edges(b).
 * Every translator path (training, sample grids, eval, FID, distill, quantize, compress-report)
 * takes its A from here, so a new pairing is a branch here and a pixel source in the data.
 * a_data must have b's shape. Returns A (a_data itself, or a new tensor in the current scope);
 * NULL + error on a bad shape. */
gt_tensor *gt_translate_input(gt_tensor *b, gt_tensor *a_data);
/* (A, B) of images [start, start + count) of ds: *b the images (gt_dataset_slice), *a =
 * gt_translate_input(*b, ds's A when ds is paired). a or b may be NULL (not wanted). */
gt_status gt_translate_pair(const gt_dataset *ds, int64_t start, int64_t count, gt_tensor **a, gt_tensor **b);
/* The same for the first n items of spec, opened at the model's size (res, channels); fewer than n
 * items is GT_ERR_ARG ("SPEC has K items, fewer than WHAT N"; what: e.g. "--n"). */
gt_status gt_translate_pair_open(const char *spec, int64_t n, int res, int channels, const char *what, gt_tensor **a,
                                 gt_tensor **b);

/* G (a translator's generator) in GT_BN_EVAL mode, no graph, over a (N, C, res, res) in chunks of
 * at most 256 -> (N, C, res, res) in the current scope. NULL + error when G is not a translator. */
gt_tensor *gt_translate(gt_net *G, gt_tensor *a);

/* FID (extractor: NULL = "fmnist") of G(A) against the items B, for the first n (0: all) items of
 * real_spec ("fashion-mnist:test"; A from gt_translate_input: paired data's A, else the edges), as `gantry eval` computes a generator's: the
 * translations converted to uint8 as save_image, the real statistics from the cache. */
gt_status gt_translate_fid(gt_net *G, const char *real_spec, int64_t n, const char *extractor, double *fid);

/* The pix2pix training scheme (src/train/pix2pix_train.c; a row of the trainer's scheme table):
 * A = gt_translate_input(B, paired A) for each real batch B (paired data's A, else gt_edges(B));
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
