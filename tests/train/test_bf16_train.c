/* Mixed precision in training (gt_train_config.precision, `gantry train --precision bf16`): a small
 * DCGAN (28 px gray, nz 16, ngf = ndf = 16, batch 32) on the first 1024 Fashion-MNIST test images,
 * 30 steps from the same seed in fp32 and in bf16 (data order, latents and initial weights the
 * same). Checked:
 * - fp32 twice gives the same weights bit for bit (so what differs below is the precision);
 * - bf16 differs from fp32 (its convolutions really ran on rounded operands) and stays close: every
 *   step's D and G losses within 0.05 absolute of fp32's (measured: 8e-3 D, 1.1e-2 G), the final
 *   weights' distance to fp32's under 25% of how far fp32's moved from the start, G and D each
 *   (measured: G 0.12, D 0.04; GAN training amplifies any difference step by step), and they stay
 *   finite;
 * - the precision is the trainer's, not left behind: after the bf16 steps the process-wide setting
 *   is fp32 again; config.json-style JSON round-trips "precision": "bf16", and a bad value is
 *   refused. Measured figures are printed. Skipped (passes) when Fashion-MNIST is not installed. */
#include <sys/stat.h>

#include "../common/harness.h"
#include "train_util.h"

enum { STEPS = 30 };

typedef struct {
    double ld[STEPS], lg[STEPS];
    float *g, *d; /* final weights (malloc'd) */
    int64_t ng, nd;
} run_t;

static float *copy_slab(gt_tensor *s, int64_t *n) {
    *n = gt_numel(s);
    float *p = malloc((size_t)*n * sizeof(float));
    memcpy(p, gt_data(s), (size_t)*n * sizeof(float));
    return p;
}

static gt_train_config cfg(int precision) {
    gt_train_config c = gt_test_tiny_config("fashion-mnist:test", "", STEPS);
    gt_model_opt_set(&c.model, "ngf", 16);
    gt_model_opt_set(&c.model, "ndf", 16);
    c.batch = 32, c.data_limit = 1024, c.ema = 0, c.seed = 7, c.threads = 2;
    c.precision = precision;
    return c;
}

static bool train(int precision, run_t *r, float **g0, float **d0) {
    gt_train_config c = cfg(precision);
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &c, NULL);
    CHECK_MSG(st == GT_OK, "init: %s", gt_last_error());
    if (st != GT_OK) return gt_trainer_free(&t), false;
    int64_t n;
    if (g0) *g0 = copy_slab(t.G.P.slab, &n);
    if (d0) *d0 = copy_slab(t.D.P.slab, &n);
    for (int i = 0; i < STEPS && st == GT_OK; i++) {
        gt_step_stats s;
        st = gt_trainer_step(&t, &s);
        r->ld[i] = s.loss_d, r->lg[i] = s.loss_g;
        CHECK(gt_precision_get() == GT_PREC_FP32); /* the step put the setting back */
    }
    CHECK_MSG(st == GT_OK, "step: %s", gt_last_error());
    r->g = copy_slab(t.G.P.slab, &r->ng);
    r->d = copy_slab(t.D.P.slab, &r->nd);
    gt_trainer_free(&t);
    return st == GT_OK;
}

/* ||a - b|| / ||b - start|| and whether a is all finite */
static double rel_dist(const float *a, const float *b, const float *start, int64_t n, bool *finite) {
    double num = 0, den = 0;
    *finite = true;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) *finite = false;
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += ((double)b[i] - start[i]) * ((double)b[i] - start[i]);
    }
    return sqrt(num / (den > 0 ? den : 1));
}

static double l2_diff(const float *a, const float *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += ((double)a[i] - (b ? b[i] : 0)) * ((double)a[i] - (b ? b[i] : 0));
    return sqrt(s);
}

