/* The ResNet families of the model zoo (sngan, sagan, cgan, biggan, r3gan) at
 * small widths against the same architectures written in PyTorch
 * (tests/parity/train_zoo.py) from gantry's own initial weights: parameter
 * names and shapes (the torch modules' state_dict keys), G's output for fixed
 * latents (and labels) and D's logits for fixed images in training and eval
 * mode, and a whole training step of gantry's trainer (its loss, n_critic 1,
 * Adam, the regularizers, the EMA; two steps for r3gan, whose zero-initialized
 * convs leave the first step's other gradients at 0) - the gradients, and the
 * weights, buffers and EMA weights after it to 1e-4 relative. Then each family's shipped config trains 5
 * steps at a small width on random data with finite losses and weights, the
 * initializations have the reference's spread, and the checks refuse bad
 * options naming them. */
#include "../common/harness.h"

#include "gantry/train.h"

typedef struct {
    const char *family, *opts; /* model options for the parity case */
    int channels, nz, classes, batch;
    gt_loss_kind loss;
    double r1, r2;
    int steps; /* 1, or 2 where the first step leaves gradients at 0 (r3gan's zero-initialized convs) */
    int dseed; /* the data's seeds: chosen so that no ReLU input of the steps is within rounding of 0 */
} zoo_case;

static const zoo_case g_cases[] = {
    {"sngan", "ngf=16,ndf=16", 3, 16, 0, 4, GT_LOSS_HINGE, 0, 0, 1, 12},
    {"sngan", "ngf=16,ndf=8,g_sn=true,d_sn=false", 1, 8, 0, 4, GT_LOSS_HINGE, 0, 0, 1, 10},
    {"sagan", "ngf=16,ndf=16", 1, 16, 0, 4, GT_LOSS_HINGE, 0, 0, 1, 6},
    {"sagan", "ngf=16,ndf=16,attn_res=8", 3, 16, 0, 4, GT_LOSS_HINGE, 0, 0, 1, 13},
    {"cgan", "ngf=16,ndf=16", 1, 16, 3, 4, GT_LOSS_HINGE, 0, 0, 1, 7},
    {"biggan", "ngf=16,ndf=16,shared_dim=8", 1, 16, 3, 4, GT_LOSS_HINGE, 0, 0, 1, 8},
    {"biggan", "ngf=16,ndf=8,shared_dim=6,attn_res=0,g_sn=false", 3, 12, 5, 4, GT_LOSS_HINGE, 0, 0, 1, 4},
    {"r3gan", "ngf=8,ndf=8,n_blocks=1", 1, 16, 0, 2, GT_LOSS_RPGAN, 0.5, 0.5, 2, 3},
    {"r3gan", "ngf=8,ndf=8,n_blocks=2", 1, 10, 0, 1, GT_LOSS_RPGAN, 2, 0, 2, 6},
};

/* Every registry entry of P as tag.<name>. */
static int add_entries(const char *tag, const gt_params *P, const char **names, gt_tensor **ts, char (*buf)[160],
                       int k) {
    for (int i = 0; i < P->n; i++) {
        snprintf(buf[k], 160, "%s.%s", tag, P->v[i].name);
        names[k] = buf[k];
        ts[k++] = P->v[i].t;
    }
    return k;
}

/* Buffers (BN statistics, SN's u and v): to rtol / atol. */
static void compare_buffers(const char *what, const char *tag, const gt_params *P, float rtol, float atol) {
    char nm[200];
    for (int i = 0; i < P->n; i++) {
        if (!P->v[i].is_buffer) continue;
        snprintf(nm, sizeof nm, "%s.%s", tag, P->v[i].name);
        gt_tensor *g = gt_golden(nm);
        CHECK_MSG(g != NULL, "%s: golden %s missing", what, nm);
        if (g && !gt_test_close(nm, P->v[i].t, g, rtol, atol)) fprintf(stderr, "    (%s)\n", what);
    }
}

