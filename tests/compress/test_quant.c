/* int8 programs (gt_prog_quantize, prog_quant.c):
 *  - each int8 kernel (linear; conv with zero padding, stride 2, reflection padding; conv-transpose
 *    from 1x1, stride 2, with out_pad) against a float reference computed in double, within the
 *    quantization error bound derived below;
 *  - per-channel scales recover every weight to within scale / 2, the largest to exactly 127;
 *  - a small DCGAN G quantized: its int8 images within 30 dB PSNR of the float program's;
 *  - calibration at a percentile < 100 gives input scales no larger (the first strictly smaller)
 *    than max-abs; bad input (n_calib 0, pct outside (0, 100], no program) -> GT_ERR_ARG;
 *  - the emitted C kernels, compiled by cc at -O2 and at -O3 -march=native -ffp-contract=fast,
 *    give bit for bit gt__q8_run_op's outputs;
 *  - `gantry quantize` on a tiny DCGAN checkpoint (its JSON) and a tiny pix2pix one (calibrated on
 *    edges, FIDs against the items), bad flags, a family without lowering.
 *
 * The bound: with w = sw*qw + ew (|ew| <= sw/2, per output channel) and x = sx*qx + ex (|ex| <= sx/2
 * when nothing is clipped: sx from the max-abs of the very inputs), each product
 *     w*x - (sw*qw)*(sx*qx) = w*ex + ew*x - ew*ex,   so   |.| <= |w|*sx/2 + sw/2*|x| + sw*sx/4,
 * summed over the products of an output; plus float rounding (1e-5 relative, 1e-6 absolute). */
#include "../cli/cli_util.h"
#include "../../src/compress/compress_internal.h"
#include "gantry/compress.h"
#include <cjson/cJSON.h>

static uint64_t g_rs = 88172645463325252ull;
static double urand(void) { /* xorshift64 in [0, 1) */
    g_rs ^= g_rs << 13, g_rs ^= g_rs >> 7, g_rs ^= g_rs << 17;
    return (double)(g_rs >> 11) / 9007199254740992.0;
}
static float nrand(void) { return (float)(sqrt(-2.0 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand())); }

static const char *tp(const char *name) { return gt_test_path(name); }

/* A one-op program (kind on (c, h, w) input) with random weights: channel oc scaled by 0.2 + oc / 4
 * so the per-channel scales differ. */
static bool one_op(gt_prog *p, gt_prog_kind kind, int cin, int cout, int k, int stride, int pad, int out_pad,
                   bool reflect, bool bias, int c, int h, int w) {
    gt_prog_init(p, "test", false, c, h, w);
    const int64_t kk = kind == GT_PROG_LINEAR ? 1 : (int64_t)k * k, n = (int64_t)cin * cout * kk;
    float *wt = malloc((size_t)n * sizeof *wt), *b = malloc((size_t)cout * sizeof *b);
    for (int64_t i = 0; i < n; i++) {
        const int oc = (int)(kind == GT_PROG_CONVT ? (i / kk) % cout : i / (n / cout));
        wt[i] = 0.3f * nrand() * (0.2f + (float)oc / 4.0f);
    }
    for (int i = 0; i < cout; i++) b[i] = nrand();
    bool ok = gt_prog_push_layer(p, kind, cin, cout, k, stride, pad, out_pad, wt, bias ? b : NULL) == GT_OK;
    if (ok) p->ops[0].pad_reflect = reflect;
    ok = ok && gt_prog_finish(p) == GT_OK;
    free(wt), free(b);
    return ok;
}

static int reflect(int i, int n) { return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i; }

