/* src/backend/device_plugin.h - the ABI between the library and a device
 * plugin (cuda/: libgantry_cuda.so), which src/backend/device.c loads with
 * dlopen the first time a device is asked for, so neither the library nor
 * the program links CUDA: a build with the toolkit runs on machines without
 * it, and says so when --device cuda is given.
 *
 * Memory: the plugin's alloc returns memory that both the device and the host
 * can address (CUDA managed memory), so code that reads tensors on the host
 * (losses' items, checkpoints, metrics, ops the device table lacks) stays
 * correct after sync(); the hot path stays on the device. */
#ifndef GT_DEVICE_PLUGIN_H
#define GT_DEVICE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_DEVICE_ABI 2 /* 2: gt_kernels.grid_sample, dropout */

typedef struct gt_device_info {
    char name[128];
    int64_t total_bytes, free_bytes;
    int cc_major, cc_minor; /* compute capability */
    int multiprocessors;
} gt_device_info;

typedef struct gt_device_stats {
    int64_t bytes_in_use, bytes_cached, peak_bytes; /* the caching allocator */
    int64_t allocs, cache_hits;
    int64_t launches, syncs;
} gt_device_stats;

typedef struct gt_device_plugin {
    int abi;          /* GT_DEVICE_ABI */
    const char *name; /* "cuda" */
    /* Number of devices (0 when none); on 0 or error writes why into err. */
    int (*count)(char *err, size_t errn);
    gt_status (*info)(int index, gt_device_info *out);
    /* Makes device index current (streams, handles); on failure writes why. */
    gt_status (*init)(int index, char *err, size_t errn);
    void *(*alloc)(size_t nbytes); /* host-and-device addressable; NULL when out of memory */
    void (*free)(void *p);
    /* Waits for queued work; non-OK (and the device's error in err) when a kernel failed. */
    gt_status (*sync)(char *err, size_t errn);
    void (*stats)(gt_device_stats *out);
    /* Returns cached blocks to the device. */
    void (*empty_cache)(void);
    const gt_kernels *kernels;
} gt_device_plugin;

/* The plugin exports: const gt_device_plugin gt_device_plugin_v1; */

#ifdef __cplusplus
}
#endif
#endif
