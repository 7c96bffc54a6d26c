/* Anycost GAN's generator (Lin et al., CVPR 2021): a StyleGAN2-like generator whose forward runs
 * any sub-generator (the first k channels of every conv, the levels up to a resolution) by slicing
 * its weights. The architecture is include/gantry/anycost.h's comment; docs/anycost/model.md has
 * the parameter names and the cost formulas.
 *
 * Names (rosinality's StyleGAN2, as Anycost GAN's code keeps them): style.<1..n_mlp>.weight /
 * .bias (the mapping's equalized linears; style.0 is the pixel norm), input.input (1, C(4), 4, 4),
 * conv1.* (conv 0) and convs.<i-1>.* (conv i >= 1): .conv.weight (C_out, C_in, 3, 3),
 * .conv.modulation.weight (C_in, w_dim) / .bias, .noise.weight (1), .activate.bias (C_out);
 * to_rgb1.* (4 px) and to_rgbs.<l-1>.* (level l): .conv.weight (channels, C_in, 1, 1),
 * .conv.modulation.*, .bias (channels); buffers noises.noise_<i> (1, 1, H, W). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "anycost_internal.h"

static const gt_model_opt_def gt__ac_opts[] = {
    {"w_dim", GT_OPT_INT, 128, 1, 4096, NULL, "style (w) size", NAN},
    {"n_mlp", GT_OPT_INT, 4, 1, GT__AC_MAX_MLP, NULL, "mapping network layers", NAN},
    {"ch", GT_OPT_INT, 32, 1, GT__AC_MAX_CH, NULL, "G width at the full resolution: C(r) = min(ch_max, ch * res / r)", NAN},
    {"ch_max", GT_OPT_INT, 128, 1, GT__AC_MAX_CH, NULL, "the widest G (and D) layer", NAN},
    {"dch", GT_OPT_INT, 32, 1, GT__AC_MAX_CH, NULL, "D width at the full resolution (doubling per level, up to ch_max)", NAN},
    {"d_cond", GT_OPT_INT, 2, 0, GT__AC_MAX_DBLOCKS, NULL,
     "D blocks (the last ones) modulated by G's channel config; 0 = unconditioned", NAN},
    {"ac_nres", GT_OPT_INT, 2, 1, 8, NULL, "training: resolutions sampled per step", NAN},
    {"ac_channels_at", GT_OPT_INT, -1, -1, 1e9, NULL,
     "training: step at which channels are sorted and channel training starts (-1: never)", NAN},
    {"ac_sandwich", GT_OPT_INT, 2, 0, 8, NULL, "training: random configs per step besides the largest and smallest",
     NAN},
    {"ac_uniform", GT_OPT_INT, 0, 0, 1, NULL,
     "training: 1 = a random config has one ratio for every conv (Anycost GAN's code default), 0 = one per conv", NAN},
    {"ac_teacher", GT_OPT_INT, 0, 0, 1, NULL,
     "training: 1 = distil every config towards a frozen copy of the EMA generator taken at ac_channels_at "
     "(Anycost GAN's code), 0 = the subs towards the current full output", NAN},
    {"ac_distill", GT_OPT_FLOAT, 1.0, 0, 100, NULL, "training: weight of the distillation towards the full output",
     NAN},
    {"ac_distill_levels", GT_OPT_INT, 0, 0, 1, NULL,
     "training: 1 = distil a config's skip sum at every level up to its own, summed (Anycost GAN's code), "
     "0 = its output only", NAN},
};

int gt__ac_level_of(int r) {
    for (int l = 0; l < 8; l++)
        if ((4 << l) == r) return l;
    return -1;
}

void gt__ac_dims(const gt_model_config *c, int *R, int *levels, int C[GT__AC_MAX_LEVELS]) {
    *R = c->res;
    int L = gt__ac_level_of(c->res) + 1;
    if (L < 1 || L > GT__AC_MAX_LEVELS) L = 1;
    *levels = L;
    const int ch = (int)gt_model_opt(c, "ch"), chmax = (int)gt_model_opt(c, "ch_max");
    for (int l = 0; l < GT__AC_MAX_LEVELS && C; l++) {
        int64_t v = (int64_t)ch * c->res / (4 << l);
        C[l] = (int)(v < chmax ? (v < 1 ? 1 : v) : chmax);
    }
}

static void gt__ac_defaults(gt_model_config *c) {
    if (!c->res) c->res = 32;
    if (!c->nz) c->nz = 128;
    if (!c->channels) c->channels = 1;
}

static gt_status gt__ac_check(const gt_model_config *c) {
    if (c->res != 32 && c->res != 64)
        return gt_set_error(GT_ERR_ARG, "anycost: resolution %d is not supported (use 32 or 64)", c->res);
    if (c->channels != 1 && c->channels != 3)
        return gt_set_error(GT_ERR_ARG, "anycost: channels must be 1 or 3, got %d", c->channels);
    if (c->nz < 1 || c->nz > 4096) return gt_set_error(GT_ERR_ARG, "anycost: nz must be in 1..4096, got %d", c->nz);
    if (c->n_classes != 0)
        return gt_set_error(GT_ERR_ARG, "anycost: the family is unconditional (n_classes must be 0, got %d)",
                            c->n_classes);
    const int blocks = gt__ac_level_of(c->res), dc = (int)gt_model_opt(c, "d_cond");
    if (dc < 0 || dc > blocks)
        return gt_set_error(GT_ERR_ARG, "anycost: d_cond must be in 0..%d (D's blocks at res %d), got %d", blocks,
                            c->res, dc);
    return GT_OK;
}

gt_tensor *gt__ac_param(gt_params *P, const char *prefix, const char *leaf, int ndim, const int64_t *shape,
                        gt_rng *r, float std, float v, bool buffer, gt_status *st) {
    if (*st != GT_OK) return NULL;
    gt_tensor *t = gt_layer_register(P, prefix, leaf, buffer, ndim, shape);
    if (!t) *st = gt_last_status();
    else *st = std > 0 ? gt_init_normal(t, r, 0.0f, std) : gt_init_constant(t, v);
    return t;
}

/* --- the modulated conv ------------------------------------------------------------------ */
static gt_status gt__ac_mconv_init(gt__ac_mconv *m, gt_params *P, const char *prefix, int c_in, int c_out, int k,
                                   int w_dim, bool torgb, gt_rng *r) {
    char p[128];
    gt_status st = GT_OK;
    m->c_in = c_in, m->c_out = c_out, m->k = k, m->torgb = torgb;
    snprintf(p, sizeof p, "%s.conv", prefix);
    m->weight = gt__ac_param(P, p, "weight", 4, (const int64_t[]){c_out, c_in, k, k}, r, 1.0f, 0, false, &st);
    snprintf(p, sizeof p, "%s.conv.modulation", prefix);
    m->mod_w = gt__ac_param(P, p, "weight", 2, (const int64_t[]){c_in, w_dim}, r, 1.0f, 0, false, &st);
    m->mod_b = gt__ac_param(P, p, "bias", 1, (const int64_t[]){c_in}, r, 0, 1.0f, false, &st);
    if (!torgb) {
        snprintf(p, sizeof p, "%s.noise", prefix);
        m->noise_w = gt__ac_param(P, p, "weight", 1, (const int64_t[]){1}, r, 0, 0.0f, false, &st);
        snprintf(p, sizeof p, "%s.activate", prefix);
        m->bias = gt__ac_param(P, p, "bias", 1, (const int64_t[]){c_out}, r, 0, 0.0f, false, &st);
    } else
        m->bias = gt__ac_param(P, prefix, "bias", 1, (const int64_t[]){c_out}, r, 0, 0.0f, false, &st);
    return st;
}

