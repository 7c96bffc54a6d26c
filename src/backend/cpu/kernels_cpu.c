/* The CPU's kernel tables (src/backend/kernels.h): the fast kernels and the
 * naive reference loops the tests hold them to, plus the small kernels that
 * used to be loops inside the ops (fill, concat rows, max, batch norm's
 * running statistics, embedding rows, the Adam step). */
#include <math.h>
#include <string.h>

#include "../../internal.h"
#include "../formulas.h"
#include "../kernels.h"
#include "grid_sample.h"
#include "norm.h"
#include "upsample.h"

static void gt__fill(int64_t n, float v, float *out) {
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = v;
}
static void gt__fill_i32(int64_t n, int32_t v, int32_t *out) {
    for (int64_t i = 0; i < n; i++) out[i] = v;
}

static void gt__copy_to_strided(int ndim, const int64_t *shape, const float *src, float *out, const int64_t *so) {
    int64_t n = gt__shape_numel(ndim, shape);
    for (int64_t i = 0; i < n; i++) {
        int64_t r = i, o = 0;
        for (int k = ndim - 1; k >= 0; k--) {
            o += (r % shape[k]) * so[k];
            r /= shape[k];
        }
        out[o] = src[i];
    }
}

static void gt__nonfinite_to_zero(int64_t n, float *x) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) x[i] = 0.0f;
}

/* bfloat16 rounding on the float's bits: adding 0x7fff plus the lowest kept bit carries into the kept
 * half exactly when the dropped half is above the halfway point, or at it with an odd kept half (ties
 * to even); a finite value past bf16's largest carries into the exponent and becomes inf, as IEEE
 * rounding does; subnormals round the same way (the bits are linear there). A NaN keeps its sign and
 * gets the quiet bit, so a payload only in the dropped bits cannot turn it into inf. */
static void gt__round_bf16(int64_t n, const float *x, float *out) {
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        if ((u & 0x7fffffffu) > 0x7f800000u) u = (u | 0x00400000u) & 0xffff0000u;
        else u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
        memcpy(&out[i], &u, sizeof u);
    }
}

static void gt__copy_rows(int64_t rows, int64_t len, const float *src, int64_t src_ld, float *dst, int64_t dst_ld) {
    for (int64_t r = 0; r < rows; r++) memcpy(dst + r * dst_ld, src + r * src_ld, (size_t)len * sizeof(float));
}

static void gt__max_dim(int64_t outer, int64_t L, int64_t inner, const float *x, float *out, float *onehot) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            const float *p = x + o * L * inner + j;
            int64_t best = 0;
            for (int64_t l = 1; l < L; l++)
                if (p[l * inner] > p[best * inner] || (isnan(p[l * inner]) && !isnan(p[best * inner]))) best = l;
            out[o * inner + j] = p[best * inner];
            if (onehot) onehot[o * L * inner + best * inner + j] = 1.0f;
        }
}

static void gt__bn_prepare(int64_t C, bool training, double M, float momentum, float eps, float *rm, float *rv,
                           float *mean, float *var) {
    if (training) {
        for (int64_t c = 0; c < C; c++) {
            if (rm) rm[c] = (float)((1.0 - momentum) * rm[c] + (double)momentum * mean[c]);
            if (rv) rv[c] = (float)((1.0 - momentum) * rv[c] + (double)momentum * var[c] * M / (M - 1.0));
            var[c] = (float)(1.0 / sqrt((double)var[c] + eps));
        }
    } else {
        for (int64_t c = 0; c < C; c++) {
            mean[c] = rm[c];
            var[c] = (float)(1.0 / sqrt((double)rv[c] + eps));
        }
    }
}

/* Number of index rows at which the kernels go parallel. */
static int64_t gt__par_rows(int64_t dim) { return dim > 0 ? GT_PAR_MIN / dim : GT_PAR_MIN; }

/* out[i, :] = w[idx[i], :]; w strided (num, dim), out contiguous (n, dim). */
static void gt__gather_any(bool naive, const float *w, int64_t ws0, int64_t ws1, const int32_t *idx, int64_t n, int64_t dim,
                       float *out) {
    if (naive) {
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < dim; j++) out[i * dim + j] = w[idx[i] * ws0 + j * ws1];
        return;
    }
