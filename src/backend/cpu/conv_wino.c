/* Winograd F(m x m, 3x3), m 2 or 4, for the 3x3 stride-1 convolutions of
 * training (forward and input gradient; see conv_wino.h), on the transforms
 * and tile kernels of winograd.h. Each m x m block of outputs comes from an
 * (m + 2) x (m + 2) block of input in (m + 2)^2 products instead of 9 m^2:
 *   U = G g G^T  (A, O, C)   the weights, once per call, packed for sgemm
 *   V = B^T d B  (A, C, T)   T input tiles (of a chunk of images)
 *   M = U @ V    (A, O, T)   A = (m + 2)^2 sgemms
 *   y = A^T M A              m x m outputs a tile (+ bias)
 * F(2x2, 3x3) (16 products for 4 outputs) rounds like the direct sum to a
 * few ulps; F(4x4, 3x3) (36 for 16) has entries up to 8 and 1/24 and is used
 * only while K <= GT_CPU_WINO4_MAX_K. The input gradient of a stride-1 3x3
 * conv is itself one: gy correlated with the weights turned by 180 degrees
 * and transposed (O <-> C), padding 2 - p. */
#include "conv_wino.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../../internal.h"
#include "sgemm.h"
#include "winograd.h"

bool gt_cpu_conv_wino_fits(const gt_conv_geom *g, bool data) {
    if (g->kh != 3 || g->kw != 3 || g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1 || g->groups != 1)
        return false;
    if (g->ho != g->h + 2 * g->ph - 2 || g->wo != g->w + 2 * g->pw - 2 || g->ho < 2 || g->wo < 2) return false;
    return !data || (g->ph <= 2 && g->pw <= 2);
}

static int gt__wino_force; /* 0: the policy's tile; 2 or 4: that one (tests) */
void gt_cpu_conv_wino_set_tile(int m) { gt__wino_force = m == 2 || m == 4 ? m : 0; }

int gt_cpu_conv_wino_tile_fit(const gt_conv_geom *g, bool data) {
    (void)g, (void)data;
    return gt__wino_force ? gt__wino_force : 2;
}

int gt_cpu_conv_wino_tile(const gt_conv_geom *g, bool data) {
    /* F(2x2) measured faster than im2col (bench_ops, Intel Xeon, 2 threads) on large images, whose
       im2col leaves the cache (147 x 147, 32 -> 64: 44 -> 38 ms). F(4x4) took 10-35% off F(2x2)'s time
       at 64 x 64 and 128 x 128 with 32 to 256 channels (AMD EPYC, 2 threads, loaded), forward and input
       gradient. What decides for smaller images is the batch's tile count, not the image's
       (bench_ops, AMD EPYC without AVX-512, 2 threads, F(4x4) vs im2col, forward): 128 -> 128 at
       32 x 32, batch 64: 69 vs 134 ms; at 16 x 16, batch 64: 19 vs 32 ms; 64 -> 96 at 35 x 35, batch 8:
       4.6-5.0 vs 7.9-8.1 ms; but at 8 x 8 (2 x 2 tiles an image), batch 64: 8.6-11.1 vs 8.9-9.4 ms. So an
       image of at least 16 x 16 outputs and a batch of at least 8192 outputs per channel. */
    if (!gt_cpu_conv_wino_fits(g, data) || g->c < 16 || g->o < 16) return 0;
    if (g->ho * g->wo < 256 || g->n * g->ho * g->wo < 8192) return 0;
    if (gt__wino_force) return gt__wino_force;
    return (data ? g->o : g->c) <= GT_CPU_WINO4_MAX_K ? 4 : 2; /* the products' K */
}

typedef struct {
    int64_t C, H, W, O, Ho, Wo, ph, pw, th, tw; /* th x tw tiles an image */
    int m, A;                                   /* output tile, points (m + 2)^2 */
} gt__wgeom;

#define GT__WB GT_CPU_WINO_SEG /* tiles of a tile row transformed together */

/* V (A, C, T) for the nb images of x (nb, C, H, W); tile t = (image, tile row, tile column). */
static void gt__wino_v(const gt__wgeom *q, const float *x, int64_t nb, float *v) {
    const int m = q->m;
    const int64_t T = nb * q->th * q->tw, CT = q->C * T;
    float rows[6][4 * GT__WB + 2]; /* the m + 2 input rows under a run of tiles, zero padded */
    const int64_t ld = (int64_t)(sizeof rows[0] / sizeof(float));
    for (int64_t b = 0; b < nb; b++)
        for (int64_t c = 0; c < q->C; c++) {
            const float *xc = x + (b * q->C + c) * q->H * q->W;
            for (int64_t ty = 0; ty < q->th; ty++)
                for (int64_t t0 = 0; t0 < q->tw; t0 += GT__WB) {
                    const int n = (int)GT_MIN(GT__WB, q->tw - t0);
                    gt_cpu_wino_rows(xc, (int)q->H, (int)q->W, (int)(m * ty - q->ph), (int)(m * t0 - q->pw), m * n + 2,
                                     m + 2, rows[0], ld);
                    gt_cpu_wino3_in(m, rows[0], ld, n, v + c * T + (b * q->th + ty) * q->tw + t0, CT);
                }
        }
}

