/* The run loop: steps to the target, and the run folder it keeps -
 * config.json, metrics.jsonl, status.json, sample grids, checkpoints (atomic). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gantry/train.h"

static double gt__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* mkdir -p for one level below an existing or creatable parent. */
static gt_status gt__mkdirs(const char *path) {
    char buf[GT_PATH_MAX + 32];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return gt_set_error(GT_ERR_ARG, "run folder path '%s' is empty or too long", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char keep = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return gt_set_error(GT_ERR_IO, "cannot create folder %s: %s", buf, strerror(errno));
        struct stat sb;
        if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return gt_set_error(GT_ERR_IO, "%s exists and is not a folder", buf);
        buf[i] = keep;
    }
    return GT_OK;
}

const char *gt_train_last_ckpt(const gt_train_config *c, char *buf, size_t n) {
    snprintf(buf, n, "%s/last.safetensors", c->out);
    return buf;
}

/* Keeps metrics.jsonl lines up to `step` (a resumed run rewrites what came after). */
static gt_status gt__trim_metrics(const char *path, uint64_t step) {
    void *buf = NULL;
    size_t n = 0;
    if (access(path, F_OK) != 0) return GT_OK;
    gt_status st = gt_read_file(path, &buf, &n, 0);
    if (st != GT_OK) return st;
    char *s = buf, *w = buf;
    while (*s) {
        char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) + 1 : strlen(s);
        const char *k = strstr(s, "\"step\":");
        unsigned long long v = 0;
        bool keep = k && k < s + len && sscanf(k + 7, "%llu", &v) == 1 && v <= step;
        if (keep) memmove(w, s, len), w += len;
        s += len;
    }
    st = gt_write_file_atomic(path, buf, (size_t)(w - (char *)buf));
    free(buf);
    return st;
}

/* Removes checkpoints/step_*.safetensors but the newest keep. */
static void gt__prune(const char *dir, int keep) {
    if (keep <= 0) return;
    DIR *d = opendir(dir);
    if (!d) return;
    enum { GT__MAXF = 4096 };
    unsigned long long *steps = malloc(GT__MAXF * sizeof *steps);
    int n = 0;
    struct dirent *e;
    while (steps && n < GT__MAXF && (e = readdir(d))) {
        unsigned long long v;
        char tail[32];
        if (sscanf(e->d_name, "step_%llu.%31s", &v, tail) == 2 && strcmp(tail, "safetensors") == 0) steps[n++] = v;
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort, newest last */
        for (int j = i; j > 0 && steps[j - 1] > steps[j]; j--) {
            unsigned long long x = steps[j];
            steps[j] = steps[j - 1], steps[j - 1] = x;
        }
    for (int i = 0; i + keep < n; i++) {
        char p[GT_PATH_MAX + 64];
        snprintf(p, sizeof p, "%s/step_%06llu.safetensors", dir, steps[i]);
        unlink(p);
    }
    free(steps);
}

/* Saves checkpoints/step_N and makes last.safetensors the same file (a hard
 * link renamed over it: atomic, no second write), or saves last only. */
static gt_status gt__checkpoint(gt_trainer *t, bool periodic, const gt_train_hooks *h) {
    const gt_train_config *c = &t->cfg;
    char last[GT_PATH_MAX + 64], step[GT_PATH_MAX + 64], tmp[GT_PATH_MAX + 96], dir[GT_PATH_MAX + 32];
    gt_train_last_ckpt(c, last, sizeof last);
    gt_status st;
    if (periodic) {
        snprintf(dir, sizeof dir, "%s/checkpoints", c->out);
        snprintf(step, sizeof step, "%s/step_%06llu.safetensors", dir, (unsigned long long)t->step);
        st = gt_trainer_save(t, step);
        if (st != GT_OK) return st;
        if (h && h->wrote) h->wrote("checkpoint", step, h->user);
        snprintf(tmp, sizeof tmp, "%s/.last.safetensors.link.%d", c->out, (int)getpid());
        unlink(tmp);
        if (link(step, tmp) == 0) { /* else (no hard links here) last is written in full below */
            st = gt_rename_durable(tmp, last);
            if (st != GT_OK) unlink(tmp); /* a failed rename is an I/O error: reported, not papered over */
            else gt__prune(dir, c->keep_ckpts);
            return st;
        }
        gt__prune(dir, c->keep_ckpts);
    }
    st = gt_trainer_save(t, last);
    if (st == GT_OK && h && h->wrote) h->wrote("checkpoint", last, h->user);
    return st;
}

static gt_status gt__write_grid(gt_trainer *t, bool periodic, const gt_train_hooks *h) {
    const gt_train_config *c = &t->cfg;
    char p[GT_PATH_MAX + 64];
    int m = gt_scope_begin();
    gt_tensor *x = gt_trainer_sample(t, t->fixed_z);
    int nrow = (int)ceil(sqrt((double)c->n_samples));
    gt_status st = x ? GT_OK : gt_last_status();
    if (st == GT_OK && periodic) {
        snprintf(p, sizeof p, "%s/samples/step_%06llu.png", c->out, (unsigned long long)t->step);
        st = gt_save_grid(p, x, nrow, 2);
    }
    if (st == GT_OK) {
        snprintf(p, sizeof p, "%s/samples/last.png", c->out);
        st = gt_save_grid(p, x, nrow, 2);
        if (st == GT_OK && h && h->wrote) h->wrote("samples", p, h->user);
    }
    gt_scope_end(m);
    return st;
}

/* A temporary name left in a run folder by a writer that is gone (killed mid-write):
 * ".<name>.tmp.<pid>.<x>" (gt_atomic_*) or ".last.safetensors.link.<pid>" (gt__checkpoint). */
static bool gt__stale_tmp(const char *nm) {
    if (nm[0] != '.') return false;
    const char *p = NULL, *q;
    for (q = nm + 1; (q = strstr(q, ".tmp.")); q++) p = q + 5;
    for (q = nm + 1; !p && (q = strstr(q, ".link.")); q++) p = q + 6;
    if (!p) return false;
    char *end = NULL;
    long pid = strtol(p, &end, 10);
    if (pid <= 0 || end == p || (*end != '.' && *end != 0)) return false;
    return pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int gt__remove_stale(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!gt__stale_tmp(e->d_name)) continue;
        char p[GT_PATH_MAX + 320];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        n += unlink(p) == 0;
    }
    closedir(d);
    return n;
}

