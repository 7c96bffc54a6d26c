/* .npy pieces shared by npy.c and npz.c (not public). */
#ifndef GT_NPY_INTERNAL_H
#define GT_NPY_INTERNAL_H

#include "io_internal.h"

/* Parses the header of the .npy bytes p[n] into a's dtype / ndim / shape /
 * numel; *data_off = where the data starts. L names the source in errors. */
gt_status gt__npy_header(const unsigned char *p, size_t n, const char *L, gt_npy_array *a, size_t *data_off);
/* Header + data (exactly numel * size bytes) into a (name NULL, data owned). */
gt_status gt__npy_parse(const unsigned char *p, size_t n, const char *L, gt_npy_array *a);
/* Appends a version 1.0 (2.0 when needed) header, padded to 64 bytes. */
gt_status gt__npy_header_write(gt_buf *b, gt_npy_dtype dtype, int ndim, const int64_t *shape);
/* Argument checks of the writers; *nbytes = the data size. */
gt_status gt__npy_check_args(const char *fn, gt_npy_dtype dtype, int ndim, const int64_t *shape, const void *data,
                             size_t *nbytes);

#endif
