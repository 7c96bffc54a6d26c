/* Convolution ops: conv2d, conv_transpose2d, and conv2d's weight gradient as
 * an op of its own - forward, validation and backward.
 *
 * The three are closed under differentiation, which is what gradients of
 * gradients need. For one conv geometry (x -> y, weight w):
 *   conv2d(x, w)            d/dx = conv_transpose2d(gy, w)    d/dw = conv2d_weight_grad(x, gy)
 *   conv_transpose2d(y, w)  d/dy = conv2d(gy, w)              d/dw = conv2d_weight_grad(gy, y)
 *   conv2d_weight_grad(x, gy) -> gw:  d/dx = conv_transpose2d(gy, G)  d/dgy = conv2d(x, G)
 * The private *_ex forms take the output size explicitly: a transposed conv
 * whose output_padding is >= its stride (allowed when it is < the dilation)
 * has an output that conv2d's formula overshoots, and these handle that
 * without any slicing. */
#include "../backend/kernels.h"
#include "../internal.h"
#include "gantry/device.h"

gt_conv_params gt_conv_params_make(int stride, int pad) {
    gt_conv_params p = {stride, stride, pad, pad, 1, 1, 0, 0, 1};
    return p;
}

/* --- node arguments ------------------------------------------------------- */
static void gt__put_params(gt_node *n, gt_conv_params p, int64_t kh, int64_t kw) {
    int64_t v[11] = {p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dil_h, p.dil_w, p.out_pad_h, p.out_pad_w, p.groups,
                     kh, kw};
    for (int i = 0; i < 11; i++) n->iarg[i] = v[i];
}

static gt_conv_params gt__get_params(const gt_node *n) {
    gt_conv_params p = {(int)n->iarg[0], (int)n->iarg[1], (int)n->iarg[2], (int)n->iarg[3], (int)n->iarg[4],
                        (int)n->iarg[5], (int)n->iarg[6], (int)n->iarg[7], (int)n->iarg[8]};
    return p;
}

/* Geometry of the conv2d from in (N, C, H, W) to (N, O, ho, wo). */
static gt_conv_geom gt__geom(const int64_t *in, int64_t o, int64_t ho, int64_t wo, int64_t kh, int64_t kw,
                             gt_conv_params p) {
    gt_conv_geom g = {in[0], in[1], in[2], in[3], o, ho, wo, kh, kw, p.stride_h, p.stride_w,
                      p.pad_h, p.pad_w, p.dil_h, p.dil_w, p.groups};
    return g;
}

/* Natural conv2d output size along one dim. */
static int64_t gt__out_size(int64_t in, int64_t k, int s, int pad, int d) {
    return (in + 2 * (int64_t)pad - (int64_t)d * (k - 1) - 1) / s + 1;
}

/* Contiguous versions of the inputs, taken without recording a graph (the
 * node records the original tensors); the two operands (not a bias) at the
 * current precision (gt_precision: rounded to bfloat16 under bf16). */
static bool gt__contig(int n, gt_tensor *const *in, gt_tensor **out) {
    bool prev = gt_no_grad_begin();
    bool ok = true;
    bool bf16 = gt_precision_get() == GT_PREC_BF16;
    for (int i = 0; i < n; i++) {
        out[i] = !in[i] ? NULL : (i < 2 && bf16) ? gt__prec_operand(in[i]) : gt_contiguous(in[i]);
        if (in[i] && !out[i]) ok = false;
    }
    gt_grad_mode_restore(prev);
    return ok;
}

static gt_tensor *gt__oom(const char *name) {
    return gt__fail(GT_ERR_OOM, "%s: out of memory for the im2col workspace", name);
}

static gt_tensor *gt__conv2d_ex(gt_tensor *x, gt_tensor *w, gt_tensor *b, gt_conv_params p, int64_t ho, int64_t wo);
static gt_tensor *gt__convT_ex(gt_tensor *x, gt_tensor *w, gt_tensor *b, gt_conv_params p, int64_t ho, int64_t wo);
static gt_tensor *gt__wgrad_ex(gt_tensor *x, gt_tensor *gy, int64_t kh, int64_t kw, gt_conv_params p);

