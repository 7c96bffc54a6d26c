/* The parameter registry (names, slab packing, gradients into the slab,
 * setting values by name) and PyTorch's default initialisation of each
 * module kind (bounds and statistics). Needs only elementwise ops. */
#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

static gt_conv_params conv_p(int stride, int pad, int groups) {
    return (gt_conv_params){.stride_h = stride, .stride_w = stride, .pad_h = pad, .pad_w = pad, .dil_h = 1,
                            .dil_w = 1, .groups = groups};
}

typedef struct {
    gt_nn_linear fc;
    gt_nn_conv2d c0;
    gt_nn_conv_transpose2d c1;
    gt_nn_batch_norm bn1;
    gt_nn_embedding emb;
} small_model;

static void build_small(small_model *m, gt_params *P, uint64_t seed) {
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_params_init(P);
    CHECK(gt_nn_linear_init(&m->fc, P, "G.fc", 4, 3, true, &r) == GT_OK);
    CHECK(gt_nn_conv2d_init(&m->c0, P, "G.net.0", 3, 8, 3, 3, conv_p(1, 1, 1), false, &r) == GT_OK);
    CHECK(gt_nn_conv_transpose2d_init(&m->c1, P, "G.net.1", 8, 4, 4, 4, conv_p(2, 1, 1), true, &r) == GT_OK);
    CHECK(gt_nn_batch_norm_init(&m->bn1, P, "G.bn1", 4, true, true) == GT_OK);
    CHECK(gt_nn_embedding_init(&m->emb, P, "G.emb", 10, 5, &r) == GT_OK);
}

static const char *SMALL_NAMES[] = {"G.fc.weight",    "G.fc.bias",    "G.net.0.weight",    "G.net.1.weight",
                                    "G.net.1.bias",   "G.bn1.weight", "G.bn1.bias",        "G.bn1.running_mean",
                                    "G.bn1.running_var", "G.emb.weight"};

static void test_registry_names(void) {
    small_model m;
    gt_params P;
    build_small(&m, &P, 1);
    CHECK(gt_params_count(&P) == 10);
    CHECK(gt_params_count_trainable(&P) == 8 && gt_params_count_buffers(&P) == 2);
    for (int i = 0; i < 10 && i < P.n; i++)
        CHECK_MSG(strcmp(P.v[i].name, SMALL_NAMES[i]) == 0, "%d: %s", i, P.v[i].name);
    CHECK(gt_params_get(&P, "G.fc.weight") == m.fc.weight);
    CHECK(gt_params_get(&P, "G.bn1.running_var") == m.bn1.running_var);
    CHECK(gt_params_find(&P, "G.emb.weight") == 9);
    CHECK(gt_params_find(&P, "G.fc") == -1 && gt_params_get(&P, "nope") == NULL);
    CHECK(m.c0.bias == NULL && m.c0.weight->shape[1] == 3);
    CHECK(m.c1.weight->shape[0] == 8 && m.c1.weight->shape[1] == 4);
    CHECK(P.v[0].t->requires_grad && !P.v[7].t->requires_grad && P.v[7].is_buffer);
    int64_t numel = 3 * 4 + 3 + 8 * 3 * 9 + 8 * 4 * 16 + 4 + 4 + 4 + 10 * 5;
    CHECK(gt_params_numel_trainable(&P) == numel);
    /* errors: a name used twice, a NULL, a non-leaf, adding after finalize */
    gt_nn_linear dup;
    gt_rng r;
    gt_rng_init(&r, 5);
    CHECK(gt_nn_linear_init(&dup, &P, "G.fc", 2, 2, false, &r) == GT_ERR_ARG);
    CHECK_MSG(strstr(gt_last_error(), "G.fc.weight") != NULL, "message: %s", gt_last_error());
    CHECK(gt_params_count(&P) == 10);
    CHECK(gt_params_add(&P, "x", NULL, false) != GT_OK);
    gt_tensor *leaf = gt_zeros(S(2));
    leaf->requires_grad = true;
    CHECK(gt_params_add(&P, "y", gt_mul_scalar(leaf, 2.0f), false) == GT_ERR_ARG);
    CHECK(gt_params_add(&P, "z", gt_from_i32(S(2), (int32_t[]){1, 2}), true) == GT_ERR_ARG);
    CHECK(gt_params_add(&P, "G.fc.weight2", m.fc.weight, false) == GT_ERR_ARG); /* same tensor twice */
    CHECK(gt_params_finalize(&P) == GT_OK);
    CHECK(P.numel == numel && P.buffer_numel == 8);
    CHECK(gt_params_add(&P, "late", gt_zeros(S(2)), false) == GT_ERR_STATE);
    CHECK(gt_params_finalize(&P) == GT_OK); /* idempotent */
    char buf[16];
    CHECK(gt_params_join(buf, sizeof buf, "D.block.0.conv", "weight") == GT_ERR_ARG); /* too long for 16 */
    CHECK(gt_params_join(buf, sizeof buf, "", "bias") == GT_OK && strcmp(buf, "bias") == 0);
    CHECK(gt_params_join(buf, sizeof buf, "a.b", "c") == GT_OK && strcmp(buf, "a.b.c") == 0);
    gt_params_free(&P);
    CHECK(P.n == 0 && P.slab == NULL);
}

