/* One table-driven check of every public op (as ggml's test-backend-ops).
 *
 * Every function of include/gantry/ops.h that returns a gt_tensor * has at
 * least one row in ROWS (op_table_rows.h): the op, a variant name, its inputs (shapes,
 * value domains, strided views), its parameters and its tolerances. Each row
 * is run four ways:
 *   - forward and input gradients on the fast kernels against the naive
 *     reference backend (gt_test_fast_vs_naive);
 *   - forward, gradient of sum(out * w) and, for twice-differentiable rows, the
 *     gradient of sum_i sum(v_i * grad_i), against PyTorch in float64
 *     (tests/parity/ops_table.py, one run for the whole table);
 *   - first and second order gradients against finite differences
 *     (gt_test_gradcheck / gt_test_gradgradcheck) on the small rows;
 *   - completeness: the test reads ops.h and fails naming any op that has
 *     neither a row nor an entry in EXCLUDED (with its reason).
 * A row's gradient class says what is checked: G2 first and second order, G1
 * first order only, G0 no gradient (a reason is then mandatory). */
#include "../common/harness.h"

#include <ctype.h>

#include "op_table.h" /* rows, tolerances, inputs */

/* Ops of ops.h returning gt_tensor * that have no row, each with its reason. */
static const struct {
    const char *op, *why;
} EXCLUDED[] = {
    {NULL, NULL}, /* none: every op has rows */
};


static gt_gradcheck_opts fd_opts(const row *r) {
    gt_gradcheck_opts o = {.eps = r->t.eps, .rtol = r->t.fr, .atol = r->t.fa, .max_elems = 48};
    return o;
}

/* --- completeness: every op of ops.h has a row ---------------------------------------------- */
#define MAXDECL 256
typedef struct {
    int n;
    char name[MAXDECL][64];
} decls;

static bool is_id(int c) { return isalnum(c) || c == '_'; }

/* The header with comments blanked out. */
static char *read_header(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/include/gantry/ops.h", GT_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        fclose(f);
        return NULL;
    }
    fclose(f);
    s[n] = 0;
    for (char *p = s; *p; p++) {
        if (p[0] == '/' && p[1] == '*') {
            char *e = strstr(p + 2, "*/");
            char *end = e ? e + 2 : p + strlen(p);
            for (; p < end; p++) *p = ' ';
            p--;
        } else if (p[0] == '/' && p[1] == '/') {
            for (; *p && *p != '\n'; p++) *p = ' ';
            if (!*p) break;
        }
    }
    return s;
}

/* Every declaration "gt_tensor *gt_xxx(" of the (comment-free) header. */
static void tensor_ops(const char *s, decls *d) {
    d->n = 0;
    for (const char *p = s; (p = strstr(p, "gt_tensor")) != NULL; p += 9) {
        if (p > s && is_id((unsigned char)p[-1])) continue;
        const char *q = p + 9;
        if (is_id((unsigned char)*q)) continue;
        while (isspace((unsigned char)*q)) q++;
        if (*q != '*') continue;
        q++;
        while (isspace((unsigned char)*q)) q++;
        const char *id = q;
        while (is_id((unsigned char)*q)) q++;
        size_t len = (size_t)(q - id);
        while (isspace((unsigned char)*q)) q++;
        if (*q != '(' || len < 4 || strncmp(id, "gt_", 3) != 0 || len >= 64 || d->n >= MAXDECL) continue;
        memcpy(d->name[d->n], id, len);
        d->name[d->n++][len] = 0;
    }
}

/* name( declared in the header (any return type) */
static bool declared(const char *s, const char *name) {
    size_t len = strlen(name);
    for (const char *p = s; (p = strstr(p, name)) != NULL; p += len) {
        if (p > s && is_id((unsigned char)p[-1])) continue;
        const char *q = p + len;
        while (isspace((unsigned char)*q)) q++;
        if (*q == '(') return true;
    }
    return false;
}

static int rows_of(const char *op, const char *skip_op) {
    int k = 0;
    for (int i = 0; i < NROWS; i++)
        if (strcmp(ROWS[i].op, op) == 0 && (!skip_op || strcmp(skip_op, op) != 0)) k++;
    return k;
}

static const char *excluded(const char *op) {
    for (int i = 0; EXCLUDED[i].op; i++)
        if (strcmp(EXCLUDED[i].op, op) == 0) return EXCLUDED[i].why;
    return NULL;
}

/* The ops without a row or an exclusion, as if the rows of skip_op were not in the table;
 * names them when report. */
