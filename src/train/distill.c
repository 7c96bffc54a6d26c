/* Distillation (gantry/distill.h): a student generator trained by the trainer of its config with
 * a step of its own: the teacher's D (starting from the teacher checkpoint's) keeps training on
 * the reals against the student's and the teacher's fakes, and the student minimises the GAN loss
 * against it plus reconstruction (L1 to the teacher's output on the same latents), feature
 * distillation (1x1 convs from its taps to the teacher's, MSE), DCD (L1 between D's features of
 * the two outputs) and optionally CRD's relations between the samples of a batch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill_internal.h"
#include "gantry/translate.h"

#define GT__ADAPT_SEED 0xAD0A7E5ull
#define GT__RECAL_SEED 0x5EEDull

enum { GT__L_GAN, GT__L_RECON, GT__L_FEAT, GT__L_DCD, GT__L_CRD, GT__L_N };
static const char *const gt__l_names[GT__L_N] = {"gan", "recon", "feat", "dcd", "crd"};

typedef struct {
    gt_distill_opts o;
    gt_train_config tcfg, scfg; /* the teacher's config; the student's, resolved */
    gt_net TG, TD; /* teacher G (eval, recalibrated) and the checkpoint's D */
    gt_net IG; /* the init checkpoint's G (init given) */
    bool has_init;
    bool translator;   /* G maps edges(reals) to images; D sees input | image, patch logits */
    double lambda_l1;  /* a translator's own L1 to the ground truth (its lambda_l1 option) */
    gt_distill_pairs pairs;
    int s_shape[GT_NET_TAPS_MAX][3], t_shape[GT_NET_TAPS_MAX][3], n_s, n_t, n_dtaps;
    gt_params A; /* the 1x1 convs, one per pair */
    gt_nn_conv2d adapt[GT_DISTILL_PAIRS_MAX];
    gt_adam opt_a;
    bool a_ready;
    double sum[GT__L_N]; /* since the last log interval */
    int64_t count;
    FILE *log; /* <out>/distill.jsonl */
    gt__ofa ofa; /* o.ofa: the supernet's groups and this step's sub-network */
    bool ofa_ready;
} gt__dist;

void gt_distill_opts_default(gt_distill_opts *o) {
    memset(o, 0, sizeof *o);
    o->w_feat = 1.0, o->w_recon = 10.0, o->w_gan = 0.1, o->w_dcd = 1.0, o->w_crd = 0.0;
}

/* --- setup --------------------------------------------------------------------------------------- */
/* GT_ERR_ARG "key: <the last error>" (the CLI names the flag from key). */
static gt_status gt__blame(const char *key) {
    char msg[800];
    snprintf(msg, sizeof msg, "%s", gt_last_error());
    return gt_set_error(GT_ERR_ARG, "%s: %s", key, msg);
}

static gt_status gt__read_config(const char *path, gt_train_config *c) {
    void *buf = NULL;
    size_t n = 0;
    if (gt_read_file(path, &buf, &n, 1 << 20) != GT_OK) return gt__blame("student");
    *c = gt_train_config_default();
    gt_status st = gt_train_config_from_json(c, buf, path);
    free(buf);
    if (st == GT_OK) st = gt_train_config_check(c);
    if (st != GT_OK) return gt__blame("student");
    return GT_OK;
}

/* The teacher's D from its checkpoint's "D." entries. */
static gt_status gt__load_d(const char *path, const gt_train_config *c, gt_net *D) {
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt_st_load(&s, path);
    gt_rng r;
    gt_rng_init(&r, 0);
    if (st == GT_OK) st = gt_model_build(&c->model, GT_NET_D, &r, D);
    if (st == GT_OK) {
        char first[300];
        snprintf(first, sizeof first, "D.%s", D->P.v[0].name);
        if (!gt_st_find(&s, first)) {
            gt_st_free(&s);
            return gt_set_error(GT_ERR_ARG,
                                "teacher: %s holds no discriminator (no %s): distillation needs a "
                                "training checkpoint with its D",
                                path, first);
        }
        gt_ckpt k;
        gt_ckpt_init(&k);
        st = gt_ckpt_add_params(&k, "D.", &D->P);
        if (st == GT_OK) st = gt_ckpt_apply(&k, &s, GT_CKPT_ALLOW_EXTRA);
        gt_ckpt_free(&k);
    }
    gt_st_free(&s);
    if (st != GT_OK) return gt__blame("teacher");
    return GT_OK;
}

