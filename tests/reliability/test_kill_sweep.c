/* `gantry sweep` (2 grid points x 2 seeds, 24 steps, FID at 8, 16, 24) killed with SIGKILL at 50
 * moments (a fixed seed picks them) and each time started again with the same command, its
 * resume: a run finished before the kill (sweep_done.json) is skipped, not trained again, and its
 * record is left as it was; the interrupted run resumes at its last checkpoint's step; every
 * checkpoint loads; once the sweep finishes, no temporary file is left and table.json (mean and
 * std of the FIDs) is byte for byte the uninterrupted sweep's (the runs are deterministic for a
 * seed and a thread count, and a resumed run restores every state). */
#include "kill_util.h"

#define KILLS 50

static char g_idx[700], g_cfg[700];

#define SWEEP_ARGS(out)                                                                                             \
    "sweep", "--config", g_cfg, "--grid", "lr_g=1e-4,3e-4", "--seeds", "0,1", "--steps", "24", "--budgets", "8,16", \
        "--eval-n", "48", "--out", (out)

static const char *g_names[4] = {"tiny_lr_g-1e-4_s0", "tiny_lr_g-1e-4_s1", "tiny_lr_g-3e-4_s0", "tiny_lr_g-3e-4_s1"};

static unsigned char *slurp(const char *dir, const char *name, size_t *n) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p) return NULL;
    return (unsigned char *)gt_kill_text(p, n);
}

