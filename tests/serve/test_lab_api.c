/* The lab server's API (docs/LAB.md), in this process on a free port, through raw sockets: every
 * endpoint and its errors, the session model (create, config rebuilds, control, limit, DELETE,
 * idle expiry), Server-Sent Events, the safetensors export, static files, a clean stop with open
 * streams. No timings are asserted beyond "it moved" and "it stopped". */
#include <pthread.h>

#include "lab_http.h"

static gt_lab_server *S;

static char *gt__path(char *buf, size_t n, const char *id, const char *what) {
    if (snprintf(buf, n, "/api/sessions/%s%s", id, what) >= (int)n) buf[0] = 0;
    return buf;
}

static void test_options(void) {
    cJSON *j = gt_http_expect("GET", "/api/options", NULL, 200);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    bool ring = false;
    for (const cJSON *v = data ? data->child : NULL; v; v = v->next) ring |= cJSON_IsString(v) && !strcmp(v->valuestring, "ring");
    CHECK(ring);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "loss")) == GT_LAB_LOSS_COUNT);
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(j, "limits");
    const cJSON *neu = cJSON_GetObjectItemCaseSensitive(lim, "neurons");
    CHECK(cJSON_GetArraySize(neu) == 2 && cJSON_GetArrayItem(neu, 1)->valuedouble == 256);
    CHECK(gt_json_num(lim, "drawn") == 4096);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "defaults");
    gt_lab_config def = gt_lab_config_default();
    CHECK(gt_json_num(d, "batch") == def.batch && gt_json_num(d, "g_neurons") == def.g_neurons);
    cJSON_Delete(j);
    CHECK(gt_http_error("POST", "/api/options", "{}", "method") == 405);
    CHECK(gt_http_error("GET", "/api/nothing", NULL, "no such path") == 404);
    CHECK(gt_http_error("GET", "/api/sessions", NULL, "method") == 405);
    CHECK(gt_http_error("PUT", "/api/sessions", "{}", "method") == 405);
}

static void test_create_get_delete(void) {
    cJSON *j = gt_http_expect("POST", "/api/sessions", NULL, 201);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    CHECK(cJSON_IsString(id) && strlen(id->valuestring) == 16 && strspn(id->valuestring, "0123456789abcdef") == 16);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    gt_lab_config def = gt_lab_config_default();
    CHECK(cJSON_IsObject(cfg) && cJSON_GetArraySize(cfg) == 18);
    CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(cfg, "data")->valuestring, gt_lab_data_name(def.data)));
    CHECK(gt_json_num(j, "epoch") == 0 && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "playing")));
    char sid[17], p[128];
    snprintf(sid, sizeof sid, "%s", id->valuestring);
    cJSON_Delete(j);

    j = gt_http_expect("GET", gt__path(p, sizeof p, sid, ""), NULL, 200);
    const char *keys[] = {"id", "config", "epoch", "playing", "slow", "epochs_per_s", "loss_d", "loss_g", "kl", "js"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK_MSG(cJSON_GetObjectItemCaseSensitive(j, keys[i]), "GET session lacks %s", keys[i]);
    cJSON_Delete(j);
    CHECK(gt_http_error("PUT", p, "{}", "method") == 405);
    CHECK(gt_http_error("POST", p, "{}", "method") == 405);

    /* partial config: the rest are the defaults */
    j = gt_http_expect("POST", "/api/sessions", "{\"data\": \"ring\", \"g_neurons\": 16, \"noise_dim\": 1}", 201);
    cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(cfg, "data")->valuestring, "ring"));
    CHECK(gt_json_num(cfg, "g_neurons") == 16 && gt_json_num(cfg, "noise_dim") == 1);
    CHECK(gt_json_num(cfg, "d_neurons") == def.d_neurons && gt_json_num(cfg, "batch") == def.batch);
    char sid2[17];
    snprintf(sid2, sizeof sid2, "%s", cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring);
    cJSON_Delete(j);

    /* a drawn distribution */
    j = gt_http_expect("POST", "/api/sessions", "{\"data\": \"drawn\", \"drawn\": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]}", 201);
    cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    const cJSON *drawn = cJSON_GetObjectItemCaseSensitive(cfg, "drawn");
    CHECK(cJSON_GetArraySize(drawn) == 3 && fabs(cJSON_GetArrayItem(cJSON_GetArrayItem(drawn, 2), 1)->valuedouble - 0.6) < 1e-6);
    char sid3[17];
    snprintf(sid3, sizeof sid3, "%s", cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring);
    cJSON_Delete(j);

    gt_http_resp r;
    CHECK(gt_http("DELETE", gt__path(p, sizeof p, sid, ""), NULL, &r) == 204);
    gt_http_free(&r);
    CHECK(gt_http_error("GET", p, NULL, "no session") == 404);
    CHECK(gt_http_error("DELETE", p, NULL, "no session") == 404);
    CHECK(gt_http_error("GET", gt__path(p, sizeof p, sid, "/frame"), NULL, "no session") == 404);
    CHECK(gt_http_error("GET", "/api/sessions/0123456789abcdef", NULL, "no session") == 404);
    CHECK(gt_http_error("GET", "/api/sessions/0123456789abcdef/nope", NULL, "no such path") == 404);
    CHECK(gt_http_error("GET", "/api/sessions/", NULL, "no such path") == 404);
    CHECK(gt_http("DELETE", gt__path(p, sizeof p, sid2, ""), NULL, &r) == 204);
    gt_http_free(&r);
    CHECK(gt_http("DELETE", gt__path(p, sizeof p, sid3, ""), NULL, &r) == 204);
    gt_http_free(&r);
    CHECK(gt_lab_server_sessions(S) == 0);
}

