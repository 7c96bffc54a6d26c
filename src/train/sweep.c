/* gantry sweep: the plan (every config x grid point x seed, each run's config built and checked
 * before anything is written), the sweep folder's recorded arguments, and the runs: trained to
 * each budget in turn, evaluated there, resumable (gantry/sweep.h). Tables: sweep_table.c. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gantry/io.h"
#include "gantry/metrics.h"
#include "gantry/sweep.h"

static double gt__sw_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool gt__sw_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

void gt_sweep_spec_init(gt_sweep_spec *s) {
    memset(s, 0, sizeof *s);
    s->eval_n = 2000;
    snprintf(s->extractor, sizeof s->extractor, "fmnist");
    snprintf(s->metrics, sizeof s->metrics, "fid");
}

gt_status gt_sweep_add_config(gt_sweep_spec *s, const char *path) {
    if (!s || !path || !*path) return gt_set_error(GT_ERR_ARG, "config: an empty path");
    if (s->n_configs >= GT_SWEEP_MAX_CONFIGS)
        return gt_set_error(GT_ERR_ARG, "config: at most %d configs in one sweep", GT_SWEEP_MAX_CONFIGS);
    if (strlen(path) >= GT_PATH_MAX) return gt_set_error(GT_ERR_ARG, "config: the path is too long");
    int i = s->n_configs;
    snprintf(s->config_path[i], GT_PATH_MAX, "%s", path);
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strcspn(b, ".");
    if (n == 0) return gt_set_error(GT_ERR_ARG, "config '%s': no file name to name its runs by", path);
    if (n >= GT_SWEEP_NAME_MAX) n = GT_SWEEP_NAME_MAX - 1;
    char *d = s->config_name[i];
    for (size_t k = 0; k < n; k++) {
        char c = b[k];
        d[k] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ? c : '_';
    }
    d[n] = 0;
    for (int k = 0; k < i; k++)
        if (!strcmp(s->config_name[k], d))
            return gt_set_error(GT_ERR_ARG, "config: two configs named '%s' (%s and %s): their runs would share "
                                "folders; rename one", d, s->config_path[k], path);
    s->n_configs++;
    return GT_OK;
}

/* Splits s at sep into trimmed items (empty ones refused). */
static int gt__sw_split(const char *s, char sep, char items[][GT_SWEEP_NAME_MAX], int max, const char *what) {
    int n = 0;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, sep);
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len == 0) return gt_set_error(GT_ERR_ARG, "%s: an empty entry in '%s'", what, s), -1;
        if (len >= GT_SWEEP_NAME_MAX) return gt_set_error(GT_ERR_ARG, "%s: '%.*s' is too long", what, (int)len, p), -1;
        if (n >= max) return gt_set_error(GT_ERR_ARG, "%s: at most %d entries", what, max), -1;
        memcpy(items[n], p, len);
        items[n++][len] = 0;
        if (!e) break;
        p = e + 1;
    }
    return n;
}

gt_status gt_sweep_add_axis(gt_sweep_spec *s, const char *kv) {
    const char *eq = kv ? strchr(kv, '=') : NULL;
    if (!eq || eq == kv)
        return gt_set_error(GT_ERR_ARG, "grid: '%s' is not KEY=V1,V2,... (e.g. lr_g=1e-4,2e-4)", kv ? kv : "");
    if (s->n_axes >= GT_SWEEP_MAX_AXES) return gt_set_error(GT_ERR_ARG, "grid: at most %d keys", GT_SWEEP_MAX_AXES);
    gt_sweep_axis *a = &s->axes[s->n_axes];
    memset(a, 0, sizeof *a);
    size_t kl = (size_t)(eq - kv);
    while (kl && kv[kl - 1] == ' ') kl--;
    while (kl && *kv == ' ') kv++, kl--;
    if (kl == 0 || kl >= sizeof a->key) return gt_set_error(GT_ERR_ARG, "grid: a bad key in '%s'", kv);
    memcpy(a->key, kv, kl);
    for (int i = 0; i < s->n_axes; i++)
        if (!strcmp(s->axes[i].key, a->key)) return gt_set_error(GT_ERR_ARG, "grid: key '%s' given twice", a->key);
    char what[GT_SWEEP_NAME_MAX + 16];
    snprintf(what, sizeof what, "grid %s", a->key);
    a->n = gt__sw_split(eq + 1, ',', a->values, GT_SWEEP_MAX_VALUES, what);
    if (a->n < 0) return GT_ERR_ARG;
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(a->values[i], a->values[j]))
                return gt_set_error(GT_ERR_ARG, "grid %s: value '%s' given twice", a->key, a->values[i]);
    s->n_axes++;
    return GT_OK;
}

