/* bench_lab_engine: gantry lab's engine at GAN Lab's set-up (batch 150, 1 hidden layer of 8 in
 * each net): epochs/s of gt_lab_epochs on one thread with GAN Lab's defaults (SGD, 2 D + 1 G
 * updates per epoch) and with Adam, the same with 30 frames a second taken between the epochs
 * (what the server does while a page streams), and the cost of one gt_lab_frame_get.
 *
 *     bench_lab_engine [seconds per measurement, default 2] */
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "gantry.h"
#include "gantry/lab.h"

static gt_lab_frame frame;

static void fail(const char *what) {
    fprintf(stderr, "bench_lab_engine: %s: %s\n", what, gt_last_error());
    exit(1);
}

/* epochs/s for `secs` seconds; fps > 0 takes a frame every 1/fps s of the run's own clock */
static double rate(gt_lab *L, double secs, double fps, int *frames) {
    int64_t e0 = gt_lab_epoch(L);
    double t0 = now(), next = t0, t;
    *frames = 0;
    while ((t = now()) - t0 < secs) {
        if (fps > 0 && t >= next) {
            if (gt_lab_frame_get(L, &frame) != GT_OK) fail("frame");
            (*frames)++;
            next += 1.0 / fps;
        }
        if (gt_lab_epochs(L, 10, GT_LAB_BOTH) != GT_OK) fail("epochs");
    }
    return (double)(gt_lab_epoch(L) - e0) / (now() - t0);
}

static void run(const char *label, gt_lab_config c, double secs) {
    gt_lab *L;
    if (gt_lab_new(&L, &c) != GT_OK) fail("new");
    if (gt_lab_epochs(L, 3000, GT_LAB_BOTH) != GT_OK) fail("warm-up"); /* past the history's every-epoch start */
    int frames;
    double raw = rate(L, secs, 0, &frames);
    double streamed = rate(L, secs, 30, &frames);
    double best = 1e30;
    for (int i = 0; i < 200; i++) {
        double t = now();
        if (gt_lab_frame_get(L, &frame) != GT_OK) fail("frame");
        t = now() - t;
        if (t < best) best = t;
    }
    printf("%-34s %8.0f epochs/s raw  %8.0f epochs/s with 30 frames/s (%d frames)  frame_get %.0f us  (KL %.3f)\n",
           label, raw, streamed, frames, best * 1e6, frame.kl);
    gt_lab_free(L);
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    gt_set_num_threads(1);
    gt_lab_config c = gt_lab_config_default();
    run("defaults (sgd, d_steps 2, g_steps 1)", c, secs);
    c.optim = GT_LAB_ADAM;
    c.lr_d = c.lr_g = 0.01f;
    run("adam", c, secs);
    c.d_steps = 1;
    run("adam, d_steps 1", c, secs);
    c = gt_lab_config_default();
    c.data = GT_LAB_RING;
    c.loss = GT_LAB_WGAN_GP;
    c.lr_d = c.lr_g = 0.01f;
    run("wgan-gp (gradient of gradient)", c, secs);
    c.loss = GT_LAB_LOG;
    c.r1 = 1.0f;
    run("log + r1", c, secs);
    return 0;
}
