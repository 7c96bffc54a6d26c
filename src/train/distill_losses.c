/* Distillation losses (gantry/distill.h): feature distillation through a 1x1 conv (GAN
 * Compression), output reconstruction, the discriminator-cooperated distance (DCD), relational
 * distances and angles between the samples of a batch (CRD, in relational KD's form), and the
 * pairing of a student's taps with a teacher's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/distill.h"

static gt_tensor *gt__fail(gt_status st, const char *fn, const gt_tensor *a, const gt_tensor *b, const char *want) {
    char x[64] = "NULL", y[64] = "NULL";
    if (a) gt_shape_str(a, x, sizeof x);
    if (b) gt_shape_str(b, y, sizeof y);
    gt_set_error(st, "%s: %s and %s: %s", fn, x, y, want);
    return NULL;
}

gt_tensor *gt_distill_feat_loss(gt_tensor *s, gt_tensor *t, gt_tensor *w, gt_tensor *b) {
    if (!s || !t || !w) return gt__fail(GT_ERR_ARG, "gt_distill_feat_loss", s, t, "a feature or the weight is NULL");
    if (s->ndim != 4 || t->ndim != 4 || s->shape[0] != t->shape[0] || s->shape[2] != t->shape[2] ||
        s->shape[3] != t->shape[3])
        return gt__fail(GT_ERR_SHAPE, "gt_distill_feat_loss", s, t, "want (N, Cs, H, W) and (N, Ct, H, W)");
    if (w->ndim != 4 || w->shape[0] != t->shape[1] || w->shape[1] != s->shape[1] || w->shape[2] != 1 ||
        w->shape[3] != 1 || (b && (b->ndim != 1 || b->shape[0] != t->shape[1])))
        return gt__fail(GT_ERR_SHAPE, "gt_distill_feat_loss", s, w, "the 1x1 conv's weight must be (Ct, Cs, 1, 1)");
    gt_tensor *m = gt_conv2d(s, w, b, gt_conv_params_make(1, 0)); // (N, Ct, H, W)
    return gt_mse_loss(m, gt_detach(t));
}

gt_tensor *gt_distill_recon_loss(gt_tensor *s, gt_tensor *t) {
    if (!s || !t || !gt_same_shape(s, t))
        return gt__fail(GT_ERR_SHAPE, "gt_distill_recon_loss", s, t, "want one shape");
    return gt_l1_loss(s, gt_detach(t));
}

gt_tensor *gt_distill_dcd_loss(gt_tensor *const *fs, gt_tensor *const *ft, int n) {
    if (n < 1 || !fs || !ft) {
        gt_set_error(GT_ERR_ARG, "gt_distill_dcd_loss: no discriminator features (n = %d)", n);
        return NULL;
    }
    gt_tensor *sum = NULL;
    for (int i = 0; i < n; i++) {
        if (!fs[i] || !ft[i] || !gt_same_shape(fs[i], ft[i]))
            return gt__fail(GT_ERR_SHAPE, "gt_distill_dcd_loss", fs[i], ft[i], "a layer's features differ in shape");
        gt_tensor *l = gt_l1_loss(fs[i], gt_detach(ft[i]));
        sum = sum ? gt_add(sum, l) : l;
    }
    return sum;
}

/* Smooth L1 (Huber, beta 1), mean: 0.5 m^2 + (a - m), a = |d|, m = min(a, 1). */
static gt_tensor *gt__smooth_l1(gt_tensor *x, gt_tensor *y) {
    gt_tensor *a = gt_abs(gt_sub(x, y));
    gt_tensor *m = gt_clamp(a, -INFINITY, 1.0f);
    return gt_mean_all(gt_add(gt_mul_scalar(gt_mul(m, m), 0.5f), gt_sub(a, m)));
}

/* (N, D) features of a batch, each sample flattened; NULL + error unless s and t have N >= min. */
static gt_status gt__rel_check(const char *fn, gt_tensor *s, gt_tensor *t, int min) {
    if (!s || !t || s->ndim < 2 || t->ndim < 2 || s->shape[0] != t->shape[0] || s->shape[0] < min) {
        char want[64];
        snprintf(want, sizeof want, "want (N, ...) features of the same N >= %d", min);
        gt__fail(GT_ERR_SHAPE, fn, s, t, want);
        return GT_ERR_SHAPE;
    }
    return GT_OK;
}

/* Pairwise Euclidean distances (N, N) of the rows of e (N, D), the diagonal 0, divided by the mean
 * of the off-diagonal ones (relational KD's pdist with squared = false, then / mean of d > 0). */
static gt_tensor *gt__rel_dist(gt_tensor *e) {
    int64_t n = e->shape[0];
    gt_tensor *sq = gt_sum(gt_mul(e, e), 1, (int[]){1}, false); // (N)
    gt_tensor *prod = gt_matmul(e, gt_transpose(e, 0, 1)); // (N, N)
    gt_tensor *d2 = gt_sub(gt_add(gt_unsqueeze(sq, 1), gt_unsqueeze(sq, 0)), gt_mul_scalar(prod, 2.0f));
    gt_tensor *off = gt_full(GT_SHAPE(n, n), 1.0f);
    if (!off) return NULL;
    for (int64_t i = 0; i < n; i++) gt_data(off)[i * n + i] = 0.0f;
    gt_tensor *d = gt_mul(gt_sqrt(gt_clamp(d2, 1e-12f, INFINITY)), off);
    gt_tensor *mean = gt_mul_scalar(gt_sum_all(d), 1.0f / (float)(n * (n - 1)));
    return gt_div(d, mean);
}

