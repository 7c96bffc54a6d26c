/* A new GAN family in a page of C, against the public API only: an MLP
 * generator and discriminator for 8 x 8 gray images, registered as "mlp" with
 * one option of its own, then trained by gantry's trainer (hinge loss + R1) on
 * a toy distribution fed by hand: images whose pixels are all near 0.5.
 * Exits 0 when the generator has learnt the data's mean brightness.
 *
 *     cc custom_model.c $(pkg-config --cflags --libs gantry) -o custom_model
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gantry.h>

typedef struct {
    gt_nn_linear l1, l2;
} mlp;

static const gt_model_opt_def mlp_opts[] = {
    {"hidden", GT_OPT_INT, 64, 4, 4096, NULL, "width of the hidden layer", NAN},
};

static void mlp_defaults(gt_model_config *c) {
    if (!c->res) c->res = 8;
    if (!c->channels) c->channels = 1;
    if (!c->nz) c->nz = 16;
}

static gt_status mlp_check(const gt_model_config *c) {
    if (c->res < 2 || c->res > 32) return gt_set_error(GT_ERR_ARG, "mlp: res must be in 2..32, got %d", c->res);
    return GT_OK;
}

static gt_tensor *mlp_forward(gt_net *n, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    (void)y, (void)mode;
    mlp *m = n->impl;
    const gt_model_config *c = &n->cfg;
    if (n->kind == GT_NET_G) {
        gt_tensor *h = gt_relu(gt_nn_linear_forward(&m->l1, x));
        return gt_reshape(gt_tanh(gt_nn_linear_forward(&m->l2, h)), GT_SHAPE(-1, c->channels, c->res, c->res));
    }
    gt_tensor *h = gt_leaky_relu(gt_nn_linear_forward(&m->l1, gt_flatten(x, 1)), 0.2f);
    return gt_reshape(gt_nn_linear_forward(&m->l2, h), GT_SHAPE(-1));
}

static void mlp_free(gt_net *n) {
    free(n->impl);
    n->impl = NULL;
}

static const gt_net_ops mlp_ops = {mlp_forward, NULL, mlp_free};

static gt_status mlp_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out) {
    mlp *m = calloc(1, sizeof *m);
    if (!m) return gt_set_error(GT_ERR_OOM, "mlp: out of memory");
    out->impl = m, out->ops = &mlp_ops;
    int hidden = (int)gt_model_opt(c, "hidden"), pixels = c->channels * c->res * c->res;
    gt_status st = gt_nn_linear_init(&m->l1, &out->P, "l1", kind == GT_NET_G ? c->nz : pixels, hidden, true, r);
    if (st == GT_OK) st = gt_nn_linear_init(&m->l2, &out->P, "l2", hidden, kind == GT_NET_G ? pixels : 1, true, r);
    return st == GT_OK ? gt_params_finalize(&out->P) : st;
}

static const gt_model_entry mlp_entry = {
    .name = "mlp",
    .summary = "a two-layer MLP generator and discriminator (examples/custom_model.c)",
    .defaults = mlp_defaults,
    .check = mlp_check,
    .build = mlp_build,
    .opts = mlp_opts,
    .n_opts = 1,
};

int main(void) {
    if (gt_model_register(&mlp_entry) != GT_OK) return fprintf(stderr, "%s\n", gt_last_error()), 1;
    gt_train_config c = gt_train_config_default();
    c.model = gt_model_config_default("mlp");
    gt_model_opt_set(&c.model, "hidden", 32);
    c.batch = 32, c.ema = 0, c.loss = GT_LOSS_HINGE, c.r1 = 1, c.lr_g = c.lr_d = 1e-3;
    gt_trainer t;
    if (gt_trainer_init(&t, &c, NULL) != GT_OK) return fprintf(stderr, "%s\n", gt_last_error()), 1;
    gt_rng data;
    gt_rng_init(&data, 7);
    double mean = 0;
    for (int step = 0; step < 300; step++) {
        int m = gt_scope_begin();
        /* the data: every pixel 0.5 + N(0, 0.05) */
        gt_tensor *real = gt_add_scalar(gt_mul_scalar(gt_randn(&data, GT_SHAPE(32, 1, 8, 8)), 0.05f), 0.5f);
        gt_tensor *z = gt_randn(&data, GT_SHAPE(32, 16));
        gt_step_stats s;
        if (gt_trainer_step_on(&t, &real, &z, &s) != GT_OK || !isfinite(s.loss_d))
            return fprintf(stderr, "step %d: %s\n", step, gt_last_error()), 1;
        gt_scope_end(m);
    }
    int m = gt_scope_begin();
    gt_tensor *x = gt_trainer_sample(&t, gt_randn(&data, GT_SHAPE(256, 16)));
    for (int64_t i = 0; x && i < gt_numel(x); i++) mean += gt_data(x)[i];
    mean = x ? mean / (double)gt_numel(x) : NAN;
    gt_scope_end(m);
    gt_trainer_free(&t);
    printf("mlp: %lld steps, mean generated pixel %.3f (data 0.5)\n", 300LL, mean);
    return fabs(mean - 0.5) < 0.15 ? 0 : 1;
}
