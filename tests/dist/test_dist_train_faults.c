/* Faults of a data-parallel run (gantry/ddp.h): a rank killed mid-run (SIGKILL, by the test hook
 * GANTRY_TEST_DIE_AT_STEP on rank 1) ends the whole job with a non-zero exit (no hang: a 90 s guard
 * kills it and fails), the output names the rank, and the last checkpoint loads and resumes; a rank
 * whose step fails (GANTRY_TEST_FAIL_AT_STEP) ends the job with "rank R: step S: <message>"; Ctrl-C
 * stops every rank at the same step with a checkpoint; ranks
 * started with different configs are refused at start, naming the rank that differs. */
#include <dirent.h>

#include "dist_util.h"

static char g_idx[700];

#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "16", \
             "--log-every", "1", "--sample-every", "0", "--threads", "1"

static void test_rank_killed(void) {
    char *env[] = {"GANTRY_TEST_DIE_AT_STEP=4", NULL};
    const char *run = gt_test_path("killed");
    int rc = gt_dist_run_env(2, env, "train", "--data", g_idx, "--steps", "40", "--out", run, TINY, "--ckpt-every", "1",
                             NULL);
    CHECK_MSG(rc != 0 && rc != -2, "a killed rank: rc %d (-2: the job hung)\n%s", rc, gt_cli_out);
    CHECK_MSG(strstr(gt_cli_out, "rank 1") != NULL, "the output does not name rank 1:\n%s", gt_cli_out);
    /* the last checkpoint (step 2 or 3: rank 0 may be writing step 3's when the job ends) loads and resumes */
    char last[800];
    snprintf(last, sizeof last, "%s/last.safetensors", run);
    gt_train_config c = gt_test_tiny_config(g_idx, run, 40);
    c.batch = 16, c.n_samples = 16;
    gt_trainer t;
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_OK);
    CHECK_MSG(gt_trainer_load(&t, last) == GT_OK, "%s: %s", last, gt_last_error());
    CHECK_MSG(t.step == 2 || t.step == 3, "the last checkpoint is at step %llu", (unsigned long long)t.step);
    gt_trainer_free(&t);
    CHECK_CLI(0, NULL, "train", "--out", run, "--resume", "--steps", "5", "--quiet");
}

static void test_rank_fails(void) {
    char *env[] = {"GANTRY_TEST_FAIL_AT_STEP=3", NULL};
    int rc = gt_dist_run_env(2, env, "train", "--data", g_idx, "--steps", "40", "--out", gt_test_path("failed"), TINY,
                             "--ckpt-every", "1", NULL);
    CHECK_MSG(rc != 0 && rc != -2, "a failed step: rc %d\n%s", rc, gt_cli_out);
    CHECK_MSG(strstr(gt_cli_out, "rank 1: step 3: GANTRY_TEST_FAIL_AT_STEP") != NULL, "output:\n%s", gt_cli_out);
}

/* Ctrl-C to one rank (mpirun passes it to every rank; here only one gets it, the harder case): the
 * ranks agree on the step to stop at, rank 0 saves the last checkpoint and the job ends (a rank
 * stopping alone would leave the other waiting in its next allreduce: the guard would find the hang). */