gt_tensor *gt_crd_dist_loss(gt_tensor *s, gt_tensor *t) {
    if (gt__rel_check("gt_crd_dist_loss", s, t, 2) != GT_OK) return NULL;
    gt_tensor *td;
    bool prev = gt_no_grad_begin();
    td = gt__rel_dist(gt_flatten(gt_contiguous(t), 1));
    gt_grad_mode_restore(prev);
    gt_tensor *sd = gt__rel_dist(gt_flatten(gt_contiguous(s), 1));
    return gt__smooth_l1(sd, td ? gt_detach(td) : NULL);
}

/* The cosines of every triplet's angle: a (N, N, N) tensor, [i, j, k] = <u_ij, u_ik>, u_ij the unit
 * vector from e_i to e_j (zero when they coincide, as F.normalize with eps 1e-12). */
static gt_tensor *gt__rel_angle(gt_tensor *e) {
    gt_tensor *v = gt_sub(gt_unsqueeze(e, 0), gt_unsqueeze(e, 1)); // (N, N, D): e_j - e_i
    gt_tensor *nrm = gt_sqrt(gt_clamp(gt_sum(gt_mul(v, v), 1, (int[]){2}, true), 1e-24f, INFINITY));
    gt_tensor *u = gt_div(v, nrm); // (N, N, D)
    return gt_matmul(u, gt_transpose(u, 1, 2)); // (N, N, N)
}

gt_tensor *gt_crd_angle_loss(gt_tensor *s, gt_tensor *t) {
    if (gt__rel_check("gt_crd_angle_loss", s, t, 3) != GT_OK) return NULL;
    gt_tensor *ta;
    bool prev = gt_no_grad_begin();
    ta = gt__rel_angle(gt_flatten(gt_contiguous(t), 1));
    gt_grad_mode_restore(prev);
    gt_tensor *sa = gt__rel_angle(gt_flatten(gt_contiguous(s), 1));
    return gt__smooth_l1(sa, ta ? gt_detach(ta) : NULL);
}

gt_tensor *gt_crd_loss(gt_tensor *s, gt_tensor *t) {
    gt_tensor *d = gt_crd_dist_loss(s, t);
    gt_tensor *a = d ? gt_crd_angle_loss(s, t) : NULL;
    return a ? gt_add(d, gt_mul_scalar(a, 2.0f)) : NULL;
}

/* --- pairing taps ------------------------------------------------------------------------------ */
static gt_status gt__pair_add(gt_distill_pairs *out, int s, int t, const int (*ss)[3], const int (*ts)[3]) {
    if (ss[s][1] != ts[t][1] || ss[s][2] != ts[t][2])
        return gt_set_error(GT_ERR_ARG,
                            "layers: student tap %d is %dx%d, teacher tap %d is %dx%d: a pair needs one spatial size",
                            s, ss[s][1], ss[s][2], t, ts[t][1], ts[t][2]);
    for (int i = 0; i < out->n; i++)
        if (out->s[i] == s) return gt_set_error(GT_ERR_ARG, "layers: student tap %d is paired twice", s);
    if (out->n == GT_DISTILL_PAIRS_MAX)
        return gt_set_error(GT_ERR_ARG, "layers: more than %d pairs", GT_DISTILL_PAIRS_MAX);
    out->s[out->n] = s, out->t[out->n] = t, out->n++;
    return GT_OK;
}

gt_status gt_distill_pair_taps(const char *spec, const int (*s_shape)[3], int n_s, const int (*t_shape)[3], int n_t,
                               gt_distill_pairs *out) {
    memset(out, 0, sizeof *out);
    if (n_s < 1 || n_t < 1)
        return gt_set_error(GT_ERR_ARG, "layers: the %s records no intermediate features (taps) to distil",
                            n_s < 1 ? "student's generator" : "teacher's generator");
    if (spec && spec[0]) {
        const char *p = spec;
        while (*p) {
            char *end;
            long s = strtol(p, &end, 10);
            if (end == p || *end != ':')
                return gt_set_error(GT_ERR_ARG, "layers: '%s' is not a list of student:teacher tap pairs (\"0:0,1:1\")",
                                    spec);
            p = end + 1;
            long t = strtol(p, &end, 10);
            if (end == p || (*end != ',' && *end))
                return gt_set_error(GT_ERR_ARG, "layers: '%s' is not a list of student:teacher tap pairs (\"0:0,1:1\")",
                                    spec);
            p = *end ? end + 1 : end;
            if (s < 0 || s >= n_s || t < 0 || t >= n_t)
                return gt_set_error(GT_ERR_ARG,
                                    "layers: pair %ld:%ld out of range: the student has taps 0..%d, the teacher 0..%d",
                                    s, t, n_s - 1, n_t - 1);
            gt_status st = gt__pair_add(out, (int)s, (int)t, s_shape, t_shape);
            if (st != GT_OK) return st;
        }
        return GT_OK;
    }
    /* by size: each student tap with the next unused teacher tap of its spatial size */
    bool used[GT_NET_TAPS_MAX] = {false};
    for (int s = 0; s < n_s; s++) {
        int t = -1;
        for (int k = 0; k < n_t && t < 0; k++)
            if (!used[k] && t_shape[k][1] == s_shape[s][1] && t_shape[k][2] == s_shape[s][2]) t = k;
        if (t < 0)
            return gt_set_error(GT_ERR_ARG,
                                "layers: the student's tap %d (%d channels, %dx%d) has no teacher tap of that size; "
                                "give the pairs with --layers s:t,...",
                                s, s_shape[s][0], s_shape[s][1], s_shape[s][2]);
        used[t] = true;
        gt_status st = gt__pair_add(out, s, t, s_shape, t_shape);
        if (st != GT_OK) return st;
    }
    return GT_OK;
}