/* x (N, >= k_in, H, W) (its first k_in channels are read), ws = w / sqrt(w_dim) (N, w_dim) ->
 * (N, k_out, H', W'). up: bilinear x2 first. noise (1 or N, 1, H', W') or NULL (torgb).
 * Written for few ops on the image-sized tensors: the equalized-lr constants go into the style
 * (N, k_in), the activation's gain sqrt 2 into the demodulation, the noise and the bias (leaky
 * ReLU is positively homogeneous: lrelu(z) sqrt 2 = lrelu(z sqrt 2)). */
gt_tensor *gt__ac_mconv_fwd(gt__ac_mconv *m, gt_tensor *x, gt_tensor *ws, int k_in, int k_out, bool up,
                            gt_tensor *noise) {
    if (!x || !ws) return NULL;
    if (!gt_grad_enabled() && k_in <= GT__AC_FAST_MAX_IN) return gt__ac_mconv_fast(m, x, ws, k_in, k_out, up, noise);
    const int64_t n = ws->shape[0];
    gt_tensor *W = m->weight, *A = m->mod_w, *b = m->mod_b, *bias = m->bias;
    if (k_out < m->c_out) {
        W = gt_slice(W, 0, 0, k_out, 1);
        if (!m->torgb) bias = gt_slice(bias, 0, 0, k_out, 1);
    }
    if (k_in < m->c_in) {
        W = gt_contiguous(gt_slice(W, 1, 0, k_in, 1)); /* once: the conv and the demodulation read it */
        A = gt_slice(A, 0, 0, k_in, 1);
        b = gt_slice(b, 0, 0, k_in, 1);
    }
    if (x->shape[1] != k_in) x = gt_slice(x, 1, 0, k_in, 1);
    /* the style s = A w / sqrt(w_dim) + b, times the conv's equalized-lr constant 1/sqrt(fan_in) */
    const float cs = 1.0f / sqrtf((float)(m->c_in * m->k * m->k));
    gt_tensor *s = gt_mul_scalar(gt_linear(ws, A, b), cs); // (N, k_in)
    gt_tensor *xm = gt_mul(x, gt_reshape(s, GT_SHAPE(n, k_in, 1, 1)));
    if (up && xm) xm = gt_upsample_bilinear2d(xm, (int)xm->shape[2] * 2, (int)xm->shape[3] * 2);
    if (m->torgb) { /* 1x1: one batched product (k_out, k_in) @ (N, k_in, H W) */
        const int64_t h = xm ? xm->shape[2] : 0, wd = xm ? xm->shape[3] : 0;
        gt_tensor *y = gt_matmul(gt_reshape(W, GT_SHAPE(k_out, k_in)), gt_reshape(xm, GT_SHAPE(n, k_in, h * wd)));
        return gt_add(gt_reshape(y, GT_SHAPE(n, k_out, h, wd)), gt_reshape(bias, GT_SHAPE(1, k_out, 1, 1)));
    }
    gt_tensor *y = gt_conv2d(xm, W, NULL, gt_conv_params_make(1, m->k / 2));
    /* demodulation rsqrt(sum_{i,kh,kw} (W[o,i] s[i])^2 + 1e-8) = rsqrt(s^2 @ (sum_kk W^2)^T + 1e-8), times sqrt 2:
       rsqrt(s^2 @ (sum_kk W^2 / 2)^T + 0.5e-8) */
    gt_tensor *wsq = gt_mul_scalar(gt_sum(gt_mul(W, W), 2, (const int[]){2, 3}, false), 0.5f); // (k_out, k_in)
    gt_tensor *d = gt_pow_scalar(gt_add_scalar(gt_matmul(gt_mul(s, s), gt_transpose(wsq, 0, 1)), 0.5e-8f), -0.5f);
    /* (noise_strength noise + bias) sqrt 2: (1 or N, k_out, H', W'), small beside y */
    gt_tensor *nb = gt_reshape(gt_mul_scalar(bias, GT__AC_SQRT2), GT_SHAPE(1, k_out, 1, 1));
    if (noise) nb = gt_add(gt_mul(noise, gt_mul_scalar(m->noise_w, GT__AC_SQRT2)), nb);
    y = gt_add(gt_mul(y, gt_reshape(d, GT_SHAPE(n, k_out, 1, 1))), nb);
    return gt_leaky_relu(y, 0.2f);
}

