/* DiffAugment (Zhao et al. 2020) with explicit draws: the reference's brightness, saturation,
 * contrast, translation (zero padding) and cutout, composed of differentiable engine ops (so every
 * order of gradient flows through them: adds and multiplies by per-sample constants, a nearest
 * gt_grid_sample at integer positions, a constant mask). */
#include <math.h>
#include <stdlib.h>

#include "gantry/augment.h"
#include "gantry/ops.h"
#include "../internal.h"

static bool gt__da_check(gt_tensor *x, const void *a, const void *b, const char *what) {
    if (!x) return false;
    if (x->ndim != 4 || x->dtype != GT_F32) {
        char buf[64];
        gt_set_error(GT_ERR_SHAPE, "%s: x must be (N, C, H, W) float, got %s", what, gt_shape_str(x, buf, sizeof buf));
        return false;
    }
    if (!a || !b) {
        gt_set_error(GT_ERR_ARG, "%s: NULL draws", what);
        return false;
    }
    return true;
}

int gt_diffaug_shift(int side) { return (int)(side * 0.125 + 0.5); }
int gt_diffaug_cutout_size(int side) { return (int)(side * 0.5 + 0.5); }

int32_t gt_diffaug_randint(float u, int32_t lo, int32_t hi) {
    int64_t span = (int64_t)hi - lo;
    if (span <= 1) return lo;
    int64_t k = (int64_t)floor((double)u * (double)span);
    if (k < 0) k = 0;
    if (k > span - 1) k = span - 1;
    return (int32_t)(lo + k);
}

/* a per-sample constant (N, 1, 1, 1) = a * u[n] + b */
static gt_tensor *gt__per_sample(int64_t n, const float *u, float a, float b) {
    gt_tensor *t = gt_empty(GT_SHAPE(n, 1, 1, 1));
    if (!t) return NULL;
    float *d = gt_data(t);
    for (int64_t i = 0; i < n; i++) d[i] = u[i] * a + b;
    return t;
}

gt_tensor *gt_diffaug_brightness(gt_tensor *x, const float *u) {
    if (!gt__da_check(x, u, u, "diffaug brightness")) return NULL;
    return gt_add(x, gt__per_sample(x->shape[0], u, 1.0f, -0.5f));
}

gt_tensor *gt_diffaug_saturation(gt_tensor *x, const float *u) {
    if (!gt__da_check(x, u, u, "diffaug saturation")) return NULL;
    gt_tensor *m = gt_mean(x, 1, (const int[]){1}, true);
    return gt_add(gt_mul(gt_sub(x, m), gt__per_sample(x->shape[0], u, 2.0f, 0.0f)), m);
}

gt_tensor *gt_diffaug_contrast(gt_tensor *x, const float *u) {
    if (!gt__da_check(x, u, u, "diffaug contrast")) return NULL;
    gt_tensor *m = gt_mean(x, 3, (const int[]){1, 2, 3}, true);
    return gt_add(gt_mul(gt_sub(x, m), gt__per_sample(x->shape[0], u, 1.0f, 0.5f)), m);
}

/* y[n, :, i, j] = x[n, :, i + tx, j + ty], zeros outside: gt_grid_sample (nearest, zero padding) at
 * the integer positions (normalised coordinates that round back to them exactly), whose backward is
 * the transposed scatter, differentiable again. */
gt_tensor *gt_diffaug_translation(gt_tensor *x, const int32_t *tx, const int32_t *ty) {
    if (!gt__da_check(x, tx, ty, "diffaug translation")) return NULL;
    int64_t n = x->shape[0], H = x->shape[2], W = x->shape[3];
    bool any = false;
    for (int64_t i = 0; i < n; i++) any = any || tx[i] != 0 || ty[i] != 0;
    if (!any) return gt__autorelease(gt_retain(x));
    gt_tensor *grid = gt_empty(GT_SHAPE(n, H, W, 2));
    if (!grid) return NULL;
    float *g = gt_data(grid);
    for (int64_t k = 0; k < n; k++)
        for (int64_t i = 0; i < H; i++)
            for (int64_t j = 0; j < W; j++) {
                float *o = g + ((k * H + i) * W + j) * 2;
                /* align_corners false: pixel c sits at (2c + 1) / size - 1 */
                o[0] = (float)((2.0 * (double)(j + ty[k]) + 1.0) / (double)W - 1.0);
                o[1] = (float)((2.0 * (double)(i + tx[k]) + 1.0) / (double)H - 1.0);
            }
    return gt_grid_sample(x, grid, false, GT_GRID_ZEROS, false);
}

gt_tensor *gt_diffaug_cutout(gt_tensor *x, const int32_t *ox, const int32_t *oy) {
    if (!gt__da_check(x, ox, oy, "diffaug cutout")) return NULL;
    int64_t n = x->shape[0], H = x->shape[2], W = x->shape[3];
    int sh = gt_diffaug_cutout_size((int)H), sw = gt_diffaug_cutout_size((int)W);
    gt_tensor *mask = gt_ones(GT_SHAPE(n, 1, H, W));
    if (!mask) return NULL;
    float *m = gt_data(mask);
    for (int64_t i = 0; i < n; i++) {
        /* the reference's clamped index grid: rows clamp(ox - sh/2 + k, 0, H-1), k < sh */
        int64_t r0 = (int64_t)ox[i] - sh / 2, c0 = (int64_t)oy[i] - sw / 2;
        for (int64_t k = 0; k < sh; k++) {
            int64_t r = r0 + k < 0 ? 0 : r0 + k >= H ? H - 1 : r0 + k;
            for (int64_t l = 0; l < sw; l++) {
                int64_t c = c0 + l < 0 ? 0 : c0 + l >= W ? W - 1 : c0 + l;
                m[(i * H + r) * W + c] = 0.0f;
            }
        }
    }
    return gt_mul(x, mask);
}
