/* src/backend/device_internal.h - what the tensor layer uses of src/backend/device.c. */
#ifndef GT_DEVICE_INTERNAL_H
#define GT_DEVICE_INTERNAL_H

#include <stddef.h>

#include "gantry/device.h"

/* Storage memory on device d (the plugin's host-addressable memory for a GPU). */
void *gt__device_alloc(gt_device d, size_t nbytes);
void gt__device_free(gt_device d, void *p);
/* Waits for queued device work when there is any (before host code touches device memory). */
void gt__device_host_access(void);

#endif
