/* Anycost projection and editing (gantry/anycost_edit.h): projection lowers the reconstruction
 * error of a held-out image (a Fashion-MNIST test image when the dataset is installed, else G's
 * image of a w off the optimization's path), the consistency term lowers the sub-generators'
 * errors, edits move w by strength * dir, directions are unit vectors that raise the classifier's
 * probability of their class, the logistic regression recovers separable classes, the encoder's
 * training lowers its loss, and the files round-trip. A tiny untrained G keeps it fast. */
#include <sys/stat.h>
#include <time.h>

#include "../common/harness.h"
#include "gantry/anycost_edit.h"
#include "gantry/fmnist.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static gt_model_config tiny_config(void) {
    gt_model_config c = gt_model_config_default("anycost");
    c.res = 32, c.channels = 1, c.nz = 32;
    gt_model_opt_set(&c, "w_dim", 32);
    gt_model_opt_set(&c, "n_mlp", 2);
    gt_model_opt_set(&c, "ch", 8);
    gt_model_opt_set(&c, "ch_max", 16);
    return c;
}

static bool tiny_g(gt_net *G, uint64_t seed) {
    gt_model_config c = tiny_config();
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_status st = gt_model_build(&c, GT_NET_G, &r, G);
    if (st != GT_OK) fprintf(stderr, "build: %s\n", gt_last_error());
    return st == GT_OK;
}

/* A held-out target (1, 1, 32, 32) in [-1, 1]: Fashion-MNIST test image i padded to 32 with the
 * background, else G's image of a w from latents the projection never sees. *real tells which. */
static gt_tensor *target_image(gt_net *G, int i, bool *real) {
    struct stat sb;
    *real = false;
    if (stat("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", &sb) == 0) {
        gt_dataset_opts o = {.limit = i + 1};
        gt_dataset *ds = gt_dataset_open("fashion-mnist:test", 0, 1, &o);
        if (ds && ds->h == 28 && ds->w == 28) {
            gt_tensor *x = gt_full(GT_SHAPE(1, 1, 32, 32), -1.0f);
            const uint8_t *p = gt_dataset_image(ds, i);
            for (int y = 0; y < 28; y++)
                for (int xx = 0; xx < 28; xx++) gt_data(x)[(y + 2) * 32 + xx + 2] = p[y * 28 + xx] / 127.5f - 1.0f;
            gt_dataset_free(ds);
            *real = true;
            return x;
        }
        gt_dataset_free(ds);
    }
    bool prev = gt_no_grad_begin();
    gt_tensor *z = gt_sample_latents(777 + (uint64_t)i, 1, G->cfg.nz, 0);
    gt_tensor *x = gt_anycost_generate(G, z, NULL, NULL);
    gt_grad_mode_restore(prev);
    return x;
}

static const int levels[3] = {8, 16, 32};

/* Mean error over the uniform subs (ratios 0.25, 0.5, 0.75 at 8, 16, 32) of w. */
static double sub_errors(gt_net *G, gt_tensor *w, gt_tensor *img, double out[9]) {
    double s = 0;
    for (int a = 0; a < 3; a++)
        for (int l = 0; l < 3; l++) {
            gt_anycost_sub sub = gt_anycost_uniform(gt_anycost_ratios[a], levels[l]);
            double e = NAN;
            CHECK(gt_anycost_recon_error(G, w, img, &sub, &e) == GT_OK);
            out[a * 3 + l] = e;
            s += e / 9;
        }
    return s;
}

