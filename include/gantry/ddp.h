/* gantry/ddp.h - data-parallel training over the ranks of an MPI job (gantry/dist.h).
 *
 * `mpirun -np N gantry train ...`: every rank holds the whole model. Each global batch (config
 * `batch`) is split into N contiguous shards: rank r takes images [r B/N, (r+1) B/N) of the batch the
 * batcher yields (its order is global, so each rank decodes only its own images) and the same rows
 * of the latents and fake labels, which every rank draws for the whole batch from the same generator.
 * The union over ranks is the single-process batch. The gradients of each update are averaged over
 * the ranks with allreduce, in buckets started from the autograd engine's hook as soon as the last
 * backward before the optimizer step has completed them (gantry/autograd.h), or in one blocking
 * allreduce of the whole gradient slab (bucket_mb 0). Batch norm runs per rank unless sync_bn, which
 * sums its statistics over the ranks (gt_batch_norm_set_sync). The batch-norm buffers are broadcast
 * from rank 0 after each step (as PyTorch's DDP), so all ranks hold identical weights and buffers.
 *
 * Single process (gt_dist_active() false): gt_ddp_setup does nothing and training is unchanged. */
#ifndef GANTRY_DDP_H
#define GANTRY_DDP_H

#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Joins t to the job's ranks, after gt_trainer_init (and gt_trainer_load for a resume), on every
 * rank: refuses what data parallelism does not support (a batch not divisible by the ranks, a family
 * with its own scheme, ADA, CR and bCR, DRAGAN and EBGAN: each
 * with a message), checks that every rank has the same config and data (hashes
 * allgathered; the ranks that differ are named) and the same weights (a checksum), shards the batcher,
 * sets threads per rank when cfg.threads is 0 (max(1, cores / ranks on this machine)), and clears
 * cfg.out on ranks other than 0 (rank 0 alone writes the run folder). info (may be NULL) receives one
 * line about the group for rank 0 to print. */
gt_status gt_ddp_setup(gt_trainer *t, char *info, size_t n);
void gt_ddp_free(gt_trainer *t); /* by gt_trainer_free */
/* Whether any rank says yes (an allreduce; the value itself when single): a stop that all ranks take
 * at the same step. */
bool gt_ddp_any(bool mine);

typedef struct {
    int64_t steps;          /* data-parallel steps done in this process */
    int64_t reductions;     /* gradient averages (one per optimizer step) */
    double bytes;           /* gradient bytes allreduced (each rank's buffer, summed over reductions) */
    double wait_s;          /* seconds blocked waiting for gradient allreduces before the optimizer steps */
    double buckets_early;   /* buckets started during backward (the rest start after it) */
    double buckets;         /* buckets in all */
    double bytes_early;     /* bytes whose allreduce had completed when backward ended (hidden behind it) */
    int buckets_g, buckets_d; /* buckets per reduction of G's and D's gradients (1 each when blocking) */
} gt_ddp_stats;
/* t's counters (zeros when not data-parallel); GT_ERR_STATE when t has no data-parallel state. */
gt_status gt_ddp_get_stats(const gt_trainer *t, gt_ddp_stats *s);

/* The trainer's calls (src/train/trainer.c); no-ops when t is not data-parallel. */
gt_status gt__ddp_step(gt_trainer *t, gt_step_stats *stats);   /* gt_trainer_step under data parallelism */
void gt__ddp_arm(gt_trainer *t, gt_params *P);                 /* before the last backward of an update of P */
gt_status gt__ddp_reduce(gt_trainer *t, gt_params *P);         /* before the optimizer step of P */
/* Around a draw of per values per sample from t->rng (gp's mixing weights: per 1): begin moves t->rng to
 * this rank's rows of the whole batch's draw and returns its offset, end moves it past the whole draw, so
 * the values and the generator's state are one process's. per 0: nothing. */
uint64_t gt__ddp_rows_begin(gt_trainer *t, int64_t per);
/* *a, *b := their averages over the ranks (BEGAN's mean energies before k_t's update). */
gt_status gt__ddp_mean(gt_trainer *t, double *a, double *b);
void gt__ddp_rows_end(gt_trainer *t, int64_t per, uint64_t saved);

#ifdef __cplusplus
}
#endif
#endif
