/* src/backend/kernels.h - the backend interface: one table of kernels per
 * backend (CPU, naive reference, and a device plugin's, e.g. CUDA). The ops
 * in src/ops validate, allocate and record autograd; every loop over tensor
 * data they run goes through this table, chosen by gt__kern() from where the
 * op's tensors live. Kernels take raw pointers (device pointers for a device
 * table) and geometry; they never allocate tensors or touch autograd.
 *
 * A device table may leave entries NULL: GT_K() then runs the CPU kernel
 * after synchronising the device (its memory is host-visible), so an op the
 * device lacks is slow, never wrong. Adding a kernel: one field here, its CPU
 * and naive functions in src/backend/cpu/kernels_cpu.c, and (optionally) the
 * device's in cuda/. The plain-C headers below are what C++/CUDA sees too. */
#ifndef GT_BACKEND_KERNELS_H
#define GT_BACKEND_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/conv.h"
#include "cpu/elementwise.h"
#include "cpu/gemm.h"
#include "cpu/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*gt_resample_fn)(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y);

typedef struct gt_kernels {
    const char *name; /* "cpu", "naive", "cuda" */
    /* elementwise (src/backend/cpu/elementwise.h): out contiguous, inputs strided */
    void (*binary)(gt_binop op, int ndim, const int64_t *shape, const float *a, const int64_t *sa, const float *b,
                   const int64_t *sb, float *out);
    void (*unary)(gt_unop op, float p0, float p1, int ndim, const int64_t *shape, const float *x, const int64_t *sx,
                  float *out);
    void (*copy)(int ndim, const int64_t *shape, const float *x, const int64_t *sx, float *out);
    /* dst[r * dst_ld + j] = src[r * src_ld + j] for r < rows, j < len (concat) */
    void (*copy_rows)(int64_t rows, int64_t len, const float *src, int64_t src_ld, float *dst, int64_t dst_ld);
    /* the inverse of copy: contiguous src written into a strided out (a slice's gradient) */
    void (*copy_to_strided)(int ndim, const int64_t *shape, const float *src, float *out, const int64_t *so);
    void (*fill)(int64_t n, float v, float *out);
    /* x[i] = 0 where x[i] is +-inf or NaN (logsumexp's guard), in place */
    void (*nonfinite_to_zero)(int64_t n, float *x);
    /* out[i] = x[i] rounded to bfloat16 (8 significant bits, nearest, ties to even; inf kept, NaN stays a
     * quiet NaN), stored as a float; out may be x (gantry/device.h's GT_PREC_BF16) */
    void (*round_bf16)(int64_t n, const float *x, float *out);
    void (*fill_i32)(int64_t n, int32_t v, int32_t *out);
    /* reductions: sum over the dims with reduce[d]; max along the middle of (outer, L, inner), onehot (or NULL)
     * zeroed by the caller gets a 1 at each maximum (the first; NaN wins) */
    void (*sum)(int ndim, const int64_t *shape, const bool *reduce, const float *x, float *out);
    void (*max_dim)(int64_t outer, int64_t L, int64_t inner, const float *x, float *out, float *onehot);
    /* (batched) C = A B (+ beta C), strided operands (gemm.h) */
    gt_status (*gemm)(int64_t batch, int64_t M, int64_t N, int64_t K, gt_mat a, int64_t a_bs, gt_mat b, int64_t b_bs,
                      float beta, float *c);
    /* convolution (conv.h): false when out of memory */
    bool (*conv_fwd)(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y);
    bool (*conv_data)(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx);
    bool (*conv_weight)(const gt_conv_geom *g, const float *x, const float *gy, float *gw);
    /* batch norm over (N, C, S): biased statistics; then prepare: training updates the running statistics
     * (rm, rv may be NULL; unbiased variance with M = N*S) and turns var into 1/sqrt(var + eps); eval sets
     * mean = rm and var = 1/sqrt(rv + eps) */
    void (*bn_stats)(int64_t N, int64_t C, int64_t S, const float *x, float *mean, float *var);
    void (*bn_prepare)(int64_t C, bool training, double M, float momentum, float eps, float *rm, float *rv,
                       float *mean, float *var_invstd);
    void (*bn_apply)(int64_t N, int64_t C, int64_t S, const float *x, const float *mean, const float *invstd,
                     const float *w, const float *b, float *y);
    void (*bn_backward)(int64_t N, int64_t C, int64_t S, const float *x, const float *gy, const float *mean,
                        const float *invstd, const float *w, bool training, float *gx, float *gw, float *gb);
    /* pooling and resampling (pool.h, upsample.h) */
    void (*avg_pool2d)(const gt_pool2d_geom *g, int64_t P, const float *x, float *y);
    void (*avg_pool2d_backward)(const gt_pool2d_geom *g, int64_t P, const float *gy, float *gx);
    void (*max_pool2d)(const gt_pool2d_geom *g, int64_t P, const float *x, float *y, int32_t *idx);
    void (*index_gather)(int64_t P, int64_t Lin, int64_t Lout, const float *x, const int32_t *idx, float *y);
    void (*index_scatter)(int64_t P, int64_t Lin, int64_t Lout, const float *gy, const int32_t *idx, float *gx);
    gt_resample_fn adaptive_avg_pool2d, adaptive_avg_pool2d_backward;
    gt_resample_fn upsample_nearest2d, upsample_nearest2d_backward;
    gt_resample_fn upsample_bilinear2d, upsample_bilinear2d_backward;
    /* embedding rows: out[i, :] = w[idx[i] * ws0 + j * ws1]; scatter: out[idx[i], :] += g[i, :] (out zeroed) */
    void (*embed_gather)(const float *w, int64_t ws0, int64_t ws1, const int32_t *idx, int64_t n, int64_t dim,
                         float *out);
    void (*embed_scatter)(const float *g, const int32_t *idx, int64_t n, int64_t dim, float *out);
    /* y[i] = beta * y[i] + alpha * x[i] (an EMA of the weights) */
    void (*axpby)(int64_t n, float alpha, const float *x, float beta, float *y);
    /* one Adam step over a slab, torch's roundings (src/optim/adam.c); vmax NULL unless amsgrad */
    void (*adam)(int64_t n, float *p, const float *g, float *m, float *v, float *vmax, float b1, float b2, float a1,
                 float a2, float wd, float eps, float neg_step, float bc2_sqrt);
    /* grid sampling (torch's grid_sample, the augmentations' warps; cpu/grid_sample.c): forward reads
     * src planes (N*C, H, W) at grid (N, Ho, Wo, 2) into dst (N*C, Ho, Wo); adjoint writes the
     * transposed sampling of src (N*C, Ho, Wo) into dst planes (N*C, H, W), zeroed by the kernel.
     * pad: 0 zeros, 1 border, 2 reflection. False when out of memory. */
    bool (*grid_sample)(bool adjoint, int64_t N, int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo, bool bilinear,
                        int pad, bool align, const float *grid, const float *src, float *dst);
    /* inverted dropout over n contiguous elements: element i draws u from Philox block (offset + i/4),
     * word i%4 (formulas.h); m = u >= p ? scale : 0, y[i] = x[i] * m, mask[i] = m (mask may be NULL) */
    void (*dropout)(int64_t n, uint64_t seed, uint64_t offset, float p, float scale, const float *x, float *y,
                    float *mask);
} gt_kernels;

extern const gt_kernels gt_kernels_cpu, gt_kernels_naive;

/* --- choosing a table ------------------------------------------------------
 * gt__kern(n, ts): the table for an op over tensors ts[0..n) (NULL entries
 * skipped): the device plugin's when every one lives on the device, else the
 * CPU's (the naive one under GT_BACKEND_NAIVE). Pointers for kernels come
 * from gt__ptr / gt__ptr_i32 (no synchronisation); gt_data() synchronises a
 * device tensor first, for code that reads it on the host. */
struct gt_tensor;
const gt_kernels *gt__kern(int n, struct gt_tensor *const *ts);
/* The CPU table, after the device has finished its queued work. */
const gt_kernels *gt__kern_host(void);
#define GT_K(K, fn) ((K)->fn ? (K)->fn : gt__kern_host()->fn)
float *gt__ptr(const struct gt_tensor *t);
int32_t *gt__ptr_i32(const struct gt_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
