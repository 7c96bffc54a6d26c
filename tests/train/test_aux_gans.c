/* AC-GAN and InfoGAN (src/models/aux_gans.c) against PyTorch (tests/parity/train_aux_gans.py: the
 * PyTorch-GAN architectures written with torch): from gantry's initial weights and on the same
 * batches, latents (InfoGAN's with their codes) and labels, a training step (ns loss, Adam) has
 * the same losses, gradients, batch-norm statistics and weights (see compare_entries); parameter names are the torch
 * state_dict's. Also: the codes in InfoGAN's latents, the options' checks, and sampling. */
#include <errno.h>
#include <math.h>
#include <sys/stat.h>

#include "../common/harness.h"
#include "gantry/train.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

static int add_entries(const char *tag, const gt_params *P, const char **names, gt_tensor **ts, char (*buf)[160],
                       int n) {
    for (int i = 0; i < P->n; i++) {
        snprintf(buf[n], 160, "%s.%s", tag, P->v[i].name);
        names[n] = buf[n], ts[n] = P->v[i].t, n++;
    }
    return n;
}

/* After one step: the gradients of that step to 1e-4 of the largest gradient of the net (a conv
 * bias before batch norm, or before a LeakyReLU whose inputs all share a sign, has a gradient that
 * is zero but for rounding), the weights to 1e-4 relative plus 5e-4 (Adam's first step moves every
 * weight by about lr = 2e-4 times the sign of its gradient, so such a bias may move either way in
 * either program) and the buffers (batch norm's running statistics, the last updated by the G
 * step's D forward, after those biases moved) to 1e-4 relative plus 1e-4. */
static void compare_entries(const char *tag, const gt_params *P, float grad_tol) {
    char nm[200];
    float mx = 0;
    for (int i = 0; i < P->n; i++) {
        snprintf(nm, sizeof nm, "grad.%s.%s", tag, P->v[i].name);
        gt_tensor *gg = P->v[i].is_buffer ? NULL : gt_golden(nm);
        for (int64_t k = 0; gg && k < gt_numel(gg); k++) mx = fmaxf(mx, fabsf(gt_data(gg)[k]));
    }
    CHECK_MSG(mx > 0, "%s: no gradients from torch", tag);
    for (int i = 0; i < P->n; i++) {
        snprintf(nm, sizeof nm, "%s.%s", tag, P->v[i].name);
        gt_tensor *g = gt_golden(nm);
        CHECK_MSG(g != NULL, "golden %s missing", nm);
        if (g) gt_test_close(nm, P->v[i].t, g, 1e-4f, P->v[i].is_buffer ? 1e-4f : 5e-4f);
        if (P->v[i].is_buffer) continue;
        snprintf(nm, sizeof nm, "grad.%s.%s", tag, P->v[i].name);
        gt_tensor *gg = gt_golden(nm);
        CHECK_MSG(gg != NULL && P->v[i].t->grad, "golden %s missing", nm);
        if (gg && P->v[i].t->grad) gt_test_close(nm, P->v[i].t->grad, gg, grad_tol, grad_tol * mx);
    }
}

