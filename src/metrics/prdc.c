/* Precision / recall (Kynkaanniemi et al. 2019, as torch-fidelity's prc) and
 * density / coverage (Naeem et al. 2020, as the prdc package) on k-NN
 * manifolds.
 *
 * Every decision compares squared float64 distances d2x(a, b) = sum (a_k - b_k)^2.
 * The fast path gets approximate squared distances |a|^2 + |b|^2 - 2 a.b from a
 * float32 GEMM in blocks (memory O(block^2)); the dot product's rounding error
 * is bounded by gamma_d |a| |b| (any summation order, FMA or not), so a
 * decision is taken from the approximation only when the whole error band lies
 * on one side, and otherwise from d2x. The result is the same as comparing
 * d2x everywhere, which the naive path does. */
#include <cblas.h>
#include <float.h>
#include <stdatomic.h>

#include "metrics_internal.h"

gt_prdc_opts gt_prdc_default_opts(void) {
    gt_prdc_opts o = {.k_pr = 3, .k_dc = 5, .pr = true, .dc = true, .block = 0};
    return o;
}

/* The exact-decision distance: float64 sum of squared differences, 4 fixed
 * partial sums (deterministic, and d2x(a, b) == d2x(b, a) bit for bit). */
static double gt__d2x(const float *a, const float *b, int64_t d) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t k = 0;
    for (; k + 4 <= d; k += 4) {
        double t0 = (double)a[k] - b[k], t1 = (double)a[k + 1] - b[k + 1];
        double t2 = (double)a[k + 2] - b[k + 2], t3 = (double)a[k + 3] - b[k + 3];
        s0 += t0 * t0;
        s1 += t1 * t1;
        s2 += t2 * t2;
        s3 += t3 * t3;
    }
    for (; k < d; k++) {
        double t = (double)a[k] - b[k];
        s0 += t * t;
    }
    return (s0 + s1) + (s2 + s3);
}

static atomic_llong gt__exact_pairs = 0;
int64_t gt__prdc_exact_pairs(void) { return (int64_t)atomic_load(&gt__exact_pairs); }

/* Bound on |approx - d2x| for rows with squared norms na, nb (roots ra, rb). */
typedef struct {
    double g2;  /* 2 * gamma_{d+2} for float32 dot products, padded 1% */
    double c;   /* float64 rounding of the norms, the sum and d2x */
} gt__band;

static gt__band gt__band_for(int64_t d) {
    double u = ldexp(1.0, -24), dd = (double)(d + 2);
    gt__band b = {2.0 * 1.01 * dd * u / (1.0 - dd * u), (4.0 * (double)d + 64.0) * ldexp(1.0, -53)};
    return b;
}

static inline double gt__err(const gt__band *b, double na, double nb, double ra, double rb) {
    return b->g2 * ra * rb + b->c * (na + nb) + 1e-36;
}

typedef struct {
    const float *x; // (n, d)
    int64_t n;
    double *nrm;    // (n) squared norms, float64
    double *rt;     // (n) their square roots
} gt__set;

static gt_status gt__set_init(gt__set *s, const float *x, int64_t n, int64_t d) {
    s->x = x;
    s->n = n;
    s->nrm = malloc((size_t)n * sizeof(double));
    s->rt = malloc((size_t)n * sizeof(double));
    if (!s->nrm || !s->rt) return gt_set_error(GT_ERR_OOM, "precision/recall: out of memory for norms");
#pragma omp parallel for if (n * d > GT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (int64_t k = 0; k < d; k++) acc += (double)x[i * d + k] * (double)x[i * d + k];
        s->nrm[i] = acc;
        s->rt[i] = sqrt(acc);
    }
    return GT_OK;
}

static void gt__set_free(gt__set *s) {
    free(s->nrm);
    free(s->rt);
}

static int gt__cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --- radii: the (k+1)-th smallest d2x from each point to its own set ------- */
typedef struct {
    int64_t *j;
    double *lo;
    int64_t len, cap;
} gt__cands;

static bool gt__cands_push(gt__cands *c, int64_t j, double lo) {
    if (c->len == c->cap) {
        int64_t cap = c->cap ? 2 * c->cap : 32;
        int64_t *nj = realloc(c->j, (size_t)cap * sizeof(int64_t));
        if (nj) c->j = nj;
        double *nl = nj ? realloc(c->lo, (size_t)cap * sizeof(double)) : NULL;
        if (!nl) return false;
        c->lo = nl;
        c->cap = cap;
    }
    c->j[c->len] = j;
    c->lo[c->len++] = lo;
    return true;
}

