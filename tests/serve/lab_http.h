/* tests/serve/lab_http.h - what the lab server's tests share: a gantry lab server started in the
 * test's process on a free port with a temporary web folder, and a small HTTP/1.1 client on raw
 * sockets (requests sent byte for byte as written, answers with Content-Length or chunked bodies,
 * Server-Sent Events read incrementally). Every socket has a 20 s timeout, so a server that stops
 * answering fails the test instead of hanging it. */
#ifndef GT_TEST_LAB_HTTP_H
#define GT_TEST_LAB_HTTP_H

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../common/harness.h"
#include "loopback.h"
#include "gantry/lab.h"
#include "gantry/serve.h"

static int gt_lab_port; /* the server the helpers talk to */

static inline double gt_http_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void gt_http_sleep(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* ---- the web folder: index.html, app.js, sub/page.css, a file beside it (secret.txt) that
 * must never be served, and a symbolic link inside that points at it ---------------------- */
static char gt_lab_web[1024];
#define GT_LAB_INDEX "<!doctype html><title>lab test</title><script src=\"app.js\"></script>\n"
#define GT_LAB_APP "console.log('lab test');\n"
#define GT_LAB_SECRET "TOP-SECRET-OUTSIDE-THE-WEB-FOLDER\n"

static inline void gt_lab_write(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static inline const char *gt_lab_web_make(void) {
    char p[1200];
    snprintf(gt_lab_web, sizeof gt_lab_web, "%s/web", gt_test_tmpdir());
    mkdir(gt_lab_web, 0755);
    snprintf(p, sizeof p, "%s/index.html", gt_lab_web), gt_lab_write(p, GT_LAB_INDEX);
    snprintf(p, sizeof p, "%s/app.js", gt_lab_web), gt_lab_write(p, GT_LAB_APP);
    snprintf(p, sizeof p, "%s/sub", gt_lab_web), mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/page.css", gt_lab_web), gt_lab_write(p, "body{}\n");
    snprintf(p, sizeof p, "%s/secret.txt", gt_test_tmpdir()), gt_lab_write(p, GT_LAB_SECRET);
    char link[1200];
    snprintf(link, sizeof link, "%s/link_out.txt", gt_lab_web);
    unlink(link);
    if (symlink(p, link) != 0) fprintf(stderr, "symlink %s: %s\n", link, strerror(errno));
    return gt_lab_web;
}

static inline gt_lab_server *gt_lab_start(double idle_s) {
    gt_lab_server_opts o = {.host = "127.0.0.1", .port = 0, .web_dir = gt_lab_web_make(), .quiet = true,
                            .idle_s = idle_s};
    gt_lab_server *S = NULL;
    gt_status st = gt_lab_server_start(&o, &S);
    CHECK_MSG(st == GT_OK, "gt_lab_server_start: %s", gt_last_error());
    if (S) gt_lab_port = gt_lab_server_port(S);
    return S;
}

/* ---- the client --------------------------------------------------------------------------- */
typedef struct {
    int status;     /* -1: no answer */
    char head[4096]; /* the status line and headers */
    char *body;     /* NUL-terminated, de-chunked */
    size_t n;
} gt_http_resp;

static inline void gt_http_free(gt_http_resp *r) {
    free(r->body);
    r->body = NULL;
}

static inline int gt_http_connect(void) { return gt_loopback_connect(gt_lab_port, 20); }
#define gt_http_send_all gt_loopback_send_all

/* The value of header `name` in r->head (case-insensitive), copied into out; false if absent. */
static inline bool gt_http_header(const gt_http_resp *r, const char *name, char *out, size_t n) {
    size_t ln = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2;
        if (strncasecmp(h, name, ln) == 0 && h[ln] == ':') {
            h += ln + 1;
            while (*h == ' ') h++;
            size_t k = strcspn(h, "\r\n");
            if (k >= n) k = n - 1;
            memcpy(out, h, k);
            out[k] = 0;
            return true;
        }
    }
    return false;
}

/* Decodes a chunked body in place; its new length (or the old one if it is not well-formed). */
static inline size_t gt_http_dechunk(char *b, size_t n) {
    size_t r = 0, w = 0;
    while (r < n) {
        char *end = NULL;
        unsigned long k = strtoul(b + r, &end, 16);
        const char *crlf = strstr(b + r, "\r\n");
        if (!crlf || end == b + r) return n;
        r = (size_t)(crlf - b) + 2;
        if (k == 0) break;
        if (r + k > n) k = n - r;
        memmove(b + w, b + r, k);
        w += k, r += k + 2;
    }
    b[w] = 0;
    return w;
}

/* Reads an answer until the server closes the connection. */
static inline int gt_http_read(int fd, gt_http_resp *r) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 > cap) buf = realloc(buf, cap *= 2);
        ssize_t k = recv(fd, buf + n, cap - n - 1, 0);
        if (k <= 0) break;
        n += (size_t)k;
    }
    buf[n] = 0;
    r->status = -1;
    r->head[0] = 0;
    r->body = NULL;
    r->n = 0;
    char *sep = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.", 7) != 0 || !sep) {
        free(buf);
        return -1;
    }
    r->status = atoi(buf + 9);
    size_t hn = (size_t)(sep - buf) + 2;
    if (hn >= sizeof r->head) hn = sizeof r->head - 1;
    memcpy(r->head, buf, hn);
    r->head[hn] = 0;
    size_t bn = n - (size_t)(sep + 4 - buf);
    r->body = malloc(bn + 1);
    memcpy(r->body, sep + 4, bn);
    r->body[bn] = 0;
    r->n = bn;
    char te[64];
    if (gt_http_header(r, "Transfer-Encoding", te, sizeof te) && strstr(te, "chunked"))
        r->n = gt_http_dechunk(r->body, bn);
    free(buf);
    return r->status;
}

