/* int8 programs (gantry/compress.h): per-output-channel symmetric weight quantization, input
 * scales calibrated on the float program's activations, the int8 kernels (run here, one sample at
 * a time, and emitted verbatim into an exported C file: prog_export.c).
 *
 * Arithmetic (the same in the library and in an exported file, so both give the same bits):
 *   q_x  = lrintf(clamp(x * (1 / in_scale), -127, 127))       (NaN -> 0; round half to even)
 *   acc  = sum q_w * q_x                                        (int32; |q| <= 127)
 *   y    = fmaf((float)acc, in_scale * w_scale[oc], b[oc])     (b NULL: 0)
 * The multiply-add is an explicit fmaf so that neither compiler (this library is built with
 * -ffp-contract=fast; an exported file with whatever flags its user picks) can fuse or split it
 * differently. Integer sums are exact in any order; |acc| <= 127 * 127 * K, so K = cin * k * k (or
 * cin of a linear layer) up to 133,000 cannot overflow. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress_internal.h"

/* The kernels, written once: compiled here and stringized for gt__q8_emit_kernels. No directives,
 * comments or string literals inside (the preprocessor drops comments before stringizing). */
#if defined(__GNUC__)
#define GT_Q8_FN __attribute__((unused))
#else
#define GT_Q8_FN
#endif
#define GT__Q8_KERNELS(...)                                      \
    static const char gt__q8_src[] = #__VA_ARGS__; \
    __VA_ARGS__

GT__Q8_KERNELS(
GT_Q8_FN static void gt__q8k_quant(const float *x, int8_t *q, long n, float in_scale) {
    const float inv = 1.0f / in_scale;
    for (long i = 0; i < n; i++) {
        float v = x[i] * inv;
        v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v == v ? v : 0.0f;
        q[i] = (int8_t)lrintf(v);
    }
}

GT_Q8_FN static int32_t gt__q8k_dot(const int8_t *a, const int8_t *b, int n) {
    int32_t s = 0;
    for (int i = 0; i < n; i++) s += (int16_t)(a[i] * b[i]);
    return s;
}

GT_Q8_FN static float gt__q8k_out(int32_t acc, float in_scale, const float *w_scale, const float *b, int oc) {
    return fmaf((float)acc, in_scale * w_scale[oc], b ? b[oc] : 0.0f);
}

GT_Q8_FN static int gt__q8k_reflect(int i, int n) { return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i; }

GT_Q8_FN static void gt__q8k_linear(const float *in, float *out, int8_t *xq, const int8_t *w, const float *w_scale,
                           const float *b, float in_scale, int cin, int cout) {
    gt__q8k_quant(in, xq, cin, in_scale);
    for (int oc = 0; oc < cout; oc++)
        out[oc] = gt__q8k_out(gt__q8k_dot(w + (long)oc * cin, xq, cin), in_scale, w_scale, b, oc);
}

GT_Q8_FN static int32_t gt__q8k_dot16(const int16_t *a, const int16_t *b, int n) {
    int32_t s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

GT_Q8_FN static void gt__q8k_dot16x4(const int16_t *w, int n, const int16_t *c, int32_t *o) {
    const int16_t *w0 = w, *w1 = w + n, *w2 = w + 2 * n, *w3 = w + 3 * n;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < n; i++) s0 += w0[i] * c[i], s1 += w1[i] * c[i], s2 += w2[i] * c[i], s3 += w3[i] * c[i];
    o[0] = s0, o[1] = s1, o[2] = s2, o[3] = s3;
}

GT_Q8_FN static void gt__q8k_conv(const float *in, float *out, int8_t *xq, int16_t *col, const int8_t *w,
                         const float *w_scale, const float *b, float in_scale, int cin, int h, int wd, int cout,
                         int k, int stride, int pad, int reflect, int oh, int ow) {
    const int K = cin * k * k, P = oh * ow, ph = h + 2 * pad, pw = wd + 2 * pad;
    int16_t *wr = col + (long)P * K, *xp = wr + 4L * K;
    gt__q8k_quant(in, xq, (long)cin * h * wd, in_scale);
    for (int ci = 0; ci < cin; ci++)
        for (int y = 0; y < ph; y++) {
            int iy = y - pad;
            if (reflect) iy = gt__q8k_reflect(iy, h);
            int16_t *d = xp + ((long)ci * ph + y) * pw;
            for (int x = 0; x < pw; x++) {
                int ix = x - pad;
                if (reflect) ix = gt__q8k_reflect(ix, wd);
                d[x] = iy >= 0 && iy < h && ix >= 0 && ix < wd ? xq[((long)ci * h + iy) * wd + ix] : 0;
            }
        }
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            int16_t *c = col + ((long)oy * ow + ox) * K;
            for (int ci = 0; ci < cin; ci++)
                for (int ky = 0; ky < k; ky++) {
                    const int16_t *r = xp + ((long)ci * ph + (long)oy * stride + ky) * pw + (long)ox * stride;
                    for (int kx = 0; kx < k; kx++) *c++ = r[kx];
                }
        }
    int oc = 0;
    for (; oc + 4 <= cout; oc += 4) {
        for (long i = 0; i < 4L * K; i++) wr[i] = w[(long)oc * K + i];
        for (int p = 0; p < P; p++) {
            int32_t a[4];
            gt__q8k_dot16x4(wr, K, col + (long)p * K, a);
            for (int j = 0; j < 4; j++) out[(long)(oc + j) * P + p] = gt__q8k_out(a[j], in_scale, w_scale, b, oc + j);
        }
    }
    for (; oc < cout; oc++) {
        for (long i = 0; i < K; i++) wr[i] = w[(long)oc * K + i];
        for (int p = 0; p < P; p++)
            out[(long)oc * P + p] = gt__q8k_out(gt__q8k_dot16(wr, col + (long)p * K, K), in_scale, w_scale, b, oc);
    }
}

