/* Data-parallel training (gantry/ddp.h): sharded batches, gradient averaging in buckets that
 * overlap the backward pass, synchronized batch norm, start-up checks and the per-step agreement
 * of the ranks. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gantry/ddp.h"
#include "gantry/dist.h"

/* A bucket: a contiguous range [lo, hi) of a net's gradient slab, the gradients of params
 * first..last (registration order), reduced in one allreduce. */
typedef struct {
    int64_t lo, hi;
    int nparams, pending;
    bool started, dirty, done;
    gt_dist_req *req;
} gt__bucket;

typedef struct {
    gt_params *P;
    int n;                 /* trainable params */
    const gt_tensor **ptr; /* their tensors, sorted by address */
    int *idx;              /* ptr[i]'s bucket */
    bool *seen;            /* (n, in ptr order) gradient complete in the armed backward */
    gt__bucket *b;
    int nb;
} gt__net;

typedef struct {
    gt__net g, d;
    gt__net *armed;
    int rank, size;
    int64_t die_at, fail_at; /* test hooks: during step S (1-based) on rank GANTRY_TEST_RANK (1), SIGKILL
                                (GANTRY_TEST_DIE_AT_STEP) or an error (GANTRY_TEST_FAIL_AT_STEP); -1: none */
    gt_status err;           /* the first error in the hook */
    char errmsg[512];
    gt_ddp_stats st;
} gt__ddp;

static double gt__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t gt__fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}
#define GT__FNV0 0xcbf29ce484222325ull

static int gt__cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (const gt_tensor *const *)a, y = (uintptr_t) * (const gt_tensor *const *)b;
    return x < y ? -1 : x > y;
}

/* Buckets of about cap elements over P's trainable params, from the last param back (the reverse of
 * registration order, roughly the order backward completes them); cap 0: one bucket. */
static gt_status gt__net_init(gt__net *n, gt_params *P, int64_t cap) {
    memset(n, 0, sizeof *n);
    n->P = P;
    int np = gt_params_count_trainable(P);
    n->ptr = calloc((size_t)(np ? np : 1), sizeof *n->ptr);
    n->idx = calloc((size_t)(np ? np : 1), sizeof *n->idx);
    n->seen = calloc((size_t)(np ? np : 1), sizeof *n->seen);
    n->b = calloc((size_t)(np ? np : 1), sizeof *n->b);
    if (!n->ptr || !n->idx || !n->seen || !n->b) return gt_set_error(GT_ERR_OOM, "ddp: out of memory");
    struct {
        const gt_tensor *t;
        int b;
    } *tmp = calloc((size_t)(np ? np : 1), sizeof *tmp);
    if (!tmp) return gt_set_error(GT_ERR_OOM, "ddp: out of memory");
    int k = 0;
    gt__bucket *cur = NULL;
    for (int i = P->n - 1; i >= 0; i--) {
        const gt_param *p = &P->v[i];
        if (p->is_buffer) continue;
        int64_t len = gt_numel(p->t);
        if (!cur || (cap > 0 && cur->hi - cur->lo + len > cap && cur->nparams > 0)) {
            cur = &n->b[n->nb++];
            cur->lo = cur->hi = p->offset + len;
        }
        /* params are packed in order: walking back, each one ends where the bucket begins */
        if (p->offset + len != cur->lo) {
            free(tmp);
            return gt_set_error(GT_ERR_STATE, "ddp: the gradient slab of %s is not packed in order", p->name);
        }
        cur->lo = p->offset;
        cur->nparams++;
        tmp[k].t = p->t, tmp[k].b = (int)(cur - n->b), k++;
    }
    n->n = k;
    /* sort (tensor, bucket) by tensor address for the hook's lookup */
    for (int i = 0; i < k; i++) n->ptr[i] = tmp[i].t;
    qsort(n->ptr, (size_t)k, sizeof *n->ptr, gt__cmp_ptr);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            if (tmp[j].t == n->ptr[i]) n->idx[i] = tmp[j].b;
    free(tmp);
    return GT_OK;
}