/* Sends raw bytes as they are and reads the answer. */
static inline int gt_http_raw(const char *raw, size_t n, gt_http_resp *r) {
    memset(r, 0, sizeof *r);
    r->status = -1;
    int fd = gt_http_connect();
    if (fd < 0) return -1;
    bool ok = gt_http_send_all(fd, raw, n);
    int st = gt_http_read(fd, r);
    close(fd);
    return ok || st > 0 ? st : -1;
}

/* METHOD path with body (NULL: none); the answer in r (free it with gt_http_free). */
static inline int gt_http(const char *method, const char *path, const char *body, gt_http_resp *r) {
    size_t bn = body ? strlen(body) : 0;
    size_t cap = strlen(path) + bn + 512;
    char *req = malloc(cap);
    int k = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, path);
    if (body) k += snprintf(req + k, cap - (size_t)k, "Content-Type: application/json\r\nContent-Length: %zu\r\n", bn);
    k += snprintf(req + k, cap - (size_t)k, "\r\n");
    if (body) memcpy(req + k, body, bn), k += (int)bn;
    int st = gt_http_raw(req, (size_t)k, r);
    free(req);
    return st;
}

/* The answer's body as JSON (NULL if it is not), freed by the caller. */
static inline cJSON *gt_http_json(const gt_http_resp *r) {
    return r->body ? cJSON_ParseWithLength(r->body, r->n) : NULL;
}

/* One request whose JSON answer is returned (NULL and a failed check when the status differs). */
static inline cJSON *gt_http_expect(const char *method, const char *path, const char *body, int want) {
    gt_http_resp r;
    int st = gt_http(method, path, body, &r);
    cJSON *j = st == want ? gt_http_json(&r) : NULL;
    CHECK_MSG(st == want && (j || want == 204), "%s %s %s: status %d (want %d): %.300s", method, path,
              body ? body : "", st, want, r.body ? r.body : "");
    gt_http_free(&r);
    return j;
}

/* The status of a request whose answer must be a JSON error naming `needle` (NULL: any). */
static inline int gt_http_error(const char *method, const char *path, const char *body, const char *needle) {
    gt_http_resp r;
    int st = gt_http(method, path, body, &r);
    cJSON *j = gt_http_json(&r);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    CHECK_MSG(cJSON_IsString(e) && (!needle || strstr(e->valuestring, needle)),
              "%s %s %.80s: status %d, want an error naming '%s': %.300s", method, path, body ? body : "", st,
              needle ? needle : "", r.body ? r.body : "");
    cJSON_Delete(j);
    gt_http_free(&r);
    return st;
}

/* The server still answers (GET /api/options). */
static inline bool gt_lab_alive(void) {
    gt_http_resp r;
    int st = gt_http("GET", "/api/options", NULL, &r);
    bool ok = st == 200 && r.body && strstr(r.body, "\"defaults\"");
    gt_http_free(&r);
    return ok;
}

static inline double gt_json_num(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A new session (config: a JSON body or NULL); its id in id[17]. */
static inline bool gt_lab_session(const char *config, char id[17]) {
    cJSON *j = gt_http_expect("POST", "/api/sessions", config, 201);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "id");
    bool ok = cJSON_IsString(v) && strlen(v->valuestring) == 16;
    if (ok) snprintf(id, 17, "%s", v->valuestring);
    cJSON_Delete(j);
    return ok;
}

