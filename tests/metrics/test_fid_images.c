/* gt_fid_images: FID of in-memory float images as `gantry eval` computes it (uint8 conversion,
 * extractor, real statistics from the cache). */
#include <stdlib.h>

#include "../common/harness.h"

/* n images of spec as floats in [-1, 1] such that gt_images_to_u8 gives back the same bytes. */
static float *load_float(const char *spec, int64_t n, uint8_t **u8) {
    gt_image_source *s = gt_image_source_open(spec, n);
    CHECK_MSG(s != NULL, "%s", gt_last_error());
    if (!s) return NULL;
    const int64_t per = 28 * 28;
    *u8 = malloc((size_t)(n * per));
    float *x = malloc((size_t)(n * per) * sizeof *x);
    CHECK(gt_image_source_read(s, 0, n, *u8) == GT_OK);
    for (int64_t i = 0; i < n * per; i++) x[i] = (*u8)[i] / 127.5f - 1.0f;
    gt_image_source_free(s);
    return x;
}

static void test_fid_images(void) {
    char cache[700];
    snprintf(cache, sizeof cache, "%s/cache", gt_test_tmpdir());
    setenv("GANTRY_CACHE", cache, 1);
    const int64_t n = 600, per = 28 * 28;
    uint8_t *u_train = NULL, *u_test = NULL;
    float *train = load_float("fashion-mnist:train", n, &u_train), *test = load_float("fashion-mnist:test", n, &u_test);
    if (!train || !test) goto out;
    /* the conversion gives back the bytes exactly */
    uint8_t *back = malloc((size_t)(n * per));
    gt_images_to_u8(test, n * per, back);
    CHECK(memcmp(back, u_test, (size_t)(n * per)) == 0);
    free(back);
    /* the same images as the real side: FID ~ 0 */
    double same = NAN, fid = NAN, fid_cached = NAN, ref = NAN;
    CHECK_MSG(gt_fid_images(NULL, test, n, 1, 28, 28, "fashion-mnist:test", n, &same) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(fabs(same) < 1e-3, "FID of the test images against themselves: %g", same);
    /* train images vs test: the eval pipeline's value (sources -> features -> statistics) */
    CHECK(gt_fid_images(NULL, train, n, 1, 28, 28, "fashion-mnist:test", n, &fid) == GT_OK);
    CHECK(gt_fid_images(NULL, train, n, 1, 28, 28, "fashion-mnist:test", n, &fid_cached) == GT_OK); /* from the cache */
    gt_extractor ex;
    CHECK(gt_extractor_open("fmnist", NULL, &ex) == GT_OK);
    gt_image_source *a = gt_image_source_open("fashion-mnist:train", n), *b = gt_image_source_open("fashion-mnist:test", n);
    gt_feature_set fa = {0}, fb = {0};
    CHECK(gt_features_extract(&ex, a, 0, false, NULL, NULL, &fa) == GT_OK);
    CHECK(gt_features_extract(&ex, b, 0, false, NULL, NULL, &fb) == GT_OK);
    CHECK(gt_metric_fid_features(fb.feats, fb.n, fa.feats, fa.n, fa.dim, &ref) == GT_OK);
    CHECK_MSG(fid > 1.0 && fabs(fid - ref) <= 1e-6 * ref, "FID %g, eval pipeline %g", fid, ref);
    CHECK_MSG(fabs(fid_cached - fid) <= 1e-9 * fid, "cached %g vs %g", fid_cached, fid);
    gt_feature_set_free(&fa), gt_feature_set_free(&fb);
    gt_image_source_free(a), gt_image_source_free(b);
    gt_extractor_free(&ex);
    /* bad input */
    CHECK(gt_fid_images(NULL, train, 1, 1, 28, 28, "fashion-mnist:test", n, &fid) == GT_ERR_ARG);
    CHECK(gt_fid_images(NULL, train, n, 1, 28, 28, "/nonexistent/folder", n, &fid) != GT_OK);
    CHECK(gt_fid_images("vgg", train, n, 1, 28, 28, "fashion-mnist:test", n, &fid) == GT_ERR_ARG);
out:
    free(train), free(test), free(u_train), free(u_test);
    unsetenv("GANTRY_CACHE");
}

int main(void) {
    RUN(test_fid_images);
    return gt_test_finish();
}
