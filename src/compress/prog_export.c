/* A program of plain layers (gantry/compress.h) as one dependency-free C11 file: the weights as
 * static const float arrays (hex floats, exact), one static function per op with every size a
 * literal, static work buffers, and
 *     void <fn>(const float *in, float *out);    one sample, (C, H, W) row-major in and out
 * Inside, activations are channel-last (H, W, C): a convolution, a transposed convolution or a
 * linear layer computes each output pixel as a sum over its valid taps of W_tap^T x_pixel, with
 * the weights re-laid out here as [tap][cin][cout rounded up to 8] so the innermost loop is a
 * contiguous, vectorisable axpy over output channels held in registers (8 floats a vector, four
 * vectors a chunk); layers with fewer than 8 outputs and a multiple of 8 inputs use dot products
 * over the input channels instead. An eval batch norm (affine) and an activation that follow a
 * layer are applied in its output loop. GNU C vector types when the compiler has them (gcc, clang),
 * a plain struct of 8 floats otherwise (or with -DGT_EXPORT_PORTABLE). Int8 ops (opts->int8) are
 * emitted by prog_quant.c's gt__q8_emit_* on (C, H, W) buffers. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress_internal.h"
#include "gantry/io.h"

#define GT__VW 8    /* floats per vector */
#define GT__CHUNK 4 /* vectors of accumulators per chunk */

static int gt__round8(int n) { return (n + GT__VW - 1) / GT__VW * GT__VW; }

static bool gt__is_layer(const gt_prog_op *o) {
    return o->kind == GT_PROG_LINEAR || o->kind == GT_PROG_CONV || o->kind == GT_PROG_CONVT;
}
static bool gt__is_act(gt_prog_kind k) {
    return k == GT_PROG_RELU || k == GT_PROG_LRELU || k == GT_PROG_TANH || k == GT_PROG_SIGMOID;
}

/* "static _Alignas(32) const float name[n] = {...};" with v exact (%a), n >= 1. */
static void gt__emit_array(FILE *f, const char *name, const float *v, int64_t n) {
    fprintf(f, "static _Alignas(32) const float %s[%lld] = {", name, (long long)n);
    for (int64_t i = 0; i < n; i++) {
        if (i % 8 == 0) fputs("\n   ", f);
        if (v[i] == 0.0f && !signbit(v[i])) fputs(" 0,", f);
        else fprintf(f, " %a,", (double)v[i]);
    }
    fputs("\n};\n", f);
}

/* The activation applied to float v as a C expression. */
static void gt__emit_act(FILE *f, const gt_prog_op *a, const char *v) {
    switch (a->kind) {
    case GT_PROG_RELU: fprintf(f, "%s > 0.0f ? %s : 0.0f", v, v); break;
    case GT_PROG_LRELU: fprintf(f, "%s > 0.0f ? %s : %s * %af", v, v, v, (double)a->slope); break;
    case GT_PROG_TANH: fprintf(f, "tanhf(%s)", v); break;
    default: fprintf(f, "1.0f / (1.0f + expf(-%s))", v); break;
    }
}

/* Sizes of a layer as a convolution over pixels: LINEAR is a 1 x 1 "conv" on one pixel of all inputs. */
typedef struct {
    int H, W, OH, OW, cin, cout, coutp, k, s, p;
    bool dot; /* dot products over input channels (few outputs) */
} gt__lay;

static gt__lay gt__layout(const gt_prog_op *o) {
    gt__lay L = {o->in_h, o->in_w, o->out_h, o->out_w, o->cin, o->cout, gt__round8(o->cout), o->k, o->stride, o->pad, false};
    if (o->kind == GT_PROG_LINEAR) L.H = L.W = L.OH = L.OW = 1, L.k = 1, L.s = 1, L.p = 0;
    L.dot = L.cout < GT__VW && L.cin >= GT__VW;
    return L;
}

/* The weights of layer o re-laid out: axpy [tap][cin][coutp], or dot [cout][tap][cin]; bias (coutp). */
static float *gt__relayout(const gt_prog_op *o, const gt__lay *L, int64_t *n) {
    const int kk = L->k * L->k;
    *n = L->dot ? (int64_t)L->cout * kk * L->cin : (int64_t)kk * L->cin * L->coutp;
    float *w = calloc((size_t)*n, sizeof *w);
    if (!w) return NULL;
    const int64_t hw = (int64_t)o->in_h * o->in_w;
    for (int oc = 0; oc < L->cout; oc++)
        for (int ic = 0; ic < L->cin; ic++)
            for (int t = 0; t < kk; t++) {
                float v;
                if (o->kind == GT_PROG_CONV) v = o->w[((int64_t)oc * L->cin + ic) * kk + t];
                else if (o->kind == GT_PROG_CONVT) v = o->w[((int64_t)ic * L->cout + oc) * kk + t];
                else {
                    /* input ic is channel-last position q = pixel * C + c; the layer's index is c * HW + pixel */
                    int64_t pix = ic / o->in_c, c = ic % o->in_c;
                    v = o->w[(int64_t)oc * L->cin + c * hw + pix];
                }
                if (L->dot) w[((int64_t)oc * kk + t) * L->cin + ic] = v;
                else w[((int64_t)t * L->cin + ic) * L->coutp + oc] = v;
            }
    return w;
}

