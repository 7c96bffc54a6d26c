/* The lab server (gantry/serve.h): the listening socket, libmicrohttpd (a thread per connection),
 * request bodies (at most 1 MiB: a larger declared length gets 413 before any of it is read, a
 * larger chunked one 413 at its end, nothing of it kept),
 * the URL decoding, the routing to the API (api.c) and the static files (static.c), and the answers.
 * Under abuse (docs/reliability_kill.md): as many connections as the open-file limit allows (up to
 * GT__MAX_CONN; one remote address at most 3/4 of them), deadlines for a request's headers and body
 * (guard.c: a client sending a byte a second is cut off), small connection threads. */
#define _DEFAULT_SOURCE /* realpath, strcasecmp, NI_* */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve_internal.h"

void gt__log(gt_lab_server *S, const char *fmt, ...) {
    if (S->quiet) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "gantry lab: %s\n", line);
}

/* ---- answers ---------------------------------------------------------------------------------- */

static int gt__queue(struct MHD_Connection *c, int status, struct MHD_Response *r, const char *type) {
    if (!r) return MHD_NO;
    if (type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result q = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return q;
}

int gt__reply(struct MHD_Connection *c, int status, const char *type, const char *body, size_t n) {
    return gt__queue(c, status, MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY), type);
}

int gt__reply_json(struct MHD_Connection *c, int status, gt_buf *b) {
    if (b->oom || !b->p) {
        free(b->p);
        *b = (gt_buf){0};
        return gt__reply_error(c, 500, "out of memory");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(b->n, b->p, MHD_RESPMEM_MUST_FREE);
    if (!r) free(b->p);
    *b = (gt_buf){0};
    return gt__queue(c, status, r, "application/json");
}

int gt__reply_error(struct MHD_Connection *c, int status, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gt_buf b = {0};
    gt__buf_puts(&b, "{\"error\":");
    gt__buf_json_str(&b, msg);
    gt__buf_puts(&b, "}");
    if (b.oom) {
        free(b.p);
        return MHD_NO;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(b.n, b.p, MHD_RESPMEM_MUST_FREE);
    if (!r) free(b.p);
    return gt__queue(c, status, r, "application/json");
}

int gt__reply_method(struct MHD_Connection *c, const char *allow) {
    char msg[200];
    snprintf(msg, sizeof msg, "{\"error\":\"method not allowed here (allowed: %s)\"}", allow);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(msg), msg, MHD_RESPMEM_MUST_COPY);
    if (r) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    return gt__queue(c, 405, r, "application/json");
}

const char *gt__printable(char *dst, size_t n, const char *src) {
    size_t k = 0;
    for (; src[k] && k + 1 < n; k++) {
        unsigned char ch = (unsigned char)src[k];
        dst[k] = ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
    }
    if (n) dst[k] = 0;
    return dst;
}

/* ---- requests --------------------------------------------------------------------------------- */

#define GT__DISCARD_MAX ((size_t)64 << 20)

typedef struct {
    char *body;
    size_t n, cap; /* past the limit: n counts what was dropped */
    bool too_big, replied;
} gt__req;

static int gt__too_big(struct MHD_Connection *c) {
    return gt__reply_error(c, 413, "the request body is larger than 1 MiB (%d bytes)", GT_LAB_SERVER_MAX_BODY);
}

static bool gt__body_add(gt__req *r, const char *p, size_t n) {
    if (r->n + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->n + n + 1) cap *= 2;
        char *q = realloc(r->body, cap);
        if (!q) return false;
        r->body = q;
        r->cap = cap;
    }
    memcpy(r->body + r->n, p, n);
    r->n += n;
    r->body[r->n] = 0;
    return true;
}

