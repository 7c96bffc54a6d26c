/* Small PNG plots (gantry/plot.h): a canvas, lines, markers, text in a built-in 5 x 7 bitmap
 * font, axes with nice ticks, point labels that avoid each other, a legend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/plot.h"

/* Printable ASCII 32..126, 7 rows of 5 bits each (bit 4 = the leftmost column). */
static const uint8_t gt__font[95][7] = {
    {0x00,0x00,0x00,0x00,0x00,0x00,0x00}, /* ' ' */
    {0x04,0x04,0x04,0x04,0x04,0x00,0x04}, /* '!' */
    {0x0a,0x0a,0x0a,0x00,0x00,0x00,0x00}, /* '"' */
    {0x0a,0x0a,0x1f,0x0a,0x1f,0x0a,0x0a}, /* '#' */
    {0x04,0x0f,0x14,0x0e,0x05,0x1e,0x04}, /* '$' */
    {0x18,0x19,0x02,0x04,0x08,0x13,0x03}, /* '%' */
    {0x0c,0x12,0x14,0x08,0x15,0x12,0x0d}, /* '&' */
    {0x04,0x04,0x08,0x00,0x00,0x00,0x00}, /* '\'' */
    {0x02,0x04,0x08,0x08,0x08,0x04,0x02}, /* '(' */
    {0x08,0x04,0x02,0x02,0x02,0x04,0x08}, /* ')' */
    {0x00,0x04,0x15,0x0e,0x15,0x04,0x00}, /* '*' */
    {0x00,0x04,0x04,0x1f,0x04,0x04,0x00}, /* '+' */
    {0x00,0x00,0x00,0x00,0x0c,0x04,0x08}, /* ',' */
    {0x00,0x00,0x00,0x1f,0x00,0x00,0x00}, /* '-' */
    {0x00,0x00,0x00,0x00,0x00,0x0c,0x0c}, /* '.' */
    {0x00,0x01,0x02,0x04,0x08,0x10,0x00}, /* '/' */
    {0x0e,0x11,0x13,0x15,0x19,0x11,0x0e}, /* '0' */
    {0x04,0x0c,0x04,0x04,0x04,0x04,0x0e}, /* '1' */
    {0x0e,0x11,0x01,0x02,0x04,0x08,0x1f}, /* '2' */
    {0x1f,0x02,0x04,0x02,0x01,0x11,0x0e}, /* '3' */
    {0x02,0x06,0x0a,0x12,0x1f,0x02,0x02}, /* '4' */
    {0x1f,0x10,0x1e,0x01,0x01,0x11,0x0e}, /* '5' */
    {0x06,0x08,0x10,0x1e,0x11,0x11,0x0e}, /* '6' */
    {0x1f,0x01,0x02,0x04,0x08,0x08,0x08}, /* '7' */
    {0x0e,0x11,0x11,0x0e,0x11,0x11,0x0e}, /* '8' */
    {0x0e,0x11,0x11,0x0f,0x01,0x02,0x0c}, /* '9' */
    {0x00,0x0c,0x0c,0x00,0x0c,0x0c,0x00}, /* ':' */
    {0x00,0x0c,0x0c,0x00,0x0c,0x04,0x08}, /* ';' */
    {0x02,0x04,0x08,0x10,0x08,0x04,0x02}, /* '<' */
    {0x00,0x00,0x1f,0x00,0x1f,0x00,0x00}, /* '=' */
    {0x08,0x04,0x02,0x01,0x02,0x04,0x08}, /* '>' */
    {0x0e,0x11,0x01,0x02,0x04,0x00,0x04}, /* '?' */
    {0x0e,0x11,0x17,0x15,0x17,0x10,0x0f}, /* '@' */
    {0x0e,0x11,0x11,0x1f,0x11,0x11,0x11}, /* 'A' */
    {0x1e,0x11,0x11,0x1e,0x11,0x11,0x1e}, /* 'B' */
    {0x0e,0x11,0x10,0x10,0x10,0x11,0x0e}, /* 'C' */
    {0x1c,0x12,0x11,0x11,0x11,0x12,0x1c}, /* 'D' */
    {0x1f,0x10,0x10,0x1e,0x10,0x10,0x1f}, /* 'E' */
    {0x1f,0x10,0x10,0x1e,0x10,0x10,0x10}, /* 'F' */
    {0x0e,0x11,0x10,0x17,0x11,0x11,0x0f}, /* 'G' */
    {0x11,0x11,0x11,0x1f,0x11,0x11,0x11}, /* 'H' */
    {0x0e,0x04,0x04,0x04,0x04,0x04,0x0e}, /* 'I' */
    {0x07,0x02,0x02,0x02,0x02,0x12,0x0c}, /* 'J' */
    {0x11,0x12,0x14,0x18,0x14,0x12,0x11}, /* 'K' */
    {0x10,0x10,0x10,0x10,0x10,0x10,0x1f}, /* 'L' */
    {0x11,0x1b,0x15,0x15,0x11,0x11,0x11}, /* 'M' */
    {0x11,0x11,0x19,0x15,0x13,0x11,0x11}, /* 'N' */
    {0x0e,0x11,0x11,0x11,0x11,0x11,0x0e}, /* 'O' */
    {0x1e,0x11,0x11,0x1e,0x10,0x10,0x10}, /* 'P' */
    {0x0e,0x11,0x11,0x11,0x15,0x12,0x0d}, /* 'Q' */
    {0x1e,0x11,0x11,0x1e,0x14,0x12,0x11}, /* 'R' */
    {0x0f,0x10,0x10,0x0e,0x01,0x01,0x1e}, /* 'S' */
    {0x1f,0x04,0x04,0x04,0x04,0x04,0x04}, /* 'T' */
    {0x11,0x11,0x11,0x11,0x11,0x11,0x0e}, /* 'U' */
    {0x11,0x11,0x11,0x11,0x11,0x0a,0x04}, /* 'V' */
    {0x11,0x11,0x11,0x15,0x15,0x15,0x0a}, /* 'W' */
    {0x11,0x11,0x0a,0x04,0x0a,0x11,0x11}, /* 'X' */
    {0x11,0x11,0x11,0x0a,0x04,0x04,0x04}, /* 'Y' */
    {0x1f,0x01,0x02,0x04,0x08,0x10,0x1f}, /* 'Z' */
    {0x0e,0x08,0x08,0x08,0x08,0x08,0x0e}, /* '[' */
    {0x00,0x10,0x08,0x04,0x02,0x01,0x00}, /* '\\' */
    {0x0e,0x02,0x02,0x02,0x02,0x02,0x0e}, /* ']' */
    {0x04,0x0a,0x11,0x00,0x00,0x00,0x00}, /* '^' */
    {0x00,0x00,0x00,0x00,0x00,0x00,0x1f}, /* '_' */
    {0x08,0x04,0x02,0x00,0x00,0x00,0x00}, /* '`' */
    {0x00,0x00,0x0e,0x01,0x0f,0x11,0x0f}, /* 'a' */
    {0x10,0x10,0x16,0x19,0x11,0x11,0x1e}, /* 'b' */
    {0x00,0x00,0x0e,0x10,0x10,0x11,0x0e}, /* 'c' */
    {0x01,0x01,0x0d,0x13,0x11,0x11,0x0f}, /* 'd' */
    {0x00,0x00,0x0e,0x11,0x1f,0x10,0x0e}, /* 'e' */
    {0x06,0x09,0x08,0x1c,0x08,0x08,0x08}, /* 'f' */
    {0x00,0x0f,0x11,0x11,0x0f,0x01,0x0e}, /* 'g' */
    {0x10,0x10,0x16,0x19,0x11,0x11,0x11}, /* 'h' */
    {0x04,0x00,0x0c,0x04,0x04,0x04,0x0e}, /* 'i' */
    {0x02,0x00,0x06,0x02,0x02,0x12,0x0c}, /* 'j' */
    {0x10,0x10,0x12,0x14,0x18,0x14,0x12}, /* 'k' */
    {0x0c,0x04,0x04,0x04,0x04,0x04,0x0e}, /* 'l' */
    {0x00,0x00,0x1a,0x15,0x15,0x11,0x11}, /* 'm' */
    {0x00,0x00,0x16,0x19,0x11,0x11,0x11}, /* 'n' */
    {0x00,0x00,0x0e,0x11,0x11,0x11,0x0e}, /* 'o' */
    {0x00,0x00,0x1e,0x11,0x1e,0x10,0x10}, /* 'p' */
    {0x00,0x00,0x0d,0x13,0x0f,0x01,0x01}, /* 'q' */
    {0x00,0x00,0x16,0x19,0x10,0x10,0x10}, /* 'r' */
    {0x00,0x00,0x0e,0x10,0x0e,0x01,0x1e}, /* 's' */
    {0x08,0x08,0x1c,0x08,0x08,0x09,0x06}, /* 't' */
    {0x00,0x00,0x11,0x11,0x11,0x13,0x0d}, /* 'u' */
    {0x00,0x00,0x11,0x11,0x11,0x0a,0x04}, /* 'v' */
    {0x00,0x00,0x11,0x11,0x15,0x15,0x0a}, /* 'w' */
    {0x00,0x00,0x11,0x0a,0x04,0x0a,0x11}, /* 'x' */
    {0x00,0x00,0x11,0x11,0x0f,0x01,0x0e}, /* 'y' */
    {0x00,0x00,0x1f,0x02,0x04,0x08,0x1f}, /* 'z' */
    {0x02,0x04,0x04,0x08,0x04,0x04,0x02}, /* '{' */
    {0x04,0x04,0x04,0x04,0x04,0x04,0x04}, /* '|' */
    {0x08,0x04,0x04,0x02,0x04,0x04,0x08}, /* '}' */
    {0x00,0x00,0x08,0x15,0x02,0x00,0x00}, /* '~' */
};

