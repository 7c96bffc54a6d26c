/* Constant memory: 10,000 forward+backward+update steps of a small conv net
 * inside per-step scopes keep the live tensor count fixed and RSS flat; and a backward keeps
 * only its frontier alive (each node's gradients and temporaries die once consumed, and what a
 * node saved dies once its backward ran), not every gradient of the graph until it ends. */
#include "../common/harness.h"

#include <unistd.h>

#define S(...) GT_SHAPE(__VA_ARGS__)

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = -1;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_rss_flat_over_10000_steps(void) {
    gt_tensor *p[6] = {
        gt_test_randn(1, S(4, 1, 3, 3), 0.3f), gt_zeros(S(4)),  /* conv */
        gt_ones(S(4)), gt_zeros(S(4)),                          /* batch norm affine */
        gt_test_randn(2, S(1, 64), 0.1f), gt_zeros(S(1)),       /* linear */
    };
    gt_tensor *rm = gt_zeros(S(4)), *rv = gt_ones(S(4));
    for (int i = 0; i < 6; i++) p[i]->requires_grad = true;
    long rss_early = 0;
    int64_t live_early = 0;
    float first_loss = 0, last_loss = 0;
    for (int step = 0; step < 10000; step++) {
        int m = gt_scope_begin();
        gt_tensor *x = gt_test_randn((uint64_t)step, S(8, 1, 8, 8), 1.0f);
        gt_tensor *t = gt_full(S(8, 1), (float)(step % 2));
        gt_tensor *h = gt_conv2d(x, p[0], p[1], gt_conv_params_make(2, 1));
        h = gt_batch_norm(h, p[2], p[3], rm, rv, true, 0.1f, 1e-5f);
        h = gt_leaky_relu(h, 0.2f);
        gt_tensor *y = gt_linear(gt_flatten(h, 1), p[4], p[5]);
        gt_tensor *loss = gt_bce_with_logits(y, t);
        if (!loss || gt_backward(loss) != GT_OK) {
            CHECK_MSG(false, "step %d: %s", step, gt_last_error());
            gt_scope_end(m);
            break;
        }
        if (step == 0) first_loss = gt_item(loss);
        last_loss = gt_item(loss);
        for (int i = 0; i < 6; i++) { /* plain SGD, then drop the gradient */
            float *w = gt_data(p[i]), *g = gt_data(p[i]->grad);
            for (int64_t k = 0; k < gt_numel(p[i]); k++) w[k] -= 0.01f * g[k];
            gt_zero_grad(p[i]);
        }
        gt_scope_end(m);
        if (step == 999) {
            rss_early = rss_kb();
            live_early = gt_live_tensors();
        }
    }
    long rss_late = rss_kb();
    printf("  RSS after 1000 steps %ld KiB, after 10000 %ld KiB; live tensors %lld -> %lld\n", rss_early, rss_late,
           (long long)live_early, (long long)gt_live_tensors());
    CHECK(gt_live_tensors() == live_early);
#ifndef __SANITIZE_ADDRESS__ /* ASan's quarantine holds freed memory; LSan checks leaks there */
    CHECK_MSG(rss_late - rss_early < 2048, "RSS grew by %ld KiB", rss_late - rss_early);
#endif
    CHECK(isfinite(first_loss) && isfinite(last_loss));
}

/* The live tensors seen at each node of a backward (the gradient hook's per-node call): over a
 * chain of 64 ops the count may not grow with the depth reached. Before the per-node scopes it
 * grew by at least one gradient per node (the chain's 64 gradients were alive at the end). */
static int64_t g_live_max;
static void watch_live(gt_tensor *leaf, void *user) {
    (void)leaf, (void)user;
    int64_t n = gt_live_tensors();
    if (n > g_live_max) g_live_max = n;
}

static void chain_case(bool retain) {
    int m = gt_scope_begin();
    gt_tensor *x = gt_test_randn(5, S(16, 32), 1.0f);
    x->requires_grad = true;
    gt_tensor *h = x;
    for (int i = 0; i < 64; i++) h = i % 2 ? gt_tanh(h) : gt_mul_scalar(h, 0.9f); /* tanh saves its output */
    gt_tensor *loss = gt_sum_all(gt_mul(h, h));
    int64_t before = gt_live_tensors();
    g_live_max = before;
    gt_autograd_set_grad_hook(watch_live, NULL);
    gt_status st = gt_backward_ex(loss, NULL, retain, false);
    gt_autograd_set_grad_hook(NULL, NULL);
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    printf("  retain_graph %d: live tensors %lld before the backward, at most %lld during it\n", retain,
           (long long)before, (long long)g_live_max);
    CHECK_MSG(g_live_max - before <= 8, "the backward's live tensors grew by %lld over 64 nodes",
              (long long)(g_live_max - before));
    /* the gradient itself is right: d/dx of sum(h^2) through the chain, against finite differences */
    float *xv = gt_data(x);
    const float eps = 1e-2f;
    for (int k = 0; k < 3; k++) {
        int64_t i = 37 * k + 5;
        float x0 = xv[i], f[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            xv[i] = x0 + (sgn ? -eps : eps);
            bool prev = gt_no_grad_begin();
            gt_tensor *y = x;
            for (int j = 0; j < 64; j++) y = j % 2 ? gt_tanh(y) : gt_mul_scalar(y, 0.9f);
            f[sgn] = gt_item(gt_sum_all(gt_mul(y, y)));
            gt_grad_mode_restore(prev);
        }
        xv[i] = x0;
        float fd = (f[0] - f[1]) / (2 * eps), g = gt_data(x->grad)[i];
        CHECK_MSG(fabsf(fd - g) <= 2e-3f + 2e-2f * fabsf(g), "x[%lld]: grad %g, finite differences %g", (long long)i,
                  g, fd);
    }
    gt_scope_end(m);
}
static void test_backward_keeps_only_its_frontier(void) {
    chain_case(false);
    chain_case(true);
}

