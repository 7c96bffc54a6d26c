/* The model registry (name -> constructors) and the gt_net helpers that every
 * model shares: checked forward, free, parameter counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/anycost.h"
#include "gantry/compress.h"
#include "gantry/models.h"
#include "../internal.h"

#define GT__MODELS_MAX 32

/* The families: a new one is its file and one row here (and its extern in models.h). */
static const gt_model_entry *gt__models[GT__MODELS_MAX] = {
    &gt_model_dcgan,
    &gt_model_acgan,
    &gt_model_infogan,
    &gt_model_began,
    &gt_model_ebgan,
    &gt_model_sngan,
    &gt_model_sagan,
    &gt_model_cgan,
    &gt_model_biggan,
    &gt_model_r3gan,
    &gt_model_anycost,
    &gt_model_pix2pix,
};
static int gt__nmodels = -1; /* the rows above, counted at first use; then registrations */

static void gt__count(void) {
    if (gt__nmodels >= 0) return;
    gt__nmodels = 0;
    while (gt__nmodels < GT__MODELS_MAX && gt__models[gt__nmodels]) gt__nmodels++;
}

const char *gt_model_names(char *buf, size_t n) {
    gt__count();
    if (!buf || !n) return buf;
    buf[0] = '\0';
    size_t k = 0;
    for (int i = 0; i < gt__nmodels && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", gt__models[i]->name);
    return buf;
}

const gt_model_entry *gt_model_find(const char *name) {
    gt__count();
    for (int i = 0; name && i < gt__nmodels; i++)
        if (strcmp(gt__models[i]->name, name) == 0) return gt__models[i];
    char known[512];
    gt_set_error(GT_ERR_ARG, "unknown model '%s' (known: %s)", name ? name : "(null)",
                 gt_model_names(known, sizeof known));
    return NULL;
}

const gt_model_entry *gt_model_at(int i) {
    gt__count();
    return i >= 0 && i < gt__nmodels ? gt__models[i] : NULL;
}

gt_status gt_model_register(const gt_model_entry *e) {
    gt__count();
    if (!e || !e->name || !e->defaults || !e->check || !e->build)
        return gt_set_error(GT_ERR_ARG, "gt_model_register: entry or one of its functions is NULL");
    if (strlen(e->name) >= GT_MODEL_NAME_MAX)
        return gt_set_error(GT_ERR_ARG, "gt_model_register: name '%s' longer than %d", e->name, GT_MODEL_NAME_MAX - 1);
    for (int i = 0; i < gt__nmodels; i++)
        if (strcmp(gt__models[i]->name, e->name) == 0)
            return gt_set_error(GT_ERR_ARG, "gt_model_register: a model named '%s' exists", e->name);
    if (gt__nmodels == GT__MODELS_MAX) return gt_set_error(GT_ERR_ARG, "gt_model_register: registry full");
    gt__models[gt__nmodels++] = e;
    return GT_OK;
}

static const char *const gt__norm_names[GT_NORM_COUNT] = {"default", "batch", "layer", "none"};

const char *gt_norm_name(int k) { return k >= 0 && k < GT_NORM_COUNT ? gt__norm_names[k] : "?"; }

int gt_norm_parse(const char *s) {
    for (int k = 0; s && k < GT_NORM_COUNT; k++)
        if (strcmp(s, gt__norm_names[k]) == 0) return k;
    return -1;
}

/* --- a family's options ------------------------------------------------------------------- */
static const gt_model_entry *gt__family(const gt_model_config *c) {
    gt__count();
    for (int i = 0; c && i < gt__nmodels; i++)
        if (strcmp(gt__models[i]->name, c->name) == 0) return gt__models[i];
    return NULL;
}

static const char *gt__opt_names(const gt_model_entry *e, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < e->n_opts && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", e->opts[i].key);
    if (!e->n_opts) snprintf(buf, n, "none");
    return buf;
}

const gt_model_opt_def *gt_model_opt_def_find(const gt_model_config *c, const char *key) {
    const gt_model_entry *e = gt__family(c);
    if (!e) {
        gt_set_error(GT_ERR_ARG, "unknown model '%s'", c ? c->name : "(null)");
        return NULL;
    }
    for (int i = 0; key && i < e->n_opts; i++)
        if (strcmp(e->opts[i].key, key) == 0) return &e->opts[i];
    char known[512];
    gt_set_error(GT_ERR_ARG, "model %s has no option '%s' (its options: %s)", e->name, key ? key : "(null)",
                 gt__opt_names(e, known, sizeof known));
    return NULL;
}

static int gt__opt_slot(const gt_model_config *c, const char *key) {
    for (int i = 0; i < c->n_opt; i++)
        if (strcmp(c->opt_key[i], key) == 0) return i;
    return -1;
}

double gt_model_opt(const gt_model_config *c, const char *key) {
    const gt_model_entry *e = gt__family(c);
    for (int i = 0; e && key && i < e->n_opts; i++)
        if (strcmp(e->opts[i].key, key) == 0) {
            int k = gt__opt_slot(c, key);
            return k >= 0 ? c->opt_val[k] : e->opts[i].def;
        }
    return NAN;
}

static int gt__n_choices(const gt_model_opt_def *d) {
    int n = 0;
    while (d->choices && d->choices[n]) n++;
    return n;
}

static const char *gt__choices(const gt_model_opt_def *d, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; d->choices && d->choices[i] && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", d->choices[i]);
    return buf;
}

gt_status gt_model_opt_set(gt_model_config *c, const char *key, double v) {
    const gt_model_opt_def *d = gt_model_opt_def_find(c, key);
    if (!d) return gt_last_status();
    char buf[256];
    switch (d->type) {
    case GT_OPT_ENUM:
        if (!(v >= 0 && v < gt__n_choices(d) && v == floor(v)))
            return gt_set_error(GT_ERR_ARG, "model.%s must be one of %s", key, gt__choices(d, buf, sizeof buf));
        break;
    case GT_OPT_BOOL:
        if (v != 0 && v != 1) return gt_set_error(GT_ERR_ARG, "model.%s must be true or false", key);
        break;
    case GT_OPT_INT:
        if (!(v == floor(v) && v >= d->min && v <= d->max))
            return gt_set_error(GT_ERR_ARG, "model.%s must be an integer in %g..%g, got %g", key, d->min, d->max, v);
        break;
    case GT_OPT_FLOAT:
        if (!(v >= d->min && v <= d->max))
            return gt_set_error(GT_ERR_ARG, "model.%s must be in [%g, %g], got %g", key, d->min, d->max, v);
        break;
    }
    int k = gt__opt_slot(c, key);
    if (k < 0) {
        if (c->n_opt >= GT_MODEL_OPTS_MAX || strlen(key) >= GT_MODEL_OPT_KEY_MAX)
            return gt_set_error(GT_ERR_ARG, "model.%s: too many options set", key);
        k = c->n_opt++;
        snprintf(c->opt_key[k], GT_MODEL_OPT_KEY_MAX, "%s", key);
    }
    c->opt_val[k] = v;
    return GT_OK;
}

gt_status gt_model_opt_parse(gt_model_config *c, const char *key, const char *text) {
    const gt_model_opt_def *d = gt_model_opt_def_find(c, key);
    if (!d) return gt_last_status();
    if (!text) return gt_set_error(GT_ERR_ARG, "model.%s: no value", key);
    char buf[256];
    if (d->type == GT_OPT_ENUM) {
        for (int i = 0; d->choices && d->choices[i]; i++)
            if (strcmp(d->choices[i], text) == 0) return gt_model_opt_set(c, key, i);
        return gt_set_error(GT_ERR_ARG, "model.%s must be one of %s, got '%s'", key, gt__choices(d, buf, sizeof buf),
                            text);
    }
    if (d->type == GT_OPT_BOOL) {
        if (!strcmp(text, "true") || !strcmp(text, "1")) return gt_model_opt_set(c, key, 1);
        if (!strcmp(text, "false") || !strcmp(text, "0")) return gt_model_opt_set(c, key, 0);
        return gt_set_error(GT_ERR_ARG, "model.%s must be true or false, got '%s'", key, text);
    }
    char *end = NULL;
    double v = strtod(text, &end);
    if (!text[0] || !end || *end || !isfinite(v))
        return gt_set_error(GT_ERR_ARG, "model.%s must be a number, got '%s'", key, text);
    return gt_model_opt_set(c, key, v);
}

gt_status gt_model_opts_parse_list(gt_model_config *c, const char *list) {
    if (!list) return GT_OK;
    char item[256];
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n >= sizeof item) return gt_set_error(GT_ERR_ARG, "model option '%.40s...' is too long", p);
        memcpy(item, p, n);
        item[n] = '\0';
        char *eq = strchr(item, '=');
        if (!eq || eq == item) return gt_set_error(GT_ERR_ARG, "model options are KEY=VALUE, got '%s'", item);
        *eq = '\0';
        gt_status st = gt_model_opt_parse(c, item, eq + 1);
        if (st != GT_OK) return st;
        p += n + (e ? 1 : 0);
    }
    return GT_OK;
}

