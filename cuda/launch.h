/* cuda/launch.h - what gantry's own kernels (cuda/kernels_*.cu) share: the launch macro, grid sizes,
 * grid-stride loops and a block-wide sum. Written to the subset cuda/emu.h emulates, so the same
 * source builds with nvcc for the plugin and with g++ (GT_CUDA_EMU) for tests/backend/test_cuda_emu.
 *
 * Rules for the kernels: 64-bit indices; grid-stride loops (a launch may get fewer blocks than
 * asked, the emulator's do); any block size up to GT_THREADS (the emulator runs smaller ones);
 * no warp intrinsics; every launch through GT_LAUNCH, on gt_cuda_stream(), counted by
 * gt_cuda_launched; a host wrapper launches nothing for empty sizes. */
#ifndef GT_CUDA_LAUNCH_H
#define GT_CUDA_LAUNCH_H

#include <stdint.h>

#include "cuda_internal.h"

#define GT_THREADS 256  /* threads a block (the most any kernel's shared arrays hold) */
#define GT_MAX_GRID 4096 /* blocks a grid at most; grid-stride loops do the rest */

/* GT_LAUNCH(kernel, blocks, threads, args...): kernel<<<blocks, threads, 0, stream>>>(args...). */
#ifdef GT_CUDA_EMU
#define GT_LAUNCH(kernel, blocks, threads, ...)                                          \
    do {                                                                                 \
        gt_emu::launch(#kernel, kernel, dim3(blocks), dim3(threads), __VA_ARGS__);       \
        gt_cuda_launched(#kernel);                                                       \
    } while (0)
#else
#define GT_LAUNCH(kernel, blocks, threads, ...)                                          \
    do {                                                                                 \
        kernel<<<(blocks), (threads), 0, gt_cuda_stream()>>>(__VA_ARGS__);               \
        gt_cuda_launched(#kernel);                                                       \
    } while (0)
#endif

/* Blocks for n independent items of work (n > 0), at most GT_MAX_GRID. */
static inline unsigned gt__grid(int64_t n, int64_t per_block) {
    int64_t b = (n + per_block - 1) / per_block;
    return (unsigned)(b < 1 ? 1 : (b > GT_MAX_GRID ? GT_MAX_GRID : b));
}
#define GT_GRID(n) gt__grid((n), GT_THREADS)

/* for (i over 0..n) spread over every thread of the grid */
#define GT_KLOOP(i, n)                                                                   \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);            \
         i += (int64_t)blockDim.x * gridDim.x)
/* for (j over 0..n) one item a block (every thread of the block sees the same j) */
#define GT_BLOOP(j, n) for (int64_t j = blockIdx.x; j < (n); j += gridDim.x)
/* for (q over 0..n) spread over the threads of one block */
#define GT_TLOOP(q, n) for (int64_t q = threadIdx.x; q < (n); q += blockDim.x)

__device__ inline int64_t gt__min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ inline int64_t gt__max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* The sum of v over the threads of the block, returned to every thread: a tree in shared memory
 * (buf holds GT_THREADS doubles), correct for any block size up to GT_THREADS. Every thread of the
 * block must call it (it has barriers). */
__device__ inline double gt__block_sum(double v, double *buf) {
    unsigned t = threadIdx.x, n = blockDim.x, p = 1;
    buf[t] = v;
    __syncthreads();
    while (p < n) p <<= 1;
    for (unsigned s = p >> 1; s > 0; s >>= 1) {
        if (t < s && t + s < n) buf[t] += buf[t + s];
        __syncthreads();
    }
    double r = buf[0];
    __syncthreads(); /* buf may be reused at once */
    return r;
}

/* Each family's file fills its entries of the table (kernels_elementwise.cu's gt_cuda_own_kernels
 * calls them all). */
void gt__cuda_fill_reduce(gt_kernels *K);
void gt__cuda_fill_pool(gt_kernels *K);
void gt__cuda_fill_resample(gt_kernels *K);
void gt__cuda_fill_bf16(gt_kernels *K);

#endif
