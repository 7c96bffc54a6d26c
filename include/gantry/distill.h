/* gantry/distill.h - distilling a teacher generator into a smaller student (issue 15): feature
 * distillation through learnable 1x1 convs (GAN Compression), output reconstruction, the GAN loss
 * against the teacher's discriminator trained online alongside (the collaborative adversarial
 * paradigm), the discriminator-cooperated loss (DCD: the student's and the teacher's outputs
 * compared through D's intermediate features) and, as an option, CRD's relation losses (distances
 * and angles between the samples of a batch).
 *
 *     gt_distill_opts o;
 *     gt_distill_opts_default(&o);
 *     o.teacher = "runs/dcgan/checkpoints/last.safetensors";
 *     o.student_config = "configs/dcgan_student.json";
 *     o.out_dir = "runs/student";
 *     if (gt_distill_run(&o) != GT_OK) fprintf(stderr, "%s\n", gt_last_error());
 *
 * The run folder is a `gantry train` run folder of the student config (config.json, metrics.jsonl,
 * samples, checkpoints/last.safetensors): its checkpoints are ordinary training checkpoints of the
 * student (G, D = the online teacher D, EMA, Adams) plus the 1x1 convs and their Adam ("distill."
 * tensors) and the distillation's options ("distill" metadata), loadable by gt_load_generator,
 * `gantry sample`, `gantry eval` and `gantry train --resume` (which ignores the "distill." tensors);
 * `gantry distill --resume` continues one. docs/compress/distill.md has the details.
 */
#ifndef GANTRY_DISTILL_H
#define GANTRY_DISTILL_H

#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *teacher;        /* the teacher's training checkpoint (its G, D and config) */
    const char *student_config; /* a training config JSON whose model section is the student; NULL: init's */
    const char *init;           /* a checkpoint whose G initialises the student (a pruned net), or NULL */
    const char *out_dir;        /* run folder, as `gantry train --out` makes: checkpoints, metrics.jsonl, samples */
    int64_t steps;              /* 0: the student config's */
    double w_feat, w_recon, w_gan, w_dcd, w_crd;  /* loss weights; see gt_distill_opts_default */
    const char *feat_layers;    /* "s0:t0,s1:t1" student tap -> teacher tap pairs; NULL: matched by shape */
    uint64_t seed;
    bool quiet;
    /* additions */
    const char *data;           /* dataset spec overriding the student config's (NULL: the config's, else the
                                   teacher's) */
    int batch;                  /* 0: the student config's */
    int64_t log_every;          /* 0: the student config's */
    /* Called at each log interval and at the end (NULL: a progress line on stderr unless quiet). */
    void (*progress)(const gt_train_progress *p, bool interval, void *user);
    /* Polled after each step: true stops the run, a last checkpoint written (NULL: never). */
    bool (*should_stop)(void *user);
    void *user;
    /* Continue the run in out_dir from its last checkpoint (last.safetensors): the teacher, loss
       weights and tap pairs come from its "distill" metadata, the student's config (data, batch,
       seed, log interval) from its "config" metadata, G, D, EMA, the Adams, the 1x1 convs and
       their Adam, the data order and the latent stream from its tensors, so the run goes on as if
       it had not stopped. Of the fields above only out_dir, steps (0: the run's), quiet and the
       callbacks are used. */
    bool resume;
    /* The distillation terms' weights (recon, feat, DCD, CRD) fall linearly from their values at step
       0 to 0 at this step and stay 0 after it, so that the student ends on its own GAN loss (a
       translator's with its L1 to the ground truth); 0: constant weights. Saved with the run. */
    int64_t anneal;
    /* The student's D starts from the student config's own initialization (its seed), not from the
       teacher's trained D (GAN Compression's choice, the default). Saved with the run. */
    bool d_fresh;
    /* D's fake term is the student's outputs alone (weight 1), as in training from scratch; the
       default splits it between the student's and the teacher's outputs (1/2 each). Saved with the
       run. */
    bool d_student_only;
    /* Train the student as a once-for-all supernet (GAN Compression): each step a random
       sub-network - every channel group at one of 1/8, 1/4, 3/8, 1/2, 3/4, 1 of its width, its
       first channels - runs the step with the supernet's weights, and its gradients go back into
       them; `gantry prune --budget` then searches it (importance "first", chosen automatically
       for such a checkpoint). The student's family must list channel groups. Saved with the run. */
    bool ofa;
} gt_distill_opts;
/* Whether the checkpoint at path was trained as a once-for-all supernet (its "distill" record has
 * "ofa": true); false for any other file or an unreadable one. teacher (n bytes; NULL: not wanted)
 * gets the supernet's teacher as recorded (an absolute path; "" when not a supernet). */
