/* tests/backend/cuda_mock_dnn.cpp - a stand-in for the cuDNN calls of cuda/dnn.cu (the legacy
 * convolution API, computed with plain loops from the descriptors, with cuDNN's checks: output
 * dims must be the formula's, channels must match the groups) and for the plugin functions it uses,
 * so test_cuda_dnn.c runs dnn.cu's real code without a GPU. Host memory stands in for the device. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cudnn.h>

#include "../../cuda/cuda_internal.h"

struct cudnnContext {
    int dummy;
};
struct cudnnTensorStruct {
    int n, c, h, w;
};
struct cudnnFilterStruct {
    int k, c, h, w;
};
struct cudnnConvolutionStruct {
    int ph, pw, u, v, dh, dw, groups;
    cudnnMathType_t math;
};

extern "C" {
struct gt_dnn_mock {
    long descriptors, runs, allocs, launches, fails;
    long non_fma_runs;    /* convolutions run under another math type than FMA */
    long missing_ws;      /* a run given less workspace than its algorithm asked for */
    int reject_fwd_algo;  /* the forward algorithm that answers NOT_SUPPORTED (-1: none) */
    int fail_alloc;       /* gt_cuda_alloc answers NULL */
    int fail_run;         /* the convolutions answer CUDNN_STATUS_ALLOC_FAILED */
    int last_algo[3];     /* the algorithm of the last run per direction */
    char last_fail[256];
};
gt_dnn_mock gt_dmock = {0, 0, 0, 0, 0, 0, 0, -1, 0, 0, {-1, -1, -1}, ""};

/* the plugin */
void *gt_cuda_alloc(size_t n) {
    if (gt_dmock.fail_alloc) return NULL;
    gt_dmock.allocs++;
    return malloc(n ? n : 1);
}
void gt_cuda_free(void *p) { free(p); }
cudaStream_t gt_cuda_stream(void) { return NULL; }
void gt_cuda_launched(const char *what) {
    (void)what;
    gt_dmock.launches++;
}
void gt_cuda_fail(int st, const char *fmt, ...) {
    (void)st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gt_dmock.last_fail, sizeof gt_dmock.last_fail, fmt, ap);
    va_end(ap);
    gt_dmock.fails++;
}

/* cuDNN */
const char *cudnnGetErrorString(cudnnStatus_t s) { return s == CUDNN_STATUS_SUCCESS ? "OK" : "mock cuDNN error"; }
size_t cudnnGetVersion(void) { return CUDNN_VERSION; }
cudnnStatus_t cudnnCreate(cudnnHandle_t *h) {
    *h = new cudnnContext();
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) {
    (void)h, (void)s;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *d) {
    *d = new cudnnTensorStruct();
    gt_dmock.descriptors++;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) {
    delete d;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d) {
    *d = new cudnnFilterStruct();
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) {
    delete d;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d) {
    *d = new cudnnConvolutionStruct();
    (*d)->groups = 1;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) {
    delete d;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t f, cudnnDataType_t t, int n,
                                         int c, int h, int w) {
    if (f != CUDNN_TENSOR_NCHW || t != CUDNN_DATA_FLOAT || n <= 0 || c <= 0 || h <= 0 || w <= 0)
        return CUDNN_STATUS_BAD_PARAM;
    *d = cudnnTensorStruct{n, c, h, w};
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t t, cudnnTensorFormat_t f, int k,
                                         int c, int h, int w) {
    if (f != CUDNN_TENSOR_NCHW || t != CUDNN_DATA_FLOAT || k <= 0 || c <= 0 || h <= 0 || w <= 0)
        return CUDNN_STATUS_BAD_PARAM;
    *d = cudnnFilterStruct{k, c, h, w};
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int ph, int pw, int u, int v, int dh,
                                              int dw, cudnnConvolutionMode_t mode, cudnnDataType_t t) {
    if (mode != CUDNN_CROSS_CORRELATION || t != CUDNN_DATA_FLOAT || ph < 0 || pw < 0 || u <= 0 || v <= 0 || dh <= 0 ||
        dw <= 0)
        return CUDNN_STATUS_BAD_PARAM;
    d->ph = ph, d->pw = pw, d->u = u, d->v = v, d->dh = dh, d->dw = dw;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int g) {
    if (g <= 0) return CUDNN_STATUS_BAD_PARAM;
    d->groups = g;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t m) {
    d->math = m;
    return CUDNN_STATUS_SUCCESS;
}
static bool dims(const cudnnConvolutionStruct *cv, const cudnnTensorStruct *x, const cudnnFilterStruct *w, int *oh,
                 int *ow) {
    if (x->c != w->c * cv->groups || w->k % cv->groups) return false;
    *oh = 1 + (x->h + 2 * cv->ph - ((w->h - 1) * cv->dh + 1)) / cv->u;
    *ow = 1 + (x->w + 2 * cv->pw - ((w->w - 1) * cv->dw + 1)) / cv->v;
    return *oh > 0 && *ow > 0;
}
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t cv,
                                                    const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
                                                    int *n, int *c, int *h, int *wo) {
    if (!dims(cv, x, w, h, wo)) return CUDNN_STATUS_BAD_PARAM;
    *n = x->n, *c = w->k;
    return CUDNN_STATUS_SUCCESS;
}

