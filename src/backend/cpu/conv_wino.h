/* Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (conv_wino.c): the
 * forward and the input gradient of training's convolutions, on gantry's
 * sgemm. conv.c takes this path when gt_cpu_conv_wino_ok says the geometry
 * fits (3x3, stride 1, dilation 1, one group, the natural output size, padding
 * <= 2 for the input gradient) and pays (>= 16 channels each side, >= 4096
 * output positions). */
#ifndef GT_CPU_CONV_WINO_H
#define GT_CPU_CONV_WINO_H

#include "conv.h"

bool gt_cpu_conv_wino_ok(const gt_conv_geom *g, bool data);   /* fits, and worth it */
bool gt_cpu_conv_wino_fits(const gt_conv_geom *g, bool data); /* fits (any size: tests force it) */
/* As gt_cpu_conv_fwd / gt_cpu_conv_data; false only when out of memory. */
bool gt_cpu_conv_wino_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y);
bool gt_cpu_conv_wino_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx);

#endif
