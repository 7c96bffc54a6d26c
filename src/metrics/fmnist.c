/* The Fashion-MNIST domain evaluator (gantry/fmnist.h): the CNN, its weights
 * file, the input pipeline and the "fmnist" feature extractor. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "gantry/fmnist.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gantry/image.h"
#include "gantry/checkpoint.h"
#include "gantry/device.h"
#include "../internal.h"
#include "fmnist_internal.h"
#include "metrics_internal.h"

gt_fmnist *gt_fmnist_new(uint64_t seed) {
    gt_fmnist *net = calloc(1, sizeof *net);
    if (!net) {
        gt_set_error(GT_ERR_OOM, "gt_fmnist_new: out of memory");
        return NULL;
    }
    gt_params_init(&net->P);
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_conv_params p = gt_conv_params_make(2, 1);
    gt_params *P = &net->P;
    gt_status st = GT_OK;
    if (!st) st = gt_nn_conv2d_init(&net->conv1, P, "conv1", 1, GT__FMNIST_C1, 4, 4, p, false, &r);
    if (!st) st = gt_nn_batch_norm_init(&net->bn1, P, "bn1", GT__FMNIST_C1, true, true);
    if (!st) st = gt_nn_conv2d_init(&net->conv2, P, "conv2", GT__FMNIST_C1, GT__FMNIST_C2, 4, 4, p, false, &r);
    if (!st) st = gt_nn_batch_norm_init(&net->bn2, P, "bn2", GT__FMNIST_C2, true, true);
    if (!st) st = gt_nn_conv2d_init(&net->conv3, P, "conv3", GT__FMNIST_C2, GT__FMNIST_C3, 3, 3, p, false, &r);
    if (!st) st = gt_nn_batch_norm_init(&net->bn3, P, "bn3", GT__FMNIST_C3, true, true);
    if (!st) st = gt_nn_linear_init(&net->fc1, P, "fc1", GT__FMNIST_FLAT, GT_FMNIST_FEATURE_DIM, true, &r);
    if (!st) st = gt_nn_linear_init(&net->fc2, P, "fc2", GT_FMNIST_FEATURE_DIM, GT_FMNIST_CLASSES, true, &r);
    if (!st) st = gt_params_finalize(P);
    if (st) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_fmnist_free(net);
        gt_set_error(st, "gt_fmnist_new: %s", msg);
        return NULL;
    }
    gt_fmnist_set_training(net, false);
    return net;
}

void gt_fmnist_free(gt_fmnist *net) {
    if (!net) return;
    gt__fmnist_fast_free(net);
    gt_params_free(&net->P);
    free(net);
}

gt_params *gt_fmnist_params(gt_fmnist *net) { return net ? &net->P : NULL; }

void gt_fmnist_set_training(gt_fmnist *net, bool training) {
    if (!net) return;
    net->training = training;
    net->bn1.training = net->bn2.training = net->bn3.training = training;
}

/* conv (stride 2) -> BN -> ReLU */
static gt_tensor *gt__fmnist_block(const gt_nn_conv2d *c, const gt_nn_batch_norm *bn, gt_tensor *x) {
    return gt_relu(gt_nn_batch_norm_forward(bn, gt_nn_conv2d_forward(c, x)));
}

gt_status gt_fmnist_forward(gt_fmnist *net, gt_tensor *x, gt_tensor **features, gt_tensor **logits) {
    if (features) *features = NULL;
    if (logits) *logits = NULL;
    if (!net || !x) return gt_set_error(GT_ERR_ARG, "gt_fmnist_forward: net or x is NULL");
    if (x->ndim != 4 || x->shape[1] != 1 || x->shape[2] != GT_FMNIST_SIZE || x->shape[3] != GT_FMNIST_SIZE) {
        char s[64];
        return gt_set_error(GT_ERR_SHAPE, "gt_fmnist_forward: x must be (N, 1, %d, %d), got %s", GT_FMNIST_SIZE,
                            GT_FMNIST_SIZE, gt_shape_str(x, s, sizeof s));
    }
    gt_tensor *h = gt__fmnist_block(&net->conv1, &net->bn1, x); // (N, 32, 14, 14)
    if (h) h = gt__fmnist_block(&net->conv2, &net->bn2, h);      // (N, 64, 7, 7)
    if (h) h = gt__fmnist_block(&net->conv3, &net->bn3, h);      // (N, 64, 4, 4)
    if (h) h = gt_flatten(h, 1);                                 // (N, 1024)
    gt_tensor *f = h ? gt_relu(gt_nn_linear_forward(&net->fc1, h)) : NULL; // (N, 128)
    if (!f) return gt_last_status();
    if (features) *features = f;
    if (!logits) return GT_OK;
    gt_tensor *y = gt_nn_linear_forward(&net->fc2, f); // (N, 10)
    if (!y) {
        if (features) *features = NULL;
        return gt_last_status();
    }
    *logits = y;
    return GT_OK;
}

