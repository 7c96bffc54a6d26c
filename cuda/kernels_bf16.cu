/* gantry's own CUDA kernels, the mixed-precision family: round_bf16 (gantry/device.h's GT_PREC_BF16),
 * the CPU kernel's bit arithmetic (src/backend/cpu/kernels_cpu.c), so both round alike bit for bit.
 * One thread an element (grid-stride); in place when out == x. */
#include <string.h>

#include "launch.h"

__global__ void gt__k_round_bf16(int64_t n, const float *x, float *out) {
    GT_KLOOP(i, n) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        if ((u & 0x7fffffffu) > 0x7f800000u) u = (u | 0x00400000u) & 0xffff0000u; /* NaN: quiet, sign kept */
        else u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;                /* nearest, ties to even */
        memcpy(&out[i], &u, sizeof u);
    }
}

static void gt__round_bf16(int64_t n, const float *x, float *out) {
    if (n > 0) GT_LAUNCH(gt__k_round_bf16, GT_GRID(n), GT_THREADS, n, x, out);
}

void gt__cuda_fill_bf16(gt_kernels *K) { K->round_bf16 = gt__round_bf16; }