static cJSON *gt__control(const char *id, const char *body) {
    char p[128];
    return gt_http_expect("POST", gt__path(p, sizeof p, id, "/control"), body, 200);
}

static double gt__epoch(const char *id) {
    char p[128];
    cJSON *j = gt_http_expect("GET", gt__path(p, sizeof p, id, ""), NULL, 200);
    double e = gt_json_num(j, "epoch");
    cJSON_Delete(j);
    return e;
}

static void test_config_and_control(void) {
    char id[17], p[128];
    if (!gt_lab_session(NULL, id)) return;
    cJSON *j = gt__control(id, "{\"action\": \"step\", \"epochs\": 7}");
    CHECK(gt_json_num(j, "epoch") == 7);
    cJSON_Delete(j);
    cJSON_Delete(gt__control(id, "{\"action\": \"step\"}")); /* default: one */
    CHECK(gt__epoch(id) == 8);
    cJSON_Delete(gt__control(id, "{\"action\": \"step\", \"which\": \"d\", \"epochs\": 2}"));
    cJSON_Delete(gt__control(id, "{\"action\": \"step\", \"which\": \"g\"}"));
    CHECK(gt__epoch(id) == 11);

    /* learning rates apply at once, the architecture rebuilds (epoch 0) */
    j = gt_http_expect("POST", gt__path(p, sizeof p, id, "/config"), "{\"lr_g\": 0.01, \"d_steps\": 1}", 200);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    CHECK(fabs(gt_json_num(cfg, "lr_g") - 0.01) < 1e-7 && gt_json_num(cfg, "d_steps") == 1);
    CHECK(gt_json_num(j, "epoch") == 11);
    cJSON_Delete(j);
    j = gt_http_expect("POST", p, "{\"g_neurons\": 12}", 200);
    CHECK(gt_json_num(j, "epoch") == 0 && gt_json_num(cJSON_GetObjectItemCaseSensitive(j, "config"), "g_neurons") == 12);
    CHECK(fabs(gt_json_num(cJSON_GetObjectItemCaseSensitive(j, "config"), "lr_g") - 0.01) < 1e-7); /* kept */
    cJSON_Delete(j);
    cJSON_Delete(gt__control(id, "{\"action\": \"step\", \"epochs\": 3}"));
    j = gt_http_expect("POST", p, "{\"data\": \"ring\"}", 200);
    CHECK(gt_json_num(j, "epoch") == 0);
    cJSON_Delete(j);
    cJSON_Delete(gt_http_expect("POST", p, "", 200)); /* no body: nothing changes */
    CHECK(gt_http_error("POST", p, "{\"bogus\": 1}", "bogus") == 400);
    CHECK(gt_http_error("POST", p, "{\"g_neurons\": 300}", "g_neurons") == 400);
    CHECK(gt_http_error("POST", p, "{\"loss\": \"l2\"}", "loss") == 400);
    CHECK(gt_http_error("GET", p, NULL, "method") == 405);

    /* play: the epoch moves; pause: it stops; reset: back to 0 */
    j = gt__control(id, "{\"action\": \"play\"}");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "playing")));
    cJSON_Delete(j);
    double e0 = gt__epoch(id), t0 = gt_http_now();
    while (gt__epoch(id) <= e0 + 10 && gt_http_now() - t0 < 20) gt_http_sleep(0.05);
    CHECK(gt__epoch(id) > e0 + 10);
    gt_http_sleep(0.6);
    j = gt_http_expect("GET", gt__path(p, sizeof p, id, ""), NULL, 200);
    CHECK(gt_json_num(j, "epochs_per_s") > 0);
    CHECK(isfinite(gt_json_num(j, "loss_d")) && isfinite(gt_json_num(j, "kl")));
    cJSON_Delete(j);
    j = gt__control(id, "{\"action\": \"pause\"}");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "playing")));
    cJSON_Delete(j);
    double e1 = gt__epoch(id);
    gt_http_sleep(0.2);
    CHECK(gt__epoch(id) == e1);
    j = gt__control(id, "{\"action\": \"reset\"}");
    CHECK(gt_json_num(j, "epoch") == 0);
    cJSON_Delete(j);

    /* slow motion: about 10 epochs a second */
    j = gt__control(id, "{\"action\": \"play\", \"slow\": true}");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "slow")));
    cJSON_Delete(j);
    gt_http_sleep(0.5);
    double es = gt__epoch(id);
    CHECK_MSG(es >= 1 && es <= 30, "slow motion: %g epochs in 0.5 s", es);
    cJSON_Delete(gt__control(id, "{\"slow\": false}"));
    cJSON_Delete(gt__control(id, "{\"action\": \"pause\"}"));

    gt__path(p, sizeof p, id, "/control");
    CHECK(gt_http_error("POST", p, "{\"action\": \"jump\"}", "action") == 400);
    CHECK(gt_http_error("POST", p, "{\"action\": \"step\", \"epochs\": 0}", "epochs") == 400);
    CHECK(gt_http_error("POST", p, "{\"action\": \"step\", \"epochs\": 1001}", "epochs") == 400);
    CHECK(gt_http_error("POST", p, "{\"action\": \"step\", \"epochs\": 2.5}", "epochs") == 400);
    CHECK(gt_http_error("POST", p, "{\"action\": \"step\", \"which\": \"x\"}", "which") == 400);
    CHECK(gt_http_error("POST", p, "{\"slow\": \"yes\"}", "slow") == 400);
    CHECK(gt_http_error("POST", p, "{\"speed\": 2}", "speed") == 400);
    CHECK(gt_http_error("POST", p, "{}", "action") == 400);
    CHECK(gt_http_error("POST", p, "", "JSON") == 400);
    CHECK(gt_http_error("GET", p, NULL, "method") == 405);
    gt_http_resp r;
    gt_http("DELETE", gt__path(p, sizeof p, id, ""), NULL, &r);
    gt_http_free(&r);
}

