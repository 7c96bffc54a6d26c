/* PNG writing: write-read round trips, atomic replacement (no temp files left,
 * a failed write leaves the old file), sample grids vs a torch rewrite of
 * torchvision's make_grid + save_image (exact) and the written PNG read back by
 * PIL (exact), strided input, JPEG round trip (approximate), and errors. */
#include <dirent.h>

#include "data_util.h"

static int count_tmp_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

static void test_round_trip(void) {
    const int sizes[][3] = {{1, 1, 1}, {7, 5, 1}, {33, 17, 3}, {256, 3, 3}, {2, 300, 1}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int w = sizes[s][0], h = sizes[s][1], c = sizes[s][2];
        uint8_t *p = malloc((size_t)w * h * c);
        for (int i = 0; i < w * h * c; i++) p[i] = (uint8_t)(i * 131 + s * 17 + (i >> 3));
        const char *path = tpath("rt_%zu.png", s);
        CHECK_MSG(gt_png_write(path, p, w, h, c) == GT_OK, "%s", gt_last_error());
        gt_image img;
        CHECK_MSG(gt_image_load(path, &img) == GT_OK, "%s", gt_last_error());
        CHECK(img.w == w && img.h == h && img.c == c && memcmp(img.data, p, (size_t)w * h * c) == 0);
        gt_image_free(&img);
        free(p);
    }
    CHECK(count_tmp_files(gt_test_tmpdir()) == 0);
}

static void test_atomic(void) {
    uint8_t a[4 * 4], b[4 * 4];
    memset(a, 10, sizeof a);
    memset(b, 200, sizeof b);
    const char *path = tpath("atomic.png");
    CHECK(gt_png_write(path, a, 4, 4, 1) == GT_OK);
    CHECK(gt_png_write(path, b, 4, 4, 1) == GT_OK); /* replaces */
    gt_image img;
    CHECK(gt_image_load(path, &img) == GT_OK && img.data[0] == 200);
    gt_image_free(&img);
    /* missing folder: error names the path, nothing created */
    const char *nowhere = tpath("no/such/dir/x.png");
    CHECK(gt_png_write(nowhere, a, 4, 4, 1) == GT_ERR_IO);
    CHECK_ERR_NAMES(nowhere, NULL);
    /* the target is a folder: rename fails, the temp file is removed, the folder stays */
    const char *d = tpath("is_a_dir.png");
    mkdir_p(d);
    CHECK(gt_png_write(d, a, 4, 4, 1) == GT_ERR_IO);
    CHECK_ERR_NAMES(d, "rename");
    struct stat sb;
    CHECK(stat(d, &sb) == 0 && S_ISDIR(sb.st_mode));
    CHECK(count_tmp_files(gt_test_tmpdir()) == 0);
}

typedef struct {
    const char *name;
    int n, c, h, w, nrow, pad;
} gcase;

static const gcase GRIDS[] = {
    {"rgb_4x3", 10, 3, 5, 7, 4, 2},
    {"gray_8", 16, 1, 6, 6, 8, 2},
    {"few", 3, 3, 4, 4, 8, 1},   /* N < nrow: one row of 3 */
    {"nopad", 5, 1, 3, 2, 2, 0},
};
#define NG (int)(sizeof GRIDS / sizeof GRIDS[0])

static void test_grid_vs_torchvision(void) {
    const char *names[2 * NG];
    char nb[2 * NG][64], args[4096];
    gt_tensor *ts[2 * NG];
    int off = snprintf(args, sizeof args, "%s", tpath("grid_in.gtb"));
    for (int k = 0; k < NG; k++) {
        const gcase *g = &GRIDS[k];
        ts[2 * k] = gt_test_uniform(30 + k, 4, (const int64_t[]){g->n, g->c, g->h, g->w}, -1.3f, 1.3f);
        gt_data(ts[2 * k])[0] = 1.0f, gt_data(ts[2 * k])[1] = -1.0f, gt_data(ts[2 * k])[2] = 0.0f;
        ts[2 * k + 1] = gt_from_i32(1, (const int64_t[]){2}, (const int32_t[]){g->nrow, g->pad});
        snprintf(nb[2 * k], 64, "%s.x", g->name);
        snprintf(nb[2 * k + 1], 64, "%s.cfg", g->name);
        names[2 * k] = nb[2 * k], names[2 * k + 1] = nb[2 * k + 1];
        const char *png = tpath("grid_%s.png", g->name);
        CHECK_MSG(gt_save_grid(png, ts[2 * k], g->nrow, g->pad) == GT_OK, "%s", gt_last_error());
        off += snprintf(args + off, sizeof args - (size_t)off, " %s=%s", g->name, png);
    }
    CHECK(gt_golden_write(tpath("grid_in.gtb"), 2 * NG, names, ts));
    if (!gt_golden_run("data_grid.py", args)) return;
    bool pil = gt_data_i32(gt_golden("have_pil"))[0] != 0;
    for (int k = 0; k < NG; k++) {
        const gcase *g = &GRIDS[k];
        gt_image img;
        CHECK(gt_make_grid(ts[2 * k], g->nrow, g->pad, &img) == GT_OK);
        char key[96];
        snprintf(key, sizeof key, "%s.ref", g->name);
        gt_tensor *ref = gt_golden(key);
        CHECK_MSG(ref && ref->shape[0] == img.h && ref->shape[1] == img.w && ref->shape[2] == img.c,
                  "%s: grid %d x %d x %d", g->name, img.h, img.w, img.c);
        int64_t bad = 0, n = (int64_t)img.h * img.w * img.c;
        for (int64_t i = 0; ref && gt_numel(ref) == n && i < n; i++) bad += img.data[i] != gt_data_i32(ref)[i];
        CHECK_MSG(bad == 0, "%s: %lld grid values differ from make_grid + save_image", g->name, (long long)bad);
        snprintf(key, sizeof key, "%s.pil", g->name);
        gt_tensor *rd = pil ? gt_golden(key) : NULL;
        if (pil) {
            bad = 0;
            for (int64_t i = 0; rd && gt_numel(rd) == n && i < n; i++) bad += img.data[i] != gt_data_i32(rd)[i];
            CHECK_MSG(rd && gt_numel(rd) == n && bad == 0, "%s: PIL reads back different pixels", g->name);
        }
        gt_image_free(&img);
    }
}

