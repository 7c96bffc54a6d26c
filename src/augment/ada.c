/* ADA (Karras et al. 2020, stylegan2-ada-pytorch training/augment.py) with explicit draws: the
 * per-sample geometric matrix G_inv (groups b and g) and colour matrix C (group c) composed as the
 * reference does, with its default strengths; G applied with gt_grid_sample (bilinear, reflection
 * padding, no wavelet up/down-sampling), C as a batched matmul on the RGB values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/augment.h"
#include "gantry/ops.h"
#include "../internal.h"

#define GT__PI 3.14159265358979323846

/* the reference's default strengths */
#define XINT_MAX 0.125
#define SCALE_STD 0.2
#define ROTATE_MAX 1.0
#define ANISO_STD 0.2
#define XFRAC_STD 0.125
#define BRIGHTNESS_STD 0.2
#define CONTRAST_STD 0.5
#define HUE_MAX 1.0
#define SATURATION_STD 1.0

/* a = a @ b, n x n */
static void gt__mm(double *a, const double *b, int n) {
    double t[16];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
            t[i * n + j] = s;
        }
    memcpy(a, t, (size_t)(n * n) * sizeof *a);
}

/* a = b @ a, n x n */
static void gt__lmm(double *a, const double *b, int n) {
    double t[16];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += b[i * n + k] * a[k * n + j];
            t[i * n + j] = s;
        }
    memcpy(a, t, (size_t)(n * n) * sizeof *a);
}

static void gt__eye(double *a, int n) {
    for (int i = 0; i < n * n; i++) a[i] = (i % (n + 1)) == 0 ? 1.0 : 0.0;
}

