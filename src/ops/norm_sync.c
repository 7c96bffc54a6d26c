/* Synchronized batch norm (gt_batch_norm_set_sync, gantry/ops.h): the per-channel statistics of
 * the whole data-parallel batch, from every process's count, sum and sum of squares (float64),
 * and in backward the whole batch's sum(dy) and sum(dy * xhat), each summed over the processes by
 * the caller's allreduce. Each process's result then equals one process's on the whole batch (up
 * to rounding), and the parameter gradients are this process's share (the data-parallel average
 * of every process's gradient is the whole batch's). */
#include <math.h>

#include "../backend/cpu/norm.h"
#include "../internal.h"

static _Thread_local gt_bn_allreduce_fn gt__sync_fn;
static _Thread_local void *gt__sync_user;

void gt_batch_norm_set_sync(gt_bn_allreduce_fn fn, void *user) {
    gt__sync_fn = fn;
    gt__sync_user = fn ? user : NULL;
}

bool gt__bn_sync_on(void) { return gt__sync_fn != NULL; }

/* Node: in[0] = x (contiguous), weight / bias at iarg[0] / iarg[1] (-1: none); saved[0] mean,
 * saved[1] invstd (C) of the whole batch; iarg[2] = the whole batch's count per channel. */
static gt_status gt__bn_sync_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    if (gt_grad_enabled())
        return gt_set_error(GT_ERR_STATE, "sync-bn: a double backward (a gradient penalty with create_graph) through "
                                          "a synchronized batch norm is not supported; use a layer-norm or norm-free "
                                          "critic (--d-norm layer) or train without --sync-bn");
    gt_tensor *x = n->in[0];
    int iw = (int)n->iarg[0], ib = (int)n->iarg[1];
    gt_tensor *w = iw >= 0 ? gt_contiguous(n->in[iw]) : NULL;
    gt_tensor *g = gt_contiguous(gy);
    if (!g || (iw >= 0 && !w)) return gt_last_status();
    const int64_t N = x->shape[0], C = x->shape[1], S = gt_numel(x) / (N * C);
    const double M = (double)n->iarg[2];
    const float *px = gt_data(x), *pg = gt_data(g), *pm = gt_data(n->saved[0]), *pi = gt_data(n->saved[1]);
    double *sums = calloc((size_t)(2 * C), sizeof *sums); /* sum dy (C), sum dy * xhat (C) */
    if (!sums) return gt_set_error(GT_ERR_OOM, "sync-bn: out of memory");
#pragma omp parallel for schedule(static) if (N * C * S > 65536)
    for (int64_t c = 0; c < C; c++) {
        double sg = 0, sgh = 0;
        for (int64_t i = 0; i < N; i++) {
            const float *xr = px + (i * C + c) * S, *gr = pg + (i * C + c) * S;
            for (int64_t k = 0; k < S; k++) sg += gr[k], sgh += (double)gr[k] * ((double)xr[k] - pm[c]);
        }
        sums[c] = sg, sums[C + c] = sgh * pi[c];
    }
    gt_tensor *dw = iw >= 0 && gt__need(n, iw) ? gt__new(GT_F32, 1, &C) : NULL;
    gt_tensor *db = ib >= 0 && gt__need(n, ib) ? gt__new(GT_F32, 1, &C) : NULL;
    for (int64_t c = 0; c < C; c++) { /* this process's share of the parameter gradients */
        if (dw) ((float *)gt_data(dw))[c] = (float)sums[C + c];
        if (db) ((float *)gt_data(db))[c] = (float)sums[c];
    }
    gt_status st = gt__sync_fn ? gt__sync_fn(sums, 2 * C, gt__sync_user)
                               : gt_set_error(GT_ERR_STATE, "sync-bn: backward after the synchronization was turned off");
    gt_tensor *dx = st == GT_OK && gt__need(n, 0) ? gt__new_like(x) : NULL;
    if (dx) {
        float *o = gt_data(dx);
        const float *pw = w ? gt_data(w) : NULL;
#pragma omp parallel for schedule(static) if (N * C * S > 65536)
        for (int64_t c = 0; c < C; c++) {
            const double k1 = (double)pi[c] * (pw ? pw[c] : 1.0f), mg = sums[c] / M, mgh = sums[C + c] / M;
            for (int64_t i = 0; i < N; i++) {
                const float *xr = px + (i * C + c) * S, *gr = pg + (i * C + c) * S;
                float *orow = o + (i * C + c) * S;
                for (int64_t k = 0; k < S; k++) {
                    double xh = ((double)xr[k] - pm[c]) * pi[c];
                    orow[k] = (float)(k1 * (gr[k] - mg - xh * mgh));
                }
            }
        }
    }
    free(sums);
    if (st != GT_OK) return st;
    if ((gt__need(n, 0) && !dx) || (iw >= 0 && gt__need(n, iw) && !dw) || (ib >= 0 && gt__need(n, ib) && !db))
        return gt_last_status();
    gx[0] = dx;
    if (iw >= 0) gx[iw] = dw;
    if (ib >= 0) gx[ib] = db;
    return GT_OK;
}

