/* libFuzzer harness: the image path, PNG through libpng and JPEG through libjpeg (src/io/png.c,
 * src/io/image.c), as the image-folder loader (src/data/imagefolder.c) takes it: the input is
 * written as the one image of a folder in /dev/shm (named .png or .jpg from flag bits of its
 * last byte; the content decides the decoder) and the folder opened with gt_dataset_open at a
 * resolution and channel count also from that byte. The same bytes also go straight to
 * gt_image_decode (the in-memory entry point). */
#include "fuzz_util.h"
#include "gantry/data.h"
#include "gantry/image.h"

static char gt_fz_dir[512], gt_fz_png[600], gt_fz_jpg[600];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    gt_fuzz_path(gt_fz_png, sizeof gt_fz_png, "images/cls/a.png");
    snprintf(gt_fz_dir, sizeof gt_fz_dir, "%s/images", gt_fuzz_scratch());
    snprintf(gt_fz_jpg, sizeof gt_fz_jpg, "%s/cls/a.jpg", gt_fz_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    gt_image img = {0};
    if (gt_image_decode(d, n, "fuzz", &img) == GT_OK) {
        GT_FUZZ_CHECK(img.w >= 1 && img.h >= 1 && (img.c == 1 || img.c == 3) && img.data, "%d x %d x %d", img.w,
                      img.h, img.c);
        gt_image_free(&img);
    } else {
        GT_FUZZ_CHECK(gt_last_error()[0], "a refused image without a message");
    }
    unsigned flags = n ? d[n - 1] : 0;
    unlink(gt_fz_png), unlink(gt_fz_jpg);
    gt_fuzz_write(flags & 1 ? gt_fz_jpg : gt_fz_png, d, n);
    static const int res[4] = {0, 16, 7, 32}, chs[4] = {0, 1, 3, 3};
    gt_dataset *ds = gt_dataset_open(gt_fz_dir, res[(flags >> 1) & 3], chs[(flags >> 3) & 3], NULL);
    if (!ds) {
        GT_FUZZ_CHECK(gt_last_error()[0], "a refused image without a message");
        return 0;
    }
    GT_FUZZ_CHECK(ds->n == 1 && ds->labels && ds->labels[0] == 0 && ds->num_classes == 1, "%lld images",
                  (long long)ds->n);
    gt_dataset_free(ds);
    return 0;
}
