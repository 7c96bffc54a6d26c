/* The GAN trainer: models, optimizers, EMA, data and latents; one training
 * step (n_critic D steps, then one G step on the last fake batch, as the
 * PyTorch DCGAN example); the checkpoint binding of the whole state. A family
 * may own its step instead: the scheme table (gt__schemes, gantry/train.h). */
#include <math.h>
#include <string.h>

#include "../backend/kernels.h"
#include "gantry/ddp.h"
#include "gantry/device.h"
#include "gantry/train.h"
#include "gantry/translate.h"

#define GT__LATENT_KEY 0x9E3779B97F4A7C15ull /* the training latents' Philox key is seed ^ this */
#define GT__RECAL_SEED 0x5EEDull             /* latents that recalibrate BN before sampling */
#define GT__RECAL_BATCHES 8

static gt_status gt__bind(gt_trainer *t) {
    gt_ckpt *c = &t->ckpt;
    gt_ckpt_init(c);
    gt_status st = gt_ckpt_add_params(c, "G.", &t->G.P);
    if (st == GT_OK) st = gt_ckpt_add_params(c, "D.", &t->D.P);
    if (st == GT_OK && t->has_ema) st = gt_ckpt_add_ema(c, "G_ema.", &t->ema);
    if (st == GT_OK) st = gt_ckpt_add_adam(c, "opt_G.", &t->opt_g);
    if (st == GT_OK) st = gt_ckpt_add_adam(c, "opt_D.", &t->opt_d);
    if (st == GT_OK) st = gt_ckpt_add_u64(c, "train.step", &t->step, 1);
    if (st == GT_OK) st = gt_ckpt_add_rng(c, "rng.train", &t->rng);
    if (st == GT_OK) st = gt_ckpt_add_u64(c, "data.batcher", t->batcher_state, 3);
    /* a stateful loss's state (BEGAN's k_t); only then, so other checkpoints keep their tensors */
    if (st == GT_OK && gt_loss_def_get(t->cfg.loss)->update) st = gt_ckpt_add_u64(c, "train.loss_state", &t->loss_state, 1);
    /* augmentation's state (ADA's p and accumulators) and LeCam's EMAs: only when in use */
    if (st == GT_OK && t->aug) st = gt_ckpt_add_u64(c, "train.augment", t->aug_state, GT_AUGMENT_STATE);
    if (st == GT_OK && t->cfg.lecam > 0) st = gt_ckpt_add_u64(c, "train.lecam", t->lecam_ema, 2);
    /* the family's scheme's own state, after the common entries */
    if (st == GT_OK && t->scheme && t->scheme->bind) st = t->scheme->bind(t, c);
    return st;
}

