/* gantry's own CUDA kernels (cuda/kernels_*.cu) run on the CPU through the emulator cuda/emu.h
 * (compiled with g++: tests/backend/cuda_emu/), against the CPU kernel table: every entry they
 * provide, odd shapes (1, 3, 17, 33, ...), broadcast and transposed strides, reductions over every
 * set of dims, pooling with padding / stride / ceil, up- and downsampling, repeated indices.
 * Everything runs twice: blocks of up to 64 threads over the grid as launched, then blocks of 7
 * threads over at most 3 blocks (odd block sizes for the shared-memory trees, grid-stride loops
 * doing most of the work). Tolerances: data movement and selections (copy, fill, gather, nearest,
 * max) are exact by construction (the same elements are moved); single IEEE operations (binary,
 * Adam's fmaf chain) are exact here because the emulator compiles them with the CPU's libm and no
 * contraction, but get 1e-6 to allow for the libm; sums accumulate in double on the "device" and in
 * float on the CPU: 1e-5 relative plus a small absolute term. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/harness.h"
#include "cuda_emu/emu_api.h"

static gt_kernels E; /* the emulated CUDA table */
static const gt_kernels *C = &gt_kernels_cpu;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static float urand(float lo, float hi) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((rng_state >> 40) / 16777216.0);
}
static float *fbuf(int64_t n, float lo, float hi) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = urand(lo, hi);
    return p;
}
/* Values on a coarse grid, so maxima tie. */
static float *tiebuf(int64_t n) {
    float *p = fbuf(n, 0, 1);
    for (int64_t i = 0; i < n; i++) p[i] = (float)(int)(p[i] * 4.0f) - 2.0f;
    return p;
}
static float *zbuf(int64_t n, float v) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = v;
    return p;
}
static bool exact(const char *what, const float *a, const float *b, int64_t n) {
    return gt_test_close_buf(what, a, b, n, 0.0f, 0.0f);
}
static bool exact_i32(const char *what, const int32_t *a, const int32_t *b, int64_t n) {
    gt_test_checks++;
    for (int64_t i = 0; i < n; i++)
        if (a[i] != b[i]) {
            gt_test_failures++;
            fprintf(stderr, "  %s: mismatch at %lld: got %d want %d\n", what, (long long)i, a[i], b[i]);
            return false;
        }
    return true;
}
/* The call launched at least one emulated kernel (no silent fallback). */
static int64_t launches0;
#define LAUNCHED(what) CHECK_MSG(gt_emu_launches() > launches0, "%s launched nothing", what)
#define MARK() (launches0 = gt_emu_launches())

static void test_table(void) {
    CHECK(E.binary && E.unary && E.copy && E.copy_rows && E.fill && E.fill_i32 && E.sum && E.max_dim);
    CHECK(E.bn_stats && E.bn_prepare && E.bn_apply && E.bn_backward);
    CHECK(E.avg_pool2d && E.avg_pool2d_backward && E.max_pool2d && E.index_gather && E.index_scatter);
    CHECK(E.adaptive_avg_pool2d && E.adaptive_avg_pool2d_backward && E.upsample_nearest2d &&
          E.upsample_nearest2d_backward && E.upsample_bilinear2d && E.upsample_bilinear2d_backward);
    CHECK(E.embed_gather && E.embed_scatter && E.adam && E.round_bf16 && E.grid_sample && E.dropout);
    /* cuBLAS / cuDNN's (cuda/blas.cu, dnn.cu), not these files' */
    CHECK(!E.gemm && !E.conv_fwd && !E.conv_data && !E.conv_weight);
}

/* --- elementwise ---------------------------------------------------------------------------------- */
typedef struct {
    const char *name;
    int nd;
    int64_t shape[6], sa[6], sb[6]; /* strides; buffers sized to reach the largest offset */
} ecase;

static const ecase ECASES[] = {
    {"scalar", 0, {0}, {0}, {0}},
    {"1", 1, {1}, {1}, {1}},
    {"17", 1, {17}, {1}, {1}},
    {"33x5", 2, {33, 5}, {5, 1}, {5, 1}},
    {"bcast_row", 2, {17, 3}, {3, 1}, {0, 1}},
    {"bcast_col", 3, {3, 17, 5}, {85, 5, 1}, {17, 1, 0}},
    {"bcast_scalar", 2, {3, 33}, {33, 1}, {0, 0}},
    {"transposed", 2, {5, 7}, {1, 5}, {7, 1}},
    {"perm3", 3, {3, 4, 5}, {1, 15, 3}, {20, 5, 1}},
    {"six_dims", 6, {2, 1, 3, 2, 5, 3}, {90, 90, 30, 15, 3, 1}, {0, 0, 2, 1, 0, 6}},
};

static int64_t span(int nd, const int64_t *shape, const int64_t *st) {
    int64_t o = 0;
    for (int d = 0; d < nd; d++) o += (shape[d] - 1) * st[d];
    return o + 1;
}
static int64_t numel(int nd, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= shape[d];
    return n;
}

