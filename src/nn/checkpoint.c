/* GAN training checkpoints: registries, Adam and EMA state, step / RNG / data
 * state, in one safetensors file; and registry <-> safetensors. */
#include <string.h>

#include "gantry/checkpoint.h"
#include "../io/io_internal.h"

/* --- registries <-> safetensors ------------------------------------------------ */

static const char *gt__label(const gt_safetensors *s) { return s && s->path ? s->path : "<safetensors in memory>"; }

/* prefix + name into a malloc'd string. */
static char *gt__cat(const char *prefix, const char *mid, const char *name) {
    prefix = prefix ? prefix : "";
    mid = mid ? mid : "";
    size_t n = strlen(prefix) + strlen(mid) + strlen(name) + 1;
    char *r = malloc(n);
    if (r) snprintf(r, n, "%s%s%s", prefix, mid, name);
    return r;
}

gt_status gt_st_add_params(gt_safetensors *s, const char *prefix, const gt_params *P, bool with_buffers) {
    if (!s || !P) return gt_set_error(GT_ERR_ARG, "gt_st_add_params: NULL argument");
    for (int i = 0; i < P->n; i++) {
        if (P->v[i].is_buffer && !with_buffers) continue;
        char *nm = gt__cat(prefix, NULL, P->v[i].name);
        if (!nm) return gt_set_error(GT_ERR_OOM, "gt_st_add_params: out of memory");
        gt_status st = gt_st_add_tensor(s, nm, P->v[i].t);
        free(nm);
        if (st) return st;
    }
    return GT_OK;
}

/* One tensor the file must hold: name, dtype, shape and where its values go. */
typedef struct {
    char *name;
    gt_st_dtype dtype;
    int ndim;
    int64_t shape[GT_ST_MAX_DIMS];
    void *dst;         /* (nbytes) destination / source */
    size_t nbytes;
    gt_rng *rng;       /* a gt_rng: dst is tmp, copied to/from it */
    uint64_t tmp[2];
    gt_adam *ams;      /* max_exp_avg_sq of this Adam, which may not exist yet */
} gt__slot;

typedef struct {
    gt__slot *v;
    int n, cap;
} gt__slots;

static void gt__slots_free(gt__slots *S) {
    for (int i = 0; i < S->n; i++) free(S->v[i].name);
    free(S->v);
    memset(S, 0, sizeof *S);
}

static gt__slot *gt__slot_add(gt__slots *S, const char *prefix, const char *mid, const char *name, gt_st_dtype dt,
                              int ndim, const int64_t *shape, void *dst) {
    if (S->n == S->cap) {
        int cap = S->cap ? 2 * S->cap : 64;
        gt__slot *v = realloc(S->v, (size_t)cap * sizeof *v);
        if (!v) {
            gt_set_error(GT_ERR_OOM, "checkpoint: out of memory");
            return NULL;
        }
        S->v = v;
        S->cap = cap;
    }
    gt__slot *e = &S->v[S->n];
    memset(e, 0, sizeof *e);
    e->name = gt__cat(prefix, mid, name);
    if (!e->name) {
        gt_set_error(GT_ERR_OOM, "checkpoint: out of memory");
        return NULL;
    }
    e->dtype = dt;
    e->ndim = ndim;
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= (e->shape[i] = shape[i]);
    e->nbytes = (size_t)numel * gt_st_dtype_size(dt);
    e->dst = dst;
    S->n++;
    return e;
}

/* Slots for P's entries (with_buffers: buffers too), values in the slabs
 * pslab / bslab laid out like P's (NULL: the tensors themselves). */
