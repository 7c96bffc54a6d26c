/* Training checkpoints: a small GAN (G, D, EMA copies, two Adams, RNG, step,
 * batcher state) saved and loaded bit for bit; training on after a load
 * equals training straight through; every mismatch refused with a message
 * that names the tensor, and a failed load leaves the model untouched. */
#include "../common/harness.h"
#include "io_test_util.h"

static const char *tpath(const char *name) { return gt_test_path(name); }

typedef struct {
    gt_params PG, PD, PE;                 /* G, D, and the EMA copy of G */
    gt_nn_linear g1, g2, e1, e2, d1, d2;
    gt_nn_batch_norm gbn, ebn;
    gt_adam oG, oD;
    gt_ema ema;      /* into PE */
    gt_ema ema_own;  /* in its own slabs */
    gt_rng rng;
    uint64_t step;
    uint64_t batcher[5];
} gan;

static void gen_init(gt_params *P, gt_nn_linear *l1, gt_nn_batch_norm *bn, gt_nn_linear *l2, int hidden, gt_rng *r) {
    gt_params_init(P);
    CHECK(gt_nn_linear_init(l1, P, "net.0", 8, hidden, true, r) == GT_OK);
    CHECK(gt_nn_batch_norm_init(bn, P, "net.1", hidden, true, true) == GT_OK);
    CHECK(gt_nn_linear_init(l2, P, "net.3", hidden, 12, true, r) == GT_OK);
    CHECK(gt_params_finalize(P) == GT_OK);
}

static void gan_init(gan *m, uint64_t seed, int hidden, bool amsgrad) {
    memset(m, 0, sizeof *m);
    gt_rng_init(&m->rng, seed);
    gen_init(&m->PG, &m->g1, &m->gbn, &m->g2, hidden, &m->rng);
    gen_init(&m->PE, &m->e1, &m->ebn, &m->e2, hidden, &m->rng);
    gt_params_init(&m->PD);
    CHECK(gt_nn_linear_init(&m->d1, &m->PD, "net.0", 12, 8, true, &m->rng) == GT_OK);
    CHECK(gt_nn_linear_init(&m->d2, &m->PD, "net.2", 8, 1, true, &m->rng) == GT_OK);
    CHECK(gt_params_finalize(&m->PD) == GT_OK);
    CHECK(gt_adam_init(&m->oG, &m->PG, 2e-3, 0.5, 0.999, 1e-8, 0) == GT_OK);
    CHECK(gt_adam_init(&m->oD, &m->PD, 1e-3, 0.5, 0.999, 1e-8, 1e-4) == GT_OK);
    m->oG.amsgrad = amsgrad;
    CHECK(gt_ema_init(&m->ema, &m->PG, &m->PE, 0.9) == GT_OK);
    CHECK(gt_ema_init(&m->ema_own, &m->PG, NULL, 0.5) == GT_OK);
    for (int i = 0; i < 5; i++) m->batcher[i] = seed * 1000 + (uint64_t)i;
}

static void gan_free(gan *m) {
    gt_adam_free(&m->oG);
    gt_adam_free(&m->oD);
    gt_ema_free(&m->ema);
    gt_ema_free(&m->ema_own);
    gt_params_free(&m->PG);
    gt_params_free(&m->PD);
    gt_params_free(&m->PE);
}

static gt_tensor *G(gan *m, gt_tensor *z) {
    return gt_nn_linear_forward(&m->g2, gt_relu(gt_nn_batch_norm_forward(&m->gbn, gt_nn_linear_forward(&m->g1, z))));
}
static gt_tensor *D(gan *m, gt_tensor *x) {
    return gt_nn_linear_forward(&m->d2, gt_relu(gt_nn_linear_forward(&m->d1, x)));
}

/* One D step then one G step on latents drawn from m->rng. */
static void gan_step(gan *m) {
    int sc = gt_scope_begin();
    gt_tensor *z = gt_randn(&m->rng, GT_SHAPE(6, 8));
    gt_tensor *real = gt_randn(&m->rng, GT_SHAPE(6, 12));
    gt_params_zero_grad(&m->PD);
    gt_tensor *fake = G(m, z);
    gt_tensor *ld = gt_sub(gt_mean_all(gt_mul(D(m, fake), D(m, fake))), gt_mean_all(D(m, real)));
    CHECK(gt_backward(ld) == GT_OK);
    CHECK(gt_adam_step(&m->oD) == GT_OK);
    gt_params_zero_grad(&m->PG);
    gt_params_zero_grad(&m->PD);
    gt_tensor *lg = gt_mean_all(gt_tanh(D(m, G(m, z))));
    CHECK(gt_backward(lg) == GT_OK);
    CHECK(gt_adam_step(&m->oG) == GT_OK);
    CHECK(gt_ema_update(&m->ema) == GT_OK);
    CHECK(gt_ema_update(&m->ema_own) == GT_OK);
    m->step++;
    for (int i = 0; i < 5; i++) m->batcher[i] = m->batcher[i] * 6364136223846793005ull + m->step;
    gt_scope_end(sc);
}