static void test_slab_packing(void) {
    small_model m;
    gt_params P;
    build_small(&m, &P, 2);
    /* a user-registered strided view (a transposed tensor) is packed too */
    gt_tensor *base = gt_test_randn(9, S(3, 2), 1.0f);
    CHECK(gt_params_add(&P, "extra", gt_transpose(base, 0, 1), false) == GT_OK);
    gt_tensor *extra = gt_params_get(&P, "extra");
    int n = P.n;
    float *before[16];
    for (int i = 0; i < n; i++) {
        before[i] = malloc((size_t)gt_numel(P.v[i].t) * 4);
        gt_copy_to(P.v[i].t, before[i]);
    }
    CHECK(gt_params_finalize(&P) == GT_OK);
    int64_t off = 0, boff = 0;
    for (int i = 0; i < n; i++) {
        gt_param *p = &P.v[i];
        gt_tensor *slab = p->is_buffer ? P.buffers : P.slab;
        CHECK_MSG(p->t->storage == slab->storage, "%s not in its slab", p->name);
        CHECK(gt_is_contiguous(p->t));
        CHECK(p->offset == (p->is_buffer ? boff : off));
        CHECK(gt_data(p->t) == gt_data(slab) + p->offset);
        gt_test_close_buf(p->name, gt_data(p->t), before[i], gt_numel(p->t), 0, 0);
        if (p->is_buffer) {
            CHECK(p->t->grad == NULL);
            boff += gt_numel(p->t);
        } else {
            CHECK(p->t->grad && p->t->grad->storage == P.grad->storage && gt_same_shape(p->t->grad, p->t));
            CHECK(gt_data(p->t->grad) == gt_data(P.grad) + p->offset);
            off += gt_numel(p->t);
        }
        free(before[i]);
    }
    CHECK(off == P.numel && boff == P.buffer_numel);
    CHECK(extra->shape[0] == 2 && extra->shape[1] == 3 && gt_data(extra)[1] == gt_data(base)[2]);
    CHECK(gt_data(base)[0] == gt_data(extra)[0]); /* the original is untouched */
    /* the module's pointers are the registry's tensors, now views of the slab */
    gt_data(P.slab)[P.v[1].offset + 2] = 42.0f;
    CHECK(gt_data(m.fc.bias)[2] == 42.0f);
    gt_data(P.buffers)[4 + 1] = 7.0f; /* running_mean (4), then running_var */
    CHECK(gt_data(m.bn1.running_var)[1] == 7.0f);
    /* setting values by name */
    float w[12];
    for (int i = 0; i < 12; i++) w[i] = (float)i;
    CHECK(gt_params_set_data(&P, "G.fc.weight", w, 12) == GT_OK);
    CHECK(gt_data(P.slab)[5] == 5.0f && gt_data(m.fc.weight)[11] == 11.0f);
    gt_tensor *src = gt_transpose(gt_from_data(S(4, 3), w), 0, 1); /* a strided source */
    CHECK(gt_params_set(&P, "G.fc.weight", src) == GT_OK);
    CHECK(gt_data(m.fc.weight)[1] == 3.0f);
    CHECK(gt_params_set_data(&P, "G.fc.weight", w, 11) == GT_ERR_SHAPE);
    CHECK_MSG(strstr(gt_last_error(), "(3, 4)") != NULL, "message: %s", gt_last_error());
    CHECK(gt_params_set_data(&P, "G.fc.weights", w, 12) == GT_ERR_ARG);
    CHECK(strstr(gt_last_error(), "G.fc.weights") != NULL);
    /* a view of any slab laid out like the params (optimizer moments) */
    gt_tensor *mom = gt_zeros(S(P.numel));
    gt_data(mom)[P.v[2].offset + 1] = 3.0f;
    gt_tensor *v = gt_params_slab_view(&P, 2, mom);
    CHECK(v && gt_same_shape(v, m.c0.weight) && gt_data(v)[1] == 3.0f);
    CHECK(gt_params_slab_view(&P, 2, gt_zeros(S(3))) == NULL && gt_last_status() == GT_ERR_SHAPE);
    gt_params_free(&P);
}