/* max-heap of the kk smallest upper bounds seen */
static void gt__heap_push(double *h, int *len, int kk, double v) {
    if (*len < kk) {
        int i = (*len)++;
        h[i] = v;
        while (i > 0 && h[(i - 1) / 2] < h[i]) {
            double t = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (v < h[0]) {
        h[0] = v;
        int i = 0;
        for (;;) {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < kk && h[l] > h[m]) m = l;
            if (r < kk && h[r] > h[m]) m = r;
            if (m == i) break;
            double t = h[i];
            h[i] = h[m];
            h[m] = t;
            i = m;
        }
    }
}

/* Per point of the set: the kk smallest upper bounds seen (a max-heap) and
 * the candidates whose lower bound does not exceed the heap's top. */
typedef struct {
    const gt__set *a;
    int64_t d;
    int kk;
    gt__band band;
    double *heap; // (n, kk)
    int *hlen;    // (n)
    gt__cands *cand; // (n)
} gt__knn;

/* Point i meets point j with Gram entry gij; false when out of memory. */
static inline bool gt__knn_visit(gt__knn *k, int64_t i, int64_t j, float gij) {
    const gt__set *a = k->a;
    double a2 = a->nrm[i] + a->nrm[j] - 2.0 * (double)gij;
    double e = gt__err(&k->band, a->nrm[i], a->nrm[j], a->rt[i], a->rt[j]);
    double *h = k->heap + i * k->kk;
    gt__heap_push(h, &k->hlen[i], k->kk, a2 + e);
    double top = k->hlen[i] == k->kk ? h[0] : INFINITY;
    return a2 - e > top || gt__cands_push(&k->cand[i], j, a2 - e);
}

/* Drops the candidates the tightened threshold rules out. */
static void gt__knn_prune(gt__knn *k, int64_t i) {
    double top = k->hlen[i] == k->kk ? k->heap[i * k->kk] : INFINITY;
    gt__cands *c = &k->cand[i];
    int64_t w = 0;
    for (int64_t t = 0; t < c->len; t++)
        if (c->lo[t] <= top) c->j[w] = c->j[t], c->lo[w++] = c->lo[t];
    c->len = w;
}

/* out[t][i] = (ks[t]+1)-th smallest d2x(a_i, a_j) over j (self included).
 * The Gram matrix is symmetric: only blocks (I, J) with I <= J are computed,
 * each serving the rows of I (by row) and the rows of J (by column). */
static gt_status gt__radii_fast(const gt__set *a, int64_t d, const int *ks, int nk, double **out, int64_t blk,
                                float *g) {
    int64_t n = a->n;
    gt__knn k = {.a = a, .d = d, .kk = 0, .band = gt__band_for(d)};
    for (int t = 0; t < nk; t++) k.kk = GT_MAX(k.kk, ks[t] + 1);
    k.heap = malloc((size_t)(n * k.kk) * sizeof(double));
    k.hlen = calloc((size_t)n, sizeof(int));
    k.cand = calloc((size_t)n, sizeof(gt__cands));
    int oom = !k.heap || !k.hlen || !k.cand;
    for (int64_t i0 = 0; i0 < n && !oom; i0 += blk) {
        int64_t bi = GT_MIN(blk, n - i0);
        for (int64_t j0 = i0; j0 < n && !oom; j0 += blk) {
            int64_t bj = GT_MIN(blk, n - j0);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bi, (int)bj, (int)d, 1.0f, a->x + i0 * d,
                        (int)d, a->x + j0 * d, (int)d, 0.0f, g, (int)bj);
#pragma omp parallel for schedule(dynamic, 16) reduction(| : oom)
            for (int64_t r = 0; r < bi; r++) {
                for (int64_t q = 0; q < bj; q++)
                    if (!gt__knn_visit(&k, i0 + r, j0 + q, g[r * bj + q])) oom |= 1;
                gt__knn_prune(&k, i0 + r);
            }
            if (j0 == i0) continue; /* a diagonal block serves its rows once */
#pragma omp parallel for schedule(dynamic, 16) reduction(| : oom)
            for (int64_t q = 0; q < bj; q++) {
                for (int64_t r = 0; r < bi; r++)
                    if (!gt__knn_visit(&k, j0 + q, i0 + r, g[r * bj + q])) oom |= 1;
                gt__knn_prune(&k, j0 + q);
            }
        }
    }
    if (!oom) {
        long long exact = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : exact)
        for (int64_t i = 0; i < n; i++) {
            gt__cands *c = &k.cand[i];
            /* the lower bounds are no longer needed: the slots take the exact distances */
            for (int64_t t = 0; t < c->len; t++) c->lo[t] = gt__d2x(a->x + i * d, a->x + c->j[t] * d, d);
            exact += c->len;
            qsort(c->lo, (size_t)c->len, sizeof(double), gt__cmp_double);
            for (int t = 0; t < nk; t++) out[t][i] = c->lo[ks[t]];
        }
        atomic_fetch_add(&gt__exact_pairs, exact);
    }
    for (int64_t i = 0; k.cand && i < n; i++) {
        free(k.cand[i].j);
        free(k.cand[i].lo);
    }
    free(k.cand);
    free(k.heap);
    free(k.hlen);
    if (oom) return gt_set_error(GT_ERR_OOM, "precision/recall: out of memory for the neighbour search");
    return GT_OK;
}

