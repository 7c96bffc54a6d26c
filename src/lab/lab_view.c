/* src/lab/lab_view.c - what the page draws: KL / JS on GAN Lab's grid
 * (demo/ganlab_evaluators.ts), D's heatmap, G's manifold and its density, the gradient arrows.
 *
 * KL / JS: the real atlas (12,000 points) and the fakes of a fixed noise set (the noise atlas's
 * first 1,500 rows, so the estimate moves only with the weights) are counted on the 30 x 30 grid
 * (points outside [0,1]^2 in the border cells), each histogram divided by its count, and with
 * GAN Lab's smoothing eps = 1e-4 added to every cell (not renormalized, as GAN Lab):
 *   KL = sum (p + eps) ln((p + eps) / (q + eps)),  JS = (KL(p || m) + KL(q || m)) / 2, m = (p + q) / 2,
 * in nats (GAN Lab takes log2, i.e. bits: divide by ln 2 = 0.693 to compare with its page). */
#include <math.h>
#include <string.h>

#include "lab_internal.h"

#define KL_EPS 1e-4

static int cell(float v) {
    int i = (int)floorf(v * GT_LAB_GRID);
    return i < 0 ? 0 : i >= GT_LAB_GRID ? GT_LAB_GRID - 1 : i;
}

void gt__lab_grid_hist(const float *pts, int64_t n, double *h) {
    memset(h, 0, sizeof(double) * GT_LAB_GRID * GT_LAB_GRID);
    for (int64_t i = 0; i < n; i++) {
        float x = pts[2 * i], y = pts[2 * i + 1];
        if (x != x) x = 0.0f; /* NaN (a diverged G) in the first cell */
        if (y != y) y = 0.0f;
        h[cell(y) * GT_LAB_GRID + cell(x)] += 1.0;
    }
    for (int i = 0; i < GT_LAB_GRID * GT_LAB_GRID; i++) h[i] /= (double)(n > 0 ? n : 1);
}

void gt__lab_kl_js(const double *real_hist, const float *fake, int64_t n, float *kl, float *js) {
    double q[GT_LAB_GRID * GT_LAB_GRID];
    gt__lab_grid_hist(fake, n, q);
    double k = 0, jl = 0, jr = 0;
    for (int i = 0; i < GT_LAB_GRID * GT_LAB_GRID; i++) {
        double p = real_hist[i] + KL_EPS, f = q[i] + KL_EPS, m = 0.5 * (real_hist[i] + q[i]) + KL_EPS;
        k += p * log(p / f);
        jl += p * log(p / m);
        jr += f * log(f / m);
    }
    *kl = (float)k;
    *js = (float)(0.5 * (jl + jr));
}

void gt__lab_update_kl(gt_lab *L) {
    if (L->kl_epoch == L->epoch) return;
    gt__lab_net_eval(&L->G, L->noise_atlas, GT_LAB_KL_FAKES, L->kl_fake, true, L->scratch);
    gt__lab_kl_js(L->real_hist, L->kl_fake, GT_LAB_KL_FAKES, &L->kl, &L->js);
    L->kl_epoch = L->epoch;
}

/* -d(loss_i)/dx_i of G's loss term at each point x (n, 2), through the engine. */
static gt_status g_loss_grad(gt_lab *L, const float *x, int64_t n, float *out) {
    int m = gt_scope_begin();
    gt_tensor *X = gt_from_data(GT_SHAPE(n, 2), x), *g = NULL;
    gt_set_requires_grad(X, true);
    gt_tensor *l = gt__lab_net_forward(&L->D, X, false), *loss;
    switch (L->cfg.loss) {
    case GT_LAB_LOG: loss = gt_sum_all(gt_softplus(gt_neg(l), 1.0f, 20.0f)); break;
    case GT_LAB_LS: loss = gt_sum_all(gt_pow_scalar(gt_add_scalar(gt_sigmoid(l), -1.0f), 2.0f)); break;
    default: loss = gt_neg(gt_sum_all(l)); break;
    }
    gt_status st = loss ? gt_grad(loss, NULL, 1, &X, &g, false) : GT_ERR_STATE;
    if (st == GT_ERR_STATE && gt_last_status() == GT_OK) gt_set_error(st, "lab: the gradient arrows failed");
    if (st == GT_OK) st = gt_copy_to(g, out);
    if (st == GT_OK)
        for (int64_t i = 0; i < 2 * n; i++) out[i] = -out[i];
    gt_scope_end(m);
    return st;
}

