/* The anycost family's training scheme (Anycost GAN, Lin et al. 2021, at small scale): a row of
 * the trainer's scheme table (gantry/train.h, docs/anycost/training.md).
 *
 * Phase 1, multi-resolution (step < ac_channels_at, or always with -1): each critic step draws
 * ac_nres distinct levels among 8..R; G's full synthesis runs once and D sees the skip sum at each
 * drawn level (and the reals average-pooled to it) through that level's input; the losses are
 * averaged over the levels.
 * Phase 2, adaptive channels (from step ac_channels_at): the first such step sorts the channels
 * (gt_anycost_sort_channels on G and its EMA copy) and restarts G's Adam; then each critic step
 * runs the sandwich rule: the full config at R, the smallest (0.25 everywhere) and ac_sandwich
 * random configs (a ratio per conv, or with ac_uniform one ratio for all), each at a drawn
 * level, from one mapping of the same z with the same noise; D is conditioned on each config;
 * G's loss per config adds ac_distill * MSE(sub output,
 * the full output detached and pooled to the sub's level; with ac_teacher, the output of a frozen
 * copy of G_ema taken at the switch, for every config); with ac_distill_levels the sum of that MSE
 * over the config's skip sums at every level 8..its own, as Anycost GAN's code distils.
 * Everything random comes from t->rng, and the sorting's flag is in the checkpoint, so a resumed
 * run is bit-identical to a straight one, across the switch too. */
#include <math.h>
#include <string.h>

#include "gantry/train.h"

#define GT__AC_SORT_KEY 0x50F7C4A9E1D3B285ull /* the sorting's latents: cfg.seed ^ this */
#define GT__AC_MAX_CRITIC 64

typedef struct {
    uint64_t sorted;      /* 1 once phase 2's sorting ran (checkpoint "anycost.sorted") */
    int nres, sandwich;   /* ac_nres, ac_sandwich */
    bool uniform;         /* ac_uniform: a random config has one ratio for every conv */
    bool frozen;          /* ac_teacher: distil towards `teacher`, not the current full output */
    bool levels;          /* ac_distill_levels: distil the skip sums at every level, summed */
    gt_net teacher;       /* ac_teacher: G_ema (or G) as it was at the switch ("anycost.teacher.") */
    int64_t channels_at;  /* ac_channels_at (-1: never) */
    double distill;       /* ac_distill */
    int nlev;             /* levels 8..R */
    int n_convs;
    gt_anycost_plan last; /* the last critic step's plan */
    bool have_last;
} gt__ac_state;

static gt__ac_state *gt__st(const gt_trainer *t) { return t ? (gt__ac_state *)t->scheme_state : NULL; }

static int gt__log2(int x) {
    int k = 0;
    while ((1 << k) < x) k++;
    return k;
}

