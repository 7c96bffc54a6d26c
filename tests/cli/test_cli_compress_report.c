/* gantry compress-report on tiny checkpoints (a DCGAN "teacher" of ngf 8, a "student" of ngf 4, an
 * R3GAN that cannot be lowered): the table's rows, MACs counted by hand, the int8 row's weight
 * bytes, FIDs, the JSON, the PNG; bad input exits 2 (usage) or 1 (a file or a model that cannot do
 * what was asked), writing nothing. */
#include <cjson/cJSON.h>

#include "cli_util.h"

static char g_idx[700], g_t[800], g_s[800], g_r3[800], g_p2p[800];

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void train(const char *name, char *ckpt, size_t n, const char *model, const char *ngf) {
    char dir[700];
    snprintf(dir, sizeof dir, "%s", gt_test_path(name));
    snprintf(ckpt, n, "%s/last.safetensors", dir);
    if (!strcmp(model, "pix2pix"))
        CHECK_CLI(0, NULL, "train", "--data", g_idx, "--model", "pix2pix", "--res", "28", "--channels", "1",
                  "--model-opts", "ngf=4,ndf=4,n_blocks=1", "--batch", "4", "--steps", "2", "--out", dir,
                  "--sample-every", "0", "--quiet");
    else if (!strcmp(model, "dcgan"))
        CHECK_CLI(0, NULL, "train", "--data", g_idx, "--res", "28", "--channels", "1", "--nz", "8", "--ngf", ngf, "--ndf", "8", "--batch",
                  "4", "--steps", "2", "--out", dir, "--sample-every", "0", "--quiet");
    else
        CHECK_CLI(0, NULL, "train", "--data", g_idx, "--model", model, "--res", "32", "--nz", "8", "--batch", "4",
                  "--steps", "1", "--out", dir, "--sample-every", "0", "--quiet");
    CHECK(exists(ckpt));
}

/* MACs of dcgan's 28 px generator with widths 4g, 2g, g: 1 -> 3 (k3), 3 -> 7 (k3 s2), 7 -> 14, 14 -> 28 (k4 s2 p1) */
static double dc_macs(double g, double nz) {
    return nz * 4 * g * 9 + 9 * 4 * g * 2 * g * 9 + 49 * 2 * g * g * 16 + 196 * g * 16;
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_report(void) {
    const char *dir = gt_test_path("rep");
    char models[2000];
    snprintf(models, sizeof models, "teacher=%s,student=%s", g_t, g_s);
    CHECK_CLI(0, "student int8", "compress-report", "--models", models, "--int8", "student", "--n", "64", "--reps", "3",
              "--calib", "16", "--out", dir);
    char p[800];
    snprintf(p, sizeof p, "%s/compress_report.json", dir);
    size_t n = 0;
    char *txt = (char *)gt_test_read_all(p, &n);
    cJSON *j = txt ? cJSON_ParseWithLength(txt, n) : NULL;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(j, "rows");
    CHECK(cJSON_GetArraySize(rows) == 3);
    const cJSON *t = cJSON_GetArrayItem(rows, 0), *s = cJSON_GetArrayItem(rows, 1), *q = cJSON_GetArrayItem(rows, 2);
    CHECK_MSG(num(t, "macs") == dc_macs(8, 8) && num(s, "macs") == dc_macs(4, 8), "MACs %g %g", num(t, "macs"),
              num(s, "macs"));
    CHECK(num(q, "macs") == num(s, "macs") && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "int8")));
    CHECK(num(t, "params") > num(s, "params") && num(s, "weight_bytes") == 4 * num(s, "params"));
    /* int8: a byte per weight plus float scales and biases: well under half the float bytes */
    CHECK_MSG(num(q, "weight_bytes") < 0.5 * num(s, "weight_bytes"), "%g vs %g", num(q, "weight_bytes"),
              num(s, "weight_bytes"));
    for (int i = 0; i < 3; i++) {
        const cJSON *r = cJSON_GetArrayItem(rows, i);
        CHECK(num(r, "fid") > 0 && num(r, "latency_b1_ms") > 0 && num(r, "latency_b64_ms_per_image") > 0);
    }
    cJSON_Delete(j);
    free(txt);
    gt_image img;
    snprintf(p, sizeof p, "%s/compress_report.png", dir);
    CHECK(gt_image_load(p, &img) == GT_OK && img.w == 720 && img.h == 480);
    gt_image_free(&img);
    snprintf(p, sizeof p, "%s/compress_report.md", dir);
    txt = (char *)gt_test_read_all(p, &n);
    CHECK(txt && strstr(txt, "| student int8 | dcgan | program, int8 |"));
    free(txt);
}

/* A translator: its inputs are the edges of the real items, its int8 row calibrated on the training
 * split's edges; MACs as the program counts them, FID of the translations. */
static void test_translator(void) {
    const char *dir = gt_test_path("rep_p2p");
    char models[1000];
    snprintf(models, sizeof models, "p2p=%s", g_p2p);
    CHECK_CLI(0, "p2p int8", "compress-report", "--models", models, "--int8", "p2p", "--n", "16", "--reps", "2",
              "--calib", "8", "--out", dir);
    char p[800];
    snprintf(p, sizeof p, "%s/compress_report.json", dir);
    size_t n = 0;
    char *txt = (char *)gt_test_read_all(p, &n);
    cJSON *j = txt ? cJSON_ParseWithLength(txt, n) : NULL;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(j, "rows");
    CHECK(cJSON_GetArraySize(rows) == 2);
    const cJSON *f = cJSON_GetArrayItem(rows, 0), *q = cJSON_GetArrayItem(rows, 1);
    CHECK(num(f, "macs") > 0 && num(q, "macs") == num(f, "macs") && num(f, "fid") > 0 && num(q, "fid") > 0);
    cJSON_Delete(j);
    free(txt);
}

static void test_errors(void) {
    const char *dir = gt_test_path("bad");
    char m[2000];
    CHECK_CLI(2, "--models", "compress-report", "--out", dir);
    CHECK_CLI(2, "LABEL=CHECKPOINT", "compress-report", "--models", "teacher", "--out", dir);
    snprintf(m, sizeof m, "teacher=%s", g_t);
    CHECK_CLI(2, "no such label", "compress-report", "--models", m, "--int8", "student", "--out", dir);
    CHECK_CLI(2, "--n", "compress-report", "--models", m, "--n", "1", "--out", dir);
    CHECK_CLI(1, "not a checkpoint", "compress-report", "--models", "a=/nonexistent.safetensors", "--out", dir);
    snprintf(m, sizeof m, "r3=%s", g_r3);
    CHECK_CLI(1, "cannot be lowered", "compress-report", "--models", m, "--int8", "r3", "--n", "8", "--reps", "1",
              "--out", dir);
    char p[800];
    snprintf(p, sizeof p, "%s/compress_report.json", dir);
    CHECK(!exists(p));
}

int main(void) {
    CHECK(gt_cli_find());
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("tiny.idx"));
    CHECK(gt_test_write_idx(g_idx, 32));
    train("t", g_t, sizeof g_t, "dcgan", "8");
    train("s", g_s, sizeof g_s, "dcgan", "4");
    train("r3", g_r3, sizeof g_r3, "r3gan", NULL);
    train("p2p", g_p2p, sizeof g_p2p, "pix2pix", NULL);
    RUN(test_report);
    RUN(test_translator);
    RUN(test_errors);
    return gt_test_finish();
}