static gt_status gt__slots_params(gt__slots *S, const char *prefix, const char *mid, const gt_params *P,
                                  bool with_buffers, gt_tensor *pslab, gt_tensor *bslab) {
    for (int i = 0; i < P->n; i++) {
        const gt_param *e = &P->v[i];
        if (e->is_buffer && !with_buffers) continue;
        float *dst;
        if (pslab) dst = gt_data(e->is_buffer ? bslab : pslab) + e->offset;
        else {
            if (!gt_is_contiguous(e->t))
                return gt_set_error(GT_ERR_STATE, "checkpoint: parameter '%s' is not contiguous", e->name);
            dst = gt_data(e->t);
        }
        if (!gt__slot_add(S, prefix, mid, e->name, GT_ST_F32, e->t->ndim, e->t->shape, dst)) return gt_last_status();
    }
    return GT_OK;
}

/* --- checkpoint bindings ----------------------------------------------------------- */

void gt_ckpt_init(gt_ckpt *c) {
    memset(c, 0, sizeof *c);
    gt_st_init(&c->meta);
}

void gt_ckpt_free(gt_ckpt *c) {
    if (!c) return;
    for (int i = 0; i < c->n_items; i++) free(c->items[i].name);
    free(c->items);
    gt_st_free(&c->meta);
    gt_ckpt_init(c);
}

static gt_status gt__ckpt_item(gt_ckpt *c, gt_ckpt_item it, const char *name) {
    if (!c) return gt_set_error(GT_ERR_ARG, "checkpoint binding is NULL");
    if (c->n_items == c->cap_items) {
        int cap = c->cap_items ? 2 * c->cap_items : 16;
        gt_ckpt_item *v = realloc(c->items, (size_t)cap * sizeof *v);
        if (!v) return gt_set_error(GT_ERR_OOM, "checkpoint: out of memory");
        c->items = v;
        c->cap_items = cap;
    }
    it.name = strdup(name ? name : "");
    if (!it.name) return gt_set_error(GT_ERR_OOM, "checkpoint: out of memory");
    c->items[c->n_items++] = it;
    return GT_OK;
}

static gt_status gt__need_final(const gt_params *P, const char *fn, const char *name) {
    if (!P) return gt_set_error(GT_ERR_ARG, "%s('%s'): registry is NULL", fn, name ? name : "");
    if (!P->finalized)
        return gt_set_error(GT_ERR_STATE, "%s('%s'): call gt_params_finalize first", fn, name ? name : "");
    return GT_OK;
}

gt_status gt_ckpt_add_params(gt_ckpt *c, const char *prefix, gt_params *P) {
    gt_status st = gt__need_final(P, "gt_ckpt_add_params", prefix);
    return st ? st : gt__ckpt_item(c, (gt_ckpt_item){.kind = GT_CKPT_PARAMS, .P = P}, prefix);
}

gt_status gt_ckpt_add_adam(gt_ckpt *c, const char *prefix, gt_adam *o) {
    if (!o || !o->exp_avg || !o->exp_avg_sq)
        return gt_set_error(GT_ERR_ARG, "gt_ckpt_add_adam('%s'): optimizer not initialised", prefix ? prefix : "");
    gt_status st = gt__need_final(o->params, "gt_ckpt_add_adam", prefix);
    return st ? st : gt__ckpt_item(c, (gt_ckpt_item){.kind = GT_CKPT_ADAM, .adam = o}, prefix);
}

gt_status gt_ckpt_add_ema(gt_ckpt *c, const char *prefix, gt_ema *e) {
    if (!e || !e->params || !e->buffers)
        return gt_set_error(GT_ERR_ARG, "gt_ckpt_add_ema('%s'): EMA not initialised", prefix ? prefix : "");
    gt_status st = gt__need_final(e->src, "gt_ckpt_add_ema", prefix);
    return st ? st : gt__ckpt_item(c, (gt_ckpt_item){.kind = GT_CKPT_EMA, .ema = e}, prefix);
}

gt_status gt_ckpt_add_u64(gt_ckpt *c, const char *name, uint64_t *values, int64_t n) {
    if (!name || !name[0] || n < 0 || (n && !values))
        return gt_set_error(GT_ERR_ARG, "gt_ckpt_add_u64: needs a name and n >= 0 values (got '%s', %lld)",
                            name ? name : "(null)", (long long)n);
    return gt__ckpt_item(c, (gt_ckpt_item){.kind = GT_CKPT_U64, .u64 = values, .n = n}, name);
}

