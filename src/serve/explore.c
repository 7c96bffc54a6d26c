/* The latent explorer (docs/DASHBOARD.md): GET /api/explore/info and POST /api/explore.
 * A checkpoint's generator is loaded as `gantry sample` loads it (gt_load_generator: the EMA G when
 * asked and present, BN statistics recalibrated with the trainer's seed), the last 2 kept (keyed by
 * path, mtime, size and EMA); latents, generation and the grid picture are gantry/sampling.h's, as
 * `gantry sample` makes them (a grid from a seed, or a slerp between two seeds), then a PNG.
 * Requests run one at a time (a second waits up to 10 s, then 503), each on the explorer's own
 * engine thread (started on the first request, ended with the server): the engine's state is per
 * thread (scopes, grad mode, workspaces), so it runs beside the lab's worker thread, and one
 * long-lived thread keeps one OpenMP team and its convolution workspaces (freed when it ends)
 * instead of a new set for each connection thread. */
#define _DEFAULT_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gantry/checkpoint.h"
#include "../backend/cpu/conv.h"
#include "gantry/image.h"
#include "gantry/sampling.h"
#include "runs_internal.h"

#define GT__RECAL_SEED 0x5EEDull /* the trainer's and `gantry sample`'s */
#define GT__GENS 2
#define GT__WAIT_S 10
#define GT__MAX_PIXELS (16u << 20)

struct gt__gen {
    bool valid, used_ema, ema;
    char path[PATH_MAX];
    int64_t mtime_ns, size, step;
    uint64_t used;
    gt_net G;
    gt_train_config cfg;
};

static uint64_t gt__clock;

/* ---- the engine thread -------------------------------------------------------------------------- */

typedef struct gt__xjob {
    void (*fn)(void *);
    void *arg;
    bool done;
} gt__xjob;

static void *gt__xmain(void *arg) {
    gt__runs *R = arg;
    pthread_mutex_lock(&R->xqm);
    for (;;) {
        while (!R->xjob && !R->xstop) pthread_cond_wait(&R->xcv, &R->xqm);
        if (R->xstop) break;
        gt__xjob *j = R->xjob;
        pthread_mutex_unlock(&R->xqm);
        j->fn(j->arg);
        pthread_mutex_lock(&R->xqm);
        j->done = true;
        R->xjob = NULL;
        pthread_cond_broadcast(&R->xcv);
    }
    pthread_mutex_unlock(&R->xqm);
#pragma omp parallel
    gt_cpu_conv_workspace_free(); /* the team's (thread-local) workspaces */
    gt_cpu_conv_workspace_free();
    return NULL;
}

/* Runs fn(arg) on the engine thread and waits (the caller holds xmu); false: no thread. */
static bool gt__xrun(gt__runs *R, void (*fn)(void *), void *arg) {
    if (!R->xth_on) {
        if (pthread_create(&R->xth, NULL, gt__xmain, R) != 0) return false;
        R->xth_on = true;
    }
    gt__xjob j = {fn, arg, false};
    pthread_mutex_lock(&R->xqm);
    R->xjob = &j;
    pthread_cond_broadcast(&R->xcv);
    while (!j.done) pthread_cond_wait(&R->xcv, &R->xqm);
    pthread_mutex_unlock(&R->xqm);
    return true;
}

void gt__explore_free(gt__runs *R) {
    if (R->xth_on) {
        pthread_mutex_lock(&R->xqm);
        R->xstop = true;
        pthread_cond_broadcast(&R->xcv);
        pthread_mutex_unlock(&R->xqm);
        pthread_join(R->xth, NULL);
        R->xth_on = false;
    }
    if (!R->gens) return;
    for (int i = 0; i < GT__GENS; i++)
        if (R->gens[i].valid) gt_net_free(&R->gens[i].G);
    free(R->gens);
    R->gens = NULL;
}

typedef struct {
    char run[GT__RUN_NAME_MAX + 1], ckpt[64];
    bool ema, interp;
    uint64_t seed, seed_b;
    int n, nrow, klass, frames, scale, ndims;
    double trunc;
    int dim_i[16];
    float dim_v[16];
} gt__xreq;