/* Noise mass of a cell of the noise grid: uniform is flat; GAN Lab's gaussian noise is a
 * normal (0.5, 0.25) truncated to [0, 1], taken at the cell's centre as GAN Lab does. */
static double noise_mass(const gt_lab_config *c, double u) {
    if (c->noise == GT_LAB_UNIFORM) return 1.0;
    double d = (u - 0.5) / 0.25;
    return exp(-0.5 * d * d);
}

static void manifold(gt_lab *L, gt_lab_frame *f) {
    const gt_lab_config *c = &L->cfg;
    const int N = GT_LAB_MANIFOLD;
    float z[(GT_LAB_MANIFOLD + 1) * 2];
    f->manifold_w = N + 1;
    f->manifold_h = c->noise_dim == 2 ? N + 1 : 1;
    /* manifold[r][k] = G(k / N, r / N): the first noise coordinate along a row */
    for (int r = 0; r < f->manifold_h; r++) {
        for (int k = 0; k <= N; k++) {
            z[k * c->noise_dim] = (float)k / N;
            if (c->noise_dim == 2) z[k * 2 + 1] = (float)r / N;
        }
        gt__lab_net_eval(&L->G, z, N + 1, &f->manifold[r][0][0], true, L->scratch);
    }
    double mx = 0;
    static const double tiny = 1e-12;
    memset(f->density, 0, sizeof f->density);
    if (c->noise_dim == 1) {
        for (int k = 0; k < N; k++) {
            double dx = f->manifold[0][k + 1][0] - f->manifold[0][k][0], dy = f->manifold[0][k + 1][1] - f->manifold[0][k][1];
            double len = sqrt(dx * dx + dy * dy);
            double d = noise_mass(c, (k + 0.5) / N) / (len > tiny ? len : tiny);
            f->density[0][k] = (float)d;
            if (d > mx) mx = d;
        }
    } else {
        for (int r = 0; r < N; r++)
            for (int k = 0; k < N; k++) {
                const float *p[4] = {f->manifold[r][k], f->manifold[r][k + 1], f->manifold[r + 1][k + 1],
                                     f->manifold[r + 1][k]};
                double a = 0; /* shoelace */
                for (int i = 0; i < 4; i++) a += (double)p[i][0] * p[(i + 1) % 4][1] - (double)p[(i + 1) % 4][0] * p[i][1];
                a = fabs(0.5 * a);
                double d = noise_mass(c, (k + 0.5) / N) * noise_mass(c, (r + 0.5) / N) / (a > tiny ? a : tiny);
                f->density[r][k] = (float)d;
                if (d > mx) mx = d;
            }
    }
    if (!(mx > 0) || !isfinite(mx)) return;
    float fm = (float)mx;
    for (int r = 0; r < N; r++)
        for (int k = 0; k < N; k++) f->density[r][k] = f->density[r][k] == fm ? 1.0f : (float)(f->density[r][k] / mx);
}

gt_status gt_lab_frame_get(gt_lab *L, gt_lab_frame *f) {
    if (!L || !f) return gt_set_error(GT_ERR_ARG, "gt_lab_frame_get: NULL argument");
    const gt_lab_config *c = &L->cfg;
    int n = c->batch;
    f->epoch = L->epoch;
    f->loss_d = L->loss_d;
    f->loss_g = L->loss_g;
    gt__lab_update_kl(L);
    f->kl = L->kl;
    f->js = L->js;
    f->n = n;
    /* the first batch of each atlas, as GAN Lab's fixed providers: the dots move only with G */
    memcpy(f->real, L->real_atlas, sizeof(float) * 2 * (size_t)n);
    memcpy(f->fake, L->kl_fake, sizeof(float) * 2 * (size_t)n); /* = G(noise atlas rows 0..n-1) */
    gt_status st = g_loss_grad(L, &f->fake[0][0], n, &f->grad[0][0]);
    if (st != GT_OK) return st;
    float centres[GT_LAB_GRID][2], logit[GT_LAB_GRID];
    for (int r = 0; r < GT_LAB_GRID; r++) {
        for (int k = 0; k < GT_LAB_GRID; k++) {
            centres[k][0] = (k + 0.5f) / GT_LAB_GRID;
            centres[k][1] = (r + 0.5f) / GT_LAB_GRID;
        }
        gt__lab_net_eval(&L->D, &centres[0][0], GT_LAB_GRID, logit, false, L->scratch);
        for (int k = 0; k < GT_LAB_GRID; k++) f->heat[r][k] = 1.0f / (1.0f + expf(-logit[k]));
    }
    manifold(L, f);
    return GT_OK;
}
