/* Projecting an image into an anycost generator's latent space with Anycost GAN's consistency
 * loss, editing w along a direction, and w files (gantry/anycost_edit.h). The class directions
 * are src/train/anycost_dirs.c, the encoder src/train/anycost_encoder.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/anycost_edit.h"
#include "gantry/checkpoint.h"
#include "gantry/fmnist.h"
#include "gantry/image.h"
#include "gantry/optim.h"
#include "gantry/train.h"
#include "anycost_files.h"

#define GT__AC_MEAN_LATENTS 4096
#define GT__AC_CHUNK 512

const char *const gt_anycost_class_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

gt_anycost_project_opts gt_anycost_project_default(void) {
    return (gt_anycost_project_opts){
        .steps = 300, .lr = 0.05f, .wplus = false, .consistency = 1.0f, .n_sub = 2, .feat = 0.1f, .seed = 0};
}

/* GT_ERR_ARG unless G is an anycost generator. */
static gt_status gt__ac_check_g(const char *fn, gt_net *G) {
    if (!G) return gt_set_error(GT_ERR_ARG, "%s: G is NULL", fn);
    if (G->kind != GT_NET_G || !gt_anycost_is(G))
        return gt_set_error(GT_ERR_ARG, "%s: the network is %s %s, not an anycost generator", fn, G->cfg.name,
                            G->kind == GT_NET_G ? "generator" : "discriminator");
    return GT_OK;
}

static int gt__ac_w_dim(const gt_model_config *c) { return (int)gt_model_opt(c, "w_dim"); }

/* --- the classifier's input, differentiable ---------------------------------------------- */

/* (dst, src) matrix of gt_resize_f32's filter along one axis (its columns: resized unit vectors). */
static gt_tensor *gt__ac_resize_matrix(int src, int dst) {
    float *m = calloc((size_t)dst * (size_t)src, sizeof *m), *e = calloc((size_t)src, sizeof *e),
          *col = calloc((size_t)dst, sizeof *col);
    gt_tensor *t = NULL;
    if (!m || !e || !col) {
        gt_set_error(GT_ERR_OOM, "gt_anycost_fmnist_input: out of memory");
    } else {
        gt_status st = GT_OK;
        for (int j = 0; j < src && st == GT_OK; j++) {
            memset(e, 0, (size_t)src * sizeof *e);
            e[j] = 1.0f;
            st = gt_resize_f32(e, 1, 1, src, col, 1, dst);
            for (int o = 0; o < dst; o++) m[(size_t)o * (size_t)src + (size_t)j] = col[o];
        }
        if (st == GT_OK) t = gt_from_data(GT_SHAPE(dst, src), m);
    }
    free(m);
    free(e);
    free(col);
    return t;
}

gt_tensor *gt_anycost_fmnist_input(gt_tensor *x) {
    if (!x) return NULL;
    if (x->ndim != 4 || x->shape[1] != 1 || x->shape[2] != x->shape[3] || x->shape[2] < 1) {
        char s[64];
        gt_set_error(GT_ERR_SHAPE, "gt_anycost_fmnist_input: images must be (N, 1, H, H) (gray, square), got %s",
                     gt_shape_str(x, s, sizeof s));
        return NULL;
    }
    const int64_t n = x->shape[0], r = x->shape[2], s = GT_FMNIST_SIZE;
    gt_tensor *u = gt_clamp(gt_mul_scalar(gt_add_scalar(x, 1.0f), 0.5f), 0.0f, 1.0f); // (N, 1, r, r) in [0, 1]
    if (r == s) return u;
    gt_tensor *a = gt__ac_resize_matrix((int)r, (int)s);                    // (28, r)
    gt_tensor *at = a ? gt_contiguous(gt_transpose(a, 0, 1)) : NULL;         // (r, 28)
    gt_tensor *y = gt_matmul(gt_reshape(u, GT_SHAPE(n, r, r)), at);          // (N, r, 28): rows resized
    y = gt_matmul(a, y);                                                     // (N, 28, 28)
    return gt_reshape(y, GT_SHAPE(n, 1, s, s));
}

