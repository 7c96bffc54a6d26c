/* One table-driven check of every public op (as ggml's test-backend-ops).
 *
 * Every function of include/gantry/ops.h that returns a gt_tensor * has at
 * least one row in ROWS below: the op, a variant name, its inputs (shapes,
 * value domains, strided views), its parameters and its tolerances. Each row
 * is run four ways:
 *   - forward and input gradients on the fast kernels against the naive
 *     reference backend (gt_test_fast_vs_naive);
 *   - forward, gradient of sum(out * w) and, for twice-differentiable rows, the
 *     gradient of sum_i sum(v_i * grad_i), against PyTorch in float64
 *     (tests/parity/ops_table.py, one run for the whole table);
 *   - first and second order gradients against finite differences
 *     (gt_test_gradcheck / gt_test_gradgradcheck) on the small rows;
 *   - completeness: the test reads ops.h and fails naming any op that has
 *     neither a row nor an entry in EXCLUDED (with its reason).
 * A row's gradient class says what is checked: G2 first and second order, G1
 * first order only, G0 no gradient (a reason is then mandatory). */
#include "../common/harness.h"

#include <ctype.h>

#define MAXIN 6
#define NIP 12
#define NFP 4

enum { G2 = 0, G1 = 1, G0 = 2 };
enum { P_NONE = 0, P_SQ = 1 }; /* the op's output as is / squared (a linear op's backward then gets a backward) */

/* Tolerances: PyTorch (output, gradients, second-order gradients), fast vs
 * naive, finite differences (rtol, atol, step). */
typedef struct {
    float pr, pa; /* vs PyTorch */
    float nr, na; /* fast vs naive */
    float fr, fa; /* vs finite differences */
    float eps;    /* finite-difference step */
} tols;

/*                 PyTorch       fast/naive    finite diff.  step */
#define T_VIEW   {1e-6f, 1e-7f, 0.0f, 0.0f, 2e-2f, 2e-3f, 1e-2f} /* copies: bit-exact across backends */
#define T_EW     {1e-5f, 1e-5f, 1e-5f, 1e-6f, 2e-2f, 2e-3f, 1e-2f}
#define T_RED    {1e-5f, 1e-5f, 1e-5f, 1e-5f, 2e-2f, 2e-3f, 1e-2f}
#define T_MM     {1e-5f, 1e-5f, 1e-5f, 1e-5f, 2e-2f, 2e-3f, 1e-2f}
#define T_CONV   {1e-4f, 1e-4f, 1e-4f, 1e-4f, 2e-2f, 2e-3f, 1e-2f}
#define T_NORM   {1e-4f, 1e-4f, 1e-4f, 1e-4f, 3e-2f, 5e-3f, 1e-2f}
#define T_POOL   {1e-5f, 1e-6f, 1e-5f, 1e-6f, 2e-2f, 2e-3f, 1e-2f}
#define T_LOSS   {1e-5f, 1e-6f, 1e-5f, 1e-6f, 2e-2f, 2e-3f, 1e-2f}
#define T_BIG    {1e-4f, 1e-4f, 1e-4f, 1e-4f, 2e-2f, 2e-3f, 1e-2f}

typedef struct row row;
typedef gt_tensor *(*op_fn)(gt_tensor *const *x, const row *r);

struct row {
    const char *op;  /* the public function this row checks */
    const char *var; /* variant */
    op_fn f;         /* f_<op>: calls op with the row's parameters */
    const char *in;  /* logical input shapes the op sees, "2x3x4 3x1" ("0d": a 0-d tensor) */
    /* per input (default 'a'): a N(0,1), p positive 0.5+|N|, z |x| > 0.15, u U(0.05, 0.95),
     * s U(-0.05, 0.05), d distinct values 0.05 apart (shuffled; no ties for max), b N(0, 40^2),
     * i int32 in [0, imax), m constant N(0, 0.3^2), v constant U(0.5, 2) (m, v: not differentiated) */
    const char *dom;
    /* per input (default '-'): t a transposed view (last two dims), s every other element of the last
     * dim, c channels-last (N,H,W,C) memory seen as (N,C,H,W) */
    const char *view;
    int imax;
    int ip[NIP];
    float fp[NFP];
    int post;
    int grad;        /* G2, G1, G0 */
    const char *why; /* why not G2 */
    tols t;
    bool big;        /* for the fast kernels' threaded paths: no finite differences (the small rows do them) */
    int navoid;
    float avoid[2];  /* keep inputs 0.05 away from these points (kinks, thresholds) */
};

