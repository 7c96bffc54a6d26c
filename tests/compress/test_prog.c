/* Programs of plain layers (gantry/compress.h): a lowered DCGAN generator run by gt_prog_run equals
 * gt_net_forward in eval mode; every op kind against the library's ops (conv2d with zero and
 * reflection padding, conv_transpose2d with out_pad, instance norm, linear + reshape, save / add,
 * the activations, nearest upsampling); gt_prog_finish's shape errors; MACs and parameters of a
 * DCGAN counted by hand. */
#include "../common/harness.h"
#include "gantry/compress.h"

#define ATOL 1e-5f

/* The first n floats of t (contiguous copy). */
static float *tdata(gt_tensor *t) { return gt_data(gt_contiguous(t)); }

/* A DCGAN G at res px with random positive running statistics and a few training forwards. */
static void check_dcgan(int res, int channels, int ngf, int nz) {
    gt_model_config c = gt_model_config_default("dcgan");
    c.res = res, c.channels = channels, c.nz = nz;
    gt_model_opt_set(&c, "ngf", ngf);
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 7 + res);
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK);
    /* training forwards move the running statistics; then spread them more */
    for (int i = 0; i < 3; i++) {
        int m = gt_scope_begin();
        gt_net_forward(&G, gt_test_randn(100 + i, 2, (int64_t[]){8, nz}, 1.0f), GT_BN_TRAIN);
        gt_scope_end(m);
    }
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "main.%d.running_var", 3 * i + 1);
        gt_tensor *v = gt_params_get(&G.P, name);
        if (!v) continue;
        float *d = gt_data(v);
        for (int64_t j = 0; j < gt_numel(v); j++) d[j] = d[j] * (0.5f + (float)((j * 37) % 11) / 10.0f) + 0.05f;
        snprintf(name, sizeof name, "main.%d.running_mean", 3 * i + 1);
        d = gt_data(gt_params_get(&G.P, name));
        for (int64_t j = 0; j < gt_numel(v); j++) d[j] += 0.1f * (float)((j * 13) % 7 - 3);
    }
    gt_prog p;
    CHECK(gt_prog_from_net(&G, &p) == GT_OK);
    CHECK(!strcmp(p.family, "dcgan") && !p.translator && p.in_c == nz && p.in_h == 1);
    CHECK(p.out_c == channels && p.out_h == res && p.out_w == res);
    const int n = 5;
    gt_tensor *z = gt_test_randn(res, 2, (int64_t[]){n, nz}, 1.0f);
    bool prev = gt_no_grad_begin();
    gt_tensor *want = gt_net_forward(&G, z, GT_BN_EVAL);
    gt_grad_mode_restore(prev);
    gt_tensor *got = gt_empty(GT_SHAPE(n, channels, res, res));
    CHECK(gt_prog_run(&p, gt_data(z), gt_data(got), n) == GT_OK);
    char what[64];
    snprintf(what, sizeof what, "dcgan %d px program vs eval forward", res);
    CHECK(gt_test_close(what, got, want, 0.0f, ATOL));
    /* one sample at a time gives the same */
    gt_tensor *one = gt_empty(GT_SHAPE(1, channels, res, res));
    CHECK(gt_prog_run(&p, gt_data(z) + 3 * nz, gt_data(one), 1) == GT_OK);
    CHECK(gt_test_close_buf("sample 3 alone", gt_data(one), gt_data(got) + 3 * channels * res * res,
                            channels * res * res, 0.0f, 0.0f));
    gt_prog_free(&p);
    gt_net_free(&G);
}

static void test_dcgan_equals_forward(void) {
    check_dcgan(28, 1, 8, 16);
    check_dcgan(32, 3, 6, 10);
}

/* A translator family with lowering (pix2pix: reflection padding, instance or batch norms, residual
 * blocks, transposed convs with out_pad), when it is registered: program == eval forward. */