GT_Q8_FN static void gt__q8k_convt(const float *in, float *out, int8_t *xq, int32_t *acc, int32_t *row, const int8_t *w,
                          const float *w_scale, const float *b, float in_scale, int cin, int h, int wd, int cout,
                          int k, int stride, int pad, int oh, int ow) {
    const long R = (long)cout * k * k, HW = (long)h * wd, P = (long)oh * ow;
    int32_t *nzi = row + R, *nzv = nzi + cin;
    gt__q8k_quant(in, xq, cin * HW, in_scale);
    memset(acc, 0, sizeof(int32_t) * (size_t)(cout * P));
    for (int iy = 0; iy < h; iy++)
        for (int ix = 0; ix < wd; ix++) {
            int nz = 0;
            for (int ci = 0; ci < cin; ci++) {
                const int xv = xq[ci * HW + (long)iy * wd + ix];
                if (xv) nzi[nz] = ci, nzv[nz] = xv, nz++;
            }
            memset(row, 0, sizeof(int32_t) * (size_t)R);
            int j = 0;
            for (; j + 4 <= nz; j += 4) {
                const int8_t *w0 = w + nzi[j] * R, *w1 = w + nzi[j + 1] * R, *w2 = w + nzi[j + 2] * R, *w3 = w + nzi[j + 3] * R;
                const int16_t x0 = (int16_t)nzv[j], x1 = (int16_t)nzv[j + 1], x2 = (int16_t)nzv[j + 2], x3 = (int16_t)nzv[j + 3];
                for (long r = 0; r < R; r++)
                    row[r] += (int16_t)(w0[r] * x0 + w1[r] * x1) + (int16_t)(w2[r] * x2 + w3[r] * x3);
            }
            for (; j < nz; j++) {
                const int8_t *wr = w + nzi[j] * R;
                const int16_t xv = (int16_t)nzv[j];
                for (long r = 0; r < R; r++) row[r] += (int16_t)(wr[r] * xv);
            }
            for (int oc = 0; oc < cout; oc++)
                for (int ky = 0; ky < k; ky++) {
                    const int oy = iy * stride - pad + ky;
                    if (oy < 0 || oy >= oh) continue;
                    int32_t *a = acc + oc * P + (long)oy * ow;
                    const int32_t *rr = row + ((long)oc * k + ky) * k;
                    for (int kx = 0; kx < k; kx++) {
                        const int ox = ix * stride - pad + kx;
                        if (ox >= 0 && ox < ow) a[ox] += rr[kx];
                    }
                }
        }
    for (int oc = 0; oc < cout; oc++)
        for (long p = 0; p < P; p++) out[oc * P + p] = gt__q8k_out(acc[oc * P + p], in_scale, w_scale, b, oc);
}
)

/* Scratch sizes of op o's kernel (elements): the quantized input (int8), conv's columns, four
 * weight rows and its padded input (int16, so that the dot products are pairwise multiply-adds:
 * pmaddwd on x86; padding once, the columns are copies without bounds checks),
 * convt's output accumulator and per-pixel row, with the indices and values of the pixel's
 * nonzero inputs (int32). */