gt_status gt_sweep_add_axes(gt_sweep_spec *s, const char *list) {
    char items[GT_SWEEP_MAX_AXES + 1][GT_PATH_MAX / 4];
    const char *p = list;
    int n = 0;
    for (;;) { /* not gt__sw_split: an axis is longer than a name */
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n > GT_SWEEP_MAX_AXES) return gt_set_error(GT_ERR_ARG, "grid: at most %d keys", GT_SWEEP_MAX_AXES);
        if (len >= sizeof items[0]) return gt_set_error(GT_ERR_ARG, "grid: '%.*s' is too long", (int)len, p);
        memcpy(items[n], p, len);
        items[n++][len] = 0;
        if (!e) break;
        p = e + 1;
    }
    for (int i = 0; i < n; i++) {
        gt_status st = gt_sweep_add_axis(s, items[i]);
        if (st != GT_OK) return st;
    }
    return GT_OK;
}

static bool gt__sw_uint(const char *t, uint64_t *v) {
    if (!*t || *t == '-' || *t == '+') return false;
    char *e;
    errno = 0;
    unsigned long long x = strtoull(t, &e, 10);
    if (*e || errno) return false;
    *v = x;
    return true;
}

gt_status gt_sweep_set_seeds(gt_sweep_spec *s, const char *list) {
    char items[GT_SWEEP_MAX_SEEDS][GT_SWEEP_NAME_MAX];
    int n = gt__sw_split(list ? list : "", ',', items, GT_SWEEP_MAX_SEEDS, "seeds");
    if (n < 0) return GT_ERR_ARG;
    for (int i = 0; i < n; i++) {
        if (!gt__sw_uint(items[i], &s->seeds[i]))
            return gt_set_error(GT_ERR_ARG, "seeds: '%s' is not a non-negative integer (e.g. --seeds 0,1,2)", items[i]);
        for (int j = 0; j < i; j++)
            if (s->seeds[j] == s->seeds[i]) return gt_set_error(GT_ERR_ARG, "seeds: %s given twice", items[i]);
    }
    s->n_seeds = n;
    return GT_OK;
}

gt_status gt_sweep_set_budgets(gt_sweep_spec *s, const char *list) {
    char items[GT_SWEEP_MAX_BUDGETS][GT_SWEEP_NAME_MAX];
    int n = gt__sw_split(list ? list : "", ',', items, GT_SWEEP_MAX_BUDGETS - 1, "budgets");
    if (n < 0) return GT_ERR_ARG;
    for (int i = 0; i < n; i++) {
        uint64_t v;
        if (!gt__sw_uint(items[i], &v) || v == 0 || v > (uint64_t)1e12)
            return gt_set_error(GT_ERR_ARG, "budgets: '%s' is not a positive number of steps", items[i]);
        if (i && (int64_t)v <= s->budgets[i - 1])
            return gt_set_error(GT_ERR_ARG, "budgets: they must increase (%s after %lld)", items[i],
                                (long long)s->budgets[i - 1]);
        s->budgets[i] = (int64_t)v;
    }
    s->n_budgets = n;
    return GT_OK;
}

/* --- the plan ------------------------------------------------------------------- */

static uint64_t gt__sw_fnv(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Keys the sweep itself sets in every run. */
static const char *const gt__sw_reserved[] = {"seed", "steps", "out", "eval_every", "eval_n", "eval_extractor",
                                              "eval_metrics"};

/* The item of key ("lr_g" or "model.ngf") in the resolved config j, or NULL. */
static cJSON *gt__sw_item(cJSON *j, const char *key) {
    if (!strncmp(key, "model.", 6)) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
        return m ? cJSON_GetObjectItemCaseSensitive(m, key + 6) : NULL;
    }
    cJSON *it = cJSON_GetObjectItemCaseSensitive(j, key);
    return it && cJSON_IsObject(it) ? NULL : it;
}

