/* gantry/image.h - 8-bit images: decoding PNG / JPEG files, writing PNG files
 * atomically, resampling, channel conversion, and sample grids.
 *
 * Pixels of a gt_image are interleaved (H, W, C) uint8, C = 1 (gray) or 3 (RGB).
 * Every function that can fail returns a gt_status and sets gt_last_error() to a
 * message naming the file (for file functions) and what was wrong.
 *
 * Example (write a sample grid of generator output x, shape (N, C, H, W) in [-1, 1]):
 *
 *     if (gt_save_grid("runs/a/samples_001000.png", x, 8, 2) != GT_OK)
 *         fprintf(stderr, "%s\n", gt_last_error());
 */
#ifndef GANTRY_IMAGE_H
#define GANTRY_IMAGE_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest width or height a decoder accepts (a larger header is refused as corrupt). */
#define GT_IMAGE_MAX_SIDE 16384

typedef struct gt_image {
    int w, h, c;     /* c = 1 or 3 */
    uint8_t *data;   /* (h, w, c) interleaved, malloc'd; free with gt_image_free */
} gt_image;

void gt_image_free(gt_image *img); /* frees data, zeroes the struct; NULL-safe */

/* --- decoding ------------------------------------------------------------- */
/* Decodes a PNG or JPEG file (chosen by its signature bytes, not its name).
 * Gray / gray+alpha -> c = 1; RGB / RGBA / palette -> c = 3 (alpha dropped);
 * 16-bit PNG is scaled to 8 bits (v / 257 rounded); CMYK JPEG is refused, and so
 * is a JPEG with damaged or missing data (which libjpeg would warn about and fill
 * with gray). Limits: sides up to GT_IMAGE_MAX_SIDE, 64 Mpx, 256 progressive scans.
 * Errors (GT_ERR_IO, GT_ERR_FORMAT) name the file; decoder errors never exit the
 * process (libpng / libjpeg errors longjmp back to the caller's frame). */
gt_status gt_image_load(const char *path, gt_image *out);
/* The same from memory; `name` is used in error messages. */
gt_status gt_image_decode(const void *buf, size_t len, const char *name, gt_image *out);
gt_status gt_png_decode(const void *buf, size_t len, const char *name, gt_image *out);
gt_status gt_jpeg_decode(const void *buf, size_t len, const char *name, gt_image *out);

/* --- writing -------------------------------------------------------------- */
/* Writes an 8-bit gray (c = 1) or RGB (c = 3) PNG, pixels (h, w, c) interleaved.
 * Atomic (gt_write_file_atomic of io.h: a temporary file beside path, fsync'd,
 * renamed over path, directory fsync'd), so a crash leaves either the old file
 * or the new one. */
gt_status gt_png_write(const char *path, const uint8_t *pixels, int w, int h, int c);
/* Writes a JPEG (quality 1..100), same layout and atomicity (used by tests). */
gt_status gt_jpeg_write(const char *path, const uint8_t *pixels, int w, int h, int c, int quality);

/* --- grids ------------------------------------------------------------------ */
/* Lays out x (N, C, H, W) float in [-1, 1], C = 1 or 3, as torchvision's
 * make_grid(x, nrow, padding, normalize=True, value_range=(-1, 1)) followed by
 * save_image's conversion: min(nrow, N) images per row, ceil(N / nrow) rows,
 * `padding` pixels of black (pad value 0) around and between images; value v ->
 * uint8 floor(clamp((v + 1) / 2, 0, 1) * 255 + 0.5). x may be strided.
 * Output: a gt_image with c = C (gray stays gray; torchvision would repeat it
 * to 3 identical channels). */
gt_status gt_make_grid(const gt_tensor *x, int nrow, int padding, gt_image *out);
/* gt_make_grid + gt_png_write (atomic). */
gt_status gt_save_grid(const char *path, const gt_tensor *x, int nrow, int padding);

/* --- transforms (planar (C, H, W) buffers) --------------------------------- */
/* Resamples one plane-set src (c, sh, sw) to dst (c, dh, dw) with a separable
 * triangle (bilinear) filter, half-pixel centres, scaled support when shrinking
 * (area-like antialiasing): the same filter as PIL's Image.resize(BILINEAR) and
 * torch.nn.functional.interpolate(mode="bilinear", antialias=True,
 * align_corners=False). The u8 version computes in float and rounds once. */
gt_status gt_resize_f32(const float *src, int c, int sh, int sw, float *dst, int dh, int dw);
gt_status gt_resize_u8(const uint8_t *src, int c, int sh, int sw, uint8_t *dst, int dh, int dw);
/* The centred crop of an sh x sw image with the aspect ratio dh : dw (the largest
 * such box, offsets floored), resampled to dh x dw. src/dst planar (c, H, W). */
gt_status gt_crop_resize_u8(const uint8_t *src, int c, int sh, int sw, uint8_t *dst, int dh, int dw);
/* Channel conversion, planar: 1 -> 3 repeats the plane; 3 -> 1 is ITU-R 601 luma
 * (PIL's convert("L"): (19595 R + 38470 G + 7471 B + 32768) >> 16); same c copies. */
gt_status gt_convert_channels_u8(const uint8_t *src, int sc, uint8_t *dst, int dc, int64_t hw);
/* Interleaved (h, w, c) -> planar (c, h, w), and back. */
void gt_hwc_to_chw_u8(const uint8_t *src, uint8_t *dst, int h, int w, int c);
void gt_chw_to_hwc_u8(const uint8_t *src, uint8_t *dst, int h, int w, int c);

#ifdef __cplusplus
}
#endif
#endif
