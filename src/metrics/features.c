/* Feature extractors behind one interface (gt_extractor in gantry/metrics.h):
 * the FID Inception-v3 and raw pixels; and the loop that runs one over an
 * image source in batches. */
#include <sys/stat.h>

#include "gantry/fmnist.h"
#include "gantry/inception.h"
#include "gantry/io.h"
#include "metrics_internal.h"

void gt_extractor_free(gt_extractor *ex) {
    if (!ex) return;
    if (ex->destroy && ex->ctx) ex->destroy(ex->ctx);
    memset(ex, 0, sizeof *ex);
}

/* --- Inception-v3 --------------------------------------------------------------- */
typedef struct {
    gt_inception *net;
    gt_resize_mode mode;
} gt__incep_ctx;

static gt_status gt__incep_extract(void *ctx, const gt_image_batch *b, float *feats, float *logits) {
    gt__incep_ctx *c = ctx;
    int m = gt_scope_begin();
    gt_inception_outputs o;
    unsigned mask = GT_INCEPTION_POOL_2048 | (logits ? GT_INCEPTION_LOGITS_UNBIASED : 0u);
    gt_status st = gt_inception_extract(c->net, b->data, b->n, b->c, b->h, b->w, c->mode, mask, (int)b->n, &o);
    if (!st) st = gt_copy_to(o.pool2048, feats);
    if (!st && logits) st = gt_copy_to(o.logits_unbiased, logits);
    gt_scope_end(m);
    return st;
}

static void gt__incep_destroy(void *ctx) {
    gt__incep_ctx *c = ctx;
    gt_inception_free(c->net);
    free(c);
}

gt_status gt__file_fnv(const char *path, uint32_t *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return gt_set_error(GT_ERR_IO, "cannot open '%s'", path);
    uint64_t h = 1469598103934665603ull;
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < n; i++) h = (h ^ buf[i]) * 1099511628211ull;
    fclose(f);
    *out = (uint32_t)(h >> 32) ^ (uint32_t)h;
    return GT_OK;
}

static gt_status gt__open_inception(const gt_extractor_opts *o, gt_extractor *out) {
    char path[1024];
    const char *env = getenv("GANTRY_INCEPTION");
    if (o->weights && o->weights[0]) snprintf(path, sizeof path, "%s", o->weights);
    else if (env && env[0]) snprintf(path, sizeof path, "%s", env);
    else {
        char dir[900];
        if (!gt_cache_dir(dir, sizeof dir)) snprintf(dir, sizeof dir, ".");
        snprintf(path, sizeof path, "%s/%s", dir, GT_INCEPTION_WEIGHTS_FILE);
        struct stat sb;
        if (stat(path, &sb) != 0) /* the usual first run: say what works now, and how to get Inception */
            return gt_set_error(
                GT_ERR_IO,
                "no Inception weights: not given (--inception FILE or $GANTRY_INCEPTION), and not at the default "
                "place %s.\n"
                "What works now: --extractor fmnist (the Fashion-MNIST classifier shipped with gantry, for 28 x 28 "
                "images like Fashion-MNIST's; its FIDs are not comparable with Inception FIDs).\n"
                "To use Inception (what papers report): download, on a machine with internet access,\n  %s\n"
                "then convert it once (needs python3-torch; the script is in gantry's scripts/, and installed in "
                "share/gantry/) to where gantry looks:\n"
                "  mkdir -p %s && python3 scripts/convert_inception.py %s %s",
                path, GT_INCEPTION_WEIGHTS_URL, dir, GT_INCEPTION_WEIGHTS_PTH, path);
    }
    if (o->resize < 0 || o->resize >= GT_RESIZE_COUNT)
        return gt_set_error(GT_ERR_ARG, "inception: unknown resize mode %d (expected tf1, clean or pytorch-fid)", o->resize);
    gt__incep_ctx *c = calloc(1, sizeof *c);
    if (!c || !(c->net = gt_inception_new())) {
        free(c);
        return gt_set_error(GT_ERR_OOM, "out of memory building the Inception-v3");
    }
    c->mode = (gt_resize_mode)o->resize;
    uint32_t fp = 0;
    gt_status st = gt_inception_load(c->net, path);
    if (!st) st = gt__file_fnv(path, &fp);
    if (st) {
        gt__incep_destroy(c);
        return st;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "inception-v3-compat-%08x", (unsigned)fp);
    out->dim = 2048;
    out->logits_dim = 1008;
    out->batch = 50;
    out->ctx = c;
    out->extract = gt__incep_extract;
    out->destroy = gt__incep_destroy;
    return GT_OK;
}

/* --- raw pixels ---------------------------------------------------------------------- */
typedef struct {
    int c, h, w;
} gt__pix_ctx;

static gt_status gt__pix_extract(void *ctx, const gt_image_batch *b, float *feats, float *logits) {
    (void)logits;
    gt__pix_ctx *p = ctx;
    if (b->c != p->c || b->h != p->h || b->w != p->w)
        return gt_set_error(GT_ERR_SHAPE, "pixels extractor: images of (%d, %d, %d), expected (%d, %d, %d) (all "
                            "images of one size)", b->c, b->h, b->w, p->c, p->h, p->w);
    int64_t total = b->n * b->c * b->h * b->w;
    for (int64_t i = 0; i < total; i++) feats[i] = (float)b->data[i] / 255.0f;
    return GT_OK;
}

