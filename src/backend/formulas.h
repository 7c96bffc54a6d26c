/* src/backend/formulas.h - the per-element formulas that the CPU kernels (src/backend/cpu/) and the
 * CUDA kernels (cuda/kernels_*.cu) share, written once: the binary and unary ops, and the source
 * index rules of nearest and bilinear resampling. Plain C that nvcc compiles for both sides
 * (GT_HD); GT_FMUL_RN / GT_FSUB_RN keep one rounding per operation on the GPU, where nvcc would
 * otherwise contract into an FMA (the host follows its compiler flags). */
#ifndef GT_BACKEND_FORMULAS_H
#define GT_BACKEND_FORMULAS_H

#include <math.h>
#include <stdint.h>

#include "cpu/elementwise.h"

#if defined(__CUDACC__)
#define GT_HD __host__ __device__
#else
#define GT_HD
#endif
#if defined(__CUDA_ARCH__) /* nvcc's device pass */
#define GT_FMUL_RN(a, b) __fmul_rn((a), (b))
#define GT_FSUB_RN(a, b) __fsub_rn((a), (b))
#else
#define GT_FMUL_RN(a, b) ((a) * (b))
#define GT_FSUB_RN(a, b) ((a) - (b))
#endif

static inline GT_HD float gt__bin(gt_binop op, float a, float b) {
    switch (op) {
    case GT_BIN_ADD: return a + b;
    case GT_BIN_SUB: return a - b;
    case GT_BIN_MUL: return a * b;
    case GT_BIN_DIV: return a / b;
    case GT_BIN_POW: return powf(a, b);
    }
    return 0.0f;
}

static inline GT_HD float gt__sigmoidf(float x) {
    return x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
}

static inline GT_HD float gt__un(gt_unop op, float x, float p0, float p1) {
    switch (op) {
    case GT_UN_ADD_SCALAR: return x + p0;
    case GT_UN_MUL_SCALAR: return x * p0;
    case GT_UN_RSUB_SCALAR: return p0 - x;
    case GT_UN_POW_SCALAR: return p0 == 2.0f ? x * x : powf(x, p0);
    case GT_UN_NEG: return -x;
    case GT_UN_EXP: return expf(x);
    case GT_UN_LOG: return logf(x);
    case GT_UN_SQRT: return sqrtf(x);
    case GT_UN_ABS: return fabsf(x);
    case GT_UN_CLAMP: return x < p0 ? p0 : (x > p1 ? p1 : x);
    case GT_UN_RELU: return x > 0 ? x : 0.0f;
    case GT_UN_LEAKY_RELU: return x > 0 ? x : x * p0;
    case GT_UN_TANH: return tanhf(x);
    case GT_UN_SIGMOID: return gt__sigmoidf(x);
    case GT_UN_SOFTPLUS: {
        float bx = x * p0;
        return bx > p1 ? x : log1pf(expf(bx)) / p0;
    }
    case GT_UN_ELU: return x > 0 ? x : p0 * expm1f(x);
    case GT_UN_GT: return x > p0 ? 1.0f : 0.0f;
    case GT_UN_LT: return x < p0 ? 1.0f : 0.0f;
    case GT_UN_GE_LE: return (x >= p0 && x <= p1) ? 1.0f : 0.0f;
    case GT_UN_LEAKY_COEF: return x > 0 ? 1.0f : p0;
    case GT_UN_COUNT: break;
    }
    return 0.0f;
}

/* --- resampling index rules --------------------------------------------------------------- */
static inline GT_HD int64_t gt__nearest_src(int64_t d, int64_t in, int64_t out) {
    if (out == in) return d;
    if (out == 2 * in) return d >> 1;
    float scale = (float)in / (float)out;
    int64_t s = (int64_t)floorf((float)d * scale);
    return s < in - 1 ? s : in - 1;
}

/* Output d reads inputs i0 (weight l0) and i1 (weight l1). */
static inline GT_HD void gt__linear_src(int64_t d, int64_t in, int64_t out, int64_t *i0, int64_t *i1, float *l0,
                                  float *l1) {
    if (in == out) {
        *i0 = *i1 = d;
        *l0 = 1.0f;
        *l1 = 0.0f;
        return;
    }
    float scale = (float)in / (float)out;
    float real = GT_FSUB_RN(GT_FMUL_RN(scale, (float)d + 0.5f), 0.5f);
    if (real < 0.0f) real = 0.0f;
    int64_t i = (int64_t)floorf(real);
    if (i > in - 1) i = in - 1;
    float l = real - (float)i;
    l = l < 0.0f ? 0.0f : (l > 1.0f ? 1.0f : l);
    *i0 = i;
    *i1 = i + (i < in - 1 ? 1 : 0);
    *l1 = l;
    *l0 = 1.0f - l;
}

#endif