gt_status gt_trainer_init(gt_trainer *t, const gt_train_config *cfg, gt_dataset *ds) {
    if (!t) return gt_set_error(GT_ERR_ARG, "gt_trainer_init: trainer is NULL");
    memset(t, 0, sizeof *t);
    gt_ckpt_init(&t->ckpt);
    if (!cfg) return gt_set_error(GT_ERR_ARG, "gt_trainer_init: config is NULL");
    t->cfg = *cfg;
    gt_train_config *c = &t->cfg;
    gt_status st = gt_train_config_check(c);
    if (st != GT_OK) return st;
    if (c->threads > 0) gt_set_num_threads(c->threads);

    /* data first: a missing dataset is the most likely mistake, and cheap to find */
    if (ds) {
        t->ds = ds;
    } else if (c->data[0]) {
        gt_dataset_opts o = {.limit = c->data_limit, .skip_bad = c->skip_bad_images};
        t->ds = gt_dataset_open(c->data, c->model.res, c->model.channels, &o);
        if (!t->ds) return gt_last_status();
        t->ds_owned = true;
    }
    if (t->ds) {
        if (t->ds->c != c->model.channels || t->ds->h != c->model.res || t->ds->w != c->model.res)
            return gt_set_error(GT_ERR_SHAPE, "dataset %s has %dx%dx%d images, the model wants %dx%dx%d",
                                t->ds->source ? t->ds->source : "(given)", t->ds->c, t->ds->h, t->ds->w,
                                c->model.channels, c->model.res, c->model.res);
        if (t->ds->n < c->batch)
            return gt_set_error(GT_ERR_ARG, "dataset %s has %lld images, fewer than the batch size %d",
                                t->ds->source ? t->ds->source : "(given)", (long long)t->ds->n, c->batch);
        t->batcher = gt_batcher_new(t->ds, c->batch, c->seed, NULL);
        if (!t->batcher) return gt_last_status();
        gt_batcher_state bs = gt_batcher_get_state(t->batcher);
        t->batcher_state[0] = bs.seed, t->batcher_state[1] = (uint64_t)bs.epoch;
        t->batcher_state[2] = (uint64_t)bs.position;
    }

    const gt_model_entry *fam = gt_model_find(c->model.name);
    if (fam && fam->conditional) { /* the classes come from the data's labels */
        if (t->ds && !t->ds->labels)
            return gt_set_error(GT_ERR_ARG, "model %s is conditional, but %s has no labels (an image folder needs one "
                                            "sub-folder per class)",
                                c->model.name, t->ds->source ? t->ds->source : "the data");
        for (int64_t i = 0; t->ds && i < t->ds->n; i++)
            if (t->ds->labels[i] < 0)
                return gt_set_error(GT_ERR_ARG, "%s: image %lld has no class (label %d): a conditional model needs "
                                                "every image in a class sub-folder",
                                    t->ds->source ? t->ds->source : "data", (long long)i, t->ds->labels[i]);
        if (c->model.n_classes == 0 && t->ds) c->model.n_classes = t->ds->num_classes;
        if (t->ds && t->ds->num_classes > c->model.n_classes)
            return gt_set_error(GT_ERR_ARG, "%s has %d classes, the model %d", t->ds->source ? t->ds->source : "data",
                                t->ds->num_classes, c->model.n_classes);
    }
    gt_rng init;
    gt_rng_init(&init, c->seed);
    st = gt_model_build(&c->model, GT_NET_G, &init, &t->G);
    if (st == GT_OK) st = gt_model_build(&c->model, GT_NET_D, &init, &t->D);
    if (st == GT_OK) st = gt_model_build(&c->model, GT_NET_G, &init, &t->G_sample);
    if (st == GT_OK && c->ema > 0) {
        st = gt_model_build(&c->model, GT_NET_G, &init, &t->G_ema);
        if (st == GT_OK) st = gt_ema_init(&t->ema, &t->G.P, &t->G_ema.P, c->ema);
        t->has_ema = st == GT_OK;
    }
    if (st != GT_OK) return st;
    st = gt_adam_init(&t->opt_g, &t->G.P, c->lr_g, c->beta1, c->beta2, 1e-8, 0);
    if (st == GT_OK) st = gt_adam_init(&t->opt_d, &t->D.P, c->lr_d, c->beta1, c->beta2, 1e-8, 0);
    if (st != GT_OK) return st;
    gt_rng_init(&t->rng, c->seed ^ GT__LATENT_KEY);
    t->scheme = gt_train_scheme_for(c->model.name);
    if (t->scheme != &gt_train_scheme_default && (gt_train_uses_augment(c) || gt_train_uses_consistency(c)))
        return gt_set_error(GT_ERR_ARG,
                            "model %s trains with its own scheme (%s), which does not support augment, cr, bcr, zcr "
                            "or lecam (the default scheme's models do)",
                            c->model.name, t->scheme->family);
    if (gt_train_uses_augment(c)) {
        gt_augment_opts o = gt_augment_opts_default();
        o.p = c->ada_p, o.ada_target = c->ada_target, o.ada_kimg = c->ada_kimg, o.ada_interval = c->ada_interval;
        if ((st = gt_augment_new(c->augment, &o, &t->aug)) != GT_OK) return st;
        double a[GT_AUGMENT_STATE];
        gt_augment_get_state(t->aug, a);
        memcpy(t->aug_state, a, sizeof a);
    }
    if (t->scheme->init && (st = t->scheme->init(t)) != GT_OK) return st;
    int mz = gt_scope_begin(); /* fixed_z is kept past any scope the caller has open */
    if (fam && fam->translator) { /* a translator's grid: the translations of the first items' inputs A */
        const int64_t k = t->ds && c->n_samples > t->ds->n ? t->ds->n : c->n_samples;
        gt_tensor *a = NULL;
        if (t->ds && gt_translate_pair(t->ds, 0, k, &a, NULL) != GT_OK) a = NULL;
        t->fixed_z = gt_retain(t->ds ? a : gt_full(GT_SHAPE(k, c->model.channels, c->model.res, c->model.res), -1.0f));
    } else
        t->fixed_z = gt_retain(gt_sample_latents_for(&c->model, c->seed, c->n_samples, 0.0f));
    gt_scope_end(mz);
    if (!t->fixed_z) return gt_last_status();
    st = gt__bind(t);
    if (st != GT_OK) return st;
    char *json = gt_train_config_to_json(c);
    if (!json) return gt_set_error(GT_ERR_OOM, "gt_trainer_init: out of memory");
    st = gt_ckpt_set_meta(&t->ckpt, "config", json);
    free(json);
    if (st == GT_OK) st = gt_ckpt_set_meta(&t->ckpt, "model", c->model.name);
    return st;
}

