/* The training configuration: defaults, checks with messages that name the
 * field, and the JSON form written to config.json and into checkpoints. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/device.h"
#include "gantry/train.h"

gt_train_config gt_train_config_default(void) {
    gt_train_config c;
    memset(&c, 0, sizeof c);
    c.model = gt_model_config_default("dcgan");
    gt_model_opt_set(&c.model, "d_norm", GT_NORM_DEFAULT); /* resolved from the loss by the check */
    c.clip = GT_CLIP_DEFAULT;
    c.steps = 2000;
    c.batch = 64;
    c.lr_g = 2e-4, c.lr_d = 2e-4;
    c.beta1 = 0.5, c.beta2 = 0.999;
    c.n_critic = 1;
    c.reg_every = 1;
    c.ema = 0.999;
    c.loss = GT_LOSS_NS;
    c.log_every = 50;
    c.sample_every = 500;
    c.eval_n = 2000;
    snprintf(c.eval_extractor, sizeof c.eval_extractor, "fmnist");
    snprintf(c.eval_metrics, sizeof c.eval_metrics, "fid");
    c.ckpt_every = 1000;
    c.keep_ckpts = 2;
    c.n_samples = 64;
    snprintf(c.augment, sizeof c.augment, "none");
    c.ada_target = 0.6, c.ada_kimg = 500, c.ada_interval = 4, c.ada_p = 0;
    c.zcr_sigma = 0.05, c.lecam_decay = 0.99;
    c.bucket_mb = 1;
    return c;
}

#define GT__STEPS_MAX ((int64_t)1 << 40)

/* The augmentation and consistency settings (GT_ERR_ARG naming the flag). */
static gt_status gt__check_augment(gt_train_config *c) {
    if (!c->augment[0]) snprintf(c->augment, sizeof c->augment, "none");
    if (!(c->ada_p >= 0 && c->ada_p <= 1)) return gt_set_error(GT_ERR_ARG, "ada-p must be in [0, 1], got %g", c->ada_p);
    if (!(c->ada_target > 0 && c->ada_target <= 1))
        return gt_set_error(GT_ERR_ARG, "ada-target must be in (0, 1], got %g", c->ada_target);
    if (!(c->ada_kimg > 0 && c->ada_kimg <= 1e9))
        return gt_set_error(GT_ERR_ARG, "ada-kimg must be in (0, 1e9], got %g", c->ada_kimg);
    if (c->ada_interval < 1 || c->ada_interval > 1000000)
        return gt_set_error(GT_ERR_ARG, "ada-interval must be in 1..1000000, got %d", c->ada_interval);
    const struct { const char *flag; double v; } w[] = {
        {"cr", c->cr}, {"bcr-real", c->bcr_real}, {"bcr-fake", c->bcr_fake}, {"zcr-dis", c->zcr_dis},
        {"zcr-gen", c->zcr_gen}, {"lecam", c->lecam},
    };
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        if (!(w[i].v >= 0 && w[i].v <= 1e6))
            return gt_set_error(GT_ERR_ARG, "%s (a weight) must be in [0, 1e6], got %g", w[i].flag, w[i].v);
    if (!(c->zcr_sigma > 0 && c->zcr_sigma <= 100))
        return gt_set_error(GT_ERR_ARG, "zcr-sigma must be in (0, 100], got %g", c->zcr_sigma);
    if (!(c->bucket_mb >= 0 && c->bucket_mb <= 1024))
        return gt_set_error(GT_ERR_ARG, "bucket-mb must be in [0, 1024], got %g", c->bucket_mb);
    if (c->precision != GT_PREC_FP32 && c->precision != GT_PREC_BF16)
        return gt_set_error(GT_ERR_ARG, "precision must be GT_PREC_FP32 or GT_PREC_BF16, got %d", c->precision);
    if (c->check_sync < 0) return gt_set_error(GT_ERR_ARG, "check-sync must be >= 0, got %lld", (long long)c->check_sync);
    if (!(c->lecam_decay >= 0 && c->lecam_decay < 1))
        return gt_set_error(GT_ERR_ARG, "lecam-decay must be in [0, 1), got %g", c->lecam_decay);
    if (!gt_train_uses_augment(c)) return GT_OK;
    gt_augment_opts o = gt_augment_opts_default();
    o.p = c->ada_p, o.ada_target = c->ada_target, o.ada_kimg = c->ada_kimg, o.ada_interval = c->ada_interval;
    gt_augment *a = NULL;
    if (gt_augment_new(c->augment, &o, &a) != GT_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        return gt_set_error(GT_ERR_ARG, "%s", msg); /* names the augment spec */
    }
    bool adaptive = gt_augment_adaptive(a);
    gt_augment_free(a);
    const gt_loss_def *def = gt_loss_def_get(c->loss);
    if (adaptive && def && def->energy)
        return gt_set_error(GT_ERR_ARG,
                            "augment %s: ADA's r_t = E[sign(D(x))] needs logits, and loss %s's D outputs energies "
                            "(use diffaug there)",
                            c->augment, gt_loss_name(c->loss));
    return GT_OK;
}

