/* gantry's sgemm driver (see sgemm.h): the run-time choice of micro-kernel,
 * packing of strided operands into panels, cache blocking, and threads. */
#include "sgemm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../../internal.h"

/* --- which kernel --------------------------------------------------------------- */
static const char *const gt__path_names[GT_CPU_PATH_COUNT] = {"portable", "avx2", "avx512"};
static atomic_int gt__path = -1;

const char *gt_cpu_path_name(gt_cpu_path p) { return (unsigned)p < GT_CPU_PATH_COUNT ? gt__path_names[p] : "?"; }

static gt_cpu_path gt__best(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return GT_CPU_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GT_CPU_AVX2;
#endif
    return GT_CPU_PORTABLE;
}

gt_cpu_path gt_cpu_path_set(gt_cpu_path p) {
    gt_cpu_path best = gt__best();
    if ((unsigned)p >= GT_CPU_PATH_COUNT || p > best) p = best;
    atomic_store(&gt__path, (int)p);
    return p;
}

gt_cpu_path gt_cpu_path_get(void) {
    int p = atomic_load(&gt__path);
    if (p >= 0) return (gt_cpu_path)p;
    gt_cpu_path want = GT_CPU_PATH_COUNT; /* the best */
    const char *e = getenv("GANTRY_CPU");
    for (int i = 0; e && *e && i < GT_CPU_PATH_COUNT; i++)
        if (!strcmp(e, gt__path_names[i])) want = (gt_cpu_path)i;
    return gt_cpu_path_set(want);
}

/* $GANTRY_SGEMM_BLOCKS=KC,MC,NC overrides the cache blocks (for tuning on another machine): read
 * once, not on every product. */
static gt_ukernel gt__tuned[GT_CPU_PATH_COUNT];
static bool gt__has_tuned;
static pthread_once_t gt__tuned_once = PTHREAD_ONCE_INIT;

static void gt__tuned_read(void) {
    const char *e = getenv("GANTRY_SGEMM_BLOCKS");
    long kc, mc, nc;
    if (!e || sscanf(e, "%ld,%ld,%ld", &kc, &mc, &nc) != 3 || kc <= 0 || mc <= 0 || nc <= 0) return;
    const gt_ukernel *base[GT_CPU_PATH_COUNT] = {&gt_ukernel_portable, &gt_ukernel_avx2, &gt_ukernel_avx512};
    for (int p = 0; p < GT_CPU_PATH_COUNT; p++) {
        gt_ukernel *t = &gt__tuned[p];
        *t = *base[p];
        t->kc = kc, t->mc = (mc + t->mr - 1) / t->mr * t->mr, t->nc = (nc + t->nr - 1) / t->nr * t->nr;
    }
    gt__has_tuned = true;
}

static const gt_ukernel *gt__kernel(void) {
    pthread_once(&gt__tuned_once, gt__tuned_read);
    gt_cpu_path p = gt_cpu_path_get();
    if (gt__has_tuned) return &gt__tuned[p];
    return p == GT_CPU_AVX512 ? &gt_ukernel_avx512 : p == GT_CPU_AVX2 ? &gt_ukernel_avx2 : &gt_ukernel_portable;
}

/* --- packing ----------------------------------------------------------------------- */
/* A block (mc, kc) at a (strides rs, cs) -> MR-tall panels, each kc x MR (k-major), zero rows past mc. */
static void gt__pack_a(const gt_ukernel *u, int64_t mc, int64_t kc, const float *a, int64_t rs, int64_t cs,
                       float *restrict dst) {
    const int MR = u->mr;
    for (int64_t i0 = 0; i0 < mc; i0 += MR, dst += kc * MR) {
        int m = (int)GT_MIN(MR, mc - i0);
        const float *src = a + i0 * rs;
        if (cs == 1) { /* rows contiguous: read along k, 16 at a time, so the writes stay in a few lines */
            int64_t k0 = u->kernel == gt_ukernel_avx512.kernel ? gt_pack_a_rows_avx512(MR, m, kc, src, rs, dst) : 0;
            for (; k0 + 16 <= kc; k0 += 16)
                for (int r = 0; r < m; r++) {
                    const float *s = src + r * rs + k0;
                    float *d = dst + k0 * MR + r;
                    for (int kk = 0; kk < 16; kk++) d[kk * MR] = s[kk];
                }
            for (int r = 0; r < m; r++)
                for (int64_t k = k0; k < kc; k++) dst[k * MR + r] = src[r * rs + k];
        } else {
            for (int64_t k = 0; k < kc; k++) {
                const float *s = src + k * cs;
                float *d = dst + k * MR;
                for (int r = 0; r < m; r++) d[r] = s[r * rs];
            }
        }
        if (m < MR)
            for (int64_t k = 0; k < kc; k++)
                for (int r = m; r < MR; r++) dst[k * MR + r] = 0.0f;
    }
}

