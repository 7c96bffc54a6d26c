/* gantry truth-pr: precision and recall where the truth is known. Trains GAN Lab's 2-D GAN on a
 * known mixture of gaussians (ring8, grid25) and reports, every --every epochs, the exact precision
 * and recall of G's samples beside the k-NN estimates (gantry/truth_pr.h); or evaluates a given
 * (N, 2) sample set (--samples FILE.npy). With --out DIR: truth_pr.json (both sets at every
 * evaluation), truth_pr.md (the table), truth_pr.png (both over training), samples.png (the last
 * samples on the plane) and samples.npy (them, for --samples). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/io.h"
#include "gantry/lab.h"
#include "gantry/plot.h"
#include "gantry/truth_pr.h"

#define TP_CMD "truth-pr"
#define TP_REAL_SEED 0x7E417EA1ull  /* the real sample: seed ^ this */
#define TP_NOISE_SEED 0x2015E0F5ull /* G's evaluation noise: seed ^ this */

typedef struct {
    int64_t epoch;
    gt_truth_report r;
} tp_row;

static int tp_fail(const char *what) {
    fprintf(stderr, "gantry " TP_CMD ": %s%s%s\n", what ? what : "", what ? ": " : "", gt_last_error());
    return GT_EXIT_FAIL;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void print_head(void) {
    printf("%8s | %7s %7s %5s %7s | %7s %7s %7s %7s | %7s %7s\n", "epoch", "P", "R", "modes", "matched", "P k=3",
           "R k=3", "P k=5", "R k=5", "dens k5", "cov k5");
    printf("%8s | %-29s | %-31s | %s\n", "", "exact", "k-NN estimate", "density/coverage");
}

static void print_row(const tp_row *w) {
    const gt_truth_exact *e = &w->r.exact;
    const gt_prdc_result *a = &w->r.knn[0], *b = &w->r.knn[1];
    char ep[24];
    if (w->epoch >= 0)
        snprintf(ep, sizeof ep, "%lld", (long long)w->epoch);
    else
        snprintf(ep, sizeof ep, "-");
    printf("%8s | %7.4f %7.4f %2d/%-2d %7.4f | %7.4f %7.4f %7.4f %7.4f | %7.4f %7.4f\n", ep, e->precision, e->recall,
           e->modes_covered, e->k, e->mass_matched, a->precision, a->recall, b->precision, b->recall, b->density,
           b->coverage);
    fflush(stdout);
}

static cJSON *row_json(const tp_row *w) {
    cJSON *o = cJSON_CreateObject(), *ex = cJSON_AddObjectToObject(o, "exact"), *kn = cJSON_AddObjectToObject(o, "knn");
    if (w->epoch >= 0) gt_json_add_number(o, "epoch", (double)w->epoch);
    const gt_truth_exact *e = &w->r.exact;
    gt_json_add_number(ex, "precision", e->precision);
    gt_json_add_number(ex, "recall", e->recall);
    gt_json_add_number(ex, "modes_covered", e->modes_covered);
    gt_json_add_number(ex, "mass_matched", e->mass_matched);
    gt_json_add_number(ex, "outside", (double)e->outside);
    cJSON *c = cJSON_AddArrayToObject(ex, "count");
    for (int j = 0; c && j < e->k; j++) cJSON_AddItemToArray(c, cJSON_CreateNumber((double)e->count[j]));
    for (int i = 0; i < GT_TRUTH_NK; i++) {
        char key[8];
        snprintf(key, sizeof key, "%d", w->r.k[i]);
        cJSON *k = cJSON_AddObjectToObject(kn, key);
        gt_json_add_number(k, "precision", w->r.knn[i].precision);
        gt_json_add_number(k, "recall", w->r.knn[i].recall);
        gt_json_add_number(k, "density", w->r.knn[i].density);
        gt_json_add_number(k, "coverage", w->r.knn[i].coverage);
    }
    return o;
}

typedef struct {
    const gt_truth_mixture *m;
    gt_truth_opts o;
    int64_t n_real, n_fake;
    uint64_t seed;
    const char *samples;         /* NULL: trained */
    const gt_lab_config *lab;    /* NULL: --samples */
    double seconds;
} tp_meta;

static gt_status write_json(const char *path, const tp_meta *mt, const tp_row *rows, int nrows) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dist", mt->m->name);
    cJSON *mx = cJSON_AddObjectToObject(o, "mixture"), *cs = cJSON_AddArrayToObject(mx, "centres");
    for (int j = 0; j < mt->m->k; j++) {
        cJSON *p = cJSON_CreateArray();
        cJSON_AddItemToArray(p, cJSON_CreateNumber(mt->m->mu[j][0]));
        cJSON_AddItemToArray(p, cJSON_CreateNumber(mt->m->mu[j][1]));
        cJSON_AddItemToArray(cs, p);
    }
    gt_json_add_number(mx, "sigma", mt->m->sigma);
    gt_json_add_number(mx, "weight", mt->m->w[0]);
    cJSON *df = cJSON_AddObjectToObject(o, "definitions");
    gt_json_add_number(df, "radius_sigmas", mt->o.radius);
    gt_json_add_number(df, "tau", mt->o.tau);
    gt_json_add_number(df, "support_mass", rows[0].r.exact.support_mass);
    cJSON_AddStringToObject(df, "precision", "fraction of generated points within radius*sigma of a centre");
    cJSON_AddStringToObject(df, "recall", "weight of the modes with >= tau*w_j*n generated points in their disk");
    cJSON_AddStringToObject(df, "mass_matched", "sum_j min(w_j, count_j / (n * support_mass))");
    cJSON_AddStringToObject(df, "knn", "gt_metric_prdc (Kynkaanniemi et al. 2019; Naeem et al. 2020), "
                                       "real sample of the mixture vs the generated points, k_pr = k_dc = k");
    gt_json_add_number(o, "n_real", (double)mt->n_real);
    gt_json_add_number(o, "n_generated", (double)mt->n_fake);
    gt_json_add_number(o, "seed", (double)mt->seed);
    if (mt->samples) cJSON_AddStringToObject(o, "samples", mt->samples);
    if (mt->lab) {
        cJSON *l = cJSON_AddObjectToObject(o, "lab");
        cJSON_AddStringToObject(l, "loss", gt_lab_loss_name(mt->lab->loss));
        cJSON_AddStringToObject(l, "optim", gt_lab_optim_name(mt->lab->optim));
        cJSON_AddStringToObject(l, "noise", gt_lab_noise_name(mt->lab->noise));
        gt_json_add_number(l, "noise_dim", mt->lab->noise_dim);
        gt_json_add_number(l, "lr_g", mt->lab->lr_g);
        gt_json_add_number(l, "lr_d", mt->lab->lr_d);
        gt_json_add_number(l, "g_layers", mt->lab->g_layers);
        gt_json_add_number(l, "g_neurons", mt->lab->g_neurons);
        gt_json_add_number(l, "d_layers", mt->lab->d_layers);
        gt_json_add_number(l, "d_neurons", mt->lab->d_neurons);
        gt_json_add_number(l, "d_steps", mt->lab->d_steps);
        gt_json_add_number(l, "g_steps", mt->lab->g_steps);
        gt_json_add_number(l, "batch", mt->lab->batch);
        gt_json_add_number(l, "gp", mt->lab->gp);
        gt_json_add_number(l, "r1", mt->lab->r1);
        gt_json_add_number(l, "seed", (double)mt->lab->seed);
        gt_json_add_number(o, "seconds", mt->seconds);
    }
    cJSON *ra = cJSON_AddArrayToObject(o, "evaluations");
    for (int i = 0; i < nrows; i++) cJSON_AddItemToArray(ra, row_json(&rows[i]));
    cJSON_AddItemToObject(o, "final", row_json(&rows[nrows - 1]));
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    if (!s) return gt_set_error(GT_ERR_OOM, "truth-pr: out of memory for the JSON");
    size_t len = strlen(s);
    s[len] = '\n';
    gt_status st = gt_write_file_atomic(path, s, len + 1);
    free(s);
    return st;
}

