/* The runs registry (docs/DASHBOARD.md): run folders one level below the runs folder, their
 * summaries (config.json, status.json with the pid check, the last metrics, the checkpoints), the
 * run detail, the sorted list, and each run's event ring for its streams. */
#define _DEFAULT_SOURCE
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runs_internal.h"

bool gt__run_name_ok(const char *s) {
    size_t n = strlen(s);
    if (n < 1 || n > GT__RUN_NAME_MAX || !strcmp(s, ".") || !strcmp(s, "..")) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

char *gt__run_path(gt__runs *R, const char *name, const char *rel) {
    size_t n = strlen(R->dir) + strlen(name) + (rel ? strlen(rel) : 0) + 3;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s%s%s", R->dir, name, rel ? "/" : "", rel ? rel : "");
    return p;
}

gt__run *gt__run_new(const char *name) {
    gt__run *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    snprintf(r->name, sizeof r->name, "%s", name);
    r->refs = 1;
    r->wd_dir = r->wd_samples = r->wd_ckpt = -1;
    r->dirty = 1;
    pthread_mutex_init(&r->mmu, NULL);
    pthread_mutex_init(&r->gmu, NULL);
    return r;
}

void gt__run_free(gt__run *r) {
    if (!r) return;
    for (int i = 0; i < GT__RUN_EVENTS; i++) gt__blob_unref(r->ev[i]);
    free(r->sum);
    gt__metrics_free(&r->m);
    free(r->grids);
    pthread_mutex_destroy(&r->mmu);
    pthread_mutex_destroy(&r->gmu);
    free(r);
}

gt__run *gt__run_get(gt__runs *R, const char *name) {
    pthread_mutex_lock(&R->mu);
    gt__run *r = R->head;
    while (r && strcmp(r->name, name) != 0) r = r->next;
    if (r && (r->dead || !r->listed)) r = NULL;
    if (r) r->refs++;
    pthread_mutex_unlock(&R->mu);
    return r;
}

void gt__run_unref(gt__runs *R, gt__run *r) {
    if (!r) return;
    pthread_mutex_lock(&R->mu);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&R->mu);
    if (last) gt__run_free(r);
}

void gt__run_touch(gt__runs *R, gt__run *r) {
    r->dirty++;
    R->list_seq++;
    pthread_cond_broadcast(&R->cv);
}

void gt__runs_wake_all(gt__runs *R) {
    pthread_mutex_lock(&R->mu);
    pthread_cond_broadcast(&R->cv);
    pthread_mutex_unlock(&R->mu);
}

gt__blob *gt__event_blob(const char *event, gt_buf *data) {
    gt_buf b = {0};
    gt__buf_printf(&b, "event: %s\ndata: ", event);
    if (data->p) gt__buf_add(&b, data->p, data->n);
    else gt__buf_puts(&b, "{}");
    gt__buf_puts(&b, "\n\n");
    b.oom |= data->oom;
    free(data->p);
    *data = (gt_buf){0};
    gt__blob *o = b.oom ? NULL : gt__blob_take(&b);
    free(b.p);
    return o;
}

void gt__run_push(gt__runs *R, gt__run *r, gt__blob *ev) {
    if (!ev) return;
    uint64_t id = ++r->ev_last;
    gt__blob_unref(r->ev[id % GT__RUN_EVENTS]);
    r->ev[id % GT__RUN_EVENTS] = ev;
    pthread_cond_broadcast(&R->cv);
}

/* ---- summaries --------------------------------------------------------------------------------- */