gt_status gt_ckpt_add_rng(gt_ckpt *c, const char *name, gt_rng *r) {
    if (!name || !name[0] || !r) return gt_set_error(GT_ERR_ARG, "gt_ckpt_add_rng: needs a name and a generator");
    return gt__ckpt_item(c, (gt_ckpt_item){.kind = GT_CKPT_RNG, .rng = r}, name);
}

gt_status gt_ckpt_set_meta(gt_ckpt *c, const char *key, const char *value) {
    if (!c) return gt_set_error(GT_ERR_ARG, "gt_ckpt_set_meta: NULL binding");
    return gt_st_set_meta(&c->meta, key, value);
}

const char *gt_ckpt_get_meta(const gt_ckpt *c, const char *key) { return c ? gt_st_get_meta(&c->meta, key) : NULL; }

/* Every tensor the bindings stand for. */
static gt_status gt__ckpt_slots(const gt_ckpt *c, gt__slots *S) {
    static const int64_t two = 2;
    gt_status st = GT_OK;
    for (int k = 0; k < c->n_items && !st; k++) {
        const gt_ckpt_item *it = &c->items[k];
        switch (it->kind) {
        case GT_CKPT_PARAMS: st = gt__slots_params(S, it->name, NULL, it->P, true, NULL, NULL); break;
        case GT_CKPT_ADAM: {
            gt_adam *o = it->adam;
            st = gt__slots_params(S, it->name, "exp_avg.", o->params, false, o->exp_avg, NULL);
            if (!st) st = gt__slots_params(S, it->name, "exp_avg_sq.", o->params, false, o->exp_avg_sq, NULL);
            if (!st && o->amsgrad) {
                /* the slab may not exist before the first step: slots point nowhere until needed */
                for (int i = 0; i < o->params->n && !st; i++) {
                    const gt_param *e = &o->params->v[i];
                    if (e->is_buffer) continue;
                    gt__slot *sl = gt__slot_add(S, it->name, "max_exp_avg_sq.", e->name, GT_ST_F32, e->t->ndim,
                                                e->t->shape, o->max_exp_avg_sq ? gt_data(o->max_exp_avg_sq) + e->offset
                                                                               : NULL);
                    if (!sl) st = gt_last_status();
                    else {
                        sl->ams = o;
                        sl->tmp[0] = (uint64_t)e->offset;
                    }
                }
            }
            if (!st && !gt__slot_add(S, it->name, NULL, "step", GT_ST_I64, 0, NULL, &o->step)) st = gt_last_status();
            break;
        }
        case GT_CKPT_EMA: {
            gt_ema *e = it->ema;
            st = gt__slots_params(S, it->name, NULL, e->src, true, e->params, e->buffers);
            if (!st && !gt__slot_add(S, it->name, NULL, "updates", GT_ST_I64, 0, NULL, &e->updates))
                st = gt_last_status();
            break;
        }
        case GT_CKPT_U64:
            if (!gt__slot_add(S, NULL, NULL, it->name, GT_ST_U64, 1, &it->n, it->u64)) st = gt_last_status();
            break;
        case GT_CKPT_RNG: {
            gt__slot *sl = gt__slot_add(S, NULL, NULL, it->name, GT_ST_U64, 1, &two, NULL);
            if (!sl) st = gt_last_status();
            else sl->rng = it->rng;
            break;
        }
        }
    }
    /* names must not collide (e.g. two bindings with the same prefix) */
    for (int i = 0; i < S->n && !st; i++)
        for (int j = i + 1; j < S->n && !st; j++)
            if (strcmp(S->v[i].name, S->v[j].name) == 0)
                st = gt_set_error(GT_ERR_ARG, "checkpoint: two bindings both name a tensor '%s'; use distinct prefixes",
                                  S->v[i].name);
    return st;
}

