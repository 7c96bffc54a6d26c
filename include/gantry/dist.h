/* gantry/dist.h - the process group of a data-parallel run (MPI), and the collectives gantry uses.
 *
 * gantry itself does no networking: when the program is started by an MPI launcher (`mpirun -np N
 * gantry train ...`, or a scheduler's srun), gt_dist_init loads the MPI plugin (libgantry_mpi.so,
 * built when CMake finds MPI; see mpi/gantry_mpi.c) with dlopen, and every collective below goes through
 * it. Without a launcher, or in the library used by itself, the group is one process and every
 * collective is the identity (a reduction leaves the buffer as it is), so single-process code needs no
 * MPI at build time nor at run time and calls the same functions.
 *
 * Only the thread that called gt_dist_init may call the collectives (MPI_THREAD_FUNNELED). Every
 * collective must be called by every rank in the same order. A failed collective returns GT_ERR_IO
 * with a message that names this rank, the operation and MPI's error text. */
#ifndef GANTRY_DIST_H
#define GANTRY_DIST_H

#include "gantry/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { GT_DIST_F32 = 0, GT_DIST_F64 = 1, GT_DIST_I64 = 2, GT_DIST_U8 = 3 } gt_dist_type;
typedef enum { GT_DIST_SUM = 0, GT_DIST_MIN = 1, GT_DIST_MAX = 2 } gt_dist_op;

/* Joins the process group when started by an MPI launcher (the environment names one: Open MPI's
 * OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK) with more than one process, or when GANTRY_MPI=1; else
 * stays one process. The plugin is looked for in GANTRY_MPI_PLUGIN (a path), next to the program,
 * then in <program>/../lib/gantry/ (or lib/<multiarch>/gantry/). Started by a launcher with N > 1 processes but no plugin: an error
 * that says so (the ranks would otherwise each train alone). Call once, before threads start. */
gt_status gt_dist_init(int *argc, char ***argv);
/* The number of processes an MPI launcher announced in the environment (0: not started by one). */
long gt_dist_announced(void);
/* Leaves the group (MPI_Finalize). Safe to call when not joined, and more than once. */
void gt_dist_finalize(void);
/* The function that ends every rank of the job (MPI_Abort(code)), or NULL when not joined. The library
 * never calls it: ending the process is the program's decision (cli/main.c calls it after printing
 * why; with NULL it simply returns its exit code). */
typedef void (*gt_dist_abort_fn)(int code);
gt_dist_abort_fn gt_dist_aborter(void);

bool gt_dist_active(void);    /* joined a group of more than one process */
int gt_dist_rank(void);       /* 0 .. size-1; 0 when single */
int gt_dist_size(void);       /* 1 when single */
int gt_dist_local_rank(void); /* among the ranks on this machine */
int gt_dist_local_size(void); /* ranks on this machine (threads per rank: cores / this) */
const char *gt_dist_library(void); /* "Open MPI v4.1.4, ..." or "none" */

/* In place, over all ranks: buf[i] = op over ranks of buf[i]. */
gt_status gt_dist_allreduce(void *buf, size_t n, gt_dist_type type, gt_dist_op op);
/* The same, started now and finished by gt_dist_wait (buf must not be touched until then). *req is
 * NULL when single (gt_dist_wait(NULL) is GT_OK). gt_dist_test lets MPI progress and says whether done. */
typedef struct gt_dist_req gt_dist_req;
gt_status gt_dist_iallreduce(void *buf, size_t n, gt_dist_type type, gt_dist_op op, gt_dist_req **req);
gt_status gt_dist_test(gt_dist_req *req, bool *done);
gt_status gt_dist_wait(gt_dist_req *req); /* frees req, also on failure */
/* root's bytes to every rank. */
gt_status gt_dist_bcast(void *buf, size_t bytes, int root);
/* Every rank's `bytes` bytes (the same count on all ranks), in rank order, into recv (size * bytes). */
gt_status gt_dist_allgather(const void *send, size_t bytes, void *recv);
/* Rank r's counts[r] bytes, in rank order, into root's recv (sum of counts; only root's recv and
 * counts are read, but every rank passes its own count as counts[rank]). */
gt_status gt_dist_gatherv(const void *send, size_t bytes, void *recv, const size_t *counts, int root);
gt_status gt_dist_barrier(void);

/* The plugin's table (mpi/gantry_mpi.c exports `gt_dist_plugin_v1` of this type). Each function returns
 * 0 or an MPI error code, and writes MPI's text into err (errn bytes) on failure. */
#define GT_DIST_ABI 1
typedef struct {
    int abi; /* GT_DIST_ABI */
    int (*init)(int *argc, char ***argv, int *rank, int *size, int *local_rank, int *local_size, char *lib,
                size_t libn, char *err, size_t errn);
    void (*finalize)(void);
    void (*abort)(int code);
    int (*allreduce)(void *buf, size_t n, int type, int op, char *err, size_t errn);
    int (*iallreduce)(void *buf, size_t n, int type, int op, void **req, char *err, size_t errn);
    int (*test)(void *req, int *done, char *err, size_t errn);
    int (*wait)(void *req, char *err, size_t errn);
    int (*bcast)(void *buf, size_t bytes, int root, char *err, size_t errn);
    int (*allgather)(const void *send, size_t bytes, void *recv, char *err, size_t errn);
    int (*gatherv)(const void *send, size_t bytes, void *recv, const size_t *counts, int root, char *err,
                   size_t errn);
    int (*barrier)(char *err, size_t errn);
} gt_dist_plugin;

#ifdef __cplusplus
}
#endif
#endif