/* One forward of net on x with its taps on, recording their (C, H, W); returns the output. */
static gt_tensor *gt__probe(gt_net *net, gt_tensor *x, gt_bn_mode mode, int (*shape)[3], int *n) {
    net->tap_on = true;
    gt_tensor *y = gt_net_forward(net, x, mode);
    net->tap_on = false;
    *n = y ? net->n_taps : 0;
    for (int i = 0; i < *n; i++) {
        gt_tensor *h = net->taps[i];
        shape[i][0] = h->ndim > 1 ? (int)h->shape[1] : 1;
        shape[i][1] = h->ndim > 2 ? (int)h->shape[2] : 1;
        shape[i][2] = h->ndim > 3 ? (int)h->shape[3] : 1;
    }
    return y;
}

/* What D sees of image x: x, or a translator's input a and x concatenated on channels. */
static gt_tensor *gt__dcat(const gt__dist *d, gt_tensor *a, gt_tensor *x) {
    return d->translator && a && x ? gt_concat(2, (gt_tensor *[]){a, x}, 1) : x;
}

/* BCE with logits against a constant target over every (patch) logit. */
static gt_tensor *gt__bce(gt_tensor *logits, float target) {
    return logits ? gt_bce_with_logits(logits, gt_full(logits->ndim, logits->shape, target)) : NULL;
}

/* Everything that can be checked before the data is opened and anything written. cfg_json: a resumed
 * run's student config (its checkpoint's), else NULL (the student config file or init's). */
