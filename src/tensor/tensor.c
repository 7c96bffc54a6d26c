/* Tensors: storage, creation, reference counts, scopes, views. */
#include "../internal.h"
#include "../backend/device_internal.h"
#include "../backend/kernels.h"

#include <pthread.h>
#include <stdatomic.h>

static atomic_llong gt__live = 0;

/* Buffers: 64-byte aligned, with a 64-byte header holding the block's size class. Blocks up to
 * 1 MiB come in power-of-two classes, and a freed one waits in its thread's cache for the next
 * allocation of its class (at most GT__CACHE_PER_CLASS each, GT__CACHE_BYTES in all): a forward
 * allocates the same shapes every call, and glibc's memalign (its split and consolidation of
 * free chunks) was ~13% of a small generator's time at batch 1. Bigger blocks go to libc. */
#define GT__CLASS_MIN 6          /* 64 bytes */
#define GT__CLASS_MAX 20         /* 1 MiB */
#define GT__CACHE_PER_CLASS 16
#define GT__CACHE_BYTES (32u << 20)
#define GT__HDR 64
typedef struct {
    void *blk[GT__CLASS_MAX + 1][GT__CACHE_PER_CLASS];
    int n[GT__CLASS_MAX + 1];
    size_t bytes;
} gt__block_cache;
static _Thread_local gt__block_cache *gt__bc;
static pthread_key_t gt__bc_key;
static pthread_once_t gt__bc_once = PTHREAD_ONCE_INIT;

static _Thread_local bool gt__bc_gone; /* this thread's cache was dropped (its exit is under way) */

static void gt__bc_drop(void *p) { /* a thread's exit: its cached blocks back to libc; later frees
                                      (other destructors of the exit) go straight to libc too */
    gt__block_cache *c = p;
    gt__bc = NULL;
    gt__bc_gone = true;
    for (int k = 0; c && k <= GT__CLASS_MAX; k++)
        for (int i = 0; i < c->n[k]; i++) free(c->blk[k][i]);
    free(c);
}
static void gt__bc_key_make(void) { (void)pthread_key_create(&gt__bc_key, gt__bc_drop); }

static gt__block_cache *gt__bc_get(void) {
    if (gt__bc || gt__bc_gone) return gt__bc;
    pthread_once(&gt__bc_once, gt__bc_key_make);
    gt__bc = calloc(1, sizeof *gt__bc);
    if (gt__bc) (void)pthread_setspecific(gt__bc_key, gt__bc);
    return gt__bc;
}

static int gt__class_of(size_t n) {
    int k = GT__CLASS_MIN;
    while (k <= GT__CLASS_MAX && ((size_t)1 << k) < n) k++;
    return k <= GT__CLASS_MAX ? k : -1;
}

void *gt__alloc(size_t nbytes) {
    size_t n = (nbytes + 63) & ~(size_t)63;
    if (n == 0) n = 64;
    const int k = gt__class_of(n);
    gt__block_cache *c = k >= 0 ? gt__bc_get() : NULL;
    if (c && c->n[k] > 0) {
        char *raw = c->blk[k][--c->n[k]];
        c->bytes -= (size_t)1 << k;
        return raw + GT__HDR;
    }
    void *raw = NULL;
    if (posix_memalign(&raw, 64, (k >= 0 ? (size_t)1 << k : n) + GT__HDR) != 0) return NULL;
    *(int *)raw = k;
    return (char *)raw + GT__HDR;
}

void gt__free(void *p) {
    if (!p) return;
    char *raw = (char *)p - GT__HDR;
    const int k = *(int *)raw;
    gt__block_cache *c = k >= 0 ? gt__bc_get() : NULL;
    if (c && c->n[k] < GT__CACHE_PER_CLASS && c->bytes + ((size_t)1 << k) <= GT__CACHE_BYTES) {
        c->blk[k][c->n[k]++] = raw;
        c->bytes += (size_t)1 << k;
        return;
    }
    free(raw);
}

int64_t gt__shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

void gt__contiguous_strides(int ndim, const int64_t *shape, int64_t *stride) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        stride[i] = s;
        s *= shape[i] > 0 ? shape[i] : 1;
    }
}

static gt_storage *gt__storage_new(int64_t nbytes) {
    gt_storage *s = malloc(sizeof *s);
    if (!s) return NULL;
    s->device = gt_device_current();
    s->data = gt__device_alloc((gt_device)s->device, (size_t)nbytes);
    if (!s->data) {
        free(s);
        return NULL;
    }
    s->nbytes = nbytes;
    s->refcount = 1;
    s->external = false;
    return s;
}

