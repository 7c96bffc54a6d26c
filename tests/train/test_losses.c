/* The GAN losses and D's regularizers against PyTorch (tests/parity/train_losses.py writes them
 * from the papers' formulas with torch ops, independently of gantry's table rows):
 *   - every loss of the table: D's and G's value, and their gradients w.r.t. the real and fake
 *     logits, with real target 1 and 0.9 (one-sided label smoothing of the BCE losses), to 1e-5;
 *   - WGAN-GP, DRAGAN, R1 and R2 through a small conv D from the same weights, batch and noise: the
 *     point x_hat, the penalty and its gradient w.r.t. D's parameters (create_graph) to 1e-4
 *     relative; and the trainer's use of them (weights, lazy regularization) on a tiny DCGAN. */
#include <math.h>

#include "../common/harness.h"
#include "gantry/train.h"

#define S(...) GT_SHAPE(__VA_ARGS__)
#define NB 7

static gt_tensor *g_p[6]; /* w1, b1, w2, b2, w3, b3 */
static const char *PN[6] = {"w1", "b1", "w2", "b2", "w3", "b3"};

static gt_tensor *D(gt_tensor *x) {
    gt_conv_params p = gt_conv_params_make(2, 1);
    gt_tensor *h = gt_leaky_relu(gt_conv2d(x, g_p[0], g_p[1], p), 0.2f);
    h = gt_leaky_relu(gt_conv2d(h, g_p[2], g_p[3], p), 0.2f);
    return gt_reshape(gt_linear(gt_flatten(h, 1), g_p[4], g_p[5]), S(-1));
}

/* |a - b| <= rtol * max|b| + tiny, elementwise */
static void close_rel(const char *nm, gt_tensor *a, gt_tensor *b, float rtol) {
    if (!a || !b) {
        CHECK_MSG(false, "%s: missing (%s)", nm, gt_last_error());
        return;
    }
    float mx = 0;
    for (int64_t k = 0; k < gt_numel(b); k++) mx = fmaxf(mx, fabsf(gt_data(b)[k]));
    gt_test_close(nm, a, b, rtol, rtol * mx + 1e-7f);
}

