/* DCGAN: shapes and names for every supported size; full training steps
 * (D step then G step, Adam, BCE, EMA) against the PyTorch DCGAN example
 * from the same initial weights, batches and latents; the same with the
 * WGAN critics: WGAN-GP with a layer-norm (GroupNorm(1, C)) or norm-free D,
 * WGAN with weight clipping; the model registry; errors. */
#include "../common/harness.h"

#include "gantry/train.h"

typedef struct {
    int res, channels, nz, ngf, ndf, batch, steps;
    double ema;
    gt_loss_kind loss; /* ns when 0 */
    double gp, clip;   /* clip: GT_CLIP_DEFAULT when 0 */
    int d_norm;        /* GT_NORM_DEFAULT when 0 */
} gt_case;

/* Writes every registry entry of P as tag.<name> into names/ts. */
static int add_entries(const char *tag, const gt_params *P, const char **names, gt_tensor **ts, char (*buf)[160],
                       int k) {
    for (int i = 0; i < P->n; i++) {
        snprintf(buf[k], 160, "%s.%s", tag, P->v[i].name);
        names[k] = buf[k];
        ts[k++] = P->v[i].t;
    }
    return k;
}

static void compare_entries(const char *tag, const gt_params *P, float rtol, float atol) {
    char nm[200];
    for (int i = 0; i < P->n; i++) {
        snprintf(nm, sizeof nm, "%s.%s", tag, P->v[i].name);
        gt_tensor *g = gt_golden(nm);
        CHECK_MSG(g != NULL, "golden %s missing", nm);
        if (g) gt_test_close(nm, P->v[i].t, g, rtol, atol);
    }
}