static gt_status gt__ac_init(gt_trainer *t) {
    const gt_train_config *c = &t->cfg;
    const gt_model_config *m = &c->model;
    if (!gt_anycost_is(&t->G))
        return gt_set_error(GT_ERR_ARG, "the anycost training scheme needs an anycost model, not %s", m->name);
    const gt_loss_def *def = gt_loss_def_get(c->loss);
    if (def->energy || def->update)
        return gt_set_error(GT_ERR_ARG, "loss %s needs an energy D; the anycost D gives logits (use ns, hinge, ls, "
                                        "wgan, minimax or rpgan)", def->name);
    if (m->n_classes > 0) return gt_set_error(GT_ERR_ARG, "the anycost family is unconditional (n_classes %d)", m->n_classes);
    if (c->n_critic > GT__AC_MAX_CRITIC)
        return gt_set_error(GT_ERR_ARG, "n_critic %d: the anycost scheme takes at most %d", c->n_critic, GT__AC_MAX_CRITIC);
    gt__ac_state *s = calloc(1, sizeof *s);
    if (!s) return gt_set_error(GT_ERR_OOM, "anycost scheme: out of memory");
    t->scheme_state = s;
    double nres = gt_model_opt(m, "ac_nres"), at = gt_model_opt(m, "ac_channels_at");
    double sw = gt_model_opt(m, "ac_sandwich"), dist = gt_model_opt(m, "ac_distill");
    if (isnan(nres) || isnan(at) || isnan(sw) || isnan(dist))
        return gt_set_error(GT_ERR_ARG, "model %s lacks the anycost scheme's options (ac_nres, ac_channels_at, "
                                        "ac_sandwich, ac_distill)", m->name);
    s->nres = (int)nres, s->channels_at = (int64_t)at, s->sandwich = (int)sw, s->distill = dist;
    s->nlev = gt__log2(m->res) - 2; /* 8, 16, ..., R */
    s->n_convs = gt_anycost_n_convs(m);
    if (s->nres < 1 || s->nres > s->nlev)
        return gt_set_error(GT_ERR_ARG, "ac_nres %d: the model has %d levels (8..%d); draw 1 to %d per step", s->nres,
                            s->nlev, m->res, s->nlev);
    if (s->sandwich < 0 || s->sandwich > GT_AC_PLAN_MAX - 2)
        return gt_set_error(GT_ERR_ARG, "ac_sandwich %d: 0 to %d random configs per step", s->sandwich,
                            GT_AC_PLAN_MAX - 2);
    if (s->channels_at < -1) return gt_set_error(GT_ERR_ARG, "ac_channels_at %lld: a step >= 0, or -1 (never)",
                                                 (long long)s->channels_at);
    if (!(s->distill >= 0)) return gt_set_error(GT_ERR_ARG, "ac_distill %g: a weight >= 0", s->distill);
    s->uniform = gt_model_opt(m, "ac_uniform") == 1; /* the registry checks 0..1; older runs lack it: 0 */
    s->levels = gt_model_opt(m, "ac_distill_levels") == 1;
    s->frozen = gt_model_opt(m, "ac_teacher") == 1 && s->channels_at >= 0;
    if (s->frozen) { /* its weights are set at the switch (or loaded); this init is never used */
        gt_rng init;
        gt_rng_init(&init, c->seed);
        gt_status st = gt_model_build(m, GT_NET_G, &init, &s->teacher);
        if (st != GT_OK) return st;
        gt_net_requires_grad(&s->teacher, false);
    }
    return GT_OK;
}

static gt_status gt__ac_bind(gt_trainer *t, gt_ckpt *c) {
    gt__ac_state *s = gt__st(t);
    if (!s) return gt_set_error(GT_ERR_STATE, "anycost scheme: not initialised");
    gt_status st = gt_ckpt_add_u64(c, "anycost.sorted", &s->sorted, 1);
    if (st == GT_OK && s->frozen) st = gt_ckpt_add_params(c, "anycost.teacher.", &s->teacher.P);
    return st;
}

static void gt__ac_free(gt_trainer *t) {
    gt__ac_state *s = gt__st(t);
    if (s && s->frozen) gt_net_free(&s->teacher);
    free(t->scheme_state);
    t->scheme_state = NULL;
}

/* A level among 8..R drawn from r. */
static int gt__draw_level(gt_rng *r, int nlev) { return 8 << (int)(gt_rng_u32(r) % (uint32_t)nlev); }