static void gt__net_free(gt__net *n) {
    free(n->ptr), free(n->idx), free(n->seen), free(n->b);
    memset(n, 0, sizeof *n);
}

static gt__ddp *gt__of(const gt_trainer *t) { return t ? (gt__ddp *)t->ddp : NULL; }

static gt_status gt__start(gt__ddp *d, gt__net *n, gt__bucket *b) {
    float *g = gt_data(n->P->grad);
    b->started = true;
    d->st.buckets++;
    return gt_dist_iallreduce(g + b->lo, (size_t)(b->hi - b->lo), GT_DIST_F32, GT_DIST_SUM, &b->req);
}

/* The engine's hook: a leaf's gradient is complete (leaf), or a node's backward ran (NULL). */
static void gt__hook(gt_tensor *leaf, void *user) {
    gt__ddp *d = user;
    gt__net *n = d->armed;
    if (!n || d->err != GT_OK) return;
    if (!leaf) { /* let MPI progress the buckets in flight (a nonblocking collective moves only inside MPI calls) */
        for (int i = 0; i < n->nb; i++) {
            gt__bucket *b = &n->b[i];
            if (!b->started || !b->req || b->done) continue;
            if (gt_dist_test(b->req, &b->done) != GT_OK) {
                d->err = gt_last_status(), snprintf(d->errmsg, sizeof d->errmsg, "%s", gt_last_error());
                return;
            }
        }
        return;
    }
    const gt_tensor *key = leaf;
    const gt_tensor **hit = bsearch(&key, n->ptr, (size_t)n->n, sizeof *n->ptr, gt__cmp_ptr);
    if (!hit) return;
    int i = (int)(hit - n->ptr);
    if (n->seen[i]) return;
    n->seen[i] = true;
    gt__bucket *b = &n->b[n->idx[i]];
    /* a gradient replaced by a tensor outside the slab (a create_graph backward): the bucket waits for
       gt_params_sync_grads after the pass */
    const gt_param *p = NULL;
    for (int k = 0; k < n->P->n && !p; k++)
        if (n->P->v[k].t == leaf) p = &n->P->v[k];
    if (!p || !leaf->grad || gt_data(leaf->grad) != (float *)gt_data(n->P->grad) + p->offset) b->dirty = true;
    if (--b->pending == 0 && !b->dirty && gt__start(d, n, b) != GT_OK) {
        d->err = gt_last_status(), snprintf(d->errmsg, sizeof d->errmsg, "%s", gt_last_error());
        return;
    }
    d->st.buckets_early += b->started ? 1 : 0;
}

static gt__net *gt__net_of(gt__ddp *d, gt_params *P) { return d->g.P == P ? &d->g : d->d.P == P ? &d->d : NULL; }

void gt__ddp_arm(gt_trainer *t, gt_params *P) {
    gt__ddp *d = gt__of(t);
    if (!d) return;
    gt__net *n = gt__net_of(d, P);
    if (!n || n->nb < 1 || (t->cfg.bucket_mb <= 0)) return; /* blocking: one allreduce after backward */
    for (int i = 0; i < n->n; i++) n->seen[i] = false;
    for (int i = 0; i < n->nb; i++) {
        n->b[i].pending = n->b[i].nparams, n->b[i].started = n->b[i].dirty = n->b[i].done = false;
        n->b[i].req = NULL;
    }
    d->armed = n;
    d->err = GT_OK;
    gt_autograd_set_grad_hook(gt__hook, d);
}

