/* The WGAN critics: the discriminator's normalization (d_norm) and weight
 * clipping. A layer-norm or norm-free D scores each sample, and gives each
 * sample's input gradient (what the gradient penalty is made of), without
 * looking at the rest of the batch, where batch norm does not; the config
 * resolves the defaults from the loss and reads old files as they were
 * trained; --loss wgan clips every D parameter after each D step; a run that
 * would train nothing writes nothing; a WGAN-GP run's checkpoint holds the
 * layer-norm D and loads again. */
#include <sys/stat.h>

#include "../common/harness.h"
#include "gantry/train.h"
#include "train_util.h"

static char g_idx[600];

static const char *tp(const char *name) { return gt_test_path(name); }

static gt_train_config small_config(const char *out, int64_t steps) {
    gt_train_config c = gt_test_tiny_config(g_idx, out, steps);
    c.batch = 8, c.ema = 0, c.seed = 5;
    c.log_every = 1, c.sample_every = 0, c.ckpt_every = 0, c.n_samples = 4;
    return c;
}

/* Largest |w| over D's trainable parameters (buffers left out). */
static float d_max_abs(const gt_net *D) {
    float m = 0;
    const float *w = gt_data(D->P.slab);
    for (int64_t i = 0; i < D->P.numel; i++) m = fabsf(w[i]) > m ? fabsf(w[i]) : m;
    return m;
}

/* D(x)[0] and d sum(D(x)) / d x[0] for two batches that share sample 0 only:
 * the change of sample 0's output and the largest change of its input
 * gradient, relative to their sizes. */
static void sample0_change(int norm, float *d_out, float *d_grad) {
    gt_model_config mc = gt_model_config_default("dcgan");
    mc.res = 28, mc.channels = 1;
    gt_model_opt_set(&mc, "ndf", 8);
    gt_model_opt_set(&mc, "d_norm", norm);
    gt_rng r;
    gt_rng_init(&r, 7);
    gt_net D;
    *d_out = *d_grad = NAN;
    gt_status st = gt_model_build(&mc, GT_NET_D, &r, &D);
    CHECK_MSG(st == GT_OK, "%s: %s", gt_norm_name(norm), gt_last_error());
    if (st != GT_OK) return;
    int m = gt_scope_begin();
    const int64_t per = 28 * 28;
    gt_tensor *x[2] = {gt_test_uniform(1, GT_SHAPE(4, 1, 28, 28), -1, 1),
                       gt_test_uniform(2, GT_SHAPE(4, 1, 28, 28), -1, 1)};
    memcpy(gt_data(x[1]), gt_data(x[0]), per * sizeof(float)); /* the same sample 0, others differ */
    float out0[2] = {0, 0};
    gt_tensor *g[2] = {NULL, NULL};
    for (int v = 0; v < 2; v++) {
        gt_set_requires_grad(x[v], true);
        /* GT_BN_BATCH: how the gradient penalty runs D */
        gt_tensor *o = gt_net_forward(&D, x[v], GT_BN_BATCH);
        CHECK_MSG(o && o->ndim == 1 && o->shape[0] == 4, "forward: %s", gt_last_error());
        if (!o || gt_grad(gt_sum_all(o), NULL, 1, &x[v], &g[v], false) != GT_OK) {
            CHECK_MSG(false, "grad: %s", gt_last_error());
            gt_scope_end(m);
            gt_net_free(&D);
            return;
        }
        out0[v] = gt_data(o)[0];
    }
    *d_out = fabsf(out0[0] - out0[1]);
    float dg = 0, gmax = 0;
    for (int64_t i = 0; i < per; i++) {
        float a = gt_data(g[0])[i], b = gt_data(g[1])[i];
        dg = fabsf(a - b) > dg ? fabsf(a - b) : dg;
        gmax = fabsf(a) > gmax ? fabsf(a) : gmax;
    }
    /* relative to the sizes (a norm-free D at init has small gradients) */
    *d_out /= fmaxf(fabsf(out0[0]), 1e-30f);
    *d_grad = dg / fmaxf(gmax, 1e-30f);
    CHECK_MSG(gmax > 1e-7f, "%s: the input gradient is ~0 (%g): the comparison would say nothing",
              gt_norm_name(norm), gmax);
    fprintf(stderr, "%s: |D(x)_0| %g, max |grad_0| %g; relative changes %g, %g\n", gt_norm_name(norm), out0[0], gmax,
            *d_out, *d_grad);
    gt_scope_end(m);
    gt_net_free(&D);
}