/* The plan of one critic step, drawn from r. */
static void gt__draw_plan(const gt__ac_state *s, int R, bool channels, gt_rng *r, gt_anycost_plan *p) {
    memset(p, 0, sizeof *p);
    p->reg_entry = -1;
    if (!channels) { /* ac_nres distinct levels: a partial Fisher-Yates shuffle of 8..R */
        int lev[8];
        for (int i = 0; i < s->nlev; i++) lev[i] = 8 << i;
        p->phase = 1, p->n = s->nres;
        for (int i = 0; i < s->nres; i++) {
            int j = i + (int)(gt_rng_u32(r) % (uint32_t)(s->nlev - i)), x = lev[i];
            lev[i] = lev[j], lev[j] = x;
            p->sub[i] = gt_anycost_uniform(1.0f, lev[i]);
        }
        return;
    }
    p->phase = 2, p->n = 2 + s->sandwich;
    p->sub[0] = gt_anycost_uniform(1.0f, R); /* the largest, at full resolution */
    p->sub[1] = gt_anycost_uniform(gt_anycost_ratios[0], gt__draw_level(r, s->nlev)); /* the smallest */
    for (int k = 2; k < p->n; k++) {
        gt_anycost_sub *u = &p->sub[k];
        memset(u, 0, sizeof *u);
        const float q = s->uniform ? gt_anycost_ratios[gt_rng_u32(r) % GT_AC_NRATIOS] : 0.0f;
        for (int c = 0; c < s->n_convs && c < GT_AC_MAX_CONVS; c++)
            u->ratio[c] = s->uniform ? q : gt_anycost_ratios[gt_rng_u32(r) % GT_AC_NRATIOS];
        u->res = gt__draw_level(r, s->nlev);
    }
}

/* x (N, C, R, R) average-pooled to (N, C, r, r) (x itself, borrowed, when r = R). */
static gt_tensor *gt__pool(gt_tensor *x, int r) {
    if (!x) return NULL;
    int f = (int)(x->shape[3] / r);
    return f <= 1 ? x : gt_avg_pool2d(x, f, f, f, f, 0, 0, false, true);
}

/* The fakes of every plan entry (graph to G when grad mode is on): phase 1 the full synthesis's
 * skip sums at the drawn levels, phase 2 one synthesis per config from the same w and noise, and
 * then (levels not NULL) each config's skip sums in levels[k] (levels[k][0] at 4 px). */
static gt_status gt__fakes(gt_trainer *t, gt_tensor *z, gt_anycost_plan *p, gt_tensor **fakes,
                           gt_tensor *(*levels)[8]) {
    gt_tensor *w = gt_anycost_mapping(&t->G, z);
    if (!w) return gt_last_status();
    p->noise = t->rng;
    if (p->phase == 1) {
        gt_tensor *rgbs[8] = {0};
        gt_tensor *full = gt_anycost_synthesis(&t->G, w, NULL, &t->rng, rgbs);
        if (!full) return gt_last_status();
        for (int k = 0; k < p->n; k++) fakes[k] = rgbs[gt__log2(p->sub[k].res) - 2]; /* rgbs[0] is 4x4 */
        return GT_OK;
    }
    fakes[0] = gt_anycost_synthesis(&t->G, w, &p->sub[0], &t->rng, levels ? levels[0] : NULL);
    for (int k = 1; k < p->n && fakes[0]; k++) {
        gt_rng same = p->noise; /* noise shapes do not depend on channels: each sub draws the same */
        fakes[k] = gt_anycost_synthesis(&t->G, w, &p->sub[k], &same, levels ? levels[k] : NULL);
        if (!fakes[k]) return gt_last_status();
    }
    return fakes[0] ? GT_OK : gt_last_status();
}

static double gt__mean_out(const gt_tensor *logits, bool sigmoid) {
    const float *v = gt_data(logits); // (N)
    int64_t n = gt_numel(logits);
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += sigmoid ? 1.0 / (1.0 + exp(-(double)v[i])) : v[i];
    return n ? s / (double)n : 0;
}

static double gt__reg_weight(const gt_train_config *c, int k) {
    return k == GT_REG_GP ? c->gp : k == GT_REG_DRAGAN ? c->dragan : k == GT_REG_R1 ? c->r1 : c->r2;
}

/* D's conditioning for entry k: phase 1 fakes all come from the full generator. */
static const gt_anycost_sub *gt__cond(const gt_anycost_plan *p, int k) { return p->phase == 1 ? NULL : &p->sub[k]; }

