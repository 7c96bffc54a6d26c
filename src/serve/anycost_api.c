/* The anycost editor (docs/anycost/editor.md): POST /api/anycost/open, /render, /project, /close.
 * An editor is one opened anycost checkpoint of the runs folder: its generator (the EMA G when
 * present), the class directions of gt_anycost_directions (computed once, at open), and every
 * uniform sub-generator (ratio 0.25..1 x levels 8..R) with its MACs and its latency measured at
 * open (batch 1, a warm-up and GT__ED_REPS timed rounds, the fastest). A render is the seed's w
 * moved along the chosen directions, then either the full generator ("final") or the largest-MACs
 * sub-generator whose measured latency is within the budget (the smallest when none is), as a PNG
 * at the sub-generator's own resolution (the page scales it up).
 *
 * As the latent explorer (explore.c): requests run one at a time (a second waits up to GT__ED_WAIT_S,
 * then 503), each on the editor's own engine thread (started by the first request), since the
 * engine's state is per thread. Editors unused for the server's idle time (its sessions': 10 minutes
 * by default) are freed at the next request; at most GT__ED_MAX are open (another open frees the
 * least recently used); gt__anycost_stop frees a server's editors and ends the thread once none is left.
 * An uploaded picture (/project) is projected into w (gt_anycost_project) and kept by its editor. */
#define _DEFAULT_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../backend/cpu/conv.h"
#include "gantry/anycost_edit.h"
#include "gantry/autograd.h"
#include "gantry/checkpoint.h"
#include "runs_internal.h"

#define GT__ED_MAX 4
#define GT__ED_WAIT_S 30
#define GT__ED_DIRS_N 1000
#define GT__ED_DIRS_SEED 0xD1EC7ull
#define GT__ED_REPS 5
#define GT__ED_MAX_STRENGTH 10.0
#define GT__ED_MAX_EDITS 32
#define GT__ED_MAX_CFGS (GT_AC_NRATIOS * 4) /* levels 8..64 */

static const char *const gt__ed_fmnist[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

typedef struct {
    float ratio;
    int res;
    int64_t macs;
    double ms; /* measured at open */
} gt__ed_cfg;

typedef struct {
    char id[17];
    gt_lab_server *S;
    char run[GT__RUN_NAME_MAX + 1], ckpt[64], path[PATH_MAX];
    int64_t mtime_ns, size, step;
    double touched, idle_s, load_ms, measure_ms, dirs_ms; /* idle_s: the server's (sessions' too) */
    gt_net G;
    gt_train_config cfg;
    bool ema;
    gt_tensor *dirs;  /* (K, w_dim) retained, or NULL */
    gt_tensor *wproj; /* the last projected picture's w (1, w_dim) retained, or NULL */
    int K;
    char dirs_note[300]; /* why there are none */
    int ncfg, full;      /* cfgs sorted by MACs; full: the ratio-1 full-resolution one */
    gt__ed_cfg cfgs[GT__ED_MAX_CFGS];
} gt__ed;

enum { GT__J_OPEN, GT__J_RENDER, GT__J_CLOSE, GT__J_PROJECT, GT__J_STOP };

typedef struct {
    int kind;
    gt_lab_server *S;
    char run[GT__RUN_NAME_MAX + 1], ckpt[64], path[PATH_MAX], id[17]; /* open: run, ckpt, path; else id */
    uint64_t seed;
    int nedits, ek[GT__ED_MAX_EDITS];
    float ev[GT__ED_MAX_EDITS];
    bool final, projected;
    double budget;
    int npix, steps; /* project: the picture's values (pix, malloc'd), Adam steps */
    uint8_t *pix;
    int status; /* 0, or the HTTP status of the failure with err */
    char err[700];
    gt_buf out; /* the answer's JSON */
    bool done;
} gt__ed_job;

static struct {
    pthread_mutex_t mu; /* one request at a time (timed), and the table */
    pthread_mutex_t qm; /* the job hand-over */
    pthread_cond_t cv;
    gt__ed_job *job;
    pthread_t th;
    bool th_on, stop;
    gt__ed *eds[GT__ED_MAX];
} gt__E = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, false, false, {0}};

static void gt__ed_do(gt__ed_job *j);

/* ---- the engine thread -------------------------------------------------------------------------- */