static void test_project(void) {
    gt_net G;
    if (!tiny_g(&G, 3)) {
        CHECK(false);
        return;
    }
    bool real = false;
    gt_tensor *img = target_image(&G, 0, &real);
    CHECK(img != NULL);
    gt_anycost_project_opts o = gt_anycost_project_default();
    o.steps = 60, o.consistency = 0, o.seed = 5;
    gt_tensor *w0 = NULL, *w1 = NULL;
    double before = 0, after = 0, b1 = 0, a1 = 0;
    double t0 = now_s();
    gt_status st = gt_anycost_project(&G, img, &o, NULL, &w0, &before, &after);
    double t1 = now_s();
    CHECK_MSG(st == GT_OK, "project: %s", gt_last_error());
    printf("  target: %s; full MSE %.4f -> %.4f (consistency 0, %d steps, %.2f s)\n",
           real ? "Fashion-MNIST test image 0" : "G's image of a held-out w", before, after, o.steps, t1 - t0);
    CHECK_MSG(after < 0.8 * before, "projection did not lower the error by 20%%: %g -> %g", before, after);
    CHECK(w0 && w0->ndim == 2 && w0->shape[0] == 1 && w0->shape[1] == 32);
    /* the same with the consistency term: each sub's error falls below the run without it */
    o.consistency = 1;
    st = gt_anycost_project(&G, img, &o, NULL, &w1, &b1, &a1);
    CHECK_MSG(st == GT_OK, "project: %s", gt_last_error());
    CHECK(b1 == before);
    printf("  consistency 1: full MSE %.4f -> %.4f\n", b1, a1);
    double e0[9], e1[9], es[9];
    gt_tensor *ws = NULL;
    {
        bool prev = gt_no_grad_begin();
        int m = gt_scope_begin();
        double dummy = 0;
        gt_anycost_project_opts o0 = o;
        o0.steps = 0;
        CHECK(gt_anycost_project(&G, img, &o0, NULL, &ws, &dummy, NULL) == GT_OK);
        gt_scope_end(m);
        gt_grad_mode_restore(prev);
    }
    double m0 = sub_errors(&G, w0, img, e0), m1 = sub_errors(&G, w1, img, e1), ms = sub_errors(&G, ws, img, es);
    int better = 0;
    for (int i = 0; i < 9; i++) {
        printf("  sub %.2f@%-2d  start %.4f  consistency 0: %.4f  1: %.4f\n", gt_anycost_ratios[i / 3],
               levels[i % 3], es[i], e0[i], e1[i]);
        better += e1[i] < e0[i];
    }
    printf("  subs' mean MSE: start %.4f, consistency 0 %.4f, consistency 1 %.4f\n", ms, m0, m1);
    CHECK_MSG(m1 < 0.9 * m0, "consistency did not lower the subs' mean error: %g vs %g", m1, m0);
    CHECK_MSG(better == 9, "consistency lowered only %d of 9 subs' errors", better);
    /* w+ works and lowers the error too */
    gt_tensor *wp = NULL;
    o.wplus = true, o.steps = 30;
    double bp = 0, ap = 0;
    CHECK(gt_anycost_project(&G, img, &o, NULL, &wp, &bp, &ap) == GT_OK);
    CHECK(wp && wp->ndim == 3 && wp->shape[1] == gt_anycost_n_convs(&G.cfg) && ap < bp);
    printf("  w+: %.4f -> %.4f\n", bp, ap);
    /* bad input: the wrong size, named */
    gt_tensor *bad = gt_zeros(GT_SHAPE(1, 1, 28, 28)), *wb = NULL;
    CHECK(gt_anycost_project(&G, bad, &o, NULL, &wb, NULL, NULL) == GT_ERR_SHAPE && !wb);
    CHECK_MSG(strstr(gt_last_error(), "(1, 1, 28, 28)") && strstr(gt_last_error(), "32x32"), "%s", gt_last_error());
    o.lr = -1;
    CHECK(gt_anycost_project(&G, img, &o, NULL, &wb, NULL, NULL) == GT_ERR_ARG);
    /* G's own parameters are left trainable */
    CHECK(G.P.v[0].t->requires_grad);
    gt_release(w0);
    gt_release(w1);
    gt_release(ws);
    gt_release(wp);
    gt_net_free(&G);
}

