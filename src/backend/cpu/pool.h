/* Pooling kernels on raw float buffers (fast + naive). Every kernel works on
 * P independent planes (P = N*C): x (P, H, W), y (P, OH, OW), contiguous. */
#ifndef GT_CPU_POOL_H
#define GT_CPU_POOL_H

#include <stdbool.h>
#include <stdint.h>

/* Window geometry of a 2-D pooling, PyTorch's rules (dilation 1). */
typedef struct {
    int64_t H, W;   /* input plane */
    int64_t OH, OW; /* output plane */
    int kh, kw, sh, sw, ph, pw;
    bool count_include_pad; /* avg pool: divide by the padded window size */
} gt_pool2d_geom;

/* y = mean of each window. */
void gt_cpu_avg_pool2d(const gt_pool2d_geom *g, int64_t P, const float *x, float *y);
void gt_naive_avg_pool2d(const gt_pool2d_geom *g, int64_t P, const float *x, float *y);
/* The adjoint: gx (P, H, W) = sum over the windows holding each element of gy / divisor. */
void gt_cpu_avg_pool2d_backward(const gt_pool2d_geom *g, int64_t P, const float *gy, float *gx);
void gt_naive_avg_pool2d_backward(const gt_pool2d_geom *g, int64_t P, const float *gy, float *gx);

/* y = max of each window (NaN wins, the first maximum wins ties); idx (when
 * non-NULL) the flat position h*W + w of that maximum within its plane. */
void gt_cpu_max_pool2d(const gt_pool2d_geom *g, int64_t P, const float *x, float *y, int32_t *idx);
void gt_naive_max_pool2d(const gt_pool2d_geom *g, int64_t P, const float *x, float *y, int32_t *idx);

/* Per-plane gather / scatter-add through idx (P, Lout) of positions in 0..Lin-1:
 * gather: y[p][j] = x[p][idx[p][j]];  scatter: gx = 0, gx[p][idx[p][j]] += gy[p][j]. */
void gt_cpu_index_gather(int64_t P, int64_t Lin, int64_t Lout, const float *x, const int32_t *idx, float *y);
void gt_naive_index_gather(int64_t P, int64_t Lin, int64_t Lout, const float *x, const int32_t *idx, float *y);
void gt_cpu_index_scatter(int64_t P, int64_t Lin, int64_t Lout, const float *gy, const int32_t *idx, float *gx);
void gt_naive_index_scatter(int64_t P, int64_t Lin, int64_t Lout, const float *gy, const int32_t *idx, float *gx);

/* Adaptive average pooling: window i covers floor(i*H/OH) .. ceil((i+1)*H/OH). */
void gt_cpu_adaptive_avg_pool2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y);
void gt_naive_adaptive_avg_pool2d(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *x, float *y);
void gt_cpu_adaptive_avg_pool2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                         float *gx);
void gt_naive_adaptive_avg_pool2d_backward(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const float *gy,
                                           float *gx);

#endif
