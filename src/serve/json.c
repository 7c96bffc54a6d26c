/* The lab server's JSON: CONFIG read strictly from request bodies (unknown field, wrong type,
 * out of range: 400 naming the field) and written back; FRAME and the options. */
#include <cjson/cJSON.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_internal.h"

/* ---- numbers out ------------------------------------------------------------------------------ */

void gt__num(gt_buf *b, double v) {
    if (!isfinite(v)) {
        gt__buf_add(b, "null", 4);
        return;
    }
    gt__buf_reserve(b, 32);
    if (b->oom) return;
    int k = snprintf(b->p + b->n, 32, "%.5g", v);
    if (k > 0 && k < 32) b->n += (size_t)k;
}

/* A float that reads back as itself, in the fewest digits (configs go back and forth). */
static void gt__num_float(gt_buf *b, float v) {
    if (!isfinite(v)) {
        gt__buf_add(b, "null", 4);
        return;
    }
    char s[40];
    for (int d = 6; d <= 9; d++) {
        snprintf(s, sizeof s, "%.*g", d, (double)v);
        if ((float)strtod(s, NULL) == v) break;
    }
    gt__buf_puts(b, s);
}

static void gt__pairs(gt_buf *b, const float (*p)[2], int n) {
    gt__buf_add(b, "[", 1);
    for (int i = 0; i < n; i++) {
        gt__buf_add(b, i ? ",[" : "[", i ? 2 : 1);
        gt__num(b, p[i][0]);
        gt__buf_add(b, ",", 1);
        gt__num(b, p[i][1]);
        gt__buf_add(b, "]", 1);
    }
    gt__buf_add(b, "]", 1);
}

/* ---- CONFIG out -------------------------------------------------------------------------------- */

void gt__config_to_json(gt_buf *b, const gt_lab_config *c) {
    gt__buf_printf(b, "{\"data\":\"%s\",\"drawn\":[", gt_lab_data_name(c->data));
    for (int i = 0; i < c->n_drawn; i++) {
        gt__buf_add(b, i ? ",[" : "[", i ? 2 : 1);
        gt__num_float(b, c->drawn[i][0]);
        gt__buf_add(b, ",", 1);
        gt__num_float(b, c->drawn[i][1]);
        gt__buf_add(b, "]", 1);
    }
    gt__buf_printf(b, "],\"noise_dim\":%d,\"noise\":\"%s\",\"g_layers\":%d,\"g_neurons\":%d,\"d_layers\":%d,"
                      "\"d_neurons\":%d,\"loss\":\"%s\",\"gp\":",
                   c->noise_dim, gt_lab_noise_name(c->noise), c->g_layers, c->g_neurons, c->d_layers, c->d_neurons,
                   gt_lab_loss_name(c->loss));
    gt__num_float(b, c->gp);
    gt__buf_puts(b, ",\"r1\":");
    gt__num_float(b, c->r1);
    gt__buf_printf(b, ",\"optim\":\"%s\",\"lr_g\":", gt_lab_optim_name(c->optim));
    gt__num_float(b, c->lr_g);
    gt__buf_puts(b, ",\"lr_d\":");
    gt__num_float(b, c->lr_d);
    gt__buf_printf(b, ",\"d_steps\":%d,\"g_steps\":%d,\"batch\":%d,\"seed\":%llu}", c->d_steps, c->g_steps, c->batch,
                   (unsigned long long)c->seed);
}

/* ---- FRAME out --------------------------------------------------------------------------------- */