void gt_trainer_free(gt_trainer *t) {
    if (!t) return;
    gt_ddp_free(t);
    if (t->scheme && t->scheme->free) t->scheme->free(t);
    gt_train_eval_free(t);
    gt_augment_free(t->aug);
    gt_ckpt_free(&t->ckpt);
    gt_release(t->fixed_z);
    gt_adam_free(&t->opt_g);
    gt_adam_free(&t->opt_d);
    if (t->has_ema) gt_ema_free(&t->ema);
    gt_net_free(&t->G);
    gt_net_free(&t->D);
    gt_net_free(&t->G_ema);
    gt_net_free(&t->G_sample);
    gt_batcher_free(t->batcher);
    if (t->ds_owned) gt_dataset_free(t->ds);
    memset(t, 0, sizeof *t);
}

/* Mean of the logits, or of their sigmoids for the BCE loss. */
static double gt__mean_out(const gt_tensor *logits, bool sigmoid) {
    const float *p = gt_data(logits); // (N)
    int64_t n = gt_numel(logits);
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += sigmoid ? 1.0 / (1.0 + exp(-(double)p[i])) : p[i];
    return n ? s / (double)n : 0;
}

/* A double kept as its bits (checkpoint bindings). */
static double gt__dbl(uint64_t b) {
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}
static uint64_t gt__bits(double v) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* What D sees of x: the augmentation's draw from t->rng (differentiable in x), x itself without one. */
static gt_tensor *gt__aug(gt_trainer *t, gt_tensor *x) {
    return t->aug && x ? gt_augment_apply(t->aug, x, &t->rng) : x;
}

/* G at z + sigma * eps (eps ~ N(0, 1) from t->rng), batch statistics, no running ones updated: zCR's
 * perturbed fakes. */
static gt_tensor *gt__g_perturbed(gt_trainer *t, gt_tensor *z, gt_tensor *y) {
    const uint64_t rows = gt__ddp_rows_begin(t, z->shape[1]); /* data-parallel: this rank's rows of the draw */
    gt_tensor *e = gt_randn(&t->rng, z->ndim, z->shape);
    gt__ddp_rows_end(t, z->shape[1], rows);
    return e ? gt_net_forward_y(&t->G, gt_add(z, gt_mul_scalar(e, (float)t->cfg.zcr_sigma)), y, GT_BN_BATCH) : NULL;
}

/* One term of D's loss, forward and backward in a scope of its own, so its
 * activations are gone before the next term runs (as the PyTorch example's
 * errD_real.backward() before the fake forward). Accumulates into D's grads. */
/* The family's auxiliary loss on D's last forward, added to l (l unchanged without one). */
static gt_tensor *gt__plus_aux(gt_trainer *t, gt_tensor *l, gt_tensor *z, gt_tensor *y, bool real, bool for_g) {
    const gt_model_entry *e = gt_model_find(t->cfg.model.name);
    if (!l || !e || !e->aux_loss) return l;
    return gt_add(l, e->aux_loss(&t->cfg.model, t->D.aux, z, y, real, for_g));
}

/* A stateful loss's state (BEGAN's k_t) as a double. */
static double gt__state(const gt_trainer *t) {
    double k;
    memcpy(&k, &t->loss_state, sizeof k);
    return k;
}

static gt_status gt__d_term(gt_trainer *t, gt_tensor *x, gt_tensor *y, gt_tensor *z, bool real, double *loss,
                            double *mean_out) {
    const gt_train_config *c = &t->cfg;
    int m = gt_scope_begin();
    gt_tensor *lo = gt_net_forward_y(&t->D, x, y, GT_BN_TRAIN);
    const gt_loss_def *def = gt_loss_def_get(c->loss);
    gt_tensor *l = gt_gan_loss_d_part_smooth(c->loss, lo, real,
                                             (float)(def->update ? gt__state(t) : 1.0 - c->label_smooth));
    l = gt__plus_aux(t, l, z, y, real, false);
    gt_status st = l ? GT_OK : gt_last_status();
    if (st == GT_OK && real && t->aug) st = gt_augment_observe(t->aug, lo); /* ADA's r_t: D on the reals it saw */
    if (st == GT_OK) st = gt_backward(l);
    if (st == GT_OK) *loss += gt_item(l), *mean_out = gt__mean_out(lo, gt_loss_def_get(c->loss)->probs);
    gt_scope_end(m);
    return st;
}

/* The consistency regularizers' terms of D's loss added to *l (gantry/train.h): lr, lf D's outputs on
 * the real and fake batches it saw (real, fake); D's extra forwards in GT_BN_BATCH mode. */