static void test_translator_equals_forward(void) {
    const gt_model_entry *e = gt_model_find("pix2pix");
    if (!e || !e->lower) {
        printf("(pix2pix not registered with lowering: skipped)\n");
        return;
    }
    const char *norms[2] = {"instance", "batch"};
    for (int k = 0; k < 2; k++) {
        gt_model_config c = gt_model_config_default("pix2pix");
        gt_model_opt_set(&c, "ngf", 4);
        gt_model_opt_set(&c, "n_blocks", 2);
        gt_model_opt_set(&c, "norm", k);
        gt_net G;
        gt_rng r;
        gt_rng_init(&r, 3);
        CHECK_MSG(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK, "%s", gt_last_error());
        gt_tensor *x = gt_test_uniform(31, 4, (int64_t[]){3, c.channels, c.res, c.res}, -1.0f, 1.0f);
        if (k == 1) {
            int m = gt_scope_begin();
            gt_net_forward(&G, x, GT_BN_TRAIN); /* moves the running statistics */
            gt_scope_end(m);
        }
        gt_prog p;
        CHECK_MSG(gt_prog_from_net(&G, &p) == GT_OK, "%s", gt_last_error());
        CHECK(p.translator && p.in_c == c.channels && p.out_h == c.res);
        bool prev = gt_no_grad_begin();
        gt_tensor *want = gt_net_forward(&G, x, GT_BN_EVAL);
        gt_grad_mode_restore(prev);
        gt_tensor *got = gt_empty(GT_SHAPE(3, p.out_c, p.out_h, p.out_w));
        CHECK(gt_prog_run(&p, gt_data(x), gt_data(got), 3) == GT_OK);
        char what[64];
        snprintf(what, sizeof what, "pix2pix (%s norm) program vs eval forward", norms[k]);
        CHECK(gt_test_close(what, got, want, 0.0f, ATOL));
        gt_prog_free(&p);
        gt_net_free(&G);
    }
}

/* A one-layer program (plus extra ops pushed by the caller) on input (c, h, w). */
static gt_tensor *run1(gt_prog *p, gt_tensor *x) {
    CHECK_MSG(gt_prog_finish(p) == GT_OK, "finish: %s", gt_last_error());
    const int64_t n = x->shape[0];
    gt_tensor *y = gt_empty(GT_SHAPE(n, p->out_c, p->out_h, p->out_w));
    CHECK(gt_prog_run(p, tdata(x), gt_data(y), (int)n) == GT_OK);
    return y;
}

static void conv_case(int cin, int cout, int k, int s, int pad, int h, int w, bool bias) {
    gt_tensor *x = gt_test_randn(1, 4, (int64_t[]){2, cin, h, w}, 1.0f);
    gt_tensor *W = gt_test_randn(2, 4, (int64_t[]){cout, cin, k, k}, 0.3f);
    gt_tensor *b = bias ? gt_test_randn(3, 1, (int64_t[]){cout}, 0.5f) : NULL;
    gt_prog p;
    gt_prog_init(&p, "t", true, cin, h, w);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, cin, cout, k, s, pad, 0, gt_data(W), b ? gt_data(b) : NULL) == GT_OK);
    gt_tensor *got = run1(&p, x), *want = gt_conv2d(x, W, b, gt_conv_params_make(s, pad));
    char what[96];
    snprintf(what, sizeof what, "conv %d->%d k%d s%d p%d on %dx%d", cin, cout, k, s, pad, h, w);
    CHECK(gt_test_close(what, got, want, 1e-5f, ATOL));
    gt_prog_free(&p);
}

