/* The latent explorer (docs/DASHBOARD.md) on a real checkpoint: a tiny DCGAN trained for 4 steps
 * through the library into a run folder, then /api/explore/info, grids identical to what the
 * library's sampling path gives (as `gantry sample`), dims, interpolation, scale, the model-
 * dependent 400s, a truncated and a non-gantry checkpoint (422), the generator cache following a
 * rewritten checkpoint, requests at once (one at a time, all answered), and exploring while a lab
 * session trains on the worker thread. Each test runs its own server (the generator cache's
 * tensors are freed with it, as the harness counts live tensors). */
#include <pthread.h>

#include "gantry/image.h"
#include "gantry/train.h"
#include "runs_util.h"
#include "../train/train_util.h"

static gt_lab_server *S;

/* Each test has its own server: the cached generators (live tensors) go with it. */
static void with_server(void (*fn)(void)) {
    S = gt_runs_start(gt_runs_dir);
    if (!S) return;
    fn();
    gt_lab_server_stop(S);
    S = NULL;
}

static bool train_tiny(void) {
    char idx[900], out[1000];
    snprintf(idx, sizeof idx, "%.890s", gt_test_path("tiny.idx"));
    if (!gt_test_write_idx(idx, 64)) return false;
    snprintf(out, sizeof out, "%.900s/tiny", gt_runs_dir);
    gt_train_config c = gt_test_tiny_config(idx, out, 4);
    c.batch = 16, c.ema = 0.9, c.seed = 5;
    c.log_every = 2, c.sample_every = 2, c.ckpt_every = 2, c.keep_ckpts = 4, c.n_samples = 16;
    gt_trainer t;
    bool ok = gt_trainer_init(&t, &c, NULL) == GT_OK && gt_train_run(&t, NULL) == GT_OK;
    CHECK_MSG(ok, "training the tiny run: %s", gt_last_error());
    gt_trainer_free(&t);
    return ok;
}

/* POST /api/explore body: the PNG decoded (status 200), else the status. */
static int explore(const char *body, gt_image *img) {
    gt_http_resp r;
    int st = gt_http("POST", "/api/explore", body, &r);
    if (st == 200) {
        char ct[64], ms[64];
        CHECK(gt_http_header(&r, "Content-Type", ct, sizeof ct) && !strcmp(ct, "image/png"));
        CHECK(gt_http_header(&r, "X-Gantry-Ms", ms, sizeof ms) && atof(ms) >= 0);
        CHECK_MSG(gt_png_decode(r.body, r.n, "explore", img) == GT_OK, "%s", gt_last_error());
    }
    gt_http_free(&r);
    return st;
}

static void test_info_body(void) {
    cJSON *j = gt_http_expect("GET", "/api/explore/info?run=tiny&ckpt=last.safetensors", NULL, 200);
    CHECK(!strcmp(gt_json_str(j, "family"), "dcgan") && gt_json_num(j, "res") == 28 && gt_json_num(j, "nz") == 16);
    CHECK(gt_json_num(j, "n_classes") == 0 && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "conditional")));
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "has_ema")) && gt_json_num(j, "step") == 4);
    CHECK(gt_json_num(j, "channels") >= 1);
    cJSON_Delete(j);
    j = gt_http_expect("GET", "/api/explore/info?run=tiny&ckpt=checkpoints/step_000002.safetensors", NULL, 200);
    CHECK(gt_json_num(j, "step") == 2);
    cJSON_Delete(j);
    j = gt_http_expect("GET", "/api/explore/info?run=tiny&ckpt=checkpoints%2Fstep_000002.safetensors", NULL, 200);
    CHECK(gt_json_num(j, "step") == 2);
    cJSON_Delete(j);
    CHECK(gt_http_error("GET", "/api/explore/info?run=tiny&ckpt=checkpoints%2F..%2Flast.safetensors", NULL, "ckpt") == 400);
    CHECK(gt_http_error("GET", "/api/explore/info?run=tiny&ckpt=checkpoints/step_000003.safetensors", NULL, "no checkpoint") == 404);
    /* the run's detail lists both checkpoints and last */
    j = gt_http_expect("GET", "/api/runs/tiny", NULL, 200);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "checkpoints")) == 3);
    CHECK(!strcmp(gt_json_str(j, "state"), "finished") && gt_json_num(j, "step") == 4);
    cJSON_Delete(j);
}

