/* ADA's geometric transform with the reference's anti-aliasing (stylegan2-ada-pytorch augment.py):
 * reflection padding by the batch's margin, 2x upsampling with the sym6 wavelet filter, bilinear
 * grid_sample (zero padding) at the adjusted G_inv, filtering and 2x downsampling back. Built of
 * differentiable engine ops: gathers (pad, zero insertion, crop) as nearest gt_grid_sample at integer
 * positions, the separable filter as depthwise gt_conv2d. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/augment.h"
#include "gantry/ops.h"
#include "../internal.h"

/* the reference's Hz_geom: the sym6 wavelet, normalised to sum 1 (upfirdn2d.setup_filter) */
static const double SYM6[12] = {
    0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633,
    0.4910559419267466,   0.787641141030194,     0.3379294217276218,   -0.07263752278646252,
    -0.021060292512300564, 0.04472490177066578,  0.0017677118642428036, -0.007800708325034148};
#define NTAP 12
#define HZ_PAD (NTAP / 4)

/* y[n, c, i, j] = x[n, c, rows[i], cols[j]] (index < 0: zero) as a nearest gt_grid_sample */
static gt_tensor *gt__gather(gt_tensor *x, int64_t ho, const int64_t *rows, int64_t wo, const int64_t *cols) {
    int64_t n = x->shape[0], H = x->shape[2], W = x->shape[3];
    gt_tensor *grid = gt_empty(GT_SHAPE(n, ho, wo, 2));
    if (!grid) return NULL;
    float *g = gt_data(grid);
    for (int64_t i = 0; i < ho; i++) {
        double r = rows[i] < 0 ? -4.0 : (double)rows[i];
        float gy = (float)((2.0 * r + 1.0) / (double)H - 1.0);
        for (int64_t j = 0; j < wo; j++) {
            double c = cols[j] < 0 ? -4.0 : (double)cols[j];
            g[(i * wo + j) * 2] = (float)((2.0 * c + 1.0) / (double)W - 1.0);
            g[(i * wo + j) * 2 + 1] = gy;
        }
    }
    for (int64_t k = 1; k < n; k++) memcpy(g + k * ho * wo * 2, g, (size_t)(ho * wo * 2) * sizeof *g);
    return gt_grid_sample(x, grid, false, GT_GRID_ZEROS, false);
}

/* torch's reflect padding index */
static int64_t gt__reflect(int64_t i, int64_t L) {
    if (L == 1) return 0;
    while (i < 0 || i >= L) i = i < 0 ? -i : 2 * (L - 1) - i;
    return i;
}

/* the separable filter f (scaled by s, flipped or not) along W then H, depthwise, stride st */
static gt_tensor *gt__fir(gt_tensor *x, double s, bool flip, int st) {
    int64_t C = x->shape[1];
    gt_tensor *wh = gt_empty(GT_SHAPE(C, 1, 1, NTAP)), *wv = gt_empty(GT_SHAPE(C, 1, NTAP, 1));
    if (!wh || !wv) return NULL;
    double sum = 0;
    for (int k = 0; k < NTAP; k++) sum += SYM6[k];
    s /= sum;
    for (int64_t c = 0; c < C; c++)
        for (int k = 0; k < NTAP; k++) {
            float v = (float)(SYM6[flip ? NTAP - 1 - k : k] * s);
            gt_data(wh)[c * NTAP + k] = v;
            gt_data(wv)[c * NTAP + k] = v;
        }
    gt_conv_params p = gt_conv_params_make(1, 0);
    p.groups = (int)C;
    p.stride_w = st;
    x = gt_conv2d(x, wh, NULL, p);
    p.stride_w = 1;
    p.stride_h = st;
    return gt_conv2d(x, wv, NULL, p);
}

