/* Training with augmentation (the default scheme; src/train/trainer.c): G's gradient through
 * DiffAugment differs from the unaugmented one and equals finite differences on fixed draws; ADA's p
 * rises when D overfits 8 images and falls when D cannot tell anything (all its weights 0: logits 0,
 * r_t 0); checkpoint and resume exact with ADA, CR and LeCam on; configs round-trip (older ones mean
 * none); bad settings named (library and CLI: exit 2, nothing written). */
#include <math.h>

#include "../cli/cli_util.h"
#include "../common/harness.h"
#include "train_util.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

/* --- G's gradient through the augmentation, on a tiny functional G and D ------------------------ */
typedef struct {
    gt_augment *a; /* NULL: no augmentation */
    gt_tensor *z, *d1, *d2;
} gctx;

/* in: G's gw (64, 4), gb (64); G's loss softplus(-D(aug(G(z)))) with the draws of seed 77 each time */
static gt_tensor *g_loss(gt_tensor *const *in, void *u) {
    gctx *c = u;
    gt_tensor *x = gt_reshape(gt_tanh(gt_linear(c->z, in[0], in[1])), S(-1, 1, 8, 8));
    if (c->a) {
        gt_rng r;
        gt_rng_init(&r, 77);
        x = gt_augment_apply(c->a, x, &r);
    }
    gt_tensor *h = gt_leaky_relu(gt_conv2d(x, c->d1, NULL, gt_conv_params_make(2, 1)), 0.2f);
    gt_tensor *d = gt_linear(gt_flatten(h, 1), c->d2, NULL);
    return gt_mean_all(gt_softplus(gt_mul_scalar(d, -1.0f), 1.0f, 20.0f));
}

static void g_gradient_through(const char *spec, double p_fixed) {
    gt_augment *a = NULL;
    gt_augment_opts o = gt_augment_opts_default();
    o.p = p_fixed, o.ada_fixed = true;
    CHECK_MSG(gt_augment_new(spec, &o, &a) == GT_OK, "%s", gt_last_error());
    if (!a) return;
    gt_tensor *p[2] = {gt_test_randn(1, S(64, 4), 0.5f), gt_test_randn(2, S(64), 0.1f)};
    p[0]->requires_grad = p[1]->requires_grad = true;
    gctx c = {a, gt_test_randn(3, S(4, 4), 1.0f), gt_test_randn(4, S(4, 1, 4, 4), 0.4f),
              gt_test_randn(5, S(1, 64), 0.3f)};
    gctx plain = c;
    plain.a = NULL;
    gt_tensor *ga[2], *gp[2];
    CHECK(gt_grad(g_loss(p, &c), NULL, 2, p, ga, false) == GT_OK);
    CHECK(gt_grad(g_loss(p, &plain), NULL, 2, p, gp, false) == GT_OK);
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < gt_numel(ga[0]); i++) {
        double d = gt_data(ga[0])[i] - gt_data(gp[0])[i];
        diff += d * d, norm += (double)gt_data(gp[0])[i] * gt_data(gp[0])[i];
    }
    CHECK_MSG(norm > 0 && diff > 1e-4 * norm, "augmented G gradient differs from the plain one by %g (|g|^2 %g)", diff,
              norm);
    gt_gradcheck_opts go = {.eps = 2e-3f, .rtol = 5e-2f, .atol = 5e-3f, .max_elems = 16, .wrt = 0x3};
    char what[128];
    snprintf(what, sizeof what, "G's loss through %s wrt G's parameters", spec);
    gt_test_gradcheck(what, g_loss, 2, p, &c, &go);
    gt_augment_free(a);
}

static void test_g_gradient_through_diffaug(void) { g_gradient_through("diffaug:color,translation,cutout", 0); }
static void test_g_gradient_through_ada(void) {
    g_gradient_through("ada:b", 0.5);
    g_gradient_through("ada", 0.5);
}

/* --- ADA in the trainer ------------------------------------------------------------------------ */
static const char *tiny_data(void) {
    static char path[1024];
    if (!path[0]) {
        snprintf(path, sizeof path, "%s", gt_test_path("eight.idx"));
        CHECK(gt_test_write_idx(path, 8));
    }
    return path;
}

static gt_train_config ada_config(const char *out, int64_t steps) {
    gt_train_config c = gt_test_tiny_config(tiny_data(), out, steps);
    c.batch = 8, c.ema = 0, c.seed = 3;
    snprintf(c.augment, sizeof c.augment, "ada");
    c.ada_interval = 1, c.ada_kimg = 0.2; /* p moves 8 / 200 = 0.04 per D step */
    return c;
}

