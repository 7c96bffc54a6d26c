/* The anycost commands of the gantry program on a tiny anycost checkpoint (2 training steps,
 * tiny widths, on a generated IDX file): `sample --channels --res` writes the sub-generator's
 * images (a grid of 16-px images; --channels 1 gives the plain sample's bytes), and
 * `anycost-report` writes report.md / .json / .png whose full-config row has PSNR inf and SSIM 1,
 * whose MACs and parameters fall with the ratio at every resolution, and whose PNG decodes. Bad
 * input: a checkpoint that is not anycost (exit 1, naming its family), a ratio not trained
 * (0.3) or a resolution that is not a level (exit 2, listing what is allowed). */
#include <cjson/cJSON.h>

#include "cli_util.h"

static char g_idx[700], g_run[700], g_ckpt[800], g_dc[800];

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void setup(void) {
    CHECK(gt_cli_find());
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("tiny.idx"));
    CHECK(gt_test_write_idx(g_idx, 32));
    snprintf(g_run, sizeof g_run, "%s", gt_test_path("ac_run"));
    snprintf(g_ckpt, sizeof g_ckpt, "%s/last.safetensors", g_run);
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--model", "anycost", "--res", "32", "--channels", "1", "--nz", "16",
              "--model-opts", "w_dim=16,n_mlp=2,ch=4,ch_max=8,dch=4", "--steps", "2", "--batch", "4", "--out", g_run,
              "--sample-every", "0", "--quiet");
    CHECK(exists(g_ckpt));
    char dc[700];
    snprintf(dc, sizeof dc, "%s", gt_test_path("dc_run"));
    snprintf(g_dc, sizeof g_dc, "%s/last.safetensors", dc);
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--res", "28", "--nz", "8", "--ngf", "8", "--ndf", "8", "--batch", "4",
              "--steps", "1", "--out", dc, "--sample-every", "0", "--quiet");
}

static void test_sample(void) {
    const char *grid = gt_test_path("sub.png");
    CHECK_CLI(0, "sub-generator 0.5@16", "sample", "--ckpt", g_ckpt, "--channels", "0.5", "--res", "16", "--n", "8",
              "--nrow", "4", "--out", grid);
    gt_image img;
    CHECK(gt_image_load(grid, &img) == GT_OK);
    /* 4 x 2 images of 16 px with 2 px of padding around and between */
    CHECK_MSG(img.w == 4 * 16 + 5 * 2 && img.h == 2 * 16 + 3 * 2 && img.c == 1, "grid %dx%d c %d", img.w, img.h, img.c);
    gt_image_free(&img);
    const char *dir = gt_test_path("each");
    CHECK_CLI(0, NULL, "sample", "--ckpt", g_ckpt, "--channels", "1,0.25,0.25,0.5,0.5,1,1", "--res", "8", "--n", "2",
              "--outdir", dir);
    char p[800];
    snprintf(p, sizeof p, "%s/000001.png", dir);
    CHECK(gt_image_load(p, &img) == GT_OK && img.w == 8 && img.h == 8);
    gt_image_free(&img);
    /* the full config through --channels is the plain sample, byte for byte */
    const char *a = gt_test_path("plain.png"), *b = gt_test_path("full.png");
    CHECK_CLI(0, NULL, "sample", "--ckpt", g_ckpt, "--n", "4", "--out", a);
    CHECK_CLI(0, NULL, "sample", "--ckpt", g_ckpt, "--n", "4", "--channels", "1", "--res", "32", "--out", b);
    size_t na = 0, nb = 0;
    unsigned char *ba = gt_test_read_all(a, &na), *bb = gt_test_read_all(b, &nb);
    CHECK(ba && bb && na == nb && !memcmp(ba, bb, na));
    free(ba);
    free(bb);
    /* a smaller sub differs from the full output */
    CHECK_CLI(0, NULL, "sample", "--ckpt", g_ckpt, "--n", "4", "--channels", "0.25", "--out", b);
    bb = gt_test_read_all(b, &nb);
    ba = gt_test_read_all(a, &na);
    CHECK(ba && bb && (na != nb || memcmp(ba, bb, na) != 0));
    free(ba);
    free(bb);
}

