/* The lab server against hostile input: malformed JSON, unknown fields, wrong types, values out of
 * range (1e9 neurons, negative and NaN rates), too many drawn points, bodies over 1 MiB (a 100+ MB
 * one must be refused with 413 before it is sent, not buffered), path traversal in every spelling,
 * broken requests. After each, the server still answers. */
#include "lab_http.h"

static gt_lab_server *S;
static char sid[17];
static char cfg_path[64];

#define ALIVE() CHECK_MSG(gt_lab_alive(), "the server stopped answering")

static void test_malformed_json(void) {
    const char *bodies[] = {
        "{",
        "}",
        "{\"g_neurons\": }",
        "{\"g_neurons\": 8,}",
        "{g_neurons: 8}",
        "{'g_neurons': 8}",
        "{\"g_neurons\": 8} trailing",
        "{\"g_neurons\": 8}{}",
        "{\"lr_g\": NaN}",
        "{\"lr_g\": nan}",
        "{\"lr_g\": Infinity}",
        "{\"lr_g\": -Infinity}",
        "{\"lr_g\": 0x10}",
        "{\"data\": \"ring}",
        "[1, 2]",
        "null",
        "\"ring\"",
        "42",
        "\xff\xfe{}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        int st = gt_http_error("POST", "/api/sessions", bodies[i], NULL);
        CHECK_MSG(st == 400, "POST sessions %s: %d", bodies[i], st);
        st = gt_http_error("POST", cfg_path, bodies[i], NULL);
        CHECK_MSG(st == 400, "POST config %s: %d", bodies[i], st);
        ALIVE();
    }
    /* a NUL inside the body */
    static const char nul[] = "POST /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 16\r\n\r\n"
                              "{\"seed\": 1}\0{}  ";
    gt_http_resp r;
    CHECK(gt_http_raw(nul, sizeof nul - 1, &r) == 400 && strstr(r.body, "NUL"));
    gt_http_free(&r);
    /* deep nesting and a body of a million tiny values */
    size_t n = 500000; /* under 1 MiB */
    char *deep = malloc(2 * n + 1);
    memset(deep, '[', n), memset(deep + n, ']', n), deep[2 * n] = 0;
    CHECK(gt_http_error("POST", "/api/sessions", deep, NULL) == 400);
    free(deep);
    ALIVE();
}

