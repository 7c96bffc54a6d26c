/* Running a program of plain layers (gantry/compress.h) in float, one sample at a time: activations
 * (C, H, W) row-major, the conventions of PyTorch's layers (conv2d is a cross-correlation with
 * weight (cout, cin, k, k); conv_transpose2d has weight (cin, cout, k, k) and output side
 * (in - 1) * stride - 2 * pad + k + out_pad; reflection padding is nn.ReflectionPad2d before a pad-0
 * conv; instance norm uses the biased variance over (H, W)). Ops with int8 weights go to
 * gt__q8_run_op (prog_quant.c). The workspaces are sized from max_act and max_stack and allocated
 * once per call; samples run in parallel (OpenMP), each thread with its own workspace. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "compress_internal.h"

/* Reflection of i into [0, n) as nn.ReflectionPad2d (no edge repeat); n > pad >= |excess| holds. */
static inline int gt__reflect(int i, int n) {
    if (i < 0) return -i;
    if (i >= n) return 2 * (n - 1) - i;
    return i;
}

static void gt__run_linear(const gt_op *o, const float *restrict in, float *restrict out) {
    for (int j = 0; j < o->cout; j++) {
        const float *w = o->w + (int64_t)j * o->cin;
        float s = 0.0f;
        for (int i = 0; i < o->cin; i++) s += w[i] * in[i];
        out[j] = s + (o->b ? o->b[j] : 0.0f);
    }
}

/* conv2d: for each output channel and row, accumulate over (ic, ky, kx) a contiguous run of the
 * output row (stride 1) or a strided read of the input row. */
static void gt__run_conv(const gt_op *o, const float *restrict in, float *restrict out) {
    const int H = o->in_h, W = o->in_w, OH = o->out_h, OW = o->out_w, k = o->k, s = o->stride, p = o->pad;
    for (int oc = 0; oc < o->cout; oc++) {
        float *orow0 = out + (int64_t)oc * OH * OW;
        const float bias = o->b ? o->b[oc] : 0.0f;
        for (int i = 0; i < OH * OW; i++) orow0[i] = bias;
        for (int ic = 0; ic < o->cin; ic++) {
            const float *ip = in + (int64_t)ic * H * W;
            const float *wk = o->w + ((int64_t)oc * o->cin + ic) * k * k;
            for (int oy = 0; oy < OH; oy++) {
                float *orow = orow0 + (int64_t)oy * OW;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * s - p + ky;
                    if (o->pad_reflect) iy = gt__reflect(iy, H);
                    else if (iy < 0 || iy >= H) continue;
                    const float *irow = ip + (int64_t)iy * W;
                    for (int kx = 0; kx < k; kx++) {
                        const float wv = wk[ky * k + kx];
                        if (o->pad_reflect) {
                            for (int ox = 0; ox < OW; ox++) orow[ox] += wv * irow[gt__reflect(ox * s - p + kx, W)];
                        } else {
                            /* ox range with 0 <= ox * s - p + kx < W */
                            int lo = p - kx > 0 ? (p - kx + s - 1) / s : 0;
                            int hi = (W - 1 + p - kx) >= 0 ? (W - 1 + p - kx) / s + 1 : 0;
                            if (hi > OW) hi = OW;
                            const float *ib = irow - p + kx;
                            for (int ox = lo; ox < hi; ox++) orow[ox] += wv * ib[ox * s];
                        }
                    }
                }
            }
        }
    }
}

/* conv_transpose2d as a scatter: input pixel (iy, ix) of channel ic adds w[ic][oc][ky][kx] * x to
 * output pixel (iy * s - p + ky, ix * s - p + kx). */
static void gt__run_convt(const gt_op *o, const float *restrict in, float *restrict out) {
    const int H = o->in_h, W = o->in_w, OH = o->out_h, OW = o->out_w, k = o->k, s = o->stride, p = o->pad;
    for (int oc = 0; oc < o->cout; oc++) {
        float *op = out + (int64_t)oc * OH * OW;
        const float bias = o->b ? o->b[oc] : 0.0f;
        for (int i = 0; i < OH * OW; i++) op[i] = bias;
        for (int ic = 0; ic < o->cin; ic++) {
            const float *ip = in + (int64_t)ic * H * W;
            const float *wk = o->w + ((int64_t)ic * o->cout + oc) * k * k;
            for (int iy = 0; iy < H; iy++) {
                const float *irow = ip + (int64_t)iy * W;
                for (int ky = 0; ky < k; ky++) {
                    int oy = iy * s - p + ky;
                    if (oy < 0 || oy >= OH) continue;
                    float *orow = op + (int64_t)oy * OW;
                    for (int kx = 0; kx < k; kx++) {
                        const float wv = wk[ky * k + kx];
                        /* ix range with 0 <= ix * s - p + kx < OW */
                        int lo = p - kx > 0 ? (p - kx + s - 1) / s : 0;
                        int hi = (OW - 1 + p - kx) >= 0 ? (OW - 1 + p - kx) / s + 1 : 0;
                        if (hi > W) hi = W;
                        float *ob = orow - p + kx;
                        for (int ix = lo; ix < hi; ix++) ob[ix * s] += wv * irow[ix];
                    }
                }
            }
        }
    }
}