static void run_case(const gt_case *k) {
    gt_train_config c = gt_train_config_default();
    c.model.res = k->res, c.model.channels = k->channels, c.model.nz = k->nz;
    gt_model_opt_set(&c.model, "ngf", k->ngf);
    gt_model_opt_set(&c.model, "ndf", k->ndf);
    c.batch = k->batch, c.ema = k->ema, c.seed = 3;
    c.lr_g = 2e-4, c.lr_d = 1e-4; /* TTUR: different rates */
    c.loss = k->loss, c.gp = k->gp, c.clip = k->clip ? k->clip : GT_CLIP_DEFAULT;
    gt_model_opt_set(&c.model, "d_norm", k->d_norm);
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &c, NULL);
    CHECK_MSG(st == GT_OK, "trainer init: %s", gt_last_error());
    if (st != GT_OK) {
        gt_trainer_free(&t);
        return;
    }
    enum { MAXE = 256 };
    static const char *names[MAXE];
    static gt_tensor *ts[MAXE];
    static char buf[MAXE][160];
    int n = add_entries("G", &t.G.P, names, ts, buf, 0);
    n = add_entries("D", &t.D.P, names, ts, buf, n);
    gt_tensor *reals[8], *zs[8];
    gt_rng mix = t.rng; /* the penalty's mixing weights: the trainer's only draws in gt_trainer_step_on */
    for (int s = 0; s < k->steps; s++) {
        if (t.cfg.gp > 0) {
            snprintf(buf[n], 160, "eps.%d", s), names[n] = buf[n];
            ts[n++] = gt_rand(&mix, GT_SHAPE(k->batch, 1, 1, 1));
        }
        reals[s] = gt_test_uniform(100 + (uint64_t)s, GT_SHAPE(k->batch, k->channels, k->res, k->res), -1, 1);
        zs[s] = gt_test_randn(200 + (uint64_t)s, GT_SHAPE(k->batch, k->nz), 1.0f);
        snprintf(buf[n], 160, "real.%d", s), names[n] = buf[n], ts[n++] = reals[s];
        snprintf(buf[n], 160, "z.%d", s), names[n] = buf[n], ts[n++] = zs[s];
    }
    char path[512], args[1024];
    snprintf(path, sizeof path, "%s/dcgan_in_%d_%d.gtb", gt_test_tmpdir(), k->res, k->channels);
    CHECK(gt_golden_write(path, n, names, ts));
    snprintf(args, sizeof args, "%s %d %d %d %d %d %d %.17g %.17g %.17g %.17g %.17g %s %.17g %.17g %s", path, k->res,
             k->channels, k->nz, k->ngf, k->ndf, k->steps, c.lr_g, c.lr_d, c.beta1, c.beta2, k->ema > 0 ? k->ema : 0.0,
             gt_loss_name(t.cfg.loss), t.cfg.gp, t.cfg.clip, gt_norm_name((int)gt_model_opt(&t.cfg.model, "d_norm")));
    double ld[8], lg[8];
    for (int s = 0; s < k->steps; s++) {
        gt_step_stats ss;
        st = gt_trainer_step_on(&t, &reals[s], &zs[s], &ss);
        CHECK_MSG(st == GT_OK, "step %d: %s", s, gt_last_error());
        ld[s] = ss.loss_d, lg[s] = ss.loss_g;
    }
    CHECK(t.step == (uint64_t)k->steps);
    if (gt_golden_run("train_dcgan_step.py", args)) {
        gt_tensor *ok = gt_golden("names_ok");
        CHECK_MSG(ok && gt_item(ok) == 1.0f, "parameter names/shapes differ from torch's state_dict (res %d)", k->res);
        /* weights after the steps, to 1e-4 relative (atol for entries near 0) */
        compare_entries("G", &t.G.P, 1e-4f, 1e-6f);
        compare_entries("D", &t.D.P, 1e-4f, 1e-6f);
        if (k->ema > 0) compare_entries("G_ema", &t.G_ema.P, 1e-4f, 1e-6f);
        for (int s = 0; s < k->steps; s++) {
            char nm[32];
            snprintf(nm, sizeof nm, "loss_d.%d", s);
            gt_tensor *g = gt_golden(nm);
            CHECK_MSG(g && fabs(ld[s] - gt_item(g)) <= 1e-4 * fabs(gt_item(g)) + 1e-6, "%s: %g vs torch %g", nm,
                      ld[s], g ? gt_item(g) : NAN);
            snprintf(nm, sizeof nm, "loss_g.%d", s);
            g = gt_golden(nm);
            CHECK_MSG(g && fabs(lg[s] - gt_item(g)) <= 1e-4 * fabs(gt_item(g)) + 1e-6, "%s: %g vs torch %g", nm,
                      lg[s], g ? gt_item(g) : NAN);
        }
    }
    gt_trainer_free(&t);
}

/* res, channels, nz, ngf, ndf, batch, steps, ema, loss, gp, clip, d_norm */
static const struct {
    const char *name;
    gt_case k;
} g_cases[] = {
    {"32 px RGB", {32, 3, 16, 8, 8, 8, 2, 0.9, GT_LOSS_NS, 0, 0, GT_NORM_DEFAULT}},
    {"28 px gray", {28, 1, 10, 8, 8, 6, 1, 0.0, GT_LOSS_NS, 0, 0, GT_NORM_DEFAULT}},
    {"64 px RGB", {64, 3, 8, 4, 4, 4, 1, 0.5, GT_LOSS_NS, 0, 0, GT_NORM_DEFAULT}},
    /* WGAN-GP, the default critic with a penalty: layer norm (torch GroupNorm(1, C)) */
    {"WGAN-GP, layer-norm critic", {32, 3, 16, 8, 8, 8, 2, 0.9, GT_LOSS_WGAN, 10, 0, GT_NORM_DEFAULT}},
    {"WGAN-GP, critic without norm", {28, 1, 10, 8, 8, 6, 2, 0.0, GT_LOSS_WGAN, 10, 0, GT_NORM_NONE}},
    /* the original WGAN: clipping to 0.01 after each D step (batch-norm D) */
    {"WGAN, clipping", {28, 1, 10, 8, 8, 6, 2, 0.0, GT_LOSS_WGAN, 0, 0, GT_NORM_DEFAULT}},
};

