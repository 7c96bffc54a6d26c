/* libgantry_fakegpu.so: a stand-in device plugin for the --device tests on machines without a GPU
 * (GANTRY_CUDA_PLUGIN=build/libgantry_fakegpu.so). Its "GPUs" are host memory and its kernel table
 * is empty, so every op on its tensors falls back to the CPU kernels (GT_K): a run on it must match
 * the CPU bit for bit, and everything around the kernels - the choice of device before any tensor,
 * the plugin's loading, device.json, the host fallbacks count, mpirun's GPU per local rank - runs
 * as with a real GPU.
 * GANTRY_FAKE_GPUS: how many GPUs it reports (1; 0: none, with a reason). GANTRY_FAKE_GPU_LOG=1:
 * each init prints "fake gpu: init cuda:N" on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/backend/device_plugin.h"

static gt_device_stats gt__s;

static int gt__count(char *err, size_t errn) {
    const char *e = getenv("GANTRY_FAKE_GPUS");
    int n = e ? atoi(e) : 1;
    if (n <= 0) snprintf(err, errn, "the fake plugin was told GANTRY_FAKE_GPUS=%s", e ? e : "");
    return n > 0 ? n : 0;
}

static gt_status gt__info(int index, gt_device_info *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "fake GPU %d (host memory, CPU kernels)", index);
    out->total_bytes = out->free_bytes = (int64_t)1 << 30;
    out->cc_major = 9, out->cc_minor = 0, out->multiprocessors = 1;
    return GT_OK;
}

static gt_status gt__init(int index, char *err, size_t errn) {
    (void)err, (void)errn;
    const char *log = getenv("GANTRY_FAKE_GPU_LOG");
    if (log && log[0] == '1') fprintf(stderr, "fake gpu: init cuda:%d\n", index);
    return GT_OK;
}

static void *gt__alloc(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (n + 63) & ~(size_t)63) != 0) return NULL;
    gt__s.allocs++;
    return p;
}

static void gt__free(void *p) { free(p); }
static gt_status gt__sync(char *err, size_t errn) {
    (void)err, (void)errn;
    gt__s.syncs++;
    return GT_OK;
}
static void gt__stats(gt_device_stats *out) { *out = gt__s; }
static void gt__empty(void) {}

static const gt_kernels gt__none = {.name = "fake"}; /* every entry NULL: the CPU's kernels run */

const gt_device_plugin gt_device_plugin_v1 = {GT_DEVICE_ABI, "cuda",   gt__count, gt__info, gt__init, gt__alloc,
                                              gt__free,      gt__sync, gt__stats, gt__empty, &gt__none};
