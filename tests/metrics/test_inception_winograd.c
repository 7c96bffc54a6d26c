/* The fused Inception forward's Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions
 * (src/metrics/inception_wino.c on the transforms and tile kernels of
 * src/backend/cpu/winograd.c, its loops on the backend's work pool of
 * src/backend/cpu/par.c) against its im2col one, on random data:
 * padding 0 and 1, odd and even spatial sizes, several tile blocks, with and
 * without the bias + ReLU epilogue, with the work pool and without. */
#include <math.h>

#include "../../src/metrics/inception_fast.h"
#include "../common/harness.h"

#define WINO_TOL 1e-5
/* 1-D F(4, 7) has 10 points (up to +-3/2): about 1e-5 on zero-mean data, as F(4x4, 3x3) */
#define WINO1_TOL 3e-5

typedef struct {
    int cin, cout, B, H, W, pad;
    bool epi;
} shape;

static double max_rel(const float *a, const float *b, int64_t n) {
    double d = 0.0, m = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(a[i])) return INFINITY;
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return m > 0.0 ? d / m : d;
}

static void check_shape(gt__par *par, const shape *s, uint64_t seed) {
    gt__bconv c = {.cin = s->cin, .cout = s->cout, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .ph = s->pad, .pw = s->pad};
    snprintf(c.name, sizeof c.name, "wino %dx%d", s->cin, s->cout);
    c.wf = gt_test_randn(seed, 4, (const int64_t[]){s->cout, s->cin, 3, 3}, 0.1f);
    c.bf = gt_test_randn(seed + 1, 1, (const int64_t[]){s->cout}, 0.5f);
    gt_tensor *x = gt_test_randn(seed + 2, 4, (const int64_t[]){s->cin, s->B, s->H, s->W}, 1.0f);
    const int Ho = s->H + 2 * s->pad - 2, Wo = s->W + 2 * s->pad - 2;
    const int64_t ny = (int64_t)s->cout * s->B * Ho * Wo;
    float *y0 = malloc(sizeof(float) * (size_t)ny), *y1 = malloc(sizeof(float) * (size_t)ny);
    gt__fast F = {.par = par}; /* no conv table: gt__fconv takes the im2col path */
    CHECK(x && c.wf && c.bf && y0 && y1);
    if (x && c.wf && c.bf && y0 && y1) CHECK(gt__fconv(&F, &c, gt_data(x), s->B, s->H, s->W, y0, s->epi));
    for (int m = 2; m <= 4 && x && c.wf && c.bf && y0 && y1; m += 2) {
        float *u = gt__wino_weights(gt_data(c.wf), s->cout, s->cin, m);
        CHECK(u != NULL);
        if (!u) break;
        memset(y1, 0xff, sizeof(float) * (size_t)ny); /* NaN: every output must be written */
        CHECK(gt__fconv_wino(&F, &c, u, m, gt_data(x), s->B, s->H, s->W, y1, s->epi));
        /* the forward takes F(4x4, 3x3) only up to GT__WINO_M4_MAX_CIN input channels */
        double e = max_rel(y1, y0, ny), tol = m == 4 && s->cin > GT__WINO_M4_MAX_CIN ? 5 * WINO_TOL : WINO_TOL;
        CHECK_MSG(e <= tol, "F(%d,3) cin %d cout %d B %d %dx%d pad %d epi %d: max relative error %.3g > %g", m,
                  s->cin, s->cout, s->B, s->H, s->W, s->pad, s->epi, e, tol);
        if (s->B == 16 || s->cin > 256) printf("  F(%d,3) %dx%d: max rel err %.2e\n", m, s->cin, s->cout, e);
        gt__free(u);
    }
    gt__free(F.col);
    free(y0);
    free(y1);
}

static const shape SHAPES[] = {
    {32, 48, 2, 9, 7, 1, true},   {40, 32, 3, 8, 8, 0, true},  {33, 37, 1, 5, 11, 1, false},
    {7, 5, 2, 3, 3, 0, true},     {9, 6, 1, 1, 1, 1, true},    {16, 24, 3, 6, 10, 1, true}, {20, 12, 2, 7, 6, 0, true},    {64, 96, 16, 35, 35, 1, true}, /* several blocks */
    {48, 64, 1, 147, 147, 0, true}, {80, 40, 2, 17, 13, 0, false}, {448, 384, 3, 8, 8, 1, true},
};

static void test_wino_vs_im2col(void) {
    gt__par *pools[2] = {NULL, gt__par_new(2)};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < sizeof SHAPES / sizeof *SHAPES; i++) check_shape(pools[p], &SHAPES[i], 100 + 7 * i);
    gt__par_free(pools[1]);
}