static gt_status gt__open_pixels(const gt_extractor_opts *o, gt_extractor *out) {
    if (o->c < 1 || o->h < 1 || o->w < 1 || (int64_t)o->c * o->h * o->w > (1 << 22))
        return gt_set_error(GT_ERR_ARG, "pixels extractor: needs an image size (c, h, w) with c*h*w <= %d, got (%d, "
                            "%d, %d)", 1 << 22, o->c, o->h, o->w);
    gt__pix_ctx *p = malloc(sizeof *p);
    if (!p) return gt_set_error(GT_ERR_OOM, "out of memory");
    p->c = o->c, p->h = o->h, p->w = o->w;
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "pixels-%dx%dx%d", o->c, o->h, o->w);
    out->dim = (int64_t)o->c * o->h * o->w;
    out->batch = 256;
    out->ctx = p;
    out->extract = gt__pix_extract;
    out->destroy = free;
    return GT_OK;
}

gt_status gt_extractor_open(const char *name, const gt_extractor_opts *o, gt_extractor *out) {
    gt_extractor_opts d = {0};
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_extractor_open: NULL output");
    memset(out, 0, sizeof *out);
    if (!o) o = &d;
    if (!name) name = "";
    if (strcmp(name, "inception") == 0) return gt__open_inception(o, out);
    if (strcmp(name, "pixels") == 0) return gt__open_pixels(o, out);
    if (strcmp(name, "fmnist") == 0) return gt_fmnist_extractor_open(NULL, out); /* the shipped weights */
    return gt_set_error(GT_ERR_ARG, "unknown feature extractor '%s' (expected inception, fmnist or pixels)", name);
}

/* --- extraction ------------------------------------------------------------------------ */
void gt_feature_set_free(gt_feature_set *fs) {
    if (!fs) return;
    free(fs->feats);
    free(fs->logits);
    memset(fs, 0, sizeof *fs);
}

gt_status gt_features_extract(const gt_extractor *ex, gt_image_source *src, int64_t n, bool want_logits,
                              gt_progress_fn progress, void *user, gt_feature_set *out) {
    int64_t have = gt_image_source_count(src);
    if (n <= 0 || n > have) n = have;
    return gt_features_extract_range(ex, src, 0, n, want_logits, progress, user, out);
}

gt_status gt_features_extract_range(const gt_extractor *ex, gt_image_source *src, int64_t start, int64_t n,
                                    bool want_logits, gt_progress_fn progress, void *user, gt_feature_set *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_features_extract: NULL output");
    memset(out, 0, sizeof *out);
    if (!ex || !ex->extract || !src) return gt_set_error(GT_ERR_ARG, "gt_features_extract: NULL extractor or source");
    int64_t have = gt_image_source_count(src);
    if (have < 1) return gt_set_error(GT_ERR_ARG, "%s: no images", gt_image_source_name(src));
    if (start < 0 || n < 1 || start + n > have)
        return gt_set_error(GT_ERR_ARG, "%s: images [%lld, %lld) asked for, it has %lld", gt_image_source_name(src),
                            (long long)start, (long long)(start + n), (long long)have);
    if (want_logits && ex->logits_dim <= 0)
        return gt_set_error(GT_ERR_ARG, "the %s extractor has no class logits (the Inception Score needs them)",
                            ex->name);
    int c, h, w;
    gt_image_source_dims(src, &c, &h, &w);
    int64_t batch = ex->batch > 0 ? ex->batch : 50, per = (int64_t)c * h * w;
    out->feats = malloc((size_t)(n * ex->dim) * sizeof(float));
    out->logits = want_logits ? malloc((size_t)(n * ex->logits_dim) * sizeof(float)) : NULL;
    uint8_t *img = malloc((size_t)(GT_MIN(batch, n) * per));
    if (!out->feats || (want_logits && !out->logits) || !img) {
        free(img);
        gt_feature_set_free(out);
        return gt_set_error(GT_ERR_OOM, "out of memory for the features of %lld images (%.1f MB)", (long long)n,
                            (double)n * (double)(ex->dim + (want_logits ? ex->logits_dim : 0)) * 4e-6);
    }
    out->n = n, out->dim = ex->dim, out->logits_dim = want_logits ? ex->logits_dim : 0;
    gt_status st = GT_OK;
    for (int64_t i0 = 0; i0 < n && !st; i0 += batch) {
        int64_t nb = GT_MIN(batch, n - i0);
        st = gt_image_source_read(src, start + i0, nb, img);
        gt_image_batch b = {img, nb, c, h, w};
        float *lg = want_logits ? out->logits + i0 * ex->logits_dim : NULL;
        if (!st) st = ex->extract(ex->ctx, &b, out->feats + i0 * ex->dim, lg);
        if (!st) {
            const char *what = gt_image_source_name(src);
            st = gt_features_check_finite(out->feats + i0 * ex->dim, nb, ex->dim, what);
        }
        if (!st && progress) progress(i0 + nb, n, user);
    }
    free(img);
    if (st) gt_feature_set_free(out);
    return st;
}
