/* gt_grid_sample and its adjoint gt_grid_sample_t: every mode x padding x align_corners against
 * PyTorch's F.grid_sample (forward and gradient in x) on grids that leave [-1, 1], the adjoint
 * identity <gs(x), y> = <x, gs_t(y)>, first and second order gradients against finite differences
 * (of both ops), the identity grid, integer shifts (exact, with each padding's rule), a grid that
 * asks for a gradient (ignored), strided inputs and bad shapes. */
#include "../../src/internal.h" /* gt_node: which inputs a node records */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

typedef struct {
    const char *name;
    bool bilinear;
    gt_grid_pad pad;
    bool align;
    int64_t xs[4]; /* x (N, C, H, W) */
    int64_t ho, wo;
    float range; /* grid uniform in [-range, range] */
} gcase;

static const char *const PADN[3] = {"zeros", "border", "reflection"};

/* the 12 combinations (i = bilinear * 6 + pad * 2 + align), small enough for finite differences */
static gcase combo(int i) {
    gcase c;
    static char names[12][48];
    c.bilinear = i / 6;
    c.pad = (gt_grid_pad)((i / 2) % 3);
    c.align = i % 2;
    snprintf(names[i], sizeof names[i], "%s_%s_%s", c.bilinear ? "bilinear" : "nearest", PADN[c.pad],
             c.align ? "align" : "noalign");
    c.name = names[i];
    int64_t xs[4] = {2, 3, 5, 6};
    memcpy(c.xs, xs, sizeof xs);
    c.ho = 4;
    c.wo = 7;
    c.range = c.pad == GT_GRID_REFLECTION ? 3.3f : 1.6f; /* reflection: several flips */
    return c;
}

static gt_tensor *gs(const gcase *c, gt_tensor *x, gt_tensor *grid) {
    return gt_grid_sample(x, grid, c->bilinear, c->pad, c->align);
}
static gt_tensor *gst(const gcase *c, gt_tensor *y, gt_tensor *grid, int64_t h, int64_t w) {
    return gt_grid_sample_t(y, grid, (int)h, (int)w, c->bilinear, c->pad, c->align);
}

static gt_tensor *make_x(const gcase *c, uint64_t seed) {
    gt_tensor *x = gt_test_randn(seed, 4, c->xs, 1.0f);
    x->requires_grad = true;
    return x;
}
static gt_tensor *make_grid(const gcase *c, uint64_t seed) {
    return gt_test_uniform(seed, S(c->xs[0], c->ho, c->wo, 2), -c->range, c->range);
}

static void test_pytorch(void) {
    enum { NC = 14 };
    gcase cs[NC];
    for (int i = 0; i < 12; i++) cs[i] = combo(i);
    /* two bigger ones, over the OpenMP thresholds (taps and planes) */
    cs[12] = (gcase){"big_bilinear_reflection", true, GT_GRID_REFLECTION, false, {4, 3, 40, 48}, 96, 100, 1.8f};
    cs[13] = (gcase){"big_nearest_zeros_align", false, GT_GRID_ZEROS, true, {4, 3, 40, 48}, 96, 100, 1.3f};
    gt_tensor *x[NC], *g[NC], *w[NC], *ts[NC * 4];
    const char *names[NC * 4];
    static char buf[NC * 4][64];
    int m = 0;
    for (int i = 0; i < NC; i++) {
        x[i] = make_x(&cs[i], 100 + (uint64_t)i);
        g[i] = make_grid(&cs[i], 200 + (uint64_t)i);
        w[i] = gt_test_randn(300 + (uint64_t)i, S(cs[i].xs[0], cs[i].xs[1], cs[i].ho, cs[i].wo), 1.0f);
        float cfg[3] = {(float)cs[i].bilinear, (float)cs[i].pad, (float)cs[i].align};
        gt_tensor *list[4] = {gt_from_data(1, (int64_t[]){3}, cfg), x[i], g[i], w[i]};
        const char *tags[4] = {"cfg", "x", "grid", "wout"};
        for (int j = 0; j < 4; j++) {
            snprintf(buf[m], 64, "%s.%s", cs[i].name, tags[j]);
            names[m] = buf[m];
            ts[m++] = list[j];
        }
    }
    bool wrote = gt_golden_write(gt_test_path("gs_in.gtb"), m, names, ts);
    CHECK(wrote);
    if (!wrote || !gt_golden_run("grid_sample.py", gt_test_path("gs_in.gtb"))) return;
    for (int i = 0; i < NC; i++) {
        char nm[96];
        gt_tensor *y = gs(&cs[i], x[i], g[i]);
        CHECK_MSG(y != NULL, "%s: %s", cs[i].name, gt_last_error());
        if (!y) continue;
        snprintf(nm, sizeof nm, "%s.y", cs[i].name);
        gt_test_close(nm, y, gt_golden(nm), 1e-5f, 1e-5f);
        gt_tensor *gx = NULL;
        CHECK(gt_grad(gt_sum_all(gt_mul(y, w[i])), NULL, 1, &x[i], &gx, false) == GT_OK);
        snprintf(nm, sizeof nm, "%s.gx", cs[i].name);
        if (gx) gt_test_close(nm, gx, gt_golden(nm), 1e-5f, 1e-5f);
    }
}

