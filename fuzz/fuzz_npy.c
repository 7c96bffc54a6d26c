/* libFuzzer harness: one .npy array (src/io/npy.c), in memory (gt__npy_parse, what gt_npy_load
 * and every .npz member go through). An accepted array is converted to doubles, saved with
 * gt_npy_save and loaded again: the same dtype, shape and bytes. */
#include "fuzz_util.h"
#include "gantry/io.h"
#include "../src/io/npy_internal.h"

static char gt_fz_path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    gt_fuzz_path(gt_fz_path, sizeof gt_fz_path, "a.npy");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    gt_npy_array a = {0}, b = {0};
    if (gt__npy_parse(d, n, "fuzz", &a) != GT_OK) {
        GT_FUZZ_CHECK(gt_last_error()[0], "a refused array without a message");
        gt_npy_array_free(&a);
        return 0;
    }
    size_t es = gt_npy_dtype_size(a.dtype);
    GT_FUZZ_CHECK(es > 0 && a.ndim >= 0 && a.ndim <= GT_NPY_MAX_DIMS, "dtype %d ndim %d", a.dtype, a.ndim);
    int64_t numel = 1;
    for (int k = 0; k < a.ndim; k++) numel *= a.shape[k];
    GT_FUZZ_CHECK(numel == a.numel, "numel %lld, shape product %lld", (long long)a.numel, (long long)numel);
    double *f = malloc(sizeof(double) * (size_t)(a.numel ? a.numel : 1));
    GT_FUZZ_CHECK(f, "malloc");
    gt_npy_to_f64(&a, f);
    free(f);
    GT_FUZZ_CHECK(gt_npy_save(gt_fz_path, a.dtype, a.ndim, a.shape, a.data) == GT_OK, "save: %s", gt_last_error());
    GT_FUZZ_CHECK(gt_npy_load(&b, gt_fz_path) == GT_OK, "load again: %s", gt_last_error());
    GT_FUZZ_CHECK(b.dtype == a.dtype && b.ndim == a.ndim && b.numel == a.numel, "changed by save + load");
    for (int k = 0; k < a.ndim; k++) GT_FUZZ_CHECK(a.shape[k] == b.shape[k], "shape[%d]", k);
    GT_FUZZ_CHECK(!a.numel || memcmp(a.data, b.data, (size_t)a.numel * es) == 0, "bytes changed");
    gt_npy_array_free(&a);
    gt_npy_array_free(&b);
    return 0;
}
