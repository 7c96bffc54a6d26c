/* What a distillation records in its checkpoints' metadata ("distill": the teacher and init as
 * absolute paths, the loss weights, the tap pairs) and reading it back, so that a resumed
 * distillation (gt_distill_opts.resume) needs only its run folder: the student's config comes
 * from the checkpoint's "config" metadata as `gantry train --resume` takes it. */
#define _DEFAULT_SOURCE /* realpath */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill_internal.h"

static const char *gt__abs(const char *p, char *buf) { return realpath(p, buf) ? buf : p; }

char *gt__distill_opts_json(const gt_distill_opts *o) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    char abs[PATH_MAX];
    bool ok = cJSON_AddStringToObject(j, "teacher", gt__abs(o->teacher, abs)) != NULL;
    if (ok && o->init && o->init[0]) ok = cJSON_AddStringToObject(j, "init", gt__abs(o->init, abs)) != NULL;
    const struct {
        const char *k;
        double v;
    } w[] = {{"w_feat", o->w_feat}, {"w_recon", o->w_recon}, {"w_gan", o->w_gan}, {"w_dcd", o->w_dcd}, {"w_crd", o->w_crd}};
    for (size_t i = 0; ok && i < sizeof w / sizeof *w; i++) ok = cJSON_AddNumberToObject(j, w[i].k, w[i].v) != NULL;
    if (ok && o->feat_layers && o->feat_layers[0])
        ok = cJSON_AddStringToObject(j, "layers", o->feat_layers) != NULL;
    if (ok && o->anneal > 0) ok = cJSON_AddNumberToObject(j, "anneal", (double)o->anneal) != NULL;
    if (ok && o->d_fresh) ok = cJSON_AddBoolToObject(j, "d_fresh", true) != NULL;
    if (ok && o->d_student_only) ok = cJSON_AddBoolToObject(j, "d_student_only", true) != NULL;
    if (ok && o->ofa) ok = cJSON_AddBoolToObject(j, "ofa", true) != NULL;
    char *s = ok ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return s;
}

static gt_status gt__bad(const char *path, const char *what) {
    return gt_set_error(GT_ERR_FORMAT, "out: %s: its \"distill\" metadata %s", path, what);
}

/* An optional boolean key (absent: false). */
static gt_status gt__flag(const cJSON *j, const char *key, bool *dst, const char *path) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    *dst = v && cJSON_IsTrue(v);
    if (!v || cJSON_IsBool(v)) return GT_OK;
    char what[96];
    snprintf(what, sizeof what, "has an invalid \"%s\" (true or false)", key);
    return gt__bad(path, what);
}

static gt_status gt__str(const cJSON *j, const char *key, bool need, char *dst, size_t cap, const char *path) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v && !need) return GT_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= cap) {
        char what[96];
        snprintf(what, sizeof what, "has no valid \"%s\" (a non-empty string)", key);
        return gt__bad(path, what);
    }
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return GT_OK;
}

gt_status gt__distill_read_saved(const gt_distill_opts *given, gt__distill_saved *sv, gt_distill_opts *o) {
    memset(sv, 0, sizeof *sv);
    *o = *given;
    if (!given->out_dir || !given->out_dir[0]) return gt_set_error(GT_ERR_ARG, "out: no run folder given");
    char path[GT_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/last.safetensors", given->out_dir);
    gt_safetensors s;
    gt_st_init(&s);
    if (gt_st_load(&s, path) != GT_OK) {
        char msg[800];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_st_free(&s);
        return gt_set_error(GT_ERR_ARG, "out: no checkpoint to resume in %s (%s)", given->out_dir, msg);
    }
    const char *meta = gt_st_get_meta(&s, "distill"), *cfg = gt_st_get_meta(&s, "config");
    gt_status st = GT_OK;
    if (!meta)
        st = gt_set_error(GT_ERR_ARG,
                          "out: %s was not written by gantry distill (no \"distill\" metadata); a training run "
                          "resumes with gantry train --resume",
                          path);
    else if (!cfg)
        st = gt_set_error(GT_ERR_FORMAT, "out: %s holds no training config (\"config\" metadata)", path);
    else if (!(sv->config = strdup(cfg)))
        st = gt_set_error(GT_ERR_OOM, "out of memory");
    cJSON *j = st == GT_OK ? cJSON_Parse(meta) : NULL;
    if (st == GT_OK && !cJSON_IsObject(j)) st = gt__bad(path, "is not a JSON object");
    if (st == GT_OK) st = gt__str(j, "teacher", true, sv->teacher, sizeof sv->teacher, path);
    if (st == GT_OK) st = gt__str(j, "init", false, sv->init, sizeof sv->init, path);
    if (st == GT_OK) st = gt__str(j, "layers", false, sv->layers, sizeof sv->layers, path);
    double *w[] = {&o->w_feat, &o->w_recon, &o->w_gan, &o->w_dcd, &o->w_crd};
    const char *wk[] = {"w_feat", "w_recon", "w_gan", "w_dcd", "w_crd"};
    for (int i = 0; i < 5 && st == GT_OK; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, wk[i]);
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || !isfinite(v->valuedouble)) {
            char what[96];
            snprintf(what, sizeof what, "has no valid \"%s\" (a number >= 0)", wk[i]);
            st = gt__bad(path, what);
        } else {
            *w[i] = v->valuedouble;
        }
    }
    const cJSON *an = st == GT_OK ? cJSON_GetObjectItemCaseSensitive(j, "anneal") : NULL;
    o->anneal = 0;
    if (an && (!cJSON_IsNumber(an) || !(an->valuedouble >= 0 && an->valuedouble <= 1e12) ||
               an->valuedouble != floor(an->valuedouble)))
        st = gt__bad(path, "has an invalid \"anneal\" (a whole number of steps >= 0)");
    else if (an)
        o->anneal = (int64_t)an->valuedouble;
    if (st == GT_OK) st = gt__flag(j, "d_fresh", &o->d_fresh, path);
    if (st == GT_OK) st = gt__flag(j, "d_student_only", &o->d_student_only, path);
    if (st == GT_OK) st = gt__flag(j, "ofa", &o->ofa, path);
    cJSON_Delete(j);
    gt_st_free(&s);
    if (st != GT_OK) {
        free(sv->config);
        sv->config = NULL;
        return st;
    }
    /* the run's own: its teacher and pairs; the student, data, batch, seed and log interval in its config;
       G from the checkpoint (an init is not applied again). The caller's steps (0: the config's) stay. */
    o->teacher = sv->teacher;
    o->init = NULL;
    o->student_config = NULL;
    o->feat_layers = sv->layers[0] ? sv->layers : NULL;
    o->data = NULL, o->batch = 0, o->log_every = 0;
    o->resume = true;
    return GT_OK;
}

void gt__distill_saved_free(gt__distill_saved *sv) {
    free(sv->config);
    sv->config = NULL;
}

bool gt_distill_is_supernet(const char *path, char *teacher, size_t n) {
    gt_safetensors s;
    gt_st_init(&s);
    bool yes = false;
    if (teacher && n) teacher[0] = 0;
    if (path && gt_st_load(&s, path) == GT_OK) {
        const char *meta = gt_st_get_meta(&s, "distill");
        cJSON *j = meta ? cJSON_Parse(meta) : NULL;
        yes = j && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ofa"));
        const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "teacher") : NULL;
        if (yes && teacher && n && cJSON_IsString(t)) snprintf(teacher, n, "%s", t->valuestring);
        cJSON_Delete(j);
    }
    gt_st_free(&s);
    return yes;
}
