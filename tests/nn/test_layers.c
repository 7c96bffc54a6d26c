/* The GAN layers (gantry/layers.h) against PyTorch (tests/parity/nn_layers.py)
 * with gantry's own weights exported: registry names = torch's state_dict
 * keys; outputs, input gradients, parameter gradients (read from the
 * gradient slab) and buffers after a training forward; eval forwards.
 * Spectral norm over several training forwards, eval, and a checkpoint
 * round trip. (Finite-difference checks: test_layers_grad.c.)
 *
 * Tolerances: forwards rtol 1e-5 / atol 1e-6 (|a - b| <= atol + rtol |b|; an eval forward after
 * a training one, which reads the running statistics that forward left, atol 2e-6: a residual
 * block's output of 0.007 once differed by 1.07e-6 in CI, its float32 sums' rounding),
 * gradients rtol 1e-4 / atol 1e-5, spectral norm's u, v, sigma 1e-5 / 1e-6;
 * the checkpoint round trip is exact. */
#include "../common/harness.h"
#include <stdarg.h>

#include "gantry/layers.h"

#define S(...) GT_SHAPE(__VA_ARGS__)
#define FWD_RTOL 1e-5f
#define FWD_ATOL 1e-6f
#define EVAL_ATOL 2e-6f
#define GRAD_RTOL 1e-4f
#define GRAD_ATOL 1e-5f

/* printf into a ring of buffers (names that must live until the golden write) */
static const char *nmf(const char *fmt, ...) {
    static char ring[256][128];
    static int at;
    char *b = ring[at++ % 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, 128, fmt, ap);
    va_end(ap);
    return b;
}

/* a against the golden tensor name */
static void close_g(const char *name, const gt_tensor *a, float rtol, float atol) {
    gt_tensor *g = gt_golden(name);
    CHECK_MSG(g != NULL, "golden %s missing", name);
    CHECK_MSG(a != NULL, "%s: gantry gave NULL: %s", name, gt_last_error());
    if (a && g) gt_test_close(name, a, g, rtol, atol);
}

/* Writes every registry entry and the extra tensors, runs nn_layers.py CASE,
 * checks the names. */
static bool golden(const char *case_name, const gt_params *P, int n, const char *const *names, gt_tensor *const *ts) {
    const char *nm[256];
    gt_tensor *t[256];
    int k = 0;
    for (int i = 0; i < P->n && k < 256; i++) {
        nm[k] = P->v[i].name;
        t[k++] = P->v[i].t;
    }
    for (int i = 0; i < n && k < 256; i++) {
        nm[k] = names[i];
        t[k++] = ts[i];
    }
    const char *path = gt_test_path(nmf("nn_layers_%s_in.gtb", case_name));
    CHECK(gt_golden_write(path, k, nm, t));
    if (!gt_golden_run("nn_layers.py", nmf("%s %s", case_name, path))) return false;
    gt_tensor *ok = gt_golden("names_ok");
    CHECK_MSG(ok && gt_item(ok) == 1.0f, "%s: registry names differ from torch's state_dict keys", case_name);
    return true;
}

/* Parameter gradients (from the slab) and, when bufs, buffers of m.<tag>. */
static void cmp_params(const gt_params *P, const char *tag, bool bufs) {
    const char *pre = nmf("m.%s.", tag);
    size_t pl = strlen(pre);
    for (int i = 0; i < P->n; i++) {
        const gt_param *p = &P->v[i];
        if (strncmp(p->name, pre, pl) != 0) continue;
        if (!p->is_buffer)
            close_g(nmf("grad.%s.%s", tag, p->name + pl), gt_params_slab_view(P, i, P->grad), GRAD_RTOL, GRAD_ATOL);
        else if (bufs)
            close_g(nmf("buf.%s.%s", tag, p->name + pl), p->t, FWD_RTOL, FWD_ATOL);
    }
}

/* --- spectral norm ---------------------------------------------------------------- */

typedef struct {
    gt_nn_snconv2d conv;
    gt_nn_snlinear lin;
    gt_nn_snembedding emb;
    gt_nn_snlinear lin2; /* two power iterations per forward, eps 1e-6 */
} sn_mods;
#define SN_N 4
static const char *const SN_TAGS[SN_N] = {"conv", "lin", "emb", "lin2"};