static int gt__remove_stale_all(const char *out) {
    char p[GT_PATH_MAX + 32];
    int n = gt__remove_stale(out);
    snprintf(p, sizeof p, "%s/checkpoints", out);
    n += gt__remove_stale(p);
    snprintf(p, sizeof p, "%s/samples", out);
    return n + gt__remove_stale(p);
}

/* A checkpoint's train.step, or -1 when it cannot be read. */
static long long gt__ckpt_step(const char *path) {
    gt_safetensors s;
    gt_st_init(&s);
    long long step = -1;
    if (access(path, F_OK) == 0 && gt_st_load(&s, path) == GT_OK) {
        const gt_st_tensor *ts = gt_st_find(&s, "train.step");
        uint64_t v = 0;
        if (ts && ts->dtype == GT_ST_U64 && ts->numel == 1) memcpy(&v, ts->data, sizeof v), step = (long long)v;
    }
    gt_st_free(&s);
    return step;
}

gt_status gt_train_recover(const char *out, int *removed, long long *relinked) {
    if (removed) *removed = 0;
    if (relinked) *relinked = -1;
    if (!out || !out[0]) return gt_set_error(GT_ERR_ARG, "gt_train_recover: no run folder");
    int n = gt__remove_stale_all(out);
    if (removed) *removed = n;
    /* the newest checkpoints/step_N: complete when present (saved atomically) */
    char dir[GT_PATH_MAX + 32], step[GT_PATH_MAX + 64], last[GT_PATH_MAX + 64], tmp[GT_PATH_MAX + 96];
    snprintf(dir, sizeof dir, "%s/checkpoints", out);
    DIR *d = opendir(dir);
    if (!d) return GT_OK;
    unsigned long long newest = 0;
    bool any = false;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned long long v;
        char tail[32];
        if (sscanf(e->d_name, "step_%llu.%31s", &v, tail) == 2 && !strcmp(tail, "safetensors") && (!any || v > newest))
            newest = v, any = true;
    }
    closedir(d);
    if (!any) return GT_OK;
    snprintf(step, sizeof step, "%s/step_%06llu.safetensors", dir, newest);
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    long long at = gt__ckpt_step(last);
    if (at >= (long long)newest || gt__ckpt_step(step) != (long long)newest) return GT_OK;
    /* killed between saving step_N and pointing last at it: point it now (as gt__checkpoint) */
    snprintf(tmp, sizeof tmp, "%s/.last.safetensors.link.%d", out, (int)getpid());
    unlink(tmp);
    if (link(step, tmp) != 0 || rename(tmp, last) != 0) {
        int err = errno;
        unlink(tmp);
        return gt_set_error(GT_ERR_IO, "cannot point %s at %s: %s", last, step, strerror(err));
    }
    if (relinked) *relinked = (long long)newest;
    return GT_OK;
}

