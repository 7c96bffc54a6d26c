/* Sampling: latents from a seed (with truncation), spherical interpolation,
 * batch-norm recalibration, generation in chunks, and loading a generator
 * from a training checkpoint. */
#include <math.h>
#include <string.h>

#include "gantry/train.h"

#define GT__GEN_CHUNK 256

gt_tensor *gt_sample_latents(uint64_t seed, int64_t n, int nz, float truncation) {
    if (n < 1 || nz < 1) {
        gt_set_error(GT_ERR_ARG, "gt_sample_latents: n %lld and nz %d must be positive", (long long)n, nz);
        return NULL;
    }
    if (!(truncation >= 0) || (truncation > 0 && truncation < 0.05f)) {
        gt_set_error(GT_ERR_ARG, "gt_sample_latents: truncation %g must be 0 (off) or >= 0.05", truncation);
        return NULL;
    }
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_tensor *z = gt_randn(&r, GT_SHAPE(n, nz)); // (n, nz)
    if (!z || truncation <= 0) return z;
    /* redraws come from a second stream so image i does not depend on n */
    gt_rng r2;
    gt_rng_init(&r2, seed ^ 0xC3A5C85C97CB3127ull);
    float *p = gt_data(z);
    for (int64_t i = 0; i < n * nz; i++)
        while (fabsf(p[i]) > truncation) gt_rng_normal(&r2, &p[i], 1, 0.0f, 1.0f);
    return z;
}

gt_tensor *gt_sample_latents_for(const gt_model_config *c, uint64_t seed, int64_t n, float truncation) {
    const gt_model_entry *e = c ? gt_model_find(c->name) : NULL;
    if (!e) return NULL;
    if (!e->sample_latents) return gt_sample_latents(seed, n, c->nz, truncation);
    if (truncation > 0) {
        gt_set_error(GT_ERR_ARG, "truncation is for N(0, 1) latents; model %s draws its own (codes)", c->name);
        return NULL;
    }
    gt_rng r;
    gt_rng_init(&r, seed);
    return e->sample_latents(c, &r, n);
}

gt_tensor *gt_slerp_latents(gt_tensor *a, gt_tensor *b, int n) {
    if (!a || !b) return NULL;
    if (!gt_same_shape(a, b) || a->ndim != 1 || n < 2) {
        gt_set_error(GT_ERR_ARG, "gt_slerp_latents: a and b must be the same (nz) vectors and n >= 2 (n = %d)", n);
        return NULL;
    }
    int64_t nz = a->shape[0];
    gt_tensor *out = gt_empty(GT_SHAPE(n, nz)); // (n, nz)
    if (!out) return NULL;
    float *pa = malloc((size_t)nz * 2 * sizeof *pa);
    if (!pa) {
        gt_set_error(GT_ERR_OOM, "gt_slerp_latents: out of memory");
        return NULL;
    }
    float *pb = pa + nz;
    gt_copy_to(a, pa);
    gt_copy_to(b, pb);
    double na = 0, nb = 0, dot = 0;
    for (int64_t k = 0; k < nz; k++)
        na += (double)pa[k] * pa[k], nb += (double)pb[k] * pb[k], dot += (double)pa[k] * pb[k];
    double cosv = (na > 0 && nb > 0) ? dot / sqrt(na * nb) : 1.0;
    cosv = cosv > 1 ? 1 : cosv < -1 ? -1 : cosv;
    double omega = acos(cosv), so = sin(omega);
    float *o = gt_data(out);
    for (int i = 0; i < n; i++) {
        double t = (double)i / (n - 1), wa, wb;
        if (so < 1e-6) wa = 1 - t, wb = t; /* (nearly) parallel: linear */
        else wa = sin((1 - t) * omega) / so, wb = sin(t * omega) / so;
        for (int64_t k = 0; k < nz; k++) o[i * nz + k] = (float)(wa * pa[k] + wb * pb[k]);
    }
    free(pa);
    return out;
}

gt_status gt_recalibrate_bn(gt_net *G, uint64_t seed, int nbatches, int batch) {
    if (!G || !G->ops || G->kind != GT_NET_G) return gt_set_error(GT_ERR_ARG, "gt_recalibrate_bn: not a generator");
    if (nbatches < 1 || batch < 2) return gt_set_error(GT_ERR_ARG, "gt_recalibrate_bn: need >= 1 batches of >= 2");
    /* running = batch statistics averaged with equal weights: momentum 1/(k+1) */
    gt_rng r;
    gt_rng_init(&r, seed);
    bool prev = gt_no_grad_begin();
    gt_status st = GT_OK;
    for (int k = 0; k < nbatches && st == GT_OK; k++) {
        int m = gt_scope_begin();
        gt_net_set_bn_momentum(G, 1.0f / (float)(k + 1));
        gt_tensor *z = gt_randn(&r, GT_SHAPE(batch, G->cfg.nz));
        if (!gt_net_forward(G, z, GT_BN_TRAIN)) st = gt_last_status();
        gt_scope_end(m);
    }
    gt_net_set_bn_momentum(G, 0.1f);
    gt_grad_mode_restore(prev);
    return st;
}

