/* safetensors: building a set of named tensors, writing it (atomically) and
 * reading it back with every check the format allows. */
#include <string.h>

#include <cjson/cJSON.h>

#include "gantry/io.h"
#include "io_internal.h"

static const struct {
    const char *name;
    size_t size;
} gt__st_dtypes[GT_ST_DTYPE_COUNT] = {
    [GT_ST_BOOL] = {"BOOL", 1}, [GT_ST_U8] = {"U8", 1},   [GT_ST_I8] = {"I8", 1},     [GT_ST_I16] = {"I16", 2},
    [GT_ST_U16] = {"U16", 2},   [GT_ST_F16] = {"F16", 2}, [GT_ST_BF16] = {"BF16", 2}, [GT_ST_I32] = {"I32", 4},
    [GT_ST_U32] = {"U32", 4},   [GT_ST_F32] = {"F32", 4}, [GT_ST_F64] = {"F64", 8},   [GT_ST_I64] = {"I64", 8},
    [GT_ST_U64] = {"U64", 8},
};

const char *gt_st_dtype_name(gt_st_dtype d) { return (unsigned)d < GT_ST_DTYPE_COUNT ? gt__st_dtypes[d].name : "?"; }
size_t gt_st_dtype_size(gt_st_dtype d) { return (unsigned)d < GT_ST_DTYPE_COUNT ? gt__st_dtypes[d].size : 0; }
int gt_st_dtype_parse(const char *name) {
    for (int i = 0; name && i < GT_ST_DTYPE_COUNT; i++)
        if (strcmp(name, gt__st_dtypes[i].name) == 0) return i;
    return -1;
}

void gt_st_init(gt_safetensors *s) { memset(s, 0, sizeof *s); }

void gt_st_free(gt_safetensors *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) {
        free(s->t[i].name);
        if (s->t[i].own) free((void *)s->t[i].data);
    }
    for (int i = 0; i < s->n_meta; i++) {
        free(s->meta_key[i]);
        free(s->meta_val[i]);
    }
    free(s->t);
    free(s->meta_key);
    free(s->meta_val);
    free(s->file);
    free(s->path);
    gt_st_init(s);
}

static const char *gt__st_label(const gt_safetensors *s) { return s && s->path ? s->path : "<safetensors in memory>"; }

char *gt__shape_fmt(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (k < n) snprintf(buf + k, n - k, ndim == 1 ? ",)" : ")");
    return buf;
}

bool gt__numel_bytes(int ndim, const int64_t *shape, size_t esize, int64_t *numel, size_t *nbytes) {
    int64_t m = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || __builtin_mul_overflow(m, shape[i], &m)) return false;
    }
    size_t b;
    if (__builtin_mul_overflow((size_t)m, esize, &b) || b > (size_t)INT64_MAX) return false;
    *numel = m;
    *nbytes = b;
    return true;
}

gt_status gt_st_add(gt_safetensors *s, const char *name, gt_st_dtype dtype, int ndim, const int64_t *shape,
                    const void *data, bool copy) {
    if (!s || !name || !name[0]) return gt_set_error(GT_ERR_ARG, "gt_st_add: NULL set or empty name");
    if (strcmp(name, "__metadata__") == 0) return gt_set_error(GT_ERR_ARG, "gt_st_add: '__metadata__' is reserved");
    if ((unsigned)dtype >= GT_ST_DTYPE_COUNT) return gt_set_error(GT_ERR_ARG, "gt_st_add: '%s': bad dtype", name);
    if (ndim < 0 || ndim > GT_ST_MAX_DIMS || (ndim && !shape))
        return gt_set_error(GT_ERR_ARG, "gt_st_add: '%s': %d dimensions (0..%d allowed)", name, ndim, GT_ST_MAX_DIMS);
    if (gt_st_find(s, name)) return gt_set_error(GT_ERR_ARG, "gt_st_add: the name '%s' is already used", name);
    gt_st_tensor e;
    memset(&e, 0, sizeof e);
    if (!gt__numel_bytes(ndim, shape, gt_st_dtype_size(dtype), &e.numel, &e.nbytes))
        return gt_set_error(GT_ERR_ARG, "gt_st_add: '%s': negative or too large shape", name);
    if (e.nbytes && !data) return gt_set_error(GT_ERR_ARG, "gt_st_add: '%s': NULL data", name);
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 32;
        gt_st_tensor *t = realloc(s->t, (size_t)cap * sizeof *t);
        if (!t) return gt_set_error(GT_ERR_OOM, "gt_st_add: out of memory");
        s->t = t;
        s->cap = cap;
    }
    e.name = strdup(name);
    if (!e.name) return gt_set_error(GT_ERR_OOM, "gt_st_add: out of memory");
    e.dtype = dtype;
    e.ndim = ndim;
    for (int i = 0; i < ndim; i++) e.shape[i] = shape[i];
    e.data = data;
    if (copy) {
        void *p = malloc(e.nbytes ? e.nbytes : 1);
        if (!p) {
            free(e.name);
            return gt_set_error(GT_ERR_OOM, "gt_st_add: out of memory copying '%s' (%zu bytes)", name, e.nbytes);
        }
        if (e.nbytes) memcpy(p, data, e.nbytes);
        e.data = p;
        e.own = true;
    }
    s->t[s->n++] = e;
    return GT_OK;
}