/* FILE: last.safetensors or checkpoints/step_DIGITS.safetensors. */
bool gt__run_ckpt_ok(const char *f) {
    if (!strcmp(f, "last.safetensors")) return true;
    if (strncmp(f, "checkpoints/step_", 17) != 0) return false;
    const char *p = f + 17;
    int nd = 0;
    while (*p >= '0' && *p <= '9') p++, nd++;
    return nd >= 1 && nd <= 12 && !strcmp(p, ".safetensors");
}

/* The checkpoint's path, or 0 with the HTTP status of the failure and its message in err. */
static int gt__resolve(gt__runs *R, const gt__xreq *q, char *path, size_t n, char *err, size_t en) {
    char safe[140];
    if (!gt__run_name_ok(q->run)) {
        snprintf(err, en, "run must be a run name (1 to 128 of A-Z a-z 0-9 . _ -), got '%s'",
                 gt__printable(safe, 130, q->run));
        return 400;
    }
    if (!gt__run_ckpt_ok(q->ckpt)) {
        snprintf(err, en, "ckpt must be last.safetensors or checkpoints/step_N.safetensors, got '%s'",
                 gt__printable(safe, 60, q->ckpt));
        return 400;
    }
    gt__run *r = gt__run_get(R, q->run);
    if (!r) {
        snprintf(err, en, "no run '%s' in %s", q->run, gt__printable(safe, 130, R->dir));
        return 404;
    }
    gt__run_unref(R, r);
    struct stat sb;
    if (snprintf(path, n, "%s/%s/%s", R->dir, q->run, q->ckpt) >= (int)n || stat(path, &sb) != 0 ||
        !S_ISREG(sb.st_mode)) {
        snprintf(err, en, "no checkpoint %s in run %s", q->ckpt, q->run);
        return 404;
    }
    return 0;
}

/* The generator of path (cached), or NULL with the loader's message in err. Under xmu. */
static gt__gen *gt__gen_get(gt__runs *R, const char *path, bool ema, char *err, size_t en) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(err, en, "%s: %s", path, strerror(errno));
        return NULL;
    }
    int64_t mt = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    if (!R->gens && !(R->gens = calloc(GT__GENS, sizeof *R->gens))) {
        snprintf(err, en, "out of memory");
        return NULL;
    }
    gt__gen *slot = &R->gens[0];
    for (int i = 0; i < GT__GENS; i++) {
        gt__gen *g = &R->gens[i];
        if (g->valid && g->ema == ema && g->mtime_ns == mt && g->size == (int64_t)sb.st_size && !strcmp(g->path, path)) {
            g->used = ++gt__clock;
            return g;
        }
        if (!g->valid || (slot->valid && g->used < slot->used)) slot = g;
    }
    if (slot->valid) gt_net_free(&slot->G);
    slot->valid = false;
    gt__gen g = {0};
    if (gt_load_generator(path, ema, &g.G, &g.cfg, &g.used_ema) != GT_OK) {
        snprintf(err, en, "%s", gt_last_error());
        return NULL;
    }
    if (gt_recalibrate_bn(&g.G, GT__RECAL_SEED, 8, 64) != GT_OK) {
        snprintf(err, en, "%s", gt_last_error());
        gt_net_free(&g.G);
        return NULL;
    }
    g.step = -1;
    gt_safetensors s;
    gt_st_init(&s);
    uint64_t step;
    if (gt_st_load(&s, path) == GT_OK && gt_st_read(&s, "train.step", GT_ST_U64, &step, 1) == GT_OK)
        g.step = (int64_t)step;
    gt_st_free(&s);
    g.valid = true, g.ema = ema, g.mtime_ns = mt, g.size = (int64_t)sb.st_size, g.used = ++gt__clock;
    snprintf(g.path, sizeof g.path, "%s", path);
    *slot = g;
    return slot;
}

static bool gt__lock(gt__runs *R) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += GT__WAIT_S;
    return pthread_mutex_timedlock(&R->xmu, &ts) == 0;
}

static int gt__busy(struct MHD_Connection *c) {
    return gt__reply_error(c, 503, "the explorer is busy with another request (waited %d s): try again", GT__WAIT_S);
}

/* ---- the request ---------------------------------------------------------------------------------- */

static bool gt__int_in(const cJSON *v, double lo, double hi) {
    return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi && v->valuedouble == floor(v->valuedouble);
}

