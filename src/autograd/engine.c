/* The autograd engine: grad mode, recording nodes, and the backward pass. */
#include "../backend/kernels.h"
#include "../internal.h"

static _Thread_local bool gt__grad_off; /* grad mode is on unless set */
static _Thread_local int gt__run_id;

bool gt_grad_enabled(void) { return !gt__grad_off; }
void gt_grad_mode_set(bool enabled) { gt__grad_off = !enabled; }
bool gt_no_grad_begin(void) {
    bool prev = !gt__grad_off;
    gt__grad_off = true;
    return prev;
}
void gt_grad_mode_restore(bool prev) { gt__grad_off = !prev; }

bool gt__needs_grad(int n, gt_tensor *const *in) {
    if (gt__grad_off) return false;
    for (int i = 0; i < n; i++)
        if (in[i] && in[i]->requires_grad) return true;
    return false;
}

gt_node *gt__record(gt_tensor *out, gt_op op, gt_backward_fn bw, int n_in, gt_tensor *const *in) {
    if (!out || !gt__needs_grad(n_in, in)) return NULL;
    GT_ASSERT(n_in <= GT_NODE_MAX_IN && out->node == NULL);
    gt_node *n = calloc(1, sizeof *n);
    if (!n) {
        /* Without a node the result cannot be differentiated: fail the op. */
        gt_set_error(GT_ERR_OOM, "%s: out of memory recording the graph", gt_op_name(op));
        return NULL;
    }
    n->op = op;
    n->backward = bw;
    n->out = out;
    n->n_in = n_in;
    for (int i = 0; i < n_in; i++) n->in[i] = gt_retain(in[i]);
    out->node = n;
    out->requires_grad = true;
    return n;
}

void gt__save(gt_node *n, gt_tensor *t) {
    GT_ASSERT(n->n_saved < GT_NODE_MAX_SAVED);
    n->saved[n->n_saved++] = gt_retain(t);
}

gt_tensor *gt_detach(gt_tensor *t) {
    if (!t) return NULL;
    gt_tensor *d = gt__view(t, t->ndim, t->shape, t->stride, t->offset);
    return d;
}

/* Topological order (post-order) of the tensors root depends on through
 * tensors that require grad. Marks need on the way back up. */
typedef struct {
    gt_tensor **v;
    int n, cap;
} gt__list;

static bool gt__push(gt__list *l, gt_tensor *t) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        gt_tensor **p = realloc(l->v, (size_t)cap * sizeof *p);
        if (!p) return false;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = t;
    return true;
}

/* visit encoding: run*4 + state; state bit 1 = done, bit 2 = needed */
#define GT__SEEN(t, run) ((t)->visit >> 2 == (run))
#define GT__NEEDED(t) (((t)->visit & 2) != 0)

static gt_status gt__toposort(gt_tensor *root, int run, bool want_leaves, int nreq, gt_tensor *const *req,
                              gt__list *order) {
    gt__list stack = {0};
    gt_status st = GT_OK;
    int *child = NULL, cap = 0;
    if (!gt__push(&stack, root)) return gt_set_error(GT_ERR_OOM, "backward: out of memory");
    root->visit = run << 2;
    while (stack.n > 0) {
        gt_tensor *t = stack.v[stack.n - 1];
        if (stack.n > cap) {
            int nc = stack.cap;
            int *p = realloc(child, (size_t)nc * sizeof *p);
            if (!p) {
                st = gt_set_error(GT_ERR_OOM, "backward: out of memory");
                break;
            }
            for (int i = cap; i < nc; i++) p[i] = 0;
            child = p;
            cap = nc;
        }
        int *ci = &child[stack.n - 1];
        gt_node *nd = t->node;
        if (nd && *ci < nd->n_in) {
            gt_tensor *c = nd->in[(*ci)++];
            if (c->requires_grad && !GT__SEEN(c, run)) {
                c->visit = run << 2;
                if (!gt__push(&stack, c)) {
                    st = gt_set_error(GT_ERR_OOM, "backward: out of memory");
                    break;
                }
                child[stack.n - 1] = 0;
            }
            continue;
        }
        /* all children done: decide need, emit */
        bool need = false;
        if (!nd && want_leaves && t->requires_grad) need = true;
        for (int i = 0; i < nreq; i++)
            if (req[i] == t) need = true;
        if (nd && nd->freed) { /* consumed by an earlier backward: reaching it with a gradient is an error */
            nd->need = 1;
            need = true;
        } else if (nd) {
            nd->need = 0;
            for (int i = 0; i < nd->n_in; i++) {
                gt_tensor *c = nd->in[i];
                if (c->requires_grad && GT__SEEN(c, run) && GT__NEEDED(c)) {
                    nd->need |= 1u << i;
                    need = true;
                }
            }
        }
        t->visit = (run << 2) | 1 | (need ? 2 : 0);
        if (!gt__push(order, t)) {
            st = gt_set_error(GT_ERR_OOM, "backward: out of memory");
            break;
        }
        stack.n--;
    }
    free(stack.v);
    free(child);
    return st;
}

