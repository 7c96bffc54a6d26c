/* The Fashion-MNIST CNN's inference forward (fmnist_internal.h): what the
 * "fmnist" extractor runs on every image of an evaluation.
 *
 * BatchNorm (eval) is folded into each conv: w' = w * s, b' = beta - mean * s
 * with s = gamma / sqrt(var + eps) (in double, rounded once), so a block is
 * relu(conv(x, w') + b'). Activations of a chunk of B images are laid
 * out (C, H, W, B), images innermost: the im2col of these small strided
 * convs then copies runs of B contiguous floats instead of single ones, and
 * each conv is an im2col of a few output rows at a time (in cache) and one
 * sgemm into their columns, with the bias + ReLU epilogue. fc1 reads conv3's
 * (1024, B) output as the transpose of PyTorch's flatten. Threads split the images: each runs whole chunks on its own
 * workspace with single-threaded sgemm, so nothing waits between layers. The
 * folded weights are rebuilt on every call (about 70k numbers), so a net
 * that is still training is always current. */
#include "../backend/cpu/sgemm.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#include "fmnist_internal.h"

/* Images per chunk of one thread. */
#define GT__FM_CHUNK 32
/* An im2col block aims for about this many floats. */
#define GT__FM_COL_TARGET (1 << 17)

/* A conv with BatchNorm folded in. */
typedef struct {
    int cin, cout, k, s, p; /* square kernel k, stride s, padding p */
    float *w;               // (cout, cin * k * k)
    float *b;               // (cout)
} gt__fm_conv;
#define GT__FM_MAX_THREADS 64

typedef struct {
    float *act;   /* x (1, 28, 28, B), a1 (32, 14, 14, B), a2 (64, 7, 7, B), a3 (64, 4, 4, B), f (B, 128), col */
    int64_t cap;  /* floats */
} gt__fm_lane;

typedef struct {
    gt__fm_lane lane[GT__FM_MAX_THREADS];
} gt__fm_fast;

void gt__fmnist_fast_free(gt_fmnist *net) {
    gt__fm_fast *S = net->fast;
    if (!S) return;
    for (int i = 0; i < GT__FM_MAX_THREADS; i++) gt__free(S->lane[i].act);
    free(S);
    net->fast = NULL;
}

/* cv's weights and biases with bn (eval) folded in, into w and b. */
static void gt__fm_fold(const gt_nn_conv2d *cv, const gt_nn_batch_norm *bn, gt__fm_conv *c, float *w, float *b) {
    *c = (gt__fm_conv){cv->c_in, cv->c_out, cv->kh, cv->p.stride_h, cv->p.pad_h, w, b};
    const int64_t k = (int64_t)c->cin * c->k * c->k;
    const float *w0 = gt_data(cv->weight), *g = gt_data(bn->weight), *be = gt_data(bn->bias);
    const float *mu = gt_data(bn->running_mean), *var = gt_data(bn->running_var);
    const float *cb = cv->bias ? gt_data(cv->bias) : NULL;
    for (int o = 0; o < c->cout; o++) {
        const double sc = (double)g[o] / sqrt((double)var[o] + (double)bn->eps);
        for (int64_t i = 0; i < k; i++) w[o * k + i] = (float)(w0[o * k + i] * sc);
        b[o] = (float)(be[o] + ((cb ? cb[o] : 0.0) - mu[o]) * sc);
    }
}

/* y (cout, Ho, Wo, B) = relu(conv(x (cin, H, W, B)) + b), Ho = Wo: an im2col of
 * `rows` output rows at a time into col, and an sgemm into their columns. */
static void gt__fm_conv_fwd(const gt__fm_conv *c, const float *x, int H, int B, float *y, float *col) {
    const int Ho = (H + 2 * c->p - c->k) / c->s + 1, K = c->cin * c->k * c->k;
    const int64_t rowc = (int64_t)Ho * B, N = (int64_t)Ho * rowc; /* columns per output row, in all */
    const int rows = (int)GT_MAX((int64_t)1, GT_MIN((int64_t)Ho, GT__FM_COL_TARGET / (K * rowc)));
    for (int oh0 = 0; oh0 < Ho; oh0 += rows) {
        const int oh1 = GT_MIN(Ho, oh0 + rows);
        const int64_t cols = (oh1 - oh0) * rowc;
        for (int r = 0; r < K; r++) {
            const int ci = r / (c->k * c->k), i = (r / c->k) % c->k, j = r % c->k;
            float *d = col + r * cols;
            for (int oh = oh0; oh < oh1; oh++) {
                const int ih = oh * c->s - c->p + i;
                for (int ow = 0; ow < Ho; ow++, d += B) {
                    const int iw = ow * c->s - c->p + j;
                    if (ih < 0 || ih >= H || iw < 0 || iw >= H) {
                        for (int e = 0; e < B; e++) d[e] = 0.0f;
                        continue;
                    }
                    const float *src = x + (((int64_t)ci * H + ih) * H + iw) * B;
                    for (int e = 0; e < B; e++) d[e] = src[e];
                }
            }
        }
        float *yb = y + oh0 * rowc;
        gt_sgemm_rm(false, false, c->cout, cols, K, c->w, K, col, cols, 0.0f, yb, N, 0);
        for (int o = 0; o < c->cout; o++) {
            float *yo = yb + o * N;
            const float bo = c->b[o];
#pragma omp simd
            for (int64_t e = 0; e < cols; e++) {
                const float v = yo[e] + bo;
                yo[e] = v > 0.0f ? v : 0.0f;
            }
        }
    }
}

typedef struct {
    const float *x;
    float *feats, *logits;
    const gt__fm_conv *c; /* conv1..3, folded */
    const float *w1, *b1, *w2, *b2;
} gt__fm_job;

