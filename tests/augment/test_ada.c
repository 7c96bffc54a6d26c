/* ADA: the per-sample matrices (groups b, g, c; the reference's strengths and probability rules)
 * and the augmented images equal tests/parity/ada.py (augment.py's formulas on the same draws,
 * torch's affine_grid + grid_sample and matmul; with and without the reference's anti-aliasing:
 * reflect pad, sym6 up/downsampling) to 1e-4, and so does the gradient w.r.t. x;
 * finite-difference gradient check; gt_augment_apply's draws; p = 0 returns x; the adaptive p:
 * up by (images / (kimg * 1000)) per update when r_t > target, down when below, clamped to [0, 1];
 * the checkpoint state resumes mid-interval; p rises while a small D memorizes a tiny set and
 * falls while it cannot (fresh reals). */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

static bool normal_col(int c) { return c == 7 || c == 11 || c == 15 || c == 16 || c == 18 || c == 20 || c == 26; }

/* draws (n, 28): uniforms, normals in the normal columns */
static gt_tensor *make_draws(uint64_t seed, int n) {
    gt_tensor *u = gt_test_uniform(seed, S(n, GT_ADA_NDRAWS), 0.0f, 1.0f);
    gt_tensor *z = gt_test_randn(seed + 1, S(n, GT_ADA_NDRAWS), 1.0f);
    for (int i = 0; i < n * GT_ADA_NDRAWS; i++)
        if (normal_col(i % GT_ADA_NDRAWS)) gt_data(u)[i] = gt_data(z)[i];
    return u;
}

typedef struct {
    const char *key;
    int n, c, h, w;
    double p;
    unsigned groups;
} acase;

static const acase CASES[] = {
    {"rgb_bgc", 6, 3, 12, 10, 0.7, 7}, {"gray_bgc", 5, 1, 9, 11, 1.0, 7}, {"rgb_g", 4, 3, 8, 8, 0.4, 2},
    {"gray_b", 4, 1, 10, 10, 0.9, 1},  {"rgb_c", 4, 3, 6, 7, 1.0, 4},
};
#define NC (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *apply_ada(gt_tensor *x, const acase *k, const float *G, const float *C, bool aa) {
    gt_tensor *y = x;
    if (k->groups & 3) y = aa ? gt_ada_geometric_aa(y, G) : gt_ada_geometric(y, G);
    if (k->groups & 4) y = gt_ada_color(y, C);
    return y;
}

static void test_vs_pytorch(void) {
    gt_tensor *in[NC * 4], *x[NC], *w[NC];
    const char *names[NC * 4];
    char nb[NC * 4][48];
    float *G[NC], *C[NC];
    for (int i = 0; i < NC; i++) {
        const acase *k = &CASES[i];
        x[i] = gt_test_randn(100 + (uint64_t)i, S(k->n, k->c, k->h, k->w), 1.0f);
        x[i]->requires_grad = true;
        w[i] = gt_test_randn(200 + (uint64_t)i, S(k->n, k->c, k->h, k->w), 1.0f);
        gt_tensor *d = make_draws(300 + 2 * (uint64_t)i, k->n);
        in[4 * i] = x[i], in[4 * i + 1] = w[i], in[4 * i + 2] = d;
        in[4 * i + 3] = gt_from_data(S(2), ((const float[]){(float)k->p, (float)k->groups}));
        const char *suf[4] = {"x", "w", "draws", "cfg"};
        for (int j = 0; j < 4; j++) {
            snprintf(nb[4 * i + j], sizeof nb[0], "%s.%s", k->key, suf[j]);
            names[4 * i + j] = nb[4 * i + j];
        }
        G[i] = malloc((size_t)k->n * 9 * sizeof(float));
        C[i] = malloc((size_t)k->n * 16 * sizeof(float));
        CHECK(gt_ada_matrices(k->n, k->c, k->h, k->w, k->p, k->groups, gt_data(d), G[i], C[i]) == GT_OK);
    }
    const char *path = gt_test_path("ada_in.gtb");
    CHECK(gt_golden_write(path, NC * 4, names, in));
    if (gt_golden_run("ada.py", path)) {
        for (int i = 0; i < NC; i++) {
            const acase *k = &CASES[i];
            char nm[64];
            snprintf(nm, sizeof nm, "%s.G", k->key);
            CHECK(gt_test_close_buf(nm, G[i], gt_data(gt_golden(nm)), k->n * 9, 1e-4f, 1e-4f));
            snprintf(nm, sizeof nm, "%s.C", k->key);
            CHECK(gt_test_close_buf(nm, C[i], gt_data(gt_golden(nm)), k->n * 16, 1e-4f, 1e-4f));
            for (int aa = 0; aa < 2; aa++) {
                gt_tensor *y = apply_ada(x[i], k, G[i], C[i], aa);
                CHECK_MSG(y != NULL, "%s: %s", k->key, gt_last_error());
                if (!y) continue;
                snprintf(nm, sizeof nm, "%s.y%s", k->key, aa ? ".aa" : "");
                CHECK(gt_test_close(nm, y, gt_golden(nm), 1e-4f, 1e-4f));
                gt_tensor *g;
                CHECK(gt_grad(gt_sum_all(gt_mul(y, w[i])), NULL, 1, &x[i], &g, false) == GT_OK);
                snprintf(nm, sizeof nm, "%s.g%s", k->key, aa ? ".aa" : "");
                CHECK(gt_test_close(nm, g, gt_golden(nm), 1e-4f, 1e-4f));
            }
        }
        gt_golden_free();
    }
    for (int i = 0; i < NC; i++) free(G[i]), free(C[i]);
}

