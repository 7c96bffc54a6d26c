/* The augmentation object: spec parsing ("none", "diffaug:POLICIES", "ada[:GROUPS][+aa]"), drawing the
 * random values from a gt_rng, ADA's adaptive p (r_t = E[sign(D(real))] against a target) and the
 * state a checkpoint keeps. The transforms themselves: diffaug.c and ada.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/augment.h"
#include "gantry/ops.h"
#include "../internal.h"

enum { GT__AUG_NONE, GT__AUG_DIFF, GT__AUG_ADA };
enum { GT__DA_COLOR, GT__DA_TRANSLATION, GT__DA_CUTOUT };
#define GT__MAX_POL 16

struct gt_augment {
    char spec[128];
    int kind;
    int pol[GT__MAX_POL], npol; /* DiffAugment policies in order */
    unsigned groups;            /* ADA groups */
    bool aa;                    /* ADA: the anti-aliased geometric execution ("+aa") */
    gt_augment_opts o;
    double p, rt;
    double sign_sum, n_img; /* since the last update */
    int calls;              /* observe calls since the last update */
    int64_t shard_start, shard_total; /* data-parallel: this process's rows of batches of shard_total (0: none) */
};

gt_augment_opts gt_augment_opts_default(void) {
    gt_augment_opts o = {0};
    o.p = 0.0;
    o.ada_target = 0.6;
    o.ada_kimg = 500.0;
    o.ada_interval = 4;
    o.ada_fixed = false;
    return o;
}

static gt_status gt__parse_diffaug(gt_augment *a, const char *list) {
    const char *s = list;
    if (!*s) return gt_set_error(GT_ERR_ARG, "augment '%s': no DiffAugment policy (known: color, translation, cutout)",
                                 a->spec);
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        int k = -1;
        if (len == 5 && !strncmp(s, "color", 5)) k = GT__DA_COLOR;
        else if (len == 11 && !strncmp(s, "translation", 11)) k = GT__DA_TRANSLATION;
        else if (len == 6 && !strncmp(s, "cutout", 6)) k = GT__DA_CUTOUT;
        if (k < 0)
            return gt_set_error(GT_ERR_ARG,
                                "augment '%s': unknown DiffAugment policy '%.*s' (known: color, translation, cutout)",
                                a->spec, (int)len, s);
        if (a->npol >= GT__MAX_POL) return gt_set_error(GT_ERR_ARG, "augment '%s': too many policies", a->spec);
        a->pol[a->npol++] = k;
        s += len;
        if (*s == ',') {
            s++;
            if (!*s) return gt_set_error(GT_ERR_ARG, "augment '%s': empty policy after ','", a->spec);
        }
    }
    return GT_OK;
}

static gt_status gt__parse_ada(gt_augment *a, const char *g) {
    if (!*g) return gt_set_error(GT_ERR_ARG, "augment '%s': no ADA group (known: b, g, c)", a->spec);
    for (const char *c = g; *c; c++) {
        unsigned bit = *c == 'b' ? GT_ADA_GROUP_B : *c == 'g' ? GT_ADA_GROUP_G : *c == 'c' ? GT_ADA_GROUP_C : 0;
        if (!bit)
            return gt_set_error(GT_ERR_ARG, "augment '%s': unknown ADA group '%c' (known: b, g, c)", a->spec, *c);
        a->groups |= bit;
    }
    return GT_OK;
}

