/* A small work-sharing pool of sleeping threads (par.c), for the loops that
 * run between single sgemms: the caller and the workers take items from a
 * shared counter, so the caller never waits for a worker that has not
 * started (it does the items itself), and workers sleep on a condition
 * variable between jobs (no spinning). The fused Inception forward shares its
 * epilogues, im2col and Winograd transforms through it.
 *
 * Why not OpenMP there: an OpenMP team started between two sgemms ends in a
 * barrier that every team thread must reach, then spin-waits; on a 2-core
 * machine that fights the sgemm's threads, and when other processes take a
 * core the barrier waits for a descheduled thread (measured: 3-4x slower
 * than one thread under load). */
#ifndef GT_CPU_PAR_H
#define GT_CPU_PAR_H

#include <stdint.h>

typedef struct gt_cpu_par gt_cpu_par; /* NULL: loops run on the caller alone */
typedef void (*gt_cpu_par_fn)(void *ctx, int64_t i0, int64_t i1);

/* threads - 1 workers; NULL when threads < 2 or none could start. */
gt_cpu_par *gt_cpu_par_new(int threads);
void gt_cpu_par_free(gt_cpu_par *p); /* NULL-safe */
/* fn(ctx, i0, i1) over [0, n) in items of `grain`, on the caller and the
 * workers; returns when every item is done. One job at a time per pool. */
void gt_cpu_par_run(gt_cpu_par *p, int64_t n, int64_t grain, gt_cpu_par_fn fn, void *ctx);

#endif