static void test_binary(void) {
    for (size_t c = 0; c < sizeof ECASES / sizeof ECASES[0]; c++) {
        const ecase *e = &ECASES[c];
        int64_t n = numel(e->nd, e->shape);
        float *a = fbuf(span(e->nd, e->shape, e->sa), 0.1f, 2.0f), *b = fbuf(span(e->nd, e->shape, e->sb), 0.1f, 2.0f);
        float *o1 = zbuf(n, 0), *o2 = zbuf(n, 0);
        for (int op = GT_BIN_ADD; op <= GT_BIN_POW; op++) {
            char what[96];
            snprintf(what, sizeof what, "binary %d %s", op, e->name);
            MARK();
            E.binary((gt_binop)op, e->nd, e->shape, a, e->sa, b, e->sb, o1);
            LAUNCHED(what);
            C->binary((gt_binop)op, e->nd, e->shape, a, e->sa, b, e->sb, o2);
            gt_test_close_buf(what, o1, o2, n, 1e-6f, 0.0f);
        }
        free(a), free(b), free(o1), free(o2);
    }
}

static void test_unary_copy(void) {
    for (size_t c = 0; c < sizeof ECASES / sizeof ECASES[0]; c++) {
        const ecase *e = &ECASES[c];
        int64_t n = numel(e->nd, e->shape), sp = span(e->nd, e->shape, e->sa);
        float *xs = fbuf(sp, -3.0f, 3.0f), *xp = fbuf(sp, 0.05f, 3.0f);
        float *o1 = zbuf(n, 0), *o2 = zbuf(n, 0);
        for (int op = 0; op < GT_UN_COUNT; op++) {
            bool pos = op == GT_UN_LOG || op == GT_UN_SQRT || op == GT_UN_POW_SCALAR;
            float p0 = op == GT_UN_SOFTPLUS ? 1.5f : (op == GT_UN_CLAMP || op == GT_UN_GE_LE ? -0.5f : 0.7f);
            float p1 = op == GT_UN_SOFTPLUS ? 2.0f : 0.9f;
            for (int pass = 0; pass < (op == GT_UN_POW_SCALAR ? 2 : 1); pass++) {
                if (pass) p0 = 2.0f; /* x*x */
                char what[96];
                snprintf(what, sizeof what, "unary %d (p0 %g) %s", op, p0, e->name);
                MARK();
                E.unary((gt_unop)op, p0, p1, e->nd, e->shape, pos ? xp : xs, e->sa, o1);
                LAUNCHED(what);
                C->unary((gt_unop)op, p0, p1, e->nd, e->shape, pos ? xp : xs, e->sa, o2);
                gt_test_close_buf(what, o1, o2, n, 1e-6f, 1e-7f);
            }
        }
        MARK();
        E.copy(e->nd, e->shape, xs, e->sa, o1);
        LAUNCHED("copy");
        C->copy(e->nd, e->shape, xs, e->sa, o2);
        exact(e->name, o1, o2, n);
        free(xs), free(xp), free(o1), free(o2);
    }
}

static void test_rows_fill(void) {
    const int64_t rows = 3, len = 17, sld = 20, dld = 19;
    float *src = fbuf(rows * sld, -1, 1), *d1 = zbuf(rows * dld, -7), *d2 = zbuf(rows * dld, -7);
    MARK();
    E.copy_rows(rows, len, src, sld, d1, dld);
    LAUNCHED("copy_rows");
    C->copy_rows(rows, len, src, sld, d2, dld);
    exact("copy_rows (the gaps untouched)", d1, d2, rows * dld);
    for (int64_t n = 1; n <= 1000; n = n * 10 + 3) {
        float *f1 = zbuf(n + 1, -1), *f2 = zbuf(n + 1, -1);
        E.fill(n, 2.5f, f1);
        C->fill(n, 2.5f, f2);
        exact("fill (the element after untouched)", f1, f2, n + 1);
        int32_t *i1 = calloc((size_t)n + 1, 4), *i2 = calloc((size_t)n + 1, 4);
        E.fill_i32(n, -42, i1);
        C->fill_i32(n, -42, i2);
        exact_i32("fill_i32", i1, i2, n + 1);
        free(f1), free(f2), free(i1), free(i2);
    }
    free(src), free(d1), free(d2);
}

