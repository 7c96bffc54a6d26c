/* matmul and linear: golden values from PyTorch (outputs, gradients and
 * gradients of gradients), the sgemm path against the naive triple loop,
 * finite-difference gradient checks, views without copies, and errors. */
#include "../../src/backend/cpu/gemm.h"
#include "linalg_cases.h"

#define FN2(name, expr)                                     \
    static gt_tensor *name(gt_tensor *const *x, void *c) { \
        (void)c;                                            \
        return expr;                                        \
    }

FN2(f_mm, gt_matmul(x[0], x[1]))
FN2(f_mm_at, gt_matmul(gt_transpose(x[0], 0, 1), x[1]))
FN2(f_mm_bt, gt_matmul(x[0], gt_transpose(x[1], 0, 1)))
FN2(f_bmm_tt, gt_matmul(gt_transpose(x[0], 1, 2), gt_transpose(x[1], 1, 2)))
FN2(f_mm_strided, gt_matmul(gt_slice(x[0], 1, 0, 8, 2), x[1]))
FN2(f_bmm_permuted, gt_matmul(gt_permute(x[0], (int[]){1, 0, 2}), x[1]))
FN2(f_linear, gt_linear(x[0], x[1], x[2]))
FN2(f_linear_nobias, gt_linear(x[0], x[1], NULL))
FN2(f_linear_wt, gt_linear(x[0], gt_transpose(x[1], 0, 1), x[2]))
FN2(f_linear_xt, gt_linear(gt_transpose(x[0], 0, 1), x[1], x[2]))
FN2(f_linear_xperm, gt_linear(gt_permute(x[0], (int[]){1, 0, 2}), x[1], x[2]))

