/* The edges -> item task's input (gantry/translate.h): a thresholded Sobel magnitude of the
 * channel mean, replicated borders, in {-1, 1}. Plain loops: no graph, deterministic. */
#include <math.h>
#include <stdlib.h>

#include "gantry/translate.h"

static int gt__clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

gt_status gt_edges_f32(const float *x, int64_t n, int c, int h, int w, float *out) {
    if (!x || !out || n < 0 || c < 1 || h < 1 || w < 1)
        return gt_set_error(GT_ERR_ARG, "gt_edges: bad images (n %lld, c %d, h %d, w %d)", (long long)n, c, h, w);
    float *g = malloc((size_t)h * (size_t)w * sizeof *g);
    if (!g) return gt_set_error(GT_ERR_OOM, "gt_edges: out of memory");
    const int64_t plane = (int64_t)h * w;
    for (int64_t i = 0; i < n; i++) {
        const float *xi = x + i * c * plane;
        for (int64_t p = 0; p < plane; p++) {
            float s = 0;
            for (int k = 0; k < c; k++) s += xi[k * plane + p];
            g[p] = s / (float)c;
        }
        float *oi = out + i * c * plane;
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++) {
                const int ym = gt__clampi(y - 1, 0, h - 1), yp = gt__clampi(y + 1, 0, h - 1);
                const int xm = gt__clampi(xx - 1, 0, w - 1), xp = gt__clampi(xx + 1, 0, w - 1);
#define G(a, b) g[(int64_t)(a) * w + (b)]
                const float gx = (G(ym, xp) + 2 * G(y, xp) + G(yp, xp)) - (G(ym, xm) + 2 * G(y, xm) + G(yp, xm));
                const float gy = (G(yp, xm) + 2 * G(yp, xx) + G(yp, xp)) - (G(ym, xm) + 2 * G(ym, xx) + G(ym, xp));
#undef G
                const float v = sqrtf(gx * gx + gy * gy) > GT_EDGE_THRESHOLD ? 1.0f : -1.0f;
                for (int k = 0; k < c; k++) oi[k * plane + (int64_t)y * w + xx] = v;
            }
    }
    free(g);
    return GT_OK;
}

gt_tensor *gt_edges(gt_tensor *x) {
    if (!x) return NULL;
    if (x->ndim != 4 || x->dtype != GT_F32) {
        char s[64];
        gt_set_error(GT_ERR_SHAPE, "gt_edges: images must be (N, C, H, W) float, got %s", gt_shape_str(x, s, sizeof s));
        return NULL;
    }
    gt_tensor *xc = gt_contiguous(x);
    gt_tensor *out = xc ? gt_empty(4, x->shape) : NULL;
    if (!out) return NULL;
    if (gt_edges_f32(gt_data(xc), x->shape[0], (int)x->shape[1], (int)x->shape[2], (int)x->shape[3], gt_data(out)) !=
        GT_OK)
        return NULL;
    return out;
}