gt_status gt_st_add_tensor(gt_safetensors *s, const char *name, const gt_tensor *t) {
    if (!t) return gt_set_error(GT_ERR_ARG, "gt_st_add_tensor: '%s' is NULL", name ? name : "?");
    if (t->dtype != GT_F32 && t->dtype != GT_I32)
        return gt_set_error(GT_ERR_ARG, "gt_st_add_tensor: '%s' has an unknown dtype", name ? name : "?");
    gt_st_dtype dt = t->dtype == GT_F32 ? GT_ST_F32 : GT_ST_I32;
    if (gt_is_contiguous(t)) {
        const void *p = t->dtype == GT_F32 ? (const void *)gt_data(t) : (const void *)gt_data_i32(t);
        return gt_st_add(s, name, dt, t->ndim, t->shape, p, false);
    }
    if (t->dtype != GT_F32)
        return gt_set_error(GT_ERR_ARG, "gt_st_add_tensor: '%s': a strided int32 tensor is not supported", name);
    float *tmp = malloc((size_t)(gt_numel(t) ? gt_numel(t) : 1) * sizeof(float));
    if (!tmp) return gt_set_error(GT_ERR_OOM, "gt_st_add_tensor: out of memory");
    gt_status st = gt_copy_to(t, tmp);
    if (!st) st = gt_st_add(s, name, dt, t->ndim, t->shape, tmp, true);
    free(tmp);
    return st;
}

gt_status gt_st_set_meta(gt_safetensors *s, const char *key, const char *value) {
    if (!s || !key || !value) return gt_set_error(GT_ERR_ARG, "gt_st_set_meta: NULL argument");
    for (int i = 0; i < s->n_meta; i++)
        if (strcmp(s->meta_key[i], key) == 0) {
            char *v = strdup(value);
            if (!v) return gt_set_error(GT_ERR_OOM, "gt_st_set_meta: out of memory");
            free(s->meta_val[i]);
            s->meta_val[i] = v;
            return GT_OK;
        }
    if (s->n_meta == s->cap_meta) {
        int cap = s->cap_meta ? 2 * s->cap_meta : 8;
        char **k = realloc(s->meta_key, (size_t)cap * sizeof *k);
        if (!k) return gt_set_error(GT_ERR_OOM, "gt_st_set_meta: out of memory");
        s->meta_key = k;
        char **v = realloc(s->meta_val, (size_t)cap * sizeof *v);
        if (!v) return gt_set_error(GT_ERR_OOM, "gt_st_set_meta: out of memory");
        s->meta_val = v;
        s->cap_meta = cap;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return gt_set_error(GT_ERR_OOM, "gt_st_set_meta: out of memory");
    }
    s->meta_key[s->n_meta] = k;
    s->meta_val[s->n_meta++] = v;
    return GT_OK;
}

const char *gt_st_get_meta(const gt_safetensors *s, const char *key) {
    for (int i = 0; s && key && i < s->n_meta; i++)
        if (strcmp(s->meta_key[i], key) == 0) return s->meta_val[i];
    return NULL;
}

const gt_st_tensor *gt_st_find(const gt_safetensors *s, const char *name) {
    for (int i = 0; s && name && i < s->n; i++)
        if (strcmp(s->t[i].name, name) == 0) return &s->t[i];
    return NULL;
}

/* --- writing ---------------------------------------------------------------- */

/* Data order: larger elements first (so every tensor is aligned to its element
 * size, given the 8-aligned data start), then by name. */