/* --- reconstruction errors ---------------------------------------------------------------- */

/* img (1, C, R, R) average-pooled to r. */
static gt_tensor *gt__ac_pool(gt_tensor *img, int r) {
    int k = (int)img->shape[2] / r;
    if (k == 1) return gt_contiguous(img); /* img itself, a new reference in the scope */
    return gt_avg_pool2d(img, k, k, k, k, 0, 0, false, true);
}

static int gt__ac_sub_res(const gt_model_config *c, const gt_anycost_sub *s) {
    return s && s->res > 0 ? s->res : c->res;
}

/* GT_ERR_SHAPE naming both sizes unless img is (1, C, R, R) of G's config. */
static gt_status gt__ac_check_img(const char *fn, const gt_model_config *c, gt_tensor *img) {
    if (!img) return gt_set_error(GT_ERR_ARG, "%s: img is NULL", fn);
    if (img->ndim != 4 || img->shape[0] != 1 || img->shape[1] != c->channels || img->shape[2] != c->res ||
        img->shape[3] != c->res) {
        char s[64];
        return gt_set_error(GT_ERR_SHAPE, "%s: the image is %s; the model makes (1, %d, %d, %d) (%dx%d %s)", fn,
                            gt_shape_str(img, s, sizeof s), c->channels, c->res, c->res, c->res, c->res,
                            c->channels == 1 ? "gray" : "RGB");
    }
    return GT_OK;
}

gt_status gt_anycost_recon_error(gt_net *G, gt_tensor *w, gt_tensor *img, const gt_anycost_sub *s, double *mse) {
    const char *fn = "gt_anycost_recon_error";
    gt_status st = gt__ac_check_g(fn, G);
    if (st == GT_OK) st = gt__ac_check_img(fn, &G->cfg, img);
    if (st == GT_OK && (!w || !mse)) st = gt_set_error(GT_ERR_ARG, "%s: w or mse is NULL", fn);
    if (st == GT_OK && s) st = gt_anycost_sub_check(&G->cfg, s);
    if (st != GT_OK) return st;
    bool prev = gt_no_grad_begin();
    int m = gt_scope_begin();
    gt_tensor *x = gt_anycost_synthesis(G, w, s, NULL, NULL);
    gt_tensor *l = x ? gt_mse_loss(x, gt__ac_pool(img, gt__ac_sub_res(&G->cfg, s))) : NULL;
    if (l) *mse = gt_item(l);
    else st = gt_last_status() ? gt_last_status() : gt_set_error(GT_ERR_STATE, "%s: synthesis failed", fn);
    gt_scope_end(m);
    gt_grad_mode_restore(prev);
    return st;
}

/* --- the start point ------------------------------------------------------------------------ */

/* The mean w of GT__AC_MEAN_LATENTS mapped latents from seed: (1, w_dim) in the current scope. */
static gt_tensor *gt__ac_mean_w(gt_net *G, uint64_t seed) {
    const gt_model_config *c = &G->cfg;
    const int wd = gt__ac_w_dim(c);
    double *acc = calloc((size_t)wd, sizeof *acc);
    if (!acc) {
        gt_set_error(GT_ERR_OOM, "gt_anycost_project: out of memory");
        return NULL;
    }
    gt_tensor *out = NULL;
    bool ok = true;
    for (int64_t s = 0; s < GT__AC_MEAN_LATENTS && ok; s += GT__AC_CHUNK) {
        int m = gt_scope_begin();
        gt_tensor *z = gt_sample_latents(seed + (uint64_t)s, GT__AC_CHUNK, c->nz, 0.0f);
        gt_tensor *w = z ? gt_contiguous(gt_anycost_mapping(G, z)) : NULL; // (chunk, w_dim)
        if (!w) ok = false;
        else {
            const float *p = gt_data(w);
            for (int64_t i = 0; i < GT__AC_CHUNK; i++)
                for (int j = 0; j < wd; j++) acc[j] += p[i * wd + j];
        }
        gt_scope_end(m);
    }
    if (ok) {
        out = gt_empty(GT_SHAPE(1, wd));
        if (out)
            for (int j = 0; j < wd; j++) gt_data(out)[j] = (float)(acc[j] / GT__AC_MEAN_LATENTS);
    }
    free(acc);
    return out;
}