static gt_status gt__prepare(gt__dist *d, const gt_distill_opts *o, const char *cfg_json) {
    memset(d, 0, sizeof *d);
    d->o = *o;
    const struct {
        const char *name;
        double w;
    } ws[] = {
        {"w_feat", o->w_feat}, {"w_recon", o->w_recon}, {"w_gan", o->w_gan}, {"w_dcd", o->w_dcd}, {"w_crd", o->w_crd}};
    for (size_t i = 0; i < sizeof ws / sizeof *ws; i++)
        if (!(ws[i].w >= 0) || !isfinite(ws[i].w))
            return gt_set_error(GT_ERR_ARG, "%s: a loss weight must be a finite number >= 0, got %g", ws[i].name,
                                ws[i].w);
    if (o->steps < 0)
        return gt_set_error(GT_ERR_ARG, "steps: must be >= 0 (0: the student config's), got %lld", (long long)o->steps);
    if (o->anneal < 0)
        return gt_set_error(GT_ERR_ARG, "anneal: must be >= 0 (0: constant weights), got %lld", (long long)o->anneal);
    if (o->batch < 0)
        return gt_set_error(GT_ERR_ARG, "batch: must be >= 0 (0: the student config's), got %d", o->batch);
    if (!o->teacher || !o->teacher[0]) return gt_set_error(GT_ERR_ARG, "teacher: no teacher checkpoint given");
    if (!cfg_json && (!o->student_config || !o->student_config[0]) && (!o->init || !o->init[0]))
        return gt_set_error(GT_ERR_ARG,
                            "student: give a student config (or an init checkpoint whose config is the student)");

    /* the teacher: G (the EMA one when saved) with recalibrated statistics, and D */
    bool ema = false;
    if (gt_load_generator(o->teacher, true, &d->TG, &d->tcfg, &ema) != GT_OK) return gt__blame("teacher");
    const gt_model_entry *fam = gt_model_find(d->tcfg.model.name);
    if (!fam) return gt__blame("teacher");
    d->translator = fam->translator;
    if (fam->conditional || fam->d_energy || fam->aux_loss)
        return gt_set_error(GT_ERR_ARG,
                            "teacher: model %s (conditional, auxiliary or energy discriminator) is not "
                            "supported by distillation; unconditional families with a logit D are",
                            fam->name);
    /* a translator's batch norms (if any) keep their training statistics: no latents to recalibrate with */
    if (!d->translator && gt_recalibrate_bn(&d->TG, GT__RECAL_SEED, 8, 64) != GT_OK) return gt__blame("teacher");
    gt_status st = gt__load_d(o->teacher, &d->tcfg, &d->TD);
    if (st != GT_OK) return st;

    /* the student's config: a resumed run's, the file, else the init checkpoint's */
    if (cfg_json) {
        d->scfg = gt_train_config_default();
        st = gt_train_config_from_json(&d->scfg, cfg_json, "the checkpoint's config");
        if (st == GT_OK) st = gt_train_config_check(&d->scfg);
        if (st != GT_OK) return gt__blame("out");
    } else if (o->student_config && o->student_config[0]) {
        st = gt__read_config(o->student_config, &d->scfg);
        if (st != GT_OK) return st;
    }
    if (o->init && o->init[0]) {
        gt_train_config icfg;
        if (gt_load_generator(o->init, true, &d->IG, &icfg, NULL) != GT_OK) return gt__blame("init");
        d->has_init = true;
        if (strcmp(icfg.model.name, d->tcfg.model.name) != 0)
            return gt_set_error(GT_ERR_ARG,
                                "init: %s holds a %s generator, the teacher %s a %s one: a student of "
                                "another family cannot be distilled from it",
                                o->init, icfg.model.name, o->teacher, d->tcfg.model.name);
        if (!o->student_config || !o->student_config[0]) d->scfg = icfg;
    }
    gt_train_config *c = &d->scfg;
    if (strcmp(c->model.name, d->tcfg.model.name) != 0)
        return gt_set_error(GT_ERR_ARG,
                            "student: the student is a %s, the teacher a %s: distillation maps layers "
                            "within one family",
                            c->model.name, d->tcfg.model.name);
    const gt_model_config *sm = &c->model, *tm = &d->tcfg.model;
    if (sm->res != tm->res || sm->channels != tm->channels || (!d->translator && sm->nz != tm->nz))
        return gt_set_error(GT_ERR_ARG,
                            "student: its images (%d channels, %d px) from %d latents differ from the "
                            "teacher's (%d, %d px, %d latents): outputs must match",
                            sm->channels, sm->res, sm->nz, tm->channels, tm->res, tm->nz);
    if (gt_train_scheme_for(sm->name) != &gt_train_scheme_default && !d->translator)
        return gt_set_error(GT_ERR_ARG,
                            "student: model %s trains with its own scheme; distillation runs the default "
                            "one (or a translator's)",
                            sm->name);
    if (d->translator && c->loss != GT_LOSS_NS)
        return gt_set_error(GT_ERR_ARG, "student: a translator distils with the BCE (ns) loss over patches, not %s",
                            gt_loss_name(c->loss));
    d->lambda_l1 = d->translator ? gt_model_opt(sm, "lambda_l1") : 0;
    if (!(d->lambda_l1 >= 0)) d->lambda_l1 = 0;
    const gt_loss_def *ld = gt_loss_def_get(c->loss);
    if (!ld || !ld->d_part || ld->energy || ld->update)
        return gt_set_error(GT_ERR_ARG,
                            "student: loss %s is not supported by distillation (use a separable one: ns, "
                            "hinge, ls, minimax, wgan)",
                            gt_loss_name(c->loss));
    if (c->gp > 0 || c->dragan > 0 || c->r1 > 0 || c->r2 > 0)
        return gt_set_error(GT_ERR_ARG, "student: regularizers (gp, dragan, r1, r2) are not supported by distillation");
    if (o->data && o->data[0]) snprintf(c->data, sizeof c->data, "%s", o->data);
    if (!c->data[0]) snprintf(c->data, sizeof c->data, "%s", d->tcfg.data);
    if (o->steps > 0) c->steps = o->steps;
    if (o->batch > 0) c->batch = o->batch;
    if (o->log_every > 0) c->log_every = o->log_every;
    if (!cfg_json) c->seed = o->seed; /* a resumed run keeps its config's */
    if (o->w_crd > 0 && c->batch < 3)
        return gt_set_error(GT_ERR_ARG, "w_crd: CRD's angles need a batch of >= 3, the student's is %d", c->batch);
    if (gt_train_config_check(c) != GT_OK) return gt__blame("student");

    /* the student's nets as its config builds them: D must be the teacher's, an init G the student's */
    gt_net SG, SD;
    memset(&SG, 0, sizeof SG), memset(&SD, 0, sizeof SD);
    gt_rng r;
    gt_rng_init(&r, 1);
    st = gt_model_build(&c->model, GT_NET_G, &r, &SG);
    if (st == GT_OK) st = gt_model_build(&c->model, GT_NET_D, &r, &SD);
    if (st != GT_OK) {
        gt_net_free(&SG), gt_net_free(&SD);
        return gt__blame("student");
    }
    if (!gt_params_same_layout(&SD.P, &d->TD.P))
        st = gt_set_error(GT_ERR_ARG,
                          "student: its discriminator differs from the teacher's; the online D starts "
                          "from the teacher's, so keep the teacher's D options (ndf %g, d_norm)",
                          gt_model_opt(tm, "ndf"));
    else if (o->ofa && gt_prune_groups(&SG, (gt_channel_group[GT_PRUNE_GROUPS_MAX]){0}, GT_PRUNE_GROUPS_MAX) < 0)
        st = gt__blame("ofa");
    else if (d->has_init && !gt_params_same_layout(&SG.P, &d->IG.P))
        st = gt_set_error(GT_ERR_ARG, "init: %s's generator does not have the student config's layers (widths)",
                          o->init);
    /* taps: one small forward of each generator and of D */
    int m = gt_scope_begin();
    bool prev = gt_no_grad_begin();
    gt_tensor *z = NULL;
    if (st == GT_OK && d->translator) { /* edges of noise images */
        gt_rng_init(&r, 7);
        z = gt_edges(gt_clamp(gt_randn(&r, GT_SHAPE(4, tm->channels, tm->res, tm->res)), -1.0f, 1.0f));
    } else if (st == GT_OK) {
        z = gt_sample_latents_for(tm, 7, 4, 0.0f);
    }
    gt_tensor *xs = z ? gt__probe(&SG, z, GT_BN_BATCH, d->s_shape, &d->n_s) : NULL;
    gt_tensor *xt = xs ? gt__probe(&d->TG, z, GT_BN_EVAL, d->t_shape, &d->n_t) : NULL;
    int dshape[GT_NET_TAPS_MAX][3];
    if (xt && !gt__probe(&d->TD, gt__dcat(d, z, xt), GT_BN_BATCH, dshape, &d->n_dtaps)) xt = NULL;
    if (st == GT_OK && !xt) st = gt__blame("student: a trial forward failed");
    if (st == GT_OK && !gt_same_shape(xs, xt))
        st = gt_set_error(GT_ERR_ARG, "student: its output shape differs from the teacher's");
    gt_grad_mode_restore(prev);
    gt_scope_end(m);
    gt_net_free(&SG), gt_net_free(&SD);
    if (st != GT_OK) return st;
    if (o->w_dcd > 0 && d->n_dtaps < 1)
        return gt_set_error(GT_ERR_ARG, "w_dcd: the %s discriminator records no features (taps) for DCD", tm->name);
    if (o->w_feat > 0 || (o->feat_layers && o->feat_layers[0])) {
        st = gt_distill_pair_taps(o->feat_layers, (const int(*)[3])d->s_shape, d->n_s, (const int(*)[3])d->t_shape,
                                  d->n_t, &d->pairs);
        if (st != GT_OK) return st;
    }
    return GT_OK;
}

