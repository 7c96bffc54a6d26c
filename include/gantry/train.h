/* gantry/train.h - GAN training: losses, the trainer (one step = n_critic
 * discriminator steps then one generator step), the run folder (config.json,
 * metrics.jsonl, sample grids, checkpoints) and exact resume; sampling from a
 * checkpoint.
 *
 *     gt_train_config c = gt_train_config_default();
 *     snprintf(c.data, sizeof c.data, "fashion-mnist");
 *     snprintf(c.out, sizeof c.out, "runs/a");
 *     c.steps = 2000;
 *     gt_trainer t;
 *     if (gt_trainer_init(&t, &c, NULL) != GT_OK ||      // opens the data, builds G, D, EMA, Adam
 *         gt_train_run(&t, NULL) != GT_OK)               // steps to c.steps, writing the run folder
 *         fprintf(stderr, "%s\n", gt_last_error());
 *     gt_trainer_free(&t);
 *
 * Determinism: a step's result depends only on the state saved in a
 * checkpoint (weights, buffers, Adam moments and step counts, EMA, the latent
 * generator's offset, the batcher's epoch and position, the step), so
 * N steps, save, load, N more steps gives bit-identical weights to 2N steps. */
#ifndef GANTRY_TRAIN_H
#define GANTRY_TRAIN_H

