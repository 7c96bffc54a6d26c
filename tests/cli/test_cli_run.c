/* The gantry program end to end on a tiny dataset: train writes the run
 * folder, sample and info read its checkpoint, --resume continues (and
 * refuses a changed model), tampered or truncated checkpoints get a message
 * naming the file and exit 1, and a train killed with SIGKILL at any moment
 * (checkpointing every step) leaves a loadable last checkpoint. */
#include <cjson/cJSON.h>

#include "cli_util.h"
#include "gantry/train.h"

static char g_idx[700], g_run[700], g_ckpt[800];

static const char *tp(const char *name) { return gt_test_path(name); }

#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "16"

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* RUN/status.json (docs/DASHBOARD.md): state, step and steps as written at the end of a train. */
static void check_status(const char *run, const char *state, double step, double steps) {
    char p[800];
    snprintf(p, sizeof p, "%s/status.json", run);
    size_t n = 0;
    unsigned char *txt = gt_test_read_all(p, &n);
    cJSON *j = txt ? cJSON_ParseWithLength((const char *)txt, n) : NULL;
    CHECK_MSG(j, "%s: missing or not JSON", p);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "state");
    CHECK_MSG(cJSON_IsString(s) && !strcmp(s->valuestring, state), "%s: state is not %s", p, state);
    const char *keys[] = {"pid", "step", "steps", "started_unix", "updated_unix"};
    for (int i = 0; i < 5; i++) CHECK_MSG(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, keys[i])), "%s lacks %s", p, keys[i]);
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "host")) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "message")));
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "step") && cJSON_GetObjectItemCaseSensitive(j, "step")->valuedouble == step);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "steps") && cJSON_GetObjectItemCaseSensitive(j, "steps")->valuedouble == steps);
    cJSON_Delete(j);
    free(txt);
}

