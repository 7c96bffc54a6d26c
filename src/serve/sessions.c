/* The lab server's sessions and its one worker thread: the worker owns every gt_lab (the engine is
 * used from this thread only), gives each playing session a slice of epochs in turn (about
 * GT_SERVE_SLICE_S of training; slow motion: GT_SERVE_SLOW_EPS epochs a second), computes a
 * session's frame when its event streams want one (at most every GT_SERVE_FRAME_MIN_S, shared by
 * every stream), frees sessions left idle, and runs the handlers' commands between slices. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serve_internal.h"

double gt__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void gt__deadline(struct timespec *ts, double wait_s) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    if (wait_s < 0) wait_s = 0;
    long long ns = (long long)ts->tv_nsec + (long long)(wait_s * 1e9);
    ts->tv_sec += (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

void gt__cond_init(pthread_cond_t *cv) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

void gt__wait(pthread_cond_t *cv, pthread_mutex_t *mu, double wait_s) {
    struct timespec ts;
    gt__deadline(&ts, wait_s);
    pthread_cond_timedwait(cv, mu, &ts);
}

gt__blob *gt__blob_take(gt_buf *b) {
    if (b->oom) return NULL;
    gt__blob *o = malloc(sizeof *o + b->n + 1);
    if (!o) return NULL;
    atomic_init(&o->refs, 1);
    o->n = b->n;
    if (b->n) memcpy(o->p, b->p, b->n);
    o->p[b->n] = 0;
    return o;
}

void gt__blob_unref(gt__blob *b) {
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) free(b);
}

/* ---- the table ------------------------------------------------------------------------------ */

static void gt__session_free(gt__session *s) {
    GT_ASSERT(!s->lab); /* freed by the worker first */
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->cfg_mu);
    pthread_cond_destroy(&s->cv);
    gt__blob_unref(s->json);
    free(s->frame);
    free(s);
}

void gt__session_unref(gt_lab_server *S, gt__session *s) {
    if (!s) return;
    pthread_mutex_lock(&S->mu);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&S->mu);
    if (last) gt__session_free(s);
}

gt__session *gt__session_find(gt_lab_server *S, const char *id) {
    gt__session *s = NULL;
    pthread_mutex_lock(&S->mu);
    for (int i = 0; i < GT_LAB_SERVER_MAX_SESSIONS && !s; i++)
        if (S->table[i] && strcmp(S->table[i]->id, id) == 0) s = S->table[i];
    if (s) s->refs++;
    pthread_mutex_unlock(&S->mu);
    if (s) {
        pthread_mutex_lock(&s->mu);
        s->touched = gt__now();
        pthread_mutex_unlock(&s->mu);
    }
    return s;
}

int gt_lab_server_sessions(gt_lab_server *S) {
    int n = 0;
    pthread_mutex_lock(&S->mu);
    for (int i = 0; i < GT_LAB_SERVER_MAX_SESSIONS; i++) n += S->table[i] != NULL;
    pthread_mutex_unlock(&S->mu);
    return n;
}

void gt__random_id(char out[17]) {
    static atomic_uint_fast64_t counter;
    uint64_t r = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &r, sizeof r) != (ssize_t)sizeof r) r = 0;
        close(fd);
    }
    /* without /dev/urandom: the clock and a counter, mixed (splitmix64) */
    uint64_t z = r ^ (uint64_t)(gt__now() * 1e9) ^ (atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    snprintf(out, 17, "%016llx", (unsigned long long)z);
}

