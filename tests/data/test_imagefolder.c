/* Image folders: PNG / JPEG files written by gantry's writers and by PIL (palette,
 * RGBA, gray+alpha, 1-bit, 16-bit, interlaced PNG; progressive and gray JPEG),
 * decoded and compared with PIL (PNG exact; JPEG exact as both use
 * libjpeg-turbo, tolerance 1 allowed), sorted order, class sub-folders, images
 * of different sizes brought to one size (vs PIL crop + resize, tolerance 1;
 * gray output tolerance 2: PIL rounds each RGB plane before its luma), and
 * errors naming the bad file. Without python3-pil, values are checked
 * approximately against the pixels written. */
#include "data_util.h"

static char root[1024];

/* A smooth test pattern (h, w, c) interleaved. */
static uint8_t *pattern(int h, int w, int c, int seed) {
    uint8_t *p = malloc((size_t)h * w * c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                p[(y * w + x) * c + k] = (uint8_t)(128 + 100 * sinf((float)x / (3 + k + seed) + (float)y / (4 + 2 * k)));
    return p;
}

static const struct {
    const char *rel;
    int w, h, c, jpeg;
} OURS[] = {
    {"cat/a.png", 20, 30, 3, 0},
    {"cat/b.jpg", 24, 24, 3, 1},
    {"dog/c.PNG", 16, 16, 1, 0},
    {"dog/sub/d.jpeg", 40, 10, 1, 1},
};
#define NOURS (int)(sizeof OURS / sizeof OURS[0])

static void setup(void) {
    snprintf(root, sizeof root, "%s", tpath("folder"));
    mkdir_p(tpath("folder/cat"));
    mkdir_p(tpath("folder/dog/sub"));
    mkdir_p(tpath("folder/.git"));
    for (int i = 0; i < NOURS; i++) {
        uint8_t *p = pattern(OURS[i].h, OURS[i].w, OURS[i].c, i);
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", root, OURS[i].rel);
        gt_status st = OURS[i].jpeg ? gt_jpeg_write(path, p, OURS[i].w, OURS[i].h, OURS[i].c, 92)
                                    : gt_png_write(path, p, OURS[i].w, OURS[i].h, OURS[i].c);
        CHECK_MSG(st == GT_OK, "%s", gt_last_error());
        free(p);
    }
    /* ignored: hidden files and folders, other extensions */
    CHECK(write_bytes(tpath("folder/notes.txt"), "hello", 5));
    CHECK(write_bytes(tpath("folder/.hidden.png"), "junk", 4));
    CHECK(write_bytes(tpath("folder/.git/x.png"), "junk", 4));
}

static void test_decode_and_resize_vs_pil(void) {
    char args[1200];
    snprintf(args, sizeof args, "%s 24", root);
    if (!gt_golden_run("data_images.py", args)) return;
    if (gt_data_i32(gt_golden("have_pil"))[0] == 0) {
        printf("  (PIL comparisons skipped: python3-pil not installed)\n");
        gt_dataset *ds = gt_dataset_open(root, 24, 3, NULL);
        CHECK_MSG(ds && ds->n == NOURS, "%s", gt_last_error());
        for (int i = 0; ds && i < NOURS; i++) { /* approximately the pattern's mean */
            int64_t s = 0;
            for (int k = 0; k < 3 * 24 * 24; k++) s += gt_dataset_image(ds, i)[k];
            CHECK(s / (3 * 24 * 24) > 60 && s / (3 * 24 * 24) < 200);
        }
        gt_dataset_free(ds);
        return;
    }
    int count = gt_data_i32(gt_golden("count"))[0];
    gt_dataset *rgb = gt_dataset_open(root, 24, 3, NULL);
    gt_dataset *gray = gt_dataset_open(root, 24, 1, NULL);
    CHECK_MSG(rgb && gray, "%s", gt_last_error());
    if (!rgb || !gray) return;
    CHECK(rgb->n == count && count == NOURS + 8);
    CHECK(rgb->num_classes == 2 && !strcmp(rgb->class_names[0], "cat") && !strcmp(rgb->class_names[1], "dog"));
    int worst_dec = 0, worst_rgb = 0, worst_gray = 0;
    for (int i = 0; i < count && i < rgb->n; i++) {
        char g[32];
        snprintf(g, sizeof g, "img%d.rgb", i);
        gt_tensor *r = gt_golden(g);
        snprintf(g, sizeof g, "img%d.gray", i);
        gt_tensor *l = gt_golden(g);
        for (int k = 0; r && k < 3 * 24 * 24; k++) {
            int d = abs(gt_dataset_image(rgb, i)[k] - gt_data_i32(r)[k]);
            worst_rgb = d > worst_rgb ? d : worst_rgb;
        }
        for (int k = 0; l && k < 24 * 24; k++) {
            int d = abs(gt_dataset_image(gray, i)[k] - gt_data_i32(l)[k]);
            worst_gray = d > worst_gray ? d : worst_gray;
        }
    }
    /* direct decodes of every file vs PIL */
    const char *files[] = {"cat/a.png", "cat/b.jpg", "cat/f_rgba.png", "cat/g_gray16.png", "cat/h_interlaced.png",
                           "dog/c.PNG", "dog/e_palette.png", "dog/i_progressive.jpg", "dog/k_la.png", "dog/l_1bit.png",
                           "dog/sub/d.jpeg", "dog/sub/j_gray.JPG"};
    CHECK((int)(sizeof files / sizeof files[0]) == count);
    for (int i = 0; i < count && i < (int)(sizeof files / sizeof files[0]); i++) {
        char path[1200], g[32];
        snprintf(path, sizeof path, "%s/%s", root, files[i]);
        snprintf(g, sizeof g, "img%d.dec", i);
        gt_tensor *dec = gt_golden(g);
        gt_image img;
        CHECK_MSG(gt_image_load(path, &img) == GT_OK, "%s", gt_last_error());
        int c = dec && dec->ndim == 3 ? 3 : 1;
        CHECK_MSG(dec && img.c == c && img.h == dec->shape[0] && img.w == dec->shape[1], "%s: %d x %d x %d", files[i],
                  img.h, img.w, img.c);
        if (dec && img.data && gt_numel(dec) == (int64_t)img.w * img.h * img.c) {
            int worst = 0;
            for (int64_t k = 0; k < gt_numel(dec); k++) {
                int d = abs(img.data[k] - gt_data_i32(dec)[k]);
                worst = d > worst ? d : worst;
            }
            bool jpeg = strstr(files[i], ".jp") || strstr(files[i], ".JP");
            CHECK_MSG(worst <= (jpeg ? 1 : 0), "%s: max |ours - PIL| = %d", files[i], worst);
            worst_dec = worst > worst_dec ? worst : worst_dec;
        }
        gt_image_free(&img);
        /* labels: cat = 0, dog = 1 */
        CHECK(rgb->labels[i] == (files[i][0] == 'c' ? 0 : 1));
    }
    CHECK_MSG(worst_rgb <= 1, "RGB 24 x 24: max |ours - PIL| = %d (tolerance 1)", worst_rgb);
    CHECK_MSG(worst_gray <= 2, "gray 24 x 24: max |ours - PIL| = %d (tolerance 2)", worst_gray);
    printf("  %d files: decode max diff %d, RGB resize max diff %d, gray max diff %d\n", count, worst_dec, worst_rgb,
           worst_gray);
    gt_dataset_free(rgb);
    gt_dataset_free(gray);
}

static void test_native_size_and_options(void) {
    /* resolution 0: the first image's size (cat/a.png, 30 x 20), which it keeps exactly */
    gt_dataset *ds = gt_dataset_open(root, 0, 0, &(gt_dataset_opts){.limit = 3});
    CHECK_MSG(ds && ds->n == 3 && ds->h == 30 && ds->w == 20 && ds->c == 3, "%s", gt_last_error());
    if (ds) {
        uint8_t *p = pattern(30, 20, 3, 0), chw[30 * 20 * 3];
        gt_hwc_to_chw_u8(p, chw, 30, 20, 3);
        CHECK(memcmp(chw, gt_dataset_image(ds, 0), sizeof chw) == 0);
        free(p);
    }
    gt_dataset_free(ds);
    /* flat: only the root level (nothing there but notes.txt) */
    CHECK(gt_dataset_open(root, 16, 3, &(gt_dataset_opts){.flat = true}) == NULL);
    CHECK_ERR_NAMES(root, "no .png");
    /* a sub-folder as the root: flat list, no classes... except its own sub-folder */
    char dog[1200];
    snprintf(dog, sizeof dog, "%s/dog/sub", root);
    ds = gt_dataset_open(dog, 8, 1, NULL);
    CHECK(ds && ds->labels == NULL && ds->num_classes == 0 && ds->n >= 1);
    gt_dataset_free(ds);
    /* repeated opens give identical bytes (sorted, deterministic) */
    gt_dataset *a = gt_dataset_open(root, 16, 3, NULL), *b = gt_dataset_open(root, 16, 3, NULL);
    CHECK(a && b && a->n == b->n && memcmp(a->pixels, b->pixels, (size_t)(a->n * 3 * 16 * 16)) == 0);
    gt_dataset_free(a);
    gt_dataset_free(b);
}

static void test_bad_files(void) {
    char bad[1024], p[1200];
    snprintf(bad, sizeof bad, "%s", tpath("badfolder"));
    mkdir_p(bad);
    CHECK(gt_dataset_open(bad, 16, 3, NULL) == NULL);
    CHECK_ERR_NAMES(bad, "no .png");
    uint8_t *pat = pattern(12, 12, 3, 1);
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/img%02d.png", bad, i);
        CHECK(gt_png_write(p, pat, 12, 12, 3) == GT_OK);
    }
    snprintf(p, sizeof p, "%s/img03.png", bad);
    CHECK(write_bytes(p, "not really a png", 16));
    CHECK(gt_dataset_open(bad, 16, 3, NULL) == NULL);
    CHECK_ERR_NAMES(p, "not a PNG or JPEG");
    /* a truncated JPEG (the decoder would fill in gray; we refuse) */
    snprintf(p, sizeof p, "%s/img03.jpg", bad);
    CHECK(gt_jpeg_write(p, pat, 12, 12, 3, 90) == GT_OK);
    size_t n;
    uint8_t *j = read_all(p, &n, false);
    CHECK(j && write_bytes(p, j, n / 2));
    free(j);
    snprintf(p, sizeof p, "%s/img03.png", bad);
    unlink(p);
    snprintf(p, sizeof p, "%s/img03.jpg", bad);
    CHECK(gt_dataset_open(bad, 16, 3, NULL) == NULL);
    CHECK_ERR_NAMES(p, "JPEG");
    /* a PNG cut inside its image data */
    unlink(p);
    snprintf(p, sizeof p, "%s/img05.png", bad);
    j = read_all(p, &n, false);
    CHECK(j && write_bytes(p, j, n - 20));
    free(j);
    CHECK(gt_dataset_open(bad, 16, 3, NULL) == NULL);
    CHECK_ERR_NAMES(p, "PNG");
    free(pat);
}

