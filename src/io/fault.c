/* Injected file faults (a testing hook, gantry/io.h): the k-th write, fsync or
 * rename of the atomic file layer fails with a chosen errno. Armed by
 * gt_fault_set, or by GANTRY_FAULT="op:k:ERRNO[:path-part],..." read once at
 * the first file operation of the process. Counters are atomics: writers on
 * several threads each see one number. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/io.h"
#include "io_internal.h"

typedef struct {
    atomic_long seen;  /* operations counted since the op was armed / reset */
    atomic_long k;     /* fail the k-th (1-based); 0 = disarmed */
    atomic_int err;
    char part[128];    /* only paths containing this count ("" = all) */
} gt__fault;

static gt__fault gt__faults[GT_FAULT_OP_COUNT];
static atomic_int gt__env_read; /* 0 not yet, 1 being read, 2 done */

static const char *const gt__op_names[GT_FAULT_OP_COUNT] = {"write", "fsync", "rename"};

const char *gt_fault_op_name(gt_fault_op op) {
    return op >= 0 && op < GT_FAULT_OP_COUNT ? gt__op_names[op] : "?";
}

static int gt__errno_parse(const char *s) {
    static const struct { const char *name; int v; } names[] = {
        {"ENOSPC", ENOSPC}, {"EIO", EIO}, {"EDQUOT", EDQUOT}, {"EFBIG", EFBIG}, {"EROFS", EROFS},
        {"EACCES", EACCES}, {"EPERM", EPERM}, {"EINTR", EINTR}, {"EXDEV", EXDEV}, {"ENOMEM", ENOMEM},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) return names[i].v;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return end && end != s && !*end && v > 0 && v < 4096 ? (int)v : 0;
}

static void gt__arm(gt_fault_op op, long k, int err, const char *part) {
    gt__fault *f = &gt__faults[op];
    atomic_store(&f->k, 0);
    snprintf(f->part, sizeof f->part, "%s", part ? part : "");
    atomic_store(&f->seen, 0);
    atomic_store(&f->err, err);
    atomic_store(&f->k, k > 0 ? k : 0);
}

/* GANTRY_FAULT: comma-separated "op:k:ERRNO[:path-part]"; a malformed entry
 * is reported on stderr once and ignored (a test that sets it sees why). */
static void gt__read_env(void) {
    int expect = 0;
    if (!atomic_compare_exchange_strong(&gt__env_read, &expect, 1)) {
        while (atomic_load(&gt__env_read) != 2) {
        }
        return;
    }
    const char *env = getenv("GANTRY_FAULT");
    char *copy = env && *env ? strdup(env) : NULL;
    char *save = NULL;
    for (char *item = copy ? strtok_r(copy, ",", &save) : NULL; item; item = strtok_r(NULL, ",", &save)) {
        char shown[160];
        snprintf(shown, sizeof shown, "%s", item);
        char *f[4] = {0};
        int nf = 0;
        for (char *p = item; nf < 4; nf++) {
            f[nf] = p;
            char *c = nf < 3 ? strchr(p, ':') : NULL;
            if (!c) {
                nf++;
                break;
            }
            *c = 0;
            p = c + 1;
        }
        int op = -1;
        for (int i = 0; i < GT_FAULT_OP_COUNT; i++)
            if (f[0] && strcmp(f[0], gt__op_names[i]) == 0) op = i;
        char *end = NULL;
        long k = nf >= 2 ? strtol(f[1], &end, 10) : 0;
        int err = nf >= 3 ? gt__errno_parse(f[2]) : 0;
        if (op < 0 || nf < 3 || !end || *end || k < 1 || !err) {
            fprintf(stderr, "gantry: GANTRY_FAULT: ignoring '%s' (expected op:k:ERRNO[:path-part], op one of write, "
                            "fsync, rename, e.g. write:3:ENOSPC)\n", shown);
            continue;
        }
        gt__arm((gt_fault_op)op, k, err, nf == 4 ? f[3] : NULL);
    }
    free(copy);
    atomic_store(&gt__env_read, 2);
}

void gt_fault_set(gt_fault_op op, long k, int err, const char *path_part) {
    if (atomic_load(&gt__env_read) != 2) gt__read_env();
    if (op < 0 || op >= GT_FAULT_OP_COUNT) return;
    gt__arm(op, k, err > 0 ? err : EIO, path_part);
}

void gt_fault_reset(void) {
    if (atomic_load(&gt__env_read) != 2) gt__read_env();
    for (int i = 0; i < GT_FAULT_OP_COUNT; i++) gt__arm((gt_fault_op)i, 0, 0, NULL);
}

long gt_fault_count(gt_fault_op op) {
    return op >= 0 && op < GT_FAULT_OP_COUNT ? atomic_load(&gt__faults[op].seen) : 0;
}

int gt__fault_hit(gt_fault_op op, const char *path) {
    if (atomic_load(&gt__env_read) != 2) gt__read_env();
    gt__fault *f = &gt__faults[op];
    if (f->part[0] && (!path || !strstr(path, f->part))) return 0;
    long n = atomic_fetch_add(&f->seen, 1) + 1;
    long k = atomic_load(&f->k);
    return k > 0 && n == k ? atomic_load(&f->err) : 0;
}

gt_status gt_rename_durable(const char *from, const char *to) {
    if (!from || !to) return gt_set_error(GT_ERR_ARG, "gt_rename_durable: NULL path");
    int err = gt__fault_hit(GT_FAULT_RENAME, to);
    if (!err && rename(from, to) != 0) err = errno;
    if (err) return gt_set_error(GT_ERR_IO, "cannot rename '%s' to '%s': %s", from, to, strerror(err));
    gt__fsync_dir(to);
    return GT_OK;
}
