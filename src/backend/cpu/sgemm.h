/* gantry's own single-precision GEMM: C = A @ B + beta * C on strided
 * operands, with packed panels and a register-blocked micro-kernel chosen at
 * run time from cpuid (AVX-512, AVX2 + FMA, or portable C), so the speed of
 * the convolutions and linear layers does not depend on how a BLAS library
 * was built or configured. (OpenBLAS stays for LAPACK-style routines and as
 * the comparison in bench/.)
 *
 * Blocking (BLIS's loop order): NC columns of B at a time, KC of K, packed
 * into NR-wide panels (a KC x NR micro-panel stays in L1 while MC / MR
 * micro-kernels stream an MC x KC block of A, packed into MR-tall panels,
 * from L2). The micro-kernel keeps an MR x NR tile of C in registers. */
#ifndef GT_CPU_SGEMM_H
#define GT_CPU_SGEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    GT_CPU_PORTABLE, /* plain C (the compiler vectorizes what it can) */
    GT_CPU_AVX2,     /* AVX2 + FMA, 6 x 16 tiles */
    GT_CPU_AVX512,   /* AVX-512F, 12 x 32 tiles */
    GT_CPU_PATH_COUNT
} gt_cpu_path;

/* The path in use: the best this CPU has, or what $GANTRY_CPU (avx512, avx2,
 * portable) asks for, if the CPU has it (read once, at first use). */
gt_cpu_path gt_cpu_path_get(void);
/* Forces a path (tests, benchmarks); one the CPU lacks falls back to the best
 * below it. Returns the path now in use. */
gt_cpu_path gt_cpu_path_set(gt_cpu_path p);
const char *gt_cpu_path_name(gt_cpu_path p);

/* C (M, N), rows ldc apart, = A @ B + beta * C (beta 0: C is only written).
 * A (M, K): element (i, k) at a[i * ars + k * acs]; B (K, N): (k, j) at
 * b[k * brs + j * bcs] - any strides, so transposed views need no copy.
 * nthreads: 0 = OpenMP's threads (1 inside a parallel region), else at most
 * that many. */
void gt_sgemm(int64_t M, int64_t N, int64_t K, const float *a, int64_t ars, int64_t acs, const float *b, int64_t brs,
              int64_t bcs, float beta, float *c, int64_t ldc, int nthreads);

/* A packed once for products with many B's (a convolution's weights over every image of a
 * batch): its panels for every K block, for the kernel in use when it was made. */
typedef struct gt_ukernel gt_ukernel;
typedef struct {
    const gt_ukernel *u;
    int64_t M, K, kc, mpad; /* mpad: M rounded up to the kernel's MR */
    float *p;               /* (K / kc blocks) x (mpad / MR panels) x (kc x MR), owned */
} gt_sgemm_apack;
/* False (nothing allocated) when out of memory: use gt_sgemm then. */
bool gt_sgemm_apack_make(gt_sgemm_apack *pk, int64_t M, int64_t K, const float *a, int64_t ars, int64_t acs);
void gt_sgemm_apack_free(gt_sgemm_apack *pk); /* NULL-safe */
/* gt_sgemm with A from pk (read-only: threads may share one pack). */
void gt_sgemm_packed(const gt_sgemm_apack *pk, int64_t N, const float *b, int64_t brs, int64_t bcs, float beta,
                     float *c, int64_t ldc, int nthreads);

/* B given by a function that writes its panels, so a producer (a convolution's im2col) can write
 * straight into sgemm's layout, a block at a time, while it stays in cache, with no matrix in
 * between: rows k0 .. k0 + kc and columns j0 .. j0 + nc of B into nr-wide panels at dst, panel p
 * at dst + p * kc * nr holding dst[p * kc * nr + k * nr + j] = B(k0 + k, j0 + p * nr + j), zero for
 * the columns past nc. Called from several threads at once (each with its own dst). */
typedef void (*gt_sgemm_bpack_fn)(void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr, float *dst);
/* gt_sgemm_packed with B (pk->K, N) from fn. */
void gt_sgemm_packed_fn(const gt_sgemm_apack *pk, int64_t N, gt_sgemm_bpack_fn fn, void *ctx, float beta, float *c,
                        int64_t ldc, int nthreads);

/* This thread's scratch buffer of at least n floats, kept between calls (a big buffer allocated
 * afresh each call costs its page faults every time) and freed when the thread ends; the
 * contents are not kept. NULL when out of memory. */
float *gt_sgemm_scratch(size_t n);

/* Tests: act as if the panels' memory could not be had (the slow paths that then run). */
void gt_sgemm_set_no_panels(bool on);

/* cblas_sgemm's row-major arguments (alpha = 1), for call sites written for it. */
void gt_sgemm_rm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float *a, int64_t lda,
                 const float *b, int64_t ldb, float beta, float *c, int64_t ldc, int nthreads);

/* --- the kernels (sgemm_*.c) --------------------------------------------------- */
/* c (mr, nr) tile, rows ldc apart = beta * c + a_panel @ b_panel, where a is
 * kc x MR (k-major: a[k * MR + r]) and b kc x NR (b[k * NR + j]); only the
 * first mr rows and nr columns of the tile are written (beta 0: c not read). */
typedef void (*gt_ukernel_fn)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                              float beta);
struct gt_ukernel {
    int mr, nr;           /* register tile */
    int64_t kc, mc, nc;   /* cache blocks (mc a multiple of mr, nc of nr) */
    gt_ukernel_fn kernel;
};

extern const gt_ukernel gt_ukernel_portable, gt_ukernel_avx2, gt_ukernel_avx512;
/* AVX-512 packing of the layouts that read along k (transposes of 16 x 16 blocks in registers):
 * m rows of A (unit column stride, rows rs apart) into an mr_panel-tall panel, or n columns of B
 * (unit row stride, columns cs apart) into an nr_panel-wide one. They pack whole groups of 16 k
 * and return how many k they did; the caller packs the rest. */
int64_t gt_pack_a_rows_avx512(int mr_panel, int m, int64_t kc, const float *src, int64_t rs, float *dst);
int64_t gt_pack_b_cols_avx512(int nr_panel, int n, int64_t kc, const float *src, int64_t cs, float *dst);

#endif