static gt_status write_md(const char *path, const tp_meta *mt, const tp_row *rows, int nrows) {
    size_t cap = 1024 + (size_t)nrows * 160, len = 0;
    char *b = malloc(cap);
    if (!b) return gt_set_error(GT_ERR_OOM, "truth-pr: out of memory");
    len += (size_t)snprintf(b + len, cap - len,
                            "%s: %d modes, sigma %g; n = %lld generated, %lld real; radius %g sigma, tau %g\n\n"
                            "| epoch | P exact | R exact | modes | matched | P k=3 | R k=3 | P k=5 | R k=5 "
                            "| density k=5 | coverage k=5 |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
                            mt->m->name, mt->m->k, mt->m->sigma, (long long)mt->n_fake, (long long)mt->n_real,
                            mt->o.radius, mt->o.tau);
    for (int i = 0; i < nrows; i++) {
        const gt_truth_exact *e = &rows[i].r.exact;
        const gt_prdc_result *a = &rows[i].r.knn[0], *c = &rows[i].r.knn[1];
        char ep[24] = "-";
        if (rows[i].epoch >= 0) snprintf(ep, sizeof ep, "%lld", (long long)rows[i].epoch);
        len += (size_t)snprintf(b + len, cap - len,
                                "| %s | %.4f | %.4f | %d/%d | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", ep,
                                e->precision, e->recall, e->modes_covered, e->k, e->mass_matched, a->precision,
                                a->recall, c->precision, c->recall, c->density, c->coverage);
    }
    gt_status st = gt_write_file_atomic(path, b, len);
    free(b);
    return st;
}

