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

/* --- precision of the matrix products ---------------------------------------
 * Process-wide, like the device. GT_PREC_FP32 (the default): everything in
 * float. GT_PREC_BF16 (mixed precision, what torch.autocast(dtype=bfloat16)
 * does for these ops): convolutions (gt_conv2d, gt_conv_transpose2d,
 * gt_conv2d_weight_grad, so forward, input and weight gradients) and matrix
 * products (gt_matmul, gt_linear) round their two operands to bfloat16 (round
 * to nearest even; inf and NaN kept) and accumulate and write float; biases,
 * elementwise ops, norms, losses, optimizers and the weights themselves stay
 * float. A bf16 x bf16 product is exact in float, so this is what tensor cores
 * compute. bf16 has float's exponent range: no loss scaling is needed. The
 * gradient formulas are the float op's (the rounded operands are temporaries
 * outside the graph). Set it between steps, not while another thread runs ops. */
typedef enum { GT_PREC_FP32 = 0, GT_PREC_BF16 = 1 } gt_precision;
gt_status gt_precision_set(gt_precision p); /* GT_ERR_ARG for an unknown value */
gt_precision gt_precision_get(void);
const char *gt_precision_name(gt_precision p); /* "fp32", "bf16" */
/* "fp32" or "bf16" into *out; GT_ERR_ARG (with a message naming both) otherwise. */
gt_status gt_precision_parse(const char *s, gt_precision *out);
/* x rounded to bfloat16 and widened back to float (the rounding the ops use). */
float gt_round_bf16(float x);

#ifdef __cplusplus
}
#endif
#endif