gt_status gt_augment_new(const char *spec, const gt_augment_opts *o, gt_augment **out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_augment_new: NULL out");
    *out = NULL;
    if (!spec) return gt_set_error(GT_ERR_ARG, "gt_augment_new: NULL spec");
    gt_augment_opts d = gt_augment_opts_default();
    if (!o) o = &d;
    if (!(o->p >= 0.0 && o->p <= 1.0)) return gt_set_error(GT_ERR_ARG, "augment p %g outside [0, 1]", o->p);
    if (!(o->ada_target > 0.0 && o->ada_target <= 1.0))
        return gt_set_error(GT_ERR_ARG, "ada target %g outside (0, 1]", o->ada_target);
    if (!(o->ada_kimg > 0.0) || !isfinite(o->ada_kimg))
        return gt_set_error(GT_ERR_ARG, "ada kimg %g must be positive", o->ada_kimg);
    if (o->ada_interval < 1) return gt_set_error(GT_ERR_ARG, "ada interval %d must be at least 1", o->ada_interval);
    if (strlen(spec) >= sizeof(((gt_augment *)0)->spec))
        return gt_set_error(GT_ERR_ARG, "augment spec too long: '%.40s...'", spec);
    gt_augment *a = calloc(1, sizeof *a);
    if (!a) return gt_set_error(GT_ERR_OOM, "gt_augment_new: out of memory");
    strcpy(a->spec, spec);
    a->o = *o;
    a->rt = NAN;
    gt_status st = GT_OK;
    if (!strcmp(spec, "none") || !*spec) {
        a->kind = GT__AUG_NONE;
    } else if (!strncmp(spec, "diffaug:", 8)) {
        a->kind = GT__AUG_DIFF;
        st = gt__parse_diffaug(a, spec + 8);
    } else if (!strcmp(spec, "diffaug")) {
        st = gt_set_error(GT_ERR_ARG, "augment 'diffaug' needs policies: diffaug:color,translation,cutout");
    } else if (!strncmp(spec, "ada", 3) && (spec[3] == 0 || spec[3] == ':' || spec[3] == '+')) {
        /* ada[:GROUPS][+aa] */
        a->kind = GT__AUG_ADA;
        char g[sizeof a->spec + 4];
        if (spec[3] == ':') snprintf(g, sizeof g, "%s", spec + 4);
        else snprintf(g, sizeof g, "bgc%s", spec + 3); /* "ada" or "ada+..." */
        char *plus = strchr(g, '+');
        if (plus) {
            if (strcmp(plus, "+aa") != 0)
                st = gt_set_error(GT_ERR_ARG, "augment '%s': unknown ADA option '%s' (known: +aa)", spec, plus);
            *plus = 0;
            a->aa = true;
        }
        if (st == GT_OK) st = gt__parse_ada(a, g);
    } else {
        st = gt_set_error(GT_ERR_ARG, "unknown augmentation '%s' (known: none, diffaug:POLICY[,POLICY...], %s)", spec,
                          "ada[:GROUPS][+aa]");
    }
    if (st != GT_OK) {
        free(a);
        return st;
    }
    a->p = a->kind == GT__AUG_DIFF ? 1.0 : a->kind == GT__AUG_ADA ? o->p : 0.0;
    *out = a;
    return GT_OK;
}

void gt_augment_free(gt_augment *a) { free(a); }

const char *gt_augment_spec(const gt_augment *a) { return a ? a->spec : ""; }

gt_status gt_augment_set_shard(gt_augment *a, int64_t start, int64_t total) {
    if (!a || start < 0 || total < 0 || (total > 0 && start >= total))
        return gt_set_error(GT_ERR_ARG, "gt_augment_set_shard: bad arguments");
    if (total > 0 && a->kind == GT__AUG_ADA)
        return gt_set_error(GT_ERR_ARG, "augment '%s': ADA does not run on a shard of the batch (its draws and r_t "
                                        "would need splitting and reducing over the processes)", a->spec);
    a->shard_start = total > 0 ? start : 0, a->shard_total = total;
    return GT_OK;
}

/* k draws of one U[0, 1) value per sample, one after the other in u (k n): with a shard, this
 * process's rows of each of the whole batch's k draws, and r past all of them, as in one process. */
static void gt__uniform(const gt_augment *a, gt_rng *r, float *u, int64_t n, int k) {
    if (!a->shard_total) {
        gt_rng_uniform(r, u, k * n, 0.0f, 1.0f);
        return;
    }
    const int64_t B = a->shard_total;
    const gt_rng at = *r;
    for (int j = 0; j < k; j++) {
        gt_rng s = at;
        gt_rng_uniform_part(&s, u + j * n, k * B, j * B + a->shard_start, n, 0.0f, 1.0f);
        *r = s;
    }
}

