/* gantry/inception.h - the FID Inception-v3 and its input pipeline.
 *
 * The network is the one pytorch-fid and torch-fidelity use for FID, IS and
 * KID ("pt_inception-2015-12-05", a port of TensorFlow's 2015 graph), layer
 * for layer: torchvision's Inception-v3 stem and blocks with pytorch-fid's
 * changes (FIDInceptionA / C / E_1 average pools that leave the padding out
 * of the mean, as TensorFlow did; a 3x3 max pool in the branch_pool of the
 * last block, FIDInceptionE_2), BasicConv2d = conv (no bias) + BatchNorm
 * (eps 0.001, eval) + ReLU, 2048-d pool features and a 1008-way fc.
 *
 * Outputs (each (N, d), float32):
 *   pool64    after the first max pool, averaged over space     (64)
 *   pool192   after the second max pool, averaged over space    (192)
 *   pool768   after Mixed_6e (the pre-aux features), averaged   (768)
 *   pool2048  the final average pool: the FID / KID features    (2048)
 *   logits    fc(pool2048) with its bias                        (1008)
 *   logits_unbiased  pool2048 @ fc.weight^T, no bias: what torch-fidelity's
 *             Inception Score uses                              (1008)
 *
 * Parameters live in a gt_params registry under pytorch-fid's state_dict
 * names ("Conv2d_1a_3x3.conv.weight", "Mixed_5b.branch1x1.bn.running_var",
 * ..., "fc.weight", "fc.bias"), so a converted weights file loads by name.
 * The weights: pt_inception-2015-12-05-6726825d.pth, converted once with
 *     python3 scripts/convert_inception.py pt_inception-2015-12-05-6726825d.pth inception-2015-12-05.safetensors
 *
 * Input pipeline (gt_inception_preprocess): uint8 images (N, C, H, W), C = 1
 * (repeated to 3 channels) or 3 -> float -> resized to 299x299 with
 *   GT_RESIZE_TF1:   TensorFlow 1.x bilinear resize (align_corners=False,
 *                    src = dst * in / out, no half-pixel offset), as
 *                    torch-fidelity's interpolate_bilinear_2d_like_tensorflow1x
 *                    (bit-exact on uint8 input);
 *   GT_RESIZE_CLEAN: clean-fid's "clean" resize: PIL's antialiased bicubic on
 *                    float data, one channel at a time, no quantisation;
 * -> (x - 128) / 128 (torch-fidelity's and clean-fid's map); or
 *   GT_RESIZE_PYTORCH_FID: pytorch-fid's own pipeline: x / 255 (ToTensor),
 *                    F.interpolate(bilinear, align_corners=False: half-pixel
 *                    centres, no antialias), then 2x - 1 (so 255 -> 1.0,
 *                    where the others give 127/128).
 *
 *     gt_inception *net = gt_inception_new();
 *     if (gt_inception_load(net, path) != GT_OK) { puts(gt_last_error()); ... }
 *     int m = gt_scope_begin();
 *     gt_inception_outputs o;
 *     gt_inception_extract(net, images_u8, n, 3, 32, 32, GT_RESIZE_TF1,
 *                          GT_INCEPTION_POOL_2048 | GT_INCEPTION_LOGITS_UNBIASED, 0, &o);
 *     ... o.pool2048 (n, 2048), o.logits_unbiased (n, 1008) ...
 *     gt_scope_end(m);
 *     gt_inception_free(net);
 */
#ifndef GANTRY_INCEPTION_H
#define GANTRY_INCEPTION_H

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_INCEPTION_SIZE 299 /* the input side the network is run at */
#define GT_INCEPTION_WEIGHTS_PTH "pt_inception-2015-12-05-6726825d.pth"
#define GT_INCEPTION_WEIGHTS_URL \
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" GT_INCEPTION_WEIGHTS_PTH
#define GT_INCEPTION_WEIGHTS_FILE "inception-2015-12-05.safetensors" /* the converted file's usual name */

/* --- resizing (src/metrics/resize.c) ----------------------------------------
 * On raw planes: src (planes, h, w) -> dst (planes, oh, ow), float32. */
