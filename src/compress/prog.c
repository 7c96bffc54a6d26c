/* Programs of plain layers (gantry/compress.h): building one, shape inference, counts, and lowering
 * a generator through its family's table entry. Running one: prog_run.c; int8: prog_quant.c;
 * export as C: prog_export.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/compress.h"

static const char *const gt__op_names[GT_PROG_COUNT] = {"linear", "conv", "convt", "affine", "inorm", "relu",
                                                      "lrelu",  "tanh", "sigmoid", "up2", "reshape", "save", "add"};

const char *gt_prog_op_name(gt_prog_kind k) { return k >= 0 && k < GT_PROG_COUNT ? gt__op_names[k] : "?"; }

void gt_prog_init(gt_prog *p, const char *family, bool translator, int in_c, int in_h, int in_w) {
    memset(p, 0, sizeof *p);
    snprintf(p->family, sizeof p->family, "%s", family ? family : "");
    p->translator = translator;
    p->in_c = in_c, p->in_h = in_h, p->in_w = in_w;
}

void gt_prog_free(gt_prog *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) {
        gt_prog_op *o = &p->ops[i];
        free(o->w), free(o->b), free(o->qw), free(o->w_scale);
    }
    free(p->ops);
    memset(p, 0, sizeof *p);
}

gt_prog_op *gt_prog_push(gt_prog *p, gt_prog_kind kind) {
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        gt_prog_op *ops = realloc(p->ops, (size_t)cap * sizeof *ops);
        if (!ops) return NULL;
        p->ops = ops, p->cap = cap;
    }
    gt_prog_op *o = &p->ops[p->n++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    return o;
}

static float *gt__dup(const float *src, int64_t n) {
    float *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    if (d && src) memcpy(d, src, (size_t)n * sizeof *d);
    return d;
}

static int64_t gt__weight_numel(gt_prog_kind kind, int cin, int cout, int k) {
    return kind == GT_PROG_LINEAR ? (int64_t)cin * cout : (int64_t)cin * cout * k * k;
}

gt_status gt_prog_push_layer(gt_prog *p, gt_prog_kind kind, int cin, int cout, int k, int stride, int pad, int out_pad,
                             const float *w, const float *b) {
    if (kind != GT_PROG_LINEAR && kind != GT_PROG_CONV && kind != GT_PROG_CONVT)
        return gt_set_error(GT_ERR_ARG, "gt_prog_push_layer: %s is not a linear or conv op", gt_prog_op_name(kind));
    if (!w || cin < 1 || cout < 1 || (kind != GT_PROG_LINEAR && (k < 1 || stride < 1 || pad < 0 || out_pad < 0)))
        return gt_set_error(GT_ERR_ARG, "gt_prog_push_layer: bad %s (cin %d, cout %d, k %d, stride %d, pad %d)",
                            gt_prog_op_name(kind), cin, cout, k, stride, pad);
    gt_prog_op *o = gt_prog_push(p, kind);
    if (!o) return gt_set_error(GT_ERR_OOM, "gt_prog_push_layer: out of memory");
    o->cin = cin, o->cout = cout, o->k = kind == GT_PROG_LINEAR ? 1 : k;
    o->stride = kind == GT_PROG_LINEAR ? 1 : stride, o->pad = pad, o->out_pad = out_pad;
    o->w = gt__dup(w, gt__weight_numel(kind, cin, cout, o->k));
    o->b = b ? gt__dup(b, cout) : NULL;
    if (!o->w || (b && !o->b)) return gt_set_error(GT_ERR_OOM, "gt_prog_push_layer: out of memory");
    return GT_OK;
}

gt_status gt_prog_push_bn(gt_prog *p, int c, const float *gamma, const float *beta, const float *mean,
                          const float *var, float eps) {
    if (c < 1 || !mean || !var) return gt_set_error(GT_ERR_ARG, "gt_prog_push_bn: needs C >= 1 and running statistics");
    gt_prog_op *o = gt_prog_push(p, GT_PROG_AFFINE);
    if (!o) return gt_set_error(GT_ERR_OOM, "gt_prog_push_bn: out of memory");
    o->cin = o->cout = c;
    o->w = gt__dup(NULL, c), o->b = gt__dup(NULL, c);
    if (!o->w || !o->b) return gt_set_error(GT_ERR_OOM, "gt_prog_push_bn: out of memory");
    for (int i = 0; i < c; i++) {
        /* as torch's eval batch norm: (x - mean) / sqrt(var + eps) * gamma + beta */
        float s = (gamma ? gamma[i] : 1.0f) / sqrtf(var[i] + eps);
        o->w[i] = s;
        o->b[i] = (beta ? beta[i] : 0.0f) - mean[i] * s;
    }
    return GT_OK;
}

