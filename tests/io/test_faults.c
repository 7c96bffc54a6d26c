/* Injected file faults (gt_fault_set, GANTRY_FAULT): for a checkpoint save, a
 * FID statistics cache write, a C export and a PNG sample grid, the writes, fsyncs and renames
 * of one save are counted with the hook, then each k-th one of each kind is
 * made to fail in turn (ENOSPC and EIO). Every time: the save fails with a
 * message naming the file and the error's text, the previous file is still
 * there byte for byte and loads, and the folder holds no temporary file. */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "../common/harness.h"
#include "gantry/compress.h"
#include "gantry/image.h"
#include "gantry/metrics.h"

/* --- helpers ------------------------------------------------------------------ */
static unsigned char *read_all(const char *path, size_t *n) {
    void *b = NULL;
    if (gt_read_file(path, &b, n, 0) != GT_OK) return NULL;
    return b;
}

/* Every entry of dir but . and ..: exactly the one name `only`. */
static bool folder_holds_only(const char *dir, const char *only) {
    DIR *d = opendir(dir);
    if (!d) return false;
    struct dirent *e;
    int n = 0;
    bool ok = true;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        n++;
        if (strcmp(e->d_name, only) != 0) {
            fprintf(stderr, "  unexpected file in %s: %s\n", dir, e->d_name);
            ok = false;
        }
    }
    closedir(d);
    return ok && n == 1;
}

typedef struct {
    const char *what;
    const char *dir;  /* the folder the file is written in */
    const char *name; /* the file's name there */
    gt_status (*save)(void *ctx, int version); /* writes version 1 or 2 to dir/name */
    bool (*loads_v1)(void *ctx);               /* the file at dir/name loads and is version 1 */
    void *ctx;
} target;

/* Counts one save's ops; then each k of each kind fails the save. Returns the
 * number of injected failures tried. */
static int sweep(const target *t) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", t->dir, t->name);
    gt_fault_reset();
    CHECK_MSG(t->save(t->ctx, 1) == GT_OK, "%s: first save: %s", t->what, gt_last_error());
    size_t n1 = 0;
    unsigned char *v1 = read_all(path, &n1);
    CHECK_MSG(v1 != NULL, "%s: cannot read back %s", t->what, path);
    if (!v1) return 0;
    /* count the ops of one save (version 2, written then put back to version 1) */
    gt_fault_reset();
    CHECK(t->save(t->ctx, 2) == GT_OK);
    long count[GT_FAULT_OP_COUNT];
    for (int op = 0; op < GT_FAULT_OP_COUNT; op++) count[op] = gt_fault_count((gt_fault_op)op);
    printf("%s: one save = %ld writes, %ld fsyncs, %ld renames\n", t->what, count[0], count[1], count[2]);
    CHECK(count[GT_FAULT_WRITE] >= 1 && count[GT_FAULT_FSYNC] == 1 && count[GT_FAULT_RENAME] == 1);
    CHECK(t->save(t->ctx, 1) == GT_OK);
    int tried = 0;
    for (int op = 0; op < GT_FAULT_OP_COUNT; op++)
        for (long k = 1; k <= count[op]; k++) {
            int err = (k + op) % 2 ? ENOSPC : EIO;
            gt_fault_reset();
            gt_fault_set((gt_fault_op)op, k, err, NULL);
            gt_clear_error();
            gt_status st = t->save(t->ctx, 2);
            const char *msg = gt_last_error();
            tried++;
            CHECK_MSG(st == GT_ERR_IO, "%s: %s %ld of %ld injected: status %d", t->what, gt_fault_op_name(op), k,
                      count[op], (int)st);
            CHECK_MSG(strstr(msg, path) && strstr(msg, strerror(err)),
                      "%s: %s %ld: the message names neither '%s' nor '%s': %s", t->what, gt_fault_op_name(op), k,
                      path, strerror(err), msg);
            size_t n = 0;
            unsigned char *now = read_all(path, &n);
            CHECK_MSG(now && n == n1 && memcmp(now, v1, n1) == 0, "%s: %s %ld: the previous file changed",
                      t->what, gt_fault_op_name(op), k);
            free(now);
            CHECK_MSG(t->loads_v1(t->ctx), "%s: %s %ld: the previous file does not load as it was: %s", t->what,
                      gt_fault_op_name(op), k, gt_last_error());
            CHECK_MSG(folder_holds_only(t->dir, t->name), "%s: %s %ld: a temporary file was left", t->what,
                      gt_fault_op_name(op), k);
            CHECK(gt_fault_count((gt_fault_op)op) >= k); /* the hook saw the injected op */
        }
    /* disarmed, the same save goes through */
    gt_fault_reset();
    CHECK_MSG(t->save(t->ctx, 2) == GT_OK, "%s: save after the faults: %s", t->what, gt_last_error());
    size_t n2 = 0;
    unsigned char *v2 = read_all(path, &n2);
    CHECK(v2 && (n2 != n1 || memcmp(v2, v1, n1) != 0));
    free(v2);
    free(v1);
    return tried;
}

