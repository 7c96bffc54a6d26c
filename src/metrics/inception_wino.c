/* Winograd F(2x2, 3x3) and F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks") for the fused Inception forward's 3x3 stride-1
 * convolutions, in its (C, B, H, W) layout (inception_fast.h).
 *
 * With the transforms
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * a 2x2 output tile is Y = A^T [(G g G^T) .* (B^T d B)] A for the 4x4 input
 * tile d under it. The weights are transformed once (U = G g G^T, stored as
 * 16 matrices (C_out, C_in)); per block of tiles the input tiles are
 * transformed into V (16, C_in, tiles), 16 sgemms give M_k = U_k @ V_k, and
 * the output transform adds the bias and the ReLU. The transforms share out
 * channels through the pool of inception_par.c; the sgemms run from serial
 * code (OpenBLAS threads them). */
#include "inception_fast.h"


/* A block of tiles aims for about this many floats of V and M together. */
#define GT__WINO_TARGET (1 << 20)
#define GT__WINO_MIN_TILES 256

static void gt__wino_w2(const float *g, int64_t mn, int64_t p, float *u) {
    float t[4][3]; /* G g */
    for (int j = 0; j < 3; j++) {
        t[0][j] = g[j];
        t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
        t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
        t[3][j] = g[6 + j];
    }
    for (int i = 0; i < 4; i++) { /* (G g) G^T */
        u[(i * 4 + 0) * mn + p] = t[i][0];
        u[(i * 4 + 1) * mn + p] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
        u[(i * 4 + 2) * mn + p] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
        u[(i * 4 + 3) * mn + p] = t[i][2];
    }
}

/* F(4x4, 3x3): G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]. */
static void gt__wino_g4(const double *g, int s, double *o, int os) {
    o[0] = g[0] / 4.0;
    o[os] = -(g[0] + g[s] + g[2 * s]) / 6.0;
    o[2 * os] = -(g[0] - g[s] + g[2 * s]) / 6.0;
    o[3 * os] = g[0] / 24.0 + g[s] / 12.0 + g[2 * s] / 6.0;
    o[4 * os] = g[0] / 24.0 - g[s] / 12.0 + g[2 * s] / 6.0;
    o[5 * os] = g[2 * s];
}

static void gt__wino_w4(const float *g, int64_t mn, int64_t p, float *u) {
    double gd[9], t[6][3], v[6][6];
    for (int k = 0; k < 9; k++) gd[k] = g[k];
    for (int j = 0; j < 3; j++) gt__wino_g4(gd + j, 3, &t[0][j], 3);    /* G g */
    for (int i = 0; i < 6; i++) gt__wino_g4(t[i], 1, v[i], 1);          /* (G g) G^T */
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) u[(i * 6 + j) * mn + p] = (float)v[i][j];
}

float *gt__wino_weights(const float *w, int cout, int cin, int m) {
    const int64_t mn = (int64_t)cout * cin, a = (m + 2) * (m + 2);
    float *u = gt__alloc(sizeof(float) * (size_t)(a * mn)); // ((m+2)^2, cout, cin)
    if (!u) return NULL;
    for (int64_t p = 0; p < mn; p++) (m == 4 ? gt__wino_w4 : gt__wino_w2)(w + p * 9, mn, p, u);
    return u;
}

/* Tiles t in [t0, t1) of the chunk, t = (b * TH + th) * TW + tw. */
typedef struct {
    const float *x; // (cin, B, H, W)
    float *y;       // (cout, B, Ho, Wo)
    float *v;       // (16, cin, nt)
    float *m;       // (16, cout, nt)
    const float *bias;
    int tm, cin, cout, B, H, W, Ho, Wo, ph, pw, TH, TW; /* tm: output tile size */
    int64_t t0, t1;
    bool epi;
} gt__wino_job;

/* Tiles of one tile row come at most this many at a time. */
#define GT__WINO_SEG 64

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

/* The nrows input rows from ih0 under a segment of tiles, columns [iw0, iw0+len),
 * zero padded outside the image, into rows (row stride ld floats). */