static void gan_bind(gan *m, gt_ckpt *c) {
    gt_ckpt_init(c);
    CHECK(gt_ckpt_add_params(c, "G.", &m->PG) == GT_OK);
    CHECK(gt_ckpt_add_params(c, "D.", &m->PD) == GT_OK);
    CHECK(gt_ckpt_add_params(c, "G_ema.", &m->PE) == GT_OK);
    CHECK(gt_ckpt_add_ema(c, "G_ema_own.", &m->ema_own) == GT_OK);
    CHECK(gt_ckpt_add_adam(c, "opt_G.", &m->oG) == GT_OK);
    CHECK(gt_ckpt_add_adam(c, "opt_D.", &m->oD) == GT_OK);
    CHECK(gt_ckpt_add_u64(c, "train.step", &m->step, 1) == GT_OK);
    CHECK(gt_ckpt_add_rng(c, "rng.train", &m->rng) == GT_OK);
    CHECK(gt_ckpt_add_u64(c, "data.batcher", m->batcher, 5) == GT_OK);
    CHECK(gt_ckpt_set_meta(c, "config", "{\"model\": \"tiny\", \"lr_g\": 0.002}") == GT_OK);
}

/* The whole state of m as the bytes of a checkpoint file. */
static bool state_bytes(gan *m, const char *name, void **buf, size_t *n) {
    gt_ckpt c;
    gan_bind(m, &c);
    bool ok = gt_ckpt_save(&c, tpath(name)) == GT_OK && gt_read_file(tpath(name), buf, n, 0) == GT_OK;
    gt_ckpt_free(&c);
    return ok;
}

static bool same_state(gan *a, gan *b) {
    void *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    bool ok = state_bytes(a, "sa.st", &x, &nx) && state_bytes(b, "sb.st", &y, &ny) && nx == ny && !memcmp(x, y, nx);
    free(x);
    free(y);
    return ok;
}

static void test_round_trip_and_resume(void) {
    gan a, b, s;
    gan_init(&a, 1, 16, false);
    gan_init(&b, 2, 16, false);
    gan_init(&s, 1, 16, false); /* trains straight through */
    for (int i = 0; i < 3; i++) gan_step(&a), gan_step(&s);
    CHECK(!same_state(&a, &b));
    gt_ckpt ca, cb;
    gan_bind(&a, &ca);
    const char *path = tpath("gan.safetensors");
    CHECK(gt_ckpt_save(&ca, path) == GT_OK);
    gan_bind(&b, &cb);
    CHECK(gt_ckpt_load(&cb, path, 0) == GT_OK);
    CHECK(same_state(&a, &b));
    CHECK(b.step == 3 && b.oG.step == 3 && b.oD.step == 3 && b.ema_own.updates == 3);
    CHECK(b.rng.seed == a.rng.seed && b.rng.offset == a.rng.offset && b.batcher[4] == a.batcher[4]);
    CHECK(memcmp(gt_data(b.oG.exp_avg_sq), gt_data(a.oG.exp_avg_sq), (size_t)a.PG.numel * 4) == 0);
    CHECK(memcmp(gt_data(b.ema_own.params), gt_data(a.ema_own.params), (size_t)a.PG.numel * 4) == 0);
    CHECK(memcmp(gt_data(b.PG.buffers), gt_data(a.PG.buffers), (size_t)a.PG.buffer_numel * 4) == 0);
    const char *cfg = gt_ckpt_get_meta(&cb, "config");
    CHECK(cfg && strstr(cfg, "\"tiny\""));
    CHECK(gt_ckpt_get_meta(&cb, "gantry") && strcmp(gt_ckpt_get_meta(&cb, "gantry"), "checkpoint-1") == 0);
    /* the file is plain safetensors with the documented names */
    gt_safetensors st;
    gt_st_init(&st);
    CHECK(gt_st_load(&st, path) == GT_OK);
    CHECK(gt_st_find(&st, "G.net.0.weight") && gt_st_find(&st, "D.net.2.bias") && gt_st_find(&st, "G_ema.net.1.running_var"));
    CHECK(gt_st_find(&st, "opt_G.exp_avg.net.0.weight") && gt_st_find(&st, "opt_D.exp_avg_sq.net.2.weight"));
    CHECK(!gt_st_find(&st, "opt_G.exp_avg.net.1.running_mean")); /* buffers have no moments */
    const gt_st_tensor *t = gt_st_find(&st, "opt_G.step");
    CHECK(t && t->dtype == GT_ST_I64 && t->ndim == 0);
    t = gt_st_find(&st, "rng.train");
    CHECK(t && t->dtype == GT_ST_U64 && t->ndim == 1 && t->shape[0] == 2);
    gt_st_free(&st);
    /* resume: 3 + 2 steps after the load equals 5 straight */
    for (int i = 0; i < 2; i++) gan_step(&b), gan_step(&s);
    CHECK(same_state(&b, &s));
    gt_ckpt_free(&ca);
    gt_ckpt_free(&cb);
    gan_free(&a);
    gan_free(&b);
    gan_free(&s);
}

