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
/* A hook of gt_backward / gt_backward_ex on this thread (NULL: none): called with a leaf as soon as
 * its gradient for this backward is complete and added into leaf->grad (before the rest of the pass
 * runs), and with NULL after each node's backward. Data-parallel training starts a bucket's
 * allreduce from it (src/train/ddp.c). Not called by gt_grad. */
typedef void (*gt_grad_hook_fn)(gt_tensor *leaf, void *user);
void gt_autograd_set_grad_hook(gt_grad_hook_fn fn, void *user);

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
