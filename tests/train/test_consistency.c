/* Consistency regularization (src/train/consistency.c): StudioGAN's CR transform on given draws,
 * CR / bCR, latent CR (D's and G's sides) and LeCam on a tiny D and G, values and gradients w.r.t.
 * their parameters against PyTorch (tests/parity/consistency.py); CR's gradient against finite
 * differences; the transform's random draws in range and reproducible; the trainer with every
 * regularizer on runs, logs each one and refuses bad weights naming them. */
#include <math.h>

#include "../common/harness.h"
#include "train_util.h"

#define S(...) GT_SHAPE(__VA_ARGS__)
enum { N = 4 };

/* in: w1, b1, w2, b2 (D), gw, gb (G) */
static gt_tensor *Dnet(gt_tensor *const *p, gt_tensor *x) {
    gt_tensor *h = gt_leaky_relu(gt_conv2d(x, p[0], p[1], gt_conv_params_make(2, 1)), 0.2f);
    return gt_flatten(gt_linear(gt_flatten(h, 1), p[2], p[3]), 0);
}
static gt_tensor *Gnet(gt_tensor *const *p, gt_tensor *z) {
    return gt_reshape(gt_tanh(gt_linear(z, p[4], p[5])), S(-1, 1, 8, 8));
}

static const char *PN[6] = {"w1", "b1", "w2", "b2", "gw", "gb"};
static int flip[N] = {1, 0, 1, 0}, tx[N] = {-1, 0, 1, 1}, ty[N] = {1, -1, 0, 1};
static int flip2[N] = {0, 1, 1, 0}, tx2[N] = {0, 1, -1, -1}, ty2[N] = {-1, 1, 1, 0};
static const float SIGMA = 0.3f, EMA_R = 0.05f, EMA_F = -0.02f;

static gt_tensor *ints(const int *v) {
    gt_tensor *t = gt_empty(S(N));
    for (int i = 0; i < N; i++) gt_data(t)[i] = (float)v[i];
    return t;
}

typedef struct {
    gt_tensor **p, *x, *z, *e;
} ctx;

/* the five quantities on the parameters p (D's and G's) */
static gt_tensor *quantity(int k, gt_tensor *const *p, const ctx *c) {
    bool prev;
    gt_tensor *f, *f2;
    switch (k) {
    case 0: return gt_consistency_l2(Dnet(p, c->x), Dnet(p, gt_cr_transform_with(c->x, flip, tx, ty)));
    case 1:
        f = gt_detach(Gnet(p, c->z));
        return gt_consistency_l2(Dnet(p, f), Dnet(p, gt_cr_transform_with(f, flip2, tx2, ty2)));
    case 2:
        prev = gt_no_grad_begin();
        f = Gnet(p, c->z), f2 = Gnet(p, gt_add(c->z, gt_mul_scalar(c->e, SIGMA)));
        gt_grad_mode_restore(prev);
        return gt_consistency_l2(Dnet(p, f), Dnet(p, f2));
    case 3:
        f2 = Gnet(p, gt_add(c->z, gt_mul_scalar(c->e, SIGMA)));
        return gt_mul_scalar(gt_consistency_l2(Gnet(p, c->z), f2), -1.0f);
    default: return gt_lecam_reg(Dnet(p, c->x), Dnet(p, gt_detach(Gnet(p, c->z))), EMA_R, EMA_F);
    }
}
static const char *QN[5] = {"cr", "bcr_fake", "zcr_dis", "zcr_gen", "lecam"};

static void make(gt_tensor **p, ctx *c) {
    p[0] = gt_test_randn(1, S(4, 1, 4, 4), 0.4f);
    p[1] = gt_test_randn(2, S(4), 0.1f);
    p[2] = gt_test_randn(3, S(1, 64), 0.3f);
    p[3] = gt_test_randn(4, S(1), 0.05f);
    p[4] = gt_test_randn(5, S(64, 4), 0.5f);
    p[5] = gt_test_randn(6, S(64), 0.1f);
    for (int i = 0; i < 6; i++) p[i]->requires_grad = true;
    c->p = p;
    c->x = gt_test_randn(7, S(N, 1, 8, 8), 1.0f);
    c->z = gt_test_randn(8, S(N, 4), 1.0f);
    c->e = gt_test_randn(9, S(N, 4), 1.0f);
}

