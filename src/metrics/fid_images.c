/* FID of a batch of generated float images against a data set, as `gantry eval` computes it
 * (images to uint8 as torchvision's save_image does, the extractor's features, the real side's
 * statistics from the cache when they are there). For reports that make their own images
 * (compress-report, quantize). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/metrics.h"

void gt_images_to_u8(const float *x, int64_t n, uint8_t *out) {
    for (int64_t i = 0; i < n; i++) {
        float v = (x[i] + 1.0f) * 0.5f; /* torchvision's save_image conversion */
        v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
        out[i] = (uint8_t)floorf(v * 255.0f + 0.5f);
    }
}

static bool gt__fi_cacheable(const char *spec) {
    return strcmp(spec, "fashion-mnist") == 0 || strcmp(spec, "fashion-mnist:train") == 0 ||
           strcmp(spec, "fashion-mnist:test") == 0;
}

/* The real side's statistics: cached, or computed (and cached). */
static gt_status gt__fi_real(const gt_extractor *ex, const char *spec, int64_t n_real, gt_fid_stats *st) {
    const bool cache = gt__fi_cacheable(spec);
    gt_image_source *src = gt_image_source_open(spec, n_real);
    if (!src) return gt_last_status();
    const int64_t n = gt_image_source_count(src);
    if (cache && gt_stats_cache_load(spec, ex->name, "none", n, st) == GT_OK) {
        gt_image_source_free(src);
        return GT_OK;
    }
    gt_feature_set fs = {0};
    gt_status s = gt_features_extract(ex, src, 0, false, NULL, NULL, &fs);
    if (s == GT_OK) s = gt_fid_stats_compute(fs.feats, fs.n, fs.dim, st);
    if (s == GT_OK && cache) gt_stats_cache_store(spec, ex->name, "none", n, st); /* a failed store: no cache */
    gt_feature_set_free(&fs);
    gt_image_source_free(src);
    return s;
}

gt_status gt_fid_images(const char *extractor, const float *x, int64_t n, int c, int h, int w, const char *real_spec,
                        int64_t n_real, double *fid) {
    if (!x || n < 2 || c < 1 || h < 1 || w < 1 || !real_spec || !fid)
        return gt_set_error(GT_ERR_ARG, "gt_fid_images: needs >= 2 images and a real data spec");
    gt_extractor ex = {0};
    gt_extractor_opts eo = {.c = c, .h = h, .w = w};
    gt_status s = gt_extractor_open(extractor ? extractor : "fmnist", &eo, &ex);
    if (s != GT_OK) return s;
    const int64_t per = (int64_t)c * h * w, b = ex.batch > 0 ? ex.batch : 50;
    uint8_t *u = malloc((size_t)(b * per));
    float *feats = malloc((size_t)(n * ex.dim) * sizeof *feats);
    gt_fid_stats fake = {0}, real = {0};
    if (!u || !feats) s = gt_set_error(GT_ERR_OOM, "gt_fid_images: out of memory for %lld images", (long long)n);
    for (int64_t i = 0; i < n && s == GT_OK; i += b) {
        const int64_t k = n - i < b ? n - i : b;
        gt_images_to_u8(x + i * per, k * per, u);
        gt_image_batch ib = {u, k, c, h, w};
        s = ex.extract(ex.ctx, &ib, feats + i * ex.dim, NULL);
    }
    if (s == GT_OK) s = gt_fid_stats_compute(feats, n, ex.dim, &fake);
    if (s == GT_OK) s = gt__fi_real(&ex, real_spec, n_real, &real);
    if (s == GT_OK) s = gt_metric_fid(&real, &fake, fid);
    gt_fid_stats_free(&fake);
    gt_fid_stats_free(&real);
    free(u);
    free(feats);
    gt_extractor_free(&ex);
    return s;
}
