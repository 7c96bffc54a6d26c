/* gantry's side of bench/bench_cuda.sh: throughput on a device (cuda by default; cpu for a check),
 * the same models and shapes as the CPU benchmarks:
 *   dcgan64    the trainer's full DCGAN step as bench_dcgan.c (D on a real and a fake batch, G step,
 *              Adam, BCE, no EMA) at 64 px, 3 channels, ngf = ndf = 64, nz = 100, batch 64;
 *   sngan      the zoo's SNGAN step as bench_zoo.c (32 px, 3 channels, width 128, hinge, one D and
 *              one G step, Adam, no EMA), batch 64;
 *   inception  the FID Inception-v3 pipeline as bench_inception.c (uint8 3x299x299 images, TF1
 *              resize, the network, every feature), batch 50; random weights (zero-mean normal,
 *              running variances in [1, 2)); on cuda the ops path runs (the fused forward is the CPU's).
 * Each timed iteration ends with gt_device_sync(), so queued GPU work is inside the time. Prints
 *   WHAT<TAB>DEVICE<TAB>img_s (median)<TAB>s_per_iter<TAB>img_s (best)<TAB>peak_device_mib<TAB>host_fallbacks_per_iter
 * usage: bench_cuda dcgan64|sngan|inception [--device cuda|cpu] [--iters N] [--warmup N] */
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "gantry.h"
#include "gantry/device.h"

static int fail(const char *what) {
    fprintf(stderr, "bench_cuda: %s: %s\n", what, gt_last_error());
    return 1;
}

static int64_t fallbacks(void) {
    gt_device_counters k;
    gt_device_counters_get(&k);
    return k.host_fallbacks;
}

/* a training config as the CPU benchmarks' */
static gt_train_config config_of(const char *what) {
    gt_train_config c = gt_train_config_default();
    if (strcmp(what, "sngan") == 0) {
        c.model = gt_model_config_default("sngan");
        c.model.res = 32, c.model.channels = 3;
        gt_model_opt_set(&c.model, "ngf", 128);
        gt_model_opt_set(&c.model, "ndf", 128);
        c.loss = GT_LOSS_HINGE, c.n_critic = 1;
    } else {
        c.model.res = 64, c.model.channels = 3;
    }
    c.batch = 64, c.ema = 0;
    return c;
}

/* Random weights for the Inception registry: N(0, 0.05), running variances in [1, 2). */
static gt_status random_inception(gt_inception *net) {
    gt_params *P = gt_inception_params(net);
    gt_rng r;
    gt_rng_init(&r, 1234);
    for (int i = 0; i < P->n; i++) {
        gt_tensor *t = P->v[i].t;
        if (strstr(P->v[i].name, "running_var")) gt_rng_uniform(&r, gt_data(t), gt_numel(t), 1.0f, 2.0f);
        else gt_rng_normal(&r, gt_data(t), gt_numel(t), 0.0f, 0.05f);
    }
    gt_inception_weights_changed(net);
    return GT_OK;
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "", *device = "cuda";
    int iters = 10, warm = 2;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--device")) device = argv[i + 1];
        else if (!strcmp(argv[i], "--iters")) iters = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warm = atoi(argv[i + 1]);
        else what = "";
    }
    bool train = !strcmp(what, "dcgan64") || !strcmp(what, "sngan");
    if ((!train && strcmp(what, "inception")) || iters < 1 || warm < 0 || (argc % 2) != 0) {
        fprintf(stderr, "usage: bench_cuda dcgan64|sngan|inception [--device cuda|cpu] [--iters N] [--warmup N]\n");
        return 2;
    }
    mallopt(M_MMAP_THRESHOLD, 1 << 30); /* as the gantry program (cli/main.c) */
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    if (gt_device_use(device) != GT_OK) return fail(device); /* before any tensor */
    double *ts = calloc((size_t)iters, sizeof *ts);
    int64_t fb0 = 0;
    int per = 64;
    if (train) {
        gt_train_config c = config_of(what);
        gt_trainer t;
        if (gt_trainer_init(&t, &c, NULL) != GT_OK) return fail("trainer");
        gt_rng r;
        gt_rng_init(&r, 5);
        int m0 = gt_scope_begin();
        int res = c.model.res;
        gt_tensor *real = gt_retain(gt_add_scalar(gt_mul_scalar(gt_rand(&r, GT_SHAPE(64, 3, res, res)), 2.0f), -1.0f));
        gt_tensor *z = gt_retain(gt_randn(&r, GT_SHAPE(64, c.model.nz)));
        gt_scope_end(m0);
        for (int i = 0; i < warm + iters; i++) {
            if (i == warm) fb0 = fallbacks();
            double a = now();
            if (gt_trainer_step_on(&t, &real, &z, NULL) != GT_OK) return fail("step");
            if (gt_device_sync() != GT_OK) return fail("sync");
            if (i >= warm) ts[i - warm] = now() - a;
        }
        gt_release(real);
        gt_release(z);
        gt_trainer_free(&t);
    } else {
        per = 50;
        gt_inception *net = gt_inception_new();
        if (!net || random_inception(net) != GT_OK) return fail("inception");
        size_t nimg = (size_t)per * 3 * 299 * 299;
        uint8_t *img = malloc(nimg);
        for (size_t k = 0; k < nimg; k++) img[k] = (uint8_t)((k * 2654435761u) >> 24);
        for (int i = 0; i < warm + iters; i++) {
            if (i == warm) fb0 = fallbacks();
            int m = gt_scope_begin();
            gt_inception_outputs o;
            double a = now();
            if (gt_inception_extract(net, img, per, 3, 299, 299, GT_RESIZE_TF1, GT_INCEPTION_ALL, per, &o) != GT_OK)
                return fail("inception");
            if (gt_device_sync() != GT_OK) return fail("sync");
            if (i >= warm) ts[i - warm] = now() - a;
            gt_scope_end(m);
        }
        free(img);
        gt_inception_free(net);
    }
    qsort(ts, (size_t)iters, sizeof *ts, cmp_d);
    double med = iters % 2 ? ts[iters / 2] : 0.5 * (ts[iters / 2 - 1] + ts[iters / 2]);
    gt_device_counters k;
    gt_device_counters_get(&k);
    printf("%s\t%s\t%.2f\t%.5f\t%.2f\t%.1f\t%.1f\n", what, device, per / med, med, per / ts[0],
           (double)k.peak_bytes / 1048576.0, (double)(k.host_fallbacks - fb0) / iters);
    free(ts);
    return 0;
}
