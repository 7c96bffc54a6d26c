/* gantry's own CUDA kernels, pooling (src/backend/cpu/pool.c's semantics): average pooling and its
 * adjoint, max pooling (the index of the maximum as the CPU writes it), the per-plane gather and
 * scatter-add through indices, adaptive average pooling and its adjoint. P planes (P, H, W) ->
 * (P, OH, OW), contiguous. Forward kernels: one thread an output. Adjoints gather (one thread an
 * input element, summing the outputs whose windows hold it, in double), so nothing races; the
 * index scatter adds with atomicAdd (repeated indices sum, in no fixed order). */
#include "launch.h"

/* --- average pooling ---------------------------------------------------------------------------- */
/* The window of output (oh, ow) clamped to the input, and its divisor: the CPU's rule. */
__device__ inline int64_t gt__avg_window(const gt_pool2d_geom &g, int64_t oh, int64_t ow, int64_t *h0, int64_t *h1,
                                         int64_t *w0, int64_t *w1) {
    int64_t hs = oh * g.sh - g.ph, ws = ow * g.sw - g.pw;
    int64_t he = gt__min64(hs + g.kh, g.H + g.ph), we = gt__min64(ws + g.kw, g.W + g.pw);
    int64_t pool = (he - hs) * (we - ws);
    *h0 = gt__max64(hs, (int64_t)0);
    *w0 = gt__max64(ws, (int64_t)0);
    *h1 = gt__min64(he, g.H);
    *w1 = gt__min64(we, g.W);
    return g.count_include_pad ? pool : (*h1 - *h0) * (*w1 - *w0);
}

__global__ void gt__k_avg_pool(gt_pool2d_geom g, int64_t P, const float *x, float *y) {
    GT_KLOOP(t, P * g.OH * g.OW) {
        int64_t ow = t % g.OW, oh = (t / g.OW) % g.OH, p = t / (g.OH * g.OW);
        int64_t h0, h1, w0, w1;
        int64_t div = gt__avg_window(g, oh, ow, &h0, &h1, &w0, &w1);
        const float *xp = x + p * g.H * g.W;
        double s = 0.0;
        for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) s += xp[h * g.W + w];
        y[t] = div > 0 ? (float)(s / (double)div) : 0.0f;
    }
}

/* Outputs along one axis whose window [o*s - pad, o*s - pad + k) holds position i. */
__device__ inline void gt__windows_of(int64_t i, int k, int s, int pad, int64_t out, int64_t *lo, int64_t *hi) {
    int64_t a = i + pad - k + 1; /* o*s >= a */
    *lo = a <= 0 ? 0 : (a + s - 1) / s;
    *hi = gt__min64((i + pad) / s, out - 1); /* o*s <= i + pad */
}

__global__ void gt__k_avg_pool_bw(gt_pool2d_geom g, int64_t P, const float *gy, float *gx) {
    GT_KLOOP(t, P * g.H * g.W) {
        int64_t w = t % g.W, h = (t / g.W) % g.H, p = t / (g.H * g.W);
        int64_t oh0, oh1, ow0, ow1;
        gt__windows_of(h, g.kh, g.sh, g.ph, g.OH, &oh0, &oh1);
        gt__windows_of(w, g.kw, g.sw, g.pw, g.OW, &ow0, &ow1);
        const float *yp = gy + p * g.OH * g.OW;
        double s = 0.0;
        for (int64_t oh = oh0; oh <= oh1; oh++)
            for (int64_t ow = ow0; ow <= ow1; ow++) {
                int64_t h0, h1, w0, w1;
                int64_t div = gt__avg_window(g, oh, ow, &h0, &h1, &w0, &w1);
                if (div > 0) s += (double)yp[oh * g.OW + ow] / (double)div;
            }
        gx[t] = (float)s;
    }
}

static void gt__avg_pool2d(const gt_pool2d_geom *g, int64_t P, const float *x, float *y) {
    int64_t n = P * g->OH * g->OW;
    if (n > 0) GT_LAUNCH(gt__k_avg_pool, GT_GRID(n), GT_THREADS, *g, P, x, y);
}
static void gt__avg_pool2d_backward(const gt_pool2d_geom *g, int64_t P, const float *gy, float *gx) {
    int64_t n = P * g->H * g->W;
    if (n > 0) GT_LAUNCH(gt__k_avg_pool_bw, GT_GRID(n), GT_THREADS, *g, P, gy, gx);
}

/* --- max pooling: the first maximum wins ties, a NaN wins (the last one); idx = h*W + w ---------- */
__global__ void gt__k_max_pool(gt_pool2d_geom g, int64_t P, const float *x, float *y, int32_t *idx) {
    GT_KLOOP(t, P * g.OH * g.OW) {
        int64_t ow = t % g.OW, oh = (t / g.OW) % g.OH, p = t / (g.OH * g.OW);
        int64_t hs = oh * g.sh - g.ph, ws = ow * g.sw - g.pw;
        int64_t h0 = gt__max64(hs, (int64_t)0), h1 = gt__min64(hs + g.kh, g.H);
        int64_t w0 = gt__max64(ws, (int64_t)0), w1 = gt__min64(ws + g.kw, g.W);
        const float *xp = x + p * g.H * g.W;
        int64_t best = h0 * g.W + w0;
        float m = -INFINITY;
        for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) {
                float v = xp[h * g.W + w];
                if (v > m || isnan(v)) {
                    m = v;
                    best = h * g.W + w;
                }
            }
        y[t] = m;
        if (idx) idx[t] = (int32_t)best;
    }
}