/* <gs(x), y> == <x, gs_t(y)> */
static void test_adjoint_identity(void) {
    for (int i = 0; i < 12; i++) {
        gcase c = combo(i);
        gt_tensor *x = make_x(&c, 11 + (uint64_t)i), *g = make_grid(&c, 12 + (uint64_t)i);
        gt_tensor *y = gt_test_randn(13 + (uint64_t)i, S(c.xs[0], c.xs[1], c.ho, c.wo), 1.0f);
        gt_tensor *a = gs(&c, x, g), *b = gst(&c, y, g, c.xs[2], c.xs[3]);
        CHECK_MSG(a && b, "%s: %s", c.name, gt_last_error());
        if (!a || !b) continue;
        CHECK(b->shape[0] == c.xs[0] && b->shape[1] == c.xs[1] && b->shape[2] == c.xs[2] && b->shape[3] == c.xs[3]);
        double l = 0, r = 0, s = 0;
        for (int64_t k = 0; k < gt_numel(a); k++) {
            l += (double)gt_data(a)[k] * gt_data(y)[k];
            s += fabs((double)gt_data(a)[k] * gt_data(y)[k]);
        }
        for (int64_t k = 0; k < gt_numel(x); k++) r += (double)gt_data(x)[k] * gt_data(b)[k];
        CHECK_MSG(fabs(l - r) <= 1e-4 * fmax(fabs(l), s / gt_numel(a)), "%s: <gs(x), y> %.8g, <x, gs_t(y)> %.8g",
                  c.name, l, r);
        CHECK_MSG(s > 0, "%s: the sampling read nothing", c.name);
    }
}

static gt_tensor *f_gs(gt_tensor *const *in, void *p) { return gs(p, in[0], in[1]); }
static gt_tensor *f_gs_sq(gt_tensor *const *in, void *p) {
    gt_tensor *y = gs(p, in[0], in[1]);
    return gt_mul(y, y);
}
static gt_tensor *f_gst_sq(gt_tensor *const *in, void *p) {
    const gcase *c = p;
    gt_tensor *y = gst(c, in[0], in[1], c->xs[2], c->xs[3]);
    return gt_mul(y, y);
}

static void test_gradcheck(void) {
    gt_gradcheck_opts o = {.eps = 1e-2f, .rtol = 2e-2f, .atol = 2e-3f, .max_elems = 64, .wrt = 1u};
    for (int i = 0; i < 12; i++) {
        gcase c = combo(i);
        char nm[96];
        gt_tensor *in[2] = {make_x(&c, 21 + (uint64_t)i), make_grid(&c, 22 + (uint64_t)i)};
        snprintf(nm, sizeof nm, "%s: gs", c.name);
        CHECK(gt_test_gradcheck(nm, f_gs, 2, in, &c, &o));
        snprintf(nm, sizeof nm, "%s: gs^2", c.name);
        CHECK(gt_test_gradcheck(nm, f_gs_sq, 2, in, &c, &o));
        CHECK(gt_test_gradgradcheck(nm, f_gs_sq, 2, in, &c, &o));
        gt_tensor *tin[2] = {gt_test_randn(23 + (uint64_t)i, S(c.xs[0], c.xs[1], c.ho, c.wo), 1.0f), in[1]};
        tin[0]->requires_grad = true;
        snprintf(nm, sizeof nm, "%s: gs_t^2", c.name);
        CHECK(gt_test_gradcheck(nm, f_gst_sq, 2, tin, &c, &o));
        CHECK(gt_test_gradgradcheck(nm, f_gst_sq, 2, tin, &c, &o));
    }
}