static void test_interrupt(void) {
    const char *run = gt_test_path("interrupted");
    char last[800], metrics[800], out[800];
    snprintf(last, sizeof last, "%s/last.safetensors", run);
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", run);
    snprintf(out, sizeof out, "%s/int_out.txt", gt_test_tmpdir());
    char *argv[] = {gt_mpirun, "-np", "2", "--oversubscribe", "--bind-to", "none", gt_cli_bin, "train", "--data", g_idx,
                    "--steps", "1000000", "--out", (char *)run, TINY, "--ckpt-every", "0", NULL};
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2), close(fd);
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1), setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
        setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 0);
        setenv("OMP_NUM_THREADS", "1", 1);
        execv(argv[0], argv);
        _exit(127);
    }
    CHECK(pid > 0);
    if (pid <= 0) return;
    setpgid(pid, pid);
    /* wait until the run has logged a few steps (at most 60 s), then Ctrl-C */
    int ws = 0, rc = -2;
    bool ended = false; /* before the Ctrl-C: a failure to start, reported below */
    for (int ms = 0; ms < 60000 && !ended; ms += 20) {
        size_t n = 0;
        unsigned char *t = gt_test_read_all(metrics, &n);
        int lines = 0;
        for (size_t i = 0; t && i < n; i++) lines += t[i] == '\n';
        free(t);
        if (lines >= 3) break;
        ended = waitpid(pid, &ws, WNOHANG) == pid;
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
    /* Ctrl-C to one rank only (a child of mpirun): the other must follow it */
    pid_t target = 0;
    DIR *proc = opendir("/proc");
    for (struct dirent *e; proc && (e = readdir(proc));) {
        char p[300], buf[512];
        snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(p, "r");
        if (!f) continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = 0;
        char *close_paren = strrchr(buf, ')');
        int ppid = 0;
        if (close_paren && sscanf(close_paren + 2, "%*c %d", &ppid) == 1 && ppid == pid) /* a rank (comm: exe) */
            target = (pid_t)atoi(e->d_name);
    }
    if (proc) closedir(proc);
    CHECK_MSG(ended || target > 0, "no gantry process under mpirun (pid %d)", (int)pid);
    if (!ended) kill(target > 0 ? target : pid, SIGINT);
    for (int ms = 0; ms <= 90000 && !ended; ms += 20) {
        ended = waitpid(pid, &ws, WNOHANG) == pid;
        if (!ended) nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
    if (ended) rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    if (rc == -2) kill(-pid, SIGKILL), waitpid(pid, &ws, 0);
    kill(-pid, SIGKILL);
    size_t n = 0;
    unsigned char *o = gt_test_read_all(out, &n);
    CHECK_MSG(rc != -2 && o && strstr((char *)o, "interrupted at step"), "rc %d (-2: hung)\n%s", rc, o ? (char *)o : "");
    free(o);
    gt_train_config c = gt_test_tiny_config(g_idx, run, 1000000);
    c.batch = 16, c.n_samples = 16;
    gt_trainer t;
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_OK);
    CHECK_MSG(gt_trainer_load(&t, last) == GT_OK, "%s: %s", last, gt_last_error());
    CHECK(t.step >= 2);
    gt_trainer_free(&t);
}

static void test_config_mismatch(void) {
    /* MPMD: rank 0 and rank 1 started with different learning rates */
    char *args[] = {gt_mpirun, "--oversubscribe", "--bind-to", "none",
                    "-np", "1", gt_cli_bin, "train", "--data", g_idx, "--steps", "3", "--out",
                    (char *)gt_test_path("mismatch"), TINY, "--lr", "1e-4", ":",
                    "-np", "1", gt_cli_bin, "train", "--data", g_idx, "--steps", "3", "--out",
                    (char *)gt_test_path("mismatch"), TINY, "--lr", "2e-4", NULL};
    int rc = gt_dist_exec(args, NULL, 90);
    CHECK_MSG(rc != 0 && rc != -2 && strstr(gt_cli_out, "rank 1 has a different training config"), "rc %d\n%s", rc,
              gt_cli_out);
    char p[800];
    snprintf(p, sizeof p, "%s/last.safetensors", gt_test_path("mismatch"));
    CHECK(access(p, F_OK) != 0); /* refused before anything was written */
}

int main(void) {
    if (!gt_dist_ready()) return gt_test_finish();
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("tiny-images-idx3-ubyte"));
    CHECK(gt_test_write_idx(g_idx, 64));
    RUN(test_rank_killed);
    RUN(test_rank_fails);
    RUN(test_interrupt);
    RUN(test_config_mismatch);
    return gt_test_finish();
}