static void test_fields_and_types(void) {
    struct {
        const char *body, *needle;
    } bad[] = {
        {"{\"bogus\": 1}", "unknown field 'bogus'"},
        {"{\"g_neurons\": 8, \"G_neurons\": 8}", "G_neurons"},
        {"{\"seed\": 1, \"seed\": 2}", "twice"},
        {"{\"g_neurons\": \"8\"}", "g_neurons must be an integer"},
        {"{\"g_neurons\": 8.5}", "g_neurons"},
        {"{\"g_neurons\": true}", "g_neurons"},
        {"{\"g_neurons\": null}", "g_neurons"},
        {"{\"g_neurons\": [8]}", "g_neurons"},
        {"{\"g_neurons\": 1e9}", "g_neurons"},
        {"{\"g_neurons\": 1e30}", "g_neurons"},
        {"{\"g_neurons\": -3}", "g_neurons"},
        {"{\"g_neurons\": 0}", "g_neurons"},
        {"{\"d_layers\": 6}", "d_layers"},
        {"{\"d_layers\": -1}", "d_layers"},
        {"{\"batch\": 0}", "batch"},
        {"{\"batch\": 1025}", "batch"},
        {"{\"batch\": 1e300}", "batch"},
        {"{\"noise_dim\": 3}", "noise_dim"},
        {"{\"lr_g\": \"nan\"}", "lr_g must be a number"},
        {"{\"lr_g\": \"0.1\"}", "lr_g"},
        {"{\"lr_g\": -0.1}", "lr_g"},
        {"{\"lr_g\": 0}", "lr_g"},
        {"{\"lr_d\": 11}", "lr_d"},
        {"{\"lr_d\": 1e999}", "lr_d"},
        {"{\"lr_d\": -1e999}", "lr_d"},
        {"{\"gp\": -1}", "gp"},
        {"{\"r1\": -0.5}", "r1"},
        {"{\"d_steps\": 0, \"g_steps\": 0}", "steps"},
        {"{\"d_steps\": 11}", "d_steps"},
        {"{\"seed\": -1}", "seed"},
        {"{\"seed\": 1.5}", "seed"},
        {"{\"seed\": \"1\"}", "seed"},
        {"{\"data\": \"moon\"}", "data must be one of"},
        {"{\"data\": 3}", "data must be a string"},
        {"{\"loss\": \"l2\"}", "loss"},
        {"{\"noise\": \"pink\"}", "noise"},
        {"{\"optim\": \"rmsprop\"}", "optim"},
        {"{\"data\": \"drawn\", \"drawn\": []}", "drawn"},
        {"{\"drawn\": \"many\"}", "drawn"},
        {"{\"drawn\": [[0.5]]}", "drawn[0]"},
        {"{\"drawn\": [[0.5, 0.5], [0.5, \"x\"]]}", "drawn[1]"},
        {"{\"drawn\": [[0.5, 1.5]]}", "drawn[0]"},
        {"{\"drawn\": [[-0.1, 0.5]]}", "drawn[0]"},
        {"{\"drawn\": [[0.5, 0.5, 0.5]]}", "drawn[0]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = gt_http_error("POST", "/api/sessions", bad[i].body, bad[i].needle);
        CHECK_MSG(st == 400, "POST sessions %s: %d", bad[i].body, st);
        st = gt_http_error("POST", cfg_path, bad[i].body, bad[i].needle);
        CHECK_MSG(st == 400, "POST config %s: %d", bad[i].body, st);
    }
    ALIVE();
    /* the session kept its configuration through all of that */
    cJSON *j = gt_http_expect("GET", cfg_path, NULL, 405);
    cJSON_Delete(j);
    char p[64];
    snprintf(p, sizeof p, "/api/sessions/%s", sid);
    j = gt_http_expect("GET", p, NULL, 200);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    gt_lab_config d = gt_lab_config_default();
    CHECK(gt_json_num(cfg, "g_neurons") == d.g_neurons && gt_json_num(cfg, "batch") == d.batch);
    CHECK(fabs(gt_json_num(cfg, "lr_g") - d.lr_g) < 1e-7);
    cJSON_Delete(j);
    CHECK(gt_lab_server_sessions(S) == 1);
}

/* n drawn points as a body (x, y in [0, 1]). */
static char *gt__drawn_body(int n) {
    char *b = malloc((size_t)n * 16 + 64), *w = b;
    w += sprintf(w, "{\"data\": \"drawn\", \"drawn\": [");
    for (int i = 0; i < n; i++) w += sprintf(w, "%s[0.%03d,0.5]", i ? "," : "", i % 1000);
    sprintf(w, "]}");
    return b;
}

static void test_drawn_limits(void) {
    char *ok = gt__drawn_body(4096);
    cJSON *j = gt_http_expect("POST", cfg_path, ok, 200);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "config"), "drawn")) == 4096);
    cJSON_Delete(j);
    free(ok);
    char *over = gt__drawn_body(4097);
    CHECK(gt_http_error("POST", cfg_path, over, "4097") == 400);
    CHECK(gt_http_error("POST", "/api/sessions", over, "drawn") == 400);
    free(over);
    char *many = gt__drawn_body(60000); /* under 1 MiB: refused before it is parsed */
    CHECK(strlen(many) < GT_LAB_SERVER_MAX_BODY);
    CHECK(gt_http_error("POST", cfg_path, many, "drawn") == 400);
    free(many);
    ALIVE();
}