#pragma omp parallel for schedule(static) if (n > gt__par_rows(dim))
    for (int64_t i = 0; i < n; i++) {
        const float *src = w + idx[i] * ws0;
        if (ws1 == 1) memcpy(out + i * dim, src, (size_t)dim * sizeof(float));
        else
            for (int64_t j = 0; j < dim; j++) out[i * dim + j] = src[j * ws1];
    }
}

/* out[idx[i], :] += g[i, :]; g contiguous (n, dim), out contiguous (num, dim)
 * zeroed. The fast path splits the columns between threads, so repeated
 * indices never race and every sum is added in the same order. */
static void gt__scatter_any(bool naive, const float *g, const int32_t *idx, int64_t n, int64_t dim, float *out) {
    if (naive) {
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < dim; j++) out[idx[i] * dim + j] += g[i * dim + j];
        return;
    }
    const int64_t blk = 64;
    int64_t nblk = (dim + blk - 1) / blk;
#pragma omp parallel for schedule(static) if (n * dim > GT_PAR_MIN && nblk > 1)
    for (int64_t cb = 0; cb < nblk; cb++) {
        int64_t j0 = cb * blk, j1 = GT_MIN(dim, j0 + blk);
        for (int64_t i = 0; i < n; i++) {
            const float *src = g + i * dim;
            float *dst = out + (int64_t)idx[i] * dim;
            for (int64_t j = j0; j < j1; j++) dst[j] += src[j];
        }
    }
}


static void gt__gather_fast(const float *w, int64_t ws0, int64_t ws1, const int32_t *idx, int64_t n, int64_t dim,
                            float *out) {
    gt__gather_any(false, w, ws0, ws1, idx, n, dim, out);
}
static void gt__gather_naive(const float *w, int64_t ws0, int64_t ws1, const int32_t *idx, int64_t n, int64_t dim,
                             float *out) {
    gt__gather_any(true, w, ws0, ws1, idx, n, dim, out);
}
static void gt__scatter_fast(const float *g, const int32_t *idx, int64_t n, int64_t dim, float *out) {
    gt__scatter_any(false, g, idx, n, dim, out);
}
static void gt__scatter_naive(const float *g, const int32_t *idx, int64_t n, int64_t dim, float *out) {
    gt__scatter_any(true, g, idx, n, dim, out);
}

/* torch.optim.Adam's single-tensor step: fmaf where ATen's kernels fuse
 * (add_ with alpha is vec::fmadd; addcmul_ contracts), plain float ops
 * elsewhere: the same roundings as torch. */
static void gt__adam(int64_t n, float *p, const float *g, float *m, float *v, float *vmax, float b1, float b2,
                     float a1, float a2, float wd, float eps, float neg_step, float bc2_sqrt) {
    const bool use_wd = wd != 0.0f, ams = vmax != NULL;
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float gi = use_wd ? fmaf(wd, p[i], g[i]) : g[i];
        m[i] = fmaf(a1, gi, m[i] * b1);
        v[i] = fmaf(a2 * gi, gi, v[i] * b2);
        float vi = v[i];
        if (ams) {
            vmax[i] = vmax[i] > vi ? vmax[i] : vi;
            vi = vmax[i];
        }
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = p[i] + neg_step * m[i] / denom;
    }
}

static bool gt__naive_conv_fwd(const gt_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    gt_naive_conv_fwd(g, x, w, b, y);
    return true;
}
static bool gt__naive_conv_data(const gt_conv_geom *g, const float *gy, const float *w, const float *b, float *gx) {
    gt_naive_conv_data(g, gy, w, b, gx);
    return true;
}
static bool gt__naive_conv_weight(const gt_conv_geom *g, const float *x, const float *gy, float *gw) {
    gt_naive_conv_weight(g, x, gy, gw);
    return true;
}

static void gt__axpby(int64_t n, float alpha, const float *x, float beta, float *y) {
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) y[i] = beta * y[i] + alpha * x[i];
}

