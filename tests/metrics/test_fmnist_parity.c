/* The Fashion-MNIST classifier (gantry/fmnist.h) against the same CNN in
 * PyTorch (tests/parity/metrics_fmnist.py), which reads our safetensors file
 * by parsing the format itself:
 *   - the input pipeline (luma, antialiased bilinear resize to 28x28, rounding)
 *     vs torch on Fashion-MNIST images and on random gray / RGB images of odd
 *     sizes (larger and smaller than 28);
 *   - eval-mode features (relu(fc1), 128) and logits (10) to 1e-4 max relative
 *     error (max |ours - torch| / max |torch|), with seeded random weights (BN
 *     affine and running statistics random too) and with the shipped weights;
 *   - a training-mode step: loss, features, logits, every parameter gradient
 *     and the updated BN running statistics. */
#include <unistd.h>

#include "../common/harness.h"
#include "gantry/fmnist.h"

#define REL_TOL 1e-4
#define SHIPPED GT_SOURCE_DIR "/assets/" GT_FMNIST_WEIGHTS_FILE

static double rel_err(const float *a, const gt_tensor *b) {
    if (!a || !b) return INFINITY;
    const float *y = gt_data(b);
    double md = 0, mb = 0;
    for (int64_t i = 0, n = gt_numel(b); i < n; i++) {
        md = fmax(md, fabs((double)a[i] - y[i]));
        mb = fmax(mb, fabs((double)y[i]));
    }
    return mb > 0 ? md / mb : md;
}

static uint8_t *random_u8(uint64_t seed, int64_t n) {
    uint8_t *p = malloc((size_t)n);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; p && i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        p[i] = (uint8_t)(s >> 24);
    }
    return p;
}

typedef struct {
    const char *name;
    int n, c, h, w;
    uint8_t *img; // (n, c, h, w)
} group;

#define NG 5
static group G[NG];

static void make_groups(void) {
    gt_dataset_opts o = {.limit = 64};
    gt_dataset *ds = gt_dataset_open("fashion-mnist:test", 0, 0, &o);
    CHECK_MSG(ds != NULL, "fashion-mnist:test: %s", gt_last_error());
    G[0] = (group){"fm", 64, 1, 28, 28, NULL};
    if (ds) {
        G[0].img = malloc(64 * 784);
        memcpy(G[0].img, ds->pixels, 64 * 784);
        gt_dataset_free(ds);
    } else G[0].img = random_u8(1, 64 * 784);
    G[1] = (group){"rgb_odd", 6, 3, 37, 45, random_u8(2, 6 * 3 * 37 * 45)};
    G[2] = (group){"gray_small", 5, 1, 20, 33, random_u8(3, 5 * 20 * 33)};
    G[3] = (group){"rgb_big", 3, 3, 64, 64, random_u8(4, 3 * 3 * 64 * 64)};
    G[4] = (group){"rgb_28", 4, 3, 28, 28, random_u8(5, 4 * 3 * 28 * 28)};
}

static gt_tensor *u8_tensor(const uint8_t *p, int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    gt_tensor *t = gt_empty_i32(ndim, shape);
    for (int64_t i = 0; i < n; i++) gt_data_i32(t)[i] = p[i];
    return t;
}

/* Writes the inputs (+ a training batch when train), runs the script on
 * weights, checks the pipeline, eval outputs and (train) the training step. */