/* matrices by hand: p = 1 with draws chosen so only an x-flip (b) or only brightness (c) applies */
static void test_by_hand(void) {
    float d[GT_ADA_NDRAWS], G[9], C[16];
    for (int i = 0; i < GT_ADA_NDRAWS; i++) d[i] = normal_col(i) ? 0.0f : 0.0f;
    /* gates at 0 < p: every transform on, with neutral values except x-flip i = 1 */
    d[0] = 0.75f; /* flip */
    d[2] = 0.1f;  /* rot90 i = 0 */
    d[4] = 0.5f, d[5] = 0.5f;
    d[9] = 0.5f, d[13] = 0.5f; /* rotations by 0 */
    d[18] = 1.0f;              /* brightness 0.2 */
    d[24] = 0.5f;              /* hue 0 */
    CHECK(gt_ada_matrices(1, 3, 8, 8, 1.0, 7, d, G, C) == GT_OK);
    const float Ge[9] = {-1, 0, 0, 0, 1, 0, 0, 0, 1};
    CHECK(gt_test_close_buf("flip G", G, Ge, 9, 0, 1e-6f));
    CHECK(fabsf(C[3] - 0.2f) < 1e-6f && fabsf(C[7] - 0.2f) < 1e-6f && fabsf(C[0] - 1.0f) < 1e-6f);
    /* the flip mirrors columns exactly */
    gt_tensor *x = gt_test_randn(5, S(1, 1, 4, 6), 1.0f);
    gt_tensor *y = gt_ada_geometric(x, G);
    float err = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++) err = fmaxf(err, fabsf(gt_data(y)[i * 6 + j] - gt_data(x)[i * 6 + 5 - j]));
    CHECK_MSG(err < 1e-6f, "flip error %g", err);
    /* p = 0: identity matrices whatever the draws */
    gt_tensor *dr = make_draws(9, 3);
    float G3[27], C3[48];
    CHECK(gt_ada_matrices(3, 3, 8, 8, 0.0, 7, gt_data(dr), G3, C3) == GT_OK);
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 9; i++) CHECK(G3[k * 9 + i] == (i % 4 == 0 ? 1.0f : 0.0f));
        for (int i = 0; i < 16; i++) CHECK(C3[k * 16 + i] == (i % 5 == 0 ? 1.0f : 0.0f));
    }
    CHECK(gt_ada_matrices(1, 2, 8, 8, 0.5, 7, d, G, C) == GT_ERR_ARG);
    CHECK(gt_ada_matrices(1, 3, 8, 8, 1.5, 7, d, G, C) == GT_ERR_ARG);
}

static const float *GC_G, *GC_C;
static gt_tensor *f_ada(gt_tensor *const *in, void *ctx) {
    return gt_tanh(gt_ada_color(gt_ada_geometric(in[0], GC_G), GC_C));
}
static gt_tensor *f_ada_aa(gt_tensor *const *in, void *ctx) {
    return gt_tanh(gt_ada_color(gt_ada_geometric_aa(in[0], GC_G), GC_C));
}

