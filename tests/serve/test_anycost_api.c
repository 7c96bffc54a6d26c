/* The anycost editor's API (docs/anycost/editor.md) on real checkpoints written as a run writes
 * them: a tiny anycost G (32 px gray, widths 16..4, w_dim 16) built by the library and saved with
 * its config into runs/ac (last.safetensors and checkpoints/step_000002.safetensors), and a tiny
 * DCGAN saved the same way into runs/dc (not anycost). Open (every uniform config measured, sorted
 * by MACs, the class directions), the budget's choice (a tiny budget: the smallest config; a huge
 * one: the full; in between: the largest MACs within), the pictures against the library's own
 * sub-generator outputs, edits changing the picture, and the errors (400 naming the field, 404 for
 * an unknown id, 405, never a crash). Each test runs its own server; gt__anycost_stop frees the
 * editors' nets before the harness counts live tensors. */
#include <pthread.h>

#include "gantry/anycost_edit.h"
#include "gantry/autograd.h"
#include "gantry/checkpoint.h"
#include "gantry/image.h"
#include "gantry/train.h"
#include "runs_util.h"
#include "../train/train_util.h"

void gt__anycost_stop(gt_lab_server *S); /* src/serve/serve_internal.h */

static gt_lab_server *S;
static char ac_ckpt[1100];

static void with_server(void (*fn)(void)) {
    S = gt_runs_start(gt_runs_dir);
    if (!S) return;
    fn();
    gt__anycost_stop(S);
    gt_lab_server_stop(S);
    S = NULL;
}

/* G of c saved as a run saves it ("G." + the config + train.step) into DIR/run/rel. */
static bool save_run(const char *run, gt_train_config *c, const char *rel, uint64_t step) {
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 7);
    bool ok = gt_model_build(&c->model, GT_NET_G, &r, &G) == GT_OK;
    CHECK_MSG(ok, "building %s: %s", c->model.name, gt_last_error());
    if (!ok) return false;
    char *json = gt_train_config_to_json(c);
    char p[1200];
    gt_runs_mkdir("%s/%s", gt_runs_dir, run);
    gt_runs_mkdir("%s/%s/checkpoints", gt_runs_dir, run);
    gt_runs_put(run, "config.json", json, true);
    snprintf(p, sizeof p, "%s/%s/%s", gt_runs_dir, run, rel);
    gt_ckpt k;
    gt_ckpt_init(&k);
    ok = json && gt_ckpt_add_params(&k, "G.", &G.P) == GT_OK && gt_ckpt_add_u64(&k, "train.step", &step, 1) == GT_OK &&
         gt_ckpt_set_meta(&k, "config", json) == GT_OK && gt_ckpt_save(&k, p) == GT_OK;
    CHECK_MSG(ok, "saving %s: %s", p, gt_last_error());
    gt_ckpt_free(&k);
    free(json);
    gt_net_free(&G);
    return ok;
}

static bool make_runs(void) {
    gt_train_config c = gt_train_config_default();
    snprintf(c.data, sizeof c.data, "fashion-mnist");
    c.model = gt_model_config_default("anycost");
    c.model.res = 32, c.model.channels = 1, c.model.nz = 16;
    bool ok = !strcmp(c.model.name, "anycost") && gt_model_opt_set(&c.model, "w_dim", 16) == GT_OK &&
              gt_model_opt_set(&c.model, "n_mlp", 2) == GT_OK && gt_model_opt_set(&c.model, "ch", 4) == GT_OK &&
              gt_model_opt_set(&c.model, "ch_max", 16) == GT_OK && gt_model_opt_set(&c.model, "dch", 4) == GT_OK;
    CHECK_MSG(ok, "the tiny anycost config: %s", gt_last_error());
    ok =
        ok && save_run("ac", &c, "checkpoints/step_000002.safetensors", 2) && save_run("ac", &c, "last.safetensors", 2);
    snprintf(ac_ckpt, sizeof ac_ckpt, "%s/ac/last.safetensors", gt_runs_dir);
    gt_train_config d = gt_train_config_default();
    snprintf(d.data, sizeof d.data, "fashion-mnist");
    d.model = gt_model_config_default("dcgan");
    d.model.res = 28, d.model.channels = 1, d.model.nz = 16;
    gt_model_opt_set(&d.model, "ngf", 8);
    gt_model_opt_set(&d.model, "ndf", 8);
    return ok && save_run("dc", &d, "last.safetensors", 4);
}