/* a = b @ a and a = a @ b, 3x3 (float, as the reference composes in float32) */
static void gt__l3(float *a, const float *b) {
    float t[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) t[i * 3 + j] = b[i * 3] * a[j] + b[i * 3 + 1] * a[3 + j] + b[i * 3 + 2] * a[6 + j];
    memcpy(a, t, sizeof t);
}
static void gt__r3(float *a, const float *b) {
    float t[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) t[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
    memcpy(a, t, sizeof t);
}

gt_tensor *gt_ada_geometric_aa(gt_tensor *x, const float *G) {
    if (!x) return NULL;
    if (x->ndim != 4 || x->dtype != GT_F32 || !G) {
        gt_set_error(GT_ERR_ARG, "ada geometric: x must be (N, C, H, W) float and G given");
        return NULL;
    }
    int64_t n = x->shape[0], H = x->shape[2], W = x->shape[3];
    /* the margin: how far the batch's transformed corners reach outside, plus the filter's pad */
    float cx = (float)(W - 1) / 2, cy = (float)(H - 1) / 2;
    const float cp[4][2] = {{-cx, -cy}, {cx, -cy}, {cx, cy}, {-cx, cy}};
    float m[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    for (int64_t k = 0; k < n; k++)
        for (int c = 0; c < 4; c++) {
            const float *g = G + k * 9;
            float px = g[0] * cp[c][0] + g[1] * cp[c][1] + g[2], py = g[3] * cp[c][0] + g[4] * cp[c][1] + g[5];
            m[0] = fmaxf(m[0], -px), m[1] = fmaxf(m[1], -py), m[2] = fmaxf(m[2], px), m[3] = fmaxf(m[3], py);
        }
    int64_t mg[4];
    for (int i = 0; i < 4; i++) {
        float v = m[i] + (float)(HZ_PAD * 2) - (i % 2 ? cy : cx);
        float hi = (float)((i % 2 ? H : W) - 1);
        v = fminf(fmaxf(v, 0.0f), hi);
        mg[i] = (int64_t)ceilf(v);
    }
    int64_t mx0 = mg[0], my0 = mg[1], mx1 = mg[2], my1 = mg[3];
    /* reflect pad + zero insertion + the upsampling filter's pad (6 before, 5 after) as one gather */
    int64_t hp = H + my0 + my1, wp = W + mx0 + mx1;
    int64_t hu = 2 * hp + NTAP - 1, wu = 2 * wp + NTAP - 1;
    int64_t *rows = malloc((size_t)(hu + wu) * sizeof *rows), *cols = rows ? rows + hu : NULL;
    if (!rows) {
        gt_set_error(GT_ERR_OOM, "ada geometric: out of memory");
        return NULL;
    }
    for (int64_t i = 0; i < hu; i++) {
        int64_t r = i - NTAP / 2;
        rows[i] = (r < 0 || r >= 2 * hp || r % 2) ? -1 : gt__reflect(r / 2 - my0, H);
    }
    for (int64_t j = 0; j < wu; j++) {
        int64_t c = j - NTAP / 2;
        cols[j] = (c < 0 || c >= 2 * wp || c % 2) ? -1 : gt__reflect(c / 2 - mx0, W);
    }
    gt_tensor *up = gt__fir(gt__gather(x, hu, rows, wu, cols), 2.0, true, 1); /* (N, C, 2hp, 2wp) */
    /* the sampling grid at the adjusted G_inv, over the output (2(H + 6), 2(W + 6)) */
    int64_t ho = 2 * (H + 2 * HZ_PAD), wo = 2 * (W + 2 * HZ_PAD);
    gt_tensor *grid = gt_empty(GT_SHAPE(n, ho, wo, 2));
    if (!grid) {
        free(rows);
        return NULL;
    }
    for (int64_t k = 0; k < n; k++) {
        float g[9];
        memcpy(g, G + k * 9, sizeof g);
        const float t0[9] = {1, 0, (float)(mx0 - mx1) / 2, 0, 1, (float)(my0 - my1) / 2, 0, 0, 1};
        gt__l3(g, t0);
        const float s2[9] = {2, 0, 0, 0, 2, 0, 0, 0, 1}, s2i[9] = {0.5f, 0, 0, 0, 0.5f, 0, 0, 0, 1};
        gt__l3(g, s2), gt__r3(g, s2i);
        const float th[9] = {1, 0, -0.5f, 0, 1, -0.5f, 0, 0, 1}, thi[9] = {1, 0, 0.5f, 0, 1, 0.5f, 0, 0, 1};
        gt__l3(g, th), gt__r3(g, thi);
        const float sa[9] = {2.0f / (float)(2 * wp), 0, 0, 0, 2.0f / (float)(2 * hp), 0, 0, 0, 1};
        const float sb[9] = {(float)wo / 2.0f, 0, 0, 0, (float)ho / 2.0f, 0, 0, 0, 1};
        gt__l3(g, sa), gt__r3(g, sb);
        float *o = gt_data(grid) + k * ho * wo * 2;
        for (int64_t i = 0; i < ho; i++) {
            double yn = (2.0 * (double)i + 1.0) / (double)ho - 1.0;
            for (int64_t j = 0; j < wo; j++) {
                double xn = (2.0 * (double)j + 1.0) / (double)wo - 1.0;
                o[(i * wo + j) * 2] = (float)(g[0] * xn + g[1] * yn + g[2]);
                o[(i * wo + j) * 2 + 1] = (float)(g[3] * xn + g[4] * yn + g[5]);
            }
        }
    }
    free(rows);
    gt_tensor *y = gt_grid_sample(up, grid, true, GT_GRID_ZEROS, false);
    /* crop 1 on each side (padding -6 + 5), filter unflipped, keep every second pixel */
    y = gt_slice(gt_slice(y, 2, 1, ho - 1, 1), 3, 1, wo - 1, 1);
    return gt__fir(y, 1.0, false, 2);
}
