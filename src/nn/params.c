/* The parameter registry: named tensors packed into contiguous slabs. */
#include "../backend/kernels.h"
#include "../internal.h"

void gt_params_init(gt_params *P) { memset(P, 0, sizeof *P); }

void gt_params_free(gt_params *P) {
    if (!P) return;
    for (int i = 0; i < P->n; i++) {
        free(P->v[i].name);
        gt_release(P->v[i].t);
    }
    free(P->v);
    gt_release(P->slab);
    gt_release(P->grad);
    gt_release(P->buffers);
    gt_params_init(P);
}

gt_status gt_params_join(char *buf, size_t n, const char *prefix, const char *leaf) {
    if (!buf || !leaf) return gt_set_error(GT_ERR_ARG, "gt_params_join: NULL buffer or leaf name");
    int k = prefix && prefix[0] ? snprintf(buf, n, "%s.%s", prefix, leaf) : snprintf(buf, n, "%s", leaf);
    if (k < 0 || (size_t)k >= n)
        return gt_set_error(GT_ERR_ARG, "gt_params_join: name '%s.%s' longer than %zu characters", prefix ? prefix : "",
                            leaf, n - 1);
    return GT_OK;
}

int gt_params_find(const gt_params *P, const char *name) {
    if (!P || !name) return -1;
    for (int i = 0; i < P->n; i++)
        if (strcmp(P->v[i].name, name) == 0) return i;
    return -1;
}

gt_tensor *gt_params_get(const gt_params *P, const char *name) {
    int i = gt_params_find(P, name);
    return i < 0 ? NULL : P->v[i].t;
}

int gt_params_count(const gt_params *P) { return P ? P->n : 0; }

int gt_params_count_trainable(const gt_params *P) {
    int k = 0;
    for (int i = 0; P && i < P->n; i++) k += !P->v[i].is_buffer;
    return k;
}

int gt_params_count_buffers(const gt_params *P) { return gt_params_count(P) - gt_params_count_trainable(P); }

int64_t gt_params_numel_trainable(const gt_params *P) {
    int64_t k = 0;
    for (int i = 0; P && i < P->n; i++)
        if (!P->v[i].is_buffer) k += gt_numel(P->v[i].t);
    return k;
}

gt_status gt_params_add(gt_params *P, const char *name, gt_tensor *t, bool is_buffer) {
    if (!P || !name || !name[0]) return gt_set_error(GT_ERR_ARG, "gt_params_add: NULL registry or empty name");
    if (!t) return gt_last_status() ? gt_last_status() : gt_set_error(GT_ERR_ARG, "gt_params_add: '%s' is NULL", name);
    if (t->dtype != GT_F32) return gt_set_error(GT_ERR_ARG, "gt_params_add: '%s' must be float32", name);
    if (t->node)
        return gt_set_error(GT_ERR_ARG, "gt_params_add: '%s' is the output of an op; register a leaf (gt_detach it)",
                            name);
    if (P->finalized)
        return gt_set_error(GT_ERR_STATE, "gt_params_add: cannot add '%s' after gt_params_finalize; build every "
                                          "module first",
                            name);
    if (gt_params_find(P, name) >= 0) return gt_set_error(GT_ERR_ARG, "gt_params_add: name '%s' already used", name);
    for (int i = 0; i < P->n; i++)
        if (P->v[i].t == t)
            return gt_set_error(GT_ERR_ARG, "gt_params_add: '%s' is the tensor already registered as '%s'", name,
                                P->v[i].name);
    if (P->n == P->cap) {
        int cap = P->cap ? 2 * P->cap : 16;
        gt_param *v = realloc(P->v, (size_t)cap * sizeof *v);
        if (!v) return gt_set_error(GT_ERR_OOM, "gt_params_add: out of memory");
        P->v = v;
        P->cap = cap;
    }
    size_t len = strlen(name);
    char *s = malloc(len + 1);
    if (!s) return gt_set_error(GT_ERR_OOM, "gt_params_add: out of memory");
    memcpy(s, name, len + 1);
    P->v[P->n++] = (gt_param){.name = s, .t = gt_retain(t), .is_buffer = is_buffer, .offset = 0};
    t->requires_grad = !is_buffer;
    return GT_OK;
}

/* Points t at slab's storage at offset (contiguous strides), after copying its
 * values there. The old storage is released through a temporary view so the
 * tensor code's own release runs. Call inside a scope. */