static void convt_case(int cin, int cout, int k, int s, int pad, int op, int h, int w, bool bias) {
    gt_tensor *x = gt_test_randn(4, 4, (int64_t[]){2, cin, h, w}, 1.0f);
    gt_tensor *W = gt_test_randn(5, 4, (int64_t[]){cin, cout, k, k}, 0.3f);
    gt_tensor *b = bias ? gt_test_randn(6, 1, (int64_t[]){cout}, 0.5f) : NULL;
    gt_prog p;
    gt_prog_init(&p, "t", true, cin, h, w);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONVT, cin, cout, k, s, pad, op, gt_data(W), b ? gt_data(b) : NULL) == GT_OK);
    gt_conv_params cp = gt_conv_params_make(s, pad);
    cp.out_pad_h = cp.out_pad_w = op;
    gt_tensor *got = run1(&p, x), *want = gt_conv_transpose2d(x, W, b, cp);
    CHECK(got->shape[2] == (h - 1) * s - 2 * pad + k + op);
    char what[96];
    snprintf(what, sizeof what, "convt %d->%d k%d s%d p%d op%d on %dx%d", cin, cout, k, s, pad, op, h, w);
    CHECK(gt_test_close(what, got, want, 1e-5f, ATOL));
    gt_prog_free(&p);
}

/* Reflection padding by hand (nn.ReflectionPad2d), then the library's pad-0 conv. */
static void reflect_case(int cin, int cout, int k, int s, int pad, int h, int w) {
    gt_tensor *x = gt_test_randn(7, 4, (int64_t[]){2, cin, h, w}, 1.0f);
    gt_tensor *W = gt_test_randn(8, 4, (int64_t[]){cout, cin, k, k}, 0.3f);
    gt_tensor *b = gt_test_randn(9, 1, (int64_t[]){cout}, 0.5f);
    const int ph = h + 2 * pad, pw = w + 2 * pad;
    gt_tensor *xp = gt_empty(GT_SHAPE(2, cin, ph, pw));
    const float *xs = tdata(x);
    float *d = gt_data(xp);
    for (int nc = 0; nc < 2 * cin; nc++)
        for (int y = 0; y < ph; y++)
            for (int xx = 0; xx < pw; xx++) {
                int sy = y - pad, sx = xx - pad;
                sy = sy < 0 ? -sy : sy >= h ? 2 * (h - 1) - sy : sy;
                sx = sx < 0 ? -sx : sx >= w ? 2 * (w - 1) - sx : sx;
                d[((int64_t)nc * ph + y) * pw + xx] = xs[((int64_t)nc * h + sy) * w + sx];
            }
    gt_prog p;
    gt_prog_init(&p, "t", true, cin, h, w);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, cin, cout, k, s, pad, 0, gt_data(W), gt_data(b)) == GT_OK);
    p.ops[0].pad_reflect = true;
    gt_tensor *got = run1(&p, x), *want = gt_conv2d(xp, W, b, gt_conv_params_make(s, 0));
    char what[96];
    snprintf(what, sizeof what, "reflect conv k%d s%d p%d on %dx%d", k, s, pad, h, w);
    CHECK(gt_test_close(what, got, want, 1e-5f, ATOL));
    gt_prog_free(&p);
}

static void test_conv_ops(void) {
    conv_case(3, 5, 3, 1, 1, 7, 6, true);
    conv_case(4, 2, 4, 2, 1, 9, 8, false);
    conv_case(2, 3, 7, 1, 3, 8, 8, true);
    conv_case(3, 3, 1, 1, 0, 5, 5, true);
    conv_case(2, 4, 3, 2, 0, 7, 7, true);
    convt_case(4, 3, 4, 2, 1, 0, 5, 5, true);
    convt_case(3, 2, 3, 2, 1, 1, 4, 6, true); /* ResNet generator's up-sampling: 2x exactly */
    convt_case(5, 4, 3, 1, 0, 0, 3, 3, false);
    convt_case(2, 2, 3, 2, 0, 0, 3, 3, false);
    reflect_case(3, 4, 7, 1, 3, 8, 9);
    reflect_case(2, 3, 3, 1, 1, 5, 4);
    reflect_case(2, 2, 3, 2, 1, 6, 6);
}

