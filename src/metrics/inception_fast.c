/* The fused Inception forward's kernels (see inception_fast.h) and its
 * prepared state: the stacked 1x1 weights of each block, built from the
 * folded ones. OpenBLAS threads each sgemm (called from serial code);
 * OpenMP threads the im2col, epilogue and pool loops. The reference for all
 * of it is the forward on the engine's ops (inception_ops.c). */
#include "inception_fast.h"

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#else
static int omp_get_max_threads(void) { return 1; }
static int omp_get_thread_num(void) { return 0; }
#endif

/* OpenMP for a loop of at least this many elements. Between two sgemms
 * (threaded by OpenBLAS's own pool) an OpenMP team costs a barrier and its
 * threads' spin-wait, which fight OpenBLAS's waiting threads for the cores;
 * on 2 cores that costs more than the loops gain (see bench/), so by default
 * the loops around the sgemms run on the calling thread.
 * GANTRY_INCEPTION_PAR_MIN=<elements> sets it (e.g. on machines with many cores). */
static int64_t gt__par_min = -1;
static bool gt__par(int64_t work) {
    if (gt__par_min < 0) {
        const char *e = getenv("GANTRY_INCEPTION_PAR_MIN");
        gt__par_min = e && *e ? atoll(e) : INT64_MAX;
    }
    return work >= gt__par_min;
}

/* A chunk of columns aims for about this many floats of im2col buffer, and a
 * 1x1 sgemm's column block for about this many floats of output, so the
 * epilogue finds them in cache. */
#define GT__COL_TARGET (2 << 20)
#define GT__OUT_TARGET (1 << 20)

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

static inline void gt__relu_row(const float *x, float v, int64_t n, float *y) {
#pragma omp simd
    for (int64_t j = 0; j < n; j++) {
        float s = x[j] + v;
        y[j] = s > 0.0f ? s : 0.0f;
    }
}

void gt__fbias_relu(const float *x, int rows, int64_t n, const float *b, float *y) {
    int64_t blk = 4096, nblk = (n + blk - 1) / blk;
#pragma omp parallel for schedule(static) if (gt__par(rows * n))
    for (int64_t t = 0; t < rows * nblk; t++) {
        int64_t r = t / nblk, j0 = (t % nblk) * blk, j1 = GT_MIN(n, j0 + blk);
        gt__relu_row(x + r * n + j0, b[r], j1 - j0, y + r * n + j0);
    }
}

/* The segments' epilogues on columns [j0, j1) of y (rows, ld n). */
static void gt__epilogue(float *y, int64_t n, int64_t j0, int64_t j1, const float *b, int nseg, const gt__seg *seg) {
    for (int k = 0; k < nseg; k++) {
        const gt__seg *s = &seg[k];
        if (!s->epi) continue;
        int rows = s->r1 - s->r0;
#pragma omp parallel for schedule(static) if (gt__par(rows * (j1 - j0)))
        for (int r = 0; r < rows; r++) {
            const float *src = y + (int64_t)(s->r0 + r) * n + j0;
            float *dst = (s->dst ? s->dst + (int64_t)r * n : y + (int64_t)(s->r0 + r) * n) + j0;
            gt__relu_row(src, b[s->r0 + r], j1 - j0, dst);
        }
    }
}

