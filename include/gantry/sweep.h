/* gantry/sweep.h - fair comparisons: every combination of training configs x grid values x seeds
 * trained for the same steps, each evaluated (FID) at the same fixed budgets, as one resumable
 * sweep folder with tables of mean and standard deviation over the seeds ("Are GANs Created
 * Equal?": same budget, same search, several seeds). `gantry sweep` is its command.
 *
 *     gt_sweep_spec s;
 *     gt_sweep_spec_init(&s);
 *     gt_sweep_add_config(&s, "configs/dcgan.json");
 *     gt_sweep_add_axis(&s, "lr_g=1e-4,2e-4");
 *     gt_sweep_set_seeds(&s, "0,1,2");
 *     s.steps = 300;
 *     gt_sweep_set_budgets(&s, "100,200");           // the steps itself is always the last budget
 *     snprintf(s.out, sizeof s.out, "sweeps/a");
 *     gt_sweep_plan p;
 *     if (gt_sweep_plan_make(&s, &p) == GT_OK &&         // every run's config built and checked
 *         gt_sweep_open(&s, &p) == GT_OK &&              // sweep.json written, or a restart's compared
 *         gt_sweep_run(&s, &p, NULL) == GT_OK)           // trains, evaluates, writes the tables
 *         ...
 *     gt_sweep_plan_free(&p);
 *
 * The sweep folder (--out):
 *   sweep.json                the arguments (with a hash of each resolved config): a restart with
 *                             other arguments is refused (GT_ERR_ARG explaining what differs)
 *   runs/<name>/              one run folder each (gantry train's: config.json, metrics.jsonl,
 *                             samples/, last.safetensors), name "<config>_<key>-<value>..._s<seed>"
 *   runs/<name>/sweep_evals.json   the budgets evaluated so far (atomic, after each evaluation)
 *   runs/<name>/sweep_done.json    the done marker: the run's evaluations, written atomically after
 *                             the last one; a restart skips such a run
 *   results.json              every run x budget, with the time each run took
 *   table.md, table.csv, table.json   per config x grid point: mean and standard deviation (n - 1)
 *                             over the seeds of the FID at each budget; the best grid point per
 *                             config at each budget (table.json holds no times: an interrupted and
 *                             resumed sweep gives the same bytes as an uninterrupted one)
 *   fid_vs_steps.png          mean FID against steps, one line per config x grid point
 *   best_vs_budget.png        best mean FID per config against the budget
 *
 * Evaluation: each run is trained to a budget (gt_train_run with the target at that budget, which
 * checkpoints there), then its sampling generator (EMA when there is one, BN recalibrated) draws
 * eval_n images from fixed latents (seed GT_SWEEP_EVAL_SEED) and their FID against all of eval_data
 * is computed with the extractor (gt_fid_images; real statistics cached for Fashion-MNIST). The
 * trainer's own eval_every is switched off in the sweep's runs. A killed run resumes from its
 * last checkpoint (at least one at every budget); training resume is bit-exact, so the table is
 * the one an uninterrupted sweep writes. */
#ifndef GANTRY_SWEEP_H
#define GANTRY_SWEEP_H

#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_SWEEP_MAX_CONFIGS 16
#define GT_SWEEP_MAX_AXES 8
#define GT_SWEEP_MAX_VALUES 16
#define GT_SWEEP_MAX_SEEDS 32
#define GT_SWEEP_MAX_BUDGETS 32
#define GT_SWEEP_NAME_MAX 64
#define GT_SWEEP_EVAL_SEED 0x53574545ULL /* the latents every evaluation's fakes come from */

typedef struct {
    char key[GT_SWEEP_NAME_MAX];                          /* "lr_g", "n_critic", "model.ngf" */
    int n;
    char values[GT_SWEEP_MAX_VALUES][GT_SWEEP_NAME_MAX]; /* as given ("1e-4") */
} gt_sweep_axis;

typedef struct {
    int n_configs;
    char config_path[GT_SWEEP_MAX_CONFIGS][GT_PATH_MAX];
    char config_name[GT_SWEEP_MAX_CONFIGS][GT_SWEEP_NAME_MAX]; /* the file's stem: "dcgan" */
    int n_axes;
    gt_sweep_axis axes[GT_SWEEP_MAX_AXES];
    int n_seeds;
    uint64_t seeds[GT_SWEEP_MAX_SEEDS];
    int64_t steps;                          /* every run's generator steps */
    int n_budgets;                          /* ascending, the last == steps (gt_sweep_plan_make adds it) */
    int64_t budgets[GT_SWEEP_MAX_BUDGETS];
    int64_t eval_n;                         /* generated images per evaluation (2000) */
    char eval_data[GT_PATH_MAX];            /* the real side ("" = fashion-mnist:test for Fashion-MNIST
                                               configs, else the config's training data) */
    char extractor[32];                     /* "fmnist" */
    char metrics[32];                       /* "fid" (the only one so far) */
    char data[GT_PATH_MAX];                 /* "" = each config's own; else every run's training data */
    char out[GT_PATH_MAX];                  /* the sweep folder */
} gt_sweep_spec;