static void test_ada_p_rises_when_d_overfits(void) {
    gt_train_config c = ada_config("", 40);
    c.lr_d = 1e-3; /* D memorizes the 8 images quickly */
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &c, NULL);
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    gt_step_stats s = {0};
    double pmax = 0, rtmax = -2;
    for (int i = 0; i < 40 && st == GT_OK; i++) {
        st = gt_trainer_step(&t, &s);
        pmax = fmax(pmax, s.aug_p), rtmax = isnan(s.ada_rt) ? rtmax : fmax(rtmax, s.ada_rt);
    }
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    printf("  ada on 8 images: p %.3f (max %.3f), r_t %.3f (max %.3f) after 40 steps\n", s.aug_p, pmax, s.ada_rt,
           rtmax);
    CHECK_MSG(rtmax > 0.6, "r_t never above the target (max %.3f)", rtmax);
    CHECK_MSG(s.aug_p > 0.2, "p %.3f after 40 steps of an overfitting D", s.aug_p);
    CHECK(s.aug_p == gt_augment_p(t.aug));
    gt_trainer_free(&t);
}

static void test_ada_p_falls_when_d_cannot(void) {
    gt_train_config c = ada_config("", 20);
    c.ada_p = 0.5;
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &c, NULL);
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    if (st != GT_OK) return;
    /* D's weights all 0: its outputs are 0 and its gradients too (Adam leaves it at 0): r_t = 0 */
    gt_fill_(t.D.P.slab, 0.0f);
    gt_step_stats s = {0};
    double prev = 0.5;
    bool mono = true;
    for (int i = 0; i < 20 && st == GT_OK; i++) {
        st = gt_trainer_step(&t, &s);
        mono = mono && s.aug_p <= prev, prev = s.aug_p;
    }
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    printf("  ada with a blind D: p %.3f, r_t %.3f after 20 steps (from p 0.5)\n", s.aug_p, s.ada_rt);
    CHECK_MSG(mono && s.aug_p == 0.0, "p %.3f (never rising: %d)", s.aug_p, mono);
    CHECK_MSG(s.ada_rt == 0.0, "r_t %.3f with logits 0", s.ada_rt);
    gt_trainer_free(&t);
}

/* --- exact resume ------------------------------------------------------------------------------ */
static void run_steps(gt_trainer *t, int n) {
    for (int i = 0; i < n; i++) CHECK_MSG(gt_trainer_step(t, NULL) == GT_OK, "%s", gt_last_error());
}

static void test_resume_exact(void) {
    const char *specs[] = {"ada", "diffaug:color,translation,cutout"};
    for (int v = 0; v < 2; v++) {
        gt_train_config c = ada_config("", 8);
        snprintf(c.augment, sizeof c.augment, "%s", specs[v]);
        c.lr_d = 1e-3, c.lecam = 0.3, c.cr = 1, c.zcr_gen = 0.5, c.r1 = 0.1;
        gt_trainer a, b;
        CHECK_MSG(gt_trainer_init(&a, &c, NULL) == GT_OK, "%s", gt_last_error());
        run_steps(&a, 4);
        const char *ck = gt_test_path("half.safetensors");
        CHECK_MSG(gt_trainer_save(&a, ck) == GT_OK, "%s", gt_last_error());
        run_steps(&a, 4);
        CHECK_MSG(gt_trainer_init(&b, &c, NULL) == GT_OK, "%s", gt_last_error());
        CHECK_MSG(gt_trainer_load(&b, ck) == GT_OK, "%s", gt_last_error());
        run_steps(&b, 4);
        CHECK(memcmp(gt_data(a.G.P.slab), gt_data(b.G.P.slab), (size_t)a.G.P.numel * sizeof(float)) == 0);
        CHECK(memcmp(gt_data(a.D.P.slab), gt_data(b.D.P.slab), (size_t)a.D.P.numel * sizeof(float)) == 0);
        double sa[GT_AUGMENT_STATE], sb[GT_AUGMENT_STATE];
        gt_augment_get_state(a.aug, sa), gt_augment_get_state(b.aug, sb);
        CHECK_MSG(memcmp(sa, sb, sizeof sa) == 0, "%s: augmentation state differs (p %g vs %g)", specs[v], sa[0],
                  sb[0]);
        CHECK(memcmp(a.lecam_ema, b.lecam_ema, sizeof a.lecam_ema) == 0);
        if (v == 0) printf("  resumed ada run: p %.4f\n", gt_augment_p(a.aug));
        CHECK(v == 1 || gt_augment_p(a.aug) > 0); /* the state that had to come back was not trivial */
        gt_trainer_free(&a);
        gt_trainer_free(&b);
    }
}

