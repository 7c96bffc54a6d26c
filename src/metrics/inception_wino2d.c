/* Two-dimensional Winograd F(m x m, r x r) for the fused Inception forward's
 * square stride-1 convolutions that have no hand-written transforms (the 5x5
 * of Mixed_5b..5d: F(4x4, 5x5), 64 sgemms for 16 outputs instead of 400
 * multiplies each), in its (C, B, H, W) layout (inception_fast.h).
 *
 * The 1-D transforms B^T, G, A^T of F(m, r) (inception_wino1d.c) are nested:
 * U = G g G^T per (cout, cin), V = B^T d B per n x n input tile, and the m x m
 * output tile Y = A^T M A with M_k = U_k @ V_k for each of the n^2 points k.
 * Tiles t = (b * TH + th) * TW + tw; per block of tiles the input transform
 * writes V (n^2, cin, nb) and the output transform reads M (n^2, cout, nb),
 * both a segment of tiles at a time, vectorised across the segment. */
#include "inception_fast.h"


/* A block of tiles aims for about this many floats of V and M together. */
#define GT__W2_TARGET (1 << 21)
/* Tiles per transform segment (stack buffers of n^2 rows). */
#define GT__W2_SEG 64

bool gt__w2d_fits(const gt__bconv *c, int m) {
    const int r = c->kh, n = m + r - 1;
    return c->kh == c->kw && c->sh == 1 && c->sw == 1 && r >= 2 && m >= 1 && n <= GT__W2_MAXN && m <= GT__W1_MAXM;
}

gt__w2d *gt__w2d_new(const gt__bconv *c, int m) {
    if (!gt__w2d_fits(c, m)) return NULL;
    const int r = c->kh, n = m + r - 1;
    gt__w2d *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    double bt[GT__W1_MAXN * GT__W1_MAXN], g[GT__W1_MAXN * GT__W1_MAXN], at[GT__W1_MAXM * GT__W1_MAXN];
    if (!gt__w1_mats(m, r, bt, g, at)) {
        free(w);
        return NULL;
    }
    w->m = m, w->r = r, w->n = n;
    gt__w1_sparse(bt, n, n, w->bnz, w->bidx, w->bval);
    gt__w1_sparse(at, m, n, w->anz, w->aidx, w->aval);
    const int64_t mn = (int64_t)c->cout * c->cin, nn = (int64_t)n * n;
    w->u = gt__alloc(sizeof(float) * (size_t)(nn * mn));
    if (!w->u) {
        free(w);
        return NULL;
    }
    const float *wf = gt_data(c->wf); /* (cout, cin, r, r) */
    double t[GT__W2_MAXN][GT__W2_MAXN];
    for (int64_t q = 0; q < mn; q++) {
        const float *gq = wf + q * r * r;
        for (int l = 0; l < n; l++) /* t = G g */
            for (int j = 0; j < r; j++) {
                double s = 0.0;
                for (int k = 0; k < r; k++) s += g[l * r + k] * gq[k * r + j];
                t[l][j] = s;
            }
        for (int l = 0; l < n; l++) /* U = t G^T */
            for (int l2 = 0; l2 < n; l2++) {
                double s = 0.0;
                for (int j = 0; j < r; j++) s += t[l][j] * g[l2 * r + j];
                w->u[(l * n + l2) * mn + q] = (float)s;
            }
    }
    return w;
}

void gt__w2d_free(gt__w2d *w) {
    if (!w) return;
    gt__free(w->u);
    free(w);
}

typedef struct {
    const gt__w2d *w;
    const float *x; // (cin, B, H, W)
    float *y;       // (cout, B, Ho, Wo)
    float *v;       // (n^2, cin, nb)
    float *mm;      // (n^2, cout, nb)
    const float *bias;
    int cin, cout, B, H, W, Ho, Wo, ph, pw, TH, TW;
    int64_t t0, t1, nb;
    bool epi;
} gt__w2_job;

/* dst[k] = sum_e val[e] * src[idx[e]][k] over one row's nonzero entries, k < len. */
static inline void gt__w2_row(float *dst, const float *src, int64_t stride, int nz, const int *idx, const float *val,
                              int len) {
    const float *s0 = src + idx[0] * stride;
    const float v0 = val[0];
#pragma omp simd
    for (int k = 0; k < len; k++) dst[k] = v0 * s0[k];
    for (int e = 1; e < nz; e++) {
        const float *se = src + idx[e] * stride;
        const float ve = val[e];
#pragma omp simd
        for (int k = 0; k < len; k++) dst[k] += ve * se[k];
    }
}

