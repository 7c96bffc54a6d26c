/* Winograd transforms and tile kernels (see winograd.h). The hand-written
 * F(2x2, 3x3) and F(4x4, 3x3) first, then the ones built from Toom-Cook
 * points, then the per-point products.
 *
 * Toom-Cook: the transforms of F(m, r) come from n = m + r - 1 interpolation
 * points: n - 1 finite ones p_l (0, 1, -1, 2, -2, 1/2, -1/2, 3/2, -3/2, ...)
 * and infinity. With f_l = prod_{k != l} (p_l - p_k),
 *   A^T[i][l] = p_l^i,      G[l][k] = p_l^k / f_l,
 * and the infinity column / row picking the highest coefficient, the output
 * tile y_i = sum_k g_k d_{i+k} (i < m) is A^T [(G g) .* (B^T d)] exactly when
 *   sum_l A^T[i][l] G[l][k] B^T[l][j] = [j == i + k],
 * which depends on i + k only: B^T is the inverse of the n x n matrix
 * M[s][l] = p_l^s / f_l (M[s][inf] = [s == n - 1]). All three are built in
 * double; F(4, 7) has 10 points, F(4, 3) and F(4x4, 3x3) 6, F(4x4, 5x5) 8.
 * The 2-D transforms nest the 1-D ones: U = G g G^T, V = B^T d B, Y = A^T M A. */
#include "winograd.h"

#include <math.h>
#include <string.h>

#include "../../internal.h"
#include "sgemm.h"

/* --- F(m x m, 3x3), m 2 or 4, hand-written ------------------------------------------ */
static void gt__w3_u2(const float *g, bool flip, float *u, int64_t ps) {
    float k[9], t[4][3]; /* k: the kernel; t = G k */
    for (int q = 0; q < 9; q++) k[q] = flip ? g[8 - q] : g[q];
    for (int j = 0; j < 3; j++) {
        t[0][j] = k[j];
        t[1][j] = 0.5f * (k[j] + k[3 + j] + k[6 + j]);
        t[2][j] = 0.5f * (k[j] - k[3 + j] + k[6 + j]);
        t[3][j] = k[6 + j];
    }
    for (int i = 0; i < 4; i++) { /* (G k) G^T */
        u[(i * 4 + 0) * ps] = t[i][0];
        u[(i * 4 + 1) * ps] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
        u[(i * 4 + 2) * ps] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
        u[(i * 4 + 3) * ps] = t[i][2];
    }
}

/* o = G g for F(4x4, 3x3), g and o strided. */
static void gt__w3_g4(const double *g, int s, double *o, int os) {
    o[0] = g[0] / 4.0;
    o[os] = -(g[0] + g[s] + g[2 * s]) / 6.0;
    o[2 * os] = -(g[0] - g[s] + g[2 * s]) / 6.0;
    o[3 * os] = g[0] / 24.0 + g[s] / 12.0 + g[2 * s] / 6.0;
    o[4 * os] = g[0] / 24.0 - g[s] / 12.0 + g[2 * s] / 6.0;
    o[5 * os] = g[2 * s];
}

static void gt__w3_u4(const float *g, bool flip, float *u, int64_t ps) {
    double gd[9], t[6][3], v[6][6];
    for (int q = 0; q < 9; q++) gd[q] = flip ? g[8 - q] : g[q];
    for (int j = 0; j < 3; j++) gt__w3_g4(gd + j, 3, &t[0][j], 3); /* G g */
    for (int i = 0; i < 6; i++) gt__w3_g4(t[i], 1, v[i], 1);       /* (G g) G^T */
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) u[(i * 6 + j) * ps] = (float)v[i][j];
}

void gt_cpu_wino3_weights(int m, const float *w, int64_t O, int64_t C, int64_t os, int64_t cs, bool flip, float *u,
                          int64_t ps) {
    GT_ASSERT(m == 2 || m == 4);
    for (int64_t o = 0; o < O; o++)
        for (int64_t c = 0; c < C; c++)
            (m == 4 ? gt__w3_u4 : gt__w3_u2)(w + o * os + c * cs, flip, u + o * C + c, ps);
}

void gt_cpu_wino_rows(const float *plane, int H, int W, int ih0, int iw0, int len, int nrows, float *rows,
                      int64_t ld) {
    for (int i = 0; i < nrows; i++) {
        const int ih = ih0 + i;
        float *r = rows + (int64_t)i * ld;
        if (ih < 0 || ih >= H) {
            memset(r, 0, sizeof(float) * (size_t)len);
            continue;
        }
        const float *xr = plane + (int64_t)ih * W;
        const int lo = GT_MAX(0, -iw0), hi = GT_MIN(len, W - iw0);
        for (int k = 0; k < lo; k++) r[k] = 0.0f;
        if (hi > lo) memcpy(r + lo, xr + iw0 + lo, sizeof(float) * (size_t)(hi - lo));
        for (int k = GT_MAX(lo, hi); k < len; k++) r[k] = 0.0f;
    }
}