/* G = G @ [[sx, 0, 0], [0, sy, 0], [0, 0, 1]] */
static void gt__g_scale(double *G, double sx, double sy) {
    double m[9] = {sx, 0, 0, 0, sy, 0, 0, 0, 1};
    gt__mm(G, m, 3);
}
/* G = G @ rotate2d(th) = [[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]] */
static void gt__g_rot(double *G, double th) {
    double c = cos(th), s = sin(th);
    double m[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
    gt__mm(G, m, 3);
}
static void gt__g_trans(double *G, double tx, double ty) {
    double m[9] = {1, 0, tx, 0, 1, ty, 0, 0, 1};
    gt__mm(G, m, 3);
}

static void gt__ada_geom(double *G, const float *d, double p, unsigned groups, int h, int w) {
    gt__eye(G, 3);
    if (groups & GT_ADA_GROUP_B) {
        double i = floor(d[0] * 2.0);
        if (!(d[1] < p)) i = 0;
        gt__g_scale(G, 1.0 / (1.0 - 2.0 * i), 1.0); /* scale2d_inv(1 - 2i, 1) */
        i = floor(d[2] * 4.0);
        if (!(d[3] < p)) i = 0;
        gt__g_rot(G, GT__PI / 2 * i); /* rotate2d_inv(-pi/2 i) */
        double tx = (d[4] * 2.0 - 1.0) * XINT_MAX, ty = (d[5] * 2.0 - 1.0) * XINT_MAX;
        if (!(d[6] < p)) tx = ty = 0;
        gt__g_trans(G, -nearbyint(tx * w), -nearbyint(ty * h)); /* torch.round: half to even */
    }
    if (groups & GT_ADA_GROUP_G) {
        double s = exp2(d[7] * SCALE_STD);
        if (!(d[8] < p)) s = 1;
        gt__g_scale(G, 1.0 / s, 1.0 / s);
        double one_m = 1.0 - p;
        double p_rot = 1.0 - sqrt(one_m < 0 ? 0 : one_m > 1 ? 1 : one_m); /* P(pre or post) = p */
        double th = (d[9] * 2.0 - 1.0) * GT__PI * ROTATE_MAX;
        if (!(d[10] < p_rot)) th = 0;
        gt__g_rot(G, th); /* rotate2d_inv(-th) */
        s = exp2(d[11] * ANISO_STD);
        if (!(d[12] < p)) s = 1;
        gt__g_scale(G, 1.0 / s, s);
        th = (d[13] * 2.0 - 1.0) * GT__PI * ROTATE_MAX;
        if (!(d[14] < p_rot)) th = 0;
        gt__g_rot(G, th);
        double tx = d[15] * XFRAC_STD, ty = d[16] * XFRAC_STD;
        if (!(d[17] < p)) tx = ty = 0;
        gt__g_trans(G, -tx * w, -ty * h);
    }
}

static void gt__ada_color(double *C, const float *d, double p, int channels) {
    gt__eye(C, 4);
    double b = d[18] * BRIGHTNESS_STD;
    if (!(d[19] < p)) b = 0;
    double mb[16] = {1, 0, 0, b, 0, 1, 0, b, 0, 0, 1, b, 0, 0, 0, 1};
    gt__lmm(C, mb, 4);
    double c = exp2(d[20] * CONTRAST_STD);
    if (!(d[21] < p)) c = 1;
    double mc[16] = {c, 0, 0, 0, 0, c, 0, 0, 0, 0, c, 0, 0, 0, 0, 1};
    gt__lmm(C, mc, 4);
    const double v[4] = {1 / sqrt(3.0), 1 / sqrt(3.0), 1 / sqrt(3.0), 0};
    double vv[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) vv[i * 4 + j] = v[i] * v[j];
    double i = floor(d[22] * 2.0);
    if (!(d[23] < p)) i = 0;
    double ml[16];
    for (int k = 0; k < 16; k++) ml[k] = (k % 5 == 0 ? 1.0 : 0.0) - 2.0 * vv[k] * i; /* Householder */
    gt__lmm(C, ml, 4);
    if (channels > 1) {
        double th = (d[24] * 2.0 - 1.0) * GT__PI * HUE_MAX;
        if (!(d[25] < p)) th = 0;
        double s = sin(th), co = cos(th), cc = 1 - co, x = v[0], y = v[1], z = v[2];
        double mh[16] = {x * x * cc + co,     x * y * cc - z * s, x * z * cc + y * s, 0,
                         y * x * cc + z * s, y * y * cc + co,     y * z * cc - x * s, 0,
                         z * x * cc - y * s, z * y * cc + x * s, z * z * cc + co,     0,
                         0,                  0,                  0,                  1};
        gt__lmm(C, mh, 4);
        double sat = exp2(d[26] * SATURATION_STD);
        if (!(d[27] < p)) sat = 1;
        double ms[16];
        for (int k = 0; k < 16; k++) ms[k] = vv[k] + ((k % 5 == 0 ? 1.0 : 0.0) - vv[k]) * sat;
        gt__lmm(C, ms, 4);
    }
}

gt_status gt_ada_matrices(int n, int channels, int h, int w, double p, unsigned groups, const float *draws,
                          float *G, float *C) {
    if (n < 0 || h < 1 || w < 1 || (channels != 1 && channels != 3))
        return gt_set_error(GT_ERR_ARG, "gt_ada_matrices: bad size (n %d, channels %d, %dx%d)", n, channels, h, w);
    if (!(p >= 0.0 && p <= 1.0)) return gt_set_error(GT_ERR_ARG, "gt_ada_matrices: p %g outside [0, 1]", p);
    if (n > 0 && (!draws || !G || !C)) return gt_set_error(GT_ERR_ARG, "gt_ada_matrices: NULL buffer");
    for (int k = 0; k < n; k++) {
        const float *d = draws + (size_t)k * GT_ADA_NDRAWS;
        double g[9], c[16];
        gt__ada_geom(g, d, p, groups, h, w);
        if (groups & GT_ADA_GROUP_C) gt__ada_color(c, d, p, channels);
        else gt__eye(c, 4);
        for (int i = 0; i < 9; i++) G[(size_t)k * 9 + i] = (float)g[i];
        for (int i = 0; i < 16; i++) C[(size_t)k * 16 + i] = (float)c[i];
    }
    return GT_OK;
}

static bool gt__ada_check(gt_tensor *x, const float *m, const char *what) {
    if (!x) return false;
    if (x->ndim != 4 || x->dtype != GT_F32) {
        char buf[64];
        gt_set_error(GT_ERR_SHAPE, "%s: x must be (N, C, H, W) float, got %s", what, gt_shape_str(x, buf, sizeof buf));
        return false;
    }
    if (!m) {
        gt_set_error(GT_ERR_ARG, "%s: NULL matrices", what);
        return false;
    }
    return true;
}

gt_tensor *gt_ada_geometric(gt_tensor *x, const float *G) {
    if (!gt__ada_check(x, G, "ada geometric")) return NULL;
    int64_t n = x->shape[0], H = x->shape[2], W = x->shape[3];
    gt_tensor *grid = gt_empty(GT_SHAPE(n, H, W, 2));
    if (!grid) return NULL;
    float *g = gt_data(grid);
    for (int64_t k = 0; k < n; k++) {
        const float *m = G + k * 9;
        /* normalised: diag(2/W, 2/H, 1) @ G_inv @ diag(W/2, H/2, 1) */
        double a00 = m[0], a01 = m[1] * (double)H / (double)W, a02 = m[2] * 2.0 / (double)W;
        double a10 = m[3] * (double)W / (double)H, a11 = m[4], a12 = m[5] * 2.0 / (double)H;
        for (int64_t i = 0; i < H; i++) {
            double yn = (2.0 * (double)i + 1.0) / (double)H - 1.0;
            for (int64_t j = 0; j < W; j++) {
                double xn = (2.0 * (double)j + 1.0) / (double)W - 1.0;
                float *o = g + ((k * H + i) * W + j) * 2;
                o[0] = (float)(a00 * xn + a01 * yn + a02);
                o[1] = (float)(a10 * xn + a11 * yn + a12);
            }
        }
    }
    return gt_grid_sample(x, grid, true, GT_GRID_REFLECTION, false);
}

gt_tensor *gt_ada_color(gt_tensor *x, const float *C) {
    if (!gt__ada_check(x, C, "ada color")) return NULL;
    int64_t n = x->shape[0], ch = x->shape[1], H = x->shape[2], W = x->shape[3];
    if (ch == 3) {
        gt_tensor *M = gt_empty(GT_SHAPE(n, 3, 3)), *b = gt_empty(GT_SHAPE(n, 3, 1));
        if (!M || !b) return NULL;
        float *pm = gt_data(M), *pb = gt_data(b);
        for (int64_t k = 0; k < n; k++)
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) pm[k * 9 + i * 3 + j] = C[k * 16 + i * 4 + j];
                pb[k * 3 + i] = C[k * 16 + i * 4 + 3];
            }
        gt_tensor *y = gt_add(gt_matmul(M, gt_reshape(x, GT_SHAPE(n, 3, H * W))), b);
        return gt_reshape(y, GT_SHAPE(n, 3, H, W));
    }
    if (ch == 1) {
        gt_tensor *s = gt_empty(GT_SHAPE(n, 1, 1, 1)), *o = gt_empty(GT_SHAPE(n, 1, 1, 1));
        if (!s || !o) return NULL;
        for (int64_t k = 0; k < n; k++) {
            /* C[:, :3, :].mean(dim=1): the mean of the three colour rows */
            float row[4];
            for (int j = 0; j < 4; j++)
                row[j] = (C[k * 16 + 0 * 4 + j] + C[k * 16 + 1 * 4 + j] + C[k * 16 + 2 * 4 + j]) / 3.0f;
            gt_data(s)[k] = row[0] + row[1] + row[2];
            gt_data(o)[k] = row[3];
        }
        return gt_add(gt_mul(x, s), o);
    }
    gt_set_error(GT_ERR_SHAPE, "ada color: images must have 1 or 3 channels, got %lld", (long long)ch);
    return NULL;
}