#define GT__GW 6 /* a glyph's advance: 5 columns and a space */
#define GT__GH 7

static const uint8_t gt__palette[8][3] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
    {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
};
static const uint8_t gt__black[3] = {0, 0, 0}, gt__grey[3] = {110, 110, 110}, gt__grid[3] = {232, 232, 232};

static void gt__px(gt_image *img, int x, int y, const uint8_t rgb[3]) {
    if (x < 0 || y < 0 || x >= img->w || y >= img->h) return;
    memcpy(img->data + ((size_t)y * img->w + x) * 3, rgb, 3);
}

static void gt__fill(gt_image *img, int x0, int y0, int w, int h, const uint8_t rgb[3]) {
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) gt__px(img, x, y, rgb);
}

/* Bresenham, each point a t x t square (t = 1 or 2). */
static void gt__line(gt_image *img, int x0, int y0, int x1, int y1, const uint8_t rgb[3], int t) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (int guard = 0; guard < 100000; guard++) {
        gt__fill(img, x0, y0, t, t, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

static void gt__marker(gt_image *img, int cx, int cy, const uint8_t rgb[3]) {
    for (int y = -3; y <= 3; y++)
        for (int x = -3; x <= 3; x++) {
            int d = x * x + y * y;
            if (d <= 10) gt__px(img, cx + x, cy + y, d >= 7 ? gt__black : rgb);
        }
}

int gt_plot_text_width(const char *text, int scale) {
    int n = text ? (int)strlen(text) : 0;
    return n ? (n * GT__GW - 1) * scale : 0;
}

void gt_plot_text(gt_image *img, int x, int y, const char *text, const uint8_t rgb[3], int scale, bool vertical) {
    if (!img || !text) return;
    if (scale < 1) scale = 1;
    for (int k = 0; text[k]; k++) {
        unsigned char ch = (unsigned char)text[k];
        const uint8_t *g = gt__font[(ch >= 32 && ch < 127 ? ch : '?') - 32];
        for (int r = 0; r < GT__GH; r++)
            for (int col = 0; col < 5; col++) {
                if (!(g[r] >> (4 - col) & 1)) continue;
                int u = k * GT__GW + col; /* along the text */
                for (int a = 0; a < scale; a++)
                    for (int b = 0; b < scale; b++) {
                        if (vertical) /* runs upwards; the glyph's top faces left */
                            gt__px(img, x + r * scale + b, y - u * scale - a, rgb);
                        else
                            gt__px(img, x + u * scale + a, y + r * scale + b, rgb);
                    }
            }
    }
}

gt_status gt_plot_canvas(int w, int h, gt_image *out) {
    if (!out) return gt_set_error(GT_ERR_ARG, "plot: NULL image");
    memset(out, 0, sizeof *out);
    if (w < 1 || h < 1 || w > GT_IMAGE_MAX_SIDE || h > GT_IMAGE_MAX_SIDE)
        return gt_set_error(GT_ERR_ARG, "plot: canvas of %d x %d pixels (1..%d each)", w, h, GT_IMAGE_MAX_SIDE);
    out->data = malloc((size_t)w * h * 3);
    if (!out->data) return gt_set_error(GT_ERR_OOM, "plot: out of memory for a %d x %d canvas", w, h);
    memset(out->data, 255, (size_t)w * h * 3);
    out->w = w, out->h = h, out->c = 3;
    return GT_OK;
}

/* --- axes ------------------------------------------------------------------------------------ */
typedef struct {
    bool log;
    double lo, hi;    /* in axis units (log10 of the value on a log axis) */
    double ticks[64]; /* axis units */
    int nt;
    double step;      /* linear: the tick step (for the digits of the labels) */
} gt__axis;

static bool gt__usable(double v, bool log) { return isfinite(v) && (!log || v > 0); }

static double gt__nice_step(double range, int target) {
    double raw = range / target, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* Range from the data (or the fixed one), then the ticks. */
static void gt__axis_make(gt__axis *a, bool log, double flo, double fhi, double dlo, double dhi) {
    a->log = log, a->nt = 0;
    double lo, hi;
    if (flo < fhi && gt__usable(flo, log) && gt__usable(fhi, log)) {
        lo = log ? log10(flo) : flo, hi = log ? log10(fhi) : fhi;
    } else {
        if (!(dlo <= dhi)) dlo = log ? 1 : 0, dhi = log ? 10 : 1; /* no data */
        lo = log ? log10(dlo) : dlo, hi = log ? log10(dhi) : dhi;
        double pad = (hi - lo) * 0.05;
        if (pad == 0) pad = log ? 0.5 : (fabs(lo) > 0 ? fabs(lo) * 0.1 : 1);
        lo -= pad, hi += pad;
    }
    a->lo = lo, a->hi = hi;
    if (log) {
        const int d0 = (int)floor(lo), d1 = (int)ceil(hi);
        /* 1, 2, 5 per decade when there are few; every multiple when less than one is shown */
        static const double mul[3][9] = {{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
        const int kind = hi - lo < 1 ? 2 : d1 - d0 <= 4 ? 1 : 0, nm = kind == 2 ? 9 : kind == 1 ? 3 : 1;
        for (int d = d0; d <= d1 && a->nt < 64; d++)
            for (int m = 0; m < nm && a->nt < 64; m++) {
                double t = d + log10(mul[kind][m]);
                if (t >= lo - 1e-9 && t <= hi + 1e-9) a->ticks[a->nt++] = t;
            }
        a->step = 1;
    } else {
        a->step = gt__nice_step(hi - lo, 5);
        for (double t = ceil(lo / a->step - 1e-9) * a->step; t <= hi + 1e-9 * a->step && a->nt < 64; t += a->step)
            a->ticks[a->nt++] = fabs(t) < 1e-12 * a->step ? 0 : t;
    }
}

static double gt__to_axis(const gt__axis *a, double v) { return a->log ? log10(v) : v; }

/* A tick's label: k / M / G for large values, else the digits the step needs. */
static void gt__tick_label(const gt__axis *a, double t, char *buf, size_t n) {
    double v = a->log ? pow(10, t) : t, av = fabs(v);
    const char *suf[] = {"", "k", "M", "G", "T"};
    int k = 0;
    double step = a->log ? av : a->step;
    if (av >= 1e4 || (a->log && av >= 1e3))
        while (k < 4 && av >= 1000) av /= 1000, v /= 1000, step /= 1000, k++;
    int dec = step > 0 && step < 1 ? (int)ceil(-log10(step) - 1e-9) : 0;
    if (a->log) dec = av < 1 ? (int)ceil(-log10(av) - 1e-9) : 0;
    if (dec > 6) dec = 6;
    snprintf(buf, n, "%.*f%s", dec, v, suf[k]);
}

/* --- the plot ---------------------------------------------------------------------------------- */
typedef struct {
    int x, y, w, h;
} gt__rect;

static bool gt__overlap(gt__rect a, gt__rect b) {
    return a.x < b.x + b.w + 1 && b.x < a.x + a.w + 1 && a.y < b.y + b.h + 1 && b.y < a.y + a.h + 1;
}

static bool gt__inside(gt__rect a, gt__rect box) {
    return a.x >= box.x && a.y >= box.y && a.x + a.w <= box.x + box.w && a.y + a.h <= box.y + box.h;
}

#define GT__MAX_MARKS 1024

typedef struct {
    gt__rect area;       /* the plot area */
    gt__rect taken[GT__MAX_MARKS];
    int nt;
} gt__layout;

static bool gt__free_at(const gt__layout *L, gt__rect r) {
    if (!gt__inside(r, L->area)) return false;
    for (int i = 0; i < L->nt; i++)
        if (gt__overlap(r, L->taken[i])) return false;
    return true;
}

static void gt__take(gt__layout *L, gt__rect r) {
    if (L->nt < GT__MAX_MARKS) L->taken[L->nt++] = r;
}

/* A label beside the marker at (cx, cy): the first candidate place that is free. */
static void gt__label(gt_image *img, gt__layout *L, int cx, int cy, const char *text) {
    const int tw = gt_plot_text_width(text, 1), th = GT__GH;
    const int cand[8][2] = {{cx + 6, cy - 3},           {cx - 6 - tw, cy - 3},      {cx - tw / 2, cy - 6 - th},
                            {cx - tw / 2, cy + 6},       {cx + 4, cy - 4 - th},      {cx + 4, cy + 4},
                            {cx - 4 - tw, cy - 4 - th}, {cx - 4 - tw, cy + 4}};
    int pick = 0;
    for (int k = 0; k < 8; k++)
        if (gt__free_at(L, (gt__rect){cand[k][0], cand[k][1], tw, th})) {
            pick = k;
            break;
        }
    gt__rect r = {cand[pick][0], cand[pick][1], tw, th};
    gt_plot_text(img, r.x, r.y, text, gt__grey, 1, false);
    gt__take(L, r);
}

gt_status gt_plot_draw(gt_image *img, int x0, int y0, int w, int h, const gt_plot_axes *a,
                       const gt_plot_series *s, int ns) {
    if (!img || !img->data || img->c != 3) return gt_set_error(GT_ERR_ARG, "plot: needs an RGB canvas");
    if (w < 120 || h < 90 || x0 < 0 || y0 < 0 || x0 + w > img->w || y0 + h > img->h)
        return gt_set_error(GT_ERR_ARG,
                            "plot: the rectangle (%d, %d) %d x %d must be at least 120 x 90 and lie inside the %d x %d "
                            "canvas",
                            x0, y0, w, h, img->w, img->h);
    if (ns < 0 || (ns > 0 && !s)) return gt_set_error(GT_ERR_ARG, "plot: %d series but no array", ns);
    for (int i = 0; i < ns; i++)
        if (s[i].n < 0 || (s[i].n > 0 && (!s[i].x || !s[i].y)))
            return gt_set_error(GT_ERR_ARG, "plot: series %d has %d points but no x or y", i, s[i].n);
    const gt_plot_axes none = {0};
    if (!a) a = &none;

    /* data ranges */
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < s[i].n; k++) {
            double x = s[i].x[k], y = s[i].y[k];
            if (!gt__usable(x, a->xlog) || !gt__usable(y, a->ylog)) continue;
            xmin = fmin(xmin, x), xmax = fmax(xmax, x), ymin = fmin(ymin, y), ymax = fmax(ymax, y);
        }
    gt__axis ax, ay;
    gt__axis_make(&ax, a->xlog, a->xlo, a->xhi, xmin, xmax);
    gt__axis_make(&ay, a->ylog, a->ylo, a->yhi, ymin, ymax);

    /* layout */
    char lab[64];
    int ylw = 0;
    for (int t = 0; t < ay.nt; t++) {
        gt__tick_label(&ay, ay.ticks[t], lab, sizeof lab);
        int tw = gt_plot_text_width(lab, 1);
        if (tw > ylw) ylw = tw;
    }
    const int tscale = w >= 400 ? 2 : 1;
    const int top = y0 + (a->title ? GT__GH * tscale + 12 : 10);
    const int left = x0 + 6 + (a->ylabel ? GT__GH + 8 : 0) + ylw + 6;
    const int right = x0 + w - 14, bottom = y0 + h - (6 + GT__GH + 6 + (a->xlabel ? GT__GH + 8 : 0));
    if (right - left < 40 || bottom - top < 30)
        return gt_set_error(GT_ERR_ARG, "plot: %d x %d leaves no room for the plot area", w, h);
    gt__layout *L = calloc(1, sizeof *L);
    if (!L) return gt_set_error(GT_ERR_OOM, "plot: out of memory");
    L->area = (gt__rect){left + 1, top + 1, right - left - 1, bottom - top - 1};
    const double sx = (right - left) / (ax.hi - ax.lo), sy = (bottom - top) / (ay.hi - ay.lo);
#define GT__X(v) ((int)lround(left + (gt__to_axis(&ax, (v)) - ax.lo) * sx))
#define GT__Y(v) ((int)lround(bottom - (gt__to_axis(&ay, (v)) - ay.lo) * sy))

    /* title, axis labels */
    if (a->title)
        gt_plot_text(img, x0 + (w - gt_plot_text_width(a->title, tscale)) / 2, y0 + 6, a->title, gt__black, tscale,
                     false);
    if (a->xlabel)
        gt_plot_text(img, (left + right - gt_plot_text_width(a->xlabel, 1)) / 2, y0 + h - 6 - GT__GH, a->xlabel,
                     gt__black, 1, false);
    if (a->ylabel)
        gt_plot_text(img, x0 + 6, (top + bottom + gt_plot_text_width(a->ylabel, 1)) / 2, a->ylabel, gt__black, 1,
                     true);

    /* grid, ticks and their numbers, the frame */
    for (int t = 0; t < ax.nt; t++) {
        int px = (int)lround(left + (ax.ticks[t] - ax.lo) * sx);
        gt__line(img, px, top + 1, px, bottom - 1, gt__grid, 1);
        gt__line(img, px, bottom, px, bottom + 4, gt__black, 1);
        gt__tick_label(&ax, ax.ticks[t], lab, sizeof lab);
        gt_plot_text(img, px - gt_plot_text_width(lab, 1) / 2, bottom + 7, lab, gt__black, 1, false);
    }
    for (int t = 0; t < ay.nt; t++) {
        int py = (int)lround(bottom - (ay.ticks[t] - ay.lo) * sy);
        gt__line(img, left + 1, py, right - 1, py, gt__grid, 1);
        gt__line(img, left - 4, py, left, py, gt__black, 1);
        gt__tick_label(&ay, ay.ticks[t], lab, sizeof lab);
        gt_plot_text(img, left - 7 - gt_plot_text_width(lab, 1), py - 3, lab, gt__black, 1, false);
    }
    gt__line(img, left, top, right, top, gt__black, 1);
    gt__line(img, left, bottom, right, bottom, gt__black, 1);
    gt__line(img, left, top, left, bottom, gt__black, 1);
    gt__line(img, right, top, right, bottom, gt__black, 1);

    /* series: lines, then markers (they count as taken for the labels), then labels */
    const gt__rect inner = {left, top, right - left + 1, bottom - top + 1};
    uint8_t col[64][3];
    for (int i = 0, pal = 0; i < ns && i < 64; i++) {
        const uint8_t *c = s[i].rgb;
        if (!c[0] && !c[1] && !c[2]) c = gt__palette[pal++ % 8];
        memcpy(col[i], c, 3);
    }
#define GT__COL(i) ((i) < 64 ? col[i] : gt__palette[(i) % 8])
#define GT__SHOWN(i, k)                                                                                              \
    (gt__usable(s[i].x[k], a->xlog) && gt__usable(s[i].y[k], a->ylog) &&                                            \
     gt__inside((gt__rect){GT__X(s[i].x[k]), GT__Y(s[i].y[k]), 0, 0}, inner))
    for (int i = 0; i < ns; i++) {
        if (!s[i].line) continue;
        int px = 0, py = 0;
        bool have = false;
        for (int k = 0; k < s[i].n; k++) {
            if (!GT__SHOWN(i, k)) {
                have = false;
                continue;
            }
            int qx = GT__X(s[i].x[k]), qy = GT__Y(s[i].y[k]);
            if (have) gt__line(img, px, py, qx, qy, GT__COL(i), 2);
            px = qx, py = qy, have = true;
        }
    }
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < s[i].n; k++) {
            if (!GT__SHOWN(i, k)) continue;
            int cx = GT__X(s[i].x[k]), cy = GT__Y(s[i].y[k]);
            if (!s[i].no_markers) gt__marker(img, cx, cy, GT__COL(i));
            gt__take(L, (gt__rect){cx - 3, cy - 3, 7, 7});
        }

    /* the legend, in the corner of the plot area with the fewest points under it */
    int nl = 0, lw = 0;
    for (int i = 0; i < ns; i++)
        if (s[i].name) {
            int tw = gt_plot_text_width(s[i].name, 1);
            nl++;
            if (tw > lw) lw = tw;
        }
    if (nl) {
        const int bw = lw + 26, bh = nl * 12 + 6;
        gt__rect best = {0};
        int best_n = -1;
        for (int corner = 0; corner < 4; corner++) {
            gt__rect r = {corner & 1 ? left + 6 : right - 6 - bw, corner & 2 ? bottom - 6 - bh : top + 6, bw, bh};
            int cnt = 0;
            for (int t = 0; t < L->nt; t++) cnt += gt__overlap(r, L->taken[t]);
            if (best_n < 0 || cnt < best_n) best = r, best_n = cnt;
        }
        gt__fill(img, best.x, best.y, best.w, best.h, (const uint8_t[3]){255, 255, 255});
        gt__line(img, best.x, best.y, best.x + best.w, best.y, gt__grey, 1);
        gt__line(img, best.x, best.y + best.h, best.x + best.w, best.y + best.h, gt__grey, 1);
        gt__line(img, best.x, best.y, best.x, best.y + best.h, gt__grey, 1);
        gt__line(img, best.x + best.w, best.y, best.x + best.w, best.y + best.h, gt__grey, 1);
        for (int i = 0, row = 0; i < ns; i++) {
            if (!s[i].name) continue;
            int ly = best.y + 5 + row * 12;
            if (s[i].line) gt__line(img, best.x + 4, ly + 3, best.x + 16, ly + 3, GT__COL(i), 2);
            if (!s[i].no_markers) gt__marker(img, best.x + 10, ly + 3, GT__COL(i));
            gt_plot_text(img, best.x + 21, ly, s[i].name, gt__black, 1, false);
            row++;
        }
        gt__take(L, best);
    }
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < s[i].n; k++)
            if (s[i].labels && s[i].labels[k] && GT__SHOWN(i, k))
                gt__label(img, L, GT__X(s[i].x[k]), GT__Y(s[i].y[k]), s[i].labels[k]);
#undef GT__X
#undef GT__Y
#undef GT__COL
#undef GT__SHOWN
    free(L);
    return GT_OK;
}

gt_status gt_plot_png(const char *path, int w, int h, const gt_plot_axes *a, const gt_plot_series *s, int ns) {
    gt_image img;
    gt_status st = gt_plot_canvas(w, h, &img);
    if (st == GT_OK) st = gt_plot_draw(&img, 0, 0, w, h, a, s, ns);
    if (st == GT_OK) st = gt_png_write(path, img.data, img.w, img.h, 3);
    gt_image_free(&img);
    return st;
}
