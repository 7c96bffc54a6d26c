/* src/serve: what the server's files share (not public).
 *
 * Threads: libmicrohttpd runs one thread per connection (handlers and event streams may block);
 * ONE worker thread (sessions.c) owns every gt_lab: it creates, trains, configures, frames and
 * frees them, and runs the handlers' requests as commands between training slices. Handlers and
 * streams only read and write a session's fields under its mutex. Locks: the server's mutex may be
 * taken before a session's, never the other way round. */
#ifndef GT_SERVE_INTERNAL_H
#define GT_SERVE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../io/io_internal.h"
#include "gantry/lab.h"
#include "gantry/serve.h"

#define GT_SERVE_FRAME_MIN_S (1.0 / 30) /* a session's frame is computed at most 30 times a second */
#define GT_SERVE_SLOW_EPS 10.0          /* slow motion: epochs a second */
#define GT_SERVE_SLICE_S 0.01           /* a playing session trains about this long per turn */
#define GT_SERVE_MAX_STEP 1000          /* epochs of one `step` */
#define GT_SERVE_MAX_HISTORY 2000

/* A shared, immutable byte string (a frame's JSON, sent to every viewer). */
typedef struct {
    atomic_int refs;
    size_t n;
    char p[];
} gt__blob;
gt__blob *gt__blob_take(gt_buf *b); /* the buffer's bytes as a blob (one reference); NULL on OOM */
void gt__blob_unref(gt__blob *b);
/* An event stream's keep-alive comment, and the copy of what a stream is sending (the blob *cur,
 * else the keep-alive *ka) into libmicrohttpd's buffer from *off; at the end of it, *cur is dropped
 * and both cleared. Returns the bytes copied. Shared by the lab's and the dashboard's streams. */
extern const char gt__sse_keepalive[];
size_t gt__sse_copy(gt__blob **cur, const char **ka, size_t *off, char *buf, size_t max);

typedef struct gt__session {
    char id[17];
    int refs;            /* under the server's mutex: the table's and each user's */
    pthread_mutex_t cfg_mu; /* held by a config request from reading cfg to its rebuild: two at once
                             * would each merge into the same old config and the later undo the earlier */
    pthread_mutex_t mu;  /* everything below, except `lab` and the worker's fields */
    pthread_cond_t cv;   /* a new frame, the session closing, the server stopping */
    bool dead;           /* deleted or expired: streams end, requests get 404 */
    gt_lab_config cfg;   /* the engine's current configuration */
    bool playing, slow;
    gt_lab_which which;  /* what playing trains */
    int64_t epoch;
    float loss_d, loss_g, kl, js;
    double eps;          /* epochs per second while playing */
    char error[200];     /* why playing stopped (a failed epoch), else "" */
    uint64_t version;    /* bumped by every change of the nets */
    double touched;      /* last request or stream activity (monotonic seconds) */
    int viewers, fps_n[31]; /* open event streams, how many ask for each fps */
    bool want_frame;     /* a stream waits for its first frame */
    gt_lab_frame *frame; /* the last frame (malloc'd) */
    bool has_frame;
    uint64_t frame_version, frame_seq;
    double frame_t;
    gt__blob *json;      /* frame as JSON, made by the first stream that needs it */
    uint64_t json_seq;
    /* the worker's own */
    gt_lab *lab;
    int slice;
    double rate_t0, next_slow, frame_due;
    int64_t rate_e0;
} gt__session;

typedef enum {
    GT__CMD_NEW,
    GT__CMD_CONFIGURE,
    GT__CMD_RESET,
    GT__CMD_STEP,
    GT__CMD_FRAME,
    GT__CMD_TRACE,
    GT__CMD_EXPORT,
    GT__CMD_HISTORY,
    GT__CMD_FREE,
    GT__CMD_SYNC, /* nothing: once it has run, no slice of the session is under way */
} gt__cmd_kind;

/* A request for the worker; the handler waits until `done`. */
typedef struct gt__cmd {
    gt__cmd_kind kind;
    gt__session *s;
    const gt_lab_config *cfg; /* NEW, CONFIGURE */
    int n;                    /* STEP: epochs; HISTORY: at most this many points */
    gt_lab_which which;       /* STEP */
    gt_status st;
    char err[256];
    gt_lab_trace *trace;      /* TRACE: filled (the caller's) */
    uint8_t *buf;             /* EXPORT: malloc'd file */
    size_t len;
    gt_lab_point *points;     /* HISTORY: the caller's, n long */
    int n_points;
    bool done;
    struct gt__cmd *next;
} gt__cmd;

struct gt_lab_server {
    struct MHD_Daemon *mhd;
    int port;
    char *web_dir;  /* realpath, or NULL */
    bool quiet;
    double idle_s;
    pthread_mutex_t mu; /* the table, the queue, the flags below */
    pthread_cond_t cv;  /* wakes the worker */
    pthread_cond_t done_cv;
    gt__session *table[GT_LAB_SERVER_MAX_SESSIONS];
    int n_sessions;     /* including ones being created */
    gt__cmd *q_head, *q_tail;
    atomic_bool q_pending;
    bool kick;
    atomic_bool stopping; /* streams end */
    atomic_int answering; /* requests whose handler runs now (gt_lab_server_answering) */
    bool worker_stop;
    pthread_t worker;
    bool worker_started;
    char options_json[2048];
    struct gt__runs *runs; /* the runs dashboard (runs*.c, explore.c), or NULL */
    struct gt__guard *guard; /* the connections' deadlines (guard.c) */
};

