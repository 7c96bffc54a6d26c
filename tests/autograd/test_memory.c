/* Constant memory: 10,000 forward+backward+update steps of a small conv net
 * inside per-step scopes keep the live tensor count fixed and RSS flat. */
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
    CHECK_MSG(rss_late - rss_early < 2048, "RSS grew by %ld KiB", rss_late - rss_early);
    CHECK(isfinite(first_loss) && isfinite(last_loss));
}

int main(void) {
    RUN(test_rss_flat_over_10000_steps);
    return gt_test_finish();
}
