/* Optimizers: Adam and SGD trajectories against torch.optim from the same
 * start and the same gradients (fed through backward into the gradient
 * slab), EMA against its formula, and errors. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)
#define NSTEPS 12
#define NP 4

static const char *PNAMES[NP] = {"net.0.weight", "net.0.bias", "net.1.weight", "big.weight"};
static const int PNDIM[NP] = {2, 1, 4, 2};
static const int64_t PSHAPE[NP][4] = {{5, 3}, {7}, {2, 3, 2, 2}, {300, 128}}; /* big: > GT_PAR_MIN in all */

/* A registry of NP parameters with deterministic values; finalized. */
static void make_registry(gt_params *P, uint64_t seed) {
    gt_params_init(P);
    for (int i = 0; i < NP; i++) {
        gt_tensor *t = gt_test_randn(seed + (uint64_t)i, PNDIM[i], PSHAPE[i], 0.5f);
        CHECK(gt_params_add(P, PNAMES[i], t, false) == GT_OK);
    }
    CHECK(gt_params_finalize(P) == GT_OK);
}

/* Gradient of step t for parameter i: varied scales, some exact zeros. */
static gt_tensor *grad_for(int t, int i) {
    gt_tensor *g = gt_test_randn(1000 + 10 * (uint64_t)t + (uint64_t)i, PNDIM[i], PSHAPE[i], 0.1f + 0.3f * (t % 4));
    float *d = gt_data(g);
    for (int64_t k = 0; k < gt_numel(g); k += 5) d[k] = t % 3 == 0 ? 0.0f : d[k];
    return g;
}

/* zero_grad, then loss = sum_i sum(p_i * G_i) so backward leaves exactly G in the slab. */
static void feed_grads(gt_params *P, int t) {
    int m = gt_scope_begin();
    CHECK(gt_params_zero_grad(P) == GT_OK);
    gt_tensor *loss = NULL;
    for (int i = 0; i < NP; i++) {
        gt_tensor *term = gt_sum_all(gt_mul(P->v[i].t, grad_for(t, i)));
        loss = loss ? gt_add(loss, term) : term;
    }
    CHECK(gt_backward(loss) == GT_OK);
    gt_scope_end(m);
}

typedef struct {
    const char *name;
    bool adam;
    double lr, a, b, c, wd; /* adam: beta1, beta2, eps; sgd: momentum, dampening, unused */
    bool flag;              /* adam: amsgrad; sgd: nesterov */
} gt_cfg;

static const gt_cfg CFGS[] = {
    {"adam", true, 1e-2, 0.9, 0.999, 1e-8, 0.0, false},
    {"adam_gan", true, 2e-4, 0.5, 0.999, 1e-8, 0.0, false},
    {"adam_wd", true, 1e-2, 0.9, 0.99, 1e-6, 0.1, false},
    {"adam_ams", true, 5e-3, 0.8, 0.999, 1e-8, 0.01, true},
    {"sgd", false, 0.1, 0.0, 0.0, 0, 0.0, false},
    {"sgd_mom", false, 0.05, 0.9, 0.0, 0, 0.0, false},
    {"sgd_nesterov", false, 0.05, 0.9, 0.0, 0, 1e-2, true},
    {"sgd_damp", false, 0.05, 0.8, 0.3, 0, 0.05, false},
};
#define NCFG (int)(sizeof CFGS / sizeof CFGS[0])

static void compare_state(const gt_params *P, const char *cfg, const char *key, gt_tensor *slab) {
    char nm[160];
    for (int i = 0; i < NP; i++) {
        snprintf(nm, sizeof nm, "%s.%s.%s", cfg, PNAMES[i], key);
        gt_test_close(nm, gt_params_slab_view(P, i, slab), gt_golden(nm), 1e-6f, 1e-9f);
    }
}