void gt__frame_to_json(gt_buf *b, const gt_lab_frame *f) {
    int n = f->n < 0 ? 0 : f->n > GT_LAB_MAX_BATCH ? GT_LAB_MAX_BATCH : f->n;
    gt__buf_printf(b, "{\"epoch\":%lld,\"loss_d\":", (long long)f->epoch);
    gt__num(b, f->loss_d);
    gt__buf_puts(b, ",\"loss_g\":");
    gt__num(b, f->loss_g);
    gt__buf_puts(b, ",\"kl\":");
    gt__num(b, f->kl);
    gt__buf_puts(b, ",\"js\":");
    gt__num(b, f->js);
    gt__buf_puts(b, ",\"real\":");
    gt__pairs(b, (const float(*)[2])f->real, n);
    gt__buf_puts(b, ",\"fake\":");
    gt__pairs(b, (const float(*)[2])f->fake, n);
    gt__buf_puts(b, ",\"grad\":");
    gt__pairs(b, (const float(*)[2])f->grad, n);
    gt__buf_puts(b, ",\"heat\":[");
    for (int r = 0; r < GT_LAB_GRID; r++) {
        gt__buf_add(b, r ? ",[" : "[", r ? 2 : 1);
        for (int c = 0; c < GT_LAB_GRID; c++) {
            if (c) gt__buf_add(b, ",", 1);
            gt__num(b, f->heat[r][c]);
        }
        gt__buf_add(b, "]", 1);
    }
    int w = f->manifold_w, h = f->manifold_h;
    if (w < 0 || w > GT_LAB_MANIFOLD + 1) w = 0;
    if (h < 0 || h > GT_LAB_MANIFOLD + 1) h = 0;
    gt__buf_printf(b, "],\"manifold\":{\"w\":%d,\"h\":%d,\"points\":[", w, h);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            gt__buf_add(b, r || c ? ",[" : "[", r || c ? 2 : 1);
            gt__num(b, f->manifold[r][c][0]);
            gt__buf_add(b, ",", 1);
            gt__num(b, f->manifold[r][c][1]);
            gt__buf_add(b, "]", 1);
        }
    gt__buf_puts(b, "],\"density\":[");
    int dh = h > 1 ? h - 1 : h, dw = w > 0 ? w - 1 : 0; /* 1-D noise: one row of w - 1 cells */
    for (int r = 0; r < dh; r++)
        for (int c = 0; c < dw; c++) {
            if (r || c) gt__buf_add(b, ",", 1);
            gt__num(b, f->density[r][c]);
        }
    gt__buf_puts(b, "]}}");
}

/* ---- the options ------------------------------------------------------------------------------- */

static void gt__names(gt_buf *b, const char *key, const char *(*name)(int), int n) {
    gt__buf_printf(b, "\"%s\":[", key);
    for (int i = 0; i < n; i++) gt__buf_printf(b, "%s\"%s\"", i ? "," : "", name(i));
    gt__buf_puts(b, "],");
}
static const char *gt__data_n(int i) { return gt_lab_data_name((gt_lab_data)i); }
static const char *gt__loss_n(int i) { return gt_lab_loss_name((gt_lab_loss)i); }
static const char *gt__noise_n(int i) { return gt_lab_noise_name((gt_lab_noise)i); }
static const char *gt__optim_n(int i) { return gt_lab_optim_name((gt_lab_optim)i); }

void gt__options_json(char *out, size_t n) {
    gt_buf b = {0};
    gt__buf_puts(&b, "{");
    gt__names(&b, "data", gt__data_n, GT_LAB_DATA_COUNT);
    gt__names(&b, "loss", gt__loss_n, GT_LAB_LOSS_COUNT);
    gt__names(&b, "noise", gt__noise_n, 2);
    gt__names(&b, "optim", gt__optim_n, 2);
    gt__buf_printf(&b,
                   "\"limits\":{\"layers\":[0,%d],\"neurons\":[1,%d],\"lr\":[0,10],\"steps\":[0,10],\"batch\":[1,%d],"
                   "\"drawn\":%d},\"defaults\":",
                   GT_LAB_MAX_LAYERS, GT_LAB_MAX_NEURONS, GT_LAB_MAX_BATCH, GT_LAB_MAX_DRAWN);
    gt_lab_config d = gt_lab_config_default();
    gt__config_to_json(&b, &d);
    gt__buf_puts(&b, "}");
    snprintf(out, n, "%s", b.oom || !b.p ? "{}" : b.p);
    free(b.p);
}

/* ---- CONFIG in --------------------------------------------------------------------------------- */

typedef enum { GT__F_NAME, GT__F_INT, GT__F_FLOAT, GT__F_SEED, GT__F_DRAWN } gt__ftype;
typedef struct {
    const char *key;
    gt__ftype type;
    size_t off;
    int lo, hi;               /* ints: the range (for values too large for an int) */
    int (*parse)(const char *); /* names */
    const char *allowed;
} gt__field;