/* The trainable parameters after the step, against torch's (tag.<name>), with torch's gradients
 * of the step (gtag.<name>): the gradients (when grads) to 1e-4 of the net's largest; the weights
 * to 1e-4 relative (1e-6 absolute), except elements whose gradient is at rounding level (at most
 * 1e-6 of the net's largest: a conv bias before a batch norm, whose gradient is 0 but for
 * rounding): Adam's first step moves them by lr g / (|g| + 1e-8), which rounding sends either
 * way, so they are held to 2 lr (they would be 2 lr apart with any flipped sign: the check still
 * catches a wrong gradient anywhere else). */
static void compare_params(const char *what, const char *tag, const char *gtag, const gt_params *P, double lr,
                           bool grads) {
    char nm[200], gn[200];
    double gmax = 0;
    for (int i = 0; i < P->n; i++) {
        if (P->v[i].is_buffer) continue;
        snprintf(gn, sizeof gn, "%s.%s", gtag, P->v[i].name);
        gt_tensor *g = gt_golden(gn);
        for (int64_t j = 0; g && j < gt_numel(g); j++) gmax = fmax(gmax, fabs(gt_data(g)[j]));
    }
    int64_t relaxed = 0, total = 0;
    for (int i = 0; i < P->n; i++) {
        if (P->v[i].is_buffer) continue;
        snprintf(nm, sizeof nm, "%s.%s", tag, P->v[i].name);
        snprintf(gn, sizeof gn, "%s.%s", gtag, P->v[i].name);
        gt_tensor *w = gt_golden(nm), *g = gt_golden(gn);
        const gt_tensor *mine = P->v[i].t;
        CHECK_MSG(w && g && gt_numel(w) == gt_numel(mine) && gt_numel(g) == gt_numel(mine), "%s: golden %s / %s",
                  what, nm, gn);
        if (!w || !g || gt_numel(w) != gt_numel(mine) || gt_numel(g) != gt_numel(mine)) continue;
        if (grads && mine->grad && !gt_test_close(gn, mine->grad, g, 0.0f, (float)(1e-4 * gmax)))
            fprintf(stderr, "    (%s)\n", what);
        const float *a = gt_data(mine), *b = gt_data(w), *gg = gt_data(g);
        int64_t bad = -1;
        for (int64_t j = 0; j < gt_numel(w); j++) {
            const bool tiny = fabs(gg[j]) <= 1e-6 * gmax;
            const double tol = tiny ? 2.05 * lr + 1e-6 : 1e-4 * fabs(b[j]) + 1e-6;
            relaxed += tiny, total++;
            if (fabs(a[j] - b[j]) > tol && bad < 0) bad = j;
        }
        CHECK_MSG(bad < 0, "%s: %s[%lld] = %.9g, torch %.9g (gradient %.3g, largest %.3g)", what, nm, (long long)bad,
                  bad < 0 ? 0.0 : a[bad], bad < 0 ? 0.0 : b[bad], bad < 0 ? 0.0 : gg[bad], gmax);
    }
    if (grads)
        fprintf(stderr, "    %s: %lld of %lld weights with a rounding-level gradient held to 2 lr\n", tag,
                (long long)relaxed, (long long)total);
}

/* The script's key=value arguments for the options of c's family. */
static void opt_args(const gt_model_config *c, char *buf, size_t n) {
    static const char *const map[][2] = {{"ngf", "ngf"},     {"ndf", "ndf"},       {"d_sn", "d_sn"},
                                         {"g_sn", "g_sn"},   {"attn_res", "attn"}, {"shared_dim", "shared"},
                                         {"n_blocks", "blocks"}};
    size_t k = 0;
    for (size_t i = 0; i < sizeof map / sizeof *map && k < n; i++) {
        double v = gt_model_opt(c, map[i][0]);
        if (!isnan(v)) k += (size_t)snprintf(buf + k, n - k, " %s=%d", map[i][1], (int)v);
    }
}

