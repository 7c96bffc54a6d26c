/* cuda/cuda_host.h - the CUDA plugin's host-side decisions, as plain C (static inline), so
 * tests/backend/test_cuda_host.c checks them on machines without a GPU:
 *   gt_cuda_size_class   the caching allocator's rounding (alloc.cu)
 *   gt_cuda_gemm_layout  how a strided gemm operand is handed to cuBLAS, and
 *   gt_cuda_gemm_plan_make the whole cuBLAS call (blas.cu)
 *   gt_cuda_conv_natural the output size cuDNN computes for a conv geometry (dnn.cu)
 * and gt_cuda_fail, the plugin's error record (plugin.cu), which sync() reports. */
#ifndef GT_CUDA_HOST_H
#define GT_CUDA_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- the allocator's size classes ------------------------------------------------------------
 * Like PyTorch's caching allocator: requests up to 1 MiB round up to a multiple of 512 B, larger
 * ones to a multiple of 2 MiB; a freed block goes to the free list of its class and serves the
 * next request of the same class. 0 when the rounding would overflow. */
#define GT_CUDA_SMALL_ROUND ((size_t)512)
#define GT_CUDA_SMALL_MAX ((size_t)1 << 20)
#define GT_CUDA_LARGE_ROUND ((size_t)2 << 20)

static inline size_t gt_cuda_size_class(size_t n) {
    size_t r = n <= GT_CUDA_SMALL_MAX ? GT_CUDA_SMALL_ROUND : GT_CUDA_LARGE_ROUND;
    if (n == 0) n = 1;
    if (n > SIZE_MAX - (r - 1)) return 0;
    return (n + r - 1) / r * r;
}

/* --- gemm operands ---------------------------------------------------------------------------
 * A logical row-major (R, C) matrix with element (i, j) at p[i * rs + j * cs], as cuBLAS
 * (column-major) sees it: rows of the stored column-major matrix are the logical columns.
 *   cs == 1, rs >= C:  the column-major (C, R) matrix with ld = rs, op "N"
 *   rs == 1, cs >= R:  the column-major (R, C) matrix with ld = cs, op "T"
 * A stride along a dimension of size 1 is never used, so it does not matter. Anything else
 * (both strides > 1, a broadcast stride 0 inside the matrix, overlapping rows) needs a copy to
 * a contiguous (R, C) matrix first (then op "N", ld = C). */
typedef enum { GT_CUDA_OP_N = 0, GT_CUDA_OP_T = 1 } gt_cuda_op;

typedef struct {
    gt_cuda_op op;
    int64_t ld;
    bool copy; /* true: pack to contiguous first; op and ld then describe the packed matrix */
} gt_cuda_layout;

static inline gt_cuda_layout gt_cuda_gemm_layout(int64_t R, int64_t C, int64_t rs, int64_t cs) {
    gt_cuda_layout L;
    int64_t one_c = C > 1 ? C : 1, one_r = R > 1 ? R : 1;
    bool row_ok = R <= 1 || rs >= one_c; /* rows do not overlap, as cuBLAS's ld >= rows requires */
    if ((cs == 1 || C <= 1) && row_ok) {
        L.op = GT_CUDA_OP_N, L.ld = R <= 1 ? one_c : rs, L.copy = false;
        return L;
    }
    bool col_ok = C <= 1 || cs >= one_r;
    if ((rs == 1 || R <= 1) && col_ok) {
        L.op = GT_CUDA_OP_T, L.ld = C <= 1 ? one_r : cs, L.copy = false;
        return L;
    }
    L.op = GT_CUDA_OP_N, L.ld = one_c, L.copy = true;
    return L;
}

/* The whole cuBLAS call for gantry's row-major C[b] = A[b] B[b]: cuBLAS computes the column-major
 * C^T = B^T A^T, so its first operand is gantry's B and its second gantry's A, m = N, n = M, k = K,
 * ldc = N, stride_c = M N. A packed operand's batch stride becomes its packed size (or stays 0). */
typedef struct {
    gt_cuda_op transa, transb;
    int64_t m, n, k, lda, ldb, ldc;
    int64_t stride_a, stride_b, stride_c;
    bool pack_b, pack_a; /* gantry's B (cuBLAS's first operand), gantry's A (its second) */
} gt_cuda_gemm_plan;

static inline gt_cuda_gemm_plan gt_cuda_gemm_plan_make(int64_t M, int64_t N, int64_t K, int64_t a_rs, int64_t a_cs,
                                                       int64_t a_bs, int64_t b_rs, int64_t b_cs, int64_t b_bs) {
    gt_cuda_gemm_plan P;
    gt_cuda_layout lb = gt_cuda_gemm_layout(K, N, b_rs, b_cs), la = gt_cuda_gemm_layout(M, K, a_rs, a_cs);
    P.transa = lb.op, P.lda = lb.ld, P.pack_b = lb.copy;
    P.stride_a = lb.copy ? (b_bs ? K * N : 0) : b_bs;
    P.transb = la.op, P.ldb = la.ld, P.pack_a = la.copy;
    P.stride_b = la.copy ? (a_bs ? M * K : 0) : a_bs;
    P.m = N, P.n = M, P.k = K, P.ldc = N > 1 ? N : 1, P.stride_c = M * N;
    return P;
}

/* --- convolutions ----------------------------------------------------------------------------
 * cuDNN's output size of a conv geometry ((in + 2 pad - dil (k - 1) - 1) / stride + 1); gantry's
 * geometry may ask for fewer rows/columns than that (conv.h), which dnn.cu handles through a
 * zero-padded or cropped copy. < 1 when the input is too small for the kernel. */
static inline int64_t gt_cuda_conv_natural(int64_t in, int64_t pad, int64_t dil, int64_t k, int64_t stride) {
    int64_t span = in + 2 * pad - dil * (k - 1) - 1;
    return span < 0 ? 0 : span / stride + 1;
}

/* --- errors ----------------------------------------------------------------------------------
 * Records the first error since the last sync() (printf-style; st is the status sync() returns:
 * GT_ERR_STATE for a device failure, GT_ERR_OOM when memory ran out); plugin.cu. */
void gt_cuda_fail(int st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
