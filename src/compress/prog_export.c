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

static bool gt__is_layer(const gt_op *o) {
    return o->kind == GT_OP_LINEAR || o->kind == GT_OP_CONV || o->kind == GT_OP_CONVT;
}
static bool gt__is_act(gt_op_kind k) {
    return k == GT_OP_RELU || k == GT_OP_LRELU || k == GT_OP_TANH || k == GT_OP_SIGMOID;
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
static void gt__emit_act(FILE *f, const gt_op *a, const char *v) {
    switch (a->kind) {
    case GT_OP_RELU: fprintf(f, "%s > 0.0f ? %s : 0.0f", v, v); break;
    case GT_OP_LRELU: fprintf(f, "%s > 0.0f ? %s : %s * %af", v, v, v, (double)a->slope); break;
    case GT_OP_TANH: fprintf(f, "tanhf(%s)", v); break;
    default: fprintf(f, "1.0f / (1.0f + expf(-%s))", v); break;
    }
}

/* Sizes of a layer as a convolution over pixels: LINEAR is a 1 x 1 "conv" on one pixel of all inputs. */
typedef struct {
    int H, W, OH, OW, cin, cout, coutp, k, s, p;
    bool dot; /* dot products over input channels (few outputs) */
} gt__lay;

static gt__lay gt__layout(const gt_op *o) {
    gt__lay L = {o->in_h, o->in_w, o->out_h, o->out_w, o->cin, o->cout, gt__round8(o->cout), o->k, o->stride, o->pad, false};
    if (o->kind == GT_OP_LINEAR) L.H = L.W = L.OH = L.OW = 1, L.k = 1, L.s = 1, L.p = 0;
    L.dot = L.cout < GT__VW && L.cin >= 2 * GT__VW && L.cin % GT__VW == 0;
    return L;
}

/* The weights of layer o re-laid out: axpy [tap][cin][coutp], or dot [cout][tap][cin]; bias (coutp). */
static float *gt__relayout(const gt_op *o, const gt__lay *L, int64_t *n) {
    const int kk = L->k * L->k;
    *n = L->dot ? (int64_t)L->cout * kk * L->cin : (int64_t)kk * L->cin * L->coutp;
    float *w = calloc((size_t)*n, sizeof *w);
    if (!w) return NULL;
    const int64_t hw = (int64_t)o->in_h * o->in_w;
    for (int oc = 0; oc < L->cout; oc++)
        for (int ic = 0; ic < L->cin; ic++)
            for (int t = 0; t < kk; t++) {
                float v;
                if (o->kind == GT_OP_CONV) v = o->w[((int64_t)oc * L->cin + ic) * kk + t];
                else if (o->kind == GT_OP_CONVT) v = o->w[((int64_t)ic * L->cout + oc) * kk + t];
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

/* The loops collecting the valid taps of output pixel (oy, ox): xo[] input offsets, wo[] tap indices. */
static void gt__emit_taps(FILE *f, const gt_op *o, const gt__lay *L) {
    fprintf(f, "            int xo[%d], wo[%d], nt = 0;\n", L->k * L->k, L->k * L->k);
    const char *ax[2][3] = {{"ky", "oy", "iy"}, {"kx", "ox", "ix"}};
    const int side[2] = {L->H, L->W};
    for (int d = 0; d < 2; d++) {
        const char *k = ax[d][0], *out = ax[d][1], *in = ax[d][2], *ind = d ? "                " : "            ";
        fprintf(f, "%sfor (int %s = 0; %s < %d; %s++) {\n", ind, k, k, L->k, k);
        if (o->kind == GT_OP_CONVT) {
            fprintf(f, "%s    const int t%s = %s + %d - %s;\n", ind, in, out, L->p, k);
            fprintf(f, "%s    if (t%s < 0 || t%s %% %d) continue;\n", ind, in, in, L->s);
            fprintf(f, "%s    const int %s = t%s / %d;\n", ind, in, in, L->s);
            fprintf(f, "%s    if (%s >= %d) continue;\n", ind, in, side[d]);
        } else if (o->pad_reflect) {
            fprintf(f, "%s    int %s = %s * %d - %d + %s;\n", ind, in, out, L->s, L->p, k);
            fprintf(f, "%s    %s = %s < 0 ? -%s : %s >= %d ? %d - %s : %s;\n", ind, in, in, in, in, side[d],
                    2 * (side[d] - 1), in, in);
        } else {
            fprintf(f, "%s    const int %s = %s * %d - %d + %s;\n", ind, in, out, L->s, L->p, k);
            fprintf(f, "%s    if (%s < 0 || %s >= %d) continue;\n", ind, in, in, side[d]);
        }
    }
    fprintf(f, "                    xo[nt] = (iy * %d + ix) * %d, wo[nt++] = ky * %d + kx;\n", L->W, L->cin, L->k);
    fputs("                }\n            }\n", f);
}

/* A chunk of nv accumulator vectors starting at output channel cb (a literal or "cb"). */
static void gt__emit_chunk(FILE *f, int id, const gt__lay *L, int nv, const char *cb) {
    fputs("                gv8", f);
    for (int j = 0; j < nv; j++) fprintf(f, "%s a%d = gv_load(gt_b%d + %s + %d)", j ? "," : "", j, id, cb, j * GT__VW);
    fputs(";\n", f);
    fputs("                for (int t = 0; t < nt; t++) {\n", f);
    fprintf(f, "                    const float *xp = x + xo[t], *wp = gt_w%d + wo[t] * %d + %s;\n", id,
            L->cin * L->coutp, cb);
    fprintf(f, "                    for (int ic = 0; ic < %d; ic++, wp += %d) {\n", L->cin, L->coutp);
    fputs("                        const float v = xp[ic];\n", f);
    for (int j = 0; j < nv; j++) fprintf(f, "                        a%d = gv_madd(a%d, gv_load(wp + %d), v);\n", j, j, j * GT__VW);
    fputs("                    }\n                }\n", f);
    for (int j = 0; j < nv; j++) fprintf(f, "                gv_store(yp + %s + %d, a%d);\n", cb, j * GT__VW, j);
}

/* Layer op id (float), with the affine aff and activation act that follow it (either may be NULL). */
static gt_status gt__emit_layer(FILE *f, int id, const gt_op *o, const gt_op *aff, const gt_op *act) {
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
    fprintf(f, "\n/* op %d: %s %d -> %d, k %d, stride %d, pad %d%s, (%d, %d, %d) -> (%d, %d, %d)%s%s%s%s */\n", id,
            gt_op_name(o->kind), o->cin, o->cout, o->k, o->stride, o->pad, o->pad_reflect ? " (reflect)" : "",
            o->in_c, o->in_h, o->in_w, o->out_c, o->out_h, o->out_w, aff ? ", then " : "", aff ? gt_op_name(aff->kind) : "",
            act ? ", then " : "", act ? gt_op_name(act->kind) : "");
    snprintf(name, sizeof name, "gt_w%d", id), gt__emit_array(f, name, w, nw);
    snprintf(name, sizeof name, "gt_b%d", id), gt__emit_array(f, name, b, L.coutp);
    free(w), free(b);
    if (aff) {
        snprintf(name, sizeof name, "gt_s%d", id), gt__emit_array(f, name, aff->w, L.cout);
        snprintf(name, sizeof name, "gt_t%d", id), gt__emit_array(f, name, aff->b, L.cout);
    }
    fprintf(f, "static void gt_op%d(const float *restrict x, float *restrict y) {\n", id);
    fprintf(f, "    for (int oy = 0; oy < %d; oy++)\n        for (int ox = 0; ox < %d; ox++) {\n", L.OH, L.OW);
    gt__emit_taps(f, o, &L);
    fprintf(f, "            float *yp = y + (oy * %d + ox) * %d;\n", L.OW, L.cout);
    if (L.dot) {
        fprintf(f, "            for (int oc = 0; oc < %d; oc++) {\n                gv8 s = gv_zero();\n", L.cout);
        fputs("                for (int t = 0; t < nt; t++) {\n", f);
        fprintf(f, "                    const float *xp = x + xo[t], *wp = gt_w%d + (oc * %d + wo[t]) * %d;\n", id,
                L.k * L.k, L.cin);
        fprintf(f, "                    for (int ic = 0; ic < %d; ic += 8) s = gv_fma(s, gv_load(xp + ic), gv_load(wp + ic));\n",
                L.cin);
        fprintf(f, "                }\n                yp[oc] = gv_sum(s) + gt_b%d[oc];\n            }\n", id);
    } else {
        /* whole chunks of GT__CHUNK vectors, then the rest; a store past cout lands in the next pixel's
           channels (written later) or the buffer's slack */
        const int nvec = L.coutp / GT__VW, full = nvec / GT__CHUNK * GT__CHUNK, rest = nvec - full;
        if (full) {
            fprintf(f, "            for (int cb = 0; cb < %d; cb += %d) {\n", full * GT__VW, GT__CHUNK * GT__VW);
            gt__emit_chunk(f, id, &L, GT__CHUNK, "cb");
            fputs("            }\n", f);
        }
        if (rest) {
            char cb[16];
            snprintf(cb, sizeof cb, "%d", full * GT__VW);
            fputs("            {\n", f);
            gt__emit_chunk(f, id, &L, rest, cb);
            fputs("            }\n", f);
        }
    }
    if (aff || act) {
        fprintf(f, "            for (int c = 0; c < %d; c++) {\n", L.cout);
        if (aff) fprintf(f, "                const float v = yp[c] * gt_s%d[c] + gt_t%d[c];\n", id, id);
        else fputs("                const float v = yp[c];\n", f);
        fputs("                yp[c] = ", f);
        if (act) gt__emit_act(f, act, "v");
        else fputs("v", f);
        fputs(";\n            }\n", f);
    }
    fputs("        }\n}\n", f);
    return GT_OK;
}

/* Ops other than layers, on the channel-last buffers; in place (x) unless *swaps. */
static gt_status gt__emit_other(FILE *f, int id, const gt_op *o, bool *swaps) {
    const int C = o->in_c, HW = o->in_h * o->in_w;
    char name[32];
    *swaps = false;
    fprintf(f, "\n/* op %d: %s (%d, %d, %d) -> (%d, %d, %d) */\n", id, gt_op_name(o->kind), o->in_c, o->in_h, o->in_w,
            o->out_c, o->out_h, o->out_w);
    switch (o->kind) {
    case GT_OP_AFFINE:
        snprintf(name, sizeof name, "gt_s%d", id), gt__emit_array(f, name, o->w, C);
        snprintf(name, sizeof name, "gt_t%d", id), gt__emit_array(f, name, o->b, C);
        fprintf(f, "static void gt_op%d(float *restrict x) {\n    for (int i = 0; i < %d; i++)\n", id, HW);
        fprintf(f, "        for (int c = 0; c < %d; c++) x[i * %d + c] = x[i * %d + c] * gt_s%d[c] + gt_t%d[c];\n}\n", C,
                C, C, id, id);
        break;
    case GT_OP_INORM:
        if (o->w) {
            snprintf(name, sizeof name, "gt_s%d", id), gt__emit_array(f, name, o->w, C);
            snprintf(name, sizeof name, "gt_t%d", id), gt__emit_array(f, name, o->b, C);
        }
        fprintf(f, "static void gt_op%d(float *restrict x) {\n", id);
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
        fprintf(f, "    for (int i = 0; i < %d; i++)\n        for (int c = 0; c < %d; c++) x[i * %d + c] = x[i * %d + c] * sc[c] + sh[c];\n}\n",
                HW, C, C, C);
        break;
    case GT_OP_RELU:
    case GT_OP_LRELU:
    case GT_OP_TANH:
    case GT_OP_SIGMOID:
        fprintf(f, "static void gt_op%d(float *restrict x) {\n    for (int i = 0; i < %d; i++) {\n", id, C * HW);
        fputs("        const float v = x[i];\n        x[i] = ", f);
        gt__emit_act(f, o, "v");
        fputs(";\n    }\n}\n", f);
        break;
    case GT_OP_UP2:
        *swaps = true;
        fprintf(f, "static void gt_op%d(const float *restrict x, float *restrict y) {\n", id);
        fprintf(f, "    for (int oy = 0; oy < %d; oy++)\n        for (int ox = 0; ox < %d; ox++)\n", 2 * o->in_h, 2 * o->in_w);
        fprintf(f, "            memcpy(y + (oy * %d + ox) * %d, x + ((oy / 2) * %d + ox / 2) * %d, %d * sizeof(float));\n}\n",
                2 * o->in_w, C, o->in_w, C, C);
        break;
    case GT_OP_RESHAPE:
        /* the flat (C, H, W) order is kept: channel-last positions move unless one side is 1 x 1 or 1 channel */
        if ((HW == 1 || C == 1) && (o->out_h * o->out_w == 1 || o->out_c == 1)) {
            fputs("/* (nothing to move) */\n", f);
            break;
        }
        *swaps = true;
        fprintf(f, "static void gt_op%d(const float *restrict x, float *restrict y) {\n", id);
        fprintf(f, "    for (int c = 0; c < %d; c++)\n        for (int i = 0; i < %d; i++) {\n", o->out_c,
                o->out_h * o->out_w);
        fprintf(f, "            const int fl = c * %d + i;\n", o->out_h * o->out_w);
        fprintf(f, "            y[i * %d + c] = x[(fl %% %d) * %d + fl / %d];\n        }\n}\n", o->out_c, HW, C, HW);
        break;
    default: break; /* SAVE and ADD: inline in the function */
    }
    return GT_OK;
}

static const char gt__prelude[] =
    "#include <math.h>\n#include <string.h>\n\n"
    "#if defined(__GNUC__) && !defined(GT_EXPORT_PORTABLE)\n"
    "typedef float gv8 __attribute__((vector_size(32)));\n"
    "static inline gv8 gv_zero(void) { return (gv8){0}; }\n"
    "static inline gv8 gv_madd(gv8 a, gv8 w, float v) { return a + w * v; }\n"
    "static inline gv8 gv_fma(gv8 a, gv8 x, gv8 w) { return a + x * w; }\n"
    "#else\n"
    "typedef struct { float v[8]; } gv8;\n"
    "static inline gv8 gv_zero(void) { gv8 a = {{0}}; return a; }\n"
    "static inline gv8 gv_madd(gv8 a, gv8 w, float v) { for (int i = 0; i < 8; i++) a.v[i] += w.v[i] * v; return a; }\n"
    "static inline gv8 gv_fma(gv8 a, gv8 x, gv8 w) { for (int i = 0; i < 8; i++) a.v[i] += x.v[i] * w.v[i]; return a; }\n"
    "#endif\n"
    "static inline gv8 gv_load(const float *p) { gv8 v; memcpy(&v, p, sizeof v); return v; }\n"
    "static inline void gv_store(float *p, gv8 v) { memcpy(p, &v, sizeof v); }\n"
    "static inline float gv_sum(gv8 v) {\n"
    "    float t[8];\n    memcpy(t, &v, sizeof t);\n"
    "    return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));\n}\n"
    "/* (C, HW) <-> (HW, C) */\n"
    "static inline void gt_to_hwc(const float *restrict x, float *restrict y, int c, int hw) {\n"
    "    for (int i = 0; i < c; i++)\n        for (int j = 0; j < hw; j++) y[j * c + i] = x[i * hw + j];\n}\n"
    "static inline void gt_to_chw(const float *restrict x, float *restrict y, int c, int hw) {\n"
    "    for (int i = 0; i < c; i++)\n        for (int j = 0; j < hw; j++) y[i * hw + j] = x[j * c + i];\n}\n";

static bool gt__ident_ok(const char *s) {
    if (!s || !*s || strlen(s) > 60 || !(isalpha((unsigned char)*s) || *s == '_') || !strncmp(s, "gt_", 3) ||
        !strncmp(s, "gv_", 3))
        return false;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_') return false;
    return true;
}

static gt_status gt__emit(FILE *f, const gt_prog *p, const char *fn, bool int8) {
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
    fprintf(f, " *   %lld multiply-accumulates and %lld parameters a sample; %d ops; %s weights\n",
            (long long)gt_prog_macs(p), (long long)gt_prog_params(p), p->n, int8 ? "int8" : "float");
    fprintf(f, " * One sample a call; static work buffers, so one call at a time (not reentrant). */\n");
    fprintf(f, "#define %s_IN_NUMEL %lld\n#define %s_OUT_NUMEL %lld\n\n", up, (long long)ni, up, (long long)no);
    fputs(gt__prelude, f);
    if (int8 && gt__q8_emit_kernels(f) != GT_OK) return gt_last_status();
    bool *swap = calloc((size_t)p->n, sizeof *swap), *fused = calloc((size_t)p->n, sizeof *fused);
    if (!swap || !fused) {
        free(swap), free(fused);
        return gt_set_error(GT_ERR_OOM, "gt_prog_export_c: out of memory");
    }
    gt_status st = GT_OK;
    for (int i = 0; i < p->n && st == GT_OK; i++) {
        const gt_op *o = &p->ops[i];
        if (fused[i]) continue;
        char pre[16];
        snprintf(pre, sizeof pre, "op%d_", i);
        if (gt__is_layer(o) && int8 && o->qw) {
            fprintf(f, "\n/* op %d: int8 %s %d -> %d */\n", i, gt_op_name(o->kind), o->cin, o->cout);
            st = gt__q8_emit_weights(f, o, pre);
            swap[i] = true;
        } else if (gt__is_layer(o)) {
            int j = i + 1;
            const gt_op *aff = j < p->n && p->ops[j].kind == GT_OP_AFFINE ? &p->ops[j++] : NULL;
            const gt_op *act = j < p->n && gt__is_act(p->ops[j].kind) ? &p->ops[j++] : NULL;
            for (int k = i + 1; k < j; k++) fused[k] = true;
            st = gt__emit_layer(f, i, o, aff, act);
            swap[i] = true;
        } else {
            st = gt__emit_other(f, i, o, &swap[i]);
        }
    }
    if (st == GT_OK) {
        fprintf(f, "\nstatic _Alignas(32) float gt_x0[%lld], gt_x1[%lld];\n", (long long)buf, (long long)buf);
        if (p->max_stack) fprintf(f, "static _Alignas(32) float gt_st[%d][%lld];\n", p->max_stack, (long long)buf);
        if (int8) fprintf(f, "static _Alignas(32) float gt_q0[%lld], gt_q1[%lld];\n", (long long)buf, (long long)buf);
        fprintf(f, "\nvoid %s(const float *in, float *out);\nvoid %s(const float *in, float *out) {\n", fn, fn);
        if (p->in_c > 1 && p->in_h * p->in_w > 1)
            fprintf(f, "    gt_to_hwc(in, gt_x0, %d, %d);\n", p->in_c, p->in_h * p->in_w);
        else
            fprintf(f, "    memcpy(gt_x0, in, %lld * sizeof(float));\n", (long long)ni);
        int cur = 0, depth = 0;
        for (int i = 0; i < p->n && st == GT_OK; i++) {
            const gt_op *o = &p->ops[i];
            if (fused[i]) continue;
            const char *x = cur ? "gt_x1" : "gt_x0", *y = cur ? "gt_x0" : "gt_x1";
            const int64_t n = (int64_t)o->in_c * o->in_h * o->in_w;
            if (gt__is_layer(o) && int8 && o->qw) {
                fprintf(f, "    gt_to_chw(%s, gt_q0, %d, %d);\n", x, o->in_c, o->in_h * o->in_w);
                char pre[16];
                snprintf(pre, sizeof pre, "op%d_", i);
                st = gt__q8_emit_call(f, o, pre, "gt_q0", "gt_q1");
                fprintf(f, "    gt_to_hwc(gt_q1, %s, %d, %d);\n", y, o->out_c, o->out_h * o->out_w);
            } else if (o->kind == GT_OP_SAVE) {
                fprintf(f, "    memcpy(gt_st[%d], %s, %lld * sizeof(float));\n", depth++, x, (long long)n);
            } else if (o->kind == GT_OP_ADD) {
                fprintf(f, "    for (int i = 0; i < %lld; i++) %s[i] += gt_st[%d][i];\n", (long long)n, x, --depth);
            } else if (o->kind == GT_OP_RESHAPE && !swap[i]) {
                /* nothing */
            } else if (swap[i]) {
                fprintf(f, "    gt_op%d(%s, %s);\n", i, x, y);
            } else {
                fprintf(f, "    gt_op%d(%s);\n", i, x);
            }
            if (swap[i]) cur = !cur;
        }
        const char *x = cur ? "gt_x1" : "gt_x0";
        if (p->out_c > 1 && p->out_h * p->out_w > 1)
            fprintf(f, "    gt_to_chw(%s, out, %d, %d);\n}\n", x, p->out_c, p->out_h * p->out_w);
        else
            fprintf(f, "    memcpy(out, %s, %lld * sizeof(float));\n}\n", x, (long long)no);
    }
    free(swap), free(fused);
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
        const gt_op *o = &p->ops[i];
        bool need_w = (gt__is_layer(o) && !(int8 && o->qw)) || o->kind == GT_OP_AFFINE;
        if ((need_w && !o->w) || (o->kind == GT_OP_AFFINE && !o->b) || (o->kind == GT_OP_INORM && o->w && !o->b))
            return gt_set_error(GT_ERR_ARG, "export: op %d (%s) lacks its float weights", i, gt_op_name(o->kind));
    }
    gt_atomic_file a;
    gt_status st = gt_atomic_open(&a, path);
    if (st != GT_OK) return st;
    st = gt__emit(a.f, p, fn, int8);
    if (st != GT_OK) {
        gt_atomic_abort(&a);
        return st;
    }
    if (ferror(a.f)) a.failed = true;
    return gt_atomic_commit(&a);
}