static gt_status gt__prepare_folder(gt_trainer *t) {
    const gt_train_config *c = &t->cfg;
    char p[GT_PATH_MAX + 64];
    gt_status st = gt__mkdirs(c->out);
    if (st == GT_OK) gt__remove_stale_all(c->out); /* temporary files of a killed earlier run */
    snprintf(p, sizeof p, "%s/samples", c->out);
    if (st == GT_OK) st = gt__mkdirs(p);
    snprintf(p, sizeof p, "%s/checkpoints", c->out);
    if (st == GT_OK) st = gt__mkdirs(p);
    char *json = gt_train_config_to_json(c);
    if (!json) return gt_set_error(GT_ERR_OOM, "out of memory");
    snprintf(p, sizeof p, "%s/config.json", c->out);
    if (st == GT_OK) {
        size_t n = strlen(json);
        json[n] = '\n'; /* cJSON_Print leaves room for exactly the terminator: write n+1 bytes */
        st = gt_write_file_atomic(p, json, n + 1);
    }
    free(json);
    snprintf(p, sizeof p, "%s/metrics.jsonl", c->out);
    if (st == GT_OK) st = gt__trim_metrics(p, t->step);
    return st;
}

/* s as the inside of a JSON string (quotes, back-slashes and control characters escaped). */
static void gt__json_esc(char *dst, size_t n, const char *s) {
    size_t k = 0;
    for (; *s && k + 7 < n; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') dst[k++] = '\\', dst[k++] = (char)ch;
        else if (ch < 0x20) k += (size_t)snprintf(dst + k, n - k, "\\u%04x", ch);
        else dst[k++] = (char)ch;
    }
    dst[k] = 0;
}

/* status.json (docs/DASHBOARD.md): the run's state for `gantry lab --runs`, rewritten atomically
 * at the start, at each metrics line and at the end. Writing it never fails the run (the error
 * a failed run reports is kept). */
static void gt__status(const gt_trainer *t, const char *state, const char *msg, long long started) {
    const gt_train_config *c = &t->cfg;
    if (!c->out[0]) return;
    gt_status kept = gt_last_status();
    char keep[1024];
    snprintf(keep, sizeof keep, "%s", gt_last_error());
    char host[256] = "", hs[600], ms[1400], json[2400], p[GT_PATH_MAX + 32];
    if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
    gt__json_esc(hs, sizeof hs, host);
    gt__json_esc(ms, sizeof ms, msg ? msg : "");
    int n = snprintf(json, sizeof json,
                     "{\"state\": \"%s\", \"pid\": %d, \"host\": \"%s\", \"step\": %llu, \"steps\": %lld, "
                     "\"started_unix\": %lld, \"updated_unix\": %lld, \"message\": \"%s\"}\n",
                     state, (int)getpid(), hs, (unsigned long long)t->step, (long long)c->steps, started,
                     (long long)time(NULL), ms);
    snprintf(p, sizeof p, "%s/status.json", c->out);
    if (n > 0 && n < (int)sizeof json) gt_write_file_atomic(p, json, (size_t)n);
    if (kept != GT_OK) gt_set_error(kept, "%s", keep);
}

typedef struct {
    double t0, steps_time;
    uint64_t step0, n;
    gt_step_stats sum;
} gt__interval;

