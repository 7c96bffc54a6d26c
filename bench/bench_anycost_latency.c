/* bench_anycost_latency: where an anycost generator's time goes per image at batch 1.
 *
 *   bench_anycost_latency CKPT [REPS [CONFIG ...]]     (configs as "0.25@16"; default 1@R and 0.25@R/2)
 *
 * For each config: the median of REPS calls of the whole generator (mapping + synthesis, inside a
 * scope that is ended: what `gantry anycost-report` times), of the mapping alone and of the
 * synthesis alone from a fixed w; its MACs and the rate they run at; the tensors one call makes (op
 * outputs and views, each an allocation of its header). Then the engine's fixed cost
 * per call: an empty scope, and a 1-channel 4x4 conv2d (almost no arithmetic), to show how much
 * of a small sub-generator's time is per-op overhead rather than multiply-adds. Run it with
 * OMP_NUM_THREADS set as the report runs (bench/run_bench_anycost.sh does). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gantry.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef enum { WHOLE, MAPPING, SYNTHESIS } part;

/* The median of reps calls (and the fastest into *best when not NULL: the one least disturbed by
 * other processes on a shared machine). */
static int64_t g_tensors; /* tensors the last timed call made (op outputs and views), alive until its scope ends */

static double time_part(gt_net *G, gt_tensor *z, gt_tensor *w, const gt_anycost_sub *s, part p, int reps,
                        double *best) {
    double *t = malloc((size_t)reps * sizeof *t);
    for (int r = -3; r < reps; r++) {
        int m = gt_scope_begin();
        int64_t live = gt_live_tensors();
        double t0 = now_ms();
        gt_tensor *x = p == WHOLE     ? gt_anycost_generate(G, z, s, NULL)
                       : p == MAPPING ? gt_anycost_mapping(G, z)
                                      : gt_anycost_synthesis(G, w, s, NULL, NULL);
        g_tensors = gt_live_tensors() - live;
        gt_scope_end(m);
        if (!x) {
            fprintf(stderr, "generate: %s\n", gt_last_error());
            exit(1);
        }
        if (r >= 0) t[r] = now_ms() - t0;
    }
    double v = median(t, reps);
    if (best) *best = t[0]; /* sorted by median() */
    free(t);
    return v;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CKPT [REPS [CONFIG ...]]\n", argv[0]);
        return 2;
    }
    const int reps = argc > 2 ? atoi(argv[2]) : 101;
    gt_net G;
    gt_train_config cfg;
    if (gt_load_generator(argv[1], true, &G, &cfg, NULL) != GT_OK || !gt_anycost_is(&G)) {
        fprintf(stderr, "%s: %s\n", argv[1], gt_anycost_is(&G) ? gt_last_error() : "not an anycost checkpoint");
        return 1;
    }
    const int R = cfg.model.res;
    char defaults[2][32];
    snprintf(defaults[0], 32, "1@%d", R);
    snprintf(defaults[1], 32, "0.25@%d", R / 2);
    const char *cf[32];
    int nc = 0;
    for (int i = 3; i < argc && nc < 32; i++) cf[nc++] = argv[i];
    if (!nc) cf[nc++] = defaults[0], cf[nc++] = defaults[1];
    gt_no_grad_begin();
    int m0 = gt_scope_begin();
    gt_tensor *z = gt_sample_latents(1, 1, cfg.model.nz, 0);
    gt_tensor *w = gt_anycost_mapping(&G, z);
    printf("anycost latency at batch 1, %d threads, median of %d (%s, %dx%d)\n", gt_get_num_threads(), reps, argv[1],
           R, R);
    printf("%-10s %10s %10s %10s %10s %10s %12s %8s %8s\n", "config", "whole ms", "fastest", "mapping", "synthesis",
           "MACs", "GMAC/s", "speed-up", "tensors");
    double whole0 = 0, fit_t[32], fit_m[32], fit_k[32];
    for (int i = 0; i < nc; i++) {
        char ch[32];
        snprintf(ch, sizeof ch, "%s", cf[i]);
        char *at = strchr(ch, '@');
        int res = at ? atoi(at + 1) : 0;
        if (at) *at = '\0';
        gt_anycost_sub s;
        if (gt_anycost_sub_parse(&cfg.model, ch, res, &s) != GT_OK) {
            fprintf(stderr, "%s: %s\n", cf[i], gt_last_error());
            return 2;
        }
        double best = 0, tw = time_part(&G, z, w, &s, WHOLE, reps, &best);
        const int64_t made = g_tensors;
        double tm = time_part(&G, z, w, &s, MAPPING, reps, NULL), ts = time_part(&G, z, w, &s, SYNTHESIS, reps, NULL);
        int64_t macs = gt_anycost_macs(&cfg.model, &s);
        if (!i) whole0 = tw;
        fit_t[i] = best, fit_m[i] = (double)macs, fit_k[i] = (double)made;
        printf("%-10s %10.3f %10.3f %10.3f %10.3f %9.2fM %12.2f %7.2fx %8lld\n", cf[i], tw, best, tm, ts, macs / 1e6,
               macs / (tw * 1e6), whole0 / tw, (long long)made);
    }
    /* With 4 or more configs: least squares of the fastest times on [1, tensors, MACs]: the cost per
     * tensor (op or view) and the rate of the multiply-adds, which split each config's time. */
    if (nc >= 4) {
        double A[3][4] = {{0}};
        for (int i = 0; i < nc; i++) {
            const double row[3] = {1, fit_k[i], fit_m[i] * 1e-6};
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 3; c++) A[r][c] += row[r] * row[c];
                A[r][3] += row[r] * fit_t[i];
            }
        }
        for (int c = 0; c < 3; c++) /* Gauss-Jordan, the normal equations are small and well posed */
            for (int r = 0; r < 3; r++) {
                if (r == c || A[c][c] == 0) continue;
                const double f = A[r][c] / A[c][c];
                for (int k = 0; k < 4; k++) A[r][k] -= f * A[c][k];
            }
        const double a0 = A[0][3] / A[0][0], per = A[1][3] / A[1][1], perm = A[2][3] / A[2][2];
        double worst = 0;
        for (int i = 0; i < nc; i++)
            worst = fmax(worst, fabs(a0 + per * fit_k[i] + perm * fit_m[i] * 1e-6 - fit_t[i]) / fit_t[i]);
        printf("fit of the fastest times: %.4f ms + %.2f us per tensor + MACs at %.1f GMAC/s (worst misfit %.0f%%)\n",
               a0, per * 1e3, 1.0 / perm, worst * 100);
        for (int i = 0; i < nc; i++)
            printf("  %-10s per-tensor part %.3f ms, multiply-add part %.3f ms\n", cf[i], per * fit_k[i],
                   perm * fit_m[i] * 1e-6);
    }
    /* the engine's fixed costs per call */
    double *t = malloc((size_t)reps * sizeof *t);
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        int m = gt_scope_begin();
        gt_tensor *e = gt_empty(GT_SHAPE(1, 1, 4, 4));
        (void)e;
        gt_scope_end(m);
        t[r] = now_ms() - t0;
    }
    printf("an empty scope with one small tensor: %.4f ms\n", median(t, reps));
    gt_tensor *x = gt_zeros(GT_SHAPE(1, 1, 4, 4)), *k = gt_zeros(GT_SHAPE(1, 1, 3, 3));
    gt_conv_params p = gt_conv_params_make(1, 1);
    for (int r = -3; r < reps; r++) {
        int m = gt_scope_begin();
        double t0 = now_ms();
        gt_tensor *y = gt_conv2d(x, k, NULL, p);
        (void)y;
        gt_scope_end(m);
        if (r >= 0) t[r] = now_ms() - t0;
    }
    printf("a 1-channel 4x4 conv2d (about no arithmetic): %.4f ms\n", median(t, reps));
    for (int r = -3; r < reps; r++) {
        int m = gt_scope_begin();
        double t0 = now_ms();
        gt_tensor *y = gt_add(x, x);
        (void)y;
        gt_scope_end(m);
        if (r >= 0) t[r] = now_ms() - t0;
    }
    printf("a 16-element add: %.4f ms\n", median(t, reps));
    free(t);
    gt_scope_end(m0);
    gt_net_free(&G);
    return 0;
}