/* the gradient of the gradient wrt gy is the forward again (as R1 through an augmentation needs) */
static void test_backward_of_backward(void) {
    for (int i = 0; i < 12; i++) {
        gcase c = combo(i);
        gt_tensor *x = make_x(&c, 31 + (uint64_t)i), *g = make_grid(&c, 32 + (uint64_t)i), *y = gs(&c, x, g);
        gt_tensor *gy = gt_test_randn(33, 4, y->shape, 1.0f), *v = gt_test_randn(34, 4, x->shape, 1.0f);
        gy->requires_grad = true;
        gt_tensor *gx = NULL, *ggy = NULL;
        CHECK(gt_grad(gt_sum_all(gt_mul(y, gy)), NULL, 1, &x, &gx, true) == GT_OK);
        if (!gx) continue;
        gt_test_close(c.name, gx, gst(&c, gy, g, c.xs[2], c.xs[3]), 1e-6f, 1e-6f);
        CHECK(gt_grad(gt_sum_all(gt_mul(gx, v)), NULL, 1, &gy, &ggy, false) == GT_OK);
        if (ggy) gt_test_close(c.name, ggy, gs(&c, v, g), 1e-6f, 1e-6f);
    }
}

/* normalised coordinate of pixel position p (may be outside) along an axis of n */
static float norm_coord(double p, int64_t n, bool align) {
    return align ? (float)(2.0 * p / (double)(n - 1) - 1.0) : (float)((2.0 * p + 1.0) / (double)n - 1.0);
}

static gt_tensor *shift_grid(int64_t N, int64_t H, int64_t W, double dx, double dy, bool align) {
    gt_tensor *g = gt_empty(4, (int64_t[]){N, H, W, 2});
    float *d = gt_data(g);
    for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < H; i++)
            for (int64_t j = 0; j < W; j++, d += 2) {
                d[0] = norm_coord((double)j + dx, W, align);
                d[1] = norm_coord((double)i + dy, H, align);
            }
    return g;
}

static void test_identity(void) {
    int64_t xs[4] = {2, 3, 9, 11};
    gt_tensor *x = gt_test_randn(41, 4, xs, 1.0f);
    for (int a = 0; a < 2; a++) {
        gt_tensor *g = shift_grid(2, 9, 11, 0, 0, a);
        for (int m = 0; m < 2; m++)
            for (int p = 0; p < 3; p++) {
                char nm[64];
                snprintf(nm, sizeof nm, "identity %s %s %s", m ? "bilinear" : "nearest", PADN[p], a ? "align" : "");
                /* align_corners: exact up to the float rounding of the coordinates (1e-6); otherwise
                 * ((g + 1) * W - 1) / 2 rounds a little more (relative 1e-6) */
                gt_test_close(nm, gt_grid_sample(x, g, m, (gt_grid_pad)p, a), x, a ? 0.0f : 1e-6f, 1e-6f);
            }
    }
}

static int64_t pad_index(int64_t i, int64_t n, gt_grid_pad pad, bool align) {
    if (i >= 0 && i < n) return i;
    if (pad == GT_GRID_ZEROS) return -1;
    if (pad == GT_GRID_BORDER) return i < 0 ? 0 : n - 1;
    if (align) { /* mirror about the centres of the end pixels */
        int64_t per = 2 * (n - 1), k = ((i % per) + per) % per;
        return k < n ? k : per - k;
    }
    int64_t per = 2 * n, k = ((i % per) + per) % per; /* about the outer edges */
    return k < n ? k : per - 1 - k;
}

