/* The anycost training scheme (src/train/anycost_train.c) on a tiny anycost model (32 px gray,
 * widths 4..8) and a generated IDX file: both phases run and change the weights, the channel
 * sorting happens once, at ac_channels_at, and restarts G's Adam; the plans draw distinct levels
 * in range and the sandwich configs; exact resume across the phase switch; the logged
 * distillation term equals a hand computation from the pre-step weights, the plan's noise and
 * the same z; D's output on the reals is D's on the reals pooled by hand to the drawn levels; bad options are refused; metrics.jsonl carries the phase and distill keys only for
 * a scheme with phases (the default scheme's lines are unchanged). */
#include <sys/stat.h>
#include <unistd.h>

#include "../common/harness.h"
#include "gantry/train.h"
#include "train_util.h"

static char g_idx[600];

static const char *tp(const char *name) { return gt_test_path(name); }

static gt_train_config tiny(const char *out, int64_t steps, int channels_at) {
    gt_train_config c = gt_train_config_default();
    snprintf(c.data, sizeof c.data, "%s", g_idx);
    snprintf(c.out, sizeof c.out, "%s", out ? out : "");
    c.model = gt_model_config_default("anycost");
    c.model.res = 32, c.model.channels = 1, c.model.nz = 16;
    gt_model_opt_set(&c.model, "w_dim", 16);
    gt_model_opt_set(&c.model, "n_mlp", 1);
    gt_model_opt_set(&c.model, "ch", 4);
    gt_model_opt_set(&c.model, "ch_max", 8);
    gt_model_opt_set(&c.model, "dch", 4);
    gt_model_opt_set(&c.model, "d_cond", 2);
    gt_model_opt_set(&c.model, "ac_nres", 2);
    gt_model_opt_set(&c.model, "ac_sandwich", 2);
    gt_model_opt_set(&c.model, "ac_channels_at", channels_at);
    gt_model_opt_set(&c.model, "ac_distill", 1.0);
    c.steps = steps, c.batch = 8, c.ema = 0.9, c.seed = 5;
    c.beta1 = 0.0, c.beta2 = 0.99, c.lr_g = c.lr_d = 2e-3;
    c.r1 = 0.5, c.reg_every = 2;
    c.log_every = 1, c.sample_every = 0, c.ckpt_every = 0, c.n_samples = 4;
    return c;
}

static float *copy_slab(const gt_tensor *t) {
    float *p = malloc((size_t)gt_numel(t) * sizeof(float));
    if (p) memcpy(p, gt_data(t), (size_t)gt_numel(t) * sizeof(float));
    return p;
}

static bool changed(const float *before, const gt_tensor *t) {
    return before && memcmp(before, gt_data(t), (size_t)gt_numel(t) * sizeof(float)) != 0;
}

static bool is_ratio(float r) {
    for (int i = 0; i < GT_AC_NRATIOS; i++)
        if (r == gt_anycost_ratios[i]) return true;
    return r == 0.0f;
}

static void check_plan(const gt_trainer *t, int phase) {
    gt_anycost_plan p;
    CHECK_MSG(gt_anycost_train_last_plan(t, &p) == GT_OK, "%s", gt_last_error());
    CHECK(p.phase == phase);
    const int R = t->cfg.model.res, nc = gt_anycost_n_convs(&t->cfg.model);
    if (phase == 1) {
        CHECK(p.n == 2);
        for (int i = 0; i < p.n; i++) {
            int r = p.sub[i].res;
            CHECK_MSG(r == 8 || r == 16 || r == 32, "level %d", r);
            for (int j = 0; j < i; j++) CHECK_MSG(p.sub[j].res != r, "level %d drawn twice", r);
            for (int c = 0; c < nc; c++) CHECK(p.sub[i].ratio[c] == 0.0f || p.sub[i].ratio[c] == 1.0f);
        }
        return;
    }
    CHECK(p.n == 4);
    CHECK(p.sub[0].res == R);
    for (int c = 0; c < nc; c++) CHECK(p.sub[0].ratio[c] == 0.0f || p.sub[0].ratio[c] == 1.0f);
    for (int c = 0; c < nc; c++) CHECK(p.sub[1].ratio[c] == 0.25f);
    for (int k = 1; k < p.n; k++) {
        int r = p.sub[k].res;
        CHECK_MSG(r == 8 || r == 16 || r == 32, "level %d", r);
        for (int c = 0; c < nc; c++) CHECK(is_ratio(p.sub[k].ratio[c]));
        CHECK(gt_anycost_sub_check(&t->cfg.model, &p.sub[k]) == GT_OK);
    }
}

