/* The runs dashboard's API (docs/DASHBOARD.md) on run folders written by hand in a temporary
 * folder, in this process on a free port: the list and its order and states (status.json, a dead
 * pid, an older run without status), a run's detail, metrics (bad lines counted, keys, eval
 * lines, the min/max-keeping downsampling), grids pages, grid files, the live event streams
 * (a metrics line, a half-written line, a grid, a checkpoint, status.json, a new run, a removed
 * run), a runs folder that appears later, and the endpoints switched off without one. */
#include <math.h>
#include <pthread.h>

#include "runs_util.h"

static gt_lab_server *S;

static void setup_runs(void) {
    snprintf(gt_runs_dir, sizeof gt_runs_dir, "%s", gt_test_path("runs"));
    mkdir(gt_runs_dir, 0777);
    /* alpha: finished by status.json, 10 lines, an eval line, a garbage line, grids, checkpoints */
    gt_runs_make("alpha", "dcgan", 100);
    char line[400], all[8192] = "";
    for (int i = 1; i <= 10; i++) {
        gt_runs_line(line, sizeof line, i * 10, 1.0 + i * 0.01, 2.0 - i * 0.01);
        strcat(all, line);
        if (i == 5) strcat(all, "this is not json\n");
    }
    strcat(all, "{\"step\":100,\"eval\":{\"fid\":76.25,\"kid\":0.05,\"extractor\":\"inception\",\"n\":500,\"time_s\":3.5}}\n");
    gt_runs_put("alpha", "metrics.jsonl", all, false);
    gt_runs_put("alpha", "status.json",
                "{\"state\": \"finished\", \"pid\": 1, \"host\": \"elsewhere\", \"step\": 100, \"steps\": 100, "
                "\"started_unix\": 1796500000, \"updated_unix\": 1796600000, \"message\": \"\"}\n",
                true);
    for (int s = 20; s <= 100; s += 20) {
        char rel[64];
        snprintf(rel, sizeof rel, "samples/step_%06d.png", s);
        gt_runs_put("alpha", rel, "\x89PNG fake grid", false);
    }
    gt_runs_put("alpha", "samples/last.png", "\x89PNG last", false);
    gt_runs_put("alpha", "checkpoints/step_000050.safetensors", "ckpt50", false);
    gt_runs_put("alpha", "checkpoints/step_000100.safetensors", "ckpt-100", false);
    char a[2048], b[2048];
    snprintf(a, sizeof a, "%s/alpha/checkpoints/step_000100.safetensors", gt_runs_dir);
    snprintf(b, sizeof b, "%s/alpha/last.safetensors", gt_runs_dir);
    CHECK(link(a, b) == 0);
    /* beta: no status.json, its last checkpoint at steps: finished */
    gt_runs_make("beta", "wgan", 200);
    gt_runs_put("beta", "checkpoints/step_000200.safetensors", "x", false);
    /* beta has no status and no metrics: its time is its folder's mtime, set here to a fixed past
     * moment so that the order below does not depend on today's date */
    snprintf(a, sizeof a, "%s/beta", gt_runs_dir);
    const struct timespec beta_t[2] = {{1796300000, 0}, {1796300000, 0}};
    CHECK(utimensat(AT_FDCWD, a, beta_t, 0) == 0);
    /* gamma: "running" by a pid that no longer exists on this host: interrupted */
    gt_runs_make("gamma", "sngan", 300);
    char host[256] = "", st[700];
    gethostname(host, sizeof host - 1);
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    snprintf(st, sizeof st,
             "{\"state\": \"running\", \"pid\": %d, \"host\": \"%s\", \"step\": 7, \"steps\": 300, "
             "\"started_unix\": 1796400000, \"updated_unix\": 1796400001, \"message\": \"\"}\n",
             (int)dead, host);
    gt_runs_put("gamma", "status.json", st, true);
    /* delta: failed; not-a-run: no config.json; a file beside the runs */
    gt_runs_make("delta", "dcgan", 50);
    gt_runs_put("delta", "status.json",
                "{\"state\": \"failed\", \"pid\": 1, \"host\": \"elsewhere\", \"step\": 3, \"steps\": 50, "
                "\"started_unix\": 1, \"updated_unix\": 2, \"message\": \"out of memory\"}\n",
                true);
    gt_runs_mkdir("%s/%s", gt_runs_dir, "not-a-run");
    char f[2048];
    snprintf(f, sizeof f, "%s/stray.txt", gt_runs_dir);
    gt_lab_write(f, "not a folder");
}