/* The float output of op o on x in double (ref) and the bound on |int8 - float| per output. */
static void reference(const gt_prog_op *o, const float *x, double *ref, double *bound) {
    const int OC = o->out_c, OH = o->out_h, OW = o->out_w, H = o->in_h, W = o->in_w, K = o->k;
    const double sx = o->in_scale;
    const int64_t no = (int64_t)OC * OH * OW;
    for (int64_t i = 0; i < no; i++) ref[i] = o->b ? o->b[i / ((int64_t)OH * OW)] : 0.0, bound[i] = 0.0;
#define TERM(out_i, wv, xv, oc)                                                                    \
    do {                                                                                           \
        const double w_ = (wv), x_ = (xv), sw_ = o->w_scale[oc];                                   \
        ref[out_i] += w_ * x_;                                                                     \
        bound[out_i] += fabs(w_) * sx / 2 + sw_ / 2 * fabs(x_) + sw_ * sx / 4;                      \
    } while (0)
    if (o->kind == GT_PROG_LINEAR) {
        for (int oc = 0; oc < o->cout; oc++)
            for (int i = 0; i < o->cin; i++) TERM(oc, o->w[(int64_t)oc * o->cin + i], x[i], oc);
    } else if (o->kind == GT_PROG_CONV) {
        for (int oc = 0; oc < OC; oc++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++)
                    for (int ci = 0; ci < o->cin; ci++)
                        for (int ky = 0; ky < K; ky++)
                            for (int kx = 0; kx < K; kx++) {
                                int iy = oy * o->stride - o->pad + ky, ix = ox * o->stride - o->pad + kx;
                                if (o->pad_reflect) iy = reflect(iy, H), ix = reflect(ix, W);
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                TERM(((int64_t)oc * OH + oy) * OW + ox, o->w[(((int64_t)oc * o->cin + ci) * K + ky) * K + kx],
                                     x[((int64_t)ci * H + iy) * W + ix], oc);
                            }
    } else {
        for (int ci = 0; ci < o->cin; ci++)
            for (int iy = 0; iy < H; iy++)
                for (int ix = 0; ix < W; ix++)
                    for (int oc = 0; oc < OC; oc++)
                        for (int ky = 0; ky < K; ky++)
                            for (int kx = 0; kx < K; kx++) {
                                const int oy = iy * o->stride - o->pad + ky, ox = ix * o->stride - o->pad + kx;
                                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                                TERM(((int64_t)oc * OH + oy) * OW + ox, o->w[(((int64_t)ci * OC + oc) * K + ky) * K + kx],
                                     x[((int64_t)ci * H + iy) * W + ix], oc);
                            }
    }
#undef TERM
    for (int64_t i = 0; i < no; i++) bound[i] = bound[i] * (1 + 1e-5) + 1e-5 * fabs(ref[i]) + 1e-6;
}

/* The kernels' test cases. */
typedef struct {
    const char *name;
    gt_prog_kind kind;
    int cin, cout, k, stride, pad, out_pad;
    bool reflect, bias;
    int h, w;
} kcase;
static const kcase g_cases[] = {
    {"linear", GT_PROG_LINEAR, 37, 11, 1, 1, 0, 0, false, true, 1, 1},
    {"conv k3 s1 p1", GT_PROG_CONV, 5, 7, 3, 1, 1, 0, false, true, 9, 9},
    {"conv k4 s2 p1 nobias", GT_PROG_CONV, 4, 6, 4, 2, 1, 0, false, false, 10, 10},
    {"conv k3 reflect", GT_PROG_CONV, 4, 6, 3, 1, 1, 0, true, true, 8, 7},
    {"convt k3 s1 p0 from 1x1", GT_PROG_CONVT, 16, 9, 3, 1, 0, 0, false, false, 1, 1},
    {"convt k4 s2 p1", GT_PROG_CONVT, 6, 5, 4, 2, 1, 0, false, true, 5, 5},
    {"convt k3 s2 p1 out_pad 1", GT_PROG_CONVT, 5, 4, 3, 2, 1, 1, false, true, 4, 6},
};
#define N_CASES ((int)(sizeof g_cases / sizeof g_cases[0]))
#define N_SAMPLES 3

