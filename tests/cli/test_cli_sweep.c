/* gantry sweep on a tiny IDX data set with a tiny DCGAN (a few steps): the same sweep twice gives
 * bit-identical table.json; a restart of a finished sweep skips every run; a sweep killed with
 * SIGKILL in the middle of its second run (after that run's first budget was evaluated) and
 * restarted resumes that run from its checkpoint and ends with the same table.json as the
 * uninterrupted sweep; the outputs (results.json, table.md/.csv/.json, both plots) are there and the
 * table holds mean and std over the seeds. Bad input: a grid key the config lacks, a bad seeds
 * list, a restart with other arguments -> exit 2 naming it, nothing written. */
#include <cjson/cJSON.h>

#include "cli_util.h"

static char g_idx[700], g_cfg[700];

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void setup(void) {
    CHECK(gt_cli_find());
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("tiny.idx"));
    CHECK(gt_test_write_idx(g_idx, 48));
    snprintf(g_cfg, sizeof g_cfg, "%s", gt_test_path("tiny.json"));
    FILE *f = fopen(g_cfg, "w");
    CHECK(f != NULL);
    if (!f) return;
    /* a checkpoint every 7 steps (2 kept): a killed run resumes from one between the budgets */
    fprintf(f,
            "{\"model\": {\"name\": \"dcgan\", \"res\": 28, \"channels\": 1, \"nz\": 8, \"ngf\": 8, \"ndf\": 8},\n"
            " \"data\": \"%s\", \"batch\": 8, \"lr_g\": 0.0002, \"lr_d\": 0.0002, \"loss\": \"ns\", \"ema\": 0.9,\n"
            " \"sample_every\": 0, \"log_every\": 5, \"ckpt_every\": 7, \"keep_ckpts\": 2, \"n_samples\": 4}\n",
            g_idx);
    fclose(f);
}

static unsigned char *slurp(const char *dir, const char *name, size_t *n) {
    char p[900];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    void *buf = NULL; /* NUL-terminated: parsed and searched as text */
    return gt_read_file(p, &buf, n, 0) == GT_OK ? buf : NULL;
}

static bool same_file(const char *a, const char *b, const char *name) {
    size_t na = 0, nb = 0;
    unsigned char *x = slurp(a, name, &na), *y = slurp(b, name, &nb);
    bool same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

#define SWEEP_ARGS(out)                                                                                             \
    "sweep", "--config", g_cfg, "--grid", "lr_g=1e-4,3e-4", "--seeds", "0,1", "--steps", "24", "--budgets", "8,16", \
        "--eval-n", "48", "--out", (out)

static void test_same_twice(void) {
    char a[700], b[700];
    snprintf(a, sizeof a, "%s", gt_test_path("sweep_a"));
    snprintf(b, sizeof b, "%s", gt_test_path("sweep_b"));
    CHECK_CLI(0, "done in", SWEEP_ARGS(a));
    CHECK_CLI(0, "done in", SWEEP_ARGS(b));
    CHECK(same_file(a, b, "table.json"));
    CHECK(same_file(a, b, "table.csv"));
    const char *files[] = {"results.json", "table.md", "table.csv", "table.json", "fid_vs_steps.png",
                           "best_vs_budget.png", "sweep.json", "runs/tiny_lr_g-1e-4_s0/sweep_done.json",
                           "runs/tiny_lr_g-3e-4_s1/last.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char p[900];
        snprintf(p, sizeof p, "%s/%s", a, files[i]);
        CHECK_MSG(exists(p), "missing %s", p);
    }
    /* the table: 2 rows (lr_g values) x 3 budgets, mean over 2 seeds with a std */
    size_t n = 0;
    char *t = (char *)slurp(a, "table.json", &n);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(j, "rows");
    CHECK(cJSON_GetArraySize(rows) == 2);
    const cJSON *fid = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 1), "fid");
    CHECK(cJSON_GetArraySize(fid) == 3);
    const cJSON *last = cJSON_GetArrayItem(fid, 2);
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(last, "step");
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(last, "mean");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(last, "std"), *cnt = cJSON_GetObjectItemCaseSensitive(last, "n");
    CHECK(cJSON_IsNumber(step) && step->valuedouble == 24);
    CHECK(cJSON_IsNumber(mean) && mean->valuedouble > 0 && cJSON_IsNumber(sd) && sd->valuedouble > 0);
    CHECK(cJSON_IsNumber(cnt) && cnt->valuedouble == 2);
    const cJSON *grid = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 1), "grid");
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(grid, "lr_g")) &&
          !strcmp(cJSON_GetObjectItemCaseSensitive(grid, "lr_g")->valuestring, "3e-4"));
    const double mv = cJSON_IsNumber(mean) ? mean->valuedouble : NAN, sv = cJSON_IsNumber(sd) ? sd->valuedouble : NAN;
    cJSON_Delete(j);
    /* the mean is the mean of the two seeds' FIDs in results.json */
    t = (char *)slurp(a, "results.json", &n);
    j = t ? cJSON_Parse(t) : NULL;
    free(t);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "runs");
    CHECK(cJSON_GetArraySize(runs) == 4);
    double f2 = 0, f3 = 0;
    for (int r = 2; r < 4; r++) {
        const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(runs, r), "fid"), 2);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "fid");
        CHECK(cJSON_IsNumber(v));
        if (r == 2) f2 = v ? v->valuedouble : 0;
        else f3 = v ? v->valuedouble : 0;
    }
    CHECK_MSG(fabs(mv - (f2 + f3) / 2) < 1e-9, "mean %g vs %g %g", mv, f2, f3);
    CHECK_MSG(fabs(sv - fabs(f2 - f3) / sqrt(2.0)) < 1e-9, "std %g vs %g %g", sv, f2, f3);
    cJSON_Delete(j);
    /* the PNGs decode */
    char p[900];
    snprintf(p, sizeof p, "%s/fid_vs_steps.png", a);
    gt_image img;
    CHECK(gt_image_load(p, &img) == GT_OK && img.w > 100);
    gt_image_free(&img);
    /* the same command again: every run skipped, the same table */
    CHECK_CLI(0, "done before, skipped", SWEEP_ARGS(b));
    CHECK(same_file(a, b, "table.json"));
}