static cJSON *open_ac(const char *ckpt) {
    char body[200];
    snprintf(body, sizeof body, "{\"run\":\"ac\",\"ckpt\":\"%s\"}", ckpt);
    return gt_http_expect("POST", "/api/anycost/open", body, 200);
}

/* POST /api/anycost/render: the answer (200) with its PNG decoded into img, else NULL. */
static cJSON *render(const char *id, const char *rest, gt_image *img) {
    char body[600];
    snprintf(body, sizeof body, "{\"id\":\"%s\",%s}", id, rest);
    cJSON *j = gt_http_expect("POST", "/api/anycost/render", body, 200);
    const cJSON *png = cJSON_GetObjectItemCaseSensitive(j, "png");
    if (!cJSON_IsString(png)) {
        cJSON_Delete(j);
        return NULL;
    }
    /* base64 */
    const char *s = png->valuestring;
    size_t n = strlen(s), m = 0;
    unsigned char *buf = malloc(n);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        const char *T = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = strchr(T, s[i]);
        CHECK(p != NULL);
        if (!p) break;
        acc = acc << 6 | (uint32_t)(p - T), bits += 6;
        if (bits >= 8) bits -= 8, buf[m++] = (unsigned char)(acc >> bits);
    }
    CHECK_MSG(gt_png_decode(buf, m, "render", img) == GT_OK, "%s", gt_last_error());
    free(buf);
    CHECK(gt_json_num(j, "width") == img->w && gt_json_num(j, "height") == img->h);
    return j;
}

static const cJSON *cfg_of(const cJSON *j) { return cJSON_GetObjectItemCaseSensitive(j, "config"); }

/* The library's picture of seed through (ratio, res) (ratio 0: the full generator). */
static bool library_image(uint64_t seed, float ratio, int res, gt_image *out) {
    gt_net G;
    gt_train_config cfg;
    bool ema;
    if (gt_load_generator(ac_ckpt, true, &G, &cfg, &ema) != GT_OK) return false;
    bool g = gt_no_grad_begin();
    int sc = gt_scope_begin();
    gt_anycost_sub s = gt_anycost_uniform(ratio, res);
    gt_tensor *z = gt_sample_latents_for(&cfg.model, seed, 1, 0);
    gt_tensor *w = z ? gt_anycost_mapping(&G, z) : NULL;
    gt_tensor *x = w ? gt_anycost_synthesis(&G, w, ratio > 0 ? &s : NULL, NULL, NULL) : NULL;
    bool ok = x && gt_make_grid(x, 1, 0, out) == GT_OK;
    gt_scope_end(sc);
    gt_grad_mode_restore(g);
    gt_net_free(&G);
    return ok;
}

static bool same_image(const gt_image *a, const gt_image *b, int tol) {
    if (a->w != b->w || a->h != b->h || a->c != b->c) return false;
    for (size_t i = 0; i < (size_t)a->w * a->h * a->c; i++)
        if (abs((int)a->data[i] - (int)b->data[i]) > tol) return false;
    return true;
}

/* "edits":{...} moving along the first two directions that exist (a class no generated item of the
 * tiny untrained G fell into has none). */
static const char *active_edits(const cJSON *open, char *buf, size_t n) {
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(open, "directions_active");
    int k[2] = {-1, -1}, m = 0, i = 0;
    for (const cJSON *a = act ? act->child : NULL; a && m < 2; a = a->next, i++)
        if (cJSON_IsTrue(a)) k[m++] = i;
    CHECK_MSG(m == 2, "two directions exist (%d)", m);
    snprintf(buf, n, "\"edits\":{\"%d\":4,\"%d\":-2}", k[0], k[1]);
    return buf;
}