static void test_gradcheck(void) {
    gt_tensor *d = make_draws(41, 2);
    float G[18], C[32];
    CHECK(gt_ada_matrices(2, 3, 7, 6, 0.8, 7, gt_data(d), G, C) == GT_OK);
    GC_G = G, GC_C = C;
    gt_tensor *x = gt_test_randn(42, S(2, 3, 7, 6), 0.5f);
    x->requires_grad = true;
    gt_gradcheck_opts o = {.eps = 1e-2f, .rtol = 2e-2f, .atol = 2e-3f, .max_elems = 64};
    CHECK(gt_test_gradcheck("ada", f_ada, 1, &x, NULL, &o));
    CHECK(gt_test_gradgradcheck("ada", f_ada, 1, &x, NULL, &o));
    CHECK(gt_test_gradcheck("ada anti-aliased", f_ada_aa, 1, &x, NULL, &o));
    CHECK(gt_test_gradgradcheck("ada anti-aliased", f_ada_aa, 1, &x, NULL, &o));
}

static void test_apply(void) {
    gt_augment_opts o = gt_augment_opts_default();
    gt_augment *a;
    CHECK(gt_augment_new("ada", &o, &a) == GT_OK);
    if (!a) return;
    CHECK(gt_augment_p(a) == 0.0 && gt_augment_adaptive(a) && isnan(gt_augment_rt(a)));
    gt_tensor *x = gt_test_randn(51, S(4, 3, 8, 8), 1.0f);
    gt_rng r;
    gt_rng_init(&r, 5);
    CHECK(gt_augment_apply(a, x, &r) == x); /* p = 0: x itself */
    gt_augment_free(a);
    /* p = 0.6, groups bgc: apply = the explicit transforms on uniforms then normals from the rng */
    o.p = 0.6;
    CHECK(gt_augment_new("ada:bgc", &o, &a) == GT_OK);
    gt_rng r2;
    gt_rng_init(&r, 6);
    gt_rng_init(&r2, 6);
    gt_tensor *y = gt_augment_apply(a, x, &r);
    float U[4 * GT_ADA_NDRAWS], Z[4 * GT_ADA_NDRAWS], G[36], C[64];
    gt_rng_uniform(&r2, U, 4 * GT_ADA_NDRAWS, 0, 1);
    gt_rng_normal(&r2, Z, 4 * GT_ADA_NDRAWS, 0, 1);
    for (int i = 0; i < 4 * GT_ADA_NDRAWS; i++)
        if (normal_col(i % GT_ADA_NDRAWS)) U[i] = Z[i];
    CHECK(gt_ada_matrices(4, 3, 8, 8, 0.6, 7, U, G, C) == GT_OK);
    gt_tensor *z = gt_ada_color(gt_ada_geometric(x, G), C);
    CHECK(y && z && gt_test_close("ada apply", y, z, 0, 0));
    gt_augment_free(a);
    /* "+aa": the same draws, the anti-aliased geometric execution */
    CHECK(gt_augment_new("ada:bgc+aa", &o, &a) == GT_OK);
    gt_rng_init(&r, 6);
    y = gt_augment_apply(a, x, &r);
    z = gt_ada_color(gt_ada_geometric_aa(x, G), C);
    CHECK(y && z && gt_test_close("ada+aa apply", y, z, 0, 0));
    gt_augment_free(a);
    gt_augment *b;
    CHECK(gt_augment_new("ada+aa", &o, &b) == GT_OK && b && gt_augment_adaptive(b));
    gt_augment_free(b);
    CHECK(gt_augment_new("ada:g+ab", &o, &b) == GT_ERR_ARG && strstr(gt_last_error(), "'+ab'"));
    CHECK(gt_augment_new("ada:+aa", &o, &b) == GT_ERR_ARG && strstr(gt_last_error(), "group"));
    CHECK(gt_augment_new("adam", &o, &b) == GT_ERR_ARG && strstr(gt_last_error(), "'adam'"));
    /* grayscale through the whole pipeline, differentiable */
    CHECK(gt_augment_new("ada:c", &o, &a) == GT_OK);
    gt_tensor *xg = gt_test_randn(52, S(3, 1, 8, 8), 1.0f), *g;
    xg->requires_grad = true;
    gt_tensor *yg = gt_augment_apply(a, xg, &r);
    CHECK(yg && gt_grad(gt_sum_all(yg), NULL, 1, &xg, &g, false) == GT_OK);
    CHECK(gt_augment_apply(a, gt_test_randn(53, S(2, 2, 8, 8), 1.0f), &r) == NULL);
    gt_augment_free(a);
}

