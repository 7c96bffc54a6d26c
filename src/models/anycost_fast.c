/* The anycost generator's modulated convolution without gradients (sampling, previews, reports):
 * the same function as gt__ac_mconv_fwd (src/models/anycost.c), written as a few loops around
 * one gt_conv2d instead of ~30 ops. At batch 1 a sub-generator's tensors are small and each op's
 * fixed cost (a tensor, a pass, a parallel region) was most of its time.
 *
 * Every sum runs over the input channels in ascending order from 0, so the sliced forward still
 * equals the full forward with the dropped channels' weights zeroed, bit for bit (trailing zero
 * terms change nothing). Not bit-equal to the op path (a GEMM sums in another order): a sample
 * with and without gradients agree to float rounding. */
#include <math.h>
#include <string.h>

#include "anycost_internal.h"

/* a . b over n in 16 lanes (vectorised; the style's sum over w_dim is not over channels, so its
 * order is free) */
static float gt__dot(const float *a, const float *b, int64_t n) {
    float lane[16] = {0};
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++) lane[l] += a[j + l] * b[j + l];
    float acc = 0.0f;
    for (int l = 0; l < 16; l++) acc += lane[l];
    for (; j < n; j++) acc += a[j] * b[j];
    return acc;
}

/* s (N, k_in) = (ws A[:k_in]^T + b[:k_in]) * cs. */
static void gt__style(const gt__ac_mconv *m, const float *ws, int64_t n, int64_t wd, int k_in, float cs, float *s) {
    const float *A = gt_data(m->mod_w), *b = gt_data(m->mod_b);
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < k_in; c++) {
            s[i * k_in + c] = (gt__dot(A + (int64_t)c * wd, ws + i * wd, wd) + b[c]) * cs;
        }
}

gt_tensor *gt__ac_mconv_fast(gt__ac_mconv *m, gt_tensor *x, gt_tensor *ws, int k_in, int k_out, bool up,
                             gt_tensor *noise) {
    if (!x || !ws) return NULL;
    ws = gt_contiguous(ws);
    x = gt_contiguous(x);
    if (!ws || !x) return NULL;
    const int64_t n = ws->shape[0], wd = ws->shape[1], H = x->shape[2], W = x->shape[3], HW = H * W;
    const int64_t xb = x->shape[0] == 1 ? 0 : x->shape[1] * HW; /* the constant input: one image for all */
    const float cs = 1.0f / sqrtf((float)(m->c_in * m->k * m->k));
    gt_tensor *st = gt_empty(GT_SHAPE(n, k_in));
    gt_tensor *xm = gt_empty(GT_SHAPE(n, k_in, H, W));
    if (!st || !xm) return NULL;
    float *s = gt_data(st);
    gt__style(m, gt_data(ws), n, wd, k_in, cs, s);
    const float *xp = gt_data(x);
    float *xmp = gt_data(xm);
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < k_in; c++) {
            const float *src = xp + i * xb + c * HW, sv = s[i * k_in + c];
            float *dst = xmp + (i * k_in + c) * HW;
            for (int64_t p = 0; p < HW; p++) dst[p] = src[p] * sv;
        }
    if (up) xm = gt_upsample_bilinear2d(xm, (int)H * 2, (int)W * 2);
    if (!xm) return NULL;
    const int64_t Ho = xm->shape[2], Wo = xm->shape[3], P = Ho * Wo, K = (int64_t)m->k * m->k;
    const float *Wt = gt_data(m->weight), *bias = gt_data(m->bias); /* weight (c_out, c_in, k, k) contiguous */
    const float *xq = gt_data(xm);
    if (m->torgb) { /* 1x1, no demodulation: y[o] = sum_i W[o, i] xm[i] + bias[o] */
        gt_tensor *y = gt_empty(GT_SHAPE(n, k_out, Ho, Wo));
        if (!y) return NULL;
        float *yp = gt_data(y);
        for (int64_t i = 0; i < n; i++)
            for (int o = 0; o < k_out; o++) {
                float *d = yp + (i * k_out + o) * P;
                for (int64_t p = 0; p < P; p++) d[p] = 0.0f;
                for (int c = 0; c < k_in; c++) {
                    const float wv = Wt[(int64_t)o * m->c_in + c], *src = xq + (i * k_in + c) * P;
                    for (int64_t p = 0; p < P; p++) d[p] += wv * src[p];
                }
                for (int64_t p = 0; p < P; p++) d[p] += bias[o];
            }
        return y;
    }
    /* the weight's first k_out rows and k_in input channels, contiguous */
    gt_tensor *Wc = m->weight;
    if (k_in < m->c_in || k_out < m->c_out) {
        Wc = gt_empty(GT_SHAPE(k_out, k_in, m->k, m->k));
        if (!Wc) return NULL;
        float *d = gt_data(Wc);
        for (int o = 0; o < k_out; o++) memcpy(d + o * k_in * K, Wt + (int64_t)o * m->c_in * K, sizeof(float) * k_in * K);
    }
    gt_tensor *y = gt_conv2d(xm, Wc, NULL, gt_conv_params_make(1, m->k / 2));
    if (!y) return NULL;
    /* demodulation, sqrt 2 folded in as the op path does: rsqrt(sum_i s_i^2 (sum_kk W^2) / 2 + 0.5e-8) */
    const float *wc = gt_data(Wc);
    float *yp = gt_data(y);
    const float *nz = noise ? gt_data(noise) : NULL, nstr = noise ? gt_data(m->noise_w)[0] * GT__AC_SQRT2 : 0.0f;
    const int64_t nzb = noise && noise->shape[0] > 1 ? P : 0;
    for (int o = 0; o < k_out; o++) {
        float q[GT__AC_FAST_MAX_IN];
        for (int c = 0; c < k_in; c++) {
            const float *wk = wc + ((int64_t)o * k_in + c) * K;
            float acc = 0.0f;
            for (int64_t t = 0; t < K; t++) acc += wk[t] * wk[t];
            q[c] = acc * 0.5f;
        }
        const float bo = bias[o] * GT__AC_SQRT2;
        for (int64_t i = 0; i < n; i++) {
            float acc = 0.0f;
            for (int c = 0; c < k_in; c++) acc += s[i * k_in + c] * s[i * k_in + c] * q[c];
            const float dv = 1.0f / sqrtf(acc + 0.5e-8f);
            float *d = yp + (i * k_out + o) * P;
            const float *np = nz ? nz + i * nzb : NULL;
            for (int64_t p = 0; p < P; p++) {
                float v = d[p] * dv + (np ? np[p] * nstr : 0.0f) + bo;
                d[p] = v > 0 ? v : 0.2f * v;
            }
        }
    }
    return y;
}