static void run(const char *model) {
    const bool ac = !strcmp(model, "acgan"), energy = !strcmp(model, "began") || !strcmp(model, "ebgan"),
               began = !strcmp(model, "began");
    const int B = 6, K = 4, steps = began ? 3 : 1; /* BEGAN: k_t moves after the first step */
    gt_train_config c = gt_train_config_default();
    c.model = gt_model_config_default(model);
    c.model.res = 28, c.model.channels = 1, c.model.nz = ac ? 12 : 16;
    if (ac) c.model.n_classes = K;
    gt_model_opt_set(&c.model, "ngf", 16);
    if (energy) {
        gt_model_opt_set(&c.model, "hidden", 8);
        c.loss = began ? GT_LOSS_BEGAN : GT_LOSS_EBGAN;
    } else {
        gt_model_opt_set(&c.model, "ndf", 4);
    }
    if (!ac && !energy) gt_model_opt_set(&c.model, "n_cat", 3), gt_model_opt_set(&c.model, "n_cont", 2);
    c.batch = B, c.ema = 0, c.seed = 5;
    gt_trainer t;
    CHECK_MSG(gt_trainer_init(&t, &c, NULL) == GT_OK, "%s: %s", model, gt_last_error());
    enum { MAXE = 128 };
    static const char *names[MAXE];
    static gt_tensor *ts[MAXE];
    static char buf[MAXE][160];
    int n = add_entries("G", &t.G.P, names, ts, buf, 0);
    n = add_entries("D", &t.D.P, names, ts, buf, n);
    gt_tensor *reals[3], *zs[3], *ry[3], *fy[3];
    gt_rng r;
    gt_rng_init(&r, 77);
    for (int s = 0; s < steps; s++) {
        reals[s] = gt_test_uniform(100 + (uint64_t)s, S(B, 1, 28, 28), -1, 1);
        zs[s] = gt_model_sample_latents(&t.cfg.model, &r, B);
        ry[s] = ac ? gt_labels_random(&r, B, K) : NULL;
        fy[s] = ac ? gt_labels_random(&r, B, K) : NULL;
        snprintf(buf[n], 160, "real.%d", s), names[n] = buf[n], ts[n++] = reals[s];
        snprintf(buf[n], 160, "z.%d", s), names[n] = buf[n], ts[n++] = zs[s];
        if (ac) {
            snprintf(buf[n], 160, "ry.%d", s), names[n] = buf[n], ts[n++] = ry[s];
            snprintf(buf[n], 160, "fy.%d", s), names[n] = buf[n], ts[n++] = fy[s];
        }
    }
    if (!ac && !energy) { /* the codes: a one-hot category and values in [-1, 1] after the noise */
        const float *z = gt_data(zs[0]);
        for (int i = 0; i < B; i++) {
            float sum = 0;
            for (int j = 11; j < 14; j++) {
                sum += z[i * 16 + j];
                CHECK(z[i * 16 + j] == 0 || z[i * 16 + j] == 1);
            }
            CHECK(sum == 1 && fabsf(z[i * 16 + 14]) <= 1 && fabsf(z[i * 16 + 15]) <= 1);
        }
    }
    char fname[64];
    snprintf(fname, sizeof fname, "%s_in.gtb", model);
    const char *path = gt_test_path(fname);
    CHECK(gt_golden_write(path, n, names, ts));
    double ld[3], lg[3], ks[3], ms[3];
    for (int s = 0; s < steps; s++) {
        gt_step_stats st;
        gt_status rc = ac ? gt_trainer_step_on_y(&t, &reals[s], &ry[s], &zs[s], &fy[s], &st)
                          : gt_trainer_step_on(&t, &reals[s], &zs[s], &st);
        CHECK_MSG(rc == GT_OK, "%s step %d: %s", model, s, gt_last_error());
        ld[s] = st.loss_d, lg[s] = st.loss_g, ks[s] = st.loss_state, ms[s] = st.loss_measure;
    }
    char args[1024];
    snprintf(args, sizeof args, "%s %s 28 1 %d 16 %d %d %d %d %.17g %.17g %.17g %d", path, model, t.cfg.model.nz,
             energy ? 8 : 4, ac ? K : 0, ac || energy ? 0 : 3, ac || energy ? 0 : 2,
             ac ? gt_model_opt(&t.cfg.model, "aux_weight")
                : !strcmp(model, "ebgan") ? gt_model_opt(&t.cfg.model, "lambda_pt") : 0.0,
             ac || energy ? 0.0 : gt_model_opt(&t.cfg.model, "lambda_cat"),
             ac || energy ? 0.0 : gt_model_opt(&t.cfg.model, "lambda_cont"),
             steps);
    if (gt_golden_run("train_aux_gans.py", args)) {
        gt_tensor *ok = gt_golden("names_ok");
        CHECK_MSG(ok && gt_item(ok) == 1.0f, "%s: parameter names or shapes differ from torch's state_dict", model);
        if (steps == 1) { /* after more steps, Adam's sign steps on rounding-level gradients differ */
            /* the energy models' G gradient, through an autoencoder's energy, is ill-conditioned: torch's
               float32 result is 4.5% (of the largest G gradient) off its float64 one, which the script
               computes; gantry's float32 is held to 10% of it, D's gradients to 1e-4 */
            compare_entries("G", &t.G.P, energy ? 0.1f : 1e-4f);
            compare_entries("D", &t.D.P, 1e-4f);
        }
        /* the losses of every step, to 1e-4 for the first (the same weights), 2e-3 after */
        for (int s = 0; s < steps; s++) {
            double tol = s ? 2e-3 : 1e-4;
            if (began) {
                char kn[32];
                snprintf(kn, sizeof kn, "k.%d", s);
                gt_tensor *gk = gt_golden(kn);
                CHECK_MSG(gk && fabs(ks[s] - gt_item(gk)) <= tol * fabs(gt_item(gk)) + 1e-7, "began %s: %g vs %g", kn,
                          ks[s], gk ? gt_item(gk) : NAN);
                snprintf(kn, sizeof kn, "M.%d", s);
                gk = gt_golden(kn);
                CHECK_MSG(gk && fabs(ms[s] - gt_item(gk)) <= tol * fabs(gt_item(gk)) + 1e-7, "began %s: %g vs %g", kn,
                          ms[s], gk ? gt_item(gk) : NAN);
            }
            char nm[32];
            snprintf(nm, sizeof nm, "loss_d.%d", s);
            gt_tensor *g = gt_golden(nm);
            CHECK_MSG(g && fabs(ld[s] - gt_item(g)) <= tol * fabs(gt_item(g)) + 1e-6, "%s %s: %g vs %g", model, nm,
                      ld[s], g ? gt_item(g) : NAN);
            snprintf(nm, sizeof nm, "loss_g.%d", s);
            g = gt_golden(nm);
            CHECK_MSG(g && fabs(lg[s] - gt_item(g)) <= tol * fabs(gt_item(g)) + 1e-6, "%s %s: %g vs %g", model, nm,
                      lg[s], g ? gt_item(g) : NAN);
        }
    }
    /* sampling: AC-GAN by class, InfoGAN's latents carry codes */
    gt_tensor *x = gt_trainer_sample(&t, t.fixed_z);
    CHECK(x && x->shape[0] == t.cfg.n_samples && x->shape[2] == 28);
    gt_trainer_free(&t);
}

