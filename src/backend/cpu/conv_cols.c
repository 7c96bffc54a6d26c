/* im2col, col2im and the panel packers of the convolutions (conv_cols.h). */
#include "conv_cols.h"

#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#else
#define _mm_prefetch(p, h) __builtin_prefetch(p, 0, 2)
#endif

#include "../../internal.h"

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

/* d[k] = x[k * s] for k < n; constant strides 1 and 2 vectorise. */
static inline void gt__gather(float *restrict d, const float *restrict x, int64_t n, int64_t s) {
    if (s == 1) memcpy(d, x, (size_t)n * sizeof(float));
    else if (s == 2)
        for (int64_t k = 0; k < n; k++) d[k] = x[2 * k];
    else
        for (int64_t k = 0; k < n; k++) d[k] = x[k * s];
}

/* --- im2col / col2im / packing over a chunk of B images ---------------------
 * par: use OpenMP inside (only outside a parallel region). */
/* col (C*kh*kw, B*P): row (c, i, j), column (b, oh, ow) = x[b, c, oh*sh-ph+i*dh, ow*sw-pw+j*dw] or 0. */
/* Output rows [oh0, oh1) only (a block of one image's rows, or all of them): the column of
 * (b, oh, ow) is b * (oh1 - oh0) * Wo + (oh - oh0) * Wo + ow. */
void gt__im2col(const gt_conv_geom *g, const float *x, int64_t B, int64_t oh0, int64_t oh1, float *col,
                       bool par) {
    const int64_t P = g->ho * g->wo, Pb = (oh1 - oh0) * g->wo, cols = B * Pb, kk = g->kh * g->kw, rows = g->c * kk;
    const int64_t H = g->h, W = g->w, Wo = g->wo, sw = g->sw, CHW = g->c * H * W;
#pragma omp parallel for schedule(static) if (par && rows * cols > GT_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / kk, i = (r / g->kw) % g->kh, j = r % g->kw;
        int64_t offh = i * g->dh - g->ph, offw = j * g->dw - g->pw;
        int64_t hlo, hhi, wlo, whi;
        gt__range(offh, g->sh, H, g->ho, &hlo, &hhi);
        gt__range(offw, sw, W, Wo, &wlo, &whi);
        hlo = GT_MAX(hlo, oh0), hhi = GT_MIN(hhi, oh1);
        if (hhi < hlo) hhi = hlo;
        float *dst = col + r * cols;
        if (P == 1) { /* one output position: a strided gather over the images */
            if (hlo == hhi || wlo == whi) memset(dst, 0, (size_t)B * sizeof(float));
            else
                for (int64_t b = 0, o = c * H * W + offh * W + offw; b < B; b++) dst[b] = x[b * CHW + o];
            continue;
        }
        for (int64_t b = 0; b < B; b++, dst += Pb) {
            const float *xp = x + b * CHW + c * H * W;
            memset(dst, 0, (size_t)((hlo - oh0) * Wo) * sizeof(float));
            for (int64_t oh = hlo; oh < hhi; oh++) {
                const float *xr = xp + (oh * g->sh + offh) * W + offw;
                float *d = dst + (oh - oh0) * Wo;
                for (int64_t ow = 0; ow < wlo; ow++) d[ow] = 0.0f;
                gt__gather(d + wlo, xr + wlo * sw, whi - wlo, sw);
                for (int64_t ow = whi; ow < Wo; ow++) d[ow] = 0.0f;
            }
            memset(dst + (hhi - oh0) * Wo, 0, (size_t)((oh1 - hhi) * Wo) * sizeof(float));
        }
    }
}

/* im2col straight into sgemm's panels (a gt_sgemm_bpack_fn): B = the col matrix of group gi for a
 * chunk of images at x, output rows [oh0, oh1), as gt__im2col would lay it out, but written a
 * KC x NC block at a time, as sgemm asks for it, so the block is still in cache when the kernels
 * read it and the whole col matrix is never written nor read back. */
