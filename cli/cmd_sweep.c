/* gantry sweep: every config x grid point x seed trained for the same steps, FID at fixed budgets,
 * mean and standard deviation over seeds in a table (gantry/sweep.h). Resumable: the same command
 * again skips finished runs and resumes the interrupted one; other arguments are refused. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/sweep.h"

static volatile sig_atomic_t gt__sw_stop;

static void gt__sw_on_signal(int sig) {
    (void)sig;
    if (gt__sw_stop) signal(SIGINT, SIG_DFL); /* a second Ctrl-C kills */
    gt__sw_stop = 1;
}

static bool gt__sw_should_stop(void *u) {
    (void)u;
    return gt__sw_stop != 0;
}

typedef struct {
    bool quiet, tty;
    double last_draw;
} gt__sw_ui;

static double gt__sw_wall(void);

/* The trainer's progress: one line redrawn on a terminal, each log interval's otherwise. */
static void gt__sw_progress(const gt_sweep_run_def *r, const gt_train_progress *p, bool interval, void *user) {
    gt__sw_ui *ui = user;
    if (ui->quiet || (!interval && !ui->tty)) return;
    double now = gt__sw_wall();
    if (ui->tty && !interval && now - ui->last_draw < 0.25) return;
    ui->last_draw = now;
    fprintf(stderr, "%sgantry sweep:   %s step %llu/%llu  %.2f it/s  loss D %.4f G %.4f%s", ui->tty ? "\r" : "",
            r->name, (unsigned long long)p->step, (unsigned long long)r->cfg.steps, p->it_s, p->mean.loss_d,
            p->mean.loss_g, ui->tty ? "\033[K" : "\n");
    if (ui->tty && p->final) fputc('\n', stderr);
    fflush(stderr);
}

static void gt__sw_run_start(int i, int n, const gt_sweep_run_def *r, bool skipped, uint64_t from, void *user) {
    if (((gt__sw_ui *)user)->quiet) return;
    if (skipped) fprintf(stderr, "gantry sweep: [%d/%d] %s: done before, skipped\n", i + 1, n, r->name);
    else if (from) fprintf(stderr, "gantry sweep: [%d/%d] %s: resuming at step %llu\n", i + 1, n, r->name,
                           (unsigned long long)from);
    else fprintf(stderr, "gantry sweep: [%d/%d] %s\n", i + 1, n, r->name);
}

static void gt__sw_evaluated(const gt_sweep_run_def *r, int64_t step, double fid, double secs, void *user) {
    gt__sw_ui *ui = user;
    if (ui->quiet) return;
    if (ui->tty) fprintf(stderr, "\r\033[K");
    fprintf(stderr, "gantry sweep:   %s step %lld: FID %.3f (%.1f s)\n", r->name, (long long)step, fid, secs);
}

static double gt__sw_wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define GT__SW_REPEAT 32