/* one D step's reals: n logits, npos of them positive */
static void observe(gt_augment *a, int n, int npos) {
    gt_tensor *l = gt_empty(S(n, 1));
    for (int i = 0; i < n; i++) gt_data(l)[i] = i < npos ? 0.5f + (float)i : -0.25f - (float)i;
    CHECK(gt_augment_observe(a, l) == GT_OK);
}

static void test_adaptive_p(void) {
    gt_augment_opts o = gt_augment_opts_default();
    CHECK(o.ada_target == 0.6 && o.ada_kimg == 500 && o.ada_interval == 4 && o.p == 0);
    o.ada_kimg = 0.1; /* 100 images from 0 to 1 */
    gt_augment *a;
    CHECK(gt_augment_new("ada", &o, &a) == GT_OK);
    if (!a) return;
    /* D overfits: every real positive (r_t = 1 > 0.6): p += 4 * 8 / 100 per 4 steps */
    for (int s = 0; s < 3; s++) observe(a, 8, 8);
    CHECK(gt_augment_p(a) == 0.0 && isnan(gt_augment_rt(a))); /* no update before 4 steps */
    observe(a, 8, 8);
    CHECK(fabs(gt_augment_p(a) - 0.32) < 1e-12 && gt_augment_rt(a) == 1.0);
    for (int s = 0; s < 4; s++) observe(a, 8, 7); /* r_t = 0.75 */
    CHECK(fabs(gt_augment_p(a) - 0.64) < 1e-12 && fabs(gt_augment_rt(a) - 0.75) < 1e-12);
    for (int s = 0; s < 8; s++) observe(a, 8, 8);
    CHECK(gt_augment_p(a) == 1.0); /* clamped */
    /* state mid-interval, resumed in a fresh object, continues identically */
    observe(a, 8, 1);
    observe(a, 8, 2);
    double st[GT_AUGMENT_STATE];
    gt_augment_get_state(a, st);
    gt_augment *b;
    CHECK(gt_augment_new("ada", &o, &b) == GT_OK);
    CHECK(gt_augment_set_state(b, st) == GT_OK);
    CHECK(gt_augment_p(b) == 1.0 && gt_augment_rt(b) == 1.0);
    /* D does not overfit: mostly negative reals: p goes down */
    for (gt_augment **q = (gt_augment *[]){a, b, NULL}; *q; q++) {
        observe(*q, 8, 3);
        observe(*q, 8, 0);
    }
    /* 32 images, signs (1 - 7) + (2 - 6) + (3 - 5) + (0 - 8) = -20: r_t = -0.625 */
    CHECK(fabs(gt_augment_p(a) - 0.68) < 1e-12 && fabs(gt_augment_rt(a) + 0.625) < 1e-12);
    CHECK(gt_augment_p(b) == gt_augment_p(a) && gt_augment_rt(b) == gt_augment_rt(a));
    for (int s = 0; s < 16; s++) observe(a, 8, 0);
    CHECK(gt_augment_p(a) == 0.0 && gt_augment_rt(a) == -1.0); /* clamped at 0 */
    /* r_t exactly at the target: p unchanged */
    o.p = 0.5;
    gt_augment *c;
    CHECK(gt_augment_new("ada", &o, &c) == GT_OK);
    for (int s = 0; s < 4; s++) observe(c, 10, 8); /* r_t = (8 - 2) / 10 = 0.6 */
    CHECK(gt_augment_p(c) == 0.5);
    gt_augment_free(c);
    /* the default kimg: 500k images from 0 to 1, so 4 steps of 64 move p by 256 / 500000 */
    o = gt_augment_opts_default();
    CHECK(gt_augment_new("ada", &o, &c) == GT_OK);
    for (int s = 0; s < 4; s++) observe(c, 64, 60);
    CHECK(fabs(gt_augment_p(c) - 256.0 / 500000.0) < 1e-15);
    gt_augment_free(c);
    /* fixed p and DiffAugment: observe changes nothing */
    o.ada_fixed = true;
    o.p = 0.3;
    CHECK(gt_augment_new("ada", &o, &c) == GT_OK && !gt_augment_adaptive(c));
    for (int s = 0; s < 8; s++) observe(c, 8, 8);
    CHECK(gt_augment_p(c) == 0.3);
    gt_augment_free(c);
    CHECK(gt_augment_new("diffaug:color", NULL, &c) == GT_OK);
    for (int s = 0; s < 8; s++) observe(c, 8, 0);
    CHECK(gt_augment_p(c) == 1.0);
    gt_augment_free(c);
    /* a bad state is refused */
    st[0] = 1.5;
    CHECK(gt_augment_set_state(b, st) == GT_ERR_FORMAT);
    gt_augment_free(a);
    gt_augment_free(b);
}