/* B block (kc, nc) at b (strides rs, cs) -> NR-wide panels, each kc x NR, zero columns past nc. */
static void gt__pack_b(const gt_ukernel *u, int64_t kc, int64_t nc, const float *b, int64_t rs, int64_t cs,
                       float *restrict dst) {
    const int NR = u->nr;
    int64_t full = nc / NR; /* whole panels */
    if (cs == 1 && full > 0 && (NR == 32 || NR == 16)) {
        /* rows contiguous: read each row of B from left to right across all the panels (B comes
         * from memory, rows far apart: one panel at a time would read 128 bytes a page) */
        for (int64_t k = 0; k < kc; k++) {
            const float *s = b + k * rs;
            float *d = dst + k * NR;
            if (NR == 32)
                for (int64_t p = 0; p < full; p++) memcpy(d + p * kc * 32, s + p * 32, 32 * sizeof(float));
            else
                for (int64_t p = 0; p < full; p++) memcpy(d + p * kc * 16, s + p * 16, 16 * sizeof(float));
        }
        if (full * NR == nc) return;
        b += full * NR, dst += full * kc * NR, nc -= full * NR;
    }
    for (int64_t j0 = 0; j0 < nc; j0 += NR, dst += kc * NR) {
        int n = (int)GT_MIN(NR, nc - j0);
        const float *src = b + j0 * cs;
        if (cs == 1) {
            for (int64_t k = 0; k < kc; k++) {
                const float *s = src + k * rs;
                float *d = dst + k * NR;
                if (n == NR)
                    memcpy(d, s, (size_t)NR * sizeof(float));
                else {
                    memcpy(d, s, (size_t)n * sizeof(float));
                    memset(d + n, 0, (size_t)(NR - n) * sizeof(float));
                }
            }
        } else { /* columns contiguous (a transposed B): read along k */
            int64_t k0 = u->kernel == gt_ukernel_avx512.kernel && rs == 1 ? gt_pack_b_cols_avx512(NR, n, kc, src, cs, dst) : 0;
            for (int j = 0; j < n; j++) {
                const float *s = src + j * cs;
                float *d = dst + j;
                for (int64_t k = k0; k < kc; k++) d[k * NR] = s[k * rs];
            }
            for (int64_t k = k0; k < kc && n < NR; k++) memset(dst + k * NR + n, 0, (size_t)(NR - n) * sizeof(float));
        }
    }
}

/* --- per-thread panel buffers (kept: a training loop does not churn the allocator) ---
 * Held through a pthread key whose destructor frees them when a thread ends (OpenMP teams of
 * another size come and go; a _Thread_local pointer would leak their buffers). */
typedef struct {
    float *pa, *pb, *scratch;
    size_t pa_cap, pb_cap, scratch_cap; /* floats */
} gt__panels;

static pthread_key_t gt__panels_key;
static pthread_once_t gt__panels_once = PTHREAD_ONCE_INIT;

static void gt__panels_free(void *p) {
    gt__panels *q = p;
    gt__free(q->pa);
    gt__free(q->pb);
    gt__free(q->scratch);
    free(q);
}

static void gt__panels_key_make(void) { pthread_key_create(&gt__panels_key, gt__panels_free); }