/* skip_bad: unreadable images are left out and counted, the rest load as if the bad ones were never
 * there (same pixels, same class labels); without it the first bad file stops the load with a hint. */
static void test_skip_bad(void) {
    char dir[512], good[512], p[1000];
    snprintf(dir, sizeof dir, "%s", tpath("skipbad"));
    snprintf(good, sizeof good, "%s", tpath("skipgood"));
    const char *cls[2] = {"a", "b"};
    for (int c = 0; c < 2; c++) {
        snprintf(p, sizeof p, "%s/%s", dir, cls[c]);
        mkdir_p(p);
        snprintf(p, sizeof p, "%s/%s", good, cls[c]);
        mkdir_p(p);
        for (int i = 0; i < 4; i++) {
            uint8_t *pat = pattern(10 + c, 10, 3, 10 * c + i);
            bool bad = (c == 0 && (i == 0 || i == 2)) || (c == 1 && i == 3);
            snprintf(p, sizeof p, "%s/%s/%d.png", dir, cls[c], i);
            CHECK(bad ? write_bytes(p, "\x89PNG\r\n\x1a\n garbage", 16) : gt_png_write(p, pat, 10 + c, 10, 3) == GT_OK);
            if (!bad) {
                snprintf(p, sizeof p, "%s/%s/%d.png", good, cls[c], i);
                CHECK(gt_png_write(p, pat, 10 + c, 10, 3) == GT_OK);
            }
            free(pat);
        }
    }
    /* without skip_bad: the first bad file in order (a/0.png) is named, with the way out */
    CHECK(gt_dataset_open(dir, 8, 3, NULL) == NULL);
    snprintf(p, sizeof p, "%s/a/0.png", dir);
    CHECK_ERR_NAMES(p, "--skip-bad-images");
    gt_dataset *ds = gt_dataset_open(dir, 8, 3, &(gt_dataset_opts){.skip_bad = true});
    gt_dataset *ref = gt_dataset_open(good, 8, 3, NULL);
    CHECK_MSG(ds && ref, "%s", gt_last_error());
    if (ds && ref) {
        CHECK(ds->n == 5 && ref->n == 5 && ds->skipped == 3);
        CHECK(ds->skipped_first && strstr(ds->skipped_first, "a/0.png"));
        CHECK(memcmp(ds->pixels, ref->pixels, (size_t)(5 * 3 * 8 * 8)) == 0);
        CHECK(ds->num_classes == 2 && ds->labels && ref->labels &&
              memcmp(ds->labels, ref->labels, 5 * sizeof(int32_t)) == 0 && ds->labels[0] == 0 && ds->labels[4] == 1);
        /* native size: the first image that decodes (a/1.png, 10 x 10) */
        gt_dataset *nat = gt_dataset_open(dir, 0, 0, &(gt_dataset_opts){.skip_bad = true});
        CHECK(nat && nat->h == 10 && nat->w == 10 && nat->n == 5);
        gt_dataset_free(nat);
    }
    gt_dataset_free(ds);
    gt_dataset_free(ref);
    /* nothing readable at all: an error, not an empty dataset */
    snprintf(p, sizeof p, "%s/a", dir);
    CHECK(gt_dataset_open(p, 8, 3, &(gt_dataset_opts){.limit = 1, .skip_bad = true}) == NULL);
    CHECK_ERR_NAMES(p, "none of its 1 images");
}

int main(void) {
    setup();
    RUN(test_decode_and_resize_vs_pil);
    RUN(test_native_size_and_options);
    RUN(test_bad_files);
    RUN(test_skip_bad);
    return gt_test_finish();
}