gt_status gt_ckpt_save(const gt_ckpt *c, const char *path) {
    if (!c) return gt_set_error(GT_ERR_ARG, "gt_ckpt_save: NULL binding");
    gt__slots S = {0};
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt__ckpt_slots(c, &S);
    if (!st) st = gt_st_set_meta(&s, "format", "pt");
    if (!st) st = gt_st_set_meta(&s, "gantry", "checkpoint-1");
    for (int i = 0; !st && i < c->meta.n_meta; i++) st = gt_st_set_meta(&s, c->meta.meta_key[i], c->meta.meta_val[i]);
    for (int i = 0; !st && i < S.n; i++) {
        gt__slot *sl = &S.v[i];
        if (sl->rng) {
            sl->tmp[0] = sl->rng->seed;
            sl->tmp[1] = sl->rng->offset;
            st = gt_st_add(&s, sl->name, sl->dtype, sl->ndim, sl->shape, sl->tmp, true);
        } else if (sl->ams && !sl->dst) {
            float *z = calloc(sl->nbytes ? sl->nbytes : 1, 1); /* amsgrad before its first step: zeros */
            st = z ? gt_st_add(&s, sl->name, sl->dtype, sl->ndim, sl->shape, z, true)
                   : gt_set_error(GT_ERR_OOM, "checkpoint: out of memory");
            free(z);
        } else
            st = gt_st_add(&s, sl->name, sl->dtype, sl->ndim, sl->shape, sl->dst, false);
    }
    if (!st) st = gt_st_save(&s, path);
    gt_st_free(&s);
    gt__slots_free(&S);
    return st;
}

static int gt__cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Checks one slot against the file; returns a message into msg (empty: fits). */
static void gt__slot_check(const gt_safetensors *s, const gt__slot *sl, char *msg, size_t n) {
    char a[160], b[160];
    const gt_st_tensor *t = gt_st_find(s, sl->name);
    msg[0] = 0;
    if (!t) snprintf(msg, n, "tensor '%s' is missing", sl->name);
    else if (t->dtype != sl->dtype)
        snprintf(msg, n, "tensor '%s' is %s in the file but must be %s", sl->name, gt_st_dtype_name(t->dtype),
                 gt_st_dtype_name(sl->dtype));
    else {
        bool same = t->ndim == sl->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == sl->shape[d];
        if (!same)
            snprintf(msg, n, "tensor '%s' has shape %s in the file but the model expects %s", sl->name,
                     gt__shape_fmt(a, sizeof a, t->ndim, t->shape), gt__shape_fmt(b, sizeof b, sl->ndim, sl->shape));
    }
}

