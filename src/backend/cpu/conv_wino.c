/* Winograd F(2x2, 3x3) for the 3x3 stride-1 convolutions of training (forward
 * and input gradient; see conv_wino.h). Each 2 x 2 block of outputs comes from
 * a 4 x 4 block of input in 16 products instead of 36:
 *   U = G g G^T  (16, O, C)   the weights, once per call, packed for sgemm
 *   V = B^T d B  (16, C, T)   T input tiles (of a chunk of images)
 *   M = U @ V    (16, O, T)   16 sgemms
 *   y = A^T M A               2 x 2 outputs a tile (+ bias)
 * with G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1], B^T = [1 0 -1 0; 0 1 1 0;
 * 0 -1 1 0; 0 1 0 -1], A^T = [1 1 1 0; 0 1 -1 -1]. F(2x2, 3x3)'s transforms
 * have small integer and half entries: it rounds like the direct sum to a few
 * ulps (the tests hold it to the naive kernel at 1e-4). The input gradient of
 * a stride-1 3x3 conv is itself one: gy correlated with the weights turned by
 * 180 degrees and transposed (O <-> C), padding 2 - p. */
#include "conv_wino.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../../internal.h"
#include "sgemm.h"

bool gt_cpu_conv_wino_fits(const gt_conv_geom *g, bool data) {
    if (g->kh != 3 || g->kw != 3 || g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1 || g->groups != 1)
        return false;
    if (g->ho != g->h + 2 * g->ph - 2 || g->wo != g->w + 2 * g->pw - 2 || g->ho < 2 || g->wo < 2) return false;
    return !data || (g->ph <= 2 && g->pw <= 2);
}

bool gt_cpu_conv_wino_ok(const gt_conv_geom *g, bool data) {
    /* where it measured faster than im2col (bench_ops, Intel Xeon, 2 threads): large images, whose im2col
       leaves the cache (147 x 147, 32 -> 64: 44 -> 38 ms); at 35 x 35 with 64 channels its 16 sgemms of
       K = 64 lose to im2col's one of K = 576 */
    return gt_cpu_conv_wino_fits(g, data) && g->c >= 16 && g->o >= 16 && g->ho * g->wo >= 4096;
}

/* U (16, O, C) from w: w(o, c, i, j) at w[o * os + c * cs + i * 3 + j] (flip: taps turned by 180 degrees). */
static void gt__wino_u(const float *w, int64_t O, int64_t C, int64_t os, int64_t cs, bool flip, float *u) {
    for (int64_t o = 0; o < O; o++)
        for (int64_t c = 0; c < C; c++) {
            const float *g = w + o * os + c * cs;
            float k[3][3], t[4][3];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) k[i][j] = flip ? g[(2 - i) * 3 + (2 - j)] : g[i * 3 + j];
            for (int j = 0; j < 3; j++) { /* G k */
                t[0][j] = k[0][j];
                t[1][j] = 0.5f * (k[0][j] + k[1][j] + k[2][j]);
                t[2][j] = 0.5f * (k[0][j] - k[1][j] + k[2][j]);
                t[3][j] = k[2][j];
            }
            for (int i = 0; i < 4; i++) { /* (G k) G^T */
                float *d = u + (int64_t)(i * 4) * O * C + o * C + c;
                d[0] = t[i][0];
                d[O * C] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                d[2 * O * C] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                d[3 * O * C] = t[i][2];
            }
        }
}

typedef struct {
    int64_t C, H, W, O, Ho, Wo, ph, pw, th, tw; /* th x tw tiles an image */
} gt__wgeom;

#define GT__WB 64 /* tiles a row handled together (the inner loops run over them: vectorised) */

/* V (16, C, T) for images [n0, n0 + nb) of x (N, C, H, W); tile t = (image, tile row, tile column).
 * Four input rows are copied into zero-padded rows first, so the loops over tiles need no bounds. */
