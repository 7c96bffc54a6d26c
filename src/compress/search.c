/* The width search (gantry/prune.h): per-group width choices under a MAC budget, each candidate the
 * teacher pruned by importance (shared weights: a supernet at step 0), BN recalibrated and scored;
 * every feasible grid point when there are few, else an evolutionary search. And the FID scorer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/metrics.h"
#include "gantry/prune.h"
#include "gantry/train.h"
#include "gantry/translate.h"

#define GT__GRID_MAX 4096   /* grids up to this many points are counted point by point */
#define GT__FRACS_MAX 16
#define GT__POP0 16         /* the evolutionary search's first population */
#define GT__PARENTS 8       /* parents drawn from the best this many */
#define GT__MUTATE 0.25     /* probability of a group's fraction redrawn in a child */
#define GT__TRIES 400       /* draws for one new feasible, unscored point before giving up */


void gt_prune_search_opts_default(gt_prune_search_opts *o) {
    memset(o, 0, sizeof *o);
    o->budget = 0.1;
    o->max_evals = 64;
    o->importance = GT_IMPORTANCE_L1;
    o->recal_batches = 8, o->recal_batch = 64, o->recal_seed = 0x5EEDull;
}

void gt_prune_search_result_free(gt_prune_search_result *r) {
    if (!r) return;
    free(r->c);
    memset(r, 0, sizeof *r);
}

typedef struct {
    const gt_net *T;
    const gt_prune_search_opts *o;
    gt_prune_search_result *r;
    int n;                                    /* groups */
    int nc[GT_PRUNE_GROUPS_MAX];              /* distinct widths of each group */
    int w[GT_PRUNE_GROUPS_MAX][GT__FRACS_MAX]; /* ascending */
    int cap;
} gt__search;

/* MACs of the teacher's config with the widths of choice ch[i] for each group. */
static gt_status gt__macs(const gt__search *s, const int *ch, int64_t *macs) {
    gt_model_config c = s->T->cfg;
    for (int i = 0; i < s->n; i++) {
        gt_status st = gt_model_opt_set(&c, s->r->groups[i].opt_key, s->w[i][ch[i]]);
        if (st != GT_OK) return st;
    }
    return gt_model_cost(&c, macs, NULL);
}

static int gt__cmp_cand(const void *a, const void *b) {
    const gt_prune_candidate *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    return x->macs < y->macs ? -1 : x->macs > y->macs;
}

static bool gt__scored(const gt__search *s, const int *ch) {
    for (int k = 0; k < s->r->n; k++) {
        bool same = true;
        for (int i = 0; i < s->n && same; i++) same = s->r->c[k].widths[i] == s->w[i][ch[i]];
        if (same) return true;
    }
    return false;
}

/* Prunes, recalibrates, scores and records the point ch. */
static gt_status gt__score(gt__search *s, const int *ch, int total) {
    if (s->r->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 32;
        gt_prune_candidate *c = realloc(s->r->c, (size_t)cap * sizeof *c);
        if (!c) return gt_set_error(GT_ERR_OOM, "prune search: out of memory");
        s->r->c = c, s->cap = cap;
    }
    gt_prune_candidate *c = &s->r->c[s->r->n];
    memset(c, 0, sizeof *c);
    c->n_groups = s->n;
    for (int i = 0; i < s->n; i++) c->widths[i] = s->w[i][ch[i]];
    gt_net S;
    gt_status st = gt_prune(s->T, c->widths, s->o->importance, &S);
    const gt_model_entry *e = st == GT_OK ? gt_model_find(S.cfg.name) : NULL;
    if (st == GT_OK && s->o->recal_batches > 0 && e && !e->translator)
        st = gt_recalibrate_bn(&S, s->o->recal_seed, s->o->recal_batches, s->o->recal_batch);
    gt_prog p;
    if (st == GT_OK && (st = gt_prog_from_net(&S, &p)) == GT_OK) {
        c->macs = gt_prog_macs(&p), c->params = gt_prog_params(&p);
        gt_prog_free(&p);
    }
    if (st == GT_OK) st = s->o->score(s->o->user, &S, &c->score);
    gt_net_free(&S);
    if (st != GT_OK) return st;
    s->r->n++;
    if (s->o->progress) s->o->progress(c, s->r->n, total, s->o->user);
    return GT_OK;
}