/* One D step over every entry of the plan (fakes detached), then the regularizers when due. */
static gt_status gt__d_step(gt_trainer *t, gt_tensor *real, gt_tensor *const *fakes, gt_anycost_plan *p,
                            uint64_t d_index, gt_step_stats *s) {
    const gt_train_config *c = &t->cfg;
    const gt_loss_def *def = gt_loss_def_get(c->loss);
    const float inv = 1.0f / (float)p->n, target = (float)(1.0 - c->label_smooth);
    gt_status st = gt_params_zero_grad(&t->D.P);
    double loss = 0, dr = 0, df = 0;
    for (int k = 0; k < p->n && st == GT_OK; k++) { /* each entry's graph freed before the next */
        int m = gt_scope_begin();
        int r = p->sub[k].res;
        gt_tensor *lr = gt_anycost_d_forward(&t->D, gt__pool(real, r), gt__cond(p, k), GT_BN_TRAIN);
        gt_tensor *lf = gt_anycost_d_forward(&t->D, gt_detach(fakes[k]), gt__cond(p, k), GT_BN_TRAIN);
        gt_tensor *l = gt_mul_scalar(gt_gan_loss_d_smooth(c->loss, lr, lf, target), inv);
        st = l ? gt_backward(l) : gt_last_status();
        if (st == GT_OK) loss += gt_item(l), dr += gt__mean_out(lr, def->probs), df += gt__mean_out(lf, def->probs);
        gt_scope_end(m);
    }
    s->d_real = dr / p->n, s->d_fake = df / p->n;
    int every = c->reg_every > 0 ? c->reg_every : 1;
    bool due = false;
    for (int k = 0; k < GT_REG_COUNT; k++) due |= gt__reg_weight(c, k) > 0;
    if (due && d_index % (uint64_t)every == 0 && st == GT_OK) { /* on one entry, as the paper's code */
        int e = (int)(gt_rng_u32(&t->rng) % (uint32_t)p->n), r = p->sub[e].res;
        p->reg_entry = e;
        for (int k = 0; k < GT_REG_COUNT && st == GT_OK; k++) {
            double w = gt__reg_weight(c, k) * gt_reg_def_get((gt_reg_kind)k)->scale * every;
            if (!(w > 0)) continue;
            int m = gt_scope_begin();
            gt_tensor *re = gt__pool(real, r), *fe = gt_detach(fakes[e]), *ne = NULL, *nu = NULL;
            st = gt_reg_noise((gt_reg_kind)k, re, &t->rng, &ne, &nu);
            gt_tensor *xh = st == GT_OK ? gt_reg_point((gt_reg_kind)k, re, fe, ne, nu) : NULL;
            gt_tensor *pen = xh ? gt_reg_penalty_at((gt_reg_kind)k, gt_anycost_d_forward(&t->D, xh, gt__cond(p, e),
                                                                                           GT_BN_BATCH), xh)
                                : NULL;
            if (st == GT_OK) st = pen ? gt_backward(gt_mul_scalar(pen, (float)w)) : gt_last_status();
            if (st == GT_OK) s->reg[k] = gt_item(pen), loss += w * s->reg[k];
            gt_scope_end(m);
        }
    }
    s->gp = s->reg[GT_REG_GP];
    if (st == GT_OK) st = gt_adam_step(&t->opt_d);
    if (st == GT_OK && c->clip > 0) { /* the original WGAN's clipping */
        const float cl = (float)c->clip;
        float *v = gt_data(t->D.P.slab);
        for (int64_t i = 0, n = t->D.P.numel; i < n; i++) v[i] = v[i] > cl ? cl : v[i] < -cl ? -cl : v[i];
    }
    s->loss_d = loss;
    return st;
}

/* Phase 2's distillation target: the frozen teacher's full output for z with the plan's noise
 * (ac_teacher), or the full config's output of this step, detached. */