static void test_acgan(void) { run("acgan"); }
static void test_infogan(void) { run("infogan"); }
static void test_began(void) { run("began"); }
static void test_ebgan(void) { run("ebgan"); }

/* BEGAN's k_t is training state: it is saved in the checkpoint and a loaded trainer continues
 * exactly (the same next step); a checkpoint of another loss has no such tensor. */
static void test_began_state(void) {
    gt_train_config c = gt_train_config_default();
    c.model = gt_model_config_default("began");
    c.model.res = 28, c.model.nz = 8;
    gt_model_opt_set(&c.model, "ngf", 8);
    gt_model_opt_set(&c.model, "hidden", 4);
    c.batch = 4, c.ema = 0, c.loss = GT_LOSS_BEGAN;
    gt_trainer a, b;
    CHECK(gt_trainer_init(&a, &c, NULL) == GT_OK && gt_trainer_init(&b, &c, NULL) == GT_OK);
    gt_step_stats s;
    for (int i = 0; i < 4; i++) {
        int m = gt_scope_begin();
        gt_tensor *x = gt_test_uniform(300 + (uint64_t)i, S(4, 1, 28, 28), -1, 1), *z = gt_test_randn(400 + (uint64_t)i, S(4, 8), 1);
        CHECK(gt_trainer_step_on(&a, &x, &z, &s) == GT_OK);
        gt_scope_end(m);
    }
    CHECK_MSG(s.loss_state > 0 && s.loss_measure > 0, "k %g M %g", s.loss_state, s.loss_measure);
    const char *path = gt_test_path("began.safetensors");
    CHECK(gt_trainer_save(&a, path) == GT_OK);
    CHECK(gt_trainer_load(&b, path) == GT_OK && b.loss_state == a.loss_state);
    int m = gt_scope_begin();
    gt_tensor *x = gt_test_uniform(500, S(4, 1, 28, 28), -1, 1), *z = gt_test_randn(501, S(4, 8), 1);
    gt_step_stats sa, sb;
    CHECK(gt_trainer_step_on(&a, &x, &z, &sa) == GT_OK && gt_trainer_step_on(&b, &x, &z, &sb) == GT_OK);
    CHECK_MSG(sa.loss_d == sb.loss_d && sa.loss_state == sb.loss_state, "resumed: D %g vs %g, k %g vs %g", sa.loss_d,
              sb.loss_d, sa.loss_state, sb.loss_state);
    gt_scope_end(m);
    gt_trainer_free(&a);
    gt_trainer_free(&b);
    gt_safetensors st;
    gt_st_init(&st);
    CHECK(gt_st_load(&st, path) == GT_OK && gt_st_find(&st, "train.loss_state") != NULL);
    gt_st_free(&st);
}

/* Conditional training takes its classes from the data's labels: an image folder with one
 * sub-folder per class (ImageFolder's convention) and CIFAR-10's binary batches; a flat folder
 * (no labels) is refused for a conditional model, naming what is missing. */