static double gt__unif(gt_rng *r) { return (gt_rng_u32(r) >> 8) * (1.0 / 16777216.0); }

/* The evolutionary search: up to max_evals scored points (feasible list known when pts != NULL). */
static gt_status gt__evolve(gt__search *s, const int *pts, int64_t n_pts) {
    const int n = s->n, max = s->o->max_evals;
    gt_rng rng;
    gt_rng_init(&rng, s->o->seed);
    int ch[GT_PRUNE_GROUPS_MAX];
    gt_status st;
    /* the largest uniform fraction that fits */
    for (int j = GT__FRACS_MAX - 1; j >= 0; j--) {
        bool ok = true;
        for (int i = 0; i < n; i++) ok = ok && j < s->nc[i], ch[i] = j < s->nc[i] ? j : 0;
        if (!ok) continue;
        int64_t m;
        if ((st = gt__macs(s, ch, &m)) != GT_OK) return st;
        if (m <= s->r->budget_macs) {
            if ((st = gt__score(s, ch, max)) != GT_OK) return st;
            break;
        }
    }
    while (s->r->n < max) {
        bool found = false;
        for (int t = 0; t < GT__TRIES && !found; t++) {
            if (s->r->n < GT__POP0) { /* random points */
                if (pts) memcpy(ch, pts + (int64_t)(gt_rng_u32(&rng) % (uint32_t)n_pts) * n, (size_t)n * sizeof *ch);
                else
                    for (int i = 0; i < n; i++) ch[i] = (int)(gt_rng_u32(&rng) % (uint32_t)s->nc[i]);
            } else { /* a child of two of the best */
                qsort(s->r->c, (size_t)s->r->n, sizeof *s->r->c, gt__cmp_cand);
                const int top = s->r->n < GT__PARENTS ? s->r->n : GT__PARENTS;
                const gt_prune_candidate *a = &s->r->c[gt_rng_u32(&rng) % (uint32_t)top];
                const gt_prune_candidate *b = &s->r->c[gt_rng_u32(&rng) % (uint32_t)top];
                for (int i = 0; i < n; i++) {
                    int w = (gt_rng_u32(&rng) & 1) ? a->widths[i] : b->widths[i], k = 0;
                    while (k < s->nc[i] - 1 && s->w[i][k] != w) k++;
                    ch[i] = gt__unif(&rng) < GT__MUTATE ? (int)(gt_rng_u32(&rng) % (uint32_t)s->nc[i]) : k;
                }
            }
            if (gt__scored(s, ch)) continue;
            int64_t m;
            if ((st = gt__macs(s, ch, &m)) != GT_OK) return st;
            found = m <= s->r->budget_macs;
        }
        if (!found) break; /* the feasible set is (nearly) exhausted */
        if ((st = gt__score(s, ch, max)) != GT_OK) return st;
    }
    return GT_OK;
}

