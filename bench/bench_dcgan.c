/* DCGAN training throughput: the trainer's full step (D step on a real and a
 * fake batch, G step, Adam, BCE; no EMA, as bench_dcgan.py) at batch 64, 3
 * channels, default widths (ngf = ndf = 64, nz = 100), on fixed random
 * batches (no data loading). Prints
 *   dcgan<TAB>res<TAB>img_s<TAB>s_per_iter<TAB>peak_rss_mb
 * and with --profile the time of each phase of a step (the same calls the
 * trainer makes, timed one by one).
 * usage: bench_dcgan RES [iters] [warmup] [--profile] */
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_util.h"
#include "gantry.h"

#define NPH 9
static const char *PH[NPH] = {"G forward",       "D forward (real, fake)", "D backward (real, fake)", "Adam D",
                              "D forward (G step)", "G step backward",   "Adam G",        "zero_grad + loss",
                              "other"};

/* One step with each phase timed (the trainer's step, unrolled: each D loss
 * term forward + backward in its own scope, then the G step). */
static void profiled_step(gt_trainer *t, gt_tensor *real, gt_tensor *z, double *ph) {
    double a = now(), b;
    int m = gt_scope_begin();
    gt_params_zero_grad(&t->D.P);
    b = now(), ph[7] += b - a, a = b;
    gt_tensor *fake = gt_net_forward(&t->G, z, GT_BN_TRAIN);
    b = now(), ph[0] += b - a, a = b;
    gt_tensor *xs[2] = {real, gt_detach(fake)};
    for (int k = 0; k < 2; k++) {
        int mk = gt_scope_begin();
        gt_tensor *lo = gt_net_forward(&t->D, xs[k], GT_BN_TRAIN);
        b = now(), ph[1] += b - a, a = b;
        gt_tensor *l = gt_gan_loss_d_part(GT_LOSS_NS, lo, k == 0);
        b = now(), ph[7] += b - a, a = b;
        gt_backward(l);
        b = now(), ph[2] += b - a, a = b;
        gt_scope_end(mk);
        b = now(), ph[8] += b - a, a = b;
    }
    gt_adam_step(&t->opt_d);
    b = now(), ph[3] += b - a, a = b;
    gt_params_zero_grad(&t->G.P);
    gt_net_requires_grad(&t->D, false);
    b = now(), ph[7] += b - a, a = b;
    gt_tensor *out = gt_net_forward(&t->D, fake, GT_BN_TRAIN);
    b = now(), ph[4] += b - a, a = b;
    gt_tensor *lg = gt_gan_loss_g(GT_LOSS_NS, out);
    b = now(), ph[7] += b - a, a = b;
    gt_backward(lg);
    gt_net_requires_grad(&t->D, true);
    b = now(), ph[5] += b - a, a = b;
    gt_adam_step(&t->opt_g);
    b = now(), ph[6] += b - a, a = b;
    gt_scope_end(m);
    b = now(), ph[8] += b - a;
}

int main(int argc, char **argv) {
    int res = argc > 1 ? atoi(argv[1]) : 32;
    int iters = argc > 2 ? atoi(argv[2]) : 5;
    int warm = argc > 3 ? atoi(argv[3]) : 1;
    bool prof = argc > 4 && strcmp(argv[4], "--profile") == 0;
    if ((res != 32 && res != 64) || iters < 1 || warm < 0) {
        fprintf(stderr, "usage: bench_dcgan RES(32|64) [iters] [warmup] [--profile]\n");
        return 2;
    }
    gt_set_num_threads(2);
    /* as the gantry program: freed activations stay in the heap (cli/main.c) */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    gt_train_config c = gt_train_config_default();
    c.model.res = res, c.model.channels = 3;
    c.batch = 64, c.ema = 0;
    gt_trainer t;
    if (gt_trainer_init(&t, &c, NULL) != GT_OK) {
        fprintf(stderr, "bench_dcgan: %s\n", gt_last_error());
        return 1;
    }
    gt_rng r;
    gt_rng_init(&r, 5);
    gt_tensor *real = gt_rand(&r, GT_SHAPE(64, 3, res, res)); // (64, 3, res, res) in [0, 1)
    for (int64_t i = 0; i < gt_numel(real); i++) gt_data(real)[i] = 2 * gt_data(real)[i] - 1;
    gt_tensor *z = gt_randn(&r, GT_SHAPE(64, 100));
    double *ts = malloc((size_t)iters * sizeof *ts), ph[NPH] = {0};
    for (int i = 0; i < warm + iters; i++) {
        double a = now();
        gt_status st = GT_OK;
        if (prof && i >= warm) profiled_step(&t, real, z, ph);
        else st = gt_trainer_step_on(&t, &real, &z, NULL);
        if (st != GT_OK) {
            fprintf(stderr, "bench_dcgan: %s\n", gt_last_error());
            return 1;
        }
        if (i >= warm) ts[i - warm] = now() - a;
    }
    qsort(ts, (size_t)iters, sizeof *ts, cmp_d);
    double med = iters % 2 ? ts[iters / 2] : 0.5 * (ts[iters / 2 - 1] + ts[iters / 2]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("dcgan\t%d\t%.2f\t%.4f\t%.1f\n", res, 64.0 / med, med, ru.ru_maxrss / 1024.0);
    if (prof) {
        double tot = 0;
        for (int k = 0; k < NPH; k++) tot += ph[k];
        for (int k = 0; k < NPH; k++)
            printf("phase\t%d\t%s\t%.1f ms\t%.0f%%\n", res, PH[k], 1e3 * ph[k] / iters, 100 * ph[k] / tot);
    }
    free(ts);
    gt_release(real);
    gt_release(z);
    gt_trainer_free(&t);
    return 0;
}