static void sn_build(sn_mods *m, gt_params *P, uint64_t seed) {
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_params_init(P);
    CHECK(gt_nn_snconv2d_init(&m->conv, P, "m.conv", 3, 4, 3, 3, gt_conv_params_make(1, 1), true, true, &r) == GT_OK);
    CHECK(gt_nn_snlinear_init(&m->lin, P, "m.lin", 6, 5, true, true, &r) == GT_OK);
    CHECK(gt_nn_snembedding_init(&m->emb, P, "m.emb", 7, 4, true, &r) == GT_OK);
    CHECK(gt_nn_snlinear_init(&m->lin2, P, "m.lin2", 6, 5, true, true, &r) == GT_OK);
    m->lin2.norm.n_power_iterations = 2;
    m->lin2.norm.eps = 1e-6f;
    CHECK(gt_params_finalize(P) == GT_OK);
}

static gt_nn_spectral_norm *sn_of(sn_mods *m, int t) {
    return t == 0 ? &m->conv.norm : t == 1 ? &m->lin.norm : t == 2 ? &m->emb.norm : &m->lin2.norm;
}

static gt_tensor *sn_fwd(sn_mods *m, int t, gt_tensor *x, gt_layer_mode mode) {
    return t == 0 ? gt_nn_snconv2d_forward(&m->conv, x, mode)
         : t == 1 ? gt_nn_snlinear_forward(&m->lin, x, mode)
         : t == 2 ? gt_nn_snembedding_forward(&m->emb, x, mode)
                  : gt_nn_snlinear_forward(&m->lin2, x, mode);
}

static gt_tensor *sn_input(int t, int k) {
    if (t == 2) {
        int32_t idx[5];
        for (int i = 0; i < 5; i++) idx[i] = (k * 3 + i * 5) % 7;
        return gt_from_i32(S(5), idx);
    }
    gt_tensor *x = t == 0 ? gt_test_randn(100 + (uint64_t)k, S(2, 3, 6, 6), 1.0f)
                          : gt_test_randn(100 * (uint64_t)t + 100 + (uint64_t)k, S(3, 6), 1.0f);
    x->requires_grad = true;
    return x;
}

static bool same_values(const gt_tensor *a, const float *b) {
    return memcmp(gt_data(a), b, sizeof(float) * (size_t)gt_numel(a)) == 0;
}