static void test_amsgrad(void) {
    gan a, b;
    gan_init(&a, 5, 16, true);
    gan_init(&b, 6, 16, true);
    gt_ckpt ca, cb;
    gan_bind(&a, &ca);
    gan_bind(&b, &cb);
    const char *path = tpath("ams.safetensors");
    CHECK(gt_ckpt_save(&ca, path) == GT_OK); /* before the first step: zeros */
    CHECK(gt_ckpt_load(&cb, path, 0) == GT_OK && b.oG.max_exp_avg_sq);
    gan_step(&a);
    gan_step(&a);
    CHECK(gt_ckpt_save(&ca, path) == GT_OK);
    CHECK(gt_ckpt_load(&cb, path, 0) == GT_OK && same_state(&a, &b));
    /* a plain Adam cannot take an amsgrad checkpoint */
    gan c;
    gan_init(&c, 7, 16, false);
    gt_ckpt cc;
    gan_bind(&c, &cc);
    CHECK(gt_ckpt_load(&cc, path, 0) == GT_ERR_SHAPE && strstr(gt_last_error(), "max_exp_avg_sq"));
    gt_ckpt_free(&ca);
    gt_ckpt_free(&cb);
    gt_ckpt_free(&cc);
    gan_free(&a);
    gan_free(&b);
    gan_free(&c);
}

static void expect_refused(gan *m, gt_ckpt *c, const char *path, unsigned flags, gt_status want, const char *s1,
                           const char *s2) {
    void *before = NULL, *after = NULL;
    size_t nb = 0, na = 0;
    CHECK(state_bytes(m, "before.st", &before, &nb));
    gt_status st = gt_ckpt_load(c, path, flags);
    const char *msg = gt_last_error();
    CHECK_MSG(st == want, "status %s, expected %s: %s", gt_status_name(st), gt_status_name(want), msg);
    CHECK_MSG(strstr(msg, path), "the message does not name the file: %s", msg);
    CHECK_MSG(!s1 || strstr(msg, s1), "expected '%s' in: %s", s1, msg);
    CHECK_MSG(!s2 || strstr(msg, s2), "expected '%s' in: %s", s2, msg);
    CHECK(state_bytes(m, "after.st", &after, &na));
    CHECK_MSG(nb == na && !memcmp(before, after, nb), "a refused load changed the model");
    free(before);
    free(after);
}