static void test_list(void) {
    cJSON *j = gt_http_expect("GET", "/api/runs", NULL, 200);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "runs");
    CHECK(cJSON_GetArraySize(runs) == 4);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "truncated")));
    CHECK(!strcmp(gt_json_str(j, "dir"), gt_runs_dir));
    CHECK(!gt_runs_find(j, "not-a-run"));
    const cJSON *a = gt_runs_find(j, "alpha");
    CHECK(a && !strcmp(gt_json_str(a, "state"), "finished") && !strcmp(gt_json_str(a, "model"), "dcgan"));
    CHECK(a && !strcmp(gt_json_str(a, "data"), "fashion-mnist") && !strcmp(gt_json_str(a, "loss"), "ns"));
    CHECK(a && gt_json_num(a, "step") == 100 && gt_json_num(a, "steps") == 100);
    CHECK(a && fabs(gt_json_num(a, "loss_d") - 1.1) < 1e-4 && fabs(gt_json_num(a, "loss_g") - 1.9) < 1e-4);
    CHECK(a && gt_json_num(a, "d_real") == 0.6 && gt_json_num(a, "it_s") == 8.5);
    CHECK(a && gt_json_num(a, "fid") == 76.25 && gt_json_num(a, "fid_step") == 100);
    CHECK(a && gt_json_num(a, "updated_unix") == 1796600000);
    const cJSON *b = gt_runs_find(j, "beta");
    CHECK(b && !strcmp(gt_json_str(b, "state"), "finished") && gt_json_num(b, "steps") == 200);
    CHECK(b && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(b, "loss_d")) &&
          cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(b, "fid")));
    const cJSON *g = gt_runs_find(j, "gamma");
    CHECK(g && !strcmp(gt_json_str(g, "state"), "interrupted") && gt_json_num(g, "step") == 7);
    const cJSON *d = gt_runs_find(j, "delta");
    CHECK(d && !strcmp(gt_json_str(d, "state"), "failed") && !strcmp(gt_json_str(d, "message"), "out of memory"));
    CHECK(b && gt_json_num(b, "updated_unix") == 1796300000);
    /* newest updated_unix first: alpha (1796600000), gamma (1796400001), beta (its folder's
     * 1796300000), delta (2) */
    const char *order[4] = {"alpha", "gamma", "beta", "delta"};
    for (int i = 0; i < 4; i++) CHECK(!strcmp(gt_json_str(cJSON_GetArrayItem(runs, i), "name"), order[i]));
    cJSON_Delete(j);
    CHECK(gt_http_error("POST", "/api/runs", "{}", "method") == 405);
    CHECK(gt_http_error("DELETE", "/api/runs/alpha", NULL, "method") == 405);
}

static void test_detail(void) {
    cJSON *j = gt_http_expect("GET", "/api/runs/alpha", NULL, 200);
    CHECK(!strcmp(gt_json_str(j, "name"), "alpha") && !strcmp(gt_json_str(j, "state"), "finished"));
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    CHECK(cJSON_IsObject(cfg) && gt_json_num(cfg, "steps") == 100);
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(j, "checkpoints");
    CHECK(cJSON_GetArraySize(ck) == 3);
    const cJSON *c0 = cJSON_GetArrayItem(ck, 0), *c2 = cJSON_GetArrayItem(ck, 2);
    CHECK(!strcmp(gt_json_str(c0, "file"), "checkpoints/step_000050.safetensors") && gt_json_num(c0, "step") == 50 &&
          gt_json_num(c0, "bytes") == 6);
    CHECK(!strcmp(gt_json_str(c2, "file"), "last.safetensors") && gt_json_num(c2, "step") == 100 &&
          gt_json_num(c2, "bytes") == 8);
    CHECK(gt_json_num(j, "grids") == 5 && gt_json_num(j, "bad_lines") == 1);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(j, "metric_keys");
    bool loss_d = false, fid = false, step = false, unix_k = false;
    for (const cJSON *k = keys ? keys->child : NULL; k; k = k->next) {
        loss_d |= !strcmp(k->valuestring, "loss_d");
        fid |= !strcmp(k->valuestring, "eval.fid");
        step |= !strcmp(k->valuestring, "step");
        unix_k |= !strcmp(k->valuestring, "unix");
    }
    CHECK(loss_d && fid && !step && !unix_k);
    cJSON_Delete(j);
    CHECK(gt_http_error("GET", "/api/runs/nothere", NULL, "no run") == 404);
    CHECK(gt_http_error("GET", "/api/runs/not-a-run", NULL, "no run") == 404);
    CHECK(gt_http_error("GET", "/api/runs/alpha/whatever", NULL, "no such path") == 404);
}

