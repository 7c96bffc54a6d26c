/* The single-process parts of data-parallel training (no MPI needed): the batcher's shards, the
 * autograd engine's gradient hook, and the synchronized batch norm's formulas (with an identity
 * "allreduce" it is one process on the whole batch, so it must give gt_batch_norm's own forward,
 * backward and running statistics; and a reduction that doubles every sum is two ranks with the same
 * data, which must give the same normalized output). */
#include "../common/harness.h"
#include "../train/train_util.h"

/* The shards [0, 8) and [8, 16) of each batch of 16 are the whole batcher's batches, and the state
 * advances by the whole batch. */
static void test_batcher_shards(void) {
    const char *p = gt_test_path("shards-images-idx3-ubyte");
    CHECK(gt_test_write_idx(p, 40));
    gt_dataset *ds = gt_dataset_open(p, 28, 1, NULL);
    CHECK(ds != NULL);
    if (!ds) return;
    gt_batcher *whole = gt_batcher_new(ds, 16, 7, NULL), *a = gt_batcher_new(ds, 16, 7, NULL),
               *b = gt_batcher_new(ds, 16, 7, NULL);
    CHECK(gt_batcher_set_shard(a, 0, 8) == GT_OK && gt_batcher_set_shard(b, 8, 8) == GT_OK);
    CHECK(gt_batcher_set_shard(b, 10, 8) != GT_OK); /* past the batch */
    const int64_t per = 28 * 28;
    for (int step = 0; step < 5; step++) { /* 2 batches per epoch of 40: crosses epochs */
        gt_tensor *x, *xa, *xb;
        CHECK(gt_batcher_next(whole, &x, NULL) == GT_OK && gt_batcher_next(a, &xa, NULL) == GT_OK &&
              gt_batcher_next(b, &xb, NULL) == GT_OK);
        CHECK(xa->shape[0] == 8 && xb->shape[0] == 8);
        CHECK(memcmp(gt_data(x), gt_data(xa), 8 * per * sizeof(float)) == 0);
        CHECK(memcmp((float *)gt_data(x) + 8 * per, gt_data(xb), 8 * per * sizeof(float)) == 0);
        gt_batcher_state s = gt_batcher_get_state(whole), sa = gt_batcher_get_state(a);
        CHECK(s.epoch == sa.epoch && s.position == sa.position);
    }
    gt_batcher_free(whole), gt_batcher_free(a), gt_batcher_free(b);
    gt_dataset_free(ds);
}

typedef struct {
    gt_tensor *leaf[4];
    float seen[4]; /* the leaf's grad[0] when the hook saw it */
    int calls[4], progress;
} gt__hook_log;

static void gt__hook(gt_tensor *leaf, void *user) {
    gt__hook_log *h = user;
    if (!leaf) {
        h->progress++;
        return;
    }
    for (int i = 0; i < 4; i++)
        if (h->leaf[i] == leaf) h->calls[i]++, h->seen[i] = ((float *)gt_data(leaf->grad))[0];
}

/* Each leaf once per backward, when its gradient is complete (its value then is the final one, also
 * for a leaf used by several ops), and progress calls in between; the gradients equal those of a
 * backward without the hook. */
static void test_grad_hook(void) {
    gt__hook_log h = {0};
    gt_tensor *w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = gt_test_randn(10 + (uint64_t)i, 2, (int64_t[]){3, 3}, 1.0f);
        gt_set_requires_grad(w[i], true);
        h.leaf[i] = w[i];
    }
    /* w0 is used at the start and the end of the chain */
    gt_tensor *y = gt_matmul(gt_tanh(gt_matmul(w[0], w[1])), gt_add(w[2], w[0]));
    gt_tensor *loss = gt_sum_all(gt_mul(gt_matmul(y, w[3]), gt_sigmoid(w[0])));
    gt_autograd_set_grad_hook(gt__hook, &h);
    CHECK(gt_backward_ex(loss, NULL, true, false) == GT_OK);
    gt_autograd_set_grad_hook(NULL, NULL);
    float with[4];
    for (int i = 0; i < 4; i++) {
        CHECK_MSG(h.calls[i] == 1, "leaf %d: %d calls", i, h.calls[i]);
        with[i] = ((float *)gt_data(w[i]->grad))[0];
        CHECK_MSG(h.seen[i] == with[i], "leaf %d: %g at the hook, %g after", i, h.seen[i], with[i]);
        gt_zero_grad(w[i]);
    }
    CHECK(h.progress > 5);
    CHECK(gt_backward(loss) == GT_OK); /* again without the hook: the same gradients */
    for (int i = 0; i < 4; i++) CHECK(((float *)gt_data(w[i]->grad))[0] == with[i]);
}