/* copy_to_strided (a slice's gradient written into a strided view), nonfinite_to_zero, axpby */
static void test_scatter_misc(void) {
    /* a view of every other column and a transposed view of a (5, 2, 9) block inside a larger buffer */
    const int64_t shape[3] = {5, 2, 9};
    const int64_t strides[][3] = {{40, 20, 2}, {2, 1, 10}};
    for (int k = 0; k < 2; k++) {
        int64_t n = 5 * 2 * 9, big = 5 * 2 * 9 * 2 + 64;
        float *src = fbuf(n, -1, 1), *d1 = zbuf(big, -3), *d2 = zbuf(big, -3);
        MARK();
        E.copy_to_strided(3, shape, src, d1, strides[k]);
        LAUNCHED("copy_to_strided");
        C->copy_to_strided(3, shape, src, d2, strides[k]);
        exact("copy_to_strided (the gaps untouched)", d1, d2, big);
        free(src), free(d1), free(d2);
    }
    for (int64_t n = 1; n <= 1000; n = n * 10 + 3) {
        float *x1 = fbuf(n, -5, 5), *x2 = malloc((size_t)n * sizeof(float));
        for (int64_t i = 0; i < n; i += 3) x1[i] = (i % 2) ? INFINITY : (i % 5 ? -INFINITY : NAN);
        memcpy(x2, x1, (size_t)n * sizeof(float));
        MARK();
        E.nonfinite_to_zero(n, x1);
        LAUNCHED("nonfinite_to_zero");
        C->nonfinite_to_zero(n, x2);
        exact("nonfinite_to_zero", x1, x2, n);
        float *x = fbuf(n, -1, 1), *y1 = fbuf(n, -1, 1), *y2 = malloc((size_t)n * sizeof(float));
        memcpy(y2, y1, (size_t)n * sizeof(float));
        E.axpby(n, 0.001f, x, 0.999f, y1);
        C->axpby(n, 0.001f, x, 0.999f, y2);
        gt_test_close_buf("axpby", y1, y2, n, 1e-6f, 1e-6f);
        free(x1), free(x2), free(x), free(y1), free(y2);
    }
}

/* --- reductions ----------------------------------------------------------------------------------- */
static void sum_case(int nd, const int64_t *shape) {
    int64_t n = numel(nd, shape), room = 1; /* room: the most outputs (a zero dim reduced leaves zeros) */
    for (int d = 0; d < nd; d++) room *= shape[d] > 1 ? shape[d] : 1;
    float *x = fbuf(n, -1, 1), *o1 = zbuf(room, 7), *o2 = zbuf(room, 7);
    for (unsigned mask = 0; mask < (1u << nd); mask++) {
        bool red[6];
        int64_t kept = 1, R = 1;
        for (int d = 0; d < nd; d++) {
            red[d] = (mask >> d) & 1;
            if (red[d]) R *= shape[d];
            else kept *= shape[d];
        }
        char what[96];
        snprintf(what, sizeof what, "sum nd %d (%lld..) mask %x", nd, (long long)shape[0], mask);
        MARK();
        E.sum(nd, shape, red, x, o1);
        if (kept > 0) LAUNCHED(what);
        gt_kernels_naive.sum(nd, shape, red, x, o2);
        gt_test_close_buf(what, o1, o2, kept, 1e-5f, 2e-6f * (float)(R < 16 ? 16 : R));
    }
    free(x), free(o1), free(o2);
}

static void test_sum(void) {
    sum_case(3, (int64_t[]){3, 17, 33});
    sum_case(5, (int64_t[]){2, 1, 5, 3, 4});
    sum_case(1, (int64_t[]){1});
    sum_case(2, (int64_t[]){1, 5000}); /* one long row: a block */
    sum_case(2, (int64_t[]){5000, 3}); /* few outputs, strided over many: blocks */
    sum_case(2, (int64_t[]){33, 300});
    sum_case(4, (int64_t[]){4, 3, 5, 7});
    sum_case(0, (int64_t[]){1});
    sum_case(3, (int64_t[]){3, 0, 2}); /* empty: sums of nothing are 0 */
    int64_t b0 = gt_emu_barriers();
    sum_case(1, (int64_t[]){777});
    CHECK_MSG(gt_emu_barriers() > b0, "the block-wide sum ran no __syncthreads");
}

static void test_max_dim(void) {
    static const int64_t cases[][3] = {{3, 17, 5}, {1, 33, 1}, {2, 1, 3}, {4, 3, 1}, {1, 5, 7}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t O = cases[c][0], L = cases[c][1], I = cases[c][2], n = O * L * I;
        float *x = tiebuf(n);
        if (n > 10) x[n / 2] = NAN, x[n / 3] = NAN;
        float *y1 = zbuf(O * I, 0), *y2 = zbuf(O * I, 0), *h1 = zbuf(n, 0), *h2 = zbuf(n, 0);
        MARK();
        E.max_dim(O, L, I, x, y1, h1);
        LAUNCHED("max_dim");
        C->max_dim(O, L, I, x, y2, h2);
        exact("max_dim", y1, y2, O * I);
        exact("max_dim onehot", h1, h2, n);
        E.max_dim(O, L, I, x, y1, NULL);
        exact("max_dim without onehot", y1, y2, O * I);
        free(x), free(y1), free(y2), free(h1), free(h2);
    }
}