void gt__im2col_panels(void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr, float *dst) {
    const gt_cpu_cols_src *s = ctx;
    const gt_conv_geom *g = s->g;
    const int64_t Wo = g->wo, Pb = (s->oh1 - s->oh0) * Wo, H = g->h, W = g->w, HW = H * W, CHW = g->c * HW;
    const int64_t kk = g->kh * g->kw, Cg = g->c / g->groups, sh = g->sh, sw = g->sw;
    enum { RMAX = 64, KT = 128 };
    struct {
        int off, len;
        int64_t base, ohs, ow; /* x offset of (image, oh * sh, ow * sw); oh * sh */
    } run[RMAX]; /* a panel's columns as runs along one output row of one image */
    struct {
        int64_t koff, offh, wlo, whi; /* x offset of (c, offh, offw); the valid ow of this tap */
    } tap[KT];
    if (nr > RMAX) return;
    { /* the part of x this block reads, towards L2 first: its reads below jump between channels and
         rows, which the hardware prefetcher does not follow (they waited on memory: +30% here) */
        int64_t c0 = s->gi * Cg + k0 / kk, c1 = s->gi * Cg + (k0 + kc - 1) / kk, b0 = j0 / Pb, b1 = (j0 + nc - 1) / Pb;
        int64_t h0 = 0, h1 = H;
        if (b0 == b1) { /* one image: only the input rows of its output rows */
            int64_t oh0 = s->oh0 + j0 % Pb / Wo, oh1 = s->oh0 + (j0 + nc - 1) % Pb / Wo;
            h0 = GT_MAX(oh0 * sh - g->ph, 0), h1 = GT_MIN(oh1 * sh - g->ph + (g->kh - 1) * g->dh + 1, H);
        }
        for (int64_t b = b0; b <= b1; b++)
            for (int64_t c = c0; c <= c1; c++) {
                const char *p = (const char *)(s->x + b * CHW + c * HW + h0 * W), *e = (const char *)(s->x + b * CHW + c * HW + h1 * W);
                for (; p < e; p += 64) _mm_prefetch(p, _MM_HINT_T1);
            }
    }
    for (int64_t kb = 0; kb < kc; kb += KT) { /* the taps of KT rows, computed once for all panels */
        int64_t kn = GT_MIN(KT, kc - kb);
        for (int64_t k = 0; k < kn; k++) {
            int64_t r = k0 + kb + k, c = s->gi * Cg + r / kk, i = (r / g->kw) % g->kh, j = r % g->kw;
            int64_t offh = i * g->dh - g->ph, offw = j * g->dw - g->pw;
            tap[k].koff = c * HW + offh * W + offw, tap[k].offh = offh;
            gt__range(offw, sw, W, Wo, &tap[k].wlo, &tap[k].whi);
        }
        float *dp = dst + kb * nr;
        for (int64_t p0 = 0; p0 < nc; p0 += nr, dp += kc * nr) {
            int n = (int)GT_MIN(nr, nc - p0), nrun = 0;
            for (int o = 0; o < n;) {
                int64_t col = j0 + p0 + o, b = col / Pb, rem = col % Pb, ow = rem % Wo, oh = s->oh0 + rem / Wo;
                int len = (int)GT_MIN(n - o, Wo - ow);
                run[nrun].off = o, run[nrun].len = len, run[nrun].ow = ow, run[nrun].ohs = oh * sh;
                run[nrun++].base = b * CHW + oh * sh * W + ow * sw;
                o += len;
            }
            for (int64_t k = 0; k < kn; k++) {
                const float *xk = s->x + tap[k].koff;
                const int64_t offh = tap[k].offh, wlo = tap[k].wlo, whi = tap[k].whi;
                float *d = dp + k * nr;
                for (int q = 0; q < nrun; q++) {
                    float *dd = d + run[q].off;
                    const int64_t ih = run[q].ohs + offh, ow = run[q].ow, len = run[q].len;
                    if (ih < 0 || ih >= H) {
                        memset(dd, 0, (size_t)len * sizeof(float));
                        continue;
                    }
                    if (ow >= wlo && ow + len <= whi) { /* the whole run inside the image */
                        gt__gather(dd, xk + run[q].base, len, sw);
                        continue;
                    }
                    int64_t tlo = GT_MIN(GT_MAX(wlo - ow, 0), len), thi = GT_MAX(GT_MIN(whi - ow, len), tlo);
                    for (int64_t t = 0; t < tlo; t++) dd[t] = 0.0f;
                    gt__gather(dd + tlo, xk + run[q].base + tlo * sw, thi - tlo, sw);
                    for (int64_t t = thi; t < len; t++) dd[t] = 0.0f;
                }
                for (int t = n; t < nr; t++) d[t] = 0.0f;
            }
        }
    }
}

/* --- space-to-depth: a strided conv as a stride-1 one on a copy of x ------------------------------
 * When the stride divides the kernel (DCGAN's 4x4 stride 2; any stride-1 conv) and there is no
 * dilation, conv(x, W) with stride s equals a stride-1 conv of kh/s x kw/s taps on
 *   x''[b, (c, ri, rj), h, w] = x[b, c, h*sh + ri - ph, w*sw + rj - pw]   (0 outside x)
 * with W''[o, (c, ri, rj), ti, tj] = W[o, c, ti*sh + ri, tj*sw + rj]: the same products, K unchanged.
 * The rows of B stay in W's order (c, i, j), each taken from plane (c, i % sh, j % sw) of x'' at
 * (i / sh, j / sw), so W is used as it is.
 * x'' holds the padding, so each row of the im2col of x'' is a run of Wo consecutive floats of x''
 * at a fixed offset: the panels fill with plain copies (no gathers of every other float, no bounds
 * checks), from a copy that is about as large as x, where im2col writes kh*kw / (sh*sw) times x. */