static void test_metrics(void) {
    cJSON *j = gt_http_expect("GET", "/api/runs/alpha/metrics", NULL, 200);
    CHECK(gt_json_num(j, "n") == 10 && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "downsampled")));
    CHECK(gt_json_num(j, "bad_lines") == 1);
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
    CHECK(cJSON_GetArraySize(step) == 10 && cJSON_GetArrayItem(step, 9)->valuedouble == 100);
    const cJSON *series = cJSON_GetObjectItemCaseSensitive(j, "series");
    const cJSON *ld = cJSON_GetObjectItemCaseSensitive(series, "loss_d");
    CHECK(cJSON_GetArraySize(ld) == 10 && fabs(cJSON_GetArrayItem(ld, 0)->valuedouble - 1.01) < 1e-4);
    CHECK(!cJSON_GetObjectItemCaseSensitive(series, "step") && !cJSON_GetObjectItemCaseSensitive(series, "unix"));
    CHECK(cJSON_GetObjectItemCaseSensitive(series, "it_s") && cJSON_GetObjectItemCaseSensitive(series, "time_s"));
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "eval");
    const cJSON *fid = cJSON_GetObjectItemCaseSensitive(ev, "fid");
    CHECK(cJSON_GetArraySize(fid) == 1 && cJSON_GetArrayItem(fid, 0)->valuedouble == 76.25);
    CHECK(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ev, "step"), 0)->valuedouble == 100);
    cJSON_Delete(j);
    /* keys restricts the series (and eval.X the eval columns) */
    j = gt_http_expect("GET", "/api/runs/alpha/metrics?keys=loss_g,eval.kid", NULL, 200);
    series = cJSON_GetObjectItemCaseSensitive(j, "series");
    ev = cJSON_GetObjectItemCaseSensitive(j, "eval");
    CHECK(cJSON_GetArraySize(series) == 1 && cJSON_GetObjectItemCaseSensitive(series, "loss_g"));
    CHECK(cJSON_GetObjectItemCaseSensitive(ev, "kid") && !cJSON_GetObjectItemCaseSensitive(ev, "fid"));
    cJSON_Delete(j);
    const char *bad[] = {"max=1", "max=20001", "max=abc", "max=-3", "max=", "max=1e3", "max=99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "/api/runs/alpha/metrics?%s", bad[i]);
        CHECK_MSG(gt_http_error("GET", p, NULL, "max") == 400, "%s", bad[i]);
    }
    /* an empty run: no lines */
    j = gt_http_expect("GET", "/api/runs/beta/metrics", NULL, 200);
    CHECK(gt_json_num(j, "n") == 0 && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "step")) == 0);
    cJSON_Delete(j);
}

/* 10000 lines with a spike (the global max) and a dip (the global min) inside buckets: a
 * downsampled answer of M points keeps both, and each bucket's pair is in occurrence order. */
