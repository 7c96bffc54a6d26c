/* gantry/compress.h - making generators cheap to run: a generator lowered to a program of plain
 * layers (run without the graph, quantized to int8, exported as one dependency-free C file),
 * channel groups for pruning, and the intermediate features a distillation compares.
 *
 * Lowering: a family that can be exported fills gt_model_entry.lower; the program computes what
 * the generator computes in GT_BN_EVAL mode (batch norms folded into per-channel affines), one
 * sample at a time, activations (C, H, W) row-major in float.
 *
 *     gt_prog p;
 *     if (gt_prog_from_net(&G, &p) != GT_OK) fprintf(stderr, "%s\n", gt_last_error());
 *     float *img = malloc(sizeof(float) * gt_prog_out_numel(&p) * n);
 *     gt_prog_run(&p, z, img, n);                  // z (n, nz) -> img (n, C, res, res)
 *     gt_prog_export_c(&p, "gen.c", NULL);         // generate(const float *z, float *img)
 *     gt_prog_free(&p);
 *
 * Pruning: a family that can be pruned fills gt_model_entry.channel_groups: each group is a set of
 * channels that one family option sizes (dcgan: "gw0" the first layer's outputs), listed with every
 * parameter dimension those channels index. A student with a group's width set to k and the kept
 * channels' slices of every listed tensor computes exactly the teacher restricted to them.
 */
#ifndef GANTRY_COMPRESS_H
#define GANTRY_COMPRESS_H

#include "models.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- programs -------------------------------------------------------------------------------- */
typedef enum {
    GT_PROG_LINEAR,  /* (cin) -> (cout): w (cout, cin), b (cout) or NULL; input flattened */
    GT_PROG_CONV,    /* conv2d: w (cout, cin, k, k), b (cout) or NULL; stride, pad; pad_reflect: reflection
                      padding (nn.ReflectionPad2d(pad) before a pad-0 conv) instead of zeros */
    GT_PROG_CONVT,   /* conv_transpose2d: w (cin, cout, k, k), b (cout) or NULL; stride, pad, out_pad */
    GT_PROG_AFFINE,  /* per channel: y = x * w[c] + b[c] (an eval batch norm, folded; c = cin = cout) */
    GT_PROG_INORM,   /* instance norm: each channel over (H, W), biased variance, eps; then the affine
                      w[c], b[c] when w is not NULL (nn.InstanceNorm2d, track_running_stats false) */
    GT_PROG_RELU,
    GT_PROG_LRELU,   /* slope */
    GT_PROG_TANH,
    GT_PROG_SIGMOID,
    GT_PROG_UP2,     /* nearest-neighbour upsampling x2 */
    GT_PROG_RESHAPE, /* to (cout, out_h, out_w): same element count; the order is unchanged */
    GT_PROG_SAVE,    /* pushes the current activation on the skip stack (depth <= GT_PROG_STACK_MAX) */
    GT_PROG_ADD,     /* pops the skip stack and adds it (same shape) */
    GT_PROG_COUNT
} gt_prog_kind;

#define GT_PROG_STACK_MAX 4

/* "linear", "conv", ... ("?" out of range). */
const char *gt_prog_op_name(gt_prog_kind k);

typedef struct {
    gt_prog_kind kind;
    int cin, cout, k, stride, pad, out_pad;
    bool pad_reflect;
    float slope;         /* LRELU */
    float eps;           /* INORM */
    float *w, *b;        /* owned copies (see gt_prog_kind); NULL when the op has none */
    /* filled by gt_prog_finish: the input and output shape (C, H, W) of one sample */
    int in_c, in_h, in_w, out_c, out_h, out_w;
    /* int8 (gt_prog_quantize) on LINEAR, CONV and CONVT: weights qw (same layout as w) with one scale
       per output channel (x ~ q * scale), the input activations quantized with in_scale; the
       accumulation is int32, the bias added in float. NULL / 0 on a float op. */
    int8_t *qw;
    float *w_scale;
    float in_scale;
} gt_prog_op;

typedef struct gt_prog {
    char family[GT_MODEL_NAME_MAX]; /* the model family it was lowered from ("dcgan") */
    bool translator;                /* input is an image (in_c, in_h, in_w), else latents (nz, 1, 1) */
    int in_c, in_h, in_w;
    int n, cap;
    gt_prog_op *ops;
    /* filled by gt_prog_finish */
    int out_c, out_h, out_w;
    int64_t max_act;                /* the largest activation of one sample (floats) */
    int max_stack;                  /* deepest skip stack */
    bool quantized;                 /* some op has int8 weights */
} gt_prog;

