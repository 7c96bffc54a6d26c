/* src/metrics/fmnist_internal.h - the Fashion-MNIST CNN's layout, shared by
 * its module (fmnist.c) and its fused inference forward (fmnist_fast.c). */
#ifndef GT_FMNIST_INTERNAL_H
#define GT_FMNIST_INTERNAL_H

#include "gantry/fmnist.h"
#include "gantry/nn.h"
#include "../internal.h"

#define GT__FMNIST_BATCH 256
#define GT__FMNIST_C1 32
#define GT__FMNIST_C2 64
#define GT__FMNIST_C3 64
#define GT__FMNIST_FLAT (GT__FMNIST_C3 * 4 * 4) /* conv3's output, flattened */

struct gt_fmnist {
    gt_params P;
    gt_nn_conv2d conv1, conv2, conv3;
    gt_nn_batch_norm bn1, bn2, bn3;
    gt_nn_linear fc1, fc2;
    bool training;
    void *fast; /* the fused forward's per-thread workspaces (fmnist_fast.c) */
};

/* The inference forward of preprocessed x (n, 1, 28, 28) floats into feats
 * (n, 128) and / or logits (n, 10) (either NULL): BatchNorm folded into the
 * convs, the activations laid out (C, B, H, W) for the fused Inception
 * forward's conv kernels, each thread running whole chunks of images with
 * single-threaded sgemm. Equals gt_fmnist_forward in eval mode up to float
 * rounding. */
gt_status gt__fmnist_fast_forward(gt_fmnist *net, const float *x, int64_t n, float *feats, float *logits);
void gt__fmnist_fast_free(gt_fmnist *net);

#endif
