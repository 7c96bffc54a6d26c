/* tests/serve/abuse_drive.h - abuse of a running `gantry lab` (a child process at pid, on
 * 127.0.0.1:port) from one thread, shared by tests/serve/test_server_abuse.c and
 * bench/bench_abuse.c: at once, slow clients sending their request line a byte a second, idle
 * connections that never send, half-closed event streams (GET /api/runs/events then
 * shutdown(SHUT_WR)), bodies declared over the 1 MiB limit, small bodies sent a byte a second; then chunked bodies over it, one after
 * the other; all the while a normal client asks GET /api/options twice a second on a connection
 * of its own. Only plain POSIX and the libc: no test harness. */
#ifndef GT_TEST_ABUSE_DRIVE_H
#define GT_TEST_ABUSE_DRIVE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

typedef struct {
    /* in */
    int port;
    pid_t pid;
    int n_slow, n_idle, n_sse, n_big, n_chunked, n_slow_body;
    double seconds; /* how long the slow clients and the normal client go on */
    bool reconnect; /* a slow or idle client cut off connects again (a sustained attack) */
    /* out */
    int opened;          /* abusive connections opened */
    int held_max;        /* of them, open at once (the most, sampled every tick) */
    int slow_cut;        /* slow and idle connections the server closed */
    int reconnects;      /* new connections of cut-off clients (reconnect) */
    int body_cut;        /* slow bodies the server cut off */
    int sse_ok;          /* half-closed streams that got their first event */
    int sse_open_end;    /* ... and were still open at the end */
    int big_413, chunked_413;
    int normal_sent, normal_ok;
    double lat_med, lat_max; /* the normal client's, seconds */
    long vmhwm_kb;
    int threads_max;
    char err[256];
    /* the streams still open (closed by gt_abuse_close) */
    int *fds;
    int nfds;
} gt_abuse;

static inline double gt_abuse_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A /proc/PID/status field in kB (or a count), -1 if absent. */
static inline long gt_abuse_status(pid_t pid, const char *key) {
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "r");
    long v = -1;
    size_t kn = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kn) && line[kn] == ':') v = atol(line + kn + 1);
    if (f) fclose(f);
    return v;
}

/* Soft RLIMIT_NOFILE raised to at least want (within the hard limit); the new soft limit. */
static inline long gt_abuse_raise_nofile(long want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    if ((long)rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < want ? rl.rlim_max : (rlim_t)want;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long)rl.rlim_cur;
}

#define gt_abuse_connect gt_loopback_connect
#define gt_abuse_send gt_loopback_send_all

/* The status code of the answer on fd (its first bytes), waiting at most timeout_s; -1: none. */
static inline int gt_abuse_status_code(int fd, double timeout_s, char *head, size_t n) {
    size_t got = 0;
    double end = gt_abuse_now() + timeout_s;
    while (got + 1 < n) {
        double left = end - gt_abuse_now();
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0) break;
        ssize_t k = recv(fd, head + got, n - 1 - got, 0);
        if (k <= 0) break;
        got += (size_t)k;
        head[got] = 0;
        if (strstr(head, "\r\n\r\n")) break;
    }
    head[got] = 0;
    return got > 12 && !strncmp(head, "HTTP/1.", 7) ? atoi(head + 9) : -1;
}

/* One normal request on a connection of its own; true when answered 200. */
static inline bool gt_abuse_normal(int port, double *lat) {
    double t0 = gt_abuse_now();
    int fd = gt_abuse_connect(port, 10);
    bool ok = false;
    if (fd >= 0) {
        const char *req = "GET /api/options HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        char head[4096];
        ok = gt_abuse_send(fd, req, strlen(req)) && gt_abuse_status_code(fd, 10, head, sizeof head) == 200;
        close(fd);
    }
    *lat = gt_abuse_now() - t0;
    return ok;
}

/* Whether the server has closed fd (end of stream or reset); data is read and dropped. */
static inline bool gt_abuse_closed(int fd) {
    char buf[4096];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0) return false;
        ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return true;
        if (k < 0) return false;
    }
}

