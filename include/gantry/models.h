/* gantry/models.h - GAN generators and discriminators, and a registry of
 * models by name ("dcgan", later "wgan-gp", "sngan", ...).
 *
 * A model is a pair of networks built by the same registry entry from one
 * gt_model_config. Each network (gt_net) owns its parameter registry, named as
 * PyTorch's state_dict names the same nn.Sequential ("main.0.weight",
 * "main.1.running_mean", ...), so checkpoints line up with PyTorch's.
 *
 *     gt_model_config c = gt_model_config_default("dcgan");
 *     c.res = 32; c.channels = 3;
 *     gt_net G, D; gt_rng r; gt_rng_init(&r, 0);
 *     if (gt_model_build(&c, GT_NET_G, &r, &G) != GT_OK) fprintf(stderr, "%s\n", gt_last_error());
 *     gt_model_build(&c, GT_NET_D, &r, &D);
 *     int m = gt_scope_begin();
 *     gt_tensor *x = gt_net_forward(&G, z, GT_BN_TRAIN);    // z (N, nz) -> (N, C, res, res) in [-1, 1]
 *     gt_tensor *logit = gt_net_forward(&D, x, GT_BN_TRAIN); // (N) logits
 *     gt_scope_end(m);
 *     gt_net_free(&G); gt_net_free(&D);
 */
#ifndef GANTRY_MODELS_H
#define GANTRY_MODELS_H

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_MODEL_NAME_MAX 32

#define GT_MODEL_OPTS_MAX 24
#define GT_MODEL_OPT_KEY_MAX 24

/* A model's config: what every family has (name, image size, channels, latent size, classes)
 * and the family's own options by name (widths, normalizations, attention, ...), which the
 * family declares in its table (gt_model_opt_def) and reads with gt_model_opt: a new family
 * grows no field here. Options not set hold the family's default. */
typedef struct {
    char name[GT_MODEL_NAME_MAX]; /* registry name: "dcgan" */
    int res;                      /* image side: 28, 32 or 64 for dcgan */
    int channels;                 /* 1 or 3 */
    int nz;                       /* latent size (100) */
    int n_classes;                /* classes of a conditional model; 0 = unconditional */
    int n_opt;                    /* options set, by key */
    char opt_key[GT_MODEL_OPTS_MAX][GT_MODEL_OPT_KEY_MAX];
    double opt_val[GT_MODEL_OPTS_MAX];
} gt_model_config;

/* One option of a family: its key in configs ("ngf"), type, default and range. */
typedef enum { GT_OPT_INT, GT_OPT_FLOAT, GT_OPT_BOOL, GT_OPT_ENUM } gt_opt_type;
typedef struct {
    const char *key;            /* "ngf": the config key (model.ngf) and the `--set ngf=` name */
    gt_opt_type type;
    double def, min, max;       /* default; allowed range of an int or float */
    const char *const *choices; /* GT_OPT_ENUM: names, NULL-terminated; the value is the index */
    const char *help;           /* one line */
    double absent;              /* the value a saved config without this key means (files written
                                   before the option); NAN: the default */
} gt_model_opt_def;

/* Normalization between a discriminator's layers:
 *  GT_NORM_BATCH  BatchNorm2d (the DCGAN paper): batch statistics, so each
 *                 sample's output depends on the rest of the batch;
 *  GT_NORM_LAYER  per-sample normalization over (C, H, W) with a per-channel
 *                 affine weight and bias (C) - torch.nn.GroupNorm(1, C), the
 *                 layer norm of the WGAN-GP paper's reference critic;
 *  GT_NORM_NONE   nothing.
 * GT_NORM_DEFAULT (0) is resolved by the model's defaults (dcgan: batch) or,
 * in a training config, by gt_train_config_check (layer with a gradient
 * penalty, batch otherwise). */
typedef enum { GT_NORM_DEFAULT = 0, GT_NORM_BATCH, GT_NORM_LAYER, GT_NORM_NONE, GT_NORM_COUNT } gt_norm_kind;
/* "default", "batch", "layer", "none" ("?" out of range). */
const char *gt_norm_name(int k);
/* "batch", "layer", "none" (and "default") -> the kind; -1 otherwise. */
int gt_norm_parse(const char *s);

typedef enum { GT_NET_G = 0, GT_NET_D = 1 } gt_net_kind;

/* How batch-norm layers run in a forward:
 *  GT_BN_TRAIN  batch statistics, running statistics updated (training);
 *  GT_BN_BATCH  batch statistics, nothing updated (a sample grid during training);
 *  GT_BN_EVAL   the running statistics. */
typedef enum { GT_BN_TRAIN = 0, GT_BN_BATCH = 1, GT_BN_EVAL = 2 } gt_bn_mode;

#define GT_NET_TAPS_MAX 16