gt_status gt_prune_search(const gt_net *T, const gt_prune_search_opts *o, gt_prune_search_result *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "gt_prune_search: result is NULL");
    memset(out, 0, sizeof *out);
    if (!T || !o || !o->score) return gt_set_error(GT_ERR_ARG, "gt_prune_search: teacher, options or scorer is NULL");
    if (o->max_evals < 1) return gt_set_error(GT_ERR_ARG, "prune search: max_evals must be >= 1, got %d", o->max_evals);
    if (!(o->budget > 0) || !isfinite(o->budget))
        return gt_set_error(GT_ERR_ARG, "prune search: the budget must be > 0 (a fraction <= 1, or MACs), got %g",
                            o->budget);
    const double *fr = o->fractions ? o->fractions : gt_prune_fracs_default;
    const int nf = o->fractions ? o->n_fractions : GT_PRUNE_FRACS_DEFAULT_N;
    if (nf < 1 || nf > GT__FRACS_MAX)
        return gt_set_error(GT_ERR_ARG, "prune search: 1..%d fractions, got %d", GT__FRACS_MAX, nf);
    for (int j = 0; j < nf; j++)
        if (!(fr[j] > 0 && fr[j] <= 1) || (j && fr[j] <= fr[j - 1]))
            return gt_set_error(GT_ERR_ARG, "prune search: fractions must be ascending in (0, 1]");
    gt__search s = {.T = T, .o = o, .r = out};
    s.n = gt_prune_groups(T, out->groups, GT_PRUNE_GROUPS_MAX);
    if (s.n < 0) return gt_last_status();
    out->n_groups = s.n;
    gt_prog p;
    gt_status st = gt_prog_from_net(T, &p);
    if (st != GT_OK) return st;
    out->teacher_macs = gt_prog_macs(&p), out->teacher_params = gt_prog_params(&p);
    gt_prog_free(&p);
    out->budget_macs = o->budget <= 1 ? (int64_t)floor(o->budget * (double)out->teacher_macs) : (int64_t)o->budget;
    out->grid = 1;
    for (int i = 0; i < s.n; i++) {
        s.nc[i] = gt_prune_width_choices(out->groups[i].size, fr, nf, s.w[i]);
        out->grid = out->grid > GT__GRID_MAX ? out->grid : out->grid * s.nc[i];
    }
    /* the smallest point: every group at its smallest width (MACs grow with every width) */
    int ch[GT_PRUNE_GROUPS_MAX] = {0};
    int64_t min_macs;
    if ((st = gt__macs(&s, ch, &min_macs)) != GT_OK) return st;
    if (min_macs > out->budget_macs)
        return gt_set_error(GT_ERR_ARG,
                            "budget %lld MACs (%.4g of the teacher's %lld) is below the smallest candidate: the "
                            "smallest feasible budget is %lld MACs (%.4g), every group at %g of its width",
                            (long long)out->budget_macs, (double)out->budget_macs / (double)out->teacher_macs,
                            (long long)out->teacher_macs, (long long)min_macs,
                            (double)min_macs / (double)out->teacher_macs, fr[0]);
    if (out->grid > GT__GRID_MAX) {
        out->grid = -1, out->feasible = -1;
        st = gt__evolve(&s, NULL, 0);
    } else {
        int *pts = malloc((size_t)out->grid * (size_t)s.n * sizeof *pts);
        if (!pts) return gt_set_error(GT_ERR_OOM, "prune search: out of memory");
        int64_t nfeas = 0;
        for (int64_t k = 0; k < out->grid && st == GT_OK; k++) {
            int64_t rem = k, m = 0;
            for (int i = s.n - 1; i >= 0; i--) ch[i] = (int)(rem % s.nc[i]), rem /= s.nc[i];
            st = gt__macs(&s, ch, &m);
            if (st == GT_OK && m <= out->budget_macs) memcpy(pts + nfeas++ * s.n, ch, (size_t)s.n * sizeof *ch);
        }
        out->feasible = nfeas;
        out->exhaustive = st == GT_OK && nfeas <= o->max_evals;
        for (int64_t k = 0; out->exhaustive && k < nfeas && st == GT_OK; k++)
            st = gt__score(&s, pts + k * s.n, (int)nfeas);
        if (st == GT_OK && !out->exhaustive) st = gt__evolve(&s, pts, nfeas);
        free(pts);
    }
    if (st != GT_OK) {
        gt_status keep = gt_last_status();
        char msg[600];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_prune_search_result_free(out);
        return gt_set_error(keep ? keep : st, "%s", msg);
    }
    qsort(out->c, (size_t)out->n, sizeof *out->c, gt__cmp_cand);
    return GT_OK;
}

/* --- the FID scorer ------------------------------------------------------------------------ */
struct gt_prune_fid {
    char spec[256];
    gt_extractor ex;
    gt_fid_stats real;
    int64_t n;
    uint64_t seed;
};

void gt_prune_fid_free(gt_prune_fid *f) {
    if (!f) return;
    gt_extractor_free(&f->ex);
    gt_fid_stats_free(&f->real);
    free(f);
}

static bool gt__cacheable(const char *spec) {
    return !strcmp(spec, "fashion-mnist") || !strcmp(spec, "fashion-mnist:train") ||
           !strcmp(spec, "fashion-mnist:test");
}