static void test_bn(void) {
    static const int64_t cases[][3] = {{4, 3, 17}, {1, 5, 1}, {33, 2, 1}, {2, 3, 300}, {3, 1, 7}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t N = cases[c][0], Ch = cases[c][1], S = cases[c][2], n = N * Ch * S;
        float *x = fbuf(n, -2, 3), *gy = fbuf(n, -1, 1), *w = fbuf(Ch, 0.5f, 1.5f), *b = fbuf(Ch, -1, 1);
        float *m1 = zbuf(Ch, 0), *v1 = zbuf(Ch, 0), *m2 = zbuf(Ch, 0), *v2 = zbuf(Ch, 0);
        MARK();
        E.bn_stats(N, Ch, S, x, m1, v1);
        LAUNCHED("bn_stats");
        C->bn_stats(N, Ch, S, x, m2, v2);
        gt_test_close_buf("bn mean", m1, m2, Ch, 1e-5f, 1e-6f);
        gt_test_close_buf("bn var", v1, v2, Ch, 1e-5f, 1e-6f);
        /* prepare: training with and without running statistics, then eval */
        float *rm1 = fbuf(Ch, -1, 1), *rv1 = fbuf(Ch, 0.5f, 2), *rm2 = malloc(Ch * 4), *rv2 = malloc(Ch * 4);
        memcpy(rm2, rm1, Ch * 4), memcpy(rv2, rv1, Ch * 4);
        double M = (double)(N * S);
        for (int t = 0; t < 3; t++) {
            bool training = t < 2;
            float *a1 = t == 1 ? NULL : rm1, *b1 = t == 1 ? NULL : rv1, *a2 = t == 1 ? NULL : rm2, *b2 = t == 1 ? NULL : rv2;
            float *mm1 = malloc(Ch * 4), *vv1 = malloc(Ch * 4), *mm2 = malloc(Ch * 4), *vv2 = malloc(Ch * 4);
            memcpy(mm1, m2, Ch * 4), memcpy(vv1, v2, Ch * 4), memcpy(mm2, m2, Ch * 4), memcpy(vv2, v2, Ch * 4);
            MARK();
            E.bn_prepare(Ch, training, M > 1 ? M : 2, 0.1f, 1e-5f, a1, b1, mm1, vv1);
            LAUNCHED("bn_prepare");
            C->bn_prepare(Ch, training, M > 1 ? M : 2, 0.1f, 1e-5f, a2, b2, mm2, vv2);
            gt_test_close_buf("bn_prepare mean", mm1, mm2, Ch, 1e-6f, 0);
            gt_test_close_buf("bn_prepare invstd", vv1, vv2, Ch, 1e-6f, 0);
            gt_test_close_buf("bn_prepare running mean", rm1, rm2, Ch, 1e-6f, 0);
            gt_test_close_buf("bn_prepare running var", rv1, rv2, Ch, 1e-6f, 0);
            free(mm1), free(vv1), free(mm2), free(vv2);
        }
        float *invstd = malloc(Ch * 4);
        float big = 1.0f; /* the largest invstd * |w|: gx's scale (M = 1: var 0, invstd ~316) */
        for (int64_t k = 0; k < Ch; k++) {
            invstd[k] = 1.0f / sqrtf(v2[k] + 1e-5f);
            big = fmaxf(big, invstd[k] * fabsf(w[k]));
        }
        float *y1 = zbuf(n, 0), *y2 = zbuf(n, 0);
        for (int wb = 0; wb < 2; wb++) {
            MARK();
            E.bn_apply(N, Ch, S, x, m2, invstd, wb ? w : NULL, wb ? b : NULL, y1);
            LAUNCHED("bn_apply");
            C->bn_apply(N, Ch, S, x, m2, invstd, wb ? w : NULL, wb ? b : NULL, y2);
            gt_test_close_buf("bn_apply", y1, y2, n, 1e-5f, 1e-5f);
        }
        float *gw1 = zbuf(Ch, 0), *gb1 = zbuf(Ch, 0), *gw2 = zbuf(Ch, 0), *gb2 = zbuf(Ch, 0);
        for (int mode = 0; mode < 4; mode++) {
            bool training = mode & 1, some = mode & 2;
            MARK();
            E.bn_backward(N, Ch, S, x, gy, m2, invstd, some ? NULL : w, training, y1, some ? NULL : gw1, gb1);
            LAUNCHED("bn_backward");
            C->bn_backward(N, Ch, S, x, gy, m2, invstd, some ? NULL : w, training, y2, some ? NULL : gw2, gb2);
            gt_test_close_buf("bn_backward gx", y1, y2, n, 1e-4f, 1e-6f * big);
            gt_test_close_buf("bn_backward gw", gw1, gw2, Ch, 1e-5f, 1e-4f);
            gt_test_close_buf("bn_backward gb", gb1, gb2, Ch, 1e-5f, 1e-4f);
        }
        E.bn_backward(N, Ch, S, x, gy, m2, invstd, w, true, NULL, gw1, NULL);
        gt_test_close_buf("bn_backward gw alone", gw1, gw2, Ch, 1e-5f, 1e-4f);
        free(x), free(gy), free(w), free(b), free(m1), free(v1), free(m2), free(v2), free(rm1), free(rv1);
        free(rm2), free(rv2), free(invstd), free(y1), free(y2), free(gw1), free(gb1), free(gw2), free(gb2);
    }
}

/* --- pooling -------------------------------------------------------------------------------------- */
typedef struct {
    int64_t H, W;
    int kh, kw, sh, sw, ph, pw;
    bool ceil;
} pgeom;