/* The keys of j as "a, b, model.c, ..." for messages. */
static void gt__sw_keys(const cJSON *j, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (const cJSON *q = j->child; q && k < n; q = q->next) {
        if (cJSON_IsObject(q)) {
            for (const cJSON *r = q->child; r && k < n; r = r->next)
                k += (size_t)snprintf(buf + k, n - k, "%s%s.%s", k ? ", " : "", q->string, r->string);
            continue;
        }
        bool res = false;
        for (size_t i = 0; i < sizeof gt__sw_reserved / sizeof *gt__sw_reserved; i++)
            res |= !strcmp(q->string, gt__sw_reserved[i]);
        if (!res) k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "", q->string);
    }
}

/* Sets the item of key to value, keeping its type; "lr_g+lr_d" sets each of the keys. */
static gt_status gt__sw_set(cJSON *j, const char *key, const char *value, const char *file) {
    const char *plus = strchr(key, '+');
    if (plus) {
        char first[GT_SWEEP_NAME_MAX];
        snprintf(first, sizeof first, "%.*s", (int)(plus - key), key);
        gt_status st = first[0] && plus[1] ? gt__sw_set(j, first, value, file)
                                           : gt_set_error(GT_ERR_ARG, "grid key '%s': an empty key around '+'", key);
        return st == GT_OK ? gt__sw_set(j, plus + 1, value, file) : st;
    }
    cJSON *it = gt__sw_item(j, key);
    if (!it) {
        char keys[2048];
        gt__sw_keys(j, keys, sizeof keys);
        return gt_set_error(GT_ERR_ARG, "grid key '%s' is not a key of the training config %s (its keys: %s)", key,
                            file, keys);
    }
    cJSON *nv = NULL;
    if (cJSON_IsNumber(it)) {
        char *e;
        double v = strtod(value, &e);
        if (*e || e == value || !isfinite(v))
            return gt_set_error(GT_ERR_ARG, "grid %s: '%s' is not a number", key, value);
        char num[40];
        nv = cJSON_CreateRaw(gt_fmt_double(v, num, sizeof num));
    } else if (cJSON_IsBool(it)) {
        bool t = !strcmp(value, "true") || !strcmp(value, "1"), f = !strcmp(value, "false") || !strcmp(value, "0");
        if (!t && !f) return gt_set_error(GT_ERR_ARG, "grid %s: '%s' is not true or false", key, value);
        nv = cJSON_CreateBool(t);
    } else if (cJSON_IsString(it)) {
        nv = cJSON_CreateString(value);
    } else {
        return gt_set_error(GT_ERR_ARG, "grid key '%s' cannot be varied", key);
    }
    if (!nv) return gt_set_error(GT_ERR_OOM, "out of memory");
    cJSON *parent = strncmp(key, "model.", 6) ? j : cJSON_GetObjectItemCaseSensitive(j, "model");
    cJSON_ReplaceItemInObjectCaseSensitive(parent, strncmp(key, "model.", 6) ? key : key + 6, nv);
    return GT_OK;
}