static void gt__acc(gt__interval *iv, const gt_step_stats *s) {
    iv->sum.loss_d += s->loss_d, iv->sum.loss_g += s->loss_g, iv->sum.gp += s->gp;
    iv->sum.d_real += s->d_real, iv->sum.d_fake += s->d_fake;
    for (int k = 0; k < GT_REG_COUNT; k++) iv->sum.reg[k] += s->reg[k];
    iv->sum.loss_measure += s->loss_measure;
    iv->sum.loss_state = s->loss_state; /* the state as it stands, not an average */
    iv->sum.distill += s->distill;
    iv->sum.phase = s->phase; /* the phase as it stands */
    iv->sum.aug_p = s->aug_p, iv->sum.ada_rt = s->ada_rt; /* augmentation's p and r_t as they stand */
    iv->sum.cr += s->cr, iv->sum.bcr_real += s->bcr_real, iv->sum.bcr_fake += s->bcr_fake;
    iv->sum.zcr_dis += s->zcr_dis, iv->sum.zcr_gen += s->zcr_gen, iv->sum.lecam += s->lecam;
    iv->n++;
}

static void gt__progress(gt_trainer *t, const gt__interval *iv, const gt_step_stats *last, bool final,
                         gt_train_progress *p) {
    const gt_train_config *c = &t->cfg;
    memset(p, 0, sizeof *p);
    p->step = t->step, p->steps = (uint64_t)c->steps, p->final = final;
    p->it_s = iv->steps_time > 0 ? (double)iv->n / iv->steps_time : 0;
    p->img_s = p->it_s * c->batch * c->n_critic;
    p->eta_s = p->it_s > 0 ? (double)(p->steps - p->step) / p->it_s : 0;
    p->elapsed_s = t->elapsed_s;
    if (iv->n && !last) {
        double k = 1.0 / (double)iv->n, last_state = iv->sum.loss_state;
        p->mean = (gt_step_stats){iv->sum.loss_d * k, iv->sum.loss_g * k, iv->sum.gp * k, iv->sum.d_real * k,
                                  iv->sum.d_fake * k, {0}, last_state, iv->sum.loss_measure * k,
                                  iv->sum.distill * k, iv->sum.phase, 0, 0, 0, 0, 0, 0, 0, 0};
        for (int r = 0; r < GT_REG_COUNT; r++) p->mean.reg[r] = iv->sum.reg[r] * k;
        p->mean.aug_p = iv->sum.aug_p, p->mean.ada_rt = iv->sum.ada_rt;
        p->mean.cr = iv->sum.cr * k, p->mean.bcr_real = iv->sum.bcr_real * k, p->mean.bcr_fake = iv->sum.bcr_fake * k;
        p->mean.zcr_dis = iv->sum.zcr_dis * k, p->mean.zcr_gen = iv->sum.zcr_gen * k, p->mean.lecam = iv->sum.lecam * k;
    } else if (last) {
        p->mean = *last;
    }
}

