/* gantry/tensor.h - tensors: storage, shape, strides, views, reference counts,
 * and scopes (autorelease pools) so a training loop runs in constant memory.
 *
 * Ownership: every function that returns a gt_tensor* returns a new reference.
 * If a scope is open (gt_scope_begin), the scope owns that reference and drops
 * it at gt_scope_end; otherwise the caller owns it and calls gt_release.
 * gt_retain adds a reference the caller owns (to keep a result past a scope). */
#ifndef GANTRY_TENSOR_H
#define GANTRY_TENSOR_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { GT_F32 = 0, GT_I32 = 1 } gt_dtype;

typedef struct gt_storage {
    void *data;      /* 64-byte aligned */
    int64_t nbytes;
    int refcount;
    bool external;   /* data not owned (not freed) */
    int device;      /* gt_device (gantry/device.h): where data lives */
} gt_storage;

typedef struct gt_node gt_node;

typedef struct gt_tensor {
    int refcount;
    gt_dtype dtype;
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    int64_t stride[GT_MAX_DIMS]; /* in elements */
    int64_t offset;              /* in elements */
    gt_storage *storage;
    bool requires_grad;          /* leaf that wants .grad, or op output on a path to one */
    struct gt_tensor *grad;      /* accumulated gradient (leaves), owned */
    gt_node *node;               /* the op that made it (NULL for leaves), owned */
    struct gt_tensor *gacc;      /* engine scratch during one backward run */
    int visit;                   /* engine scratch */
} gt_tensor;

/* --- creation ---------------------------------------------------------- */
gt_tensor *gt_empty(int ndim, const int64_t *shape);          /* uninitialised f32 */
gt_tensor *gt_zeros(int ndim, const int64_t *shape);
gt_tensor *gt_ones(int ndim, const int64_t *shape);
gt_tensor *gt_full(int ndim, const int64_t *shape, float v);
gt_tensor *gt_scalar(float v);                                  /* 0-d tensor */
gt_tensor *gt_from_data(int ndim, const int64_t *shape, const float *data); /* copies */
gt_tensor *gt_empty_i32(int ndim, const int64_t *shape);
gt_tensor *gt_from_i32(int ndim, const int64_t *shape, const int32_t *data);
gt_tensor *gt_zeros_like(const gt_tensor *t);
gt_tensor *gt_ones_like(const gt_tensor *t);
/* Shape literal helper: GT_SHAPE(2, 3) -> (const int64_t[]){2, 3}, with ndim. */
#define GT_SHAPE(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}

/* --- references and scopes --------------------------------------------- */
gt_tensor *gt_retain(gt_tensor *t);   /* returns t; NULL-safe */
void gt_release(gt_tensor *t);         /* NULL-safe */
int gt_scope_begin(void);              /* returns a marker */
void gt_scope_end(int marker);         /* drops every reference made since marker */
int gt_scope_depth(void);
/* Number of live tensors (for leak tests). */
int64_t gt_live_tensors(void);

/* --- properties -------------------------------------------------------- */
int64_t gt_numel(const gt_tensor *t);
bool gt_is_contiguous(const gt_tensor *t);
bool gt_same_shape(const gt_tensor *a, const gt_tensor *b);
float *gt_data(const gt_tensor *t);       /* f32 data at offset */
int32_t *gt_data_i32(const gt_tensor *t); /* i32 data at offset */
/* Writes "(2, 3, 4)" into buf; returns buf. */
char *gt_shape_str(const gt_tensor *t, char *buf, size_t n);
float gt_item(const gt_tensor *t);        /* value of a one-element tensor */
/* Copies the (possibly strided) contents into out[numel] in row-major order. */
gt_status gt_copy_to(const gt_tensor *t, float *out);
/* Copies src's values into dst (same numel, dst contiguous); no autograd. */
gt_status gt_copy_(gt_tensor *dst, const gt_tensor *src);
gt_status gt_fill_(gt_tensor *t, float v);
void gt_set_requires_grad(gt_tensor *t, bool r);
/* Drops t->grad. */
void gt_zero_grad(gt_tensor *t);

/* Print a short summary and the first values (debug). */
void gt_print(const char *name, const gt_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
