/* Channel pruning (gantry/prune.h): a family's channel groups, each channel's importance (L1 of
 * the producer's slice, or |BN scale|), the student built with the kept channels' slices of every
 * listed tensor, the MACs of a config, and the student written as a training checkpoint. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/prune.h"
#include "gantry/train.h"

static const char *const gt__imp_names[GT_IMPORTANCE_COUNT] = {"l1", "bn", "first"};

const double gt_prune_fracs_default[GT_PRUNE_FRACS_DEFAULT_N] = {0.125, 0.25, 0.375, 0.5, 0.75, 1.0};

int gt_prune_width_choices(int size, const double *fracs, int n_fracs, int *w) {
    int n = 0;
    for (int j = 0; j < n_fracs; j++) {
        int v = (int)floor(fracs[j] * size + 0.5);
        v = v < 1 ? 1 : v > size ? size : v;
        if (!n || w[n - 1] != v) w[n++] = v;
    }
    return n;
}

const char *gt_importance_name(gt_importance k) {
    return k >= 0 && k < GT_IMPORTANCE_COUNT ? gt__imp_names[k] : "?";
}

int gt_importance_parse(const char *s) {
    for (int i = 0; s && i < GT_IMPORTANCE_COUNT; i++)
        if (!strcmp(s, gt__imp_names[i])) return i;
    return -1;
}

/* The families with channel groups, comma-separated, into buf. */
static const char *gt__prunable(char *buf, size_t n) {
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; gt_model_at(i) && k < n; i++)
        if (gt_model_at(i)->channel_groups)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "", gt_model_at(i)->name);
    return k ? buf : "none";
}

/* The tensor name of G (parameter or buffer), or NULL with an error naming the group. */
static gt_tensor *gt__ref_tensor(const gt_net *G, const gt_channel_group *g, const gt_group_ref *r) {
    gt_tensor *t = gt_params_get(&G->P, r->param);
    if (!t) {
        gt_set_error(GT_ERR_ARG, "channel group %s lists %s, which model %s does not have", g->opt_key, r->param,
                     G->cfg.name);
        return NULL;
    }
    if (r->dim < 0 || r->dim >= t->ndim || t->shape[r->dim] != g->size) {
        char s[64];
        gt_set_error(GT_ERR_SHAPE, "channel group %s (%d channels) lists %s dim %d, but %s is %s", g->opt_key, g->size,
                     r->param, r->dim, r->param, gt_shape_str(t, s, sizeof s));
        return NULL;
    }
    if (!gt_is_contiguous(t)) {
        gt_set_error(GT_ERR_STATE, "channel group %s: %s is not contiguous", g->opt_key, r->param);
        return NULL;
    }
    return t;
}

int gt_prune_groups(const gt_net *G, gt_channel_group *out, int max) {
    if (!G || !G->ops || G->kind != GT_NET_G) {
        gt_set_error(GT_ERR_ARG, "gt_prune_groups: not a built generator");
        return -1;
    }
    const gt_model_entry *e = gt_model_find(G->cfg.name);
    if (!e) return -1;
    if (!e->channel_groups) {
        char names[512];
        gt_set_error(GT_ERR_ARG, "model %s has no channel groups: it cannot be pruned (families that can: %s)",
                     e->name, gt__prunable(names, sizeof names));
        return -1;
    }
    int n = e->channel_groups(G, out, max);
    if (n < 0) return -1;
    if (n == 0) {
        gt_set_error(GT_ERR_ARG, "model %s lists no channel groups in this configuration", e->name);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const gt_channel_group *g = &out[i];
        if (g->size < 1 || g->n_refs < 1 || g->n_refs > GT_GROUP_REFS_MAX || isnan(gt_model_opt(&G->cfg, g->opt_key))) {
            gt_set_error(GT_ERR_ARG, "model %s: channel group %d (%s) is malformed (size %d, %d refs, option %s)",
                         e->name, i, g->opt_key, g->size, g->n_refs,
                         isnan(gt_model_opt(&G->cfg, g->opt_key)) ? "unknown" : "ok");
            return -1;
        }
        for (int k = 0; k < g->n_refs; k++) {
            if (!gt__ref_tensor(G, g, &g->refs[k])) return -1;
            for (int j = 0; j <= i; j++) /* no (tensor, dim) in two places */
                for (int l = 0; l < (j == i ? k : out[j].n_refs); l++)
                    if (!strcmp(out[j].refs[l].param, g->refs[k].param) && out[j].refs[l].dim == g->refs[k].dim) {
                        gt_set_error(GT_ERR_ARG, "model %s: %s dim %d is listed by groups %s and %s", e->name,
                                     g->refs[k].param, g->refs[k].dim, out[j].opt_key, g->opt_key);
                        return -1;
                    }
        }
        if (!gt__ref_tensor(G, g, &g->producer)) return -1;
        if (g->bn_weight[0]) {
            gt_group_ref r = {.dim = 0};
            snprintf(r.param, sizeof r.param, "%s", g->bn_weight);
            if (!gt__ref_tensor(G, g, &r)) return -1;
        }
    }
    return n;
}

