/* Image sources for evaluation: datasets (Fashion-MNIST, IDX, CIFAR-10, image
 * folders through gantry/data.h), uint8 .npy / .npz arrays, and callbacks
 * (a generator making images on the fly); statistics files told apart. */
#include <strings.h>

#include "gantry/data.h"
#include "gantry/io.h"
#include "metrics_internal.h"

typedef enum { GT__SRC_DATASET, GT__SRC_ARRAY, GT__SRC_FN } gt__src_kind;

struct gt_image_source {
    gt__src_kind kind;
    char *name;
    int64_t n;
    int c, h, w;
    gt_dataset *ds;     /* DATASET */
    gt_npy_array arr;   /* ARRAY: uint8, layout below */
    bool hwc;           /* ARRAY: (N, H, W, C) rather than (N, C, H, W) */
    gt_image_fn fn;     /* FN */
    void *ctx;
    void (*free_ctx)(void *);
};

static gt_image_source *gt__src_new(gt__src_kind kind, const char *name) {
    gt_image_source *s = calloc(1, sizeof *s);
    if (s) s->name = strdup(name ? name : "images");
    if (!s || !s->name) {
        free(s);
        gt_set_error(GT_ERR_OOM, "out of memory opening an image source");
        return NULL;
    }
    s->kind = kind;
    return s;
}

void gt_image_source_free(gt_image_source *s) {
    if (!s) return;
    gt_dataset_free(s->ds);
    gt_npy_array_free(&s->arr);
    if (s->free_ctx) s->free_ctx(s->ctx);
    free(s->name);
    free(s);
}

const char *gt_image_source_name(const gt_image_source *s) { return s ? s->name : ""; }
int64_t gt_image_source_count(const gt_image_source *s) { return s ? s->n : 0; }
void gt_image_source_dims(const gt_image_source *s, int *c, int *h, int *w) {
    if (c) *c = s ? s->c : 0;
    if (h) *h = s ? s->h : 0;
    if (w) *w = s ? s->w : 0;
}

gt_image_source *gt_image_source_from_fn(const char *name, int64_t n, int c, int h, int w, gt_image_fn fn,
                                         void *ctx, void (*free_ctx)(void *)) {
    if (!fn || n < 1 || (c != 1 && c != 3) || h < 1 || w < 1 || h > GT_IMAGE_MAX_SIDE || w > GT_IMAGE_MAX_SIDE) {
        gt_set_error(GT_ERR_ARG, "image source '%s': needs a function, n >= 1, c 1 or 3 and a sane size, got n %lld, "
                     "(%d, %d, %d)", name ? name : "", (long long)n, c, h, w);
        return NULL;
    }
    gt_image_source *s = gt__src_new(GT__SRC_FN, name);
    if (!s) return NULL;
    s->n = n, s->c = c, s->h = h, s->w = w;
    s->fn = fn, s->ctx = ctx, s->free_ctx = free_ctx;
    return s;
}

static bool gt__ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

/* Takes a uint8 image array (moved out of *a) as a source. */
static gt_image_source *gt__src_array(const char *spec, const char *member, gt_npy_array *a, int64_t limit) {
    const char *want = "expected uint8 images (N, H, W), (N, H, W, C) or (N, C, H, W) with C = 1 or 3";
    char shp[128] = "(";
    for (int i = 0; i < a->ndim; i++)
        snprintf(shp + strlen(shp), sizeof shp - strlen(shp), "%s%lld", i ? ", " : "", (long long)a->shape[i]);
    strncat(shp, a->ndim == 1 ? ",)" : ")", sizeof shp - strlen(shp) - 1);
    if (a->dtype != GT_NPY_U1) {
        gt_set_error(GT_ERR_FORMAT, "'%s'%s%s: array of dtype %s, %s (convert with x.astype(np.uint8) after "
                     "scaling to 0..255)", spec, member ? " member " : "", member ? member : "",
                     gt_npy_dtype_descr(a->dtype), want);
        return NULL;
    }
    bool hwc = false;
    int64_t c = 1, h, w;
    if (a->ndim == 3) {
        h = a->shape[1], w = a->shape[2];
    } else if (a->ndim == 4 && (a->shape[1] == 1 || a->shape[1] == 3)) {
        c = a->shape[1], h = a->shape[2], w = a->shape[3];
    } else if (a->ndim == 4 && (a->shape[3] == 1 || a->shape[3] == 3)) {
        hwc = true;
        h = a->shape[1], w = a->shape[2], c = a->shape[3];
    } else {
        gt_set_error(GT_ERR_FORMAT, "'%s': array of shape %s, %s", spec, shp, want);
        return NULL;
    }
    if (a->shape[0] < 1 || h < 1 || w < 1 || h > GT_IMAGE_MAX_SIDE || w > GT_IMAGE_MAX_SIDE) {
        gt_set_error(GT_ERR_FORMAT, "'%s': array of shape %s holds no images of a usable size, %s", spec, shp, want);
        return NULL;
    }
    gt_image_source *s = gt__src_new(GT__SRC_ARRAY, spec);
    if (!s) return NULL;
    s->arr = *a;
    memset(a, 0, sizeof *a);
    s->hwc = hwc;
    s->n = limit > 0 ? GT_MIN(limit, s->arr.shape[0]) : s->arr.shape[0];
    s->c = (int)c, s->h = (int)h, s->w = (int)w;
    return s;
}

/* The image array of an npz: "images", else "arr_0", else the only one. */
static int gt__npz_images(const gt_npz *z) {
    for (int i = 0; i < z->n; i++)
        if (strcmp(z->a[i].name, "images") == 0) return i;
    for (int i = 0; i < z->n; i++)
        if (strcmp(z->a[i].name, "arr_0") == 0) return i;
    return z->n == 1 ? 0 : -1;
}

