/* The test harness (see harness.h). */
#include "harness.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

int gt_test_failures, gt_test_checks;

void gt_test_run(const char *name, void (*fn)(void)) {
    int before = gt_test_failures;
    int64_t live = gt_live_tensors();
    gt_clear_error();
    int m = gt_scope_begin();
    fn();
    gt_golden_free();
    gt_scope_end(m);
    int64_t now = gt_live_tensors();
    gt_test_checks++;
    if (now != live) {
        gt_test_failures++;
        fprintf(stderr, "%s: %lld tensors leaked\n", name, (long long)(now - live));
    }
    printf("%-48s %s\n", name, gt_test_failures == before ? "ok" : "FAILED");
    fflush(stdout);
}

int gt_test_finish(void) {
    gt_golden_free();
    printf("%d passed, %d failed\n", gt_test_checks - gt_test_failures, gt_test_failures);
    return gt_test_failures ? 1 : 0;
}

bool gt_test_close_buf(const char *what, const float *a, const float *b, int64_t n, float rtol, float atol) {
    double worst = 0;
    int64_t wi = -1;
    for (int64_t i = 0; i < n; i++) {
        /* r: the difference in tolerances. Equal values (infinities too) and two NaNs are 0 (exact
         * comparisons, both tolerances 0, would otherwise divide 0 by 0, and a NaN ratio must never
         * hide a later mismatch); one NaN, or a difference with no tolerance for it, is infinite. */
        double r;
        if (a[i] == b[i] || (isnan(a[i]) && isnan(b[i]))) r = 0;
        else if (isnan(a[i]) || isnan(b[i])) r = INFINITY;
        else {
            double d = fabs((double)a[i] - (double)b[i]), lim = atol + rtol * fabs((double)b[i]);
            r = d / lim;
            if (r != r) r = INFINITY;
        }
        if (r > worst) {
            worst = r;
            wi = i;
        }
    }
    gt_test_checks++;
    if (worst > 1.0) {
        gt_test_failures++;
        fprintf(stderr, "  %s: mismatch at %lld: got %.8g want %.8g (|d|=%.3g, %.2fx the tolerance)\n", what,
                (long long)wi, a[wi], b[wi], fabs((double)a[wi] - b[wi]), worst);
        return false;
    }
    return true;
}

bool gt_test_close(const char *what, const gt_tensor *a, const gt_tensor *b, float rtol, float atol) {
    if (!a || !b) {
        gt_test_checks++;
        gt_test_failures++;
        fprintf(stderr, "  %s: NULL tensor (%s)\n", what, gt_last_error());
        return false;
    }
    if (gt_numel(a) != gt_numel(b)) {
        char x[96], y[96];
        gt_test_checks++;
        gt_test_failures++;
        fprintf(stderr, "  %s: shape %s vs %s\n", what, gt_shape_str(a, x, sizeof x), gt_shape_str(b, y, sizeof y));
        return false;
    }
    int64_t n = gt_numel(a);
    float *pa = malloc((size_t)(n + 1) * 4), *pb = malloc((size_t)(n + 1) * 4);
    gt_copy_to(a, pa);
    gt_copy_to(b, pb);
    bool ok = gt_test_close_buf(what, pa, pb, n, rtol, atol);
    free(pa);
    free(pb);
    return ok;
}

gt_tensor *gt_test_randn(uint64_t seed, int ndim, const int64_t *shape, float scale) {
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_tensor *t = gt_randn(&r, ndim, shape);
    if (t && scale != 1.0f) {
        float *d = gt_data(t);
        for (int64_t i = 0; i < gt_numel(t); i++) d[i] *= scale;
    }
    return t;
}

gt_tensor *gt_test_uniform(uint64_t seed, int ndim, const int64_t *shape, float lo, float hi) {
    gt_rng r;
    gt_rng_init(&r, seed);
    gt_tensor *t = gt_empty(ndim, shape);
    if (t) gt_rng_uniform(&r, gt_data(t), gt_numel(t), lo, hi);
    return t;
}