static void gt__wino_rows(const gt__wino_job *J, const float *p, int ih0, int iw0, int len, int nrows, float *rows,
                          int ld) {
    const int H = J->H, W = J->W;
    for (int i = 0; i < nrows; i++) {
        const int ih = ih0 + i;
        float *r = rows + (int64_t)i * ld;
        if (ih < 0 || ih >= H) {
            memset(r, 0, sizeof(float) * (size_t)len);
            continue;
        }
        const float *xr = p + (int64_t)ih * W;
        const int lo = GT_MAX(0, -iw0), hi = GT_MIN(len, W - iw0);
        for (int k = 0; k < lo; k++) r[k] = 0.0f;
        if (hi > lo) memcpy(r + lo, xr + iw0 + lo, sizeof(float) * (size_t)(hi - lo));
        for (int k = GT_MAX(lo, hi); k < len; k++) r[k] = 0.0f;
    }
}

static void gt__wino_in(void *ctx, int64_t c0, int64_t c1) {
    const gt__wino_job *J = ctx;
    const int H = J->H, W = J->W;
    const int64_t nt = J->t1 - J->t0, ks = (int64_t)J->cin * nt, HW = (int64_t)H * W;
    float row[4][2 * GT__WINO_SEG + 2]; /* the 4 input rows under a segment, zero padded */
    float h[4][4][GT__WINO_SEG];        /* h[i][j] = (d B)[i][j] per tile */
    gt__wseg g;
    for (int64_t c = c0; c < c1; c++) {
        float *v = J->v + c * nt;
        for (int64_t t = J->t0; gt__wino_seg(J, &t, &g);) {
            const int b = g.b, th = g.th, tw0 = g.tw0, n = g.n;
            const int64_t tt = g.tt;
            const float *p = J->x + (c * J->B + b) * HW;
            const int iw0 = 2 * tw0 - J->pw, len = 2 * n + 2;
            gt__wino_rows(J, p, 2 * th - J->ph, iw0, len, 4, row[0], (int)(sizeof row[0] / sizeof(float)));
            for (int i = 0; i < 4; i++) {
                const float *r = row[i];
#pragma omp simd
                for (int k = 0; k < n; k++) {
                    const float d0 = r[2 * k], d1 = r[2 * k + 1], d2 = r[2 * k + 2], d3 = r[2 * k + 3];
                    h[i][0][k] = d0 - d2;
                    h[i][1][k] = d1 + d2;
                    h[i][2][k] = d2 - d1;
                    h[i][3][k] = d1 - d3;
                }
            }
            for (int j = 0; j < 4; j++) {
                float *o0 = v + (0 * 4 + j) * ks + tt, *o1 = v + (1 * 4 + j) * ks + tt;
                float *o2 = v + (2 * 4 + j) * ks + tt, *o3 = v + (3 * 4 + j) * ks + tt;
                const float *h0 = h[0][j], *h1 = h[1][j], *h2 = h[2][j], *h3 = h[3][j];
#pragma omp simd
                for (int k = 0; k < n; k++) {
                    o0[k] = h0[k] - h2[k];
                    o1[k] = h1[k] + h2[k];
                    o2[k] = h2[k] - h1[k];
                    o3[k] = h1[k] - h3[k];
                }
            }
        }
    }
}

