/* Data-parallel training under `mpirun -np 2` (gantry/ddp.h): K steps on 2 ranks with --sync-bn give
 * the weights (and Adam moments, EMA) of K steps in one process on the same global batch (also 3
 * ranks of 5 images), to 1e-5 of
 * each tensor's largest value (also WGAN-GP, DiffAugment and latent CR, whose per-sample draws are
 * split over the ranks); the gradient buckets started during backward give bit-identically the blocking whole-slab
 * allreduce's result (also with n_critic 2 and a lazy R1, whose several backward
 * calls per D step must start no bucket before the last); per-rank batch norm keeps the ranks'
 * weights identical (--check-sync 1 compares their checksums after every step); a batch not
 * divisible by the ranks and what does not split over ranks are refused with a message. */
#include "dist_util.h"

static char g_idx[700];

#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "16", \
             "--log-every", "1", "--sample-every", "0", "--ckpt-every", "0", "--threads", "1", "--quiet"

static const char *ckpt(const char *run) {
    static char p[4][800];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/last.safetensors", gt_test_path(run));
    return p[k];
}

/* The last metrics line's loss_d of a run folder. */
static double last_loss_d(const char *run) {
    char p[800];
    snprintf(p, sizeof p, "%s/metrics.jsonl", gt_test_path(run));
    size_t n = 0;
    unsigned char *t = gt_test_read_all(p, &n);
    double v = NAN;
    for (char *s = t ? strstr((char *)t, "\"loss_d\":") : NULL; s; s = strstr(s + 1, "\"loss_d\":")) v = atof(s + 9);
    free(t);
    return v;
}

static void test_two_ranks_equal_one_process(void) {
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "4", "--out", gt_test_path("one"), TINY);
    int rc = gt_dist_run(2, "train", "--data", g_idx, "--steps", "4", "--out", gt_test_path("two"), TINY, "--sync-bn",
                         NULL);
    CHECK_MSG(rc == 0, "mpirun -np 2 gantry train --sync-bn: rc %d\n%s", rc, gt_cli_out);
    double w = -1;
    CHECK(gt_dist_ckpt_close(ckpt("one"), ckpt("two"), 1e-5, &w));
    printf("  2 ranks (--sync-bn) vs 1 process after 4 steps: worst tensor differs by %.2g of its largest value\n", w);
    /* the logged losses are the ranks' average: the whole batch's */
    double a = last_loss_d("one"), b = last_loss_d("two");
    CHECK_MSG(fabs(a - b) <= 1e-5 * fabs(a), "loss_d at step 4: %.9g in one process, %.9g on 2 ranks", a, b);
}

/* 3 ranks of 5 images (shards at 0, 5, 10): the same, and the ranks stay identical (--check-sync 1) */
static void test_three_ranks(void) {
#define B15 "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "15", "--n-samples", "16", \
            "--log-every", "1", "--sample-every", "0", "--ckpt-every", "0", "--threads", "1", "--quiet", "--steps", "3"
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--out", gt_test_path("one15"), B15);
    int rc = gt_dist_run(3, "train", "--data", g_idx, "--out", gt_test_path("three"), B15, "--sync-bn", "--check-sync",
                         "1", NULL);
    CHECK_MSG(rc == 0, "mpirun -np 3: rc %d\n%s", rc, gt_cli_out);
    double w = -1;
    CHECK(gt_dist_ckpt_close(ckpt("one15"), ckpt("three"), 1e-5, &w));
    printf("  3 ranks (--sync-bn) vs 1 process, batch 15, 3 steps: worst %.2g\n", w);
#undef B15
}

/* WGAN-GP, DiffAugment, zCR: the penalty's mixing weights, the augmentations' and zCR's per-sample
 * draws are each rank's rows of the whole batch's draws */
static void test_gradient_penalty(void) {
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "3", "--out", gt_test_path("gp1"), TINY, "--loss", "wgan-gp");
    int rc = gt_dist_run(2, "train", "--data", g_idx, "--steps", "3", "--out", gt_test_path("gp2"), TINY, "--loss",
                         "wgan-gp", "--sync-bn", NULL);
    CHECK_MSG(rc == 0, "mpirun -np 2 gantry train --loss wgan-gp: rc %d\n%s", rc, gt_cli_out);
    double w = -1;
    CHECK(gt_dist_ckpt_close(ckpt("gp1"), ckpt("gp2"), 1e-5, &w));
    printf("  wgan-gp, 2 ranks vs 1 process after 3 steps: worst %.2g\n", w);
    /* DiffAugment: each rank's rows of the whole batch's per-sample draws */
#define AUG "--augment", "diffaug:color,translation,cutout"
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "3", "--out", gt_test_path("aug1"), TINY, AUG);
    rc = gt_dist_run(2, "train", "--data", g_idx, "--steps", "3", "--out", gt_test_path("aug2"), TINY, AUG, "--sync-bn",
                     NULL);
    CHECK_MSG(rc == 0, "mpirun -np 2 gantry train --augment diffaug: rc %d\n%s", rc, gt_cli_out);
    /* 1e-4, not 1e-5: the worst tensor is a conv bias just before a batch norm, whose true gradient is
     * 0; Adam divides its rounding-level gradient by its own size, so the two runs' last bits show up
     * at the 1e-5 level after 3 steps (2e-5 in the -O2 sanitized build; docs/mpi.md, exactness) */
    CHECK(gt_dist_ckpt_close(ckpt("aug1"), ckpt("aug2"), 1e-4, &w));
    printf("  diffaug, 2 ranks vs 1 process after 3 steps: worst %.2g\n", w);