/* Starts the sweep into k and SIGKILLs it once marker exists; whether the kill came in time (done
 * not there yet). */
static bool kill_at(const char *k, const char *marker, const char *done) {
    char out[800];
    snprintf(out, sizeof out, "%s/killed.txt", gt_test_tmpdir());
    char *args[] = {SWEEP_ARGS((char *)k), NULL};
    pid_t pid = gt_cli_spawn(out, args);
    bool seen = false;
    for (int i = 0; i < 200000 && !seen; i++) { /* up to ~100 s */
        seen = exists(marker);
        if (!seen) {
            int ws;
            if (waitpid(pid, &ws, WNOHANG) == pid) return false; /* it finished or failed first */
            struct timespec ts = {0, 500000};
            nanosleep(&ts, NULL);
        }
    }
    kill(pid, SIGKILL);
    int rc = gt_cli_wait(pid);
    CHECK_MSG(seen && rc == 128 + SIGKILL, "marker seen %d, rc %d", seen, rc);
    return seen && rc == 128 + SIGKILL && !exists(done);
}

static void test_sigkill_resume(void) {
    char a[700], k[700], marker[900], done2[900], tj[900];
    snprintf(a, sizeof a, "%s", gt_test_path("sweep_a"));
    /* the second run's first budget evaluated: killed while it trains towards the second (tried
       again in a new folder when a busy machine let the run finish before the kill) */
    bool killed = false;
    for (int attempt = 0; attempt < 3 && !killed; attempt++) {
        char name[64];
        snprintf(name, sizeof name, "sweep_killed%d", attempt);
        snprintf(k, sizeof k, "%s", gt_test_path(name));
        snprintf(marker, sizeof marker, "%s/runs/tiny_lr_g-1e-4_s1/sweep_evals.json", k);
        snprintf(done2, sizeof done2, "%s/runs/tiny_lr_g-1e-4_s1/sweep_done.json", k);
        killed = kill_at(k, marker, done2);
    }
    CHECK_MSG(killed, "the sweep was never killed in its second run");
    snprintf(tj, sizeof tj, "%s/table.json", k);
    CHECK(!exists(tj));
    /* restarted: the first run skipped, the second resumed from a checkpoint, the same table */
    CHECK_CLI(0, "resuming at step", SWEEP_ARGS(k));
    CHECK(gt_cli_said("[1/4] tiny_lr_g-1e-4_s0: done before, skipped"));
    CHECK(same_file(a, k, "table.json"));
    CHECK(same_file(a, k, "table.csv"));
}

