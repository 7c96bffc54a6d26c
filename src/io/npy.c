/* NumPy .npy: header parsing (a Python dict literal) and writing, single
 * .npy files, dtype conversion. Used by npz.c for the members of a .npz. */
#include <ctype.h>
#include <string.h>

#include "npy_internal.h"

static const struct {
    const char *descr;
    size_t size;
} gt__npy_dtypes[GT_NPY_DTYPE_COUNT] = {
    [GT_NPY_F8] = {"<f8", 8}, [GT_NPY_F4] = {"<f4", 4}, [GT_NPY_U1] = {"|u1", 1},
    [GT_NPY_I8] = {"<i8", 8}, [GT_NPY_I4] = {"<i4", 4},
};

const char *gt_npy_dtype_descr(gt_npy_dtype d) {
    return (unsigned)d < GT_NPY_DTYPE_COUNT ? gt__npy_dtypes[d].descr : "?";
}
size_t gt_npy_dtype_size(gt_npy_dtype d) { return (unsigned)d < GT_NPY_DTYPE_COUNT ? gt__npy_dtypes[d].size : 0; }

void gt_npy_array_free(gt_npy_array *a) {
    if (!a) return;
    free(a->name);
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* --- the header dict: {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), } --- */
typedef struct {
    const char *p, *end;
} gt__lex;

static void gt__skip(gt__lex *x) {
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r')) x->p++;
}

static bool gt__eat(gt__lex *x, char c) {
    gt__skip(x);
    if (x->p < x->end && *x->p == c) {
        x->p++;
        return true;
    }
    return false;
}

/* A quoted string (no escapes needed for the keys and descrs numpy writes). */
static bool gt__str(gt__lex *x, char *out, size_t n) {
    gt__skip(x);
    if (x->p >= x->end || (*x->p != '\'' && *x->p != '"')) return false;
    char q = *x->p++;
    size_t k = 0;
    while (x->p < x->end && *x->p != q) {
        if (*x->p == '\\' || k + 1 >= n) return false;
        out[k++] = *x->p++;
    }
    if (x->p >= x->end) return false;
    x->p++;
    out[k] = 0;
    return true;
}

static bool gt__word(gt__lex *x, const char *w) {
    gt__skip(x);
    size_t n = strlen(w);
    if ((size_t)(x->end - x->p) >= n && strncmp(x->p, w, n) == 0 &&
        ((size_t)(x->end - x->p) == n || !isalnum((unsigned char)x->p[n]))) {
        x->p += n;
        return true;
    }
    return false;
}

