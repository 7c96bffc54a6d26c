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

#include "inception_internal.h"

/* 1x1 convs of one block that read the block input, stacked into one sgemm. */
typedef struct {
    int rows, cin;
    float *w; // (rows, cin) folded weights, in the block's member order
    float *b; // (rows) folded biases
} gt__stack;

/* A pool of worker threads that share out the items of a loop with the
 * caller (inception_par.c); NULL runs loops on the caller alone. */
typedef struct gt__par gt__par;
typedef void (*gt__par_fn)(void *ctx, int64_t i0, int64_t i1);
gt__par *gt__par_new(int threads); /* threads - 1 workers; NULL when threads < 2 or none could start */
void gt__par_free(gt__par *p);     /* NULL-safe */
/* fn(ctx, i0, i1) over [0, n) in items of `grain`, on the caller and the workers. */
void gt__par_run(gt__par *p, int64_t n, int64_t grain, gt__par_fn fn, void *ctx);

/* 1-D Winograd F(m, r) (inception_wino1d.c) for a 1 x r or r x 1 stride-1
 * conv: its transforms (the nonzero entries of each row of B^T (n, n) and
 * A^T (m, n), n = m + r - 1) and its transformed weights. */
#define GT__W1_MAXN 12
#define GT__W1_MAXM 6
typedef struct {
    int m, r, n;
    bool along_w; /* 1 x r; else r x 1 */
    int bnz[GT__W1_MAXN], bidx[GT__W1_MAXN][GT__W1_MAXN];
    float bval[GT__W1_MAXN][GT__W1_MAXN];
    int anz[GT__W1_MAXM], aidx[GT__W1_MAXM][GT__W1_MAXN];
    float aval[GT__W1_MAXM][GT__W1_MAXN];
    float *u; // (n, cout, cin) = G g for each (cout, cin)
} gt__w1d;
/* Output tile of the forward's 1-D Winograd convs. */
#define GT__W1_M 4
/* Whether c is a 1 x r / r x 1 stride-1 conv with no padding across and
 * n <= GT__W1_MAXN; then its F(m, r) state from its folded weights (NULL:
 * out of memory, or it does not fit). */
bool gt__w1d_fits(const gt__bconv *c, int m);
gt__w1d *gt__w1d_new(const gt__bconv *c, int m);
void gt__w1d_free(gt__w1d *w); /* NULL-safe */
/* F(m, r)'s B^T (n, n), G (n, r), A^T (m, n) in double (n = m + r - 1 <=
 * GT__W1_MAXN); false when the points give a singular system. */
bool gt__w1_mats(int m, int r, double *bt, double *g, double *at);
/* The nonzero entries of each row of mat (rows, n). */
void gt__w1_sparse(const double *mat, int rows, int n, int *nz, int (*idx)[GT__W1_MAXN], float (*val)[GT__W1_MAXN]);

/* 2-D Winograd F(m x m, r x r) (inception_wino2d.c) from the same transforms,
 * for the square stride-1 convs that have no hand-written one (the 5x5 of
 * Mixed_5b..5d): U = G g G^T, V = B^T d B, Y = A^T M A. */
#define GT__W2_MAXN 8
typedef struct {
    int m, r, n;
    int bnz[GT__W1_MAXN], bidx[GT__W1_MAXN][GT__W1_MAXN];
    float bval[GT__W1_MAXN][GT__W1_MAXN];
    int anz[GT__W1_MAXM], aidx[GT__W1_MAXM][GT__W1_MAXN];
    float aval[GT__W1_MAXM][GT__W1_MAXN];
    float *u; // (n * n, cout, cin)
} gt__w2d;
#define GT__W2_M 4
/* Whether c is square, stride 1, n <= GT__W2_MAXN; then its F(m x m, r x r)
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
    gt__par *par;     /* loop workers (NULL: the caller alone) */
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

/* Winograd F(2x2, 3x3) (inception_wino.c) for 3x3 stride-1 convs with at
 * least this many input and output channels. */
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
/* For each of np Winograd points p: out_p (m, n) = u_p (m, k) @ v_p (k, n), the
 * points' matrices stored one after another. */
void gt__fgemm_points(int np, int m, int n, int k, const float *u, const float *v, float *out);

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
void gt__fgemm_epi(gt__par *par, int m, int64_t n, int k, const float *w, const float *x, float *y, const float *b,
                   int nseg, const gt__seg *seg);
/* Out-of-place or in-place y[r, :] = relu(x[r, :] + b[r]) over rows x n. */
void gt__fbias_relu(gt__par *par, const float *x, int rows, int64_t n, const float *b, float *y);
/* (planes, H, W) -> (planes, Ho, Wo) pools. */
void gt__favg3(gt__par *par, const float *x, int64_t planes, int H, int W, float *y); /* 3x3 / 1 / 1, pad left out */
void gt__fmax3(gt__par *par, const float *x, int64_t planes, int H, int W, int s, int p, float *y); /* 3x3 / s / p */
/* out[b, c] = mean of plane (c, b) of x (C, B, H, W). */
void gt__fmean(gt__par *par, const float *x, int C, int B, int64_t hw, float *out);
/* y (n, 1008) = pool (n, 2048) @ w^T (w (1008, 2048)) + b (or no bias when NULL). */
void gt__ffc(const float *pool, int64_t n, const float *w, const float *b, float *y);
/* y (m, n) = a (m, k) @ b (k, n) with leading dims; beta 0. */
void gt__fgemm(int m, int64_t n, int k, const float *a, int lda, const float *b, int64_t ldb, float *y, int64_t ldy);

#endif