int gt_cmd_sweep(int argc, char **argv) {
    /* --config and --grid may repeat: taken out of argv before the parse */
    const char *configs[GT__SW_REPEAT], *grids[GT__SW_REPEAT];
    int nc = 0, ng = 0, na = 0;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return GT_EXIT_FAIL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool c = !strcmp(a, "--config") || !strncmp(a, "--config=", 9);
        bool g = !strcmp(a, "--grid") || !strncmp(a, "--grid=", 7);
        if (i < 2 || (!c && !g)) {
            rest[na++] = argv[i];
            continue;
        }
        const char *v = strchr(a, '=');
        if (v) v++;
        else if (i + 1 < argc) v = argv[++i];
        else {
            free(rest);
            return gt_args_error("sweep", "%s needs a value", a);
        }
        if ((c && nc >= GT__SW_REPEAT) || (g && ng >= GT__SW_REPEAT)) {
            free(rest);
            return gt_args_error("sweep", "%s given more than %d times", c ? "--config" : "--grid", GT__SW_REPEAT);
        }
        if (c) configs[nc++] = v;
        else grids[ng++] = v;
    }
    const char *config_list = NULL, *seeds = "0", *budgets = NULL, *out = NULL, *metrics = "fid", *eval_data = NULL;
    const char *extractor = "fmnist", *data = NULL, *dummy = NULL;
    int64_t steps = 0, eval_n = 2000;
    bool quiet = false;
    gt_arg spec[] = {
        {"--config", GT_ARG_STR, &dummy, 0, 0, false, "FILE",
         "a training config (configs/*.json); repeat it for several models", false},
        {"--configs", GT_ARG_STR, &config_list, 0, 0, false, "A,B", "several configs as one comma list", false},
        {"--grid", GT_ARG_STR, &dummy, 0, 0, false, "KEY=V1,V2",
         "a config key (lr_g, n_critic, model.ngf, ...) and its values; repeat it, or \"k=a,b;m=c,d\"", false},
        {"--seeds", GT_ARG_STR, &seeds, 0, 0, false, "S1,S2", "the seeds of every grid point (0)", false},
        {"--steps", GT_ARG_I64, &steps, 1, 1e12, false, "N", "generator steps of every run", false},
        {"--budgets", GT_ARG_STR, &budgets, 0, 0, false, "B1,B2",
         "steps at which each run is evaluated (increasing; --steps is always the last)", false},
        {"--out", GT_ARG_STR, &out, 0, 0, false, "DIR", "the sweep folder (runs/, tables, plots)", false},
        {"--metrics", GT_ARG_STR, &metrics, 0, 0, false, "LIST",
         "what each evaluation computes: fid (so far the only one)", false},
        {"--eval-n", GT_ARG_I64, &eval_n, 2, 1e7, false, "N", "generated images per evaluation (2000)", false},
        {"--eval-data", GT_ARG_STR, &eval_data, 0, 0, false, "SPEC",
         "the real images FID compares with (fashion-mnist:test for Fashion-MNIST configs, else the training data)",
         false},
        {"--extractor", GT_ARG_STR, &extractor, 0, 0, false, "NAME", "feature extractor: fmnist (default) or inception",
         false},
        {"--data", GT_ARG_STR, &data, 0, 0, false, "SPEC", "the training data of every run (default: each config's)",
         false},
        {"--quiet", GT_ARG_TRUE, &quiet, 0, 0, false, NULL, "no progress lines", false},
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    const char *syn = "--config FILE [--config FILE ...] [--grid KEY=V1,V2 ...] [--seeds 0,1,2] --steps N "
                      "[--budgets B1,B2] --out DIR";
    int pr = gt_args_parse("sweep", spec, ns, na, rest, 2, syn);
    free(rest);
    if (pr == GT_ARGS_HELP) return GT_EXIT_OK;
    if (pr != GT_ARGS_OK) return GT_EXIT_USAGE;

    gt_sweep_spec *s = calloc(1, sizeof *s);
    if (!s) return GT_EXIT_FAIL;
    gt_sweep_spec_init(s);
    int rc = GT_EXIT_OK;
#define GT__SW_USAGE(...)                          \
    do {                                           \
        rc = gt_args_error("sweep", __VA_ARGS__); \
        goto done;                                 \
    } while (0)
    gt_sweep_plan p = {0};
    if (!out) GT__SW_USAGE("--out DIR is required (the sweep folder)");
    if (!gt_args_find(spec, ns, "--steps")->given) GT__SW_USAGE("--steps N is required (every run's generator steps)");
    if (nc == 0 && !config_list) GT__SW_USAGE("--config FILE is required (e.g. configs/dcgan.json)");
    for (int i = 0; i < nc; i++)
        if (gt_sweep_add_config(s, configs[i]) != GT_OK) GT__SW_USAGE("--%s", gt_last_error());
    if (config_list) {
        char *copy = strdup(config_list), *save = NULL;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
            if (gt_sweep_add_config(s, t) != GT_OK) {
                free(copy);
                GT__SW_USAGE("--%s", gt_last_error());
            }
        free(copy);
    }
    for (int i = 0; i < ng; i++)
        if (gt_sweep_add_axes(s, grids[i]) != GT_OK) GT__SW_USAGE("--%s", gt_last_error());
    if (gt_sweep_set_seeds(s, seeds) != GT_OK) GT__SW_USAGE("--%s", gt_last_error());
    if (budgets && gt_sweep_set_budgets(s, budgets) != GT_OK) GT__SW_USAGE("--%s", gt_last_error());
    if (strlen(out) >= sizeof s->out || (eval_data && strlen(eval_data) >= sizeof s->eval_data) ||
        (data && strlen(data) >= sizeof s->data))
        GT__SW_USAGE("a path is too long");
    if (strcmp(extractor, "fmnist") && strcmp(extractor, "inception"))
        GT__SW_USAGE("--extractor must be fmnist or inception, got '%s'", extractor);
    if (strlen(metrics) >= sizeof s->metrics || strcmp(metrics, "fid"))
        GT__SW_USAGE("--metrics: a sweep evaluates fid only so far, got '%s'", metrics);
    snprintf(s->out, sizeof s->out, "%s", out);
    snprintf(s->extractor, sizeof s->extractor, "%s", extractor);
    snprintf(s->metrics, sizeof s->metrics, "%s", metrics);
    if (eval_data) snprintf(s->eval_data, sizeof s->eval_data, "%s", eval_data);
    if (data) snprintf(s->data, sizeof s->data, "%s", data);
    s->steps = steps;
    s->eval_n = eval_n;

    /* every run's config, and a restart's arguments, checked before anything is written */
    gt_status st = gt_sweep_plan_make(s, &p);
    if (st == GT_OK) st = gt_sweep_check_restart(s, &p);
    if (st == GT_ERR_ARG) GT__SW_USAGE("%s", gt_last_error());
    if (st == GT_OK) st = gt_sweep_open(s, &p);
    if (st != GT_OK) {
        fprintf(stderr, "gantry sweep: %s\n", gt_last_error());
        rc = GT_EXIT_FAIL;
        goto done;
    }
    if (!quiet)
        fprintf(stderr, "gantry sweep: %d runs (%d config%s x %d grid point%s x %d seed%s), %lld steps each, FID at",
                p.n_runs, s->n_configs, s->n_configs == 1 ? "" : "s", p.n_points, p.n_points == 1 ? "" : "s",
                s->n_seeds, s->n_seeds == 1 ? "" : "s", (long long)s->steps);
    for (int b = 0; b < s->n_budgets && !quiet; b++) fprintf(stderr, "%s %lld", b ? "," : "", (long long)s->budgets[b]);
    if (!quiet) fprintf(stderr, " steps (%lld images vs %s) -> %s\n", (long long)s->eval_n, p.eval_data[0], s->out);
    gt__sw_ui ui = {quiet, isatty(2) != 0, 0};
    gt_sweep_hooks h = {gt__sw_run_start, gt__sw_evaluated, gt__sw_progress, gt__sw_should_stop, &ui};
    signal(SIGINT, gt__sw_on_signal);
    signal(SIGTERM, gt__sw_on_signal);
    double t0 = gt__sw_wall();
    bool stopped = false;
    st = gt_sweep_run(s, &p, &h, &stopped);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (st != GT_OK) {
        fprintf(stderr, "gantry sweep: %s\n", gt_last_error());
        rc = GT_EXIT_FAIL;
    } else if (stopped) {
        fprintf(stderr, "gantry sweep: interrupted; the same command resumes it\n");
        rc = GT_EXIT_INTERRUPTED;
    } else if (!quiet) {
        fprintf(stderr, "gantry sweep: done in %.1f s -> %s/table.md (.csv, .json), results.json, fid_vs_steps.png, "
                "best_vs_budget.png\n", gt__sw_wall() - t0, s->out);
    }
done:
    gt_sweep_plan_free(&p);
    free(s);
    return rc;
#undef GT__SW_USAGE
}