/* --- weights ---------------------------------------------------------------- */
gt_status gt_fmnist_load(gt_fmnist *net, const char *path) {
    if (!net || !path || !path[0]) return gt_set_error(GT_ERR_ARG, "gt_fmnist_load: net or path is NULL/empty");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return gt_set_error(GT_ERR_IO, "fmnist classifier weights '%s' not found (%s)", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return gt_set_error(GT_ERR_IO, "fmnist classifier weights '%s' is not a regular file", path);
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt_st_load(&s, path);
    if (st) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_st_free(&s);
        return gt_set_error(st, "fmnist classifier weights '%s' are not a valid safetensors file: %s", path, msg);
    }
    const char *arch = gt_st_get_meta(&s, "arch");
    if (!arch || strcmp(arch, GT_FMNIST_ARCH) != 0) {
        st = gt_set_error(GT_ERR_FORMAT,
                          "fmnist classifier weights '%s': metadata \"arch\" is %s%s%s, expected \"" GT_FMNIST_ARCH
                          "\" (a file written by tools/train_fmnist_classifier)",
                          path, arch ? "\"" : "", arch ? arch : "missing", arch ? "\"" : "");
        gt_st_free(&s);
        return st;
    }
    /* non-finite values would poison every feature: refuse them by name, before anything is loaded */
    for (int i = 0; i < s.n; i++) {
        const gt_st_tensor *t = &s.t[i];
        if (t->dtype != GT_ST_F32) continue; /* gt_st_load_params names it */
        for (int64_t k = 0; k < t->numel; k++) {
            float v;
            memcpy(&v, (const char *)t->data + 4 * k, 4); /* file data is only byte-aligned */
            if (!isfinite(v)) {
                st = gt_set_error(GT_ERR_FORMAT, "fmnist classifier weights '%s': tensor '%s' holds %g at index %lld",
                                  path, t->name, (double)v, (long long)k);
                gt_st_free(&s);
                return st;
            }
        }
    }
    st = gt_st_load_params(&s, "", &net->P, true, true);
    if (st) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_st_free(&s);
        return gt_set_error(st, "fmnist classifier weights '%s' do not fit " GT_FMNIST_ARCH ": %s", path, msg);
    }
    gt_st_free(&s);
    return GT_OK;
}

gt_status gt_fmnist_save(const gt_fmnist *net, const char *path, int n_meta, const char *const *keys,
                         const char *const *vals) {
    if (!net || !path || !path[0] || n_meta < 0 || (n_meta && (!keys || !vals)))
        return gt_set_error(GT_ERR_ARG, "gt_fmnist_save: bad arguments (net, path or metadata NULL)");
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt_st_add_params(&s, "", &net->P, true);
    if (!st) st = gt_st_set_meta(&s, "format", "pt");
    if (!st) st = gt_st_set_meta(&s, "gantry", "fmnist-classifier");
    if (!st) st = gt_st_set_meta(&s, "arch", GT_FMNIST_ARCH);
    for (int i = 0; i < n_meta && !st; i++) st = gt_st_set_meta(&s, keys[i], vals[i]);
    if (!st) st = gt_st_save(&s, path);
    gt_st_free(&s);
    return st;
}

/* --- the input pipeline ------------------------------------------------------ */
static gt_status gt__fmnist_check_images(const char *fn, const uint8_t *images, int64_t n, int c, int h, int w) {
    if (!images && n > 0) return gt_set_error(GT_ERR_ARG, "%s: images is NULL", fn);
    if (n < 0 || (c != 1 && c != 3) || h < 1 || w < 1 || h > GT_IMAGE_MAX_SIDE || w > GT_IMAGE_MAX_SIDE)
        return gt_set_error(GT_ERR_ARG,
                            "%s: images must be (N, C, H, W) uint8 with C 1 or 3 and sides 1..%d, "
                            "got (%lld, %d, %d, %d)",
                            fn, GT_IMAGE_MAX_SIDE, (long long)n, c, h, w);
    return GT_OK;
}

/* One image (c, h, w) -> out (28 * 28) in [0, 1]. gray: scratch (h * w). */
static gt_status gt__fmnist_prep_one(const uint8_t *img, int c, int h, int w, uint8_t *gray, float *out) {
    const int64_t hw = (int64_t)h * w;
    const uint8_t *g = img;
    if (c == 3) {
        gt_status st = gt_convert_channels_u8(img, 3, gray, 1, hw);
        if (st) return st;
        g = gray;
    }
    uint8_t small[GT_FMNIST_SIZE * GT_FMNIST_SIZE]; // (28, 28)
    if (h != GT_FMNIST_SIZE || w != GT_FMNIST_SIZE) {
        gt_status st = gt_resize_u8(g, 1, h, w, small, GT_FMNIST_SIZE, GT_FMNIST_SIZE);
        if (st) return st;
        g = small;
    }
    for (int i = 0; i < GT_FMNIST_SIZE * GT_FMNIST_SIZE; i++) out[i] = (float)g[i] / 255.0f;
    return GT_OK;
}

