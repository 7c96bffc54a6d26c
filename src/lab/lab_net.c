/* src/lab/lab_net.c - the lab's MLPs: built on gt_params / gt_nn_linear with GAN Lab's
 * initialisation, run by the engine (training) or by a plain loop (views). */
#include <math.h>
#include <string.h>

#include "lab_internal.h"

gt_status gt__lab_net_build(gt_lab_net *N, const char *prefix, int in, int layers, int width, int out, gt_rng *r) {
    memset(N, 0, sizeof *N);
    gt_params_init(&N->P);
    N->n_fc = layers + 2;
    N->in = in;
    N->width = width;
    N->out = out;
    for (int i = 0; i < N->n_fc; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s.%d", prefix, i);
        int fi = i == 0 ? in : width, fo = i == N->n_fc - 1 ? out : width;
        gt_status st = gt_nn_linear_init(&N->fc[i], &N->P, name, fi, fo, true, r);
        if (st != GT_OK) return st;
        /* GAN Lab: N(0, 1/sqrt(2)) for the first layer (whatever its input), N(0, 1/sqrt(n)) after */
        float std = i == 0 ? (float)(1.0 / sqrt(2.0)) : (float)(1.0 / sqrt((double)width));
        if ((st = gt_init_normal(N->fc[i].weight, r, 0.0f, std)) != GT_OK) return st;
        if ((st = gt_init_constant(N->fc[i].bias, 0.0f)) != GT_OK) return st;
    }
    return gt_params_finalize(&N->P);
}

void gt__lab_net_free(gt_lab_net *N) {
    gt_params_free(&N->P);
    memset(N, 0, sizeof *N);
}

gt_tensor *gt__lab_net_forward(const gt_lab_net *N, gt_tensor *x, bool tanh_out) {
    gt_tensor *h = x;
    for (int i = 0; i < N->n_fc - 1; i++) h = gt_relu(gt_nn_linear_forward(&N->fc[i], h));
    h = gt_nn_linear_forward(&N->fc[N->n_fc - 1], h);
    return tanh_out ? gt_tanh(h) : h;
}

void gt__lab_net_eval(const gt_lab_net *N, const float *x, int64_t n, float *y, bool tanh_out, float *scratch) {
    float *a = scratch, *b = scratch + N->width;
    for (int64_t r = 0; r < n; r++) {
        const float *src = x + r * N->in;
        int fi = N->in;
        for (int i = 0; i < N->n_fc; i++) {
            bool last = i == N->n_fc - 1;
            int fo = last ? N->out : N->width;
            const float *w = gt_data(N->fc[i].weight), *bias = gt_data(N->fc[i].bias);
            float *dst = last ? y + r * N->out : (src == a ? b : a);
            for (int o = 0; o < fo; o++) {
                const float *wr = w + (int64_t)o * fi;
                float s = 0.0f;
                for (int k = 0; k < fi; k++) s += wr[k] * src[k];
                s += bias[o];
                dst[o] = last ? (tanh_out ? tanhf(s) : s) : (s > 0.0f ? s : 0.0f);
            }
            src = dst;
            fi = fo;
        }
    }
}