static void gt__check_frame(const cJSON *f, int batch, int h) {
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(f, "epoch")));
    const char *nums[] = {"loss_d", "loss_g", "kl", "js"};
    for (int i = 0; i < 4; i++) CHECK_MSG(cJSON_GetObjectItemCaseSensitive(f, nums[i]), "frame lacks %s", nums[i]);
    const char *sets[] = {"real", "fake", "grad"};
    for (int i = 0; i < 3; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(f, sets[i]);
        CHECK_MSG(cJSON_GetArraySize(a) == batch && cJSON_GetArraySize(cJSON_GetArrayItem(a, 0)) == 2,
                  "frame's %s: %d points, want %d", sets[i], cJSON_GetArraySize(a), batch);
    }
    const cJSON *heat = cJSON_GetObjectItemCaseSensitive(f, "heat");
    CHECK(cJSON_GetArraySize(heat) == 30 && cJSON_GetArraySize(cJSON_GetArrayItem(heat, 29)) == 30);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(f, "manifold");
    int w = (int)gt_json_num(m, "w"), mh = (int)gt_json_num(m, "h");
    CHECK_MSG(w == 21 && mh == h, "manifold %d x %d, want 21 x %d", w, mh, h);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "points")) == w * mh);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "density")) == (h == 1 ? 20 : 400));
}