static gt_status gt__radii_naive(const gt__set *a, int64_t d, const int *ks, int nk, double **out) {
    double *row = malloc((size_t)a->n * sizeof(double));
    if (!row) return gt_set_error(GT_ERR_OOM, "precision/recall: out of memory");
    for (int64_t i = 0; i < a->n; i++) {
        for (int64_t j = 0; j < a->n; j++) row[j] = gt__d2x(a->x + i * d, a->x + j * d, d);
        qsort(row, (size_t)a->n, sizeof(double), gt__cmp_double);
        for (int t = 0; t < nk; t++) out[t][i] = row[ks[t]];
    }
    free(row);
    return GT_OK;
}

/* --- the real x fake pass ------------------------------------------------- */
typedef struct {
    const double *rf_pr; // (n_fake) fake radii^2 for recall (k_pr), or NULL
    const double *rr_pr; // (n_real) real radii^2 for precision (k_pr), or NULL
    const double *rr_dc; // (n_real) real radii^2 for density / coverage (k_dc), or NULL
    unsigned char *recall, *coverage, *precision; // per real, per real, per fake
    int64_t *density;                              // (n_fake) counts
} gt__cross;

/* 1 when d2 <= r2 (le) or d2 < r2 (!le), 0 when not, -1 when the band cannot tell */
static inline int gt__decide(double a2, double e, double r2, bool le) {
    if (le ? a2 + e <= r2 : a2 + e < r2) return 1;
    if (le ? a2 - e > r2 : a2 - e >= r2) return 0;
    return -1;
}

static inline bool gt__holds(int dec, const float *a, const float *b, int64_t d, double r2, bool le, double *ex) {
    if (dec >= 0) return dec == 1;
    if (isnan(*ex)) {
        *ex = gt__d2x(a, b, d);
        atomic_fetch_add(&gt__exact_pairs, 1);
    }
    return le ? *ex <= r2 : *ex < r2;
}

