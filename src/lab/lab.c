/* src/lab/lab.c - one GAN Lab experiment: building it from a config, training it (the D and G
 * updates on the engine), the loss history.
 *
 * GAN Lab's training (demo/ganlab.ts, iterateTraining): real points and noise come from atlases
 * of 12,000 samples drawn up front and read in batch-sized windows in turn; an epoch is d_steps
 * D updates (each on a new real batch and new fakes) then g_steps G updates (each on new noise).
 * Losses (demo/ganlab_models.ts, D(x) the sigmoid of the logit l(x)):
 *   log:     D: -(0.95 E log D(x) + E log(1 - D(G(z))))  G: -E log D(G(z))  (non-saturating)
 *   ls:      D: E (D(x) - 1)^2 + E D(G(z))^2             G: E (D(G(z)) - 1)^2  (on probabilities, as GAN Lab)
 *   hinge:   D: E relu(1 - l(x)) + E relu(1 + l(G(z)))    G: -E l(G(z))
 *   wgan-gp: D: E l(G(z)) - E l(x) + gp E (||grad l(xh)|| - 1)^2, xh = e x + (1-e) G(z)   G: -E l(G(z))
 *   r1 > 0 adds r1/2 E ||grad l(x)||^2 to D's loss, for any of them.
 * Every D loss is one weighted sum over the 2B logits of reals and fakes run through D at once
 * (rows 0..B-1 real, B..2B-1 fake): sum_i w_i f(s_i l_i) with per-row weights and signs set up
 * when the batch is, so a D update is one forward of D and few ops. */
#include <math.h>
#include <string.h>

#include "lab_internal.h"

static void free_batch(gt_lab *L) {
    gt_tensor **ts[] = {&L->x_d, &L->z, &L->w_d, &L->s_d, &L->t_d, &L->x_r1, &L->x_gp, &L->e_gp, &L->x_g};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        gt_release(*ts[i]);
        *ts[i] = NULL;
    }
}

static void free_nets(gt_lab *L) {
    gt_adam_free(&L->adam_g);
    gt_adam_free(&L->adam_d);
    gt_sgd_free(&L->sgd_g);
    gt_sgd_free(&L->sgd_d);
    memset(&L->adam_g, 0, sizeof L->adam_g);
    memset(&L->adam_d, 0, sizeof L->adam_d);
    memset(&L->sgd_g, 0, sizeof L->sgd_g);
    memset(&L->sgd_d, 0, sizeof L->sgd_d);
    gt__lab_net_free(&L->G);
    gt__lab_net_free(&L->D);
    free(L->real_atlas);
    free(L->noise_atlas);
    free(L->scratch);
    L->real_atlas = L->noise_atlas = L->scratch = NULL;
    free_batch(L);
}

/* The batch tensors and the D loss's per-row weights (w), signs (s) and targets (t). */
static gt_status setup_batch(gt_lab *L) {
    free_batch(L);
    const gt_lab_config *c = &L->cfg;
    int64_t B = c->batch;
    /* kept across steps: made in a scope of our own and retained, whatever scope the caller has open */
    int m = gt_scope_begin();
    L->x_d = gt_retain(gt_zeros(GT_SHAPE(2 * B, 2)));
    L->z = gt_retain(gt_zeros(GT_SHAPE(B, c->noise_dim)));
    L->w_d = gt_retain(gt_zeros(GT_SHAPE(2 * B, 1)));
    L->s_d = gt_retain(gt_zeros(GT_SHAPE(2 * B, 1)));
    L->t_d = gt_retain(gt_zeros(GT_SHAPE(2 * B, 1)));
    L->x_r1 = gt_retain(gt_zeros(GT_SHAPE(B, 2)));
    L->x_gp = gt_retain(gt_zeros(GT_SHAPE(B, 2)));
    L->e_gp = gt_retain(gt_zeros(GT_SHAPE(B, 1)));
    L->x_g = gt_retain(gt_zeros(GT_SHAPE(B, 2)));
    gt_scope_end(m);
    if (!L->x_d || !L->z || !L->w_d || !L->s_d || !L->t_d || !L->x_r1 || !L->x_gp || !L->e_gp || !L->x_g)
        return gt_set_error(GT_ERR_OOM, "lab: out of memory for a batch of %d", c->batch);
    float *w = gt_data(L->w_d), *s = gt_data(L->s_d), *t = gt_data(L->t_d);
    for (int64_t i = 0; i < 2 * B; i++) {
        bool real = i < B;
        s[i] = real ? -1.0f : 1.0f;
        t[i] = real ? 1.0f : 0.0f;
        switch (c->loss) {
        case GT_LAB_LOG: w[i] = (real ? 0.95f : 1.0f) / (float)B; break;
        case GT_LAB_WGAN_GP: w[i] = s[i] / (float)B; break;
        default: w[i] = 1.0f / (float)B; break;
        }
    }
    gt_set_requires_grad(L->x_gp, true);
    gt_set_requires_grad(L->x_g, true);
    gt_set_requires_grad(L->x_r1, true);
    return GT_OK;
}

