/* gantry/autograd.h - reverse-mode autograd with gradients of gradients.
 *
 * Every op output whose inputs require grad (while grad mode is on) carries a
 * node that records the op. Backward formulas are written with the public ops,
 * so with create_graph the backward pass is itself recorded and can be
 * differentiated again (WGAN-GP, DRAGAN, R1/R2). */
#ifndef GANTRY_AUTOGRAD_H
#define GANTRY_AUTOGRAD_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Grad mode (thread-local). gt_no_grad_begin returns the previous mode for
 * gt_grad_mode_restore. */
bool gt_grad_enabled(void);
void gt_grad_mode_set(bool enabled);
bool gt_no_grad_begin(void);
void gt_grad_mode_restore(bool prev);

/* loss.backward(): accumulates d(root)/d(leaf) into leaf->grad for every leaf
 * that requires grad. grad_root may be NULL for a one-element root (ones).
 * retain_graph=false frees the recorded graph (its saved tensors) afterwards.
 * create_graph=true records the backward pass so the grads can be
 * differentiated again (implies retain_graph). */
gt_status gt_backward_ex(gt_tensor *root, gt_tensor *grad_root, bool retain_graph, bool create_graph);
gt_status gt_backward(gt_tensor *root); /* = gt_backward_ex(root, NULL, false, false) */

/* torch.autograd.grad: grads[i] = d(root)/d(inputs[i]) (new references, in
 * the current scope), without touching .grad. An input that root does not
 * depend on gets zeros. create_graph keeps the graph and records the backward. */
gt_status gt_grad(gt_tensor *root, gt_tensor *grad_root, int n, gt_tensor *const *inputs,
                  gt_tensor **grads, bool create_graph);

/* A new tensor sharing t's data, with no graph and requires_grad=false. */
gt_tensor *gt_detach(gt_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