static void test_open_body(void) {
    double t0 = gt_http_now();
    cJSON *j = open_ac("last.safetensors");
    double open_s = gt_http_now() - t0;
    const char *id = gt_json_str(j, "id");
    CHECK_MSG(strlen(id) == 16 && strspn(id, "0123456789abcdef") == 16, "id '%s'", id);
    CHECK(gt_json_num(j, "res") == 32 && !strcmp(gt_json_str(j, "family"), "anycost") && gt_json_num(j, "step") == 2);
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(j, "configs");
    CHECK_MSG(cJSON_GetArraySize(cf) == 12, "configs: %d (4 ratios x levels 8, 16, 32)", cJSON_GetArraySize(cf));
    double last_macs = 0, max_macs = 0;
    int seen[4][3] = {{0}};
    for (const cJSON *c = cf ? cf->child : NULL; c; c = c->next) {
        double ch = gt_json_num(c, "channels"), res = gt_json_num(c, "res"), macs = gt_json_num(c, "macs");
        int ri = ch == 0.25 ? 0 : ch == 0.5 ? 1 : ch == 0.75 ? 2 : ch == 1 ? 3 : -1;
        int li = res == 8 ? 0 : res == 16 ? 1 : res == 32 ? 2 : -1;
        CHECK_MSG(ri >= 0 && li >= 0 && gt_json_num(c, "latency_ms") > 0 && macs >= last_macs,
                  "config %g@%g: macs %g after %g, latency %g", ch, res, macs, last_macs, gt_json_num(c, "latency_ms"));
        if (ri >= 0 && li >= 0) seen[ri][li]++;
        last_macs = macs, max_macs = macs > max_macs ? macs : max_macs;
    }
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++) CHECK(seen[a][b] == 1);
    const cJSON *full = cJSON_GetObjectItemCaseSensitive(j, "full");
    CHECK(gt_json_num(full, "channels") == 1 && gt_json_num(full, "res") == 32 &&
          gt_json_num(full, "macs") == max_macs);
    gt_net G;
    gt_train_config cfg;
    bool ema;
    CHECK(gt_load_generator(ac_ckpt, true, &G, &cfg, &ema) == GT_OK);
    gt_anycost_sub s = gt_anycost_uniform(0.25f, 8);
    CHECK(gt_json_num(cf->child, "macs") == (double)gt_anycost_macs(&cfg.model, &s));
    gt_net_free(&G);
    const cJSON *dirs = cJSON_GetObjectItemCaseSensitive(j, "directions");
    CHECK_MSG(cJSON_GetArraySize(dirs) == 10 && !strcmp(cJSON_GetArrayItem(dirs, 3)->valuestring, "Dress"),
              "10 Fashion-MNIST class directions (%d; %s)", cJSON_GetArraySize(dirs),
              gt_json_str(j, "directions_note"));
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(j, "directions_active");
    int on = 0;
    for (const cJSON *a = act ? act->child : NULL; a; a = a->next) on += cJSON_IsTrue(a);
    CHECK_MSG(cJSON_GetArraySize(act) == 10 && on >= 2, "directions_active: %d of %d", on, cJSON_GetArraySize(act));
    printf("  open: %.2f s (load %.0f ms, measure %.0f ms, directions %.0f ms)\n", open_s,
           gt_json_num(cJSON_GetObjectItemCaseSensitive(j, "open_ms"), "load"),
           gt_json_num(cJSON_GetObjectItemCaseSensitive(j, "open_ms"), "measure"),
           gt_json_num(cJSON_GetObjectItemCaseSensitive(j, "open_ms"), "directions"));
    /* the same file again: the same editor; another checkpoint: another */
    cJSON *j2 = open_ac("last.safetensors");
    CHECK(!strcmp(gt_json_str(j2, "id"), id));
    cJSON_Delete(j2);
    j2 = open_ac("checkpoints/step_000002.safetensors");
    CHECK(strlen(gt_json_str(j2, "id")) == 16 && strcmp(gt_json_str(j2, "id"), id) != 0);
    char body[100];
    snprintf(body, sizeof body, "{\"id\":\"%s\"}", gt_json_str(j2, "id"));
    cJSON_Delete(gt_http_expect("POST", "/api/anycost/close", body, 200));
    CHECK(gt_http_error("POST", "/api/anycost/close", body, "no editor") == 404);
    cJSON_Delete(j2);
    cJSON_Delete(j);
}