/* The fmnist classifier with the shipped weights (eval mode), or NULL + error. */
static gt_fmnist *gt__ac_open_fmnist(const char *fn) {
    char path[4096];
    gt_status st = gt_fmnist_weights_path(NULL, path, sizeof path);
    gt_fmnist *f = st == GT_OK ? gt_fmnist_new(0) : NULL;
    if (f && gt_fmnist_load(f, path) != GT_OK) {
        gt_fmnist_free(f);
        f = NULL;
    }
    if (!f) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_set_error(gt_last_status() ? gt_last_status() : GT_ERR_IO,
                     "%s: the fmnist classifier is needed (feature term / class labels): %s", fn, msg);
    }
    return f;
}

/* The classifier's features (N, 128) of images x (N, 1, H, H) in [-1, 1]. */
static gt_tensor *gt__ac_features(gt_fmnist *f, gt_tensor *x) {
    gt_tensor *feat = NULL;
    gt_tensor *in = gt_anycost_fmnist_input(x);
    if (!in || gt_fmnist_forward(f, in, &feat, NULL) != GT_OK) return NULL;
    return feat;
}

/* --- projection --------------------------------------------------------------------------- */

static gt_status gt__ac_check_opts(const gt_anycost_project_opts *o) {
    const char *fn = "gt_anycost_project";
    if (o->steps < 0 || o->steps > 1000000)
        return gt_set_error(GT_ERR_ARG, "%s: steps must be in 0..1000000, got %d", fn, o->steps);
    if (!(o->lr > 0) || !isfinite(o->lr)) return gt_set_error(GT_ERR_ARG, "%s: lr must be > 0, got %g", fn, o->lr);
    if (!(o->consistency >= 0) || !isfinite(o->consistency))
        return gt_set_error(GT_ERR_ARG, "%s: consistency must be >= 0, got %g", fn, o->consistency);
    if (!(o->feat >= 0) || !isfinite(o->feat))
        return gt_set_error(GT_ERR_ARG, "%s: feat must be >= 0, got %g", fn, o->feat);
    if (o->n_sub < 0 || o->n_sub > 64)
        return gt_set_error(GT_ERR_ARG, "%s: n_sub must be in 0..64, got %d", fn, o->n_sub);
    return GT_OK;
}

/* StyleGAN2's projector schedule: a cosine ramp-down over the last quarter, a short ramp-up. */
static double gt__ac_lr_at(double lr, int step, int steps) {
    double t = steps > 0 ? (double)step / steps : 0, down = fmin(1.0, (1.0 - t) / 0.25), up = fmin(1.0, t / 0.05);
    return lr * (0.5 - 0.5 * cos(down * 3.14159265358979323846)) * (steps > 20 ? up : 1.0);
}

typedef struct {
    gt_net *G;
    gt_tensor *img;            /* (1, C, R, R) */
    gt_tensor *pooled[8];      /* img at each level 8..R (index log2(r) - 3) */
    gt_fmnist *fm;             /* or NULL: no feature term */
    gt_tensor *feat_target;    /* (1, 128) */
    gt_anycost_project_opts o;
    int n_levels;
} gt__ac_proj;