static void gt__wino_out(void *ctx, int64_t c0, int64_t c1) {
    const gt__wino_job *J = ctx;
    const int Ho = J->Ho, Wo = J->Wo;
    const int64_t nt = J->t1 - J->t0, ks = (int64_t)J->cout * nt, HWo = (int64_t)Ho * Wo;
    float s[2][4][GT__WINO_SEG]; /* (A^T m) per tile */
    float r[2][2 * GT__WINO_SEG]; /* the two output rows of a segment */
    gt__wseg g;
    for (int64_t co = c0; co < c1; co++) {
        const float *m = J->m + co * nt;
        const float bv = J->epi ? J->bias[co] : 0.0f, lo = J->epi ? 0.0f : -INFINITY;
        for (int64_t t = J->t0; gt__wino_seg(J, &t, &g);) {
            const int b = g.b, th = g.th, tw0 = g.tw0, n = g.n;
            const int64_t tt = g.tt;
            for (int j = 0; j < 4; j++) {
                const float *m0 = m + (0 * 4 + j) * ks + tt, *m1 = m + (1 * 4 + j) * ks + tt;
                const float *m2 = m + (2 * 4 + j) * ks + tt, *m3 = m + (3 * 4 + j) * ks + tt;
#pragma omp simd
                for (int k = 0; k < n; k++) {
                    s[0][j][k] = m0[k] + m1[k] + m2[k];
                    s[1][j][k] = m1[k] - m2[k] - m3[k];
                }
            }
            for (int i = 0; i < 2; i++) {
                const float *a0 = s[i][0], *a1 = s[i][1], *a2 = s[i][2], *a3 = s[i][3];
                float *ri = r[i];
#pragma omp simd
                for (int k = 0; k < n; k++) {
                    const float y0 = a0[k] + a1[k] + a2[k] + bv, y1 = a1[k] - a2[k] - a3[k] + bv;
                    ri[2 * k] = y0 > lo ? y0 : lo;
                    ri[2 * k + 1] = y1 > lo ? y1 : lo;
                }
            }
            const int oh = 2 * th, ow = 2 * tw0, w = GT_MIN(2 * n, Wo - ow);
            float *y = J->y + (co * J->B + b) * HWo + (int64_t)oh * Wo + ow;
            memcpy(y, r[0], sizeof(float) * (size_t)w);
            if (oh + 1 < Ho) memcpy(y + Wo, r[1], sizeof(float) * (size_t)w);
        }
    }
}

/* F(4x4, 3x3): B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
 * 0 2 -1 -2 1 0; 0 4 0 -5 0 1], A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]. */
static void gt__wino4_in(void *ctx, int64_t c0, int64_t c1) {
    const gt__wino_job *J = ctx;
    const int H = J->H, W = J->W;
    const int64_t nt = J->t1 - J->t0, ks = (int64_t)J->cin * nt, HW = (int64_t)H * W;
    float row[6][4 * GT__WINO_SEG + 2]; /* the 6 input rows under a segment, zero padded */
    float h[6][6][GT__WINO_SEG];        /* h[i][j] = (d B)[i][j] per tile */
    gt__wseg g;
    for (int64_t c = c0; c < c1; c++) {
        float *v = J->v + c * nt;
        for (int64_t t = J->t0; gt__wino_seg(J, &t, &g);) {
            const int b = g.b, th = g.th, tw0 = g.tw0, n = g.n;
            const int64_t tt = g.tt;
            const float *p = J->x + (c * J->B + b) * HW;
            const int iw0 = 4 * tw0 - J->pw, len = 4 * n + 2;
            gt__wino_rows(J, p, 4 * th - J->ph, iw0, len, 6, row[0], (int)(sizeof row[0] / sizeof(float)));
            for (int i = 0; i < 6; i++) {
                const float *r = row[i];
#pragma omp simd
                for (int k = 0; k < n; k++) {
                    const float d0 = r[4 * k], d1 = r[4 * k + 1], d2 = r[4 * k + 2], d3 = r[4 * k + 3],
                                d4 = r[4 * k + 4], d5 = r[4 * k + 5];
                    h[i][0][k] = 4.0f * d0 - 5.0f * d2 + d4;
                    h[i][1][k] = -4.0f * (d1 + d2) + d3 + d4;
                    h[i][2][k] = 4.0f * (d1 - d2) - d3 + d4;
                    h[i][3][k] = 2.0f * (d3 - d1) - d2 + d4;
                    h[i][4][k] = 2.0f * (d1 - d3) - d2 + d4;
                    h[i][5][k] = 4.0f * d1 - 5.0f * d3 + d5;
                }
            }
            for (int j = 0; j < 6; j++) {
                float *o0 = v + (0 * 6 + j) * ks + tt, *o1 = v + (1 * 6 + j) * ks + tt, *o2 = v + (2 * 6 + j) * ks + tt;
                float *o3 = v + (3 * 6 + j) * ks + tt, *o4 = v + (4 * 6 + j) * ks + tt, *o5 = v + (5 * 6 + j) * ks + tt;
                const float *h0 = h[0][j], *h1 = h[1][j], *h2 = h[2][j], *h3 = h[3][j], *h4 = h[4][j], *h5 = h[5][j];
#pragma omp simd
                for (int k = 0; k < n; k++) {
                    o0[k] = 4.0f * h0[k] - 5.0f * h2[k] + h4[k];
                    o1[k] = -4.0f * (h1[k] + h2[k]) + h3[k] + h4[k];
                    o2[k] = 4.0f * (h1[k] - h2[k]) - h3[k] + h4[k];
                    o3[k] = 2.0f * (h3[k] - h1[k]) - h2[k] + h4[k];
                    o4[k] = 2.0f * (h1[k] - h3[k]) - h2[k] + h4[k];
                    o5[k] = 4.0f * h1[k] - 5.0f * h3[k] + h5[k];
                }
            }
        }
    }
}