typedef struct {
    long xq, col, acc, row;
} gt__q8_scratch;

static gt__q8_scratch gt__q8_sizes(const gt_prog_op *o) {
    gt__q8_scratch s = {(long)o->in_c * o->in_h * o->in_w, 0, 0, 0};
    if (o->kind == GT_PROG_CONV)
        s.col = ((long)o->out_h * o->out_w + 4) * o->cin * o->k * o->k +
                (long)o->cin * (o->in_h + 2 * o->pad) * (o->in_w + 2 * o->pad);
    if (o->kind == GT_PROG_CONVT) s.acc = (long)o->cout * o->out_h * o->out_w, s.row = (long)o->cout * o->k * o->k + 2L * o->cin;
    return s;
}

void gt__q8_run_op(const gt_prog_op *o, const float *in, float *out) {
    const gt__q8_scratch s = gt__q8_sizes(o);
    const long n_out = (long)o->out_c * o->out_h * o->out_w;
    int8_t *xq = malloc((size_t)s.xq + 1);
    int16_t *col = s.col ? malloc(sizeof(int16_t) * (size_t)s.col) : NULL;
    int32_t *acc = s.acc ? malloc(sizeof(int32_t) * (size_t)(s.acc + s.row)) : NULL;
    if (!xq || (s.col && !col) || (s.acc && !acc) || !o->qw || !o->w_scale) {
        free(xq), free(col), free(acc);
        gt_set_error(o->qw ? GT_ERR_OOM : GT_ERR_ARG, "int8 %s: %s", gt_prog_op_name(o->kind),
                     o->qw ? "out of memory" : "the op is not quantized");
        for (long i = 0; i < n_out; i++) out[i] = NAN;
        return;
    }
    switch (o->kind) {
    case GT_PROG_LINEAR: gt__q8k_linear(in, out, xq, o->qw, o->w_scale, o->b, o->in_scale, o->cin, o->cout); break;
    case GT_PROG_CONV:
        gt__q8k_conv(in, out, xq, col, o->qw, o->w_scale, o->b, o->in_scale, o->cin, o->in_h, o->in_w, o->cout,
                     o->k, o->stride, o->pad, o->pad_reflect, o->out_h, o->out_w);
        break;
    case GT_PROG_CONVT:
        gt__q8k_convt(in, out, xq, acc, acc + s.acc, o->qw, o->w_scale, o->b, o->in_scale, o->cin, o->in_h, o->in_w,
                      o->cout, o->k, o->stride, o->pad, o->out_h, o->out_w);
        break;
    default:
        gt_set_error(GT_ERR_ARG, "int8: %s has no int8 kernel", gt_prog_op_name(o->kind));
        for (long i = 0; i < n_out; i++) out[i] = NAN;
    }
    free(xq), free(col), free(acc);
}

/* --- emission ---------------------------------------------------------------------------------- */

/* gt__q8_src is one line: written back with a line after each ';' outside parentheses and each
 * brace, indented by brace depth. */
static void gt__q8_pretty(FILE *f, const char *s) {
    int depth = 0, paren = 0;
    bool bol = true;
    for (; *s; s++) {
        char c = *s;
        if (bol) {
            if (c == ' ') continue;
            if (c == '}') depth--;
            for (int i = 0; i < depth; i++) fputs("    ", f);
            bol = false;
        }
        fputc(c, f);
        if (c == '(') paren++;
        else if (c == ')') paren--;
        else if (c == '{') depth++;
        if ((c == ';' && !paren) || c == '{' || c == '}') {
            /* "} else", "};": keep on the line */
            const char *t = s + 1;
            while (*t == ' ') t++;
            if (c == '}' && (*t == ';' || !strncmp(t, "else", 4))) continue;
            fputc('\n', f), bol = true;
            if (c == '}' && !depth) fputc('\n', f);
        }
    }
    if (!bol) fputc('\n', f);
}

gt_status gt__q8_emit_kernels(FILE *f) {
    fputs("/* int8 kernels: inputs quantized per op (q = lrintf(clamp(x / in_scale, -127, 127))), int32\n"
          " * accumulation of int8 products, y = fmaf(acc, in_scale * w_scale[oc], bias[oc]). */\n"
          "#include <math.h>\n#include <stdint.h>\n#include <string.h>\n\n"
          "/* GCC vectorizes these loops from -O3 on; the attribute gets that at -O2 as well */\n"
          "#if defined(__GNUC__) && !defined(__clang__)\n#define GT_Q8_FN __attribute__((unused, optimize(\"O3\")))\n"
          "#elif defined(__GNUC__)\n#define GT_Q8_FN __attribute__((unused))\n#else\n#define GT_Q8_FN\n#endif\n\n",
          f);
    gt__q8_pretty(f, gt__q8_src);
    return ferror(f) ? gt_set_error(GT_ERR_IO, "export: writing the int8 kernels failed") : GT_OK;
}

