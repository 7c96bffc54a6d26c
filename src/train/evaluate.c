/* --eval-every: the chosen metrics (--eval-metrics: FID by default, KID, IS,
 * precision/recall, density/coverage) of the sampling generator against the
 * training data, with the chosen extractor, logged into the run's
 * metrics.jsonl by run.c. */
#include <math.h>
#include <string.h>

#include "gantry/metrics.h"
#include "gantry/train.h"

#define GT__EVAL_SEED 0x6576616cULL /* latents of the fake half: the same every evaluation */

typedef struct {
    gt_extractor ex;
    gt_fid_stats real;     /* FID statistics of the real side */
    gt_feature_set real_f; /* its features, kept when KID, PR or DC is asked for */
    bool ready;
} gt__eval_state;

typedef struct {
    gt_trainer *t;
} gt__fake_ctx;

/* Real images: the first n images of the training data, in source order. */
static gt_status gt__real_read(void *ctx, int64_t start, int64_t count, uint8_t *out) {
    const gt_dataset *ds = ctx;
    int64_t per = (int64_t)ds->c * ds->h * ds->w;
    memcpy(out, gt_dataset_image(ds, start), (size_t)(count * per));
    return GT_OK;
}

/* Fake images: the generator on seeded latents, mapped from [-1, 1] to 0..255
 * as a saved PNG would be. */
static gt_status gt__fake_read(void *ctx, int64_t start, int64_t count, uint8_t *out) {
    gt_trainer *t = ((gt__fake_ctx *)ctx)->t;
    int m = gt_scope_begin();
    gt_status st = GT_OK;
    gt_tensor *z = gt_sample_latents_for(&t->cfg.model, GT__EVAL_SEED + (uint64_t)start, count, 0.0f);
    gt_tensor *x = z ? gt_generate(&t->G_sample, z) : NULL;
    if (!x) {
        st = gt_last_status() ? gt_last_status() : GT_ERR_STATE;
    } else {
        const float *p = gt_data(x);
        int64_t n = gt_numel(x);
        for (int64_t i = 0; i < n; i++) {
            float v = (p[i] + 1.0f) * 127.5f + 0.5f;
            out[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : (int)v);
        }
    }
    gt_scope_end(m);
    return st;
}

/* Features of n images of src (freed here), with logits when asked. */
static gt_status gt__features_of(gt__eval_state *e, gt_image_source *src, int64_t n, bool logits, gt_feature_set *fs) {
    memset(fs, 0, sizeof *fs);
    gt_status st = src ? gt_features_extract(&e->ex, src, n, logits, NULL, NULL, fs) : gt_last_status();
    gt_image_source_free(src);
    return st;
}

void gt_train_eval_free(gt_trainer *t) {
    gt__eval_state *e = t ? t->eval : NULL;
    if (!e) return;
    gt_extractor_free(&e->ex);
    gt_fid_stats_free(&e->real);
    gt_feature_set_free(&e->real_f);
    free(e);
    t->eval = NULL;
}

gt_status gt_eval_metrics_parse(const char *list, unsigned *mask) {
    gt_status st = gt_metrics_parse(list, mask);
    if (st) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_set_error(st, "eval-metrics: %s", msg);
    }
    return st;
}

static gt_status gt__eval_prepare(gt_trainer *t, unsigned mask, int64_t *n_out, gt__eval_state **out) {
    if (!t->ds) return gt_set_error(GT_ERR_STATE, "evaluation needs the training data set (--data)");
    const gt_train_config *c = &t->cfg;
    int64_t n = c->eval_n;
    if (n > t->ds->n) n = t->ds->n;
    gt__eval_state *e = t->eval;
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e) return gt_set_error(GT_ERR_OOM, "out of memory");
        t->eval = e;
        gt_status st = gt_extractor_open(c->eval_extractor, NULL, &e->ex);
        if (st != GT_OK) return st;
    }
    if ((mask & GT_EVAL_IS) && e->ex.logits_dim <= 0)
        return gt_set_error(GT_ERR_ARG, "eval-metrics: the Inception Score needs class logits, which the %s extractor "
                            "does not have", e->ex.name);
    const bool keep = mask & (GT_EVAL_KID | GT_EVAL_PR | GT_EVAL_DC);
    if (!e->ready || (keep && !e->real_f.feats)) {
        gt_image_source *real =
            gt_image_source_from_fn("training data", n, t->ds->c, t->ds->h, t->ds->w, gt__real_read, t->ds, NULL);
        gt_feature_set fs;
        gt_status st = gt__features_of(e, real, n, false, &fs);
        if (st == GT_OK && !e->ready) st = gt_fid_stats_compute(fs.feats, fs.n, fs.dim, &e->real);
        if (st == GT_OK && keep) {
            e->real_f = fs;
            fs.feats = NULL;
        }
        gt_feature_set_free(&fs);
        if (st != GT_OK) return st;
        e->ready = true;
    }
    *n_out = n;
    *out = e;
    return gt_trainer_prepare_sampler(t); /* once: every chunk uses the same BN statistics */
}

static gt_status gt__eval(gt_trainer *t, unsigned mask, gt_train_eval_result *r) {
    r->mask = mask;
    for (double *d = &r->fid; d <= &r->coverage; d++) *d = NAN;
    gt__eval_state *e = NULL;
    int64_t n = 0;
    gt_status st = gt__eval_prepare(t, mask, &n, &e);
    if (st != GT_OK) return st;
    const gt_train_config *c = &t->cfg;
    gt__fake_ctx ctx = {t};
    gt_image_source *fake = gt_image_source_from_fn("generator", n, c->model.channels, c->model.res, c->model.res,
                                                    gt__fake_read, &ctx, NULL);
    gt_feature_set ff;
    gt_fid_stats fs = {0};
    st = gt__features_of(e, fake, n, mask & GT_EVAL_IS, &ff);
    if (st == GT_OK && (mask & GT_EVAL_FID)) st = gt_fid_stats_compute(ff.feats, ff.n, ff.dim, &fs);
    if (st == GT_OK) {
        gt_metrics_opts o = gt_metrics_default_opts();
        o.kid.subset_size = 0; /* min(1000, n): a short evaluation still gets a KID */
        st = gt_metrics_compute(mask, &o, &e->real, &e->real_f, &fs, &ff, r);
    }
    gt_fid_stats_free(&fs);
    gt_feature_set_free(&ff);
    return st;
}

gt_status gt_train_eval(gt_trainer *t, gt_train_eval_result *r) {
    if (!t || !r) return gt_set_error(GT_ERR_ARG, "gt_train_eval: NULL argument");
    unsigned mask;
    gt_status st = gt_eval_metrics_parse(t->cfg.eval_metrics, &mask);
    return st == GT_OK ? gt__eval(t, mask, r) : st;
}

gt_status gt_train_eval_fid(gt_trainer *t, double *fid) {
    if (!t || !fid) return gt_set_error(GT_ERR_ARG, "gt_train_eval_fid: NULL argument");
    gt_train_eval_result r;
    gt_status st = gt__eval(t, GT_EVAL_FID, &r);
    if (st == GT_OK) *fid = r.fid;
    return st;
}