/* Output side of a conv / transposed conv along one axis. */
static int gt__conv_out(const gt_prog_op *o, int in) {
    if (o->kind == GT_PROG_CONVT) return (in - 1) * o->stride - 2 * o->pad + o->k + o->out_pad;
    return (in + 2 * o->pad - o->k) / o->stride + 1;
}

gt_status gt_prog_finish(gt_prog *p) {
    if (p->in_c < 1 || p->in_h < 1 || p->in_w < 1 || p->n < 1)
        return gt_set_error(GT_ERR_ARG, "program of %s: empty or with a bad input (%d, %d, %d)", p->family, p->in_c,
                            p->in_h, p->in_w);
    int c = p->in_c, h = p->in_h, w = p->in_w, depth = 0;
    int sc[GT_PROG_STACK_MAX], sh[GT_PROG_STACK_MAX], sw[GT_PROG_STACK_MAX];
    p->max_act = (int64_t)c * h * w, p->max_stack = 0, p->quantized = false;
    for (int i = 0; i < p->n; i++) {
        gt_prog_op *o = &p->ops[i];
        o->in_c = c, o->in_h = h, o->in_w = w;
        const char *nm = gt_prog_op_name(o->kind);
        switch (o->kind) {
        case GT_PROG_LINEAR:
            if ((int64_t)c * h * w != o->cin)
                return gt_set_error(GT_ERR_SHAPE, "op %d (%s): input has %lld values, the layer takes %d", i, nm,
                                    (long long)c * h * w, o->cin);
            c = o->cout, h = w = 1;
            break;
        case GT_PROG_CONV:
        case GT_PROG_CONVT:
            if (c != o->cin) return gt_set_error(GT_ERR_SHAPE, "op %d (%s): input has %d channels, the layer takes %d", i, nm, c, o->cin);
            if (o->pad_reflect && (o->kind != GT_PROG_CONV || o->pad >= h || o->pad >= w))
                return gt_set_error(GT_ERR_SHAPE, "op %d (%s): reflection padding %d needs a conv on a side > %d", i, nm,
                                    o->pad, o->pad);
            h = gt__conv_out(o, h), w = gt__conv_out(o, w), c = o->cout;
            if (h < 1 || w < 1) return gt_set_error(GT_ERR_SHAPE, "op %d (%s): output side %d x %d", i, nm, h, w);
            break;
        case GT_PROG_AFFINE:
        case GT_PROG_INORM:
            if (c != o->cin) return gt_set_error(GT_ERR_SHAPE, "op %d (%s): input has %d channels, the op has %d", i, nm, c, o->cin);
            if (o->kind == GT_PROG_AFFINE && (!o->w || !o->b))
                return gt_set_error(GT_ERR_ARG, "op %d (%s): needs a scale and a shift", i, nm);
            o->cout = c;
            break;
        case GT_PROG_UP2: h *= 2, w *= 2; break;
        case GT_PROG_RESHAPE:
            if ((int64_t)o->cout * o->out_h * o->out_w != (int64_t)c * h * w || o->cout < 1)
                return gt_set_error(GT_ERR_SHAPE, "op %d (%s): (%d, %d, %d) has %lld values, the input %lld", i, nm,
                                    o->cout, o->out_h, o->out_w, (long long)o->cout * o->out_h * o->out_w,
                                    (long long)c * h * w);
            c = o->cout, h = o->out_h, w = o->out_w;
            break;
        case GT_PROG_SAVE:
            if (depth == GT_PROG_STACK_MAX) return gt_set_error(GT_ERR_ARG, "op %d (save): skip stack deeper than %d", i, GT_PROG_STACK_MAX);
            sc[depth] = c, sh[depth] = h, sw[depth] = w, depth++;
            if (depth > p->max_stack) p->max_stack = depth;
            break;
        case GT_PROG_ADD:
            if (!depth) return gt_set_error(GT_ERR_ARG, "op %d (add): nothing saved to add", i);
            depth--;
            if (sc[depth] != c || sh[depth] != h || sw[depth] != w)
                return gt_set_error(GT_ERR_SHAPE, "op %d (add): saved (%d, %d, %d), current (%d, %d, %d)", i, sc[depth],
                                    sh[depth], sw[depth], c, h, w);
            break;
        case GT_PROG_RELU:
        case GT_PROG_LRELU:
        case GT_PROG_TANH:
        case GT_PROG_SIGMOID: break;
        default: return gt_set_error(GT_ERR_ARG, "op %d: unknown kind %d", i, (int)o->kind);
        }
        o->out_c = c, o->out_h = h, o->out_w = w;
        if ((int64_t)c * h * w > p->max_act) p->max_act = (int64_t)c * h * w;
        if (o->qw) p->quantized = true;
    }
    if (depth) return gt_set_error(GT_ERR_ARG, "program of %s: %d saved activation(s) never added", p->family, depth);
    p->out_c = c, p->out_h = h, p->out_w = w;
    return GT_OK;
}