#define GT__OFF(f) offsetof(gt_lab_config, f)
static const gt__field gt__fields[] = {
    {"data", GT__F_NAME, GT__OFF(data), 0, 0, gt_lab_data_parse, "line, gaussians, ring, disjoint, drawn"},
    {"drawn", GT__F_DRAWN, GT__OFF(drawn), 0, 0, NULL, NULL},
    {"noise_dim", GT__F_INT, GT__OFF(noise_dim), 1, 2, NULL, NULL},
    {"noise", GT__F_NAME, GT__OFF(noise), 0, 0, gt_lab_noise_parse, "uniform, gaussian"},
    {"g_layers", GT__F_INT, GT__OFF(g_layers), 0, GT_LAB_MAX_LAYERS, NULL, NULL},
    {"g_neurons", GT__F_INT, GT__OFF(g_neurons), 1, GT_LAB_MAX_NEURONS, NULL, NULL},
    {"d_layers", GT__F_INT, GT__OFF(d_layers), 0, GT_LAB_MAX_LAYERS, NULL, NULL},
    {"d_neurons", GT__F_INT, GT__OFF(d_neurons), 1, GT_LAB_MAX_NEURONS, NULL, NULL},
    {"loss", GT__F_NAME, GT__OFF(loss), 0, 0, gt_lab_loss_parse, "log, ls, hinge, wgan-gp"},
    {"gp", GT__F_FLOAT, GT__OFF(gp), 0, 0, NULL, NULL},
    {"r1", GT__F_FLOAT, GT__OFF(r1), 0, 0, NULL, NULL},
    {"optim", GT__F_NAME, GT__OFF(optim), 0, 0, gt_lab_optim_parse, "sgd, adam"},
    {"lr_g", GT__F_FLOAT, GT__OFF(lr_g), 0, 0, NULL, NULL},
    {"lr_d", GT__F_FLOAT, GT__OFF(lr_d), 0, 0, NULL, NULL},
    {"d_steps", GT__F_INT, GT__OFF(d_steps), 0, 10, NULL, NULL},
    {"g_steps", GT__F_INT, GT__OFF(g_steps), 0, 10, NULL, NULL},
    {"batch", GT__F_INT, GT__OFF(batch), 1, GT_LAB_MAX_BATCH, NULL, NULL},
    {"seed", GT__F_SEED, GT__OFF(seed), 0, 0, NULL, NULL},
};
#define GT__N_FIELDS ((int)(sizeof gt__fields / sizeof gt__fields[0]))

static const char *gt__type_name(const cJSON *v) {
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    return "an object";
}

/* Values a body may hold before it is parsed at all: a config with 4096 drawn points has about
 * 3 * 4096 + 40 (so a 1 MiB array of points is refused before cJSON builds a node for each). */
#define GT__MAX_TOKENS 16384

/* 0 or 400 (message set): whether [p, p+n) is worth parsing. */
static int gt__prescan(const char *p, size_t n) {
    if (memchr(p, 0, n)) {
        gt_set_error(GT_ERR_FORMAT, "malformed JSON: the body holds a NUL byte");
        return 400;
    }
    size_t tokens = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (in_str) {
            if (ch == '\\') i++;
            else if (ch == '"') in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == ',' || ch == '[' || ch == '{') {
            if (++tokens > GT__MAX_TOKENS) {
                gt_set_error(GT_ERR_ARG, "the body holds more than %d values (a config has at most %d drawn points)",
                             GT__MAX_TOKENS, GT_LAB_MAX_DRAWN);
                return 400;
            }
        }
    }
    return 0;
}