static void test_sample_errors(void) {
    const char *o = gt_test_path("bad.png");
    CHECK_CLI(2, "0.25, 0.5, 0.75, 1", "sample", "--ckpt", g_ckpt, "--channels", "0.3", "--out", o);
    CHECK_CLI(2, "(8, 16, 32)", "sample", "--ckpt", g_ckpt, "--res", "64", "--out", o);
    CHECK_CLI(2, "(8, 16, 32)", "sample", "--ckpt", g_ckpt, "--res", "12", "--out", o);
    CHECK_CLI(2, "(8, 16, 32)", "sample", "--ckpt", g_ckpt, "--channels", "0.5", "--res", "4", "--out", o);
    CHECK_CLI(2, "7 convolutions", "sample", "--ckpt", g_ckpt, "--channels", "1,0.5", "--out", o);
    CHECK_CLI(2, "not a ratio", "sample", "--ckpt", g_ckpt, "--channels", "half", "--out", o);
    CHECK_CLI(1, "holds a dcgan model", "sample", "--ckpt", g_dc, "--channels", "0.5", "--out", o);
    CHECK_CLI(1, "holds a dcgan model", "sample", "--ckpt", g_dc, "--res", "16", "--out", o);
    CHECK(!exists(o));
}

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static void test_report(void) {
    const char *dir = gt_test_path("report");
    CHECK_CLI(0, "| 1@32 | 32 | 1 |", "anycost-report", "--ckpt", g_ckpt, "--n", "8", "--reps", "3", "--out", dir,
              "--threads", "1");
    CHECK(gt_cli_said("| 1.00x | inf | 1.0000 | 0.0000 |")); /* the full row: identical to itself */
    CHECK(gt_cli_said("0.25@16 vs 1@32:"));
    char p[800];
    snprintf(p, sizeof p, "%s/report.md", dir);
    size_t n = 0;
    unsigned char *md = gt_test_read_all(p, &n);
    CHECK(md && strstr((char *)md, "| 0.25@8 | 8 | 0.25 |") && strstr((char *)md, "| config |"));
    free(md);
    snprintf(p, sizeof p, "%s/report.png", dir);
    gt_image img;
    CHECK(gt_image_load(p, &img) == GT_OK && img.w == 1200 && img.h == 500 && img.c == 3);
    gt_image_free(&img);
    snprintf(p, sizeof p, "%s/report.json", dir);
    unsigned char *txt = gt_test_read_all(p, &n);
    cJSON *j = txt ? cJSON_ParseWithLength((const char *)txt, n) : NULL;
    CHECK_MSG(j, "%s: missing or not JSON", p);
    const cJSON *rows = j ? item(j, "rows") : NULL;
    CHECK(cJSON_IsArray(rows) && cJSON_GetArraySize(rows) == 12); /* ratios 1, 0.75, 0.5, 0.25 x res 32, 16, 8 */
    if (rows && cJSON_GetArraySize(rows) == 12) {
        const cJSON *f = cJSON_GetArrayItem(rows, 0);
        CHECK(!strcmp(item(f, "config")->valuestring, "1@32"));
        CHECK(cJSON_IsNull(item(f, "psnr")) && cJSON_IsTrue(item(f, "identical")));
        CHECK(item(f, "ssim")->valuedouble == 1.0 && item(f, "fmnist_feature_distance")->valuedouble == 0.0);
        CHECK(item(f, "speedup")->valuedouble == 1.0 && item(f, "latency_ms")->valuedouble > 0);
        for (int r = 0; r < 12; r++) {
            const cJSON *w = cJSON_GetArrayItem(rows, r);
            CHECK(item(w, "res")->valuedouble == (double)(32 >> (r / 4)));
            CHECK(item(w, "ratio")->valuedouble == (double)(1.0 - 0.25 * (r % 4)));
            if (r) {
                /* a smaller sub: a finite PSNR, SSIM below 1, a positive feature distance */
                CHECK(cJSON_IsNumber(item(w, "psnr")) && item(w, "ssim")->valuedouble < 1.0);
                CHECK(item(w, "fmnist_feature_distance")->valuedouble > 0);
            }
            if (r % 4) { /* MACs and parameters fall with the ratio at each resolution */
                const cJSON *prev = cJSON_GetArrayItem(rows, r - 1);
                CHECK_MSG(item(w, "macs")->valuedouble < item(prev, "macs")->valuedouble, "row %d MACs", r);
                CHECK(item(w, "params")->valuedouble < item(prev, "params")->valuedouble);
            }
            if (r >= 4) /* and with the resolution at each ratio */
                CHECK(item(w, "macs")->valuedouble < item(cJSON_GetArrayItem(rows, r - 4), "macs")->valuedouble);
        }
    }
    cJSON_Delete(j);
    free(txt);
    /* the default folder: anycost-report beside the checkpoint */
    CHECK_CLI(0, NULL, "anycost-report", "--ckpt", g_ckpt, "--n", "2", "--reps", "1");
    snprintf(p, sizeof p, "%s/anycost-report/report.json", g_run);
    CHECK(exists(p));
}

