/* The anycost family's modules, shared by src/models/anycost.c (G), anycost_d.c (D) and
 * anycost_sub.c (sub configs, costs, channel sorting). Not public. */
#ifndef GT_ANYCOST_INTERNAL_H
#define GT_ANYCOST_INTERNAL_H

#include "gantry/anycost.h"
#include "gantry/layers.h"

#define GT__AC_MAX_LEVELS 5 /* 4, 8, 16, 32, 64 */
#define GT__AC_MAX_MLP 8
#define GT__AC_LR_MUL 0.01f
#define GT__AC_SQRT2 1.41421356237309505f

/* A modulated convolution (kernel 3 with demodulation, noise and a leaky ReLU; or a torgb:
 * kernel 1, no demodulation, no noise, no activation). */
typedef struct {
    int c_in, c_out, k;
    bool torgb;
    gt_tensor *weight; /* (c_out, c_in, k, k), N(0, 1); scaled by 1/sqrt(c_in k k) in the forward */
    gt_tensor *mod_w;  /* (c_in, w_dim) the style affine, N(0, 1), scaled by 1/sqrt(w_dim) */
    gt_tensor *mod_b;  /* (c_in), 1 */
    gt_tensor *noise_w; /* (1) noise strength, 0 (NULL for a torgb) */
    gt_tensor *bias;   /* (c_out), 0 */
} gt__ac_mconv;

typedef struct {
    int R, levels, n_convs, w_dim, n_mlp, nz, channels;
    int C[GT__AC_MAX_LEVELS]; /* C(4 << l) */
    gt_tensor *map_w[GT__AC_MAX_MLP], *map_b[GT__AC_MAX_MLP]; /* style.<1+i>.weight / .bias */
    gt_tensor *input;                                         /* (1, C(4), 4, 4) */
    gt__ac_mconv conv[GT_AC_MAX_CONVS];
    gt__ac_mconv torgb[GT__AC_MAX_LEVELS];
    gt_tensor *noise[GT_AC_MAX_CONVS]; /* buffers (1, 1, H, W) */
} gt__ac_g;

#define GT__AC_MAX_DBLOCKS 4
typedef struct {
    int R, levels, channels, n_convs, d_cond;
    int Dc[GT__AC_MAX_LEVELS];                           /* D width at 4 << l */
    gt_tensor *frgb_w[GT__AC_MAX_LEVELS], *frgb_b[GT__AC_MAX_LEVELS]; /* by level (1..) */
    /* block b runs at level levels-1-b (from R down to 8) */
    gt_tensor *b_c1w[GT__AC_MAX_DBLOCKS], *b_c1b[GT__AC_MAX_DBLOCKS];
    gt_tensor *b_c2w[GT__AC_MAX_DBLOCKS], *b_c2b[GT__AC_MAX_DBLOCKS];
    gt_tensor *b_skw[GT__AC_MAX_DBLOCKS];
    gt_tensor *cond_w[GT__AC_MAX_DBLOCKS], *cond_b[GT__AC_MAX_DBLOCKS]; /* NULL where unconditioned */
    gt_tensor *fconv_w, *fconv_b, *lin1_w, *lin1_b, *lin2_w, *lin2_b;
} gt__ac_d;

extern const gt_net_ops gt__ac_g_ops, gt__ac_d_ops;

/* One modulated conv (or torgb) of the generator: x (N or 1, >= k_in, H, W), ws = w / sqrt(w_dim)
 * (N, w_dim) -> (N, k_out, H', W'); up: bilinear x2 first; noise (1 or N, 1, H', W') or NULL.
 * gt__ac_mconv_fast is the same without gradients (src/models/anycost_fast.c), for k_in up to
 * GT__AC_FAST_MAX_IN; gt__ac_mconv_fwd takes it when grad mode is off. */
#define GT__AC_FAST_MAX_IN 1024
/* The mapping network the same way (z (N, nz)). */
gt_tensor *gt__ac_mapping_fast(const gt__ac_g *g, gt_tensor *z);
gt_tensor *gt__ac_mconv_fast(gt__ac_mconv *m, gt_tensor *x, gt_tensor *ws, int k_in, int k_out, bool up,
                             gt_tensor *noise);

/* Level of conv i (0: 4 px). */
static inline int gt__ac_conv_level(int i) { return (i + 1) / 2; }
/* log2(r) - 2, or -1 when r is not a power of two >= 4. */
int gt__ac_level_of(int r);
/* The model's options read into numbers. */
void gt__ac_dims(const gt_model_config *c, int *R, int *levels, int C[GT__AC_MAX_LEVELS]);
gt_status gt__ac_d_build(const gt_model_config *c, gt_rng *r, gt_net *out);
/* Equalized-lr parameter: registers prefix.leaf with N(0, std) (std 0: constant v). */
gt_tensor *gt__ac_param(gt_params *P, const char *prefix, const char *leaf, int ndim, const int64_t *shape,
                        gt_rng *r, float std, float v, bool buffer, gt_status *st);
/* One modulated conv (or torgb) of the sub: x (N, >= k_in, H, W), ws = w / sqrt(w_dim) (N, w_dim),
 * up: bilinear x2 first, noise (1 or N, 1, H', W') or NULL -> (N, k_out, H', W'). Without
 * gradients it runs gt__ac_mconv_fast (above). */
gt_tensor *gt__ac_mconv_fwd(gt__ac_mconv *m, gt_tensor *x, gt_tensor *ws, int k_in, int k_out, bool up,
                            gt_tensor *noise);
#define GT__AC_MAX_CH 1024 /* the options ch, ch_max and dch are at most this */
/* Importance of conv's output channels (C floats into imp): the sort's key. */
gt_status gt__ac_channel_importance(gt_net *G, uint64_t seed, int conv, float *imp);
/* sub resolution (0 -> R) */
int gt__ac_sub_res(const gt_model_config *c, const gt_anycost_sub *s);

#endif