/* 1-D F(m, r) (src/metrics/inception_wino1d.c; the transforms built from
 * Toom-Cook points in src/backend/cpu/winograd.c) against im2col: 1 x r and r x 1,
 * the Inception sizes (17x17, 8x8) and odd ones, more lanes than a segment
 * holds, several tile blocks, several m. */
typedef struct {
    int cin, cout, B, H, W, kh, kw, ph, pw;
    bool epi;
} shape1;

static const shape1 SHAPES1[] = {
    {128, 160, 3, 17, 17, 1, 7, 0, 3, true},  {160, 192, 2, 17, 17, 7, 1, 3, 0, true},
    {384, 384, 2, 8, 8, 1, 3, 0, 1, true},    {384, 384, 2, 8, 8, 3, 1, 1, 0, false},
    {33, 37, 2, 5, 13, 1, 7, 0, 3, true},     {40, 36, 1, 13, 5, 7, 1, 3, 0, true},
    {32, 32, 2, 1, 1, 1, 7, 0, 3, true},      {32, 32, 1, 9, 3, 1, 3, 0, 0, false},
    {32, 48, 1, 300, 3, 1, 7, 0, 3, true},    {32, 48, 1, 3, 300, 7, 1, 3, 0, true}, /* lanes > a segment */
    {48, 40, 16, 17, 17, 1, 7, 0, 3, true},   {36, 32, 2, 11, 9, 5, 1, 2, 0, true}, /* blocks; r = 5 */
};

/* A random conv of shape s, its input, and the im2col path's output y0 (the
 * reference); y1 is the output buffer for the path under test. false: no memory. */
typedef struct {
    gt__bconv c;
    gt_tensor *x;
    float *y0, *y1;
    int64_t ny;
    gt__fast F;
} ref_case;

static bool ref_case_make(ref_case *r, gt__par *par, const shape1 *s, uint64_t seed, const char *what) {
    memset(r, 0, sizeof *r);
    r->c = (gt__bconv){.cin = s->cin, .cout = s->cout, .kh = s->kh, .kw = s->kw, .sh = 1, .sw = 1, .ph = s->ph,
                       .pw = s->pw};
    snprintf(r->c.name, sizeof r->c.name, "%s %dx%d", what, s->kh, s->kw);
    r->c.wf = gt_test_randn(seed, 4, (const int64_t[]){s->cout, s->cin, s->kh, s->kw}, 0.1f);
    r->c.bf = gt_test_randn(seed + 1, 1, (const int64_t[]){s->cout}, 0.5f);
    r->x = gt_test_randn(seed + 2, 4, (const int64_t[]){s->cin, s->B, s->H, s->W}, 1.0f);
    const int Ho = s->H + 2 * s->ph - s->kh + 1, Wo = s->W + 2 * s->pw - s->kw + 1;
    r->ny = (int64_t)s->cout * s->B * Ho * Wo;
    r->y0 = malloc(sizeof(float) * (size_t)r->ny);
    r->y1 = malloc(sizeof(float) * (size_t)r->ny);
    r->F = (gt__fast){.par = par}; /* no conv table: gt__fconv takes the im2col path */
    CHECK(r->x && r->c.wf && r->c.bf && r->y0 && r->y1);
    if (!(r->x && r->c.wf && r->c.bf && r->y0 && r->y1)) return false;
    CHECK(gt__fconv(&r->F, &r->c, gt_data(r->x), s->B, s->H, s->W, r->y0, s->epi));
    memset(r->y1, 0xff, sizeof(float) * (size_t)r->ny); /* NaN: every output must be written */
    return true;
}

static void ref_case_free(ref_case *r) {
    gt__free(r->F.col);
    free(r->y0);
    free(r->y1);
}

