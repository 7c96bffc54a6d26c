/* src/internal.h - what the library's layers share and users never see:
 * the op enum, the autograd node, and helpers for writing ops. */
#ifndef GANTRY_INTERNAL_H
#define GANTRY_INTERNAL_H

#include "gantry.h"

#include <math.h>
#include <string.h>

/* One enum for every op. Each per-op table is pinned with
 * _Static_assert(GT_OP_COUNT == N) so adding an op forces the tables along. */
typedef enum {
    GT_OP_NONE = 0,
    /* elementwise binary */
    GT_OP_ADD, GT_OP_SUB, GT_OP_MUL, GT_OP_DIV, GT_OP_POW,
    /* elementwise unary */
    GT_OP_ADD_SCALAR, GT_OP_MUL_SCALAR, GT_OP_POW_SCALAR, GT_OP_NEG, GT_OP_EXP, GT_OP_LOG,
    GT_OP_SQRT, GT_OP_ABS, GT_OP_CLAMP, GT_OP_RELU, GT_OP_LEAKY_RELU, GT_OP_TANH,
    GT_OP_SIGMOID, GT_OP_SOFTPLUS, GT_OP_ELU,
    /* reductions */
    GT_OP_SUM, GT_OP_MAX,
    /* views / shape */
    GT_OP_RESHAPE, GT_OP_PERMUTE, GT_OP_SLICE, GT_OP_CONCAT, GT_OP_EXPAND, GT_OP_CONTIGUOUS,
    GT_OP_SLICE_BACKWARD, /* scatter a slice's gradient into zeros of the source shape */
    /* linear algebra */
    GT_OP_MATMUL, GT_OP_LINEAR,
    /* convolution */
    GT_OP_CONV2D, GT_OP_CONV_TRANSPOSE2D, GT_OP_CONV2D_WEIGHT_GRAD,
    /* normalisation */
    GT_OP_BATCH_NORM,
    /* pooling / resampling and their adjoints */
    GT_OP_AVG_POOL2D, GT_OP_AVG_POOL2D_BACKWARD, GT_OP_MAX_POOL2D, GT_OP_INDEX_GATHER,
    GT_OP_INDEX_SCATTER, GT_OP_UPSAMPLE_NEAREST2D, GT_OP_UPSAMPLE_NEAREST2D_BACKWARD,
    GT_OP_UPSAMPLE_BILINEAR2D, GT_OP_UPSAMPLE_BILINEAR2D_BACKWARD, GT_OP_ADAPTIVE_AVG_POOL2D,
    GT_OP_ADAPTIVE_AVG_POOL2D_BACKWARD,
    /* misc */
    GT_OP_EMBEDDING, GT_OP_EMBEDDING_BACKWARD, GT_OP_DROPOUT,
    /* grid sampling (augmentation) and its adjoint */
    GT_OP_GRID_SAMPLE, GT_OP_GRID_SAMPLE_BACKWARD,
    GT_OP_COUNT
} gt_op;

const char *gt_op_name(gt_op op);

#define GT_NODE_MAX_IN 4
#define GT_NODE_MAX_SAVED 4

typedef struct gt_node gt_node;
/* Computes the gradient of each input that requires grad (gx[i], a new
 * reference; leave NULL for none) from gy, the gradient of the node's output.
 * Written with public ops, so it is recorded when grad mode is on. */
typedef gt_status (*gt_backward_fn)(gt_node *n, gt_tensor *gy, gt_tensor **gx);

struct gt_node {
    gt_op op;
    gt_backward_fn backward;
    gt_tensor *out;                        /* not owned: the node lives as long as out */
    int n_in;
    gt_tensor *in[GT_NODE_MAX_IN];         /* owned references */
    int n_saved;
    gt_tensor *saved[GT_NODE_MAX_SAVED];   /* owned references (detached or not) */
    int64_t iarg[16];
    float farg[8];
    void *ctx;                             /* op-specific blob, free()d with the node */
    bool freed;                            /* graph released after backward */
    unsigned need;                         /* engine: bit i set when in[i]'s gradient is wanted */
};

/* --- writing an op ------------------------------------------------------ *
 * 1. validate inputs (return NULL with gt_set_error on bad ones);
 * 2. out = gt__new(...) (owned by the current scope, like every result);
 * 3. compute into gt_data(out) (fast kernel, or naive with GT_BACKEND_NAIVE);
 * 4. n = gt__record(out, GT_OP_X, backward_fn, n_in, ins) -- NULL when no
 *    grad is needed; when non-NULL save what backward needs into n. */
gt_tensor *gt__new(gt_dtype dt, int ndim, const int64_t *shape); /* contiguous, uninitialised */
gt_tensor *gt__new_like(const gt_tensor *t);                      /* same shape, f32 */
gt_node *gt__record(gt_tensor *out, gt_op op, gt_backward_fn bw, int n_in, gt_tensor *const *in);
void gt__save(gt_node *n, gt_tensor *t);         /* retains t into n->saved[n->n_saved++] */
/* In a backward fn: is the gradient of input i wanted in this run? */
static inline bool gt__need(const gt_node *n, int i) { return (n->need >> i) & 1u; }
/* Adds a reference to the current scope (or hands it to the caller). */
gt_tensor *gt__autorelease(gt_tensor *t);
/* Ends scope `marker` but hands keep[0..n-1] (NULL entries skipped) to the enclosing scope: a forward
 * run in a scope of its own ends with this, so its intermediates are then owned only by the graph's
 * nodes (a backward frees each once it has passed it) or, without grad, die here. */
void gt__scope_end_keep(int marker, gt_tensor *const *keep, int n);
/* A new tensor struct viewing t's storage with the given geometry (no graph). */
gt_tensor *gt__view(gt_tensor *t, int ndim, const int64_t *shape, const int64_t *stride, int64_t offset);
void gt__contiguous_strides(int ndim, const int64_t *shape, int64_t *stride);
int64_t gt__shape_numel(int ndim, const int64_t *shape);
/* Normalise a dim index (negative from the end); -1 + error when out of range. */
int gt__dim(const gt_tensor *t, int dim, const char *opname);
/* Broadcast shapes a and b into out; error naming both shapes on mismatch. */
gt_status gt__broadcast_shape(const gt_tensor *a, const gt_tensor *b, int *ndim, int64_t *shape, const char *opname);
/* True when some input requires grad and grad mode is on. */
bool gt__needs_grad(int n, gt_tensor *const *in);
/* Error helpers: return NULL after setting a message. */
gt_tensor *gt__fail(gt_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Checks t is a non-NULL f32 tensor with ndim dims (ndim < 0: any). */
bool gt__check(const gt_tensor *t, const char *opname, const char *argname, int ndim);
/* A matrix product's operand at the current precision (src/ops/precision.c): t under fp32, a
 * contiguous bfloat16-rounded copy outside the graph under bf16. */
gt_tensor *gt__prec_operand(gt_tensor *t);

/* Aligned allocation (64 bytes); NULL on failure. */
void *gt__alloc(size_t nbytes);
void gt__free(void *p);

#define GT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define GT_MAX(a, b) ((a) > (b) ? (a) : (b))
/* Parallelise loops only when there is enough work for it to pay. */
#define GT_PAR_MIN 32768

#endif