#define OPF(OP) static __attribute__((unused)) gt_tensor *f_##OP(gt_tensor *const *x, const row *r __attribute__((unused)))

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

/* Ops of ops.h returning gt_tensor * that have no row, each with its reason. */
static const struct {
    const char *op, *why;
} EXCLUDED[] = {
    {NULL, NULL}, /* none: every op has rows */
};

/* --- inputs ------------------------------------------------------------------------ */
typedef struct {
    int n;
    int nd[MAXIN];
    int64_t sh[MAXIN][GT_MAX_DIMS]; /* logical */
} shapes;

static bool parse_shapes(const char *s, shapes *o) {
    memset(o, 0, sizeof *o);
    while (*s) {
        while (*s == ' ') s++;
        if (!*s) break;
        if (o->n >= MAXIN) return false;
        int i = o->n++;
        if (strncmp(s, "0d", 2) == 0) {
            s += 2;
            continue;
        }
        for (;;) {
            char *e;
            long v = strtol(s, &e, 10);
            if (e == s || o->nd[i] >= GT_MAX_DIMS) return false;
            o->sh[i][o->nd[i]++] = v;
            s = e;
            if (*s != 'x') break;
            s++;
        }
    }
    return o->n > 0;
}

static char dom_of(const row *r, int i) { return r->dom && (int)strlen(r->dom) > i ? r->dom[i] : 'a'; }
static char view_of(const row *r, int i) { return r->view && (int)strlen(r->view) > i ? r->view[i] : '-'; }
static bool is_const(char d) { return d == 'm' || d == 'v' || d == 'i'; }
/* differentiated: a float input that is not a constant, in a row with gradients */
static bool diff_in(const row *r, int i) { return r->grad != G0 && !is_const(dom_of(r, i)); }

/* The stored (memory) shape of input i: the view turns it into the logical one. */
static int stored_shape(const row *r, const shapes *s, int i, int64_t *out) {
    int nd = s->nd[i];
    for (int k = 0; k < nd; k++) out[k] = s->sh[i][k];
    switch (view_of(r, i)) {
    case 't': out[nd - 2] = s->sh[i][nd - 1], out[nd - 1] = s->sh[i][nd - 2]; break;
    case 's': out[nd - 1] = 2 * s->sh[i][nd - 1]; break;
    case 'c': out[1] = s->sh[i][2], out[2] = s->sh[i][3], out[3] = s->sh[i][1]; break;
    default: break;
    }
    return nd;
}

static gt_tensor *apply_view(char v, gt_tensor *x) {
    switch (v) {
    case 't': return gt_transpose(x, -1, -2);
    case 's': return gt_slice(x, -1, 0, x->shape[x->ndim - 1], 2);
    case 'c': return gt_permute(x, (int[]){0, 3, 1, 2});
    default: return x;
    }
}