gt_status gt__ddp_reduce(gt_trainer *t, gt_params *P) {
    gt__ddp *d = gt__of(t);
    if (!d) return GT_OK;
    gt__net *n = gt__net_of(d, P);
    if (!n) return GT_OK;
    gt_autograd_set_grad_hook(NULL, NULL);
    bool armed = d->armed == n;
    d->armed = NULL;
    double a = gt__now();
    gt_status st = d->err;
    if (st != GT_OK) gt_set_error(st, "%s", d->errmsg);
    float *g = gt_data(P->grad);
    if (st == GT_OK && !armed) { /* blocking: the whole slab at once */
        st = gt_params_sync_grads(P);
        if (st == GT_OK) st = gt_dist_allreduce(g, (size_t)P->numel, GT_DIST_F32, GT_DIST_SUM);
        d->st.buckets++;
    } else if (st == GT_OK) {
        for (int i = 0; i < n->nb && st == GT_OK; i++) { /* what backward hid: the buckets already reduced */
            bool done = n->b[i].done;
            if (n->b[i].started && (done || (st = gt_dist_test(n->b[i].req, &done)) == GT_OK) && done)
                d->st.bytes_early += (double)(n->b[i].hi - n->b[i].lo) * sizeof(float);
        }
        bool dirty = false;
        for (int i = 0; i < n->nb; i++) dirty = dirty || (!n->b[i].started && n->b[i].dirty);
        if (dirty) st = gt_params_sync_grads(P); /* only the buckets not yet started are touched */
        for (int i = 0; i < n->nb && st == GT_OK; i++) /* the rest (a param without a gradient this time) */
            if (!n->b[i].started) st = gt__start(d, n, &n->b[i]);
    }
    for (int i = 0; armed && i < n->nb; i++) { /* every request is waited for, also after a failure */
        gt_status w = gt_dist_wait(n->b[i].req);
        n->b[i].req = NULL;
        if (st == GT_OK) st = w;
    }
    d->st.wait_s += gt__now() - a;
    if (st != GT_OK) return st;
    const float k = 1.0f / (float)d->size;
    for (int64_t i = 0; i < P->numel; i++) g[i] *= k;
    d->st.bytes += (double)P->numel * sizeof(float);
    d->st.reductions++;
    return GT_OK;
}

uint64_t gt__ddp_rows_begin(gt_trainer *t, int64_t per) {
    gt__ddp *d = gt__of(t);
    uint64_t saved = t ? t->rng.offset : 0;
    if (!d || per <= 0) return saved;
    /* element i of a draw comes from block offset + i / 4, lane i % 4: this rank's rows of the whole batch's
       draw start at block offset + rank * b * per / 4 (whole blocks: b * per is a multiple of 4) */
    const int64_t b = t->cfg.batch / d->size;
    t->rng.offset = saved + (uint64_t)(d->rank * b * per / 4);
    return saved;
}

void gt__ddp_rows_end(gt_trainer *t, int64_t per, uint64_t saved) {
    gt__ddp *d = gt__of(t);
    if (!d || per <= 0) return;
    t->rng.offset = saved + (uint64_t)((t->cfg.batch * per + 3) / 4); /* past the whole batch's draw */
}

gt_status gt__ddp_mean(gt_trainer *t, double *a, double *b) {
    gt__ddp *d = gt__of(t);
    if (!d) return GT_OK;
    double v[2] = {*a, *b};
    gt_status st = gt_dist_allreduce(v, 2, GT_DIST_F64, GT_DIST_SUM);
    if (st == GT_OK) *a = v[0] / d->size, *b = v[1] / d->size;
    return st;
}

bool gt_ddp_any(bool mine) {
    int64_t v = mine ? 1 : 0;
    if (gt_dist_active() && gt_dist_allreduce(&v, 1, GT_DIST_I64, GT_DIST_MAX) != GT_OK) return true;
    return v != 0;
}

/* --sync-bn's reduction (gt_batch_norm_set_sync). */
static gt_status gt__bn_sum(double *buf, int64_t n, void *user) {
    (void)user;
    return gt_dist_allreduce(buf, (size_t)n, GT_DIST_F64, GT_DIST_SUM);
}

/* A checksum of the weights, buffers, EMA and Adam state. */
static uint64_t gt__weights_hash(const gt_trainer *t) {
    uint64_t h = GT__FNV0;
    const gt_params *ps[2] = {&t->G.P, &t->D.P};
    for (int i = 0; i < 2; i++) {
        h = gt__fnv(h, gt_data(ps[i]->slab), (size_t)ps[i]->numel * sizeof(float));
        if (ps[i]->buffer_numel) h = gt__fnv(h, gt_data(ps[i]->buffers), (size_t)ps[i]->buffer_numel * sizeof(float));
    }
    if (t->has_ema) h = gt__fnv(h, gt_data(t->G_ema.P.slab), (size_t)t->G_ema.P.numel * sizeof(float));
    h = gt__fnv(h, &t->rng, sizeof t->rng);
    return h;
}