static void *gt__ed_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&gt__E.qm);
    for (;;) {
        while (!gt__E.job && !gt__E.stop) pthread_cond_wait(&gt__E.cv, &gt__E.qm);
        if (!gt__E.job) break;
        gt__ed_job *j = gt__E.job;
        pthread_mutex_unlock(&gt__E.qm);
        gt__ed_do(j);
        pthread_mutex_lock(&gt__E.qm);
        j->done = true;
        gt__E.job = NULL;
        pthread_cond_broadcast(&gt__E.cv);
    }
    pthread_mutex_unlock(&gt__E.qm);
#pragma omp parallel
    gt_cpu_conv_workspace_free(); /* the team's (thread-local) workspaces */
    gt_cpu_conv_workspace_free();
    return NULL;
}

/* Runs j on the engine thread and waits (the caller holds gt__E.mu); false: no thread. */
static bool gt__ed_run(gt__ed_job *j) {
    if (!gt__E.th_on) {
        gt__E.stop = false;
        if (pthread_create(&gt__E.th, NULL, gt__ed_main, NULL) != 0) return false;
        gt__E.th_on = true;
    }
    pthread_mutex_lock(&gt__E.qm);
    gt__E.job = j;
    pthread_cond_broadcast(&gt__E.cv);
    while (!j->done) pthread_cond_wait(&gt__E.cv, &gt__E.qm);
    pthread_mutex_unlock(&gt__E.qm);
    return true;
}

static bool gt__ed_lock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += GT__ED_WAIT_S;
    return pthread_mutex_timedlock(&gt__E.mu, &ts) == 0;
}

/* ---- editors (on the engine thread) ------------------------------------------------------------- */

static void gt__ed_free(gt__ed *e) {
    if (!e) return;
    gt_release(e->dirs);
    gt_release(e->wproj);
    gt_net_free(&e->G);
    free(e);
}

static void gt__ed_drop(int i) {
    gt__ed_free(gt__E.eds[i]);
    gt__E.eds[i] = NULL;
}


static int gt__ed_find(gt_lab_server *S, const char *id) {
    for (int i = 0; i < GT__ED_MAX; i++)
        if (gt__E.eds[i] && gt__E.eds[i]->S == S && !strcmp(gt__E.eds[i]->id, id)) return i;
    return -1;
}

/* By MACs, then latency. */
static int gt__cmp_cfg(const void *a, const void *b) {
    const gt__ed_cfg *x = a, *y = b;
    if (x->macs != y->macs) return (x->macs > y->macs) - (x->macs < y->macs);
    return (x->ms > y->ms) - (x->ms < y->ms);
}

/* Synthesis of w through sub s (NULL: full), timed: the images or NULL. */
static gt_tensor *gt__ed_synth(gt__ed *e, gt_tensor *w, const gt_anycost_sub *s, double *ms) {
    double t0 = gt__now();
    gt_tensor *x = gt_anycost_synthesis(&e->G, w, s, NULL, NULL);
    if (ms) *ms = (gt__now() - t0) * 1000;
    return x;
}

/* Each uniform config's MACs and measured latency, sorted by MACs: a warm-up, then GT__ED_REPS rounds
 * over all configs (a busy spell of the machine spreads over the configs instead of one config's
 * runs), each config's fastest run (preemptions only add time), kept to the microsecond as the
 * answer shows it (a budget of a shown value picks its config). */
