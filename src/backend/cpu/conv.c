/* Convolution kernels (see conv.h).
 *
 * Fast path: im2col lays a chunk of B images' patches out as one matrix
 * col (C*kh*kw, B*Ho*Wo), so each group is one sgemm with B*Ho*Wo columns:
 *   fwd:    ytmp (O, B*P)   = W (O, K)      @ col (K, B*P)   then scatter to y
 *   data:   col  (K, B*P)   = W^T (K, O)    @ gy  (O, B*P)   then col2im to gx
 *   weight: gw   (O, K)    += gy (O, B*P)   @ col^T (B*P, K)
 * (K = C/g*kh*kw per group, P = Ho*Wo; with B == 1 the sgemm reads / writes
 * y and gy in place.)
 *
 * Threading. With at least as many chunks as threads, the OpenMP threads take
 * whole chunks (im2col, sgemm, scatter of one chunk on one core, its buffers
 * in that core's cache), each with a one-thread sgemm. With fewer chunks
 * (batch 1), the chunks run one after another: OpenMP over the im2col /
 * col2im loops, and gantry's sgemm splits each product over the same OpenMP
 * threads. One thread pool throughout: no handing the cores back and forth
 * between libgomp's team and a BLAS library's pthreads (with OpenBLAS that
 * cost milliseconds per switch on a 2-core machine).
 *
 * Workspaces are cached per thread, so a training loop does not churn the
 * allocator. */
#include "conv.h"

#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#else
#define _mm_prefetch(p, h) __builtin_prefetch(p, 0, 2)
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../../internal.h"
#include "conv_wino.h"
#include "sgemm.h"

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

/* --- chunking policy --------------------------------------------------------- *
 * A chunk's im2col buffer aims at gt__target floats (to stay in cache from
 * im2col to sgemm); a chunk has at least gt__min_cols sgemm columns where the
 * batch allows (an efficient sgemm). Images with at least that many output
 * positions get a chunk (and an sgemm) each, reading and writing y / gy in place. */
static int64_t gt__target, gt__min_cols;

static bool gt__s2d_use = true;
void gt_cpu_conv_set_s2d(bool on) { gt__s2d_use = on; }

void gt_cpu_conv_set_chunking(int64_t target_floats, int64_t min_cols) {
    gt__target = GT_MAX(target_floats, 0);
    gt__min_cols = GT_MAX(min_cols, 0);
}