static void test_downsample(void) {
    gt_runs_make("big", "dcgan", 10000);
    size_t cap = 10001 * 200;
    char *all = malloc(cap), line[400];
    size_t n = 0;
    for (int i = 1; i <= 10000; i++) {
        double d = 1.0 + 0.1 * sin(i * 0.01), g = 2.0;
        if (i == 4321) d = 9.5;   /* global max */
        if (i == 7777) d = -3.25; /* global min */
        if (i == 4322) g = 5.0;   /* bucket 21 (50 lines each): g's max after d's max */
        gt_runs_line(line, sizeof line, i, d, g);
        size_t k = strlen(line);
        memcpy(all + n, line, k);
        n += k;
    }
    all[n] = 0;
    gt_runs_put("big", "metrics.jsonl", all, true);
    free(all);
    double t_end = gt_http_now() + 5;
    cJSON *j = NULL;
    while (!j && gt_http_now() < t_end) { /* the watcher lists it within a second */
        gt_http_resp r;
        if (gt_http("GET", "/api/runs/big/metrics?max=400", NULL, &r) == 200) j = gt_http_json(&r);
        gt_http_free(&r);
        if (!j) gt_http_sleep(0.05);
    }
    CHECK(j != NULL);
    if (!j) return;
    CHECK(gt_json_num(j, "n") == 10000 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "downsampled")));
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
    const cJSON *ld = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "series"), "loss_d");
    CHECK(cJSON_GetArraySize(step) == 400 && cJSON_GetArraySize(ld) == 400);
    CHECK(cJSON_GetArrayItem(step, 0)->valuedouble == 1 && cJSON_GetArrayItem(step, 399)->valuedouble == 10000);
    double mx = -1e9, mn = 1e9;
    for (const cJSON *v = ld ? ld->child : NULL; v; v = v->next) {
        if (v->valuedouble > mx) mx = v->valuedouble;
        if (v->valuedouble < mn) mn = v->valuedouble;
    }
    CHECK_MSG(mx == 9.5 && mn == -3.25, "downsampled extremes %g %g", mx, mn);
    /* bucket 86 holds steps 4301..4350: loss_g's pair is (min, max), its max (step 4322) after the first min */
    const cJSON *lg = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "series"), "loss_g");
    CHECK(cJSON_GetArrayItem(lg, 172)->valuedouble == 2 && cJSON_GetArrayItem(lg, 173)->valuedouble == 5);
    CHECK(cJSON_GetArrayItem(step, 172)->valuedouble == 4301 && cJSON_GetArrayItem(step, 173)->valuedouble == 4350);
    /* a bucket whose min comes after its max: (max, min) */
    CHECK(cJSON_GetArrayItem(ld, 310)->valuedouble > cJSON_GetArrayItem(ld, 311)->valuedouble);
    CHECK(cJSON_GetArrayItem(ld, 311)->valuedouble == -3.25);
    cJSON_Delete(j);
}

static void test_grids_and_files(void) {
    cJSON *j = gt_http_expect("GET", "/api/runs/alpha/grids?offset=1&limit=2", NULL, 200);
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "grids");
    CHECK(gt_json_num(j, "total") == 5 && cJSON_GetArraySize(g) == 2);
    CHECK(!strcmp(gt_json_str(cJSON_GetArrayItem(g, 0), "file"), "samples/step_000040.png") &&
          gt_json_num(cJSON_GetArrayItem(g, 0), "step") == 40);
    cJSON_Delete(j);
    j = gt_http_expect("GET", "/api/runs/alpha/grids?offset=10", NULL, 200);
    CHECK(gt_json_num(j, "total") == 5 && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "grids")) == 0);
    cJSON_Delete(j);
    CHECK(gt_http_error("GET", "/api/runs/alpha/grids?limit=501", NULL, "limit") == 400);
    CHECK(gt_http_error("GET", "/api/runs/alpha/grids?limit=0", NULL, "limit") == 400);
    CHECK(gt_http_error("GET", "/api/runs/alpha/grids?offset=-1", NULL, "offset") == 400);
    gt_http_resp r;
    CHECK(gt_http("GET", "/api/runs/alpha/file/samples/step_000040.png", NULL, &r) == 200);
    CHECK(r.body && r.n == 14 && !memcmp(r.body, "\x89PNG fake grid", 14));
    char ct[64];
    CHECK(gt_http_header(&r, "Content-Type", ct, sizeof ct) && !strcmp(ct, "image/png"));
    gt_http_free(&r);
    CHECK(gt_http("GET", "/api/runs/alpha/file/samples/last.png", NULL, &r) == 200);
    gt_http_free(&r);
    CHECK(gt_http_error("GET", "/api/runs/alpha/file/samples/step_000041.png", NULL, "no file") == 404);
    CHECK(gt_http_error("GET", "/api/runs/alpha/file/config.json", NULL, "samples") == 400);
    CHECK(gt_http_error("GET", "/api/runs/alpha/file/last.safetensors", NULL, "samples") == 400);
}