static void test_per_sample(void) {
    float o, g;
    sample0_change(GT_NORM_LAYER, &o, &g);
    /* to 1e-6 relative (in fact bit-identical: each sample is computed on its own) */
    CHECK_MSG(o <= 1e-6f && g <= 1e-6f, "layer norm: sample 0 moved by %g (output), %g (gradient)", o, g);
    sample0_change(GT_NORM_NONE, &o, &g);
    CHECK_MSG(o <= 1e-6f && g <= 1e-6f, "no norm: sample 0 moved by %g (output), %g (gradient)", o, g);
    /* the control: batch norm mixes the batch into every sample */
    sample0_change(GT_NORM_BATCH, &o, &g);
    CHECK_MSG(o > 1e-3f && g > 1e-3f, "batch norm: sample 0 moved only %g (output), %g (gradient)", o, g);
}

/* The layer-norm D's registry: GroupNorm(1, C) where BN was (weight 1, bias 0,
 * no buffers); none drops the module and shifts the indices. */
static void test_layout(void) {
    gt_model_config mc = gt_model_config_default("dcgan");
    mc.res = 32, mc.channels = 3;
    gt_model_opt_set(&mc, "ndf", 8);
    gt_rng r;
    gt_rng_init(&r, 1);
    gt_net B, L, N;
    CHECK(gt_model_build(&mc, GT_NET_D, &r, &B) == GT_OK && gt_model_opt(&B.cfg, "d_norm") == GT_NORM_BATCH); /* the default */
    gt_model_opt_set(&mc, "d_norm", GT_NORM_LAYER);
    CHECK(gt_model_build(&mc, GT_NET_D, &r, &L) == GT_OK);
    gt_model_opt_set(&mc, "d_norm", GT_NORM_NONE);
    CHECK(gt_model_build(&mc, GT_NET_D, &r, &N) == GT_OK);
    gt_tensor *w = gt_params_get(&L.P, "main.3.weight"), *b = gt_params_get(&L.P, "main.3.bias");
    CHECK(w && w->ndim == 1 && w->shape[0] == 16 && gt_data(w)[5] == 1.0f && b && gt_data(b)[5] == 0.0f);
    CHECK(gt_params_get(&L.P, "main.6.weight") && gt_params_get(&L.P, "main.8.weight")); /* conv, norm, conv */
    CHECK(gt_params_count_buffers(&L.P) == 0 && gt_params_count_buffers(&B.P) == 4);
    CHECK(gt_net_num_params(&L) == gt_net_num_params(&B)); /* the same affine parameters */
    CHECK(gt_params_count(&N.P) == 4 && gt_params_get(&N.P, "main.2.weight") && gt_params_get(&N.P, "main.4.weight") &&
          gt_params_get(&N.P, "main.6.weight") && !gt_params_get(&N.P, "main.3.weight"));
    gt_net_free(&B);
    gt_net_free(&L);
    gt_net_free(&N);
    CHECK(gt_model_opt_set(&mc, "d_norm", 9) == GT_ERR_ARG && strstr(gt_last_error(), "d_norm") &&
          strstr(gt_last_error(), "batch, layer, none"));
    CHECK(gt_model_opt_parse(&mc, "d_norm", "group") == GT_ERR_ARG && strstr(gt_last_error(), "group"));
    CHECK(gt_model_opt_set(&mc, "width", 3) == GT_ERR_ARG && strstr(gt_last_error(), "ngf, ndf, gw0, gw1, gw2, gw3, d_norm"));
    CHECK(gt_norm_parse("layer") == GT_NORM_LAYER && gt_norm_parse("group") == -1 &&
          strcmp(gt_norm_name(GT_NORM_NONE), "none") == 0);
}

/* Defaults from the loss; clip only with the original WGAN; JSON round trip;
 * files without the keys read as the runs that wrote them were trained. */