/* proposals, ranked as cuDNN would: a tensor-op one first, then the FMA ones; workspace per algorithm */
static size_t ws_of(int dir, int algo) { return dir == 0 ? (algo == 1 ? 4096 : algo == 2 ? 1024 : 0) : 512; }
#define PERF(a, det, mt, mem) {(decltype(p->algo))(a), CUDNN_STATUS_SUCCESS, 1.0f, (mem), (det), (mt), {0, 0, 0}}
cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t, const cudnnTensorDescriptor_t,
                                                     const cudnnFilterDescriptor_t, const cudnnConvolutionDescriptor_t,
                                                     const cudnnTensorDescriptor_t, const int req, int *got,
                                                     cudnnConvolutionFwdAlgoPerf_t *p) {
    const cudnnConvolutionFwdAlgoPerf_t all[] = {
        PERF(0, CUDNN_DETERMINISTIC, CUDNN_TENSOR_OP_MATH, 0),
        PERF(1, CUDNN_DETERMINISTIC, CUDNN_FMA_MATH, (size_t)2 << 30), /* past the preferred workspace */
        PERF(2, CUDNN_DETERMINISTIC, CUDNN_FMA_MATH, 1024),
        PERF(3, CUDNN_NON_DETERMINISTIC, CUDNN_FMA_MATH, 0)};
    *got = req < 4 ? req : 4;
    memcpy(p, all, sizeof *p * (size_t)*got);
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t, const cudnnFilterDescriptor_t,
                                                          const cudnnTensorDescriptor_t,
                                                          const cudnnConvolutionDescriptor_t,
                                                          const cudnnTensorDescriptor_t, const int req, int *got,
                                                          cudnnConvolutionBwdDataAlgoPerf_t *p) {
    const cudnnConvolutionBwdDataAlgoPerf_t all[] = {PERF(0, CUDNN_NON_DETERMINISTIC, CUDNN_FMA_MATH, 0),
                                                     PERF(1, CUDNN_DETERMINISTIC, CUDNN_DEFAULT_MATH, 512)};
    *got = req < 2 ? req : 2;
    memcpy(p, all, sizeof *p * (size_t)*got);
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t, const cudnnTensorDescriptor_t,
                                                            const cudnnTensorDescriptor_t,
                                                            const cudnnConvolutionDescriptor_t,
                                                            const cudnnFilterDescriptor_t, const int req, int *got,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t *p) {
    const cudnnConvolutionBwdFilterAlgoPerf_t all[] = {PERF(0, CUDNN_NON_DETERMINISTIC, CUDNN_FMA_MATH, 0),
                                                       PERF(3, CUDNN_NON_DETERMINISTIC, CUDNN_FMA_MATH, 0),
                                                       PERF(1, CUDNN_DETERMINISTIC, CUDNN_FMA_MATH, 512)};
    *got = req < 3 ? req : 3;
    memcpy(p, all, sizeof *p * (size_t)*got);
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t, const cudnnTensorDescriptor_t,
                                                      const cudnnFilterDescriptor_t,
                                                      const cudnnConvolutionDescriptor_t,
                                                      const cudnnTensorDescriptor_t, cudnnConvolutionFwdAlgo_t a,
                                                      size_t *s) {
    *s = ws_of(0, (int)a);
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t, const cudnnFilterDescriptor_t,
                                                           const cudnnTensorDescriptor_t,
                                                           const cudnnConvolutionDescriptor_t,
                                                           const cudnnTensorDescriptor_t,
                                                           cudnnConvolutionBwdDataAlgo_t a, size_t *s) {
    *s = ws_of(1, (int)a);
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t, const cudnnTensorDescriptor_t,
                                                             const cudnnTensorDescriptor_t,
                                                             const cudnnConvolutionDescriptor_t,
                                                             const cudnnFilterDescriptor_t,
                                                             cudnnConvolutionBwdFilterAlgo_t a, size_t *s) {
    *s = ws_of(2, (int)a);
    return CUDNN_STATUS_SUCCESS;
}

