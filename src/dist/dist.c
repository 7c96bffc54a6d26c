/* The process group (gantry/dist.h): one process, or the ranks of an MPI job through the plugin
 * libgantry_mpi.so, loaded with dlopen so that the library and the program need no MPI to build or
 * to run alone. */
#include <dlfcn.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "gantry/dist.h"

static struct {
    const gt_dist_plugin *p; /* NULL: one process */
    void *handle;
    int rank, size, local_rank, local_size;
    bool finalized;
    char lib[160];
} gt__g = {NULL, NULL, 0, 1, 0, 1, false, "none"};

struct gt_dist_req {
    void *r;
};

static long gt__env_long(const char *name) {
    const char *v = getenv(name);
    if (!v || !v[0]) return -1;
    char *end = NULL;
    long x = strtol(v, &end, 10);
    return end && *end == 0 ? x : -1;
}

/* The group size an MPI launcher announced in the environment, 0 when none did. */
static long gt__launcher_size(void) {
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        long n = gt__env_long(vars[i]);
        if (n > 0) return n;
    }
    return getenv("PMIX_RANK") ? 2 : 0; /* PMIx without a size: assume a group, MPI will say */
}

long gt_dist_announced(void) { return gt__launcher_size(); }

/* Tries to dlopen the plugin at path; on success fills gt__g.p. */
static bool gt__try(const char *path) {
    if (access(path, R_OK) != 0) return false;
    /* RTLD_GLOBAL: Open MPI's own components, loaded later by libmpi, look up libmpi's symbols */
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        gt_set_error(GT_ERR_IO, "the MPI plugin %s could not be loaded: %s", path, dlerror());
        return false;
    }
    const gt_dist_plugin *p = (const gt_dist_plugin *)dlsym(h, "gt_dist_plugin_v1");
    if (!p || p->abi != GT_DIST_ABI) {
        gt_set_error(GT_ERR_FORMAT, "%s is not a gantry MPI plugin of this version (ABI %d)", path, GT_DIST_ABI);
        dlclose(h);
        return false;
    }
    gt__g.p = p, gt__g.handle = h;
    return true;
}

static bool gt__find_plugin(void) {
    const char *env = getenv("GANTRY_MPI_PLUGIN");
    if (env && env[0]) return gt__try(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return false;
    *slash = 0;
    const char *rel[] = {"/libgantry_mpi.so", "/../lib/gantry/libgantry_mpi.so",
                         "/../lib/x86_64-linux-gnu/gantry/libgantry_mpi.so", "/../lib64/gantry/libgantry_mpi.so"};
    char path[PATH_MAX + 64];
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        snprintf(path, sizeof path, "%s%s", exe, rel[i]);
        if (gt__try(path)) return true;
    }
    return false;
}

gt_status gt_dist_init(int *argc, char ***argv) {
    if (gt__g.p) return GT_OK;
    long announced = gt__launcher_size();
    const char *force = getenv("GANTRY_MPI");
    bool want = announced > 1 || (force && strcmp(force, "1") == 0);
    if (!want) return GT_OK;
    gt_clear_error();
    if (!gt__find_plugin()) {
        if (gt_last_status() != GT_OK) return gt_last_status();
        return gt_set_error(GT_ERR_STATE,
                            "started by an MPI launcher with %ld processes, but this gantry has no MPI plugin "
                            "(libgantry_mpi.so next to the program; it is built when CMake finds MPI, e.g. Debian's "
                            "libopenmpi-dev): each process would train alone",
                            announced);
    }
    char err[256] = "";
    int rc = gt__g.p->init(argc, argv, &gt__g.rank, &gt__g.size, &gt__g.local_rank, &gt__g.local_size, gt__g.lib,
                           sizeof gt__g.lib, err, sizeof err);
    if (rc != 0) {
        gt__g.p = NULL;
        return gt_set_error(GT_ERR_IO, "MPI_Init failed: %s", err);
    }
    return GT_OK;
}

void gt_dist_finalize(void) {
    if (gt__g.p && !gt__g.finalized) gt__g.p->finalize();
    gt__g.finalized = true;
}

gt_dist_abort_fn gt_dist_aborter(void) { return gt__g.p && !gt__g.finalized ? gt__g.p->abort : NULL; }

bool gt_dist_active(void) { return gt__g.p && !gt__g.finalized && gt__g.size > 1; }
int gt_dist_rank(void) { return gt__g.rank; }
int gt_dist_size(void) { return gt__g.size; }
int gt_dist_local_rank(void) { return gt__g.local_rank; }
int gt_dist_local_size(void) { return gt__g.local_size; }
const char *gt_dist_library(void) { return gt__g.lib; }