/* --- layers ---------------------------------------------------------------------------------- */
/* Output pixels are taken in blocks of P along x that share their candidate taps: a conv's
 * neighbours (step 1), a transposed conv's pixels of one phase (step stride). A tap valid for some
 * pixels of a block and not others reads zeros for those (gt_zero). The block size is the largest
 * of 4, 2 whose wasted share of work (such zero taps, pixels past the row's end) is under 30%. */
static int gt__step(const gt_prog_op *o, const gt__lay *L) { return o->kind == GT_PROG_CONVT ? L->s : 1; }

/* Input coordinate of output coordinate out through tap k along a side of n, or -1 (no input). */
static int gt__in_coord(const gt_prog_op *o, const gt__lay *L, int out, int k, int n) {
    if (o->kind == GT_PROG_CONVT) {
        int t = out + L->p - k;
        return t < 0 || t % L->s || t / L->s >= n ? -1 : t / L->s;
    }
    int i = out * L->s - L->p + k;
    if (o->pad_reflect) i = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
    return i < 0 || i >= n ? -1 : i;
}

/* Useful (pixel, tap) pairs over those computed with blocks of P. */
static double gt__block_eff(const gt_prog_op *o, const gt__lay *L, int P) {
    const int step = gt__step(o, L);
    int64_t useful = 0, done = 0;
    for (int oy = 0; oy < L->OH; oy++)
        for (int c0 = 0; c0 < step && c0 < L->OW; c0++)
            for (int ox = c0; ox < L->OW; ox += P * step)
                for (int ky = 0; ky < L->k; ky++) {
                    if (gt__in_coord(o, L, oy, ky, L->H) < 0) continue;
                    for (int kx = 0; kx < L->k; kx++) {
                        int n = 0;
                        for (int j = 0; j < P; j++)
                            n += ox + j * step < L->OW && gt__in_coord(o, L, ox + j * step, kx, L->W) >= 0;
                        useful += n, done += n ? P : 0;
                    }
                }
    return done ? (double)useful / (double)done : 1.0;
}

/* The weight arrays of layer id: re-laid out weights, bias (coutp), the fused affine's scale and shift. */
static gt_status gt__emit_layer_data(FILE *f, int id, const gt_prog_op *o, const gt_prog_op *aff) {
    gt__lay L = gt__layout(o);
    int64_t nw = 0;
    float *w = gt__relayout(o, &L, &nw);
    float *b = calloc((size_t)L.coutp, sizeof *b);
    if (!w || !b) {
        free(w), free(b);
        return gt_set_error(GT_ERR_OOM, "gt_prog_export_c: out of memory");
    }
    if (o->b) memcpy(b, o->b, (size_t)L.cout * sizeof *b);
    char name[32];
    fprintf(f, "\n/* op %d: %s %d -> %d, k %d, stride %d, pad %d%s, out_pad %d, (%d, %d, %d) -> (%d, %d, %d) */\n", id,
            gt_prog_op_name(o->kind), o->cin, o->cout, o->k, o->stride, o->pad, o->pad_reflect ? " (reflect)" : "", o->out_pad,
            o->in_c, o->in_h, o->in_w, o->out_c, o->out_h, o->out_w);
    snprintf(name, sizeof name, "gt_w%d", id), gt__emit_array(f, name, w, nw);
    snprintf(name, sizeof name, "gt_b%d", id), gt__emit_array(f, name, b, L.coutp);
    free(w), free(b);
    if (aff) {
        snprintf(name, sizeof name, "gt_s%d", id), gt__emit_array(f, name, aff->w, L.cout);
        snprintf(name, sizeof name, "gt_t%d", id), gt__emit_array(f, name, aff->b, L.cout);
    }
    return GT_OK;
}

/* Dot products (few outputs) for the pixel of a block of 1: per output channel, over the taps' input
 * channels (vectors, then the rest one by one). */
static void gt__emit_dot(FILE *f, int id, const gt__lay *L) {
    const int c8 = L->cin / 8 * 8;
    const char *in = "                ";
    fprintf(f, "%sfloat *yp = y + (oy * %d + ox) * %d;\n", in, L->OW, L->cout);
    fprintf(f, "%sfor (int oc = 0; oc < %d; oc++) {\n%s    gv8 s = GV_ZERO;\n%s    float r = 0.0f, u[8];\n", in, L->cout, in, in);
    fprintf(f, "%s    for (int t = 0; t < nt; t++) {\n%s        const float *wp = gt_w%d + (oc * %d + wo[t]) * %d, *xq = xp0[t];\n",
            in, in, id, L->k * L->k, L->cin);
    fprintf(f, "%s        for (int ic = 0; ic < %d; ic += 8) s = GV_FMA(s, GV_LOAD(xq + ic), GV_LOAD(wp + ic));\n", in, c8);
    if (c8 < L->cin) fprintf(f, "%s        for (int ic = %d; ic < %d; ic++) r += xq[ic] * wp[ic];\n", in, c8, L->cin);
    fprintf(f, "%s    }\n%s    GV_STORE(u, s);\n", in, in);
    fprintf(f, "%s    yp[oc] = ((u[0] + u[1]) + (u[2] + u[3])) + ((u[4] + u[5]) + (u[6] + u[7])) + r + gt_b%d[oc];\n", in, id);
    fprintf(f, "%s}\n", in);
}

