/* NumPy's legacy RandomState generator (MT19937), so torch-fidelity's
 * shuffles and KID subsets can be reproduced exactly. Written from the
 * published MT19937 algorithm (Matsumoto & Nishimura 1998) and NumPy's
 * documented legacy permutation (Fisher-Yates, bounded draws by masked
 * rejection). */
#include "metrics_internal.h"

#define GT__MT_N 624
#define GT__MT_M 397

void gt__mt_seed(gt__mt19937 *mt, uint32_t seed) {
    uint32_t s = seed;
    for (int i = 0; i < GT__MT_N; i++) {
        mt->key[i] = s;
        s = 1812433253u * (s ^ (s >> 30)) + (uint32_t)(i + 1);
    }
    mt->pos = GT__MT_N;
}

static void gt__mt_refill(gt__mt19937 *mt) {
    static const uint32_t mag[2] = {0u, 0x9908b0dfu};
    uint32_t *k = mt->key;
    int i = 0;
    for (; i < GT__MT_N - GT__MT_M; i++) {
        uint32_t y = (k[i] & 0x80000000u) | (k[i + 1] & 0x7fffffffu);
        k[i] = k[i + GT__MT_M] ^ (y >> 1) ^ mag[y & 1u];
    }
    for (; i < GT__MT_N - 1; i++) {
        uint32_t y = (k[i] & 0x80000000u) | (k[i + 1] & 0x7fffffffu);
        k[i] = k[i + GT__MT_M - GT__MT_N] ^ (y >> 1) ^ mag[y & 1u];
    }
    uint32_t y = (k[GT__MT_N - 1] & 0x80000000u) | (k[0] & 0x7fffffffu);
    k[GT__MT_N - 1] = k[GT__MT_M - 1] ^ (y >> 1) ^ mag[y & 1u];
    mt->pos = 0;
}

uint32_t gt__mt_next32(gt__mt19937 *mt) {
    if (mt->pos >= GT__MT_N) gt__mt_refill(mt);
    uint32_t y = mt->key[mt->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* A uniform integer in [0, max]: the smallest all-ones mask covering max,
 * redraw until the masked value fits (32-bit draws while max fits 32 bits). */
static uint64_t gt__mt_interval(gt__mt19937 *mt, uint64_t max) {
    if (max == 0) return 0;
    uint64_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    uint64_t v;
    if (max <= 0xffffffffu) {
        do v = gt__mt_next32(mt) & mask;
        while (v > max);
    } else {
        do {
            uint64_t hi = gt__mt_next32(mt), lo = gt__mt_next32(mt);
            v = ((hi << 32) | lo) & mask;
        } while (v > max);
    }
    return v;
}

void gt__mt_permutation(gt__mt19937 *mt, int64_t n, int64_t *perm) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i >= 1; i--) {
        int64_t j = (int64_t)gt__mt_interval(mt, (uint64_t)i);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
