/* The CUDA plugin's gemm (cuda/blas.cu), its real code, without a GPU: built here with g++ against
 * a stand-in for cuBLAS (cuda_mock_blas.cpp: cublasGemmStridedBatchedEx_64 with its argument checks,
 * computed with plain loops) and loaded with dlopen; each.h runs the packing kernel as a host loop.
 * The products must match gantry's naive CPU gemm (gemm.h) for contiguous, transposed, sliced,
 * broadcast (batch stride 0) and packed (both strides > 1, stride 0 inside a matrix) operands, the
 * views gt_matmul's and gt_linear's backward make, beta 1, K = 0; packing happens exactly when
 * needed; out of memory for the packing says so; TF32 only with GANTRY_CUDA_TF32=1. Skipped
 * without g++ or the CUDA headers. */
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/backend/cpu/gemm.h"
#include "../../src/backend/device_plugin.h"
#include "../common/harness.h"

typedef struct { /* cuda_mock_blas.cpp's */
    long calls, packs, fails, allocs, fast_calls;
    int fail_alloc;
    char last_fail[256];
} blas_mock;

static gt_kernels K;
static blas_mock *M;

typedef struct {
    const char *name;
    int64_t batch, M, N, K;
    int64_t a_rs, a_cs, a_bs, b_rs, b_cs, b_bs;
    float beta;
    int packs; /* packing copies expected */
} gemm_case;

static void check_case(const gemm_case *c) {
    int64_t na = (c->batch - 1) * c->a_bs + (c->M - 1) * c->a_rs + (c->K > 0 ? c->K - 1 : 0) * c->a_cs + 1;
    int64_t nb = (c->batch - 1) * c->b_bs + (c->K > 0 ? c->K - 1 : 0) * c->b_rs + (c->N - 1) * c->b_cs + 1;
    int64_t nc = c->batch * c->M * c->N;
    float *A = malloc((size_t)na * 4), *B = malloc((size_t)nb * 4), *C = malloc((size_t)nc * 4),
          *R = malloc((size_t)nc * 4);
    for (int64_t i = 0; i < na; i++) A[i] = (float)((i * 37 + 11) % 23) / 7.0f - 1.5f;
    for (int64_t i = 0; i < nb; i++) B[i] = (float)((i * 29 + 5) % 19) / 5.0f - 1.75f;
    for (int64_t i = 0; i < nc; i++) C[i] = R[i] = (float)(i % 5) - 2.0f;
    gt_mat a = {A, c->a_rs, c->a_cs}, b = {B, c->b_rs, c->b_cs};
    long packs = M->packs, fails = M->fails;
    CHECK_MSG(K.gemm(c->batch, c->M, c->N, c->K, a, c->a_bs, b, c->b_bs, c->beta, C) == GT_OK, "%s", c->name);
    gt_naive_gemm(c->batch, c->M, c->N, c->K, a, c->a_bs, b, c->b_bs, c->beta, R);
    CHECK_MSG(gt_test_close_buf(c->name, C, R, nc, 1e-5f, 1e-5f), "%s: differs from the naive gemm", c->name);
    CHECK_MSG(M->packs - packs == c->packs, "%s: %ld packing copies, expected %d", c->name, M->packs - packs,
              c->packs);
    CHECK_MSG(M->fails == fails, "%s: recorded '%s'", c->name, M->last_fail);
    free(A), free(B), free(C), free(R);
}

