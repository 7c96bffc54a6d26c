/* Winograd F(2x2, 3x3) and F(4x4, 3x3) for the fused Inception forward's 3x3
 * stride-1 convolutions, in its (C, B, H, W) layout (inception_fast.h), on
 * the backend's transforms (src/backend/cpu/winograd.h).
 *
 * The weights are transformed once (U = G g G^T, stored as (m+2)^2 matrices
 * (C_out, C_in)); per block of tiles the input tiles are transformed into
 * V ((m+2)^2, C_in, tiles), one sgemm per point gives M_k = U_k @ V_k, and
 * the output transform adds the bias and the ReLU. The transforms share out
 * channels through the backend's work pool; the sgemms run from serial code. */
#include "inception_fast.h"


/* A block of tiles aims for about this many floats of V and M together. */
#define GT__WINO_TARGET (1 << 20)
#define GT__WINO_MIN_TILES 256

float *gt__wino_weights(const float *w, int cout, int cin, int m) {
    const int64_t mn = (int64_t)cout * cin, a = (m + 2) * (m + 2);
    float *u = gt__alloc(sizeof(float) * (size_t)(a * mn)); // ((m+2)^2, cout, cin)
    if (!u) return NULL;
    gt_cpu_wino3_weights(m, w, cout, cin, (int64_t)cin * 9, 9, false, u, mn);
    return u;
}

/* Tiles t in [t0, t1) of the chunk, t = (b * TH + th) * TW + tw. */
typedef struct {
    const float *x; // (cin, B, H, W)
    float *y;       // (cout, B, Ho, Wo)
    float *v;       // ((tm+2)^2, cin, nt)
    float *m;       // ((tm+2)^2, cout, nt)
    const float *bias;
    int tm, cin, cout, B, H, W, Ho, Wo, ph, pw, TH, TW; /* tm: output tile size */
    int64_t t0, t1;
    bool epi;
} gt__wino_job;

/* Tiles of one tile row come at most this many at a time. */
#define GT__WINO_SEG GT_CPU_WINO_SEG

/* The segments of tile rows in [t0, t1): tiles (b, th, tw0 .. tw0 + n) at
 * column tt of the block; false when none are left after *t. */
typedef struct {
    int b, th, tw0, n;
    int64_t tt;
} gt__wseg;

static inline bool gt__wino_seg(const gt__wino_job *J, int64_t *t, gt__wseg *g) {
    if (*t >= J->t1) return false;
    const int64_t TT = (int64_t)J->TH * J->TW;
    g->b = (int)(*t / TT), g->th = (int)((*t % TT) / J->TW), g->tw0 = (int)(*t % J->TW);
    g->n = (int)GT_MIN(GT_MIN((int64_t)GT__WINO_SEG, J->TW - g->tw0), J->t1 - *t);
    g->tt = *t - J->t0;
    *t += g->n;
    return true;
}

/* The input transform of channels [c0, c1): per segment of tiles, the m + 2
 * input rows under it, zero padded, then B^T d B into V. */
static void gt__wino_in(void *ctx, int64_t c0, int64_t c1) {
    const gt__wino_job *J = ctx;
    const int H = J->H, W = J->W, m = J->tm;
    const int64_t nt = J->t1 - J->t0, ks = (int64_t)J->cin * nt, HW = (int64_t)H * W;
    float row[6][4 * GT__WINO_SEG + 2]; /* the m + 2 input rows under a segment, zero padded */
    const int64_t ld = (int64_t)(sizeof row[0] / sizeof(float));
    gt__wseg g;
    for (int64_t c = c0; c < c1; c++) {
        float *v = J->v + c * nt;
        for (int64_t t = J->t0; gt__wino_seg(J, &t, &g);) {
            const float *p = J->x + (c * J->B + g.b) * HW;
            gt_cpu_wino_rows(p, H, W, m * g.th - J->ph, m * g.tw0 - J->pw, m * g.n + 2, m + 2, row[0], ld);
            gt_cpu_wino3_in(m, row[0], ld, g.n, v + g.tt, ks);
        }
    }
}

/* The output transform of output channels [c0, c1): A^T M A, bias, ReLU. */
static void gt__wino_out(void *ctx, int64_t c0, int64_t c1) {
    const gt__wino_job *J = ctx;
    const int Ho = J->Ho, Wo = J->Wo, m = J->tm;
    const int64_t nt = J->t1 - J->t0, ks = (int64_t)J->cout * nt, HWo = (int64_t)Ho * Wo;
    float r[4][4 * GT__WINO_SEG]; /* the m output rows of a segment */
    gt__wseg g;
    for (int64_t co = c0; co < c1; co++) {
        const float *mm = J->m + co * nt;
        const float bv = J->epi ? J->bias[co] : 0.0f, lo = J->epi ? 0.0f : -INFINITY;
        for (int64_t t = J->t0; gt__wino_seg(J, &t, &g);) {
            gt_cpu_wino3_out(m, mm + g.tt, ks, g.n, bv, lo, r[0], 4 * GT__WINO_SEG);
            const int oh = m * g.th, ow = m * g.tw0, w = GT_MIN(m * g.n, Wo - ow);
            float *y = J->y + (co * J->B + g.b) * HWo + (int64_t)oh * Wo + ow;
            for (int i = 0; i < m && oh + i < Ho; i++) memcpy(y + (int64_t)i * Wo, r[i], sizeof(float) * (size_t)w);
        }
    }
}

bool gt__fconv_wino(gt__fast *F, const gt__bconv *c, const float *u, int m, const float *x, int B, int H, int W,
                    float *y, bool epi) {
    GT_ASSERT(c->kh == 3 && c->kw == 3 && c->sh == 1 && c->sw == 1 && (m == 2 || m == 4));
    const int Ho = H + 2 * c->ph - 2, Wo = W + 2 * c->pw - 2, A = (m + 2) * (m + 2);
    const int TH = (Ho + m - 1) / m, TW = (Wo + m - 1) / m;
    const int64_t T = (int64_t)B * TH * TW;
    int64_t nb = GT_MAX(GT__WINO_MIN_TILES, GT__WINO_TARGET / (A * (int64_t)(c->cin + c->cout)));
    nb = GT_MIN(T, (nb + 15) / 16 * 16);
    const int64_t need = A * (int64_t)(c->cin + c->cout) * nb;
    if (!gt__fast_col(F, need)) return false;
    gt__wino_job J = {x,  y,  F->col, F->col + A * (int64_t)c->cin * nb, gt_data(c->bf), m, c->cin, c->cout, B, H,
                      W,  Ho, Wo,     c->ph,  c->pw, TH, TW, 0, 0, epi};
    for (int64_t t0 = 0; t0 < T; t0 += nb) {
        const int64_t t1 = GT_MIN(T, t0 + nb), n = t1 - t0;
        J.t0 = t0, J.t1 = t1;
        gt_cpu_par_run(F->par, c->cin, GT_MAX(1, 4096 / n), gt__wino_in, &J);
        gt_cpu_wino_gemm(A, c->cout, (int)n, c->cin, u, J.v, J.m, 0);
        gt_cpu_par_run(F->par, c->cout, GT_MAX(1, 4096 / n), gt__wino_out, &J);
    }
    return true;
}