static void gt__sw_clean(char *dst, size_t n, const char *src) {
    size_t k = 0;
    for (; *src && k + 1 < n; src++) {
        char c = *src;
        dst[k++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '.' || c == '+'
                       ? c
                       : '_';
    }
    dst[k] = 0;
}

/* The base config of file i: read, the data override, checked. */
static gt_status gt__sw_base(const gt_sweep_spec *s, int i, gt_train_config *c) {
    void *buf = NULL;
    size_t n = 0;
    gt_status st = gt_read_file(s->config_path[i], &buf, &n, 1 << 20);
    if (st != GT_OK) return st;
    *c = gt_train_config_default();
    st = gt_train_config_from_json(c, buf, s->config_path[i]);
    free(buf);
    if (st != GT_OK) return st;
    if (s->data[0]) snprintf(c->data, sizeof c->data, "%s", s->data);
    if (!c->data[0])
        return gt_set_error(GT_ERR_FORMAT, "%s: no training data (\"data\") in the config", s->config_path[i]);
    c->out[0] = 0;
    c->steps = s->steps;
    c->eval_every = 0;
    c->seed = 0;
    if (gt_train_config_check(c) != GT_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        return gt_set_error(GT_ERR_FORMAT, "%s: %s", s->config_path[i], msg);
    }
    return GT_OK;
}

void gt_sweep_plan_free(gt_sweep_plan *p) {
    if (!p) return;
    free(p->runs);
    free(p->point_value);
    memset(p, 0, sizeof *p);
}

gt_status gt_sweep_plan_make(gt_sweep_spec *s, gt_sweep_plan *p) {
    memset(p, 0, sizeof *p);
    if (s->n_configs < 1) return gt_set_error(GT_ERR_ARG, "no config: give --config FILE (configs/*.json)");
    if (s->n_seeds < 1) return gt_set_error(GT_ERR_ARG, "no seeds: give --seeds 0,1,2");
    if (s->steps < 1) return gt_set_error(GT_ERR_ARG, "steps: give --steps N (at least 1)");
    if (s->eval_n < 2) return gt_set_error(GT_ERR_ARG, "eval-n: at least 2 images");
    if (strcmp(s->metrics, "fid"))
        return gt_set_error(GT_ERR_ARG, "metrics: only fid is evaluated by a sweep so far, got '%s'", s->metrics);
    if (!s->out[0]) return gt_set_error(GT_ERR_ARG, "out: give the sweep folder (--out sweeps/NAME)");
    /* the budgets: the given ones below steps, then steps */
    if (s->n_budgets && s->budgets[s->n_budgets - 1] > s->steps)
        return gt_set_error(GT_ERR_ARG, "budgets: %lld is past --steps %lld", (long long)s->budgets[s->n_budgets - 1],
                            (long long)s->steps);
    if (!s->n_budgets || s->budgets[s->n_budgets - 1] != s->steps) s->budgets[s->n_budgets++] = s->steps;
    for (int a = 0; a < s->n_axes; a++)
        for (size_t i = 0; i < sizeof gt__sw_reserved / sizeof *gt__sw_reserved; i++)
            for (const char *k = s->axes[a].key; k; k = strchr(k, '+') ? strchr(k, '+') + 1 : NULL)
                if (!strncmp(k, gt__sw_reserved[i], strlen(gt__sw_reserved[i])) &&
                    (k[strlen(gt__sw_reserved[i])] == 0 || k[strlen(gt__sw_reserved[i])] == '+'))
                return gt_set_error(GT_ERR_ARG, "grid key '%s' is set by the sweep itself (--seeds, --steps, --out, "
                                    "--eval-n): it cannot be a grid key", s->axes[a].key);
    int64_t np64 = 1; /* at most 16^8 points x 16 configs x 32 seeds: no overflow in 64 bits */
    for (int a = 0; a < s->n_axes; a++) np64 *= s->axes[a].n;
    int64_t runs = s->n_configs * np64 * s->n_seeds;
    if (runs > 100000) return gt_set_error(GT_ERR_ARG, "a sweep of %lld runs is too many", (long long)runs);
    int np = (int)np64;
    p->n_points = np;
    p->n_runs = (int)runs;
    p->runs = calloc((size_t)p->n_runs, sizeof *p->runs);
    p->point_value = calloc((size_t)np, sizeof *p->point_value);
    if (!p->runs || !p->point_value) {
        gt_sweep_plan_free(p);
        return gt_set_error(GT_ERR_OOM, "out of memory");
    }
    for (int q = 0; q < np; q++) /* mixed radix, the last axis fastest */
        for (int a = s->n_axes - 1, r = q; a >= 0; a--) {
            p->point_value[q][a] = r % s->axes[a].n;
            r /= s->axes[a].n;
        }
    gt_status st = GT_OK;
    int k = 0;
    for (int i = 0; i < s->n_configs && st == GT_OK; i++) {
        gt_train_config base;
        if ((st = gt__sw_base(s, i, &base)) != GT_OK) break;
        char *bj = gt_train_config_to_json(&base);
        if (!bj) {
            st = gt_set_error(GT_ERR_OOM, "out of memory");
            break;
        }
        p->config_hash[i] = gt__sw_fnv(bj);
        if (strncmp(base.data, "fashion-mnist", 13) && access(base.data, R_OK) != 0) /* before any folder */
            st = gt_set_error(GT_ERR_IO, "%s: cannot read the training data '%s': %s", s->config_path[i], base.data,
                              strerror(errno));
        if (st == GT_OK && s->eval_data[0] && strncmp(s->eval_data, "fashion-mnist", 13) && access(s->eval_data, R_OK))
            st = gt_set_error(GT_ERR_IO, "eval-data: cannot read '%s': %s", s->eval_data, strerror(errno));
        if (st != GT_OK) {
            free(bj);
            break;
        }
        if (s->eval_data[0]) snprintf(p->eval_data[i], GT_PATH_MAX, "%s", s->eval_data);
        else if (!strncmp(base.data, "fashion-mnist", 13)) snprintf(p->eval_data[i], GT_PATH_MAX, "fashion-mnist:test");
        else snprintf(p->eval_data[i], GT_PATH_MAX, "%s", base.data);
        for (int q = 0; q < np && st == GT_OK; q++) {
            cJSON *j = cJSON_Parse(bj);
            if (!j) st = gt_set_error(GT_ERR_OOM, "out of memory");
            char label[GT_PATH_MAX / 4 - 16];
            int ll = snprintf(label, sizeof label, "%s", s->config_name[i]);
            for (int a = 0; a < s->n_axes && st == GT_OK; a++) {
                const char *v = s->axes[a].values[p->point_value[q][a]];
                st = gt__sw_set(j, s->axes[a].key, v, s->config_path[i]);
                char ck[GT_SWEEP_NAME_MAX], cv[GT_SWEEP_NAME_MAX];
                gt__sw_clean(ck, sizeof ck, s->axes[a].key);
                gt__sw_clean(cv, sizeof cv, v);
                if (ll >= 0 && (size_t)ll < sizeof label)
                    ll += snprintf(label + ll, sizeof label - (size_t)ll, "_%s-%s", ck, cv);
            }
            if (st == GT_OK && (ll < 0 || (size_t)ll >= sizeof label))
                st = gt_set_error(GT_ERR_ARG, "grid: the run names are too long (fewer or shorter keys and values)");
            char *pj = st == GT_OK ? cJSON_PrintUnformatted(j) : NULL;
            cJSON_Delete(j);
            if (st == GT_OK && !pj) st = gt_set_error(GT_ERR_OOM, "out of memory");
            gt_train_config c = gt_train_config_default();
            if (st == GT_OK && gt_train_config_from_json(&c, pj, s->config_path[i]) != GT_OK) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s", gt_last_error());
                st = gt_set_error(GT_ERR_ARG, "grid point %s: %s", label, msg);
            }
            free(pj);
            for (int r = 0; r < s->n_seeds && st == GT_OK; r++, k++) {
                gt_sweep_run_def *d = &p->runs[k];
                d->config = i, d->point = q, d->seed_index = r;
                d->cfg = c;
                d->cfg.seed = s->seeds[r];
                snprintf(d->name, sizeof d->name, "%s_s%llu", label, (unsigned long long)s->seeds[r]);
                if ((size_t)snprintf(d->cfg.out, sizeof d->cfg.out, "%s/runs/%s", s->out, d->name) >= sizeof d->cfg.out)
                    st = gt_set_error(GT_ERR_ARG, "out: the path is too long");
                if (st == GT_OK && gt_train_config_check(&d->cfg) != GT_OK) {
                    char msg[1024];
                    snprintf(msg, sizeof msg, "%s", gt_last_error());
                    st = gt_set_error(GT_ERR_ARG, "grid point %s: %s", label, msg);
                }
            }
        }
        free(bj);
    }
    if (st != GT_OK) gt_sweep_plan_free(p);
    return st;
}

