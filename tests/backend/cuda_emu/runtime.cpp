// The plugin functions cuda/kernels_*.cu call (cuda/cuda_internal.h), for their emulated build: launches
// are counted, scratch memory is the host's. Plus the controls of tests/backend/cuda_emu/emu_api.h.
#define GT_CUDA_EMU 1
#include <cstdlib>

#include "../../../cuda/cuda_internal.h"
#include "emu_api.h"

static int64_t gt__launches;
static const char *gt__last = "";

extern "C" void gt_cuda_launched(const char *what) {
    gt__launches++;
    gt__last = what;
}
extern "C" void *gt_cuda_alloc(size_t nbytes) { return malloc(nbytes ? nbytes : 1); }
extern "C" void gt_cuda_free(void *p) { free(p); }

extern "C" void gt_emu_config(unsigned max_threads, unsigned max_blocks) { gt_emu::config(max_threads, max_blocks); }
extern "C" int64_t gt_emu_launches(void) { return gt__launches; }
extern "C" const char *gt_emu_last_kernel(void) { return gt__last; }
extern "C" int64_t gt_emu_blocks(void) { return gt_emu::st().blocks; }
extern "C" int64_t gt_emu_barriers(void) { return gt_emu::st().barriers; }

// --- the emulator's own checks ------------------------------------------------------------------
// Each thread writes its slot of shared memory, waits at the barrier, then reads its neighbour's:
// right only if every fiber of the block wrote before any read.
__global__ void gt__k_rotate(int *out) {
    __shared__ int buf[1024];
    buf[threadIdx.x] = (int)(threadIdx.x + 1000 * blockIdx.x);
    __syncthreads();
    out[blockIdx.x * blockDim.x + threadIdx.x] = buf[(threadIdx.x + 1) % blockDim.x];
}

extern "C" int gt_emu_selftest_barrier(void) {
    gt_emu::state &s = gt_emu::st();
    unsigned mt = s.max_threads, mb = s.max_blocks;
    gt_emu::config(64, 0);
    static int out[5 * 13];
    gt_emu::launch("gt__k_rotate", gt__k_rotate, dim3(5), dim3(13), out);
    gt_emu::config(mt, mb);
    for (int b = 0; b < 5; b++)
        for (int t = 0; t < 13; t++)
            if (out[b * 13 + t] != (t + 1) % 13 + 1000 * b) return -1;
    return 0;
}

// Thread 0 leaves before the barrier the others wait at: undefined on a GPU, reported here.
__global__ void gt__k_divergent(int *out) {
    if (threadIdx.x == 0) return;
    __syncthreads();
    out[threadIdx.x] = 1;
}

extern "C" void gt_emu_selftest_divergent(void) {
    static int out[4];
    gt_emu::launch("gt__k_divergent", gt__k_divergent, dim3(1), dim3(4), out);
}