static gt_status make_optim(gt_lab *L, bool d) {
    const gt_lab_config *c = &L->cfg;
    gt_params *P = d ? &L->D.P : &L->G.P;
    double lr = d ? c->lr_d : c->lr_g;
    /* GAN Lab: tf.train.adam(lr, 0.9, 0.999) (tfjs-core 0.12: eps 1e-8), tf.train.sgd(lr) */
    if (c->optim == GT_LAB_ADAM) return gt_adam_init(d ? &L->adam_d : &L->adam_g, P, lr, 0.9, 0.999, 1e-8, 0.0);
    return gt_sgd_init(d ? &L->sgd_d : &L->sgd_g, P, lr, 0.0, 0.0, 0.0, false);
}

static gt_status build(gt_lab *L) {
    free_nets(L);
    const gt_lab_config *c = &L->cfg;
    gt_rng init, data;
    gt_rng_init(&init, c->seed);
    gt_rng_init(&data, c->seed ^ 0x9E3779B97F4A7C15ull);
    gt_rng_init(&L->rng, c->seed ^ 0xD1B54A32D192ED03ull);
    int m = gt_scope_begin(); /* the registries keep their own references */
    gt_status st = gt__lab_net_build(&L->G, "G", c->noise_dim, c->g_layers, c->g_neurons, 2, &init);
    if (st == GT_OK) st = gt__lab_net_build(&L->D, "D", 2, c->d_layers, c->d_neurons, 1, &init);
    gt_scope_end(m);
    if (st != GT_OK) return st;
    if ((st = make_optim(L, true)) != GT_OK || (st = make_optim(L, false)) != GT_OK) return st;
    int wmax = c->g_neurons > c->d_neurons ? c->g_neurons : c->d_neurons;
    L->real_atlas = malloc(sizeof(float) * 2 * GT_LAB_ATLAS);
    L->noise_atlas = malloc(sizeof(float) * (size_t)c->noise_dim * GT_LAB_ATLAS);
    L->scratch = malloc(sizeof(float) * 2 * (size_t)(wmax + 2));
    if (!L->real_atlas || !L->noise_atlas || !L->scratch) return gt_set_error(GT_ERR_OOM, "lab: out of memory");
    gt__lab_sample_real(c, &data, L->real_atlas, GT_LAB_ATLAS);
    gt__lab_sample_noise(c, &data, L->noise_atlas, GT_LAB_ATLAS);
    gt__lab_grid_hist(L->real_atlas, GT_LAB_ATLAS, L->real_hist);
    L->real_pos = L->noise_pos = 0;
    if ((st = setup_batch(L)) != GT_OK) return st;
    L->epoch = 0;
    L->loss_d = L->loss_g = 0.0f;
    L->kl_epoch = -1;
    L->n_hist = 0;
    L->hist_every = 1;
    return GT_OK;
}

gt_status gt_lab_new(gt_lab **out, const gt_lab_config *c) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_lab_new: NULL out");
    *out = NULL;
    gt_status st = gt_lab_config_check(c);
    if (st != GT_OK) return st;
    gt_lab *L = calloc(1, sizeof *L);
    if (!L) return gt_set_error(GT_ERR_OOM, "gt_lab_new: out of memory");
    L->cfg = *c;
    if ((st = build(L)) != GT_OK) {
        gt_lab_free(L);
        return st;
    }
    *out = L;
    return GT_OK;
}

void gt_lab_free(gt_lab *L) {
    if (!L) return;
    free_nets(L);
    free(L);
}

