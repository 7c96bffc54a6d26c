/* The projection's encoder (gantry/anycost_edit.h): a small strided CNN from an anycost
 * generator's images to its w, trained on the generator's own samples (fresh latents every step,
 * MSE on w), saved as safetensors with the generator's architecture in the metadata.
 *
 *   x (N, C, R, R) -> [conv 3x3 stride 2 pad 1 + leaky ReLU 0.2] x (log2(R) - 2), widths
 *   32, 64, 128, 128, ... -> (N, width, 4, 4) -> flatten -> fc -> + w_avg -> w (N, w_dim)
 *
 * w_avg (a buffer) is the mean of 1024 mapped latents of the generator it was trained for, so
 * the network only learns the offset from it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/anycost_edit.h"
#include "gantry/checkpoint.h"
#include "gantry/optim.h"
#include "gantry/train.h"
#include "anycost_files.h"

#define GT__ENC_MAX_CONVS 8
#define GT__ENC_BATCH 32
#define GT__ENC_LR 1e-3

struct gt_anycost_encoder {
    gt_model_config cfg; /* the generator's */
    gt_params P;
    int n_conv;
    gt_nn_conv2d conv[GT__ENC_MAX_CONVS];
    gt_nn_linear fc;
    gt_tensor *w_avg; // (w_dim) buffer
};

/* The architecture options an encoder depends on (its input, its output, the w space's generator). */
static const char *const gt__enc_keys[] = {"w_dim", "n_mlp", "ch", "ch_max"};
#define GT__ENC_NKEYS ((int)(sizeof gt__enc_keys / sizeof gt__enc_keys[0]))

const gt_model_config *gt_anycost_encoder_config(const gt_anycost_encoder *e) { return e ? &e->cfg : NULL; }

void gt_anycost_encoder_free(gt_anycost_encoder *e) {
    if (!e) return;
    gt_params_free(&e->P);
    free(e);
}

static gt_status gt__enc_build(const gt_model_config *c, uint64_t seed, gt_anycost_encoder **out) {
    *out = NULL;
    int levels = 0;
    for (int r = c->res; r > 4; r /= 2) levels++;
    if (c->res < 8 || (c->res & (c->res - 1)) || levels > GT__ENC_MAX_CONVS)
        return gt_set_error(GT_ERR_ARG, "anycost encoder: resolution %d is not a power of two in 8..%d", c->res,
                            4 << GT__ENC_MAX_CONVS);
    gt_anycost_encoder *e = calloc(1, sizeof *e);
    if (!e) return gt_set_error(GT_ERR_OOM, "anycost encoder: out of memory");
    e->cfg = *c;
    e->n_conv = levels;
    gt_params_init(&e->P);
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_status st = GT_OK;
    int cin = c->channels, cout = 32;
    for (int i = 0; i < levels && st == GT_OK; i++, cin = cout, cout = cout * 2 > 128 ? 128 : cout * 2) {
        char name[32];
        snprintf(name, sizeof name, "conv%d", i);
        st = gt_nn_conv2d_init(&e->conv[i], &e->P, name, cin, cout, 3, 3, gt_conv_params_make(2, 1), true, &r);
    }
    const int wd = (int)gt_model_opt(c, "w_dim");
    if (st == GT_OK) st = gt_nn_linear_init(&e->fc, &e->P, "fc", cin * 16, wd, true, &r);
    if (st == GT_OK) {
        int m = gt_scope_begin();
        e->w_avg = gt_zeros(GT_SHAPE(wd));
        st = e->w_avg ? gt_params_add(&e->P, "w_avg", e->w_avg, true) : gt_last_status();
        gt_scope_end(m);
    }
    if (st == GT_OK) st = gt_params_finalize(&e->P);
    if (st != GT_OK) {
        gt_anycost_encoder_free(e);
        return st;
    }
    *out = e;
    return GT_OK;
}

