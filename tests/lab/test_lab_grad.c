/* The lab's D and G parameter gradients, for every loss (log, ls, hinge, wgan-gp) and with R1,
 * against central finite differences of the same losses computed here in double precision from
 * GAN Lab's formulas (an independent MLP forward and, for the penalties, its input gradient by a
 * hand-written backward). One update is taken through the public API; the batch it used and the
 * gradient it left are read from the lab's buffers (src/lab/lab_internal.h), the weights from
 * before the update. Tolerance: 1e-3 of the largest gradient (float engine vs double reference). */
#include <math.h>
#include <string.h>

#include "../common/harness.h"
#include "../../src/lab/lab_internal.h"

typedef struct {
    int n_fc, in, width, out;
} shape;

static shape net_shape(const gt_lab_net *N) { return (shape){N->n_fc, N->in, N->width, N->out}; }

/* y = net(x) for one row; with dx (out == 1) also d y / d x */
static double mlp(const double *th, shape s, const double *x, double *y, bool tanh_out, double *dx) {
    double act[GT_LAB_NET_MAX][GT_LAB_MAX_NEURONS + 2], pre[GT_LAB_NET_MAX][GT_LAB_MAX_NEURONS + 2];
    const double *W[GT_LAB_NET_MAX], *b[GT_LAB_NET_MAX];
    int fin[GT_LAB_NET_MAX], fout[GT_LAB_NET_MAX];
    const double *p = th;
    for (int i = 0; i < s.n_fc; i++) {
        fin[i] = i == 0 ? s.in : s.width;
        fout[i] = i == s.n_fc - 1 ? s.out : s.width;
        W[i] = p;
        p += fin[i] * fout[i];
        b[i] = p;
        p += fout[i];
    }
    const double *src = x;
    for (int i = 0; i < s.n_fc; i++) {
        bool last = i == s.n_fc - 1;
        for (int o = 0; o < fout[i]; o++) {
            double v = b[i][o];
            for (int k = 0; k < fin[i]; k++) v += W[i][o * fin[i] + k] * src[k];
            pre[i][o] = v;
            act[i][o] = last ? (tanh_out ? tanh(v) : v) : (v > 0 ? v : 0);
        }
        src = act[i];
    }
    for (int o = 0; o < s.out; o++) y[o] = act[s.n_fc - 1][o];
    if (dx) { /* out == 1, no tanh: backward to the input */
        double g[GT_LAB_MAX_NEURONS + 2], h[GT_LAB_MAX_NEURONS + 2];
        g[0] = 1.0;
        for (int i = s.n_fc - 1; i >= 0; i--) {
            if (i < s.n_fc - 1)
                for (int o = 0; o < fout[i]; o++) g[o] *= pre[i][o] > 0 ? 1.0 : 0.0;
            for (int k = 0; k < fin[i]; k++) {
                h[k] = 0;
                for (int o = 0; o < fout[i]; o++) h[k] += g[o] * W[i][o * fin[i] + k];
            }
            memcpy(g, h, sizeof(double) * (size_t)fin[i]);
        }
        dx[0] = g[0];
        dx[1] = g[1];
    }
    return y[0];
}

static double softplus(double v) { return v > 0 ? v + log1p(exp(-v)) : log1p(exp(v)); }
static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

typedef struct {
    const gt_lab_config *c;
    shape sd, sg;
    int B;
    const float *x;   /* (2B, 2) reals then fakes (D) */
    const float *xh;  /* (B, 2) WGAN-GP's interpolates */
    const float *z;   /* (B, noise_dim) (G) */
    const double *thd; /* D's weights (for G's loss) */
} ctx;

