/* gantry/nn.h - modules with named parameters.
 *
 * A gt_params registry is an ordered list of (name, tensor, is_buffer) with
 * dotted names ("G.net.0.weight", "D.bn1.running_mean") that key checkpoints.
 * Modules register their tensors into it under a prefix. Once every module is
 * built, gt_params_finalize packs the trainable parameters into ONE contiguous
 * slab (each parameter becomes a view into it, in registration order), their
 * gradients into a second slab (each ->grad a view that backward accumulates
 * into in place), and the buffers into a third; so a checkpoint is one write
 * and an optimizer step is one loop (llm.c's malloc_and_point_parameters).
 *
 * Ownership: the registry holds one reference to each tensor; a module's
 * tensor pointers are borrowed from it and stay valid (finalize rebinds the
 * same tensor structs to the slab) until gt_params_free.
 *
 * Initialisation follows PyTorch's defaults exactly (the same distributions
 * and bounds), drawn from gantry's Philox generator.
 *
 *     gt_params P; gt_rng r; gt_nn_linear fc; gt_nn_batch_norm bn; gt_adam opt;
 *     gt_params_init(&P); gt_rng_init(&r, 42);
 *     gt_nn_linear_init(&fc, &P, "G.fc", 128, 256, true, &r);   // G.fc.weight, G.fc.bias
 *     gt_nn_batch_norm_init(&bn, &P, "G.bn", 256, true, true);  // + running_mean, running_var
 *     gt_params_finalize(&P);
 *     gt_adam_init(&opt, &P, 2e-4, 0.5, 0.999, 1e-8, 0);
 *     for (...) {
 *         int m = gt_scope_begin();
 *         gt_params_zero_grad(&P);
 *         gt_tensor *h = gt_relu(gt_nn_batch_norm_forward(&bn, gt_nn_linear_forward(&fc, z)));
 *         gt_backward(loss_of(h));   // gradients land in P.grad
 *         gt_adam_step(&opt);        // one loop over P.slab
 *         gt_scope_end(m);
 *     }
 *     gt_adam_free(&opt); gt_params_free(&P);
 */
#ifndef GANTRY_NN_H
#define GANTRY_NN_H

#include "ops.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- the parameter registry ------------------------------------------------ */
typedef struct {
    char *name;       /* owned, dotted: "G.net.0.weight" */
    gt_tensor *t;     /* owned reference */
    bool is_buffer;   /* true: state that is saved but not trained (BN running stats) */
    int64_t offset;   /* after finalize: element offset in the param or buffer slab */
} gt_param;

typedef struct {
    gt_param *v;      /* (n) entries in registration order */
    int n, cap;
    bool finalized;
    int64_t numel;         /* trainable elements (after finalize) */
    int64_t buffer_numel;  /* buffer elements (after finalize) */
    gt_tensor *slab;       /* (numel) every trainable parameter, in order */
    gt_tensor *grad;       /* (numel) their gradients; each param's ->grad views it */
    gt_tensor *buffers;    /* (buffer_numel) every buffer, in order */
} gt_params;

void gt_params_init(gt_params *P);
/* Releases every tensor and the slabs; P can be initialised again. */
void gt_params_free(gt_params *P);
/* Registers t under name (the registry retains it). A trainable t gets
 * requires_grad = true. t must be float32; names must be unique; nothing can
 * be added after finalize (GT_ERR_STATE). */
gt_status gt_params_add(gt_params *P, const char *name, gt_tensor *t, bool is_buffer);
/* Packs the parameters, their gradients and the buffers into slabs (values
 * kept, gradients kept or zero). Idempotent. */
gt_status gt_params_finalize(gt_params *P);

/* "prefix.leaf" into buf ("leaf" when prefix is NULL or ""); GT_ERR_ARG when
 * it does not fit. */
gt_status gt_params_join(char *buf, size_t n, const char *prefix, const char *leaf);

/* Lookup: index of name or -1; the tensor (borrowed) or NULL. */
int gt_params_find(const gt_params *P, const char *name);
gt_tensor *gt_params_get(const gt_params *P, const char *name);
/* Entries (params + buffers), trainable parameters, buffers. */
int gt_params_count(const gt_params *P);
int gt_params_count_trainable(const gt_params *P);
int gt_params_count_buffers(const gt_params *P);
/* Elements over the trainable parameters (before or after finalize). */
int64_t gt_params_numel_trainable(const gt_params *P);

/* Sets the values of name from src (same number of elements, any strides)
 * or from data[n]; no autograd. GT_ERR_ARG for an unknown name, GT_ERR_SHAPE
 * for a size mismatch. */
gt_status gt_params_set(gt_params *P, const char *name, const gt_tensor *src);
gt_status gt_params_set_data(gt_params *P, const char *name, const float *data, int64_t n);
/* Copies every value (params and buffers) from src, which must have the same
 * names and shapes in the same order. */
gt_status gt_params_copy(gt_params *dst, const gt_params *src);
/* Same names, shapes and kinds in the same order. */
bool gt_params_same_layout(const gt_params *a, const gt_params *b);

/* Fills the gradient slab with zeros (and re-attaches any ->grad that was
 * dropped or replaced, e.g. by gt_zero_grad or a create_graph backward). */
gt_status gt_params_zero_grad(gt_params *P);
/* Makes every trainable ->grad the view into the gradient slab again,
 * copying a replaced gradient's values in (a dropped one counts as zero).
 * Optimizers call this before a step. */
gt_status gt_params_sync_grads(gt_params *P);
/* A view (new reference) of entry i's region of a slab laid out like P's
 * params (or buffers, for a buffer entry): moments, EMA copies, gradients. */
