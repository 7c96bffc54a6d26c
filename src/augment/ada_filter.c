/* ADA's geometric transform with the reference's anti-aliasing (stylegan2-ada-pytorch augment.py):
 * reflection padding by the batch's margin, 2x upsampling with the sym6 wavelet filter, bilinear
 * grid_sample (zero padding) at the adjusted G_inv, filtering and 2x downsampling back. Built of
 * differentiable engine ops: gathers (pad, zero insertion, crop) as nearest gt_grid_sample at integer
 * positions, the separable filter as transposed / strided convolutions of the single planes. */
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

/* y[n, c, i, j] = x[n, c, rows[i], cols[j]] as a nearest gt_grid_sample */
static gt_tensor *gt__gather(gt_tensor *x, int64_t ho, const int64_t *rows, int64_t wo, const int64_t *cols) {
    int64_t n = x->shape[0], H = x->shape[2], W = x->shape[3];
    gt_tensor *grid = gt_empty(GT_SHAPE(n, ho, wo, 2));
    if (!grid) return NULL;
    float *g = gt_data(grid);
    for (int64_t i = 0; i < ho; i++) {
        float gy = (float)((2.0 * (double)rows[i] + 1.0) / (double)H - 1.0);
        for (int64_t j = 0; j < wo; j++) {
            g[(i * wo + j) * 2] = (float)((2.0 * (double)cols[j] + 1.0) / (double)W - 1.0);
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

/* the 12 taps of the filter normalised to sum 1, times s */
static void gt__taps(float *t, double s) {
    double sum = 0;
    for (int k = 0; k < NTAP; k++) sum += SYM6[k];
    for (int k = 0; k < NTAP; k++) t[k] = (float)(SYM6[k] * s / sum);
}

/* upfirdn2d(x, f, up=2, padding (6, 5) per side, flip_filter False, gain 4) without the zeros: the
 * transposed convolution with the unflipped taps (times 2 per dimension), stride 2, padding 5, on
 * the (N * C, 1, h, w) planes, along W then H: (N, C, h, w) -> (N, C, 2h, 2w) */
static gt_tensor *gt__up2(gt_tensor *x) {
    int64_t n = x->shape[0], C = x->shape[1], h = x->shape[2], w = x->shape[3];
    gt_tensor *wh = gt_empty(GT_SHAPE(1, 1, 1, NTAP)), *wv = gt_empty(GT_SHAPE(1, 1, NTAP, 1));
    if (!wh || !wv) return NULL;
    gt__taps(gt_data(wh), 2.0);
    gt__taps(gt_data(wv), 2.0);
    gt_conv_params p = gt_conv_params_make(1, 0);
    p.stride_w = 2, p.pad_w = NTAP / 2 - 1;
    gt_tensor *y = gt_conv_transpose2d(gt_reshape(x, GT_SHAPE(n * C, 1, h, w)), wh, NULL, p);
    p = gt_conv_params_make(1, 0);
    p.stride_h = 2, p.pad_h = NTAP / 2 - 1;
    return gt_reshape(gt_conv_transpose2d(y, wv, NULL, p), GT_SHAPE(n, C, 2 * h, 2 * w));
}

/* upfirdn2d(x, f, down=2, flip_filter True) on the planes: the correlation with the unflipped taps,
 * stride 2, along W then H */
static gt_tensor *gt__down2(gt_tensor *x) {
    int64_t n = x->shape[0], C = x->shape[1], h = x->shape[2], w = x->shape[3];
    gt_tensor *wh = gt_empty(GT_SHAPE(1, 1, 1, NTAP)), *wv = gt_empty(GT_SHAPE(1, 1, NTAP, 1));
    if (!wh || !wv) return NULL;
    gt__taps(gt_data(wh), 1.0);
    gt__taps(gt_data(wv), 1.0);
    gt_conv_params p = gt_conv_params_make(1, 0);
    p.stride_w = 2;
    gt_tensor *y = gt_conv2d(gt_reshape(x, GT_SHAPE(n * C, 1, h, w)), wh, NULL, p);
    p = gt_conv_params_make(1, 0);
    p.stride_h = 2;
    y = gt_conv2d(y, wv, NULL, p);
    return y ? gt_reshape(y, GT_SHAPE(n, C, y->shape[2], y->shape[3])) : NULL;
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
    /* reflect pad (a gather), then the 2x upsampling */
    int64_t hp = H + my0 + my1, wp = W + mx0 + mx1;
    int64_t *rows = malloc((size_t)(hp + wp) * sizeof *rows), *cols = rows ? rows + hp : NULL;
    if (!rows) {
        gt_set_error(GT_ERR_OOM, "ada geometric: out of memory");
        return NULL;
    }
    for (int64_t i = 0; i < hp; i++) rows[i] = gt__reflect(i - my0, H);
    for (int64_t j = 0; j < wp; j++) cols[j] = gt__reflect(j - mx0, W);
    gt_tensor *up = gt__up2(gt__gather(x, hp, rows, wp, cols)); /* (N, C, 2hp, 2wp) */
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
    return gt__down2(y);
}