static void test_matches_pytorch(void) {
    gt_tensor *p[6];
    ctx c;
    make(p, &c);
    gt_tensor *consts = gt_empty(S(3));
    gt_data(consts)[0] = SIGMA, gt_data(consts)[1] = EMA_R, gt_data(consts)[2] = EMA_F;
    const char *names[] = {"w1", "b1", "w2", "b2", "gw", "gb", "x", "z", "e", "consts",
                           "flip", "tx", "ty", "flip2", "tx2", "ty2"};
    gt_tensor *all[] = {p[0], p[1], p[2], p[3], p[4], p[5], c.x, c.z, c.e, consts,
                        ints(flip), ints(tx), ints(ty), ints(flip2), ints(tx2), ints(ty2)};
    const char *path = gt_test_path("cons_in.gtb");
    CHECK(gt_golden_write(path, 16, names, all));
    if (!gt_golden_run("consistency.py", path)) return;
    /* the transform: exact (a permutation of the pixels) */
    gt_tensor *tr = gt_cr_transform_with(c.x, flip, tx, ty);
    gt_test_close("T(x)", tr, gt_golden("tx"), 0.0f, 0.0f);
    for (int k = 0; k < 5; k++) {
        gt_tensor *v = quantity(k, p, &c);
        CHECK_MSG(v != NULL, "%s: %s", QN[k], gt_last_error());
        if (!v) continue;
        gt_test_close(QN[k], v, gt_golden(QN[k]), 1e-4f, 1e-7f);
        CHECK_MSG(fabsf(gt_item(v)) > 1e-6f, "%s is %g: the test would not see a wrong gradient", QN[k], gt_item(v));
        bool gen = k == 3;
        gt_tensor *g[4];
        int np = gen ? 2 : 4;
        CHECK(gt_grad(v, NULL, np, p + (gen ? 4 : 0), g, false) == GT_OK);
        for (int i = 0; i < np; i++) {
            char nm[64];
            snprintf(nm, sizeof nm, "%s.d%s", QN[k], PN[i + (gen ? 4 : 0)]);
            gt_tensor *ref = gt_golden(nm);
            float mx = 0;
            for (int64_t q = 0; ref && q < gt_numel(ref); q++) mx = fmaxf(mx, fabsf(gt_data(ref)[q]));
            /* D's last bias cancels in a difference of D's outputs (CR, bCR, zCR): its gradient is 0 */
            CHECK_MSG(mx > 0 || (k < 3 && i == 3), "%s: the reference gradient is zero", nm);
            gt_test_close(nm, g[i], ref, 1e-4f, 1e-4f * mx);
        }
    }
}

static ctx G_CTX;
static gt_tensor *cr_fn(gt_tensor *const *in, void *u) {
    (void)u;
    gt_tensor *p[6] = {in[0], in[1], in[2], in[3], G_CTX.p[4], G_CTX.p[5]};
    return gt_add(quantity(0, p, &G_CTX), quantity(4, p, &G_CTX));
}

static void test_finite_differences(void) {
    gt_tensor *p[6];
    make(p, &G_CTX);
    gt_gradcheck_opts o = {.eps = 2e-3f, .rtol = 5e-2f, .atol = 5e-3f, .max_elems = 12, .wrt = 0xf};
    gt_test_gradcheck("cr + lecam wrt D's parameters", cr_fn, 4, p, NULL, &o);
}