/* --- the runs -------------------------------------------------------------------- */

/* A run's evaluations file (sweep_evals.json or sweep_done.json): the FIDs it holds into fid[budget]. */
static gt_status gt__sw_read_evals(const gt_sweep_spec *s, const char *path, double *fid, double *secs) {
    void *buf = NULL;
    size_t n = 0;
    gt_status st = gt_read_file(path, &buf, &n, 1 << 22);
    if (st != GT_OK) return st;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    const cJSON *ev = j ? cJSON_GetObjectItemCaseSensitive(j, "evals") : NULL;
    const cJSON *ts = j ? cJSON_GetObjectItemCaseSensitive(j, "time_s") : NULL;
    if (!cJSON_IsArray(ev) || !cJSON_IsNumber(ts)) {
        cJSON_Delete(j);
        return gt_set_error(GT_ERR_FORMAT, "%s: not a sweep run's evaluations; remove the run's folder to redo it",
                            path);
    }
    *secs = ts->valuedouble;
    for (const cJSON *e = ev->child; e; e = e->next) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(e, "step"), *f = cJSON_GetObjectItemCaseSensitive(e, "fid");
        if (!cJSON_IsNumber(sp)) continue;
        for (int b = 0; b < s->n_budgets; b++)
            if ((double)s->budgets[b] == sp->valuedouble) fid[b] = cJSON_IsNumber(f) ? f->valuedouble : NAN;
    }
    cJSON_Delete(j);
    return GT_OK;
}