gt_status gt__npy_header(const unsigned char *p, size_t n, const char *L, gt_npy_array *a, size_t *data_off) {
    if (n < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
        return gt_set_error(GT_ERR_FORMAT, "'%s' is not a .npy array (no \\x93NUMPY magic%s)", L,
                            n < 10 ? "; truncated" : "");
    unsigned major = p[6];
    size_t hl, start;
    if (major == 1) hl = gt__le16(p + 8), start = 10;
    else if (major == 2 || major == 3) {
        if (n < 12) return gt_set_error(GT_ERR_FORMAT, "'%s': .npy header truncated", L);
        hl = gt__le32(p + 8), start = 12;
    } else
        return gt_set_error(GT_ERR_FORMAT, "'%s': .npy format version %u.%u (gantry reads 1.0, 2.0 and 3.0)", L, major,
                            p[7]);
    if (hl > n - start)
        return gt_set_error(GT_ERR_FORMAT, "'%s': .npy header length %zu is larger than the %zu bytes left (truncated)",
                            L, hl, n - start);
    gt__lex x = {(const char *)p + start, (const char *)p + start + hl};
    char key[32], descr[64] = "";
    bool has_descr = false, has_fo = false, has_shape = false, fortran = false;
    int ndim = 0;
    int64_t shape[GT_NPY_MAX_DIMS];
    if (!gt__eat(&x, '{')) goto bad;
    while (!gt__eat(&x, '}')) {
        if (!gt__str(&x, key, sizeof key) || !gt__eat(&x, ':')) goto bad;
        if (strcmp(key, "descr") == 0 && !has_descr) {
            if (!gt__str(&x, descr, sizeof descr))
                return gt_set_error(GT_ERR_FORMAT, "'%s': .npy descr is not a simple dtype string (structured arrays "
                                                   "are not supported)",
                                    L);
            has_descr = true;
        } else if (strcmp(key, "fortran_order") == 0 && !has_fo) {
            if (gt__word(&x, "True")) fortran = true;
            else if (!gt__word(&x, "False")) goto bad;
            has_fo = true;
        } else if (strcmp(key, "shape") == 0 && !has_shape) {
            if (!gt__eat(&x, '(')) goto bad;
            while (!gt__eat(&x, ')')) {
                gt__skip(&x);
                if (x.p >= x.end || !isdigit((unsigned char)*x.p)) goto bad;
                if (ndim == GT_NPY_MAX_DIMS)
                    return gt_set_error(GT_ERR_FORMAT, "'%s': .npy array has more than %d dimensions", L,
                                        GT_NPY_MAX_DIMS);
                int64_t v = 0;
                while (x.p < x.end && isdigit((unsigned char)*x.p)) {
                    if (v > (INT64_MAX - 9) / 10) goto bad;
                    v = v * 10 + (*x.p++ - '0');
                }
                if (x.p < x.end && *x.p == 'L') x.p++; /* Python 2 longs */
                shape[ndim++] = v;
                if (!gt__eat(&x, ',')) {
                    if (!gt__eat(&x, ')')) goto bad;
                    break;
                }
            }
            has_shape = true;
        } else
            return gt_set_error(GT_ERR_FORMAT, "'%s': unexpected key '%s' in the .npy header", L, key);
        if (!gt__eat(&x, ',')) {
            if (!gt__eat(&x, '}')) goto bad;
            break;
        }
    }
    gt__skip(&x);
    if (x.p != x.end) goto bad;
    if (!has_descr || !has_fo || !has_shape)
        return gt_set_error(GT_ERR_FORMAT, "'%s': the .npy header lacks '%s'", L,
                            !has_descr ? "descr" : !has_fo ? "fortran_order" : "shape");
    if (fortran)
        return gt_set_error(GT_ERR_FORMAT,
                            "'%s': the array is stored in Fortran order; gantry reads C order only (save "
                            "np.ascontiguousarray(a))",
                            L);
    int dt = -1;
    for (int i = 0; i < GT_NPY_DTYPE_COUNT; i++)
        if (strcmp(descr, gt__npy_dtypes[i].descr) == 0) dt = i;
    if (strcmp(descr, "<u1") == 0 || strcmp(descr, "u1") == 0) dt = GT_NPY_U1;
    if (dt < 0)
        return gt_set_error(GT_ERR_FORMAT,
                            "'%s': .npy dtype '%s' is not supported (expected '<f8' float64, '<f4' float32, '|u1' "
                            "uint8, '<i8' or '<i4')",
                            L, descr);
    a->dtype = (gt_npy_dtype)dt;
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++) a->shape[i] = shape[i];
    size_t nbytes;
    if (!gt__numel_bytes(ndim, shape, gt_npy_dtype_size(a->dtype), &a->numel, &nbytes))
        return gt_set_error(GT_ERR_FORMAT, "'%s': .npy shape is too large", L);
    *data_off = start + hl;
    return GT_OK;
bad:
    return gt_set_error(GT_ERR_FORMAT, "'%s': the .npy header is not a valid dict literal (near byte %ld of it)", L,
                        (long)(x.p - ((const char *)p + start)));
}

gt_status gt__npy_parse(const unsigned char *p, size_t n, const char *L, gt_npy_array *a) {
    memset(a, 0, sizeof *a);
    size_t off;
    gt_status st = gt__npy_header(p, n, L, a, &off);
    if (st) return st;
    size_t nbytes = (size_t)a->numel * gt_npy_dtype_size(a->dtype);
    char sb[160];
    if (n - off != nbytes)
        return gt_set_error(GT_ERR_FORMAT, "'%s': a %s array of shape %s needs %zu bytes of data but %zu are there%s",
                            L, gt_npy_dtype_descr(a->dtype), gt__shape_fmt(sb, sizeof sb, a->ndim, a->shape), nbytes,
                            n - off, n - off < nbytes ? " (truncated)" : "");
    a->data = malloc(nbytes ? nbytes : 1);
    if (!a->data) return gt_set_error(GT_ERR_OOM, "out of memory reading '%s' (%zu bytes)", L, nbytes);
    if (nbytes) memcpy(a->data, p + off, nbytes);
    return GT_OK;
}

