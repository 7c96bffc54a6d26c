/* The FID Inception-v3 forward written with the engine's ops, as the PyTorch
 * modules run it: with bn = true each BasicConv2d is conv (no bias) ->
 * batch_norm (eval, eps 0.001) -> relu (the reference); with bn = false the
 * conv carries the folded weights and bias. Each block runs in a scope of its
 * own so only its output outlives it. */
#include "inception_internal.h"

static gt_tensor *gt__bc(const gt_inception *net, int i, gt_tensor *x, bool bn) {
    const gt__bconv *c = &net->conv[i];
    gt_conv_params p = {c->sh, c->sw, c->ph, c->pw, 1, 1, 0, 0, 1};
    if (bn)
        return gt_relu(gt_batch_norm(gt_conv2d(x, c->w, NULL, p), c->gamma, c->beta, c->mean, c->var, false, 0.1f,
                                     GT__INC_BN_EPS));
    return gt_relu(gt_conv2d(x, c->wf, c->bf, p));
}

/* pytorch-fid's patched pools: 3x3 / 1 / 1 average without the padding in the
 * count, TensorFlow's way; and the max pool of FIDInceptionE_2. */
static gt_tensor *gt__avg3(gt_tensor *x) { return gt_avg_pool2d(x, 3, 3, 1, 1, 1, 1, false, false); }
static gt_tensor *gt__max3s1(gt_tensor *x) { return gt_max_pool2d(x, 3, 3, 1, 1, 1, 1, false); }
static gt_tensor *gt__max3s2(gt_tensor *x) { return gt_max_pool2d(x, 3, 3, 2, 2, 0, 0, false); }

static gt_tensor *gt__cat(int n, gt_tensor **t) {
    for (int i = 0; i < n; i++)
        if (!t[i]) return NULL;
    return gt_concat(n, t, 1);
}

static gt_tensor *gt__run_block(const gt_inception *net, const gt__block *b, gt_tensor *x, bool bn) {
    int f = b->first;
#define BC(i, in) gt__bc(net, f + (i), (in), bn)
    switch (b->kind) {
    case GT__BLK_A: {
        gt_tensor *t[4] = {BC(0, x), BC(2, BC(1, x)), BC(5, BC(4, BC(3, x))), BC(6, gt__avg3(x))};
        return gt__cat(4, t);
    }
    case GT__BLK_B: {
        gt_tensor *t[3] = {BC(0, x), BC(3, BC(2, BC(1, x))), gt__max3s2(x)};
        return gt__cat(3, t);
    }
    case GT__BLK_C: {
        gt_tensor *t[4] = {BC(0, x), BC(3, BC(2, BC(1, x))), BC(8, BC(7, BC(6, BC(5, BC(4, x))))),
                           BC(9, gt__avg3(x))};
        return gt__cat(4, t);
    }
    case GT__BLK_D: {
        gt_tensor *t[3] = {BC(1, BC(0, x)), BC(5, BC(4, BC(3, BC(2, x)))), gt__max3s2(x)};
        return gt__cat(3, t);
    }
    case GT__BLK_E1:
    case GT__BLK_E2: {
        gt_tensor *a = BC(1, x), *d = BC(5, BC(4, x));
        gt_tensor *p = b->kind == GT__BLK_E1 ? gt__avg3(x) : gt__max3s1(x);
        gt_tensor *t[6] = {BC(0, x), BC(2, a), BC(3, a), BC(6, d), BC(7, d), BC(8, p)};
        return gt__cat(6, t);
    }
    }
#undef BC
    return NULL;
}

/* Runs fn-like steps in a scope of their own, handing only the result out. */
static gt_tensor *gt__keep(int mark, gt_tensor *y) {
    gt_retain(y);
    gt_scope_end(mark);
    return y ? gt__autorelease(y) : NULL;
}

/* The spatial mean of (N, C, H, W) -> (N, C): adaptive_avg_pool2d to 1x1. */
static gt_tensor *gt__gap(gt_tensor *x) { return gt_mean(x, 2, (const int[]){2, 3}, false); }

gt_status gt__inception_forward_ops(gt_inception *net, gt_tensor *x, bool bn, unsigned features,
                                    gt_inception_outputs *out) {
    unsigned want_after_768 = GT_INCEPTION_POOL_2048 | GT_INCEPTION_LOGITS | GT_INCEPTION_LOGITS_UNBIASED;
    int m = gt_scope_begin();
    for (int i = 0; i < 3; i++) x = gt__bc(net, i, x, bn);
    x = gt__keep(m, gt__max3s2(x));
    if (features & GT_INCEPTION_POOL_64) out->pool64 = gt__gap(x);
    if (features & ~1u) {
        m = gt_scope_begin();
        x = gt__keep(m, gt__max3s2(gt__bc(net, 4, gt__bc(net, 3, x, bn), bn)));
        if (features & GT_INCEPTION_POOL_192) out->pool192 = gt__gap(x);
    }
    if (features & ~3u)
        for (int b = 0; b < 8; b++) {
            m = gt_scope_begin();
            x = gt__keep(m, gt__run_block(net, &net->block[b], x, bn));
        }
    if (features & GT_INCEPTION_POOL_768) out->pool768 = gt__gap(x);
    if (features & want_after_768) {
        for (int b = 8; b < GT__INC_NBLOCK; b++) {
            m = gt_scope_begin();
            x = gt__keep(m, gt__run_block(net, &net->block[b], x, bn));
        }
        gt_tensor *pool = gt__gap(x);
        if (features & GT_INCEPTION_POOL_2048) out->pool2048 = pool;
        if (features & GT_INCEPTION_LOGITS) out->logits = gt_linear(pool, net->fc_w, net->fc_b);
        if (features & GT_INCEPTION_LOGITS_UNBIASED) out->logits_unbiased = gt_linear(pool, net->fc_w, NULL);
    }
    gt_tensor *got[6] = {out->pool64, out->pool192, out->pool768, out->pool2048, out->logits, out->logits_unbiased};
    for (int b = 0; b < 6; b++)
        if ((features & (1u << b)) && !got[b])
            return gt_last_status() ? gt_last_status() : gt_set_error(GT_ERR_STATE, "inception: forward failed");
    return GT_OK;
}
