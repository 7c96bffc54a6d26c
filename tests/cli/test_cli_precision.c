/* gantry train --precision: anything but fp32 or bf16 is a usage error (exit 2) that writes
 * nothing; a bf16 run records "precision": "bf16" in config.json and in its checkpoint's config, and
 * samples from it (gantry sample, fp32); a resume may switch to fp32 (weights are float either way),
 * and the run's config then says so (no "precision" key: the default); a --config file's
 * "precision" is read, and a bad one refused (exit 1, as any bad config file). */
#include "cli_util.h"
#include "gantry/train.h"

static char g_idx[700];

static const char *tp(const char *name) { return gt_test_path(name); }

#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "4", "--quiet"

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* The run's config.json mentions needle (or, with want false, does not). */
static bool config_has(const char *run, const char *needle) {
    char p[800];
    snprintf(p, sizeof p, "%s/config.json", run);
    size_t n = 0;
    unsigned char *b = gt_test_read_all(p, &n);
    bool has = b && strstr((char *)b, needle);
    free(b);
    return has;
}

static void test_precision(void) {
    CHECK_CLI(2, "--precision must be fp32 or bf16, got 'fp16'", "train", "--data", g_idx, "--steps", "2", "--out",
              tp("bad"), "--precision", "fp16", TINY);
    CHECK(!exists(tp("bad")));
    CHECK_CLI(2, "--precision", "train", "--data", g_idx, "--steps", "2", "--out", tp("bad"), "--precision", "", TINY);
    CHECK_CLI(0, "--precision P", "train", "--help");

    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "2", "--out", tp("run"), "--precision", "bf16", TINY);
    CHECK(config_has(tp("run"), "\"precision\":\t\"bf16\""));
    char last[800], grid[800];
    snprintf(last, sizeof last, "%s/last.safetensors", tp("run"));
    snprintf(grid, sizeof grid, "%s/s.png", tp("run"));
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_load(&s, last) == GT_OK && gt_st_get_meta(&s, "config") &&
          strstr(gt_st_get_meta(&s, "config"), "\"precision\":\t\"bf16\""));
    gt_st_free(&s);
    CHECK_CLI(0, NULL, "sample", "--ckpt", last, "--n", "4", "--out", grid);
    CHECK(exists(grid));
    /* resume in fp32 */
    CHECK_CLI(0, NULL, "train", "--out", tp("run"), "--resume", "--steps", "3", "--precision", "fp32", "--quiet");
    CHECK(!config_has(tp("run"), "precision"));
    /* a config file's key */
    char cfg[800];
    snprintf(cfg, sizeof cfg, "%s/config.json", tp("cfgrun"));
    gt_train_config c = gt_train_config_default();
    CHECK(gt_train_config_from_json(&c, "{\"precision\": \"bf16\"}", "t") == GT_OK && c.precision == GT_PREC_BF16);
    const char *js = "{\"precision\": \"half\"}";
    mkdir(tp("cfgrun"), 0755);
    CHECK(gt_test_write_all(cfg, js, strlen(js)));
    CHECK_CLI(1, "field 'precision'", "train", "--config", cfg, "--data", g_idx, "--steps", "1", "--out", tp("cfgout"), TINY);
    CHECK(!exists(tp("cfgout")));
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built (looked for %s)\n", gt_cli_bin);
        return 1;
    }
    snprintf(g_idx, sizeof g_idx, "%s/tiny-images-idx3-ubyte", gt_test_tmpdir());
    if (!gt_test_write_idx(g_idx, 48)) return 1;
    RUN(test_precision);
    return gt_test_finish();
}
