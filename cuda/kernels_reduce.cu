/* gantry's own CUDA kernels, the reductions: sum over any set of dims, max along a dim, and batch
 * norm's statistics, preparation, application and backward (src/backend/cpu/norm.c's semantics:
 * biased variance; the backward's `training` terms as there). Every sum accumulates in double:
 * either one block an output (threads stride over the reduced elements, then a shared-memory tree)
 * or one thread an output (a sequential double sum), whichever reads memory in order. */
#include "launch.h"

/* --- sum ------------------------------------------------------------------------------------------- */
/* x contiguous; its collapsed dims split into kept ones (the output's, in order) and reduced ones,
 * each with x's element strides. */
struct gt__sumgeom {
    int nk, nr;
    int64_t ks[GT_MAX_DIMS], kst[GT_MAX_DIMS], rs[GT_MAX_DIMS], rst[GT_MAX_DIMS];
};

__device__ inline int64_t gt__off(int n, const int64_t *shape, const int64_t *stride, int64_t i) {
    if (n == 1) return i * stride[0]; /* one run (i < shape[0]): no division */
    int64_t o = 0;
    for (int d = n - 1; d >= 0; d--) {
        o += (i % shape[d]) * stride[d];
        i /= shape[d];
    }
    return o;
}

/* One block an output; the block's threads read the reduced elements in order. */
__global__ void gt__k_sum_block(gt__sumgeom g, int64_t kept, int64_t R, const float *x, float *out) {
    __shared__ double buf[GT_THREADS];
    GT_BLOOP(j, kept) {
        int64_t base = gt__off(g.nk, g.ks, g.kst, j);
        double acc = 0.0;
        GT_TLOOP(q, R) acc += x[base + gt__off(g.nr, g.rs, g.rst, q)];
        acc = gt__block_sum(acc, buf);
        if (threadIdx.x == 0) out[j] = (float)acc;
    }
}

/* One thread an output; neighbouring threads read neighbouring kept elements. */
__global__ void gt__k_sum_thread(gt__sumgeom g, int64_t kept, int64_t R, const float *x, float *out) {
    GT_KLOOP(j, kept) {
        int64_t base = gt__off(g.nk, g.ks, g.kst, j);
        double acc = 0.0;
        for (int64_t q = 0; q < R; q++) acc += x[base + gt__off(g.nr, g.rs, g.rst, q)];
        out[j] = (float)acc;
    }
}

static void gt__sum(int ndim, const int64_t *shape, const bool *reduce, const float *x, float *out) {
    /* collapse: drop size-1 dims, merge neighbours reduced alike (x is contiguous) */
    int64_t sh[GT_MAX_DIMS], st[GT_MAX_DIMS];
    bool red[GT_MAX_DIMS];
    int m = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 1) continue;
        if (m > 0 && red[m - 1] == reduce[d]) sh[m - 1] *= shape[d];
        else {
            sh[m] = shape[d];
            red[m] = reduce[d];
            m++;
        }
    }
    int64_t s = 1;
    for (int d = m - 1; d >= 0; d--) {
        st[d] = s;
        s *= sh[d];
    }
    gt__sumgeom g;
    g.nk = g.nr = 0;
    int64_t kept = 1, R = 1;
    for (int d = 0; d < m; d++) {
        if (red[d]) {
            g.rs[g.nr] = sh[d];
            g.rst[g.nr++] = st[d];
            R *= sh[d];
        } else {
            g.ks[g.nk] = sh[d];
            g.kst[g.nk++] = st[d];
            kept *= sh[d];
        }
    }
    if (kept <= 0) return;
    /* rows (the innermost dim reduced), or few outputs over many elements: a block each (short rows:
     * a thread each, not a block of mostly idle threads) */
    bool rows = m > 0 && red[m - 1];
    if (R >= 64 && (rows || (kept < 1024 && R >= 4096)))
        GT_LAUNCH(gt__k_sum_block, gt__grid(kept, 1), GT_THREADS, g, kept, R, x, out);
    else GT_LAUNCH(gt__k_sum_thread, GT_GRID(kept), GT_THREADS, g, kept, R, x, out);
}

/* --- max along the middle of (outer, L, inner): the first maximum, NaN wins (the first NaN) ------- */
__global__ void gt__k_max_dim(int64_t outer, int64_t L, int64_t inner, const float *x, float *out, float *onehot) {
    GT_KLOOP(t, outer * inner) {
        int64_t o = t / inner, j = t % inner;
        const float *p = x + o * L * inner + j;
        int64_t best = 0;
        for (int64_t l = 1; l < L; l++)
            if (p[l * inner] > p[best * inner] || (isnan(p[l * inner]) && !isnan(p[best * inner]))) best = l;
        out[t] = p[best * inner];
        if (onehot) onehot[o * L * inner + best * inner + j] = 1.0f;
    }
}

static void gt__max_dim(int64_t outer, int64_t L, int64_t inner, const float *x, float *out, float *onehot) {
    if (outer <= 0 || inner <= 0 || L <= 0) return;
    GT_LAUNCH(gt__k_max_dim, GT_GRID(outer * inner), GT_THREADS, outer, L, inner, x, out, onehot);
}

/* --- batch norm over (N, C, S): channel c of sample n is S floats at (n*C + c)*S ----------------- */
/* Calls f(k) for every element k of channel c, spread over the threads of the block: plane by plane
 * (no division) when planes are at least a block long, else over the flat index. */