static void gt__wino_v(const gt__wgeom *q, const float *x, int64_t nb, float *v, float *rows) {
    const int64_t T = nb * q->th * q->tw, CT = q->C * T, RW = 2 * q->tw + 2; /* a padded row */
    for (int64_t b = 0; b < nb; b++)
        for (int64_t c = 0; c < q->C; c++) {
            const float *xc = x + (b * q->C + c) * q->H * q->W;
            for (int64_t ty = 0; ty < q->th; ty++) {
                for (int i = 0; i < 4; i++) { /* input row 2 ty - ph + i, columns -pw .. 2 tw + 2 - pw */
                    float *r = rows + i * RW;
                    int64_t yy = 2 * ty - q->ph + i;
                    if (yy < 0 || yy >= q->H) {
                        memset(r, 0, (size_t)RW * sizeof(float));
                        continue;
                    }
                    for (int64_t k = 0; k < RW; k++) {
                        int64_t xx = k - q->pw;
                        r[k] = xx >= 0 && xx < q->W ? xc[yy * q->W + xx] : 0.0f;
                    }
                }
                float *o = v + c * T + (b * q->th + ty) * q->tw;
                for (int64_t t0 = 0; t0 < q->tw; t0 += GT__WB) {
                    const int n = (int)GT_MIN(GT__WB, q->tw - t0);
                    float bt[4][4][GT__WB]; /* B^T d, rows i, columns j, tiles */
                    for (int j = 0; j < 4; j++) {
                        const float *r0 = rows + 2 * t0 + j, *r1 = r0 + RW, *r2 = r1 + RW, *r3 = r2 + RW;
                        for (int t = 0; t < n; t++) {
                            float d0 = r0[2 * t], d1 = r1[2 * t], d2 = r2[2 * t], d3 = r3[2 * t];
                            bt[0][j][t] = d0 - d2;
                            bt[1][j][t] = d1 + d2;
                            bt[2][j][t] = d2 - d1;
                            bt[3][j][t] = d1 - d3;
                        }
                    }
                    for (int i = 0; i < 4; i++) {
                        float *o0 = o + t0 + (i * 4) * CT, *o1 = o0 + CT, *o2 = o1 + CT, *o3 = o2 + CT;
                        for (int t = 0; t < n; t++) {
                            float a0 = bt[i][0][t], a1 = bt[i][1][t], a2 = bt[i][2][t], a3 = bt[i][3][t];
                            o0[t] = a0 - a2;
                            o1[t] = a1 + a2;
                            o2[t] = a2 - a1;
                            o3[t] = a1 - a3;
                        }
                    }
                }
            }
        }
}

/* y for images [n0, n0 + nb) from M (16, O, T) (+ bias). */
static void gt__wino_y(const gt__wgeom *q, const float *m, const float *bias, int64_t nb, float *y) {
    const int64_t T = nb * q->th * q->tw, OT = q->O * T;
    for (int64_t b = 0; b < nb; b++)
        for (int64_t o = 0; o < q->O; o++) {
            float *yo = y + (b * q->O + o) * q->Ho * q->Wo;
            const float bv = bias ? bias[o] : 0.0f;
            for (int64_t ty = 0; ty < q->th; ty++) {
                const float *s = m + o * T + (b * q->th + ty) * q->tw;
                for (int64_t t0 = 0; t0 < q->tw; t0 += GT__WB) {
                    const int n = (int)GT_MIN(GT__WB, q->tw - t0);
                    float at[2][4][GT__WB], out[2][2 * GT__WB];
                    for (int j = 0; j < 4; j++) { /* A^T m: rows of M (i = 0..3) at planes 4 i + j */
                        const float *m0 = s + t0 + j * OT, *m1 = m0 + 4 * OT, *m2 = m1 + 4 * OT, *m3 = m2 + 4 * OT;
                        for (int t = 0; t < n; t++) {
                            at[0][j][t] = m0[t] + m1[t] + m2[t];
                            at[1][j][t] = m1[t] - m2[t] - m3[t];
                        }
                    }
                    for (int i = 0; i < 2; i++)
                        for (int t = 0; t < n; t++) { /* (A^T m) A, interleaved into the output row */
                            out[i][2 * t] = at[i][0][t] + at[i][1][t] + at[i][2][t] + bv;
                            out[i][2 * t + 1] = at[i][1][t] - at[i][2][t] - at[i][3][t] + bv;
                        }
                    for (int i = 0; i < 2; i++) {
                        int64_t oy = 2 * ty + i, x0 = 2 * t0;
                        if (oy < q->Ho) memcpy(yo + oy * q->Wo + x0, out[i], (size_t)GT_MIN(2 * n, q->Wo - x0) * sizeof(float));
                    }
                }
            }
        }
}