static void gt__free(gt__dist *d) {
    if (d->log) fclose(d->log);
    if (d->ofa_ready) gt__ofa_free(&d->ofa);
    if (d->a_ready) gt_adam_free(&d->opt_a);
    gt_params_free(&d->A);
    gt_net_free(&d->TG), gt_net_free(&d->TD), gt_net_free(&d->IG);
    memset(d, 0, sizeof *d);
}

gt_status gt_distill_check(const gt_distill_opts *o) {
    if (!o) return gt_set_error(GT_ERR_ARG, "gt_distill_check: options are NULL");
    gt__dist *d = calloc(1, sizeof *d);
    if (!d) return gt_set_error(GT_ERR_OOM, "distill: out of memory");
    gt__distill_saved sv;
    gt_distill_opts ro;
    gt_status st = o->resume ? gt__distill_read_saved(o, &sv, &ro) : GT_OK;
    if (st == GT_OK) st = gt__prepare(d, o->resume ? &ro : o, o->resume ? sv.config : NULL);
    if (o->resume) gt__distill_saved_free(&sv);
    gt__free(d);
    free(d);
    return st;
}

/* --- the step ------------------------------------------------------------------------------------ */
static double gt__mean_out(const gt_tensor *logits, bool sigmoid) {
    const float *p = gt_data(logits);
    int64_t n = gt_numel(logits);
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += sigmoid ? 1.0 / (1.0 + exp(-(double)p[i])) : p[i];
    return n ? s / (double)n : 0;
}