/* Allgathers v; "1, 3" into who: the ranks whose value differs from rank 0's. */
static gt_status gt__differs(uint64_t v, char *who, size_t n, int *count) {
    int size = gt_dist_size();
    uint64_t *all = calloc((size_t)size, sizeof *all);
    if (!all) return gt_set_error(GT_ERR_OOM, "ddp: out of memory");
    gt_status st = gt_dist_allgather(&v, sizeof v, all);
    size_t k = 0;
    *count = 0;
    who[0] = 0;
    for (int r = 1; st == GT_OK && r < size; r++)
        if (all[r] != all[0]) {
            if (k < n) k += (size_t)snprintf(who + k, n - k, "%s%d", *count ? ", " : "", r);
            ++*count;
        }
    free(all);
    return st;
}

static gt_status gt__check_same(const gt_trainer *t, const char *what, uint64_t h) {
    char who[256];
    int c = 0;
    gt_status st = gt__differs(h, who, sizeof who, &c);
    if (st != GT_OK) return st;
    if (c)
        return gt_set_error(GT_ERR_STATE, "rank%s %s %s %s than rank 0 (step %llu)", c > 1 ? "s" : "", who,
                            c > 1 ? "have" : "has", what, (unsigned long long)t->step);
    return GT_OK;
}

/* What data parallelism cannot split exactly: a message, or NULL. */
static const char *gt__unsupported(const gt_train_config *c, const gt_trainer *t, char *buf, size_t n) {
    if (t->scheme && t->scheme != &gt_train_scheme_default)
        return snprintf(buf, n, "model %s trains with its own scheme (%s), which does not run data-parallel yet",
                        c->model.name, t->scheme->family), buf;
    if (t->aug && strncmp(gt_augment_spec(t->aug), "diffaug", 7) != 0)
        return "ADA (--augment ada) does not run data-parallel yet (its per-sample draws and r_t would need "
               "splitting and reducing over the ranks); DiffAugment does";
    if (c->cr > 0 || c->bcr_real > 0 || c->bcr_fake > 0)
        return "consistency regularization (cr, bcr) does not run data-parallel yet (its per-sample random "
               "transforms would need splitting over the ranks); zcr does";
    if ((c->zcr_dis > 0 || c->zcr_gen > 0) && ((int64_t)(c->batch / gt_dist_size()) * c->model.nz) % 4 != 0)
        return snprintf(buf, n, "latent CR (zcr) runs data-parallel when each rank's share of the batch times nz is "
                                "a multiple of 4 (its noise is this rank's rows of the whole batch's draw); %d x %d "
                                "is not", c->batch / gt_dist_size(), c->model.nz), buf;
    if (c->dragan > 0) return "DRAGAN (--dragan) does not run data-parallel (its noise scale is the whole batch's std)";
    if (c->gp > 0 && (c->batch / gt_dist_size()) % 4 != 0)
        return snprintf(buf, n, "the gradient penalty (--gp, wgan-gp) runs data-parallel when each rank's share of the "
                                "batch is a multiple of 4 (its mixing weights are this rank's rows of the whole "
                                "batch's draw); batch %d over %d ranks is %d each", c->batch, gt_dist_size(),
                        c->batch / gt_dist_size()), buf;
    if (c->loss == GT_LOSS_EBGAN || !strcmp(c->model.name, "ebgan"))
        return "EBGAN does not run data-parallel (its margin max(1, N / 64), the relu of the fakes' mean energy and "
               "G's pulling-away term read the whole batch)";
    if (c->sync_bn && (c->r1 > 0 || c->r2 > 0) && gt_model_opt(&c->model, "d_norm") == GT_NORM_BATCH)
        return "--sync-bn with r1 / r2 and a batch-norm critic: the penalty's double backward through a synchronized "
               "batch norm is not supported (use --d-norm layer, or per-rank batch norm)";
    return NULL;
}