/* Config changes sent at once (a page's controls changed in quick succession) all land: each
 * merges into the config the one before it left, none undoes another. */
typedef struct {
    const char *path, *body;
    int status;
} gt__post;

static void *gt__post_thread(void *arg) {
    gt__post *q = arg;
    gt_http_resp r;
    q->status = gt_http("POST", q->path, q->body, &r);
    gt_http_free(&r);
    return NULL;
}

static void test_concurrent_config(void) {
    char id[17], p[128];
    if (!gt_lab_session(NULL, id)) return;
    gt__path(p, sizeof p, id, "/config");
    const char *bodies[3] = {"{\"g_layers\": 3}", "{\"d_layers\": 0}", "{\"g_neurons\": 12}"};
    bool all = true;
    for (int round = 0; round < 5; round++) {
        cJSON_Delete(gt_http_expect("POST", p, "{\"g_layers\": 1, \"d_layers\": 1, \"g_neurons\": 8}", 200));
        gt__post q[3];
        pthread_t th[3];
        for (int i = 0; i < 3; i++) {
            q[i] = (gt__post){p, bodies[i], 0};
            pthread_create(&th[i], NULL, gt__post_thread, &q[i]);
        }
        for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
        cJSON *j = gt_http_expect("GET", gt__path(p, sizeof p, id, ""), NULL, 200);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "config");
        bool ok = q[0].status == 200 && q[1].status == 200 && q[2].status == 200 && gt_json_num(c, "g_layers") == 3 &&
                  gt_json_num(c, "d_layers") == 0 && gt_json_num(c, "g_neurons") == 12;
        CHECK_MSG(ok, "round %d: three config changes at once: g_layers %g, d_layers %g, g_neurons %g", round,
                  gt_json_num(c, "g_layers"), gt_json_num(c, "d_layers"), gt_json_num(c, "g_neurons"));
        all = all && ok;
        cJSON_Delete(j);
        gt__path(p, sizeof p, id, "/config");
    }
    (void)all;
    cJSON_Delete(gt_http_expect("DELETE", gt__path(p, sizeof p, id, ""), NULL, 204));
}

static void test_frame_history_trace(void) {
    char id[17], id1[17], p[128];
    if (!gt_lab_session("{\"batch\": 100}", id) || !gt_lab_session("{\"noise_dim\": 1}", id1)) return;
    cJSON *f = gt_http_expect("GET", gt__path(p, sizeof p, id, "/frame"), NULL, 200);
    gt__check_frame(f, 100, 21);
    cJSON_Delete(f);
    CHECK(gt_http_error("POST", p, "{}", "method") == 405);
    f = gt_http_expect("GET", gt__path(p, sizeof p, id1, "/frame"), NULL, 200);
    gt__check_frame(f, gt_lab_config_default().batch, 1);
    cJSON_Delete(f);

    cJSON_Delete(gt__control(id, "{\"action\": \"step\", \"epochs\": 40}"));
    f = gt_http_expect("GET", gt__path(p, sizeof p, id, "/frame"), NULL, 200);
    CHECK(gt_json_num(f, "epoch") == 40);
    cJSON_Delete(f);

    cJSON *h = gt_http_expect("GET", gt__path(p, sizeof p, id, "/history"), NULL, 200);
    const cJSON *pts = cJSON_GetObjectItemCaseSensitive(h, "points");
    int n = cJSON_GetArraySize(pts);
    CHECK(n >= 2 && n <= 2000);
    const cJSON *last = cJSON_GetArrayItem(pts, n - 1);
    CHECK(cJSON_GetArraySize(last) == 5 && cJSON_GetArrayItem(last, 0)->valuedouble <= 40 &&
          cJSON_GetArrayItem(last, 0)->valuedouble > cJSON_GetArrayItem(cJSON_GetArrayItem(pts, 0), 0)->valuedouble);
    cJSON_Delete(h);
    h = gt_http_expect("GET", gt__path(p, sizeof p, id, "/history?max=3"), NULL, 200);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(h, "points")) == 3);
    cJSON_Delete(h);
    CHECK(gt_http_error("GET", gt__path(p, sizeof p, id, "/history?max=0"), NULL, "max") == 400);
    CHECK(gt_http_error("GET", gt__path(p, sizeof p, id, "/history?max=2001"), NULL, "max") == 400);
    CHECK(gt_http_error("GET", gt__path(p, sizeof p, id, "/history?max=abc"), NULL, "max") == 400);

    cJSON *t = gt_http_expect("POST", gt__path(p, sizeof p, id, "/trace"), NULL, 200);
    CHECK(gt_json_num(t, "epoch") == 41);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, "fake")) == 100);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, "grad_g")) == 100);
    CHECK(gt_json_num(t, "n_params_d") > 0 && gt_json_num(t, "n_params_g") > 0);
    const char *norms[] = {"loss_d", "loss_g", "grad_norm_d", "grad_norm_g", "update_norm_d", "update_norm_g"};
    for (int i = 0; i < 6; i++) CHECK_MSG(isfinite(gt_json_num(t, norms[i])), "trace's %s", norms[i]);
    cJSON_Delete(t);
    cJSON_Delete(gt_http_expect("POST", p, "{}", 200));
    CHECK(gt_http_error("POST", p, "{\"steps\": 2}", "steps") == 400);
    CHECK(gt_http_error("GET", p, NULL, "method") == 405);
    gt_http_resp r;
    gt_http("DELETE", gt__path(p, sizeof p, id, ""), NULL, &r), gt_http_free(&r);
    gt_http("DELETE", gt__path(p, sizeof p, id1, ""), NULL, &r), gt_http_free(&r);
}