typedef enum {
    GT_RESIZE_TF1 = 0,   /* torch-fidelity / TensorFlow 1.x bilinear */
    GT_RESIZE_CLEAN = 1, /* clean-fid: PIL bicubic, antialiased, on floats */
    GT_RESIZE_PYTORCH_FID = 2, /* pytorch-fid: F.interpolate bilinear (half-pixel, no antialias) on x / 255 */
    GT_RESIZE_COUNT
} gt_resize_mode;

const char *gt_resize_mode_name(gt_resize_mode m); /* "tf1", "clean", "pytorch-fid" */
/* "tf1" / "clean" -> mode; GT_ERR_ARG naming the accepted values otherwise. */
gt_status gt_resize_mode_parse(const char *s, gt_resize_mode *out);

/* TF1 bilinear, align_corners=False: src coordinate = dst * (in / out) (in
 * float32), floor, the next pixel clamped to the border, and
 * top + (bottom - top) * dy of left + (right - left) * dx, in float32 in that
 * order (no fused multiply-add), so uint8 input gives torch-fidelity's bits. */
gt_status gt_resize_tf1(const float *src, int64_t planes, int h, int w, float *dst, int oh, int ow);
/* PIL's Image.resize(BICUBIC) of a mode "F" image (antialiased: the filter
 * widens by in/out when shrinking): double coefficients normalised to sum 1,
 * a horizontal pass over the rows the vertical pass needs, then a vertical
 * one, each summed in double and stored as float32. A size that does not
 * change skips its pass, as PIL does. */
gt_status gt_resize_pil_bicubic(const float *src, int64_t planes, int h, int w, float *dst, int oh, int ow);
/* PyTorch's F.interpolate(mode="bilinear", align_corners=False) (half-pixel
 * centres, no antialias), in ATen's float steps. */
gt_status gt_resize_torch_bilinear(const float *src, int64_t planes, int h, int w, float *dst, int oh, int ow);
gt_status gt_resize(gt_resize_mode mode, const float *src, int64_t planes, int h, int w, float *dst, int oh, int ow);

/* uint8 images (N, C, H, W), C in {1, 3}, values 0..255 -> the network input
 * (N, 3, 299, 299): resized with mode and mapped by (x - 128) / 128. A new
 * reference (in the current scope); NULL + error on bad arguments. */
gt_tensor *gt_inception_preprocess(const uint8_t *images, int64_t n, int c, int h, int w, gt_resize_mode mode);

/* --- the network ---------------------------------------------------------- */
typedef struct gt_inception gt_inception;

enum {
    GT_INCEPTION_POOL_64 = 1u << 0,
    GT_INCEPTION_POOL_192 = 1u << 1,
    GT_INCEPTION_POOL_768 = 1u << 2,
    GT_INCEPTION_POOL_2048 = 1u << 3,
    GT_INCEPTION_LOGITS = 1u << 4,
    GT_INCEPTION_LOGITS_UNBIASED = 1u << 5,
    GT_INCEPTION_ALL = (1u << 6) - 1
};

/* New references (in the scope current at the call), NULL where not asked. */
typedef struct {
    gt_tensor *pool64;          // (N, 64)
    gt_tensor *pool192;         // (N, 192)
    gt_tensor *pool768;         // (N, 768)
    gt_tensor *pool2048;        // (N, 2048)
    gt_tensor *logits;          // (N, 1008)
    gt_tensor *logits_unbiased; // (N, 1008)
} gt_inception_outputs;

