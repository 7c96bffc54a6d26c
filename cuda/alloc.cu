/* cuda/alloc.cu - the plugin's caching allocator over CUDA managed memory (host- and device-
 * addressable, device_plugin.h). Sizes round to classes (cuda_host.h: 512 B up to 1 MiB, then
 * 2 MiB multiples); a freed block goes to its class's free list and serves the next request of
 * that class without a cudaMallocManaged (which is slow and synchronises).
 *
 * Reuse is safe without waiting: every kernel, cuBLAS and cuDNN call runs on the plugin's one
 * stream (gt_cuda_stream), so work queued after a block is handed out again runs after the work
 * queued before it was freed (stream order). Host code reads or writes device tensors only after
 * gt_data() has synchronised (device.c), so it never races a queued kernel on a reused block.
 * Blocks given back to CUDA (empty_cache, an allocation that failed, GANTRY_CUDA_CACHE=0) are
 * freed only after the stream has been synchronised.
 *
 * Managed memory may oversubscribe the GPU (pages then migrate to the host and back), so before
 * a new block would take the allocator's total past ~90% of the GPU's memory the cache is
 * emptied first; a failed allocation empties the cache and tries once more.
 * GANTRY_CUDA_CACHE=0 turns caching off (every free goes back to CUDA) for debugging. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "cuda_host.h"
#include "cuda_internal.h"

static struct {
    std::mutex mu;
    bool ready, caching, hints;
    int device;
    size_t limit; /* soft cap on in_use + cached (bytes): ~90% of the GPU's memory */
    std::unordered_map<void *, size_t> *live; /* block -> its class size */
    std::unordered_map<size_t, std::vector<void *>> *cache;
    int64_t in_use, cached, peak, allocs, hits;
} gt__a;

extern "C" bool gt_cuda_alloc_init(int device, char *err, size_t errn) {
    std::lock_guard<std::mutex> lock(gt__a.mu);
    if (gt__a.ready) return true;
    const char *env = getenv("GANTRY_CUDA_CACHE");
    gt__a.caching = !(env && strcmp(env, "0") == 0);
    gt__a.device = device;
    int concurrent = 0;
    cudaError_t e = cudaDeviceGetAttribute(&concurrent, cudaDevAttrConcurrentManagedAccess, device);
    if (e != cudaSuccess) {
        snprintf(err, errn, "cudaDeviceGetAttribute(ConcurrentManagedAccess): %s", cudaGetErrorString(e));
        cudaGetLastError();
        return false;
    }
    /* placement hints need a device that pages managed memory on demand (Linux, Pascal and newer) */
    gt__a.hints = concurrent != 0;
    size_t fr = 0, tot = 0;
    e = cudaMemGetInfo(&fr, &tot);
    if (e != cudaSuccess) {
        snprintf(err, errn, "cudaMemGetInfo: %s", cudaGetErrorString(e));
        cudaGetLastError();
        return false;
    }
    gt__a.limit = tot / 10 * 9;
    gt__a.live = new (std::nothrow) std::unordered_map<void *, size_t>();
    gt__a.cache = new (std::nothrow) std::unordered_map<size_t, std::vector<void *>>();
    if (!gt__a.live || !gt__a.cache) {
        snprintf(err, errn, "out of host memory for the allocator's tables");
        return false;
    }
    gt__a.ready = true;
    return true;
}

/* Gives every cached block back to CUDA, after the queued work that may still use them. Locked. */
static void gt__release_cache(void) {
    if (gt__a.cached == 0) return;
    cudaError_t e = cudaStreamSynchronize(gt_cuda_stream());
    if (e != cudaSuccess) {
        /* the context is broken: keep the blocks (freeing them would fail too) and say why */
        gt_cuda_fail(GT_ERR_STATE, "cudaStreamSynchronize (before freeing cached blocks): %s", cudaGetErrorString(e));
        return;
    }
    for (auto &kv : *gt__a.cache) {
        for (void *p : kv.second) {
            e = cudaFree(p);
            if (e != cudaSuccess) gt_cuda_fail(GT_ERR_STATE, "cudaFree (cached block): %s", cudaGetErrorString(e));
        }
        gt__a.cached -= (int64_t)(kv.first * kv.second.size());
    }
    gt__a.cache->clear();
}