/* The live path: each change reaches the run's stream within 2 s. */
static void test_events(void) {
    gt_sse s, l;
    CHECK(gt_sse_open(&s, "/api/runs/alpha/events") == 200);
    CHECK(strstr(s.head, "text/event-stream") != NULL);
    CHECK(gt_sse_open(&l, "/api/runs/events") == 200);
    char ev[32];
    char *d = gt_sse_next(&s, ev, 5);
    CHECK(d && !strcmp(ev, "status") && strstr(d, "\"name\":\"alpha\""));
    free(d);
    d = gt_sse_next(&l, ev, 5);
    CHECK(d && !strcmp(ev, "runs") && strstr(d, "\"alpha\""));
    free(d);
    /* an appended metrics line */
    char line[400];
    gt_runs_line(line, sizeof line, 110, 1.5, 1.25);
    gt_runs_append("alpha", "metrics.jsonl", line);
    d = gt_runs_wait_event(&s, "metrics", "\"step\":110", 2);
    CHECK_MSG(d && strstr(d, "\"loss_g\":1.25"), "metrics event: %s", d ? d : "(none)");
    free(d);
    /* a half-written line is not parsed until its newline comes */
    gt_runs_line(line, sizeof line, 120, 1.5, 1.75);
    size_t half = strlen(line) / 2;
    char first[200];
    memcpy(first, line, half);
    first[half] = 0;
    gt_runs_append("alpha", "metrics.jsonl", first);
    d = gt_runs_wait_event(&s, "metrics", "\"step\":120", 0.7);
    CHECK_MSG(!d, "a half line was sent: %s", d ? d : "");
    free(d);
    cJSON *j = gt_http_expect("GET", "/api/runs/alpha/metrics", NULL, 200);
    CHECK(gt_json_num(j, "n") == 11 && gt_json_num(j, "bad_lines") == 1);
    cJSON_Delete(j);
    gt_runs_append("alpha", "metrics.jsonl", line + half);
    d = gt_runs_wait_event(&s, "metrics", "\"step\":120", 2);
    CHECK(d && strstr(d, "\"loss_g\":1.75"));
    free(d);
    j = gt_http_expect("GET", "/api/runs/alpha/metrics", NULL, 200);
    CHECK(gt_json_num(j, "n") == 12 && gt_json_num(j, "bad_lines") == 1);
    cJSON_Delete(j);
    /* a garbage line is counted, not sent */
    gt_runs_append("alpha", "metrics.jsonl", "{\"step\": oops}\n");
    gt_runs_line(line, sizeof line, 130, 1.5, 1.5);
    gt_runs_append("alpha", "metrics.jsonl", line);
    d = gt_runs_wait_event(&s, "metrics", "\"step\":130", 2);
    CHECK(d && strstr(d, "\"bad_lines\":2"));
    free(d);
    /* a new grid (written as gt_save_grid does: a temporary renamed) */
    gt_runs_put("alpha", "samples/step_000130.png", "\x89PNG new", true);
    d = gt_runs_wait_event(&s, "grid", NULL, 2);
    CHECK(d && strstr(d, "\"file\":\"samples/step_000130.png\"") && strstr(d, "\"step\":130"));
    free(d);
    j = gt_http_expect("GET", "/api/runs/alpha/grids", NULL, 200);
    CHECK(gt_json_num(j, "total") == 6);
    cJSON_Delete(j);
    /* a new checkpoint */
    gt_runs_put("alpha", "checkpoints/step_000130.safetensors", "ckpt-130", true);
    d = gt_runs_wait_event(&s, "checkpoint", NULL, 2);
    CHECK(d && strstr(d, "checkpoints/step_000130.safetensors") && strstr(d, "\"bytes\":8"));
    free(d);
    /* status.json rewritten */
    gt_runs_put("alpha", "status.json",
                "{\"state\": \"running\", \"pid\": 1, \"host\": \"elsewhere\", \"step\": 130, \"steps\": 200, "
                "\"started_unix\": 1796500000, \"updated_unix\": 1796700000, \"message\": \"\"}\n",
                true);
    d = gt_runs_wait_event(&s, "status", "\"state\":\"running\"", 2);
    CHECK(d && strstr(d, "\"steps\":200"));
    free(d);
    d = gt_runs_wait_event(&l, "runs", "\"steps\":200", 2);
    CHECK(d != NULL);
    free(d);
    /* a new run appears in the list stream */
    gt_runs_make("epsilon", "dcgan", 10);
    d = gt_runs_wait_event(&l, "runs", "\"epsilon\"", 2);
    CHECK(d != NULL);
    free(d);
    gt_sse_close(&s);
    gt_sse_close(&l);
}

static void rm_rf(const char *path) {
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    CHECK(system(cmd) == 0);
}