static gt_tensor *gt__target(gt_trainer *t, gt_tensor *z, gt_tensor *const *fakes, const gt_anycost_plan *p) {
    gt__ac_state *as = gt__st(t);
    if (!as->frozen) return gt_detach(fakes[0]);
    bool prev = gt_no_grad_begin();
    gt_rng same = p->noise;
    gt_tensor *w = gt_anycost_mapping(&as->teacher, z);
    gt_tensor *y = w ? gt_anycost_synthesis(&as->teacher, w, &p->sub[0], &same, NULL) : NULL;
    gt_grad_mode_restore(prev);
    return y;
}

/* A config's distillation term: MSE(fake, target pooled to res), or with levels (the config's skip
 * sums, levels[l] at 4 << l) the sum of that over the levels 8..res. */
static gt_tensor *gt__distill_term(gt_tensor *target, gt_tensor *fake, gt_tensor *const *levels, int res) {
    if (!levels) return gt_mse_loss(fake, gt__pool(target, res));
    gt_tensor *sum = gt_zeros(0, NULL);
    for (int l = 1; (4 << l) <= res && sum; l++) sum = gt_add(sum, gt_mse_loss(levels[l], gt__pool(target, 4 << l)));
    return sum;
}

/* G's step on the last critic step's fakes (with their graphs): the GAN loss of every entry and,
 * in phase 2, the distillation towards gt__target (each sub's; every entry's with ac_teacher);
 * averaged over the entries. levels: each entry's skip sums (ac_distill_levels), or NULL. */
static gt_status gt__g_step(gt_trainer *t, gt_tensor *real, gt_tensor *z, gt_tensor *const *fakes,
                            gt_tensor *(*levels)[8], const gt_anycost_plan *p, gt_step_stats *s) {
    const gt_train_config *c = &t->cfg;
    const gt__ac_state *as = gt__st(t);
    const float inv = 1.0f / (float)p->n;
    gt_status st = gt_params_zero_grad(&t->G.P);
    if (st != GT_OK) return st;
    gt_net_requires_grad(&t->D, false);
    int m = gt_scope_begin();
    gt_tensor *teacher = p->phase == 2 ? gt__target(t, z, fakes, p) : NULL;
    gt_tensor *loss = p->phase == 2 && !teacher ? NULL : gt_zeros(0, NULL);
    double dist = 0;
    const int first = as->frozen ? 0 : 1; /* a frozen teacher teaches the full config too */
    for (int k = 0; k < p->n && loss; k++) {
        int r = p->sub[k].res;
        gt_tensor *lr = NULL;
        if (gt_loss_def_get(c->loss)->g_pair) { /* a pairwise loss: D on the reals too, constants for G */
            bool prev = gt_no_grad_begin();
            lr = gt_anycost_d_forward(&t->D, gt__pool(real, r), gt__cond(p, k), GT_BN_BATCH);
            gt_grad_mode_restore(prev);
            if (!lr) {
                loss = NULL;
                break;
            }
        }
        gt_tensor *lf = gt_anycost_d_forward(&t->D, fakes[k], gt__cond(p, k), GT_BN_TRAIN);
        gt_tensor *term = gt_gan_loss_g_pair(c->loss, lr, lf);
        if (p->phase == 2 && k >= first) {
            gt_tensor *mse = gt__distill_term(teacher, fakes[k], levels ? levels[k] : NULL, r);
            if (mse) dist += gt_item(mse);
            term = gt_add(term, gt_mul_scalar(mse, (float)as->distill));
        }
        loss = gt_add(loss, gt_mul_scalar(term, inv));
    }
    st = loss ? gt_backward(loss) : gt_last_status();
    if (st == GT_OK) s->loss_g = gt_item(loss), s->distill = p->n > first && p->phase == 2 ? dist / (p->n - first) : 0;
    gt_scope_end(m);
    gt_net_requires_grad(&t->D, true);
    if (st == GT_OK) st = gt_adam_step(&t->opt_g);
    return st;
}

/* Phase 2's start: sort the channels of G and its EMA copy by importance, and restart G's Adam
 * (its moments belong to the unpermuted channels; the paper starts channel training anew). */
