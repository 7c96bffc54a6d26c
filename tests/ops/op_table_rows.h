/* The rows of tests/ops/test_op_table.c (included there once, after its row type, tolerance
 * sets and OPF macro): each op called with a row's parameters, then the table itself. Adding an
 * op to ops.h means adding its OPF line and at least one ROW here. */
#ifndef GT_TEST_OP_TABLE_ROWS_H
#define GT_TEST_OP_TABLE_ROWS_H

/* --- the ops, called with the row's parameters ------------------------------ */
OPF(gt_add) { return gt_add(x[0], x[1]); }
OPF(gt_sub) { return gt_sub(x[0], x[1]); }
OPF(gt_mul) { return gt_mul(x[0], x[1]); }
OPF(gt_div) { return gt_div(x[0], x[1]); }
OPF(gt_pow) { return gt_pow(x[0], x[1]); }
OPF(gt_add_scalar) { return gt_add_scalar(x[0], r->fp[0]); }
OPF(gt_mul_scalar) { return gt_mul_scalar(x[0], r->fp[0]); }
OPF(gt_rsub_scalar) { return gt_rsub_scalar(x[0], r->fp[0]); }
OPF(gt_pow_scalar) { return gt_pow_scalar(x[0], r->fp[0]); }
OPF(gt_neg) { return gt_neg(x[0]); }
OPF(gt_exp) { return gt_exp(x[0]); }
OPF(gt_log) { return gt_log(x[0]); }
OPF(gt_sqrt) { return gt_sqrt(x[0]); }
OPF(gt_abs) { return gt_abs(x[0]); }
OPF(gt_clamp) { return gt_clamp(x[0], r->fp[0], r->fp[1]); }
OPF(gt_relu) { return gt_relu(x[0]); }
OPF(gt_leaky_relu) { return gt_leaky_relu(x[0], r->fp[0]); }
OPF(gt_tanh) { return gt_tanh(x[0]); }
OPF(gt_sigmoid) { return gt_sigmoid(x[0]); }
OPF(gt_softplus) { return gt_softplus(x[0], r->fp[0], r->fp[1]); }
OPF(gt_elu) { return gt_elu(x[0], r->fp[0]); }
OPF(gt_gt_scalar) { return gt_gt_scalar(x[0], r->fp[0]); }
OPF(gt_lt_scalar) { return gt_lt_scalar(x[0], r->fp[0]); }
/* reductions: ip = {keepdim, n, dims...} */
OPF(gt_sum) { return gt_sum(x[0], r->ip[1], r->ip + 2, r->ip[0]); }
OPF(gt_mean) { return gt_mean(x[0], r->ip[1], r->ip + 2, r->ip[0]); }
OPF(gt_sum_all) { return gt_sum_all(x[0]); }
OPF(gt_mean_all) { return gt_mean_all(x[0]); }
/* shapes: ip = {ndim, sizes...} */
static int shape_of(const row *r, int64_t *s) {
    for (int i = 0; i < r->ip[0]; i++) s[i] = r->ip[1 + i];
    return r->ip[0];
}
OPF(gt_sum_to) {
    int64_t s[GT_MAX_DIMS];
    int nd = shape_of(r, s);
    return gt_sum_to(x[0], nd, s);
}
/* ip = {dim, keepdim} */
OPF(gt_max) { return gt_max(x[0], r->ip[0], r->ip[1]); }
OPF(gt_logsumexp) { return gt_logsumexp(x[0], r->ip[0], r->ip[1]); }
OPF(gt_log_softmax) { return gt_log_softmax(x[0], r->ip[0]); }
OPF(gt_softmax) { return gt_softmax(x[0], r->ip[0]); }
OPF(gt_reshape) {
    int64_t s[GT_MAX_DIMS];
    int nd = shape_of(r, s);
    return gt_reshape(x[0], nd, s);
}
OPF(gt_flatten) { return gt_flatten(x[0], r->ip[0]); }
OPF(gt_permute) { return gt_permute(x[0], r->ip); }
OPF(gt_transpose) { return gt_transpose(x[0], r->ip[0], r->ip[1]); }
/* ip = {dim, start, end, step} */
OPF(gt_slice) { return gt_slice(x[0], r->ip[0], r->ip[1], r->ip[2], r->ip[3]); }
/* ip = {dim, n} */
OPF(gt_concat) { return gt_concat(r->ip[1], x, r->ip[0]); }
/* ip = {dim, n, sizes...}: the pieces concatenated in reverse order */
OPF(gt_split) {
    int n = r->ip[1];
    int64_t sizes[8] = {0};
    gt_tensor *p[8], *rev[8];
    for (int i = 0; i < n; i++) sizes[i] = r->ip[2 + i];
    if (gt_split(x[0], r->ip[0], n, sizes, p) != GT_OK) return NULL;
    for (int i = 0; i < n; i++) rev[i] = p[n - 1 - i];
    return gt_concat(n, rev, r->ip[0]);
}
OPF(gt_expand) {
    int64_t s[GT_MAX_DIMS];
    int nd = shape_of(r, s);
    return gt_expand(x[0], nd, s);
}
OPF(gt_contiguous) { return gt_contiguous(x[0]); }
OPF(gt_unsqueeze) { return gt_unsqueeze(x[0], r->ip[0]); }
OPF(gt_squeeze) { return gt_squeeze(x[0], r->ip[0]); }
OPF(gt_matmul) { return gt_matmul(x[0], x[1]); }
/* ip = {has bias} */
OPF(gt_linear) { return gt_linear(x[0], x[1], r->ip[0] ? x[2] : NULL); }
/* conv: ip = {sh, sw, ph, pw, dh, dw, oph, opw, groups, has bias, kh, kw} */
static gt_conv_params conv_p(const row *r) {
    gt_conv_params p = {r->ip[0], r->ip[1], r->ip[2], r->ip[3], r->ip[4], r->ip[5], r->ip[6], r->ip[7], r->ip[8]};
    return p;
}
OPF(gt_conv2d) { return gt_conv2d(x[0], x[1], r->ip[9] ? x[2] : NULL, conv_p(r)); }
OPF(gt_conv_transpose2d) { return gt_conv_transpose2d(x[0], x[1], r->ip[9] ? x[2] : NULL, conv_p(r)); }
OPF(gt_conv2d_weight_grad) { return gt_conv2d_weight_grad(x[0], x[1], r->ip[10], r->ip[11], conv_p(r)); }
/* norms: inputs x, [weight], [bias], [running mean, running var]; ip = {has w, has b, has running stats,
 * training (batch norm) / n_norm (layer norm), return the running statistics}; fp = {eps, momentum} */