static const pgeom PCASES[] = {
    {7, 9, 3, 3, 2, 2, 1, 1, false}, {8, 8, 3, 3, 2, 2, 0, 0, true}, {5, 6, 2, 2, 2, 2, 1, 1, true},
    {4, 4, 2, 2, 3, 3, 1, 1, true},  {6, 5, 3, 2, 2, 1, 1, 0, false}, {8, 8, 2, 2, 2, 2, 0, 0, false},
    {5, 5, 3, 3, 1, 1, 1, 1, false}, {1, 1, 1, 1, 1, 1, 0, 0, false}, {17, 3, 5, 3, 3, 2, 2, 1, true},
    {33, 17, 4, 4, 2, 3, 2, 2, true},
};

/* PyTorch's output size (dilation 1). */
static int64_t pool_out(int64_t in, int k, int s, int p, bool ceil_mode) {
    int64_t num = in + 2 * p - k + (ceil_mode ? s - 1 : 0);
    int64_t o = num / s + 1;
    if (ceil_mode && (o - 1) * s >= in + p) o--;
    return o;
}

static void test_pool(void) {
    const int64_t P = 3;
    for (size_t c = 0; c < sizeof PCASES / sizeof PCASES[0]; c++) {
        const pgeom *q = &PCASES[c];
        gt_pool2d_geom g = {q->H, q->W, pool_out(q->H, q->kh, q->sh, q->ph, q->ceil),
                            pool_out(q->W, q->kw, q->sw, q->pw, q->ceil), q->kh, q->kw, q->sh, q->sw, q->ph, q->pw,
                            false};
        int64_t nin = P * g.H * g.W, nout = P * g.OH * g.OW;
        char what[96];
        float *x = fbuf(nin, -1, 1), *gy = fbuf(nout, -1, 1);
        float *y1 = zbuf(nout, 0), *y2 = zbuf(nout, 0), *gx1 = zbuf(nin, 0), *gx2 = zbuf(nin, 0);
        for (int cip = 0; cip < 2; cip++) {
            g.count_include_pad = cip;
            snprintf(what, sizeof what, "avg_pool2d case %zu cip %d", c, cip);
            MARK();
            E.avg_pool2d(&g, P, x, y1);
            LAUNCHED(what);
            C->avg_pool2d(&g, P, x, y2);
            gt_test_close_buf(what, y1, y2, nout, 1e-5f, 1e-6f);
            E.avg_pool2d_backward(&g, P, gy, gx1);
            C->avg_pool2d_backward(&g, P, gy, gx2);
            gt_test_close_buf("avg_pool2d_backward", gx1, gx2, nin, 1e-5f, 1e-6f);
        }
        float *t = tiebuf(nin);
        if (nin > 10) t[nin / 2] = NAN, t[nin / 5] = NAN, t[nin / 5 + 1] = NAN;
        int32_t *i1 = calloc((size_t)nout, 4), *i2 = calloc((size_t)nout, 4);
        snprintf(what, sizeof what, "max_pool2d case %zu", c);
        MARK();
        E.max_pool2d(&g, P, t, y1, i1);
        LAUNCHED(what);
        C->max_pool2d(&g, P, t, y2, i2);
        exact(what, y1, y2, nout);
        exact_i32("max_pool2d idx", i1, i2, nout);
        /* its backward: the index scatter (overlapping windows repeat positions) */
        MARK();
        E.index_scatter(P, g.H * g.W, g.OH * g.OW, gy, i2, gx1);
        LAUNCHED("index_scatter");
        C->index_scatter(P, g.H * g.W, g.OH * g.OW, gy, i2, gx2);
        gt_test_close_buf("index_scatter of max_pool2d", gx1, gx2, nin, 1e-6f, 1e-7f);
        E.index_gather(P, g.H * g.W, g.OH * g.OW, x, i2, y1);
        C->index_gather(P, g.H * g.W, g.OH * g.OW, x, i2, y2);
        exact("index_gather", y1, y2, nout);
        free(x), free(gy), free(y1), free(y2), free(gx1), free(gx2), free(t), free(i1), free(i2);
    }
    /* many repeats: Lout > Lin */
    const int64_t Lin = 5, Lout = 33;
    float *gy = fbuf(P * Lout, -1, 1), *x = fbuf(P * Lin, -1, 1), *g1 = zbuf(P * Lin, 9), *g2 = zbuf(P * Lin, 9);
    float *y1 = zbuf(P * Lout, 0), *y2 = zbuf(P * Lout, 0);
    int32_t *idx = malloc(P * Lout * 4);
    for (int64_t i = 0; i < P * Lout; i++) idx[i] = (int32_t)(urand(0, 1) * 4.99f);
    MARK();
    E.index_gather(P, Lin, Lout, x, idx, y1);
    LAUNCHED("index_gather");
    C->index_gather(P, Lin, Lout, x, idx, y2);
    exact("index_gather repeats", y1, y2, P * Lout);
    E.index_scatter(P, Lin, Lout, gy, idx, g1);
    C->index_scatter(P, Lin, Lout, gy, idx, g2);
    gt_test_close_buf("index_scatter repeats", g1, g2, P * Lin, 1e-6f, 1e-6f);
    free(gy), free(x), free(g1), free(g2), free(y1), free(y2), free(idx);
}