static void test_config(void) {
    gt_train_config c = gt_train_config_default();
    CHECK(gt_train_config_check(&c) == GT_OK && gt_model_opt(&c.model, "d_norm") == GT_NORM_BATCH && c.clip == 0);
    c = gt_train_config_default();
    c.loss = GT_LOSS_WGAN;
    CHECK(gt_train_config_check(&c) == GT_OK && gt_model_opt(&c.model, "d_norm") == GT_NORM_BATCH && c.clip == GT_WGAN_CLIP);
    c = gt_train_config_default();
    c.loss = GT_LOSS_WGAN, c.gp = 10;
    CHECK(gt_train_config_check(&c) == GT_OK && gt_model_opt(&c.model, "d_norm") == GT_NORM_LAYER && c.clip == 0);
    c = gt_train_config_default();
    c.loss = GT_LOSS_HINGE, c.gp = 1;
    gt_model_opt_set(&c.model, "d_norm", GT_NORM_NONE);
    CHECK(gt_train_config_check(&c) == GT_OK && gt_model_opt(&c.model, "d_norm") == GT_NORM_NONE);
    c = gt_train_config_default();
    c.loss = GT_LOSS_WGAN, c.clip = 0.05;
    CHECK(gt_train_config_check(&c) == GT_OK && c.clip == 0.05);
    c = gt_train_config_default();
    c.clip = 0.01; /* ns */
    CHECK(gt_train_config_check(&c) == GT_ERR_ARG && strstr(gt_last_error(), "clip"));
    c = gt_train_config_default();
    c.loss = GT_LOSS_WGAN, c.gp = 10, c.clip = 0.01;
    CHECK(gt_train_config_check(&c) == GT_ERR_ARG && strstr(gt_last_error(), "gradient penalty"));
    c = gt_train_config_default();
    c.loss = GT_LOSS_WGAN, c.clip = -3;
    CHECK(gt_train_config_check(&c) == GT_ERR_ARG);

    /* round trip */
    c = gt_train_config_default();
    c.loss = GT_LOSS_WGAN, c.clip = 0.03;
    gt_model_opt_set(&c.model, "d_norm", GT_NORM_LAYER);
    CHECK(gt_train_config_check(&c) == GT_OK);
    char *j = gt_train_config_to_json(&c);
    CHECK(j && strstr(j, "\"d_norm\":") && strstr(j, "\"clip\":"));
    gt_train_config d = gt_train_config_default();
    CHECK(j && gt_train_config_from_json(&d, j, "rt") == GT_OK && d.clip == 0.03 && gt_model_opt(&d.model, "d_norm") == GT_NORM_LAYER);
    free(j);
    /* a config from before the options: batch-norm D, no clipping, even for wgan-gp / wgan */
    d = gt_train_config_default();
    CHECK(gt_train_config_from_json(&d, "{\"model\":{\"name\":\"dcgan\",\"res\":28},\"loss\":\"wgan\",\"gp\":10}",
                                    "old") == GT_OK);
    CHECK(gt_model_opt(&d.model, "d_norm") == GT_NORM_BATCH && d.clip == 0);
    CHECK(gt_train_config_check(&d) == GT_OK && gt_model_opt(&d.model, "d_norm") == GT_NORM_BATCH);
    d = gt_train_config_default();
    CHECK(gt_train_config_from_json(&d, "{\"model\":{\"name\":\"dcgan\"},\"loss\":\"wgan\"}", "old") == GT_OK);
    CHECK(gt_train_config_check(&d) == GT_OK && d.clip == 0);
    d = gt_train_config_default();
    CHECK(gt_train_config_from_json(&d, "{\"model\":{\"d_norm\":\"group\"}}", "bad") == GT_ERR_FORMAT &&
          strstr(gt_last_error(), "model.d_norm"));
}

/* --loss wgan: after each D step every D parameter is in [-clip, clip]; the
 * same steps unclipped leave weights outside. */
static void clipped_run(double clip, float *max_abs) {
    gt_train_config c = small_config("", 3);
    c.loss = GT_LOSS_WGAN, c.clip = clip, c.n_critic = 2;
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &c, NULL);
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    for (int i = 0; i < 3 && st == GT_OK; i++) {
        st = gt_trainer_step(&t, NULL);
        CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    }
    *max_abs = st == GT_OK ? d_max_abs(&t.D) : NAN;
    gt_trainer_free(&t);
}

