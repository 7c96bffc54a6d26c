/* cuda/each.h - the elementwise launches of blas.cu and dnn.cu (packing, bias, crop / zero-pad):
 * gt_cuda_each(total, op, what) runs op(t) for t < total on gt_cuda_stream() in a grid-stride loop
 * and counts the launch (gt_cuda_launched). Built by a host compiler instead of nvcc (no
 * __CUDACC__: tests/backend/test_cuda_dnn.c and test_cuda_blas.c build those files with g++ against
 * stand-ins for CUDA, cuBLAS and cuDNN), the same op runs in a plain loop on the host. C++ only. */
#ifndef GT_CUDA_EACH_H
#define GT_CUDA_EACH_H

#include "cuda_internal.h"

#ifdef __CUDACC__
#define GT_CUDA_HD __host__ __device__
#else
#define GT_CUDA_HD
#endif

#ifdef __CUDACC__
template <typename Op> __global__ void gt_cuda_each_kernel(int64_t total, Op op) {
    for (int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; t < total; t += (int64_t)gridDim.x * blockDim.x)
        op(t);
}
#endif

template <typename Op> static void gt_cuda_each(int64_t total, Op op, const char *what) {
    if (total <= 0) return;
#ifdef __CUDACC__
    int64_t blocks = (total + 255) / 256;
    if (blocks > 65535) blocks = 65535; /* the grid-stride loop covers the rest */
    gt_cuda_each_kernel<<<(unsigned)blocks, 256, 0, gt_cuda_stream()>>>(total, op);
#else
    for (int64_t t = 0; t < total; t++) op(t);
#endif
    gt_cuda_launched(what);
}

#endif
