/* Small text helpers for the file formats: a growing buffer, JSON string
 * escaping and a UTF-8 check. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "io_internal.h"

bool gt__buf_reserve(gt_buf *b, size_t n) {
    if (b->oom) return false;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return false;
        }
        b->p = p;
        b->cap = cap;
    }
    return true;
}

void gt__buf_add(gt_buf *b, const void *data, size_t n) {
    if (!gt__buf_reserve(b, n)) return;
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = 0;
}

void gt__buf_puts(gt_buf *b, const char *s) { gt__buf_add(b, s, strlen(s)); }

void gt__buf_printf(gt_buf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)k < sizeof tmp) {
        gt__buf_add(b, tmp, (size_t)k);
        return;
    }
    char *big = malloc((size_t)k + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    gt__buf_add(b, big, (size_t)k);
    free(big);
}

void gt__buf_json_str(gt_buf *b, const char *s) {
    gt__buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': gt__buf_puts(b, "\\\""); break;
        case '\\': gt__buf_puts(b, "\\\\"); break;
        case '\n': gt__buf_puts(b, "\\n"); break;
        case '\r': gt__buf_puts(b, "\\r"); break;
        case '\t': gt__buf_puts(b, "\\t"); break;
        case '\b': gt__buf_puts(b, "\\b"); break;
        case '\f': gt__buf_puts(b, "\\f"); break;
        default:
            if (*p < 0x20) gt__buf_printf(b, "\\u%04x", *p);
            else gt__buf_add(b, p, 1);
        }
    }
    gt__buf_puts(b, "\"");
}

bool gt__utf8_valid(const unsigned char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int k;
        unsigned min;
        if ((c & 0xE0) == 0xC0) k = 1, min = 0x80, c &= 0x1F;
        else if ((c & 0xF0) == 0xE0) k = 2, min = 0x800, c &= 0x0F;
        else if ((c & 0xF8) == 0xF0) k = 3, min = 0x10000, c &= 0x07;
        else return false;
        if (n - i <= (size_t)k) return false;
        for (int j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80) return false;
            c = (c << 6) | (p[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
        i += (size_t)k + 1;
    }
    return true;
}

const char *gt_fmt_double(double v, char *buf, size_t n) {
    if (!isfinite(v)) {
        snprintf(buf, n, "null");
        return buf;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, n, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    return buf;
}

cJSON *gt_json_add_number(cJSON *obj, const char *key, double v) {
    char b[40];
    return cJSON_AddRawToObject(obj, key, gt_fmt_double(v, b, sizeof b));
}