static uint64_t xs64(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static gt_tensor *make_input(const row *r, const shapes *s, int i, uint64_t seed) {
    int64_t sh[GT_MAX_DIMS];
    int nd = stored_shape(r, s, i, sh);
    char d = dom_of(r, i);
    if (d == 'i') {
        gt_tensor *u = gt_test_uniform(seed, nd, sh, 0.0f, (float)r->imax);
        gt_tensor *t = gt_empty_i32(nd, sh);
        for (int64_t k = 0; k < gt_numel(t); k++) gt_data_i32(t)[k] = (int32_t)gt_data(u)[k];
        return t;
    }
    gt_tensor *t;
    if (d == 'u') t = gt_test_uniform(seed, nd, sh, 0.05f, 0.95f);
    else if (d == 's') t = gt_test_uniform(seed, nd, sh, -0.05f, 0.05f);
    else if (d == 'v') t = gt_test_uniform(seed, nd, sh, 0.5f, 2.0f);
    else t = gt_test_randn(seed, nd, sh, d == 'b' ? 40.0f : d == 'm' ? 0.3f : 1.0f);
    float *x = gt_data(t);
    int64_t n = gt_numel(t);
    if (d == 'd') { /* distinct values 0.05 apart, shuffled */
        uint64_t st = seed * 0x9E3779B97F4A7C15ull + 1;
        for (int64_t k = 0; k < n; k++) x[k] = 0.05f * (float)(k - n / 2);
        for (int64_t k = n - 1; k > 0; k--) {
            int64_t j = (int64_t)(xs64(&st) % (uint64_t)(k + 1));
            float v = x[k];
            x[k] = x[j], x[j] = v;
        }
    }
    for (int64_t k = 0; k < n; k++) {
        if (d == 'p') x[k] = 0.5f + fabsf(x[k]);
        if (d == 'z' && fabsf(x[k]) < 0.15f) x[k] += x[k] < 0 ? -0.2f : 0.2f;
        for (int a = 0; a < r->navoid; a++)
            if (fabsf(x[k] - r->avoid[a]) < 0.05f) x[k] += 0.1f;
    }
    t->requires_grad = diff_in(r, i);
    return t;
}

static int make_inputs(const row *r, int idx, gt_tensor **in) {
    shapes s;
    if (!parse_shapes(r->in, &s)) return 0;
    for (int i = 0; i < s.n; i++) in[i] = make_input(r, &s, i, 1000 + 16 * (uint64_t)idx + (uint64_t)i);
    return s.n;
}

/* The checked function: the stored inputs through their views, the op, the post-processing. */
static gt_tensor *run_row(gt_tensor *const *in, void *ctx) {
    const row *r = ctx;
    shapes s;
    parse_shapes(r->in, &s);
    gt_tensor *x[MAXIN];
    for (int i = 0; i < s.n; i++) x[i] = apply_view(view_of(r, i), in[i]);
    gt_tensor *y = r->f(x, r);
    return r->post == P_SQ ? gt_mul(y, y) : y;
}

static const char *row_name(int i) {
    static char buf[4][128];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s[%s]", ROWS[i].op, ROWS[i].var);
    return b;
}

static gt_gradcheck_opts fd_opts(const row *r) {
    gt_gradcheck_opts o = {.eps = r->t.eps, .rtol = r->t.fr, .atol = r->t.fa, .max_elems = 48};
    return o;
}

/* --- completeness: every op of ops.h has a row ---------------------------------------------- */
#define MAXDECL 256
typedef struct {
    int n;
    char name[MAXDECL][64];
} decls;

static bool is_id(int c) { return isalnum(c) || c == '_'; }

/* The header with comments blanked out. */
static char *read_header(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/include/gantry/ops.h", GT_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        fclose(f);
        return NULL;
    }
    fclose(f);
    s[n] = 0;
    for (char *p = s; *p; p++) {
        if (p[0] == '/' && p[1] == '*') {
            char *e = strstr(p + 2, "*/");
            char *end = e ? e + 2 : p + strlen(p);
            for (; p < end; p++) *p = ' ';
            p--;
        } else if (p[0] == '/' && p[1] == '/') {
            for (; *p && *p != '\n'; p++) *p = ' ';
            if (!*p) break;
        }
    }
    return s;
}