static gt_tensor *gt__apply_diffaug(gt_augment *a, gt_tensor *x, gt_rng *r) {
    int64_t n = x->shape[0];
    int H = (int)x->shape[2], W = (int)x->shape[3];
    float *u = malloc((size_t)(2 * n) * sizeof *u);
    int32_t *i0 = malloc((size_t)n * sizeof *i0), *i1 = malloc((size_t)n * sizeof *i1);
    gt_tensor *y = gt__autorelease(gt_retain(x));
    if (!u || !i0 || !i1) {
        gt_set_error(GT_ERR_OOM, "augment: out of memory");
        y = NULL;
    }
    for (int k = 0; k < a->npol && y; k++) {
        switch (a->pol[k]) {
        case GT__DA_COLOR:
            gt__uniform(a, r, u, n, 1);
            y = gt_diffaug_brightness(y, u);
            gt__uniform(a, r, u, n, 1);
            y = gt_diffaug_saturation(y, u);
            gt__uniform(a, r, u, n, 1);
            y = gt_diffaug_contrast(y, u);
            break;
        case GT__DA_TRANSLATION: {
            int sx = gt_diffaug_shift(H), sy = gt_diffaug_shift(W);
            gt__uniform(a, r, u, n, 2);
            for (int64_t i = 0; i < n; i++) {
                i0[i] = gt_diffaug_randint(u[i], -sx, sx + 1);
                i1[i] = gt_diffaug_randint(u[n + i], -sy, sy + 1);
            }
            y = gt_diffaug_translation(y, i0, i1);
            break;
        }
        case GT__DA_CUTOUT: {
            int ch = gt_diffaug_cutout_size(H), cw = gt_diffaug_cutout_size(W);
            gt__uniform(a, r, u, n, 2);
            for (int64_t i = 0; i < n; i++) {
                i0[i] = gt_diffaug_randint(u[i], 0, H + (1 - ch % 2));
                i1[i] = gt_diffaug_randint(u[n + i], 0, W + (1 - cw % 2));
            }
            y = gt_diffaug_cutout(y, i0, i1);
            break;
        }
        }
    }
    free(u);
    free(i0);
    free(i1);
    return y;
}

/* the columns of the ADA draw layout that are standard normals (augment.h) */
static bool gt__ada_normal_col(int c) {
    return c == 7 || c == 11 || c == 15 || c == 16 || c == 18 || c == 20 || c == 26;
}

static gt_tensor *gt__apply_ada(gt_augment *a, gt_tensor *x, gt_rng *r) {
    int64_t n = x->shape[0];
    int C = (int)x->shape[1];
    if (C != 1 && C != 3) {
        gt_set_error(GT_ERR_SHAPE, "augment ada: images must have 1 or 3 channels, got %d", C);
        return NULL;
    }
    size_t m = (size_t)n * GT_ADA_NDRAWS;
    float *uni = malloc(m * sizeof *uni), *nrm = malloc(m * sizeof *nrm);
    float *G = malloc((size_t)n * 9 * sizeof *G), *Cm = malloc((size_t)n * 16 * sizeof *Cm);
    gt_tensor *y = NULL;
    if (!uni || !nrm || !G || !Cm) {
        gt_set_error(GT_ERR_OOM, "augment: out of memory");
        goto done;
    }
    gt_rng_uniform(r, uni, (int64_t)m, 0.0f, 1.0f);
    gt_rng_normal(r, nrm, (int64_t)m, 0.0f, 1.0f);
    for (size_t k = 0; k < m; k++)
        if (gt__ada_normal_col((int)(k % GT_ADA_NDRAWS))) uni[k] = nrm[k];
    if (gt_ada_matrices((int)n, C, (int)x->shape[2], (int)x->shape[3], a->p, a->groups, uni, G, Cm) != GT_OK)
        goto done;
    y = gt__autorelease(gt_retain(x));
    if (a->groups & (GT_ADA_GROUP_B | GT_ADA_GROUP_G)) y = a->aa ? gt_ada_geometric_aa(y, G) : gt_ada_geometric(y, G);
    if (a->groups & GT_ADA_GROUP_C) y = gt_ada_color(y, Cm);
done:
    free(uni);
    free(nrm);
    free(G);
    free(Cm);
    return y;
}

