/* The PNG plot writer (src/io/plot.c): the bitmap font draws what its table says, a plot's
 * points land where their values put them (a log axis included), non-finite points are left
 * out, the PNG decodes to the canvas, and bad arguments are refused. */
#include "../common/harness.h"
#include "gantry/plot.h"

static const uint8_t BLACK[3] = {0, 0, 0};

static bool is_white(const gt_image *img, int x, int y) {
    const uint8_t *p = img->data + ((size_t)y * img->w + x) * 3;
    return p[0] == 255 && p[1] == 255 && p[2] == 255;
}

static int count_colour(const gt_image *img, const uint8_t rgb[3]) {
    int n = 0;
    for (int i = 0; i < img->w * img->h; i++) n += !memcmp(img->data + 3 * (size_t)i, rgb, 3);
    return n;
}

static void test_font(void) {
    gt_image img;
    CHECK(gt_plot_canvas(40, 20, &img) == GT_OK);
    /* 'L' is a left column of 7 and a bottom row of 5: 11 pixels, exactly there */
    gt_plot_text(&img, 2, 3, "L", BLACK, 1, false);
    CHECK(count_colour(&img, BLACK) == 11);
    for (int r = 0; r < 7; r++) CHECK(!is_white(&img, 2, 3 + r));
    for (int c = 0; c < 5; c++) CHECK(!is_white(&img, 2 + c, 9));
    CHECK(is_white(&img, 3, 3));
    /* scale 2 quadruples the pixels; vertical text has the same count */
    memset(img.data, 255, (size_t)img.w * img.h * 3);
    gt_plot_text(&img, 2, 2, "L", BLACK, 2, false);
    CHECK(count_colour(&img, BLACK) == 44);
    memset(img.data, 255, (size_t)img.w * img.h * 3);
    gt_plot_text(&img, 2, 18, "L", BLACK, 1, true);
    CHECK(count_colour(&img, BLACK) == 11);
    /* every printable character has a glyph (space is blank), a width of 6n - 1 */
    int blank = 0;
    for (int ch = 32; ch < 127; ch++) {
        memset(img.data, 255, (size_t)img.w * img.h * 3);
        char t[2] = {(char)ch, 0};
        gt_plot_text(&img, 1, 1, t, BLACK, 1, false);
        blank += count_colour(&img, BLACK) == 0;
    }
    CHECK(blank == 1);
    CHECK(gt_plot_text_width("abc", 1) == 17 && gt_plot_text_width("abc", 2) == 34 && gt_plot_text_width("", 1) == 0);
    /* off the canvas: clipped, no crash */
    gt_plot_text(&img, -50, -50, "clipped text", BLACK, 3, false);
    gt_plot_text(&img, 35, 200, "clipped text", BLACK, 3, true);
    gt_image_free(&img);
}

/* The centre of the marker of colour rgb: the mean position of its pixels. */
static bool find_marker(const gt_image *img, const uint8_t rgb[3], double *cx, double *cy) {
    double sx = 0, sy = 0;
    int n = 0;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++)
            if (!memcmp(img->data + ((size_t)y * img->w + x) * 3, rgb, 3)) sx += x, sy += y, n++;
    if (!n) return false;
    *cx = sx / n, *cy = sy / n;
    return true;
}