gt_status gt_ckpt_apply(gt_ckpt *c, const gt_safetensors *s, unsigned flags) {
    if (!c || !s) return gt_set_error(GT_ERR_ARG, "gt_ckpt_apply: NULL argument");
    const char *L = gt__label(s);
    gt__slots S = {0};
    gt_status st = gt__ckpt_slots(c, &S);
    if (st) {
        gt__slots_free(&S);
        return st;
    }
    /* 1. validate everything; report the first problem and how many there are */
    char first[1024] = "", msg[1024];
    int problems = 0;
    for (int i = 0; i < S.n; i++) {
        gt__slot_check(s, &S.v[i], msg, sizeof msg);
        if (msg[0] && !problems++) snprintf(first, sizeof first, "%s", msg);
    }
    if (!(flags & GT_CKPT_ALLOW_EXTRA) && S.n) {
        char **names = malloc((size_t)(unsigned)S.n * sizeof *names);
        if (!names) {
            gt__slots_free(&S);
            return gt_set_error(GT_ERR_OOM, "checkpoint: out of memory");
        }
        for (int i = 0; i < S.n; i++) names[i] = S.v[i].name;
        qsort(names, (size_t)S.n, sizeof *names, gt__cmp_str);
        for (int i = 0; i < s->n; i++) {
            const char *key = s->t[i].name;
            if (!bsearch(&key, names, (size_t)S.n, sizeof *names, gt__cmp_str) && !problems++)
                snprintf(first, sizeof first, "tensor '%s' in the file belongs to nothing in the model", key);
        }
        free(names);
    } else if (!(flags & GT_CKPT_ALLOW_EXTRA) && s->n && !problems++)
        snprintf(first, sizeof first, "tensor '%s' in the file belongs to nothing in the model", s->t[0].name);
    if (problems) {
        gt__slots_free(&S);
        if (problems == 1)
            return gt_set_error(GT_ERR_SHAPE, "checkpoint '%s' does not fit the model: %s", L, first);
        return gt_set_error(GT_ERR_SHAPE, "checkpoint '%s' does not fit the model: %s (and %d more problems)", L,
                            first, problems - 1);
    }
    /* 2. every slab that must exist */
    for (int i = 0; i < S.n; i++) {
        gt_adam *o = S.v[i].ams;
        if (o && !o->max_exp_avg_sq) {
            int m = gt_scope_begin();
            o->max_exp_avg_sq = gt_retain(gt_zeros(1, &o->params->numel));
            gt_scope_end(m);
            if (!o->max_exp_avg_sq) {
                gt__slots_free(&S);
                return gt_set_error(GT_ERR_OOM, "checkpoint '%s': out of memory", L);
            }
        }
        if (o) S.v[i].dst = gt_data(o->max_exp_avg_sq) + S.v[i].tmp[0];
    }
    /* 3. copy */
    for (int i = 0; i < S.n; i++) {
        gt__slot *sl = &S.v[i];
        const gt_st_tensor *t = gt_st_find(s, sl->name);
        if (sl->rng) {
            memcpy(sl->tmp, t->data, 16);
            sl->rng->seed = sl->tmp[0];
            sl->rng->offset = sl->tmp[1];
        } else if (sl->nbytes)
            memcpy(sl->dst, t->data, sl->nbytes);
    }
    gt__slots_free(&S);
    /* the file's metadata becomes the binding's */
    gt_safetensors m;
    gt_st_init(&m);
    for (int i = 0; i < s->n_meta && !st; i++) st = gt_st_set_meta(&m, s->meta_key[i], s->meta_val[i]);
    if (st) {
        gt_st_free(&m);
        return st;
    }
    gt_st_free(&c->meta);
    c->meta = m;
    return GT_OK;
}

gt_status gt_ckpt_load(gt_ckpt *c, const char *path, unsigned flags) {
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt_st_load(&s, path);
    if (!st) st = gt_ckpt_apply(c, &s, flags);
    gt_st_free(&s);
    return st;
}

gt_status gt_st_load_params(const gt_safetensors *s, const char *prefix, gt_params *P, bool with_buffers,
                            bool strict) {
    if (!s || !P) return gt_set_error(GT_ERR_ARG, "gt_st_load_params: NULL argument");
    /* a registry that is not finalized still has contiguous leaves: bind it directly */
    gt__slots S = {0};
    gt_status st = gt__slots_params(&S, prefix, NULL, P, with_buffers, NULL, NULL);
    char msg[1024];
    for (int i = 0; i < S.n && !st; i++) {
        gt__slot_check(s, &S.v[i], msg, sizeof msg);
        if (msg[0]) st = gt_set_error(GT_ERR_SHAPE, "'%s' does not fit the model: %s", gt__label(s), msg);
    }
    size_t pl = prefix ? strlen(prefix) : 0;
    for (int i = 0; i < s->n && !st && strict; i++) {
        const char *nm = s->t[i].name;
        if (pl && strncmp(nm, prefix, pl) != 0) continue;
        if (gt_params_find(P, nm + pl) < 0)
            st = gt_set_error(GT_ERR_SHAPE, "'%s' does not fit the model: tensor '%s' in the file belongs to nothing "
                                            "in the model",
                              gt__label(s), nm);
    }
    for (int i = 0; i < S.n && !st; i++)
        if (S.v[i].nbytes) memcpy(S.v[i].dst, gt_st_find(s, S.v[i].name)->data, S.v[i].nbytes);
    gt__slots_free(&S);
    return st;
}
