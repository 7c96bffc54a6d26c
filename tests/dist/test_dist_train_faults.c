/* Faults of a data-parallel run (gantry/ddp.h): a rank killed mid-run (SIGKILL, by the test hook
 * GANTRY_TEST_DIE_AT_STEP on rank 1) ends the whole job with a non-zero exit (no hang: a 90 s guard
 * kills it and fails), the output names the rank, and the last checkpoint loads and resumes; a rank
 * whose step fails (GANTRY_TEST_FAIL_AT_STEP) ends the job with "rank R: step S: <message>"; ranks
 * started with different configs are refused at start, naming the rank that differs. */
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
    RUN(test_config_mismatch);
    return gt_test_finish();
}