static gt_status gt__sw_write_evals(const gt_sweep_spec *s, const gt_sweep_run_def *r, const char *file,
                                    const double *fid, const bool *have, double secs) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "run", r->name);
    gt_json_add_number(j, "time_s", secs);
    cJSON *ev = cJSON_AddArrayToObject(j, "evals");
    for (int b = 0; b < s->n_budgets; b++) {
        if (!have[b]) continue;
        cJSON *o = cJSON_CreateObject();
        gt_json_add_number(o, "step", (double)s->budgets[b]);
        gt_json_add_number(o, "fid", fid[b]);
        cJSON_AddItemToArray(ev, o);
    }
    char *txt = cJSON_Print(j);
    cJSON_Delete(j);
    if (!txt) return gt_set_error(GT_ERR_OOM, "out of memory");
    char path[GT_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", r->cfg.out, file);
    size_t n = strlen(txt);
    txt[n] = '\n';
    gt_status st = gt_write_file_atomic(path, txt, n + 1);
    free(txt);
    return st;
}

/* FID of the sampling generator's eval_n images (fixed latents) against real. */
static gt_status gt__sw_eval(gt_trainer *t, const gt_sweep_spec *s, const char *real, double *fid) {
    int m = gt_scope_begin();
    const gt_model_config *mc = &t->cfg.model;
    gt_tensor *z = gt_sample_latents_for(mc, GT_SWEEP_EVAL_SEED, s->eval_n, 0.0f);
    gt_tensor *x = z ? gt_trainer_sample(t, z) : NULL;
    gt_status st = x ? gt_fid_images(s->extractor, gt_data(x), s->eval_n, mc->channels, mc->res, mc->res, real, 0, fid)
                     : (gt_last_status() ? gt_last_status() : GT_ERR_STATE);
    gt_scope_end(m);
    if (st == GT_OK && !isfinite(*fid)) *fid = NAN;
    return st;
}

typedef struct {
    const gt_sweep_hooks *h;
    const gt_sweep_run_def *r;
    bool stopped;
} gt__sw_ctx;

static void gt__sw_progress(const gt_train_progress *p, bool interval, void *u) {
    gt__sw_ctx *c = u;
    if (c->h && c->h->progress) c->h->progress(c->r, p, interval, c->h->user);
}

static bool gt__sw_should_stop(void *u) {
    gt__sw_ctx *c = u;
    if (c->h && c->h->should_stop && c->h->should_stop(c->h->user)) c->stopped = true;
    return c->stopped;
}