gt_tensor *gt_fmnist_preprocess(const uint8_t *images, int64_t n, int c, int h, int w) {
    if (gt__fmnist_check_images("gt_fmnist_preprocess", images, n, c, h, w)) return NULL;
    gt_tensor *x = gt__new(GT_F32, 4, (int64_t[]){n, 1, GT_FMNIST_SIZE, GT_FMNIST_SIZE});
    if (!x) return NULL;
    const int64_t hw = (int64_t)h * w;
    uint8_t *gray = c == 3 ? malloc((size_t)hw) : NULL;
    if (c == 3 && !gray) return gt__fail(GT_ERR_OOM, "gt_fmnist_preprocess: out of memory (%d x %d image)", h, w);
    float *d = gt_data(x);
    for (int64_t i = 0; i < n; i++) {
        gt_status st = gt__fmnist_prep_one(images + i * c * hw, c, h, w, gray,
                                           d + i * GT_FMNIST_SIZE * GT_FMNIST_SIZE);
        if (st) {
            free(gray);
            return NULL;
        }
    }
    free(gray);
    return x;
}

gt_status gt_fmnist_extract(gt_fmnist *net, const uint8_t *images, int64_t n, int c, int h, int w, int batch,
                            float *feats, float *logits) {
    if (!net) return gt_set_error(GT_ERR_ARG, "gt_fmnist_extract: net is NULL");
    gt_status st = gt__fmnist_check_images("gt_fmnist_extract", images, n, c, h, w);
    if (st) return st;
    if (batch < 0) return gt_set_error(GT_ERR_ARG, "gt_fmnist_extract: batch must be >= 0, got %d", batch);
    if (batch == 0) batch = GT__FMNIST_BATCH;
    bool was_training = net->training;
    gt_fmnist_set_training(net, false);
    bool prev = gt_no_grad_begin();
    const int64_t per = (int64_t)c * h * w;
    /* the naive backend: the ops, as a reference; on a GPU the ops run there (the fused forward is the CPU's) */
    const bool fast = gt_backend_get() == GT_BACKEND_CPU && gt_device_current() != GT_DEVICE_CUDA;
    for (int64_t s = 0; s < n && !st; s += batch) {
        int64_t b = GT_MIN((int64_t)batch, n - s);
        int mk = gt_scope_begin();
        gt_tensor *x = gt_fmnist_preprocess(images + s * per, b, c, h, w);
        gt_tensor *f = NULL, *y = NULL;
        if (x && fast) { /* the fused forward (fmnist_fast.c) */
            st = gt__fmnist_fast_forward(net, gt_data(x), b, feats ? feats + s * GT_FMNIST_FEATURE_DIM : NULL,
                                         logits ? logits + s * GT_FMNIST_CLASSES : NULL);
            gt_scope_end(mk);
            continue;
        }
        st = x ? gt_fmnist_forward(net, x, &f, logits ? &y : NULL) : gt_last_status();
        if (!st && feats) st = gt_copy_to(f, feats + s * GT_FMNIST_FEATURE_DIM);
        if (!st && logits) st = gt_copy_to(y, logits + s * GT_FMNIST_CLASSES);
        gt_scope_end(mk);
    }
    gt_grad_mode_restore(prev);
    gt_fmnist_set_training(net, was_training);
    return st;
}

/* --- finding the shipped weights --------------------------------------------- */
static bool gt__is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Appends "\n  <cand>" or "\n  <cand> (<why>)" to the list of the places looked. */
static void gt__tried_add(char *tried, size_t n, const char *cand, const char *why) {
    size_t t = strlen(tried);
    if (t < n) snprintf(tried + t, n - t, "\n  %s%s%s%s", cand, why ? " (" : "", why ? why : "", why ? ")" : "");
}

