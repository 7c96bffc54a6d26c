/* One-dimensional Winograd F(m, r) (Toom-Cook; Lavin & Gray, "Fast Algorithms
 * for Convolutional Neural Networks") for the fused Inception forward's
 * 1 x r and r x 1 stride-1 convolutions (the 1x7 / 7x1 of Mixed_6b..7a, the
 * 1x3 / 3x1 of Mixed_7b, 7c), in its (C, B, H, W) layout (inception_fast.h).
 *
 * The transforms (B^T, G, A^T from n = m + r - 1 Toom-Cook points) and the
 * tile kernels are the backend's (src/backend/cpu/winograd.h); this file
 * gathers and scatters the tiles of the (C, B, H, W) layout.
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
#define GT__W1_SEG GT_CPU_WINO1_SEG

bool gt__w1d_fits(const gt__bconv *c, int m) {
    const bool along_w = c->kh == 1;
    const int r = along_w ? c->kw : c->kh, n = m + r - 1;
    return c->sh == 1 && c->sw == 1 && (along_w ? c->ph : c->pw) == 0 && (c->kh == 1 || c->kw == 1) && r >= 2 &&
           m >= 1 && n <= GT_CPU_WINO_MAXN && m <= GT_CPU_WINO_MAXM;
}

gt__w1d *gt__w1d_new(const gt__bconv *c, int m) {
    if (!gt__w1d_fits(c, m)) return NULL;
    const bool along_w = c->kh == 1;
    const int r = along_w ? c->kw : c->kh;
    gt__w1d *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->along_w = along_w;
    const int64_t mn = (int64_t)c->cout * c->cin;
    if (!gt_cpu_wino_init(&w->t, m, r) || !(w->u = gt__alloc(sizeof(float) * (size_t)(w->t.n * mn)))) {
        free(w);
        return NULL;
    }
    gt_cpu_wino1_weights(&w->t, gt_data(c->wf), mn, w->u); /* (cout, cin, kh, kw): r taps in a row either way */
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
    const int n = w->t.n, m = w->t.m, W = J->W;
    const int64_t HW = (int64_t)J->H * W;
    float d[GT_CPU_WINO_MAXN][GT__W1_SEG];
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
            /* V[l] = sum_j B^T[l][j] d[j] */
            gt_cpu_wino1_in(&w->t, d[0], GT__W1_SEG, fill, J->v + c * J->nb + (ts - J->t0), (int64_t)J->cin * J->nb);
        }
    }
}

static void gt__w1_out(void *ctx, int64_t o0, int64_t o1) {
    const gt__w1_job *J = ctx;
    const gt__w1d *w = J->w;
    const int m = w->t.m, Wo = J->Wo;
    const int64_t HWo = (int64_t)J->Ho * Wo;
    float yv[GT_CPU_WINO_MAXM][GT__W1_SEG];
    gt__w1_seg s;
    for (int64_t co = o0; co < o1; co++) {
        const float bv = J->epi ? J->bias[co] : 0.0f, lo = J->epi ? 0.0f : -INFINITY;
        for (int64_t t = J->t0; t < J->t1;) {
            const int64_t ts = t;
            const int fill = gt__w1_segment(J, &t, &s);
            /* y_i = relu(sum_l A^T[i][l] M[l] + bias) */
            gt_cpu_wino1_out(&w->t, J->mm + co * J->nb + (ts - J->t0), (int64_t)J->cout * J->nb, fill, bv, lo, yv[0],
                             GT__W1_SEG);
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
    const int Ho = H + 2 * c->ph - c->kh + 1, Wo = W + 2 * c->pw - c->kw + 1, n = w->t.n;
    gt__w1_job J = {.w = w, .x = x, .y = y, .bias = gt_data(c->bf), .cin = c->cin, .cout = c->cout, .B = B, .H = H,
                    .W = W, .Ho = Ho, .Wo = Wo, .epi = epi};
    J.lin = w->along_w ? W : H;
    J.lout = w->along_w ? Wo : Ho;
    J.nl = w->along_w ? H : W;
    J.pad = w->along_w ? c->pw : c->ph;
    J.tl = (J.lout + w->t.m - 1) / w->t.m;
    const int64_t T = (int64_t)B * J.tl * J.nl;
    int64_t nb = GT_MAX((int64_t)J.nl, GT__W1_TARGET / ((int64_t)n * (c->cin + c->cout)));
    nb = GT_MIN(T, nb / J.nl * J.nl); /* whole groups */
    const int64_t need = (int64_t)n * (c->cin + c->cout) * nb;
    if (!gt__fast_col(F, need)) return false;
    J.v = F->col, J.mm = F->col + (int64_t)n * c->cin * nb;
    for (int64_t t0 = 0; t0 < T; t0 += nb) {
        J.t0 = t0, J.t1 = GT_MIN(T, t0 + nb), J.nb = J.t1 - t0;
        const int cols = (int)J.nb;
        gt_cpu_par_run(F->par, c->cin, GT_MAX(1, 4096 / cols), gt__w1_in, &J);
        gt_cpu_wino_gemm(n, c->cout, cols, c->cin, w->u, J.v, J.mm, 0);
        gt_cpu_par_run(F->par, c->cout, GT_MAX(1, 4096 / cols), gt__w1_out, &J);
    }
    return true;
}
