/* Small helpers the io tests share (header-only, static). */
#ifndef GT_IO_TEST_UTIL_H
#define GT_IO_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "gantry.h"

/* Temporary files of an atomic write of base ("." base ".tmp.*") in dir. */
static inline int io_count_temps(const char *dir, const char *base) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    char pre[300];
    snprintf(pre, sizeof pre, ".%s.tmp.", base);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, pre, strlen(pre)) == 0) n++;
    closedir(d);
    return n;
}

static inline bool io_write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* A deterministic random stream (splitmix64). */
static inline uint64_t io_rand(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
