/* bench_dashboard: the runs dashboard's server costs (docs/DASHBOARD.md).
 * (1) The time the server takes to answer GET /api/runs/NAME/metrics?max=2000 for a run whose
 *     metrics.jsonl has 1,000,000 lines (written here, as gantry train writes them): the first
 *     request parses the file, the second is served from the cache, a third after one appended
 *     line reads only that line.
 * (2) How much 20 open dashboards slow a training run on the same machine: `gantry train` (the
 *     program given) of a small DCGAN for a fixed number of steps, timed alone, then with a lab
 *     server (in this process) watching its runs folder and 20 clients (threads here) each holding
 *     /api/runs/NAME/events and /api/runs/events open and fetching /api/runs/NAME/metrics every 3 s,
 *     then alone again (the mean of the two alone runs is the baseline, so drift shows).
 * Prints two tables; the target: the slowdown under 5%.
 * usage: bench_dashboard GANTRY_PROGRAM [steps (2000)] [scratch folder (/tmp)] */
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_http.h"
#include "bench_util.h"
#include "gantry/serve.h"

static int port;

static int http_connect(void) { return bench_http_connect(port, 30); }

/* GET path: the status; *bytes the answer's size. */
static int http_get(const char *path, size_t *bytes) {
    int fd = http_connect();
    if (fd < 0) return -1;
    char req[512];
    int k = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    if (send(fd, req, (size_t)k, MSG_NOSIGNAL) != k) {
        close(fd);
        return -1;
    }
    char buf[1 << 16], head[16] = "";
    size_t n = 0;
    for (ssize_t got; (got = recv(fd, buf, sizeof buf, 0)) > 0;) {
        if (n < 13) memcpy(head + n, buf, (size_t)got < 13 - n ? (size_t)got : 13 - n);
        n += (size_t)got;
    }
    close(fd);
    if (bytes) *bytes = n;
    return n >= 12 ? atoi(head + 9) : -1;
}

static int rm_rf(const char *p) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    return system(cmd);
}

/* ---- (1) a 1M-line metrics file ------------------------------------------------------------------ */

static void bench_metrics(const char *root) {
    char dir[1100], p[1200];
    snprintf(dir, sizeof dir, "%s/big", root);
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/config.json", dir);
    FILE *f = fopen(p, "w");
    fprintf(f, "{\"model\": {\"name\": \"dcgan\"}, \"data\": \"fashion-mnist\", \"loss\": \"ns\", \"steps\": 50000000}\n");
    fclose(f);
    snprintf(p, sizeof p, "%s/metrics.jsonl", dir);
    f = fopen(p, "w");
    const int N = 1000000;
    double t0 = now();
    for (int i = 1; i <= N; i++) {
        fprintf(f,
                "{\"step\":%d,\"loss_d\":%.17g,\"loss_g\":%.17g,\"gp\":0,\"d_real\":%.17g,\"d_fake\":%.17g,"
                "\"it_s\":%.17g,\"img_s\":%.17g,\"time_s\":%.3f,\"unix\":%d}\n",
                i * 50, 1.2 + 0.3 * ((i * 7919LL) % 1000) / 1000.0, 0.9 + 0.1 * (i % 13), 0.6 + 0.0001 * (i % 17),
                0.38 - 0.0001 * (i % 19), 8.2 + 0.01 * (i % 7), 525.3 + (i % 11), i * 0.12, 1796500000 + i);
        if (i % 100000 == 0)
            fprintf(f, "{\"step\":%d,\"eval\":{\"fid\":%.6g,\"extractor\":\"inception\",\"n\":10000,\"time_s\":30.5}}\n",
                    i * 50, 200.0 - i / 10000.0);
    }
    long size = ftell(f);
    fclose(f);
    printf("metrics.jsonl: %d lines (+%d eval lines), %.0f MB, written in %.1f s\n", N, N / 100000, size / 1e6,
           now() - t0);

    gt_lab_server_opts o = {.host = "127.0.0.1", .port = 0, .quiet = true, .runs_dir = root};
    gt_lab_server *S = NULL;
    if (gt_lab_server_start(&o, &S) != GT_OK) {
        fprintf(stderr, "bench_dashboard: %s\n", gt_last_error());
        exit(1);
    }
    port = gt_lab_server_port(S);
    const char *what[] = {"first (parse)", "second (cached)", "after 1 appended line"};
    printf("%-34s %10s %10s %8s\n", "GET /api/runs/big/metrics?max=2000", "ms", "bytes", "status");
    for (int i = 0; i < 3; i++) {
        if (i == 2) {
            f = fopen(p, "a");
            fprintf(f, "{\"step\":%d,\"loss_d\":1.5,\"loss_g\":0.5,\"unix\":1796600000}\n", (N + 1) * 50);
            fclose(f);
            struct timespec ts = {0, 200000000};
            nanosleep(&ts, NULL); /* the watcher reads it first (into the cache) */
        }
        size_t bytes = 0;
        double a = now();
        int st = http_get("/api/runs/big/metrics?max=2000", &bytes);
        printf("%-34s %10.1f %10zu %8d\n", what[i], (now() - a) * 1e3, bytes, st);
    }
    size_t bytes = 0;
    double a = now();
    int st = http_get("/api/runs/big", &bytes);
    printf("%-34s %10.1f %10zu %8d\n", "GET /api/runs/big (detail)", (now() - a) * 1e3, bytes, st);
    gt_lab_server_stop(S);
    rm_rf(dir);
}