#include "metrics.h"
#include "data.h"
#include "checkpoint.h"
#include "models.h"
#include "optim.h"
#include "anycost.h"
#include "augment.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- losses ------------------------------------------------------------------
 * One row each in src/train/losses.c (a new loss is an enum value and a row); `gantry train
 * --list-losses` prints them. Logits are (N); every loss is a mean over the batch.
 * GT_LOSS_NS       non-saturating (the DCGAN paper / PyTorch example):
 *                  D: BCE(D(x), 1) + BCE(D(G(z)), 0); G: BCE(D(G(z)), 1)
 * GT_LOSS_MINIMAX  the original, saturating minimax game (Goodfellow et al. 2014): D as ns;
 *                  G minimizes log(1 - sigmoid(D(G(z)))) = -softplus(D(G(z)))
 * GT_LOSS_LS       least squares (LSGAN, Mao et al. 2017, a = 0, b = c = 1, as StudioGAN):
 *                  D: 0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2; G: 0.5 (D(G(z)) - 1)^2
 * GT_LOSS_HINGE    D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z))
 * GT_LOSS_WGAN     D: D(G(z)) - D(x); G: -D(G(z))
 *                  (with gp > 0: + gp * mean((||grad D(x_hat)||_2 - 1)^2), WGAN-GP;
 *                  with gp = 0 the original WGAN: D's weights are clipped to
 *                  [-clip, clip] after each D step, clip 0.01 by default)
 * GT_LOSS_RPGAN    relativistic pairing (Jolicoeur-Martineau 2019; the loss of "The GAN is dead;
 *                  long live the GAN!"): D: softplus(D(G(z_i)) - D(x_i)); G: softplus(D(x_i) -
 *                  D(G(z_i))), each fake paired with the real of the same batch index.
 * GT_LOSS_EBGAN    energy-based (Zhao et al. 2017): D's output is each image's energy (an
 *                  autoencoder's reconstruction error; a family with d_energy); D: mean E(x) +
 *                  relu(m - mean E(G(z))), m = max(1, N / 64); G: mean E(G(z)) (EBGAN's family adds
 *                  the pulling-away term to G's loss)
 * GT_LOSS_BEGAN    boundary equilibrium (Berthelot et al. 2017), on energies L: D: L(x) - k_t L(G(z));
 *                  G: L(G(z)); after each D step k_t += 0.001 (0.75 L(x) - L(G(z))), kept in [0, 1]
 *                  (k_0 = 0, saved in checkpoints); the convergence measure M = L(x) + |0.75 L(x) -
 *                  L(G(z))| is logged with k_t
 * One-sided label smoothing (label_smooth s): the BCE losses' real target is 1 - s. */
typedef enum {
    GT_LOSS_NS = 0, GT_LOSS_HINGE, GT_LOSS_WGAN, GT_LOSS_MINIMAX, GT_LOSS_LS, GT_LOSS_RPGAN, GT_LOSS_EBGAN,
    GT_LOSS_BEGAN, GT_LOSS_COUNT
} gt_loss_kind;

/* A loss: one row of the table. Separable losses give D's term on real or on fake logits alone
 * (d_part; the trainer runs the two terms one after the other, holding one D graph at a time) and
 * G's on the fake logits (g); pairwise ones need both (d_pair, g_pair; the trainer then holds both
 * graphs and runs D on the real batch in G's step too). real_target: the BCE target of the real
 * term (1, or 1 - label_smooth); other losses ignore it. */
typedef struct {
    const char *name, *summary;                                      /* for --loss and --list-losses */
    gt_tensor *(*d_part)(gt_tensor *logits, bool real, float real_target); /* NULL for a pairwise loss */
    gt_tensor *(*g)(gt_tensor *fake_logits);                         /* NULL for a pairwise loss */
    gt_tensor *(*d_pair)(gt_tensor *real_logits, gt_tensor *fake_logits);
    gt_tensor *(*g_pair)(gt_tensor *real_logits, gt_tensor *fake_logits);
    bool probs;                                                      /* D(x) reported as sigmoid(logits) */
    bool energy;      /* D's output is an energy (an autoencoder D: a family with d_energy), not a logit */
    /* A loss with a state across steps (BEGAN's k_t; starts at 0), passed to d_part as real_target,
       updated after each D step from the mean D outputs on the reals and the fakes; NULL: none. */
    double (*update)(double state, double d_real, double d_fake);
    double (*measure)(double d_real, double d_fake);                 /* logged as M; NULL: none */
} gt_loss_def;
const gt_loss_def *gt_loss_def_get(gt_loss_kind k);        /* NULL past GT_LOSS_COUNT */
const char *gt_loss_name(gt_loss_kind k); /* "ns", "hinge", ... */
/* A loss's name, or "wgan-gp" (-> GT_LOSS_WGAN, *gp = 10 when gp given), or "bce" (ns); -1 otherwise. */
int gt_loss_parse(const char *s, double *gp);
/* The loss names as a list: "ns, hinge, wgan, wgan-gp, ..." into buf. */
const char *gt_loss_names(char *buf, size_t n);

/* 0-d losses (new references in the current scope). real / fake: logits (N), the same N for a
 * pairwise loss. real_target: see gt_loss_def (1 for none). */
gt_tensor *gt_gan_loss_d(gt_loss_kind k, gt_tensor *real_logits, gt_tensor *fake_logits);
gt_tensor *gt_gan_loss_d_smooth(gt_loss_kind k, gt_tensor *real_logits, gt_tensor *fake_logits, float real_target);
gt_tensor *gt_gan_loss_g(gt_loss_kind k, gt_tensor *fake_logits);
/* G's loss of a pairwise loss (real_logits carry no graph to D); for a separable one, real is ignored. */
gt_tensor *gt_gan_loss_g_pair(gt_loss_kind k, gt_tensor *real_logits, gt_tensor *fake_logits);
/* One term of a separable loss's D loss (GT_ERR_ARG for a pairwise loss). */
gt_tensor *gt_gan_loss_d_part(gt_loss_kind k, gt_tensor *logits, bool real);
gt_tensor *gt_gan_loss_d_part_smooth(gt_loss_kind k, gt_tensor *logits, bool real, float real_target);

/* --- regularizers of D ---------------------------------------------------------------
 * Penalties on D's input gradient, one row each in src/train/losses.c, each with its weight
 * in the training config (0 = off) and applied every reg_every D steps with its weight times
 * reg_every (lazy regularization, StyleGAN2). At a point x_hat, g = dD(x_hat)/dx_hat per sample:
 *   GT_REG_GP      WGAN-GP (Gulrajani et al.): x_hat = e*x + (1-e)*G(z), e ~ U[0,1) per sample;
 *                  gp * mean((||g|| - 1)^2)
 *   GT_REG_DRAGAN  DRAGAN (Kodali et al., as StudioGAN): x_hat = x + a * 0.5 * std(x) * u, a ~ U[0,1)
 *                  per sample, u ~ U[0,1) per element, std over the whole batch (unbiased);
 *                  dragan * mean((||g|| - 1)^2)
 *   GT_REG_R1      R1 (Mescheder et al.): x_hat = x (reals); r1 / 2 * mean(||g||^2) (StyleGAN's gamma)
 *   GT_REG_R2      R2: the same on the fakes, r2 / 2 * mean(||g||^2)
 * D runs in GT_BN_BATCH mode for them: no running statistics updated and no spectral-norm power
 * iteration (torch, in training mode, would do one more per penalty forward). */
typedef enum { GT_REG_GP = 0, GT_REG_DRAGAN, GT_REG_R1, GT_REG_R2, GT_REG_COUNT } gt_reg_kind;
typedef struct {
    const char *name, *summary; /* config key and flag (--gp, --dragan, --r1, --r2) */
    float target;               /* the norm a sample's gradient is pulled to; < 0: its square pushed to 0 */
    float scale;                /* the weight's factor (1/2 for R1 and R2) */
    bool on_fake;               /* the point comes from the fakes (R2) */
} gt_reg_def;
const gt_reg_def *gt_reg_def_get(gt_reg_kind k); /* NULL past GT_REG_COUNT */

/* The point x_hat of regularizer k (a new leaf with requires_grad) from real and fake (N, C, H, W)
 * and its noise: e (N, 1, 1, 1) for gp, e (N, 1, 1, 1) and u (N, C, H, W) for dragan (NULL
 * otherwise); gt_reg_noise draws them from r. */
gt_tensor *gt_reg_point(gt_reg_kind k, gt_tensor *real, gt_tensor *fake, gt_tensor *e, gt_tensor *u);
gt_status gt_reg_noise(gt_reg_kind k, gt_tensor *real, gt_rng *r, gt_tensor **e, gt_tensor **u);
/* The penalty of regularizer k (before its weight and scale) from D's outputs d (N) at the
 * leaf x_hat: mean((||g|| - target)^2), or mean(||g||^2); recorded with create_graph so it can be
 * differentiated w.r.t. D's parameters. */
gt_tensor *gt_reg_penalty_at(gt_reg_kind k, gt_tensor *d, gt_tensor *x_hat);
/* The whole penalty for a net: noise from r, the point, D's forward in GT_BN_BATCH mode. */
gt_tensor *gt_reg_penalty(gt_reg_kind k, gt_net *D, gt_tensor *real, gt_tensor *fake, gt_rng *r);
/* The same for a conditional D, with the labels y (N) it sees at x_hat (the reals' for gp, dragan
 * and r1, the fakes' for r2; NULL for an unconditional D). */
gt_tensor *gt_reg_penalty_y(gt_reg_kind k, gt_net *D, gt_tensor *real, gt_tensor *fake, gt_tensor *y, gt_rng *r);

/* WGAN-GP's penalty mean((||dD(x_hat)/dx_hat||_2 - 1)^2), x_hat = e*real +
 * (1-e)*fake with e ~ U[0,1) per sample from r (gt_reg_penalty(GT_REG_GP, ...)); recorded with
 * create_graph so the returned 0-d tensor can be differentiated w.r.t. D's parameters. D's
 * batch-norm layers use batch statistics without updating running ones, so
 * with a batch-norm D each sample's gradient depends on the whole batch; with
 * a layer-norm or norm-free D (model option d_norm; layer is the training default
 * when gp > 0) the penalty is per-sample, as the WGAN-GP paper has it. */
gt_tensor *gt_gradient_penalty(gt_net *D, gt_tensor *real, gt_tensor *fake, gt_rng *r);

/* --- consistency regularization (src/train/consistency.c) ----------------------------
 * T, the transform of CR and bCR, is StudioGAN's (its cr augment): per sample an x-flip with
 * probability 1/2, then an integer translation by up to 1/8 of each side (tx, ty uniform in
 * -s..s, s = floor(side / 8)) with reflection padding. It takes no gradient (CR's images are reals
 * or detached fakes). gt_cr_transform_with takes the draws: flip (N) 0/1, tx, ty (N) in -s..s
 * (tx moves along the height, ty along the width, as StudioGAN's grid). */
gt_tensor *gt_cr_transform(gt_tensor *x, gt_rng *r);
gt_tensor *gt_cr_transform_with(gt_tensor *x, const int *flip, const int *tx, const int *ty);
/* mean((a - b)^2) over every element (StudioGAN's l2_loss), differentiable in both. */
gt_tensor *gt_consistency_l2(gt_tensor *a, gt_tensor *b);
/* LeCam: mean(relu(real - ema_fake)^2) + mean(relu(ema_real - fake)^2) (StudioGAN's lecam_reg). */
gt_tensor *gt_lecam_reg(gt_tensor *real_logits, gt_tensor *fake_logits, double ema_real, double ema_fake);

/* --- configuration -------------------------------------------------------------- */
#define GT_PATH_MAX 1024

typedef struct {
    gt_model_config model;   /* name, res, channels, nz, ngf, ndf */
    char data[GT_PATH_MAX];  /* dataset spec (gt_dataset_open), "" = none (feed steps by hand) */
    int64_t data_limit;      /* use only the first N images (0 = all) */
    bool skip_bad_images;    /* image folders: leave out files that cannot be decoded (false: stop) */
    char out[GT_PATH_MAX];   /* run folder ("" = write nothing) */
    int64_t steps;           /* generator steps to reach (a resumed run continues to it) */
    int batch;               /* 64 */
    double lr_g, lr_d;       /* 2e-4, 2e-4 (TTUR: different ones) */
    double beta1, beta2;     /* 0.5, 0.999 */
    int n_critic;            /* D steps per G step (1) */
    double ema;              /* EMA decay of G (0.999), warmed up as min(ema, (1+t)/(10+t))
                                at step t; 0 = no EMA generator */
    uint64_t seed;           /* 0 */
    gt_loss_kind loss;       /* GT_LOSS_NS */
    double gp;               /* gradient-penalty weight (0; 10 with --loss wgan-gp) */
    double dragan, r1, r2;   /* the other regularizers' weights (0 = off; see gt_reg_kind) */
    int reg_every;           /* apply the regularizers every k D steps, weighted k times (1) */
    double label_smooth;     /* one-sided label smoothing of the BCE losses' real target (0) */
    double clip;             /* weight clipping (the original WGAN): every D parameter kept in
                                [-clip, clip] after each D step; 0 = off. GT_CLIP_DEFAULT (the
                                default) resolves in gt_train_config_check to 0.01 for loss wgan
                                with gp = 0 and to 0 otherwise; > 0 with another loss is an error */
    int64_t log_every;       /* steps per metrics line (50) */
    int64_t sample_every;    /* steps per sample grid (500; 0 = only at the end) */
    int64_t ckpt_every;      /* steps per checkpoint (1000; 0 = only at the end) */
    int keep_ckpts;          /* step_XXXXXX checkpoints kept (2; 0 = all) */
    int n_samples;           /* images in the sample grid (64) */
    int threads;             /* 0 = the library default */
    int64_t eval_every;      /* steps between FID evaluations logged to metrics.jsonl (0 = off) */
    int64_t eval_n;          /* images per side of each evaluation (2000) */
    char eval_extractor[32]; /* feature extractor for it: "fmnist" (default) or "inception" */
    char eval_metrics[48];   /* what it logs: a comma list of fid, kid, is, pr, dc, or "all" ("fid") */
    /* Augmentation of what D sees (the default scheme; gantry/augment.h, docs/augment/training.md):
       D sees aug(real) and aug(fake), G's loss goes through D(aug(G(z))). Absent from older files:
       none and 0. */
    char augment[128];       /* "none" (default), "diffaug:color,translation,cutout", "ada", "ada:bgc" */
    double ada_target;       /* ADA: r_t's target (0.6) */
    double ada_kimg;         /* ADA: thousands of real images for p to go from 0 to 1 (500) */
    int ada_interval;        /* ADA: D steps between p's updates (4) */
    double ada_p;            /* ADA: the initial p (0) */
    /* Consistency regularization of D (src/train/consistency.c), weights (0 = off): */
    double cr;               /* CR on reals (Zhang et al. 2020): cr * mean((D(x) - D(T(x)))^2) */
    double bcr_real, bcr_fake; /* balanced CR (Zhao et al. 2021): the same on reals and on fakes */
    double zcr_dis, zcr_gen; /* latent CR (Zhao et al. 2021): zcr_dis * mean((D(G(z)) - D(G(z + s e)))^2) in D's
                                loss, -zcr_gen * mean((G(z) - G(z + s e))^2) in G's */
    double zcr_sigma;        /* s (0.05) */
    double lecam;            /* LeCam (Tseng et al. 2021): lecam * (mean(relu(D(x) - ema_fake)^2) +
                                mean(relu(ema_real - D(G(z)))^2)) */
    double lecam_decay;      /* the EMAs' decay (0.99) */
    /* Data-parallel training (gantry/ddp.h; written to the JSON only when not the default): */
    bool sync_bn;            /* batch norm with the whole batch's statistics over the ranks (false: per rank) */
    int64_t check_sync;      /* every K steps, check that the ranks' weights are identical (0 = at start only) */
    double bucket_mb;        /* gradient allreduce buckets in MiB, started during backward (1; 0 = one blocking) */
    /* Mixed precision of the training steps (gantry/device.h's gt_precision): GT_PREC_FP32 (0, the default)
       or GT_PREC_BF16 (convolutions and matrix products on bf16-rounded operands, float accumulation; weights,
       optimizer and the rest float). Sample grids and evaluations run in fp32. "precision" in the JSON only
       when not fp32; may change on resume. */
    int precision;
} gt_train_config;

#define GT_CLIP_DEFAULT (-1.0)
#define GT_WGAN_CLIP 0.01 /* the WGAN paper's clipping value */

/* model.d_norm is GT_NORM_DEFAULT and clip GT_CLIP_DEFAULT: both resolved by
 * gt_train_config_check from the loss. */
gt_train_config gt_train_config_default(void);
/* Fills model defaults and checks every field (GT_ERR_ARG naming it).
 * Resolves model.d_norm GT_NORM_DEFAULT to layer when gp > 0 (batch norm would
 * make the penalty depend on the batch), batch otherwise, and clip as above.
 * An explicit batch-norm D with gp > 0 passes (checkpoints from before the
 * option have it); the CLI refuses it for new runs. */
gt_status gt_train_config_check(gt_train_config *c);
/* The resolved config as JSON (malloc'd string, caller frees), and back
 * (fields absent from the JSON keep c's values, except two that older files
 * lack and whose absence means what those runs did: no "clip" is 0 and a
 * "model" without "d_norm" is batch). */
char *gt_train_config_to_json(const gt_train_config *c);
gt_status gt_train_config_from_json(gt_train_config *c, const char *json, const char *label);
/* Whether c uses a consistency regularizer (cr, bcr_*, zcr_*, lecam > 0) / an augmentation (not none). */
bool gt_train_uses_consistency(const gt_train_config *c);
bool gt_train_uses_augment(const gt_train_config *c);

/* --- the trainer ------------------------------------------------------------------ */
typedef struct {
    double loss_d, loss_g;   /* the last critic step's D loss (with gp) and the G loss */
    double gp;               /* the last gradient penalty (before its weight), 0 without (= reg[GT_REG_GP]) */
    double d_real, d_fake;   /* mean D output on real / fake: sigmoid of the logits for ns, raw otherwise */
    double reg[GT_REG_COUNT];/* each regularizer's last penalty (before weights), 0 when off or not due */
    double loss_state;       /* a stateful loss's state after the step (BEGAN's k_t), else 0 */
    double loss_measure;     /* its convergence measure (BEGAN's M), else 0 */
    /* A family's own scheme (see "training schemes" below); 0 with the default scheme. */
    double distill;          /* anycost: the mean distillation MSE of the sub-generators (before its weight) */
    int phase;               /* the scheme's phase: 0 (one phase), anycost: 1 multi-resolution, 2 channels */
    /* Augmentation and consistency regularization (the default scheme; 0 when off): */
    double aug_p;            /* the augmentation's p after the step (1 for DiffAugment) */
    double ada_rt;           /* ADA's last r_t (NAN before its first update) */
    double cr, bcr_real, bcr_fake, zcr_dis, zcr_gen, lecam; /* the last values (before the weights) */
} gt_step_stats;

struct gt_train_scheme;

typedef struct gt_trainer {
    gt_train_config cfg;
    gt_net G, D;
    gt_net G_ema;            /* the EMA generator (when cfg.ema > 0) */
    gt_net G_sample;         /* scratch copy used to draw sample grids */
    gt_adam opt_g, opt_d;
    gt_ema ema;
    bool has_ema;
    gt_rng rng;              /* latents and penalty mixing; state saved */
    gt_dataset *ds;          /* owned when ds_owned */
    bool ds_owned;
    gt_batcher *batcher;
    uint64_t step;           /* generator steps done */
    uint64_t batcher_state[3]; /* seed, epoch, position (checkpoint binding) */
    gt_tensor *fixed_z;      /* (n_samples, nz) latents of the sample grids */
    uint64_t loss_state;     /* a stateful loss's state (BEGAN's k_t), a double's bits (checkpoint binding) */
    gt_ckpt ckpt;            /* binding of the whole training state */
    double elapsed_s;        /* training time in this process */
    void *eval;              /* --eval-every state: extractor + real statistics (src/train/evaluate.c) */
    const struct gt_train_scheme *scheme; /* the step this family runs (gt_train_scheme_for) */
    void *scheme_state;      /* the scheme's own state (its init allocates, its free frees) */
    gt_augment *aug;         /* cfg.augment's pipeline (NULL for none) */
    uint64_t aug_state[GT_AUGMENT_STATE]; /* its state as doubles' bits (checkpoint binding "train.augment") */
    uint64_t lecam_ema[2];   /* LeCam's EMAs of D's mean outputs on reals, fakes: doubles' bits ("train.lecam") */
    void *ddp;               /* data-parallel state (gt_ddp_setup, gantry/ddp.h); NULL in one process */
    gt_tensor *const *inputs; /* during gt_trainer_step on paired data: the translator inputs A of the step's
                                 n_critic real batches (gantry/translate.h); NULL otherwise */
} gt_trainer;

/* Builds G, D (weights drawn from cfg.seed), the EMA copy and both Adams, and
 * opens the data (cfg.data) unless ds is given (borrowed; it must outlive t).
 * t is zeroed first and safe to gt_trainer_free on failure. */
gt_status gt_trainer_init(gt_trainer *t, const gt_train_config *cfg, gt_dataset *ds);
void gt_trainer_free(gt_trainer *t);

/* One generator step: n_critic discriminator steps (each on a new real batch
 * and new latents), then the generator step on the last critic step's fake
 * batch (as the PyTorch DCGAN example), then the EMA update. */
gt_status gt_trainer_step(gt_trainer *t, gt_step_stats *stats);
/* The same on given data: reals[i] (B, C, res, res) in [-1, 1] and z[i] (B, nz)
 * for critic step i (n_critic of each). */
gt_status gt_trainer_step_on(gt_trainer *t, gt_tensor *const *reals, gt_tensor *const *z, gt_step_stats *stats);
/* The same for a conditional model: real_y[i] the reals' labels (B) int32, fake_y[i] the classes
 * of the fakes (M) int32 (NULL arrays for an unconditional model). */
gt_status gt_trainer_step_on_y(gt_trainer *t, gt_tensor *const *reals, gt_tensor *const *real_y, gt_tensor *const *z,
                               gt_tensor *const *fake_y, gt_step_stats *stats);

/* Checkpoint of the whole state (atomic) and exact restore (all or nothing;
 * the architecture must match, GT_ERR_SHAPE naming the tensor when not). */
gt_status gt_trainer_save(gt_trainer *t, const char *path);
gt_status gt_trainer_load(gt_trainer *t, const char *path);

/* Images from the EMA generator (or G without EMA) for latents z (N, nz),
 * through the sampling copy with recalibrated batch-norm statistics; a new
 * (N, C, res, res) tensor in [-1, 1] in the current scope. */
gt_tensor *gt_trainer_sample(gt_trainer *t, gt_tensor *z);
/* The first half of gt_trainer_sample: t->G_sample := the sampling generator
 * (EMA when there is one) with recalibrated BN statistics; then gt_generate(&t->G_sample, z). */
gt_status gt_trainer_prepare_sampler(gt_trainer *t);

/* --- training schemes --------------------------------------------------------------
 * A family may own its training step. gt_trainer_init looks the model's family up in a table
 * (src/train/trainer.c, gt__schemes: one row per scheme); a family without a row runs the default
 * scheme (n_critic D steps, then one G step on the last fake batch, as above). The trainer keeps
 * what every scheme shares: the config check, data, G, D, the EMA copy, both Adams, the latent
 * generator t->rng, the batch checks of gt_trainer_step_on_y, the EMA update after the step, the
 * step count and the common checkpoint entries. A scheme adds:
 *   init   after G, D, EMA, the Adams and t->rng exist, before the checkpoint binding: checks the
 *          family's options, allocates t->scheme_state (NULL: nothing to do)
 *   bind   its extra state into the checkpoint, after the common entries (NULL: none)
 *   step   the D and G updates of one step on checked batches: n_critic reals (B, C, res, res) in
 *          [-1, 1] and latents (B, nz) (labels for a conditional family, else NULL), drawing any
 *          randomness from t->rng; fills *s. Runs inside a scope the trainer opens.
 *   free   frees t->scheme_state (NULL: nothing)
 * A new scheme is one file (src/train/<name>_train.c, defining its row) and one line in the table. */
typedef struct gt_train_scheme {
    const char *family;  /* the model family it trains ("anycost"); NULL for the default row */
    const char *summary; /* one line */
    gt_status (*init)(gt_trainer *t);
    gt_status (*bind)(gt_trainer *t, gt_ckpt *c);
    gt_status (*step)(gt_trainer *t, gt_tensor *const *reals, gt_tensor *const *real_y, gt_tensor *const *z,
                      gt_tensor *const *fake_y, gt_step_stats *s);
    void (*free)(gt_trainer *t);
} gt_train_scheme;
/* The scheme of a family (the default one when it has no row). */
const gt_train_scheme *gt_train_scheme_for(const char *family);
/* The default scheme's row (what every family without its own runs). */
extern const gt_train_scheme gt_train_scheme_default;

/* The anycost scheme (src/train/anycost_train.c; docs/anycost/training.md). Model options ac_nres,
 * ac_channels_at, ac_sandwich, ac_distill (gantry/anycost.h). Each step is one of two phases:
 *   1 multi-resolution (step < ac_channels_at, or always with -1): ac_nres distinct levels among
 *     8..R drawn from t->rng; G's full synthesis once (t->rng as noise); D sees each level's skip
 *     sum and the reals average-pooled to it through its own input; D's and G's losses averaged;
 *   2 adaptive channels (from step ac_channels_at): the first such step sorts the channels of G
 *     and G_ema (gt_anycost_sort_channels, seed cfg.seed) and resets G's Adam (the permutation
 *     invalidates its moments; saved as "anycost.sorted"); then the sandwich rule: the full config
 *     at R, the smallest (0.25) and ac_sandwich random per-conv configs, each at a drawn level, one
 *     mapping of the same z and the same noise for all; D conditioned on each config; G's loss per
 *     config + ac_distill * MSE(sub, the full output detached and pooled to the sub's level).
 * The regularizers (R1, ...) run every reg_every D steps on one entry drawn from t->rng. */
#define GT_AC_PLAN_MAX 16
typedef struct {
    int phase;                          /* 1 multi-resolution, 2 adaptive channels */
    int n;                              /* entries (ac_nres, or 2 + ac_sandwich) */
    gt_anycost_sub sub[GT_AC_PLAN_MAX]; /* each entry's sub-generator; sub[i].res its level. Phase 1:
                                           full width; phase 2: full at R, smallest, random ones */
    gt_rng noise;                       /* t->rng before the full synthesis: the noise of every entry */
    int reg_entry;                      /* the entry the regularizers used (-1: not due) */
    bool sorted_now;                    /* this step sorted the channels */
} gt_anycost_plan;
extern const gt_train_scheme gt_train_scheme_anycost;
/* The plan of the last critic step of t's last step (GT_ERR_STATE when t does not run the anycost
 * scheme or has not stepped in this process). */
gt_status gt_anycost_train_last_plan(const gt_trainer *t, gt_anycost_plan *out);
/* Whether t's channels have been sorted (phase 2 began; restored from a checkpoint). */
bool gt_anycost_train_sorted(const gt_trainer *t);
/* The frozen distillation teacher of an anycost trainer with ac_teacher=1 (a copy of G_ema, or G
 * without an EMA, taken at the switch to channel training); NULL otherwise. */
const gt_net *gt_anycost_train_teacher(const gt_trainer *t);

/* --- the run loop ---------------------------------------------------------------- */
typedef struct {
    uint64_t step, steps;    /* done, target */
    double it_s;             /* generator steps per second over the last interval */
    double img_s;            /* real images per second (it_s * batch * n_critic) */
    double eta_s;            /* seconds to the target at that rate */
    double elapsed_s;        /* training seconds in this process */
    gt_step_stats mean;      /* averages over the interval */
    bool final;              /* the last report of the run */
} gt_train_progress;

typedef struct {
    /* Called every step (cheap: stats of that step) and at each log interval
     * (interval = true, averages). May be NULL. */
    void (*progress)(const gt_train_progress *p, bool interval, void *user);
    /* Polled after each step: true stops the run (a last checkpoint is written). */
    bool (*should_stop)(void *user);
    /* Notified of each file written (sample grid, checkpoint). */
    void (*wrote)(const char *what, const char *path, void *user);
    void *user;
} gt_train_hooks;

/* Trains from t->step to cfg.steps, writing into cfg.out (created); when
 * t->step is already at or past cfg.steps: GT_ERR_ARG saying so, nothing
 * written. The files:
 *   config.json        the resolved config
 *   metrics.jsonl      one line per log interval: step, losses, it/s, img/s, time
 *   samples/step_XXXXXX.png, samples/last.png   grids from the fixed latents
 *   checkpoints/step_XXXXXX.safetensors (every ckpt_every), last.safetensors
 * Resume: gt_trainer_load(t, "<out>/last.safetensors") first. */
gt_status gt_train_run(gt_trainer *t, const gt_train_hooks *hooks);

/* FID of the sampling generator (the EMA one when there is one) against the
 * training data, cfg.eval_n images each, with cfg.eval_extractor. The real
 * statistics are computed once per process and kept in t. */
gt_status gt_train_eval_fid(gt_trainer *t, double *fid);

/* --eval-metrics: which metrics an evaluation computes (the metrics suite's, gantry/metrics.h). */
enum {
    GT_EVAL_FID = GT_METRIC_FID, GT_EVAL_KID = GT_METRIC_KID, GT_EVAL_IS = GT_METRIC_IS, GT_EVAL_PR = GT_METRIC_PR,
    GT_EVAL_DC = GT_METRIC_DC
};
/* gt_metrics_parse, with "eval-metrics: " in front of its message. */
gt_status gt_eval_metrics_parse(const char *list, unsigned *mask);
/* One evaluation's results (gt_metrics_compute's); NAN where not asked for. KID uses subsets of
 * min(1000, eval_n) images, IS 10 splits, PR k = 3 and DC k = 5, with the defaults of `gantry eval`. */
typedef gt_metrics_result gt_train_eval_result;
/* The metrics of cfg.eval_metrics for the sampling generator against the
 * training data (as gt_train_eval_fid); the real features or statistics are
 * kept in t between evaluations. */
gt_status gt_train_eval(gt_trainer *t, gt_train_eval_result *r);
void gt_train_eval_free(gt_trainer *t); /* by gt_trainer_free */
/* The run folder's last checkpoint path into buf. */
const char *gt_train_last_ckpt(const gt_train_config *c, char *buf, size_t n);
/* Tidies a run folder left by a killed run before it is resumed: removes the temporary files of
 * writers that are gone (*removed: how many) and, when the newest checkpoints/step_N is newer than
 * last.safetensors (killed between the two), points last at it (*relinked: N, else -1). */
gt_status gt_train_recover(const char *out, int *removed, long long *relinked);

/* --- sampling from a checkpoint ------------------------------------------------ */
/* Reads the config saved in a checkpoint (metadata "config"), builds G and loads
 * "G_ema." (use_ema and present) or "G." into it. *used_ema tells which. */
gt_status gt_load_generator(const char *path, bool use_ema, gt_net *G, gt_train_config *cfg, bool *used_ema);
/* Latents (n, nz) ~ N(0, 1) from seed; truncation > 0 redraws every |z| > truncation. */
gt_tensor *gt_sample_latents(uint64_t seed, int64_t n, int nz, float truncation);
/* Latents for c's family from seed (its sampler when it has one, e.g. InfoGAN's codes; else
 * gt_sample_latents; truncation applies to the N(0, 1) part only). */
gt_tensor *gt_sample_latents_for(const gt_model_config *c, uint64_t seed, int64_t n, float truncation);
/* Spherical interpolation of n points from a to b (each (nz)) -> (n, nz). */
gt_tensor *gt_slerp_latents(gt_tensor *a, gt_tensor *b, int n);
/* Sets G's running batch-norm statistics to the averages over nbatches
 * batches of batch random latents from seed (PyTorch's momentum=None), so
 * GT_BN_EVAL samples do not depend on the other samples in a batch. */
gt_status gt_recalibrate_bn(gt_net *G, uint64_t seed, int nbatches, int batch);
/* G in eval mode over z in chunks of at most 256 -> (N, C, res, res). */
gt_tensor *gt_generate(gt_net *G, gt_tensor *z);
/* The same with class labels y (N) int32 for a conditional G (NULL: class i mod n_classes for row i). */
gt_tensor *gt_generate_y(gt_net *G, gt_tensor *z, gt_tensor *y);

#ifdef __cplusplus
}
#endif
#endif
