/* Elementwise and reduction kernels on raw float buffers (fast + naive). */
#ifndef GT_CPU_ELEMENTWISE_H
#define GT_CPU_ELEMENTWISE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { GT_BIN_ADD, GT_BIN_SUB, GT_BIN_MUL, GT_BIN_DIV, GT_BIN_POW } gt_binop;

typedef enum {
    GT_UN_ADD_SCALAR, GT_UN_MUL_SCALAR, GT_UN_RSUB_SCALAR, GT_UN_POW_SCALAR, GT_UN_NEG, GT_UN_EXP, GT_UN_LOG,
    GT_UN_SQRT, GT_UN_ABS, GT_UN_CLAMP, GT_UN_RELU, GT_UN_LEAKY_RELU, GT_UN_TANH, GT_UN_SIGMOID, GT_UN_SOFTPLUS,
    GT_UN_ELU, GT_UN_GT, GT_UN_LT, GT_UN_GE_LE /* 1 where a <= x <= b */, GT_UN_LEAKY_COEF /* x>0 ? 1 : a */,
    GT_UN_COUNT
} gt_unop;

/* out[i] = op(a[ia], b[ib]) over an n-dim index space of shape, with element
 * strides sa, sb (0 on broadcast dims); out contiguous. */
void gt_cpu_binary(gt_binop op, int ndim, const int64_t *shape, const float *a, const int64_t *sa, const float *b,
                   const int64_t *sb, float *out);
void gt_naive_binary(gt_binop op, int ndim, const int64_t *shape, const float *a, const int64_t *sa, const float *b,
                     const int64_t *sb, float *out);
/* out[i] = op(x[ix]) with args p0, p1; x strided as sx; out contiguous. */
void gt_cpu_unary(gt_unop op, float p0, float p1, int ndim, const int64_t *shape, const float *x, const int64_t *sx,
                  float *out);
void gt_naive_unary(gt_unop op, float p0, float p1, int ndim, const int64_t *shape, const float *x, const int64_t *sx,
                    float *out);
/* Strided copy into contiguous out. */
void gt_cpu_copy(int ndim, const int64_t *shape, const float *x, const int64_t *sx, float *out);
/* Sum of x (contiguous, shape) over the dims with reduce[d] true into out
 * (the kept dims in order). */
void gt_cpu_sum(int ndim, const int64_t *shape, const bool *reduce, const float *x, float *out);
void gt_naive_sum(int ndim, const int64_t *shape, const bool *reduce, const float *x, float *out);

#endif