static void run_case(const zoo_case *k, int ci) {
    enum { MAXE = 640, B = 8 };
    gt_train_config c = gt_train_config_default();
    c.model = gt_model_config_default(k->family);
    c.model.res = 32, c.model.channels = k->channels, c.model.nz = k->nz, c.model.n_classes = k->classes;
    CHECK_MSG(gt_model_opts_parse_list(&c.model, k->opts) == GT_OK, "%s", gt_last_error());
    c.batch = k->batch, c.ema = 0.9, c.seed = 3 + (uint64_t)ci;
    c.lr_g = 2e-4, c.lr_d = 1e-4, c.beta1 = 0.0, c.beta2 = 0.9;
    c.loss = k->loss, c.r1 = k->r1, c.r2 = k->r2;
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &c, NULL);
    CHECK_MSG(st == GT_OK, "%s: trainer init: %s", k->family, gt_last_error());
    if (st != GT_OK) {
        gt_trainer_free(&t);
        return;
    }
    const bool cond = k->classes > 0;
    static const char *names[MAXE];
    static gt_tensor *ts[MAXE];
    static char buf[MAXE][160];
    int n = add_entries("G", &t.G.P, names, ts, buf, 0);
    n = add_entries("D", &t.D.P, names, ts, buf, n);
    GT_ASSERT(n + 12 < MAXE);

    /* fixed forwards of copies of the initial nets: training mode, then eval mode */
    gt_net Gc, Dc;
    gt_rng r;
    gt_rng_init(&r, 11);
    CHECK(gt_model_build(&t.cfg.model, GT_NET_G, &r, &Gc) == GT_OK && gt_params_copy(&Gc.P, &t.G.P) == GT_OK);
    CHECK(gt_model_build(&t.cfg.model, GT_NET_D, &r, &Dc) == GT_OK && gt_params_copy(&Dc.P, &t.D.P) == GT_OK);
    gt_tensor *gz = gt_test_randn(300 + (uint64_t)ci, GT_SHAPE(k->batch, k->nz), 1.0f);
    gt_tensor *dx = gt_test_uniform(400 + (uint64_t)ci, GT_SHAPE(k->batch, k->channels, 32, 32), -1, 1);
    gt_tensor *gy = cond ? gt_labels_random(&r, k->batch, k->classes) : NULL;
    gt_tensor *dy = cond ? gt_labels_random(&r, k->batch, k->classes) : NULL;
    gt_tensor *gf = gt_net_forward_y(&Gc, gz, gy, GT_BN_TRAIN), *df = gt_net_forward_y(&Dc, dx, dy, GT_BN_TRAIN);
    gt_tensor *gfe = gt_net_forward_y(&Gc, gz, gy, GT_BN_EVAL), *dfe = gt_net_forward_y(&Dc, dx, dy, GT_BN_EVAL);
    CHECK_MSG(gf && df && gfe && dfe, "%s: forward: %s", k->family, gt_last_error());
    CHECK(gf && gf->ndim == 4 && gf->shape[0] == k->batch && gf->shape[1] == k->channels && gf->shape[2] == 32);
    CHECK(df && df->ndim == 1 && df->shape[0] == k->batch);
    gt_net_free(&Gc);
    gt_net_free(&Dc);
    names[n] = "gz", ts[n++] = gz;
    names[n] = "dx", ts[n++] = dx;
    if (cond) names[n] = "gy", ts[n++] = gy, names[n] = "dy", ts[n++] = dy;

    /* the training steps on given data */
    const int steps = k->steps > 1 ? k->steps : 1;
    gt_tensor *real[2], *z[2], *ry[2] = {NULL, NULL}, *fy[2] = {NULL, NULL};
    for (int s = 0; s < steps; s++) {
        const uint64_t ds = 1000 * (uint64_t)k->dseed + (uint64_t)(ci * 2 + s);
        real[s] = gt_test_uniform(100 + ds, GT_SHAPE(k->batch, k->channels, 32, 32), -1, 1);
        z[s] = gt_test_randn(200 + ds, GT_SHAPE(k->batch, k->nz), 1.0f);
        snprintf(buf[n], 160, "real.%d", s), names[n] = buf[n], ts[n++] = real[s];
        snprintf(buf[n], 160, "z.%d", s), names[n] = buf[n], ts[n++] = z[s];
        if (cond) {
            ry[s] = gt_labels_random(&r, k->batch, k->classes), fy[s] = gt_labels_random(&r, k->batch, k->classes);
            snprintf(buf[n], 160, "real_y.%d", s), names[n] = buf[n], ts[n++] = ry[s];
            snprintf(buf[n], 160, "fake_y.%d", s), names[n] = buf[n], ts[n++] = fy[s];
        }
    }
    char path[512], args[2048], oa[512];
    snprintf(path, sizeof path, "%s/zoo_in_%d.gtb", gt_test_tmpdir(), ci);
    CHECK(gt_golden_write(path, n, names, ts));
    opt_args(&t.cfg.model, oa, sizeof oa);
    snprintf(args, sizeof args,
             "%s family=%s nc=%d nz=%d classes=%d%s loss=%s r1=%.17g r2=%.17g lr_g=%.17g lr_d=%.17g b1=%.17g "
             "b2=%.17g ema=%.17g steps=%d",
             path, k->family, k->channels, k->nz, k->classes, oa, gt_loss_name(k->loss), c.r1, c.r2, c.lr_g, c.lr_d,
             c.beta1, c.beta2, c.ema, steps);
    gt_step_stats ss[2];
    for (int s = 0; s < steps; s++) {
        st = gt_trainer_step_on_y(&t, &real[s], cond ? &ry[s] : NULL, &z[s], cond ? &fy[s] : NULL, &ss[s]);
        CHECK_MSG(st == GT_OK, "%s: step %d: %s", k->family, s, gt_last_error());
    }
    char what[200];
    snprintf(what, sizeof what, "%s %s", k->family, k->opts);
    if (gt_golden_run("train_zoo.py", args)) {
        gt_tensor *ok = gt_golden("names_ok");
        CHECK_MSG(ok && gt_item(ok) == 1.0f, "%s: parameter names / shapes differ from torch's state_dict", what);
        /* a ReLU input within rounding of 0 (gantry's and torch's differ by ~1e-7) can fall on the other
           side in gantry and change every gradient behind it (a batch norm spreads it over the channel):
           such data tests nothing, so each case's data keeps every ReLU input of its steps 1e-6 away */
        gt_tensor *kink = gt_golden("kink");
        CHECK_MSG(kink && gt_item(kink) > 1e-6f,
                  "%s: a ReLU input of the step is %g from its kink: pick another dseed for this case", what,
                  kink ? gt_item(kink) : NAN);
        gt_tensor *g;
        CHECK_MSG((g = gt_golden("gfwd")) && gf && gt_test_close("G(z) train", gf, g, 1e-4f, 1e-5f), "%s", what);
        CHECK_MSG((g = gt_golden("dfwd")) && df && gt_test_close("D(x) train", df, g, 1e-4f, 1e-5f), "%s", what);
        CHECK_MSG((g = gt_golden("gfwd_eval")) && gfe && gt_test_close("G(z) eval", gfe, g, 1e-4f, 1e-5f), "%s", what);
        CHECK_MSG((g = gt_golden("dfwd_eval")) && dfe && gt_test_close("D(x) eval", dfe, g, 1e-4f, 1e-5f), "%s", what);
        /* after the step: gradients, weights, EMA weights, buffers (BN statistics, SN's u and v) */
        compare_params(what, "G", "gradG", &t.G.P, c.lr_g, true);
        compare_params(what, "D", "gradD", &t.D.P, c.lr_d, true);
        compare_params(what, "G_ema", "gradG", &t.G_ema.P, c.lr_g, false);
        compare_buffers(what, "G", &t.G.P, 1e-4f, 1e-6f);
        compare_buffers(what, "D", &t.D.P, 1e-4f, 1e-6f);
        compare_buffers(what, "G_ema", &t.G_ema.P, 1e-4f, 1e-6f);
        for (int s = 0; s < steps; s++) {
            char nm[32];
            snprintf(nm, sizeof nm, "loss_d.%d", s);
            g = gt_golden(nm);
            CHECK_MSG(g && fabs(ss[s].loss_d - gt_item(g)) <= 1e-4 * fabs(gt_item(g)) + 1e-6,
                      "%s: %s %g vs torch %g", what, nm, ss[s].loss_d, g ? gt_item(g) : NAN);
            snprintf(nm, sizeof nm, "loss_g.%d", s);
            g = gt_golden(nm);
            CHECK_MSG(g && fabs(ss[s].loss_g - gt_item(g)) <= 1e-4 * fabs(gt_item(g)) + 1e-6,
                      "%s: %s %g vs torch %g", what, nm, ss[s].loss_g, g ? gt_item(g) : NAN);
        }
    }
    gt_trainer_free(&t);
}