static void test_spectral_norm_vs_pytorch(void) {
    sn_mods m;
    gt_params P;
    sn_build(&m, &P, 7);
    CHECK(gt_params_get(&P, "m.conv.weight") == NULL && gt_params_get(&P, "m.conv.weight_orig") != NULL);
    CHECK(gt_params_count_buffers(&P) == 8 && gt_params_count_trainable(&P) == 7);
    /* u and v start normalized */
    float nu = 0;
    for (int i = 0; i < 4; i++) nu += gt_data(m.conv.norm.weight_u)[i] * gt_data(m.conv.norm.weight_u)[i];
    CHECK(fabsf(nu - 1.0f) < 1e-5f);

    gt_tensor *xs[SN_N][5], *ws[SN_N];
    const char *names[32];
    gt_tensor *ts[32];
    int k = 0;
    for (int t = 0; t < SN_N; t++) {
        for (int s = 1; s <= 4; s++) {
            xs[t][s] = sn_input(t, s);
            names[k] = nmf("x.%s.%d", SN_TAGS[t], s);
            ts[k++] = xs[t][s];
        }
        ws[t] = t == 0 ? gt_test_randn(11, S(2, 4, 6, 6), 1.0f)
              : t == 2 ? gt_test_randn(13, S(5, 4), 1.0f)
                       : gt_test_randn(12 + (uint64_t)t, S(3, 5), 1.0f);
        names[k] = nmf("w.%s", SN_TAGS[t]);
        ts[k++] = ws[t];
    }
    if (!golden("sn", &P, k, names, ts)) {
        gt_params_free(&P);
        return;
    }
    for (int t = 0; t < SN_N; t++) {
        const char *tag = SN_TAGS[t];
        gt_nn_spectral_norm *sn = sn_of(&m, t);
        CHECK(gt_params_zero_grad(&P) == GT_OK);
        gt_tensor *y[4] = {NULL};
        for (int s = 1; s <= 3; s++) {
            y[s] = sn_fwd(&m, t, xs[t][s], GT_LAYER_TRAIN);
            close_g(nmf("y.%s.%d", tag, s), y[s], FWD_RTOL, FWD_ATOL);
        }
        close_g(nmf("u.%s", tag), sn->weight_u, FWD_RTOL, FWD_ATOL);
        close_g(nmf("v.%s", tag), sn->weight_v, FWD_RTOL, FWD_ATOL);
        close_g(nmf("sigma.%s", tag), gt_scalar(sn->sigma), FWD_RTOL, FWD_ATOL);
        close_g(nmf("weight.%s", tag), gt_nn_spectral_norm_weight(sn, GT_LAYER_EVAL), FWD_RTOL, FWD_ATOL);
        /* gradients through weight_orig / sigma(weight_orig), of two graphs
         * made before one backward (as D(real) and D(fake)): each uses the u
         * and v of its own forward */
        CHECK(y[2] && y[3] && gt_backward(gt_sum_all(gt_mul(gt_add(y[2], y[3]), ws[t]))) == GT_OK);
        if (t != 2) close_g(nmf("gx2.%s", tag), xs[t][2]->grad, GRAD_RTOL, GRAD_ATOL);
        if (t != 2) close_g(nmf("gx.%s", tag), xs[t][3]->grad, GRAD_RTOL, GRAD_ATOL);
        cmp_params(&P, tag, false);
        /* eval and batch forwards use the stored u, v and change nothing */
        float u0[8], v0[64];
        memcpy(u0, gt_data(sn->weight_u), sizeof(float) * (size_t)sn->rows);
        memcpy(v0, gt_data(sn->weight_v), sizeof(float) * (size_t)sn->cols);
        close_g(nmf("yeval.%s", tag), sn_fwd(&m, t, xs[t][1], GT_LAYER_EVAL), FWD_RTOL, FWD_ATOL);
        CHECK(sn_fwd(&m, t, xs[t][1], GT_LAYER_BATCH) != NULL);
        CHECK_MSG(same_values(sn->weight_u, u0) && same_values(sn->weight_v, v0), "%s: eval changed u or v", tag);
    }
    /* a checkpoint round trip into a registry built from another seed: the
     * next training forward continues exactly */
    gt_safetensors st;
    gt_st_init(&st);
    CHECK(gt_st_add_params(&st, NULL, &P, true) == GT_OK);
    const char *path = gt_test_path("layers_sn.safetensors");
    CHECK(gt_st_save(&st, path) == GT_OK);
    gt_st_free(&st);
    sn_mods m2;
    gt_params P2;
    sn_build(&m2, &P2, 99);
    CHECK(!same_values(m2.conv.norm.weight_u, gt_data(m.conv.norm.weight_u)));
    gt_st_init(&st);
    CHECK(gt_st_load(&st, path) == GT_OK);
    CHECK(gt_st_load_params(&st, NULL, &P2, true, true) == GT_OK);
    gt_st_free(&st);
    for (int t = 0; t < SN_N; t++) {
        const char *tag = SN_TAGS[t];
        gt_tensor *y1 = sn_fwd(&m, t, xs[t][4], GT_LAYER_TRAIN), *y2 = sn_fwd(&m2, t, xs[t][4], GT_LAYER_TRAIN);
        close_g(nmf("y.%s.4", tag), y2, FWD_RTOL, FWD_ATOL);
        close_g(nmf("u4.%s", tag), sn_of(&m2, t)->weight_u, FWD_RTOL, FWD_ATOL);
        close_g(nmf("v4.%s", tag), sn_of(&m2, t)->weight_v, FWD_RTOL, FWD_ATOL);
        CHECK(y1 && y2 && gt_test_close(nmf("%s: saved vs loaded", tag), y2, y1, 0.0f, 0.0f));
        CHECK(same_values(sn_of(&m2, t)->weight_u, gt_data(sn_of(&m, t)->weight_u)));
    }
    gt_params_free(&P2);
    gt_params_free(&P);
}

