/* NumPy .npz: a ZIP archive of .npy members, stored or deflated (raw
 * inflate with zlib), ZIP64 as numpy writes it; CRC-32 checked. */
#include <string.h>
#include <zlib.h>

#include "npy_internal.h"

#define GT_ZIP_LOCAL 0x04034b50u
#define GT_ZIP_CENTRAL 0x02014b50u
#define GT_ZIP_EOCD 0x06054b50u
#define GT_ZIP64_EOCD 0x06064b50u
#define GT_ZIP64_LOCATOR 0x07064b50u

void gt_npz_init(gt_npz *z) { memset(z, 0, sizeof *z); }

void gt_npz_free(gt_npz *z) {
    if (!z) return;
    for (int i = 0; i < z->n; i++) gt_npy_array_free(&z->a[i]);
    free(z->a);
    free(z->path);
    gt_npz_init(z);
}

const gt_npy_array *gt_npz_find(const gt_npz *z, const char *name) {
    for (int i = 0; z && name && i < z->n; i++)
        if (strcmp(z->a[i].name, name) == 0) return &z->a[i];
    return NULL;
}

static gt_npy_array *gt__npz_slot(gt_npz *z) {
    if (z->n == z->cap) {
        int cap = z->cap ? 2 * z->cap : 8;
        gt_npy_array *a = realloc(z->a, (size_t)cap * sizeof *a);
        if (!a) {
            gt_set_error(GT_ERR_OOM, "npz: out of memory");
            return NULL;
        }
        z->a = a;
        z->cap = cap;
    }
    memset(&z->a[z->n], 0, sizeof z->a[z->n]);
    return &z->a[z->n];
}

gt_status gt_npz_add(gt_npz *z, const char *name, gt_npy_dtype dtype, int ndim, const int64_t *shape,
                     const void *data) {
    if (!z || !name || !name[0]) return gt_set_error(GT_ERR_ARG, "gt_npz_add: NULL archive or empty name");
    if (gt_npz_find(z, name)) return gt_set_error(GT_ERR_ARG, "gt_npz_add: the name '%s' is already used", name);
    size_t nbytes;
    gt_status st = gt__npy_check_args("gt_npz_add", dtype, ndim, shape, data, &nbytes);
    if (st) return st;
    gt_npy_array *a = gt__npz_slot(z);
    if (!a) return gt_last_status();
    a->name = strdup(name);
    a->data = malloc(nbytes ? nbytes : 1);
    if (!a->name || !a->data) {
        gt_npy_array_free(a);
        return gt_set_error(GT_ERR_OOM, "gt_npz_add: out of memory for '%s' (%zu bytes)", name, nbytes);
    }
    if (nbytes) memcpy(a->data, data, nbytes);
    a->dtype = dtype;
    a->ndim = ndim;
    a->numel = 1;
    for (int i = 0; i < ndim; i++) a->numel *= (a->shape[i] = shape[i]);
    z->n++;
    return GT_OK;
}

/* zlib's crc32 takes uInt lengths */
static uLong gt__crc(uLong crc, const unsigned char *p, size_t n) {
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return crc;
}

/* --- reading ----------------------------------------------------------------------- */

typedef struct {
    uint64_t csize, usize, local;
    uint32_t crc;
    unsigned method, flags;
    const unsigned char *name;
    size_t name_len;
} gt__zent;