static void test_parity(void) {
    for (size_t i = 0; i < sizeof g_cases / sizeof *g_cases; i++) {
        int before = gt_test_failures;
        int m = gt_scope_begin();
        run_case(&g_cases[i], (int)i);
        gt_scope_end(m);
        fprintf(stderr, "  %-6s %-40s %s\n", g_cases[i].family, g_cases[i].opts,
                gt_test_failures == before ? "matches PyTorch" : "FAILED");
    }
}

static bool all_finite(const gt_tensor *t, int64_t n) {
    const float *p = gt_data(t);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return false;
    return true;
}

/* The shipped config of each family, at a small width, 5 steps on random data. */
static void test_configs_train(void) {
    static const char *const fams[][2] = {
        {"sngan", "ngf=16,ndf=16"}, {"sagan", "ngf=16,ndf=16"}, {"cgan", "ngf=16,ndf=16"},
        {"biggan", "ngf=16,ndf=16,shared_dim=16"}, {"r3gan", "ngf=16,ndf=16"},
    };
    for (size_t f = 0; f < sizeof fams / sizeof *fams; f++) {
        char path[600];
        snprintf(path, sizeof path, "%s/configs/%s.json", GT_SOURCE_DIR, fams[f][0]);
        char *text = NULL;
        size_t sz = 0;
        gt_train_config c = gt_train_config_default();
        CHECK_MSG(gt_read_file(path, (void **)&text, &sz, 1 << 20) == GT_OK &&
                      gt_train_config_from_json(&c, text, path) == GT_OK,
                  "%s: %s", path, gt_last_error());
        free(text);
        CHECK_MSG(strcmp(c.model.name, fams[f][0]) == 0, "%s: model %s", path, c.model.name);
        CHECK(gt_model_opts_parse_list(&c.model, fams[f][1]) == GT_OK);
        const bool cond = gt_model_find(c.model.name)->conditional;
        c.data[0] = c.out[0] = '\0';
        c.batch = 4, c.seed = 9;
        if (cond) c.model.n_classes = 10;
        gt_trainer t;
        gt_status st = gt_trainer_init(&t, &c, NULL);
        CHECK_MSG(st == GT_OK, "%s: %s", fams[f][0], gt_last_error());
        gt_rng r;
        gt_rng_init(&r, 5);
        bool finite = true;
        for (int s = 0; s < 5 && st == GT_OK; s++) {
            int m = gt_scope_begin();
            gt_tensor *reals[64], *zs[64], *ry[64], *fy[64];
            for (int i = 0; i < c.n_critic; i++) {
                reals[i] = gt_test_uniform(1000 + (uint64_t)(s * 64 + i), GT_SHAPE(4, c.model.channels, 32, 32), -1, 1);
                zs[i] = gt_randn(&r, GT_SHAPE(4, c.model.nz));
                ry[i] = cond ? gt_labels_random(&r, 4, 10) : NULL;
                fy[i] = cond ? gt_labels_random(&r, 4, 10) : NULL;
            }
            gt_step_stats ss;
            st = gt_trainer_step_on_y(&t, reals, cond ? ry : NULL, zs, cond ? fy : NULL, &ss);
            CHECK_MSG(st == GT_OK, "%s step %d: %s", fams[f][0], s, gt_last_error());
            finite = finite && isfinite(ss.loss_d) && isfinite(ss.loss_g);
            gt_scope_end(m);
        }
        finite = finite && st == GT_OK && all_finite(t.G.P.slab, t.G.P.numel) && all_finite(t.D.P.slab, t.D.P.numel) &&
                 all_finite(t.G.P.buffers, t.G.P.buffer_numel) && all_finite(t.D.P.buffers, t.D.P.buffer_numel);
        CHECK_MSG(finite, "%s: a loss or weight is not finite after 5 steps", fams[f][0]);
        fprintf(stderr, "  %-6s config (n_critic %d, loss %s): 5 steps %s\n", fams[f][0], c.n_critic,
                gt_loss_name(c.loss), finite ? "finite" : "NOT FINITE");
        gt_trainer_free(&t);
    }
}

