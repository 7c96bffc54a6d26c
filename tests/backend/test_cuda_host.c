/* The CUDA plugin's host-side decisions (cuda/cuda_host.h), on the CPU: the allocator's size
 * classes; the gemm plan (how each strided operand reaches cuBLAS, checked by running the planned
 * column-major call on a small CPU emulation of cublasGemmStridedBatched, with cuBLAS's leading-
 * dimension rules, against a plain row-major product), including the transposed views that
 * gt_matmul's and gt_linear's backward make; cuDNN's full output size for conv geometries. */
#include "../../cuda/cuda_host.h"
#include "../common/harness.h"

/* unused here: blas.cu, dnn.cu and alloc.cu record errors through plugin.cu's */
void gt_cuda_fail(int st, const char *fmt, ...) {
    (void)st, (void)fmt;
}

/* --- size classes ------------------------------------------------------------------------- */
static void test_size_classes(void) {
    const size_t MiB = (size_t)1 << 20;
    const struct {
        size_t in, out;
    } t[] = {{0, 512},           {1, 512},           {512, 512},         {513, 1024},
             {1000, 1024},       {MiB - 1, MiB},     {MiB, MiB},         {MiB + 1, 2 * MiB},
             {2 * MiB, 2 * MiB}, {3 * MiB, 4 * MiB}, {5 * MiB + 7, 6 * MiB}, {SIZE_MAX, 0},
             {SIZE_MAX - MiB, 0}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        CHECK_MSG(gt_cuda_size_class(t[i].in) == t[i].out, "size_class(%zu) = %zu, expected %zu", t[i].in,
                  gt_cuda_size_class(t[i].in), t[i].out);
    /* every class holds its request, is a multiple of its rounding, and is the smallest such */
    for (size_t n = 1; n < 3 * MiB; n += 4093) {
        size_t c = gt_cuda_size_class(n), r = n <= MiB ? 512 : 2 * MiB;
        CHECK_MSG(c >= n && c % r == 0 && c - n < r, "size_class(%zu) = %zu", n, c);
    }
}

/* --- operand layouts ------------------------------------------------------------------------ */
static void test_layout_table(void) {
    const struct {
        int64_t R, C, rs, cs;
        gt_cuda_op op;
        int64_t ld;
        bool copy;
    } t[] = {
        {4, 3, 3, 1, GT_CUDA_OP_N, 3, false},   /* contiguous */
        {4, 3, 5, 1, GT_CUDA_OP_N, 5, false},   /* rows of a wider matrix (a column slice) */
        {4, 3, 1, 4, GT_CUDA_OP_T, 4, false},   /* transpose of a contiguous (3, 4) */
        {4, 3, 1, 6, GT_CUDA_OP_T, 6, false},   /* transpose of a row-sliced (3, 6) */
        {1, 5, 0, 1, GT_CUDA_OP_N, 5, false},   /* one row, no row stride (gt_linear of one sample) */
        {1, 5, 7, 3, GT_CUDA_OP_T, 3, false},   /* one row, strided columns */
        {5, 1, 1, 0, GT_CUDA_OP_N, 1, false},   /* one column */
        {5, 1, 4, 9, GT_CUDA_OP_N, 4, false},   /* one column, strided rows */
        {1, 1, 0, 0, GT_CUDA_OP_N, 1, false},   /* a scalar */
        {4, 3, 6, 2, GT_CUDA_OP_N, 3, true},    /* every other column: both strides > 1 */
        {4, 3, 0, 1, GT_CUDA_OP_N, 3, true},    /* a row broadcast down the rows */
        {4, 3, 1, 0, GT_CUDA_OP_N, 3, true},    /* a column broadcast across */
        {4, 3, 1, 1, GT_CUDA_OP_N, 3, true},    /* overlapping rows */
        {4, 3, 2, 1, GT_CUDA_OP_N, 3, true},    /* rows closer than their length */
        {4, 3, 1, 3, GT_CUDA_OP_N, 3, true},    /* columns closer than their length */
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        gt_cuda_layout L = gt_cuda_gemm_layout(t[i].R, t[i].C, t[i].rs, t[i].cs);
        CHECK_MSG(L.op == t[i].op && L.ld == t[i].ld && L.copy == t[i].copy,
                  "layout(R %lld, C %lld, rs %lld, cs %lld) = (%s, ld %lld, copy %d), expected (%s, ld %lld, copy %d)",
                  (long long)t[i].R, (long long)t[i].C, (long long)t[i].rs, (long long)t[i].cs,
                  L.op ? "T" : "N", (long long)L.ld, (int)L.copy, t[i].op ? "T" : "N", (long long)t[i].ld,
                  (int)t[i].copy);
    }
}

/* cublasGemmStridedBatched on the CPU: column-major C[b] = op(A[b]) op(B[b]) + beta C[b], after
 * cuBLAS's argument checks (false when cuBLAS would answer CUBLAS_STATUS_INVALID_VALUE). */
static bool emu_gemm(gt_cuda_op ta, gt_cuda_op tb, int64_t m, int64_t n, int64_t k, const float *A, int64_t lda,
                     int64_t sa, const float *B, int64_t ldb, int64_t sb, float beta, float *C, int64_t ldc,
                     int64_t sc, int64_t batch) {
    int64_t arows = ta == GT_CUDA_OP_N ? m : k, brows = tb == GT_CUDA_OP_N ? k : n;
    if (m < 0 || n < 0 || k < 0 || lda < (arows > 1 ? arows : 1) || ldb < (brows > 1 ? brows : 1) ||
        ldc < (m > 1 ? m : 1))
        return false;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < m; i++) {
                double acc = 0;
                for (int64_t p = 0; p < k; p++) {
                    float av = ta == GT_CUDA_OP_N ? A[b * sa + i + p * lda] : A[b * sa + p + i * lda];
                    float bv = tb == GT_CUDA_OP_N ? B[b * sb + p + j * ldb] : B[b * sb + j + p * ldb];
                    acc += (double)av * bv;
                }
                float *c = &C[b * sc + i + j * ldc];
                *c = (float)acc + (beta != 0.0f ? beta * *c : 0.0f);
            }
    return true;
}