static void test_render_body(void) {
    cJSON *o = open_ac("last.safetensors");
    char id[17];
    snprintf(id, sizeof id, "%s", gt_json_str(o, "id"));
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(o, "configs");
    gt_image a = {0}, b = {0}, ref = {0};
    /* a tiny budget: the smallest config (0.25 channels at 8 px), as the library computes it */
    cJSON *j = render(id, "\"seed\":3,\"budget_ms\":0", &a);
    const cJSON *c = cfg_of(j);
    CHECK(gt_json_num(c, "channels") == 0.25 && gt_json_num(c, "res") == 8 && a.w == 8 && a.h == 8 && a.c == 1);
    CHECK(gt_json_num(j, "latency_ms") > 0 && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "final")));
    CHECK(library_image(3, 0.25f, 8, &ref) && same_image(&a, &ref, 1));
    cJSON_Delete(j);
    gt_image_free(&ref);
    /* a huge one: the full generator's config, the same picture as final */
    j = render(id, "\"seed\":3,\"budget_ms\":1e6", &b);
    c = cfg_of(j);
    CHECK(gt_json_num(c, "channels") == 1 && gt_json_num(c, "res") == 32 && b.w == 32);
    cJSON_Delete(j);
    gt_image fin = {0};
    j = render(id, "\"seed\":3,\"final\":true", &fin);
    CHECK(gt_json_num(cfg_of(j), "channels") == 1 && gt_json_num(cfg_of(j), "res") == 32 &&
          gt_json_num(j, "latency_ms") > 0);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "final")) && same_image(&fin, &b, 0));
    CHECK(library_image(3, 0, 0, &ref) && same_image(&fin, &ref, 1));
    gt_image_free(&ref);
    printf("  final: %.2f ms; smallest preview measured %.2f ms\n", gt_json_num(j, "latency_ms"),
           gt_json_num(cf->child, "latency_ms"));
    cJSON_Delete(j);
    /* in between: for each config's measured latency as the budget, the largest MACs within it */
    for (const cJSON *k = cf->child; k; k = k->next) {
        double budget = gt_json_num(k, "latency_ms");
        const cJSON *want = NULL;
        for (const cJSON *q = cf->child; q; q = q->next)
            if (gt_json_num(q, "latency_ms") <= budget &&
                (!want || gt_json_num(q, "macs") >= gt_json_num(want, "macs")))
                want = q;
        char rest[100];
        snprintf(rest, sizeof rest, "\"seed\":3,\"budget_ms\":%.3f", budget);
        gt_image x = {0};
        j = render(id, rest, &x);
        CHECK_MSG(want && gt_json_num(cfg_of(j), "macs") == gt_json_num(want, "macs") &&
                      x.w == (int)gt_json_num(want, "res"),
                  "budget %.3f ms: got %g@%g, want %g@%g", budget, gt_json_num(cfg_of(j), "channels"),
                  gt_json_num(cfg_of(j), "res"), gt_json_num(want, "channels"), gt_json_num(want, "res"));
        cJSON_Delete(j);
        gt_image_free(&x);
    }
    /* deterministic; another seed, an edit and a zero edit */
    gt_image x = {0};
    cJSON_Delete(render(id, "\"seed\":3,\"final\":true,\"budget_ms\":0", &x));
    CHECK(same_image(&x, &fin, 0));
    gt_image_free(&x);
    cJSON_Delete(render(id, "\"seed\":4,\"final\":true", &x));
    CHECK(!same_image(&x, &fin, 0));
    gt_image_free(&x);
    cJSON_Delete(render(id, "\"seed\":3,\"final\":true,\"edits\":{\"3\":0}", &x));
    CHECK(same_image(&x, &fin, 0));
    gt_image_free(&x);
    char ed[100], rest[200];
    active_edits(o, ed, sizeof ed);
    snprintf(rest, sizeof rest, "\"seed\":3,\"final\":true,%s", ed);
    cJSON_Delete(render(id, rest, &x));
    CHECK_MSG(!same_image(&x, &fin, 0), "an edit changes the final picture");
    gt_image_free(&x);
    snprintf(rest, sizeof rest, "\"seed\":3,\"budget_ms\":0,%s", ed);
    cJSON_Delete(render(id, rest, &x));
    CHECK_MSG(x.w == 8 && !same_image(&x, &a, 0), "an edit changes the preview");
    gt_image_free(&x);
    gt_image_free(&a);
    gt_image_free(&b);
    gt_image_free(&fin);
    cJSON_Delete(o);
}

