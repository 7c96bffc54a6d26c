/* GET /api/sessions/ID/events?fps=F: Server-Sent Events (`event: frame`, `data: FRAME`).
 * Each stream runs in its connection's thread and waits on the session for new frames; the worker
 * computes a frame at most every 1/30 s (when some stream wants one and the nets changed), the
 * first stream that sends it writes its JSON once, and every other stream sends those same bytes.
 * A stream sends at most F frames a second, one at once on connecting, a comment line every 15 s
 * when nothing changes, and ends when the session closes or the server stops. */
#include <limits.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "serve_internal.h"

#define GT__KEEPALIVE_S 15.0

typedef struct {
    gt_lab_server *S;
    gt__session *s;
    int fps;
    uint64_t sent_seq;
    double next_t, last_write;
    gt__blob *cur; /* being sent */
    size_t off;
    const char *ka; /* a keep-alive comment being sent */
} gt__viewer;

const char gt__sse_keepalive[] = ": keep-alive\n\n";

size_t gt__sse_copy(gt__blob **cur, const char **ka, size_t *off, char *buf, size_t max) {
    const char *src = *cur ? (*cur)->p : *ka;
    size_t n = *cur ? (*cur)->n : strlen(gt__sse_keepalive);
    size_t k = n - *off < max ? n - *off : max;
    memcpy(buf, src + *off, k);
    *off += k;
    if (*off == n) {
        gt__blob_unref(*cur);
        *cur = NULL;
        *ka = NULL;
        *off = 0;
    }
    return k;
}

gt__blob *gt__frame_event(gt__session *s) {
    if (!s->json || s->json_seq != s->frame_seq) {
        gt_buf b = {0};
        gt__buf_puts(&b, GT__EVENT_PREFIX);
        gt__frame_to_json(&b, s->frame);
        gt__buf_puts(&b, "\n\n");
        gt__blob *o = gt__blob_take(&b);
        free(b.p);
        if (!o) return NULL;
        gt__blob_unref(s->json);
        s->json = o;
        s->json_seq = s->frame_seq;
    }
    atomic_fetch_add(&s->json->refs, 1);
    return s->json;
}

static ssize_t gt__events_read(void *cls, uint64_t pos, char *buf, size_t max) {
    gt__viewer *v = cls;
    gt__session *s = v->s;
    if (!v->cur && !v->ka) {
        bool kick = false;
        pthread_mutex_lock(&s->mu);
        for (;;) {
            if (atomic_load(&v->S->stopping) || s->dead) {
                pthread_mutex_unlock(&s->mu);
                return MHD_CONTENT_READER_END_OF_STREAM;
            }
            double now = gt__now(), wait = 1.0;
            if (s->has_frame && s->frame_seq != v->sent_seq) {
                if (now >= v->next_t) {
                    v->cur = gt__frame_event(s);
                    if (!v->cur) {
                        pthread_mutex_unlock(&s->mu);
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                    }
                    v->off = 0;
                    v->sent_seq = s->frame_seq;
                    double gap = 1.0 / v->fps; /* on average at most fps a second, never closer than 0.7 / fps */
                    v->next_t = v->next_t + gap > now + 0.7 * gap ? v->next_t + gap : now + 0.7 * gap;
                    break;
                }
                wait = v->next_t - now;
            } else if (!s->has_frame && !s->want_frame) {
                s->want_frame = true; /* the first frame of a session nobody watched */
                kick = true;
            }
            if (now - v->last_write >= GT__KEEPALIVE_S) {
                v->ka = gt__sse_keepalive;
                v->off = 0;
                break;
            }
            if (kick) {
                pthread_mutex_unlock(&s->mu);
                gt__kick(v->S);
                kick = false;
                pthread_mutex_lock(&s->mu);
                continue;
            }
            if (wait > GT__KEEPALIVE_S - (now - v->last_write)) wait = GT__KEEPALIVE_S - (now - v->last_write);
            if (wait > 1.0) wait = 1.0;
            gt__wait(&s->cv, &s->mu, wait);
        }
        pthread_mutex_unlock(&s->mu);
        v->last_write = gt__now();
    }
    return (ssize_t)gt__sse_copy(&v->cur, &v->ka, &v->off, buf, max);
}

static void gt__events_free(void *cls) {
    gt__viewer *v = cls;
    gt__session *s = v->s;
    pthread_mutex_lock(&s->mu);
    s->viewers--;
    s->fps_n[v->fps]--;
    s->touched = gt__now();
    pthread_mutex_unlock(&s->mu);
    gt__blob_unref(v->cur);
    gt__session_unref(v->S, s);
    free(v);
}

int gt__events(gt_lab_server *S, struct MHD_Connection *c, gt__session *s) {
    int fps = 30;
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "fps");
    if (q) {
        char *end = NULL;
        long f = strtol(q, &end, 10);
        if (!*q || *end || f < 1 || f > 30) {
            gt__session_unref(S, s);
            return gt__reply_error(c, 400, "fps must be an integer in 1..30, got '%.20s'", q);
        }
        fps = (int)f;
    }
    gt__viewer *v = calloc(1, sizeof *v);
    if (!v) {
        gt__session_unref(S, s);
        return gt__reply_error(c, 500, "out of memory");
    }
    v->S = S;
    v->s = s; /* the stream keeps the caller's reference */
    v->fps = fps;
    v->last_write = gt__now();
    pthread_mutex_lock(&s->mu);
    s->viewers++;
    s->fps_n[fps]++;
    pthread_mutex_unlock(&s->mu);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, gt__events_read, v, gt__events_free);
    if (!r) {
        gt__events_free(v);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r); /* the stream's end frees v (gt__events_free) */
    return ok;
}
