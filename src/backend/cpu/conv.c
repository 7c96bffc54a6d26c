/* Convolution kernels (see conv.h).
 *
 * Fast path: im2col lays a chunk of B images' patches out as one matrix
 * col (C*kh*kw, B*Ho*Wo), so each group is one sgemm with B*Ho*Wo columns:
 *   fwd:    ytmp (O, B*P)   = W (O, K)      @ col (K, B*P)   then scatter to y
 *   data:   col  (K, B*P)   = W^T (K, O)    @ gy  (O, B*P)   then col2im to gx
 *   weight: gw   (O, K)    += gy (O, B*P)   @ col^T (B*P, K)
 * (K = C/g*kh*kw per group, P = Ho*Wo; with B == 1 the sgemm reads / writes
 * y and gy in place.) The forward's col is never written whole: sgemm asks for
 * its panels block by block (gt_sgemm_packed_fn), from x or from a
 * space-to-depth copy of it; the layouts are in conv_cols.c.
 *
 * Threading. With at least as many chunks as threads, the OpenMP threads take
 * whole chunks (im2col, sgemm, scatter of one chunk on one core, its buffers
 * in that core's cache), each with a one-thread sgemm. With fewer chunks
 * (batch 1), the chunks run one after another: OpenMP over the im2col /
 * col2im loops, and gantry's sgemm splits each product over the same OpenMP
 * threads. One thread pool throughout: no handing the cores back and forth
 * between libgomp's team and a BLAS library's pthreads (with OpenBLAS that
 * cost milliseconds per switch on a 2-core machine).
 *
 * Workspaces are cached per thread, so a training loop does not churn the
 * allocator. */
#include "conv.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <pthread.h>

#include "../../internal.h"
#include "conv_cols.h"
#include "conv_wino.h"
#include "sgemm.h"

/* --- workspace --------------------------------------------------------------
 * One per thread, held through a pthread key whose destructor frees it when the thread ends (a
 * short-lived thread that ran convolutions, e.g. a server's request thread, leaves nothing). */
typedef struct {
    float *p;
    size_t cap; /* floats */
} gt__ws_t;

static pthread_key_t gt__ws_key;
static pthread_once_t gt__ws_once = PTHREAD_ONCE_INIT;

static void gt__ws_destroy(void *v) {
    gt__ws_t *w = v;
    gt__free(w->p);
    free(w);
}

static void gt__ws_key_make(void) { pthread_key_create(&gt__ws_key, gt__ws_destroy); }

static gt__ws_t *gt__ws_mine(bool make) {
    pthread_once(&gt__ws_once, gt__ws_key_make);
    gt__ws_t *w = pthread_getspecific(gt__ws_key);
    if (!w && make && (w = calloc(1, sizeof *w)) && pthread_setspecific(gt__ws_key, w) != 0) {
        free(w);
        w = NULL;
    }
    return w;
}

static float *gt__workspace(size_t n) {
    gt__ws_t *w = gt__ws_mine(true);
    if (!w) return NULL;
    if (n <= w->cap) return w->p;
    gt__free(w->p);
    w->p = gt__alloc(n * sizeof(float));
    w->cap = w->p ? n : 0;
    return w->p;
}

void gt_cpu_conv_workspace_free(void) {
    gt__ws_t *w = gt__ws_mine(false);
    if (!w) return;
    gt__free(w->p);
    w->p = NULL;
    w->cap = 0;
}

/* --- chunking policy --------------------------------------------------------- *
 * A chunk's im2col buffer aims at gt__target floats (to stay in cache from
 * im2col to sgemm); a chunk has at least gt__min_cols sgemm columns where the
 * batch allows (an efficient sgemm). Images with at least that many output
 * positions get a chunk (and an sgemm) each, reading and writing y / gy in place. */
static int64_t gt__target, gt__min_cols;

static bool gt__s2d_use = true;
void gt_cpu_conv_set_s2d(bool on) { gt__s2d_use = on; }

void gt_cpu_conv_set_chunking(int64_t target_floats, int64_t min_cols) {
    gt__target = GT_MAX(target_floats, 0);
    gt__min_cols = GT_MAX(min_cols, 0);
}

