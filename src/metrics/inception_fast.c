/* The fused Inception forward's kernels (see inception_fast.h) and its
 * prepared state: the stacked 1x1 weights of each block, built from the
 * folded ones. OpenBLAS threads each sgemm (called from serial code);
 * OpenMP threads the im2col, epilogue and pool loops. The reference for all
 * of it is the forward on the engine's ops (inception_ops.c). */
#include "inception_fast.h"

#include <cblas.h>

/* im2col aims for about this many floats per chunk of images (at least one). */
#define GT__COL_TARGET (4 << 20)

void gt__fgemm(int m, int64_t n, int k, const float *a, int lda, const float *b, int64_t ldb, float *y, int64_t ldy) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, (int)n, k, 1.0f, a, lda, b, (int)ldb, 0.0f, y,
                (int)ldy);
}

void gt__ffc(const float *pool, int64_t n, const float *w, const float *b, float *y) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, GT__INC_CLASSES, 2048, 1.0f, pool, 2048, w, 2048,
                0.0f, y, GT__INC_CLASSES);
    if (b)
        for (int64_t i = 0; i < n; i++)
            for (int j = 0; j < GT__INC_CLASSES; j++) y[i * GT__INC_CLASSES + j] += b[j];
}

void gt__fbias_relu(const float *x, int rows, int64_t n, const float *b, float *y) {
    int64_t blk = 4096, nblk = (n + blk - 1) / blk;
#pragma omp parallel for schedule(static) if (rows * n > GT_PAR_MIN)
    for (int64_t t = 0; t < rows * nblk; t++) {
        int64_t r = t / nblk, j0 = (t % nblk) * blk, j1 = GT_MIN(n, j0 + blk);
        const float *xr = x + r * n;
        float *yr = y + r * n, v = b[r];
#pragma omp simd
        for (int64_t j = j0; j < j1; j++) {
            float s = xr[j] + v;
            yr[j] = s > 0.0f ? s : 0.0f;
        }
    }
}

/* --- im2col over (C, B, H, W) ------------------------------------------------ */
/* Output positions o in [lo, hi) with o * s + off inside [0, size). */
static inline void gt__span(int off, int s, int size, int nout, int *lo, int *hi) {
    int l = off >= 0 ? 0 : (-off + s - 1) / s;
    int h = size - off <= 0 ? 0 : (size - off + s - 1) / s;
    if (l > nout) l = nout;
    if (h > nout) h = nout;
    if (h < l) h = l;
    *lo = l, *hi = h;
}

/* col (C*kh*kw, n*Ho*Wo): row (c, i, j), column (b - b0, oh, ow). */
static void gt__im2col(const gt__bconv *cv, const float *x, int B, int H, int W, int b0, int n, int Ho, int Wo,
                       float *col) {
    const int kk = cv->kh * cv->kw, rows = cv->cin * kk, sh = cv->sh, sw = cv->sw;
    const int64_t P = (int64_t)Ho * Wo, cols = n * P, HW = (int64_t)H * W;
#pragma omp parallel for schedule(static) if ((int64_t)rows * cols > GT_PAR_MIN)
    for (int64_t t = 0; t < (int64_t)rows * n; t++) {
        int r = (int)(t / n), b = (int)(t % n);
        int c = r / kk, i = (r % kk) / cv->kw, j = r % cv->kw;
        int offh = i - cv->ph, offw = j - cv->pw, hlo, hhi, wlo, whi;
        gt__span(offh, sh, H, Ho, &hlo, &hhi);
        gt__span(offw, sw, W, Wo, &wlo, &whi);
        const float *xp = x + ((int64_t)c * B + b0 + b) * HW;
        float *d = col + r * cols + b * P;
        memset(d, 0, sizeof(float) * (size_t)hlo * Wo);
        for (int oh = hlo; oh < hhi; oh++) {
            const float *xr = xp + (int64_t)(oh * sh + offh) * W + offw;
            float *dr = d + (int64_t)oh * Wo;
            for (int ow = 0; ow < wlo; ow++) dr[ow] = 0.0f;
            if (sw == 1) memcpy(dr + wlo, xr + wlo, sizeof(float) * (size_t)(whi - wlo));
            else
                for (int ow = wlo; ow < whi; ow++) dr[ow] = xr[ow * sw];
            for (int ow = whi; ow < Wo; ow++) dr[ow] = 0.0f;
        }
        memset(d + (int64_t)hhi * Wo, 0, sizeof(float) * (size_t)(Ho - hhi) * Wo);
    }
}

