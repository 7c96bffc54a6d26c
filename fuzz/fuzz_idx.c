/* libFuzzer harness: IDX images and labels, raw and gzip (src/data/idx.c, through
 * gt_dataset_open as a user reaches it). The input: byte 0 = flags, bytes 1-2 = L (little-endian),
 * then L bytes of the labels file (when flag 2), then the images file.
 *   flag 1: the harness gzips both files (so the IDX structure is mutated, and zlib's reader
 *           gives gantry gzip streams); else they are written as they are (a gzip stream the
 *           fuzzer mutates itself is read that way too: gzopen decides from the bytes)
 *   flag 2: write the labels file beside the images ("...-labels-idx1-ubyte")
 *   flags 4, 8: the target resolution (0 = the file's own, 8, 28, 5); 16, 32: channels (0, 1, 3, 0)
 *   flag 64: opts.limit = 3; flag 128: opts.offset = 1 */
#include <zlib.h>

#include "fuzz_util.h"
#include "gantry/data.h"

static char gt_fz_img[512], gt_fz_lab[512], gt_fz_imgz[512], gt_fz_labz[512];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    gt_fuzz_path(gt_fz_img, sizeof gt_fz_img, "idx/t-images-idx3-ubyte");
    gt_fuzz_path(gt_fz_lab, sizeof gt_fz_lab, "idx/t-labels-idx1-ubyte");
    snprintf(gt_fz_imgz, sizeof gt_fz_imgz, "%s.gz", gt_fz_img);
    snprintf(gt_fz_labz, sizeof gt_fz_labz, "%s.gz", gt_fz_lab);
    return 0;
}

static void gt_fz_put(const char *path, const uint8_t *d, size_t n, bool gz) {
    if (!gz) {
        gt_fuzz_write(path, d, n);
        return;
    }
    gzFile f = gzopen(path, "wb1");
    GT_FUZZ_CHECK(f, "gzopen %s", path);
    if (n) GT_FUZZ_CHECK(gzwrite(f, d, (unsigned)n) == (int)n, "gzwrite");
    GT_FUZZ_CHECK(gzclose(f) == Z_OK, "gzclose");
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 3) return 0;
    unsigned flags = d[0];
    size_t L = d[1] | (size_t)d[2] << 8;
    d += 3, n -= 3;
    if (L > n) L = n;
    bool gz = flags & 1, labels = flags & 2;
    static const int res[4] = {0, 8, 28, 5}, chs[4] = {0, 1, 3, 0};
    unlink(gt_fz_img), unlink(gt_fz_imgz), unlink(gt_fz_lab), unlink(gt_fz_labz);
    const char *img = gz ? gt_fz_imgz : gt_fz_img;
    if (labels) gt_fz_put(gz ? gt_fz_labz : gt_fz_lab, d, L, gz);
    else L = 0;
    gt_fz_put(img, d + L, n - L, gz);
    gt_dataset_opts o = {.limit = flags & 64 ? 3 : 0, .offset = flags & 128 ? 1 : 0};
    gt_dataset *ds = gt_dataset_open(img, res[(flags >> 2) & 3], chs[(flags >> 4) & 3], &o);
    if (!ds) {
        GT_FUZZ_CHECK(gt_last_error()[0], "a refused file without a message");
        return 0;
    }
    GT_FUZZ_CHECK(ds->n >= 0 && ds->c >= 1 && ds->h >= 1 && ds->w >= 1, "dataset %lld x %d x %d x %d",
                  (long long)ds->n, ds->c, ds->h, ds->w);
    if (ds->labels)
        for (int64_t i = 0; i < ds->n; i++)
            GT_FUZZ_CHECK(ds->labels[i] >= 0 && ds->labels[i] < ds->num_classes, "label %d", ds->labels[i]);
    if (ds->n > 0) {
        float *x = malloc(sizeof(float) * (size_t)ds->c * ds->h * ds->w);
        GT_FUZZ_CHECK(x && gt_dataset_read_f32(ds, ds->n - 1, 1, x) == GT_OK, "read the last image");
        free(x);
    }
    gt_dataset_free(ds);
    return 0;
}