static int gt__st_order(const void *a, const void *b) {
    const gt_st_tensor *x = *(const gt_st_tensor *const *)a, *y = *(const gt_st_tensor *const *)b;
    size_t sx = gt_st_dtype_size(x->dtype), sy = gt_st_dtype_size(y->dtype);
    if (sx != sy) return sx > sy ? -1 : 1;
    return strcmp(x->name, y->name);
}

static gt_status gt__st_header(const gt_safetensors *s, const gt_st_tensor **ord, gt_buf *h) {
    gt__buf_puts(h, "{");
    bool first = true;
    if (s->n_meta) {
        gt__buf_puts(h, "\"__metadata__\":{");
        for (int i = 0; i < s->n_meta; i++) {
            if (i) gt__buf_puts(h, ",");
            gt__buf_json_str(h, s->meta_key[i]);
            gt__buf_puts(h, ":");
            gt__buf_json_str(h, s->meta_val[i]);
        }
        gt__buf_puts(h, "}");
        first = false;
    }
    uint64_t off = 0;
    for (int i = 0; i < s->n; i++) {
        const gt_st_tensor *t = ord[i];
        if (!first) gt__buf_puts(h, ",");
        first = false;
        gt__buf_json_str(h, t->name);
        gt__buf_printf(h, ":{\"dtype\":\"%s\",\"shape\":[", gt_st_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) gt__buf_printf(h, d ? ",%lld" : "%lld", (long long)t->shape[d]);
        gt__buf_printf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                       (unsigned long long)(off + t->nbytes));
        off += t->nbytes;
    }
    gt__buf_puts(h, "}");
    while (h->n % 8) gt__buf_puts(h, " ");
    if (h->oom) return gt_set_error(GT_ERR_OOM, "out of memory building a safetensors header");
    return GT_OK;
}

static gt_status gt__st_prepare(const gt_safetensors *s, const gt_st_tensor ***ord, gt_buf *h, uint64_t *total) {
    *ord = malloc((size_t)(s->n ? s->n : 1) * sizeof **ord);
    if (!*ord) return gt_set_error(GT_ERR_OOM, "out of memory writing safetensors");
    uint64_t data = 0;
    for (int i = 0; i < s->n; i++) {
        (*ord)[i] = &s->t[i];
        data += s->t[i].nbytes;
    }
    qsort(*ord, (size_t)s->n, sizeof **ord, gt__st_order);
    gt_status st = gt__st_header(s, *ord, h);
    if (st) {
        free(*ord);
        *ord = NULL;
        return st;
    }
    *total = 8 + h->n + data;
    return GT_OK;
}

gt_status gt_st_serialize(const gt_safetensors *s, void **buf, size_t *n) {
    if (!s || !buf || !n) return gt_set_error(GT_ERR_ARG, "gt_st_serialize: NULL argument");
    const gt_st_tensor **ord;
    gt_buf h = {0};
    uint64_t total;
    gt_status st = gt__st_prepare(s, &ord, &h, &total);
    if (st) return st;
    unsigned char *p = malloc((size_t)total);
    if (!p) {
        free(ord);
        free(h.p);
        return gt_set_error(GT_ERR_OOM, "out of memory serialising safetensors (%llu bytes)", (unsigned long long)total);
    }
    gt__put_le64(p, h.n);
    memcpy(p + 8, h.p, h.n);
    size_t k = 8 + h.n;
    for (int i = 0; i < s->n; i++) {
        if (ord[i]->nbytes) memcpy(p + k, ord[i]->data, ord[i]->nbytes);
        k += ord[i]->nbytes;
    }
    free(ord);
    free(h.p);
    *buf = p;
    *n = (size_t)total;
    return GT_OK;
}

gt_status gt_st_save(const gt_safetensors *s, const char *path) {
    if (!s) return gt_set_error(GT_ERR_ARG, "gt_st_save: NULL set");
    const gt_st_tensor **ord;
    gt_buf h = {0};
    uint64_t total;
    gt_status st = gt__st_prepare(s, &ord, &h, &total);
    if (st) return st;
    gt_atomic_file a;
    st = gt_atomic_open(&a, path);
    unsigned char len[8];
    gt__put_le64(len, h.n);
    if (!st) st = gt_atomic_write(&a, len, 8);
    if (!st) st = gt_atomic_write(&a, h.p, h.n);
    for (int i = 0; !st && i < s->n; i++) st = gt_atomic_write(&a, ord[i]->data, ord[i]->nbytes);
    free(ord);
    free(h.p);
    if (st) {
        gt_atomic_abort(&a);
        return st;
    }
    return gt_atomic_commit(&a);
}

