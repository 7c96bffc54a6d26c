/* The machine's FMA peak and gantry's sgemm against it, beside OpenBLAS as
 * the environment runs it, in one run:
 *   - peak: a register-only FMA loop (12 independent accumulators) per
 *     thread, AVX-512 and AVX2, on all threads;
 *   - square products 256..2048 and the products the DCGAN and Inception
 *     convolutions make (forward, input gradient, weight gradient);
 *   - each as GFLOPS and % of the AVX-512 peak, best of 5 (the machine is shared).
 * usage: bench_gemm [--quick] [--path avx512|avx2|portable] [--peak: print only the FMA peak] */
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "../src/backend/cpu/sgemm.h"

__attribute__((target("avx512f"))) static float peak512(long iters) {
    /* different starting values: identical chains would be merged by the compiler */
    __m512 a0 = _mm512_set1_ps(1), a1 = _mm512_set1_ps(2), a2 = _mm512_set1_ps(3), a3 = _mm512_set1_ps(4),
           a4 = _mm512_set1_ps(5), a5 = _mm512_set1_ps(6), a6 = _mm512_set1_ps(7), a7 = _mm512_set1_ps(8),
           a8 = _mm512_set1_ps(9), a9 = _mm512_set1_ps(10), a10 = _mm512_set1_ps(11), a11 = _mm512_set1_ps(12),
           m = _mm512_set1_ps(0.999999f), x = _mm512_set1_ps(1e-7f);
    for (long i = 0; i < iters; i++) {
        a0 = _mm512_fmadd_ps(a0, m, x), a1 = _mm512_fmadd_ps(a1, m, x), a2 = _mm512_fmadd_ps(a2, m, x);
        a3 = _mm512_fmadd_ps(a3, m, x), a4 = _mm512_fmadd_ps(a4, m, x), a5 = _mm512_fmadd_ps(a5, m, x);
        a6 = _mm512_fmadd_ps(a6, m, x), a7 = _mm512_fmadd_ps(a7, m, x), a8 = _mm512_fmadd_ps(a8, m, x);
        a9 = _mm512_fmadd_ps(a9, m, x), a10 = _mm512_fmadd_ps(a10, m, x), a11 = _mm512_fmadd_ps(a11, m, x);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float peak256(long iters) {
    __m256 a0 = _mm256_set1_ps(1), a1 = _mm256_set1_ps(2), a2 = _mm256_set1_ps(3), a3 = _mm256_set1_ps(4),
           a4 = _mm256_set1_ps(5), a5 = _mm256_set1_ps(6), a6 = _mm256_set1_ps(7), a7 = _mm256_set1_ps(8),
           a8 = _mm256_set1_ps(9), a9 = _mm256_set1_ps(10), a10 = _mm256_set1_ps(11), a11 = _mm256_set1_ps(12),
           m = _mm256_set1_ps(0.999999f), x = _mm256_set1_ps(1e-7f);
    for (long i = 0; i < iters; i++) {
        a0 = _mm256_fmadd_ps(a0, m, x), a1 = _mm256_fmadd_ps(a1, m, x), a2 = _mm256_fmadd_ps(a2, m, x);
        a3 = _mm256_fmadd_ps(a3, m, x), a4 = _mm256_fmadd_ps(a4, m, x), a5 = _mm256_fmadd_ps(a5, m, x);
        a6 = _mm256_fmadd_ps(a6, m, x), a7 = _mm256_fmadd_ps(a7, m, x), a8 = _mm256_fmadd_ps(a8, m, x);
        a9 = _mm256_fmadd_ps(a9, m, x), a10 = _mm256_fmadd_ps(a10, m, x), a11 = _mm256_fmadd_ps(a11, m, x);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float o[8];
    _mm256_storeu_ps(o, s);
    return o[0];
}

static double peak(int wide) {
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        volatile float sink = 0;
        double t0 = now();
#pragma omp parallel
        {
            float v = wide ? peak512(iters) : peak256(iters);
#pragma omp atomic
            sink += v;
        }
        double t = now() - t0;
        double gf = (double)omp_get_max_threads() * iters * 12 * (wide ? 16 : 8) * 2 / t / 1e9;
        if (gf > best) best = gf;
        (void)sink;
    }
    return best;
}

typedef struct {
    const char *what;
    int M, N, K;
    int ta, tb; /* A given as (K, M), B as (N, K) */
} shape;

static double gflops_of(const shape *s, int which, float *A, float *B, float *C, int reps) {
    double best = 1e30;
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (which == 0)
            gt_sgemm_rm(s->ta, s->tb, s->M, s->N, s->K, A, lda, B, ldb, 0.0f, C, s->N, 0);
        else
            cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, s->M,
                        s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
        double t = now() - t0;
        if (t < best) best = t;
    }
    return 2.0 * s->M * s->N * (double)s->K / best / 1e9;
}

int main(int argc, char **argv) {
    int quick = 0, peak_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--peak")) peak_only = 1;
        else if (!strcmp(argv[i], "--path") && i + 1 < argc) {
            const char *p = argv[++i];
            gt_cpu_path_set(!strcmp(p, "avx512") ? GT_CPU_AVX512 : !strcmp(p, "avx2") ? GT_CPU_AVX2 : GT_CPU_PORTABLE);
        }
    }
    int nt = omp_get_max_threads();
    __builtin_cpu_init();
    double p512 = __builtin_cpu_supports("avx512f") ? peak(1) : 0, p256 = peak(0);
    double ref_peak = p512 > 0 ? p512 : p256;
    if (peak_only) { /* for run_bench_ops.sh: the peak this run measured */
        printf("%.1f\n", ref_peak);
        return 0;
    }
    printf("threads %d, gantry sgemm path: %s, OPENBLAS_CORETYPE=%s\n", nt, gt_cpu_path_name(gt_cpu_path_get()),
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "(unset)");
    printf("FMA peak: AVX-512 %.0f GFLOPS, AVX2 %.0f GFLOPS (register-only loop, %d threads)\n\n", p512, p256, nt);
    shape sh[] = {
        {"square 256", 256, 256, 256, 0, 0},
        {"square 512", 512, 512, 512, 0, 0},
        {"square 1024", 1024, 1024, 1024, 0, 0},
        {"square 2048", 2048, 2048, 2048, 0, 0},
        /* DCGAN-64 D convs, batch 64 chunked per image: fwd (O, C*16) @ (C*16, P) */
        {"conv 64->128 32->16 fwd", 128, 256 * 8, 1024, 0, 0},
        {"conv 128->256 16->8 fwd", 256, 64 * 32, 2048, 0, 0},
        {"conv 256->512 8->4 fwd", 512, 16 * 128, 4096, 0, 0},
        /* input gradient: W^T (C*16, O) @ gy (O, P) */
        {"conv 64->128 data grad", 1024, 256 * 8, 128, 1, 0},
        {"conv 256->512 data grad", 4096, 16 * 128, 512, 1, 0},
        /* weight gradient: gy (O, P) @ col^T (P, C*16) */
        {"conv 64->128 weight grad", 128, 1024, 256 * 8, 0, 1},
        {"conv 256->512 weight grad", 512, 4096, 16 * 128, 0, 1},
        /* Inception 1x1 convs at 35x35 and 17x17, 8 images */
        {"inception 1x1 288->64 35x35", 64, 1225 * 8, 288, 0, 0},
        {"inception 1x1 768->192 17x17", 192, 289 * 8, 768, 0, 0},
        {"linear 2048->1008, 50 rows", 50, 1008, 2048, 0, 1},
    };
    int ns = (int)(sizeof sh / sizeof sh[0]);
    /* all of gantry's products first, then OpenBLAS's: OpenBLAS's pthreads spin (sched_yield) for a while
       after each call, which would take a core from whatever runs next */
    double g[32], o[32], maxd[32];
    float *ref[32];
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < ns; i++) {
            shape *s = &sh[i];
            if (pass == 0) ref[i] = NULL;
            if (quick && s->M * (double)s->N * s->K > 3e9) continue;
            size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
            float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4);
            for (size_t k = 0; k < na; k++) A[k] = (float)((k * 2654435761u) % 1000) / 1000.0f - 0.5f;
            for (size_t k = 0; k < nb; k++) B[k] = (float)((k * 40503u) % 1000) / 1000.0f - 0.5f;
            int reps = quick ? 3 : 5;
            if (pass == 0) {
                g[i] = gflops_of(s, 0, A, B, C, reps);
                ref[i] = C, C = NULL;
            } else {
                o[i] = gflops_of(s, 1, A, B, C, reps);
                maxd[i] = 0;
                for (size_t k = 0; k < nc; k++) {
                    double d = fabs((double)C[k] - (double)ref[i][k]);
                    if (d > maxd[i]) maxd[i] = d;
                }
                free(ref[i]);
            }
            free(A), free(B), free(C);
        }
    printf("%-30s %5s %5s %5s   %9s %6s   %9s %6s   %7s\n", "product", "M", "N", "K", "gantry", "%peak", "OpenBLAS",
           "%peak", "ratio");
    for (int i = 0; i < ns; i++) {
        shape *s = &sh[i];
        if (quick && s->M * (double)s->N * s->K > 3e9) continue;
        printf("%-30s %5d %5d %5d   %9.1f %5.1f%%   %9.1f %5.1f%%   %6.2fx%s\n", s->what, s->M, s->N, s->K, g[i],
               100 * g[i] / ref_peak, o[i], 100 * o[i] / ref_peak, g[i] / o[i], maxd[i] > 1e-2 ? "  MISMATCH" : "");
    }
    return 0;
}
