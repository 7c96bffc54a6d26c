/* Losses (mean reduction, as PyTorch's default), built from differentiable
 * ops so that gradients of gradients work (R1, WGAN-GP). */
#include "../internal.h"

/* x and target must be f32 of the same shape. */
static bool gt__same_shapes(gt_tensor *x, gt_tensor *t, const char *op, const char *xn) {
    if (!gt__check(x, op, xn, -1) || !gt__check(t, op, "target", -1)) return false;
    if (!gt_same_shape(x, t)) {
        char a[96], b[96];
        gt_set_error(GT_ERR_SHAPE, "%s: %s %s and target %s must have the same shape", op, xn,
                     gt_shape_str(x, a, sizeof a), gt_shape_str(t, b, sizeof b));
        return false;
    }
    if (gt_numel(x) == 0) {
        gt_set_error(GT_ERR_ARG, "%s: the mean of an empty %s is undefined", op, xn);
        return false;
    }
    return true;
}

/* softplus(x) - x*t = t*softplus(-x) + (1-t)*softplus(x): both terms are
 * non-negative for t in [0,1], so nothing cancels (exact for large |x|), and
 * the expression is smooth, its gradient sigmoid(x) - t everywhere (x = 0
 * included, where relu/abs forms would pick a one-sided slope). */
gt_tensor *gt_bce_with_logits(gt_tensor *logits, gt_tensor *target) {
    if (!gt__same_shapes(logits, target, "gt_bce_with_logits", "logits")) return NULL;
    gt_tensor *pos = gt_mul(target, gt_softplus(gt_neg(logits), 1.0f, 20.0f));
    gt_tensor *neg = gt_mul(gt_rsub_scalar(target, 1.0f), gt_softplus(logits, 1.0f, 20.0f));
    return gt_mean_all(gt_add(pos, neg));
}

gt_tensor *gt_mse_loss(gt_tensor *x, gt_tensor *target) {
    if (!gt__same_shapes(x, target, "gt_mse_loss", "x")) return NULL;
    gt_tensor *d = gt_sub(x, target);
    return gt_mean_all(gt_mul(d, d));
}

gt_tensor *gt_l1_loss(gt_tensor *x, gt_tensor *target) {
    if (!gt__same_shapes(x, target, "gt_l1_loss", "x")) return NULL;
    return gt_mean_all(gt_abs(gt_sub(x, target)));
}

/* mean over n of -log_softmax(logits)[n, target[n]]; the pick is a product
 * with a constant one-hot mask, so the whole thing stays differentiable. */
gt_tensor *gt_cross_entropy(gt_tensor *logits, gt_tensor *target) {
    if (!gt__check(logits, "gt_cross_entropy", "logits", 2) || !target) return NULL;
    char sl[96], st[96];
    if (target->dtype != GT_I32)
        return gt__fail(GT_ERR_ARG, "gt_cross_entropy: target %s must hold int32 class indices",
                        gt_shape_str(target, st, sizeof st));
    int64_t N = logits->shape[0], C = logits->shape[1];
    if (target->ndim != 1 || target->shape[0] != N)
        return gt__fail(GT_ERR_SHAPE, "gt_cross_entropy: logits %s (N, C) needs target of shape (%lld,), got %s",
                        gt_shape_str(logits, sl, sizeof sl), (long long)N, gt_shape_str(target, st, sizeof st));
    if (N == 0)
        return gt__fail(GT_ERR_ARG, "gt_cross_entropy: the mean over an empty batch %s is undefined",
                        gt_shape_str(logits, sl, sizeof sl));
    gt_tensor *tc = gt_contiguous(target);
    gt_tensor *onehot = gt_zeros(GT_SHAPE(N, C)); // (N, C)
    if (!tc || !onehot) return NULL;
    const int32_t *pt = gt_data_i32(tc);
    float *po = gt_data(onehot);
    for (int64_t i = 0; i < N; i++) {
        if (pt[i] < 0 || pt[i] >= C)
            return gt__fail(GT_ERR_ARG,
                            "gt_cross_entropy: target[%lld] = %d is out of range for C = %lld classes (logits %s)",
                            (long long)i, (int)pt[i], (long long)C, gt_shape_str(logits, sl, sizeof sl));
        po[i * C + pt[i]] = 1.0f;
    }
    gt_tensor *picked = gt_sum_all(gt_mul(gt_log_softmax(logits, 1), onehot));
    return gt_mul_scalar(picked, -1.0f / (float)N);
}
