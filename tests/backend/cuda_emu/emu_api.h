/* tests/backend/cuda_emu/emu_api.h - what tests/backend/test_cuda_emu.c (C) sees of the emulated
 * kernels: cuda/kernels_*.cu compiled with g++ through cuda/emu.h (the .cpp files here). */
#ifndef GT_CUDA_EMU_API_H
#define GT_CUDA_EMU_API_H

#include <stdint.h>

#include "../../../src/backend/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cuda/kernels_elementwise.cu: fills the entries gantry's own kernels provide. */
void gt_cuda_own_kernels(gt_kernels *K);
/* Later launches get at most max_threads threads a block and max_blocks blocks (0: as launched). */
void gt_emu_config(unsigned max_threads, unsigned max_blocks);
/* Launches so far (through GT_LAUNCH / gt_cuda_launched), and the name of the last kernel. */
int64_t gt_emu_launches(void);
const char *gt_emu_last_kernel(void);
/* Blocks run and __syncthreads reached so far (every fiber's barrier counts). */
int64_t gt_emu_blocks(void);
int64_t gt_emu_barriers(void);

/* The emulator's own checks: a barrier-ordered exchange through shared memory (0 when right), and a
 * kernel with a divergent __syncthreads (the emulator reports it and aborts). */
int gt_emu_selftest_barrier(void);
void gt_emu_selftest_divergent(void);

#ifdef __cplusplus
}
#endif
#endif
