/* tests/ops/linalg_cases.h - a table of op cases run four ways (PyTorch
 * golden values with first and second order gradients, fast vs naive,
 * gradcheck, gradgradcheck); shared by test_matmul.c, test_misc.c and
 * test_loss.c. Included once per test executable (static functions). */
#ifndef GT_TEST_LINALG_CASES_H
#define GT_TEST_LINALG_CASES_H

#include "../common/harness.h"

#define S(...) GT_SHAPE(__VA_ARGS__)
#define CASE_MAX_IN 4

typedef enum {
    D_ANY,   /* N(0, 1) */
    D_AWAY0, /* N(0, 1) kept |x| > 0.15 (kinks at 0) */
    D_PROB,  /* U(0.05, 0.95) (targets) */
    D_BIG,   /* N(0, 40^2): saturating logits */
    D_I32    /* int32 in [0, imax) (indices; no gradient) */
} gt_domain;

typedef struct {
    const char *name;
    gt_test_fn f;
    int n;
    int ndim[CASE_MAX_IN];
    int64_t shape[CASE_MAX_IN][5];
    gt_domain dom[CASE_MAX_IN];
    int imax[CASE_MAX_IN];
    bool no_grad[CASE_MAX_IN]; /* float input that is not differentiated */
} gt_case;

static gt_tensor *case_input(const gt_case *c, int i, uint64_t seed) {
    if (c->dom[i] == D_I32) {
        gt_tensor *u = gt_test_uniform(seed, c->ndim[i], c->shape[i], 0.0f, (float)c->imax[i]);
        gt_tensor *t = gt_empty_i32(c->ndim[i], c->shape[i]);
        for (int64_t k = 0; k < gt_numel(t); k++) gt_data_i32(t)[k] = (int32_t)gt_data(u)[k];
        return t;
    }
    gt_tensor *t = c->dom[i] == D_PROB ? gt_test_uniform(seed, c->ndim[i], c->shape[i], 0.05f, 0.95f)
                                        : gt_test_randn(seed, c->ndim[i], c->shape[i], c->dom[i] == D_BIG ? 40.0f : 1.0f);
    float *d = gt_data(t);
    for (int64_t k = 0; c->dom[i] == D_AWAY0 && k < gt_numel(t); k++)
        if (fabsf(d[k]) < 0.15f) d[k] += d[k] < 0 ? -0.2f : 0.2f;
    t->requires_grad = !c->no_grad[i];
    return t;
}

static void cases_inputs(const gt_case *cs, int nc, gt_tensor *(*in)[CASE_MAX_IN], uint64_t seed) {
    for (int c = 0; c < nc; c++)
        for (int i = 0; i < cs[c].n; i++) in[c][i] = case_input(&cs[c], i, seed + 10 * (uint64_t)c + (uint64_t)i);
}

static bool case_float(const gt_case *c, int i) { return c->dom[i] != D_I32 && !c->no_grad[i]; }

/* Writes inputs, w and v for every case, runs the script and compares y, the
 * gradients g<i> and the second-order gradients gg<i>. */
