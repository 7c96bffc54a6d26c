/* src/metrics/inception_internal.h - the FID Inception-v3's layout, shared by
 * its builder (inception.c), the forward on the engine's ops
 * (inception_ops.c) and the fused forward (inception_fast*.c). */
#ifndef GT_INCEPTION_INTERNAL_H
#define GT_INCEPTION_INTERNAL_H

#include "../internal.h"
#include "gantry/inception.h"

#define GT__INC_BN_EPS 0.001f
#define GT__INC_NCONV 94   /* BasicConv2d modules */
#define GT__INC_NBLOCK 11  /* Mixed_5b .. Mixed_7c */
#define GT__INC_CLASSES 1008

/* torchvision's BasicConv2d: conv (no bias) -> BatchNorm2d(eps 0.001) -> ReLU. */
typedef struct {
    char name[40];                 /* "Mixed_5b.branch1x1" */
    int cin, cout, kh, kw, sh, sw, ph, pw;
    gt_tensor *w;                  // (cout, cin, kh, kw)  <name>.conv.weight (borrowed from the registry)
    gt_tensor *gamma, *beta;       // (cout)               <name>.bn.weight, <name>.bn.bias
    gt_tensor *mean, *var;         // (cout)               <name>.bn.running_mean, <name>.bn.running_var
    gt_tensor *wf;                 // (cout, cin, kh, kw)  folded: w * gamma / sqrt(var + eps) (owned)
    gt_tensor *bf;                 // (cout)               folded: beta - mean * gamma / sqrt(var + eps) (owned)
} gt__bconv;

typedef enum { GT__BLK_A, GT__BLK_B, GT__BLK_C, GT__BLK_D, GT__BLK_E1, GT__BLK_E2 } gt__blk_kind;

/* One Mixed_* block: its convs are conv[first .. first + n) in torchvision's
 * member order (see the builders in inception.c for each kind). */
typedef struct {
    gt__blk_kind kind;
    int cin, cout, first, n;
} gt__block;

/* Stem convs are conv[0..5): Conv2d_1a_3x3, 2a, 2b, (max pool), 3b_1x1, 4a_3x3, (max pool). */
#define GT__INC_NSTEM 5

struct gt_inception {
    gt_params P;
    gt__bconv conv[GT__INC_NCONV];
    int nconv;
    gt__block block[GT__INC_NBLOCK];
    gt_tensor *fc_w; // (1008, 2048) borrowed
    gt_tensor *fc_b; // (1008) borrowed
    gt_inception_path path;
    int chunk;       /* FAST path images per chunk (0: default) */
    gt_inception_par par; /* FAST path threading */
    bool folded;     /* wf / bf match the registry */
    void *fast;      /* FAST path's prepared weights (inception_fast.c) */
};

/* Rebuilds every folded weight (and the FAST path's packed ones). */
gt_status gt__inception_fold(gt_inception *net);

/* The forwards: x (N, 3, H, W) contiguous -> out. They run with grad off and
 * return new references in the current scope. */
gt_status gt__inception_forward_ops(gt_inception *net, gt_tensor *x, bool bn, unsigned features,
                                    gt_inception_outputs *out);
gt_status gt__inception_forward_fast(gt_inception *net, gt_tensor *x, unsigned features, gt_inception_outputs *out);
/* The FAST path's prepared state: built from the folded weights, freed. */
gt_status gt__inception_fast_prepare(gt_inception *net);
void gt__inception_fast_free(gt_inception *net);

#endif