/* y (N, O, Ho, Wo) = bias + the 3x3 correlation of x (N, C, H, W) with the weights behind U. */
static bool gt__wino_run(const gt__wgeom *q, int64_t N, const float *x, const float *u, const float *bias, float *y) {
    gt_sgemm_apack pk[16];
    int made = 0;
    for (; made < 16; made++)
        if (!gt_sgemm_apack_make(&pk[made], q->O, q->C, u + made * q->O * q->C, q->C, 1)) break;
    bool ok = made == 16;
    if (ok) {
        /* images per chunk: about 2048 tiles (an sgemm of that many columns), at least one image */
        const int64_t per = q->th * q->tw, nb = GT_MAX(1, GT_MIN(N, 2048 / GT_MAX(per, 1)));
        const int64_t nch = (N + nb - 1) / nb;
        int nt = 1;
#ifdef _OPENMP
        nt = omp_in_parallel() ? 1 : omp_get_max_threads();
#endif
        if (nt > nch) nt = (int)nch;
#pragma omp parallel num_threads(nt) if (nt > 1)
        {
            float *buf = gt_sgemm_scratch((size_t)(16 * nb * per * (q->C + q->O) + 4 * (2 * q->tw + 2)));
            if (!buf) {
#pragma omp atomic write
                ok = false;
            }
#pragma omp for schedule(dynamic, 1)
            for (int64_t ch = 0; ch < nch; ch++) {
                if (!buf) continue;
                int64_t n0 = ch * nb, b = GT_MIN(nb, N - n0), T = b * per;
                float *v = buf, *m = buf + 16 * nb * per * q->C;
                gt__wino_v(q, x + n0 * q->C * q->H * q->W, b, v, m + 16 * nb * per * q->O);
                /* inside a team, each sgemm runs on its thread; alone, it takes the threads itself */
                for (int k = 0; k < 16; k++) gt_sgemm_packed(&pk[k], T, v + k * q->C * T, T, 1, 0.0f, m + k * q->O * T, T, 0);
                gt__wino_y(q, m, bias, b, y + n0 * q->O * q->Ho * q->Wo);
            }
        }
    }
    for (int k = 0; k < made; k++) gt_sgemm_apack_free(&pk[k]);
    return ok;
}

static bool gt__wino(const gt_conv_geom *g, const float *in, const float *w, const float *b, float *out, bool data) {
    gt__wgeom q;
    if (!data) /* y = corr(x, w), padding p */
        q = (gt__wgeom){g->c, g->h, g->w, g->o, g->ho, g->wo, g->ph, g->pw, (g->ho + 1) / 2, (g->wo + 1) / 2};
    else /* gx = corr(gy, w turned and transposed), padding 2 - p */
        q = (gt__wgeom){g->o, g->ho, g->wo, g->c, g->h, g->w, 2 - g->ph, 2 - g->pw, (g->h + 1) / 2, (g->w + 1) / 2};
    float *u = gt__alloc((size_t)(16 * q.O * q.C) * sizeof(float));
    if (!u) return false;
    if (!data) gt__wino_u(w, q.O, q.C, g->c * 9, 9, false, u);
    else gt__wino_u(w, q.O, q.C, 9, g->c * 9, true, u); /* w'(c, o) = w(o, c) turned */
    bool ok = gt__wino_run(&q, g->n, in, u, b, out);
    gt__free(u);
    return ok;
}

bool gt_cpu_conv_wino_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    return gt__wino(g, x, w, b, y, false);
}

bool gt_cpu_conv_wino_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx) {
    return gt__wino(g, gy, w, b, gx, true);
}
