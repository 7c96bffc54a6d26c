/* Winograd F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
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

#include <cblas.h>

/* A block of tiles aims for about this many floats of V and M together. */
#define GT__WINO_TARGET (1 << 21)
#define GT__WINO_MIN_TILES 256

float *gt__wino_weights(const float *w, int cout, int cin) {
    const int64_t mn = (int64_t)cout * cin;
    float *u = gt__alloc(sizeof(float) * (size_t)(16 * mn)); // (16, cout, cin)
    if (!u) return NULL;
    for (int64_t p = 0; p < mn; p++) {
        const float *g = w + p * 9; // (3, 3)
        float t[4][3];              // G g
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
    return u;
}

/* Tiles t in [t0, t1) of the chunk, t = (b * TH + th) * TW + tw. */
typedef struct {
    const float *x; // (cin, B, H, W)
    float *y;       // (cout, B, Ho, Wo)
    float *v;       // (16, cin, nt)
    float *m;       // (16, cout, nt)
    const float *bias;
    int cin, cout, B, H, W, Ho, Wo, ph, pw, TH, TW;
    int64_t t0, t1;
    bool epi;
} gt__wino_job;

static void gt__wino_in(void *ctx, int64_t c0, int64_t c1) {
    const gt__wino_job *J = ctx;
    const int H = J->H, W = J->W, TT = J->TH * J->TW;
    const int64_t nt = J->t1 - J->t0, ks = (int64_t)J->cin * nt, HW = (int64_t)H * W;
    for (int64_t c = c0; c < c1; c++) {
        float *v = J->v + c * nt;
        for (int64_t t = J->t0; t < J->t1; t++) {
            const int b = (int)(t / TT), r = (int)(t % TT), th = r / J->TW, tw = r % J->TW;
            const int ih0 = 2 * th - J->ph, iw0 = 2 * tw - J->pw;
            const float *p = J->x + (c * J->B + b) * HW;
            float d[4][4];
            if (ih0 >= 0 && iw0 >= 0 && ih0 + 4 <= H && iw0 + 4 <= W) {
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) d[i][j] = p[(int64_t)(ih0 + i) * W + iw0 + j];
            } else {
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) {
                        int ih = ih0 + i, iw = iw0 + j;
                        d[i][j] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? p[(int64_t)ih * W + iw] : 0.0f;
                    }
            }
            float s[4][4]; /* B^T d */
            for (int j = 0; j < 4; j++) {
                s[0][j] = d[0][j] - d[2][j];
                s[1][j] = d[1][j] + d[2][j];
                s[2][j] = d[2][j] - d[1][j];
                s[3][j] = d[1][j] - d[3][j];
            }
            float *o = v + (t - J->t0);
            for (int i = 0; i < 4; i++) { /* (B^T d) B */
                o[(i * 4 + 0) * ks] = s[i][0] - s[i][2];
                o[(i * 4 + 1) * ks] = s[i][1] + s[i][2];
                o[(i * 4 + 2) * ks] = s[i][2] - s[i][1];
                o[(i * 4 + 3) * ks] = s[i][1] - s[i][3];
            }
        }
    }
}

static void gt__wino_out(void *ctx, int64_t c0, int64_t c1) {
    const gt__wino_job *J = ctx;
    const int Ho = J->Ho, Wo = J->Wo, TT = J->TH * J->TW;
    const int64_t nt = J->t1 - J->t0, ks = (int64_t)J->cout * nt, HWo = (int64_t)Ho * Wo;
    for (int64_t co = c0; co < c1; co++) {
        const float *m = J->m + co * nt;
        const float bv = J->epi ? J->bias[co] : 0.0f;
        for (int64_t t = J->t0; t < J->t1; t++) {
            const int b = (int)(t / TT), r = (int)(t % TT), th = r / J->TW, tw = r % J->TW;
            const float *q = m + (t - J->t0);
            float e[16];
            for (int k = 0; k < 16; k++) e[k] = q[k * ks];
            float s[2][4]; /* A^T m */
            for (int j = 0; j < 4; j++) {
                s[0][j] = e[j] + e[4 + j] + e[8 + j];
                s[1][j] = e[4 + j] - e[8 + j] - e[12 + j];
            }
            float o[2][2]; /* (A^T m) A */
            for (int i = 0; i < 2; i++) {
                o[i][0] = s[i][0] + s[i][1] + s[i][2] + bv;
                o[i][1] = s[i][1] - s[i][2] - s[i][3] + bv;
                if (J->epi) {
                    o[i][0] = o[i][0] > 0.0f ? o[i][0] : 0.0f;
                    o[i][1] = o[i][1] > 0.0f ? o[i][1] : 0.0f;
                }
            }
            const int oh = 2 * th, ow = 2 * tw;
            float *y = J->y + (co * J->B + b) * HWo + (int64_t)oh * Wo + ow;
            const bool w2 = ow + 1 < Wo;
            y[0] = o[0][0];
            if (w2) y[1] = o[0][1];
            if (oh + 1 < Ho) {
                y[Wo] = o[1][0];
                if (w2) y[Wo + 1] = o[1][1];
            }
        }
    }
}

bool gt__fconv_wino(gt__fast *F, const gt__bconv *c, const float *u, const float *x, int B, int H, int W, float *y,
                    bool epi) {
    GT_ASSERT(c->kh == 3 && c->kw == 3 && c->sh == 1 && c->sw == 1);
    const int Ho = H + 2 * c->ph - 2, Wo = W + 2 * c->pw - 2;
    const int TH = (Ho + 1) / 2, TW = (Wo + 1) / 2;
    const int64_t T = (int64_t)B * TH * TW;
    int64_t nb = GT_MAX(GT__WINO_MIN_TILES, GT__WINO_TARGET / (16 * (int64_t)(c->cin + c->cout)));
    nb = GT_MIN(T, (nb + 15) / 16 * 16);
    const int64_t need = 16 * (int64_t)(c->cin + c->cout) * nb;
    if (need > F->col_cap) {
        gt__free(F->col);
        F->col = gt__alloc(sizeof(float) * (size_t)need);
        F->col_cap = F->col ? need : 0;
        if (!F->col) return false;
    }
    gt__wino_job J = {x,  y,     F->col, F->col + 16 * (int64_t)c->cin * nb, gt_data(c->bf), c->cin, c->cout, B, H, W,
                      Ho, Wo,    c->ph,  c->pw, TH, TW, 0, 0, epi};
    const int64_t mn = (int64_t)c->cout * c->cin;
    for (int64_t t0 = 0; t0 < T; t0 += nb) {
        const int64_t t1 = GT_MIN(T, t0 + nb), n = t1 - t0;
        J.t0 = t0, J.t1 = t1;
        gt__par_run(F->par, c->cin, GT_MAX(1, 4096 / n), gt__wino_in, &J);
        for (int k = 0; k < 16; k++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->cout, (int)n, c->cin, 1.0f, u + k * mn, c->cin,
                        J.v + k * (int64_t)c->cin * n, (int)n, 0.0f, J.m + k * (int64_t)c->cout * n, (int)n);
        gt__par_run(F->par, c->cout, GT_MAX(1, 4096 / n), gt__wino_out, &J);
    }
    return true;
}