static void test_bad_input(void) {
    char o[700], a[700];
    snprintf(o, sizeof o, "%s", gt_test_path("sweep_bad"));
    snprintf(a, sizeof a, "%s", gt_test_path("sweep_a"));
    CHECK_CLI(2, "grid key 'lr' is not a key", "sweep", "--config", g_cfg, "--grid", "lr=1e-4,2e-4", "--steps", "4",
              "--out", o);
    CHECK(!exists(o));
    CHECK_CLI(2, "model.width", "sweep", "--config", g_cfg, "--grid", "lr_g=1e-4;model.width=4,8", "--steps", "4",
              "--out", o);
    CHECK(!exists(o));
    CHECK_CLI(2, "--seeds: 'x'", "sweep", "--config", g_cfg, "--seeds", "0,x", "--steps", "4", "--out", o);
    CHECK_CLI(2, "--seeds: an empty entry", "sweep", "--config", g_cfg, "--seeds", "0,,1", "--steps", "4", "--out", o);
    CHECK_CLI(2, "--seeds: 1 given twice", "sweep", "--config", g_cfg, "--seeds", "1,1", "--steps", "4", "--out", o);
    CHECK_CLI(2, "is not a number", "sweep", "--config", g_cfg, "--grid", "lr_g=fast", "--steps", "4", "--out", o);
    CHECK_CLI(2, "set by the sweep", "sweep", "--config", g_cfg, "--grid", "seed=1,2", "--steps", "4", "--out", o);
    CHECK_CLI(2, "past --steps", "sweep", "--config", g_cfg, "--budgets", "2,8", "--steps", "4", "--out", o);
    CHECK_CLI(2, "--steps N is required", "sweep", "--config", g_cfg, "--out", o);
    CHECK_CLI(2, "fid only", "sweep", "--config", g_cfg, "--steps", "4", "--metrics", "kid", "--out", o);
    CHECK(!exists(o));
    CHECK_CLI(1, "nope.json", "sweep", "--config", gt_test_path("nope.json"), "--steps", "4", "--out", o);
    CHECK(!exists(o));
    CHECK_CLI(1, "cannot read the training data", "sweep", "--config", g_cfg, "--data", gt_test_path("none.idx"),
              "--steps", "4", "--out", o);
    CHECK_CLI(1, "eval-data: cannot read", "sweep", "--config", g_cfg, "--eval-data", gt_test_path("none.npz"),
              "--steps", "4", "--out", o);
    CHECK(!exists(o));
    /* a restart with other arguments: refused, the sweep untouched */
    size_t n0 = 0, n1 = 0;
    unsigned char *before = slurp(a, "sweep.json", &n0);
    CHECK_CLI(2, "--seeds differs", "sweep", "--config", g_cfg, "--grid", "lr_g=1e-4,3e-4", "--seeds", "0,1,2",
              "--steps", "24", "--budgets", "8,16", "--eval-n", "48", "--out", a);
    CHECK_CLI(2, "--grid differs", "sweep", "--config", g_cfg, "--grid", "lr_g=1e-4,2e-4", "--seeds", "0,1",
              "--steps", "24", "--budgets", "8,16", "--eval-n", "48", "--out", a);
    CHECK_CLI(2, "--budgets differs", "sweep", "--config", g_cfg, "--grid", "lr_g=1e-4,3e-4", "--seeds", "0,1",
              "--steps", "24", "--budgets", "8", "--eval-n", "48", "--out", a);
    unsigned char *after = slurp(a, "sweep.json", &n1);
    CHECK(before && after && n0 == n1 && !memcmp(before, after, n0));
    free(before);
    free(after);
}

int main(void) {
    setup();
    RUN(test_same_twice);
    RUN(test_sigkill_resume);
    RUN(test_bad_input);
    return gt_test_finish();
}