/* One run: skipped when done, else resumed or started, trained to each budget and evaluated there. */
static gt_status gt__sw_run_one(const gt_sweep_spec *s, const gt_sweep_plan *p, int i, const gt_sweep_hooks *h,
                                double *fid, double *secs, bool *stopped) {
    const gt_sweep_run_def *r = &p->runs[i];
    char done[GT_PATH_MAX + 64], evals[GT_PATH_MAX + 64], last[GT_PATH_MAX + 64];
    snprintf(done, sizeof done, "%s/sweep_done.json", r->cfg.out);
    snprintf(evals, sizeof evals, "%s/sweep_evals.json", r->cfg.out);
    gt_train_last_ckpt(&r->cfg, last, sizeof last);
    bool have[GT_SWEEP_MAX_BUDGETS] = {0};
    for (int b = 0; b < s->n_budgets; b++) fid[b] = NAN;
    *secs = 0;
    if (gt__sw_exists(done)) {
        gt_status st = gt__sw_read_evals(s, done, fid, secs);
        if (st == GT_OK && h && h->run_start) h->run_start(i, p->n_runs, r, true, (uint64_t)s->steps, h->user);
        return st;
    }
    gt_status st = GT_OK;
    if (gt__sw_exists(evals)) { /* what an interrupted run evaluated (a NaN FID of a diverged run counts) */
        double rec[GT_SWEEP_MAX_BUDGETS];
        for (int b = 0; b < s->n_budgets; b++) rec[b] = INFINITY;
        if ((st = gt__sw_read_evals(s, evals, rec, secs)) != GT_OK) return st;
        for (int b = 0; b < s->n_budgets; b++) {
            have[b] = rec[b] != INFINITY;
            fid[b] = have[b] ? rec[b] : NAN;
        }
    }
    /* a killed sweep's run folder: its temporary files go, last follows the newest checkpoint */
    if (gt__sw_exists(r->cfg.out) && (st = gt_train_recover(r->cfg.out, NULL, NULL)) != GT_OK) return st;
    gt_trainer t;
    double t0 = gt__sw_now();
    st = gt_trainer_init(&t, &r->cfg, NULL);
    bool resumed = st == GT_OK && gt__sw_exists(last);
    if (resumed) st = gt_trainer_load(&t, last);
    *secs += gt__sw_now() - t0; /* opening the data and building the nets count too */
    if (st == GT_OK && h && h->run_start) h->run_start(i, p->n_runs, r, false, t.step, h->user);
    gt__sw_ctx ctx = {h, r, false};
    gt_train_hooks th = {gt__sw_progress, gt__sw_should_stop, NULL, &ctx};
    for (int b = 0; b < s->n_budgets && st == GT_OK; b++) {
        if (have[b]) continue;
        double a = gt__sw_now();
        if (t.step < (uint64_t)s->budgets[b]) {
            t.cfg.steps = s->budgets[b];
            st = gt_train_run(&t, &th);
            *secs += gt__sw_now() - a;
            if (st == GT_OK && ctx.stopped) {
                st = gt__sw_write_evals(s, r, "sweep_evals.json", fid, have, *secs);
                *stopped = true;
                break;
            }
        }
        if (st != GT_OK) break;
        if (t.step != (uint64_t)s->budgets[b]) {
            st = gt_set_error(GT_ERR_STATE, "%s is at step %llu, past budget %lld with no evaluation recorded there; "
                              "remove the run's folder to redo it", r->cfg.out, (unsigned long long)t.step,
                              (long long)s->budgets[b]);
            break;
        }
        double e0 = gt__sw_now();
        st = gt__sw_eval(&t, s, p->eval_data[r->config], &fid[b]);
        if (st != GT_OK) break;
        double de = gt__sw_now() - e0;
        *secs += de;
        have[b] = true;
        if (h && h->evaluated) h->evaluated(r, s->budgets[b], fid[b], de, h->user);
        st = gt__sw_write_evals(s, r, "sweep_evals.json", fid, have, *secs);
    }
    gt_trainer_free(&t);
    if (st == GT_OK && !*stopped) st = gt__sw_write_evals(s, r, "sweep_done.json", fid, have, *secs);
    return st;
}

gt_status gt_sweep_run(const gt_sweep_spec *s, const gt_sweep_plan *p, const gt_sweep_hooks *h, bool *stopped) {
    bool stop = false;
    if (stopped) *stopped = false;
    double *fid = malloc((size_t)p->n_runs * (size_t)s->n_budgets * sizeof *fid);
    double *secs = calloc((size_t)p->n_runs, sizeof *secs);
    if (!fid || !secs) {
        free(fid);
        free(secs);
        return gt_set_error(GT_ERR_OOM, "out of memory");
    }
    gt_status st = GT_OK;
    for (int i = 0; i < p->n_runs && st == GT_OK && !stop; i++)
        st = gt__sw_run_one(s, p, i, h, fid + (size_t)i * (size_t)s->n_budgets, &secs[i], &stop);
    if (st == GT_OK && !stop) st = gt_sweep_write_tables(s, p, fid, secs);
    if (stopped) *stopped = stop;
    free(fid);
    free(secs);
    return st;
}
