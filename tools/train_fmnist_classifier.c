/* tools/train_fmnist_classifier.c - trains the Fashion-MNIST domain evaluator
 * (gantry/fmnist.h) with gantry itself and writes its weights:
 *
 *   build/train_fmnist_classifier [--epochs 6] [--batch 128] [--lr 2e-3] [--seed 1]
 *       [--no-flip] [--limit N] [--threads T] [--fid] [--out assets/fmnist_classifier.safetensors]
 *
 * Recipe: Adam (betas 0.9, 0.999), learning rate lr, cosine-decayed to 0 over
 * all steps after a short linear warm-up; cross-entropy; batches from a
 * Philox permutation per epoch (gt_data_permutation); each image is mirrored
 * left-right with probability 1/2 (not with --no-flip). Inputs v / 255 on 28 x 28,
 * as the extractor feeds them. At the end: accuracy on fashion-mnist:test
 * (10000 images), and with --fid FID(fashion-mnist:train, fashion-mnist:test)
 * on the classifier's features; both go into the file's metadata with the
 * recipe. The file is written atomically. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gantry.h"
#include "gantry/fmnist.h"

typedef struct {
    int epochs, batch;
    double lr;
    uint64_t seed;
    bool flip, fid;
    int64_t limit;
    int threads;
    const char *out;
} opts_t;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "train_fmnist_classifier: %s: %s\n", what, gt_last_error());
    exit(1);
}

static void usage(void) {
    fprintf(stderr, "usage: train_fmnist_classifier [--epochs N] [--batch B] [--lr LR] [--seed S] [--no-flip] "
                    "[--limit N] [--threads T] [--fid] [--out FILE]\n");
    exit(2);
}

static long long parse_int(const char *flag, const char *v, long long lo, long long hi) {
    char *end;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi) {
        fprintf(stderr, "train_fmnist_classifier: %s needs an integer in [%lld, %lld], got '%s'\n", flag, lo, hi,
                v ? v : "(nothing)");
        exit(2);
    }
    return x;
}

static opts_t parse(int argc, char **argv) {
    opts_t o = {.epochs = 6, .batch = 128, .lr = 2e-3, .seed = 1, .flip = true, .fid = false, .limit = 0,
                .threads = 0, .out = "assets/" GT_FMNIST_WEIGHTS_FILE};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--epochs")) o.epochs = (int)parse_int(a, v, 1, 1000), i++;
        else if (!strcmp(a, "--batch")) o.batch = (int)parse_int(a, v, 1, 65536), i++;
        else if (!strcmp(a, "--seed")) o.seed = (uint64_t)parse_int(a, v, 0, (long long)1 << 62), i++;
        else if (!strcmp(a, "--limit")) o.limit = parse_int(a, v, 0, 60000), i++;
        else if (!strcmp(a, "--threads")) o.threads = (int)parse_int(a, v, 0, 256), i++;
        else if (!strcmp(a, "--flip")) o.flip = true;
        else if (!strcmp(a, "--no-flip")) o.flip = false;
        else if (!strcmp(a, "--fid")) o.fid = true;
        else if (!strcmp(a, "--out") && v) o.out = v, i++;
        else if (!strcmp(a, "--lr") && v) {
            char *end;
            o.lr = strtod(v, &end);
            if (*end || !(o.lr > 0 && o.lr < 1)) {
                fprintf(stderr, "train_fmnist_classifier: --lr must be in (0, 1), got '%s'\n", v);
                exit(2);
            }
            i++;
        } else usage();
    }
    return o;
}

/* Images perm[s .. s+b) as x (b, 1, 28, 28) = v / 255 (mirrored when flip
 * draws so) and labels y (b). */
static void make_batch(const gt_dataset *ds, const int64_t *perm, int64_t s, int64_t b, bool flip, gt_rng *rng,
                       float *x, int32_t *y) {
    const int S = GT_FMNIST_SIZE;
    float u[65536];
    if (flip) gt_rng_uniform(rng, u, b, 0.0f, 1.0f);
    for (int64_t i = 0; i < b; i++) {
        int64_t k = perm[s + i];
        const uint8_t *p = gt_dataset_image(ds, k);
        float *d = x + i * S * S;
        bool m = flip && u[i] < 0.5f;
        for (int r = 0; r < S; r++)
            for (int c = 0; c < S; c++) d[r * S + c] = (float)p[r * S + (m ? S - 1 - c : c)] / 255.0f;
        y[i] = ds->labels[k];
    }
}