static int missing_ops(const decls *d, const char *skip_op, bool report, char *first, size_t nfirst) {
    int miss = 0;
    if (first) first[0] = 0;
    for (int i = 0; i < d->n; i++) {
        if (rows_of(d->name[i], skip_op) > 0 || excluded(d->name[i])) continue;
        if (first && !miss) snprintf(first, nfirst, "%s", d->name[i]);
        miss++;
        if (report)
            CHECK_MSG(false, "%s is declared in include/gantry/ops.h but has no row in tests/ops/test_op_table.c "
                      "(add one, or an entry in EXCLUDED with the reason)", d->name[i]);
    }
    return miss;
}

static void test_completeness(void) {
    char *s = read_header();
    CHECK_MSG(s != NULL, "cannot read %s/include/gantry/ops.h", GT_SOURCE_DIR);
    if (!s) return;
    decls *d = malloc(sizeof *d);
    tensor_ops(s, d);
    /* the scan itself: multi-line declarations found, non-tensor returns not */
    CHECK_MSG(d->n >= 50, "only %d ops found in ops.h", d->n);
    bool bn = false, conv = false, split = false, make = false;
    for (int i = 0; i < d->n; i++) {
        bn |= !strcmp(d->name[i], "gt_batch_norm");
        conv |= !strcmp(d->name[i], "gt_conv2d");
        split |= !strcmp(d->name[i], "gt_split");
        make |= !strcmp(d->name[i], "gt_conv_params_make");
    }
    CHECK(bn && conv && !split && !make);
    /* every op has a row (or a reason) */
    int miss = missing_ops(d, NULL, true, NULL, 0);
    /* the guard sees a removed row: drop each op's rows in turn, it must name exactly that op */
    int guard_bad = 0;
    for (int i = 0; i < d->n && miss == 0; i++) {
        char first[64];
        int m = missing_ops(d, d->name[i], false, first, sizeof first);
        if (excluded(d->name[i])) continue;
        if (m != 1 || strcmp(first, d->name[i]) != 0) guard_bad++;
    }
    CHECK_MSG(guard_bad == 0, "the completeness guard missed %d removed ops", guard_bad);
    /* rows and exclusions name declared functions; rows without a second-order check say why */
    for (int i = 0; i < NROWS; i++) {
        const row *r = &ROWS[i];
        CHECK_MSG(declared(s, r->op), "row %s: %s is not declared in ops.h", row_name(i), r->op);
        CHECK_MSG(r->grad == G2 || (r->why && r->why[0]), "row %s: no gradient check without a reason",
                  row_name(i));
        shapes sh;
        CHECK_MSG(parse_shapes(r->in, &sh), "row %s: bad shapes '%s'", row_name(i), r->in);
        for (int j = 0; j < i; j++)
            CHECK_MSG(strcmp(r->op, ROWS[j].op) || strcmp(r->var, ROWS[j].var), "row %s twice", row_name(i));
    }
    for (int i = 0; EXCLUDED[i].op; i++) {
        CHECK_MSG(declared(s, EXCLUDED[i].op), "excluded %s is not declared in ops.h", EXCLUDED[i].op);
        CHECK_MSG(rows_of(EXCLUDED[i].op, NULL) == 0, "excluded %s has rows", EXCLUDED[i].op);
        CHECK_MSG(EXCLUDED[i].why && EXCLUDED[i].why[0], "excluded %s without a reason", EXCLUDED[i].op);
    }
    /* GT_OP_TABLE_LIST=1: the table with what each row checks and its tolerances */
    const char *list = getenv("GT_OP_TABLE_LIST");
    for (int i = 0; list && *list && *list != '0' && i < NROWS; i++) {
        const row *r = &ROWS[i];
        const char *g = r->grad == G2 ? "grad+gradgrad" : r->grad == G1 ? "grad" : "no grad";
        printf("  %-44s in %-26s %-13s%s torch %.0e/%.0e naive %.0e/%.0e fd %.0e/%.0e%s%s\n", row_name(i), r->in, g,
               r->big ? " (big)" : "", r->t.pr, r->t.pa, r->t.nr, r->t.na, r->t.fr, r->t.fa, r->why ? ": " : "",
               r->why ? r->why : "");
    }
    int nops = 0;
    for (int i = 0; i < d->n; i++) nops += rows_of(d->name[i], NULL) > 0;
    printf("  ops.h: %d ops returning gt_tensor *; the table: %d rows, covering %d of them (+ gt_split)\n", d->n,
           NROWS, nops);
    free(d);
    free(s);
}

/* --- PyTorch ------------------------------------------------------------------------------ */
static gt_tensor *ascii_tensor(const char *s) {
    int32_t buf[64];
    int n = (int)strlen(s);
    for (int i = 0; i < n && i < 64; i++) buf[i] = (unsigned char)s[i];
    return gt_from_i32(1, (int64_t[]){n}, buf);
}