static void test_plot_positions(void) {
    /* three single-point series (distinct colours, no lines) on fixed log-x / linear-y axes:
     * x 10, 100, 1000 over [1, 10^4] sit at 1/4, 1/2, 3/4 of the width; y 0, 5, 10 over [-5, 15]
     * at 1/4, 1/2, 3/4 of the height from the bottom */
    double xs[3] = {10, 100, 1000}, ys[3] = {0, 5, 10};
    gt_plot_series s[4];
    for (int i = 0; i < 3; i++)
        s[i] = (gt_plot_series){.x = &xs[i], .y = &ys[i], .n = 1, .rgb = {(uint8_t)(200 + i), 10, (uint8_t)(60 + i)}};
    double nan_x = NAN, inf_y = INFINITY, one = 1;
    s[3] = (gt_plot_series){.x = &nan_x, .y = &one, .n = 1, .rgb = {1, 250, 2}}; /* left out */
    gt_plot_axes a = {.title = "t", .xlabel = "x", .ylabel = "y", .xlog = true,
                      .xlo = 1, .xhi = 1e4, .ylo = -5, .yhi = 15};
    gt_image img;
    CHECK(gt_plot_canvas(500, 400, &img) == GT_OK);
    CHECK(gt_plot_draw(&img, 0, 0, 500, 400, &a, s, 4) == GT_OK);
    double cx[3], cy[3];
    for (int i = 0; i < 3; i++) CHECK(find_marker(&img, s[i].rgb, &cx[i], &cy[i]));
    CHECK(count_colour(&img, s[3].rgb) == 0);
    CHECK_MSG(fabs((cx[1] - cx[0]) - (cx[2] - cx[1])) <= 1.0, "log x spacing %f %f", cx[1] - cx[0], cx[2] - cx[1]);
    CHECK_MSG(fabs((cy[0] - cy[1]) - (cy[1] - cy[2])) <= 1.0, "y spacing %f %f", cy[0] - cy[1], cy[1] - cy[2]);
    CHECK(cy[0] > cy[1] && cx[2] > cx[1]); /* up is larger y, right is larger x */
    /* the plot area is 4 spacings wide and tall: the frame lies one spacing beyond the outer points */
    double dx = cx[1] - cx[0], dy = cy[0] - cy[1];
    int fx = (int)lround(cx[0] - dx), fy = (int)lround(cy[2] - dy);
    CHECK_MSG(!is_white(&img, fx, (int)cy[1]) && !is_white(&img, (int)cx[1], fy), "frame at x %d / y %d", fx, fy);
    gt_image_free(&img);
    /* an infinite y is left out as well, data ranges from the rest */
    s[3].x = &one, s[3].y = &inf_y;
    CHECK(gt_plot_canvas(300, 200, &img) == GT_OK);
    CHECK(gt_plot_draw(&img, 0, 0, 300, 200, &(gt_plot_axes){0}, s, 4) == GT_OK);
    CHECK(count_colour(&img, s[3].rgb) == 0);
    for (int i = 0; i < 3; i++) CHECK(find_marker(&img, s[i].rgb, &cx[i], &cy[i]));
    gt_image_free(&img);
}

static void test_png_and_errors(void) {
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {2, 4, 3, 5, 1};
    const char *lab[5] = {"a", "bb", NULL, "dddd", "e"};
    gt_plot_series s = {.x = x, .y = y, .n = 5, .labels = lab, .name = "series", .line = true};
    const char *p = gt_test_path("plot.png");
    CHECK(gt_plot_png(p, 320, 240, &(gt_plot_axes){.title = "a plot", .xlabel = "x", .ylabel = "y"}, &s, 1) == GT_OK);
    gt_image img;
    CHECK(gt_image_load(p, &img) == GT_OK);
    CHECK(img.w == 320 && img.h == 240 && img.c == 3);
    gt_image_free(&img);
    /* errors */
    CHECK(gt_plot_canvas(300, 200, &img) == GT_OK);
    CHECK(gt_plot_draw(&img, 0, 0, 100, 80, NULL, &s, 1) == GT_ERR_ARG); /* too small */
    CHECK(gt_plot_draw(&img, 250, 0, 100, 100, NULL, &s, 1) == GT_ERR_ARG); /* off the canvas */
    gt_plot_series bad = {.n = 3};
    CHECK(gt_plot_draw(&img, 0, 0, 300, 200, NULL, &bad, 1) == GT_ERR_ARG);
    CHECK(gt_plot_draw(&img, 0, 0, 300, 200, NULL, NULL, 0) == GT_OK); /* empty axes are fine */
    gt_image_free(&img);
    CHECK(gt_plot_canvas(0, 10, &img) == GT_ERR_ARG);
    CHECK(gt_plot_png("/nonexistent-dir/x.png", 320, 240, NULL, &s, 1) == GT_ERR_IO);
}

int main(void) {
    RUN(test_font);
    RUN(test_plot_positions);
    RUN(test_png_and_errors);
    return gt_test_finish();
}
