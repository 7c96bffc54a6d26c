/* gantry prune end to end: a tiny DCGAN trained a few steps, pruned by a keep ratio, by widths and
 * by a budget search; the pruned checkpoint samples with `gantry sample` and holds the pruned
 * weights; bad input exits 1 or 2 with a message. */
#include "cli_util.h"
#include "gantry/prune.h"

#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "16"

static char g_idx[700], g_run[700], g_ckpt[800];

static const char *tp(const char *name) { return gt_test_path(name); }

/* The pruned file loads as a generator of the pruned config, equal to gt_prune of the teacher's
 * EMA generator except for the BN running statistics (recalibrated by the command). */
static void check_pruned(const char *path, const int *w, gt_importance imp) {
    gt_net T, S, P;
    gt_train_config c;
    bool ema = false;
    CHECK(gt_load_generator(g_ckpt, true, &T, NULL, NULL) == GT_OK);
    CHECK(gt_load_generator(path, true, &P, &c, &ema) == GT_OK && ema);
    CHECK(gt_model_opt(&c.model, "gw0") == w[0] && gt_model_opt(&c.model, "gw1") == w[1] &&
          gt_model_opt(&c.model, "gw2") == w[2]);
    CHECK(!strcmp(c.data, g_idx)); /* the teacher's data stays in the config */
    CHECK(gt_prune(&T, w, imp, &S) == GT_OK && gt_params_same_layout(&S.P, &P.P));
    for (int i = 0; i < P.P.n && i < S.P.n; i++) {
        if (P.P.v[i].is_buffer) continue;
        CHECK_MSG(!memcmp(gt_data(P.P.v[i].t), gt_data(S.P.v[i].t), (size_t)gt_numel(S.P.v[i].t) * sizeof(float)),
                  "%s: %s differs from the pruned teacher", path, P.P.v[i].name);
    }
    gt_net_free(&S);
    gt_net_free(&P);
    gt_net_free(&T);
}

static void test_keep_and_sample(void) {
    const char *out = tp("keep.safetensors");
    CHECK_CLI(0, "gw0            32 -> 16", "prune", "--ckpt", g_ckpt, "--keep", "0.5", "--importance", "l1", "--out",
              out);
    CHECK(gt_cli_said("MACs") && gt_cli_said("params") && gt_cli_said("x fewer"));
    const int w[3] = {16, 8, 4};
    check_pruned(out, w, GT_IMPORTANCE_L1);
    CHECK_CLI(0, "samples: 9 images", "sample", "--ckpt", out, "--n", "9", "--out", tp("grid.png"));
    struct stat sb;
    CHECK(stat(tp("grid.png"), &sb) == 0 && sb.st_size > 0);
    CHECK_CLI(0, "gantry", "info", "--ckpt", out);
}

static void test_widths_bn(void) {
    const char *out = tp("widths.safetensors");
    CHECK_CLI(0, "gw1            16 -> 5", "prune", "--ckpt", g_ckpt, "--widths", "gw0=20,gw1=5", "--out", out);
    CHECK(gt_cli_said("importance bn, auto")); /* every dcgan group has a batch norm */
    const int w[3] = {20, 5, 8};
    check_pruned(out, w, GT_IMPORTANCE_BN);
}

static void test_budget(void) {
    const char *out = tp("budget.safetensors");
    CHECK_CLI(0, "rank", "prune", "--ckpt", g_ckpt, "--budget", "0.3", "--search-n", "64", "--search-real", "200",
              "--search-max", "4", "--quiet", "--out", out);
    CHECK(gt_cli_said("4 candidates scored (evolutionary)"));
    gt_net P;
    gt_train_config c;
    CHECK(gt_load_generator(out, true, &P, &c, NULL) == GT_OK);
    int64_t macs = 0, full = 0;
    CHECK(gt_model_cost(&c.model, &macs, NULL) == GT_OK);
    gt_net T;
    CHECK(gt_load_generator(g_ckpt, true, &T, NULL, NULL) == GT_OK);
    CHECK(gt_model_cost(&T.cfg, &full, NULL) == GT_OK);
    CHECK_MSG(macs <= 0.3 * (double)full && macs > 0, "budget run: %lld MACs of %lld", (long long)macs,
              (long long)full);
    gt_net_free(&T);
    gt_net_free(&P);
    /* below every candidate */
    CHECK_CLI(2, "smallest feasible budget", "prune", "--ckpt", g_ckpt, "--budget", "100", "--search-real", "20",
              "--out", out);
}