/* one loop nest for the three directions: visits every (x element, w element, y element) triple */
enum { FWD, DATA, FILT };
static cudnnStatus_t conv(int dir, int algo, const cudnnTensorStruct *x, const cudnnFilterStruct *w,
                          const cudnnConvolutionStruct *cv, const cudnnTensorStruct *y, const float *xp,
                          const float *wp, const float *yp, float *out, float beta, void *ws, size_t wsn) {
    int oh, ow;
    if (!dims(cv, x, w, &oh, &ow) || y->n != x->n || y->c != w->k || y->h != oh || y->w != ow)
        return CUDNN_STATUS_BAD_PARAM;
    if (ws_of(dir, algo) > wsn || (ws_of(dir, algo) && !ws)) gt_dmock.missing_ws++;
    if (cv->math != CUDNN_FMA_MATH) gt_dmock.non_fma_runs++;
    gt_dmock.runs++, gt_dmock.last_algo[dir] = algo;
    size_t n_out = dir == FWD ? (size_t)y->n * y->c * y->h * y->w
                   : dir == DATA ? (size_t)x->n * x->c * x->h * x->w
                                 : (size_t)w->k * w->c * w->h * w->w;
    double *acc = (double *)calloc(n_out, sizeof(double));
    int Kg = w->k / cv->groups;
    for (int n = 0; n < x->n; n++)
        for (int k = 0; k < w->k; k++)
            for (int c = 0; c < w->c; c++)
                for (int i = 0; i < w->h; i++)
                    for (int j = 0; j < w->w; j++)
                        for (int a = 0; a < oh; a++)
                            for (int b = 0; b < ow; b++) {
                                int ih = a * cv->u - cv->ph + i * cv->dh, iw = b * cv->v - cv->pw + j * cv->dw;
                                if (ih < 0 || ih >= x->h || iw < 0 || iw >= x->w) continue;
                                size_t xi = (((size_t)n * x->c + (k / Kg) * w->c + c) * x->h + ih) * x->w + iw;
                                size_t wi = (((size_t)k * w->c + c) * w->h + i) * w->w + j;
                                size_t yi = (((size_t)n * y->c + k) * y->h + a) * y->w + b;
                                if (dir == FWD) acc[yi] += (double)xp[xi] * wp[wi];
                                else if (dir == DATA) acc[xi] += (double)yp[yi] * wp[wi];
                                else acc[wi] += (double)yp[yi] * xp[xi];
                            }
    for (size_t t = 0; t < n_out; t++) out[t] = (float)acc[t] + (beta != 0.0f ? beta * out[t] : 0.0f);
    free(acc);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t, const void *alpha, const cudnnTensorDescriptor_t xd,
                                      const void *x, const cudnnFilterDescriptor_t wd, const void *w,
                                      const cudnnConvolutionDescriptor_t cv, cudnnConvolutionFwdAlgo_t algo, void *ws,
                                      size_t wsn, const void *beta, const cudnnTensorDescriptor_t yd, void *y) {
    if (*(const float *)alpha != 1.0f) return CUDNN_STATUS_BAD_PARAM;
    if ((int)algo == gt_dmock.reject_fwd_algo) return CUDNN_STATUS_NOT_SUPPORTED;
    if (gt_dmock.fail_run) return CUDNN_STATUS_ALLOC_FAILED;
    return conv(FWD, (int)algo, xd, wd, cv, yd, (const float *)x, (const float *)w, NULL, (float *)y,
                *(const float *)beta, ws, wsn);
}
cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t, const void *alpha, const cudnnFilterDescriptor_t wd,
                                           const void *w, const cudnnTensorDescriptor_t dyd, const void *dy,
                                           const cudnnConvolutionDescriptor_t cv, cudnnConvolutionBwdDataAlgo_t algo,
                                           void *ws, size_t wsn, const void *beta, const cudnnTensorDescriptor_t dxd,
                                           void *dx) {
    if (*(const float *)alpha != 1.0f) return CUDNN_STATUS_BAD_PARAM;
    if (gt_dmock.fail_run) return CUDNN_STATUS_ALLOC_FAILED;
    return conv(DATA, (int)algo, dxd, wd, cv, dyd, NULL, (const float *)w, (const float *)dy, (float *)dx,
                *(const float *)beta, ws, wsn);
}
cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t, const void *alpha, const cudnnTensorDescriptor_t xd,
                                             const void *x, const cudnnTensorDescriptor_t dyd, const void *dy,
                                             const cudnnConvolutionDescriptor_t cv,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void *ws, size_t wsn,
                                             const void *beta, const cudnnFilterDescriptor_t dwd, void *dw) {
    if (*(const float *)alpha != 1.0f) return CUDNN_STATUS_BAD_PARAM;
    return conv(FILT, (int)algo, xd, dwd, cv, dyd, (const float *)x, NULL, (const float *)dy, (float *)dw,
                *(const float *)beta, ws, wsn);
}
}
