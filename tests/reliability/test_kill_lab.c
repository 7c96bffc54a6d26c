/* `gantry lab --runs DIR` watching a run that `gantry train` is writing, 50 SIGKILLs at moments a
 * fixed seed picks: in 40 trials the server is killed while a client watches the run's event stream
 * (GET /api/runs/NAME/events), started again on the same port, and the run is listed
 * (GET /api/runs) and its stream resumes: a `status` event on connecting, then `metrics` events
 * with lines past that status' step; in 10 trials the training is killed instead, under the open
 * stream, and resumed with --resume: it starts from the run's last checkpoint (at most the steps
 * since it lost) and the same stream goes on with the resumed run's lines. */
#include <cjson/cJSON.h>

#include "../serve/lab_http.h"
#include "kill_util.h"

#define KILLS 50

static char g_idx[700], g_runs[700], g_run[800], g_lab_out[800], g_train_out[800];
static pid_t g_lab = -1, g_train = -1;

#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "16"

static void reap(pid_t *pid) {
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        gt_cli_wait(*pid);
    }
    *pid = -1;
}

/* Starts gantry lab on port (0: any; then gt_lab_port is set); true once it printed its URL. */
static bool lab_start(int port) {
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    char *args[] = {"lab", "--port", ps, "--web", (char *)gt_lab_web, "--runs", g_runs, "--quiet", NULL};
    for (int attempt = 0; attempt < 50; attempt++) {
        unlink(g_lab_out);
        g_lab = gt_kill_spawn(g_lab_out, args);
        double t0 = gt_kill_now();
        while (gt_kill_now() - t0 < 30) {
            size_t n = 0;
            char *b = gt_kill_text(g_lab_out, &n);
            const char *url = b ? strstr(b, "gantry lab: http://127.0.0.1:") : NULL;
            int got = url && strchr(url, '\n') ? atoi(url + strlen("gantry lab: http://127.0.0.1:")) : 0;
            bool in_use = b && strstr(b, "is in use");
            free(b);
            if (got > 0) {
                gt_lab_port = got;
                return true;
            }
            if (in_use) break; /* the killed server's port: not free yet */
            int ws;
            if (waitpid(g_lab, &ws, WNOHANG) == g_lab) {
                g_lab = -1;
                break;
            }
            gt_kill_sleep_ms(10);
        }
        reap(&g_lab);
        gt_kill_sleep_ms(100);
    }
    return false;
}

static void train_start(bool resume) {
    char *first[] = {"train", "--data", g_idx, "--steps", "1000000", "--out", g_run, TINY, "--ckpt-every", "10",
                     "--keep-ckpts", "1", "--sample-every", "50", "--log-every", "2", "--seed", "4", NULL};
    char *again[] = {"train", "--out", g_run, "--resume", NULL};
    unlink(g_train_out); /* never the last run's output */
    g_train = gt_kill_spawn(g_train_out, resume ? again : first);
}

static long long status_step(const char *data) {
    cJSON *j = cJSON_Parse(data);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "step");
    long long v = cJSON_IsNumber(s) ? (long long)s->valuedouble : -1;
    cJSON_Delete(j);
    return v;
}

/* Opens the run's stream: its first event must be `status`; its step (-1: failed). */
static long long stream_open(gt_sse *s) {
    char ev[32];
    if (gt_sse_open(s, "/api/runs/r1/events") != 200) return -1;
    char *d = gt_sse_next(s, ev, 20);
    long long st = d && !strcmp(ev, "status") ? status_step(d) : -1;
    free(d);
    return st;
}

/* Reads events until a metrics line with a step past `after` comes (true), or 30 s go by with
 * none; the smallest step of that event's lines past `after` into *first. */
static bool stream_until(gt_sse *s, long long after, long long *first) {
    char ev[32];
    double t0 = gt_kill_now();
    while (gt_kill_now() - t0 < 30) {
        char *d = gt_sse_next(s, ev, 5);
        if (!d) {
            if (s->ended) return false;
            continue;
        }
        if (!strcmp(ev, "metrics")) {
            cJSON *j = cJSON_Parse(d);
            const cJSON *lines = cJSON_GetObjectItemCaseSensitive(j, "lines"), *l;
            long long mn = -1;
            cJSON_ArrayForEach(l, lines) {
                const cJSON *st = cJSON_GetObjectItemCaseSensitive(l, "step");
                if (!cJSON_IsNumber(st) || cJSON_GetObjectItemCaseSensitive(l, "eval")) continue;
                long long v = (long long)st->valuedouble;
                if (v > after && (mn < 0 || v < mn)) mn = v;
            }
            cJSON_Delete(j);
            if (mn >= 0) {
                free(d);
                if (first) *first = mn;
                return true;
            }
        }
        free(d);
    }
    return false;
}

/* The largest step in the run's metrics.jsonl. */
static long long file_max_step(void) {
    char p[900];
    snprintf(p, sizeof p, "%s/metrics.jsonl", g_run);
    size_t n = 0;
    char *b = gt_kill_text(p, &n);
    long long mx = -1;
    for (const char *k = b; k && (k = strstr(k, "\"step\":")); k += 7) {
        long long v = atoll(k + 7);
        if (v > mx) mx = v;
    }
    free(b);
    return mx;
}

