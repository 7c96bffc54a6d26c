/* What a file holds, from its first bytes (not its name): the loaders use it
 * to send a file to the right parser and to say what was expected. */
#include <stdio.h>
#include <string.h>

#include "gantry/io.h"

static const char *const gt__kind_names[GT_FILE_KIND_COUNT] = {
    [GT_FILE_UNREADABLE] = "an unreadable file",
    [GT_FILE_UNKNOWN] = "a file of unknown format",
    [GT_FILE_EMPTY] = "an empty file",
    [GT_FILE_PNG] = "a PNG image",
    [GT_FILE_JPEG] = "a JPEG image",
    [GT_FILE_GZIP] = "a gzip file",
    [GT_FILE_IDX] = "an IDX file",
    [GT_FILE_NPY] = "a NumPy .npy array",
    [GT_FILE_ZIP] = "a ZIP archive (.npz, or a PyTorch .pth)",
    [GT_FILE_SAFETENSORS] = "a safetensors file",
    [GT_FILE_JSON] = "a JSON text",
};

const char *gt_file_kind_name(gt_file_kind k) {
    return (unsigned)k < GT_FILE_KIND_COUNT ? gt__kind_names[k] : "?";
}

gt_file_kind gt_file_sniff_bytes(const unsigned char *b, size_t n) {
    if (n == 0) return GT_FILE_EMPTY;
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) return GT_FILE_PNG;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return GT_FILE_JPEG;
    if (n >= 2 && b[0] == 0x1F && b[1] == 0x8B) return GT_FILE_GZIP;
    if (n >= 6 && !memcmp(b, "\x93NUMPY", 6)) return GT_FILE_NPY;
    if (n >= 4 && b[0] == 'P' && b[1] == 'K' && ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6)))
        return GT_FILE_ZIP;
    /* IDX: 0, 0, a type code (0x08 u8 ... 0x0E f64), 1-4 dimensions */
    if (n >= 4 && b[0] == 0 && b[1] == 0 && (b[2] == 0x08 || (b[2] >= 0x09 && b[2] <= 0x0E && b[2] != 0x0A)) &&
        b[3] >= 1 && b[3] <= 4)
        return GT_FILE_IDX;
    /* safetensors: a little-endian u64 header length, then '{' */
    if (n >= 9 && b[8] == '{') {
        unsigned long long len = 0;
        for (int i = 7; i >= 0; i--) len = len << 8 | b[i];
        if (len >= 2 && len <= GT_ST_MAX_HEADER) return GT_FILE_SAFETENSORS;
    }
    size_t i = 0;
    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) i = 3; /* a UTF-8 byte order mark */
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) i++;
    if (i < n && (b[i] == '{' || b[i] == '[')) return GT_FILE_JSON;
    return GT_FILE_UNKNOWN;
}

gt_file_kind gt_file_sniff(const char *path) {
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) return GT_FILE_UNREADABLE;
    unsigned char b[64];
    size_t n = fread(b, 1, sizeof b, f);
    bool err = ferror(f);
    fclose(f);
    return err ? GT_FILE_UNREADABLE : gt_file_sniff_bytes(b, n);
}