gt_status gt_train_config_check(gt_train_config *c) {
    if (!c) return gt_set_error(GT_ERR_ARG, "train config is NULL");
    const gt_model_entry *e = gt_model_find(c->model.name);
    if (!e) return gt_last_status();
    /* a gradient penalty wants a per-sample critic: layer norm (the WGAN-GP paper), in a family
       that lets D's normalization be chosen */
    if (gt_model_opt(&c->model, "d_norm") == GT_NORM_DEFAULT && c->gp > 0)
        gt_model_opt_set(&c->model, "d_norm", GT_NORM_LAYER);
    e->defaults(&c->model);
    gt_status st = e->check(&c->model);
    if (st != GT_OK) return st;
    if (!e->conditional && c->model.n_classes != 0)
        return gt_set_error(GT_ERR_ARG, "model %s is unconditional: n_classes must be 0, got %d", e->name,
                            c->model.n_classes);
    if (gt_loss_def_get(c->loss) && gt_loss_def_get(c->loss)->energy != e->d_energy)
        return gt_set_error(GT_ERR_ARG,
                            e->d_energy ? "model %s's D outputs energies (an autoencoder): use loss ebgan or began, "
                                          "not %s"
                                        : "model %s's D outputs logits: loss %s needs an autoencoder D (models began, "
                                          "ebgan)",
                            e->name, gt_loss_name(c->loss));
    if (c->model.n_classes < 0 || c->model.n_classes > 100000)
        return gt_set_error(GT_ERR_ARG, "n_classes must be in 0..100000, got %d", c->model.n_classes);
    if (c->steps < 0 || c->steps > GT__STEPS_MAX)
        return gt_set_error(GT_ERR_ARG, "steps must be in 0..%lld, got %lld", (long long)GT__STEPS_MAX,
                            (long long)c->steps);
    if (c->batch < 1 || c->batch > 65536)
        return gt_set_error(GT_ERR_ARG, "batch must be in 1..65536, got %d", c->batch);
    if (!(c->lr_g > 0 && c->lr_g <= 10)) return gt_set_error(GT_ERR_ARG, "lr-g must be in (0, 10], got %g", c->lr_g);
    if (!(c->lr_d > 0 && c->lr_d <= 10)) return gt_set_error(GT_ERR_ARG, "lr-d must be in (0, 10], got %g", c->lr_d);
    if (!(c->beta1 >= 0 && c->beta1 < 1)) return gt_set_error(GT_ERR_ARG, "beta1 must be in [0, 1), got %g", c->beta1);
    if (!(c->beta2 >= 0 && c->beta2 < 1)) return gt_set_error(GT_ERR_ARG, "beta2 must be in [0, 1), got %g", c->beta2);
    if (c->n_critic < 1 || c->n_critic > 64)
        return gt_set_error(GT_ERR_ARG, "n-critic must be in 1..64, got %d", c->n_critic);
    if (!(c->ema >= 0 && c->ema < 1)) return gt_set_error(GT_ERR_ARG, "ema must be in [0, 1), got %g", c->ema);
    if ((unsigned)c->loss >= GT_LOSS_COUNT) return gt_set_error(GT_ERR_ARG, "unknown loss %d", (int)c->loss);
    if (!(c->gp >= 0 && c->gp <= 1e6)) return gt_set_error(GT_ERR_ARG, "gp must be in [0, 1e6], got %g", c->gp);
    if (!(c->dragan >= 0 && c->dragan <= 1e6) || !(c->r1 >= 0 && c->r1 <= 1e6) || !(c->r2 >= 0 && c->r2 <= 1e6))
        return gt_set_error(GT_ERR_ARG, "dragan, r1 and r2 must be in [0, 1e6], got %g, %g, %g", c->dragan, c->r1,
                            c->r2);
    if (c->reg_every < 1 || c->reg_every > 1000000)
        return gt_set_error(GT_ERR_ARG, "reg-every must be in 1..1000000, got %d", c->reg_every);
    if (!(c->label_smooth >= 0 && c->label_smooth < 0.5))
        return gt_set_error(GT_ERR_ARG, "label-smooth must be in [0, 0.5), got %g", c->label_smooth);
    if (c->label_smooth > 0 && !gt_loss_def_get(c->loss)->probs)
        return gt_set_error(GT_ERR_ARG, "label-smooth smooths the real target of a BCE loss (ns, minimax), not of loss %s",
                            gt_loss_name(c->loss));
    bool wgan_clip = c->loss == GT_LOSS_WGAN && c->gp == 0; /* the original WGAN */
    if (c->clip == GT_CLIP_DEFAULT) c->clip = wgan_clip ? GT_WGAN_CLIP : 0;
    if (!(c->clip >= 0 && c->clip <= 100)) return gt_set_error(GT_ERR_ARG, "clip must be in [0, 100], got %g", c->clip);
    if (c->clip > 0 && !wgan_clip)
        return gt_set_error(GT_ERR_ARG,
                            "clip (weight clipping) belongs to the original WGAN (loss wgan, gp 0), not to loss %s%s",
                            gt_loss_name(c->loss), c->gp > 0 ? " with a gradient penalty" : "");
    if (c->log_every < 1 || c->sample_every < 0 || c->ckpt_every < 0)
        return gt_set_error(GT_ERR_ARG,
                            "log-every must be >= 1, sample-every and ckpt-every >= 0 (got %lld, %lld, %lld)",
                            (long long)c->log_every, (long long)c->sample_every, (long long)c->ckpt_every);
    if (c->keep_ckpts < 0) return gt_set_error(GT_ERR_ARG, "keep-ckpts must be >= 0, got %d", c->keep_ckpts);
    if (c->eval_every < 0 || c->eval_n < 2 || c->eval_n > 1000000)
        return gt_set_error(GT_ERR_ARG, "eval-every must be >= 0 and eval-n in 2..1000000, got %lld and %lld",
                            (long long)c->eval_every, (long long)c->eval_n);
    if (strcmp(c->eval_extractor, "fmnist") != 0 && strcmp(c->eval_extractor, "inception") != 0)
        return gt_set_error(GT_ERR_ARG, "eval-extractor must be fmnist or inception, got '%s'", c->eval_extractor);
    unsigned mask;
    if (gt_eval_metrics_parse(c->eval_metrics, &mask) != GT_OK) return gt_last_status();
    if (c->n_samples < 1 || c->n_samples > 1024)
        return gt_set_error(GT_ERR_ARG, "n-samples must be in 1..1024, got %d", c->n_samples);
    if (c->data_limit < 0)
        return gt_set_error(GT_ERR_ARG, "data-limit must be >= 0, got %lld", (long long)c->data_limit);
    if (c->threads < 0 || c->threads > 1024)
        return gt_set_error(GT_ERR_ARG, "threads must be in 0..1024, got %d", c->threads);
    return gt__check_augment(c);
}