static int gt__threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int gt__thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static int gt__team_size(void) {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* Images per chunk. The defaults were tuned on the DCGAN-64 layers (2-core
 * Zen 4, 2 MB L2 per core): 1 MB of im2col per chunk, 256 sgemm columns. */
static int64_t gt__chunk(const gt_conv_geom *g) {
    const int64_t target = gt__target ? gt__target : (1 << 20) / 4, min_cols = gt__min_cols ? gt__min_cols : 256;
    int64_t P = g->ho * g->wo, per = g->c * g->kh * g->kw * P;
    if (P >= min_cols) return 1;
    int64_t b = GT_MAX(target / (per > 0 ? per : 1), (min_cols + P - 1) / P);
    /* keep every thread busy when the batch is split over them */
    int64_t nt = gt__threads(), fair = (g->n + nt - 1) / nt;
    if (g->n >= nt && b > fair) b = fair;
    return GT_MAX(1, GT_MIN(b, g->n));
}

/* Whole chunks per OpenMP thread (true), or one chunk after another with
 * threaded loops and sgemm (false). */
static bool gt__batch_parallel(const gt_conv_geom *g, int64_t B) {
    int64_t nchunks = (g->n + B - 1) / B;
    return gt__threads() > 1 && nchunks >= gt__threads();
}

/* (B, R, P) -> (R, B*P). */
static void gt__pack(const float *src, int64_t B, int64_t R, int64_t P, float *dst, bool par) {
#pragma omp parallel for schedule(static) if (par && B * R * P > GT_PAR_MIN)
    for (int64_t t = 0; t < B * R; t++) {
        int64_t b = t / R, r = t % R;
        memcpy(dst + (r * B + b) * P, src + t * P, (size_t)P * sizeof(float));
    }
}

/* (R, B*P) -> (B, R, P), adding bias[r] (or not) on the way; in place when B == 1. */
static void gt__unpack_bias(const float *src, int64_t B, int64_t R, int64_t P, const float *bias, float *dst,
                            bool par) {
    if (B == 1 && !bias) return;
#pragma omp parallel for schedule(static) if (par && B * R * P > GT_PAR_MIN)
    for (int64_t t = 0; t < B * R; t++) {
        int64_t b = t / R, r = t % R;
        const float *s = src + (r * B + b) * P;
        float *d = dst + t * P, v = bias ? bias[r] : 0.0f;
        if (bias)
            for (int64_t k = 0; k < P; k++) d[k] = s[k] + v;
        else
            memcpy(d, s, (size_t)P * sizeof(float));
    }
}

/* --- one chunk of B images from image n0 ---------------------------------------- */
typedef struct {
    const gt_conv_geom *g;
    int64_t P, G, Og, Kg, Bmax;
    bool ident;   /* 1x1 kernel, stride 1, no padding: an image is its own im2col */
    int64_t rb;   /* output rows per im2col block: Ho, or fewer when one image's im2col is large */
    int64_t colf; /* floats of the im2col region of the workspace */
    const gt_sgemm_apack *wpk; /* (G) the weights packed once for every chunk (fwd: W, data: W^T), or NULL */
    bool s2d; /* the forward through a space-to-depth copy of x (gt__s2d_ok) */
} gt__plan;

static gt__plan gt__plan_make(const gt_conv_geom *g) {
    gt__plan p = {g, g->ho * g->wo, g->groups, g->o / g->groups, g->c / g->groups * g->kh * g->kw, gt__chunk(g),
                  g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 &&
                      g->ho == g->h && g->wo == g->w, g->ho, 0, NULL, false};
    /* one image a chunk whose im2col would leave the cache (the stride-1 3x3 convs of large
       images): the forward and the weight gradient take it a block of output rows at a time */
    const int64_t target = gt__target ? gt__target : (1 << 20) / 4, K = p.G * p.Kg;
    if (p.Bmax == 1 && !p.ident && K * p.P > 2 * target && g->wo > 0) {
        /* at least 512 columns a block (the weights are packed again for each), unless a test asks for less */
        int64_t min_rows = gt__target ? 1 : (512 + g->wo - 1) / g->wo;
        p.rb = GT_MIN(g->ho, GT_MAX(min_rows, target / (K * g->wo)));
    }
    p.colf = p.Bmax * p.P * K; /* the data gradient's col2im still takes whole images */
    return p;
}

/* Floats of one chunk's workspace: col (C*kh*kw, B*P), the packed rows (O, B*P)
 * when B > 1, and extra floats (a partial weight gradient). */
static size_t gt__ws_floats(const gt__plan *p, int64_t extra) {
    return (size_t)(p->colf + (p->Bmax > 1 ? p->Bmax * p->P * p->g->o : 0) + extra);
}

static void gt__fwd_chunk(const gt__plan *p, const float *x, const float *w, const float *b, float *y, int64_t n0,
                          float *ws, bool par) {
    const gt_conv_geom *g = p->g;
    int64_t B = GT_MIN(p->Bmax, g->n - n0), BP = B * p->P;
    float *yn = y + n0 * g->o * p->P;
    float *out = B > 1 ? ws + p->colf : yn; /* (O, B*P) */
    const float *xn = x + n0 * g->c * g->h * g->w, *col = xn;
    if (p->s2d || (p->wpk && !(p->ident && B == 1))) {
        /* im2col fused into sgemm's packing: from x'' in the workspace (plain copies), or gathered from x */
        if (p->s2d) gt__s2d_input(g, xn, B, ws, par);
        for (int64_t r0 = 0; r0 < g->ho; r0 += p->rb) {
            int64_t r1 = GT_MIN(r0 + p->rb, g->ho), np = B * (r1 - r0) * g->wo;
            for (int64_t gi = 0; gi < p->G; gi++) {
                gt_cpu_cols_src src = {g, p->s2d ? ws : xn, gi, r0, r1};
                /* B == 1: y's rows in place (ldc = P); else (O, B*P) in the workspace */
                float *dst = B == 1 ? yn + gi * p->Og * p->P + r0 * g->wo : out + gi * p->Og * BP;
                gt_sgemm_packed_fn(&p->wpk[gi], np, p->s2d ? gt__s2d_panels : gt__im2col_panels, &src, 0.0f, dst,
                                   B == 1 ? p->P : BP, par ? 0 : 1);
            }
        }
        gt__unpack_bias(out, B, g->o, p->P, b, yn, par);
        return;
    }
    if (B == 1 && p->rb < g->ho) { /* a block of output rows at a time, written in place (ldc = P) */
        for (int64_t r0 = 0; r0 < g->ho; r0 += p->rb) {
            int64_t r1 = GT_MIN(r0 + p->rb, g->ho), np = (r1 - r0) * g->wo;
            gt__im2col(g, xn, 1, r0, r1, ws, par);
            for (int64_t gi = 0; gi < p->G; gi++)
                if (p->wpk)
                    gt_sgemm_packed(&p->wpk[gi], np, ws + gi * p->Kg * np, np, 1, 0.0f,
                                    yn + gi * p->Og * p->P + r0 * g->wo, p->P, par ? 0 : 1);
                else
                    gt_sgemm_rm(false, false, p->Og, np, p->Kg, w + gi * p->Og * p->Kg, p->Kg, ws + gi * p->Kg * np,
                                np, 0.0f, yn + gi * p->Og * p->P + r0 * g->wo, p->P, par ? 0 : 1);
        }
        gt__unpack_bias(yn, 1, g->o, p->P, b, yn, par);
        return;
    }
    if (!(p->ident && B == 1)) {
        gt__im2col(g, xn, B, 0, g->ho, ws, par);
        col = ws;
    }
    for (int64_t gi = 0; gi < p->G; gi++)
        if (p->wpk)
            gt_sgemm_packed(&p->wpk[gi], BP, col + gi * p->Kg * BP, BP, 1, 0.0f, out + gi * p->Og * BP, BP, par ? 0 : 1);
        else
            gt_sgemm_rm(false, false, p->Og, BP, p->Kg, w + gi * p->Og * p->Kg, p->Kg, col + gi * p->Kg * BP, BP,
                        0.0f, out + gi * p->Og * BP, BP, par ? 0 : 1);
    gt__unpack_bias(out, B, g->o, p->P, b, yn, par);
}

static void gt__data_chunk(const gt__plan *p, const float *gy, const float *w, const float *b, float *gx, int64_t n0,
                           float *ws, bool par) {
    const gt_conv_geom *g = p->g;
    int64_t B = GT_MIN(p->Bmax, g->n - n0), BP = B * p->P;
    float *gxn = gx + n0 * g->c * g->h * g->w, *col = p->ident && B == 1 ? gxn : ws;
    const float *gyp = gy + n0 * g->o * p->P; /* (O, B*P) once packed */
    if (B > 1) {
        float *pk = ws + p->colf;
        gt__pack(gyp, B, g->o, p->P, pk, par);
        gyp = pk;
    }
    for (int64_t gi = 0; gi < p->G; gi++)
        if (p->wpk)
            gt_sgemm_packed(&p->wpk[gi], BP, gyp + gi * p->Og * BP, BP, 1, 0.0f, col + gi * p->Kg * BP, BP,
                            par ? 0 : 1);
        else
            gt_sgemm_rm(true, false, p->Kg, BP, p->Og, w + gi * p->Og * p->Kg, p->Kg, gyp + gi * p->Og * BP, BP, 0.0f,
                        col + gi * p->Kg * BP, BP, par ? 0 : 1);
    if (col == gxn) gt__unpack_bias(gxn, 1, g->c, p->P, b, gxn, par); /* bias only */
    else gt__col2im(g, col, B, b, gxn, par);
}

/* gw (O, Kg) = beta * gw + this chunk's contribution. */
static void gt__weight_chunk(const gt__plan *p, const float *x, const float *gy, float *gw, float beta, int64_t n0,
                             float *ws, bool par) {
    const gt_conv_geom *g = p->g;
    int64_t B = GT_MIN(p->Bmax, g->n - n0), BP = B * p->P;
    const float *gyp = gy + n0 * g->o * p->P; /* (O, B*P) once packed */
    const float *xn = x + n0 * g->c * g->h * g->w, *col = xn;
    if (B == 1 && p->rb < g->ho) { /* gw += gy[:, rows] @ col(rows)^T, a block of output rows at a time */
        for (int64_t r0 = 0; r0 < g->ho; r0 += p->rb) {
            int64_t r1 = GT_MIN(r0 + p->rb, g->ho), np = (r1 - r0) * g->wo;
            gt__im2col(g, xn, 1, r0, r1, ws, par);
            for (int64_t gi = 0; gi < p->G; gi++)
                gt_sgemm(p->Og, p->Kg, np, gyp + gi * p->Og * p->P + r0 * g->wo, p->P, 1, ws + gi * p->Kg * np, 1, np,
                         r0 == 0 ? beta : 1.0f, gw + gi * p->Og * p->Kg, p->Kg, par ? 0 : 1);
        }
        return;
    }
    if (!(p->ident && B == 1)) {
        gt__im2col(g, xn, B, 0, g->ho, ws, par);
        col = ws;
    }
    if (B > 1) {
        float *pk = ws + p->colf;
        gt__pack(gyp, B, g->o, p->P, pk, par);
        gyp = pk;
    }
    for (int64_t gi = 0; gi < p->G; gi++)
        gt_sgemm_rm(false, true, p->Og, p->Kg, BP, gyp + gi * p->Og * BP, BP, col + gi * p->Kg * BP, BP, beta,
                    gw + gi * p->Og * p->Kg, p->Kg, par ? 0 : 1);
}

/* --- drivers ------------------------------------------------------------------- */

/* A chunk of the batch, [n0, n0 + Bmax): the forward or the data gradient. */
typedef void (*gt__chunk_fn)(const gt__plan *p, const float *in, const float *w, const float *b, float *out,
                             int64_t n0, float *ws, bool par);

/* Runs fn over every chunk: serially (sgemm threads itself) or, when there are
 * enough chunks, one chunk per OpenMP thread with single-threaded sgemm. */
static bool gt__run_plan(const gt__plan *pp, gt__chunk_fn fn, int64_t nchunks, const float *in, const float *w,
                         const float *b, float *out);

/* The weights packed once (transpose_w: as W^T, for the data gradient), then gt__run_plan. */

static bool gt__run_chunks(const gt_conv_geom *g, gt__chunk_fn fn, bool transpose_w, const float *in,
                           const float *w, const float *b, float *out) {
    gt__plan p = gt__plan_make(g);
    int64_t nchunks = (g->n + p.Bmax - 1) / p.Bmax;
    /* with several chunks, the weights (W, or W^T for the data gradient) are packed into sgemm's panels once,
       not once per chunk; without memory for that, each chunk packs its own */
    gt_sgemm_apack *wpk = calloc((size_t)p.G, sizeof *wpk);
    /* the forward through x'' (its copy fits in the im2col region of the workspace: see gt__s2d_ok) */
    p.s2d = wpk && fn == gt__fwd_chunk && !p.ident && gt__s2d_use && gt__s2d_ok(g);
    for (int64_t gi = 0; wpk && gi < p.G; gi++) {
        const float *wg = w + gi * p.Og * p.Kg;
        bool made = transpose_w ? gt_sgemm_apack_make(&wpk[gi], p.Kg, p.Og, wg, 1, p.Kg)
                                : gt_sgemm_apack_make(&wpk[gi], p.Og, p.Kg, wg, p.Kg, 1);
        if (!made) {
            for (int64_t k = 0; k < gi; k++) gt_sgemm_apack_free(&wpk[k]);
            free(wpk);
            wpk = NULL;
            p.s2d = false;
        }
    }
    p.wpk = wpk;
    bool ok = gt__run_plan(&p, fn, nchunks, in, w, b, out);
    for (int64_t gi = 0; wpk && gi < p.G; gi++) gt_sgemm_apack_free(&wpk[gi]);
    free(wpk);
    return ok;
}

static bool gt__run_plan(const gt__plan *pp, gt__chunk_fn fn, int64_t nchunks, const float *in, const float *w,
                         const float *b, float *out) {
    const gt__plan p = *pp;
    const gt_conv_geom *g = p.g;
    if (!gt__batch_parallel(g, p.Bmax)) {
        float *ws = gt__workspace(gt__ws_floats(&p, 0));
        if (!ws) return false;
        for (int64_t ch = 0; ch < nchunks; ch++) fn(&p, in, w, b, out, ch * p.Bmax, ws, true);
        return true;
    }
    bool ok = true;
#pragma omp parallel
    {
        float *ws = gt__workspace(gt__ws_floats(&p, 0));
        if (!ws) {
#pragma omp atomic write
            ok = false;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t ch = 0; ch < nchunks; ch++)
            if (ws) fn(&p, in, w, b, out, ch * p.Bmax, ws, false);
    }
    return ok;
}

static int gt__wino_mode = 1; /* 0 never, 1 where it pays, 2 wherever it fits (tests) */
void gt_cpu_conv_set_winograd(int mode) { gt__wino_mode = mode < 0 ? 0 : mode > 2 ? 2 : mode; }

/* Winograd's output tile for g (2: F(2x2, 3x3), 4: F(4x4, 3x3); conv_wino.h), or 0: im2col. */
static int gt__use_wino(const gt_conv_geom *g, bool data) {
    if (gt__wino_mode == 2) return gt_cpu_conv_wino_fits(g, data) ? gt_cpu_conv_wino_tile_fit(g, data) : 0;
    return gt__wino_mode == 1 ? gt_cpu_conv_wino_tile(g, data) : 0;
}

bool gt_cpu_conv_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    const int wm = gt__use_wino(g, false);
    if (wm) return gt_cpu_conv_wino_fwd(g, wm, x, w, b, y);
    return gt__run_chunks(g, gt__fwd_chunk, false, x, w, b, y);
}