static gt__panels *gt__my_panels(void) {
    pthread_once(&gt__panels_once, gt__panels_key_make);
    gt__panels *q = pthread_getspecific(gt__panels_key);
    if (!q && (q = calloc(1, sizeof *q)) && pthread_setspecific(gt__panels_key, q) != 0) {
        free(q);
        q = NULL;
    }
    return q;
}

static float *gt__buf(float **p, size_t *cap, size_t n) {
    if (n <= *cap) return *p;
    gt__free(*p);
    *p = gt__alloc(n * sizeof(float));
    *cap = *p ? n : 0;
    return *p;
}

float *gt_sgemm_scratch(size_t n) {
    gt__panels *q = gt__my_panels();
    return q ? gt__buf(&q->scratch, &q->scratch_cap, n) : NULL;
}

static atomic_bool gt__no_panels;
void gt_sgemm_set_no_panels(bool on) { atomic_store(&gt__no_panels, on); }

static void gt__naive_tail(int64_t M, int64_t N, int64_t K, const float *a, int64_t ars, int64_t acs, const float *b,
                           int64_t brs, int64_t bcs, float beta, float *c, int64_t ldc) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float s = 0.0f;
            for (int64_t k = 0; k < K; k++) s += a[i * ars + k * acs] * b[k * brs + j * bcs];
            c[i * ldc + j] = beta == 0.0f ? s : beta * c[i * ldc + j] + s;
        }
}

/* Where B comes from: a strided matrix, or a function that writes its panels (gt_sgemm_packed_fn);
 * j0: the first column of this thread's share, for the function. */
typedef struct {
    const float *b;
    int64_t brs, bcs;
    gt_sgemm_bpack_fn fn;
    void *ctx;
    int64_t j0;
} gt__bsrc;

/* The product with B from a packing function and no memory for the panels: a block of 16 k at a
 * time into a buffer on the stack, through the same kernel (A is packed: pk). */
static void gt__sgemm_fn_small(const gt_ukernel *u, int64_t M, int64_t N, int64_t K, const gt_sgemm_apack *pk,
                               int64_t row0, const gt__bsrc *bs, float beta, float *c, int64_t ldc) {
    enum { KS = 16, NRMAX = 64 };
    float buf[KS * NRMAX] __attribute__((aligned(64)));
    const int MR = u->mr, NR = u->nr;
    if (NR > NRMAX) return;
    for (int64_t j = 0; j < N; j += NR) {
        int nr = (int)GT_MIN(NR, N - j);
        for (int64_t k = 0, ks; k < K; k += ks) { /* blocks of KS that do not cross A's blocks of pk->kc */
            int64_t pc = k / pk->kc * pk->kc, kcb = GT_MIN(pk->kc, K - pc);
            ks = GT_MIN(KS, pc + kcb - k);
            bs->fn(bs->ctx, k, ks, bs->j0 + j, nr, NR, buf);
            for (int64_t i = 0; i < M; i += MR) {
                int64_t r = row0 + i; /* a multiple of MR: whole panels */
                const float *ap = pk->p + pc * pk->mpad + r / MR * MR * kcb + (k - pc) * MR;
                u->kernel(ks, ap, buf, c + i * ldc + j, ldc, (int)GT_MIN(MR, M - i), nr, k == 0 ? beta : 1.0f);
            }
        }
    }
}

/* One thread's product (without memory for the panels: plain loops, slowly, still right). With pk,
 * A's panels come ready from it (rows row0.. of the packed A; K blocks of pk->kc), else A is packed
 * here block by block. */