static gt_status gt__fail(const char *what, const char *err) {
    return gt_set_error(GT_ERR_IO, "rank %d of %d: %s failed: %s", gt__g.rank, gt__g.size, what, err);
}

static bool gt__type_ok(gt_dist_type t, gt_dist_op op) {
    return (t == GT_DIST_F32 || t == GT_DIST_F64 || t == GT_DIST_I64 || t == GT_DIST_U8) &&
           (op == GT_DIST_SUM || op == GT_DIST_MIN || op == GT_DIST_MAX);
}

gt_status gt_dist_allreduce(void *buf, size_t n, gt_dist_type type, gt_dist_op op) {
    if (!gt__type_ok(type, op) || (!buf && n)) return gt_set_error(GT_ERR_ARG, "gt_dist_allreduce: bad arguments");
    if (!gt_dist_active() || n == 0) return GT_OK;
    char err[256] = "";
    return gt__g.p->allreduce(buf, n, (int)type, (int)op, err, sizeof err) ? gt__fail("allreduce", err) : GT_OK;
}

gt_status gt_dist_iallreduce(void *buf, size_t n, gt_dist_type type, gt_dist_op op, gt_dist_req **req) {
    if (!req) return gt_set_error(GT_ERR_ARG, "gt_dist_iallreduce: req is NULL");
    *req = NULL;
    if (!gt__type_ok(type, op) || (!buf && n)) return gt_set_error(GT_ERR_ARG, "gt_dist_iallreduce: bad arguments");
    if (n > (size_t)INT_MAX) return gt_set_error(GT_ERR_ARG, "gt_dist_iallreduce: %zu elements, at most %d", n, INT_MAX);
    if (!gt_dist_active() || n == 0) return GT_OK;
    gt_dist_req *r = calloc(1, sizeof *r);
    if (!r) return gt_set_error(GT_ERR_OOM, "gt_dist_iallreduce: out of memory");
    char err[256] = "";
    if (gt__g.p->iallreduce(buf, n, (int)type, (int)op, &r->r, err, sizeof err)) {
        free(r);
        return gt__fail("iallreduce", err);
    }
    *req = r;
    return GT_OK;
}

gt_status gt_dist_test(gt_dist_req *req, bool *done) {
    if (!done) return gt_set_error(GT_ERR_ARG, "gt_dist_test: done is NULL");
    *done = true;
    if (!req || !req->r) return GT_OK;
    char err[256] = "";
    int d = 0;
    if (gt__g.p->test(req->r, &d, err, sizeof err)) return gt__fail("test of an iallreduce", err);
    *done = d != 0;
    return GT_OK;
}

gt_status gt_dist_wait(gt_dist_req *req) {
    if (!req) return GT_OK;
    char err[256] = "";
    int rc = req->r ? gt__g.p->wait(req->r, err, sizeof err) : 0;
    free(req);
    return rc ? gt__fail("wait for an iallreduce", err) : GT_OK;
}

gt_status gt_dist_bcast(void *buf, size_t bytes, int root) {
    if ((!buf && bytes) || root < 0 || root >= gt__g.size) return gt_set_error(GT_ERR_ARG, "gt_dist_bcast: bad arguments");
    if (!gt_dist_active() || bytes == 0) return GT_OK;
    char err[256] = "";
    return gt__g.p->bcast(buf, bytes, root, err, sizeof err) ? gt__fail("broadcast", err) : GT_OK;
}

gt_status gt_dist_allgather(const void *send, size_t bytes, void *recv) {
    if ((!send || !recv) && bytes) return gt_set_error(GT_ERR_ARG, "gt_dist_allgather: bad arguments");
    if (!gt_dist_active()) {
        if (bytes && recv != send) memmove(recv, send, bytes);
        return GT_OK;
    }
    char err[256] = "";
    return gt__g.p->allgather(send, bytes, recv, err, sizeof err) ? gt__fail("allgather", err) : GT_OK;
}

gt_status gt_dist_gatherv(const void *send, size_t bytes, void *recv, const size_t *counts, int root) {
    if ((!send && bytes) || root < 0 || root >= gt__g.size || (gt__g.rank == root && (!counts || (!recv && bytes))))
        return gt_set_error(GT_ERR_ARG, "gt_dist_gatherv: bad arguments");
    if (!gt_dist_active()) {
        if (bytes && recv != send) memmove(recv, send, bytes);
        return GT_OK;
    }
    char err[256] = "";
    return gt__g.p->gatherv(send, bytes, recv, counts, root, err, sizeof err) ? gt__fail("gatherv", err) : GT_OK;
}

gt_status gt_dist_barrier(void) {
    if (!gt_dist_active()) return GT_OK;
    char err[256] = "";
    return gt__g.p->barrier(err, sizeof err) ? gt__fail("barrier", err) : GT_OK;
}
