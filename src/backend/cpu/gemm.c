/* Matrix products: a naive triple loop (the oracle) and gantry's sgemm. */
#include "gemm.h"

#include "../../internal.h"
#include "sgemm.h"

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
gt_status gt_cpu_gemm(int64_t batch, int64_t M, int64_t N, int64_t K, gt_mat a, int64_t a_bs, gt_mat bm,
                      int64_t b_bs, float beta, float *c) {
    if (batch <= 0 || M == 0 || N == 0) return GT_OK;
    /* A shared B and rows of A that run on across the batch: one big product */
    if (batch > 1 && b_bs == 0 && a_bs == M * a.rs) {
        M *= batch;
        batch = 1;
    }
    /* gantry's sgemm packs any strided layout into its panels itself: no copies here */
    for (int64_t b = 0; b < batch; b++)
        gt_sgemm(M, N, K, a.p + b * a_bs, a.rs, a.cs, bm.p + b * b_bs, bm.rs, bm.cs, beta, c + b * M * N, N, 0);
    return GT_OK;
}
