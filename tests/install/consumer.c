/* consumer.c - a program built against an installed libgantry (test_install.sh
 * compiles it with `pkg-config --static --cflags --libs gantry`, outside the
 * source and build trees). Uses the public API only:
 *   - a matrix product (OpenBLAS) checked against its exact values;
 *   - the fmnist classifier loaded from the installed weights (argv[1]) that
 *     classifies the first argv[2] Fashion-MNIST test images (zlib-compressed IDX,
 *     OpenMP): the accuracy must be above argv[3].
 * Prints one line per check; exit status 0 only when every check passed. */
#include <gantry.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what) {
    fprintf(stderr, "consumer: %s: %s\n", what, gt_last_error());
    return 1;
}

static int check_matmul(void) {
    const float a[] = {1, 2, 3, 4, 5, 6};    /* (2, 3) */
    const float b[] = {7, 8, 9, 10, 11, 12}; /* (3, 2) */
    const float want[] = {58, 64, 139, 154};
    int m = gt_scope_begin();
    gt_tensor *ta = gt_from_data(GT_SHAPE(2, 3), a), *tb = gt_from_data(GT_SHAPE(3, 2), b);
    gt_tensor *c = ta && tb ? gt_matmul(ta, tb) : NULL;
    float got[4] = {0};
    int bad = !c || gt_numel(c) != 4 || gt_copy_to(c, got) != GT_OK;
    for (int i = 0; i < 4 && !bad; i++) bad = fabsf(got[i] - want[i]) > 1e-4f;
    gt_scope_end(m);
    if (bad) {
        fprintf(stderr, "consumer: matmul gave [%g %g; %g %g], want [58 64; 139 154] (%s)\n", got[0], got[1],
                got[2], got[3], gt_last_error());
        return 1;
    }
    printf("matmul: [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [%g %g; %g %g]\n", got[0], got[1], got[2], got[3]);
    return 0;
}

static int check_fmnist(const char *weights, int64_t n, double min_acc) {
    gt_fmnist *net = gt_fmnist_new(0);
    if (!net) return fail("gt_fmnist_new");
    if (gt_fmnist_load(net, weights) != GT_OK) {
        gt_fmnist_free(net);
        return fail("gt_fmnist_load");
    }
    gt_dataset_opts o = {.limit = n};
    gt_dataset *ds = gt_dataset_open("fashion-mnist:test", 0, 1, &o);
    if (!ds) {
        gt_fmnist_free(net);
        return fail("gt_dataset_open");
    }
    float *logits = malloc((size_t)ds->n * GT_FMNIST_CLASSES * sizeof *logits);
    int rc = 0;
    if (!logits || !ds->labels) {
        fprintf(stderr, "consumer: out of memory or no labels\n");
        rc = 1;
    } else if (gt_fmnist_extract(net, ds->pixels, ds->n, ds->c, ds->h, ds->w, 0, NULL, logits) != GT_OK) {
        rc = fail("gt_fmnist_extract");
    } else {
        int64_t right = 0;
        for (int64_t i = 0; i < ds->n; i++) {
            const float *l = logits + i * GT_FMNIST_CLASSES;
            int best = 0;
            for (int k = 1; k < GT_FMNIST_CLASSES; k++)
                if (l[k] > l[best]) best = k;
            right += best == ds->labels[i];
        }
        double acc = (double)right / (double)ds->n;
        printf("fmnist: %lld of %lld test images classified right (accuracy %.4f, want > %.2f)\n",
               (long long)right, (long long)ds->n, acc, min_acc);
        rc = ds->n == n && acc > min_acc ? 0 : 1;
    }
    free(logits);
    gt_dataset_free(ds);
    gt_fmnist_free(net);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: consumer WEIGHTS N MIN_ACCURACY\n");
        return 2;
    }
    int rc = check_matmul();
    rc |= check_fmnist(argv[1], atoll(argv[2]), atof(argv[3]));
    return rc;
}
