/* gantry's own CUDA kernels, resampling and embedding rows (src/backend/cpu/upsample.c,
 * grid_sample.c and kernels_cpu.c's semantics): nearest and bilinear (align_corners=false, PyTorch's
 * source index computed in float as the CPU does) upsampling/downsampling and their adjoints,
 * embedding gather and scatter-add, grid sampling (torch's grid_sample, the augmentations' warps)
 * and its adjoint. Forward kernels: one thread an output. The resampling adjoints gather (one thread
 * an input element, over the outputs that read it, in double); the embedding scatter and the grid
 * sampling adjoint add with atomicAdd (in no fixed order). */
#include "launch.h"
#include "../src/backend/formulas.h"

/* Weight with which output d reads input i along one axis. */
__device__ inline double gt__linear_weight(int64_t d, int64_t i, int64_t in, int64_t out) {
    int64_t i0, i1;
    float l0, l1;
    gt__linear_src(d, in, out, &i0, &i1, &l0, &l1);
    return (i0 == i ? (double)l0 : 0.0) + (i1 == i ? (double)l1 : 0.0);
}

/* A range of outputs holding every output that reads input i (each still checked exactly): the
 * source of output d is near (d + 0.5)*in/out, so d within a margin of i*out/in .. (i+1)*out/in. */
__device__ inline void gt__readers(int64_t i, int64_t in, int64_t out, int64_t lo_pad, int64_t *lo, int64_t *hi) {
    *lo = gt__max64(((i - lo_pad) * out) / in - 2, 0);
    *hi = gt__min64(((i + 1 + lo_pad) * out + in - 1) / in + 2, out - 1);
}

/* --- nearest ------------------------------------------------------------------------------------- */
__global__ void gt__k_nearest(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    GT_KLOOP(t, P * OH * OW) {
        int64_t ow = t % OW, oh = (t / OW) % OH, p = t / (OH * OW);
        y[t] = x[(p * H + gt__nearest_src(oh, H, OH)) * W + gt__nearest_src(ow, W, OW)];
    }
}

__global__ void gt__k_nearest_bw(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                 float *gx) {
    GT_KLOOP(t, P * H * W) {
        int64_t w = t % W, h = (t / W) % H, p = t / (H * W);
        int64_t oh0, oh1, ow0, ow1;
        gt__readers(h, H, OH, 0, &oh0, &oh1);
        gt__readers(w, W, OW, 0, &ow0, &ow1);
        const float *g = gy + p * OH * OW;
        double s = 0.0;
        for (int64_t oh = oh0; oh <= oh1; oh++) {
            if (gt__nearest_src(oh, H, OH) != h) continue;
            for (int64_t ow = ow0; ow <= ow1; ow++)
                if (gt__nearest_src(ow, W, OW) == w) s += g[oh * OW + ow];
        }
        gx[t] = (float)s;
    }
}

static void gt__nearest(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    if (P * OH * OW > 0) GT_LAUNCH(gt__k_nearest, GT_GRID(P * OH * OW), GT_THREADS, P, H, W, OH, OW, x, y);
}
static void gt__nearest_bw(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy, float *gx) {
    if (P * H * W > 0) GT_LAUNCH(gt__k_nearest_bw, GT_GRID(P * H * W), GT_THREADS, P, H, W, OH, OW, gy, gx);
}

/* --- bilinear ------------------------------------------------------------------------------------ */
__global__ void gt__k_bilinear(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    GT_KLOOP(t, P * OH * OW) {
        int64_t ow = t % OW, oh = (t / OW) % OH, p = t / (OH * OW);
        int64_t h0, h1, w0, w1;
        float a0, a1, b0, b1;
        gt__linear_src(oh, H, OH, &h0, &h1, &a0, &a1);
        gt__linear_src(ow, W, OW, &w0, &w1, &b0, &b1);
        const float *xp = x + p * H * W;
        double v = (double)a0 * b0 * xp[h0 * W + w0] + (double)a0 * b1 * xp[h0 * W + w1] +
                   (double)a1 * b0 * xp[h1 * W + w0] + (double)a1 * b1 * xp[h1 * W + w1];
        y[t] = (float)v;
    }
}

__global__ void gt__k_bilinear_bw(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                  float *gx) {
    GT_KLOOP(t, P * H * W) {
        int64_t w = t % W, h = (t / W) % H, p = t / (H * W);
        int64_t oh0, oh1, ow0, ow1;
        gt__readers(h, H, OH, 1, &oh0, &oh1);
        gt__readers(w, W, OW, 1, &ow0, &ow1);
        const float *g = gy + p * OH * OW;
        double s = 0.0;
        for (int64_t oh = oh0; oh <= oh1; oh++) {
            double a = gt__linear_weight(oh, h, H, OH);
            if (a == 0.0) continue;
            for (int64_t ow = ow0; ow <= ow1; ow++) s += a * gt__linear_weight(ow, w, W, OW) * g[oh * OW + ow];
        }
        gx[t] = (float)s;
    }
}