static void test_grads_into_slab(void) {
    gt_params P;
    gt_params_init(&P);
    gt_tensor *a = gt_test_randn(1, S(3, 4), 1.0f), *b = gt_test_randn(2, S(5), 1.0f);
    CHECK(gt_params_add(&P, "a", a, false) == GT_OK && gt_params_add(&P, "b", b, false) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK);
    gt_tensor *ga = a->grad;
    /* loss = sum(a*a) + 3*sum(b), twice: gradients accumulate in place */
    for (int rep = 1; rep <= 2; rep++) {
        gt_tensor *loss = gt_add(gt_sum_all(gt_mul(a, a)), gt_mul_scalar(gt_sum_all(b), 3.0f));
        CHECK(gt_backward(loss) == GT_OK);
        CHECK(a->grad == ga); /* the same view, accumulated into */
        for (int i = 0; i < 12; i++) CHECK(fabsf(gt_data(P.grad)[i] - rep * 2.0f * gt_data(a)[i]) < 1e-6f);
        for (int i = 0; i < 5; i++) CHECK(gt_data(P.grad)[12 + i] == rep * 3.0f);
    }
    CHECK(gt_params_zero_grad(&P) == GT_OK);
    for (int i = 0; i < 17; i++) CHECK(gt_data(P.grad)[i] == 0.0f);
    /* a dropped gradient is re-attached by zero_grad */
    gt_zero_grad(b);
    CHECK(b->grad == NULL);
    CHECK(gt_params_zero_grad(&P) == GT_OK);
    CHECK(b->grad && b->grad->storage == P.grad->storage && gt_data(b->grad) == gt_data(P.grad) + 12);
    CHECK(gt_backward(gt_sum_all(b)) == GT_OK);
    for (int i = 0; i < 5; i++) CHECK(gt_data(P.grad)[12 + i] == 1.0f);
    /* a create_graph backward replaces ->grad; sync brings the values back */
    CHECK(gt_params_zero_grad(&P) == GT_OK);
    CHECK(gt_backward_ex(gt_sum_all(gt_mul(a, a)), NULL, false, true) == GT_OK);
    CHECK(a->grad->storage != P.grad->storage);
    CHECK(gt_params_sync_grads(&P) == GT_OK);
    CHECK(a->grad->storage == P.grad->storage);
    for (int i = 0; i < 12; i++) CHECK(fabsf(gt_data(P.grad)[i] - 2.0f * gt_data(a)[i]) < 1e-6f);
    gt_params_free(&P);
    gt_params Q;
    gt_params_init(&Q);
    CHECK(gt_params_zero_grad(&Q) == GT_ERR_STATE);
}

/* mean, std, max |x| of a tensor */
static void stats(const gt_tensor *t, double *mean, double *std, double *amax) {
    int64_t n = gt_numel(t);
    const float *d = gt_data(t);
    double s = 0, s2 = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        s += d[i];
        s2 += (double)d[i] * d[i];
        mx = fmax(mx, fabs(d[i]));
    }
    *mean = s / n;
    *std = sqrt(s2 / n - *mean * *mean);
    *amax = mx;
}

/* All within +-bound, max close to it, std close to bound/sqrt(3), mean ~ 0. */
static void check_uniform(const char *what, const gt_tensor *t, double bound) {
    double mean, std, amax;
    stats(t, &mean, &std, &amax);
    double n = (double)gt_numel(t), sd = bound / sqrt(3.0);
    CHECK_MSG(amax <= bound, "%s: max |w| %g > bound %g", what, amax, bound);
    CHECK_MSG(amax > bound * (1 - 20 / n), "%s: max |w| %g far below bound %g", what, amax, bound);
    /* the sample std of a uniform has relative standard error sqrt(0.2 / n): allow 6 of them */
    CHECK_MSG(fabs(std - sd) < 6 * sqrt(0.2 / n) * sd, "%s: std %g, want %g", what, std, sd);
    CHECK_MSG(fabs(mean) < 5 * sd / sqrt(n), "%s: mean %g", what, mean);
}