/* grids whose points land on pixel centres (exact in float: W and W - 1 powers of two) */
static void test_integer_shift(void) {
    static const int shifts[][2] = {{3, -2}, {-5, 4}, {0, 7}, {-20, 19}};
    for (int a = 0; a < 2; a++) {
        int64_t n = a ? 17 : 16;
        int64_t xs[4] = {2, 2, n, n};
        gt_tensor *x = gt_test_randn(51, 4, xs, 1.0f);
        for (int s = 0; s < 4; s++) {
            int dx = shifts[s][0], dy = shifts[s][1];
            gt_tensor *g = shift_grid(2, n, n, dx, dy, a);
            for (int m = 0; m < 2; m++)
                for (int p = 0; p < 3; p++) {
                    gt_tensor *y = gt_grid_sample(x, g, m, (gt_grid_pad)p, a);
                    if (!y) {
                        CHECK_MSG(false, "%s", gt_last_error());
                        continue;
                    }
                    int bad = 0;
                    for (int64_t q = 0; q < 4; q++)
                        for (int64_t i = 0; i < n; i++)
                            for (int64_t j = 0; j < n; j++) {
                                int64_t si = pad_index(i + dy, n, (gt_grid_pad)p, a);
                                int64_t sj = pad_index(j + dx, n, (gt_grid_pad)p, a);
                                float want = (si < 0 || sj < 0) ? 0.0f : gt_data(x)[(q * n + si) * n + sj];
                                bad += gt_data(y)[(q * n + i) * n + j] != want;
                            }
                    CHECK_MSG(bad == 0, "shift (%d, %d) %s %s align %d: %d pixels differ", dx, dy,
                              m ? "bilinear" : "nearest", PADN[p], a, bad);
                }
        }
    }
}

/* nearest rounds half to even (torch's nearbyint): x = 0.5, 1.5, 2.5 -> 0, 2, 2 */
static void test_nearest_half_even(void) {
    gt_tensor *x = gt_from_data(4, (int64_t[]){1, 1, 1, 4}, (float[]){10, 20, 30, 40});
    gt_tensor *g = gt_empty(4, (int64_t[]){1, 1, 3, 2});
    for (int k = 0; k < 3; k++) {
        gt_data(g)[2 * k] = norm_coord(0.5 + k, 4, false);
        gt_data(g)[2 * k + 1] = 0.0f;
    }
    gt_tensor *y = gt_grid_sample(x, g, false, GT_GRID_ZEROS, false);
    CHECK(y && gt_data(y)[0] == 10 && gt_data(y)[1] == 30 && gt_data(y)[2] == 30);
}

/* non-finite coordinates (expected values: F.grid_sample's on the same input, align_corners
 * false); zeros padding reads 0 (torch's bilinear gives NaN there: documented) */
static void test_nonfinite(void) {
    float xv[12];
    for (int k = 0; k < 12; k++) xv[k] = (float)(k + 1);
    gt_tensor *x = gt_from_data(4, (int64_t[]){1, 1, 3, 4}, xv);
    float gv[8] = {NAN, 0.0f, 0.5f, NAN, INFINITY, 0.0f, -INFINITY, 0.0f};
    gt_tensor *g = gt_from_data(4, (int64_t[]){1, 1, 4, 2}, gv);
    static const float want[3][2][4] = {
        {{0, 0, 0, 0}, {0, 0, 0, 0}},        /* zeros: nearest, bilinear */
        {{5, 3, 8, 5}, {5, 3.5f, 8, 5}},     /* border */
        {{5, 3, 5, 5}, {5, 3.5f, 5, 5}},     /* reflection */
    };
    for (int p = 0; p < 3; p++)
        for (int m = 0; m < 2; m++) {
            gt_tensor *y = gt_grid_sample(x, g, m, (gt_grid_pad)p, false);
            CHECK(y != NULL);
            if (y)
                for (int k = 0; k < 4; k++)
                    CHECK_MSG(gt_data(y)[k] == want[p][m][k], "non-finite %s %s point %d: got %g want %g", PADN[p],
                              m ? "bilinear" : "nearest", k, gt_data(y)[k], want[p][m][k]);
        }
}

/* grid with requires_grad: ignored (x's gradient is unchanged, grid gets none) */
static void test_grid_takes_no_gradient(void) {
    gcase c = combo(7);
    gt_tensor *x = make_x(&c, 61), *g = make_grid(&c, 62), *g2 = gt_contiguous(g);
    g2->requires_grad = true;
    gt_tensor *w = gt_test_randn(63, S(c.xs[0], c.xs[1], c.ho, c.wo), 1.0f);
    gt_tensor *gx1 = NULL, *gx2 = NULL;
    CHECK(gt_grad(gt_sum_all(gt_mul(gs(&c, x, g), w)), NULL, 1, &x, &gx1, false) == GT_OK);
    gt_tensor *y2 = gs(&c, x, g2);
    CHECK(y2 && y2->node && y2->node->n_in == 1);
    CHECK(gt_grad(gt_sum_all(gt_mul(y2, w)), NULL, 1, &x, &gx2, false) == GT_OK);
    if (gx1 && gx2) gt_test_close("grid requires_grad", gx2, gx1, 0.0f, 0.0f);
    /* the grid alone asking for a gradient records nothing */
    gt_tensor *x3 = gt_test_randn(64, 4, c.xs, 1.0f), *y3 = gs(&c, x3, g2);
    CHECK(y3 && !y3->requires_grad);
}

