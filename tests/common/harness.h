/* tests/common/harness.h - the test harness: checks, gradient checks against
 * finite differences (first and second order), fast-vs-naive kernel checks,
 * and golden tensors written by PyTorch. */
#ifndef GT_TEST_HARNESS_H
#define GT_TEST_HARNESS_H

#include <math.h>
#include <string.h>

#include "gantry.h"

#define GT_TEST_MAX_IN 16 /* inputs a checked function may take */

extern int gt_test_failures, gt_test_checks;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        gt_test_checks++;                                                            \
        if (!(cond)) {                                                               \
            gt_test_failures++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_MSG(cond, ...)                                             \
    do {                                                                 \
        gt_test_checks++;                                                \
        if (!(cond)) {                                                   \
            gt_test_failures++;                                          \
            fprintf(stderr, "%s:%d: CHECK failed: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                \
            fprintf(stderr, "\n");                                       \
        }                                                                \
    } while (0)

/* Runs one test function inside a scope; reports leaks of tensors. */
#define RUN(fn) gt_test_run(#fn, fn)
void gt_test_run(const char *name, void (*fn)(void));
/* Prints "N passed, N failed" for the checks and returns the exit code. */
int gt_test_finish(void);

/* max |a-b| / (atol + rtol*|b|) <= 1 elementwise; prints the worst element. */
bool gt_test_close(const char *what, const gt_tensor *a, const gt_tensor *b, float rtol, float atol);
bool gt_test_close_buf(const char *what, const float *a, const float *b, int64_t n, float rtol, float atol);

/* Deterministic test data. */
gt_tensor *gt_test_randn(uint64_t seed, int ndim, const int64_t *shape, float scale);
gt_tensor *gt_test_uniform(uint64_t seed, int ndim, const int64_t *shape, float lo, float hi);

/* A function of n inputs to check: returns any tensor (new reference in scope). */
typedef gt_tensor *(*gt_test_fn)(gt_tensor *const *in, void *ctx);

typedef struct {
    float eps;   /* finite-difference step (default 1e-2) */
    float rtol;  /* default 2e-2 */
    float atol;  /* default 2e-3 */
    int max_elems; /* check at most this many elements per input (default 64, spread evenly) */
    unsigned wrt;  /* bitmask of inputs to differentiate (default: those with requires_grad) */
} gt_gradcheck_opts;

/* First order: the gradient of sum(f(x) * w) (w fixed random) against
 * central finite differences. */
bool gt_test_gradcheck(const char *name, gt_test_fn f, int n, gt_tensor *const *in, void *ctx,
                       const gt_gradcheck_opts *o);
/* Second order: h(x) = sum_i sum(v_i * d/dx_i sum(f(x) * w)) built with
 * create_graph; its gradient against finite differences of h. */
bool gt_test_gradgradcheck(const char *name, gt_test_fn f, int n, gt_tensor *const *in, void *ctx,
                           const gt_gradcheck_opts *o);
/* f on the fast kernels and on the naive reference: outputs and gradients agree. */
bool gt_test_fast_vs_naive(const char *name, gt_test_fn f, int n, gt_tensor *const *in, void *ctx, float rtol,
                           float atol);

/* Golden tensors: runs `/usr/bin/python3 tests/parity/<script> <outfile> [args]`
 * and loads the GTB1 file it writes. Returns false (and fails a check) if the
 * script fails. */
bool gt_golden_run(const char *script, const char *args);
/* Tensor named name from the last golden run (new ref in scope), or NULL. */
gt_tensor *gt_golden(const char *name);
void gt_golden_free(void);
/* Writes tensors to a GTB1 file (for feeding inputs to a script). */
bool gt_golden_write(const char *path, int n, const char *const *names, gt_tensor *const *ts);
/* This test's own temporary folder ($TMPDIR or /tmp, gantry-test-XXXXXX),
 * made on first use and removed with everything in it when the process ends
 * (normally or by a fatal signal), failed or not; GANTRY_KEEP_TMP=1 keeps it
 * and prints where it is. */
const char *gt_test_tmpdir(void);
/* name inside that folder (a ring of 16 buffers: the last 16 stay valid). */
const char *gt_test_path(const char *name);

#endif