static void make_case(const kcase *c, gt_prog *p, float **x) {
    CHECK_MSG(one_op(p, c->kind, c->cin, c->cout, c->k, c->stride, c->pad, c->out_pad, c->reflect, c->bias, c->cin,
                     c->h, c->w),
              "%s: %s", c->name, gt_last_error());
    const int64_t ni = gt_prog_in_numel(p);
    *x = malloc((size_t)(ni * N_SAMPLES) * sizeof **x);
    for (int64_t i = 0; i < ni * N_SAMPLES; i++) (*x)[i] = nrand() * (i % 5 == 0 ? 2.0f : 0.7f);
    CHECK_MSG(gt_prog_quantize(p, *x, N_SAMPLES, 100.0) == GT_OK, "%s: %s", c->name, gt_last_error());
}

static void test_kernels_vs_float(void) {
    for (int t = 0; t < N_CASES; t++) {
        const kcase *c = &g_cases[t];
        gt_prog p;
        float *x = NULL;
        make_case(c, &p, &x);
        const gt_prog_op *o = &p.ops[0];
        CHECK(p.quantized && o->qw && o->w_scale && o->in_scale > 0);
        const int64_t ni = gt_prog_in_numel(&p), no = gt_prog_out_numel(&p);
        float *y = malloc((size_t)(no * N_SAMPLES) * sizeof *y), *y2 = malloc((size_t)(no * N_SAMPLES) * sizeof *y2);
        double *ref = malloc((size_t)no * sizeof *ref), *bound = malloc((size_t)no * sizeof *bound);
        CHECK(gt_prog_run(&p, x, y2, N_SAMPLES) == GT_OK);
        double worst = 0, err_sum = 0, bound_sum = 0, ref_sum = 0;
        for (int s = 0; s < N_SAMPLES; s++) {
            gt__q8_run_op(o, x + s * ni, y + s * no);
            reference(o, x + s * ni, ref, bound);
            for (int64_t i = 0; i < no; i++) {
                const double e = fabs(y[s * no + i] - ref[i]);
                worst = fmax(worst, e / bound[i]);
                err_sum += e, bound_sum += bound[i], ref_sum += fabs(ref[i]);
            }
        }
        CHECK_MSG(worst <= 1.0, "%s: int8 error %.3g of its bound", c->name, worst);
        /* the runner sends the op to the same kernel */
        CHECK_MSG(!memcmp(y, y2, (size_t)(no * N_SAMPLES) * sizeof *y), "%s: gt_prog_run differs from gt__q8_run_op", c->name);
        /* int8 is not float: the error is there, and small against the outputs */
        CHECK_MSG(err_sum > 0 && err_sum < 0.05 * ref_sum, "%s: mean error %.3g, mean |y| %.3g", c->name,
                  err_sum / (double)(no * N_SAMPLES), ref_sum / (double)(no * N_SAMPLES));
        printf("  %-26s mean |err| %.2e (mean bound %.2e, mean |y| %.2f), worst err/bound %.3f\n", c->name,
               err_sum / (double)(no * N_SAMPLES), bound_sum / (double)(no * N_SAMPLES), ref_sum / (double)(no * N_SAMPLES), worst);
        free(y), free(y2), free(ref), free(bound), free(x);
        gt_prog_free(&p);
    }
}

/* Every quantized op: |qw * w_scale - w| <= w_scale / 2 and each channel's largest |qw| is 127. */
static void check_scales(const gt_prog *p) {
    for (int i = 0; i < p->n; i++) {
        const gt_prog_op *o = &p->ops[i];
        if (o->kind != GT_PROG_LINEAR && o->kind != GT_PROG_CONV && o->kind != GT_PROG_CONVT) continue;
        CHECK_MSG(o->qw && o->w_scale && o->w && o->in_scale > 0, "op %d not quantized", i);
        if (!o->qw) continue;
        const int64_t kk = o->kind == GT_PROG_LINEAR ? 1 : (int64_t)o->k * o->k, n = (int64_t)o->cin * o->cout * kk;
        int *mx = calloc((size_t)o->cout, sizeof *mx);
        double worst = 0;
        for (int64_t e = 0; e < n; e++) {
            const int oc = (int)(o->kind == GT_PROG_CONVT ? (e / kk) % o->cout : e / (n / o->cout));
            const double d = fabs((double)o->qw[e] * o->w_scale[oc] - o->w[e]);
            worst = fmax(worst, d / (o->w_scale[oc] / 2 * (1 + 1e-6)));
            mx[oc] = abs(o->qw[e]) > mx[oc] ? abs(o->qw[e]) : mx[oc];
        }
        CHECK_MSG(worst <= 1.0, "op %d: a weight off by %.4g half-scales", i, worst);
        for (int oc = 0; oc < o->cout; oc++) CHECK_MSG(mx[oc] == 127, "op %d channel %d: max |q| %d", i, oc, mx[oc]);
        free(mx);
    }
}

