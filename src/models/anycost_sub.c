/* Anycost sub-generators: configs (uniform, parse, text, check), their channels, the
 * G-conditioned D's arch code, MACs and parameters, and the channel sorting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anycost_internal.h"

const float gt_anycost_ratios[GT_AC_NRATIOS] = {0.25f, 0.5f, 0.75f, 1.0f};

gt_anycost_sub gt_anycost_uniform(float ratio, int res) {
    gt_anycost_sub s;
    memset(&s, 0, sizeof s);
    s.res = res;
    for (int i = 0; i < GT_AC_MAX_CONVS; i++) s.ratio[i] = ratio;
    return s;
}

int gt_anycost_n_convs(const gt_model_config *c) {
    const int l = c ? gt__ac_level_of(c->res) : -1;
    return l < 0 ? 0 : 2 * l + 1;
}

int gt_anycost_conv_channels(const gt_model_config *c, int conv) {
    if (!c || conv < 0 || conv >= gt_anycost_n_convs(c)) return 0;
    int R, L, C[GT__AC_MAX_LEVELS];
    gt__ac_dims(c, &R, &L, C);
    return C[gt__ac_conv_level(conv)];
}

static float gt__ac_ratio(const gt_anycost_sub *s, int conv) {
    const float r = s && conv >= 0 && conv < GT_AC_MAX_CONVS ? s->ratio[conv] : 0.0f;
    return r == 0.0f ? 1.0f : r;
}

int gt_anycost_sub_channels(const gt_model_config *c, const gt_anycost_sub *s, int conv) {
    const int C = gt_anycost_conv_channels(c, conv);
    const int k = (int)lroundf((float)C * gt__ac_ratio(s, conv));
    return k < 1 ? 1 : (k > C ? C : k);
}

int gt_anycost_sub_convs(const gt_model_config *c, const gt_anycost_sub *s) {
    const int l = gt__ac_level_of(gt__ac_sub_res(c, s));
    return l < 0 ? 0 : 2 * l + 1;
}

static int gt__ac_ratio_index(float r) {
    for (int j = 0; j < GT_AC_NRATIOS; j++)
        if (fabsf(r - gt_anycost_ratios[j]) < 1e-6f) return j;
    return -1;
}

gt_status gt_anycost_sub_check(const gt_model_config *c, const gt_anycost_sub *s) {
    if (!c || strcmp(c->name, "anycost") != 0)
        return gt_set_error(GT_ERR_ARG, "model '%s' is not an anycost model: sub-generators (--channels, --res) need "
                                        "an anycost checkpoint",
                            c ? c->name : "(null)");
    if (c->res != 32 && c->res != 64)
        return gt_set_error(GT_ERR_ARG, "anycost: resolution %d is not supported (use 32 or 64)", c->res);
    if (!s) return GT_OK;
    const int n = gt_anycost_n_convs(c);
    for (int i = 0; i < n; i++)
        if (s->ratio[i] != 0.0f && gt__ac_ratio_index(s->ratio[i]) < 0)
            return gt_set_error(GT_ERR_ARG,
                                "anycost: channel ratio %g (conv %d) is not one of the trained ratios 0.25, 0.5, "
                                "0.75, 1",
                                (double)s->ratio[i], i);
    const int r = s->res, l = gt__ac_level_of(r);
    if (r != 0 && (l < 1 || r > c->res)) {
        char lv[64];
        size_t k = 0;
        lv[0] = '\0';
        for (int x = 8; x <= c->res && k < sizeof lv; x *= 2) k += (size_t)snprintf(lv + k, sizeof lv - k, "%s%d", x > 8 ? ", " : "", x);
        return gt_set_error(GT_ERR_ARG, "anycost: resolution %d is not one of the model's resolutions (%s)", r, lv);
    }
    return GT_OK;
}

gt_status gt_anycost_sub_parse(const gt_model_config *c, const char *channels, int res, gt_anycost_sub *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_anycost_sub_parse: out is NULL");
    gt_anycost_sub s = gt_anycost_uniform(0.0f, res);
    const int n = gt_anycost_n_convs(c);
    if (channels && *channels) {
        int cnt = 0;
        const char *p = channels;
        float v[GT_AC_MAX_CONVS + 1];
        for (;;) {
            char *end = NULL;
            const double x = strtod(p, &end);
            if (end == p || !isfinite(x))
                return gt_set_error(GT_ERR_ARG, "anycost: --channels '%s' is not a ratio or a comma-separated list of "
                                                "ratios",
                                    channels);
            if (cnt <= GT_AC_MAX_CONVS) v[cnt] = (float)x;
            cnt++;
            if (*end == ',') p = end + 1;
            else if (*end == '\0') break;
            else
                return gt_set_error(GT_ERR_ARG, "anycost: --channels '%s': unexpected '%c'", channels, *end);
        }
        if (cnt == 1)
            s = gt_anycost_uniform(v[0], res);
        else if (cnt != n)
            return gt_set_error(GT_ERR_ARG, "anycost: --channels has %d ratios; the model has %d convolutions (give one "
                                            "ratio, or one per conv)",
                                cnt, n);
        else
            for (int i = 0; i < n; i++) s.ratio[i] = v[i];
        for (int i = 0; i < cnt && i < n; i++)
            if (!(s.ratio[i] > 0))
                return gt_set_error(GT_ERR_ARG, "anycost: channel ratio %g is not one of the trained ratios 0.25, 0.5, "
                                                "0.75, 1",
                                    (double)s.ratio[i]);
    }
    gt_status st = gt_anycost_sub_check(c, &s);
    if (st == GT_OK) *out = s;
    return st;
}

const char *gt_anycost_sub_text(const gt_model_config *c, const gt_anycost_sub *s, char *buf, size_t n) {
    if (!buf || !n) return buf;
    const int nc = gt_anycost_n_convs(c);
    bool uni = true;
    for (int i = 1; i < nc; i++) uni = uni && gt__ac_ratio(s, i) == gt__ac_ratio(s, 0);
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < (uni ? 1 : nc) && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%g", i ? "," : "", (double)gt__ac_ratio(s, i));
    if (k < n) snprintf(buf + k, n - k, "@%d", c ? gt__ac_sub_res(c, s) : 0);
    return buf;
}

void gt_anycost_arch_code(const gt_model_config *c, const gt_anycost_sub *s, float *out) {
    const int n = gt_anycost_n_convs(c), run = gt_anycost_sub_convs(c, s);
    for (int i = 0; i < n; i++) {
        int j = i < run ? gt__ac_ratio_index(gt__ac_ratio(s, i)) : GT_AC_NRATIOS - 1;
        if (j < 0) j = GT_AC_NRATIOS - 1;
        for (int q = 0; q < GT_AC_NRATIOS; q++) out[i * GT_AC_NRATIOS + q] = q == j ? 1.0f : 0.0f;
    }
}

/* Both costs in one walk: macs (per image) or params. */
static int64_t gt__ac_cost(const gt_model_config *c, const gt_anycost_sub *s, bool macs) {
    if (!c || gt__ac_level_of(c->res) < 1) return 0;
    const int64_t wd = (int64_t)gt_model_opt(c, "w_dim"), nm = (int64_t)gt_model_opt(c, "n_mlp"), nz = c->nz,
                  ch = c->channels;
    int64_t t = macs ? nz * wd + (nm - 1) * wd * wd : nz * wd + wd + (nm - 1) * (wd * wd + wd);
    const int run = gt_anycost_sub_convs(c, s);
    int64_t kp = gt_anycost_conv_channels(c, 0); /* conv 0 reads the whole constant */
    if (!macs) t += kp * 16;
    for (int i = 0; i < run; i++) {
        const int64_t k = gt_anycost_sub_channels(c, s, i), side = 4 << gt__ac_conv_level(i), hw = side * side;
        /* style affine, the 3x3 conv, the demodulation's (s^2 @ Wsq^T) */
        t += macs ? wd * kp + k * kp * 9 * hw + kp * k : k * kp * 9 + wd * kp + kp + 1 + k;
        kp = k;
        if (i % 2 == 0) /* the level's last conv: its torgb */
            t += macs ? wd * k + ch * k * hw : ch * k + wd * k + k + ch;
    }
    return t;
}

