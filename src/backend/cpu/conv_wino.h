/* Winograd F(2x2, 3x3) and F(4x4, 3x3) for 3x3 stride-1 convolutions
 * (conv_wino.c, on the transforms of winograd.h): the forward and the input
 * gradient of training's convolutions, on gantry's sgemm. conv.c takes this
 * path when gt_cpu_conv_wino_tile says the geometry fits (3x3, stride 1,
 * dilation 1, one group, the natural output size, padding <= 2 for the input
 * gradient) and pays, with the output tile it names. */
#ifndef GT_CPU_CONV_WINO_H
#define GT_CPU_CONV_WINO_H

#include "conv.h"

/* F(4x4, 3x3) only while the products' K (C for the forward, O for the input
 * gradient) is at most this: its error grows with K (about 1e-5 relative at
 * K = 256 on zero-mean data, against ~1e-6 for F(2x2, 3x3)). */
#define GT_CPU_WINO4_MAX_K 256

bool gt_cpu_conv_wino_fits(const gt_conv_geom *g, bool data); /* fits (any size: tests force it) */
/* Where it pays (>= 16 channels each side, an image of >= 256 output positions,
 * a batch of >= 8192): the
 * output tile, 4 (F(4x4, 3x3)) while K <= GT_CPU_WINO4_MAX_K, else 2
 * (F(2x2, 3x3)); 0 elsewhere (im2col). */
int gt_cpu_conv_wino_tile(const gt_conv_geom *g, bool data);
/* The tile for a geometry that fits, wherever it is (gt_cpu_conv_set_winograd(2),
 * tests): the forced one, else 2. */
int gt_cpu_conv_wino_tile_fit(const gt_conv_geom *g, bool data);
/* Tests: 2 or 4 forces that tile wherever Winograd runs; 0 restores the policy. */
void gt_cpu_conv_wino_set_tile(int m);
/* As gt_cpu_conv_fwd / gt_cpu_conv_data with F(m x m, 3x3), m 2 or 4; false
 * only when out of memory. */
bool gt_cpu_conv_wino_fwd(const gt_conv_geom *g, int m, const float *x, const float *w, const float *b, float *y);
bool gt_cpu_conv_wino_data(const gt_conv_geom *g, int m, const float *gy, const float *w, const float *b, float *gx);

#endif
