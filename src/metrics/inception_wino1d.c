/* One-dimensional Winograd F(m, r) (Toom-Cook; Lavin & Gray, "Fast Algorithms
 * for Convolutional Neural Networks") for the fused Inception forward's
 * 1 x r and r x 1 stride-1 convolutions (the 1x7 / 7x1 of Mixed_6b..7a, the
 * 1x3 / 3x1 of Mixed_7b, 7c), in its (C, B, H, W) layout (inception_fast.h).
 *
 * The transforms come from n = m + r - 1 interpolation points: n - 1 finite
 * ones p_l (0, 1, -1, 2, -2, 1/2, -1/2, 3/2, -3/2, ...) and infinity. With
 * f_l = prod_{k != l} (p_l - p_k),
 *   A^T[i][l] = p_l^i,      G[l][k] = p_l^k / f_l,
 * and the infinity column / row picking the highest coefficient, the output
 * tile y_i = sum_k g_k d_{i+k} (i < m) is A^T [(G g) .* (B^T d)] exactly when
 *   sum_l A^T[i][l] G[l][k] B^T[l][j] = [j == i + k],
 * which depends on i + k only: B^T is the inverse of the n x n matrix
 * M[s][l] = p_l^s / f_l (M[s][inf] = [s == n - 1]). All three are built in
 * double at load time; F(4, 7) has 10 points and F(4, 3) 6.
 *
 * Layout: view each (b, c) plane as positions along the conv's axis times
 * "lanes" across it (rows of W for r x 1; columns for 1 x r). A tile is m
 * output positions of one lane; the tiles of one group (b, tile row tl) are
 * its lanes side by side, so tile t = (b * TL + tl) * NL + lane and the
 * transforms run along contiguous runs of tiles. Per block of tiles the input
 * transform writes V (n, cin, nb), n sgemms give M_l = U_l @ V_l with
 * U (n, cout, cin) = G g, and the output transform adds the bias and the ReLU. */
#include "inception_fast.h"


/* A block of tiles aims for about this many floats of V and M together. */
#define GT__W1_TARGET (1 << 21)
/* Tiles per transform segment (a stack buffer of n rows). */
#define GT__W1_SEG 256

static const double gt__w1_points[GT__W1_MAXN - 1] = {0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 1.5, -1.5, 3.0, -3.0};

/* B^T (n, n), G (n, r), A^T (m, n) in double; false when M is singular. */
bool gt__w1_mats(int m, int r, double *bt, double *g, double *at) {
    const int n = m + r - 1;
    const double *p = gt__w1_points;
    double f[GT__W1_MAXN], a[GT__W1_MAXN][2 * GT__W1_MAXN];
    for (int l = 0; l < n - 1; l++) {
        f[l] = 1.0;
        for (int k = 0; k < n - 1; k++)
            if (k != l) f[l] *= p[l] - p[k];
    }
    for (int i = 0; i < m; i++)
        for (int l = 0; l < n; l++) at[i * n + l] = l < n - 1 ? pow(p[l], i) : (i == m - 1);
    for (int l = 0; l < n; l++)
        for (int k = 0; k < r; k++) g[l * r + k] = l < n - 1 ? pow(p[l], k) / f[l] : (k == r - 1);
    for (int s = 0; s < n; s++) /* [M | I] */
        for (int l = 0; l < 2 * n; l++)
            a[s][l] = l < n ? (l < n - 1 ? pow(p[l], s) / f[l] : (s == n - 1)) : (l - n == s);
    for (int col = 0; col < n; col++) { /* Gauss-Jordan with partial pivoting */
        int piv = col;
        for (int s = col + 1; s < n; s++)
            if (fabs(a[s][col]) > fabs(a[piv][col])) piv = s;
        if (fabs(a[piv][col]) < 1e-12) return false;
        for (int l = 0; l < 2 * n; l++) {
            double t = a[col][l];
            a[col][l] = a[piv][l], a[piv][l] = t;
        }
        const double d = a[col][col];
        for (int l = 0; l < 2 * n; l++) a[col][l] /= d;
        for (int s = 0; s < n; s++)
            if (s != col && a[s][col] != 0.0) {
                const double e = a[s][col];
                for (int l = 0; l < 2 * n; l++) a[s][l] -= e * a[col][l];
            }
    }
    for (int l = 0; l < n; l++)
        for (int j = 0; j < n; j++) bt[l * n + j] = a[l][n + j];
    return true;
}

/* The nonzero entries of each row of a (rows, n) matrix. */
void gt__w1_sparse(const double *mat, int rows, int n, int *nz, int (*idx)[GT__W1_MAXN],
                          float (*val)[GT__W1_MAXN]) {
    for (int i = 0; i < rows; i++) {
        nz[i] = 0;
        for (int j = 0; j < n; j++) {
            const double v = mat[i * n + j];
            if (fabs(v) < 1e-12) continue;
            idx[i][nz[i]] = j;
            val[i][nz[i]] = (float)v;
            nz[i]++;
        }
    }
}