static gt_status gt__ed_measure(gt__ed *e) {
    const gt_model_config *m = &e->cfg.model;
    int sc = gt_scope_begin();
    gt_tensor *z = gt_sample_latents_for(m, 0, 1, 0);
    gt_tensor *w = z ? gt_anycost_mapping(&e->G, z) : NULL;
    gt_status st = w ? GT_OK : gt_last_status();
    gt_anycost_sub subs[GT__ED_MAX_CFGS];
    e->ncfg = 0;
    for (int r = 8; r <= m->res && st == GT_OK; r *= 2)
        for (int k = 0; k < GT_AC_NRATIOS && st == GT_OK && e->ncfg < GT__ED_MAX_CFGS; k++) {
            subs[e->ncfg] = gt_anycost_uniform(gt_anycost_ratios[k], r);
            if ((st = gt_anycost_sub_check(m, &subs[e->ncfg])) != GT_OK) break;
            e->cfgs[e->ncfg] = (gt__ed_cfg){gt_anycost_ratios[k], r, gt_anycost_macs(m, &subs[e->ncfg]), INFINITY};
            e->ncfg++;
        }
    for (int rep = -1; rep < GT__ED_REPS && st == GT_OK; rep++)
        for (int i = 0; i < e->ncfg && st == GT_OK; i++) {
            double ms = 0;
            int sc2 = gt_scope_begin();
            if (!gt__ed_synth(e, w, &subs[i], &ms)) st = gt_last_status();
            gt_scope_end(sc2);
            if (rep >= 0) e->cfgs[i].ms = fmin(e->cfgs[i].ms, ms);
        }
    gt_scope_end(sc);
    if (st != GT_OK) return st ? st : GT_ERR_STATE;
    for (int i = 0; i < e->ncfg; i++) e->cfgs[i].ms = fmax(0.001, round(e->cfgs[i].ms * 1000) / 1000);
    qsort(e->cfgs, (size_t)e->ncfg, sizeof e->cfgs[0], gt__cmp_cfg);
    e->full = -1;
    for (int i = 0; i < e->ncfg; i++)
        if (e->cfgs[i].ratio == 1.0f && e->cfgs[i].res == m->res) e->full = i;
    return e->ncfg && e->full >= 0 ? GT_OK : gt_set_error(GT_ERR_STATE, "no full-resolution config was measured");
}

/* The preview's config for a budget: the largest MACs within it, else the smallest. */
static int gt__ed_pick(const gt__ed *e, double budget_ms) {
    int best = -1;
    for (int i = 0; i < e->ncfg; i++)
        if (e->cfgs[i].ms <= budget_ms && (best < 0 || e->cfgs[i].macs >= e->cfgs[best].macs)) best = i;
    return best >= 0 ? best : 0;
}

static void gt__cfg_json(gt_buf *b, const gt__ed_cfg *c) {
    gt__buf_printf(b, "{\"channels\":%g,\"res\":%d,\"macs\":%lld,\"latency_ms\":%.3f}", c->ratio, c->res,
                   (long long)c->macs, c->ms);
}

static void gt__ed_json(gt_buf *b, const gt__ed *e) {
    const gt_model_config *m = &e->cfg.model;
    gt__buf_printf(b, "{\"id\":\"%s\",\"run\":", e->id);
    gt__buf_json_str(b, e->run);
    gt__buf_puts(b, ",\"ckpt\":");
    gt__buf_json_str(b, e->ckpt);
    gt__buf_printf(b, ",\"family\":\"anycost\",\"res\":%d,\"channels\":%d,\"nz\":%d,\"ema\":%s,\"step\":", m->res,
                   m->channels, m->nz, e->ema ? "true" : "false");
    if (e->step >= 0) gt__buf_printf(b, "%lld", (long long)e->step);
    else gt__buf_puts(b, "null");
    gt__buf_puts(b, ",\"levels\":[");
    for (int r = 8, i = 0; r <= m->res; r *= 2, i++) gt__buf_printf(b, "%s%d", i ? "," : "", r);
    gt__buf_puts(b, "],\"ratios\":[");
    for (int k = 0; k < GT_AC_NRATIOS; k++) gt__buf_printf(b, "%s%g", k ? "," : "", gt_anycost_ratios[k]);
    gt__buf_puts(b, "],\"configs\":[");
    for (int i = 0; i < e->ncfg; i++) {
        if (i) gt__buf_puts(b, ",");
        gt__cfg_json(b, &e->cfgs[i]);
    }
    gt__buf_puts(b, "],\"full\":");
    gt__cfg_json(b, &e->cfgs[e->full]);
    gt__buf_puts(b, ",\"directions\":[");
    for (int k = 0; k < e->K; k++) {
        char lab[32];
        snprintf(lab, sizeof lab, "class %d", k);
        if (k) gt__buf_puts(b, ",");
        gt__buf_json_str(b, e->K == 10 ? gt__ed_fmnist[k] : lab);
    }
    gt__buf_puts(b, "],\"directions_active\":["); /* a class no generated item fell into has no direction (0) */
    for (int k = 0; k < e->K; k++) {
        const float *d = gt_data(e->dirs) + (size_t)k * e->dirs->shape[1];
        bool on = false;
        for (int64_t i = 0; i < e->dirs->shape[1] && !on; i++) on = d[i] != 0;
        gt__buf_printf(b, "%s%s", k ? "," : "", on ? "true" : "false");
    }
    gt__buf_puts(b, "],\"directions_note\":");
    gt__buf_json_str(b, e->dirs_note);
    gt__buf_printf(b, ",\"open_ms\":{\"load\":%.1f,\"measure\":%.1f,\"directions\":%.1f}}", e->load_ms, e->measure_ms,
                   e->dirs_ms);
}