static gt_status gt__consistency_d(gt_trainer *t, gt_tensor *real, gt_tensor *ry, gt_tensor *fake, gt_tensor *fy,
                                   gt_tensor *z, gt_tensor *lr, gt_tensor *lf, gt_tensor **l, gt_step_stats *s) {
    const gt_train_config *c = &t->cfg;
    const struct {
        double w;
        double *out;
        bool on_fake;
    } cr[] = {{c->cr, &s->cr, false}, {c->bcr_real, &s->bcr_real, false}, {c->bcr_fake, &s->bcr_fake, true}};
    for (int i = 0; i < 3 && *l; i++) { /* CR, bCR: D(x) against D(T(x)), T StudioGAN's flip + translation */
        if (!(cr[i].w > 0)) continue;
        gt_tensor *x2 = gt_cr_transform(cr[i].on_fake ? fake : real, &t->rng);
        gt_tensor *v = x2 ? gt_consistency_l2(cr[i].on_fake ? lf : lr,
                                              gt_net_forward_y(&t->D, x2, cr[i].on_fake ? fy : ry, GT_BN_BATCH))
                          : NULL;
        if (v) *cr[i].out = gt_item(v);
        *l = v ? gt_add(*l, gt_mul_scalar(v, (float)cr[i].w)) : NULL;
    }
    if (*l && c->zcr_dis > 0) { /* zCR, D's side: D(G(z)) against D(G(z + sigma eps)), G taking no gradient */
        bool prev = gt_no_grad_begin();
        gt_tensor *f2 = gt__g_perturbed(t, z, fy);
        gt_grad_mode_restore(prev);
        f2 = f2 ? gt__aug(t, f2) : NULL;
        gt_tensor *v = f2 ? gt_consistency_l2(lf, gt_net_forward_y(&t->D, f2, fy, GT_BN_BATCH)) : NULL;
        if (v) s->zcr_dis = gt_item(v);
        *l = v ? gt_add(*l, gt_mul_scalar(v, (float)c->zcr_dis)) : NULL;
    }
    if (*l && c->lecam > 0) { /* LeCam: the EMAs of D's mean outputs updated with this step's, then the term */
        double d = c->lecam_decay, er = gt__dbl(t->lecam_ema[0]), ef = gt__dbl(t->lecam_ema[1]);
        double mr = gt__mean_out(lr, false), mf = gt__mean_out(lf, false);
        if (gt__ddp_mean(t, &mr, &mf) != GT_OK) return gt_last_status(); /* data-parallel: the whole batch's */
        er = d * er + (1 - d) * mr, ef = d * ef + (1 - d) * mf;
        t->lecam_ema[0] = gt__bits(er), t->lecam_ema[1] = gt__bits(ef);
        gt_tensor *v = gt_lecam_reg(lr, lf, er, ef);
        if (v) s->lecam = gt_item(v);
        *l = v ? gt_add(*l, gt_mul_scalar(v, (float)c->lecam)) : NULL;
    }
    return *l ? GT_OK : gt_last_status();
}

/* A pairwise loss's D loss, or any loss with consistency regularizers: both forwards (both graphs
 * held), the regularizers, then one backward. */
static gt_status gt__d_pair(gt_trainer *t, gt_tensor *real, gt_tensor *ry, gt_tensor *fake, gt_tensor *fy, gt_tensor *z,
                            double *loss, gt_step_stats *s) {
    const gt_train_config *c = &t->cfg;
    const gt_loss_def *def = gt_loss_def_get(c->loss);
    const float target = (float)(def->update ? gt__state(t) : 1.0 - c->label_smooth);
    int m = gt_scope_begin();
    gt_tensor *lr = gt_net_forward_y(&t->D, real, ry, GT_BN_TRAIN);
    gt_tensor *l0 = def->d_pair ? gt_zeros(0, NULL) : gt_gan_loss_d_part_smooth(c->loss, lr, true, target);
    gt_tensor *l = gt__plus_aux(t, l0, NULL, ry, true, false);
    gt_tensor *lf = gt_net_forward_y(&t->D, fake, fy, GT_BN_TRAIN);
    if (def->d_pair) {
        l = gt__plus_aux(t, l, z, fy, false, false);
        l = gt_add(l, gt_gan_loss_d(c->loss, lr, lf));
    } else {
        l = gt_add(l, gt__plus_aux(t, gt_gan_loss_d_part_smooth(c->loss, lf, false, target), z, fy, false, false));
    }
    gt_status st = l ? GT_OK : gt_last_status();
    if (st == GT_OK && t->aug) st = gt_augment_observe(t->aug, lr);
    if (st == GT_OK && gt_train_uses_consistency(c)) st = gt__consistency_d(t, real, ry, fake, fy, z, lr, lf, &l, s);
    if (st == GT_OK) st = gt_backward(l);
    if (st == GT_OK) {
        bool p = gt_loss_def_get(c->loss)->probs;
        *loss += gt_item(l), s->d_real = gt__mean_out(lr, p), s->d_fake = gt__mean_out(lf, p);
    }
    gt_scope_end(m);
    return st;
}