static void test_golden_pytorch(void) {
    enum { PER = 8 + 2 * MAXIN };
    const char **names = calloc((size_t)NROWS * PER, sizeof *names);
    gt_tensor **ts = calloc((size_t)NROWS * PER, sizeof *ts);
    char(*buf)[48] = calloc((size_t)NROWS * PER, sizeof *buf);
    gt_tensor *(*in)[MAXIN] = calloc((size_t)NROWS, sizeof *in);
    gt_tensor *(*v)[MAXIN] = calloc((size_t)NROWS, sizeof *v);
    gt_tensor **w = calloc((size_t)NROWS, sizeof *w);
    int *nin = calloc((size_t)NROWS, sizeof *nin);
    int k = 0;
    bool ok = names && ts && buf && in && v && w && nin;
#define PUT(tag, t)                                             \
    do {                                                        \
        snprintf(buf[k], sizeof buf[k], "r%03d.%s", i, tag);    \
        names[k] = buf[k];                                      \
        ts[k++] = (t);                                          \
    } while (0)
    for (int i = 0; ok && i < NROWS; i++) {
        const row *r = &ROWS[i];
        nin[i] = make_inputs(r, i, in[i]);
        if (!nin[i]) continue;
        gt_tensor *y = run_row(in[i], (void *)r);
        CHECK_MSG(y != NULL, "%s: %s", row_name(i), gt_last_error());
        if (!y) {
            gt_clear_error();
            nin[i] = 0;
            continue;
        }
        w[i] = gt_test_randn(5000 + (uint64_t)i, y->ndim, y->shape, 1.0f);
        int32_t vw[MAXIN], df[MAXIN];
        for (int j = 0; j < nin[i]; j++) vw[j] = view_of(r, j), df[j] = diff_in(r, j);
        PUT("op", ascii_tensor(r->op));
        PUT("ip", gt_from_i32(1, (int64_t[]){NIP}, r->ip));
        PUT("fp", gt_from_data(1, (int64_t[]){NFP}, r->fp));
        PUT("view", gt_from_i32(1, (int64_t[]){nin[i]}, vw));
        PUT("diff", gt_from_i32(1, (int64_t[]){nin[i]}, df));
        PUT("post", gt_from_i32(1, (int64_t[]){1}, (int32_t[]){r->post}));
        PUT("grad", gt_from_i32(1, (int64_t[]){1}, (int32_t[]){r->grad}));
        PUT("w", w[i]);
        for (int j = 0; j < nin[i]; j++) {
            char tag[16];
            snprintf(tag, sizeof tag, "x%d", j);
            PUT(tag, in[i][j]);
            if (r->grad == G2 && df[j]) {
                v[i][j] = gt_test_randn(7000 + 16 * (uint64_t)i + (uint64_t)j, in[i][j]->ndim, in[i][j]->shape, 1.0f);
                snprintf(tag, sizeof tag, "v%d", j);
                PUT(tag, v[i][j]);
            }
        }
        if (strcmp(r->op, "gt_dropout") == 0 && r->ip[0] && r->fp[0] > 0) {
            /* the mask (times 1/(1-p)): the RNGs differ, so PyTorch takes gantry's; the logical shape */
            gt_tensor *ones = gt_ones_like(apply_view(view_of(r, 0), in[i][0]));
            gt_tensor *x1[1] = {ones};
            PUT("mask", f_gt_dropout(x1, r));
        }
    }
#undef PUT
    char path[512];
    snprintf(path, sizeof path, "%s/op_table_in.gtb", gt_test_tmpdir());
    if (ok) CHECK(gt_golden_write(path, k, names, ts));
    if (ok && gt_golden_run("ops_table.py", path)) {
        for (int i = 0; i < NROWS; i++) {
            const row *r = &ROWS[i];
            if (!nin[i]) continue;
            char nm[160], a[64], b[64];
            const char *rn = row_name(i);
            gt_tensor *y = run_row(in[i], (void *)r);
            snprintf(nm, sizeof nm, "r%03d.y", i);
            gt_tensor *want = gt_golden(nm);
            snprintf(nm, sizeof nm, "%s: output vs PyTorch", rn);
            /* gtb.py writes a 0-d tensor as (1,) (numpy's ascontiguousarray) */
            bool same = y && want && (gt_same_shape(y, want) || (y->ndim == 0 && want->ndim == 1 && want->shape[0] == 1));
            CHECK_MSG(same, "%s: shape %s, PyTorch %s", nm,
                      y ? gt_shape_str(y, a, sizeof a) : "?", want ? gt_shape_str(want, b, sizeof b) : "?");
            gt_test_close(nm, y, want, r->t.pr, r->t.pa);
            if (r->grad == G0 || !y) continue;
            gt_tensor *sel[MAXIN], *g[MAXIN], *gg[MAXIN];
            int idx[MAXIN], m = 0;
            for (int j = 0; j < nin[i]; j++)
                if (diff_in(r, j)) idx[m] = j, sel[m++] = in[i][j];
            if (!m) continue;
            bool second = r->grad == G2;
            if (gt_grad(gt_sum_all(gt_mul(y, w[i])), NULL, m, sel, g, second) != GT_OK) {
                CHECK_MSG(false, "%s: gradient failed: %s", rn, gt_last_error());
                gt_clear_error();
                continue;
            }
            gt_tensor *h = NULL;
            for (int j = 0; j < m; j++) {
                snprintf(nm, sizeof nm, "r%03d.g%d", i, idx[j]);
                want = gt_golden(nm);
                snprintf(nm, sizeof nm, "%s: gradient of input %d vs PyTorch", rn, idx[j]);
                gt_test_close(nm, g[j], want, r->t.pr, r->t.pa);
                if (second) {
                    gt_tensor *t = gt_sum_all(gt_mul(g[j], v[i][idx[j]]));
                    h = h ? gt_add(h, t) : t;
                }
            }
            if (!second) continue;
            if (!h || !h->requires_grad) {
                for (int j = 0; j < m; j++) gg[j] = gt_zeros_like(sel[j]);
            } else if (gt_grad(h, NULL, m, sel, gg, false) != GT_OK) {
                CHECK_MSG(false, "%s: second-order gradient failed: %s", rn, gt_last_error());
                gt_clear_error();
                continue;
            }
            for (int j = 0; j < m; j++) {
                snprintf(nm, sizeof nm, "r%03d.gg%d", i, idx[j]);
                want = gt_golden(nm);
                snprintf(nm, sizeof nm, "%s: second-order gradient of input %d vs PyTorch", rn, idx[j]);
                gt_test_close(nm, gg[j], want, r->t.pr, r->t.pa);
            }
        }
    }
    free(names);
    free(ts);
    free(buf);
    free(in);
    free(v);
    free(w);
    free(nin);
}