/* A conv's dot products where the pixel's taps along x lie inside the row: the k taps of a kernel
 * row are then k * cin contiguous inputs (channel-last) against k * cin contiguous weights, one dot
 * product a kernel row; the pixel is done (continue). */
static void gt__emit_dot_rows(FILE *f, int id, const gt_prog_op *o, const gt__lay *L) {
    const int n = L->k * L->cin, n8 = n / 8 * 8;
    const char *in = "                ";
    fprintf(f, "%sif (ox * %d - %d >= 0 && ox * %d - %d + %d <= %d) {\n", in, L->s, L->p, L->s, L->p, L->k, L->W);
    fprintf(f, "%s    float *yp = y + (oy * %d + ox) * %d;\n", in, L->OW, L->cout);
    fprintf(f, "%s    for (int oc = 0; oc < %d; oc++) {\n%s        gv8 s = GV_ZERO;\n%s        float r = 0.0f, u[8];\n", in,
            L->cout, in, in);
    fprintf(f, "%s        for (int ky = 0; ky < %d; ky++) {\n", in, L->k);
    fprintf(f, "%s            int iy = oy * %d - %d + ky;\n", in, L->s, L->p);
    if (o->pad_reflect) fprintf(f, "%s            iy = iy < 0 ? -iy : iy >= %d ? %d - iy : iy;\n", in, L->H, 2 * (L->H - 1));
    else fprintf(f, "%s            if (iy < 0 || iy >= %d) continue;\n", in, L->H);
    fprintf(f, "%s            const float *xq = x + (iy * %d + ox * %d - %d) * %d, *wp = gt_w%d + (oc * %d + ky * %d) * %d;\n",
            in, L->W, L->s, L->p, L->cin, id, L->k * L->k, L->k, L->cin);
    fprintf(f, "%s            for (int i = 0; i < %d; i += 8) s = GV_FMA(s, GV_LOAD(xq + i), GV_LOAD(wp + i));\n", in, n8);
    if (n8 < n) fprintf(f, "%s            for (int i = %d; i < %d; i++) r += xq[i] * wp[i];\n", in, n8, n);
    fprintf(f, "%s        }\n%s        GV_STORE(u, s);\n", in, in);
    fprintf(f, "%s        yp[oc] = ((u[0] + u[1]) + (u[2] + u[3])) + ((u[4] + u[5]) + (u[6] + u[7])) + r + gt_b%d[oc];\n",
            in, id);
    fprintf(f, "%s    }\n%s    continue;\n%s}\n", in, in, in);
}

/* One chunk of nv vectors of output channels from cb (an expression) for the P pixels of a block:
 * accumulators a<j>_<v> from the bias, the taps' input channels, the stores (the last vector of the
 * last chunk only its rest channels when cout is not a multiple of 8). */
static void gt__emit_chunk(FILE *f, int id, const gt__lay *L, int P, int step, int nv, const char *cb, int rest) {
    const char *in = "            ";
    for (int j = 0; j < P; j++)
        for (int v = 0; v < nv; v++)
            fprintf(f, "%s    gv8 a%d_%d = GV_LOAD(gt_b%d + %s + %d);\n", in, j, v, id, cb, 8 * v);
    fprintf(f, "%s    for (int t = 0; t < nt; t++) {\n", in);
    fprintf(f, "%s        const float *wp = gt_w%d + wo[t] * %d + %s;\n", in, id, L->cin * L->coutp, cb);
    for (int j = 0; j < P; j++) fprintf(f, "%s        const float *restrict p%d = xp%d[t];\n", in, j, j);
    fprintf(f, "%s        for (int ic = 0; ic < %d; ic++, wp += %d) {\n", in, L->cin, L->coutp);
    for (int v = 0; v < nv; v++) fprintf(f, "%s            const gv8 w%d = GV_LOAD(wp + %d);\n", in, v, 8 * v);
    for (int j = 0; j < P; j++) {
        fprintf(f, "%s            const float v%d = p%d[ic];\n", in, j, j);
        for (int v = 0; v < nv; v++) fprintf(f, "%s            a%d_%d = GV_MADD(a%d_%d, w%d, v%d);\n", in, j, v, j, v, v, j);
    }
    fprintf(f, "%s        }\n%s    }\n", in, in);
    for (int j = 0; j < P; j++) {
        if (j) fprintf(f, "%s    if (ox + %d < %d) {\n", in, j * step, L->OW);
        else fprintf(f, "%s    {\n", in);
        fprintf(f, "%s        float *yp = y + (oy * %d + ox + %d) * %d + %s;\n", in, L->OW, j * step, L->cout, cb);
        for (int v = 0; v < nv; v++) {
            if (v == nv - 1 && rest) {
                fprintf(f, "%s        float u[8];\n%s        GV_STORE(u, a%d_%d);\n", in, in, j, v);
                fprintf(f, "%s        memcpy(yp + %d, u, %d * sizeof(float));\n", in, 8 * v, rest);
            } else {
                fprintf(f, "%s        GV_STORE(yp + %d, a%d_%d);\n", in, 8 * v, j, v);
            }
        }
        fprintf(f, "%s    }\n", in);
    }
}

