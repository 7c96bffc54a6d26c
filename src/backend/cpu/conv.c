/* Convolution kernels (see conv.h).
 *
 * Fast path: a chunk of B images at a time, im2col lays the chunk's patches
 * out as one matrix col (C*kh*kw, B*Ho*Wo), so each group is ONE sgemm with
 * B*Ho*Wo columns (large even for the 4x4 maps at the end of a discriminator):
 *   fwd:    ytmp (O, B*P)   = W (O, K)      @ col (K, B*P)   then scatter to y
 *   data:   col  (K, B*P)   = W^T (K, O)    @ gy  (O, B*P)   then col2im to gx
 *   weight: gw   (O, K)    += gy (O, B*P)   @ col^T (B*P, K)
 * (K = C/g*kh*kw per group, P = Ho*Wo.) B is chosen so the workspace stays
 * near GT__WS_FLOATS; it is cached per thread so a training loop does not
 * churn the allocator. OpenBLAS threads the sgemm; OpenMP threads the
 * im2col / col2im / pack loops (never around an sgemm call). */
#include "conv.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "../../internal.h"

/* --- workspace -------------------------------------------------------------- */
static _Thread_local float *gt__ws;
static _Thread_local size_t gt__ws_cap; /* floats */

static float *gt__workspace(size_t n) {
    if (n <= gt__ws_cap) return gt__ws;
    gt__free(gt__ws);
    gt__ws = gt__alloc(n * sizeof(float));
    gt__ws_cap = gt__ws ? n : 0;
    return gt__ws;
}

void gt_cpu_conv_workspace_free(void) {
    gt__free(gt__ws);
    gt__ws = NULL;
    gt__ws_cap = 0;
}

/* Chunking policy. A chunk's im2col buffer aims at gt__target floats (so it
 * stays in cache between im2col and the sgemm); a chunk has at least
 * GT__MIN_COLS columns where the images allow, for an efficient sgemm. Images
 * with at least GT__MIN_COLS output positions each get their own sgemm (no
 * packing of y / gy). */
static int64_t gt__target, gt__min_cols;

void gt_cpu_conv_set_chunking(int64_t target_floats, int64_t min_cols) {
    gt__target = GT_MAX(target_floats, 0);
    gt__min_cols = GT_MAX(min_cols, 0);
}

static int64_t gt__chunk(const gt_conv_geom *g) {
    if (!gt__target) {
        const char *e = getenv("GT_CONV_WS_KB");
        gt__target = (e ? atoll(e) : 8192) * 1024 / 4;
        if (gt__target < 1) gt__target = 1;
    }
    if (!gt__min_cols) {
        const char *e = getenv("GT_CONV_MIN_COLS");
        gt__min_cols = e ? atoll(e) : 1024;
        if (gt__min_cols < 1) gt__min_cols = 1;
    }
    int64_t P = g->ho * g->wo, per = g->c * g->kh * g->kw * P;
    if (P >= gt__min_cols) return 1;
    int64_t b = GT_MAX(gt__target / (per > 0 ? per : 1), (gt__min_cols + P - 1) / P);
    return GT_MAX(1, GT_MIN(b, g->n));
}

/* --- index ranges -------------------------------------------------------------- */
static inline int64_t gt__ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* Output positions o in [*lo, *hi) whose input index o*s + off lies in [0, size). */
static inline void gt__range(int64_t off, int64_t s, int64_t size, int64_t nout, int64_t *lo, int64_t *hi) {
    int64_t l = off >= 0 ? 0 : gt__ceil_div(-off, s);
    int64_t h = gt__ceil_div(size - off, s);
    l = GT_MIN(l, nout);
    h = GT_MAX(l, GT_MIN(h, nout));
    *lo = l;
    *hi = h;
}

