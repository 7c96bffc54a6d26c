/* The sgemm micro-kernels (see sgemm.h): AVX-512 12 x 32, AVX2 6 x 16 and a
 * portable 4 x 16. The x86 ones are compiled for their instruction sets with
 * target attributes, whatever the build's -march, and only ever called when
 * cpuid says the CPU has them (sgemm.c). */
#include "sgemm.h"

#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GT__X86 1
#endif

/* --- portable ------------------------------------------------------------------- */
#define GT__PMR 4
#define GT__PNR 16
#if defined(__GNUC__)
/* GCC / clang vector extensions: 8-float vectors, lowered to whatever SIMD the target has (SSE,
 * NEON, ...) or to scalars; the 4 x 2 accumulators stay in registers. */
typedef float gt__v8 __attribute__((vector_size(32)));
static void gt__kern_portable(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                              float beta) {
    gt__v8 acc[GT__PMR][2];
    memset(acc, 0, sizeof acc);
    for (int64_t k = 0; k < kc; k++, a += GT__PMR, b += GT__PNR) {
        gt__v8 b0, b1;
        memcpy(&b0, b, sizeof b0);
        memcpy(&b1, b + 8, sizeof b1);
        for (int r = 0; r < GT__PMR; r++) {
            acc[r][0] += a[r] * b0;
            acc[r][1] += a[r] * b1;
        }
    }
    float t[GT__PMR][GT__PNR];
    memcpy(t, acc, sizeof t);
#else
static void gt__kern_portable(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                              float beta) {
    float t[GT__PMR][GT__PNR];
    memset(t, 0, sizeof t);
    for (int64_t k = 0; k < kc; k++, a += GT__PMR, b += GT__PNR)
        for (int r = 0; r < GT__PMR; r++)
            for (int j = 0; j < GT__PNR; j++) t[r][j] += a[r] * b[j];
#endif
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < nr; j++) cr[j] = t[r][j];
        else
            for (int j = 0; j < nr; j++) cr[j] = beta * cr[j] + t[r][j];
    }
}
const gt_ukernel gt_ukernel_portable = {GT__PMR, GT__PNR, 256, 128, 2048, gt__kern_portable};

#ifdef GT__X86
/* --- AVX2 + FMA: 6 x 16, 12 ymm accumulators ------------------------------------------ */
__attribute__((target("avx2,fma"))) static void gt__kern_avx2(int64_t kc, const float *a, const float *b, float *c,
                                                               int64_t ldc, int mr, int nr, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++, a += 6, b += 16) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8), x;
#define GT__R2(i)                                                                                                     \
    x = _mm256_broadcast_ss(a + i);                                                                                   \
    c##i##0 = _mm256_fmadd_ps(x, b0, c##i##0);                                                                        \
    c##i##1 = _mm256_fmadd_ps(x, b1, c##i##1);
        GT__R2(0) GT__R2(1) GT__R2(2) GT__R2(3) GT__R2(4) GT__R2(5)
#undef GT__R2
    }
    __m256 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (nr == 16) {
        __m256 bv = _mm256_set1_ps(beta);
        for (int r = 0; r < mr; r++) {
            float *cr = c + r * ldc;
            if (beta == 0.0f) {
                _mm256_storeu_ps(cr, acc[r][0]);
                _mm256_storeu_ps(cr + 8, acc[r][1]);
            } else {
                _mm256_storeu_ps(cr, _mm256_fmadd_ps(bv, _mm256_loadu_ps(cr), acc[r][0]));
                _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(bv, _mm256_loadu_ps(cr + 8), acc[r][1]));
            }
        }
        return;
    }
    float t[6][16] __attribute__((aligned(32)));
    for (int r = 0; r < mr; r++) {
        _mm256_store_ps(t[r], acc[r][0]);
        _mm256_store_ps(t[r] + 8, acc[r][1]);
        float *cr = c + r * ldc;
        for (int j = 0; j < nr; j++) cr[j] = beta == 0.0f ? t[r][j] : beta * cr[j] + t[r][j];
    }
}
const gt_ukernel gt_ukernel_avx2 = {6, 16, 256, 144, 2048, gt__kern_avx2};

/* --- AVX-512: 12 x 32, 24 zmm accumulators ----------------------------------------------- */
__attribute__((target("avx512f"))) static void gt__kern_avx512(int64_t kc, const float *a, const float *b, float *c,
                                                                int64_t ldc, int mr, int nr, float beta) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    __m512 c80 = c00, c81 = c00, c90 = c00, c91 = c00, ca0 = c00, ca1 = c00, cb0 = c00, cb1 = c00;
    for (int r = 0; r < mr; r++) { /* the tile's two cache lines a row, while the product runs */
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + nr - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++, a += 12, b += 32) {
        _mm_prefetch((const char *)(a + 12 * 8), _MM_HINT_T0); /* A streams from L2: 8 steps ahead */
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16), x;
#define GT__R5(i, n)                                                                                                  \
    x = _mm512_set1_ps(a[n]);                                                                                         \
    c##i##0 = _mm512_fmadd_ps(x, b0, c##i##0);                                                                        \
    c##i##1 = _mm512_fmadd_ps(x, b1, c##i##1);
        GT__R5(0, 0) GT__R5(1, 1) GT__R5(2, 2) GT__R5(3, 3) GT__R5(4, 4) GT__R5(5, 5)
        GT__R5(6, 6) GT__R5(7, 7) GT__R5(8, 8) GT__R5(9, 9) GT__R5(a, 10) GT__R5(b, 11)