gt_prune_fid *gt_prune_fid_open(const char *real_spec, int64_t n_real, int64_t n, uint64_t seed) {
    if (n < 2) {
        gt_set_error(GT_ERR_ARG, "prune FID: needs >= 2 images per candidate, got %lld", (long long)n);
        return NULL;
    }
    const char *spec = real_spec ? real_spec : "fashion-mnist:test";
    gt_prune_fid *f = calloc(1, sizeof *f);
    if (!f) {
        gt_set_error(GT_ERR_OOM, "prune FID: out of memory");
        return NULL;
    }
    f->n = n, f->seed = seed;
    snprintf(f->spec, sizeof f->spec, "%s", spec);
    gt_status st = gt_extractor_open("fmnist", NULL, &f->ex);
    gt_image_source *src = st == GT_OK ? gt_image_source_open(spec, n_real > 0 ? n_real : 5000) : NULL;
    if (st == GT_OK && !src) st = gt_last_status();
    if (st == GT_OK) {
        const int64_t nr = gt_image_source_count(src);
        if (!gt__cacheable(spec) || gt_stats_cache_load(spec, f->ex.name, "none", nr, &f->real) != GT_OK) {
            gt_feature_set fs = {0};
            st = gt_features_extract(&f->ex, src, 0, false, NULL, NULL, &fs);
            if (st == GT_OK) st = gt_fid_stats_compute(fs.feats, fs.n, fs.dim, &f->real);
            if (st == GT_OK && gt__cacheable(spec)) gt_stats_cache_store(spec, f->ex.name, "none", nr, &f->real);
            gt_feature_set_free(&fs);
        }
    }
    gt_image_source_free(src);
    if (st != GT_OK) {
        gt_prune_fid_free(f);
        return NULL;
    }
    return f;
}

typedef struct {
    const uint8_t *img;
    int64_t per;
} gt__u8_src;

static gt_status gt__u8_read(void *ctx, int64_t start, int64_t count, uint8_t *out) {
    const gt__u8_src *s = ctx;
    memcpy(out, s->img + start * s->per, (size_t)(count * s->per));
    return GT_OK;
}

gt_status gt_prune_fid_score(void *user, gt_net *G, double *fid) {
    gt_prune_fid *f = user;
    if (!f || !G || !fid) return gt_set_error(GT_ERR_ARG, "prune FID: NULL argument");
    const gt_model_entry *e = gt_model_find(G->cfg.name);
    if (!e) return gt_last_status();
    if (e->translator) /* its translations of the held-out items' edges against those items */
        return gt_translate_fid(G, f->spec, f->n, "fmnist", fid);
    const gt_model_config *c = &G->cfg;
    const int64_t per = (int64_t)c->channels * c->res * c->res;
    uint8_t *u8 = malloc((size_t)(f->n * per));
    if (!u8) return gt_set_error(GT_ERR_OOM, "prune FID: out of memory");
    int m = gt_scope_begin();
    gt_tensor *z = gt_sample_latents_for(c, f->seed, f->n, 0.0f);
    gt_tensor *x = z ? gt_generate(G, z) : NULL;
    gt_status st = x ? GT_OK : gt_last_status();
    if (st == GT_OK) {
        const float *p = gt_data(x);
        for (int64_t i = 0; i < f->n * per; i++) { /* torchvision's save_image conversion, as `gantry eval` */
            float v = (p[i] + 1.0f) * 0.5f;
            v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
            u8[i] = (uint8_t)floorf(v * 255.0f + 0.5f);
        }
    }
    gt_scope_end(m);
    gt__u8_src ctx = {u8, per};
    gt_image_source *src = st == GT_OK ? gt_image_source_from_fn("candidate", f->n, c->channels, c->res, c->res,
                                                                 gt__u8_read, &ctx, NULL)
                                       : NULL;
    if (st == GT_OK && !src) st = gt_last_status();
    gt_feature_set fs = {0};
    gt_fid_stats fk = {0};
    if (st == GT_OK) st = gt_features_extract(&f->ex, src, 0, false, NULL, NULL, &fs);
    if (st == GT_OK) st = gt_fid_stats_compute(fs.feats, fs.n, fs.dim, &fk);
    if (st == GT_OK) st = gt_metric_fid(&f->real, &fk, fid);
    gt_fid_stats_free(&fk);
    gt_feature_set_free(&fs);
    gt_image_source_free(src);
    free(u8);
    return st;
}
