/* cuda/plugin.cu - the CUDA plugin's table (gt_device_plugin_v1, device_plugin.h): device count and
 * information, init (the device, one non-blocking stream, the cuBLAS and cuDNN handles, the kernel
 * table), sync (the stream, then the first error recorded since the last sync), the allocator's
 * statistics. Every status is checked; errors come back as text, never as an exit. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <atomic>
#include <mutex>

#include "cuda_host.h"
#include "cuda_internal.h"

/* alloc.cu */
extern "C" bool gt_cuda_alloc_init(int device, char *err, size_t errn);
extern "C" void gt_cuda_alloc_stats(gt_device_stats *out);
extern "C" void gt_cuda_empty_cache(void);

static struct {
    std::mutex mu;
    bool ready;
    int device;
    cudaStream_t stream;
    gt_kernels table;
    std::atomic<long long> launches, syncs;
    int err_status; /* 0: no error recorded since the last sync */
    char err[256];
} gt__p;

extern "C" cudaStream_t gt_cuda_stream(void) { return gt__p.stream; }

extern "C" void gt_cuda_fail(int st, const char *fmt, ...) {
    std::lock_guard<std::mutex> lock(gt__p.mu);
    if (gt__p.err_status) return; /* the first error is the one that explains the others */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gt__p.err, sizeof gt__p.err, fmt, ap);
    va_end(ap);
    gt__p.err_status = st ? st : GT_ERR_STATE;
}

extern "C" void gt_cuda_launched(const char *what) {
    gt__p.launches.fetch_add(1, std::memory_order_relaxed);
    cudaError_t e = cudaGetLastError(); /* launch configuration errors show here; faults at sync */
    if (e != cudaSuccess)
        gt_cuda_fail(e == cudaErrorMemoryAllocation ? GT_ERR_OOM : GT_ERR_STATE, "kernel %s: %s (%s)",
                     what ? what : "?", cudaGetErrorString(e), cudaGetErrorName(e));
}

static int gt__count(char *err, size_t errn) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        /* no driver, no device, driver older than the runtime: the runtime says which */
        snprintf(err, errn, "cudaGetDeviceCount: %s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
        cudaGetLastError();
        return 0;
    }
    if (n <= 0) snprintf(err, errn, "cudaGetDeviceCount: no CUDA device");
    return n;
}

static gt_status gt__info(int index, gt_device_info *out) {
    if (!out) return GT_ERR_ARG;
    memset(out, 0, sizeof *out);
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) {
        cudaGetLastError();
        return GT_ERR_STATE;
    }
    size_t len = strnlen(prop.name, sizeof prop.name);
    if (len >= sizeof out->name) len = sizeof out->name - 1;
    memcpy(out->name, prop.name, len);
    out->name[len] = 0;
    out->total_bytes = (int64_t)prop.totalGlobalMem;
    out->cc_major = prop.major, out->cc_minor = prop.minor;
    out->multiprocessors = prop.multiProcessorCount;
    /* free memory is a property of a context: ask on that device, then restore the current one */
    int prev = -1;
    if (cudaGetDevice(&prev) != cudaSuccess) prev = -1;
    size_t fr = 0, tot = 0;
    if (cudaSetDevice(index) == cudaSuccess && cudaMemGetInfo(&fr, &tot) == cudaSuccess)
        out->free_bytes = (int64_t)fr;
    else
        out->free_bytes = -1;
    if (prev >= 0 && prev != index) cudaSetDevice(prev);
    cudaGetLastError();
    return GT_OK;
}

#define GT__TRY(call)                                                                                          \
    do {                                                                                                       \
        cudaError_t e_ = (call);                                                                               \
        if (e_ != cudaSuccess) {                                                                               \
            snprintf(err, errn, "%s: %s (%s)", #call, cudaGetErrorString(e_), cudaGetErrorName(e_));           \
            cudaGetLastError();                                                                                \
            return GT_ERR_STATE;                                                                               \
        }                                                                                                      \
    } while (0)

static gt_status gt__init(int index, char *err, size_t errn) {
    if (gt__p.ready) {
        if (index == gt__p.device) return GT_OK; /* back from the CPU to the same GPU */
        snprintf(err, errn, "this process already uses cuda:%d; one GPU per process (start another process)",
                 gt__p.device);
        return GT_ERR_STATE;
    }
    GT__TRY(cudaSetDevice(index));
    GT__TRY(cudaFree(0)); /* creates the primary context now, so its errors show here */
    if (!gt__p.stream) GT__TRY(cudaStreamCreateWithFlags(&gt__p.stream, cudaStreamNonBlocking));
    if (!gt_cuda_alloc_init(index, err, errn)) return GT_ERR_STATE;
    memset(&gt__p.table, 0, sizeof gt__p.table); /* NULL entries run the CPU kernel */
    gt__p.table.name = "cuda";
    gt_cuda_own_kernels(&gt__p.table);
    if (!gt_cuda_blas_init(&gt__p.table, err, errn)) return GT_ERR_STATE;
    if (!gt_cuda_dnn_init(&gt__p.table, err, errn)) return GT_ERR_STATE;
    gt__p.device = index;
    gt__p.ready = true;
    return GT_OK;
}

static gt_status gt__sync(char *err, size_t errn) {
    if (err && errn) err[0] = 0;
    if (!gt__p.ready) return GT_OK; /* nothing was queued: the runtime may not even start here */
    gt__p.syncs.fetch_add(1, std::memory_order_relaxed);
    cudaError_t e = cudaStreamSynchronize(gt__p.stream);
    cudaError_t last = cudaGetLastError();
    std::lock_guard<std::mutex> lock(gt__p.mu);
    if (gt__p.err_status) { /* recorded first: it explains a failed synchronisation after it */
        int st = gt__p.err_status;
        if (err && errn) snprintf(err, errn, "%s", gt__p.err);
        gt__p.err_status = 0, gt__p.err[0] = 0;
        return (gt_status)st;
    }
    if (e != cudaSuccess) {
        if (err && errn)
            snprintf(err, errn, "cudaStreamSynchronize: %s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
        return GT_ERR_STATE;
    }
    if (last != cudaSuccess) {
        if (err && errn)
            snprintf(err, errn, "cudaGetLastError: %s (%s)", cudaGetErrorString(last), cudaGetErrorName(last));
        return GT_ERR_STATE;
    }
    return GT_OK;
}

static void gt__stats(gt_device_stats *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    gt_cuda_alloc_stats(out);
    out->launches = gt__p.launches.load(std::memory_order_relaxed);
    out->syncs = gt__p.syncs.load(std::memory_order_relaxed);
}

extern "C" const gt_device_plugin gt_device_plugin_v1 = {
    GT_DEVICE_ABI, "cuda", gt__count, gt__info, gt__init, gt_cuda_alloc, gt_cuda_free, gt__sync, gt__stats,
    gt_cuda_empty_cache, &gt__p.table};
