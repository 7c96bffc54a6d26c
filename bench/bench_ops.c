/* Times conv2d and conv_transpose2d (forward, and forward + input and weight
 * gradients) at the DCGAN-64 layer shapes and at Inception-v3 shapes (batch 8), and gantry's sgemm
 * (square sizes) for reference.
 * Prints one tab-separated line per op: "op<TAB>name<TAB>ms<TAB>gflop<TAB>min
 * ms<TAB>cpu ms" (ms: median of several repeats after warm-up; min ms and the
 * median process CPU time help read results from a loaded machine);
 * bench/run_bench_ops.sh joins them with PyTorch's numbers for the same shapes
 * (bench/bench_ops.py).
 * usage: bench_ops [repeats] [name filter] */
#include <cblas.h>

#include "bench_util.h"
#include "../src/backend/cpu/sgemm.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gantry.h"

static double now_ms(void) { return now() * 1e3; }

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
    const char *name;
    bool transposed;
    int64_t n, cin, cout, h, k, s, p; /* input (n, cin, h, h); kernel k, stride s, padding p */
} layer;

/* DCGAN-64: discriminator convs and generator transposed convs, batch 64. */
static const layer LAYERS[] = {
    {"conv 3->64 64->32", false, 64, 3, 64, 64, 4, 2, 1},
    {"conv 64->128 32->16", false, 64, 64, 128, 32, 4, 2, 1},
    {"conv 128->256 16->8", false, 64, 128, 256, 16, 4, 2, 1},
    {"conv 256->512 8->4", false, 64, 256, 512, 8, 4, 2, 1},
    {"convT 100->512 1->4", true, 64, 100, 512, 1, 4, 1, 0},
    {"convT 512->256 4->8", true, 64, 512, 256, 4, 4, 2, 1},
    {"convT 256->128 8->16", true, 64, 256, 128, 8, 4, 2, 1},
    {"convT 128->64 16->32", true, 64, 128, 64, 16, 4, 2, 1},
    {"convT 64->3 32->64", true, 64, 64, 3, 32, 4, 2, 1},
    /* Inception-v3 layer shapes (batch 8), trained through the engine's conv (not the fused extractor) */
    {"incep 3x3 32->64 147", false, 8, 32, 64, 147, 3, 1, 1},
    {"incep 1x1 288->64 35", false, 8, 288, 64, 35, 1, 1, 0},
    {"incep 3x3 64->96 35", false, 8, 64, 96, 35, 3, 1, 1},
    {"incep 5x5 48->64 35", false, 8, 48, 64, 35, 5, 1, 2},
    {"incep 3x3 288->384 35->17", false, 8, 288, 384, 35, 3, 2, 0},
    {"incep 1x1 768->192 17", false, 8, 768, 192, 17, 1, 1, 0},
    /* SNGAN / SAGAN at 32 px, width 128 (the zoo benchmark): the ResNet blocks' 3x3 convs, batch 64 */
    {"resnet 3x3 128->128 32", false, 64, 128, 128, 32, 3, 1, 1},
    {"resnet 3x3 128->128 16", false, 64, 128, 128, 16, 3, 1, 1},
    {"resnet 3x3 128->128 8", false, 64, 128, 128, 8, 3, 1, 1},
};

static int g_reps = 7;
static const char *g_filter;

static bool wanted(const char *name) { return !g_filter || strstr(name, g_filter); }

/* Runs f `warm` times untimed, then g_reps times; returns the median ms
 * (and sets g_min, g_cpu: printed as extra columns for noisy machines). */
typedef void (*bench_fn)(void *ctx);
static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static double g_min, g_cpu; /* fastest repeat; median process CPU time of a repeat */
static double time_it(bench_fn f, void *ctx, int warm) {
    double t[64], c[64];
    int reps = g_reps < 64 ? g_reps : 64;
    for (int i = 0; i < warm; i++) f(ctx);
    for (int i = 0; i < reps; i++) {
        double t0 = now_ms(), c0 = cpu_ms();
        f(ctx);
        t[i] = now_ms() - t0;
        c[i] = cpu_ms() - c0;
    }
    double m = median(t, reps);
    g_min = t[0];
    g_cpu = median(c, reps);
    return m;
}

/* --- sgemm ------------------------------------------------------------------ */
typedef struct {
    int n;
    float *a, *b, *c;
} gemm_ctx;

static void run_gemm(void *p) {
    gemm_ctx *g = p;
    gt_sgemm_rm(false, false, g->n, g->n, g->n, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n, 0); /* gantry's own */
}