static void test_clip(void) {
    float m;
    clipped_run(GT_CLIP_DEFAULT, &m);
    CHECK_MSG(m == (float)GT_WGAN_CLIP, "default clipping: max |w| of D %g, want exactly 0.01", m);
    clipped_run(0.05, &m);
    CHECK_MSG(m == 0.05f, "clip 0.05: max |w| of D %g", m);
    clipped_run(0, &m); /* off: the N(0, 0.02) conv weights and ~1 norm weights stay outside */
    CHECK_MSG(m > 0.5f, "no clipping: max |w| of D only %g", m);
}

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* A run that would train nothing writes nothing. */
static void test_nothing_to_train(void) {
    gt_train_config c = small_config(tp("zero"), 0);
    gt_trainer t;
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_OK);
    CHECK(gt_train_run(&t, NULL) == GT_ERR_ARG && strstr(gt_last_error(), "nothing to train"));
    CHECK(!exists(tp("zero")));
    gt_trainer_free(&t);
}

/* WGAN-GP: the checkpoint has the layer-norm D; a trainer of the same config
 * loads it, a batch-norm one cannot; the generator loads for sampling. */
static void test_wgan_gp_checkpoint(void) {
    gt_train_config c = small_config(tp("gp"), 2);
    c.loss = GT_LOSS_WGAN, c.gp = 10;
    gt_trainer t, u;
    CHECK_MSG(gt_trainer_init(&t, &c, NULL) == GT_OK, "%s", gt_last_error());
    CHECK(gt_model_opt(&t.cfg.model, "d_norm") == GT_NORM_LAYER);
    CHECK_MSG(gt_train_run(&t, NULL) == GT_OK, "%s", gt_last_error());
    char last[800];
    gt_train_last_ckpt(&c, last, sizeof last);
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_load(&s, last) == GT_OK);
    const gt_st_tensor *w = gt_st_find(&s, "D.main.3.weight");
    CHECK(w && w->ndim == 1 && w->shape[0] == 16 && gt_st_find(&s, "D.main.3.bias"));
    CHECK(!gt_st_find(&s, "D.main.3.running_mean") && gt_st_find(&s, "G.main.1.running_mean"));
    const char *cj = gt_st_get_meta(&s, "config");
    CHECK(cj && strstr(cj, "\"layer\""));
    gt_st_free(&s);

    c.steps = 4;
    CHECK(gt_trainer_init(&u, &c, NULL) == GT_OK);
    CHECK_MSG(gt_trainer_load(&u, last) == GT_OK, "%s", gt_last_error());
    CHECK(u.step == 2 && memcmp(gt_data(u.D.P.slab), gt_data(t.D.P.slab), (size_t)t.D.P.numel * 4) == 0);
    CHECK_MSG(gt_train_run(&u, NULL) == GT_OK, "%s", gt_last_error());
    gt_trainer_free(&u);
    gt_trainer_free(&t);

    gt_model_opt_set(&c.model, "d_norm", GT_NORM_BATCH); /* the same run with a batch-norm D does not fit */
    CHECK(gt_trainer_init(&u, &c, NULL) == GT_OK);
    CHECK(gt_trainer_load(&u, last) == GT_ERR_SHAPE && strstr(gt_last_error(), "D.main.3.running_mean"));
    gt_trainer_free(&u);

    gt_net G;
    gt_train_config lc;
    bool ema = false;
    CHECK_MSG(gt_load_generator(last, true, &G, &lc, &ema) == GT_OK, "%s", gt_last_error());
    CHECK(gt_model_opt(&lc.model, "d_norm") == GT_NORM_LAYER && lc.gp == 10);
    gt_net_free(&G);
}

int main(void) {
    gt_set_num_threads(2);
    snprintf(g_idx, sizeof g_idx, "%s/tiny-images-idx3-ubyte", gt_test_tmpdir());
    if (!gt_test_write_idx(g_idx, 48)) {
        fprintf(stderr, "cannot write %s\n", g_idx);
        return 1;
    }
    RUN(test_per_sample);
    RUN(test_layout);
    RUN(test_config);
    RUN(test_clip);
    RUN(test_nothing_to_train);
    RUN(test_wgan_gp_checkpoint);
    return gt_test_finish();
}