/* The regularizers' weights in the config, in gt_reg_kind order. */
static double gt__reg_weight(const gt_train_config *c, int k) {
    return k == GT_REG_GP ? c->gp : k == GT_REG_DRAGAN ? c->dragan : k == GT_REG_R1 ? c->r1 : c->r2;
}

/* The original WGAN's weight clipping: every trainable D parameter (one
 * slab; the batch-norm running statistics are buffers and stay) into [-c, c]. */
static void gt__clip_d(gt_trainer *t) {
    gt_tensor *w = t->D.P.slab; /* in place: each element reads and writes its own index */
    GT_K(gt__kern(1, &w), unary)(GT_UN_CLAMP, -(float)t->cfg.clip, (float)t->cfg.clip, w->ndim, w->shape, gt__ptr(w),
                                 w->stride, gt__ptr(w));
}

/* One discriminator step on real and fake (fake carries no graph to G). */
static gt_status gt__d_step(gt_trainer *t, gt_tensor *real, gt_tensor *ry, gt_tensor *fake, gt_tensor *fy, gt_tensor *z,
                            uint64_t d_index, gt_step_stats *s) {
    const gt_train_config *c = &t->cfg;
    gt_status st = gt_params_zero_grad(&t->D.P);
    double loss = 0;
    /* what D sees: the augmented reals and fakes (independent draws); the penalties below too */
    real = gt__aug(t, real), fake = gt__aug(t, fake);
    if (!real || !fake) return gt_last_status();
    /* the regularizers, every reg_every D steps with their weights times reg_every (lazy) */
    bool reg_now = d_index % (uint64_t)(c->reg_every > 0 ? c->reg_every : 1) == 0;
    int last_reg = -1; /* data-parallel: only the last backward before the optimizer step starts allreduces */
    for (int k = 0; k < GT_REG_COUNT; k++) last_reg = reg_now && gt__reg_weight(c, k) > 0 ? k : last_reg;
    if (gt_loss_def_get(c->loss)->d_pair || gt_train_uses_consistency(c)) {
        if (last_reg < 0) gt__ddp_arm(t, &t->D.P);
        if (st == GT_OK) st = gt__d_pair(t, real, ry, fake, fy, z, &loss, s);
    } else {
        if (st == GT_OK) st = gt__d_term(t, real, ry, NULL, true, &loss, &s->d_real);
        if (last_reg < 0) gt__ddp_arm(t, &t->D.P);
        if (st == GT_OK) st = gt__d_term(t, fake, fy, z, false, &loss, &s->d_fake);
    }
    for (int k = 0; k < GT_REG_COUNT && st == GT_OK; k++) {
        double w = gt__reg_weight(c, k) * gt_reg_def_get((gt_reg_kind)k)->scale * (c->reg_every > 0 ? c->reg_every : 1);
        if (!(w > 0) || !reg_now) continue;
        if (k == last_reg) gt__ddp_arm(t, &t->D.P);
        int m = gt_scope_begin();
        const uint64_t rows = gt__ddp_rows_begin(t, k == GT_REG_GP); /* data-parallel: this rank's mixing weights */
        gt_tensor *pen = gt_reg_penalty_y((gt_reg_kind)k, &t->D, real, fake, gt_reg_def_get(k)->on_fake ? fy : ry, &t->rng);
        gt__ddp_rows_end(t, k == GT_REG_GP, rows);
        st = pen ? gt_backward(gt_mul_scalar(pen, (float)w)) : gt_last_status();
        if (st == GT_OK) s->reg[k] = gt_item(pen), loss += w * s->reg[k];
        gt_scope_end(m);
    }
    s->gp = s->reg[GT_REG_GP];
    const gt_loss_def *def = gt_loss_def_get(c->loss);
    if (st == GT_OK && def->update) { /* BEGAN's k_t, from this D step's mean energies */
        st = gt__ddp_mean(t, &s->d_real, &s->d_fake); /* data-parallel: the whole batch's means */
        double k = def->update(gt__state(t), s->d_real, s->d_fake);
        memcpy(&t->loss_state, &k, sizeof k);
        s->loss_state = k;
        s->loss_measure = def->measure ? def->measure(s->d_real, s->d_fake) : 0;
    }
    if (st == GT_OK) st = gt__ddp_reduce(t, &t->D.P); /* data-parallel: the ranks' average */
    if (st == GT_OK) st = gt_adam_step(&t->opt_d);
    if (st == GT_OK && c->clip > 0) gt__clip_d(t);
    s->loss_d = loss;
    return st;
}