static bool gt__col(gt__fast *F, int64_t n) {
    if (n <= F->col_cap) return true;
    gt__free(F->col);
    F->col = gt__alloc(sizeof(float) * (size_t)n);
    F->col_cap = F->col ? n : 0;
    return F->col != NULL;
}

bool gt__fconv(gt__fast *F, const gt__bconv *c, const float *x, int B, int H, int W, float *y, bool epi) {
    const int Ho = (H + 2 * c->ph - c->kh) / c->sh + 1, Wo = (W + 2 * c->pw - c->kw) / c->sw + 1;
    const int K = c->cin * c->kh * c->kw;
    const int64_t P = (int64_t)Ho * Wo, N = B * P;
    const float *w = gt_data(c->wf);
    if (c->kh == 1 && c->kw == 1 && c->sh == 1 && c->ph == 0 && c->pw == 0) {
        gt__fgemm(c->cout, N, K, w, K, x, N, y, N);
    } else {
        int nb = (int)GT_MAX(1, GT_MIN((int64_t)B, GT__COL_TARGET / ((int64_t)K * P)));
        if (!gt__col(F, (int64_t)K * P * nb)) return false;
        for (int b0 = 0; b0 < B; b0 += nb) {
            int n = GT_MIN(nb, B - b0);
            gt__im2col(c, x, B, H, W, b0, n, Ho, Wo, F->col);
            gt__fgemm(c->cout, n * P, K, w, K, F->col, n * P, y + b0 * P, N);
        }
    }
    if (epi) gt__fbias_relu(y, c->cout, N, gt_data(c->bf), y);
    return true;
}

/* --- pools over planes ------------------------------------------------------------ */
void gt__favg3(const float *x, int64_t planes, int H, int W, float *y) {
    const int64_t HW = (int64_t)H * W;
#pragma omp parallel for schedule(static) if (planes * HW > GT_PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = x + p * HW;
        float *yp = y + p * HW;
        for (int h = 0; h < H; h++) {
            int h0 = h > 0 ? h - 1 : 0, h1 = h + 2 < H ? h + 2 : H;
            for (int w = 0; w < W; w++) {
                int w0 = w > 0 ? w - 1 : 0, w1 = w + 2 < W ? w + 2 : W;
                float s = 0.0f;
                for (int i = h0; i < h1; i++)
                    for (int j = w0; j < w1; j++) s += xp[(int64_t)i * W + j];
                yp[(int64_t)h * W + w] = s / (float)((h1 - h0) * (w1 - w0));
            }
        }
    }
}

void gt__fmax3(const float *x, int64_t planes, int H, int W, int s, int p, float *y) {
    const int Ho = (H + 2 * p - 3) / s + 1, Wo = (W + 2 * p - 3) / s + 1;
    const int64_t HW = (int64_t)H * W, OHW = (int64_t)Ho * Wo;
#pragma omp parallel for schedule(static) if (planes * HW > GT_PAR_MIN)
    for (int64_t q = 0; q < planes; q++) {
        const float *xp = x + q * HW;
        float *yp = y + q * OHW;
        for (int oh = 0; oh < Ho; oh++) {
            int h0 = GT_MAX(oh * s - p, 0), h1 = GT_MIN(oh * s - p + 3, H);
            for (int ow = 0; ow < Wo; ow++) {
                int w0 = GT_MAX(ow * s - p, 0), w1 = GT_MIN(ow * s - p + 3, W);
                float m = -INFINITY;
                for (int i = h0; i < h1; i++)
                    for (int j = w0; j < w1; j++) {
                        float v = xp[(int64_t)i * W + j];
                        m = v > m || v != v ? v : m; /* NaN propagates, as in PyTorch */
                    }
                yp[(int64_t)oh * Wo + ow] = m;
            }
        }
    }
}