static void test_export(void) {
    char id[17], p[128];
    if (!gt_lab_session(NULL, id)) return;
    cJSON_Delete(gt__control(id, "{\"action\": \"step\", \"epochs\": 5}"));
    gt_http_resp r;
    CHECK(gt_http("GET", gt__path(p, sizeof p, id, "/export"), NULL, &r) == 200);
    char v[256] = "";
    CHECK(gt_http_header(&r, "Content-Type", v, sizeof v) && !strcmp(v, "application/octet-stream"));
    CHECK(gt_http_header(&r, "Content-Disposition", v, sizeof v) &&
          strstr(v, "attachment; filename=\"gantry-lab-5.safetensors\""));
    /* safetensors: u64 header length, the JSON header, the data the offsets point into */
    uint64_t hn = 0;
    for (int i = 7; i >= 0 && r.n >= 8; i--) hn = hn << 8 | (unsigned char)r.body[i];
    CHECK_MSG(r.n > 8 && hn > 2 && 8 + hn <= r.n, "export: %zu bytes, header %llu", r.n, (unsigned long long)hn);
    cJSON *h = r.n > 8 && 8 + hn <= r.n ? cJSON_ParseWithLength(r.body + 8, (size_t)hn) : NULL;
    CHECK(cJSON_IsObject(h));
    int g = 0, d = 0;
    size_t data = r.n - 8 - (size_t)hn;
    for (const cJSON *t = h ? h->child : NULL; t; t = t->next) {
        if (!strcmp(t->string, "__metadata__")) {
            CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(t, "gantry.lab.config")));
            continue;
        }
        g += !strncmp(t->string, "G.", 2), d += !strncmp(t->string, "D.", 2);
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
        CHECK(cJSON_GetArraySize(off) == 2 && cJSON_GetArrayItem(off, 1)->valuedouble <= (double)data);
        CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(t, "dtype")->valuestring, "F32"));
    }
    CHECK_MSG(g > 0 && d > 0, "export: %d G tensors, %d D tensors", g, d);
    cJSON_Delete(h);
    gt_http_free(&r);
    CHECK(gt_http_error("POST", p, "{}", "method") == 405);
    gt_http("DELETE", gt__path(p, sizeof p, id, ""), NULL, &r), gt_http_free(&r);
}