#undef GT__R5
    }
    __m512 acc[12][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51},
                         {c60, c61}, {c70, c71}, {c80, c81}, {c90, c91}, {ca0, ca1}, {cb0, cb1}};
    __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : (__mmask16)0;
    __m512 bv = _mm512_set1_ps(beta);
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        __m512 v0 = acc[r][0], v1 = acc[r][1];
        if (beta != 0.0f) {
            v0 = _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(m0, cr), v0);
            v1 = _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(m1, cr + 16), v1);
        }
        _mm512_mask_storeu_ps(cr, m0, v0);
        _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
}
const gt_ukernel gt_ukernel_avx512 = {12, 32, 256, 192, 4096, gt__kern_avx512};

/* --- AVX-512 packing: 16 x 16 transposes in registers ----------------------------------------- */
/* r[i] holds 16 consecutive floats of line i; afterwards r[j] holds element j of every line. */
__attribute__((target("avx512f"))) static inline void gt__tr16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) { /* each 128-bit lane: a 4 x 4 block of lines i..i+3 */
        u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) { /* element c (+4, +8, +12) of lines 0..15: lanes of u[c], u[4+c], u[8+c], u[12+c] */
        __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), v1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
        __m512 v2 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE), v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
        r[c] = _mm512_shuffle_f32x4(v0, v1, 0x88);
        r[c + 4] = _mm512_shuffle_f32x4(v0, v1, 0xDD);
        r[c + 8] = _mm512_shuffle_f32x4(v2, v3, 0x88);
        r[c + 12] = _mm512_shuffle_f32x4(v2, v3, 0xDD);
    }
}

/* n (<= 16) lines, line i at src + i * ld, 16 consecutive floats each, transposed into 16 rows of
 * dst (rows dst_ld apart, n floats written per row; lines past n read as zero). */
__attribute__((target("avx512f"))) static inline void gt__tr_block(const float *src, int64_t ld, int n, float *dst,
                                                                    int64_t dst_ld, int width) {
    __m512 r[16];
    for (int i = 0; i < 16; i++) r[i] = i < n ? _mm512_loadu_ps(src + i * ld) : _mm512_setzero_ps();
    gt__tr16(r);
    __mmask16 m = width >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << width) - 1);
    for (int k = 0; k < 16; k++) _mm512_mask_storeu_ps(dst + k * dst_ld, m, r[k]);
}

/* The panel packings of sgemm.c for the layouts that read along k (see there): A with unit column
 * stride (its MR rows, 16 k at a time), B with unit row stride (16 of its NR columns, 16 k at a
 * time). k0 .. kc - 16 * (kc / 16): the caller packs the rest. Return how many k they packed. */
__attribute__((target("avx512f"))) int64_t gt_pack_a_rows_avx512(int mr_panel, int m, int64_t kc, const float *src,
                                                                  int64_t rs, float *dst) {
    int64_t k0 = 0;
    for (; k0 + 16 <= kc; k0 += 16) gt__tr_block(src + k0, rs, m, dst + k0 * mr_panel, mr_panel, mr_panel);
    return k0;
}

__attribute__((target("avx512f"))) int64_t gt_pack_b_cols_avx512(int nr_panel, int n, int64_t kc, const float *src,
                                                                  int64_t cs, float *dst) {
    int64_t k0 = 0;
    for (; k0 + 16 <= kc; k0 += 16)
        for (int j = 0; j < nr_panel; j += 16) {
            int w = n - j < 16 ? (n - j > 0 ? n - j : 0) : 16;
            gt__tr_block(src + j * cs + k0, cs, w, dst + k0 * nr_panel + j, nr_panel, 16);
        }
    return k0;
}
#else
const gt_ukernel gt_ukernel_avx2 = {GT__PMR, GT__PNR, 256, 128, 2048, gt__kern_portable};
const gt_ukernel gt_ukernel_avx512 = {GT__PMR, GT__PNR, 256, 128, 2048, gt__kern_portable};
int64_t gt_pack_a_rows_avx512(int mr_panel, int m, int64_t kc, const float *src, int64_t rs, float *dst) { return 0; }
int64_t gt_pack_b_cols_avx512(int nr_panel, int n, int64_t kc, const float *src, int64_t cs, float *dst) { return 0; }
#endif
