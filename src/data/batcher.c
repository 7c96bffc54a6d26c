/* The batcher: shuffled epochs whose order depends only on (seed, epoch), float
 * batches in [-1, 1], and a (seed, epoch, position) state for exact resume. */
#include "data_internal.h"

struct gt_batcher {
    const gt_dataset *ds;
    int64_t batch;
    gt_batcher_opts opts;
    uint64_t seed;
    int64_t epoch, position;
    int64_t *perm;       /* (n) order of perm_epoch */
    int64_t perm_epoch;  /* -1: none computed */
    int64_t shard_start, shard_count; /* this process's part of every batch (count 0: all of it) */
    float lut[256];      /* byte -> float in [-1, 1] */
};

void gt_data_permutation(uint64_t seed, int64_t epoch, int64_t n, int64_t *perm) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    /* Fisher-Yates, one Philox block per swap: key = seed, counter = (epoch + 1, i). */
    for (int64_t i = n - 1; i > 0; i--) {
        uint32_t v[4];
        gt_philox4x32(seed, (uint64_t)epoch + 1, (uint64_t)i, v);
        uint64_t r = (uint64_t)v[0] << 32 | v[1];
        int64_t j = (int64_t)(r % (uint64_t)(i + 1));
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static int64_t gt__epoch_len(const gt_batcher *b) {
    return b->opts.keep_last ? b->ds->n : (b->ds->n / b->batch) * b->batch;
}

gt_batcher *gt_batcher_new(const gt_dataset *ds, int64_t batch, uint64_t seed, const gt_batcher_opts *opts) {
    if (!ds || ds->n < 1 || !ds->pixels) {
        gt_set_error(GT_ERR_ARG, "gt_batcher_new: no dataset (or an empty one)");
        return NULL;
    }
    bool keep_last = opts && opts->keep_last;
    if (batch < 1 || (!keep_last && batch > ds->n)) {
        gt_set_error(GT_ERR_ARG, "batcher for %s: batch size %lld must be 1..%lld (the number of images)", ds->source,
                     (long long)batch, (long long)ds->n);
        return NULL;
    }
    gt_batcher *b = calloc(1, sizeof *b);
    if (!b || !(b->perm = malloc(sizeof(int64_t) * (size_t)ds->n))) {
        free(b);
        gt_set_error(GT_ERR_OOM, "batcher for %s: out of memory", ds->source);
        return NULL;
    }
    b->ds = ds;
    b->batch = batch;
    if (opts) b->opts = *opts;
    b->seed = seed;
    b->perm_epoch = -1;
    for (int v = 0; v < 256; v++) b->lut[v] = (float)v / 127.5f - 1.0f;
    return b;
}

void gt_batcher_free(gt_batcher *b) {
    if (!b) return;
    free(b->perm);
    free(b);
}

/* Moves to the next epoch when this one is used up; returns the next batch's size. */
static int64_t gt__prepare(gt_batcher *b) {
    int64_t len = gt__epoch_len(b);
    if (b->position >= len) {
        b->epoch++;
        b->position = 0;
    }
    if (b->perm_epoch != b->epoch) {
        if (b->opts.no_shuffle)
            for (int64_t i = 0; i < b->ds->n; i++) b->perm[i] = i;
        else gt_data_permutation(b->seed, b->epoch, b->ds->n, b->perm);
        b->perm_epoch = b->epoch;
    }
    return GT_MIN(b->batch, len - b->position);
}

static void gt__fill(gt_batcher *b, int64_t count, float *images, int32_t *labels, float *a) {
    const gt_dataset *ds = b->ds;
    int64_t per = (int64_t)ds->c * ds->h * ds->w;
    const int64_t whole = count;
    if (b->shard_count > 0) count = b->shard_count; /* a shard: only its images are decoded */
    const int64_t *idx = b->perm + b->position + (b->shard_count > 0 ? b->shard_start : 0);
    const float *lut = b->lut;
#pragma omp parallel for schedule(static) if (count * per > GT_DATA_PAR_COPY)
    for (int64_t k = 0; k < count; k++) {
        const uint8_t *src = ds->pixels + idx[k] * per;
        float *dst = images + k * per;
        for (int64_t i = 0; i < per; i++) dst[i] = lut[src[i]];
        if (a) { /* paired data: the inputs A of the same images */
            const uint8_t *sa = ds->pixels_a + idx[k] * per;
            float *da = a + k * per;
            for (int64_t i = 0; i < per; i++) da[i] = lut[sa[i]];
        }
    }
    if (labels && ds->labels)
        for (int64_t k = 0; k < count; k++) labels[k] = ds->labels[idx[k]];
    b->position += whole;
}

gt_status gt_batcher_next_into(gt_batcher *b, float *images, int32_t *labels, int64_t *count) {
    if (!b || !images) return gt_set_error(GT_ERR_ARG, "gt_batcher_next_into: NULL batcher or image buffer");
    int64_t m = gt__prepare(b);
    if (b->shard_count > 0 && m != b->batch)
        return gt_set_error(GT_ERR_STATE, "batcher for %s: a sharded batcher yields full batches only", b->ds->source);
    gt__fill(b, m, images, labels, NULL);
    if (count) *count = b->shard_count > 0 ? b->shard_count : m;
    return GT_OK;
}

gt_status gt_batcher_next(gt_batcher *b, gt_tensor **images, gt_tensor **labels) {
    return gt_batcher_next_pair(b, images, labels, NULL);
}

gt_status gt_batcher_next_pair(gt_batcher *b, gt_tensor **images, gt_tensor **labels, gt_tensor **a) {
    if (!b || !images) return gt_set_error(GT_ERR_ARG, "gt_batcher_next: NULL batcher or output");
    *images = NULL;
    if (labels) *labels = NULL;
    if (a) *a = NULL;
    const gt_dataset *ds = b->ds;
    int64_t whole = gt__prepare(b), m = b->shard_count > 0 ? b->shard_count : whole;
    if (b->shard_count > 0 && whole != b->batch)
        return gt_set_error(GT_ERR_STATE, "batcher for %s: a sharded batcher yields full batches only", ds->source);
    gt_tensor *x = gt__new(GT_F32, 4, (const int64_t[]){m, ds->c, ds->h, ds->w});
    if (!x) return gt_last_status();
    gt_tensor *y = NULL;
    if (labels && ds->labels && !(y = gt__new(GT_I32, 1, (const int64_t[]){m}))) {
        if (gt_scope_depth() == 0) gt_release(x);
        return gt_last_status();
    }
    gt_tensor *xa = NULL;
    if (a && ds->pixels_a && !(xa = gt__new(GT_F32, 4, (const int64_t[]){m, ds->c, ds->h, ds->w}))) {
        if (gt_scope_depth() == 0) gt_release(x), gt_release(y);
        return gt_last_status();
    }
    gt__fill(b, whole, gt_data(x), y ? gt_data_i32(y) : NULL, xa ? gt_data(xa) : NULL);
    *images = x;
    if (labels) *labels = y;
    if (a) *a = xa;
    return GT_OK;
}

gt_status gt_batcher_set_shard(gt_batcher *b, int64_t start, int64_t count) {
    if (!b) return gt_set_error(GT_ERR_ARG, "gt_batcher_set_shard: NULL batcher");
    if (count < 0 || start < 0 || (count > 0 && start + count > b->batch) || (count > 0 && b->opts.keep_last))
        return gt_set_error(GT_ERR_ARG, "batcher for %s: shard [%lld, %lld) does not fit batches of %lld%s",
                            b->ds->source, (long long)start, (long long)(start + count), (long long)b->batch,
                            b->opts.keep_last ? " (or the batcher keeps short last batches)" : "");
    b->shard_start = count > 0 ? start : 0;
    b->shard_count = count;
    return GT_OK;
}

gt_batcher_state gt_batcher_get_state(const gt_batcher *b) {
    gt_batcher_state s = {0, 0, 0};
    if (b) s = (gt_batcher_state){b->seed, b->epoch, b->position};
    return s;
}

gt_status gt_batcher_set_state(gt_batcher *b, gt_batcher_state st) {
    if (!b) return gt_set_error(GT_ERR_ARG, "gt_batcher_set_state: NULL batcher");
    if (st.epoch < 0 || st.position < 0 || st.position > b->ds->n)
        return gt_set_error(GT_ERR_ARG, "batcher for %s: saved state (epoch %lld, position %lld) does not fit %lld images",
                            b->ds->source, (long long)st.epoch, (long long)st.position, (long long)b->ds->n);
    b->seed = st.seed;
    b->epoch = st.epoch;
    b->position = st.position;
    b->perm_epoch = -1;
    return GT_OK;
}

int64_t gt_batcher_batches_per_epoch(const gt_batcher *b) {
    if (!b) return 0;
    return (gt__epoch_len(b) + b->batch - 1) / b->batch;
}
