// ctest-labels: slow
/* The main job, end to end, as a user runs it: `gantry train` on Fashion-MNIST
 * with the demo's DCGAN (28 px, ngf = ndf = 32, EMA) for 2000 steps, logging
 * the FID (fmnist features, 2000 images a side) every 500 steps, then
 * `gantry eval` of the final checkpoint on 5000 samples against the test split.
 * What must hold: the GAN learns. The FID falls by a large factor from its
 * first measurement, ends below 100 (the demo logged 129 at step 1000 and 61
 * at 2000; an untrained generator scores several hundred), and the separate
 * `gantry eval` agrees with the run's own last measurement to within the
 * difference that other samples and other real images make.
 * About 2-3 minutes on 2 cores: label `slow` (scripts/test.sh's budgeted pass). */
#include <math.h>

#include "../cli/cli_util.h"

static const char *tp(const char *name) { return gt_test_path(name); }

static void test_dcgan_learns(void) {
    CHECK_CLI(0, NULL, "train", "--data", "fashion-mnist", "--model", "dcgan", "--res", "28", "--ngf", "32", "--ndf",
              "32", "--steps", "2000", "--lr-g", "2e-4", "--lr-d", "2e-4", "--ema", "0.999", "--seed", "0",
              "--sample-every", "1000", "--ckpt-every", "1000", "--eval-every", "500", "--eval-n", "2000",
              "--eval-extractor", "fmnist", "--out", tp("run"));
    size_t n = 0;
    char *log = (char *)gt_test_read_all(tp("run/metrics.jsonl"), &n);
    CHECK(log != NULL);
    double fid[8];
    int k = 0;
    for (const char *p = log; p && (p = strstr(p, "\"eval\":{\"fid\":")) && k < 8; p++)
        fid[k++] = strtod(p + strlen("\"eval\":{\"fid\":"), NULL);
    free(log);
    CHECK_MSG(k == 4, "%d FID lines in metrics.jsonl, expected 4 (steps 500..2000)", k);
    if (k != 4) return;
    fprintf(stderr, "  FID (fmnist, 2000 a side) at steps 500..2000: %.1f %.1f %.1f %.1f\n", fid[0], fid[1], fid[2],
            fid[3]);
    CHECK_MSG(fid[3] < 100 && fid[3] < fid[0] / 1.5, "the FID did not fall: %g -> %g", fid[0], fid[3]);
    CHECK_CLI(0, "FID", "eval", "--fake", tp("run/last.safetensors"), "--real", "fashion-mnist:test", "--n", "5000",
              "--extractor", "fmnist", "--quiet", "--no-cache", "--json", tp("eval.json"));
    char *js = (char *)gt_test_read_all(tp("eval.json"), &n);
    const char *f = js ? strstr(js, "\"frechet_inception_distance\":") : NULL;
    double fe = f ? strtod(f + strlen("\"frechet_inception_distance\":"), NULL) : NAN;
    free(js);
    fprintf(stderr, "  gantry eval, 5000 samples vs the test split: FID %.1f\n", fe);
    /* other samples (5000, not 2000) and other real images (test, not train): the same order, not the same value */
    CHECK_MSG(isfinite(fe) && fe < 100 && fe > fid[3] / 2 && fe < fid[3] * 2, "eval FID %g vs the run's %g", fe,
              fid[3]);
    /* the grid a user looks at */
    CHECK(access(tp("run/samples/last.png"), F_OK) == 0);
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built\n");
        return 1;
    }
    RUN(test_dcgan_learns);
    return gt_test_finish();
}
