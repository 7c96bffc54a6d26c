// ctest-labels: cuda
/* Every op of include/gantry/ops.h on the CPU and on a CUDA GPU from the same inputs: the rows of
 * the op table (tests/ops/op_table.h: ops, shapes, value domains, strided views), each run
 *   - on the CPU (the fast kernels): output, the gradient of sum(out * w) (w random), and for
 *     twice-differentiable rows the gradient of sum_i sum(v_i * grad_i) (double backward);
 *   - on the GPU: the same inputs made on the CPU and copied with gt_to_device, the same w, v;
 * outputs and (second-order) gradients compared with the tolerance stated per row (tol_of below).
 * Then one DCGAN-64 training step (batch 16, seed 7) on both from the same initial weights: G and D
 * after one D and one G step agree to 1e-4 (max abs difference over max abs parameter); the same
 * step in bf16 mixed precision (gt_train_config.precision) to 1e-3 (see dcgan_step).
 * gt_device_counters' host_fallbacks is printed per row that fell back to the CPU kernels, and
 * in total.
 *
 * Without a GPU (gt_device_use("cuda") fails) the test exits 77, which ctest shows as skipped.
 * GANTRY_CUDA_TEST_EMULATE=naive runs it anyway with the naive CPU backend in the GPU's place
 * (same code path except the copies' device): how the harness is checked on a machine without a
 * GPU; that mode uses a 32 px DCGAN (the naive kernels are slow). GT_CUDA_OPS_LIST=1 lists the
 * rows with their tolerances. ctest also runs it as cuda/test_cuda_ops@fakegpu with
 * GANTRY_CUDA_PLUGIN=libgantry_fakegpu.so (tests/cuda/fake_plugin.c: host memory, no kernels):
 * the whole device path (gt_to_device, the table choice, every op falling back to the CPU's
 * kernels, the counters) on machines without a GPU, where CPU and "GPU" agree exactly. */
#include "../common/harness.h"

#include "gantry/device.h"
#include "../ops/op_table.h" /* rows, tolerances, inputs */

static bool g_gpu; /* side B is the GPU (else the naive backend: the emulation) */

static void side_b(bool on) {
    if (g_gpu) {
        if (gt_device_use(on ? "cuda" : "cpu") != GT_OK) CHECK_MSG(false, "gt_device_use: %s", gt_last_error());
    } else {
        gt_backend_set(on ? GT_BACKEND_NAIVE : GT_BACKEND_CPU);
    }
}

/* t on side B's device (a copy; requires_grad kept) */
static gt_tensor *to_b(gt_tensor *t) {
    if (!t) return NULL;
    gt_tensor *c = gt_to_device(t, g_gpu ? GT_DEVICE_CUDA : GT_DEVICE_CPU);
    if (c) c->requires_grad = t->requires_grad;
    return c;
}

static gt_tensor *to_host(gt_tensor *t) { return t ? gt_to_device(t, GT_DEVICE_CPU) : NULL; }

/* The GPU's tolerance for a row: the looser of its PyTorch and fast-vs-naive tolerances (copies,
 * T_VIEW, stay at 1e-6 / 1e-7: exact in practice); second-order gradients twice that. */
typedef struct {
    float rtol, atol;
} tol;
static tol tol_of(const row *r, bool second) {
    tol t = {r->t.pr > r->t.nr ? r->t.pr : r->t.nr, r->t.pa > r->t.na ? r->t.pa : r->t.na};
    if (second) t.rtol *= 2, t.atol *= 2;
    return t;
}

typedef struct {
    gt_tensor *y, *g[MAXIN], *gg[MAXIN];
    int m, idx[MAXIN];
    bool ok;
} side;