static void test_against_torch(void) {
    gt_params P;
    make_registry(&P, 7);
    /* the inputs: start values and every step's gradients */
    const char *names[NP * (NSTEPS + 1)];
    gt_tensor *ts[NP * (NSTEPS + 1)];
    static char buf[NP * (NSTEPS + 1)][96];
    int k = 0;
    for (int i = 0; i < NP; i++) {
        snprintf(buf[k], 96, "p.%s", PNAMES[i]);
        names[k] = buf[k];
        ts[k++] = P.v[i].t;
    }
    for (int t = 0; t < NSTEPS; t++)
        for (int i = 0; i < NP; i++) {
            snprintf(buf[k], 96, "g.%d.%s", t, PNAMES[i]);
            names[k] = buf[k];
            ts[k++] = grad_for(t, i);
        }
    char path[512], args[4096];
    snprintf(path, sizeof path, "%s/optim_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(path, k, names, ts));
    int n = snprintf(args, sizeof args, "%s", path);
    for (int c = 0; c < NCFG; c++) {
        const gt_cfg *g = &CFGS[c];
        if (g->adam)
            n += snprintf(args + n, sizeof args - (size_t)n, " adam:%s:%.17g:%.17g:%.17g:%.17g:%.17g:%d", g->name,
                          g->lr, g->a, g->b, g->c, g->wd, (int)g->flag);
        else
            n += snprintf(args + n, sizeof args - (size_t)n, " sgd:%s:%.17g:%.17g:%.17g:%.17g:%d", g->name, g->lr,
                          g->a, g->b, g->wd, (int)g->flag);
    }
    float *start = malloc((size_t)P.numel * sizeof *start);
    memcpy(start, gt_data(P.slab), (size_t)P.numel * sizeof *start);
    if (gt_golden_run("optim_adam.py", args)) {
        for (int c = 0; c < NCFG; c++) {
            const gt_cfg *g = &CFGS[c];
            memcpy(gt_data(P.slab), start, (size_t)P.numel * sizeof *start);
            gt_adam adam;
            gt_sgd sgd;
            if (g->adam) {
                CHECK(gt_adam_init(&adam, &P, g->lr, g->a, g->b, g->c, g->wd) == GT_OK);
                adam.amsgrad = g->flag;
            } else {
                CHECK(gt_sgd_init(&sgd, &P, g->lr, g->a, g->b, g->wd, g->flag) == GT_OK);
            }
            for (int t = 0; t < NSTEPS; t++) {
                feed_grads(&P, t);
                CHECK(g->adam ? gt_adam_step(&adam) == GT_OK : gt_sgd_step(&sgd) == GT_OK);
            }
            char nm[160];
            for (int i = 0; i < NP; i++) {
                snprintf(nm, sizeof nm, "%s.%s", g->name, PNAMES[i]);
                gt_test_close(nm, P.v[i].t, gt_golden(nm), 1e-6f, 1e-9f);
            }
            if (g->adam) {
                CHECK(adam.step == NSTEPS);
                compare_state(&P, g->name, "exp_avg", adam.exp_avg);
                compare_state(&P, g->name, "exp_avg_sq", adam.exp_avg_sq);
                if (g->flag) compare_state(&P, g->name, "max_exp_avg_sq", adam.max_exp_avg_sq);
                else CHECK(adam.max_exp_avg_sq == NULL);
                gt_adam_free(&adam);
            } else {
                CHECK(sgd.step == NSTEPS);
                if (g->a != 0) compare_state(&P, g->name, "momentum_buffer", sgd.momentum_buffer);
                else CHECK(sgd.momentum_buffer == NULL);
                gt_sgd_free(&sgd);
            }
        }
    }
    free(start);
    gt_params_free(&P);
}

/* A gradient replaced by a create_graph backward, or dropped by gt_zero_grad,
 * is brought back into the slab before the step. */
static void test_step_syncs_grads(void) {
    gt_params P;
    gt_params_init(&P);
    gt_tensor *w = gt_test_randn(3, S(4), 1.0f);
    CHECK(gt_params_add(&P, "w", w, false) == GT_OK);
    CHECK(gt_params_add(&P, "v", gt_test_randn(4, S(3), 1.0f), false) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    float w0[4];
    memcpy(w0, gt_data(w), sizeof w0);
    gt_sgd o;
    CHECK(gt_sgd_init(&o, &P, 0.5, 0.0, 0.0, 0.0, false) == GT_OK);
    /* d/dw sum(w*w) = 2w, recorded with create_graph: w->grad is no longer the slab view */
    CHECK(gt_backward_ex(gt_sum_all(gt_mul(w, w)), NULL, false, true) == GT_OK);
    CHECK(w->grad != NULL && w->grad->storage != P.grad->storage);
    gt_zero_grad(P.v[1].t); /* v's grad dropped: counts as zero */
    CHECK(gt_sgd_step(&o) == GT_OK);
    for (int i = 0; i < 4; i++) CHECK(fabsf(gt_data(w)[i] - (w0[i] - 0.5f * 2.0f * w0[i])) < 1e-6f);
    CHECK(w->grad->storage == P.grad->storage && P.v[1].t->grad->storage == P.grad->storage);
    CHECK(gt_params_zero_grad(&P) == GT_OK);
    for (int64_t i = 0; i < P.numel; i++) CHECK(gt_data(P.grad)[i] == 0.0f);
    gt_sgd_free(&o);
    gt_params_free(&P);
}

static void test_ema_formula(void) {
    gt_params P, Q;
    make_registry(&P, 11);
    make_registry(&Q, 99); /* same layout, other values: becomes the EMA copy */
    const double decay = 0.95;
    float *ema = malloc((size_t)P.numel * sizeof *ema);
    memcpy(ema, gt_data(P.slab), (size_t)P.numel * sizeof *ema);
    gt_ema own, into;
    CHECK(gt_ema_init(&own, &P, NULL, decay) == GT_OK);
    CHECK(gt_ema_init(&into, &P, &Q, decay) == GT_OK);
    CHECK(memcmp(gt_data(Q.slab), gt_data(P.slab), (size_t)P.numel * 4) == 0); /* starts as a copy */
    gt_sgd o;
    CHECK(gt_sgd_init(&o, &P, 0.1, 0.9, 0.0, 0.0, false) == GT_OK);
    for (int t = 0; t < 5; t++) {
        feed_grads(&P, t);
        CHECK(gt_sgd_step(&o) == GT_OK);
        double d = t == 4 ? 0.5 : decay;
        for (int64_t i = 0; i < P.numel; i++) ema[i] = (float)d * ema[i] + (float)(1.0 - d) * gt_data(P.slab)[i];
        CHECK((t == 4 ? gt_ema_update_with(&own, d) : gt_ema_update(&own)) == GT_OK);
        CHECK((t == 4 ? gt_ema_update_with(&into, d) : gt_ema_update(&into)) == GT_OK);
    }
    CHECK(own.updates == 5 && into.updates == 5 && own.decay == decay);
    gt_test_close_buf("ema (own slab)", gt_data(own.params), ema, P.numel, 1e-6f, 1e-7f);
    gt_test_close_buf("ema (into a second model)", gt_data(Q.slab), ema, P.numel, 1e-6f, 1e-7f);
    /* the second model's tensors are views of the average */
    gt_test_close_buf("ema view of big.weight", gt_data(gt_params_get(&Q, "big.weight")), ema + P.v[3].offset,
                      gt_numel(P.v[3].t), 0, 0);
    /* swap: P runs with the average, swap back restores it */
    float *cur = malloc((size_t)P.numel * sizeof *cur);
    memcpy(cur, gt_data(P.slab), (size_t)P.numel * sizeof *cur);
    CHECK(gt_ema_swap(&own) == GT_OK);
    gt_test_close_buf("swapped in", gt_data(P.slab), ema, P.numel, 0, 0);
    CHECK(gt_ema_swap(&own) == GT_OK);
    gt_test_close_buf("swapped back", gt_data(P.slab), cur, P.numel, 0, 0);
    free(cur);
    free(ema);
    /* errors */
    gt_ema bad;
    CHECK(gt_ema_init(&bad, &P, &P, 0.9) == GT_ERR_ARG);
    CHECK(gt_ema_init(&bad, &P, NULL, 1.5) == GT_ERR_ARG);
    gt_sgd_free(&o);
    gt_ema_free(&own);
    gt_ema_free(&into);
    gt_params_free(&P);
    gt_params_free(&Q);
}

/* Buffers are copied by the EMA, not averaged. */
static void test_ema_buffers(void) {
    gt_params P, Q;
    gt_nn_batch_norm bp, bq;
    gt_params_init(&P);
    gt_params_init(&Q);
    CHECK(gt_nn_batch_norm_init(&bp, &P, "bn", 3, true, true) == GT_OK);
    CHECK(gt_nn_batch_norm_init(&bq, &Q, "bn", 3, true, true) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK && gt_params_finalize(&Q) == GT_OK);
    gt_ema e;
    CHECK(gt_ema_init(&e, &P, &Q, 0.99) == GT_OK);
    gt_data(bp.running_mean)[1] = 4.0f;
    gt_data(bp.weight)[1] = 2.0f;
    CHECK(gt_ema_update(&e) == GT_OK);
    CHECK(gt_data(bq.running_mean)[1] == 4.0f);
    CHECK(fabsf(gt_data(bq.weight)[1] - (0.99f * 1.0f + 0.01f * 2.0f)) < 1e-6f);
    gt_ema_free(&e);
    gt_params_free(&P);
    gt_params_free(&Q);
}

static void test_errors(void) {
    gt_params P;
    gt_params_init(&P);
    CHECK(gt_params_add(&P, "w", gt_zeros(S(3)), false) == GT_OK);
    gt_adam a;
    gt_sgd s;
    CHECK(gt_adam_init(&a, &P, 1e-3, 0.9, 0.999, 1e-8, 0) == GT_ERR_STATE);
    CHECK_MSG(strstr(gt_last_error(), "gt_params_finalize") != NULL, "message: %s", gt_last_error());
    CHECK(gt_params_finalize(&P) == GT_OK);
    CHECK(gt_adam_init(&a, &P, 1e-3, 1.0, 0.999, 1e-8, 0) == GT_ERR_ARG);
    CHECK(strstr(gt_last_error(), "betas") != NULL);
    CHECK(gt_adam_init(&a, &P, -1, 0.9, 0.999, 1e-8, 0) == GT_ERR_ARG);
    CHECK(gt_adam_step(&a) == GT_ERR_STATE); /* a failed init leaves it unusable */
    CHECK(gt_sgd_init(&s, &P, 0.1, 0.0, 0.0, 0.0, true) == GT_ERR_ARG);
    CHECK(strstr(gt_last_error(), "nesterov") != NULL);
    CHECK(gt_sgd_init(&s, &P, 0.1, 0.9, 0.1, 0.0, true) == GT_ERR_ARG);
    CHECK(gt_sgd_init(NULL, &P, 0.1, 0.9, 0.0, 0.0, false) == GT_ERR_ARG);
    gt_adam_free(&a);
    gt_params_free(&P);
}

int main(void) {
    RUN(test_against_torch);
    RUN(test_step_syncs_grads);
    RUN(test_ema_formula);
    RUN(test_ema_buffers);
    RUN(test_errors);
    return gt_test_finish();
}