/* Fills q from the body: 0, or 400 with the message in err. */
static int gt__parse(const cJSON *j, gt__xreq *q, char *err, size_t en) {
    *q = (gt__xreq){.ema = true, .n = 16, .klass = -1, .frames = 8, .scale = 1, .seed_b = 1};
    snprintf(q->ckpt, sizeof q->ckpt, "last.safetensors");
    bool have_run = false;
    const double seed_max = 9007199254740992.0;
    for (const cJSON *v = j->child; v; v = v->next) {
        const char *k = v->string;
        if (!strcmp(k, "run") || !strcmp(k, "ckpt")) {
            char *dst = k[0] == 'r' ? q->run : q->ckpt;
            size_t cap = k[0] == 'r' ? sizeof q->run : sizeof q->ckpt;
            if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
                return snprintf(err, en, "%s must be a string of at most %zu characters", k, cap - 1), 400;
            snprintf(dst, cap, "%s", v->valuestring);
            have_run |= k[0] == 'r';
        } else if (!strcmp(k, "ema")) {
            if (!cJSON_IsBool(v)) return snprintf(err, en, "ema must be true or false"), 400;
            q->ema = cJSON_IsTrue(v);
        } else if (!strcmp(k, "mode")) {
            if (!cJSON_IsString(v) || (strcmp(v->valuestring, "grid") && strcmp(v->valuestring, "interp")))
                return snprintf(err, en, "mode must be \"grid\" or \"interp\""), 400;
            q->interp = !strcmp(v->valuestring, "interp");
        } else if (!strcmp(k, "seed") || !strcmp(k, "seed_b")) {
            if (!gt__int_in(v, 0, seed_max)) return snprintf(err, en, "%s must be an integer in 0..2^53", k), 400;
            *(k[4] ? &q->seed_b : &q->seed) = (uint64_t)v->valuedouble;
        } else if (!strcmp(k, "n")) {
            if (!gt__int_in(v, 1, 64)) return snprintf(err, en, "n must be an integer in 1..64"), 400;
            q->n = (int)v->valuedouble;
        } else if (!strcmp(k, "nrow")) {
            if (!gt__int_in(v, 0, 64)) return snprintf(err, en, "nrow must be an integer in 0..64 (0: square)"), 400;
            q->nrow = (int)v->valuedouble;
        } else if (!strcmp(k, "truncation")) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble == 0 || (v->valuedouble >= 0.1 && v->valuedouble <= 4)))
                return snprintf(err, en, "truncation must be 0 (off) or in 0.1..4"), 400;
            q->trunc = v->valuedouble;
        } else if (!strcmp(k, "class")) {
            if (!gt__int_in(v, -1, 1e6)) return snprintf(err, en, "class must be -1 or a class number"), 400;
            q->klass = (int)v->valuedouble;
        } else if (!strcmp(k, "frames")) {
            if (!gt__int_in(v, 2, 16)) return snprintf(err, en, "frames must be an integer in 2..16"), 400;
            q->frames = (int)v->valuedouble;
        } else if (!strcmp(k, "scale")) {
            if (!gt__int_in(v, 1, 4)) return snprintf(err, en, "scale must be an integer in 1..4"), 400;
            q->scale = (int)v->valuedouble;
        } else if (!strcmp(k, "dims")) {
            if (!cJSON_IsArray(v)) return snprintf(err, en, "dims must be an array of {\"index\", \"value\"}"), 400;
            if (cJSON_GetArraySize(v) > 16) return snprintf(err, en, "dims: at most 16 dimensions, got %d", cJSON_GetArraySize(v)), 400;
            for (const cJSON *d = v->child; d; d = d->next) {
                const cJSON *i = cJSON_GetObjectItemCaseSensitive(d, "index");
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(d, "value");
                if (!cJSON_IsObject(d) || cJSON_GetArraySize(d) != 2 || !gt__int_in(i, 0, 1e6) || !cJSON_IsNumber(x) ||
                    !(fabs(x->valuedouble) <= 5))
                    return snprintf(err, en, "dims: each is {\"index\": I (0..nz-1), \"value\": V (-5..5)}"), 400;
                q->dim_i[q->ndims] = (int)i->valuedouble;
                q->dim_v[q->ndims++] = (float)x->valuedouble;
            }
        } else {
            char safe[60];
            return snprintf(err, en, "unknown field '%s' (explore takes run, ckpt, ema, mode, seed, n, nrow, "
                                     "truncation, class, dims, seed_b, frames, scale)",
                            gt__printable(safe, 50, k)),
                   400;
        }
    }
    if (!have_run) return snprintf(err, en, "explore needs \"run\": NAME"), 400;
    return 0;
}

