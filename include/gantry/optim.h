/* gantry/optim.h - optimizers over a finalized gt_params registry.
 *
 * Each optimizer keeps its state in slabs laid out like the registry's
 * parameter slab (gt_params_slab_view gives a parameter's piece, e.g. to name
 * "exp_avg" tensors in a checkpoint), so a step is one loop over the slab.
 * The arithmetic follows torch.optim (1.13, single-tensor path) step for step:
 * hyper-parameters are doubles as in Python, bias corrections are computed in
 * double, the element updates in float32.
 *
 * Every parameter takes part in every step; a parameter that got no gradient
 * steps with a zero gradient (torch skips parameters whose .grad is None). */
#ifndef GANTRY_OPTIM_H
#define GANTRY_OPTIM_H

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- Adam (torch.optim.Adam; weight_decay is L2: g += wd * p) -------------- */
typedef struct {
    gt_params *params;          /* not owned */
    double lr, beta1, beta2, eps, weight_decay;
    bool amsgrad;               /* set before the first step */
    int64_t step;               /* steps taken (torch's state['step']) */
    gt_tensor *exp_avg;         /* (numel) first moment */
    gt_tensor *exp_avg_sq;      /* (numel) second moment */
    gt_tensor *max_exp_avg_sq;  /* (numel) when amsgrad, else NULL */
} gt_adam;

/* P must be finalized. torch's defaults: lr 1e-3, betas (0.9, 0.999),
 * eps 1e-8, weight_decay 0; GANs often use betas (0.5, 0.999). */
gt_status gt_adam_init(gt_adam *o, gt_params *P, double lr, double beta1, double beta2, double eps,
                       double weight_decay);
/* One update from the gradients in P's gradient slab. */
gt_status gt_adam_step(gt_adam *o);
void gt_adam_free(gt_adam *o);

/* --- SGD (torch.optim.SGD) --------------------------------------------------
 * g += wd * p; with momentum: buf = g on the first step, then
 * buf = momentum * buf + (1 - dampening) * g; nesterov: g += momentum * buf,
 * else g = buf; p -= lr * g. */
typedef struct {
    gt_params *params;          /* not owned */
    double lr, momentum, dampening, weight_decay;
    bool nesterov;
    int64_t step;               /* steps taken */
    gt_tensor *momentum_buffer; /* (numel) when momentum != 0, else NULL */
} gt_sgd;

/* nesterov needs momentum > 0 and dampening 0 (as torch). */
gt_status gt_sgd_init(gt_sgd *o, gt_params *P, double lr, double momentum, double dampening, double weight_decay,
                      bool nesterov);
gt_status gt_sgd_step(gt_sgd *o);
void gt_sgd_free(gt_sgd *o);

/* --- EMA of the parameters ------------------------------------------------
 * ema = decay * ema + (1 - decay) * p over every trainable parameter; buffers
 * (BN running statistics) are copied. The average lives in dst's slabs when a
 * dst registry is given (a second copy of the model, built by the same
 * constructors: sample with that model), else in slabs the EMA owns (use
 * gt_ema_swap to run src's model with the averaged values). */
typedef struct {
    gt_params *src;       /* not owned */
    gt_params *dst;       /* not owned, or NULL */
    double decay;
    int64_t updates;      /* updates done */
    gt_tensor *params;    /* (src numel) the averaged parameters */
    gt_tensor *buffers;   /* (src buffer numel) the copied buffers */
} gt_ema;

/* Starts the average at src's current values (copied into dst when given).
 * src (and dst) must be finalized, dst with the same layout. */
gt_status gt_ema_init(gt_ema *e, gt_params *src, gt_params *dst, double decay);
gt_status gt_ema_update(gt_ema *e);
/* One update with another decay (e.g. a warm-up schedule); e->decay unchanged. */
gt_status gt_ema_update_with(gt_ema *e, double decay);
/* Exchanges src's parameter and buffer values with the average's. Call twice
 * to swap back. */
gt_status gt_ema_swap(gt_ema *e);
void gt_ema_free(gt_ema *e);

#ifdef __cplusplus
}
#endif
#endif
