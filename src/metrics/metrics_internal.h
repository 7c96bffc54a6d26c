/* src/metrics/metrics_internal.h - what the metric files share: NumPy's legacy
 * random generator (MT19937, for torch-fidelity's shuffles and KID subsets) and
 * small helpers. */
#ifndef GANTRY_METRICS_INTERNAL_H
#define GANTRY_METRICS_INTERNAL_H

#include "../internal.h"

/* NumPy's RandomState: MT19937 seeded like RandomState(seed) with an int. */
typedef struct gt__mt19937 {
    uint32_t key[624];
    int pos;
} gt__mt19937;

void gt__mt_seed(gt__mt19937 *mt, uint32_t seed);
uint32_t gt__mt_next32(gt__mt19937 *mt);
/* RandomState.permutation(n): perm[0..n) = a shuffled 0..n-1, drawing exactly
 * what NumPy draws (Fisher-Yates from the end, masked rejection sampling). */
void gt__mt_permutation(gt__mt19937 *mt, int64_t n, int64_t *perm);

/* Pairs whose distance the fast precision/recall path recomputed exactly
 * (the float32 band could not decide), since the start (for tests / benches). */
int64_t gt__prdc_exact_pairs(void);

/* FNV-1a of a file's bytes, folded to 32 bits: the weights fingerprint in an
 * extractor's name, so cached statistics of other weights are never reused. */
gt_status gt__file_fnv(const char *path, uint32_t *out);

/* Checks shared by the metric entry points (set the error, return its status). */
gt_status gt__check_features(const float *x, int64_t n, int64_t dim, const char *metric, const char *what);

#endif
