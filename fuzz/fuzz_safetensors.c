/* libFuzzer harness: safetensors (src/io/safetensors.c). Parse the input; when it is accepted,
 * read every tensor (gt_st_read in its own dtype, gt_st_get_tensor for F32), serialize the set
 * again, parse that, and compare: the same tensors (name, dtype, shape, bytes) and metadata. */
#include "fuzz_util.h"
#include "gantry/io.h"
#include "gantry/tensor.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    gt_fuzz_scratch();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    gt_safetensors s, s2;
    gt_st_init(&s);
    gt_st_init(&s2);
    if (gt_st_parse(&s, d, n, "fuzz") != GT_OK) {
        GT_FUZZ_CHECK(gt_last_error()[0], "a refused file without a message");
        gt_st_free(&s);
        return 0;
    }
    int m = gt_scope_begin();
    for (int i = 0; i < s.n; i++) {
        const gt_st_tensor *t = &s.t[i];
        GT_FUZZ_CHECK(gt_st_find(&s, t->name) == t, "gt_st_find('%s')", t->name);
        GT_FUZZ_CHECK(t->nbytes == (size_t)t->numel * gt_st_dtype_size(t->dtype), "nbytes of '%s'", t->name);
        void *buf = malloc(t->nbytes ? t->nbytes : 1);
        GT_FUZZ_CHECK(buf, "malloc");
        GT_FUZZ_CHECK(gt_st_read(&s, t->name, t->dtype, buf, t->numel) == GT_OK, "gt_st_read('%s'): %s", t->name,
                      gt_last_error());
        GT_FUZZ_CHECK(memcmp(buf, t->data, t->nbytes) == 0, "gt_st_read('%s') bytes", t->name);
        free(buf);
        if (t->dtype == GT_ST_F32) {
            gt_tensor *x = gt_st_get_tensor(&s, t->name);
            GT_FUZZ_CHECK(x, "gt_st_get_tensor('%s'): %s", t->name, gt_last_error());
            GT_FUZZ_CHECK(gt_numel(x) == t->numel, "numel of '%s'", t->name);
        }
    }
    gt_scope_end(m);
    void *buf = NULL;
    size_t len = 0;
    GT_FUZZ_CHECK(gt_st_serialize(&s, &buf, &len) == GT_OK, "re-serialize: %s", gt_last_error());
    GT_FUZZ_CHECK(gt_st_parse(&s2, buf, len, "fuzz-again") == GT_OK, "parse again: %s", gt_last_error());
    GT_FUZZ_CHECK(s2.n == s.n && s2.n_meta == s.n_meta, "%d/%d tensors, %d/%d metadata", s2.n, s.n, s2.n_meta,
                  s.n_meta);
    for (int i = 0; i < s.n; i++) {
        const gt_st_tensor *a = &s.t[i], *b = gt_st_find(&s2, a->name);
        GT_FUZZ_CHECK(b, "'%s' lost", a->name);
        GT_FUZZ_CHECK(a->dtype == b->dtype && a->ndim == b->ndim && a->numel == b->numel, "'%s' changed", a->name);
        for (int k = 0; k < a->ndim; k++) GT_FUZZ_CHECK(a->shape[k] == b->shape[k], "shape of '%s'", a->name);
        GT_FUZZ_CHECK(memcmp(a->data, b->data, a->nbytes) == 0, "bytes of '%s'", a->name);
    }
    for (int i = 0; i < s.n_meta; i++) {
        const char *v = gt_st_get_meta(&s2, s.meta_key[i]);
        GT_FUZZ_CHECK(v && !strcmp(v, s.meta_val[i]), "metadata '%s'", s.meta_key[i]);
    }
    free(buf);
    gt_st_free(&s2);
    gt_st_free(&s);
    return 0;
}