/* The blocked axpy loops of a layer. */
static void gt__emit_blocked(FILE *f, int id, const gt_prog_op *o, const gt__lay *L, int P) {
    const int nvec = L->coutp / 8, step = gt__step(o, L), kk = L->k * L->k;
    const int nv = P == 4 ? (nvec == 3 ? 3 : 2) : 4; /* at most 12 accumulators */
    int full = nvec / nv, rv = nvec % nv, rest = L->cout % 8;
    fprintf(f, "    for (int oy = 0; oy < %d; oy++)\n", L->OH);
    fprintf(f, "        for (int c0 = 0; c0 < %d; c0++)\n", step < L->OW ? step : L->OW);
    fprintf(f, "            for (int ox = c0; ox < %d; ox += %d) {\n", L->OW, P * step);
    if (L->dot && o->kind == GT_PROG_CONV && L->k > 1) gt__emit_dot_rows(f, id, o, L);
    fprintf(f, "                const float *xp0[%d]", kk);
    for (int j = 1; j < P; j++) fprintf(f, ", *xp%d[%d]", j, kk);
    fprintf(f, ";\n                int wo[%d], nt = 0;\n", kk);
    fprintf(f, "                for (int ky = 0; ky < %d; ky++) {\n", L->k);
    if (o->kind == GT_PROG_CONVT) {
        fprintf(f, "                    const int ty = oy + %d - ky;\n", L->p);
        fprintf(f, "                    if (ty < 0 || ty %% %d || ty / %d >= %d) continue;\n", L->s, L->s, L->H);
        fprintf(f, "                    const int iy = ty / %d;\n", L->s);
    } else {
        fprintf(f, "                    int iy = oy * %d - %d + ky;\n", L->s, L->p);
        if (o->pad_reflect) fprintf(f, "                    iy = iy < 0 ? -iy : iy >= %d ? %d - iy : iy;\n", L->H, 2 * (L->H - 1));
        else fprintf(f, "                    if (iy < 0 || iy >= %d) continue;\n", L->H);
    }
    fprintf(f, "                    for (int kx = 0; kx < %d; kx++) {\n                        int any = 0;\n", L->k);
    for (int j = 0; j < P; j++) {
        fprintf(f, "                        {\n                            const int oj = ox + %d;\n", j * step);
        if (o->kind == GT_PROG_CONVT) {
            fprintf(f, "                            const int tx = oj + %d - kx, ix = tx / %d;\n", L->p, L->s);
            fprintf(f, "                            const int ok = oj < %d && tx >= 0 && tx %% %d == 0 && ix < %d;\n", L->OW,
                    L->s, L->W);
        } else {
            fprintf(f, "                            int ix = oj * %d - %d + kx;\n", L->s, L->p);
            if (o->pad_reflect)
                fprintf(f, "                            ix = ix < 0 ? -ix : ix >= %d ? %d - ix : ix;\n", L->W, 2 * (L->W - 1));
            fprintf(f, "                            const int ok = oj < %d && ix >= 0 && ix < %d;\n", L->OW, L->W);
        }
        fprintf(f, "                            xp%d[nt] = ok ? x + (iy * %d + ix) * %d : gt_zero;\n", j, L->W, L->cin);
        fputs("                            any |= ok;\n                        }\n", f);
    }
    fprintf(f, "                        if (any) wo[nt++] = ky * %d + kx;\n                    }\n                }\n", L->k);
    if (L->dot) {
        gt__emit_dot(f, id, L);
        full = rv = 0;
    }
    if (full) {
        fprintf(f, "                for (int cb = 0; cb < %d; cb += %d) {\n", full * nv * 8, nv * 8);
        gt__emit_chunk(f, id, L, P, step, nv, "cb", rv ? 0 : rest);
        fputs("                }\n", f);
    }
    if (rv) {
        char cb[16];
        snprintf(cb, sizeof cb, "%d", full * nv * 8);
        fputs("                {\n", f);
        gt__emit_chunk(f, id, L, P, step, rv, cb, rest);
        fputs("                }\n", f);
    }
    fputs("            }\n", f);
}

/* Layer op id as GT_FN(op<id>)(x, y), with the affine aff and the activation act that follow it. */
static void gt__emit_layer_fn(FILE *f, int id, const gt_prog_op *o, const gt_prog_op *aff, const gt_prog_op *act) {
    gt__lay L = gt__layout(o);
    int P = 1;
    if (!L.dot && gt__block_eff(o, &L, 4) >= 0.7) P = 4;
    else if (!L.dot && gt__block_eff(o, &L, 2) >= 0.7) P = 2;
    fprintf(f, "\n/* op %d: %s%s%s%s%s, %s */\n", id, gt_prog_op_name(o->kind), aff ? ", then " : "", aff ? gt_prog_op_name(aff->kind) : "",
            act ? ", then " : "", act ? gt_prog_op_name(act->kind) : "",
            L.dot ? "dot products over input channels" : P == 4 ? "blocks of 4 pixels" : P == 2 ? "blocks of 2 pixels" : "pixel by pixel");
    fprintf(f, "static void GT_FN(op%d)(const float *restrict x, float *restrict y) {\n", id);
    gt__emit_blocked(f, id, o, &L, P);
    if (aff || act) {
        fprintf(f, "    for (int i = 0; i < %d; i++)\n        for (int c = 0; c < %d; c++) {\n", L.OH * L.OW, L.cout);
        if (aff) fprintf(f, "            const float v = y[i * %d + c] * gt_s%d[c] + gt_t%d[c];\n", L.cout, id, id);
        else fprintf(f, "            const float v = y[i * %d + c];\n", L.cout);
        fprintf(f, "            y[i * %d + c] = ", L.cout);
        if (act) gt__emit_act(f, act, "v");
        else fputs("v", f);
        fputs(";\n        }\n", f);
    }
    fputs("}\n", f);
}