static void gt__max_pool2d(const gt_pool2d_geom *g, int64_t P, const float *x, float *y, int32_t *idx) {
    int64_t n = P * g->OH * g->OW;
    if (n > 0) GT_LAUNCH(gt__k_max_pool, GT_GRID(n), GT_THREADS, *g, P, x, y, idx);
}

/* --- gather / scatter-add through per-plane indices -------------------------------------------- */
__global__ void gt__k_index_gather(int64_t P, int64_t Lin, int64_t Lout, const float *x, const int32_t *idx,
                                   float *y) {
    GT_KLOOP(t, P * Lout) y[t] = x[(t / Lout) * Lin + idx[t]];
}

__global__ void gt__k_zero(int64_t n, float *out) {
    GT_KLOOP(i, n) out[i] = 0.0f;
}

__global__ void gt__k_index_scatter(int64_t P, int64_t Lin, int64_t Lout, const float *gy, const int32_t *idx,
                                    float *gx) {
    GT_KLOOP(t, P * Lout) atomicAdd(gx + (t / Lout) * Lin + idx[t], gy[t]);
}

static void gt__index_gather(int64_t P, int64_t Lin, int64_t Lout, const float *x, const int32_t *idx, float *y) {
    if (P * Lout > 0) GT_LAUNCH(gt__k_index_gather, GT_GRID(P * Lout), GT_THREADS, P, Lin, Lout, x, idx, y);
}
static void gt__index_scatter(int64_t P, int64_t Lin, int64_t Lout, const float *gy, const int32_t *idx, float *gx) {
    if (P * Lin <= 0) return;
    GT_LAUNCH(gt__k_zero, GT_GRID(P * Lin), GT_THREADS, P * Lin, gx);
    if (Lout > 0) GT_LAUNCH(gt__k_index_scatter, GT_GRID(P * Lout), GT_THREADS, P, Lin, Lout, gy, idx, gx);
}

/* --- adaptive average pooling: window i covers floor(i*in/out) .. ceil((i+1)*in/out) ------------- */
__device__ inline int64_t gt__ad_start(int64_t i, int64_t out, int64_t in) { return (i * in) / out; }
__device__ inline int64_t gt__ad_end(int64_t i, int64_t out, int64_t in) { return ((i + 1) * in + out - 1) / out; }

__global__ void gt__k_adaptive(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    GT_KLOOP(t, P * OH * OW) {
        int64_t ow = t % OW, oh = (t / OW) % OH, p = t / (OH * OW);
        int64_t h0 = gt__ad_start(oh, OH, H), h1 = gt__ad_end(oh, OH, H);
        int64_t w0 = gt__ad_start(ow, OW, W), w1 = gt__ad_end(ow, OW, W);
        const float *xp = x + p * H * W;
        double s = 0.0;
        for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) s += xp[h * W + w];
        y[t] = (float)(s / (double)((h1 - h0) * (w1 - w0)));
    }
}

/* Outputs along one axis whose adaptive window holds i: start(o) <= i < end(o). */
__device__ inline void gt__ad_windows_of(int64_t i, int64_t in, int64_t out, int64_t *lo, int64_t *hi) {
    *lo = (i * out) / in;                      /* end(o) > i  <=>  o >= floor(i*out/in) */
    *hi = gt__min64(((i + 1) * out + in - 1) / in - 1, out - 1); /* start(o) <= i <=> o < (i+1)*out/in */
}

__global__ void gt__k_adaptive_bw(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                  float *gx) {
    GT_KLOOP(t, P * H * W) {
        int64_t w = t % W, h = (t / W) % H, p = t / (H * W);
        int64_t oh0, oh1, ow0, ow1;
        gt__ad_windows_of(h, H, OH, &oh0, &oh1);
        gt__ad_windows_of(w, W, OW, &ow0, &ow1);
        const float *yp = gy + p * OH * OW;
        double s = 0.0;
        for (int64_t oh = oh0; oh <= oh1; oh++) {
            int64_t hn = gt__ad_end(oh, OH, H) - gt__ad_start(oh, OH, H);
            for (int64_t ow = ow0; ow <= ow1; ow++) {
                int64_t wn = gt__ad_end(ow, OW, W) - gt__ad_start(ow, OW, W);
                s += (double)yp[oh * OW + ow] / (double)(hn * wn);
            }
        }
        gx[t] = (float)s;
    }
}

static void gt__adaptive(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y) {
    if (P * OH * OW > 0) GT_LAUNCH(gt__k_adaptive, GT_GRID(P * OH * OW), GT_THREADS, P, H, W, OH, OW, x, y);
}
static void gt__adaptive_bw(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy, float *gx) {
    if (P * H * W > 0) GT_LAUNCH(gt__k_adaptive_bw, GT_GRID(P * H * W), GT_THREADS, P, H, W, OH, OW, gy, gx);
}

void gt__cuda_fill_pool(gt_kernels *K) {
    K->avg_pool2d = gt__avg_pool2d;
    K->avg_pool2d_backward = gt__avg_pool2d_backward;
    K->max_pool2d = gt__max_pool2d;
    K->index_gather = gt__index_gather;
    K->index_scatter = gt__index_scatter;
    K->adaptive_avg_pool2d = gt__adaptive;
    K->adaptive_avg_pool2d_backward = gt__adaptive_bw;
}