/* The generator step on fake (carrying G's graph); D's weights take no gradient. */
static gt_status gt__g_step(gt_trainer *t, gt_tensor *real, gt_tensor *ry, gt_tensor *fake, gt_tensor *fy, gt_tensor *z,
                            gt_step_stats *s) {
    gt_status st = gt_params_zero_grad(&t->G.P);
    if (st != GT_OK) return st;
    gt_net_requires_grad(&t->D, false);
    int m = gt_scope_begin();
    gt_tensor *lr = NULL; /* a pairwise loss: D on the reals too (constants for G; no statistics updated) */
    if (gt_loss_def_get(t->cfg.loss)->g_pair) {
        bool prev = gt_no_grad_begin();
        gt_tensor *ra = gt__aug(t, real);
        lr = ra ? gt_net_forward_y(&t->D, ra, ry, GT_BN_BATCH) : NULL;
        gt_grad_mode_restore(prev);
    }
    gt_tensor *fa = gt__aug(t, fake); /* G's gradient flows through the augmentation */
    gt_tensor *lf = fa ? gt_net_forward_y(&t->D, fa, fy, GT_BN_TRAIN) : NULL;
    bool ready = lf && (lr || !gt_loss_def_get(t->cfg.loss)->g_pair);
    gt_tensor *loss = ready ? gt_gan_loss_g_pair(t->cfg.loss, lr, lf) : NULL;
    loss = gt__plus_aux(t, loss, z, fy, false, true); /* AC-GAN's class term, InfoGAN's information term */
    if (loss && t->cfg.zcr_gen > 0) { /* zCR, G's side: -zcr_gen * mean((G(z) - G(z + sigma eps))^2) */
        gt_tensor *v = gt_consistency_l2(fake, gt__g_perturbed(t, z, fy));
        if (v) s->zcr_gen = gt_item(v);
        loss = v ? gt_sub(loss, gt_mul_scalar(v, (float)t->cfg.zcr_gen)) : NULL;
    }
    gt__ddp_arm(t, &t->G.P);
    st = loss ? gt_backward(loss) : gt_last_status();
    if (st == GT_OK) s->loss_g = gt_item(loss);
    gt_scope_end(m);
    gt_net_requires_grad(&t->D, true);
    if (st == GT_OK) st = gt__ddp_reduce(t, &t->G.P);
    if (st == GT_OK) st = gt_adam_step(&t->opt_g);
    return st;
}

static gt_status gt__check_batch(const gt_trainer *t, gt_tensor *real, gt_tensor *z) {
    const gt_model_config *m = &t->cfg.model;
    char a[64], b[64];
    if (!real || !z) return gt_set_error(GT_ERR_ARG, "gt_trainer_step_on: a real batch or latent batch is NULL");
    if (real->ndim != 4 || real->shape[1] != m->channels || real->shape[2] != m->res || real->shape[3] != m->res ||
        z->ndim != 2 || z->shape[1] != m->nz || z->shape[0] < 1)
        return gt_set_error(GT_ERR_SHAPE, "gt_trainer_step_on: real %s / latents %s, want (N, %d, %d, %d) / (M, %d)",
                            gt_shape_str(real, a, sizeof a), gt_shape_str(z, b, sizeof b), m->channels, m->res,
                            m->res, m->nz);
    return GT_OK;
}

gt_status gt_trainer_step_on(gt_trainer *t, gt_tensor *const *reals, gt_tensor *const *z, gt_step_stats *stats) {
    return gt_trainer_step_on_y(t, reals, NULL, z, NULL, stats);
}

/* The default scheme's step: n_critic D steps, then G's on the last critic step's fakes. */
static gt_status gt__default_step(gt_trainer *t, gt_tensor *const *reals, gt_tensor *const *real_y,
                                  gt_tensor *const *z, gt_tensor *const *fake_y, gt_step_stats *stats) {
    const int nc = t->cfg.n_critic;
    gt_step_stats s;
    memset(&s, 0, sizeof s);
    gt_status st = GT_OK;
    gt_tensor *fake = NULL; // (B, C, res, res) of the last critic step, with G's graph
#define GT__Y(a, i) ((a) ? (a)[i] : NULL)
    for (int i = 0; i < nc && st == GT_OK; i++) {
        bool last = i == nc - 1;
        int mi = last ? -1 : gt_scope_begin();
        bool prev = last ? true : gt_no_grad_begin(); /* only the last fake feeds G's step */
        fake = gt_net_forward_y(&t->G, z[i], GT__Y(fake_y, i), GT_BN_TRAIN);
        if (!last) gt_grad_mode_restore(prev);
        st = fake ? gt__d_step(t, reals[i], GT__Y(real_y, i), gt_detach(fake), GT__Y(fake_y, i), z[i],
                               t->step * (uint64_t)nc + (uint64_t)i, &s)
                  : gt_last_status();
        if (!last) gt_scope_end(mi);
    }
    if (st == GT_OK) st = gt__g_step(t, reals[nc - 1], GT__Y(real_y, nc - 1), fake, GT__Y(fake_y, nc - 1), z[nc - 1], &s);
#undef GT__Y
    if (t->aug) s.aug_p = gt_augment_p(t->aug), s.ada_rt = gt_augment_rt(t->aug);
    *stats = s;
    return st;
}

