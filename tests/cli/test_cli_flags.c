/* The gantry program on bad command lines: every mistake gets a message that
 * names the flag (or the file) and exit 2 (usage) or 1 (failure), never a
 * crash. */
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli_util.h"
#include "gantry/models.h"
#include "gantry/train.h"

static void test_dispatch(void) {
    CHECK_CLI(2, "usage: gantry <command>", NULL);
    CHECK_CLI(2, "unknown command 'trian'", "trian");
    CHECK_CLI(0, "commands:", "--help");
    CHECK_CLI(0, "gantry 0.", "version");
    CHECK_CLI(0, "--lr-g", "train", "--help");
    CHECK_CLI(0, "--truncation", "sample", "--help");
    CHECK_CLI(0, "--ckpt", "info", "--help");
    /* eval: implemented by the metrics helper, or a clear message */
    int rc = gt_cli_run("eval", "--bogus-flag", NULL);
    CHECK_MSG(rc == 1 || rc == 2, "eval rc %d: %s", rc, gt_cli_out);
}

static void test_train_flags(void) {
    CHECK_CLI(2, "unknown flag '--stepz'", "train", "--stepz", "5");
    CHECK_CLI(2, "--steps needs a value", "train", "--data", "fashion-mnist", "--out", "x", "--steps");
    CHECK_CLI(2, "--steps must be an integer, got 'abc'", "train", "--steps", "abc");
    CHECK_CLI(2, "--steps must be an integer, got '2.5'", "train", "--steps", "2.5");
    CHECK_CLI(2, "--steps must be in 0..", "train", "--steps", "-1");
    CHECK_CLI(2, "--batch must be in 1..65536, got 0", "train", "--batch", "0");
    CHECK_CLI(2, "--batch must be in", "train", "--batch", "1e9");
    CHECK_CLI(2, "--lr-g must be in (0, 10], got 0", "train", "--lr-g", "0");
    CHECK_CLI(2, "--lr-d must be in (0, 10]", "train", "--lr-d=-2e-4");
    CHECK_CLI(2, "--lr must be a number, got 'nan'", "train", "--lr", "nan");
    CHECK_CLI(2, "--lr must be a number, got 'inf'", "train", "--lr", "inf");
    CHECK_CLI(2, "--ema must be in [0, 0.99999], got 1.5", "train", "--ema", "1.5");
    CHECK_CLI(2, "--seed must be a non-negative integer, got '-3'", "train", "--seed", "-3");
    CHECK_CLI(2, "--n-critic must be in 1..64", "train", "--n-critic", "0");
    CHECK_CLI(2, "--res must be in 28..64", "train", "--res", "4096");
    CHECK_CLI(2, "--ngf must be in 1..1024", "train", "--ngf", "100000");
    CHECK_CLI(2, "--resume takes no value", "train", "--resume=yes");
    CHECK_CLI(2, "--batch given twice", "train", "--batch", "8", "--batch", "9");
    CHECK_CLI(2, "unexpected argument 'extra'", "train", "extra");
    CHECK_CLI(2, "--out DIR is required", "train", "--data", "fashion-mnist", "--steps", "5");
    CHECK_CLI(2, "--data SPEC is required", "train", "--steps", "5", "--out", "/tmp/none");
    CHECK_CLI(2, "--steps N is required", "train", "--data", "fashion-mnist", "--out", "/tmp/none");
    /* values the model rejects: resolution 48 is in range but not a DCGAN size */
    CHECK_CLI(2, "resolution 48", "train", "--data", "fashion-mnist", "--steps", "5", "--out", "/tmp/none", "--res",
              "48");
    CHECK_CLI(2, "--loss must be one of ns, hinge, wgan, wgan-gp, minimax, ls, rpgan, ebgan, began, got 'l2'", "train", "--data", "fashion-mnist", "--steps",
              "5", "--out", "/tmp/none", "--loss", "l2");
    CHECK_CLI(2, "unknown model 'stylegan'", "train", "--data", "fashion-mnist", "--steps", "5", "--out", "/tmp/none",
              "--model", "stylegan");
    CHECK_CLI(2, "--lr sets both", "train", "--data", "fashion-mnist", "--steps", "5", "--out", "/tmp/none", "--lr",
              "1e-4", "--lr-g", "1e-4");
    /* resume without a run */
    CHECK_CLI(1, "no checkpoint to resume", "train", "--out", "/tmp/gantry-no-such-run", "--resume");
}