/* One term of D's loss with weight w on image x (a: a translator's input), forward and backward in its
 * own scope (gradients accumulate). A translator's D: BCE over every patch logit. */
static gt_status gt__d_term(gt_trainer *t, const gt__dist *d, gt_tensor *a, gt_tensor *x, bool real, float w,
                            double *loss, double *mean_out) {
    const gt_train_config *c = &t->cfg;
    int m = gt_scope_begin();
    gt_tensor *lo = gt_net_forward(&t->D, gt__dcat(d, a, x), GT_BN_TRAIN);
    gt_tensor *l = d->translator ? gt__bce(lo, real ? 1.0f : 0.0f)
                                 : gt_gan_loss_d_part_smooth(c->loss, lo, real, (float)(1.0 - c->label_smooth));
    gt_status st = l ? gt_backward(gt_mul_scalar(l, w)) : gt_last_status();
    if (st == GT_OK) {
        *loss += w * gt_item(l);
        if (mean_out) *mean_out = gt__mean_out(lo, d->translator || gt_loss_def_get(c->loss)->probs);
    }
    gt_scope_end(m);
    return st;
}

/* D on the reals against the student's fakes and the teacher's (each fake term weighted 1/2; with
 * d_student_only the student's alone at 1; a translator's D loss is halved as pix2pix's). */
static gt_status gt__d_step(gt_trainer *t, const gt__dist *d, gt_tensor *a, gt_tensor *real, gt_tensor *sfake,
                            gt_tensor *tfake, gt_step_stats *s) {
    double loss = 0;
    const float k = d->translator ? 0.5f : 1.0f;
    gt_status st = gt_params_zero_grad(&t->D.P);
    if (st == GT_OK) st = gt__d_term(t, d, a, real, true, k, &loss, &s->d_real);
    const bool both = !d->o.d_student_only;
    if (st == GT_OK) st = gt__d_term(t, d, a, sfake, false, both ? 0.5f * k : k, &loss, &s->d_fake);
    if (st == GT_OK && both) st = gt__d_term(t, d, a, tfake, false, 0.5f * k, &loss, NULL);
    if (st == GT_OK) st = gt_adam_step(&t->opt_d);
    if (st == GT_OK && t->cfg.clip > 0) {
        const float cl = (float)t->cfg.clip;
        float *w = gt_data(t->D.P.slab);
        for (int64_t i = 0, n = t->D.P.numel; i < n; i++) w[i] = w[i] > cl ? cl : w[i] < -cl ? -cl : w[i];
    }
    s->loss_d = loss;
    return st;
}

/* The student's loss on its fakes (with G's graph and taps stap[]) from input a (a translator's; else
 * NULL) with the ground truth real (a translator's L1 term), and the teacher's output tf (taps ttap[]). */
/* The distillation terms' share at step (anneal: linear from 1 to 0 at step o->anneal; else 1). */
static double gt__anneal_factor(const gt_distill_opts *o, uint64_t step) {
    return o->anneal > 0 ? fmax(0.0, 1.0 - (double)step / (double)o->anneal) : 1.0;
}