/* A network's forward (gt_net_forward) keeps only what it returns in the caller's scope: its
 * activations are then owned by the graph alone, and a backward frees each one once it has passed it,
 * as PyTorch does. Before, the caller's scope held every activation until it ended, so a D step's
 * activations were still alive during the G step. Checked on a DCGAN pair (32 px): after a G -> D ->
 * loss backward, the live tensors are back to what they were before the forward, plus what the caller
 * holds (z, the fakes, the logits, the loss); the gradients equal those of a backward that keeps the
 * graph; a second backward through the consumed graph is a clear error; a forward without grad leaves
 * only its output. */
/* The backward of loss (retain: keep the graph), counting live tensors: when check, the forward must have
 * made more than min_made since live0, and the backward must leave at most max_left more than live0
 * (the ones the caller holds). */
static gt_status backward_counted(const char *what, gt_tensor *loss, bool retain, bool check, int64_t live0,
                                  int64_t min_made, int64_t max_left) {
    int64_t live_fwd = gt_live_tensors();
    gt_status st = loss ? gt_backward_ex(loss, NULL, retain, false) : gt_last_status();
    int64_t live_bw = gt_live_tensors();
    CHECK_MSG(st == GT_OK, "%s: %s", what, gt_last_error());
    if (!check) return st;
    printf("  %s: live tensors %lld before the forward, %lld after it, %lld after the backward\n", what,
           (long long)live0, (long long)live_fwd, (long long)live_bw);
    CHECK_MSG(live_fwd - live0 > min_made, "%s: the forward made only %lld tensors", what,
              (long long)(live_fwd - live0));
    CHECK_MSG(live_bw - live0 <= max_left, "%s: %lld tensors more after the backward than before the forward", what,
              (long long)(live_bw - live0));
    return st;
}

static void test_backward_frees_the_forwards_activations(void) {
    gt_model_config c = gt_model_config_default("dcgan");
    c.res = 32, c.channels = 1;
    gt_model_opt_set(&c, "ngf", 8);
    gt_model_opt_set(&c, "ndf", 8);
    gt_net G, D;
    gt_rng r;
    gt_rng_init(&r, 3);
    memset(&G, 0, sizeof G), memset(&D, 0, sizeof D);
    bool built = gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK && gt_model_build(&c, GT_NET_D, &r, &D) == GT_OK;
    CHECK_MSG(built, "%s", gt_last_error());
    gt_tensor *g1 = NULL, *g2 = NULL; /* a G weight's gradient: consuming backward, then keeping one */
    const gt_tensor *w = NULL;
    if (!built) goto done;
    for (int pass = 0; pass < 3; pass++) { /* pass 0 allocates every .grad; 1 consumes; 2 keeps the graph */
        int m = gt_scope_begin();
        int64_t live0 = gt_live_tensors();
        gt_tensor *z = gt_test_randn(7, S(4, c.nz), 1.0f);
        gt_tensor *fake = gt_net_forward(&G, z, GT_BN_BATCH);
        gt_tensor *logit = gt_net_forward(&D, fake, GT_BN_BATCH);
        gt_tensor *loss = gt_sum_all(logit);
        backward_counted("dcgan", loss, pass == 2, pass == 1, live0, 20, 6);
        if (pass == 1) {
            CHECK_MSG(gt_backward(loss) == GT_ERR_STATE && strstr(gt_last_error(), "already freed"),
                      "a second backward through the consumed graph: %s", gt_last_error());
        }
        if (pass >= 1) {
            w = G.P.v[0].t; /* main.0.weight, trainable */
            gt_tensor *g = gt_contiguous(w->grad);
            if (pass == 1) g1 = gt_retain(gt_mul_scalar(g, 1.0f));
            else g2 = gt_retain(gt_mul_scalar(g, 1.0f));
        }
        gt_params_zero_grad(&G.P), gt_params_zero_grad(&D.P);
        gt_scope_end(m);
    }
    /* the same computation, so the same numbers: pass 2's gradient is pass 1's (zeroed in between) */
    CHECK(g1 && g2 && gt_numel(g1) == gt_numel(g2));
    if (g1 && g2 && gt_numel(g1) == gt_numel(g2)) {
        float md = 0, mx = 0;
        for (int64_t i = 0; i < gt_numel(g1); i++) {
            md = fmaxf(md, fabsf(gt_data(g1)[i] - gt_data(g2)[i]));
            mx = fmaxf(mx, fabsf(gt_data(g1)[i]));
        }
        CHECK_MSG(md == 0 && mx > 0, "gradients differ by %g (largest %g)", md, mx);
    }
    gt_release(g1), gt_release(g2);
    {
        int m = gt_scope_begin();
        int64_t live0 = gt_live_tensors();
        bool prev = gt_no_grad_begin();
        gt_tensor *z = gt_test_randn(8, S(4, c.nz), 1.0f);
        gt_tensor *fake = gt_net_forward(&G, z, GT_BN_EVAL);
        gt_grad_mode_restore(prev);
        CHECK_MSG(fake && gt_live_tensors() - live0 == 2, "a forward without grad left %lld tensors",
                  (long long)(gt_live_tensors() - live0));
        gt_scope_end(m);
    }
done:
    gt_net_free(&G), gt_net_free(&D);
}

