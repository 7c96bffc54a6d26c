/* The FID Inception-v3: building it (pytorch-fid's module tree and names),
 * folding BatchNorm into the convs, the forward dispatch and the chunked
 * uint8 -> features pipeline. Loading weights is in inception_load.c. */
#include "gantry/device.h"
#include "inception_internal.h"

/* --- building -------------------------------------------------------------- */
/* Registers prefix.<leaf> as a zeros (or `fill`) tensor; borrowed pointer or NULL. */
static gt_tensor *gt__reg(gt_params *P, const char *prefix, const char *leaf, bool buffer, float fill, int ndim,
                          const int64_t *shape) {
    char name[96];
    if (gt_params_join(name, sizeof name, prefix, leaf) != GT_OK) return NULL;
    gt_tensor *t = fill == 0.0f ? gt_zeros(ndim, shape) : gt_full(ndim, shape, fill);
    if (!t || gt_params_add(P, name, t, buffer) != GT_OK) return NULL;
    return t;
}

/* A BasicConv2d named prefix.leaf (prefix.leaf.conv.weight, prefix.leaf.bn.*). */
static bool gt__conv(gt_inception *net, const char *prefix, const char *leaf, int cin, int cout, int kh, int kw,
                     int s, int ph, int pw) {
    GT_ASSERT(net->nconv < GT__INC_NCONV);
    gt__bconv *c = &net->conv[net->nconv++];
    char conv[96], bn[96];
    if (gt_params_join(c->name, sizeof c->name, prefix, leaf) != GT_OK) return false;
    snprintf(conv, sizeof conv, "%s.conv", c->name);
    snprintf(bn, sizeof bn, "%s.bn", c->name);
    c->cin = cin, c->cout = cout, c->kh = kh, c->kw = kw, c->sh = c->sw = s, c->ph = ph, c->pw = pw;
    c->w = gt__reg(&net->P, conv, "weight", false, 0.0f, 4, (const int64_t[]){cout, cin, kh, kw});
    c->gamma = gt__reg(&net->P, bn, "weight", false, 1.0f, 1, (const int64_t[]){cout});
    c->beta = gt__reg(&net->P, bn, "bias", false, 0.0f, 1, (const int64_t[]){cout});
    c->mean = gt__reg(&net->P, bn, "running_mean", true, 0.0f, 1, (const int64_t[]){cout});
    c->var = gt__reg(&net->P, bn, "running_var", true, 1.0f, 1, (const int64_t[]){cout});
    return c->w && c->gamma && c->beta && c->mean && c->var;
}

static gt__block *gt__block_begin(gt_inception *net, int i, gt__blk_kind kind, int cin) {
    gt__block *b = &net->block[i];
    b->kind = kind;
    b->cin = cin;
    b->first = net->nconv;
    return b;
}

/* torchvision's member order for each block kind (the forwards index by it). */
static bool gt__block_a(gt_inception *net, int i, const char *p, int cin, int pool_features) {
    gt__block *b = gt__block_begin(net, i, GT__BLK_A, cin);
    bool ok = gt__conv(net, p, "branch1x1", cin, 64, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch5x5_1", cin, 48, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch5x5_2", 48, 64, 5, 5, 1, 2, 2) &&
              gt__conv(net, p, "branch3x3dbl_1", cin, 64, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1) &&
              gt__conv(net, p, "branch3x3dbl_3", 96, 96, 3, 3, 1, 1, 1) &&
              gt__conv(net, p, "branch_pool", cin, pool_features, 1, 1, 1, 0, 0);
    b->n = net->nconv - b->first;
    b->cout = 64 + 64 + 96 + pool_features;
    return ok;
}

static bool gt__block_b(gt_inception *net, int i, const char *p, int cin) {
    gt__block *b = gt__block_begin(net, i, GT__BLK_B, cin);
    bool ok = gt__conv(net, p, "branch3x3", cin, 384, 3, 3, 2, 0, 0) &&
              gt__conv(net, p, "branch3x3dbl_1", cin, 64, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1) &&
              gt__conv(net, p, "branch3x3dbl_3", 96, 96, 3, 3, 2, 0, 0);
    b->n = net->nconv - b->first;
    b->cout = 384 + 96 + cin;
    return ok;
}

