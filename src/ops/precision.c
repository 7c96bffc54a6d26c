/* The precision of the matrix products (gantry/device.h, gt_precision): the
 * process-wide setting, and the bfloat16-rounded operand copies that conv.c
 * and matmul.c take under GT_PREC_BF16. The rounding itself is a kernel
 * (round_bf16 in src/backend/kernels.h), so it runs where the tensor lives. */
#include <string.h>

#include "../backend/kernels.h"
#include "../internal.h"
#include "gantry/device.h"

static gt_precision gt__prec = GT_PREC_FP32;

gt_status gt_precision_set(gt_precision p) {
    if (p != GT_PREC_FP32 && p != GT_PREC_BF16)
        return gt_set_error(GT_ERR_ARG, "gt_precision_set: unknown precision %d (GT_PREC_FP32 or GT_PREC_BF16)",
                            (int)p);
    gt__prec = p;
    return GT_OK;
}

gt_precision gt_precision_get(void) { return gt__prec; }

const char *gt_precision_name(gt_precision p) {
    switch (p) {
    case GT_PREC_FP32: return "fp32";
    case GT_PREC_BF16: return "bf16";
    }
    return "?";
}

gt_status gt_precision_parse(const char *s, gt_precision *out) {
    if (s && !strcmp(s, "fp32")) *out = GT_PREC_FP32;
    else if (s && !strcmp(s, "bf16")) *out = GT_PREC_BF16;
    else return gt_set_error(GT_ERR_ARG, "unknown precision '%s' (fp32 or bf16)", s ? s : "(null)");
    return GT_OK;
}

float gt_round_bf16(float x) {
    float y;
    gt_kernels_cpu.round_bf16(1, &x, &y);
    return y;
}

/* t itself under fp32; under bf16 a new contiguous copy rounded to bfloat16, outside the graph (the op
 * records t, so its gradient formula is the float op's). NULL stays NULL. */
gt_tensor *gt__prec_operand(gt_tensor *t) {
    if (!t || gt__prec == GT_PREC_FP32) return t;
    gt_tensor *out = gt__new(GT_F32, t->ndim, t->shape);
    if (!out) return NULL;
    const gt_kernels *K = gt__kern(2, (gt_tensor *const[]){t, out});
    GT_K(K, copy)(t->ndim, t->shape, gt__ptr(t), t->stride, gt__ptr(out));
    GT_K(K, round_bf16)(gt_numel(out), gt__ptr(out), gt__ptr(out));
    return out;
}
