/* Grid sampling kernels: forward, x planes (N*C, H, W) read at grid (N, Ho, Wo, 2) -> (N*C, Ho, Wo);
 * adjoint, the transposed sampling (a scatter-add with the same weights) back into planes it zeroes
 * first. The fast one builds a table once per call (per n and output point: four in-plane offsets
 * and weights, formulas.h's gt__gs_taps4), then runs over the N * C planes (OpenMP when the work is
 * large enough): the forward gathers, the adjoint scatters into its own plane, so no races. The
 * naive one computes the taps on the spot for every (plane, point). */
#include "grid_sample.h"

#include <stdlib.h>
#include <string.h>

#include "../../internal.h"
#include "../formulas.h"

typedef struct {
    int32_t i[4];
    float w[4];
} gt__gs_tap;

bool gt_naive_grid_sample(bool adjoint, int64_t N, int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                          bool bilinear, int pad, bool align, const float *grid, const float *src, float *dst) {
    const int64_t L = Ho * Wo, HW = H * W;
    const int nt = bilinear ? 4 : 1;
    if (adjoint) memset(dst, 0, sizeof(float) * (size_t)(N * C * HW));
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t l = 0; l < L; l++) {
            const float *g = grid + ((p / C) * L + l) * 2;
            gt__gs_tap t;
            gt__gs_taps4(g[0], g[1], H, W, bilinear, pad, align, t.i, t.w);
            if (adjoint) {
                for (int k = 0; k < nt; k++)
                    if (t.i[k] >= 0) dst[p * HW + t.i[k]] += src[p * L + l] * t.w[k];
            } else {
                float acc = 0.0f;
                for (int k = 0; k < nt; k++)
                    if (t.i[k] >= 0) acc += src[p * HW + t.i[k]] * t.w[k];
                dst[p * L + l] = acc;
            }
        }
    return true;
}

bool gt_cpu_grid_sample(bool adjoint, int64_t N, int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo, bool bilinear,
                        int pad, bool align, const float *grid, const float *src, float *dst) {
    const int64_t L = Ho * Wo, HW = H * W, NL = N * L, P = N * C;
    const int nt = bilinear ? 4 : 1;
    gt__gs_tap *taps = malloc((size_t)NL * sizeof *taps + sizeof *taps);
    if (!taps) return false;
#pragma omp parallel for schedule(static) if (NL > GT_PAR_MIN)
    for (int64_t k = 0; k < NL; k++) gt__gs_taps4(grid[2 * k], grid[2 * k + 1], H, W, bilinear, pad, align, taps[k].i, taps[k].w);
    if (adjoint) {
#pragma omp parallel for schedule(static) if (P * L > GT_PAR_MIN)
        for (int64_t p = 0; p < P; p++) {
            const gt__gs_tap *t = taps + (p / C) * L;
            const float *yp = src + p * L;
            float *xp = dst + p * HW;
            memset(xp, 0, (size_t)HW * sizeof(float));
            for (int64_t l = 0; l < L; l++)
                for (int k = 0; k < nt; k++)
                    if (t[l].i[k] >= 0) xp[t[l].i[k]] += yp[l] * t[l].w[k];
        }
    } else {
#pragma omp parallel for schedule(static) if (P * L > GT_PAR_MIN)
        for (int64_t p = 0; p < P; p++) {
            const gt__gs_tap *t = taps + (p / C) * L;
            const float *xp = src + p * HW;
            float *yp = dst + p * L;
            for (int64_t l = 0; l < L; l++) {
                float acc = 0.0f;
                for (int k = 0; k < nt; k++)
                    if (t[l].i[k] >= 0) acc += xp[t[l].i[k]] * t[l].w[k];
                yp[l] = acc;
            }
        }
    }
    free(taps);
    return true;
}