static bool gt__block_c(gt_inception *net, int i, const char *p, int cin, int c7) {
    gt__block *b = gt__block_begin(net, i, GT__BLK_C, cin);
    bool ok = gt__conv(net, p, "branch1x1", cin, 192, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch7x7_1", cin, c7, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch7x7_2", c7, c7, 1, 7, 1, 0, 3) &&
              gt__conv(net, p, "branch7x7_3", c7, 192, 7, 1, 1, 3, 0) &&
              gt__conv(net, p, "branch7x7dbl_1", cin, c7, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch7x7dbl_2", c7, c7, 7, 1, 1, 3, 0) &&
              gt__conv(net, p, "branch7x7dbl_3", c7, c7, 1, 7, 1, 0, 3) &&
              gt__conv(net, p, "branch7x7dbl_4", c7, c7, 7, 1, 1, 3, 0) &&
              gt__conv(net, p, "branch7x7dbl_5", c7, 192, 1, 7, 1, 0, 3) &&
              gt__conv(net, p, "branch_pool", cin, 192, 1, 1, 1, 0, 0);
    b->n = net->nconv - b->first;
    b->cout = 4 * 192;
    return ok;
}

static bool gt__block_d(gt_inception *net, int i, const char *p, int cin) {
    gt__block *b = gt__block_begin(net, i, GT__BLK_D, cin);
    bool ok = gt__conv(net, p, "branch3x3_1", cin, 192, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch3x3_2", 192, 320, 3, 3, 2, 0, 0) &&
              gt__conv(net, p, "branch7x7x3_1", cin, 192, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch7x7x3_2", 192, 192, 1, 7, 1, 0, 3) &&
              gt__conv(net, p, "branch7x7x3_3", 192, 192, 7, 1, 1, 3, 0) &&
              gt__conv(net, p, "branch7x7x3_4", 192, 192, 3, 3, 2, 0, 0);
    b->n = net->nconv - b->first;
    b->cout = 320 + 192 + cin;
    return ok;
}

static bool gt__block_e(gt_inception *net, int i, const char *p, int cin, gt__blk_kind kind) {
    gt__block *b = gt__block_begin(net, i, kind, cin);
    bool ok = gt__conv(net, p, "branch1x1", cin, 320, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch3x3_1", cin, 384, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch3x3_2a", 384, 384, 1, 3, 1, 0, 1) &&
              gt__conv(net, p, "branch3x3_2b", 384, 384, 3, 1, 1, 1, 0) &&
              gt__conv(net, p, "branch3x3dbl_1", cin, 448, 1, 1, 1, 0, 0) &&
              gt__conv(net, p, "branch3x3dbl_2", 448, 384, 3, 3, 1, 1, 1) &&
              gt__conv(net, p, "branch3x3dbl_3a", 384, 384, 1, 3, 1, 0, 1) &&
              gt__conv(net, p, "branch3x3dbl_3b", 384, 384, 3, 1, 1, 1, 0) &&
              gt__conv(net, p, "branch_pool", cin, 192, 1, 1, 1, 0, 0);
    b->n = net->nconv - b->first;
    b->cout = 320 + 768 + 768 + 192;
    return ok;
}

static bool gt__build(gt_inception *net) {
    bool ok = gt__conv(net, NULL, "Conv2d_1a_3x3", 3, 32, 3, 3, 2, 0, 0) &&
              gt__conv(net, NULL, "Conv2d_2a_3x3", 32, 32, 3, 3, 1, 0, 0) &&
              gt__conv(net, NULL, "Conv2d_2b_3x3", 32, 64, 3, 3, 1, 1, 1) &&
              gt__conv(net, NULL, "Conv2d_3b_1x1", 64, 80, 1, 1, 1, 0, 0) &&
              gt__conv(net, NULL, "Conv2d_4a_3x3", 80, 192, 3, 3, 1, 0, 0) &&
              gt__block_a(net, 0, "Mixed_5b", 192, 32) && gt__block_a(net, 1, "Mixed_5c", 256, 64) &&
              gt__block_a(net, 2, "Mixed_5d", 288, 64) && gt__block_b(net, 3, "Mixed_6a", 288) &&
              gt__block_c(net, 4, "Mixed_6b", 768, 128) && gt__block_c(net, 5, "Mixed_6c", 768, 160) &&
              gt__block_c(net, 6, "Mixed_6d", 768, 160) && gt__block_c(net, 7, "Mixed_6e", 768, 192) &&
              gt__block_d(net, 8, "Mixed_7a", 768) && gt__block_e(net, 9, "Mixed_7b", 1280, GT__BLK_E1) &&
              gt__block_e(net, 10, "Mixed_7c", 2048, GT__BLK_E2);
    if (!ok) return false;
    GT_ASSERT(net->nconv == GT__INC_NCONV);
    net->fc_w = gt__reg(&net->P, "fc", "weight", false, 0.0f, 2, (const int64_t[]){GT__INC_CLASSES, 2048});
    net->fc_b = gt__reg(&net->P, "fc", "bias", false, 0.0f, 1, (const int64_t[]){GT__INC_CLASSES});
    return net->fc_w && net->fc_b;
}

gt_inception *gt_inception_new(void) {
    gt_inception *net = calloc(1, sizeof *net);
    if (!net) return gt__fail(GT_ERR_OOM, "gt_inception_new: out of memory"), NULL;
    gt_params_init(&net->P);
    int m = gt_scope_begin();
    bool ok = gt__build(net);
    gt_scope_end(m);
    if (!ok) {
        if (!gt_last_status()) gt_set_error(GT_ERR_OOM, "gt_inception_new: out of memory for the parameters");
        gt_inception_free(net);
        return NULL;
    }
    return net;
}

static void gt__drop_folded(gt_inception *net) {
    for (int i = 0; i < net->nconv; i++) {
        gt_release(net->conv[i].wf);
        gt_release(net->conv[i].bf);
        net->conv[i].wf = net->conv[i].bf = NULL;
    }
    gt__inception_fast_free(net);
    net->folded = false;
}

void gt_inception_free(gt_inception *net) {
    if (!net) return;
    gt__drop_folded(net);
    gt_params_free(&net->P);
    free(net);
}

gt_params *gt_inception_params(gt_inception *net) { return net ? &net->P : NULL; }
void gt_inception_weights_changed(gt_inception *net) {
    if (net) gt__drop_folded(net);
}
void gt_inception_set_path(gt_inception *net, gt_inception_path path) {
    if (net) net->path = path;
}
gt_inception_path gt_inception_get_path(const gt_inception *net) { return net ? net->path : GT_INCEPTION_FAST; }
void gt_inception_set_chunk(gt_inception *net, int images) {
    if (net) net->chunk = images > 0 ? images : 0;
}
void gt_inception_set_parallel(gt_inception *net, gt_inception_par mode) {
    if (net && mode >= GT_INCEPTION_PAR_AUTO && mode <= GT_INCEPTION_PAR_LAYERS) net->par = mode;
}

int gt_inception_feature_dim(unsigned f) {
    switch (f) {
    case GT_INCEPTION_POOL_64: return 64;
    case GT_INCEPTION_POOL_192: return 192;
    case GT_INCEPTION_POOL_768: return 768;
    case GT_INCEPTION_POOL_2048: return 2048;
    case GT_INCEPTION_LOGITS:
    case GT_INCEPTION_LOGITS_UNBIASED: return GT__INC_CLASSES;
    default: return 0;
    }
}

/* --- BatchNorm folding ----------------------------------------------------------
 * y = gamma * (conv(x, w) - mean) / sqrt(var + eps) + beta
 *   = conv(x, w * s) + (beta - mean * s),  s = gamma / sqrt(var + eps)
 * (s in double, each product rounded once to float). */
gt_status gt__inception_fold(gt_inception *net) {
    if (net->folded) return GT_OK;
    gt__drop_folded(net);
    int mark = gt_scope_begin(); /* the folded tensors are made in it and retained past it */
    gt_status st = GT_OK;
    for (int i = 0; i < net->nconv && !st; i++) {
        gt__bconv *c = &net->conv[i];
        gt_tensor *wf = gt_empty(4, c->w->shape), *bf = gt_empty(1, (const int64_t[]){c->cout});
        if (!wf || !bf) {
            st = gt_set_error(GT_ERR_OOM, "inception: out of memory folding %s", c->name);
            break;
        }
        c->wf = gt_retain(wf);
        c->bf = gt_retain(bf);
        const float *w = gt_data(c->w), *g = gt_data(c->gamma), *be = gt_data(c->beta), *mu = gt_data(c->mean),
                    *va = gt_data(c->var);
        float *dw = gt_data(wf), *db = gt_data(bf);
        int64_t k = (int64_t)c->cin * c->kh * c->kw;
        for (int o = 0; o < c->cout; o++) {
            if (!(va[o] + (double)GT__INC_BN_EPS > 0.0))
                st = gt_set_error(GT_ERR_FORMAT, "inception: %s.bn.running_var[%d] = %g: a variance must be >= 0",
                                  c->name, o, (double)va[o]);
            double s = (double)g[o] / sqrt((double)va[o] + (double)GT__INC_BN_EPS);
            for (int64_t j = 0; j < k; j++) dw[o * k + j] = (float)(w[o * k + j] * s);
            db[o] = (float)((double)be[o] - (double)mu[o] * s);
        }
    }
    gt_scope_end(mark);
    if (st) {
        gt__drop_folded(net);
        return st;
    }
    net->folded = true;
    return GT_OK;
}

/* --- forward ------------------------------------------------------------------- */
gt_status gt_inception_forward(gt_inception *net, gt_tensor *x, unsigned features, gt_inception_outputs *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_inception_forward: out is NULL");
    memset(out, 0, sizeof *out);
    if (!net) return gt_set_error(GT_ERR_ARG, "gt_inception_forward: net is NULL");
    if (!x) return gt_last_status() ? gt_last_status() : gt_set_error(GT_ERR_ARG, "gt_inception_forward: x is NULL");
    char s[96];
    if (x->dtype != GT_F32 || x->ndim != 4 || x->shape[1] != 3 || x->shape[0] < 1)
        return gt_set_error(GT_ERR_SHAPE, "gt_inception_forward: x must be float32 (N, 3, H, W) with N >= 1, got %s",
                            gt_shape_str(x, s, sizeof s));
    if (x->shape[2] < 75 || x->shape[3] < 75)
        return gt_set_error(GT_ERR_SHAPE,
                            "gt_inception_forward: images of %s are too small: the network needs H, W >= 75 "
                            "(it is meant for 299x299; use gt_inception_preprocess)",
                            gt_shape_str(x, s, sizeof s));
    if (!features || (features & ~(unsigned)GT_INCEPTION_ALL))
        return gt_set_error(GT_ERR_ARG, "gt_inception_forward: features 0x%x: expected a non-empty mask of "
                                        "GT_INCEPTION_* bits",
                            features);
    bool prev = gt_no_grad_begin();
    gt_status st = GT_OK;
    if (net->path != GT_INCEPTION_OPS_BN) st = gt__inception_fold(net);
    if (!st) {
        gt_tensor *xc = gt_contiguous(x);
        if (!xc) st = gt_last_status();
        /* the fused forward is the CPU's: on a GPU the ops run there */
        else if (net->path == GT_INCEPTION_FAST && gt_device_current() != GT_DEVICE_CUDA)
            st = gt__inception_forward_fast(net, xc, features, out);
        else st = gt__inception_forward_ops(net, xc, net->path == GT_INCEPTION_OPS_BN, features, out);
    }
    gt_grad_mode_restore(prev);
    if (st) memset(out, 0, sizeof *out);
    return st;
}

/* --- the pipeline: uint8 images -> features, batch by batch --------------------- */
static gt_tensor **gt__slot(gt_inception_outputs *o, int bit) {
    gt_tensor **s[6] = {&o->pool64, &o->pool192, &o->pool768, &o->pool2048, &o->logits, &o->logits_unbiased};
    return s[bit];
}

gt_status gt_inception_extract(gt_inception *net, const uint8_t *images, int64_t n, int c, int h, int w,
                               gt_resize_mode mode, unsigned features, int batch, gt_inception_outputs *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_inception_extract: out is NULL");
    memset(out, 0, sizeof *out);
    if (!net || !images) return gt_set_error(GT_ERR_ARG, "gt_inception_extract: net or images is NULL");
    if (n <= 0)
        return gt_set_error(GT_ERR_ARG, "gt_inception_extract: need at least one image, got %lld", (long long)n);
    if (!features || (features & ~(unsigned)GT_INCEPTION_ALL))
        return gt_set_error(GT_ERR_ARG, "gt_inception_extract: features 0x%x is not a mask of GT_INCEPTION_* bits",
                            features);
    if (batch <= 0) batch = 50;
    gt_tensor *all[6] = {0};
    for (int b = 0; b < 6; b++)
        if (features & (1u << b)) {
            all[b] = gt_empty(2, (const int64_t[]){n, gt_inception_feature_dim(1u << b)}); /* in the caller's scope */
            if (!all[b]) return gt_last_status();
        }
    const int64_t per = (int64_t)c * h * w;
    gt_status st = GT_OK;
    for (int64_t i0 = 0; i0 < n && !st; i0 += batch) {
        int64_t nb = GT_MIN((int64_t)batch, n - i0);
        int m = gt_scope_begin();
        gt_inception_outputs o;
        gt_tensor *x = gt_inception_preprocess(images + i0 * per, nb, c, h, w, mode);
        st = x ? gt_inception_forward(net, x, features, &o) : gt_last_status();
        for (int b = 0; b < 6 && !st; b++)
            if (all[b]) {
                int64_t d = all[b]->shape[1];
                st = gt_copy_to(*gt__slot(&o, b), gt_data(all[b]) + i0 * d);
            }
        gt_scope_end(m);
    }
    if (st) return st;
    for (int b = 0; b < 6; b++) *gt__slot(out, b) = all[b];
    return GT_OK;
}
