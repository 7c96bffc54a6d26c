/* Translating with a translator's generator (gantry/translate.h): a batch in eval mode, and the FID
 * of G(edges(items)) against the items. */
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
    const int64_t total = ds->n, per = (int64_t)c->channels * c->res * c->res;
    float *items = malloc((size_t)(total * per) * sizeof(float));
    float *edges = malloc((size_t)(total * per) * sizeof(float));
    if (!items || !edges)
        st = gt_set_error(GT_ERR_OOM, "gt_translate_fid: out of memory for %lld images", (long long)total);
    if (st == GT_OK) st = gt_dataset_read_f32(ds, 0, total, items);
    gt_dataset_free(ds);
    if (st == GT_OK) st = gt_edges_f32(items, total, c->channels, c->res, c->res, edges);
    if (st == GT_OK) st = gt__tr_run(G, edges, total, items); /* the translations replace the items */
    if (st == GT_OK) st = gt_fid_images(extractor, items, total, c->channels, c->res, c->res, real_spec, total, fid);
    free(items);
    free(edges);
    return st;
}