/* One op on input x (N, C, H, W) as a program; its output (new tensor in scope). */
static gt_tensor *run_op(gt_tensor *x, gt_prog_op *proto, gt_tensor *w, gt_tensor *b) {
    gt_prog p;
    gt_prog_init(&p, "t", true, (int)x->shape[1], (int)x->shape[2], (int)x->shape[3]);
    gt_prog_op *o = gt_prog_push(&p, proto->kind);
    gt_prog_op keep = *proto;
    keep.w = w ? malloc(sizeof(float) * (size_t)gt_numel(w)) : NULL, keep.b = b ? malloc(sizeof(float) * (size_t)gt_numel(b)) : NULL;
    if (w) memcpy(keep.w, tdata(w), sizeof(float) * (size_t)gt_numel(w));
    if (b) memcpy(keep.b, tdata(b), sizeof(float) * (size_t)gt_numel(b));
    *o = keep;
    gt_tensor *y = run1(&p, x);
    gt_prog_free(&p);
    return y;
}

/* PyTorch's modules (tests/parity/prog_ops.py): reflection pad + conv, conv_transpose2d with
 * output_padding, InstanceNorm2d with and without affine, nearest upsampling. */
static void test_pytorch_goldens(void) {
    if (!gt_golden_run("prog_ops.py", "")) return;
    const char *rn[2] = {"r1", "r2"};
    const int rs[2] = {1, 2}, rp[2] = {1, 2};
    for (int i = 0; i < 2; i++) {
        char nm[4][16];
        const char *leaf[4] = {"x", "w", "b", "y"};
        for (int j = 0; j < 4; j++) snprintf(nm[j], sizeof nm[j], "%s.%s", rn[i], leaf[j]);
        gt_tensor *x = gt_golden(nm[0]), *w = gt_golden(nm[1]), *b = gt_golden(nm[2]), *y = gt_golden(nm[3]);
        if (!x || !w || !b || !y) {
            CHECK_MSG(false, "golden %s missing", rn[i]);
            continue;
        }
        gt_prog_op o = {.kind = GT_PROG_CONV, .cin = (int)w->shape[1], .cout = (int)w->shape[0], .k = (int)w->shape[2],
                   .stride = rs[i], .pad = rp[i], .pad_reflect = true};
        CHECK(gt_test_close(rn[i], run_op(x, &o, w, b), y, 1e-5f, ATOL));
    }
    gt_tensor *x = gt_golden("ct.x"), *w = gt_golden("ct.w"), *b = gt_golden("ct.b"), *y = gt_golden("ct.y");
    if (x && w && b && y) {
        gt_prog_op o = {.kind = GT_PROG_CONVT, .cin = 5, .cout = 3, .k = 3, .stride = 2, .pad = 1, .out_pad = 1};
        CHECK(gt_test_close("conv_transpose2d output_padding 1", run_op(x, &o, w, b), y, 1e-5f, ATOL));
    } else CHECK_MSG(false, "golden ct missing");
    x = gt_golden("in.x"), w = gt_golden("in.w"), b = gt_golden("in.b");
    if (x && w && b) {
        gt_prog_op o = {.kind = GT_PROG_INORM, .cin = 5, .cout = 5, .eps = 1e-5f};
        CHECK(gt_test_close("InstanceNorm2d affine", run_op(x, &o, w, b), gt_golden("in.y"), 1e-5f, ATOL));
        CHECK(gt_test_close("InstanceNorm2d", run_op(x, &o, NULL, NULL), gt_golden("in.y0"), 1e-5f, ATOL));
        gt_prog_op u = {.kind = GT_PROG_UP2};
        CHECK(gt_test_close("nearest x2", run_op(x, &u, NULL, NULL), gt_golden("up.y"), 0.0f, 0.0f));
    } else CHECK_MSG(false, "golden in missing");
    gt_golden_free();
}