/* --- other ops ------------------------------------------------------------------------------- */
static void gt__emit_other_data(FILE *f, int id, const gt_prog_op *o) {
    char name[32];
    if ((o->kind == GT_PROG_AFFINE || o->kind == GT_PROG_INORM) && o->w) {
        fprintf(f, "\n/* op %d: %s of %d channels */\n", id, gt_prog_op_name(o->kind), o->in_c);
        snprintf(name, sizeof name, "gt_s%d", id), gt__emit_array(f, name, o->w, o->in_c);
        snprintf(name, sizeof name, "gt_t%d", id), gt__emit_array(f, name, o->b, o->in_c);
    }
}

/* Whether op o (not a layer) moves its output to the other buffer. */
static bool gt__other_swaps(const gt_prog_op *o) {
    const int HW = o->in_h * o->in_w, C = o->in_c;
    if (o->kind == GT_PROG_UP2) return true;
    /* the flat (C, H, W) order is kept: channel-last positions move unless each side is 1 x 1 or 1 channel */
    return o->kind == GT_PROG_RESHAPE && !((HW == 1 || C == 1) && (o->out_h * o->out_w == 1 || o->out_c == 1));
}

/* Ops other than layers (SAVE and ADD are inline in the run function): GT_FN(op<id>)(x) in place,
 * or (x, y) when gt__other_swaps. */
static void gt__emit_other_fn(FILE *f, int id, const gt_prog_op *o) {
    const int C = o->in_c, HW = o->in_h * o->in_w;
    if (o->kind == GT_PROG_SAVE || o->kind == GT_PROG_ADD || (o->kind == GT_PROG_RESHAPE && !gt__other_swaps(o))) return;
    fprintf(f, "\n/* op %d: %s (%d, %d, %d) -> (%d, %d, %d) */\n", id, gt_prog_op_name(o->kind), o->in_c, o->in_h, o->in_w,
            o->out_c, o->out_h, o->out_w);
    if (gt__other_swaps(o)) fprintf(f, "static void GT_FN(op%d)(const float *restrict x, float *restrict y) {\n", id);
    else fprintf(f, "static void GT_FN(op%d)(float *restrict x) {\n", id);
    switch (o->kind) {
    case GT_PROG_AFFINE:
        fprintf(f, "    for (int i = 0; i < %d; i++)\n", HW);
        fprintf(f, "        for (int c = 0; c < %d; c++) x[i * %d + c] = x[i * %d + c] * gt_s%d[c] + gt_t%d[c];\n", C, C, C,
                id, id);
        break;
    case GT_PROG_INORM:
        fprintf(f, "    double m[%d] = {0}, v[%d] = {0};\n    float sc[%d], sh[%d];\n", C, C, C, C);
        fprintf(f, "    for (int i = 0; i < %d; i++)\n        for (int c = 0; c < %d; c++) m[c] += x[i * %d + c];\n", HW, C, C);
        fprintf(f, "    for (int c = 0; c < %d; c++) m[c] /= %d.0;\n", C, HW);
        fprintf(f, "    for (int i = 0; i < %d; i++)\n        for (int c = 0; c < %d; c++) {\n", HW, C);
        fprintf(f, "            const double d = x[i * %d + c] - m[c];\n            v[c] += d * d;\n        }\n", C);
        fprintf(f, "    for (int c = 0; c < %d; c++) {\n", C);
        fprintf(f, "        sc[c] = (float)(1.0 / sqrt(v[c] / %d.0 + %a));\n        sh[c] = (float)(-m[c]) * sc[c];\n", HW,
                (double)o->eps);
        if (o->w) fprintf(f, "        sh[c] = sh[c] * gt_s%d[c] + gt_t%d[c], sc[c] *= gt_s%d[c];\n", id, id, id);
        fputs("    }\n", f);
        fprintf(f, "    for (int i = 0; i < %d; i++)\n        for (int c = 0; c < %d; c++) x[i * %d + c] = x[i * %d + c] * sc[c] + sh[c];\n",
                HW, C, C, C);
        break;
    case GT_PROG_UP2:
        fprintf(f, "    for (int oy = 0; oy < %d; oy++)\n        for (int ox = 0; ox < %d; ox++)\n", 2 * o->in_h, 2 * o->in_w);
        fprintf(f, "            memcpy(y + (oy * %d + ox) * %d, x + ((oy / 2) * %d + ox / 2) * %d, %d * sizeof(float));\n",
                2 * o->in_w, C, o->in_w, C, C);
        break;
    case GT_PROG_RESHAPE:
        fprintf(f, "    for (int c = 0; c < %d; c++)\n        for (int i = 0; i < %d; i++) {\n", o->out_c, o->out_h * o->out_w);
        fprintf(f, "            const int fl = c * %d + i;\n", o->out_h * o->out_w);
        fprintf(f, "            y[i * %d + c] = x[(fl %% %d) * %d + fl / %d];\n        }\n", o->out_c, HW, C, HW);
        break;
    default: /* activations */
        fprintf(f, "    for (int i = 0; i < %d; i++) {\n        const float v = x[i];\n        x[i] = ", C * HW);
        gt__emit_act(f, o, "v");
        fputs(";\n    }\n", f);
        break;
    }
    fputs("}\n", f);
}

