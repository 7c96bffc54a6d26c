/* Distillation (gantry/distill.h): the losses' values and gradients equal PyTorch's
 * (tests/parity/distill_losses.py); taps pair by size or as given, and bad pairs are refused;
 * a few distillation steps from a tiny trained teacher bring a small student closer to it on fixed
 * latents; a student that cannot be mapped, a teacher of another family than the init checkpoint
 * and negative weights are refused before anything is written. */
#define _DEFAULT_SOURCE /* realpath */
#include <math.h>

#include "../common/harness.h"
#include "gantry/compress.h"
#include "gantry/distill.h"
#include "gantry/prune.h"
#include "gantry/translate.h"
#include "distill_util.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

static char g_idx[700], g_teacher[800];

/* --- losses vs PyTorch ------------------------------------------------------------------------- */
typedef struct {
    const char *name;
    gt_tensor *t;
} named;

static float max_abs(const gt_tensor *t) {
    float m = 0;
    for (int64_t i = 0; i < gt_numel(t); i++) m = fmaxf(m, fabsf(gt_data(t)[i]));
    return m;
}

/* a (computed) vs the golden name: 1e-5 relative, plus 1e-5 of the largest entry */
static void close_to(const char *name, gt_tensor *a, float rtol) {
    gt_tensor *ref = gt_golden(name);
    CHECK_MSG(a && ref, "%s: missing (%s)", name, gt_last_error());
    if (!a || !ref) return;
    gt_test_close(name, a, ref, rtol, rtol * max_abs(ref));
}

static gt_tensor *leaf(gt_tensor *t) {
    t->requires_grad = true;
    return t;
}

/* D features of x: two conv (k4 s2 p1) + leaky ReLU layers (the script's dfeats). */
static void dfeats(gt_tensor *x, gt_tensor *w1, gt_tensor *w2, gt_tensor **f) {
    gt_conv_params p = gt_conv_params_make(2, 1);
    f[0] = gt_leaky_relu(gt_conv2d(x, w1, NULL, p), 0.2f);
    f[1] = gt_leaky_relu(gt_conv2d(f[0], w2, NULL, p), 0.2f);
}