static void test_events(void) {
    char id[17], p[128];
    if (!gt_lab_session(NULL, id)) return;
    gt_sse s;
    CHECK(gt_sse_open(&s, gt__path(p, sizeof p, id, "/events")) == 200);
    gt_http_resp hd;
    memcpy(hd.head, s.head, sizeof hd.head);
    char v[128] = "", ev[32];
    CHECK(gt_http_header(&hd, "Content-Type", v, sizeof v) && !strncmp(v, "text/event-stream", 17));
    char *data = gt_sse_next(&s, ev, 10); /* one frame at once, paused or not */
    CHECK_MSG(data && !strcmp(ev, "frame"), "no first frame (event '%s')", ev);
    cJSON *f = data ? cJSON_Parse(data) : NULL;
    if (f) gt__check_frame(f, gt_lab_config_default().batch, 21);
    double e_prev = gt_json_num(f, "epoch");
    cJSON_Delete(f), free(data);

    cJSON_Delete(gt__control(id, "{\"action\": \"play\"}"));
    int frames = 0, rising = 0;
    for (int i = 0; i < 4; i++) {
        data = gt_sse_next(&s, ev, 10);
        if (!data) break;
        f = cJSON_Parse(data);
        double e = gt_json_num(f, "epoch");
        frames++, rising += e > e_prev;
        e_prev = e;
        cJSON_Delete(f), free(data);
    }
    CHECK_MSG(frames == 4 && rising == 4, "%d frames while playing, %d with a larger epoch", frames, rising);

    /* several streams of one session share its frames */
    gt_sse more[3];
    for (int i = 0; i < 3; i++) {
        CHECK(gt_sse_open(&more[i], gt__path(p, sizeof p, id, "/events?fps=10")) == 200);
        data = gt_sse_next(&more[i], ev, 10);
        CHECK(data && !strcmp(ev, "frame"));
        free(data);
    }
    for (int i = 0; i < 3; i++) gt_sse_close(&more[i]);

    /* pausing: frames stop once the last change is sent */
    cJSON_Delete(gt__control(id, "{\"action\": \"pause\"}"));
    double e_paused = gt__epoch(id);
    while ((data = gt_sse_next(&s, ev, 0.5)) != NULL) {
        f = cJSON_Parse(data);
        CHECK(gt_json_num(f, "epoch") <= e_paused);
        cJSON_Delete(f), free(data);
    }
    /* a step while paused is a change: one frame */
    cJSON_Delete(gt__control(id, "{\"action\": \"step\", \"epochs\": 3}"));
    data = gt_sse_next(&s, ev, 10);
    f = data ? cJSON_Parse(data) : NULL;
    CHECK_MSG(gt_json_num(f, "epoch") == e_paused + 3, "after a step: epoch %g, want %g", gt_json_num(f, "epoch"), e_paused + 3);
    cJSON_Delete(f), free(data);

    /* DELETE ends the stream */
    gt_http_resp r;
    gt_http("DELETE", gt__path(p, sizeof p, id, ""), NULL, &r), gt_http_free(&r);
    CHECK(gt_sse_next(&s, ev, 10) == NULL);
    gt_sse_close(&s);

    if (!gt_lab_session(NULL, id)) return;
    CHECK(gt_http_error("GET", gt__path(p, sizeof p, id, "/events?fps=0"), NULL, "fps") == 400);
    CHECK(gt_http_error("GET", gt__path(p, sizeof p, id, "/events?fps=31"), NULL, "fps") == 400);
    CHECK(gt_http_error("GET", gt__path(p, sizeof p, id, "/events?fps=abc"), NULL, "fps") == 400);
    CHECK(gt_http_error("POST", gt__path(p, sizeof p, id, "/events"), "{}", "method") == 405);
    CHECK(gt_http_error("GET", "/api/sessions/ffffffffffffffff/events", NULL, "no session") == 404);
    gt_http("DELETE", gt__path(p, sizeof p, id, ""), NULL, &r), gt_http_free(&r);
}

static void test_session_limit(void) {
    char ids[GT_LAB_SERVER_MAX_SESSIONS][17], p[128];
    int n = 0;
    while (n < GT_LAB_SERVER_MAX_SESSIONS && gt_lab_session("{\"batch\": 8}", ids[n])) n++;
    CHECK(n == GT_LAB_SERVER_MAX_SESSIONS);
    CHECK(gt_http_error("POST", "/api/sessions", NULL, "too many sessions") == 503);
    CHECK(gt_lab_alive());
    gt_http_resp r;
    CHECK(gt_http("DELETE", gt__path(p, sizeof p, ids[0], ""), NULL, &r) == 204);
    gt_http_free(&r);
    CHECK(gt_lab_session(NULL, ids[0]));
    for (int i = 0; i < n; i++) gt_http("DELETE", gt__path(p, sizeof p, ids[i], ""), NULL, &r), gt_http_free(&r);
    CHECK(gt_lab_server_sessions(S) == 0);
}