/* blas.cu's packing kernel, on the CPU: nb strided (R, C) matrices to contiguous */
static void emu_pack(int64_t nb, int64_t R, int64_t C, const float *src, int64_t bs, int64_t rs, int64_t cs,
                     float *dst) {
    for (int64_t t = 0; t < nb * R * C; t++) {
        int64_t j = t % C, i = (t / C) % R, b = t / (R * C);
        dst[t] = src[b * bs + i * rs + j * cs];
    }
}

typedef struct {
    const char *name;
    int64_t batch, M, N, K;
    int64_t a_rs, a_cs, a_bs, b_rs, b_cs, b_bs;
    float beta;
} gemm_case;

/* Runs the plan blas.cu makes for c on the emulated cuBLAS; compares with the row-major product. */
static void run_gemm_case(const gemm_case *c) {
    /* each operand's footprint: the largest index its strides reach, plus one */
    int64_t na = (c->batch - 1) * c->a_bs + (c->M - 1) * c->a_rs + (c->K - 1) * c->a_cs + 1;
    int64_t nb = (c->batch - 1) * c->b_bs + (c->K - 1) * c->b_rs + (c->N - 1) * c->b_cs + 1;
    int64_t nc = c->batch * c->M * c->N;
    float *A = malloc((size_t)na * 4), *B = malloc((size_t)nb * 4), *C = malloc((size_t)nc * 4),
          *R = malloc((size_t)nc * 4);
    float *pa = malloc((size_t)(c->batch * c->M * c->K) * 4), *pb = malloc((size_t)(c->batch * c->K * c->N) * 4);
    for (int64_t i = 0; i < na; i++) A[i] = (float)((i * 37 + 11) % 23) / 7.0f - 1.5f;
    for (int64_t i = 0; i < nb; i++) B[i] = (float)((i * 29 + 5) % 19) / 5.0f - 1.75f;
    for (int64_t i = 0; i < nc; i++) C[i] = R[i] = (float)(i % 5) - 2.0f;
    /* the reference: row-major, straight from gemm.h's definition */
    for (int64_t b = 0; b < c->batch; b++)
        for (int64_t i = 0; i < c->M; i++)
            for (int64_t j = 0; j < c->N; j++) {
                double acc = 0;
                for (int64_t p = 0; p < c->K; p++)
                    acc += (double)A[b * c->a_bs + i * c->a_rs + p * c->a_cs] *
                           B[b * c->b_bs + p * c->b_rs + j * c->b_cs];
                float *r = &R[(b * c->M + i) * c->N + j];
                *r = (float)acc + (c->beta != 0.0f ? c->beta * *r : 0.0f);
            }
    gt_cuda_gemm_plan P =
        gt_cuda_gemm_plan_make(c->M, c->N, c->K, c->a_rs, c->a_cs, c->a_bs, c->b_rs, c->b_cs, c->b_bs);
    const float *opa = A, *opb = B;
    if (P.pack_a) emu_pack(c->a_bs ? c->batch : 1, c->M, c->K, A, c->a_bs, c->a_rs, c->a_cs, pa), opa = pa;
    if (P.pack_b) emu_pack(c->b_bs ? c->batch : 1, c->K, c->N, B, c->b_bs, c->b_rs, c->b_cs, pb), opb = pb;
    bool ok = emu_gemm(P.transa, P.transb, P.m, P.n, P.k, opb, P.lda, P.stride_a, opa, P.ldb, P.stride_b, c->beta, C,
                       P.ldc, P.stride_c, c->batch);
    CHECK_MSG(ok, "%s: the planned cuBLAS call breaks cuBLAS's leading-dimension rules", c->name);
    if (ok) CHECK_MSG(gt_test_close_buf(c->name, C, R, nc, 1e-5f, 1e-5f), "%s: planned product differs", c->name);
    free(A), free(B), free(C), free(R), free(pa), free(pb);
}