/* Precision (left) and recall (right) over training: exact against the k-NN estimates. */
static gt_status write_curves(const char *path, const tp_row *rows, int n) {
    double *v = malloc(sizeof(double) * (size_t)n * 9);
    if (!v) return gt_set_error(GT_ERR_OOM, "truth-pr: out of memory");
    double *x = v, *pe = v + n, *p3 = v + 2 * n, *p5 = v + 3 * n, *re = v + 4 * n, *mm = v + 5 * n, *r3 = v + 6 * n,
           *r5 = v + 7 * n, *cv = v + 8 * n;
    for (int i = 0; i < n; i++) {
        x[i] = (double)rows[i].epoch;
        pe[i] = rows[i].r.exact.precision;
        re[i] = rows[i].r.exact.recall;
        mm[i] = rows[i].r.exact.mass_matched;
        p3[i] = rows[i].r.knn[0].precision;
        r3[i] = rows[i].r.knn[0].recall;
        p5[i] = rows[i].r.knn[1].precision;
        r5[i] = rows[i].r.knn[1].recall;
        cv[i] = rows[i].r.knn[1].coverage;
    }
    gt_plot_series sp[3] = {
        {.x = x, .y = pe, .n = n, .name = "exact", .line = true, .rgb = {0, 0, 0}},
        {.x = x, .y = p3, .n = n, .name = "k-NN k=3", .line = true},
        {.x = x, .y = p5, .n = n, .name = "k-NN k=5", .line = true},
    };
    gt_plot_series sr[5] = {
        {.x = x, .y = re, .n = n, .name = "exact (modes)", .line = true},
        {.x = x, .y = mm, .n = n, .name = "exact mass matched", .line = true},
        {.x = x, .y = r3, .n = n, .name = "k-NN k=3", .line = true},
        {.x = x, .y = r5, .n = n, .name = "k-NN k=5", .line = true},
        {.x = x, .y = cv, .n = n, .name = "coverage k=5", .line = true},
    };
    sp[0].rgb[0] = 1; /* not all 0: black, not the palette's first colour */
    gt_plot_axes ap = {.title = "precision", .xlabel = "epoch", .ylabel = "precision", .ylo = 0, .yhi = 1.05};
    gt_plot_axes ar = {.title = "recall", .xlabel = "epoch", .ylabel = "recall", .ylo = 0, .yhi = 1.05};
    gt_image img = {0};
    gt_status st = gt_plot_canvas(1280, 480, &img);
    if (st == GT_OK) st = gt_plot_draw(&img, 0, 0, 640, 480, &ap, sp, 3);
    if (st == GT_OK) st = gt_plot_draw(&img, 640, 0, 640, 480, &ar, sr, 5);
    if (st == GT_OK) st = gt_png_write(path, img.data, img.w, img.h, img.c);
    gt_image_free(&img);
    free(v);
    return st;
}

