/* tests/backend/cuda_mock_plugin.cpp - a stand-in for the CUDA runtime calls of cuda/plugin.cu and
 * for the plugin's other files (allocator, cuBLAS, cuDNN, own kernels), so test_cuda_sync.c runs
 * plugin.cu's real code (count, info, init, sync, launch errors, stats) without a GPU. */
#include <stdio.h>
#include <string.h>

#include "../../cuda/cuda_internal.h"

extern "C" {
struct gt_plugin_mock {
    int ndev;
    cudaError_t count_err, sync_err, next_last_error;
    int blas_fail, set_device_calls, streams;
};
gt_plugin_mock gt_pmock = {2, cudaSuccess, cudaSuccess, cudaSuccess, 0, 0, 0};

cudaError_t cudaGetDeviceCount(int *n) {
    *n = gt_pmock.count_err == cudaSuccess ? gt_pmock.ndev : 0;
    return gt_pmock.count_err;
}
cudaError_t cudaGetLastError(void) {
    cudaError_t e = gt_pmock.next_last_error;
    gt_pmock.next_last_error = cudaSuccess;
    return e;
}
const char *cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "mock failure"; }
const char *cudaGetErrorName(cudaError_t e) {
    switch (e) {
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    default: return "cudaErrorOther";
    }
}
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int dev) {
    if (dev < 0 || dev >= gt_pmock.ndev) return cudaErrorInvalidDevice;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "Mock GPU %d", dev);
    p->totalGlobalMem = (size_t)80 << 30, p->major = 9, p->minor = 0, p->multiProcessorCount = 132;
    return cudaSuccess;
}
static int current;
cudaError_t cudaGetDevice(int *d) {
    *d = current;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) {
    if (d < 0 || d >= gt_pmock.ndev) return cudaErrorInvalidDevice;
    current = d, gt_pmock.set_device_calls++;
    return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t *fr, size_t *tot) {
    *fr = (size_t)79 << 30, *tot = (size_t)80 << 30;
    return cudaSuccess;
}
cudaError_t cudaFree(void *p) { return p ? cudaErrorInvalidValue : cudaSuccess; }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned int flags) {
    (void)flags;
    static int dummy;
    *s = (cudaStream_t)&dummy;
    gt_pmock.streams++;
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    (void)s;
    return gt_pmock.sync_err;
}

/* the plugin's other files */
bool gt_cuda_alloc_init(int device, char *err, size_t errn) {
    (void)device, (void)err, (void)errn;
    return true;
}
void gt_cuda_alloc_stats(gt_device_stats *out) { out->bytes_in_use = 4096, out->allocs = 3; }
void gt_cuda_empty_cache(void) {}
void *gt_cuda_alloc(size_t n) {
    (void)n;
    return NULL;
}
void gt_cuda_free(void *p) { (void)p; }
static void own_fill(int64_t n, float v, float *out) { (void)n, (void)v, (void)out; }
static gt_status mock_gemm(int64_t batch, int64_t M, int64_t N, int64_t K, gt_mat a, int64_t a_bs, gt_mat b,
                           int64_t b_bs, float beta, float *c) {
    (void)batch, (void)M, (void)N, (void)K, (void)a, (void)a_bs, (void)b, (void)b_bs, (void)beta, (void)c;
    return GT_OK;
}
void gt_cuda_own_kernels(gt_kernels *K) { K->fill = own_fill; }
bool gt_cuda_blas_init(gt_kernels *K, char *err, size_t errn) {
    if (gt_pmock.blas_fail) {
        snprintf(err, errn, "cublasCreate: mock failure");
        return false;
    }
    K->gemm = mock_gemm;
    return true;
}
bool gt_cuda_dnn_init(gt_kernels *K, char *err, size_t errn) {
    (void)K, (void)err, (void)errn;
    return true;
}
}
