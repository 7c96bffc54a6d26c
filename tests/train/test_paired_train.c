/* The pix2pix scheme on paired data trains A -> B with the data's A: a trainer on a paired dataset
 * whose A is replaced by the edges of its B takes the same steps as the edges task on the same B
 * (so A reaches every critic step, in the batcher's order), and the real A changes the steps; the
 * sample grid's inputs are the first items' A. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/harness.h"
#include "gantry/image.h"
#include "gantry/translate.h"

#define NIMG 16
#define S 28

/* Image i: A (left) a filled square, B (right) a filled disc. */
static uint8_t px(int i, int y, int x) {
    if (x < S) return (abs(y - 14) < 3 + i % 6 && abs(x - 14) < 3 + i % 6) ? 255 : 0;
    const int dx = x - S - 9 - i % 9, dy = y - 11 - i % 5;
    return dx * dx + dy * dy < 40 ? 255 : 0;
}

static gt_train_config tiny(void) {
    gt_train_config c = gt_train_config_default();
    c.model = gt_model_config_default("pix2pix");
    c.model.res = S, c.model.channels = 1;
    gt_model_opt_set(&c.model, "ngf", 4);
    gt_model_opt_set(&c.model, "ndf", 4);
    gt_model_opt_set(&c.model, "n_blocks", 1);
    c.batch = 4;
    c.n_critic = 2; /* two batches a step: the A of each */
    c.seed = 5;
    c.lr_g = c.lr_d = 2e-3;
    c.n_samples = 6;
    return c;
}

/* G's weights after 3 steps on ds (a copy the caller frees), and the sample grid's inputs. */
static float *train(gt_dataset *ds, gt_tensor **fixed) {
    gt_train_config c = tiny();
    gt_trainer t;
    float *w = NULL;
    gt_status st = gt_trainer_init(&t, &c, ds);
    for (int i = 0; i < 3 && st == GT_OK; i++) st = gt_trainer_step(&t, NULL);
    CHECK_MSG(st == GT_OK, "%s", gt_last_error());
    if (st == GT_OK && (w = malloc(sizeof(float) * (size_t)t.G.P.numel)))
        memcpy(w, gt_data(t.G.P.slab), sizeof(float) * (size_t)t.G.P.numel);
    *fixed = st == GT_OK ? gt_retain(t.fixed_z) : NULL;
    gt_trainer_free(&t);
    return w;
}

static void test_trains_on_a(void) {
    const char *dir = gt_test_path("pairs");
    mkdir(dir, 0700);
    uint8_t img[S * 2 * S];
    for (int i = 0; i < NIMG; i++) {
        for (int y = 0; y < S; y++)
            for (int x = 0; x < 2 * S; x++) img[y * 2 * S + x] = px(i, y, x);
        char p[800];
        snprintf(p, sizeof p, "%s/%02d.png", dir, i);
        CHECK(gt_png_write(p, img, 2 * S, S, 1) == GT_OK);
    }
    char spec[800];
    snprintf(spec, sizeof spec, "paired:%s", dir);
    gt_dataset *dp = gt_dataset_open(spec, S, 1, NULL), *de = gt_dataset_open(spec, S, 1, NULL),
               *du = gt_dataset_open(spec, S, 1, NULL);
    CHECK_MSG(dp && de && du, "%s", gt_last_error());
    if (!dp || !de || !du) return;
    /* de: A := the edges of B (exact in bytes: the edges are -1 or 1); du: unpaired, the same B */
    int m = gt_scope_begin();
    gt_tensor *e = gt_edges(gt_dataset_slice(de, 0, NIMG));
    for (int64_t i = 0; e && i < gt_numel(e); i++) de->pixels_a[i] = gt_data(e)[i] > 0 ? 255 : 0;
    gt_scope_end(m);
    free(du->pixels_a);
    du->pixels_a = NULL;
    gt_tensor *fp, *fe, *fu;
    float *wp = train(dp, &fp), *we = train(de, &fe), *wu = train(du, &fu);
    gt_trainer t0;
    gt_train_config c = tiny();
    const int64_t n = gt_trainer_init(&t0, &c, du) == GT_OK ? t0.G.P.numel : 0;
    gt_trainer_free(&t0);
    CHECK(wp && we && wu && n > 0);
    if (wp && we && wu && n > 0) {
        CHECK(gt_test_close_buf("A = edges(B) as the edges task", we, wu, n, 1e-5f, 1e-6f));
        double d = 0;
        for (int64_t i = 0; i < n; i++) d = fmax(d, fabs((double)wp[i] - wu[i]));
        CHECK_MSG(d > 1e-4, "the real A did not change the steps (max |dw| %g)", d);
    }
    m = gt_scope_begin();
    CHECK(fp && gt_test_close("grid inputs: the first items' A", fp, gt_dataset_slice_a(dp, 0, 6), 0, 0));
    CHECK(fe && fu && gt_test_close("grid inputs: edges", fe, fu, 0, 0));
    gt_scope_end(m);
    gt_release(fp), gt_release(fe), gt_release(fu);
    free(wp), free(we), free(wu);
    gt_dataset_free(dp), gt_dataset_free(de), gt_dataset_free(du);
}

int main(void) {
    RUN(test_trains_on_a);
    return gt_test_finish();
}