/* Sends the headers with a declared (or chunked) body of `total` bytes of drawn points, then the
 * body while the server reads; stops at its answer (a chunked one comes after the body's end).
 * Returns the status; *sent: bytes of the body that went out before the answer came. */
static int gt__flood(const char *path, size_t total, bool chunked, size_t *sent) {
    *sent = 0;
    int fd = gt_http_connect();
    if (fd < 0) return -1;
    char head[512];
    int hn = chunked ? snprintf(head, sizeof head,
                                "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n",
                                path)
                     : snprintf(head, sizeof head,
                                "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                                "Content-Length: %zu\r\n\r\n",
                                path, total);
    gt_http_send_all(fd, head, (size_t)hn);
    static char block[1 << 16];
    size_t bn = 0;
    if (chunked) bn += (size_t)sprintf(block, "%x\r\n", (unsigned)(sizeof block - 16));
    size_t body0 = bn;
    bn += (size_t)sprintf(block + bn, "{\"drawn\": [");
    while (bn + 12 < sizeof block - (chunked ? 2 : 0)) bn += (size_t)sprintf(block + bn, "[0.5,0.5],");
    size_t payload = bn - body0;
    if (chunked) { /* the chunk's size, exactly */
        bn = (size_t)sprintf(block, "%x\r\n", (unsigned)payload);
        memmove(block + bn, block + body0, payload);
        bn += payload;
        block[bn++] = '\r', block[bn++] = '\n';
    }
    double t0 = gt_http_now();
    bool answered = false;
    size_t off = 0;
    while (*sent < total && gt_http_now() - t0 < 30) {
        struct pollfd p = {fd, POLLIN | POLLOUT, 0};
        if (poll(&p, 1, 1000) <= 0) continue;
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            answered = true;
            break;
        }
        ssize_t k = send(fd, block + off, bn - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (k <= 0) break; /* reset: the server closed; its answer may be waiting */
        *sent += (size_t)k;
        off = (off + (size_t)k) % bn; /* the block again and again */
    }
    if (chunked && !answered) gt_http_send_all(fd, "0\r\n\r\n", 5); /* the end of the body */
    gt_http_resp r;
    int st = gt_http_read(fd, &r);
    if (st > 0) CHECK_MSG(r.body && strstr(r.body, "1 MiB"), "413 body: %s", r.body ? r.body : "");
    gt_http_free(&r);
    close(fd);
    return st;
}

static void test_big_bodies(void) {
    size_t sent = 0;
    /* 10^7 drawn points: ~100 MB declared; refused from the headers */
    int st = gt__flood("/api/sessions", (size_t)10000000 * 10 + 20, false, &sent);
    CHECK_MSG(st == 413, "10^7 points: status %d after %zu bytes", st, sent);
    CHECK_MSG(sent < (size_t)32 << 20, "10^7 points: %zu bytes went out before the answer", sent);
    ALIVE();
    st = gt__flood(cfg_path, (size_t)2 << 20, false, &sent);
    CHECK_MSG(st == 413, "2 MiB config: status %d", st);
    ALIVE();
    /* no declared length (chunked): refused once past 1 MiB */
    st = gt__flood(cfg_path, (size_t)8 << 20, true, &sent);
    CHECK_MSG(st == 413, "chunked 8 MiB: status %d after %zu bytes", st, sent);
    ALIVE();
    /* just over the limit, sent whole */
    size_t n = GT_LAB_SERVER_MAX_BODY + 1;
    char *big = malloc(n + 1);
    memset(big, ' ', n), big[0] = '{', big[n - 1] = '}', big[n] = 0;
    CHECK(gt_http_error("POST", cfg_path, big, "1 MiB") == 413);
    big[n - 2] = '}', big[n - 1] = 0; /* exactly 1 MiB is fine */
    cJSON_Delete(gt_http_expect("POST", cfg_path, big, 200));
    free(big);
    /* a length that is not a number */
    static const char cl[] = "POST /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 99999999999999999999999\r\n\r\n{}";
    gt_http_resp r;
    st = gt_http_raw(cl, sizeof cl - 1, &r);
    CHECK_MSG(st == 413 || st == 400, "huge Content-Length: %d", st);
    gt_http_free(&r);
    ALIVE();
}