static void bench_sgemm(int n) {
    char name[64];
    snprintf(name, sizeof name, "sgemm %d", n);
    if (!wanted(name)) return;
    gemm_ctx g = {n, malloc(sizeof(float) * n * n), malloc(sizeof(float) * n * n), malloc(sizeof(float) * n * n)};
    for (int64_t i = 0; i < (int64_t)n * n; i++) {
        g.a[i] = (float)((i * 7) % 13) * 0.1f;
        g.b[i] = (float)((i * 5) % 11) * 0.1f;
    }
    double ms = time_it(run_gemm, &g, 2);
    printf("op\t%s\t%.3f\t%.4f\t%.3f\t%.3f\n", name, ms, 2.0 * n * n * (double)n * 1e-9, g_min, g_cpu);
    fflush(stdout);
    free(g.a), free(g.b), free(g.c);
}

/* --- convolution layers -------------------------------------------------------- */
typedef struct {
    const layer *l;
    gt_tensor *x, *w, *gy;
    bool backward;
} conv_ctx;

static void run_conv(void *p) {
    conv_ctx *c = p;
    int m = gt_scope_begin();
    gt_conv_params prm = gt_conv_params_make((int)c->l->s, (int)c->l->p);
    gt_tensor *y = c->l->transposed ? gt_conv_transpose2d(c->x, c->w, NULL, prm) : gt_conv2d(c->x, c->w, NULL, prm);
    if (!y) {
        fprintf(stderr, "%s: %s\n", c->l->name, gt_last_error());
        exit(1);
    }
    if (c->backward) {
        gt_tensor *in[2] = {c->x, c->w}, *g[2];
        if (gt_grad(y, c->gy, 2, in, g, false) != GT_OK) {
            fprintf(stderr, "%s backward: %s\n", c->l->name, gt_last_error());
            exit(1);
        }
    }
    gt_scope_end(m);
}

static void bench_layer(const layer *l) {
    char name[96];
    snprintf(name, sizeof name, "%s fwd", l->name);
    bool any = wanted(name);
    snprintf(name, sizeof name, "%s fwd+bwd", l->name);
    if (!any && !wanted(name)) return;
    int64_t ho = l->transposed ? (l->h - 1) * l->s - 2 * l->p + l->k : (l->h + 2 * l->p - l->k) / l->s + 1;
    gt_rng r;
    gt_rng_init(&r, 1);
    conv_ctx c = {l, gt_randn(&r, GT_SHAPE(l->n, l->cin, l->h, l->h)), NULL, NULL, false};
    c.w = l->transposed ? gt_randn(&r, GT_SHAPE(l->cin, l->cout, l->k, l->k))
                        : gt_randn(&r, GT_SHAPE(l->cout, l->cin, l->k, l->k));
    c.gy = gt_randn(&r, GT_SHAPE(l->n, l->cout, ho, ho));
    gt_set_requires_grad(c.x, true);
    gt_set_requires_grad(c.w, true);
    /* multiply-adds: every (input pixel, output channel, kernel tap) for convT,
     * every (output pixel, input channel, tap) for conv */
    double mac = l->transposed ? (double)l->n * l->cin * l->h * l->h * l->cout * l->k * l->k
                               : (double)l->n * l->cout * ho * ho * l->cin * l->k * l->k;
    for (int bw = 0; bw < 2; bw++) {
        snprintf(name, sizeof name, "%s %s", l->name, bw ? "fwd+bwd" : "fwd");
        if (!wanted(name)) continue;
        c.backward = bw;
        double ms = time_it(run_conv, &c, 2);
        printf("op\t%s\t%.3f\t%.4f\t%.3f\t%.3f\n", name, ms, 2.0 * mac * (bw ? 3 : 1) * 1e-9, g_min, g_cpu);
        fflush(stdout);
    }
    gt_release(c.x), gt_release(c.w), gt_release(c.gy);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--layers")) { /* the one list of shapes (run_bench_ops.sh, bench_ops.py) */
        for (size_t i = 0; i < sizeof LAYERS / sizeof LAYERS[0]; i++) {
            const layer *l = &LAYERS[i];
            printf("%s\t%d\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\n", l->name, (int)l->transposed, (long long)l->n,
                   (long long)l->cin, (long long)l->cout, (long long)l->h, (long long)l->k, (long long)l->s, (long long)l->p);
        }
        return 0;
    }
    if (argc > 1) g_reps = atoi(argv[1]) > 0 ? atoi(argv[1]) : g_reps;
    if (argc > 2) g_filter = argv[2];
    gt_set_num_threads(2);
    int sizes[3] = {1024, 1536, 2048};
    for (int i = 0; i < 3; i++) bench_sgemm(sizes[i]);
    for (size_t i = 0; i < sizeof LAYERS / sizeof LAYERS[0]; i++)
        bench_layer(&LAYERS[i]);
    return 0;
}