static gt_tensor *gt__bias_grad(gt_tensor *gy) { return gt_sum(gy, 3, (const int[]){0, 2, 3}, false); }

/* --- backward formulas (ops only) ------------------------------------------ */
static gt_status gt__conv2d_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_conv_params p = gt__get_params(n);
    gt_tensor *x = n->in[0], *w = n->in[1];
    if (gt__need(n, 0)) gx[0] = gt__convT_ex(gy, w, NULL, p, x->shape[2], x->shape[3]);
    if (gt__need(n, 1)) gx[1] = gt__wgrad_ex(x, gy, w->shape[2], w->shape[3], p);
    if (n->n_in > 2 && gt__need(n, 2)) gx[2] = gt__bias_grad(gy);
    return GT_OK;
}

static gt_status gt__convT_bw(gt_node *n, gt_tensor *gy, gt_tensor **gx) {
    gt_conv_params p = gt__get_params(n);
    gt_tensor *x = n->in[0], *w = n->in[1];
    p.out_pad_h = p.out_pad_w = 0;
    if (gt__need(n, 0)) gx[0] = gt__conv2d_ex(gy, w, NULL, p, x->shape[2], x->shape[3]);
    if (gt__need(n, 1)) gx[1] = gt__wgrad_ex(gy, x, w->shape[2], w->shape[3], p);
    if (n->n_in > 2 && gt__need(n, 2)) gx[2] = gt__bias_grad(gy);
    return GT_OK;
}

static gt_status gt__wgrad_bw(gt_node *n, gt_tensor *gg, gt_tensor **gx) {
    gt_conv_params p = gt__get_params(n);
    gt_tensor *x = n->in[0], *gy = n->in[1];
    if (gt__need(n, 0)) gx[0] = gt__convT_ex(gy, gg, NULL, p, x->shape[2], x->shape[3]);
    if (gt__need(n, 1)) gx[1] = gt__conv2d_ex(x, gg, NULL, p, gy->shape[2], gy->shape[3]);
    return GT_OK;
}

/* --- forward (inputs already validated) -------------------------------------- */
/* y (N, O, ho, wo) = conv2d(x, w) + b; (ho, wo) at most the natural size. */
static gt_tensor *gt__conv2d_ex(gt_tensor *x, gt_tensor *w, gt_tensor *b, gt_conv_params p, int64_t ho, int64_t wo) {
    if (!x || !w) return NULL;
    gt_tensor *in[3] = {x, w, b}, *c[3];
    int n_in = b ? 3 : 2;
    if (!gt__contig(n_in, in, c)) return NULL;
    gt_conv_geom g = gt__geom(x->shape, w->shape[0], ho, wo, w->shape[2], w->shape[3], p);
    gt_tensor *out = gt__new(GT_F32, 4, (const int64_t[]){g.n, g.o, ho, wo});
    if (!out) return NULL;
    const float *bd = b ? gt__ptr(c[2]) : NULL;
    gt_tensor *ts[4] = {c[0], c[1], b ? c[2] : NULL, out};
    if (!GT_K(gt__kern(4, ts), conv_fwd)(&g, gt__ptr(c[0]), gt__ptr(c[1]), bd, gt__ptr(out))) return gt__oom("gt_conv2d");
    if (gt__needs_grad(n_in, in)) {
        gt_node *nd = gt__record(out, GT_OP_CONV2D, gt__conv2d_bw, n_in, in);
        if (!nd) return NULL;
        gt__put_params(nd, p, g.kh, g.kw);
    }
    return out;
}

/* y (N, C_out, ho, wo) = conv_transpose2d(x (N, C_in, H, W), w (C_in, C_out/g, kh, kw)) + b;
 * (ho, wo) at least the size with no output padding. */