#undef AUG
    /* latent CR: the perturbation of each rank's latents is its rows of the whole batch's draw */
#define ZCR "--zcr-dis", "10", "--zcr-gen", "0.5", "--lecam", "0.3" /* and LeCam's EMAs of the whole batch's means */
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "2", "--out", gt_test_path("zcr1"), TINY, ZCR);
    rc = gt_dist_run(2, "train", "--data", g_idx, "--steps", "2", "--out", gt_test_path("zcr2"), TINY, ZCR, "--sync-bn",
                     NULL);
    CHECK_MSG(rc == 0, "mpirun -np 2 gantry train --zcr-dis: rc %d\n%s", rc, gt_cli_out);
    CHECK(gt_dist_ckpt_close(ckpt("zcr1"), ckpt("zcr2"), 1e-5, &w));
    printf("  zcr + lecam, 2 ranks vs 1 process after 2 steps: worst %.2g\n", w);
#undef ZCR
}

static void test_buckets_equal_blocking(void) {
    /* several backward calls per D step (n_critic 2, R1 every 2nd D step, weighted twice) */
#define REG "--n-critic", "2", "--r1", "1", "--reg-every", "2", "--d-norm", "layer", "--steps", "3", "--sync-bn"
    int rc = gt_dist_run(2, "train", "--data", g_idx, "--out", gt_test_path("blocking"), TINY, REG, "--bucket-mb", "0",
                         NULL);
    CHECK_MSG(rc == 0, "blocking: rc %d\n%s", rc, gt_cli_out);
    rc = gt_dist_run(2, "train", "--data", g_idx, "--out", gt_test_path("buckets"), TINY, REG, "--bucket-mb", "0.002",
                     NULL);
    CHECK_MSG(rc == 0, "buckets: rc %d\n%s", rc, gt_cli_out);
    /* exact: both sum the same two float gradients per element (a + b is commutative) and scale by 1/2 */
    CHECK(gt_dist_ckpt_close(ckpt("blocking"), ckpt("buckets"), 0, NULL));
#undef REG
}

static void test_per_rank_bn_identical_ranks(void) {
    int rc = gt_dist_run(2, "train", "--data", g_idx, "--steps", "5", "--out", gt_test_path("perrank"), TINY,
                         "--check-sync", "1", NULL);
    CHECK_MSG(rc == 0, "per-rank batch norm with --check-sync 1: rc %d\n%s", rc, gt_cli_out);
    CHECK(access(ckpt("perrank"), R_OK) == 0);
    /* per-rank statistics are not the whole batch's: not the one-process run (the test can tell) */
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "5", "--out", gt_test_path("perrank1"), TINY);
    double w = 0;
    gt_dist_ckpt_close(ckpt("perrank1"), ckpt("perrank"), 1e30, &w); /* only the difference */
    CHECK_MSG(w > 1e-4, "per-rank batch norm gave the one-process weights (worst %.2g)", w);
}

static void test_refusals(void) {
    int rc = gt_dist_run(2, "train", "--data", g_idx, "--steps", "2", "--out", gt_test_path("odd"), "--res", "28",
                         "--batch", "15", "--threads", "1", NULL);
    CHECK_MSG(rc != 0 && strstr(gt_cli_out, "batch 15 is not divisible by the 2 ranks"), "rc %d\n%s", rc, gt_cli_out);
    CHECK(access(ckpt("odd"), F_OK) != 0);
    rc = gt_dist_run(2, "train", "--data", g_idx, "--steps", "2", "--out", gt_test_path("ada"), TINY, "--augment",
                     "ada", NULL);
    CHECK_MSG(rc != 0 && strstr(gt_cli_out, "ADA (--augment ada) does not run data-parallel"), "rc %d\n%s", rc,
              gt_cli_out);
    rc = gt_dist_run(2, "train", "--data", g_idx, "--steps", "2", "--out", gt_test_path("r1bn"), TINY, "--r1", "1",
                     "--sync-bn", "--d-norm", "batch", NULL);
    CHECK_MSG(rc != 0 && strstr(gt_cli_out, "--sync-bn with r1"), "rc %d\n%s", rc, gt_cli_out);
}

int main(void) {
    if (!gt_dist_ready()) return gt_test_finish();
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("tiny-images-idx3-ubyte"));
    CHECK(gt_test_write_idx(g_idx, 64));
    RUN(test_two_ranks_equal_one_process);
    RUN(test_three_ranks);
    RUN(test_gradient_penalty);
    RUN(test_buckets_equal_blocking);
    RUN(test_per_rank_bn_identical_ranks);
    RUN(test_refusals);
    return gt_test_finish();
}