/* --- gradient checks ------------------------------------------------------- */
static void gt__opts(const gt_gradcheck_opts *o, gt_gradcheck_opts *d, int n, gt_tensor *const *in) {
    d->eps = 1e-2f;
    d->rtol = 2e-2f;
    d->atol = 2e-3f;
    d->max_elems = 64;
    d->wrt = 0;
    for (int i = 0; i < n; i++)
        if (in[i]->requires_grad) d->wrt |= 1u << i;
    if (o) {
        if (o->eps > 0) d->eps = o->eps;
        if (o->rtol > 0) d->rtol = o->rtol;
        if (o->atol > 0) d->atol = o->atol;
        if (o->max_elems > 0) d->max_elems = o->max_elems;
        if (o->wrt) d->wrt = o->wrt;
    }
}

/* Fresh leaf copies of the inputs (so perturbing them is safe). */
static void gt__leaves(int n, gt_tensor *const *in, unsigned wrt, gt_tensor **xs) {
    for (int i = 0; i < n; i++) {
        if (in[i]->dtype == GT_I32) {
            xs[i] = in[i];
            continue;
        }
        xs[i] = gt_empty(in[i]->ndim, in[i]->shape);
        gt_copy_to(in[i], gt_data(xs[i]));
        xs[i]->requires_grad = ((wrt >> i) & 1u) || in[i]->requires_grad;
    }
}

/* w: fixed random weights shaped like f's output (made once, in the caller's scope). */
static gt_tensor *gt__weights(gt_test_fn f, gt_tensor *const *xs, void *ctx, uint64_t seed) {
    gt_tensor *y = f(xs, ctx);
    if (!y) return NULL;
    return gt_test_randn(seed, y->ndim, y->shape, 1.0f);
}

/* L = sum(f(x) * w) */
static gt_tensor *gt__loss(gt_test_fn f, gt_tensor *const *xs, void *ctx, gt_tensor *w) {
    return gt_sum_all(gt_mul(f(xs, ctx), w));
}

/* grads of L wrt the wrt inputs; create_graph as given. g[i] NULL for others. */
static bool gt__grads(gt_test_fn f, int n, gt_tensor *const *xs, void *ctx, gt_tensor *w, unsigned wrt, bool cg,
                      gt_tensor **g) {
    gt_tensor *sel[GT_TEST_MAX_IN];
    int idx[GT_TEST_MAX_IN], k = 0;
    for (int i = 0; i < n; i++) {
        g[i] = NULL;
        if ((wrt >> i) & 1u) {
            idx[k] = i;
            sel[k++] = xs[i];
        }
    }
    gt_tensor *l = gt__loss(f, xs, ctx, w);
    gt_tensor *out[GT_TEST_MAX_IN];
    if (!l || gt_grad(l, NULL, k, sel, out, cg) != GT_OK) {
        fprintf(stderr, "  gradient failed: %s\n", gt_last_error());
        return false;
    }
    for (int j = 0; j < k; j++) g[idx[j]] = out[j];
    return true;
}

/* Evenly spread element indices to check. */
static int64_t gt__pick(int64_t numel, int max, int j) {
    if (numel <= max) return j;
    return (int64_t)((double)j * (double)numel / (double)max);
}

typedef double (*gt__scalar_fn)(gt_test_fn f, int n, gt_tensor *const *xs, void *ctx, gt_tensor *w,
                                 gt_tensor *const *v, unsigned wrt);

static double gt__L(gt_test_fn f, int n, gt_tensor *const *xs, void *ctx, gt_tensor *w, gt_tensor *const *v,
                    unsigned wrt) {
    (void)n, (void)v, (void)wrt;
    /* grad mode stays on: f may itself take gradients (a gradient penalty) */
    int m = gt_scope_begin();
    gt_tensor *l = gt__loss(f, xs, ctx, w);
    double r = l ? gt_item(l) : NAN;
    gt_scope_end(m);
    return r;
}

/* h = sum_i sum(v_i * dL/dx_i) */
static double gt__H(gt_test_fn f, int n, gt_tensor *const *xs, void *ctx, gt_tensor *w, gt_tensor *const *v,
                    unsigned wrt) {
    int m = gt_scope_begin();
    gt_tensor *g[GT_TEST_MAX_IN];
    double h = NAN;
    if (gt__grads(f, n, xs, ctx, w, wrt, false, g)) {
        h = 0;
        for (int i = 0; i < n; i++)
            if (g[i]) h += gt_item(gt_sum_all(gt_mul(g[i], v[i])));
    }
    gt_scope_end(m);
    return h;
}

