/* safetensors: round trips, the exact byte layout, files read and written by
 * plain Python (struct + json + numpy), every validation of the reader, loading
 * into a parameter registry, truncation and random corruption. */
#include "../common/harness.h"
#include "io_test_util.h"

static const char *tpath(const char *name) { return gt_test_path(name); }

/* A set with every dtype gantry writes. Values in the returned buffers. */
typedef struct {
    float w[12];        // (3, 4)
    int64_t step;       // ()
    uint64_t rng[3];    // (3)
    int32_t idx[4];     // (2, 2)
    uint8_t bytes[5];   // (5)
    double d[3];        // (3)
} sample_vals;

static void build_sample(gt_safetensors *s, sample_vals *v) {
    for (int i = 0; i < 12; i++) v->w[i] = (float)i * 0.25f - 1.0f;
    v->step = -123456789012345LL;
    v->rng[0] = 0xFEDCBA9876543210ull;
    v->rng[1] = 1;
    v->rng[2] = UINT64_MAX;
    for (int i = 0; i < 4; i++) v->idx[i] = i * 1000003 - 7;
    for (int i = 0; i < 5; i++) v->bytes[i] = (uint8_t)(i * 61);
    for (int i = 0; i < 3; i++) v->d[i] = 1.0 / 3.0 + i;
    CHECK(gt_st_add(s, "model.w", GT_ST_F32, 2, (const int64_t[]){3, 4}, v->w, false) == GT_OK);
    CHECK(gt_st_add(s, "train.step", GT_ST_I64, 0, NULL, &v->step, false) == GT_OK);
    CHECK(gt_st_add(s, "rng", GT_ST_U64, 1, (const int64_t[]){3}, v->rng, true) == GT_OK);
    CHECK(gt_st_add(s, "idx", GT_ST_I32, 2, (const int64_t[]){2, 2}, v->idx, false) == GT_OK);
    CHECK(gt_st_add(s, "bytes", GT_ST_U8, 1, (const int64_t[]){5}, v->bytes, false) == GT_OK);
    CHECK(gt_st_add(s, "dbl", GT_ST_F64, 1, (const int64_t[]){3}, v->d, false) == GT_OK);
    CHECK(gt_st_add(s, "empty", GT_ST_F32, 2, (const int64_t[]){0, 7}, NULL, false) == GT_OK);
    CHECK(gt_st_set_meta(s, "config", "{\"lr\": 2e-4,\n \"name\": \"d\\\"cgan\"}") == GT_OK);
    CHECK(gt_st_set_meta(s, "unicode", "\xc3\xa9t\xc3\xa9 \xe2\x9c\x93") == GT_OK);
}

static void check_sample(const gt_safetensors *s, const sample_vals *v) {
    const gt_st_tensor *t = gt_st_find(s, "model.w");
    CHECK(t && t->dtype == GT_ST_F32 && t->ndim == 2 && t->shape[0] == 3 && t->shape[1] == 4);
    CHECK(t && memcmp(t->data, v->w, sizeof v->w) == 0);
    int64_t step = 0;
    CHECK(gt_st_read(s, "train.step", GT_ST_I64, &step, 1) == GT_OK && step == v->step);
    t = gt_st_find(s, "train.step");
    CHECK(t && t->ndim == 0 && t->numel == 1);
    uint64_t rng[3] = {0};
    CHECK(gt_st_read(s, "rng", GT_ST_U64, rng, 3) == GT_OK && memcmp(rng, v->rng, sizeof rng) == 0);
    int32_t idx[4];
    CHECK(gt_st_read(s, "idx", GT_ST_I32, idx, 4) == GT_OK && memcmp(idx, v->idx, sizeof idx) == 0);
    uint8_t b[5];
    CHECK(gt_st_read(s, "bytes", GT_ST_U8, b, 5) == GT_OK && memcmp(b, v->bytes, 5) == 0);
    double d[3];
    CHECK(gt_st_read(s, "dbl", GT_ST_F64, d, 3) == GT_OK && memcmp(d, v->d, sizeof d) == 0);
    t = gt_st_find(s, "empty");
    CHECK(t && t->numel == 0 && t->ndim == 2 && t->shape[1] == 7);
    const char *c = gt_st_get_meta(s, "config");
    CHECK(c && strcmp(c, "{\"lr\": 2e-4,\n \"name\": \"d\\\"cgan\"}") == 0);
    c = gt_st_get_meta(s, "unicode");
    CHECK(c && strcmp(c, "\xc3\xa9t\xc3\xa9 \xe2\x9c\x93") == 0);
}

