/* gantry's own sgemm (src/backend/cpu/sgemm.c) against a double-precision
 * triple loop, on every path this CPU has (AVX-512, AVX2, portable): sizes
 * that end inside every register tile and cache block (1..MR+1, MC and KC
 * and NC +- 1), every operand layout (row-major, transposed, row-strided,
 * arbitrary strides), beta 0 / 1 / 0.5 (beta 0 must not read C: it holds
 * NaNs), C with a row stride, one thread and two. Tolerance: |err| <=
 * 1e-5 * sum_k |a_ik b_kj| + 1e-6 per element (the float rounding of a
 * K-term sum). */
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/backend/cpu/sgemm.h"
#include "../common/harness.h"

static uint64_t g_seed = 1;
static bool g_use_pack; /* A through gt_sgemm_apack_make + gt_sgemm_packed */
static bool g_use_fn;   /* and B through a packing function (gt_sgemm_packed_fn) */

typedef struct {
    const float *b;
    int64_t brs, bcs, N;
} bsrc;
/* B's panels as gt_sgemm_bpack_fn promises them (zero columns past nc); checks its arguments */
static bool g_fn_args_ok = true;
static void pack_fn(void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr, float *dst) {
    const bsrc *s = ctx;
    if (k0 < 0 || kc <= 0 || j0 < 0 || nc <= 0 || j0 + nc > s->N) g_fn_args_ok = false;
    for (int64_t p = 0; p * nr < nc; p++)
        for (int64_t k = 0; k < kc; k++)
            for (int j = 0; j < nr; j++) {
                int64_t col = p * nr + j;
                dst[(p * kc + k) * nr + j] = col < nc ? s->b[(k0 + k) * s->brs + (j0 + col) * s->bcs] : 0.0f;
            }
}
static float rnd(void) {
    g_seed = g_seed * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((g_seed >> 40) & 0xFFFF) / 32768.0f - 1.0f;
}

/* One product on the current path; false (with a message) when any element is off. */
static bool check_one(int64_t M, int64_t N, int64_t K, int layout, float beta, int64_t ldc_extra, int threads) {
    /* A (M, K) and B (K, N) stored in a larger buffer with the chosen strides */
    int64_t ars, acs, brs, bcs, na, nb;
    switch (layout) {
    case 0: ars = K, acs = 1, brs = N, bcs = 1; break;                  /* both row-major */
    case 1: ars = 1, acs = M, brs = 1, bcs = K; break;                  /* both transposed */
    case 2: ars = K + 3, acs = 1, brs = 1, bcs = K + 5; break;          /* padded rows, B transposed */
    default: ars = 2 * K + 1, acs = 2, brs = 3, bcs = 3 * K + 2; break; /* arbitrary strides */
    }
    na = (M - 1) * ars + (K - 1) * acs + 1, nb = (K - 1) * brs + (N - 1) * bcs + 1;
    int64_t ldc = N + ldc_extra;
    float *a = malloc((size_t)na * 4), *b = malloc((size_t)nb * 4), *c = malloc((size_t)(M * ldc) * 4),
          *c0 = malloc((size_t)(M * ldc) * 4);
    for (int64_t i = 0; i < na; i++) a[i] = rnd();
    for (int64_t i = 0; i < nb; i++) b[i] = rnd();
    for (int64_t i = 0; i < M * ldc; i++) c0[i] = c[i] = beta == 0.0f ? NAN : rnd();
    if (g_use_pack) {
        gt_sgemm_apack pk;
        if (!gt_sgemm_apack_make(&pk, M, K, a, ars, acs)) {
            fprintf(stderr, "  gt_sgemm_apack_make failed\n");
            free(a), free(b), free(c), free(c0);
            return false;
        }
        if (g_use_fn) {
            bsrc src = {b, brs, bcs, N};
            gt_sgemm_packed_fn(&pk, N, pack_fn, &src, beta, c, ldc, threads);
        } else
            gt_sgemm_packed(&pk, N, b, brs, bcs, beta, c, ldc, threads);
        gt_sgemm_apack_free(&pk);
    } else
        gt_sgemm(M, N, K, a, ars, acs, b, brs, bcs, beta, c, ldc, threads);
    int64_t bad = 0;
    double worst = 0;
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            double s = 0, sa = 0;
            for (int64_t k = 0; k < K; k++) {
                double p = (double)a[i * ars + k * acs] * b[k * brs + j * bcs];
                s += p, sa += fabs(p);
            }
            if (beta != 0.0f) s += (double)beta * c0[i * ldc + j], sa += fabs((double)beta * c0[i * ldc + j]);
            double err = fabs(c[i * ldc + j] - s), tol = 1e-5 * sa + 1e-6;
            if (!(err <= tol)) bad++;
            if (err / tol > worst || isnan(err)) worst = isnan(err) ? INFINITY : err / tol;
        }
        for (int64_t j = N; j < ldc; j++) /* the gap between rows is not C's: untouched */
            if (!(c[i * ldc + j] == c0[i * ldc + j] || (isnan(c[i * ldc + j]) && isnan(c0[i * ldc + j])))) bad++;
    }
    if (bad)
        fprintf(stderr, "  %s: M %lld N %lld K %lld layout %d beta %g ldc+%lld threads %d: %lld bad, worst %.3g x tol\n",
                gt_cpu_path_name(gt_cpu_path_get()), (long long)M, (long long)N, (long long)K, layout, beta,
                (long long)ldc_extra, threads, (long long)bad, worst);
    free(a), free(b), free(c), free(c0);
    return bad == 0;
}