static cJSON *gt__read_json(const char *path, size_t max) {
    if (!path) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[n] = 0;
    cJSON *j = cJSON_ParseWithLength(buf, n);
    free(buf);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

static double gt__jnum(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *gt__jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void gt__kv_str(gt_buf *b, const char *key, const char *v) {
    gt__buf_printf(b, ",\"%s\":", key);
    if (v) gt__buf_json_str(b, v);
    else gt__buf_puts(b, "null");
}

static void gt__kv_num(gt_buf *b, const char *key, double v) {
    gt__buf_printf(b, ",\"%s\":", key);
    gt__num(b, v);
}

static void gt__kv_int(gt_buf *b, const char *key, double v) {
    gt__buf_printf(b, ",\"%s\":", key);
    if (isfinite(v)) gt__buf_printf(b, "%.0f", v);
    else gt__buf_puts(b, "null");
}

/* The largest N of checkpoints/step_N.safetensors, or -1. */
static int64_t gt__last_ckpt_step(gt__runs *R, gt__run *r) {
    char *p = gt__run_path(R, r->name, "checkpoints");
    DIR *d = p ? opendir(p) : NULL;
    free(p);
    int64_t best = -1;
    if (!d) return best;
    for (struct dirent *e; (e = readdir(d));) {
        long long s;
        char tail[32];
        if (sscanf(e->d_name, "step_%lld.safetensor%31s", &s, tail) == 2 && !strcmp(tail, "s") && s > best) best = s;
    }
    closedir(d);
    return best;
}

static void gt__summary_build(gt__runs *R, gt__run *r, gt_buf *b, double *updated) {
    char *p = gt__run_path(R, r->name, "config.json");
    cJSON *cfg = gt__read_json(p, 1 << 20);
    free(p);
    p = gt__run_path(R, r->name, "status.json");
    cJSON *st = gt__read_json(p, 64 << 10);
    free(p);
    gt__last L;
    pthread_mutex_lock(&r->mmu);
    bool cached = r->m.loaded;
    if (cached) gt__metrics_last(&r->m, &L);
    pthread_mutex_unlock(&r->mmu);
    if (!cached) {
        p = gt__run_path(R, r->name, "metrics.jsonl");
        if (p) gt__metrics_tail(p, &L);
        else gt__metrics_last(NULL, &L);
        free(p);
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(cfg, "model");
    double steps = gt__jnum(cfg, "steps");
    const char *state = gt__jstr(st, "state");
    double step = L.step, upd = L.unix_t;
    char state_buf[16];
    if (st && state && (!strcmp(state, "running") || !strcmp(state, "finished") || !strcmp(state, "interrupted") ||
                        !strcmp(state, "failed"))) {
        double s = gt__jnum(st, "step"), ss = gt__jnum(st, "steps"), u = gt__jnum(st, "updated_unix");
        if (isfinite(s) && !(s < step)) step = s;
        if (isfinite(ss)) steps = ss;
        if (isfinite(u) && !(u < upd)) upd = u;
        if (!strcmp(state, "running")) { /* the writer died without saying so? (this host only) */
            char host[256] = "";
            const char *h = gt__jstr(st, "host");
            double pid = gt__jnum(st, "pid");
            if (h && gethostname(host, sizeof host - 1) == 0 && !strcmp(h, host) && pid > 0 && pid < 1e9 &&
                kill((pid_t)pid, 0) != 0 && errno == ESRCH)
                state = "interrupted";
        }
        snprintf(state_buf, sizeof state_buf, "%s", state);
    } else { /* an older run: finished when its last checkpoint (else its last metrics line) is at steps */
        int64_t ck = gt__last_ckpt_step(R, r);
        double last = ck >= 0 ? (double)ck : step;
        snprintf(state_buf, sizeof state_buf, "%s", isfinite(steps) && last == steps ? "finished" : "interrupted");
        if (!isfinite(step) && ck >= 0) step = (double)ck;
    }
    if (!isfinite(upd)) {
        p = gt__run_path(R, r->name, NULL);
        struct stat sb;
        if (p && stat(p, &sb) == 0) upd = (double)sb.st_mtime;
        free(p);
    }
    gt__buf_puts(b, "{\"name\":");
    gt__buf_json_str(b, r->name);
    gt__kv_str(b, "model", gt__jstr(model, "name"));
    gt__kv_str(b, "data", gt__jstr(cfg, "data"));
    gt__kv_str(b, "loss", gt__jstr(cfg, "loss"));
    gt__kv_str(b, "state", state_buf);
    if (st && !strcmp(state_buf, "failed")) gt__kv_str(b, "message", gt__jstr(st, "message"));
    gt__kv_int(b, "step", step);
    gt__kv_int(b, "steps", steps);
    gt__kv_num(b, "loss_d", L.loss_d);
    gt__kv_num(b, "loss_g", L.loss_g);
    gt__kv_num(b, "d_real", L.d_real);
    gt__kv_num(b, "d_fake", L.d_fake);
    gt__kv_num(b, "it_s", L.it_s);
    gt__kv_num(b, "fid", L.fid);
    gt__kv_int(b, "fid_step", L.fid_step);
    gt__kv_int(b, "updated_unix", upd);
    gt__buf_puts(b, "}");
    *updated = isfinite(upd) ? upd : 0;
    cJSON_Delete(cfg);
    cJSON_Delete(st);
}

char *gt__run_summary(gt__runs *R, gt__run *r, double *updated) {
    pthread_mutex_lock(&R->mu);
    uint64_t ver = r->dirty;
    char *out = r->sum && r->sum_ver == ver ? strdup(r->sum) : NULL;
    if (out && updated) *updated = r->sum_updated;
    pthread_mutex_unlock(&R->mu);
    if (out) return out;
    gt_buf b = {0};
    double u = 0;
    gt__summary_build(R, r, &b, &u);
    gt__buf_add(&b, "", 1);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    out = strdup(b.p);
    pthread_mutex_lock(&R->mu);
    if (r->dirty == ver) { /* nothing changed meanwhile: keep it */
        free(r->sum);
        r->sum = b.p;
        r->sum_ver = ver;
        r->sum_updated = u;
        b.p = NULL;
    }
    pthread_mutex_unlock(&R->mu);
    free(b.p);
    if (updated) *updated = u;
    return out;
}

typedef struct {
    char *json;
    double upd;
} gt__item;

static int gt__item_cmp(const void *a, const void *b) {
    double x = ((const gt__item *)a)->upd, y = ((const gt__item *)b)->upd;
    return x < y ? 1 : x > y ? -1 : 0;
}

gt__blob *gt__runs_list(gt__runs *R, bool as_event) {
    pthread_mutex_lock(&R->mu);
    uint64_t seq = R->list_seq;
    if (as_event && R->list_blob && R->list_blob_seq == seq) {
        atomic_fetch_add(&R->list_blob->refs, 1);
        gt__blob *o = R->list_blob;
        pthread_mutex_unlock(&R->mu);
        return o;
    }
    int n = 0;
    for (gt__run *r = R->head; r; r = r->next) n += r->listed && !r->dead;
    gt__run **rs = malloc(sizeof *rs * (size_t)(n ? n : 1));
    gt__item *it = calloc((size_t)(n ? n : 1), sizeof *it);
    if (!rs || !it) {
        pthread_mutex_unlock(&R->mu);
        free(rs);
        free(it);
        return NULL;
    }
    n = 0;
    for (gt__run *r = R->head; r; r = r->next)
        if (r->listed && !r->dead) {
            r->refs++;
            rs[n++] = r;
        }
    pthread_mutex_unlock(&R->mu);
    int k = 0;
    for (int i = 0; i < n; i++) {
        it[k].json = gt__run_summary(R, rs[i], &it[k].upd);
        if (it[k].json) k++;
        gt__run_unref(R, rs[i]);
    }
    free(rs);
    qsort(it, (size_t)k, sizeof *it, gt__item_cmp);
    gt_buf b = {0};
    if (as_event) gt__buf_puts(&b, "event: runs\ndata: {\"runs\":[");
    else {
        gt__buf_puts(&b, "{\"dir\":");
        gt__buf_json_str(&b, R->dir);
        gt__buf_puts(&b, ",\"runs\":[");
    }
    for (int i = 0; i < k; i++) {
        if (i < GT__RUNS_MAX_LIST) gt__buf_printf(&b, "%s%s", i ? "," : "", it[i].json);
        free(it[i].json);
    }
    free(it);
    gt__buf_printf(&b, "],\"truncated\":%s}%s", k > GT__RUNS_MAX_LIST ? "true" : "false", as_event ? "\n\n" : "");
    gt__blob *o = b.oom ? NULL : gt__blob_take(&b);
    free(b.p);
    if (o && as_event) {
        pthread_mutex_lock(&R->mu);
        if (R->list_seq == seq) {
            gt__blob_unref(R->list_blob);
            atomic_fetch_add(&o->refs, 1);
            R->list_blob = o;
            R->list_blob_seq = seq;
        }
        pthread_mutex_unlock(&R->mu);
    }
    return o;
}

/* ---- the run detail -------------------------------------------------------------------------- */

static int gt__ck_cmp(const void *a, const void *b) {
    int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
    return x < y ? -1 : x > y;
}

void gt__checkpoints_json(gt__runs *R, gt__run *r, gt_buf *b) {
    char *p = gt__run_path(R, r->name, "checkpoints");
    DIR *d = p ? opendir(p) : NULL;
    int64_t (*ck)[3] = NULL; /* step, bytes, inode */
    size_t n = 0, cap = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        long long s;
        char tail[32];
        if (sscanf(e->d_name, "step_%lld.safetensor%31s", &s, tail) != 2 || strcmp(tail, "s") || s < 0) continue;
        char q[PATH_MAX];
        struct stat sb;
        if (snprintf(q, sizeof q, "%s/%s", p, e->d_name) >= (int)sizeof q || stat(q, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            void *nc = realloc(ck, cap * sizeof *ck);
            if (!nc) break;
            ck = nc;
        }
        ck[n][0] = s, ck[n][1] = (int64_t)sb.st_size, ck[n][2] = (int64_t)sb.st_ino;
        n++;
    }
    if (d) closedir(d);
    free(p);
    if (n) qsort(ck, n, sizeof *ck, gt__ck_cmp);
    gt__buf_puts(b, "[");
    for (size_t i = 0; i < n; i++)
        gt__buf_printf(b, "%s{\"file\":\"checkpoints/step_%06lld.safetensors\",\"step\":%lld,\"bytes\":%lld}",
                       i ? "," : "", (long long)ck[i][0], (long long)ck[i][0], (long long)ck[i][1]);
    p = gt__run_path(R, r->name, "last.safetensors");
    struct stat sb;
    if (p && stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
        long long step = -1; /* last is a hard link to the newest step file when there is one */
        for (size_t i = 0; i < n; i++)
            if (ck[i][2] == (int64_t)sb.st_ino) step = ck[i][0];
        gt__buf_printf(b, "%s{\"file\":\"last.safetensors\",\"step\":", n ? "," : "");
        if (step >= 0) gt__buf_printf(b, "%lld", step);
        else gt__buf_puts(b, "null");
        gt__buf_printf(b, ",\"bytes\":%lld}", (long long)sb.st_size);
    }
    free(p);
    free(ck);
    gt__buf_puts(b, "]");
}

void gt__run_detail(gt__runs *R, gt__run *r, gt_buf *b) {
    char *sum = gt__run_summary(R, r, NULL);
    if (!sum) {
        b->oom = true;
        return;
    }
    size_t sl = strlen(sum);
    gt__buf_add(b, sum, sl - 1); /* without its '}' */
    free(sum);
    char *p = gt__run_path(R, r->name, "config.json");
    cJSON *cfg = gt__read_json(p, 1 << 20);
    free(p);
    char *cj = cfg ? cJSON_PrintUnformatted(cfg) : NULL;
    gt__buf_printf(b, ",\"config\":%s,\"checkpoints\":", cj ? cj : "null");
    free(cj);
    cJSON_Delete(cfg);
    gt__checkpoints_json(R, r, b);
    pthread_mutex_lock(&r->gmu);
    int64_t ng = gt__grids_load(R, r) ? r->ngrids : 0;
    pthread_mutex_unlock(&r->gmu);
    gt__buf_printf(b, ",\"grids\":%lld,\"metric_keys\":[", (long long)ng);
    pthread_mutex_lock(&r->mmu);
    gt__metrics_update(R, r, NULL, NULL);
    int k = 0;
    for (int i = 0; i < r->m.lines.nk; i++) {
        gt__buf_puts(b, k++ ? "," : "");
        gt__buf_json_str(b, r->m.lines.cols[i].key);
    }
    for (int i = 0; i < r->m.eval.nk; i++) {
        char key[GT__METRIC_KEY_LEN + 8];
        snprintf(key, sizeof key, "eval.%s", r->m.eval.cols[i].key);
        gt__buf_puts(b, k++ ? "," : "");
        gt__buf_json_str(b, key);
    }
    gt__buf_printf(b, "],\"bad_lines\":%lld}", (long long)r->m.bad);
    pthread_mutex_unlock(&r->mmu);
}

/* ---- start and stop ---------------------------------------------------------------------------- */

/* The index's locks and strings, and the index itself. */
static void gt__runs_destroy(gt__runs *R) {
    pthread_mutex_destroy(&R->mu);
    pthread_cond_destroy(&R->cv);
    pthread_mutex_destroy(&R->xmu);
    pthread_mutex_destroy(&R->xqm);
    pthread_cond_destroy(&R->xcv);
    free(R->dir);
    free(R);
}

gt_status gt__runs_start(gt_lab_server *S, const char *dir, gt__runs **out) {
    *out = NULL;
    if (!dir || !dir[0]) return gt_set_error(GT_ERR_ARG, "the runs folder must be a path");
    struct stat sb;
    if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
        return gt_set_error(GT_ERR_IO, "runs folder %s: not a folder", dir);
    gt__runs *R = calloc(1, sizeof *R);
    if (!R || !(R->dir = strdup(dir))) {
        free(R);
        return gt_set_error(GT_ERR_OOM, "out of memory");
    }
    size_t n = strlen(R->dir);
    while (n > 1 && R->dir[n - 1] == '/') R->dir[--n] = 0;
    R->S = S;
    pthread_mutex_init(&R->mu, NULL);
    gt__cond_init(&R->cv);
    pthread_mutex_init(&R->xmu, NULL);
    pthread_mutex_init(&R->xqm, NULL);
    pthread_cond_init(&R->xcv, NULL);
    R->ifd = R->dir_wd = -1;
    R->wake[0] = R->wake[1] = -1;
    gt_status st = gt__watch_start(R);
    if (st != GT_OK) {
        gt__runs_destroy(R);
        return st;
    }
    *out = R;
    return GT_OK;
}

void gt__runs_stop(gt__runs *R) {
    if (!R) return;
    gt__watch_stop(R);
    gt__explore_free(R);
    for (gt__run *r = R->head, *nx; r; r = nx) {
        nx = r->next;
        gt__run_free(r); /* the streams are gone: the list's is the last reference */
    }
    gt__blob_unref(R->list_blob);
    gt__runs_destroy(R);
}
