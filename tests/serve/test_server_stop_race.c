/* Stopping the lab server while clients keep sending requests that libmicrohttpd itself answers
 * with an error (HTTP/1.1 without a Host header: 400; an unknown HTTP version: 505), and valid
 * ones. libmicrohttpd 0.9.75 (Debian 12) crashes when such an error answer is built after
 * MHD_stop_daemon has begun: its MHD_queue_response then returns "yes" without queueing, and the
 * error path goes on to build the headers of a response that is not there (a NULL dereference in
 * a connection thread; fixed upstream in 1.0.1). gt_lab_server_stop therefore stops accepting,
 * ends every connection and waits for their threads to finish before the daemon is stopped. This
 * test stops a server ROUNDS times at random moments of such a load, and checks each round that
 * the server did answer (the load reached it) and that stopping returned, and at the end that no
 * file descriptor was left open (a listening socket or a connection). Before the fix it died
 * (SIGSEGV in libmicrohttpd.so.12+0x532f, the crash seen once after the HTTP fuzz campaign) in 10
 * of 10 runs. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/harness.h"
#include "gantry/serve.h"
#include "loopback.h"

#define ROUNDS 400
#define CLIENTS 12

static atomic_int g_port;
static atomic_bool g_done;
static atomic_long g_answers;

static const char *const g_requests[] = {
    "GET /api/options HTTP/1.1\r\n\r\n",                     /* no Host: 400 from libmicrohttpd */
    "GET /api/options HTTP/7.3\r\nHost: x\r\n\r\n",          /* 505 from libmicrohttpd */
    "GET /api/options HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", /* 200 from the server */
    "POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n{", /* 400 from the server */
};

/* Open file descriptors of this process. */
static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static void *client(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&g_done)) {
        int port = atomic_load(&g_port);
        int fd = port ? gt_loopback_connect(port, 2.0) : -1;
        if (fd < 0) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
            continue;
        }
        const char *rq = g_requests[rand_r(&seed) % (sizeof g_requests / sizeof g_requests[0])];
        if (gt_loopback_send_all(fd, rq, strlen(rq))) {
            char buf[512];
            ssize_t k = recv(fd, buf, sizeof buf, 0);
            if (k > 12 && memcmp(buf, "HTTP/1.", 7) == 0) atomic_fetch_add(&g_answers, 1);
        }
        close(fd);
    }
    return NULL;
}

static void test_stop_under_error_load(void) {
    int fds0 = open_fds();
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) pthread_create(&th[i], NULL, client, (void *)(uintptr_t)(i * 7919 + 1));
    unsigned seed = 12345;
    int reached = 0;
    for (int r = 0; r < ROUNDS; r++) {
        gt_lab_server_opts o = {.host = "127.0.0.1", .port = 0, .quiet = true};
        gt_lab_server *S = NULL;
        if (gt_lab_server_start(&o, &S) != GT_OK) {
            CHECK_MSG(0, "round %d: gt_lab_server_start: %s", r, gt_last_error());
            break;
        }
        long before = atomic_load(&g_answers);
        atomic_store(&g_port, gt_lab_server_port(S));
        struct timespec ts = {0, (long)(2 + rand_r(&seed) % 25) * 1000000L};
        nanosleep(&ts, NULL);
        for (int w = 0; w < 200 && atomic_load(&g_answers) == before; w++) { /* at least one answer */
            struct timespec t1 = {0, 1000000L};
            nanosleep(&t1, NULL);
        }
        if (atomic_load(&g_answers) > before) reached++;
        gt_lab_server_stop(S); /* crashed here (a connection thread) with libmicrohttpd 0.9.75 */
        atomic_store(&g_port, 0);
    }
    atomic_store(&g_done, true);
    for (int i = 0; i < CLIENTS; i++) pthread_join(th[i], NULL);
    CHECK_MSG(reached == ROUNDS, "the load reached the server in %d of %d rounds", reached, ROUNDS);
    /* every server's listening socket and connections closed (the quiesced socket is the server's to close) */
    int fds1 = open_fds();
    CHECK_MSG(fds1 == fds0, "%d file descriptors open before, %d after %d servers", fds0, fds1, ROUNDS);
    printf("  %d rounds stopped under load, %ld answers in all\n", ROUNDS, atomic_load(&g_answers));
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    alarm(240);
    RUN(test_stop_under_error_load);
    return gt_test_finish();
}
