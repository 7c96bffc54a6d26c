/* Elementwise kernels: a naive strided reference and fast paths (contiguous,
 * collapsed dims, OpenMP). */
#include "elementwise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../internal.h"
#include "../formulas.h"

/* --- naive: one strided loop ------------------------------------------- */
void gt_naive_binary(gt_binop op, int ndim, const int64_t *shape, const float *a, const int64_t *sa, const float *b,
                     const int64_t *sb, float *out) {
    int64_t n = gt__shape_numel(ndim, shape);
    for (int64_t i = 0; i < n; i++) {
        int64_t r = i, oa = 0, ob = 0;
        for (int d = ndim - 1; d >= 0; d--) {
            int64_t k = r % shape[d];
            r /= shape[d];
            oa += k * sa[d];
            ob += k * sb[d];
        }
        out[i] = gt__bin(op, a[oa], b[ob]);
    }
}

void gt_naive_unary(gt_unop op, float p0, float p1, int ndim, const int64_t *shape, const float *x, const int64_t *sx,
                    float *out) {
    int64_t n = gt__shape_numel(ndim, shape);
    for (int64_t i = 0; i < n; i++) {
        int64_t r = i, o = 0;
        for (int d = ndim - 1; d >= 0; d--) {
            o += (r % shape[d]) * sx[d];
            r /= shape[d];
        }
        out[i] = gt__un(op, x[o], p0, p1);
    }
}

void gt_naive_sum(int ndim, const int64_t *shape, const bool *reduce, const float *x, float *out) {
    int64_t kept = 1;
    for (int d = 0; d < ndim; d++)
        if (!reduce[d]) kept *= shape[d];
    for (int64_t j = 0; j < kept; j++) out[j] = 0.0f;
    int64_t n = gt__shape_numel(ndim, shape);
    for (int64_t i = 0; i < n; i++) {
        int64_t r = i, o = 0, mul = 1;
        for (int d = ndim - 1; d >= 0; d--) {
            int64_t k = r % shape[d];
            r /= shape[d];
            if (!reduce[d]) {
                o += k * mul;
                mul *= shape[d];
            }
        }
        out[o] += x[i];
    }
}

/* --- fast: collapse dims, then an inner contiguous/strided run ---------- */
/* Merge adjacent dims that are contiguous in every operand. Returns new ndim. */
static int gt__collapse(int ndim, int64_t *shape, int64_t *s0, int64_t *s1) {
    if (ndim == 0) {
        shape[0] = 1;
        s0[0] = 0;
        if (s1) s1[0] = 0;
        return 1;
    }
    int m = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 1 && ndim > 1) continue;
        if (m > 0 && s0[m - 1] == s0[d] * shape[d] && (!s1 || s1[m - 1] == s1[d] * shape[d])) {
            shape[m - 1] *= shape[d];
            s0[m - 1] = s0[d];
            if (s1) s1[m - 1] = s1[d];
        } else {
            shape[m] = shape[d];
            s0[m] = s0[d];
            if (s1) s1[m] = s1[d];
            m++;
        }
    }
    if (m == 0) {
        shape[0] = 1;
        s0[0] = 0;
        if (s1) s1[0] = 0;
        m = 1;
    }
    return m;
}