/* --- fast vs naive, finite differences --------------------------------------------------------- */
static void test_fast_vs_naive(void) {
    for (int i = 0; i < NROWS; i++) {
        const row *r = &ROWS[i];
        int m = gt_scope_begin();
        gt_tensor *in[MAXIN];
        int n = make_inputs(r, i, in);
        if (n) gt_test_fast_vs_naive(row_name(i), run_row, n, in, (void *)r, r->t.nr, r->t.na);
        gt_clear_error();
        gt_scope_end(m);
    }
}

/* The big rows again on one thread: the serial paths of the threaded kernels. */
static void test_fast_vs_naive_one_thread(void) {
    int prev = gt_get_num_threads();
    gt_set_num_threads(1);
    for (int i = 0; i < NROWS; i++) {
        const row *r = &ROWS[i];
        if (!r->big) continue;
        int m = gt_scope_begin();
        gt_tensor *in[MAXIN];
        int n = make_inputs(r, i, in);
        char nm[160];
        snprintf(nm, sizeof nm, "%s (one thread)", row_name(i));
        if (n) gt_test_fast_vs_naive(nm, run_row, n, in, (void *)r, r->t.nr, r->t.na);
        gt_clear_error();
        gt_scope_end(m);
    }
    gt_set_num_threads(prev);
}

static void fd_checks(bool second) {
    for (int i = 0; i < NROWS; i++) {
        const row *r = &ROWS[i];
        if (r->big || r->grad == G0 || (second && r->grad != G2)) continue;
        int m = gt_scope_begin();
        gt_tensor *in[MAXIN];
        int n = make_inputs(r, i, in);
        gt_gradcheck_opts o = fd_opts(r);
        if (!n) CHECK_MSG(false, "%s: bad shapes", row_name(i));
        else if (second) gt_test_gradgradcheck(row_name(i), run_row, n, in, (void *)r, &o);
        else gt_test_gradcheck(row_name(i), run_row, n, in, (void *)r, &o);
        gt_clear_error();
        gt_scope_end(m);
    }
}

static void test_gradcheck(void) { fd_checks(false); }
static void test_gradgradcheck(void) { fd_checks(true); }

int main(void) {
    RUN(test_completeness);
    RUN(test_golden_pytorch);
    RUN(test_fast_vs_naive);
    RUN(test_fast_vs_naive_one_thread);
    RUN(test_gradcheck);
    RUN(test_gradgradcheck);
    return gt_test_finish();
}