gt_tensor *gt_params_slab_view(const gt_params *P, int i, gt_tensor *slab);

/* --- initialisation (torch.nn.init), in place, no autograd -------------------- */
/* fan_in / fan_out as torch computes them: dim 1 / dim 0 times the product of
 * the dims after 1. */
gt_status gt_init_fans(const gt_tensor *t, int64_t *fan_in, int64_t *fan_out);
gt_status gt_init_uniform(gt_tensor *t, gt_rng *r, float lo, float hi);
gt_status gt_init_normal(gt_tensor *t, gt_rng *r, float mean, float std);
gt_status gt_init_constant(gt_tensor *t, float v);
/* kaiming_uniform_(a, mode='fan_in', nonlinearity='leaky_relu'):
 * U(-b, b), b = sqrt(3) * sqrt(2 / (1 + a^2)) / sqrt(fan_in). */
gt_status gt_init_kaiming_uniform(gt_tensor *t, gt_rng *r, float a);
/* xavier_uniform_: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)). */
gt_status gt_init_xavier_uniform(gt_tensor *t, gt_rng *r, float gain);

/* --- modules --------------------------------------------------------------
 * Each init registers "<prefix>.weight" etc. in P and initialises them as
 * PyTorch does; each forward is the op with the module's tensors. */

/* nn.Linear: weight, bias ~ U(-1/sqrt(in), 1/sqrt(in)). */
typedef struct {
    int in_features, out_features;
    gt_tensor *weight; // (out, in)
    gt_tensor *bias;   // (out) or NULL
} gt_nn_linear;
gt_status gt_nn_linear_init(gt_nn_linear *m, gt_params *P, const char *prefix, int in_features, int out_features,
                            bool bias, gt_rng *r);
/* x (..., in) -> (..., out) */
static inline gt_tensor *gt_nn_linear_forward(const gt_nn_linear *m, gt_tensor *x) {
    return gt_linear(x, m->weight, m->bias);
}

/* nn.Conv2d: weight, bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * fan_in = C_in/groups * kH * kW. p: stride, padding, dilation, groups
 * (gt_conv_params_make(stride, pad) for the common case). */
typedef struct {
    int c_in, c_out, kh, kw;
    gt_conv_params p;
    gt_tensor *weight; // (C_out, C_in/groups, kH, kW)
    gt_tensor *bias;   // (C_out) or NULL
} gt_nn_conv2d;
gt_status gt_nn_conv2d_init(gt_nn_conv2d *m, gt_params *P, const char *prefix, int c_in, int c_out, int kh, int kw,
                            gt_conv_params p, bool bias, gt_rng *r);
/* x (N, C_in, H, W) -> (N, C_out, H', W') */
static inline gt_tensor *gt_nn_conv2d_forward(const gt_nn_conv2d *m, gt_tensor *x) {
    return gt_conv2d(x, m->weight, m->bias, m->p);
}

/* nn.ConvTranspose2d: the same bounds with torch's fan_in, which for this
 * weight layout is C_out/groups * kH * kW (weight.size(1) * kH * kW). */
typedef struct {
    int c_in, c_out, kh, kw;
    gt_conv_params p;
    gt_tensor *weight; // (C_in, C_out/groups, kH, kW)
    gt_tensor *bias;   // (C_out) or NULL
} gt_nn_conv_transpose2d;
gt_status gt_nn_conv_transpose2d_init(gt_nn_conv_transpose2d *m, gt_params *P, const char *prefix, int c_in,
                                      int c_out, int kh, int kw, gt_conv_params p, bool bias, gt_rng *r);
/* x (N, C_in, H, W) -> (N, C_out, H', W') */
static inline gt_tensor *gt_nn_conv_transpose2d_forward(const gt_nn_conv_transpose2d *m, gt_tensor *x) {
    return gt_conv_transpose2d(x, m->weight, m->bias, m->p);
}

/* nn.BatchNorm1d / BatchNorm2d (the op takes (N, C) or (N, C, H, W)):
 * weight 1, bias 0 (when affine), buffers running_mean 0, running_var 1
 * (when track_running_stats); momentum 0.1, eps 1e-5; training = true.
 * Set m->training = false for eval. */
typedef struct {
    int num_features;
    float momentum, eps;
    bool training;
    gt_tensor *weight;       // (C) or NULL
    gt_tensor *bias;         // (C) or NULL
    gt_tensor *running_mean; // (C) buffer or NULL
    gt_tensor *running_var;  // (C) buffer or NULL
} gt_nn_batch_norm;
gt_status gt_nn_batch_norm_init(gt_nn_batch_norm *m, gt_params *P, const char *prefix, int num_features,
                                bool affine, bool track_running_stats);
/* Batch statistics when training or when there are no running ones. */
static inline gt_tensor *gt_nn_batch_norm_forward(const gt_nn_batch_norm *m, gt_tensor *x) {
    return gt_batch_norm(x, m->weight, m->bias, m->running_mean, m->running_var,
                         m->training || !m->running_mean, m->momentum, m->eps);
}

/* nn.Embedding: weight ~ N(0, 1). */
typedef struct {
    int num, dim;
    gt_tensor *weight; // (num, dim)
} gt_nn_embedding;
gt_status gt_nn_embedding_init(gt_nn_embedding *m, gt_params *P, const char *prefix, int num, int dim, gt_rng *r);
/* idx i32 of any shape -> (idx..., dim) */
static inline gt_tensor *gt_nn_embedding_forward(const gt_nn_embedding *m, gt_tensor *idx) {
    return gt_embedding(m->weight, idx);
}

#ifdef __cplusplus
}
#endif
#endif