static gt_status gt__cross_fast(const gt__set *re, const gt__set *fk, int64_t d, gt__cross *cx, int64_t blk,
                                float *g) {
    gt__band band = gt__band_for(d);
    for (int64_t i0 = 0; i0 < re->n; i0 += blk) {
        int64_t bi = GT_MIN(blk, re->n - i0);
        for (int64_t j0 = 0; j0 < fk->n; j0 += blk) {
            int64_t bj = GT_MIN(blk, fk->n - j0);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bi, (int)bj, (int)d, 1.0f, re->x + i0 * d,
                        (int)d, fk->x + j0 * d, (int)d, 0.0f, g, (int)bj);
            /* row-owned: recall and coverage of each real sample */
#pragma omp parallel for schedule(dynamic, 16)
            for (int64_t r = 0; r < bi; r++) {
                int64_t i = i0 + r;
                bool want_rec = cx->rf_pr && !cx->recall[i], want_cov = cx->rr_dc && !cx->coverage[i];
                const float *xi = re->x + i * d;
                for (int64_t q = 0; q < bj && (want_rec || want_cov); q++) {
                    int64_t j = j0 + q;
                    double a2 = re->nrm[i] + fk->nrm[j] - 2.0 * (double)g[r * bj + q];
                    double e = gt__err(&band, re->nrm[i], fk->nrm[j], re->rt[i], fk->rt[j]), ex = NAN;
                    const float *yj = fk->x + j * d;
                    if (want_rec &&
                        gt__holds(gt__decide(a2, e, cx->rf_pr[j], true), xi, yj, d, cx->rf_pr[j], true, &ex)) {
                        cx->recall[i] = 1;
                        want_rec = false;
                    }
                    if (want_cov &&
                        gt__holds(gt__decide(a2, e, cx->rr_dc[i], false), xi, yj, d, cx->rr_dc[i], false, &ex)) {
                        cx->coverage[i] = 1;
                        want_cov = false;
                    }
                }
            }
            /* column-owned: precision and density of each fake sample */
#pragma omp parallel for schedule(dynamic, 16)
            for (int64_t q = 0; q < bj; q++) {
                int64_t j = j0 + q;
                const float *yj = fk->x + j * d;
                bool want_prec = cx->rr_pr && !cx->precision[j];
                if (!want_prec && !cx->rr_dc) continue;
                int64_t cnt = 0;
                for (int64_t r = 0; r < bi; r++) {
                    int64_t i = i0 + r;
                    double a2 = re->nrm[i] + fk->nrm[j] - 2.0 * (double)g[r * bj + q];
                    double e = gt__err(&band, re->nrm[i], fk->nrm[j], re->rt[i], fk->rt[j]), ex = NAN;
                    const float *xi = re->x + i * d;
                    if (want_prec &&
                        gt__holds(gt__decide(a2, e, cx->rr_pr[i], true), xi, yj, d, cx->rr_pr[i], true, &ex)) {
                        cx->precision[j] = 1;
                        want_prec = false;
                    }
                    if (cx->rr_dc &&
                        gt__holds(gt__decide(a2, e, cx->rr_dc[i], false), xi, yj, d, cx->rr_dc[i], false, &ex))
                        cnt++;
                }
                if (cx->density) cx->density[j] += cnt;
            }
        }
    }
    return GT_OK;
}

static void gt__cross_naive(const gt__set *re, const gt__set *fk, int64_t d, gt__cross *cx) {
    for (int64_t i = 0; i < re->n; i++)
        for (int64_t j = 0; j < fk->n; j++) {
            double ex = gt__d2x(re->x + i * d, fk->x + j * d, d);
            if (cx->rf_pr && ex <= cx->rf_pr[j]) cx->recall[i] = 1;
            if (cx->rr_pr && ex <= cx->rr_pr[i]) cx->precision[j] = 1;
            if (cx->rr_dc && ex < cx->rr_dc[i]) {
                cx->coverage[i] = 1;
                cx->density[j]++;
            }
        }
}

/* --- entry point -------------------------------------------------------------- */
static gt_status gt__prdc_check(const float *real, int64_t n_real, const float *fake, int64_t n_fake, int64_t dim,
                                const gt_prdc_opts *o) {
    gt_status st = gt__check_features(real, n_real, dim, "precision/recall", "the real");
    if (!st) st = gt__check_features(fake, n_fake, dim, "precision/recall", "the fake");
    if (st) return st;
    if (!o->pr && !o->dc) return gt_set_error(GT_ERR_ARG, "precision/recall: nothing to compute (pr and dc off)");
    if (dim >= (1 << 22) || n_real > INT32_MAX || n_fake > INT32_MAX)
        return gt_set_error(GT_ERR_ARG, "precision/recall: sizes too large");
    const char *name[2] = {"precision/recall", "density/coverage"};
    int k[2] = {o->k_pr, o->k_dc};
    bool on[2] = {o->pr, o->dc};
    for (int t = 0; t < 2; t++) {
        if (!on[t]) continue;
        if (k[t] < 1)
            return gt_set_error(GT_ERR_ARG, "%s: the neighbourhood size k must be >= 1, got %d", name[t], k[t]);
        /* fake radii are needed only for recall */
        if (n_real <= k[t] || (t == 0 && n_fake <= k[t]))
            return gt_set_error(GT_ERR_ARG, "%s with k = %d needs more than k samples in each set (the k-th "
                                "neighbour besides the point itself), got %lld real and %lld fake",
                                name[t], k[t], (long long)n_real, (long long)n_fake);
    }
    if (n_fake < 1) return gt_set_error(GT_ERR_ARG, "density/coverage: needs at least one fake sample, got 0");
    return GT_OK;
}

