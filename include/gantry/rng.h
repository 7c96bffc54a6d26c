/* gantry/rng.h - seeded counter-based random numbers (Philox-4x32-10).
 * Element i of a draw depends only on (seed, the generator's offset, i), so the
 * same seed gives the same tensors whatever the number of threads. */
#ifndef GANTRY_RNG_H
#define GANTRY_RNG_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gt_rng {
    uint64_t seed;
    uint64_t offset; /* counter blocks consumed so far (saved in checkpoints) */
} gt_rng;

void gt_rng_init(gt_rng *r, uint64_t seed);
/* One Philox-4x32-10 block: 4 uint32 for (key=seed, counter). */
void gt_philox4x32(uint64_t seed, uint64_t counter_hi, uint64_t counter_lo, uint32_t out[4]);
/* Fill n floats; element i comes from block offset + i/4. Advances r->offset
 * by ceil(n/4) blocks. */
void gt_rng_uniform(gt_rng *r, float *out, int64_t n, float lo, float hi); /* [lo, hi) */
void gt_rng_normal(gt_rng *r, float *out, int64_t n, float mean, float std);
/* Elements [start, start + count) of what gt_rng_uniform(r, ., total, lo, hi) would draw, into out
 * (count); advances r->offset as that draw does (data-parallel shards of a whole batch's draw). */
void gt_rng_uniform_part(gt_rng *r, float *out, int64_t total, int64_t start, int64_t count, float lo, float hi);
uint32_t gt_rng_u32(gt_rng *r);
gt_tensor *gt_rand(gt_rng *r, int ndim, const int64_t *shape);  /* U[0,1) */
gt_tensor *gt_randn(gt_rng *r, int ndim, const int64_t *shape); /* N(0,1) */

#ifdef __cplusplus
}
#endif
#endif