/* ---- Server-Sent Events -------------------------------------------------------------------- */
typedef struct {
    int fd;
    char head[4096];
    char raw[1 << 16]; /* received, not yet de-chunked */
    size_t nraw;
    char *text; /* de-chunked event text not yet returned */
    size_t ntext, cap;
    bool chunked, ended; /* ended: the last (empty) chunk came */
} gt_sse;

/* Opens GET path; the status of the answer (its headers in s->head). */
static inline int gt_sse_open(gt_sse *s, const char *path) {
    memset(s, 0, sizeof *s);
    s->fd = gt_http_connect();
    if (s->fd < 0) return -1;
    char req[512];
    int k = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n", path);
    if (!gt_http_send_all(s->fd, req, (size_t)k)) return -1;
    size_t n = 0;
    char *sep = NULL;
    while (!sep && n < sizeof s->raw - 1) {
        ssize_t got = recv(s->fd, s->raw + n, sizeof s->raw - 1 - n, 0);
        if (got <= 0) return -1;
        n += (size_t)got;
        s->raw[n] = 0;
        sep = strstr(s->raw, "\r\n\r\n");
    }
    if (!sep) return -1;
    size_t hn = (size_t)(sep - s->raw) + 2;
    memcpy(s->head, s->raw, hn < sizeof s->head ? hn : sizeof s->head - 1);
    s->nraw = n - (size_t)(sep + 4 - s->raw);
    memmove(s->raw, sep + 4, s->nraw);
    gt_http_resp tmp;
    memcpy(tmp.head, s->head, sizeof tmp.head);
    char te[64];
    s->chunked = gt_http_header(&tmp, "Transfer-Encoding", te, sizeof te) && strstr(te, "chunked");
    return atoi(s->head + 9);
}

/* Moves whole chunks from raw to text. */
static inline void gt_sse_dechunk(gt_sse *s) {
    for (;;) {
        size_t take = 0, skip = 0;
        if (!s->chunked) {
            take = s->nraw;
        } else {
            char *crlf = memchr(s->raw, '\n', s->nraw);
            if (!crlf) return;
            unsigned long k = strtoul(s->raw, NULL, 16);
            size_t hdr = (size_t)(crlf - s->raw) + 1;
            if (hdr + k + 2 > s->nraw) return;
            take = k, skip = hdr;
        }
        if (s->ntext + take + 1 > s->cap) {
            s->cap = (s->ntext + take + 1) * 2;
            s->text = realloc(s->text, s->cap);
        }
        memcpy(s->text + s->ntext, s->raw + skip, take);
        s->ntext += take;
        s->text[s->ntext] = 0;
        size_t used = skip + take + (s->chunked ? 2 : 0);
        memmove(s->raw, s->raw + used, s->nraw - used);
        s->nraw -= used;
        if (s->chunked && take == 0) s->ended = true;
        if (!s->chunked || take == 0) return;
    }
}

/* The next event's data (malloc'd) with its name in event[32]; comments are skipped. NULL when
 * the stream ends or nothing comes within timeout_s. */
static inline char *gt_sse_next(gt_sse *s, char event[32], double timeout_s) {
    double t_end = gt_http_now() + timeout_s;
    for (;;) {
        gt_sse_dechunk(s);
        char *end = s->text ? strstr(s->text, "\n\n") : NULL;
        if (end) {
            size_t n = (size_t)(end - s->text) + 2;
            char *ev = malloc(n + 1);
            memcpy(ev, s->text, n);
            ev[n] = 0;
            memmove(s->text, s->text + n, s->ntext - n + 1);
            s->ntext -= n;
            event[0] = 0;
            char *data = NULL, *save = NULL; /* strtok_r: viewers read streams from several threads */
            for (char *line = strtok_r(ev, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "event: ", 7) == 0) snprintf(event, 32, "%s", line + 7);
                if (strncmp(line, "data: ", 6) == 0) data = strdup(line + 6);
            }
            free(ev);
            if (data) return data;
            continue; /* a comment */
        }
        double left = t_end - gt_http_now();
        if (left <= 0 || s->ended) return NULL;
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0) return NULL;
        ssize_t k = recv(s->fd, s->raw + s->nraw, sizeof s->raw - s->nraw, 0);
        if (k <= 0) return NULL;
        s->nraw += (size_t)k;
    }
}

static inline void gt_sse_close(gt_sse *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    free(s->text);
    s->text = NULL;
}

#endif
