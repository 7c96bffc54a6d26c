/* CIFAR-10 binary batches written by the test: folder / file / :test specs,
 * record layout, order across files, offset / limit across a file boundary,
 * resizing and gray conversion, and corrupt files whose errors name them. */
#include "data_util.h"

#define REC 3073

static uint8_t pix(int f, int k, int j) { return (uint8_t)(j * 7 + k * 13 + f * 29); }
static uint8_t lab(int f, int k) { return (uint8_t)((f * 3 + k) % 10); }

static uint8_t *make_batch(int f, int n) {
    uint8_t *b = malloc((size_t)n * REC);
    for (int k = 0; k < n; k++) {
        b[k * REC] = lab(f, k);
        for (int j = 0; j < 3072; j++) b[k * REC + 1 + j] = pix(f, k, j);
    }
    return b;
}

static char dir[1024];

static void setup(void) {
    snprintf(dir, sizeof dir, "%s", tpath("cifar-10-batches-bin"));
    mkdir_p(dir);
    const int counts[3] = {5, 3, 4}; /* data_batch_1, data_batch_2, test_batch (f = 2) */
    const char *names[3] = {"data_batch_1.bin", "data_batch_2.bin", "test_batch.bin"};
    for (int f = 0; f < 3; f++) {
        uint8_t *b = make_batch(f, counts[f]);
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, names[f]);
        CHECK(write_bytes(p, b, (size_t)counts[f] * REC));
        free(b);
    }
}

static void test_layout_and_order(void) {
    gt_dataset *ds = gt_dataset_open(dir, 0, 0, NULL);
    CHECK_MSG(ds, "%s", gt_last_error());
    if (!ds) return;
    CHECK(ds->n == 8 && ds->c == 3 && ds->h == 32 && ds->w == 32 && ds->labels && ds->src_c == 3);
    bool ok = true;
    for (int i = 0; i < 8; i++) {
        int f = i < 5 ? 0 : 1, k = i < 5 ? i : i - 5;
        ok &= ds->labels[i] == lab(f, k);
        for (int j = 0; j < 3072; j++) ok &= gt_dataset_image(ds, i)[j] == pix(f, k, j);
    }
    CHECK_MSG(ok, "pixels or labels of the train batches are not where they should be");
    gt_dataset_free(ds);
    char spec[1200];
    snprintf(spec, sizeof spec, "%s:test", dir);
    ds = gt_dataset_open(spec, 0, 0, NULL);
    CHECK_MSG(ds && ds->n == 4 && ds->labels[1] == lab(2, 1) && gt_dataset_image(ds, 3)[100] == pix(2, 3, 100), "%s",
              gt_last_error());
    gt_dataset_free(ds);
    snprintf(spec, sizeof spec, "%s/data_batch_2.bin", dir);
    ds = gt_dataset_open(spec, 0, 0, NULL);
    CHECK(ds && ds->n == 3 && ds->labels[0] == lab(1, 0));
    gt_dataset_free(ds);
    /* offset / limit across the file boundary: records 3..6 = file 1 #3, #4, file 2 #0, #1 */
    ds = gt_dataset_open(dir, 0, 0, &(gt_dataset_opts){.offset = 3, .limit = 4});
    CHECK(ds && ds->n == 4);
    if (ds) {
        CHECK(ds->labels[0] == lab(0, 3) && ds->labels[2] == lab(1, 0) && ds->labels[3] == lab(1, 1));
        CHECK(gt_dataset_image(ds, 2)[5] == pix(1, 0, 5) && gt_dataset_image(ds, 1)[3071] == pix(0, 4, 3071));
    }
    gt_dataset_free(ds);
}

static void test_resize_and_gray(void) {
    gt_dataset *ds = gt_dataset_open(dir, 64, 1, &(gt_dataset_opts){.limit = 2});
    CHECK_MSG(ds && ds->n == 2 && ds->c == 1 && ds->h == 64 && ds->w == 64, "%s", gt_last_error());
    if (!ds) return;
    uint8_t rgb[3072], up[3 * 64 * 64], gray[64 * 64];
    for (int j = 0; j < 3072; j++) rgb[j] = pix(0, 1, j);
    gt_resize_u8(rgb, 3, 32, 32, up, 64, 64);
    gt_convert_channels_u8(up, 3, gray, 1, 64 * 64);
    CHECK(memcmp(gray, gt_dataset_image(ds, 1), sizeof gray) == 0);
    gt_dataset_free(ds);
}

static void test_corrupt(void) {
    char d2[1024], p[1200];
    snprintf(d2, sizeof d2, "%s", tpath("cifar-bad"));
    mkdir_p(d2);
    uint8_t *b = make_batch(0, 3);
    snprintf(p, sizeof p, "%s/data_batch_1.bin", d2);
    /* truncated */
    CHECK(write_bytes(p, b, 2 * REC + 100));
    CHECK(gt_dataset_open(d2, 32, 3, NULL) == NULL);
    CHECK_ERR_NAMES(p, "not a positive multiple");
    /* label out of range */
    b[REC] = 12;
    CHECK(write_bytes(p, b, 3 * REC));
    CHECK(gt_dataset_open(d2, 32, 3, NULL) == NULL);
    CHECK_ERR_NAMES(p, "label 12");
    /* empty file */
    CHECK(write_bytes(p, b, 0));
    CHECK(gt_dataset_open(p, 32, 3, NULL) == NULL);
    CHECK_ERR_NAMES(p, NULL);
    /* :test where there is none */
    b[REC] = 1;
    CHECK(write_bytes(p, b, 3 * REC));
    char spec[1200];
    snprintf(spec, sizeof spec, "%s:test", d2);
    CHECK(gt_dataset_open(spec, 32, 3, NULL) == NULL);
    CHECK_ERR_NAMES("test_batch.bin", NULL);
    gt_dataset *ds = gt_dataset_open(d2, 32, 3, NULL);
    CHECK(ds && ds->n == 3);
    gt_dataset_free(ds);
    free(b);
}

int main(void) {
    setup();
    RUN(test_layout_and_order);
    RUN(test_resize_and_gray);
    RUN(test_corrupt);
    return gt_test_finish();
}