gt_status gt_channel_importance(const gt_net *G, const gt_channel_group *g, gt_importance imp, float *out) {
    if (!G || !g || !out) return gt_set_error(GT_ERR_ARG, "gt_channel_importance: NULL argument");
    if (imp == GT_IMPORTANCE_BN) {
        if (!g->bn_weight[0])
            return gt_set_error(GT_ERR_ARG, "channel group %s has no batch-norm scale: use the l1 importance",
                                g->opt_key);
        gt_group_ref r = {.dim = 0};
        snprintf(r.param, sizeof r.param, "%s", g->bn_weight);
        gt_tensor *t = gt__ref_tensor(G, g, &r);
        if (!t) return gt_last_status();
        const float *w = gt_data(t);
        for (int c = 0; c < g->size; c++) out[c] = fabsf(w[c]);
        return GT_OK;
    }
    if (imp == GT_IMPORTANCE_FIRST) { /* descending with the index: the first k are the most important */
        for (int c = 0; c < g->size; c++) out[c] = (float)(g->size - c);
        return GT_OK;
    }
    if (imp != GT_IMPORTANCE_L1)
        return gt_set_error(GT_ERR_ARG, "gt_channel_importance: unknown importance %d", (int)imp);
    gt_tensor *t = gt__ref_tensor(G, g, &g->producer);
    if (!t) return gt_last_status();
    int64_t inner = 1;
    for (int d = g->producer.dim + 1; d < t->ndim; d++) inner *= t->shape[d];
    const int64_t n = gt_numel(t), size = g->size;
    double *acc = calloc((size_t)size, sizeof *acc);
    if (!acc) return gt_set_error(GT_ERR_OOM, "gt_channel_importance: out of memory");
    const float *w = gt_data(t);
    for (int64_t i = 0; i < n; i++) acc[(i / inner) % size] += fabs((double)w[i]);
    for (int64_t c = 0; c < size; c++) out[c] = (float)acc[c];
    free(acc);
    return GT_OK;
}

typedef struct {
    float v;
    int i;
} gt__ranked;

static int gt__by_importance(const void *a, const void *b) {
    const gt__ranked *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1; /* descending importance */
    return x->i < y->i ? -1 : x->i > y->i;         /* ties: the lower index first */
}
static int gt__by_index(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    return i < j ? -1 : i > j;
}

gt_status gt_prune_select(const gt_net *G, const gt_channel_group *g, gt_importance imp, int k, int *keep) {
    if (!g || !keep) return gt_set_error(GT_ERR_ARG, "gt_prune_select: NULL argument");
    if (k < 1 || k > g->size)
        return gt_set_error(GT_ERR_ARG, "channel group %s: width %d is outside 1..%d", g->opt_key, k, g->size);
    float *imp_v = malloc((size_t)g->size * sizeof *imp_v);
    gt__ranked *order = malloc((size_t)g->size * sizeof *order);
    if (!imp_v || !order) {
        free(imp_v), free(order);
        return gt_set_error(GT_ERR_OOM, "gt_prune_select: out of memory");
    }
    gt_status st = gt_channel_importance(G, g, imp, imp_v);
    if (st == GT_OK) {
        for (int c = 0; c < g->size; c++) order[c] = (gt__ranked){imp_v[c], c};
        qsort(order, (size_t)g->size, sizeof *order, gt__by_importance);
        for (int c = 0; c < k; c++) keep[c] = order[c].i;
        qsort(keep, (size_t)k, sizeof *keep, gt__by_index);
    }
    free(imp_v), free(order);
    return st;
}

gt_status gt_prune_keep_widths(const gt_channel_group *g, int n, double keep, int *widths) {
    if (!(keep > 0 && keep <= 1)) return gt_set_error(GT_ERR_ARG, "keep ratio must be in (0, 1], got %g", keep);
    for (int i = 0; i < n; i++) {
        int w = (int)floor(keep * g[i].size + 0.5);
        widths[i] = w < 1 ? 1 : w > g[i].size ? g[i].size : w;
    }
    return GT_OK;
}