static enum MHD_Result gt__access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_n, void **ctx) {
    gt_lab_server *S = cls;
    gt__req *r = *ctx;
    if (!r) { /* the headers: refuse a declared body over the limit before reading any of it */
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *ctx = r;
        gt__guard_phase(S, c, GT__PHASE_BODY);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end = NULL;
            errno = 0;
            unsigned long long len = strtoull(cl, &end, 10);
            if (errno || end == cl || len > GT_LAB_SERVER_MAX_BODY) {
                r->too_big = r->replied = true;
                gt__guard_phase(S, c, GT__PHASE_ANSWER);
                return (enum MHD_Result)gt__too_big(c);
            }
        }
        return MHD_YES;
    }
    if (*upload_n) { /* a piece of the body */
        if (!r->too_big && r->n + *upload_n > GT_LAB_SERVER_MAX_BODY) {
            /* no declared length (chunked): libmicrohttpd answers only once the body has arrived, so
             * the rest is read and dropped, then 413; past GT__DISCARD_MAX the connection is cut */
            r->too_big = true;
            free(r->body);
            r->body = NULL;
            r->cap = 0;
        }
        r->n += r->too_big ? *upload_n : 0;
        if (r->too_big && r->n > GT__DISCARD_MAX) return MHD_NO;
        if (!r->too_big && !gt__body_add(r, upload, *upload_n)) return MHD_NO;
        *upload_n = 0;
        return MHD_YES;
    }
    if (r->replied) return MHD_YES;
    gt__guard_phase(S, c, GT__PHASE_ANSWER); /* the whole request is in: no deadline while answering */
    if (r->too_big) return (enum MHD_Result)gt__too_big(c);
    if (!r->body && !gt__body_add(r, "", 0)) return MHD_NO;
    (void)version;
    atomic_fetch_add(&S->answering, 1);
    int q = (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0) ? gt__api(S, c, url, method, r->body, r->n)
                                                                         : gt__static(S, c, url, method);
    atomic_fetch_sub(&S->answering, 1);
    return (enum MHD_Result)q;
}

int gt_lab_server_answering(gt_lab_server *S) { return S ? atomic_load(&S->answering) : 0; }

static void gt__completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode code) {
    gt__guard_phase(cls, c, GT__PHASE_HEAD); /* a kept-alive connection: the next request's headers */
    gt__req *r = *ctx;
    if (r) {
        free(r->body);
        free(r);
        *ctx = NULL;
    }
}

/* %XX decoding of the path and the query: a decoded '/', '\', NUL or control character becomes
 * 0x01, which no route and no file name accepts (so "%2f", "..%2f" and "%00" cannot form paths). */