/* The same images as the library's sampling path (`gantry sample --seed 3 --n 9`). */
static void test_grid_matches_sample_body(void) {
    gt_image img = {0}, img2 = {0};
    CHECK(explore("{\"run\":\"tiny\",\"seed\":3,\"n\":9}", &img) == 200);
    CHECK(img.w == 3 * 28 + 4 * 2 && img.h == img.w);
    char ck[1100];
    snprintf(ck, sizeof ck, "%s/tiny/last.safetensors", gt_runs_dir);
    gt_net G;
    gt_train_config cfg;
    bool ema = false;
    CHECK(gt_load_generator(ck, true, &G, &cfg, &ema) == GT_OK && ema);
    CHECK(gt_recalibrate_bn(&G, 0x5EED, 8, 64) == GT_OK);
    int m = gt_scope_begin();
    gt_tensor *z = gt_sample_latents_for(&cfg.model, 3, 9, 0);
    gt_tensor *x = z ? gt_generate(&G, z) : NULL;
    gt_image ref = {0};
    CHECK(x && gt_make_grid(x, 3, 2, &ref) == GT_OK);
    CHECK(ref.w == img.w && ref.h == img.h && ref.c == img.c &&
          !memcmp(ref.data, img.data, (size_t)ref.w * ref.h * ref.c));
    gt_image_free(&ref);
    gt_scope_end(m);
    gt_net_free(&G);
    /* deterministic; dims change the picture; scale doubles it */
    CHECK(explore("{\"run\":\"tiny\",\"seed\":3,\"n\":9,\"ema\":true,\"mode\":\"grid\",\"nrow\":0,\"truncation\":0,"
                  "\"class\":-1}",
                  &img2) == 200);
    CHECK(img2.w == img.w && !memcmp(img.data, img2.data, (size_t)img.w * img.h * img.c));
    gt_image_free(&img2);
    CHECK(explore("{\"run\":\"tiny\",\"seed\":3,\"n\":9,\"dims\":[{\"index\":0,\"value\":5},{\"index\":15,\"value\":-5}]}",
                  &img2) == 200);
    CHECK(img2.w == img.w && memcmp(img.data, img2.data, (size_t)img.w * img.h * img.c) != 0);
    gt_image_free(&img2);
    CHECK(explore("{\"run\":\"tiny\",\"n\":4,\"scale\":2,\"nrow\":4,\"truncation\":0.5,\"ema\":false}", &img2) == 200);
    CHECK(img2.w == 2 * (4 * 28 + 5 * 2) && img2.h == 2 * (28 + 2 * 2));
    gt_image_free(&img2);
    CHECK(explore("{\"run\":\"tiny\",\"mode\":\"interp\",\"seed\":1,\"seed_b\":2,\"frames\":5}", &img2) == 200);
    CHECK(img2.w == 5 * 28 + 6 * 2 && img2.h == 28 + 2 * 2);
    gt_image_free(&img2);
    CHECK(explore("{\"run\":\"tiny\",\"n\":64,\"ckpt\":\"checkpoints/step_000002.safetensors\"}", &img2) == 200);
    CHECK(img2.w == 8 * 28 + 9 * 2);
    gt_image_free(&img2);
    gt_image_free(&img);
}

static void test_model_errors_body(void) {
    CHECK(gt_http_error("POST", "/api/explore", "{\"run\":\"tiny\",\"dims\":[{\"index\":16,\"value\":1}]}", "nz") == 400);
    CHECK(gt_http_error("POST", "/api/explore", "{\"run\":\"tiny\",\"dims\":[{\"index\":1000000,\"value\":1}]}", "nz") == 400);
    CHECK(gt_http_error("POST", "/api/explore", "{\"run\":\"tiny\",\"class\":0}", "unconditional") == 400);
    CHECK(gt_http_error("POST", "/api/explore", "{\"run\":\"tiny\",\"n\":1e9}", "n must") == 400);
    CHECK(gt_http_error("POST", "/api/explore", "{\"run\":\"tiny\",\"truncation\":NaN}", NULL) == 400);
}

