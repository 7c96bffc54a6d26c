/* Paired folders (paired:DIR, pix2pix's A | B side by side): the halves split exactly (an identity
 * resample is a copy, so byte equality holds by construction), A and B stay paired through the
 * batcher's shuffles and shards, gt_translate_pair / gt_translate_input give the data's A (edges for
 * unpaired data), and bad folders fail clearly: odd widths naming the file, empty folders, no folder. */
#include "data_util.h"
#include "gantry/translate.h"

#define NIMG 10
#define SIDE 8

static char root[1024];

/* Image i's halves, gray SIDE x SIDE: A a gradient keyed by i, B another keyed by i. */
static uint8_t a_px(int i, int y, int x) { return (uint8_t)(20 * i + 2 * y + x); }
static uint8_t b_px(int i, int y, int x) { return (uint8_t)(250 - 20 * i - y - 2 * x); }

/* A (w x h, c channels) PNG whose left half is A and right half B (interleaved). */
static bool write_pair(const char *path, int i, int w, int h, int c) {
    uint8_t *p = malloc((size_t)w * h * c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                p[(y * w + x) * c + k] = (uint8_t)((x < w / 2 ? a_px(i, y, x) : b_px(i, y, x - w / 2)) + 3 * k);
    bool ok = gt_png_write(path, p, w, h, c) == GT_OK;
    free(p);
    return ok;
}

static void setup(void) {
    snprintf(root, sizeof root, "%s", tpath("pairs"));
    mkdir_p(root);
    for (int i = 0; i < NIMG; i++) CHECK(write_pair(tpath("pairs/p%02d.png", i), i, 2 * SIDE, SIDE, 1));
}

static char spec_buf[1100];
static const char *paired(const char *dir) {
    snprintf(spec_buf, sizeof spec_buf, "paired:%s", dir);
    return spec_buf;
}

static void test_split_exact(void) {
    gt_dataset *ds = gt_dataset_open(paired(root), 0, 0, NULL);
    CHECK_MSG(ds, "%s", gt_last_error());
    if (!ds) return;
    CHECK(ds->n == NIMG && ds->c == 1 && ds->h == SIDE && ds->w == SIDE && ds->pixels_a && !ds->labels);
    CHECK(ds->src_w == SIDE && ds->src_h == SIDE);
    int bad = 0;
    for (int i = 0; i < NIMG; i++)
        for (int y = 0; y < SIDE; y++)
            for (int x = 0; x < SIDE; x++) {
                const int64_t o = ((int64_t)i * SIDE + y) * SIDE + x;
                bad += ds->pixels_a[o] != a_px(i, y, x) || ds->pixels[o] != b_px(i, y, x);
            }
    CHECK_MSG(bad == 0, "%d pixels differ from the halves written", bad);
    /* slices: A and B of the same images, as floats p / 127.5 - 1 */
    int m = gt_scope_begin();
    gt_tensor *a = gt_dataset_slice_a(ds, 3, 2), *b = gt_dataset_slice(ds, 3, 2);
    CHECK(a && b && gt_numel(a) == 2 * SIDE * SIDE);
    if (a && b) {
        CHECK(gt_data(a)[0] == a_px(3, 0, 0) / 127.5f - 1.0f);
        CHECK(gt_data(b)[SIDE * SIDE + 1] == b_px(4, 0, 1) / 127.5f - 1.0f);
    }
    gt_scope_end(m);
    gt_dataset_free(ds);
    /* the same folder unpaired: whole images, no A */
    ds = gt_dataset_open(root, 0, 0, NULL);
    CHECK(ds && !ds->pixels_a && ds->w == 2 * SIDE);
    CHECK(ds && !gt_dataset_slice_a(ds, 0, 1) && strstr(gt_last_error(), "not paired"));
    gt_dataset_free(ds);
    /* 3 channels from gray halves: each half repeated (exact), a limit and an offset as folders */
    gt_dataset_opts o = {.offset = 2, .limit = 3};
    ds = gt_dataset_open(paired(root), SIDE, 3, &o);
    CHECK_MSG(ds, "%s", gt_last_error());
    if (ds) {
        CHECK(ds->n == 3 && ds->c == 3);
        const int64_t hw = SIDE * SIDE;
        CHECK(ds->pixels_a[2 * hw + 5] == a_px(2, 0, 5) && ds->pixels[3 * hw + 2 * hw + 9] == b_px(3, 1, 1));
    }
    gt_dataset_free(ds);
}

static void test_rgb_and_resize(void) {
    const char *dir = tpath("rgb");
    mkdir_p(dir);
    CHECK(write_pair(tpath("rgb/x.png"), 1, 2 * SIDE, SIDE, 3));
    CHECK(write_pair(tpath("rgb/y.png"), 2, 4 * SIDE, 2 * SIDE, 3)); /* a larger pair: brought to the same size */
    gt_dataset *ds = gt_dataset_open(paired(dir), SIDE, 0, NULL);
    CHECK_MSG(ds, "%s", gt_last_error());
    if (!ds) return;
    const int64_t hw = SIDE * SIDE;
    CHECK(ds->n == 2 && ds->c == 3 && ds->h == SIDE && ds->w == SIDE);
    /* image 0 at its own size: channel k of each half exact (planar) */
    CHECK(ds->pixels_a[2 * hw + 1 * SIDE + 4] == (uint8_t)(a_px(1, 1, 4) + 6));
    CHECK(ds->pixels[1 * hw + 7] == (uint8_t)(b_px(1, 0, 7) + 3));
    /* image 1 downsampled 2x: each half from its own half only (A values stay near A's, B's near B's) */
    int far = 0;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            const int64_t o = 3 * hw + y * SIDE + x;
            far += abs((int)ds->pixels_a[o] - (int)a_px(2, 2 * y, 2 * x)) > 3;
            far += abs((int)ds->pixels[o] - (int)b_px(2, 2 * y, 2 * x)) > 4;
        }
    CHECK_MSG(far == 0, "%d resampled pixels far from their own half", far);
    gt_dataset_free(ds);
}