static gt_status gt__identity(double *buf, int64_t n, void *user) {
    (void)buf, (void)n;
    ++*(int *)user;
    return GT_OK;
}
static gt_status gt__twice(double *buf, int64_t n, void *user) {
    for (int64_t i = 0; i < n; i++) buf[i] *= 2; /* two ranks holding the same data */
    ++*(int *)user;
    return GT_OK;
}

static void test_sync_bn_formulas(void) {
    const int64_t shape[4] = {6, 5, 4, 3};
    int calls = 0;
    gt_tensor *out[2], *gx[2], *gw[2], *gb[2], *rm[2], *rv[2];
    for (int k = 0; k < 2; k++) {
        gt_tensor *x = gt_test_randn(1, 4, shape, 1.5f), *w = gt_test_randn(2, 1, (int64_t[]){5}, 0.5f);
        gt_tensor *b = gt_test_randn(3, 1, (int64_t[]){5}, 0.5f), *g = gt_test_randn(4, 4, shape, 1.0f);
        rm[k] = gt_test_randn(5, 1, (int64_t[]){5}, 0.3f), rv[k] = gt_add_scalar(gt_zeros(1, (int64_t[]){5}), 1.5f);
        gt_set_requires_grad(x, true), gt_set_requires_grad(w, true), gt_set_requires_grad(b, true);
        if (k == 1) gt_batch_norm_set_sync(gt__identity, &calls);
        out[k] = gt_batch_norm(x, w, b, rm[k], rv[k], true, 0.1f, 1e-5f);
        CHECK(gt_backward(gt_sum_all(gt_mul(out[k], g))) == GT_OK);
        gt_batch_norm_set_sync(NULL, NULL);
        gx[k] = x->grad, gw[k] = w->grad, gb[k] = b->grad;
    }
    CHECK_MSG(calls == 2, "%d reductions (one forward, one backward)", calls);
    CHECK(gt_test_close("sync-bn out", out[1], out[0], 1e-5f, 1e-6f));
    CHECK(gt_test_close("sync-bn dx", gx[1], gx[0], 1e-4f, 1e-5f));
    CHECK(gt_test_close("sync-bn dw", gw[1], gw[0], 1e-4f, 1e-5f));
    CHECK(gt_test_close("sync-bn db", gb[1], gb[0], 1e-4f, 1e-5f));
    CHECK(gt_test_close("sync-bn running mean", rm[1], rm[0], 1e-6f, 1e-7f));
    CHECK(gt_test_close("sync-bn running var", rv[1], rv[0], 1e-5f, 1e-6f));
    /* "two ranks with the same data": the statistics are the same, so is the output (the unbiased
       running variance uses the doubled count) */
    gt_tensor *x = gt_test_randn(1, 4, shape, 1.5f);
    gt_batch_norm_set_sync(gt__twice, &calls);
    gt_tensor *o2 = gt_batch_norm(x, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f);
    gt_batch_norm_set_sync(NULL, NULL);
    CHECK(gt_test_close("sync-bn of a doubled batch", o2, gt_batch_norm(x, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f),
                        1e-5f, 1e-6f));
    /* the double backward through it is refused with a message */
    gt_tensor *xr = gt_test_randn(1, 4, shape, 1.5f), *gr = NULL;
    gt_set_requires_grad(xr, true);
    gt_batch_norm_set_sync(gt__identity, &calls);
    gt_status st = gt_grad(gt_sum_all(gt_pow_scalar(gt_batch_norm(xr, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f), 3.0f)),
                           NULL, 1, &xr, &gr, true);
    gt_batch_norm_set_sync(NULL, NULL);
    CHECK_MSG(st != GT_OK && strstr(gt_last_error(), "double backward"), "%s", gt_last_error());
}

/* gt_rng_uniform_part: any slice of a whole draw, at any alignment, and the generator's state after it */
static void test_rng_parts(void) {
    for (int64_t total = 1; total <= 27; total += 13) {
        float whole[32], part[32];
        gt_rng a, b;
        gt_rng_init(&a, 99), gt_rng_init(&b, 99);
        gt_rng_uniform(&a, whole, total, -1.0f, 2.0f);
        for (int64_t start = 0; start < total; start++)
            for (int64_t count = 0; start + count <= total; count += 3) {
                gt_rng c = b;
                gt_rng_uniform_part(&c, part, total, start, count, -1.0f, 2.0f);
                CHECK(c.offset == a.offset && memcmp(part, whole + start, (size_t)count * sizeof(float)) == 0);
            }
    }
}

int main(void) {
    RUN(test_rng_parts);
    RUN(test_batcher_shards);
    RUN(test_grad_hook);
    RUN(test_sync_bn_formulas);
    return gt_test_finish();
}