/* dropout: the fast one by blocks of four (one Philox call each), the naive one a call per element */
static void gt__dropout_fast(int64_t n, uint64_t seed, uint64_t base, float p, float scale, const float *x, float *y,
                             float *mask) {
    int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN)
    for (int64_t b = 0; b < blocks; b++) gt__dropout_block(b, n, seed, base, p, scale, x, y, mask);
}
static void gt__dropout_naive(int64_t n, uint64_t seed, uint64_t base, float p, float scale, const float *x, float *y,
                              float *mask) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t v[4];
        gt__philox(seed, 0, base + (uint64_t)(i / 4), v);
        float m = gt__u01(v[i % 4]) >= p ? scale : 0.0f;
        y[i] = x[i] * m;
        if (mask) mask[i] = m;
    }
}

#define GT__COMMON                                                                                             \
    .copy = gt_cpu_copy, .copy_rows = gt__copy_rows, .fill = gt__fill, .fill_i32 = gt__fill_i32,               \
    .max_dim = gt__max_dim, .bn_prepare = gt__bn_prepare, .adam = gt__adam, .axpby = gt__axpby,                     \
    .copy_to_strided = gt__copy_to_strided, .nonfinite_to_zero = gt__nonfinite_to_zero, \
    .round_bf16 = gt__round_bf16

const gt_kernels gt_kernels_cpu = {
    .name = "cpu",
    GT__COMMON,
    .binary = gt_cpu_binary,
    .unary = gt_cpu_unary,
    .sum = gt_cpu_sum,
    .gemm = gt_cpu_gemm,
    .conv_fwd = gt_cpu_conv_fwd,
    .conv_data = gt_cpu_conv_data,
    .conv_weight = gt_cpu_conv_weight,
    .bn_stats = gt_cpu_bn_stats,
    .bn_apply = gt_cpu_bn_apply,
    .bn_backward = gt_cpu_bn_backward,
    .avg_pool2d = gt_cpu_avg_pool2d,
    .avg_pool2d_backward = gt_cpu_avg_pool2d_backward,
    .max_pool2d = gt_cpu_max_pool2d,
    .index_gather = gt_cpu_index_gather,
    .index_scatter = gt_cpu_index_scatter,
    .adaptive_avg_pool2d = gt_cpu_adaptive_avg_pool2d,
    .adaptive_avg_pool2d_backward = gt_cpu_adaptive_avg_pool2d_backward,
    .upsample_nearest2d = gt_cpu_upsample_nearest2d,
    .upsample_nearest2d_backward = gt_cpu_upsample_nearest2d_backward,
    .upsample_bilinear2d = gt_cpu_upsample_bilinear2d,
    .upsample_bilinear2d_backward = gt_cpu_upsample_bilinear2d_backward,
    .embed_gather = gt__gather_fast,
    .embed_scatter = gt__scatter_fast,
    .grid_sample = gt_cpu_grid_sample,
    .dropout = gt__dropout_fast,
};

const gt_kernels gt_kernels_naive = {
    .name = "naive",
    GT__COMMON,
    .binary = gt_naive_binary,
    .unary = gt_naive_unary,
    .sum = gt_naive_sum,
    .gemm = gt_naive_gemm,
    .conv_fwd = gt__naive_conv_fwd,
    .conv_data = gt__naive_conv_data,
    .conv_weight = gt__naive_conv_weight,
    .bn_stats = gt_naive_bn_stats,
    .bn_apply = gt_naive_bn_apply,
    .bn_backward = gt_naive_bn_backward,
    .avg_pool2d = gt_naive_avg_pool2d,
    .avg_pool2d_backward = gt_naive_avg_pool2d_backward,
    .max_pool2d = gt_naive_max_pool2d,
    .index_gather = gt_naive_index_gather,
    .index_scatter = gt_naive_index_scatter,
    .adaptive_avg_pool2d = gt_naive_adaptive_avg_pool2d,
    .adaptive_avg_pool2d_backward = gt_naive_adaptive_avg_pool2d_backward,
    .upsample_nearest2d = gt_naive_upsample_nearest2d,
    .upsample_nearest2d_backward = gt_naive_upsample_nearest2d_backward,
    .upsample_bilinear2d = gt_naive_upsample_bilinear2d,
    .upsample_bilinear2d_backward = gt_naive_upsample_bilinear2d_backward,
    .embed_gather = gt__gather_naive,
    .embed_scatter = gt__scatter_naive,
    .grid_sample = gt_naive_grid_sample,
    .dropout = gt__dropout_naive,
};
