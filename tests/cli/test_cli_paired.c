/* A translator on a folder of paired images (paired:DIR, A | B side by side), end to end: `gantry
 * train --config configs/pix2pix.json --data paired:DIR` trains a tiny pix2pix a few steps, `gantry
 * sample` translates the data's own A (the grid's first tile is image 0's A half exactly, not the
 * edges of its B), `gantry eval` says it translates the A; an odd-width image fails clearly. */
#include "cli_util.h"
#include "gantry/image.h"

#define NIMG 12
#define S 28

static char g_dir[700], g_spec[720], g_run[700], g_ckpt[760];

/* Image i: A (left) a filled square, B (right) a filled disc; 0 or 255 (exact through [-1, 1]). */
static uint8_t px(int i, int y, int x) {
    if (x < S) return (abs(y - 14) < 4 + i % 5 && abs(x - 14) < 4 + i % 5) ? 255 : 0;
    const int dx = x - S - 10 - i % 7, dy = y - 12 - i % 4;
    return dx * dx + dy * dy < 36 ? 255 : 0;
}

static bool make_pairs(const char *dir, int n, int width) {
    mkdir(dir, 0700);
    uint8_t *p = malloc((size_t)width * S);
    bool ok = p != NULL;
    for (int i = 0; i < n && ok; i++) {
        for (int y = 0; y < S; y++)
            for (int x = 0; x < width; x++) p[y * width + x] = px(i, y, x < width / 2 ? x : x - width / 2 + S);
        char path[800];
        snprintf(path, sizeof path, "%s/%03d.png", dir, i);
        ok = gt_png_write(path, p, width, S, 1) == GT_OK;
    }
    free(p);
    return ok;
}

static void test_train_and_sample(void) {
    char config[800];
    snprintf(config, sizeof config, "%s/configs/pix2pix.json", GT_SOURCE_DIR);
    CHECK_CLI(0, NULL, "train", "--config", config, "--data", g_spec, "--model-opts", "ngf=4,ndf=4,n_blocks=1",
              "--batch", "4", "--steps", "3", "--out", g_run, "--sample-every", "0", "--quiet");
    CHECK(access(g_ckpt, F_OK) == 0);
    /* sample without --items: the training data's own pairs; triplets A | translation | B */
    const char *png = gt_test_path("grid.png");
    CHECK_CLI(0, "(A | pix2pix", "sample", "--ckpt", g_ckpt, "--n", "4", "--nrow", "3", "--out", png);
    CHECK(gt_cli_said(g_spec));
    gt_image img = {0};
    CHECK_MSG(gt_image_load(png, &img) == GT_OK, "%s", gt_last_error());
    /* 4 triplets, 3 tiles a row: 3 x 4 tiles of 28 px with 2 px padding */
    CHECK_MSG(img.w == 3 * (S + 2) + 2 && img.h == 4 * (S + 2) + 2, "grid %dx%d", img.w, img.h);
    int bad_a = 0, bad_b = 0;
    for (int y = 0; y < S && img.data && img.w == 3 * (S + 2) + 2; y++)
        for (int x = 0; x < S; x++) {
            const uint8_t *a = img.data + ((size_t)(2 + y) * img.w + 2 + x) * img.c;
            const uint8_t *b = img.data + ((size_t)(2 + y) * img.w + 2 + 2 * (S + 2) + x) * img.c;
            bad_a += a[0] != px(0, y, x);
            bad_b += b[0] != px(0, y, S + x);
        }
    CHECK_MSG(bad_a == 0, "the grid's A tile differs from image 0's A half in %d pixels", bad_a);
    CHECK_MSG(bad_b == 0, "the grid's B tile differs from image 0's B half in %d pixels", bad_b);
    gt_image_free(&img);
    /* --items given: the same folder; --outdir: the translations */
    const char *each = gt_test_path("each");
    CHECK_CLI(0, "translations: 3 items", "sample", "--ckpt", g_ckpt, "--items", g_spec, "--n", "3", "--outdir", each);
    char p[800];
    snprintf(p, sizeof p, "%s/000002.png", each);
    CHECK(access(p, F_OK) == 0);
    CHECK_CLI(1, "fewer than --n 20", "sample", "--ckpt", g_ckpt, "--n", "20", "--out", png);
    /* eval: the translations of the A against the B */
    CHECK_CLI(0, "translating the A of", "eval", "--fake", g_ckpt, "--real", g_spec, "--extractor", "pixels");
    CHECK(gt_cli_said("FID"));
}

static void test_bad_folder(void) {
    char dir[720], spec[760];
    snprintf(dir, sizeof dir, "%s", gt_test_path("odd"));
    snprintf(spec, sizeof spec, "paired:%s", dir);
    CHECK(make_pairs(dir, 2, 2 * S - 1));
    CHECK_CLI(1, "odd width", "train", "--data", spec, "--model", "pix2pix", "--res", "28", "--channels", "1",
              "--steps", "1", "--out", gt_test_path("run_odd"));
    CHECK(gt_cli_said("000.png"));
    snprintf(dir, sizeof dir, "%s", gt_test_path("none"));
    mkdir(dir, 0700);
    snprintf(spec, sizeof spec, "paired:%s", dir);
    CHECK_CLI(1, "no .png", "sample", "--ckpt", g_ckpt, "--items", spec, "--n", "2", "--out", gt_test_path("x.png"));
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "gantry program not found\n");
        return 1;
    }
    snprintf(g_dir, sizeof g_dir, "%s", gt_test_path("pairs"));
    snprintf(g_spec, sizeof g_spec, "paired:%s", g_dir);
    snprintf(g_run, sizeof g_run, "%s", gt_test_path("run"));
    snprintf(g_ckpt, sizeof g_ckpt, "%s/last.safetensors", g_run);
    if (!make_pairs(g_dir, NIMG, 2 * S)) return 1;
    RUN(test_train_and_sample);
    RUN(test_bad_folder);
    return gt_test_finish();
}
