/* Convolution kernels on raw float buffers: fast (im2col / col2im + gantry's
 * sgemm, OpenMP; Winograd F(4x4, 3x3) or F(2x2, 3x3) for 3x3 stride-1 convs) and naive
 * (direct loops, the reference).
 *
 * Every kernel is phrased in terms of one convolution geometry: a conv2d from
 * an "input" (N, C, H, W) to an "output" (N, O, Ho, Wo) with weight
 * (O, C/groups, kh, kw). The three kernels are
 *   fwd:    y  = conv(x, w) (+ b over O)                 x -> y
 *   data:   gx = conv^T(gy, w) (+ b over C)              y -> x (transposed conv)
 *   weight: gw = d sum(conv(x, w) * gy) / d w            (x, y) -> w
 * Ho and Wo are given explicitly and may be smaller than the natural output
 * size (H + 2p - d(k-1) - 1) / s + 1: output positions past them do not exist.
 * That is what a transposed convolution whose output_padding is not smaller
 * than its stride needs. All buffers are contiguous. */
#ifndef GT_CPU_CONV_H
#define GT_CPU_CONV_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t n;          /* batch */
    int64_t c, h, w;    /* conv input channels and size */
    int64_t o, ho, wo;  /* conv output channels and size */
    int64_t kh, kw;     /* kernel */
    int64_t sh, sw;     /* stride (> 0) */
    int64_t ph, pw;     /* padding (>= 0) */
    int64_t dh, dw;     /* dilation (> 0) */
    int64_t groups;     /* divides c and o */
} gt_conv_geom;

/* y (N, O, Ho, Wo) = conv(x (N, C, H, W), w (O, C/g, kh, kw)) + b (O) or NULL.
 * Return false only when the workspace cannot be allocated. */
bool gt_cpu_conv_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y);
void gt_naive_conv_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y);

/* gx (N, C, H, W) = conv^T(gy (N, O, Ho, Wo), w (O, C/g, kh, kw)) + b (C) or NULL. */
bool gt_cpu_conv_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx);
void gt_naive_conv_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx);

/* gw (O, C/g, kh, kw) = sum over n, positions of gy (N, O, Ho, Wo) x patches of x (N, C, H, W). */
bool gt_cpu_conv_weight(const gt_conv_geom *g, const float *x, const float *gy, float *gw);
void gt_naive_conv_weight(const gt_conv_geom *g, const float *x, const float *gy, float *gw);

/* Frees this thread's cached im2col workspace (it is reused between calls). */
void gt_cpu_conv_workspace_free(void);
/* Chunking of the batch: the im2col buffer size a chunk aims for (floats) and
 * the fewest sgemm columns a chunk should have; 0 restores a default. Tests
 * use it to force several chunks. */
void gt_cpu_conv_set_chunking(int64_t target_floats, int64_t min_cols);
/* The forward of convs whose stride divides the kernel through a space-to-depth copy of x (the
 * default) or, off, through im2col gathers (tests use it to cover both). */
void gt_cpu_conv_set_s2d(bool on);
/* Winograd (F(4x4, 3x3) while the sgemm K <= 256, else F(2x2, 3x3); conv_wino.h) for 3x3 stride-1 convs: 0 never, 1 where it pays (the
 * default), 2 wherever the geometry fits (tests, on small shapes). */
void gt_cpu_conv_set_winograd(int mode);

#endif
