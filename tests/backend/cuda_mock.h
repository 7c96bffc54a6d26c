/* tests/backend/cuda_mock.h - what tests/backend/cuda_mock.cpp (a stand-in for the few CUDA runtime
 * calls cuda/alloc.cu makes, backed by malloc) counts and lets a test steer; test_cuda_alloc.c
 * builds cuda/alloc.cu against it, so the allocator's real code runs without a GPU. */
#ifndef GT_TEST_CUDA_MOCK_H
#define GT_TEST_CUDA_MOCK_H

#include <stddef.h>

typedef struct {
    /* steering */
    size_t limit;     /* cudaMallocManaged fails past this many live bytes (0: no limit) */
    size_t total;     /* what cudaMemGetInfo reports as the GPU's memory */
    int concurrent;   /* cudaDevAttrConcurrentManagedAccess */
    /* counts */
    long mallocs, frees, syncs, advises, prefetches, bad_hints, fails;
    long unsynced_frees; /* cudaFree with queued work not waited for (no sync since the last malloc/prefetch) */
    size_t live;         /* bytes from cudaMallocManaged not yet freed */
    int last_event;      /* internal */
} gt_cuda_mock;

#endif
