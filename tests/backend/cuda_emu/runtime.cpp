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