/* One side of a row: output, gradients, second-order gradients (all on the side's device). */
static side run_side(const row *r, gt_tensor *const *in, int n, gt_tensor *w, gt_tensor *const *v) {
    side s;
    memset(&s, 0, sizeof s);
    s.y = run_row(in, (void *)r);
    if (!s.y) return s;
    s.ok = true;
    if (r->grad == G0) return s;
    gt_tensor *sel[MAXIN];
    for (int j = 0; j < n; j++)
        if (diff_in(r, j)) s.idx[s.m] = j, sel[s.m++] = in[j];
    if (!s.m) return s;
    bool second = r->grad == G2;
    if (gt_grad(gt_sum_all(gt_mul(s.y, w)), NULL, s.m, sel, s.g, second) != GT_OK) return s.ok = false, s;
    if (!second) return s;
    gt_tensor *h = NULL;
    for (int j = 0; j < s.m; j++) {
        gt_tensor *t = gt_sum_all(gt_mul(s.g[j], v[s.idx[j]]));
        h = h ? gt_add(h, t) : t;
    }
    if (!h || !h->requires_grad) {
        for (int j = 0; j < s.m; j++) s.gg[j] = gt_zeros_like(sel[j]);
    } else if (gt_grad(h, NULL, s.m, sel, s.gg, false) != GT_OK) {
        s.ok = false;
    }
    return s;
}

static int64_t fallbacks(void) {
    gt_device_counters c;
    gt_device_counters_get(&c);
    return c.host_fallbacks;
}

static void test_ops(void) {
    int rows_ok = 0, rows_fb = 0;
    int64_t fb_total = fallbacks();
    const char *list = getenv("GT_CUDA_OPS_LIST");
    for (int i = 0; i < NROWS; i++) {
        const row *r = &ROWS[i];
        const char *rn = row_name(i);
        int mark = gt_scope_begin();
        int fails = gt_test_failures;
        gt_tensor *in[MAXIN], *inb[MAXIN], *v[MAXIN] = {0}, *vb[MAXIN] = {0};
        int n = make_inputs(r, i, in); /* on the CPU */
        CHECK_MSG(n > 0, "%s: bad shapes", rn);
        if (!n) {
            gt_scope_end(mark);
            continue;
        }
        gt_tensor *y0 = run_row(in, (void *)r); /* the output's shape, for w */
        gt_tensor *w = y0 ? gt_test_randn(5000 + (uint64_t)i, y0->ndim, y0->shape, 1.0f) : NULL;
        for (int j = 0; j < n; j++)
            if (r->grad == G2 && diff_in(r, j))
                v[j] = gt_test_randn(7000 + 16 * (uint64_t)i + (uint64_t)j, in[j]->ndim, in[j]->shape, 1.0f);
        side a = w ? run_side(r, in, n, w, v) : (side){0};
        CHECK_MSG(a.ok, "%s: CPU: %s", rn, gt_last_error());
        gt_clear_error();
        bool copied = true;
        for (int j = 0; j < n; j++) {
            inb[j] = to_b(in[j]);
            vb[j] = v[j] ? to_b(v[j]) : NULL;
            copied = copied && inb[j] && (!v[j] || vb[j]);
        }
        gt_tensor *wb = to_b(w);
        CHECK_MSG(copied && (!w || wb), "%s: gt_to_device: %s", rn, gt_last_error());
        int64_t fb0 = fallbacks();
        side_b(true);
        side b = copied && a.ok ? run_side(r, inb, n, wb, vb) : (side){0};
        gt_status sync = gt_device_sync();
        side_b(false);
        int64_t fb = fallbacks() - fb0;
        CHECK_MSG(!a.ok || (b.ok && sync == GT_OK), "%s: %s: %s", rn, g_gpu ? "GPU" : "naive", gt_last_error());
        gt_clear_error();
        if (a.ok && b.ok) {
            char what[200], s1[64], s2[64];
            tol t1 = tol_of(r, false), t2 = tol_of(r, true);
            gt_tensor *yb = to_host(b.y);
            bool same = yb && gt_same_shape(a.y, yb);
            CHECK_MSG(same, "%s: output shape %s vs %s", rn, gt_shape_str(a.y, s1, sizeof s1),
                      yb ? gt_shape_str(yb, s2, sizeof s2) : "?");
            snprintf(what, sizeof what, "%s: output, CPU vs %s", rn, g_gpu ? "GPU" : "naive");
            if (same) gt_test_close(what, yb, a.y, t1.rtol, t1.atol);
            CHECK_MSG(a.m == b.m, "%s: %d vs %d gradients", rn, a.m, b.m);
            for (int j = 0; j < a.m && a.m == b.m; j++) {
                snprintf(what, sizeof what, "%s: gradient of input %d", rn, a.idx[j]);
                gt_test_close(what, to_host(b.g[j]), a.g[j], t1.rtol, t1.atol);
                if (r->grad != G2) continue;
                snprintf(what, sizeof what, "%s: second-order gradient of input %d", rn, a.idx[j]);
                gt_test_close(what, to_host(b.gg[j]), a.gg[j], t2.rtol, t2.atol);
            }
        }
        rows_ok += gt_test_failures == fails;
        if (fb > 0) rows_fb++;
        if (fb > 0 || (list && *list && *list != '0')) {
            tol t1 = tol_of(r, false);
            printf("  %-44s %-13s tol %.0e/%.0e%s  host fallbacks %lld\n", rn,
                   r->grad == G2 ? "grad+gradgrad" : r->grad == G1 ? "grad" : "forward", t1.rtol, t1.atol,
                   r->grad == G2 ? " (x2 2nd)" : "", (long long)fb);
        }
        gt_scope_end(mark);
    }
    printf("  %d of %d rows agree (CPU vs %s); %d rows fell back to CPU kernels, %lld host fallbacks in all\n", rows_ok,
           NROWS, g_gpu ? "GPU" : "naive emulation", rows_fb, (long long)(fallbacks() - fb_total));
}