static bool listed(void) {
    cJSON *j = gt_http_expect("GET", "/api/runs", NULL, 200);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "runs"), *r;
    bool found = false;
    cJSON_ArrayForEach(r, runs) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "name");
        found |= cJSON_IsString(n) && !strcmp(n->valuestring, "r1");
    }
    cJSON_Delete(j);
    return found;
}

static void test_kill_lab(void) {
    gt_lab_web_make();
    train_start(false);
    char last[900];
    snprintf(last, sizeof last, "%s/last.safetensors", g_run);
    for (int w = 0; w < 600 && gt_kill_ckpt_step(last) < 0; w++) gt_kill_sleep_ms(50);
    CHECK_MSG(gt_kill_ckpt_step(last) >= 0, "the training wrote no checkpoint in 30 s");
    CHECK_MSG(lab_start(0), "gantry lab did not start");
    if (gt_lab_port <= 0) return;
    int port = gt_lab_port, lab_kills = 0, train_kills = 0;
    gt_sse s;
    long long st = stream_open(&s);
    CHECK_MSG(st >= 0, "no status event on the run's stream");
    CHECK(stream_until(&s, st, NULL));
    double t0 = gt_kill_now();
    for (int trial = 0; trial < KILLS && gt_test_failures == 0; trial++) {
        gt_kill_sleep_ms(gt_kill_ms(20, 800));
        if (trial % 5 == 4) { /* the training, under the open stream */
            kill(g_train, SIGKILL);
            CHECK(gt_cli_wait(g_train) == 128 + SIGKILL);
            g_train = -1;
            train_kills++;
            /* the resume starts from last, or from the newest complete step_N (gt_train_recover) */
            long long at = gt_kill_ckpt_step(last);
            char dir[900];
            snprintf(dir, sizeof dir, "%s/checkpoints", g_run);
            DIR *d = opendir(dir);
            struct dirent *e;
            while (d && (e = readdir(d))) {
                long long v;
                char tail[32], p[4096];
                if (sscanf(e->d_name, "step_%lld.%31s", &v, tail) == 2 && !strcmp(tail, "safetensors") && v > at &&
                    snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p && gt_kill_ckpt_step(p) == v)
                    at = v;
            }
            if (d) closedir(d);
            CHECK_MSG(at >= 0, "trial %d: no checkpoint loads after the kill", trial);
            /* what the killed run had logged: a line past it on the stream is the resumed run's */
            long long old_max = file_max_step();
            train_start(true);
            long long from = -1;
            for (int w = 0; w < 600 && from < 0; w++) {
                size_t n = 0;
                char *o = gt_kill_text(g_train_out, &n);
                const char *r = o ? strstr(o, "resuming from step ") : NULL;
                if (r) sscanf(r + 19, "%lld", &from);
                free(o);
                if (from < 0) gt_kill_sleep_ms(50);
            }
            CHECK_MSG(from == at, "trial %d: the training resumed from step %lld, its last checkpoint was at %lld",
                      trial, from, at);
            CHECK_MSG(stream_until(&s, old_max > at ? old_max : at, NULL),
                      "trial %d: the stream did not go on with the resumed run's lines", trial);
        } else { /* the server, with the stream open */
            kill(g_lab, SIGKILL);
            CHECK(gt_cli_wait(g_lab) == 128 + SIGKILL);
            g_lab = -1;
            lab_kills++;
            gt_sse_close(&s);
            CHECK_MSG(lab_start(port), "trial %d: gantry lab did not start again on port %d", trial, port);
            CHECK_MSG(listed(), "trial %d: the run is not listed after the restart", trial);
            st = stream_open(&s);
            CHECK_MSG(st >= 0, "trial %d: no status event on the stream after the restart", trial);
            CHECK_MSG(stream_until(&s, st, NULL), "trial %d: the stream did not resume", trial);
        }
    }
    gt_sse_close(&s);
    printf("%d server kills and %d training kills in %.1f s (port %d kept)\n", lab_kills, train_kills,
           gt_kill_now() - t0, port);
    CHECK(lab_kills + train_kills == KILLS);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built (looked for %s)\n", gt_cli_bin);
        return 1;
    }
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("blobs-images-idx3-ubyte"));
    snprintf(g_runs, sizeof g_runs, "%s", gt_test_path("runs"));
    snprintf(g_run, sizeof g_run, "%s/r1", g_runs);
    snprintf(g_lab_out, sizeof g_lab_out, "%s", gt_test_path("lab_out.txt"));
    snprintf(g_train_out, sizeof g_train_out, "%s", gt_test_path("train_out.txt"));
    mkdir(g_runs, 0755);
    if (!gt_test_write_idx(g_idx, 64)) return 1;
    RUN(test_kill_lab);
    reap(&g_lab);
    reap(&g_train);
    return gt_test_finish();
}