/* guard.c: deadlines for a request's headers and body (a slow client loses its connection) */
typedef struct gt__guard gt__guard;
enum { GT__PHASE_HEAD, GT__PHASE_BODY, GT__PHASE_ANSWER };
gt_status gt__guard_start(gt_lab_server *S);
void gt__guard_stop(gt_lab_server *S); /* after the daemon has stopped */
bool gt__guard_drain(gt_lab_server *S, double timeout_s); /* before it stops: every connection ended */
struct MHD_Connection;
void gt__guard_phase(gt_lab_server *S, struct MHD_Connection *c, int phase);
#ifdef MHD_VERSION
void gt__guard_notify(void *cls, struct MHD_Connection *c, void **socket_ctx, enum MHD_ConnectionNotificationCode code);
#endif

double gt__now(void); /* monotonic seconds */
void gt__cond_init(pthread_cond_t *cv); /* on the monotonic clock */
void gt__wait(pthread_cond_t *cv, pthread_mutex_t *mu, double wait_s); /* a timed wait of at most wait_s */
void gt__log(gt_lab_server *S, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* sessions.c */
gt_status gt__worker_start(gt_lab_server *S);
void gt__worker_stop(gt_lab_server *S);
void gt__cmd_run(gt_lab_server *S, gt__cmd *c); /* queues c and waits for the worker */
void gt__kick(gt_lab_server *S);                /* wakes the worker (play, a stream's first frame) */
gt__session *gt__session_find(gt_lab_server *S, const char *id); /* a reference, touched; NULL: none */
void gt__session_unref(gt_lab_server *S, gt__session *s);
/* A new session (201) or the HTTP status of the failure with its message in gt_last_error. */
int gt__session_create(gt_lab_server *S, const gt_lab_config *c, gt__session **out);
void gt__session_delete(gt_lab_server *S, gt__session *s);

/* json.c: CONFIG and FRAME in and out */
/* Applies the fields of a JSON body to c; 0 or 400 with the message in gt_last_error. */
int gt__config_from_json(gt_lab_config *c, const char *body, size_t n);
void gt__config_to_json(gt_buf *b, const gt_lab_config *c);
void gt__frame_to_json(gt_buf *b, const gt_lab_frame *f);
void gt__num(gt_buf *b, double v); /* 5 significant digits; null for NaN and infinities */
void gt__options_json(char *out, size_t n);
/* A JSON object from a body (body[n] == 0); NULL with *status 400 and the message set. */
struct cJSON *gt__json_parse(const char *body, size_t n, int *status);

/* api.c: the /api/ routes. Returns an MHD_Result. */
struct MHD_Connection;
int gt__api(gt_lab_server *S, struct MHD_Connection *c, const char *url, const char *method, const char *body,
            size_t n);
/* events.c: GET /api/sessions/ID/events */
#define GT__EVENT_PREFIX "event: frame\ndata: "
/* The session's frame as an event (GT__EVENT_PREFIX, the JSON, a blank line), written once per
 * frame and shared: a new reference, NULL on OOM. Under the session's mutex, with has_frame. */
gt__blob *gt__frame_event(gt__session *s);
int gt__events(gt_lab_server *S, struct MHD_Connection *c, gt__session *s);
/* runs_api.c, explore.c: /api/runs..., /api/explore... (runs_internal.h) */
int gt__runs_route(gt_lab_server *S, struct MHD_Connection *c, const char *url, const char *method, const char *body,
                   size_t n); /* -1: not theirs */
gt_status gt__runs_server_start(gt_lab_server *S, const char *dir);
void gt__runs_server_stop(gt_lab_server *S, bool wake_only);
/* anycost_api.c: POST /api/anycost/open, /render, /close (docs/anycost/editor.md); url is what
 * follows /api/anycost. gt__anycost_stop frees the server's editors (their nets are the editor
 * thread's) and ends that thread when no editor is left: call it after the HTTP threads stopped. */
int gt__anycost_api(gt_lab_server *S, struct MHD_Connection *c, const char *rest, const char *method, const char *body,
                    size_t n);
void gt__anycost_stop(gt_lab_server *S);
/* 16 hex digits from /dev/urandom (or the clock and a counter, mixed): session and editor ids
 * (src/serve/sessions.c). */
void gt__random_id(char out[17]);
/* A run's checkpoint name a request may name: last.safetensors or checkpoints/step_DIGITS.safetensors
 * (src/serve/explore.c). */
bool gt__run_ckpt_ok(const char *f);
/* anycost_png.c: x (1, C, H, W) in [-1, 1] (gt_make_grid's pixels) as a PNG, base64, appended to b. */
gt_status gt__png_base64(const gt_tensor *x, gt_buf *b);
/* static.c: GET / and files of the web folder */
int gt__static(gt_lab_server *S, struct MHD_Connection *c, const char *url, const char *method);

/* server.c: answers */
int gt__reply(struct MHD_Connection *c, int status, const char *type, const char *body, size_t n);
int gt__reply_json(struct MHD_Connection *c, int status, gt_buf *b); /* frees b */
int gt__reply_error(struct MHD_Connection *c, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int gt__reply_method(struct MHD_Connection *c, const char *allow);
/* src as printable ASCII for a message (other bytes, quotes and back-slashes become '?'). */
const char *gt__printable(char *dst, size_t n, const char *src);

#endif