static gt_status gt__log_line(FILE *f, const gt_train_progress *p, const gt_train_config *c) {
    if (!f) return GT_OK;
    /* every value reads back exactly; a NaN loss (a diverged run) is null, still valid JSON */
    char v[7][40], regs[768] = "";
    size_t rn = 0; /* the regularizers in use besides gp (always logged) */
    for (int k = GT_REG_GP + 1; k < GT_REG_COUNT && rn < sizeof regs; k++) {
        double w = k == GT_REG_DRAGAN ? c->dragan : k == GT_REG_R1 ? c->r1 : c->r2;
        char x[40];
        if (w > 0)
            rn += (size_t)snprintf(regs + rn, sizeof regs - rn, "\"%s\":%s,", gt_reg_def_get((gt_reg_kind)k)->name,
                                   gt_fmt_double(p->mean.reg[k], x, sizeof x));
    }
    if (gt_loss_def_get(c->loss)->update && rn < sizeof regs) { /* BEGAN's k_t and convergence measure */
        char x[40], y[40];
        rn += (size_t)snprintf(regs + rn, sizeof regs - rn, "\"k\":%s,\"M\":%s,",
                               gt_fmt_double(p->mean.loss_state, x, sizeof x),
                               gt_fmt_double(p->mean.loss_measure, y, sizeof y));
    }
    if (p->mean.phase > 0 && rn < sizeof regs) { /* a scheme with phases (anycost): its phase and distillation */
        char x[40];
        rn += (size_t)snprintf(regs + rn, sizeof regs - rn, "\"phase\":\"%s\",\"distill\":%s,",
                               p->mean.phase == 1 ? "multires" : "channels",
                               gt_fmt_double(p->mean.distill, x, sizeof x));
    }
    if (gt_train_uses_augment(c) && rn < sizeof regs) { /* the augmentation's p and ADA's r_t (null before one) */
        char x[40], y[40];
        rn += (size_t)snprintf(regs + rn, sizeof regs - rn, "\"aug_p\":%s,\"ada_rt\":%s,",
                               gt_fmt_double(p->mean.aug_p, x, sizeof x), gt_fmt_double(p->mean.ada_rt, y, sizeof y));
    }
    const struct { const char *key; double w, v; } cr[] = {
        {"cr", c->cr, p->mean.cr},
        {"bcr_real", c->bcr_real, p->mean.bcr_real},
        {"bcr_fake", c->bcr_fake, p->mean.bcr_fake},
        {"zcr_dis", c->zcr_dis, p->mean.zcr_dis},
        {"zcr_gen", c->zcr_gen, p->mean.zcr_gen},
        {"lecam", c->lecam, p->mean.lecam},
    };
    for (size_t i = 0; i < sizeof cr / sizeof *cr && rn < sizeof regs; i++) { /* the consistency terms in use */
        char x[40];
        if (cr[i].w > 0)
            rn += (size_t)snprintf(regs + rn, sizeof regs - rn, "\"%s\":%s,", cr[i].key,
                                   gt_fmt_double(cr[i].v, x, sizeof x));
    }
    fprintf(f,
            "{\"step\":%llu,\"loss_d\":%s,\"loss_g\":%s,\"gp\":%s,%s\"d_real\":%s,\"d_fake\":%s,"
            "\"it_s\":%s,\"img_s\":%s,\"time_s\":%.3f,\"unix\":%lld}\n",
            (unsigned long long)p->step, gt_fmt_double(p->mean.loss_d, v[0], 40),
            gt_fmt_double(p->mean.loss_g, v[1], 40), gt_fmt_double(p->mean.gp, v[2], 40), regs,
            gt_fmt_double(p->mean.d_real, v[3], 40), gt_fmt_double(p->mean.d_fake, v[4], 40),
            gt_fmt_double(p->it_s, v[5], 40), gt_fmt_double(p->img_s, v[6], 40), p->elapsed_s,
            (long long)time(NULL));
    return fflush(f) == 0 ? GT_OK : gt_set_error(GT_ERR_IO, "writing metrics.jsonl failed: %s", strerror(errno));
}

/* --eval-every: one metrics.jsonl line {"step", "eval": {...}} with the asked
 * metrics, and a note to the hooks. */
static gt_status gt__eval_line(gt_trainer *t, FILE *f, const gt_train_hooks *h) {
    const gt_train_config *c = &t->cfg;
    double a = gt__now();
    gt_train_eval_result r;
    gt_status st = gt_train_eval(t, &r);
    if (st != GT_OK) return st;
    double dt = gt__now() - a;
    int64_t n = c->eval_n < t->ds->n ? c->eval_n : t->ds->n;
    const struct {
        const char *key, *label;
        double v;
    } m[] = {{"fid", "FID", r.fid},          {"kid", "KID", r.kid},
             {"kid_std", NULL, r.kid_std},   {"is", "IS", r.is},
             {"is_std", NULL, r.is_std},     {"precision", "precision", r.precision},
             {"recall", "recall", r.recall}, {"f_score", NULL, r.f_score},
             {"density", "density", r.density}, {"coverage", "coverage", r.coverage}};
    char json[640] = "", what[384] = "";
    size_t jl = 0, wl = 0;
    for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
        if (isnan(m[i].v)) continue;
        char num[40];
        jl += (size_t)snprintf(json + jl, sizeof json - jl, "\"%s\":%s,", m[i].key, gt_fmt_double(m[i].v, num, 40));
        if (m[i].label) wl += (size_t)snprintf(what + wl, sizeof what - wl, "%s%s %.4f", wl ? ", " : "", m[i].label, m[i].v);
        if (jl >= sizeof json || wl >= sizeof what) return gt_set_error(GT_ERR_STATE, "eval line too long");
    }
    if (f) {
        fprintf(f, "{\"step\":%llu,\"eval\":{%s\"extractor\":\"%s\",\"n\":%lld,\"time_s\":%.3f}}\n",
                (unsigned long long)t->step, json, c->eval_extractor, (long long)n, dt);
        if (fflush(f) != 0) return gt_set_error(GT_ERR_IO, "writing metrics.jsonl failed: %s", strerror(errno));
    }
    if (h && h->wrote) {
        char note[512];
        snprintf(note, sizeof note, "%s (%s features, %lld images each, %.1f s) at step %llu", what,
                 c->eval_extractor, (long long)n, dt, (unsigned long long)t->step);
        h->wrote(note, c->out[0] ? "metrics.jsonl" : "(no run folder)", h->user);
    }
    return GT_OK;
}