static double d_loss(const double *th, const ctx *k) {
    const gt_lab_config *c = k->c;
    int B = k->B;
    double L = 0, y, dx[2];
    for (int i = 0; i < 2 * B; i++) {
        double x[2] = {k->x[2 * i], k->x[2 * i + 1]};
        bool real = i < B;
        double l = mlp(th, k->sd, x, &y, false, real && c->r1 > 0 ? dx : NULL);
        switch (c->loss) {
        case GT_LAB_LOG: L += real ? 0.95 * softplus(-l) : softplus(l); break;
        case GT_LAB_LS: L += real ? (sigm(l) - 1) * (sigm(l) - 1) : sigm(l) * sigm(l); break;
        case GT_LAB_HINGE: L += real ? fmax(0, 1 - l) : fmax(0, 1 + l); break;
        default: L += real ? -l : l; break;
        }
        if (real && c->r1 > 0) L += 0.5 * c->r1 * (dx[0] * dx[0] + dx[1] * dx[1]);
    }
    if (c->loss == GT_LAB_WGAN_GP)
        for (int i = 0; i < B; i++) {
            double x[2] = {k->xh[2 * i], k->xh[2 * i + 1]};
            mlp(th, k->sd, x, &y, false, dx);
            double n = sqrt(dx[0] * dx[0] + dx[1] * dx[1] + 1e-12);
            L += c->gp * (n - 1) * (n - 1);
        }
    return L / B;
}

static double g_loss(const double *th, const ctx *k) {
    double L = 0, y[2], l;
    for (int i = 0; i < k->B; i++) {
        double z[2] = {k->z[i * k->c->noise_dim], k->c->noise_dim == 2 ? k->z[i * 2 + 1] : 0};
        mlp(th, k->sg, z, y, true, NULL);
        l = mlp(k->thd, k->sd, y, &l, false, NULL);
        switch (k->c->loss) {
        case GT_LAB_LOG: L += softplus(-l); break;
        case GT_LAB_LS: L += (sigm(l) - 1) * (sigm(l) - 1); break;
        default: L += -l; break;
        }
    }
    return L / k->B;
}

static void fd_compare(const char *what, double (*f)(const double *, const ctx *), const ctx *k, const float *th0,
                       const float *grad, int64_t n) {
    double *th = calloc((size_t)n + 1, sizeof(double)), mx = 0, worst = 0;
    int64_t wi = 0;
    for (int64_t i = 0; i < n; i++) th[i] = th0[i];
    double *ref = malloc(sizeof(double) * (size_t)n), f0 = f(th, k);
    bool *kink = calloc((size_t)n, sizeof(bool));
    int n_kink = 0;
    for (int64_t i = 0; i < n; i++) {
        const double h = 1e-6;
        double v = th[i];
        th[i] = v + h;
        double a = f(th, k);
        th[i] = v - h;
        double b = f(th, k);
        th[i] = v;
        ref[i] = (a - b) / (2 * h);
        /* a ReLU exactly at its kink (a dead unit's bias is still 0, an input whose hidden units are
         * all off gives that bias as the pre-activation): one-sided slopes differ, the engine takes
         * relu'(0) = 0, the central difference half the slope; such parameters are skipped */
        kink[i] = fabs((a - f0) / h - (f0 - b) / h) > 1e-4;
        n_kink += kink[i];
        if (!kink[i]) mx = fmax(mx, fabs(ref[i]));
    }
    double gmax = 0;
    for (int64_t i = 0; i < n; i++) {
        gmax = fmax(gmax, fabs(grad[i]));
        double e = fabs(grad[i] - ref[i]);
        if (!kink[i] && e > worst) worst = e, wi = i;
    }
    CHECK_MSG(n_kink <= n / 10, "%s: %d of %ld parameters at a kink", what, n_kink, (long)n);
    if (mx <= 1e-4) /* every path through D's ReLUs off at these points: then the engine says 0 too */
        CHECK_MSG(gmax <= 1e-6, "%s: reference gradient 0, engine's max %g", what, gmax);
    CHECK_MSG(worst <= 1e-3 * mx + 1e-6, "%s: parameter %ld: engine %.7g, finite differences %.7g (max |g| %.4g)",
              what, (long)wi, (double)grad[wi], ref[wi], mx);
    free(th);
    free(ref);
    free(kink);
}