static void gt__wino4_out(void *ctx, int64_t c0, int64_t c1) {
    const gt__wino_job *J = ctx;
    const int Ho = J->Ho, Wo = J->Wo;
    const int64_t nt = J->t1 - J->t0, ks = (int64_t)J->cout * nt, HWo = (int64_t)Ho * Wo;
    float s[4][6][GT__WINO_SEG];  /* (A^T m) per tile */
    float r[4][4 * GT__WINO_SEG]; /* the four output rows of a segment */
    gt__wseg g;
    for (int64_t co = c0; co < c1; co++) {
        const float *m = J->m + co * nt;
        const float bv = J->epi ? J->bias[co] : 0.0f, lo = J->epi ? 0.0f : -INFINITY;
        for (int64_t t = J->t0; gt__wino_seg(J, &t, &g);) {
            const int b = g.b, th = g.th, tw0 = g.tw0, n = g.n;
            const int64_t tt = g.tt;
            for (int j = 0; j < 6; j++) {
                const float *m0 = m + (0 * 6 + j) * ks + tt, *m1 = m + (1 * 6 + j) * ks + tt;
                const float *m2 = m + (2 * 6 + j) * ks + tt, *m3 = m + (3 * 6 + j) * ks + tt;
                const float *m4 = m + (4 * 6 + j) * ks + tt, *m5 = m + (5 * 6 + j) * ks + tt;
#pragma omp simd
                for (int k = 0; k < n; k++) {
                    const float a = m1[k] + m2[k], d = m1[k] - m2[k], e = m3[k] + m4[k], f = m3[k] - m4[k];
                    s[0][j][k] = m0[k] + a + e;
                    s[1][j][k] = d + 2.0f * f;
                    s[2][j][k] = a + 4.0f * e;
                    s[3][j][k] = d + 8.0f * f + m5[k];
                }
            }
            for (int i = 0; i < 4; i++) {
                const float *a0 = s[i][0], *a1 = s[i][1], *a2 = s[i][2], *a3 = s[i][3], *a4 = s[i][4], *a5 = s[i][5];
                float *ri = r[i];
#pragma omp simd
                for (int k = 0; k < n; k++) {
                    const float a = a1[k] + a2[k], d = a1[k] - a2[k], e = a3[k] + a4[k], f = a3[k] - a4[k];
                    const float y0 = a0[k] + a + e + bv, y1 = d + 2.0f * f + bv, y2 = a + 4.0f * e + bv,
                                y3 = d + 8.0f * f + a5[k] + bv;
                    ri[4 * k] = y0 > lo ? y0 : lo;
                    ri[4 * k + 1] = y1 > lo ? y1 : lo;
                    ri[4 * k + 2] = y2 > lo ? y2 : lo;
                    ri[4 * k + 3] = y3 > lo ? y3 : lo;
                }
            }
            const int oh = 4 * th, ow = 4 * tw0, w = GT_MIN(4 * n, Wo - ow);
            float *y = J->y + (co * J->B + b) * HWo + (int64_t)oh * Wo + ow;
            for (int i = 0; i < 4 && oh + i < Ho; i++) memcpy(y + (int64_t)i * Wo, r[i], sizeof(float) * (size_t)w);
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
        gt__par_run(F->par, c->cin, GT_MAX(1, 4096 / n), m == 4 ? gt__wino4_in : gt__wino_in, &J);
        gt__fgemm_points(A, c->cout, (int)n, c->cin, u, J.v, J.m);
        gt__par_run(F->par, c->cout, GT_MAX(1, 4096 / n), m == 4 ? gt__wino4_out : gt__wino_out, &J);
    }
    return true;
}