static void gt__open_job(gt__ed_job *j) {
    struct stat sb;
    if (stat(j->path, &sb) != 0) {
        j->status = 400, snprintf(j->err, sizeof j->err, "ckpt: %s: %s", j->ckpt, strerror(errno));
        return;
    }
    int64_t mt = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    for (int i = 0; i < GT__ED_MAX; i++) { /* the same file already open: the same editor */
        gt__ed *e = gt__E.eds[i];
        if (e && e->S == j->S && !strcmp(e->path, j->path) && e->mtime_ns == mt && e->size == (int64_t)sb.st_size) {
            e->touched = gt__now();
            gt__ed_json(&j->out, e);
            return;
        }
    }
    gt__ed *e = calloc(1, sizeof *e);
    if (!e) {
        j->status = 500, snprintf(j->err, sizeof j->err, "out of memory");
        return;
    }
    double t0 = gt__now();
    if (gt_load_generator(j->path, true, &e->G, &e->cfg, &e->ema) != GT_OK) {
        j->status = 422, snprintf(j->err, sizeof j->err, "ckpt: %s", gt_last_error());
        free(e);
        return;
    }
    e->load_ms = (gt__now() - t0) * 1000;
    const gt_model_config *m = &e->cfg.model;
    if (strcmp(m->name, "anycost") != 0 || !gt_anycost_is(&e->G)) {
        j->status = 400;
        snprintf(j->err, sizeof j->err,
                 "ckpt: %s of run %s is a '%s' model, not anycost (the editor opens anycost checkpoints)", j->ckpt,
                 j->run, m->name);
        gt__ed_free(e);
        return;
    }
    snprintf(e->run, sizeof e->run, "%s", j->run);
    snprintf(e->ckpt, sizeof e->ckpt, "%s", j->ckpt);
    snprintf(e->path, sizeof e->path, "%s", j->path);
    e->S = j->S, e->mtime_ns = mt, e->size = (int64_t)sb.st_size, e->step = -1;
    gt_safetensors s;
    gt_st_init(&s);
    uint64_t step;
    if (gt_st_load(&s, j->path) == GT_OK && gt_st_read(&s, "train.step", GT_ST_U64, &step, 1) == GT_OK)
        e->step = (int64_t)step;
    gt_st_free(&s);
    bool g = gt_no_grad_begin();
    t0 = gt__now();
    gt_status st = gt__ed_measure(e);
    e->measure_ms = (gt__now() - t0) * 1000;
    gt_grad_mode_restore(g);
    if (st != GT_OK) {
        j->status = 500, snprintf(j->err, sizeof j->err, "measuring the sub-generators: %s", gt_last_error());
        gt__ed_free(e);
        return;
    }
    t0 = gt__now();
    if (m->channels == 1 && m->res == 32) {
        if (gt_anycost_directions(&e->G, GT__ED_DIRS_N, GT__ED_DIRS_SEED, &e->dirs) == GT_OK && e->dirs &&
            e->dirs->ndim == 2 && gt_is_contiguous(e->dirs))
            e->K = (int)e->dirs->shape[0];
        else {
            snprintf(e->dirs_note, sizeof e->dirs_note, "no directions: %s", gt_last_error());
            gt_release(e->dirs);
            e->dirs = NULL;
        }
    } else {
        snprintf(e->dirs_note, sizeof e->dirs_note,
                 "no directions: class directions need a 1-channel 32 px (Fashion-MNIST) model, this one is %d px "
                 "with %d channels",
                 m->res, m->channels);
    }
    e->dirs_ms = (gt__now() - t0) * 1000;
    int slot = -1;
    for (int i = 0; i < GT__ED_MAX && slot < 0; i++)
        if (!gt__E.eds[i]) slot = i;
    if (slot < 0) { /* full: the least recently used goes */
        slot = 0;
        for (int i = 1; i < GT__ED_MAX; i++)
            if (gt__E.eds[i]->touched < gt__E.eds[slot]->touched) slot = i;
        gt__ed_drop(slot);
    }
    do gt__random_id(e->id);
    while (gt__ed_find(j->S, e->id) >= 0);
    e->touched = gt__now();
    e->idle_s = j->S->idle_s > 0 ? j->S->idle_s : 600;
    gt__E.eds[slot] = e;
    gt__ed_json(&j->out, e);
}

