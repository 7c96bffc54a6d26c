/* src/lab/lab_internal.h - the gt_lab struct and what the lab's files share.
 *
 * Nets as GAN Lab builds them (poloclub/ganlab, demo/ganlab_models.ts): a net with L "hidden
 * layers" is fc0 (in -> n, ReLU), L more fc (n -> n, ReLU), and a last fc: G's (n -> 2, tanh),
 * D's (n -> 1, the logit; GAN Lab's sigmoid is in the losses). Weights ~ N(0, 1/sqrt(2)) for fc0
 * and N(0, 1/sqrt(n)) after it, biases 0. Training runs on the engine (gt_params, ops,
 * autograd, optim); the views (heatmap, manifold, KL/JS, the fakes D trains on) run a plain
 * float forward over the same parameter slabs, which is the same arithmetic without the graph. */
#ifndef GT_LAB_INTERNAL_H
#define GT_LAB_INTERNAL_H

#include "gantry/lab.h"
#include "gantry/nn.h"
#include "gantry/optim.h"

#define GT_LAB_NET_MAX (GT_LAB_MAX_LAYERS + 2) /* linear layers per net */
#define GT_LAB_ATLAS 12000                     /* GAN Lab's ATLAS_SIZE: real and noise samples drawn up front */
#define GT_LAB_HIST 2000                       /* history points kept */
#define GT_LAB_KL_FAKES 1500                   /* fakes counted for KL / JS (10 of GAN Lab's batches) */

typedef struct {
    int n_fc;                       /* layers + 2 */
    int in, width, out;
    gt_nn_linear fc[GT_LAB_NET_MAX];
    gt_params P;
} gt_lab_net;

struct gt_lab {
    gt_lab_config cfg;
    gt_lab_net G, D;
    gt_adam adam_g, adam_d;
    gt_sgd sgd_g, sgd_d;
    gt_rng rng;                     /* the GP's interpolation */
    float *real_atlas;              /* (ATLAS, 2) */
    float *noise_atlas;             /* (ATLAS, noise_dim) */
    int64_t real_pos, noise_pos;    /* next atlas row */
    /* the training batch, filled in place every step (no per-step allocation of inputs) */
    gt_tensor *x_d;                 /* (2B, 2): B reals then B fakes (D's step) */
    gt_tensor *z;                   /* (B, noise_dim) */
    gt_tensor *w_d, *s_d, *t_d;     /* (2B, 1): per-row weight, sign, target of D's loss */
    gt_tensor *x_r1;                /* (B, 2): the reals as a leaf for R1 */
    gt_tensor *x_gp, *e_gp;         /* (B, 2), (B, 1): WGAN-GP's interpolates and their mix */
    gt_tensor *x_g;                 /* (B, 2): G's fakes as a leaf for D (G's step) */
    float *scratch;                 /* the plain forward's activations */
    double real_hist[GT_LAB_GRID * GT_LAB_GRID]; /* the real atlas on the KL grid, normalized */
    int64_t epoch;
    float loss_d, loss_g;
    /* KL / JS of the current weights, cached (kl_epoch = the epoch they were computed at, -1 none) */
    float kl, js;
    int64_t kl_epoch;
    float kl_fake[GT_LAB_KL_FAKES * 2];
    gt_lab_point hist[GT_LAB_HIST];
    int n_hist;
    int64_t hist_every;             /* record at multiples of it; doubled (and thinned) when full */
};

/* lab_config.c */
/* The config as JSON (malloc'd string), for the export's metadata. */
char *gt__lab_config_json(const gt_lab_config *c);

/* lab_data.c */
/* n real points of distribution c->data into out (n, 2), in [0,1]^2. */
void gt__lab_sample_real(const gt_lab_config *c, gt_rng *r, float *out, int64_t n);
/* n noise vectors (n, c->noise_dim): U[0,1) or N(0.5, 0.25) truncated at 2 std (GAN Lab's). */
void gt__lab_sample_noise(const gt_lab_config *c, gt_rng *r, float *out, int64_t n);
/* Copies n rows of width w from a ring atlas of `rows` rows starting at *pos; advances *pos. */
void gt__lab_atlas_take(const float *atlas, int64_t rows, int w, int64_t *pos, float *out, int64_t n);

/* lab_net.c */
gt_status gt__lab_net_build(gt_lab_net *N, const char *prefix, int in, int layers, int width, int out, gt_rng *r);
void gt__lab_net_free(gt_lab_net *N);
/* The engine's forward (recorded when grad mode is on): G ends in tanh, D in the logit. */
gt_tensor *gt__lab_net_forward(const gt_lab_net *N, gt_tensor *x, bool tanh_out);
/* The plain forward of n rows (no graph): x (n, in) -> y (n, out); scratch holds 2 * width floats. */
void gt__lab_net_eval(const gt_lab_net *N, const float *x, int64_t n, float *y, bool tanh_out, float *scratch);

/* lab.c */
/* One G update; fake and gfake (B, 2) when given get the fakes and -d(loss_i)/d(fake_i). */
gt_status gt__lab_g_step(gt_lab *L, float *fake, float *gfake);

/* lab_view.c */
/* KL(real || fake) and JS in nats, GAN Lab's grid densities; fakes (n, 2). */
void gt__lab_kl_js(const double *real_hist, const float *fake, int64_t n, float *kl, float *js);
/* The histogram of n points on the grid, normalized (points outside clamp to the border cells). */
void gt__lab_grid_hist(const float *pts, int64_t n, double *h);
/* Computes (or returns the cached) KL / JS of the current weights. */
void gt__lab_update_kl(gt_lab *L);

#endif
