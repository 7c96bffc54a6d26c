/* gantry/sampling.h - images from a loaded generator, as `gantry sample` and the lab server's latent
 * explorer (docs/DASHBOARD.md) make them: the latents of a request (a grid from a seed, or an
 * interpolation between two seeds), the generation with an optional fixed class, and the grid
 * picture with each pixel scaled. Loading and BN recalibration: gt_load_generator and
 * gt_recalibrate_bn (gantry/train.h).
 *
 *     gt_net G; gt_train_config c;
 *     gt_load_generator("runs/a/last.safetensors", true, &G, &c, NULL);
 *     gt_recalibrate_bn(&G, 0x5EED, 8, 64);
 *     int m = gt_scope_begin();
 *     gt_tensor *z = gt_sample_z(&c.model, 3, 0, false, 16, 0);   // 16 latents of seed 3
 *     gt_tensor *x = z ? gt_sample_generate(&G, &c.model, z, -1) : NULL;
 *     gt_image img;
 *     if (x && gt_grid_image(x, 4, 2, 2, &img) == GT_OK) { ...; gt_image_free(&img); }
 *     gt_scope_end(m);
 */
#ifndef GANTRY_SAMPLING_H
#define GANTRY_SAMPLING_H

#include "image.h"
#include "models.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Latents (n, nz): n from seed for the model's family (gt_sample_latents_for), or with interp an
 * n-point spherical interpolation between the latents of seed and seed_b (gt_sample_latents each).
 * truncation > 0 redraws |z| > truncation. NULL with the error set. */
gt_tensor *gt_sample_z(const gt_model_config *m, uint64_t seed, uint64_t seed_b, bool interp, int n, float truncation);
/* G's images (N, C, res, res) for z: every row of class klass (0..n_classes-1 of a conditional
 * model; otherwise GT_ERR_ARG), or with klass -1 the classes in turn (gt_generate_y). */
gt_tensor *gt_sample_generate(gt_net *G, const gt_model_config *m, gt_tensor *z, int klass);
/* x as a grid picture (gt_make_grid: nrow images a row, padding pixels) with every pixel drawn
 * scale x scale (1..16). */
gt_status gt_grid_image(const gt_tensor *x, int nrow, int padding, int scale, gt_image *out);

#ifdef __cplusplus
}
#endif
#endif