static void test_errors_body(void) {
    const char *P = "/api/anycost/open", *Rp = "/api/anycost/render";
    CHECK(gt_http_error("POST", P, "{\"run\":", "JSON") == 400);
    CHECK(gt_http_error("POST", P, "[1]", "object") == 400);
    CHECK(gt_http_error("POST", P, "{}", "run") == 400);
    CHECK(gt_http_error("POST", P, "{\"run\":\"nope\"}", "run: no run 'nope'") == 400);
    CHECK(gt_http_error("POST", P, "{\"run\":\"../ac\"}", "run must be") == 400);
    CHECK(gt_http_error("POST", P, "{\"run\":5}", "run must be") == 400);
    CHECK(gt_http_error("POST", P, "{\"run\":\"ac\",\"ckpt\":\"../x\"}", "ckpt must be") == 400);
    CHECK(gt_http_error("POST", P, "{\"run\":\"ac\",\"ckpt\":\"checkpoints/step_000009.safetensors\"}",
                        "ckpt: no checkpoint") == 400);
    CHECK(gt_http_error("POST", P, "{\"run\":\"dc\"}", "'dcgan' model, not anycost") == 400);
    CHECK(gt_http_error("POST", P, "{\"run\":\"ac\",\"seed\":1}", "unknown field 'seed'") == 400);
    char bad[1100];
    snprintf(bad, sizeof bad, "%s/ac/checkpoints/step_000003.safetensors", gt_runs_dir);
    CHECK(gt_test_write_all(bad, "not a checkpoint", 16));
    CHECK(gt_http_error("POST", P, "{\"run\":\"ac\",\"ckpt\":\"checkpoints/step_000003.safetensors\"}", "ckpt") == 422);
    CHECK(gt_http_error("GET", P, NULL, NULL) == 405);
    CHECK(gt_http_error("POST", "/api/anycost/nothing", "{}", "no such path") == 404);
    cJSON *o = open_ac("last.safetensors");
    const char *id = gt_json_str(o, "id");
    char body[300];
#define RB(fmt, ...) (snprintf(body, sizeof body, fmt, __VA_ARGS__), body)
    CHECK(gt_http_error("POST", Rp, "{\"id\":\"0123456789abcdef\",\"budget_ms\":1}", "no editor") == 404);
    CHECK(gt_http_error("POST", Rp, "{\"id\":\"xyz\",\"budget_ms\":1}", "id must be") == 400);
    CHECK(gt_http_error("POST", Rp, "{\"budget_ms\":1}", "id") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\"}", id), "budget_ms") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"budget_ms\":-1}", id), "budget_ms") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"budget_ms\":\"5\"}", id), "budget_ms") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"final\":1}", id), "final") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"final\":true,\"seed\":-1}", id), "seed") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"final\":true,\"seed\":1.5}", id), "seed") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"final\":true,\"edits\":{\"3\":10.5}}", id),
                        "edits.3 must be a strength in -10..10") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"final\":true,\"edits\":{\"3\":-11}}", id), "edits.3") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"final\":true,\"edits\":{\"3\":\"x\"}}", id), "edits.3") ==
          400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"final\":true,\"edits\":{\"12\":1}}", id),
                        "unknown direction '12'") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"final\":true,\"edits\":{\"dress\":1}}", id),
                        "unknown direction 'dress'") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"final\":true,\"edits\":[1]}", id), "edits must be") == 400);
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"final\":true,\"zoom\":2}", id), "unknown field 'zoom'") ==
          400);