static void test_static(void) {
    gt_http_resp r;
    char v[128];
    CHECK(gt_http("GET", "/", NULL, &r) == 200 && r.body && !strcmp(r.body, GT_LAB_INDEX));
    CHECK(gt_http_header(&r, "Content-Type", v, sizeof v) && !strncmp(v, "text/html", 9));
    gt_http_free(&r);
    CHECK(gt_http("GET", "/index.html", NULL, &r) == 200 && r.body && !strcmp(r.body, GT_LAB_INDEX));
    gt_http_free(&r);
    CHECK(gt_http("GET", "/app.js", NULL, &r) == 200 && r.body && !strcmp(r.body, GT_LAB_APP));
    CHECK(gt_http_header(&r, "Content-Type", v, sizeof v) && !strncmp(v, "text/javascript", 15));
    gt_http_free(&r);
    CHECK(gt_http("GET", "/sub/page.css", NULL, &r) == 200);
    CHECK(gt_http_header(&r, "Content-Type", v, sizeof v) && !strncmp(v, "text/css", 8));
    gt_http_free(&r);
    CHECK(gt_http("HEAD", "/app.js", NULL, &r) == 200 && r.n == 0);
    gt_http_free(&r);
    CHECK(gt_http("GET", "/missing.js", NULL, &r) == 404);
    gt_http_free(&r);
    CHECK(gt_http("GET", "/sub", NULL, &r) == 404); /* a folder */
    gt_http_free(&r);
    CHECK(gt_http("POST", "/index.html", "{}", &r) == 405);
    gt_http_free(&r);
}

/* Sessions nobody uses are closed (a server with a 1 s idle time); an open stream keeps one. */
static void test_expiry(void) {
    gt_lab_server *E = gt_lab_start(1.0);
    if (!E) return;
    char idle[17], watched[17], p[128];
    if (gt_lab_session(NULL, idle) && gt_lab_session(NULL, watched)) {
        gt_sse s;
        CHECK(gt_sse_open(&s, gt__path(p, sizeof p, watched, "/events")) == 200);
        double t0 = gt_http_now();
        while (gt_lab_server_sessions(E) == 2 && gt_http_now() - t0 < 10) gt_http_sleep(0.1);
        CHECK(gt_lab_server_sessions(E) == 1);
        CHECK(gt_http_error("GET", gt__path(p, sizeof p, idle, ""), NULL, "no session") == 404);
        cJSON_Delete(gt_http_expect("GET", gt__path(p, sizeof p, watched, ""), NULL, 200));
        gt_sse_close(&s);
    }
    gt_lab_server_stop(E);
    gt_lab_port = gt_lab_server_port(S);
}

/* Stopping with open event streams and a playing session returns (no hang). */
static void test_stop_with_streams(void) {
    gt_lab_server *E = gt_lab_start(0);
    if (!E) return;
    char id[17], p[128], ev[32];
    gt_sse s[3];
    if (gt_lab_session(NULL, id)) {
        cJSON_Delete(gt__control(id, "{\"action\": \"play\"}"));
        for (int i = 0; i < 3; i++) {
            CHECK(gt_sse_open(&s[i], gt__path(p, sizeof p, id, "/events")) == 200);
            free(gt_sse_next(&s[i], ev, 10));
        }
    }
    double t0 = gt_http_now();
    gt_lab_server_stop(E);
    double dt = gt_http_now() - t0;
    CHECK_MSG(dt < 5, "stop took %.2f s", dt);
    for (int i = 0; i < 3; i++) {
        char *d;
        while ((d = gt_sse_next(&s[i], ev, 5)) != NULL) free(d); /* then the stream ends */
        gt_sse_close(&s[i]);
    }
    gt_lab_port = gt_lab_server_port(S);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    alarm(240); /* a hang fails the test */
    S = gt_lab_start(0);
    if (!S) return gt_test_finish();
    RUN(test_options);
    RUN(test_create_get_delete);
    RUN(test_config_and_control);
    RUN(test_concurrent_config);
    RUN(test_frame_history_trace);
    RUN(test_export);
    RUN(test_events);
    RUN(test_session_limit);
    RUN(test_static);
    RUN(test_expiry);
    RUN(test_stop_with_streams);
    CHECK(gt_lab_alive());
    gt_lab_server_stop(S);
    return gt_test_finish();
}