/* --- im2col / col2im / packing over a chunk of B images --------------------- */
/* col (C*kh*kw, B*P): row (c, i, j), column (b, oh, ow) = x[b, c, oh*sh-ph+i*dh, ow*sw-pw+j*dw] or 0. */
static void gt__im2col(const gt_conv_geom *g, const float *x, int64_t B, float *col) {
    const int64_t P = g->ho * g->wo, cols = B * P, kk = g->kh * g->kw, rows = g->c * kk;
    const int64_t H = g->h, W = g->w, Ho = g->ho, Wo = g->wo, sw = g->sw, CHW = g->c * H * W;
#pragma omp parallel for schedule(static) if (rows * cols > GT_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / kk, i = (r / g->kw) % g->kh, j = r % g->kw;
        int64_t offh = i * g->dh - g->ph, offw = j * g->dw - g->pw;
        int64_t hlo, hhi, wlo, whi;
        gt__range(offh, g->sh, H, Ho, &hlo, &hhi);
        gt__range(offw, sw, W, Wo, &wlo, &whi);
        float *dst = col + r * cols;
        if (P == 1) { /* one output position: a strided gather over the images */
            if (hlo == hhi || wlo == whi) memset(dst, 0, (size_t)B * sizeof(float));
            else
                for (int64_t b = 0, o = c * H * W + offh * W + offw; b < B; b++) dst[b] = x[b * CHW + o];
            continue;
        }
        for (int64_t b = 0; b < B; b++, dst += P) {
            const float *xp = x + b * CHW + c * H * W;
            memset(dst, 0, (size_t)(hlo * Wo) * sizeof(float));
            for (int64_t oh = hlo; oh < hhi; oh++) {
                const float *xr = xp + (oh * g->sh + offh) * W + offw;
                float *d = dst + oh * Wo;
                for (int64_t ow = 0; ow < wlo; ow++) d[ow] = 0.0f;
                if (sw == 1) memcpy(d + wlo, xr + wlo, (size_t)(whi - wlo) * sizeof(float));
                else
                    for (int64_t ow = wlo; ow < whi; ow++) d[ow] = xr[ow * sw];
                for (int64_t ow = whi; ow < Wo; ow++) d[ow] = 0.0f;
            }
            memset(dst + hhi * Wo, 0, (size_t)((Ho - hhi) * Wo) * sizeof(float));
        }
    }
}

/* gx[b, c] = bias[c] (or 0) + sum of the col entries that im2col would have read from it. */
static void gt__col2im(const gt_conv_geom *g, const float *col, int64_t B, const float *bias, float *gx) {
    const int64_t P = g->ho * g->wo, cols = B * P, kk = g->kh * g->kw;
    const int64_t H = g->h, W = g->w, Ho = g->ho, Wo = g->wo, sw = g->sw;
#pragma omp parallel for schedule(static) if (g->c * kk * cols > GT_PAR_MIN)
    for (int64_t t = 0; t < B * g->c; t++) {
        int64_t b = t / g->c, c = t % g->c;
        float *xp = gx + t * H * W;
        float b0 = bias ? bias[c] : 0.0f;
        for (int64_t k = 0; k < H * W; k++) xp[k] = b0;
        for (int64_t i = 0; i < g->kh; i++) {
            int64_t offh = i * g->dh - g->ph, hlo, hhi;
            gt__range(offh, g->sh, H, Ho, &hlo, &hhi);
            for (int64_t j = 0; j < g->kw; j++) {
                int64_t offw = j * g->dw - g->pw, wlo, whi;
                gt__range(offw, sw, W, Wo, &wlo, &whi);
                const float *src = col + ((c * g->kh + i) * g->kw + j) * cols + b * P;
                for (int64_t oh = hlo; oh < hhi; oh++) {
                    float *xr = xp + (oh * g->sh + offh) * W + offw;
                    const float *s = src + oh * Wo;
                    if (sw == 1)
                        for (int64_t ow = wlo; ow < whi; ow++) xr[ow] += s[ow];
                    else
                        for (int64_t ow = wlo; ow < whi; ow++) xr[ow * sw] += s[ow];
                }
            }
        }
    }
}

/* (B, R, P) -> (R, B*P). */
static void gt__pack(const float *src, int64_t B, int64_t R, int64_t P, float *dst) {
#pragma omp parallel for schedule(static) if (B * R * P > GT_PAR_MIN)
    for (int64_t t = 0; t < B * R; t++) {
        int64_t b = t / R, r = t % R;
        memcpy(dst + (r * B + b) * P, src + t * P, (size_t)P * sizeof(float));
    }
}

/* (R, B*P) -> (B, R, P), adding bias[r] (or not) on the way. */
static void gt__unpack_bias(const float *src, int64_t B, int64_t R, int64_t P, const float *bias, float *dst) {
#pragma omp parallel for schedule(static) if (B * R * P > GT_PAR_MIN)
    for (int64_t t = 0; t < B * R; t++) {
        int64_t b = t / R, r = t % R;
        const float *s = src + (r * B + b) * P;
        float *d = dst + t * P;
        if (bias) {
            float v = bias[r];
            for (int64_t k = 0; k < P; k++) d[k] = s[k] + v;
        } else {
            memcpy(d, s, (size_t)P * sizeof(float));
        }
    }
}