/* The schemes: a family with a row here trains with its own step (gantry/train.h). */
const gt_train_scheme gt_train_scheme_default = {
    NULL, "n_critic D steps, then one G step on the last fake batch", NULL, NULL, gt__default_step, NULL,
};
static const gt_train_scheme *const gt__schemes[] = {
    &gt_train_scheme_anycost,
    &gt_train_scheme_pix2pix,
};

const gt_train_scheme *gt_train_scheme_for(const char *family) {
    for (size_t i = 0; family && i < sizeof gt__schemes / sizeof *gt__schemes; i++)
        if (strcmp(gt__schemes[i]->family, family) == 0) return gt__schemes[i];
    return &gt_train_scheme_default;
}

gt_status gt_trainer_step_on_y(gt_trainer *t, gt_tensor *const *reals, gt_tensor *const *real_y, gt_tensor *const *z,
                               gt_tensor *const *fake_y, gt_step_stats *stats) {
    if (!t || !t->G.ops || !reals || !z) return gt_set_error(GT_ERR_ARG, "gt_trainer_step_on: trainer not ready");
    const int nc = t->cfg.n_critic;
    const bool cond = t->cfg.model.n_classes > 0;
    if (cond && (!real_y || !fake_y))
        return gt_set_error(GT_ERR_ARG, "gt_trainer_step_on: conditional model %s needs the labels of reals and fakes",
                            t->cfg.model.name);
    for (int i = 0; i < nc; i++) {
        gt_status st = gt__check_batch(t, reals[i], z[i]);
        if (st != GT_OK) return st;
    }
    gt_step_stats s;
    memset(&s, 0, sizeof s);
    int m = gt_scope_begin();
    const gt_train_scheme *sc = t->scheme ? t->scheme : &gt_train_scheme_default;
    const gt_precision prec = gt_precision_get(); /* the step at the run's precision, then back */
    gt_status st = gt_precision_set((gt_precision)t->cfg.precision);
    if (st == GT_OK) st = sc->step(t, reals, real_y, z, fake_y, &s);
    gt_precision_set(prec);
    if (st == GT_OK && t->has_ema) {
        /* warm-up (as TensorFlow's ExponentialMovingAverage with num_updates):
         * early averages do not drag in the random initial weights */
        double w = (1.0 + (double)t->step) / (10.0 + (double)t->step);
        st = gt_ema_update_with(&t->ema, w < t->cfg.ema ? w : t->cfg.ema);
    }
    gt_scope_end(m);
    if (st != GT_OK) return st;
    t->step++;
    if (stats) *stats = s;
    return GT_OK;
}

gt_status gt_trainer_step(gt_trainer *t, gt_step_stats *stats) {
    if (!t || !t->G.ops) return gt_set_error(GT_ERR_STATE, "gt_trainer_step: trainer not initialised");
    if (!t->batcher) return gt_set_error(GT_ERR_STATE, "gt_trainer_step: no dataset (config.data is empty)");
    if (t->ddp) { /* data-parallel: this rank's shard (src/train/ddp.c), at the run's precision */
        const gt_precision prec = gt_precision_get();
        gt_status st = gt_precision_set((gt_precision)t->cfg.precision);
        if (st == GT_OK) st = gt__ddp_step(t, stats);
        gt_precision_set(prec);
        return st;
    }
    enum { GT__MAX_CRITIC = 64 };
    gt_tensor *reals[GT__MAX_CRITIC], *z[GT__MAX_CRITIC], *ry[GT__MAX_CRITIC], *fy[GT__MAX_CRITIC];
    gt_tensor *a[GT__MAX_CRITIC]; /* paired data: the reals' inputs A (NULL otherwise) */
    const int K = t->cfg.model.n_classes; /* conditional: the reals' labels, and random classes for the fakes */
    int m = gt_scope_begin();
    gt_status st = GT_OK;
    for (int i = 0; i < t->cfg.n_critic && st == GT_OK; i++) {
        st = gt_batcher_next_pair(t->batcher, &reals[i], K ? &ry[i] : NULL, &a[i]);
        z[i] = st == GT_OK ? gt_model_sample_latents(&t->cfg.model, &t->rng, t->cfg.batch) : NULL;
        fy[i] = st == GT_OK && K ? gt_labels_random(&t->rng, t->cfg.batch, K) : NULL;
        if (st == GT_OK && (!z[i] || (K && (!fy[i] || !ry[i])))) st = gt_last_status() ? gt_last_status() : GT_ERR_ARG;
    }
    if (st == GT_OK) {
        t->inputs = t->ds->pixels_a ? a : NULL;
        st = gt_trainer_step_on_y(t, reals, K ? ry : NULL, z, K ? fy : NULL, stats);
        t->inputs = NULL;
    }
    gt_scope_end(m);
    return st;
}