void gt_cpu_binary(gt_binop op, int ndim, const int64_t *shape_in, const float *a, const int64_t *sa_in,
                   const float *b, const int64_t *sb_in, float *out) {
    int64_t shape[GT_MAX_DIMS + 1], sa[GT_MAX_DIMS + 1], sb[GT_MAX_DIMS + 1];
    memcpy(shape, shape_in, sizeof(int64_t) * ndim);
    memcpy(sa, sa_in, sizeof(int64_t) * ndim);
    memcpy(sb, sb_in, sizeof(int64_t) * ndim);
    int nd = gt__collapse(ndim, shape, sa, sb);
    int64_t inner = shape[nd - 1], ia = sa[nd - 1], ib = sb[nd - 1];
    int64_t outer = gt__shape_numel(nd - 1, shape);
    int64_t total = outer * inner;
#pragma omp parallel for schedule(static) if (total > GT_PAR_MIN && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
        int64_t r = o, oa = 0, ob = 0;
        for (int d = nd - 2; d >= 0; d--) {
            int64_t k = r % shape[d];
            r /= shape[d];
            oa += k * sa[d];
            ob += k * sb[d];
        }
        const float *pa = a + oa, *pb = b + ob;
        float *po = out + o * inner;
        if (ia == 1 && ib == 1) {
            switch (op) {
            case GT_BIN_ADD: for (int64_t i = 0; i < inner; i++) po[i] = pa[i] + pb[i]; break;
            case GT_BIN_SUB: for (int64_t i = 0; i < inner; i++) po[i] = pa[i] - pb[i]; break;
            case GT_BIN_MUL: for (int64_t i = 0; i < inner; i++) po[i] = pa[i] * pb[i]; break;
            default: for (int64_t i = 0; i < inner; i++) po[i] = gt__bin(op, pa[i], pb[i]);
            }
        } else if (ia == 1 && ib == 0) {
            float bv = pb[0];
            switch (op) {
            case GT_BIN_ADD: for (int64_t i = 0; i < inner; i++) po[i] = pa[i] + bv; break;
            case GT_BIN_MUL: for (int64_t i = 0; i < inner; i++) po[i] = pa[i] * bv; break;
            default: for (int64_t i = 0; i < inner; i++) po[i] = gt__bin(op, pa[i], bv);
            }
        } else {
            for (int64_t i = 0; i < inner; i++) po[i] = gt__bin(op, pa[i * ia], pb[i * ib]);
        }
    }
    /* a single long row: parallelise inside it */
}

void gt_cpu_unary(gt_unop op, float p0, float p1, int ndim, const int64_t *shape_in, const float *x,
                  const int64_t *sx_in, float *out) {
    int64_t shape[GT_MAX_DIMS + 1], sx[GT_MAX_DIMS + 1];
    memcpy(shape, shape_in, sizeof(int64_t) * ndim);
    memcpy(sx, sx_in, sizeof(int64_t) * ndim);
    int nd = gt__collapse(ndim, shape, sx, NULL);
    int64_t n = gt__shape_numel(nd, shape);
    if (nd == 1 && sx[0] == 1) {
        switch (op) {
        case GT_UN_RELU:
#pragma omp parallel for simd schedule(static) if (parallel: n > GT_PAR_MIN)
            for (int64_t i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : 0.0f;
            return;
        case GT_UN_MUL_SCALAR:
#pragma omp parallel for simd schedule(static) if (parallel: n > GT_PAR_MIN)
            for (int64_t i = 0; i < n; i++) out[i] = x[i] * p0;
            return;
        case GT_UN_ADD_SCALAR:
#pragma omp parallel for simd schedule(static) if (parallel: n > GT_PAR_MIN)
            for (int64_t i = 0; i < n; i++) out[i] = x[i] + p0;
            return;
        /* the activations and masks every GAN step runs: branch-free, vectorised */
        case GT_UN_LEAKY_RELU:
#pragma omp parallel for simd schedule(static) if (parallel: n > GT_PAR_MIN)
            for (int64_t i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : x[i] * p0;
            return;
        case GT_UN_LEAKY_COEF:
#pragma omp parallel for simd schedule(static) if (parallel: n > GT_PAR_MIN)
            for (int64_t i = 0; i < n; i++) out[i] = x[i] > 0 ? 1.0f : p0;
            return;
        case GT_UN_GT:
#pragma omp parallel for simd schedule(static) if (parallel: n > GT_PAR_MIN)
            for (int64_t i = 0; i < n; i++) out[i] = x[i] > p0 ? 1.0f : 0.0f;
            return;
        default:
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN / 8)
            for (int64_t i = 0; i < n; i++) out[i] = gt__un(op, x[i], p0, p1);
            return;
        }
    }
    int64_t inner = shape[nd - 1], is = sx[nd - 1], outer = n / (inner ? inner : 1);
    const bool copy = op == GT_UN_MUL_SCALAR && p0 == 1.0f;
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
        int64_t r = o, ox = 0;
        for (int d = nd - 2; d >= 0; d--) {
            ox += (r % shape[d]) * sx[d];
            r /= shape[d];
        }
        if (copy && is == 1) /* a strided copy (gt_contiguous of a slice): rows of plain copies */
            memcpy(out + o * inner, x + ox, (size_t)inner * sizeof(float));
        else
            for (int64_t i = 0; i < inner; i++) out[o * inner + i] = gt__un(op, x[ox + i * is], p0, p1);
    }
}

