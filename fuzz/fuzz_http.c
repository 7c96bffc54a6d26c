/* libFuzzer harness: the lab server's HTTP request handlers (src/serve/: the session API, the
 * runs dashboard's /api/runs and /api/explore, /api/anycost, the event streams, static files),
 * behind libmicrohttpd as a client reaches them. LLVMFuzzerInitialize starts one server on
 * 127.0.0.1 (any free port) with a web folder and a runs folder holding one run "r1" (config,
 * metrics, status, a sample grid, a checkpoint name); each input is sent as raw bytes on a new
 * connection, whose sending side is then shut (so an incomplete request ends at once), and the
 * answer read until it is complete (Content-Length), the server closes, or 40 ms pass without a
 * byte (event streams, slow handlers); then the connection is closed.
 * "@SID@" in an input is replaced by the id of a live session the harness keeps open (it makes
 * a new one when the last was deleted or expired), so the per-session routes are reached; it is
 * paused after each such input, and sessions the inputs make close after 3 idle seconds, so the
 * server's training worker does not run on between inputs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "fuzz_util.h"
#include "gantry/serve.h"
#include "gantry/train.h"

static gt_lab_server *gt_fz_server;
static int gt_fz_port;
static char gt_fz_sid[17];

static void gt_fz_put(const char *rel, const char *text) {
    char p[800];
    gt_fuzz_path(p, sizeof p, rel);
    gt_fuzz_write(p, text, strlen(text));
}

static void gt_fz_stop(void) { gt_lab_server_stop(gt_fz_server); }

/* Sends req[n] on a new connection; the answer's first `cap - 1` bytes into resp (may be NULL). */
static size_t gt_fz_exchange(const char *req, size_t n, char *resp, size_t cap, long wait_us) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    GT_FUZZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)gt_fz_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {wait_us / 1000000, wait_us % 1000000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct timeval stv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &stv, sizeof stv);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    if (rc != 0 && errno == EINTR) { /* libFuzzer's timer signal: the connection goes on; wait for it */
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        while (poll(&pf, 1, 5000) < 0 && errno == EINTR) continue;
        int err = ETIMEDOUT;
        socklen_t el = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        rc = err ? -1 : 0;
        errno = err;
    }
    GT_FUZZ_CHECK(rc == 0, "connect: %s (the server stopped accepting)", strerror(errno));
    for (size_t off = 0; off < n;) {
        ssize_t w = send(fd, req + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* the server closed early (a refused request): fine */
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR); /* the request is complete (or never will be): the server answers, then closes */
    char tmp[65536];
    size_t got = 0, want = (size_t)-1;
    for (;;) {
        ssize_t r = recv(fd, tmp + (got < sizeof tmp ? got : 0), got < sizeof tmp ? sizeof tmp - got : sizeof tmp, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (got < sizeof tmp) got += (size_t)r;
        if (want == (size_t)-1 && got < sizeof tmp) {
            tmp[got < sizeof tmp ? got : sizeof tmp - 1] = 0;
            char *end = memmem(tmp, got, "\r\n\r\n", 4);
            if (end) {
                char *cl = strcasestr(tmp, "\r\nContent-Length:");
                if (cl && cl < end) want = (size_t)(end + 4 - tmp) + strtoull(cl + 17, NULL, 10);
            }
        }
        if (got >= want) break;
    }
    close(fd);
    if (resp && cap) {
        size_t k = got < cap - 1 ? got : cap - 1;
        memcpy(resp, tmp, k);
        resp[k] = 0;
    }
    return got;
}

/* A live session's id in gt_fz_sid. */
static void gt_fz_session(void) {
    char req[256], resp[4096];
    if (gt_fz_sid[0]) {
        int k = snprintf(req, sizeof req, "GET /api/sessions/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                         gt_fz_sid);
        gt_fz_exchange(req, (size_t)k, resp, sizeof resp, 5000000);
        if (!strncmp(resp, "HTTP/1.1 200", 12)) return;
    }
    const char *mk = "POST /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                     "Content-Length: 2\r\n\r\n{}";
    gt_fz_exchange(mk, strlen(mk), resp, sizeof resp, 5000000);
    char *id = strstr(resp, "{\"id\":\"");
    gt_fz_sid[0] = 0;
    if (id) sscanf(id + 7, "%16[0-9a-zA-Z]", gt_fz_sid);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    signal(SIGPIPE, SIG_IGN);
    gt_fz_put("web/index.html", "<!doctype html><title>fuzz</title>\n");
    gt_fz_put("web/app.js", "console.log(1);\n");
    gt_fz_put("web/sub/page.css", "body{}\n");
    gt_fz_put("secret.txt", "outside the web folder\n");
    gt_train_config c = gt_train_config_default();
    c.steps = 40;
    char *cj = gt_train_config_to_json(&c);
    GT_FUZZ_CHECK(cj, "config json");
    gt_fz_put("runs/r1/config.json", cj);
    free(cj);
    char m[4096] = "";
    for (int s = 10; s <= 40; s += 10) {
        size_t k = strlen(m);
        snprintf(m + k, sizeof m - k,
                 "{\"step\":%d,\"loss_d\":%.3f,\"loss_g\":%.3f,\"gp\":0,\"d_real\":0.6,\"d_fake\":0.4,\"it_s\":8.5,"
                 "\"img_s\":544,\"time_s\":%.1f,\"unix\":%d,\"fid\":%.1f}\n",
                 s, 1.0 / s, 2.0 / s, s * 0.1, 1796500000 + s, 100.0 - s);
    }
    gt_fz_put("runs/r1/metrics.jsonl", m);
    gt_fz_put("runs/r1/status.json", "{\"state\":\"done\",\"pid\":1,\"step\":40}\n");
    gt_fz_put("runs/r1/samples/step_000040.png", "not a png");
    gt_fz_put("runs/r1/checkpoints/step_000040.safetensors", "");
    gt_fz_put("runs/r2/config.json", "{\"model\": {\"name\": \"dcgan\"}, \"steps\": 7}");
    char web[600], runs[600];
    snprintf(web, sizeof web, "%s/web", gt_fuzz_scratch());
    snprintf(runs, sizeof runs, "%s/runs", gt_fuzz_scratch());
    gt_lab_server_opts o = {.host = "127.0.0.1", .port = 0, .web_dir = web, .quiet = true, .idle_s = 3,
                            .runs_dir = runs};
    GT_FUZZ_CHECK(gt_lab_server_start(&o, &gt_fz_server) == GT_OK, "start: %s", gt_last_error());
    gt_fz_port = gt_lab_server_port(gt_fz_server);
    atexit(gt_fz_stop); /* registered after the scratch folder's cleanup: runs first */
    return 0;
}

/* Waits until no request handler is running (a session being created waits for the training thread,
 * seconds on a loaded machine), so each input ends with the server at rest: libFuzzer's per-input
 * leak check then never sees a request still in flight (it once reported a session and its config
 * held by a handler that was still waiting, after the harness had moved on). */
static void gt_fz_quiet(void) {
    for (int i = 0; gt_lab_server_answering(gt_fz_server) > 0; i++) {
        GT_FUZZ_CHECK(i < 120000, "a request handler still runs after 120 s");
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    /* the request, with @SID@ replaced by a live session's id */
    char *req = malloc(n * 3 + 16);
    GT_FUZZ_CHECK(req, "malloc");
    size_t k = 0;
    bool need = memmem(d, n, "@SID@", 5) != NULL;
    if (need) gt_fz_session();
    for (size_t i = 0; i < n;) {
        if (need && i + 5 <= n && !memcmp(d + i, "@SID@", 5)) {
            size_t l = strlen(gt_fz_sid);
            memcpy(req + k, gt_fz_sid, l);
            k += l, i += 5;
        } else {
            req[k++] = (char)d[i++];
        }
    }
    gt_fz_exchange(req, k, NULL, 0, 40000);
    free(req);
    gt_fz_quiet();
    if (need && gt_fz_sid[0]) { /* the harness's session does not train on between inputs (one core) */
        char pause[256], resp[64];
        int m = snprintf(pause, sizeof pause,
                         "POST /api/sessions/%s/control HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         "Content-Length: 18\r\n\r\n{\"action\":\"pause\"}",
                         gt_fz_sid);
        gt_fz_exchange(pause, (size_t)m, resp, sizeof resp, 5000000);
        gt_fz_quiet();
    }
    /* now and then: the server still answers a plain request */
    static unsigned count;
    if (++count % 500 == 0) {
        const char *q = "GET /api/options HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        char resp[64];
        gt_fz_exchange(q, strlen(q), resp, sizeof resp, 10000000);
        GT_FUZZ_CHECK(!strncmp(resp, "HTTP/1.1 200", 12), "the server stopped answering: '%s'", resp);
    }
    return 0;
}