static void test_scales(void) {
    for (int t = 0; t < N_CASES; t++) {
        gt_prog p;
        float *x = NULL;
        make_case(&g_cases[t], &p, &x);
        check_scales(&p);
        free(x);
        gt_prog_free(&p);
    }
}

/* A small DCGAN G (28 px, 1 channel, nz 16, ngf 16) with calibrated batch norms, lowered; the last
 * layer's weights scaled so the images use [-1, 1] (random init alone gives nearly flat ones). */
static bool small_dcgan(gt_prog *p) {
    gt_model_config c = gt_model_config_default("dcgan");
    c.res = 28, c.channels = 1, c.nz = 16;
    gt_model_opt_set(&c, "ngf", 16);
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 11);
    bool ok = gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK && gt_recalibrate_bn(&G, 5, 4, 32) == GT_OK &&
              gt_prog_from_net(&G, p) == GT_OK;
    gt_net_free(&G);
    if (!ok) return false;
    gt_prog_op *last = NULL;
    for (int i = 0; i < p->n; i++)
        if (p->ops[i].kind == GT_PROG_CONVT) last = &p->ops[i];
    for (int64_t i = 0; i < (int64_t)last->cin * last->cout * last->k * last->k; i++) last->w[i] *= 12.0f;
    return true;
}

static float *latents(uint64_t seed, int n, int nz) {
    g_rs = seed * 2654435761ull + 1;
    float *z = malloc((size_t)n * nz * sizeof *z);
    for (int i = 0; i < n * nz; i++) z[i] = nrand();
    return z;
}