/* G: the student net that made fake (t->G, or with --ofa this step's sub-network of it). */
static gt_status gt__g_step(gt_trainer *t, gt__dist *d, gt_net *G, gt_tensor *a, gt_tensor *real, gt_tensor *fake,
                            gt_tensor *const *stap, gt_tensor *tf, gt_tensor *const *ttap, gt_step_stats *s) {
    const gt_distill_opts *o = &d->o;
    const double f = gt__anneal_factor(o, t->step);
    const double w[GT__L_N] = {o->w_gan, f * o->w_recon, f * o->w_feat, f * o->w_dcd, f * o->w_crd};
    gt_status st = gt_params_zero_grad(&G->P);
    if (st == GT_OK && d->A.finalized) st = gt_params_zero_grad(&d->A);
    if (st != GT_OK) return st;
    gt_net_requires_grad(&t->D, false);
    int m = gt_scope_begin();
    double part[GT__L_N] = {0};
    gt_tensor *terms[GT__L_N] = {NULL};
    t->D.tap_on = w[GT__L_DCD] > 0;
    gt_tensor *lf = gt_net_forward(&t->D, gt__dcat(d, a, fake), GT_BN_TRAIN);
    gt_tensor *ds[GT_NET_TAPS_MAX];
    int nd = t->D.n_taps;
    for (int i = 0; i < nd; i++) ds[i] = t->D.taps[i];
    if (d->translator) /* the family's own G loss: BCE over patches + lambda_l1 |G(A) - B| */
        terms[GT__L_GAN] = lf ? gt_add(gt__bce(lf, 1.0f), gt_mul_scalar(gt_l1_loss(fake, real), (float)d->lambda_l1))
                              : NULL;
    else
        terms[GT__L_GAN] = lf ? gt_gan_loss_g(t->cfg.loss, lf) : NULL;
    if (w[GT__L_DCD] > 0 && lf) {
        bool prev = gt_no_grad_begin();
        gt_tensor *lt = gt_net_forward(&t->D, gt__dcat(d, a, tf), GT_BN_BATCH);
        gt_grad_mode_restore(prev);
        terms[GT__L_DCD] = lt && t->D.n_taps == nd ? gt_distill_dcd_loss(ds, t->D.taps, nd) : NULL;
        if (lt && t->D.n_taps != nd) gt_set_error(GT_ERR_STATE, "distill: D recorded %d and %d taps", nd, t->D.n_taps);
    }
    t->D.tap_on = false;
    if (w[GT__L_RECON] > 0) terms[GT__L_RECON] = gt_distill_recon_loss(fake, tf);
    for (int k = 0; k < d->pairs.n && w[GT__L_FEAT] > 0; k++) {
        gt_tensor *sf = stap[d->pairs.s[k]], *aw = d->adapt[k].weight;
        if (sf && sf->ndim == 4 && sf->shape[1] < aw->shape[1]) /* a supernet's sub-network: its first channels */
            aw = gt_contiguous(gt_slice(aw, 1, 0, sf->shape[1], 1));
        gt_tensor *l = gt_distill_feat_loss(sf, ttap[d->pairs.t[k]], aw, d->adapt[k].bias);
        terms[GT__L_FEAT] = k ? gt_add(terms[GT__L_FEAT], l) : l;
    }
    if (w[GT__L_CRD] > 0) terms[GT__L_CRD] = gt_crd_loss(fake, tf);
    gt_tensor *total = NULL;
    for (int k = 0; k < GT__L_N; k++) {
        bool on = k == GT__L_GAN || w[k] > 0; /* the GAN term is computed (and logged) even at weight 0 */
        if (!on || (k == GT__L_FEAT && d->pairs.n == 0)) continue;
        if (!terms[k]) {
            total = NULL;
            break;
        }
        part[k] = gt_item(terms[k]);
        gt_tensor *x = gt_mul_scalar(terms[k], (float)w[k]);
        total = total ? gt_add(total, x) : x;
    }
    st = total ? gt_backward(total) : gt_last_status() ? gt_last_status() : GT_ERR_STATE;
    if (st == GT_OK) {
        s->loss_g = gt_item(total);
        s->distill = s->loss_g - w[GT__L_GAN] * part[GT__L_GAN];
        for (int k = 0; k < GT__L_N; k++) d->sum[k] += part[k];
        d->count++;
    }
    gt_scope_end(m);
    gt_net_requires_grad(&t->D, true);
    if (st == GT_OK && G != &t->G) st = gt__ofa_back(&d->ofa, &t->G);
    if (st == GT_OK) st = gt_adam_step(&t->opt_g);
    if (st == GT_OK && d->a_ready && w[GT__L_FEAT] > 0) st = gt_adam_step(&d->opt_a);
    return st;
}

