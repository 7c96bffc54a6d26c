/* The CUDA plugin's table (placeholder: counts devices, nothing else yet). */
#include <stdio.h>
#include <string.h>

#include "cuda_internal.h"

static int gt__count(char *err, size_t errn) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        snprintf(err, errn, "cudaGetDeviceCount: %s", cudaGetErrorString(e));
        return 0;
    }
    return n;
}

extern "C" const gt_device_plugin gt_device_plugin_v1 = {GT_DEVICE_ABI, "cuda", gt__count, NULL, NULL, NULL,
                                                          NULL,          NULL,   NULL,      NULL, NULL};
