/* Training's Winograd convolutions (src/backend/cpu/conv_wino.c on the
 * transforms of src/backend/cpu/winograd.c): F(4x4, 3x3) and F(2x2, 3x3)
 * forced on small shapes against the naive kernels (outputs and gradients:
 * the forward, and the input gradient, which is also a 3x3 stride-1
 * transposed conv's forward), odd sizes (last tiles partly outside), padding
 * 0, 1, 2 and mixed, bias or none, batch > 1, several chunks, rows of more
 * tiles than one transform call takes, one thread; the error of each tile on
 * zero-mean data at realistic channel counts; the Toom-Cook transforms'
 * defining identity; and which tile the policy picks.
 *
 * Tolerances: F(2x2, 3x3) as test_conv (1e-4 relative + 1e-4 absolute);
 * F(4x4, 3x3) 2e-4 relative + 2e-4 absolute on these small shapes (x ~ N(0,1),
 * w ~ N(0, 0.25), |y| up to ~10: its error is ~3e-5 absolute there), and on
 * zero-mean data with fan-in-scaled weights at most 2e-5 of max |y| for
 * K <= 256 against the sums in double (measured, forward / input gradient:
 * 6.1e-6 / 5.5e-6 at K = 64, 8.7e-6 / 7.1e-6 at 128, 1.1e-5 / 1.1e-5 at 256;
 * F(2x2, 3x3) 2.7e-7 to 5.6e-7, held to 2e-6). */
#include <math.h>

#include "../../src/backend/cpu/conv.h"
#include "../../src/backend/cpu/conv_wino.h"
#include "../../src/backend/cpu/winograd.h"
#include "../common/harness.h"

#define F2_TOL 1e-4f
#define F4_TOL 2e-4f
#define F4_REL_MAX 2e-5 /* of max |y|, zero-mean data, K <= 256 */
#define F2_REL_MAX 2e-6

typedef struct {
    const char *name;
    bool transpose;      /* conv_transpose2d (its forward runs the input-gradient kernel) */
    int64_t x[4], w[4];
    bool bias;
    int ph, pw;
} wcase;

static gt_tensor *f_case(gt_tensor *const *in, void *ctx) {
    const wcase *c = ctx;
    gt_conv_params p = {1, 1, c->ph, c->pw, 1, 1, 0, 0, 1};
    return c->transpose ? gt_conv_transpose2d(in[0], in[1], c->bias ? in[2] : NULL, p)
                        : gt_conv2d(in[0], in[1], c->bias ? in[2] : NULL, p);
}

static int n_inputs(const wcase *c) { return c->bias ? 3 : 2; }

static void make_inputs(const wcase *c, uint64_t seed, gt_tensor **in) {
    in[0] = gt_test_randn(seed, 4, c->x, 1.0f);
    in[1] = gt_test_randn(seed + 1, 4, c->w, 0.5f);
    if (c->bias) in[2] = gt_test_randn(seed + 2, 1, (const int64_t[]){c->transpose ? c->w[1] : c->w[0]}, 1.0f);
    for (int i = 0; i < n_inputs(c); i++) in[i]->requires_grad = true;
}