static void test_dcgan_int8(void) {
    gt_prog p, p99;
    CHECK_MSG(small_dcgan(&p) && small_dcgan(&p99), "%s", gt_last_error());
    const int nc = 64, ne = 64, nz = p.in_c;
    const int64_t no = gt_prog_out_numel(&p);
    float *zc = latents(1, nc, nz), *ze = latents(2, ne, nz);
    float *yf = malloc((size_t)(ne * no) * sizeof *yf), *yq = malloc((size_t)(ne * no) * sizeof *yq);
    CHECK(gt_prog_run(&p, ze, yf, ne) == GT_OK);
    CHECK_MSG(gt_prog_quantize(&p, zc, nc, 100.0) == GT_OK, "%s", gt_last_error());
    CHECK(p.quantized);
    check_scales(&p);
    CHECK(gt_prog_run(&p, ze, yq, ne) == GT_OK);
    double se = 0, mx = 0, lo = 1, hi = -1;
    for (int64_t i = 0; i < ne * no; i++) {
        const double d = (double)yq[i] - yf[i];
        se += d * d, mx = fmax(mx, fabs(d)), lo = fmin(lo, yf[i]), hi = fmax(hi, yf[i]);
    }
    /* PSNR of [-1, 1] images mapped to [0, 1] (peak 1), as gt_metric_psnr */
    const double mse01 = se / (double)(ne * no) / 4.0, psnr = 10 * log10(1.0 / mse01);
    printf("  dcgan 28 px ngf 16: float images in [%.3f, %.3f]; int8 max |err| %.4f, PSNR %.2f dB\n", lo, hi, mx, psnr);
    CHECK_MSG(hi - lo > 1.0, "the float images span only [%g, %g]", lo, hi);
    CHECK_MSG(psnr > 30.0 && se > 0, "int8 PSNR %.2f dB", psnr);
    /* the float weights stay (the float path and a re-quantization use them) */
    for (int i = 0; i < p.n; i++) CHECK(p.ops[i].kind != GT_PROG_CONVT || (p.ops[i].w && p.ops[i].qw));

    /* calibration at a percentile clips: no input scale larger, the first (latents) smaller */
    CHECK_MSG(gt_prog_quantize(&p99, zc, nc, 99.0) == GT_OK, "%s", gt_last_error());
    int smaller = 0;
    for (int i = 0; i < p.n; i++) {
        if (!p.ops[i].qw) continue;
        CHECK_MSG(p99.ops[i].in_scale <= p.ops[i].in_scale, "op %d: pct 99 scale %g > max-abs %g", i,
                  p99.ops[i].in_scale, p.ops[i].in_scale);
        smaller += p99.ops[i].in_scale < p.ops[i].in_scale;
        CHECK(!memcmp(p99.ops[i].w_scale, p.ops[i].w_scale, sizeof(float) * (size_t)p.ops[i].cout));
    }
    CHECK(p99.ops[0].in_scale < p.ops[0].in_scale && smaller >= 2);
    /* a re-quantization replaces the int8 weights (the float weights are the source) */
    CHECK(gt_prog_quantize(&p99, zc, nc, 100.0) == GT_OK);
    for (int i = 0; i < p.n; i++)
        if (p.ops[i].qw) {
            const int64_t n = (int64_t)p.ops[i].cin * p.ops[i].cout * p.ops[i].k * p.ops[i].k;
            CHECK(p99.ops[i].in_scale == p.ops[i].in_scale && !memcmp(p99.ops[i].qw, p.ops[i].qw, (size_t)n));
        }
    free(zc), free(ze), free(yf), free(yq);
    gt_prog_free(&p), gt_prog_free(&p99);
}

static void test_bad_input(void) {
    gt_prog p;
    float *x = NULL;
    CHECK(one_op(&p, GT_PROG_LINEAR, 8, 4, 1, 1, 0, 0, false, true, 8, 1, 1));
    x = latents(3, 4, 8);
    CHECK(gt_prog_quantize(&p, x, 0, 100.0) == GT_ERR_ARG);
    CHECK(gt_prog_quantize(&p, NULL, 4, 100.0) == GT_ERR_ARG);
    CHECK(gt_prog_quantize(&p, x, 4, 0.0) == GT_ERR_ARG && strstr(gt_last_error(), "(0, 100]"));
    CHECK(gt_prog_quantize(&p, x, 4, -5.0) == GT_ERR_ARG);
    CHECK(gt_prog_quantize(&p, x, 4, 100.5) == GT_ERR_ARG);
    CHECK(gt_prog_quantize(&p, x, 4, NAN) == GT_ERR_ARG);
    CHECK(gt_prog_quantize(NULL, x, 4, 100.0) == GT_ERR_ARG);
    CHECK(!p.quantized && !p.ops[0].qw);
    /* non-finite calibration activations: refused, nothing set */
    x[3] = INFINITY;
    CHECK(gt_prog_quantize(&p, x, 4, 100.0) == GT_ERR_ARG && !p.ops[0].qw);
    /* a program without a layer to quantize */
    gt_prog q;
    gt_prog_init(&q, "test", false, 4, 1, 1);
    gt_prog_push(&q, GT_PROG_RELU);
    CHECK(gt_prog_finish(&q) == GT_OK);
    CHECK(gt_prog_quantize(&q, x, 1, 100.0) == GT_ERR_ARG);
    /* emitting an op that is not quantized */
    FILE *f = fopen(tp("x.c"), "w");
    CHECK(f && gt__q8_emit_weights(f, &p.ops[0], "op0_") != GT_OK && gt__q8_emit_call(f, &p.ops[0], "op0_", "a", "b") != GT_OK);
    if (f) fclose(f);
    gt_prog_free(&q);
    gt_prog_free(&p);
    free(x);
}