const char *gt_model_opt_text(const gt_model_config *c, const char *key, char *buf, size_t n) {
    const gt_model_opt_def *d = gt_model_opt_def_find(c, key);
    double v = gt_model_opt(c, key);
    if (!d) snprintf(buf, n, "?");
    else if (d->type == GT_OPT_ENUM) snprintf(buf, n, "%s", v >= 0 && v < gt__n_choices(d) ? d->choices[(int)v] : "?");
    else if (d->type == GT_OPT_BOOL) snprintf(buf, n, "%s", v != 0 ? "true" : "false");
    else snprintf(buf, n, "%.17g", v);
    return buf;
}

bool gt_model_config_same(const gt_model_config *a, const gt_model_config *b) {
    if (strcmp(a->name, b->name) || a->res != b->res || a->channels != b->channels || a->nz != b->nz ||
        a->n_classes != b->n_classes)
        return false;
    const gt_model_entry *e = gt__family(a);
    for (int i = 0; e && i < e->n_opts; i++)
        if (gt_model_opt(a, e->opts[i].key) != gt_model_opt(b, e->opts[i].key)) return false;
    return true;
}

gt_model_config gt_model_config_default(const char *name) {
    gt_model_config c;
    memset(&c, 0, sizeof c);
    const gt_model_entry *e = gt_model_find(name);
    if (!e) return c;
    snprintf(c.name, sizeof c.name, "%s", e->name);
    e->defaults(&c);
    return c;
}