/* ---- (2) 20 dashboards beside a training run --------------------------------------------------- */

static atomic_bool stop_clients;
static char run_name[64];

typedef struct {
    pthread_t th;
    long events, fetches, failures;
} client;

static int sse_open(const char *path) {
    int fd = http_connect();
    if (fd < 0) return -1;
    char req[256];
    int k = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n", path);
    if (send(fd, req, (size_t)k, MSG_NOSIGNAL) != k) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *client_run(void *arg) {
    client *c = arg;
    char path[128];
    snprintf(path, sizeof path, "/api/runs/%s/events", run_name);
    int fds[2] = {sse_open(path), sse_open("/api/runs/events")};
    if (fds[0] < 0 || fds[1] < 0) c->failures++;
    snprintf(path, sizeof path, "/api/runs/%s/metrics", run_name);
    static const char pat[] = "\nevent: ";
    double next_fetch = now() + 3.0 * rand() / RAND_MAX;
    char buf[1 << 16];
    while (!atomic_load(&stop_clients)) {
        struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
        if (poll(p, 2, 100) > 0)
            for (int i = 0; i < 2; i++) {
                if (!(p[i].revents & POLLIN)) continue;
                ssize_t k = recv(fds[i], buf, sizeof buf - 1, 0);
                if (k <= 0) {
                    close(fds[i]);
                    fds[i] = -1;
                    continue;
                }
                for (char *q = buf; (q = memmem(q, (size_t)(buf + k - q), pat + 1, sizeof pat - 2)); q++) c->events++;
            }
        if (now() >= next_fetch) {
            if (http_get(path, NULL) == 200) c->fetches++;
            else c->failures++;
            next_fetch += 3.0;
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) close(fds[i]);
    return NULL;
}

static double cpu_self(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)u.ru_stime.tv_usec;
}

typedef struct {
    double wall, train_s, it_s, cpu_s; /* cpu_s: this process (the server and the 20 clients) */
    long events, fetches, failures;
} result;

/* The last "time_s" of RUN/metrics.jsonl (the training loop's own time). */
static double train_time(const char *run) {
    char p[1200];
    snprintf(p, sizeof p, "%s/metrics.jsonl", run);
    FILE *f = fopen(p, "r");
    double t = -1;
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
        char *q = strstr(line, "\"time_s\":");
        if (q && !strstr(line, "\"eval\"")) t = atof(q + 9);
    }
    if (f) fclose(f);
    return t;
}