static const char gt__prelude[] =
    "#include <math.h>\n#include <string.h>\n\n"
    "#if defined(__GNUC__)\n#define GT_UNUSED __attribute__((unused))\n#else\n#define GT_UNUSED\n#endif\n"
    "/* 8-float vectors: GNU C vector types (gcc, clang), else a struct; GT_EXPORT_PORTABLE forces the struct.\n"
    " * On x86-64 with gcc the kernels are compiled twice, the second copy for AVX2 + FMA, picked at run\n"
    " * time (GT_EXPORT_BASE: the first only). */\n"
    "#if defined(__GNUC__) && !defined(GT_EXPORT_PORTABLE)\n"
    "typedef float gv8 __attribute__((vector_size(32)));\n"
    "typedef float gv8u __attribute__((vector_size(32), aligned(4), may_alias));\n"
    "#define GV_ZERO ((gv8){0})\n"
    "#define GV_LOAD(p) ((gv8)(*(const gv8u *)(p)))\n"
    "#define GV_STORE(p, v) (*(gv8u *)(p) = (v))\n"
    "#define GV_MADD(a, w, v) ((a) + (w) * (v))\n"
    "#define GV_FMA(a, x, w) ((a) + (x) * (w))\n"
    "#if !defined(__clang__) && defined(__x86_64__) && !defined(GT_EXPORT_BASE)\n"
    "#define GT_DISPATCH 1\n#include <immintrin.h>\n"
    "#endif\n"
    "#else\n"
    "typedef struct { float v[8]; } gv8;\n"
    "GT_UNUSED static inline gv8 gv_load(const float *p) { gv8 r; memcpy(&r, p, sizeof r); return r; }\n"
    "GT_UNUSED static inline gv8 gv_madd(gv8 a, gv8 w, float v) { for (int i = 0; i < 8; i++) a.v[i] += w.v[i] * v; return a; }\n"
    "GT_UNUSED static inline gv8 gv_fma(gv8 a, gv8 x, gv8 w) { for (int i = 0; i < 8; i++) a.v[i] += x.v[i] * w.v[i]; return a; }\n"
    "#define GV_ZERO ((gv8){{0}})\n"
    "#define GV_LOAD(p) gv_load(p)\n"
    "#define GV_STORE(p, v) memcpy((p), &(v), sizeof(gv8))\n"
    "#define GV_MADD(a, w, v) gv_madd((a), (w), (v))\n"
    "#define GV_FMA(a, x, w) gv_fma((a), (x), (w))\n"
    "#endif\n\n"
    "/* (C, HW) <-> (HW, C) */\n"
    "GT_UNUSED static inline void gt_to_hwc(const float *restrict x, float *restrict y, int c, int hw) {\n"
    "    for (int i = 0; i < c; i++)\n        for (int j = 0; j < hw; j++) y[j * c + i] = x[i * hw + j];\n}\n"
    "GT_UNUSED static inline void gt_to_chw(const float *restrict x, float *restrict y, int c, int hw) {\n"
    "    for (int i = 0; i < c; i++)\n        for (int j = 0; j < hw; j++) y[i * hw + j] = x[j * c + i];\n}\n";

static bool gt__ident_ok(const char *s) {
    if (!s || !*s || strlen(s) > 60 || !(isalpha((unsigned char)*s) || *s == '_') || !strncmp(s, "gt_", 3) ||
        !strncmp(s, "gv_", 3))
        return false;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_') return false;
    return true;
}

