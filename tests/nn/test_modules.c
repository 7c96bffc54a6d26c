/* Module forwards against torch.nn with gantry's own weights exported: the
 * outputs, the input gradients, the parameter gradients (read from the
 * gradient slab), batch norm's running statistics and eval mode, and the
 * registry names matching PyTorch's state_dict keys. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

typedef struct {
    gt_nn_linear lin, lin_nb;
    gt_nn_conv2d conv, conv_g, conv_d;
    gt_nn_conv_transpose2d convt, convt_g;
    gt_nn_batch_norm bn2d, bn1d, bn_na;
    gt_nn_embedding emb;
} mods;

static gt_conv_params cp(int stride, int pad, int dil, int groups, int out_pad) {
    gt_conv_params p = gt_conv_params_make(stride, pad);
    p.dil_h = p.dil_w = dil;
    p.groups = groups;
    p.out_pad_h = p.out_pad_w = out_pad;
    return p;
}

static void build(mods *m, gt_params *P) {
    gt_rng r;
    gt_rng_init(&r, 2024);
    gt_params_init(P);
    CHECK(gt_nn_linear_init(&m->lin, P, "lin", 6, 5, true, &r) == GT_OK);
    CHECK(gt_nn_linear_init(&m->lin_nb, P, "lin_nb", 6, 4, false, &r) == GT_OK);
    CHECK(gt_nn_conv2d_init(&m->conv, P, "conv", 3, 4, 3, 3, cp(1, 1, 1, 1, 0), true, &r) == GT_OK);
    CHECK(gt_nn_conv2d_init(&m->conv_g, P, "conv_g", 4, 6, 4, 4, cp(2, 1, 1, 2, 0), false, &r) == GT_OK);
    CHECK(gt_nn_conv2d_init(&m->conv_d, P, "conv_d", 3, 2, 3, 3, cp(1, 2, 2, 1, 0), true, &r) == GT_OK);
    CHECK(gt_nn_conv_transpose2d_init(&m->convt, P, "convt", 4, 3, 4, 4, cp(2, 1, 1, 1, 0), true, &r) == GT_OK);
    CHECK(gt_nn_conv_transpose2d_init(&m->convt_g, P, "convt_g", 4, 6, 3, 3, cp(2, 1, 1, 2, 1), true, &r) == GT_OK);
    CHECK(gt_nn_batch_norm_init(&m->bn2d, P, "bn2d", 4, true, true) == GT_OK);
    CHECK(gt_nn_batch_norm_init(&m->bn1d, P, "bn1d", 5, true, true) == GT_OK);
    CHECK(gt_nn_batch_norm_init(&m->bn_na, P, "bn_na", 3, false, true) == GT_OK);
    CHECK(gt_nn_embedding_init(&m->emb, P, "emb", 10, 4, &r) == GT_OK);
    CHECK(gt_params_finalize(P) == GT_OK);
    /* batch norm's affine parameters away from (1, 0) so they are tested */
    CHECK(gt_params_set(P, "bn2d.weight", gt_test_uniform(1, S(4), 0.5f, 1.5f)) == GT_OK);
    CHECK(gt_params_set(P, "bn2d.bias", gt_test_uniform(2, S(4), -0.5f, 0.5f)) == GT_OK);
    CHECK(gt_params_set(P, "bn1d.weight", gt_test_uniform(3, S(5), 0.5f, 1.5f)) == GT_OK);
    CHECK(gt_params_set(P, "bn1d.bias", gt_test_uniform(4, S(5), -0.5f, 0.5f)) == GT_OK);
}

typedef enum { K_LIN, K_LIN_NB, K_CONV, K_CONV_G, K_CONV_D, K_CONVT, K_CONVT_G, K_BN2D, K_BN1D, K_BN_NA, K_EMB } kind;

typedef struct {
    const char *name;   /* case */
    const char *module; /* registry prefix */
    kind k;
    int ndim;
    int64_t shape[4];
} gt_case;