static result train(const char *prog, const char *root, int k, int steps, bool dashboards) {
    result r = {0};
    snprintf(run_name, sizeof run_name, "bench-%d", k);
    char out[1100], st[32];
    snprintf(out, sizeof out, "%s/%s", root, run_name);
    snprintf(st, sizeof st, "%d", steps);
    gt_lab_server *S = NULL;
    client cl[20];
    if (dashboards) {
        gt_lab_server_opts o = {.host = "127.0.0.1", .port = 0, .quiet = true, .runs_dir = root};
        if (gt_lab_server_start(&o, &S) != GT_OK) {
            fprintf(stderr, "bench_dashboard: %s\n", gt_last_error());
            exit(1);
        }
        port = gt_lab_server_port(S);
    }
    double t0 = now(), c0 = cpu_self();
    pid_t pid = fork();
    if (pid == 0) {
        execl(prog, prog, "train", "--data", "fashion-mnist", "--model", "dcgan", "--steps", st, "--out", out, "--ngf",
              "16", "--ndf", "16", "--batch", "32", "--log-every", "10", "--sample-every", "100", "--ckpt-every", "500",
              "--threads", "1", "--quiet", (char *)NULL);
        _exit(127);
    }
    if (dashboards) { /* the clients come once the run is listed */
        char path[128];
        snprintf(path, sizeof path, "/api/runs/%s", run_name);
        while (http_get(path, NULL) != 200 && now() - t0 < 30) {
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
        }
        atomic_store(&stop_clients, false);
        for (int i = 0; i < 20; i++) {
            memset(&cl[i], 0, sizeof cl[i]);
            pthread_create(&cl[i].th, NULL, client_run, &cl[i]);
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r.wall = now() - t0;
    r.cpu_s = cpu_self() - c0;
    if (dashboards) {
        atomic_store(&stop_clients, true);
        for (int i = 0; i < 20; i++) {
            pthread_join(cl[i].th, NULL);
            r.events += cl[i].events, r.fetches += cl[i].fetches, r.failures += cl[i].failures;
        }
        gt_lab_server_stop(S);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_dashboard: gantry train failed (status %d)\n", status);
        exit(1);
    }
    r.train_s = train_time(out);
    r.it_s = r.train_s > 0 ? steps / r.train_s : 0;
    rm_rf(out);
    return r;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_dashboard GANTRY_PROGRAM [steps (2000)] [scratch folder (/tmp)]\n");
        return 2;
    }
    const char *prog = argv[1];
    int steps = argc > 2 ? atoi(argv[2]) : 2000;
    const char *tmp = argc > 3 ? argv[3] : "/tmp";
    if (steps < 10 || steps > 1000000) {
        fprintf(stderr, "bench_dashboard: steps must be in 10..1000000\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char root[1024];
    snprintf(root, sizeof root, "%s/gantry-bench-dashboard-%d", tmp, (int)getpid());
    if (mkdir(root, 0777) != 0) {
        perror(root);
        return 1;
    }
    bench_metrics(root);

    printf("\ngantry train: dcgan ngf/ndf 16, batch 32, %d steps, 1 thread, a metrics line every 10 steps, a grid every 100\n",
           steps);
    const bool plan[] = {false, true, false};
    result res[3];
    for (int i = 0; i < 3; i++) res[i] = train(prog, root, i, steps, plan[i]);
    double base_wall = 0.5 * (res[0].wall + res[2].wall), base_train = 0.5 * (res[0].train_s + res[2].train_s);
    printf("%-14s %7s %8s %7s %-22s %7s %8s %8s %9s\n", "run", "wall s", "train s", "it/s", "slowdown", "events",
           "fetches", "failures", "server+clients CPU");
    const char *names[] = {"alone", "20 dashboards", "alone again"};
    for (int i = 0; i < 3; i++) {
        char sl[48] = "-";
        if (plan[i])
            snprintf(sl, sizeof sl, "%.1f%% (wall %.1f%%)", 100.0 * (res[i].train_s - base_train) / base_train,
                     100.0 * (res[i].wall - base_wall) / base_wall);
        char cpu[48] = "-";
        if (plan[i]) snprintf(cpu, sizeof cpu, "%.2f s (%.1f%% of a core)", res[i].cpu_s, 100 * res[i].cpu_s / res[i].wall);
        printf("%-14s %7.1f %8.1f %7.1f %-22s %7ld %8ld %8ld %s\n", names[i], res[i].wall, res[i].train_s, res[i].it_s, sl,
               res[i].events, res[i].fetches, res[i].failures, cpu);
    }
    printf("slowdown: training-loop time (metrics time_s) against the mean of the two alone runs; target < 5%%.\n"
           "server+clients CPU: what this process (the server, its watcher and the 20 clients) used meanwhile: the\n"
           "load-independent cost (on a machine shared with other jobs the alone runs themselves vary)\n");
    rmdir(root);
    return 0;
}