static int gt__hex(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static size_t gt__unescape(void *cls, struct MHD_Connection *c, char *s) {
    char *w = s;
    for (const char *p = s; *p; p++) {
        int hi, lo;
        if (p[0] == '%' && (hi = gt__hex(p[1])) >= 0 && (lo = gt__hex(p[2])) >= 0) {
            unsigned char ch = (unsigned char)(hi * 16 + lo);
            *w++ = ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f ? '\x01' : (char)ch;
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

static void gt__mhd_log(void *cls, const char *fmt, va_list ap) {
    gt_lab_server *S = cls;
    if (S->quiet) return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n') line[--n] = 0;
    fprintf(stderr, "gantry lab: libmicrohttpd: %s\n", line);
}

/* ---- start and stop --------------------------------------------------------------------------- */

static gt_status gt__listen(const char *host, int port, int *fd_out, int *family) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int e = getaddrinfo(host, ps, &hints, &res);
    if (e) return gt_set_error(GT_ERR_ARG, "host '%s': %s", host, gai_strerror(e));
    int err = 0, fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
            err = errno;
            close(fd);
            fd = -1;
            continue;
        }
        *family = a->ai_family;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (err == EADDRINUSE) return gt_set_error(GT_ERR_IO, "port %d is in use", port);
        return gt_set_error(GT_ERR_IO, "cannot listen on %s port %d: %s", host, port, strerror(err));
    }
    *fd_out = fd;
    return GT_OK;
}

static int gt__bound_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

/* Connections: what the open-file limit leaves after GT__FD_RESERVE descriptors for the files the
 * handlers read, at most GT__MAX_CONN; a thread each with a GT__STACK stack. */
#define GT__MAX_CONN 4096
#define GT__FD_RESERVE 64
#define GT__STACK ((size_t)2 << 20)
#define GT__DRAIN_S 5.0 /* at the stop: how long the connections have to end */

static unsigned gt__conn_limit(void) {
    struct rlimit rl;
    rlim_t n = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
    if (n == RLIM_INFINITY || n > GT__MAX_CONN + GT__FD_RESERVE) n = GT__MAX_CONN + GT__FD_RESERVE;
    return n > GT__FD_RESERVE + 16 ? (unsigned)(n - GT__FD_RESERVE) : 16u;
}

gt_status gt_lab_server_start(const gt_lab_server_opts *o, gt_lab_server **out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_lab_server_start: out is NULL");
    *out = NULL;
    gt_lab_server_opts d = {0};
    if (!o) o = &d;
    if (o->port < 0 || o->port > 65535) return gt_set_error(GT_ERR_ARG, "port must be in 0..65535, got %d", o->port);
    if (!(o->idle_s >= 0)) return gt_set_error(GT_ERR_ARG, "idle_s must be >= 0, got %g", o->idle_s);
    const char *host = o->host && o->host[0] ? o->host : "127.0.0.1";
    gt_lab_server *S = calloc(1, sizeof *S);
    if (!S) return gt_set_error(GT_ERR_OOM, "out of memory");
    S->quiet = o->quiet;
    S->idle_s = o->idle_s > 0 ? o->idle_s : 600;
    if (o->web_dir) {
        char real[PATH_MAX];
        struct stat st;
        if (!realpath(o->web_dir, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(S);
            return gt_set_error(GT_ERR_IO, "web folder %s: not found or not a folder", o->web_dir);
        }
        S->web_dir = strdup(real);
        if (!S->web_dir) {
            free(S);
            return gt_set_error(GT_ERR_OOM, "out of memory");
        }
    }
    gt__options_json(S->options_json, sizeof S->options_json);
    int fd = -1, family = AF_INET;
    gt_status st = gt__listen(host, o->port, &fd, &family);
    if (st == GT_OK && o->runs_dir && (st = gt__runs_server_start(S, o->runs_dir)) != GT_OK) close(fd);
    if (st != GT_OK) {
        free(S->web_dir);
        free(S);
        return st;
    }
    S->port = gt__bound_port(fd);
    st = gt__worker_start(S);
    if (st == GT_OK && (st = gt__guard_start(S)) != GT_OK) gt__worker_stop(S);
    if (st != GT_OK) {
        close(fd);
        gt__runs_server_stop(S, false);
        free(S->web_dir);
        free(S);
        return st;
    }
    /* MHD_USE_ITC: MHD_quiesce_daemon, at the stop, needs it */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC;
    if (family == AF_INET6) flags |= MHD_USE_IPv6;
    if (!S->quiet) flags |= MHD_USE_ERROR_LOG;
    unsigned limit = gt__conn_limit();
    S->mhd = MHD_start_daemon(flags, 0, NULL, NULL, gt__access, S, MHD_OPTION_EXTERNAL_LOGGER, gt__mhd_log, S,
                              MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, limit,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, limit / 4 * 3, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
                              MHD_OPTION_THREAD_STACK_SIZE, GT__STACK, MHD_OPTION_NOTIFY_CONNECTION, gt__guard_notify,
                              S, MHD_OPTION_NOTIFY_COMPLETED, gt__completed, S, MHD_OPTION_UNESCAPE_CALLBACK,
                              gt__unescape, S, MHD_OPTION_END);
    if (!S->mhd) {
        close(fd);
        gt__guard_stop(S);
        gt__worker_stop(S);
        gt__runs_server_stop(S, false);
        free(S->web_dir);
        free(S);
        return gt_set_error(GT_ERR_IO, "libmicrohttpd could not start on %s port %d", host, o->port);
    }
    *out = S;
    return GT_OK;
}

int gt_lab_server_port(const gt_lab_server *S) { return S ? S->port : -1; }

void gt_lab_server_stop(gt_lab_server *S) {
    if (!S) return;
    atomic_store(&S->stopping, true); /* event streams end at their next wake-up: wake them all */
    pthread_mutex_lock(&S->mu);
    for (int i = 0; i < GT_LAB_SERVER_MAX_SESSIONS; i++) {
        gt__session *s = S->table[i];
        if (!s) continue;
        pthread_mutex_lock(&s->mu);
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&S->mu);
    gt__runs_server_stop(S, true); /* the runs' streams too */
    /* No new connections, then every connection ended and its thread gone before the daemon's own
     * shutdown begins (libmicrohttpd 0.9.75 can crash otherwise: gt__guard_drain says why). The
     * quiesced listening socket is ours to close, after the daemon has stopped. */
    int lfd = S->mhd ? (int)MHD_quiesce_daemon(S->mhd) : -1;
    if (lfd >= 0 && !gt__guard_drain(S, GT__DRAIN_S) && !S->quiet)
        fprintf(stderr, "gantry lab: connections still open after %.0f s at the stop\n", GT__DRAIN_S);
    if (S->mhd) MHD_stop_daemon(S->mhd); /* joins the connection threads left, if any */
    if (lfd >= 0) close(lfd);
    gt__guard_stop(S);
    gt__worker_stop(S);
    gt__runs_server_stop(S, false);
    gt__anycost_stop(S); /* the anycost editors and their engine thread */
    pthread_mutex_destroy(&S->mu);
    pthread_cond_destroy(&S->cv);
    pthread_cond_destroy(&S->done_cv);
    free(S->web_dir);
    free(S);
}