/* Parameter counts at the default widths (printed for the docs), and the initial weights' spread. */
static void test_defaults_and_init(void) {
    static const char *const fams[] = {"sngan", "sagan", "cgan", "biggan", "r3gan"};
    for (size_t f = 0; f < sizeof fams / sizeof *fams; f++) {
        gt_model_config c = gt_model_config_default(fams[f]);
        if (gt_model_find(fams[f])->conditional) c.n_classes = 10;
        gt_rng r;
        gt_rng_init(&r, 1);
        gt_net G, D;
        CHECK_MSG(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK, "%s: %s", fams[f], gt_last_error());
        CHECK_MSG(gt_model_build(&c, GT_NET_D, &r, &D) == GT_OK, "%s: %s", fams[f], gt_last_error());
        fprintf(stderr, "  %-6s defaults (res %d, nz %d%s): G %lld, D %lld parameters\n", fams[f], c.res, c.nz,
                c.n_classes ? ", 10 classes" : "", (long long)gt_net_num_params(&G), (long long)gt_net_num_params(&D));
        gt_net_free(&G);
        gt_net_free(&D);
    }
    /* xavier_uniform: a residual 3x3 conv with gain sqrt(2), the 1x1 shortcut with gain 1 */
    gt_model_config c = gt_model_config_default("sngan");
    gt_rng r;
    gt_rng_init(&r, 2);
    gt_net G;
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK);
    const struct {
        const char *name;
        double gain;
    } w[] = {{"blocks.0.0.conv2d1.weight", sqrt(2.0)}, {"blocks.0.0.conv2d0.weight", 1.0}, {"linear0.weight", 1.0}};
    for (size_t i = 0; i < 3; i++) {
        gt_tensor *t = gt_params_get(&G.P, w[i].name);
        CHECK_MSG(t != NULL, "%s missing", w[i].name);
        if (!t) continue;
        int64_t fi, fo, n = gt_numel(t);
        gt_init_fans(t, &fi, &fo);
        double bound = w[i].gain * sqrt(6.0 / (double)(fi + fo)), s2 = 0, mx = 0;
        for (int64_t j = 0; j < n; j++) s2 += (double)gt_data(t)[j] * gt_data(t)[j], mx = fmax(mx, fabs(gt_data(t)[j]));
        double sd = sqrt(s2 / (double)n);
        CHECK_MSG(mx <= bound && fabs(sd - bound / sqrt(3.0)) < 0.03 * bound, "%s: std %g max %g, bound %g",
                  w[i].name, sd, mx, bound);
    }
    gt_tensor *b = gt_params_get(&G.P, "blocks.0.0.conv2d1.bias");
    CHECK(b && gt_data(b)[0] == 0.0f && gt_data(b)[gt_numel(b) - 1] == 0.0f);
    gt_net_free(&G);
    /* biggan: N(0, 0.02) on every conv, linear and embedding weight; BN weight 1 */
    c = gt_model_config_default("biggan");
    c.n_classes = 10;
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK);
    static const char *const n02[] = {"blocks.0.0.conv2d1.weight_orig", "blocks.1.0.bn1.gain.weight_orig",
                                      "shared.weight", "linear0.weight_orig", "blocks.2.0.theta.weight_orig"};
    for (size_t i = 0; i < sizeof n02 / sizeof *n02; i++) {
        gt_tensor *t = gt_params_get(&G.P, n02[i]);
        CHECK_MSG(t != NULL, "biggan: %s missing", n02[i]);
        double s2 = 0;
        for (int64_t j = 0; t && j < gt_numel(t); j++) s2 += (double)gt_data(t)[j] * gt_data(t)[j];
        double sd = t ? sqrt(s2 / (double)gt_numel(t)) : 0;
        CHECK_MSG(fabs(sd - 0.02) < 0.002, "biggan: %s std %g, want 0.02", n02[i], sd);
    }
    b = gt_params_get(&G.P, "bn4.weight");
    CHECK(b && gt_data(b)[0] == 1.0f);
    gt_net_free(&G);
}

