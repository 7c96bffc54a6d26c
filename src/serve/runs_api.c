/* The runs dashboard's routes (docs/DASHBOARD.md): /api/runs, /api/runs/events and, per run,
 * /api/runs/NAME, /metrics, /events, /grids and /file/samples/X.png. Every route is GET (405
 * otherwise); a NAME outside [A-Za-z0-9._-]{1,128} (or . or ..) is 400, a run that is not there 404.
 * The event streams follow the lab's (events.c): a connection thread waits on the registry's
 * condition variable, sends shared event blobs, a comment every 15 s, and ends when the server
 * stops or (a run's stream) after the run's `removed` event. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runs_internal.h"

#define GT__KEEPALIVE_S 15.0
#define GT__LIST_GAP_S 0.25 /* the list stream: at most 4 events a second */


/* ---- event streams ------------------------------------------------------------------------------ */

typedef struct {
    gt_lab_server *S;
    gt__runs *R;
    gt__run *r; /* NULL: the list stream */
    uint64_t seen;
    bool first, end_after;
    double next_t, last_write;
    gt__blob *cur;
    gt__blob *last; /* the list stream's last list sent (an identical one is not sent again) */
    size_t off;
    const char *ka;
} gt__rstream;

static ssize_t gt__rstream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    gt__rstream *v = cls;
    gt__runs *R = v->R;
    (void)pos;
    if (!v->cur && !v->ka) {
        if (v->end_after) return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&R->mu);
        for (;;) {
            if (atomic_load(&v->S->stopping)) {
                pthread_mutex_unlock(&R->mu);
                return MHD_CONTENT_READER_END_OF_STREAM;
            }
            double now = gt__now(), wait = 1.0;
            if (v->r) {
                gt__run *r = v->r;
                if (r->ev_last > v->seen) {
                    uint64_t id = v->seen + 1;
                    if (r->ev_last - v->seen > GT__RUN_EVENTS) id = r->ev_last - GT__RUN_EVENTS + 1; /* fell behind */
                    v->cur = r->ev[id % GT__RUN_EVENTS];
                    v->seen = id;
                    if (v->cur) {
                        atomic_fetch_add(&v->cur->refs, 1);
                        v->off = 0;
                        v->end_after = !strncmp(v->cur->p, "event: removed", 14);
                        break;
                    }
                    continue;
                }
                if (r->dead) {
                    pthread_mutex_unlock(&R->mu);
                    return MHD_CONTENT_READER_END_OF_STREAM;
                }
            } else if (v->first || R->list_seq != v->seen) {
                if (now >= v->next_t) {
                    uint64_t seq = R->list_seq;
                    pthread_mutex_unlock(&R->mu);
                    gt__blob *b = gt__runs_list(R, true);
                    if (!b) return MHD_CONTENT_READER_END_WITH_ERROR;
                    v->seen = seq;
                    v->first = false;
                    v->next_t = now + GT__LIST_GAP_S;
                    pthread_mutex_lock(&R->mu);
                    if (v->last && v->last->n == b->n && !memcmp(v->last->p, b->p, b->n)) {
                        gt__blob_unref(b); /* a change that shows nowhere in the list */
                        continue;
                    }
                    gt__blob_unref(v->last);
                    atomic_fetch_add(&b->refs, 1);
                    v->last = b;
                    v->cur = b;
                    v->off = 0;
                    break;
                }
                wait = v->next_t - now;
            }
            if (now - v->last_write >= GT__KEEPALIVE_S) {
                v->ka = gt__sse_keepalive;
                v->off = 0;
                break;
            }
            if (wait > GT__KEEPALIVE_S - (now - v->last_write)) wait = GT__KEEPALIVE_S - (now - v->last_write);
            if (wait > 1.0) wait = 1.0;
            if (wait < 0.001) wait = 0.001;
            gt__wait(&R->cv, &R->mu, wait);
        }
        pthread_mutex_unlock(&R->mu);
        v->last_write = gt__now();
    }
    return (ssize_t)gt__sse_copy(&v->cur, &v->ka, &v->off, buf, max);
}

static void gt__rstream_free(void *cls) {
    gt__rstream *v = cls;
    if (v->r) {
        pthread_mutex_lock(&v->R->mu);
        v->r->viewers--;
        pthread_mutex_unlock(&v->R->mu);
    }
    gt__blob_unref(v->cur);
    gt__blob_unref(v->last);
    gt__run_unref(v->R, v->r);
    free(v);
}

