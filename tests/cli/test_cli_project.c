/* gantry project and gantry edit end to end on a tiny anycost checkpoint (written here, untrained):
 * projection writes w and lowers the error, the encoder trains and starts a projection, class
 * directions are saved and applied (one image, a strip, a sub-generator); bad input - an image of
 * the wrong size, a checkpoint that is not anycost, missing files, a bad strength, a ratio or
 * resolution the model lacks - gets a clear message and exit 1 (files) or 2 (flags). */
#include "cli_util.h"
#include "gantry/anycost_edit.h"
#include "gantry/checkpoint.h"
#include "gantry/train.h"

static char g_ac[800], g_dc[800], g_img[800], g_img28[800], g_rgb[800];

static const char *tp(const char *name) { return gt_test_path(name); }

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* A training checkpoint of model m (G only, untrained) that gt_load_generator reads. */
static bool write_ckpt(const char *path, gt_model_config m) {
    gt_train_config c = gt_train_config_default();
    c.model = m;
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 1);
    if (gt_model_build(&c.model, GT_NET_G, &r, &G) != GT_OK) {
        fprintf(stderr, "build: %s\n", gt_last_error());
        return false;
    }
    char *json = gt_train_config_to_json(&c);
    gt_ckpt k;
    gt_ckpt_init(&k);
    bool ok = json && gt_ckpt_add_params(&k, "G.", &G.P) == GT_OK && gt_ckpt_set_meta(&k, "config", json) == GT_OK &&
              gt_ckpt_save(&k, path) == GT_OK;
    if (!ok) fprintf(stderr, "checkpoint: %s\n", gt_last_error());
    gt_ckpt_free(&k);
    free(json);
    gt_net_free(&G);
    return ok;
}

/* A w x h image with c channels: a bright blob on black (a stand-in for a Fashion-MNIST item). */
static bool write_png(const char *path, int w, int h, int c) {
    uint8_t *p = calloc((size_t)w * h * c, 1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float dx = (x - w / 2.0f) / (w / 4.0f), dy = (y - h / 2.0f) / (h / 3.0f);
            float v = dx * dx + dy * dy < 1 ? 200.0f - 60.0f * dy : 0.0f;
            for (int k = 0; k < c; k++) p[(y * w + x) * c + k] = (uint8_t)v;
        }
    bool ok = gt_png_write(path, p, w, h, c) == GT_OK;
    free(p);
    return ok;
}

