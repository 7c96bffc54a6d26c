/* Consistency regularization of D (CR, balanced CR, latent CR) and LeCam's regularizer: the
 * transform T of CR (StudioGAN's flip + translation), the L2 consistency and LeCam's term
 * (gantry/train.h; the trainer's default scheme uses them, src/train/trainer.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/train.h"

/* Reflection of index i into 0..n-1 (torch's "reflect" padding: -1 -> 1, n -> n - 2). */
static int64_t gt__reflect(int64_t i, int64_t n) {
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

gt_tensor *gt_cr_transform_with(gt_tensor *x, const int *flip, const int *tx, const int *ty) {
    char sh[64];
    if (!x || !flip || !tx || !ty) return gt_set_error(GT_ERR_ARG, "gt_cr_transform: NULL argument"), NULL;
    if (x->ndim != 4)
        return gt_set_error(GT_ERR_SHAPE, "gt_cr_transform: x %s, want (N, C, H, W)", gt_shape_str(x, sh, sizeof sh)),
               NULL;
    const int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int64_t sx = H / 8, sy = W / 8;
    for (int64_t n = 0; n < N; n++)
        if (tx[n] < -sx || tx[n] > sx || ty[n] < -sy || ty[n] > sy)
            return gt_set_error(GT_ERR_ARG, "gt_cr_transform: sample %lld's shift (%d, %d) is outside +-(%lld, %lld)",
                                (long long)n, tx[n], ty[n], (long long)sx, (long long)sy),
                   NULL;
    gt_tensor *xc = gt_contiguous(x), *y = xc ? gt_empty(4, x->shape) : NULL;
    if (!y) return NULL;
    const float *s = gt_data(xc);
    float *d = gt_data(y);
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            const float *p = s + (n * C + c) * H * W; /* flipped (along the width) first, then translated */
            float *q = d + (n * C + c) * H * W;
            for (int64_t i = 0; i < H; i++) {
                int64_t si = gt__reflect(i + tx[n], H);
                for (int64_t j = 0; j < W; j++) {
                    int64_t sj = gt__reflect(j + ty[n], W);
                    q[i * W + j] = p[si * W + (flip[n] ? W - 1 - sj : sj)];
                }
            }
        }
    return y;
}

gt_tensor *gt_cr_transform(gt_tensor *x, gt_rng *r) {
    if (!x || !r) return gt_set_error(GT_ERR_ARG, "gt_cr_transform: NULL argument"), NULL;
    if (x->ndim != 4) return gt_cr_transform_with(x, (int[]){0}, (int[]){0}, (int[]){0});
    const int64_t N = x->shape[0];
    int *buf = malloc((size_t)(3 * N) * sizeof *buf);
    float *u = malloc((size_t)N * sizeof *u);
    if (!buf || !u) {
        free(buf), free(u);
        return gt_set_error(GT_ERR_OOM, "gt_cr_transform: out of memory"), NULL;
    }
    const uint32_t sx = (uint32_t)(x->shape[2] / 8), sy = (uint32_t)(x->shape[3] / 8);
    gt_rng_uniform(r, u, N, 0.0f, 1.0f);
    for (int64_t n = 0; n < N; n++) buf[n] = u[n] < 0.5f;
    for (int64_t n = 0; n < N; n++) buf[N + n] = (int)(gt_rng_u32(r) % (2 * sx + 1)) - (int)sx;
    for (int64_t n = 0; n < N; n++) buf[2 * N + n] = (int)(gt_rng_u32(r) % (2 * sy + 1)) - (int)sy;
    gt_tensor *y = gt_cr_transform_with(x, buf, buf + N, buf + 2 * N);
    free(buf), free(u);
    return y;
}

gt_tensor *gt_consistency_l2(gt_tensor *a, gt_tensor *b) {
    if (!a || !b) return gt_set_error(GT_ERR_ARG, "gt_consistency_l2: NULL argument"), NULL;
    gt_tensor *d = gt_sub(a, b);
    return d ? gt_mean_all(gt_mul(d, d)) : NULL;
}

gt_tensor *gt_lecam_reg(gt_tensor *real_logits, gt_tensor *fake_logits, double ema_real, double ema_fake) {
    if (!real_logits || !fake_logits) return gt_set_error(GT_ERR_ARG, "gt_lecam_reg: NULL argument"), NULL;
    gt_tensor *a = gt_relu(gt_add_scalar(real_logits, (float)-ema_fake));
    gt_tensor *b = gt_relu(gt_add_scalar(gt_mul_scalar(fake_logits, -1.0f), (float)ema_real));
    if (!a || !b) return NULL;
    return gt_add(gt_mean_all(gt_mul(a, a)), gt_mean_all(gt_mul(b, b)));
}

bool gt_train_uses_consistency(const gt_train_config *c) {
    return c && (c->cr > 0 || c->bcr_real > 0 || c->bcr_fake > 0 || c->zcr_dis > 0 || c->zcr_gen > 0 || c->lecam > 0);
}

bool gt_train_uses_augment(const gt_train_config *c) {
    return c && c->augment[0] && strcmp(c->augment, "none") != 0;
}