/* Phase 1 for steps 0, 1; the switch at 2 sorts once and restarts G's Adam; phase 2 after. */
static void test_phases(void) {
    gt_train_config c = tiny(NULL, 6, 2);
    gt_trainer t;
    CHECK_MSG(gt_trainer_init(&t, &c, NULL) == GT_OK, "%s", gt_last_error());
    CHECK(t.scheme == &gt_train_scheme_anycost && !gt_anycost_train_sorted(&t));
    int sorts = 0, levels_seen = 0;
    for (int s = 0; s < 6; s++) {
        float *g0 = copy_slab(t.G.P.slab), *d0 = copy_slab(t.D.P.slab);
        gt_step_stats st;
        CHECK_MSG(gt_trainer_step(&t, &st) == GT_OK, "step %d: %s", s, gt_last_error());
        int phase = s < 2 ? 1 : 2;
        CHECK_MSG(st.phase == phase, "step %d: phase %d, want %d", s, st.phase, phase);
        CHECK_MSG(changed(g0, t.G.P.slab) && changed(d0, t.D.P.slab), "step %d left G or D unchanged", s);
        CHECK(isfinite(st.loss_d) && isfinite(st.loss_g));
        if (phase == 1) CHECK(st.distill == 0);
        else CHECK_MSG(st.distill > 0 && isfinite(st.distill), "step %d: distill %g", s, st.distill);
        CHECK((s % 2 == 0) == (st.reg[GT_REG_R1] > 0)); /* R1 every 2 D steps */
        check_plan(&t, phase);
        gt_anycost_plan p;
        gt_anycost_train_last_plan(&t, &p);
        sorts += p.sorted_now;
        CHECK_MSG(p.sorted_now == (s == 2), "step %d: sorted_now %d", s, p.sorted_now);
        CHECK(gt_anycost_train_sorted(&t) == (s >= 2));
        if (s == 2) CHECK_MSG(t.opt_g.step == 1, "G's Adam at %lld after the sort's step, want 1",
                              (long long)t.opt_g.step);
        for (int i = 0; i < p.n; i++) levels_seen |= p.sub[i].res;
        free(g0), free(d0);
    }
    CHECK(sorts == 1);
    CHECK(t.opt_g.step == 4 && t.opt_d.step == 6);
    CHECK_MSG(levels_seen == (8 | 16 | 32), "levels seen %d", levels_seen);
    gt_trainer_free(&t);
}

/* With ac_uniform, every random config of the sandwich has one ratio for all convs, and over the
 * steps each of the four ratios is drawn; without it (the default), some random config mixes
 * ratios across convs. */
static void test_uniform_configs(void) {
    for (int uni = 0; uni <= 1; uni++) {
        gt_train_config c = tiny(NULL, 12, 0);
        gt_model_opt_set(&c.model, "ac_uniform", uni);
        gt_trainer t;
        CHECK_MSG(gt_trainer_init(&t, &c, NULL) == GT_OK, "%s", gt_last_error());
        const int nc = gt_anycost_n_convs(&t.cfg.model);
        int seen = 0, mixed = 0;
        for (int s = 0; s < 12; s++) {
            gt_step_stats st;
            CHECK_MSG(gt_trainer_step(&t, &st) == GT_OK, "step %d: %s", s, gt_last_error());
            check_plan(&t, 2);
            gt_anycost_plan p;
            gt_anycost_train_last_plan(&t, &p);
            for (int k = 2; k < p.n; k++) {
                for (int i = 0; i < GT_AC_NRATIOS; i++)
                    if (p.sub[k].ratio[0] == gt_anycost_ratios[i]) seen |= 1 << i;
                for (int q = 1; q < nc; q++) mixed += p.sub[k].ratio[q] != p.sub[k].ratio[0];
            }
        }
        CHECK_MSG(uni ? mixed == 0 : mixed > 0, "ac_uniform %d: %d convs off their config's first ratio", uni, mixed);
        CHECK_MSG(seen == (1 << GT_AC_NRATIOS) - 1, "ac_uniform %d: ratios drawn %#x", uni, seen);
        gt_trainer_free(&t);
    }
}