static void train_on(const char *spec, int want_classes, const char *want_error) {
    gt_train_config c = gt_train_config_default();
    c.model = gt_model_config_default("acgan");
    c.model.res = 28, c.model.channels = 1, c.model.nz = 8;
    gt_model_opt_set(&c.model, "ngf", 8);
    gt_model_opt_set(&c.model, "ndf", 2);
    c.batch = 4, c.ema = 0;
    snprintf(c.data, sizeof c.data, "%s", spec);
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &c, NULL);
    if (want_error) {
        CHECK_MSG(st != GT_OK && strstr(gt_last_error(), want_error), "%s: '%s'", spec, gt_last_error());
    } else {
        CHECK_MSG(st == GT_OK, "%s: %s", spec, gt_last_error());
        CHECK_MSG(t.cfg.model.n_classes == want_classes, "%s: %d classes", spec, t.cfg.model.n_classes);
        gt_step_stats s;
        for (int i = 0; i < 2 && st == GT_OK; i++) st = gt_trainer_step(&t, &s);
        CHECK_MSG(st == GT_OK && isfinite(s.loss_d), "%s: %s", spec, gt_last_error());
    }
    gt_trainer_free(&t);
}

static void test_labels_from_data(void) {
    uint8_t px[28 * 28 * 3];
    for (int i = 0; i < (int)sizeof px; i++) px[i] = (uint8_t)(i * 7);
    char dir[512], p[700];
    snprintf(dir, sizeof dir, "%s/folder", gt_test_tmpdir());
    const char *classes[3] = {"boot", "coat", "shirt"};
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, classes[k]);
        CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
        CHECK(mkdir(p, 0755) == 0);
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s/%s/%d.png", dir, classes[k], i);
            CHECK(gt_png_write(p, px, 28, 28, 3) == GT_OK);
        }
    }
    train_on(dir, 3, NULL);
    /* a flat folder: no labels */
    snprintf(dir, sizeof dir, "%s/flat", gt_test_tmpdir());
    CHECK(mkdir(dir, 0755) == 0);
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%d.png", dir, i);
        CHECK(gt_png_write(p, px, 28, 28, 3) == GT_OK);
    }
    train_on(dir, 0, "has no labels");
    /* CIFAR-10 binary: a label byte then 3 x 32 x 32 bytes per record */
    snprintf(dir, sizeof dir, "%s/cifar", gt_test_tmpdir());
    CHECK(mkdir(dir, 0755) == 0);
    snprintf(p, sizeof p, "%s/data_batch_1.bin", dir);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    for (int r = 0; f && r < 8; r++) {
        uint8_t rec[1 + 3072];
        rec[0] = (uint8_t)(r % 10 == 7 ? 9 : r % 4); /* classes 0..3 and 9: ten classes */
        for (int i = 1; i < (int)sizeof rec; i++) rec[i] = (uint8_t)(i + r);
        fwrite(rec, 1, sizeof rec, f);
    }
    if (f) fclose(f);
    train_on(dir, 10, NULL);
}

static void test_checks(void) {
    gt_model_config c = gt_model_config_default("infogan");
    gt_model_opt_set(&c, "n_cat", 0), gt_model_opt_set(&c, "n_cont", 0);
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 1);
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_ERR_ARG && strstr(gt_last_error(), "n_cat + n_cont"));
    gt_net_free(&G);
    c = gt_model_config_default("infogan");
    c.nz = 12; /* 10 + 2 codes leave no noise */
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_ERR_ARG && strstr(gt_last_error(), "nz 12"));
    gt_net_free(&G);
    c = gt_model_config_default("acgan"); /* conditional: needs classes */
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_ERR_ARG && strstr(gt_last_error(), "conditional"));
    gt_net_free(&G);
    c.n_classes = 3;
    CHECK(gt_model_build(&c, GT_NET_D, &r, &G) == GT_OK);
    int m = gt_scope_begin();
    gt_tensor *x = gt_test_randn(3, S(2, 1, 32, 32), 1.0f);
    CHECK(gt_net_forward(&G, x, GT_BN_BATCH) == NULL && strstr(gt_last_error(), "needs the class labels"));
    gt_tensor *y = gt_labels_cycle(2, 3);
    gt_data_i32(y)[1] = 3;
    CHECK(gt_net_forward_y(&G, x, y, GT_BN_BATCH) == NULL && strstr(gt_last_error(), "label 3"));
    gt_data_i32(y)[1] = 2;
    CHECK(gt_net_forward_y(&G, x, y, GT_BN_BATCH) != NULL && G.aux && G.aux->shape[1] == 3);
    gt_scope_end(m);
    gt_net_free(&G);
}

int main(void) {
    RUN(test_acgan);
    RUN(test_infogan);
    RUN(test_began);
    RUN(test_ebgan);
    RUN(test_began_state);
    RUN(test_labels_from_data);
    RUN(test_checks);
    return gt_test_finish();
}