gt_status gt_model_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_model_build: out is NULL");
    memset(out, 0, sizeof *out);
    gt_params_init(&out->P);
    if (!c || !r) return gt_set_error(GT_ERR_ARG, "gt_model_build: config or rng is NULL");
    const gt_model_entry *e = gt_model_find(c->name);
    if (!e) return gt_last_status();
    out->cfg = *c;
    e->defaults(&out->cfg);
    out->kind = kind;
    gt_status st = e->check(&out->cfg);
    if (st == GT_OK && !e->conditional && out->cfg.n_classes != 0)
        st = gt_set_error(GT_ERR_ARG, "model %s is unconditional: n_classes must be 0, got %d", e->name,
                          out->cfg.n_classes);
    if (st == GT_OK && e->conditional && out->cfg.n_classes < 1)
        st = gt_set_error(GT_ERR_ARG, "model %s is conditional: n_classes must be at least 1 (from the data's labels)",
                          e->name);
    if (st == GT_OK) {
        int m = gt_scope_begin();
        st = e->build(&out->cfg, kind, r, out);
        gt_scope_end(m);
    }
    if (st != GT_OK) {
        gt_status keep = gt_last_status();
        char msg[512];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_net_free(out);
        gt_params_init(&out->P);
        gt_set_error(keep ? keep : st, "%s", msg);
    }
    return st;
}

gt_tensor *gt_labels_cycle(int64_t n, int classes) {
    gt_tensor *y = n > 0 && classes > 0 ? gt_empty_i32(1, (int64_t[]){n}) : NULL;
    if (!y) return NULL;
    int32_t *p = gt_data_i32(y);
    for (int64_t i = 0; i < n; i++) p[i] = (int32_t)(i % classes);
    return y;
}

gt_tensor *gt_labels_random(gt_rng *r, int64_t n, int classes) {
    gt_tensor *y = r && n > 0 && classes > 0 ? gt_empty_i32(1, (int64_t[]){n}) : NULL;
    if (!y) return NULL;
    int32_t *p = gt_data_i32(y);
    for (int64_t i = 0; i < n; i++) p[i] = (int32_t)(((uint64_t)gt_rng_u32(r) * (uint64_t)classes) >> 32);
    return y;
}