struct cJSON *gt__json_parse(const char *body, size_t n, int *status) {
    *status = 400;
    if (gt__prescan(body, n)) return NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(body, n + 1, &end, 1); /* body[n] is the NUL */
    if (!j) {
        size_t at = end && end >= body && end <= body + n ? (size_t)(end - body) : 0;
        gt_set_error(GT_ERR_FORMAT, "malformed JSON at byte %zu", at);
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        gt_set_error(GT_ERR_FORMAT, "the body must be a JSON object, got %s", gt__type_name(j));
        cJSON_Delete(j);
        return NULL;
    }
    if (cJSON_GetArraySize(j) > 64) {
        gt_set_error(GT_ERR_ARG, "the body has %d fields, more than any request takes", cJSON_GetArraySize(j));
        cJSON_Delete(j);
        return NULL;
    }
    for (const cJSON *a = j->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (a->string && b->string && strcmp(a->string, b->string) == 0) {
                gt_set_error(GT_ERR_ARG, "field '%.40s' is given twice", a->string);
                cJSON_Delete(j);
                return NULL;
            }
    *status = 0;
    return j;
}

static int gt__bad(const char *fmt, const char *key, const char *what) {
    gt_set_error(GT_ERR_ARG, fmt, key, what);
    return 400;
}

static int gt__field_set(gt_lab_config *c, const gt__field *f, const cJSON *v) {
    char *dst = (char *)c + f->off;
    switch (f->type) {
    case GT__F_NAME: {
        if (!cJSON_IsString(v)) return gt__bad("%s must be a string, got %s", f->key, gt__type_name(v));
        int k = f->parse(v->valuestring);
        if (k < 0) {
            gt_set_error(GT_ERR_ARG, "%s must be one of %s, got '%.40s'", f->key, f->allowed, v->valuestring);
            return 400;
        }
        memcpy(dst, &k, sizeof k); /* the enums are int-sized */
        return 0;
    }
    case GT__F_INT: {
        if (!cJSON_IsNumber(v)) return gt__bad("%s must be an integer, got %s", f->key, gt__type_name(v));
        double d = v->valuedouble;
        if (!isfinite(d) || d < INT_MIN || d > INT_MAX) {
            gt_set_error(GT_ERR_ARG, "%s must be in %d..%d, got %g", f->key, f->lo, f->hi, d);
            return 400;
        }
        if (d != floor(d)) {
            gt_set_error(GT_ERR_ARG, "%s must be an integer, got %g", f->key, d);
            return 400;
        }
        int k = (int)d;
        memcpy(dst, &k, sizeof k);
        return 0;
    }
    case GT__F_FLOAT: {
        if (!cJSON_IsNumber(v)) return gt__bad("%s must be a number, got %s", f->key, gt__type_name(v));
        double d = v->valuedouble;
        if (!isfinite(d) || fabs(d) > FLT_MAX) {
            gt_set_error(GT_ERR_ARG, "%s must be a finite number, got %g", f->key, d);
            return 400;
        }
        float x = (float)d;
        memcpy(dst, &x, sizeof x);
        return 0;
    }
    case GT__F_SEED: {
        if (!cJSON_IsNumber(v)) return gt__bad("%s must be an integer, got %s", f->key, gt__type_name(v));
        double d = v->valuedouble;
        if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d)) {
            gt_set_error(GT_ERR_ARG, "seed must be an integer in 0..2^53, got %g", d);
            return 400;
        }
        c->seed = (uint64_t)d;
        return 0;
    }
    case GT__F_DRAWN: {
        if (!cJSON_IsArray(v)) return gt__bad("%s must be an array of [x, y] points, got %s", f->key, gt__type_name(v));
        int n = cJSON_GetArraySize(v);
        if (n > GT_LAB_MAX_DRAWN) {
            gt_set_error(GT_ERR_ARG, "drawn has %d points, at most %d are allowed", n, GT_LAB_MAX_DRAWN);
            return 400;
        }
        int i = 0;
        for (const cJSON *p = v->child; p; p = p->next, i++) {
            const cJSON *x = cJSON_IsArray(p) && cJSON_GetArraySize(p) == 2 ? p->child : NULL;
            const cJSON *y = x ? x->next : NULL;
            if (!x || !cJSON_IsNumber(x) || !cJSON_IsNumber(y) || !(x->valuedouble >= 0 && x->valuedouble <= 1) ||
                !(y->valuedouble >= 0 && y->valuedouble <= 1)) {
                gt_set_error(GT_ERR_ARG, "drawn[%d] must be a point [x, y] with x and y in [0, 1]", i);
                return 400;
            }
            c->drawn[i][0] = (float)x->valuedouble;
            c->drawn[i][1] = (float)y->valuedouble;
        }
        c->n_drawn = n;
        return 0;
    }
    }
    return 400;
}

int gt__config_from_json(gt_lab_config *c, const char *body, size_t n) {
    size_t k = 0;
    while (k < n && (body[k] == ' ' || body[k] == '\t' || body[k] == '\r' || body[k] == '\n')) k++;
    if (k == n) return 0; /* no body: nothing changes */
    int status;
    cJSON *j = gt__json_parse(body, n, &status);
    if (!j) return status;
    gt_lab_config out = *c;
    int rc = 0;
    for (const cJSON *v = j->child; v && !rc; v = v->next) {
        const gt__field *f = NULL;
        for (int i = 0; i < GT__N_FIELDS && !f; i++)
            if (strcmp(gt__fields[i].key, v->string) == 0) f = &gt__fields[i];
        if (!f) {
            gt_set_error(GT_ERR_ARG,
                         "unknown field '%.40s' (a config has data, drawn, noise_dim, noise, g_layers, g_neurons, "
                         "d_layers, d_neurons, loss, gp, r1, optim, lr_g, lr_d, d_steps, g_steps, batch, seed)",
                         v->string);
            rc = 400;
        } else {
            rc = gt__field_set(&out, f, v);
        }
    }
    cJSON_Delete(j);
    if (rc) return rc;
    if (gt_lab_config_check(&out) != GT_OK) return 400;
    *c = out;
    return 0;
}