/* Takes the reference to r (NULL: the list stream). */
static int gt__rstream_open(gt_lab_server *S, struct MHD_Connection *c, gt__run *r) {
    gt__runs *R = S->runs;
    gt__rstream *v = calloc(1, sizeof *v);
    if (!v) {
        gt__run_unref(R, r);
        return gt__reply_error(c, 500, "out of memory");
    }
    v->S = S, v->R = R, v->r = r, v->first = true;
    v->last_write = gt__now();
    if (r) {
        pthread_mutex_lock(&R->mu);
        v->seen = r->ev_last; /* then the cache: a line read by neither is sent by the watcher */
        r->viewers++;
        pthread_mutex_unlock(&R->mu);
        pthread_mutex_lock(&r->mmu);
        gt__metrics_update(R, r, NULL, NULL);
        pthread_mutex_unlock(&r->mmu);
        char *sum = gt__run_summary(R, r, NULL); /* the current status first */
        if (sum) {
            gt_buf b = {0};
            gt__buf_puts(&b, sum);
            free(sum);
            v->cur = gt__event_blob("status", &b);
        }
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, gt__rstream_read, v, gt__rstream_free);
    if (!resp) {
        gt__rstream_free(v);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* ---- the other routes --------------------------------------------------------------------------- */

/* An integer query argument in lo..hi (def when absent); false when malformed or out of range. */
static bool gt__arg_int(struct MHD_Connection *c, const char *name, long long lo, long long hi, long long def,
                        long long *out) {
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    *out = def;
    if (!q) return true;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(q, &end, 10);
    if (!*q || *end || errno || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static int gt__metrics_route(struct MHD_Connection *c, gt__runs *R, gt__run *r) {
    long long max;
    if (!gt__arg_int(c, "max", 2, 20000, 2000, &max))
        return gt__reply_error(c, 400, "max must be an integer in 2..20000");
    const char *keys = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "keys");
    if (keys && strlen(keys) > 4096) return gt__reply_error(c, 400, "keys is longer than 4096 characters");
    if (keys && !keys[0]) keys = NULL;
    gt_buf b = {0};
    pthread_mutex_lock(&r->mmu);
    gt__metrics *m = &r->m;
    bool ok = gt__metrics_update(R, r, NULL, NULL);
    if (ok && m->ans && m->ans_max == max && !strcmp(m->ans_keys, keys ? keys : "") && m->ans_n == m->lines.n &&
        m->ans_ne == m->eval.n && m->ans_bad == m->bad) { /* the same answer as last time */
        gt__buf_add(&b, m->ans, m->ans_len);
    } else if (ok) {
        gt__metrics_json(m, &b, (int)max, keys);
        char *copy = b.oom ? NULL : malloc(b.n ? b.n : 1), *kc = strdup(keys ? keys : "");
        free(m->ans);
        free(m->ans_keys);
        m->ans = NULL, m->ans_keys = NULL;
        if (copy && kc) {
            memcpy(copy, b.p, b.n);
            m->ans = copy, m->ans_keys = kc, m->ans_len = b.n, m->ans_max = (int)max;
            m->ans_n = m->lines.n, m->ans_ne = m->eval.n, m->ans_bad = m->bad;
        } else {
            free(copy);
            free(kc);
        }
    }
    pthread_mutex_unlock(&r->mmu);
    if (!ok) b.oom = true;
    return gt__reply_json(c, 200, &b);
}

static int gt__grids(struct MHD_Connection *c, gt__runs *R, gt__run *r) {
    long long off, lim;
    if (!gt__arg_int(c, "offset", 0, INT64_MAX / 2, 0, &off))
        return gt__reply_error(c, 400, "offset must be an integer >= 0");
    if (!gt__arg_int(c, "limit", 1, 500, 200, &lim)) return gt__reply_error(c, 400, "limit must be an integer in 1..500");
    gt_buf b = {0};
    pthread_mutex_lock(&r->gmu);
    bool ok = gt__grids_load(R, r);
    int64_t n = ok ? r->ngrids : 0;
    gt__buf_printf(&b, "{\"total\":%lld,\"offset\":%lld,\"grids\":[", (long long)n, off);
    for (int64_t i = off; i < n && i < off + lim; i++)
        gt__buf_printf(&b, "%s{\"file\":\"samples/step_%06lld.png\",\"step\":%lld}", i > off ? "," : "",
                       (long long)r->grids[i], (long long)r->grids[i]);
    pthread_mutex_unlock(&r->gmu);
    gt__buf_puts(&b, "]}");
    if (!ok) b.oom = true;
    return gt__reply_json(c, 200, &b);
}

/* FILE: samples/NAME.png, NAME of [A-Za-z0-9._-] not starting with '.'. */
static bool gt__sample_name_ok(const char *rel) {
    if (strncmp(rel, "samples/", 8) != 0) return false;
    const char *f = rel + 8;
    size_t n = strlen(f);
    if (n < 5 || n > 200 || f[0] == '.' || strcmp(f + n - 4, ".png") != 0) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = f[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static int gt__file(struct MHD_Connection *c, gt__runs *R, gt__run *r, const char *rel) {
    char safe[120];
    if (!gt__sample_name_ok(rel))
        return gt__reply_error(c, 400, "only the run's sample grids (samples/NAME.png) are served, not '%s'",
                               gt__printable(safe, 100, rel));
    char *p = gt__run_path(R, r->name, rel);
    int fd = p ? open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    free(p);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0) close(fd);
        return gt__reply_error(c, 404, "no file %s in run %s", gt__printable(safe, 100, rel), r->name);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "image/png");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result q = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return q;
}

int gt__runs_api(gt_lab_server *S, struct MHD_Connection *c, const char *rest, const char *method) {
    gt__runs *R = S->runs;
    char safe[160];
    if (!R) return gt__reply_error(c, 404, "the runs dashboard is off (the server was started without a runs folder)");
    if (strcmp(method, "GET") != 0) return gt__reply_method(c, "GET");
    if (!rest[0]) {
        gt__blob *b = gt__runs_list(R, false);
        if (!b) return gt__reply_error(c, 500, "out of memory");
        int q = gt__reply(c, 200, "application/json", b->p, b->n);
        gt__blob_unref(b);
        return q;
    }
    if (!strcmp(rest, "/events")) return gt__rstream_open(S, c, NULL);
    if (rest[0] != '/') return gt__reply_error(c, 404, "no such path: /api/runs%s", gt__printable(safe, 100, rest));
    rest++;
    size_t nl = strcspn(rest, "/");
    char name[GT__RUN_NAME_MAX + 1];
    if (nl > GT__RUN_NAME_MAX) nl = GT__RUN_NAME_MAX + 1; /* too long: refused below */
    if (nl <= GT__RUN_NAME_MAX) {
        memcpy(name, rest, nl);
        name[nl] = 0;
    }
    if (nl > GT__RUN_NAME_MAX || !gt__run_name_ok(name))
        return gt__reply_error(c, 400, "a run name is 1 to 128 of A-Z a-z 0-9 . _ - (not . or ..), got '%s'",
                               gt__printable(safe, 100, rest));
    const char *what = rest + nl;
    enum { D_RUN, D_METRICS, D_EVENTS, D_GRIDS, D_FILE } kind;
    if (!what[0]) kind = D_RUN;
    else if (!strcmp(what, "/metrics")) kind = D_METRICS;
    else if (!strcmp(what, "/events")) kind = D_EVENTS;
    else if (!strcmp(what, "/grids")) kind = D_GRIDS;
    else if (!strncmp(what, "/file/", 6)) kind = D_FILE;
    else return gt__reply_error(c, 404, "no such path: /api/runs/%s", gt__printable(safe, 140, rest));
    gt__run *r = gt__run_get(R, name);
    if (!r) return gt__reply_error(c, 404, "no run '%s' in %s", name, gt__printable(safe, 140, R->dir));
    int q;
    switch (kind) {
    case D_RUN: {
        gt_buf b = {0};
        gt__run_detail(R, r, &b);
        q = gt__reply_json(c, 200, &b);
        break;
    }
    case D_METRICS: q = gt__metrics_route(c, R, r); break;
    case D_EVENTS: return gt__rstream_open(S, c, r); /* the stream keeps the reference */
    case D_GRIDS: q = gt__grids(c, R, r); break;
    default: q = gt__file(c, R, r, what + 6); break;
    }
    gt__run_unref(R, r);
    return q;
}

/* ---- the server's hooks (serve_internal.h) ------------------------------------------------------- */

int gt__runs_route(gt_lab_server *S, struct MHD_Connection *c, const char *url, const char *method, const char *body,
                   size_t n) {
    if (!strncmp(url, "/api/runs", 9) && (url[9] == 0 || url[9] == '/')) return gt__runs_api(S, c, url + 9, method);
    if (!strncmp(url, "/api/explore", 12) && (url[12] == 0 || url[12] == '/'))
        return gt__explore_api(S, c, url + 12, method, body, n);
    return -1;
}

gt_status gt__runs_server_start(gt_lab_server *S, const char *dir) { return gt__runs_start(S, dir, &S->runs); }

void gt__runs_server_stop(gt_lab_server *S, bool wake_only) {
    if (!S->runs) return;
    if (wake_only) {
        gt__runs_wake_all(S->runs);
        return;
    }
    gt__runs_stop(S->runs);
    S->runs = NULL;
}