static const wcase CASES[] = {
    {"pad1 odd, bias, batch 2", false, {2, 16, 9, 11}, {24, 16, 3, 3}, true, 1, 1},
    {"pad0, no bias, batch 3", false, {3, 17, 13, 10}, {16, 17, 3, 3}, false, 0, 0},
    {"pad2, bias", false, {2, 20, 7, 9}, {18, 20, 3, 3}, true, 2, 2},
    {"pad 2x1 mixed", false, {1, 20, 8, 9}, {18, 20, 3, 3}, true, 2, 1},
    {"pad 0x2 mixed, no bias", false, {2, 16, 6, 5}, {16, 16, 3, 3}, false, 0, 2},
    {"smallest output (2x2)", false, {2, 16, 4, 4}, {16, 16, 3, 3}, true, 0, 0},
    {"rows of 66 tiles", false, {1, 16, 5, 263}, {16, 16, 3, 3}, true, 1, 1},
    {"6 images, chunks", false, {6, 16, 17, 15}, {20, 16, 3, 3}, false, 1, 1},
    {"convT pad1", true, {2, 16, 9, 8}, {16, 20, 3, 3}, true, 1, 1},
    {"convT pad0", true, {2, 18, 7, 6}, {18, 16, 3, 3}, false, 0, 0},
    {"convT pad2 odd", true, {3, 16, 11, 9}, {16, 17, 3, 3}, true, 2, 2},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

/* Each case with the tile m forced wherever it fits: fast (Winograd) vs naive, outputs and gradients;
 * and the same output as the im2col path. */
static void run_cases(int m, float tol, uint64_t seed) {
    gt_cpu_conv_set_winograd(2);
    gt_cpu_conv_wino_set_tile(m);
    for (int i = 0; i < NCASES; i++) {
        const wcase *c = &CASES[i];
        gt_tensor *in[3];
        make_inputs(c, seed + 10 * (uint64_t)i, in);
        char nm[128];
        snprintf(nm, sizeof nm, "F(%dx%d,3x3) %s", m, m, c->name);
        gt_test_fast_vs_naive(nm, f_case, n_inputs(c), in, (void *)c, tol, tol);
        for (int k = 0; k < n_inputs(c); k++) gt_set_requires_grad(in[k], false);
        gt_tensor *yw = f_case(in, (void *)c);
        gt_cpu_conv_set_winograd(0);
        gt_tensor *yi = f_case(in, (void *)c);
        gt_cpu_conv_set_winograd(2);
        snprintf(nm, sizeof nm, "F(%dx%d,3x3) %s: vs im2col", m, m, c->name);
        CHECK(yw && yi && gt_test_close(nm, yw, yi, tol, tol));
    }
    gt_cpu_conv_wino_set_tile(0);
    gt_cpu_conv_set_winograd(1);
}

static void test_f4_fast_vs_naive(void) { run_cases(4, F4_TOL, 1100); }
static void test_f2_fast_vs_naive(void) { run_cases(2, F2_TOL, 1300); }

static void test_f4_one_thread(void) {
    int prev = gt_get_num_threads();
    gt_set_num_threads(1);
    run_cases(4, F4_TOL, 1500);
    gt_set_num_threads(prev);
}

/* max |a - b| / max |b| */
static double rel_err(const float *a, const float *b, int64_t n) {
    double d = 0.0, mx = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(a[i])) return INFINITY;
        d = fmax(d, fabs((double)a[i] - b[i]));
        mx = fmax(mx, fabs((double)b[i]));
    }
    return mx > 0.0 ? d / mx : d;
}

static void fill(float *p, int64_t n, uint64_t seed, float scale) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) { /* uniform, zero mean */
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = scale * ((float)((s >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f);
    }
}

/* The direct sums in double, padding 1, C = O: y = corr(x, w) + b, or (data) gx = conv^T(gy = x, w) + b. */
static void ref_double(const gt_conv_geom *g, const float *x, const float *w, const float *b, bool data, float *out) {
    const int64_t C = g->c, H = g->h, W = g->w;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t o = 0; o < C; o++)
            for (int64_t i = 0; i < H; i++)
                for (int64_t j = 0; j < W; j++) {
                    double s = b[o];
                    for (int64_t c = 0; c < C; c++)
                        for (int64_t u = 0; u < 3; u++)
                            for (int64_t v = 0; v < 3; v++) {
                                /* forward: x at (i + u - 1, j + v - 1) times w(o, c, u, v); data: gy at
                                   (i - u + 1, j - v + 1) times w(c, o, u, v) */
                                const int64_t ii = data ? i - u + 1 : i + u - 1, jj = data ? j - v + 1 : j + v - 1;
                                if (ii < 0 || ii >= H || jj < 0 || jj >= W) continue;
                                const float wv = data ? w[((c * C + o) * 3 + u) * 3 + v] : w[((o * C + c) * 3 + u) * 3 + v];
                                s += (double)x[((n * C + c) * H + ii) * W + jj] * wv;
                            }
                    out[((n * C + o) * H + i) * W + j] = (float)s;
                }
}