#undef RB
    CHECK(gt_lab_alive());
    cJSON_Delete(o);
}

/* An uploaded picture (here G's own seed-9 picture) projected into w: its error falls, renders of it
 * show about that error, previews and edits work on it; the upload's errors. */
static void test_project_body(void) {
    cJSON *o = open_ac("last.safetensors");
    char id[17], body[300];
    snprintf(id, sizeof id, "%s", gt_json_str(o, "id"));
    char ed[100], rest[200];
    active_edits(o, ed, sizeof ed);
    cJSON_Delete(o);
    const char *Pp = "/api/anycost/project", *Rp = "/api/anycost/render";
#define RB(fmt, ...) (snprintf(body, sizeof body, fmt, __VA_ARGS__), body)
    CHECK(gt_http_error("POST", Rp, RB("{\"id\":\"%s\",\"projected\":true,\"final\":true}", id),
                        "projected: no image") == 400);
    CHECK(gt_http_error("POST", Pp, RB("{\"id\":\"%s\",\"pixels\":[1,2,3]}", id),
                        "pixels: this model takes a 32x32 picture with 1 channel") == 400);
    CHECK(gt_http_error("POST", Pp, RB("{\"id\":\"%s\",\"pixels\":[1,2,3,256]}", id), "pixels[3] must be") == 400);
    CHECK(gt_http_error("POST", Pp, RB("{\"id\":\"%s\",\"pixels\":\"x\"}", id), "pixels must be") == 400);
    CHECK(gt_http_error("POST", Pp, RB("{\"id\":\"%s\"}", id), "pixels") == 400);
    CHECK(gt_http_error("POST", Pp, RB("{\"id\":\"%s\",\"pixels\":[1],\"steps\":0}", id), "steps must be") == 400);
    CHECK(gt_http_error("POST", Pp, "{\"id\":\"0123456789abcdef\",\"pixels\":[1]}", "no editor") == 404);
#undef RB
    gt_image target = {0}, got = {0};
    cJSON_Delete(render(id, "\"seed\":9,\"final\":true", &target));
    CHECK(target.w == 32 && target.c == 1);
    static char up[8192];
    int at = snprintf(up, sizeof up, "{\"id\":\"%s\",\"steps\":40,\"pixels\":[", id);
    for (int i = 0; i < target.w * target.h; i++)
        at += snprintf(up + at, sizeof up - at, "%s%d", i ? "," : "", target.data[i]);
    snprintf(up + at, sizeof up - at, "]}");
    cJSON *p = gt_http_expect("POST", Pp, up, 200);
    double before = gt_json_num(p, "mse_before"), after = gt_json_num(p, "mse_after");
    CHECK_MSG(after < before && gt_json_num(p, "steps") == 40, "projection: MSE %g -> %g", before, after);
    printf("  projection (40 steps): MSE %.4f -> %.4f in %.0f ms\n", before, after, gt_json_num(p, "ms"));
    cJSON_Delete(p);
    cJSON *j = render(id, "\"projected\":true,\"final\":true", &got);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "projected")) &&
          cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "seed")));
    cJSON_Delete(j);
    double mse = 0;
    for (int i = 0; i < got.w * got.h; i++) {
        double d = (got.data[i] - target.data[i]) / 127.5;
        mse += d * d / (got.w * got.h);
    }
    CHECK_MSG(got.w == 32 && fabs(mse - after) < 0.01 + 0.1 * after, "the projected picture's MSE %g (the server's %g)",
              mse, after);
    gt_image x = {0};
    cJSON_Delete(render(id, "\"projected\":true,\"budget_ms\":0", &x));
    CHECK(x.w == 8);
    gt_image_free(&x);
    snprintf(rest, sizeof rest, "\"projected\":true,\"final\":true,%s", ed);
    cJSON_Delete(render(id, rest, &x));
    CHECK(x.w == 32 && !same_image(&x, &got, 0));
    gt_image_free(&x);
    gt_image_free(&got);
    gt_image_free(&target);
}