static void gt__run_inorm(const gt_op *o, const float *in, float *out) {
    const int64_t hw = (int64_t)o->in_h * o->in_w;
    for (int c = 0; c < o->cout; c++) {
        const float *x = in + c * hw;
        float *y = out + c * hw;
        double m = 0.0, v = 0.0;
        for (int64_t i = 0; i < hw; i++) m += x[i];
        m /= (double)hw;
        for (int64_t i = 0; i < hw; i++) v += ((double)x[i] - m) * ((double)x[i] - m);
        v /= (double)hw;
        float sc = (float)(1.0 / sqrt(v + (double)o->eps)), sh = (float)(-m) * sc;
        if (o->w) sh = sh * o->w[c] + (o->b ? o->b[c] : 0.0f), sc *= o->w[c];
        for (int64_t i = 0; i < hw; i++) y[i] = x[i] * sc + sh;
    }
}

/* One sample through every op: cur and nxt are two max_act buffers, stack depth * max_act. */
static void gt__run_one(const gt_prog *p, const float *in, float *out, float *cur, float *nxt, float *stack) {
    memcpy(cur, in, (size_t)gt_prog_in_numel(p) * sizeof *cur);
    int depth = 0;
    for (int i = 0; i < p->n; i++) {
        const gt_op *o = &p->ops[i];
        const int64_t n_in = (int64_t)o->in_c * o->in_h * o->in_w, hw = (int64_t)o->in_h * o->in_w;
        bool swap = true;
        switch (o->kind) {
        case GT_OP_LINEAR:
        case GT_OP_CONV:
        case GT_OP_CONVT:
            if (o->qw) gt__q8_run_op(o, cur, nxt);
            else if (o->kind == GT_OP_LINEAR) gt__run_linear(o, cur, nxt);
            else if (o->kind == GT_OP_CONV) gt__run_conv(o, cur, nxt);
            else gt__run_convt(o, cur, nxt);
            break;
        case GT_OP_AFFINE:
            for (int c = 0; c < o->cout; c++)
                for (int64_t j = 0; j < hw; j++) cur[c * hw + j] = cur[c * hw + j] * o->w[c] + o->b[c];
            swap = false;
            break;
        case GT_OP_INORM: gt__run_inorm(o, cur, cur), swap = false; break;
        case GT_OP_RELU:
            for (int64_t j = 0; j < n_in; j++) cur[j] = cur[j] > 0.0f ? cur[j] : 0.0f;
            swap = false;
            break;
        case GT_OP_LRELU:
            for (int64_t j = 0; j < n_in; j++) cur[j] = cur[j] > 0.0f ? cur[j] : cur[j] * o->slope;
            swap = false;
            break;
        case GT_OP_TANH:
            for (int64_t j = 0; j < n_in; j++) cur[j] = tanhf(cur[j]);
            swap = false;
            break;
        case GT_OP_SIGMOID:
            for (int64_t j = 0; j < n_in; j++) cur[j] = 1.0f / (1.0f + expf(-cur[j]));
            swap = false;
            break;
        case GT_OP_UP2: {
            const int H = o->in_h, W = o->in_w;
            for (int c = 0; c < o->in_c; c++)
                for (int y = 0; y < 2 * H; y++) {
                    const float *src = cur + (int64_t)c * hw + (int64_t)(y / 2) * W;
                    float *dst = nxt + (int64_t)c * 4 * hw + (int64_t)y * 2 * W;
                    for (int x = 0; x < 2 * W; x++) dst[x] = src[x / 2];
                }
            break;
        }
        case GT_OP_RESHAPE: swap = false; break;
        case GT_OP_SAVE:
            memcpy(stack + depth * p->max_act, cur, (size_t)n_in * sizeof *cur), depth++;
            swap = false;
            break;
        case GT_OP_ADD: {
            const float *s = stack + --depth * p->max_act;
            for (int64_t j = 0; j < n_in; j++) cur[j] += s[j];
            swap = false;
            break;
        }
        default: swap = false; break;
        }
        if (swap) {
            float *t = cur;
            cur = nxt, nxt = t;
        }
    }
    memcpy(out, cur, (size_t)gt_prog_out_numel(p) * sizeof *out);
}

gt_status gt_prog_run(const gt_prog *p, const float *in, float *out, int n) {
    if (!p || !p->ops || p->out_c < 1 || p->max_act < 1)
        return gt_set_error(GT_ERR_ARG, "gt_prog_run: not a finished program (gt_prog_finish)");
    if (n < 0 || (n > 0 && (!in || !out))) return gt_set_error(GT_ERR_ARG, "gt_prog_run: bad input, output or count %d", n);
    if (n == 0) return GT_OK;
    for (int i = 0; i < p->n; i++) {
        const gt_op *o = &p->ops[i];
        if ((o->kind == GT_OP_AFFINE && (!o->w || !o->b)) || (o->qw && !o->w_scale))
            return gt_set_error(GT_ERR_ARG, "gt_prog_run: op %d (%s) lacks its weights or scales", i, gt_op_name(o->kind));
    }
    int nt = omp_get_max_threads();
    if (nt > n) nt = n;
    if (nt < 1) nt = 1;
    const int64_t per = (int64_t)(2 + p->max_stack) * p->max_act;
    float *ws = malloc((size_t)(per * nt) * sizeof *ws);
    if (!ws) return gt_set_error(GT_ERR_OOM, "gt_prog_run: out of memory (%lld floats of workspace)", (long long)(per * nt));
    const int64_t ni = gt_prog_in_numel(p), no = gt_prog_out_numel(p);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int s = 0; s < n; s++) {
        float *w = ws + per * omp_get_thread_num();
        gt__run_one(p, in + (int64_t)s * ni, out + (int64_t)s * no, w, w + p->max_act, w + 2 * p->max_act);
    }
    free(ws);
    return GT_OK;
}