/* The generated points over a real sample, on the lab's plane. */
static gt_status write_scatter(const char *path, const float *real, int64_t nr, const float *fake, int64_t nf,
                               const char *title) {
    double *xy = malloc(sizeof(double) * 2 * (size_t)(nr + nf)); /* x of every point, then y */
    if (!xy) return gt_set_error(GT_ERR_OOM, "truth-pr: out of memory");
    int64_t N = nr + nf;
    for (int64_t i = 0; i < N; i++) {
        const float *p = i < nr ? real + 2 * i : fake + 2 * (i - nr);
        xy[i] = p[0];
        xy[N + i] = p[1];
    }
    gt_plot_series s[2] = {
        {.x = xy, .y = xy + N, .n = (int)nr, .name = "real", .rgb = {170, 170, 170}},
        {.x = xy + nr, .y = xy + N + nr, .n = (int)nf, .name = "generated", .rgb = {214, 39, 40}},
    };
    gt_plot_axes a = {.title = title, .xlabel = "x", .ylabel = "y"};
    a.xlo = a.ylo = -0.05;
    a.xhi = a.yhi = 1.05;
    gt_status st = gt_plot_png(path, 560, 560, &a, s, 2);
    free(xy);
    return st;
}

static gt_status write_outputs(const char *dir, const tp_meta *mt, const tp_row *rows, int nrows, const float *real,
                               const float *fake) {
    char p[4096];
    gt_status st;
    snprintf(p, sizeof p, "%s/truth_pr.json", dir);
    if ((st = write_json(p, mt, rows, nrows)) != GT_OK) return st;
    snprintf(p, sizeof p, "%s/truth_pr.md", dir);
    if ((st = write_md(p, mt, rows, nrows)) != GT_OK) return st;
    if (mt->lab) {
        snprintf(p, sizeof p, "%s/truth_pr.png", dir);
        if ((st = write_curves(p, rows, nrows)) != GT_OK) return st;
        int64_t shape[2] = {mt->n_fake, 2};
        snprintf(p, sizeof p, "%s/samples.npy", dir);
        if ((st = gt_npy_save(p, GT_NPY_F4, 2, shape, fake)) != GT_OK) return st;
    }
    char title[96];
    if (rows[nrows - 1].epoch >= 0)
        snprintf(title, sizeof title, "%.31s, epoch %lld", mt->m->name, (long long)rows[nrows - 1].epoch);
    else
        snprintf(title, sizeof title, "%.31s", mt->m->name);
    snprintf(p, sizeof p, "%s/samples.png", dir);
    return write_scatter(p, real, mt->n_real, fake, mt->n_fake, title);
}

/* FILE.npy (N, 2) float -> a malloc'd float array. */
static gt_status load_samples(const char *path, float **out, int64_t *n) {
    gt_npy_array a;
    memset(&a, 0, sizeof a);
    gt_status st = gt_npy_load(&a, path);
    if (st != GT_OK) return st;
    if (a.ndim != 2 || a.shape[1] != 2) {
        gt_npy_array_free(&a);
        return gt_set_error(GT_ERR_ARG, "%s: want an (N, 2) array of points, got %d dimensions%s", path, a.ndim,
                            a.ndim == 2 ? " with a second size other than 2" : "");
    }
    double *d = malloc(sizeof(double) * (size_t)(a.numel > 0 ? a.numel : 1));
    float *f = malloc(sizeof(float) * (size_t)(a.numel > 0 ? a.numel : 1));
    if (!d || !f) {
        free(d), free(f), gt_npy_array_free(&a);
        return gt_set_error(GT_ERR_OOM, "%s: out of memory", path);
    }
    gt_npy_to_f64(&a, d);
    for (int64_t i = 0; i < a.numel; i++) f[i] = (float)d[i];
    *n = a.shape[0];
    free(d);
    gt_npy_array_free(&a);
    *out = f;
    return GT_OK;
}