static void gt__w2_in(void *ctx, int64_t c0, int64_t c1) {
    const gt__w2_job *J = ctx;
    const gt__w2d *w = J->w;
    const int n = w->n, m = w->m, H = J->H, W = J->W;
    const int64_t HW = (int64_t)H * W, TT = (int64_t)J->TH * J->TW;
    float d[GT__W2_MAXN * GT__W2_MAXN][GT__W2_SEG]; /* d[i * n + j][k]: input (i, j) of tile k */
    float t[GT__W2_MAXN * GT__W2_MAXN][GT__W2_SEG]; /* t[l * n + j][k] = (B^T d)[l][j] */
    for (int64_t c = c0; c < c1; c++)
        for (int64_t ts = J->t0; ts < J->t1; ts += GT__W2_SEG) {
            const int len = (int)GT_MIN((int64_t)GT__W2_SEG, J->t1 - ts);
            for (int k = 0; k < len; k++) { /* gather each tile's n x n inputs, zero outside the image */
                const int64_t t = ts + k;
                const int b = (int)(t / TT), th = (int)((t % TT) / J->TW), tw = (int)(t % J->TW);
                const float *p = J->x + (c * J->B + b) * HW;
                const int ih0 = th * m - J->ph, iw0 = tw * m - J->pw;
                for (int i = 0; i < n; i++) {
                    const int ih = ih0 + i;
                    const bool rin = ih >= 0 && ih < H;
                    for (int j = 0; j < n; j++) {
                        const int iw = iw0 + j;
                        d[i * n + j][k] = rin && iw >= 0 && iw < W ? p[(int64_t)ih * W + iw] : 0.0f;
                    }
                }
            }
            for (int l = 0; l < n; l++) /* t[l][j] = sum_i B^T[l][i] d[i][j] */
                for (int j = 0; j < n; j++)
                    gt__w2_row(t[l * n + j], d[j], (int64_t)n * GT__W2_SEG, w->bnz[l], w->bidx[l], w->bval[l], len);
            for (int l = 0; l < n; l++) /* V[l][l2] = sum_j t[l][j] B^T[l2][j] */
                for (int l2 = 0; l2 < n; l2++) {
                    float *v = J->v + ((int64_t)(l * n + l2) * J->cin + c) * J->nb + (ts - J->t0);
                    gt__w2_row(v, t[l * n], GT__W2_SEG, w->bnz[l2], w->bidx[l2], w->bval[l2], len);
                }
        }
}

static void gt__w2_out(void *ctx, int64_t o0, int64_t o1) {
    const gt__w2_job *J = ctx;
    const gt__w2d *w = J->w;
    const int n = w->n, m = w->m, Wo = J->Wo;
    const int64_t HWo = (int64_t)J->Ho * Wo, TT = (int64_t)J->TH * J->TW, pstride = (int64_t)J->cout * J->nb;
    float s[GT__W1_MAXM * GT__W2_MAXN][GT__W2_SEG]; /* s[i * n + l2][k] = (A^T M)[i][l2] */
    float yv[GT__W1_MAXM * GT__W1_MAXM][GT__W2_SEG];
    for (int64_t co = o0; co < o1; co++) {
        const float bv = J->epi ? J->bias[co] : 0.0f, lo = J->epi ? 0.0f : -INFINITY;
        for (int64_t ts = J->t0; ts < J->t1; ts += GT__W2_SEG) {
            const int len = (int)GT_MIN((int64_t)GT__W2_SEG, J->t1 - ts);
            const float *mp = J->mm + co * J->nb + (ts - J->t0); /* point (l, l2) at + (l * n + l2) * pstride */
            for (int i = 0; i < m; i++) /* s[i][l2] = sum_l A^T[i][l] M[l][l2] */
                for (int l2 = 0; l2 < n; l2++)
                    gt__w2_row(s[i * n + l2], mp + l2 * pstride, n * pstride, w->anz[i], w->aidx[i], w->aval[i], len);
            for (int i = 0; i < m; i++) /* y[i][i2] = relu(sum_l2 s[i][l2] A^T[i2][l2] + bias) */
                for (int i2 = 0; i2 < m; i2++) {
                    float *yk = yv[i * m + i2];
                    gt__w2_row(yk, s[i * n], GT__W2_SEG, w->anz[i2], w->aidx[i2], w->aval[i2], len);
#pragma omp simd
                    for (int k = 0; k < len; k++) {
                        const float v = yk[k] + bv;
                        yk[k] = v > lo ? v : lo;
                    }
                }
            for (int k = 0; k < len; k++) { /* scatter the tiles' outputs */
                const int64_t t = ts + k;
                const int b = (int)(t / TT), th = (int)((t % TT) / J->TW), tw = (int)(t % J->TW);
                float *p = J->y + (co * J->B + b) * HWo;
                for (int i = 0; i < m && th * m + i < J->Ho; i++)
                    for (int i2 = 0; i2 < m && tw * m + i2 < Wo; i2++)
                        p[(int64_t)(th * m + i) * Wo + tw * m + i2] = yv[i * m + i2][k];
            }
        }
    }
}

bool gt__fconv_w2d(gt__fast *F, const gt__bconv *c, const gt__w2d *w, const float *x, int B, int H, int W, float *y,
                   bool epi) {
    const int n = w->n, nn = n * n, Ho = H + 2 * c->ph - c->kh + 1, Wo = W + 2 * c->pw - c->kw + 1;
    gt__w2_job J = {.w = w, .x = x, .y = y, .bias = gt_data(c->bf), .cin = c->cin, .cout = c->cout, .B = B, .H = H,
                    .W = W, .Ho = Ho, .Wo = Wo, .ph = c->ph, .pw = c->pw, .epi = epi};
    J.TH = (Ho + w->m - 1) / w->m, J.TW = (Wo + w->m - 1) / w->m;
    const int64_t T = (int64_t)B * J.TH * J.TW;
    int64_t nb = GT_MAX((int64_t)GT__W2_SEG, GT__W2_TARGET / ((int64_t)nn * (c->cin + c->cout)));
    nb = GT_MIN(T, nb / GT__W2_SEG * GT__W2_SEG);
    const int64_t need = (int64_t)nn * (c->cin + c->cout) * nb;
    if (!gt__fast_col(F, need)) return false;
    J.v = F->col, J.mm = F->col + (int64_t)nn * c->cin * nb;
    for (int64_t t0 = 0; t0 < T; t0 += nb) {
        J.t0 = t0, J.t1 = GT_MIN(T, t0 + nb), J.nb = J.t1 - t0;
        const int cols = (int)J.nb;
        gt__par_run(F->par, c->cin, GT_MAX(1, 2048 / cols), gt__w2_in, &J);
        gt__fgemm_points(nn, c->cout, cols, c->cin, w->u, J.v, J.mm);
        gt__par_run(F->par, c->cout, GT_MAX(1, 2048 / cols), gt__w2_out, &J);
    }
    return true;
}