/* Whether some trainable weight of n has a nonzero gradient. */
static bool any_grad(const gt_net *n) {
    for (int i = 0; i < n->P.n; i++) {
        gt_tensor *g = n->P.v[i].is_buffer || !n->P.v[i].t->grad ? NULL : gt_contiguous(n->P.v[i].t->grad);
        for (int64_t j = 0; g && j < gt_numel(g); j++)
            if (gt_data(g)[j] != 0) return true;
    }
    return false;
}

/* The same for the anycost family's own entry points, which the trainer, the editor and projection call
 * directly (not through gt_net_forward): mapping, a sub's synthesis with its skip sums, the conditioned D. */
static void test_anycost_entry_points_free_their_activations(void) {
    gt_model_config c = gt_model_config_default("anycost");
    c.res = 32;
    gt_net G, D;
    gt_rng r;
    gt_rng_init(&r, 5);
    memset(&G, 0, sizeof G), memset(&D, 0, sizeof D);
    bool built = gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK && gt_model_build(&c, GT_NET_D, &r, &D) == GT_OK;
    CHECK_MSG(built, "%s", gt_last_error());
    if (!built) goto done;
    const gt_anycost_sub sub = gt_anycost_uniform(0.5f, 16);
    for (int pass = 0; pass < 2; pass++) { /* pass 0 allocates every .grad */
        int m = gt_scope_begin();
        int64_t live0 = gt_live_tensors();
        gt_tensor *z = gt_test_randn(9, S(4, c.nz), 1.0f), *lv[8] = {0};
        gt_rng noise;
        gt_rng_init(&noise, 11);
        gt_tensor *w = gt_anycost_mapping(&G, z);
        gt_tensor *fake = gt_anycost_synthesis(&G, w, &sub, &noise, lv);
        gt_tensor *logit = gt_anycost_d_forward(&D, fake, &sub, GT_BN_TRAIN);
        gt_tensor *loss = logit && lv[1] ? gt_add(gt_sum_all(logit), gt_sum_all(lv[1])) : NULL; /* 8 px skip sum */
        /* what the caller holds: z, w, the skip sums at 4 and 8 (16 is the output), the output, the logits,
         * the two sums and the loss: 9 */
        backward_counted("anycost", loss, false, pass == 1, live0, 40, 12);
        if (pass == 1) CHECK_MSG(any_grad(&G), "G got no gradient");
        gt_params_zero_grad(&G.P), gt_params_zero_grad(&D.P);
        gt_scope_end(m);
    }
    {
        int m = gt_scope_begin();
        int64_t live0 = gt_live_tensors();
        bool prev = gt_no_grad_begin();
        gt_tensor *z = gt_test_randn(10, S(4, c.nz), 1.0f);
        gt_tensor *fake = gt_anycost_synthesis(&G, gt_anycost_mapping(&G, z), &sub, NULL, NULL);
        gt_grad_mode_restore(prev);
        CHECK_MSG(fake && gt_live_tensors() - live0 == 3, "a synthesis without grad left %lld tensors (z, w, out: 3)",
                  (long long)(gt_live_tensors() - live0));
        gt_scope_end(m);
    }
done:
    gt_net_free(&G), gt_net_free(&D);
}

int main(void) {
    RUN(test_rss_flat_over_10000_steps);
    RUN(test_backward_keeps_only_its_frontier);
    RUN(test_backward_frees_the_forwards_activations);
    RUN(test_anycost_entry_points_free_their_activations);
    return gt_test_finish();
}
