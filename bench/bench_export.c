/* The exported C generator (gt_prog_export_c) against the same network through the library
 * (gt_net_forward, eval mode) per image at batch 1: DCGAN 28 px 1 channel nz 100 at the teacher's
 * width (ngf 64) and a student's (ngf 20), random weights with moved batch-norm statistics (the
 * time does not depend on the values); and the pix2pix translator (28 px, ngf 16, 6 blocks). The exported file is compiled here with `cc` at -O2 and
 * at -O3 -march=native as shared objects loaded here (dlopen); the library runs with 1 and 2 threads.
 * The four paths take turns, ROUNDS rounds of >= 40 ms each, and each path's best round is reported
 * (the machine is shared: a round that another process interrupts is slower, never faster).
 * usage: bench_export [DIR [ROUNDS]]   (DIR keeps the generated files; default a temporary folder)
 * prints: config  path  ms_per_image  speed-up  max_abs_diff_vs_library */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "gantry.h"
#include "gantry/compress.h"

typedef void (*gen_fn)(const float *in, float *out);

/* ms per image of one round (>= 40 ms of calls) at batch 1: through the library (G) or fn; the image to img. */
static double round_ms(gt_net *G, gen_fn fn, const float *z, const gt_prog *p, float *img) {
    int k = 0;
    bool prev = gt_no_grad_begin();
    double t0 = now();
    do {
        if (fn) {
            fn(z, img);
        } else {
            int m = gt_scope_begin();
            gt_tensor *in = p->translator ? gt_from_data(GT_SHAPE(1, p->in_c, p->in_h, p->in_w), z)
                                          : gt_from_data(GT_SHAPE(1, p->in_c), z);
            gt_tensor *x = gt_net_forward(G, in, GT_BN_EVAL);
            if (x) gt_copy_to(x, img);
            gt_scope_end(m);
        }
        k++;
    } while (now() - t0 < 0.04);
    gt_grad_mode_restore(prev);
    return 1e3 * (now() - t0) / k;
}

static double maxdiff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fabs((double)a[i] - b[i]) > m ? fabs((double)a[i] - b[i]) : m;
    return m;
}

static int bench(const char *dir, const char *name, const char *family, int ngf, int rounds) {
    gt_model_config c = gt_model_config_default(family);
    c.res = 28, c.channels = 1, c.nz = 100;
    gt_model_opt_set(&c, "ngf", ngf);
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 3);
    const bool tr = gt_model_find(family) && gt_model_find(family)->translator;
    if (gt_model_build(&c, GT_NET_G, &r, &G) != GT_OK || (!tr && gt_recalibrate_bn(&G, 0x5EED, 2, 32) != GT_OK)) {
        fprintf(stderr, "bench_export: %s\n", gt_last_error());
        return 1;
    }
    gt_prog p;
    char gen[1024], exe[1100], cmd[8192];
    snprintf(gen, sizeof gen, "%s/%s.c", dir, name);
    if (gt_prog_from_net(&G, &p) != GT_OK || gt_prog_export_c(&p, gen, NULL) != GT_OK) {
        fprintf(stderr, "bench_export: %s\n", gt_last_error());
        return 1;
    }
    const int64_t no = gt_prog_out_numel(&p), ni = gt_prog_in_numel(&p);
    float *z = malloc(sizeof(float) * ni), *ref = malloc(sizeof(float) * no), *img = malloc(sizeof(float) * no);
    for (int64_t i = 0; i < ni; i++) z[i] = (float)sin(1.7 * (double)i + 0.3) * (tr ? 0.9f : 1.3f);
    struct stat sb;
    long fsize = stat(gen, &sb) == 0 ? (long)sb.st_size : -1;
    printf("# %s: %s 28 px, ngf %d: %.2f M MACs, %.3f M parameters, %s %ld bytes\n", name, family, ngf,
           gt_prog_macs(&p) / 1e6, gt_prog_params(&p) / 1e6, gen, fsize);
    const char *flags[2] = {"-O2", "-O3 -march=native"};
    gen_fn fns[2];
    void *libs[2];
    for (int v = 0; v < 2; v++) {
        snprintf(exe, sizeof exe, "%s/%s_%d.so", dir, name, v);
        snprintf(cmd, sizeof cmd, "cc %s -std=c11 -Wall -Wextra -fPIC -shared -o %s %s -lm", flags[v], exe, gen);
        double t0 = now();
        if (system(cmd) != 0) {
            fprintf(stderr, "bench_export: compiling failed: %s\n", cmd);
            return 1;
        }
        printf("# %s: cc %s -std=c11 -fPIC -shared: %.1f s\n", name, flags[v], now() - t0);
        libs[v] = dlopen(exe, RTLD_NOW | RTLD_LOCAL);
        void *sym = libs[v] ? dlsym(libs[v], tr ? "translate" : "generate") : NULL;
        if (!sym) {
            fprintf(stderr, "bench_export: %s\n", dlerror());
            return 1;
        }
        memcpy(&fns[v], &sym, sizeof sym);
    }
    /* the four paths in turn, rounds rounds; each path's best round */
    double best[4] = {1e30, 1e30, 1e30, 1e30}, diff[2] = {0, 0};
    for (int r = 0; r < rounds; r++)
        for (int path = 0; path < 4; path++) {
            if (path < 2) gt_set_num_threads(path + 1);
            double ms = round_ms(&G, path < 2 ? NULL : fns[path - 2], z, &p, path < 2 ? ref : img);
            if (path >= 2) diff[path - 2] = maxdiff(img, ref, no);
            if (ms < best[path]) best[path] = ms;
        }
    const char *what[4] = {"library gt_net_forward, 1 thread", "library gt_net_forward, 2 threads",
                           "exported C, cc -O2", "exported C, cc -O3 -march=native"};
    for (int path = 0; path < 4; path++)
        printf("%s\t%s\t%.4f\t%.2fx\t%.2g\n", name, what[path], best[path], best[0] / best[path],
               path < 2 ? 0.0 : diff[path - 2]);
    fflush(stdout);
    for (int v = 0; v < 2; v++) dlclose(libs[v]);
    free(z), free(ref), free(img);
    gt_prog_free(&p);
    gt_net_free(&G);
    return 0;
}

int main(int argc, char **argv) {
    char dir[1024];
    if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
    else {
        snprintf(dir, sizeof dir, "/tmp/bench_export_XXXXXX");
        if (!mkdtemp(dir)) return 1;
    }
    const int rounds = argc > 2 ? atoi(argv[2]) : 15;
    printf("config\tpath\tms_per_image (best of %d rounds)\tspeed-up vs library 1 thread\tmax_abs_diff_vs_library\n", rounds);
    int rc = bench(dir, "teacher_ngf64", "dcgan", 64, rounds) || bench(dir, "student_ngf20", "dcgan", 20, rounds) ||
             (gt_model_find("pix2pix") && bench(dir, "pix2pix_ngf16", "pix2pix", 16, rounds));
    return rc;
}