const gt_lab_config *gt_lab_get_config(const gt_lab *L) { return L ? &L->cfg : NULL; }
int64_t gt_lab_epoch(const gt_lab *L) { return L ? L->epoch : 0; }

gt_status gt_lab_reset(gt_lab *L) {
    if (!L) return gt_set_error(GT_ERR_ARG, "gt_lab_reset: NULL lab");
    return build(L);
}

static bool same_drawn(const gt_lab_config *a, const gt_lab_config *b) {
    return a->n_drawn == b->n_drawn && memcmp(a->drawn, b->drawn, sizeof(float) * 2 * (size_t)a->n_drawn) == 0;
}

gt_status gt_lab_configure(gt_lab *L, const gt_lab_config *c) {
    if (!L) return gt_set_error(GT_ERR_ARG, "gt_lab_configure: NULL lab");
    gt_status st = gt_lab_config_check(c);
    if (st != GT_OK) return st;
    const gt_lab_config *o = &L->cfg;
    bool rebuild = c->data != o->data || (c->data == GT_LAB_DRAWN && !same_drawn(c, o)) ||
                   c->noise_dim != o->noise_dim || c->noise != o->noise || c->g_layers != o->g_layers ||
                   c->g_neurons != o->g_neurons || c->d_layers != o->d_layers || c->d_neurons != o->d_neurons ||
                   c->loss != o->loss || c->optim != o->optim || c->seed != o->seed;
    bool new_batch = c->batch != o->batch;
    gt_lab_config old = L->cfg;
    L->cfg = *c;
    if (rebuild) {
        if ((st = build(L)) != GT_OK) {
            L->cfg = old; /* back to a working lab if the old one can be built */
            build(L);
            gt_set_error(st, "%s", gt_last_error());
        }
        return st;
    }
    if (new_batch && (st = setup_batch(L)) != GT_OK) return st;
    /* rates at once, moments and step counts kept */
    L->adam_d.lr = L->sgd_d.lr = c->lr_d;
    L->adam_g.lr = L->sgd_g.lr = c->lr_g;
    return GT_OK;
}

static gt_status optim_step(gt_lab *L, bool d) {
    if (L->cfg.optim == GT_LAB_ADAM) return gt_adam_step(d ? &L->adam_d : &L->adam_g);
    return gt_sgd_step(d ? &L->sgd_d : &L->sgd_g);
}

/* The penalty's gradient norm: (N, 2) grads -> (N). */
static gt_tensor *sq_norm_rows(gt_tensor *g) { return gt_sum(gt_mul(g, g), 1, (int[]){1}, false); }

