/* src/serve/runs*: the runs dashboard and the latent explorer (docs/DASHBOARD.md), not public.
 *
 * One registry (gt__runs) per server with a runs folder: the run folders found one level below it
 * (gt__run, reference counted), one inotify watcher thread (runs_watch.c) that keeps the list, each
 * run's grids and metrics cache up to date and pushes events, and the HTTP handlers (runs_api.c,
 * explore.c) running in libmicrohttpd's connection threads.
 *
 * Locks: R->mu (the list, each run's refs/dead/watch/event ring/summary pointer, the seqs) is never
 * held while a run's mmu (metrics) or gmu (grids) is taken; mmu and gmu are leaves. The explorer has
 * its own xmu (one request at a time). */
#ifndef GT_SERVE_RUNS_INTERNAL_H
#define GT_SERVE_RUNS_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "gantry/train.h"
#include "serve_internal.h"

#define GT__RUN_NAME_MAX 128
#define GT__RUNS_MAX_LIST 1000
#define GT__RUN_EVENTS 64      /* a run's last events kept for its streams */
#define GT__METRIC_KEYS 48     /* distinct numeric keys kept per run (logged lines, eval lines each) */
#define GT__METRIC_KEY_LEN 40
#define GT__EVENT_MAX_LINES 500 /* lines of one `metrics` event (the newest) */

typedef struct {
    char key[GT__METRIC_KEY_LEN];
    float *v; /* (cap) NaN where a line lacks the key */
} gt__col;

typedef struct {
    int64_t n, cap;
    double *step; /* (cap) */
    int nk;
    gt__col cols[GT__METRIC_KEYS];
} gt__table;

/* The per-run metrics cache (under the run's mmu). */
typedef struct {
    bool loaded;
    uint64_t off; /* bytes of complete lines consumed */
    ino_t ino;
    gt__table lines, eval;
    int64_t bad; /* lines that did not parse */
    double last_unix;
    /* the last /metrics answer, for the same max and keys while nothing was appended */
    char *ans, *ans_keys;
    size_t ans_len;
    int ans_max;
    int64_t ans_n, ans_ne, ans_bad;
} gt__metrics;

typedef struct gt__run {
    struct gt__run *next;
    char name[GT__RUN_NAME_MAX + 1];
    int refs;    /* under R->mu: the list's and each user's */
    bool dead;   /* removed: streams end, handlers answer 404 */
    bool listed; /* has config.json */
    int wd_dir, wd_samples, wd_ckpt;
    /* events (under R->mu) */
    uint64_t ev_last;                 /* id of the newest event (ids start at 1) */
    gt__blob *ev[GT__RUN_EVENTS];     /* ev[id % N] */
    int viewers;
    /* summary cache (under R->mu) */
    uint64_t dirty, sum_ver;          /* the summary is stale while sum_ver != dirty */
    char *sum;                        /* RUN_SUMMARY JSON (malloc'd) */
    double sum_updated;               /* its updated_unix (for sorting) */
    /* metrics */
    pthread_mutex_t mmu;
    gt__metrics m;
    /* grids: the steps of samples/step_N.png, sorted */
    pthread_mutex_t gmu;
    bool grids_loaded;
    int64_t *grids, ngrids, gcap;
} gt__run;

typedef struct gt__gen gt__gen;

typedef struct gt__runs {
    gt_lab_server *S;
    char *dir;  /* as given (shown in /api/runs) */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* any change: streams wake */
    gt__run *head;
    int n;
    uint64_t list_seq; /* bumped by any change of the list or a summary */
    gt__blob *list_blob;
    uint64_t list_blob_seq;
    /* the watcher */
    int ifd, dir_wd, wake[2];
    atomic_bool stop;
    pthread_t th;
    bool th_started;
    /* the explorer: requests one at a time (xmu), each run on one engine thread (xth) */
    pthread_mutex_t xmu;
    gt__gen *gens; /* the last 2 loaded generators */
    pthread_t xth;
    bool xth_on, xstop;
    pthread_mutex_t xqm; /* the job hand-over */
    pthread_cond_t xcv;
    struct gt__xjob *xjob;
} gt__runs;

/* runs.c */
bool gt__run_name_ok(const char *s);
gt_status gt__runs_start(gt_lab_server *S, const char *dir, gt__runs **out);
void gt__runs_stop(gt__runs *R); /* after the HTTP threads stopped */
void gt__runs_wake_all(gt__runs *R);
gt__run *gt__run_get(gt__runs *R, const char *name); /* a reference to a listed, live run, or NULL */
void gt__run_unref(gt__runs *R, gt__run *r);
gt__run *gt__run_new(const char *name);
void gt__run_free(gt__run *r);
/* The run's summary JSON (cached until the run changes): a malloc'd copy, NULL on OOM. */
char *gt__run_summary(gt__runs *R, gt__run *r, double *updated);
void gt__run_touch(gt__runs *R, gt__run *r); /* under R->mu: the summary is stale, lists change */
/* Pushes an event (takes the blob) under R->mu and wakes the streams. */
void gt__run_push(gt__runs *R, gt__run *r, gt__blob *ev);
gt__blob *gt__event_blob(const char *event, gt_buf *data); /* "event: E\ndata: DATA\n\n"; frees data */
/* The /api/runs JSON, shared by the list stream (a new reference), NULL on OOM. */
gt__blob *gt__runs_list(gt__runs *R, bool as_event);
/* RUN: summary + config, checkpoints, grids, metric_keys, bad_lines. */
void gt__run_detail(gt__runs *R, gt__run *r, gt_buf *b);
void gt__checkpoints_json(gt__runs *R, gt__run *r, gt_buf *b);
char *gt__run_path(gt__runs *R, const char *name, const char *rel); /* malloc'd DIR/NAME/REL */

/* runs_metrics.c (under the run's mmu) */
/* Reads what was appended since the last read (all of it the first time); *first_new receives the
 * index of the first new line and eval line. Returns false on OOM only (an unreadable file is empty). */
bool gt__metrics_update(gt__runs *R, gt__run *r, int64_t *first_line, int64_t *first_eval);
void gt__metrics_free(gt__metrics *m);
/* The /metrics answer; keys: a comma list or NULL. */
void gt__metrics_json(const gt__metrics *m, gt_buf *b, int max, const char *keys);
/* The lines [l0, n) and eval lines [e0, ne) as a `metrics` event's data (the newest GT__EVENT_MAX_LINES). */
void gt__metrics_event_json(const gt__metrics *m, gt_buf *b, int64_t l0, int64_t e0);
/* The newest values of the summary (NaN when absent) from the cache, or from the file's tail. */
typedef struct {
    double step, loss_d, loss_g, d_real, d_fake, it_s, unix_t, fid, fid_step;
} gt__last;
void gt__metrics_last(const gt__metrics *m, gt__last *o);
void gt__metrics_tail(const char *path, gt__last *o);

/* runs_watch.c */
gt_status gt__watch_start(gt__runs *R);
void gt__watch_stop(gt__runs *R);
/* Sorted grid steps: loads the list on first use (under gmu). */
bool gt__grids_load(gt__runs *R, gt__run *r);

/* runs_api.c */
int gt__runs_api(gt_lab_server *S, struct MHD_Connection *c, const char *rest, const char *method);
/* explore.c */
int gt__explore_api(gt_lab_server *S, struct MHD_Connection *c, const char *rest, const char *method,
                    const char *body, size_t n);
void gt__explore_free(gt__runs *R);

#endif