/* --- one DCGAN-64 training step on both ----------------------------------------------------------- */
static float max_abs(const gt_params *P) {
    float m = 0;
    for (int i = 0; i < P->n; i++) {
        const float *x = gt_data(P->v[i].t);
        for (int64_t k = 0; k < gt_numel(P->v[i].t); k++) m = fmaxf(m, fabsf(x[k]));
    }
    return m;
}

/* max |a - b| over max |a|, over every entry (names must match) */
static double rel_diff(const char *tag, const gt_params *A, const gt_params *B) {
    CHECK_MSG(A->n == B->n, "%s: %d vs %d entries", tag, A->n, B->n);
    double worst = 0;
    const char *at = "";
    float scale = max_abs(A);
    for (int i = 0; i < A->n && A->n == B->n; i++) {
        CHECK_MSG(gt_numel(A->v[i].t) == gt_numel(B->v[i].t), "%s.%s: sizes differ", tag, A->v[i].name);
        gt_tensor *hb = to_host(B->v[i].t);
        if (!hb || gt_numel(A->v[i].t) != gt_numel(hb)) continue;
        const float *a = gt_data(A->v[i].t), *b = gt_data(hb);
        for (int64_t k = 0; k < gt_numel(hb); k++) {
            double d = fabs((double)a[k] - (double)b[k]) / (scale > 0 ? scale : 1);
            if (!(d <= worst)) worst = d, at = A->v[i].name; /* NaN counts as worst */
        }
    }
    printf("  %s: max |CPU - %s| / max |param| = %.3g (at %s; max |param| %.3g)\n", tag, g_gpu ? "GPU" : "naive", worst,
           at, (double)scale);
    return worst;
}

static bool copy_params(const gt_params *from, gt_params *to) {
    if (from->n != to->n) return false;
    for (int i = 0; i < from->n; i++) {
        gt_tensor *t = to->v[i].t;
        if (gt_numel(from->v[i].t) != gt_numel(t) || !gt_is_contiguous(t)) return false;
        if (gt_copy_to(from->v[i].t, gt_data(t)) != GT_OK) return false;
    }
    return true;
}

/* precision: gt_train_config.precision. Under bf16 both sides round the operands of every conv and
 * matmul to bfloat16 (the GPU with cuda/kernels_bf16.cu) and accumulate in float: the steps agree
 * as in fp32, save where an accumulation-order difference flips one rounding (2^-8 of that element)
 * and Adam's first step (lr * sign(g)) turns it into a whole update: 1e-3 then. */