/* ---- render, project ---------------------------------------------------------------------------- */

/* The job's editor (touched), or NULL with 404. */
static gt__ed *gt__ed_get(gt__ed_job *j) {
    int i = gt__ed_find(j->S, j->id);
    if (i < 0) {
        j->status = 404, snprintf(j->err, sizeof j->err,
                                  "id: no editor '%s' (editors unused for %g s are closed: open the "
                                  "checkpoint again)",
                                  j->id, j->S->idle_s > 0 ? j->S->idle_s : 600);
        return NULL;
    }
    gt__E.eds[i]->touched = gt__now();
    return gt__E.eds[i];
}

static void gt__render_job(gt__ed_job *j) {
    gt__ed *e = gt__ed_get(j);
    if (!e) return;
    for (int k = 0; k < j->nedits; k++)
        if (j->ek[k] >= e->K) {
            j->status = 400;
            if (e->K)
                snprintf(j->err, sizeof j->err, "edits: unknown direction '%d' (this checkpoint has %d: 0..%d)",
                         j->ek[k], e->K, e->K - 1);
            else
                snprintf(j->err, sizeof j->err, "edits: unknown direction '%d' (this checkpoint has none: %s)",
                         j->ek[k], e->dirs_note);
            return;
        }
    if (j->projected && !e->wproj) {
        j->status = 400,
        snprintf(j->err, sizeof j->err, "projected: no image was projected in this editor (POST /api/anycost/project)");
        return;
    }
    int ci = j->final ? e->full : gt__ed_pick(e, j->budget);
    const gt__ed_cfg *c = &e->cfgs[ci];
    gt_anycost_sub sub = gt_anycost_uniform(c->ratio, c->res);
    double t0 = gt__now(), ms = 0;
    bool g = gt_no_grad_begin();
    int sc = gt_scope_begin();
    gt_tensor *z = j->projected ? NULL : gt_sample_latents_for(&e->cfg.model, j->seed, 1, 0);
    gt_tensor *w = j->projected ? e->wproj : z ? gt_anycost_mapping(&e->G, z) : NULL;
    for (int k = 0; k < j->nedits && w; k++)
        if (j->ev[k] != 0) w = gt_anycost_edit(w, e->dirs, j->ek[k], j->ev[k]);
    double edit_ms = (gt__now() - t0) * 1000;
    gt_tensor *x = w ? gt__ed_synth(e, w, j->final ? NULL : &sub, &ms) : NULL;
    gt_buf *b = &j->out;
    gt__buf_puts(b, "{\"png\":\"");
    gt_status st = x ? gt__png_base64(x, b) : gt_last_status();
    gt_scope_end(sc);
    gt_grad_mode_restore(g);
    if (st != GT_OK) {
        j->status = 500, snprintf(j->err, sizeof j->err, "rendering: %s", gt_last_error());
        return;
    }
    gt__buf_printf(b, "\",\"width\":%d,\"height\":%d,\"final\":%s,\"config\":", c->res, c->res,
                   j->final ? "true" : "false");
    gt__cfg_json(b, c);
    gt__buf_printf(b, ",\"latency_ms\":%.3f,\"edit_ms\":%.3f,\"total_ms\":%.3f", ms, edit_ms, (gt__now() - t0) * 1000);
    if (j->projected) gt__buf_puts(b, ",\"seed\":null,\"projected\":true");
    else gt__buf_printf(b, ",\"seed\":%llu,\"projected\":false", (unsigned long long)j->seed);
    if (!j->final) gt__buf_printf(b, ",\"budget_ms\":%.3f", j->budget);
    gt__buf_puts(b, "}");
}

/* An uploaded picture (R x R, the model's channels, 0..255 interleaved) projected into w
 * (gt_anycost_project: the mean w, then Adam steps with the consistency loss); the editor keeps it. */