gt_status gt_ddp_setup(gt_trainer *t, char *info, size_t n) {
    if (info && n) info[0] = 0;
    if (!t || !t->G.ops) return gt_set_error(GT_ERR_STATE, "gt_ddp_setup: trainer not initialised");
    if (!gt_dist_active()) return GT_OK;
    const gt_train_config *c = &t->cfg;
    const int size = gt_dist_size(), rank = gt_dist_rank();
    char buf[256];
    /* every rank the same config and data: refuse before anything else (the other checks may differ) */
    char *json = gt_train_config_to_json(c);
    if (!json) return gt_set_error(GT_ERR_OOM, "ddp: out of memory");
    uint64_t hc = gt__fnv(GT__FNV0, json, strlen(json));
    free(json);
    gt_status st = gt__check_same(t, "a different training config (flags or --config)", hc);
    uint64_t hd = GT__FNV0;
    if (t->ds) {
        const gt_dataset *ds = t->ds;
        int64_t dims[4] = {ds->n, ds->c, ds->h, ds->w};
        hd = gt__fnv(hd, dims, sizeof dims);
        if (ds->source) hd = gt__fnv(hd, ds->source, strlen(ds->source));
        size_t per = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w, total = per * (size_t)ds->n;
        for (size_t i = 0; i < total; i += 1 + total / 65536) hd = gt__fnv(hd, ds->pixels + i, 1); /* a sample */
        if (ds->labels) hd = gt__fnv(hd, ds->labels, sizeof *ds->labels * (size_t)ds->n);
    }
    if (st == GT_OK) st = gt__check_same(t, "different data (images, size or labels)", hd);
    if (st != GT_OK) return st;
    if (c->batch % size != 0)
        return gt_set_error(GT_ERR_ARG, "batch %d is not divisible by the %d ranks (each rank takes batch / ranks images)",
                            c->batch, size);
    const char *why = gt__unsupported(c, t, buf, sizeof buf);
    if (why) return gt_set_error(GT_ERR_ARG, "data-parallel training (%d ranks): %s", size, why);
    if (!t->batcher) return gt_set_error(GT_ERR_ARG, "data-parallel training needs a dataset (config.data)");
    if (c->batch / size < 2 && !c->sync_bn)
        return gt_set_error(GT_ERR_ARG, "batch %d over %d ranks leaves %d image per rank: per-rank batch norm needs 2 "
                                        "(use a larger batch or --sync-bn)", c->batch, size, c->batch / size);
    if ((st = gt__check_same(t, "different initial weights (or checkpoint)", gt__weights_hash(t))) != GT_OK) return st;
    /* threads per rank */
    int threads = c->threads;
    if (threads <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int local = gt_dist_local_size() > 0 ? gt_dist_local_size() : 1;
        threads = cores > 0 ? (int)(cores / local) : 1;
        threads = threads < 1 ? 1 : threads;
    }
    gt_set_num_threads(threads);
    /* machines: distinct host names */
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    uint64_t hh = gt__fnv(GT__FNV0, host, strlen(host)), *hosts = calloc((size_t)size, sizeof *hosts);
    if (!hosts) return gt_set_error(GT_ERR_OOM, "ddp: out of memory");
    st = gt_dist_allgather(&hh, sizeof hh, hosts);
    int machines = 0;
    for (int r = 0; st == GT_OK && r < size; r++) {
        bool first = true;
        for (int q = 0; q < r; q++) first = first && hosts[q] != hosts[r];
        machines += first;
    }
    free(hosts);
    if (st != GT_OK) return st;
    gt__ddp *d = calloc(1, sizeof *d);
    if (!d) return gt_set_error(GT_ERR_OOM, "ddp: out of memory");
    t->ddp = d;
    d->rank = rank, d->size = size;
    int64_t cap = c->bucket_mb > 0 ? (int64_t)(c->bucket_mb * 1048576.0 / sizeof(float)) : 0;
    if ((st = gt__net_init(&d->g, &t->G.P, cap)) != GT_OK || (st = gt__net_init(&d->d, &t->D.P, cap)) != GT_OK)
        return st;
    d->st.buckets_g = d->g.nb, d->st.buckets_d = d->d.nb;
    const int64_t b = c->batch / size;
    if ((st = gt_batcher_set_shard(t->batcher, rank * b, b)) != GT_OK) return st;
    if (t->aug && (st = gt_augment_set_shard(t->aug, rank * b, c->batch)) != GT_OK) return st; /* DiffAugment */
    const char *die = getenv("GANTRY_TEST_DIE_AT_STEP"), *fail = getenv("GANTRY_TEST_FAIL_AT_STEP");
    const char *who = getenv("GANTRY_TEST_RANK");
    int test_rank = who && who[0] ? atoi(who) : 1;
    d->die_at = die && die[0] && rank == test_rank ? atoll(die) : -1;
    d->fail_at = fail && fail[0] && rank == test_rank ? atoll(fail) : -1;
    if (rank != 0) t->cfg.out[0] = 0; /* rank 0 alone writes the run folder */
    if (info && n)
        snprintf(info, n,
                 "data-parallel over %d ranks on %d machine%s (%s), %d thread%s per rank, batch %d = %d x %lld, "
                 "batch norm %s, gradients in %s (G %d, D %d)",
                 size, machines, machines == 1 ? "" : "s", gt_dist_library(), threads, threads == 1 ? "" : "s",
                 c->batch, size, (long long)b, c->sync_bn ? "synchronized (--sync-bn)" : "per rank",
                 cap ? "buckets overlapping backward" : "one blocking allreduce", d->g.nb, d->d.nb);
    return GT_OK;
}