gt_status gt_metric_prdc(const float *real, int64_t n_real, const float *fake, int64_t n_fake, int64_t dim,
                         const gt_prdc_opts *opts, gt_prdc_result *out) {
    gt_prdc_opts o = opts ? *opts : gt_prdc_default_opts();
    if (!out) return gt_set_error(GT_ERR_ARG, "precision/recall: NULL output");
    out->precision = out->recall = out->f_score = out->density = out->coverage = NAN;
    gt_status st = gt__prdc_check(real, n_real, fake, n_fake, dim, &o);
    if (st) return st;
    int64_t blk = o.block > 0 ? o.block : 2048;
    bool naive = gt_backend_get() == GT_BACKEND_NAIVE;
    gt__set re = {0}, fk = {0};
    double *rr_pr = NULL, *rr_dc = NULL, *rf_pr = NULL;
    unsigned char *flags = NULL;
    int64_t *dens = NULL;
    float *g = NULL;
    if ((st = gt__set_init(&re, real, n_real, dim)) || (st = gt__set_init(&fk, fake, n_fake, dim))) goto done;
    rr_pr = o.pr ? malloc((size_t)n_real * sizeof(double)) : NULL;
    rf_pr = o.pr ? malloc((size_t)n_fake * sizeof(double)) : NULL;
    rr_dc = o.dc ? malloc((size_t)n_real * sizeof(double)) : NULL;
    flags = calloc((size_t)(2 * n_real + n_fake), 1);
    dens = o.dc ? calloc((size_t)n_fake, sizeof(int64_t)) : NULL;
    g = naive ? NULL : malloc((size_t)(blk * blk) * sizeof(float)); // (blk, blk)
    if ((o.pr && (!rr_pr || !rf_pr)) || (o.dc && (!rr_dc || !dens)) || !flags || (!naive && !g)) {
        st = gt_set_error(GT_ERR_OOM, "precision/recall: out of memory (block %lld)", (long long)blk);
        goto done;
    }
    /* radii: real for both k's, fake for k_pr only */
    int ks[2], nk = 0;
    double *outs[2];
    if (o.pr) ks[nk] = o.k_pr, outs[nk++] = rr_pr;
    if (o.dc) ks[nk] = o.k_dc, outs[nk++] = rr_dc;
    st = naive ? gt__radii_naive(&re, dim, ks, nk, outs) : gt__radii_fast(&re, dim, ks, nk, outs, blk, g);
    if (!st && o.pr) {
        int kf[1] = {o.k_pr};
        double *of[1] = {rf_pr};
        st = naive ? gt__radii_naive(&fk, dim, kf, 1, of) : gt__radii_fast(&fk, dim, kf, 1, of, blk, g);
    }
    if (st) goto done;
    gt__cross cx = {rf_pr, rr_pr, rr_dc, flags, flags + n_real, flags + 2 * n_real, dens};
    if (naive) gt__cross_naive(&re, &fk, dim, &cx);
    else if ((st = gt__cross_fast(&re, &fk, dim, &cx, blk, g))) goto done;
    if (o.pr) {
        int64_t nrec = 0, nprec = 0;
        for (int64_t i = 0; i < n_real; i++) nrec += cx.recall[i];
        for (int64_t j = 0; j < n_fake; j++) nprec += cx.precision[j];
        out->precision = (double)nprec / (double)n_fake;
        out->recall = (double)nrec / (double)n_real;
        out->f_score = 2.0 * out->precision * out->recall / GT_MAX(1e-5, out->precision + out->recall);
    }
    if (o.dc) {
        int64_t ncov = 0, ndens = 0;
        for (int64_t i = 0; i < n_real; i++) ncov += cx.coverage[i];
        for (int64_t j = 0; j < n_fake; j++) ndens += dens[j];
        out->density = (1.0 / (double)o.k_dc) * ((double)ndens / (double)n_fake);
        out->coverage = (double)ncov / (double)n_real;
    }
done:
    gt__set_free(&re);
    gt__set_free(&fk);
    free(rr_pr);
    free(rr_dc);
    free(rf_pr);
    free(flags);
    free(dens);
    free(g);
    return st;
}