bool gt_cpu_conv_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx) {
    const int wm = gt__use_wino(g, true);
    if (wm) return gt_cpu_conv_wino_data(g, wm, gy, w, b, gx);
    return gt__run_chunks(g, gt__data_chunk, true, gy, w, b, gx);
}

bool gt_cpu_conv_weight(const gt_conv_geom *g, const float *x, const float *gy, float *gw) {
    gt__plan p = gt__plan_make(g);
    int64_t nchunks = (g->n + p.Bmax - 1) / p.Bmax, nw = g->o * p.Kg;
    if (g->n == 0) {
        memset(gw, 0, (size_t)nw * sizeof(float));
        return true;
    }
    if (!gt__batch_parallel(g, p.Bmax)) {
        float *ws = gt__workspace(gt__ws_floats(&p, 0));
        if (!ws) return false;
        for (int64_t ch = 0; ch < nchunks; ch++)
            gt__weight_chunk(&p, x, gy, gw, ch ? 1.0f : 0.0f, ch * p.Bmax, ws, true);
        return true;
    }
    /* each thread sums its chunks into its own partial gradient (chunks dealt
     * round-robin, so the sums do not depend on timing); then the partials add up */
    int nt = gt__threads();
    float **part = calloc((size_t)nt, sizeof *part);
    if (!part) return false;
    bool ok = true;
#pragma omp parallel num_threads(nt)
    {
        int t = gt__thread_id();
        float *ws = gt__workspace(gt__ws_floats(&p, nw));
        if (!ws) {
#pragma omp atomic write
            ok = false;
        }
        part[t] = ws ? ws + gt__ws_floats(&p, 0) : NULL;
        bool first = true;
#pragma omp for schedule(static, 1)
        for (int64_t ch = 0; ch < nchunks; ch++) {
            if (!ws) continue;
            gt__weight_chunk(&p, x, gy, part[t], first ? 0.0f : 1.0f, ch * p.Bmax, ws, false);
            first = false;
        }
        if (first && part[t]) memset(part[t], 0, (size_t)nw * sizeof(float));
#pragma omp barrier
        if (ok) {
            int nteam = gt__team_size();
#pragma omp for schedule(static)
            for (int64_t i = 0; i < nw; i++) {
                float s = 0.0f;
                for (int k = 0; k < nteam; k++) s += part[k][i];
                gw[i] = s;
            }
        }
    }
    free(part);
    return ok;
}

