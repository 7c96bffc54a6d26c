/* gantry lab: GAN Lab's toy experiments (2-D data, small MLP generator and discriminator) trained
 * by the engine (tensors, autograd, optim), and what the page draws of them (src/lab/).
 * One gt_lab is one experiment; it is not thread-safe (the server drives every experiment from one
 * worker thread: see src/serve/). Coordinates of the data plane are in [0, 1] x [0, 1] as in GAN Lab. */
#ifndef GANTRY_LAB_H
#define GANTRY_LAB_H

#include <stdbool.h>
#include <stdint.h>

#include "gantry/base.h"

#define GT_LAB_MAX_LAYERS 5       /* hidden layers per net: 0..5 */
#define GT_LAB_MAX_NEURONS 256    /* neurons per hidden layer: 1..256 */
#define GT_LAB_MAX_DRAWN 4096     /* points of a drawn distribution */
#define GT_LAB_MAX_BATCH 1024
#define GT_LAB_GRID 30            /* the KL / JS and heatmap grid: 30 x 30 cells over [0,1]^2 */
#define GT_LAB_MANIFOLD 20        /* the generator's manifold: a 20 x 20 (2-D noise) or 20-cell (1-D) grid */

typedef enum { GT_LAB_LINE, GT_LAB_GAUSSIANS, GT_LAB_RING, GT_LAB_DISJOINT, GT_LAB_DRAWN, GT_LAB_DATA_COUNT } gt_lab_data;
typedef enum { GT_LAB_UNIFORM, GT_LAB_GAUSSIAN } gt_lab_noise;
typedef enum { GT_LAB_LOG, GT_LAB_LS, GT_LAB_HINGE, GT_LAB_WGAN_GP, GT_LAB_LOSS_COUNT } gt_lab_loss;
typedef enum { GT_LAB_SGD, GT_LAB_ADAM } gt_lab_optim;

/* An experiment's hyperparameters (the page's controls; the URL's query). */
typedef struct {
    gt_lab_data data;
    float drawn[GT_LAB_MAX_DRAWN][2]; /* GT_LAB_DRAWN: the points drawn with the brush */
    int n_drawn;
    int noise_dim;                    /* 1 or 2 */
    gt_lab_noise noise;
    int g_layers, g_neurons;          /* hidden layers 0..5, neurons per layer 1..256 (ReLU) */
    int d_layers, d_neurons;
    gt_lab_loss loss;
    float gp;                         /* WGAN-GP's penalty weight (10) */
    float r1;                         /* R1 penalty gamma on the reals, any loss (0 = off) */
    gt_lab_optim optim;
    float lr_g, lr_d;                 /* > 0, <= 10 */
    int d_steps, g_steps;             /* updates per epoch, 0..10 each (not both 0) */
    int batch;                        /* 1..GT_LAB_MAX_BATCH (150) */
    uint64_t seed;
} gt_lab_config;

/* GAN Lab's defaults (its page as it opens: the two gaussians, SGD at 0.1 for both nets, 2 D updates
 * and 1 G update per epoch; demo/ganlab.ts and demo/ganlab.html of poloclub/ganlab). */
gt_lab_config gt_lab_config_default(void);
/* GT_ERR_ARG with a message naming the field and what is allowed, for any value out of range. */
gt_status gt_lab_config_check(const gt_lab_config *c);
const char *gt_lab_data_name(gt_lab_data d);    /* "line", "gaussians", "ring", "disjoint", "drawn" */
const char *gt_lab_loss_name(gt_lab_loss l);    /* "log", "ls", "hinge", "wgan-gp" */
const char *gt_lab_noise_name(gt_lab_noise n);  /* "uniform", "gaussian" */
const char *gt_lab_optim_name(gt_lab_optim o);  /* "sgd", "adam" */
/* name -> value; -1 when unknown */
int gt_lab_data_parse(const char *s);
int gt_lab_loss_parse(const char *s);
int gt_lab_noise_parse(const char *s);
int gt_lab_optim_parse(const char *s);

typedef struct gt_lab gt_lab;

gt_status gt_lab_new(gt_lab **out, const gt_lab_config *c);
void gt_lab_free(gt_lab *L);
/* A new configuration: the nets and optimizers are built again (epoch 0) when the architecture,
 * noise, data, loss, optimizer or seed change; learning rates and steps per epoch apply at once. */
gt_status gt_lab_configure(gt_lab *L, const gt_lab_config *c);
const gt_lab_config *gt_lab_get_config(const gt_lab *L);
/* Back to epoch 0: fresh weights (from the seed), fresh optimizers, empty history. */
gt_status gt_lab_reset(gt_lab *L);

typedef enum { GT_LAB_BOTH, GT_LAB_D_ONLY, GT_LAB_G_ONLY } gt_lab_which;
/* n epochs; an epoch is d_steps D updates then g_steps G updates (only those named by `which`). */
gt_status gt_lab_epochs(gt_lab *L, int n, gt_lab_which which);
int64_t gt_lab_epoch(const gt_lab *L);

/* The last losses (of the last D update and the last G update) and the history: one entry per
 * epoch where the epoch counter crossed a multiple of `every` (the page's loss chart). */
typedef struct {
    int64_t epoch;
    float loss_d, loss_g, kl, js;
} gt_lab_point;
int gt_lab_history(const gt_lab *L, gt_lab_point *out, int max); /* the newest `max`, oldest first */

/* One frame of the layered view, computed on request (the server asks at most 30 times a second). */
typedef struct {
    int64_t epoch;
    float loss_d, loss_g;
    float kl, js;                                /* real vs fake, on the GT_LAB_GRID^2 grid */
    int n;                                       /* points of each set below (the batch) */
    float real[GT_LAB_MAX_BATCH][2];
    float fake[GT_LAB_MAX_BATCH][2];
    float grad[GT_LAB_MAX_BATCH][2];             /* on each fake: -dLoss_G/dx (where G pushes it) */
    float heat[GT_LAB_GRID][GT_LAB_GRID];        /* D's probability of "real" at cell centres, [row=y][col=x] */
    int manifold_w, manifold_h;                  /* (21 x 21) grid corners for 2-D noise, (21 x 1) for 1-D */
    float manifold[GT_LAB_MANIFOLD + 1][GT_LAB_MANIFOLD + 1][2]; /* G(noise grid corners) */
    float density[GT_LAB_MANIFOLD][GT_LAB_MANIFOLD]; /* each cell's share of the noise mass / its area after G, normalized to max 1 */
} gt_lab_frame;
gt_status gt_lab_frame_get(gt_lab *L, gt_lab_frame *f);

/* The step-through view: one D update and one G update taken now, with what went into them. */
typedef struct {
    int64_t epoch;
    float loss_d, loss_g;
    int n;
    float fake[GT_LAB_MAX_BATCH][2];
    float grad_g[GT_LAB_MAX_BATCH][2];  /* -dLoss_G/dx on each fake */
    int n_params_d, n_params_g;
    float grad_norm_d, grad_norm_g;     /* L2 norm of each net's parameter gradient */
    float update_norm_d, update_norm_g; /* L2 norm of each net's parameter change */
} gt_lab_trace;
gt_status gt_lab_step_trace(gt_lab *L, gt_lab_trace *t);

/* G's and D's weights as one safetensors file (tensors "G.*" and "D.*", metadata: the config as
 * JSON under "gantry.lab.config"), written atomically. */
gt_status gt_lab_export(const gt_lab *L, const char *path);
/* The same file in memory (malloc'd; for the server's download). */
gt_status gt_lab_export_mem(const gt_lab *L, uint8_t **buf, size_t *len);

#endif