static gt_status gt__sort(gt_trainer *t) {
    gt_status st = gt_anycost_sort_channels(&t->G, t->has_ema ? &t->G_ema : NULL, t->cfg.seed ^ GT__AC_SORT_KEY);
    if (st != GT_OK) return st;
    gt_adam *o = &t->opt_g;
    gt_tensor *mom[3] = {o->exp_avg, o->exp_avg_sq, o->max_exp_avg_sq};
    for (int i = 0; i < 3; i++)
        if (mom[i]) memset(gt_data(mom[i]), 0, (size_t)gt_numel(mom[i]) * sizeof(float));
    o->step = 0;
    gt__ac_state *as = gt__st(t);
    as->sorted = 1;
    return as->frozen ? gt_params_copy(&as->teacher.P, t->has_ema ? &t->G_ema.P : &t->G.P) : GT_OK;
}

static gt_status gt__ac_step(gt_trainer *t, gt_tensor *const *reals, gt_tensor *const *real_y, gt_tensor *const *z,
                             gt_tensor *const *fake_y, gt_step_stats *s) {
    (void)real_y, (void)fake_y;
    gt__ac_state *as = gt__st(t);
    if (!as) return gt_set_error(GT_ERR_STATE, "anycost scheme: not initialised");
    const int nc = t->cfg.n_critic, R = t->cfg.model.res;
    const bool channels = as->channels_at >= 0 && t->step >= (uint64_t)as->channels_at;
    bool sorted_now = false;
    gt_status st = GT_OK;
    if (channels && !as->sorted) {
        st = gt__sort(t);
        sorted_now = true;
    }
    s->phase = channels ? 2 : 1;
    gt_anycost_plan p;
    gt_tensor *fakes[GT_AC_PLAN_MAX] = {0}, *lv[GT_AC_PLAN_MAX][8] = {{0}};
    gt_tensor *(*levels)[8] = channels && as->levels ? lv : NULL;
    for (int i = 0; i < nc && st == GT_OK; i++) {
        bool last = i == nc - 1;
        int mi = last ? -1 : gt_scope_begin();
        bool prev = last ? true : gt_no_grad_begin(); /* only the last critic step's fakes feed G's step */
        gt__draw_plan(as, R, channels, &t->rng, &p);
        st = gt__fakes(t, z[i], &p, fakes, levels);
        if (!last) gt_grad_mode_restore(prev);
        if (st == GT_OK) st = gt__d_step(t, reals[i], fakes, &p, t->step * (uint64_t)nc + (uint64_t)i, s);
        if (!last) gt_scope_end(mi);
    }
    if (st == GT_OK) st = gt__g_step(t, reals[nc - 1], z[nc - 1], fakes, levels, &p, s);
    if (st == GT_OK) {
        p.sorted_now = sorted_now;
        as->last = p, as->have_last = true;
    }
    return st;
}

const gt_train_scheme gt_train_scheme_anycost = {
    "anycost",
    "Anycost GAN: multi-resolution sampling, then sorted channels with the sandwich rule and distillation",
    gt__ac_init, gt__ac_bind, gt__ac_step, gt__ac_free,
};

gt_status gt_anycost_train_last_plan(const gt_trainer *t, gt_anycost_plan *out) {
    const gt__ac_state *s = t && t->scheme == &gt_train_scheme_anycost ? gt__st(t) : NULL;
    if (!s || !s->have_last || !out)
        return gt_set_error(GT_ERR_STATE, "gt_anycost_train_last_plan: not an anycost trainer that has stepped");
    *out = s->last;
    return GT_OK;
}

bool gt_anycost_train_sorted(const gt_trainer *t) {
    const gt__ac_state *s = t && t->scheme == &gt_train_scheme_anycost ? gt__st(t) : NULL;
    return s && s->sorted;
}

const gt_net *gt_anycost_train_teacher(const gt_trainer *t) {
    const gt__ac_state *s = t && t->scheme == &gt_train_scheme_anycost ? gt__st(t) : NULL;
    return s && s->frozen ? &s->teacher : NULL;
}