static gt_status gt__rebind(gt_tensor *t, gt_tensor *slab, int64_t offset) {
    float *dst = gt_data(slab) + offset;
    gt_status st = gt_copy_to(t, dst);
    if (st != GT_OK) return st;
    if (t->storage == slab->storage && t->offset == offset && gt_is_contiguous(t)) return GT_OK;
    gt_tensor *old = gt__view(t, t->ndim, t->shape, t->stride, t->offset); /* holds the old storage */
    if (!old) return gt_last_status();
    t->storage->refcount--; /* t's reference, now held by old; old's scope frees it */
    t->storage = slab->storage;
    t->storage->refcount++;
    t->offset = offset;
    gt__contiguous_strides(t->ndim, t->shape, t->stride);
    return GT_OK;
}

static bool gt__is_grad_view(const gt_params *P, const gt_param *p) {
    const gt_tensor *g = p->t->grad;
    return g && g->storage == P->grad->storage && g->offset == P->grad->offset + p->offset && !g->node &&
           gt_same_shape(g, p->t) && gt_is_contiguous(g);
}

/* Inside a scope: make p's ->grad the slab view, copying a foreign gradient in. */
static gt_status gt__attach_grad(gt_params *P, gt_param *p) {
    if (gt__is_grad_view(P, p)) return GT_OK;
    float *dst = gt_data(P->grad) + p->offset;
    int64_t n = gt_numel(p->t);
    if (p->t->grad) {
        if (gt_numel(p->t->grad) != n) {
            char a[96], b[96];
            return gt_set_error(GT_ERR_SHAPE, "params: gradient of '%s' has shape %s, the parameter %s", p->name,
                                gt_shape_str(p->t->grad, a, sizeof a), gt_shape_str(p->t, b, sizeof b));
        }
        gt_status st = gt_copy_to(p->t->grad, dst);
        if (st != GT_OK) return st;
    } else {
        memset(dst, 0, (size_t)n * sizeof *dst);
    }
    int64_t stride[GT_MAX_DIMS];
    gt__contiguous_strides(p->t->ndim, p->t->shape, stride);
    gt_tensor *g = gt__view(P->grad, p->t->ndim, p->t->shape, stride, P->grad->offset + p->offset);
    if (!g) return gt_last_status();
    gt_release(p->t->grad);
    p->t->grad = gt_retain(g);
    return GT_OK;
}

gt_status gt_params_finalize(gt_params *P) {
    if (!P) return gt_set_error(GT_ERR_ARG, "gt_params_finalize: NULL registry");
    if (P->finalized) return GT_OK;
    int64_t np = 0, nb = 0;
    for (int i = 0; i < P->n; i++) {
        gt_param *p = &P->v[i];
        p->offset = p->is_buffer ? nb : np;
        *(p->is_buffer ? &nb : &np) += gt_numel(p->t);
    }
    int m = gt_scope_begin();
    gt_status st = GT_OK;
    gt_tensor *slab = gt_zeros(1, (int64_t[]){np});
    gt_tensor *grad = gt_zeros(1, (int64_t[]){np});
    gt_tensor *bufs = gt_zeros(1, (int64_t[]){nb});
    if (!slab || !grad || !bufs) st = gt_last_status();
    if (st == GT_OK) {
        P->slab = gt_retain(slab);
        P->grad = gt_retain(grad);
        P->buffers = gt_retain(bufs);
        P->numel = np;
        P->buffer_numel = nb;
    }
    for (int i = 0; i < P->n && st == GT_OK; i++) {
        gt_param *p = &P->v[i];
        st = gt__rebind(p->t, p->is_buffer ? bufs : slab, p->offset);
        if (st == GT_OK && !p->is_buffer) st = gt__attach_grad(P, p);
    }
    gt_scope_end(m);
    if (st != GT_OK) {
        /* Tensors already rebound stay valid views of the slab (they hold it). */
        gt_release(P->slab);
        gt_release(P->grad);
        gt_release(P->buffers);
        P->slab = P->grad = P->buffers = NULL;
        return st;
    }
    P->finalized = true;
    return GT_OK;
}

gt_status gt_params_sync_grads(gt_params *P) {
    if (!P || !P->finalized) return gt_set_error(GT_ERR_STATE, "params: gt_params_finalize has not been called");
    int m = gt_scope_begin();
    gt_status st = GT_OK;
    for (int i = 0; i < P->n && st == GT_OK; i++)
        if (!P->v[i].is_buffer) st = gt__attach_grad(P, &P->v[i]);
    gt_scope_end(m);
    return st;
}

gt_status gt_params_zero_grad(gt_params *P) {
    gt_status st = gt_params_sync_grads(P);
    if (st != GT_OK) return st;
    GT_K(gt__kern(1, &P->grad), fill)(P->numel, 0.0f, gt__ptr(P->grad));
    return GT_OK;
}