static void test_edit_and_files(void) {
    gt_net G;
    if (!tiny_g(&G, 4)) {
        CHECK(false);
        return;
    }
    gt_tensor *w = gt_test_randn(1, GT_SHAPE(2, 32), 1.0f);
    gt_tensor *dirs = gt_test_randn(2, GT_SHAPE(10, 32), 1.0f);
    const float s = 2.5f;
    gt_tensor *w2 = gt_anycost_edit(w, dirs, 3, s);
    CHECK(w2 && gt_same_shape(w2, w));
    float maxd = 0;
    for (int i = 0; w2 && i < 2; i++)
        for (int j = 0; j < 32; j++) {
            float want = s * gt_data(dirs)[3 * 32 + j], got = gt_data(w2)[i * 32 + j] - gt_data(w)[i * 32 + j];
            float d = fabsf(got - want) / (1e-6f + fabsf(want));
            maxd = d > maxd ? d : maxd;
        }
    CHECK_MSG(maxd < 1e-5f, "edit moved w by something else than strength * dir (rel %g)", maxd);
    /* exactly w + (strength * dir), each product and sum rounded once (volatile: no fused multiply-add) */
    int exact = 0;
    for (int i = 0; w2 && i < 2; i++)
        for (int j = 0; j < 32; j++) {
            volatile float sd = s * gt_data(dirs)[3 * 32 + j];
            volatile float want = gt_data(w)[i * 32 + j] + sd;
            exact += gt_data(w2)[i * 32 + j] == want;
        }
    CHECK_MSG(exact == 64, "edit: %d of 64 entries are exactly w + strength * dir", exact);
    /* w+: every style input moves */
    gt_tensor *wp = gt_test_randn(3, GT_SHAPE(1, gt_anycost_n_convs(&G.cfg), 32), 1.0f);
    gt_tensor *wp2 = gt_anycost_edit(wp, dirs, 0, -1.0f);
    CHECK(wp2 && fabsf(gt_data(wp2)[32 * 4 + 5] - gt_data(wp)[32 * 4 + 5] + gt_data(dirs)[5]) < 1e-5f);
    CHECK(!gt_anycost_edit(w, dirs, 10, 1.0f) && gt_last_status() == GT_ERR_ARG);
    CHECK(!gt_anycost_edit(w, dirs, 0, NAN) && gt_last_status() == GT_ERR_ARG);
    CHECK(!gt_anycost_edit(gt_zeros(GT_SHAPE(1, 31)), dirs, 0, 1.0f) && gt_last_status() == GT_ERR_SHAPE);
    /* w files */
    const char *pw = gt_test_path("w.safetensors"), *pd = gt_test_path("dirs.safetensors");
    gt_tensor *back = NULL;
    CHECK(gt_anycost_w_save(pw, wp) == GT_OK);
    CHECK(gt_anycost_w_load(&G.cfg, pw, &back) == GT_OK && back && gt_test_close("w+ file", back, wp, 0, 0));
    gt_release(back);
    back = NULL;
    gt_model_config other = G.cfg;
    gt_model_opt_set(&other, "w_dim", 64);
    CHECK(gt_anycost_w_load(&other, pw, &back) == GT_ERR_FORMAT && !back);
    CHECK(strstr(gt_last_error(), "w.safetensors"));
    /* directions files */
    int64_t counts[10] = {5, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(gt_anycost_dirs_save(pd, dirs, counts) == GT_OK);
    CHECK(gt_anycost_dirs_load(&G.cfg, pd, &back) == GT_OK && back && gt_test_close("dirs file", back, dirs, 0, 0));
    gt_release(back);
    back = NULL;
    CHECK(gt_anycost_dirs_load(&other, pd, &back) == GT_ERR_FORMAT && !back);
    CHECK(gt_anycost_dirs_load(&G.cfg, pw, &back) == GT_ERR_FORMAT && strstr(gt_last_error(), "not a directions"));
    CHECK(gt_anycost_w_load(&G.cfg, pd, &back) == GT_ERR_FORMAT && strstr(gt_last_error(), "not a w file"));
    CHECK(gt_anycost_w_load(&G.cfg, gt_test_path("missing.safetensors"), &back) == GT_ERR_IO);
    gt_net_free(&G);
}

/* Synthetic separable classes: the regression's directions point from the rest towards the class. */
static void test_logreg(void) {
    const int n = 600, d = 16, K = 3;
    float *x = malloc(sizeof(float) * n * d), dirs[3 * 16];
    int32_t *lab = malloc(sizeof(int32_t) * n);
    gt_rng r;
    gt_rng_init(&r, 9);
    /* class k: mean 3 * e_k (scaled dims to test the standardization), plus noise; dims correlated */
    for (int i = 0; i < n; i++) {
        lab[i] = i % K;
        gt_rng_normal(&r, x + i * d, d, 0.0f, 1.0f);
        x[i * d + lab[i]] += 4.0f;
        x[i * d + 7] = 10.0f * x[i * d + 7] + x[i * d + 0];
    }
    float d4[4 * 16];
    CHECK(gt_anycost_logreg_directions(x, lab, n, d, 4, 300, d4) == GT_OK);
    double nrm3 = 0;
    for (int j = 0; j < d; j++) nrm3 += d4[3 * d + j] * d4[3 * d + j];
    CHECK_MSG(nrm3 == 0, "a class with no samples must get a zero direction");
    CHECK(gt_anycost_logreg_directions(x, lab, n, d, K, 300, dirs) == GT_OK);
    for (int k = 0; k < K; k++) {
        double nrm = 0;
        int best = 0;
        for (int j = 0; j < d; j++) {
            nrm += dirs[k * d + j] * dirs[k * d + j];
            if (fabsf(dirs[k * d + j]) > fabsf(dirs[k * d + best])) best = j;
        }
        CHECK_MSG(fabs(sqrt(nrm) - 1) < 1e-5, "class %d: norm %g", k, sqrt(nrm));
        CHECK_MSG(best == k && dirs[k * d + k] > 0.5f, "class %d: direction's largest entry %d (%g)", k, best,
                  dirs[k * d + best]);
    }
    CHECK(gt_anycost_logreg_directions(NULL, lab, n, d, K, 10, dirs) == GT_ERR_ARG);
    free(x);
    free(lab);
}

/* Directions of a (tiny, untrained) G: unit norm or zero for absent classes, and the classifier's
 * probability of class k rises on average when w moves along +dir_k. */
static void test_directions(void) {
    gt_net G;
    if (!tiny_g(&G, 6)) {
        CHECK(false);
        return;
    }
    gt_tensor *dirs = NULL;
    int64_t counts[10];
    double t0 = now_s();
    gt_status st = gt_anycost_directions_ex(&G, 400, 11, &dirs, counts);
    printf("  directions of 400 images: %.2f s; classes:", now_s() - t0);
    for (int k = 0; k < 10; k++) printf(" %lld", (long long)counts[k]);
    printf("\n");
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    if (st != GT_OK) {
        gt_net_free(&G);
        return;
    }
    CHECK(dirs->ndim == 2 && dirs->shape[0] == 10 && dirs->shape[1] == 32);
    int64_t total = 0;
    for (int k = 0; k < 10; k++) {
        double nrm = 0;
        for (int j = 0; j < 32; j++) nrm += gt_data(dirs)[k * 32 + j] * gt_data(dirs)[k * 32 + j];
        total += counts[k];
        if (counts[k] == 0 || counts[k] == 400) CHECK_MSG(nrm == 0, "class %d: absent but norm %g", k, sqrt(nrm));
        else CHECK_MSG(fabs(sqrt(nrm) - 1) < 1e-5, "class %d: norm %g", k, sqrt(nrm));
    }
    CHECK(total == 400);
    /* the classifier's probability of class k along +dir_k (held-out latents) */
    char path[4096];
    gt_fmnist *fm = gt_fmnist_new(0);
    CHECK(gt_fmnist_weights_path(NULL, path, sizeof path) == GT_OK && gt_fmnist_load(fm, path) == GT_OK);
    bool prev = gt_no_grad_begin();
    int m = gt_scope_begin();
    gt_tensor *w = gt_anycost_mapping(&G, gt_sample_latents(12345, 64, 32, 0));
    int rose = 0, tried = 0;
    for (int k = 0; k < 10; k++) {
        if (counts[k] < 5 || counts[k] > 395) continue;
        double p[2] = {0, 0};
        for (int side = 0; side < 2; side++) {
            gt_tensor *x = gt_anycost_synthesis(&G, gt_anycost_edit(w, dirs, k, side ? 1.0f : 0.0f), NULL, NULL, NULL);
            gt_tensor *logits = NULL;
            CHECK(gt_fmnist_forward(fm, gt_anycost_fmnist_input(x), NULL, &logits) == GT_OK);
            gt_tensor *pr = gt_contiguous(gt_softmax(logits, 1));
            for (int i = 0; i < 64; i++) p[side] += gt_data(pr)[i * 10 + k] / 64;
        }
        printf("  class %d (%s): mean p %.4f -> %.4f along +dir\n", k, gt_anycost_class_names[k], p[0], p[1]);
        tried++;
        rose += p[1] > p[0];
    }
    gt_scope_end(m);
    gt_grad_mode_restore(prev);
    CHECK_MSG(tried > 0 && rose == tried, "p(class) rose along its direction for %d of %d classes", rose, tried);
    gt_fmnist_free(fm);
    gt_release(dirs);
    /* a 3-channel model has no classifier to label it */
    gt_model_config c3 = tiny_config();
    c3.channels = 3;
    gt_net G3;
    gt_rng r;
    gt_rng_init(&r, 1);
    CHECK(gt_model_build(&c3, GT_NET_G, &r, &G3) == GT_OK);
    gt_tensor *d3 = NULL;
    CHECK(gt_anycost_directions(&G3, 100, 1, &d3) == GT_ERR_ARG && !d3);
    gt_net_free(&G3);
    gt_net_free(&G);
}

/* The encoder: its held-out loss falls with training, it starts a projection nearer, round trip. */
static void test_encoder(void) {
    gt_net G;
    if (!tiny_g(&G, 7)) {
        CHECK(false);
        return;
    }
    gt_anycost_encoder *e0 = NULL, *e1 = NULL, *e2 = NULL;
    double t0 = now_s();
    CHECK(gt_anycost_encoder_train(&G, 0, 1, &e0) == GT_OK);
    CHECK(gt_anycost_encoder_train(&G, 150, 1, &e1) == GT_OK);
    double t1 = now_s();
    if (!e0 || !e1) {
        gt_anycost_encoder_free(e0);
        gt_anycost_encoder_free(e1);
        gt_net_free(&G);
        return;
    }
    int m = gt_scope_begin();
    bool prev = gt_no_grad_begin();
    gt_tensor *w = gt_anycost_mapping(&G, gt_sample_latents(4242, 64, 32, 0));
    gt_tensor *x = gt_anycost_synthesis(&G, w, NULL, NULL, NULL);
    double l0 = gt_item(gt_mse_loss(gt_anycost_encode(e0, x), w)),
           l1 = gt_item(gt_mse_loss(gt_anycost_encode(e1, x), w));
    /* the mean w alone (what an untrained encoder outputs, up to its random head) */
    printf("  encoder held-out MSE on w: untrained %.5f, 150 steps %.5f (%.2f s)\n", l0, l1, t1 - t0);
    CHECK_MSG(l1 < 0.7 * l0, "encoder training did not lower its loss: %g -> %g", l0, l1);
    /* save / load: the same outputs; a G of another config is refused by name */
    const char *p = gt_test_path("enc.safetensors");
    CHECK(gt_anycost_encoder_save(e1, p) == GT_OK);
    CHECK(gt_anycost_encoder_load(&G.cfg, p, &e2) == GT_OK && e2);
    if (e2) CHECK(gt_test_close("encoder round trip", gt_anycost_encode(e2, x), gt_anycost_encode(e1, x), 0, 0));
    gt_model_config other = G.cfg;
    gt_model_opt_set(&other, "ch", 16);
    gt_anycost_encoder *e3 = NULL;
    CHECK(gt_anycost_encoder_load(&other, p, &e3) == GT_ERR_FORMAT && !e3);
    CHECK_MSG(strstr(gt_last_error(), "ch 8") && strstr(gt_last_error(), "ch 16"), "%s", gt_last_error());
    gt_grad_mode_restore(prev);
    /* projection from the encoder's start: it starts nearer than the mean w */
    gt_tensor *img = gt_contiguous(gt_slice(x, 0, 0, 1, 1));
    gt_anycost_project_opts o = gt_anycost_project_default();
    o.steps = 0;
    gt_tensor *wa = NULL, *wb = NULL;
    double bm = 0, be = 0;
    CHECK(gt_anycost_project(&G, img, &o, NULL, &wa, &bm, NULL) == GT_OK);
    CHECK(gt_anycost_project(&G, img, &o, e2, &wb, &be, NULL) == GT_OK);
    printf("  start MSE: mean w %.5f, encoder %.5f\n", bm, be);
    CHECK(be < bm);
    gt_release(wa);
    gt_release(wb);
    gt_scope_end(m);
    gt_anycost_encoder_free(e0);
    gt_anycost_encoder_free(e1);
    gt_anycost_encoder_free(e2);
    gt_net_free(&G);
}

int main(void) {
    RUN(test_edit_and_files);
    RUN(test_logreg);
    RUN(test_encoder);
    RUN(test_directions);
    RUN(test_project);
    return gt_test_finish();
}