/* Every declaration "gt_tensor *gt_xxx(" of the (comment-free) header. */
static void tensor_ops(const char *s, decls *d) {
    d->n = 0;
    for (const char *p = s; (p = strstr(p, "gt_tensor")) != NULL; p += 9) {
        if (p > s && is_id((unsigned char)p[-1])) continue;
        const char *q = p + 9;
        if (is_id((unsigned char)*q)) continue;
        while (isspace((unsigned char)*q)) q++;
        if (*q != '*') continue;
        q++;
        while (isspace((unsigned char)*q)) q++;
        const char *id = q;
        while (is_id((unsigned char)*q)) q++;
        size_t len = (size_t)(q - id);
        while (isspace((unsigned char)*q)) q++;
        if (*q != '(' || len < 4 || strncmp(id, "gt_", 3) != 0 || len >= 64 || d->n >= MAXDECL) continue;
        memcpy(d->name[d->n], id, len);
        d->name[d->n++][len] = 0;
    }
}

/* name( declared in the header (any return type) */
static bool declared(const char *s, const char *name) {
    size_t len = strlen(name);
    for (const char *p = s; (p = strstr(p, name)) != NULL; p += len) {
        if (p > s && is_id((unsigned char)p[-1])) continue;
        const char *q = p + len;
        while (isspace((unsigned char)*q)) q++;
        if (*q == '(') return true;
    }
    return false;
}

static int rows_of(const char *op, const char *skip_op) {
    int k = 0;
    for (int i = 0; i < NROWS; i++)
        if (strcmp(ROWS[i].op, op) == 0 && (!skip_op || strcmp(skip_op, op) != 0)) k++;
    return k;
}

static const char *excluded(const char *op) {
    for (int i = 0; EXCLUDED[i].op; i++)
        if (strcmp(EXCLUDED[i].op, op) == 0) return EXCLUDED[i].why;
    return NULL;
}

/* The ops without a row or an exclusion, as if the rows of skip_op were not in the table;
 * names them when report. */
static int missing_ops(const decls *d, const char *skip_op, bool report, char *first, size_t nfirst) {
    int miss = 0;
    if (first) first[0] = 0;
    for (int i = 0; i < d->n; i++) {
        if (rows_of(d->name[i], skip_op) > 0 || excluded(d->name[i])) continue;
        if (first && !miss) snprintf(first, nfirst, "%s", d->name[i]);
        miss++;
        if (report)
            CHECK_MSG(false, "%s is declared in include/gantry/ops.h but has no row in tests/ops/test_op_table.c "
                      "(add one, or an entry in EXCLUDED with the reason)", d->name[i]);
    }
    return miss;
}