gt_status gt_fmnist_weights_path(const char *path, char *buf, size_t n) {
    if (!buf || n == 0) return gt_set_error(GT_ERR_ARG, "gt_fmnist_weights_path: buf is NULL");
    if (path && path[0]) {
        if ((size_t)snprintf(buf, n, "%s", path) >= n)
            return gt_set_error(GT_ERR_ARG, "gt_fmnist_weights_path: path too long: %s", path);
        return GT_OK;
    }
    const char *env = getenv(GT_FMNIST_WEIGHTS_ENV);
    if (env && env[0]) {
        if (!gt__is_file(env))
            return gt_set_error(GT_ERR_IO, "fmnist classifier weights: $" GT_FMNIST_WEIGHTS_ENV " = '%s' is not a file",
                                env);
        if ((size_t)snprintf(buf, n, "%s", env) >= n)
            return gt_set_error(GT_ERR_ARG, "gt_fmnist_weights_path: path too long: %s", env);
        return GT_OK;
    }
    char exe[4096], tried[8 * 4300] = "", cand[4200];
    /* next to the executable: an installed prefix (bin/ -> share/gantry/, which
     * also holds when the prefix is moved), then a build tree inside the source
     * tree (build/, build/x/) or a copy of the repository's layout */
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *rel[] = {"/../share/gantry/", "/../assets/", "/../../assets/", "/assets/"};
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            snprintf(cand, sizeof cand, "%s%s" GT_FMNIST_WEIGHTS_FILE, exe, rel[i]);
            if (gt__is_file(cand)) goto found;
            gt__tried_add(tried, sizeof tried, cand, NULL);
        }
    }
    snprintf(cand, sizeof cand, "assets/" GT_FMNIST_WEIGHTS_FILE);
    if (gt__is_file(cand)) goto found;
    gt__tried_add(tried, sizeof tried, cand, "in the current directory");
#ifdef GT_INSTALL_DATADIR /* where `cmake --install` puts it with the configured prefix */
    snprintf(cand, sizeof cand, "%s/" GT_FMNIST_WEIGHTS_FILE, GT_INSTALL_DATADIR);
    if (gt__is_file(cand)) goto found;
    gt__tried_add(tried, sizeof tried, cand, "the install data directory");
#endif
#ifdef GT_SOURCE_ASSETS /* the source tree this was built from: build trees anywhere */
    snprintf(cand, sizeof cand, "%s/" GT_FMNIST_WEIGHTS_FILE, GT_SOURCE_ASSETS);
    if (gt__is_file(cand)) goto found;
    gt__tried_add(tried, sizeof tried, cand, "the source tree's assets");
#endif
    /* what works first: the message is cut at the error buffer's size, and these paths can be long */
    return gt_set_error(GT_ERR_IO,
                        "fmnist classifier weights (" GT_FMNIST_WEIGHTS_FILE ") not found. Set $" GT_FMNIST_WEIGHTS_ENV
                        " to the file (assets/ in the repository), or install gantry: `cmake --install BUILD "
                        "--prefix PREFIX` puts it in PREFIX/share/gantry/, where PREFIX/bin/gantry finds it. "
                        "Looked in:%s",
                        tried);
found:;
    char *real = realpath(cand, NULL); /* "build/../assets/x" -> "assets/x" in messages */
    if (real) {
        snprintf(cand, sizeof cand, "%s", real);
        free(real);
    }
    if ((size_t)snprintf(buf, n, "%s", cand) >= n)
        return gt_set_error(GT_ERR_ARG, "gt_fmnist_weights_path: path too long: %s", cand);
    return GT_OK;
}

/* --- the extractor ---------------------------------------------------------- */
static gt_status gt__fmnist_ex_extract(void *ctx, const gt_image_batch *b, float *feats, float *logits) {
    if (!b) return gt_set_error(GT_ERR_ARG, "fmnist extractor: batch is NULL");
    if (!feats && !logits) return gt_set_error(GT_ERR_ARG, "fmnist extractor: no output buffer");
    return gt_fmnist_extract((gt_fmnist *)ctx, b->data, b->n, b->c, b->h, b->w, 0, feats, logits);
}

static void gt__fmnist_ex_destroy(void *ctx) { gt_fmnist_free((gt_fmnist *)ctx); }

gt_status gt_fmnist_extractor_open(const char *weights_path, gt_extractor *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_fmnist_extractor_open: out is NULL");
    memset(out, 0, sizeof *out);
    char path[4200];
    gt_status st = gt_fmnist_weights_path(weights_path, path, sizeof path);
    if (st) return st;
    gt_fmnist *net = gt_fmnist_new(0);
    if (!net) return gt_last_status();
    if ((st = gt_fmnist_load(net, path))) {
        gt_fmnist_free(net);
        return st;
    }
    uint32_t fp = 0;
    if ((st = gt__file_fnv(path, &fp))) {
        gt_fmnist_free(net);
        return st;
    }
    snprintf(out->name, sizeof out->name, "%s-%08x", GT_FMNIST_EXTRACTOR_NAME, (unsigned)fp); /* weights in the key */
    out->dim = GT_FMNIST_FEATURE_DIM;
    out->logits_dim = GT_FMNIST_CLASSES;
    out->batch = GT__FMNIST_BATCH;
    out->ctx = net;
    out->extract = gt__fmnist_ex_extract;
    out->destroy = gt__fmnist_ex_destroy;
    return GT_OK;
}