static void gt__project_job(gt__ed_job *j) {
    gt__ed *e = gt__ed_get(j);
    if (!e) return;
    int R = e->cfg.model.res, C = e->cfg.model.channels;
    if (j->npix != R * R * C) {
        j->status = 400, snprintf(j->err, sizeof j->err,
                                  "pixels: this model takes a %dx%d picture with %d channel%s (%d values "
                                  "0..255, row by row, channels interleaved), got %d values",
                                  R, R, C, C > 1 ? "s" : "", R * R * C, j->npix);
        return;
    }
    float *d = malloc((size_t)j->npix * sizeof *d);
    if (!d) {
        j->status = 500, snprintf(j->err, sizeof j->err, "out of memory");
        return;
    }
    for (int c = 0; c < C; c++)
        for (int p = 0; p < R * R; p++) d[(size_t)c * R * R + p] = j->pix[(size_t)p * C + c] / 127.5f - 1.0f;
    int sc = gt_scope_begin();
    gt_tensor *img = gt_from_data(4, (const int64_t[]){1, C, R, R}, d);
    free(d);
    gt_anycost_project_opts o = gt_anycost_project_default();
    o.steps = j->steps;
    gt_tensor *w = NULL;
    double before = NAN, after = NAN, t0 = gt__now();
    gt_status st = img ? gt_anycost_project(&e->G, img, &o, NULL, &w, &before, &after) : gt_last_status();
    gt_scope_end(sc);
    if (st != GT_OK) {
        j->status = st == GT_ERR_ARG || st == GT_ERR_SHAPE ? 400 : 500;
        snprintf(j->err, sizeof j->err, "pixels: projecting the picture: %s", gt_last_error());
        return;
    }
    gt_release(e->wproj);
    e->wproj = w;
    gt__buf_printf(&j->out, "{\"projected\":true,\"steps\":%d,\"mse_before\":%.6g,\"mse_after\":%.6g,\"ms\":%.1f}",
                   o.steps, before, after, (gt__now() - t0) * 1000);
}

static void gt__ed_do(gt__ed_job *j) {
    if (gt_get_num_threads() > 2) gt_set_num_threads(2);
    double now = gt__now();
    for (int i = 0; i < GT__ED_MAX; i++) /* unused for the server's idle time; or the stopping server's */
        if (gt__E.eds[i] &&
            (now - gt__E.eds[i]->touched > gt__E.eds[i]->idle_s || (j->kind == GT__J_STOP && gt__E.eds[i]->S == j->S)))
            gt__ed_drop(i);
    if (j->kind == GT__J_OPEN) gt__open_job(j);
    else if (j->kind == GT__J_RENDER) gt__render_job(j);
    else if (j->kind == GT__J_PROJECT) gt__project_job(j);
    else if (j->kind == GT__J_CLOSE) {
        int i = gt__ed_find(j->S, j->id);
        if (i < 0) j->status = 404, snprintf(j->err, sizeof j->err, "id: no editor '%s'", j->id);
        else gt__ed_drop(i), gt__buf_puts(&j->out, "{\"closed\":true}");
    }
}

/* ---- the requests ---------------------------------------------------------------------------------- */