/* How the forward pass runs. All three compute the same function.
 *   FAST:     BN folded into the conv weights at load time, activations laid
 *             out (C, N, H, W) so a 1x1 conv is one sgemm and a concat is free,
 *             bias + ReLU applied to each block of sgemm output while it is in
 *             cache, the 1x1 convs that share an input stacked into one sgemm,
 *             an average pool moved after the 1x1 conv it feeds (the default).
 *             With several threads and at least two images per thread,
 *             each thread runs whole chunks of images (8 at most, fewer
 *             towards the end so the threads finish together) with
 *             single-threaded sgemm: nothing waits between layers. Else
 *             chunks run in turn, OpenBLAS threads the sgemms and the loops
 *             between them (im2col, epilogues, pools) are shared by the
 *             caller and a few sleeping worker threads that never make the
 *             caller wait for a worker that has not started (an OpenMP team
 *             there fights OpenBLAS's threads for 2 cores, and stalls on a
 *             busy machine). See gt_inception_set_parallel. Threads: as
 *             gt_set_num_threads. It keeps a workspace of about 6 MB per
 *             image of a chunk (per thread's chunk of 8 images, or 16 images
 *             when layers are shared) until gt_inception_free;
 *   OPS:      the engine's ops with BN folded (gt_conv2d with bias, gt_relu,
 *             gt_avg_pool2d, gt_concat, ...);
 *   OPS_BN:   the engine's ops exactly as the PyTorch module runs them
 *             (conv without bias, gt_batch_norm in eval mode, ReLU): the
 *             reference the other two are tested against. */
typedef enum { GT_INCEPTION_FAST = 0, GT_INCEPTION_OPS = 1, GT_INCEPTION_OPS_BN = 2 } gt_inception_path;

/* The architecture with every parameter registered (zeros; BN running_var
 * ones); NULL + error when out of memory. A gt_inception is not thread-safe:
 * one forward at a time per network (its workspace and folded weights are
 * shared state). */
gt_inception *gt_inception_new(void);
void gt_inception_free(gt_inception *net); /* NULL-safe */

/* The registry (borrowed): pytorch-fid's names, conv/bn weights and biases
 * and fc as parameters, running_mean / running_var as buffers. After setting
 * values through it (gt_params_set / gt_params_set_data), call
 * gt_inception_weights_changed so the folded weights are rebuilt. */
gt_params *gt_inception_params(gt_inception *net);
void gt_inception_weights_changed(gt_inception *net);

/* Loads a safetensors file holding every tensor of the registry by name
 * (extra tensors such as num_batches_tracked are ignored). A missing file
 * gives GT_ERR_IO with where to get the .pth and the command that converts
 * it; a file that lacks a tensor or has a wrong shape, GT_ERR_FORMAT naming
 * it. */
gt_status gt_inception_load(gt_inception *net, const char *path);
/* The message gt_inception_load gives for a missing weights file (static). */
const char *gt_inception_weights_hint(void);

void gt_inception_set_path(gt_inception *net, gt_inception_path path);
gt_inception_path gt_inception_get_path(const gt_inception *net);
/* Images per internal chunk of the FAST path (0: the default). */
void gt_inception_set_chunk(gt_inception *net, int images);
/* How the FAST path uses several threads. AUTO (the default): IMAGES when
 * every thread gets at least two images, else LAYERS. IMAGES: each thread
 * runs whole chunks of images with single-threaded sgemm. LAYERS: chunks in
 * turn, each layer's sgemms and loops shared out among the threads. */
typedef enum { GT_INCEPTION_PAR_AUTO = 0, GT_INCEPTION_PAR_IMAGES, GT_INCEPTION_PAR_LAYERS } gt_inception_par;
void gt_inception_set_parallel(gt_inception *net, gt_inception_par mode);

/* x (N, 3, H, W) normalised to [-1, 1] (299x299 for the reference features;
 * any H, W >= 75 runs) -> the features asked for in `features` (a mask of
 * GT_INCEPTION_*). Runs without recording a graph. */
gt_status gt_inception_forward(gt_inception *net, gt_tensor *x, unsigned features, gt_inception_outputs *out);

/* uint8 images (N, C, H, W) -> features, `batch` images at a time (0: 50),
 * each batch preprocessed and run: the whole pipeline. The outputs hold all
 * N rows. */
gt_status gt_inception_extract(gt_inception *net, const uint8_t *images, int64_t n, int c, int h, int w,
                               gt_resize_mode mode, unsigned features, int batch, gt_inception_outputs *out);

/* Feature size of one GT_INCEPTION_* bit (0 for anything else). */
int gt_inception_feature_dim(unsigned feature);

#ifdef __cplusplus
}
#endif
#endif
