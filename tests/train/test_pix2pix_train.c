/* The pix2pix scheme: the trainer picks it for the family; a few steps on a tiny net lower the L1
 * term of G(edges(B)) against B on a fixed batch; the step's losses match a recomputation from
 * the same weights; save / load / more steps is bit-identical to straight steps; configs the
 * scheme refuses. */
#include <math.h>
#include <string.h>

#include "../common/harness.h"
#include "gantry/translate.h"
#include "train_util.h"

static char g_idx[600];

static gt_train_config tiny(void) {
    gt_train_config c = gt_train_config_default();
    snprintf(c.data, sizeof c.data, "%s", g_idx);
    c.model = gt_model_config_default("pix2pix");
    c.model.res = 28, c.model.channels = 1;
    gt_model_opt_set(&c.model, "ngf", 4);
    gt_model_opt_set(&c.model, "ndf", 4);
    gt_model_opt_set(&c.model, "n_blocks", 1);
    c.batch = 8;
    c.ema = 0.9;
    c.seed = 11;
    c.lr_g = c.lr_d = 2e-3;
    return c;
}

/* mean |G(edges(B)) - B| in eval mode */
static double l1_on(gt_net *G, gt_tensor *b) {
    int m = gt_scope_begin();
    gt_tensor *y = gt_translate(G, gt_edges(b));
    double v = y ? gt_item(gt_l1_loss(y, b)) : NAN;
    gt_scope_end(m);
    return v;
}

static void test_l1_drops(void) {
    gt_train_config c = tiny();
    gt_trainer t;
    CHECK_MSG(gt_trainer_init(&t, &c, NULL) == GT_OK, "%s", gt_last_error());
    CHECK(t.scheme == &gt_train_scheme_pix2pix);
    gt_tensor *b = gt_dataset_slice(t.ds, 0, 8); /* in the test's scope */
    double l1;
    CHECK(gt_pix2pix_train_last_l1(&t, &l1) == GT_ERR_STATE); /* not stepped yet */
    const double before = l1_on(&t.G, b);
    gt_step_stats s;
    for (int i = 0; i < 30; i++) CHECK_MSG(gt_trainer_step(&t, &s) == GT_OK, "%s", gt_last_error());
    const double after = l1_on(&t.G, b);
    CHECK_MSG(after < 0.7 * before, "L1 %.4f -> %.4f", before, after);
    CHECK(gt_pix2pix_train_last_l1(&t, &l1) == GT_OK && l1 > 0 && l1 < before);
    CHECK(s.loss_d > 0 && s.loss_g > 100.0 * l1 * 0.999 && s.d_real > 0 && s.d_real < 1 && s.d_fake > 0);
    printf("  L1 on a fixed batch: %.4f -> %.4f after 30 steps (loss_d %.3f, loss_g %.3f)\n", before, after, s.loss_d,
           s.loss_g);
    /* the FID of the translations of the 32 discs' edges against the discs (raw pixels as features) */
    double fid = NAN, fid0 = NAN;
    CHECK_MSG(gt_translate_fid(&t.G, g_idx, 0, "pixels", &fid) == GT_OK, "%s", gt_last_error());
    CHECK(gt_translate_fid(&t.G, g_idx, 16, "pixels", &fid0) == GT_OK);
    CHECK_MSG(isfinite(fid) && fid > 0 && isfinite(fid0) && fid0 != fid, "fid %g (16 items: %g)", fid, fid0);
    /* the step's G loss is BCE(D'(A|G(A)), 1) + 100 L1(G(A), B): G before its step, D' after D's */
    gt_trainer u;
    CHECK(gt_trainer_init(&u, &c, NULL) == GT_OK);
    gt_tensor *z = gt_zeros(2, (const int64_t[]){8, u.cfg.model.nz});
    CHECK(gt_params_copy(&u.G.P, &t.G.P) == GT_OK && gt_params_copy(&u.D.P, &t.D.P) == GT_OK);
    int m = gt_scope_begin();
    gt_tensor *a = gt_edges(b);
    bool prev = gt_no_grad_begin();
    gt_tensor *fake = gt_net_forward(&u.G, a, GT_BN_TRAIN);
    gt_grad_mode_restore(prev);
    CHECK(gt_trainer_step_on(&u, &b, &z, &s) == GT_OK);
    prev = gt_no_grad_begin();
    gt_tensor *d = gt_net_forward(&u.D, gt_concat(2, (gt_tensor *[]){a, fake}, 1), GT_BN_TRAIN);
    gt_tensor *want_l1 = gt_l1_loss(fake, b);
    gt_tensor *want = gt_add(gt_bce_with_logits(d, gt_ones_like(d)), gt_mul_scalar(want_l1, 100.0f));
    gt_grad_mode_restore(prev);
    CHECK(gt_pix2pix_train_last_l1(&u, &l1) == GT_OK);
    CHECK_MSG(want && fabs(gt_item(want) - s.loss_g) < 1e-4 * fabs(s.loss_g), "loss_g %g, recomputed %g", s.loss_g,
              want ? gt_item(want) : NAN);
    CHECK(fabs(gt_item(want_l1) - l1) < 1e-6);
    gt_scope_end(m);
    gt_trainer_free(&u);
    gt_trainer_free(&t);
}

