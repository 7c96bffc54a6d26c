/* cuda/dnn.cu - the convolution entries through cuDNN 9's legacy API (conv.h semantics, those of
 * src/backend/cpu/conv.c):
 *   conv_fwd     cudnnConvolutionForward         y  = conv(x, w) (+ b per output channel)
 *   conv_data    cudnnConvolutionBackwardData    gx = conv^T(gy, w) (+ b per input channel): the input
 *                                                gradient, and conv_transpose2d's forward
 *   conv_weight  cudnnConvolutionBackwardFilter  gw = d sum(conv(x, w) * gy) / dw
 * NCHW float tensors, CUDNN_CROSS_CORRELATION, groups through cudnnSetConvolutionGroupCount (the
 * filter is (O, C/groups, kh, kw)), padding, strides and dilation as given.
 *
 * Descriptors and algorithms are cached per geometry (an unordered_map keyed by gt_conv_geom).
 * Algorithms come from cudnnGet*Algorithm_v7 (heuristics: no trial runs, no memory), once per
 * geometry and direction: the first one cuDNN ranks that is deterministic (CUDNN_DETERMINISTIC;
 * this rules out BackwardData's ALGO_0 and BackwardFilter's ALGO_0 and ALGO_3, which add with
 * atomics), needs at most 1 GiB of workspace and, without TF32, is not a tensor-op proposal;
 * failing that those conditions are dropped one by one (gt__pick). Workspaces come from the
 * caching allocator.
 *
 * Precision: CUDNN_FMA_MATH, which keeps float convolutions off TF32 tensor cores (cuDNN's
 * CUDNN_DEFAULT_MATH permits TF32 on Ampere and newer, so it would not match the CPU to ~1e-5);
 * GANTRY_CUDA_TF32=1 allows them (the math type cuDNN's heuristic proposes).
 *
 * gantry's geometry may ask for fewer output rows/columns than cuDNN's formula gives (conv.h; a
 * transposed conv whose output_padding is not below its stride). Those outputs do not exist, so:
 * fwd computes the full output into scratch and crops it; data and weight read gy zero-padded to
 * the full size (a zero gradient at a position that does not exist changes nothing).
 *
 * Return false only when memory runs out; any other failure is recorded (gt_cuda_fail) and
 * reported by the next sync(). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cudnn.h>

#include <mutex>
#include <new>
#include <unordered_map>

#include "cuda_host.h"
#include "cuda_internal.h"
#include "each.h"

#define GT__WS_PREFERRED ((size_t)1 << 30)

enum { GT__FWD = 0, GT__DATA = 1, GT__FILT = 2 };

struct gt__key {
    gt_conv_geom g;
    bool operator==(const gt__key &o) const { return memcmp(&g, &o.g, sizeof g) == 0; }
};

struct gt__key_hash {
    size_t operator()(const gt__key &k) const {
        const int64_t *v = &k.g.n;
        uint64_t h = 1469598103934665603ull; /* FNV-1a over the geometry's fields */
        for (size_t i = 0; i < sizeof k.g / sizeof(int64_t); i++) {
            h ^= (uint64_t)v[i];
            h *= 1099511628211ull;
        }
        return (size_t)h;
    }
};

struct gt__conv {
    cudnnTensorDescriptor_t x, y; /* y at cuDNN's full output size (nh, nw) */
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    int64_t nh, nw;
    bool crop; /* (ho, wo) smaller than (nh, nw) */
    int state[3]; /* per direction: 0 not chosen yet, 1 chosen, -1 no algorithm (reported once) */
    int algo[3];
    unsigned banned[3]; /* algorithms cuDNN refused at run time (bit = algorithm) */
    cudnnMathType_t math[3];
    size_t ws[3];
};

static struct {
    std::mutex mu;
    cudnnHandle_t h;
    bool tf32;
    std::unordered_map<gt__key, gt__conv *, gt__key_hash> *cache;
} gt__dnn;

static const char *gt__fits(const gt_conv_geom *g) {
    const int64_t v[] = {g->n,  g->c,  g->h,  g->w,  g->o,  g->kh, g->kw,
                         g->sh, g->sw, g->ph, g->pw, g->dh, g->dw, g->groups};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        if (v[i] < 0 || v[i] > INT_MAX) return "a size beyond cuDNN's int range";
    if (g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1 || g->groups < 1 || g->c % g->groups || g->o % g->groups)
        return "strides, dilations and groups must be positive and groups must divide both channel counts";
    return NULL;
}