static void compare(const char *what, const char *weights, gt_fmnist *net, bool train) {
    const char *names[2 * NG + 3];
    gt_tensor *ts[2 * NG + 3];
    char nb[2 * NG][64], list[256] = "";
    int k = 0;
    uint8_t *pre[NG];
    for (int g = 0; g < NG; g++) {
        group *q = &G[g];
        gt_tensor *x = gt_fmnist_preprocess(q->img, q->n, q->c, q->h, q->w);
        CHECK_MSG(x != NULL, "%s: %s", q->name, gt_last_error());
        pre[g] = malloc((size_t)q->n * 784);
        int64_t off = 0; /* values that are not exactly v / 255 */
        for (int64_t i = 0; x && i < (int64_t)q->n * 784; i++) {
            float v = gt_data(x)[i];
            pre[g][i] = (uint8_t)lrintf(v * 255.0f);
            off += v != (float)pre[g][i] / 255.0f;
        }
        CHECK_MSG(off == 0, "%s: %lld inputs are not v / 255", q->name, (long long)off);
        snprintf(nb[2 * g], 64, "%s.u8", q->name);
        snprintf(nb[2 * g + 1], 64, "%s.pre", q->name);
        names[k] = nb[2 * g], ts[k++] = u8_tensor(q->img, 4, (int64_t[]){q->n, q->c, q->h, q->w});
        names[k] = nb[2 * g + 1], ts[k++] = u8_tensor(pre[g], 4, (int64_t[]){q->n, 1, 28, 28});
        strcat(list, q->name);
        strcat(list, ",");
    }
    names[k] = "groups", ts[k++] = u8_tensor((const uint8_t *)list, 1, (int64_t[]){(int64_t)strlen(list)});
    gt_tensor *tx = NULL, *ty = NULL;
    if (train) { /* 32 Fashion-MNIST images, their labels */
        tx = gt_fmnist_preprocess(G[0].img, 32, 1, 28, 28);
        int32_t lab[32];
        for (int i = 0; i < 32; i++) lab[i] = (i * 7) % 10;
        ty = gt_from_i32(1, (int64_t[]){32}, lab);
        names[k] = "train.x", ts[k++] = tx;
        names[k] = "train.y", ts[k++] = ty;
    }
    char in[600], args[1400];
    snprintf(in, sizeof in, "%s/fmnist_%s_in.gtb", gt_test_tmpdir(), what);
    CHECK(gt_golden_write(in, k, names, ts));
    snprintf(args, sizeof args, "%s %s", in, weights);
    if (!gt_golden_run("metrics_fmnist.py", args)) goto done;

    for (int g = 0; g < NG; g++) {
        group *q = &G[g];
        char key[96];
        /* the pipeline: our rounded pixels equal torch's, except where torch's float sits on a .5 tie */
        snprintf(key, sizeof key, "%s.pre_f", q->name);
        gt_tensor *pf = gt_golden(key);
        CHECK(pf && gt_numel(pf) == (int64_t)q->n * 784);
        int64_t exact = 0, ties = 0, bad = 0;
        for (int64_t i = 0; pf && i < (int64_t)q->n * 784; i++) {
            float f = gt_data(pf)[i];
            float r = floorf(f + 0.5f);
            r = r < 0 ? 0 : r > 255 ? 255 : r;
            if ((float)pre[g][i] == r) exact++;
            else if (fabsf(fabsf(f - floorf(f)) - 0.5f) < 1e-3f && fabsf((float)pre[g][i] - f) <= 0.5f + 1e-3f) ties++;
            else bad++;
        }
        CHECK_MSG(bad == 0, "%s %s: %lld preprocessed pixels differ from torch", what, q->name, (long long)bad);
        /* the network on the same pixels */
        float *feat = malloc(sizeof(float) * (size_t)q->n * GT_FMNIST_FEATURE_DIM);
        float *logit = malloc(sizeof(float) * (size_t)q->n * GT_FMNIST_CLASSES);
        CHECK(gt_fmnist_extract(net, q->img, q->n, q->c, q->h, q->w, 3, feat, logit) == GT_OK);
        snprintf(key, sizeof key, "%s.feat", q->name);
        double ef = rel_err(feat, gt_golden(key));
        snprintf(key, sizeof key, "%s.logits", q->name);
        double el = rel_err(logit, gt_golden(key));
        CHECK_MSG(ef <= REL_TOL && el <= REL_TOL, "%s %s: max relative error features %.3g logits %.3g > %g", what,
                  q->name, ef, el, REL_TOL);
        printf("  %-8s %-10s (%d, %d, %2d, %2d): pixels %lld exact %lld ties; max rel err features %.2e logits %.2e\n",
               what, q->name, q->n, q->c, q->h, q->w, (long long)exact, (long long)ties, ef, el);
        free(feat);
        free(logit);
    }
    if (train) {
        gt_params *P = gt_fmnist_params(net);
        int m = gt_scope_begin();
        gt_fmnist_set_training(net, true);
        CHECK(gt_params_zero_grad(P) == GT_OK);
        gt_tensor *f = NULL, *y = NULL;
        CHECK(gt_fmnist_forward(net, tx, &f, &y) == GT_OK);
        gt_tensor *loss = y ? gt_cross_entropy(y, ty) : NULL;
        CHECK(loss && gt_backward(loss) == GT_OK);
        gt_fmnist_set_training(net, false);
        double el = loss ? rel_err(gt_data(loss), gt_golden("train.loss")) : INFINITY;
        double ef = f ? rel_err(gt_data(f), gt_golden("train.feat")) : INFINITY;
        double ey = y ? rel_err(gt_data(y), gt_golden("train.logits")) : INFINITY;
        CHECK_MSG(el <= REL_TOL && ef <= REL_TOL && ey <= REL_TOL, "train: loss %.3g feat %.3g logits %.3g", el, ef,
                  ey);
        double worst = 0;
        for (int i = 0; i < P->n; i++) {
            char key[128];
            const gt_param *e = &P->v[i];
            if (e->is_buffer) {
                if (!strstr(e->name, "running")) continue;
                snprintf(key, sizeof key, "train.%s", e->name);
            } else snprintf(key, sizeof key, "train.grad.%s", e->name);
            gt_tensor *want = gt_golden(key);
            const gt_tensor *got = e->is_buffer ? e->t : e->t->grad;
            CHECK_MSG(want && got && gt_numel(want) == gt_numel(got), "train: %s missing", key);
            if (!want || !got) continue;
            gt_tensor *gc = gt_contiguous((gt_tensor *)got);
            double er = rel_err(gt_data(gc), want);
            CHECK_MSG(er <= 1e-3, "train: %s max relative error %.3g", key, er);
            worst = fmax(worst, er);
        }
        printf("  %-8s training step: loss %.2e features %.2e logits %.2e, gradients / running stats worst %.2e\n",
               what, el, ef, ey, worst);
        gt_scope_end(m);
    }
done:
    for (int g = 0; g < NG; g++) free(pre[g]);
}