bool gt__s2d_ok(const gt_conv_geom *g) {
    return g->dh == 1 && g->dw == 1 && g->kh % g->sh == 0 && g->kw % g->sw == 0 && g->ho > 0 && g->wo > 0;
}
static int64_t gt__s2d_hh(const gt_conv_geom *g) { return g->ho - 1 + g->kh / g->sh; }
static int64_t gt__s2d_ww(const gt_conv_geom *g) { return g->wo - 1 + g->kw / g->sw; }

/* x'' of B images at x into dst (B, C*sh*sw, Hh, Ww). */
void gt__s2d_input(const gt_conv_geom *g, const float *x, int64_t B, float *dst, bool par) {
    const int64_t C = g->c, H = g->h, W = g->w, sh = g->sh, sw = g->sw, Hh = gt__s2d_hh(g), Ww = gt__s2d_ww(g);
#pragma omp parallel for schedule(static) if (par && B * C * H * W > GT_PAR_MIN)
    for (int64_t t = 0; t < B * C; t++) {
        const float *xc = x + t * H * W;
        if (t + 2 < B * C) /* x comes from memory, a channel a page: the prefetcher starts late on each */
            for (int64_t q = 0; q < H * W; q += 16) _mm_prefetch((const char *)(xc + 2 * H * W + q), _MM_HINT_T0);
        for (int64_t ri = 0; ri < sh; ri++)
            for (int64_t rj = 0; rj < sw; rj++) {
                float *d = dst + ((t * sh + ri) * sw + rj) * Hh * Ww;
                int64_t wlo, whi; /* w with 0 <= w*sw + rj - pw < W */
                gt__range(rj - g->pw, sw, W, Ww, &wlo, &whi);
                for (int64_t h = 0; h < Hh; h++, d += Ww) {
                    int64_t ih = h * sh + ri - g->ph;
                    if (ih < 0 || ih >= H) {
                        memset(d, 0, (size_t)Ww * sizeof(float));
                        continue;
                    }
                    for (int64_t w = 0; w < wlo; w++) d[w] = 0.0f;
                    gt__gather(d + wlo, xc + ih * W + wlo * sw + rj - g->pw, whi - wlo, sw);
                    for (int64_t w = whi; w < Ww; w++) d[w] = 0.0f;
                }
            }
    }
}

void gt__s2d_panels(void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr, float *dst) {
    const gt_cpu_cols_src *s = ctx;
    const gt_conv_geom *g = s->g;
    const int64_t Wo = g->wo, Pb = (s->oh1 - s->oh0) * Wo, Hh = gt__s2d_hh(g), Ww = gt__s2d_ww(g);
    const int64_t kk = g->kh * g->kw, Cg = g->c / g->groups, sh = g->sh, sw = g->sw, Cs = g->c * sh * sw;
    enum { RMAX = 64, KT = 256 };
    int off[RMAX], len[RMAX], nrun;
    int64_t base[RMAX], koff[KT];
    if (nr > RMAX) return;
    for (int64_t kb = 0; kb < kc; kb += KT) {
        int64_t kn = GT_MIN(KT, kc - kb);
        for (int64_t k = 0; k < kn; k++) {
            int64_t r = k0 + kb + k, c = s->gi * Cg + r / kk, i = (r / g->kw) % g->kh, j = r % g->kw;
            koff[k] = (((c * sh + i % sh) * sw + j % sw) * Hh + i / sh) * Ww + j / sw;
        }
        float *dp = dst + kb * nr;
        for (int64_t p0 = 0; p0 < nc; p0 += nr, dp += kc * nr) {
            int n = (int)GT_MIN(nr, nc - p0);
            nrun = 0;
            for (int o = 0; o < n;) {
                int64_t col = j0 + p0 + o, b = col / Pb, rem = col % Pb, ow = rem % Wo, oh = s->oh0 + rem / Wo;
                int l = (int)GT_MIN(n - o, Wo - ow);
                off[nrun] = o, len[nrun] = l, base[nrun++] = (b * Cs * Hh + oh) * Ww + ow;
                o += l;
            }
            for (int64_t k = 0; k < kn; k++) {
                const float *xk = s->x + koff[k];
                float *d = dp + k * nr;
                for (int q = 0; q < nrun; q++) { /* copies of a known size where it can */
                    const float *src = xk + base[q];
                    float *dd = d + off[q];
                    switch (len[q]) {
                    case 32: memcpy(dd, src, 32 * sizeof(float)); break;
                    case 16: memcpy(dd, src, 16 * sizeof(float)); break;
                    case 8: memcpy(dd, src, 8 * sizeof(float)); break;
                    case 4: memcpy(dd, src, 4 * sizeof(float)); break;
                    default: for (int t = 0; t < len[q]; t++) dd[t] = src[t];
                    }
                }
                for (int t = n; t < nr; t++) d[t] = 0.0f;
            }
        }
    }
}