gt_tensor *gt_net_forward_y(gt_net *n, gt_tensor *x, gt_tensor *y, gt_bn_mode mode) {
    if (!n || !n->ops) {
        gt_set_error(GT_ERR_STATE, "gt_net_forward: network not built");
        return NULL;
    }
    if (!x) return NULL;
    const gt_model_config *c = &n->cfg;
    char s[96];
    const gt_model_entry *fam = gt__family(c);
    if (fam && fam->translator) {
        const int want = n->kind == GT_NET_G ? c->channels : 2 * c->channels;
        if (x->ndim != 4 || x->shape[0] < 1 || x->shape[1] != want || x->shape[2] != c->res || x->shape[3] != c->res) {
            gt_set_error(GT_ERR_SHAPE, "%s of translator %s: images must be (N, %d, %d, %d)%s, got %s",
                         n->kind == GT_NET_G ? "generator" : "discriminator", c->name, want, c->res, c->res,
                         n->kind == GT_NET_G ? "" : " (input and output concatenated)", gt_shape_str(x, s, sizeof s));
            return NULL;
        }
    } else if (n->kind == GT_NET_G) {
        bool ok = (x->ndim == 2 && x->shape[1] == c->nz) ||
                  (x->ndim == 4 && x->shape[1] == c->nz && x->shape[2] == 1 && x->shape[3] == 1);
        if (!ok || x->shape[0] < 1) {
            gt_set_error(GT_ERR_SHAPE, "generator: latents must be (N, %d), got %s", c->nz,
                         gt_shape_str(x, s, sizeof s));
            return NULL;
        }
    } else if (x->ndim != 4 || x->shape[0] < 1 || x->shape[1] != c->channels || x->shape[2] != c->res ||
               x->shape[3] != c->res) {
        gt_set_error(GT_ERR_SHAPE, "discriminator: images must be (N, %d, %d, %d), got %s", c->channels, c->res, c->res,
                     gt_shape_str(x, s, sizeof s));
        return NULL;
    }
    if (c->n_classes == 0 && y) {
        gt_set_error(GT_ERR_ARG, "model %s is unconditional: it takes no class labels", c->name);
        return NULL;
    }
    if (c->n_classes > 0) {
        if (!y && n->kind == GT_NET_D) {
            gt_set_error(GT_ERR_ARG, "the discriminator of conditional model %s needs the class labels", c->name);
            return NULL;
        }
        if (!y) y = gt_labels_cycle(x->shape[0], c->n_classes);
        if (!y) return NULL;
        if (y->dtype != GT_I32 || y->ndim != 1 || y->shape[0] != x->shape[0]) {
            gt_set_error(GT_ERR_SHAPE, "labels must be (%lld) int32, got %s", (long long)x->shape[0],
                         gt_shape_str(y, s, sizeof s));
            return NULL;
        }
        const int32_t *p = gt_data_i32(gt_contiguous(y));
        for (int64_t i = 0; p && i < y->shape[0]; i++)
            if (p[i] < 0 || p[i] >= c->n_classes) {
                gt_set_error(GT_ERR_ARG, "label %d outside the model's classes 0..%d", p[i], c->n_classes - 1);
                return NULL;
            }
    }
    n->aux = NULL;
    n->n_taps = 0;
    /* The forward runs in a scope of its own: what it keeps past it (the output, aux, the taps) is handed to
     * the caller's scope, and the intermediates are then owned only by the graph's nodes, so a backward frees
     * each activation once it has passed it (src/autograd/engine.c), as PyTorch does, instead of the caller's
     * scope holding every activation until the step ends. Without grad the intermediates die here. */
    int mk = gt_scope_begin();
    gt_tensor *keep[2 + GT_NET_TAPS_MAX] = {n->ops->forward(n, x, y, mode)};
    keep[1] = n->aux; /* set by the forward: not in the initializer, whose order is unspecified */
    for (int i = 0; i < n->n_taps; i++) keep[2 + i] = n->taps[i];
    gt__scope_end_keep(mk, keep, 2 + n->n_taps);
    return keep[0];
}

void gt_net_tap(gt_net *n, gt_tensor *h) {
    if (n && n->tap_on && h && n->n_taps < GT_NET_TAPS_MAX) n->taps[n->n_taps++] = h;
}

gt_tensor *gt_model_sample_latents(const gt_model_config *c, gt_rng *r, int64_t n) {
    const gt_model_entry *e = c ? gt_model_find(c->name) : NULL;
    if (!e || !r || n < 1) return (gt_set_error(GT_ERR_ARG, "gt_model_sample_latents: bad arguments"), NULL);
    return e->sample_latents ? e->sample_latents(c, r, n) : gt_randn(r, GT_SHAPE(n, c->nz));
}

gt_tensor *gt_net_forward(gt_net *n, gt_tensor *x, gt_bn_mode mode) { return gt_net_forward_y(n, x, NULL, mode); }

void gt_net_set_bn_momentum(gt_net *n, float momentum) {
    if (n && n->ops && n->ops->set_bn_momentum) n->ops->set_bn_momentum(n, momentum);
}

void gt_net_free(gt_net *n) {
    if (!n) return;
    if (n->ops && n->ops->free_impl) n->ops->free_impl(n);
    gt_params_free(&n->P);
    n->ops = NULL;
    n->impl = NULL;
}

int64_t gt_net_num_params(const gt_net *n) {
    return n ? gt_params_numel_trainable(&n->P) : 0;
}

void gt_net_requires_grad(gt_net *n, bool on) {
    if (!n) return;
    for (int i = 0; i < n->P.n; i++)
        if (!n->P.v[i].is_buffer) gt_set_requires_grad(n->P.v[i].t, on);
}
