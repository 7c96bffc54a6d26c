/* The pix2pix family's training scheme (Isola et al. 2017; gantry/translate.h): the task A -> B from
 * each real batch B, A = gt_translate_input(B, the data's A): paired data's own A (paired:DIR), else
 * the edges -> item task A = gt_edges(B), so any image data works.
 *   D: 0.5 (BCE(D(A|B), 1) + BCE(D(A|G(A)), 0)), a mean over every patch logit;
 *   G: BCE(D(A|G(A)), 1) + lambda_l1 |G(A) - B|_1 (model option lambda_l1, default 100).
 * n_critic D steps, each on its own batch, then G's step on the last one (as the default scheme);
 * Adam, EMA and the checkpoint are the trainer's. The latents the trainer draws are not used. */
#include <math.h>
#include <string.h>

#include "gantry/train.h"
#include "gantry/translate.h"

typedef struct {
    double lambda_l1;
    double last_l1;  /* the last G step's |G(A) - B|_1 */
    bool have_last;
} gt__p2t_state;

static gt__p2t_state *gt__p2t(const gt_trainer *t) { return t ? (gt__p2t_state *)t->scheme_state : NULL; }

static gt_status gt__p2t_init(gt_trainer *t) {
    const gt_train_config *c = &t->cfg;
    const gt_model_entry *e = gt_model_find(c->model.name);
    if (!e || !e->translator)
        return gt_set_error(GT_ERR_ARG, "the pix2pix training scheme needs a translator model, not %s", c->model.name);
    if (c->loss != GT_LOSS_NS)
        return gt_set_error(GT_ERR_ARG, "the pix2pix scheme trains with the BCE (ns) loss over patches, not %s",
                            gt_loss_name(c->loss));
    if (c->gp > 0 || c->dragan > 0 || c->r1 > 0 || c->r2 > 0 || c->clip > 0)
        return gt_set_error(GT_ERR_ARG, "the pix2pix scheme takes no gradient penalties or weight clipping");
    if (c->label_smooth > 0) return gt_set_error(GT_ERR_ARG, "the pix2pix scheme takes no label smoothing");
    const double l1 = gt_model_opt(&c->model, "lambda_l1");
    if (!(l1 >= 0))
        return gt_set_error(GT_ERR_ARG, "model %s lacks the option lambda_l1 (a weight >= 0)", c->model.name);
    gt__p2t_state *s = calloc(1, sizeof *s);
    if (!s) return gt_set_error(GT_ERR_OOM, "pix2pix scheme: out of memory");
    s->lambda_l1 = l1;
    t->scheme_state = s;
    return GT_OK;
}

static void gt__p2t_free(gt_trainer *t) {
    free(t->scheme_state);
    t->scheme_state = NULL;
}

static double gt__p2t_mean_sigmoid(const gt_tensor *logits) {
    const gt_tensor *l = logits;
    const float *p = gt_data(l);
    const int64_t n = gt_numel(l);
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += 1.0 / (1.0 + exp(-(double)p[i]));
    return n ? s / (double)n : 0;
}

/* BCE with logits against a constant target over every patch. */
static gt_tensor *gt__p2t_bce(gt_tensor *logits, float target) {
    return logits ? gt_bce_with_logits(logits, gt_full(logits->ndim, logits->shape, target)) : NULL;
}

static gt_tensor *gt__p2t_cat(gt_tensor *a, gt_tensor *b) {
    return a && b ? gt_concat(2, (gt_tensor *[]){a, b}, 1) : NULL;
}