/* Finds the end of central directory and the directory's position. */
static gt_status gt__zip_dir(const unsigned char *f, size_t n, const char *L, uint64_t *cd_off, uint64_t *cd_size,
                             uint64_t *count) {
    if (n < 22) return gt_set_error(GT_ERR_FORMAT, "'%s' is %zu bytes: too short for a .npz (ZIP) archive", L, n);
    size_t lo = n - 22 > 65535 ? n - 22 - 65535 : 0;
    size_t e = SIZE_MAX;
    for (size_t i = n - 22 + 1; i-- > lo;)
        if (gt__le32(f + i) == GT_ZIP_EOCD && i + 22 + gt__le16(f + i + 20) == n) {
            e = i;
            break;
        }
    if (e == SIZE_MAX)
        return gt_set_error(GT_ERR_FORMAT,
                            "'%s' is not a .npz archive: no ZIP end-of-central-directory record (truncated or not a "
                            "ZIP file)",
                            L);
    *count = gt__le16(f + e + 10);
    *cd_size = gt__le32(f + e + 12);
    *cd_off = gt__le32(f + e + 16);
    if (gt__le16(f + e + 4) != 0 || gt__le16(f + e + 6) != 0 || gt__le16(f + e + 8) != *count)
        return gt_set_error(GT_ERR_FORMAT, "'%s': multi-disk ZIP archives are not supported", L);
    if (*count == 0xFFFF || *cd_size == 0xFFFFFFFFu || *cd_off == 0xFFFFFFFFu) {
        if (e < 20 || gt__le32(f + e - 20) != GT_ZIP64_LOCATOR)
            return gt_set_error(GT_ERR_FORMAT, "'%s': ZIP64 archive without its end-of-directory locator", L);
        uint64_t z = gt__le64(f + e - 20 + 8);
        if (z > e - 20 || e - 20 - z < 56 || gt__le32(f + z) != GT_ZIP64_EOCD)
            return gt_set_error(GT_ERR_FORMAT, "'%s': bad ZIP64 end-of-central-directory record", L);
        *count = gt__le64(f + z + 32);
        *cd_size = gt__le64(f + z + 40);
        *cd_off = gt__le64(f + z + 48);
        e = (size_t)z;
    }
    if (*cd_off > e || *cd_size > e - *cd_off)
        return gt_set_error(GT_ERR_FORMAT, "'%s': the ZIP central directory (offset %llu, %llu bytes) lies outside the "
                                           "file",
                            L, (unsigned long long)*cd_off, (unsigned long long)*cd_size);
    if (*count > *cd_size / 46)
        return gt_set_error(GT_ERR_FORMAT, "'%s': the ZIP directory claims %llu entries in %llu bytes", L,
                            (unsigned long long)*count, (unsigned long long)*cd_size);
    return GT_OK;
}

/* One central directory entry at *pos (advanced past it). */
static gt_status gt__zip_entry(const unsigned char *f, uint64_t *pos, uint64_t end, const char *L, gt__zent *z) {
    const unsigned char *p = f + *pos;
    if (end - *pos < 46 || gt__le32(p) != GT_ZIP_CENTRAL)
        return gt_set_error(GT_ERR_FORMAT, "'%s': corrupt ZIP central directory (bad entry at byte %llu)", L,
                            (unsigned long long)*pos);
    z->flags = gt__le16(p + 8);
    z->method = gt__le16(p + 10);
    z->crc = gt__le32(p + 16);
    z->csize = gt__le32(p + 20);
    z->usize = gt__le32(p + 24);
    size_t nl = gt__le16(p + 28), el = gt__le16(p + 30), cl = gt__le16(p + 32);
    z->local = gt__le32(p + 42);
    if (end - *pos - 46 < nl + el + cl)
        return gt_set_error(GT_ERR_FORMAT, "'%s': corrupt ZIP central directory (entry runs past it)", L);
    z->name = p + 46;
    z->name_len = nl;
    /* ZIP64 extra field: the sizes / offset that are 0xFFFFFFFF, in this order */
    const unsigned char *x = p + 46 + nl, *xe = x + el;
    while (xe - x >= 4) {
        unsigned id = gt__le16(x), len = gt__le16(x + 2);
        if ((size_t)(xe - x - 4) < len) break;
        if (id == 1) {
            const unsigned char *q = x + 4, *qe = q + len;
            uint64_t *fields[3] = {&z->usize, &z->csize, &z->local};
            for (int k = 0; k < 3; k++)
                if (*fields[k] == 0xFFFFFFFFu) {
                    if (qe - q < 8) return gt_set_error(GT_ERR_FORMAT, "'%s': truncated ZIP64 extra field", L);
                    *fields[k] = gt__le64(q);
                    q += 8;
                }
        }
        x += 4 + len;
    }
    *pos += 46 + nl + el + cl;
    return GT_OK;
}