/* The emitted kernels + weights + calls of every case, with a main printing their outputs ("%a"),
 * compiled twice (plain -O2; -O3 native with contraction): both equal gt__q8_run_op bit for bit. */
static void test_emitted_c(void) {
    gt_prog ps[N_CASES];
    float *xs[N_CASES];
    FILE *f = fopen(tp("q8.c"), "w");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(gt__q8_emit_kernels(f) == GT_OK);
    fputs("#include <stdio.h>\n", f);
    for (int t = 0; t < N_CASES; t++) {
        make_case(&g_cases[t], &ps[t], &xs[t]);
        const gt_prog_op *o = &ps[t].ops[0];
        char pre[16];
        snprintf(pre, sizeof pre, "op%d_", t);
        CHECK(gt__q8_emit_weights(f, o, pre) == GT_OK);
        fprintf(f, "static const float in%d[%lld] = {", t, (long long)(gt_prog_in_numel(&ps[t]) * N_SAMPLES));
        for (int64_t i = 0; i < gt_prog_in_numel(&ps[t]) * N_SAMPLES; i++) fprintf(f, "%s%af", i ? "," : "", (double)xs[t][i]);
        fprintf(f, "};\nstatic float out%d[%lld];\nstatic void run%d(const float *in, float *out) {\n", t,
                (long long)gt_prog_out_numel(&ps[t]), t);
        CHECK(gt__q8_emit_call(f, o, pre, "in", "out") == GT_OK);
        fputs("}\n", f);
    }
    fputs("int main(void) {\n", f);
    for (int t = 0; t < N_CASES; t++)
        fprintf(f,
                "    for (int s = 0; s < %d; s++) {\n        run%d(in%d + s * %lld, out%d);\n"
                "        for (int i = 0; i < %lld; i++) printf(\"%%a\\n\", (double)out%d[i]);\n    }\n",
                N_SAMPLES, t, t, (long long)gt_prog_in_numel(&ps[t]), t, (long long)gt_prog_out_numel(&ps[t]), t);
    fputs("    return 0;\n}\n", f);
    CHECK(fclose(f) == 0);
    const char *flags[] = {"-O2 -std=c11 -Wall -Wextra -pedantic -Werror", "-O3 -march=native -ffp-contract=fast -std=c11"};
    for (int v = 0; v < 2; v++) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "cc %s -o %s %s -lm && %s > %s", flags[v], tp("q8"), tp("q8.c"), tp("q8"), tp("q8.txt"));
        CHECK_MSG(system(cmd) == 0, "failed: %s", cmd);
        FILE *r = fopen(tp("q8.txt"), "r");
        CHECK(r != NULL);
        if (!r) continue;
        int64_t diffs = 0, total = 0;
        bool short_read = false;
        for (int t = 0; t < N_CASES && !short_read; t++) {
            const int64_t ni = gt_prog_in_numel(&ps[t]), no = gt_prog_out_numel(&ps[t]);
            float *y = malloc((size_t)no * sizeof *y);
            for (int s = 0; s < N_SAMPLES && !short_read; s++) {
                gt__q8_run_op(&ps[t].ops[0], xs[t] + s * ni, y);
                for (int64_t i = 0; i < no; i++) {
                    char line[64];
                    if (!fgets(line, sizeof line, r)) {
                        short_read = true;
                        break;
                    }
                    float e = strtof(line, NULL);
                    diffs += memcmp(&e, &y[i], sizeof e) != 0, total++;
                }
            }
            free(y);
        }
        fclose(r);
        CHECK_MSG(!short_read && diffs == 0 && total > 0, "%s: %lld of %lld outputs differ", flags[v], (long long)diffs,
                  (long long)total);
    }
    for (int t = 0; t < N_CASES; t++) free(xs[t]), gt_prog_free(&ps[t]);
}