static void test_pairs_through_batcher(void) {
    gt_dataset *ds = gt_dataset_open(paired(root), 0, 0, NULL);
    if (!ds) return;
    gt_batcher *bt = gt_batcher_new(ds, 4, 11, NULL), *plain = gt_batcher_new(ds, 4, 11, NULL);
    const int64_t per = SIDE * SIDE;
    int unpaired = 0, moved = 0, differ = 0;
    for (int step = 0; step < 6; step++) { /* 3 epochs of 2 batches */
        int m = gt_scope_begin();
        gt_tensor *x, *a, *xp;
        CHECK(gt_batcher_next_pair(bt, &x, NULL, &a) == GT_OK && a);
        CHECK(gt_batcher_next(plain, &xp, NULL) == GT_OK); /* the same order as without A */
        if (!a) {
            gt_scope_end(m);
            break;
        }
        for (int64_t k = 0; k < 4; k++) {
            /* which image is row k: B's first pixel names it, A's must be the same image's */
            const float *pb = gt_data(x) + k * per, *pa = gt_data(a) + k * per;
            int i = -1;
            for (int j = 0; j < NIMG; j++)
                if (pb[0] == b_px(j, 0, 0) / 127.5f - 1.0f) i = j;
            unpaired += i < 0 || memcmp(pa, gt_data(gt_dataset_slice_a(ds, i, 1)), sizeof(float) * per) != 0;
            moved += i != (int)((step % 2) * 4 + k);
        }
        differ += memcmp(gt_data(x), gt_data(xp), sizeof(float) * 4 * per) != 0;
        gt_scope_end(m);
    }
    CHECK_MSG(unpaired == 0, "%d rows whose A is not their B's", unpaired);
    CHECK(moved > 0);   /* it did shuffle */
    CHECK(differ == 0); /* and B's order is the unpaired call's */
    /* shards: the rows [1, 3) of each batch, still paired */
    CHECK(gt_batcher_set_shard(bt, 1, 2) == GT_OK);
    int m = gt_scope_begin();
    gt_tensor *x, *a;
    CHECK(gt_batcher_next_pair(bt, &x, NULL, &a) == GT_OK && a && a->shape[0] == 2);
    for (int64_t k = 0; a && k < 2; k++) {
        int i = -1;
        for (int j = 0; j < NIMG; j++)
            if (gt_data(x)[k * per] == b_px(j, 0, 0) / 127.5f - 1.0f) i = j;
        CHECK(i >= 0 && gt_data(a)[k * per + per - 1] == a_px(i, SIDE - 1, SIDE - 1) / 127.5f - 1.0f);
    }
    gt_scope_end(m);
    gt_batcher_free(bt), gt_batcher_free(plain);
    /* an unpaired dataset: *a is NULL */
    gt_dataset *un = gt_dataset_open(root, 0, 0, NULL);
    gt_batcher *bu = un ? gt_batcher_new(un, 2, 1, NULL) : NULL;
    m = gt_scope_begin();
    a = (gt_tensor *)1;
    CHECK(bu && gt_batcher_next_pair(bu, &x, NULL, &a) == GT_OK && a == NULL);
    gt_scope_end(m);
    gt_batcher_free(bu);
    gt_dataset_free(un);
    gt_dataset_free(ds);
}