gt_tensor *gt_params_slab_view(const gt_params *P, int i, gt_tensor *slab) {
    if (!P || !P->finalized) return gt__fail(GT_ERR_STATE, "gt_params_slab_view: registry not finalized");
    if (i < 0 || i >= P->n) return gt__fail(GT_ERR_ARG, "gt_params_slab_view: index %d outside 0..%d", i, P->n - 1);
    if (!gt__check(slab, "gt_params_slab_view", "slab", 1)) return NULL;
    const gt_param *p = &P->v[i];
    int64_t need = p->is_buffer ? P->buffer_numel : P->numel;
    if (slab->shape[0] != need || !gt_is_contiguous(slab))
        return gt__fail(GT_ERR_SHAPE, "gt_params_slab_view: slab has %lld elements, the %s of this registry %lld",
                        (long long)slab->shape[0], p->is_buffer ? "buffers" : "parameters", (long long)need);
    int64_t stride[GT_MAX_DIMS];
    gt__contiguous_strides(p->t->ndim, p->t->shape, stride);
    return gt__view(slab, p->t->ndim, p->t->shape, stride, slab->offset + p->offset);
}

gt_status gt_params_set_data(gt_params *P, const char *name, const float *data, int64_t n) {
    int i = gt_params_find(P, name);
    if (i < 0) return gt_set_error(GT_ERR_ARG, "gt_params_set: no tensor named '%s'", name ? name : "(null)");
    if (!data) return gt_set_error(GT_ERR_ARG, "gt_params_set: data for '%s' is NULL", name);
    gt_tensor *t = P->v[i].t;
    if (n != gt_numel(t)) {
        char b[96];
        return gt_set_error(GT_ERR_SHAPE, "gt_params_set: '%s' has shape %s (%lld elements), got %lld values", name,
                            gt_shape_str(t, b, sizeof b), (long long)gt_numel(t), (long long)n);
    }
    if (gt_is_contiguous(t)) {
        memcpy(gt_data(t), data, (size_t)n * sizeof *data);
        return GT_OK;
    }
    /* a user-registered strided tensor (before finalize): scatter in row-major order */
    int64_t idx[GT_MAX_DIMS] = {0}, off = t->offset;
    float *d = gt_data(t) - t->offset; /* gt_data: a device tensor's queued work is waited for first */
    for (int64_t k = 0; k < n; k++) {
        d[off] = data[k];
        for (int j = t->ndim - 1; j >= 0; j--) {
            off += t->stride[j];
            if (++idx[j] < t->shape[j]) break;
            off -= t->stride[j] * t->shape[j];
            idx[j] = 0;
        }
    }
    return GT_OK;
}

gt_status gt_params_set(gt_params *P, const char *name, const gt_tensor *src) {
    if (!src) return gt_set_error(GT_ERR_ARG, "gt_params_set: source for '%s' is NULL", name ? name : "(null)");
    int i = gt_params_find(P, name);
    if (i < 0) return gt_set_error(GT_ERR_ARG, "gt_params_set: no tensor named '%s'", name ? name : "(null)");
    if (src->dtype != GT_F32) return gt_set_error(GT_ERR_ARG, "gt_params_set: source for '%s' must be float32", name);
    if (gt_numel(src) != gt_numel(P->v[i].t)) {
        char a[96], b[96];
        return gt_set_error(GT_ERR_SHAPE, "gt_params_set: '%s' has shape %s, the source %s", name,
                            gt_shape_str(P->v[i].t, a, sizeof a), gt_shape_str(src, b, sizeof b));
    }
    int64_t n = gt_numel(src);
    float *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    if (!tmp) return gt_set_error(GT_ERR_OOM, "gt_params_set: out of memory");
    gt_status st = gt_copy_to(src, tmp);
    if (st == GT_OK) st = gt_params_set_data(P, name, tmp, n);
    free(tmp);
    return st;
}

bool gt_params_same_layout(const gt_params *a, const gt_params *b) {
    if (!a || !b || a->n != b->n) return false;
    for (int i = 0; i < a->n; i++) {
        const gt_param *x = &a->v[i], *y = &b->v[i];
        if (x->is_buffer != y->is_buffer || strcmp(x->name, y->name) != 0 || !gt_same_shape(x->t, y->t)) return false;
    }
    return true;
}

gt_status gt_params_copy(gt_params *dst, const gt_params *src) {
    if (!gt_params_same_layout(dst, src))
        return gt_set_error(GT_ERR_ARG, "gt_params_copy: the registries differ in names, shapes or order (%d vs %d "
                                        "entries); build both from the same constructors",
                            dst ? dst->n : -1, src ? src->n : -1);
    for (int i = 0; i < dst->n; i++) {
        gt_status st = gt_params_set(dst, dst->v[i].name, src->v[i].t);
        if (st != GT_OK) return st;
    }
    return GT_OK;
}
