/* Running a program of plain layers (gantry/compress.h) in float, one sample at a time: activations
 * (C, H, W) row-major, the conventions of PyTorch's layers (conv2d is a cross-correlation with
 * weight (cout, cin, k, k); conv_transpose2d has weight (cin, cout, k, k) and output side
 * (in - 1) * stride - 2 * pad + k + out_pad; reflection padding is nn.ReflectionPad2d before a pad-0
 * conv; instance norm uses the biased variance over (H, W)). Ops with int8 weights go to
 * gt__q8_run_op (prog_quant.c). Convolutions are an im2col (or, transposed, a col2im) around one
 * gt_sgemm. The workspaces are sized from max_act, max_stack and the largest layer's columns and
 * allocated once per call; samples run in parallel (OpenMP), each thread with its own workspace
 * (one sample alone: the sgemms use the threads). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../backend/cpu/sgemm.h"
#include "compress_internal.h"

/* Reflection of i into [0, n) as nn.ReflectionPad2d (no edge repeat); n > pad >= |excess| holds. */
static inline int gt__reflect(int i, int n) {
    if (i < 0) return -i;
    if (i >= n) return 2 * (n - 1) - i;
    return i;
}

static void gt__run_linear(const gt_prog_op *o, const float *restrict in, float *restrict out) {
    for (int j = 0; j < o->cout; j++) {
        const float *w = o->w + (int64_t)j * o->cin;
        float s = 0.0f;
        for (int i = 0; i < o->cin; i++) s += w[i] * in[i];
        out[j] = s + (o->b ? o->b[j] : 0.0f);
    }
}

/* conv2d: the input's columns (cin * k * k, OH * OW), zero or reflection padded, then one sgemm
 * with the weights (cout, cin * k * k). */
static void gt__run_conv(const gt_prog_op *o, const float *restrict in, float *restrict out, float *restrict col, int nth) {
    const int H = o->in_h, W = o->in_w, OH = o->out_h, OW = o->out_w, k = o->k, s = o->stride, p = o->pad;
    const int64_t P = (int64_t)OH * OW, K = (int64_t)o->cin * k * k;
    for (int ic = 0; ic < o->cin; ic++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                float *d = col + ((int64_t)(ic * k + ky) * k + kx) * P;
                const float *ip = in + (int64_t)ic * H * W;
                for (int oy = 0; oy < OH; oy++) {
                    int iy = oy * s - p + ky;
                    if (o->pad_reflect) iy = gt__reflect(iy, H);
                    for (int ox = 0; ox < OW; ox++) {
                        int ix = ox * s - p + kx;
                        if (o->pad_reflect) ix = gt__reflect(ix, W);
                        d[oy * OW + ox] = iy >= 0 && iy < H && ix >= 0 && ix < W ? ip[iy * W + ix] : 0.0f;
                    }
                }
            }
    gt_sgemm(o->cout, P, K, o->w, K, 1, col, P, 1, 0.0f, out, P, nth);
    if (o->b)
        for (int oc = 0; oc < o->cout; oc++)
            for (int64_t i = 0; i < P; i++) out[oc * P + i] += o->b[oc];
}

/* conv_transpose2d: the columns (cout * k * k, H * W) = w^T @ x in one sgemm, then each added to the
 * output pixel (iy * s - p + ky, ix * s - p + kx) it lands on. */
static void gt__run_convt(const gt_prog_op *o, const float *restrict in, float *restrict out, float *restrict col, int nth) {
    const int H = o->in_h, W = o->in_w, OH = o->out_h, OW = o->out_w, k = o->k, s = o->stride, p = o->pad;
    const int64_t HW = (int64_t)H * W, R = (int64_t)o->cout * k * k;
    gt_sgemm(R, HW, o->cin, o->w, 1, R, in, HW, 1, 0.0f, col, HW, nth);
    for (int oc = 0; oc < o->cout; oc++) {
        float *op = out + (int64_t)oc * OH * OW;
        const float bias = o->b ? o->b[oc] : 0.0f;
        for (int i = 0; i < OH * OW; i++) op[i] = bias;
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const float *src = col + ((int64_t)(oc * k + ky) * k + kx) * HW;
                for (int iy = 0; iy < H; iy++) {
                    const int oy = iy * s - p + ky;
                    if (oy < 0 || oy >= OH) continue;
                    for (int ix = 0; ix < W; ix++) {
                        const int ox = ix * s - p + kx;
                        if (ox >= 0 && ox < OW) op[oy * OW + ox] += src[iy * W + ix];
                    }
                }
            }
    }
}

/* The columns' size (floats) of a float conv or transposed conv. */
static int64_t gt__col_numel(const gt_prog_op *o) {
    if (o->qw) return 0;
    if (o->kind == GT_PROG_CONV) return (int64_t)o->cin * o->k * o->k * o->out_h * o->out_w;
    if (o->kind == GT_PROG_CONVT) return (int64_t)o->cout * o->k * o->k * o->in_h * o->in_w;
    return 0;
}