static void check_shape1(gt__par *par, const shape1 *s, uint64_t seed) {
    ref_case r;
    if (!ref_case_make(&r, par, s, seed, "w1d")) return;
    const int ms[3] = {GT__W1_M, 2, 3};
    for (int k = 0; k < 3; k++) {
        gt__w1d *w = gt__w1d_new(&r.c, ms[k]);
        CHECK_MSG(w != NULL, "F(%d, %d): no transforms", ms[k], s->kh * s->kw);
        if (!w) continue;
        memset(r.y1, 0xff, sizeof(float) * (size_t)r.ny);
        CHECK(gt__fconv_w1d(&r.F, &r.c, w, gt_data(r.x), s->B, s->H, s->W, r.y1, s->epi));
        double e = max_rel(r.y1, r.y0, r.ny);
        CHECK_MSG(e <= WINO1_TOL, "F(%d,%d) %dx%d cin %d cout %d B %d %dx%d: max relative error %.3g > %g", ms[k],
                  s->kh * s->kw, s->kh, s->kw, s->cin, s->cout, s->B, s->H, s->W, e, WINO1_TOL);
        if (s->cin >= 128)
            printf("  F(%d,%d) %dx%d %dx%d: max rel err %.2e\n", ms[k], s->kh * s->kw, s->kh, s->kw, s->cin, s->cout,
                   e);
        gt__w1d_free(w);
    }
    /* not 1-D, strided, padded across: no transforms */
    gt__bconv sq = r.c;
    sq.kh = sq.kw = 3;
    CHECK(gt__w1d_new(&sq, 4) == NULL);
    gt__bconv st = r.c;
    st.sh = st.sw = 2;
    CHECK(gt__w1d_new(&st, 4) == NULL);
    gt__bconv across = r.c;
    if (s->kh == 1) across.ph = 1;
    else across.pw = 1;
    CHECK(gt__w1d_new(&across, 4) == NULL);
    ref_case_free(&r);
}

static void test_w1d_vs_im2col(void) {
    gt__par *pools[2] = {NULL, gt__par_new(2)};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < sizeof SHAPES1 / sizeof *SHAPES1; i++) check_shape1(pools[p], &SHAPES1[i], 300 + 7 * i);
    gt__par_free(pools[1]);
}

/* Generic 2-D F(m x m, r x r) (src/metrics/inception_wino2d.c, the backend's
 * nested 1-D transforms) against im2col:
 * the 5x5 of Mixed_5b (35x35, padding 2), odd sizes, no padding, several tile
 * blocks, a 3x3 through the same code, several m. */
static const shape1 SHAPES2[] = {
    {48, 64, 3, 35, 35, 5, 5, 2, 2, true}, {33, 37, 2, 9, 13, 5, 5, 2, 2, true}, {32, 40, 1, 7, 6, 5, 5, 0, 0, false},
    {40, 32, 2, 5, 5, 5, 5, 2, 2, true},   {32, 32, 16, 17, 17, 5, 5, 2, 2, true}, {36, 44, 2, 10, 11, 3, 3, 1, 1, true},
};

static void check_shape2(gt__par *par, const shape1 *s, uint64_t seed) {
    ref_case r;
    if (!ref_case_make(&r, par, s, seed, "w2d")) return;
    const int ms[3] = {GT__W2_M, 2, 3};
    for (int k = 0; k < 3; k++) {
        gt__w2d *w = gt__w2d_new(&r.c, ms[k]);
        CHECK_MSG(w != NULL, "F(%dx%d, %dx%d): no transforms", ms[k], ms[k], s->kh, s->kw);
        if (!w) continue;
        memset(r.y1, 0xff, sizeof(float) * (size_t)r.ny);
        CHECK(gt__fconv_w2d(&r.F, &r.c, w, gt_data(r.x), s->B, s->H, s->W, r.y1, s->epi));
        double e = max_rel(r.y1, r.y0, r.ny);
        CHECK_MSG(e <= WINO1_TOL, "F(%dx%d,%dx%d) cin %d cout %d B %d %dx%d: max relative error %.3g > %g", ms[k],
                  ms[k], s->kh, s->kw, s->cin, s->cout, s->B, s->H, s->W, e, WINO1_TOL);
        if (s->B == 3) printf("  F(%dx%d,5x5) %dx%d: max rel err %.2e\n", ms[k], ms[k], s->cin, s->cout, e);
        gt__w2d_free(w);
    }
    gt__bconv st = r.c; /* strided, not square: no transforms */
    st.sh = st.sw = 2;
    CHECK(gt__w2d_new(&st, 4) == NULL);
    gt__bconv rect = r.c;
    rect.kw = 1;
    CHECK(gt__w2d_new(&rect, 4) == NULL);
    ref_case_free(&r);
}

static void test_w2d_vs_im2col(void) {
    gt__par *pools[2] = {NULL, gt__par_new(2)};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < sizeof SHAPES2 / sizeof *SHAPES2; i++) check_shape2(pools[p], &SHAPES2[i], 500 + 7 * i);
    gt__par_free(pools[1]);
}

int main(void) {
    RUN(test_wino_vs_im2col);
    RUN(test_w1d_vs_im2col);
    RUN(test_w2d_vs_im2col);
    return gt_test_finish();
}