static int make_dir(const char *dir) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        gt_set_error(GT_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
        return tp_fail("--out");
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        gt_set_error(GT_ERR_IO, "%s is not a folder", dir);
        return tp_fail("--out");
    }
    return GT_EXIT_OK;
}

int gt_cmd_truth_pr(int argc, char **argv) {
    const char *dist = "ring8", *loss = NULL, *optim = NULL, *noise = NULL, *out = NULL, *samples = NULL;
    int steps = 2000, every = 200, n = 2000, g_layers = -1, g_neurons = -1, d_layers = -1, d_neurons = -1;
    int noise_dim = -1, batch = -1, d_steps = -1, g_steps = -1, threads = 0;
    double lr_g = -1, lr_d = -1, radius = 3.0, tau = 0.2, r1 = -1, gp = -1;
    uint64_t seed = 1;
    gt_arg spec[] = {
        {"--dist", GT_ARG_STR, &dist, 0, 0, false, "ring8|grid25", "the known mixture (ring8)", false},
        {"--steps", GT_ARG_INT, &steps, 1, 10000000, false, "N", "training epochs of the lab's GAN (2000)", false},
        {"--every", GT_ARG_INT, &every, 1, 10000000, false, "M", "evaluate every M epochs (200)", false},
        {"--n", GT_ARG_INT, &n, 6, 1000000, false, "N", "generated points and real points per evaluation (2000)",
         false},
        {"--samples", GT_ARG_STR, &samples, 0, 0, false, "FILE.npy",
         "evaluate this (N, 2) sample set instead of training", false},
        {"--out", GT_ARG_STR, &out, 0, 0, false, "DIR",
         "write truth_pr.json, truth_pr.md, truth_pr.png, samples.png, samples.npy", false},
        {"--radius", GT_ARG_DOUBLE, &radius, 0, 10, true, "R", "a mode's disk: R sigmas (3)", false},
        {"--tau", GT_ARG_DOUBLE, &tau, 0, 1, true, "T", "a mode is covered with >= T of its expected points (0.2)",
         false},
        {"--seed", GT_ARG_U64, &seed, 0, 0, false, "S", "the lab's seed, and the evaluation samples' (1)", false},
        {"--loss", GT_ARG_STR, &loss, 0, 0, false, "log|ls|hinge|wgan-gp", "the lab's loss (log)", false},
        {"--optim", GT_ARG_STR, &optim, 0, 0, false, "sgd|adam", "the lab's optimizer (sgd)", false},
        {"--lr-g", GT_ARG_DOUBLE, &lr_g, 0, 10, true, "LR", "G's learning rate (0.1)", false},
        {"--lr-d", GT_ARG_DOUBLE, &lr_d, 0, 10, true, "LR", "D's learning rate (0.1)", false},
        {"--g-layers", GT_ARG_INT, &g_layers, 0, GT_LAB_MAX_LAYERS, false, "L", "G's hidden layers (1)", false},
        {"--g-neurons", GT_ARG_INT, &g_neurons, 1, GT_LAB_MAX_NEURONS, false, "N", "G's neurons per layer (8)", false},
        {"--d-layers", GT_ARG_INT, &d_layers, 0, GT_LAB_MAX_LAYERS, false, "L", "D's hidden layers (1)", false},
        {"--d-neurons", GT_ARG_INT, &d_neurons, 1, GT_LAB_MAX_NEURONS, false, "N", "D's neurons per layer (8)", false},
        {"--noise", GT_ARG_STR, &noise, 0, 0, false, "uniform|gaussian", "G's noise (uniform)", false},
        {"--noise-dim", GT_ARG_INT, &noise_dim, 1, 2, false, "D", "G's noise dimensions (2)", false},
        {"--batch", GT_ARG_INT, &batch, 1, GT_LAB_MAX_BATCH, false, "B", "batch (150)", false},
        {"--d-steps", GT_ARG_INT, &d_steps, 0, 10, false, "K", "D updates per epoch (2)", false},
        {"--g-steps", GT_ARG_INT, &g_steps, 0, 10, false, "K", "G updates per epoch (1)", false},
        {"--r1", GT_ARG_DOUBLE, &r1, 0, 1000, false, "GAMMA", "R1 penalty on D's reals, any loss (0 = off)", false},
        {"--gp", GT_ARG_DOUBLE, &gp, 0, 1000, false, "W", "wgan-gp's penalty weight (10)", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    int rc = gt_args_parse(TP_CMD, spec, ns, argc, argv, 2,
                           "[--dist ring8|grid25] [--steps N] [--every M] [--n N] [--out DIR] | --samples FILE.npy");
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    int d = gt_truth_dist_parse(dist);
    if (d < 0) return gt_args_error(TP_CMD, "--dist must be ring8 or grid25, got '%s'", dist);
    gt_lab_config lc = gt_lab_config_default();
    int v;
    if (loss && (v = gt_lab_loss_parse(loss)) < 0)
        return gt_args_error(TP_CMD, "--loss must be log, ls, hinge or wgan-gp, got '%s'", loss);
    if (loss) lc.loss = (gt_lab_loss)v;
    if (optim && (v = gt_lab_optim_parse(optim)) < 0)
        return gt_args_error(TP_CMD, "--optim must be sgd or adam, got '%s'", optim);
    if (optim) lc.optim = (gt_lab_optim)v;
    if (noise && (v = gt_lab_noise_parse(noise)) < 0)
        return gt_args_error(TP_CMD, "--noise must be uniform or gaussian, got '%s'", noise);
    if (noise) lc.noise = (gt_lab_noise)v;
    if (lr_g > 0) lc.lr_g = (float)lr_g;
    if (lr_d > 0) lc.lr_d = (float)lr_d;
    if (g_layers >= 0) lc.g_layers = g_layers;
    if (g_neurons >= 0) lc.g_neurons = g_neurons;
    if (d_layers >= 0) lc.d_layers = d_layers;
    if (d_neurons >= 0) lc.d_neurons = d_neurons;
    if (noise_dim >= 0) lc.noise_dim = noise_dim;
    if (batch >= 0) lc.batch = batch;
    if (d_steps >= 0) lc.d_steps = d_steps;
    if (g_steps >= 0) lc.g_steps = g_steps;
    if (r1 >= 0) lc.r1 = (float)r1;
    if (gp >= 0) lc.gp = (float)gp;
    lc.seed = seed;
    if (samples) { /* the training flags mean nothing then */
        static const char *const train_only[] = {"--steps", "--every", "--loss", "--optim", "--lr-g", "--lr-d",
                                                 "--g-layers", "--g-neurons", "--d-layers", "--d-neurons", "--noise",
                                                 "--noise-dim", "--batch", "--d-steps", "--g-steps",
                                                 "--r1", "--gp"};
        for (size_t i = 0; i < sizeof train_only / sizeof *train_only; i++)
            if (gt_args_find(spec, ns, train_only[i])->given)
                return gt_args_error(TP_CMD, "%s trains the lab's GAN: it cannot go with --samples", train_only[i]);
    }
    gt_truth_mixture m;
    gt_truth_opts o = {.radius = radius, .tau = tau};
    if (gt_truth_mixture_get((gt_truth_dist)d, &m) != GT_OK || gt_truth_mixture_check(&m, radius) != GT_OK) {
        fprintf(stderr, "gantry " TP_CMD ": %s\n", gt_last_error()); /* e.g. --radius so large the disks overlap */
        return GT_EXIT_USAGE;
    }
    if (!samples && gt_truth_lab_config(&m, &lc) != GT_OK) return tp_fail(NULL);
    if (!samples && gt_lab_config_check(&lc) != GT_OK) {
        fprintf(stderr, "gantry " TP_CMD ": %s\n", gt_last_error());
        return GT_EXIT_USAGE;
    }
    if (threads > 0) gt_set_num_threads(threads);
    if (out && (rc = make_dir(out)) != GT_EXIT_OK) return rc;

    float *fake = NULL;
    int64_t n_fake = n, n_real = n;
    if (samples) {
        if (load_samples(samples, &fake, &n_fake) != GT_OK) return tp_fail("--samples");
        if (n_fake <= 5) {
            free(fake);
            gt_set_error(GT_ERR_ARG, "%s holds %lld points; the k-NN estimates need at least 6", samples,
                         (long long)n_fake);
            return tp_fail("--samples");
        }
        if (!gt_args_find(spec, ns, "--n")->given) n_real = n_fake;
    }
    float *real = malloc(sizeof(float) * 2 * (size_t)n_real);
    if (!fake) fake = malloc(sizeof(float) * 2 * (size_t)n_fake);
    int nmax = samples ? 1 : steps / every + 2;
    tp_row *rows = calloc((size_t)nmax, sizeof *rows);
    if (!real || !fake || !rows) {
        free(real), free(fake), free(rows);
        gt_set_error(GT_ERR_OOM, "out of memory for %lld points", (long long)n);
        return tp_fail(NULL);
    }
    rc = GT_EXIT_OK;
    int nrows = 0;
    gt_lab *L = NULL;
    tp_meta mt = {.m = &m, .o = o, .n_real = n_real, .n_fake = n_fake, .seed = seed, .samples = samples,
                  .lab = samples ? NULL : &lc};
    double t0 = now_s();
    if (gt_truth_sample(&m, seed ^ TP_REAL_SEED, n_real, real) != GT_OK) rc = tp_fail(NULL);
    if (rc == GT_EXIT_OK && samples) {
        rows[0].epoch = -1;
        if (gt_truth_evaluate(&m, real, n_real, fake, n_fake, &o, &rows[0].r) != GT_OK) {
            rc = tp_fail(samples);
        } else {
            nrows = 1;
            printf("%s: %lld points of %s against %lld real\n", m.name, (long long)n_fake, samples, (long long)n_real);
            print_head();
            print_row(&rows[0]);
        }
    } else if (rc == GT_EXIT_OK) {
        if (gt_lab_new(&L, &lc) != GT_OK) {
            rc = tp_fail("the lab");
        } else {
            printf("%s: GAN Lab's GAN (%s loss, %s, lr %g/%g, G %dx%d, D %dx%d), %d epochs, n = %d\n", m.name,
                   gt_lab_loss_name(lc.loss), gt_lab_optim_name(lc.optim), (double)lc.lr_g, (double)lc.lr_d,
                   lc.g_layers, lc.g_neurons, lc.d_layers, lc.d_neurons, steps, n);
            print_head();
        }
        for (int64_t ep = 0; rc == GT_EXIT_OK; ep = gt_lab_epoch(L)) {
            if (ep % every == 0 || ep == steps) {
                tp_row *w = &rows[nrows];
                w->epoch = ep;
                if (gt_truth_lab_sample(L, seed ^ TP_NOISE_SEED, n_fake, fake) != GT_OK ||
                    gt_truth_evaluate(&m, real, n_real, fake, n_fake, &o, &w->r) != GT_OK) {
                    rc = tp_fail("evaluation");
                    break;
                }
                nrows++;
                print_row(w);
            }
            if (ep >= steps) break;
            int64_t next = (ep / every + 1) * every;
            if (next > steps) next = steps;
            if (gt_lab_epochs(L, (int)(next - ep), GT_LAB_BOTH) != GT_OK) rc = tp_fail("training");
        }
    }
    mt.seconds = now_s() - t0;
    if (rc == GT_EXIT_OK && L) printf("%.2f s\n", mt.seconds);
    if (rc == GT_EXIT_OK && out && write_outputs(out, &mt, rows, nrows, real, fake) != GT_OK) rc = tp_fail(out);
    if (rc == GT_EXIT_OK && out) printf("wrote %s/truth_pr.json\n", out);
    gt_lab_free(L);
    free(real);
    free(fake);
    free(rows);
    return rc;
}