static gt_status gt__accumulate(gt_tensor *t, gt_tensor *g) {
    if (!t->gacc) {
        t->gacc = gt_retain(g);
        return GT_OK;
    }
    gt_tensor *s = gt_add(t->gacc, g);
    if (!s) return gt_last_status();
    gt_release(t->gacc);
    t->gacc = gt_retain(s);
    return GT_OK;
}

/* Adds a leaf's gradient of this backward (t->gacc) into t->grad. */
static gt_status gt__leaf_grad(gt_tensor *t, bool create_graph) {
    if (create_graph || !t->grad) {
        gt_tensor *g = t->grad ? gt_add(t->grad, t->gacc) : (create_graph ? t->gacc : NULL);
        if (!g) { /* first gradient, no graph: own a contiguous copy */
            gt_tensor *a = t->gacc;
            g = gt__new_like(a);
            if (g)
                GT_K(gt__kern(2, (gt_tensor *const[]){a, g}), copy)(a->ndim, a->shape, gt__ptr(a), a->stride,
                                                                     gt__ptr(g));
        }
        if (!g) return gt_last_status();
        gt_retain(g);
        gt_release(t->grad);
        t->grad = g;
    } else if (!gt_same_shape(t->grad, t) || !gt_is_contiguous(t->grad) || t->grad->node) {
        gt_tensor *g = gt_add(t->grad, t->gacc);
        if (!g) return gt_last_status();
        gt_release(t->grad);
        t->grad = gt_retain(g);
    } else {
        /* in place, t->grad += gacc (a slab view, kept where it is); each element reads and writes only
         * its own index, so out aliasing a is safe for every kernel table */
        gt_tensor *g = t->gacc, *d = t->grad;
        GT_K(gt__kern(2, (gt_tensor *const[]){g, d}), binary)(GT_BIN_ADD, d->ndim, d->shape, gt__ptr(d), d->stride,
                                                               gt__ptr(g), g->stride, gt__ptr(d));
    }
    return GT_OK;
}

/* The gradient hook (gantry/autograd.h), per thread. */
static _Thread_local gt_grad_hook_fn gt__hook;
static _Thread_local void *gt__hook_user;

void gt_autograd_set_grad_hook(gt_grad_hook_fn fn, void *user) {
    gt__hook = fn;
    gt__hook_user = fn ? user : NULL;
}

/* Releases what node nd saved for its backward and its inputs: the graph through it is consumed, and a
 * later backward that reaches it is an error. An input that nothing else holds (a forward's activation,
 * gt_net_forward) dies here, unless the engine still holds it for its own node's turn. */
static void gt__consume(gt_node *nd) {
    for (int i = 0; i < nd->n_saved; i++) gt_release(nd->saved[i]);
    nd->n_saved = 0;
    for (int i = 0; i < nd->n_in; i++) gt_release(nd->in[i]);
    nd->n_in = 0;
    nd->freed = true;
}

