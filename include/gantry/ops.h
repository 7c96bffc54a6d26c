/* gantry/ops.h - every differentiable op. All take and return new references
 * (see tensor.h). A NULL input makes the op return NULL without touching the
 * error, so a chain of calls can be checked once at the end. */
#ifndef GANTRY_OPS_H
#define GANTRY_OPS_H

#include "autograd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- elementwise, broadcasting (numpy rules) ---------------------------- */
gt_tensor *gt_add(gt_tensor *a, gt_tensor *b);
gt_tensor *gt_sub(gt_tensor *a, gt_tensor *b);
gt_tensor *gt_mul(gt_tensor *a, gt_tensor *b);
gt_tensor *gt_div(gt_tensor *a, gt_tensor *b);
gt_tensor *gt_pow(gt_tensor *a, gt_tensor *b);          /* a > 0 where b is not an integer */
gt_tensor *gt_add_scalar(gt_tensor *a, float s);
gt_tensor *gt_mul_scalar(gt_tensor *a, float s);
gt_tensor *gt_rsub_scalar(gt_tensor *a, float s);       /* s - a */
gt_tensor *gt_pow_scalar(gt_tensor *a, float p);
gt_tensor *gt_neg(gt_tensor *a);
gt_tensor *gt_exp(gt_tensor *a);
gt_tensor *gt_log(gt_tensor *a);
gt_tensor *gt_sqrt(gt_tensor *a);
gt_tensor *gt_abs(gt_tensor *a);
gt_tensor *gt_clamp(gt_tensor *a, float lo, float hi);  /* use -INFINITY / INFINITY for one side */

/* --- activations -------------------------------------------------------- */
gt_tensor *gt_relu(gt_tensor *a);
gt_tensor *gt_leaky_relu(gt_tensor *a, float slope);
gt_tensor *gt_tanh(gt_tensor *a);
gt_tensor *gt_sigmoid(gt_tensor *a);
gt_tensor *gt_softplus(gt_tensor *a, float beta, float threshold); /* torch defaults 1, 20 */
gt_tensor *gt_elu(gt_tensor *a, float alpha);

/* Constant masks (no gradient flows through them): 1 where the test holds. */
gt_tensor *gt_gt_scalar(gt_tensor *a, float s);
gt_tensor *gt_lt_scalar(gt_tensor *a, float s);

/* --- reductions ----------------------------------------------------------
 * dims: a list of n dims (negative counts from the end); n == 0 means all. */
gt_tensor *gt_sum(gt_tensor *a, int n, const int *dims, bool keepdim);
gt_tensor *gt_mean(gt_tensor *a, int n, const int *dims, bool keepdim);
gt_tensor *gt_sum_all(gt_tensor *a);   /* 0-d */
gt_tensor *gt_mean_all(gt_tensor *a);  /* 0-d */
/* Sum a broadcast tensor back down to shape (the adjoint of gt_expand). */
gt_tensor *gt_sum_to(gt_tensor *a, int ndim, const int64_t *shape);
/* Max over one dim (values only; the gradient goes to the first maximum). */
gt_tensor *gt_max(gt_tensor *a, int dim, bool keepdim);
gt_tensor *gt_logsumexp(gt_tensor *a, int dim, bool keepdim);
gt_tensor *gt_log_softmax(gt_tensor *a, int dim);
gt_tensor *gt_softmax(gt_tensor *a, int dim);

/* --- views and shape ---------------------------------------------------- */
gt_tensor *gt_reshape(gt_tensor *a, int ndim, const int64_t *shape); /* one -1 allowed */
gt_tensor *gt_flatten(gt_tensor *a, int start_dim);                  /* (N, rest) when start_dim=1 */
gt_tensor *gt_permute(gt_tensor *a, const int *perm);
gt_tensor *gt_transpose(gt_tensor *a, int d0, int d1);
gt_tensor *gt_slice(gt_tensor *a, int dim, int64_t start, int64_t end, int64_t step);
gt_tensor *gt_concat(int n, gt_tensor *const *ts, int dim);
/* Splits along dim into n pieces of the given sizes (out[n] new refs). */
gt_status gt_split(gt_tensor *a, int dim, int n, const int64_t *sizes, gt_tensor **out);
gt_tensor *gt_expand(gt_tensor *a, int ndim, const int64_t *shape);  /* broadcast view */
gt_tensor *gt_contiguous(gt_tensor *a);  /* a itself (new ref) when already contiguous */
gt_tensor *gt_unsqueeze(gt_tensor *a, int dim);
gt_tensor *gt_squeeze(gt_tensor *a, int dim);

/* --- linear algebra ----------------------------------------------------- */
/* (M,K)@(K,N); (B,M,K)@(B,K,N); (B,M,K)@(K,N); (M,K)@(B,K,N). */
gt_tensor *gt_matmul(gt_tensor *a, gt_tensor *b);
/* y = x @ w^T + b; x (..., in), w (out, in), b (out) or NULL. */
gt_tensor *gt_linear(gt_tensor *x, gt_tensor *w, gt_tensor *b);