static void test_against_pytorch(void) {
    gt_tensor *in[11];
    const char *names[11] = {"real", "fake", "x_real", "x_fake", "e", "u", "w1", "b1", "w2", "b2", "w3"};
    in[0] = gt_test_randn(1, S(NB), 1.5f);
    in[1] = gt_test_randn(2, S(NB), 1.5f);
    in[2] = gt_test_randn(3, S(4, 3, 16, 16), 1.0f);
    in[3] = gt_test_randn(4, S(4, 3, 16, 16), 1.0f);
    in[4] = gt_test_uniform(5, S(4, 1, 1, 1), 0.0f, 1.0f);
    in[5] = gt_test_uniform(6, S(4, 3, 16, 16), 0.0f, 1.0f);
    g_p[0] = gt_test_randn(7, S(8, 3, 4, 4), 0.15f);
    g_p[1] = gt_test_randn(8, S(8), 0.1f);
    g_p[2] = gt_test_randn(9, S(16, 8, 4, 4), 0.1f);
    g_p[3] = gt_test_randn(10, S(16), 0.1f);
    g_p[4] = gt_test_randn(11, S(1, 256), 0.06f);
    g_p[5] = gt_test_randn(12, S(1), 0.1f);
    for (int i = 0; i < 5; i++) in[6 + i] = g_p[i];
    const char *all_names[12];
    gt_tensor *all[12];
    for (int i = 0; i < 11; i++) all_names[i] = names[i], all[i] = in[i];
    all_names[11] = "b3", all[11] = g_p[5];
    char args[1024], lossnames[256];
    size_t k = 0;
    for (int l = 0; l < GT_LOSS_COUNT; l++)
        k += (size_t)snprintf(lossnames + k, sizeof lossnames - k, "%s%s", l ? "," : "", gt_loss_name((gt_loss_kind)l));
    const char *path = gt_test_path("losses_in.gtb");
    CHECK(gt_golden_write(path, 12, all_names, all));
    snprintf(args, sizeof args, "%s %s", path, lossnames);
    if (!gt_golden_run("train_losses.py", args)) return;

    /* the losses */
    for (int l = 0; l < GT_LOSS_COUNT; l++) {
        const gt_loss_def *def = gt_loss_def_get((gt_loss_kind)l);
        for (int ti = 0; ti < 2; ti++) {
            float t = ti ? 0.9f : 1.0f;
            if (ti && !def->probs) continue; /* label smoothing belongs to the BCE losses */
            gt_tensor *r = gt_detach(in[0]), *f = gt_detach(in[1]);
            gt_set_requires_grad(r, true), gt_set_requires_grad(f, true);
            gt_tensor *d = gt_gan_loss_d_smooth((gt_loss_kind)l, r, f, t), *g = gt_gan_loss_g_pair((gt_loss_kind)l, r, f);
            CHECK_MSG(d && g, "%s: %s", def->name, gt_last_error());
            if (!d || !g) continue;
            char nm[96], key[64];
            snprintf(key, sizeof key, "%s.%d", def->name, ti);
#define GOLD(suffix) (snprintf(nm, sizeof nm, "%s.%s", key, suffix), gt_golden(nm))
            close_rel(key, gt_reshape(d, S(1)), GOLD("d"), 1e-5f);
            close_rel(key, gt_reshape(g, S(1)), GOLD("g"), 1e-5f);
            gt_tensor *gd[2], *gg[2], *both[2] = {r, f};
            CHECK(gt_grad(d, NULL, 2, both, gd, false) == GT_OK);
            close_rel("dD/dreal", gd[0], GOLD("d_dr"), 1e-5f);
            close_rel("dD/dfake", gd[1], GOLD("d_df"), 1e-5f);
            gt_tensor *g2 = gt_gan_loss_g_pair((gt_loss_kind)l, r, f);
            CHECK(gt_grad(g2, NULL, 2, both, gg, false) == GT_OK);
            close_rel("dG/dfake", gg[1], GOLD("g_df"), 1e-5f);
            if (def->g_pair) close_rel("dG/dreal", gg[0], GOLD("g_dr"), 1e-5f);
            /* the separable losses' terms add up to the whole */
            if (def->d_part) {
                gt_tensor *sum = gt_add(gt_gan_loss_d_part_smooth((gt_loss_kind)l, r, true, t),
                                        gt_gan_loss_d_part_smooth((gt_loss_kind)l, f, false, t));
                close_rel("d_part sum", gt_reshape(sum, S(1)), GOLD("d"), 1e-6f);
            } else {
                CHECK(gt_gan_loss_d_part((gt_loss_kind)l, r, true) == NULL && strstr(gt_last_error(), "pairwise"));
            }
#undef GOLD
        }
    }
    /* a pairwise loss pairs fakes with reals one to one */
    CHECK(gt_gan_loss_d(GT_LOSS_RPGAN, in[0], gt_slice(in[1], 0, 0, 3, 1)) == NULL &&
          strstr(gt_last_error(), "pairs"));

    /* the regularizers */
    for (int i = 0; i < 6; i++) gt_set_requires_grad(g_p[i], true);
    for (int rk = 0; rk < GT_REG_COUNT; rk++) {
        const gt_reg_def *def = gt_reg_def_get((gt_reg_kind)rk);
        gt_tensor *e = rk == GT_REG_GP || rk == GT_REG_DRAGAN ? in[4] : NULL, *u = rk == GT_REG_DRAGAN ? in[5] : NULL;
        gt_tensor *xh = gt_reg_point((gt_reg_kind)rk, in[2], in[3], e, u);
        CHECK_MSG(xh != NULL, "%s: %s", def->name, gt_last_error());
        if (!xh) continue;
        char nm[64];
        snprintf(nm, sizeof nm, "%s.x", def->name);
        close_rel(nm, xh, gt_golden(nm), 1e-5f);
        gt_tensor *pen = gt_reg_penalty_at((gt_reg_kind)rk, D(xh), xh);
        CHECK_MSG(pen != NULL, "%s: %s", def->name, gt_last_error());
        if (!pen) continue;
        snprintf(nm, sizeof nm, "%s.pen", def->name);
        close_rel(nm, gt_reshape(pen, S(1)), gt_golden(nm), 1e-4f);
        gt_tensor *gr[6];
        CHECK(gt_grad(pen, NULL, 6, g_p, gr, false) == GT_OK);
        for (int i = 0; i < 6; i++) {
            snprintf(nm, sizeof nm, "%s.d%s", def->name, PN[i]);
            close_rel(nm, gr[i], gt_golden(nm), 1e-4f);
        }
    }
    CHECK(gt_reg_point(GT_REG_DRAGAN, in[2], in[3], in[4], NULL) == NULL && strstr(gt_last_error(), "dragan"));
}