/* A new managed block of `size` bytes, placed on the device; NULL when CUDA has no memory. Locked. */
static void *gt__new_block(size_t size) {
    if (gt__a.cached > 0 && (size_t)(gt__a.in_use + gt__a.cached) + size > gt__a.limit) gt__release_cache();
    void *p = NULL;
    cudaError_t e = cudaMallocManaged(&p, size, cudaMemAttachGlobal);
    if (e == cudaErrorMemoryAllocation && gt__a.cached > 0) {
        cudaGetLastError(); /* not sticky: clear it so a later launch check does not report it */
        gt__release_cache();
        e = cudaMallocManaged(&p, size, cudaMemAttachGlobal);
    }
    if (e != cudaSuccess) {
        cudaGetLastError();
        if (e != cudaErrorMemoryAllocation)
            gt_cuda_fail(GT_ERR_STATE, "cudaMallocManaged(%zu bytes): %s", size, cudaGetErrorString(e));
        return NULL;
    }
    if (gt__a.hints) {
        cudaMemLocation loc;
        loc.type = cudaMemLocationTypeDevice, loc.id = gt__a.device;
        e = cudaMemAdvise(p, size, cudaMemAdviseSetPreferredLocation, loc);
        if (e == cudaSuccess) e = cudaMemPrefetchAsync(p, size, loc, 0, gt_cuda_stream());
        if (e != cudaSuccess) {
            /* a hint only: the memory is correct without it; stop hinting rather than fail */
            cudaGetLastError();
            gt__a.hints = false;
        }
    }
    return p;
}

extern "C" void *gt_cuda_alloc(size_t nbytes) {
    size_t size = gt_cuda_size_class(nbytes);
    if (size == 0) return NULL;
    std::lock_guard<std::mutex> lock(gt__a.mu);
    if (!gt__a.ready) return NULL;
    void *p = NULL;
    if (gt__a.caching) {
        auto it = gt__a.cache->find(size);
        if (it != gt__a.cache->end() && !it->second.empty()) {
            p = it->second.back();
            it->second.pop_back();
            gt__a.cached -= (int64_t)size;
            gt__a.hits++;
        }
    }
    if (!p && !(p = gt__new_block(size))) return NULL;
    try {
        (*gt__a.live)[p] = size;
    } catch (...) { /* no host memory for the table entry: give the block back */
        cudaFree(p);
        cudaGetLastError();
        return NULL;
    }
    gt__a.in_use += (int64_t)size;
    if (gt__a.in_use > gt__a.peak) gt__a.peak = gt__a.in_use;
    gt__a.allocs++;
    return p;
}

extern "C" void gt_cuda_free(void *p) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(gt__a.mu);
    if (!gt__a.ready) return;
    auto it = gt__a.live->find(p);
    if (it == gt__a.live->end()) {
        gt_cuda_fail(GT_ERR_STATE, "gt_cuda_free: %p is not a block of this allocator", p);
        return;
    }
    size_t size = it->second;
    gt__a.live->erase(it);
    gt__a.in_use -= (int64_t)size;
    if (gt__a.caching) {
        try {
            (*gt__a.cache)[size].push_back(p);
            gt__a.cached += (int64_t)size;
            return;
        } catch (...) { /* no host memory to remember it: free it instead */
        }
    }
    cudaError_t e = cudaStreamSynchronize(gt_cuda_stream()); /* queued work may still use it */
    if (e == cudaSuccess) e = cudaFree(p);
    if (e != cudaSuccess) gt_cuda_fail(GT_ERR_STATE, "cudaFree: %s", cudaGetErrorString(e));
}

extern "C" void gt_cuda_empty_cache(void) {
    std::lock_guard<std::mutex> lock(gt__a.mu);
    if (gt__a.ready) gt__release_cache();
}

extern "C" void gt_cuda_alloc_stats(gt_device_stats *out) {
    std::lock_guard<std::mutex> lock(gt__a.mu);
    out->bytes_in_use = gt__a.in_use, out->bytes_cached = gt__a.cached, out->peak_bytes = gt__a.peak;
    out->allocs = gt__a.allocs, out->cache_hits = gt__a.hits;
}
