/* src/metrics/inception_fast.h - the fused Inception forward's kernels.
 *
 * Activations of a chunk of B images are laid out (C, B, H, W): channel c of
 * image b is the plane at (c * B + b) * H * W. A 1x1 convolution is then one
 * sgemm (C_out, C_in) @ (C_in, B*H*W); a k x k one an im2col of a few images'
 * columns at a time into (C_in*kh*kw, n*Ho*Wo) and an sgemm that writes those
 * columns of the output in place; and a channel concat is free: each branch
 * writes its rows of the block's output. */
#ifndef GT_INCEPTION_FAST_H
#define GT_INCEPTION_FAST_H

#include "../backend/cpu/par.h"
#include "../backend/cpu/winograd.h"
#include "inception_internal.h"

/* 1x1 convs of one block that read the block input, stacked into one sgemm. */
typedef struct {
    int rows, cin;
    float *w; // (rows, cin) folded weights, in the block's member order
    float *b; // (rows) folded biases
} gt__stack;

/* The loops between sgemms share out their items through the backend's work
 * pool (gt_cpu_par, src/backend/cpu/par.h); NULL runs them on the caller
 * alone. The pool under the names its tests (test_inception_par.c,
 * test_inception_pool.c) have used since it lived here: */
typedef gt_cpu_par gt__par;
#define gt__par_new gt_cpu_par_new
#define gt__par_free gt_cpu_par_free
#define gt__par_run gt_cpu_par_run

/* 1-D Winograd F(m, r) (inception_wino1d.c) for a 1 x r or r x 1 stride-1
 * conv: the transforms (src/backend/cpu/winograd.h) and its transformed
 * weights. */
typedef struct {
    gt_cpu_wino t;
    bool along_w; /* 1 x r; else r x 1 */
    float *u;     // (n, cout, cin) = G g for each (cout, cin)
} gt__w1d;
/* Output tile of the forward's 1-D Winograd convs. */
#define GT__W1_M 4
/* Whether c is a 1 x r / r x 1 stride-1 conv with no padding across and
 * n <= GT_CPU_WINO_MAXN; then its F(m, r) state from its folded weights (NULL:
 * out of memory, or it does not fit). */
bool gt__w1d_fits(const gt__bconv *c, int m);
gt__w1d *gt__w1d_new(const gt__bconv *c, int m);
void gt__w1d_free(gt__w1d *w); /* NULL-safe */

/* 2-D Winograd F(m x m, r x r) (inception_wino2d.c) from the same transforms,
 * for the square stride-1 convs that have no hand-written one (the 5x5 of
 * Mixed_5b..5d): U = G g G^T, V = B^T d B, Y = A^T M A. */
typedef struct {
    gt_cpu_wino t;
    float *u; // (n * n, cout, cin)
} gt__w2d;
#define GT__W2_M 4
/* Whether c is square, stride 1, n <= GT_CPU_WINO2_MAXN; then its F(m x m, r x r)
 * state (NULL: out of memory, or it does not fit). */
bool gt__w2d_fits(const gt__bconv *c, int m);
gt__w2d *gt__w2d_new(const gt__bconv *c, int m);
void gt__w2d_free(gt__w2d *w); /* NULL-safe */

/* Most lanes: the data-parallel forward's per-thread states. */
#define GT__MAX_LANES 64
/* Most images in a lane's chunk (the chunks shrink towards the end). */
#define GT__LANE_CHUNK 8

typedef struct gt__fast gt__fast;
struct gt__fast {
    gt__stack stack[GT__INC_NBLOCK];
    gt_cpu_par *par;  /* loop workers (NULL: the caller alone) */
    int par_threads;  /* the thread count they were made for */
    float *col;       /* im2col workspace */
    int64_t col_cap;  /* floats */
    float *arena;     /* activation buffers for one chunk */
    int64_t arena_cap;
    const gt__bconv *conv;           /* the net's convs (net->conv) */
    float *wino[GT__INC_NCONV];      // ((m+2)^2, cout, cin), m = wino_m[i]: Winograd weights of conv[i], NULL: im2col
    int wino_m[GT__INC_NCONV];       /* its output tile size, 2 or 4 */
    gt__w1d *w1d[GT__INC_NCONV];     /* 1-D Winograd state of conv[i], NULL: another path */
    gt__w2d *w2d[GT__INC_NCONV];     /* generic 2-D Winograd state of conv[i], NULL: another path */
    /* Data-parallel lanes: copies that share the weights above (stack, conv,
     * wino) and own their col and arena, with no loop pool (par NULL). Each
     * thread of the forward runs whole chunks of images on its own lane. */
    gt__fast *lane[GT__MAX_LANES];
    int nlanes;
    bool is_lane; /* a lane: frees only its col and arena */
};
/* F's first n lanes, made as needed; false: out of memory. */
bool gt__fast_lanes(gt__fast *F, int n);