/* An empty program for family's networks taking (in_c, in_h, in_w) per sample. */
void gt_prog_init(gt_prog *p, const char *family, bool translator, int in_c, int in_h, int in_w);
void gt_prog_free(gt_prog *p);
/* Appends an op of kind with its fields zeroed and returns it (valid until the next append); NULL on
 * out-of-memory. */
gt_prog_op *gt_prog_push(gt_prog *p, gt_prog_kind kind);
/* Appends a LINEAR, CONV or CONVT op, copying w (numel per its kind's layout) and b (cout, or NULL). */
gt_status gt_prog_push_layer(gt_prog *p, gt_prog_kind kind, int cin, int cout, int k, int stride, int pad, int out_pad,
                             const float *w, const float *b);
/* Appends an AFFINE op from an eval batch norm: w = gamma / sqrt(var + eps), b = beta - mean * w
 * (gamma NULL: 1; beta NULL: 0). */
gt_status gt_prog_push_bn(gt_prog *p, int c, const float *gamma, const float *beta, const float *mean,
                          const float *var, float eps);
/* Infers and checks every op's shapes from the input (GT_ERR_SHAPE naming the op when they do not
 * fit), fills the program's summary fields. Called by gt_prog_from_net. */
gt_status gt_prog_finish(gt_prog *p);
/* G (a built generator whose family has .lower) as a program; p is initialised first and safe to
 * gt_prog_free on failure. GT_ERR_ARG naming the families that can be lowered otherwise. */
gt_status gt_prog_from_net(const gt_net *G, gt_prog *p);
/* Runs n samples: in (n, in_c, in_h, in_w) -> out (n, out_c, out_h, out_w); int8 ops run in int8. */
gt_status gt_prog_run(const gt_prog *p, const float *in, float *out, int n);
int64_t gt_prog_out_numel(const gt_prog *p); /* out_c * out_h * out_w */
int64_t gt_prog_in_numel(const gt_prog *p);  /* in_c * in_h * in_w */
/* Multiply-accumulates of one sample (conv, transposed conv and linear layers) and parameters. */
int64_t gt_prog_macs(const gt_prog *p);
int64_t gt_prog_params(const gt_prog *p);

/* --- int8 ------------------------------------------------------------------------------------ */
/* Quantizes every LINEAR, CONV and CONVT op: symmetric per-output-channel weight scales, and each
 * op's input scale calibrated on calib (n_calib samples, laid out as gt_prog_run's input) from the
 * float program's activations (the max-abs, or the given percentile with pct < 100). */
gt_status gt_prog_quantize(gt_prog *p, const float *calib, int n_calib, double pct);

/* --- export ---------------------------------------------------------------------------------- */
typedef struct {
    const char *fn_name;   /* "generate" (a translator: "translate") when NULL */
    bool int8;             /* emit the quantized program's int8 kernels (the program must be quantized) */
} gt_export_opts;
/* Writes one C11 file (atomically) holding p's weights and
 *     void <fn_name>(const float *in, float *out);   // one sample
 * needing only libc and libm, with static work buffers (no allocation per call). */
gt_status gt_prog_export_c(const gt_prog *p, const char *path, const gt_export_opts *o);

/* --- channel groups (pruning) ---------------------------------------------------------------- */
#define GT_GROUP_REFS_MAX 64
#define GT_PARAM_NAME_MAX 64
typedef struct {
    char param[GT_PARAM_NAME_MAX]; /* a parameter or buffer of the net ("main.0.weight") */
    int dim;                       /* the dimension these channels index */
} gt_group_ref;

typedef struct gt_channel_group {
    char opt_key[GT_MODEL_OPT_KEY_MAX]; /* the family option that sets the group's width ("gw0") */
    int size;                           /* its width in this net */
    int n_refs;
    gt_group_ref refs[GT_GROUP_REFS_MAX]; /* every tensor dimension indexed by the group's channels */
    gt_group_ref producer;              /* the weight whose slices along dim make the channels (L1 importance) */
    char bn_weight[GT_PARAM_NAME_MAX];  /* the batch-norm scale of the channels ("" none; BN importance) */
} gt_channel_group;

/* --- distillation taps ----------------------------------------------------------------------- */
/* A family's forward records its intermediate activations when n->tap_on is set (gt_net_tap after
 * each block, in order: dcgan G after every BN + ReLU, D after every LeakyReLU); they live in the
 * forward's scope, as gt_net.aux does. gt_net_forward_y resets n->n_taps. */
void gt_net_tap(gt_net *n, gt_tensor *h);

#ifdef __cplusplus
}
#endif
#endif