static void cases_golden(const char *script, const gt_case *cs, int nc, gt_tensor *(*in)[CASE_MAX_IN], float rtol,
                         float atol) {
    int cap = nc * (2 * CASE_MAX_IN + 1);
    const char **names = calloc((size_t)cap, sizeof *names);
    gt_tensor **ts = calloc((size_t)cap, sizeof *ts), **w = calloc((size_t)nc, sizeof *w);
    char(*buf)[64] = calloc((size_t)cap, sizeof *buf);
    gt_tensor *v[64][CASE_MAX_IN];
    int k = 0;
    bool ok = names && ts && w && buf && nc <= 64;
    for (int c = 0; ok && c < nc; c++) {
        gt_tensor *y = cs[c].f(in[c], NULL);
        CHECK_MSG(y != NULL, "%s: %s", cs[c].name, gt_last_error());
        if (!y) {
            ok = false;
            break;
        }
        w[c] = gt_test_randn(5000 + (uint64_t)c, y->ndim, y->shape, 1.0f);
        for (int i = 0; i < cs[c].n; i++) {
            snprintf(buf[k], 64, "%s.x%d", cs[c].name, i);
            names[k] = buf[k];
            ts[k++] = in[c][i];
            if (!case_float(&cs[c], i)) continue;
            v[c][i] = gt_test_randn(6000 + 10 * (uint64_t)c + (uint64_t)i, in[c][i]->ndim, in[c][i]->shape, 1.0f);
            snprintf(buf[k], 64, "%s.v%d", cs[c].name, i);
            names[k] = buf[k];
            ts[k++] = v[c][i];
        }
        snprintf(buf[k], 64, "%s.w", cs[c].name);
        names[k] = buf[k];
        ts[k++] = w[c];
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s.in.gtb", gt_test_tmpdir(), script);
    if (ok) CHECK(gt_golden_write(path, k, names, ts));
    if (ok && gt_golden_run(script, path)) {
        for (int c = 0; c < nc; c++) {
            const gt_case *cc = &cs[c];
            char nm[96];
            gt_tensor *sel[CASE_MAX_IN], *g[CASE_MAX_IN], *gg[CASE_MAX_IN];
            int idx[CASE_MAX_IN], m = 0;
            for (int i = 0; i < cc->n; i++)
                if (case_float(cc, i)) {
                    idx[m] = i;
                    sel[m++] = in[c][i];
                }
            gt_tensor *y = cc->f(in[c], NULL);
            snprintf(nm, sizeof nm, "%s.y", cc->name);
            gt_test_close(nm, y, gt_golden(nm), rtol, atol);
            if (m == 0) continue;
            gt_tensor *l = gt_sum_all(gt_mul(y, w[c]));
            CHECK_MSG(gt_grad(l, NULL, m, sel, g, true) == GT_OK, "%s: %s", cc->name, gt_last_error());
            gt_tensor *h = NULL;
            for (int j = 0; j < m; j++) {
                snprintf(nm, sizeof nm, "%s.g%d", cc->name, idx[j]);
                gt_test_close(nm, g[j], gt_golden(nm), rtol, atol);
                gt_tensor *t = gt_sum_all(gt_mul(g[j], v[c][idx[j]]));
                h = h ? gt_add(h, t) : t;
            }
            if (!h || !h->requires_grad) {
                for (int j = 0; j < m; j++) gg[j] = gt_zeros_like(sel[j]);
            } else {
                CHECK_MSG(gt_grad(h, NULL, m, sel, gg, false) == GT_OK, "%s: %s", cc->name, gt_last_error());
            }
            for (int j = 0; j < m; j++) {
                snprintf(nm, sizeof nm, "%s.gg%d", cc->name, idx[j]);
                gt_test_close(nm, gg[j], gt_golden(nm), rtol, atol);
            }
        }
    }
    free(names);
    free(ts);
    free(w);
    free(buf);
}

static void cases_fast_vs_naive(const gt_case *cs, int nc, gt_tensor *(*in)[CASE_MAX_IN], float rtol, float atol) {
    for (int c = 0; c < nc; c++) gt_test_fast_vs_naive(cs[c].name, cs[c].f, cs[c].n, in[c], NULL, rtol, atol);
}

static void cases_gradcheck(const gt_case *cs, int nc, gt_tensor *(*in)[CASE_MAX_IN], bool second) {
    for (int c = 0; c < nc; c++) {
        bool any = false;
        for (int i = 0; i < cs[c].n; i++) any |= case_float(&cs[c], i);
        if (!any) continue;
        if (second) gt_test_gradgradcheck(cs[c].name, cs[c].f, cs[c].n, in[c], NULL, NULL);
        else gt_test_gradcheck(cs[c].name, cs[c].f, cs[c].n, in[c], NULL, NULL);
    }
}

/* The call failed with status st and a message holding each of the strings. */
static void check_error(const char *what, const gt_tensor *r, gt_status st, const char *s1, const char *s2) {
    const char *e = gt_last_error();
    CHECK_MSG(r == NULL, "%s: expected an error", what);
    CHECK_MSG(gt_last_status() == st, "%s: status %s, want %s (%s)", what, gt_status_name(gt_last_status()),
              gt_status_name(st), e);
    CHECK_MSG((!s1 || strstr(e, s1)) && (!s2 || strstr(e, s2)), "%s: message lacks '%s'/'%s': %s", what,
              s1 ? s1 : "", s2 ? s2 : "", e);
    gt_clear_error();
}

#endif
