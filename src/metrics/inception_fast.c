/* The fused Inception forward's kernels (see inception_fast.h) and its
 * prepared state: the stacked 1x1 weights of each block, built from the
 * folded ones. OpenBLAS threads each sgemm (called from serial code); the
 * loops between sgemms (epilogues, im2col) share out their rows through the
 * backend's work pool (src/backend/cpu/par.c). The reference for all of it is the forward on
 * the engine's ops (inception_ops.c). */
#include "inception_fast.h"

#include "../backend/cpu/sgemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Items of a shared loop hold at least this many elements. */
#define GT__GRAIN 16384

/* A chunk of columns aims for about this many floats of im2col buffer, and a
 * 1x1 sgemm's column block for about this many floats of output, so the
 * epilogue finds them in cache. */
#define GT__COL_TARGET (2 << 20)
#define GT__OUT_TARGET (1 << 20)

void gt__fgemm(int m, int64_t n, int k, const float *a, int lda, const float *b, int64_t ldb, float *y, int64_t ldy) {
    gt_sgemm_rm(false, false, m, n, k, a, lda, b, ldb, 0.0f, y, ldy, 0); /* one thread inside a lane */
}

static inline void gt__relu_row(const float *x, float v, int64_t n, float *y) {
#pragma omp simd
    for (int64_t j = 0; j < n; j++) {
        float s = x[j] + v;
        y[j] = s > 0.0f ? s : 0.0f;
    }
}

/* The segments' epilogues on columns [j0, j1) of y (rows, ld n): one shared
 * loop over the rows of every segment that has one. */
typedef struct {
    float *y;
    int64_t n, j0, j1;
    const float *b;
    int nseg;
    const gt__seg *seg;
} gt__epi_job;

static void gt__epi_rows(void *ctx, int64_t i0, int64_t i1) {
    const gt__epi_job *e = ctx;
    for (int64_t i = i0; i < i1; i++) {
        int64_t r = i; /* i counts rows over the segments with an epilogue, in order */
        const gt__seg *s = e->seg;
        for (int k = 0; k < e->nseg; k++, s++) {
            if (!s->epi) continue;
            if (r < s->r1 - s->r0) break;
            r -= s->r1 - s->r0;
        }
        int64_t row = s->r0 + r;
        const float *src = e->y + row * e->n + e->j0;
        float *dst = (s->dst ? s->dst + r * e->n : e->y + row * e->n) + e->j0;
        gt__relu_row(src, e->b[row], e->j1 - e->j0, dst);
    }
}

static void gt__epilogue(gt_cpu_par *par, float *y, int64_t n, int64_t j0, int64_t j1, const float *b, int nseg,
                         const gt__seg *seg) {
    int64_t rows = 0;
    for (int k = 0; k < nseg; k++)
        if (seg[k].epi) rows += seg[k].r1 - seg[k].r0;
    gt__epi_job e = {y, n, j0, j1, b, nseg, seg};
    gt_cpu_par_run(par, rows, GT_MAX(1, GT__GRAIN / GT_MAX(1, j1 - j0)), gt__epi_rows, &e);
}

void gt__fbias_relu(gt_cpu_par *par, const float *x, int rows, int64_t n, const float *b, float *y) {
    if (x == y) {
        const gt__seg s = {0, rows, NULL, true};
        gt__epilogue(par, y, n, 0, n, b, 1, &s);
        return;
    }
    for (int r = 0; r < rows; r++) gt__relu_row(x + r * n, b[r], n, y + r * n);
}