gt_tensor *gt__bn_sync(gt_tensor *x, gt_tensor *weight, gt_tensor *bias, gt_tensor *rmean, gt_tensor *rvar,
                       float momentum, float eps) {
    gt_tensor *xc = gt_contiguous(x);
    gt_tensor *w = weight ? gt_contiguous(weight) : NULL, *b = bias ? gt_contiguous(bias) : NULL;
    if (!xc || (weight && !w) || (bias && !b)) return NULL;
    const int64_t N = x->shape[0], C = x->shape[1], S = (N * C != 0) ? gt_numel(x) / (N * C) : 0;
    gt_tensor *mean = gt__new(GT_F32, 1, &C), *inv = gt__new(GT_F32, 1, &C), *y = gt__new_like(x);
    double *sums = calloc((size_t)(2 * C + 1), sizeof *sums); /* sum (C), sum of squares (C), count */
    if (!mean || !inv || !y || !sums) {
        free(sums);
        return sums ? NULL : gt__fail(GT_ERR_OOM, "sync-bn: out of memory");
    }
    const float *px = gt_data(xc);
#pragma omp parallel for schedule(static) if (N * C * S > 65536)
    for (int64_t c = 0; c < C; c++) {
        double s = 0, q = 0;
        for (int64_t i = 0; i < N; i++) {
            const float *r = px + (i * C + c) * S;
            for (int64_t k = 0; k < S; k++) s += r[k], q += (double)r[k] * r[k];
        }
        sums[c] = s, sums[C + c] = q;
    }
    sums[2 * C] = (double)(N * S);
    if (gt__sync_fn(sums, 2 * C + 1, gt__sync_user) != GT_OK) {
        free(sums);
        return NULL;
    }
    const double M = sums[2 * C];
    float *pm = gt_data(mean), *pi = gt_data(inv);
    float *rm = rmean ? gt_data(rmean) : NULL, *rv = rvar ? gt_data(rvar) : NULL;
    for (int64_t c = 0; c < C; c++) {
        double m = sums[c] / M, v = sums[C + c] / M - m * m;
        v = v > 0 ? v : 0;
        if (rm) rm[c] = (float)((1.0 - momentum) * rm[c] + (double)momentum * m);
        if (rv) rv[c] = (float)((1.0 - momentum) * rv[c] + (double)momentum * v * M / (M - 1.0));
        pm[c] = (float)m;
        pi[c] = (float)(1.0 / sqrt(v + eps));
    }
    free(sums);
    gt_cpu_bn_apply(N, C, S, px, pm, pi, w ? gt_data(w) : NULL, b ? gt_data(b) : NULL, gt_data(y));
    gt_tensor *in[3] = {xc};
    int n_in = 1, iw = -1, ib = -1;
    if (w) in[iw = n_in++] = w;
    if (b) in[ib = n_in++] = b;
    if (gt__needs_grad(n_in, in)) {
        gt_node *nd = gt__record(y, GT_OP_BATCH_NORM, gt__bn_sync_bw, n_in, in);
        if (!nd) return NULL;
        nd->iarg[0] = iw, nd->iarg[1] = ib, nd->iarg[2] = (int64_t)M;
        nd->farg[0] = eps;
        gt__save(nd, mean);
        gt__save(nd, inv);
    }
    return y;
}
