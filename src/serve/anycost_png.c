/* The anycost editor's pictures (anycost_api.c): an image tensor as PNG bytes in memory (libpng,
 * no temporary file), base64-encoded into the answer's JSON. */
#include <png.h>
#include <stdlib.h>

#include "gantry/image.h"
#include "serve_internal.h"

static void gt__png_put(png_structp png, png_bytep d, size_t n) { gt__buf_add(png_get_io_ptr(png), d, n); }
static void gt__png_flush(png_structp png) { (void)png; }
static void gt__png_err(png_structp png, png_const_charp msg) {
    (void)msg;
    png_longjmp(png, 1);
}

static gt_status gt__png_mem(const gt_image *im, gt_buf *out) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, gt__png_err, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return gt_set_error(GT_ERR_OOM, "out of memory (PNG)");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return gt_set_error(GT_ERR_IO, "encoding the PNG failed");
    }
    png_set_write_fn(png, out, gt__png_put, gt__png_flush);
    png_set_IHDR(png, info, (png_uint_32)im->w, (png_uint_32)im->h, 8,
                 im->c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < im->h; y++) png_write_row(png, im->data + (size_t)y * im->w * im->c);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return out->oom ? gt_set_error(GT_ERR_OOM, "out of memory (PNG)") : GT_OK;
}

static void gt__base64(gt_buf *b, const uint8_t *p, size_t n) {
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!gt__buf_reserve(b, (n + 2) / 3 * 4)) return;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {T[v >> 18], T[(v >> 12) & 63], i + 1 < n ? T[(v >> 6) & 63] : '=', i + 2 < n ? T[v & 63] : '='};
        gt__buf_add(b, q, 4);
    }
}

gt_status gt__png_base64(const gt_tensor *x, gt_buf *b) {
    gt_image im = {0};
    gt_buf png = {0};
    gt_status st = gt_make_grid(x, 1, 0, &im);
    if (st == GT_OK) st = gt__png_mem(&im, &png);
    if (st == GT_OK) gt__base64(b, (const uint8_t *)png.p, png.n);
    gt_image_free(&im);
    free(png.p);
    return st == GT_OK && b->oom ? gt_set_error(GT_ERR_OOM, "out of memory") : st;
}
