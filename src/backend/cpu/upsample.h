/* Resampling kernels on raw float buffers (fast + naive), P planes:
 * x (P, H, W), y (P, OH, OW), contiguous. Index rules are PyTorch's
 * (F.interpolate with size=..., align_corners=False). */
#ifndef GT_CPU_UPSAMPLE_H
#define GT_CPU_UPSAMPLE_H

#include <stdint.h>

/* nearest: y[oh][ow] = x[src(oh)][src(ow)], src(d) = min(floor(d * (float)in/out), in-1). */
void gt_cpu_upsample_nearest2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y);
void gt_naive_upsample_nearest2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y);
/* The adjoint: gx (P, H, W) = sum of gy over the outputs that read each input. */
void gt_cpu_upsample_nearest2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                        float *gx);
void gt_naive_upsample_nearest2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                          float *gx);

/* bilinear, align_corners=false: source (d + 0.5) * in/out - 0.5 clamped at 0. */
void gt_cpu_upsample_bilinear2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y);
void gt_naive_upsample_bilinear2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y);
void gt_cpu_upsample_bilinear2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                         float *gx);
void gt_naive_upsample_bilinear2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                           float *gx);

#endif