void gt_sweep_spec_init(gt_sweep_spec *s);
/* Each GT_ERR_ARG with a message naming what is wrong. */
gt_status gt_sweep_add_config(gt_sweep_spec *s, const char *path); /* the file is read by the plan */
gt_status gt_sweep_add_axis(gt_sweep_spec *s, const char *key_eq_values); /* "lr_g=1e-4,2e-4" */
/* "a=1,2;b=3": several axes separated by ';' (the shell-friendly single-flag form). */
gt_status gt_sweep_add_axes(gt_sweep_spec *s, const char *list);
gt_status gt_sweep_set_seeds(gt_sweep_spec *s, const char *list);   /* "0,1,2": distinct integers */
gt_status gt_sweep_set_budgets(gt_sweep_spec *s, const char *list); /* "100,200": positive integers */

/* One run of the sweep: its config (out = <sweep>/runs/<name>), the config and grid point it comes from. */
typedef struct {
    char name[GT_PATH_MAX / 4];
    int config;                      /* index into spec->config_path */
    int point;                       /* grid point: index into the grid's combinations */
    int seed_index;
    gt_train_config cfg;
} gt_sweep_run_def;

typedef struct {
    int n_runs, n_points;            /* runs = configs x points x seeds */
    gt_sweep_run_def *runs;
    int (*point_value)[GT_SWEEP_MAX_AXES]; /* [n_points][n_axes]: the value index of each axis */
    char eval_data[GT_SWEEP_MAX_CONFIGS][GT_PATH_MAX]; /* each config's real side */
    uint64_t config_hash[GT_SWEEP_MAX_CONFIGS];       /* FNV-1a of each resolved base config */
} gt_sweep_plan;

/* Builds and checks every run's config before anything is written: reads each config file, applies
 * each grid point (a key the config does not have, a value of the wrong type, a config that does
 * not pass gt_train_config_check: GT_ERR_ARG naming the key, the value and the file). */
gt_status gt_sweep_plan_make(gt_sweep_spec *s, gt_sweep_plan *p);
void gt_sweep_plan_free(gt_sweep_plan *p);

/* The recorded arguments as JSON (malloc'd). */
char *gt_sweep_spec_json(const gt_sweep_spec *s, const gt_sweep_plan *p);
/* Creates the sweep folder and writes sweep.json, or, for an existing sweep, compares: GT_ERR_ARG
 * saying which argument differs (nothing written), GT_ERR_FORMAT for an unreadable sweep.json. */
gt_status gt_sweep_check_restart(const gt_sweep_spec *s, const gt_sweep_plan *p); /* writes nothing */
gt_status gt_sweep_open(const gt_sweep_spec *s, const gt_sweep_plan *p);

typedef struct {
    /* A run starts (resumed: from a checkpoint at step `from`; skipped: its done marker was found). */
    void (*run_start)(int i, int n, const gt_sweep_run_def *r, bool skipped, uint64_t from, void *user);
    /* A budget evaluated. */
    void (*evaluated)(const gt_sweep_run_def *r, int64_t step, double fid, double seconds, void *user);
    /* The trainer's progress (gt_train_hooks.progress: every step, and each log interval with
       interval = true); may be NULL. */
    void (*progress)(const gt_sweep_run_def *r, const gt_train_progress *p, bool interval, void *user);
    /* Polled after every training step: true stops the sweep (the run's checkpoint is written). */
    bool (*should_stop)(void *user);
    void *user;
} gt_sweep_hooks;

/* Runs (or resumes) every run in order, then writes the results and tables. *stopped (may be NULL)
 * tells whether should_stop ended it early (GT_OK then, no tables). */
gt_status gt_sweep_run(const gt_sweep_spec *s, const gt_sweep_plan *p, const gt_sweep_hooks *h, bool *stopped);

/* The results (one per run: FID per budget, NAN where missing; seconds the run took) -> results.json,
 * table.md / .csv / .json, fid_vs_steps.png, best_vs_budget.png (src/train/sweep_table.c). */
gt_status gt_sweep_write_tables(const gt_sweep_spec *s, const gt_sweep_plan *p, const double *fid,
                                const double *seconds);

#ifdef __cplusplus
}
#endif
#endif