char *gt_train_config_to_json(const gt_train_config *c) {
    cJSON *j = cJSON_CreateObject(), *m = cJSON_CreateObject();
    if (!j || !m) {
        cJSON_Delete(j);
        cJSON_Delete(m);
        return NULL;
    }
    cJSON_AddStringToObject(m, "name", c->model.name);
    gt_json_add_number(m, "res", c->model.res);
    gt_json_add_number(m, "channels", c->model.channels);
    gt_json_add_number(m, "nz", c->model.nz);
    gt_json_add_number(m, "n_classes", c->model.n_classes);
    /* the family's own options, every one (its defaults included) */
    const gt_model_entry *e = gt_model_find(c->model.name);
    for (int i = 0; e && i < e->n_opts; i++) {
        const gt_model_opt_def *d = &e->opts[i];
        char txt[64];
        if (d->type == GT_OPT_ENUM) cJSON_AddStringToObject(m, d->key, gt_model_opt_text(&c->model, d->key, txt, sizeof txt));
        else if (d->type == GT_OPT_BOOL) cJSON_AddBoolToObject(m, d->key, gt_model_opt(&c->model, d->key) != 0);
        else gt_json_add_number(m, d->key, gt_model_opt(&c->model, d->key));
    }
    cJSON_AddItemToObject(j, "model", m);
    cJSON_AddStringToObject(j, "data", c->data);
    gt_json_add_number(j, "data_limit", (double)c->data_limit);
    cJSON_AddBoolToObject(j, "skip_bad_images", c->skip_bad_images);
    cJSON_AddStringToObject(j, "out", c->out);
    gt_json_add_number(j, "steps", (double)c->steps);
    gt_json_add_number(j, "batch", c->batch);
    gt_json_add_number(j, "lr_g", c->lr_g);
    gt_json_add_number(j, "lr_d", c->lr_d);
    gt_json_add_number(j, "beta1", c->beta1);
    gt_json_add_number(j, "beta2", c->beta2);
    gt_json_add_number(j, "n_critic", c->n_critic);
    gt_json_add_number(j, "ema", c->ema);
    /* seeds can exceed 2^53: kept as a decimal string */
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    cJSON_AddStringToObject(j, "seed", seed);
    cJSON_AddStringToObject(j, "loss", gt_loss_name(c->loss));
    gt_json_add_number(j, "gp", c->gp);
    gt_json_add_number(j, "clip", c->clip);
    gt_json_add_number(j, "dragan", c->dragan);
    gt_json_add_number(j, "r1", c->r1);
    gt_json_add_number(j, "r2", c->r2);
    gt_json_add_number(j, "reg_every", c->reg_every);
    gt_json_add_number(j, "label_smooth", c->label_smooth);
    gt_json_add_number(j, "log_every", (double)c->log_every);
    gt_json_add_number(j, "sample_every", (double)c->sample_every);
    gt_json_add_number(j, "ckpt_every", (double)c->ckpt_every);
    gt_json_add_number(j, "keep_ckpts", c->keep_ckpts);
    gt_json_add_number(j, "n_samples", c->n_samples);
    gt_json_add_number(j, "threads", c->threads);
    gt_json_add_number(j, "eval_every", (double)c->eval_every);
    gt_json_add_number(j, "eval_n", (double)c->eval_n);
    cJSON_AddStringToObject(j, "eval_extractor", c->eval_extractor);
    cJSON_AddStringToObject(j, "eval_metrics", c->eval_metrics);
    cJSON_AddStringToObject(j, "augment", c->augment[0] ? c->augment : "none");
    gt_json_add_number(j, "ada_target", c->ada_target);
    gt_json_add_number(j, "ada_kimg", c->ada_kimg);
    gt_json_add_number(j, "ada_interval", c->ada_interval);
    gt_json_add_number(j, "ada_p", c->ada_p);
    gt_json_add_number(j, "cr", c->cr);
    gt_json_add_number(j, "bcr_real", c->bcr_real);
    gt_json_add_number(j, "bcr_fake", c->bcr_fake);
    gt_json_add_number(j, "zcr_dis", c->zcr_dis);
    gt_json_add_number(j, "zcr_gen", c->zcr_gen);
    gt_json_add_number(j, "zcr_sigma", c->zcr_sigma);
    gt_json_add_number(j, "lecam", c->lecam);
    gt_json_add_number(j, "lecam_decay", c->lecam_decay);
    if (c->sync_bn) cJSON_AddBoolToObject(j, "sync_bn", 1); /* data parallelism: only when not the default */
    if (c->check_sync) gt_json_add_number(j, "check_sync", (double)c->check_sync);
    if (c->bucket_mb != 1) gt_json_add_number(j, "bucket_mb", c->bucket_mb);
    if (c->precision != GT_PREC_FP32) /* only when not the default */
        cJSON_AddStringToObject(j, "precision", gt_precision_name((gt_precision)c->precision));
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}

