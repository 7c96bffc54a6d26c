/* The lab server's connection guard: deadlines for the parts of a request a client controls.
 *
 * libmicrohttpd's own timeout counts inactivity, so a client that sends one byte a second keeps
 * its connection (and, a thread per connection, its thread and slot) forever. Here every
 * connection is tracked from its start (MHD_OPTION_NOTIFY_CONNECTION): its request's headers must
 * be in within GT__HEAD_S of the connection's start or of its previous request's end (an idle
 * keep-alive connection included), and its body within GT__BODY_S of the headers; past that, a
 * thread of the guard shuts the socket down (the connection's thread then sees the end and
 * closes it). A connection being answered (a page, an event stream) has no deadline.
 * The socket stays open until libmicrohttpd's CLOSED notice, which takes the guard's mutex
 * before the descriptor is closed: a shutdown never reaches a reused descriptor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <sys/socket.h>

#include "serve_internal.h"

#define GT__HEAD_S 10.0 /* request line and headers */
#define GT__BODY_S 30.0 /* the body after the headers (1 MiB at most) */
#define GT__TICK_S 0.25

typedef struct gt__conn {
    int fd;
    int phase;       /* GT__PHASE_* */
    double deadline; /* phase HEAD, BODY: when the socket is shut down */
    bool cut;
    struct gt__conn *prev, *next;
} gt__conn;

struct gt__guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_cond_t gone; /* a connection closed (gt__guard_drain waits on it) */
    bool stop, draining;
    pthread_t th;
    gt__conn *head;
    long n, cut;
};

static void *gt__guard_main(void *arg) {
    gt__guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        double now = gt__now();
        for (gt__conn *k = g->head; k; k = k->next)
            if (k->phase != GT__PHASE_ANSWER && !k->cut && now > k->deadline) {
                shutdown(k->fd, SHUT_RDWR); /* the connection's thread reads the end and closes it */
                k->cut = true;
                g->cut++;
            }
        gt__wait(&g->cv, &g->mu, GT__TICK_S);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

gt_status gt__guard_start(gt_lab_server *S) {
    gt__guard *g = calloc(1, sizeof *g);
    if (!g) return gt_set_error(GT_ERR_OOM, "out of memory");
    pthread_mutex_init(&g->mu, NULL);
    gt__cond_init(&g->cv);
    gt__cond_init(&g->gone);
    int e = pthread_create(&g->th, NULL, gt__guard_main, g);
    if (e) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        pthread_cond_destroy(&g->gone);
        free(g);
        return gt_set_error(GT_ERR_IO, "cannot start the connection guard: %s", strerror(e));
    }
    S->guard = g;
    return GT_OK;
}

/* After MHD_stop_daemon: every connection has been closed (and notified). */
void gt__guard_stop(gt_lab_server *S) {
    gt__guard *g = S->guard;
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->th, NULL);
    while (g->head) { /* none left, unless libmicrohttpd failed to notify one */
        gt__conn *k = g->head;
        g->head = k->next;
        free(k);
    }
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    pthread_cond_destroy(&g->gone);
    free(g);
    S->guard = NULL;
}

/* Before MHD_stop_daemon, once the daemon accepts no more (MHD_quiesce_daemon): shuts every
 * connection down (and any that still starts) and waits until libmicrohttpd has reported all of
 * them closed, which it does after joining their threads, so that no connection thread is still
 * working when the daemon's shutdown begins. libmicrohttpd 0.9.75 (Debian 12) crashes in a
 * connection thread that answers a malformed request with an error of its own (400, 431, 505...)
 * once MHD_stop_daemon has set its shutdown flag: MHD_queue_response then returns "yes" without
 * queueing and the headers of a NULL response are built (fixed upstream in 1.0.1). Returns false
 * when connections were still open after timeout_s (a handler that does not return). */
bool gt__guard_drain(gt_lab_server *S, double timeout_s) {
    gt__guard *g = S->guard;
    if (!g) return true;
    pthread_mutex_lock(&g->mu);
    g->draining = true;
    double end = gt__now() + timeout_s;
    int empty = 0; /* two empty looks 10 ms apart: a connection accepted as the daemon quiesced is seen */
    while (empty < 2 && gt__now() < end) {
        for (gt__conn *k = g->head; k; k = k->next)
            if (!k->cut) {
                shutdown(k->fd, SHUT_RDWR);
                k->cut = true;
            }
        empty = g->n == 0 ? empty + 1 : 0;
        if (empty < 2) gt__wait(&g->gone, &g->mu, 0.01);
    }
    bool drained = g->n == 0;
    pthread_mutex_unlock(&g->mu);
    return drained;
}

void gt__guard_notify(void *cls, struct MHD_Connection *c, void **socket_ctx, enum MHD_ConnectionNotificationCode code) {
    gt_lab_server *S = cls;
    gt__guard *g = S->guard;
    if (!g) return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        gt__conn *k = ci ? calloc(1, sizeof *k) : NULL;
        *socket_ctx = k;
        if (!k) return; /* untracked: libmicrohttpd's inactivity timeout still applies */
        k->fd = ci->connect_fd;
        k->phase = GT__PHASE_HEAD;
        k->deadline = gt__now() + GT__HEAD_S;
        pthread_mutex_lock(&g->mu);
        k->next = g->head;
        if (g->head) g->head->prev = k;
        g->head = k;
        g->n++;
        if (g->draining) { /* the server is stopping: this one ends at once */
            shutdown(k->fd, SHUT_RDWR);
            k->cut = true;
        }
        pthread_mutex_unlock(&g->mu);
        return;
    }
    gt__conn *k = *socket_ctx;
    if (!k) return;
    pthread_mutex_lock(&g->mu);
    if (k->prev) k->prev->next = k->next;
    else g->head = k->next;
    if (k->next) k->next->prev = k->prev;
    g->n--;
    if (g->draining) pthread_cond_broadcast(&g->gone);
    pthread_mutex_unlock(&g->mu);
    free(k);
    *socket_ctx = NULL;
}

void gt__guard_phase(gt_lab_server *S, struct MHD_Connection *c, int phase) {
    gt__guard *g = S->guard;
    if (!g) return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    gt__conn *k = ci ? ci->socket_context : NULL;
    if (!k) return;
    pthread_mutex_lock(&g->mu);
    k->phase = phase;
    k->deadline = gt__now() + (phase == GT__PHASE_BODY ? GT__BODY_S : GT__HEAD_S);
    pthread_mutex_unlock(&g->mu);
}