gt_status gt_prune_parse_widths(const gt_channel_group *g, int n, const char *spec, int *widths) {
    if (!spec || !*spec) return gt_set_error(GT_ERR_ARG, "widths: an empty list (give KEY=N,... e.g. %s=%d)",
                                             n ? g[0].opt_key : "gw0", n ? (g[0].size + 1) / 2 : 1);
    bool given[GT_PRUNE_GROUPS_MAX] = {false};
    for (int i = 0; i < n; i++) widths[i] = g[i].size;
    char item[96], keys[512];
    size_t kl = 0;
    keys[0] = '\0';
    for (int i = 0; i < n && kl < sizeof keys; i++)
        kl += (size_t)snprintf(keys + kl, sizeof keys - kl, "%s%s (%d)", i ? ", " : "", g[i].opt_key, g[i].size);
    for (const char *p = spec; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= sizeof item) return gt_set_error(GT_ERR_ARG, "widths: '%.30s...' is too long", p);
        memcpy(item, p, len);
        item[len] = '\0';
        p += len + (e ? 1 : 0);
        char *eq = strchr(item, '='), *end = NULL;
        long v = eq ? strtol(eq + 1, &end, 10) : 0;
        if (!eq || !end || *end || eq[1] == '\0')
            return gt_set_error(GT_ERR_ARG, "widths: '%s' is not KEY=N (the groups: %s)", item, keys);
        *eq = '\0';
        int i = 0;
        while (i < n && strcmp(g[i].opt_key, item)) i++;
        if (i == n) return gt_set_error(GT_ERR_ARG, "widths: unknown group '%s' (the groups: %s)", item, keys);
        if (given[i]) return gt_set_error(GT_ERR_ARG, "widths: group %s given twice", item);
        if (v < 1 || v > g[i].size)
            return gt_set_error(GT_ERR_ARG, "widths: group %s has %d channels; its width must be in 1..%d, got %ld",
                                item, g[i].size, g[i].size, v);
        given[i] = true;
        widths[i] = (int)v;
    }
    return GT_OK;
}

/* dst (student shape) := src gathered along each dim d through map[d] (NULL: the identity). */
static void gt__gather(const gt_tensor *src, gt_tensor *dst, const int *const *map) {
    const int nd = dst->ndim;
    int64_t idx[GT_MAX_DIMS] = {0}, sstride[GT_MAX_DIMS];
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) sstride[d] = s, s *= src->shape[d];
    const float *a = gt_data(src);
    float *b = gt_data(dst);
    const int64_t n = gt_numel(dst);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < nd; d++) off += (map[d] ? map[d][idx[d]] : idx[d]) * sstride[d];
        b[i] = a[off];
        for (int d = nd - 1; d >= 0 && ++idx[d] == dst->shape[d]; d--) idx[d] = 0;
    }
}

gt_status gt_prune_indices(const gt_net *T, const int *widths, const int *const *keep, gt_net *student) {
    if (!student) return gt_set_error(GT_ERR_ARG, "gt_prune: student is NULL");
    memset(student, 0, sizeof *student);
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    const int n = gt_prune_groups(T, g, GT_PRUNE_GROUPS_MAX);
    if (n < 0) return gt_last_status();
    if (!widths || !keep) return gt_set_error(GT_ERR_ARG, "gt_prune: widths or kept channels are NULL");
    gt_model_config c = T->cfg;
    for (int i = 0; i < n; i++) {
        if (widths[i] < 1 || widths[i] > g[i].size)
            return gt_set_error(GT_ERR_ARG, "channel group %s has %d channels: width %d is outside 1..%d", g[i].opt_key,
                                g[i].size, widths[i], g[i].size);
        for (int k = 0; k < widths[i]; k++)
            if (keep[i][k] < 0 || keep[i][k] >= g[i].size || (k && keep[i][k] <= keep[i][k - 1]))
                return gt_set_error(GT_ERR_ARG, "channel group %s: kept channels must be ascending in 0..%d",
                                    g[i].opt_key, g[i].size - 1);
        gt_status st = gt_model_opt_set(&c, g[i].opt_key, widths[i]);
        if (st != GT_OK) return st;
    }
    gt_rng r;
    gt_rng_init(&r, 0);
    gt_status st = gt_model_build(&c, GT_NET_G, &r, student);
    for (int p = 0; st == GT_OK && p < student->P.n; p++) {
        const gt_param *sp = &student->P.v[p];
        gt_tensor *src = gt_params_get(&T->P, sp->name), *dst = sp->t;
        if (!src || src->ndim != dst->ndim || !gt_is_contiguous(src) || !gt_is_contiguous(dst)) {
            st = gt_set_error(GT_ERR_SHAPE, "pruned model %s has %s, which the teacher %s", c.name, sp->name,
                              src ? "has in another form" : "does not have");
            break;
        }
        const int *map[GT_MAX_DIMS] = {NULL};
        int want[GT_MAX_DIMS];
        for (int d = 0; d < dst->ndim; d++) want[d] = (int)src->shape[d];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < g[i].n_refs; k++)
                if (!strcmp(g[i].refs[k].param, sp->name)) {
                    map[g[i].refs[k].dim] = keep[i];
                    want[g[i].refs[k].dim] = widths[i];
                }
        for (int d = 0; d < dst->ndim && st == GT_OK; d++)
            if (dst->shape[d] != want[d])
                st = gt_set_error(GT_ERR_SHAPE, "pruned model %s: %s dim %d has %lld entries, the groups give %d (the "
                                  "family's channel groups miss a tensor its widths change)",
                                  c.name, sp->name, d, (long long)dst->shape[d], want[d]);
        if (st == GT_OK) gt__gather(src, dst, map);
    }
    if (st == GT_OK && student->P.n != T->P.n)
        st = gt_set_error(GT_ERR_SHAPE, "pruned model %s has %d tensors, the teacher %d", c.name, student->P.n, T->P.n);
    if (st != GT_OK) {
        gt_status keep_st = gt_last_status();
        char msg[600];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_net_free(student);
        memset(student, 0, sizeof *student);
        return gt_set_error(keep_st ? keep_st : st, "%s", msg);
    }
    return GT_OK;
}

