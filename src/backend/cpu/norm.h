/* Batch-norm kernels on raw float buffers (fast + naive). The layout is
 * (N, C, S): channel c of sample n is the S contiguous floats at
 * x + (n*C + c)*S. Statistics are per channel over N*S values. */
#ifndef GT_CPU_NORM_H
#define GT_CPU_NORM_H

#include <stdbool.h>
#include <stdint.h>

/* Batch statistics: mean[c] and the biased variance var[c]. */
void gt_cpu_bn_stats(int64_t N, int64_t C, int64_t S, const float *x, float *mean, float *var);
void gt_naive_bn_stats(int64_t N, int64_t C, int64_t S, const float *x, float *mean, float *var);

/* y = (x - mean[c]) * invstd[c] * w[c] + b[c]; w, b may be NULL (1, 0). */
void gt_cpu_bn_apply(int64_t N, int64_t C, int64_t S, const float *x, const float *mean, const float *invstd,
                     const float *w, const float *b, float *y);
void gt_naive_bn_apply(int64_t N, int64_t C, int64_t S, const float *x, const float *mean, const float *invstd,
                       const float *w, const float *b, float *y);

/* Fused backward. With xhat = (x - mean) * invstd:
 *   gw[c] = sum gy * xhat, gb[c] = sum gy (each when non-NULL);
 *   gx (when non-NULL) = w * invstd * (gy - [sum gy / M] - xhat * [sum gy*xhat / M])
 * where the bracketed terms are only there when training (batch statistics,
 * M = N*S); in eval mode mean/invstd are constants and gx = w * invstd * gy.
 * w may be NULL (1). */
void gt_cpu_bn_backward(int64_t N, int64_t C, int64_t S, const float *x, const float *gy, const float *mean,
                        const float *invstd, const float *w, bool training, float *gx, float *gw, float *gb);
void gt_naive_bn_backward(int64_t N, int64_t C, int64_t S, const float *x, const float *gy, const float *mean,
                          const float *invstd, const float *w, bool training, float *gx, float *gw, float *gb);

#endif