static void run(bool (*init)(gt_kernels *, char *, size_t)) {
    /* {name, batch, M, N, K, a_rs, a_cs, a_bs, b_rs, b_cs, b_bs, beta, packs} */
    const gemm_case t[] = {
        {"contiguous", 1, 5, 4, 3, 3, 1, 0, 4, 1, 0, 0.0f, 0},
        {"batched", 3, 5, 4, 3, 3, 1, 15, 4, 1, 12, 0.0f, 0},
        {"b shared", 3, 5, 4, 3, 3, 1, 15, 4, 1, 0, 0.0f, 0},
        {"a shared", 3, 5, 4, 3, 3, 1, 0, 4, 1, 12, 0.0f, 0},
        {"linear x @ w^T, bias (beta 1)", 1, 6, 4, 5, 5, 1, 0, 1, 5, 0, 1.0f, 0},
        {"linear of one row", 1, 1, 4, 5, 0, 1, 0, 1, 5, 0, 1.0f, 0},
        {"linear dx = gy @ w", 1, 6, 5, 4, 4, 1, 0, 5, 1, 0, 0.0f, 0},
        {"linear dw = gy^T @ x", 1, 4, 5, 6, 1, 4, 0, 5, 1, 0, 0.0f, 0},
        {"matmul da = gy @ b^T", 2, 5, 3, 4, 4, 1, 20, 1, 4, 12, 0.0f, 0},
        {"matmul db = a^T @ gy", 2, 3, 4, 5, 1, 3, 15, 4, 1, 20, 0.0f, 0},
        {"both transposed", 2, 5, 4, 3, 1, 5, 15, 1, 3, 12, 0.0f, 0},
        {"row-sliced", 1, 5, 4, 3, 7, 1, 0, 9, 1, 0, 0.0f, 0},
        {"a every other column", 2, 5, 4, 3, 6, 2, 30, 4, 1, 12, 0.0f, 1},
        {"b broadcast rows", 2, 5, 4, 3, 3, 1, 15, 0, 1, 4, 0.0f, 1},
        {"both packed, b shared", 3, 5, 4, 3, 6, 2, 30, 0, 1, 0, 1.0f, 2},
        {"vector @ matrix", 1, 1, 4, 3, 3, 1, 0, 4, 1, 0, 0.0f, 0},
        {"matrix @ vector", 1, 5, 1, 3, 3, 1, 0, 1, 1, 0, 0.0f, 0},
        {"outer product", 1, 5, 4, 1, 1, 1, 0, 4, 1, 0, 0.0f, 0},
        {"K = 0", 2, 3, 4, 0, 1, 1, 0, 1, 1, 0, 0.0f, 0},
        {"K = 0, beta 1", 2, 3, 4, 0, 1, 1, 0, 1, 1, 0, 1.0f, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) check_case(&t[i]);
    CHECK(M->fast_calls == 0);
    /* out of memory for a packing copy: GT_ERR_OOM, nothing recorded */
    float buf[64] = {0};
    gt_mat a = {buf, 6, 2}, b = {buf, 4, 1};
    M->fail_alloc = 1;
    long fails = M->fails;
    CHECK(K.gemm(1, 5, 4, 3, a, 0, b, 0, 0.0f, buf + 32) == GT_ERR_OOM && M->fails == fails);
    M->fail_alloc = 0;
    /* GANTRY_CUDA_TF32=1 (read when the table is made) */
    char err[256];
    setenv("GANTRY_CUDA_TF32", "1", 1);
    CHECK(init(&K, err, sizeof err));
    unsetenv("GANTRY_CUDA_TF32");
    check_case(&t[0]);
    CHECK(M->fast_calls == 1);
    CHECK(init(&K, err, sizeof err));
}

static void test_blas(void) {
    const char *home = getenv("CUDA_HOME");
    char inc[512], probe[600];
    snprintf(inc, sizeof inc, "%s/include", home && home[0] ? home : "/usr/local/cuda");
    snprintf(probe, sizeof probe, "%s/cublas_v2.h", inc);
    if (access(probe, R_OK) != 0 || system("command -v g++ > /dev/null 2>&1") != 0) {
        printf("skipped: needs g++ and the CUDA headers (CUDA_HOME or /usr/local/cuda)\n");
        return;
    }
    char so[1024], cmd[4096];
    snprintf(so, sizeof so, "%s", gt_test_path("blas_mock.so"));
    snprintf(cmd, sizeof cmd,
             "g++ -std=c++17 -shared -fPIC -O1 -Wall -Wextra -Wl,-Bsymbolic -I%s/include -I%s -x c++ %s/cuda/blas.cu "
             "%s/tests/backend/cuda_mock_blas.cpp -o %s",
             GT_SOURCE_DIR, inc, GT_SOURCE_DIR, GT_SOURCE_DIR, so);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "building blas.cu with the mock cuBLAS failed: %s", cmd);
    if (rc != 0) return;
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(h != NULL, "dlopen: %s", dlerror());
    if (!h) return;
    bool (*init)(gt_kernels *, char *, size_t) = NULL;
    *(void **)&init = dlsym(h, "gt_cuda_blas_init");
    M = (blas_mock *)dlsym(h, "gt_bmock");
    char err[256] = "";
    memset(&K, 0, sizeof K);
    CHECK(init && M);
    if (init && M) {
        CHECK_MSG(init(&K, err, sizeof err), "init: %s", err);
        CHECK(K.gemm && !K.conv_fwd);
        if (K.gemm) run(init);
    }
    /* kept loaded: what it holds for good (handles, caches) stays reachable for LeakSanitizer */
}

int main(void) {
    RUN(test_blas);
    return gt_test_finish();
}