/* The kernels on zero-mean data with fan-in-scaled weights, the forward and the input gradient,
 * against the direct sums in double: the error each tile has at the channel counts training uses. */
static void test_error_zero_mean(void) {
    static const int64_t K[] = {64, 128, 256};
    for (int k = 0; k < 3; k++) {
        const int64_t C = K[k], N = 2, H = 13, W = 11;
        gt_conv_geom g = {N, C, H, W, C, H, W, 3, 3, 1, 1, 1, 1, 1, 1, 1};
        const int64_t nx = N * C * H * W, nw = C * C * 9;
        float *x = malloc(sizeof(float) * (size_t)nx), *w = malloc(sizeof(float) * (size_t)nw),
              *b = malloc(sizeof(float) * (size_t)C), *ref = malloc(sizeof(float) * (size_t)nx),
              *out = malloc(sizeof(float) * (size_t)nx);
        CHECK(x && w && b && ref && out);
        if (!(x && w && b && ref && out)) return;
        fill(x, nx, 7 + (uint64_t)k, 1.0f);
        fill(w, nw, 17 + (uint64_t)k, 1.0f / sqrtf(3.0f * 9.0f * (float)C)); /* unit-variance outputs */
        fill(b, C, 27 + (uint64_t)k, 0.1f);
        for (int data = 0; data < 2; data++) {
            ref_double(&g, x, w, b, data, ref);
            for (int m = 2; m <= 4; m += 2) {
                memset(out, 0xff, sizeof(float) * (size_t)nx); /* NaN: every output must be written */
                bool ok = data ? gt_cpu_conv_wino_data(&g, m, x, w, b, out) : gt_cpu_conv_wino_fwd(&g, m, x, w, b, out);
                CHECK(ok);
                double e = rel_err(out, ref, nx), lim = m == 4 ? F4_REL_MAX : F2_REL_MAX;
                CHECK_MSG(e <= lim, "F(%dx%d,3x3) %s K %lld: max error %.3g of max |y| > %g", m, m,
                          data ? "input gradient" : "forward", (long long)C, e, lim);
                printf("  F(%dx%d,3x3) %-14s K %3lld: max error %.2e of max |y|\n", m, m,
                       data ? "input gradient" : "forward", (long long)C, e);
            }
        }
        free(x), free(w), free(b), free(ref), free(out);
    }
}

/* sum_l A^T[i][l] G[l][k] B^T[l][j] = [j == i + k] for the F(m, r) the code builds. */
static void test_toom_cook_identity(void) {
    static const int MR[][2] = {{2, 3}, {4, 3}, {3, 3}, {6, 3}, {4, 5}, {2, 5}, {4, 7}, {2, 7}, {6, 7}};
    for (size_t q = 0; q < sizeof MR / sizeof *MR; q++) {
        const int m = MR[q][0], r = MR[q][1], n = m + r - 1;
        double bt[GT_CPU_WINO_MAXN * GT_CPU_WINO_MAXN], g[GT_CPU_WINO_MAXN * GT_CPU_WINO_MAXN],
            at[GT_CPU_WINO_MAXM * GT_CPU_WINO_MAXN];
        CHECK(gt_cpu_wino_mats(m, r, bt, g, at));
        double worst = 0.0;
        for (int i = 0; i < m; i++)
            for (int k = 0; k < r; k++)
                for (int j = 0; j < n; j++) {
                    double s = 0.0;
                    for (int l = 0; l < n; l++) s += at[i * n + l] * g[l * r + k] * bt[l * n + j];
                    worst = fmax(worst, fabs(s - (j == i + k)));
                }
        CHECK_MSG(worst < 1e-9, "F(%d, %d): identity off by %.3g", m, r, worst);
        gt_cpu_wino t;
        CHECK(gt_cpu_wino_init(&t, m, r) && t.n == n);
    }
    gt_cpu_wino t;
    CHECK(!gt_cpu_wino_init(&t, 7, 3));  /* tile too large */
    CHECK(!gt_cpu_wino_init(&t, 6, 8));  /* too many points */
    CHECK(!gt_cpu_wino_init(&t, 4, 1));  /* not a filter */
}