static void test_norms_and_activations(void) {
    const int C = 3, H = 5, W = 4;
    gt_tensor *x = gt_test_randn(11, 4, (int64_t[]){2, C, H, W}, 2.0f);
    gt_tensor *g = gt_test_uniform(12, 1, (int64_t[]){C}, 0.5f, 1.5f), *b = gt_test_randn(13, 1, (int64_t[]){C}, 1.0f);
    /* instance norm, affine and not */
    for (int aff = 0; aff < 2; aff++) {
        gt_prog p;
        gt_prog_init(&p, "t", true, C, H, W);
        gt_prog_op *o = gt_prog_push(&p, GT_PROG_INORM);
        o->cin = o->cout = C, o->eps = 1e-5f;
        if (aff) {
            o->w = malloc(C * sizeof(float)), o->b = malloc(C * sizeof(float));
            memcpy(o->w, gt_data(g), C * sizeof(float)), memcpy(o->b, gt_data(b), C * sizeof(float));
        }
        gt_tensor *got = run1(&p, x), *want = gt_instance_norm(x, aff ? g : NULL, aff ? b : NULL, 1e-5f);
        CHECK(gt_test_close(aff ? "inorm affine" : "inorm", got, want, 1e-5f, ATOL));
        gt_prog_free(&p);
    }
    /* affine (from an eval batch norm) against the library's eval batch norm */
    {
        gt_tensor *mean = gt_test_randn(14, 1, (int64_t[]){C}, 1.0f);
        gt_tensor *var = gt_test_uniform(15, 1, (int64_t[]){C}, 0.2f, 3.0f);
        gt_prog p;
        gt_prog_init(&p, "t", true, C, H, W);
        CHECK(gt_prog_push_bn(&p, C, gt_data(g), gt_data(b), gt_data(mean), gt_data(var), 1e-5f) == GT_OK);
        gt_tensor *got = run1(&p, x), *want = gt_batch_norm(x, g, b, mean, var, false, 0.1f, 1e-5f);
        CHECK(gt_test_close("affine (eval batch norm)", got, want, 1e-5f, ATOL));
        gt_prog_free(&p);
    }
    const gt_prog_kind kinds[] = {GT_PROG_RELU, GT_PROG_LRELU, GT_PROG_TANH, GT_PROG_SIGMOID, GT_PROG_UP2};
    for (int i = 0; i < 5; i++) {
        gt_prog p;
        gt_prog_init(&p, "t", true, C, H, W);
        gt_prog_op *o = gt_prog_push(&p, kinds[i]);
        o->slope = 0.2f;
        gt_tensor *got = run1(&p, x), *want = NULL;
        switch (kinds[i]) {
        case GT_PROG_RELU: want = gt_relu(x); break;
        case GT_PROG_LRELU: want = gt_leaky_relu(x, 0.2f); break;
        case GT_PROG_TANH: want = gt_tanh(x); break;
        case GT_PROG_SIGMOID: want = gt_sigmoid(x); break;
        default: want = gt_upsample_nearest2d(x, 2 * H, 2 * W); break;
        }
        CHECK(gt_test_close(gt_prog_op_name(kinds[i]), got, want, 1e-6f, 1e-6f));
        gt_prog_free(&p);
    }
}