static gt_status gt__run(gt_tensor *root, gt_tensor *grad_root, bool leaves, int nreq, gt_tensor *const *req,
                         gt_tensor **grads, bool retain_graph, bool create_graph) {
    if (!root) return gt_last_status() ? gt_last_status() : gt_set_error(GT_ERR_ARG, "backward: root is NULL");
    if (!root->requires_grad)
        return gt_set_error(GT_ERR_STATE, "backward: the root does not require grad (no input that requires grad, "
                                          "or it was computed with grad mode off)");
    if (!grad_root && gt_numel(root) != 1) {
        char b[96];
        return gt_set_error(GT_ERR_SHAPE, "backward: root of shape %s is not a scalar; pass grad_root",
                            gt_shape_str(root, b, sizeof b));
    }
    if (grad_root && !gt_same_shape(grad_root, root)) {
        char a[96], b[96];
        return gt_set_error(GT_ERR_SHAPE, "backward: grad_root %s does not match root %s",
                            gt_shape_str(grad_root, a, sizeof a), gt_shape_str(root, b, sizeof b));
    }
    const gt_grad_hook_fn hook = gt__hook;
    void *const hook_user = gt__hook_user;
    int run = ++gt__run_id;
    if (run >= (1 << 28)) run = gt__run_id = 1;
    gt__list order = {0};
    int marker = gt_scope_begin();
    bool prev_mode = gt_grad_enabled();
    gt_status st = gt__toposort(root, run, leaves, nreq, req, &order);
    /* Consuming the graph, the engine holds every tensor of the order until its own node has run: a node's
     * inputs are released after its backward, and one that nothing else holds must live until its turn. */
    const bool consume = !retain_graph && !create_graph;
    for (int k = 0; consume && k < order.n; k++) gt_retain(order.v[k]);
    if (st == GT_OK) {
        gt_grad_mode_set(create_graph);
        root->gacc = gt_retain(grad_root ? grad_root : gt_ones_like(root));
        for (int k = order.n - 1; k >= 0 && st == GT_OK; k--) {
            gt_tensor *t = order.v[k];
            gt_node *nd = t->node;
            if (!nd && hook && leaves && t->gacc && t->requires_grad) {
                /* every consumer of this leaf comes later in the order: its gradient is complete */
                gt_grad_mode_set(prev_mode);
                st = gt__leaf_grad(t, create_graph);
                gt_grad_mode_set(create_graph);
                gt_release(t->gacc);
                t->gacc = NULL;
                if (st == GT_OK) hook(t, hook_user);
                continue;
            }
            if (!nd || !t->gacc || !GT__NEEDED(t) || !nd->need) continue;
            if (nd->freed) {
                st = gt_set_error(GT_ERR_STATE, "backward: the graph through %s was already freed by an earlier "
                                                "backward; pass retain_graph=true to the first one",
                                  gt_op_name(nd->op));
                break;
            }
            gt_tensor *gx[GT_NODE_MAX_IN] = {0};
            gt_clear_error();
            /* the node's temporaries and gradients die with this scope unless accumulated (gacc holds
             * what later nodes need): a backward keeps only its frontier alive, not every gradient */
            int node_scope = gt_scope_begin();
            st = nd->backward(nd, t->gacc, gx);
            for (int i = 0; i < nd->n_in && st == GT_OK; i++) {
                if (gt__need(nd, i) && !gx[i])
                    st = gt_last_status() ? gt_last_status()
                                          : gt_set_error(GT_ERR_STATE, "backward of %s produced no gradient for input %d",
                                                         gt_op_name(nd->op), i);
            }
            for (int i = 0; i < nd->n_in && st == GT_OK; i++) {
                if (!gx[i] || !gt__need(nd, i)) continue;
                GT_ASSERT(gt_same_shape(gx[i], nd->in[i]));
                st = gt__accumulate(nd->in[i], gx[i]);
            }
            if (hook) hook(NULL, hook_user); /* a point where the hook may let communication progress */
            bool requested = false;
            for (int i = 0; i < nreq; i++)
                if (req[i] == t) requested = true;
            if (!requested && t != root) {
                gt_release(t->gacc);
                t->gacc = NULL;
            }
            gt_scope_end(node_scope);
            if (consume && st == GT_OK) { /* this run does not come back to it */
                gt__consume(nd);
                if (!requested && t != root) { /* its gradient has moved on: t may die now */
                    t->visit = 0;
                    order.v[k] = NULL;
                    gt_release(t);
                }
            }
        }
        gt_grad_mode_set(prev_mode);
    }
    if (st == GT_OK && leaves) {
        for (int k = 0; k < order.n && st == GT_OK; k++) {
            gt_tensor *t = order.v[k];
            if (!t || t->node || !t->gacc || !t->requires_grad) continue;
            st = gt__leaf_grad(t, create_graph);
        }
    }
    if (st == GT_OK && grads) {
        for (int i = 0; i < nreq; i++) {
            gt_tensor *g = req[i]->gacc;
            if (!g) g = gt_zeros_like(req[i]);
            else if (!create_graph && g->node) g = gt_detach(g);
            grads[i] = gt_retain(g);
        }
    }
    for (int k = 0; k < order.n; k++) {
        gt_tensor *t = order.v[k];
        if (!t) continue; /* released as the run passed it */
        gt_release(t->gacc);
        t->gacc = NULL;
        t->visit = 0;
        if (consume && t->node) gt__consume(t->node);
        if (consume) gt_release(t);
    }
    free(order.v);
    gt_scope_end(marker);
    if (grads) {
        for (int i = 0; i < nreq; i++) {
            if (st == GT_OK) gt__autorelease(grads[i]);
            else {
                gt_release(grads[i]);
                grads[i] = NULL;
            }
        }
    }
    return st;
}

gt_status gt_backward_ex(gt_tensor *root, gt_tensor *grad_root, bool retain_graph, bool create_graph) {
    return gt__run(root, grad_root, true, 0, NULL, NULL, retain_graph, create_graph);
}

gt_status gt_backward(gt_tensor *root) { return gt_backward_ex(root, NULL, false, false); }

gt_status gt_grad(gt_tensor *root, gt_tensor *grad_root, int n, gt_tensor *const *inputs, gt_tensor **grads,
                  bool create_graph) {
    if (n < 0 || (n > 0 && (!inputs || !grads))) return gt_set_error(GT_ERR_ARG, "gt_grad: bad input list");
    for (int i = 0; i < n; i++) {
        grads[i] = NULL;
        if (!inputs[i]) return gt_set_error(GT_ERR_ARG, "gt_grad: inputs[%d] is NULL", i);
        if (!inputs[i]->requires_grad)
            return gt_set_error(GT_ERR_STATE, "gt_grad: inputs[%d] does not require grad", i);
    }
    return gt__run(root, grad_root, false, n, inputs, grads, create_graph, create_graph);
}