static void gt__bilinear(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    if (P * OH * OW > 0) GT_LAUNCH(gt__k_bilinear, GT_GRID(P * OH * OW), GT_THREADS, P, H, W, OH, OW, x, y);
}
static void gt__bilinear_bw(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy, float *gx) {
    if (P * H * W > 0) GT_LAUNCH(gt__k_bilinear_bw, GT_GRID(P * H * W), GT_THREADS, P, H, W, OH, OW, gy, gx);
}

/* --- embedding rows: out[i, :] = w[idx[i], :] (w strided); out[idx[i], :] += g[i, :] ------------- */
__global__ void gt__k_embed_gather(const float *w, int64_t ws0, int64_t ws1, const int32_t *idx, int64_t n,
                                   int64_t dim, float *out) {
    GT_KLOOP(t, n * dim) {
        int64_t i = t / dim, j = t % dim;
        out[t] = w[(int64_t)idx[i] * ws0 + j * ws1];
    }
}

__global__ void gt__k_embed_scatter(const float *g, const int32_t *idx, int64_t n, int64_t dim, float *out) {
    GT_KLOOP(t, n * dim) {
        int64_t i = t / dim, j = t % dim;
        atomicAdd(out + (int64_t)idx[i] * dim + j, g[t]);
    }
}

static void gt__embed_gather(const float *w, int64_t ws0, int64_t ws1, const int32_t *idx, int64_t n, int64_t dim,
                             float *out) {
    if (n * dim > 0) GT_LAUNCH(gt__k_embed_gather, GT_GRID(n * dim), GT_THREADS, w, ws0, ws1, idx, n, dim, out);
}
static void gt__embed_scatter(const float *g, const int32_t *idx, int64_t n, int64_t dim, float *out) {
    if (n * dim > 0) GT_LAUNCH(gt__k_embed_scatter, GT_GRID(n * dim), GT_THREADS, g, idx, n, dim, out);
}

/* --- grid sampling (formulas.h's gt__gs_taps4, the CPU's arithmetic): one thread an output point of
 * a plane, its taps computed on the spot; the adjoint zeroes the planes, then adds each output's
 * share into its taps with atomicAdd (the order of those sums is not fixed) ---------------------- */
__global__ void gt__k_gs(bool adjoint, int64_t C, int64_t H, int64_t W, int64_t L, int64_t T, bool bilinear, int pad,
                         bool align, const float *grid, const float *src, float *dst) {
    GT_KLOOP(t, T) {
        int64_t l = t % L, p = t / L, n = p / C;
        int32_t i[4];
        float w[4];
        gt__gs_taps4(grid[(n * L + l) * 2], grid[(n * L + l) * 2 + 1], H, W, bilinear, pad, align, i, w);
        const int nt = bilinear ? 4 : 1;
        if (adjoint) {
            float *xp = dst + p * H * W;
            for (int k = 0; k < nt; k++)
                if (i[k] >= 0) atomicAdd(xp + i[k], src[t] * w[k]);
        } else {
            const float *xp = src + p * H * W;
            float acc = 0.0f;
            for (int k = 0; k < nt; k++)
                if (i[k] >= 0) acc += xp[i[k]] * w[k];
            dst[t] = acc;
        }
    }
}

static __global__ void gt__k_gs_zero(int64_t n, float *x) {
    GT_KLOOP(t, n) x[t] = 0.0f;
}

static bool gt__grid_sample(bool adjoint, int64_t N, int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                            bool bilinear, int pad, bool align, const float *grid, const float *src, float *dst) {
    const int64_t L = Ho * Wo, T = N * C * L;
    if (adjoint && N * C * H * W > 0) GT_LAUNCH(gt__k_gs_zero, GT_GRID(N * C * H * W), GT_THREADS, N * C * H * W, dst);
    if (T > 0)
        GT_LAUNCH(gt__k_gs, GT_GRID(T), GT_THREADS, adjoint, C, H, W, L, T, bilinear, pad, align, grid, src, dst);
    return true;
}

void gt__cuda_fill_resample(gt_kernels *K) {
    K->upsample_nearest2d = gt__nearest;
    K->upsample_nearest2d_backward = gt__nearest_bw;
    K->upsample_bilinear2d = gt__bilinear;
    K->upsample_bilinear2d_backward = gt__bilinear_bw;
    K->embed_gather = gt__embed_gather;
    K->embed_scatter = gt__embed_scatter;
    K->grid_sample = gt__grid_sample;
}