/* linear -> reshape -> conv, and save -> conv -> relu -> add (a residual block), nested twice. */
static void test_linear_reshape_save_add(void) {
    const int nz = 6, C = 3, H = 4;
    gt_tensor *z = gt_test_randn(21, 2, (int64_t[]){3, nz}, 1.0f);
    gt_tensor *Wl = gt_test_randn(22, 2, (int64_t[]){C * H * H, nz}, 0.4f), *bl = gt_test_randn(23, 1, (int64_t[]){C * H * H}, 0.3f);
    gt_tensor *W1 = gt_test_randn(24, 4, (int64_t[]){C, C, 3, 3}, 0.3f), *W2 = gt_test_randn(25, 4, (int64_t[]){C, C, 3, 3}, 0.3f);
    gt_prog p;
    gt_prog_init(&p, "t", false, nz, 1, 1);
    CHECK(gt_prog_push_layer(&p, GT_PROG_LINEAR, nz, C * H * H, 1, 1, 0, 0, gt_data(Wl), gt_data(bl)) == GT_OK);
    gt_prog_op *o = gt_prog_push(&p, GT_PROG_RESHAPE);
    o->cout = C, o->out_h = H, o->out_w = H;
    gt_prog_push(&p, GT_PROG_SAVE);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, C, C, 3, 1, 1, 0, gt_data(W1), NULL) == GT_OK);
    gt_prog_push(&p, GT_PROG_SAVE);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, C, C, 3, 1, 1, 0, gt_data(W2), NULL) == GT_OK);
    gt_prog_push(&p, GT_PROG_RELU);
    gt_prog_push(&p, GT_PROG_ADD);
    gt_prog_push(&p, GT_PROG_ADD);
    gt_tensor *got = run1(&p, z);
    CHECK(p.max_stack == 2 && p.out_c == C && p.out_h == H);
    gt_tensor *h0 = gt_reshape(gt_linear(z, Wl, bl), GT_SHAPE(3, C, H, H));
    gt_tensor *h1 = gt_conv2d(h0, W1, NULL, gt_conv_params_make(1, 1));
    gt_tensor *h2 = gt_add(h1, gt_relu(gt_conv2d(h1, W2, NULL, gt_conv_params_make(1, 1))));
    CHECK(gt_test_close("linear, reshape, save/add", got, gt_add(h0, h2), 1e-5f, ATOL));
    CHECK(gt_prog_macs(&p) == (int64_t)nz * C * H * H + 2LL * H * H * C * C * 9);
    CHECK(gt_prog_params(&p) == (int64_t)nz * C * H * H + C * H * H + 2LL * C * C * 9);
    gt_prog_free(&p);
}

static void expect_finish_error(gt_prog *p, gt_status want, const char *needle) {
    gt_status st = gt_prog_finish(p);
    CHECK_MSG(st == want && strstr(gt_last_error(), needle), "finish: status %d, message '%s' lacks '%s'", st,
              gt_last_error(), needle);
    gt_prog_free(p);
}

static void test_finish_errors(void) {
    float w[4 * 4 * 9] = {0};
    gt_prog p;
    gt_prog_init(&p, "t", true, 3, 8, 8);
    gt_prog_push_layer(&p, GT_PROG_CONV, 3, 4, 3, 1, 1, 0, w, NULL);
    gt_prog_push_layer(&p, GT_PROG_CONV, 2, 4, 3, 1, 1, 0, w, NULL);
    expect_finish_error(&p, GT_ERR_SHAPE, "op 1 (conv): input has 4 channels, the layer takes 2");
    gt_prog_init(&p, "t", true, 3, 8, 8);
    gt_prog_push(&p, GT_PROG_SAVE);
    gt_prog_push_layer(&p, GT_PROG_CONV, 3, 3, 3, 2, 1, 0, w, NULL);
    gt_prog_push(&p, GT_PROG_ADD);
    expect_finish_error(&p, GT_ERR_SHAPE, "op 2 (add): saved (3, 8, 8), current (3, 4, 4)");
    gt_prog_init(&p, "t", false, 5, 1, 1);
    gt_prog_push_layer(&p, GT_PROG_LINEAR, 4, 2, 1, 1, 0, 0, w, NULL);
    expect_finish_error(&p, GT_ERR_SHAPE, "op 0 (linear): input has 5 values");
    gt_prog_init(&p, "t", true, 2, 4, 4);
    gt_prog_op *o = gt_prog_push(&p, GT_PROG_RESHAPE);
    o->cout = 3, o->out_h = 4, o->out_w = 4;
    expect_finish_error(&p, GT_ERR_SHAPE, "op 0 (reshape)");
    gt_prog_init(&p, "t", true, 2, 4, 4);
    gt_prog_push(&p, GT_PROG_SAVE);
    expect_finish_error(&p, GT_ERR_ARG, "never added");
    gt_prog_init(&p, "t", true, 2, 4, 4);
    gt_prog_push_layer(&p, GT_PROG_CONV, 2, 2, 3, 1, 1, 0, w, NULL);
    gt_prog_push(&p, GT_PROG_INORM)->cin = 3;
    expect_finish_error(&p, GT_ERR_SHAPE, "op 1 (inorm): input has 2 channels, the op has 3");
    /* an unfinished program is refused by the runner */
    gt_prog_init(&p, "t", true, 2, 4, 4);
    float x[32], y[32];
    CHECK(gt_prog_run(&p, x, y, 1) == GT_ERR_ARG);
    gt_prog_free(&p);
}