/* y for the nb images from M (A, O, T) (+ bias). */
static void gt__wino_y(const gt__wgeom *q, const float *mm, const float *bias, int64_t nb, float *y) {
    const int m = q->m;
    const int64_t T = nb * q->th * q->tw, OT = q->O * T;
    float out[4][4 * GT__WB]; /* the m output rows of a run of tiles */
    for (int64_t b = 0; b < nb; b++)
        for (int64_t o = 0; o < q->O; o++) {
            float *yo = y + (b * q->O + o) * q->Ho * q->Wo;
            const float bv = bias ? bias[o] : 0.0f;
            for (int64_t ty = 0; ty < q->th; ty++)
                for (int64_t t0 = 0; t0 < q->tw; t0 += GT__WB) {
                    const int n = (int)GT_MIN(GT__WB, q->tw - t0);
                    const float *ms = mm + o * T + (b * q->th + ty) * q->tw + t0;
                    const int64_t x0 = m * t0, w = GT_MIN(m * n, q->Wo - x0);
                    float *yt = yo + m * ty * q->Wo + x0;
                    if (w == m * n && m * ty + m <= q->Ho) { /* whole tiles: straight into y */
                        gt_cpu_wino3_out(m, ms, OT, n, bv, -INFINITY, yt, q->Wo);
                        continue;
                    }
                    gt_cpu_wino3_out(m, ms, OT, n, bv, -INFINITY, out[0], 4 * GT__WB);
                    for (int i = 0; i < m && m * ty + i < q->Ho; i++)
                        memcpy(yt + i * q->Wo, out[i], (size_t)w * sizeof(float));
                }
        }
}

/* y (N, O, Ho, Wo) = bias + the 3x3 correlation of x (N, C, H, W) with the weights behind U. */
static bool gt__wino_run(const gt__wgeom *q, int64_t N, const float *x, const float *u, const float *bias, float *y) {
    const int A = q->A;
    gt_sgemm_apack pk[36];
    int made = 0;
    for (; made < A; made++)
        if (!gt_sgemm_apack_make(&pk[made], q->O, q->C, u + made * q->O * q->C, q->C, 1)) break;
    bool ok = made == A;
    if (ok) {
        /* images per chunk: about 2048 tiles (1024 of F(4x4)'s, 2.25x the points: an sgemm of that many
           columns), at least one image, and a chunk for each thread where the batch allows (the
           transforms run on the chunk's thread) */
        int nt = 1;
#ifdef _OPENMP
        nt = omp_in_parallel() ? 1 : omp_get_max_threads();
#endif
        const int64_t per = q->th * q->tw, want = q->m == 4 ? 1024 : 2048;
        const int64_t nb = GT_MAX(1, GT_MIN(GT_MIN(N, want / GT_MAX(per, 1)), (N + nt - 1) / nt));
        const int64_t nch = (N + nb - 1) / nb;
        if (nt > nch) nt = (int)nch;
#pragma omp parallel num_threads(nt) if (nt > 1)
        {
            float *buf = gt_sgemm_scratch((size_t)(A * nb * per * (q->C + q->O)));
            if (!buf) {
#pragma omp atomic write
                ok = false;
            }
#pragma omp for schedule(dynamic, 1)
            for (int64_t ch = 0; ch < nch; ch++) {
                if (!buf) continue;
                int64_t n0 = ch * nb, b = GT_MIN(nb, N - n0), T = b * per;
                float *v = buf, *mm = buf + A * nb * per * q->C;
                gt__wino_v(q, x + n0 * q->C * q->H * q->W, b, v);
                /* inside a team, each sgemm runs on its thread; alone, it takes the threads itself */
                for (int k = 0; k < A; k++)
                    gt_sgemm_packed(&pk[k], T, v + k * q->C * T, T, 1, 0.0f, mm + k * q->O * T, T, 0);
                gt__wino_y(q, mm, bias, b, y + n0 * q->O * q->Ho * q->Wo);
            }
        }
    }
    for (int k = 0; k < made; k++) gt_sgemm_apack_free(&pk[k]);
    return ok;
}

static bool gt__wino(const gt_conv_geom *g, int m, const float *in, const float *w, const float *b, float *out,
                     bool data) {
    GT_ASSERT(m == 2 || m == 4);
    gt__wgeom q;
    if (!data) /* y = corr(x, w), padding p */
        q = (gt__wgeom){g->c, g->h, g->w, g->o, g->ho, g->wo, g->ph, g->pw, (g->ho + m - 1) / m, (g->wo + m - 1) / m,
                        m, (m + 2) * (m + 2)};
    else /* gx = corr(gy, w turned and transposed), padding 2 - p */
        q = (gt__wgeom){g->o, g->ho, g->wo, g->c, g->h, g->w, 2 - g->ph, 2 - g->pw, (g->h + m - 1) / m,
                        (g->w + m - 1) / m, m, (m + 2) * (m + 2)};
    float *u = gt__alloc((size_t)(q.A * q.O * q.C) * sizeof(float));
    if (!u) return false;
    /* w'(c, o) = w(o, c) turned for the input gradient; rows of U shared out over the threads */
    const int64_t os = data ? 9 : g->c * 9, cs = data ? g->c * 9 : 9, ps = q.O * q.C;
#pragma omp parallel for schedule(static) if (q.O * q.C >= 4096)
    for (int64_t o = 0; o < q.O; o++) gt_cpu_wino3_weights(m, w + o * os, 1, q.C, os, cs, data, u + o * q.C, ps);
    bool ok = gt__wino_run(&q, g->n, in, u, b, out);
    gt__free(u);
    return ok;
}

bool gt_cpu_conv_wino_fwd(const gt_conv_geom *g, int m, const float *x, const float *w, const float *b, float *y) {
    return gt__wino(g, m, x, w, b, y, false);
}

bool gt_cpu_conv_wino_data(const gt_conv_geom *g, int m, const float *gy, const float *w, const float *b, float *gx) {
    return gt__wino(g, m, gy, w, b, gx, true);
}