static void test_traversal(void) {
    const char *paths[] = {
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/.%2e/secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..\\secret.txt",
        "/sub\\..\\..\\secret.txt",
        "/..%5csecret.txt",
        "//secret.txt",
        "/%2fetc%2fpasswd",
        "/etc/passwd",
        "//etc/passwd",
        "/index.html%00.js",
        "/index.html%00",
        "/./index.html",
        "/link_out.txt",
        "/sub/./../../secret.txt",
        "/%252e%252e/secret.txt",
        "http://127.0.0.1/../secret.txt",
        "../secret.txt",
        "*",
    };
    char req[512];
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int k = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", paths[i]);
        gt_http_resp r;
        int st = gt_http_raw(req, (size_t)k, &r);
        CHECK_MSG(st == 400 || st == 404 || st == -1, "GET %s: %d", paths[i], st);
        CHECK_MSG(!r.body || !strstr(r.body, "TOP-SECRET"), "GET %s served the file outside the web folder", paths[i]);
        gt_http_free(&r);
        ALIVE();
    }
    /* a NUL byte in the request line itself */
    static const char nul[] = "GET /index.html\0/../../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    gt_http_resp r;
    int st = gt_http_raw(nul, sizeof nul - 1, &r);
    CHECK_MSG(!r.body || !strstr(r.body, "TOP-SECRET"), "NUL in the request line: %d", st);
    gt_http_free(&r);
    ALIVE();
}

static void test_broken_requests(void) {
    const char *raw[] = {
        "HELLO\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        "POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}",
        "\r\n\r\n\r\n",
        "GET /api/sessions/%00/frame HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /api/sessions/<script>alert(1)</script> HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ("GET /api/sessions/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: x\r\n"
         "Connection: close\r\n\r\n"),
        "DELETE /api/options HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "BREW /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        gt_http_resp r;
        int fd = gt_http_connect();
        CHECK(fd >= 0);
        if (fd < 0) continue;
        gt_http_send_all(fd, raw[i], strlen(raw[i]));
        shutdown(fd, SHUT_WR); /* nothing more comes: a short body must not hang the server */
        int st = gt_http_read(fd, &r);
        close(fd);
        CHECK_MSG(st == -1 || (st >= 400 && st < 600), "%.40s: %d", raw[i], st);
        if (st >= 400 && r.body && r.n && strstr(r.head, "application/json")) { /* our errors are JSON */
            cJSON *j = gt_http_json(&r);
            CHECK_MSG(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error")), "%.40s: %s", raw[i], r.body);
            cJSON_Delete(j);
        }
        gt_http_free(&r);
        ALIVE();
    }
    /* a client that connects and says nothing, and one that leaves in the middle of a stream */
    int idle = gt_http_connect();
    ALIVE();
    char p[64], ev[32];
    snprintf(p, sizeof p, "/api/sessions/%s/events", sid);
    gt_sse s;
    CHECK(gt_sse_open(&s, p) == 200);
    free(gt_sse_next(&s, ev, 10));
    gt_sse_close(&s);
    ALIVE();
    if (idle >= 0) close(idle);
    CHECK(gt_lab_server_sessions(S) == 1);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    alarm(240);
    S = gt_lab_start(0);
    if (!S) return gt_test_finish();
    if (!gt_lab_session(NULL, sid)) return gt_test_finish();
    snprintf(cfg_path, sizeof cfg_path, "/api/sessions/%s/config", sid);
    RUN(test_malformed_json);
    RUN(test_fields_and_types);
    RUN(test_drawn_limits);
    RUN(test_big_bodies);
    RUN(test_traversal);
    RUN(test_broken_requests);
    gt_lab_server_stop(S);
    return gt_test_finish();
}