#define GT__DNN(call, what)                                                                                    \
    do {                                                                                                       \
        cudnnStatus_t s_ = (call);                                                                             \
        if (s_ != CUDNN_STATUS_SUCCESS) {                                                                      \
            gt_cuda_fail(GT_ERR_STATE, "%s (%s): %s", #call, what, cudnnGetErrorString(s_));                  \
            return false;                                                                                      \
        }                                                                                                      \
    } while (0)

static void gt__conv_destroy(gt__conv *e) {
    if (!e) return;
    if (e->x) cudnnDestroyTensorDescriptor(e->x);
    if (e->y) cudnnDestroyTensorDescriptor(e->y);
    if (e->w) cudnnDestroyFilterDescriptor(e->w);
    if (e->conv) cudnnDestroyConvolutionDescriptor(e->conv);
    delete e;
}

static bool gt__conv_describe(gt__conv *e, const gt_conv_geom *g) {
    const char *what = "conv descriptors";
    GT__DNN(cudnnCreateTensorDescriptor(&e->x), what);
    GT__DNN(cudnnCreateTensorDescriptor(&e->y), what);
    GT__DNN(cudnnCreateFilterDescriptor(&e->w), what);
    GT__DNN(cudnnCreateConvolutionDescriptor(&e->conv), what);
    GT__DNN(cudnnSetTensor4dDescriptor(e->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)g->n, (int)g->c, (int)g->h,
                                       (int)g->w),
            what);
    GT__DNN(cudnnSetFilter4dDescriptor(e->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, (int)g->o, (int)(g->c / g->groups),
                                       (int)g->kh, (int)g->kw),
            what);
    GT__DNN(cudnnSetConvolution2dDescriptor(e->conv, (int)g->ph, (int)g->pw, (int)g->sh, (int)g->sw, (int)g->dh,
                                            (int)g->dw, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
            what);
    GT__DNN(cudnnSetConvolutionGroupCount(e->conv, (int)g->groups), what);
    GT__DNN(cudnnSetConvolutionMathType(e->conv, gt__dnn.tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH), what);
    int dn = 0, dc = 0, dh = 0, dw = 0;
    GT__DNN(cudnnGetConvolution2dForwardOutputDim(e->conv, e->x, e->w, &dn, &dc, &dh, &dw), what);
    if (dn != g->n || dc != g->o || dh < g->ho || dw < g->wo) {
        gt_cuda_fail(GT_ERR_STATE,
                     "conv: cuDNN's output (%d, %d, %d, %d) cannot hold the geometry's (%lld, %lld, %lld, %lld)", dn,
                     dc, dh, dw, (long long)g->n, (long long)g->o, (long long)g->ho, (long long)g->wo);
        return false;
    }
    e->nh = dh, e->nw = dw;
    e->crop = dh != g->ho || dw != g->wo;
    GT__DNN(cudnnSetTensor4dDescriptor(e->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, dn, dc, dh, dw), what);
    return true;
}

/* The cached descriptors of geometry g, made on first use; NULL after recording why. Locked. */
static gt__conv *gt__conv_get(const gt_conv_geom *g) {
    gt__key k;
    memset(&k, 0, sizeof k);
    k.g = *g;
    auto it = gt__dnn.cache->find(k);
    if (it != gt__dnn.cache->end()) return it->second;
    const char *bad = gt__fits(g);
    if (bad) {
        gt_cuda_fail(GT_ERR_STATE, "conv (N %lld, C %lld, %lldx%lld, O %lld): %s", (long long)g->n, (long long)g->c,
                     (long long)g->h, (long long)g->w, (long long)g->o, bad);
        return NULL;
    }
    gt__conv *e = new (std::nothrow) gt__conv();
    if (!e) return NULL;
    if (!gt__conv_describe(e, g)) {
        gt__conv_destroy(e);
        return NULL;
    }
    try {
        (*gt__dnn.cache)[k] = e;
    } catch (...) {
        gt__conv_destroy(e);
        return NULL;
    }
    return e;
}

/* Index of the algorithm to use among cuDNN's ranked proposals, or -1: the first that is
 * deterministic, within the preferred workspace and (without TF32) not a tensor-op one; then
 * relaxing those in turn (workspace, determinism, math). */
template <typename Perf> static int gt__pick(const Perf *p, int n, bool tf32, unsigned banned) {
    for (int pass = 0; pass < 4; pass++)
        for (int i = 0; i < n; i++) {
            bool tensor_op =
                p[i].mathType == CUDNN_TENSOR_OP_MATH || p[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
            if (p[i].status != CUDNN_STATUS_SUCCESS) continue;
            if ((int)p[i].algo < 32 && (banned >> (int)p[i].algo & 1u)) continue;
            if (pass < 3 && tensor_op && !tf32) continue;
            if (pass < 2 && p[i].determinism != CUDNN_DETERMINISTIC) continue;
            if (pass < 1 && p[i].memory > GT__WS_PREFERRED) continue;
            return i;
        }
    return -1;
}

static const char *gt__dir_name[3] = {"cudnnConvolutionForward", "cudnnConvolutionBackwardData",
                                      "cudnnConvolutionBackwardFilter"};

/* Chooses direction d's algorithm for e (once) and its workspace size; false after recording why. */
static bool gt__choose(gt__conv *e, int d) {
    if (e->state[d] == 1) return true;
    if (e->state[d] == -1) {
        gt_cuda_fail(GT_ERR_STATE, "%s: cuDNN has no algorithm for this geometry", gt__dir_name[d]);
        return false;
    }
    const char *what = gt__dir_name[d];
    GT__DNN(cudnnSetConvolutionMathType(e->conv, gt__dnn.tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH), what);
    int got = 0, i = -1;
    if (d == GT__FWD) {
        cudnnConvolutionFwdAlgoPerf_t p[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        GT__DNN(cudnnGetConvolutionForwardAlgorithm_v7(gt__dnn.h, e->x, e->w, e->conv, e->y,
                                                       CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, p),
                what);
        if ((i = gt__pick(p, got, gt__dnn.tf32, e->banned[d])) >= 0)
            e->algo[d] = (int)p[i].algo, e->math[d] = p[i].mathType;
    } else if (d == GT__DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t p[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        GT__DNN(cudnnGetConvolutionBackwardDataAlgorithm_v7(gt__dnn.h, e->w, e->y, e->conv, e->x,
                                                            CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, p),
                what);
        if ((i = gt__pick(p, got, gt__dnn.tf32, e->banned[d])) >= 0)
            e->algo[d] = (int)p[i].algo, e->math[d] = p[i].mathType;
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t p[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
        GT__DNN(cudnnGetConvolutionBackwardFilterAlgorithm_v7(gt__dnn.h, e->x, e->y, e->conv, e->w,
                                                              CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, p),
                what);
        if ((i = gt__pick(p, got, gt__dnn.tf32, e->banned[d])) >= 0)
            e->algo[d] = (int)p[i].algo, e->math[d] = p[i].mathType;
    }
    if (i < 0) {
        e->state[d] = -1;
        gt_cuda_fail(GT_ERR_STATE, "%s: cuDNN has no algorithm for this geometry", what);
        return false;
    }
    /* without TF32, every algorithm runs under FMA math, whatever the heuristic proposed */
    if (!gt__dnn.tf32) e->math[d] = CUDNN_FMA_MATH;
    GT__DNN(cudnnSetConvolutionMathType(e->conv, e->math[d]), what);
    size_t ws = 0;
    if (d == GT__FWD)
        GT__DNN(cudnnGetConvolutionForwardWorkspaceSize(gt__dnn.h, e->x, e->w, e->conv, e->y,
                                                        (cudnnConvolutionFwdAlgo_t)e->algo[d], &ws),
                what);
    else if (d == GT__DATA)
        GT__DNN(cudnnGetConvolutionBackwardDataWorkspaceSize(gt__dnn.h, e->w, e->y, e->conv, e->x,
                                                             (cudnnConvolutionBwdDataAlgo_t)e->algo[d], &ws),
                what);
    else
        GT__DNN(cudnnGetConvolutionBackwardFilterWorkspaceSize(gt__dnn.h, e->x, e->y, e->conv, e->w,
                                                               (cudnnConvolutionBwdFilterAlgo_t)e->algo[d], &ws),
                what);
    e->ws[d] = ws;
    e->state[d] = 1;
    return true;
}

/* --- small kernels: bias, crop / zero-pad (each.h) -------------------------------------------- */
/* out[(n, c, s)] = (add ? out : 0) + (b ? b[c] : 0) over (N, C, S) */
struct gt__bias_op {
    int64_t C, S;
    const float *b;
    bool add;
    float *out;
    GT_CUDA_HD void operator()(int64_t t) const {
        float v = b ? b[(t / S) % C] : 0.0f;
        out[t] = add ? out[t] + v : v;
    }
};

/* dst (P, DH, DW)[p, i, j] = i < SH && j < SW ? src (P, SH, SW)[p, i, j] : 0 (crop or zero-pad) */
struct gt__resize_op {
    int64_t SH, SW, DH, DW;
    const float *src;
    float *dst;
    GT_CUDA_HD void operator()(int64_t t) const {
        int64_t j = t % DW, i = (t / DW) % DH, p = t / (DH * DW);
        dst[t] = (i < SH && j < SW) ? src[(p * SH + i) * SW + j] : 0.0f;
    }
};

static void gt__bias(int64_t N, int64_t C, int64_t S, const float *b, bool add, float *out) {
    if (add && !b) return;
    gt_cuda_each(N * C * S, gt__bias_op{C, S, b, add, out}, "conv_bias");
}

static void gt__resize(int64_t P, int64_t SH, int64_t SW, const float *src, int64_t DH, int64_t DW, float *dst) {
    gt_cuda_each(P * DH * DW, gt__resize_op{SH, SW, DH, DW, src, dst}, "conv_crop_pad");
}

/* --- the three entries ----------------------------------------------------------------------- */
static bool gt__empty(const gt_conv_geom *g) {
    return g->n * g->c * g->h * g->w == 0 || g->n * g->o * g->ho * g->wo == 0 || g->kh * g->kw == 0;
}

/* Scratch for one call (the full-size y or gy when the geometry's output is shorter), freed at the
 * end of the call: it is reused only by work queued later on the same stream. */
struct gt__scratch {
    float *p = NULL;
    ~gt__scratch() { gt_cuda_free(p); }
};

/* Runs direction d (fwd: in1 x, in2 w, out y; data: in1 w, in2 gy, out gx; filter: in1 x, in2 gy,
 * out gw) with its chosen algorithm and a workspace from the caching allocator. An algorithm that
 * cuDNN refuses at run time (CUDNN_STATUS_NOT_SUPPORTED*) is banned for this geometry and the
 * next one is chosen. false: out of memory; other failures are recorded. Locked. */
static bool gt__run(gt__conv *e, int d, const void *in1, const void *in2, void *out) {
    const float one = 1.0f, zero = 0.0f;
    for (int attempt = 0;; attempt++) {
        if (!gt__choose(e, d)) return true; /* recorded for sync() */
        void *ws = NULL;
        if (e->ws[d] && !(ws = gt_cuda_alloc(e->ws[d]))) return false;
        cudnnStatus_t s = cudnnSetConvolutionMathType(e->conv, e->math[d]);
        if (s == CUDNN_STATUS_SUCCESS) {
            if (d == GT__FWD)
                s = cudnnConvolutionForward(gt__dnn.h, &one, e->x, in1, e->w, in2, e->conv,
                                            (cudnnConvolutionFwdAlgo_t)e->algo[d], ws, e->ws[d], &zero, e->y, out);
            else if (d == GT__DATA)
                s = cudnnConvolutionBackwardData(gt__dnn.h, &one, e->w, in1, e->y, in2, e->conv,
                                                 (cudnnConvolutionBwdDataAlgo_t)e->algo[d], ws, e->ws[d], &zero, e->x,
                                                 out);
            else
                s = cudnnConvolutionBackwardFilter(gt__dnn.h, &one, e->x, in1, e->y, in2, e->conv,
                                                   (cudnnConvolutionBwdFilterAlgo_t)e->algo[d], ws, e->ws[d], &zero,
                                                   e->w, out);
        }
        gt_cuda_launched(gt__dir_name[d]);
        gt_cuda_free(ws); /* reused only by work queued after this call (stream order) */
        if (s == CUDNN_STATUS_SUCCESS) return true;
        if (CUDNN_STATUS_CATEGORY(s) == CUDNN_STATUS_NOT_SUPPORTED && attempt < 4 && e->algo[d] < 32) {
            e->banned[d] |= 1u << e->algo[d];
            e->state[d] = 0;
            continue;
        }
        if (s == CUDNN_STATUS_ALLOC_FAILED) return false; /* the op says out of memory */
        gt_cuda_fail(GT_ERR_STATE, "%s (algorithm %d): %s", gt__dir_name[d], e->algo[d], cudnnGetErrorString(s));
        return true;
    }
}

static float *gt__full(const gt_conv_geom *g, const gt__conv *e, gt__scratch *sc) {
    return sc->p = (float *)gt_cuda_alloc((size_t)(g->n * g->o * e->nh * e->nw) * sizeof(float));
}

static bool gt__conv_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    if (gt__empty(g)) { /* no products: y = b (or 0) where y exists */
        gt__bias(g->n, g->o, g->ho * g->wo, b, false, y);
        return true;
    }
    std::lock_guard<std::mutex> lock(gt__dnn.mu);
    gt__conv *e = gt__conv_get(g);
    if (!e) return true; /* recorded for sync() */
    gt__scratch full;
    if (e->crop && !gt__full(g, e, &full)) return false;
    if (!gt__run(e, GT__FWD, x, w, e->crop ? full.p : y)) return false;
    if (e->crop) gt__resize(g->n * g->o, e->nh, e->nw, full.p, g->ho, g->wo, y);
    gt__bias(g->n, g->o, g->ho * g->wo, b, true, y);
    return true;
}

static bool gt__conv_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx) {
    if (gt__empty(g)) { /* nothing reaches gx: gx = b (or 0) */
        gt__bias(g->n, g->c, g->h * g->w, b, false, gx);
        return true;
    }
    std::lock_guard<std::mutex> lock(gt__dnn.mu);
    gt__conv *e = gt__conv_get(g);
    if (!e) return true;
    gt__scratch full;
    if (e->crop) { /* gy zero-padded to cuDNN's size */
        if (!gt__full(g, e, &full)) return false;
        gt__resize(g->n * g->o, g->ho, g->wo, gy, e->nh, e->nw, full.p);
    }
    if (!gt__run(e, GT__DATA, w, e->crop ? full.p : gy, gx)) return false;
    gt__bias(g->n, g->c, g->h * g->w, b, true, gx);
    return true;
}

static bool gt__conv_weight(const gt_conv_geom *g, const float *x, const float *gy, float *gw) {
    if (gt__empty(g)) { /* no products: gw = 0 */
        gt__bias(g->o, g->c / (g->groups > 0 ? g->groups : 1), g->kh * g->kw, NULL, false, gw);
        return true;
    }
    std::lock_guard<std::mutex> lock(gt__dnn.mu);
    gt__conv *e = gt__conv_get(g);
    if (!e) return true;
    gt__scratch full;
    if (e->crop) {
        if (!gt__full(g, e, &full)) return false;
        gt__resize(g->n * g->o, g->ho, g->wo, gy, e->nh, e->nw, full.p);
    }
    return gt__run(e, GT__FILT, x, e->crop ? full.p : gy, gw);
}

extern "C" bool gt_cuda_dnn_init(gt_kernels *K, char *err, size_t errn) {
    std::lock_guard<std::mutex> lock(gt__dnn.mu);
    if (!gt__dnn.h) {
        cudnnStatus_t s = cudnnCreate(&gt__dnn.h);
        if (s != CUDNN_STATUS_SUCCESS) {
            snprintf(err, errn, "cudnnCreate: %s (cuDNN %zu, built against %d)", cudnnGetErrorString(s),
                     cudnnGetVersion(), CUDNN_VERSION);
            gt__dnn.h = NULL;
            return false;
        }
    }
    cudnnStatus_t s = cudnnSetStream(gt__dnn.h, gt_cuda_stream());
    if (s != CUDNN_STATUS_SUCCESS) {
        snprintf(err, errn, "cudnnSetStream: %s", cudnnGetErrorString(s));
        return false;
    }
    if (!gt__dnn.cache)
        gt__dnn.cache = new (std::nothrow) std::unordered_map<gt__key, gt__conv *, gt__key_hash>();
    if (!gt__dnn.cache) {
        snprintf(err, errn, "out of host memory for the convolution cache");
        return false;
    }
    const char *tf32 = getenv("GANTRY_CUDA_TF32");
    gt__dnn.tf32 = tf32 && strcmp(tf32, "1") == 0;
    K->conv_fwd = gt__conv_fwd;
    K->conv_data = gt__conv_data;
    K->conv_weight = gt__conv_weight;
    return true;
}