static void test_train_sample_info(void) {
    CHECK_CLI(0, "samples: ", "train", "--data", g_idx, "--steps", "4", "--out", g_run, TINY, "--log-every", "2",
              "--sample-every", "2", "--ckpt-every", "2");
    char p[800];
    snprintf(p, sizeof p, "%s/samples/last.png", g_run);
    CHECK(exists(p));
    gt_image img = {0};
    CHECK(gt_image_load(p, &img) == GT_OK && img.c == 1 && img.w == 4 * 28 + 5 * 2);
    gt_image_free(&img);
    snprintf(p, sizeof p, "%s/config.json", g_run);
    CHECK(exists(p));
    snprintf(p, sizeof p, "%s/checkpoints/step_000004.safetensors", g_run);
    CHECK(exists(p));
    check_status(g_run, "finished", 4, 4);
    /* a second train into the same folder is refused */
    CHECK_CLI(2, "already holds a run", "train", "--data", g_idx, "--steps", "4", "--out", g_run, TINY);
    /* resume continues to the new target; a changed model is refused */
    CHECK_CLI(0, NULL, "train", "--out", g_run, "--resume", "--steps", "6", "--quiet");
    check_status(g_run, "finished", 6, 6);
    CHECK_CLI(2, "--ngf differs from the run being resumed", "train", "--out", g_run, "--resume", "--steps", "8",
              "--ngf", "16");
    CHECK_CLI(0, "step         6 of 6", "info", "--ckpt", g_ckpt);
    CHECK(strstr(gt_cli_out, "dcgan") && strstr(gt_cli_out, "28x28") && strstr(gt_cli_out, "G parameters"));
    /* sample: grid, one file each, interpolation, truncation, raw generator */
    CHECK_CLI(0, "16 images", "sample", "--ckpt", g_ckpt, "--n", "16", "--out", tp("grid.png"));
    CHECK(gt_image_load(tp("grid.png"), &img) == GT_OK && img.w == 4 * 28 + 5 * 2 && img.h == img.w);
    gt_image_free(&img);
    CHECK_CLI(0, "5 images", "sample", "--ckpt", g_ckpt, "--n", "5", "--outdir", tp("each"), "--seed", "9",
              "--truncation", "0.7", "--no-ema");
    CHECK(exists(tp("each/000004.png")) && !exists(tp("each/000005.png")));
    CHECK(gt_image_load(tp("each/000000.png"), &img) == GT_OK && img.w == 28 && img.h == 28);
    gt_image_free(&img);
    CHECK_CLI(0, "interpolation: 8 images", "sample", "--ckpt", g_ckpt, "--interp", "1,2", "--n", "8", "--out",
              tp("strip.png"));
    CHECK(gt_image_load(tp("strip.png"), &img) == GT_OK && img.w == 8 * 28 + 9 * 2 && img.h == 28 + 4);
    gt_image_free(&img);
    CHECK_CLI(0, "4 images", "sample", "--ckpt", g_ckpt, "--n", "4", "--scale", "3", "--out", tp("big.png"));
    CHECK(gt_image_load(tp("big.png"), &img) == GT_OK && img.w == 3 * (2 * 28 + 3 * 2) && img.h == img.w);
    gt_image_free(&img);
    /* the same seed gives the same picture */
    CHECK_CLI(0, NULL, "sample", "--ckpt", g_ckpt, "--n", "16", "--out", tp("grid2.png"));
    size_t n1 = 0, n2 = 0;
    unsigned char *a = gt_test_read_all(tp("grid.png"), &n1), *b = gt_test_read_all(tp("grid2.png"), &n2);
    CHECK(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
    free(a);
    free(b);
}

/* Writes a copy of the good checkpoint with its bytes changed by f. */
static const char *tampered(const char *name, void (*f)(unsigned char *buf, size_t *n)) {
    size_t n = 0;
    unsigned char *buf = gt_test_read_all(g_ckpt, &n);
    if (!buf) return NULL;
    unsigned char *big = realloc(buf, n + 64);
    if (!big) {
        free(buf);
        return NULL;
    }
    f(big, &n);
    const char *p = tp(name);
    bool ok = gt_test_write_all(p, big, n);
    free(big);
    return ok ? p : NULL;
}

static void t_trunc(unsigned char *b, size_t *n) { (void)b, *n = *n * 2 / 3; }
static void t_trunc_header(unsigned char *b, size_t *n) { (void)b, *n = 100; }
static void t_huge_len(unsigned char *b, size_t *n) { (void)n, memset(b, 0xff, 8); }
static void t_tiny(unsigned char *b, size_t *n) { (void)b, *n = 5; }
/* replaces the first occurrence of a after the text `after` with z (same
 * length) in the header */
static void t_replace_after(unsigned char *b, size_t n, const char *after, const char *a, const char *z) {
    uint64_t h;
    memcpy(&h, b, 8);
    size_t la = strlen(a), i = 8;
    if (after) {
        size_t lk = strlen(after);
        while (i + lk <= 8 + h && i + lk <= n && memcmp(b + i, after, lk) != 0) i++;
    }
    for (; i + la <= 8 + h && i + la <= n; i++)
        if (memcmp(b + i, a, la) == 0) {
            memcpy(b + i, z, la);
            return;
        }
}
static void t_replace(unsigned char *b, size_t n, const char *a, const char *z) { t_replace_after(b, n, NULL, a, z); }
/* the EMA generator's first weight: what sample loads */
static void t_dtype(unsigned char *b, size_t *n) {
    t_replace_after(b, *n, "\"G_ema.main.0.weight\"", "\"F32\"", "\"I32\"");
}
static void t_dtype16(unsigned char *b, size_t *n) {
    t_replace_after(b, *n, "\"G_ema.main.3.weight\"", "\"F32\"", "\"F16\"");
}
static void t_offsets(unsigned char *b, size_t *n) { t_replace(b, *n, "\"data_offsets\":[0,", "\"data_offsets\":[9,"); }
static void t_garbage_json(unsigned char *b, size_t *n) { (void)n, b[8] = '['; }
static void t_config(unsigned char *b, size_t *n) {
    /* a config that describes another width: the tensors no longer fit */
    t_replace(b, *n, "\\\"ngf\\\":\\t8", "\\\"ngf\\\":\\t9");
    t_replace(b, *n, "\\\"ngf\\\":8", "\\\"ngf\\\":9");
}
static void t_config_res(unsigned char *b, size_t *n) {
    t_replace(b, *n, "\\\"res\\\":\\t28", "\\\"res\\\":\\t99");
    t_replace(b, *n, "\\\"res\\\":28", "\\\"res\\\":99");
}
static void t_flip_data(unsigned char *b, size_t *n) {
    /* values changed, structure intact: still loads (safetensors has no checksum) */
    b[*n - 7] ^= 0x5a;
}

static void test_corrupt_checkpoints(void) {
    struct {
        const char *name;
        void (*f)(unsigned char *, size_t *);
        const char *needle;
    } cases[] = {
        {"trunc.safetensors", t_trunc, "trunc.safetensors"},
        {"trunc_header.safetensors", t_trunc_header, "trunc_header.safetensors"},
        {"huge_len.safetensors", t_huge_len, "huge_len.safetensors"},
        {"tiny.safetensors", t_tiny, "tiny.safetensors"},
        {"dtype.safetensors", t_dtype, "dtype.safetensors"},
        {"dtype16.safetensors", t_dtype16, "dtype16.safetensors"},
        {"offsets.safetensors", t_offsets, "offsets.safetensors"},
        {"json.safetensors", t_garbage_json, "json.safetensors"},
        {"config.safetensors", t_config, "main.0.weight"},
        {"config_res.safetensors", t_config_res, "config_res.safetensors"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = tampered(cases[i].name, cases[i].f);
        CHECK(p != NULL);
        if (!p) continue;
        int rc = gt_cli_run("sample", "--ckpt", p, "--out", tp("never.png"), NULL);
        CHECK_MSG(rc == 1 && strstr(gt_cli_out, cases[i].needle), "sample on %s: rc %d\n%s", cases[i].name, rc,
                  gt_cli_out);
        rc = gt_cli_run("info", "--ckpt", p, NULL);
        CHECK_MSG(rc == 1 && strstr(gt_cli_out, cases[i].needle), "info on %s: rc %d\n%s", cases[i].name, rc,
                  gt_cli_out);
        /* resuming from it fails cleanly too, leaving it as it was */
    }
    CHECK(!exists(tp("never.png")));
    const char *p = tampered("flip.safetensors", t_flip_data);
    CHECK_CLI(0, "step", "info", "--ckpt", p);
    /* a file that is not a checkpoint at all */
    CHECK(gt_test_write_all(tp("png.safetensors"), "\x89PNG\r\n\x1a\n\0\0\0\0", 12));
    CHECK_CLI(1, "png.safetensors", "sample", "--ckpt", tp("png.safetensors"), "--out", tp("never.png"));
    /* a run folder whose last checkpoint is corrupt: resume says so */
    char run[800], last[900];
    snprintf(run, sizeof run, "%s/corrupt_run", gt_test_tmpdir());
    mkdir(run, 0777);
    snprintf(last, sizeof last, "%s/last.safetensors", run);
    size_t n = 0;
    unsigned char *buf = gt_test_read_all(g_ckpt, &n);
    CHECK(buf && gt_test_write_all(last, buf, n / 2));
    free(buf);
    CHECK_CLI(1, "last.safetensors", "train", "--out", run, "--resume", "--steps", "9");
}

/* SIGKILL at random moments of a run that checkpoints every step: the last
 * checkpoint always loads, and the next --resume carries on. */
static void test_sigkill(void) {
    char run[800], last[900], out[900];
    snprintf(run, sizeof run, "%s/killed", gt_test_tmpdir());
    snprintf(last, sizeof last, "%s/last.safetensors", run);
    snprintf(out, sizeof out, "%s/killed.txt", gt_test_tmpdir());
    char *first[] = {"train", "--data", g_idx, "--steps", "400", "--out", run, TINY, "--ckpt-every", "1",
                     "--keep-ckpts", "1", "--sample-every", "0", "--quiet", NULL};
    char *again[] = {"train", "--out", run, "--resume", "--quiet", NULL};
    int loaded = 0;
    uint64_t prev = 0;
    srand(7);
    /* the first run: wait for its first checkpoint (start-up may be slow on a busy machine) */
    pid_t pid = gt_cli_spawn(out, first);
    for (int w = 0; w < 1200 && !exists(last); w++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    CHECK_MSG(exists(last), "no checkpoint after 60 s");
    for (int i = 0; i < 6; i++) {
        if (i > 0) pid = gt_cli_spawn(out, again);
        int ms = 150 + rand() % 900;
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int rc = gt_cli_wait(pid);
        CHECK_MSG(rc == 128 + SIGKILL || rc == 0, "run %d: rc %d", i, rc);
        gt_net G;
        gt_train_config c;
        gt_status st = gt_load_generator(last, true, &G, &c, NULL);
        CHECK_MSG(st == GT_OK, "after SIGKILL %d: %s", i, gt_last_error());
        gt_net_free(&G);
        loaded += st == GT_OK;
        /* info reads the step; it never goes back */
        if (gt_cli_run("info", "--ckpt", last, NULL) == 0) {
            const char *s = strstr(gt_cli_out, "step ");
            unsigned long long step = 0;
            CHECK(s && sscanf(s, "step %llu", &step) == 1 && step >= prev);
            prev = step;
        } else {
            CHECK_MSG(false, "info after SIGKILL %d: %s", i, gt_cli_out);
        }
    }
    CHECK(loaded == 6);
    CHECK_MSG(prev > 0, "no progress across the killed runs");
}

/* A folder with unreadable images: the load stops at the first, naming it and the way out;
 * --skip-bad-images trains on the rest, says how many it left out, and the run keeps the choice. */
static void test_skip_bad_images(void) {
    char dir[700], p[800];
    snprintf(dir, sizeof dir, "%s", tp("folder"));
    CHECK(mkdir(dir, 0755) == 0);
    uint8_t px[28 * 28];
    for (int i = 0; i < 34; i++) {
        for (int k = 0; k < 28 * 28; k++) px[k] = (uint8_t)(k * (i + 3));
        snprintf(p, sizeof p, "%s/img%02d.png", dir, i);
        CHECK(i % 11 == 5 ? gt_test_write_all(p, "\x89PNG\r\n\x1a\nbroken", 14) : gt_png_write(p, px, 28, 28, 1) == GT_OK);
    }
    snprintf(p, sizeof p, "%s/img05.png", dir);
    const char *first_bad = p;
    CHECK_CLI(1, first_bad, "train", "--data", dir, "--steps", "1", "--out", tp("skiprun"), TINY);
    CHECK(gt_cli_said("--skip-bad-images") && !exists(tp("skiprun")));
    CHECK_CLI(0, "skipped 3 unreadable images", "train", "--data", dir, "--steps", "1", "--out", tp("skiprun"), TINY,
              "--skip-bad-images", "--quiet");
    CHECK(gt_cli_said("img05.png") && !gt_cli_said("31 images")); /* --quiet: only the skip notice */
    size_t n = 0;
    char *cfg = (char *)gt_test_read_all(tp("skiprun/config.json"), &n);
    cJSON *j = cfg ? cJSON_Parse(cfg) : NULL;
    CHECK(j && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "skip_bad_images")));
    cJSON_Delete(j);
    free(cfg);
    /* resumed: the same 31 images, without repeating the flag */
    CHECK_CLI(0, "skipped 3 unreadable images", "train", "--out", tp("skiprun"), "--resume", "--steps", "2");
    CHECK(gt_cli_said("(31 images)"));
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built (looked for %s)\n", gt_cli_bin);
        return 1;
    }
    snprintf(g_idx, sizeof g_idx, "%s", tp("blobs-images-idx3-ubyte"));
    snprintf(g_run, sizeof g_run, "%s", tp("run"));
    snprintf(g_ckpt, sizeof g_ckpt, "%s/last.safetensors", g_run);
    if (!gt_test_write_idx(g_idx, 64)) return 1;
    RUN(test_train_sample_info);
    RUN(test_corrupt_checkpoints);
    RUN(test_sigkill);
    RUN(test_skip_bad_images);
    int rc = gt_test_finish();
    return rc;
}
