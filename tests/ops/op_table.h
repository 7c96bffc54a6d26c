/* tests/ops/op_table.h - the op table of tests/ops/test_op_table.c (rows, tolerances, inputs),
 * shared with tests/cuda/test_cuda_ops.c, which runs the same rows on the CPU and on a GPU.
 * Included once per test program, after tests/common/harness.h. */
#ifndef GT_TEST_OP_TABLE_H
#define GT_TEST_OP_TABLE_H

#include <ctype.h>

#define MAXIN 6
#define NIP 12
#define NFP 4

enum { G2 = 0, G1 = 1, G0 = 2 };
enum { P_NONE = 0, P_SQ = 1 }; /* the op's output as is / squared (a linear op's backward then gets a backward) */

/* Tolerances: PyTorch (output, gradients, second-order gradients), fast vs
 * naive, finite differences (rtol, atol, step). */
typedef struct {
    float pr, pa; /* vs PyTorch */
    float nr, na; /* fast vs naive */
    float fr, fa; /* vs finite differences */
    float eps;    /* finite-difference step */
} tols;

/*                 PyTorch       fast/naive    finite diff.  step */
#define T_VIEW   {1e-6f, 1e-7f, 0.0f, 0.0f, 2e-2f, 2e-3f, 1e-2f} /* copies: bit-exact across backends */
#define T_EW     {1e-5f, 1e-5f, 1e-5f, 1e-6f, 2e-2f, 2e-3f, 1e-2f}
#define T_RED    {1e-5f, 1e-5f, 1e-5f, 1e-5f, 2e-2f, 2e-3f, 1e-2f}
#define T_MM     {1e-5f, 1e-5f, 1e-5f, 1e-5f, 2e-2f, 2e-3f, 1e-2f}
#define T_CONV   {1e-4f, 1e-4f, 1e-4f, 1e-4f, 2e-2f, 2e-3f, 1e-2f}
#define T_NORM   {1e-4f, 1e-4f, 1e-4f, 1e-4f, 3e-2f, 5e-3f, 1e-2f}
#define T_POOL   {1e-5f, 1e-6f, 1e-5f, 1e-6f, 2e-2f, 2e-3f, 1e-2f}
#define T_LOSS   {1e-5f, 1e-6f, 1e-5f, 1e-6f, 2e-2f, 2e-3f, 1e-2f}
#define T_BIG    {1e-4f, 1e-4f, 1e-4f, 1e-4f, 2e-2f, 2e-3f, 1e-2f}

typedef struct row row;
typedef gt_tensor *(*op_fn)(gt_tensor *const *x, const row *r);

struct row {
    const char *op;  /* the public function this row checks */
    const char *var; /* variant */
    op_fn f;         /* f_<op>: calls op with the row's parameters */
    const char *in;  /* logical input shapes the op sees, "2x3x4 3x1" ("0d": a 0-d tensor) */
    /* per input (default 'a'): a N(0,1), p positive 0.5+|N|, z |x| > 0.15, u U(0.05, 0.95),
     * s U(-0.05, 0.05), d distinct values 0.05 apart (shuffled; no ties for max), b N(0, 40^2),
     * i int32 in [0, imax), m constant N(0, 0.3^2), v constant U(0.5, 2) (m, v: not differentiated) */
    const char *dom;
    /* per input (default '-'): t a transposed view (last two dims), s every other element of the last
     * dim, c channels-last (N,H,W,C) memory seen as (N,C,H,W) */
    const char *view;
    int imax;
    int ip[NIP];
    float fp[NFP];
    int post;
    int grad;        /* G2, G1, G0 */
    const char *why; /* why not G2 */
    tols t;
    bool big;        /* for the fast kernels' threaded paths: no finite differences (the small rows do them) */
    int navoid;
    float avoid[2];  /* keep inputs 0.05 away from these points (kinks, thresholds) */
};

#define OPF(OP) static __attribute__((unused)) gt_tensor *f_##OP(gt_tensor *const *x, const row *r __attribute__((unused)))

#include "op_table_rows.h" /* the ops and ROWS */

/* --- inputs ------------------------------------------------------------------------ */
typedef struct {
    int n;
    int nd[MAXIN];
    int64_t sh[MAXIN][GT_MAX_DIMS]; /* logical */
} shapes;

static bool parse_shapes(const char *s, shapes *o) {
    memset(o, 0, sizeof *o);
    while (*s) {
        while (*s == ' ') s++;
        if (!*s) break;
        if (o->n >= MAXIN) return false;
        int i = o->n++;
        if (strncmp(s, "0d", 2) == 0) {
            s += 2;
            continue;
        }
        for (;;) {
            char *e;
            long v = strtol(s, &e, 10);
            if (e == s || o->nd[i] >= GT_MAX_DIMS) return false;
            o->sh[i][o->nd[i]++] = v;
            s = e;
            if (*s != 'x') break;
            s++;
        }
    }
    return o->n > 0;
}