static void test_parity(void) {
    for (size_t i = 0; i < sizeof g_cases / sizeof *g_cases; i++) {
        int before = gt_test_failures;
        run_case(&g_cases[i].k);
        fprintf(stderr, "  %-30s %s\n", g_cases[i].name, gt_test_failures == before ? "matches PyTorch" : "FAILED");
    }
}

/* Output shapes, parameter counts (as torch counts them) and init statistics. */
static void test_shapes(void) {
    const int sizes[3] = {28, 32, 64};
    for (int si = 0; si < 3; si++)
        for (int ch = 1; ch <= 3; ch += 2) {
            gt_model_config c = gt_model_config_default("dcgan");
            c.res = sizes[si], c.channels = ch, c.nz = 12;
            gt_model_opt_set(&c, "ngf", 8);
            gt_model_opt_set(&c, "ndf", 8);
            gt_rng r;
            gt_rng_init(&r, 1);
            gt_net G, D;
            CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK);
            CHECK(gt_model_build(&c, GT_NET_D, &r, &D) == GT_OK);
            int m = gt_scope_begin();
            gt_tensor *z = gt_test_randn(5, GT_SHAPE(3, 12), 1.0f);
            gt_tensor *x = gt_net_forward(&G, z, GT_BN_TRAIN);
            CHECK_MSG(x && x->ndim == 4 && x->shape[0] == 3 && x->shape[1] == ch && x->shape[2] == c.res &&
                          x->shape[3] == c.res,
                      "G output at res %d ch %d: %s", c.res, ch, gt_last_error());
            gt_tensor *y = gt_net_forward(&D, x, GT_BN_TRAIN);
            CHECK_MSG(y && y->ndim == 1 && y->shape[0] == 3, "D output at res %d: %s", c.res, gt_last_error());
            /* wrong input shapes are errors naming the expected shape */
            CHECK(gt_net_forward(&D, z, GT_BN_TRAIN) == NULL && strstr(gt_last_error(), "discriminator"));
            CHECK(gt_net_forward(&G, x, GT_BN_TRAIN) == NULL && strstr(gt_last_error(), "latents"));
            gt_scope_end(m);
            /* weights N(0, 0.02): the first conv's std */
            gt_tensor *w = gt_params_get(&G.P, "main.0.weight");
            CHECK(w != NULL);
            if (w) {
                double s = 0, s2 = 0;
                int64_t n = gt_numel(w);
                for (int64_t i = 0; i < n; i++) s += gt_data(w)[i], s2 += (double)gt_data(w)[i] * gt_data(w)[i];
                double sd = sqrt(s2 / (double)n - (s / (double)n) * (s / (double)n));
                CHECK_MSG(fabs(sd - 0.02) < 0.004, "init std %g", sd);
            }
            gt_tensor *bw = gt_params_get(&G.P, "main.1.weight");
            CHECK(bw && fabs(gt_data(bw)[0] - 1.0f) < 0.1f);
            CHECK(gt_params_get(&D.P, "main.1.weight") == NULL); /* no BN after D's first conv */
            gt_net_free(&G);
            gt_net_free(&D);
        }
    /* default widths at 64 px: the PyTorch DCGAN example's 3,576,704 and 2,765,568 parameters */
    gt_model_config c = gt_model_config_default("dcgan");
    c.res = 64;
    gt_rng r;
    gt_rng_init(&r, 1);
    gt_net G, D;
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK && gt_net_num_params(&G) == 3576704);
    CHECK(gt_model_build(&c, GT_NET_D, &r, &D) == GT_OK && gt_net_num_params(&D) == 2765568);
    gt_net_free(&G);
    gt_net_free(&D);
}

static gt_status fake_build(const gt_model_config *c, gt_net_kind k, gt_rng *r, gt_net *o) {
    return gt_model_dcgan.build(c, k, r, o);
}

