/* PSNR and SSIM (src/metrics/similarity.c) against a float64 torch implementation of skimage's
 * definitions (tests/parity/metrics_similarity.py: a 2-D window and a valid convolution, where
 * the C code filters separably): random and structured images, several sizes and channel
 * counts, to 1e-6. Identical images give +inf and exactly 1; known values by hand; bad
 * arguments are refused with a message. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

typedef struct {
    int n, c, h, w;
    int kind; /* 0 random pair; 1 structured + noise; 2 structured, shifted and dimmed; 3 random vs smoothed */
} sim_case;

static const sim_case CASES[] = {
    {3, 1, 11, 11, 0}, {2, 1, 16, 16, 0}, {2, 3, 32, 32, 0}, {1, 3, 13, 29, 0},
    {4, 1, 32, 32, 1}, {2, 3, 16, 16, 1}, {2, 1, 28, 20, 2}, {2, 3, 64, 64, 2}, {3, 1, 32, 32, 3},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

/* A smooth pattern in [-1, 1]: gradients and sines, different per image and channel. */
static float pattern(int i, int ch, int y, int x, int h, int w) {
    float u = (float)x / (float)w, v = (float)y / (float)h;
    float p = 0.6f * sinf(6.0f * u + 2.0f * (float)i + (float)ch) * cosf(4.0f * v - (float)ch) + 0.3f * (u - v);
    return fmaxf(-1.0f, fminf(1.0f, p));
}

static void make_case(int k, gt_tensor **a, gt_tensor **b) {
    const sim_case *c = &CASES[k];
    *a = gt_test_uniform(100 + (uint64_t)k, S(c->n, c->c, c->h, c->w), -1.0f, 1.0f);
    *b = gt_test_uniform(200 + (uint64_t)k, S(c->n, c->c, c->h, c->w), -1.0f, 1.0f);
    if (c->kind == 0) return;
    float *pa = gt_data(*a), *pb = gt_data(*b);
    for (int i = 0; i < c->n; i++)
        for (int ch = 0; ch < c->c; ch++)
            for (int y = 0; y < c->h; y++)
                for (int x = 0; x < c->w; x++) {
                    size_t o = (((size_t)i * c->c + ch) * c->h + y) * c->w + x;
                    float p = pattern(i, ch, y, x, c->h, c->w), r = pb[o];
                    if (c->kind == 1) pa[o] = p, pb[o] = p + 0.1f * r;
                    else if (c->kind == 2) pa[o] = p, pb[o] = 0.7f * pattern(i, ch, y, x + 1, c->h, c->w) - 0.1f;
                    else {
                        /* b: a 3-tap box blur of a along x */
                        float l = pa[o - (x > 0)], m = pa[o], rr = pa[o + (x + 1 < c->w)];
                        pb[o] = (l + m + rr) / 3.0f;
                    }
                }
}

static void test_parity(void) {
    gt_tensor *ts[2 * NCASES];
    const char *names[2 * NCASES];
    char buf[2 * NCASES][16];
    for (int k = 0; k < NCASES; k++) {
        make_case(k, &ts[2 * k], &ts[2 * k + 1]);
        snprintf(buf[2 * k], 16, "c%d.a", k);
        snprintf(buf[2 * k + 1], 16, "c%d.b", k);
        names[2 * k] = buf[2 * k], names[2 * k + 1] = buf[2 * k + 1];
    }
    char in[512];
    snprintf(in, sizeof in, "%s/sim_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(in, 2 * NCASES, names, ts));
    if (!gt_golden_run("metrics_similarity.py", in)) return;
    for (int k = 0; k < NCASES; k++) {
        const sim_case *c = &CASES[k];
        double psnr[8], ssim[8];
        CHECK(gt_metric_psnr(gt_data(ts[2 * k]), gt_data(ts[2 * k + 1]), c->n, c->c, c->h, c->w, psnr) == GT_OK);
        CHECK(gt_metric_ssim(gt_data(ts[2 * k]), gt_data(ts[2 * k + 1]), c->n, c->c, c->h, c->w, ssim) == GT_OK);
        char nm[32];
        snprintf(nm, sizeof nm, "c%d.psnr", k);
        const float *gp = gt_data(gt_golden(nm));
        snprintf(nm, sizeof nm, "c%d.ssim", k);
        const float *gs = gt_data(gt_golden(nm));
        for (int i = 0; i < c->n; i++) {
            double rp = (double)gp[2 * i] + (double)gp[2 * i + 1], rs = (double)gs[2 * i] + (double)gs[2 * i + 1];
            CHECK_MSG(fabs(psnr[i] - rp) <= 1e-6 * fmax(1.0, fabs(rp)),
                      "case %d (%dx%dx%dx%d) image %d: PSNR %.10f, torch %.10f", k, c->n, c->c, c->h, c->w, i, psnr[i],
                      rp);
            CHECK_MSG(fabs(ssim[i] - rs) <= 1e-6, "case %d (%dx%dx%dx%d kind %d) image %d: SSIM %.10f, torch %.10f", k,
                      c->n, c->c, c->h, c->w, c->kind, i, ssim[i], rs);
            /* the structured cases sit where they should: similar pairs high, random pairs near 0 */
            if (c->kind == 0 && (c->h - 10) * (c->w - 10) >= 36) CHECK_MSG(fabs(rs) < 0.1, "random pair SSIM %f", rs);
            if (c->kind == 1 || c->kind == 3) CHECK_MSG(rs > 0.3 && rs < 1.0, "similar pair SSIM %f", rs);
        }
    }
    gt_golden_free();
}

static void test_identical_and_known(void) {
    gt_tensor *a = gt_test_uniform(7, S(2, 3, 16, 12), -1.0f, 1.0f);
    double p[2], s[2];
    CHECK(gt_metric_psnr(gt_data(a), gt_data(a), 2, 3, 16, 12, p) == GT_OK);
    CHECK(gt_metric_ssim(gt_data(a), gt_data(a), 2, 3, 16, 12, s) == GT_OK);
    for (int i = 0; i < 2; i++) {
        CHECK_MSG(isinf(p[i]) && p[i] > 0, "identical PSNR %f", p[i]);
        CHECK_MSG(s[i] == 1.0, "identical SSIM %.17g", s[i]);
    }
    /* 0 vs 0.2 on [-1, 1] is 0.5 vs 0.6 on [0, 1]: MSE 0.01, PSNR 20 dB. SSIM of two constants:
     * variances 0, so (2 ux uy + C1) / (ux^2 + uy^2 + C1) = (0.6 + 1e-4) / (0.61 + 1e-4). */
    gt_tensor *z = gt_full(S(1, 1, 12, 12), 0.0f), *t = gt_full(S(1, 1, 12, 12), 0.2f);
    CHECK(gt_metric_psnr(gt_data(z), gt_data(t), 1, 1, 12, 12, p) == GT_OK);
    CHECK_MSG(fabs(p[0] - 20.0) < 1e-5, "PSNR %f, want 20", p[0]); /* 0.2f is not 0.2 exactly */
    CHECK(gt_metric_ssim(gt_data(z), gt_data(t), 1, 1, 12, 12, s) == GT_OK);
    double want = (2 * 0.5 * 0.6 + 1e-4) / (0.25 + 0.36 + 1e-4);
    CHECK_MSG(fabs(s[0] - want) < 1e-6, "SSIM %.9f, want %.9f", s[0], want);
    /* symmetric in its arguments */
    gt_tensor *b = gt_test_uniform(8, S(2, 3, 16, 12), -1.0f, 1.0f);
    double s2[2];
    CHECK(gt_metric_ssim(gt_data(a), gt_data(b), 2, 3, 16, 12, s) == GT_OK);
    CHECK(gt_metric_ssim(gt_data(b), gt_data(a), 2, 3, 16, 12, s2) == GT_OK);
    CHECK(fabs(s[0] - s2[0]) < 1e-12 && fabs(s[1] - s2[1]) < 1e-12);
}

static void test_errors(void) {
    gt_tensor *a = gt_test_uniform(9, S(1, 1, 16, 16), -1.0f, 1.0f);
    double o[1];
    CHECK(gt_metric_ssim(gt_data(a), gt_data(a), 1, 1, 10, 25, o) == GT_ERR_ARG);
    CHECK(strstr(gt_last_error(), "11 x 11") != NULL);
    CHECK(gt_metric_psnr(gt_data(a), gt_data(a), 1, 1, 10, 25, o) == GT_OK); /* PSNR has no window */
    CHECK(gt_metric_psnr(gt_data(a), NULL, 1, 1, 16, 16, o) == GT_ERR_ARG);
    CHECK(gt_metric_ssim(gt_data(a), gt_data(a), 0, 1, 16, 16, o) == GT_ERR_ARG);
    CHECK(gt_metric_psnr(gt_data(a), gt_data(a), 1, 0, 16, 16, o) == GT_ERR_ARG);
    gt_data(a)[37] = NAN;
    CHECK(gt_metric_psnr(gt_data(a), gt_data(a), 1, 1, 16, 16, o) == GT_ERR_ARG);
    CHECK(strstr(gt_last_error(), "non-finite") != NULL);
    CHECK(gt_metric_ssim(gt_data(a), gt_data(a), 1, 1, 16, 16, o) == GT_ERR_ARG);
}

int main(void) {
    RUN(test_parity);
    RUN(test_identical_and_known);
    RUN(test_errors);
    return gt_test_finish();
}