/* Which tile the policy picks, and where it forces one. */
static void test_policy(void) {
    gt_conv_geom g = {4, 64, 64, 64, 64, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    CHECK(gt_cpu_conv_wino_tile(&g, false) == 4 && gt_cpu_conv_wino_tile(&g, true) == 4);
    gt_conv_geom wide = g;
    wide.c = 512; /* the forward's K = 512: F(2x2); the input gradient's K = O = 64: F(4x4) */
    CHECK(gt_cpu_conv_wino_tile(&wide, false) == 2 && gt_cpu_conv_wino_tile(&wide, true) == 4);
    wide.c = 64, wide.o = 384;
    CHECK(gt_cpu_conv_wino_tile(&wide, false) == 4 && gt_cpu_conv_wino_tile(&wide, true) == 2);
    gt_conv_geom small = g;
    small.h = small.w = small.ho = small.wo = 32; /* 4 x 1024 output positions: im2col */
    CHECK(gt_cpu_conv_wino_tile(&small, false) == 0);
    gt_conv_geom batch = small;
    batch.n = 8; /* 8 x 1024: the batch decides (the zoo's ResNets at 32 px) */
    CHECK(gt_cpu_conv_wino_tile(&batch, false) == 4 && gt_cpu_conv_wino_tile(&batch, true) == 4);
    batch.h = batch.w = batch.ho = batch.wo = 16, batch.n = 32; /* 32 x 256 */
    CHECK(gt_cpu_conv_wino_tile(&batch, false) == 4);
    batch.n = 31;
    CHECK(gt_cpu_conv_wino_tile(&batch, false) == 0);
    batch.h = batch.w = batch.ho = batch.wo = 8, batch.n = 4096; /* 2 x 2 tiles an image: im2col */
    CHECK(gt_cpu_conv_wino_tile(&batch, false) == 0);
    gt_conv_geom thin = g;
    thin.c = 8;
    CHECK(gt_cpu_conv_wino_tile(&thin, false) == 0);
    gt_conv_geom s2 = g;
    s2.sh = s2.sw = 2, s2.ho = s2.wo = 32;
    CHECK(gt_cpu_conv_wino_tile(&s2, false) == 0 && !gt_cpu_conv_wino_fits(&s2, false));
    gt_conv_geom p3 = g;
    p3.ph = p3.pw = 3, p3.ho = p3.wo = 68; /* the input gradient needs padding <= 2 */
    CHECK(gt_cpu_conv_wino_fits(&p3, false) && !gt_cpu_conv_wino_fits(&p3, true));
    CHECK(gt_cpu_conv_wino_tile_fit(&small, false) == 2);
    gt_cpu_conv_wino_set_tile(4);
    CHECK(gt_cpu_conv_wino_tile_fit(&small, false) == 4 && gt_cpu_conv_wino_tile(&wide, true) == 4);
    gt_cpu_conv_wino_set_tile(3); /* not a tile: the policy again */
    CHECK(gt_cpu_conv_wino_tile(&wide, true) == 2);
    gt_cpu_conv_wino_set_tile(0);
}

int main(void) {
    RUN(test_toom_cook_identity);
    RUN(test_policy);
    RUN(test_f4_fast_vs_naive);
    RUN(test_f2_fast_vs_naive);
    RUN(test_f4_one_thread);
    RUN(test_error_zero_mean);
    return gt_test_finish();
}