gt_tensor *gt_augment_apply(gt_augment *a, gt_tensor *x, gt_rng *r) {
    if (!x) return NULL;
    if (!a || !r) {
        gt_set_error(GT_ERR_ARG, "gt_augment_apply: NULL %s", a ? "rng" : "augment");
        return NULL;
    }
    if (a->kind == GT__AUG_NONE || (a->kind == GT__AUG_ADA && a->p <= 0.0))
        return gt__autorelease(gt_retain(x));
    if (x->ndim != 4 || x->dtype != GT_F32) {
        char buf[64];
        gt_set_error(GT_ERR_SHAPE, "augment '%s': x must be (N, C, H, W) float, got %s", a->spec,
                     gt_shape_str(x, buf, sizeof buf));
        return NULL;
    }
    return a->kind == GT__AUG_DIFF ? gt__apply_diffaug(a, x, r) : gt__apply_ada(a, x, r);
}

gt_status gt_augment_observe(gt_augment *a, gt_tensor *real_logits) {
    if (!a) return gt_set_error(GT_ERR_ARG, "gt_augment_observe: NULL augment");
    if (!gt_augment_adaptive(a)) return GT_OK;
    if (!real_logits || real_logits->dtype != GT_F32)
        return gt_set_error(GT_ERR_ARG, "gt_augment_observe: real_logits must be a float tensor");
    int64_t n = gt_numel(real_logits);
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return gt_set_error(GT_ERR_OOM, "gt_augment_observe: out of memory");
    gt_status st = gt_copy_to(real_logits, v);
    if (st != GT_OK) {
        free(v);
        return st;
    }
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += v[i] > 0 ? 1.0 : v[i] < 0 ? -1.0 : 0.0; /* torch.sign */
    free(v);
    a->sign_sum += s;
    a->n_img += (double)n;
    if (++a->calls >= a->o.ada_interval) {
        if (a->n_img > 0) {
            a->rt = a->sign_sum / a->n_img;
            double d = a->rt > a->o.ada_target ? 1.0 : a->rt < a->o.ada_target ? -1.0 : 0.0;
            a->p += d * a->n_img / (a->o.ada_kimg * 1000.0);
            a->p = a->p < 0.0 ? 0.0 : a->p > 1.0 ? 1.0 : a->p;
        }
        a->sign_sum = 0;
        a->n_img = 0;
        a->calls = 0;
    }
    return GT_OK;
}

double gt_augment_p(const gt_augment *a) { return a ? a->p : 0.0; }
double gt_augment_rt(const gt_augment *a) { return a ? a->rt : NAN; }
bool gt_augment_adaptive(const gt_augment *a) { return a && a->kind == GT__AUG_ADA && !a->o.ada_fixed; }

/* state: p, the last r_t (NAN before the first update), the sign sum since the last update, and
 * calls * 2^32 + images since the last update (both integers, exact in a double). */
void gt_augment_get_state(const gt_augment *a, double *state) {
    if (!a || !state) return;
    state[0] = a->p;
    state[1] = a->rt;
    state[2] = a->sign_sum;
    state[3] = (double)a->calls * 4294967296.0 + a->n_img;
}

gt_status gt_augment_set_state(gt_augment *a, const double *state) {
    if (!a || !state) return gt_set_error(GT_ERR_ARG, "gt_augment_set_state: NULL argument");
    double calls = floor(state[3] / 4294967296.0), n_img = state[3] - calls * 4294967296.0;
    if (!(state[0] >= 0.0 && state[0] <= 1.0) || !isfinite(state[2]) || !(calls >= 0) || !(n_img >= 0) ||
        fabs(state[2]) > n_img)
        return gt_set_error(GT_ERR_FORMAT, "augment state out of range (p %g)", state[0]);
    if (a->kind != GT__AUG_ADA) return GT_OK; /* nothing to restore: p is fixed by the spec */
    a->p = state[0];
    a->rt = state[1];
    a->sign_sum = state[2];
    a->n_img = n_img;
    a->calls = (int)calls;
    return GT_OK;
}