static void test_losses_match_pytorch(void) {
    named in[] = {
        {"feat.s", leaf(gt_test_randn(1, S(3, 5, 4, 4), 1.0f))},  {"feat.t", gt_test_randn(2, S(3, 7, 4, 4), 1.0f)},
        {"feat.w", leaf(gt_test_randn(3, S(7, 5, 1, 1), 0.4f))},  {"feat.b", leaf(gt_test_randn(4, S(7), 0.1f))},
        {"recon.s", leaf(gt_test_randn(5, S(4, 1, 6, 6), 0.5f))}, {"recon.t", gt_test_randn(6, S(4, 1, 6, 6), 0.5f)},
        {"dcd.s", leaf(gt_test_randn(7, S(4, 1, 8, 8), 0.5f))},   {"dcd.t", gt_test_randn(8, S(4, 1, 8, 8), 0.5f)},
        {"dcd.w1", gt_test_randn(9, S(4, 1, 4, 4), 0.3f)},        {"dcd.w2", gt_test_randn(10, S(6, 4, 4, 4), 0.2f)},
        {"crd.s", leaf(gt_test_randn(11, S(6, 2, 3, 3), 1.0f))},  {"crd.t", gt_test_randn(12, S(6, 3, 3, 3), 1.0f)},
    };
    const int n = (int)(sizeof in / sizeof *in);
    const char *names[16];
    gt_tensor *ts[16];
    for (int i = 0; i < n; i++) names[i] = in[i].name, ts[i] = in[i].t;
    char path[512];
    snprintf(path, sizeof path, "%s/distill_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(path, n, names, ts));
    if (!gt_golden_run("distill_losses.py", path)) return;
#define IN(k) in[k].t
    /* feature: value, d/ds, d/dw, d/db */
    gt_tensor *l = gt_distill_feat_loss(IN(0), IN(1), IN(2), IN(3));
    close_to("feat.loss", l, 1e-5f);
    gt_tensor *g[3];
    CHECK(l && gt_grad(l, NULL, 3, (gt_tensor *[]){IN(0), IN(2), IN(3)}, g, false) == GT_OK);
    if (l) close_to("feat.ds", g[0], 1e-5f), close_to("feat.dw", g[1], 1e-5f), close_to("feat.db", g[2], 1e-5f);
    /* reconstruction */
    l = gt_distill_recon_loss(IN(4), IN(5));
    close_to("recon.loss", l, 1e-5f);
    CHECK(l && gt_grad(l, NULL, 1, &IN(4), g, false) == GT_OK);
    if (l) close_to("recon.ds", g[0], 1e-5f);
    /* DCD through the small D */
    gt_tensor *fs[2], *ft[2];
    dfeats(IN(6), IN(8), IN(9), fs);
    dfeats(IN(7), IN(8), IN(9), ft);
    l = gt_distill_dcd_loss(fs, ft, 2);
    close_to("dcd.loss", l, 1e-5f);
    CHECK(l && gt_grad(l, NULL, 1, &IN(6), g, false) == GT_OK);
    if (l) close_to("dcd.ds", g[0], 1e-5f);
    /* relations: distances, angles, both (features of other widths: relations compare across them) */
    struct {
        const char *name;
        gt_tensor *(*fn)(gt_tensor *, gt_tensor *);
    } rel[] = {{"crd_dist", gt_crd_dist_loss}, {"crd_angle", gt_crd_angle_loss}, {"crd", gt_crd_loss}};
    for (int k = 0; k < 3; k++) {
        char nm[64];
        l = rel[k].fn(IN(10), IN(11));
        snprintf(nm, sizeof nm, "%s.loss", rel[k].name);
        close_to(nm, l, 1e-5f);
        CHECK(l && gt_grad(l, NULL, 1, &IN(10), g, false) == GT_OK);
        snprintf(nm, sizeof nm, "%s.ds", rel[k].name);
        /* float32 sums of N^3 angle terms vs float64: 1e-4 of the largest gradient entry */
        if (l) close_to(nm, g[0], k ? 1e-4f : 1e-5f);
    }
#undef IN
    /* shape mismatches: NULL with a message, no crash */
    CHECK(gt_distill_feat_loss(gt_test_randn(1, S(2, 5, 4, 4), 1), gt_test_randn(1, S(2, 7, 2, 2), 1),
                               gt_test_randn(1, S(7, 5, 1, 1), 1), NULL) == NULL);
    CHECK(gt_distill_recon_loss(gt_test_randn(1, S(2, 3), 1), gt_test_randn(1, S(3, 2), 1)) == NULL);
    CHECK(gt_crd_angle_loss(gt_test_randn(1, S(2, 3), 1), gt_test_randn(1, S(2, 3), 1)) == NULL);
}

/* --- pairing ------------------------------------------------------------------------------------- */
static void test_pairing(void) {
    const int s[3][3] = {{40, 3, 3}, {20, 7, 7}, {10, 14, 14}};
    const int t[3][3] = {{256, 3, 3}, {128, 7, 7}, {64, 14, 14}};
    gt_distill_pairs p;
    CHECK(gt_distill_pair_taps(NULL, s, 3, t, 3, &p) == GT_OK && p.n == 3 && p.s[2] == 2 && p.t[2] == 2);
    CHECK(gt_distill_pair_taps("2:2,0:0", s, 3, t, 3, &p) == GT_OK && p.n == 2 && p.s[0] == 2 && p.t[1] == 0);
    CHECK(gt_distill_pair_taps("0:1", s, 3, t, 3, &p) == GT_ERR_ARG && strstr(gt_last_error(), "spatial size"));
    CHECK(gt_distill_pair_taps("0:5", s, 3, t, 3, &p) == GT_ERR_ARG && strstr(gt_last_error(), "out of range"));
    CHECK(gt_distill_pair_taps("0-0", s, 3, t, 3, &p) == GT_ERR_ARG);
    CHECK(gt_distill_pair_taps("0:0,0:0", s, 3, t, 3, &p) == GT_ERR_ARG && strstr(gt_last_error(), "twice"));
    const int t2[2][3] = {{256, 4, 4}, {64, 14, 14}};
    CHECK(gt_distill_pair_taps(NULL, s, 3, t2, 2, &p) == GT_ERR_ARG && strstr(gt_last_error(), "no teacher tap"));
    CHECK(gt_distill_pair_taps(NULL, s, 0, t, 3, &p) == GT_ERR_ARG);
}

/* --- distillation end to end ------------------------------------------------------------------- */
static gt_train_config tiny(const char *out, int64_t steps, int ngf) {
    return gt_test_distill_config(g_idx, out, steps, ngf);
}

/* Mean |G(z) - teacher(z)| on fixed latents, both in eval mode with recalibrated statistics. */
static double recon_err(gt_net *G, gt_net *T) {
    int m = gt_scope_begin();
    gt_recalibrate_bn(G, 0x5EED, 4, 32);
    gt_tensor *z = gt_sample_latents(99, 32, G->cfg.nz, 0);
    gt_tensor *a = gt_generate(G, z), *b = gt_generate(T, z);
    double e = a && b ? gt_item(gt_l1_loss(a, b)) : NAN;
    gt_scope_end(m);
    return e;
}

/* A distillation of the tiny student sc from g_teacher into the test folder's <name> (its config
 * <name>.json): *o with the defaults and those set, paths in cfg and out (800 bytes each). */
static void student_opts(const char *name, const gt_train_config *sc, char *cfg, char *out, gt_distill_opts *o) {
    char file[96];
    snprintf(file, sizeof file, "%s.json", name);
    snprintf(cfg, 800, "%s", gt_test_path(file));
    snprintf(out, 800, "%s", gt_test_path(name));
    CHECK(gt_test_write_config(cfg, sc));
    gt_distill_opts_default(o);
    o->teacher = g_teacher, o->student_config = cfg, o->out_dir = out, o->quiet = true;
}

/* The student before distillation (the trainer's G of config sc from seed) into G0, and after
 * (out's last checkpoint, the raw G) into G1; false when either fails. */
static bool student_before_after(const gt_train_config *sc, uint64_t seed, const char *out, gt_net *G0, gt_net *G1) {
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_train_config c0 = *sc;
    char last[900];
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    bool ok = gt_train_config_check(&c0) == GT_OK && gt_model_build(&c0.model, GT_NET_G, &r, G0) == GT_OK;
    CHECK(ok);
    if (!ok) return false;
    ok = gt_load_generator(last, false, G1, NULL, NULL) == GT_OK;
    CHECK_MSG(ok, "%s", gt_last_error());
    if (!ok) gt_net_free(G0);
    return ok;
}

static void test_distill_gets_closer(void) {
    char cfg[800], out[800];
    gt_train_config sc = tiny("", 40, 4);
    gt_distill_opts o;
    student_opts("student_run", &sc, cfg, out, &o);
    o.w_crd = 0.5;
    /* 40 steps against a D that already rejects the untrained student: its GAN gradient alone would
       swamp the rest, so it weighs 0.1 here (the tiny teacher is itself barely trained) */
    o.w_gan = 0.1;
    CHECK(gt_distill_check(&o) == GT_OK);
    gt_status st = gt_distill_run(&o);
    CHECK_MSG(st == GT_OK, "distill: %s", gt_last_error());
    if (st != GT_OK) return;
    gt_net T, G0, G1;
    gt_train_config tc;
    CHECK(gt_load_generator(g_teacher, true, &T, &tc, NULL) == GT_OK);
    gt_recalibrate_bn(&T, 0x5EED, 8, 64);
    /* the student before distillation: the trainer's G from the same seed */
    if (!student_before_after(&sc, o.seed, out, &G0, &G1)) {
        gt_net_free(&T);
        return;
    }
    double e0 = recon_err(&G0, &T), e1 = recon_err(&G1, &T);
    fprintf(stderr, "  L1 to the teacher: %.4f before, %.4f after 40 steps\n", e0, e1);
    CHECK_MSG(e1 < 0.8 * e0, "distillation did not get closer: %.4f -> %.4f", e0, e1);
    /* the losses' log */
    char log[900];
    snprintf(log, sizeof log, "%s/distill.jsonl", out);
    size_t n = 0;
    unsigned char *b = gt_test_read_all(log, &n);
    if (b) b[n] = 0;
    CHECK(b && n > 0 && strstr((char *)b, "\"dcd\":") && strstr((char *)b, "\"step\":40"));
    free(b);
    gt_net_free(&T), gt_net_free(&G0), gt_net_free(&G1);
}

/* The largest |a - b| over the tensors named prefix* in checkpoint fa (not batch norm's running
 * statistics) and the same names in checkpoint fb; -1 when one is missing or reshaped, or none. */
static double st_diff(const char *fa, const char *fb, const char *prefix) {
    gt_safetensors a, b;
    gt_st_init(&a), gt_st_init(&b);
    double m = -1;
    if (gt_st_load(&a, fa) == GT_OK && gt_st_load(&b, fb) == GT_OK) {
        m = 0;
        int n = 0;
        for (int i = 0; i < a.n; i++) {
            const gt_st_tensor *ta = &a.t[i], *tb = gt_st_find(&b, ta->name);
            if (strncmp(ta->name, prefix, strlen(prefix)) != 0 || strstr(ta->name, "running_") ||
                ta->dtype != GT_ST_F32)
                continue;
            if (!tb || tb->numel != ta->numel) {
                m = -1; /* a tensor missing or reshaped */
                break;
            }
            const float *x = ta->data, *y = tb->data;
            for (int64_t k = 0; k < ta->numel; k++) m = fmax(m, fabs((double)x[k] - y[k]));
            n++;
        }
        if (n == 0) m = -1;
    }
    gt_st_free(&a), gt_st_free(&b);
    return m;
}

/* How far run's D has moved from the teacher's (st_diff over "D."). */
static double d_moved(const char *run) {
    char last[1700];
    snprintf(last, sizeof last, "%s/last.safetensors", run);
    return st_diff(g_teacher, last, "D.");
}

/* The student's D starts from the teacher's trained D (one Adam step at lr 1e-3 later, no weight has
 * moved more than ~lr), or with --d-fresh from its own initialization (far from the teacher's), and
 * the choice is saved with the run. */
static void test_d_fresh(void) {
    char cfg[800], out[2][800];
    gt_train_config sc = tiny("", 1, 4);
    snprintf(cfg, sizeof cfg, "%s", gt_test_path("student_df.json"));
    CHECK(gt_test_write_config(cfg, &sc));
    double moved[2] = {-1, -1};
    for (int f = 0; f < 2; f++) {
        snprintf(out[f], sizeof out[f], "%s", gt_test_path(f ? "df_fresh" : "df_teacher"));
        gt_distill_opts o;
        gt_distill_opts_default(&o);
        o.teacher = g_teacher, o.student_config = cfg, o.out_dir = out[f], o.quiet = true, o.d_fresh = f;
        gt_status st = gt_distill_run(&o);
        CHECK_MSG(st == GT_OK, "distill: %s", gt_last_error());
        moved[f] = d_moved(out[f]);
    }
    fprintf(stderr, "  D's largest change from the teacher's after 1 step: %.3g (teacher's D), %.3g (--d-fresh)\n",
            moved[0], moved[1]);
    CHECK(moved[0] >= 0 && moved[0] < 1.5e-3);
    CHECK(moved[1] > 0.02);
    gt_safetensors s;
    gt_st_init(&s);
    char last[900];
    snprintf(last, sizeof last, "%s/last.safetensors", out[1]);
    CHECK(gt_st_load(&s, last) == GT_OK);
    const char *meta = gt_st_get_meta(&s, "distill");
    CHECK_MSG(meta && strstr(meta, "\"d_fresh\":true"), "distill metadata: %s", meta ? meta : "(none)");
    gt_st_free(&s);
}

/* Distillation with its distillation terms off (GAN weight 1), D from its own initialization and D
 * rejecting the student's outputs alone (--d-fresh --d-student-only) is training from scratch: after
 * sc.steps steps its G and D equal `gantry train`'s of the student config sc with the same seed (to
 * float rounding). With the teacher's outputs in D's fake term (the default), D differs. */
static void student_only_is_training(const char *teacher, gt_train_config sc, const char *tag) {
    char cfg[800], out[3][800], last[3][2500], name[64];
    snprintf(name, sizeof name, "%s_student.json", tag);
    snprintf(cfg, sizeof cfg, "%s", gt_test_path(name));
    sc.out[0] = 0;
    CHECK(gt_test_write_config(cfg, &sc));
    const char *runs[3] = {"train", "only", "both"};
    for (int r = 0; r < 3; r++) {
        snprintf(name, sizeof name, "%s_%s", tag, runs[r]);
        snprintf(out[r], sizeof out[r], "%s", gt_test_path(name));
        snprintf(last[r], sizeof last[r], "%s/last.safetensors", out[r]);
    }
    gt_train_config tc = sc;
    snprintf(tc.out, sizeof tc.out, "%s", out[0]);
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &tc, NULL);
    if (st == GT_OK) st = gt_train_run(&t, NULL);
    gt_trainer_free(&t);
    CHECK_MSG(st == GT_OK, "%s train: %s", tag, gt_last_error());
    for (int r = 1; r < 3; r++) {
        gt_distill_opts o;
        gt_distill_opts_default(&o);
        o.teacher = teacher, o.student_config = cfg, o.out_dir = out[r], o.quiet = true;
        o.w_gan = 1, o.w_recon = 0, o.w_feat = 0, o.w_dcd = 0, o.w_crd = 0;
        o.d_fresh = true, o.d_student_only = r == 1;
        st = gt_distill_run(&o);
        CHECK_MSG(st == GT_OK, "%s distill: %s", tag, gt_last_error());
    }
    double g1 = st_diff(last[0], last[1], "G."), d1 = st_diff(last[0], last[1], "D.");
    double d2 = st_diff(last[0], last[2], "D.");
    fprintf(stderr, "  %s, after %lld steps, largest difference to training: G %.3g, D %.3g (student only); D %.3g (both)\n",
            tag, (long long)sc.steps, g1, d1, d2);
    CHECK(g1 >= 0 && g1 < 1e-5);
    CHECK(d1 >= 0 && d1 < 1e-5);
    CHECK(d2 > 1e-4);
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_load(&s, last[1]) == GT_OK);
    const char *meta = gt_st_get_meta(&s, "distill");
    CHECK_MSG(meta && strstr(meta, "\"d_student_only\":true"), "distill metadata: %s", meta ? meta : "(none)");
    gt_st_free(&s);
}

