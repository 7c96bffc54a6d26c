/* IDX reader: Debian's Fashion-MNIST against gzip + numpy (counts, labels,
 * per-image pixel sums), raw vs gzip, resizing vs PIL, offset / limit, the
 * missing-dataset message, and corrupt files whose errors name the file. */
#include "data_util.h"

#define FMNIST GT_FASHION_MNIST_DIR

static bool have_fmnist(void) {
    if (access(FMNIST "/train-images-idx3-ubyte.gz", R_OK) == 0) return true;
    printf("  (skipped: %s not installed; apt-get install dataset-fashion-mnist)\n", FMNIST);
    return false;
}

static void check_split(const char *spec, const char *pfx, int64_t n) {
    gt_dataset *ds = gt_dataset_open(spec, 0, 0, NULL);
    CHECK_MSG(ds != NULL, "%s: %s", spec, gt_last_error());
    if (!ds) return;
    CHECK(ds->n == n && ds->c == 1 && ds->h == 28 && ds->w == 28);
    CHECK(ds->src_c == 1 && ds->src_h == 28 && ds->src_w == 28);
    CHECK(ds->labels != NULL && ds->num_classes == 10);
    char name[64];
    snprintf(name, sizeof name, "%s_sums", pfx);
    gt_tensor *sums = gt_golden(name);
    snprintf(name, sizeof name, "%s_labels", pfx);
    gt_tensor *labels = gt_golden(name);
    CHECK(sums && labels && gt_numel(sums) == n && gt_numel(labels) == n);
    if (!sums || !labels || gt_numel(sums) != n) {
        gt_dataset_free(ds);
        return;
    }
    int64_t bad_sum = 0, bad_label = 0, counts[10] = {0};
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = gt_dataset_image(ds, i);
        int64_t s = 0;
        for (int k = 0; k < 28 * 28; k++) s += p[k];
        bad_sum += s != gt_data_i32(sums)[i];
        bad_label += ds->labels[i] != gt_data_i32(labels)[i];
        if (ds->labels[i] >= 0 && ds->labels[i] < 10) counts[ds->labels[i]]++;
    }
    CHECK_MSG(bad_sum == 0, "%s: %lld images with a pixel sum different from numpy's", spec, (long long)bad_sum);
    CHECK_MSG(bad_label == 0, "%s: %lld labels different from numpy's", spec, (long long)bad_label);
    for (int k = 0; k < 10; k++) CHECK_MSG(counts[k] == n / 10, "%s: class %d has %lld images", spec, k, (long long)counts[k]);
    int64_t s0 = 0;
    for (int k = 0; k < 28 * 28; k++) s0 += gt_dataset_image(ds, 0)[k];
    printf("  %s: %lld images, first image pixel sum %lld (numpy %d)\n", spec, (long long)ds->n, (long long)s0,
           gt_data_i32(sums)[0]);
    gt_dataset_free(ds);
}

/* The test split resized (and made RGB) against PIL's bilinear resize. */
static void check_resize_vs_pil(void) {
    gt_tensor *have = gt_golden("have_pil");
    if (!have || gt_data_i32(have)[0] == 0) {
        printf("  (PIL comparison skipped: python3-pil not installed)\n");
        return;
    }
    const int res[3] = {20, 32, 64};
    for (int k = 0; k < 3; k++) {
        int r = res[k];
        gt_dataset *ds = gt_dataset_open("fashion-mnist:test", r, 3, &(gt_dataset_opts){.limit = 8});
        CHECK_MSG(ds != NULL, "%s", gt_last_error());
        if (!ds) continue;
        CHECK(ds->n == 8 && ds->c == 3 && ds->h == r && ds->w == r);
        char name[32];
        snprintf(name, sizeof name, "test_r%d", r);
        gt_tensor *ref = gt_golden(name);
        int worst = 0;
        int64_t off = 0, planes_differ = 0;
        for (int64_t i = 0; i < 8 && ref; i++)
            for (int64_t p = 0; p < (int64_t)r * r; p++) {
                const uint8_t *im = gt_dataset_image(ds, i);
                int d = abs((int)im[p] - gt_data_i32(ref)[i * r * r + p]);
                worst = d > worst ? d : worst;
                off += d != 0;
                planes_differ += im[p] != im[p + r * r] || im[p] != im[p + 2 * r * r];
            }
        /* PIL rounds to 8 bits in fixed point after each of its two passes; we round once. */
        CHECK_MSG(worst <= 1, "28 -> %d: max |ours - PIL| = %d (tolerance 1)", r, worst);
        CHECK(planes_differ == 0);
        printf("  28 -> %d vs PIL BILINEAR: max diff %d, %lld of %d pixels differ by 1\n", r, worst, (long long)off,
               8 * r * r);
        gt_dataset_free(ds);
    }
}