static bool gt__fd_compare(const char *name, const char *order, gt__scalar_fn S, gt_test_fn f, int n,
                           gt_tensor *const *xs, void *ctx, gt_tensor *w, gt_tensor *const *v, unsigned wrt,
                           gt_tensor *const *ana, const gt_gradcheck_opts *o) {
    bool ok = true;
    for (int i = 0; i < n; i++) {
        if (!((o->wrt >> i) & 1u)) continue;
        if (!ana[i]) {
            CHECK_MSG(false, "%s: %s gradient of input %d missing", name, order, i);
            ok = false;
            continue;
        }
        int64_t numel = gt_numel(xs[i]);
        int cnt = numel < o->max_elems ? (int)numel : o->max_elems;
        float *a = malloc(sizeof(float) * (size_t)(numel + 1));
        float *fd = malloc(sizeof(float) * (size_t)(cnt + 1)), *an = malloc(sizeof(float) * (size_t)(cnt + 1));
        gt_copy_to(ana[i], a);
        float *x = gt_data(xs[i]);
        for (int j = 0; j < cnt; j++) {
            int64_t e = gt__pick(numel, o->max_elems, j);
            float x0 = x[e];
            x[e] = x0 + o->eps;
            double lp = S(f, n, xs, ctx, w, v, wrt);
            x[e] = x0 - o->eps;
            double lm = S(f, n, xs, ctx, w, v, wrt);
            x[e] = x0;
            fd[j] = (float)((lp - lm) / (2.0 * o->eps));
            an[j] = a[e];
        }
        char what[160];
        snprintf(what, sizeof what, "%s: %s gradient of input %d vs finite differences", name, order, i);
        ok &= gt_test_close_buf(what, an, fd, cnt, o->rtol, o->atol);
        free(a);
        free(fd);
        free(an);
    }
    return ok;
}

bool gt_test_gradcheck(const char *name, gt_test_fn f, int n, gt_tensor *const *in, void *ctx,
                       const gt_gradcheck_opts *opts) {
    gt_gradcheck_opts o;
    gt__opts(opts, &o, n, in);
    int m = gt_scope_begin();
    gt_tensor *xs[GT_TEST_MAX_IN], *g[GT_TEST_MAX_IN];
    gt__leaves(n, in, o.wrt, xs);
    gt_tensor *w = gt__weights(f, xs, ctx, 777);
    bool ok = w && gt__grads(f, n, xs, ctx, w, o.wrt, false, g);
    if (!ok) CHECK_MSG(false, "%s: could not compute the gradient: %s", name, gt_last_error());
    else ok = gt__fd_compare(name, "first-order", gt__L, f, n, xs, ctx, w, NULL, o.wrt, g, &o);
    gt_scope_end(m);
    return ok;
}

bool gt_test_gradgradcheck(const char *name, gt_test_fn f, int n, gt_tensor *const *in, void *ctx,
                           const gt_gradcheck_opts *opts) {
    gt_gradcheck_opts o;
    gt__opts(opts, &o, n, in);
    int m = gt_scope_begin();
    gt_tensor *xs[GT_TEST_MAX_IN], *g[GT_TEST_MAX_IN], *v[GT_TEST_MAX_IN] = {0};
    gt__leaves(n, in, o.wrt, xs);
    gt_tensor *w = gt__weights(f, xs, ctx, 777);
    bool ok = w && gt__grads(f, n, xs, ctx, w, o.wrt, true, g);
    gt_tensor *h = NULL, *hg[GT_TEST_MAX_IN] = {0};
    if (ok) {
        gt_tensor *sel[GT_TEST_MAX_IN];
        int idx[GT_TEST_MAX_IN], k = 0;
        for (int i = 0; i < n; i++) {
            if (!g[i]) continue;
            v[i] = gt_test_randn(900 + (uint64_t)i, xs[i]->ndim, xs[i]->shape, 1.0f);
            gt_tensor *t = gt_sum_all(gt_mul(g[i], v[i]));
            h = h ? gt_add(h, t) : t;
            idx[k] = i;
            sel[k++] = xs[i];
        }
        gt_tensor *out[GT_TEST_MAX_IN];
        if (!h || !h->requires_grad) {
            /* the gradient does not depend on x (a linear op): h's gradient is zero */
            for (int j = 0; j < k; j++) hg[idx[j]] = gt_zeros_like(sel[j]);
        } else if (gt_grad(h, NULL, k, sel, out, false) != GT_OK) {
            ok = false;
        } else {
            for (int j = 0; j < k; j++) hg[idx[j]] = out[j];
        }
    }
    if (!ok) CHECK_MSG(false, "%s: could not compute the second-order gradient: %s", name, gt_last_error());
    else ok = gt__fd_compare(name, "second-order", gt__H, f, n, xs, ctx, w, v, o.wrt, hg, &o);
    gt_scope_end(m);
    return ok;
}