int gt__session_create(gt_lab_server *S, const gt_lab_config *c, gt__session **out) {
    *out = NULL;
    pthread_mutex_lock(&S->mu);
    bool full = S->n_sessions >= GT_LAB_SERVER_MAX_SESSIONS;
    if (!full) S->n_sessions++; /* the slot is held while the engine builds it */
    pthread_mutex_unlock(&S->mu);
    if (full) {
        gt_set_error(GT_ERR_STATE, "too many sessions: %d are open (close a tab or wait for idle ones to expire)",
                     GT_LAB_SERVER_MAX_SESSIONS);
        return 503;
    }
    gt__session *s = calloc(1, sizeof *s);
    gt_lab_frame *f = malloc(sizeof *f);
    if (!s || !f) {
        free(s), free(f);
        pthread_mutex_lock(&S->mu);
        S->n_sessions--;
        pthread_mutex_unlock(&S->mu);
        gt_set_error(GT_ERR_OOM, "out of memory for a new session");
        return 500;
    }
    s->frame = f;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->cfg_mu, NULL);
    gt__cond_init(&s->cv);
    s->refs = 2; /* the table's and the caller's */
    s->which = GT_LAB_BOTH;
    s->touched = gt__now();
    gt__cmd cmd = {.kind = GT__CMD_NEW, .s = s, .cfg = c};
    gt__cmd_run(S, &cmd);
    pthread_mutex_lock(&S->mu);
    if (cmd.st != GT_OK) {
        S->n_sessions--;
    } else {
        for (;;) { /* a fresh id, unique among the open ones */
            gt__random_id(s->id);
            bool taken = false;
            for (int i = 0; i < GT_LAB_SERVER_MAX_SESSIONS; i++) taken |= S->table[i] && !strcmp(S->table[i]->id, s->id);
            if (!taken) break;
        }
        s->touched = gt__now(); /* from now: building it may take longer than the idle limit */
        for (int i = 0; i < GT_LAB_SERVER_MAX_SESSIONS; i++)
            if (!S->table[i]) {
                S->table[i] = s;
                break;
            }
    }
    int open_now = S->n_sessions;
    pthread_mutex_unlock(&S->mu);
    if (cmd.st != GT_OK) {
        s->refs = 0;
        gt__session_free(s);
        gt_set_error(cmd.st, "%s", cmd.err);
        return cmd.st == GT_ERR_ARG ? 400 : 500;
    }
    gt__log(S, "session %s opened (%d open)", s->id, open_now);
    *out = s;
    return 201;
}

/* Takes s out of the table (once); the caller holds a reference. */
static bool gt__session_remove(gt_lab_server *S, gt__session *s) {
    bool removed = false;
    pthread_mutex_lock(&S->mu);
    for (int i = 0; i < GT_LAB_SERVER_MAX_SESSIONS; i++)
        if (S->table[i] == s) {
            S->table[i] = NULL;
            S->n_sessions--;
            s->refs--; /* the table's */
            removed = true;
        }
    pthread_mutex_unlock(&S->mu);
    pthread_mutex_lock(&s->mu);
    s->dead = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return removed;
}

void gt__session_delete(gt_lab_server *S, gt__session *s) {
    if (!gt__session_remove(S, s)) return;
    gt__cmd cmd = {.kind = GT__CMD_FREE, .s = s};
    gt__cmd_run(S, &cmd);
    gt__log(S, "session %s closed", s->id);
}

/* ---- commands ------------------------------------------------------------------------------- */

void gt__kick(gt_lab_server *S) {
    pthread_mutex_lock(&S->mu);
    S->kick = true;
    pthread_cond_signal(&S->cv);
    pthread_mutex_unlock(&S->mu);
}

void gt__cmd_run(gt_lab_server *S, gt__cmd *c) {
    c->done = false;
    c->next = NULL;
    pthread_mutex_lock(&S->mu);
    if (S->q_tail)
        S->q_tail->next = c;
    else
        S->q_head = c;
    S->q_tail = c;
    atomic_store(&S->q_pending, true);
    pthread_cond_signal(&S->cv);
    while (!c->done) pthread_cond_wait(&S->done_cv, &S->mu);
    pthread_mutex_unlock(&S->mu);
}