/* --- naive reference: direct loops ---------------------------------------------- */
#define GT__XIDX(g, n, c, ih, iw) ((((n) * (g)->c + (c)) * (g)->h + (ih)) * (g)->w + (iw))
#define GT__YIDX(g, n, o, oh, ow) ((((n) * (g)->o + (o)) * (g)->ho + (oh)) * (g)->wo + (ow))

void gt_naive_conv_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    int64_t Og = g->o / g->groups, Cg = g->c / g->groups;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t o = 0; o < g->o; o++)
            for (int64_t oh = 0; oh < g->ho; oh++)
                for (int64_t ow = 0; ow < g->wo; ow++) {
                    double acc = b ? b[o] : 0.0;
                    for (int64_t cg = 0; cg < Cg; cg++)
                        for (int64_t i = 0; i < g->kh; i++)
                            for (int64_t j = 0; j < g->kw; j++) {
                                int64_t ih = oh * g->sh - g->ph + i * g->dh, iw = ow * g->sw - g->pw + j * g->dw;
                                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) continue;
                                int64_t c = o / Og * Cg + cg;
                                float wv = w[((o * Cg + cg) * g->kh + i) * g->kw + j];
                                acc += (double)x[GT__XIDX(g, n, c, ih, iw)] * wv;
                            }
                    y[GT__YIDX(g, n, o, oh, ow)] = (float)acc;
                }
}