gt_status gt_trainer_save(gt_trainer *t, const char *path) {
    if (!t || !t->G.ops || !path) return gt_set_error(GT_ERR_ARG, "gt_trainer_save: trainer or path is NULL");
    if (t->batcher) {
        gt_batcher_state bs = gt_batcher_get_state(t->batcher);
        t->batcher_state[0] = bs.seed, t->batcher_state[1] = (uint64_t)bs.epoch;
        t->batcher_state[2] = (uint64_t)bs.position;
    }
    if (t->aug) {
        double a[GT_AUGMENT_STATE];
        gt_augment_get_state(t->aug, a);
        memcpy(t->aug_state, a, sizeof a);
    }
    return gt_ckpt_save(&t->ckpt, path);
}

gt_status gt_trainer_load(gt_trainer *t, const char *path) {
    if (!t || !t->G.ops || !path) return gt_set_error(GT_ERR_ARG, "gt_trainer_load: trainer or path is NULL");
    /* a distillation's checkpoint also holds its 1x1 convs ("distill." tensors, gantry/distill.h):
       a training run of the student goes on without them */
    gt_safetensors f;
    gt_st_init(&f);
    gt_status st = gt_st_load(&f, path);
    if (st == GT_OK) st = gt_ckpt_apply(&t->ckpt, &f, gt_st_get_meta(&f, "distill") ? GT_CKPT_ALLOW_EXTRA : 0);
    gt_st_free(&f);
    if (st != GT_OK) return st;
    /* the load brought the file's metadata: the next save describes this run's config */
    char *json = gt_train_config_to_json(&t->cfg);
    if (!json) return gt_set_error(GT_ERR_OOM, "gt_trainer_load: out of memory");
    st = gt_ckpt_set_meta(&t->ckpt, "config", json);
    free(json);
    if (st != GT_OK) return st;
    if (t->aug) {
        double a[GT_AUGMENT_STATE];
        memcpy(a, t->aug_state, sizeof a);
        if ((st = gt_augment_set_state(t->aug, a)) != GT_OK) return st;
    }
    if (t->batcher) {
        gt_batcher_state bs = {.seed = t->batcher_state[0],
                               .epoch = (int64_t)t->batcher_state[1],
                               .position = (int64_t)t->batcher_state[2]};
        if (bs.epoch < 0 || bs.position < 0)
            return gt_set_error(GT_ERR_FORMAT, "%s: data.batcher state (epoch %lld, position %lld) is not valid", path,
                                (long long)bs.epoch, (long long)bs.position);
        st = gt_batcher_set_state(t->batcher, bs);
        if (st != GT_OK) return st;
    }
    return GT_OK;
}

gt_status gt_trainer_prepare_sampler(gt_trainer *t) {
    if (!t || !t->G.ops) return gt_set_error(GT_ERR_STATE, "gt_trainer_sample: trainer not initialised");
    gt_status st = gt_params_copy(&t->G_sample.P, t->has_ema ? &t->G_ema.P : &t->G.P);
    const gt_model_entry *fam = gt_model_find(t->cfg.model.name);
    if (st == GT_OK && !(fam && fam->translator)) /* a translator keeps its running statistics */
        st = gt_recalibrate_bn(&t->G_sample, GT__RECAL_SEED, GT__RECAL_BATCHES, 64);
    return st;
}

gt_tensor *gt_trainer_sample(gt_trainer *t, gt_tensor *z) {
    const gt_model_entry *fam = t ? gt_model_find(t->cfg.model.name) : NULL;
    if (gt_trainer_prepare_sampler(t) != GT_OK) return NULL;
    return fam && fam->translator ? gt_translate(&t->G_sample, z) : gt_generate(&t->G_sample, z);
}
