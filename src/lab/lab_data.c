/* src/lab/lab_data.c - GAN Lab's distributions (demo/ganlab_input_providers.ts,
 * sampleFromTrueDistribution) and its noise, drawn from gantry's Philox generator.
 *
 * GAN Lab does not bound its samples; a sample that falls outside [0,1]^2 (the tails of the
 * gaussians, about 0.4% of them) is drawn again here, so every real point is on the plane. */
#include <math.h>
#include <string.h>

#include "lab_internal.h"

#define LAB_PI 3.14159265358979323846

static double unif(gt_rng *r) { return (gt_rng_u32(r) >> 8) * (1.0 / 16777216.0); } /* [0, 1) */

static double normal(gt_rng *r) {
    /* Box-Muller as GAN Lab's randNormal (u, v in (0, 1]) */
    double u = 1.0 - unif(r), v = 1.0 - unif(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * LAB_PI * v);
}

static void one_real(const gt_lab_config *c, gt_rng *r, double p[2]) {
    double t = unif(r);
    switch (c->data) {
    case GT_LAB_DRAWN: {
        int i = (int)(c->n_drawn * t);
        if (i >= c->n_drawn) i = c->n_drawn - 1;
        p[0] = c->drawn[i][0] + 0.02 * normal(r);
        p[1] = c->drawn[i][1] + 0.02 * normal(r);
        return;
    }
    case GT_LAB_LINE:
        p[0] = 0.8 - 0.75 * t + 0.01 * normal(r);
        p[1] = 0.6 + 0.3 * t + 0.01 * normal(r);
        return;
    case GT_LAB_GAUSSIANS:
        if (t < 0.5) {
            p[0] = 0.3 + 0.1 * normal(r);
            p[1] = 0.7 + 0.1 * normal(r);
        } else {
            p[0] = 0.7 + 0.05 * normal(r);
            p[1] = 0.4 + 0.2 * normal(r);
        }
        return;
    case GT_LAB_RING:
        p[0] = 0.5 + 0.3 * cos(t * LAB_PI * 2) + 0.025 * normal(r);
        p[1] = 0.45 + 0.25 * sin(t * LAB_PI * 2) + 0.025 * normal(r);
        return;
    case GT_LAB_DISJOINT:
    default: {
        const double s = 0.025;
        double cx = t < 0.333 ? 0.35 : t < 0.666 ? 0.75 : 0.45;
        double cy = t < 0.333 ? 0.75 : t < 0.666 ? 0.6 : 0.35;
        p[0] = cx + s * normal(r);
        p[1] = cy + s * normal(r);
        return;
    }
    }
}

void gt__lab_sample_real(const gt_lab_config *c, gt_rng *r, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double p[2];
        for (int tries = 0;; tries++) {
            one_real(c, r, p);
            if ((p[0] >= 0.0 && p[0] <= 1.0 && p[1] >= 0.0 && p[1] <= 1.0) || tries >= 100) break;
        }
        out[2 * i] = (float)fmin(1.0, fmax(0.0, p[0]));
        out[2 * i + 1] = (float)fmin(1.0, fmax(0.0, p[1]));
    }
}

void gt__lab_sample_noise(const gt_lab_config *c, gt_rng *r, float *out, int64_t n) {
    int64_t m = n * c->noise_dim;
    for (int64_t i = 0; i < m; i++) {
        if (c->noise == GT_LAB_UNIFORM) {
            out[i] = (float)unif(r);
        } else { /* tf.truncatedNormal(mean 0.5, std 0.25): redrawn beyond 2 std, so in [0, 1] */
            double v;
            do v = normal(r);
            while (fabs(v) > 2.0);
            out[i] = (float)(0.5 + 0.25 * v);
        }
    }
}

void gt__lab_atlas_take(const float *atlas, int64_t rows, int w, int64_t *pos, float *out, int64_t n) {
    int64_t p = *pos % rows;
    while (n > 0) {
        int64_t k = rows - p < n ? rows - p : n;
        memcpy(out, atlas + p * w, (size_t)(k * w) * sizeof(float));
        out += k * w;
        n -= k;
        p = (p + k) % rows;
    }
    *pos = p;
}
