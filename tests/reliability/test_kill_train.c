/* `gantry train` killed with SIGKILL at 50 moments (a fixed seed picks them), each time resumed with
 * --resume: every resume starts at the step of the run's last checkpoint (the newest complete one,
 * so at most the steps since it are lost), the checkpoint always loads, its step never goes back,
 * the run folder holds no temporary file once a resumed run has finished, and the finished run's
 * tensors (weights, EMA, Adam moments, BN buffers, RNG and batcher states) are bit for bit those
 * of a run that was never killed. Bit-exact by construction: the run is deterministic for a seed
 * and a thread count (OMP_NUM_THREADS=2 here for both), and a resume restores every state. */
#include "kill_util.h"

#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "16"
#define STEPS "120"
#define KILLS 50

static char g_idx[700];

static const char *tp(const char *name) { return gt_test_path(name); }

/* The step in "resuming from step N" of the last output, or -1. */
static long long resumed_from(const char *path) {
    size_t n = 0;
    char *b = gt_kill_text(path, &n);
    const char *s = b ? strstr(b, "resuming from step ") : NULL;
    long long v = -1;
    if (s) sscanf(s + 19, "%lld", &v);
    free(b);
    return v;
}

/* A finished run: it loads, holds no temporary file, and equals the reference. */
static void check_finished(const char *run, const char *ref_last, int chain) {
    char last[900], first[4096] = "", what[256];
    snprintf(last, sizeof last, "%s/last.safetensors", run);
    CHECK_MSG(gt_kill_ckpt_step(last) == 120, "chain %d: the finished run's step is %lld", chain,
              gt_kill_ckpt_step(last));
    int temps = gt_kill_temps(run, first, sizeof first, 1);
    CHECK_MSG(temps == 0, "chain %d: %d temporary file(s) left after the resumed run, e.g. %s", chain, temps, first);
    CHECK_MSG(gt_kill_same_tensors(last, ref_last, what, sizeof what),
              "chain %d: the killed-and-resumed run differs from the unkilled one in %s", chain, what);
    gt_net G;
    gt_train_config c;
    CHECK_MSG(gt_load_generator(last, true, &G, &c, NULL) == GT_OK, "chain %d: %s", chain, gt_last_error());
    gt_net_free(&G);
}

