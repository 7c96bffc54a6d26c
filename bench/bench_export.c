/* The exported C generator (gt_prog_export_c) against the same network through the library
 * (gt_net_forward, eval mode) per image at batch 1: DCGAN 28 px 1 channel nz 100 at the teacher's
 * width (ngf 64) and a student's (ngf 20), random weights with moved batch-norm statistics (the
 * time does not depend on the values). The exported file is compiled here with `cc` at -O2 and
 * at -O3 -march=native, with a timing main; the library runs with 1 and 2 threads.
 * usage: bench_export [DIR [REPS]]   (DIR keeps the generated files; default a temporary folder)
 * prints: config  path  ms_per_image  max_abs_diff_vs_library */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "gantry.h"
#include "gantry/compress.h"

static const char main_src[] =
    "#define _POSIX_C_SOURCE 199309L\n#include <stdio.h>\n#include <stdlib.h>\n#include <time.h>\n"
    "void generate(const float *in, float *out);\n"
    "static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }\n"
    "static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }\n"
    "int main(int argc, char **argv) {\n    if (argc < 4) return 2;\n"
    "    int nin = atoi(argv[1]), nout = atoi(argv[2]), reps = atoi(argv[3]);\n"
    "    float *z = malloc(sizeof(float) * nin), *img = malloc(sizeof(float) * nout);\n"
    "    if (fread(z, sizeof(float), nin, stdin) != (size_t)nin) return 1;\n"
    "    for (int i = 0; i < 5; i++) generate(z, img);\n"
    "    double t[64]; int n = 0;\n"
    "    for (int r = 0; r < reps && n < 64; r++) {\n"
    "        int k = 0; double t0 = now();\n"
    "        do generate(z, img), k++; while (now() - t0 < 0.05);\n"
    "        t[n++] = (now() - t0) / k;\n    }\n"
    "    qsort(t, n, sizeof t[0], cmp);\n"
    "    fwrite(img, sizeof(float), nout, stdout);\n"
    "    fprintf(stderr, \"%.6f\\n\", 1e3 * t[n / 2]);\n    return 0;\n}\n";

/* Median ms per image of G at batch 1 over reps rounds of >= 50 ms; writes the image to img. */
static double time_lib(gt_net *G, const float *z, int nz, float *img, int reps) {
    double t[64];
    int n = 0;
    bool prev = gt_no_grad_begin();
    for (int r = -1; r < reps && n < 64; r++) {
        int k = 0;
        double t0 = now();
        do {
            int m = gt_scope_begin();
            gt_tensor *x = gt_net_forward(G, gt_from_data(GT_SHAPE(1, nz), z), GT_BN_EVAL);
            if (x) gt_copy_to(x, img);
            gt_scope_end(m);
            k++;
        } while (now() - t0 < 0.05);
        if (r >= 0) t[n++] = (now() - t0) / k;
    }
    gt_grad_mode_restore(prev);
    qsort(t, n, sizeof t[0], cmp_d);
    return 1e3 * t[n / 2];
}

static double maxdiff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fabs((double)a[i] - b[i]) > m ? fabs((double)a[i] - b[i]) : m;
    return m;
}

static int bench(const char *dir, const char *name, int ngf, int reps) {
    gt_model_config c = gt_model_config_default("dcgan");
    c.res = 28, c.channels = 1, c.nz = 100;
    gt_model_opt_set(&c, "ngf", ngf);
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 3);
    if (gt_model_build(&c, GT_NET_G, &r, &G) != GT_OK || gt_recalibrate_bn(&G, 0x5EED, 2, 32) != GT_OK) {
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
    const int64_t no = gt_prog_out_numel(&p);
    float z[100], *ref = malloc(sizeof(float) * no), *img = malloc(sizeof(float) * no);
    for (int i = 0; i < 100; i++) z[i] = (float)sin(1.7 * i + 0.3) * 1.3f;
    char zf[1100];
    snprintf(zf, sizeof zf, "%s/z.bin", dir);
    FILE *f = fopen(zf, "wb");
    if (!f || fwrite(z, sizeof(float), 100, f) != 100 || fclose(f)) return 1;
    printf("# %s: dcgan 28 px, ngf %d: %.2f M MACs, %.3f M parameters, %s %ld bytes\n", name, ngf,
           gt_prog_macs(&p) / 1e6, gt_prog_params(&p) / 1e6, gen, (long)0);
    for (int th = 1; th <= 2; th++) {
        gt_set_num_threads(th);
        double ms = time_lib(&G, z, 100, ref, reps);
        printf("%s\tlibrary gt_net_forward, %d thread%s\t%.4f\t0\n", name, th, th > 1 ? "s" : "", ms);
        fflush(stdout);
    }
    const char *flags[2] = {"-O2", "-O3 -march=native"};
    for (int v = 0; v < 2; v++) {
        snprintf(exe, sizeof exe, "%s/%s_%d", dir, name, v);
        snprintf(cmd, sizeof cmd, "cc %s -std=c11 -Wall -Wextra -o %s %s %s/main.c -lm", flags[v], exe, gen, dir);
        double t0 = now();
        if (system(cmd) != 0) {
            fprintf(stderr, "bench_export: compiling failed: %s\n", cmd);
            return 1;
        }
        double tc = now() - t0;
        snprintf(cmd, sizeof cmd, "%s 100 %lld %d < %s > %s.out 2> %s.ms", exe, (long long)no, reps, zf, exe, exe);
        if (system(cmd) != 0) return 1;
        char p2[1200];
        snprintf(p2, sizeof p2, "%s.ms", exe);
        double ms = 0;
        f = fopen(p2, "r");
        if (!f || fscanf(f, "%lf", &ms) != 1) return 1;
        fclose(f);
        snprintf(p2, sizeof p2, "%s.out", exe);
        f = fopen(p2, "rb");
        if (!f || fread(img, sizeof(float), (size_t)no, f) != (size_t)no) return 1;
        fclose(f);
        printf("%s\texported C, cc %s (compiled in %.1f s)\t%.4f\t%.2g\n", name, flags[v], tc, ms, maxdiff(img, ref, no));
        fflush(stdout);
    }
    free(ref), free(img);
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
    const int reps = argc > 2 ? atoi(argv[2]) : 9;
    char mp[1100];
    snprintf(mp, sizeof mp, "%s/main.c", dir);
    if (gt_write_file_atomic(mp, main_src, strlen(main_src)) != GT_OK) {
        fprintf(stderr, "bench_export: %s\n", gt_last_error());
        return 1;
    }
    printf("config\tpath\tms_per_image\tmax_abs_diff_vs_library\n");
    int rc = bench(dir, "teacher_ngf64", 64, reps) || bench(dir, "student_ngf20", 20, reps);
    return rc;
}
