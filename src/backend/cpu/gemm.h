/* Matrix products on raw float buffers: a naive reference (plain loops) and a
 * fast path on gantry's sgemm (sgemm.h). Operands are strided views: any
 * layout (transposed, row- or column-strided) goes to sgemm's panel packing
 * as it is, without a copy first. */
#ifndef GT_CPU_GEMM_H
#define GT_CPU_GEMM_H

#include <stdint.h>

#include "gantry/base.h"

/* A strided (rows, cols) matrix: element (i, j) is p[i * rs + j * cs]. */
typedef struct {
    const float *p;
    int64_t rs, cs;
} gt_mat;

/* A batch of products C[b] = op(A[b]) @ op(B[b]) + beta * C[b], for
 * b < batch. A[b] is (M, K) starting at a.p + b * a_bs, B[b] is (K, N) at
 * bm.p + b * b_bs (a batch stride of 0 shares one matrix across the batch);
 * C[b] is contiguous (M, N) at c + b * M * N. beta is 0 (C is overwritten)
 * or 1 (added to: used to fuse a bias). Returns GT_OK. */
gt_status gt_cpu_gemm(int64_t batch, int64_t M, int64_t N, int64_t K, gt_mat a, int64_t a_bs, gt_mat bm,
                      int64_t b_bs, float beta, float *c);
gt_status gt_naive_gemm(int64_t batch, int64_t M, int64_t N, int64_t K, gt_mat a, int64_t a_bs, gt_mat bm,
                        int64_t b_bs, float beta, float *c);

#endif