static void gt__w3_in2(const float *rows, int64_t ld, int n, float *v, int64_t ps) {
    float h[4][4][GT_CPU_WINO_SEG]; /* h[i][j] = (d B)[i][j] per tile */
    for (int i = 0; i < 4; i++) {
        const float *r = rows + i * ld;
#pragma omp simd
        for (int k = 0; k < n; k++) {
            const float d0 = r[2 * k], d1 = r[2 * k + 1], d2 = r[2 * k + 2], d3 = r[2 * k + 3];
            h[i][0][k] = d0 - d2;
            h[i][1][k] = d1 + d2;
            h[i][2][k] = d2 - d1;
            h[i][3][k] = d1 - d3;
        }
    }
    for (int j = 0; j < 4; j++) { /* B^T (d B) */
        float *o0 = v + (0 * 4 + j) * ps, *o1 = v + (1 * 4 + j) * ps;
        float *o2 = v + (2 * 4 + j) * ps, *o3 = v + (3 * 4 + j) * ps;
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

static void gt__w3_in4(const float *rows, int64_t ld, int n, float *v, int64_t ps) {
    float h[6][6][GT_CPU_WINO_SEG]; /* h[i][j] = (d B)[i][j] per tile */
    for (int i = 0; i < 6; i++) {
        const float *r = rows + i * ld;
#pragma omp simd
        for (int k = 0; k < n; k++) {
            const float d0 = r[4 * k], d1 = r[4 * k + 1], d2 = r[4 * k + 2], d3 = r[4 * k + 3], d4 = r[4 * k + 4],
                        d5 = r[4 * k + 5];
            h[i][0][k] = 4.0f * d0 - 5.0f * d2 + d4;
            h[i][1][k] = -4.0f * (d1 + d2) + d3 + d4;
            h[i][2][k] = 4.0f * (d1 - d2) - d3 + d4;
            h[i][3][k] = 2.0f * (d3 - d1) - d2 + d4;
            h[i][4][k] = 2.0f * (d1 - d3) - d2 + d4;
            h[i][5][k] = 4.0f * d1 - 5.0f * d3 + d5;
        }
    }
    for (int j = 0; j < 6; j++) { /* B^T (d B) */
        float *o0 = v + (0 * 6 + j) * ps, *o1 = v + (1 * 6 + j) * ps, *o2 = v + (2 * 6 + j) * ps;
        float *o3 = v + (3 * 6 + j) * ps, *o4 = v + (4 * 6 + j) * ps, *o5 = v + (5 * 6 + j) * ps;
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

void gt_cpu_wino3_in(int m, const float *rows, int64_t ld, int n, float *v, int64_t ps) {
    GT_ASSERT((m == 2 || m == 4) && n <= GT_CPU_WINO_SEG);
    if (m == 4) gt__w3_in4(rows, ld, n, v, ps);
    else gt__w3_in2(rows, ld, n, v, ps);
}

static void gt__w3_out2(const float *mm, int64_t ps, int n, float bv, float lo, float *out, int64_t ld) {
    float s[2][4][GT_CPU_WINO_SEG]; /* (A^T M) per tile */
    for (int j = 0; j < 4; j++) {
        const float *m0 = mm + (0 * 4 + j) * ps, *m1 = mm + (1 * 4 + j) * ps;
        const float *m2 = mm + (2 * 4 + j) * ps, *m3 = mm + (3 * 4 + j) * ps;
#pragma omp simd
        for (int k = 0; k < n; k++) {
            s[0][j][k] = m0[k] + m1[k] + m2[k];
            s[1][j][k] = m1[k] - m2[k] - m3[k];
        }
    }
    for (int i = 0; i < 2; i++) { /* (A^T M) A, interleaved into the output row */
        const float *a0 = s[i][0], *a1 = s[i][1], *a2 = s[i][2], *a3 = s[i][3];
        float *ri = out + i * ld;
#pragma omp simd
        for (int k = 0; k < n; k++) {
            const float y0 = a0[k] + a1[k] + a2[k] + bv, y1 = a1[k] - a2[k] - a3[k] + bv;
            ri[2 * k] = y0 > lo ? y0 : lo;
            ri[2 * k + 1] = y1 > lo ? y1 : lo;
        }
    }
}

static void gt__w3_out4(const float *mm, int64_t ps, int n, float bv, float lo, float *out, int64_t ld) {
    float s[4][6][GT_CPU_WINO_SEG]; /* (A^T M) per tile */
    for (int j = 0; j < 6; j++) {
        const float *m0 = mm + (0 * 6 + j) * ps, *m1 = mm + (1 * 6 + j) * ps, *m2 = mm + (2 * 6 + j) * ps;
        const float *m3 = mm + (3 * 6 + j) * ps, *m4 = mm + (4 * 6 + j) * ps, *m5 = mm + (5 * 6 + j) * ps;
#pragma omp simd
        for (int k = 0; k < n; k++) {
            const float a = m1[k] + m2[k], d = m1[k] - m2[k], e = m3[k] + m4[k], f = m3[k] - m4[k];
            s[0][j][k] = m0[k] + a + e;
            s[1][j][k] = d + 2.0f * f;
            s[2][j][k] = a + 4.0f * e;
            s[3][j][k] = d + 8.0f * f + m5[k];
        }
    }
    for (int i = 0; i < 4; i++) { /* (A^T M) A, interleaved into the output row */
        const float *a0 = s[i][0], *a1 = s[i][1], *a2 = s[i][2], *a3 = s[i][3], *a4 = s[i][4], *a5 = s[i][5];
        float *ri = out + i * ld;
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
}

void gt_cpu_wino3_out(int m, const float *mm, int64_t ps, int n, float bias, float lo, float *out, int64_t ld) {
    GT_ASSERT((m == 2 || m == 4) && n <= GT_CPU_WINO_SEG);
    if (m == 4) gt__w3_out4(mm, ps, n, bias, lo, out, ld);
    else gt__w3_out2(mm, ps, n, bias, lo, out, ld);
}

/* --- F(m, r) and F(m x m, r x r) from Toom-Cook points ------------------------------ */
static const double gt__wino_points[GT_CPU_WINO_MAXN - 1] = {0.0, 1.0, -1.0, 2.0, -2.0, 0.5,
                                                             -0.5, 1.5, -1.5, 3.0, -3.0};

bool gt_cpu_wino_mats(int m, int r, double *bt, double *g, double *at) {
    const int n = m + r - 1;
    GT_ASSERT(m >= 1 && r >= 1 && n <= GT_CPU_WINO_MAXN);
    const double *p = gt__wino_points;
    double f[GT_CPU_WINO_MAXN], a[GT_CPU_WINO_MAXN][2 * GT_CPU_WINO_MAXN];
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

void gt_cpu_wino_sparse(const double *mat, int rows, int n, int *nz, int (*idx)[GT_CPU_WINO_MAXN],
                        float (*val)[GT_CPU_WINO_MAXN]) {
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

bool gt_cpu_wino_init(gt_cpu_wino *t, int m, int r) {
    const int n = m + r - 1;
    if (r < 2 || m < 1 || m > GT_CPU_WINO_MAXM || n > GT_CPU_WINO_MAXN) return false;
    memset(t, 0, sizeof *t);
    double bt[GT_CPU_WINO_MAXN * GT_CPU_WINO_MAXN], at[GT_CPU_WINO_MAXM * GT_CPU_WINO_MAXN];
    if (!gt_cpu_wino_mats(m, r, bt, t->g, at)) return false;
    t->m = m, t->r = r, t->n = n;
    gt_cpu_wino_sparse(bt, n, n, t->bnz, t->bidx, t->bval);
    gt_cpu_wino_sparse(at, m, n, t->anz, t->aidx, t->aval);
    return true;
}

void gt_cpu_wino1_weights(const gt_cpu_wino *t, const float *w, int64_t nq, float *u) {
    const int n = t->n, r = t->r;
    for (int64_t q = 0; q < nq; q++)
        for (int l = 0; l < n; l++) {
            double s = 0.0;
            for (int k = 0; k < r; k++) s += t->g[l * r + k] * w[q * r + k];
            u[l * nq + q] = (float)s;
        }
}

void gt_cpu_wino2_weights(const gt_cpu_wino *t, const float *w, int64_t nq, float *u) {
    const int n = t->n, r = t->r;
    GT_ASSERT(n <= GT_CPU_WINO2_MAXN);
    const double *g = t->g;
    double s2[GT_CPU_WINO2_MAXN][GT_CPU_WINO2_MAXN];
    for (int64_t q = 0; q < nq; q++) {
        const float *gq = w + q * r * r;
        for (int l = 0; l < n; l++) /* G g */
            for (int j = 0; j < r; j++) {
                double s = 0.0;
                for (int k = 0; k < r; k++) s += g[l * r + k] * gq[k * r + j];
                s2[l][j] = s;
            }
        for (int l = 0; l < n; l++) /* (G g) G^T */
            for (int l2 = 0; l2 < n; l2++) {
                double s = 0.0;
                for (int j = 0; j < r; j++) s += s2[l][j] * g[l2 * r + j];
                u[(l * n + l2) * nq + q] = (float)s;
            }
    }
}

/* dst[k] = sum_e val[e] * src[idx[e] * stride + k] over one row's nonzero entries, k < len. */
static inline void gt__wino_row(float *dst, const float *src, int64_t stride, int nz, const int *idx,
                                const float *val, int len) {
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

void gt_cpu_wino1_in(const gt_cpu_wino *t, const float *d, int64_t ld, int len, float *v, int64_t ps) {
    for (int l = 0; l < t->n; l++) gt__wino_row(v + l * ps, d, ld, t->bnz[l], t->bidx[l], t->bval[l], len);
}

void gt_cpu_wino1_out(const gt_cpu_wino *t, const float *mm, int64_t ps, int len, float bias, float lo, float *y,
                      int64_t ld) {
    for (int i = 0; i < t->m; i++) { /* y_i = max(sum_l A^T[i][l] M[l] + bias, lo) */
        float *yi = y + i * ld;
        const float *m0 = mm + t->aidx[i][0] * ps;
        const float a0 = t->aval[i][0];
#pragma omp simd
        for (int k = 0; k < len; k++) yi[k] = a0 * m0[k] + bias;
        for (int e = 1; e < t->anz[i]; e++) {
            const float *ml = mm + t->aidx[i][e] * ps;
            const float ae = t->aval[i][e];
#pragma omp simd
            for (int k = 0; k < len; k++) yi[k] += ae * ml[k];
        }
#pragma omp simd
        for (int k = 0; k < len; k++) yi[k] = yi[k] > lo ? yi[k] : lo;
    }
}

void gt_cpu_wino2_in(const gt_cpu_wino *t, const float *d, int64_t ld, int len, float *v, int64_t ps) {
    const int n = t->n;
    GT_ASSERT(n <= GT_CPU_WINO2_MAXN && len <= GT_CPU_WINO_SEG);
    float s[GT_CPU_WINO2_MAXN * GT_CPU_WINO2_MAXN][GT_CPU_WINO_SEG]; /* s[l * n + j][k] = (B^T d)[l][j] */
    for (int l = 0; l < n; l++) /* s[l][j] = sum_i B^T[l][i] d[i][j] */
        for (int j = 0; j < n; j++) gt__wino_row(s[l * n + j], d + j * ld, n * ld, t->bnz[l], t->bidx[l], t->bval[l], len);
    for (int l = 0; l < n; l++) /* V[l][l2] = sum_j s[l][j] B^T[l2][j] */
        for (int l2 = 0; l2 < n; l2++)
            gt__wino_row(v + (l * n + l2) * ps, s[l * n], GT_CPU_WINO_SEG, t->bnz[l2], t->bidx[l2], t->bval[l2], len);
}

void gt_cpu_wino2_out(const gt_cpu_wino *t, const float *mm, int64_t ps, int len, float bias, float lo, float *y,
                      int64_t ld) {
    const int n = t->n, m = t->m;
    GT_ASSERT(n <= GT_CPU_WINO2_MAXN && len <= GT_CPU_WINO_SEG);
    float s[GT_CPU_WINO_MAXM * GT_CPU_WINO2_MAXN][GT_CPU_WINO_SEG]; /* s[i * n + l2][k] = (A^T M)[i][l2] */
    for (int i = 0; i < m; i++) /* s[i][l2] = sum_l A^T[i][l] M[l][l2] */
        for (int l2 = 0; l2 < n; l2++) gt__wino_row(s[i * n + l2], mm + l2 * ps, n * ps, t->anz[i], t->aidx[i], t->aval[i], len);
    for (int i = 0; i < m; i++) /* y[i][i2] = max(sum_l2 s[i][l2] A^T[i2][l2] + bias, lo) */
        for (int i2 = 0; i2 < m; i2++) {
            float *yk = y + (i * m + i2) * ld;
            gt__wino_row(yk, s[i * n], GT_CPU_WINO_SEG, t->anz[i2], t->aidx[i2], t->aval[i2], len);
#pragma omp simd
            for (int k = 0; k < len; k++) {
                const float v = yk[k] + bias;
                yk[k] = v > lo ? v : lo;
            }
        }
}

/* --- the products ------------------------------------------------------------------- */
void gt_cpu_wino_gemm(int np, int64_t m, int64_t n, int64_t k, const float *u, const float *v, float *out,
                      int nthreads) {
    const int64_t mk = m * k, kn = k * n, mn = m * n;
    for (int p = 0; p < np; p++)
        gt_sgemm_rm(false, false, m, n, k, u + p * mk, k, v + p * kn, n, 0.0f, out + p * mn, n, nthreads);
}