static void test_missing_data(void) {
    char out[700];
    snprintf(out, sizeof out, "%s/run_missing", gt_test_tmpdir());
    CHECK_CLI(1, "/nonexistent/dir/foo-images-idx3-ubyte", "train", "--data", "/nonexistent/dir/foo-images-idx3-ubyte",
              "--steps", "5", "--out", out);
    /* Fashion-MNIST looked for where the environment says: names the Debian package */
    setenv("GANTRY_FASHION_MNIST_DIR", "/nonexistent/fmnist", 1);
    CHECK_CLI(1, "dataset-fashion-mnist", "train", "--data", "fashion-mnist", "--steps", "5", "--out", out);
    unsetenv("GANTRY_FASHION_MNIST_DIR");
    /* a corrupt IDX file is named */
    char bad[700];
    snprintf(bad, sizeof bad, "%s/broken-images-idx3-ubyte", gt_test_tmpdir());
    CHECK(gt_test_write_all(bad, "\x00\x00\x08\x03\x00\x00\x00\x05garbage", 15));
    CHECK_CLI(1, "broken-images-idx3-ubyte", "train", "--data", bad, "--steps", "5", "--out", out);
    /* an empty folder has no images */
    char empty[700];
    snprintf(empty, sizeof empty, "%s/empty_dir", gt_test_tmpdir());
    mkdir(empty, 0777);
    CHECK_CLI(1, "empty_dir", "train", "--data", empty, "--steps", "5", "--out", out, "--channels", "3");
}

static void test_sample_info_flags(void) {
    CHECK_CLI(2, "--ckpt FILE is required", "sample", "--out", "x.png");
    CHECK_CLI(2, "give --out FILE.png", "sample", "--ckpt", "x.safetensors");
    CHECK_CLI(2, "not both", "sample", "--ckpt", "x", "--out", "a.png", "--outdir", "d");
    CHECK_CLI(2, "--n must be in 1..4096, got 0", "sample", "--ckpt", "x", "--n", "0");
    CHECK_CLI(2, "--truncation must be 0 (off) or >= 0.05", "sample", "--ckpt", "x", "--out", "a.png",
              "--truncation", "0.01");
    CHECK_CLI(2, "--truncation must be in [0, 100], got -1", "sample", "--truncation", "-1");
    CHECK_CLI(2, "--interp must be two seeds A,B", "sample", "--ckpt", "x", "--out", "a.png", "--interp", "3");
    CHECK_CLI(2, "--interp must be two seeds A,B", "sample", "--ckpt", "x", "--out", "a.png", "--interp", "3,x");
    CHECK_CLI(1, "/nonexistent/ck.safetensors", "sample", "--ckpt", "/nonexistent/ck.safetensors", "--out", "a.png");
    CHECK_CLI(2, "--scale must be in 1..16, got 0", "sample", "--scale", "0");
    CHECK_CLI(2, "--ckpt FILE is required", "info");
    CHECK_CLI(2, "unknown flag '--n'", "info", "--n", "3");
    CHECK_CLI(1, "/nonexistent/ck.safetensors", "info", "--ckpt", "/nonexistent/ck.safetensors");
}

/* The loss table: every loss has its row (name, summary, D and G functions) and its name parses back;
 * --list-losses and --list-models print every row, with no other flag needed. */
static void test_lists(void) {
    CHECK_CLI(0, "wgan-gp", "train", "--list-losses");
    for (int k = 0; k < GT_LOSS_COUNT; k++) {
        const gt_loss_def *d = gt_loss_def_get((gt_loss_kind)k);
        CHECK(d && d->name && d->summary && ((d->d_part && d->g) || (d->d_pair && d->g_pair)) &&
              gt_loss_parse(d->name, NULL) == k);
        CHECK_MSG(d && gt_cli_said(d->name) && gt_cli_said(d->summary), "--list-losses lacks loss %d", k);
    }
    CHECK(gt_loss_def_get(GT_LOSS_COUNT) == NULL);
    CHECK_CLI(0, "dcgan", "train", "--list-models");
    for (int i = 0; gt_model_at(i); i++) CHECK(gt_cli_said(gt_model_at(i)->name) && gt_cli_said(gt_model_at(i)->summary));
    CHECK(gt_model_at(0) != NULL && gt_model_at(-1) == NULL);
}