static void test_round_trip(void) {
    gt_safetensors s, r;
    gt_st_init(&s);
    gt_st_init(&r);
    sample_vals v;
    build_sample(&s, &v);
    /* a strided tensor is copied in row-major order */
    gt_tensor *m = gt_from_data(GT_SHAPE(2, 3), (const float[]){1, 2, 3, 4, 5, 6});
    CHECK(gt_st_add_tensor(&s, "mt", gt_transpose(m, 0, 1)) == GT_OK);
    CHECK(gt_st_add(&s, "mt", GT_ST_F32, 0, NULL, v.w, false) == GT_ERR_ARG); /* duplicate */
    CHECK(gt_st_add(&s, "__metadata__", GT_ST_F32, 0, NULL, v.w, false) == GT_ERR_ARG);

    void *buf;
    size_t n;
    CHECK(gt_st_serialize(&s, &buf, &n) == GT_OK);
    const unsigned char *p = buf;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | p[i];
    CHECK(hl % 8 == 0 && 8 + hl <= n);
    CHECK(p[8] == '{' && (p[8 + hl - 1] == ' ' || p[8 + hl - 1] == '}'));
    CHECK(gt_st_parse(&r, buf, n, "mem") == GT_OK);
    check_sample(&r, &v);
    /* every tensor is aligned to its element size within the file */
    for (int i = 0; i < r.n; i++) {
        size_t off = (size_t)((const unsigned char *)r.t[i].data - (const unsigned char *)r.file);
        CHECK_MSG(off % gt_st_dtype_size(r.t[i].dtype) == 0, "%s at %zu", r.t[i].name, off);
    }
    gt_tensor *mt = gt_st_get_tensor(&r, "mt");
    CHECK(mt && mt->shape[0] == 3 && mt->shape[1] == 2);
    CHECK(mt && gt_data(mt)[1] == 4 && gt_data(mt)[2] == 2 && gt_data(mt)[5] == 6);
    CHECK(gt_st_get_tensor(&r, "idx") == NULL && gt_last_status() == GT_ERR_FORMAT);
    CHECK(gt_st_get_tensor(&r, "nope") == NULL && strstr(gt_last_error(), "'nope'"));
    int64_t wrong;
    CHECK(gt_st_read(&r, "rng", GT_ST_I64, &wrong, 1) == GT_ERR_FORMAT);
    CHECK(strstr(gt_last_error(), "'rng' is U64, expected I64") && strstr(gt_last_error(), "mem"));
    CHECK(gt_st_read(&r, "rng", GT_ST_U64, &wrong, 1) == GT_ERR_SHAPE && strstr(gt_last_error(), "(3,)"));

    /* to a file: same bytes, loads the same; rewriting leaves no temporaries */
    const char *path = tpath("rt.safetensors");
    CHECK(gt_st_save(&s, path) == GT_OK);
    CHECK(gt_st_save(&s, path) == GT_OK);
    void *fb;
    size_t fn;
    CHECK(gt_read_file(path, &fb, &fn, 0) == GT_OK && fn == n && memcmp(fb, buf, n) == 0);
    free(fb);
    CHECK(gt_st_load(&r, path) == GT_OK && r.path && strcmp(r.path, path) == 0);
    check_sample(&r, &v);
    CHECK(io_count_temps(gt_test_tmpdir(), "rt.safetensors") == 0);
    free(buf);
    gt_st_free(&s);
    gt_st_free(&r);
    /* errors from the file system name the file */
    CHECK(gt_st_load(&r, tpath("does-not-exist.safetensors")) == GT_ERR_IO &&
          strstr(gt_last_error(), "does-not-exist.safetensors"));
    CHECK(gt_st_save(&s, "/nonexistent-dir/x.safetensors") == GT_ERR_IO &&
          strstr(gt_last_error(), "/nonexistent-dir/x.safetensors"));
}