template <class F> __device__ inline void gt__bn_each(int64_t N, int64_t C, int64_t S, int64_t c, F f) {
    if (S == 1) {
        GT_TLOOP(n, N) f(n * C + c);
    } else if (S >= (int64_t)blockDim.x) {
        for (int64_t n = 0; n < N; n++) {
            const int64_t base = (n * C + c) * S;
            GT_TLOOP(i, S) f(base + i);
        }
    } else {
        GT_TLOOP(q, N * S) f(((q / S) * C + c) * S + q % S);
    }
}

/* One block a channel: the mean, then the mean squared deviation from it (two passes, as naive). */
__global__ void gt__k_bn_stats(int64_t N, int64_t C, int64_t S, const float *x, float *mean, float *var) {
    __shared__ double buf[GT_THREADS];
    const int64_t M = N * S;
    GT_BLOOP(c, C) {
        double s = 0.0;
        gt__bn_each(N, C, S, c, [&](int64_t k) { s += x[k]; });
        double m = gt__block_sum(s, buf) / (double)M;
        double v = 0.0;
        gt__bn_each(N, C, S, c, [&](int64_t k) {
            double d = (double)x[k] - m;
            v += d * d;
        });
        v = gt__block_sum(v, buf);
        if (threadIdx.x == 0) {
            mean[c] = (float)m;
            var[c] = (float)(v / (double)M);
        }
    }
}

static void gt__bn_stats(int64_t N, int64_t C, int64_t S, const float *x, float *mean, float *var) {
    if (C <= 0) return;
    GT_LAUNCH(gt__k_bn_stats, gt__grid(C, 1), GT_THREADS, N, C, S, x, mean, var);
}

__global__ void gt__k_bn_prepare(int64_t C, bool training, double M, float momentum, float eps, float *rm,
                                 float *rv, float *mean, float *var) {
    GT_KLOOP(c, C) {
        if (training) {
            if (rm) rm[c] = (float)((1.0 - momentum) * rm[c] + (double)momentum * mean[c]);
            if (rv) rv[c] = (float)((1.0 - momentum) * rv[c] + (double)momentum * var[c] * M / (M - 1.0));
            var[c] = (float)(1.0 / sqrt((double)var[c] + eps));
        } else {
            mean[c] = rm[c];
            var[c] = (float)(1.0 / sqrt((double)rv[c] + eps));
        }
    }
}

static void gt__bn_prepare(int64_t C, bool training, double M, float momentum, float eps, float *rm, float *rv,
                           float *mean, float *var) {
    if (C > 0) GT_LAUNCH(gt__k_bn_prepare, GT_GRID(C), GT_THREADS, C, training, M, momentum, eps, rm, rv, mean, var);
}

__global__ void gt__k_bn_apply(int64_t N, int64_t C, int64_t S, const float *x, const float *mean,
                               const float *invstd, const float *w, const float *b, float *y) {
    GT_KLOOP(k, N * C * S) {
        int64_t c = (k / S) % C;
        y[k] = (x[k] - mean[c]) * invstd[c] * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
    }
}

static void gt__bn_apply(int64_t N, int64_t C, int64_t S, const float *x, const float *mean, const float *invstd,
                         const float *w, const float *b, float *y) {
    if (N * C * S > 0) GT_LAUNCH(gt__k_bn_apply, GT_GRID(N * C * S), GT_THREADS, N, C, S, x, mean, invstd, w, b, y);
}

/* One block a channel: sum gy and sum gy*xhat (double), then gx over the channel (naive's formula). */
__global__ void gt__k_bn_backward(int64_t N, int64_t C, int64_t S, const float *x, const float *gy,
                                  const float *mean, const float *invstd, const float *w, bool training, float *gx,
                                  float *gw, float *gb) {
    __shared__ double buf[GT_THREADS];
    const int64_t M = N * S;
    GT_BLOOP(c, C) {
        double sg = 0.0, sgh = 0.0, mc = mean[c], is = invstd[c];
        gt__bn_each(N, C, S, c, [&](int64_t k) {
            sg += gy[k];
            sgh += (double)gy[k] * ((double)x[k] - mc) * is;
        });
        sg = gt__block_sum(sg, buf);
        sgh = gt__block_sum(sgh, buf);
        if (threadIdx.x == 0) {
            if (gw) gw[c] = (float)sgh;
            if (gb) gb[c] = (float)sg;
        }
        if (!gx) continue;
        double k1 = is * (w ? w[c] : 1.0f);
        gt__bn_each(N, C, S, c, [&](int64_t k) {
            double xh = ((double)x[k] - mc) * is;
            gx[k] = (float)(training ? k1 * (gy[k] - sg / (double)M - xh * sgh / (double)M) : k1 * gy[k]);
        });
    }
}

static void gt__bn_backward(int64_t N, int64_t C, int64_t S, const float *x, const float *gy, const float *mean,
                            const float *invstd, const float *w, bool training, float *gx, float *gw, float *gb) {
    if (C <= 0) return;
    GT_LAUNCH(gt__k_bn_backward, gt__grid(C, 1), GT_THREADS, N, C, S, x, gy, mean, invstd, w, training, gx, gw, gb);
}

void gt__cuda_fill_reduce(gt_kernels *K) {
    K->sum = gt__sum;
    K->max_dim = gt__max_dim;
    K->bn_stats = gt__bn_stats;
    K->bn_prepare = gt__bn_prepare;
    K->bn_apply = gt__bn_apply;
    K->bn_backward = gt__bn_backward;
}