/* Winograd F(2x2, 3x3) and F(4x4, 3x3) (inception_wino.c, on the backend's
 * transforms) for 3x3 stride-1 convs with at least this many input and output
 * channels. */
#define GT__WINO_MIN_C 32
/* Output tiles are 4x4 (F(4x4, 3x3): 4x fewer multiplies) for convs with at
 * most this many input channels, whose float32 error stays under 1e-5
 * relative; 2x2 (F(2x2, 3x3): 2.25x fewer, error ~1e-6) above. */
#define GT__WINO_M4_MAX_CIN 256
/* u ((m+2)^2, cout, cin) = G g G^T of folded weights w (cout, cin, 3, 3) for
 * F(m x m, 3x3), m 2 or 4; NULL: out of memory. */
float *gt__wino_weights(const float *w, int cout, int cin, int m);
/* gt__fconv by Winograd F(m x m, 3x3) with c's transformed weights u (3x3, stride 1, any padding). */
bool gt__fconv_wino(gt__fast *F, const gt__bconv *c, const float *u, int m, const float *x, int B, int H, int W,
                    float *y, bool epi);

/* gt__fconv by 1-D Winograd with w = gt__w1d_new(c, m), by 2-D with w = gt__w2d_new(c, m). */
bool gt__fconv_w1d(gt__fast *F, const gt__bconv *c, const gt__w1d *w, const float *x, int B, int H, int W, float *y,
                   bool epi);
bool gt__fconv_w2d(gt__fast *F, const gt__bconv *c, const gt__w2d *w, const float *x, int B, int H, int W, float *y,
                   bool epi);

/* F's im2col / Winograd workspace grown to at least n floats; false: out of memory. */
bool gt__fast_col(gt__fast *F, int64_t n);

/* y (cout, B, Ho, Wo) = conv(x (cin, B, H, W)) with c's folded weights; then,
 * when epi, y = relu(y + bias). false: out of memory. */
bool gt__fconv(gt__fast *F, const gt__bconv *c, const float *x, int B, int H, int W, float *y, bool epi);
float *gt__inception_arena(gt__fast *F, int64_t n);
/* Rows [r0, r1) of an sgemm's output: with epi, relu(y + bias) written to dst
 * (rows of the same length; NULL: in place); without, left for later. */
typedef struct {
    int r0, r1;
    float *dst;
    bool epi;
} gt__seg;
/* y (m, n) = w (m, k) @ x (k, n), a block of columns at a time, each block's
 * segment epilogues run while it is in cache. */
void gt__fgemm_epi(gt_cpu_par *par, int m, int64_t n, int k, const float *w, const float *x, float *y, const float *b,
                   int nseg, const gt__seg *seg);
/* Out-of-place or in-place y[r, :] = relu(x[r, :] + b[r]) over rows x n. */
void gt__fbias_relu(gt_cpu_par *par, const float *x, int rows, int64_t n, const float *b, float *y);
/* (planes, H, W) -> (planes, Ho, Wo) pools. */
void gt__favg3(gt_cpu_par *par, const float *x, int64_t planes, int H, int W, float *y); /* 3x3 / 1 / 1, pad left out */
void gt__fmax3(gt_cpu_par *par, const float *x, int64_t planes, int H, int W, int s, int p, float *y); /* 3x3 / s / p */
/* out[b, c] = mean of plane (c, b) of x (C, B, H, W). */
void gt__fmean(gt_cpu_par *par, const float *x, int C, int B, int64_t hw, float *out);
/* y (n, 1008) = pool (n, 2048) @ w^T (w (1008, 2048)) + b (or no bias when NULL). */
void gt__ffc(const float *pool, int64_t n, const float *w, const float *b, float *y);
/* y (m, n) = a (m, k) @ b (k, n) with leading dims; beta 0. */
void gt__fgemm(int m, int64_t n, int k, const float *a, int lda, const float *b, int64_t ldb, float *y, int64_t ldy);

#endif