/* --- gantry quantize ----------------------------------------------------------------------------- */
#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "4", "--quiet"

static double jnum(const cJSON *j, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_cli(void) {
    if (!gt_cli_find()) {
        CHECK_MSG(false, "the gantry program is not built");
        return;
    }
    char idx[700], run[700], ckpt[800], json[800];
    snprintf(idx, sizeof idx, "%s", tp("tiny.idx"));
    CHECK(gt_test_write_idx(idx, 64));
    snprintf(run, sizeof run, "%s", tp("run"));
    CHECK_CLI(0, NULL, "train", "--data", idx, "--steps", "3", "--out", run, TINY);
    snprintf(ckpt, sizeof ckpt, "%s/last.safetensors", run);
    snprintf(json, sizeof json, "%s", tp("q.json"));
    CHECK_CLI(0, "PSNR", "quantize", "--ckpt", ckpt, "--calib", "32", "--n", "48", "--no-fid", "--json", json);
    size_t n = 0;
    unsigned char *txt = gt_test_read_all(json, &n);
    cJSON *j = txt ? cJSON_ParseWithLength((const char *)txt, n) : NULL;
    CHECK_MSG(j != NULL, "%s: missing or not JSON", json);
    if (j) {
        const double mx = jnum(j, "max_abs_error"), mean = jnum(j, "mean_abs_error"), psnr = jnum(j, "psnr_db");
        const double wf = jnum(j, "weight_bytes_float"), wq = jnum(j, "weight_bytes_int8");
        CHECK_MSG(mx > 0 && mx < 1.0 && mean > 0 && mean <= mx, "errors max %g mean %g", mx, mean);
        CHECK_MSG(psnr > 20 && psnr < 200, "psnr %g", psnr);
        CHECK_MSG(wf > 0 && wq > 0 && wq < wf / 3, "weight bytes float %g int8 %g", wf, wq);
        CHECK(jnum(j, "n") == 48 && jnum(j, "calib") == 32 && jnum(j, "pct") == 99.99);
        CHECK(jnum(j, "macs") > 0 && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "model")));
        CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "fid_float")));
    }
    /* the same run again: the same numbers (all but the timings) */
    char json2[800];
    snprintf(json2, sizeof json2, "%s", tp("q2.json"));
    CHECK_CLI(0, NULL, "quantize", "--ckpt", ckpt, "--calib", "32", "--n", "48", "--no-fid", "--json", json2);
    size_t n2 = 0;
    unsigned char *b = gt_test_read_all(json2, &n2);
    cJSON *j2 = b ? cJSON_ParseWithLength((const char *)b, n2) : NULL;
    CHECK(j && j2);
    const char *same[] = {"max_abs_error", "mean_abs_error", "psnr_db", "weight_bytes_int8", "macs"};
    for (int i = 0; j && j2 && i < 5; i++) CHECK_MSG(jnum(j, same[i]) == jnum(j2, same[i]), "%s differs", same[i]);
    cJSON_Delete(j), cJSON_Delete(j2);
    free(txt), free(b);
    /* bad flags and files */
    CHECK_CLI(2, "--ckpt", "quantize");
    CHECK_CLI(2, "--pct", "quantize", "--ckpt", ckpt, "--pct", "0");
    CHECK_CLI(2, "--pct", "quantize", "--ckpt", ckpt, "--pct", "101");
    CHECK_CLI(2, "--calib", "quantize", "--ckpt", ckpt, "--calib", "0");
    CHECK_CLI(1, "nope.safetensors", "quantize", "--ckpt", tp("nope.safetensors"), "--no-fid");
    CHECK_CLI(2, "for translators", "quantize", "--ckpt", ckpt, "--items", idx);
    /* a family that cannot be lowered */
    char run2[700], ckpt2[800];
    snprintf(run2, sizeof run2, "%s", tp("began"));
    CHECK_CLI(0, NULL, "train", "--data", idx, "--steps", "1", "--out", run2, "--model", "began", "--loss", "began", "--model-opts",
              "ngf=8,hidden=8", "--res", "28", "--nz", "16", "--batch", "8", "--n-samples", "4", "--quiet");
    snprintf(ckpt2, sizeof ckpt2, "%s/last.safetensors", run2);
    CHECK_CLI(1, "cannot be lowered", "quantize", "--ckpt", ckpt2, "--no-fid", "--json", tp("never.json"));
    struct stat sb;
    CHECK(stat(tp("never.json"), &sb) != 0);
}