/* Stride-2 rows of col2im: the kw taps of one output row oh add into the even
 * and odd phases of input row xr (contiguous, vectorisable adds), which are
 * then interleaved into xr. src[j] is tap j's row of col, wlo/whi its range. */
#define GT__HALF_MAX 1024 /* rows up to 2048 wide take this path */
#define GT__KW_MAX 64

static void gt__col2im_row_s2(const gt_conv_geom *g, const float *const *src, const int64_t *wlo, const int64_t *whi,
                              float *xr) {
    float ph[2][GT__HALF_MAX];
    const int64_t W = g->w, Wh = (W + 1) / 2;
    memset(ph[0], 0, (size_t)Wh * sizeof(float));
    memset(ph[1], 0, (size_t)Wh * sizeof(float));
    for (int64_t j = 0; j < g->kw; j++) {
        int64_t off = j * g->dw - g->pw, q = off & 1, sh = (off - q) / 2; /* input index 2*(ow+sh) + q */
        float *d = ph[q] + sh;
        const float *s = src[j];
        for (int64_t ow = wlo[j]; ow < whi[j]; ow++) d[ow] += s[ow];
    }
    for (int64_t k = 0; k < W / 2; k++) {
        xr[2 * k] += ph[0][k];
        xr[2 * k + 1] += ph[1][k];
    }
    if (W & 1) xr[W - 1] += ph[0][W / 2];
}

/* gx[b, c] = bias[c] (or 0) + the sum of the col entries that im2col would have read from it. */
void gt__col2im(const gt_conv_geom *g, const float *col, int64_t B, const float *bias, float *gx, bool par) {
    const int64_t P = g->ho * g->wo, cols = B * P, kk = g->kh * g->kw;
    const int64_t H = g->h, W = g->w, Ho = g->ho, Wo = g->wo, sw = g->sw;
    const bool s2 = sw == 2 && (W + 1) / 2 <= GT__HALF_MAX && g->kw <= GT__KW_MAX;
#pragma omp parallel for schedule(static) if (par && g->c * kk * cols > GT_PAR_MIN)
    for (int64_t t = 0; t < B * g->c; t++) {
        int64_t b = t / g->c, c = t % g->c;
        float *xp = gx + t * H * W;
        float b0 = bias ? bias[c] : 0.0f;
        for (int64_t k = 0; k < H * W; k++) xp[k] = b0;
        if (P == 1) { /* one output position: each tap lands on its own pixel (or outside) */
            const float *src = col + c * kk * cols + b;
            for (int64_t i = 0; i < g->kh; i++) {
                int64_t ih = i * g->dh - g->ph;
                if (ih < 0 || ih >= H) continue;
                for (int64_t j = 0; j < g->kw; j++) {
                    int64_t iw = j * g->dw - g->pw;
                    if (iw >= 0 && iw < W) xp[ih * W + iw] += src[(i * g->kw + j) * cols];
                }
            }
            continue;
        }
        if (s2) {
            int64_t wlo[GT__KW_MAX], whi[GT__KW_MAX];
            const float *src[GT__KW_MAX];
            for (int64_t j = 0; j < g->kw; j++) gt__range(j * g->dw - g->pw, 2, W, Wo, &wlo[j], &whi[j]);
            for (int64_t i = 0; i < g->kh; i++) {
                int64_t offh = i * g->dh - g->ph, hlo, hhi;
                gt__range(offh, g->sh, H, Ho, &hlo, &hhi);
                const float *row0 = col + (c * g->kh + i) * g->kw * cols + b * P;
                for (int64_t oh = hlo; oh < hhi; oh++) {
                    for (int64_t j = 0; j < g->kw; j++) src[j] = row0 + j * cols + oh * Wo;
                    gt__col2im_row_s2(g, src, wlo, whi, xp + (oh * g->sh + offh) * W);
                }
            }
            continue;
        }
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