static void test_fashion_mnist_vs_numpy_and_pil(void) {
    if (!have_fmnist() || !gt_golden_run("data_idx.py", FMNIST)) return;
    check_split("fashion-mnist", "train", 60000);
    check_split("fashion-mnist:train", "train", 60000);
    check_split("fashion-mnist:test", "test", 10000);
    check_resize_vs_pil();
}

static void test_offset_limit(void) {
    if (!have_fmnist()) return;
    gt_dataset *all = gt_dataset_open("fashion-mnist:test", 0, 0, &(gt_dataset_opts){.limit = 20});
    gt_dataset *sub = gt_dataset_open("fashion-mnist:test", 0, 0, &(gt_dataset_opts){.offset = 5, .limit = 3});
    CHECK(all && sub);
    if (all && sub) {
        CHECK(all->n == 20 && sub->n == 3);
        CHECK(memcmp(gt_dataset_image(sub, 0), gt_dataset_image(all, 5), 3 * 28 * 28) == 0);
        CHECK(memcmp(sub->labels, all->labels + 5, 3 * sizeof(int32_t)) == 0);
    }
    gt_dataset_free(all);
    gt_dataset_free(sub);
    CHECK(gt_dataset_open("fashion-mnist:test", 0, 0, &(gt_dataset_opts){.offset = 10000}) == NULL);
    CHECK_ERR_NAMES("offset", NULL);
    CHECK(gt_dataset_open("fashion-mnist:test", 0, 0, &(gt_dataset_opts){.limit = -1}) == NULL);
    CHECK(gt_dataset_open("fashion-mnist:valid", 0, 0, NULL) == NULL);
    CHECK_ERR_NAMES("valid", NULL);
    CHECK(gt_dataset_open("fashion-mnist", 5000, 0, NULL) == NULL);
    CHECK_ERR_NAMES("resolution", NULL);
    CHECK(gt_dataset_open("fashion-mnist", 32, 2, NULL) == NULL);
    CHECK_ERR_NAMES("channels", NULL);
}

/* The same data through a raw (gunzipped) copy, labels found beside it. */
static void test_raw_equals_gzip(void) {
    if (!have_fmnist()) return;
    const char *names[2] = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 2; i++) {
        char src[256];
        snprintf(src, sizeof src, "%s/%s.gz", FMNIST, names[i]);
        size_t n;
        uint8_t *b = read_all(src, &n, true);
        CHECK(b && n > 0 && write_bytes(tpath("%s", names[i]), b, n));
        free(b);
    }
    gt_dataset *gz = gt_dataset_open(FMNIST "/t10k-images-idx3-ubyte.gz", 0, 0, NULL);
    gt_dataset *raw = gt_dataset_open(tpath("t10k-images-idx3-ubyte"), 0, 0, NULL);
    CHECK_MSG(gz && raw, "%s", gt_last_error());
    if (gz && raw) {
        CHECK(gz->n == 10000 && raw->n == 10000 && raw->labels && gz->labels);
        CHECK(memcmp(gz->pixels, raw->pixels, (size_t)10000 * 784) == 0);
        CHECK(raw->labels && memcmp(gz->labels, raw->labels, 10000 * sizeof(int32_t)) == 0);
    }
    gt_dataset_free(gz);
    gt_dataset_free(raw);
    /* no labels file beside: images only */
    unlink(tpath("t10k-labels-idx1-ubyte"));
    raw = gt_dataset_open(tpath("t10k-images-idx3-ubyte"), 0, 0, NULL);
    CHECK(raw && raw->labels == NULL && raw->num_classes == 0);
    gt_dataset_free(raw);
    unlink(tpath("t10k-images-idx3-ubyte"));
}

static void test_missing_dataset_message(void) {
    setenv("GANTRY_FASHION_MNIST_DIR", "/nonexistent/fmnist", 1);
    CHECK(gt_dataset_open("fashion-mnist", 32, 1, NULL) == NULL);
    CHECK_ERR_NAMES("apt-get install dataset-fashion-mnist", "/nonexistent/fmnist");
    CHECK(gt_last_status() == GT_ERR_IO);
    unsetenv("GANTRY_FASHION_MNIST_DIR");
    CHECK(gt_dataset_open("no-such-dataset", 32, 1, NULL) == NULL);
    CHECK_ERR_NAMES("no-such-dataset", "fashion-mnist");
}