/* Extracts the member z into a malloc'd buffer of z->usize bytes. */
static gt_status gt__zip_extract(const unsigned char *f, uint64_t limit, const char *L, const char *mn,
                                 const gt__zent *z, unsigned char **out) {
    *out = NULL;
    if (z->flags & 1) return gt_set_error(GT_ERR_FORMAT, "'%s': member '%s' is encrypted", L, mn);
    if (z->method != 0 && z->method != 8)
        return gt_set_error(GT_ERR_FORMAT, "'%s': member '%s' uses ZIP method %u (only stored 0 and deflate 8 are read)",
                            L, mn, z->method);
    if (z->local > limit || limit - z->local < 30 || gt__le32(f + z->local) != GT_ZIP_LOCAL)
        return gt_set_error(GT_ERR_FORMAT, "'%s': member '%s': no local header at byte %llu (corrupt directory)", L, mn,
                            (unsigned long long)z->local);
    const unsigned char *lh = f + z->local;
    uint64_t data = z->local + 30 + gt__le16(lh + 26) + gt__le16(lh + 28);
    if (gt__le16(lh + 26) != z->name_len || memcmp(lh + 30, z->name, z->name_len) != 0)
        return gt_set_error(GT_ERR_FORMAT, "'%s': member '%s': the local header names another file (corrupt)", L, mn);
    if (data > limit || z->csize > limit - data)
        return gt_set_error(GT_ERR_FORMAT, "'%s': member '%s' (%llu bytes) runs past the end of its data (truncated)", L,
                            mn, (unsigned long long)z->csize);
    if (z->method == 0 ? z->usize != z->csize : z->usize / 1032 > z->csize + 1)
        return gt_set_error(GT_ERR_FORMAT, "'%s': member '%s': sizes %llu (packed) and %llu (unpacked) do not fit", L,
                            mn, (unsigned long long)z->csize, (unsigned long long)z->usize);
    if (z->usize > SIZE_MAX / 2) return gt_set_error(GT_ERR_FORMAT, "'%s': member '%s' is too large", L, mn);
    unsigned char *u = malloc(z->usize ? (size_t)z->usize : 1);
    if (!u) return gt_set_error(GT_ERR_OOM, "out of memory reading '%s' (member '%s', %llu bytes)", L, mn,
                                (unsigned long long)z->usize);
    if (z->method == 0) memcpy(u, f + data, (size_t)z->usize);
    else {
        z_stream s;
        memset(&s, 0, sizeof s);
        if (inflateInit2(&s, -15) != Z_OK) {
            free(u);
            return gt_set_error(GT_ERR_OOM, "'%s': zlib could not start", L);
        }
        const unsigned char *in = f + data;
        uint64_t in_left = z->csize, out_left = z->usize;
        unsigned char *o = u;
        int r = Z_OK;
        while (r == Z_OK) {
            uInt ci = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
            uInt co = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
            s.next_in = (Bytef *)in;
            s.avail_in = ci;
            s.next_out = o;
            s.avail_out = co;
            r = inflate(&s, Z_NO_FLUSH);
            in += ci - s.avail_in;
            in_left -= ci - s.avail_in;
            o += co - s.avail_out;
            out_left -= co - s.avail_out;
            if (r == Z_OK && ci == s.avail_in && co == s.avail_out) r = Z_BUF_ERROR; /* no progress */
            if (r == Z_OK && out_left == 0 && in_left == 0) r = Z_BUF_ERROR;
        }
        inflateEnd(&s);
        if (r != Z_STREAM_END || out_left != 0 || in_left != 0) {
            free(u);
            return gt_set_error(GT_ERR_FORMAT,
                                "'%s': member '%s': the deflate stream is corrupt or truncated (zlib: %s; %llu of %llu "
                                "bytes unpacked)",
                                L, mn, r == Z_DATA_ERROR ? "data error" : r == Z_STREAM_END ? "wrong length" : "truncated",
                                (unsigned long long)(z->usize - out_left), (unsigned long long)z->usize);
        }
    }
    uint32_t crc = (uint32_t)gt__crc(crc32(0, NULL, 0), u, (size_t)z->usize);
    if (crc != z->crc) {
        free(u);
        return gt_set_error(GT_ERR_FORMAT, "'%s': member '%s': CRC-32 mismatch (stored %08x, computed %08x): corrupt", L,
                            mn, z->crc, crc);
    }
    *out = u;
    return GT_OK;
}