typedef struct gt_net gt_net;
struct gt_prog;
struct gt_channel_group;
typedef struct {
    /* G: z (N, nz) -> images (N, C, res, res); D: images -> logits (N). y: class labels (N) int32
       of a conditional family (NULL for an unconditional one). */
    gt_tensor *(*forward)(gt_net *n, gt_tensor *x, gt_tensor *y, gt_bn_mode mode);
    /* Sets every batch-norm layer's momentum (PyTorch's convention). */
    void (*set_bn_momentum)(gt_net *n, float momentum);
    void (*free_impl)(gt_net *n);
} gt_net_ops;

struct gt_net {
    gt_net_kind kind;
    gt_model_config cfg;
    gt_params P;            /* finalized: every parameter and buffer of the net */
    const gt_net_ops *ops;
    void *impl;             /* the model's modules (borrow P's tensors) */
    gt_tensor *aux;         /* a D with an auxiliary head: its output of the last forward (owned by that
                               forward's scope; NULL otherwise) */
    bool tap_on;            /* record intermediate activations in taps (gantry/compress.h, gt_net_tap) */
    int n_taps;
    gt_tensor *taps[GT_NET_TAPS_MAX]; /* the last forward's, in its scope (distillation) */
};

/* forward with argument checks: G wants (N, nz) (or (N, nz, 1, 1)), D wants
 * (N, channels, res, res). NULL + gt_last_error() on a mismatch. A conditional
 * net's G without labels draws the classes in turn (row i: class i mod n_classes,
 * so a grid or an evaluation sees every class alike); its D needs them. */
gt_tensor *gt_net_forward(gt_net *n, gt_tensor *x, gt_bn_mode mode);
/* The same with class labels y (N) int32 in [0, n_classes) (NULL: as gt_net_forward); labels
 * given to an unconditional net are an error. */
gt_tensor *gt_net_forward_y(gt_net *n, gt_tensor *x, gt_tensor *y, gt_bn_mode mode);
/* Latents (n, nz) for c's family from r: its sampler, or N(0, 1). */
gt_tensor *gt_model_sample_latents(const gt_model_config *c, gt_rng *r, int64_t n);
/* Labels (n) int32: row i = i mod classes. New reference in the current scope. */
gt_tensor *gt_labels_cycle(int64_t n, int classes);
/* Labels (n) int32 drawn uniformly from [0, classes) with r. */
gt_tensor *gt_labels_random(gt_rng *r, int64_t n, int classes);
void gt_net_set_bn_momentum(gt_net *n, float momentum);
void gt_net_free(gt_net *n);
/* Trainable parameter elements. */
int64_t gt_net_num_params(const gt_net *n);
/* Sets requires_grad of every trainable parameter (off for D during G's
 * step, so its weight gradients are not computed). */
void gt_net_requires_grad(gt_net *n, bool on);

/* --- the registry --------------------------------------------------------- */
typedef struct {
    const char *name;        /* "dcgan" */
    const char *summary;     /* one line for `gantry train --help` */
    /* Fills in defaults for the common fields that are 0 (res, channels, nz) and resolves options
       whose default depends on others. */
    void (*defaults)(gt_model_config *c);
    /* GT_ERR_ARG naming the field when c is not supported. */
    gt_status (*check)(const gt_model_config *c);
    /* Builds (and finalizes) one network, drawing its initial weights from r. */
    gt_status (*build)(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out);
    const gt_model_opt_def *opts; /* the family's options */
    int n_opts;
    bool conditional;             /* takes class labels (n_classes > 0) */
    /* Latents (n, nz) for this family from r (NULL: N(0, 1)); InfoGAN puts its codes in them. */
    gt_tensor *(*sample_latents)(const gt_model_config *c, gt_rng *r, int64_t n);
    /* The family's auxiliary loss (NULL: none), added to D's loss on the reals (real, z NULL) and
       on the fakes (for_g false), and to G's (for_g true): aux is what D's forward left in gt_net.aux
       (class logits for AC-GAN, Q's outputs for InfoGAN, EBGAN's embeddings), z the fakes' latents,
       y their or the reals' labels. A 0-d tensor (zero when nothing is added there); NULL on error. */
    gt_tensor *(*aux_loss)(const gt_model_config *c, gt_tensor *aux, gt_tensor *z, gt_tensor *y, bool real,
                           bool for_g);
    bool d_energy;                /* D outputs each image's energy (an autoencoder): the energy losses */
    /* An image-to-image translator: G maps images (N, channels, res, res) to images of the same shape,
       D sees the input and the output (or the target) concatenated on channels (N, 2 channels, res, res)
       and gives a logit per patch (N, P) or per image (N). nz is unused. */
    bool translator;
    /* G (built, batch norms in their eval state) as a program of plain layers (gantry/compress.h);
       NULL: the family cannot be exported or quantized. */
    gt_status (*lower)(const gt_net *G, struct gt_prog *out);
    /* G's channel groups for pruning (gantry/compress.h): fills up to max, returns how many (-1 with
       the error set); NULL: the family cannot be pruned. */
    int (*channel_groups)(const gt_net *G, struct gt_channel_group *out, int max);
} gt_model_entry;