/* Hand-made IDX files: each defect gets an error naming the file and the defect. */
static void test_corrupt_idx(void) {
    uint8_t px[5 * 4 * 3];
    for (int i = 0; i < 60; i++) px[i] = (uint8_t)(i * 4);
    size_t n;
    uint8_t *good = make_idx(3, (const uint32_t[]){5, 4, 3}, px, &n);
    char p[1024], pl[1024];
    snprintf(p, sizeof p, "%s", tpath("img-images-idx3-ubyte"));
    snprintf(pl, sizeof pl, "%s", tpath("img-labels-idx1-ubyte"));
    CHECK(write_bytes(p, good, n));
    gt_dataset *ds = gt_dataset_open(p, 0, 0, NULL);
    CHECK_MSG(ds && ds->n == 5 && ds->h == 4 && ds->w == 3 && !ds->labels, "%s", gt_last_error());
    CHECK(ds && memcmp(ds->pixels, px, 60) == 0);
    gt_dataset_free(ds);
    /* gz with labels (raw) beside */
    uint8_t lab[5] = {1, 0, 4, 4, 2};
    size_t ln;
    uint8_t *lgood = make_idx(1, (const uint32_t[]){5}, lab, &ln);
    CHECK(write_gz(tpath("img-images-idx3-ubyte.gz"), good, n) && write_bytes(pl, lgood, ln));
    ds = gt_dataset_open(tpath("img-images-idx3-ubyte.gz"), 0, 0, NULL);
    CHECK_MSG(ds && ds->labels && ds->labels[2] == 4 && ds->num_classes == 5, "%s", gt_last_error());
    gt_dataset_free(ds);

    struct {
        const char *what;
        int at;       /* byte to change, or -1 */
        uint8_t val;
        size_t len;   /* length to write (truncation / extension) */
        const char *says;
    } cases[] = {
        {"bad magic", 0, 0x1f, n, "not an IDX"},
        {"float type", 2, 0x0D, n, "data type 0x0d"},
        {"ndim 2", 3, 2, n, "dimensions"},
        {"zero count", 7, 0, n, "dimension 0"},
        {"huge height", 8, 0x7f, n, "dimension 1"},
        {"truncated data", -1, 0, n - 7, "truncated"},
        {"truncated header", -1, 0, 9, "truncated"},
        {"empty", -1, 0, 0, "truncated"},
        {"trailing bytes", -1, 0, n + 5, "unexpected bytes"},
    };
    uint8_t *buf = calloc(n + 16, 1);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(buf, good, n);
        if (cases[k].at >= 0) buf[cases[k].at] = cases[k].val;
        for (int gz = 0; gz < 2; gz++) {
            const char *path = gz ? tpath("bad-images-idx3-ubyte.gz") : tpath("bad-images-idx3-ubyte");
            CHECK(gz ? write_gz(path, buf, cases[k].len) : write_bytes(path, buf, cases[k].len));
            CHECK_MSG(gt_dataset_open(path, 0, 0, NULL) == NULL, "%s (%s) was accepted", cases[k].what,
                      gz ? "gz" : "raw");
            CHECK_ERR_NAMES(path, cases[k].says);
            unlink(path);
        }
    }
    free(buf);
    /* a corrupt gzip stream and a gzip file cut short */
    CHECK(write_gz(tpath("cut-images-idx3-ubyte.gz"), good, n));
    size_t gn;
    uint8_t *gzb = read_all(tpath("cut-images-idx3-ubyte.gz"), &gn, false);
    CHECK(gzb && write_bytes(tpath("cut-images-idx3-ubyte.gz"), gzb, gn - 6));
    CHECK(gt_dataset_open(tpath("cut-images-idx3-ubyte.gz"), 0, 0, NULL) == NULL);
    CHECK_ERR_NAMES(tpath("cut-images-idx3-ubyte.gz"), NULL);
    gzb[gn - 6] ^= 0x55; /* CRC-32 in the trailer */
    CHECK(write_bytes(tpath("cut-images-idx3-ubyte.gz"), gzb, gn));
    CHECK(gt_dataset_open(tpath("cut-images-idx3-ubyte.gz"), 0, 0, NULL) == NULL);
    CHECK_ERR_NAMES(tpath("cut-images-idx3-ubyte.gz"), "gzip");
    free(gzb);
    /* labels: wrong count, wrong file kind */
    uint8_t *l4 = make_idx(1, (const uint32_t[]){4}, lab, &ln);
    CHECK(write_bytes(pl, l4, ln));
    CHECK(gt_dataset_open(p, 0, 0, NULL) == NULL);
    CHECK_ERR_NAMES(pl, "4 labels");
    CHECK(write_bytes(pl, good, n)); /* an images file where labels should be */
    CHECK(gt_dataset_open(p, 0, 0, NULL) == NULL);
    CHECK_ERR_NAMES(pl, "dimensions");
    CHECK(gt_dataset_open(tpath("nothing-images-idx3-ubyte"), 0, 0, NULL) == NULL);
    CHECK_ERR_NAMES("nothing-images-idx3-ubyte", NULL);
    free(l4);
    free(lgood);
    free(good);
}

int main(void) {
    RUN(test_fashion_mnist_vs_numpy_and_pil);
    RUN(test_offset_limit);
    RUN(test_raw_equals_gzip);
    RUN(test_missing_dataset_message);
    RUN(test_corrupt_idx);
    return gt_test_finish();
}