static const char *subdir(const char *name) {
    const char *d = gt_test_path(name);
    CHECK(mkdir(d, 0755) == 0);
    return d;
}

/* --- a checkpoint (gt_ckpt_save: parameters and counters in a safetensors file) --- */
typedef struct {
    gt_params P;
    uint64_t step;
    gt_ckpt c;
    char path[1024];
} ckpt_ctx;

static void ckpt_fill(ckpt_ctx *x, int version) {
    for (int i = 0; i < x->P.n; i++) {
        float *d = gt_data(x->P.v[i].t);
        for (int64_t j = 0; j < gt_numel(x->P.v[i].t); j++) d[j] = (float)(version * 100 + i) + 0.25f * (float)j;
    }
    x->step = (uint64_t)version * 1000;
}

static gt_status ckpt_save(void *ctx, int version) {
    ckpt_ctx *x = ctx;
    ckpt_fill(x, version);
    return gt_ckpt_save(&x->c, x->path);
}

static bool ckpt_loads_v1(void *ctx) {
    ckpt_ctx *x = ctx;
    ckpt_fill(x, 7); /* overwritten by the load */
    if (gt_ckpt_load(&x->c, x->path, 0) != GT_OK) return false;
    bool ok = x->step == 1000;
    for (int i = 0; i < x->P.n; i++) {
        const float *d = gt_data(x->P.v[i].t);
        for (int64_t j = 0; j < gt_numel(x->P.v[i].t); j++) ok = ok && d[j] == (float)(100 + i) + 0.25f * (float)j;
    }
    return ok;
}

static void test_checkpoint(void) {
    ckpt_ctx x;
    gt_params_init(&x.P);
    int sc = gt_scope_begin();
    CHECK(gt_params_add(&x.P, "conv.weight", gt_zeros(2, (const int64_t[]){8, 9}), false) == GT_OK);
    CHECK(gt_params_add(&x.P, "conv.bias", gt_zeros(1, (const int64_t[]){8}), false) == GT_OK);
    CHECK(gt_params_add(&x.P, "fc.weight", gt_zeros(2, (const int64_t[]){3, 5}), false) == GT_OK);
    gt_scope_end(sc);
    CHECK(gt_params_finalize(&x.P) == GT_OK);
    gt_ckpt_init(&x.c);
    CHECK(gt_ckpt_add_params(&x.c, "G.", &x.P) == GT_OK);
    CHECK(gt_ckpt_add_u64(&x.c, "train.step", &x.step, 1) == GT_OK);
    const char *dir = subdir("ckpt");
    snprintf(x.path, sizeof x.path, "%s/last.safetensors", dir);
    target t = {"checkpoint", dir, "last.safetensors", ckpt_save, ckpt_loads_v1, &x};
    int n = sweep(&t);
    printf("checkpoint: %d injected faults\n", n);
    CHECK(n >= 6); /* header length, header, 4 tensors; fsync; rename */
    gt_ckpt_free(&x.c);
    gt_params_free(&x.P);
}