/* The trainer with each regularizer on a tiny DCGAN: finite losses, the penalty logged only when
 * due (reg_every), and a run with a penalty of weight w differs from one without. */
static void test_trainer_regularizers(void) {
    for (int rk = 0; rk < GT_REG_COUNT; rk++) {
        gt_train_config c = gt_train_config_default();
        c.model.res = 28, c.model.channels = 1, c.model.nz = 8;
        gt_model_opt_set(&c.model, "ngf", 4);
        gt_model_opt_set(&c.model, "ndf", 4);
        gt_model_opt_set(&c.model, "d_norm", GT_NORM_LAYER);
        c.batch = 4, c.ema = 0, c.n_critic = 1, c.reg_every = 2;
        c.loss = rk == GT_REG_GP ? GT_LOSS_WGAN : GT_LOSS_RPGAN;
        double *w = rk == GT_REG_GP ? &c.gp : rk == GT_REG_DRAGAN ? &c.dragan : rk == GT_REG_R1 ? &c.r1 : &c.r2;
        *w = 10;
        gt_trainer t;
        CHECK_MSG(gt_trainer_init(&t, &c, NULL) == GT_OK, "%s", gt_last_error());
        for (int step = 0; step < 3; step++) {
            int m = gt_scope_begin();
            gt_tensor *real = gt_test_uniform(100 + (uint64_t)step, S(4, 1, 28, 28), -1.0f, 1.0f);
            gt_tensor *z = gt_test_randn(200 + (uint64_t)step, S(4, 8), 1.0f);
            gt_step_stats s;
            CHECK_MSG(gt_trainer_step_on(&t, &real, &z, &s) == GT_OK, "%s", gt_last_error());
            bool due = step % 2 == 0; /* D steps 0 and 2 of 0, 1, 2 */
            CHECK_MSG(isfinite(s.loss_d) && isfinite(s.loss_g), "%s: loss not finite", gt_reg_def_get(rk)->name);
            CHECK_MSG(due ? s.reg[rk] > 0 : s.reg[rk] == 0, "%s step %d: penalty %g", gt_reg_def_get(rk)->name, step,
                      s.reg[rk]);
            for (int o = 0; o < GT_REG_COUNT; o++) CHECK(o == rk || s.reg[o] == 0);
            gt_scope_end(m);
        }
        gt_trainer_free(&t);
    }
}

/* Config checks of the new fields, with messages naming them. */
static void test_config(void) {
    gt_train_config c = gt_train_config_default();
    c.label_smooth = 0.1;
    CHECK(gt_train_config_check(&c) == GT_OK);
    c.loss = GT_LOSS_HINGE;
    CHECK(gt_train_config_check(&c) == GT_ERR_ARG && strstr(gt_last_error(), "label-smooth"));
    c = gt_train_config_default();
    c.reg_every = 0;
    CHECK(gt_train_config_check(&c) == GT_ERR_ARG && strstr(gt_last_error(), "reg-every"));
    c = gt_train_config_default();
    c.r1 = -1;
    CHECK(gt_train_config_check(&c) == GT_ERR_ARG && strstr(gt_last_error(), "r1"));
    /* round trip through JSON */
    c = gt_train_config_default();
    c.r1 = 5, c.r2 = 2.5, c.dragan = 10, c.reg_every = 16, c.label_smooth = 0.2, c.loss = GT_LOSS_LS;
    char *j = gt_train_config_to_json(&c);
    gt_train_config d = gt_train_config_default();
    CHECK(j && gt_train_config_from_json(&d, j, "rt") == GT_OK);
    CHECK(d.r1 == 5 && d.r2 == 2.5 && d.dragan == 10 && d.reg_every == 16 && d.label_smooth == 0.2 &&
          d.loss == GT_LOSS_LS);
    free(j);
}

int main(void) {
    RUN(test_against_pytorch);
    RUN(test_trainer_regularizers);
    RUN(test_config);
    return gt_test_finish();
}
