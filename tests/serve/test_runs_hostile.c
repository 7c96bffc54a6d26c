/* The runs dashboard against hostile input: path traversal in run names and file paths (raw
 * requests, sent byte for byte), a symbolic link out of samples/, garbage and half lines in
 * metrics.jsonl, absurd query arguments and explore bodies, a run with 100k grid files (a bounded
 * page, quickly), and many streams at once; the server keeps answering throughout. */
#include <pthread.h>

#include "runs_util.h"

static gt_lab_server *S;

/* The status of a raw GET of path (as written: no client-side normalisation). */
static int raw_get(const char *path, gt_http_resp *r) {
    char req[16384];
    int k = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    return gt_http_raw(req, (size_t)k, r);
}

static void test_traversal(void) {
    const struct {
        const char *path;
        int want; /* 0: 400 or 404 */
    } cases[] = {
        {"/api/runs/..", 400},
        {"/api/runs/../runs/alpha", 400},
        {"/api/runs/%2e%2e", 400},
        {"/api/runs/%2e%2e/metrics", 400},
        {"/api/runs/.", 400},
        {"/api/runs/a%2fb", 400},
        {"/api/runs/alpha%2f..%2f..", 400},
        {"/api/runs/%00", 400},
        {"/api/runs/alpha%00", 400},
        {"/api/runs//etc/passwd", 400},
        {"/api/runs/%2fetc%2fpasswd", 400},
        {"/api/runs/al%20pha", 400},
        {"/api/runs/alpha%5c..", 400},
        {"/api/runs/a/b", 404},
        {"/api/runs/alpha/file/../config.json", 400},
        {"/api/runs/alpha/file/samples/../config.json", 400},
        {"/api/runs/alpha/file/samples/../../secret.png", 400},
        {"/api/runs/alpha/file/samples/%2e%2e%2fconfig.json", 400},
        {"/api/runs/alpha/file/samples/.hidden.png", 400},
        {"/api/runs/alpha/file/samples/x.txt", 400},
        {"/api/runs/alpha/file//etc/passwd", 400},
        {"/api/runs/alpha/file/samples//etc/x.png", 400},
        {"/api/runs/alpha/file/samples/step_000010.png%00.png", 400},
        {"/api/runs/alpha/file/samples/link.png", 404}, /* a symbolic link is not followed */
        {"/api/runs/alpha/file/", 400},
        {"/api/explore/info?run=..&ckpt=last.safetensors", 400},
        {"/api/explore/info?run=alpha&ckpt=../../etc/passwd", 400},
        {"/api/explore/info?run=alpha&ckpt=/etc/passwd", 400},
        {"/api/explore/info?run=alpha&ckpt=checkpoints/../last.safetensors", 400},
        {"/api/explore/info?run=alpha&ckpt=config.json", 400},
        {"/api/explore/info?run=alpha", 422}, /* last.safetensors by default: not a checkpoint */
        {"/api/explore/info?run=beta", 404},
        {"/api/explore/info", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gt_http_resp r;
        int st = raw_get(cases[i].path, &r);
        bool ok = cases[i].want ? st == cases[i].want : st == 400 || st == 404;
        CHECK_MSG(ok, "%s: status %d (want %d): %.200s", cases[i].path, st, cases[i].want, r.body ? r.body : "");
        CHECK_MSG(!r.body || !strstr(r.body, "TOP-SECRET"), "%s leaked the secret", cases[i].path);
        gt_http_free(&r);
    }
    char longname[400] = "/api/runs/";
    memset(longname + 10, 'a', 200);
    longname[210] = 0;
    gt_http_resp r;
    CHECK(raw_get(longname, &r) == 400);
    gt_http_free(&r);
    CHECK(raw_get("/api/runs/alpha/file/samples/step_000010.png", &r) == 200);
    gt_http_free(&r);
    CHECK(gt_lab_alive());
}

static void test_bad_queries(void) {
    const char *paths[] = {
        "/api/runs/alpha/metrics?max=0",      "/api/runs/alpha/metrics?max=1e9",
        "/api/runs/alpha/metrics?max=%00",    "/api/runs/alpha/metrics?max=2000000000000000000000",
        "/api/runs/alpha/grids?limit=100000", "/api/runs/alpha/grids?offset=abc",
        "/api/runs/alpha/grids?offset=1e3",   "/api/runs/alpha/grids?limit=-1",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        gt_http_resp r;
        CHECK_MSG(raw_get(paths[i], &r) == 400, "%s", paths[i]);
        gt_http_free(&r);
    }
    /* keys naming nothing: no series; a long keys list: 400 */
    cJSON *j = gt_http_expect("GET", "/api/runs/alpha/metrics?keys=nothing,%00,..", NULL, 200);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "series")) == 0);
    cJSON_Delete(j);
    char *p = malloc(6000);
    strcpy(p, "/api/runs/alpha/metrics?keys=");
    memset(p + strlen(p), 'k', 4500);
    p[29 + 4500] = 0;
    gt_http_resp r;
    int st = raw_get(p, &r);
    CHECK_MSG(st == 400 || st == 414, "a long keys: %d", st);
    gt_http_free(&r);
    free(p);
}