gt_tensor *gt_anycost_encode(gt_anycost_encoder *e, gt_tensor *img) {
    if (!e || !img) {
        gt_set_error(GT_ERR_ARG, "gt_anycost_encode: e or img is NULL");
        return NULL;
    }
    const gt_model_config *c = &e->cfg;
    if (img->ndim != 4 || img->shape[1] != c->channels || img->shape[2] != c->res || img->shape[3] != c->res) {
        char s[64];
        gt_set_error(GT_ERR_SHAPE, "gt_anycost_encode: images must be (N, %d, %d, %d), got %s", c->channels, c->res,
                     c->res, gt_shape_str(img, s, sizeof s));
        return NULL;
    }
    gt_tensor *h = img;
    for (int i = 0; i < e->n_conv; i++) h = gt_leaky_relu(gt_nn_conv2d_forward(&e->conv[i], h), 0.2f);
    return gt_add(gt_nn_linear_forward(&e->fc, gt_flatten(h, 1)), e->w_avg);
}

/* w (n, w_dim) of fresh latents and G's full images of them (no graph), in the current scope. */
static gt_status gt__enc_batch(gt_net *G, gt_rng *r, int n, gt_tensor **w, gt_tensor **x) {
    bool prev = gt_no_grad_begin();
    gt_tensor *z = gt_randn(r, GT_SHAPE(n, G->cfg.nz));
    *w = z ? gt_anycost_mapping(G, z) : NULL;
    *x = *w ? gt_anycost_synthesis(G, *w, NULL, NULL, NULL) : NULL;
    gt_grad_mode_restore(prev);
    if (*x) return GT_OK;
    return gt_last_status() ? gt_last_status() : gt_set_error(GT_ERR_STATE, "anycost encoder: the generator failed");
}

gt_status gt_anycost_encoder_train_ex(gt_net *G, int steps, uint64_t seed, gt_anycost_encoder_progress cb, int every,
                                      void *ctx, gt_anycost_encoder **out) {
    const char *fn = "gt_anycost_encoder_train";
    if (out) *out = NULL;
    if (!G || !out) return gt_set_error(GT_ERR_ARG, "%s: G or out is NULL", fn);
    if (G->kind != GT_NET_G || !gt_anycost_is(G))
        return gt_set_error(GT_ERR_ARG, "%s: the network is %s, not an anycost generator", fn, G->cfg.name);
    if (steps < 0 || steps > 10000000)
        return gt_set_error(GT_ERR_ARG, "%s: steps must be in 0..10000000, got %d", fn, steps);
    gt_anycost_encoder *e = NULL;
    gt_status st = gt__enc_build(&G->cfg, seed ^ 0x5A17ull, &e);
    if (st != GT_OK) return st;
    gt_rng r;
    gt_rng_init(&r, seed);
    /* w_avg: the mean of 1024 mapped latents */
    int m = gt_scope_begin();
    bool prev = gt_no_grad_begin();
    gt_tensor *z = gt_randn(&r, GT_SHAPE(1024, G->cfg.nz));
    gt_tensor *wm = z ? gt_contiguous(gt_mean(gt_anycost_mapping(G, z), 1, (const int[]){0}, false)) : NULL;
    gt_grad_mode_restore(prev);
    if (wm) st = gt_copy_(e->w_avg, wm);
    else st = gt_last_status() ? gt_last_status() : GT_ERR_STATE;
    gt_scope_end(m);
    gt_adam opt = {0};
    if (st == GT_OK) st = gt_adam_init(&opt, &e->P, GT__ENC_LR, 0.9, 0.999, 1e-8, 0.0);
    double acc = 0;
    int acc_n = 0;
    for (int step = 1; step <= steps && st == GT_OK; step++) {
        int ms = gt_scope_begin();
        gt_tensor *w = NULL, *x = NULL;
        st = gt__enc_batch(G, &r, GT__ENC_BATCH, &w, &x);
        if (st == GT_OK) st = gt_params_zero_grad(&e->P);
        gt_tensor *loss = st == GT_OK ? gt_mse_loss(gt_anycost_encode(e, x), w) : NULL;
        if (st == GT_OK && !loss) st = gt_last_status();
        if (st == GT_OK && !isfinite(gt_item(loss)))
            st = gt_set_error(GT_ERR_STATE, "%s: the loss is not finite at step %d", fn, step);
        if (st == GT_OK) {
            acc += gt_item(loss);
            acc_n++;
            st = gt_backward(loss);
        }
        if (st == GT_OK) st = gt_adam_step(&opt);
        gt_scope_end(ms);
        if (st == GT_OK && cb && ((every > 0 && step % every == 0) || step == steps)) {
            cb(step, acc / acc_n, ctx);
            acc = 0;
            acc_n = 0;
        }
    }
    gt_adam_free(&opt);
    if (st != GT_OK) {
        gt_anycost_encoder_free(e);
        return st;
    }
    *out = e;
    return GT_OK;
}