static void test_init_bounds(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 123);
    gt_nn_linear fc;
    gt_nn_conv2d cv;
    gt_nn_conv_transpose2d ct;
    gt_nn_batch_norm bn, bn_plain;
    gt_nn_embedding em;
    CHECK(gt_nn_linear_init(&fc, &P, "fc", 256, 512, true, &r) == GT_OK);
    CHECK(gt_nn_conv2d_init(&cv, &P, "conv", 32, 64, 3, 3, conv_p(1, 1, 2), true, &r) == GT_OK);
    CHECK(gt_nn_conv_transpose2d_init(&ct, &P, "convt", 64, 32, 4, 4, conv_p(2, 1, 1), true, &r) == GT_OK);
    CHECK(gt_nn_batch_norm_init(&bn, &P, "bn", 16, true, true) == GT_OK);
    CHECK(gt_nn_batch_norm_init(&bn_plain, &P, "bn2", 16, false, false) == GT_OK);
    CHECK(gt_nn_embedding_init(&em, &P, "emb", 1000, 64, &r) == GT_OK);
    CHECK(gt_params_finalize(&P) == GT_OK); /* values survive packing */
    check_uniform("linear.weight", fc.weight, 1.0 / 16.0);      /* fan_in 256 */
    check_uniform("linear.bias", fc.bias, 1.0 / 16.0);
    check_uniform("conv.weight", cv.weight, 1.0 / 12.0);        /* fan_in 32/2*3*3 = 144 */
    CHECK(cv.weight->shape[0] == 64 && cv.weight->shape[1] == 16);
    double mean, std, amax;
    stats(cv.bias, &mean, &std, &amax);
    CHECK(amax <= 1.0 / 12.0 && amax > 0.5 / 12.0);
    check_uniform("convt.weight", ct.weight, 1.0 / sqrt(512.0)); /* torch's fan_in: 32*4*4 */
    stats(ct.bias, &mean, &std, &amax);
    CHECK(amax <= 1.0 / sqrt(512.0) && amax > 0.5 / sqrt(512.0));
    for (int i = 0; i < 16; i++) {
        CHECK(gt_data(bn.weight)[i] == 1.0f && gt_data(bn.bias)[i] == 0.0f);
        CHECK(gt_data(bn.running_mean)[i] == 0.0f && gt_data(bn.running_var)[i] == 1.0f);
    }
    CHECK(bn.momentum == 0.1f && bn.eps == 1e-5f && bn.training && bn.num_features == 16);
    CHECK(bn_plain.weight == NULL && bn_plain.running_mean == NULL && gt_params_get(&P, "bn2.weight") == NULL);
    stats(em.weight, &mean, &std, &amax);
    CHECK_MSG(fabs(mean) < 0.02 && fabs(std - 1.0) < 0.02, "embedding mean %g std %g", mean, std);
    /* the same seed gives the same weights; another seed others */
    gt_params Q;
    gt_params_init(&Q);
    gt_nn_linear a, b;
    gt_rng_init(&r, 123);
    CHECK(gt_nn_linear_init(&a, &Q, "a", 256, 512, true, &r) == GT_OK);
    gt_rng_init(&r, 124);
    CHECK(gt_nn_linear_init(&b, &Q, "b", 256, 512, true, &r) == GT_OK);
    CHECK(memcmp(gt_data(a.weight), gt_data(fc.weight), 4 * 512 * 256) == 0);
    CHECK(memcmp(gt_data(a.weight), gt_data(b.weight), 4 * 512 * 256) != 0);
    gt_params_free(&Q);
    gt_params_free(&P);
}