/* Lines a scanner could choke on: each is a bad line (or, when valid JSON, handled). */
static void test_garbage_metrics(void) {
    gt_runs_make("junk", "dcgan", 10);
    char *deep = malloc(20010);
    for (int i = 0; i < 10000; i++) deep[i] = '[';
    for (int i = 0; i < 10000; i++) deep[10000 + i] = ']';
    deep[20000] = '\n';
    deep[20001] = 0;
    gt_runs_append("junk", "metrics.jsonl", deep);
    free(deep);
    const char *lines[] = {
        "\n", "   \n", "{\n", "}\n", "{\"step\":1,\n", "{\"step\":NaN,\"loss_d\":1}\n", "{\"step\":Infinity}\n",
        "{\"step\":0x10}\n", "{\"step\":1,\"loss_d\":01}\n", "{\"step\":1}{\"step\":2}\n", "\xff\xfegarbage\n",
        "{\"step\":\"3\"}\n", "{\"eval\":{\"fid\":3}}\n", "{\"step\":1,\"eval\":{\"x\":{\"y\":1}}}\n",
        "{\"step\":1e999,\"loss_d\":1}\n", /* valid JSON, an infinite step: bad */
        "{\"step\":5,\"loss_d\":1e999,\"loss_g\":null,\"s\":\"a\\\"b\",\"t\":true,\"u\":[1,2]}\n", /* arrays: bad */
        "{\"step\":6,\"loss_d\":-0.5e-3,\"loss_g\":null,\"s\":\"a\\\"b\",\"t\":true}\n",          /* good */
        "{\"step\":7,\"eval\":{\"fid\":12.5,\"extractor\":\"x\"}}\n",                                 /* good */
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) gt_runs_append("junk", "metrics.jsonl", lines[i]);
    gt_runs_append("junk", "metrics.jsonl", "{\"step\":8,\"loss_d\":2"); /* half a line at the end */
    double t_end = gt_http_now() + 3;
    cJSON *j = NULL;
    while (!j && gt_http_now() < t_end) {
        gt_http_resp r;
        if (gt_http("GET", "/api/runs/junk/metrics", NULL, &r) == 200) j = gt_http_json(&r);
        gt_http_free(&r);
        if (!j) gt_http_sleep(0.05);
    }
    CHECK(j != NULL);
    if (!j) return;
    CHECK_MSG(gt_json_num(j, "n") == 1 && gt_json_num(j, "bad_lines") == 15, "n %g bad %g", gt_json_num(j, "n"),
              gt_json_num(j, "bad_lines"));
    const cJSON *ld = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "series"), "loss_d");
    CHECK(cJSON_GetArraySize(ld) == 1 && cJSON_GetArrayItem(ld, 0)->valuedouble == -0.0005);
    const cJSON *lg = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "series"), "loss_g");
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(lg, 0)));
    const cJSON *fid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "eval"), "fid");
    CHECK(cJSON_GetArraySize(fid) == 1 && cJSON_GetArrayItem(fid, 0)->valuedouble == 12.5);
    cJSON_Delete(j);
    j = gt_http_expect("GET", "/api/runs/junk", NULL, 200);
    CHECK(gt_json_num(j, "bad_lines") == 15 && gt_json_num(j, "fid") == 12.5 && gt_json_num(j, "step") == 7);
    cJSON_Delete(j);
    CHECK(gt_lab_alive());
}