static gt_tensor *gt__convT_ex(gt_tensor *x, gt_tensor *w, gt_tensor *b, gt_conv_params p, int64_t ho, int64_t wo) {
    if (!x || !w) return NULL;
    gt_tensor *in[3] = {x, w, b}, *c[3];
    int n_in = b ? 3 : 2;
    if (!gt__contig(n_in, in, c)) return NULL;
    int64_t cout = w->shape[1] * p.groups;
    /* as a conv2d: from the output (N, C_out, ho, wo) to x (N, C_in, H, W) */
    gt_conv_geom g = gt__geom((const int64_t[]){x->shape[0], cout, ho, wo}, x->shape[1], x->shape[2], x->shape[3],
                              w->shape[2], w->shape[3], p);
    gt_tensor *out = gt__new(GT_F32, 4, (const int64_t[]){g.n, cout, ho, wo});
    if (!out) return NULL;
    const float *bd = b ? gt__ptr(c[2]) : NULL;
    gt_tensor *ts[4] = {c[0], c[1], b ? c[2] : NULL, out};
    if (!GT_K(gt__kern(4, ts), conv_data)(&g, gt__ptr(c[0]), gt__ptr(c[1]), bd, gt__ptr(out)))
        return gt__oom("gt_conv_transpose2d");
    if (gt__needs_grad(n_in, in)) {
        gt_node *nd = gt__record(out, GT_OP_CONV_TRANSPOSE2D, gt__convT_bw, n_in, in);
        if (!nd) return NULL;
        gt__put_params(nd, p, g.kh, g.kw);
    }
    return out;
}

/* gw (O, C/g, kh, kw) for x (N, C, H, W) and gy (N, O, Ho, Wo). */
static gt_tensor *gt__wgrad_ex(gt_tensor *x, gt_tensor *gy, int64_t kh, int64_t kw, gt_conv_params p) {
    if (!x || !gy) return NULL;
    gt_tensor *in[2] = {x, gy}, *c[2];
    if (!gt__contig(2, in, c)) return NULL;
    gt_conv_geom g = gt__geom(x->shape, gy->shape[1], gy->shape[2], gy->shape[3], kh, kw, p);
    gt_tensor *out = gt__new(GT_F32, 4, (const int64_t[]){g.o, g.c / g.groups, kh, kw});
    if (!out) return NULL;
    gt_tensor *ts[3] = {c[0], c[1], out};
    if (!GT_K(gt__kern(3, ts), conv_weight)(&g, gt__ptr(c[0]), gt__ptr(c[1]), gt__ptr(out)))
        return gt__oom("gt_conv2d_weight_grad");
    if (gt__needs_grad(2, in)) {
        gt_node *nd = gt__record(out, GT_OP_CONV2D_WEIGHT_GRAD, gt__wgrad_bw, 2, in);
        if (!nd) return NULL;
        gt__put_params(nd, p, kh, kw);
    }
    return out;
}

/* --- validation ------------------------------------------------------------- */
static bool gt__check_params(gt_conv_params p, const char *nm, bool transposed) {
    if (p.stride_h <= 0 || p.stride_w <= 0)
        return gt__fail(GT_ERR_ARG, "%s: stride must be positive, got (%d, %d)", nm, p.stride_h, p.stride_w), false;
    if (p.pad_h < 0 || p.pad_w < 0)
        return gt__fail(GT_ERR_ARG, "%s: padding must be >= 0, got (%d, %d)", nm, p.pad_h, p.pad_w), false;
    if (p.dil_h <= 0 || p.dil_w <= 0)
        return gt__fail(GT_ERR_ARG, "%s: dilation must be positive, got (%d, %d)", nm, p.dil_h, p.dil_w), false;
    if (p.groups <= 0) return gt__fail(GT_ERR_ARG, "%s: groups must be positive, got %d", nm, p.groups), false;
    if (!transposed && (p.out_pad_h != 0 || p.out_pad_w != 0))
        return gt__fail(GT_ERR_ARG, "%s: output_padding (%d, %d) is only for conv_transpose2d; set it to 0", nm,
                        p.out_pad_h, p.out_pad_w),
               false;
    if (transposed) {
        int op[2] = {p.out_pad_h, p.out_pad_w}, s[2] = {p.stride_h, p.stride_w}, d[2] = {p.dil_h, p.dil_w};
        for (int i = 0; i < 2; i++)
            if (op[i] < 0 || (op[i] >= s[i] && op[i] >= d[i]))
                return gt__fail(GT_ERR_ARG,
                                "%s: output_padding (%d, %d) must be >= 0 and smaller than the stride (%d, %d) "
                                "or the dilation (%d, %d)",
                                nm, p.out_pad_h, p.out_pad_w, p.stride_h, p.stride_w, p.dil_h, p.dil_w),
                       false;
    }
    return true;
}

