/* libgantry_mpi.so: the MPI side of gantry/dist.h, loaded by src/dist/dist.c with dlopen when the
 * program runs under an MPI launcher. It holds only the MPI calls (no gantry code), so the library and
 * the program link no MPI. Errors come back as MPI's codes and text (MPI_ERRORS_RETURN on the world
 * communicator), not as an abort inside MPI, so gantry can say which rank and step failed. */
#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/dist.h"

static MPI_Comm gt__world = MPI_COMM_NULL;

static int gt__err(int rc, char *err, size_t errn) {
    if (rc == MPI_SUCCESS) return 0;
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(rc, s, &n) != MPI_SUCCESS) snprintf(s, sizeof s, "MPI error %d", rc);
    snprintf(err, errn, "%s", s);
    return rc;
}

static MPI_Datatype gt__type(int t) {
    return t == GT_DIST_F32 ? MPI_FLOAT : t == GT_DIST_F64 ? MPI_DOUBLE : t == GT_DIST_I64 ? MPI_INT64_T : MPI_UINT8_T;
}
static size_t gt__size(int t) { return t == GT_DIST_F32 ? 4 : t == GT_DIST_U8 ? 1 : 8; }
static MPI_Op gt__op(int op) { return op == GT_DIST_MIN ? MPI_MIN : op == GT_DIST_MAX ? MPI_MAX : MPI_SUM; }

static int gt__init(int *argc, char ***argv, int *rank, int *size, int *local_rank, int *local_size, char *lib,
                    size_t libn, char *err, size_t errn) {
    int provided = 0, rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return gt__err(rc, err, errn);
    if (provided < MPI_THREAD_FUNNELED) {
        snprintf(err, errn, "this MPI gives thread level %d, gantry needs MPI_THREAD_FUNNELED", provided);
        return 1;
    }
    if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &gt__world)) != MPI_SUCCESS) return gt__err(rc, err, errn);
    MPI_Comm_set_errhandler(gt__world, MPI_ERRORS_RETURN);
    MPI_Comm_rank(gt__world, rank);
    MPI_Comm_size(gt__world, size);
    MPI_Comm node;
    if ((rc = MPI_Comm_split_type(gt__world, MPI_COMM_TYPE_SHARED, *rank, MPI_INFO_NULL, &node)) != MPI_SUCCESS)
        return gt__err(rc, err, errn);
    MPI_Comm_rank(node, local_rank);
    MPI_Comm_size(node, local_size);
    MPI_Comm_free(&node);
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int vn = 0;
    MPI_Get_library_version(v, &vn);
    char *nl = strpbrk(v, "\n,");
    if (nl) *nl = 0;
    snprintf(lib, libn, "%s", v);
    return 0;
}

static void gt__finalize(void) {
    if (gt__world != MPI_COMM_NULL) MPI_Comm_free(&gt__world);
    MPI_Finalize();
}

static void gt__abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

/* Counts over INT_MAX go in pieces. */
static int gt__allreduce(void *buf, size_t n, int t, int op, char *err, size_t errn) {
    char *p = buf;
    for (size_t at = 0; at < n;) {
        int k = n - at > (size_t)INT_MAX ? INT_MAX : (int)(n - at);
        int rc = MPI_Allreduce(MPI_IN_PLACE, p + at * gt__size(t), k, gt__type(t), gt__op(op), gt__world);
        if (rc != MPI_SUCCESS) return gt__err(rc, err, errn);
        at += (size_t)k;
    }
    return 0;
}

static int gt__iallreduce(void *buf, size_t n, int t, int op, void **req, char *err, size_t errn) {
    MPI_Request *r = malloc(sizeof *r);
    if (!r) {
        snprintf(err, errn, "out of memory");
        return 1;
    }
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, gt__type(t), gt__op(op), gt__world, r);
    if (rc != MPI_SUCCESS) {
        free(r);
        return gt__err(rc, err, errn);
    }
    *req = r;
    return 0;
}

static int gt__test(void *req, int *done, char *err, size_t errn) {
    return gt__err(MPI_Test((MPI_Request *)req, done, MPI_STATUS_IGNORE), err, errn);
}

static int gt__wait(void *req, char *err, size_t errn) {
    int rc = MPI_Wait((MPI_Request *)req, MPI_STATUS_IGNORE);
    free(req);
    return gt__err(rc, err, errn);
}

static int gt__bcast(void *buf, size_t bytes, int root, char *err, size_t errn) {
    char *p = buf;
    for (size_t at = 0; at < bytes;) {
        int k = bytes - at > (size_t)INT_MAX ? INT_MAX : (int)(bytes - at);
        int rc = MPI_Bcast(p + at, k, MPI_BYTE, root, gt__world);
        if (rc != MPI_SUCCESS) return gt__err(rc, err, errn);
        at += (size_t)k;
    }
    return 0;
}

static int gt__allgather(const void *send, size_t bytes, void *recv, char *err, size_t errn) {
    if (bytes > (size_t)INT_MAX) {
        snprintf(err, errn, "allgather of %zu bytes per rank (at most %d)", bytes, INT_MAX);
        return 1;
    }
    return gt__err(MPI_Allgather(send, (int)bytes, MPI_BYTE, recv, (int)bytes, MPI_BYTE, gt__world), err, errn);
}

static int gt__gatherv(const void *send, size_t bytes, void *recv, const size_t *counts, int root, char *err,
                       size_t errn) {
    int rank = 0, size = 1;
    MPI_Comm_rank(gt__world, &rank);
    MPI_Comm_size(gt__world, &size);
    int *cn = NULL, *dp = NULL;
    if (rank == root) {
        cn = malloc((size_t)size * sizeof *cn), dp = malloc((size_t)size * sizeof *dp);
        size_t at = 0;
        for (int r = 0; cn && dp && r < size; r++) {
            if (counts[r] > (size_t)INT_MAX || at > (size_t)INT_MAX) {
                snprintf(err, errn, "gatherv of %zu bytes in all (at most %d)", at + counts[r], INT_MAX);
                free(cn), free(dp);
                return 1;
            }
            cn[r] = (int)counts[r], dp[r] = (int)at, at += counts[r];
        }
        if (!cn || !dp) {
            free(cn), free(dp);
            snprintf(err, errn, "out of memory");
            return 1;
        }
    }
    if (bytes > (size_t)INT_MAX) {
        free(cn), free(dp);
        snprintf(err, errn, "gatherv of %zu bytes from one rank (at most %d)", bytes, INT_MAX);
        return 1;
    }
    int rc = MPI_Gatherv(send, (int)bytes, MPI_BYTE, recv, cn, dp, MPI_BYTE, root, gt__world);
    free(cn), free(dp);
    return gt__err(rc, err, errn);
}

static int gt__barrier(char *err, size_t errn) { return gt__err(MPI_Barrier(gt__world), err, errn); }

__attribute__((visibility("default"))) const gt_dist_plugin gt_dist_plugin_v1 = {
    GT_DIST_ABI, gt__init,   gt__finalize, gt__abort,   gt__allreduce, gt__iallreduce,
    gt__test,    gt__wait,   gt__bcast,    gt__allgather, gt__gatherv,  gt__barrier,
};