/* Fills j from the body: 0, or 400 with the message in j->err. */
static int gt__ed_parse(const cJSON *body, gt__ed_job *j) {
    char safe[64];
    bool have_id = false, have_run = false, have_budget = false;
    const size_t en = sizeof j->err;
    for (const cJSON *v = body->child; v; v = v->next) {
        const char *k = v->string;
        bool open = j->kind == GT__J_OPEN;
        if (open && (!strcmp(k, "run") || !strcmp(k, "ckpt"))) {
            char *dst = k[0] == 'r' ? j->run : j->ckpt;
            size_t cap = k[0] == 'r' ? sizeof j->run : sizeof j->ckpt;
            if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
                return snprintf(j->err, en, "%s must be a string of at most %zu characters", k, cap - 1), 400;
            snprintf(dst, cap, "%s", v->valuestring);
            have_run |= k[0] == 'r';
        } else if (!open && !strcmp(k, "id")) {
            if (!cJSON_IsString(v) || strlen(v->valuestring) != 16 || strspn(v->valuestring, "0123456789abcdef") != 16)
                return snprintf(j->err, en, "id must be an editor id (16 hex digits, from /api/anycost/open)"), 400;
            snprintf(j->id, sizeof j->id, "%s", v->valuestring);
            have_id = true;
        } else if (j->kind == GT__J_RENDER && !strcmp(k, "seed")) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0) ||
                v->valuedouble != floor(v->valuedouble))
                return snprintf(j->err, en, "seed must be an integer in 0..2^53"), 400;
            j->seed = (uint64_t)v->valuedouble;
        } else if (j->kind == GT__J_RENDER && !strcmp(k, "budget_ms")) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1e9))
                return snprintf(j->err, en, "budget_ms must be a number of milliseconds in 0..1e9"), 400;
            j->budget = v->valuedouble, have_budget = true;
        } else if (j->kind == GT__J_RENDER && !strcmp(k, "final")) {
            if (!cJSON_IsBool(v)) return snprintf(j->err, en, "final must be true or false"), 400;
            j->final = cJSON_IsTrue(v);
        } else if (j->kind == GT__J_RENDER && !strcmp(k, "edits")) {
            if (!cJSON_IsObject(v))
                return snprintf(j->err, en, "edits must be an object {\"DIRECTION\": STRENGTH, ...}"), 400;
            for (const cJSON *d = v->child; d; d = d->next) {
                const char *key = d->string;
                size_t nd = strspn(key, "0123456789");
                if (!key[0] || key[nd] || nd > 6 || (nd > 1 && key[0] == '0'))
                    return snprintf(j->err, en, "edits: unknown direction '%s' (directions are numbered 0, 1, ...)",
                                    gt__printable(safe, 40, key)),
                           400;
                if (!cJSON_IsNumber(d) || !(fabs(d->valuedouble) <= GT__ED_MAX_STRENGTH))
                    return snprintf(j->err, en, "edits.%s must be a strength in -%g..%g", key, GT__ED_MAX_STRENGTH,
                                    GT__ED_MAX_STRENGTH),
                           400;
                if (j->nedits >= GT__ED_MAX_EDITS)
                    return snprintf(j->err, en, "edits: at most %d directions", GT__ED_MAX_EDITS), 400;
                j->ek[j->nedits] = atoi(key);
                j->ev[j->nedits++] = (float)d->valuedouble;
            }
        } else if (j->kind == GT__J_RENDER && !strcmp(k, "projected")) {
            if (!cJSON_IsBool(v)) return snprintf(j->err, en, "projected must be true or false"), 400;
            j->projected = cJSON_IsTrue(v);
        } else if (j->kind == GT__J_PROJECT && !strcmp(k, "steps")) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 && v->valuedouble <= 1000) ||
                v->valuedouble != floor(v->valuedouble))
                return snprintf(j->err, en, "steps must be an integer in 1..1000"), 400;
            j->steps = (int)v->valuedouble;
        } else if (j->kind == GT__J_PROJECT && !strcmp(k, "pixels")) {
            int np = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
            if (np < 1 || np > 64 * 64 * 3 || !(j->pix = malloc((size_t)np)))
                return snprintf(j->err, en, "pixels must be an array of 1..%d values 0..255", 64 * 64 * 3), 400;
            for (const cJSON *d = v->child; d; d = d->next) {
                if (!cJSON_IsNumber(d) || !(d->valuedouble >= 0 && d->valuedouble <= 255) ||
                    d->valuedouble != floor(d->valuedouble))
                    return snprintf(j->err, en, "pixels[%d] must be an integer in 0..255", j->npix), 400;
                j->pix[j->npix++] = (uint8_t)d->valuedouble;
            }
        } else {
            return snprintf(j->err, en, "unknown field '%s' (%s)", gt__printable(safe, 40, k),
                            open                       ? "open takes run, ckpt"
                            : j->kind == GT__J_RENDER  ? "render takes id, seed, projected, edits, budget_ms, final"
                            : j->kind == GT__J_PROJECT ? "project takes id, pixels, steps"
                                                       : "close takes id"),
                   400;
        }
    }
    if (j->kind == GT__J_OPEN && !have_run) return snprintf(j->err, en, "run: open needs \"run\": NAME"), 400;
    if (j->kind != GT__J_OPEN && !have_id) return snprintf(j->err, en, "id: the request needs \"id\" (from open)"), 400;
    if (j->kind == GT__J_PROJECT && !j->pix)
        return snprintf(j->err, en, "pixels: project needs \"pixels\": [...]"), 400;
    if (j->kind == GT__J_RENDER && !j->final && !have_budget)
        return snprintf(j->err, en,
                        "budget_ms: a preview needs \"budget_ms\" (or \"final\": true for the full generator)"),
               400;
    return 0;
}

