/* tests/serve/runs_util.h - what the runs dashboard's tests share: run folders written by hand
 * in the test's temporary folder (config.json, metrics.jsonl, status.json, samples/, checkpoints/),
 * a lab server started on them, and small file helpers. The harness removes the temporary folder
 * at exit, on failure and on a fatal signal too. */
#ifndef GT_TEST_RUNS_UTIL_H
#define GT_TEST_RUNS_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab_http.h"

static char gt_runs_dir[1024];

static inline void gt_runs_mkdir(const char *fmt, const char *a, const char *b) {
    char p[2048];
    snprintf(p, sizeof p, fmt, a, b);
    mkdir(p, 0777);
}

/* Writes text into DIR/RUN/REL (atomically when atomic: a temporary then rename). */
static inline void gt_runs_put(const char *run, const char *rel, const char *text, bool atomic) {
    char p[2048], t[2100];
    snprintf(p, sizeof p, "%s/%s/%s", gt_runs_dir, run, rel);
    snprintf(t, sizeof t, "%s.tmp-test", p);
    gt_lab_write(atomic ? t : p, text);
    if (atomic) rename(t, p);
}

/* Appends text to DIR/RUN/REL (one write). */
static inline void gt_runs_append(const char *run, const char *rel, const char *text) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s/%s", gt_runs_dir, run, rel);
    int fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, text, strlen(text));
        (void)w;
        close(fd);
    }
}

/* A run folder: config.json (model, data, loss, steps), samples/, checkpoints/. */
static inline void gt_runs_make(const char *run, const char *model, long long steps) {
    gt_runs_mkdir("%s/%s", gt_runs_dir, run);
    gt_runs_mkdir("%s/%s/samples", gt_runs_dir, run);
    gt_runs_mkdir("%s/%s/checkpoints", gt_runs_dir, run);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\n  \"model\": {\"name\": \"%s\", \"res\": 28, \"nz\": 16},\n  \"data\": \"fashion-mnist\",\n"
             "  \"loss\": \"ns\",\n  \"steps\": %lld\n}\n",
             model, steps);
    gt_runs_put(run, "config.json", cfg, true);
}

/* One logged metrics line as gantry train writes it. */
static inline void gt_runs_line(char *buf, size_t n, long long step, double loss_d, double loss_g) {
    snprintf(buf, n,
             "{\"step\":%lld,\"loss_d\":%.6g,\"loss_g\":%.6g,\"gp\":0,\"d_real\":0.6,\"d_fake\":0.4,\"it_s\":8.5,"
             "\"img_s\":544,\"time_s\":%.3f,\"unix\":%lld}\n",
             step, loss_d, loss_g, step * 0.1, 1796500000LL + step);
}

static inline gt_lab_server *gt_runs_start(const char *runs_dir) {
    gt_lab_server_opts o = {.host = "127.0.0.1", .port = 0, .web_dir = gt_lab_web_make(), .quiet = true,
                            .runs_dir = runs_dir};
    gt_lab_server *S = NULL;
    gt_status st = gt_lab_server_start(&o, &S);
    CHECK_MSG(st == GT_OK, "gt_lab_server_start: %s", gt_last_error());
    if (S) gt_lab_port = gt_lab_server_port(S);
    return S;
}

/* Waits (at most timeout_s) for an event named `want` whose data contains needle (NULL: any);
 * its data (malloc'd) or NULL. */
static inline char *gt_runs_wait_event(gt_sse *s, const char *want, const char *needle, double timeout_s) {
    double end = gt_http_now() + timeout_s;
    for (;;) {
        double left = end - gt_http_now();
        if (left <= 0) return NULL;
        char ev[32];
        char *d = gt_sse_next(s, ev, left);
        if (!d) return NULL;
        if (!strcmp(ev, want) && (!needle || strstr(d, needle))) return d;
        free(d);
    }
}

/* The run named name in a /api/runs answer, or NULL. */
static inline const cJSON *gt_runs_find(const cJSON *list, const char *name) {
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(list, "runs");
    for (const cJSON *r = runs ? runs->child : NULL; r; r = r->next) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(r, "name");
        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name)) return r;
    }
    return NULL;
}

static inline const char *gt_json_str(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

#endif