/* --- configs and bad input --------------------------------------------------------------------- */
static void test_config(void) {
    gt_train_config c = ada_config("", 5);
    c.ada_target = 0.7, c.cr = 2, c.lecam = 0.1, c.zcr_sigma = 0.2;
    CHECK(gt_train_config_check(&c) == GT_OK);
    char *j = gt_train_config_to_json(&c);
    gt_train_config d = gt_train_config_default();
    CHECK(j && gt_train_config_from_json(&d, j, "t") == GT_OK);
    CHECK(!strcmp(d.augment, "ada") && d.ada_target == 0.7 && d.cr == 2 && d.lecam == 0.1 && d.zcr_sigma == 0.2 &&
          d.ada_interval == 1 && d.ada_kimg == 0.2);
    free(j);
    /* an older config without the keys: none and zeros */
    gt_train_config o = gt_train_config_default();
    CHECK(gt_train_config_from_json(&o, "{\"steps\": 10}", "old") == GT_OK && gt_train_config_check(&o) == GT_OK);
    CHECK(!strcmp(o.augment, "none") && o.cr == 0 && o.lecam == 0 && !gt_train_uses_augment(&o) &&
          !gt_train_uses_consistency(&o));
    struct {
        const char *aug;
        double p;
        const char *needle;
    } bad[] = {{"blur", 0, "blur"}, {"diffaug:color,zoom", 0, "zoom"}, {"ada", 1.5, "ada-p"}, {"ada", -0.1, "ada-p"}};
    for (int i = 0; i < 4; i++) {
        gt_train_config b = ada_config("", 5);
        snprintf(b.augment, sizeof b.augment, "%s", bad[i].aug);
        b.ada_p = bad[i].p;
        CHECK(gt_train_config_check(&b) == GT_ERR_ARG);
        CHECK_MSG(strstr(gt_last_error(), bad[i].needle) != NULL, "%s: %s", bad[i].needle, gt_last_error());
    }
}

static void test_energy_d_refuses_ada(void) {
    gt_train_config e = gt_train_config_default();
    e.model = gt_model_config_default("began");
    e.loss = GT_LOSS_BEGAN;
    CHECK_MSG(gt_train_config_check(&e) == GT_OK, "%s", gt_last_error());
    snprintf(e.augment, sizeof e.augment, "ada");
    CHECK(gt_train_config_check(&e) == GT_ERR_ARG && strstr(gt_last_error(), "energies"));
    snprintf(e.augment, sizeof e.augment, "diffaug:translation");
    CHECK_MSG(gt_train_config_check(&e) == GT_OK, "%s", gt_last_error());
}

static void test_cli_bad_input(void) {
    if (!gt_cli_find()) {
        printf("  (no gantry program built: CLI checks skipped)\n");
        return;
    }
    const char *out = gt_test_path("run");
    struct {
        const char *flag, *val, *needle;
    } bad[] = {{"--augment", "blur", "blur"},     {"--augment", "diffaug:zoom", "zoom"}, {"--ada-p", "1.5", "--ada-p"},
               {"--ada-p", "-0.5", "--ada-p"},    {"--cr", "-1", "--cr"},                {"--lecam", "-2", "--lecam"},
               {"--bcr-fake", "-1", "--bcr-fake"}, {"--zcr-gen", "-1", "--zcr-gen"}};
    for (int i = 0; i < 8; i++) {
        int rc = gt_cli_run("train", "--data", tiny_data(), "--steps", "2", "--batch", "8", "--out", out, "--ngf", "8",
                            "--ndf", "8", bad[i].flag, bad[i].val, NULL);
        CHECK_MSG(rc == 2 && gt_cli_said(bad[i].needle), "%s %s: exit %d, said: %s", bad[i].flag, bad[i].val, rc,
                  gt_cli_out);
        CHECK_MSG(access(out, F_OK) != 0, "%s %s: %s was written", bad[i].flag, bad[i].val, out);
    }
    /* a working run with ADA: metrics.jsonl has aug_p and ada_rt */
    int rc = gt_cli_run("train", "--data", tiny_data(), "--steps", "4", "--batch", "8", "--out", out, "--ngf", "8",
                        "--ndf", "8", "--augment", "ada", "--ada-interval", "1", "--ada-kimg", "0.1", "--log-every",
                        "2", "--lecam", "0.1", "--sample-every", "0", "--n-samples", "4", NULL);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, gt_cli_out);
    size_t n = 0;
    char mp[1200];
    snprintf(mp, sizeof mp, "%s/metrics.jsonl", out);
    char *m = (char *)gt_test_read_all(mp, &n);
    CHECK_MSG(m && strstr(m, "\"aug_p\":") && strstr(m, "\"ada_rt\":") && strstr(m, "\"lecam\":"), "metrics: %s",
              m ? m : "(none)");
    free(m);
}

int main(void) {
    RUN(test_g_gradient_through_diffaug);
    RUN(test_g_gradient_through_ada);
    RUN(test_ada_p_rises_when_d_overfits);
    RUN(test_ada_p_falls_when_d_cannot);
    RUN(test_resume_exact);
    RUN(test_config);
    RUN(test_energy_d_refuses_ada);
    RUN(test_cli_bad_input);
    return gt_test_finish();
}
