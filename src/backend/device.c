/* Devices (gantry/device.h) and the choice of kernel table (src/backend/kernels.h).
 * The CUDA plugin libgantry_cuda.so is loaded with dlopen the first time a
 * GPU is asked for (next to the program, in ../lib/gantry/, or at
 * $GANTRY_CUDA_PLUGIN), so the library and the program link no CUDA. */
#include <dlfcn.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "../internal.h"
#include "device_internal.h"
#include "cpu/sgemm.h"
#include "device_plugin.h"
#include "gantry/device.h"

static struct {
    const gt_device_plugin *p; /* NULL until a GPU was asked for and found */
    void *handle;
    gt_device current;
    int index;
    atomic_bool pending;     /* device work queued since the last sync */
    atomic_llong fallbacks;  /* device ops that ran a CPU kernel */
} gt__d;

static void gt__plugin_dirs(char *out, size_t n);

/* --- the plugin --------------------------------------------------------- */
static gt_status gt__try(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) return gt_set_error(GT_ERR_IO, "the CUDA plugin %s could not be loaded: %s", path, dlerror());
    const gt_device_plugin *p = (const gt_device_plugin *)dlsym(h, "gt_device_plugin_v1");
    if (!p || p->abi != GT_DEVICE_ABI) {
        dlclose(h);
        return gt_set_error(GT_ERR_FORMAT, "%s is not a gantry device plugin of this version (ABI %d)", path,
                            GT_DEVICE_ABI);
    }
    if (!p->count || !p->init || !p->alloc || !p->free || !p->sync || !p->kernels) {
        dlclose(h);
        return gt_set_error(GT_ERR_FORMAT, "%s is an incomplete gantry device plugin (count, init, alloc, free, sync "
                            "and kernels are required)", path);
    }
    gt__d.p = p, gt__d.handle = h;
    return GT_OK;
}

static gt_status gt__load(void) {
    if (gt__d.p) return GT_OK;
    const char *env = getenv("GANTRY_CUDA_PLUGIN");
    if (env && env[0]) {
        if (access(env, R_OK) != 0) return gt_set_error(GT_ERR_IO, "GANTRY_CUDA_PLUGIN=%s: no such file", env);
        return gt__try(env);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            const char *rel[] = {"/libgantry_cuda.so", "/../libgantry_cuda.so", "/../lib/gantry/libgantry_cuda.so",
                                 "/../lib/x86_64-linux-gnu/gantry/libgantry_cuda.so",
                                 "/../lib64/gantry/libgantry_cuda.so"};
            char path[PATH_MAX + 64];
            for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
                snprintf(path, sizeof path, "%s%s", exe, rel[i]);
                if (access(path, R_OK) == 0) return gt__try(path);
            }
        }
    }
    char dirs[PATH_MAX + 64];
    gt__plugin_dirs(dirs, sizeof dirs);
    return gt_set_error(GT_ERR_STATE,
                        "this gantry was built without CUDA: no libgantry_cuda.so next to the program (%s); "
                        "rebuild with the CUDA toolkit installed (cmake -DGANTRY_CUDA=ON) or set GANTRY_CUDA_PLUGIN",
                        dirs);
}

static void gt__plugin_dirs(char *out, size_t n) {
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) {
        snprintf(out, n, "?");
        return;
    }
    exe[k] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    snprintf(out, n, "%s", exe);
}

/* --- the public API ------------------------------------------------------ */
const char *gt_device_name(gt_device d) { return d == GT_DEVICE_CUDA ? "cuda" : "cpu"; }
gt_device gt_device_current(void) { return gt__d.current; }
gt_device gt_tensor_device(const gt_tensor *t) {
    return t && t->storage ? (gt_device)t->storage->device : GT_DEVICE_CPU;
}

gt_status gt_device_use(const char *spec) {
    if (!spec) return gt_set_error(GT_ERR_ARG, "gt_device_use: spec is NULL");
    if (strcmp(spec, "cpu") == 0) {
        if (gt__d.current == GT_DEVICE_CUDA) gt_device_sync();
        gt__d.current = GT_DEVICE_CPU;
        return GT_OK;
    }
    int index = 0;
    if (strncmp(spec, "cuda", 4) != 0 || (spec[4] != 0 && spec[4] != ':'))
        return gt_set_error(GT_ERR_ARG, "unknown device '%s' (devices: cpu, cuda, cuda:N)", spec);
    if (spec[4] == ':') {
        char *end = NULL;
        long v = strtol(spec + 5, &end, 10);
        if (!spec[5] || *end || v < 0 || v > 1023)
            return gt_set_error(GT_ERR_ARG, "device '%s': N in cuda:N must be a GPU index (0, 1, ...)", spec);
        index = (int)v;
    }
    gt_status st = gt__load();
    if (st != GT_OK) return st;
    char err[256] = "";
    int n = gt__d.p->count(err, sizeof err);
    if (n <= 0) return gt_set_error(GT_ERR_STATE, "no CUDA GPU found (%s)", err[0] ? err : "none listed");
    if (index >= n)
        return gt_set_error(GT_ERR_ARG, "device '%s': there %s %d GPU%s (cuda:0%s)", spec, n == 1 ? "is" : "are", n,
                            n == 1 ? "" : "s", n == 1 ? "" : " ...");
    if (gt__d.current == GT_DEVICE_CUDA && gt__d.index == index) return GT_OK;
    st = gt__d.p->init(index, err, sizeof err);
    if (st != GT_OK) return gt_set_error(st, "cuda:%d could not be initialised: %s", index, err);
    gt__d.current = GT_DEVICE_CUDA, gt__d.index = index;
    return GT_OK;
}