static void gt__sgemm_st(const gt_ukernel *u, int64_t M, int64_t N, int64_t K, const float *a, int64_t ars,
                         int64_t acs, const gt_sgemm_apack *pk, int64_t row0, const gt__bsrc *bs, float beta, float *c,
                         int64_t ldc) {
    const float *b = bs->b;
    const int64_t brs = bs->brs, bcs = bs->bcs;
    const int MR = u->mr, NR = u->nr;
    int64_t KC = pk ? pk->kc : GT_MIN(u->kc, K), MC = GT_MIN(u->mc, (M + MR - 1) / MR * MR),
            NC = GT_MIN(u->nc, (N + NR - 1) / NR * NR);
    gt__panels *q = atomic_load(&gt__no_panels) ? NULL : gt__my_panels();
    float *pa = pk ? NULL : q ? gt__buf(&q->pa, &q->pa_cap, (size_t)(MC * KC)) : NULL;
    float *pb = q ? gt__buf(&q->pb, &q->pb_cap, (size_t)(KC * NC)) : NULL;
    if ((!pa && !pk) || !pb) {
        if (bs->fn) gt__sgemm_fn_small(u, M, N, K, pk, row0, bs, beta, c, ldc);
        else if (!pk) gt__naive_tail(M, N, K, a, ars, acs, b, brs, bcs, beta, c, ldc);
        else /* A read back from its panels: element (i, k) of block pc is panel i / MR, row i % MR */
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    float sum = 0.0f;
                    for (int64_t k = 0; k < K; k++) {
                        int64_t pc = k / KC * KC, kcb = GT_MIN(KC, K - pc), r = row0 + i;
                        sum += pk->p[pc * pk->mpad + r / MR * MR * kcb + (k - pc) * MR + r % MR] * b[k * brs + j * bcs];
                    }
                    c[i * ldc + j] = beta == 0.0f ? sum : beta * c[i * ldc + j] + sum;
                }
        return;
    }
    for (int64_t jc = 0; jc < N; jc += NC) {
        int64_t nc = GT_MIN(NC, N - jc);
        for (int64_t pc = 0; pc < K; pc += KC) {
            int64_t kc = GT_MIN(KC, K - pc);
            float bet = pc == 0 ? beta : 1.0f;
            if (bs->fn) bs->fn(bs->ctx, pc, kc, bs->j0 + jc, nc, NR, pb);
            else gt__pack_b(u, kc, nc, b + pc * brs + jc * bcs, brs, bcs, pb);
            for (int64_t ic = 0; ic < M; ic += MC) {
                int64_t mc = GT_MIN(MC, M - ic);
                const float *pab;
                if (pk) pab = pk->p + pc * pk->mpad + (row0 + ic) * kc;
                else {
                    gt__pack_a(u, mc, kc, a + ic * ars + pc * acs, ars, acs, pa);
                    pab = pa;
                }
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int nr = (int)GT_MIN(NR, nc - jr);
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int mr = (int)GT_MIN(MR, mc - ir);
                        u->kernel(kc, pab + ir * kc, pb + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, mr, nr, bet);
                    }
                }
            }
        }
    }
}

/* Threads for an M x N x K product, and whether they split N (else M). */
static int gt__plan_threads(const gt_ukernel *u, int64_t M, int64_t N, int64_t K, int nthreads, bool *split_n,
                            int64_t *units) {
    int nt = 1;
#ifdef _OPENMP
    if (!omp_in_parallel()) nt = omp_get_max_threads();
#endif
    if (nthreads > 0 && nt > nthreads) nt = nthreads;
    /* at least ~4 MFLOP a thread, and a whole tile row or column each */
    int64_t work = M * N * K;
    while (nt > 1 && work / nt < (int64_t)2 << 20) nt--;
    *split_n = (N + u->nr - 1) / u->nr >= (M + u->mr - 1) / u->mr;
    *units = *split_n ? (N + u->nr - 1) / u->nr : (M + u->mr - 1) / u->mr;
    if (nt > *units) nt = (int)GT_MAX(*units, 1);
    return nt;
}