static void gt__add_bias(float *y, int64_t B, int64_t R, int64_t P, const float *bias) {
#pragma omp parallel for schedule(static) if (B * R * P > GT_PAR_MIN)
    for (int64_t t = 0; t < B * R; t++) {
        float v = bias[t % R], *d = y + t * P;
        for (int64_t k = 0; k < P; k++) d[k] += v;
    }
}

/* Workspace for a chunk of Bmax images: col, and the packed rows when B > 1. */
static float *gt__chunk_ws(const gt_conv_geom *g, int64_t Bmax, int64_t packed_rows) {
    int64_t P = g->ho * g->wo;
    return gt__workspace((size_t)(Bmax * P * (g->c * g->kh * g->kw + (Bmax > 1 ? packed_rows : 0))));
}

/* --- fast kernels ------------------------------------------------------------- */
bool gt_cpu_conv_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    const int64_t P = g->ho * g->wo, G = g->groups, Og = g->o / G, Kg = g->c / G * g->kh * g->kw;
    const int64_t Bmax = gt__chunk(g);
    float *ws = gt__chunk_ws(g, Bmax, g->o);
    if (!ws) return false;
    for (int64_t n0 = 0; n0 < g->n; n0 += Bmax) {
        int64_t B = GT_MIN(Bmax, g->n - n0), BP = B * P;
        float *col = ws, *yn = y + n0 * g->o * P;
        gt__im2col(g, x + n0 * g->c * g->h * g->w, B, col);
        if (Bmax == 1) { /* straight into y */
            for (int64_t gi = 0; gi < G; gi++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Og, (int)P, (int)Kg, 1.0f,
                            w + gi * Og * Kg, (int)Kg, col + gi * Kg * P, (int)P, 0.0f, yn + gi * Og * P, (int)P);
            if (b) gt__add_bias(yn, 1, g->o, P, b);
            continue;
        }
        float *out = ws + Bmax * P * G * Kg; /* (O, B*P) */
        for (int64_t gi = 0; gi < G; gi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Og, (int)BP, (int)Kg, 1.0f, w + gi * Og * Kg,
                        (int)Kg, col + gi * Kg * BP, (int)BP, 0.0f, out + gi * Og * BP, (int)BP);
        gt__unpack_bias(out, B, g->o, P, b, yn);
    }
    return true;
}

bool gt_cpu_conv_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx) {
    const int64_t P = g->ho * g->wo, G = g->groups, Og = g->o / G, Kg = g->c / G * g->kh * g->kw;
    const int64_t Bmax = gt__chunk(g);
    float *ws = gt__chunk_ws(g, Bmax, g->o);
    if (!ws) return false;
    for (int64_t n0 = 0; n0 < g->n; n0 += Bmax) {
        int64_t B = GT_MIN(Bmax, g->n - n0), BP = B * P;
        float *col = ws;
        const float *gyp = gy + n0 * g->o * P; /* (O, B*P) once packed */
        if (Bmax > 1) {
            float *pk = ws + Bmax * P * G * Kg;
            gt__pack(gyp, B, g->o, P, pk);
            gyp = pk;
        }
        for (int64_t gi = 0; gi < G; gi++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Kg, (int)BP, (int)Og, 1.0f, w + gi * Og * Kg,
                        (int)Kg, gyp + gi * Og * BP, (int)BP, 0.0f, col + gi * Kg * BP, (int)BP);
        gt__col2im(g, col, B, b, gx + n0 * g->c * g->h * g->w);
    }
    return true;
}