static void test_mismatches(void) {
    gan a, w;
    gan_init(&a, 1, 16, false);
    gan_step(&a);
    gt_ckpt ca;
    gan_bind(&a, &ca);
    const char *path = tpath("full.safetensors");
    CHECK(gt_ckpt_save(&ca, path) == GT_OK);

    /* a wider generator: the first problem named with both shapes, and a count */
    gan_init(&w, 2, 24, false);
    gt_ckpt cw;
    gan_bind(&w, &cw);
    expect_refused(&w, &cw, path, 0, GT_ERR_SHAPE, "'G.net.0.weight' has shape (16, 8) in the file but the model expects (24, 8)",
                   "more problems");
    gt_ckpt_free(&cw);
    gan_free(&w);

    /* batcher state of another length */
    gan b;
    gan_init(&b, 3, 16, false);
    gt_ckpt cb;
    gt_ckpt_init(&cb);
    CHECK(gt_ckpt_add_params(&cb, "G.", &b.PG) == GT_OK);
    CHECK(gt_ckpt_add_u64(&cb, "data.batcher", b.batcher, 4) == GT_OK);
    expect_refused(&b, &cb, path, GT_CKPT_ALLOW_EXTRA, GT_ERR_SHAPE, "'data.batcher' has shape (5,)", "expects (4,)");
    gt_ckpt_free(&cb);

    /* only G bound: the rest of the file is an error unless allowed (sampling) */
    gt_ckpt_init(&cb);
    CHECK(gt_ckpt_add_params(&cb, "G_ema.", &b.PE) == GT_OK);
    expect_refused(&b, &cb, path, 0, GT_ERR_SHAPE, "belongs to nothing in the model", NULL);
    CHECK(gt_ckpt_load(&cb, path, GT_CKPT_ALLOW_EXTRA) == GT_OK);
    CHECK(memcmp(gt_data(b.PE.slab), gt_data(a.PE.slab), (size_t)a.PE.numel * 4) == 0);
    gt_ckpt_free(&cb);

    /* a file without the optimizer state */
    gt_ckpt_init(&cb);
    CHECK(gt_ckpt_add_params(&cb, "G.", &a.PG) == GT_OK);
    const char *gonly = tpath("g_only.safetensors");
    CHECK(gt_ckpt_save(&cb, gonly) == GT_OK);
    gt_ckpt_free(&cb);
    gan_bind(&b, &cb);
    expect_refused(&b, &cb, gonly, GT_CKPT_ALLOW_EXTRA, GT_ERR_SHAPE, "'D.net.0.weight' is missing", "more problems");

    /* a tensor of the wrong dtype (a step stored as F32) */
    gt_safetensors s, t;
    gt_st_init(&s);
    gt_st_init(&t);
    CHECK(gt_st_load(&s, path) == GT_OK);
    float bad[1] = {3};
    for (int i = 0; i < s.n; i++) {
        const gt_st_tensor *e = &s.t[i];
        if (strcmp(e->name, "train.step") == 0) CHECK(gt_st_add(&t, e->name, GT_ST_F32, 1, e->shape, bad, false) == GT_OK);
        else CHECK(gt_st_add(&t, e->name, e->dtype, e->ndim, e->shape, e->data, false) == GT_OK);
    }
    const char *dt = tpath("wrong_dtype.safetensors");
    CHECK(gt_st_save(&t, dt) == GT_OK);
    expect_refused(&b, &cb, dt, 0, GT_ERR_SHAPE, "'train.step' is F32 in the file but must be U64", NULL);

    /* truncated and tampered files: format errors, model untouched */
    void *raw;
    size_t n;
    CHECK(gt_read_file(path, &raw, &n, 0) == GT_OK);
    const char *cut = tpath("cut.safetensors");
    size_t cuts[] = {0, 7, 8, 100, n / 2, n - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        CHECK(io_write_bytes(cut, raw, cuts[k]));
        expect_refused(&b, &cb, cut, 0, GT_ERR_FORMAT, NULL, NULL);
    }
    unsigned char *p = raw;
    p[3] = 0x7f; /* header length bytes */
    CHECK(io_write_bytes(cut, raw, n));
    expect_refused(&b, &cb, cut, 0, GT_ERR_FORMAT, "header length", NULL);
    free(raw);

    /* bindings that collide */
    gt_ckpt cx;
    gt_ckpt_init(&cx);
    CHECK(gt_ckpt_add_params(&cx, "G.", &b.PG) == GT_OK);
    CHECK(gt_ckpt_add_params(&cx, "G.", &b.PE) == GT_OK);
    CHECK(gt_ckpt_save(&cx, tpath("x.safetensors")) == GT_ERR_ARG && strstr(gt_last_error(), "distinct prefixes"));
    gt_ckpt_free(&cx);
    CHECK(gt_ckpt_add_u64(&cx, "", b.batcher, 1) == GT_ERR_ARG);
    gt_params unfinal;
    gt_params_init(&unfinal);
    CHECK(gt_ckpt_add_params(&cx, "U.", &unfinal) == GT_ERR_STATE);
    gt_ckpt_free(&cx);

    gt_st_free(&s);
    gt_st_free(&t);
    gt_ckpt_free(&cb);
    gt_ckpt_free(&ca);
    gan_free(&a);
    gan_free(&b);
}

int main(void) {
    RUN(test_round_trip_and_resume);
    RUN(test_amsgrad);
    RUN(test_mismatches);
    return gt_test_finish();
}