static char dom_of(const row *r, int i) { return r->dom && (int)strlen(r->dom) > i ? r->dom[i] : 'a'; }
static char view_of(const row *r, int i) { return r->view && (int)strlen(r->view) > i ? r->view[i] : '-'; }
static bool is_const(char d) { return d == 'm' || d == 'v' || d == 'i'; }
/* differentiated: a float input that is not a constant, in a row with gradients */
static bool diff_in(const row *r, int i) { return r->grad != G0 && !is_const(dom_of(r, i)); }

/* The stored (memory) shape of input i: the view turns it into the logical one. */
static int stored_shape(const row *r, const shapes *s, int i, int64_t *out) {
    int nd = s->nd[i];
    for (int k = 0; k < nd; k++) out[k] = s->sh[i][k];
    switch (view_of(r, i)) {
    case 't': out[nd - 2] = s->sh[i][nd - 1], out[nd - 1] = s->sh[i][nd - 2]; break;
    case 's': out[nd - 1] = 2 * s->sh[i][nd - 1]; break;
    case 'c': out[1] = s->sh[i][2], out[2] = s->sh[i][3], out[3] = s->sh[i][1]; break;
    default: break;
    }
    return nd;
}

static gt_tensor *apply_view(char v, gt_tensor *x) {
    switch (v) {
    case 't': return gt_transpose(x, -1, -2);
    case 's': return gt_slice(x, -1, 0, x->shape[x->ndim - 1], 2);
    case 'c': return gt_permute(x, (int[]){0, 3, 1, 2});
    default: return x;
    }
}

static uint64_t xs64(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static gt_tensor *make_input(const row *r, const shapes *s, int i, uint64_t seed) {
    int64_t sh[GT_MAX_DIMS];
    int nd = stored_shape(r, s, i, sh);
    char d = dom_of(r, i);
    if (d == 'i') {
        gt_tensor *u = gt_test_uniform(seed, nd, sh, 0.0f, (float)r->imax);
        gt_tensor *t = gt_empty_i32(nd, sh);
        for (int64_t k = 0; k < gt_numel(t); k++) gt_data_i32(t)[k] = (int32_t)gt_data(u)[k];
        return t;
    }
    gt_tensor *t;
    if (d == 'u') t = gt_test_uniform(seed, nd, sh, 0.05f, 0.95f);
    else if (d == 's') t = gt_test_uniform(seed, nd, sh, -0.05f, 0.05f);
    else if (d == 'v') t = gt_test_uniform(seed, nd, sh, 0.5f, 2.0f);
    else t = gt_test_randn(seed, nd, sh, d == 'b' ? 40.0f : d == 'm' ? 0.3f : 1.0f);
    float *x = gt_data(t);
    int64_t n = gt_numel(t);
    if (d == 'd') { /* distinct values 0.05 apart, shuffled */
        uint64_t st = seed * 0x9E3779B97F4A7C15ull + 1;
        for (int64_t k = 0; k < n; k++) x[k] = 0.05f * (float)(k - n / 2);
        for (int64_t k = n - 1; k > 0; k--) {
            int64_t j = (int64_t)(xs64(&st) % (uint64_t)(k + 1));
            float v = x[k];
            x[k] = x[j], x[j] = v;
        }
    }
    for (int64_t k = 0; k < n; k++) {
        if (d == 'p') x[k] = 0.5f + fabsf(x[k]);
        if (d == 'z' && fabsf(x[k]) < 0.15f) x[k] += x[k] < 0 ? -0.2f : 0.2f;
        for (int a = 0; a < r->navoid; a++)
            if (fabsf(x[k] - r->avoid[a]) < 0.05f) x[k] += 0.1f;
    }
    t->requires_grad = diff_in(r, i);
    return t;
}

static int make_inputs(const row *r, int idx, gt_tensor **in) {
    shapes s;
    if (!parse_shapes(r->in, &s)) return 0;
    for (int i = 0; i < s.n; i++) in[i] = make_input(r, &s, i, 1000 + 16 * (uint64_t)idx + (uint64_t)i);
    return s.n;
}

/* The checked function: the stored inputs through their views, the op, the post-processing. */
static gt_tensor *run_row(gt_tensor *const *in, void *ctx) {
    const row *r = ctx;
    shapes s;
    parse_shapes(r->in, &s);
    gt_tensor *x[MAXIN];
    for (int i = 0; i < s.n; i++) x[i] = apply_view(view_of(r, i), in[i]);
    gt_tensor *y = r->f(x, r);
    return r->post == P_SQ ? gt_mul(y, y) : y;
}

static const char *row_name(int i) {
    static char buf[4][128];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s[%s]", ROWS[i].op, ROWS[i].var);
    return b;
}


#endif