/* A run folder deleted while watched: `removed`, the stream ends, then 404; the server lives on. */
static void test_removed(void) {
    gt_runs_make("doomed", "dcgan", 10);
    char line[400];
    gt_runs_line(line, sizeof line, 1, 1, 1);
    gt_runs_put("doomed", "metrics.jsonl", line, false);
    gt_runs_put("doomed", "samples/step_000001.png", "x", false);
    double t_end = gt_http_now() + 3;
    for (;;) {
        gt_http_resp r;
        int st = gt_http("GET", "/api/runs/doomed", NULL, &r);
        gt_http_free(&r);
        if (st == 200 || gt_http_now() > t_end) break;
        gt_http_sleep(0.05);
    }
    gt_sse s, l;
    CHECK(gt_sse_open(&s, "/api/runs/doomed/events") == 200);
    CHECK(gt_sse_open(&l, "/api/runs/events") == 200);
    char ev[32];
    free(gt_sse_next(&s, ev, 5));
    free(gt_runs_wait_event(&l, "runs", "\"doomed\"", 2));
    char p[2048];
    snprintf(p, sizeof p, "%s/doomed", gt_runs_dir);
    rm_rf(p);
    char *d = gt_runs_wait_event(&s, "removed", NULL, 2);
    CHECK(d && strstr(d, "doomed"));
    free(d);
    CHECK(gt_sse_next(&s, ev, 3) == NULL && s.ended); /* the stream ended */
    gt_sse_close(&s);
    d = gt_sse_next(&l, ev, 2);
    CHECK(d && !strcmp(ev, "runs") && !strstr(d, "\"doomed\""));
    free(d);
    gt_sse_close(&l);
    CHECK(gt_http_error("GET", "/api/runs/doomed", NULL, "no run") == 404);
    CHECK(gt_http_error("GET", "/api/runs/doomed/metrics", NULL, "no run") == 404);
    CHECK(gt_http_error("GET", "/api/runs/doomed/events", NULL, "no run") == 404);
    CHECK(gt_lab_alive());
}

/* A runs folder that does not exist yet: an empty list, then its runs once it appears; the
 * endpoints are off (404) without a runs folder; stopping with open streams is prompt. */
static void test_late_dir_and_off(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", gt_test_path("later"));
    gt_lab_server *S2 = gt_runs_start(dir);
    if (!S2) return;
    cJSON *j = gt_http_expect("GET", "/api/runs", NULL, 200);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "runs")) == 0);
    cJSON_Delete(j);
    gt_sse l;
    CHECK(gt_sse_open(&l, "/api/runs/events") == 200);
    char ev[32];
    free(gt_sse_next(&l, ev, 5));
    char keep[1024];
    snprintf(keep, sizeof keep, "%s", gt_runs_dir);
    snprintf(gt_runs_dir, sizeof gt_runs_dir, "%s", dir);
    mkdir(dir, 0777);
    gt_runs_make("late", "dcgan", 10);
    char *d = gt_runs_wait_event(&l, "runs", "\"late\"", 4);
    CHECK(d != NULL);
    free(d);
    snprintf(gt_runs_dir, sizeof gt_runs_dir, "%s", keep);
    double t0 = gt_http_now();
    gt_lab_server_stop(S2); /* with the stream open */
    CHECK(gt_http_now() - t0 < 5);
    gt_sse_close(&l);
    gt_lab_port = gt_lab_server_port(S);
    /* no runs folder: 404 */
    gt_lab_server *S3 = gt_lab_start(0);
    if (!S3) return;
    CHECK(gt_http_error("GET", "/api/runs", NULL, "off") == 404);
    CHECK(gt_http_error("GET", "/api/runs/alpha", NULL, "off") == 404);
    CHECK(gt_http_error("POST", "/api/explore", "{\"run\":\"alpha\"}", "off") == 404);
    gt_lab_server_stop(S3);
    gt_lab_port = gt_lab_server_port(S);
    /* a runs "folder" that is a file is refused */
    gt_lab_server_opts o = {.port = 0, .quiet = true, .runs_dir = gt_test_path("runs/stray.txt")};
    gt_lab_server *S4 = NULL;
    CHECK(gt_lab_server_start(&o, &S4) != GT_OK && strstr(gt_last_error(), "not a folder"));
    gt_lab_server_stop(S4);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    setup_runs();
    S = gt_runs_start(gt_runs_dir);
    if (!S) return gt_test_finish();
    RUN(test_list);
    RUN(test_detail);
    RUN(test_metrics);
    RUN(test_downsample);
    RUN(test_grids_and_files);
    RUN(test_events);
    RUN(test_removed);
    RUN(test_late_dir_and_off);
    gt_lab_server_stop(S);
    return gt_test_finish();
}
