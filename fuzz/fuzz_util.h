/* fuzz/fuzz_util.h - what the libFuzzer harnesses share: a scratch folder in /dev/shm (removed
 * at exit), writing an input to a file there, one OpenMP thread, and a check that aborts (a
 * crash libFuzzer reports and saves) when a property of the code under test does not hold. */
#ifndef GT_FUZZ_UTIL_H
#define GT_FUZZ_UTIL_H


#include <ftw.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gantry/base.h"

/* A broken property (not a rejected input): print and abort, so libFuzzer saves the input. */
#define GT_FUZZ_CHECK(cond, ...)                                                                                   \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                                          \
            fprintf(stderr, "\n");                                                                                 \
            abort();                                                                                               \
        }                                                                                                          \
    } while (0)

static char gt_fuzz_dir[256];

static inline int gt_fuzz_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}
static inline void gt_fuzz_cleanup(void) {
    if (gt_fuzz_dir[0]) nftw(gt_fuzz_dir, gt_fuzz_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* The process's scratch folder ($GANTRY_FUZZ_TMP/gantry-fuzz-XXXXXX, else in /dev/shm, else $TMPDIR),
 * created on the first call; one OpenMP thread (the harness is one fuzzing process on one core). */
static const char *gt_fuzz_scratch(void) {
    if (gt_fuzz_dir[0]) return gt_fuzz_dir;
    omp_set_num_threads(1);
    struct stat sb;
    const char *base = getenv("GANTRY_FUZZ_TMP"); /* fuzz/run.sh's own folder, removed also after a crash */
    if (!base || !*base)
        base = stat("/dev/shm", &sb) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm"
               : getenv("TMPDIR")                                            ? getenv("TMPDIR")
                                                                             : "/tmp";
    snprintf(gt_fuzz_dir, sizeof gt_fuzz_dir, "%s/gantry-fuzz-XXXXXX", base);
    if (!mkdtemp(gt_fuzz_dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(gt_fuzz_cleanup);
    return gt_fuzz_dir;
}

/* scratch/rel (the folders on rel's way are created). */
static inline void gt_fuzz_path(char *out, size_t n, const char *rel) {
    snprintf(out, n, "%s/%s", gt_fuzz_scratch(), rel);
    for (char *p = out + strlen(gt_fuzz_dir) + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        mkdir(out, 0700);
        *p = '/';
    }
}

/* Writes d[n] to path (plain stdio: the harness's own file, not the code under test). */
static inline void gt_fuzz_write(const char *path, const void *d, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

#endif
