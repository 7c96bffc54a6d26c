/* Thread-local error state, backend and thread settings. */
#include "../internal.h"

#include <stdarg.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static _Thread_local char gt__errbuf[1024];
static _Thread_local gt_status gt__errst = GT_OK;
static _Thread_local gt_backend gt__backend = GT_BACKEND_CPU;

const char *gt_last_error(void) { return gt__errbuf; }
gt_status gt_last_status(void) { return gt__errst; }
void gt_clear_error(void) {
    gt__errbuf[0] = 0;
    gt__errst = GT_OK;
}

gt_status gt_set_error(gt_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gt__errbuf, sizeof gt__errbuf, fmt, ap);
    va_end(ap);
    gt__errst = st;
    return st;
}

gt_tensor *gt__fail(gt_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gt__errbuf, sizeof gt__errbuf, fmt, ap);
    va_end(ap);
    gt__errst = st;
    return NULL;
}

const char *gt_status_name(gt_status st) {
    static const char *names[] = {"ok", "shape mismatch", "bad argument", "out of memory",
                                  "i/o error", "bad format", "invalid state"};
    _Static_assert(sizeof names / sizeof names[0] == GT_ERR_COUNT, "status names");
    return (st >= 0 && st < GT_ERR_COUNT) ? names[st] : "unknown status";
}

void gt_backend_set(gt_backend b) { gt__backend = b; }
gt_backend gt_backend_get(void) { return gt__backend; }

extern void openblas_set_num_threads(int);
void gt_set_num_threads(int n) {
    if (n <= 0) return;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    openblas_set_num_threads(n);
}
int gt_get_num_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