/* The mapping network without gradients: z (N, nz) contiguous -> w (N, w_dim), as gt_anycost_mapping. */
gt_tensor *gt__ac_mapping_fast(const gt__ac_g *g, gt_tensor *z) {
    z = gt_contiguous(z);
    if (!z) return NULL;
    const int64_t n = z->shape[0], wd = g->w_dim, width = wd > g->nz ? wd : g->nz;
    gt_tensor *out = gt_empty(GT_SHAPE(n, wd)), *tmp = gt_empty(GT_SHAPE(2, width));
    if (!out || !tmp) return NULL;
    float *a = gt_data(tmp), *b = a + width;
    for (int64_t i = 0; i < n; i++) {
        const float *zi = gt_data(z) + i * g->nz;
        double ms = 0.0; /* pixel norm */
        for (int j = 0; j < g->nz; j++) ms += (double)zi[j] * zi[j];
        const float r = 1.0f / sqrtf((float)(ms / g->nz) + 1e-8f);
        for (int j = 0; j < g->nz; j++) a[j] = zi[j] * r;
        int64_t fan = g->nz;
        for (int l = 0; l < g->n_mlp; l++) {
            const float sc = GT__AC_LR_MUL / sqrtf((float)fan), *W = gt_data(g->map_w[l]), *bb = gt_data(g->map_b[l]);
            for (int64_t j = 0; j < wd; j++) {
                float v = (gt__dot(W + j * fan, a, fan) * sc + bb[j] * GT__AC_LR_MUL) * GT__AC_SQRT2;
                b[j] = v > 0 ? v : 0.2f * v;
            }
            float *t = a;
            a = b, b = t;
            fan = wd;
        }
        memcpy(gt_data(out) + i * wd, a, sizeof(float) * (size_t)wd);
        a = gt_data(tmp), b = a + width;
    }
    return out;
}