gt_status gt_device_sync(void) {
    if (!gt__d.p || !atomic_exchange(&gt__d.pending, false)) return GT_OK;
    char err[256] = "";
    gt_status st = gt__d.p->sync(err, sizeof err);
    return st == GT_OK ? GT_OK : gt_set_error(st, "the GPU reported an error: %s", err);
}

gt_status gt_device_list(char *buf, size_t n) {
    if (!buf || n == 0) return gt_set_error(GT_ERR_ARG, "gt_device_list: no buffer");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t k = (size_t)snprintf(buf, n, "cpu: %ld cores, sgemm kernels %s\n", ncpu, gt_cpu_path_name(gt_cpu_path_get()));
    gt_clear_error();
    if (gt__load() != GT_OK) {
        if (k < n) snprintf(buf + k, n - k, "cuda: none (%s)\n", gt_last_error());
        gt_clear_error();
        return GT_OK;
    }
    char err[256] = "";
    int nd = gt__d.p->count(err, sizeof err);
    if (nd <= 0) {
        if (k < n) snprintf(buf + k, n - k, "cuda: no GPU found (%s)\n", err[0] ? err : "none listed");
        return GT_OK;
    }
    for (int i = 0; i < nd && k < n; i++) {
        gt_device_info in;
        memset(&in, 0, sizeof in);
        if (!gt__d.p->info || gt__d.p->info(i, &in) != GT_OK) {
            k += (size_t)snprintf(buf + k, n - k, "cuda:%d: (no information)\n", i);
            continue;
        }
        k += (size_t)snprintf(buf + k, n - k, "cuda:%d: %s, %.1f GiB (%.1f free), compute capability %d.%d, %d SMs\n",
                              i, in.name, (double)in.total_bytes / 1073741824.0,
                              (double)in.free_bytes / 1073741824.0, in.cc_major, in.cc_minor, in.multiprocessors);
    }
    return GT_OK;
}

void gt_device_counters_get(gt_device_counters *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    out->host_fallbacks = atomic_load(&gt__d.fallbacks);
    if (!gt__d.p || !gt__d.p->stats) return;
    gt_device_stats s;
    memset(&s, 0, sizeof s);
    gt__d.p->stats(&s);
    *out = (gt_device_counters){s.bytes_in_use, s.bytes_cached, s.peak_bytes, s.allocs,
                                s.cache_hits,   s.launches,     s.syncs,      out->host_fallbacks};
}

/* --- what the tensor layer and the ops use --------------------------------- */
void *gt__device_alloc(gt_device d, size_t nbytes) {
    if (d == GT_DEVICE_CUDA && gt__d.p) return gt__d.p->alloc(nbytes ? nbytes : 64);
    return gt__alloc(nbytes);
}

void gt__device_free(gt_device d, void *p) {
    if (d == GT_DEVICE_CUDA && gt__d.p) gt__d.p->free(p);
    else gt__free(p);
}

void gt__device_host_access(void) {
    if (atomic_load_explicit(&gt__d.pending, memory_order_relaxed)) gt_device_sync();
}

const gt_kernels *gt__kern(int n, gt_tensor *const *ts) {
    if (gt__d.p) {
        bool all = n > 0;
        for (int i = 0; i < n && all; i++)
            if (ts[i] && ts[i]->storage->device != GT_DEVICE_CUDA) all = false;
        if (all) {
            atomic_store_explicit(&gt__d.pending, true, memory_order_relaxed);
            return gt__d.p->kernels;
        }
        gt__device_host_access(); /* a CPU kernel may read device memory written by queued work */
    }
    return gt_backend_get() == GT_BACKEND_NAIVE ? &gt_kernels_naive : &gt_kernels_cpu;
}

const gt_kernels *gt__kern_host(void) {
    atomic_fetch_add(&gt__d.fallbacks, 1);
    gt__device_host_access();
    return gt_backend_get() == GT_BACKEND_NAIVE ? &gt_kernels_naive : &gt_kernels_cpu;
}

gt_tensor *gt_to_device(const gt_tensor *t, gt_device d) {
    if (!t) return NULL;
    if (d == GT_DEVICE_CUDA && !gt__d.p)
        return gt__fail(GT_ERR_STATE, "gt_to_device: no GPU in use (call gt_device_use(\"cuda\") first)");
    gt_device prev = gt__d.current;
    gt__d.current = d;
    gt_tensor *out = gt__new(t->dtype, t->ndim, t->shape);
    gt__d.current = prev;
    if (!out) return NULL;
    gt_tensor *in[2] = {(gt_tensor *)t, out};
    const gt_kernels *K = gt__kern(2, in);
    if (t->dtype == GT_F32) {
        GT_K(K, copy)(t->ndim, t->shape, gt__ptr(t), t->stride, gt__ptr(out));
        return out;
    }
    if (!gt_is_contiguous(t)) return gt__fail(GT_ERR_ARG, "gt_to_device: an int32 tensor must be contiguous");
    gt__device_host_access();
    memcpy(gt__ptr_i32(out), gt__ptr_i32(t), (size_t)gt_numel(t) * 4);
    return out;
}