void gt__fgemm_epi(gt_cpu_par *par, int m, int64_t n, int k, const float *w, const float *x, float *y, const float *b,
                   int nseg, const gt__seg *seg) {
    int64_t nb = GT_MAX(512, GT__OUT_TARGET / m);
    nb = (nb + 63) / 64 * 64;
    for (int64_t j0 = 0; j0 < n; j0 += nb) {
        int64_t j1 = GT_MIN(n, j0 + nb);
        gt__fgemm(m, j1 - j0, k, w, k, x + j0, n, y + j0, n);
        gt__epilogue(par, y, n, j0, j1, b, nseg, seg);
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
typedef struct {
    const gt__bconv *cv;
    const float *x;
    int B, H, W, Ho, Wo;
    int64_t u0, u1;
    float *col;
} gt__im2col_job;

static void gt__im2col_rows(void *ctx, int64_t r0, int64_t r1) {
    const gt__im2col_job *J = ctx;
    const gt__bconv *cv = J->cv;
    const float *x = J->x;
    const int B = J->B, H = J->H, W = J->W, Ho = J->Ho, Wo = J->Wo;
    const int64_t u0 = J->u0, u1 = J->u1;
    float *col = J->col;
    const int kk = cv->kh * cv->kw, sh = cv->sh, sw = cv->sw;
    const int64_t cols = (u1 - u0) * Wo, HW = (int64_t)H * W;
    for (int r = (int)r0; r < (int)r1; r++) {
        const int c = r / kk, i = (r % kk) / cv->kw, j = r % cv->kw;
        const int offh = i - cv->ph, offw = j - cv->pw;
        int wlo, whi;
        gt__span(offw, sw, W, Wo, &wlo, &whi);
        float *d = col + (int64_t)r * cols;
        int b = (int)(u0 / Ho), oh = (int)(u0 % Ho);
        /* rows are short (Wo is 4 to 147): plain loops, no library calls */
        for (int64_t u = u0; u < u1; u++, d += Wo) {
            const int ih = oh * sh + offh;
            if (ih < 0 || ih >= H) {
                for (int ow = 0; ow < Wo; ow++) d[ow] = 0.0f;
            } else {
                const float *xr = x + ((int64_t)c * B + b) * HW + (int64_t)ih * W + offw;
                for (int ow = 0; ow < wlo; ow++) d[ow] = 0.0f;
                if (sw == 1)
                    for (int ow = wlo; ow < whi; ow++) d[ow] = xr[ow];
                else if (sw == 2)
                    for (int ow = wlo; ow < whi; ow++) d[ow] = xr[2 * ow];
                else
                    for (int ow = wlo; ow < whi; ow++) d[ow] = xr[ow * sw];
                for (int ow = whi; ow < Wo; ow++) d[ow] = 0.0f;
            }
            if (++oh == Ho) oh = 0, b++;
        }
    }
}

static void gt__im2col(gt_cpu_par *par, const gt__bconv *cv, const float *x, int B, int H, int W, int Ho, int Wo,
                       int64_t u0, int64_t u1, float *col) {
    gt__im2col_job J = {cv, x, B, H, W, Ho, Wo, u0, u1, col};
    int64_t cols = (u1 - u0) * Wo;
    gt_cpu_par_run(par, (int64_t)cv->cin * cv->kh * cv->kw, GT_MAX(1, GT__GRAIN / GT_MAX(1, cols)), gt__im2col_rows, &J);
}

bool gt__fast_col(gt__fast *F, int64_t n) {
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
        gt__fgemm_epi(F->par, c->cout, N, K, w, x, y, bias, 1, &all);
        return true;
    }
    if (F->conv && (uintptr_t)c >= (uintptr_t)F->conv && (uintptr_t)c < (uintptr_t)(F->conv + GT__INC_NCONV)) {
        const float *u = F->wino[c - F->conv];
        if (u) return gt__fconv_wino(F, c, u, F->wino_m[c - F->conv], x, B, H, W, y, epi);
        const gt__w1d *w1 = F->w1d[c - F->conv];
        if (w1) return gt__fconv_w1d(F, c, w1, x, B, H, W, y, epi);
        const gt__w2d *w2 = F->w2d[c - F->conv];
        if (w2) return gt__fconv_w2d(F, c, w2, x, B, H, W, y, epi);
    }
    /* chunks of output rows (across images): im2col, sgemm into their columns, epilogue */
    const int64_t units = (int64_t)B * Ho, per = GT_MAX(1, GT__COL_TARGET / ((int64_t)K * Wo));
    if (!gt__fast_col(F, (int64_t)K * Wo * GT_MIN(per, units))) return false;
    for (int64_t u0 = 0; u0 < units; u0 += per) {
        int64_t u1 = GT_MIN(units, u0 + per), j0 = u0 * Wo, j1 = u1 * Wo;
        gt__im2col(F->par, c, x, B, H, W, Ho, Wo, u0, u1, F->col);
        gt__fgemm(c->cout, j1 - j0, K, w, K, F->col, j1 - j0, y + j0, N);
        gt__epilogue(F->par, y, N, j0, j1, bias, 1, &all);
    }
    return true;
}

/* --- prepared state ------------------------------------------------------------------ */
static void gt__lane_free(gt__fast *L) {
    if (!L) return;
    gt__free(L->col);
    gt__free(L->arena);
    free(L);
}

bool gt__fast_lanes(gt__fast *F, int n) {
    if (n > GT__MAX_LANES) n = GT__MAX_LANES;
    for (; F->nlanes < n; F->nlanes++) {
        gt__fast *L = malloc(sizeof *L);
        if (!L) return false;
        *L = *F; /* the shared weights */
        L->par = NULL;
        L->par_threads = 1;
        L->col = L->arena = NULL;
        L->col_cap = L->arena_cap = 0;
        L->nlanes = 0;
        L->is_lane = true;
        F->lane[F->nlanes] = L;
    }
    return true;
}

void gt__inception_fast_free(gt_inception *net) {
    gt__fast *F = net->fast;
    if (!F) return;
    for (int i = 0; i < F->nlanes; i++) gt__lane_free(F->lane[i]);
    for (int i = 0; i < GT__INC_NBLOCK; i++) {
        gt__free(F->stack[i].w);
        gt__free(F->stack[i].b);
    }
    for (int i = 0; i < GT__INC_NCONV; i++) {
        gt__free(F->wino[i]);
        gt__w1d_free(F->w1d[i]);
        gt__w2d_free(F->w2d[i]);
    }
    gt__free(F->col);
    gt__free(F->arena);
    gt_cpu_par_free(F->par);
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

/* Threads for the shared loops: OpenMP's count (gt_set_num_threads sets it). */
static int gt__threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

gt_status gt__inception_fast_prepare(gt_inception *net) {
    gt__fast *F0 = net->fast;
    if (F0 && F0->par_threads != gt__threads()) { /* the thread count changed: a new pool */
        gt_cpu_par_free(F0->par);
        F0->par_threads = gt__threads();
        F0->par = gt_cpu_par_new(F0->par_threads);
    }
    if (net->fast) return GT_OK;
    gt__fast *F = calloc(1, sizeof *F);
    if (!F) return gt_set_error(GT_ERR_OOM, "inception: out of memory");
    net->fast = F;
    F->par_threads = gt__threads();
    F->par = gt_cpu_par_new(F->par_threads); /* NULL (serial loops) for one thread or no threads */
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
    F->conv = net->conv;
    for (int i = 0; i < net->nconv; i++) {
        const gt__bconv *c = &net->conv[i];
        if ((c->kh == 1) != (c->kw == 1) && c->cin >= GT__WINO_MIN_C && c->cout >= GT__WINO_MIN_C &&
            gt__w1d_fits(c, GT__W1_M)) {
            F->w1d[i] = gt__w1d_new(c, GT__W1_M); /* 1x7, 7x1, 1x3, 3x1 */
            if (!F->w1d[i]) {
                gt__inception_fast_free(net);
                return gt_set_error(GT_ERR_OOM, "inception: out of memory for the 1-D Winograd weights");
            }
            continue;
        }
        if (c->kh == 5 && c->kw == 5 && c->cin >= GT__WINO_MIN_C && c->cout >= GT__WINO_MIN_C &&
            gt__w2d_fits(c, GT__W2_M)) {
            F->w2d[i] = gt__w2d_new(c, GT__W2_M); /* the 5x5 of Mixed_5b..5d: F(4x4, 5x5) */
            if (!F->w2d[i]) {
                gt__inception_fast_free(net);
                return gt_set_error(GT_ERR_OOM, "inception: out of memory for the 5x5 Winograd weights");
            }
            continue;
        }
        if (c->kh != 3 || c->kw != 3 || c->sh != 1 || c->sw != 1 || c->cin < GT__WINO_MIN_C ||
            c->cout < GT__WINO_MIN_C)
            continue;
        F->wino_m[i] = c->cin <= GT__WINO_M4_MAX_CIN ? 4 : 2;
        F->wino[i] = gt__wino_weights(gt_data(c->wf), c->cout, c->cin, F->wino_m[i]);
        if (!F->wino[i]) {
            gt__inception_fast_free(net);
            return gt_set_error(GT_ERR_OOM, "inception: out of memory for the Winograd weights");
        }
    }
    return GT_OK;
}

/* F's activation arena: at least n floats, kept between calls. */
float *gt__inception_arena(gt__fast *F, int64_t n) {
    if (n > F->arena_cap) {
        gt__free(F->arena);
        F->arena = gt__alloc(sizeof(float) * (size_t)n);
        F->arena_cap = F->arena ? n : 0;
    }
    return F->arena;
}
