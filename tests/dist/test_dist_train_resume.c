/* --resume with another number of ranks than the run started with (gantry/ddp.h): the checkpoint
 * holds the global batcher state and the latents' generator, so 3 steps on 2 ranks then 3 more in
 * one process, and 3 steps in one process then 3 more on 2 ranks, both continue as the uninterrupted
 * 6-step run in one process (to 1e-5 of each tensor's largest value; --sync-bn). Step 4 begins a new
 * epoch of the 64 images (batch 16), so the batcher's state crosses the epoch in the resumed part. */
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

static void test_resume_across_rank_counts(void) {
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "6", "--out", gt_test_path("whole"), TINY);
    /* 2 ranks, then 1 process */
    int rc = gt_dist_run(2, "train", "--data", g_idx, "--steps", "3", "--out", gt_test_path("a"), TINY, "--sync-bn",
                         NULL);
    CHECK_MSG(rc == 0, "2 ranks, 3 steps: rc %d\n%s", rc, gt_cli_out);
    CHECK_CLI(0, NULL, "train", "--out", gt_test_path("a"), "--resume", "--steps", "6", "--quiet");
    double w = -1;
    CHECK(gt_dist_ckpt_close(ckpt("whole"), ckpt("a"), 1e-5, &w));
    printf("  3 steps on 2 ranks + 3 in one process vs 6 in one: worst %.2g\n", w);
    /* 1 process, then 2 ranks */
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "3", "--out", gt_test_path("b"), TINY);
    rc = gt_dist_run(2, "train", "--out", gt_test_path("b"), "--resume", "--steps", "6", "--sync-bn", "--quiet", NULL);
    CHECK_MSG(rc == 0, "resume on 2 ranks: rc %d\n%s", rc, gt_cli_out);
    CHECK(gt_dist_ckpt_close(ckpt("whole"), ckpt("b"), 1e-5, &w));
    printf("  3 steps in one process + 3 on 2 ranks vs 6 in one: worst %.2g\n", w);
    /* the metrics of the resumed run are rank 0's only: one line per step */
    char p[800];
    snprintf(p, sizeof p, "%s/metrics.jsonl", gt_test_path("b"));
    size_t n = 0;
    unsigned char *t = gt_test_read_all(p, &n);
    int lines = 0;
    for (size_t i = 0; t && i < n; i++) lines += t[i] == '\n';
    free(t);
    CHECK_MSG(lines == 6, "metrics.jsonl has %d lines, want 6", lines);
}

int main(void) {
    if (!gt_dist_ready()) return gt_test_finish();
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("tiny-images-idx3-ubyte"));
    CHECK(gt_test_write_idx(g_idx, 64));
    RUN(test_resume_across_rank_counts);
    return gt_test_finish();
}