static void gt__sgemm_run(const gt_ukernel *u, int64_t M, int64_t N, int64_t K, const float *a, int64_t ars,
                          int64_t acs, const gt_sgemm_apack *pk, const gt__bsrc *bs, float beta, float *c, int64_t ldc,
                          int nthreads) {
    bool split_n;
    int64_t units;
    int nt = gt__plan_threads(u, M, N, K, nthreads, &split_n, &units);
    if (nt <= 1) {
        gt__sgemm_st(u, M, N, K, a, ars, acs, pk, 0, bs, beta, c, ldc);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
#ifdef _OPENMP
        int t = omp_get_thread_num(), n = omp_get_num_threads();
#else
        int t = 0, n = 1;
#endif
        int64_t lo = units * t / n, hi = units * (t + 1) / n;
        if (split_n) {
            int64_t j0 = lo * u->nr, j1 = GT_MIN(hi * u->nr, N);
            gt__bsrc mine = *bs;
            if (mine.b) mine.b += j0 * bs->bcs;
            mine.j0 += j0;
            if (j1 > j0) gt__sgemm_st(u, M, j1 - j0, K, a, ars, acs, pk, 0, &mine, beta, c + j0, ldc);
        } else {
            int64_t i0 = lo * u->mr, i1 = GT_MIN(hi * u->mr, M);
            if (i1 > i0)
                gt__sgemm_st(u, i1 - i0, N, K, a ? a + i0 * ars : NULL, ars, acs, pk, i0, bs, beta, c + i0 * ldc,
                             ldc);
        }
    }
}

static void gt__beta_only(int64_t M, int64_t N, float beta, float *c, int64_t ldc) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

void gt_sgemm(int64_t M, int64_t N, int64_t K, const float *a, int64_t ars, int64_t acs, const float *b, int64_t brs,
              int64_t bcs, float beta, float *c, int64_t ldc, int nthreads) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        gt__beta_only(M, N, beta, c, ldc);
        return;
    }
    gt__bsrc bs = {b, brs, bcs, NULL, NULL, 0};
    gt__sgemm_run(gt__kernel(), M, N, K, a, ars, acs, NULL, &bs, beta, c, ldc, nthreads);
}

bool gt_sgemm_apack_make(gt_sgemm_apack *pk, int64_t M, int64_t K, const float *a, int64_t ars, int64_t acs) {
    memset(pk, 0, sizeof *pk);
    if (M <= 0 || K <= 0) return false;
    const gt_ukernel *u = gt__kernel();
    pk->u = u, pk->M = M, pk->K = K, pk->kc = GT_MIN(u->kc, K), pk->mpad = (M + u->mr - 1) / u->mr * u->mr;
    pk->p = gt__alloc((size_t)(pk->mpad * K) * sizeof(float));
    if (!pk->p) return false;
    for (int64_t pc = 0; pc < K; pc += pk->kc) {
        int64_t kc = GT_MIN(pk->kc, K - pc);
        gt__pack_a(u, M, kc, a + pc * acs, ars, acs, pk->p + pc * pk->mpad);
    }
    return true;
}

void gt_sgemm_apack_free(gt_sgemm_apack *pk) {
    if (!pk) return;
    gt__free(pk->p);
    memset(pk, 0, sizeof *pk);
}

void gt_sgemm_packed(const gt_sgemm_apack *pk, int64_t N, const float *b, int64_t brs, int64_t bcs, float beta,
                     float *c, int64_t ldc, int nthreads) {
    if (pk->M <= 0 || N <= 0) return;
    gt__bsrc bs = {b, brs, bcs, NULL, NULL, 0};
    gt__sgemm_run(pk->u, pk->M, N, pk->K, NULL, 0, 0, pk, &bs, beta, c, ldc, nthreads);
}

void gt_sgemm_packed_fn(const gt_sgemm_apack *pk, int64_t N, gt_sgemm_bpack_fn fn, void *ctx, float beta, float *c,
                        int64_t ldc, int nthreads) {
    if (pk->M <= 0 || N <= 0) return;
    gt__bsrc bs = {NULL, 0, 0, fn, ctx, 0};
    gt__sgemm_run(pk->u, pk->M, N, pk->K, NULL, 0, 0, pk, &bs, beta, c, ldc, nthreads);
}

void gt_sgemm_rm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float *a, int64_t lda,
                 const float *b, int64_t ldb, float beta, float *c, int64_t ldc, int nthreads) {
    gt_sgemm(M, N, K, a, trans_a ? 1 : lda, trans_a ? lda : 1, b, trans_b ? 1 : ldb, trans_b ? ldb : 1, beta, c, ldc,
             nthreads);
}
