/* Evaluation sharded over the ranks of an MPI job (gantry/dist.h): each rank's contiguous slice of
 * the images, and the features of all slices gathered to one rank in rank order, for the metrics
 * that need the features themselves (KID, IS, precision/recall, density/coverage). FID needs only
 * the reduced statistics (gt_fid_stats_compute_dist in stats.c). */
#include <limits.h>

#include "gantry/dist.h"
#include "metrics_internal.h"

void gt_shard_range(int64_t n, int64_t unit, int rank, int size, int64_t *start, int64_t *count) {
    if (size < 1) size = 1;
    if (rank < 0) rank = 0;
    if (rank >= size) rank = size - 1;
    if (n < 0) n = 0;
    if (unit < 1) unit = 1;
    int64_t units = n / unit + (n % unit ? 1 : 0), base = units / size, extra = units % size, r = rank;
    int64_t u0 = r * base + GT_MIN(r, extra), u1 = u0 + base + (r < extra ? 1 : 0);
    int64_t s0 = GT_MIN(n, u0 * unit), s1 = GT_MIN(n, u1 * unit);
    if (start) *start = s0;
    if (count) *count = s1 - s0;
}

/* Every rank's rows (its slice of n, w floats each) into root's all (n, w), in rounds of at most
 * rows_per_round rows per rank, so that one gatherv stays under MPI's int counts. */
static gt_status gt__gather_rows(const float *mine, int64_t w, int64_t n, int64_t unit, int root, float *all) {
    int size = gt_dist_size(), rank = gt_dist_rank();
    size_t row = (size_t)w * sizeof(float);
    int64_t per_round = GT_MAX(1, (int64_t)((size_t)(INT_MAX / 2) / ((size_t)size * row)));
    const char *cap = getenv("GANTRY_GATHER_ROWS"); /* tests: smaller rounds, to check their bookkeeping */
    if (cap && atoll(cap) > 0) per_round = GT_MIN(per_round, (int64_t)atoll(cap));
    int64_t most = 0, my0, mine_n; /* the longest slice: rank 0's */
    gt_shard_range(n, unit, 0, size, NULL, &most);
    gt_shard_range(n, unit, rank, size, &my0, &mine_n);
    size_t *counts = calloc((size_t)size, sizeof *counts);
    float *tmp = rank == root ? malloc((size_t)GT_MAX(1, GT_MIN(most, per_round) * size) * row) : NULL;
    bool ok = counts && (rank != root || tmp);
    int64_t bad = ok ? 0 : 1; /* a rank without memory stops all of them here, before any gatherv */
    gt_status st = gt_dist_allreduce(&bad, 1, GT_DIST_I64, GT_DIST_SUM);
    if (!st && bad)
        st = ok ? gt_set_error(GT_ERR_STATE, "gathering features: another rank is out of memory")
                : gt_set_error(GT_ERR_OOM, "gathering features: out of memory");
    for (int64_t r0 = 0; !st && r0 < most; r0 += per_round) {
        for (int r = 0; r < size; r++) {
            int64_t s0, c;
            gt_shard_range(n, unit, r, size, &s0, &c);
            counts[r] = (size_t)GT_MAX(0, GT_MIN(per_round, c - r0)) * row;
        }
        int64_t k = GT_MAX(0, GT_MIN(per_round, mine_n - r0));
        st = gt_dist_gatherv(mine + (k ? r0 * w : 0), (size_t)k * row, tmp, counts, root);
        if (st || rank != root) continue;
        size_t at = 0;
        for (int r = 0; r < size; r++) { /* rank r's rows r0.. of its slice go to s0 + r0 */
            int64_t s0, c;
            gt_shard_range(n, unit, r, size, &s0, &c);
            if (counts[r]) memcpy(all + (s0 + r0) * w, (const char *)tmp + at, counts[r]);
            at += counts[r];
        }
    }
    free(tmp);
    free(counts);
    return st;
}

gt_status gt_feature_set_gather(gt_feature_set *fs, int64_t n, int64_t unit, int root) {
    if (!fs || n < 0 || root < 0 || root >= gt_dist_size())
        return gt_set_error(GT_ERR_ARG, "gt_feature_set_gather: bad arguments");
    if (!gt_dist_active()) {
        if (fs->n != n)
            return gt_set_error(GT_ERR_ARG, "gt_feature_set_gather: %lld rows here, %lld asked for", (long long)fs->n,
                                (long long)n);
        return GT_OK;
    }
    int rank = gt_dist_rank();
    int64_t s0, mine;
    gt_shard_range(n, unit, rank, gt_dist_size(), &s0, &mine);
    /* the shapes must agree on every rank before any data moves: a mismatch is refused by all */
    int64_t shape[4] = {fs->dim, -fs->dim, fs->logits_dim, -fs->logits_dim}, bad = fs->n != mine;
    gt_status st = gt_dist_allreduce(shape, 4, GT_DIST_I64, GT_DIST_MAX);
    if (!st) st = gt_dist_allreduce(&bad, 1, GT_DIST_I64, GT_DIST_SUM);
    if (st) return st;
    if (bad || shape[0] != -shape[1] || shape[2] != -shape[3] || shape[0] < 1)
        return gt_set_error(GT_ERR_SHAPE, "gathering features: the ranks' slices do not fit together (rank %d has "
                            "%lld rows of %lld + %lld logits, its slice of %lld is %lld rows; %lld rank%s off)",
                            rank, (long long)fs->n, (long long)fs->dim, (long long)fs->logits_dim, (long long)n,
                            (long long)mine, (long long)bad, bad == 1 ? "" : "s");
    float *feats = NULL, *logits = NULL;
    int64_t bad_mem = 0;
    if (rank == root) {
        feats = malloc((size_t)GT_MAX(1, n * fs->dim) * sizeof(float));
        logits = fs->logits_dim ? malloc((size_t)GT_MAX(1, n * fs->logits_dim) * sizeof(float)) : NULL;
        bad_mem = !feats || (fs->logits_dim && !logits);
    }
    if ((st = gt_dist_allreduce(&bad_mem, 1, GT_DIST_I64, GT_DIST_SUM))) goto out;
    if (bad_mem) {
        st = gt_set_error(GT_ERR_OOM, "gathering features: rank %d has no memory for the features of %lld images "
                          "(%.1f MB)", root, (long long)n, (double)n * (double)(fs->dim + fs->logits_dim) * 4e-6);
        goto out;
    }
    st = gt__gather_rows(fs->feats, fs->dim, n, unit, root, feats);
    if (!st && fs->logits_dim) st = gt__gather_rows(fs->logits, fs->logits_dim, n, unit, root, logits);
    if (!st && rank == root) {
        free(fs->feats), free(fs->logits);
        fs->feats = feats, fs->logits = logits, fs->n = n;
        feats = logits = NULL;
    }
out:
    free(feats);
    free(logits);
    return st;
}