static void test_paths(void) {
    gt_cpu_path best = gt_cpu_path_set(GT_CPU_PATH_COUNT);
    fprintf(stderr, "  this CPU's best path: %s\n", gt_cpu_path_name(best));
    for (int p = 0; p <= (int)best; p++) {
        CHECK(gt_cpu_path_set((gt_cpu_path)p) == (gt_cpu_path)p);
        const gt_ukernel *u = p == GT_CPU_AVX512 ? &gt_ukernel_avx512 : p == GT_CPU_AVX2 ? &gt_ukernel_avx2
                                                                                          : &gt_ukernel_portable;
        int fails = 0, runs = 0;
        /* tails of the register tile, in each dimension, every layout and beta */
        const int64_t small[] = {1, 2, 3, u->mr - 1, u->mr, u->mr + 1, u->nr - 1, u->nr, u->nr + 1, 2 * u->nr + 3};
        for (int i = 0; i < 10; i++)
            for (int j = 0; j < 10; j += 3)
                for (int layout = 0; layout < 4; layout++) {
                    int64_t M = small[i], N = small[(i + j) % 10], K = small[j] + 2;
                    float beta = layout == 1 ? 1.0f : layout == 2 ? 0.5f : 0.0f;
                    fails += !check_one(M, N, K, layout, beta, layout & 1 ? 7 : 0, 1), runs++;
                }
        /* across the cache blocks: K past KC, M past MC, N past NC (one at a time), one and two threads */
        const int64_t big[][3] = {{u->mr * 2 + 1, u->nr * 2 + 5, u->kc + 1},
                                  {u->mc + 1, u->nr + 3, 17},
                                  {u->mr + 1, u->nc + 1, 9},
                                  {u->mc - 1, u->nr * 3 - 1, u->kc * 2 - 1},
                                  {129, 257, 300}};
        for (int i = 0; i < 5; i++)
            for (int layout = 0; layout < 4; layout += 1)
                for (int th = 1; th <= 2; th++)
                    fails += !check_one(big[i][0], big[i][1], big[i][2], layout, th == 2 ? 1.0f : 0.0f, th == 2 ? 3 : 0,
                                        th),
                        runs++;
        /* A packed once and shared (a conv's weights): the same products, and an M split over threads */
        g_use_pack = true;
        for (int i = 0; i < 5; i++)
            for (int layout = 0; layout < 4; layout += 1)
                for (int th = 1; th <= 2; th++)
                    fails += !check_one(big[i][0], big[i][1], big[i][2], layout, th == 2 ? 1.0f : 0.0f, 0, th), runs++;
        fails += !check_one(1445, 20, 300, 0, 0.0f, 0, 2), runs++; /* N narrow: rows split over 2 threads */
        fails += !check_one(1445, 20, 300, 2, 0.0f, 0, 2), runs++;
        for (int i = 0; i < 10; i++) fails += !check_one(small[i], small[(i + 3) % 10], small[i] + 2, 0, 0.0f, 0, 1), runs++;
        /* B from a packing function (a conv's im2col), then all of it again without panel memory */
        g_use_fn = true;
        for (int nomem = 0; nomem < 2; nomem++) {
            gt_sgemm_set_no_panels(nomem);
            for (int i = 0; i < 5; i++)
                for (int th = 1; th <= 2; th++)
                    fails += !check_one(big[i][0], big[i][1], big[i][2], i % 4, th == 2 ? 0.5f : 0.0f, th, th), runs++;
            fails += !check_one(1445, 20, 300, 0, 0.0f, 0, 2), runs++;
            for (int i = 0; i < 10; i++)
                fails += !check_one(small[i], small[(i + 3) % 10], small[i] + 2, 0, 1.0f, 0, 1), runs++;
        }
        g_use_fn = false;
        for (int i = 0; i < 5; i++) /* the other paths without panel memory */
            fails += !check_one(big[i][0], big[i][1], big[i][2], i % 4, 0.5f, 1, 2), runs++;
        g_use_pack = false;
        for (int i = 0; i < 5; i++) fails += !check_one(big[i][0], big[i][1], big[i][2], i % 4, 0.5f, 1, 2), runs++;
        gt_sgemm_set_no_panels(false);
        CHECK(g_fn_args_ok);
        CHECK_MSG(fails == 0, "%s: %d of %d products off", gt_cpu_path_name((gt_cpu_path)p), fails, runs);
        fprintf(stderr, "  %-8s %d products checked\n", gt_cpu_path_name((gt_cpu_path)p), runs);
    }
    /* K = 0 and empty products */
    float c[4] = {1, 2, 3, 4};
    gt_sgemm(2, 2, 0, c, 1, 1, c, 1, 1, 0.5f, c, 2, 1);
    CHECK(c[0] == 0.5f && c[3] == 2.0f);
    gt_sgemm(0, 2, 3, c, 1, 1, c, 1, 1, 0.0f, c, 2, 1);
    CHECK(c[0] == 0.5f);
    /* a path the CPU lacks falls back to the best it has; names */
    CHECK(gt_cpu_path_set(GT_CPU_PATH_COUNT) == best);
    CHECK(!strcmp(gt_cpu_path_name(GT_CPU_AVX2), "avx2") && !strcmp(gt_cpu_path_name(GT_CPU_PORTABLE), "portable"));
}

/* $GANTRY_CPU picks the path at first use (checked in fresh child processes,
 * before this process has chosen): each name the CPU has is taken, an
 * unknown name or a path the CPU lacks gives the best it has. */
static void test_env_forcing(void) {
    const char *names[] = {"portable", "avx2", "avx512", "sse9", ""};
    for (int i = 0; i < 5; i++) {
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            setenv("GANTRY_CPU", names[i], 1);
            gt_cpu_path got = gt_cpu_path_get();
            gt_cpu_path best = gt_cpu_path_set(GT_CPU_PATH_COUNT);
            bool ok = i < 3 && (int)best >= i ? got == (gt_cpu_path)i : got == best;
            _exit(ok ? 0 : 1);
        }
        int ws = 0;
        waitpid(pid, &ws, 0);
        CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "GANTRY_CPU=%s not honoured", names[i]);
    }
}

int main(void) {
    RUN(test_env_forcing);
    RUN(test_paths);
    return gt_test_finish();
}
