/* gantry/plot.h - small scatter / line plots as PNG files, with no dependency beyond gantry's
 * PNG writer: axes with "nice" ticks (linear: 1, 2, 5 x 10^k steps; log: decades, with 2 and 5
 * between them when there are few), tick numbers, axis labels and a title, one colour per
 * series, a label beside each point (placed where it overlaps no other label when it can) and
 * a legend. Text is drawn with a built-in 5 x 7 bitmap font (printable ASCII).
 *
 *     double x[3] = {1e6, 4e6, 1.6e7}, y[3] = {18.5, 24.0, 31.2};
 *     const char *lab[3] = {"0.25", "0.5", "1"};
 *     gt_plot_series s = {.x = x, .y = y, .n = 3, .labels = lab, .name = "res 32", .line = true};
 *     gt_plot_axes a = {.title = "cost vs consistency", .xlabel = "MACs", .ylabel = "PSNR (dB)", .xlog = true};
 *     gt_plot_png("plot.png", 640, 480, &a, &s, 1);
 *
 * Points with a non-finite coordinate (or x <= 0 on a log axis) are left out of the plot. */
#ifndef GANTRY_PLOT_H
#define GANTRY_PLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "base.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const double *x, *y;        /* n points */
    int n;
    const char *const *labels;  /* NULL or n strings (NULL entries: no label) drawn beside the points */
    const char *name;           /* legend entry (NULL: none) */
    bool line;                  /* join the points in order */
    bool no_markers;            /* only the line */
    uint8_t rgb[3];             /* all 0: the next colour of the built-in palette */
} gt_plot_series;

typedef struct {
    const char *title, *xlabel, *ylabel; /* NULL: none */
    bool xlog, ylog;                     /* log10 axes (values <= 0 left out) */
    /* Axis ranges: lo < hi fixes them; otherwise they come from the data, padded 5%
     * (and widened to the enclosing ticks). */
    double xlo, xhi, ylo, yhi;
} gt_plot_axes;

/* Draws one plot into the rectangle (x0, y0, w, h) of img (an RGB image, c = 3); the rectangle
 * must lie inside img and be at least 120 x 90. GT_ERR_ARG otherwise. */
gt_status gt_plot_draw(gt_image *img, int x0, int y0, int w, int h, const gt_plot_axes *a,
                       const gt_plot_series *s, int ns);
/* A white RGB canvas (w, h), for gt_plot_draw; free with gt_image_free. */
gt_status gt_plot_canvas(int w, int h, gt_image *out);
/* One plot on a w x h canvas written as a PNG (atomic). */
gt_status gt_plot_png(const char *path, int w, int h, const gt_plot_axes *a, const gt_plot_series *s, int ns);

/* Text with the built-in font: each font pixel drawn scale x scale, at (x, y) = the top left
 * corner; vertical text runs bottom to top (rotated 90 degrees counter-clockwise) with (x, y)
 * its bottom left. Pixels outside img are skipped. The width of text in pixels: gt_plot_text_width. */
void gt_plot_text(gt_image *img, int x, int y, const char *text, const uint8_t rgb[3], int scale, bool vertical);
int gt_plot_text_width(const char *text, int scale);

#ifdef __cplusplus
}
#endif
#endif
