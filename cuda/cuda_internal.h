/* cuda/cuda_internal.h - what the CUDA plugin's files share (libgantry_cuda.so).
 *   plugin.cu    the gt_device_plugin_v1 table: count, info, init, sync, stats; the stream
 *   alloc.cu     the caching allocator over managed memory
 *   blas.cu      gemm through cuBLAS
 *   dnn.cu       convolutions through cuDNN
 *   kernels_*.cu gantry's own kernels (elementwise, reductions, norm, pool, resample, Adam);
 *                written to the subset cuda/emu.h runs on the CPU, so tests/backend/test_cuda_emu
 *                checks them against the CPU kernels on machines without a GPU.
 * Every kernel runs on gt_cuda_stream(), in order, so the library's one pending flag is enough. */
#ifndef GT_CUDA_INTERNAL_H
#define GT_CUDA_INTERNAL_H

#include "../src/backend/device_plugin.h"

#ifdef GT_CUDA_EMU
#include "emu.h"
#else
#include <cuda_runtime.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifndef GT_CUDA_EMU
cudaStream_t gt_cuda_stream(void);
#endif
/* Device memory from the caching allocator (workspaces, scratch): NULL when out of memory. */
void *gt_cuda_alloc(size_t nbytes);
void gt_cuda_free(void *p);
/* Counts a launch (stats) and records the first launch error for sync() to report. */
void gt_cuda_launched(const char *what);

/* Fills the entries of K that gantry's own kernels provide (kernels_*.cu). */
void gt_cuda_own_kernels(gt_kernels *K);
/* The cuBLAS and cuDNN entries (blas.cu, dnn.cu); false when a handle could not be made. */
bool gt_cuda_blas_init(gt_kernels *K, char *err, size_t errn);
bool gt_cuda_dnn_init(gt_kernels *K, char *err, size_t errn);

#ifdef __cplusplus
}
#endif
#endif