/* --- adaptive pooling and resampling: (H, W) -> (OH, OW) ------------------------------------------- */
static const int64_t RCASES[][4] = {
    {7, 9, 3, 4}, {4, 5, 6, 7}, {5, 5, 1, 1}, {5, 5, 5, 5}, {17, 3, 5, 2}, {4, 5, 8, 10},
    {3, 5, 7, 4}, {8, 8, 3, 5}, {1, 1, 3, 2}, {17, 33, 33, 17}, {33, 3, 64, 7}, {2, 16, 7, 3},
};

static void test_resample(void) {
    const int64_t P = 2;
    for (size_t c = 0; c < sizeof RCASES / sizeof RCASES[0]; c++) {
        int64_t H = RCASES[c][0], W = RCASES[c][1], OH = RCASES[c][2], OW = RCASES[c][3];
        int64_t nin = P * H * W, nout = P * OH * OW;
        float *x = fbuf(nin, -1, 1), *gy = fbuf(nout, -1, 1);
        float *y1 = zbuf(nout, 0), *y2 = zbuf(nout, 0), *g1 = zbuf(nin, 0), *g2 = zbuf(nin, 0);
        struct {
            const char *name;
            gt_resample_fn ef, cf, eb, cb;
            float rtol;
        } k[] = {
            {"adaptive_avg_pool2d", E.adaptive_avg_pool2d, C->adaptive_avg_pool2d, E.adaptive_avg_pool2d_backward,
             C->adaptive_avg_pool2d_backward, 1e-5f},
            {"upsample_nearest2d", E.upsample_nearest2d, C->upsample_nearest2d, E.upsample_nearest2d_backward,
             C->upsample_nearest2d_backward, 0.0f},
            {"upsample_bilinear2d", E.upsample_bilinear2d, C->upsample_bilinear2d, E.upsample_bilinear2d_backward,
             C->upsample_bilinear2d_backward, 1e-5f},
        };
        for (int j = 0; j < 3; j++) {
            char what[96];
            snprintf(what, sizeof what, "%s %lldx%lld -> %lldx%lld", k[j].name, (long long)H, (long long)W,
                     (long long)OH, (long long)OW);
            MARK();
            k[j].ef(P, H, W, OH, OW, x, y1);
            LAUNCHED(what);
            k[j].cf(P, H, W, OH, OW, x, y2);
            gt_test_close_buf(what, y1, y2, nout, k[j].rtol, k[j].rtol * 0.1f);
            k[j].eb(P, H, W, OH, OW, gy, g1);
            k[j].cb(P, H, W, OH, OW, gy, g2);
            strcat(what, " backward");
            gt_test_close_buf(what, g1, g2, nin, 1e-5f, 2e-6f);
        }
        free(x), free(gy), free(y1), free(y2), free(g1), free(g2);
    }
}

/* --- grid sampling: every mode, padding and alignment, points inside, outside, at pixel centres
 * (nearest's ties) and not finite -------------------------------------------------------------- */
static void test_grid_sample(void) {
    const int64_t N = 2, Ch = 3, H = 5, W = 7, Ho = 4, Wo = 6, L = Ho * Wo;
    float *x = fbuf(N * Ch * H * W, -1, 1), *gy = fbuf(N * Ch * L, -1, 1), *grid = fbuf(N * L * 2, -1.4f, 1.4f);
    const float special[] = {NAN, INFINITY, -INFINITY, 1e30f, -1.0f, 1.0f, 0.0f, -1.0f / 7.0f, 3.0f / 7.0f, 2.5f};
    for (int i = 0; i < 10; i++) grid[3 * i + 1] = special[i];
    float *y1 = zbuf(N * Ch * L, 0), *y2 = zbuf(N * Ch * L, 0), *g1 = zbuf(N * Ch * H * W, 7), *g2 = zbuf(N * Ch * H * W, 7);
    for (int mode = 0; mode < 12; mode++) {
        bool bil = mode & 1, align = (mode >> 1) & 1;
        int pad = mode >> 2;
        char what[96];
        snprintf(what, sizeof what, "grid_sample %s pad %d align %d", bil ? "bilinear" : "nearest", pad, align);
        MARK();
        CHECK(E.grid_sample(false, N, Ch, H, W, Ho, Wo, bil, pad, align, grid, x, y1));
        LAUNCHED(what);
        CHECK(C->grid_sample(false, N, Ch, H, W, Ho, Wo, bil, pad, align, grid, x, y2));
        gt_test_close_buf(what, y1, y2, N * Ch * L, 1e-5f, 1e-6f);
        CHECK(E.grid_sample(true, N, Ch, H, W, Ho, Wo, bil, pad, align, grid, gy, g1));
        CHECK(C->grid_sample(true, N, Ch, H, W, Ho, Wo, bil, pad, align, grid, gy, g2));
        strcat(what, " adjoint");
        gt_test_close_buf(what, g1, g2, N * Ch * H * W, 1e-5f, 2e-6f);
    }
    free(x), free(gy), free(grid), free(y1), free(y2), free(g1), free(g2);
}