static double accuracy(gt_fmnist *net, const gt_dataset *ds, float **logits_out) {
    float *logits = malloc(sizeof(float) * (size_t)ds->n * GT_FMNIST_CLASSES);
    if (!logits) {
        fprintf(stderr, "train_fmnist_classifier: out of memory\n");
        exit(1);
    }
    if (gt_fmnist_extract(net, ds->pixels, ds->n, ds->c, ds->h, ds->w, 0, NULL, logits)) die("evaluation");
    int64_t ok = 0;
    for (int64_t i = 0; i < ds->n; i++) {
        const float *l = logits + i * GT_FMNIST_CLASSES;
        int best = 0;
        for (int k = 1; k < GT_FMNIST_CLASSES; k++)
            if (l[k] > l[best]) best = k;
        ok += best == ds->labels[i];
    }
    if (logits_out) *logits_out = logits;
    else free(logits);
    return (double)ok / (double)ds->n;
}

/* libgomp's spinning waiters steal the cores from OpenBLAS and from each
 * other on a busy 2-core machine (training ran >10x slower); it reads
 * OMP_WAIT_POLICY once at load, so set it and start again (as cli/main.c). */
static void passive_openmp(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv);
}

int main(int argc, char **argv) {
    passive_openmp(argv);
    opts_t o = parse(argc, argv);
    if (o.threads) gt_set_num_threads(o.threads);
    gt_dataset_opts dopt = {.limit = o.limit};
    gt_dataset *train = gt_dataset_open("fashion-mnist:train", GT_FMNIST_SIZE, 1, &dopt);
    if (!train) die("fashion-mnist:train");
    gt_dataset *test = gt_dataset_open("fashion-mnist:test", GT_FMNIST_SIZE, 1, NULL);
    if (!test) die("fashion-mnist:test");
    if (!train->labels || !test->labels) {
        fprintf(stderr, "train_fmnist_classifier: the Fashion-MNIST files have no labels\n");
        return 1;
    }
    if (o.batch > train->n) o.batch = (int)train->n;

    gt_fmnist *net = gt_fmnist_new(o.seed);
    if (!net) die("building the network");
    gt_params *P = gt_fmnist_params(net);
    gt_adam opt;
    if (gt_adam_init(&opt, P, o.lr, 0.9, 0.999, 1e-8, 0.0)) die("adam");
    gt_rng aug_rng;
    gt_rng_init(&aug_rng, o.seed * 2 + 1);

    const int64_t n = train->n, per_epoch = n / o.batch, total = per_epoch * o.epochs;
    const int64_t warmup = total / 50 > 0 ? total / 50 : 1;
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)n);
    float *xb = malloc(sizeof(float) * (size_t)o.batch * GT_FMNIST_SIZE * GT_FMNIST_SIZE);
    int32_t *yb = malloc(sizeof(int32_t) * (size_t)o.batch);
    if (!perm || !xb || !yb) {
        fprintf(stderr, "train_fmnist_classifier: out of memory\n");
        return 1;
    }
    printf("training %s on %lld images: %d epochs x %lld steps, batch %d, Adam lr %g (warm-up %lld, cosine), "
           "flip %s, seed %llu\n",
           GT_FMNIST_ARCH, (long long)n, o.epochs, (long long)per_epoch, o.batch, o.lr, (long long)warmup,
           o.flip ? "on" : "off", (unsigned long long)o.seed);
    double t0 = now_s();
    clock_t c0 = clock();
    int64_t step = 0;
    for (int e = 0; e < o.epochs; e++) {
        gt_data_permutation(o.seed, e, n, perm);
        gt_fmnist_set_training(net, true);
        double loss_sum = 0.0;
        int64_t correct = 0;
        for (int64_t s = 0; s + o.batch <= n; s += o.batch, step++) {
            const double pi = 3.14159265358979323846, t = (double)(step - warmup) / (double)(total - warmup);
            double lr = step < warmup ? o.lr * (double)(step + 1) / (double)warmup : 0.5 * o.lr * (1.0 + cos(pi * t));
            opt.lr = lr;
            int mk = gt_scope_begin();
            make_batch(train, perm, s, o.batch, o.flip, &aug_rng, xb, yb);
            gt_tensor *x = gt_from_data(4, (int64_t[]){o.batch, 1, GT_FMNIST_SIZE, GT_FMNIST_SIZE}, xb);
            gt_tensor *y = gt_from_i32(1, (int64_t[]){o.batch}, yb);
            gt_tensor *logits = NULL;
            if (!x || !y || gt_params_zero_grad(P) || gt_fmnist_forward(net, x, NULL, &logits)) die("forward");
            gt_tensor *loss = gt_cross_entropy(logits, y);
            if (!loss || gt_backward(loss) || gt_adam_step(&opt)) die("training step");
            double l = gt_item(loss);
            if (!isfinite(l)) {
                fprintf(stderr, "train_fmnist_classifier: the loss became %g at step %lld\n", l, (long long)step);
                return 1;
            }
            loss_sum += l;
            const float *lg = gt_data(logits);
            for (int i = 0; i < o.batch; i++) {
                int best = 0;
                for (int k = 1; k < GT_FMNIST_CLASSES; k++)
                    if (lg[i * GT_FMNIST_CLASSES + k] > lg[i * GT_FMNIST_CLASSES + best]) best = k;
                correct += best == yb[i];
            }
            gt_scope_end(mk);
            if ((step + 1) % 50 == 0) {
                double el = now_s() - t0;
                printf("  epoch %d step %lld/%lld loss %.4f lr %.2e  %.0f img/s  %.0f s\n", e + 1,
                       (long long)(step + 1), (long long)total, loss_sum / (double)(s / o.batch + 1), lr,
                       (double)(step + 1) * o.batch / el, el);
                fflush(stdout);
            }
        }
        double acc = accuracy(net, test, NULL);
        printf("epoch %d: train loss %.4f, train acc %.4f, test acc %.4f (%.0f s)\n", e + 1,
               loss_sum / (double)per_epoch, (double)correct / (double)(per_epoch * o.batch), acc, now_s() - t0);
        fflush(stdout);
    }
    double train_s = now_s() - t0, train_cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    gt_fmnist_set_training(net, false);
    double acc = accuracy(net, test, NULL);
    printf("test accuracy %.4f (%lld images), trained in %.0f s (%.0f s of CPU time)\n", acc, (long long)test->n,
           train_s, train_cpu);

    char fid_s[64] = "";
    if (o.fid) {
        double t1 = now_s();
        float *ftr = malloc(sizeof(float) * (size_t)train->n * GT_FMNIST_FEATURE_DIM);
        float *fte = malloc(sizeof(float) * (size_t)test->n * GT_FMNIST_FEATURE_DIM);
        double fid = 0.0;
        if (!ftr || !fte) die("out of memory");
        if (gt_fmnist_extract(net, train->pixels, train->n, 1, GT_FMNIST_SIZE, GT_FMNIST_SIZE, 0, ftr, NULL) ||
            gt_fmnist_extract(net, test->pixels, test->n, 1, GT_FMNIST_SIZE, GT_FMNIST_SIZE, 0, fte, NULL) ||
            gt_metric_fid_features(ftr, train->n, fte, test->n, GT_FMNIST_FEATURE_DIM, &fid))
            die("FID");
        snprintf(fid_s, sizeof fid_s, "%.6f", fid);
        printf("FID(fashion-mnist:train %lld, fashion-mnist:test %lld) = %s with these features (%.1f s)\n",
               (long long)train->n, (long long)test->n, fid_s, now_s() - t1);
        free(ftr);
        free(fte);
    }

    char acc_s[32], recipe[512], secs[32], cpu_s[32], ntrain[32];
    snprintf(acc_s, sizeof acc_s, "%.4f", acc);
    snprintf(secs, sizeof secs, "%.0f", train_s);
    snprintf(cpu_s, sizeof cpu_s, "%.0f", train_cpu);
    snprintf(ntrain, sizeof ntrain, "%lld", (long long)n);
    snprintf(recipe, sizeof recipe,
             "{\"data\": \"fashion-mnist:train\", \"images\": %lld, \"input\": \"v/255, 28x28\", "
             "\"optimizer\": \"adam\", \"lr\": %g, \"betas\": [0.9, 0.999], \"schedule\": \"linear warm-up %lld steps, "
             "cosine to 0\", \"epochs\": %d, \"batch\": %d, \"loss\": \"cross_entropy\", "
             "\"augment\": \"%s\", \"seed\": %llu}",
             (long long)n, o.lr, (long long)warmup, o.epochs, o.batch, o.flip ? "horizontal flip p=0.5" : "none",
             (unsigned long long)o.seed);
    const char *keys[] = {"test_accuracy", "test_data", "recipe", "train_seconds", "train_cpu_seconds",
                          "train_images", "feature_dim", "feature_layer", "fid_train_test"};
    const char *vals[] = {acc_s, "fashion-mnist:test (10000)", recipe, secs, cpu_s, ntrain, "128", "relu(fc1)", fid_s};
    if (gt_fmnist_save(net, o.out, o.fid ? 9 : 8, keys, vals)) die(o.out);
    printf("wrote %s\n", o.out);

    free(perm);
    free(xb);
    free(yb);
    gt_adam_free(&opt);
    gt_fmnist_free(net);
    gt_dataset_free(train);
    gt_dataset_free(test);
    return 0;
}
