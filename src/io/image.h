/* src/io/image.h - private helpers shared by the PNG and JPEG code. */
#ifndef GANTRY_IO_IMAGE_INTERNAL_H
#define GANTRY_IO_IMAGE_INTERNAL_H

#include "../internal.h"

/* Decoders refuse images with more pixels than this (64 Mpx: 8192 x 8192). */
#define GT_IMAGE_MAX_PIXELS ((int64_t)1 << 26)

/* Reads a whole regular file of at most max bytes into *buf (malloc'd). */
gt_status gt__read_file(const char *path, int64_t max, uint8_t **buf, size_t *len);

/* Checks w, h, c of an image to write. */
gt_status gt__check_write(const char *path, const uint8_t *pixels, int w, int h, int c);

#endif