/* --- dropout: the CPU's mask bit for bit, for lengths around the blocks of four, from any offset -- */
static void test_dropout(void) {
    const int64_t ns[] = {1, 3, 4, 5, 1001};
    for (int c = 0; c < 5; c++) {
        int64_t n = ns[c];
        float *x = fbuf(n, -1, 1), *y1 = zbuf(n, 7), *y2 = zbuf(n, 7), *m1 = zbuf(n, 7), *m2 = zbuf(n, 7);
        MARK();
        E.dropout(n, 0x1234567890ull, 17 + (uint64_t)c, 0.3f, 1.0f / 0.7f, x, y1, c == 1 ? NULL : m1);
        LAUNCHED("dropout");
        C->dropout(n, 0x1234567890ull, 17 + (uint64_t)c, 0.3f, 1.0f / 0.7f, x, y2, c == 1 ? NULL : m2);
        exact("dropout y", y1, y2, n);
        exact("dropout mask", m1, m2, n);
        free(x), free(y1), free(y2), free(m1), free(m2);
    }
}

/* --- embedding rows and Adam ---------------------------------------------------------------------- */
static void test_embed(void) {
    const int64_t num = 7, dim = 5, n = 33;
    float *w = fbuf(num * dim, -1, 1), *g = fbuf(n * dim, -1, 1);
    int32_t *idx = malloc(n * 4);
    for (int64_t i = 0; i < n; i++) idx[i] = (int32_t)(urand(0, 1) * 6.99f);
    float *o1 = zbuf(n * dim, 0), *o2 = zbuf(n * dim, 0);
    for (int tr = 0; tr < 2; tr++) { /* row-major, then the transposed view of a (dim, num) weight */
        int64_t s0 = tr ? 1 : dim, s1 = tr ? num : 1;
        MARK();
        E.embed_gather(w, s0, s1, idx, n, dim, o1);
        LAUNCHED("embed_gather");
        C->embed_gather(w, s0, s1, idx, n, dim, o2);
        exact("embed_gather", o1, o2, n * dim);
    }
    float *s1 = zbuf(num * dim, 0), *s2 = zbuf(num * dim, 0);
    MARK();
    E.embed_scatter(g, idx, n, dim, s1);
    LAUNCHED("embed_scatter");
    C->embed_scatter(g, idx, n, dim, s2);
    gt_test_close_buf("embed_scatter (repeated rows)", s1, s2, num * dim, 1e-6f, 1e-6f);
    free(w), free(g), free(idx), free(o1), free(o2), free(s1), free(s2);
}

static void test_adam(void) {
    const int64_t n = 1001;
    for (int mode = 0; mode < 4; mode++) {
        bool ams = mode & 1;
        float wd = (mode & 2) ? 0.01f : 0.0f;
        float *p1 = fbuf(n, -1, 1), *g = fbuf(n, -1, 1), *m1 = fbuf(n, -0.1f, 0.1f), *v1 = fbuf(n, 0, 0.01f);
        float *x1 = fbuf(n, 0, 0.02f);
        float *p2 = malloc(n * 4), *m2 = malloc(n * 4), *v2 = malloc(n * 4), *x2 = malloc(n * 4);
        memcpy(p2, p1, n * 4), memcpy(m2, m1, n * 4), memcpy(v2, v1, n * 4), memcpy(x2, x1, n * 4);
        for (int step = 1; step <= 3; step++) {
            float b1 = 0.9f, b2 = 0.999f, bc1 = 1 - powf(b1, step), bc2 = 1 - powf(b2, step);
            MARK();
            E.adam(n, p1, g, m1, v1, ams ? x1 : NULL, b1, b2, 1 - b1, 1 - b2, wd, 1e-8f, -1e-3f / bc1, sqrtf(bc2));
            LAUNCHED("adam");
            C->adam(n, p2, g, m2, v2, ams ? x2 : NULL, b1, b2, 1 - b1, 1 - b2, wd, 1e-8f, -1e-3f / bc1, sqrtf(bc2));
        }
        gt_test_close_buf("adam p", p1, p2, n, 1e-6f, 0);
        gt_test_close_buf("adam m", m1, m2, n, 1e-6f, 0);
        gt_test_close_buf("adam v", v1, v2, n, 1e-6f, 0);
        if (ams) gt_test_close_buf("adam vmax", x1, x2, n, 1e-6f, 0);
        free(p1), free(g), free(m1), free(v1), free(x1), free(p2), free(m2), free(v2), free(x2);
    }
}