/* One D update. */
static gt_status d_step(gt_lab *L) {
    const gt_lab_config *c = &L->cfg;
    int64_t B = c->batch;
    float *x = gt_data(L->x_d);
    gt__lab_atlas_take(L->real_atlas, GT_LAB_ATLAS, 2, &L->real_pos, x, B);
    gt__lab_atlas_take(L->noise_atlas, GT_LAB_ATLAS, c->noise_dim, &L->noise_pos, gt_data(L->z), B);
    gt__lab_net_eval(&L->G, gt_data(L->z), B, x + 2 * B, true, L->scratch); /* fakes: no graph */
    bool r1 = c->r1 > 0.0f;
    int m = gt_scope_begin();
    gt_status st = gt_params_zero_grad(&L->D.P);
    gt_tensor *l = gt__lab_net_forward(&L->D, L->x_d, false); /* (2B, 1) */
    gt_tensor *loss;
    switch (c->loss) {
    case GT_LAB_LOG: loss = gt_sum_all(gt_mul(L->w_d, gt_softplus(gt_mul(L->s_d, l), 1.0f, 20.0f))); break;
    case GT_LAB_LS: loss = gt_sum_all(gt_mul(L->w_d, gt_pow_scalar(gt_sub(gt_sigmoid(l), L->t_d), 2.0f))); break;
    case GT_LAB_HINGE: loss = gt_sum_all(gt_mul(L->w_d, gt_relu(gt_add_scalar(gt_mul(L->s_d, l), 1.0f)))); break;
    default: loss = gt_sum_all(gt_mul(L->w_d, l)); break;
    }
    gt_tensor *total = loss;
    if (c->loss == GT_LAB_WGAN_GP && c->gp > 0.0f && loss) {
        float *e = gt_data(L->e_gp), *xh = gt_data(L->x_gp);
        gt_rng_uniform(&L->rng, e, B, 0.0f, 1.0f);
        for (int64_t i = 0; i < B; i++)
            for (int k = 0; k < 2; k++) xh[2 * i + k] = e[i] * x[2 * i + k] + (1.0f - e[i]) * x[2 * (B + i) + k];
        gt_tensor *dh = gt__lab_net_forward(&L->D, L->x_gp, false), *g = NULL;
        if (dh && gt_grad(gt_sum_all(dh), NULL, 1, &L->x_gp, &g, true) == GT_OK) {
            gt_tensor *norm = gt_sqrt(gt_add_scalar(sq_norm_rows(g), 1e-12f));
            total = gt_add(total, gt_mul_scalar(gt_mean_all(gt_pow_scalar(gt_add_scalar(norm, -1.0f), 2.0f)), c->gp));
        } else {
            total = NULL;
        }
    }
    if (r1 && total) { /* on a forward of its own over the reals (a leaf of B rows) */
        memcpy(gt_data(L->x_r1), x, sizeof(float) * 2 * (size_t)B);
        gt_tensor *lr = gt__lab_net_forward(&L->D, L->x_r1, false), *g = NULL;
        if (lr && gt_grad(gt_sum_all(lr), NULL, 1, &L->x_r1, &g, true) == GT_OK)
            total = gt_add(total, gt_mul_scalar(gt_sum_all(sq_norm_rows(g)), 0.5f * c->r1 / (float)B));
        else
            total = NULL;
    }
    if (st == GT_OK && !total) st = gt_last_status() != GT_OK ? gt_last_status() : GT_ERR_STATE;
    if (st == GT_OK) st = gt_backward(total);
    if (st == GT_OK) {
        L->loss_d = gt_item(total);
        st = optim_step(L, true);
    }
    gt_scope_end(m);
    if (r1) gt_zero_grad(L->x_r1);
    return st;
}

/* One G update. gfake (B, 2), when given, gets -d(loss_i)/d(fake_i) of each fake's own loss term
 * (the mean's gradient times B) and fake (B, 2) the fakes. */
gt_status gt__lab_g_step(gt_lab *L, float *fake, float *gfake) {
    const gt_lab_config *c = &L->cfg;
    int64_t B = c->batch;
    gt__lab_atlas_take(L->noise_atlas, GT_LAB_ATLAS, c->noise_dim, &L->noise_pos, gt_data(L->z), B);
    int m = gt_scope_begin();
    gt_status st = gt_params_zero_grad(&L->G.P);
    gt_tensor *y = gt__lab_net_forward(&L->G, L->z, true); /* (B, 2) with G's graph */
    if (!y) st = gt_last_status() != GT_OK ? gt_last_status() : GT_ERR_STATE;
    /* D on a leaf copy of the fakes: the gradient reaches x_g only (D's weights need none) */
    if (st == GT_OK) st = gt_copy_(L->x_g, y);
    gt_tensor *l = st == GT_OK ? gt__lab_net_forward(&L->D, L->x_g, false) : NULL, *loss;
    switch (c->loss) {
    case GT_LAB_LOG: loss = gt_mean_all(gt_softplus(gt_neg(l), 1.0f, 20.0f)); break;
    case GT_LAB_LS: loss = gt_mean_all(gt_pow_scalar(gt_add_scalar(gt_sigmoid(l), -1.0f), 2.0f)); break;
    default: loss = gt_neg(gt_mean_all(l)); break;
    }
    gt_tensor *gx = NULL;
    if (st == GT_OK && !loss) st = gt_last_status() != GT_OK ? gt_last_status() : GT_ERR_STATE;
    if (st == GT_OK) st = gt_grad(loss, NULL, 1, &L->x_g, &gx, false);
    if (st == GT_OK) st = gt_backward_ex(y, gx, false, false);
    if (st == GT_OK) {
        L->loss_g = gt_item(loss);
        if (fake) gt_copy_to(L->x_g, fake);
        if (gfake) {
            gt_copy_to(gx, gfake);
            for (int64_t i = 0; i < 2 * B; i++) gfake[i] *= -(float)B;
        }
        st = optim_step(L, false);
    }
    gt_scope_end(m);
    return st;
}

