/* libFuzzer harness: CIFAR-10 binary batches (src/data/cifar.c, through gt_dataset_open). The
 * input: byte 0 = flags, bytes 1-2 = L (little-endian), then L bytes of data_batch_1.bin, the rest
 * data_batch_2.bin (or test_batch.bin with flag 1). The spec opened (flags 2, 4): the folder, the
 * folder:test, the folder:train, or the one file data_batch_1.bin. Flags 8, 16: the resolution
 * (0, 8, 32, 3); flag 32: 1 channel; flag 64: opts.limit = 2; flag 128: opts.offset = 1.
 * Every dataset that opens has images and CIFAR's labels 0..9, unless the one file was read as IDX. */
#include "fuzz_util.h"
#include "gantry/data.h"

static char gt_fz_dir[512], gt_fz_b1[600], gt_fz_b2[600], gt_fz_test[600];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    gt_fuzz_path(gt_fz_b1, sizeof gt_fz_b1, "cifar/data_batch_1.bin");
    snprintf(gt_fz_dir, sizeof gt_fz_dir, "%s/cifar", gt_fuzz_scratch());
    snprintf(gt_fz_b2, sizeof gt_fz_b2, "%s/data_batch_2.bin", gt_fz_dir);
    snprintf(gt_fz_test, sizeof gt_fz_test, "%s/test_batch.bin", gt_fz_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 3) return 0;
    unsigned flags = d[0];
    size_t L = d[1] | (size_t)d[2] << 8;
    d += 3, n -= 3;
    if (L > n) L = n;
    unlink(gt_fz_b2), unlink(gt_fz_test);
    gt_fuzz_write(gt_fz_b1, d, L);
    gt_fuzz_write(flags & 1 ? gt_fz_test : gt_fz_b2, d + L, n - L);
    char spec[700];
    static const char *const sfx[4] = {"", ":test", ":train", ""};
    int which = (flags >> 1) & 3;
    snprintf(spec, sizeof spec, "%s%s", which == 3 ? gt_fz_b1 : gt_fz_dir, sfx[which]);
    static const int res[4] = {0, 8, 32, 3};
    gt_dataset_opts o = {.limit = flags & 64 ? 2 : 0, .offset = flags & 128 ? 1 : 0};
    gt_dataset *ds = gt_dataset_open(spec, res[(flags >> 3) & 3], flags & 32 ? 1 : 0, &o);
    if (!ds) {
        GT_FUZZ_CHECK(gt_last_error()[0], "a refused file without a message");
        return 0;
    }
    /* a file given by name is recognised by its content: one that starts with IDX's magic (0, 0, 8:
     * unsigned bytes) is read as an IDX file, which has no labels here (none beside it) */
    bool idx = which == 3 && L >= 3 && d[0] == 0 && d[1] == 0 && d[2] == 8;
    GT_FUZZ_CHECK(ds->n >= 1 && (ds->labels || idx), "%lld images, labels %s", (long long)ds->n,
                  ds->labels ? "present" : "missing");
    for (int64_t i = 0; ds->labels && !idx && i < ds->n; i++)
        GT_FUZZ_CHECK(ds->labels[i] >= 0 && ds->labels[i] <= 9, "label %d", ds->labels[i]);
    gt_dataset_free(ds);
    return 0;
}