static void check_config(const char *name, gt_lab_config c) {
    gt_lab *L = NULL;
    if (gt_lab_new(&L, &c) != GT_OK) {
        CHECK_MSG(false, "%s: %s", name, gt_last_error());
        return;
    }
    /* a few epochs first, so D is not at its initialisation */
    CHECK(gt_lab_epochs(L, 3, GT_LAB_BOTH) == GT_OK);
    int64_t nd = gt_numel(L->D.P.slab), ng = gt_numel(L->G.P.slab);
    float *d0 = malloc(sizeof(float) * (size_t)nd), *g0 = malloc(sizeof(float) * (size_t)ng);
    double *thd = malloc(sizeof(double) * (size_t)nd);
    memcpy(d0, gt_data(L->D.P.slab), sizeof(float) * (size_t)nd);
    ctx k = {&L->cfg, net_shape(&L->D), net_shape(&L->G), c.batch, NULL, NULL, NULL, thd};
    char what[96];
    /* D: one update; its batch is in x_d / x_gp, its gradient in the gradient slab */
    CHECK(gt_lab_epochs(L, 1, GT_LAB_D_ONLY) == GT_OK);
    k.x = gt_data(L->x_d);
    k.xh = gt_data(L->x_gp);
    snprintf(what, sizeof what, "%s: D", name);
    fd_compare(what, d_loss, &k, d0, gt_data(L->D.P.grad), nd);
    /* G: one update against the D it now has */
    memcpy(g0, gt_data(L->G.P.slab), sizeof(float) * (size_t)ng);
    for (int64_t i = 0; i < nd; i++) thd[i] = gt_data(L->D.P.slab)[i];
    CHECK(gt_lab_epochs(L, 1, GT_LAB_G_ONLY) == GT_OK);
    k.z = gt_data(L->z);
    snprintf(what, sizeof what, "%s: G", name);
    fd_compare(what, g_loss, &k, g0, gt_data(L->G.P.grad), ng);
    free(d0);
    free(g0);
    free(thd);
    gt_lab_free(L);
}

static void test_gradients(void) {
    gt_lab_config c = gt_lab_config_default();
    c.batch = 24;
    c.data = GT_LAB_RING;
    c.d_layers = 2;
    c.d_neurons = 6;
    c.g_layers = 1;
    c.g_neurons = 7;
    c.d_steps = c.g_steps = 1;
    c.lr_d = c.lr_g = 0.05f;
    const struct {
        const char *name;
        gt_lab_loss loss;
        float r1;
        int noise_dim;
    } cases[] = {
        {"log", GT_LAB_LOG, 0, 2},     {"ls", GT_LAB_LS, 0, 2},          {"hinge", GT_LAB_HINGE, 0, 1},
        {"wgan-gp", GT_LAB_WGAN_GP, 0, 2}, {"log+r1", GT_LAB_LOG, 2.0f, 2}, {"hinge+r1", GT_LAB_HINGE, 0.5f, 1},
        {"wgan-gp+r1", GT_LAB_WGAN_GP, 1.0f, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        c.loss = cases[i].loss;
        c.r1 = cases[i].r1;
        c.noise_dim = cases[i].noise_dim;
        c.seed = 10 + i;
        check_config(cases[i].name, c);
    }
    /* Adam and GAN Lab's default widths too (the gradient does not depend on the optimizer,
     * the update does: its first Adam step moves every weight by about lr) */
    c = gt_lab_config_default();
    c.optim = GT_LAB_ADAM;
    c.batch = 40;
    c.d_steps = 1; /* the D update read back must be the only one */
    check_config("defaults, adam", c);
}

int main(void) {
    gt_set_num_threads(1);
    RUN(test_gradients);
    return gt_test_finish();
}
