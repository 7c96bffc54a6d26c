/* Grid sampling kernels (gt_kernels.grid_sample; src/ops/grid_sample.c has the rules). */
#ifndef GT_BACKEND_CPU_GRID_SAMPLE_H
#define GT_BACKEND_CPU_GRID_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

bool gt_cpu_grid_sample(bool adjoint, int64_t N, int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo, bool bilinear,
                        int pad, bool align, const float *grid, const float *src, float *dst);
bool gt_naive_grid_sample(bool adjoint, int64_t N, int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                          bool bilinear, int pad, bool align, const float *grid, const float *src, float *dst);

#endif