static void gt__q8_put_float(FILE *f, float v) {
    if (isnan(v)) fputs("NAN", f);
    else if (isinf(v)) fputs(v > 0 ? "INFINITY" : "-INFINITY", f);
    else fprintf(f, "%af", (double)v);
}

static void gt__q8_put_floats(FILE *f, const char *prefix, const char *name, const float *v, long n) {
    fprintf(f, "static const float %s%s[%ld] = {", prefix, name, n);
    for (long i = 0; i < n; i++) {
        fputs(i % 8 ? ", " : i ? ",\n    " : "\n    ", f);
        gt__q8_put_float(f, v[i]);
    }
    fputs("\n};\n", f);
}

static int64_t gt__q8_wnumel(const gt_prog_op *o) {
    return o->kind == GT_PROG_LINEAR ? (int64_t)o->cin * o->cout : (int64_t)o->cin * o->cout * o->k * o->k;
}

gt_status gt__q8_emit_weights(FILE *f, const gt_prog_op *o, const char *prefix) {
    if (!o->qw || !o->w_scale) return gt_set_error(GT_ERR_IO, "export: op %s is not quantized", gt_prog_op_name(o->kind));
    const int64_t n = gt__q8_wnumel(o);
    fprintf(f, "/* int8 %s %d -> %d (k %d, stride %d, pad %d): weights per output channel */\n", gt_prog_op_name(o->kind),
            o->cin, o->cout, o->k, o->stride, o->pad);
    fprintf(f, "static const int8_t %sqw[%lld] = {", prefix, (long long)n);
    for (int64_t i = 0; i < n; i++) fprintf(f, "%s%d", i % 24 ? "," : i ? ",\n    " : "\n    ", o->qw[i]);
    fputs("\n};\n", f);
    gt__q8_put_floats(f, prefix, "ws", o->w_scale, o->cout);
    if (o->b) gt__q8_put_floats(f, prefix, "b", o->b, o->cout);
    const gt__q8_scratch s = gt__q8_sizes(o);
    fprintf(f, "static int8_t %sxq[%ld];\n", prefix, s.xq);
    if (s.col) fprintf(f, "static int16_t %scol[%ld];\n", prefix, s.col);
    if (s.acc) fprintf(f, "static int32_t %sacc[%ld];\nstatic int32_t %srow[%ld];\n", prefix, s.acc, prefix, s.row);
    return ferror(f) ? gt_set_error(GT_ERR_IO, "export: writing an int8 op's weights failed") : GT_OK;
}

gt_status gt__q8_emit_call(FILE *f, const gt_prog_op *o, const char *prefix, const char *in, const char *out) {
    if (!o->qw || !o->w_scale) return gt_set_error(GT_ERR_IO, "export: op %s is not quantized", gt_prog_op_name(o->kind));
    char b[96];
    if (o->b) snprintf(b, sizeof b, "%sb", prefix);
    else snprintf(b, sizeof b, "(const float *)0");
    const char *P = prefix;
    switch (o->kind) {
    case GT_PROG_LINEAR:
        fprintf(f, "    gt__q8k_linear(%s, %s, %sxq, %sqw, %sws, %s, ", in, out, P, P, P, b);
        gt__q8_put_float(f, o->in_scale);
        fprintf(f, ", %d, %d);\n", o->cin, o->cout);
        break;
    case GT_PROG_CONV:
        fprintf(f, "    gt__q8k_conv(%s, %s, %sxq, %scol, %sqw, %sws, %s, ", in, out, P, P, P, P, b);
        gt__q8_put_float(f, o->in_scale);
        fprintf(f, ", %d, %d, %d, %d, %d, %d, %d, %d, %d, %d);\n", o->cin, o->in_h, o->in_w, o->cout, o->k, o->stride,
                o->pad, o->pad_reflect ? 1 : 0, o->out_h, o->out_w);
        break;
    case GT_PROG_CONVT:
        fprintf(f, "    gt__q8k_convt(%s, %s, %sxq, %sacc, %srow, %sqw, %sws, %s, ", in, out, P, P, P, P, P, b);
        gt__q8_put_float(f, o->in_scale);
        fprintf(f, ", %d, %d, %d, %d, %d, %d, %d, %d, %d);\n", o->cin, o->in_h, o->in_w, o->cout, o->k, o->stride,
                o->pad, o->out_h, o->out_w);
        break;
    default: return gt_set_error(GT_ERR_IO, "export: %s has no int8 kernel", gt_prog_op_name(o->kind));
    }
    return ferror(f) ? gt_set_error(GT_ERR_IO, "export: writing an int8 call failed") : GT_OK;
}