static void test_kill_resume(void) {
    char ref[800], ref_last[900];
    snprintf(ref, sizeof ref, "%s", tp("ref"));
    snprintf(ref_last, sizeof ref_last, "%s/last.safetensors", ref);
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", STEPS, "--out", ref, TINY, "--ckpt-every", "3",
              "--keep-ckpts", "1", "--sample-every", "10", "--log-every", "5", "--seed", "5", "--quiet");
    int kills = 0, chains = 0, resumes = 0, finished = 0;
    double t0 = gt_kill_now();
    char run[800], last[900], out[900];
    snprintf(out, sizeof out, "%s", tp("out.txt"));
    bool fresh = true;
    long long at = -1; /* the last checkpoint's step before the next start */
    while (kills < KILLS || !fresh) {
        if (fresh) {
            snprintf(run, sizeof run, "%s/chain%02d", gt_test_tmpdir(), chains++);
            snprintf(last, sizeof last, "%s/last.safetensors", run);
        }
        char *first[] = {"train", "--data", g_idx, "--steps", STEPS, "--out", run, TINY, "--ckpt-every", "3",
                         "--keep-ckpts", "1", "--sample-every", "10", "--log-every", "5", "--seed", "5", NULL};
        char *again[] = {"train", "--out", run, "--resume", NULL};
        /* no checkpoint yet (killed before the first one): the run starts again from scratch */
        bool resume = !fresh && access(last, F_OK) == 0;
        pid_t pid = gt_kill_spawn(out, resume ? again : first);
        bool kill_it = kills < KILLS;
        if (kill_it) {
            gt_kill_sleep_ms(gt_kill_ms(20, 1200));
            kill(pid, SIGKILL);
        }
        int rc = gt_cli_wait(pid);
        CHECK_MSG(rc == 0 || (kill_it && rc == 128 + SIGKILL), "trial %d: rc %d", kills, rc);
        if (resume) {
            resumes++;
            long long from = resumed_from(out);
            /* killed before it said so: nothing to check in the output, the checkpoint below still is */
            if (from >= 0) {
                CHECK_MSG(from == at, "trial %d: resumed from step %lld, the last checkpoint was at %lld", kills,
                          from, at);
            }
        }
        if (kill_it && rc != 0) kills++;
        long long now = gt_kill_ckpt_step(last);
        if (access(last, F_OK) == 0) {
            CHECK_MSG(now >= 0, "trial %d: %s does not load", kills, last);
            CHECK_MSG(now >= at, "trial %d: the checkpoint went back from step %lld to %lld", kills, at, now);
        }
        /* what a resume now starts from: last, or the newest checkpoints/step_N if it is newer
         * (killed between saving that and pointing last at it) */
        at = now;
        char dir[900];
        snprintf(dir, sizeof dir, "%s/checkpoints", run);
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            long long v;
            char tail[32];
            if (sscanf(e->d_name, "step_%lld.%31s", &v, tail) == 2 && !strcmp(tail, "safetensors") && v > at) {
                char p[4096];
                if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
                if (gt_kill_ckpt_step(p) == v) at = v;
            }
        }
        if (d) closedir(d);
        if (rc == 0) {
            check_finished(run, ref_last, chains - 1);
            finished++;
            fresh = true;
            at = -1;
        } else {
            fresh = false;
        }
    }
    printf("%d kills over %d chains (%d resumes, %d finished runs compared) in %.1f s\n", kills, chains, resumes,
           finished, gt_kill_now() - t0);
    CHECK(kills == KILLS && finished >= 1 && resumes >= 10);
}

/* The two states a kill leaves that the random moments hit only now and then, made by hand:
 * killed between saving checkpoints/step_6 and pointing last at it (last still step 3), and
 * temporary files of writers that are gone. --resume starts from step 6 and removes them. */
static void test_recover_by_hand(void) {
    char run[800], p[1000], q[1000];
    snprintf(run, sizeof run, "%s", tp("byhand"));
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "6", "--out", run, TINY, "--ckpt-every", "3",
              "--keep-ckpts", "2", "--sample-every", "0", "--seed", "5", "--quiet");
    snprintf(p, sizeof p, "%s/checkpoints/step_000003.safetensors", run);
    snprintf(q, sizeof q, "%s/last.safetensors", run);
    size_t n = 0;
    unsigned char *b = gt_test_read_all(p, &n);
    CHECK(b && unlink(q) == 0 && gt_test_write_all(q, b, n));
    free(b);
    CHECK(gt_kill_ckpt_step(q) == 3);
    pid_t dead = fork(); /* a pid that is surely gone: a child already reaped */
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    const char *names[] = {"%s/.last.safetensors.link.%d", "%s/.metrics.jsonl.tmp.%d.Ab12Cd",
                           "%s/checkpoints/.step_000009.safetensors.tmp.%d.x1y2z3", "%s/samples/.last.png.tmp.%d.q"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, names[i], run, (int)dead);
        CHECK(gt_test_write_all(p, "partial", 7));
    }
    CHECK_CLI(0, "resuming from step 6", "train", "--out", run, "--resume", "--steps", "9");
    CHECK(gt_cli_said("removed 4 temporary file(s)") && gt_cli_said("points at checkpoints/step_000006"));
    char first[4096] = "";
    CHECK_MSG(gt_kill_temps(run, first, sizeof first, 1) == 0, "left: %s", first);
    CHECK(gt_kill_ckpt_step(q) == 9);
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built (looked for %s)\n", gt_cli_bin);
        return 1;
    }
    snprintf(g_idx, sizeof g_idx, "%s", tp("blobs-images-idx3-ubyte"));
    if (!gt_test_write_idx(g_idx, 64)) return 1;
    RUN(test_recover_by_hand);
    RUN(test_kill_resume);
    return gt_test_finish();
}
