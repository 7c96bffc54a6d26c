/* gantry/prune.h - channel pruning of a generator by importance, and a search over per-group
 * widths under a MAC budget (GAN Compression's width search, without its supernet training).
 *
 * Everything works on a family's channel groups (gantry/compress.h, gt_model_entry.channel_groups):
 * a group is a set of channels sized by one family option ("gw0"), listed with every (parameter,
 * dim) those channels index, the producer weight and the batch-norm scale.
 *
 *     gt_channel_group g[GT_PRUNE_GROUPS_MAX];
 *     int n = gt_prune_groups(&T, g, GT_PRUNE_GROUPS_MAX);     // -1: the family cannot be pruned
 *     int w[GT_PRUNE_GROUPS_MAX];
 *     gt_prune_keep_widths(g, n, 0.25, w);                      // round(0.25 * size), >= 1
 *     gt_net S;
 *     if (gt_prune(&T, w, GT_IMPORTANCE_L1, &S) != GT_OK) fprintf(stderr, "%s\n", gt_last_error());
 *     // S.cfg: T's config with gw<i> = w[i]; S's tensors: T's, sliced to the kept channels
 *     gt_prune_write_checkpoint("teacher.safetensors", &S, "pruned.safetensors");
 *     gt_net_free(&S);
 *
 * The student keeps the teacher's channels in their original order, so with every channel kept
 * it is the teacher bit for bit; with some dropped it computes what the teacher computes when the
 * dropped channels are cut off from their consumers (their batch norm outputs zeroed before the
 * next layer), up to the running statistics of BN (recalibrate them after pruning:
 * gt_recalibrate_bn). */
#ifndef GANTRY_PRUNE_H
#define GANTRY_PRUNE_H

#include "compress.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_PRUNE_GROUPS_MAX 32

typedef enum {
    GT_IMPORTANCE_L1 = 0, /* the L1 norm of the producer weight's slice of each channel */
    GT_IMPORTANCE_BN,     /* |gamma| of the channel's batch norm (Network Slimming) */
    GT_IMPORTANCE_FIRST,  /* the channels' order: a width k keeps channels 0..k-1 (a once-for-all
                             supernet's, trained that way: `gantry distill --ofa`) */
    GT_IMPORTANCE_COUNT
} gt_importance;
const char *gt_importance_name(gt_importance k); /* "l1", "bn", "first" ("?" out of range) */
int gt_importance_parse(const char *s);          /* "l1" / "bn" / "first" -> the kind; -1 otherwise */

/* G's channel groups (its family's table entry), at most max: the count, or -1 with GT_ERR_ARG
 * naming the families that can be pruned. The groups are checked: every listed tensor exists and
 * has the group's size along its dim, no (tensor, dim) is listed twice. */
int gt_prune_groups(const gt_net *G, gt_channel_group *out, int max);

/* Each channel's importance in group g of G into out (g->size floats). BN: GT_ERR_ARG naming the
 * group when it has no batch-norm scale. */
gt_status gt_channel_importance(const gt_net *G, const gt_channel_group *g, gt_importance imp, float *out);
/* The k most important channels of g (ties: the lower index), in ascending index order, into
 * keep (k ints). k outside 1..size: GT_ERR_ARG naming the group. */
gt_status gt_prune_select(const gt_net *G, const gt_channel_group *g, gt_importance imp, int k, int *keep);

/* widths[i] = max(1, round(keep * size_i)) for the n groups; keep in (0, 1] (GT_ERR_ARG otherwise). */
gt_status gt_prune_keep_widths(const gt_channel_group *g, int n, double keep, int *widths);
/* "gw0=96,gw1=40": the listed groups' widths (the others keep their size). GT_ERR_ARG for an
 * unknown key (naming the group keys), a key given twice, or a width outside 1..size. */
gt_status gt_prune_parse_widths(const gt_channel_group *g, int n, const char *spec, int *widths);

/* The student of T with widths[i] channels in group i (T's groups, gt_prune_groups order), each
 * group's most important channels kept (gt_prune_select). *student is built from T's config with
 * each group's option set to its width (student->cfg) and holds T's parameters and buffers sliced
 * along every listed dim to the kept channels; the rest copied as they are. *student is zeroed
 * first and safe to gt_net_free on failure. A width < 1 or > size: GT_ERR_ARG naming the group. */
gt_status gt_prune(const gt_net *T, const int *widths, gt_importance imp, gt_net *student);
/* The same with the kept channels given: keep[i] (widths[i] ascending indices < size) for group i. */
gt_status gt_prune_indices(const gt_net *T, const int *widths, const int *const *keep, gt_net *student);
/* The way back, for a student made by gt_prune_indices(T, widths, keep, student) (a once-for-all
 * supernet T trained through its sub-networks): adds each student parameter's gradient into T's
 * at the kept positions, and copies each student buffer (batch norm's running statistics) into
 * T's kept positions. T's other entries are unchanged. GT_ERR_SHAPE when the student is not such
 * a net of T. */
gt_status gt_prune_scatter_back(gt_net *T, const int *const *keep, const gt_net *student);
/* Group i's candidate widths for the given fractions (ascending in (0, 1]): round(f * size), at
 * least 1, at most size, duplicates dropped, into w (n_fracs ints at most); returns their count. The
 * width search's (gt_prune_search) and the supernet training's (`gantry distill --ofa`) grid. */