static void test_student_only_is_training(void) {
    student_only_is_training(g_teacher, tiny("", 4, 4), "dcgan");
}

/* --ofa: one step trains one sub-network of the supernet - in every channel group only its first k
 * channels move, k one of the search's widths (1/8, 1/4, 3/8, 1/2, 3/4, 1 of the group, rounded) -
 * and the run is recorded as a supernet with its teacher (what `gantry prune` reads). */
static void test_ofa_step(void) {
    char cfg[800], out[800], last[900];
    gt_train_config sc = tiny("", 1, 8);
    gt_distill_opts o;
    student_opts("ofa", &sc, cfg, out, &o);
    o.ofa = true, o.seed = 3;
    gt_status st = gt_distill_run(&o);
    CHECK_MSG(st == GT_OK, "distill --ofa: %s", gt_last_error());
    gt_net G0, G1;
    if (st != GT_OK || !student_before_after(&sc, o.seed, out, &G0, &G1)) return;
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    const int n = gt_prune_groups(&G0, g, GT_PRUNE_GROUPS_MAX);
    CHECK(n == 3);
    int partial = 0;
    for (int i = 0; i < n; i++) {
        const gt_tensor *a = gt_params_get(&G0.P, g[i].producer.param), *b = gt_params_get(&G1.P, g[i].producer.param);
        CHECK(a && b && gt_same_shape(a, b));
        if (!a || !b) continue;
        int64_t inner = 1;
        for (int d = g[i].producer.dim + 1; d < a->ndim; d++) inner *= a->shape[d];
        bool moved[64] = {false};
        for (int64_t k = 0; k < gt_numel(a); k++)
            if (gt_data(a)[k] != gt_data(b)[k]) moved[(k / inner) % g[i].size] = true;
        int k = 0;
        while (k < g[i].size && moved[k]) k++;
        bool prefix = true;
        for (int c = k; c < g[i].size; c++) prefix = prefix && !moved[c];
        int w[GT_PRUNE_FRACS_DEFAULT_N];
        const int nw = gt_prune_width_choices(g[i].size, gt_prune_fracs_default, GT_PRUNE_FRACS_DEFAULT_N, w);
        bool allowed = false;
        for (int j = 0; j < nw; j++) allowed = allowed || w[j] == k;
        fprintf(stderr, "  group %s: the first %d of %d channels trained\n", g[i].opt_key, k, g[i].size);
        CHECK_MSG(prefix && allowed, "group %s: trained channels are not a prefix of an allowed width", g[i].opt_key);
        partial += k < g[i].size;
    }
    CHECK(partial >= 1);
    char teacher[GT_PATH_MAX], want[GT_PATH_MAX];
    CHECK(gt_distill_is_supernet(last, teacher, sizeof teacher));
    CHECK(realpath(g_teacher, want) && !strcmp(teacher, want));
    CHECK(!gt_distill_is_supernet(g_teacher, teacher, sizeof teacher) && !teacher[0]);
    gt_net_free(&G0), gt_net_free(&G1);
}

