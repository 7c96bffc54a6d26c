/* Winograd minimal filtering (Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks"; Toom-Cook): the transforms and tile
 * kernels shared by training's 3x3 convolutions (conv_wino.c) and the fused
 * Inception forward (src/metrics/inception_wino*.c). The callers own the
 * layouts: these kernels see rows of tiles, never an image or a batch.
 *
 * Layout of the tile kernels: a run of len tiles side by side, point p of
 * tile k at buf[p * stride + k], so every transform is a loop over tiles
 * (vectorised) and M_p = U_p @ V_p is one sgemm per point p, U (points, O, C)
 * and V (points, C, tiles).
 *
 * Two families:
 *  - F(m x m, 3x3), m 2 or 4, with the hand-written transforms
 *    (gt_cpu_wino3_*): F(2x2, 3x3) (16 points, entries 0, +-1, +-1/2) rounds
 *    like the direct sum; F(4x4, 3x3) (36 points, entries up to 8 and 1/24)
 *    is about 1e-5 relative on zero-mean data with K = 64..256.
 *  - F(m, r) and F(m x m, r x r) for any small m, r (gt_cpu_wino): the
 *    transforms built from n = m + r - 1 Toom-Cook points (0, +-1, +-2,
 *    +-1/2, +-3/2, +-3 and infinity) in double, stored as the nonzero entries
 *    of each row of B^T and A^T. */
#ifndef GT_CPU_WINOGRAD_H
#define GT_CPU_WINOGRAD_H

#include <stdbool.h>
#include <stdint.h>

#define GT_CPU_WINO_MAXN 12 /* most points of a 1-D F(m, r): n = m + r - 1 */
#define GT_CPU_WINO_MAXM 6  /* largest output tile */
#define GT_CPU_WINO2_MAXN 8 /* most points of a 2-D one along each side (n^2 <= 64) */
#define GT_CPU_WINO_SEG 64  /* tiles one call of a 2-D or 3x3 tile kernel takes at most */
#define GT_CPU_WINO1_SEG 256 /* ... of a 1-D one */

/* --- F(m x m, 3x3), m 2 or 4 ----------------------------------------------------------
 * F(2x2, 3x3): B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; 1/2 1/2 1/2;
 * 1/2 -1/2 1/2; 0 0 1], A^T = [1 1 1 0; 0 1 -1 -1].
 * F(4x4, 3x3): B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
 * 0 2 -1 -2 1 0; 0 4 0 -5 0 1], G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
 * 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1], A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0;
 * 0 1 1 4 4 0; 0 1 -1 8 -8 1]. */

/* U = G g G^T: point p of the kernel g of (o, c) at u[p * ps + o * C + c]
 * (ps = O * C: U ((m+2)^2, O, C); a larger ps writes rows o < O of a taller
 * U), where tap (i, j) of g is w[o * os + c * cs + i * 3 + j], or, with flip,
 * w[o * os + c * cs + (2 - i) * 3 + (2 - j)] (turned by 180 degrees: with
 * os and cs swapped, the input gradient's kernels). */
void gt_cpu_wino3_weights(int m, const float *w, int64_t O, int64_t C, int64_t os, int64_t cs, bool flip, float *u,
                          int64_t ps);
/* Input transform of n <= GT_CPU_WINO_SEG tiles side by side: rows holds the
 * m + 2 input rows under them (ld floats apart, m * n + 2 floats each, zero
 * padded); V point p = i * (m + 2) + j of tile k goes to v[p * ps + k]. */
void gt_cpu_wino3_in(int m, const float *rows, int64_t ld, int n, float *v, int64_t ps);
/* Output transform: M point p of tile k at mm[p * ps + k]; the m output rows
 * (ld floats apart, m * n floats each) = max(A^T M A + bias, lo) (lo
 * -INFINITY: no clamp; 0: ReLU). */
void gt_cpu_wino3_out(int m, const float *mm, int64_t ps, int n, float bias, float lo, float *out, int64_t ld);

/* nrows rows of a plane (H, W), from row ih0, columns [iw0, iw0 + len), into
 * rows (ld floats apart), zero outside the plane. */