/* big's entries at map (the inverse of gt__gather) += small's (add), or := small's. */
static void gt__scatter(float *big, const int64_t *bshape, const float *small, const gt_tensor *shape_of,
                        const int *const *map, bool add) {
    const int nd = shape_of->ndim;
    int64_t idx[GT_MAX_DIMS] = {0}, bstride[GT_MAX_DIMS];
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) bstride[d] = s, s *= bshape[d];
    const int64_t n = gt_numel(shape_of);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < nd; d++) off += (map[d] ? map[d][idx[d]] : idx[d]) * bstride[d];
        big[off] = add ? big[off] + small[i] : small[i];
        for (int d = nd - 1; d >= 0 && ++idx[d] == shape_of->shape[d]; d--) idx[d] = 0;
    }
}

gt_status gt_prune_scatter_back(gt_net *T, const int *const *keep, const gt_net *student) {
    if (!T || !keep || !student) return gt_set_error(GT_ERR_ARG, "gt_prune_scatter_back: NULL argument");
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    const int n = gt_prune_groups(T, g, GT_PRUNE_GROUPS_MAX);
    if (n < 0) return gt_last_status();
    if (student->P.n != T->P.n)
        return gt_set_error(GT_ERR_SHAPE, "scatter back: the student has %d tensors, the supernet %d", student->P.n,
                            T->P.n);
    for (int p = 0; p < student->P.n; p++) {
        const gt_param *sp = &student->P.v[p];
        gt_tensor *dst = gt_params_get(&T->P, sp->name), *src = sp->t;
        if (!dst || dst->ndim != src->ndim || !gt_is_contiguous(dst) || !gt_is_contiguous(src))
            return gt_set_error(GT_ERR_SHAPE, "scatter back: %s is not a sub-tensor of the supernet's", sp->name);
        const int *map[GT_MAX_DIMS] = {NULL};
        for (int i = 0; i < n; i++)
            for (int k = 0; k < g[i].n_refs; k++)
                if (!strcmp(g[i].refs[k].param, sp->name)) map[g[i].refs[k].dim] = keep[i];
        for (int d = 0; d < src->ndim; d++)
            if (src->shape[d] > dst->shape[d] || (!map[d] && src->shape[d] != dst->shape[d]))
                return gt_set_error(GT_ERR_SHAPE, "scatter back: %s dim %d has %lld entries, the supernet's %lld",
                                    sp->name, d, (long long)src->shape[d], (long long)dst->shape[d]);
        if (sp->is_buffer) {
            gt__scatter(gt_data(dst), dst->shape, gt_data(src), src, map, false);
        } else if (src->grad && dst->grad) {
            gt__scatter(gt_data(dst->grad), dst->shape, gt_data(src->grad), src, map, true);
        }
    }
    return GT_OK;
}