static void gt__storage_release(gt_storage *s) {
    if (!s) return;
    if (--s->refcount == 0) {
        if (!s->external) gt__device_free((gt_device)s->device, s->data);
        free(s);
    }
}

/* --- scopes --------------------------------------------------------------- */
static _Thread_local gt_tensor **gt__pool;
static _Thread_local int gt__pool_n, gt__pool_cap;
static _Thread_local int gt__scope_depth;

gt_tensor *gt__autorelease(gt_tensor *t) {
    if (!t || gt__scope_depth == 0) return t;
    if (gt__pool_n == gt__pool_cap) {
        int cap = gt__pool_cap ? gt__pool_cap * 2 : 1024;
        gt_tensor **p = realloc(gt__pool, (size_t)cap * sizeof *p);
        GT_ASSERT(p != NULL); /* the pool cannot grow: nothing sane to do */
        gt__pool = p;
        gt__pool_cap = cap;
    }
    gt__pool[gt__pool_n++] = t;
    return t;
}

int gt_scope_begin(void) {
    gt__scope_depth++;
    return gt__pool_n;
}

void gt__scope_end_keep(int marker, gt_tensor *const *keep, int n) {
    for (int i = 0; i < n; i++) gt_retain(keep[i]);
    gt_scope_end(marker);
    for (int i = 0; i < n; i++) gt__autorelease(keep[i]);
}

void gt_scope_end(int marker) {
    GT_ASSERT(gt__scope_depth > 0 && marker >= 0 && marker <= gt__pool_n);
    while (gt__pool_n > marker) gt_release(gt__pool[--gt__pool_n]);
    gt__scope_depth--;
    /* the outermost scope's end frees the pool (a malloc per outermost scope, nothing per tensor):
     * a thread that ends holds no memory of its own (thread-local storage has no destructor) */
    if (gt__scope_depth == 0) {
        free(gt__pool);
        gt__pool = NULL;
        gt__pool_cap = 0;
    }
}

int gt_scope_depth(void) { return gt__scope_depth; }
int64_t gt_live_tensors(void) { return (int64_t)atomic_load(&gt__live); }

/* --- creation --------------------------------------------------------------- */
static gt_tensor *gt__struct_new(void) {
    gt_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->refcount = 1;
    atomic_fetch_add(&gt__live, 1);
    return t;
}

gt_tensor *gt__new(gt_dtype dt, int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > GT_MAX_DIMS) return gt__fail(GT_ERR_ARG, "tensor: ndim %d outside 0..%d", ndim, GT_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0) return gt__fail(GT_ERR_ARG, "tensor: dim %d has negative size %lld", i, (long long)shape[i]);
    int64_t n = gt__shape_numel(ndim, shape);
    if (n > ((int64_t)1 << 40)) return gt__fail(GT_ERR_ARG, "tensor: %lld elements is absurd", (long long)n);
    gt_tensor *t = gt__struct_new();
    if (!t) return gt__fail(GT_ERR_OOM, "tensor: out of memory");
    t->storage = gt__storage_new(n * 4);
    if (!t->storage) {
        free(t);
        atomic_fetch_sub(&gt__live, 1);
        return gt__fail(GT_ERR_OOM, "tensor: out of memory allocating %lld elements", (long long)n);
    }
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    gt__contiguous_strides(ndim, shape, t->stride);
    return gt__autorelease(t);
}

gt_tensor *gt__new_like(const gt_tensor *t) { return gt__new(GT_F32, t->ndim, t->shape); }

gt_tensor *gt__view(gt_tensor *src, int ndim, const int64_t *shape, const int64_t *stride, int64_t offset) {
    gt_tensor *t = gt__struct_new();
    if (!t) return gt__fail(GT_ERR_OOM, "tensor: out of memory");
    t->dtype = src->dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->stride[i] = stride[i];
    }
    t->offset = offset;
    t->storage = src->storage;
    t->storage->refcount++;
    return gt__autorelease(t);
}

gt_tensor *gt_empty(int ndim, const int64_t *shape) { return gt__new(GT_F32, ndim, shape); }
gt_tensor *gt_empty_i32(int ndim, const int64_t *shape) { return gt__new(GT_I32, ndim, shape); }

