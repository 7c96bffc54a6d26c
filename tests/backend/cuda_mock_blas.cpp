/* tests/backend/cuda_mock_blas.cpp - a stand-in for the cuBLAS calls of cuda/blas.cu (a column-major
 * strided-batched product with cuBLAS's argument checks, computed with plain loops) and for the
 * plugin functions it uses, so test_cuda_blas.c runs blas.cu's real code without a GPU. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>

#include "../../cuda/cuda_internal.h"

struct cublasContext {
    int dummy;
};

extern "C" {
struct gt_blas_mock {
    long calls, packs, fails, allocs;
    long fast_calls; /* products allowed to use TF32 */
    int fail_alloc;
    char last_fail[256];
};
gt_blas_mock gt_bmock = {0, 0, 0, 0, 0, 0, ""};

void *gt_cuda_alloc(size_t n) {
    if (gt_bmock.fail_alloc) return NULL;
    gt_bmock.allocs++;
    return malloc(n ? n : 1);
}
void gt_cuda_free(void *p) { free(p); }
cudaStream_t gt_cuda_stream(void) { return NULL; }
void gt_cuda_launched(const char *what) {
    if (strcmp(what, "gemm_pack") == 0) gt_bmock.packs++;
}
void gt_cuda_fail(int st, const char *fmt, ...) {
    (void)st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gt_bmock.last_fail, sizeof gt_bmock.last_fail, fmt, ap);
    va_end(ap);
    gt_bmock.fails++;
}
cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t s) {
    (void)s;
    memset(p, v, n);
    return cudaSuccess;
}
const char *cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "mock failure"; }

cublasStatus_t cublasCreate(cublasHandle_t *h) {
    *h = new cublasContext();
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s) {
    (void)h, (void)s;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m) {
    (void)h, (void)m;
    return CUBLAS_STATUS_SUCCESS;
}
const char *cublasGetStatusString(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS ? "OK" : "mock cuBLAS error"; }

cublasStatus_t cublasGemmStridedBatchedEx_64(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int64_t m,
                                             int64_t n, int64_t k, const void *alpha, const void *A,
                                             cudaDataType at, int64_t lda, long long sa, const void *B,
                                             cudaDataType bt, int64_t ldb, long long sb, const void *beta, void *C,
                                             cudaDataType ct, int64_t ldc, long long sc, int64_t batch,
                                             cublasComputeType_t compute, cublasGemmAlgo_t algo) {
    (void)h, (void)algo;
    int64_t arows = ta == CUBLAS_OP_N ? m : k, brows = tb == CUBLAS_OP_N ? k : n;
    if (at != CUDA_R_32F || bt != CUDA_R_32F || ct != CUDA_R_32F || m < 0 || n < 0 || k < 0 || batch < 0 ||
        lda < (arows > 1 ? arows : 1) || ldb < (brows > 1 ? brows : 1) || ldc < (m > 1 ? m : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (compute != CUBLAS_COMPUTE_32F) gt_bmock.fast_calls++;
    gt_bmock.calls++;
    float al = *(const float *)alpha, be = *(const float *)beta;
    const float *Ap = (const float *)A, *Bp = (const float *)B;
    float *Cp = (float *)C;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < m; i++) {
                double acc = 0;
                for (int64_t p = 0; p < k; p++) {
                    float av = ta == CUBLAS_OP_N ? Ap[b * sa + i + p * lda] : Ap[b * sa + p + i * lda];
                    float bv = tb == CUBLAS_OP_N ? Bp[b * sb + p + j * ldb] : Bp[b * sb + j + p * ldb];
                    acc += (double)av * bv;
                }
                float *c = &Cp[b * sc + i + j * ldc];
                *c = al * (float)acc + (be != 0.0f ? be * *c : 0.0f);
            }
    return CUBLAS_STATUS_SUCCESS;
}
}