/* --- mapping and synthesis ----------------------------------------------------------------- */
bool gt_anycost_is(const gt_net *n) { return n && (n->ops == &gt__ac_g_ops || n->ops == &gt__ac_d_ops); }

static gt__ac_g *gt__ac_gen(gt_net *G, const char *fn) {
    if (!G || G->ops != &gt__ac_g_ops) {
        gt_set_error(GT_ERR_ARG, "%s: not an anycost generator", fn);
        return NULL;
    }
    return G->impl;
}

static gt_tensor *gt__ac_mapping(gt_net *G, gt_tensor *z) {
    gt__ac_g *g = gt__ac_gen(G, "gt_anycost_mapping");
    if (!g || !z) return NULL;
    if (z->ndim == 4 && z->shape[2] == 1 && z->shape[3] == 1) z = gt_reshape(z, GT_SHAPE(z->shape[0], z->shape[1]));
    char s[64];
    if (!z || z->ndim != 2 || z->shape[1] != g->nz) {
        gt_set_error(GT_ERR_SHAPE, "anycost mapping: z must be (N, %d), got %s", g->nz, gt_shape_str(z, s, sizeof s));
        return NULL;
    }
    if (!gt_grad_enabled()) return gt__ac_mapping_fast(g, z);
    gt_tensor *h = gt_mul(z, gt_pow_scalar(gt_add_scalar(gt_mean(gt_mul(z, z), 1, (const int[]){1}, true), 1e-8f),
                                            -0.5f));
    for (int i = 0; i < g->n_mlp; i++) {
        /* lrelu(sc h W^T + lr b) sqrt 2 = lrelu(sqrt 2 sc (h W^T + (lr / sc) b)) */
        const float sc = GT__AC_LR_MUL / sqrtf((float)(i ? g->w_dim : g->nz));
        h = gt_linear(h, g->map_w[i], gt_mul_scalar(g->map_b[i], GT__AC_LR_MUL / sc));
        h = gt_leaky_relu(gt_mul_scalar(h, GT__AC_SQRT2 * sc), 0.2f);
    }
    return h;
}

