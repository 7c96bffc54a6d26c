/* gantry lab as a program: its flags (exit 2), a missing page (exit 1, pointing at
 * scripts/setup.sh), a port in use (exit 1, "gantry lab: port P is in use"), the URL line, and
 * SIGINT / SIGTERM with a client and an open event stream: exit 0 within a second. */
#include "../serve/lab_http.h"
#include "cli_util.h"

static void test_flags(void) {
    CHECK_CLI(0, "--port", "lab", "--help");
    CHECK_CLI(2, "--port must be", "lab", "--port", "70000");
    CHECK_CLI(2, "--port must be", "lab", "--port", "-1");
    CHECK_CLI(2, "--port", "lab", "--port", "abc");
    CHECK_CLI(2, "--port needs a value", "lab", "--port");
    CHECK_CLI(2, "unknown flag '--bogus'", "lab", "--bogus");
    CHECK_CLI(2, "--host", "lab", "--host", "");
    CHECK_CLI(2, "unexpected argument", "lab", "extra");
    CHECK_CLI(2, "--quiet takes no value", "lab", "--quiet=yes");
}

static void test_missing_page(void) {
    CHECK_CLI(1, "scripts/setup.sh", "lab", "--port", "0", "--web", "/nonexistent/gantry-web");
    char empty[1100];
    snprintf(empty, sizeof empty, "%s/empty-web", gt_test_tmpdir());
    mkdir(empty, 0755);
    CHECK_CLI(1, "index.html", "lab", "--port", "0", "--web", empty);
}

static void test_port_in_use(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 4) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    char port[16], want[64];
    snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
    snprintf(want, sizeof want, "gantry lab: port %s is in use", port);
    int rc = gt_cli_run("lab", "--port", port, "--web", gt_lab_web_make(), NULL);
    CHECK_MSG(rc == 1 && strstr(gt_cli_out, want), "port in use: rc %d: %s", rc, gt_cli_out);
    close(fd);
}

/* Starts gantry lab on a free port; its pid, the port in gt_lab_port (0: it did not start). */
static pid_t gt__lab_spawn(const char *out) {
    char *args[] = {"lab", "--port", "0", "--web", (char *)gt_lab_web_make(), NULL};
    pid_t pid = gt_cli_spawn(out, args);
    gt_lab_port = 0;
    double t0 = gt_http_now();
    while (!gt_lab_port && gt_http_now() - t0 < 30) {
        size_t n = 0;
        unsigned char *b = gt_test_read_all(out, &n);
        const char *url = b ? strstr((const char *)b, "gantry lab: http://127.0.0.1:") : NULL;
        if (url && strchr(url, '\n')) gt_lab_port = atoi(url + strlen("gantry lab: http://127.0.0.1:"));
        free(b);
        if (!gt_lab_port) gt_http_sleep(0.02);
    }
    CHECK_MSG(gt_lab_port > 0, "gantry lab printed no URL line");
    return pid;
}

/* Sends sig with a client connected and a stream open: exit 0, within a second. */
static void gt__stop_with(int sig) {
    char out[1100];
    snprintf(out, sizeof out, "%s/lab_out_%d.txt", gt_test_tmpdir(), sig); /* a file of its own: never an old URL */
    unlink(out);
    pid_t pid = gt__lab_spawn(out);
    if (gt_lab_port > 0) {
        gt_http_resp r;
        CHECK(gt_http("GET", "/", NULL, &r) == 200 && r.body && strstr(r.body, "lab test"));
        gt_http_free(&r);
        char id[17], p[64], ev[32];
        gt_sse s;
        memset(&s, 0, sizeof s);
        s.fd = -1;
        if (gt_lab_session(NULL, id)) {
            snprintf(p, sizeof p, "/api/sessions/%s/control", id);
            cJSON_Delete(gt_http_expect("POST", p, "{\"action\": \"play\"}", 200));
            snprintf(p, sizeof p, "/api/sessions/%s/events", id);
            CHECK(gt_sse_open(&s, p) == 200);
            free(gt_sse_next(&s, ev, 10));
        }
        int idle = gt_http_connect(); /* a connection that never sends a request */
        double t0 = gt_http_now();
        kill(pid, sig);
        int ws = 0, rc = -1;
        while (gt_http_now() - t0 < 10) {
            if (waitpid(pid, &ws, WNOHANG) == pid) {
                rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                break;
            }
            gt_http_sleep(0.005);
        }
        double dt = gt_http_now() - t0;
        if (rc == -1) kill(pid, SIGKILL), waitpid(pid, &ws, 0);
        CHECK_MSG(rc == 0 && dt < 1.0, "signal %d: exit %d after %.2f s", sig, rc, dt);
        char *d;
        while ((d = gt_sse_next(&s, ev, 2)) != NULL) free(d); /* the stream ended */
        gt_sse_close(&s);
        if (idle >= 0) close(idle);
    } else {
        kill(pid, SIGKILL);
        gt_cli_wait(pid);
    }
}

static void test_sigint(void) { gt__stop_with(SIGINT); }
static void test_sigterm(void) { gt__stop_with(SIGTERM); }

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built\n");
        return 1;
    }
    RUN(test_flags);
    RUN(test_missing_page);
    RUN(test_port_in_use);
    RUN(test_sigint);
    RUN(test_sigterm);
    return gt_test_finish();
}
