/* The batcher: permutations, determinism for a seed, different seeds, exact
 * resume from a saved (seed, epoch, position), drop / keep last, values in
 * [-1, 1] and labels matching their images, and errors. */
#include "data_util.h"

/* A dataset of n images (1, 2, 3): image i is filled with i % 256, label i % 7. */
static gt_dataset *fake(int64_t n) {
    gt_dataset *ds = calloc(1, sizeof *ds);
    ds->source = strdup("fake");
    ds->n = n, ds->c = 1, ds->h = 2, ds->w = 3;
    ds->pixels = malloc((size_t)n * 6);
    ds->labels = malloc(sizeof(int32_t) * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        memset(ds->pixels + i * 6, (int)(i % 256), 6);
        ds->pixels[i * 6 + 5] = (uint8_t)(i / 256); /* makes images of n > 256 distinct */
        ds->labels[i] = (int32_t)(i % 7);
    }
    ds->num_classes = 7;
    return ds;
}

/* Which image a batch row is (from its pixels). */
static int64_t which(const float *row) {
    int64_t lo = lrintf((row[0] + 1.0f) * 127.5f), hi = lrintf((row[5] + 1.0f) * 127.5f);
    return lo + 256 * hi;
}

static void test_permutation(void) {
    int64_t n = 1000, perm[1000], perm2[1000];
    char seen[1000];
    gt_data_permutation(42, 0, n, perm);
    memset(seen, 0, sizeof seen);
    bool ok = true;
    for (int64_t i = 0; i < n; i++) {
        ok &= perm[i] >= 0 && perm[i] < n && !seen[perm[i]];
        if (perm[i] >= 0 && perm[i] < n) seen[perm[i]] = 1;
    }
    CHECK_MSG(ok, "not a permutation");
    int64_t fixed = 0;
    for (int64_t i = 0; i < n; i++) fixed += perm[i] == i;
    CHECK_MSG(fixed < 10, "%lld fixed points: not shuffled", (long long)fixed);
    gt_data_permutation(42, 0, n, perm2);
    CHECK(memcmp(perm, perm2, sizeof perm) == 0);
    gt_data_permutation(42, 1, n, perm2);
    CHECK(memcmp(perm, perm2, sizeof perm) != 0);
    gt_data_permutation(43, 0, n, perm2);
    CHECK(memcmp(perm, perm2, sizeof perm) != 0);
    /* position of image 0 over many epochs is spread over the whole range */
    int64_t buckets[4] = {0};
    for (int e = 0; e < 400; e++) {
        gt_data_permutation(7, e, 100, perm);
        for (int i = 0; i < 100; i++)
            if (perm[i] == 0) buckets[i / 25]++;
    }
    for (int b = 0; b < 4; b++) CHECK_MSG(buckets[b] > 60 && buckets[b] < 140, "bucket %d: %lld", b, (long long)buckets[b]);
}

static void test_epochs_and_values(void) {
    gt_dataset *ds = fake(10);
    gt_batcher *b = gt_batcher_new(ds, 3, 5, NULL);
    CHECK(b && gt_batcher_batches_per_epoch(b) == 3);
    float x[3 * 6];
    int32_t y[3];
    int64_t m;
    for (int e = 0; e < 4; e++) {
        char seen[10] = {0};
        for (int k = 0; k < 3; k++) {
            CHECK(gt_batcher_next_into(b, x, y, &m) == GT_OK && m == 3);
            for (int r = 0; r < 3; r++) {
                int64_t i = which(x + r * 6);
                CHECK(i >= 0 && i < 10 && !seen[i]);
                if (i >= 0 && i < 10) seen[i] = 1;
                CHECK(y[r] == i % 7);
                CHECK(x[r * 6] == (float)i / 127.5f - 1.0f);
            }
        }
        gt_batcher_state st = gt_batcher_get_state(b);
        CHECK(st.epoch == e && st.position == 9 && st.seed == 5);
    }
    gt_batcher_free(b);
    /* keep_last: 3 + 3 + 3 + 1 */
    b = gt_batcher_new(ds, 3, 5, &(gt_batcher_opts){.keep_last = true});
    CHECK(gt_batcher_batches_per_epoch(b) == 4);
    int64_t sizes[5];
    for (int k = 0; k < 5; k++) gt_batcher_next_into(b, x, y, &sizes[k]);
    CHECK(sizes[0] == 3 && sizes[3] == 1 && sizes[4] == 3);
    gt_batcher_free(b);
    /* no_shuffle: identity order */
    float x4[4 * 6];
    b = gt_batcher_new(ds, 4, 5, &(gt_batcher_opts){.no_shuffle = true});
    gt_batcher_next_into(b, x4, NULL, &m);
    CHECK(which(x4) == 0 && which(x4 + 6) == 1 && which(x4 + 18) == 3);
    gt_batcher_next_into(b, x4, NULL, &m);
    CHECK(which(x4) == 4);
    gt_batcher_next_into(b, x4, NULL, &m); /* 8 + 4 > 10: a new epoch starts at 0 */
    CHECK(which(x4) == 0 && gt_batcher_get_state(b).epoch == 1);
    gt_batcher_free(b);
    gt_dataset_free(ds);
}

