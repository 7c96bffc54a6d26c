/* gantry sample and gantry eval on a pix2pix checkpoint (a tiny net trained a few steps here on a
 * file of discs): the grid of triplets edges | translation | item, one PNG per translation, the
 * FID of the translations against the items; flags that do not apply to a translator. */
#include "cli_util.h"
#include "gantry/translate.h"

static char g_idx[600], g_ckpt[600];

static bool make_ckpt(void) {
    gt_train_config c = gt_train_config_default();
    snprintf(c.data, sizeof c.data, "%s", g_idx);
    c.model = gt_model_config_default("pix2pix");
    c.model.res = 28, c.model.channels = 1;
    gt_model_opt_set(&c.model, "ngf", 4);
    gt_model_opt_set(&c.model, "ndf", 4);
    gt_model_opt_set(&c.model, "n_blocks", 1);
    c.batch = 8;
    gt_trainer t;
    bool ok = gt_trainer_init(&t, &c, NULL) == GT_OK;
    for (int i = 0; i < 3 && ok; i++) ok = gt_trainer_step(&t, NULL) == GT_OK;
    ok = ok && gt_trainer_save(&t, g_ckpt) == GT_OK;
    CHECK_MSG(ok, "%s", gt_last_error());
    gt_trainer_free(&t);
    return ok;
}

static void test_sample(void) {
    const char *png = gt_test_path("grid.png"), *dir = gt_test_path("each");
    CHECK_CLI(0, "translations: 6 items", "sample", "--ckpt", g_ckpt, "--items", g_idx, "--n", "6", "--out", png);
    /* 6 triplets, 2 per row (3 * 2 * 2 >= 6): 6 images wide, 3 high, 28 px + 2 px padding */
    size_t n = 0;
    unsigned char *b = gt_test_read_all(png, &n);
    CHECK(b && n > 24);
    if (b && n > 24) {
        unsigned w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
        unsigned h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
        CHECK_MSG(w == 6 * 30 + 2 && h == 3 * 30 + 2, "grid %ux%u", w, h);
    }
    free(b);
    CHECK_CLI(0, "translations only", "sample", "--ckpt", g_ckpt, "--items", g_idx, "--n", "3", "--outdir", dir);
    char p[800];
    snprintf(p, sizeof p, "%s/000002.png", dir);
    CHECK(access(p, F_OK) == 0);
    snprintf(p, sizeof p, "%s/000003.png", dir);
    CHECK(access(p, F_OK) != 0);
    CHECK_CLI(2, "translates images", "sample", "--ckpt", g_ckpt, "--items", g_idx, "--interp", "1,2", "--out", png);
    CHECK_CLI(2, "translates images", "sample", "--ckpt", g_ckpt, "--items", g_idx, "--truncation", "1", "--out", png);
    CHECK_CLI(1, "fewer than --n 40", "sample", "--ckpt", g_ckpt, "--items", g_idx, "--n", "40", "--out", png);
    CHECK_CLI(1, "no-such", "sample", "--ckpt", g_ckpt, "--items", "no-such.idx", "--out", png);
}

static void test_eval(void) {
    /* the translations of the 32 discs' edges against the discs (the pixels extractor: no weights) */
    CHECK_CLI(0, "translating the edges of", "eval", "--fake", g_ckpt, "--real", g_idx, "--extractor", "pixels");
    CHECK(gt_cli_said("fake") && gt_cli_said("(32)") && gt_cli_said("FID"));
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "gantry program not found\n");
        return 1;
    }
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("discs.idx"));
    snprintf(g_ckpt, sizeof g_ckpt, "%s", gt_test_path("p2p.safetensors"));
    if (!gt_test_write_idx(g_idx, 32) || !make_ckpt()) return 1;
    RUN(test_sample);
    RUN(test_eval);
    return gt_test_finish();
}