static int gt__threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int gt__thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static int gt__team_size(void) {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* Images per chunk. The defaults were tuned on the DCGAN-64 layers (2-core
 * Zen 4, 2 MB L2 per core): 1 MB of im2col per chunk, 256 sgemm columns. */
static int64_t gt__chunk(const gt_conv_geom *g) {
    const int64_t target = gt__target ? gt__target : (1 << 20) / 4, min_cols = gt__min_cols ? gt__min_cols : 256;
    int64_t P = g->ho * g->wo, per = g->c * g->kh * g->kw * P;
    if (P >= min_cols) return 1;
    int64_t b = GT_MAX(target / (per > 0 ? per : 1), (min_cols + P - 1) / P);
    /* keep every thread busy when the batch is split over them */
    int64_t nt = gt__threads(), fair = (g->n + nt - 1) / nt;
    if (g->n >= nt && b > fair) b = fair;
    return GT_MAX(1, GT_MIN(b, g->n));
}

/* Whole chunks per OpenMP thread (true), or one chunk after another with
 * threaded loops and sgemm (false). */
static bool gt__batch_parallel(const gt_conv_geom *g, int64_t B) {
    int64_t nchunks = (g->n + B - 1) / B;
    return gt__threads() > 1 && nchunks >= gt__threads();
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
static void gt__im2col(const gt_conv_geom *g, const float *x, int64_t B, int64_t oh0, int64_t oh1, float *col,
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
typedef struct {
    const gt_conv_geom *g;
    const float *x;
    int64_t gi, oh0, oh1;
} gt__col_src;

static void gt__im2col_panels(void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr, float *dst) {
    const gt__col_src *s = ctx;
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
static bool gt__s2d_ok(const gt_conv_geom *g) {
    return g->dh == 1 && g->dw == 1 && g->kh % g->sh == 0 && g->kw % g->sw == 0 && g->ho > 0 && g->wo > 0;
}
static int64_t gt__s2d_hh(const gt_conv_geom *g) { return g->ho - 1 + g->kh / g->sh; }
static int64_t gt__s2d_ww(const gt_conv_geom *g) { return g->wo - 1 + g->kw / g->sw; }

/* x'' of B images at x into dst (B, C*sh*sw, Hh, Ww). */
static void gt__s2d_input(const gt_conv_geom *g, const float *x, int64_t B, float *dst, bool par) {
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

/* The panels of the im2col of x'' (a gt_sgemm_bpack_fn): rows (c'', ti, tj) of group gi, columns
 * (b, oh, ow) for output rows [oh0, oh1). */
typedef struct {
    const gt_conv_geom *g;
    const float *xs; /* x'' of the chunk */
    int64_t gi, oh0, oh1;
} gt__s2d_src;

static void gt__s2d_panels(void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr, float *dst) {
    const gt__s2d_src *s = ctx;
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
                const float *xk = s->xs + koff[k];
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
static void gt__col2im(const gt_conv_geom *g, const float *col, int64_t B, const float *bias, float *gx, bool par) {
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

/* (B, R, P) -> (R, B*P). */
static void gt__pack(const float *src, int64_t B, int64_t R, int64_t P, float *dst, bool par) {
#pragma omp parallel for schedule(static) if (par && B * R * P > GT_PAR_MIN)
    for (int64_t t = 0; t < B * R; t++) {
        int64_t b = t / R, r = t % R;
        memcpy(dst + (r * B + b) * P, src + t * P, (size_t)P * sizeof(float));
    }
}

/* (R, B*P) -> (B, R, P), adding bias[r] (or not) on the way; in place when B == 1. */
static void gt__unpack_bias(const float *src, int64_t B, int64_t R, int64_t P, const float *bias, float *dst,
                            bool par) {
    if (B == 1 && !bias) return;
#pragma omp parallel for schedule(static) if (par && B * R * P > GT_PAR_MIN)
    for (int64_t t = 0; t < B * R; t++) {
        int64_t b = t / R, r = t % R;
        const float *s = src + (r * B + b) * P;
        float *d = dst + t * P, v = bias ? bias[r] : 0.0f;
        if (bias)
            for (int64_t k = 0; k < P; k++) d[k] = s[k] + v;
        else
            memcpy(d, s, (size_t)P * sizeof(float));
    }
}

/* --- one chunk of B images from image n0 ---------------------------------------- */
typedef struct {
    const gt_conv_geom *g;
    int64_t P, G, Og, Kg, Bmax;
    bool ident;   /* 1x1 kernel, stride 1, no padding: an image is its own im2col */
    int64_t rb;   /* output rows per im2col block: Ho, or fewer when one image's im2col is large */
    int64_t colf; /* floats of the im2col region of the workspace */
    const gt_sgemm_apack *wpk; /* (G) the weights packed once for every chunk (fwd: W, data: W^T), or NULL */
    bool s2d; /* the forward through a space-to-depth copy of x (gt__s2d_ok) */
} gt__plan;

static gt__plan gt__plan_make(const gt_conv_geom *g) {
    gt__plan p = {g, g->ho * g->wo, g->groups, g->o / g->groups, g->c / g->groups * g->kh * g->kw, gt__chunk(g),
                  g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 &&
                      g->ho == g->h && g->wo == g->w, g->ho, 0, NULL, false};
    /* one image a chunk whose im2col would leave the cache (the stride-1 3x3 convs of large
       images): the forward and the weight gradient take it a block of output rows at a time */
    const int64_t target = gt__target ? gt__target : (1 << 20) / 4, K = p.G * p.Kg;
    if (p.Bmax == 1 && !p.ident && K * p.P > 2 * target && g->wo > 0) {
        /* at least 512 columns a block (the weights are packed again for each), unless a test asks for less */
        int64_t min_rows = gt__target ? 1 : (512 + g->wo - 1) / g->wo;
        p.rb = GT_MIN(g->ho, GT_MAX(min_rows, target / (K * g->wo)));
    }
    p.colf = p.Bmax * p.P * K; /* the data gradient's col2im still takes whole images */
    return p;
}

/* Floats of one chunk's workspace: col (C*kh*kw, B*P), the packed rows (O, B*P)
 * when B > 1, and extra floats (a partial weight gradient). */
static size_t gt__ws_floats(const gt__plan *p, int64_t extra) {
    return (size_t)(p->colf + (p->Bmax > 1 ? p->Bmax * p->P * p->g->o : 0) + extra);
}

static void gt__fwd_chunk(const gt__plan *p, const float *x, const float *w, const float *b, float *y, int64_t n0,
                          float *ws, bool par) {
    const gt_conv_geom *g = p->g;
    int64_t B = GT_MIN(p->Bmax, g->n - n0), BP = B * p->P;
    float *yn = y + n0 * g->o * p->P;
    float *out = B > 1 ? ws + p->colf : yn; /* (O, B*P) */
    const float *xn = x + n0 * g->c * g->h * g->w, *col = xn;
    if (p->s2d) { /* x'' in the workspace, its im2col fused into sgemm's packing */
        gt__s2d_input(g, xn, B, ws, par);
        for (int64_t r0 = 0; r0 < g->ho; r0 += p->rb) {
            int64_t r1 = GT_MIN(r0 + p->rb, g->ho), np = B * (r1 - r0) * g->wo;
            for (int64_t gi = 0; gi < p->G; gi++) {
                gt__s2d_src src = {g, ws, gi, r0, r1};
                float *dst = B == 1 ? yn + gi * p->Og * p->P + r0 * g->wo : out + gi * p->Og * BP;
                gt_sgemm_packed_fn(&p->wpk[gi], np, gt__s2d_panels, &src, 0.0f, dst, B == 1 ? p->P : BP,
                                   par ? 0 : 1);
            }
        }
        gt__unpack_bias(out, B, g->o, p->P, b, yn, par);
        return;
    }
    if (p->wpk && !(p->ident && B == 1)) { /* im2col fused into sgemm's packing */
        for (int64_t r0 = 0; r0 < g->ho; r0 += p->rb) {
            int64_t r1 = GT_MIN(r0 + p->rb, g->ho), np = B * (r1 - r0) * g->wo;
            for (int64_t gi = 0; gi < p->G; gi++) {
                gt__col_src src = {g, xn, gi, r0, r1};
                /* B == 1: y's rows in place (ldc = P); else (O, B*P) in the workspace */
                float *dst = B == 1 ? yn + gi * p->Og * p->P + r0 * g->wo : out + gi * p->Og * BP;
                gt_sgemm_packed_fn(&p->wpk[gi], np, gt__im2col_panels, &src, 0.0f, dst, B == 1 ? p->P : BP,
                                   par ? 0 : 1);
            }
        }
        gt__unpack_bias(out, B, g->o, p->P, b, yn, par);
        return;
    }
    if (B == 1 && p->rb < g->ho) { /* a block of output rows at a time, written in place (ldc = P) */
        for (int64_t r0 = 0; r0 < g->ho; r0 += p->rb) {
            int64_t r1 = GT_MIN(r0 + p->rb, g->ho), np = (r1 - r0) * g->wo;
            gt__im2col(g, xn, 1, r0, r1, ws, par);
            for (int64_t gi = 0; gi < p->G; gi++)
                if (p->wpk)
                    gt_sgemm_packed(&p->wpk[gi], np, ws + gi * p->Kg * np, np, 1, 0.0f,
                                    yn + gi * p->Og * p->P + r0 * g->wo, p->P, par ? 0 : 1);
                else
                    gt_sgemm_rm(false, false, p->Og, np, p->Kg, w + gi * p->Og * p->Kg, p->Kg, ws + gi * p->Kg * np,
                                np, 0.0f, yn + gi * p->Og * p->P + r0 * g->wo, p->P, par ? 0 : 1);
        }
        gt__unpack_bias(yn, 1, g->o, p->P, b, yn, par);
        return;
    }
    if (!(p->ident && B == 1)) {
        gt__im2col(g, xn, B, 0, g->ho, ws, par);
        col = ws;
    }
    for (int64_t gi = 0; gi < p->G; gi++)
        if (p->wpk)
            gt_sgemm_packed(&p->wpk[gi], BP, col + gi * p->Kg * BP, BP, 1, 0.0f, out + gi * p->Og * BP, BP, par ? 0 : 1);
        else
            gt_sgemm_rm(false, false, p->Og, BP, p->Kg, w + gi * p->Og * p->Kg, p->Kg, col + gi * p->Kg * BP, BP,
                        0.0f, out + gi * p->Og * BP, BP, par ? 0 : 1);
    gt__unpack_bias(out, B, g->o, p->P, b, yn, par);
}

static void gt__data_chunk(const gt__plan *p, const float *gy, const float *w, const float *b, float *gx, int64_t n0,
                           float *ws, bool par) {
    const gt_conv_geom *g = p->g;
    int64_t B = GT_MIN(p->Bmax, g->n - n0), BP = B * p->P;
    float *gxn = gx + n0 * g->c * g->h * g->w, *col = p->ident && B == 1 ? gxn : ws;
    const float *gyp = gy + n0 * g->o * p->P; /* (O, B*P) once packed */
    if (B > 1) {
        float *pk = ws + p->colf;
        gt__pack(gyp, B, g->o, p->P, pk, par);
        gyp = pk;
    }
    for (int64_t gi = 0; gi < p->G; gi++)
        if (p->wpk)
            gt_sgemm_packed(&p->wpk[gi], BP, gyp + gi * p->Og * BP, BP, 1, 0.0f, col + gi * p->Kg * BP, BP,
                            par ? 0 : 1);
        else
            gt_sgemm_rm(true, false, p->Kg, BP, p->Og, w + gi * p->Og * p->Kg, p->Kg, gyp + gi * p->Og * BP, BP, 0.0f,
                        col + gi * p->Kg * BP, BP, par ? 0 : 1);
    if (col == gxn) gt__unpack_bias(gxn, 1, g->c, p->P, b, gxn, par); /* bias only */
    else gt__col2im(g, col, B, b, gxn, par);
}

/* gw (O, Kg) = beta * gw + this chunk's contribution. */
static void gt__weight_chunk(const gt__plan *p, const float *x, const float *gy, float *gw, float beta, int64_t n0,
                             float *ws, bool par) {
    const gt_conv_geom *g = p->g;
    int64_t B = GT_MIN(p->Bmax, g->n - n0), BP = B * p->P;
    const float *gyp = gy + n0 * g->o * p->P; /* (O, B*P) once packed */
    const float *xn = x + n0 * g->c * g->h * g->w, *col = xn;
    if (B == 1 && p->rb < g->ho) { /* gw += gy[:, rows] @ col(rows)^T, a block of output rows at a time */
        for (int64_t r0 = 0; r0 < g->ho; r0 += p->rb) {
            int64_t r1 = GT_MIN(r0 + p->rb, g->ho), np = (r1 - r0) * g->wo;
            gt__im2col(g, xn, 1, r0, r1, ws, par);
            for (int64_t gi = 0; gi < p->G; gi++)
                gt_sgemm(p->Og, p->Kg, np, gyp + gi * p->Og * p->P + r0 * g->wo, p->P, 1, ws + gi * p->Kg * np, 1, np,
                         r0 == 0 ? beta : 1.0f, gw + gi * p->Og * p->Kg, p->Kg, par ? 0 : 1);
        }
        return;
    }
    if (!(p->ident && B == 1)) {
        gt__im2col(g, xn, B, 0, g->ho, ws, par);
        col = ws;
    }
    if (B > 1) {
        float *pk = ws + p->colf;
        gt__pack(gyp, B, g->o, p->P, pk, par);
        gyp = pk;
    }
    for (int64_t gi = 0; gi < p->G; gi++)
        gt_sgemm_rm(false, true, p->Og, p->Kg, BP, gyp + gi * p->Og * BP, BP, col + gi * p->Kg * BP, BP, beta,
                    gw + gi * p->Og * p->Kg, p->Kg, par ? 0 : 1);
}

/* --- drivers ------------------------------------------------------------------- */

/* A chunk of the batch, [n0, n0 + Bmax): the forward or the data gradient. */
typedef void (*gt__chunk_fn)(const gt__plan *p, const float *in, const float *w, const float *b, float *out,
                             int64_t n0, float *ws, bool par);

/* Runs fn over every chunk: serially (sgemm threads itself) or, when there are
 * enough chunks, one chunk per OpenMP thread with single-threaded sgemm. */
static bool gt__run_plan(const gt__plan *pp, gt__chunk_fn fn, int64_t nchunks, const float *in, const float *w,
                         const float *b, float *out);

/* The weights packed once (transpose_w: as W^T, for the data gradient), then gt__run_plan. */

static bool gt__run_chunks(const gt_conv_geom *g, gt__chunk_fn fn, bool transpose_w, const float *in,
                           const float *w, const float *b, float *out) {
    gt__plan p = gt__plan_make(g);
    int64_t nchunks = (g->n + p.Bmax - 1) / p.Bmax;
    /* with several chunks, the weights (W, or W^T for the data gradient) are packed into sgemm's panels once,
       not once per chunk; without memory for that, each chunk packs its own */
    gt_sgemm_apack *wpk = calloc((size_t)p.G, sizeof *wpk);
    /* the forward through x'' (its copy fits in the im2col region of the workspace: see gt__s2d_ok) */
    p.s2d = wpk && fn == gt__fwd_chunk && !p.ident && gt__s2d_use && gt__s2d_ok(g);
    for (int64_t gi = 0; wpk && gi < p.G; gi++) {
        const float *wg = w + gi * p.Og * p.Kg;
        bool made = transpose_w ? gt_sgemm_apack_make(&wpk[gi], p.Kg, p.Og, wg, 1, p.Kg)
                                : gt_sgemm_apack_make(&wpk[gi], p.Og, p.Kg, wg, p.Kg, 1);
        if (!made) {
            for (int64_t k = 0; k < gi; k++) gt_sgemm_apack_free(&wpk[k]);
            free(wpk);
            wpk = NULL;
            p.s2d = false;
        }
    }
    p.wpk = wpk;
    bool ok = gt__run_plan(&p, fn, nchunks, in, w, b, out);
    for (int64_t gi = 0; wpk && gi < p.G; gi++) gt_sgemm_apack_free(&wpk[gi]);
    free(wpk);
    return ok;
}

static bool gt__run_plan(const gt__plan *pp, gt__chunk_fn fn, int64_t nchunks, const float *in, const float *w,
                         const float *b, float *out) {
    const gt__plan p = *pp;
    const gt_conv_geom *g = p.g;
    if (!gt__batch_parallel(g, p.Bmax)) {
        float *ws = gt__workspace(gt__ws_floats(&p, 0));
        if (!ws) return false;
        for (int64_t ch = 0; ch < nchunks; ch++) fn(&p, in, w, b, out, ch * p.Bmax, ws, true);
        return true;
    }
    bool ok = true;
#pragma omp parallel
    {
        float *ws = gt__workspace(gt__ws_floats(&p, 0));
        if (!ws) {
#pragma omp atomic write
            ok = false;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t ch = 0; ch < nchunks; ch++)
            if (ws) fn(&p, in, w, b, out, ch * p.Bmax, ws, false);
    }
    return ok;
}

static int gt__wino_mode = 1; /* 0 never, 1 where it pays, 2 wherever it fits (tests) */
void gt_cpu_conv_set_winograd(int mode) { gt__wino_mode = mode < 0 ? 0 : mode > 2 ? 2 : mode; }

/* Winograd's output tile for g (2: F(2x2, 3x3), 4: F(4x4, 3x3); conv_wino.h), or 0: im2col. */
static int gt__use_wino(const gt_conv_geom *g, bool data) {
    if (gt__wino_mode == 2) return gt_cpu_conv_wino_fits(g, data) ? gt_cpu_conv_wino_tile_fit(g, data) : 0;
    return gt__wino_mode == 1 ? gt_cpu_conv_wino_tile(g, data) : 0;
}

bool gt_cpu_conv_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    const int wm = gt__use_wino(g, false);
    if (wm) return gt_cpu_conv_wino_fwd(g, wm, x, w, b, y);
    return gt__run_chunks(g, gt__fwd_chunk, false, x, w, b, y);
}

bool gt_cpu_conv_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx) {
    const int wm = gt__use_wino(g, true);
    if (wm) return gt_cpu_conv_wino_data(g, wm, gy, w, b, gx);
    return gt__run_chunks(g, gt__data_chunk, true, gy, w, b, gx);
}

bool gt_cpu_conv_weight(const gt_conv_geom *g, const float *x, const float *gy, float *gw) {
    gt__plan p = gt__plan_make(g);
    int64_t nchunks = (g->n + p.Bmax - 1) / p.Bmax, nw = g->o * p.Kg;
    if (g->n == 0) {
        memset(gw, 0, (size_t)nw * sizeof(float));
        return true;
    }
    if (!gt__batch_parallel(g, p.Bmax)) {
        float *ws = gt__workspace(gt__ws_floats(&p, 0));
        if (!ws) return false;
        for (int64_t ch = 0; ch < nchunks; ch++)
            gt__weight_chunk(&p, x, gy, gw, ch ? 1.0f : 0.0f, ch * p.Bmax, ws, true);
        return true;
    }
    /* each thread sums its chunks into its own partial gradient (chunks dealt
     * round-robin, so the sums do not depend on timing); then the partials add up */
    int nt = gt__threads();
    float **part = calloc((size_t)nt, sizeof *part);
    if (!part) return false;
    bool ok = true;
#pragma omp parallel num_threads(nt)
    {
        int t = gt__thread_id();
        float *ws = gt__workspace(gt__ws_floats(&p, nw));
        if (!ws) {
#pragma omp atomic write
            ok = false;
        }
        part[t] = ws ? ws + gt__ws_floats(&p, 0) : NULL;
        bool first = true;
#pragma omp for schedule(static, 1)
        for (int64_t ch = 0; ch < nchunks; ch++) {
            if (!ws) continue;
            gt__weight_chunk(&p, x, gy, part[t], first ? 0.0f : 1.0f, ch * p.Bmax, ws, false);
            first = false;
        }
        if (first && part[t]) memset(part[t], 0, (size_t)nw * sizeof(float));
#pragma omp barrier
        if (ok) {
            int nteam = gt__team_size();
#pragma omp for schedule(static)
            for (int64_t i = 0; i < nw; i++) {
                float s = 0.0f;
                for (int k = 0; k < nteam; k++) s += part[k][i];
                gw[i] = s;
            }
        }
    }
    free(part);
    return ok;
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
                                float wv = w[((o * Cg + cg) * g->kh + i) * g->kw + j];
                                acc += (double)x[GT__XIDX(g, n, c, ih, iw)] * wv;
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