int64_t gt_anycost_macs(const gt_model_config *c, const gt_anycost_sub *s) { return gt__ac_cost(c, s, true); }
int64_t gt_anycost_params(const gt_model_config *c, const gt_anycost_sub *s) { return gt__ac_cost(c, s, false); }

/* --- channel sorting ------------------------------------------------------------------------- */
/* The modulations that read conv i's output: conv i+1 and, for a level's last conv, its torgb. */
static int gt__ac_consumers(gt__ac_g *g, int i, gt__ac_mconv **out) {
    int n = 0;
    if (i + 1 < g->n_convs) out[n++] = &g->conv[i + 1];
    if (i % 2 == 0) out[n++] = &g->torgb[i / 2];
    return n;
}

gt_status gt__ac_channel_importance(gt_net *G, uint64_t seed, int conv, float *imp) {
    if (!G || G->ops != &gt__ac_g_ops) return gt_set_error(GT_ERR_ARG, "anycost: not an anycost generator");
    gt__ac_g *g = G->impl;
    if (conv < 0 || conv >= g->n_convs) return gt_set_error(GT_ERR_ARG, "anycost: no conv %d", conv);
    const int C = g->conv[conv].c_out;
    const bool prev = gt_no_grad_begin();
    const int mk = gt_scope_begin();
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_tensor *w = gt_anycost_mapping(G, gt_randn(&r, GT_SHAPE(256, g->nz)));
    gt__ac_mconv *cons[2];
    const int nc = gt__ac_consumers(g, conv, cons);
    for (int j = 0; j < C; j++) imp[j] = 0.0f;
    gt_status st = w ? GT_OK : gt_last_status();
    for (int q = 0; q < nc && st == GT_OK; q++) {
        gt__ac_mconv *m = cons[q];
        gt_tensor *s = gt_add(gt_mul_scalar(gt_linear(w, m->mod_w, NULL), 1.0f / sqrtf((float)g->w_dim)), m->mod_b);
        gt_tensor *ms = gt_contiguous(gt_mean(gt_abs(s), 1, (const int[]){0}, false)); // (C)
        if (!ms) {
            st = gt_last_status();
            break;
        }
        const float *sv = gt_data(ms), *W = gt_data(m->weight);
        const int64_t kk = (int64_t)m->k * m->k;
        for (int j = 0; j < C; j++) {
            double l1 = 0;
            for (int o = 0; o < m->c_out; o++)
                for (int64_t t = 0; t < kk; t++) l1 += fabsf(W[((int64_t)o * m->c_in + j) * kk + t]);
            imp[j] += (float)(l1 * sv[j]);
        }
    }
    gt_scope_end(mk);
    gt_grad_mode_restore(prev);
    return st;
}