/* The kernels and GT_FN(run)(in, out): written once into a memory stream, emitted twice. */
static gt_status gt__emit_body(FILE *f, const gt_prog *p, bool int8, const bool *fused, const bool *swap) {
    for (int i = 0; i < p->n; i++) {
        const gt_prog_op *o = &p->ops[i];
        if (fused[i] || (gt__is_layer(o) && int8 && o->qw)) continue;
        if (gt__is_layer(o)) {
            int j = i + 1;
            const gt_prog_op *aff = j < p->n && fused[j] && p->ops[j].kind == GT_PROG_AFFINE ? &p->ops[j++] : NULL;
            const gt_prog_op *act = j < p->n && fused[j] ? &p->ops[j] : NULL;
            gt__emit_layer_fn(f, i, o, aff, act);
        } else {
            gt__emit_other_fn(f, i, o);
        }
    }
    fputs("\nstatic void GT_FN(run)(const float *in, float *out) {\n", f);
    const int64_t ni = gt_prog_in_numel(p), no = gt_prog_out_numel(p);
    if (p->in_c > 1 && p->in_h * p->in_w > 1) fprintf(f, "    gt_to_hwc(in, gt_x0, %d, %d);\n", p->in_c, p->in_h * p->in_w);
    else fprintf(f, "    memcpy(gt_x0, in, %lld * sizeof(float));\n", (long long)ni);
    int cur = 0, depth = 0;
    for (int i = 0; i < p->n; i++) {
        const gt_prog_op *o = &p->ops[i];
        if (fused[i]) continue;
        const char *x = cur ? "gt_x1" : "gt_x0", *y = cur ? "gt_x0" : "gt_x1";
        const int64_t n = (int64_t)o->in_c * o->in_h * o->in_w;
        if (gt__is_layer(o) && int8 && o->qw) {
            char pre[16];
            snprintf(pre, sizeof pre, "op%d_", i);
            fprintf(f, "    gt_to_chw(%s, gt_q0, %d, %d);\n", x, o->in_c, o->in_h * o->in_w);
            if (gt__q8_emit_call(f, o, pre, "gt_q0", "gt_q1") != GT_OK) return gt_last_status();
            fprintf(f, "    gt_to_hwc(gt_q1, %s, %d, %d);\n", y, o->out_c, o->out_h * o->out_w);
        } else if (o->kind == GT_PROG_SAVE) {
            fprintf(f, "    memcpy(gt_st[%d], %s, %lld * sizeof(float));\n", depth++, x, (long long)n);
        } else if (o->kind == GT_PROG_ADD) {
            fprintf(f, "    for (int i = 0; i < %lld; i++) %s[i] += gt_st[%d][i];\n", (long long)n, x, --depth);
        } else if (o->kind == GT_PROG_RESHAPE && !swap[i]) {
            /* nothing moves */
        } else if (swap[i]) {
            fprintf(f, "    GT_FN(op%d)(%s, %s);\n", i, x, y);
        } else {
            fprintf(f, "    GT_FN(op%d)(%s);\n", i, x);
        }
        if (swap[i]) cur = !cur;
    }
    const char *x = cur ? "gt_x1" : "gt_x0";
    if (p->out_c > 1 && p->out_h * p->out_w > 1)
        fprintf(f, "    gt_to_chw(%s, out, %d, %d);\n}\n", x, p->out_c, p->out_h * p->out_w);
    else
        fprintf(f, "    memcpy(out, %s, %lld * sizeof(float));\n}\n", x, (long long)no);
    return GT_OK;
}

static gt_status gt__emit(FILE *f, const gt_prog *p, const char *fn, bool int8, bool *fused, bool *swap) {
    char up[64];
    size_t nl = strlen(fn);
    for (size_t i = 0; i <= nl; i++) up[i] = (char)toupper((unsigned char)fn[i]);
    const int64_t ni = gt_prog_in_numel(p), no = gt_prog_out_numel(p), buf = p->max_act + 2 * GT__VW;
    fprintf(f, "/* %s.c - generated by gantry (gt_prog_export_c): a %s %s as plain C11, libc and libm only.\n",
            fn, p->family, p->translator ? "translator" : "generator");
    fprintf(f, " *\n *     void %s(const float *in, float *out);\n", fn);
    fprintf(f, " *   in  (%d, %d, %d) = %lld floats%s\n", p->in_c, p->in_h, p->in_w, (long long)ni,
            p->translator ? " (an image, C x H x W row-major)" : " (a latent vector)");
    fprintf(f, " *   out (%d, %d, %d) = %lld floats (C x H x W row-major)\n", p->out_c, p->out_h, p->out_w, (long long)no);
    fprintf(f, " *   %lld multiply-accumulates and %lld parameters a sample; %d ops; %s layers\n",
            (long long)gt_prog_macs(p), (long long)gt_prog_params(p), p->n, int8 ? "int8" : "float");
    fprintf(f, " * One sample a call; static work buffers, so one call at a time (not reentrant). */\n");
    fprintf(f, "#define %s_IN_NUMEL %lld\n#define %s_OUT_NUMEL %lld\n\n", up, (long long)ni, up, (long long)no);
    fputs(gt__prelude, f);
    if (int8 && gt__q8_emit_kernels(f) != GT_OK) return gt_last_status();
    /* the data: weights, and which ops are fused into a layer or move to the other buffer */
    int zero_n = 0;
    for (int i = 0; i < p->n; i++) {
        const gt_prog_op *o = &p->ops[i];
        gt_status st = GT_OK;
        if (fused[i]) continue;
        if (gt__is_layer(o) && int8 && o->qw) {
            char pre[16];
            snprintf(pre, sizeof pre, "op%d_", i);
            fprintf(f, "\n/* op %d: int8 %s */\n", i, gt_prog_op_name(o->kind));
            st = gt__q8_emit_weights(f, o, pre);
            swap[i] = true;
        } else if (gt__is_layer(o)) {
            int j = i + 1;
            const gt_prog_op *aff = j < p->n && p->ops[j].kind == GT_PROG_AFFINE ? &p->ops[j++] : NULL;
            if (j < p->n && gt__is_act(p->ops[j].kind)) j++;
            for (int k = i + 1; k < j; k++) fused[k] = true;
            st = gt__emit_layer_data(f, i, o, aff);
            gt__lay L = gt__layout(o);
            if (L.cin > zero_n) zero_n = L.cin; /* every layer's tap loop names gt_zero */
            swap[i] = true;
        } else {
            gt__emit_other_data(f, i, o);
            swap[i] = gt__other_swaps(o);
        }
        if (st != GT_OK) return st;
    }
    fprintf(f, "\nstatic _Alignas(32) float gt_x0[%lld], gt_x1[%lld];\n", (long long)buf, (long long)buf);
    if (p->max_stack) fprintf(f, "static _Alignas(32) float gt_st[%d][%lld];\n", p->max_stack, (long long)buf);
    if (int8) fprintf(f, "static _Alignas(32) float gt_q0[%lld], gt_q1[%lld];\n", (long long)buf, (long long)buf);
    if (zero_n) fprintf(f, "static _Alignas(32) const float gt_zero[%d] = {0};\n", zero_n);
    /* the kernels, twice */
    char *body = NULL;
    size_t body_n = 0;
    FILE *m = open_memstream(&body, &body_n);
    if (!m) return gt_set_error(GT_ERR_OOM, "gt_prog_export_c: out of memory");
    gt_status st = gt__emit_body(m, p, int8, fused, swap);
    if (fclose(m) != 0 && st == GT_OK) st = gt_set_error(GT_ERR_OOM, "gt_prog_export_c: out of memory");
    if (st == GT_OK) {
        fputs("\n#ifdef GT_DISPATCH\n#pragma GCC push_options\n#pragma GCC target(\"avx2,fma\")\n"
              "#undef GV_MADD\n#undef GV_FMA\n"
              "#define GV_MADD(a, w, v) _mm256_fmadd_ps((w), _mm256_set1_ps(v), (a))\n"
              "#define GV_FMA(a, x, w) _mm256_fmadd_ps((x), (w), (a))\n"
              "#define GT_FN(name) gt_avx2_##name\n", f);
        fwrite(body, 1, body_n, f);
        fputs("#undef GT_FN\n#undef GV_MADD\n#undef GV_FMA\n"
              "#define GV_MADD(a, w, v) ((a) + (w) * (v))\n#define GV_FMA(a, x, w) ((a) + (x) * (w))\n"
              "#pragma GCC pop_options\n#endif\n\n#define GT_FN(name) gt_base_##name\n", f);
        fwrite(body, 1, body_n, f);
        fprintf(f, "#undef GT_FN\n\nvoid %s(const float *in, float *out);\nvoid %s(const float *in, float *out) {\n", fn, fn);
        fputs("#ifdef GT_DISPATCH\n    static int gt_avx2 = -1;\n"
              "    if (gt_avx2 < 0) gt_avx2 = __builtin_cpu_supports(\"avx2\") && __builtin_cpu_supports(\"fma\");\n"
              "    if (gt_avx2) {\n        gt_avx2_run(in, out);\n        return;\n    }\n#endif\n"
              "    gt_base_run(in, out);\n}\n", f);
    }
    free(body);
    return st;
}