static gt_status gt__step(gt_trainer *t, gt_tensor *const *reals, gt_tensor *const *real_y, gt_tensor *const *z,
                          gt_tensor *const *fake_y, gt_step_stats *stats) {
    (void)real_y, (void)fake_y; /* unconditional families and translators only (gt__prepare) */
    gt__dist *d = t->scheme_state;
    const int nc = t->cfg.n_critic;
    gt_step_stats s;
    memset(&s, 0, sizeof s);
    gt_status st = GT_OK;
    /* the taps only while the feature term counts (not after an anneal) */
    const bool feat = d->o.w_feat * gt__anneal_factor(&d->o, t->step) > 0 && d->pairs.n > 0;
    gt_tensor *a = NULL, *fake = NULL, *tf = NULL;
    gt_tensor *stap[GT_NET_TAPS_MAX] = {NULL}, *ttap[GT_NET_TAPS_MAX] = {NULL};
    gt_net *G = &t->G;
    if (d->ofa_ready) st = gt__ofa_begin(&d->ofa, &t->G, t->cfg.seed, t->step, &G);
    for (int i = 0; i < nc && st == GT_OK; i++) {
        bool last = i == nc - 1;
        int mi = last ? -1 : gt_scope_begin();
        /* a translator's input: the data's A of the reals (paired), else their edges */
        a = d->translator ? gt_translate_input(reals[i], t->inputs ? t->inputs[i] : NULL) : NULL;
        gt_tensor *in = d->translator ? a : z[i];
        bool prev = last ? true : gt_no_grad_begin();
        G->tap_on = last && feat;
        fake = in ? gt_net_forward(G, in, GT_BN_TRAIN) : NULL;
        G->tap_on = false;
        for (int k = 0; fake && last && feat && k < G->n_taps; k++) stap[k] = G->taps[k];
        if (!last) gt_grad_mode_restore(prev);
        bool pg = gt_no_grad_begin(); /* the teacher: a constant */
        d->TG.tap_on = last && feat;
        tf = fake ? gt_net_forward(&d->TG, in, GT_BN_EVAL) : NULL;
        d->TG.tap_on = false;
        for (int k = 0; tf && last && feat && k < d->TG.n_taps; k++) ttap[k] = d->TG.taps[k];
        gt_grad_mode_restore(pg);
        st = tf ? gt__d_step(t, d, a, reals[i], gt_detach(fake), tf, &s) : gt_last_status();
        if (!last) gt_scope_end(mi);
    }
    if (st == GT_OK) st = gt__g_step(t, d, G, a, reals[nc - 1], fake, stap, tf, ttap, &s);
    *stats = s;
    return st;
}

static const gt_train_scheme gt__distill_scheme = {
    "distill", "the teacher's D online; the student against it plus the distillation losses", NULL, NULL, gt__step,
    NULL,
};

/* --- the run ------------------------------------------------------------------------------------- */
typedef struct {
    gt__dist *d;
    const gt_train_config *c;
} gt__hook_ctx;