/* --- reading ---------------------------------------------------------------- */

/* A JSON number that is a non-negative integer (exactly representable). */
static bool gt__json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || d != (double)(uint64_t)d) return false;
    *out = (uint64_t)d;
    return true;
}

static int gt__st_by_name(const void *a, const void *b) {
    return strcmp((*(const gt_st_tensor *const *)a)->name, (*(const gt_st_tensor *const *)b)->name);
}

static int gt__st_by_offset(const void *a, const void *b) {
    const gt_st_tensor *x = *(const gt_st_tensor *const *)a, *y = *(const gt_st_tensor *const *)b;
    if (x->data != y->data) return (const char *)x->data < (const char *)y->data ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

/* One tensor entry of the header into e (name already set). */
static gt_status gt__st_entry(const char *L, const cJSON *v, gt_st_tensor *e, const unsigned char *data,
                              uint64_t data_len) {
    const char *nm = e->name;
    if (!cJSON_IsObject(v))
        return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': the entry of tensor '%s' is not a JSON object", L,
                            nm);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(v, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(v, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(v, "data_offsets");
    if (!cJSON_IsString(dt))
        return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': tensor '%s' has no \"dtype\" string", L, nm);
    int d = gt_st_dtype_parse(dt->valuestring);
    if (d < 0)
        return gt_set_error(GT_ERR_FORMAT,
                            "safetensors file '%s': tensor '%s' has the unknown dtype \"%.40s\" (expected one of "
                            "F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL)",
                            L, nm, dt->valuestring);
    e->dtype = (gt_st_dtype)d;
    if (!cJSON_IsArray(sh))
        return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': tensor '%s' has no \"shape\" array", L, nm);
    int nd = cJSON_GetArraySize(sh);
    if (nd > GT_ST_MAX_DIMS)
        return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': tensor '%s' has %d dimensions (at most %d read)", L,
                            nm, nd, GT_ST_MAX_DIMS);
    e->ndim = nd;
    int i = 0;
    for (const cJSON *x = sh->child; x; x = x->next, i++) {
        uint64_t u;
        if (!gt__json_uint(x, &u) || u > (uint64_t)INT64_MAX)
            return gt_set_error(GT_ERR_FORMAT,
                                "safetensors file '%s': tensor '%s': shape entry %d is not a non-negative integer", L, nm,
                                i);
        e->shape[i] = (int64_t)u;
    }
    char sb[160];
    if (!gt__numel_bytes(nd, e->shape, gt_st_dtype_size(e->dtype), &e->numel, &e->nbytes))
        return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': tensor '%s': shape %s is too large", L, nm,
                            gt__shape_fmt(sb, sizeof sb, nd, e->shape));
    uint64_t b, en;
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || !gt__json_uint(of->child, &b) ||
        !gt__json_uint(of->child->next, &en))
        return gt_set_error(GT_ERR_FORMAT,
                            "safetensors file '%s': tensor '%s' has no \"data_offsets\" [begin, end] of non-negative "
                            "integers",
                            L, nm);
    if (b > en || en > data_len)
        return gt_set_error(GT_ERR_FORMAT,
                            "safetensors file '%s': tensor '%s': data_offsets [%llu, %llu] out of range (the data "
                            "section is %llu bytes)",
                            L, nm, (unsigned long long)b, (unsigned long long)en, (unsigned long long)data_len);
    if (en - b != (uint64_t)e->nbytes)
        return gt_set_error(GT_ERR_FORMAT,
                            "safetensors file '%s': tensor '%s': dtype %s and shape %s need %zu bytes but "
                            "data_offsets [%llu, %llu] hold %llu",
                            L, nm, gt_st_dtype_name(e->dtype), gt__shape_fmt(sb, sizeof sb, nd, e->shape), e->nbytes,
                            (unsigned long long)b, (unsigned long long)en, (unsigned long long)(en - b));
    e->data = data + b;
    return GT_OK;
}