bool gt_test_fast_vs_naive(const char *name, gt_test_fn f, int n, gt_tensor *const *in, void *ctx, float rtol,
                           float atol) {
    gt_gradcheck_opts o;
    gt__opts(NULL, &o, n, in);
    int m = gt_scope_begin();
    gt_tensor *xs[GT_TEST_MAX_IN], *y[2], *g[2][GT_TEST_MAX_IN];
    gt__leaves(n, in, o.wrt, xs);
    gt_tensor *w = gt__weights(f, xs, ctx, 778);
    bool ok = w != NULL;
    gt_backend prev = gt_backend_get();
    for (int b = 0; b < 2 && ok; b++) {
        gt_backend_set(b == 0 ? GT_BACKEND_CPU : GT_BACKEND_NAIVE);
        y[b] = f(xs, ctx);
        ok = y[b] && (o.wrt == 0 || gt__grads(f, n, xs, ctx, w, o.wrt, false, g[b]));
    }
    gt_backend_set(prev);
    if (!ok) {
        CHECK_MSG(false, "%s: failed to run: %s", name, gt_last_error());
    } else {
        char what[160];
        snprintf(what, sizeof what, "%s: fast vs naive output", name);
        ok &= gt_test_close(what, y[0], y[1], rtol, atol);
        for (int i = 0; i < n; i++) {
            if (!((o.wrt >> i) & 1u)) continue;
            snprintf(what, sizeof what, "%s: fast vs naive gradient of input %d", name, i);
            ok &= gt_test_close(what, g[0][i], g[1][i], rtol, atol);
        }
    }
    gt_scope_end(m);
    return ok;
}

/* --- golden tensors from PyTorch ------------------------------------------- */
typedef struct {
    char *name;
    gt_tensor *t;
} gt__gold;
static gt__gold *gt__golds;
static int gt__ngold;
static char gt__tmp[512];
static pid_t gt__tmp_owner;