static void test_completeness(void) {
    char *s = read_header();
    CHECK_MSG(s != NULL, "cannot read %s/include/gantry/ops.h", GT_SOURCE_DIR);
    if (!s) return;
    decls *d = malloc(sizeof *d);
    tensor_ops(s, d);
    /* the scan itself: multi-line declarations found, non-tensor returns not */
    CHECK_MSG(d->n >= 50, "only %d ops found in ops.h", d->n);
    bool bn = false, conv = false, split = false, make = false;
    for (int i = 0; i < d->n; i++) {
        bn |= !strcmp(d->name[i], "gt_batch_norm");
        conv |= !strcmp(d->name[i], "gt_conv2d");
        split |= !strcmp(d->name[i], "gt_split");
        make |= !strcmp(d->name[i], "gt_conv_params_make");
    }
    CHECK(bn && conv && !split && !make);
    /* every op has a row (or a reason) */
    int miss = missing_ops(d, NULL, true, NULL, 0);
    /* the guard sees a removed row: drop each op's rows in turn, it must name exactly that op */
    int guard_bad = 0;
    for (int i = 0; i < d->n && miss == 0; i++) {
        char first[64];
        int m = missing_ops(d, d->name[i], false, first, sizeof first);
        if (excluded(d->name[i])) continue;
        if (m != 1 || strcmp(first, d->name[i]) != 0) guard_bad++;
    }
    CHECK_MSG(guard_bad == 0, "the completeness guard missed %d removed ops", guard_bad);
    /* rows and exclusions name declared functions; rows without a second-order check say why */
    for (int i = 0; i < NROWS; i++) {
        const row *r = &ROWS[i];
        CHECK_MSG(declared(s, r->op), "row %s: %s is not declared in ops.h", row_name(i), r->op);
        CHECK_MSG(r->grad == G2 || (r->why && r->why[0]), "row %s: no gradient check without a reason",
                  row_name(i));
        shapes sh;
        CHECK_MSG(parse_shapes(r->in, &sh), "row %s: bad shapes '%s'", row_name(i), r->in);
        for (int j = 0; j < i; j++)
            CHECK_MSG(strcmp(r->op, ROWS[j].op) || strcmp(r->var, ROWS[j].var), "row %s twice", row_name(i));
    }
    for (int i = 0; EXCLUDED[i].op; i++) {
        CHECK_MSG(declared(s, EXCLUDED[i].op), "excluded %s is not declared in ops.h", EXCLUDED[i].op);
        CHECK_MSG(rows_of(EXCLUDED[i].op, NULL) == 0, "excluded %s has rows", EXCLUDED[i].op);
        CHECK_MSG(EXCLUDED[i].why && EXCLUDED[i].why[0], "excluded %s without a reason", EXCLUDED[i].op);
    }
    /* GT_OP_TABLE_LIST=1: the table with what each row checks and its tolerances */
    const char *list = getenv("GT_OP_TABLE_LIST");
    for (int i = 0; list && *list && *list != '0' && i < NROWS; i++) {
        const row *r = &ROWS[i];
        const char *g = r->grad == G2 ? "grad+gradgrad" : r->grad == G1 ? "grad" : "no grad";
        printf("  %-44s in %-26s %-13s%s torch %.0e/%.0e naive %.0e/%.0e fd %.0e/%.0e%s%s\n", row_name(i), r->in, g,
               r->big ? " (big)" : "", r->t.pr, r->t.pa, r->t.nr, r->t.na, r->t.fr, r->t.fa, r->why ? ": " : "",
               r->why ? r->why : "");
    }
    int nops = 0;
    for (int i = 0; i < d->n; i++) nops += rows_of(d->name[i], NULL) > 0;
    printf("  ops.h: %d ops returning gt_tensor *; the table: %d rows, covering %d of them (+ gt_split)\n", d->n,
           NROWS, nops);
    free(d);
    free(s);
}

/* --- PyTorch ------------------------------------------------------------------------------ */
static gt_tensor *ascii_tensor(const char *s) {
    int32_t buf[64];
    int n = (int)strlen(s);
    for (int i = 0; i < n && i < 64; i++) buf[i] = (unsigned char)s[i];
    return gt_from_i32(1, (int64_t[]){n}, buf);
}