static void test_python_reads_ours(void) {
    gt_safetensors s;
    gt_st_init(&s);
    sample_vals v;
    build_sample(&s, &v);
    const char *path = tpath("for_python.safetensors");
    CHECK(gt_st_save(&s, path) == GT_OK);
    char args[600];
    snprintf(args, sizeof args, "check %s", path);
    if (gt_golden_run("io_safetensors.py", args)) {
        gt_tensor *w = gt_golden("t.model.w");
        CHECK(w && gt_numel(w) == 12 && memcmp(gt_data(w), v.w, sizeof v.w) == 0);
        gt_tensor *lo = gt_golden("lo.rng"), *hi = gt_golden("hi.rng");
        for (int i = 0; lo && hi && i < 3; i++)
            CHECK(((uint64_t)(uint32_t)gt_data_i32(hi)[i] << 32 | (uint32_t)gt_data_i32(lo)[i]) == v.rng[i]);
        CHECK(lo && hi);
        lo = gt_golden("lo.train.step"), hi = gt_golden("hi.train.step");
        CHECK(lo && hi && (int64_t)((uint64_t)(uint32_t)gt_data_i32(hi)[0] << 32 | (uint32_t)gt_data_i32(lo)[0]) ==
                              v.step);
        gt_tensor *b = gt_golden("t.bytes");
        for (int i = 0; b && i < 5; i++) CHECK(gt_data_i32(b)[i] == v.bytes[i]);
        gt_tensor *idx = gt_golden("t.idx");
        CHECK(idx && memcmp(gt_data_i32(idx), v.idx, sizeof v.idx) == 0);
        gt_tensor *e = gt_golden("t.empty");
        CHECK(e && gt_numel(e) == 0);
        gt_tensor *cfg = gt_golden("meta.unicode");
        const char *u = gt_st_get_meta(&s, "unicode");
        CHECK(cfg && gt_numel(cfg) == (int64_t)strlen(u));
        for (int i = 0; cfg && i < (int)strlen(u); i++) CHECK(gt_data_i32(cfg)[i] == (unsigned char)u[i]);
        cfg = gt_golden("meta.config");
        CHECK(cfg && gt_numel(cfg) == (int64_t)strlen(gt_st_get_meta(&s, "config")));
    }
    gt_st_free(&s);
}

static void test_we_read_python(void) {
    const char *path = tpath("from_python.safetensors");
    char args[600];
    snprintf(args, sizeof args, "write %s", path);
    if (!gt_golden_run("io_safetensors.py", args)) return;
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_load(&s, path) == GT_OK);
    CHECK(s.n == 8);
    gt_tensor *w = gt_st_get_tensor(&s, "w"), *gw = gt_golden("t.w");
    CHECK(w && gw && gt_same_shape(w, gw) && memcmp(gt_data(w), gt_data(gw), 15 * sizeof(float)) == 0);
    gt_tensor *sc = gt_st_get_tensor(&s, "scalar");
    CHECK(sc && sc->ndim == 0 && gt_item(sc) == 2.5f);
    const gt_st_tensor *e = gt_st_find(&s, "empty");
    CHECK(e && e->numel == 0 && e->shape[0] == 0 && e->shape[1] == 4);
    double d[7];
    gt_tensor *gb = gt_golden("t.b");
    CHECK(gt_st_read(&s, "b", GT_ST_F64, d, 7) == GT_OK);
    for (int i = 0; gb && i < 7; i++) CHECK(d[i] == (double)gt_data(gb)[i]);
    int64_t step[2];
    CHECK(gt_st_read(&s, "step", GT_ST_I64, step, 2) == GT_OK && step[0] == -3 && step[1] == (int64_t)1 << 40);
    uint64_t rng[2];
    CHECK(gt_st_read(&s, "rng", GT_ST_U64, rng, 2) == GT_OK && rng[0] == 0xDEADBEEFCAFEF00Dull && rng[1] == 12345);
    uint8_t by[11];
    CHECK(gt_st_read(&s, "bytes", GT_ST_U8, by, 11) == GT_OK && by[10] == (uint8_t)(230));
    int32_t idx[4];
    CHECK(gt_st_read(&s, "idx", GT_ST_I32, idx, 4) == GT_OK && idx[1] == -2 && idx[3] == 2147483647);
    const char *note = gt_st_get_meta(&s, "note");
    CHECK(note && strcmp(note, "written by python, \xc3\xa9t\xc3\xa9 \"quoted\"") == 0);
    gt_st_free(&s);
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_python_reads_ours);
    RUN(test_we_read_python);
    return gt_test_finish();
}
