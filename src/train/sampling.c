/* Images from a loaded generator (gantry/sampling.h), shared by `gantry sample` and the lab
 * server's latent explorer: a request's latents, the generation with a fixed class, and the
 * grid picture with scaled pixels. */
#include <stdlib.h>
#include <string.h>

#include "gantry/sampling.h"
#include "gantry/train.h"

gt_tensor *gt_sample_z(const gt_model_config *m, uint64_t seed, uint64_t seed_b, bool interp, int n, float truncation) {
    if (!m || n < 1) return (gt_set_error(GT_ERR_ARG, "gt_sample_z: no model or n < 1"), NULL);
    if (!interp) return gt_sample_latents_for(m, seed, n, truncation);
    if (n < 2) return (gt_set_error(GT_ERR_ARG, "an interpolation needs at least 2 points, got %d", n), NULL);
    gt_tensor *a = gt_sample_latents(seed, 1, m->nz, truncation);
    gt_tensor *b = gt_sample_latents(seed_b, 1, m->nz, truncation);
    return a && b ? gt_slerp_latents(gt_reshape(a, GT_SHAPE(-1)), gt_reshape(b, GT_SHAPE(-1)), n) : NULL;
}

gt_tensor *gt_sample_generate(gt_net *G, const gt_model_config *m, gt_tensor *z, int klass) {
    if (!G || !m || !z) return (gt_set_error(GT_ERR_ARG, "gt_sample_generate: NULL argument"), NULL);
    if (klass < 0) return gt_generate_y(G, z, NULL);
    if (m->n_classes == 0)
        return (gt_set_error(GT_ERR_ARG, "model %s is unconditional (it has no classes)", m->name), NULL);
    if (klass >= m->n_classes)
        return (gt_set_error(GT_ERR_ARG, "class must be in 0..%d for this model, got %d", m->n_classes - 1, klass), NULL);
    gt_tensor *y = gt_empty_i32(1, (int64_t[]){z->shape[0]});
    if (!y) return NULL;
    for (int64_t i = 0; i < z->shape[0]; i++) gt_data_i32(y)[i] = klass;
    return gt_generate_y(G, z, y);
}

gt_status gt_grid_image(const gt_tensor *x, int nrow, int padding, int scale, gt_image *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_grid_image: out is NULL");
    memset(out, 0, sizeof *out);
    if (scale < 1 || scale > 16) return gt_set_error(GT_ERR_ARG, "scale must be in 1..16, got %d", scale);
    gt_image g = {0};
    gt_status st = gt_make_grid(x, nrow, padding, &g);
    if (st != GT_OK || scale == 1) {
        *out = g;
        return st;
    }
    size_t w = (size_t)g.w * (size_t)scale, h = (size_t)g.h * (size_t)scale;
    uint8_t *big = malloc(w * h * (size_t)g.c);
    if (!big) {
        gt_image_free(&g);
        return gt_set_error(GT_ERR_OOM, "out of memory scaling a %dx%d grid by %d", g.w, g.h, scale);
    }
    for (size_t y = 0; y < h; y++)
        for (size_t x0 = 0; x0 < w; x0++)
            for (int c = 0; c < g.c; c++) big[(y * w + x0) * g.c + c] = g.data[((y / scale) * g.w + x0 / scale) * g.c + c];
    *out = (gt_image){(int)w, (int)h, g.c, big};
    gt_image_free(&g);
    return GT_OK;
}