int gt_prune_width_choices(int size, const double *fracs, int n_fracs, int *w);
/* The default fractions: 1/8, 1/4, 3/8, 1/2, 3/4, 1 (GT_PRUNE_FRACS_DEFAULT_N of them). */
#define GT_PRUNE_FRACS_DEFAULT_N 6
extern const double gt_prune_fracs_default[GT_PRUNE_FRACS_DEFAULT_N];

/* Multiply-accumulates and parameters of one sample of config c's generator: built (initial
 * weights; none loaded) and lowered to a program (gt_prog_macs, gt_prog_params). Needs the
 * family's .lower (GT_ERR_ARG naming the families that have one); macs or params may be NULL. */
gt_status gt_model_cost(const gt_model_config *c, int64_t *macs, int64_t *params);

/* Writes student as a training checkpoint (the format `gantry train` writes: `sample`, `eval`,
 * `export`, `distill --init` read it): the teacher checkpoint's training config with the student's
 * model config, G and G_ema = the student's weights, D = the teacher checkpoint's D when it has one
 * (D does not depend on G's widths), fresh optimizer moments, step 0. Atomic. */
gt_status gt_prune_write_checkpoint(const char *teacher_ckpt, const gt_net *student, const char *path);

/* --- the width search (src/compress/search.c) -------------------------------------------------
 * Candidates: every group's width is one of fractions[j] * size (rounded, >= 1; default 1/8, 1/4,
 * 3/8, 1/2, 3/4, 1). A candidate is the teacher pruned to those widths (gt_prune, shared weights:
 * a once-for-all supernet at step 0, no supernet training), its batch norms recalibrated
 * (gt_recalibrate_bn from latents; not for a translator, which would need inputs: its scorer sees
 * the pruned net as it is), then scored (lower is better: FID).
 * Which candidates: when the grid has at most 4096 points, each point's MACs are counted and those
 * within the budget are all scored if there are at most max_evals of them; otherwise (a larger
 * grid, or more feasible points) an evolutionary search scores max_evals distinct feasible points:
 * 16 random feasible ones first (plus the uniform fraction that fits best), then generations of
 * children of two parents drawn from the best 8 (uniform crossover per group, each group mutated to
 * a random fraction with probability 0.25), infeasible or already scored children redrawn. */
typedef struct {
    int n_groups;
    int widths[GT_PRUNE_GROUPS_MAX];
    int64_t macs, params;
    double score;
} gt_prune_candidate;

/* Scores a candidate (lower is better) into *score. */
typedef gt_status (*gt_prune_scorer)(void *user, gt_net *G, double *score);

typedef struct {
    const double *fractions; /* n_fractions in (0, 1], ascending; NULL: the default six */
    int n_fractions;
    double budget;           /* MACs allowed: <= 1 a fraction of the teacher's, > 1 absolute MACs */
    int max_evals;           /* candidates scored at most (64) */
    uint64_t seed;           /* the evolutionary search's draws (0) */
    gt_importance importance;
    int recal_batches, recal_batch; /* BN recalibration before scoring (8 x 64; 0 batches: none) */
    uint64_t recal_seed;     /* its latents (0x5EED, as `gantry sample`) */
    gt_prune_scorer score;   /* required */
    void *user;
    /* Called after each scored candidate (may be NULL). */
    void (*progress)(const gt_prune_candidate *c, int done, int total, void *user);
} gt_prune_search_opts;
void gt_prune_search_opts_default(gt_prune_search_opts *o);

typedef struct {
    int n;                     /* scored candidates */
    gt_prune_candidate *c;     /* (n), best (lowest score) first; ties: fewer MACs first */
    int n_groups;
    gt_channel_group groups[GT_PRUNE_GROUPS_MAX];
    int64_t teacher_macs, teacher_params, budget_macs;
    int64_t grid, feasible;    /* grid points; those within the budget (-1: not counted, a large grid) */
    bool exhaustive;           /* every feasible point scored */
} gt_prune_search_result;

/* Runs the search on teacher T (batch norms as T has them). A budget below the smallest
 * candidate's MACs: GT_ERR_ARG naming that smallest feasible budget. *out is zeroed first. */
gt_status gt_prune_search(const gt_net *T, const gt_prune_search_opts *o, gt_prune_search_result *out);
void gt_prune_search_result_free(gt_prune_search_result *r);

/* A scorer: FID (the Fashion-MNIST extractor "fmnist") of n images of the candidate (eval mode,
 * latents from seed) against the first n_real images of real_spec (NULL: "fashion-mnist:test";
 * n_real 0: 5000): test items 0..n_real-1, the held-out set of `gantry prune --budget`. A translator
 * (gantry/translate.h) is scored instead by the FID of its translations of the edges of real_spec's
 * first n items against those items (gt_translate_fid; seed and n_real unused). Open once, score
 * many. */
typedef struct gt_prune_fid gt_prune_fid;
gt_prune_fid *gt_prune_fid_open(const char *real_spec, int64_t n_real, int64_t n, uint64_t seed);
void gt_prune_fid_free(gt_prune_fid *f);
gt_status gt_prune_fid_score(void *f, gt_net *G, double *fid); /* a gt_prune_scorer; user = the gt_prune_fid */

#ifdef __cplusplus
}
#endif
#endif
