/* bench_lab: gantry lab's training speed while the view streams. A server in this process (port
 * 0, loopback), one session with GAN Lab's defaults playing; for 0, 1 and 20 viewers (threads here,
 * each reading GET /api/sessions/ID/events?fps=30 over its own socket for the window), the epochs a
 * second the session trains (from its epoch counter) and the frames a second each viewer received.
 * The 0-viewer run comes first and last (the mean is the baseline), so drift in the machine's load
 * shows. Prints a table; the targets: >= 1,000 epochs/s with the view at 30 frames/s, and
 * 20 viewers slow training by less than 10%.
 * usage: bench_lab [seconds per run (5)] */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench_http.h"
#include "bench_util.h"
#include "gantry/lab.h"
#include "gantry/serve.h"

static int port;

static int http_connect(void) { return bench_http_connect(port, 10); }

/* One request; the answer (head and body, malloc'd) or NULL. */
static char *http(const char *method, const char *path, const char *body) {
    int fd = http_connect();
    if (fd < 0) return NULL;
    char req[1024];
    int k = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    if (send(fd, req, (size_t)k, MSG_NOSIGNAL) != k) {
        close(fd);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (ssize_t got; (got = recv(fd, buf + n, cap - n - 1, 0)) > 0;) {
        n += (size_t)got;
        if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    close(fd);
    return buf;
}

static double json_num(const char *text, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = text ? strstr(text, k) : NULL;
    return p ? atof(p + strlen(k)) : -1;
}

static char sid[17];

static double epoch_now(void) {
    char path[64];
    snprintf(path, sizeof path, "/api/sessions/%s", sid);
    char *a = http("GET", path, NULL);
    double e = json_num(a, "epoch");
    free(a);
    return e;
}

/* ---- viewers ---------------------------------------------------------------------------------- */
static atomic_bool counting, stop_viewers;

typedef struct {
    pthread_t th;
    int fd;
    long frames; /* received while counting */
    bool ok;
} viewer;

static void *viewer_run(void *arg) {
    viewer *v = arg;
    static const char pat[] = "event: frame\n";
    char buf[1 << 16];
    size_t keep = 0; /* the tail of the last read, so a marker split between reads is seen */
    while (!atomic_load(&stop_viewers)) {
        struct pollfd p = {v->fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t k = recv(v->fd, buf + keep, sizeof buf - keep - 1, 0);
        if (k <= 0) break;
        size_t n = keep + (size_t)k;
        buf[n] = 0;
        for (char *q = buf; (q = memmem(q, n - (size_t)(q - buf), pat, sizeof pat - 1)) != NULL; q += sizeof pat - 1)
            if (atomic_load(&counting)) v->frames++;
        keep = n < sizeof pat - 1 ? n : sizeof pat - 2;
        memmove(buf, buf + n - keep, keep);
    }
    return NULL;
}

static bool viewer_open(viewer *v) {
    memset(v, 0, sizeof *v);
    v->fd = http_connect();
    if (v->fd < 0) return false;
    char req[256];
    int k = snprintf(req, sizeof req, "GET /api/sessions/%s/events?fps=30 HTTP/1.1\r\nHost: x\r\n\r\n", sid);
    if (send(v->fd, req, (size_t)k, MSG_NOSIGNAL) != k) return false;
    return pthread_create(&v->th, NULL, viewer_run, v) == 0 && (v->ok = true);
}

typedef struct {
    int viewers;
    double eps, fps_min, fps_mean;
} result;

static result run(int n_viewers, double seconds) {
    result r = {n_viewers, 0, 0, 0};
    viewer *v = calloc((size_t)n_viewers + 1, sizeof *v);
    atomic_store(&counting, false);
    atomic_store(&stop_viewers, false);
    for (int i = 0; i < n_viewers; i++)
        if (!viewer_open(&v[i])) fprintf(stderr, "bench_lab: viewer %d could not connect\n", i);
    struct timespec settle = {0, 500000000};
    nanosleep(&settle, NULL); /* connected, first frames sent, the slice size settled */
    double e0 = epoch_now(), t0 = now();
    atomic_store(&counting, true);
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&counting, false);
    double e1 = epoch_now(), t1 = now();
    atomic_store(&stop_viewers, true);
    r.eps = (e1 - e0) / (t1 - t0);
    r.fps_min = 1e30;
    for (int i = 0; i < n_viewers; i++) {
        if (v[i].ok) pthread_join(v[i].th, NULL);
        if (v[i].fd >= 0) close(v[i].fd);
        double f = (double)v[i].frames / (t1 - t0);
        r.fps_mean += f / n_viewers;
        if (f < r.fps_min) r.fps_min = f;
    }
    if (!n_viewers) r.fps_min = 0;
    free(v);
    return r;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 5;
    /* the optimizer: the set-up is Adam; GAN Lab's page opens with SGD */
    const char *optim = argc > 2 ? argv[2] : "adam";
    if (gt_lab_optim_parse(optim) < 0) {
        fprintf(stderr, "bench_lab: optimizer must be sgd or adam, got '%s'\n", optim);
        return 2;
    }
    if (!(seconds > 0 && seconds <= 600)) {
        fprintf(stderr, "usage: bench_lab [seconds per run (5)]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    gt_lab_server_opts o = {.host = "127.0.0.1", .port = 0, .web_dir = NULL, .quiet = true};
    gt_lab_server *S = NULL;
    if (gt_lab_server_start(&o, &S) != GT_OK) {
        fprintf(stderr, "bench_lab: %s\n", gt_last_error());
        return 1;
    }
    port = gt_lab_server_port(S);
    char body[64];
    snprintf(body, sizeof body, "{\"optim\": \"%s\"}", optim);
    char *a = http("POST", "/api/sessions", body);
    const char *id = a ? strstr(a, "\"id\":\"") : NULL;
    if (!id) {
        fprintf(stderr, "bench_lab: no session: %s\n", a ? a : "(no answer)");
        return 1;
    }
    snprintf(sid, sizeof sid, "%.16s", id + 6);
    free(a);
    char path[96];
    snprintf(path, sizeof path, "/api/sessions/%s/control", sid);
    free(http("POST", path, "{\"action\": \"play\"}"));
    struct timespec warm = {1, 0};
    nanosleep(&warm, NULL);

    gt_lab_config d = gt_lab_config_default();
    d.optim = (gt_lab_optim)gt_lab_optim_parse(optim);
    printf("gantry lab: GAN Lab's defaults but the optimizer (%s, %s, G %dx%d, D %dx%d, batch %d, %d D + %d G updates an epoch), %g s a run\n",
           gt_lab_data_name(d.data), gt_lab_optim_name(d.optim), d.g_layers, d.g_neurons, d.d_layers, d.d_neurons,
           d.batch, d.d_steps, d.g_steps, seconds);
    const int plan[] = {0, 1, 20, 0};
    result res[4];
    for (int i = 0; i < 4; i++) res[i] = run(plan[i], seconds);
    double base = 0.5 * (res[0].eps + res[3].eps);
    printf("%-8s %10s %24s %10s\n", "viewers", "epochs/s", "frames/s per viewer", "slowdown");
    for (int i = 0; i < 4; i++) {
        char fr[48] = "-", sl[32] = "-";
        if (res[i].viewers) snprintf(fr, sizeof fr, "%.1f (min %.1f)", res[i].fps_mean, res[i].fps_min);
        if (res[i].viewers) snprintf(sl, sizeof sl, "%.1f%%", 100.0 * (base - res[i].eps) / base);
        printf("%-8d %10.0f %24s %10s\n", res[i].viewers, res[i].eps, fr, sl);
    }
    printf("baseline: the mean of the two 0-viewer runs (%.0f epochs/s); load average %s", base, "");
    FILE *la = fopen("/proc/loadavg", "r");
    char l[64] = "?";
    if (la && fgets(l, sizeof l, la)) l[strcspn(l, "\n")] = 0;
    if (la) fclose(la);
    printf("%s\n", l);
    free(http("POST", path, "{\"action\": \"pause\"}"));
    gt_lab_server_stop(S);
    return 0;
}