static void test_golden_pytorch(void) {
    enum { PER = 8 + 2 * MAXIN };
    const char **names = calloc((size_t)NROWS * PER, sizeof *names);
    gt_tensor **ts = calloc((size_t)NROWS * PER, sizeof *ts);
    char(*buf)[48] = calloc((size_t)NROWS * PER, sizeof *buf);
    gt_tensor *(*in)[MAXIN] = calloc((size_t)NROWS, sizeof *in);
    gt_tensor *(*v)[MAXIN] = calloc((size_t)NROWS, sizeof *v);
    gt_tensor **w = calloc((size_t)NROWS, sizeof *w);
    int *nin = calloc((size_t)NROWS, sizeof *nin);
    int k = 0;
    bool ok = names && ts && buf && in && v && w && nin;
#define PUT(tag, t)                                             \
    do {                                                        \
        snprintf(buf[k], sizeof buf[k], "r%03d.%s", i, tag);    \
        names[k] = buf[k];                                      \
        ts[k++] = (t);                                          \
    } while (0)
    for (int i = 0; ok && i < NROWS; i++) {
        const row *r = &ROWS[i];
        nin[i] = make_inputs(r, i, in[i]);
        if (!nin[i]) continue;
        gt_tensor *y = run_row(in[i], (void *)r);
        CHECK_MSG(y != NULL, "%s: %s", row_name(i), gt_last_error());
        if (!y) {
            gt_clear_error();
            nin[i] = 0;
            continue;
        }
        w[i] = gt_test_randn(5000 + (uint64_t)i, y->ndim, y->shape, 1.0f);
        int32_t vw[MAXIN], df[MAXIN];
        for (int j = 0; j < nin[i]; j++) vw[j] = view_of(r, j), df[j] = diff_in(r, j);
        PUT("op", ascii_tensor(r->op));
        PUT("ip", gt_from_i32(1, (int64_t[]){NIP}, r->ip));
        PUT("fp", gt_from_data(1, (int64_t[]){NFP}, r->fp));
        PUT("view", gt_from_i32(1, (int64_t[]){nin[i]}, vw));
        PUT("diff", gt_from_i32(1, (int64_t[]){nin[i]}, df));
        PUT("post", gt_from_i32(1, (int64_t[]){1}, (int32_t[]){r->post}));
        PUT("grad", gt_from_i32(1, (int64_t[]){1}, (int32_t[]){r->grad}));
        PUT("w", w[i]);
        for (int j = 0; j < nin[i]; j++) {
            char tag[16];
            snprintf(tag, sizeof tag, "x%d", j);
            PUT(tag, in[i][j]);
            if (r->grad == G2 && df[j]) {
                v[i][j] = gt_test_randn(7000 + 16 * (uint64_t)i + (uint64_t)j, in[i][j]->ndim, in[i][j]->shape, 1.0f);
                snprintf(tag, sizeof tag, "v%d", j);
                PUT(tag, v[i][j]);
            }
        }
        if (strcmp(r->op, "gt_dropout") == 0 && r->ip[0] && r->fp[0] > 0) {
            /* the mask (times 1/(1-p)): the RNGs differ, so PyTorch takes gantry's; the logical shape */
            gt_tensor *ones = gt_ones_like(apply_view(view_of(r, 0), in[i][0]));
            gt_tensor *x1[1] = {ones};
            PUT("mask", f_gt_dropout(x1, r));
        }
    }
#undef PUT
    char path[512];
    snprintf(path, sizeof path, "%s/op_table_in.gtb", gt_test_tmpdir());
    if (ok) CHECK(gt_golden_write(path, k, names, ts));
    if (ok && gt_golden_run("ops_table.py", path)) {
        for (int i = 0; i < NROWS; i++) {
            const row *r = &ROWS[i];
            if (!nin[i]) continue;
            char nm[160], a[64], b[64];
            const char *rn = row_name(i);
            gt_tensor *y = run_row(in[i], (void *)r);
            snprintf(nm, sizeof nm, "r%03d.y", i);
            gt_tensor *want = gt_golden(nm);
            snprintf(nm, sizeof nm, "%s: output vs PyTorch", rn);
            /* gtb.py writes a 0-d tensor as (1,) (numpy's ascontiguousarray) */
            bool same = y && want && (gt_same_shape(y, want) || (y->ndim == 0 && want->ndim == 1 && want->shape[0] == 1));
            CHECK_MSG(same, "%s: shape %s, PyTorch %s", nm,
                      y ? gt_shape_str(y, a, sizeof a) : "?", want ? gt_shape_str(want, b, sizeof b) : "?");
            gt_test_close(nm, y, want, r->t.pr, r->t.pa);
            if (r->grad == G0 || !y) continue;
            gt_tensor *sel[MAXIN], *g[MAXIN], *gg[MAXIN];
            int idx[MAXIN], m = 0;
            for (int j = 0; j < nin[i]; j++)
                if (diff_in(r, j)) idx[m] = j, sel[m++] = in[i][j];
            if (!m) continue;
            bool second = r->grad == G2;
            if (gt_grad(gt_sum_all(gt_mul(y, w[i])), NULL, m, sel, g, second) != GT_OK) {
                CHECK_MSG(false, "%s: gradient failed: %s", rn, gt_last_error());
                gt_clear_error();
                continue;
            }
            gt_tensor *h = NULL;
            for (int j = 0; j < m; j++) {
                snprintf(nm, sizeof nm, "r%03d.g%d", i, idx[j]);
                want = gt_golden(nm);
                snprintf(nm, sizeof nm, "%s: gradient of input %d vs PyTorch", rn, idx[j]);
                gt_test_close(nm, g[j], want, r->t.pr, r->t.pa);
                if (second) {
                    gt_tensor *t = gt_sum_all(gt_mul(g[j], v[i][idx[j]]));
                    h = h ? gt_add(h, t) : t;
                }
            }
            if (!second) continue;
            if (!h || !h->requires_grad) {
                for (int j = 0; j < m; j++) gg[j] = gt_zeros_like(sel[j]);
            } else if (gt_grad(h, NULL, m, sel, gg, false) != GT_OK) {
                CHECK_MSG(false, "%s: second-order gradient failed: %s", rn, gt_last_error());
                gt_clear_error();
                continue;
            }
            for (int j = 0; j < m; j++) {
                snprintf(nm, sizeof nm, "r%03d.gg%d", i, idx[j]);
                want = gt_golden(nm);
                snprintf(nm, sizeof nm, "%s: second-order gradient of input %d vs PyTorch", rn, idx[j]);
                gt_test_close(nm, gg[j], want, r->t.pr, r->t.pa);
            }
        }
    }
    free(names);
    free(ts);
    free(buf);
    free(in);
    free(v);
    free(w);
    free(nin);
}

