/* Batch-norm kernels: a naive reference (plain loops, double sums) and fast
 * fused ones (OpenMP over channels, SIMD partial sums per plane folded into
 * doubles). Layout (N, C, S); see norm.h. */
#include "norm.h"

#include <math.h>

#include "../../internal.h"

/* --- naive ---------------------------------------------------------------- */
void gt_naive_bn_stats(int64_t N, int64_t C, int64_t S, const float *x, float *mean, float *var) {
    double M = (double)(N * S);
    for (int64_t c = 0; c < C; c++) {
        double s = 0, q = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++) s += x[(n * C + c) * S + i];
        double m = s / M;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++) {
                double d = x[(n * C + c) * S + i] - m;
                q += d * d;
            }
        mean[c] = (float)m;
        var[c] = (float)(q / M);
    }
}

void gt_naive_bn_apply(int64_t N, int64_t C, int64_t S, const float *x, const float *mean, const float *invstd,
                       const float *w, const float *b, float *y) {
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < S; i++) {
                int64_t k = (n * C + c) * S + i;
                y[k] = (x[k] - mean[c]) * invstd[c] * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
            }
}

void gt_naive_bn_backward(int64_t N, int64_t C, int64_t S, const float *x, const float *gy, const float *mean,
                          const float *invstd, const float *w, bool training, float *gx, float *gw, float *gb) {
    double M = (double)(N * S);
    for (int64_t c = 0; c < C; c++) {
        double sg = 0, sgh = 0; /* sum gy, sum gy * xhat */
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++) {
                int64_t k = (n * C + c) * S + i;
                sg += gy[k];
                sgh += (double)gy[k] * ((double)x[k] - mean[c]) * invstd[c];
            }
        if (gw) gw[c] = (float)sgh;
        if (gb) gb[c] = (float)sg;
        if (!gx) continue;
        double k1 = (double)invstd[c] * (w ? w[c] : 1.0f);
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++) {
                int64_t k = (n * C + c) * S + i;
                double xh = ((double)x[k] - mean[c]) * invstd[c];
                gx[k] = (float)(training ? k1 * (gy[k] - sg / M - xh * sgh / M) : k1 * gy[k]);
            }
    }
}

/* --- fast ------------------------------------------------------------------ */
/* (N, C) inputs (S == 1): rows of C; sums run over rows with channels in the
 * inner (vector) loop, in blocks of GT__CB channels held on the stack. */
#define GT__CB 256

static void gt__stats_rows(int64_t N, int64_t C, const float *x, float *mean, float *var) {
    for (int64_t c0 = 0; c0 < C; c0 += GT__CB) {
        int64_t cn = GT_MIN(GT__CB, C - c0);
        double s[GT__CB], q[GT__CB];
        float m[GT__CB];
        for (int64_t j = 0; j < cn; j++) s[j] = q[j] = 0;
        for (int64_t n = 0; n < N; n++) {
            const float *r = x + n * C + c0;
            for (int64_t j = 0; j < cn; j++) s[j] += r[j];
        }
        for (int64_t j = 0; j < cn; j++) m[j] = (float)(s[j] / (double)N);
        for (int64_t n = 0; n < N; n++) {
            const float *r = x + n * C + c0;
            for (int64_t j = 0; j < cn; j++) {
                double d = (double)(r[j] - m[j]);
                q[j] += d * d;
            }
        }
        for (int64_t j = 0; j < cn; j++) {
            mean[c0 + j] = m[j];
            var[c0 + j] = (float)(q[j] / (double)N);
        }
    }
}

void gt_cpu_bn_stats(int64_t N, int64_t C, int64_t S, const float *x, float *mean, float *var) {
    if (S == 1) {
        gt__stats_rows(N, C, x, mean, var);
        return;
    }
    double M = (double)(N * S);
#pragma omp parallel for schedule(static) if (N * C * S > GT_PAR_MIN)
    for (int64_t c = 0; c < C; c++) {
        double s = 0, q = 0;
        for (int64_t n = 0; n < N; n++) {
            const float *p = x + (n * C + c) * S;
            float a = 0;
#pragma omp simd reduction(+ : a)
            for (int64_t i = 0; i < S; i++) a += p[i];
            s += a;
        }
        float m = (float)(s / M);
        for (int64_t n = 0; n < N; n++) {
            const float *p = x + (n * C + c) * S;
            float a = 0;
#pragma omp simd reduction(+ : a)
            for (int64_t i = 0; i < S; i++) a += (p[i] - m) * (p[i] - m);
            q += a;
        }
        mean[c] = m;
        var[c] = (float)(q / M);
    }
}