/* Reads an integer field into *out when present; false on a bad value. */
static bool gt__get_int(const cJSON *o, const char *key, int64_t lo, int64_t hi, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) return true;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

static bool gt__get_num(const cJSON *o, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) return true;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return false;
    *out = v->valuedouble;
    return true;
}

static bool gt__get_str(const cJSON *o, const char *key, char *out, size_t n) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) return true;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= n) return false;
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return true;
}

#define GT__INT(obj, key, lo, hi, dst)                                    \
    do {                                                                  \
        int64_t v_ = (int64_t)(dst);                                      \
        if (!gt__get_int(obj, key, lo, hi, &v_)) { bad = key; goto fail; } \
        (dst) = v_;                                                       \
    } while (0)
#define GT__NUM(obj, key, dst) \
    if (!gt__get_num(obj, key, &(dst))) { bad = key; goto fail; }

gt_status gt_train_config_from_json(gt_train_config *c, const char *json, const char *label) {
    if (!c || !json) return gt_set_error(GT_ERR_ARG, "gt_train_config_from_json: NULL argument");
    if (!label) label = "config";
    cJSON *j = cJSON_Parse(json);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return gt_set_error(GT_ERR_FORMAT, "%s: the training config is not a JSON object", label);
    }
    /* every key must be one the config has (one that gt_train_config_to_json writes): a misspelt
       key is a mistake, not a default */
    gt_train_config all = *c; /* with the keys written only when not the default (data parallelism's) */
    all.sync_bn = true, all.check_sync = 1, all.bucket_mb = 2, all.precision = GT_PREC_BF16;
    char *mine = gt_train_config_to_json(&all);
    cJSON *known = mine ? cJSON_Parse(mine) : NULL;
    free(mine);
    if (!known) {
        cJSON_Delete(j);
        return gt_set_error(GT_ERR_OOM, "%s: out of memory", label);
    }
    for (const cJSON *it = j->child; it; it = it->next) {
        if (cJSON_GetObjectItemCaseSensitive(known, it->string)) continue;
        char list[512];
        size_t k = 0;
        for (const cJSON *q = known->child; q && k < sizeof list; q = q->next)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", q == known->child ? "" : ", ", q->string);
        gt_status st = gt_set_error(GT_ERR_FORMAT, "%s: unknown key '%s' in the training config (the keys: %s)", label,
                                    it->string, list);
        cJSON_Delete(known);
        cJSON_Delete(j);
        return st;
    }
    cJSON_Delete(known);
    gt_train_config n = *c;
    const char *bad = NULL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
    if (m) {
        if (!cJSON_IsObject(m)) { bad = "model"; goto fail; }
        char name[GT_MODEL_NAME_MAX];
        snprintf(name, sizeof name, "%s", n.model.name);
        if (!gt__get_str(m, "name", name, sizeof name)) { bad = "model.name"; goto fail; }
        if (strcmp(name, n.model.name) != 0) { /* another family: none of the old one's options */
            if (!gt_model_find(name)) {
                char msg[600];
                snprintf(msg, sizeof msg, "%s", gt_last_error()); /* set_error writes over it */
                cJSON_Delete(j);
                return gt_set_error(GT_ERR_FORMAT, "%s: model.name: %s", label, msg);
            }
            n.model = gt_model_config_default(name);
        }
        GT__INT(m, "res", 1, 65536, n.model.res);
        GT__INT(m, "channels", 1, 4, n.model.channels);
        GT__INT(m, "nz", 1, 1 << 20, n.model.nz);
        GT__INT(m, "n_classes", 0, 1 << 20, n.model.n_classes);
        for (const cJSON *it = m->child; it; it = it->next) { /* the rest: the family's options */
            const char *k = it->string;
            if (!strcmp(k, "name") || !strcmp(k, "res") || !strcmp(k, "channels") || !strcmp(k, "nz") ||
                !strcmp(k, "n_classes"))
                continue;
            gt_status st;
            if (cJSON_IsString(it)) st = gt_model_opt_parse(&n.model, k, it->valuestring);
            else if (cJSON_IsBool(it)) st = gt_model_opt_set(&n.model, k, cJSON_IsTrue(it) ? 1 : 0);
            else if (cJSON_IsNumber(it)) st = gt_model_opt_set(&n.model, k, it->valuedouble);
            else st = gt_set_error(GT_ERR_ARG, "model.%s: a number, a string or true/false expected", k);
            if (st != GT_OK) {
                char msg[600];
                snprintf(msg, sizeof msg, "%s", gt_last_error());
                cJSON_Delete(j);
                return gt_set_error(GT_ERR_FORMAT, "%s: %s", label, msg);
            }
        }
        /* options a file from before them lacks: the value those runs had (dcgan's d_norm: batch) */
        const gt_model_entry *e = gt_model_find(n.model.name);
        for (int i = 0; e && i < e->n_opts; i++)
            if (!isnan(e->opts[i].absent) && !cJSON_GetObjectItemCaseSensitive(m, e->opts[i].key))
                gt_model_opt_set(&n.model, e->opts[i].key, e->opts[i].absent);
    }
    if (!gt__get_str(j, "data", n.data, sizeof n.data)) { bad = "data"; goto fail; }
    if (!gt__get_str(j, "out", n.out, sizeof n.out)) { bad = "out"; goto fail; }
    GT__INT(j, "data_limit", 0, INT64_C(1) << 50, n.data_limit);
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(j, "skip_bad_images"); /* absent: false (older runs) */
    if (sb && !cJSON_IsBool(sb)) { bad = "skip_bad_images"; goto fail; }
    n.skip_bad_images = cJSON_IsTrue(sb);
    GT__INT(j, "steps", 0, INT64_C(1) << 50, n.steps);
    GT__INT(j, "batch", 1, 1 << 20, n.batch);
    GT__NUM(j, "lr_g", n.lr_g);
    GT__NUM(j, "lr_d", n.lr_d);
    GT__NUM(j, "beta1", n.beta1);
    GT__NUM(j, "beta2", n.beta2);
    GT__INT(j, "n_critic", 1, 1 << 20, n.n_critic);
    GT__NUM(j, "ema", n.ema);
    GT__NUM(j, "gp", n.gp);
    n.clip = 0; /* absent: a file from before the option, trained without clipping */
    GT__NUM(j, "clip", n.clip);
    GT__NUM(j, "dragan", n.dragan);
    GT__NUM(j, "r1", n.r1);
    GT__NUM(j, "r2", n.r2);
    GT__INT(j, "reg_every", 1, 1000000, n.reg_every);
    GT__NUM(j, "label_smooth", n.label_smooth);
    GT__INT(j, "log_every", 1, INT64_C(1) << 50, n.log_every);
    GT__INT(j, "sample_every", 0, INT64_C(1) << 50, n.sample_every);
    GT__INT(j, "ckpt_every", 0, INT64_C(1) << 50, n.ckpt_every);
    GT__INT(j, "keep_ckpts", 0, 1 << 20, n.keep_ckpts);
    GT__INT(j, "n_samples", 1, 1 << 20, n.n_samples);
    GT__INT(j, "threads", 0, 1 << 20, n.threads);
    GT__INT(j, "eval_every", 0, INT64_C(1) << 50, n.eval_every);
    GT__INT(j, "eval_n", 2, 1000000, n.eval_n);
    if (!gt__get_str(j, "eval_extractor", n.eval_extractor, sizeof n.eval_extractor)) {
        bad = "eval_extractor";
        goto fail;
    }
    if (!gt__get_str(j, "eval_metrics", n.eval_metrics, sizeof n.eval_metrics)) {
        bad = "eval_metrics";
        goto fail;
    }
    /* augmentation and consistency: absent (older files) keeps c's values, none and 0 by default */
    if (!gt__get_str(j, "augment", n.augment, sizeof n.augment)) { bad = "augment"; goto fail; }
    GT__NUM(j, "ada_target", n.ada_target);
    GT__NUM(j, "ada_kimg", n.ada_kimg);
    GT__INT(j, "ada_interval", 1, 1000000, n.ada_interval);
    GT__NUM(j, "ada_p", n.ada_p);
    GT__NUM(j, "cr", n.cr);
    GT__NUM(j, "bcr_real", n.bcr_real);
    GT__NUM(j, "bcr_fake", n.bcr_fake);
    GT__NUM(j, "zcr_dis", n.zcr_dis);
    GT__NUM(j, "zcr_gen", n.zcr_gen);
    GT__NUM(j, "zcr_sigma", n.zcr_sigma);
    GT__NUM(j, "lecam", n.lecam);
    GT__NUM(j, "lecam_decay", n.lecam_decay);
    const cJSON *sbn = cJSON_GetObjectItemCaseSensitive(j, "sync_bn"); /* absent: keeps c's (false) */
    if (sbn && !cJSON_IsBool(sbn)) { bad = "sync_bn"; goto fail; }
    if (sbn) n.sync_bn = cJSON_IsTrue(sbn);
    GT__INT(j, "check_sync", 0, INT64_C(1) << 50, n.check_sync);
    GT__NUM(j, "bucket_mb", n.bucket_mb);
    const cJSON *prec = cJSON_GetObjectItemCaseSensitive(j, "precision"); /* absent: keeps c's (fp32) */
    if (prec) {
        gt_precision p;
        if (!cJSON_IsString(prec) || gt_precision_parse(prec->valuestring, &p) != GT_OK) { bad = "precision"; goto fail; }
        n.precision = (int)p;
    }
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(j, "seed");
    if (seed) {
        char *end = NULL;
        if (cJSON_IsString(seed)) n.seed = strtoull(seed->valuestring, &end, 10);
        if (!cJSON_IsString(seed) || !end || *end || !seed->valuestring[0]) { bad = "seed"; goto fail; }
    }
    const cJSON *loss = cJSON_GetObjectItemCaseSensitive(j, "loss");
    if (loss) {
        int k = cJSON_IsString(loss) ? gt_loss_parse(loss->valuestring, NULL) : -1;
        if (k < 0) { bad = "loss"; goto fail; }
        n.loss = (gt_loss_kind)k;
    }
    cJSON_Delete(j);
    *c = n;
    return GT_OK;
fail:
    cJSON_Delete(j);
    return gt_set_error(GT_ERR_FORMAT, "%s: field '%s' of the training config is missing a valid value", label, bad);
}
