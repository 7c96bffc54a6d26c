/* gantry's own CUDA kernels, the elementwise family: binary, unary (every gt_unop, the formulas of
 * src/backend/cpu/elementwise.c), copy, copy_rows, fill, fill_i32, dropout (the CPU's Philox draws)
 * and the Adam step (torch's roundings, as src/backend/cpu/kernels_cpu.c); and gt_cuda_own_kernels, which fills the table's
 * entries of every family. One thread an output element (grid-stride); strided operands are
 * addressed through their collapsed shape (adjacent dims contiguous in every operand merged). */
#include "launch.h"
#include "../src/backend/formulas.h"

/* An index space of up to GT_MAX_DIMS dims and the element strides of two operands. */
struct gt__strided {
    int nd;
    int64_t shape[GT_MAX_DIMS], s0[GT_MAX_DIMS], s1[GT_MAX_DIMS];
};

/* Drops size-1 dims and merges adjacent dims contiguous in both operands (s1 may be NULL): the
 * CPU's collapse. At least one dim remains. */
static gt__strided gt__collapse(int ndim, const int64_t *shape, const int64_t *s0, const int64_t *s1) {
    gt__strided g;
    int m = 0;
    for (int d = 0; d < ndim; d++) {
        int64_t t1 = s1 ? s1[d] : 0;
        if (shape[d] == 1) continue;
        if (m > 0 && g.s0[m - 1] == s0[d] * shape[d] && g.s1[m - 1] == t1 * shape[d]) {
            g.shape[m - 1] *= shape[d];
            g.s0[m - 1] = s0[d];
            g.s1[m - 1] = t1;
        } else {
            g.shape[m] = shape[d];
            g.s0[m] = s0[d];
            g.s1[m] = t1;
            m++;
        }
    }
    if (m == 0) {
        g.shape[0] = 1;
        g.s0[0] = g.s1[0] = 0;
        m = 1;
    }
    g.nd = m;
    return g;
}

static int64_t gt__numel(const gt__strided &g) {
    int64_t n = 1;
    for (int d = 0; d < g.nd; d++) n *= g.shape[d];
    return n;
}

__device__ inline void gt__offsets(const gt__strided &g, int64_t i, int64_t *o0, int64_t *o1) {
    if (g.nd == 1) { /* one run (i < shape[0]): no division */
        *o0 = i * g.s0[0];
        *o1 = i * g.s1[0];
        return;
    }
    int64_t a = 0, b = 0;
    for (int d = g.nd - 1; d >= 0; d--) {
        int64_t k = i % g.shape[d];
        i /= g.shape[d];
        a += k * g.s0[d];
        b += k * g.s1[d];
    }
    *o0 = a;
    *o1 = b;
}

/* --- binary ------------------------------------------------------------------------------------ */
__global__ void gt__k_binary_contig(gt_binop op, int64_t n, const float *a, const float *b, float *out) {
    GT_KLOOP(i, n) out[i] = gt__bin(op, a[i], b[i]);
}

__global__ void gt__k_binary(gt_binop op, gt__strided g, int64_t n, const float *a, const float *b, float *out) {
    GT_KLOOP(i, n) {
        int64_t oa, ob;
        gt__offsets(g, i, &oa, &ob);
        out[i] = gt__bin(op, a[oa], b[ob]);
    }
}

static void gt__binary(gt_binop op, int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                       const float *b, const int64_t *sb, float *out) {
    gt__strided g = gt__collapse(ndim, shape, sa, sb);
    int64_t n = gt__numel(g);
    if (n <= 0) return;
    if (g.nd == 1 && g.s0[0] == 1 && g.s1[0] == 1) GT_LAUNCH(gt__k_binary_contig, GT_GRID(n), GT_THREADS, op, n, a, b, out);
    else GT_LAUNCH(gt__k_binary, GT_GRID(n), GT_THREADS, op, g, n, a, b, out);
}

/* --- unary and copy ---------------------------------------------------------------------------- */
__global__ void gt__k_unary(gt_unop op, float p0, float p1, gt__strided g, int64_t n, const float *x, float *out) {
    GT_KLOOP(i, n) {
        int64_t ox, unused;
        gt__offsets(g, i, &ox, &unused);
        out[i] = gt__un(op, x[ox], p0, p1);
    }
}

static void gt__unary(gt_unop op, float p0, float p1, int ndim, const int64_t *shape, const float *x,
                      const int64_t *sx, float *out) {
    gt__strided g = gt__collapse(ndim, shape, sx, NULL);
    int64_t n = gt__numel(g);
    if (n <= 0) return;
    GT_LAUNCH(gt__k_unary, GT_GRID(n), GT_THREADS, op, p0, p1, g, n, x, out);
}

__global__ void gt__k_copy(gt__strided g, int64_t n, const float *x, float *out) {
    GT_KLOOP(i, n) {
        int64_t ox, unused;
        gt__offsets(g, i, &ox, &unused);
        out[i] = x[ox];
    }
}

static void gt__copy(int ndim, const int64_t *shape, const float *x, const int64_t *sx, float *out) {
    gt__strided g = gt__collapse(ndim, shape, sx, NULL);
    int64_t n = gt__numel(g);
    if (n <= 0) return;
    GT_LAUNCH(gt__k_copy, GT_GRID(n), GT_THREADS, g, n, x, out);
}

__global__ void gt__k_copy_rows(int64_t rows, int64_t len, const float *src, int64_t src_ld, float *dst,
                                int64_t dst_ld) {
    GT_KLOOP(i, rows * len) {
        int64_t r = i / len, j = i % len;
        dst[r * dst_ld + j] = src[r * src_ld + j];
    }
}