/* --- quantization ------------------------------------------------------------------------------ */

static bool gt__q8_layer(gt_prog_kind k) { return k == GT_PROG_LINEAR || k == GT_PROG_CONV || k == GT_PROG_CONVT; }

/* The k-th smallest of v[0..n) (v reordered): quickselect with a three-way partition (ReLU outputs
 * hold many equal zeros). */
static float gt__q8_select(float *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
        float piv = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
        int64_t lt = lo, i = lo, gt = hi;
        while (i <= gt) {
            float x = v[i];
            if (x < piv) v[i] = v[lt], v[lt] = x, lt++, i++;
            else if (x > piv) v[i] = v[gt], v[gt] = x, gt--;
            else i++;
        }
        if (k < lt) hi = lt - 1;
        else if (k > gt) lo = gt + 1;
        else return piv;
    }
    return v[k];
}

/* The clipping value of activations x[0..n): max |x|, or the pct percentile of |x| (nearest rank). */
static gt_status gt__q8_clip(const float *x, int64_t n, double pct, float *out) {
    if (pct >= 100.0) {
        float m = 0.0f;
        for (int64_t i = 0; i < n; i++) {
            float a = fabsf(x[i]);
            m = a > m ? a : m;
        }
        *out = m;
        return GT_OK;
    }
    float *a = malloc((size_t)n * sizeof *a);
    if (!a) return gt_set_error(GT_ERR_OOM, "gt_prog_quantize: out of memory (%lld activations)", (long long)n);
    for (int64_t i = 0; i < n; i++) a[i] = fabsf(x[i]);
    int64_t k = (int64_t)ceil(pct / 100.0 * (double)n) - 1;
    k = k < 0 ? 0 : k >= n ? n - 1 : k;
    *out = gt__q8_select(a, n, k);
    free(a);
    return GT_OK;
}

/* Per-output-channel symmetric int8 weights of o into qw (numel) and ws (cout). Channel oc's
 * elements are n_runs runs of len values, step apart: linear and conv (cout, ...) one run of
 * numel / cout; convt (cin, cout, k, k) cin runs of k * k. */
static gt_status gt__q8_weights(const gt_prog_op *o, int8_t *qw, float *ws) {
    const bool t = o->kind == GT_PROG_CONVT;
    const int64_t kk = (int64_t)o->k * o->k, per = gt__q8_wnumel(o) / o->cout;
    const int64_t n_runs = t ? o->cin : 1, len = t ? kk : per, step = t ? o->cout * kk : 0;
    for (int oc = 0; oc < o->cout; oc++) {
        const int64_t base = oc * len;
        float m = 0.0f;
        for (int64_t r = 0; r < n_runs; r++)
            for (int64_t j = 0; j < len; j++) {
                const float v = fabsf(o->w[base + r * step + j]);
                if (!isfinite(v)) return gt_set_error(GT_ERR_ARG, "gt_prog_quantize: %s weights are not finite", gt_prog_op_name(o->kind));
                m = v > m ? v : m;
            }
        const float s = m > 0.0f ? m / 127.0f : 1.0f;
        ws[oc] = s;
        for (int64_t r = 0; r < n_runs; r++)
            for (int64_t j = 0; j < len; j++) {
                const int64_t e = base + r * step + j;
                const float q = rintf(o->w[e] / s);
                qw[e] = (int8_t)(q > 127.0f ? 127 : q < -127.0f ? -127 : (int)q);
            }
    }
    return GT_OK;
}

/* Runs op o alone (float) on n samples: a one-op program over the op's input shape. */
static gt_status gt__q8_run_float(const gt_prog_op *o, const float *in, float *out, int n) {
    gt_prog_op one = *o;
    one.qw = NULL, one.w_scale = NULL, one.in_scale = 0.0f;
    gt_prog t;
    gt_prog_init(&t, "calibration", false, o->in_c, o->in_h, o->in_w);
    t.ops = &one, t.n = t.cap = 1;
    gt_status st = gt_prog_finish(&t);
    return st == GT_OK ? gt_prog_run(&t, in, out, n) : st;
}