static void dcgan_step(int precision) {
    const int res = g_gpu ? 64 : 32, width = g_gpu ? 64 : 16, batch = 16;
    const double tol = precision == GT_PREC_BF16 ? 1e-3 : 1e-4;
    gt_train_config c = gt_train_config_default();
    c.precision = precision;
    c.model.res = res, c.model.channels = 3, c.model.nz = 100;
    gt_model_opt_set(&c.model, "ngf", width);
    gt_model_opt_set(&c.model, "ndf", width);
    c.batch = batch, c.seed = 7, c.ema = 0;
    gt_trainer A, B;
    gt_status st = gt_trainer_init(&A, &c, NULL);
    CHECK_MSG(st == GT_OK, "CPU trainer: %s", gt_last_error());
    side_b(true);
    gt_status stb = gt_trainer_init(&B, &c, NULL);
    side_b(false);
    CHECK_MSG(stb == GT_OK, "%s trainer: %s", g_gpu ? "GPU" : "naive", gt_last_error());
    if (st == GT_OK && stb == GT_OK) {
        /* the same initial weights, whatever each side drew */
        CHECK_MSG(copy_params(&A.G.P, &B.G.P) && copy_params(&A.D.P, &B.D.P), "copying the weights: %s",
                  gt_last_error());
        CHECK(rel_diff("G before", &A.G.P, &B.G.P) == 0.0); /* a copy: exact */
        int mark = gt_scope_begin();
        gt_tensor *real = gt_test_uniform(100, GT_SHAPE(batch, 3, res, res), -1, 1);
        gt_tensor *z = gt_test_randn(200, GT_SHAPE(batch, c.model.nz), 1.0f);
        gt_tensor *realb = to_b(real), *zb = to_b(z);
        gt_step_stats sa, sb;
        st = gt_trainer_step_on(&A, &real, &z, &sa);
        CHECK_MSG(st == GT_OK, "CPU step: %s", gt_last_error());
        int64_t fb0 = fallbacks();
        side_b(true);
        stb = realb && zb ? gt_trainer_step_on(&B, &realb, &zb, &sb) : gt_last_status();
        if (stb == GT_OK) stb = gt_device_sync();
        side_b(false);
        CHECK_MSG(stb == GT_OK, "%s step: %s", g_gpu ? "GPU" : "naive", gt_last_error());
        if (st == GT_OK && stb == GT_OK) {
            printf("  DCGAN-%d step (batch %d, %s): loss_d %.6f vs %.6f, loss_g %.6f vs %.6f; host fallbacks %lld\n", res,
                   batch, gt_precision_name((gt_precision)precision), sa.loss_d, sb.loss_d, sa.loss_g, sb.loss_g, (long long)(fallbacks() - fb0));
            double dg = rel_diff("G after one step", &A.G.P, &B.G.P);
            double dd = rel_diff("D after one step", &A.D.P, &B.D.P);
            CHECK_MSG(dg <= tol && dd <= tol, "parameters differ after one step: G %.3g, D %.3g (%g)", dg, dd, tol);
            CHECK_MSG(fabs(sa.loss_d - sb.loss_d) <= tol * fabs(sa.loss_d) + 1e-6, "loss_d %g vs %g", sa.loss_d,
                      sb.loss_d);
        }
        gt_scope_end(mark);
    }
    gt_trainer_free(&A);
    side_b(true);
    gt_trainer_free(&B);
    side_b(false);
}

static void test_dcgan_step(void) { dcgan_step(GT_PREC_FP32); }
static void test_dcgan_step_bf16(void) { dcgan_step(GT_PREC_BF16); }

int main(void) {
    const char *emu = getenv("GANTRY_CUDA_TEST_EMULATE");
    bool emulate = emu && strcmp(emu, "naive") == 0; /* then the plugin is not even loaded */
    if (!emulate && gt_device_use("cuda") == GT_OK) {
        g_gpu = true;
        char buf[2048];
        if (gt_device_list(buf, sizeof buf) == GT_OK) printf("%s", buf);
        gt_device_use("cpu");
    } else if (emulate) {
        printf("GANTRY_CUDA_TEST_EMULATE=naive: the naive CPU backend stands in for the GPU\n");
    } else {
        printf("SKIP: %s\n", gt_last_error());
        return 77; /* ctest: skipped (SKIP_RETURN_CODE) */
    }
    RUN(test_ops);
    RUN(test_dcgan_step);
    RUN(test_dcgan_step_bf16);
    gt_device_counters k;
    gt_device_counters_get(&k);
    printf("  device counters: %lld allocations (%lld cache hits), peak %.1f MiB, %lld launches, %lld syncs, %lld "
           "host fallbacks\n",
           (long long)k.allocs, (long long)k.cache_hits, (double)k.peak_bytes / 1048576.0, (long long)k.launches,
           (long long)k.syncs, (long long)k.host_fallbacks);
    return gt_test_finish();
}