/* Shared checks of x (N, C, H, W) against the channel count `wc` the weight
 * expects per group, and of the bias against the output channels. */
static bool gt__check_channels(gt_tensor *x, gt_tensor *w, gt_tensor *b, int64_t cin_w, int64_t cout, int groups,
                               const char *nm) {
    char xs[96], wsb[96], bs[96];
    gt_shape_str(x, xs, sizeof xs);
    gt_shape_str(w, wsb, sizeof wsb);
    int64_t cin = x->shape[1];
    if (w->shape[2] <= 0 || w->shape[3] <= 0 || cin <= 0 || cout <= 0)
        return gt__fail(GT_ERR_SHAPE, "%s: empty channels or kernel: x %s, w %s", nm, xs, wsb), false;
    if (cin % groups)
        return gt__fail(GT_ERR_SHAPE, "%s: input channels of x %s are not divisible by groups %d", nm, xs, groups),
               false;
    if (cout % groups)
        return gt__fail(GT_ERR_SHAPE, "%s: output channels %lld (w %s) are not divisible by groups %d", nm,
                        (long long)cout, wsb, groups),
               false;
    if (cin_w != cin / groups)
        return gt__fail(GT_ERR_SHAPE,
                        "%s: w %s expects %lld input channels per group, but x %s has %lld channels in %d groups", nm,
                        wsb, (long long)cin_w, xs, (long long)cin, groups),
               false;
    if (b && (b->ndim != 1 || b->shape[0] != cout))
        return gt__fail(GT_ERR_SHAPE, "%s: bias %s must be (%lld,), one entry per output channel of w %s", nm,
                        gt_shape_str(b, bs, sizeof bs), (long long)cout, wsb),
               false;
    return true;
}

/* The effective kernel d*(k-1)+1 must fit the padded input. */
static bool gt__check_fit(const int64_t *xsh, int64_t kh, int64_t kw, gt_conv_params p, const char *nm,
                          const gt_tensor *x) {
    int64_t ekh = (int64_t)p.dil_h * (kh - 1) + 1, ekw = (int64_t)p.dil_w * (kw - 1) + 1;
    int64_t ph = xsh[2] + 2 * (int64_t)p.pad_h, pw = xsh[3] + 2 * (int64_t)p.pad_w;
    if (ekh > ph || ekw > pw) {
        char xs[96];
        return gt__fail(GT_ERR_SHAPE,
                        "%s: kernel %lldx%lld (dilation (%d, %d): effective %lldx%lld) is larger than the padded "
                        "input %lldx%lld (x %s, padding (%d, %d))",
                        nm, (long long)kh, (long long)kw, p.dil_h, p.dil_w, (long long)ekh, (long long)ekw,
                        (long long)ph, (long long)pw, gt_shape_str(x, xs, sizeof xs), p.pad_h, p.pad_w),
               false;
    }
    return true;
}

/* --- public ops ------------------------------------------------------------------ */
gt_tensor *gt_conv2d(gt_tensor *x, gt_tensor *w, gt_tensor *b, gt_conv_params p) {
    const char *nm = "gt_conv2d";
    if (!gt__check(x, nm, "x", 4) || !gt__check(w, nm, "w", 4) || (b && !gt__check(b, nm, "b", -1))) return NULL;
    if (!gt__check_params(p, nm, false)) return NULL;
    if (!gt__check_channels(x, w, b, w->shape[1], w->shape[0], p.groups, nm)) return NULL;
    if (!gt__check_fit(x->shape, w->shape[2], w->shape[3], p, nm, x)) return NULL;
    int64_t ho = gt__out_size(x->shape[2], w->shape[2], p.stride_h, p.pad_h, p.dil_h);
    int64_t wo = gt__out_size(x->shape[3], w->shape[3], p.stride_w, p.pad_w, p.dil_w);
    return gt__conv2d_ex(x, w, b, p, ho, wo);
}

