/* gantry/base.h - status codes, errors, assertions, thread-local modes. */
#ifndef GANTRY_BASE_H
#define GANTRY_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GT_MAX_DIMS 6

/* Errors a user can cause come back as a status (or a NULL tensor) plus a
 * message from gt_last_error(). GT_ASSERT is only for broken invariants. */
typedef enum {
    GT_OK = 0,
    GT_ERR_SHAPE,   /* shapes that do not fit together */
    GT_ERR_ARG,     /* a bad argument: negative size, NULL, out of range */
    GT_ERR_OOM,     /* allocation failed */
    GT_ERR_IO,      /* file could not be opened / read / written */
    GT_ERR_FORMAT,  /* a file's content is not what it must be */
    GT_ERR_STATE,   /* call not valid now (graph freed, no grad, ...) */
    GT_ERR_COUNT
} gt_status;

const char *gt_last_error(void);   /* "" when none */
gt_status gt_last_status(void);
void gt_clear_error(void);
/* Sets the thread's error (printf-style). Returns the status for chaining. */
gt_status gt_set_error(gt_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
const char *gt_status_name(gt_status st);

#define GT_ASSERT(cond)                                                        \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: internal invariant failed: %s\n", __FILE__, \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Kernel selection: GT_BACKEND_CPU uses the fast kernels (BLAS, OpenMP,
 * fused loops); GT_BACKEND_NAIVE the reference loops that the tests hold
 * the fast ones to. Thread-local. */
typedef enum { GT_BACKEND_CPU = 0, GT_BACKEND_NAIVE = 1 } gt_backend;
void gt_backend_set(gt_backend b);
gt_backend gt_backend_get(void);

/* Threads used by OpenMP kernels and BLAS (0 = library default). */
void gt_set_num_threads(int n);
int gt_get_num_threads(void);

#ifdef __cplusplus
}
#endif
#endif