/* 2N steps straight == N, save, load into a new trainer, N more. */
static void test_resume(void) {
    gt_train_config c = tiny();
    gt_trainer a, b;
    gt_step_stats s;
    CHECK(gt_trainer_init(&a, &c, NULL) == GT_OK && gt_trainer_init(&b, &c, NULL) == GT_OK);
    for (int i = 0; i < 4; i++) CHECK(gt_trainer_step(&a, &s) == GT_OK);
    for (int i = 0; i < 2; i++) CHECK(gt_trainer_step(&b, &s) == GT_OK);
    const char *ck = gt_test_path("half.safetensors");
    CHECK(gt_trainer_save(&b, ck) == GT_OK);
    gt_trainer_free(&b);
    CHECK(gt_trainer_init(&b, &c, NULL) == GT_OK && gt_trainer_load(&b, ck) == GT_OK);
    for (int i = 0; i < 2; i++) CHECK(gt_trainer_step(&b, &s) == GT_OK);
    CHECK(gt_test_close("G", a.G.P.slab, b.G.P.slab, 0, 0));
    CHECK(gt_test_close("D", a.D.P.slab, b.D.P.slab, 0, 0));
    CHECK(gt_test_close("G_ema", a.G_ema.P.slab, b.G_ema.P.slab, 0, 0));
    gt_trainer_free(&a);
    gt_trainer_free(&b);
}

static void test_refused(void) {
    gt_trainer t;
    gt_train_config c = tiny();
    c.loss = GT_LOSS_HINGE;
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_ERR_ARG && strstr(gt_last_error(), "BCE"));
    gt_trainer_free(&t);
    c = tiny();
    c.r1 = 1;
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_ERR_ARG && strstr(gt_last_error(), "penalties"));
    gt_trainer_free(&t);
    c = tiny();
    c.model.res = 64;
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_ERR_ARG && strstr(gt_last_error(), "resolution 64"));
    gt_trainer_free(&t);
    c = tiny();
    CHECK(gt_model_opt_set(&c.model, "lambda_l1", -1) == GT_ERR_ARG);
    /* a dcgan trainer has no pix2pix state */
    gt_train_config d = gt_train_config_default();
    snprintf(d.data, sizeof d.data, "%s", g_idx);
    d.model = gt_model_config_default("dcgan");
    d.model.res = 28, d.model.channels = 1;
    gt_model_opt_set(&d.model, "ngf", 4);
    gt_model_opt_set(&d.model, "ndf", 4);
    d.batch = 8;
    CHECK(gt_trainer_init(&t, &d, NULL) == GT_OK);
    double l1;
    CHECK(gt_pix2pix_train_last_l1(&t, &l1) == GT_ERR_STATE);
    CHECK(gt_translate_fid(&t.G, g_idx, 0, "pixels", &l1) == GT_ERR_ARG && strstr(gt_last_error(), "translator"));
    gt_trainer_free(&t);
}

/* gt_train_run writes a grid of the translations of the first items' edges and a checkpoint. */
static void test_run_folder(void) {
    gt_train_config c = tiny();
    snprintf(c.out, sizeof c.out, "%s", gt_test_path("run"));
    c.steps = 4, c.sample_every = 2, c.n_samples = 9;
    gt_trainer t;
    CHECK_MSG(gt_trainer_init(&t, &c, NULL) == GT_OK, "%s", gt_last_error());
    CHECK(t.fixed_z && t.fixed_z->ndim == 4 && t.fixed_z->shape[0] == 9 && t.fixed_z->shape[2] == 28);
    CHECK_MSG(gt_train_run(&t, NULL) == GT_OK, "%s", gt_last_error());
    int m = gt_scope_begin();
    gt_tensor *want = gt_translate(&t.G_sample, gt_edges(gt_dataset_slice(t.ds, 0, 9)));
    CHECK(gt_test_close("grid images", gt_trainer_sample(&t, t.fixed_z), want, 0, 0));
    gt_scope_end(m);
    char p[GT_PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/samples/step_000002.png", c.out);
    CHECK(access(p, F_OK) == 0);
    snprintf(p, sizeof p, "%s/last.safetensors", c.out);
    CHECK(access(p, F_OK) == 0);
    gt_trainer_free(&t);
}

int main(void) {
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("discs.idx"));
    if (!gt_test_write_idx(g_idx, 32)) return 1;
    RUN(test_l1_drops);
    RUN(test_resume);
    RUN(test_refused);
    RUN(test_run_folder);
    return gt_test_finish();
}