static void test_strided(void) {
    gcase c = combo(9);
    gt_tensor *x = gt_test_randn(71, S(2, 6, 5, 3), 1.0f);
    gt_tensor *xp = gt_permute(x, (int[]){0, 3, 2, 1}); /* (2, 3, 5, 6) view */
    gt_tensor *g = gt_test_uniform(72, S(2, 2, 3, 7), -1.5f, 1.5f);
    gt_tensor *gp = gt_permute(g, (int[]){0, 3, 2, 1}); /* (2, 7, 3, 2) view */
    gt_test_close("strided", gs(&c, xp, gp), gs(&c, gt_contiguous(xp), gt_contiguous(gp)), 0.0f, 0.0f);
}

static void test_errors(void) {
    gt_tensor *x = gt_zeros(S(2, 3, 4, 4)), *g = gt_zeros(S(2, 5, 5, 2)), *y = gt_zeros(S(2, 3, 5, 5));
    CHECK(gt_grid_sample(x, gt_zeros(S(2, 5, 5, 3)), true, GT_GRID_ZEROS, false) == NULL &&
          gt_last_status() == GT_ERR_SHAPE);
    CHECK_MSG(strstr(gt_last_error(), "(2, 5, 5, 3)") && strstr(gt_last_error(), "gt_grid_sample"), "message: %s",
              gt_last_error());
    CHECK(gt_grid_sample(x, gt_zeros(S(3, 5, 5, 2)), true, GT_GRID_ZEROS, false) == NULL &&
          gt_last_status() == GT_ERR_SHAPE);
    CHECK_MSG(strstr(gt_last_error(), "batch 3"), "message: %s", gt_last_error());
    CHECK(gt_grid_sample(gt_zeros(S(3, 4, 4)), g, true, GT_GRID_ZEROS, false) == NULL &&
          gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_grid_sample(x, gt_zeros(S(2, 5, 10)), true, GT_GRID_ZEROS, false) == NULL &&
          gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_grid_sample(gt_zeros(S(2, 3, 0, 4)), g, true, GT_GRID_ZEROS, false) == NULL &&
          gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_grid_sample(x, g, true, (gt_grid_pad)3, false) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK(gt_grid_sample(NULL, g, true, GT_GRID_ZEROS, false) == NULL);
    CHECK(gt_grid_sample(x, NULL, true, GT_GRID_ZEROS, false) == NULL);
    CHECK(gt_grid_sample_t(gt_zeros(S(2, 3, 5, 6)), g, 4, 4, true, GT_GRID_ZEROS, false) == NULL &&
          gt_last_status() == GT_ERR_SHAPE);
    CHECK_MSG(strstr(gt_last_error(), "gt_grid_sample_t"), "message: %s", gt_last_error());
    CHECK(gt_grid_sample_t(y, g, 0, 4, true, GT_GRID_ZEROS, false) == NULL && gt_last_status() == GT_ERR_SHAPE);
    CHECK(gt_grid_sample_t(gt_zeros(S(1, 3, 5, 5)), g, 4, 4, true, GT_GRID_ZEROS, false) == NULL &&
          gt_last_status() == GT_ERR_SHAPE);
    gt_tensor *ok = gt_grid_sample_t(y, g, 4, 4, true, GT_GRID_BORDER, true);
    CHECK(ok && ok->shape[2] == 4 && ok->shape[3] == 4);
}

int main(void) {
    RUN(test_pytorch);
    RUN(test_adjoint_identity);
    RUN(test_gradcheck);
    RUN(test_backward_of_backward);
    RUN(test_identity);
    RUN(test_integer_shift);
    RUN(test_nearest_half_even);
    RUN(test_nonfinite);
    RUN(test_grid_takes_no_gradient);
    RUN(test_strided);
    RUN(test_errors);
    return gt_test_finish();
}