static void gt__copy_rows(int64_t rows, int64_t len, const float *src, int64_t src_ld, float *dst, int64_t dst_ld) {
    if (rows <= 0 || len <= 0) return;
    GT_LAUNCH(gt__k_copy_rows, GT_GRID(rows * len), GT_THREADS, rows, len, src, src_ld, dst, dst_ld);
}

/* the inverse of copy: contiguous src into a strided out (a slice's gradient) */
__global__ void gt__k_copy_to_strided(gt__strided g, int64_t n, const float *src, float *out) {
    GT_KLOOP(i, n) {
        int64_t oo, unused;
        gt__offsets(g, i, &oo, &unused);
        out[oo] = src[i];
    }
}

static void gt__copy_to_strided(int ndim, const int64_t *shape, const float *src, float *out, const int64_t *so) {
    gt__strided g = gt__collapse(ndim, shape, so, NULL);
    int64_t n = gt__numel(g);
    if (n <= 0) return;
    GT_LAUNCH(gt__k_copy_to_strided, GT_GRID(n), GT_THREADS, g, n, src, out);
}

/* --- fill ---------------------------------------------------------------------------------------- */
__global__ void gt__k_fill(int64_t n, float v, float *out) {
    GT_KLOOP(i, n) out[i] = v;
}
__global__ void gt__k_fill_i32(int64_t n, int32_t v, int32_t *out) {
    GT_KLOOP(i, n) out[i] = v;
}

static void gt__fill(int64_t n, float v, float *out) {
    if (n > 0) GT_LAUNCH(gt__k_fill, GT_GRID(n), GT_THREADS, n, v, out);
}
static void gt__fill_i32(int64_t n, int32_t v, int32_t *out) {
    if (n > 0) GT_LAUNCH(gt__k_fill_i32, GT_GRID(n), GT_THREADS, n, v, out);
}

__global__ void gt__k_nonfinite_to_zero(int64_t n, float *x) {
    GT_KLOOP(i, n) {
        if (!isfinite(x[i])) x[i] = 0.0f;
    }
}
static void gt__nonfinite_to_zero(int64_t n, float *x) {
    if (n > 0) GT_LAUNCH(gt__k_nonfinite_to_zero, GT_GRID(n), GT_THREADS, n, x);
}

/* y = beta y + alpha x, the CPU's expression with its roundings (no contraction) */
__global__ void gt__k_axpby(int64_t n, float alpha, const float *x, float beta, float *y) {
    GT_KLOOP(i, n) y[i] = __fadd_rn(__fmul_rn(beta, y[i]), __fmul_rn(alpha, x[i]));
}
static void gt__axpby(int64_t n, float alpha, const float *x, float beta, float *y) {
    if (n > 0) GT_LAUNCH(gt__k_axpby, GT_GRID(n), GT_THREADS, n, alpha, x, beta, y);
}

/* --- Adam: the CPU's step, fmaf where it fuses, plain float operations elsewhere ------------------ */
__global__ void gt__k_adam(int64_t n, float *p, const float *g, float *m, float *v, float *vmax, float b1, float b2,
                           float a1, float a2, float wd, float eps, float neg_step, float bc2_sqrt) {
    const bool use_wd = wd != 0.0f, ams = vmax != NULL;
    GT_KLOOP(i, n) {
        float gi = use_wd ? fmaf(wd, p[i], g[i]) : g[i];
        float mi = fmaf(a1, gi, __fmul_rn(m[i], b1));
        float vi = fmaf(__fmul_rn(a2, gi), gi, __fmul_rn(v[i], b2));
        m[i] = mi;
        v[i] = vi;
        if (ams) {
            vmax[i] = vmax[i] > vi ? vmax[i] : vi;
            vi = vmax[i];
        }
        float denom = __fadd_rn(__fdiv_rn(sqrtf(vi), bc2_sqrt), eps);
        p[i] = __fadd_rn(p[i], __fdiv_rn(__fmul_rn(neg_step, mi), denom));
    }
}

static void gt__adam(int64_t n, float *p, const float *g, float *m, float *v, float *vmax, float b1, float b2,
                     float a1, float a2, float wd, float eps, float neg_step, float bc2_sqrt) {
    if (n > 0)
        GT_LAUNCH(gt__k_adam, GT_GRID(n), GT_THREADS, n, p, g, m, v, vmax, b1, b2, a1, a2, wd, eps, neg_step,
                  bc2_sqrt);
}

/* Dropout: one thread a block of four elements (one Philox call, formulas.h's, as the CPU's). */
__global__ void gt__k_dropout(int64_t n, uint64_t seed, uint64_t base, float p, float scale, const float *x, float *y,
                              float *mask) {
    GT_KLOOP(b, (n + 3) / 4) gt__dropout_block(b, n, seed, base, p, scale, x, y, mask);
}

static void gt__dropout(int64_t n, uint64_t seed, uint64_t base, float p, float scale, const float *x, float *y,
                        float *mask) {
    if (n > 0) GT_LAUNCH(gt__k_dropout, GT_GRID((n + 3) / 4), GT_THREADS, n, seed, base, p, scale, x, y, mask);
}

extern "C" void gt_cuda_own_kernels(gt_kernels *K) {
    K->binary = gt__binary;
    K->unary = gt__unary;
    K->copy = gt__copy;
    K->copy_rows = gt__copy_rows;
    K->fill = gt__fill;
    K->fill_i32 = gt__fill_i32;
    K->adam = gt__adam;
    K->axpby = gt__axpby;
    K->copy_to_strided = gt__copy_to_strided;
    K->nonfinite_to_zero = gt__nonfinite_to_zero;
    K->dropout = gt__dropout;
    gt__cuda_fill_reduce(K);
    gt__cuda_fill_pool(K);
    gt__cuda_fill_resample(K);
    gt__cuda_fill_bf16(K);
}