/* The mapping and the synthesis run in scopes of their own, as gt_net_forward: only what they return
 * (and the skip sums asked for) reach the caller's scope, so a backward frees the activations as it
 * passes them, and without grad they die on return. */
gt_tensor *gt_anycost_mapping(gt_net *G, gt_tensor *z) {
    int m = gt_scope_begin();
    gt_tensor *w = gt__ac_mapping(G, z);
    gt__scope_end_keep(m, &w, 1);
    return w;
}

int gt__ac_sub_res(const gt_model_config *c, const gt_anycost_sub *s) { return s && s->res ? s->res : c->res; }

static gt_tensor *gt__ac_synthesis(gt_net *G, gt_tensor *w, const gt_anycost_sub *s, gt_rng *noise,
                                   gt_tensor **rgbs) {
    gt__ac_g *g = gt__ac_gen(G, "gt_anycost_synthesis");
    if (!g || !w) return NULL;
    if (s && gt_anycost_sub_check(&G->cfg, s) != GT_OK) return NULL;
    char b[64];
    const bool plus = w->ndim == 3;
    if (!((w->ndim == 2 && w->shape[1] == g->w_dim) ||
          (plus && w->shape[1] == g->n_convs && w->shape[2] == g->w_dim))) {
        gt_set_error(GT_ERR_SHAPE, "anycost synthesis: w must be (N, %d) or (N, %d, %d), got %s", g->w_dim,
                     g->n_convs, g->w_dim, gt_shape_str(w, b, sizeof b));
        return NULL;
    }
    const int64_t n = w->shape[0];
    const int levels = gt__ac_level_of(gt__ac_sub_res(&G->cfg, s)) + 1;
    /* the styles' equalized-lr constant, once */
    gt_tensor *ws = gt_mul_scalar(w, 1.0f / sqrtf((float)g->w_dim)), *wi[GT_AC_MAX_CONVS];
    for (int i = 0; i < 2 * levels - 1; i++)
        wi[i] = plus ? gt_reshape(gt_slice(ws, 1, i, i + 1, 1), GT_SHAPE(n, g->w_dim)) : ws;
    gt_tensor *x = g->input, *rgb = NULL;
    int k_prev = g->C[0]; /* conv 0 reads the whole constant */
    for (int l = 0; l < levels; l++) {
        const int c0 = l ? 2 * l - 1 : 0, c1 = 2 * l;
        for (int i = c0; i <= c1; i++) {
            const int k = gt_anycost_sub_channels(&G->cfg, s, i);
            gt_tensor *nz = noise ? gt_randn(noise, GT_SHAPE(n, 1, 4 << l, 4 << l)) : g->noise[i];
            x = gt__ac_mconv_fwd(&g->conv[i], x, wi[i], k_prev, k, l > 0 && i == c0, nz);
            k_prev = k;
        }
        gt_tensor *t = gt__ac_mconv_fwd(&g->torgb[l], x, wi[c1], k_prev, g->channels, false, NULL);
        rgb = rgb ? gt_add(gt_upsample_bilinear2d(rgb, 4 << l, 4 << l), t) : t;
        if (rgbs) rgbs[l] = rgb;
    }
    return rgb;
}

gt_tensor *gt_anycost_synthesis(gt_net *G, gt_tensor *w, const gt_anycost_sub *s, gt_rng *noise, gt_tensor **rgbs) {
    gt_tensor *keep[1 + GT__AC_MAX_LEVELS] = {0}; /* the output, then the skip sums (set only where computed) */
    int m = gt_scope_begin();
    keep[0] = gt__ac_synthesis(G, w, s, noise, rgbs ? keep + 1 : NULL);
    gt__scope_end_keep(m, keep, 1 + GT__AC_MAX_LEVELS);
    for (int l = 0; rgbs && l < GT__AC_MAX_LEVELS; l++)
        if (keep[1 + l]) rgbs[l] = keep[1 + l];
    return keep[0];
}