/* One step's loss (0-d) for w. */
static gt_tensor *gt__ac_proj_loss(gt__ac_proj *p, gt_tensor *w, gt_rng *r) {
    gt_tensor *x = gt_anycost_synthesis(p->G, w, NULL, NULL, NULL);
    gt_tensor *loss = x ? gt_mse_loss(x, p->img) : NULL;
    if (loss && p->fm) {
        gt_tensor *f = gt__ac_features(p->fm, x);
        loss = f ? gt_add(loss, gt_mul_scalar(gt_mse_loss(f, p->feat_target), p->o.feat)) : NULL;
    }
    if (loss && p->o.consistency > 0 && p->o.n_sub > 0) {
        gt_tensor *acc = NULL;
        for (int j = 0; j < p->o.n_sub && loss; j++) {
            float ratio = gt_anycost_ratios[gt_rng_u32(r) % 3u]; /* 0.25, 0.5, 0.75 */
            int li = (int)(gt_rng_u32(r) % (uint32_t)p->n_levels);
            gt_anycost_sub s = gt_anycost_uniform(ratio, 8 << li);
            gt_tensor *xs = gt_anycost_synthesis(p->G, w, &s, NULL, NULL);
            gt_tensor *l = xs ? gt_mse_loss(xs, p->pooled[li]) : NULL;
            acc = !l ? NULL : acc ? gt_add(acc, l) : l;
            if (!acc) loss = NULL;
        }
        if (loss) loss = gt_add(loss, gt_mul_scalar(acc, p->o.consistency / (float)p->o.n_sub));
    }
    return loss;
}

static gt_status gt__ac_fail(const char *fn) {
    gt_status st = gt_last_status();
    return st ? st : gt_set_error(GT_ERR_STATE, "%s: a forward failed", fn);
}

