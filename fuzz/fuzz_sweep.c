/* libFuzzer harness: sweep grids (src/train/sweep.c): the grid, seeds and budgets lists and the
 * plan they make with a config file. The input is lines:
 *   1: the grid ("lr_g=1e-4,2e-4;n_critic=1,2", gt_sweep_add_axes)
 *   2: the seeds ("0,1,2"), 3: the budgets ("100,200"), 4: the steps (a number)
 *   the rest: the config file's JSON (written to /dev/shm/.../cfg/base.json); after a form feed
 *   (\f), if any, a sweep.json that gt_sweep_check_restart compares with the plan.
 * The plan (gt_sweep_plan_make: every run's config built and checked) and its recorded JSON
 * (gt_sweep_spec_json) are made when the arguments are accepted. */
#include "fuzz_util.h"
#include "gantry/sweep.h"

static char gt_fz_cfg[512], gt_fz_out[512], gt_fz_sj[600];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    gt_fuzz_path(gt_fz_cfg, sizeof gt_fz_cfg, "cfg/base.json");
    gt_fuzz_path(gt_fz_sj, sizeof gt_fz_sj, "sweep/sweep.json");
    snprintf(gt_fz_out, sizeof gt_fz_out, "%s/sweep", gt_fuzz_scratch());
    return 0;
}

/* The next line of *p (NUL-terminated in place), or "" at the end. */
static char *gt_fz_line(char **p) {
    char *s = *p, *e = strchr(s, '\n');
    if (e) *e = 0, *p = e + 1;
    else *p = s + strlen(s);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char *buf = malloc(n + 1);
    GT_FUZZ_CHECK(buf, "malloc");
    memcpy(buf, d, n);
    buf[n] = 0;
    char *p = buf;
    char *grid = gt_fz_line(&p), *seeds = gt_fz_line(&p), *budgets = gt_fz_line(&p), *steps = gt_fz_line(&p);
    char *ff = strchr(p, '\f');
    if (ff) *ff = 0;
    gt_fuzz_write(gt_fz_cfg, p, strlen(p));
    unlink(gt_fz_sj);
    if (ff) gt_fuzz_write(gt_fz_sj, ff + 1, strlen(ff + 1));
    gt_sweep_spec *s = malloc(sizeof *s);
    GT_FUZZ_CHECK(s, "malloc");
    gt_sweep_spec_init(s);
    snprintf(s->out, sizeof s->out, "%s", gt_fz_out);
    s->steps = strtoll(steps, NULL, 10);
    gt_sweep_plan plan;
    bool planned = false;
    if ((!grid[0] || gt_sweep_add_axes(s, grid) == GT_OK) && gt_sweep_set_seeds(s, seeds) == GT_OK &&
        (!budgets[0] || gt_sweep_set_budgets(s, budgets) == GT_OK) && gt_sweep_add_config(s, gt_fz_cfg) == GT_OK &&
        (planned = gt_sweep_plan_make(s, &plan) == GT_OK)) {
        GT_FUZZ_CHECK(plan.n_runs == s->n_configs * plan.n_points * s->n_seeds && plan.n_runs >= 1, "%d runs",
                      plan.n_runs);
        for (int i = 0; i < plan.n_runs; i++) GT_FUZZ_CHECK(plan.runs[i].name[0], "run %d without a name", i);
        char *j = gt_sweep_spec_json(s, &plan);
        GT_FUZZ_CHECK(j, "spec json: %s", gt_last_error());
        free(j);
        if (ff && gt_sweep_check_restart(s, &plan) != GT_OK)
            GT_FUZZ_CHECK(gt_last_error()[0], "a refused restart without a message");
    } else {
        GT_FUZZ_CHECK(gt_last_error()[0], "refused arguments without a message");
    }
    if (planned) gt_sweep_plan_free(&plan);
    free(s);
    free(buf);
    return 0;
}