static gt_status gt__npz_parse(gt_npz *z, const unsigned char *f, size_t n, const char *L) {
    uint64_t cd_off = 0, cd_size = 0, count = 0;
    gt_status st = gt__zip_dir(f, n, L, &cd_off, &cd_size, &count);
    if (st) return st;
    uint64_t pos = cd_off, end = cd_off + cd_size;
    for (uint64_t k = 0; k < count && !st; k++) {
        gt__zent e = {0};
        st = gt__zip_entry(f, &pos, end, L, &e);
        if (st) break;
        if (e.name_len < 4 || memcmp(e.name + e.name_len - 4, ".npy", 4) != 0) continue; /* not an array */
        char *nm = malloc(e.name_len - 3);
        if (!nm) return gt_set_error(GT_ERR_OOM, "out of memory reading '%s'", L);
        memcpy(nm, e.name, e.name_len - 4);
        nm[e.name_len - 4] = 0;
        if (strlen(nm) != e.name_len - 4 || gt_npz_find(z, nm)) {
            st = gt_set_error(GT_ERR_FORMAT, "'%s': the member name '%s.npy' is %s", L, nm,
                              gt_npz_find(z, nm) ? "in the archive twice" : "invalid");
            free(nm);
            break;
        }
        size_t ll = strlen(L) + strlen(nm) + 8;
        char *label = malloc(ll);
        unsigned char *u = NULL;
        if (!label) st = gt_set_error(GT_ERR_OOM, "out of memory reading '%s'", L);
        if (!st) {
            snprintf(label, ll, "%s:%s.npy", L, nm);
            st = gt__zip_extract(f, cd_off, L, label + strlen(L) + 1, &e, &u);
        }
        gt_npy_array *a = st ? NULL : gt__npz_slot(z);
        if (!st && !a) st = gt_last_status();
        if (!st) st = gt__npy_parse(u, (size_t)e.usize, label, a);
        free(u);
        free(label);
        if (st) {
            if (a) gt_npy_array_free(a);
            free(nm);
            break;
        }
        a->name = nm;
        z->n++;
    }
    return st;
}

gt_status gt_npz_parse(gt_npz *z, const void *buf, size_t n, const char *label) {
    if (!z || (!buf && n)) return gt_set_error(GT_ERR_ARG, "gt_npz_parse: NULL argument");
    gt_npz_free(z);
    label = label ? label : "<npz in memory>";
    z->path = strdup(label);
    if (!z->path) return gt_set_error(GT_ERR_OOM, "out of memory reading '%s'", label);
    gt_status st = gt__npz_parse(z, buf, n, label);
    if (st) gt_npz_free(z);
    return st;
}

gt_status gt_npz_load(gt_npz *z, const char *path) {
    if (!z) return gt_set_error(GT_ERR_ARG, "gt_npz_load: NULL archive");
    gt_npz_free(z);
    void *buf;
    size_t n;
    gt_status st = gt_read_file(path, &buf, &n, 0);
    if (st) return st;
    st = gt_npz_parse(z, buf, n, path);
    free(buf);
    return st;
}