/* rm -rf of the test's own folder (only ever a path made by gt_test_tmpdir). */
static void gt__rm_rf(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            size_t n = strlen(path) + strlen(e->d_name) + 2;
            char *sub = malloc(n);
            if (!sub) continue;
            snprintf(sub, n, "%s/%s", path, e->d_name);
            gt__rm_rf(sub);
            free(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static bool gt__keep_tmp(void) {
    const char *k = getenv("GANTRY_KEEP_TMP");
    return k && *k && strcmp(k, "0") != 0;
}

/* At exit (and on a fatal signal): the folder goes, unless GANTRY_KEEP_TMP is
 * set; a forked child never removes its parent's folder. */
static void gt__tmp_cleanup(void) {
    if (!gt__tmp[0] || getpid() != gt__tmp_owner) return;
    if (gt__keep_tmp()) {
        fprintf(stderr, "temporary files kept in %s (GANTRY_KEEP_TMP is set)\n", gt__tmp);
        return;
    }
    if (gt_test_failures) fprintf(stderr, "temporary files were in %s (removed; GANTRY_KEEP_TMP=1 keeps them)\n", gt__tmp);
    gt__rm_rf(gt__tmp);
    gt__tmp[0] = 0;
}

static void gt__tmp_signal(int sig) {
    gt__tmp_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

const char *gt_test_tmpdir(void) {
    if (!gt__tmp[0]) {
        const char *base = getenv("TMPDIR");
        if (!base || !*base) base = "/tmp";
        snprintf(gt__tmp, sizeof gt__tmp, "%s/gantry-test-XXXXXX", base);
        if (!mkdtemp(gt__tmp)) {
            fprintf(stderr, "cannot make a temporary folder under %s\n", base);
            exit(1);
        }
        gt__tmp_owner = getpid();
        atexit(gt__tmp_cleanup);
        const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], gt__tmp_signal);
    }
    return gt__tmp;
}

const char *gt_test_path(const char *name) {
    static char ring[16][1024];
    static int k;
    char *p = ring[k++ % 16];
    if (snprintf(p, sizeof ring[0], "%s/%s", gt_test_tmpdir(), name) >= (int)sizeof ring[0]) {
        fprintf(stderr, "gt_test_path: '%s' is too long\n", name);
        exit(1);
    }
    return p;
}


void gt_golden_free(void) {
    for (int i = 0; i < gt__ngold; i++) {
        free(gt__golds[i].name);
        gt_release(gt__golds[i].t);
    }
    free(gt__golds);
    gt__golds = NULL;
    gt__ngold = 0;
}

static bool gt__rd(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

bool gt_golden_run(const char *script, const char *args) {
    gt_golden_free();
    char out[1024], cmd[4096];
    if (snprintf(out, sizeof out, "%s/%s.gtb", gt_test_tmpdir(), script) >= (int)sizeof out) {
        gt_test_failures++;
        fprintf(stderr, "golden %s: the temporary path is too long\n", script);
        return false;
    }
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/parity/%s %s %s", GT_SOURCE_DIR, script, out,
             args ? args : "");
    int rc = system(cmd);
    gt_test_checks++;
    if (rc != 0) {
        gt_test_failures++;
        fprintf(stderr, "golden script failed (rc %d): %s\n", rc, cmd);
        return false;
    }
    FILE *f = fopen(out, "rb");
    char magic[4];
    uint32_t cnt = 0;
    if (!f || !gt__rd(f, magic, 4) || memcmp(magic, "GTB1", 4) != 0 || !gt__rd(f, &cnt, 4)) {
        if (f) fclose(f);
        gt_test_failures++;
        fprintf(stderr, "golden file %s unreadable\n", out);
        return false;
    }
    gt__golds = calloc(cnt, sizeof *gt__golds);
    bool ok = true;
    for (uint32_t i = 0; i < cnt && ok; i++) {
        uint32_t ln, code, nd;
        int64_t shape[GT_MAX_DIMS];
        ok = gt__rd(f, &ln, 4) && ln < 4096;
        char *name = ok ? calloc(1, ln + 1) : NULL;
        ok = ok && gt__rd(f, name, ln) && gt__rd(f, &code, 4) && gt__rd(f, &nd, 4) && nd <= GT_MAX_DIMS &&
             gt__rd(f, shape, 8 * nd);
        if (!ok) {
            free(name);
            break;
        }
        int64_t numel = 1;
        for (uint32_t k = 0; k < nd; k++) numel *= shape[k];
        gt_tensor *t = code == 1 ? gt_empty_i32((int)nd, shape) : gt_empty((int)nd, shape);
        ok = t && gt__rd(f, t->storage->data, (size_t)numel * 4);
        gt_retain(t); /* held past the caller's scope until gt_golden_free */
        gt__golds[gt__ngold].name = name;
        gt__golds[gt__ngold].t = t;
        gt__ngold++;
    }
    fclose(f);
    if (!ok) {
        gt_test_failures++;
        fprintf(stderr, "golden file %s truncated\n", out);
    }
    return ok;
}

gt_tensor *gt_golden(const char *name) {
    for (int i = 0; i < gt__ngold; i++)
        if (strcmp(gt__golds[i].name, name) == 0) return gt__golds[i].t;
    gt_test_checks++;
    gt_test_failures++;
    fprintf(stderr, "golden tensor '%s' not in the file\n", name);
    return NULL;
}

bool gt_golden_write(const char *path, int n, const char *const *names, gt_tensor *const *ts) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    uint32_t cnt = (uint32_t)n;
    fwrite("GTB1", 1, 4, f);
    fwrite(&cnt, 4, 1, f);
    for (int i = 0; i < n; i++) {
        uint32_t ln = (uint32_t)strlen(names[i]), code = ts[i]->dtype == GT_I32, nd = (uint32_t)ts[i]->ndim;
        fwrite(&ln, 4, 1, f);
        fwrite(names[i], 1, ln, f);
        fwrite(&code, 4, 1, f);
        fwrite(&nd, 4, 1, f);
        fwrite(ts[i]->shape, 8, nd, f);
        int64_t numel = gt_numel(ts[i]);
        if (code) {
            fwrite(gt_data_i32(ts[i]), 4, (size_t)numel, f); /* i32 tensors are made contiguous by callers */
        } else {
            float *tmp = malloc((size_t)(numel + 1) * 4);
            gt_copy_to(ts[i], tmp);
            fwrite(tmp, 4, (size_t)numel, f);
            free(tmp);
        }
    }
    return fclose(f) == 0;
}
