/* Philox-4x32-10 counter-based generator (Salmon et al., SC'11). Each block of
 * four 32-bit outputs depends only on (seed, counter), so element i of a draw
 * is the same whatever thread computes it. */
#include "../backend/formulas.h"
#include "../internal.h"

void gt_philox4x32(uint64_t seed, uint64_t counter_hi, uint64_t counter_lo, uint32_t out[4]) {
    gt__philox(seed, counter_hi, counter_lo, out); /* src/backend/formulas.h: shared with the GPU */
}

void gt_rng_init(gt_rng *r, uint64_t seed) {
    r->seed = seed;
    r->offset = 0;
}

/* (0, 1] for logs */
static inline float gt__u01_open(uint32_t x) { return (float)((x >> 8) + 1) * (1.0f / 16777216.0f); }

void gt_rng_uniform(gt_rng *r, float *out, int64_t n, float lo, float hi) {
    int64_t blocks = (n + 3) / 4;
    uint64_t base = r->offset;
    float scale = hi - lo;
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN)
    for (int64_t b = 0; b < blocks; b++) {
        uint32_t v[4];
        gt_philox4x32(r->seed, 0, base + (uint64_t)b, v);
        for (int k = 0; k < 4 && b * 4 + k < n; k++) out[b * 4 + k] = lo + scale * gt__u01(v[k]);
    }
    r->offset += (uint64_t)blocks;
}

void gt_rng_normal(gt_rng *r, float *out, int64_t n, float mean, float std) {
    int64_t blocks = (n + 3) / 4;
    uint64_t base = r->offset;
    const float two_pi = 6.283185307179586f;
#pragma omp parallel for schedule(static) if (n > GT_PAR_MIN / 4)
    for (int64_t b = 0; b < blocks; b++) {
        uint32_t v[4];
        float z[4];
        gt_philox4x32(r->seed, 0, base + (uint64_t)b, v);
        for (int k = 0; k < 4; k += 2) { /* Box-Muller on each pair */
            float rad = sqrtf(-2.0f * logf(gt__u01_open(v[k])));
            float th = two_pi * gt__u01(v[k + 1]);
            z[k] = rad * cosf(th);
            z[k + 1] = rad * sinf(th);
        }
        for (int k = 0; k < 4 && b * 4 + k < n; k++) out[b * 4 + k] = mean + std * z[k];
    }
    r->offset += (uint64_t)blocks;
}

void gt_rng_uniform_part(gt_rng *r, float *out, int64_t total, int64_t start, int64_t count, float lo, float hi) {
    const uint64_t base = r->offset;
    const float scale = hi - lo;
    uint32_t v[4];
    int64_t blk = -1;
    for (int64_t i = 0; i < count; i++) { /* element e of the whole draw: block e / 4, lane e % 4 (as above) */
        const int64_t e = start + i;
        if (e / 4 != blk) blk = e / 4, gt_philox4x32(r->seed, 0, base + (uint64_t)blk, v);
        out[i] = lo + scale * gt__u01(v[e % 4]);
    }
    r->offset += (uint64_t)((total + 3) / 4);
}

uint32_t gt_rng_u32(gt_rng *r) {
    uint32_t v[4];
    gt_philox4x32(r->seed, 0, r->offset++, v);
    return v[0];
}

gt_tensor *gt_rand(gt_rng *r, int ndim, const int64_t *shape) {
    if (!r) return gt__fail(GT_ERR_ARG, "gt_rand: rng is NULL");
    gt_tensor *t = gt_empty(ndim, shape);
    if (t) gt_rng_uniform(r, gt_data(t), gt_numel(t), 0.0f, 1.0f);
    return t;
}

gt_tensor *gt_randn(gt_rng *r, int ndim, const int64_t *shape) {
    if (!r) return gt__fail(GT_ERR_ARG, "gt_randn: rng is NULL");
    gt_tensor *t = gt_empty(ndim, shape);
    if (t) gt_rng_normal(r, gt_data(t), gt_numel(t), 0.0f, 1.0f);
    return t;
}