/* A path in this test's folder holding text. */
static const char *write_text(const char *name, const char *text) {
    const char *p = gt_test_path(name);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f) fputs(text, f), fclose(f);
    return p;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* --config: a config file, the flags given override it; unknown keys, wrong types and options the
 * family lacks are refused with a message naming the key and what is allowed, and nothing is written. */
static void test_config_files(void) {
    char out[700];
    snprintf(out, sizeof out, "%s/run_cfg", gt_test_tmpdir());
    const char *bad[][2] = {
        {"{\"stpes\": 3}", "unknown key 'stpes'"},
        {"{\"model\": {\"name\": \"dcgan\", \"widht\": 3}}", "no option 'widht' (its options: ngf, ndf, gw0, gw1, gw2, gw3, d_norm)"},
        {"{\"model\": {\"name\": \"dcgan\", \"ngf\": \"wide\"}}", "model.ngf must be a number, got 'wide'"},
        {"{\"model\": {\"name\": \"dcgan\", \"ngf\": 0}}", "model.ngf must be an integer in 1..1024, got 0"},
        {"{\"model\": {\"name\": \"dcgan\", \"d_norm\": \"group\"}}", "must be one of default, batch, layer, none"},
        {"{\"model\": {\"name\": \"nosuchgan\"}}", "unknown model 'nosuchgan'"},
        {"{\"batch\": \"64\"}", "field 'batch'"},
        {"{\"model\": {\"name\": \"dcgan\", \"n_classes\": 10}, \"data\": \"fashion-mnist\", \"steps\": 2}",
         "dcgan is unconditional"},
        {"[1, 2]", "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *cfg = write_text("bad.json", bad[i][0]);
        int rc = gt_cli_run("train", "--config", cfg, "--out", out, NULL);
        CHECK_MSG(rc == 1 || rc == 2, "config %s: rc %d", bad[i][0], rc);
        CHECK_MSG(gt_cli_said(bad[i][1]), "config %s: expected '%s', got: %s", bad[i][0], bad[i][1], gt_cli_out);
        CHECK_MSG(!exists(out), "config %s: the run folder was made", bad[i][0]);
    }
    CHECK_CLI(2, "--config does not go with --resume", "train", "--config", write_text("ok.json", "{}"), "--out", out,
              "--resume");
    CHECK_CLI(2, "--model-opts: model dcgan has no option 'foo'", "train", "--data", "fashion-mnist", "--steps", "2",
              "--out", out, "--model-opts", "foo=1");
    CHECK_CLI(2, "--model-opts: model options are KEY=VALUE", "train", "--data", "fashion-mnist", "--steps", "2",
              "--out", out, "--model-opts", "ngf");
    CHECK(!exists(out));
    /* every shipped config is valid as it is (the families, their options, the losses) */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/configs", GT_SOURCE_DIR);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json")) continue;
        char path[900], *text = NULL;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t sz = 0;
        CHECK(gt_read_file(path, (void **)&text, &sz, 1 << 20) == GT_OK);
        gt_train_config c = gt_train_config_default();
        CHECK_MSG(text && gt_train_config_from_json(&c, text, path) == GT_OK && gt_train_config_check(&c) == GT_OK,
                  "%s: %s", e->d_name, gt_last_error());
        free(text);
        n++;
    }
    if (d) closedir(d);
    CHECK_MSG(n >= 1, "no configs in %s", dir);
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built (looked for %s)\n", gt_cli_bin);
        return 1;
    }
    RUN(test_dispatch);
    RUN(test_train_flags);
    RUN(test_missing_data);
    RUN(test_sample_info_flags);
    RUN(test_lists);
    RUN(test_config_files);
    int rc = gt_test_finish();
    return rc;
}
