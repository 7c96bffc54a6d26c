/* Helpers the C benchmarks share: a monotonic clock and the order of doubles for qsort. */
#ifndef GT_BENCH_UTIL_H
#define GT_BENCH_UTIL_H

#include <time.h>

static inline double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