gt_status gt_eval_input_open(const char *spec, const gt_dataset_opts *opts, gt_image_source **images,
                             gt_fid_stats *stats) {
    if (!spec || !images || !stats) return gt_set_error(GT_ERR_ARG, "gt_eval_input_open: NULL argument");
    gt_dataset_opts o = opts ? *opts : (gt_dataset_opts){0};
    int64_t limit = o.limit > 0 ? o.limit : 0;
    *images = NULL;
    memset(stats, 0, sizeof *stats);
    if (!spec[0]) return gt_set_error(GT_ERR_ARG, "an empty input name");
    /* arrays by content (a .npy named otherwise still is one); other files and folders are datasets */
    gt_file_kind kind = gt_file_sniff(spec);
    bool is_npz = kind == GT_FILE_ZIP || (kind == GT_FILE_UNREADABLE && gt__ends_with(spec, ".npz"));
    bool is_npy = kind == GT_FILE_NPY || (kind == GT_FILE_UNREADABLE && gt__ends_with(spec, ".npy"));
    if (kind == GT_FILE_SAFETENSORS)
        return gt_set_error(GT_ERR_FORMAT, "'%s' is a safetensors file: as an image source it must be a gantry "
                            "checkpoint (its generator makes the images), given to `gantry eval` as --fake or --real",
                            spec);
    if (is_npz) {
        gt_npz z;
        gt_npz_init(&z);
        gt_status st = gt_npz_load(&z, spec);
        if (st) return st;
        if (gt_npz_find(&z, "mu") && gt_npz_find(&z, "sigma")) {
            gt_npz_free(&z);
            return gt_fid_stats_load(spec, stats); /* parses again: small files */
        }
        int k = gt__npz_images(&z);
        if (k < 0) {
            char names[256] = "";
            for (int i = 0; i < z.n; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", z.a[i].name);
            gt_npz_free(&z);
            return gt_set_error(GT_ERR_FORMAT, "'%s' holds [%s]: expected FID statistics (mu and sigma) or images "
                                "(an array named 'images' or 'arr_0', or a single array)", spec, names);
        }
        char member[80];
        snprintf(member, sizeof member, "%s", z.a[k].name);
        *images = gt__src_array(spec, member, &z.a[k], limit);
        gt_npz_free(&z);
        return *images ? GT_OK : gt_last_status();
    }
    if (is_npy) {
        gt_npy_array a;
        memset(&a, 0, sizeof a);
        gt_status st = gt_npy_load(&a, spec);
        if (st) return st;
        *images = gt__src_array(spec, NULL, &a, limit);
        gt_npy_array_free(&a);
        return *images ? GT_OK : gt_last_status();
    }
    gt_dataset *ds = gt_dataset_open(spec, 0, 0, &o);
    if (!ds) return gt_last_status() ? gt_last_status() : GT_ERR_IO;
    gt_image_source *s = gt__src_new(GT__SRC_DATASET, spec);
    if (!s) {
        gt_dataset_free(ds);
        return GT_ERR_OOM;
    }
    s->ds = ds;
    s->n = ds->n, s->c = ds->c, s->h = ds->h, s->w = ds->w;
    *images = s;
    return GT_OK;
}

gt_image_source *gt_image_source_open(const char *spec, int64_t limit) {
    gt_image_source *s = NULL;
    gt_fid_stats st;
    gt_dataset_opts o = {.limit = limit > 0 ? limit : 0};
    if (gt_eval_input_open(spec, &o, &s, &st)) return NULL;
    if (!s) {
        gt_fid_stats_free(&st);
        gt_set_error(GT_ERR_ARG, "'%s' is a statistics file (mu, sigma), not images: it can only serve FID", spec);
    }
    return s;
}

int64_t gt_image_source_skipped(const gt_image_source *s, const char **first) {
    const gt_dataset *ds = s && s->kind == GT__SRC_DATASET ? s->ds : NULL;
    if (first) *first = ds ? ds->skipped_first : NULL;
    return ds ? ds->skipped : 0;
}

gt_status gt_image_source_read(gt_image_source *s, int64_t start, int64_t count, uint8_t *out) {
    if (!s || !out) return gt_set_error(GT_ERR_ARG, "gt_image_source_read: NULL argument");
    if (start < 0 || count < 0 || start + count > s->n)
        return gt_set_error(GT_ERR_ARG, "%s: images [%lld, %lld) requested, it has %lld", s->name, (long long)start,
                            (long long)(start + count), (long long)s->n);
    int64_t per = (int64_t)s->c * s->h * s->w, hw = (int64_t)s->h * s->w;
    switch (s->kind) {
    case GT__SRC_DATASET:
        memcpy(out, gt_dataset_image(s->ds, start), (size_t)(count * per));
        return GT_OK;
    case GT__SRC_ARRAY: {
        const uint8_t *src = (const uint8_t *)s->arr.data + start * per;
        if (!s->hwc || s->c == 1) {
            memcpy(out, src, (size_t)(count * per));
        } else {
            for (int64_t i = 0; i < count; i++)
                for (int64_t p = 0; p < hw; p++)
                    for (int ch = 0; ch < s->c; ch++) out[i * per + ch * hw + p] = src[i * per + p * s->c + ch];
        }
        return GT_OK;
    }
    case GT__SRC_FN:
        return s->fn(s->ctx, start, count, out);
    }
    return gt_set_error(GT_ERR_STATE, "image source of an unknown kind");
}