/* --- the FID statistics cache (gt_stats_cache_store: an .npz under $GANTRY_CACHE/stats) --- */
typedef struct {
    gt_fid_stats s;
    char path[1024];
} stats_ctx;

static void stats_fill(stats_ctx *x, int version) {
    for (int64_t i = 0; i < x->s.dim; i++) x->s.mu[i] = version + 0.5 * (double)i;
    for (int64_t i = 0; i < x->s.dim * x->s.dim; i++) x->s.sigma[i] = version * 0.125;
}

static gt_status stats_save(void *ctx, int version) {
    stats_ctx *x = ctx;
    stats_fill(x, version);
    return gt_stats_cache_store("folder:/data/some images", "fmnist", "none", 64, &x->s);
}

static bool stats_loads_v1(void *ctx) {
    stats_ctx *x = ctx;
    gt_fid_stats got = {0};
    if (gt_stats_cache_load("folder:/data/some images", "fmnist", "none", 64, &got) != GT_OK) return false;
    stats_fill(x, 1);
    bool ok = got.dim == x->s.dim && memcmp(got.mu, x->s.mu, sizeof(double) * (size_t)got.dim) == 0 &&
              memcmp(got.sigma, x->s.sigma, sizeof(double) * (size_t)(got.dim * got.dim)) == 0;
    gt_fid_stats_free(&got);
    return ok;
}

static void test_stats_cache(void) {
    const char *cache = subdir("cache");
    CHECK(setenv("GANTRY_CACHE", cache, 1) == 0);
    stats_ctx x;
    memset(&x, 0, sizeof x);
    x.s.dim = 6;
    x.s.mu = calloc(6, sizeof(double));
    x.s.sigma = calloc(36, sizeof(double));
    CHECK(gt_stats_cache_path("folder:/data/some images", "fmnist", "none", 64, x.path, sizeof x.path) == GT_OK);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", x.path);
    char *slash = strrchr(dir, '/');
    CHECK(slash != NULL);
    if (!slash) return;
    *slash = 0;
    target t = {"stats cache", dir, slash + 1, stats_save, stats_loads_v1, &x};
    int n = sweep(&t);
    printf("stats cache: %d injected faults\n", n);
    CHECK(n >= 3);
    free(x.s.mu);
    free(x.s.sigma);
    unsetenv("GANTRY_CACHE");
}

/* --- a C export (gt_prog_export_c, what `gantry export` writes) --------------- */
typedef struct {
    gt_prog p[2]; /* versions 1 and 2: different weights */
    char path[1024];
} export_ctx;

static gt_status export_save(void *ctx, int version) {
    export_ctx *x = ctx;
    return gt_prog_export_c(&x->p[version - 1], x->path, NULL);
}

static bool export_loads_v1(void *ctx) {
    export_ctx *x = ctx;
    size_t n = 0;
    unsigned char *b = read_all(x->path, &n);
    /* whole: the function's closing brace is the file's end, and the version-1 weight is in it */
    bool ok = b && n > 2 && strstr((char *)b, "void generate(const float *in, float *out)") &&
              strstr((char *)b, "0x1.8p+0") && strcmp((char *)b + n - 2, "}\n") == 0;
    free(b);
    return ok;
}

static void test_export(void) {
    export_ctx x;
    for (int v = 0; v < 2; v++) {
        float w[4 * 3], b[3];
        for (int i = 0; i < 12; i++) w[i] = (v + 1) * 1.5f + 0.125f * (float)i;
        for (int i = 0; i < 3; i++) b[i] = 0.5f * (float)(v + i);
        gt_prog_init(&x.p[v], "t", false, 4, 1, 1);
        CHECK(gt_prog_push_layer(&x.p[v], GT_PROG_LINEAR, 4, 3, 1, 1, 0, 0, w, b) == GT_OK);
        gt_prog_push(&x.p[v], GT_PROG_TANH);
        CHECK_MSG(gt_prog_finish(&x.p[v]) == GT_OK, "%s", gt_last_error());
    }
    const char *dir = subdir("export");
    snprintf(x.path, sizeof x.path, "%s/gen.c", dir);
    target t = {"export", dir, "gen.c", export_save, export_loads_v1, &x};
    int n = sweep(&t);
    printf("export: %d injected faults\n", n);
    CHECK(n >= 3);
    gt_prog_free(&x.p[0]);
    gt_prog_free(&x.p[1]);
}

