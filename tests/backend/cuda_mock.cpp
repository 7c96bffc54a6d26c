/* tests/backend/cuda_mock.cpp - a stand-in for the CUDA runtime calls of cuda/alloc.cu (managed
 * memory is malloc'd host memory), plus the plugin functions it uses (gt_cuda_stream, gt_cuda_fail);
 * compiled with it into a shared library by test_cuda_alloc.c. Counts what happened (cuda_mock.h). */
#include <stdlib.h>

#include <cuda_runtime.h>

#include "cuda_mock.h"

extern "C" {
gt_cuda_mock gt_mock = {0, (size_t)1 << 30, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
}

enum { EV_NONE, EV_SYNC, EV_FREE, EV_WORK };
static struct {
    void *p;
    size_t n;
} blocks[4096];

extern "C" cudaError_t cudaMallocManaged(void **p, size_t n, unsigned int flags) {
    (void)flags;
    if (gt_mock.limit && gt_mock.live + n > gt_mock.limit) return cudaErrorMemoryAllocation;
    for (int i = 0; i < 4096; i++)
        if (!blocks[i].p) {
            if (!(blocks[i].p = malloc(n))) return cudaErrorMemoryAllocation;
            blocks[i].n = n, *p = blocks[i].p;
            gt_mock.live += n, gt_mock.mallocs++, gt_mock.last_event = EV_WORK;
            return cudaSuccess;
        }
    return cudaErrorMemoryAllocation;
}

extern "C" cudaError_t cudaFree(void *p) {
    if (!p) return cudaSuccess;
    for (int i = 0; i < 4096; i++)
        if (blocks[i].p == p) {
            if (gt_mock.last_event == EV_WORK) gt_mock.unsynced_frees++;
            free(p);
            gt_mock.live -= blocks[i].n, gt_mock.frees++, gt_mock.last_event = EV_FREE;
            blocks[i].p = NULL;
            return cudaSuccess;
        }
    return cudaErrorInvalidValue;
}

extern "C" cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    (void)s;
    gt_mock.syncs++, gt_mock.last_event = EV_SYNC;
    return cudaSuccess;
}

static void hint(struct cudaMemLocation loc) {
    if (loc.type != cudaMemLocationTypeDevice || loc.id != 0) gt_mock.bad_hints++;
    gt_mock.last_event = EV_WORK;
}

extern "C" cudaError_t cudaMemAdvise(const void *p, size_t n, enum cudaMemoryAdvise advice, struct cudaMemLocation loc) {
    (void)p, (void)n;
    if (advice != cudaMemAdviseSetPreferredLocation) gt_mock.bad_hints++;
    gt_mock.advises++;
    hint(loc);
    return cudaSuccess;
}

extern "C" cudaError_t cudaMemPrefetchAsync(const void *p, size_t n, struct cudaMemLocation loc, unsigned int flags,
                                            cudaStream_t s) {
    (void)p, (void)n, (void)flags, (void)s;
    gt_mock.prefetches++;
    hint(loc);
    return cudaSuccess;
}

extern "C" cudaError_t cudaDeviceGetAttribute(int *v, enum cudaDeviceAttr attr, int dev) {
    (void)dev;
    *v = attr == cudaDevAttrConcurrentManagedAccess ? gt_mock.concurrent : 0;
    return cudaSuccess;
}

extern "C" cudaError_t cudaMemGetInfo(size_t *fr, size_t *total) {
    *total = gt_mock.total, *fr = gt_mock.total - gt_mock.live;
    return cudaSuccess;
}

extern "C" cudaError_t cudaGetLastError(void) { return cudaSuccess; }
extern "C" const char *cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "mock error"; }
extern "C" cudaStream_t gt_cuda_stream(void) { return NULL; }
extern "C" void gt_cuda_fail(int st, const char *fmt, ...) {
    (void)st, (void)fmt;
    gt_mock.fails++;
}