/* t viewed as (outer, n, inner) with n along dim: entry j of the result = entry perm[j] before. */
static gt_status gt__ac_permute(gt_tensor *t, int dim, const int *perm, int n) {
    if (!t || t->shape[dim] != n || !gt_is_contiguous(t))
        return gt_set_error(GT_ERR_STATE, "anycost sort: unexpected parameter layout");
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < dim; d++) outer *= t->shape[d];
    for (int d = dim + 1; d < t->ndim; d++) inner *= t->shape[d];
    float *p = gt_data(t), *tmp = malloc(sizeof(float) * (size_t)(n * inner));
    if (!tmp) return gt_set_error(GT_ERR_OOM, "anycost sort: out of memory");
    for (int64_t a = 0; a < outer; a++) {
        float *blk = p + a * n * inner;
        for (int j = 0; j < n; j++) memcpy(tmp + j * inner, blk + (int64_t)perm[j] * inner, sizeof(float) * inner);
        memcpy(blk, tmp, sizeof(float) * (size_t)(n * inner));
    }
    free(tmp);
    return GT_OK;
}

static gt_status gt__ac_apply_perm(gt_net *G, int conv, const int *perm) {
    gt__ac_g *g = G->impl;
    gt__ac_mconv *m = &g->conv[conv], *cons[2];
    const int C = m->c_out, nc = gt__ac_consumers(g, conv, cons);
    gt_status st = gt__ac_permute(m->weight, 0, perm, C);
    if (st == GT_OK) st = gt__ac_permute(m->bias, 0, perm, C);
    for (int q = 0; q < nc && st == GT_OK; q++) {
        st = gt__ac_permute(cons[q]->weight, 1, perm, C);
        if (st == GT_OK) st = gt__ac_permute(cons[q]->mod_w, 0, perm, C);
        if (st == GT_OK) st = gt__ac_permute(cons[q]->mod_b, 0, perm, C);
    }
    return st;
}

/* Indices 0..n-1 by decreasing key (ties: lower index first); insertion sort, n <= GT__AC_MAX_CH. */
static void gt__ac_argsort_desc(const float *key, int *idx, int n) {
    for (int j = 0; j < n; j++) {
        int q = j;
        while (q > 0 && key[idx[q - 1]] < key[j]) {
            idx[q] = idx[q - 1];
            q--;
        }
        idx[q] = j;
    }
}

gt_status gt_anycost_sort_channels(gt_net *G, gt_net *also, uint64_t seed) {
    if (!G || G->ops != &gt__ac_g_ops)
        return gt_set_error(GT_ERR_ARG, "gt_anycost_sort_channels: not an anycost generator");
    if (also == G) also = NULL;
    if (also && (also->ops != &gt__ac_g_ops || !gt_model_config_same(&G->cfg, &also->cfg)))
        return gt_set_error(GT_ERR_ARG, "gt_anycost_sort_channels: the second generator has another config");
    gt__ac_g *g = G->impl;
    int(*perms)[GT__AC_MAX_CH] = malloc(sizeof(int) * GT_AC_MAX_CONVS * GT__AC_MAX_CH);
    float *imp = malloc(sizeof(float) * GT__AC_MAX_CH);
    gt_status st = perms && imp ? GT_OK : gt_set_error(GT_ERR_OOM, "anycost sort: out of memory");
    /* every key from the unsorted weights (conv i's key reads only its consumers' columns i) */
    for (int i = 0; i < g->n_convs && st == GT_OK; i++) {
        st = gt__ac_channel_importance(G, seed, i, imp);
        if (st == GT_OK) gt__ac_argsort_desc(imp, perms[i], g->conv[i].c_out);
    }
    for (int i = 0; i < g->n_convs && st == GT_OK; i++) {
        st = gt__ac_apply_perm(G, i, perms[i]);
        if (st == GT_OK && also) st = gt__ac_apply_perm(also, i, perms[i]);
    }
    free(perms);
    free(imp);
    return st;
}