static void test_bad_input(void) {
    const char *out = tp("bad.safetensors");
    CHECK_CLI(2, "exactly one of", "prune", "--ckpt", g_ckpt, "--out", out);
    CHECK_CLI(2, "exactly one of", "prune", "--ckpt", g_ckpt, "--keep", "0.5", "--widths", "gw0=3", "--out", out);
    CHECK_CLI(2, "--keep must be in (0, 1]", "prune", "--ckpt", g_ckpt, "--keep", "1.5", "--out", out);
    CHECK_CLI(2, "--keep must be in (0, 1]", "prune", "--ckpt", g_ckpt, "--keep", "0", "--out", out);
    CHECK_CLI(2, "unknown group 'gw9'", "prune", "--ckpt", g_ckpt, "--widths", "gw9=3", "--out", out);
    CHECK_CLI(2, "1..32", "prune", "--ckpt", g_ckpt, "--widths", "gw0=33", "--out", out);
    CHECK_CLI(2, "--importance must be l1, bn, first or auto", "prune", "--ckpt", g_ckpt, "--keep", "0.5", "--importance",
              "l2", "--out", out);
    CHECK_CLI(2, "--search-n goes with --budget", "prune", "--ckpt", g_ckpt, "--keep", "0.5", "--search-n", "9",
              "--out", out);
    CHECK_CLI(2, "go together", "prune", "--ckpt", g_ckpt, "--keep", "0.5", "--finetune", "5", "--out", out);
    CHECK_CLI(2, "--out FILE is required", "prune", "--ckpt", g_ckpt, "--keep", "0.5");
    CHECK_CLI(1, "nope.safetensors", "prune", "--ckpt", tp("nope.safetensors"), "--keep", "0.5", "--out", out);
    /* a file that is not a training checkpoint */
    CHECK_CLI(1, "idx", "prune", "--ckpt", g_idx, "--keep", "0.5", "--out", out);
    /* a family without channel groups */
    gt_train_config c = gt_train_config_default();
    c.model = gt_model_config_default("r3gan");
    c.batch = 8;
    gt_trainer t;
    const char *r3 = tp("r3gan.safetensors");
    if (gt_trainer_init(&t, &c, NULL) == GT_OK && gt_trainer_save(&t, r3) == GT_OK)
        CHECK_CLI(1, "model r3gan has no channel groups", "prune", "--ckpt", r3, "--keep", "0.5", "--out", out);
    else
        CHECK_MSG(false, "r3gan checkpoint: %s", gt_last_error());
    gt_trainer_free(&t);
    struct stat sb;
    CHECK(stat(out, &sb) != 0); /* nothing written by a failed run */
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built\n");
        return 1;
    }
    snprintf(g_idx, sizeof g_idx, "%s", tp("tiny.idx"));
    snprintf(g_run, sizeof g_run, "%s", tp("run"));
    snprintf(g_ckpt, sizeof g_ckpt, "%s/last.safetensors", g_run);
    CHECK(gt_test_write_idx(g_idx, 64));
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "3", "--out", g_run, TINY, "--quiet");
    RUN(test_keep_and_sample);
    RUN(test_widths_bn);
    RUN(test_budget);
    RUN(test_bad_input);
    return gt_test_finish();
}