bool gt__w1d_fits(const gt__bconv *c, int m) {
    const bool along_w = c->kh == 1;
    const int r = along_w ? c->kw : c->kh, n = m + r - 1;
    return c->sh == 1 && c->sw == 1 && (along_w ? c->ph : c->pw) == 0 && (c->kh == 1 || c->kw == 1) && r >= 2 &&
           m >= 1 && n <= GT__W1_MAXN && m <= GT__W1_MAXM;
}

gt__w1d *gt__w1d_new(const gt__bconv *c, int m) {
    if (!gt__w1d_fits(c, m)) return NULL;
    const bool along_w = c->kh == 1;
    const int r = along_w ? c->kw : c->kh, n = m + r - 1;
    gt__w1d *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    double bt[GT__W1_MAXN * GT__W1_MAXN], g[GT__W1_MAXN * GT__W1_MAXN], at[GT__W1_MAXM * GT__W1_MAXN];
    if (!gt__w1_mats(m, r, bt, g, at)) {
        free(w);
        return NULL;
    }
    *w = (gt__w1d){.m = m, .r = r, .n = n, .along_w = along_w};
    gt__w1_sparse(bt, n, n, w->bnz, w->bidx, w->bval);
    gt__w1_sparse(at, m, n, w->anz, w->aidx, w->aval);
    const int64_t mn = (int64_t)c->cout * c->cin;
    w->u = gt__alloc(sizeof(float) * (size_t)(n * mn));
    if (!w->u) {
        free(w);
        return NULL;
    }
    const float *wf = gt_data(c->wf); /* (cout, cin, kh, kw): r taps in a row either way */
    for (int64_t q = 0; q < mn; q++)
        for (int l = 0; l < n; l++) {
            double s = 0.0;
            for (int k = 0; k < r; k++) s += g[l * r + k] * wf[q * r + k];
            w->u[l * mn + q] = (float)s;
        }
    return w;
}

void gt__w1d_free(gt__w1d *w) {
    if (!w) return;
    gt__free(w->u);
    free(w);
}

typedef struct {
    const gt__w1d *w;
    const float *x; // (cin, B, H, W)
    float *y;       // (cout, B, Ho, Wo)
    float *v;       // (n, cin, nb)
    float *mm;      // (n, cout, nb)
    const float *bias;
    int cin, cout, B, H, W, Ho, Wo;
    int lin, lout, nl, pad, tl; /* positions in / out along the axis, lanes, padding, tile rows */
    int64_t t0, t1, nb;         /* this block's tiles */
    bool epi;
} gt__w1_job;

/* Up to GT__W1_SEG tiles from *t (< t1): each run within one group. */
typedef struct {
    int ng;
    struct {
        int b, tl, lane0, cnt;
    } g[GT__W1_SEG];
} gt__w1_seg;

static int gt__w1_segment(const gt__w1_job *J, int64_t *t, gt__w1_seg *s) {
    int fill = 0;
    s->ng = 0;
    while (*t < J->t1 && fill < GT__W1_SEG) {
        const int64_t grp = *t / J->nl;
        const int lane0 = (int)(*t % J->nl);
        const int cnt = (int)GT_MIN(GT_MIN((int64_t)(J->nl - lane0), (int64_t)(GT__W1_SEG - fill)), J->t1 - *t);
        s->g[s->ng].b = (int)(grp / J->tl), s->g[s->ng].tl = (int)(grp % J->tl);
        s->g[s->ng].lane0 = lane0, s->g[s->ng].cnt = cnt;
        s->ng++;
        fill += cnt;
        *t += cnt;
    }
    return fill;
}

static void gt__w1_in(void *ctx, int64_t c0, int64_t c1) {
    const gt__w1_job *J = ctx;
    const gt__w1d *w = J->w;
    const int n = w->n, m = w->m, W = J->W;
    const int64_t HW = (int64_t)J->H * W;
    float d[GT__W1_MAXN][GT__W1_SEG];
    gt__w1_seg s;
    for (int64_t c = c0; c < c1; c++) {
        for (int64_t t = J->t0; t < J->t1;) {
            const int64_t ts = t;
            const int fill = gt__w1_segment(J, &t, &s);
            for (int q = 0, k = 0; q < s.ng; k += s.g[q].cnt, q++) { /* gather the n inputs of each tile */
                const int lane0 = s.g[q].lane0, cnt = s.g[q].cnt;
                const float *p = J->x + (c * J->B + s.g[q].b) * HW;
                for (int j = 0; j < n; j++) {
                    const int pos = s.g[q].tl * m - J->pad + j;
                    float *dj = d[j] + k;
                    if (pos < 0 || pos >= J->lin) memset(dj, 0, sizeof(float) * (size_t)cnt);
                    else if (w->along_w)
                        for (int e = 0; e < cnt; e++) dj[e] = p[(int64_t)(lane0 + e) * W + pos];
                    else memcpy(dj, p + (int64_t)pos * W + lane0, sizeof(float) * (size_t)cnt);
                }
            }
            for (int l = 0; l < n; l++) { /* V[l] = sum_j B^T[l][j] d[j] */
                float *v = J->v + ((int64_t)l * J->cin + c) * J->nb + (ts - J->t0);
                const float *d0 = d[w->bidx[l][0]];
                const float b0 = w->bval[l][0];
#pragma omp simd
                for (int k = 0; k < fill; k++) v[k] = b0 * d0[k];
                for (int e = 1; e < w->bnz[l]; e++) {
                    const float *dj = d[w->bidx[l][e]];
                    const float be = w->bval[l][e];
#pragma omp simd
                    for (int k = 0; k < fill; k++) v[k] += be * dj[k];
                }
            }
        }
    }
}