gt_status gt__npy_header_write(gt_buf *b, gt_npy_dtype dtype, int ndim, const int64_t *shape) {
    gt_buf d = {0};
    gt__buf_printf(&d, "{'descr': '%s', 'fortran_order': False, 'shape': (", gt_npy_dtype_descr(dtype));
    for (int i = 0; i < ndim; i++) gt__buf_printf(&d, "%lld, ", (long long)shape[i]);
    if (ndim > 1) d.n -= 2; /* (2, 3) but (5,) */
    else if (ndim == 1) d.n -= 1;
    gt__buf_puts(&d, "), }");
    if (d.oom) {
        free(d.p);
        return gt_set_error(GT_ERR_OOM, "out of memory writing a .npy header");
    }
    /* magic + version + length + dict + spaces + '\n' is a multiple of 64 */
    size_t total = 10 + d.n + 1;
    bool v2 = false;
    size_t pad = (64 - total % 64) % 64;
    if (d.n + 1 + pad > 65535) {
        v2 = true;
        total = 12 + d.n + 1;
        pad = (64 - total % 64) % 64;
    }
    unsigned char pre[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', v2 ? 2 : 1, 0};
    size_t hl = d.n + pad + 1;
    if (v2) gt__put_le32(pre + 8, (uint32_t)hl);
    else gt__put_le16(pre + 8, (uint16_t)hl);
    gt__buf_add(b, pre, v2 ? 12 : 10);
    gt__buf_add(b, d.p, d.n);
    for (size_t i = 0; i < pad; i++) gt__buf_puts(b, " ");
    gt__buf_puts(b, "\n");
    free(d.p);
    return b->oom ? gt_set_error(GT_ERR_OOM, "out of memory writing a .npy header") : GT_OK;
}

gt_status gt__npy_check_args(const char *fn, gt_npy_dtype dtype, int ndim, const int64_t *shape, const void *data,
                             size_t *nbytes) {
    if ((unsigned)dtype >= GT_NPY_DTYPE_COUNT) return gt_set_error(GT_ERR_ARG, "%s: bad dtype %d", fn, (int)dtype);
    if (ndim < 0 || ndim > GT_NPY_MAX_DIMS || (ndim && !shape))
        return gt_set_error(GT_ERR_ARG, "%s: %d dimensions (0..%d allowed)", fn, ndim, GT_NPY_MAX_DIMS);
    int64_t numel;
    if (!gt__numel_bytes(ndim, shape, gt_npy_dtype_size(dtype), &numel, nbytes))
        return gt_set_error(GT_ERR_ARG, "%s: negative or too large shape", fn);
    if (*nbytes && !data) return gt_set_error(GT_ERR_ARG, "%s: NULL data", fn);
    return GT_OK;
}

gt_status gt_npy_save(const char *path, gt_npy_dtype dtype, int ndim, const int64_t *shape, const void *data) {
    size_t nbytes;
    gt_status st = gt__npy_check_args("gt_npy_save", dtype, ndim, shape, data, &nbytes);
    if (st) return st;
    gt_buf h = {0};
    st = gt__npy_header_write(&h, dtype, ndim, shape);
    gt_atomic_file a;
    if (!st) st = gt_atomic_open(&a, path);
    if (st) {
        free(h.p);
        return st;
    }
    st = gt_atomic_write(&a, h.p, h.n);
    if (!st) st = gt_atomic_write(&a, data, nbytes);
    free(h.p);
    if (st) {
        gt_atomic_abort(&a);
        return st;
    }
    return gt_atomic_commit(&a);
}

gt_status gt_npy_load(gt_npy_array *a, const char *path) {
    if (!a) return gt_set_error(GT_ERR_ARG, "gt_npy_load: NULL array");
    memset(a, 0, sizeof *a);
    void *buf;
    size_t n;
    gt_status st = gt_read_file(path, &buf, &n, 0);
    if (st) return st;
    st = gt__npy_parse(buf, n, path, a);
    free(buf);
    if (st) gt_npy_array_free(a);
    return st;
}

void gt_npy_to_f64(const gt_npy_array *a, double *out) {
    const int64_t n = a->numel;
    switch (a->dtype) {
    case GT_NPY_F8: memcpy(out, a->data, (size_t)n * sizeof(double)); break;
    case GT_NPY_F4:
        for (int64_t i = 0; i < n; i++) out[i] = ((const float *)a->data)[i];
        break;
    case GT_NPY_U1:
        for (int64_t i = 0; i < n; i++) out[i] = ((const uint8_t *)a->data)[i];
        break;
    case GT_NPY_I8:
        for (int64_t i = 0; i < n; i++) out[i] = (double)((const int64_t *)a->data)[i];
        break;
    case GT_NPY_I4:
        for (int64_t i = 0; i < n; i++) out[i] = ((const int32_t *)a->data)[i];
        break;
    default: break;
    }
}