gt_status gt_anycost_project(gt_net *G, gt_tensor *img, const gt_anycost_project_opts *o, gt_anycost_encoder *enc,
                             gt_tensor **w_out, double *before, double *after) {
    const char *fn = "gt_anycost_project";
    if (w_out) *w_out = NULL;
    gt_status st = gt__ac_check_g(fn, G);
    if (st == GT_OK) st = gt__ac_check_img(fn, &G->cfg, img);
    if (st == GT_OK && !w_out) st = gt_set_error(GT_ERR_ARG, "%s: w_out is NULL", fn);
    gt__ac_proj p = {.G = G, .img = img, .o = o ? *o : gt_anycost_project_default()};
    if (st == GT_OK) st = gt__ac_check_opts(&p.o);
    const gt_model_config *c = st == GT_OK ? &G->cfg : NULL;
    if (st == GT_OK && enc) {
        const gt_model_config *ec = gt_anycost_encoder_config(enc);
        if (ec->res != c->res || ec->channels != c->channels || gt__ac_w_dim(ec) != gt__ac_w_dim(c))
            st = gt_set_error(GT_ERR_ARG, "%s: the encoder was made for %dx%dx%d images and w_dim %d; this generator "
                              "has %dx%dx%d and w_dim %d", fn, ec->channels, ec->res, ec->res, gt__ac_w_dim(ec),
                              c->channels, c->res, c->res, gt__ac_w_dim(c));
    }
    if (st != GT_OK) return st;
    const int wd = gt__ac_w_dim(c), nconv = gt_anycost_n_convs(c);
    for (int r = 8; r <= c->res; r *= 2) p.n_levels++;
    if (c->channels == 1 && p.o.feat > 0) {
        p.fm = gt__ac_open_fmnist(fn);
        if (!p.fm) return gt_last_status();
    }
    bool g_grad = false; /* restored at the end */
    for (int i = 0; i < G->P.n; i++)
        if (!G->P.v[i].is_buffer) {
            g_grad = G->P.v[i].t->requires_grad;
            break;
        }
    gt_net_requires_grad(G, false);
    gt_params P;
    gt_params_init(&P);
    gt_adam opt = {0};
    int m = gt_scope_begin();
    /* the start point and the targets, without a graph */
    bool prev = gt_no_grad_begin();
    gt_tensor *w0 = enc ? gt_anycost_encode(enc, img) : gt__ac_mean_w(G, p.o.seed ^ 0x9E3779B97F4A7C15ull);
    for (int li = 0; li < p.n_levels && st == GT_OK; li++)
        if (!(p.pooled[li] = gt__ac_pool(img, 8 << li))) st = gt__ac_fail(fn);
    if (st == GT_OK && p.fm && !(p.feat_target = gt__ac_features(p.fm, img))) st = gt__ac_fail(fn);
    if (st == GT_OK && !w0) st = gt__ac_fail(fn);
    if (st == GT_OK && before && gt_anycost_recon_error(G, w0, img, NULL, before) != GT_OK) st = gt_last_status();
    gt_grad_mode_restore(prev);
    /* w (or w+) as the one parameter of a registry, for gantry's Adam */
    gt_tensor *w = NULL;
    if (st == GT_OK) {
        gt_tensor *t = p.o.wplus ? gt_contiguous(gt_expand(gt_unsqueeze(gt_detach(w0), 1), GT_SHAPE(1, nconv, wd)))
                                 : gt_contiguous(gt_detach(w0));
        w = t ? gt_from_data(t->ndim, t->shape, gt_data(t)) : NULL; /* its own storage */
        if (!w) st = gt__ac_fail(fn);
    }
    if (st == GT_OK) st = gt_params_add(&P, "w", w, false);
    if (st == GT_OK) st = gt_params_finalize(&P);
    if (st == GT_OK) st = gt_adam_init(&opt, &P, p.o.lr, 0.9, 0.999, 1e-8, 0.0);
    gt_rng r;
    gt_rng_init(&r, p.o.seed);
    for (int step = 0; step < p.o.steps && st == GT_OK; step++) {
        int ms = gt_scope_begin();
        opt.lr = gt__ac_lr_at(p.o.lr, step, p.o.steps);
        st = gt_params_zero_grad(&P);
        gt_tensor *loss = st == GT_OK ? gt__ac_proj_loss(&p, w, &r) : NULL;
        if (st == GT_OK && !loss) st = gt__ac_fail(fn);
        if (st == GT_OK && !isfinite(gt_item(loss)))
            st = gt_set_error(GT_ERR_STATE, "%s: the loss is not finite at step %d (lower the lr)", fn, step);
        if (st == GT_OK) st = gt_backward(loss);
        if (st == GT_OK) st = gt_adam_step(&opt);
        gt_scope_end(ms);
    }
    if (st == GT_OK && after) st = gt_anycost_recon_error(G, w, img, NULL, after);
    if (st == GT_OK) {
        gt_tensor *res = gt_from_data(w->ndim, w->shape, gt_data(w));
        if (res) *w_out = gt_retain(res);
        else st = gt__ac_fail(fn);
    }
    gt_scope_end(m);
    gt_adam_free(&opt);
    gt_params_free(&P);
    gt_fmnist_free(p.fm);
    gt_net_requires_grad(G, g_grad);
    return st;
}

/* --- editing ------------------------------------------------------------------------------- */

gt_tensor *gt_anycost_edit(gt_tensor *w, gt_tensor *dirs, int k, float strength) {
    const char *fn = "gt_anycost_edit";
    if (!w || !dirs) {
        gt_set_error(GT_ERR_ARG, "%s: w or dirs is NULL", fn);
        return NULL;
    }
    char a[64], b[64];
    if (dirs->ndim != 2 || (w->ndim != 2 && w->ndim != 3) || w->shape[w->ndim - 1] != dirs->shape[1]) {
        gt_set_error(GT_ERR_SHAPE, "%s: w %s and dirs %s do not fit (w (N, w_dim) or (N, n_convs, w_dim), dirs (K, "
                     "w_dim))", fn, gt_shape_str(w, a, sizeof a), gt_shape_str(dirs, b, sizeof b));
        return NULL;
    }
    if (k < 0 || k >= dirs->shape[0]) {
        gt_set_error(GT_ERR_ARG, "%s: direction %d is not one of 0..%lld", fn, k, (long long)dirs->shape[0] - 1);
        return NULL;
    }
    if (!isfinite(strength)) {
        gt_set_error(GT_ERR_ARG, "%s: strength must be a finite number, got %g", fn, strength);
        return NULL;
    }
    return gt_add(w, gt_mul_scalar(gt_slice(dirs, 0, k, k + 1, 1), strength)); // (1, w_dim) broadcast
}

