/* bench_abuse: `gantry lab` (a child process on loopback) under the abuse of
 * tests/serve/test_server_abuse.c, sustained (a client cut off connects again) for a longer window
 * (35 s: the body deadline, 30 s, falls inside it): 1,000 connections at once (700 sending their
 * request line a byte a second, 100 idle, 100 half-closed event streams, 80 bodies declared over
 * the 1 MiB limit, 20 small bodies sent a byte a second), 10 chunked bodies over the limit, and a
 * normal client asking GET /api/options twice a second on a connection of its own. Prints the
 * connections held at once, the normal requests served and their median and max latency, what was
 * cut off or refused, the server's threads at most, its peak RSS (VmHWM), and how long SIGTERM took
 * to stop it with the streams still open.
 * usage: bench_abuse GANTRY_PROGRAM [seconds (35)] [connections (1000)] */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../tests/serve/abuse_drive.h"

static pid_t spawn_lab(const char *prog, const char *dir, const char *out, int *port) {
    char web[1100], runs[1100], idx[1200];
    snprintf(web, sizeof web, "%s/web", dir);
    snprintf(runs, sizeof runs, "%s/runs", dir);
    snprintf(idx, sizeof idx, "%s/index.html", web);
    mkdir(web, 0755);
    mkdir(runs, 0755);
    FILE *f = fopen(idx, "w");
    if (f) fputs("<!doctype html><title>bench</title>\n", f), fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2), close(fd);
        execl(prog, prog, "lab", "--port", "0", "--web", web, "--runs", runs, "--quiet", (char *)NULL);
        _exit(127);
    }
    *port = 0;
    double t0 = gt_abuse_now();
    while (!*port && gt_abuse_now() - t0 < 30) {
        char buf[512] = "";
        FILE *o = fopen(out, "r");
        size_t n = o ? fread(buf, 1, sizeof buf - 1, o) : 0;
        if (o) fclose(o);
        buf[n] = 0;
        const char *u = strstr(buf, "gantry lab: http://127.0.0.1:");
        if (u && strchr(u, '\n')) *port = atoi(u + strlen("gantry lab: http://127.0.0.1:"));
        struct timespec ts = {0, 20 * 1000000L};
        if (!*port) nanosleep(&ts, NULL);
    }
    return pid;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_abuse GANTRY_PROGRAM [seconds (35)] [connections (1000)]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    double secs = argc > 2 ? atof(argv[2]) : 35;
    int total = argc > 3 ? atoi(argv[3]) : 1000;
    long lim = gt_abuse_raise_nofile(total + 1200L);
    if (lim < total + 200L) {
        fprintf(stderr, "bench_abuse: the open-file limit is %ld; %d connections need %d\n", lim, total, total + 200);
        return 1;
    }
    char dir[256], out[320];
    snprintf(dir, sizeof dir, "%s/gantry-bench-abuse-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    mkdir(dir, 0755);
    snprintf(out, sizeof out, "%s/lab_out.txt", dir);
    int port = 0;
    pid_t pid = spawn_lab(argv[1], dir, out, &port);
    if (port <= 0) {
        fprintf(stderr, "bench_abuse: gantry lab did not start (see %s)\n", out);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return 1;
    }
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    long rss0 = gt_abuse_status(pid, "VmRSS"), th0 = gt_abuse_status(pid, "Threads");
    gt_abuse a = {.port = port, .pid = pid, .n_slow = total * 7 / 10, .n_idle = total / 10, .n_sse = total / 10,
                  .n_slow_body = total / 50, .n_big = total - total * 7 / 10 - 2 * (total / 10) - total / 50,
                  .n_chunked = 10, .seconds = secs, .reconnect = true};
    double t0 = gt_abuse_now();
    bool ok = gt_abuse_run(&a);
    double ran = gt_abuse_now() - t0;
    double s0 = gt_abuse_now();
    kill(pid, SIGTERM); /* with the half-closed streams still open */
    int ws = 0, rc = -1;
    while (gt_abuse_now() - s0 < 30) {
        if (waitpid(pid, &ws, WNOHANG) == pid) {
            rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            break;
        }
        struct timespec t = {0, 5 * 1000000L};
        nanosleep(&t, NULL);
    }
    double stop_s = gt_abuse_now() - s0;
    if (rc == -1) kill(pid, SIGKILL), waitpid(pid, NULL, 0);
    int streams = a.nfds;
    gt_abuse_close(&a);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_abuse: could not remove %s\n", dir);
    if (!ok) {
        fprintf(stderr, "bench_abuse: %s\n", a.err);
        return 1;
    }
    printf("gantry lab under abuse on loopback for %.1f s (%d connections opened at once)\n\n", ran, a.opened);
    printf("| measure | value |\n|---|---|\n");
    printf("| abusive connections held at once (most) | %d |\n", a.held_max);
    printf("| cut-offs by the header deadline (%d slow and idle clients, each connecting again when cut) | %d |\n",
           a.n_slow + a.n_idle, a.slow_cut);
    printf("| cut-offs by the body deadline (%d clients sending a 1000-byte body a byte a second, connecting again) | %d |\n",
           a.n_slow_body, a.body_cut);
    printf("| half-closed event streams that got events / still open at the end | %d / %d of %d |\n", a.sse_ok,
           a.sse_open_end, a.n_sse);
    printf("| bodies over 1 MiB answered 413: declared / chunked | %d of %d / %d of %d |\n", a.big_413, a.n_big,
           a.chunked_413, a.n_chunked);
    printf("| normal requests served (GET /api/options, 2 a second) | %d of %d |\n", a.normal_ok, a.normal_sent);
    printf("| normal request latency: median / max | %.1f ms / %.1f ms |\n", a.lat_med * 1e3, a.lat_max * 1e3);
    printf("| server threads: at rest / most | %ld / %d |\n", th0, a.threads_max);
    printf("| server RSS at rest / peak (VmHWM) | %.1f MiB / %.1f MiB |\n", rss0 / 1024.0, a.vmhwm_kb / 1024.0);
    printf("| SIGTERM with %d streams open: exit status, time to exit | %d, %.2f s |\n", streams, rc, stop_s);
    return rc == 0 ? 0 : 1;
}