/* --- a sample grid (gt_save_grid: a PNG, what training writes to samples/) ----- */
typedef struct {
    gt_tensor *x[2]; /* versions 1 and 2: (4, 1, 6, 6) images */
    char path[1024];
} grid_ctx;

static gt_status grid_save(void *ctx, int version) {
    grid_ctx *g = ctx;
    return gt_save_grid(g->path, g->x[version - 1], 2, 1);
}

static bool grid_loads_v1(void *ctx) {
    grid_ctx *g = ctx;
    gt_image got = {0}, want = {0};
    bool ok = gt_image_load(g->path, &got) == GT_OK && gt_make_grid(g->x[0], 2, 1, &want) == GT_OK &&
              got.w == want.w && got.h == want.h && got.c == want.c &&
              memcmp(got.data, want.data, (size_t)(got.w * got.h * got.c)) == 0;
    gt_image_free(&got);
    gt_image_free(&want);
    return ok;
}

static void test_grid(void) {
    grid_ctx g;
    for (int v = 0; v < 2; v++) g.x[v] = gt_test_uniform(40 + (uint64_t)v, 4, (const int64_t[]){4, 1, 6, 6}, -1, 1);
    const char *dir = subdir("grid");
    snprintf(g.path, sizeof g.path, "%s/last.png", dir);
    target t = {"grid", dir, "last.png", grid_save, grid_loads_v1, &g};
    int n = sweep(&t);
    printf("grid: %d injected faults\n", n);
    CHECK(n >= 3);
}

/* --- the hook itself ------------------------------------------------------------ */
static void test_hook(void) {
    const char *dir = subdir("hook");
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/a.bin", dir);
    snprintf(b, sizeof b, "%s/b.bin", dir);
    /* only paths containing the part count; the fault fires once */
    gt_fault_reset();
    gt_fault_set(GT_FAULT_WRITE, 2, ENOSPC, "b.bin");
    CHECK(gt_write_file_atomic(a, "x", 1) == GT_OK);
    CHECK(gt_write_file_atomic(a, "x", 1) == GT_OK);
    CHECK(gt_fault_count(GT_FAULT_WRITE) == 0);
    CHECK(gt_write_file_atomic(b, "x", 1) == GT_OK);
    CHECK(gt_write_file_atomic(b, "y", 1) == GT_ERR_IO && strstr(gt_last_error(), strerror(ENOSPC)));
    CHECK(gt_write_file_atomic(b, "z", 1) == GT_OK);
    CHECK(gt_fault_count(GT_FAULT_WRITE) == 3);
    /* gt_rename_durable goes through the hook */
    gt_fault_reset();
    gt_fault_set(GT_FAULT_RENAME, 1, EIO, NULL);
    CHECK(gt_rename_durable(a, b) == GT_ERR_IO && strstr(gt_last_error(), b) && strstr(gt_last_error(), strerror(EIO)));
    struct stat sb;
    CHECK(stat(a, &sb) == 0);
    CHECK(gt_rename_durable(a, b) == GT_OK && stat(a, &sb) != 0);
    gt_fault_reset();
    CHECK(strcmp(gt_fault_op_name(GT_FAULT_FSYNC), "fsync") == 0);
}

int main(void) {
    RUN(test_hook);
    RUN(test_checkpoint);
    RUN(test_stats_cache);
    RUN(test_export);
    RUN(test_grid);
    return gt_test_finish();
}