void gt_ddp_free(gt_trainer *t) {
    gt__ddp *d = gt__of(t);
    if (!d) return;
    gt_autograd_set_grad_hook(NULL, NULL);
    gt_batch_norm_set_sync(NULL, NULL);
    gt__net_free(&d->g), gt__net_free(&d->d);
    free(d);
    t->ddp = NULL;
}

gt_status gt_ddp_get_stats(const gt_trainer *t, gt_ddp_stats *s) {
    if (!s) return gt_set_error(GT_ERR_ARG, "gt_ddp_get_stats: NULL output");
    memset(s, 0, sizeof *s);
    const gt__ddp *d = gt__of(t);
    if (!d) return gt_set_error(GT_ERR_STATE, "gt_ddp_get_stats: not a data-parallel trainer");
    *s = d->st;
    return GT_OK;
}

/* Rows [lo, lo + n) of x, contiguous. */
static gt_tensor *gt__rows(gt_tensor *x, int64_t lo, int64_t n) {
    return x ? gt_contiguous(gt_slice(x, 0, lo, lo + n, 1)) : NULL;
}

/* The stats averaged over the ranks (each a mean over an equal shard; states as they stand). */
static gt_status gt__mean_stats(gt__ddp *d, gt_step_stats *s) {
    double *f[] = {&s->loss_d, &s->loss_g, &s->gp, &s->d_real, &s->d_fake, &s->reg[0], &s->reg[1], &s->reg[2],
                   &s->reg[3], &s->loss_measure, &s->distill, &s->cr, &s->bcr_real, &s->bcr_fake, &s->zcr_dis,
                   &s->zcr_gen, &s->lecam};
    enum { K = sizeof f / sizeof *f };
    double v[K];
    for (int i = 0; i < K; i++) v[i] = *f[i];
    gt_status st = gt_dist_allreduce(v, K, GT_DIST_F64, GT_DIST_SUM);
    for (int i = 0; i < K && st == GT_OK; i++) *f[i] = v[i] / d->size;
    return st;
}