static void gt__w1_out(void *ctx, int64_t o0, int64_t o1) {
    const gt__w1_job *J = ctx;
    const gt__w1d *w = J->w;
    const int m = w->m, Wo = J->Wo;
    const int64_t HWo = (int64_t)J->Ho * Wo;
    float yv[GT__W1_MAXM][GT__W1_SEG];
    gt__w1_seg s;
    for (int64_t co = o0; co < o1; co++) {
        const float bv = J->epi ? J->bias[co] : 0.0f, lo = J->epi ? 0.0f : -INFINITY;
        for (int64_t t = J->t0; t < J->t1;) {
            const int64_t ts = t;
            const int fill = gt__w1_segment(J, &t, &s);
            for (int i = 0; i < m; i++) { /* y_i = relu(sum_l A^T[i][l] M[l] + bias) */
                float *yi = yv[i];
                const float *m0 = J->mm + ((int64_t)w->aidx[i][0] * J->cout + co) * J->nb + (ts - J->t0);
                const float a0 = w->aval[i][0];
#pragma omp simd
                for (int k = 0; k < fill; k++) yi[k] = a0 * m0[k] + bv;
                for (int e = 1; e < w->anz[i]; e++) {
                    const float *ml = J->mm + ((int64_t)w->aidx[i][e] * J->cout + co) * J->nb + (ts - J->t0);
                    const float ae = w->aval[i][e];
#pragma omp simd
                    for (int k = 0; k < fill; k++) yi[k] += ae * ml[k];
                }
#pragma omp simd
                for (int k = 0; k < fill; k++) yi[k] = yi[k] > lo ? yi[k] : lo;
            }
            for (int q = 0, k = 0; q < s.ng; k += s.g[q].cnt, q++) { /* scatter to the output plane */
                const int lane0 = s.g[q].lane0, cnt = s.g[q].cnt;
                float *p = J->y + (co * J->B + s.g[q].b) * HWo;
                for (int i = 0; i < m; i++) {
                    const int pos = s.g[q].tl * m + i;
                    if (pos >= J->lout) break;
                    const float *src = yv[i] + k;
                    if (w->along_w)
                        for (int e = 0; e < cnt; e++) p[(int64_t)(lane0 + e) * Wo + pos] = src[e];
                    else memcpy(p + (int64_t)pos * Wo + lane0, src, sizeof(float) * (size_t)cnt);
                }
            }
        }
    }
}

bool gt__fconv_w1d(gt__fast *F, const gt__bconv *c, const gt__w1d *w, const float *x, int B, int H, int W, float *y,
                   bool epi) {
    const int Ho = H + 2 * c->ph - c->kh + 1, Wo = W + 2 * c->pw - c->kw + 1, n = w->n;
    gt__w1_job J = {.w = w, .x = x, .y = y, .bias = gt_data(c->bf), .cin = c->cin, .cout = c->cout, .B = B, .H = H,
                    .W = W, .Ho = Ho, .Wo = Wo, .epi = epi};
    J.lin = w->along_w ? W : H;
    J.lout = w->along_w ? Wo : Ho;
    J.nl = w->along_w ? H : W;
    J.pad = w->along_w ? c->pw : c->ph;
    J.tl = (J.lout + w->m - 1) / w->m;
    const int64_t T = (int64_t)B * J.tl * J.nl;
    int64_t nb = GT_MAX((int64_t)J.nl, GT__W1_TARGET / ((int64_t)n * (c->cin + c->cout)));
    nb = GT_MIN(T, nb / J.nl * J.nl); /* whole groups */
    const int64_t need = (int64_t)n * (c->cin + c->cout) * nb;
    if (!gt__fast_col(F, need)) return false;
    J.v = F->col, J.mm = F->col + (int64_t)n * c->cin * nb;
    for (int64_t t0 = 0; t0 < T; t0 += nb) {
        J.t0 = t0, J.t1 = GT_MIN(T, t0 + nb), J.nb = J.t1 - t0;
        const int cols = (int)J.nb;
        gt__par_run(F->par, c->cin, GT_MAX(1, 4096 / cols), gt__w1_in, &J);
        gt__fgemm_points(n, c->cout, cols, c->cin, w->u, J.v, J.mm);
        gt__par_run(F->par, c->cout, GT_MAX(1, 4096 / cols), gt__w1_out, &J);
    }
    return true;
}