/* A translator (pix2pix: edges -> item): the student (half the teacher's width) gets closer to the
 * teacher's translations of fixed inputs; D sees input | image and gives patch logits. */
static void test_translator(void) {
    gt_train_config tc = gt_test_tiny_config(g_idx, gt_test_path("p2p_teacher"), 12);
    snprintf(tc.model.name, sizeof tc.model.name, "pix2pix");
    const char *opts = "ngf=4,ndf=4,n_blocks=1";
    CHECK(gt_model_opts_parse_list(&tc.model, opts) == GT_OK);
    tc.batch = 8, tc.n_samples = 4, tc.log_every = 4, tc.sample_every = 0, tc.ckpt_every = 0, tc.ema = 0.9;
    tc.lr_g = tc.lr_d = 1e-3;
    char teacher[900], cfg[800], out[800], last[900];
    snprintf(teacher, sizeof teacher, "%s", gt_test_path("p2p_teacher.safetensors"));
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &tc, NULL);
    for (int i = 0; i < 12 && st == GT_OK; i++) st = gt_trainer_step(&t, NULL);
    if (st == GT_OK) st = gt_trainer_save(&t, teacher);
    gt_trainer_free(&t);
    CHECK_MSG(st == GT_OK, "pix2pix teacher: %s", gt_last_error());
    if (st != GT_OK) return;
    gt_train_config sc = tc;
    sc.out[0] = 0, sc.steps = 4;
    gt_model_opt_set(&sc.model, "ngf", 2);
    student_only_is_training(teacher, sc, "pix2pix");
    sc.steps = 30;
    snprintf(cfg, sizeof cfg, "%s", gt_test_path("p2p_student.json"));
    snprintf(out, sizeof out, "%s", gt_test_path("p2p_student"));
    CHECK(gt_test_write_config(cfg, &sc));
    gt_distill_opts o;
    gt_distill_opts_default(&o);
    o.teacher = teacher, o.student_config = cfg, o.out_dir = out, o.quiet = true, o.w_gan = 0.01, o.w_crd = 0.5;
    st = gt_distill_run(&o);
    CHECK_MSG(st == GT_OK, "distill pix2pix: %s", gt_last_error());
    if (st != GT_OK) return;
    gt_net T, G0, G1;
    CHECK(gt_load_generator(teacher, true, &T, NULL, NULL) == GT_OK);
    gt_rng r;
    gt_rng_init(&r, o.seed);
    gt_train_config c0 = sc;
    CHECK(gt_train_config_check(&c0) == GT_OK && gt_model_build(&c0.model, GT_NET_G, &r, &G0) == GT_OK);
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    CHECK_MSG(gt_load_generator(last, false, &G1, NULL, NULL) == GT_OK, "%s", gt_last_error());
    int m = gt_scope_begin();
    gt_dataset *ds = gt_dataset_open(g_idx, 28, 1, NULL);
    gt_tensor *items = ds ? gt_empty(GT_SHAPE(16, 1, 28, 28)) : NULL;
    double e0 = NAN, e1 = NAN;
    if (items && gt_dataset_read_f32(ds, 0, 16, gt_data(items)) == GT_OK) {
        gt_tensor *a = gt_edges(items), *y = gt_translate(&T, a);
        e0 = gt_item(gt_l1_loss(gt_translate(&G0, a), y)), e1 = gt_item(gt_l1_loss(gt_translate(&G1, a), y));
    }
    gt_scope_end(m);
    gt_dataset_free(ds);
    fprintf(stderr, "  pix2pix: L1 to the teacher %.4f before, %.4f after 30 steps\n", e0, e1);
    CHECK_MSG(e1 < 0.8 * e0, "translator distillation did not get closer: %.4f -> %.4f", e0, e1);
    gt_net_free(&T), gt_net_free(&G0), gt_net_free(&G1);
}