static void gt__progress(const gt_train_progress *p, bool interval, void *user) {
    gt__hook_ctx *h = user;
    gt__dist *d = h->d;
    if (d->o.progress) d->o.progress(p, interval, d->o.user);
    if (!interval) return;
    double mean[GT__L_N] = {0};
    for (int k = 0; k < GT__L_N; k++) mean[k] = d->count ? d->sum[k] / (double)d->count : 0;
    if (!d->log && h->c->out[0]) {
        char path[GT_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/distill.jsonl", h->c->out);
        d->log = fopen(path, "a");
    }
    if (d->log) {
        fprintf(d->log, "{\"step\":%llu", (unsigned long long)p->step);
        for (int k = 0; k < GT__L_N; k++) fprintf(d->log, ",\"%s\":%.9g", gt__l_names[k], mean[k]);
        fprintf(d->log, "}\n");
        fflush(d->log);
    }
    if (!d->o.quiet && !d->o.progress) {
        fprintf(stderr, "step %llu/%llu  %.2f it/s  loss D %.4f G %.4f  gan %.4f recon %.4f feat %.4f dcd %.4f",
                (unsigned long long)p->step, (unsigned long long)p->steps, p->it_s, p->mean.loss_d, p->mean.loss_g,
                mean[GT__L_GAN], mean[GT__L_RECON], mean[GT__L_FEAT], mean[GT__L_DCD]);
        if (d->o.w_crd > 0) fprintf(stderr, " crd %.4f", mean[GT__L_CRD]);
        fprintf(stderr, "\n");
    }
    memset(d->sum, 0, sizeof d->sum);
    d->count = 0;
}

static bool gt__should_stop(void *user) {
    const gt__hook_ctx *h = user;
    return h->d->o.should_stop(h->d->o.user);
}

/* The 1x1 convs (student tap channels -> teacher tap channels), torch's default init, and their Adam. */
static gt_status gt__adapters(gt__dist *d, const gt_train_config *c) {
    gt_params_init(&d->A);
    if (!(d->o.w_feat > 0) || d->pairs.n == 0) return GT_OK;
    gt_rng r;
    gt_rng_init(&r, c->seed ^ GT__ADAPT_SEED);
    gt_status st = GT_OK;
    for (int k = 0; k < d->pairs.n && st == GT_OK; k++) {
        char name[32];
        snprintf(name, sizeof name, "adapt.%d", k);
        st = gt_nn_conv2d_init(&d->adapt[k], &d->A, name, d->s_shape[d->pairs.s[k]][0], d->t_shape[d->pairs.t[k]][0], 1,
                               1, gt_conv_params_make(1, 0), true, &r);
    }
    if (st == GT_OK) st = gt_params_finalize(&d->A);
    if (st == GT_OK) st = gt_adam_init(&d->opt_a, &d->A, c->lr_g, c->beta1, c->beta2, 1e-8, 0);
    d->a_ready = st == GT_OK;
    return st;
}

/* The 1x1 convs and their Adam ("distill." tensors) and the options ("distill" metadata) join the
 * trainer's checkpoint binding: every checkpoint of the run can be resumed by gt_distill_run. */
static gt_status gt__bind(gt__dist *d, gt_trainer *t) {
    gt_status st = GT_OK;
    if (d->a_ready && d->A.n > 0) {
        st = gt_ckpt_add_params(&t->ckpt, "distill.", &d->A);
        if (st == GT_OK) st = gt_ckpt_add_adam(&t->ckpt, "distill.opt.", &d->opt_a);
    }
    char *json = st == GT_OK ? gt__distill_opts_json(&d->o) : NULL;
    if (st == GT_OK && !json) st = gt_set_error(GT_ERR_OOM, "distill: out of memory");
    if (st == GT_OK) st = gt_ckpt_set_meta(&t->ckpt, "distill", json);
    free(json);
    return st;
}

gt_status gt_distill_run(const gt_distill_opts *o) {
    if (!o) return gt_set_error(GT_ERR_ARG, "gt_distill_run: options are NULL");
    if (!o->out_dir || !o->out_dir[0]) return gt_set_error(GT_ERR_ARG, "out: no run folder given");
    gt__dist *d = calloc(1, sizeof *d);
    if (!d) return gt_set_error(GT_ERR_OOM, "distill: out of memory");
    gt_trainer t;
    memset(&t, 0, sizeof t);
    gt__distill_saved sv;
    memset(&sv, 0, sizeof sv);
    gt_distill_opts ro;
    gt_status st = o->resume ? gt__distill_read_saved(o, &sv, &ro) : GT_OK;
    if (o->resume) o = &ro;
    if (st == GT_OK) st = gt__prepare(d, o, o->resume ? sv.config : NULL);
    if (st == GT_OK) {
        snprintf(d->scfg.out, sizeof d->scfg.out, "%s", o->out_dir);
        st = gt_trainer_init(&t, &d->scfg, NULL);
    }
    /* the student starts from init's G (EMA too), D from the teacher's (unless d_fresh: its own) */
    if (st == GT_OK && d->has_init) {
        st = gt_params_copy(&t.G.P, &d->IG.P);
        if (st == GT_OK && t.has_ema) st = gt_params_copy(&t.G_ema.P, &d->IG.P);
    }
    if (st == GT_OK && !o->d_fresh) st = gt_params_copy(&t.D.P, &d->TD.P);
    if (st == GT_OK) st = gt__adapters(d, &t.cfg);
    if (st == GT_OK && o->ofa) {
        st = gt__ofa_init(&d->ofa, &t.G);
        d->ofa_ready = st == GT_OK;
    }
    if (st == GT_OK) st = gt__bind(d, &t);
    if (st == GT_OK && o->resume) { /* everything the checkpoint holds, the 1x1 convs included */
        char last[GT_PATH_MAX + 32];
        snprintf(last, sizeof last, "%s/last.safetensors", o->out_dir);
        st = gt_trainer_load(&t, last);
    }
    if (st == GT_OK) { /* our step in place of the family's (a translator's own scheme: restored to be freed) */
        const gt_train_scheme *own = t.scheme;
        void *own_state = t.scheme_state;
        t.scheme = &gt__distill_scheme;
        t.scheme_state = d;
        gt__hook_ctx h = {d, &t.cfg};
        gt_train_hooks hooks = {gt__progress, o->should_stop ? gt__should_stop : NULL, NULL, &h};
        st = gt_train_run(&t, &hooks);
        t.scheme = own, t.scheme_state = own_state;
    }
    gt_trainer_free(&t);
    gt__free(d);
    free(d);
    gt__distill_saved_free(&sv);
    return st;
}