/* --- fast vs naive, finite differences --------------------------------------------------------- */
static void test_fast_vs_naive(void) {
    for (int i = 0; i < NROWS; i++) {
        const row *r = &ROWS[i];
        int m = gt_scope_begin();
        gt_tensor *in[MAXIN];
        int n = make_inputs(r, i, in);
        if (n) gt_test_fast_vs_naive(row_name(i), run_row, n, in, (void *)r, r->t.nr, r->t.na);
        gt_clear_error();
        gt_scope_end(m);
    }
}

/* The big rows again on one thread: the serial paths of the threaded kernels. */
static void test_fast_vs_naive_one_thread(void) {
    int prev = gt_get_num_threads();
    gt_set_num_threads(1);
    for (int i = 0; i < NROWS; i++) {
        const row *r = &ROWS[i];
        if (!r->big) continue;
        int m = gt_scope_begin();
        gt_tensor *in[MAXIN];
        int n = make_inputs(r, i, in);
        char nm[160];
        snprintf(nm, sizeof nm, "%s (one thread)", row_name(i));
        if (n) gt_test_fast_vs_naive(nm, run_row, n, in, (void *)r, r->t.nr, r->t.na);
        gt_clear_error();
        gt_scope_end(m);
    }
    gt_set_num_threads(prev);
}

static void fd_checks(bool second) {
    for (int i = 0; i < NROWS; i++) {
        const row *r = &ROWS[i];
        if (r->big || r->grad == G0 || (second && r->grad != G2)) continue;
        int m = gt_scope_begin();
        gt_tensor *in[MAXIN];
        int n = make_inputs(r, i, in);
        gt_gradcheck_opts o = fd_opts(r);
        if (!n) CHECK_MSG(false, "%s: bad shapes", row_name(i));
        else if (second) gt_test_gradgradcheck(row_name(i), run_row, n, in, (void *)r, &o);
        else gt_test_gradcheck(row_name(i), run_row, n, in, (void *)r, &o);
        gt_clear_error();
        gt_scope_end(m);
    }
}

static void test_gradcheck(void) { fd_checks(false); }
static void test_gradgradcheck(void) { fd_checks(true); }

int main(void) {
    RUN(test_completeness);
    RUN(test_golden_pytorch);
    RUN(test_fast_vs_naive);
    RUN(test_fast_vs_naive_one_thread);
    RUN(test_gradcheck);
    RUN(test_gradgradcheck);
    return gt_test_finish();
}