/* --- the other layers: one training forward + backward, then eval ------------------ */

typedef gt_tensor *(*layer_fwd)(void *mod, gt_tensor *const *in, gt_layer_mode mode);
typedef struct {
    const char *tag;
    void *mod;
    layer_fwd fwd;
    int n_in;
    gt_tensor *in[3];
} lcase;

static void run_generic(const char *case_name, gt_params *P, lcase *cs, int nc) {
    const char *names[64];
    gt_tensor *ts[64], *w[16];
    int k = 0;
    for (int c = 0; c < nc; c++) {
        for (int i = 0; i < cs[c].n_in; i++) {
            if (cs[c].in[i]->dtype == GT_F32) cs[c].in[i]->requires_grad = true;
            names[k] = nmf("in%d.%s", i, cs[c].tag);
            ts[k++] = cs[c].in[i];
        }
        bool prev = gt_no_grad_begin();
        gt_tensor *y = cs[c].fwd(cs[c].mod, cs[c].in, GT_LAYER_BATCH); /* a shape probe: changes no state */
        gt_grad_mode_restore(prev);
        CHECK_MSG(y != NULL, "%s: %s", cs[c].tag, gt_last_error());
        if (!y) return;
        w[c] = gt_test_randn(500 + (uint64_t)c, y->ndim, y->shape, 1.0f);
        names[k] = nmf("w.%s", cs[c].tag);
        ts[k++] = w[c];
    }
    if (!golden(case_name, P, k, names, ts)) return;
    for (int c = 0; c < nc; c++) {
        const char *tag = cs[c].tag;
        CHECK(gt_params_zero_grad(P) == GT_OK);
        for (int i = 0; i < cs[c].n_in; i++) {
            gt_release(cs[c].in[i]->grad);
            cs[c].in[i]->grad = NULL;
        }
        gt_tensor *y = cs[c].fwd(cs[c].mod, cs[c].in, GT_LAYER_TRAIN);
        close_g(nmf("y.%s", tag), y, FWD_RTOL, FWD_ATOL);
        CHECK(y && gt_backward(gt_sum_all(gt_mul(y, w[c]))) == GT_OK);
        for (int i = 0; i < cs[c].n_in; i++)
            if (cs[c].in[i]->dtype == GT_F32)
                close_g(nmf("gin%d.%s", i, tag), cs[c].in[i]->grad, GRAD_RTOL, GRAD_ATOL);
        cmp_params(P, tag, true);
        close_g(nmf("yeval.%s", tag), cs[c].fwd(cs[c].mod, cs[c].in, GT_LAYER_EVAL), FWD_RTOL, EVAL_ATOL);
    }
}

static gt_tensor *f_attn(void *m, gt_tensor *const *in, gt_layer_mode mode) {
    return gt_nn_self_attention_forward(m, in[0], mode);
}
static gt_tensor *f_class_bn(void *m, gt_tensor *const *in, gt_layer_mode mode) {
    return gt_nn_class_bn_forward(m, in[0], in[1], mode);
}
static gt_tensor *f_cond_bn(void *m, gt_tensor *const *in, gt_layer_mode mode) {
    return gt_nn_cond_bn_forward(m, in[0], in[1], mode);
}
static gt_tensor *f_mbstd(void *m, gt_tensor *const *in, gt_layer_mode mode) {
    (void)mode;
    const int *gf = m;
    return gt_nn_minibatch_std(in[0], gf[0], gf[1]);
}
static gt_tensor *f_proj(void *m, gt_tensor *const *in, gt_layer_mode mode) {
    return gt_nn_proj_head_forward(m, in[0], in[1], mode);
}
static gt_tensor *f_ac(void *m, gt_tensor *const *in, gt_layer_mode mode) {
    return gt_nn_ac_head_forward(m, in[0], mode);
}
static gt_tensor *f_gen(void *m, gt_tensor *const *in, gt_layer_mode mode) {
    return gt_nn_gen_block_forward(m, in[0], in[1], mode);
}
static gt_tensor *f_dopt(void *m, gt_tensor *const *in, gt_layer_mode mode) {
    return gt_nn_disc_opt_block_forward(m, in[0], mode);
}
static gt_tensor *f_dblk(void *m, gt_tensor *const *in, gt_layer_mode mode) {
    return gt_nn_disc_block_forward(m, in[0], mode);
}