static gt_status gt__st_metadata(gt_safetensors *s, const char *L, const cJSON *m) {
    if (!cJSON_IsObject(m))
        return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': \"__metadata__\" is not a JSON object", L);
    for (const cJSON *x = m->child; x; x = x->next) {
        if (!cJSON_IsString(x))
            return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': __metadata__ entry '%s' is not a string", L,
                                x->string);
        if (gt_st_get_meta(s, x->string))
            return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': __metadata__ key '%s' appears twice", L,
                                x->string);
        gt_status st = gt_st_set_meta(s, x->string, x->valuestring);
        if (st) return st;
    }
    return GT_OK;
}

/* Validates the tensors: names unique, data covered exactly, no overlap. */
static gt_status gt__st_layout(gt_safetensors *s, const char *L, const unsigned char *data, uint64_t data_len) {
    if (s->n == 0) {
        if (data_len) return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': no tensors but %llu bytes of data",
                                          L, (unsigned long long)data_len);
        return GT_OK;
    }
    const gt_st_tensor **v = malloc((size_t)s->n * sizeof *v);
    if (!v) return gt_set_error(GT_ERR_OOM, "out of memory reading '%s'", L);
    for (int i = 0; i < s->n; i++) v[i] = &s->t[i];
    gt_status st = GT_OK;
    qsort(v, (size_t)s->n, sizeof *v, gt__st_by_name);
    for (int i = 1; i < s->n && !st; i++)
        if (strcmp(v[i - 1]->name, v[i]->name) == 0)
            st = gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': the tensor name '%s' appears twice", L,
                              v[i]->name);
    qsort(v, (size_t)s->n, sizeof *v, gt__st_by_offset);
    uint64_t pos = 0;
    for (int i = 0; i < s->n && !st; i++) {
        uint64_t b = (uint64_t)((const unsigned char *)v[i]->data - data);
        if (b < pos)
            st = gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': tensors '%s' and '%s' overlap (bytes %llu..%llu)",
                              L, v[i - 1]->name, v[i]->name, (unsigned long long)b, (unsigned long long)pos);
        else if (b > pos)
            st = gt_set_error(GT_ERR_FORMAT,
                              "safetensors file '%s': bytes %llu..%llu of the data belong to no tensor (before '%s')",
                              L, (unsigned long long)pos, (unsigned long long)b, v[i]->name);
        pos = b + v[i]->nbytes;
    }
    if (!st && pos != data_len)
        st = gt_set_error(GT_ERR_FORMAT,
                          "safetensors file '%s': the tensors cover %llu bytes but the data section is %llu bytes "
                          "(truncated or trailing garbage)",
                          L, (unsigned long long)pos, (unsigned long long)data_len);
    free(v);
    return st;
}

/* Parses s->file (n bytes), which s owns. */
static gt_status gt__st_parse_owned(gt_safetensors *s, size_t n) {
    const char *L = gt__st_label(s);
    const unsigned char *f = s->file;
    if (n < 8)
        return gt_set_error(GT_ERR_FORMAT,
                            "safetensors file '%s' is %zu bytes: too short for the 8-byte header length (truncated?)",
                            L, n);
    uint64_t hl = gt__le64(f);
    if (hl > GT_ST_MAX_HEADER)
        return gt_set_error(GT_ERR_FORMAT,
                            "safetensors file '%s': header length %llu is absurd (more than %u bytes): not a "
                            "safetensors file, or corrupt",
                            L, (unsigned long long)hl, GT_ST_MAX_HEADER);
    if (hl > n - 8)
        return gt_set_error(GT_ERR_FORMAT,
                            "safetensors file '%s': header length %llu is larger than the file (%zu bytes after the "
                            "length; truncated?)",
                            L, (unsigned long long)hl, n - 8);
    const char *h = (const char *)f + 8;
    if (hl < 2 || h[0] != '{')
        return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': the header does not start with a JSON object", L);
    if (!gt__utf8_valid((const unsigned char *)h, (size_t)hl))
        return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': the header is not valid UTF-8", L);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(h, (size_t)hl, &end, 0);
    if (!root) {
        long at = end && end >= h && end <= h + hl ? (long)(end - h) : -1;
        return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': the header is not valid JSON (error near byte %ld)",
                            L, at);
    }
    gt_status st = GT_OK;
    for (const char *p = end; p < h + hl && !st; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            st = gt_set_error(GT_ERR_FORMAT,
                              "safetensors file '%s': unexpected bytes after the header's JSON object (at byte %ld)", L,
                              (long)(p - h));
    if (!st && !cJSON_IsObject(root))
        st = gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': the header is not a JSON object", L);
    int count = st ? 0 : cJSON_GetArraySize(root);
    if (!st && count) {
        s->t = calloc((size_t)count, sizeof *s->t);
        if (!s->t) st = gt_set_error(GT_ERR_OOM, "out of memory reading '%s'", L);
        s->cap = count;
    }
    const unsigned char *data = f + 8 + hl;
    uint64_t data_len = n - 8 - hl;
    for (const cJSON *x = st ? NULL : root->child; x && !st; x = x->next) {
        if (strcmp(x->string, "__metadata__") == 0) {
            st = gt__st_metadata(s, L, x);
            continue;
        }
        if (!x->string[0]) {
            st = gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': a tensor has an empty name", L);
            break;
        }
        gt_st_tensor *e = &s->t[s->n];
        e->name = strdup(x->string);
        if (!e->name) {
            st = gt_set_error(GT_ERR_OOM, "out of memory reading '%s'", L);
            break;
        }
        s->n++;
        st = gt__st_entry(L, x, e, data, data_len);
    }
    cJSON_Delete(root);
    if (!st) st = gt__st_layout(s, L, data, data_len);
    return st;
}

