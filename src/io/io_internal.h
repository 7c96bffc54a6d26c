/* Helpers shared by the file-format readers and writers in src/io and
 * src/nn/checkpoint.c (not public). */
#ifndef GT_IO_INTERNAL_H
#define GT_IO_INTERNAL_H

#include <stdarg.h>
#include <string.h>

#include "gantry/io.h"

/* The fault-injection hook (fault.c): counts one op on path and returns the
 * errno to fail it with, or 0. */
int gt__fault_hit(gt_fault_op op, const char *path);
/* fsync of the folder holding path (after a rename into it); errors ignored. */
void gt__fsync_dir(const char *path);

/* A growing byte buffer; after an allocation failure oom is set and further
 * appends do nothing. */
typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
} gt_buf;

/* Room for n more bytes and the NUL; false (and b->oom) when memory ran out. */
bool gt__buf_reserve(gt_buf *b, size_t n);
void gt__buf_add(gt_buf *b, const void *data, size_t n);
void gt__buf_puts(gt_buf *b, const char *s);
void gt__buf_printf(gt_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* s as a JSON string literal (quotes and escapes). */
void gt__buf_json_str(gt_buf *b, const char *s);
/* Whether [p, p+n) is valid UTF-8. */
bool gt__utf8_valid(const unsigned char *p, size_t n);

/* "(2, 3)" / "()" / "(5,)" into buf. */
char *gt__shape_fmt(char *buf, size_t n, int ndim, const int64_t *shape);
/* numel and numel * esize of a shape; false on a negative dim or overflow. */
bool gt__numel_bytes(int ndim, const int64_t *shape, size_t esize, int64_t *numel, size_t *nbytes);

static inline void gt__put_le16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void gt__put_le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void gt__put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t gt__le16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t gt__le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t gt__le64(const unsigned char *p) {
    return (uint64_t)gt__le32(p) | ((uint64_t)gt__le32(p + 4) << 32);
}

#endif