gt_tensor *gt_conv_transpose2d(gt_tensor *x, gt_tensor *w, gt_tensor *b, gt_conv_params p) {
    const char *nm = "gt_conv_transpose2d";
    if (!gt__check(x, nm, "x", 4) || !gt__check(w, nm, "w", 4) || (b && !gt__check(b, nm, "b", -1))) return NULL;
    if (!gt__check_params(p, nm, true)) return NULL;
    if (w->shape[0] != x->shape[1]) {
        char xs[96], wsb[96];
        return gt__fail(GT_ERR_SHAPE,
                        "%s: w %s must be (C_in, C_out/groups, kH, kW) with C_in = %lld, the channels of x %s", nm,
                        gt_shape_str(w, wsb, sizeof wsb), (long long)x->shape[1], gt_shape_str(x, xs, sizeof xs));
    }
    if (!gt__check_channels(x, w, b, x->shape[1] / p.groups, w->shape[1] * p.groups, p.groups, nm)) return NULL;
    int64_t ho = (x->shape[2] - 1) * p.stride_h - 2 * (int64_t)p.pad_h + (int64_t)p.dil_h * (w->shape[2] - 1) +
                 p.out_pad_h + 1;
    int64_t wo = (x->shape[3] - 1) * p.stride_w - 2 * (int64_t)p.pad_w + (int64_t)p.dil_w * (w->shape[3] - 1) +
                 p.out_pad_w + 1;
    if (ho <= 0 || wo <= 0) {
        char xs[96], wsb[96];
        return gt__fail(GT_ERR_SHAPE,
                        "%s: output size %lldx%lld is not positive (x %s, w %s, stride (%d, %d), padding (%d, %d))",
                        nm, (long long)ho, (long long)wo, gt_shape_str(x, xs, sizeof xs),
                        gt_shape_str(w, wsb, sizeof wsb), p.stride_h, p.stride_w, p.pad_h, p.pad_w);
    }
    return gt__convT_ex(x, w, b, p, ho, wo);
}

gt_tensor *gt_conv2d_weight_grad(gt_tensor *x, gt_tensor *gy, int kh, int kw, gt_conv_params p) {
    const char *nm = "gt_conv2d_weight_grad";
    if (!gt__check(x, nm, "x", 4) || !gt__check(gy, nm, "gy", 4)) return NULL;
    if (!gt__check_params(p, nm, false)) return NULL;
    char xs[96], gs[96];
    gt_shape_str(x, xs, sizeof xs);
    gt_shape_str(gy, gs, sizeof gs);
    if (kh <= 0 || kw <= 0) return gt__fail(GT_ERR_ARG, "%s: kernel size must be positive, got %dx%d", nm, kh, kw);
    if (x->shape[1] <= 0 || gy->shape[1] <= 0 || x->shape[1] % p.groups || gy->shape[1] % p.groups)
        return gt__fail(GT_ERR_SHAPE, "%s: channels of x %s and gy %s must be positive and divisible by groups %d", nm,
                        xs, gs, p.groups);
    if (!gt__check_fit(x->shape, kh, kw, p, nm, x)) return NULL;
    int64_t ho = gt__out_size(x->shape[2], kh, p.stride_h, p.pad_h, p.dil_h);
    int64_t wo = gt__out_size(x->shape[3], kw, p.stride_w, p.pad_w, p.dil_w);
    if (gy->shape[0] != x->shape[0] || gy->shape[2] != ho || gy->shape[3] != wo)
        return gt__fail(GT_ERR_SHAPE,
                        "%s: gy %s must be (%lld, C_out, %lld, %lld), the conv2d output of x %s with a %dx%d kernel", nm,
                        gs, (long long)x->shape[0], (long long)ho, (long long)wo, xs, kh, kw);
    return gt__wgrad_ex(x, gy, kh, kw, p);
}
