/* The autograd engine itself: accumulation, no_grad, detach, retain_graph,
 * gt_grad on intermediates, unused inputs, create_graph, shared subgraphs. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

static gt_tensor *leaf(float v) {
    gt_tensor *t = gt_full(S(2), v);
    t->requires_grad = true;
    return t;
}

static void test_accumulates_across_backward_calls(void) {
    gt_tensor *x = leaf(3.0f);
    CHECK(gt_backward(gt_sum_all(gt_mul(x, x))) == GT_OK); /* 2x = 6 */
    CHECK(x->grad && gt_data(x->grad)[0] == 6.0f);
    CHECK(gt_backward(gt_sum_all(gt_mul_scalar(x, 5.0f))) == GT_OK); /* + 5 */
    CHECK(gt_data(x->grad)[1] == 11.0f);
    gt_zero_grad(x);
    CHECK(x->grad == NULL);
}

static void test_diamond_and_reuse(void) {
    /* y = x*x + x*x*x uses x in several places: dy/dx = 2x + 3x^2 */
    gt_tensor *x = leaf(2.0f);
    gt_tensor *xx = gt_mul(x, x);
    gt_tensor *y = gt_sum_all(gt_add(xx, gt_mul(xx, x)));
    CHECK(gt_backward(y) == GT_OK);
    CHECK(fabsf(gt_data(x->grad)[0] - 16.0f) < 1e-6f);
}

static void test_no_grad_and_detach(void) {
    gt_tensor *x = leaf(1.0f);
    bool prev = gt_no_grad_begin();
    gt_tensor *y = gt_mul(x, x);
    gt_grad_mode_restore(prev);
    CHECK(!y->requires_grad && y->node == NULL);
    CHECK(gt_backward(gt_sum_all(y)) == GT_ERR_STATE);
    gt_tensor *d = gt_detach(gt_mul(x, x));
    CHECK(!d->requires_grad && d->node == NULL);
    /* detach shares storage */
    gt_tensor *e = gt_detach(x);
    CHECK(e->storage == x->storage);
}

static void test_graph_freed_unless_retained(void) {
    gt_tensor *x = leaf(0.5f);
    gt_tensor *y = gt_sum_all(gt_tanh(x));
    CHECK(gt_backward(y) == GT_OK);
    /* the graph was freed: a second backward must refuse with a clear message */
    gt_status st = gt_backward(y);
    CHECK(st == GT_ERR_STATE);
    CHECK_MSG(strstr(gt_last_error(), "already freed") != NULL, "message: %s", gt_last_error());
    gt_tensor *z = gt_sum_all(gt_tanh(x));
    CHECK(gt_backward_ex(z, NULL, true, false) == GT_OK);
    CHECK(gt_backward_ex(z, NULL, false, false) == GT_OK);
    CHECK(fabsf(gt_data(x->grad)[0] - 3.0f * (1.0f - tanhf(0.5f) * tanhf(0.5f))) < 1e-6f);
}

static void test_grad_of_intermediate_and_unused(void) {
    gt_tensor *x = leaf(2.0f), *u = leaf(7.0f);
    gt_tensor *h = gt_mul_scalar(x, 3.0f);
    gt_tensor *y = gt_sum_all(gt_mul(h, h));
    gt_tensor *in[3] = {h, x, u}, *g[3];
    CHECK(gt_grad(y, NULL, 3, in, g, false) == GT_OK);
    CHECK(gt_data(g[0])[0] == 12.0f);      /* 2h */
    CHECK(gt_data(g[1])[0] == 36.0f);      /* 18x */
    CHECK(gt_data(g[2])[0] == 0.0f);       /* unused: zeros */
    CHECK(x->grad == NULL && u->grad == NULL); /* gt_grad leaves .grad alone */
    /* errors */
    gt_tensor *c = gt_ones(S(2));
    CHECK(gt_grad(y, NULL, 1, &c, g, false) == GT_ERR_STATE);
    CHECK(gt_backward(gt_mul(x, x)) == GT_ERR_SHAPE); /* non-scalar root without grad_root */
}

static void test_create_graph_second_derivative(void) {
    /* f = sum(x^3); g = 3x^2; sum(g) differentiates to 6x */
    gt_tensor *x = leaf(1.5f);
    gt_tensor *f = gt_sum_all(gt_pow_scalar(x, 3.0f));
    gt_tensor *g;
    CHECK(gt_grad(f, NULL, 1, &x, &g, true) == GT_OK);
    CHECK(g->requires_grad);
    CHECK(fabsf(gt_data(g)[0] - 6.75f) < 1e-5f);
    CHECK(gt_backward(gt_sum_all(g)) == GT_OK);
    CHECK(fabsf(gt_data(x->grad)[0] - 9.0f) < 1e-5f);
    /* without create_graph the gradient carries no graph */
    gt_tensor *f2 = gt_sum_all(gt_pow_scalar(x, 3.0f)), *g2;
    CHECK(gt_grad(f2, NULL, 1, &x, &g2, false) == GT_OK);
    CHECK(!g2->requires_grad && g2->node == NULL);
}

static void test_backward_with_grad_root(void) {
    gt_tensor *x = leaf(2.0f);
    gt_tensor *y = gt_mul(x, x);
    gt_tensor *gr = gt_from_data(S(2), (float[]){1.0f, -2.0f});
    CHECK(gt_backward_ex(y, gr, false, false) == GT_OK);
    CHECK(gt_data(x->grad)[0] == 4.0f && gt_data(x->grad)[1] == -8.0f);
}

static void test_scopes_free_everything(void) {
    int64_t before = gt_live_tensors();
    gt_tensor *w = leaf(0.3f);
    for (int step = 0; step < 200; step++) {
        int m = gt_scope_begin();
        gt_tensor *x = gt_test_randn((uint64_t)step, S(4, 2), 1.0f);
        gt_tensor *loss = gt_mean_all(gt_tanh(gt_mul(x, w)));
        CHECK(gt_backward(loss) == GT_OK);
        gt_scope_end(m);
    }
    /* w and its .grad remain */
    CHECK(gt_live_tensors() - before == 2);
}

static void test_retain_survives_scope(void) {
    gt_tensor *kept;
    int m = gt_scope_begin();
    kept = gt_retain(gt_full(S(3), 4.0f));
    gt_scope_end(m);
    CHECK(gt_data(kept)[2] == 4.0f);
    gt_release(kept);
}

int main(void) {
    RUN(test_accumulates_across_backward_calls);
    RUN(test_diamond_and_reuse);
    RUN(test_no_grad_and_detach);
    RUN(test_graph_freed_unless_retained);
    RUN(test_grad_of_intermediate_and_unused);
    RUN(test_create_graph_second_derivative);
    RUN(test_backward_with_grad_root);
    RUN(test_scopes_free_everything);
    RUN(test_retain_survives_scope);
    return gt_test_finish();
}