gt_status gt_prog_from_net(const gt_net *G, gt_prog *p) {
    memset(p, 0, sizeof *p);
    if (!G || !G->ops || G->kind != GT_NET_G) return gt_set_error(GT_ERR_ARG, "gt_prog_from_net: not a built generator");
    const gt_model_entry *e = gt_model_find(G->cfg.name);
    if (!e) return gt_last_status();
    if (!e->lower) {
        char names[512] = "";
        size_t k = 0;
        for (int i = 0; gt_model_at(i) && k < sizeof names; i++)
            if (gt_model_at(i)->lower)
                k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", k ? ", " : "", gt_model_at(i)->name);
        return gt_set_error(GT_ERR_ARG, "model %s cannot be lowered to plain layers (export and int8 support: %s)",
                            e->name, k ? names : "none");
    }
    gt_status st = e->lower(G, p);
    if (st != GT_OK) gt_prog_free(p);
    return st;
}

int64_t gt_prog_out_numel(const gt_prog *p) { return (int64_t)p->out_c * p->out_h * p->out_w; }
int64_t gt_prog_in_numel(const gt_prog *p) { return (int64_t)p->in_c * p->in_h * p->in_w; }

int64_t gt_prog_macs(const gt_prog *p) {
    int64_t m = 0;
    for (int i = 0; i < p->n; i++) {
        const gt_prog_op *o = &p->ops[i];
        if (o->kind == GT_PROG_LINEAR) m += (int64_t)o->cin * o->cout;
        else if (o->kind == GT_PROG_CONV) m += (int64_t)o->out_h * o->out_w * o->cout * o->cin * o->k * o->k;
        else if (o->kind == GT_PROG_CONVT) m += (int64_t)o->in_h * o->in_w * o->cin * o->cout * o->k * o->k;
    }
    return m;
}

int64_t gt_prog_params(const gt_prog *p) {
    int64_t n = 0;
    for (int i = 0; i < p->n; i++) {
        const gt_prog_op *o = &p->ops[i];
        if (o->kind == GT_PROG_LINEAR || o->kind == GT_PROG_CONV || o->kind == GT_PROG_CONVT)
            n += gt__weight_numel(o->kind, o->cin, o->cout, o->k) + (o->b ? o->cout : 0);
        else if ((o->kind == GT_PROG_AFFINE || o->kind == GT_PROG_INORM) && o->w)
            n += 2 * (int64_t)o->cout;
    }
    return n;
}