/* check() refuses what cannot be built, naming the option and what is allowed. */
static void expect_refused(const char *fam, const char *opts, int res, int channels, int nz, int classes,
                           const char *needle) {
    gt_model_config c = gt_model_config_default(fam);
    if (res) c.res = res;
    if (channels) c.channels = channels;
    if (nz) c.nz = nz;
    c.n_classes = classes;
    gt_status st = opts ? gt_model_opts_parse_list(&c, opts) : GT_OK;
    gt_rng r;
    gt_rng_init(&r, 0);
    gt_net G;
    if (st == GT_OK) {
        st = gt_model_build(&c, GT_NET_G, &r, &G);
        gt_net_free(&G);
    }
    CHECK_MSG(st != GT_OK && strstr(gt_last_error(), needle), "%s %s: expected an error naming '%s', got %d '%s'", fam,
              opts ? opts : "", needle, (int)st, gt_last_error());
}

static void test_errors(void) {
    expect_refused("sngan", NULL, 64, 0, 0, 0, "resolution 64");
    expect_refused("sngan", NULL, 0, 2, 0, 0, "channels");
    expect_refused("sngan", "attn_res=16", 0, 0, 0, 0, "attn_res");     /* sngan has no attention */
    expect_refused("sngan", "ngf=0", 0, 0, 0, 0, "ngf");                 /* the option's range */
    expect_refused("sngan", NULL, 0, 0, 0, 10, "unconditional");         /* labels given to sngan */
    expect_refused("sagan", "attn_res=32", 0, 0, 0, 0, "attn_res must be 8 or 16");
    expect_refused("sagan", "attn_res=4", 0, 0, 0, 0, "attn_res must be 8 or 16");
    expect_refused("sagan", "ngf=4", 0, 0, 0, 0, "ngf and ndf >= 8");
    expect_refused("cgan", NULL, 0, 0, 0, 0, "conditional");             /* no classes */
    expect_refused("cgan", "d_sn=maybe", 0, 0, 0, 3, "d_sn");
    expect_refused("biggan", NULL, 0, 0, 30, 3, "nz must be a multiple of 4");
    expect_refused("biggan", "attn_res=32", 0, 0, 0, 3, "attn_res must be 8 or 16");
    expect_refused("biggan", "shared_dim=0", 0, 0, 0, 3, "shared_dim");
    expect_refused("biggan", NULL, 0, 0, 0, 0, "conditional");
    expect_refused("r3gan", "n_blocks=0", 0, 0, 0, 0, "n_blocks");
    expect_refused("r3gan", "n_blocks=9", 0, 0, 0, 0, "n_blocks");
    expect_refused("r3gan", "d_sn=true", 0, 0, 0, 0, "no option 'd_sn'");
    expect_refused("r3gan", NULL, 28, 0, 0, 0, "resolution 28");
    /* what they allow builds */
    gt_model_config c = gt_model_config_default("sagan");
    CHECK(gt_model_opts_parse_list(&c, "ngf=8,ndf=8,attn_res=0") == GT_OK);
    gt_rng r;
    gt_rng_init(&r, 0);
    gt_net G;
    CHECK_MSG(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK, "%s", gt_last_error());
    CHECK(gt_params_find(&G.P, "blocks.3.0.conv2d1.weight_orig") < 0); /* no attention entry: 3 blocks */
    gt_net_free(&G);
}

int main(void) {
    gt_set_num_threads(2);
    RUN(test_errors);
    RUN(test_defaults_and_init);
    RUN(test_parity);
    RUN(test_configs_train);
    return gt_test_finish();
}