static void test_gemm_plans(void) {
    /* {name, batch, M, N, K, a_rs, a_cs, a_bs, b_rs, b_cs, b_bs, beta} */
    const gemm_case t[] = {
        {"contiguous", 1, 5, 4, 3, 3, 1, 0, 4, 1, 0, 0.0f},
        {"batched contiguous", 3, 5, 4, 3, 3, 1, 15, 4, 1, 12, 0.0f},
        {"b shared across the batch", 3, 5, 4, 3, 3, 1, 15, 4, 1, 0, 0.0f},
        {"a shared across the batch", 3, 5, 4, 3, 3, 1, 0, 4, 1, 12, 0.0f},
        /* gt_linear: x (R, in) @ w^T with w (out, in) contiguous, bias fused (beta 1) */
        {"linear x @ w^T", 1, 6, 4, 5, 5, 1, 0, 1, 5, 0, 1.0f},
        {"linear of one row (rs 0)", 1, 1, 4, 5, 0, 1, 0, 1, 5, 0, 1.0f},
        /* gt_linear's backward: gy (R, out) @ w; gy^T (out, R) @ x (R, in) */
        {"linear dx = gy @ w", 1, 6, 5, 4, 4, 1, 0, 5, 1, 0, 0.0f},
        {"linear dw = gy^T @ x", 1, 4, 5, 6, 1, 4, 0, 5, 1, 0, 0.0f},
        /* gt_matmul's backward, a (B, M, K), b (B, K, N), gy (B, M, N) contiguous:
         * da = gy @ b^T (b^T: (N, K) with rs 1, cs N); db = a^T @ gy (a^T: (K, M) with rs 1, cs K) */
        {"matmul da = gy @ b^T", 2, 5, 3, 4, 4, 1, 20, 1, 4, 12, 0.0f},
        {"matmul db = a^T @ gy", 2, 3, 4, 5, 1, 3, 15, 4, 1, 20, 0.0f},
        /* b (K, N) shared: db = a2^T (K, B*M) @ gy2 (B*M, N), a2 = a reshaped (B*M, K) */
        {"matmul shared db = a2^T @ gy2", 1, 3, 4, 10, 1, 3, 0, 4, 1, 0, 0.0f},
        {"both transposed", 2, 5, 4, 3, 1, 5, 15, 1, 3, 12, 0.0f},
        {"row-sliced operands", 1, 5, 4, 3, 7, 1, 0, 9, 1, 0, 0.0f},
        /* what needs a packing copy first */
        {"a with every other column", 2, 5, 4, 3, 6, 2, 30, 4, 1, 12, 0.0f},
        {"b broadcast down its rows", 2, 5, 4, 3, 3, 1, 15, 0, 1, 4, 0.0f},
        {"b broadcast, shared", 3, 5, 4, 3, 3, 1, 15, 0, 1, 0, 0.0f},
        {"a column broadcast, beta 1", 1, 5, 4, 3, 1, 0, 0, 4, 1, 0, 1.0f},
        {"vector @ matrix", 1, 1, 4, 3, 3, 1, 0, 4, 1, 0, 0.0f},
        {"matrix @ vector", 1, 5, 1, 3, 3, 1, 0, 1, 1, 0, 0.0f},
        {"outer product", 1, 5, 4, 1, 1, 1, 0, 4, 1, 0, 0.0f},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) run_gemm_case(&t[i]);
}

/* --- conv output sizes ---------------------------------------------------------------------- */
static void test_conv_natural(void) {
    CHECK(gt_cuda_conv_natural(7, 0, 1, 3, 2) == 3);   /* (7 - 3) / 2 + 1 */
    CHECK(gt_cuda_conv_natural(8, 1, 1, 4, 2) == 4);   /* DCGAN's 4x4 stride-2 pad-1 */
    CHECK(gt_cuda_conv_natural(4, 0, 1, 4, 1) == 1);   /* the last 4x4 to 1x1 */
    CHECK(gt_cuda_conv_natural(9, 2, 2, 3, 1) == 9);   /* dilation 2, pad 2 keeps the size */
    CHECK(gt_cuda_conv_natural(2, 0, 1, 3, 1) == 0);   /* input smaller than the kernel */
    /* conv_transpose2d(stride 2, pad 0, dilation 3, kernel 2, output_padding 2): from Hin = 3 its
     * output is H = (3 - 1) 2 + 3 (2 - 1) + 2 + 1 = 10, whose conv's natural size is 4 > Hin: the
     * geometry's ho = 3 is smaller, which dnn.cu's crop/zero-pad path handles */
    CHECK(gt_cuda_conv_natural(10, 0, 3, 2, 2) == 4);
}

int main(void) {
    RUN(test_size_classes);
    RUN(test_layout_table);
    RUN(test_gemm_plans);
    RUN(test_conv_natural);
    return gt_test_finish();
}