gt_status gt_anycost_encoder_train(gt_net *G, int steps, uint64_t seed, gt_anycost_encoder **out) {
    return gt_anycost_encoder_train_ex(G, steps, seed, NULL, 0, NULL, out);
}

/* --- files ----------------------------------------------------------------------------------- */

gt_status gt_anycost_encoder_save(const gt_anycost_encoder *e, const char *path) {
    if (!e || !path) return gt_set_error(GT_ERR_ARG, "gt_anycost_encoder_save: e or path is NULL");
    const gt_model_config *c = &e->cfg;
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt_st_add_params(&s, "", &e->P, true);
    char v[64], model[512];
    int k = snprintf(model, sizeof model, "%s res=%d channels=%d nz=%d", c->name, c->res, c->channels, c->nz);
    if (st == GT_OK) st = gt_st_set_meta(&s, "format", "pt");
    if (st == GT_OK) st = gt_st_set_meta(&s, "gantry", "anycost-encoder");
    const char *common[] = {"res", "channels", "nz"};
    const int cv[] = {c->res, c->channels, c->nz};
    for (int i = 0; i < 3 && st == GT_OK; i++) {
        snprintf(v, sizeof v, "%d", cv[i]);
        st = gt_st_set_meta(&s, common[i], v);
    }
    for (int i = 0; i < GT__ENC_NKEYS && st == GT_OK; i++) {
        gt_model_opt_text(c, gt__enc_keys[i], v, sizeof v);
        st = gt_st_set_meta(&s, gt__enc_keys[i], v);
        if (k > 0 && (size_t)k < sizeof model)
            k += snprintf(model + k, sizeof model - (size_t)k, " %s=%s", gt__enc_keys[i], v);
    }
    if (st == GT_OK) st = gt_st_set_meta(&s, "model", model);
    if (st == GT_OK) st = gt_st_save(&s, path);
    gt_st_free(&s);
    return st;
}

gt_status gt_anycost_encoder_load(const gt_model_config *c, const char *path, gt_anycost_encoder **out) {
    if (out) *out = NULL;
    if (!c || !path || !out) return gt_set_error(GT_ERR_ARG, "gt_anycost_encoder_load: c, path or out is NULL");
    gt_safetensors s;
    gt_status st = gt__ac_file_open(&s, path, "anycost-encoder", "an anycost encoder",
                                    "gantry project --train-encoder");
    /* the generator it was trained for must be this one's architecture */
    char want[64];
    const char *common[] = {"res", "channels", "nz"};
    const int cv[] = {c->res, c->channels, c->nz};
    for (int i = 0; i < 3 + GT__ENC_NKEYS && st == GT_OK; i++) {
        const char *key = i < 3 ? common[i] : gt__enc_keys[i - 3];
        if (i < 3) snprintf(want, sizeof want, "%d", cv[i]);
        else gt_model_opt_text(c, key, want, sizeof want);
        const char *have = gt_st_get_meta(&s, key);
        if (!have || strcmp(have, want) != 0) {
            const char *mdl = gt_st_get_meta(&s, "model");
            st = gt_set_error(GT_ERR_FORMAT, "%s: the encoder was trained for a generator with %s %s (%s); this "
                              "generator has %s %s: train one for it (gantry project --train-encoder N)", path, key,
                              have ? have : "(not recorded)", mdl ? mdl : "?", key, want);
        }
    }
    gt_anycost_encoder *e = NULL;
    if (st == GT_OK) st = gt__enc_build(c, 0, &e);
    if (st == GT_OK) st = gt_st_load_params(&s, "", &e->P, true, true);
    gt_st_free(&s);
    if (st != GT_OK) {
        gt_anycost_encoder_free(e);
        return st;
    }
    *out = e;
    return GT_OK;
}