static void test_init_functions(void) {
    gt_rng r;
    gt_rng_init(&r, 77);
    gt_tensor *w = gt_empty(S(128, 64, 3, 3));
    int64_t fi = 0, fo = 0;
    CHECK(gt_init_fans(w, &fi, &fo) == GT_OK && fi == 64 * 9 && fo == 128 * 9);
    CHECK(gt_init_fans(gt_empty(S(5)), &fi, &fo) == GT_ERR_SHAPE);
    CHECK(gt_init_kaiming_uniform(w, &r, 0.0f) == GT_OK); /* relu gain: sqrt(6 / fan_in) */
    check_uniform("kaiming a=0", w, sqrt(6.0 / (64 * 9)));
    CHECK(gt_init_kaiming_uniform(w, &r, sqrtf(5.0f)) == GT_OK);
    check_uniform("kaiming a=sqrt5", w, 1.0 / sqrt(64.0 * 9) * (1 + 1e-6));
    CHECK(gt_init_xavier_uniform(w, &r, 2.0f) == GT_OK);
    check_uniform("xavier gain 2", w, 2.0 * sqrt(6.0 / (64 * 9 + 128 * 9)));
    CHECK(gt_init_normal(w, &r, 0.0f, 0.02f) == GT_OK); /* DCGAN's init */
    double mean, std, amax;
    stats(w, &mean, &std, &amax);
    CHECK(fabs(mean) < 1e-3 && fabs(std - 0.02) < 5e-4);
    CHECK(gt_init_constant(w, 0.5f) == GT_OK && gt_data(w)[100] == 0.5f);
    CHECK(gt_init_uniform(w, NULL, 0, 1) == GT_ERR_ARG);
    CHECK(gt_init_normal(gt_transpose(w, 0, 1), &r, 0, 1) == GT_ERR_ARG);
}

static void test_module_errors(void) {
    gt_params P;
    gt_params_init(&P);
    gt_rng r;
    gt_rng_init(&r, 1);
    gt_nn_conv2d c;
    gt_nn_conv_transpose2d ct;
    gt_nn_linear l;
    CHECK(gt_nn_conv2d_init(&c, &P, "c", 3, 8, 3, 3, (gt_conv_params){0}, true, &r) == GT_ERR_ARG);
    CHECK_MSG(strstr(gt_last_error(), "gt_conv_params_make") != NULL, "message: %s", gt_last_error());
    CHECK(gt_nn_conv2d_init(&c, &P, "c", 3, 8, 3, 3, conv_p(1, 1, 2), true, &r) == GT_ERR_ARG);
    CHECK(strstr(gt_last_error(), "groups 2") != NULL);
    gt_conv_params op = conv_p(2, 1, 1);
    op.out_pad_h = op.out_pad_w = 2;
    CHECK(gt_nn_conv_transpose2d_init(&ct, &P, "ct", 3, 8, 4, 4, op, true, &r) == GT_ERR_ARG);
    op.out_pad_h = op.out_pad_w = 1;
    CHECK(gt_nn_conv2d_init(&c, &P, "c", 3, 8, 3, 3, op, true, &r) == GT_ERR_ARG);
    CHECK(gt_nn_conv_transpose2d_init(&ct, &P, "ct", 3, 8, 4, 4, op, true, &r) == GT_OK);
    CHECK(gt_nn_linear_init(&l, &P, "l", 0, 3, true, &r) == GT_ERR_ARG);
    CHECK(gt_nn_linear_init(&l, &P, "l", 2, 3, true, NULL) == GT_ERR_ARG);
    CHECK(gt_nn_linear_init(&l, NULL, "l", 2, 3, true, &r) == GT_ERR_ARG);
    CHECK(gt_params_count(&P) == 2);
    gt_params_free(&P);
}

static void test_copy_layout(void) {
    small_model a, b;
    gt_params P, Q;
    build_small(&a, &P, 3);
    build_small(&b, &Q, 4);
    CHECK(gt_params_same_layout(&P, &Q));
    CHECK(memcmp(gt_data(a.fc.weight), gt_data(b.fc.weight), 12 * 4) != 0);
    CHECK(gt_params_copy(&Q, &P) == GT_OK);
    for (int i = 0; i < P.n; i++)
        gt_test_close(P.v[i].name, Q.v[i].t, P.v[i].t, 0, 0);
    gt_params R;
    gt_params_init(&R);
    gt_rng r;
    gt_rng_init(&r, 1);
    gt_nn_linear l;
    CHECK(gt_nn_linear_init(&l, &R, "G.fc", 4, 3, true, &r) == GT_OK);
    CHECK(!gt_params_same_layout(&P, &R));
    CHECK(gt_params_copy(&R, &P) == GT_ERR_ARG);
    gt_params_free(&P);
    gt_params_free(&Q);
    gt_params_free(&R);
}

int main(void) {
    RUN(test_registry_names);
    RUN(test_slab_packing);
    RUN(test_grads_into_slab);
    RUN(test_init_bounds);
    RUN(test_init_functions);
    RUN(test_module_errors);
    RUN(test_copy_layout);
    return gt_test_finish();
}