void gt_cpu_bn_apply(int64_t N, int64_t C, int64_t S, const float *x, const float *mean, const float *invstd,
                     const float *w, const float *b, float *y) {
    if (S == 1) {
#pragma omp parallel for schedule(static) if (N * C > GT_PAR_MIN)
        for (int64_t n = 0; n < N; n++) {
            const float *r = x + n * C;
            float *o = y + n * C;
            for (int64_t c = 0; c < C; c++)
                o[c] = (r[c] - mean[c]) * invstd[c] * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
        }
        return;
    }
#pragma omp parallel for schedule(static) if (N * C * S > GT_PAR_MIN)
    for (int64_t nc = 0; nc < N * C; nc++) {
        int64_t c = nc % C;
        float sc = invstd[c] * (w ? w[c] : 1.0f);
        float sh = (b ? b[c] : 0.0f) - mean[c] * sc;
        const float *p = x + nc * S;
        float *o = y + nc * S;
#pragma omp simd
        for (int64_t i = 0; i < S; i++) o[i] = p[i] * sc + sh;
    }
}

/* gx = a*gy + bx*(x - mean) + d per channel (the training formula expanded). */
static inline void gt__bn_coefs(double M, float invstd, float w, bool training, double sg, double sgh,
                                float *a, float *bx, float *d) {
    double k1 = (double)invstd * w;
    if (!training) {
        *a = (float)k1;
        *bx = *d = 0.0f;
        return;
    }
    double kx = -k1 * invstd * sgh / M; /* coefficient of (x - mean) */
    *a = (float)k1;
    *bx = (float)kx;
    *d = (float)(-k1 * sg / M);
}

static void gt__bn_backward_rows(int64_t N, int64_t C, const float *x, const float *gy, const float *mean,
                                 const float *invstd, const float *w, bool training, float *gx, float *gw,
                                 float *gb) {
    for (int64_t c0 = 0; c0 < C; c0 += GT__CB) {
        int64_t cn = GT_MIN(GT__CB, C - c0);
        double sg[GT__CB], sgh[GT__CB];
        float a[GT__CB], bx[GT__CB], d[GT__CB];
        for (int64_t j = 0; j < cn; j++) sg[j] = sgh[j] = 0;
        for (int64_t n = 0; n < N; n++) {
            const float *r = x + n * C + c0, *g = gy + n * C + c0;
            for (int64_t j = 0; j < cn; j++) {
                sg[j] += g[j];
                sgh[j] += (double)(g[j] * (r[j] - mean[c0 + j]));
            }
        }
        for (int64_t j = 0; j < cn; j++) {
            int64_t c = c0 + j;
            sgh[j] *= invstd[c];
            if (gw) gw[c] = (float)sgh[j];
            if (gb) gb[c] = (float)sg[j];
            gt__bn_coefs((double)N, invstd[c], w ? w[c] : 1.0f, training, sg[j], sgh[j], &a[j], &bx[j], &d[j]);
        }
        if (!gx) continue;
        for (int64_t n = 0; n < N; n++) {
            const float *r = x + n * C + c0, *g = gy + n * C + c0;
            float *o = gx + n * C + c0;
            for (int64_t j = 0; j < cn; j++) o[j] = a[j] * g[j] + bx[j] * (r[j] - mean[c0 + j]) + d[j];
        }
    }
}

void gt_cpu_bn_backward(int64_t N, int64_t C, int64_t S, const float *x, const float *gy, const float *mean,
                        const float *invstd, const float *w, bool training, float *gx, float *gw, float *gb) {
    if (S == 1) {
        gt__bn_backward_rows(N, C, x, gy, mean, invstd, w, training, gx, gw, gb);
        return;
    }
    double M = (double)(N * S);
#pragma omp parallel for schedule(static) if (N * C * S > GT_PAR_MIN)
    for (int64_t c = 0; c < C; c++) {
        double sg = 0, sgh = 0;
        float m = mean[c];
        bool sums = gw || gb || training;
        for (int64_t n = 0; sums && n < N; n++) {
            const float *p = x + (n * C + c) * S, *g = gy + (n * C + c) * S;
            float s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
            for (int64_t i = 0; i < S; i++) {
                s1 += g[i];
                s2 += g[i] * (p[i] - m);
            }
            sg += s1;
            sgh += s2;
        }
        sgh *= invstd[c];
        if (gw) gw[c] = (float)sgh;
        if (gb) gb[c] = (float)sg;
        if (!gx) continue;
        float a, bx, d;
        gt__bn_coefs(M, invstd[c], w ? w[c] : 1.0f, training, sg, sgh, &a, &bx, &d);
        for (int64_t n = 0; n < N; n++) {
            const float *p = x + (n * C + c) * S, *g = gy + (n * C + c) * S;
            float *o = gx + (n * C + c) * S;
#pragma omp simd
            for (int64_t i = 0; i < S; i++) o[i] = a * g[i] + bx * (p[i] - m) + d;
        }
    }
}