bool gt_distill_is_supernet(const char *path, char *teacher, size_t n);

/* Defaults: w_feat 1, w_recon 10, w_gan 0.1, w_dcd 1, w_crd 0 (off), seed 0, everything else NULL / 0
 * (GAN Compression's reconstruction 10 and features ~1; the GAN weight 0.1, not its 1: against the
 * teacher's trained D the BCE term of an untrained student is ~6 and at 1 it stalls the rest - 200
 * steps on the dcgan teacher: reconstruction L1 0.69 at 1, 0.50 at 0.1). */
void gt_distill_opts_default(gt_distill_opts *o);
/* Checks the options and every file without writing anything (GT_ERR_ARG naming the option:
 * "teacher", "student", "init", "layers", "w-feat", ...; the CLI maps them to flags). */
gt_status gt_distill_check(const gt_distill_opts *o);
/* Trains the student, writes its checkpoint(s) into out_dir. */
gt_status gt_distill_run(const gt_distill_opts *o);

/* --- the losses (0-d tensors in the current scope; NULL + error on a shape mismatch) ---------- */
/* Feature distillation: mean((conv1x1(s; w, b) - t)^2); s (N, Cs, H, W), t (N, Ct, H, W) (no
 * gradient to it), w (Ct, Cs, 1, 1), b (Ct) or NULL. */
gt_tensor *gt_distill_feat_loss(gt_tensor *s, gt_tensor *t, gt_tensor *w, gt_tensor *b);
/* Reconstruction: mean |s - t| (the outputs on the same input). */
gt_tensor *gt_distill_recon_loss(gt_tensor *s, gt_tensor *t);
/* DCD: D's features of the student's output fs[i] against those of the teacher's output ft[i]
 * (same shapes, n layers; no gradient to ft): the sum over layers of mean |fs[i] - ft[i]| (the L1
 * distance of DCD's official code; see docs/compress/distill.md). */
gt_tensor *gt_distill_dcd_loss(gt_tensor *const *fs, gt_tensor *const *ft, int n);
/* CRD-style relation losses between the samples of a batch, student features s (N, ...) vs the
 * teacher's t (N, ...) (flattened per sample, N >= 2; >= 3 for angles): distances: smooth-L1 of the
 * pairwise Euclidean distances each divided by their mean over the pairs; angles: smooth-L1 of the
 * cosines of the angles of every triplet (relational KD's forms). */
gt_tensor *gt_crd_dist_loss(gt_tensor *s, gt_tensor *t);
gt_tensor *gt_crd_angle_loss(gt_tensor *s, gt_tensor *t);
/* dist + 2 * angle (RKD's weights, 25 : 50). */
gt_tensor *gt_crd_loss(gt_tensor *s, gt_tensor *t);

/* --- layer pairing ----------------------------------------------------------------------------- */
#define GT_DISTILL_PAIRS_MAX GT_NET_TAPS_MAX
typedef struct {
    int n;
    int s[GT_DISTILL_PAIRS_MAX], t[GT_DISTILL_PAIRS_MAX]; /* student tap -> teacher tap */
} gt_distill_pairs;
/* Pairs student taps with teacher taps: from spec ("s:t,..."), or (spec NULL or "") each student
 * tap with the teacher tap of the same spatial size (in order). s_shape / t_shape: each tap's
 * (C, H, W). GT_ERR_ARG with a clear message when a tap is out of range, sizes differ, or no tap
 * can be paired. */
gt_status gt_distill_pair_taps(const char *spec, const int (*s_shape)[3], int n_s, const int (*t_shape)[3], int n_t,
                               gt_distill_pairs *out);

#ifdef __cplusplus
}
#endif
#endif