/* Images [i0, i0 + nb) on lane L. */
static bool gt__fm_chunk(const gt__fm_job *J, gt__fm_lane *L, int64_t i0, int nb) {
    const int64_t B = GT__FM_CHUNK;
    /* im2col blocks hold at most GT__FM_COL_TARGET floats, or one output row when a row is larger:
     * K * Ho * B, largest for conv2 (512 * 7) */
    const int64_t per = 784 + 32 * 196 + 64 * 49 + 64 * 16 + GT_FMNIST_FEATURE_DIM;
    const int64_t need = per * B + GT_MAX((int64_t)GT__FM_COL_TARGET, 512 * 7 * B);
    if (L->cap < need) {
        gt__free(L->act);
        L->act = gt__alloc(sizeof(float) * (size_t)need);
        L->cap = L->act ? need : 0;
        if (!L->act) return false;
    }
    float *x = L->act, *a1 = x + 784 * B, *a2 = a1 + 32 * 196 * B, *a3 = a2 + 64 * 49 * B, *f = a3 + 64 * 16 * B;
    float *col = f + GT_FMNIST_FEATURE_DIM * B;
    const float *src = J->x + i0 * 784;
    for (int b = 0; b < nb; b++) /* (nb, 784) -> (784, nb) */
        for (int p = 0; p < 784; p++) x[p * nb + b] = src[b * 784 + p];
    gt__fm_conv_fwd(&J->c[0], x, 28, nb, a1, col);
    gt__fm_conv_fwd(&J->c[1], a1, 14, nb, a2, col);
    gt__fm_conv_fwd(&J->c[2], a2, 7, nb, a3, col);
    /* fc1: f (nb, 128) = a3^T (a3: (1024, nb), rows in PyTorch's flatten order (c, h, w)) @ w1^T */
    float *fo = J->feats ? J->feats + i0 * GT_FMNIST_FEATURE_DIM : f;
    gt_sgemm_rm(true, true, nb, GT_FMNIST_FEATURE_DIM, GT__FMNIST_FLAT, a3, nb, J->w1, GT__FMNIST_FLAT, 0.0f, fo,
                GT_FMNIST_FEATURE_DIM, 0);
    for (int b = 0; b < nb; b++)
        for (int j = 0; j < GT_FMNIST_FEATURE_DIM; j++) {
            float v = fo[b * GT_FMNIST_FEATURE_DIM + j] + J->b1[j];
            fo[b * GT_FMNIST_FEATURE_DIM + j] = v > 0.0f ? v : 0.0f;
        }
    if (!J->logits) return true;
    float *lo = J->logits + i0 * GT_FMNIST_CLASSES;
    gt_sgemm_rm(false, true, nb, GT_FMNIST_CLASSES, GT_FMNIST_FEATURE_DIM, fo, GT_FMNIST_FEATURE_DIM, J->w2,
                GT_FMNIST_FEATURE_DIM, 0.0f, lo, GT_FMNIST_CLASSES, 0);
    for (int b = 0; b < nb; b++)
        for (int j = 0; j < GT_FMNIST_CLASSES; j++) lo[b * GT_FMNIST_CLASSES + j] += J->b2[j];
    return true;
}

static int gt__fm_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int gt__fm_thread(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

gt_status gt__fmnist_fast_forward(gt_fmnist *net, const float *x, int64_t n, float *feats, float *logits) {
    if (!net->fast && !(net->fast = calloc(1, sizeof(gt__fm_fast))))
        return gt_set_error(GT_ERR_OOM, "fmnist: out of memory");
    gt__fm_fast *S = net->fast;
    /* the folded weights: conv1 32 x 16, conv2 64 x 512, conv3 64 x 576, and the biases */
    float *wb = malloc(sizeof(float) * (32 * 16 + 64 * 512 + 64 * 576 + 32 + 64 + 64));
    if (!wb) return gt_set_error(GT_ERR_OOM, "fmnist: out of memory for the folded weights");
    gt__fm_conv c[3];
    gt__fm_fold(&net->conv1, &net->bn1, &c[0], wb, wb + 32 * 16);
    gt__fm_fold(&net->conv2, &net->bn2, &c[1], wb + 32 * 17, wb + 32 * 17 + 64 * 512);
    gt__fm_fold(&net->conv3, &net->bn3, &c[2], wb + 32 * 17 + 64 * 513, wb + 32 * 17 + 64 * 513 + 64 * 576);
    bool ok = true;
    gt__fm_job J = {x, feats, logits, c, gt_data(net->fc1.weight), gt_data(net->fc1.bias), gt_data(net->fc2.weight),
                    gt_data(net->fc2.bias)};
    const int T = (int)GT_MIN((int64_t)GT_MIN(gt__fm_threads(), GT__FM_MAX_THREADS), (n + 7) / 8);
    const int64_t chunk = GT_MAX((int64_t)1, GT_MIN((int64_t)GT__FM_CHUNK, (n + T - 1) / T));
    const int64_t nchunks = (n + chunk - 1) / chunk;
    if (T <= 1) {
        for (int64_t k = 0; k < nchunks && ok; k++)
            ok = gt__fm_chunk(&J, &S->lane[0], k * chunk, (int)GT_MIN(chunk, n - k * chunk));
    } else {
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
        for (int64_t k = 0; k < nchunks; k++)
            if (!gt__fm_chunk(&J, &S->lane[gt__fm_thread()], k * chunk, (int)GT_MIN(chunk, n - k * chunk))) {
#pragma omp atomic write
                ok = false;
            }
    }
    free(wb);
    return ok ? GT_OK : gt_set_error(GT_ERR_OOM, "fmnist: out of memory for the activations");
}