static gt_status gt__step(gt_trainer *t, gt__ddp *d, gt_step_stats *stats) {
    const gt_train_config *c = &t->cfg;
    enum { GT__MAX_CRITIC = 64 };
    gt_tensor *reals[GT__MAX_CRITIC], *z[GT__MAX_CRITIC], *ry[GT__MAX_CRITIC], *fy[GT__MAX_CRITIC];
    gt_tensor *a[GT__MAX_CRITIC]; /* paired data: this rank's inputs A of its reals (NULL otherwise) */
    const int K = c->model.n_classes;
    const int64_t B = c->batch, b = B / d->size, lo = (int64_t)d->rank * b;
    gt_status st = GT_OK;
    for (int i = 0; i < c->n_critic && st == GT_OK; i++) {
        /* this rank's images; the whole batch's latents and fake classes (the same draws on every rank as in
           one process), then this rank's rows */
        st = gt_batcher_next_pair(t->batcher, &reals[i], K ? &ry[i] : NULL, &a[i]);
        z[i] = st == GT_OK ? gt__rows(gt_model_sample_latents(&c->model, &t->rng, B), lo, b) : NULL;
        fy[i] = st == GT_OK && K ? gt__rows(gt_labels_random(&t->rng, B, K), lo, b) : NULL;
        if (st == GT_OK && (!z[i] || (K && (!fy[i] || !ry[i])))) st = gt_last_status() ? gt_last_status() : GT_ERR_ARG;
    }
    if (st != GT_OK) return st;
    if (c->sync_bn) gt_batch_norm_set_sync(gt__bn_sum, d);
    t->inputs = t->ds->pixels_a ? a : NULL;
    st = gt_trainer_step_on_y(t, reals, K ? ry : NULL, z, K ? fy : NULL, stats);
    t->inputs = NULL;
    gt_batch_norm_set_sync(NULL, NULL);
    gt_autograd_set_grad_hook(NULL, NULL);
    d->armed = NULL;
    if (st != GT_OK) return st;
    /* the batch-norm buffers (running statistics) as rank 0's, as PyTorch's DDP broadcasts them */
    gt_params *bp[3] = {&t->G.P, &t->D.P, t->has_ema ? &t->G_ema.P : NULL};
    for (int i = 0; i < 3 && st == GT_OK; i++)
        if (bp[i] && bp[i]->buffer_numel) st = gt_dist_bcast(gt_data(bp[i]->buffers), (size_t)bp[i]->buffer_numel * 4, 0);
    if (st == GT_OK && t->has_ema && t->ema.buffers && t->ema.buffers != t->G_ema.P.buffers)
        st = gt_dist_bcast(gt_data(t->ema.buffers), (size_t)gt_numel(t->ema.buffers) * 4, 0);
    if (st == GT_OK && stats) st = gt__mean_stats(d, stats);
    if (st == GT_OK && c->check_sync > 0 && t->step % (uint64_t)c->check_sync == 0)
        st = gt__check_same(t, "different weights (--check-sync)", gt__weights_hash(t));
    return st;
}

gt_status gt__ddp_step(gt_trainer *t, gt_step_stats *stats) {
    gt__ddp *d = gt__of(t);
    if (!d) return gt_set_error(GT_ERR_STATE, "gt__ddp_step: not a data-parallel trainer");
    const unsigned long long at = (unsigned long long)t->step + 1;
    if (d->die_at >= 0 && at == (unsigned long long)d->die_at) { /* test hook: this rank dies mid-run */
        fprintf(stderr, "gantry train: rank %d: step %llu: GANTRY_TEST_DIE_AT_STEP: killing this process\n", d->rank,
                at);
        fflush(stderr);
        raise(SIGKILL);
    }
    int m = gt_scope_begin();
    gt_status st = d->fail_at >= 0 && at == (unsigned long long)d->fail_at
                       ? gt_set_error(GT_ERR_IO, "GANTRY_TEST_FAIL_AT_STEP: a simulated failure")
                       : gt__step(t, d, stats);
    gt_scope_end(m);
    d->st.steps += st == GT_OK;
    if (st != GT_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_set_error(st, "rank %d: step %llu: %s", d->rank, at, msg);
    }
    return st;
}