/* The number after `key` in the last output, or NAN. */
static double said_number(const char *key) {
    const char *p = strstr(gt_cli_out, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

static void test_project(void) {
    CHECK_CLI(0, "reconstruction MSE", "project", "--ckpt", g_ac, "--image", g_img, "--out", tp("w.safetensors"),
              "--steps", "60", "--recon", tp("recon.png"));
    double before = said_number("before "), after = said_number("after ");
    printf("  project (60 steps, tiny untrained G): MSE %.4f -> %.4f\n", before, after);
    CHECK_MSG(after < 0.8 * before, "project: MSE %g -> %g\n%s", before, after, gt_cli_out);
    CHECK(gt_cli_said("0.25@8") && gt_cli_said("1@32")); /* each config's error */
    CHECK(exists(tp("w.safetensors")));
    gt_image im = {0};
    CHECK(gt_image_load(tp("recon.png"), &im) == GT_OK && im.w == 32 && im.h == 32 && im.c == 1);
    gt_image_free(&im);
    /* w+ and no consistency term */
    CHECK_CLI(0, "w+", "project", "--ckpt", g_ac, "--image", g_img, "--out", tp("wp.safetensors"), "--steps", "10",
              "--wplus", "--consistency", "0", "--feat", "0");
    /* the encoder: trained, saved, used as the start */
    CHECK_CLI(0, "encoder: 20 steps", "project", "--train-encoder", "20", "--ckpt", g_ac, "--out",
              tp("enc.safetensors"));
    CHECK_CLI(0, "the encoder's w", "project", "--ckpt", g_ac, "--image", g_img, "--out", tp("w2.safetensors"),
              "--steps", "5", "--encoder", tp("enc.safetensors"));
    /* bad input */
    CHECK_CLI(1, "is 28x28 gray; the model", "project", "--ckpt", g_ac, "--image", g_img28, "--out",
              tp("x.safetensors"));
    CHECK(gt_cli_said("32x32 gray"));
    CHECK_CLI(1, "is 32x32 RGB", "project", "--ckpt", g_ac, "--image", g_rgb, "--out", tp("x.safetensors"));
    CHECK_CLI(1, "holds a dcgan generator", "project", "--ckpt", g_dc, "--image", g_img, "--out", tp("x.safetensors"));
    CHECK_CLI(1, "missing.safetensors", "project", "--ckpt", tp("missing.safetensors"), "--image", g_img, "--out",
              tp("x.safetensors"));
    CHECK_CLI(1, "missing.png", "project", "--ckpt", g_ac, "--image", tp("missing.png"), "--out", tp("x.safetensors"));
    CHECK_CLI(1, "not an anycost encoder", "project", "--ckpt", g_ac, "--image", g_img, "--out", tp("x.safetensors"),
              "--encoder", tp("w.safetensors"));
    CHECK_CLI(2, "--image", "project", "--ckpt", g_ac, "--out", tp("x.safetensors"));
    CHECK_CLI(2, "--lr", "project", "--ckpt", g_ac, "--image", g_img, "--out", tp("x.safetensors"), "--lr", "0");
    CHECK(!exists(tp("x.safetensors")));
}

static void test_edit(void) {
    CHECK_CLI(0, "directions ->", "edit", "--ckpt", g_ac, "--save-directions", tp("dirs.safetensors"), "--n", "200");
    CHECK(gt_cli_said("Trouser") && exists(tp("dirs.safetensors")));
    CHECK_CLI(0, "direction 1 (Trouser)", "edit", "--ckpt", g_ac, "--w", tp("w.safetensors"), "--directions",
              tp("dirs.safetensors"), "--direction", "trouser", "--strength", "2", "--out", tp("e.png"));
    gt_image im = {0};
    CHECK(gt_image_load(tp("e.png"), &im) == GT_OK && im.w == 32 && im.h == 32);
    gt_image_free(&im);
    /* a strip of 3 strengths from the 0.5-channel 16 px sub-generator, directions computed on the spot */
    CHECK_CLI(0, "sub-generator 0.5@16", "edit", "--ckpt", g_ac, "--seed", "3", "--n", "100", "--direction", "8",
              "--strength", "1.5", "--strip", "3", "--channels", "0.5", "--res", "16", "--out", tp("strip.png"));
    CHECK(gt_image_load(tp("strip.png"), &im) == GT_OK && im.w == 3 * 16 + 4 * 2 && im.h == 16 + 2 * 2);
    gt_image_free(&im);
    CHECK_CLI(0, "w of", "edit", "--ckpt", g_ac, "--w", tp("wp.safetensors"), "--directions", tp("dirs.safetensors"),
              "--direction", "0", "--strength", "-1", "--out", tp("e2.png"));
    /* bad input */
    CHECK_CLI(2, "--strength must be a number", "edit", "--ckpt", g_ac, "--seed", "1", "--direction", "1",
              "--strength", "strong", "--out", tp("x.png"));
    CHECK_CLI(2, "--strength must be in", "edit", "--ckpt", g_ac, "--seed", "1", "--direction", "1", "--strength",
              "1e9", "--out", tp("x.png"));
    CHECK_CLI(2, "--strength F is required", "edit", "--ckpt", g_ac, "--seed", "1", "--direction", "1", "--out",
              tp("x.png"));
    CHECK_CLI(2, "--direction must be", "edit", "--ckpt", g_ac, "--seed", "1", "--direction", "11", "--strength", "1",
              "--out", tp("x.png"));
    CHECK_CLI(2, "not one of the trained ratios", "edit", "--ckpt", g_ac, "--seed", "1", "--directions",
              tp("dirs.safetensors"), "--direction", "1", "--strength", "1", "--channels", "0.3", "--out", tp("x.png"));
    CHECK_CLI(2, "resolution 64", "edit", "--ckpt", g_ac, "--seed", "1", "--directions", tp("dirs.safetensors"),
              "--direction", "1", "--strength", "1", "--res", "64", "--out", tp("x.png"));
    CHECK_CLI(1, "holds a dcgan generator", "edit", "--ckpt", g_dc, "--save-directions", tp("x.safetensors"));
    CHECK_CLI(1, "missing.safetensors", "edit", "--ckpt", g_ac, "--w", tp("missing.safetensors"), "--directions",
              tp("dirs.safetensors"), "--direction", "1", "--strength", "1", "--out", tp("x.png"));
    CHECK_CLI(1, "not a directions file", "edit", "--ckpt", g_ac, "--seed", "1", "--directions", tp("w.safetensors"),
              "--direction", "1", "--strength", "1", "--out", tp("x.png"));
    CHECK_CLI(1, "not a w file", "edit", "--ckpt", g_ac, "--w", tp("dirs.safetensors"), "--directions",
              tp("dirs.safetensors"), "--direction", "1", "--strength", "1", "--out", tp("x.png"));
    CHECK(!exists(tp("x.png")) && !exists(tp("x.safetensors")));
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program was not found beside the test\n");
        return 1;
    }
    snprintf(g_ac, sizeof g_ac, "%s", tp("anycost.safetensors"));
    snprintf(g_dc, sizeof g_dc, "%s", tp("dcgan.safetensors"));
    snprintf(g_img, sizeof g_img, "%s", tp("item32.png"));
    snprintf(g_img28, sizeof g_img28, "%s", tp("item28.png"));
    snprintf(g_rgb, sizeof g_rgb, "%s", tp("rgb32.png"));
    gt_model_config ac = gt_model_config_default("anycost");
    ac.res = 32, ac.channels = 1, ac.nz = 32;
    gt_model_opt_set(&ac, "w_dim", 32);
    gt_model_opt_set(&ac, "n_mlp", 2);
    gt_model_opt_set(&ac, "ch", 8);
    gt_model_opt_set(&ac, "ch_max", 16);
    gt_model_config dc = gt_model_config_default("dcgan");
    dc.res = 32, dc.channels = 1, dc.nz = 16;
    gt_model_opt_set(&dc, "ngf", 8);
    gt_model_opt_set(&dc, "ndf", 8);
    bool ok = write_ckpt(g_ac, ac) && write_ckpt(g_dc, dc) && write_png(g_img, 32, 32, 1) &&
              write_png(g_img28, 28, 28, 1) && write_png(g_rgb, 32, 32, 3);
    CHECK(ok);
    if (ok) {
        RUN(test_project);
        RUN(test_edit);
    }
    return gt_test_finish();
}