static void test_random_weights(void) {
    gt_fmnist *net = gt_fmnist_new(7);
    CHECK(net != NULL);
    if (!net) return;
    /* random BN affine and running statistics, so eval-mode BN is not the identity */
    gt_params *P = gt_fmnist_params(net);
    gt_rng r;
    gt_rng_init(&r, 11);
    for (int i = 0; i < P->n; i++) {
        const gt_param *e = &P->v[i];
        if (strncmp(e->name, "bn", 2) != 0) continue;
        float *d = gt_data(e->t);
        int64_t n = gt_numel(e->t);
        if (strstr(e->name, "running_var") || strstr(e->name, ".weight")) gt_rng_uniform(&r, d, n, 0.5f, 1.5f);
        else gt_rng_uniform(&r, d, n, -0.3f, 0.3f);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/fmnist_random.safetensors", gt_test_tmpdir());
    const char *k[] = {"note"}, *v[] = {"random weights for the parity test"};
    CHECK(gt_fmnist_save(net, path, 1, k, v) == GT_OK);
    gt_fmnist *back = gt_fmnist_new(99);
    CHECK(back && gt_fmnist_load(back, path) == GT_OK);
    compare("random", path, back, true);
    gt_fmnist_free(back);
    gt_fmnist_free(net);
}

static void test_shipped_weights(void) {
    gt_fmnist *net = gt_fmnist_new(0);
    CHECK(net != NULL);
    gt_status st = net ? gt_fmnist_load(net, SHIPPED) : GT_ERR_OOM;
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    if (!st) compare("shipped", SHIPPED, net, false);
    gt_fmnist_free(net);
}

/* Passive OpenMP waiting (as cli/main.c): spinning workers make the CNN
 * many times slower on a busy 2-core machine. */
int main(int argc, char **argv) {
    (void)argc;
    if (!getenv("OMP_WAIT_POLICY") && setenv("OMP_WAIT_POLICY", "passive", 1) == 0) execv("/proc/self/exe", argv);
    make_groups();
    RUN(test_random_weights);
    RUN(test_shipped_weights);
    for (int g = 0; g < NG; g++) free(G[g].img);
    return gt_test_finish();
}
