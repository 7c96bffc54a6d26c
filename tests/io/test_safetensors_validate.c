/* safetensors reader validation: every malformed header gets its own error
 * naming the file; registries refuse tensors that do not fit; truncation at
 * every length and random corruption give an error or a valid set, never a
 * crash. */
#include "../common/harness.h"
#include "io_test_util.h"

static const char *tpath(const char *name) { return gt_test_path(name); }

/* 8-byte length (hl_override when nonzero) + json + dn zero bytes of data. */
static size_t mk(unsigned char *out, const char *json, size_t dn, uint64_t hl_override) {
    size_t jl = strlen(json);
    uint64_t hl = hl_override ? hl_override : jl;
    for (int i = 0; i < 8; i++) out[i] = (unsigned char)(hl >> (8 * i));
    memcpy(out + 8, json, jl);
    memset(out + 8 + jl, 0, dn);
    return 8 + jl + dn;
}

typedef struct {
    const char *what, *json;
    size_t data;
    uint64_t hl;
    const char *expect;
} bad_case;

#define T1(dt, shape, off) "{\"a\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":" off "}}"

static const bad_case cases[] = {
    {"header length past the end", "{}", 0, 1000, "larger than the file"},
    {"absurd header length", "{}", 0, (uint64_t)1 << 40, "absurd"},
    {"invalid JSON", "{\"a\": {\"dtype\": \"F32\", ", 0, 0, "not valid JSON"},
    {"not an object", "[1, 2]", 0, 0, "does not start with a JSON object"},
    {"empty header", " ", 0, 0, "does not start with a JSON object"},
    {"junk after the object", "{} x", 0, 0, "unexpected bytes"},
    {"unknown dtype", T1("F31", "[2]", "[0,8]"), 8, 0, "unknown dtype \"F31\""},
    {"lower-case dtype", T1("f32", "[2]", "[0,8]"), 8, 0, "unknown dtype"},
    {"dtype not a string", "{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0, "no \"dtype\""},
    {"no shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, 0, "no \"shape\""},
    {"no offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, 0, "data_offsets"},
    {"one offset", T1("F32", "[2]", "[8]"), 8, 0, "data_offsets"},
    {"fractional offset", T1("F32", "[2]", "[0,7.5]"), 8, 0, "data_offsets"},
    {"negative offset", T1("F32", "[2]", "[-8,0]"), 8, 0, "data_offsets"},
    {"negative dim", T1("F32", "[-2]", "[0,8]"), 8, 0, "shape entry 0"},
    {"string dim", T1("F32", "[\"2\"]", "[0,8]"), 8, 0, "shape entry 0"},
    {"too many dims", T1("F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]"), 4, 0, "9 dimensions"},
    {"overflowing shape", T1("F32", "[4294967296,4294967296,16]", "[0,8]"), 8, 0, "too large"},
    {"size != offsets", T1("F32", "[3]", "[0,8]"), 8, 0, "need 12 bytes"},
    {"dtype size != offsets", T1("F64", "[2]", "[0,8]"), 8, 0, "need 16 bytes"},
    {"end past the data", T1("F32", "[4]", "[0,16]"), 8, 0, "out of range"},
    {"begin > end", T1("F32", "[0]", "[8,0]"), 8, 0, "out of range"},
    {"overlap",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
     12, 0, "overlap"},
    {"gap",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
     20, 0, "belong to no tensor"},
    {"trailing data", T1("F32", "[2]", "[0,8]"), 12, 0, "cover 8 bytes but the data section is 12"},
    {"data missing", T1("F32", "[2]", "[0,8]"), 4, 0, "out of range"},
    {"data but no tensors", "{}", 8, 0, "no tensors but 8 bytes"},
    {"duplicate name",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
     8, 0, "'a' appears twice"},
    {"entry not an object", "{\"a\": 5}", 0, 0, "not a JSON object"},
    {"metadata not an object", "{\"__metadata__\": [1]}", 0, 0, "\"__metadata__\" is not a JSON object"},
    {"metadata value not a string", "{\"__metadata__\": {\"k\": 1}}", 0, 0, "'k' is not a string"},
    {"duplicate metadata key", "{\"__metadata__\": {\"k\": \"1\", \"k\": \"2\"}}", 0, 0, "'k' appears twice"},
    {"invalid UTF-8", "{\"\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0, 0, "UTF-8"},
    {"overlong UTF-8", "{\"\xc0\xaf\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0, 0, "UTF-8"},
    {"empty name", "{\"\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0, 0, "empty name"},
};

static void test_each_validation(void) {
    unsigned char buf[1024];
    gt_safetensors s;
    gt_st_init(&s);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        size_t n = mk(buf, c->json, c->data, c->hl);
        const char *path = tpath("tampered.safetensors");
        CHECK(io_write_bytes(path, buf, n));
        gt_status st = gt_st_load(&s, path);
        const char *msg = gt_last_error();
        CHECK_MSG(st == GT_ERR_FORMAT, "%s: status %s (%s)", c->what, gt_status_name(st), msg);
        CHECK_MSG(strstr(msg, path) != NULL, "%s: message does not name the file: %s", c->what, msg);
        CHECK_MSG(strstr(msg, c->expect) != NULL, "%s: expected '%s' in: %s", c->what, c->expect, msg);
        CHECK(s.n == 0 && s.file == NULL); /* nothing half-loaded */
    }
    /* too short to hold the length */
    const char *path = tpath("short.safetensors");
    CHECK(io_write_bytes(path, "\x02\0\0\0", 4));
    CHECK(gt_st_load(&s, path) == GT_ERR_FORMAT && strstr(gt_last_error(), "too short") &&
          strstr(gt_last_error(), path));
    /* valid edge cases */
    size_t n = mk(buf, "{}", 0, 0);
    CHECK(gt_st_parse(&s, buf, n, "empty") == GT_OK && s.n == 0);
    n = mk(buf, "{\"__metadata__\":{\"a\":\"b\"}, \"x\":{\"dtype\":\"BOOL\",\"shape\":[],\"data_offsets\":[0,1]}}   ", 1,
           0);
    CHECK(gt_st_parse(&s, buf, n, "edge") == GT_OK && s.n == 1 && gt_st_find(&s, "x")->ndim == 0);
    CHECK(gt_st_get_meta(&s, "a") && strcmp(gt_st_get_meta(&s, "a"), "b") == 0);
    /* zero-size tensors may share an offset */
    n = mk(buf,
           "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
           "\"f\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
           4, 0);
    CHECK(gt_st_parse(&s, buf, n, "zero") == GT_OK && s.n == 2);
    gt_st_free(&s);
}

/* --- registries ------------------------------------------------------------------------ */

typedef struct {
    gt_params P;
    gt_nn_linear fc;
    gt_nn_batch_norm bn;
} tiny;

static void tiny_init(tiny *m, int out, bool with_bn, uint64_t seed) {
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_params_init(&m->P);
    CHECK(gt_nn_linear_init(&m->fc, &m->P, "fc", 4, out, true, &r) == GT_OK);
    if (with_bn) CHECK(gt_nn_batch_norm_init(&m->bn, &m->P, "bn", out, true, true) == GT_OK);
    CHECK(gt_params_finalize(&m->P) == GT_OK);
    if (with_bn) gt_init_normal(m->bn.running_mean, &r, 0, 1); /* buffers that differ too */
}

static bool same_values(const gt_params *a, const gt_params *b) {
    if (!gt_params_same_layout(a, b)) return false;
    for (int i = 0; i < a->n; i++)
        if (memcmp(gt_data(a->v[i].t), gt_data(b->v[i].t), (size_t)gt_numel(a->v[i].t) * 4)) return false;
    return true;
}

static void test_params(void) {
    tiny a, b, c, d, e;
    tiny_init(&a, 8, true, 1);
    tiny_init(&b, 8, true, 2);
    tiny_init(&c, 6, true, 3);
    tiny_init(&d, 8, false, 4);
    gt_safetensors s, r;
    gt_st_init(&s);
    gt_st_init(&r);
    CHECK(gt_st_add_params(&s, "G.", &a.P, true) == GT_OK);
    CHECK(s.n == gt_params_count(&a.P) && s.n >= 6 && gt_st_find(&s, "G.fc.weight") && gt_st_find(&s, "G.bn.running_var"));
    const char *path = tpath("params.safetensors");
    CHECK(gt_st_save(&s, path) == GT_OK);
    CHECK(gt_st_load(&r, path) == GT_OK);
    CHECK(!same_values(&a.P, &b.P));
    CHECK(gt_st_load_params(&r, "G.", &b.P, true, true) == GT_OK);
    CHECK(same_values(&a.P, &b.P));

    /* wrong shape: names the tensor, the file, both shapes; nothing written */
    tiny_init(&e, 6, true, 3);
    gt_status st = gt_st_load_params(&r, "G.", &c.P, true, true);
    const char *msg = gt_last_error();
    CHECK(st == GT_ERR_SHAPE);
    CHECK_MSG(strstr(msg, "'G.fc.weight'") && strstr(msg, "(8, 4)") && strstr(msg, "(6, 4)") && strstr(msg, path),
              "message: %s", msg);
    CHECK(same_values(&c.P, &e.P));
    /* extra tensors under the prefix: an error when strict, fine otherwise */
    CHECK(gt_st_load_params(&r, "G.", &d.P, true, true) == GT_ERR_SHAPE);
    CHECK(strstr(gt_last_error(), "'G.bn.") && strstr(gt_last_error(), "belongs to nothing"));
    CHECK(gt_st_load_params(&r, "G.", &d.P, true, false) == GT_OK);
    /* a missing tensor (wrong prefix) */
    CHECK(gt_st_load_params(&r, "D.", &b.P, true, false) == GT_ERR_SHAPE &&
          strstr(gt_last_error(), "'D.fc.weight' is missing"));
    /* wrong dtype */
    gt_safetensors w;
    gt_st_init(&w);
    double dd[32] = {0};
    CHECK(gt_st_add(&w, "fc.weight", GT_ST_F64, 2, (const int64_t[]){8, 4}, dd, false) == GT_OK);
    CHECK(gt_st_add(&w, "fc.bias", GT_ST_F32, 1, (const int64_t[]){8}, dd, false) == GT_OK);
    CHECK(gt_st_load_params(&w, "", &d.P, true, true) == GT_ERR_SHAPE &&
          strstr(gt_last_error(), "'fc.weight' is F64 in the file but must be F32"));
    gt_st_free(&w);
    gt_st_free(&s);
    gt_st_free(&r);
    gt_params_free(&a.P);
    gt_params_free(&b.P);
    gt_params_free(&c.P);
    gt_params_free(&d.P);
    gt_params_free(&e.P);
}

/* --- truncation and corruption -------------------------------------------------------- */

static void make_blob(void **buf, size_t *n) {
    gt_safetensors s;
    gt_st_init(&s);
    static float w[300];
    static uint64_t u[5] = {1, 2, 3, 4, 5};
    for (int i = 0; i < 300; i++) w[i] = (float)i;
    char nm[32];
    for (int i = 0; i < 12; i++) {
        snprintf(nm, sizeof nm, "net.%d.weight", i);
        CHECK(gt_st_add(&s, nm, GT_ST_F32, 2, (const int64_t[]){5, 5}, w + i * 25, false) == GT_OK);
    }
    CHECK(gt_st_add(&s, "state", GT_ST_U64, 1, (const int64_t[]){5}, u, false) == GT_OK);
    CHECK(gt_st_set_meta(&s, "config", "{\"model\": \"dcgan\", \"steps\": [1, 2, 3]}") == GT_OK);
    CHECK(gt_st_serialize(&s, buf, n) == GT_OK);
    gt_st_free(&s);
}

static void test_truncated(void) {
    void *buf;
    size_t n;
    make_blob(&buf, &n);
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_parse(&s, buf, n, "whole") == GT_OK);
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        gt_status st = gt_st_parse(&s, buf, k, "cut");
        if (st != GT_ERR_FORMAT || !strstr(gt_last_error(), "'cut'")) bad++;
    }
    CHECK_MSG(bad == 0, "%d of %zu truncations not refused with a message", bad, n);
    /* also through a file: the message names it */
    const char *path = tpath("truncated.safetensors");
    CHECK(io_write_bytes(path, buf, n - 3));
    CHECK(gt_st_load(&s, path) == GT_ERR_FORMAT && strstr(gt_last_error(), path) &&
          strstr(gt_last_error(), "truncated"));
    free(buf);
    gt_st_free(&s);
}

static void test_corrupted(void) {
    void *buf;
    size_t n;
    make_blob(&buf, &n);
    unsigned char *orig = buf, *p = malloc(n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | orig[i];
    uint64_t seed = 99;
    gt_safetensors s;
    gt_st_init(&s);
    int ok = 0, err = 0, other = 0;
    for (int it = 0; it < 6000; it++) {
        memcpy(p, orig, n);
        int flips = 1 + (int)(io_rand(&seed) % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = (size_t)(io_rand(&seed) % (8 + hl));
            unsigned char v = (unsigned char)io_rand(&seed);
            if (io_rand(&seed) % 3 == 0) v = "{}[]\":,0123456789 -.e"[io_rand(&seed) % 21]; /* JSON-ish bytes */
            p[at] = v;
        }
        size_t len = n;
        if (it % 5 == 0) len = (size_t)(io_rand(&seed) % (n + 1));
        gt_status st = gt_st_parse(&s, p, len, "fuzz");
        if (st == GT_OK) {
            ok++;
            /* a set that parses is consistent */
            for (int i = 0; i < s.n; i++) {
                const unsigned char *d = s.t[i].data, *f0 = s.file;
                if (d < f0 || d + s.t[i].nbytes > f0 + len) other++;
            }
        } else if (st == GT_ERR_FORMAT && strstr(gt_last_error(), "fuzz"))
            err++;
        else
            other++;
    }
    printf("  corruption: %d parsed (still valid), %d refused\n", ok, err);
    CHECK(other == 0);
    CHECK(err > 1000);
    gt_st_free(&s);
    free(p);
    free(buf);
}

int main(void) {
    RUN(test_each_validation);
    RUN(test_params);
    RUN(test_truncated);
    RUN(test_corrupted);
    return gt_test_finish();
}