gt_status gt_st_parse(gt_safetensors *s, const void *buf, size_t n, const char *label) {
    if (!s || (!buf && n)) return gt_set_error(GT_ERR_ARG, "gt_st_parse: NULL argument");
    gt_st_free(s);
    s->path = strdup(label ? label : "<safetensors in memory>");
    s->file = malloc(n ? n : 1);
    if (!s->path || !s->file) {
        gt_st_free(s);
        return gt_set_error(GT_ERR_OOM, "out of memory reading '%s'", label ? label : "<memory>");
    }
    if (n) memcpy(s->file, buf, n);
    gt_status st = gt__st_parse_owned(s, n);
    if (st) gt_st_free(s);
    return st;
}

gt_status gt_st_load(gt_safetensors *s, const char *path) {
    if (!s) return gt_set_error(GT_ERR_ARG, "gt_st_load: NULL set");
    gt_st_free(s);
    void *buf;
    size_t n;
    gt_status st = gt_read_file(path, &buf, &n, 0);
    if (st) return st;
    s->file = buf;
    s->path = strdup(path);
    if (!s->path) {
        gt_st_free(s);
        return gt_set_error(GT_ERR_OOM, "out of memory reading '%s'", path);
    }
    st = gt__st_parse_owned(s, n);
    if (st) gt_st_free(s);
    return st;
}

gt_status gt_st_read(const gt_safetensors *s, const char *name, gt_st_dtype dtype, void *out, int64_t n) {
    const char *L = gt__st_label(s);
    const gt_st_tensor *t = gt_st_find(s, name);
    if (!t) return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s' has no tensor '%s'", L, name ? name : "?");
    if (t->dtype != dtype)
        return gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': tensor '%s' is %s, expected %s", L, name,
                            gt_st_dtype_name(t->dtype), gt_st_dtype_name(dtype));
    if (t->numel != n) {
        char sb[160];
        return gt_set_error(GT_ERR_SHAPE, "safetensors file '%s': tensor '%s' has shape %s (%lld values), expected %lld",
                            L, name, gt__shape_fmt(sb, sizeof sb, t->ndim, t->shape), (long long)t->numel,
                            (long long)n);
    }
    if (t->nbytes) memcpy(out, t->data, t->nbytes);
    return GT_OK;
}

gt_tensor *gt_st_get_tensor(const gt_safetensors *s, const char *name) {
    const gt_st_tensor *t = gt_st_find(s, name);
    if (!t) {
        gt_set_error(GT_ERR_ARG, "safetensors file '%s' has no tensor '%s'", gt__st_label(s), name ? name : "?");
        return NULL;
    }
    if (t->dtype != GT_ST_F32) {
        gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': tensor '%s' is %s, expected F32", gt__st_label(s), name,
                     gt_st_dtype_name(t->dtype));
        return NULL;
    }
    if (t->ndim > GT_MAX_DIMS) {
        gt_set_error(GT_ERR_FORMAT, "safetensors file '%s': tensor '%s' has %d dimensions; tensors have at most %d",
                     gt__st_label(s), name, t->ndim, GT_MAX_DIMS);
        return NULL;
    }
    gt_tensor *r = gt_empty(t->ndim, t->shape);
    if (r && t->nbytes) memcpy(gt_data(r), t->data, t->nbytes);
    return r;
}