/* The images as a PNG in memory (*png malloc'd): through a temporary file, as gt_png_write writes files. */
static gt_status gt__png(gt_tensor *x, int nrow, int scale, uint8_t **png, size_t *len) {
    int64_t cols = nrow < x->shape[0] ? nrow : x->shape[0], rows = (x->shape[0] + nrow - 1) / nrow;
    double w = (double)scale * (double)(cols * (x->shape[3] + 2) + 2), h = (double)scale * (double)(rows * (x->shape[2] + 2) + 2);
    if (w * h > GT__MAX_PIXELS)
        return gt_set_error(GT_ERR_ARG, "the image would be %.0fx%.0f pixels: ask for fewer images or a smaller scale", w, h);
    gt_image g = {0};
    gt_status st = gt_grid_image(x, nrow, 2, scale, &g);
    if (st != GT_OK) return st;
    static atomic_uint seq;
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/gantry-explore-%d-%u.png", tmp && tmp[0] ? tmp : "/tmp", (int)getpid(),
             atomic_fetch_add(&seq, 1));
    st = gt_png_write(path, g.data, g.w, g.h, g.c);
    gt_image_free(&g);
    if (st == GT_OK) {
        void *buf = NULL;
        st = gt_read_file(path, &buf, len, 0);
        *png = buf;
    }
    unlink(path);
    return st;
}

/* What a job on the engine thread gets and gives. */
typedef struct {
    gt__runs *R;
    const gt__xreq *q;
    const char *path;
    int status; /* 0 or the HTTP status of the failure, with err */
    uint8_t *png;
    size_t len;
    gt__gen *g;
    char err[700];
} gt__xwork;

static void gt__load_job(void *arg) {
    gt__xwork *w = arg;
    w->g = gt__gen_get(w->R, w->path, w->q->ema, w->err, sizeof w->err);
    if (!w->g) w->status = 422;
}

static void gt__explore_job(void *arg) {
    gt__xwork *w = arg;
    const gt__xreq *q = w->q;
    gt__load_job(w);
    if (!w->g) return;
    const gt_model_config *m = &w->g->cfg.model;
    for (int i = 0; i < q->ndims && !w->status; i++)
        if (q->dim_i[i] >= m->nz)
            w->status = 400, snprintf(w->err, sizeof w->err, "dims: index %d is not below nz %d", q->dim_i[i], m->nz);
    if (!w->status && q->klass >= 0 && m->n_classes == 0)
        w->status = 400, snprintf(w->err, sizeof w->err, "class: model %s is unconditional (it has no classes)", m->name);
    if (!w->status && q->klass >= m->n_classes && m->n_classes > 0)
        w->status = 400,
        snprintf(w->err, sizeof w->err, "class must be in 0..%d for this model, got %d", m->n_classes - 1, q->klass);
    if (w->status) return;
    if (gt_get_num_threads() > 2) gt_set_num_threads(2);
    int count = q->interp ? q->frames : q->n, nrow = q->nrow;
    int sc = gt_scope_begin();
    gt_tensor *z = gt_sample_z(m, q->seed, q->seed_b, q->interp, count, (float)q->trunc);
    if (q->interp && !nrow) nrow = count;
    if (z && q->ndims) {
        z = gt_contiguous(z);
        float *d = z ? gt_data(z) : NULL;
        for (int i = 0; d && i < count; i++)
            for (int k = 0; k < q->ndims; k++) d[(size_t)i * m->nz + q->dim_i[k]] = q->dim_v[k];
    }
    gt_tensor *x = z ? gt_sample_generate(&w->g->G, m, z, q->klass) : NULL;
    if (!nrow) {
        nrow = 1;
        while (nrow * nrow < count) nrow++;
    }
    gt_status st = x ? gt__png(x, nrow, q->scale, &w->png, &w->len) : gt_last_status();
    if (st != GT_OK) {
        w->status = st == GT_ERR_ARG ? 400 : 500;
        snprintf(w->err, sizeof w->err, "%s", gt_last_error());
    }
    gt_scope_end(sc);
}