/* A 64-px RGB model: 16 configs (levels 8..64), no Fashion-MNIST feature distance ('-', null). */
static void test_report_rgb64(void) {
    char run[700], ck[800];
    snprintf(run, sizeof run, "%s", gt_test_path("ac64"));
    snprintf(ck, sizeof ck, "%s/last.safetensors", run);
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--model", "anycost", "--res", "64", "--channels", "3", "--nz", "8",
              "--model-opts", "w_dim=8,n_mlp=1,ch=2,ch_max=4,dch=2", "--steps", "1", "--batch", "2", "--out", run,
              "--sample-every", "0", "--quiet");
    const char *dir = gt_test_path("report64");
    CHECK_CLI(0, "| 1@64 | 64 | 1 |", "anycost-report", "--ckpt", ck, "--n", "2", "--reps", "1", "--out", dir);
    CHECK(gt_cli_said("| 1.00x | inf | 1.0000 | - |") && gt_cli_said("| 0.25@8 | 8 | 0.25 |"));
    CHECK(gt_cli_said("0.25@32 vs 1@64:"));
    char p[800];
    snprintf(p, sizeof p, "%s/report.json", dir);
    size_t n = 0;
    unsigned char *txt = gt_test_read_all(p, &n);
    cJSON *j = txt ? cJSON_ParseWithLength((const char *)txt, n) : NULL;
    const cJSON *rows = j ? item(j, "rows") : NULL;
    CHECK(cJSON_GetArraySize(rows) == 16);
    if (cJSON_GetArraySize(rows) == 16) {
        CHECK(item(cJSON_GetArrayItem(rows, 0), "ssim")->valuedouble == 1.0);
        CHECK(cJSON_IsNull(item(cJSON_GetArrayItem(rows, 5), "fmnist_feature_distance")));
    }
    CHECK(j && cJSON_IsString(item(j, "fmnist_feature_distance_missing")));
    cJSON_Delete(j);
    free(txt);
}

static void test_report_errors(void) {
    CHECK_CLI(1, "holds a dcgan generator", "anycost-report", "--ckpt", g_dc, "--out", gt_test_path("r2"));
    CHECK(!exists(gt_test_path("r2")));
    CHECK_CLI(2, "--ckpt FILE is required", "anycost-report");
    CHECK_CLI(2, "--n", "anycost-report", "--ckpt", g_ckpt, "--n", "0");
    CHECK_CLI(2, "--bogus", "anycost-report", "--ckpt", g_ckpt, "--bogus");
    CHECK_CLI(1, "nope.safetensors", "anycost-report", "--ckpt", gt_test_path("nope.safetensors"));
    CHECK_CLI(1, "cannot create folder", "anycost-report", "--ckpt", g_ckpt, "--n", "2", "--reps", "1", "--out",
              gt_test_path("no/such/dir"));
}

int main(void) {
    setup();
    RUN(test_sample);
    RUN(test_sample_errors);
    RUN(test_report);
    RUN(test_report_rgb64);
    RUN(test_report_errors);
    return gt_test_finish();
}