static inline int gt_abuse_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { GT_ABUSE_SLOW, GT_ABUSE_IDLE, GT_ABUSE_SSE, GT_ABUSE_BIG, GT_ABUSE_SLOW_BODY };

static const char gt_abuse_body_head[] = "POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                         "application/json\r\nContent-Length: 1000\r\n\r\n";

/* Runs the abuse; false with a->err when it could not be set up. The half-closed streams stay open
 * (a->fds) for the caller to stop the server with them; gt_abuse_close closes them. */
static inline bool gt_abuse_run(gt_abuse *a) {
    int total = a->n_slow + a->n_idle + a->n_sse + a->n_big + a->n_slow_body;
    int *fd = malloc((size_t)total * sizeof *fd), *kind = malloc((size_t)total * sizeof *kind);
    size_t *sent = calloc((size_t)total, sizeof *sent);
    bool *closed = calloc((size_t)total, sizeof *closed), *sse_seen = calloc((size_t)total, sizeof *sse_seen);
    int lat_cap = (int)(a->seconds * 2) + 16;
    double *lat = malloc((size_t)lat_cap * sizeof *lat);
    a->err[0] = 0;
    if (!fd || !kind || !sent || !closed || !sse_seen || !lat) {
        snprintf(a->err, sizeof a->err, "out of memory");
        total = 0;
    }
    const char *slow_req = "GET /api/options HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    size_t slow_n = strlen(slow_req);
    char head[4096];
    /* everything at once */
    for (int i = 0; i < total; i++) {
        kind[i] = i < a->n_slow ? GT_ABUSE_SLOW
                  : i < a->n_slow + a->n_idle ? GT_ABUSE_IDLE
                  : i < a->n_slow + a->n_idle + a->n_sse ? GT_ABUSE_SSE
                  : i < a->n_slow + a->n_idle + a->n_sse + a->n_big ? GT_ABUSE_BIG
                                                                     : GT_ABUSE_SLOW_BODY;
        fd[i] = gt_abuse_connect(a->port, 10);
        if (fd[i] < 0) {
            snprintf(a->err, sizeof a->err, "connection %d of %d: %s", i, total, strerror(errno));
            for (int j = 0; j < i; j++) close(fd[j]);
            total = 0;
            break;
        }
        a->opened++;
        if (kind[i] == GT_ABUSE_SLOW) sent[i] = gt_abuse_send(fd[i], slow_req, 1) ? 1 : 0;
        if (kind[i] == GT_ABUSE_SLOW_BODY) gt_abuse_send(fd[i], gt_abuse_body_head, strlen(gt_abuse_body_head));
        if (kind[i] == GT_ABUSE_SSE) {
            const char *req = "GET /api/runs/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
            gt_abuse_send(fd[i], req, strlen(req));
            shutdown(fd[i], SHUT_WR); /* half-closed: the client sends nothing more */
        }
        if (kind[i] == GT_ABUSE_BIG) {
            const char *req = "POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              "Content-Length: 1000000000\r\n\r\n{\"a\": ";
            gt_abuse_send(fd[i], req, strlen(req));
        }
    }
    double t0 = gt_abuse_now(), next_byte = t0 + 1, next_normal = t0;
    int nlat = 0, chunked_done = 0;
    while (total && gt_abuse_now() - t0 < a->seconds) {
        double now = gt_abuse_now();
        if (now >= next_normal && nlat < lat_cap) { /* the normal client */
            a->normal_sent++;
            a->normal_ok += gt_abuse_normal(a->port, &lat[nlat]);
            nlat++;
            next_normal += 0.5;
        }
        if (now >= next_byte) { /* a byte a second from each slow client */
            for (int i = 0; i < total; i++) {
                if (closed[i]) continue;
                if (kind[i] == GT_ABUSE_SLOW && sent[i] < slow_n &&
                    send(fd[i], slow_req + sent[i], 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
                    sent[i]++;
                if (kind[i] == GT_ABUSE_SLOW_BODY && sent[i] < 1000 && send(fd[i], " ", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
                    sent[i]++;
            }
            next_byte += 1;
        }
        if (chunked_done < a->n_chunked) { /* a chunked body over the limit: 1 MiB + 64 KiB */
            int c = gt_abuse_connect(a->port, 10);
            const char *req = "POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n";
            static char piece[65536 + 16];
            int hn = snprintf(piece, sizeof piece, "10000\r\n");
            memset(piece + hn, ' ', 65536);
            memcpy(piece + hn + 65536, "\r\n", 2);
            bool ok = c >= 0 && gt_abuse_send(c, req, strlen(req));
            for (int k = 0; ok && k < 17; k++) ok = gt_abuse_send(c, piece, (size_t)hn + 65536 + 2);
            if (ok) ok = gt_abuse_send(c, "0\r\n\r\n", 5);
            if (ok && gt_abuse_status_code(c, 10, head, sizeof head) == 413) a->chunked_413++;
            if (c >= 0) close(c);
            chunked_done++;
        }
        int held = 0;
        for (int i = 0; i < total; i++) {
            if (!closed[i] && kind[i] == GT_ABUSE_SSE && !sse_seen[i]) {
                char buf[8192];
                struct pollfd p = {fd[i], POLLIN, 0};
                if (poll(&p, 1, 0) > 0) {
                    ssize_t k = recv(fd[i], buf, sizeof buf - 1, MSG_DONTWAIT);
                    if (k > 0) {
                        buf[k] = 0;
                        if (strstr(buf, "event: runs")) sse_seen[i] = true, a->sse_ok++;
                    } else if (k == 0) {
                        closed[i] = true;
                    }
                }
            } else if (!closed[i] && kind[i] == GT_ABUSE_BIG) {
                struct pollfd p = {fd[i], POLLIN, 0};
                if (poll(&p, 1, 0) > 0) {
                    if (gt_abuse_status_code(fd[i], 1, head, sizeof head) == 413) a->big_413++;
                    close(fd[i]);
                    fd[i] = -1;
                    closed[i] = true;
                }
            } else if (!closed[i] && kind[i] != GT_ABUSE_SSE && kind[i] != GT_ABUSE_BIG && gt_abuse_closed(fd[i])) {
                closed[i] = true;
                if (kind[i] == GT_ABUSE_SLOW_BODY) a->body_cut++;
                else a->slow_cut++;
                if (a->reconnect) {
                    close(fd[i]);
                    fd[i] = gt_abuse_connect(a->port, 10);
                    if (fd[i] >= 0) {
                        closed[i] = false;
                        a->reconnects++;
                        sent[i] = kind[i] == GT_ABUSE_SLOW && gt_abuse_send(fd[i], slow_req, 1) ? 1 : 0;
                        if (kind[i] == GT_ABUSE_SLOW_BODY)
                            gt_abuse_send(fd[i], gt_abuse_body_head, strlen(gt_abuse_body_head));
                    }
                }
            }
            held += !closed[i];
        }
        if (held > a->held_max) a->held_max = held;
        long th = gt_abuse_status(a->pid, "Threads");
        if (th > a->threads_max) a->threads_max = (int)th;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    a->vmhwm_kb = gt_abuse_status(a->pid, "VmHWM");
    if (nlat) {
        qsort(lat, (size_t)nlat, sizeof *lat, gt_abuse_cmp);
        a->lat_med = lat[nlat / 2], a->lat_max = lat[nlat - 1];
    }
    /* keep the streams; close the rest */
    a->fds = malloc((size_t)(total ? total : 1) * sizeof *a->fds);
    a->nfds = 0;
    for (int i = 0; i < total; i++) {
        if (kind[i] == GT_ABUSE_SSE && !closed[i] && !gt_abuse_closed(fd[i])) {
            a->sse_open_end++;
            if (a->fds) a->fds[a->nfds++] = fd[i];
            else close(fd[i]);
        } else if (fd[i] >= 0) {
            close(fd[i]);
        }
    }
    free(fd), free(kind), free(sent), free(closed), free(sse_seen), free(lat);
    return a->err[0] == 0;
}

static inline void gt_abuse_close(gt_abuse *a) {
    for (int i = 0; i < a->nfds; i++) close(a->fds[i]);
    free(a->fds);
    a->fds = NULL;
    a->nfds = 0;
}

#endif
