/* Inception-v3 feature extraction, gantry vs PyTorch in the same run with the
 * same weights and the same uint8 images: TF1 resize to 299, normalisation,
 * the network (64/192/768/2048-d features and both logits), batch 50.
 *
 *   bench_inception [--batch 50] [--threads 2] [--reps 2] [--chunk 0] [--no-torch]
 *
 * The weights are random (bench_inception.py writes them as safetensors, this
 * program loads them with gt_inception_load); PyTorch's pool features are
 * compared with ours as a check that both ran the same network. Timings: the
 * best of --reps batches after a warm-up. Run through bench/run_bench_inception.sh. */
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "gantry.h"

static double loadavg(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

typedef struct {
    const char *label;
    int c, h, w;
} bench_input;

/* Best images/s of gantry over reps batches; the last batch's pool2048 into pool. */
static double time_gantry(gt_inception *net, const uint8_t *img, int n, const bench_input *in, int reps, float *pool) {
    double best = INFINITY;
    gt_inception_outputs o;
    int m = gt_scope_begin();
    if (gt_inception_extract(net, img, 2, in->c, in->h, in->w, GT_RESIZE_TF1, GT_INCEPTION_ALL, n, &o)) { /* warm-up */
        fprintf(stderr, "bench_inception: %s\n", gt_last_error());
        exit(1);
    }
    gt_scope_end(m);
    for (int r = 0; r < reps; r++) {
        m = gt_scope_begin();
        double t = now();
        gt_status st = gt_inception_extract(net, img, n, in->c, in->h, in->w, GT_RESIZE_TF1, GT_INCEPTION_ALL, n, &o);
        double dt = now() - t;
        if (st) {
            fprintf(stderr, "bench_inception: %s\n", gt_last_error());
            exit(1);
        }
        best = fmin(best, dt);
        gt_copy_to(o.pool2048, pool);
        gt_scope_end(m);
    }
    return n / best;
}

/* PyTorch on the same images: images/s, and its pool2048 into pool. -1 when it fails. */
static double time_torch(const char *dir, const char *tmp, const char *weights, const uint8_t *img, int n,
                         const bench_input *in, int reps, int threads, float *pool) {
    char ipath[512], fpath[512], cmd[4096], line[256];
    snprintf(ipath, sizeof ipath, "%s/bench_inception_images.bin", tmp);
    snprintf(fpath, sizeof fpath, "%s/bench_inception_pool.bin", tmp);
    FILE *f = fopen(ipath, "wb");
    if (!f) return -1;
    fwrite(img, 1, (size_t)n * in->c * in->h * in->w, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/bench_inception.py time %s %s %d %d %d %d %d %d %s", dir, weights,
             ipath, n, in->c, in->h, in->w, reps, threads, fpath);
    FILE *p = popen(cmd, "r");
    double ips = -1;
    while (p && fgets(line, sizeof line, p))
        if (sscanf(line, "torch_img_s=%lf", &ips) == 1) break;
    if (!p || pclose(p) != 0) ips = -1;
    f = fopen(fpath, "rb");
    if (!f || fread(pool, sizeof(float), (size_t)n * 2048, f) != (size_t)n * 2048) ips = -1;
    if (f) fclose(f);
    remove(ipath);
    remove(fpath);
    return ips;
}

int main(int argc, char **argv) {
    int batch = 50, threads = 2, reps = 2, chunk = 0, torch = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) chunk = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-torch")) torch = 0;
        else {
            fprintf(stderr, "usage: %s [--batch 50] [--threads 2] [--reps 2] [--chunk 0] [--no-torch]\n", argv[0]);
            return 2;
        }
    }
    if (batch < 2 || threads < 1 || reps < 1) {
        fprintf(stderr, "bench_inception: --batch must be >= 2, --threads and --reps >= 1\n");
        return 2;
    }
    gt_set_num_threads(threads);
    char dir[512]; /* this file's folder (CMake compiles with absolute paths), holding bench_inception.py */
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, "bench");
    char tmp[] = "/tmp/gantry-bench-XXXXXX", weights[600], cmd[1400];
    if (!mkdtemp(tmp)) return 1;
    snprintf(weights, sizeof weights, "%s/inception_random.safetensors", tmp);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/bench_inception.py weights %s", dir, weights);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_inception: writing the weights failed: %s\n", cmd);
        return 1;
    }
    gt_inception *net = gt_inception_new();
    if (!net || gt_inception_load(net, weights) != GT_OK) {
        fprintf(stderr, "bench_inception: %s\n", gt_last_error());
        return 1;
    }
    gt_inception_set_chunk(net, chunk);

    const bench_input inputs[2] = {{"uint8 3x299x299 (RGB)", 3, 299, 299},
                                   {"uint8 1x28x28 (Fashion-MNIST size)", 1, 28, 28}};
    double l0 = loadavg();
    printf("Inception-v3 feature extraction (TF1 resize, 64/192/768/2048-d + logits), batch %d, %d threads, same "
           "weights\n\n",
           batch, threads);
    printf("| input | gantry img/s | PyTorch img/s | ratio | pool2048 max rel err |\n|---|---|---|---|---|\n");
    for (int k = 0; k < 2; k++) {
        const bench_input *in = &inputs[k];
        size_t nb = (size_t)batch * in->c * in->h * in->w;
        uint8_t *img = malloc(nb);
        float *pg = malloc(sizeof(float) * 2048 * (size_t)batch), *pt = malloc(sizeof(float) * 2048 * (size_t)batch);
        uint64_t s = 0x9E3779B97F4A7C15ull + (uint64_t)k;
        for (size_t i = 0; i < nb; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            img[i] = (uint8_t)(s >> 24);
        }
        double g = time_gantry(net, img, batch, in, reps, pg);
        double t = torch ? time_torch(dir, tmp, weights, img, batch, in, reps, threads, pt) : -1;
        double md = 0, mb = 0;
        for (int i = 0; t > 0 && i < 2048 * batch; i++) {
            md = fmax(md, fabs((double)pg[i] - pt[i]));
            mb = fmax(mb, fabs((double)pt[i]));
        }
        if (t > 0)
            printf("| %s | %.2f | %.2f | %.2fx | %.1e |\n", in->label, g, t, g / t, mb > 0 ? md / mb : md);
        else
            printf("| %s | %.2f | - | - | - |\n", in->label, g);
        fflush(stdout);
        free(img);
        free(pg);
        free(pt);
    }
    printf("\nload average (1 min) at start %.2f, at end %.2f (the machine has 2 cores; other work skews both sides)\n",
           l0, loadavg());
    gt_inception_free(net);
    remove(weights);
    rmdir(tmp);
    return 0;
}