gt_status gt_npz_get_f64(const gt_npz *z, const char *name, int ndim, const int64_t *shape, double **out,
                         int *ndim_out, int64_t *shape_out) {
    if (!z || !name || !out) return gt_set_error(GT_ERR_ARG, "gt_npz_get_f64: NULL argument");
    *out = NULL;
    const char *L = z->path ? z->path : "<npz>";
    const gt_npy_array *a = gt_npz_find(z, name);
    if (!a) return gt_set_error(GT_ERR_FORMAT, "'%s' has no array '%s'", L, name);
    char fb[160], eb[160];
    bool ok = ndim < 0 || a->ndim == ndim;
    for (int i = 0; ok && ndim > 0 && shape && i < ndim; i++) ok = shape[i] < 0 || shape[i] == a->shape[i];
    if (!ok) {
        if (shape) gt__shape_fmt(eb, sizeof eb, ndim, shape);
        else snprintf(eb, sizeof eb, "%d dimensions", ndim);
        return gt_set_error(GT_ERR_SHAPE, "'%s': array '%s' has shape %s, expected %s (-1: any size)", L, name,
                            gt__shape_fmt(fb, sizeof fb, a->ndim, a->shape), eb);
    }
    double *d = malloc((size_t)(a->numel ? a->numel : 1) * sizeof(double));
    if (!d) return gt_set_error(GT_ERR_OOM, "out of memory reading '%s' from '%s'", name, L);
    gt_npy_to_f64(a, d);
    *out = d;
    if (ndim_out) *ndim_out = a->ndim;
    for (int i = 0; shape_out && i < a->ndim; i++) shape_out[i] = a->shape[i];
    return GT_OK;
}

/* --- writing ----------------------------------------------------------------------- */

typedef struct {
    uint32_t crc;
    uint64_t csize, usize, local;
    unsigned method;
} gt__zout;

static void gt__zip_header(unsigned char *h, bool central, const gt__zout *o, size_t name_len) {
    /* version 2.0, no flags, DOS time 1980-01-01 00:00 */
    size_t k = 0;
    gt__put_le32(h, central ? GT_ZIP_CENTRAL : GT_ZIP_LOCAL);
    k = 4;
    if (central) gt__put_le16(h + k, 20), k += 2; /* made by */
    gt__put_le16(h + k, 20), k += 2;               /* needed */
    gt__put_le16(h + k, 0), k += 2;                /* flags */
    gt__put_le16(h + k, (uint16_t)o->method), k += 2;
    gt__put_le16(h + k, 0), k += 2;
    gt__put_le16(h + k, 0x21), k += 2;
    gt__put_le32(h + k, o->crc), k += 4;
    gt__put_le32(h + k, (uint32_t)o->csize), k += 4;
    gt__put_le32(h + k, (uint32_t)o->usize), k += 4;
    gt__put_le16(h + k, (uint16_t)name_len), k += 2;
    gt__put_le16(h + k, 0), k += 2; /* extra */
    if (central) {
        memset(h + k, 0, 10); /* comment length, disk, internal + external attributes */
        gt__put_le32(h + k + 6, 0644u << 16);
        k += 10;
        gt__put_le32(h + k, (uint32_t)o->local);
    }
}

