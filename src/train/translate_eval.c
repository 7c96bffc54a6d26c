/* Translating with a translator's generator (gantry/translate.h): the task's (A, B) from the data
 * (gt_translate_input: the one place it is chosen), a batch in eval mode, and the FID of G(A)
 * against the items B. */
#include <stdlib.h>
#include <string.h>

#include "gantry/data.h"
#include "gantry/metrics.h"
#include "gantry/translate.h"

#define GT__TR_CHUNK 256

static gt_status gt__tr_check(const gt_net *G) {
    if (!G || !G->ops || G->kind != GT_NET_G) return gt_set_error(GT_ERR_ARG, "gt_translate: not a built generator");
    const gt_model_entry *e = gt_model_find(G->cfg.name);
    if (!e) return gt_last_status();
    if (!e->translator)
        return gt_set_error(GT_ERR_ARG, "model %s is not an image-to-image translator (it generates from latents)",
                            G->cfg.name);
    return GT_OK;
}

/* G over n images in (n, C, res, res) floats -> out, chunk by chunk, eval mode, no graph. */
static gt_status gt__tr_run(gt_net *G, const float *in, int64_t n, float *out) {
    const gt_model_config *c = &G->cfg;
    const int64_t per = (int64_t)c->channels * c->res * c->res;
    bool prev = gt_no_grad_begin();
    gt_status st = GT_OK;
    for (int64_t i = 0; i < n && st == GT_OK; i += GT__TR_CHUNK) {
        const int64_t k = n - i < GT__TR_CHUNK ? n - i : GT__TR_CHUNK;
        int m = gt_scope_begin();
        gt_tensor *a = gt_from_data(4, (const int64_t[]){k, c->channels, c->res, c->res}, in + i * per);
        gt_tensor *y = a ? gt_contiguous(gt_net_forward(G, a, GT_BN_EVAL)) : NULL;
        if (y) memcpy(out + i * per, gt_data(y), (size_t)(k * per) * sizeof(float));
        else st = gt_last_status() ? gt_last_status() : GT_ERR_OOM;
        gt_scope_end(m);
    }
    gt_grad_mode_restore(prev);
    return st;
}

gt_tensor *gt_translate_input(gt_tensor *b, gt_tensor *a_data) {
    if (!b) return NULL;
    if (!a_data) return gt_edges(b); /* the edges -> item task */
    if (!gt_same_shape(a_data, b)) {
        char s1[64], s2[64];
        gt_set_error(GT_ERR_SHAPE, "gt_translate_input: inputs A %s for images B %s", gt_shape_str(a_data, s1, sizeof s1),
                     gt_shape_str(b, s2, sizeof s2));
        return NULL;
    }
    return a_data; /* paired data: its own A */
}

gt_status gt_translate_pair(const gt_dataset *ds, int64_t start, int64_t count, gt_tensor **a, gt_tensor **b) {
    if (a) *a = NULL;
    if (b) *b = NULL;
    if (!ds) return gt_set_error(GT_ERR_ARG, "gt_translate_pair: no dataset");
    gt_tensor *tb = gt_dataset_slice(ds, start, count);
    gt_tensor *ta = tb && a && ds->pixels_a ? gt_dataset_slice_a(ds, start, count) : NULL;
    if (!tb || (a && ds->pixels_a && !ta)) return gt_last_status();
    if (a && !(*a = gt_translate_input(tb, ta))) return gt_last_status();
    if (b) *b = tb;
    return GT_OK;
}

gt_status gt_translate_pair_open(const char *spec, int64_t n, int res, int channels, const char *what, gt_tensor **a,
                                 gt_tensor **b) {
    if (a) *a = NULL;
    if (b) *b = NULL;
    if (!spec || n < 1) return gt_set_error(GT_ERR_ARG, "gt_translate_pair_open: a spec and n >= 1");
    gt_dataset_opts o = {.limit = n};
    gt_dataset *ds = gt_dataset_open(spec, res, channels, &o);
    if (!ds) return gt_last_status();
    gt_status st = ds->n == n ? gt_translate_pair(ds, 0, n, a, b)
                              : gt_set_error(GT_ERR_ARG, "%s has %lld items, fewer than %s %lld", spec, (long long)ds->n,
                                             what ? what : "n", (long long)n);
    gt_dataset_free(ds);
    return st;
}

gt_tensor *gt_translate(gt_net *G, gt_tensor *a) {
    if (!a || gt__tr_check(G) != GT_OK) return NULL;
    const gt_model_config *c = &G->cfg;
    if (a->ndim != 4 || a->shape[0] < 1 || a->shape[1] != c->channels || a->shape[2] != c->res ||
        a->shape[3] != c->res) {
        char s[64];
        gt_set_error(GT_ERR_SHAPE, "gt_translate: %s wants images (N, %d, %d, %d), got %s", c->name, c->channels,
                     c->res, c->res, gt_shape_str(a, s, sizeof s));
        return NULL;
    }
    gt_tensor *ac = gt_contiguous(a);
    gt_tensor *out = ac ? gt_empty(4, a->shape) : NULL;
    if (!out || gt__tr_run(G, gt_data(ac), a->shape[0], gt_data(out)) != GT_OK) return NULL;
    return out;
}

gt_status gt_translate_fid(gt_net *G, const char *real_spec, int64_t n, const char *extractor, double *fid) {
    gt_status st = gt__tr_check(G);
    if (st != GT_OK) return st;
    if (!real_spec || !fid || n < 0) return gt_set_error(GT_ERR_ARG, "gt_translate_fid: bad arguments");
    const gt_model_config *c = &G->cfg;
    gt_dataset_opts o = {.limit = n};
    gt_dataset *ds = gt_dataset_open(real_spec, c->res, c->channels, &o);
    if (!ds) return gt_last_status();
    if (ds->n < 2) {
        gt_dataset_free(ds);
        return gt_set_error(GT_ERR_ARG, "%s: FID needs at least 2 items", real_spec);
    }
    const int64_t total = ds->n;
    float *items = malloc((size_t)(total * c->channels * c->res * c->res) * sizeof(float));
    if (!items) st = gt_set_error(GT_ERR_OOM, "gt_translate_fid: out of memory for %lld images", (long long)total);
    int m = gt_scope_begin();
    gt_tensor *a = NULL;
    if (st == GT_OK) st = gt_translate_pair(ds, 0, total, &a, NULL);
    gt_dataset_free(ds);
    if (st == GT_OK) st = gt__tr_run(G, gt_data(a), total, items);
    gt_scope_end(m);
    if (st == GT_OK) st = gt_fid_images(extractor, items, total, c->channels, c->res, c->res, real_spec, total, fid);
    free(items);
    return st;
}
