/* The layouts behind conv.c's products (not public): im2col, col2im, the panel packers that
 * write im2col straight into sgemm's panels (gt_sgemm_bpack_fn), and the space-to-depth copy
 * of x for convs whose stride divides the kernel. par: use OpenMP inside (only outside a
 * parallel region). */
#ifndef GT_CPU_CONV_COLS_H
#define GT_CPU_CONV_COLS_H

#include <stdbool.h>
#include <stdint.h>

#include "conv.h"

/* col (C*kh*kw, B*P): row (c, i, j), column (b, oh, ow) = x[b, c, oh*sh-ph+i*dh, ow*sw-pw+j*dw] or 0,
 * output rows [oh0, oh1) only: the column of (b, oh, ow) is b * (oh1 - oh0) * Wo + (oh - oh0) * Wo + ow. */
void gt__im2col(const gt_conv_geom *g, const float *x, int64_t B, int64_t oh0, int64_t oh1, float *col, bool par);
/* gx[b, c] = bias[c] (or 0) + the sum of the col entries that im2col would have read from it. */
void gt__col2im(const gt_conv_geom *g, const float *col, int64_t B, const float *bias, float *gx, bool par);

/* What a panel packer reads: the col matrix of group gi for a chunk of images at x (x itself, or
 * its space-to-depth copy x''), output rows [oh0, oh1). */
typedef struct {
    const gt_conv_geom *g;
    const float *x;
    int64_t gi, oh0, oh1;
} gt_cpu_cols_src;
/* gt_sgemm_bpack_fn's: im2col of x, gathered; and of x'' (gt__s2d_input), plain copies. */
void gt__im2col_panels(void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr, float *dst);
void gt__s2d_panels(void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr, float *dst);

/* Whether the stride divides the kernel (and no dilation): the forward can go through x''. */
bool gt__s2d_ok(const gt_conv_geom *g);
/* x'' of B images at x into dst (B, C*sh*sw, Ho-1+kh/sh, Wo-1+kw/sw); it fits where im2col would. */
void gt__s2d_input(const gt_conv_geom *g, const float *x, int64_t B, float *dst, bool par);

#endif