/* a float input with statistics away from (0, 1) */
static gt_tensor *xin(uint64_t seed, int ndim, const int64_t *shape) {
    gt_tensor *x = gt_test_randn(seed, ndim, shape, 1.0f);
    float *d = gt_data(x);
    for (int64_t i = 0; i < gt_numel(x); i++) d[i] = 2.0f * d[i] + 0.7f;
    return x;
}

static void test_attention_vs_pytorch(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 31);
    gt_nn_self_attention sn, plain;
    CHECK(gt_nn_self_attention_init(&sn, &P, "m.sn", 16, true, &r) == GT_OK);
    CHECK(gt_nn_self_attention_init(&plain, &P, "m.plain", 16, false, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    CHECK(gt_item(sn.gamma) == 0.0f && sn.gamma->ndim == 0);
    /* gamma away from 0 so the attention path shows in the output */
    CHECK(gt_params_set_data(&P, "m.sn.gamma", (float[]){0.7f}, 1) == GT_OK);
    CHECK(gt_params_set_data(&P, "m.plain.gamma", (float[]){-0.6f}, 1) == GT_OK);
    lcase cs[] = {{"sn", &sn, f_attn, 1, {gt_test_randn(41, S(2, 16, 4, 4), 1.0f)}},
                  {"plain", &plain, f_attn, 1, {gt_test_randn(42, S(2, 16, 6, 4), 1.0f)}}};
    run_generic("attn", &P, cs, 2);
    /* the 0-d gamma through a checkpoint */
    const char *path = gt_test_path("layers_attn.safetensors");
    gt_safetensors st;
    gt_st_init(&st);
    CHECK(gt_st_add_params(&st, NULL, &P, true) == GT_OK && gt_st_save(&st, path) == GT_OK);
    gt_st_free(&st);
    gt_fill_(sn.gamma, 0.0f);
    gt_st_init(&st);
    CHECK(gt_st_load(&st, path) == GT_OK && gt_st_load_params(&st, NULL, &P, true, true) == GT_OK);
    gt_st_free(&st);
    CHECK(gt_item(sn.gamma) == 0.7f);
    gt_params_free(&P);
}

static void test_conditional_bn_vs_pytorch(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 32);
    gt_nn_class_bn cls;
    gt_nn_cond_bn vec, vecsn;
    CHECK(gt_nn_class_bn_init(&cls, &P, "m.cls", 4, 5) == GT_OK);
    CHECK(gt_nn_cond_bn_init(&vec, &P, "m.vec", 4, 6, false, &r) == GT_OK);
    CHECK(gt_nn_cond_bn_init(&vecsn, &P, "m.vecsn", 4, 6, true, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    CHECK(gt_data(cls.gain)[7] == 1.0f && gt_data(cls.bias)[7] == 0.0f);
    CHECK(gt_params_set(&P, "m.cls.gain.weight", gt_test_uniform(3, S(5, 4), 0.5f, 1.5f)) == GT_OK);
    CHECK(gt_params_set(&P, "m.cls.bias.weight", gt_test_uniform(4, S(5, 4), -0.5f, 0.5f)) == GT_OK);
    lcase cs[] = {{"cls", &cls, f_class_bn, 2, {xin(51, S(4, 4, 3, 3)), gt_from_i32(S(4), (int32_t[]){3, 0, 4, 3})}},
                  {"vec", &vec, f_cond_bn, 2, {xin(52, S(4, 4, 3, 3)), gt_test_randn(53, S(4, 6), 1.0f)}},
                  {"vecsn", &vecsn, f_cond_bn, 2, {xin(54, S(4, 4, 3, 3)), gt_test_randn(55, S(4, 6), 1.0f)}}};
    run_generic("cbn", &P, cs, 3);
    gt_params_free(&P);
}

static void test_minibatch_std_vs_pytorch(void) {
    gt_params P;
    gt_params_init(&P);
    CHECK(gt_params_finalize(&P) == GT_OK);
    int g4[2] = {4, 1}, g2f2[2] = {2, 2};
    lcase cs[] = {{"g4", g4, f_mbstd, 1, {xin(61, S(8, 6, 3, 3))}},
                  {"g2f2", g2f2, f_mbstd, 1, {xin(62, S(6, 6, 3, 3))}},
                  {"small", g4, f_mbstd, 1, {xin(63, S(2, 5, 3, 3))}}};
    run_generic("mbstd", &P, cs, 3);
    /* a batch the group does not divide: a clear error */
    gt_tensor *y = gt_nn_minibatch_std(gt_test_randn(64, S(6, 2, 2, 2), 1.0f), 4, 1);
    CHECK(y == NULL && strstr(gt_last_error(), "multiple") != NULL);
    gt_clear_error();
    CHECK(gt_nn_minibatch_std(gt_test_randn(64, S(4, 3, 2, 2), 1.0f), 4, 2) == NULL);
    gt_clear_error();
    gt_params_free(&P);
}

static void test_heads_vs_pytorch(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 33);
    gt_nn_proj_head proj, projplain;
    gt_nn_ac_head ac;
    CHECK(gt_nn_proj_head_init(&proj, &P, "m.proj", 8, 5, true, &r) == GT_OK);
    CHECK(gt_nn_proj_head_init(&projplain, &P, "m.projplain", 8, 5, false, &r) == GT_OK);
    CHECK(gt_nn_ac_head_init(&ac, &P, "m.ac", 8, 5, true, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    gt_tensor *lab = gt_from_i32(S(4), (int32_t[]){1, 4, 1, 0});
    lcase cs[] = {{"proj", &proj, f_proj, 2, {gt_test_randn(71, S(4, 8), 1.0f), lab}},
                  {"projplain", &projplain, f_proj, 2, {gt_test_randn(72, S(4, 8), 1.0f), lab}},
                  {"ac", &ac, f_ac, 1, {gt_test_randn(73, S(4, 8), 1.0f)}}};
    run_generic("heads", &P, cs, 3);
    gt_params_free(&P);
}

static void test_blocks_vs_pytorch(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 34);
    gt_nn_gen_block gbn, gcls, gvec;
    gt_nn_disc_opt_block dopt;
    gt_nn_disc_block dblk, dsame;
    CHECK(gt_nn_gen_block_init(&gbn, &P, "m.gbn", 4, 6, GT_RES_BN, 0, true, &r) == GT_OK);
    CHECK(gt_nn_gen_block_init(&gcls, &P, "m.gcls", 4, 6, GT_RES_CLASS_BN, 3, true, &r) == GT_OK);
    CHECK(gt_nn_gen_block_init(&gvec, &P, "m.gvec", 4, 6, GT_RES_COND_BN, 5, true, &r) == GT_OK);
    CHECK(gt_nn_disc_opt_block_init(&dopt, &P, "m.dopt", 3, 4, true, &r) == GT_OK);
    CHECK(gt_nn_disc_block_init(&dblk, &P, "m.dblk", 4, 6, true, true, &r) == GT_OK);
    CHECK(gt_nn_disc_block_init(&dsame, &P, "m.dsame", 4, 4, false, false, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    CHECK(gt_params_get(&P, "m.dsame.conv2d0.weight") == NULL && gt_params_get(&P, "m.dblk.conv2d0.bias") != NULL);
    CHECK(gt_params_set(&P, "m.gcls.bn1.gain.weight", gt_test_uniform(5, S(3, 4), 0.5f, 1.5f)) == GT_OK);
    CHECK(gt_params_set(&P, "m.gcls.bn2.bias.weight", gt_test_uniform(6, S(3, 6), -0.5f, 0.5f)) == GT_OK);
    lcase cs[] = {
        {"gbn", &gbn, f_gen, 2, {xin(81, S(2, 4, 4, 4)), NULL}},
        {"gcls", &gcls, f_gen, 2, {xin(82, S(2, 4, 4, 4)), gt_from_i32(S(2), (int32_t[]){2, 0})}},
        {"gvec", &gvec, f_gen, 2, {xin(83, S(2, 4, 4, 4)), gt_test_randn(84, S(2, 5), 1.0f)}},
        {"dopt", &dopt, f_dopt, 1, {gt_test_randn(85, S(2, 3, 8, 8), 1.0f)}},
        {"dblk", &dblk, f_dblk, 1, {gt_test_randn(86, S(2, 4, 8, 8), 1.0f)}},
        {"dsame", &dsame, f_dblk, 1, {gt_test_randn(87, S(2, 4, 8, 8), 1.0f)}},
    };
    cs[0].n_in = 1; /* the BN block takes no condition */
    run_generic("blocks", &P, cs, 6);
    gt_params_free(&P);
}

/* max |t| and the standard deviation of t's values */
static void stats(const gt_tensor *t, float *maxabs, float *sd) {
    const float *d = gt_data(t);
    int64_t n = gt_numel(t);
    double s = 0, s2 = 0;
    *maxabs = 0;
    for (int64_t i = 0; i < n; i++) {
        s += d[i], s2 += (double)d[i] * d[i];
        if (fabsf(d[i]) > *maxabs) *maxabs = fabsf(d[i]);
    }
    *sd = (float)sqrt(s2 / (double)n - (s / (double)n) * (s / (double)n));
}

/* torch's default init: conv / linear weights and biases U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)) (the same with spectral norm, on weight_orig), embeddings
 * N(0, 1), u and v unit vectors, attention's gamma 0. */
static void test_layer_init(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 42);
    gt_nn_snconv2d c;
    gt_nn_snlinear l;
    gt_nn_snembedding e;
    CHECK(gt_nn_snconv2d_init(&c, &P, "c", 16, 32, 3, 3, gt_conv_params_make(1, 1), true, true, &r) == GT_OK);
    CHECK(gt_nn_snlinear_init(&l, &P, "l", 64, 48, true, false, &r) == GT_OK);
    CHECK(gt_nn_snembedding_init(&e, &P, "e", 40, 50, true, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    float mx, sd, b = 1.0f / sqrtf(16 * 9);
    stats(c.norm.weight_orig, &mx, &sd);
    CHECK_MSG(mx <= b && mx > 0.99f * b && fabsf(sd - b / sqrtf(3.0f)) < 0.05f * b, "conv weight max %g sd %g", mx, sd);
    stats(c.bias, &mx, &sd);
    CHECK(mx <= b && mx > 0.8f * b);
    b = 1.0f / 8.0f;
    stats(l.weight, &mx, &sd);
    CHECK_MSG(mx <= b && mx > 0.99f * b && fabsf(sd - b / sqrtf(3.0f)) < 0.05f * b, "linear weight max %g sd %g", mx, sd);
    stats(e.norm.weight_orig, &mx, &sd);
    CHECK_MSG(fabsf(sd - 1.0f) < 0.05f, "embedding sd %g", sd);
    gt_nn_spectral_norm *sns[2] = {&c.norm, &e.norm};
    for (int i = 0; i < 2; i++) {
        gt_tensor *uv[2] = {sns[i]->weight_u, sns[i]->weight_v};
        for (int j = 0; j < 2; j++) {
            double n2 = 0;
            for (int64_t k = 0; k < gt_numel(uv[j]); k++) n2 += (double)gt_data(uv[j])[k] * gt_data(uv[j])[k];
            CHECK_MSG(fabs(n2 - 1.0) < 1e-5, "|%s|^2 = %g", j ? "v" : "u", n2);
        }
    }
    CHECK(c.norm.rows == 32 && c.norm.cols == 144 && e.norm.rows == 40 && e.norm.cols == 50);
    gt_params_free(&P);
}

/* Wrong shapes and arguments: NULL / a status and a message naming them. */
static void test_layer_errors(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 40);
    gt_nn_self_attention a;
    gt_nn_class_bn cbn;
    gt_nn_gen_block gb;
    gt_nn_snconv2d c;
    CHECK(gt_nn_self_attention_init(&a, &P, "a", 4, true, &r) == GT_ERR_ARG);
    CHECK(gt_nn_snconv2d_init(&c, &P, "c", 3, 4, 3, 3, (gt_conv_params){0}, true, true, &r) == GT_ERR_ARG);
    gt_conv_params p0 = gt_conv_params_make(0, 1);
    CHECK(gt_nn_snconv2d_init(&c, &P, "c", 3, 4, 3, 3, p0, true, true, &r) == GT_ERR_ARG);
    CHECK(gt_params_count(&P) == 0);
    CHECK(gt_nn_self_attention_init(&a, &P, "a", 8, true, &r) == GT_OK);
    CHECK(gt_nn_class_bn_init(&cbn, &P, "cbn", 8, 3) == GT_OK);
    CHECK(gt_nn_gen_block_init(&gb, &P, "gb", 8, 4, GT_RES_CLASS_BN, 0, true, &r) == GT_ERR_ARG);
    CHECK(gt_nn_gen_block_init(&gb, &P, "gb", 8, 4, GT_RES_CLASS_BN, 3, true, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    gt_clear_error();
    CHECK(gt_nn_self_attention_forward(&a, gt_test_randn(1, S(2, 8, 3, 4), 1.0f), GT_LAYER_TRAIN) == NULL);
    CHECK(strstr(gt_last_error(), "even") != NULL);
    gt_tensor *x = gt_test_randn(2, S(2, 8, 2, 2), 1.0f);
    CHECK(gt_nn_class_bn_forward(&cbn, x, gt_test_randn(3, S(2), 1.0f), GT_LAYER_TRAIN) == NULL);
    CHECK(strstr(gt_last_error(), "int32 labels") != NULL);
    CHECK(gt_nn_gen_block_forward(&gb, x, NULL, GT_LAYER_TRAIN) == NULL);
    CHECK(strstr(gt_last_error(), "needs y") != NULL);
    /* a failed forward changed no state */
    CHECK(gt_data(cbn.bn.running_var)[0] == 1.0f);
    gt_clear_error();
    gt_params_free(&P);
}

/* A training loop with spectral norm, attention and conditional BN runs in
 * constant memory: every per-forward copy of u and v lives in the step's scope. */
static void test_layers_constant_memory(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 41);
    gt_nn_gen_block gb;
    gt_nn_self_attention a;
    gt_nn_proj_head h;
    CHECK(gt_nn_gen_block_init(&gb, &P, "gb", 8, 8, GT_RES_COND_BN, 4, true, &r) == GT_OK);
    CHECK(gt_nn_self_attention_init(&a, &P, "a", 8, true, &r) == GT_OK);
    CHECK(gt_nn_proj_head_init(&h, &P, "h", 8, 3, true, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    gt_tensor *x = gt_test_randn(1, S(2, 8, 2, 2), 1.0f), *v = gt_test_randn(2, S(2, 4), 1.0f);
    gt_tensor *y = gt_from_i32(S(2), (int32_t[]){0, 2});
    int64_t live = 0;
    for (int it = 0; it < 6; it++) {
        int mk = gt_scope_begin();
        CHECK(gt_params_zero_grad(&P) == GT_OK);
        gt_tensor *o = gt_nn_self_attention_forward(&a, gt_nn_gen_block_forward(&gb, x, v, GT_LAYER_TRAIN),
                                                    GT_LAYER_TRAIN);
        o = gt_nn_proj_head_forward(&h, gt_sum(o, 2, (int[]){2, 3}, false), y, GT_LAYER_TRAIN);
        CHECK(o && gt_backward(gt_sum_all(o)) == GT_OK);
        gt_scope_end(mk);
        if (it == 1) live = gt_live_tensors();
        if (it > 1) CHECK_MSG(gt_live_tensors() == live, "step %d: %lld live tensors, %lld after step 1", it,
                              (long long)gt_live_tensors(), (long long)live);
    }
    gt_params_free(&P);
}

int main(void) {
    RUN(test_spectral_norm_vs_pytorch);
    RUN(test_attention_vs_pytorch);
    RUN(test_conditional_bn_vs_pytorch);
    RUN(test_minibatch_std_vs_pytorch);
    RUN(test_heads_vs_pytorch);
    RUN(test_blocks_vs_pytorch);
    RUN(test_layer_init);
    RUN(test_layer_errors);
    RUN(test_layers_constant_memory);
    return gt_test_finish();
}