/* DCGAN 28 px (nz 100, ngf 64, 1 channel) and 64 px (nz 100, ngf 64, 3 channels) by hand:
 * a transposed conv's MACs are in_h * in_w * cin * cout * k * k. */
static void test_macs(void) {
    struct {
        int res, ch;
        int64_t macs, params;
    } cases[] = {
        {28, 1,
         1LL * 100 * 256 * 9 + 9LL * 256 * 128 * 9 + 49LL * 128 * 64 * 16 + 196LL * 64 * 1 * 16,
         100LL * 256 * 9 + 256LL * 128 * 9 + 128LL * 64 * 16 + 64LL * 16 + 2 * (256 + 128 + 64)},
        {64, 3,
         1LL * 100 * 512 * 16 + 16LL * 512 * 256 * 16 + 64LL * 256 * 128 * 16 + 256LL * 128 * 64 * 16 +
             1024LL * 64 * 3 * 16,
         100LL * 512 * 16 + 512LL * 256 * 16 + 256LL * 128 * 16 + 128LL * 64 * 16 + 64LL * 3 * 16 +
             2 * (512 + 256 + 128 + 64)},
    };
    for (int i = 0; i < 2; i++) {
        gt_model_config c = gt_model_config_default("dcgan");
        c.res = cases[i].res, c.channels = cases[i].ch, c.nz = 100;
        gt_net G;
        gt_rng r;
        gt_rng_init(&r, 1);
        CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK);
        gt_prog p;
        CHECK(gt_prog_from_net(&G, &p) == GT_OK);
        CHECK_MSG(gt_prog_macs(&p) == cases[i].macs, "%d px: macs %lld, by hand %lld", cases[i].res,
                  (long long)gt_prog_macs(&p), (long long)cases[i].macs);
        CHECK_MSG(gt_prog_params(&p) == cases[i].params, "%d px: params %lld, by hand %lld", cases[i].res,
                  (long long)gt_prog_params(&p), (long long)cases[i].params);
        /* the folded batch norms count as the net's gamma and beta: the same parameters as G */
        CHECK(gt_prog_params(&p) == gt_params_numel_trainable(&G.P));
        gt_prog_free(&p);
        gt_net_free(&G);
    }
    /* a family without lowering (the first registered) is refused, naming those with */
    const gt_model_entry *e = NULL;
    for (int i = 0; gt_model_at(i) && !e; i++)
        if (!gt_model_at(i)->lower && !gt_model_at(i)->translator) e = gt_model_at(i);
    CHECK(e != NULL);
    gt_model_config c = gt_model_config_default(e ? e->name : "sngan");
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 1);
    if (e && gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK) {
        gt_prog p;
        CHECK_MSG(gt_prog_from_net(&G, &p) == GT_ERR_ARG && strstr(gt_last_error(), "dcgan"), "%s: %s", e->name,
                  gt_last_error());
        gt_prog_free(&p);
        gt_net_free(&G);
    }
}

int main(void) {
    RUN(test_dcgan_equals_forward);
    RUN(test_translator_equals_forward);
    RUN(test_conv_ops);
    RUN(test_pytorch_goldens);
    RUN(test_norms_and_activations);
    RUN(test_linear_reshape_save_add);
    RUN(test_finish_errors);
    RUN(test_macs);
    return gt_test_finish();
}