static gt_tensor *copy_of(gt_tensor *t) {
    gt_tensor *c = gt_empty(t->ndim, t->shape);
    if (c) gt_copy_to(t, gt_data(c));
    return c;
}
OPF(gt_batch_norm) {
    int k = 1;
    gt_tensor *w = r->ip[0] ? x[k++] : NULL, *b = r->ip[1] ? x[k++] : NULL, *rm = NULL, *rv = NULL;
    if (r->ip[2]) rm = x[k], rv = x[k + 1];
    if (!r->ip[4]) return gt_batch_norm(x[0], w, b, rm, rv, r->ip[3], r->fp[1], r->fp[0]);
    /* the output flattened, then the running statistics after the call (updated on copies, so every
     * call sees the same inputs) */
    rm = copy_of(rm), rv = copy_of(rv);
    gt_tensor *y = gt_batch_norm(x[0], w, b, rm, rv, r->ip[3], r->fp[1], r->fp[0]);
    gt_tensor *parts[3] = {gt_reshape(y, 1, (int64_t[]){-1}), rm, rv};
    return y ? gt_concat(3, parts, 0) : NULL;
}
OPF(gt_instance_norm) {
    int k = 1;
    gt_tensor *w = r->ip[0] ? x[k++] : NULL, *b = r->ip[1] ? x[k++] : NULL;
    return gt_instance_norm(x[0], w, b, r->fp[0]);
}
OPF(gt_layer_norm) {
    int k = 1;
    gt_tensor *w = r->ip[0] ? x[k++] : NULL, *b = r->ip[1] ? x[k++] : NULL;
    return gt_layer_norm(x[0], r->ip[3], w, b, r->fp[0]);
}
/* pooling: ip = {kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad}; resampling ip = {oh, ow} */
OPF(gt_avg_pool2d) {
    const int *p = r->ip;
    return gt_avg_pool2d(x[0], p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
}
OPF(gt_max_pool2d) {
    const int *p = r->ip;
    return gt_max_pool2d(x[0], p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
}
OPF(gt_adaptive_avg_pool2d) { return gt_adaptive_avg_pool2d(x[0], r->ip[0], r->ip[1]); }
OPF(gt_upsample_nearest2d) { return gt_upsample_nearest2d(x[0], r->ip[0], r->ip[1]); }
OPF(gt_upsample_bilinear2d) { return gt_upsample_bilinear2d(x[0], r->ip[0], r->ip[1]); }
/* ip: bilinear, padding (0 zeros, 1 border, 2 reflection), align_corners, [_t: h, w]; fp[0] scales
 * the grid (a constant 'm' input, N(0, 0.3^2)) so that it leaves [-1, 1] */
OPF(gt_grid_sample) {
    return gt_grid_sample(x[0], gt_mul_scalar(x[1], r->fp[0]), r->ip[0], (gt_grid_pad)r->ip[1], r->ip[2]);
}
OPF(gt_grid_sample_t) {
    return gt_grid_sample_t(x[0], gt_mul_scalar(x[1], r->fp[0]), r->ip[3], r->ip[4], r->ip[0], (gt_grid_pad)r->ip[1],
                            r->ip[2]);
}
OPF(gt_embedding) { return gt_embedding(x[0], x[1]); }
/* ip = {training, seed}; fp = {p}: a fresh generator per call, so every call draws the same mask */
OPF(gt_dropout) {
    gt_rng g;
    gt_rng_init(&g, (uint64_t)r->ip[1]);
    return gt_dropout(x[0], r->fp[0], r->ip[0], &g);
}
OPF(gt_bce_with_logits) { return gt_bce_with_logits(x[0], x[1]); }
OPF(gt_mse_loss) { return gt_mse_loss(x[0], x[1]); }
OPF(gt_l1_loss) { return gt_l1_loss(x[0], x[1]); }
OPF(gt_cross_entropy) { return gt_cross_entropy(x[0], x[1]); }

/* --- the table ------------------------------------------------------------------- */
#define ROW(OP, VAR, IN, ...) {.op = #OP, .var = VAR, .f = f_##OP, .in = IN, __VA_ARGS__}
/* conv parameters */
#define CP(sh, sw, ph, pw, dh, dw, oph, opw, g, bias, kh, kw) .ip = {sh, sw, ph, pw, dh, dw, oph, opw, g, bias, kh, kw}
#define NOGRAD_MASK .grad = G0, .why = "a 0/1 mask: constant in x (no gradient flows, as in PyTorch)"

static const row ROWS[] = {
    /* --- elementwise, broadcasting -------------------------------------------------- */
    ROW(gt_add, "same", "3x5 3x5", .t = T_EW),
    ROW(gt_add, "bcast", "2x3x4 3x1", .t = T_EW),
    ROW(gt_add, "bcast_both", "4x1x5 3x1", .t = T_EW),
    ROW(gt_add, "strided", "3x5 3x5", .view = "ts", .t = T_EW),
    ROW(gt_add, "big_bcast", "8x64x16x16 1x64x1x1", .t = T_BIG, .big = true),
    ROW(gt_add, "0d", "3x4 0d", .t = T_EW),
    ROW(gt_add, "odd_tail", "3x1027 1027", .t = T_EW),
    ROW(gt_sub, "bcast", "1x4 2x3x4", .t = T_EW),
    ROW(gt_sub, "strided_bcast", "5x7 7", .view = "t-", .t = T_EW),
    ROW(gt_sub, "strided_both_bcast", "4x5 4x1", .view = "ts", .t = T_EW),
    ROW(gt_mul, "bcast", "2x3x4 4", .t = T_EW),
    ROW(gt_mul, "strided", "5x6 5x6", .view = "tt", .t = T_EW),
    ROW(gt_mul, "odd", "37x29 37x1", .t = T_EW),
    ROW(gt_mul, "0d_left", "0d 2x3", .t = T_EW),
    ROW(gt_mul, "big_bcast", "8x64x16x16 1x64x1x1", .t = T_BIG, .big = true),
    ROW(gt_mul, "big_chlast", "4x16x12x12 4x16x12x12", .view = "c-", .t = T_BIG, .big = true),
    ROW(gt_div, "bcast", "3x4 3x1", .dom = "ap", .t = T_EW),
    ROW(gt_div, "strided", "4x5 4x5", .dom = "ap", .view = "st", .t = T_EW),
    ROW(gt_div, "bcast_left", "3x1 3x4", .dom = "ap", .t = T_EW),
    ROW(gt_div, "big", "64x1000 1000", .dom = "ap", .t = T_BIG, .big = true),
    ROW(gt_pow, "same", "3x4 3x4", .dom = "pa", .t = T_EW),
    ROW(gt_pow, "bcast", "2x3x4 4", .dom = "pa", .t = T_EW),
    ROW(gt_pow, "strided", "4x5 4x5", .dom = "pa", .view = "t-", .t = T_EW),
    ROW(gt_add_scalar, "1.5", "3x4", .fp = {1.5f}, .t = T_EW),
    ROW(gt_add_scalar, "strided", "5x3", .view = "t", .fp = {-0.25f}, .t = T_EW),
    ROW(gt_mul_scalar, "-2.5", "3x4", .fp = {-2.5f}, .t = T_EW),
    ROW(gt_mul_scalar, "strided", "4x3", .view = "s", .fp = {0.5f}, .t = T_EW),
    ROW(gt_mul_scalar, "0", "3x4", .fp = {0.0f}, .t = T_EW),
    ROW(gt_rsub_scalar, "3", "3x4", .fp = {3.0f}, .t = T_EW),
    ROW(gt_rsub_scalar, "strided", "2x3x4", .view = "t", .fp = {-1.0f}, .t = T_EW),
    ROW(gt_pow_scalar, "3", "3x4", .fp = {3.0f}, .t = T_EW),
    ROW(gt_pow_scalar, "2_strided", "3x5", .view = "t", .fp = {2.0f}, .t = T_EW),
    ROW(gt_pow_scalar, "0.5", "3x4", .dom = "p", .fp = {0.5f}, .t = T_EW),
    ROW(gt_pow_scalar, "-1.5", "7", .dom = "p", .fp = {-1.5f}, .t = T_EW),
    ROW(gt_pow_scalar, "1", "3x4", .fp = {1.0f}, .t = T_EW),
    ROW(gt_neg, "plain", "3x4", .t = T_EW),
    ROW(gt_neg, "strided", "3x4", .view = "t", .t = T_EW),
    ROW(gt_exp, "plain", "3x4", .t = T_EW),
    ROW(gt_exp, "strided_odd", "5x7", .view = "s", .t = T_EW),
    ROW(gt_exp, "big", "64x1000", .t = T_BIG, .big = true),
    ROW(gt_exp, "odd_tail", "1027", .t = T_EW),
    ROW(gt_log, "plain", "3x4", .dom = "p", .t = T_EW),
    ROW(gt_log, "strided", "3x4", .dom = "p", .view = "t", .t = T_EW),
    ROW(gt_sqrt, "plain", "3x4", .dom = "p", .t = T_EW),
    ROW(gt_sqrt, "strided", "4x3", .dom = "p", .view = "s", .t = T_EW),
    ROW(gt_abs, "plain", "3x4", .dom = "z", .t = T_EW),
    ROW(gt_abs, "strided", "3x4", .dom = "z", .view = "t", .t = T_EW),
    ROW(gt_abs, "wide", "4x5", .dom = "b", .t = T_EW),
    ROW(gt_clamp, "both", "3x4", .fp = {-0.5f, 0.7f}, .navoid = 2, .avoid = {-0.5f, 0.7f}, .t = T_EW),
    ROW(gt_clamp, "lo_only", "4x5", .fp = {-0.3f, INFINITY}, .navoid = 1, .avoid = {-0.3f}, .t = T_EW),
    ROW(gt_clamp, "hi_only_strided", "4x5", .view = "t", .fp = {-INFINITY, 0.2f}, .navoid = 1, .avoid = {0.2f},
        .t = T_EW),
    ROW(gt_clamp, "big", "64x1000", .fp = {-0.5f, 0.7f}, .t = T_BIG, .big = true),
    /* --- activations -------------------------------------------------------------------- */
    ROW(gt_relu, "plain", "2x3x4", .dom = "z", .t = T_EW),
    ROW(gt_relu, "strided", "3x5", .dom = "z", .view = "t", .t = T_EW),
    ROW(gt_relu, "big", "8x64x16x16", .t = T_BIG, .big = true),
    ROW(gt_relu, "odd_tail", "1027", .dom = "z", .t = T_EW),
    ROW(gt_leaky_relu, "0.2", "2x3x4", .dom = "z", .fp = {0.2f}, .t = T_EW),
    ROW(gt_leaky_relu, "0.01_strided", "4x6", .dom = "z", .view = "s", .fp = {0.01f}, .t = T_EW),
    ROW(gt_tanh, "plain", "3x4", .t = T_EW),
    ROW(gt_tanh, "strided", "2x3x5", .view = "t", .t = T_EW),
    ROW(gt_tanh, "big_chlast", "4x16x12x12", .view = "c", .t = T_BIG, .big = true),
    ROW(gt_tanh, "saturating", "4x5", .dom = "b", .t = T_EW),
    ROW(gt_tanh, "odd_tail", "3x1001", .t = T_EW),
    ROW(gt_sigmoid, "plain", "3x4", .t = T_EW),
    ROW(gt_sigmoid, "strided", "3x4", .view = "s", .t = T_EW),
    ROW(gt_sigmoid, "saturating", "4x5", .dom = "b", .t = T_EW),
    ROW(gt_sigmoid, "big", "64x1000", .t = T_BIG, .big = true),
    ROW(gt_softplus, "defaults", "3x4", .fp = {1.0f, 20.0f}, .t = T_EW),
    ROW(gt_softplus, "beta2_thr3", "4x5", .fp = {2.0f, 3.0f}, .navoid = 1, .avoid = {1.5f}, .t = T_EW),
    ROW(gt_softplus, "strided", "3x4", .view = "t", .fp = {0.5f, 1.0f}, .navoid = 1, .avoid = {2.0f}, .t = T_EW),
    ROW(gt_softplus, "wide", "4x5", .dom = "b", .fp = {1.0f, 20.0f}, .navoid = 2, .avoid = {20.0f, -20.0f},
        .t = T_EW),
    ROW(gt_elu, "0.7", "3x4", .dom = "z", .fp = {0.7f}, .t = T_EW),
    ROW(gt_elu, "1_strided", "4x3", .dom = "z", .view = "t", .fp = {1.0f}, .t = T_EW),
    ROW(gt_elu, "wide", "4x5", .dom = "b", .fp = {1.0f}, .t = T_EW),
    ROW(gt_gt_scalar, "0.3", "4x5", .fp = {0.3f}, .navoid = 1, .avoid = {0.3f}, NOGRAD_MASK, .t = T_VIEW),
    ROW(gt_gt_scalar, "strided", "4x5", .view = "t", .fp = {-0.2f}, .navoid = 1, .avoid = {-0.2f}, NOGRAD_MASK,
        .t = T_VIEW),
    ROW(gt_lt_scalar, "0", "4x5", .fp = {0.0f}, .navoid = 1, .avoid = {0.0f}, NOGRAD_MASK, .t = T_VIEW),
    ROW(gt_lt_scalar, "strided", "3x6", .view = "s", .fp = {0.5f}, .navoid = 1, .avoid = {0.5f}, NOGRAD_MASK,
        .t = T_VIEW),
    /* --- reductions ----------------------------------------------------------------------- */
    ROW(gt_sum, "d0", "3x4x5", .ip = {0, 1, 0}, .t = T_RED),
    ROW(gt_sum, "d1_keep", "3x4x5", .ip = {1, 1, 1}, .t = T_RED),
    ROW(gt_sum, "d-1", "3x4x5", .ip = {0, 1, -1}, .t = T_RED),
    ROW(gt_sum, "d0d2", "2x3x4", .ip = {0, 2, 0, 2}, .t = T_RED),
    ROW(gt_sum, "d1d3_keep", "2x3x4x5", .ip = {1, 2, 1, 3}, .t = T_RED),
    ROW(gt_sum, "all_keep", "3x4", .ip = {1, 0}, .t = T_RED),
    ROW(gt_sum, "all", "3x4", .ip = {0, 0}, .t = T_RED),
    ROW(gt_sum, "strided_d1", "4x6", .view = "t", .ip = {0, 1, 1}, .t = T_RED),
    ROW(gt_sum, "big_d023", "8x64x16x16", .ip = {0, 3, 0, 2, 3}, .t = T_BIG, .big = true),
    ROW(gt_sum, "d2d0_unsorted", "2x3x4", .ip = {0, 2, 2, 0}, .t = T_RED),
    ROW(gt_sum, "d-1d0_keep", "2x3x4x5", .ip = {1, 2, -1, 0}, .t = T_RED),
    ROW(gt_sum, "d1_of_4d", "2x3x4x5", .ip = {0, 1, 1}, .t = T_RED),
    ROW(gt_sum, "chlast_d23", "2x3x4x5", .view = "c", .ip = {0, 2, 2, 3}, .t = T_RED),
    ROW(gt_sum, "big_d1_keep", "64x1000", .ip = {1, 1, 1}, .t = T_BIG, .big = true),
    ROW(gt_mean, "d0", "3x4x5", .ip = {0, 1, 0}, .t = T_RED),
    ROW(gt_mean, "d2_keep", "3x4x5", .ip = {1, 1, 2}, .t = T_RED),
    ROW(gt_mean, "d-2d-1", "2x3x4x5", .ip = {0, 2, -2, -1}, .t = T_RED),
    ROW(gt_mean, "d1d3_keep", "2x3x4x5", .ip = {1, 2, 1, 3}, .t = T_RED),
    ROW(gt_mean, "all", "5x3", .ip = {0, 0}, .t = T_RED),
    ROW(gt_mean, "strided_d0_keep", "5x4", .view = "s", .ip = {1, 1, 0}, .t = T_RED),
    ROW(gt_mean, "all_keep_3d", "2x3x4", .ip = {1, 0}, .t = T_RED),
    ROW(gt_mean, "big_d0", "1000x64", .ip = {0, 1, 0}, .t = T_BIG, .big = true),
    ROW(gt_sum_all, "plain", "3x4", .t = T_RED),
    ROW(gt_sum_all, "strided", "2x3x5", .view = "t", .t = T_RED),
    ROW(gt_mean_all, "plain", "3x4", .t = T_RED),
    ROW(gt_mean_all, "strided", "4x5", .view = "s", .t = T_RED),
    ROW(gt_sum_to, "2x3x4_to_3x1", "2x3x4", .ip = {2, 3, 1}, .t = T_RED),
    ROW(gt_sum_to, "to_1x3x4", "2x3x4", .ip = {3, 1, 3, 4}, .t = T_RED),
    ROW(gt_sum_to, "to_4", "2x3x4", .ip = {1, 4}, .t = T_RED),
    ROW(gt_sum_to, "to_1", "5x3", .ip = {1, 1}, .t = T_RED),
    ROW(gt_sum_to, "same", "3x4", .ip = {2, 3, 4}, .t = T_RED),
    ROW(gt_sum_to, "strided", "4x5", .view = "t", .ip = {2, 1, 5}, .t = T_RED),
    ROW(gt_sum_to, "to_2x1x4", "2x3x4", .ip = {3, 2, 1, 4}, .t = T_RED),
    ROW(gt_max, "d1", "2x5x3", .dom = "d", .ip = {1, 0}, .t = T_RED),
    ROW(gt_max, "d0_keep", "4x3", .dom = "d", .ip = {0, 1}, .t = T_RED),
    ROW(gt_max, "d-1", "3x2x7", .dom = "d", .ip = {-1, 0}, .t = T_RED),
    ROW(gt_max, "strided_d1_keep", "3x6", .dom = "d", .view = "t", .ip = {1, 1}, .t = T_RED),
    ROW(gt_max, "sq", "3x4", .dom = "d", .ip = {1, 0}, .post = P_SQ, .t = T_RED),
    ROW(gt_max, "d2_of_4d_keep", "2x3x4x5", .dom = "d", .ip = {2, 1}, .t = T_RED),
    ROW(gt_max, "big_d1", "64x1000", .dom = "d", .ip = {1, 0}, .t = T_BIG, .big = true),
    ROW(gt_logsumexp, "d-1", "3x5", .ip = {-1, 0}, .t = T_RED),
    ROW(gt_logsumexp, "d0_keep", "4x3x2", .ip = {0, 1}, .t = T_RED),
    ROW(gt_logsumexp, "strided_d1", "3x6", .view = "t", .ip = {1, 0}, .t = T_RED),
    ROW(gt_logsumexp, "big_logits", "4x5", .dom = "b", .ip = {1, 1}, .t = T_RED),
    ROW(gt_logsumexp, "d1_of_3d", "2x4x3", .ip = {1, 0}, .t = T_RED),
    ROW(gt_logsumexp, "strided_d-1_keep", "3x5", .view = "s", .ip = {-1, 1}, .t = T_RED),
    ROW(gt_log_softmax, "d1", "3x5", .ip = {1}, .t = T_RED),
    ROW(gt_log_softmax, "d0", "4x3x2", .ip = {0}, .t = T_RED),
    ROW(gt_log_softmax, "d-1_strided", "3x7", .view = "t", .ip = {-1}, .t = T_RED),
    ROW(gt_log_softmax, "big_rows", "64x1000", .ip = {1}, .t = T_BIG, .big = true),
    ROW(gt_log_softmax, "d1_chlast", "2x3x4x5", .view = "c", .ip = {1}, .t = T_RED),
    ROW(gt_log_softmax, "big_logits", "4x5", .dom = "b", .ip = {1}, .t = T_RED),
    ROW(gt_softmax, "d0", "3x5", .ip = {0}, .t = T_RED),
    ROW(gt_softmax, "d1", "2x4x3", .ip = {1}, .t = T_RED),
    ROW(gt_softmax, "d-1_strided", "3x6", .view = "s", .ip = {-1}, .t = T_RED),
    ROW(gt_softmax, "big_logits", "4x5", .dom = "b", .ip = {-1}, .t = T_RED),
    ROW(gt_softmax, "d2_of_4d", "2x3x4x5", .ip = {2}, .t = T_RED),
    ROW(gt_softmax, "d1_chlast", "2x3x4x5", .view = "c", .ip = {1}, .t = T_RED),
    ROW(gt_softmax, "big_rows", "64x1000", .ip = {-1}, .t = T_BIG, .big = true),
    /* --- views and shape ------------------------------------------------------------------- */
    ROW(gt_reshape, "infer", "2x3x4", .ip = {2, -1, 6}, .t = T_VIEW),
    ROW(gt_reshape, "strided", "4x6", .view = "t", .ip = {3, 2, 3, 4}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_reshape, "to_1d", "2x3x4", .ip = {1, -1}, .t = T_VIEW),
    ROW(gt_reshape, "add_ones", "6x4", .ip = {4, 1, 6, 1, 4}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_flatten, "1", "2x3x4", .ip = {1}, .t = T_VIEW),
    ROW(gt_flatten, "0", "2x3x4", .ip = {0}, .t = T_VIEW),
    ROW(gt_flatten, "2_strided", "2x3x4x5", .view = "c", .ip = {2}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_flatten, "1_chlast", "2x3x4x5", .view = "c", .ip = {1}, .t = T_VIEW),
    ROW(gt_flatten, "-1", "2x3x4", .ip = {-1}, .t = T_VIEW),
    ROW(gt_permute, "201", "2x3x4", .ip = {2, 0, 1}, .t = T_VIEW),
    ROW(gt_permute, "nhwc", "2x3x4x5", .ip = {0, 2, 3, 1}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_permute, "120_strided", "2x3x4", .view = "t", .ip = {1, 2, 0}, .t = T_VIEW),
    ROW(gt_permute, "identity", "2x3x4", .ip = {0, 1, 2}, .t = T_VIEW),
    ROW(gt_transpose, "01", "3x5", .ip = {0, 1}, .t = T_VIEW),
    ROW(gt_transpose, "-1-3", "2x3x4", .ip = {-1, -3}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_transpose, "02_of_4d", "2x3x4x5", .ip = {0, 2}, .t = T_VIEW),
    ROW(gt_transpose, "same_dim", "3x4", .ip = {1, 1}, .t = T_VIEW),
    ROW(gt_slice, "step2", "3x6", .ip = {1, 1, 5, 2}, .t = T_VIEW),
    ROW(gt_slice, "neg_start", "5x4", .ip = {0, -3, 5, 1}, .t = T_VIEW),
    ROW(gt_slice, "past_end_step3", "2x3x8", .ip = {-1, 1, 100, 3}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_slice, "strided", "4x6", .view = "t", .ip = {0, 1, 4, 2}, .t = T_VIEW),
    ROW(gt_slice, "full", "3x4", .ip = {0, 0, 100, 1}, .t = T_VIEW),
    ROW(gt_slice, "step_past_len", "3x4", .ip = {1, 0, 3, 5}, .t = T_VIEW),
    ROW(gt_slice, "neg_end", "3x5", .ip = {-1, 0, -1, 1}, .t = T_VIEW),
    ROW(gt_concat, "d1", "3x2 3x4", .ip = {1, 2}, .t = T_VIEW),
    ROW(gt_concat, "d0_three", "1x3 2x3 4x3", .ip = {0, 3}, .t = T_VIEW),
    ROW(gt_concat, "d-1_strided", "2x3x2 2x3x3", .view = "ts", .ip = {-1, 2}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_concat, "six", "2x1 2x2 2x3 2x1 2x2 2x1", .ip = {1, 6}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_concat, "d0_chlast", "2x3x4x5 1x3x4x5", .view = "c-", .ip = {0, 2}, .t = T_VIEW),
    ROW(gt_split, "d1_rev", "3x6", .ip = {1, 3, 1, 2, 3}, .t = T_VIEW),
    ROW(gt_split, "d0_strided", "5x4", .view = "t", .ip = {0, 2, 3, 2}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_split, "d-1_four", "3x10", .ip = {-1, 4, 1, 2, 3, 4}, .t = T_VIEW),
    ROW(gt_expand, "4x1_to_3x4x5", "4x1", .ip = {3, 3, 4, 5}, .t = T_RED),
    ROW(gt_expand, "1x3x1_sq", "1x3x1", .ip = {3, 2, 3, 4}, .post = P_SQ, .t = T_RED),
    ROW(gt_expand, "strided", "3x1", .view = "t", .ip = {3, 2, 3, 5}, .t = T_RED),
    ROW(gt_expand, "0d_to_2x3", "0d", .ip = {2, 2, 3}, .t = T_RED),
    ROW(gt_expand, "new_lead_dims", "4", .ip = {3, 2, 3, 4}, .post = P_SQ, .t = T_RED),
    ROW(gt_contiguous, "transposed", "3x5", .view = "t", .t = T_VIEW),
    ROW(gt_contiguous, "chlast_sq", "2x3x4x5", .view = "c", .post = P_SQ, .t = T_VIEW),
    ROW(gt_contiguous, "already", "3x4", .t = T_VIEW),
    ROW(gt_contiguous, "step", "3x4", .view = "s", .t = T_VIEW),
    ROW(gt_unsqueeze, "0", "3x4", .ip = {0}, .t = T_VIEW),
    ROW(gt_unsqueeze, "-1", "3x4", .ip = {-1}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_unsqueeze, "1_strided", "3x4", .view = "t", .ip = {1}, .t = T_VIEW),
    ROW(gt_unsqueeze, "3_of_3d", "2x3x4", .ip = {3}, .t = T_VIEW),
    ROW(gt_squeeze, "1", "3x1x4", .ip = {1}, .t = T_VIEW),
    ROW(gt_squeeze, "-1_sq", "3x4x1", .ip = {-1}, .post = P_SQ, .t = T_VIEW),
    ROW(gt_squeeze, "0", "1x5", .ip = {0}, .t = T_VIEW),
    ROW(gt_squeeze, "strided", "1x4", .view = "t", .ip = {0}, .t = T_VIEW),
    /* --- linear algebra ----------------------------------------------------------------------- */
    ROW(gt_matmul, "mm", "3x4 4x5", .t = T_MM),
    ROW(gt_matmul, "mm_odd", "7x13 13x5", .t = T_MM),
    ROW(gt_matmul, "bmm", "2x3x4 2x4x5", .t = T_MM),
    ROW(gt_matmul, "bmm_shared_b", "2x3x4 4x5", .t = T_MM),
    ROW(gt_matmul, "bmm_shared_a", "3x4 2x4x5", .t = T_MM),
    ROW(gt_matmul, "bmm_batch1", "1x3x4 2x4x5", .t = T_MM),
    ROW(gt_matmul, "mm_tt", "3x4 4x5", .view = "tt", .t = T_MM),
    ROW(gt_matmul, "mm_step", "3x4 4x5", .view = "s-", .t = T_MM),
    ROW(gt_matmul, "outer", "4x1 1x3", .t = T_MM),
    ROW(gt_matmul, "odd_edges", "33x65 65x17", .t = T_MM),
    ROW(gt_matmul, "bmm_tt", "2x3x4 2x4x5", .view = "tt", .t = T_MM),
    ROW(gt_matmul, "bmm_step_b", "2x3x4 4x5", .view = "-s", .t = T_MM),
    ROW(gt_matmul, "k1", "5x1 1x7", .t = T_MM),
    ROW(gt_matmul, "big", "96x200 200x72", .t = T_BIG, .big = true),
    ROW(gt_linear, "bias", "2x3x4 5x4 5", .ip = {1}, .t = T_MM),
    ROW(gt_linear, "nobias_1d", "4 5x4", .ip = {0}, .t = T_MM),
    ROW(gt_linear, "4d", "2x1x3x4 5x4 5", .ip = {1}, .t = T_MM),
    ROW(gt_linear, "strided", "3x4 5x4 5", .view = "tt-", .ip = {1}, .t = T_MM),
    ROW(gt_linear, "odd", "7x13 9x13 9", .ip = {1}, .t = T_MM),
    ROW(gt_linear, "step_x_nobias", "2x3x4 5x4", .view = "s-", .ip = {0}, .t = T_MM),
    ROW(gt_linear, "big", "4x16x128 64x128 64", .ip = {1}, .t = T_BIG, .big = true),
    /* --- convolution ----------------------------------------------------------------------------- */
    ROW(gt_conv2d, "s2_bias", "2x3x7x6 4x3x3x3 4", CP(2, 2, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "pad_asym", "2x3x5x5 5x3x3x3 5", CP(1, 1, 1, 2, 1, 1, 0, 0, 1, 1, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "dil2", "2x2x9x8 3x2x3x2", CP(1, 1, 1, 1, 2, 2, 0, 0, 1, 0, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "groups2", "2x4x6x6 6x2x3x3 6", CP(1, 1, 1, 1, 1, 1, 0, 0, 2, 1, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "odd_k4x3_s3x2", "3x3x11x9 4x3x4x3", CP(3, 2, 2, 1, 1, 1, 0, 0, 1, 0, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "1x1", "2x5x4x4 3x5x1x1 3", CP(1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "dcgan_k4s2p1", "2x8x16x16 16x8x4x4", CP(2, 2, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "strided_x", "2x3x7x6 4x3x3x3", .view = "t-", CP(1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0),
        .t = T_CONV),
    ROW(gt_conv2d, "chlast_x", "2x3x6x5 4x3x3x3 4", .view = "c--", CP(2, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0),
        .t = T_CONV),
    ROW(gt_conv2d, "depthwise", "2x4x6x6 4x1x3x3 4", CP(1, 1, 1, 1, 1, 1, 0, 0, 4, 1, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "s2_dil2", "1x2x11x11 3x2x3x3 3", CP(2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "pad_w_only", "2x2x5x6 3x2x3x3", CP(1, 1, 0, 2, 1, 1, 0, 0, 1, 0, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "k_eq_input", "2x3x4x4 5x3x4x4 5", CP(1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "groups3_rect", "1x6x7x5 9x2x2x3 9", CP(1, 2, 1, 0, 1, 1, 0, 0, 3, 1, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "s2_k1", "2x3x5x5 4x3x1x1", CP(2, 2, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0), .t = T_CONV),
    ROW(gt_conv2d, "big_wino", "2x16x20x20 24x16x3x3 24", CP(1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0), .t = T_BIG,
        .big = true),
    ROW(gt_conv2d, "big_dcgan", "2x64x32x32 128x64x4x4", CP(2, 2, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0), .t = T_BIG,
        .big = true),
    ROW(gt_conv_transpose2d, "s2_op1_bias", "2x4x5x5 4x3x3x3 3", CP(2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
        .t = T_CONV),
    ROW(gt_conv_transpose2d, "dcgan", "2x16x4x4 16x8x4x4", CP(2, 2, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0), .t = T_CONV),
    ROW(gt_conv_transpose2d, "first_1x1in", "3x10x1x1 10x6x4x4 6", CP(1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0),
        .t = T_CONV),
    ROW(gt_conv_transpose2d, "groups2_dil2", "2x4x5x4 4x3x3x3 6", CP(1, 1, 1, 1, 2, 2, 0, 0, 2, 1, 0, 0),
        .t = T_CONV),
    ROW(gt_conv_transpose2d, "odd", "2x3x4x5 3x2x3x2", CP(2, 3, 1, 0, 1, 1, 1, 2, 1, 0, 0, 0), .t = T_CONV),
    ROW(gt_conv_transpose2d, "op_dil", "1x2x4x4 2x2x3x3", CP(1, 1, 0, 0, 2, 2, 1, 1, 1, 0, 0, 0), .t = T_CONV),
    ROW(gt_conv_transpose2d, "strided_x", "2x4x5x4 4x3x3x3", .view = "c-", CP(2, 2, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0),
        .t = T_CONV),
    ROW(gt_conv_transpose2d, "depthwise", "2x4x4x4 4x1x3x3 4", CP(2, 2, 1, 1, 1, 1, 1, 1, 4, 1, 0, 0), .t = T_CONV),
    ROW(gt_conv_transpose2d, "s3_k2", "1x2x3x3 2x3x2x2", CP(3, 3, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0), .t = T_CONV),
    ROW(gt_conv_transpose2d, "out_pad_w", "2x3x4x4 3x2x3x3 2", CP(2, 2, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0), .t = T_CONV),
    ROW(gt_conv_transpose2d, "s1_k3_pad", "2x3x5x6 3x4x3x3", CP(1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0), .t = T_CONV),
    ROW(gt_conv_transpose2d, "big", "2x64x16x16 64x32x4x4", CP(2, 2, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0), .t = T_BIG,
        .big = true),
    ROW(gt_conv2d_weight_grad, "s2", "2x3x7x7 2x4x3x3", CP(2, 2, 0, 0, 1, 1, 0, 0, 1, 0, 3, 3), .t = T_CONV),
    ROW(gt_conv2d_weight_grad, "g2", "2x4x6x6 2x6x6x6", CP(1, 1, 1, 1, 1, 1, 0, 0, 2, 0, 3, 3), .t = T_CONV),
    ROW(gt_conv2d_weight_grad, "dil", "1x2x8x7 1x3x4x3", CP(1, 2, 0, 1, 2, 2, 0, 0, 1, 0, 3, 3), .t = T_CONV),
    ROW(gt_conv2d_weight_grad, "strided", "2x3x6x5 2x4x3x3", .view = "ct", CP(2, 2, 1, 1, 1, 1, 0, 0, 1, 0, 3, 2),
        .t = T_CONV),
    ROW(gt_conv2d_weight_grad, "depthwise", "2x4x6x6 2x4x6x6", CP(1, 1, 1, 1, 1, 1, 0, 0, 4, 0, 3, 3), .t = T_CONV),
    ROW(gt_conv2d_weight_grad, "k4s2p1", "2x3x8x8 2x5x4x4", CP(2, 2, 1, 1, 1, 1, 0, 0, 1, 0, 4, 4), .t = T_CONV),
    ROW(gt_conv2d_weight_grad, "1x1", "2x3x4x5 2x2x4x5", CP(1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1), .t = T_CONV),
    ROW(gt_conv2d_weight_grad, "big", "4x16x20x20 4x8x10x10", CP(2, 2, 1, 1, 1, 1, 0, 0, 1, 0, 4, 4), .t = T_BIG,
        .big = true),
    /* --- normalisation ---------------------------------------------------------------------------- */
    ROW(gt_batch_norm, "4d_train", "3x4x5x7 4 4", .ip = {1, 1, 0, 1}, .fp = {1e-5f, 0.1f}, .t = T_NORM),
    ROW(gt_batch_norm, "4d_train_rs", "2x3x2x5 3 3 3", .dom = "aamv", .ip = {1, 0, 1, 1}, .fp = {1e-3f, 0.5f},
        .t = T_NORM),
    ROW(gt_batch_norm, "4d_train_plain", "2x3x3x3", .ip = {0, 0, 0, 1}, .fp = {1e-5f, 0.1f}, .t = T_NORM),
    ROW(gt_batch_norm, "3d_train_b", "4x3x6 3", .ip = {0, 1, 0, 1}, .fp = {1e-5f, 0.2f}, .t = T_NORM),
    ROW(gt_batch_norm, "2d_train", "6x5 5 5", .ip = {1, 1, 0, 1}, .fp = {1e-3f, 0.3f}, .t = T_NORM),
    ROW(gt_batch_norm, "4d_eval", "3x4x5x7 4 4 4 4", .dom = "aaamv", .ip = {1, 1, 1, 0}, .fp = {1e-5f, 0.1f},
        .t = T_NORM),
    ROW(gt_batch_norm, "2d_eval", "6x5 5 5 5", .dom = "aamv", .ip = {0, 1, 1, 0}, .fp = {1e-2f, 0.1f}, .t = T_NORM),
    ROW(gt_batch_norm, "chlast_train", "3x2x4x5 2 2", .view = "c--", .ip = {1, 1, 0, 1}, .fp = {1e-5f, 0.1f},
        .t = T_NORM),
    ROW(gt_batch_norm, "3d_eval", "4x3x6 3 3 3 3", .dom = "aaamv", .ip = {1, 1, 1, 0}, .fp = {1e-5f, 0.1f},
        .t = T_NORM),
    /* two samples: every output is +-1, strongly curved; a smaller finite-difference step */
    ROW(gt_batch_norm, "2d_batch2", "2x3", .ip = {0, 0, 0, 1}, .fp = {1e-5f, 0.1f},
        .t = {1e-4f, 1e-4f, 1e-4f, 1e-4f, 3e-2f, 5e-3f, 2e-3f}),
    ROW(gt_batch_norm, "strided_2d_train", "5x4 4 4", .view = "t--", .ip = {1, 1, 0, 1}, .fp = {1e-5f, 0.1f},
        .t = T_NORM),
    ROW(gt_batch_norm, "running_stats_4d", "3x4x5x7 4 4 4 4", .dom = "aaamv", .ip = {1, 1, 1, 1, 1},
        .fp = {1e-5f, 0.1f}, .grad = G0, .why = "returns the updated running statistics: state, outside autograd",
        .t = T_NORM),
    ROW(gt_batch_norm, "running_stats_2d", "6x5 5 5", .dom = "amv", .ip = {0, 0, 1, 1, 1}, .fp = {1e-5f, 0.7f},
        .grad = G0, .why = "returns the updated running statistics: state, outside autograd", .t = T_NORM),
    ROW(gt_batch_norm, "running_stats_eval", "2x3x4x4 3 3", .dom = "amv", .ip = {0, 0, 1, 0, 1},
        .fp = {1e-5f, 0.3f}, .grad = G0, .why = "returns the (unchanged) running statistics: state", .t = T_NORM),
    ROW(gt_batch_norm, "big_train", "8x16x12x12 16 16", .ip = {1, 1, 0, 1}, .fp = {1e-5f, 0.1f}, .t = T_BIG,
        .big = true),
    ROW(gt_batch_norm, "big_2d_train", "128x600 600 600", .ip = {1, 1, 0, 1}, .fp = {1e-5f, 0.1f}, .t = T_BIG,
        .big = true),
    ROW(gt_batch_norm, "big_eval", "8x16x12x12 16 16 16 16", .dom = "aaamv", .ip = {1, 1, 1, 0},
        .fp = {1e-5f, 0.1f}, .t = T_BIG, .big = true),
    ROW(gt_instance_norm, "affine", "2x3x4x5 3 3", .ip = {1, 1}, .fp = {1e-5f}, .t = T_NORM),
    ROW(gt_instance_norm, "plain", "3x2x3x3", .ip = {0, 0}, .fp = {1e-5f}, .t = T_NORM),
    ROW(gt_instance_norm, "3d_w", "2x3x7 3", .ip = {1, 0}, .fp = {1e-3f}, .t = T_NORM),
    ROW(gt_instance_norm, "chlast", "2x3x4x5 3", .view = "c-", .ip = {0, 1}, .fp = {1e-5f}, .t = T_NORM),
    ROW(gt_instance_norm, "strided", "2x3x5x4 3 3", .view = "t--", .ip = {1, 1}, .fp = {1e-5f}, .t = T_NORM),
    ROW(gt_instance_norm, "big", "4x16x24x24 16 16", .ip = {1, 1}, .fp = {1e-5f}, .t = T_BIG, .big = true),
    ROW(gt_layer_norm, "last2", "3x4x5 4x5 4x5", .ip = {1, 1, 0, 2}, .fp = {1e-5f}, .t = T_NORM),
    ROW(gt_layer_norm, "last1_plain", "4x6", .ip = {0, 0, 0, 1}, .fp = {1e-5f}, .t = T_NORM),
    ROW(gt_layer_norm, "all_w", "2x3x4 2x3x4", .ip = {1, 0, 0, 3}, .fp = {1e-4f}, .t = T_NORM),
    ROW(gt_layer_norm, "strided", "3x5 5", .view = "t-", .ip = {0, 1, 0, 1}, .fp = {1e-5f}, .t = T_NORM),
    ROW(gt_layer_norm, "last3_of_4d", "2x3x4x5 3x4x5 3x4x5", .ip = {1, 1, 0, 3}, .fp = {1e-5f}, .t = T_NORM),
    ROW(gt_layer_norm, "b_only", "4x7 7", .ip = {0, 1, 0, 1}, .fp = {1e-5f}, .t = T_NORM),
    ROW(gt_layer_norm, "big", "8x64x96 96 96", .ip = {1, 1, 0, 1}, .fp = {1e-5f}, .t = T_BIG, .big = true),
    /* --- pooling and resampling --------------------------------------------------------------------- */
    ROW(gt_avg_pool2d, "k3s2p1", "2x3x7x9", .ip = {3, 3, 2, 2, 1, 1, 0, 1}, .t = T_POOL),
    ROW(gt_avg_pool2d, "k3s2p1_nocip", "2x3x7x9", .ip = {3, 3, 2, 2, 1, 1, 0, 0}, .t = T_POOL),
    ROW(gt_avg_pool2d, "ceil_partial", "2x2x8x8", .ip = {3, 3, 2, 2, 0, 0, 1, 1}, .t = T_POOL),
    ROW(gt_avg_pool2d, "ceil_pad_nocip", "1x2x5x6", .ip = {2, 2, 2, 2, 1, 1, 1, 0}, .post = P_SQ, .t = T_POOL),
    ROW(gt_avg_pool2d, "ceil_last_dropped", "1x2x4x4", .ip = {2, 2, 3, 3, 1, 1, 1, 1}, .t = T_POOL),
    ROW(gt_avg_pool2d, "rect", "2x2x6x5", .ip = {3, 2, 2, 1, 1, 0, 0, 0}, .post = P_SQ, .t = T_POOL),
    ROW(gt_avg_pool2d, "chlast", "2x3x6x7", .view = "c", .ip = {2, 2, 2, 2, 0, 0, 0, 1}, .t = T_POOL),
    ROW(gt_avg_pool2d, "k1s2", "2x3x5x5", .ip = {1, 1, 2, 2, 0, 0, 0, 1}, .t = T_POOL),
    ROW(gt_avg_pool2d, "s_gt_k", "2x2x8x7", .ip = {2, 2, 3, 3, 0, 0, 0, 1}, .t = T_POOL),
    ROW(gt_avg_pool2d, "pad_w_only", "2x2x6x6", .ip = {3, 3, 1, 1, 0, 1, 0, 0}, .t = T_POOL),
    ROW(gt_avg_pool2d, "ceil_pad_cip", "1x2x5x6", .ip = {2, 2, 2, 2, 1, 1, 1, 1}, .t = T_POOL),
    ROW(gt_avg_pool2d, "big", "4x16x32x32", .ip = {3, 3, 2, 2, 1, 1, 1, 0}, .t = T_BIG, .big = true),
    ROW(gt_max_pool2d, "k3s2p1", "2x3x7x9", .dom = "d", .ip = {3, 3, 2, 2, 1, 1, 0}, .t = T_POOL),
    ROW(gt_max_pool2d, "ceil_pad", "1x2x5x6", .dom = "d", .ip = {2, 2, 2, 2, 1, 1, 1}, .t = T_POOL),
    ROW(gt_max_pool2d, "ceil_last_dropped", "1x2x4x4", .dom = "d", .ip = {2, 2, 3, 3, 1, 1, 1}, .t = T_POOL),
    ROW(gt_max_pool2d, "rect_sq", "2x2x6x5", .dom = "d", .ip = {3, 2, 1, 2, 1, 1, 0}, .post = P_SQ, .t = T_POOL),
    ROW(gt_max_pool2d, "overlap", "2x2x5x5", .dom = "d", .ip = {3, 3, 1, 1, 1, 1, 0}, .t = T_POOL),
    ROW(gt_max_pool2d, "strided", "2x3x6x6", .dom = "d", .view = "t", .ip = {2, 2, 2, 2, 0, 0, 0}, .post = P_SQ,
        .t = T_POOL),
    ROW(gt_max_pool2d, "k1s2", "2x3x5x5", .dom = "d", .ip = {1, 1, 2, 2, 0, 0, 0}, .t = T_POOL),
    ROW(gt_max_pool2d, "s_gt_k", "2x2x8x7", .dom = "d", .ip = {2, 2, 3, 3, 0, 0, 0}, .t = T_POOL),
    ROW(gt_max_pool2d, "pad_w_only_chlast", "2x2x6x6", .dom = "d", .view = "c", .ip = {3, 3, 1, 1, 0, 1, 0},
        .t = T_POOL),
    ROW(gt_max_pool2d, "2x2", "2x3x8x8", .dom = "d", .ip = {2, 2, 2, 2, 0, 0, 0}, .t = T_POOL),
    ROW(gt_max_pool2d, "big", "4x16x32x32", .dom = "d", .ip = {3, 3, 2, 2, 1, 1, 1}, .t = T_BIG, .big = true),
    ROW(gt_adaptive_avg_pool2d, "down", "2x3x7x9", .ip = {3, 4}, .t = T_POOL),
    ROW(gt_adaptive_avg_pool2d, "up_sq", "1x2x4x5", .ip = {6, 7}, .post = P_SQ, .t = T_POOL),
    ROW(gt_adaptive_avg_pool2d, "global", "2x3x5x5", .ip = {1, 1}, .t = T_POOL),
    ROW(gt_adaptive_avg_pool2d, "strided", "2x3x6x5", .view = "c", .ip = {4, 3}, .t = T_POOL),
    ROW(gt_adaptive_avg_pool2d, "row", "2x3x7x9", .ip = {1, 7}, .t = T_POOL),
    ROW(gt_adaptive_avg_pool2d, "up_odd", "1x2x3x5", .ip = {7, 11}, .t = T_POOL),
    ROW(gt_adaptive_avg_pool2d, "same", "1x2x5x5", .ip = {5, 5}, .t = T_POOL),
    ROW(gt_adaptive_avg_pool2d, "big", "4x16x17x23", .ip = {5, 6}, .t = T_BIG, .big = true),
    ROW(gt_upsample_nearest2d, "5to7", "2x3x5x5", .ip = {7, 7}, .t = T_POOL),
    ROW(gt_upsample_nearest2d, "7to3", "2x2x7x7", .ip = {3, 3}, .t = T_POOL),
    ROW(gt_upsample_nearest2d, "2x_sq", "2x3x4x4", .ip = {8, 8}, .post = P_SQ, .t = T_POOL),
    ROW(gt_upsample_nearest2d, "mixed_strided", "1x2x3x5", .view = "t", .ip = {6, 4}, .t = T_POOL),
    ROW(gt_upsample_nearest2d, "3to10", "1x2x3x3", .ip = {10, 10}, .t = T_POOL),
    ROW(gt_upsample_nearest2d, "1to4", "2x2x1x1", .ip = {4, 4}, .t = T_POOL),
    ROW(gt_upsample_nearest2d, "6to1_sq", "1x2x6x6", .ip = {1, 1}, .post = P_SQ, .t = T_POOL),
    ROW(gt_upsample_nearest2d, "same", "1x2x5x5", .ip = {5, 5}, .t = T_POOL),
    ROW(gt_upsample_nearest2d, "big", "4x16x16x16", .ip = {32, 32}, .t = T_BIG, .big = true),
    ROW(gt_upsample_bilinear2d, "5to7", "2x3x5x5", .ip = {7, 7}, .t = T_POOL),
    ROW(gt_upsample_bilinear2d, "7to3", "2x2x7x7", .ip = {3, 3}, .t = T_POOL),
    ROW(gt_upsample_bilinear2d, "2x_sq", "2x3x4x4", .ip = {8, 8}, .post = P_SQ, .t = T_POOL),
    ROW(gt_upsample_bilinear2d, "7x4to3x9", "2x1x7x4", .ip = {3, 9}, .t = T_POOL),
    ROW(gt_upsample_bilinear2d, "1to4", "2x2x1x1", .ip = {4, 4}, .t = T_POOL),
    ROW(gt_upsample_bilinear2d, "chlast", "1x3x3x5", .view = "c", .ip = {6, 4}, .t = T_POOL),
    ROW(gt_upsample_bilinear2d, "2to5", "1x2x2x2", .ip = {5, 5}, .t = T_POOL),
    ROW(gt_upsample_bilinear2d, "6to1", "1x2x6x6", .ip = {1, 1}, .t = T_POOL),
    ROW(gt_upsample_bilinear2d, "same_strided", "1x2x5x5", .view = "t", .ip = {5, 5}, .t = T_POOL),
    ROW(gt_upsample_bilinear2d, "big", "4x16x16x16", .ip = {32, 32}, .t = T_BIG, .big = true),
    ROW(gt_grid_sample, "bilinear_zeros", "2x3x5x6 2x4x7x2", .dom = "am", .ip = {1, 0, 0}, .fp = {4}, .t = T_POOL),
    ROW(gt_grid_sample, "bilinear_border_align_sq", "2x3x5x6 2x4x7x2", .dom = "am", .ip = {1, 1, 1}, .fp = {4},
        .post = P_SQ, .t = T_POOL),
    ROW(gt_grid_sample, "bilinear_reflection", "2x2x5x6 2x4x7x2", .dom = "am", .ip = {1, 2, 0}, .fp = {8},
        .t = T_POOL),
    ROW(gt_grid_sample, "bilinear_reflection_align_chlast", "2x3x5x6 2x4x7x2", .dom = "am", .view = "c-",
        .ip = {1, 2, 1}, .fp = {8}, .t = T_POOL),
    ROW(gt_grid_sample, "nearest_zeros_align", "2x3x5x6 2x4x7x2", .dom = "am", .ip = {0, 0, 1}, .fp = {4},
        .t = T_POOL),
    ROW(gt_grid_sample, "nearest_border_strided", "2x3x5x6 2x4x7x2", .dom = "am", .view = "t-", .ip = {0, 1, 0},
        .fp = {4}, .t = T_POOL),
    ROW(gt_grid_sample, "nearest_reflection_sq", "2x2x5x6 2x4x7x2", .dom = "am", .ip = {0, 2, 0}, .fp = {8},
        .post = P_SQ, .t = T_POOL),
    ROW(gt_grid_sample, "big", "4x8x24x24 4x32x32x2", .dom = "am", .ip = {1, 2, 0}, .fp = {5}, .t = T_BIG,
        .big = true),
    ROW(gt_grid_sample_t, "bilinear_zeros", "2x3x4x7 2x4x7x2", .dom = "am", .ip = {1, 0, 0, 5, 6}, .fp = {4},
        .t = T_POOL),
    ROW(gt_grid_sample_t, "bilinear_reflection_align_sq", "2x3x4x7 2x4x7x2", .dom = "am", .ip = {1, 2, 1, 5, 6},
        .fp = {8}, .post = P_SQ, .t = T_POOL),
    ROW(gt_grid_sample_t, "nearest_border", "2x2x4x7 2x4x7x2", .dom = "am", .ip = {0, 1, 0, 6, 5}, .fp = {4},
        .t = T_POOL),
    ROW(gt_grid_sample_t, "nearest_reflection_align_sq", "2x2x4x7 2x4x7x2", .dom = "am", .ip = {0, 2, 1, 5, 6},
        .fp = {8}, .post = P_SQ, .t = T_POOL),
    ROW(gt_grid_sample_t, "big", "4x8x32x32 4x32x32x2", .dom = "am", .ip = {1, 1, 1, 24, 24}, .fp = {5},
        .t = T_BIG, .big = true),
    /* --- misc ----------------------------------------------------------------------------------------- */
    ROW(gt_embedding, "2d_idx", "7x3 2x4", .dom = "ai", .imax = 7, .t = T_VIEW),
    ROW(gt_embedding, "1d_idx", "5x4 9", .dom = "ai", .imax = 5, .t = T_VIEW),
    ROW(gt_embedding, "strided_w_sq", "6x3 5", .dom = "ai", .view = "t-", .imax = 6, .post = P_SQ, .t = T_VIEW),
    ROW(gt_embedding, "3d_idx", "6x2 2x2x3", .dom = "ai", .imax = 6, .t = T_VIEW),
    ROW(gt_embedding, "one_row", "1x3 4", .dom = "ai", .imax = 1, .t = T_VIEW),
    ROW(gt_embedding, "big", "50x200 64x80", .dom = "ai", .imax = 50, .t = T_BIG, .big = true),
    ROW(gt_dropout, "train_0.3", "4x5x6", .dom = "z", .ip = {1, 5}, .fp = {0.3f}, .t = T_EW),
    ROW(gt_dropout, "train_0.5_strided_sq", "5x6", .dom = "z", .view = "t", .ip = {1, 6}, .fp = {0.5f}, .post = P_SQ,
        .t = T_EW),
    ROW(gt_dropout, "eval", "3x4", .ip = {0, 7}, .fp = {0.5f}, .t = T_EW),
    ROW(gt_dropout, "p0", "3x4", .ip = {1, 8}, .fp = {0.0f}, .t = T_EW),
    ROW(gt_dropout, "big", "64x1000", .dom = "z", .ip = {1, 9}, .fp = {0.6f}, .t = T_EW, .big = true),
    /* --- losses (mean reduction: the only one gantry has) ------------------------------------------------ */
    ROW(gt_bce_with_logits, "plain", "4x5 4x5", .dom = "au", .t = T_LOSS),
    ROW(gt_bce_with_logits, "big_logits", "12 12", .dom = "bu", .t = T_LOSS),
    ROW(gt_bce_with_logits, "3d", "2x1x3 2x1x3", .dom = "au", .t = T_LOSS),
    ROW(gt_bce_with_logits, "strided", "3x5 3x5", .dom = "au", .view = "ts", .t = T_LOSS),
    ROW(gt_bce_with_logits, "big", "128x64 128x64", .dom = "au", .t = T_BIG, .big = true),
    ROW(gt_mse_loss, "plain", "3x4 3x4", .t = T_LOSS),
    ROW(gt_mse_loss, "1d", "7 7", .t = T_LOSS),
    ROW(gt_mse_loss, "strided", "4x3 4x3", .view = "t-", .t = T_LOSS),
    ROW(gt_mse_loss, "big", "64x1000 64x1000", .t = T_BIG, .big = true),
    ROW(gt_l1_loss, "plain", "3x4 3x4", .dom = "zs", .t = T_LOSS),
    ROW(gt_l1_loss, "strided", "4x5 4x5", .dom = "zs", .view = "st", .t = T_LOSS),
    ROW(gt_l1_loss, "big", "64x1000 64x1000", .dom = "zs", .t = T_BIG, .big = true),
    ROW(gt_cross_entropy, "plain", "5x7 5", .dom = "ai", .imax = 7, .t = T_LOSS),
    ROW(gt_cross_entropy, "big_logits", "4x3 4", .dom = "bi", .imax = 3, .t = T_LOSS),
    ROW(gt_cross_entropy, "one_class", "3x1 3", .dom = "ai", .imax = 1, .t = T_LOSS),
    ROW(gt_cross_entropy, "strided", "4x6 4", .dom = "ai", .view = "t-", .imax = 6, .t = T_LOSS),
    ROW(gt_cross_entropy, "two_classes", "6x2 6", .dom = "ai", .imax = 2, .t = T_LOSS),
    ROW(gt_cross_entropy, "big", "256x100 256", .dom = "ai", .imax = 100, .t = T_BIG, .big = true),
};
#define NROWS (int)(sizeof ROWS / sizeof ROWS[0])

#endif