void gt__fmean(const float *x, int C, int B, int64_t hw, float *out) {
#pragma omp parallel for schedule(static) if ((int64_t)C * B * hw > GT_PAR_MIN)
    for (int64_t q = 0; q < (int64_t)C * B; q++) {
        const float *xp = x + q * hw;
        double s = 0.0;
        for (int64_t k = 0; k < hw; k++) s += xp[k];
        int c = (int)(q / B), b = (int)(q % B);
        out[(int64_t)b * C + c] = (float)(s / (double)hw);
    }
}

/* --- prepared state ------------------------------------------------------------------ */
void gt__inception_fast_free(gt_inception *net) {
    gt__fast *F = net->fast;
    if (!F) return;
    for (int i = 0; i < GT__INC_NBLOCK; i++) {
        gt__free(F->stack[i].w);
        gt__free(F->stack[i].b);
    }
    gt__free(F->col);
    gt__free(F->arena);
    free(F);
    net->fast = NULL;
}

/* Members (indices within the block) of each kind's stacked 1x1 sgemm. */
static int gt__stack_members(gt__blk_kind k, int *m) {
    static const int A[] = {0, 1, 3, 6}, B[] = {1}, C[] = {0, 1, 4, 9}, D[] = {0, 2}, E1[] = {0, 1, 4, 8},
                     E2[] = {0, 1, 4};
    const int *src = NULL;
    int n = 0;
    switch (k) {
    case GT__BLK_A: src = A, n = 4; break;
    case GT__BLK_B: src = B, n = 1; break;
    case GT__BLK_C: src = C, n = 4; break;
    case GT__BLK_D: src = D, n = 2; break;
    case GT__BLK_E1: src = E1, n = 4; break;
    case GT__BLK_E2: src = E2, n = 3; break;
    }
    memcpy(m, src, sizeof(int) * (size_t)n);
    return n;
}

gt_status gt__inception_fast_prepare(gt_inception *net) {
    if (net->fast) return GT_OK;
    gt__fast *F = calloc(1, sizeof *F);
    if (!F) return gt_set_error(GT_ERR_OOM, "inception: out of memory");
    net->fast = F;
    for (int i = 0; i < GT__INC_NBLOCK; i++) {
        const gt__block *blk = &net->block[i];
        int m[4], n = gt__stack_members(blk->kind, m), rows = 0;
        for (int j = 0; j < n; j++) rows += net->conv[blk->first + m[j]].cout;
        gt__stack *s = &F->stack[i];
        s->rows = rows;
        s->cin = blk->cin;
        s->w = gt__alloc(sizeof(float) * (size_t)rows * blk->cin);
        s->b = gt__alloc(sizeof(float) * (size_t)rows);
        if (!s->w || !s->b) {
            gt__inception_fast_free(net);
            return gt_set_error(GT_ERR_OOM, "inception: out of memory for the stacked weights");
        }
        for (int j = 0, r = 0; j < n; j++) {
            const gt__bconv *c = &net->conv[blk->first + m[j]];
            memcpy(s->w + (int64_t)r * blk->cin, gt_data(c->wf), sizeof(float) * (size_t)c->cout * blk->cin);
            memcpy(s->b + r, gt_data(c->bf), sizeof(float) * (size_t)c->cout);
            r += c->cout;
        }
    }
    return GT_OK;
}

/* The activation arena: at least n floats, kept between calls. */
float *gt__inception_arena(gt_inception *net, int64_t n) {
    gt__fast *F = net->fast;
    if (n > F->arena_cap) {
        gt__free(F->arena);
        F->arena = gt__alloc(sizeof(float) * (size_t)n);
        F->arena_cap = F->arena ? n : 0;
    }
    return F->arena;
}