static const gt_case CASES[] = {
    {.name = "mm", .f = f_mm, .n = 2, .ndim = {2, 2}, .shape = {{3, 4}, {4, 5}}},
    {.name = "bmm", .f = f_mm, .n = 2, .ndim = {3, 3}, .shape = {{2, 3, 4}, {2, 4, 5}}},
    {.name = "bmm_shared_b", .f = f_mm, .n = 2, .ndim = {3, 2}, .shape = {{2, 3, 4}, {4, 5}}},
    {.name = "bmm_shared_a", .f = f_mm, .n = 2, .ndim = {2, 3}, .shape = {{3, 4}, {2, 4, 5}}},
    {.name = "bmm_batch1", .f = f_mm, .n = 2, .ndim = {3, 3}, .shape = {{1, 3, 4}, {2, 4, 5}}},
    {.name = "mm_at", .f = f_mm_at, .n = 2, .ndim = {2, 2}, .shape = {{4, 3}, {4, 5}}},
    {.name = "mm_bt", .f = f_mm_bt, .n = 2, .ndim = {2, 2}, .shape = {{3, 4}, {5, 4}}},
    {.name = "bmm_tt", .f = f_bmm_tt, .n = 2, .ndim = {3, 3}, .shape = {{2, 4, 3}, {2, 5, 4}}},
    {.name = "mm_strided", .f = f_mm_strided, .n = 2, .ndim = {2, 2}, .shape = {{3, 8}, {4, 5}}},
    {.name = "bmm_permuted", .f = f_bmm_permuted, .n = 2, .ndim = {3, 3}, .shape = {{3, 2, 4}, {2, 4, 5}}},
    {.name = "mm_outer", .f = f_mm, .n = 2, .ndim = {2, 2}, .shape = {{4, 1}, {1, 3}}},
    {.name = "linear", .f = f_linear, .n = 3, .ndim = {3, 2, 1}, .shape = {{2, 3, 4}, {5, 4}, {5}}},
    {.name = "linear_nobias_1d", .f = f_linear_nobias, .n = 2, .ndim = {1, 2}, .shape = {{4}, {5, 4}}},
    {.name = "linear_4d", .f = f_linear, .n = 3, .ndim = {4, 2, 1}, .shape = {{2, 1, 3, 4}, {5, 4}, {5}}},
    {.name = "linear_wt", .f = f_linear_wt, .n = 3, .ndim = {2, 2, 1}, .shape = {{3, 4}, {4, 5}, {5}}},
    {.name = "linear_xt", .f = f_linear_xt, .n = 3, .ndim = {2, 2, 1}, .shape = {{4, 3}, {5, 4}, {5}}},
    {.name = "linear_xperm", .f = f_linear_xperm, .n = 3, .ndim = {3, 2, 1}, .shape = {{3, 2, 4}, {5, 4}, {5}}},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static gt_tensor *inputs[NCASES][CASE_MAX_IN];

static void test_golden_pytorch(void) {
    cases_inputs(CASES, NCASES, inputs, 100);
    cases_golden("ops_matmul.py", CASES, NCASES, inputs, 1e-5f, 1e-5f);
}

static void test_fast_vs_naive(void) {
    cases_inputs(CASES, NCASES, inputs, 200);
    cases_fast_vs_naive(CASES, NCASES, inputs, 1e-5f, 1e-5f);
}

static void test_gradcheck(void) {
    cases_inputs(CASES, NCASES, inputs, 300);
    cases_gradcheck(CASES, NCASES, inputs, false);
}

static void test_gradgradcheck(void) {
    cases_inputs(CASES, NCASES, inputs, 400);
    cases_gradcheck(CASES, NCASES, inputs, true);
}

static void test_large_fast_vs_naive(void) {
    /* sizes where OpenBLAS blocks and threads, with views and shared batches */
    gt_tensor *a[2] = {gt_test_randn(1, S(96, 200), 1.0f), gt_test_randn(2, S(200, 72), 1.0f)};
    a[0]->requires_grad = a[1]->requires_grad = true;
    gt_test_fast_vs_naive("mm (96,200)@(200,72)", f_mm, 2, a, NULL, 1e-4f, 1e-4f);
    gt_tensor *b[2] = {gt_test_randn(3, S(6, 40, 33), 1.0f), gt_test_randn(4, S(33, 50), 1.0f)};
    b[0]->requires_grad = b[1]->requires_grad = true;
    gt_test_fast_vs_naive("bmm (6,40,33)@(33,50)", f_mm, 2, b, NULL, 1e-4f, 1e-4f);
    gt_tensor *c[2] = {gt_test_randn(5, S(5, 30, 20), 1.0f), gt_test_randn(6, S(5, 40, 30), 1.0f)};
    c[0]->requires_grad = c[1]->requires_grad = true;
    gt_test_fast_vs_naive("bmm_tt (5,20,30)@(5,30,40)", f_bmm_tt, 2, c, NULL, 1e-4f, 1e-4f);
    gt_tensor *l[3] = {gt_test_randn(7, S(4, 16, 128), 1.0f), gt_test_randn(8, S(64, 128), 0.1f),
                       gt_test_randn(9, S(64), 1.0f)};
    for (int i = 0; i < 3; i++) l[i]->requires_grad = true;
    gt_test_fast_vs_naive("linear (4,16,128)->64", f_linear, 3, l, NULL, 1e-4f, 1e-4f);
}

/* Transposed, row- and column-strided views go to sgemm as they are (its
 * panel packing reads any strides): each equals the naive kernel. */
static void test_strided_views(void) {
    gt_tensor *a = gt_test_randn(11, S(6, 5), 1.0f), *b = gt_test_randn(12, S(6, 7), 1.0f);
    gt_tensor *w = gt_test_randn(13, S(7, 5), 1.0f), *bias = gt_test_randn(14, S(7), 1.0f);
    gt_tensor *b3 = gt_test_randn(15, S(3, 5, 6), 1.0f), *x = gt_test_randn(16, S(5, 6), 1.0f);
    for (int k = 0; k < 7; k++) {
        gt_tensor *r[2];
        for (int naive = 0; naive < 2; naive++) {
            gt_backend_set(naive ? GT_BACKEND_NAIVE : GT_BACKEND_CPU);
            switch (k) {
            case 0: r[naive] = gt_matmul(gt_transpose(a, 0, 1), b); break; /* A^T */
            case 1: r[naive] = gt_matmul(b, gt_transpose(b, 0, 1)); break; /* B^T */
            case 2: r[naive] = gt_matmul(gt_slice(b, 0, 1, 5, 1), gt_slice(w, 0, 0, 7, 1)); break; /* row views */
            case 3: r[naive] = gt_matmul(gt_transpose(b3, 1, 2), gt_transpose(a, 0, 1)); break;   /* batched A^T */
            case 4: r[naive] = gt_linear(a, gt_slice(w, 0, 1, 6, 1), gt_slice(bias, 0, 1, 6, 1)); break;
            case 5: r[naive] = gt_linear(gt_transpose(x, 0, 1), w, bias); break;                    /* x^T */
            default: r[naive] = gt_matmul(gt_slice(b, 1, 0, 6, 2), gt_slice(w, 0, 0, 3, 1)); break; /* col stride 2 */
            }
        }
        gt_backend_set(GT_BACKEND_CPU);
        char what[32];
        snprintf(what, sizeof what, "strided view case %d", k);
        CHECK(r[0] && r[1] && gt_test_close(what, r[0], r[1], 1e-5f, 1e-5f));
    }
}

static void test_shapes_and_values(void) {
    /* (2,3)@(3,2) by hand; batch-broadcast shapes */
    gt_tensor *a = gt_from_data(S(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    gt_tensor *b = gt_from_data(S(3, 2), (float[]){7, 8, 9, 10, 11, 12});
    gt_tensor *y = gt_matmul(a, b);
    CHECK(y && y->ndim == 2 && y->shape[0] == 2 && y->shape[1] == 2);
    if (y) CHECK(gt_data(y)[0] == 58 && gt_data(y)[1] == 64 && gt_data(y)[2] == 139 && gt_data(y)[3] == 154);
    gt_tensor *y3 = gt_matmul(gt_zeros(S(4, 2, 3)), b);
    CHECK(y3 && y3->ndim == 3 && y3->shape[0] == 4 && y3->shape[2] == 2);
    gt_tensor *e = gt_matmul(gt_zeros(S(2, 0)), gt_zeros(S(0, 3))); /* K = 0: zeros */
    CHECK(e && gt_numel(e) == 6 && gt_data(e)[5] == 0.0f);
    gt_tensor *lb = gt_linear(gt_zeros(S(2, 0)), gt_zeros(S(3, 0)), gt_from_data(S(3), (float[]){1, 2, 3}));
    CHECK(lb && gt_data(lb)[4] == 2.0f); /* in = 0: only the bias */
    gt_tensor *l1 = gt_linear(gt_from_data(S(3), (float[]){1, 2, 3}), b, NULL);
    CHECK(l1 == NULL); /* w (3,2) has in = 2 */
    gt_clear_error();
    gt_tensor *l2 = gt_linear(gt_from_data(S(2), (float[]){1, -1}), b, gt_from_data(S(3), (float[]){1, 1, 1}));
    CHECK(l2 && l2->ndim == 1 && l2->shape[0] == 3 && gt_data(l2)[0] == 0.0f && gt_data(l2)[2] == 0.0f);
}

static void test_errors_name_shapes(void) {
    gt_tensor *a = gt_zeros(S(2, 3)), *b = gt_zeros(S(4, 5));
    check_error("inner mismatch", gt_matmul(a, b), GT_ERR_SHAPE, "(2, 3)", "(4, 5)");
    check_error("1-D", gt_matmul(gt_zeros(S(3)), gt_zeros(S(3, 2))), GT_ERR_SHAPE, "(3,)", "2 or 3 dims");
    check_error("4-D", gt_matmul(gt_zeros(S(1, 2, 2, 3)), gt_zeros(S(3, 2))), GT_ERR_SHAPE, "(1, 2, 2, 3)", NULL);
    check_error("batch", gt_matmul(gt_zeros(S(2, 2, 3)), gt_zeros(S(3, 3, 4))), GT_ERR_SHAPE, "(2, 2, 3)",
                "(3, 3, 4)");
    check_error("linear in", gt_linear(gt_zeros(S(5, 3)), gt_zeros(S(4, 2)), NULL), GT_ERR_SHAPE, "(5, 3)", "(4, 2)");
    check_error("linear bias", gt_linear(gt_zeros(S(5, 2)), gt_zeros(S(4, 2)), gt_zeros(S(3))), GT_ERR_SHAPE, "(3,)",
                "(4, 2)");
    check_error("linear w 3-D", gt_linear(gt_zeros(S(5, 2)), gt_zeros(S(1, 4, 2)), NULL), GT_ERR_SHAPE, "w", NULL);
    check_error("i32", gt_matmul(gt_from_i32(S(1, 1), (int32_t[]){1}), gt_zeros(S(1, 1))), GT_ERR_ARG, "float32",
                NULL);
    /* a NULL input propagates the first error untouched */
    CHECK(gt_matmul(gt_matmul(a, b), a) == NULL && strstr(gt_last_error(), "(4, 5)"));
    CHECK(gt_linear(NULL, a, NULL) == NULL);
}

static void test_backward_leaves(void) {
    /* loss.backward() through linear into .grad; the graph is freed afterwards */
    gt_tensor *x = gt_test_randn(21, S(4, 3), 1.0f), *w = gt_test_randn(22, S(2, 3), 1.0f);
    gt_tensor *b = gt_test_randn(23, S(2), 1.0f);
    w->requires_grad = b->requires_grad = true;
    gt_tensor *l = gt_sum_all(gt_linear(x, w, b));
    CHECK(gt_backward(l) == GT_OK);
    CHECK(w->grad && b->grad && !x->grad);
    /* d sum(x w^T + b) / dw[o, i] = sum_r x[r, i]; / db = R */
    float col[3] = {0};
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < 3; i++) col[i] += gt_data(x)[r * 3 + i];
    if (w->grad && b->grad) {
        CHECK(fabsf(gt_data(w->grad)[4] - col[1]) < 1e-5f);
        CHECK(gt_data(b->grad)[0] == 4.0f && gt_data(b->grad)[1] == 4.0f);
    }
    CHECK(gt_backward(l) == GT_ERR_STATE); /* graph already freed */
    gt_zero_grad(w);
    gt_zero_grad(b);
}

int main(void) {
    RUN(test_golden_pytorch);
    RUN(test_fast_vs_naive);
    RUN(test_gradcheck);
    RUN(test_gradgradcheck);
    RUN(test_large_fast_vs_naive);
    RUN(test_strided_views);
    RUN(test_shapes_and_values);
    RUN(test_errors_name_shapes);
    RUN(test_backward_leaves);
    return gt_test_finish();
}
