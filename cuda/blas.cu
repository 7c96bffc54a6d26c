/* cuda/blas.cu - the gemm entry through cuBLAS (kernels.h, gemm.h).
 *
 * gantry's C[b] = A[b] B[b] (+ beta C[b]) is row-major; cuBLAS is column-major. A row-major
 * (M, N) matrix read column-major is its transpose, so C^T = B^T A^T is one cuBLAS product with
 * m = N, n = M, k = K, B first, A second, and C's leading dimension N. How each operand reaches
 * cuBLAS (op N or T, its ld, or a packing copy first when its strides fit neither) is
 * gt_cuda_gemm_layout (cuda_host.h, tested on the CPU). A batch stride of 0 (one matrix shared
 * across the batch) is passed as it is: cuBLAS's strided-batched products allow it.
 *
 * Precision: CUBLAS_COMPUTE_32F (no TF32), so results match the CPU's sgemm to float rounding;
 * GANTRY_CUDA_TF32=1 allows TF32 tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32) for speed. */
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>

#include <mutex>

#include "cuda_host.h"
#include "cuda_internal.h"
#include "each.h"

static cublasHandle_t gt__blas;
static std::mutex gt__blas_mu; /* one handle: calls from several threads take turns */
static cublasComputeType_t gt__compute = CUBLAS_COMPUTE_32F;

static const char *gt__blas_str(cublasStatus_t s) {
    const char *n = cublasGetStatusString(s);
    return n ? n : "unknown cuBLAS status";
}

/* dst[b][i * C + j] = src[b * bs + i * rs + j * cs]: strided (R, C) matrices packed contiguous (each.h). */
struct gt__pack_op {
    int64_t R, C, bs, rs, cs;
    const float *src;
    float *dst;
    GT_CUDA_HD void operator()(int64_t t) const {
        int64_t j = t % C, i = (t / C) % R, b = t / (R * C);
        dst[t] = src[b * bs + i * rs + j * cs];
    }
};

/* Packs a strided (R, C) operand (nb matrices: batch ones, or one when shared) into scratch from the
 * caching allocator; the caller frees it. NULL: out of memory. */
static float *gt__packed(int64_t batch, int64_t R, int64_t C, gt_mat m, int64_t bs) {
    int64_t nb = bs ? batch : 1; /* a broadcast operand is packed once and stays shared */
    float *s = (float *)gt_cuda_alloc((size_t)(nb * R * C) * sizeof(float));
    if (s) gt_cuda_each(nb * R * C, gt__pack_op{R, C, bs, m.rs, m.cs, m.p, s}, "gemm_pack");
    return s;
}

static cublasOperation_t gt__op(gt_cuda_op op) { return op == GT_CUDA_OP_T ? CUBLAS_OP_T : CUBLAS_OP_N; }

static gt_status gt__gemm(int64_t batch, int64_t M, int64_t N, int64_t K, gt_mat a, int64_t a_bs, gt_mat b,
                          int64_t b_bs, float beta, float *c) {
    if (batch <= 0 || M <= 0 || N <= 0) return GT_OK;
    if (K <= 0) { /* an empty sum: C = 0, or C unchanged when adding */
        if (beta == 0.0f) {
            cudaError_t e = cudaMemsetAsync(c, 0, (size_t)(batch * M * N) * sizeof(float), gt_cuda_stream());
            if (e != cudaSuccess) gt_cuda_fail(GT_ERR_STATE, "gemm: cudaMemsetAsync: %s", cudaGetErrorString(e));
        }
        return GT_OK;
    }
    gt_cuda_gemm_plan P = gt_cuda_gemm_plan_make(M, N, K, a.rs, a.cs, a_bs, b.rs, b.cs, b_bs);
    float *sa = NULL, *sb = NULL;
    if (P.pack_a && !(sa = gt__packed(batch, M, K, a, a_bs))) return GT_ERR_OOM;
    if (P.pack_b && !(sb = gt__packed(batch, K, N, b, b_bs))) {
        gt_cuda_free(sa);
        return GT_ERR_OOM;
    }
    const float alpha = 1.0f;
    std::lock_guard<std::mutex> lock(gt__blas_mu);
    /* column-major C^T (N, M) = B^T (N, K) A^T (K, M): gantry's B is cuBLAS's first operand */
    cublasStatus_t s = cublasGemmStridedBatchedEx_64(
        gt__blas, gt__op(P.transa), gt__op(P.transb), P.m, P.n, P.k, &alpha, sb ? sb : b.p, CUDA_R_32F, P.lda,
        (long long)P.stride_a, sa ? sa : a.p, CUDA_R_32F, P.ldb, (long long)P.stride_b, &beta, c, CUDA_R_32F, P.ldc,
        (long long)P.stride_c, batch, gt__compute, CUBLAS_GEMM_DEFAULT);
    gt_cuda_launched("cublasGemmStridedBatchedEx");
    if (s != CUBLAS_STATUS_SUCCESS)
        gt_cuda_fail(s == CUBLAS_STATUS_ALLOC_FAILED ? GT_ERR_OOM : GT_ERR_STATE,
                     "cublasGemmStridedBatchedEx_64 (batch %lld, M %lld, N %lld, K %lld): %s", (long long)batch,
                     (long long)M, (long long)N, (long long)K, gt__blas_str(s));
    /* the scratch is reused only by work queued after this product (stream order) */
    gt_cuda_free(sa);
    gt_cuda_free(sb);
    /* out of memory fails the op now (the record above gives sync() the reason); any other
     * failure is reported by the next sync() */
    return s == CUBLAS_STATUS_ALLOC_FAILED ? GT_ERR_OOM : GT_OK;
}

extern "C" bool gt_cuda_blas_init(gt_kernels *K, char *err, size_t errn) {
    if (!gt__blas) {
        cublasStatus_t s = cublasCreate(&gt__blas);
        if (s != CUBLAS_STATUS_SUCCESS) {
            snprintf(err, errn, "cublasCreate: %s", gt__blas_str(s));
            gt__blas = NULL;
            return false;
        }
    }
    cublasStatus_t s = cublasSetStream(gt__blas, gt_cuda_stream());
    if (s != CUBLAS_STATUS_SUCCESS) {
        snprintf(err, errn, "cublasSetStream: %s", gt__blas_str(s));
        return false;
    }
    const char *tf32 = getenv("GANTRY_CUDA_TF32");
    bool fast = tf32 && strcmp(tf32, "1") == 0;
    gt__compute = fast ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    s = cublasSetMathMode(gt__blas, fast ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
    if (s != CUBLAS_STATUS_SUCCESS) {
        snprintf(err, errn, "cublasSetMathMode: %s", gt__blas_str(s));
        return false;
    }
    K->gemm = gt__gemm;
    return true;
}