static void test_bad_input(void) {
    char cfg[800], out[800];
    snprintf(out, sizeof out, "%s", gt_test_path("bad_run"));
    gt_distill_opts o;
    gt_distill_opts_default(&o);
    o.teacher = g_teacher, o.out_dir = out, o.quiet = true;
    /* a student of another resolution: its outputs cannot be compared */
    gt_train_config sc = tiny("", 4, 4);
    sc.model.res = 32;
    snprintf(cfg, sizeof cfg, "%s", gt_test_path("s32.json"));
    CHECK(gt_test_write_config(cfg, &sc));
    o.student_config = cfg;
    CHECK(gt_distill_check(&o) == GT_ERR_ARG && strncmp(gt_last_error(), "student:", 8) == 0);
    /* a student whose D differs from the teacher's */
    sc = tiny("", 4, 4);
    gt_model_opt_set(&sc.model, "ndf", 4);
    snprintf(cfg, sizeof cfg, "%s", gt_test_path("sd.json"));
    CHECK(gt_test_write_config(cfg, &sc));
    CHECK(gt_distill_check(&o) == GT_ERR_ARG && strstr(gt_last_error(), "discriminator"));
    /* negative weight, missing teacher, a student config that does not exist, a bad layer pair */
    sc = tiny("", 4, 4);
    snprintf(cfg, sizeof cfg, "%s", gt_test_path("ok.json"));
    CHECK(gt_test_write_config(cfg, &sc));
    o.w_dcd = -1;
    CHECK(gt_distill_check(&o) == GT_ERR_ARG && strncmp(gt_last_error(), "w_dcd", 5) == 0);
    o.w_dcd = 1;
    o.teacher = gt_test_path("none.safetensors");
    CHECK(gt_distill_check(&o) == GT_ERR_ARG && strncmp(gt_last_error(), "teacher", 7) == 0);
    o.teacher = g_teacher;
    o.student_config = gt_test_path("none.json");
    CHECK(gt_distill_check(&o) == GT_ERR_ARG && strncmp(gt_last_error(), "student", 7) == 0);
    o.student_config = cfg;
    o.feat_layers = "0:2";
    CHECK(gt_distill_check(&o) == GT_ERR_ARG && strncmp(gt_last_error(), "layers", 6) == 0);
    o.feat_layers = NULL;
    CHECK(gt_distill_check(&o) == GT_OK);
    /* an init checkpoint of another family than the teacher */
    gt_train_config ac = gt_train_config_default();
    snprintf(ac.model.name, sizeof ac.model.name, "sngan");
    ac.model.res = 32, ac.model.channels = 1, ac.batch = 4;
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &ac, NULL);
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    const char *other = gt_test_path("sngan.safetensors");
    if (st == GT_OK) CHECK(gt_trainer_save(&t, other) == GT_OK);
    gt_trainer_free(&t);
    o.init = other;
    CHECK(gt_distill_check(&o) == GT_ERR_ARG && strncmp(gt_last_error(), "init", 4) == 0 &&
          strstr(gt_last_error(), "sngan"));
    o.init = NULL;
    /* nothing was written */
    struct stat sb;
    CHECK(stat(out, &sb) != 0);
}