/* N steps, save, load in a new trainer, N more == 2N straight, bit for bit. */
static void resume_case(const char *tag, int channels_at, int frozen) {
    const int64_t N = 3;
    char da[64], db[64];
    snprintf(da, sizeof da, "straight_%s", tag);
    snprintf(db, sizeof db, "halves_%s", tag);
    gt_train_config ca = tiny(tp(da), 2 * N, channels_at), cb = tiny(tp(db), N, channels_at);
    gt_model_opt_set(&ca.model, "ac_teacher", frozen);
    gt_model_opt_set(&cb.model, "ac_teacher", frozen);
    gt_trainer a, b;
    CHECK_MSG(gt_trainer_init(&a, &ca, NULL) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(gt_train_run(&a, NULL) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(gt_trainer_init(&b, &cb, NULL) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(gt_train_run(&b, NULL) == GT_OK, "%s", gt_last_error());
    bool sorted_half = gt_anycost_train_sorted(&b);
    gt_trainer_free(&b);
    cb.steps = 2 * N;
    CHECK(gt_trainer_init(&b, &cb, NULL) == GT_OK);
    char last[800];
    CHECK_MSG(gt_trainer_load(&b, gt_train_last_ckpt(&cb, last, sizeof last)) == GT_OK, "%s", gt_last_error());
    CHECK(gt_anycost_train_sorted(&b) == sorted_half);
    CHECK_MSG(gt_train_run(&b, NULL) == GT_OK, "%s", gt_last_error());
    CHECK(a.step == b.step && gt_anycost_train_sorted(&a) && gt_anycost_train_sorted(&b));
    const gt_net *ta = gt_anycost_train_teacher(&a), *tb = gt_anycost_train_teacher(&b);
    CHECK(frozen ? ta && tb : !ta && !tb);
    const struct {
        const char *what;
        gt_tensor *x, *y;
    } s[] = {{"G", a.G.P.slab, b.G.P.slab},
             {"D", a.D.P.slab, b.D.P.slab},
             {"G_ema", a.G_ema.P.slab, b.G_ema.P.slab},
             {"G buffers", a.G.P.buffers, b.G.P.buffers},
             {"Adam G m", a.opt_g.exp_avg, b.opt_g.exp_avg},
             {"Adam G v", a.opt_g.exp_avg_sq, b.opt_g.exp_avg_sq},
             {"Adam D v", a.opt_d.exp_avg_sq, b.opt_d.exp_avg_sq},
             {"teacher", ta ? ta->P.slab : NULL, tb ? tb->P.slab : NULL}};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
        bool same = s[i].x && s[i].y && gt_numel(s[i].x) == gt_numel(s[i].y) &&
                    memcmp(gt_data(s[i].x), gt_data(s[i].y), (size_t)gt_numel(s[i].x) * sizeof(float)) == 0;
        CHECK_MSG(same || (!s[i].x && !s[i].y), "%s (%s) differs after resume", s[i].what, tag);
    }
    CHECK(a.opt_g.step == b.opt_g.step && a.opt_d.step == b.opt_d.step);
    CHECK(a.rng.offset == b.rng.offset && a.ema.updates == b.ema.updates);
    /* metrics.jsonl: the phase and the distillation term of every line */
    char p[GT_PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/metrics.jsonl", cb.out);
    size_t n = 0;
    unsigned char *m = gt_test_read_all(p, &n);
    CHECK(m != NULL);
    if (m) {
        m[n] = 0;
        CHECK(strstr((char *)m, "\"phase\":\"multires\",\"distill\":0,") != NULL);
        CHECK(strstr((char *)m, "\"phase\":\"channels\",\"distill\":") != NULL);
        free(m);
    }
    gt_trainer_free(&a);
    gt_trainer_free(&b);
}

static void test_resume_across_switch(void) { resume_case("switch_second_half", 4, 0); }
static void test_resume_after_switch(void) { resume_case("switch_first_half", 1, 0); }
static void test_resume_teacher(void) {
    resume_case("teacher_second_half", 4, 1);
    resume_case("teacher_first_half", 1, 1);
}

/* The logged distillation term: mean over the subs of MSE(sub output, full output pooled to the
 * sub's level), recomputed here from a copy of G before the step, the plan's noise and z. With
 * ac_teacher the target is the frozen teacher's full output (its own mapping of z, the same noise)
 * and the full config counts too. With ac_distill_levels a config's term is the sum of that MSE
 * over its skip sums at the levels 8..its own. */
static void distill_by_hand(int frozen, int levels) {
    gt_train_config c = tiny(NULL, 4, 1);
    gt_model_opt_set(&c.model, "ac_teacher", frozen);
    gt_model_opt_set(&c.model, "ac_distill_levels", levels);
    gt_trainer t;
    CHECK_MSG(gt_trainer_init(&t, &c, NULL) == GT_OK, "%s", gt_last_error());
    gt_step_stats st;
    CHECK(gt_trainer_step(&t, &st) == GT_OK && gt_trainer_step(&t, &st) == GT_OK); /* the sort is behind */
    gt_net G0;
    gt_rng init;
    gt_rng_init(&init, 99);
    CHECK(gt_model_build(&t.cfg.model, GT_NET_G, &init, &G0) == GT_OK);
    CHECK(gt_params_copy(&G0.P, &t.G.P) == GT_OK);
    int m = gt_scope_begin();
    gt_tensor *real = NULL, *z = gt_test_randn(7, 2, (const int64_t[]){8, 16}, 1.0f);
    CHECK(gt_batcher_next(t.batcher, &real, NULL) == GT_OK);
    CHECK_MSG(gt_trainer_step_on(&t, &real, &z, &st) == GT_OK, "%s", gt_last_error());
    gt_anycost_plan p;
    CHECK(gt_anycost_train_last_plan(&t, &p) == GT_OK && p.phase == 2 && p.n == 4);
    bool prev = gt_no_grad_begin();
    gt_tensor *w = gt_anycost_mapping(&G0, z);
    gt_rng r = p.noise;
    const gt_net *T = gt_anycost_train_teacher(&t);
    CHECK(frozen ? T != NULL : T == NULL);
    gt_tensor *full = T ? gt_anycost_synthesis((gt_net *)T, gt_anycost_mapping((gt_net *)T, z), &p.sub[0], &r, NULL)
                        : gt_anycost_synthesis(&G0, w, &p.sub[0], &r, NULL); // (8, 1, 32, 32)
    double sum = 0;
    int multi = 0; /* entries with more than one level distilled */
    for (int k = frozen ? 0 : 1; k < p.n && full; k++) {
        gt_rng rk = p.noise;
        gt_tensor *rgbs[8] = {0};
        gt_tensor *sub = gt_anycost_synthesis(&G0, w, &p.sub[k], &rk, rgbs); // (8, 1, r, r)
        int top = p.sub[k].res;
        CHECK(sub && sub->shape[2] == top && sub->shape[3] == top && rgbs[0] && rgbs[0]->shape[3] == 4);
        if (!sub) break;
        multi += levels && top > 8;
        for (int l = 1; (4 << l) <= top; l++) {
            int res = 4 << l, f = 32 / res;
            if (!levels && res != top) continue;
            CHECK(rgbs[l] && rgbs[l]->shape[3] == res);
            const float *a = gt_data(full), *b = gt_data(rgbs[l]);
            double se = 0;
            for (int n = 0; n < 8; n++)
                for (int y = 0; y < res; y++)
                    for (int x = 0; x < res; x++) {
                        double avg = 0;
                        for (int dy = 0; dy < f; dy++)
                            for (int dx = 0; dx < f; dx++) avg += a[(n * 32 + y * f + dy) * 32 + x * f + dx];
                        avg /= f * f;
                        double d = b[(n * res + y) * res + x] - avg;
                        se += d * d;
                    }
            sum += se / (8.0 * res * res);
        }
    }
    CHECK_MSG(!levels || multi > 0, "no entry above 8 px: the levels are not exercised"); /* the plan's draw */
    gt_grad_mode_restore(prev);
    double want = sum / (p.n - (frozen ? 0 : 1));
    CHECK_MSG(fabs(st.distill - want) <= 1e-5 * fabs(want) + 1e-9, "distill %.9g, by hand %.9g", st.distill, want);
    CHECK(want > 0);
    gt_scope_end(m);
    gt_net_free(&G0);
    gt_trainer_free(&t);
}
static void test_distill_by_hand(void) {
    for (int levels = 0; levels <= 1; levels++) {
        distill_by_hand(0, levels);
        distill_by_hand(1, levels);
    }
}

/* ac_teacher: at the switch the teacher becomes a copy of G_ema as sorted there (sorting keeps
 * the full output: the teacher's output equals the pre-switch EMA's to float rounding), and later
 * steps never change it. */
static void test_teacher_frozen(void) {
    gt_train_config c = tiny(NULL, 5, 2);
    gt_model_opt_set(&c.model, "ac_teacher", 1);
    gt_trainer t;
    CHECK_MSG(gt_trainer_init(&t, &c, NULL) == GT_OK, "%s", gt_last_error());
    gt_step_stats st;
    CHECK(gt_trainer_step(&t, &st) == GT_OK && gt_trainer_step(&t, &st) == GT_OK && st.phase == 1);
    gt_net E0;
    gt_rng init;
    gt_rng_init(&init, 98);
    CHECK(gt_model_build(&t.cfg.model, GT_NET_G, &init, &E0) == GT_OK);
    CHECK(gt_params_copy(&E0.P, &t.G_ema.P) == GT_OK);
    CHECK(gt_trainer_step(&t, &st) == GT_OK && st.phase == 2); /* the switch */
    const gt_net *T = gt_anycost_train_teacher(&t);
    CHECK(T != NULL);
    if (!T) goto done;
    float *t0 = copy_slab(T->P.slab);
    CHECK(changed(t0, E0.P.slab)); /* permuted, so not the same array */
    CHECK(gt_trainer_step(&t, &st) == GT_OK && gt_trainer_step(&t, &st) == GT_OK);
    CHECK_MSG(!changed(t0, T->P.slab), "the teacher moved after the switch");
    free(t0);
    int m = gt_scope_begin();
    bool prev = gt_no_grad_begin();
    gt_tensor *z = gt_test_randn(3, 2, (const int64_t[]){4, 16}, 1.0f);
    gt_anycost_sub full = gt_anycost_uniform(1.0f, 32);
    gt_rng r0, r1;
    gt_rng_init(&r0, 4), gt_rng_init(&r1, 4);
    gt_tensor *a = gt_anycost_synthesis(&E0, gt_anycost_mapping(&E0, z), &full, &r0, NULL);
    gt_tensor *b = gt_anycost_synthesis((gt_net *)T, gt_anycost_mapping((gt_net *)T, z), &full, &r1, NULL);
    CHECK(a && b);
    double d = 0, mag = 0;
    for (int64_t i = 0; a && b && i < gt_numel(a); i++)
        d = fmax(d, fabs(gt_data(a)[i] - gt_data(b)[i])), mag = fmax(mag, fabs(gt_data(a)[i]));
    CHECK_MSG(d <= 1e-4 * mag + 1e-6 && mag > 0, "teacher vs pre-switch EMA: max |diff| %g (max |y| %g)", d, mag);
    gt_grad_mode_restore(prev);
    gt_scope_end(m);
done:
    gt_net_free(&E0);
    gt_trainer_free(&t);
}

/* x (N, 1, 32, 32) averaged over f x f blocks by hand -> a new (N, 1, 32/f, 32/f) tensor. */
static gt_tensor *pool_by_hand(const gt_tensor *x, int f) {
    const int64_t n = x->shape[0], r = 32 / f;
    gt_tensor *o = gt_zeros(4, (const int64_t[]){n, 1, r, r});
    const float *a = gt_data(x);
    float *b = gt_data(o);
    for (int64_t i = 0; i < n; i++)
        for (int64_t y = 0; y < r; y++)
            for (int64_t q = 0; q < r; q++) {
                double s = 0;
                for (int dy = 0; dy < f; dy++)
                    for (int dx = 0; dx < f; dx++) s += a[(i * 32 + y * f + dy) * 32 + q * f + dx];
                b[(i * r + y) * r + q] = (float)(s / (f * f));
            }
    return o;
}

/* D's mean output on the reals (d_real, sigmoid for ns) is the mean over the plan's levels of D,
 * from its pre-step weights, on the reals average-pooled to each level; in both phases (phase 2
 * conditions D on each config). */
static void test_d_sees_pooled_reals(void) {
    gt_train_config c = tiny(NULL, 4, 1);
    gt_trainer t;
    CHECK_MSG(gt_trainer_init(&t, &c, NULL) == GT_OK, "%s", gt_last_error());
    gt_net D0;
    gt_rng init;
    gt_rng_init(&init, 98);
    CHECK(gt_model_build(&t.cfg.model, GT_NET_D, &init, &D0) == GT_OK);
    for (int step = 0; step < 2; step++) {
        CHECK(gt_params_copy(&D0.P, &t.D.P) == GT_OK);
        int m = gt_scope_begin();
        gt_tensor *real = NULL, *z = gt_test_randn(17 + step, 2, (const int64_t[]){8, 16}, 1.0f);
        CHECK(gt_batcher_next(t.batcher, &real, NULL) == GT_OK);
        gt_step_stats st;
        CHECK_MSG(gt_trainer_step_on(&t, &real, &z, &st) == GT_OK, "%s", gt_last_error());
        gt_anycost_plan p;
        CHECK(gt_anycost_train_last_plan(&t, &p) == GT_OK && p.phase == step + 1);
        bool prev = gt_no_grad_begin();
        double sum = 0;
        for (int k = 0; k < p.n; k++) {
            int r = p.sub[k].res;
            gt_tensor *x = r == 32 ? real : pool_by_hand(real, 32 / r);
            gt_tensor *lo = gt_anycost_d_forward(&D0, x, p.phase == 1 ? NULL : &p.sub[k], GT_BN_EVAL);
            CHECK(lo && gt_numel(lo) == 8);
            if (!lo) break;
            const float *v = gt_data(gt_contiguous(lo));
            double s = 0;
            for (int i = 0; i < 8; i++) s += 1.0 / (1.0 + exp(-(double)v[i]));
            sum += s / 8;
        }
        gt_grad_mode_restore(prev);
        double want = sum / p.n;
        CHECK_MSG(fabs(st.d_real - want) <= 1e-5, "phase %d: d_real %.9g, by hand %.9g", p.phase, st.d_real, want);
        gt_scope_end(m);
    }
    gt_net_free(&D0);
    gt_trainer_free(&t);
}

static void test_bad_options(void) {
    gt_trainer t;
    gt_train_config c = tiny(NULL, 2, -1);
    gt_model_opt_set(&c.model, "ac_nres", 4); /* 32 px has 3 levels */
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_ERR_ARG && strstr(gt_last_error(), "ac_nres"));
    gt_trainer_free(&t);
    c = tiny(NULL, 2, -1);
    c.loss = GT_LOSS_BEGAN;
    CHECK(gt_trainer_init(&t, &c, NULL) != GT_OK && strstr(gt_last_error(), "began"));
    gt_trainer_free(&t);
    /* the default scheme for a family without a row */
    CHECK(gt_train_scheme_for("dcgan") == &gt_train_scheme_default);
    CHECK(gt_train_scheme_for("anycost") == &gt_train_scheme_anycost);
    gt_anycost_plan p;
    gt_train_config d = gt_test_tiny_config(g_idx, "", 1);
    d.batch = 8;
    CHECK(gt_trainer_init(&t, &d, NULL) == GT_OK && t.scheme == &gt_train_scheme_default);
    gt_step_stats st;
    CHECK(gt_trainer_step(&t, &st) == GT_OK && st.phase == 0 && st.distill == 0);
    CHECK(gt_anycost_train_last_plan(&t, &p) == GT_ERR_STATE);
    gt_trainer_free(&t);
}

int main(void) {
    gt_set_num_threads(2);
    snprintf(g_idx, sizeof g_idx, "%s", tp("blobs-images-idx3-ubyte"));
    if (!gt_test_write_idx(g_idx, 48)) {
        fprintf(stderr, "cannot write %s\n", g_idx);
        return 1;
    }
    RUN(test_phases);
    RUN(test_uniform_configs);
    RUN(test_resume_across_switch);
    RUN(test_resume_after_switch);
    RUN(test_distill_by_hand);
    RUN(test_teacher_frozen);
    RUN(test_resume_teacher);
    RUN(test_d_sees_pooled_reals);
    RUN(test_bad_options);
    return gt_test_finish();
}