gt_status gt_prune(const gt_net *T, const int *widths, gt_importance imp, gt_net *student) {
    if (!student) return gt_set_error(GT_ERR_ARG, "gt_prune: student is NULL");
    memset(student, 0, sizeof *student);
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    const int n = gt_prune_groups(T, g, GT_PRUNE_GROUPS_MAX);
    if (n < 0) return gt_last_status();
    if (!widths) return gt_set_error(GT_ERR_ARG, "gt_prune: widths is NULL");
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (widths[i] < 1 || widths[i] > g[i].size)
            return gt_set_error(GT_ERR_ARG, "channel group %s has %d channels: width %d is outside 1..%d", g[i].opt_key,
                                g[i].size, widths[i], g[i].size);
        total += widths[i];
    }
    int *buf = malloc((size_t)total * sizeof *buf);
    if (!buf) return gt_set_error(GT_ERR_OOM, "gt_prune: out of memory");
    const int *keep[GT_PRUNE_GROUPS_MAX];
    gt_status st = GT_OK;
    int64_t off = 0;
    for (int i = 0; i < n && st == GT_OK; i++) {
        keep[i] = buf + off;
        st = gt_prune_select(T, &g[i], imp, widths[i], buf + off);
        off += widths[i];
    }
    if (st == GT_OK) st = gt_prune_indices(T, widths, keep, student);
    free(buf);
    return st;
}

gt_status gt_model_cost(const gt_model_config *c, int64_t *macs, int64_t *params) {
    if (!c) return gt_set_error(GT_ERR_ARG, "gt_model_cost: config is NULL");
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 0);
    gt_status st = gt_model_build(c, GT_NET_G, &r, &G);
    gt_prog p;
    if (st == GT_OK) st = gt_prog_from_net(&G, &p);
    if (st == GT_OK) {
        if (macs) *macs = gt_prog_macs(&p);
        if (params) *params = gt_prog_params(&p);
        gt_prog_free(&p);
    }
    gt_net_free(&G);
    return st;
}

gt_status gt_prune_write_checkpoint(const char *teacher_ckpt, const gt_net *S, const char *path) {
    if (!teacher_ckpt || !S || !S->ops || !path)
        return gt_set_error(GT_ERR_ARG, "gt_prune_write_checkpoint: NULL argument");
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt_st_load(&s, teacher_ckpt);
    if (st != GT_OK) return st;
    const char *json = gt_st_get_meta(&s, "config");
    gt_train_config c = gt_train_config_default();
    if (!json) st = gt_set_error(GT_ERR_FORMAT, "%s: not a gantry training checkpoint (no \"config\")", teacher_ckpt);
    if (st == GT_OK) st = gt_train_config_from_json(&c, json, teacher_ckpt);
    if (st == GT_OK && strcmp(c.model.name, S->cfg.name))
        st = gt_set_error(GT_ERR_ARG, "%s holds a %s model, the pruned one is %s", teacher_ckpt, c.model.name,
                          S->cfg.name);
    gt_trainer t;
    memset(&t, 0, sizeof t);
    if (st == GT_OK) {
        gt_train_config sc = c;
        sc.model = S->cfg;
        sc.data[0] = '\0'; /* no data opened here; the saved config keeps the teacher's */
        st = gt_trainer_init(&t, &sc, NULL);
    }
    if (st == GT_OK) st = gt_params_copy(&t.G.P, &S->P);
    if (st == GT_OK && t.has_ema) st = gt_params_copy(&t.G_ema.P, &S->P); /* the EMA's average is G_ema's slab */
    if (st == GT_OK && t.D.P.n > 0) {
        char first[300];
        snprintf(first, sizeof first, "D.%s", t.D.P.v[0].name);
        if (gt_st_find(&s, first)) { /* the teacher's D: the same architecture */
            gt_ckpt k;
            gt_ckpt_init(&k);
            st = gt_ckpt_add_params(&k, "D.", &t.D.P);
            if (st == GT_OK) st = gt_ckpt_apply(&k, &s, GT_CKPT_ALLOW_EXTRA);
            gt_ckpt_free(&k);
        }
    }
    if (st == GT_OK) {
        gt_train_config full = t.cfg;
        snprintf(full.data, sizeof full.data, "%s", c.data);
        char *cj = gt_train_config_to_json(&full);
        st = cj ? gt_ckpt_set_meta(&t.ckpt, "config", cj) : gt_set_error(GT_ERR_OOM, "out of memory");
        free(cj);
    }
    if (st == GT_OK) st = gt_ckpt_set_meta(&t.ckpt, "pruned_from", teacher_ckpt);
    if (st == GT_OK) st = gt_trainer_save(&t, path);
    gt_trainer_free(&t);
    gt_st_free(&s);
    return st;
}