static void record(gt_lab *L) {
    if (L->epoch % L->hist_every) return;
    if (L->n_hist == GT_LAB_HIST) { /* keep every other multiple: the whole run in 1000..2000 points */
        int k = 0;
        for (int i = 0; i < L->n_hist; i++)
            if (L->hist[i].epoch % (2 * L->hist_every) == 0) L->hist[k++] = L->hist[i];
        L->n_hist = k;
        L->hist_every *= 2;
        if (L->epoch % L->hist_every) return;
    }
    gt__lab_update_kl(L);
    L->hist[L->n_hist++] = (gt_lab_point){L->epoch, L->loss_d, L->loss_g, L->kl, L->js};
}

gt_status gt_lab_epochs(gt_lab *L, int n, gt_lab_which which) {
    if (!L) return gt_set_error(GT_ERR_ARG, "gt_lab_epochs: NULL lab");
    if (n < 0) return gt_set_error(GT_ERR_ARG, "gt_lab_epochs: n must be >= 0 (got %d)", n);
    if ((unsigned)which > GT_LAB_G_ONLY) return gt_set_error(GT_ERR_ARG, "gt_lab_epochs: bad which %d", (int)which);
    for (int e = 0; e < n; e++) {
        gt_status st;
        if (which != GT_LAB_G_ONLY)
            for (int i = 0; i < L->cfg.d_steps; i++)
                if ((st = d_step(L)) != GT_OK) return st;
        if (which != GT_LAB_D_ONLY)
            for (int i = 0; i < L->cfg.g_steps; i++)
                if ((st = gt__lab_g_step(L, NULL, NULL)) != GT_OK) return st;
        L->epoch++;
        record(L);
    }
    return GT_OK;
}

int gt_lab_history(const gt_lab *L, gt_lab_point *out, int max) {
    if (!L || !out || max <= 0) return 0;
    int n = L->n_hist < max ? L->n_hist : max;
    memcpy(out, L->hist + (L->n_hist - n), sizeof *out * (size_t)n);
    return n;
}

static double slab_norm(const gt_tensor *t) {
    const float *p = gt_data(t);
    double s = 0;
    for (int64_t i = 0; i < gt_numel(t); i++) s += (double)p[i] * p[i];
    return sqrt(s);
}

static double slab_dist(const gt_tensor *t, const float *before) {
    const float *p = gt_data(t);
    double s = 0;
    for (int64_t i = 0; i < gt_numel(t); i++) s += ((double)p[i] - before[i]) * ((double)p[i] - before[i]);
    return sqrt(s);
}

gt_status gt_lab_step_trace(gt_lab *L, gt_lab_trace *t) {
    if (!L || !t) return gt_set_error(GT_ERR_ARG, "gt_lab_step_trace: NULL argument");
    memset(t, 0, sizeof *t);
    int64_t nd = gt_numel(L->D.P.slab), ng = gt_numel(L->G.P.slab);
    float *before = malloc(sizeof(float) * (size_t)(nd > ng ? nd : ng));
    if (!before) return gt_set_error(GT_ERR_OOM, "gt_lab_step_trace: out of memory");
    memcpy(before, gt_data(L->D.P.slab), sizeof(float) * (size_t)nd);
    gt_status st = d_step(L);
    if (st == GT_OK) {
        t->grad_norm_d = (float)slab_norm(L->D.P.grad);
        t->update_norm_d = (float)slab_dist(L->D.P.slab, before);
        memcpy(before, gt_data(L->G.P.slab), sizeof(float) * (size_t)ng);
        st = gt__lab_g_step(L, &t->fake[0][0], &t->grad_g[0][0]);
    }
    if (st == GT_OK) {
        t->grad_norm_g = (float)slab_norm(L->G.P.grad);
        t->update_norm_g = (float)slab_dist(L->G.P.slab, before);
        L->epoch++;
        record(L);
    }
    free(before);
    t->epoch = L->epoch;
    t->loss_d = L->loss_d;
    t->loss_g = L->loss_g;
    t->n = L->cfg.batch;
    t->n_params_d = (int)nd;
    t->n_params_g = (int)ng;
    return st;
}