/* Reads `count` batches' image ids. */
static void run(gt_batcher *b, int count, int64_t *ids, int64_t batch) {
    float *x = malloc(sizeof(float) * 6 * (size_t)batch);
    for (int k = 0; k < count; k++) {
        int64_t m;
        gt_batcher_next_into(b, x, NULL, &m);
        for (int64_t r = 0; r < batch; r++) ids[k * batch + r] = r < m ? which(x + r * 6) : -1;
    }
    free(x);
}

static void test_determinism_and_resume(void) {
    gt_dataset *ds = fake(1000);
    enum { B = 64, K = 40 }; /* 15 batches per epoch: crosses two epoch ends */
    int64_t a[K * B], b2[K * B], c[K * B];
    gt_batcher *p = gt_batcher_new(ds, B, 1234, NULL), *q = gt_batcher_new(ds, B, 1234, NULL),
               *r = gt_batcher_new(ds, B, 999, NULL);
    run(p, K, a, B);
    run(q, K, b2, B);
    run(r, K, c, B);
    CHECK_MSG(memcmp(a, b2, sizeof a) == 0, "same seed gave different batches");
    CHECK_MSG(memcmp(a, c, sizeof a) != 0, "different seeds gave the same batches");
    gt_batcher_free(p), gt_batcher_free(q), gt_batcher_free(r);
    /* resume at every cut point: k batches, save, a fresh batcher (other seed) restores, continues */
    for (int cut = 0; cut <= K; cut += 7) {
        int64_t first[K * B], rest[K * B];
        p = gt_batcher_new(ds, B, 1234, NULL);
        run(p, cut, first, B);
        gt_batcher_state st = gt_batcher_get_state(p);
        gt_batcher_free(p);
        q = gt_batcher_new(ds, B, 77, NULL);
        CHECK(gt_batcher_set_state(q, st) == GT_OK);
        run(q, K - cut, rest, B);
        gt_batcher_free(q);
        CHECK_MSG(memcmp(first, a, sizeof(int64_t) * cut * B) == 0 && memcmp(rest, a + cut * B, sizeof(int64_t) * (K - cut) * B) == 0,
                  "resume after %d batches diverged", cut);
    }
    gt_dataset_free(ds);
}

static void test_tensors(void) {
    gt_dataset *ds = fake(50);
    gt_batcher *b = gt_batcher_new(ds, 8, 3, NULL);
    int64_t live = gt_live_tensors();
    int m = gt_scope_begin();
    gt_tensor *x, *y;
    CHECK(gt_batcher_next(b, &x, &y) == GT_OK);
    CHECK(x->ndim == 4 && x->shape[0] == 8 && x->shape[1] == 1 && x->shape[2] == 2 && x->shape[3] == 3);
    CHECK(y && y->dtype == GT_I32 && y->shape[0] == 8);
    for (int r = 0; r < 8; r++) CHECK(gt_data_i32(y)[r] == which(gt_data(x) + r * 6) % 7);
    gt_tensor *x2;
    CHECK(gt_batcher_next(b, &x2, NULL) == GT_OK && x2->shape[0] == 8);
    gt_scope_end(m);
    CHECK(gt_live_tensors() == live);
    /* no labels in the dataset: *labels is NULL */
    free(ds->labels);
    ds->labels = NULL;
    m = gt_scope_begin();
    CHECK(gt_batcher_next(b, &x, &y) == GT_OK && y == NULL);
    gt_scope_end(m);
    /* the slice accessor */
    m = gt_scope_begin();
    gt_tensor *s = gt_dataset_slice(ds, 10, 4);
    CHECK(s && s->shape[0] == 4 && which(gt_data(s)) == 10 && which(gt_data(s) + 18) == 13);
    CHECK(gt_dataset_slice(ds, 48, 4) == NULL);
    CHECK_ERR_NAMES("gt_dataset_slice", "outside");
    gt_scope_end(m);
    gt_batcher_free(b);
    gt_dataset_free(ds);
}

static void test_errors(void) {
    gt_dataset *ds = fake(10);
    CHECK(gt_batcher_new(ds, 0, 1, NULL) == NULL);
    CHECK_ERR_NAMES("batch size 0", NULL);
    CHECK(gt_batcher_new(ds, 11, 1, NULL) == NULL);
    CHECK_ERR_NAMES("fake", "11");
    gt_batcher *b = gt_batcher_new(ds, 11, 1, &(gt_batcher_opts){.keep_last = true});
    CHECK(b != NULL);
    CHECK(gt_batcher_set_state(b, (gt_batcher_state){1, -1, 0}) == GT_ERR_ARG);
    CHECK(gt_batcher_set_state(b, (gt_batcher_state){1, 0, 11}) == GT_ERR_ARG);
    CHECK_ERR_NAMES("position 11", NULL);
    CHECK(gt_batcher_set_state(b, (gt_batcher_state){1, 3, 10}) == GT_OK);
    float x[11 * 6];
    int64_t m;
    CHECK(gt_batcher_next_into(b, x, NULL, &m) == GT_OK && m == 10 && gt_batcher_get_state(b).epoch == 4);
    CHECK(gt_batcher_next_into(NULL, x, NULL, &m) == GT_ERR_ARG);
    gt_batcher_free(b);
    gt_batcher_free(NULL);
    CHECK(gt_batcher_new(NULL, 4, 1, NULL) == NULL);
    gt_dataset_free(ds);
}

int main(void) {
    RUN(test_permutation);
    RUN(test_epochs_and_values);
    RUN(test_determinism_and_resume);
    RUN(test_tensors);
    RUN(test_errors);
    return gt_test_finish();
}