/* A pix2pix checkpoint (ngf 4, one block) trained 2 steps on discs; quantized on their edges. */
static void test_cli_translator(void) {
    if (!gt_cli_find()) return;
    char idx[700], ckpt[800], json[800];
    snprintf(idx, sizeof idx, "%s", tp("discs.idx"));
    snprintf(ckpt, sizeof ckpt, "%s", tp("p2p.safetensors"));
    snprintf(json, sizeof json, "%s", tp("p2p.json"));
    CHECK(gt_test_write_idx(idx, 24));
    gt_train_config c = gt_train_config_default();
    snprintf(c.data, sizeof c.data, "%s", idx);
    c.model = gt_model_config_default("pix2pix");
    c.model.res = 28, c.model.channels = 1;
    gt_model_opt_set(&c.model, "ngf", 4);
    gt_model_opt_set(&c.model, "ndf", 4);
    gt_model_opt_set(&c.model, "n_blocks", 1);
    c.batch = 8;
    gt_trainer t;
    bool ok = gt_trainer_init(&t, &c, NULL) == GT_OK;
    for (int i = 0; i < 2 && ok; i++) ok = gt_trainer_step(&t, NULL) == GT_OK;
    ok = ok && gt_trainer_save(&t, ckpt) == GT_OK;
    CHECK_MSG(ok, "%s", gt_last_error());
    gt_trainer_free(&t);
    if (!ok) return;
    CHECK_CLI(0, "the edges of the first 16 items", "quantize", "--ckpt", ckpt, "--items", idx, "--calib-items", idx,
              "--calib", "8", "--n", "16", "--pct", "100", "--json", json);
    size_t n = 0;
    unsigned char *txt = gt_test_read_all(json, &n);
    cJSON *j = txt ? cJSON_ParseWithLength((const char *)txt, n) : NULL;
    CHECK_MSG(j != NULL, "%s: missing or not JSON", json);
    if (j) {
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "inputs");
        CHECK(cJSON_IsString(in) && !strcmp(in->valuestring, "edges"));
        CHECK_MSG(jnum(j, "psnr_db") > 20 && jnum(j, "max_abs_error") > 0, "psnr %g", jnum(j, "psnr_db"));
        CHECK_MSG(jnum(j, "layers_int8") >= 4, "%g layers in int8", jnum(j, "layers_int8"));
        /* the FIDs of both against the items (fmnist extractor): close to each other */
        const double ff = jnum(j, "fid_float"), fq = jnum(j, "fid_int8");
        CHECK_MSG(isfinite(ff) && isfinite(fq) && fabs(ff - fq) < 0.1 * ff + 1.0, "FID float %g int8 %g", ff, fq);
    }
    cJSON_Delete(j);
    free(txt);
    CHECK_CLI(1, "fewer than --n 40", "quantize", "--ckpt", ckpt, "--items", idx, "--calib-items", idx, "--calib", "8",
              "--n", "40");
    CHECK_CLI(1, "fewer than --calib 30", "quantize", "--ckpt", ckpt, "--items", idx, "--calib-items", idx, "--calib",
              "30", "--n", "8");
}

int main(void) {
    RUN(test_kernels_vs_float);
    RUN(test_scales);
    RUN(test_dcgan_int8);
    RUN(test_bad_input);
    RUN(test_emitted_c);
    RUN(test_cli);
    RUN(test_cli_translator);
    return gt_test_finish();
}