void gt_naive_conv_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx) {
    int64_t Og = g->o / g->groups, Cg = g->c / g->groups;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t c = 0; c < g->c; c++)
            for (int64_t ih = 0; ih < g->h; ih++)
                for (int64_t iw = 0; iw < g->w; iw++) gx[GT__XIDX(g, n, c, ih, iw)] = b ? b[c] : 0.0f;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t o = 0; o < g->o; o++)
            for (int64_t oh = 0; oh < g->ho; oh++)
                for (int64_t ow = 0; ow < g->wo; ow++) {
                    float v = gy[GT__YIDX(g, n, o, oh, ow)];
                    for (int64_t cg = 0; cg < Cg; cg++)
                        for (int64_t i = 0; i < g->kh; i++)
                            for (int64_t j = 0; j < g->kw; j++) {
                                int64_t ih = oh * g->sh - g->ph + i * g->dh, iw = ow * g->sw - g->pw + j * g->dw;
                                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) continue;
                                int64_t c = o / Og * Cg + cg;
                                gx[GT__XIDX(g, n, c, ih, iw)] += v * w[((o * Cg + cg) * g->kh + i) * g->kw + j];
                            }
                }
}

void gt_naive_conv_weight(const gt_conv_geom *g, const float *x, const float *gy, float *gw) {
    int64_t Og = g->o / g->groups, Cg = g->c / g->groups;
    for (int64_t o = 0; o < g->o; o++)
        for (int64_t cg = 0; cg < Cg; cg++)
            for (int64_t i = 0; i < g->kh; i++)
                for (int64_t j = 0; j < g->kw; j++) {
                    double acc = 0.0;
                    int64_t c = o / Og * Cg + cg;
                    for (int64_t n = 0; n < g->n; n++)
                        for (int64_t oh = 0; oh < g->ho; oh++)
                            for (int64_t ow = 0; ow < g->wo; ow++) {
                                int64_t ih = oh * g->sh - g->ph + i * g->dh, iw = ow * g->sw - g->pw + j * g->dw;
                                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) continue;
                                acc += (double)gy[GT__YIDX(g, n, o, oh, ow)] * x[GT__XIDX(g, n, c, ih, iw)];
                            }
                    gw[((o * Cg + cg) * g->kh + i) * g->kw + j] = (float)acc;
                }
}