gt_status gt_prog_quantize(gt_prog *p, const float *calib, int n_calib, double pct) {
    if (!p || !p->ops || p->n < 1 || p->out_c < 1)
        return gt_set_error(GT_ERR_ARG, "gt_prog_quantize: not a finished program (gt_prog_finish)");
    if (!calib || n_calib < 1) return gt_set_error(GT_ERR_ARG, "gt_prog_quantize: needs calibration samples (got %d)", n_calib);
    if (!(pct > 0.0 && pct <= 100.0))
        return gt_set_error(GT_ERR_ARG, "gt_prog_quantize: the percentile must be in (0, 100], got %g", pct);
    int last = -1;
    for (int i = 0; i < p->n; i++)
        if (gt__q8_layer(p->ops[i].kind)) last = i;
    if (last < 0) return gt_set_error(GT_ERR_ARG, "gt_prog_quantize: the program has no linear or conv layer");
    const int64_t N = n_calib, act = p->max_act;
    gt_status st = GT_OK;
    float *in_scale = calloc((size_t)p->n, sizeof *in_scale);
    int8_t **qw = calloc((size_t)p->n, sizeof *qw);
    float **ws = calloc((size_t)p->n, sizeof *ws);
    float *cur = malloc((size_t)(N * act) * sizeof *cur), *nxt = malloc((size_t)(N * act) * sizeof *nxt);
    float *stack[GT_PROG_STACK_MAX] = {0};
    int depth = 0;
    if (!in_scale || !qw || !ws || !cur || !nxt) st = gt_set_error(GT_ERR_OOM, "gt_prog_quantize: out of memory");
    else memcpy(cur, calib, (size_t)(N * gt_prog_in_numel(p)) * sizeof *cur);
    for (int i = 0; st == GT_OK && i <= last; i++) {
        const gt_prog_op *o = &p->ops[i];
        const int64_t n_in = (int64_t)o->in_c * o->in_h * o->in_w;
        if (gt__q8_layer(o->kind)) {
            float clip = 0.0f;
            st = gt__q8_clip(cur, N * n_in, pct, &clip);
            if (st == GT_OK && !isfinite(clip))
                st = gt_set_error(GT_ERR_ARG, "gt_prog_quantize: op %d (%s): the calibration activations are not finite", i,
                                  gt_prog_op_name(o->kind));
            if (st != GT_OK) break;
            in_scale[i] = (clip > 1e-8f ? clip : 1e-8f) / 127.0f;
            const int64_t wn = gt__q8_wnumel(o);
            qw[i] = malloc((size_t)wn), ws[i] = malloc((size_t)o->cout * sizeof(float));
            if (!qw[i] || !ws[i]) st = gt_set_error(GT_ERR_OOM, "gt_prog_quantize: out of memory");
            else st = gt__q8_weights(o, qw[i], ws[i]);
            if (st != GT_OK || i == last) break;
        }
        if (o->kind == GT_PROG_RESHAPE) continue;
        if (o->kind == GT_PROG_SAVE) {
            stack[depth] = malloc((size_t)(N * n_in) * sizeof(float));
            if (!stack[depth]) st = gt_set_error(GT_ERR_OOM, "gt_prog_quantize: out of memory");
            else memcpy(stack[depth++], cur, (size_t)(N * n_in) * sizeof(float));
            continue;
        }
        if (o->kind == GT_PROG_ADD) {
            float *s = stack[--depth];
            for (int64_t j = 0; j < N * n_in; j++) cur[j] += s[j];
            free(s), stack[depth] = NULL;
            continue;
        }
        st = gt__q8_run_float(o, cur, nxt, n_calib);
        float *t = cur;
        cur = nxt, nxt = t;
    }
    if (st == GT_OK) {
        for (int i = 0; i <= last; i++) {
            gt_prog_op *o = &p->ops[i];
            if (!gt__q8_layer(o->kind)) continue;
            free(o->qw), free(o->w_scale);
            o->qw = qw[i], o->w_scale = ws[i], o->in_scale = in_scale[i];
            qw[i] = NULL, ws[i] = NULL;
        }
        p->quantized = true;
    }
    for (int i = 0; qw && ws && i < p->n; i++) free(qw[i]), free(ws[i]);
    for (int i = 0; i < depth; i++) free(stack[i]);
    free(in_scale), free(qw), free(ws), free(cur), free(nxt);
    return st;
}
