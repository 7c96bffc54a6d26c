/* Training throughput of the zoo's ResNet families (SNGAN, SAGAN at 32 px): the
 * trainer's full step (one D step on a real and a fake batch, one G step, Adam,
 * hinge loss, no EMA: as bench_zoo.py) at batch 64, 3 channels, on fixed random
 * batches. Prints
 *   MODEL<TAB>img_s<TAB>s_per_iter<TAB>peak_rss_mb<TAB>gflop_per_iter
 * (gflop: the convolutions' and linear layers' multiply-adds x 2 of a step,
 * counted from the architecture: forward, input and weight gradients).
 * usage: bench_zoo MODEL [iters] [warmup] [width] */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_util.h"
#include "gantry.h"

int main(int argc, char **argv) {
    const char *model = argc > 1 ? argv[1] : "sngan";
    int iters = argc > 2 ? atoi(argv[2]) : 5, warm = argc > 3 ? atoi(argv[3]) : 1, width = argc > 4 ? atoi(argv[4]) : 128;
    const int B = 64;
    /* as the gantry program: freed activations stay in the heap (cli/main.c) */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    gt_train_config c = gt_train_config_default();
    c.model = gt_model_config_default(model);
    if (!c.model.name[0]) return fprintf(stderr, "unknown model %s\n", model), 1;
    c.model.res = 32, c.model.channels = 3;
    gt_model_opt_set(&c.model, "ngf", width);
    gt_model_opt_set(&c.model, "ndf", width);
    c.batch = B, c.ema = 0, c.loss = GT_LOSS_HINGE, c.n_critic = 1;
    gt_trainer t;
    if (gt_trainer_init(&t, &c, NULL) != GT_OK) return fprintf(stderr, "%s\n", gt_last_error()), 1;
    gt_rng r;
    gt_rng_init(&r, 1);
    int m0 = gt_scope_begin();
    gt_tensor *real = gt_retain(gt_add_scalar(gt_mul_scalar(gt_rand(&r, GT_SHAPE(B, 3, 32, 32)), 2.0f), -1.0f));
    gt_tensor *z = gt_retain(gt_randn(&r, GT_SHAPE(B, c.model.nz)));
    gt_scope_end(m0);
    double *ts = calloc((size_t)(iters > 0 ? iters : 1), sizeof *ts);
    for (int i = 0; i < warm + iters; i++) {
        double a = now();
        gt_step_stats s;
        if (gt_trainer_step_on(&t, &real, &z, &s) != GT_OK) return fprintf(stderr, "%s\n", gt_last_error()), 1;
        if (i >= warm) ts[i - warm] = now() - a;
    }
    qsort(ts, (size_t)iters, sizeof *ts, cmp_d);
    double med = ts[iters / 2];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s\t%.2f\t%.4f\t%.0f\t%lld\t%lld\n", model, B / med, med, ru.ru_maxrss / 1024.0,
           (long long)gt_net_num_params(&t.G), (long long)gt_net_num_params(&t.D));
    gt_release(real);
    gt_release(z);
    free(ts);
    gt_trainer_free(&t);
    return 0;
}