static void test_registry_and_errors(void) {
    CHECK(gt_model_find("dcgan") == &gt_model_dcgan);
    CHECK(gt_model_find("nope") == NULL && strstr(gt_last_error(), "dcgan"));
    gt_model_entry e = gt_model_dcgan;
    CHECK(gt_model_register(&e) != GT_OK); /* name taken */
    static gt_model_entry mine;
    mine = gt_model_dcgan;
    mine.name = "dcgan-copy";
    mine.build = fake_build;
    CHECK(gt_model_register(&mine) == GT_OK);
    gt_model_config c = gt_model_config_default("dcgan-copy");
    CHECK(strcmp(c.name, "dcgan-copy") == 0 && c.res == 32 && c.nz == 100 && gt_model_opt(&c, "ngf") == 64);
    char names[256];
    CHECK(strstr(gt_model_names(names, sizeof names), "dcgan-copy") != NULL);

    gt_rng r;
    gt_rng_init(&r, 0);
    gt_net G;
    c = gt_model_config_default("dcgan");
    c.res = 48;
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_ERR_ARG && strstr(gt_last_error(), "48"));
    gt_net_free(&G);
    c.res = 32, c.channels = 2;
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_ERR_ARG && strstr(gt_last_error(), "channels"));
    gt_net_free(&G);
    c.channels = 3; /* ngf not set: the default */
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK && gt_model_opt(&G.cfg, "ngf") == 64);
    gt_net_free(&G);
    CHECK(gt_model_opt_set(&c, "ngf", -3) == GT_ERR_ARG && strstr(gt_last_error(), "ngf") &&
          strstr(gt_last_error(), "1..1024"));
    CHECK(gt_model_opt_set(&c, "ngf", 2.5) == GT_ERR_ARG && strstr(gt_last_error(), "integer"));
    CHECK(gt_model_opt_set(&c, "ngf", 32) == GT_OK && gt_model_opt(&c, "ngf") == 32);
    CHECK(gt_model_opts_parse_list(&c, "ndf=16,d_norm=none") == GT_OK && gt_model_opt(&c, "ndf") == 16 &&
          gt_model_opt(&c, "d_norm") == GT_NORM_NONE && gt_model_opt(&c, "ngf") == 32);
    CHECK(gt_model_opts_parse_list(&c, "ndf") == GT_ERR_ARG && strstr(gt_last_error(), "KEY=VALUE"));
    CHECK(isnan(gt_model_opt(&c, "nonesuch")));
    snprintf(c.name, sizeof c.name, "stylegan9");
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_ERR_ARG && strstr(gt_last_error(), "stylegan9"));
    gt_net_free(&G);

    /* a trainer fed batches of the wrong shape says so */
    gt_train_config tc = gt_train_config_default();
    gt_model_opt_set(&tc.model, "ngf", 4);
    gt_model_opt_set(&tc.model, "ndf", 4);
    tc.batch = 2;
    gt_trainer t;
    CHECK(gt_trainer_init(&t, &tc, NULL) == GT_OK);
    int m = gt_scope_begin();
    gt_tensor *real = gt_zeros(GT_SHAPE(2, 1, 32, 32)), *z = gt_zeros(GT_SHAPE(2, 100));
    CHECK(gt_trainer_step_on(&t, &real, &z, NULL) == GT_ERR_SHAPE && strstr(gt_last_error(), "(N, 3, 32, 32)"));
    CHECK(gt_trainer_step(&t, NULL) == GT_ERR_STATE); /* no dataset */
    gt_scope_end(m);
    gt_trainer_free(&t);
    tc.lr_d = 0;
    CHECK(gt_trainer_init(&t, &tc, NULL) == GT_ERR_ARG && strstr(gt_last_error(), "lr-d"));
    gt_trainer_free(&t);
}

int main(void) {
    gt_set_num_threads(2);
    RUN(test_shapes);
    RUN(test_registry_and_errors);
    RUN(test_parity);
    return gt_test_finish();
}