static void test_explore_bodies(void) {
    const char *bodies[] = {
        "{\"run\":\"alpha\",\"n\":1e9}",
        "{\"run\":\"alpha\",\"n\":0}",
        "{\"run\":\"alpha\",\"n\":65}",
        "{\"run\":\"alpha\",\"n\":2.5}",
        "{\"run\":\"alpha\",\"n\":\"16\"}",
        "{\"run\":\"alpha\",\"frames\":100}",
        "{\"run\":\"alpha\",\"frames\":1}",
        "{\"run\":\"alpha\",\"scale\":0}",
        "{\"run\":\"alpha\",\"scale\":5}",
        "{\"run\":\"alpha\",\"truncation\":0.05}",
        "{\"run\":\"alpha\",\"truncation\":5}",
        "{\"run\":\"alpha\",\"truncation\":NaN}",
        "{\"run\":\"alpha\",\"seed\":-1}",
        "{\"run\":\"alpha\",\"seed\":1e300}",
        "{\"run\":\"alpha\",\"class\":-2}",
        "{\"run\":\"alpha\",\"mode\":\"zoom\"}",
        "{\"run\":\"alpha\",\"ema\":1}",
        "{\"run\":\"alpha\",\"dims\":{}}",
        "{\"run\":\"alpha\",\"dims\":[{\"index\":0,\"value\":6}]}",
        "{\"run\":\"alpha\",\"dims\":[{\"index\":-1,\"value\":1}]}",
        "{\"run\":\"alpha\",\"dims\":[{\"index\":0}]}",
        "{\"run\":\"alpha\",\"dims\":[{\"index\":0,\"value\":1,\"extra\":2}]}",
        "{\"run\":\"alpha\",\"dims\":[1,2]}",
        "{\"run\":\"alpha\",\"bogus\":1}",
        "{\"n\":4}",
        "{\"run\":\"../alpha\"}",
        "{\"run\":\"alpha\",\"ckpt\":\"../alpha/last.safetensors\"}",
        "{\"run\":\"alpha\",\"ckpt\":\"checkpoints/step_1.safetensors/x\"}",
        "{\"run\":7}",
        "[]",
        "",
        "nonsense",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        CHECK_MSG(gt_http_error("POST", "/api/explore", bodies[i], NULL) == 400, "%s", bodies[i]);
    /* 1000 dims */
    size_t cap = 40000, k = 0;
    char *b = malloc(cap);
    k += (size_t)snprintf(b + k, cap - k, "{\"run\":\"alpha\",\"dims\":[");
    for (int i = 0; i < 1000; i++) k += (size_t)snprintf(b + k, cap - k, "%s{\"index\":%d,\"value\":1}", i ? "," : "", i);
    snprintf(b + k, cap - k, "]}");
    CHECK(gt_http_error("POST", "/api/explore", b, "at most 16") == 400);
    free(b);
    CHECK(gt_http_error("GET", "/api/explore", NULL, "method") == 405);
    CHECK(gt_http_error("POST", "/api/explore/info", "{}", "method") == 405);
    CHECK(gt_http_error("POST", "/api/explore", "{\"run\":\"nope\"}", "no run") == 404);
    CHECK(gt_http_error("POST", "/api/explore", "{\"run\":\"alpha\",\"ckpt\":\"checkpoints/step_9.safetensors\"}",
                        "no checkpoint") == 404);
    /* a file that is not a checkpoint: 422 with the loader's message */
    CHECK(gt_http_error("POST", "/api/explore", "{\"run\":\"alpha\",\"ckpt\":\"last.safetensors\"}", "safetensors") == 422);
    CHECK(gt_http_error("GET", "/api/explore/info?run=alpha&ckpt=last.safetensors", NULL, "safetensors") == 422);
    CHECK(gt_lab_alive());
}

/* 100k grid files: the list answers a bounded page with the total, quickly, and stays current. */
static void test_many_grids(void) {
    /* made outside the runs folder, then moved in (one event instead of 100k) */
    char keep[1024];
    snprintf(keep, sizeof keep, "%s", gt_runs_dir);
    snprintf(gt_runs_dir, sizeof gt_runs_dir, "%s", gt_test_path("staging"));
    mkdir(gt_runs_dir, 0777);
    gt_runs_make("many", "dcgan", 100000);
    char dir[2200], p[2600];
    snprintf(dir, sizeof dir, "%s/many/samples", gt_runs_dir);
    for (int i = 1; i <= 100000; i++) {
        snprintf(p, sizeof p, "%s/step_%06d.png", dir, i);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) close(fd);
    }
    char from[2048], to[2048];
    snprintf(from, sizeof from, "%s/many", gt_runs_dir);
    snprintf(gt_runs_dir, sizeof gt_runs_dir, "%s", keep);
    snprintf(to, sizeof to, "%s/many", gt_runs_dir);
    CHECK(rename(from, to) == 0);
    snprintf(dir, sizeof dir, "%s/many/samples", gt_runs_dir);
    double t_end = gt_http_now() + 3;
    for (;;) { /* listed within a second or so */
        gt_http_resp r;
        int st = gt_http("GET", "/api/runs/many/grids?limit=1", NULL, &r);
        gt_http_free(&r);
        if (st == 200 || gt_http_now() > t_end) break;
        gt_http_sleep(0.05);
    }
    /* (how fast this answers is bench/bench_dashboard's business: no timings in tests) */
    cJSON *j = gt_http_expect("GET", "/api/runs/many/grids?offset=99900&limit=500", NULL, 200);
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "grids");
    CHECK(gt_json_num(j, "total") == 100000 && cJSON_GetArraySize(g) == 100);
    CHECK(gt_json_num(cJSON_GetArrayItem(g, 0), "step") == 99901);
    cJSON_Delete(j);
    j = gt_http_expect("GET", "/api/runs/many/grids", NULL, 200);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "grids")) == 200);
    cJSON_Delete(j);
    j = gt_http_expect("GET", "/api/runs/many", NULL, 200);
    CHECK(gt_json_num(j, "grids") == 100000);
    cJSON_Delete(j);
    /* one removed, one added: the list follows */
    snprintf(p, sizeof p, "%s/step_000005.png", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/step_200000.png", dir);
    gt_lab_write(p, "x");
    t_end = gt_http_now() + 3;
    bool ok = false;
    while (!ok && gt_http_now() < t_end) {
        j = gt_http_expect("GET", "/api/runs/many/grids?offset=99999&limit=1", NULL, 200);
        const cJSON *last = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "grids"), 0);
        ok = gt_json_num(j, "total") == 100000 && last && gt_json_num(last, "step") == 200000;
        cJSON_Delete(j);
        if (!ok) gt_http_sleep(0.05);
    }
    CHECK(ok);
    /* clean up now (the harness would at exit too): moved out first, so the watcher sees one event */
    CHECK(rename(to, from) == 0);
    snprintf(dir, sizeof dir, "%s/samples", from);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
}