static void gt__run_inorm(const gt_prog_op *o, const float *in, float *out) {
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

/* One sample through every op: cur and nxt are two max_act buffers, stack depth * max_act, col the
 * largest layer's columns; nth: the sgemms' threads (0: OpenMP's). */
static void gt__run_one(const gt_prog *p, const float *in, float *out, float *cur, float *nxt, float *stack, float *col,
                        int nth) {
    memcpy(cur, in, (size_t)gt_prog_in_numel(p) * sizeof *cur);
    int depth = 0;
    for (int i = 0; i < p->n; i++) {
        const gt_prog_op *o = &p->ops[i];
        const int64_t n_in = (int64_t)o->in_c * o->in_h * o->in_w, hw = (int64_t)o->in_h * o->in_w;
        bool swap = true;
        switch (o->kind) {
        case GT_PROG_LINEAR:
        case GT_PROG_CONV:
        case GT_PROG_CONVT:
            if (o->qw) gt__q8_run_op(o, cur, nxt);
            else if (o->kind == GT_PROG_LINEAR) gt__run_linear(o, cur, nxt);
            else if (o->kind == GT_PROG_CONV) gt__run_conv(o, cur, nxt, col, nth);
            else gt__run_convt(o, cur, nxt, col, nth);
            break;
        case GT_PROG_AFFINE:
            for (int c = 0; c < o->cout; c++)
                for (int64_t j = 0; j < hw; j++) cur[c * hw + j] = cur[c * hw + j] * o->w[c] + o->b[c];
            swap = false;
            break;
        case GT_PROG_INORM: gt__run_inorm(o, cur, cur), swap = false; break;
        case GT_PROG_RELU:
            for (int64_t j = 0; j < n_in; j++) cur[j] = cur[j] > 0.0f ? cur[j] : 0.0f;
            swap = false;
            break;
        case GT_PROG_LRELU:
            for (int64_t j = 0; j < n_in; j++) cur[j] = cur[j] > 0.0f ? cur[j] : cur[j] * o->slope;
            swap = false;
            break;
        case GT_PROG_TANH:
            for (int64_t j = 0; j < n_in; j++) cur[j] = tanhf(cur[j]);
            swap = false;
            break;
        case GT_PROG_SIGMOID:
            for (int64_t j = 0; j < n_in; j++) cur[j] = 1.0f / (1.0f + expf(-cur[j]));
            swap = false;
            break;
        case GT_PROG_UP2: {
            const int H = o->in_h, W = o->in_w;
            for (int c = 0; c < o->in_c; c++)
                for (int y = 0; y < 2 * H; y++) {
                    const float *src = cur + (int64_t)c * hw + (int64_t)(y / 2) * W;
                    float *dst = nxt + (int64_t)c * 4 * hw + (int64_t)y * 2 * W;
                    for (int x = 0; x < 2 * W; x++) dst[x] = src[x / 2];
                }
            break;
        }
        case GT_PROG_RESHAPE: swap = false; break;
        case GT_PROG_SAVE:
            memcpy(stack + depth * p->max_act, cur, (size_t)n_in * sizeof *cur), depth++;
            swap = false;
            break;
        case GT_PROG_ADD: {
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
        const gt_prog_op *o = &p->ops[i];
        if ((o->kind == GT_PROG_AFFINE && (!o->w || !o->b)) || (o->qw && !o->w_scale))
            return gt_set_error(GT_ERR_ARG, "gt_prog_run: op %d (%s) lacks its weights or scales", i, gt_prog_op_name(o->kind));
    }
    int nt = omp_get_max_threads();
    if (nt > n) nt = n;
    if (nt < 1) nt = 1;
    int64_t ncol = 0;
    for (int i = 0; i < p->n; i++) ncol = gt__col_numel(&p->ops[i]) > ncol ? gt__col_numel(&p->ops[i]) : ncol;
    const int64_t per = (int64_t)(2 + p->max_stack) * p->max_act + ncol;
    float *ws = malloc((size_t)(per * nt) * sizeof *ws);
    if (!ws) return gt_set_error(GT_ERR_OOM, "gt_prog_run: out of memory (%lld floats of workspace)", (long long)(per * nt));
    const int64_t ni = gt_prog_in_numel(p), no = gt_prog_out_numel(p);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int s = 0; s < n; s++) {
        float *w = ws + per * omp_get_thread_num();
        gt__run_one(p, in + (int64_t)s * ni, out + (int64_t)s * no, w, w + p->max_act, w + 2 * p->max_act,
                    w + (2 + p->max_stack) * p->max_act, nt > 1 ? 1 : 0);
    }
    free(ws);
    return GT_OK;
}