gt_status gt_prog_export_c(const gt_prog *p, const char *path, const gt_export_opts *opts) {
    const bool int8 = opts && opts->int8;
    const char *fn = opts && opts->fn_name ? opts->fn_name : p && p->translator ? "translate" : "generate";
    if (!p || !p->ops || p->out_c < 1 || p->max_act < 1)
        return gt_set_error(GT_ERR_ARG, "gt_prog_export_c: not a finished program (gt_prog_finish)");
    if (!path || !*path) return gt_set_error(GT_ERR_ARG, "gt_prog_export_c: no output path");
    if (!gt__ident_ok(fn))
        return gt_set_error(GT_ERR_ARG, "export: function name '%s' is not a C identifier of up to 60 characters "
                                        "(or starts with the reserved gt_ / gv_)", fn);
    if (int8 && !p->quantized)
        return gt_set_error(GT_ERR_ARG, "export: the int8 variant needs a quantized program (gt_prog_quantize)");
    for (int i = 0; i < p->n; i++) {
        const gt_prog_op *o = &p->ops[i];
        bool need_w = (gt__is_layer(o) && !(int8 && o->qw)) || o->kind == GT_PROG_AFFINE;
        if ((need_w && !o->w) || (o->kind == GT_PROG_AFFINE && !o->b) || (o->kind == GT_PROG_INORM && o->w && !o->b))
            return gt_set_error(GT_ERR_ARG, "export: op %d (%s) lacks its float weights", i, gt_prog_op_name(o->kind));
    }
    bool *fused = calloc((size_t)p->n, sizeof *fused), *swap = calloc((size_t)p->n, sizeof *swap);
    if (!fused || !swap) {
        free(fused), free(swap);
        return gt_set_error(GT_ERR_OOM, "gt_prog_export_c: out of memory");
    }
    /* the source is composed in memory, then written in one atomic write (so a failing disk is seen, with the
     * file's name, by the file layer, and the old file stays whole) */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    gt_status st = mem ? GT_OK : gt_set_error(GT_ERR_OOM, "export: out of memory composing '%s'", path);
    if (st == GT_OK) {
        st = gt__emit(mem, p, fn, int8, fused, swap);
        bool bad = ferror(mem) != 0;
        if (fclose(mem) != 0 || bad || !text)
            if (st == GT_OK) st = gt_set_error(GT_ERR_OOM, "export: out of memory composing '%s'", path);
    }
    if (st == GT_OK) st = gt_write_file_atomic(path, text, len);
    free(text);
    free(fused), free(swap);
    return st;
}
