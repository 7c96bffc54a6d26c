/* Matrix products: a naive triple loop (the oracle) and cblas_sgemm. */
#include "gemm.h"

#include <cblas.h>
#include <limits.h>
#include <stdatomic.h>

#include "../../internal.h"

static atomic_llong gt__packs = 0;

int64_t gt_cpu_gemm_pack_count(void) { return (int64_t)atomic_load(&gt__packs); }

/* --- naive ---------------------------------------------------------------- */
gt_status gt_naive_gemm(int64_t batch, int64_t M, int64_t N, int64_t K, gt_mat a, int64_t a_bs, gt_mat bm,
                        int64_t b_bs, float beta, float *c) {
    for (int64_t b = 0; b < batch; b++) {
        const float *pa = a.p + b * a_bs; // (M, K) strided
        const float *pb = bm.p + b * b_bs; // (K, N) strided
        float *pc = c + b * M * N;         // (M, N) contiguous
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double acc = 0.0;
                for (int64_t k = 0; k < K; k++) acc += (double)pa[i * a.rs + k * a.cs] * (double)pb[k * bm.rs + j * bm.cs];
                pc[i * N + j] = (float)(beta == 0.0f ? acc : (double)beta * pc[i * N + j] + acc);
            }
    }
    return GT_OK;
}

/* --- fast ------------------------------------------------------------------ */
/* How BLAS sees a strided (R, C) matrix: row-major, possibly transposed, with
 * leading dimension ld. False when the layout needs packing. */
typedef struct {
    enum CBLAS_TRANSPOSE trans;
    int64_t ld;
} gt__blas_layout;

static bool gt__layout(int64_t R, int64_t C, int64_t rs, int64_t cs, gt__blas_layout *l) {
    int64_t r1 = GT_MAX(R, 1), c1 = GT_MAX(C, 1);
    /* row-major: unit column stride, rows ld apart */
    if (C == 1 || cs == 1) {
        int64_t ld = R == 1 ? c1 : rs;
        if (ld >= c1) {
            l->trans = CblasNoTrans;
            l->ld = ld;
            return true;
        }
    }
    /* column-major = the transpose of a row-major (C, R) matrix */
    if (R == 1 || rs == 1) {
        int64_t ld = C == 1 ? r1 : cs;
        if (ld >= r1) {
            l->trans = CblasTrans;
            l->ld = ld;
            return true;
        }
    }
    return false;
}

static void gt__pack(const float *p, int64_t R, int64_t C, int64_t rs, int64_t cs, float *dst) {
    for (int64_t i = 0; i < R; i++)
        for (int64_t j = 0; j < C; j++) dst[i * C + j] = p[i * rs + j * cs];
}

static bool gt__fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

gt_status gt_cpu_gemm(int64_t batch, int64_t M, int64_t N, int64_t K, gt_mat a, int64_t a_bs, gt_mat bm,
                      int64_t b_bs, float beta, float *c) {
    if (batch <= 0 || M == 0 || N == 0) return GT_OK;
    if (K == 0) {
        if (beta == 0.0f) memset(c, 0, (size_t)(batch * M * N) * sizeof(float));
        return GT_OK;
    }
    /* A shared B and rows of A that run on across the batch: one big product */
    if (batch > 1 && b_bs == 0 && a_bs == M * a.rs && (a.cs == 1 || K == 1)) {
        M *= batch;
        batch = 1;
    }
    if (!gt__fits_int(M) || !gt__fits_int(N) || !gt__fits_int(K))
        return gt_set_error(GT_ERR_ARG, "matmul: sizes (M=%lld, N=%lld, K=%lld) exceed what BLAS can index",
                            (long long)M, (long long)N, (long long)K);
    gt__blas_layout la = {CblasNoTrans, 0}, lb = {CblasNoTrans, 0};
    bool pack_a = !gt__layout(M, K, a.rs, a.cs, &la) || !gt__fits_int(la.ld);
    bool pack_b = !gt__layout(K, N, bm.rs, bm.cs, &lb) || !gt__fits_int(lb.ld);
    float *buf_a = NULL, *buf_b = NULL;
    if (pack_a) {
        buf_a = gt__alloc((size_t)(M * K) * sizeof(float));
        la.trans = CblasNoTrans;
        la.ld = K;
        atomic_fetch_add(&gt__packs, 1);
    }
    if (pack_b) {
        buf_b = gt__alloc((size_t)(K * N) * sizeof(float));
        lb.trans = CblasNoTrans;
        lb.ld = N;
        atomic_fetch_add(&gt__packs, 1);
    }
    if ((pack_a && !buf_a) || (pack_b && !buf_b)) {
        gt__free(buf_a);
        gt__free(buf_b);
        return gt_set_error(GT_ERR_OOM, "matmul: out of memory packing a (%lld, %lld) @ (%lld, %lld) operand",
                            (long long)M, (long long)K, (long long)K, (long long)N);
    }
    for (int64_t b = 0; b < batch; b++) {
        const float *pa = a.p + b * a_bs, *pb = bm.p + b * b_bs;
        if (pack_a && (b == 0 || a_bs != 0)) gt__pack(pa, M, K, a.rs, a.cs, buf_a);
        if (pack_b && (b == 0 || b_bs != 0)) gt__pack(pb, K, N, bm.rs, bm.cs, buf_b);
        cblas_sgemm(CblasRowMajor, la.trans, lb.trans, (int)M, (int)N, (int)K, 1.0f, pack_a ? buf_a : pa, (int)la.ld,
                    pack_b ? buf_b : pb, (int)lb.ld, beta, c + b * M * N, (int)N);
    }
    gt__free(buf_a);
    gt__free(buf_b);
    return GT_OK;
}