gt_tensor *gt_anycost_generate(gt_net *G, gt_tensor *z, const gt_anycost_sub *s, gt_rng *noise) {
    return gt_anycost_synthesis(G, gt_anycost_mapping(G, z), s, noise, NULL);
}

static gt_tensor *gt__ac_g_forward(gt_net *net, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    (void)y, (void)mode; /* gt_net_forward has opened the scope */
    return gt__ac_synthesis(net, gt__ac_mapping(net, x), NULL, NULL, NULL);
}

static void gt__ac_free(gt_net *net) {
    free(net->impl);
    net->impl = NULL;
}

const gt_net_ops gt__ac_g_ops = {gt__ac_g_forward, NULL, gt__ac_free};

/* --- build ---------------------------------------------------------------------------------- */
static gt_status gt__ac_g_build(const gt_model_config *c, gt_rng *r, gt_net *out) {
    gt__ac_g *g = calloc(1, sizeof *g);
    if (!g) return gt_set_error(GT_ERR_OOM, "anycost: out of memory");
    out->impl = g;
    out->ops = &gt__ac_g_ops;
    gt__ac_dims(c, &g->R, &g->levels, g->C);
    g->n_convs = 2 * g->levels - 1;
    g->w_dim = (int)gt_model_opt(c, "w_dim");
    g->n_mlp = (int)gt_model_opt(c, "n_mlp");
    g->nz = c->nz;
    g->channels = c->channels;
    gt_params *P = &out->P;
    gt_status st = GT_OK;
    char p[32];
    for (int i = 0; i < g->n_mlp; i++) {
        snprintf(p, sizeof p, "style.%d", i + 1);
        const int64_t in = i ? g->w_dim : g->nz;
        g->map_w[i] = gt__ac_param(P, p, "weight", 2, (const int64_t[]){g->w_dim, in}, r, 1.0f / GT__AC_LR_MUL, 0,
                                   false, &st);
        g->map_b[i] = gt__ac_param(P, p, "bias", 1, (const int64_t[]){g->w_dim}, r, 0, 0.0f, false, &st);
    }
    g->input = gt__ac_param(P, "input", "input", 4, (const int64_t[]){1, g->C[0], 4, 4}, r, 1.0f, 0, false, &st);
    for (int l = 0; l < g->levels && st == GT_OK; l++) {
        const int c0 = l ? 2 * l - 1 : 0;
        for (int i = c0; i <= 2 * l && st == GT_OK; i++) {
            if (i == 0) snprintf(p, sizeof p, "conv1");
            else snprintf(p, sizeof p, "convs.%d", i - 1);
            const int cin = i == c0 && l ? g->C[l - 1] : g->C[l];
            st = gt__ac_mconv_init(&g->conv[i], P, p, cin, g->C[l], 3, g->w_dim, false, r);
        }
        if (l == 0) snprintf(p, sizeof p, "to_rgb1");
        else snprintf(p, sizeof p, "to_rgbs.%d", l - 1);
        if (st == GT_OK) st = gt__ac_mconv_init(&g->torgb[l], P, p, g->C[l], g->channels, 1, g->w_dim, true, r);
    }
    for (int i = 0; i < g->n_convs; i++) {
        const int64_t h = 4 << gt__ac_conv_level(i);
        snprintf(p, sizeof p, "noise_%d", i);
        g->noise[i] = gt__ac_param(P, "noises", p, 4, (const int64_t[]){1, 1, h, h}, r, 1.0f, 0, true, &st);
    }
    return st == GT_OK ? gt_params_finalize(P) : st;
}

static gt_status gt__ac_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out) {
    return kind == GT_NET_G ? gt__ac_g_build(c, r, out) : gt__ac_d_build(c, r, out);
}

const gt_model_entry gt_model_anycost = {
    .name = "anycost",
    .summary = "Anycost GAN (Lin et al. 2021), 32/64 px: style-based G whose sub-generators (channel ratio, "
               "resolution) preview the full output; multi-resolution, G-conditioned D",
    .defaults = gt__ac_defaults,
    .check = gt__ac_check,
    .build = gt__ac_build,
    .opts = gt__ac_opts,
    .n_opts = (int)(sizeof gt__ac_opts / sizeof gt__ac_opts[0]),
};