static bool same_file(const char *a, const char *b, const char *name) {
    size_t na = 0, nb = 0;
    unsigned char *x = slurp(a, name, &na), *y = slurp(b, name, &nb);
    bool same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* What a restart must do for run k: its sweep_done.json before (malloc'd, NULL: not done) and the
 * step it resumes at (-1: not started). */
typedef struct {
    char *done;
    size_t done_n;
    long long at;
} run_state;

static void state_of(const char *sweep, run_state st[4]) {
    for (int k = 0; k < 4; k++) {
        char dir[1200], p[1300];
        snprintf(dir, sizeof dir, "%s/runs/%s", sweep, g_names[k]);
        st[k].done = (char *)slurp(dir, "sweep_done.json", &st[k].done_n);
        snprintf(p, sizeof p, "%s/last.safetensors", dir);
        st[k].at = gt_kill_ckpt_step(p);
        /* killed between saving checkpoints/step_N and pointing last at it: the resume takes step_N */
        char cdir[1300];
        snprintf(cdir, sizeof cdir, "%s/checkpoints", dir);
        DIR *d = opendir(cdir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            long long v;
            char tail[32];
            if (sscanf(e->d_name, "step_%lld.%31s", &v, tail) == 2 && !strcmp(tail, "safetensors") && v > st[k].at) {
                char q[4096];
                if (snprintf(q, sizeof q, "%s/%s", cdir, e->d_name) >= (int)sizeof q) continue;
                if (gt_kill_ckpt_step(q) == v) st[k].at = v;
            }
        }
        if (d) closedir(d);
    }
}

static void check_restart(const char *sweep, const run_state st[4], const char *out_path, int trial) {
    size_t n = 0;
    char *out = gt_kill_text(out_path, &n);
    for (int k = 0; k < 4 && out; k++) {
        char line[200];
        if (st[k].done) {
            /* skipped, its record untouched */
            char dir[1200];
            snprintf(dir, sizeof dir, "%s/runs/%s", sweep, g_names[k]);
            size_t m = 0;
            char *now = (char *)slurp(dir, "sweep_done.json", &m);
            CHECK_MSG(now && m == st[k].done_n && !memcmp(now, st[k].done, m), "trial %d: %s's record changed", trial,
                      g_names[k]);
            free(now);
            snprintf(line, sizeof line, "%s: resuming", g_names[k]);
            CHECK_MSG(!strstr(out, line), "trial %d: finished run %s was trained again", trial, g_names[k]);
            snprintf(line, sizeof line, "] %s\n", g_names[k]);
            CHECK_MSG(!strstr(out, line), "trial %d: finished run %s was started again", trial, g_names[k]);
        } else if (st[k].at > 0) {
            snprintf(line, sizeof line, "%s: resuming at step ", g_names[k]);
            const char *s = strstr(out, line);
            long long from = -1;
            if (s) sscanf(s + strlen(line), "%lld", &from);
            /* not printed when the kill came before it: nothing to check */
            if (s) {
                CHECK_MSG(from == st[k].at, "trial %d: %s resumed at step %lld, its last checkpoint was at %lld", trial,
                          g_names[k], from, st[k].at);
            }
        }
    }
    free(out);
}

static void test_kill_sweep(void) {
    char ref[800];
    snprintf(ref, sizeof ref, "%s", gt_test_path("ref"));
    CHECK_CLI(0, "done in", SWEEP_ARGS(ref));
    int kills = 0, chains = 0, restarts = 0, finished = 0;
    double t0 = gt_kill_now();
    char sweep[800], out[900];
    snprintf(out, sizeof out, "%s", gt_test_path("out.txt"));
    bool fresh = true;
    while (kills < KILLS || !fresh) {
        if (fresh) snprintf(sweep, sizeof sweep, "%s/chain%02d", gt_test_tmpdir(), chains++);
        run_state st[4] = {0};
        if (!fresh) state_of(sweep, st);
        char *args[] = {SWEEP_ARGS(sweep), NULL};
        pid_t pid = gt_kill_spawn(out, args);
        bool kill_it = kills < KILLS;
        if (kill_it) {
            gt_kill_sleep_ms(gt_kill_ms(20, 1500));
            kill(pid, SIGKILL);
        }
        int rc = gt_cli_wait(pid);
        CHECK_MSG(rc == 0 || (kill_it && rc == 128 + SIGKILL), "trial %d: rc %d", kills, rc);
        if (!fresh) {
            restarts++;
            check_restart(sweep, st, out, kills);
        }
        if (kill_it && rc != 0) kills++;
        for (int k = 0; k < 4; k++) {
            char p[1300];
            snprintf(p, sizeof p, "%s/runs/%s/last.safetensors", sweep, g_names[k]);
            CHECK_MSG(access(p, F_OK) != 0 || gt_kill_ckpt_step(p) >= 0, "trial %d: %s does not load", kills, p);
            free(st[k].done);
        }
        if (rc == 0) {
            char first[4096] = "";
            int temps = gt_kill_temps(sweep, first, sizeof first, 3);
            CHECK_MSG(temps == 0, "chain %d: %d temporary file(s) left, e.g. %s", chains - 1, temps, first);
            CHECK_MSG(same_file(sweep, ref, "table.json"), "chain %d: table.json differs from the unkilled sweep's",
                      chains - 1);
            finished++;
            fresh = true;
        } else {
            fresh = false;
        }
    }
    printf("%d kills over %d sweeps (%d restarts, %d finished sweeps compared) in %.1f s\n", kills, chains, restarts,
           finished, gt_kill_now() - t0);
    CHECK(kills == KILLS && finished >= 1 && restarts >= 10);
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built (looked for %s)\n", gt_cli_bin);
        return 1;
    }
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("tiny.idx"));
    if (!gt_test_write_idx(g_idx, 48)) return 1;
    snprintf(g_cfg, sizeof g_cfg, "%s", gt_test_path("tiny.json"));
    FILE *f = fopen(g_cfg, "w");
    if (!f) return 1;
    fprintf(f,
            "{\"model\": {\"name\": \"dcgan\", \"res\": 28, \"channels\": 1, \"nz\": 8, \"ngf\": 8, \"ndf\": 8},\n"
            " \"data\": \"%s\", \"batch\": 8, \"lr_g\": 0.0002, \"lr_d\": 0.0002, \"loss\": \"ns\", \"ema\": 0.9,\n"
            " \"sample_every\": 0, \"log_every\": 5, \"ckpt_every\": 3, \"keep_ckpts\": 2, \"n_samples\": 4}\n",
            g_idx);
    fclose(f);
    RUN(test_kill_sweep);
    return gt_test_finish();
}