static void *open_thread(void *arg) {
    gt_http_resp r;
    int st = gt_http("POST", "/api/anycost/open", arg, &r);
    gt_http_free(&r);
    return (void *)(intptr_t)st;
}

static void *render_thread(void *arg) {
    gt_http_resp r;
    int st = gt_http("POST", "/api/anycost/render", arg, &r);
    gt_http_free(&r);
    return (void *)(intptr_t)st;
}

/* Renders and an open at once, while a lab session trains on the worker thread: one at a time on
 * the editor's thread, all answered. */
static void test_concurrent_body(void) {
    cJSON *o = open_ac("last.safetensors");
    char id[17], sid[17], p[128], bodies[6][200];
    snprintf(id, sizeof id, "%s", gt_json_str(o, "id"));
    cJSON_Delete(o);
    CHECK(gt_lab_session(NULL, sid));
    snprintf(p, sizeof p, "/api/sessions/%s/control", sid);
    cJSON_Delete(gt_http_expect("POST", p, "{\"action\":\"play\"}", 200));
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        if (i == 5)
            snprintf(bodies[i], sizeof bodies[i], "{\"run\":\"ac\",\"ckpt\":\"checkpoints/step_000002.safetensors\"}");
        else
            snprintf(bodies[i], sizeof bodies[i], "{\"id\":\"%s\",\"seed\":%d,%s}", id, i,
                     i % 2 ? "\"final\":true" : "\"budget_ms\":0.2");
        pthread_create(&th[i], NULL, i == 5 ? open_thread : render_thread, bodies[i]);
    }
    int ok = 0;
    for (int i = 0; i < 6; i++) {
        void *r;
        pthread_join(th[i], &r);
        ok += (int)(intptr_t)r == 200;
    }
    CHECK_MSG(ok == 6, "%d of 6 answered 200", ok);
    cJSON_Delete(gt_http_expect("POST", p, "{\"action\":\"pause\"}", 200));
    CHECK(gt_lab_alive());
}

/* A server whose idle time is 1 s: an editor unused that long is freed at the next request (404),
 * and opening the file again gives a new one. */
static void test_idle(void) {
    gt_lab_server_opts op = {.host = "127.0.0.1",
                             .port = 0,
                             .web_dir = gt_lab_web_make(),
                             .quiet = true,
                             .runs_dir = gt_runs_dir,
                             .idle_s = 1};
    S = NULL;
    CHECK_MSG(gt_lab_server_start(&op, &S) == GT_OK, "%s", gt_last_error());
    if (!S) return;
    gt_lab_port = gt_lab_server_port(S);
    cJSON *o = open_ac("last.safetensors");
    char id[17], body[100];
    snprintf(id, sizeof id, "%s", gt_json_str(o, "id"));
    cJSON_Delete(o);
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"final\":true}", id);
    cJSON_Delete(gt_http_expect("POST", "/api/anycost/render", body, 200));
    gt_http_sleep(1.3);
    CHECK(gt_http_error("POST", "/api/anycost/render", body, "unused for") == 404);
    o = open_ac("last.safetensors");
    CHECK(strlen(gt_json_str(o, "id")) == 16 && strcmp(gt_json_str(o, "id"), id) != 0);
    cJSON_Delete(o);
    gt__anycost_stop(S);
    gt_lab_server_stop(S);
    S = NULL;
}

static void test_open(void) { with_server(test_open_body); }
static void test_concurrent(void) { with_server(test_concurrent_body); }
static void test_project(void) { with_server(test_project_body); }
static void test_render(void) { with_server(test_render_body); }
static void test_errors(void) { with_server(test_errors_body); }

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    snprintf(gt_runs_dir, sizeof gt_runs_dir, "%s", gt_test_path("runs"));
    mkdir(gt_runs_dir, 0777);
    if (!make_runs()) return gt_test_finish();
    RUN(test_open);
    RUN(test_render);
    RUN(test_errors);
    RUN(test_project);
    RUN(test_concurrent);
    RUN(test_idle);
    return gt_test_finish();
}