static int gt__info(gt_lab_server *S, struct MHD_Connection *c) {
    gt__runs *R = S->runs;
    gt__xreq q = {.ema = true};
    const char *run = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "run");
    const char *ck = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ckpt");
    if (!run) return gt__reply_error(c, 400, "info needs ?run=NAME (and ckpt=FILE, default last.safetensors)");
    if (strlen(run) >= sizeof q.run || (ck && strlen(ck) >= sizeof q.ckpt)) return gt__reply_error(c, 400, "run or ckpt is too long");
    snprintf(q.run, sizeof q.run, "%s", run);
    snprintf(q.ckpt, sizeof q.ckpt, "%s", ck ? ck : "last.safetensors");
    for (char *p = q.ckpt; *p; p++) /* a %2F in the query (encodeURIComponent's), which the URL decoding marks */
        if (*p == '\x01') *p = '/'; /* as 0x01: the strict FILE check below still applies */
    char path[PATH_MAX], err[700];
    int st = gt__resolve(R, &q, path, sizeof path, err, sizeof err);
    if (st) return gt__reply_error(c, st, "%s", err);
    if (!gt__lock(R)) return gt__busy(c);
    gt__xwork w = {R, &q, path, 0, NULL, 0, NULL, ""};
    q.ema = true;
    if (!gt__xrun(R, gt__load_job, &w)) snprintf(w.err, sizeof w.err, "cannot start the explorer's thread");
    gt__gen *g = w.g;
    snprintf(err, sizeof err, "%s", w.err);
    gt_buf b = {0};
    if (g) {
        const gt_model_config *m = &g->cfg.model;
        gt__buf_puts(&b, "{\"family\":");
        gt__buf_json_str(&b, m->name);
        gt__buf_printf(&b, ",\"res\":%d,\"channels\":%d,\"nz\":%d,\"n_classes\":%d,\"conditional\":%s,\"has_ema\":%s,"
                           "\"step\":",
                       m->res, m->channels, m->nz, m->n_classes, m->n_classes > 0 ? "true" : "false",
                       g->used_ema ? "true" : "false");
        if (g->step >= 0) gt__buf_printf(&b, "%lld}", (long long)g->step);
        else gt__buf_puts(&b, "null}");
    }
    pthread_mutex_unlock(&R->xmu);
    if (!g) return gt__reply_error(c, 422, "%s", err);
    return gt__reply_json(c, 200, &b);
}

static int gt__explore(gt_lab_server *S, struct MHD_Connection *c, const char *body, size_t n) {
    gt__runs *R = S->runs;
    int status;
    cJSON *j = gt__json_parse(body, n, &status);
    if (!j) return gt__reply_error(c, status, "%s", gt_last_error());
    gt__xreq q;
    char err[700], path[PATH_MAX];
    status = gt__parse(j, &q, err, sizeof err);
    cJSON_Delete(j);
    if (!status) status = gt__resolve(R, &q, path, sizeof path, err, sizeof err);
    if (status) return gt__reply_error(c, status, "%s", err);
    double t0 = gt__now();
    if (!gt__lock(R)) return gt__busy(c);
    gt__xwork w = {R, &q, path, 0, NULL, 0, NULL, ""};
    if (!gt__xrun(R, gt__explore_job, &w)) w.status = 500, snprintf(w.err, sizeof w.err, "cannot start the explorer's thread");
    pthread_mutex_unlock(&R->xmu);
    if (w.status) return gt__reply_error(c, w.status, "%s", w.err);
    uint8_t *png = w.png;
    size_t len = w.len;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, png, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(png);
        return MHD_NO;
    }
    char ms[32];
    snprintf(ms, sizeof ms, "%.1f", (gt__now() - t0) * 1000);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "image/png");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Gantry-Ms", ms);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

int gt__explore_api(gt_lab_server *S, struct MHD_Connection *c, const char *rest, const char *method,
                    const char *body, size_t n) {
    if (!S->runs) return gt__reply_error(c, 404, "the explorer is off (the server was started without a runs folder)");
    if (!strcmp(rest, "/info")) {
        if (strcmp(method, "GET") != 0) return gt__reply_method(c, "GET");
        return gt__info(S, c);
    }
    if (!rest[0]) {
        if (strcmp(method, "POST") != 0) return gt__reply_method(c, "POST");
        return gt__explore(S, c, body, n);
    }
    char safe[101];
    return gt__reply_error(c, 404, "no such path: /api/explore%s", gt__printable(safe, sizeof safe, rest));
}