/* One D step on (a, b) and the detached fake; each term's graph freed before the next. */
static gt_status gt__p2t_d_step(gt_trainer *t, gt_tensor *a, gt_tensor *b, gt_tensor *fake, gt_step_stats *s) {
    gt_status st = gt_params_zero_grad(&t->D.P);
    double loss = 0;
    for (int real = 1; real >= 0 && st == GT_OK; real--) {
        int m = gt_scope_begin();
        gt_tensor *lo = gt_net_forward(&t->D, gt__p2t_cat(a, real ? b : fake), GT_BN_TRAIN);
        gt_tensor *l = gt_mul_scalar(gt__p2t_bce(lo, real ? 1.0f : 0.0f), 0.5f);
        st = l ? gt_backward(l) : gt_last_status();
        if (st == GT_OK) {
            loss += gt_item(l);
            if (real) s->d_real = gt__p2t_mean_sigmoid(lo);
            else s->d_fake = gt__p2t_mean_sigmoid(lo);
        }
        gt_scope_end(m);
    }
    if (st == GT_OK) st = gt_adam_step(&t->opt_d);
    s->loss_d = loss;
    return st;
}

static gt_status gt__p2t_g_step(gt_trainer *t, gt_tensor *a, gt_tensor *b, gt_tensor *fake, gt_step_stats *s) {
    gt__p2t_state *ps = gt__p2t(t);
    gt_status st = gt_params_zero_grad(&t->G.P);
    if (st != GT_OK) return st;
    gt_net_requires_grad(&t->D, false);
    int m = gt_scope_begin();
    gt_tensor *lf = gt_net_forward(&t->D, gt__p2t_cat(a, fake), GT_BN_TRAIN);
    gt_tensor *l1 = gt_l1_loss(fake, b);
    gt_tensor *loss = gt_add(gt__p2t_bce(lf, 1.0f), gt_mul_scalar(l1, (float)ps->lambda_l1));
    st = loss ? gt_backward(loss) : gt_last_status();
    if (st == GT_OK) s->loss_g = gt_item(loss), ps->last_l1 = gt_item(l1), ps->have_last = true;
    gt_scope_end(m);
    gt_net_requires_grad(&t->D, true);
    if (st == GT_OK) st = gt_adam_step(&t->opt_g);
    return st;
}

static gt_status gt__p2t_step(gt_trainer *t, gt_tensor *const *reals, gt_tensor *const *real_y, gt_tensor *const *z,
                              gt_tensor *const *fake_y, gt_step_stats *s) {
    (void)real_y, (void)z, (void)fake_y;
    if (!gt__p2t(t)) return gt_set_error(GT_ERR_STATE, "pix2pix scheme: not initialised");
    const int nc = t->cfg.n_critic;
    gt_status st = GT_OK;
    gt_tensor *a = NULL, *fake = NULL;
    for (int i = 0; i < nc && st == GT_OK; i++) {
        const bool last = i == nc - 1;
        int mi = last ? -1 : gt_scope_begin();
        bool prev = last ? true : gt_no_grad_begin(); /* only the last fake feeds G's step */
        a = gt_translate_input(reals[i], t->inputs ? t->inputs[i] : NULL);
        fake = gt_net_forward(&t->G, a, GT_BN_TRAIN);
        if (!last) gt_grad_mode_restore(prev);
        st = fake ? gt__p2t_d_step(t, a, reals[i], gt_detach(fake), s) : gt_last_status();
        if (!last) gt_scope_end(mi);
    }
    if (st == GT_OK) st = gt__p2t_g_step(t, a, reals[nc - 1], fake, s);
    return st;
}

const gt_train_scheme gt_train_scheme_pix2pix = {
    "pix2pix",
    "pix2pix: A = the data's A (paired) or edges(B); D on A|B vs A|G(A) (BCE over patches), G: BCE + lambda_l1 L1",
    gt__p2t_init, NULL, gt__p2t_step, gt__p2t_free,
};

gt_status gt_pix2pix_train_last_l1(const gt_trainer *t, double *l1) {
    const gt__p2t_state *s = t && t->scheme == &gt_train_scheme_pix2pix ? gt__p2t(t) : NULL;
    if (!s || !s->have_last || !l1)
        return gt_set_error(GT_ERR_STATE, "gt_pix2pix_train_last_l1: not a pix2pix trainer that has stepped");
    *l1 = s->last_l1;
    return GT_OK;
}