static void test_grid_strided_and_errors(void) {
    gt_tensor *x = gt_test_uniform(3, 4, (const int64_t[]){6, 3, 4, 5}, -1, 1);
    gt_tensor *xt = gt_permute(x, (const int[]){0, 1, 3, 2}); /* (6, 3, 5, 4) view */
    gt_tensor *xc = gt_contiguous(xt);
    gt_image a, b;
    CHECK(gt_make_grid(xt, 3, 2, &a) == GT_OK && gt_make_grid(xc, 3, 2, &b) == GT_OK);
    CHECK(a.w == b.w && a.h == b.h && memcmp(a.data, b.data, (size_t)a.w * a.h * 3) == 0);
    CHECK(a.h == 2 * (5 + 2) + 2 && a.w == 3 * (4 + 2) + 2);
    gt_image_free(&a);
    gt_image_free(&b);
    /* NaN -> black, never a crash */
    gt_data(x)[0] = NAN;
    CHECK(gt_make_grid(x, 8, 0, &a) == GT_OK && a.data[0] == 0);
    gt_image_free(&a);
    gt_tensor *two = gt_test_uniform(3, 4, (const int64_t[]){2, 2, 4, 4}, -1, 1);
    CHECK(gt_make_grid(two, 8, 2, &a) == GT_ERR_ARG);
    CHECK_ERR_NAMES("C = 1 or 3", NULL);
    CHECK(gt_make_grid(x, 0, 2, &a) == GT_ERR_ARG);
    CHECK(gt_make_grid(x, 4, -1, &a) == GT_ERR_ARG);
    CHECK(gt_make_grid(NULL, 4, 2, &a) == GT_ERR_ARG);
    CHECK(gt_save_grid(tpath("no/dir/grid.png"), x, 4, 2) == GT_ERR_IO);
    CHECK_ERR_NAMES("no/dir/grid.png", NULL);
    uint8_t px[12] = {0};
    CHECK(gt_png_write(tpath("bad.png"), px, 0, 4, 1) == GT_ERR_ARG);
    CHECK(gt_png_write(tpath("bad.png"), px, 2, 2, 2) == GT_ERR_ARG);
    CHECK_ERR_NAMES("bad.png", "channels");
    CHECK(gt_png_write(tpath("bad.png"), NULL, 2, 2, 1) == GT_ERR_ARG);
    CHECK(gt_jpeg_write(tpath("bad.jpg"), px, 2, 2, 3, 0) == GT_ERR_ARG);
    gt_image img;
    CHECK(gt_image_decode("GIF89a..", 8, "x.gif", &img) == GT_ERR_FORMAT);
    CHECK_ERR_NAMES("x.gif", "not a PNG or JPEG");
    CHECK(gt_image_load(tpath("missing.png"), &img) == GT_ERR_IO);
    CHECK_ERR_NAMES("missing.png", NULL);
}

static void test_jpeg_round_trip(void) {
    int w = 40, h = 24;
    uint8_t p[40 * 24 * 3];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++) p[(y * w + x) * 3 + k] = (uint8_t)(20 + 3 * x + 2 * y + 20 * k);
    const char *path = tpath("rt.jpg");
    CHECK(gt_jpeg_write(path, p, w, h, 3, 95) == GT_OK);
    gt_image img;
    CHECK(gt_image_load(path, &img) == GT_OK && img.w == w && img.h == h && img.c == 3);
    double err = 0;
    for (int i = 0; img.data && i < w * h * 3; i++) err += fabs((double)img.data[i] - p[i]);
    err /= w * h * 3;
    CHECK_MSG(err < 2.0, "JPEG q95 mean abs error %.2f", err);
    gt_image_free(&img);
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_atomic);
    RUN(test_grid_vs_torchvision);
    RUN(test_grid_strided_and_errors);
    RUN(test_jpeg_round_trip);
    return gt_test_finish();
}
