/* libFuzzer harness: .npz (src/io/npz.c: ZIP, ZIP64, stored and deflated members, CRC-32), in
 * memory (gt_npz_parse). Every member of an accepted file is read as doubles (gt_npz_get_f64);
 * the set is saved (deflated or stored, from the input's length) and loaded again: the same
 * members, dtypes, shapes and bytes. */
#include "fuzz_util.h"
#include "gantry/io.h"

static char gt_fz_path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    gt_fuzz_path(gt_fz_path, sizeof gt_fz_path, "a.npz");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    gt_npz z, z2;
    gt_npz_init(&z);
    gt_npz_init(&z2);
    if (gt_npz_parse(&z, d, n, "fuzz") != GT_OK) {
        GT_FUZZ_CHECK(gt_last_error()[0], "a refused file without a message");
        gt_npz_free(&z);
        return 0;
    }
    for (int i = 0; i < z.n; i++) {
        const gt_npy_array *a = &z.a[i];
        GT_FUZZ_CHECK(gt_npz_find(&z, a->name), "gt_npz_find('%s')", a->name);
        double *f = NULL;
        int nd = -1;
        int64_t shape[GT_NPY_MAX_DIMS];
        gt_status st = gt_npz_get_f64(&z, a->name, -1, NULL, &f, &nd, shape);
        /* a member of the same name earlier in the file is what find returns */
        if (gt_npz_find(&z, a->name) == a)
            GT_FUZZ_CHECK(st == GT_OK && nd == a->ndim, "get_f64('%s'): %s", a->name, gt_last_error());
        free(f);
    }
    bool compress = n & 1;
    gt_status st = gt_npz_save(&z, gt_fz_path, compress);
    if (st == GT_OK) {
        GT_FUZZ_CHECK(gt_npz_load(&z2, gt_fz_path) == GT_OK, "load again: %s", gt_last_error());
        GT_FUZZ_CHECK(z2.n == z.n, "%d members, %d before", z2.n, z.n);
        for (int i = 0; i < z.n; i++) {
            const gt_npy_array *a = &z.a[i], *b = &z2.a[i];
            GT_FUZZ_CHECK(!strcmp(a->name, b->name) && a->dtype == b->dtype && a->ndim == b->ndim &&
                              a->numel == b->numel,
                          "member %d ('%s') changed", i, a->name);
            for (int k = 0; k < a->ndim; k++) GT_FUZZ_CHECK(a->shape[k] == b->shape[k], "shape of '%s'", a->name);
            GT_FUZZ_CHECK(!a->numel || !memcmp(a->data, b->data, (size_t)a->numel * gt_npy_dtype_size(a->dtype)),
                          "bytes of '%s'", a->name);
        }
    } else {
        GT_FUZZ_CHECK(gt_last_error()[0], "a refused save without a message");
    }
    gt_npz_free(&z2);
    gt_npz_free(&z);
    return 0;
}