/* Empty sizes launch nothing (a grid of 0 blocks is a launch error; the emulator aborts on one). */
/* --- round_bf16 (kernels_bf16.cu): bit for bit the CPU's, NaN payloads, inf, subnormals and ties too --- */
static void test_round_bf16(void) {
    CHECK(E.round_bf16 != NULL);
    if (!E.round_bf16) return;
    enum { N = 4099 };
    uint32_t *u = malloc(N * sizeof(uint32_t));
    float *x = malloc(N * sizeof(float)), *ye = malloc(N * sizeof(float)), *yc = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) {
        rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
        u[i] = (uint32_t)(rng_state >> 32);
        if (i % 4 == 1) u[i] = (u[i] & 0xffff0000u) | 0x8000u; /* ties */
        if (i % 8 == 3) u[i] &= 0x807fffffu;                    /* subnormals */
        if (i % 16 == 5) u[i] |= 0x7f800000u;                   /* inf and NaNs */
    }
    memcpy(x, u, N * sizeof(float));
    MARK();
    E.round_bf16(N, x, ye);
    LAUNCHED("round_bf16");
    C->round_bf16(N, x, yc);
    CHECK_MSG(memcmp(ye, yc, N * sizeof(float)) == 0, "round_bf16: the emulated kernel differs from the CPU's");
    E.round_bf16(N, x, x); /* in place */
    CHECK(memcmp(x, yc, N * sizeof(float)) == 0);
    free(u);
    free(x);
    free(ye);
    free(yc);
}

static void test_empty(void) {
    int64_t shape[2] = {0, 3}, st[2] = {3, 1};
    float f = 5;
    int32_t i = 0;
    gt_pool2d_geom g = {0, 4, 0, 2, 2, 2, 2, 2, 0, 0, false};
    int64_t l0 = gt_emu_launches();
    E.binary(GT_BIN_ADD, 2, shape, &f, st, &f, st, &f);
    E.unary(GT_UN_EXP, 0, 0, 2, shape, &f, st, &f);
    E.copy(2, shape, &f, st, &f);
    E.copy_rows(0, 3, &f, 3, &f, 3);
    E.fill(0, 1, &f);
    E.fill_i32(0, 1, &i);
    E.max_dim(0, 3, 1, &f, &f, NULL);
    E.bn_stats(2, 0, 3, &f, &f, &f);
    E.bn_prepare(0, true, 2, 0.1f, 1e-5f, NULL, NULL, &f, &f);
    E.bn_apply(0, 2, 3, &f, &f, &f, NULL, NULL, &f);
    E.bn_backward(2, 0, 3, &f, &f, &f, &f, NULL, true, &f, NULL, NULL);
    E.avg_pool2d(&g, 2, &f, &f);
    E.avg_pool2d_backward(&g, 2, &f, &f);
    E.max_pool2d(&g, 2, &f, &f, &i);
    E.index_gather(0, 3, 3, &f, &i, &f);
    E.index_scatter(0, 3, 3, &f, &i, &f);
    E.adaptive_avg_pool2d(0, 3, 3, 2, 2, &f, &f);
    E.adaptive_avg_pool2d_backward(0, 3, 3, 2, 2, &f, &f);
    E.upsample_nearest2d(2, 3, 3, 0, 2, &f, &f);
    E.upsample_nearest2d_backward(2, 0, 3, 2, 2, &f, &f);
    E.upsample_bilinear2d(0, 3, 3, 2, 2, &f, &f);
    E.upsample_bilinear2d_backward(2, 3, 0, 2, 2, &f, &f);
    E.embed_gather(&f, 1, 1, &i, 0, 3, &f);
    E.embed_scatter(&f, &i, 3, 0, &f);
    E.adam(0, &f, &f, &f, &f, NULL, 0.9f, 0.99f, 0.1f, 0.01f, 0, 1e-8f, -1e-3f, 1);
    CHECK(gt_emu_launches() == l0);
    CHECK(f == 5.0f && i == 0);
}

/* --- the emulator itself ----------------------------------------------------------------------- */
static void test_emulator(void) {
    CHECK_MSG(gt_emu_selftest_barrier() == 0, "threads read shared memory before the barrier let them");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(3);
        gt_emu_selftest_divergent();
        _exit(0); /* not reported: the parent fails */
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "a divergent __syncthreads went unreported (status %d)", st);
}

int main(void) {
    RUN(test_emulator);
    gt_cuda_own_kernels(&E);
    static const unsigned configs[][2] = {{64, 0}, {7, 3}};
    for (int c = 0; c < 2; c++) {
        gt_emu_config(configs[c][0], configs[c][1]);
        int64_t l0 = gt_emu_launches(), b0 = gt_emu_blocks(), s0 = gt_emu_barriers();
        RUN(test_table);
        RUN(test_binary);
        RUN(test_unary_copy);
        RUN(test_rows_fill);
        RUN(test_scatter_misc);
        RUN(test_sum);
        RUN(test_max_dim);
        RUN(test_bn);
        RUN(test_pool);
        RUN(test_resample);
        RUN(test_grid_sample);
        RUN(test_dropout);
        RUN(test_embed);
        RUN(test_adam);
        RUN(test_round_bf16);
        RUN(test_empty);
        char grid[32] = "as launched";
        if (configs[c][1]) snprintf(grid, sizeof grid, "<= %u", configs[c][1]);
        printf("emulator, blocks of <= %u threads, grids %s: %lld launches, %lld blocks, %lld barriers\n",
               configs[c][0], grid, (long long)(gt_emu_launches() - l0), (long long)(gt_emu_blocks() - b0),
               (long long)(gt_emu_barriers() - s0));
    }
    return gt_test_finish();
}