/* --- convolution -------------------------------------------------------- */
typedef struct {
    int stride_h, stride_w;
    int pad_h, pad_w;
    int dil_h, dil_w;
    int out_pad_h, out_pad_w; /* conv_transpose only */
    int groups;
} gt_conv_params;
/* {stride s, padding p, dilation 1, groups 1} */
gt_conv_params gt_conv_params_make(int stride, int pad);
/* x (N, C_in, H, W), w (C_out, C_in/groups, kH, kW), b (C_out) or NULL. */
gt_tensor *gt_conv2d(gt_tensor *x, gt_tensor *w, gt_tensor *b, gt_conv_params p);
/* x (N, C_in, H, W), w (C_in, C_out/groups, kH, kW), b (C_out) or NULL. */
gt_tensor *gt_conv_transpose2d(gt_tensor *x, gt_tensor *w, gt_tensor *b, gt_conv_params p);
/* The weight gradient of conv2d as an op of its own (differentiable):
 * dW for input x and output gradient gy, weight shape (kH, kW given). */
gt_tensor *gt_conv2d_weight_grad(gt_tensor *x, gt_tensor *gy, int kh, int kw, gt_conv_params p);

/* --- normalisation -------------------------------------------------------
 * batch norm over (N, C) or (N, C, H, W); weight/bias (C) or NULL;
 * running_mean/var (C) or NULL. training: normalise with batch statistics and
 * update the running ones (unbiased variance, PyTorch's momentum convention);
 * eval: normalise with the running statistics. */
gt_tensor *gt_batch_norm(gt_tensor *x, gt_tensor *weight, gt_tensor *bias, gt_tensor *running_mean,
                         gt_tensor *running_var, bool training, float momentum, float eps);
/* Synchronized batch norm (data-parallel training's --sync-bn): while fn is set on this thread,
 * gt_batch_norm in training mode sums its per-channel count, sum and sum of squares (float64) with
 * fn (an in-place sum of n doubles over every process of the job), and in backward sum(dy) and
 * sum(dy * xhat), so each process normalizes with the whole batch's statistics. Every process must
 * then run the same batch norms in the same order. A double backward through it (create_graph) is
 * refused. NULL: per process again. */
typedef gt_status (*gt_bn_allreduce_fn)(double *buf, int64_t n, void *user);
void gt_batch_norm_set_sync(gt_bn_allreduce_fn fn, void *user);
/* instance norm over (N, C, H, W): each (n, c) plane; weight/bias (C) or NULL. */
gt_tensor *gt_instance_norm(gt_tensor *x, gt_tensor *weight, gt_tensor *bias, float eps);
/* layer norm over the last n_norm dims; weight/bias of that shape or NULL. */
gt_tensor *gt_layer_norm(gt_tensor *x, int n_norm, gt_tensor *weight, gt_tensor *bias, float eps);

/* --- pooling and resampling --------------------------------------------- */
gt_tensor *gt_avg_pool2d(gt_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil_mode,
                         bool count_include_pad);
gt_tensor *gt_max_pool2d(gt_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil_mode);
gt_tensor *gt_adaptive_avg_pool2d(gt_tensor *x, int oh, int ow);
gt_tensor *gt_upsample_nearest2d(gt_tensor *x, int oh, int ow);
gt_tensor *gt_upsample_bilinear2d(gt_tensor *x, int oh, int ow); /* align_corners=false */
/* torch.nn.functional.grid_sample: x (N, C, H, W) sampled at grid (N, Ho, Wo, 2) (x then y, in
 * [-1, 1] normalised coordinates; align_corners as torch) -> (N, C, Ho, Wo); bilinear or nearest;
 * padding zeros, border or reflection. Differentiable in x to any order (its backward is the
 * transposed sampling, gt_grid_sample_t, whose backward is gt_grid_sample); grid takes no gradient. */
typedef enum { GT_GRID_ZEROS = 0, GT_GRID_BORDER, GT_GRID_REFLECTION } gt_grid_pad;
gt_tensor *gt_grid_sample(gt_tensor *x, gt_tensor *grid, bool bilinear, gt_grid_pad pad, bool align_corners);
/* The adjoint: scatters y (N, C, Ho, Wo) back to (N, C, h, w) with the same weights. */
gt_tensor *gt_grid_sample_t(gt_tensor *y, gt_tensor *grid, int h, int w, bool bilinear, gt_grid_pad pad,
                            bool align_corners);

/* --- misc --------------------------------------------------------------- */
/* weight (num, dim), idx i32 of any shape -> (idx..., dim). */
gt_tensor *gt_embedding(gt_tensor *weight, gt_tensor *idx);
struct gt_rng;
/* Inverted dropout: zeroes with probability p, scales the rest by 1/(1-p);
 * identity when !training or p == 0. */
gt_tensor *gt_dropout(gt_tensor *x, float p, bool training, struct gt_rng *rng);

/* --- losses (mean reduction, as PyTorch's default) ---------------------- */
gt_tensor *gt_bce_with_logits(gt_tensor *logits, gt_tensor *target);
gt_tensor *gt_mse_loss(gt_tensor *x, gt_tensor *target);
gt_tensor *gt_l1_loss(gt_tensor *x, gt_tensor *target);
/* logits (N, C), target i32 (N) class indices. */
gt_tensor *gt_cross_entropy(gt_tensor *logits, gt_tensor *target);

#ifdef __cplusplus
}
#endif
#endif