static void test_random_transform(void) {
    gt_tensor *x = gt_test_randn(11, S(64, 1, 16, 16), 1.0f);
    gt_rng a, b;
    gt_rng_init(&a, 5), gt_rng_init(&b, 5);
    gt_tensor *y1 = gt_cr_transform(x, &a), *y2 = gt_cr_transform(x, &b);
    CHECK(y1 && y2);
    if (!y1 || !y2) return;
    gt_test_close("same draws, same images", y1, y2, 0.0f, 0.0f);
    /* each output is the input flipped or not and shifted by at most 2 = 16 / 8: find it */
    int flips = 0, shifted = 0, found = 0;
    for (int n = 0; n < 64; n++) {
        for (int f = 0; f < 2; f++)
            for (int dx = -2; dx <= 2; dx++)
                for (int dy = -2; dy <= 2; dy++) {
                    gt_tensor *one = gt_contiguous(gt_slice(x, 0, n, n + 1, 1));
                    gt_tensor *t = gt_cr_transform_with(one, (int[]){f}, (int[]){dx}, (int[]){dy});
                    if (memcmp(gt_data(t), gt_data(y1) + n * 256, 256 * sizeof(float)) == 0) {
                        found++, flips += f, shifted += dx != 0 || dy != 0;
                        f = 2, dx = dy = 3; /* the first match */
                    }
                }
    }
    CHECK_MSG(found == 64, "%d of 64 outputs are a flip + shift of their input", found);
    CHECK_MSG(flips > 16 && flips < 48, "%d of 64 flipped (p = 1/2)", flips);
    CHECK_MSG(shifted > 40, "%d of 64 shifted (24 of 25 shifts move)", shifted);
    int bad[1] = {3};
    CHECK(gt_cr_transform_with(gt_slice(x, 0, 0, 1, 1), (int[]){0}, bad, (int[]){0}) == NULL);
}

/* The trainer with every regularizer on: each logged, G and D move, lecam's EMAs saved. */
static void test_trainer_regularizers(void) {
    const char *idx = gt_test_path("tiny.idx");
    CHECK(gt_test_write_idx(idx, 16));
    gt_train_config c = gt_test_tiny_config(idx, "", 3);
    c.batch = 8, c.ema = 0;
    c.cr = 10, c.bcr_real = 5, c.bcr_fake = 5, c.zcr_dis = 10, c.zcr_gen = 0.5, c.lecam = 0.3;
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &c, NULL);
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    gt_step_stats s = {0};
    for (int i = 0; i < 3 && st == GT_OK; i++) st = gt_trainer_step(&t, &s);
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    CHECK(s.cr > 0 && s.bcr_real > 0 && s.bcr_fake > 0 && s.zcr_dis > 0 && s.zcr_gen > 0 && s.lecam >= 0);
    double er;
    memcpy(&er, &t.lecam_ema[0], sizeof er);
    CHECK_MSG(er != 0 && isfinite(er), "LeCam's EMA of D(x) %g", er);
    CHECK(isfinite(s.loss_d) && isfinite(s.loss_g));
    gt_trainer_free(&t);
    /* bad weights: named */
    const char *keys[] = {"cr", "bcr-real", "bcr-fake", "zcr-dis", "zcr-gen", "lecam"};
    for (int k = 0; k < 6; k++) {
        gt_train_config b = gt_test_tiny_config(idx, "", 3);
        double *w[] = {&b.cr, &b.bcr_real, &b.bcr_fake, &b.zcr_dis, &b.zcr_gen, &b.lecam};
        *w[k] = -1;
        CHECK(gt_train_config_check(&b) == GT_ERR_ARG);
        CHECK_MSG(strstr(gt_last_error(), keys[k]) != NULL, "%s: %s", keys[k], gt_last_error());
    }
    gt_train_config b = gt_test_tiny_config(idx, "", 3);
    b.lecam_decay = 1;
    CHECK(gt_train_config_check(&b) == GT_ERR_ARG && strstr(gt_last_error(), "lecam-decay"));
    /* another scheme refuses them */
    b = gt_test_tiny_config(idx, "", 3);
    snprintf(b.model.name, sizeof b.model.name, "anycost");
    b.model = gt_model_config_default("anycost");
    b.model.res = 32, b.model.channels = 1;
    b.data[0] = 0; /* no data: the scheme's refusal comes first */
    b.cr = 1;
    gt_trainer t2;
    st = gt_trainer_init(&t2, &b, NULL);
    CHECK_MSG(st != GT_OK && strstr(gt_last_error(), "scheme"), "anycost with cr: %s", gt_last_error());
    gt_trainer_free(&t2);
}

int main(void) {
    RUN(test_matches_pytorch);
    RUN(test_finite_differences);
    RUN(test_random_transform);
    RUN(test_trainer_regularizers);
    return gt_test_finish();
}
