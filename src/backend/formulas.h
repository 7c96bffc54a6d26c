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

/* --- grid sampling (torch.nn.functional.grid_sample; src/ops/grid_sample.c has the rules) --------
 * The coordinate arithmetic is PyTorch's CPU kernel's, operation for operation, in float, with its
 * roundings explicit: no contraction on the host (GT_GS_EXACT) nor on the GPU (the _RN forms), so
 * that the sampled points - and with them which pixels nearest picks - are the same bits as torch's
 * (a one-ulp shift of a coordinate near x = 40 moves a bilinear output by ~1e-5). pad: 0 zeros,
 * 1 border, 2 reflection (gt_grid_pad). */
#if !defined(__CUDACC__) && defined(__GNUC__) && !defined(__clang__)
#define GT_GS_EXACT __attribute__((optimize("fp-contract=off")))
#else
#define GT_GS_EXACT
#endif

/* clamps to [0, size - 1]; NaN -> 0 (as torch's clip_coordinates) */
static inline GT_HD GT_GS_EXACT float gt__gs_clip(float v, float hi) {
    v = (v > 0.0f) ? v : 0.0f;
    return (v < hi) ? v : hi;
}

/* The source coordinate (in pixels) of normalised coordinate g along an axis of `size`; -100 (outside)
 * for what is not finite or beyond the int range. */
static inline GT_HD GT_GS_EXACT float gt__gs_source(float g, int64_t size, int pad, bool align) {
    float hi = (float)(size - 1), v;
    /* one rounding after the product and the shift (the product is exact in double), as torch's
     * fused multiply-add: its CPU kernel is built with contraction */
    if (align)
        v = (float)((double)(g + 1.0f) * (double)((float)(size - 1) / 2.0f));
    else
        v = (float)((double)(g + 1.0f) * (double)((float)size / 2.0f) - 0.5);
    if (pad == 1) {
        v = gt__gs_clip(v, hi);
    } else if (pad == 2) {
        /* reflect about the corner centres (0, size - 1) or the outer edges (-0.5, size - 0.5):
         * fold |v - low| by twice the span, then mirror the far half */
        float low = align ? 0.0f : -0.5f, span2 = align ? (float)(size - 1) * 2.0f : (float)size * 2.0f;
        if (align && size <= 1) {
            v = 0.0f;
        } else {
            float a = fabsf(v - low), flips = truncf(a / span2);
            float extra = GT_FSUB_RN(a, GT_FMUL_RN(flips, span2)), other = span2 - extra;
            v = ((extra < other) ? extra : other) + low;
        }
        v = gt__gs_clip(v, hi);
    }
    if (!isfinite(v) || v > 2147483646.0f || v < -2147483648.0f) v = -100.0f; /* outside */
    return v;
}

static inline GT_HD int32_t gt__gs_at(int64_t yy, int64_t xx, int64_t H, int64_t W) {
    return (yy >= 0 && yy < H && xx >= 0 && xx < W) ? (int32_t)(yy * W + xx) : -1;
}

/* The pixels (offsets in the (H, W) plane, -1: outside, reads 0) and weights with which the output
 * at grid point (gx, gy) reads its plane: four (nw, ne, sw, se) for bilinear, one for nearest (round
 * half to even; the rest -1). */
static inline GT_HD GT_GS_EXACT void gt__gs_taps4(float gx, float gy, int64_t H, int64_t W, bool bilinear, int pad,
                                                  bool align, int32_t *i, float *w) {
    float ix = gt__gs_source(gx, W, pad, align), iy = gt__gs_source(gy, H, pad, align);
    if (!bilinear) {
        i[0] = gt__gs_at((int64_t)nearbyintf(iy), (int64_t)nearbyintf(ix), H, W);
        w[0] = 1.0f;
        i[1] = i[2] = i[3] = -1;
        w[1] = w[2] = w[3] = 0.0f;
        return;
    }
    float fx = floorf(ix), fy = floorf(iy);
    int64_t x0 = (int64_t)fx, y0 = (int64_t)fy;
    float we = ix - fx, e = 1.0f - we; /* distances to the west and east neighbours */
    float n = iy - fy, s = 1.0f - n;   /* to the north and south */
    i[0] = gt__gs_at(y0, x0, H, W), w[0] = s * e;
    i[1] = gt__gs_at(y0, x0 + 1, H, W), w[1] = s * we;
    i[2] = gt__gs_at(y0 + 1, x0, H, W), w[2] = n * e;
    i[3] = gt__gs_at(y0 + 1, x0 + 1, H, W), w[3] = n * we;
}

/* --- Philox-4x32-10 (Salmon et al., SC'11; gantry/rng.h's gt_philox4x32) and dropout's draw -------
 * Each block of four 32-bit outputs depends only on (seed, counter), so element i of a draw is the
 * same whatever thread - or device - computes it. */
static inline GT_HD void gt__philox(uint64_t seed, uint64_t counter_hi, uint64_t counter_lo, uint32_t out[4]) {
    uint32_t c0 = (uint32_t)counter_lo, c1 = (uint32_t)(counter_lo >> 32);
    uint32_t c2 = (uint32_t)counter_hi, c3 = (uint32_t)(counter_hi >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* [0, 1) with 24 random bits (gt_rng_uniform's) */
static inline GT_HD float gt__u01(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

/* Inverted dropout of elements 4b .. 4b+3 (< n): one Philox block (base + b), word i%4 the draw of
 * element i; m = u >= p ? scale : 0, y = x * m, mask = m (mask may be NULL). */
static inline GT_HD void gt__dropout_block(int64_t b, int64_t n, uint64_t seed, uint64_t base, float p, float scale,
                                           const float *x, float *y, float *mask) {
    uint32_t v[4];
    gt__philox(seed, 0, base + (uint64_t)b, v);
    for (int k = 0; k < 4 && b * 4 + k < n; k++) {
        int64_t i = b * 4 + k;
        float m = gt__u01(v[k]) >= p ? scale : 0.0f;
        y[i] = x[i] * m;
        if (mask) mask[i] = m;
    }
}

#endif