gt_tensor *gt_full(int ndim, const int64_t *shape, float v) {
    gt_tensor *t = gt__new(GT_F32, ndim, shape);
    if (!t) return NULL;
    const gt_kernels *K = gt__kern(1, &t);
    GT_K(K, fill)(gt_numel(t), v, gt__ptr(t));
    return t;
}
gt_tensor *gt_zeros(int ndim, const int64_t *shape) { return gt_full(ndim, shape, 0.0f); }
gt_tensor *gt_ones(int ndim, const int64_t *shape) { return gt_full(ndim, shape, 1.0f); }
gt_tensor *gt_scalar(float v) { return gt_full(0, NULL, v); }
gt_tensor *gt_zeros_like(const gt_tensor *t) { return t ? gt_zeros(t->ndim, t->shape) : NULL; }
gt_tensor *gt_ones_like(const gt_tensor *t) { return t ? gt_ones(t->ndim, t->shape) : NULL; }

gt_tensor *gt_from_data(int ndim, const int64_t *shape, const float *data) {
    if (!data) return gt__fail(GT_ERR_ARG, "gt_from_data: data is NULL");
    gt_tensor *t = gt__new(GT_F32, ndim, shape);
    if (t) memcpy(gt_data(t), data, (size_t)gt_numel(t) * 4);
    return t;
}
gt_tensor *gt_from_i32(int ndim, const int64_t *shape, const int32_t *data) {
    if (!data) return gt__fail(GT_ERR_ARG, "gt_from_i32: data is NULL");
    gt_tensor *t = gt__new(GT_I32, ndim, shape);
    if (t) memcpy(gt_data_i32(t), data, (size_t)gt_numel(t) * 4);
    return t;
}

/* --- references ------------------------------------------------------------- */
gt_tensor *gt_retain(gt_tensor *t) {
    if (t) t->refcount++;
    return t;
}

static void gt__node_free(gt_node *n) {
    if (!n) return;
    for (int i = 0; i < n->n_in; i++) gt_release(n->in[i]);
    for (int i = 0; i < n->n_saved; i++) gt_release(n->saved[i]);
    free(n->ctx);
    free(n);
}

void gt_release(gt_tensor *t) {
    if (!t) return;
    GT_ASSERT(t->refcount > 0);
    if (--t->refcount > 0) return;
    gt__node_free(t->node);
    gt_release(t->grad);
    gt_release(t->gacc);
    gt__storage_release(t->storage);
    atomic_fetch_sub(&gt__live, 1);
    free(t);
}

/* --- properties ------------------------------------------------------------- */
int64_t gt_numel(const gt_tensor *t) { return gt__shape_numel(t->ndim, t->shape); }

bool gt_is_contiguous(const gt_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}