static void *stream_thread(void *arg) {
    gt_sse s;
    bool ok = gt_sse_open(&s, arg) == 200;
    char ev[32];
    char *d = ok ? gt_sse_next(&s, ev, 5) : NULL;
    ok = d != NULL;
    free(d);
    gt_sse_close(&s);
    return (void *)(intptr_t)ok;
}

/* 40 streams opened and dropped at once. */
static void test_many_streams(void) {
    pthread_t th[40];
    for (int i = 0; i < 40; i++)
        pthread_create(&th[i], NULL, stream_thread, i % 2 ? "/api/runs/events" : "/api/runs/alpha/events");
    int ok = 0;
    for (int i = 0; i < 40; i++) {
        void *r;
        pthread_join(th[i], &r);
        ok += (int)(intptr_t)r;
    }
    CHECK(ok == 40);
    CHECK(gt_lab_alive());
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    snprintf(gt_runs_dir, sizeof gt_runs_dir, "%s", gt_test_path("runs"));
    mkdir(gt_runs_dir, 0777);
    gt_runs_make("alpha", "dcgan", 100);
    gt_runs_put("alpha", "samples/step_000010.png", "\x89PNG", false);
    gt_runs_put("alpha", "last.safetensors", "this is not a safetensors file at all", false);
    char secret[2048], link_path[2048];
    snprintf(secret, sizeof secret, "%s/secret.png", gt_test_path("outside"));
    mkdir(gt_test_path("outside"), 0777);
    gt_lab_write(secret, GT_LAB_SECRET);
    snprintf(link_path, sizeof link_path, "%s/alpha/samples/link.png", gt_runs_dir);
    CHECK(symlink(secret, link_path) == 0);
    S = gt_runs_start(gt_runs_dir);
    if (!S) return gt_test_finish();
    RUN(test_traversal);
    RUN(test_bad_queries);
    RUN(test_garbage_metrics);
    RUN(test_explore_bodies);
    RUN(test_many_grids);
    RUN(test_many_streams);
    gt_lab_server_stop(S);
    return gt_test_finish();
}
