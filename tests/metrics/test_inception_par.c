/* The work pool (src/backend/cpu/par.c; the fused Inception forward uses it):
 * every item of every job runs exactly once, for many short jobs back to
 * back (workers arriving late for a job that is already done), odd sizes and
 * grains, several pool sizes, and no pool at all. */
#include <stdatomic.h>

#include "../../src/metrics/inception_fast.h"
#include "../common/harness.h"

typedef struct {
    atomic_int *hits;
    int64_t n;
    atomic_int calls;
} job;

static void count(void *ctx, int64_t i0, int64_t i1) {
    job *j = ctx;
    atomic_fetch_add(&j->calls, 1);
    for (int64_t i = i0; i < i1; i++) atomic_fetch_add(&j->hits[i], 1);
}

static bool run_jobs(gt__par *p, int jobs) {
    bool ok = true;
    for (int k = 0; k < jobs && ok; k++) {
        int64_t n = 1 + (k * 7919) % 301, grain = 1 + k % 9;
        atomic_int *hits = calloc((size_t)n, sizeof *hits);
        job j = {hits, n, 0}; /* on the stack: gone after the call, as in the forward */
        gt__par_run(p, n, grain, count, &j);
        for (int64_t i = 0; i < n; i++) ok &= atomic_load(&hits[i]) == 1;
        free(hits);
    }
    return ok;
}

static void test_pool(void) {
    CHECK(gt__par_new(1) == NULL); /* one thread: loops run on the caller */
    CHECK(run_jobs(NULL, 50));
    int sizes[3] = {2, 3, 8};
    for (int s = 0; s < 3; s++) {
        gt__par *p = gt__par_new(sizes[s]);
        CHECK(p != NULL);
        CHECK_MSG(run_jobs(p, 3000), "pool of %d threads lost or repeated an item", sizes[s]);
        gt__par_run(p, 0, 4, count, NULL); /* empty: nothing runs */
        gt__par_free(p);
    }
    gt__par_free(NULL);
}

int main(void) {
    RUN(test_pool);
    return gt_test_finish();
}