bool gt_same_shape(const gt_tensor *a, const gt_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

/* Host access: a device tensor's queued work is waited for first. */
float *gt_data(const gt_tensor *t) {
    if (t->storage->device != GT_DEVICE_CPU) gt__device_host_access();
    return (float *)t->storage->data + t->offset;
}
int32_t *gt_data_i32(const gt_tensor *t) {
    if (t->storage->device != GT_DEVICE_CPU) gt__device_host_access();
    return (int32_t *)t->storage->data + t->offset;
}
/* Kernel access: no waiting (the kernel runs where the data lives, in queue order). */
float *gt__ptr(const gt_tensor *t) { return (float *)t->storage->data + t->offset; }
int32_t *gt__ptr_i32(const gt_tensor *t) { return (int32_t *)t->storage->data + t->offset; }

char *gt_shape_str(const gt_tensor *t, char *buf, size_t n) {
    if (!t) {
        snprintf(buf, n, "(null)");
        return buf;
    }
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (k < n) snprintf(buf + k, n - k, t->ndim == 1 ? ",)" : ")");
    return buf;
}

/* Iterate a strided tensor in row-major order. */
gt_status gt_copy_to(const gt_tensor *t, float *out) {
    if (!t || !out) return gt_set_error(GT_ERR_ARG, "gt_copy_to: NULL argument");
    int64_t n = gt_numel(t);
    if (t->storage->device != GT_DEVICE_CPU) gt__device_host_access();
    const float *d = (const float *)t->storage->data;
    if (gt_is_contiguous(t)) {
        memcpy(out, d + t->offset, (size_t)n * 4);
        return GT_OK;
    }
    int64_t idx[GT_MAX_DIMS] = {0};
    int64_t off = t->offset;
    for (int64_t i = 0; i < n; i++) {
        out[i] = d[off];
        for (int k = t->ndim - 1; k >= 0; k--) {
            idx[k]++;
            off += t->stride[k];
            if (idx[k] < t->shape[k]) break;
            off -= t->stride[k] * t->shape[k];
            idx[k] = 0;
        }
    }
    return GT_OK;
}

gt_status gt_copy_(gt_tensor *dst, const gt_tensor *src) {
    if (!dst || !src) return gt_set_error(GT_ERR_ARG, "gt_copy_: NULL argument");
    if (gt_numel(dst) != gt_numel(src) || !gt_is_contiguous(dst)) {
        char a[96], b[96];
        return gt_set_error(GT_ERR_SHAPE, "gt_copy_: cannot copy %s into %s (needs equal sizes, contiguous dst)",
                            gt_shape_str(src, a, sizeof a), gt_shape_str(dst, b, sizeof b));
    }
    gt_tensor *ts[2] = {(gt_tensor *)src, dst};
    if (src->dtype != GT_F32 || dst->dtype != GT_F32) return gt_copy_to(src, gt_data(dst));
    GT_K(gt__kern(2, ts), copy)(src->ndim, src->shape, gt__ptr(src), src->stride, gt__ptr(dst));
    return GT_OK;
}

gt_status gt_fill_(gt_tensor *t, float v) {
    if (!t || !gt_is_contiguous(t)) return gt_set_error(GT_ERR_ARG, "gt_fill_: needs a contiguous tensor");
    const gt_kernels *K = gt__kern(1, &t);
    if (t->dtype == GT_I32) GT_K(K, fill_i32)(gt_numel(t), (int32_t)v, gt__ptr_i32(t));
    else GT_K(K, fill)(gt_numel(t), v, gt__ptr(t));
    return GT_OK;
}

float gt_item(const gt_tensor *t) {
    if (!t || gt_numel(t) < 1) return NAN;
    if (t->dtype == GT_I32) return (float)gt_data_i32(t)[0];
    return gt_data(t)[0];
}

void gt_set_requires_grad(gt_tensor *t, bool r) {
    if (t) t->requires_grad = r;
}

void gt_zero_grad(gt_tensor *t) {
    if (!t) return;
    gt_release(t->grad);
    t->grad = NULL;
}

void gt_print(const char *name, const gt_tensor *t) {
    char buf[128];
    if (!t) {
        printf("%s: NULL\n", name);
        return;
    }
    printf("%s %s%s:", name, gt_shape_str(t, buf, sizeof buf), t->requires_grad ? " requires_grad" : "");
    int64_t n = gt_numel(t);
    float *tmp = malloc((size_t)(n ? n : 1) * 4);
    if (!tmp) return;
    gt_copy_to(t, tmp);
    for (int64_t i = 0; i < n && i < 16; i++) printf(" %.6g", tmp[i]);
    printf(n > 16 ? " ...\n" : "\n");
    free(tmp);
}

/* --- helpers for ops ------------------------------------------------------- */
int gt__dim(const gt_tensor *t, int dim, const char *opname) {
    int d = dim < 0 ? dim + t->ndim : dim;
    if (d < 0 || d >= t->ndim) {
        char b[96];
        gt_set_error(GT_ERR_ARG, "%s: dim %d out of range for a tensor of shape %s", opname, dim,
                     gt_shape_str(t, b, sizeof b));
        return -1;
    }
    return d;
}

bool gt__check(const gt_tensor *t, const char *opname, const char *argname, int ndim) {
    if (!t) return false; /* propagate the earlier error */
    if (t->dtype != GT_F32) {
        gt_set_error(GT_ERR_ARG, "%s: %s must be float32", opname, argname);
        return false;
    }
    if (ndim >= 0 && t->ndim != ndim) {
        char b[96];
        gt_set_error(GT_ERR_SHAPE, "%s: %s must have %d dims, got shape %s", opname, argname, ndim,
                     gt_shape_str(t, b, sizeof b));
        return false;
    }
    return true;
}

gt_status gt__broadcast_shape(const gt_tensor *a, const gt_tensor *b, int *ndim, int64_t *shape, const char *opname) {
    int n = GT_MAX(a->ndim, b->ndim);
    for (int i = 0; i < n; i++) {
        int ia = a->ndim - n + i, ib = b->ndim - n + i;
        int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            char x[96], y[96];
            return gt_set_error(GT_ERR_SHAPE, "%s: shapes %s and %s do not broadcast (dim %d: %lld vs %lld)", opname,
                                gt_shape_str(a, x, sizeof x), gt_shape_str(b, y, sizeof y), i, (long long)sa,
                                (long long)sb);
        }
        shape[i] = sa == 1 ? sb : sa;
    }
    *ndim = n;
    return GT_OK;
}
