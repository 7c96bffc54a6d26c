/* Op names, pinned to the op enum. */
#include "../internal.h"

static const char *const gt__op_names[] = {
    "none",
    "add", "sub", "mul", "div", "pow",
    "add_scalar", "mul_scalar", "pow_scalar", "neg", "exp", "log",
    "sqrt", "abs", "clamp", "relu", "leaky_relu", "tanh",
    "sigmoid", "softplus", "elu",
    "sum", "max",
    "reshape", "permute", "slice", "concat", "expand", "contiguous",
    "slice_backward",
    "matmul", "linear",
    "conv2d", "conv_transpose2d", "conv2d_weight_grad",
    "batch_norm",
    "avg_pool2d", "avg_pool2d_backward", "max_pool2d", "index_gather",
    "index_scatter", "upsample_nearest2d", "upsample_nearest2d_backward",
    "upsample_bilinear2d", "upsample_bilinear2d_backward", "adaptive_avg_pool2d",
    "adaptive_avg_pool2d_backward",
    "embedding", "embedding_backward", "dropout",
    "grid_sample", "grid_sample_backward",
};
_Static_assert(sizeof gt__op_names / sizeof gt__op_names[0] == GT_OP_COUNT, "gt__op_names must name every op");

const char *gt_op_name(gt_op op) { return (op >= 0 && op < GT_OP_COUNT) ? gt__op_names[op] : "unknown op"; }