void gt_cpu_copy(int ndim, const int64_t *shape, const float *x, const int64_t *sx, float *out) {
    gt_cpu_unary(GT_UN_MUL_SCALAR, 1.0f, 0.0f, ndim, shape, x, sx, out);
}

/* Sum: collapse runs of reduced / kept dims, then either reduce the inner
 * run (rows) or accumulate rows into the kept inner run (columns). */
void gt_cpu_sum(int ndim, const int64_t *shape_in, const bool *reduce_in, const float *x, float *out) {
    int64_t shape[GT_MAX_DIMS];
    bool red[GT_MAX_DIMS];
    int m = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape_in[d] == 1) continue;
        if (m > 0 && red[m - 1] == reduce_in[d]) shape[m - 1] *= shape_in[d];
        else {
            shape[m] = shape_in[d];
            red[m] = reduce_in[d];
            m++;
        }
    }
    if (m == 0) {
        out[0] = x[0];
        return;
    }
    if (m == 1 && red[0]) { /* total sum */
        int64_t n = shape[0];
        double acc = 0.0;
#pragma omp parallel for reduction(+ : acc) schedule(static) if (n > GT_PAR_MIN)
        for (int64_t i = 0; i < n; i++) acc += x[i];
        out[0] = (float)acc;
        return;
    }
    if (m == 2 && !red[0] && red[1]) { /* (kept, reduced): row sums */
        int64_t K = shape[0], R = shape[1];
#pragma omp parallel for schedule(static) if (K * R > GT_PAR_MIN && K > 1)
        for (int64_t k = 0; k < K; k++) {
            float acc = 0.0f;
            const float *p = x + k * R;
            for (int64_t r = 0; r < R; r++) acc += p[r];
            out[k] = acc;
        }
        return;
    }
    if (m == 2 && red[0] && !red[1]) { /* (reduced, kept): column sums */
        int64_t R = shape[0], K = shape[1];
#pragma omp parallel for schedule(static) if (K * R > GT_PAR_MIN && K >= 64)
        for (int64_t k0 = 0; k0 < K; k0 += 64) {
            int64_t k1 = GT_MIN(K, k0 + 64);
            for (int64_t k = k0; k < k1; k++) out[k] = 0.0f;
            for (int64_t r = 0; r < R; r++) {
                const float *p = x + r * K;
                for (int64_t k = k0; k < k1; k++) out[k] += p[k];
            }
        }
        return;
    }
    if (m == 3 && red[0] && !red[1] && red[2]) { /* (R0, K, R1): per-channel sums, as in batch norm */
        int64_t R0 = shape[0], K = shape[1], R1 = shape[2];
#pragma omp parallel for schedule(static) if (R0 * K * R1 > GT_PAR_MIN && K > 1)
        for (int64_t k = 0; k < K; k++) {
            float acc = 0.0f;
            for (int64_t a = 0; a < R0; a++) {
                const float *p = x + (a * K + k) * R1;
                float s = 0.0f;
                for (int64_t r = 0; r < R1; r++) s += p[r];
                acc += s;
            }
            out[k] = acc;
        }
        return;
    }
    gt_naive_sum(m, shape, red, x, out);
}