gt_tensor *gt_generate(gt_net *G, gt_tensor *z) { return gt_generate_y(G, z, NULL); }

gt_tensor *gt_generate_y(gt_net *G, gt_tensor *z, gt_tensor *y) {
    if (!G || !G->ops || G->kind != GT_NET_G) {
        gt_set_error(GT_ERR_ARG, "gt_generate: not a generator");
        return NULL;
    }
    if (!z) return NULL;
    if (z->ndim != 2 || z->shape[1] != G->cfg.nz || z->shape[0] < 1) {
        char s[64];
        gt_set_error(GT_ERR_SHAPE, "gt_generate: latents must be (N, %d), got %s", G->cfg.nz,
                     gt_shape_str(z, s, sizeof s));
        return NULL;
    }
    const gt_model_config *c = &G->cfg;
    int64_t n = z->shape[0], per = (int64_t)c->channels * c->res * c->res;
    if (c->n_classes > 0 && !y) y = gt_labels_cycle(n, c->n_classes); /* every class alike, across the chunks */
    if (y && (y->ndim != 1 || y->shape[0] != n)) {
        char s[64];
        gt_set_error(GT_ERR_SHAPE, "gt_generate: labels must be (%lld), got %s", (long long)n,
                     gt_shape_str(y, s, sizeof s));
        return NULL;
    }
    gt_tensor *out = gt_empty(GT_SHAPE(n, c->channels, c->res, c->res));
    if (!out) return NULL;
    bool prev = gt_no_grad_begin();
    bool ok = true;
    for (int64_t s = 0; s < n && ok; s += GT__GEN_CHUNK) {
        int m = gt_scope_begin();
        int64_t k = n - s < GT__GEN_CHUNK ? n - s : GT__GEN_CHUNK;
        gt_tensor *x = gt_net_forward_y(G, gt_slice(z, 0, s, s + k, 1), y ? gt_contiguous(gt_slice(y, 0, s, s + k, 1)) : NULL,
                                        GT_BN_EVAL);
        ok = x && gt_copy_to(x, gt_data(out) + s * per) == GT_OK;
        gt_scope_end(m);
    }
    gt_grad_mode_restore(prev);
    return ok ? out : NULL;
}

gt_status gt_load_generator(const char *path, bool use_ema, gt_net *G, gt_train_config *cfg, bool *used_ema) {
    if (!path || !G) return gt_set_error(GT_ERR_ARG, "gt_load_generator: path or G is NULL");
    memset(G, 0, sizeof *G);
    gt_params_init(&G->P);
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt_st_load(&s, path);
    if (st != GT_OK) return st;
    const char *json = gt_st_get_meta(&s, "config");
    gt_train_config c = gt_train_config_default();
    if (!json) {
        gt_st_free(&s);
        return gt_set_error(GT_ERR_FORMAT, "%s: not a gantry training checkpoint (no \"config\" in its metadata)",
                            path);
    }
    st = gt_train_config_from_json(&c, json, path);
    if (st == GT_OK) st = gt_train_config_check(&c);
    if (st != GT_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_st_free(&s);
        return gt_set_error(GT_ERR_FORMAT, "%s: its config does not describe a model gantry can build: %s", path, msg);
    }
    gt_rng r;
    gt_rng_init(&r, 0);
    st = gt_model_build(&c.model, GT_NET_G, &r, G);
    bool ema = false;
    if (st == GT_OK) {
        char first[300];
        snprintf(first, sizeof first, "G_ema.%s", G->P.v[0].name);
        ema = use_ema && gt_st_find(&s, first) != NULL;
        gt_ckpt k;
        gt_ckpt_init(&k);
        st = gt_ckpt_add_params(&k, ema ? "G_ema." : "G.", &G->P);
        if (st == GT_OK) st = gt_ckpt_apply(&k, &s, GT_CKPT_ALLOW_EXTRA);
        gt_ckpt_free(&k);
    }
    gt_st_free(&s);
    if (st != GT_OK) {
        gt_status keep = gt_last_status();
        char msg[600];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_net_free(G);
        gt_set_error(keep ? keep : st, "%s", msg);
        return st;
    }
    if (cfg) *cfg = c;
    if (used_ema) *used_ema = ema;
    return GT_OK;
}
