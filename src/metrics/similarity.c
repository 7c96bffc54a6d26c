/* Image similarity between two batches of generator output (gantry/metrics.h): PSNR and SSIM on
 * images mapped from [-1, 1] to [0, 1]. SSIM follows skimage's structural_similarity with
 * gaussian_weights=True, sigma 1.5, truncate 3.5 (an 11-tap window), population covariances,
 * data_range 1: the Gaussian-weighted local means, variances and covariance, the SSIM map on the
 * valid region (5 pixels cropped at each border, where the window lies inside the image, so the
 * filter's border mode never matters), its mean, then the mean over the channels. float64 throughout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/metrics.h"

#define GT__SSIM_R 5 /* window radius: int(3.5 * 1.5 + 0.5) */
#define GT__SSIM_W (2 * GT__SSIM_R + 1)

static gt_status gt__sim_check(const char *what, const float *a, const float *b, int64_t n, int c, int h, int w,
                               const double *out, int min_side) {
    if (!a || !b || !out) return gt_set_error(GT_ERR_ARG, "%s: NULL image or output buffer", what);
    if (n < 1 || c < 1 || h < 1 || w < 1)
        return gt_set_error(GT_ERR_ARG, "%s: images must be (n >= 1, c >= 1, h >= 1, w >= 1), got (%lld, %d, %d, %d)",
                            what, (long long)n, c, h, w);
    if (h < min_side || w < min_side)
        return gt_set_error(GT_ERR_ARG, "%s needs images of at least %d x %d pixels (its window), got %d x %d", what,
                            min_side, min_side, h, w);
    const int64_t total = n * (int64_t)c * h * w;
    for (int64_t i = 0; i < total; i++)
        if (!isfinite(a[i]) || !isfinite(b[i]))
            return gt_set_error(GT_ERR_ARG, "%s: image %lld holds a non-finite value (NaN or infinity)", what,
                                (long long)(i / ((int64_t)c * h * w)));
    return GT_OK;
}

gt_status gt_metric_psnr(const float *a, const float *b, int64_t n, int c, int h, int w, double *out) {
    gt_status st = gt__sim_check("PSNR", a, b, n, c, h, w, out, 1);
    if (st != GT_OK) return st;
    const int64_t per = (int64_t)c * h * w;
    for (int64_t i = 0; i < n; i++) {
        const float *x = a + i * per, *y = b + i * per;
        double s = 0;
        for (int64_t k = 0; k < per; k++) {
            double d = 0.5 * ((double)x[k] - (double)y[k]); /* the difference on [0, 1] */
            s += d * d;
        }
        const double mse = s / (double)per;
        out[i] = mse == 0 ? HUGE_VAL : -10.0 * log10(mse); /* 10 log10(1 / mse) */
    }
    return GT_OK;
}

/* The normalised 1-D Gaussian window (scipy's gaussian_filter1d weights). */
static void gt__ssim_window(double *g) {
    double s = 0;
    for (int k = -GT__SSIM_R; k <= GT__SSIM_R; k++) s += g[k + GT__SSIM_R] = exp(-0.5 * k * k / (1.5 * 1.5));
    for (int k = 0; k < GT__SSIM_W; k++) g[k] /= s;
}

/* SSIM of one plane pair x, y (h, w) already on [0, 1]. buf: 5 * h * ow + 5 * oh * ow doubles. */
static double gt__ssim_plane(const double *x, const double *y, int h, int w, const double *g, double *buf) {
    const int oh = h - 2 * GT__SSIM_R, ow = w - 2 * GT__SSIM_R;
    double *row = buf;                       /* 5 maps (h, ow): filtered along w */
    double *col = buf + 5 * (size_t)h * ow;  /* 5 maps (oh, ow): then along h */
    for (int i = 0; i < h; i++)
        for (int j = 0; j < ow; j++) {
            double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            for (int k = 0; k < GT__SSIM_W; k++) {
                const double u = x[(size_t)i * w + j + k], v = y[(size_t)i * w + j + k], gk = g[k];
                sx += gk * u, sy += gk * v, sxx += gk * u * u, syy += gk * v * v, sxy += gk * u * v;
            }
            const size_t o = (size_t)i * ow + j, m = (size_t)h * ow;
            row[o] = sx, row[m + o] = sy, row[2 * m + o] = sxx, row[3 * m + o] = syy, row[4 * m + o] = sxy;
        }
    const size_t m = (size_t)h * ow, mo = (size_t)oh * ow;
    for (int q = 0; q < 5; q++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) {
                double s = 0;
                for (int k = 0; k < GT__SSIM_W; k++) s += g[k] * row[q * m + (size_t)(i + k) * ow + j];
                col[q * mo + (size_t)i * ow + j] = s;
            }
    const double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;
    double total = 0;
    for (size_t p = 0; p < mo; p++) {
        const double ux = col[p], uy = col[mo + p];
        const double vx = col[2 * mo + p] - ux * ux, vy = col[3 * mo + p] - uy * uy, vxy = col[4 * mo + p] - ux * uy;
        total += ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
    }
    return total / (double)mo;
}

gt_status gt_metric_ssim(const float *a, const float *b, int64_t n, int c, int h, int w, double *out) {
    gt_status st = gt__sim_check("SSIM", a, b, n, c, h, w, out, GT__SSIM_W);
    if (st != GT_OK) return st;
    const int oh = h - 2 * GT__SSIM_R, ow = w - 2 * GT__SSIM_R;
    const size_t hw = (size_t)h * w;
    double *x = malloc(2 * hw * sizeof *x);
    double *buf = malloc((5 * (size_t)h * ow + 5 * (size_t)oh * ow) * sizeof *buf);
    if (!x || !buf) {
        free(x);
        free(buf);
        return gt_set_error(GT_ERR_OOM, "SSIM: out of memory for %d x %d images", h, w);
    }
    double *y = x + hw, g[GT__SSIM_W];
    gt__ssim_window(g);
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int ch = 0; ch < c; ch++) {
            const size_t off = ((size_t)i * c + ch) * hw;
            /* equal planes: exactly 1 (the map's numerator and denominator are equal in exact
             * arithmetic, but contracted multiply-adds may round them apart) */
            if (!memcmp(a + off, b + off, hw * sizeof *a)) {
                s += 1.0;
                continue;
            }
            for (size_t k = 0; k < hw; k++) {
                x[k] = 0.5 * ((double)a[off + k] + 1.0);
                y[k] = 0.5 * ((double)b[off + k] + 1.0);
            }
            s += gt__ssim_plane(x, y, h, w, g, buf);
        }
        out[i] = s / c;
    }
    free(x);
    free(buf);
    return GT_OK;
}