static void test_translate_pair(void) {
    gt_dataset *ds = gt_dataset_open(paired(root), 0, 0, NULL);
    gt_dataset *un = gt_dataset_open(root, SIDE, 1, NULL);
    if (!ds || !un) return;
    int m = gt_scope_begin();
    gt_tensor *a, *b;
    CHECK(gt_translate_pair(ds, 4, 3, &a, &b) == GT_OK);
    CHECK(gt_test_close("paired A", a, gt_dataset_slice_a(ds, 4, 3), 0, 0));
    CHECK(gt_test_close("paired B", b, gt_dataset_slice(ds, 4, 3), 0, 0));
    /* unpaired: the edges task */
    CHECK(gt_translate_pair(un, 0, 2, &a, &b) == GT_OK);
    CHECK(gt_test_close("edges A", a, gt_edges(gt_dataset_slice(un, 0, 2)), 0, 0));
    CHECK(gt_translate_input(b, NULL) && gt_translate_input(b, a) == a);
    CHECK(!gt_translate_input(b, gt_dataset_slice(un, 0, 1)) && strstr(gt_last_error(), "inputs A"));
    CHECK(gt_translate_pair(ds, 8, 3, &a, &b) != GT_OK); /* past the end */
    /* the first n of a spec at a model's size */
    CHECK(gt_translate_pair_open(paired(root), 2, SIDE, 1, "--n", &a, &b) == GT_OK && a->shape[0] == 2);
    CHECK(gt_translate_pair_open(paired(root), 40, SIDE, 1, "--n", &a, NULL) != GT_OK &&
          strstr(gt_last_error(), "fewer than --n 40"));
    gt_scope_end(m);
    gt_dataset_free(ds), gt_dataset_free(un);
}

static void test_errors(void) {
    /* an odd width: a clear error naming the file; --skip-bad-images leaves it out */
    const char *dir = tpath("odd");
    mkdir_p(dir);
    CHECK(write_pair(tpath("odd/a.png"), 0, 2 * SIDE, SIDE, 1));
    CHECK(write_pair(tpath("odd/b.png"), 1, 2 * SIDE + 1, SIDE, 1));
    CHECK(write_pair(tpath("odd/c.png"), 2, 2 * SIDE, SIDE, 1));
    CHECK(!gt_dataset_open(paired(dir), 0, 0, NULL));
    CHECK_ERR_NAMES("odd/b.png", "odd width");
    CHECK(strstr(gt_last_error(), "17 x 8"));
    gt_dataset_opts o = {.skip_bad = true};
    gt_dataset *ds = gt_dataset_open(paired(dir), 0, 0, &o);
    CHECK_MSG(ds && ds->n == 2 && ds->skipped == 1, "%s", ds ? "wrong count" : gt_last_error());
    /* what is left is still paired: image 1 of the two is c.png */
    CHECK(ds && ds->pixels_a[SIDE * SIDE] == a_px(2, 0, 0) && ds->pixels[SIDE * SIDE] == b_px(2, 0, 0));
    gt_dataset_free(ds);
    /* a 1-pixel-wide image has no halves */
    const char *one = tpath("one");
    mkdir_p(one);
    CHECK(write_pair(tpath("one/z.png"), 0, 1, SIDE, 1));
    CHECK(!gt_dataset_open(paired(one), 0, 0, NULL));
    CHECK_ERR_NAMES("one/z.png", "odd width");
    /* an empty folder, no folder at all, no name */
    const char *empty = tpath("empty");
    mkdir_p(empty);
    CHECK(!gt_dataset_open(paired(empty), 0, 0, NULL));
    CHECK_ERR_NAMES(empty, "no .png");
    CHECK(!gt_dataset_open(paired(tpath("missing")), 0, 0, NULL));
    CHECK_ERR_NAMES("missing", "not a folder");
    CHECK(!gt_dataset_open("paired:", 0, 0, NULL));
    CHECK_ERR_NAMES("paired:", "needs a folder");
    CHECK(gt_dataset_spec_is_paired("paired:x") && !gt_dataset_spec_is_paired("fashion-mnist") &&
          !gt_dataset_spec_is_paired(NULL));
}

int main(void) {
    setup();
    RUN(test_split_exact);
    RUN(test_rgb_and_resize);
    RUN(test_pairs_through_batcher);
    RUN(test_translate_pair);
    RUN(test_errors);
    return gt_test_finish();
}