static void test_train(void) {
    struct stat sb;
    if (stat("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", &sb) != 0) {
        printf("  Fashion-MNIST not installed: skipped\n");
        return;
    }
    static run_t a, b, h;
    float *g0 = NULL, *d0 = NULL;
    if (!train(GT_PREC_FP32, &a, &g0, &d0) || !train(GT_PREC_FP32, &b, NULL, NULL) || !train(GT_PREC_BF16, &h, NULL, NULL))
        return;
    CHECK_MSG(memcmp(a.g, b.g, (size_t)a.ng * 4) == 0 && memcmp(a.d, b.d, (size_t)a.nd * 4) == 0,
              "two fp32 runs from the same seed differ");
    double worst_d = 0, worst_g = 0;
    for (int i = 0; i < STEPS; i++) {
        worst_d = fmax(worst_d, fabs(h.ld[i] - a.ld[i]));
        worst_g = fmax(worst_g, fabs(h.lg[i] - a.lg[i]));
    }
    bool fg, fd;
    double rg = rel_dist(h.g, a.g, g0, a.ng, &fg), rd = rel_dist(h.d, a.d, d0, a.nd, &fd);
    bool same_g = memcmp(h.g, a.g, (size_t)a.ng * 4) == 0;
    printf("  %d steps: fp32 losses D %.4f -> %.4f, G %.4f -> %.4f; bf16 D %.4f -> %.4f, G %.4f -> %.4f\n", STEPS,
           a.ld[0], a.ld[STEPS - 1], a.lg[0], a.lg[STEPS - 1], h.ld[0], h.ld[STEPS - 1], h.lg[0], h.lg[STEPS - 1]);
    double ng = l2_diff(h.g, a.g, a.ng) / l2_diff(a.g, NULL, a.ng), nd = l2_diff(h.d, a.d, a.nd) / l2_diff(a.d, NULL, a.nd);
    printf("  bf16 vs fp32: largest loss difference D %.2e, G %.2e; weights' distance / distance moved: G %.3f, "
           "D %.3f; / the weights' norm: G %.2e, D %.2e\n", worst_d, worst_g, rg, rd, ng, nd);
    CHECK_MSG(!same_g && rg > 0, "bf16 training gave fp32's weights: the precision did not reach the ops");
    CHECK_MSG(worst_d < 0.05 && worst_g < 0.05, "bf16 losses strayed from fp32's (D %.3g, G %.3g)", worst_d, worst_g);
    CHECK_MSG(rg < 0.25 && rd < 0.25, "bf16 weights strayed from fp32's (G %.3g, D %.3g of the distance moved)", rg, rd);
    CHECK(fg && fd);
    free(g0), free(d0);
    run_t *rs[3] = {&a, &b, &h};
    for (int i = 0; i < 3; i++) free(rs[i]->g), free(rs[i]->d);
}

static void test_config(void) {
    gt_train_config c = cfg(GT_PREC_BF16);
    CHECK(gt_train_config_check(&c) == GT_OK);
    char *js = gt_train_config_to_json(&c);
    CHECK(js && strstr(js, "\"precision\":\t\"bf16\""));
    gt_train_config back = gt_train_config_default();
    CHECK(js && gt_train_config_from_json(&back, js, "t") == GT_OK && back.precision == GT_PREC_BF16);
    free(js);
    c.precision = GT_PREC_FP32; /* the default: not written, read back as fp32 */
    js = gt_train_config_to_json(&c);
    CHECK(js && !strstr(js, "precision"));
    free(js);
    back = gt_train_config_default();
    CHECK(gt_train_config_from_json(&back, "{\"precision\": \"fp16\"}", "t") == GT_ERR_FORMAT &&
          strstr(gt_last_error(), "precision"));
    c.precision = 5;
    CHECK(gt_train_config_check(&c) == GT_ERR_ARG && strstr(gt_last_error(), "precision"));
}

int main(void) {
    RUN(test_config);
    RUN(test_train);
    return gt_test_finish();
}