/* The session's numbers after the nets changed (worker). */
static void gt__session_sync(gt__session *s, bool changed) {
    gt_lab_point p;
    int np = gt_lab_history(s->lab, &p, 1);
    int64_t epoch = gt_lab_epoch(s->lab);
    pthread_mutex_lock(&s->mu);
    s->epoch = epoch;
    if (np == 1) s->loss_d = p.loss_d, s->loss_g = p.loss_g, s->kl = p.kl, s->js = p.js;
    if (changed) s->version++;
    pthread_mutex_unlock(&s->mu);
}

static void gt__frame_compute(gt__session *s, gt_lab_frame *scratch, double now) {
    pthread_mutex_lock(&s->mu);
    uint64_t version = s->version;
    pthread_mutex_unlock(&s->mu);
    if (gt_lab_frame_get(s->lab, scratch) != GT_OK) return;
    pthread_mutex_lock(&s->mu);
    memcpy(s->frame, scratch, sizeof *scratch);
    s->has_frame = true;
    s->frame_version = version;
    s->frame_seq++;
    s->frame_t = now;
    s->want_frame = false;
    s->epoch = scratch->epoch;
    s->loss_d = scratch->loss_d, s->loss_g = scratch->loss_g, s->kl = scratch->kl, s->js = scratch->js;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void gt__cmd_exec(gt__cmd *c, gt_lab_frame *scratch) {
    gt__session *s = c->s;
    gt_status st = GT_OK;
    gt_clear_error();
    if (c->kind != GT__CMD_NEW && !s->lab) {
        c->st = gt_set_error(GT_ERR_STATE, "the session is closed");
        snprintf(c->err, sizeof c->err, "%s", gt_last_error());
        return;
    }
    bool changed = true;
    switch (c->kind) {
    case GT__CMD_NEW:
    case GT__CMD_CONFIGURE:
        st = c->kind == GT__CMD_NEW ? gt_lab_new(&s->lab, c->cfg) : gt_lab_configure(s->lab, c->cfg);
        if (st == GT_OK) {
            pthread_mutex_lock(&s->mu);
            s->cfg = *gt_lab_get_config(s->lab);
            pthread_mutex_unlock(&s->mu);
        }
        break;
    case GT__CMD_RESET: st = gt_lab_reset(s->lab); break;
    case GT__CMD_STEP: st = gt_lab_epochs(s->lab, c->n, c->which); break;
    case GT__CMD_TRACE: st = gt_lab_step_trace(s->lab, c->trace); break;
    case GT__CMD_FRAME: {
        changed = false;
        pthread_mutex_lock(&s->mu);
        bool fresh = s->has_frame && s->frame_version == s->version;
        bool soon = s->has_frame && gt__now() - s->frame_t < GT_SERVE_FRAME_MIN_S; /* too soon for another */
        pthread_mutex_unlock(&s->mu);
        c->n_points = !fresh && soon; /* ask again a little later */
        if (!fresh && !soon) {
            gt__frame_compute(s, scratch, gt__now());
            st = gt_last_status();
        }
        break;
    }
    case GT__CMD_EXPORT:
        changed = false;
        st = gt_lab_export_mem(s->lab, &c->buf, &c->len);
        break;
    case GT__CMD_HISTORY:
        changed = false;
        c->n_points = gt_lab_history(s->lab, c->points, c->n);
        if (c->n_points < 0) c->n_points = 0;
        break;
    case GT__CMD_FREE:
        gt_lab_free(s->lab);
        s->lab = NULL;
        break;
    case GT__CMD_SYNC: changed = false; break;
    }
    c->st = st;
    if (st != GT_OK) snprintf(c->err, sizeof c->err, "%s", gt_last_error());
    if (s->lab && st == GT_OK && c->kind != GT__CMD_FRAME) gt__session_sync(s, changed);
}

/* Runs the queued commands; called and returns with the server's mutex held. */
static void gt__cmds_drain(gt_lab_server *S, gt_lab_frame *scratch) {
    while (S->q_head) {
        gt__cmd *c = S->q_head;
        S->q_head = c->next;
        if (!S->q_head) S->q_tail = NULL;
        pthread_mutex_unlock(&S->mu);
        gt__cmd_exec(c, scratch);
        pthread_mutex_lock(&S->mu);
        c->done = true;
        pthread_cond_broadcast(&S->done_cv);
    }
    atomic_store(&S->q_pending, false);
}

/* ---- the worker ----------------------------------------------------------------------------- */

/* One turn of a session: a slice of epochs if it plays, a frame if its streams want one.
 * Returns whether it did anything; lowers *wake to when it next has something to do. */
static bool gt__session_turn(gt_lab_server *S, gt__session *s, gt_lab_frame *scratch, double *wake) {
    if (!s->lab) return false;
    pthread_mutex_lock(&s->mu);
    bool playing = s->playing && !s->dead, slow = s->slow, want = s->want_frame;
    gt_lab_which which = s->which;
    int max_fps = 0;
    for (int f = 30; f >= 1 && !max_fps; f--)
        if (s->fps_n[f]) max_fps = f;
    if (!playing) s->eps = 0, s->rate_t0 = 0;
    pthread_mutex_unlock(&s->mu);
    bool worked = false;
    double now = gt__now();
    if (playing) {
        int n = 0;
        if (slow) {
            if (s->next_slow < now - 1.0 / GT_SERVE_SLOW_EPS) s->next_slow = now; /* just switched on */
            if (now >= s->next_slow) {
                n = 1;
                s->next_slow += 1.0 / GT_SERVE_SLOW_EPS;
            }
            if (s->next_slow < *wake) *wake = s->next_slow;
        } else {
            n = s->slice > 0 ? s->slice : 1;
        }
        if (n > 0) {
            double t0 = gt__now();
            gt_clear_error();
            gt_status st = gt_lab_epochs(s->lab, n, which);
            double dt = gt__now() - t0;
            if (!slow) { /* the next slice: about GT_SERVE_SLICE_S of this session's training */
                double target = dt > 0 ? n * GT_SERVE_SLICE_S / dt : 2.0 * n;
                if (target > 2.0 * n) target = 2.0 * n;
                if (target > 100000) target = 100000;
                s->slice = (int)(0.5 * n + 0.5 * target + 0.5);
                if (s->slice < 1) s->slice = 1;
            }
            gt__session_sync(s, true);
            now = gt__now();
            pthread_mutex_lock(&s->mu);
            if (st != GT_OK) {
                s->playing = false;
                snprintf(s->error, sizeof s->error, "%s", gt_last_error());
            }
            if (s->rate_t0 == 0) {
                s->rate_t0 = t0, s->rate_e0 = s->epoch - n;
            } else if (now - s->rate_t0 >= 0.5) {
                s->eps = (double)(s->epoch - s->rate_e0) / (now - s->rate_t0);
                s->rate_t0 = now, s->rate_e0 = s->epoch;
            }
            pthread_mutex_unlock(&s->mu);
            worked = true;
        }
    }
    if (max_fps > 0 || want) {
        /* frames on a grid of 1 / fps (the fastest stream's): each at the first turn after its
         * tick, so a stream gets its fps on average although turns come every slice or so */
        double gap = 1.0 / (max_fps ? max_fps : 30);
        pthread_mutex_lock(&s->mu);
        bool stale = !s->has_frame || s->frame_version != s->version;
        double due = s->has_frame ? s->frame_due : 0;
        if (!stale) s->want_frame = false;
        pthread_mutex_unlock(&s->mu);
        if (stale && now >= due) {
            gt__frame_compute(s, scratch, now);
            s->frame_due = due + gap >= now ? due + gap : now + 0.5 * gap; /* late by a whole gap: a new grid */
            worked = true;
        } else if (stale && due < *wake) {
            *wake = due;
        }
    }
    return worked;
}

/* Sessions untouched for idle_s, without streams, are closed (worker). */
static void gt__expire(gt_lab_server *S) {
    double now = gt__now();
    for (int i = 0; i < GT_LAB_SERVER_MAX_SESSIONS; i++) {
        pthread_mutex_lock(&S->mu);
        gt__session *s = S->table[i];
        if (s) s->refs++;
        pthread_mutex_unlock(&S->mu);
        if (!s) continue;
        pthread_mutex_lock(&s->mu);
        bool idle = s->viewers == 0 && now - s->touched > S->idle_s;
        pthread_mutex_unlock(&s->mu);
        if (idle && gt__session_remove(S, s)) {
            gt_lab_free(s->lab);
            s->lab = NULL;
            gt__log(S, "session %s expired (idle)", s->id);
        }
        gt__session_unref(S, s);
    }
}

static void *gt__worker(void *arg) {
    gt_lab_server *S = arg;
    gt_lab_frame *scratch = malloc(sizeof *scratch);
    GT_ASSERT(scratch);
    gt__session *snap[GT_LAB_SERVER_MAX_SESSIONS];
    unsigned rr = 0;
    double next_expiry = gt__now() + 1;
    pthread_mutex_lock(&S->mu);
    for (;;) {
        gt__cmds_drain(S, scratch);
        if (S->worker_stop) break;
        int n = 0;
        for (int i = 0; i < GT_LAB_SERVER_MAX_SESSIONS; i++)
            if (S->table[i]) snap[n++] = S->table[i], S->table[i]->refs++;
        S->kick = false;
        pthread_mutex_unlock(&S->mu);

        double wake = gt__now() + 1.0;
        bool worked = false;
        for (int k = 0; k < n; k++) {
            worked |= gt__session_turn(S, snap[(rr + (unsigned)k) % (unsigned)n], scratch, &wake);
            if (atomic_load(&S->q_pending)) { /* requests wait for at most one slice */
                pthread_mutex_lock(&S->mu);
                gt__cmds_drain(S, scratch);
                pthread_mutex_unlock(&S->mu);
            }
        }
        rr++;
        for (int k = 0; k < n; k++) gt__session_unref(S, snap[k]);
        if (gt__now() >= next_expiry) {
            gt__expire(S);
            next_expiry = gt__now() + 1;
        }
        if (next_expiry < wake) wake = next_expiry;

        pthread_mutex_lock(&S->mu);
        if (!worked && !S->q_head && !S->kick && !S->worker_stop) gt__wait(&S->cv, &S->mu, wake - gt__now());
    }
    /* stopping: every engine object goes with this thread */
    for (int i = 0; i < GT_LAB_SERVER_MAX_SESSIONS; i++)
        if (S->table[i] && S->table[i]->lab) gt_lab_free(S->table[i]->lab), S->table[i]->lab = NULL;
    pthread_mutex_unlock(&S->mu);
    free(scratch);
    return NULL;
}

gt_status gt__worker_start(gt_lab_server *S) {
    pthread_mutex_init(&S->mu, NULL);
    gt__cond_init(&S->cv);
    gt__cond_init(&S->done_cv);
    if (pthread_create(&S->worker, NULL, gt__worker, S) != 0)
        return gt_set_error(GT_ERR_STATE, "gantry lab: could not start the training thread");
    S->worker_started = true;
    return GT_OK;
}

void gt__worker_stop(gt_lab_server *S) {
    if (!S->worker_started) return;
    pthread_mutex_lock(&S->mu);
    S->worker_stop = true;
    pthread_cond_signal(&S->cv);
    pthread_mutex_unlock(&S->mu);
    pthread_join(S->worker, NULL);
    S->worker_started = false;
    for (int i = 0; i < GT_LAB_SERVER_MAX_SESSIONS; i++) {
        gt__session *s = S->table[i];
        if (!s) continue;
        S->table[i] = NULL;
        gt__session_unref(S, s);
    }
    S->n_sessions = 0;
}
