/* --eval-every: FID of the sampling generator against the training data, with
 * the chosen extractor, logged into the run's metrics.jsonl by run.c. */
#include <math.h>
#include <string.h>

#include "gantry/metrics.h"
#include "gantry/train.h"

#define GT__EVAL_SEED 0x6576616cULL /* latents of the fake half: the same every evaluation */

typedef struct {
    gt_extractor ex;
    gt_fid_stats real;
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
    gt_tensor *z = gt_sample_latents(GT__EVAL_SEED + (uint64_t)start, count, t->cfg.model.nz, 0.0f);
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

static gt_status gt__stats_of(gt__eval_state *e, gt_image_source *src, int64_t n, gt_fid_stats *out) {
    gt_feature_set fs = {0};
    gt_status st = src ? gt_features_extract(&e->ex, src, n, false, NULL, NULL, &fs) : gt_last_status();
    if (st == GT_OK) st = gt_fid_stats_compute(fs.feats, fs.n, fs.dim, out);
    gt_feature_set_free(&fs);
    gt_image_source_free(src);
    return st;
}

void gt_train_eval_free(gt_trainer *t) {
    gt__eval_state *e = t ? t->eval : NULL;
    if (!e) return;
    gt_extractor_free(&e->ex);
    gt_fid_stats_free(&e->real);
    free(e);
    t->eval = NULL;
}

gt_status gt_train_eval_fid(gt_trainer *t, double *fid) {
    if (!t || !fid) return gt_set_error(GT_ERR_ARG, "gt_train_eval_fid: NULL argument");
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
    if (!e->ready) {
        gt_image_source *real =
            gt_image_source_from_fn("training data", n, t->ds->c, t->ds->h, t->ds->w, gt__real_read, t->ds, NULL);
        gt_status st = gt__stats_of(e, real, n, &e->real);
        if (st != GT_OK) return st;
        e->ready = true;
    }
    gt_status pst = gt_trainer_prepare_sampler(t); /* once: every chunk uses the same BN statistics */
    if (pst != GT_OK) return pst;
    gt__fake_ctx ctx = {t};
    gt_image_source *fake = gt_image_source_from_fn("generator", n, c->model.channels, c->model.res, c->model.res,
                                                    gt__fake_read, &ctx, NULL);
    gt_fid_stats fs = {0};
    gt_status st = gt__stats_of(e, fake, n, &fs);
    if (st == GT_OK) st = gt_metric_fid(&e->real, &fs, fid);
    gt_fid_stats_free(&fs);
    return st;
}