gt_status gt_train_run(gt_trainer *t, const gt_train_hooks *h) {
    if (!t || !t->G.ops) return gt_set_error(GT_ERR_STATE, "gt_train_run: trainer not initialised");
    const gt_train_config *c = &t->cfg;
    if (t->step >= (uint64_t)c->steps) /* before anything is written: no run folder for no training */
        return gt_set_error(GT_ERR_ARG, "nothing to train: the run is at step %llu and steps is %lld",
                            (unsigned long long)t->step, (long long)c->steps);
    bool out = c->out[0] != '\0';
    FILE *metrics = NULL;
    gt_status st = GT_OK;
    if (out) {
        st = gt__prepare_folder(t);
        if (st != GT_OK) return st;
        char p[GT_PATH_MAX + 64];
        snprintf(p, sizeof p, "%s/metrics.jsonl", c->out);
        metrics = fopen(p, "a");
        if (!metrics) return gt_set_error(GT_ERR_IO, "cannot open %s for writing: %s", p, strerror(errno));
    }
    const long long started = (long long)time(NULL);
    gt__status(t, "running", NULL, started);
    gt__interval iv = {.t0 = gt__now(), .step0 = t->step};
    uint64_t target = (uint64_t)c->steps;
    bool stopped = false, saved = false, sampled = false;
    gt_step_stats s = {0};
    while (t->step < target && st == GT_OK) {
        double a = gt__now();
        st = gt_trainer_step(t, &s);
        if (st != GT_OK) break;
        double dt = gt__now() - a;
        t->elapsed_s += dt;
        iv.steps_time += dt;
        gt__acc(&iv, &s);
        saved = sampled = false;
        gt_train_progress p;
        if (h && h->progress) {
            gt__progress(t, &iv, &s, false, &p);
            h->progress(&p, false, h->user);
        }
        stopped = h && h->should_stop && h->should_stop(h->user);
        bool end = t->step == target || stopped;
        if (t->step % (uint64_t)c->log_every == 0 || end) {
            gt__progress(t, &iv, NULL, end, &p);
            st = gt__log_line(metrics, &p, &t->cfg);
            if (st == GT_OK && !end) gt__status(t, "running", NULL, started);
            if (h && h->progress) h->progress(&p, true, h->user);
            iv = (gt__interval){.t0 = gt__now(), .step0 = t->step};
        }
        if (st == GT_OK && out && c->sample_every && t->step % (uint64_t)c->sample_every == 0) {
            st = gt__write_grid(t, true, h);
            sampled = true;
        }
        if (st == GT_OK && c->eval_every && t->step % (uint64_t)c->eval_every == 0) st = gt__eval_line(t, metrics, h);
        if (st == GT_OK && out && c->ckpt_every && t->step % (uint64_t)c->ckpt_every == 0) {
            st = gt__checkpoint(t, true, h);
            saved = true;
        }
        if (stopped) break;
    }
    if (st == GT_OK && out && !sampled) st = gt__write_grid(t, false, h);
    if (st == GT_OK && out && !saved) st = gt__checkpoint(t, false, h);
    if (metrics) fclose(metrics);
    if (out) gt__status(t, st != GT_OK ? "failed" : t->step >= target ? "finished" : "interrupted",
                        st != GT_OK ? gt_last_error() : NULL, started);
    return st;
}
