/* gantry/fmnist.h - the Fashion-MNIST domain evaluator: a small CNN classifier
 * trained with gantry itself (tools/train_fmnist_classifier.c), its weights
 * shipped in the repository (assets/fmnist_classifier.safetensors), usable as
 * the feature extractor "fmnist" for FID / KID / precision-recall and, through
 * its class probabilities, a classifier score (the Inception Score formula
 * over its 10 classes). This is the evaluator that works on a fresh machine
 * with no downloads ("An Improved Evaluation Framework for GANs", Gu et al.).
 *
 * The network (architecture "fmnist-cnn-v1"; tensor names as in a PyTorch
 * state_dict of the same modules):
 *
 *   x (N, 1, 28, 28) in [0, 1]
 *   conv1  Conv2d(1, 32, 4, stride 2, padding 1, no bias) -> bn1 BatchNorm2d(32) -> ReLU   (32, 14, 14)
 *   conv2  Conv2d(32, 64, 4, stride 2, padding 1, no bias) -> bn2 BatchNorm2d(64) -> ReLU  (64, 7, 7)
 *   conv3  Conv2d(64, 64, 3, stride 2, padding 1, no bias) -> bn3 BatchNorm2d(64) -> ReLU  (64, 4, 4)
 *   flatten (1024) -> fc1 Linear(1024, 128) -> ReLU = the FEATURES (128)
 *   fc2 Linear(128, 10) = the LOGITS (10)
 *
 * BatchNorm: eps 1e-5, momentum 0.1 (PyTorch's defaults); the extractor runs
 * it in eval mode (running statistics) without recording a graph.
 *
 * Input pipeline (gt_fmnist_preprocess): uint8 images (N, C, H, W), C = 1 or
 * 3, any H x W -> grayscale (C = 3: ITU-R 601 luma, PIL's convert("L")) ->
 * resized to 28 x 28 with gt_resize_u8 (PIL-compatible antialiased bilinear,
 * the whole image, no crop; 28 x 28 input is left untouched) -> v / 255.
 *
 * Weights file: safetensors with every tensor of the registry (float32) and
 * metadata "gantry" = "fmnist-classifier", "arch" = GT_FMNIST_ARCH, plus what
 * the trainer records ("test_accuracy", "recipe", ...). A file of another
 * architecture is refused by name.
 *
 *     gt_extractor ex;
 *     if (gt_fmnist_extractor_open(NULL, &ex) != GT_OK) { puts(gt_last_error()); ... }
 *     ex.extract(ex.ctx, &batch, feats, logits);   // feats (n, 128), logits (n, 10)
 *     gt_extractor_free(&ex);
 */
#ifndef GANTRY_FMNIST_H
#define GANTRY_FMNIST_H

#include "metrics.h"
#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_FMNIST_ARCH "fmnist-cnn-v1"
#define GT_FMNIST_SIZE 28         /* input side */
#define GT_FMNIST_FEATURE_DIM 128 /* fc1 after ReLU */
#define GT_FMNIST_CLASSES 10
#define GT_FMNIST_WEIGHTS_FILE "fmnist_classifier.safetensors"
#define GT_FMNIST_WEIGHTS_ENV "GANTRY_FMNIST_WEIGHTS"
#define GT_FMNIST_EXTRACTOR_NAME "fmnist" /* the extractor is named "fmnist-<fingerprint of its weights file>" */

typedef struct gt_fmnist gt_fmnist;

/* The architecture with every tensor registered and initialised as PyTorch
 * initialises these modules (kaiming-uniform conv/linear weights, BN weight 1,
 * bias 0), drawn from Philox with seed. Training mode is off (eval).
 * NULL + error when out of memory. */
gt_fmnist *gt_fmnist_new(uint64_t seed);
void gt_fmnist_free(gt_fmnist *net); /* NULL-safe */

/* The registry (borrowed, finalized): "conv1.weight", "bn1.weight", "bn1.bias",
 * "bn1.running_mean", "bn1.running_var", ..., "fc1.weight", "fc1.bias",
 * "fc2.weight", "fc2.bias". */
gt_params *gt_fmnist_params(gt_fmnist *net);

/* Training mode: BN uses batch statistics (and updates the running ones). */
void gt_fmnist_set_training(gt_fmnist *net, bool training);

/* x (N, 1, 28, 28) float -> *features (N, 128) and *logits (N, 10), new
 * references in the current scope (either pointer may be NULL when not
 * wanted). Differentiable (records a graph when grad mode is on). */
gt_status gt_fmnist_forward(gt_fmnist *net, gt_tensor *x, gt_tensor **features, gt_tensor **logits);

/* Loads a weights file (all tensors, strict names, arch checked). Errors name
 * the file and what was wrong; on error the network is unchanged. */
gt_status gt_fmnist_load(gt_fmnist *net, const char *path);
/* Writes the weights with the metadata above plus the given (key, value)
 * pairs (n_meta of them; keys[i] / vals[i]). Atomic. */
gt_status gt_fmnist_save(const gt_fmnist *net, const char *path, int n_meta, const char *const *keys,
                         const char *const *vals);

/* uint8 images (N, C, H, W), C in {1, 3} -> the network input (N, 1, 28, 28)
 * in [0, 1] (see above). A new reference in the current scope; NULL + error on
 * bad arguments. */
gt_tensor *gt_fmnist_preprocess(const uint8_t *images, int64_t n, int c, int h, int w);

/* The whole pipeline on uint8 images, `batch` at a time (0: 256), eval mode,
 * no graph: feats (n, 128) and logits (n, 10); either may be NULL. */
gt_status gt_fmnist_extract(gt_fmnist *net, const uint8_t *images, int64_t n, int c, int h, int w, int batch,
                            float *feats, float *logits);

/* Where the shipped weights are: path (when not NULL), else $GANTRY_FMNIST_WEIGHTS,
 * else the first existing of <exe dir>/../share/gantry/ (an installed program,
 * in any prefix), <exe dir>/../assets/, <exe dir>/../../assets/, <exe dir>/assets/,
 * ./assets/, the configured install data directory (share/gantry of
 * CMAKE_INSTALL_PREFIX) and the source tree's assets/, + GT_FMNIST_WEIGHTS_FILE.
 * Writes the path into buf. GT_ERR_IO naming every path tried when none exists.
 * A program of your own linked against an installed libgantry.a can also pass
 * `pkg-config --variable=pkgdatadir gantry`/fmnist_classifier.safetensors. */
gt_status gt_fmnist_weights_path(const char *path, char *buf, size_t n);

/* The extractor "fmnist" (dim 128, logits_dim 10, batch 256) over the weights
 * at weights_path, or the shipped ones when NULL (gt_fmnist_weights_path).
 * Free with gt_extractor_free. */
gt_status gt_fmnist_extractor_open(const char *weights_path, gt_extractor *out);

#ifdef __cplusplus
}
#endif
#endif