void gt__fgemm_epi(int m, int64_t n, int k, const float *w, const float *x, float *y, const float *b, int nseg,
                   const gt__seg *seg) {
    int64_t nb = GT_MAX(512, GT__OUT_TARGET / m);
    nb = (nb + 63) / 64 * 64;
    for (int64_t j0 = 0; j0 < n; j0 += nb) {
        int64_t j1 = GT_MIN(n, j0 + nb);
        gt__fgemm(m, j1 - j0, k, w, k, x + j0, n, y + j0, n);
        gt__epilogue(y, n, j0, j1, b, nseg, seg);
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

/* col (C*kh*kw, (u1-u0)*Wo) for output rows u in [u0, u1) of the chunk, u = b * Ho + oh:
 * row (c, i, j), column (u - u0, ow) = x[c, b, oh*sh - ph + i, ow*sw - pw + j] or 0. */
static void gt__im2col(const gt__bconv *cv, const float *x, int B, int H, int W, int Ho, int Wo, int64_t u0,
                       int64_t u1, float *col) {
    const int kk = cv->kh * cv->kw, rows = cv->cin * kk, sh = cv->sh, sw = cv->sw;
    const int64_t cols = (u1 - u0) * Wo, HW = (int64_t)H * W;
#pragma omp parallel for schedule(static) if (gt__par((int64_t)rows * cols))
    for (int r = 0; r < rows; r++) {
        int c = r / kk, i = (r % kk) / cv->kw, j = r % cv->kw;
        int offh = i - cv->ph, offw = j - cv->pw, wlo, whi;
        gt__span(offw, sw, W, Wo, &wlo, &whi);
        float *d = col + (int64_t)r * cols;
        for (int64_t u = u0; u < u1; u++, d += Wo) {
            int b = (int)(u / Ho), oh = (int)(u % Ho), ih = oh * sh + offh;
            if (ih < 0 || ih >= H) {
                memset(d, 0, sizeof(float) * (size_t)Wo);
                continue;
            }
            const float *xr = x + ((int64_t)c * B + b) * HW + (int64_t)ih * W + offw;
            for (int ow = 0; ow < wlo; ow++) d[ow] = 0.0f;
            if (sw == 1) memcpy(d + wlo, xr + wlo, sizeof(float) * (size_t)(whi - wlo));
            else
                for (int ow = wlo; ow < whi; ow++) d[ow] = xr[ow * sw];
            for (int ow = whi; ow < Wo; ow++) d[ow] = 0.0f;
        }
    }
    (void)B;
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
    const int64_t N = (int64_t)B * Ho * Wo;
    const float *w = gt_data(c->wf), *bias = gt_data(c->bf);
    const gt__seg all = {0, c->cout, NULL, epi};
    if (c->kh == 1 && c->kw == 1 && c->sh == 1 && c->ph == 0 && c->pw == 0) {
        gt__fgemm_epi(c->cout, N, K, w, x, y, bias, 1, &all);
        return true;
    }
    /* chunks of output rows (across images): im2col, sgemm into their columns, epilogue */
    const int64_t units = (int64_t)B * Ho, per = GT_MAX(1, GT__COL_TARGET / ((int64_t)K * Wo));
    if (!gt__col(F, (int64_t)K * Wo * GT_MIN(per, units))) return false;
    for (int64_t u0 = 0; u0 < units; u0 += per) {
        int64_t u1 = GT_MIN(units, u0 + per), j0 = u0 * Wo, j1 = u1 * Wo;
        gt__im2col(c, x, B, H, W, Ho, Wo, u0, u1, F->col);
        gt__fgemm(c->cout, j1 - j0, K, w, K, F->col, j1 - j0, y + j0, N);
        gt__epilogue(y, N, j0, j1, bias, 1, &all);
    }
    return true;
}

/* --- pools over planes ------------------------------------------------------------ */
void gt__favg3(const float *x, int64_t planes, int H, int W, float *y) {
    const int64_t HW = (int64_t)H * W;
#pragma omp parallel for schedule(static) if (gt__par(planes * HW))
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

/* NaN-propagating max (PyTorch's max pool returns NaN for a window holding one). */
static inline float gt__max2(float a, float b) { return a > b || a != a ? a : b; }

/* Separable: the max over the window's rows into vm (W), then over 3 columns. */
void gt__fmax3(const float *x, int64_t planes, int H, int W, int s, int p, float *y) {
    const int Ho = (H + 2 * p - 3) / s + 1, Wo = (W + 2 * p - 3) / s + 1;
    const int64_t HW = (int64_t)H * W, OHW = (int64_t)Ho * Wo;
    float *vm_all = malloc(sizeof(float) * (size_t)W * (size_t)(gt__par(planes * HW) ? omp_get_max_threads() : 1));
    if (!vm_all) { /* no scratch: the direct window loop */
        for (int64_t q = 0; q < planes; q++)
            for (int oh = 0; oh < Ho; oh++)
                for (int ow = 0; ow < Wo; ow++) {
                    float m = -INFINITY;
                    for (int i = GT_MAX(oh * s - p, 0); i < GT_MIN(oh * s - p + 3, H); i++)
                        for (int j = GT_MAX(ow * s - p, 0); j < GT_MIN(ow * s - p + 3, W); j++)
                            m = gt__max2(x[q * HW + (int64_t)i * W + j], m);
                    y[q * OHW + (int64_t)oh * Wo + ow] = m;
                }
        return;
    }
#pragma omp parallel for schedule(static) if (gt__par(planes * HW))
    for (int64_t q = 0; q < planes; q++) {
        float *vm = vm_all + (size_t)W * (size_t)omp_get_thread_num();
        const float *xp = x + q * HW;
        float *yp = y + q * OHW;
        for (int oh = 0; oh < Ho; oh++) {
            int h0 = GT_MAX(oh * s - p, 0), h1 = GT_MIN(oh * s - p + 3, H);
            const float *r0 = xp + (int64_t)h0 * W;
            if (h1 - h0 == 3) {
                const float *r1 = r0 + W, *r2 = r1 + W;
                for (int w = 0; w < W; w++) vm[w] = gt__max2(gt__max2(r0[w], r1[w]), r2[w]);
            } else if (h1 - h0 == 2) {
                for (int w = 0; w < W; w++) vm[w] = gt__max2(r0[w], r0[w + W]);
            } else {
                memcpy(vm, r0, sizeof(float) * (size_t)W);
            }
            float *yr = yp + (int64_t)oh * Wo;
            for (int ow = 0; ow < Wo; ow++) {
                int w0 = ow * s - p;
                if (w0 >= 0 && w0 + 3 <= W) {
                    yr[ow] = gt__max2(gt__max2(vm[w0], vm[w0 + 1]), vm[w0 + 2]);
                } else {
                    float m = -INFINITY;
                    for (int j = GT_MAX(w0, 0); j < GT_MIN(w0 + 3, W); j++) m = gt__max2(vm[j], m);
                    yr[ow] = m;
                }
            }
        }
    }
    free(vm_all);
}

void gt__fmean(const float *x, int C, int B, int64_t hw, float *out) {
#pragma omp parallel for schedule(static) if (gt__par((int64_t)C * B * hw))
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
