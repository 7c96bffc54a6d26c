/* tests/reliability/kill_util.h - what the kill tests share: a deterministic source of kill
 * moments, sleeping, temporary files left in a folder, and comparing two checkpoints' tensors. */
#ifndef GT_TEST_KILL_UTIL_H
#define GT_TEST_KILL_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>

#include "../cli/cli_util.h"

/* A whole file as a NUL-terminated string (malloc'd), or NULL; *n its length. */
static inline char *gt_kill_text(const char *path, size_t *n) {
    unsigned char *b = gt_test_read_all(path, n);
    if (b) b[*n] = 0; /* gt_test_read_all leaves room for it */
    return (char *)b;
}

/* gt_cli_spawn (whose child dies with the test process) */
#define gt_kill_spawn gt_cli_spawn

/* The kill moments: a fixed LCG, so every run of a test kills at the same offsets. */
static uint64_t gt_kill_rng = 18;
static inline int gt_kill_ms(int lo, int hi) {
    gt_kill_rng = gt_kill_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (int)((gt_kill_rng >> 33) % (uint64_t)(hi - lo + 1));
}

static inline void gt_kill_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static inline double gt_kill_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Temporary files (".x.tmp.PID.*", ".x.link.PID") in dir and its sub-folders, one level down;
 * the first one's path into first. */
static inline int gt_kill_temps(const char *dir, char *first, size_t n, int depth) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *nm = e->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
        char p[4096];
        if (snprintf(p, sizeof p, "%s/%s", dir, nm) >= (int)sizeof p) continue;
        struct stat st;
        if (depth > 0 && stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            k += gt_kill_temps(p, k ? NULL : first, n, depth - 1);
            continue;
        }
        if (nm[0] == '.' && (strstr(nm, ".tmp.") || strstr(nm, ".link."))) {
            if (!k && first) snprintf(first, n, "%s", p);
            k++;
        }
    }
    closedir(d);
    return k;
}

/* A checkpoint's train.step, or -1. */
static inline long long gt_kill_ckpt_step(const char *path) {
    gt_safetensors s;
    gt_st_init(&s);
    long long step = -1;
    if (access(path, F_OK) == 0 && gt_st_load(&s, path) == GT_OK) {
        const gt_st_tensor *ts = gt_st_find(&s, "train.step");
        uint64_t v = 0;
        if (ts && ts->dtype == GT_ST_U64 && ts->numel == 1) memcpy(&v, ts->data, sizeof v), step = (long long)v;
    }
    gt_st_free(&s);
    return step;
}

/* Every tensor of a (weights, Adam moments, EMA, BN buffers, RNG and batcher states) equal, bit
 * for bit, to b's; the metadata (which names the run folder) is not compared. The name of the
 * first that differs into what. */
static inline bool gt_kill_same_tensors(const char *a, const char *b, char *what, size_t n) {
    gt_safetensors x, y;
    gt_st_init(&x);
    gt_st_init(&y);
    bool ok = gt_st_load(&x, a) == GT_OK && gt_st_load(&y, b) == GT_OK && x.n == y.n;
    snprintf(what, n, "%s", ok ? "" : "cannot load, or a different tensor count");
    for (int i = 0; ok && i < x.n; i++) {
        const gt_st_tensor *p = &x.t[i], *q = gt_st_find(&y, p->name);
        ok = q && q->nbytes == p->nbytes && memcmp(p->data, q->data, p->nbytes) == 0;
        if (!ok) snprintf(what, n, "%s", p->name);
    }
    gt_st_free(&x);
    gt_st_free(&y);
    return ok;
}

#endif