/* A small linear D trained with SGD on reals and fakes augmented by ada:c, observed as the trainer
 * does. memorize: 8 fixed reals among fresh noise fakes of the same distribution (D overfits them:
 * r_t above the target, p rises from 0 until the augmentation stops it); generalize: fresh reals
 * every step (nothing to learn: r_t near 0, p falls from 0.5). Returns the final p. */
static double train_d(bool memorize, double p0, double *rt) {
    gt_augment_opts o = gt_augment_opts_default();
    o.p = p0;
    o.ada_kimg = 1.0; /* 1000 images from 0 to 1: 0.032 per update of 4 steps of 8 */
    gt_augment *a;
    if (gt_augment_new("ada:c", &o, &a) != GT_OK) return -1;
    gt_rng r;
    gt_rng_init(&r, memorize ? 3 : 4);
    gt_tensor *w = gt_zeros(S(64, 1)), *b = gt_zeros(S(1));
    w->requires_grad = b->requires_grad = true;
    gt_tensor *fixed = gt_retain(gt_randn(&r, S(8, 1, 8, 8)));
    for (int step = 0; step < 320; step++) {
        int m = gt_scope_begin();
        gt_tensor *real = memorize ? fixed : gt_randn(&r, S(8, 1, 8, 8)), *fake = gt_randn(&r, S(8, 1, 8, 8));
        gt_tensor *dr = gt_linear(gt_flatten(gt_augment_apply(a, real, &r), 1), gt_transpose(w, 0, 1), b);
        gt_tensor *df = gt_linear(gt_flatten(gt_augment_apply(a, fake, &r), 1), gt_transpose(w, 0, 1), b);
        gt_tensor *loss = gt_add(gt_mean_all(gt_softplus(gt_neg(dr), 1, 20)), gt_mean_all(gt_softplus(df, 1, 20)));
        gt_tensor *g[2], *params[2] = {w, b};
        if (!loss || gt_grad(loss, NULL, 2, params, g, false) != GT_OK) {
            gt_scope_end(m);
            break;
        }
        for (int k = 0; k < 2; k++)
            for (int64_t i = 0; i < gt_numel(params[k]); i++) gt_data(params[k])[i] -= 0.5f * gt_data(g[k])[i];
        gt_augment_observe(a, dr);
        gt_scope_end(m);
    }
    double p = gt_augment_p(a);
    *rt = gt_augment_rt(a);
    gt_release(fixed);
    gt_augment_free(a);
    return p;
}

static void test_p_follows_overfitting(void) {
    /* the luma flip (x -> -x on one channel) undoes a memorizing D: p settles where r_t ~ target */
    double rt, p = train_d(true, 0.0, &rt);
    CHECK_MSG(p >= 0.09, "memorizing D: p %g r_t %g (want p up from 0 by 3 updates or more)", p, rt);
    double rt2, p2 = train_d(false, 0.5, &rt2);
    CHECK_MSG(p2 < 0.2 && rt2 < 0.6, "generalizing D: p %g r_t %g (want p down from 0.5, r_t < 0.6)", p2, rt2);
}

int main(void) {
    RUN(test_by_hand);
    RUN(test_vs_pytorch);
    RUN(test_gradcheck);
    RUN(test_apply);
    RUN(test_adaptive_p);
    RUN(test_p_follows_overfitting);
    return gt_test_finish();
}