void gt_cpu_wino_rows(const float *plane, int H, int W, int ih0, int iw0, int len, int nrows, float *rows,
                      int64_t ld);

/* --- F(m, r) and F(m x m, r x r) from Toom-Cook points ------------------------------ */
typedef struct {
    int m, r, n;
    int bnz[GT_CPU_WINO_MAXN], bidx[GT_CPU_WINO_MAXN][GT_CPU_WINO_MAXN]; /* rows of B^T (n, n) */
    float bval[GT_CPU_WINO_MAXN][GT_CPU_WINO_MAXN];
    int anz[GT_CPU_WINO_MAXM], aidx[GT_CPU_WINO_MAXM][GT_CPU_WINO_MAXN]; /* rows of A^T (m, n) */
    float aval[GT_CPU_WINO_MAXM][GT_CPU_WINO_MAXN];
    double g[GT_CPU_WINO_MAXN * GT_CPU_WINO_MAXN]; /* G (n, r) */
} gt_cpu_wino;

/* F(m, r)'s B^T (n, n), G (n, r), A^T (m, n) in double (n = m + r - 1 <=
 * GT_CPU_WINO_MAXN); false when the points give a singular system. */
bool gt_cpu_wino_mats(int m, int r, double *bt, double *g, double *at);
/* The nonzero entries of each row of mat (rows, n). */
void gt_cpu_wino_sparse(const double *mat, int rows, int n, int *nz, int (*idx)[GT_CPU_WINO_MAXN],
                        float (*val)[GT_CPU_WINO_MAXN]);
/* t = F(m, r); false when m, r are out of range (r >= 2, m >= 1, m <= MAXM,
 * n <= MAXN) or the system is singular. */
bool gt_cpu_wino_init(gt_cpu_wino *t, int m, int r);

/* 1-D weights: u[l * nq + q] = (G g_q)[l] for the nq kernels g_q = w + q * r. */
void gt_cpu_wino1_weights(const gt_cpu_wino *t, const float *w, int64_t nq, float *u);
/* 2-D weights (t->n <= GT_CPU_WINO2_MAXN): u[(l * n + l2) * nq + q] =
 * (G g_q G^T)[l][l2] for the nq kernels g_q = w + q * r * r (r x r, row-major). */
void gt_cpu_wino2_weights(const gt_cpu_wino *t, const float *w, int64_t nq, float *u);

/* 1-D tile kernels on len <= GT_CPU_WINO1_SEG tiles: input j of tile k at
 * d[j * ld + k] -> V point l at v[l * ps + k]; M point l at mm[l * ps + k] ->
 * output i at y[i * ld + k] = max(A^T M + bias, lo). */
void gt_cpu_wino1_in(const gt_cpu_wino *t, const float *d, int64_t ld, int len, float *v, int64_t ps);
void gt_cpu_wino1_out(const gt_cpu_wino *t, const float *mm, int64_t ps, int len, float bias, float lo, float *y,
                      int64_t ld);
/* 2-D tile kernels on len <= GT_CPU_WINO_SEG tiles (t->n <= GT_CPU_WINO2_MAXN):
 * input (i, j) of tile k at d[(i * n + j) * ld + k] -> V point (l, l2) at
 * v[(l * n + l2) * ps + k]; M point (l, l2) at mm[(l * n + l2) * ps + k] ->
 * output (i, i2) at y[(i * m + i2) * ld + k] = max(A^T M A + bias, lo). */
void gt_cpu_wino2_in(const gt_cpu_wino *t, const float *d, int64_t ld, int len, float *v, int64_t ps);
void gt_cpu_wino2_out(const gt_cpu_wino *t, const float *mm, int64_t ps, int len, float bias, float lo, float *y,
                      int64_t ld);

/* --- the products ------------------------------------------------------------------- */
/* For each of np points: out_p (m, n) = u_p (m, k) @ v_p (k, n), the points'
 * matrices stored one after another (gantry's sgemm, nthreads as gt_sgemm). */
void gt_cpu_wino_gemm(int np, int64_t m, int64_t n, int64_t k, const float *u, const float *v, float *out,
                      int nthreads);

#endif