/* A truncated checkpoint and a safetensors file without gantry's metadata: 422, the loader's words. */
static void test_bad_checkpoints_body(void) {
    char src[1100], dst[1100];
    snprintf(src, sizeof src, "%s/tiny/checkpoints/step_000004.safetensors", gt_runs_dir);
    size_t n = 0;
    unsigned char *buf = gt_test_read_all(src, &n);
    CHECK(buf && n > 1000);
    if (!buf) return;
    snprintf(dst, sizeof dst, "%s/tiny/checkpoints/step_000009.safetensors", gt_runs_dir);
    CHECK(gt_test_write_all(dst, buf, n / 2));
    free(buf);
    CHECK(gt_http_error("POST", "/api/explore", "{\"run\":\"tiny\",\"ckpt\":\"checkpoints/step_000009.safetensors\"}",
                        "step_000009") == 422);
    const char hdr[] = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    unsigned char f[8 + sizeof hdr - 1 + 4];
    uint64_t hl = sizeof hdr - 1;
    for (int i = 0; i < 8; i++) f[i] = (unsigned char)(hl >> (8 * i));
    memcpy(f + 8, hdr, hl);
    memset(f + 8 + hl, 0, 4);
    snprintf(dst, sizeof dst, "%s/tiny/checkpoints/step_000010.safetensors", gt_runs_dir);
    CHECK(gt_test_write_all(dst, f, sizeof f));
    CHECK(gt_http_error("GET", "/api/explore/info?run=tiny&ckpt=checkpoints/step_000010.safetensors", NULL,
                        "not a gantry training checkpoint") == 422);
    CHECK(gt_lab_alive());
}

/* last.safetensors replaced by the step-2 checkpoint: the cache sees the new file. */
static void test_cache_follows_file_body(void) {
    char a[1100], b[1100];
    snprintf(a, sizeof a, "%s/tiny/checkpoints/step_000002.safetensors", gt_runs_dir);
    snprintf(b, sizeof b, "%s/tiny/last.safetensors", gt_runs_dir);
    size_t n = 0;
    unsigned char *buf = gt_test_read_all(a, &n);
    CHECK(buf && gt_test_write_all(b, buf, n));
    free(buf);
    cJSON *j = gt_http_expect("GET", "/api/explore/info?run=tiny", NULL, 200);
    CHECK(gt_json_num(j, "step") == 2);
    cJSON_Delete(j);
}

static void *explore_thread(void *arg) {
    gt_image img = {0};
    int st = explore(arg, &img);
    gt_image_free(&img);
    return (void *)(intptr_t)st;
}

/* Requests at once (they queue), some while a lab session trains on the worker thread. */
static void test_concurrent_body(void) {
    char id[17];
    CHECK(gt_lab_session(NULL, id));
    char p[128];
    snprintf(p, sizeof p, "/api/sessions/%s/control", id);
    cJSON_Delete(gt_http_expect("POST", p, "{\"action\":\"play\"}", 200));
    pthread_t th[4];
    const char *bodies[4] = {"{\"run\":\"tiny\",\"n\":64}", "{\"run\":\"tiny\",\"n\":64,\"seed\":9}",
                             "{\"run\":\"tiny\",\"mode\":\"interp\",\"frames\":16}",
                             "{\"run\":\"tiny\",\"ckpt\":\"checkpoints/step_000004.safetensors\"}"};
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, explore_thread, (void *)bodies[i]);
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        ok += (int)(intptr_t)r == 200;
    }
    CHECK(ok == 4);
    cJSON_Delete(gt_http_expect("POST", p, "{\"action\":\"pause\"}", 200));
    snprintf(p, sizeof p, "/api/sessions/%s", id);
    cJSON *j = gt_http_expect("GET", p, NULL, 200);
    CHECK(gt_json_num(j, "epoch") > 0);
    cJSON_Delete(j);
}

static void test_info(void) { with_server(test_info_body); }

static void test_grid_matches_sample(void) { with_server(test_grid_matches_sample_body); }

static void test_model_errors(void) { with_server(test_model_errors_body); }

static void test_bad_checkpoints(void) { with_server(test_bad_checkpoints_body); }

static void test_cache_follows_file(void) { with_server(test_cache_follows_file_body); }

static void test_concurrent(void) { with_server(test_concurrent_body); }

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    snprintf(gt_runs_dir, sizeof gt_runs_dir, "%s", gt_test_path("runs"));
    mkdir(gt_runs_dir, 0777);
    if (!train_tiny()) return gt_test_finish();
    RUN(test_info);
    RUN(test_grid_matches_sample);
    RUN(test_model_errors);
    RUN(test_bad_checkpoints);
    RUN(test_cache_follows_file);
    RUN(test_concurrent);
    return gt_test_finish();
}
