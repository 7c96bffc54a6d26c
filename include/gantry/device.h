/* gantry/device.h - where tensors live and ops run: the CPU, or a GPU through
 * a device plugin (CUDA: libgantry_cuda.so, built when the toolkit is found
 * and loaded on demand, so the CPU program needs no CUDA at run time).
 *
 * The current device is process-wide: tensors made after gt_device_use("cuda")
 * live on the GPU, and an op whose tensors all live there runs there. A GPU
 * tensor's memory is host-addressable (managed memory): gt_data() waits for
 * the GPU's queued work, so host code that reads or writes it stays correct. */
#ifndef GANTRY_DEVICE_H
#define GANTRY_DEVICE_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { GT_DEVICE_CPU = 0, GT_DEVICE_CUDA = 1 } gt_device;

/* "cpu", "cuda" or "cuda:N". For cuda: loads the plugin and selects GPU N; the
 * error says why not (gantry built without CUDA, no GPU or driver found, N out
 * of range). Tensors made before keep their device. */
gt_status gt_device_use(const char *spec);
gt_device gt_device_current(void);
const char *gt_device_name(gt_device d);
gt_device gt_tensor_device(const gt_tensor *t);
/* Waits for the current device's queued work; reports a kernel's failure. */
gt_status gt_device_sync(void);
/* Writes one line per device into buf ("cpu: ..." first, then each GPU with
 * its memory and compute capability, or why there is none). */
gt_status gt_device_list(char *buf, size_t n);
/* A contiguous copy of t on device d (no autograd). */
gt_tensor *gt_to_device(const gt_tensor *t, gt_device d);
/* Allocator figures of the device (zeros on the CPU). */
typedef struct {
    int64_t bytes_in_use, bytes_cached, peak_bytes, allocs, cache_hits, launches, syncs, host_fallbacks;
} gt_device_counters;
void gt_device_counters_get(gt_device_counters *out);

#ifdef __cplusplus
}
#endif
#endif