/* --- w files ------------------------------------------------------------------------------- */

gt_status gt_anycost_w_save(const char *path, gt_tensor *w) {
    if (!path || !w) return gt_set_error(GT_ERR_ARG, "gt_anycost_w_save: path or w is NULL");
    if (w->ndim != 2 && w->ndim != 3) {
        char s[64];
        return gt_set_error(GT_ERR_SHAPE, "gt_anycost_w_save: w must be (N, w_dim) or (N, n_convs, w_dim), got %s",
                            gt_shape_str(w, s, sizeof s));
    }
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt_st_add_tensor(&s, "w", w);
    if (st == GT_OK) st = gt_st_set_meta(&s, "format", "pt");
    if (st == GT_OK) st = gt_st_set_meta(&s, "gantry", "anycost-w");
    if (st == GT_OK) st = gt_st_set_meta(&s, "kind", w->ndim == 3 ? "w+" : "w");
    if (st == GT_OK) st = gt_st_save(&s, path);
    gt_st_free(&s);
    return st;
}

gt_status gt__ac_file_open(gt_safetensors *s, const char *path, const char *kind, const char *what,
                           const char *writer) {
    gt_st_init(s);
    gt_status st = gt_st_load(s, path);
    const char *g = st == GT_OK ? gt_st_get_meta(s, "gantry") : NULL;
    if (st == GT_OK && (!g || strcmp(g, kind) != 0))
        st = gt_set_error(GT_ERR_FORMAT, "%s: not %s (metadata gantry = %s%s%s; %s writes \"%s\")", path, what,
                          g ? "\"" : "", g ? g : "(none)", g ? "\"" : "", writer, kind);
    return st;
}

gt_status gt_anycost_w_load(const gt_model_config *c, const char *path, gt_tensor **w_out) {
    if (w_out) *w_out = NULL;
    if (!c || !path || !w_out) return gt_set_error(GT_ERR_ARG, "gt_anycost_w_load: c, path or w_out is NULL");
    gt_safetensors s;
    gt_status st = gt__ac_file_open(&s, path, "anycost-w", "a w file", "gantry project");
    const gt_st_tensor *t = st == GT_OK ? gt_st_find(&s, "w") : NULL;
    if (st == GT_OK && !t) st = gt_set_error(GT_ERR_FORMAT, "%s: no tensor \"w\"", path);
    const int64_t wd = gt__ac_w_dim(c), nconv = gt_anycost_n_convs(c);
    if (st == GT_OK && (t->dtype != GT_ST_F32 || !((t->ndim == 2 && t->shape[1] == wd) ||
                                                   (t->ndim == 3 && t->shape[1] == nconv && t->shape[2] == wd)) ||
                        t->shape[0] < 1))
        st = gt_set_error(GT_ERR_FORMAT, "%s: \"w\" is %s of %d dims (%lld, %lld%s); the model wants F32 (N, %lld) or "
                          "(N, %lld, %lld)", path, gt_st_dtype_name(t->dtype), t->ndim,
                          (long long)(t->ndim > 0 ? t->shape[0] : 0), (long long)(t->ndim > 1 ? t->shape[1] : 0),
                          t->ndim > 2 ? ", ..." : "", (long long)wd, (long long)nconv, (long long)wd);
    if (st == GT_OK) {
        int m = gt_scope_begin();
        gt_tensor *w = gt_st_get_tensor(&s, "w");
        if (w) *w_out = gt_retain(w);
        else st = gt__ac_fail("gt_anycost_w_load");
        gt_scope_end(m);
    }
    gt_st_free(&s);
    return st;
}