/* configs/dcgan_student.json: the teacher's config (configs/dcgan.json) with >= 10x fewer G MACs. */
static int64_t config_macs(const char *name, gt_model_config *m) {
    char path[1200];
    snprintf(path, sizeof path, "%s/configs/%s", GT_SOURCE_DIR, name);
    size_t n = 0;
    unsigned char *b = gt_test_read_all(path, &n);
    if (b) b[n] = 0; /* room for it: gt_test_read_all allocates one more */
    gt_train_config c = gt_train_config_default();
    bool ok = b && gt_train_config_from_json(&c, (char *)b, path) == GT_OK && gt_train_config_check(&c) == GT_OK;
    free(b);
    CHECK_MSG(ok, "%s: %s", path, gt_last_error());
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 0);
    gt_prog p;
    int64_t macs = -1;
    if (ok && gt_model_build(&c.model, GT_NET_G, &r, &G) == GT_OK) {
        if (gt_prog_from_net(&G, &p) == GT_OK) macs = gt_prog_macs(&p);
        gt_prog_free(&p);
        gt_net_free(&G);
    }
    *m = c.model;
    return macs;
}

static void test_student_config(void) {
    gt_model_config t, s;
    int64_t mt = config_macs("dcgan.json", &t), ms = config_macs("dcgan_student.json", &s);
    fprintf(stderr, "  G MACs per image: teacher %lld, student %lld (%.2fx)\n", (long long)mt, (long long)ms,
            (double)mt / (double)ms);
    CHECK(mt > 0 && ms > 0 && mt >= 10 * ms);
    CHECK(t.res == s.res && t.channels == s.channels && t.nz == s.nz &&
          gt_model_opt(&t, "ndf") == gt_model_opt(&s, "ndf"));
}

int main(void) {
    /* the teacher: a tiny DCGAN trained a few steps (ngf 8) */
    if (!gt_test_distill_teacher(g_idx, sizeof g_idx, g_teacher, sizeof g_teacher, 60)) return 1;
    RUN(test_losses_match_pytorch);
    RUN(test_pairing);
    RUN(test_student_config);
    RUN(test_distill_gets_closer);
    RUN(test_d_fresh);
    RUN(test_student_only_is_training);
    RUN(test_ofa_step);
    RUN(test_translator);
    RUN(test_bad_input);
    return gt_test_finish();
}