/* The checkpoint's path for an open: 0, or 400 with the message. */
static int gt__ed_resolve(gt__runs *R, gt__ed_job *j) {
    char safe[140];
    const size_t en = sizeof j->err;
    if (!gt__run_name_ok(j->run))
        return snprintf(j->err, en, "run must be a run name (1 to 128 of A-Z a-z 0-9 . _ -), got '%s'",
                        gt__printable(safe, 130, j->run)),
               400;
    if (!gt__run_ckpt_ok(j->ckpt))
        return snprintf(j->err, en, "ckpt must be last.safetensors or checkpoints/step_N.safetensors, got '%s'",
                        gt__printable(safe, 60, j->ckpt)),
               400;
    gt__run *r = gt__run_get(R, j->run);
    if (!r) return snprintf(j->err, en, "run: no run '%s' in %s", j->run, gt__printable(safe, 130, R->dir)), 400;
    gt__run_unref(R, r);
    struct stat sb;
    if (snprintf(j->path, sizeof j->path, "%s/%s/%s", R->dir, j->run, j->ckpt) >= (int)sizeof j->path ||
        stat(j->path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return snprintf(j->err, en, "ckpt: no checkpoint %s in run %s", j->ckpt, j->run), 400;
    return 0;
}

static int gt__ed_request(gt_lab_server *S, struct MHD_Connection *c, int kind, const char *body, size_t n) {
    int status;
    cJSON *js = gt__json_parse(body, n, &status);
    if (!js) return gt__reply_error(c, status, "%s", gt_last_error());
    gt__ed_job *j = calloc(1, sizeof *j);
    if (!j) {
        cJSON_Delete(js);
        return gt__reply_error(c, 500, "out of memory");
    }
    j->kind = kind, j->S = S, j->steps = 100;
    snprintf(j->ckpt, sizeof j->ckpt, "last.safetensors");
    status = gt__ed_parse(js, j);
    cJSON_Delete(js);
    if (!status && kind == GT__J_OPEN) status = gt__ed_resolve(S->runs, j);
    if (!status) {
        if (!gt__ed_lock()) {
            free(j->pix);
            free(j);
            return gt__reply_error(c, 503, "the anycost editor is busy with another request (waited %d s): try again",
                                   GT__ED_WAIT_S);
        }
        if (!gt__ed_run(j)) j->status = 500, snprintf(j->err, sizeof j->err, "cannot start the editor's thread");
        pthread_mutex_unlock(&gt__E.mu);
        status = j->status;
    }
    int q;
    if (status) {
        free(j->out.p);
        q = gt__reply_error(c, status, "%s", j->err);
    } else {
        q = gt__reply_json(c, 200, &j->out);
    }
    free(j->pix);
    free(j);
    return q;
}

void gt__anycost_stop(gt_lab_server *S) {
    pthread_mutex_lock(&gt__E.mu);
    if (gt__E.th_on) {
        gt__ed_job j = {.kind = GT__J_STOP, .S = S};
        gt__ed_run(&j);
        free(j.out.p);
        bool any = false;
        for (int i = 0; i < GT__ED_MAX; i++) any |= gt__E.eds[i] != NULL;
        if (!any) { /* no editor left: the thread ends (a later request starts another) */
            pthread_mutex_lock(&gt__E.qm);
            gt__E.stop = true;
            pthread_cond_broadcast(&gt__E.cv);
            pthread_mutex_unlock(&gt__E.qm);
            pthread_join(gt__E.th, NULL);
            gt__E.th_on = false;
            gt__E.stop = false;
        }
    }
    pthread_mutex_unlock(&gt__E.mu);
}

int gt__anycost_api(gt_lab_server *S, struct MHD_Connection *c, const char *rest, const char *method, const char *body,
                    size_t n) {
    if (!S->runs)
        return gt__reply_error(c, 404, "the anycost editor is off (the server was started without a runs folder)");
    int kind = !strcmp(rest, "/open")      ? GT__J_OPEN
               : !strcmp(rest, "/render")  ? GT__J_RENDER
               : !strcmp(rest, "/project") ? GT__J_PROJECT
               : !strcmp(rest, "/close")   ? GT__J_CLOSE
                                           : -1;
    char safe[101];
    if (kind < 0)
        return gt__reply_error(c, 404, "no such path: /api/anycost%s", gt__printable(safe, sizeof safe, rest));
    if (strcmp(method, "POST") != 0) return gt__reply_method(c, "POST");
    return gt__ed_request(S, c, kind, body, n);
}