/* The entry named name, or NULL (with an error listing the known names). */
const gt_model_entry *gt_model_find(const char *name);
/* Adds an entry (a model defined outside the library). GT_ERR_ARG when the
 * name is taken or the table is full. Not thread-safe. */
gt_status gt_model_register(const gt_model_entry *e);
/* The i-th entry (registration order), or NULL past the last. */
const gt_model_entry *gt_model_at(int i);
/* Known names, comma-separated, into buf. */
const char *gt_model_names(char *buf, size_t n);

/* --- a family's options ----------------------------------------------------- */
/* The option key of c's family, or NULL (with an error listing the family's options). */
const gt_model_opt_def *gt_model_opt_def_find(const gt_model_config *c, const char *key);
/* The value of option key (set, or the family's default); NAN when the family has no such option. */
double gt_model_opt(const gt_model_config *c, const char *key);
/* Sets option key to v: GT_ERR_ARG naming the key and what is allowed when the family has no
 * such option or v is out of its range (or not an integer for an int, not an index for an enum). */
gt_status gt_model_opt_set(gt_model_config *c, const char *key, double v);
/* The same from text: a number, true/false, or an enum's name. */
gt_status gt_model_opt_parse(gt_model_config *c, const char *key, const char *text);
/* "key=value,key=value" (gt_model_opt_parse for each). */
gt_status gt_model_opts_parse_list(gt_model_config *c, const char *list);
/* Option key's value as text ("64", "0.5", "true", "layer") into buf. */
const char *gt_model_opt_text(const gt_model_config *c, const char *key, char *buf, size_t n);
/* Whether two configs have the same family, common fields and option values. */
bool gt_model_config_same(const gt_model_config *a, const gt_model_config *b);

/* A config for name with every default filled in (name "" when unknown). */
gt_model_config gt_model_config_default(const char *name);
/* Looks the name up, fills defaults, checks and builds. out is zeroed first
 * and is safe to gt_net_free on failure. */
gt_status gt_model_build(const gt_model_config *c, gt_net_kind kind, gt_rng *r, gt_net *out);

/* --- DCGAN (Radford et al. 2016; the PyTorch DCGAN example) ------------------
 * G: ConvTranspose(nz -> ngf*2^(L-1), 4x4 from 1x1) + BN + ReLU, then L-1
 * ConvTranspose(k4 s2 p1) + BN + ReLU doubling the side, a last
 * ConvTranspose(-> channels) + tanh. D mirrors it: Conv(k4 s2 p1) + LeakyReLU(0.2)
 * (no BN on the first), Conv + BN + LeakyReLU(0.2) ..., Conv(-> 1, k4 s1 p0) logit.
 * Options (model.<key>): ngf, ndf (64) and d_norm, which replaces D's BN: GT_NORM_LAYER puts a GroupNorm(1, C) at the same
 * Sequential index (main.<i>.weight / .bias (C), initialised 1 and 0, eps
 * 1e-5, no buffers, no random draws); GT_NORM_NONE drops it (the indices after
 * it shift down by one, as nn.Sequential without that module would).
 * L = 3 for 32 px, 4 for 64 px; 28 px uses 32's layers with 3x3 kernels where
 * the side goes 3 <-> 7. No biases (the BN that follows has them). Weights
 * N(0, 0.02), BN weight N(1, 0.02), BN bias 0. */
extern const gt_model_entry gt_model_dcgan;
/* AC-GAN and InfoGAN (src/models/aux_gans.c; PyTorch-GAN's layouts): D with a second head. */
extern const gt_model_entry gt_model_acgan, gt_model_infogan;
/* BEGAN and EBGAN (src/models/energy_gans.c; PyTorch-GAN's layouts): an autoencoder D. */
extern const gt_model_entry gt_model_began, gt_model_ebgan;
/* SNGAN, SAGAN, projection cGAN (src/models/resnet_gan.c; StudioGAN's 32 px resnet backbone). */
extern const gt_model_entry gt_model_sngan, gt_model_sagan, gt_model_cgan;
/* BigGAN, 32 px (src/models/biggan.c; BigGAN-PyTorch's CIFAR architecture). */
extern const gt_model_entry gt_model_biggan;
/* R3GAN's baseline, 32 px (src/models/r3gan.c): normalization-free residual G and D. */
extern const gt_model_entry gt_model_r3gan;
/* pix2pix, 28/32 px (src/models/pix2pix.c): a translator (ResNet G, PatchGAN D on input|output). */
extern const gt_model_entry gt_model_pix2pix;

#ifdef __cplusplus
}
#endif
#endif