static const gt_case CASES[] = {
    {"lin", "lin", K_LIN, 2, {3, 6}},
    {"lin3", "lin", K_LIN, 3, {2, 3, 6}},
    {"lin_nb", "lin_nb", K_LIN_NB, 2, {3, 6}},
    {"conv", "conv", K_CONV, 4, {2, 3, 8, 8}},
    {"conv_g", "conv_g", K_CONV_G, 4, {2, 4, 9, 9}},
    {"conv_d", "conv_d", K_CONV_D, 4, {1, 3, 7, 7}},
    {"convt", "convt", K_CONVT, 4, {2, 4, 5, 5}},
    {"convt_g", "convt_g", K_CONVT_G, 4, {1, 4, 4, 4}},
    {"bn2d", "bn2d", K_BN2D, 4, {3, 4, 5, 5}},
    {"bn1d", "bn1d", K_BN1D, 2, {8, 5}},
    {"bn_na", "bn_na", K_BN_NA, 4, {2, 3, 4, 4}},
    {"emb", "emb", K_EMB, 2, {2, 3}},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static gt_nn_batch_norm *bn_of(mods *m, kind k) {
    return k == K_BN2D ? &m->bn2d : k == K_BN1D ? &m->bn1d : k == K_BN_NA ? &m->bn_na : NULL;
}

static gt_tensor *forward(mods *m, kind k, gt_tensor *x) {
    switch (k) {
    case K_LIN: return gt_nn_linear_forward(&m->lin, x);
    case K_LIN_NB: return gt_nn_linear_forward(&m->lin_nb, x);
    case K_CONV: return gt_nn_conv2d_forward(&m->conv, x);
    case K_CONV_G: return gt_nn_conv2d_forward(&m->conv_g, x);
    case K_CONV_D: return gt_nn_conv2d_forward(&m->conv_d, x);
    case K_CONVT: return gt_nn_conv_transpose2d_forward(&m->convt, x);
    case K_CONVT_G: return gt_nn_conv_transpose2d_forward(&m->convt_g, x);
    case K_EMB: return gt_nn_embedding_forward(&m->emb, x);
    default: return gt_nn_batch_norm_forward(bn_of(m, k), x);
    }
}

static gt_tensor *make_input(int c) {
    const gt_case *cs = &CASES[c];
    if (cs->k == K_EMB) return gt_from_i32(S(2, 3), (int32_t[]){3, 0, 9, 3, 7, 3});
    gt_tensor *x = gt_test_randn(300 + (uint64_t)c, cs->ndim, cs->shape, 1.0f);
    if (cs->k == K_BN2D || cs->k == K_BN1D) { /* statistics away from (0, 1) */
        float *d = gt_data(x);
        for (int64_t i = 0; i < gt_numel(x); i++) d[i] = 2.0f * d[i] + 0.7f;
    }
    x->requires_grad = true;
    return x;
}

static void test_modules_vs_pytorch(void) {
    mods m;
    gt_params P;
    build(&m, &P);
    gt_tensor *xs[NCASES], *ws[NCASES];
    const char *names[64];
    gt_tensor *ts[64];
    static char buf[64][96];
    int k = 0;
    for (int i = 0; i < P.n; i++) {
        names[k] = P.v[i].name;
        ts[k++] = P.v[i].t;
    }
    for (int c = 0; c < NCASES; c++) {
        xs[c] = make_input(c);
        bool prev = gt_no_grad_begin();
        gt_nn_batch_norm *bn = bn_of(&m, CASES[c].k);
        if (bn) bn->training = false; /* a shape probe that leaves the running stats alone */
        gt_tensor *y = forward(&m, CASES[c].k, xs[c]);
        if (bn) bn->training = true;
        gt_grad_mode_restore(prev);
        CHECK_MSG(y != NULL, "%s: %s", CASES[c].name, gt_last_error());
        if (!y) {
            gt_params_free(&P);
            return;
        }
        ws[c] = gt_test_randn(900 + (uint64_t)c, y->ndim, y->shape, 1.0f);
        snprintf(buf[k], 96, "%s.%s", CASES[c].k == K_EMB ? "idx" : "x", CASES[c].name);
        names[k] = buf[k];
        ts[k++] = xs[c];
        snprintf(buf[k], 96, "w.%s", CASES[c].name);
        names[k] = buf[k];
        ts[k++] = ws[c];
    }
    char path[512];
    snprintf(path, sizeof path, "%s/nn_modules_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(path, k, names, ts));
    if (!gt_golden_run("nn_modules.py", path)) {
        gt_params_free(&P);
        return;
    }
    CHECK_MSG(gt_item(gt_golden("names_ok")) == 1.0f, "registry names differ from torch's state_dict keys");
    char nm[160];
    for (int c = 0; c < NCASES; c++) {
        const gt_case *cs = &CASES[c];
        CHECK(gt_params_zero_grad(&P) == GT_OK);
        gt_tensor *y = forward(&m, cs->k, xs[c]);
        snprintf(nm, sizeof nm, "y.%s", cs->name);
        gt_test_close(nm, y, gt_golden(nm), 1e-4f, 1e-5f);
        gt_release(xs[c]->grad);
        xs[c]->grad = NULL;
        CHECK(gt_backward(gt_sum_all(gt_mul(y, ws[c]))) == GT_OK);
        if (cs->k != K_EMB) {
            snprintf(nm, sizeof nm, "gx.%s", cs->name);
            gt_test_close(nm, xs[c]->grad, gt_golden(nm), 1e-4f, 1e-5f);
        }
        size_t plen = strlen(cs->module);
        for (int i = 0; i < P.n; i++) {
            const gt_param *p = &P.v[i];
            if (p->is_buffer || strncmp(p->name, cs->module, plen) != 0 || p->name[plen] != '.') continue;
            snprintf(nm, sizeof nm, "grad.%s.%s", cs->name, p->name + plen + 1);
            /* the gradient slab's view, which backward accumulated into */
            gt_test_close(nm, gt_params_slab_view(&P, i, P.grad), gt_golden(nm), 1e-4f, 1e-5f);
        }
        gt_nn_batch_norm *bn = bn_of(&m, cs->k);
        if (bn) {
            snprintf(nm, sizeof nm, "rs.%s.running_mean", cs->name);
            gt_test_close(nm, bn->running_mean, gt_golden(nm), 1e-5f, 1e-6f);
            snprintf(nm, sizeof nm, "rs.%s.running_var", cs->name);
            gt_test_close(nm, bn->running_var, gt_golden(nm), 1e-5f, 1e-6f);
            bn->training = false;
            snprintf(nm, sizeof nm, "yeval.%s", cs->name);
            gt_test_close(nm, forward(&m, cs->k, xs[c]), gt_golden(nm), 1e-4f, 1e-5f);
            bn->training = true;
        }
    }
    gt_params_free(&P);
}

/* A small generator-shaped stack trained a few Adam steps: modules, slab
 * gradients and the optimizer working together (loss goes down). */
static void test_stack_trains(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 5);
    gt_nn_linear fc;
    gt_nn_batch_norm bn;
    gt_nn_conv_transpose2d up;
    CHECK(gt_nn_linear_init(&fc, &P, "fc", 8, 4 * 4 * 4, true, &r) == GT_OK);
    CHECK(gt_nn_batch_norm_init(&bn, &P, "bn", 4, true, true) == GT_OK);
    CHECK(gt_nn_conv_transpose2d_init(&up, &P, "up", 4, 1, 4, 4, gt_conv_params_make(2, 1), true, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    gt_adam opt;
    CHECK(gt_adam_init(&opt, &P, 1e-2, 0.5, 0.999, 1e-8, 0) == GT_OK);
    gt_tensor *z = gt_test_randn(1, S(6, 8), 1.0f), *target = gt_test_uniform(2, S(6, 1, 8, 8), -1.0f, 1.0f);
    float first = 0, last = 0;
    for (int it = 0; it < 30; it++) {
        int mk = gt_scope_begin();
        CHECK(gt_params_zero_grad(&P) == GT_OK);
        gt_tensor *h = gt_reshape(gt_nn_linear_forward(&fc, z), S(6, 4, 4, 4));
        gt_tensor *y = gt_tanh(gt_nn_conv_transpose2d_forward(&up, gt_relu(gt_nn_batch_norm_forward(&bn, h))));
        gt_tensor *loss = gt_mean_all(gt_mul(gt_sub(y, target), gt_sub(y, target)));
        CHECK(loss != NULL && gt_backward(loss) == GT_OK);
        if (loss) last = gt_item(loss);
        if (it == 0) first = last;
        CHECK(gt_adam_step(&opt) == GT_OK);
        gt_scope_end(mk);
    }
    CHECK_MSG(last < 0.7f * first, "loss %g -> %g", first, last);
    gt_adam_free(&opt);
    gt_params_free(&P);
}

int main(void) {
    RUN(test_modules_vs_pytorch);
    RUN(test_stack_trains);
    return gt_test_finish();
}