gt_status gt_npz_save(const gt_npz *z, const char *path, bool compress) {
    if (!z) return gt_set_error(GT_ERR_ARG, "gt_npz_save: NULL archive");
    if (z->n > 65535) return gt_set_error(GT_ERR_ARG, "gt_npz_save: %d arrays (at most 65535)", z->n);
    gt__zout *outs = calloc((size_t)(z->n ? z->n : 1), sizeof *outs);
    if (!outs) return gt_set_error(GT_ERR_OOM, "gt_npz_save: out of memory");
    gt_atomic_file af;
    gt_status st = gt_atomic_open(&af, path);
    uint64_t pos = 0;
    for (int i = 0; i < z->n && !st; i++) {
        const gt_npy_array *a = &z->a[i];
        gt_buf m = {0};
        size_t nbytes = (size_t)a->numel * gt_npy_dtype_size(a->dtype);
        st = gt__npy_header_write(&m, a->dtype, a->ndim, a->shape);
        gt__zout *o = &outs[i];
        o->local = pos;
        o->usize = m.n + nbytes;
        o->crc = (uint32_t)gt__crc(gt__crc(crc32(0, NULL, 0), (unsigned char *)m.p, m.n), a->data, nbytes);
        unsigned char *packed = NULL;
        if (!st && compress) {
            gt__buf_add(&m, a->data, nbytes); /* deflate one buffer */
            z_stream s;
            memset(&s, 0, sizeof s);
            if (m.oom || deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                st = gt_set_error(GT_ERR_OOM, "gt_npz_save: out of memory compressing '%s'", a->name);
            if (!st) {
                uLong bound = deflateBound(&s, (uLong)m.n);
                packed = malloc(bound);
                if (!packed) st = gt_set_error(GT_ERR_OOM, "gt_npz_save: out of memory compressing '%s'", a->name);
                s.next_in = (Bytef *)m.p;
                s.next_out = packed;
                size_t in_left = m.n, out_room = bound;
                int r = Z_OK;
                while (!st && r == Z_OK) {
                    uInt ci = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
                    uInt co = out_room > (1u << 30) ? (1u << 30) : (uInt)out_room;
                    s.avail_in = ci;
                    s.avail_out = co;
                    r = deflate(&s, ci == in_left ? Z_FINISH : Z_NO_FLUSH);
                    in_left -= ci - s.avail_in;
                    out_room -= co - s.avail_out;
                }
                if (!st && r != Z_STREAM_END)
                    st = gt_set_error(GT_ERR_STATE, "gt_npz_save: zlib failed compressing '%s'", a->name);
                o->csize = s.total_out;
                deflateEnd(&s);
            }
            o->method = 8;
        } else
            o->csize = o->usize;
        size_t nl = strlen(a->name) + 4;
        if (!st && (o->usize >= 0xFFFFFFFFu || o->csize >= 0xFFFFFFFFu || pos + 30 + nl + o->csize >= 0xFFFFFFFFu))
            st = gt_set_error(GT_ERR_ARG, "gt_npz_save: '%s' makes the archive larger than 4 GiB (not supported)",
                              a->name);
        unsigned char lh[30];
        gt__zip_header(lh, false, o, nl);
        if (!st) st = gt_atomic_write(&af, lh, 30);
        if (!st) st = gt_atomic_write(&af, a->name, nl - 4);
        if (!st) st = gt_atomic_write(&af, ".npy", 4);
        if (!st && compress) st = gt_atomic_write(&af, packed, (size_t)o->csize);
        if (!st && !compress) st = gt_atomic_write(&af, m.p, m.n);
        if (!st && !compress) st = gt_atomic_write(&af, a->data, nbytes);
        pos += 30 + nl + o->csize;
        free(packed);
        free(m.p);
    }
    uint64_t cd = pos;
    for (int i = 0; i < z->n && !st; i++) {
        unsigned char ch[46];
        size_t nl = strlen(z->a[i].name) + 4;
        gt__zip_header(ch, true, &outs[i], nl);
        st = gt_atomic_write(&af, ch, 46);
        if (!st) st = gt_atomic_write(&af, z->a[i].name, nl - 4);
        if (!st) st = gt_atomic_write(&af, ".npy", 4);
        pos += 46 + nl;
    }
    if (!st && pos >= 0xFFFFFFFFu) st = gt_set_error(GT_ERR_ARG, "gt_npz_save: the archive exceeds 4 GiB");
    unsigned char eocd[22] = {0};
    gt__put_le32(eocd, GT_ZIP_EOCD);
    gt__put_le16(eocd + 8, (uint16_t)z->n);
    gt__put_le16(eocd + 10, (uint16_t)z->n);
    gt__put_le32(eocd + 12, (uint32_t)(pos - cd));
    gt__put_le32(eocd + 16, (uint32_t)cd);
    if (!st) st = gt_atomic_write(&af, eocd, 22);
    free(outs);
    if (st) {
        gt_atomic_abort(&af);
        return st;
    }
    return gt_atomic_commit(&af);
}