bool gt_cpu_conv_weight(const gt_conv_geom *g, const float *x, const float *gy, float *gw) {
    const int64_t P = g->ho * g->wo, G = g->groups, Og = g->o / G, Kg = g->c / G * g->kh * g->kw;
    const int64_t Bmax = gt__chunk(g);
    if (g->n == 0) {
        memset(gw, 0, (size_t)(g->o * Kg) * sizeof(float));
        return true;
    }
    float *ws = gt__chunk_ws(g, Bmax, g->o);
    if (!ws) return false;
    for (int64_t n0 = 0; n0 < g->n; n0 += Bmax) {
        int64_t B = GT_MIN(Bmax, g->n - n0), BP = B * P;
        float *col = ws;
        const float *gyp = gy + n0 * g->o * P; /* (O, B*P) once packed */
        gt__im2col(g, x + n0 * g->c * g->h * g->w, B, col);
        if (Bmax > 1) {
            float *pk = ws + Bmax * P * G * Kg;
            gt__pack(gyp, B, g->o, P, pk);
            gyp = pk;
        }
        float beta = n0 == 0 ? 0.0f : 1.0f;
        for (int64_t gi = 0; gi < G; gi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Og, (int)Kg, (int)BP, 1.0f, gyp + gi * Og * BP,
                        (int)BP, col + gi * Kg * BP, (int)BP, beta, gw + gi * Og * Kg, (int)Kg);
    }
    return true;
}

/* --- naive reference: direct loops ---------------------------------------------- */
#define GT__XIDX(g, n, c, ih, iw) ((((n) * (g)->c + (c)) * (g)->h + (ih)) * (g)->w + (iw))
#define GT__YIDX(g, n, o, oh, ow) ((((n) * (g)->o + (o)) * (g)->ho + (oh)) * (g)->wo + (ow))

void gt_naive_conv_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    int64_t Og = g->o / g->groups, Cg = g->c / g->groups;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t o = 0; o < g->o; o++)
            for (int64_t oh = 0; oh < g->ho; oh++)
                for (int64_t ow = 0; ow < g->wo; ow++) {
                    double acc = b ? b[o] : 0.0;
                    for (int64_t cg = 0; cg < Cg; cg++)
                        for (int64_t i = 0; i < g->kh; i++)
                            for (int64_t j = 0; j < g->kw; j++) {
                                int64_t ih = oh * g->sh - g->ph + i * g->dh, iw = ow * g->sw - g->pw + j * g->dw;
                                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) continue;
                                int64_t c = o / Og * Cg + cg;
                                acc += (double)x[GT__XIDX(g, n, c, ih, iw)] * w[((o * Cg + cg) * g->kh + i) * g->kw + j];
                            }
                    y[GT__YIDX(g, n, o, oh, ow)] = (float)acc;
                }
}

void gt_naive_conv_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx) {
    int64_t Og = g->o / g->groups, Cg = g->c / g->groups;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t c = 0; c < g->c; c++)
            for (int64_t ih = 0; ih < g->h; ih++)
                for (int64_t iw = 0; iw < g->w; iw++) gx[GT__XIDX(g, n, c, ih, iw)] = b ? b[c] : 0.0f;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t o = 0; o < g->o; o++)
            for (int64_t oh = 0; oh < g->ho; oh++)
                for (int64_t ow = 0; ow < g->wo; ow++) {
                    float v = gy[GT__YIDX(g, n, o, oh, ow)];
                    for (int64_t cg = 0; cg < Cg; cg++)
                        for (int64_t i = 0; i < g->kh; i++)
                            for (int64_t j = 0; j < g->kw; j++) {
                                int64_t ih = oh * g->sh - g->ph + i * g->dh, iw = ow * g->sw - g->pw + j * g->dw;
                                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) continue;
                                int64_t c = o / Og * Cg + cg;
                                gx[GT__XIDX(g, n, c, ih, iw)] += v * w[((o * Cg + cg) * g->kh + i) * g->kw + j];
                            }
                }
}

void gt_naive_conv_weight(const gt_conv_geom *g, const float *x, const float *gy, float *gw) {
    int64_t Og = g->o / g->groups, Cg = g->c / g->groups;
    for (int64_t o = 0; o < g->o; o++)
        for (int64_t cg = 0; cg < Cg; cg++)
            for (int64_t i = 0; i < g->kh; i++)
                for (int64_t j = 0; j < g->kw; j++) {
                    double acc = 0.0;
                    int64_t c = o / Og * Cg + cg;
                    for (int64_t n = 0; n < g->n; n++)
                        for (int64_t oh = 0; oh < g->ho; oh++)
                            for (int64_t ow = 0; ow < g->wo; ow++) {
                                int64_t ih = oh * g->sh - g->ph + i * g->dh, iw = ow * g->sw - g->pw + j * g->dw;
                                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) continue;
                                acc += (double)gy[GT__YIDX(g, n, o, oh, ow)] * x[GT__XIDX(g, n, c, ih, iw)];
                            }
                    gw[((o * Cg + cg) * g->kh + i) * g->kw + j] = (float)acc;
                }
}
