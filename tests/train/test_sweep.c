/* The sweep library (gantry/sweep.h): parsing of grids, seeds and budgets; the plan (every config
 * x grid point x seed, each config built from the file with the grid values applied, model
 * options and tied keys included; unknown and reserved keys refused before anything is written);
 * the table's statistics from known FIDs (mean, n - 1 standard deviation, a NaN left out, the best
 * grid point per config); in process, the same sweep twice gives bit-identical table.json, and a
 * sweep stopped in its second run and run again ends with the same table.json; a restart with
 * other arguments is refused. */
#include <cjson/cJSON.h>
#include <sys/stat.h>

#include "../common/harness.h"
#include "gantry/sweep.h"
#include "train_util.h"

static char g_idx[700], g_cfg[700], g_cfg2[700];

/* A whole file, NUL-terminated (NULL when it cannot be read). */
static char *read_text(const char *path, size_t *n) {
    void *buf = NULL;
    return gt_read_file(path, &buf, n, 0) == GT_OK ? buf : NULL;
}

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void write_cfg(const char *path, const char *loss) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f,
            "{\"model\": {\"name\": \"dcgan\", \"res\": 28, \"channels\": 1, \"nz\": 8, \"ngf\": 8, \"ndf\": 8},\n"
            " \"data\": \"%s\", \"batch\": 8, \"lr_g\": 0.0002, \"lr_d\": 0.0002, \"loss\": \"%s\", \"ema\": 0.9,\n"
            " \"sample_every\": 0, \"log_every\": 5, \"ckpt_every\": 5, \"keep_ckpts\": 2, \"n_samples\": 4}\n",
            g_idx, loss);
    fclose(f);
}

static void setup(void) {
    snprintf(g_idx, sizeof g_idx, "%s", gt_test_path("tiny.idx"));
    CHECK(gt_test_write_idx(g_idx, 40));
    snprintf(g_cfg, sizeof g_cfg, "%s", gt_test_path("small.json"));
    snprintf(g_cfg2, sizeof g_cfg2, "%s", gt_test_path("small_ls.json"));
    write_cfg(g_cfg, "ns");
    write_cfg(g_cfg2, "ls");
}

static void test_parse(void) {
    gt_sweep_spec s;
    gt_sweep_spec_init(&s);
    CHECK(gt_sweep_add_axis(&s, "lr_g=1e-4, 2e-4") == GT_OK && s.n_axes == 1 && s.axes[0].n == 2);
    CHECK(!strcmp(s.axes[0].values[1], "2e-4"));
    CHECK(gt_sweep_add_axis(&s, "lr_g=3") == GT_ERR_ARG && strstr(gt_last_error(), "given twice"));
    CHECK(gt_sweep_add_axis(&s, "n_critic") == GT_ERR_ARG);
    CHECK(gt_sweep_add_axis(&s, "=1,2") == GT_ERR_ARG);
    CHECK(gt_sweep_add_axis(&s, "n_critic=1,,2") == GT_ERR_ARG && strstr(gt_last_error(), "empty"));
    CHECK(gt_sweep_add_axis(&s, "n_critic=1,1") == GT_ERR_ARG);
    CHECK(gt_sweep_add_axes(&s, "n_critic=1,5;model.ngf=4,8") == GT_OK && s.n_axes == 3);
    CHECK(gt_sweep_set_seeds(&s, "0,1,2") == GT_OK && s.n_seeds == 3 && s.seeds[2] == 2);
    CHECK(gt_sweep_set_seeds(&s, "0,-1") == GT_ERR_ARG);
    CHECK(gt_sweep_set_seeds(&s, "") == GT_ERR_ARG);
    CHECK(gt_sweep_set_seeds(&s, "3,3") == GT_ERR_ARG);
    CHECK(gt_sweep_set_seeds(&s, "1.5") == GT_ERR_ARG);
    CHECK(gt_sweep_set_budgets(&s, "10,20") == GT_OK && s.n_budgets == 2);
    CHECK(gt_sweep_set_budgets(&s, "20,10") == GT_ERR_ARG && strstr(gt_last_error(), "increase"));
    CHECK(gt_sweep_set_budgets(&s, "0") == GT_ERR_ARG);
    CHECK(gt_sweep_add_config(&s, "configs/dcgan.json") == GT_OK && !strcmp(s.config_name[0], "dcgan"));
    CHECK(gt_sweep_add_config(&s, "other/dcgan.json") == GT_ERR_ARG);
}

static void test_plan(void) {
    gt_sweep_spec s;
    gt_sweep_spec_init(&s);
    CHECK(gt_sweep_add_config(&s, g_cfg) == GT_OK);
    char cfgs[900];
    snprintf(cfgs, sizeof cfgs, "%s/configs/lsgan.json", GT_SOURCE_DIR);
    CHECK(gt_sweep_add_config(&s, cfgs) == GT_OK);
    CHECK(gt_sweep_add_axes(&s, "lr_g+lr_d=1e-4,3e-4;model.ngf=4,8,16") == GT_OK);
    CHECK(gt_sweep_set_seeds(&s, "5,7") == GT_OK);
    CHECK(gt_sweep_set_budgets(&s, "3") == GT_OK);
    s.steps = 9;
    snprintf(s.out, sizeof s.out, "%s", gt_test_path("plan_out"));
    gt_sweep_plan p;
    CHECK(gt_sweep_plan_make(&s, &p) == GT_OK);
    CHECK(p.n_points == 6 && p.n_runs == 2 * 6 * 2);
    CHECK(s.n_budgets == 2 && s.budgets[0] == 3 && s.budgets[1] == 9);
    if (p.n_runs == 24) {
        /* config 0, point (1e-4, 8) = index 1, seed 7 */
        const gt_sweep_run_def *r = &p.runs[3];
        CHECK_MSG(!strcmp(r->name, "small_lr_g+lr_d-1e-4_model.ngf-8_s7"), "name %s", r->name);
        CHECK(r->cfg.lr_g == 1e-4 && r->cfg.lr_d == 1e-4 && gt_model_opt(&r->cfg.model, "ngf") == 8);
        CHECK(r->cfg.seed == 7 && r->cfg.steps == 9 && r->cfg.eval_every == 0 && r->cfg.batch == 8);
        CHECK(strstr(r->cfg.out, "plan_out/runs/small_lr_g+lr_d-1e-4_model.ngf-8_s7") != NULL);
        const gt_sweep_run_def *q = &p.runs[12 + 11]; /* lsgan, (3e-4, 16), seed 7 */
        CHECK(q->cfg.loss == GT_LOSS_LS && q->cfg.lr_d == 3e-4 && gt_model_opt(&q->cfg.model, "ngf") == 16);
        CHECK(q->cfg.model.nz == 100);
        /* the real side: the IDX file itself; Fashion-MNIST's test split for a Fashion-MNIST config */
        CHECK(!strcmp(p.eval_data[0], g_idx) && !strcmp(p.eval_data[1], "fashion-mnist:test"));
    }
    CHECK(gt_sweep_check_restart(&s, &p) == GT_OK);
    gt_sweep_plan_free(&p);
    CHECK(!exists(s.out)); /* planning writes nothing */

    /* a key the config does not have, a value of the wrong type, a key the sweep sets, a bad config */
    const char *bad[][2] = {{"lr=1e-4", "grid key 'lr' is not a key"},
                            {"model.width=4", "'model.width' is not a key"},
                            {"lr_g=fast", "is not a number"},
                            {"seed=1,2", "set by the sweep"},
                            {"lr_d+steps=1", "set by the sweep"},
                            {"n_critic=0", "n_critic"},
                            {"loss=nope", "nope"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gt_sweep_spec b;
        gt_sweep_spec_init(&b);
        gt_sweep_add_config(&b, g_cfg);
        gt_sweep_set_seeds(&b, "0");
        b.steps = 4;
        snprintf(b.out, sizeof b.out, "%s", gt_test_path("bad_out"));
        CHECK(gt_sweep_add_axes(&b, bad[i][0]) == GT_OK);
        gt_status st = gt_sweep_plan_make(&b, &p);
        CHECK_MSG(st == GT_ERR_ARG && strstr(gt_last_error(), bad[i][1]), "%s: %d %s", bad[i][0], st, gt_last_error());
        CHECK(p.runs == NULL);
        CHECK(!exists(b.out));
    }
    gt_sweep_spec b;
    gt_sweep_spec_init(&b);
    gt_sweep_add_config(&b, gt_test_path("missing.json"));
    gt_sweep_set_seeds(&b, "0");
    b.steps = 4;
    snprintf(b.out, sizeof b.out, "%s", gt_test_path("bad_out"));
    CHECK(gt_sweep_plan_make(&b, &p) == GT_ERR_IO);
    gt_sweep_set_budgets(&b, "8");
    CHECK(gt_sweep_plan_make(&b, &p) == GT_ERR_ARG && strstr(gt_last_error(), "past --steps"));
    /* 8 keys of 16 values: 16^8 points, refused (found by fuzz/fuzz_sweep.c: the count overflowed an int) */
    gt_sweep_spec_init(&b);
    gt_sweep_add_config(&b, g_cfg);
    gt_sweep_set_seeds(&b, "0");
    b.steps = 4;
    snprintf(b.out, sizeof b.out, "%s", gt_test_path("bad_out"));
    char grid[1024] = "";
    for (int a = 0; a < GT_SWEEP_MAX_AXES; a++)
        for (int v = 0; v < GT_SWEEP_MAX_VALUES; v++) {
            size_t k = strlen(grid);
            if (v) snprintf(grid + k, sizeof grid - k, ",%d", v);
            else snprintf(grid + k, sizeof grid - k, "%sk%d=0", a ? ";" : "", a);
        }
    CHECK_MSG(gt_sweep_add_axes(&b, grid) == GT_OK, "%s", gt_last_error());
    gt_status big = gt_sweep_plan_make(&b, &p);
    CHECK_MSG(big == GT_ERR_ARG && strstr(gt_last_error(), "4294967296 runs is too many"), "%d %s", big,
              gt_last_error());
    CHECK(p.runs == NULL && !exists(b.out));
}

/* The tables from known FIDs: 2 configs x 2 points x 2 seeds x 2 budgets. */
static void test_tables(void) {
    gt_sweep_spec s;
    gt_sweep_spec_init(&s);
    gt_sweep_add_config(&s, g_cfg);
    gt_sweep_add_config(&s, g_cfg2);
    gt_sweep_add_axis(&s, "lr_g=1e-4,2e-4");
    gt_sweep_set_seeds(&s, "0,1");
    gt_sweep_set_budgets(&s, "5");
    s.steps = 10;
    snprintf(s.out, sizeof s.out, "%s", gt_test_path("tables"));
    gt_sweep_plan p;
    CHECK(gt_sweep_plan_make(&s, &p) == GT_OK && p.n_runs == 8);
    CHECK(mkdir(s.out, 0777) == 0);
    /* fid[run][budget]; runs: (config, point, seed) with the seed fastest */
    double fid[16] = {10, 8, 14, 12, /* small, 1e-4: at 5: 10, 14; at 10: 8, 12 */
                      20, 4, 22, 6,  /* small, 2e-4: at 5: 20, 22; at 10: 4, 6 */
                      30, 30, NAN, 40, /* small_ls, 1e-4: at 5 one seed (NaN left out) */
                      31, 29, 33, 31}; /* small_ls, 2e-4 */
    double secs[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    CHECK(gt_sweep_write_tables(&s, &p, fid, secs) == GT_OK);
    char path[GT_PATH_MAX + 1200];
    snprintf(path, sizeof path, "%s/table.json", s.out);
    size_t n = 0;
    char *t = read_text(path, &n);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(j, "rows");
    CHECK(cJSON_GetArraySize(rows) == 4);
    struct {
        int row, b;
        double mean, std, n;
    } want[] = {{0, 0, 12, sqrt(8.0), 2}, {0, 1, 10, sqrt(8.0), 2}, {1, 0, 21, sqrt(2.0), 2},
                {1, 1, 5, sqrt(2.0), 2},  {2, 0, 30, NAN, 1},        {2, 1, 35, sqrt(50.0), 2},
                {3, 0, 32, sqrt(2.0), 2}, {3, 1, 30, sqrt(2.0), 2}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const cJSON *e = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, want[i].row), "fid"), want[i].b);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "mean"), *sd = cJSON_GetObjectItemCaseSensitive(e, "std");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "n");
        CHECK_MSG(cJSON_IsNumber(m) && fabs(m->valuedouble - want[i].mean) < 1e-12, "row %d budget %d mean",
                  want[i].row, want[i].b);
        if (isnan(want[i].std)) CHECK(cJSON_IsNull(sd));
        else CHECK_MSG(cJSON_IsNumber(sd) && fabs(sd->valuedouble - want[i].std) < 1e-12, "row %d std", want[i].row);
        CHECK(cJSON_IsNumber(c) && c->valuedouble == want[i].n);
    }
    /* best per config: small: 1e-4 at 5 (12 < 21), 2e-4 at 10 (5 < 10); small_ls: 1e-4 at 5, 2e-4 at 10 */
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(j, "best");
    const char *want_best[2][2] = {{"1e-4", "2e-4"}, {"1e-4", "2e-4"}};
    for (int c = 0; c < 2; c++)
        for (int b = 0; b < 2; b++) {
            const cJSON *bc = cJSON_GetArrayItem(best, c);
            const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(bc, "fid"), b);
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "grid"), "lr_g");
            CHECK_MSG(cJSON_IsString(g) && !strcmp(g->valuestring, want_best[c][b]), "best %d %d", c, b);
        }
    cJSON_Delete(j);
    const char *files[] = {"table.md", "table.csv", "results.json", "fid_vs_steps.png", "best_vs_budget.png"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", s.out, files[i]);
        CHECK_MSG(exists(path), "%s", path);
    }
    snprintf(path, sizeof path, "%s/table.md", s.out);
    t = read_text(path, &n);
    CHECK(t && strstr(t, "| small | 1e-4 | 12.00 ± 2.83 | 10.00 ± 2.83 |"));
    CHECK(t && strstr(t, "| small_ls | 1e-4 | 30.00 | 35.00 ± 7.07 |"));
    free(t);
    snprintf(path, sizeof path, "%s/table.csv", s.out);
    t = read_text(path, &n);
    const char *head = "config,lr_g,fid_mean_5,fid_std_5,n_5,fid_mean_10,fid_std_10,n_10\nsmall,1e-4,12,";
    CHECK(t && !strncmp(t, head, strlen(head)));
    free(t);
    gt_sweep_plan_free(&p);
}

typedef struct {
    int polls, stop_at;
} stopper;

static bool stop_after(void *u) {
    stopper *s = u;
    return ++s->polls >= s->stop_at;
}

static void make_spec(gt_sweep_spec *s, const char *out) {
    gt_sweep_spec_init(s);
    gt_sweep_add_config(s, g_cfg);
    gt_sweep_add_axis(s, "lr_g=1e-4,4e-4");
    gt_sweep_set_seeds(s, "0,3");
    gt_sweep_set_budgets(s, "4,8");
    s->steps = 12;
    s->eval_n = 40;
    snprintf(s->out, sizeof s->out, "%s", gt_test_path(out));
}

static bool same_table(const char *a, const char *b) {
    char pa[GT_PATH_MAX + 32], pb[GT_PATH_MAX + 32];
    snprintf(pa, sizeof pa, "%s/table.json", a);
    snprintf(pb, sizeof pb, "%s/table.json", b);
    size_t na = 0, nb = 0;
    unsigned char *x = gt_test_read_all(pa, &na), *y = gt_test_read_all(pb, &nb);
    bool same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

static void test_run_resume(void) {
    gt_sweep_spec a, b, k;
    gt_sweep_plan pa, pb, pk;
    make_spec(&a, "run_a");
    make_spec(&b, "run_b");
    make_spec(&k, "run_k");
    CHECK(gt_sweep_plan_make(&a, &pa) == GT_OK && gt_sweep_open(&a, &pa) == GT_OK);
    CHECK(gt_sweep_plan_make(&b, &pb) == GT_OK && gt_sweep_open(&b, &pb) == GT_OK);
    CHECK(gt_sweep_plan_make(&k, &pk) == GT_OK && gt_sweep_open(&k, &pk) == GT_OK);
    bool stopped = true;
    CHECK(gt_sweep_run(&a, &pa, NULL, &stopped) == GT_OK && !stopped);
    CHECK(gt_sweep_run(&b, &pb, NULL, &stopped) == GT_OK && !stopped);
    CHECK(same_table(a.out, b.out));
    /* stopped in the second run's third segment (12 + 10 steps polled), then run to the end twice over */
    stopper st = {0, 22};
    gt_sweep_hooks h = {NULL, NULL, NULL, stop_after, &st};
    CHECK(gt_sweep_run(&k, &pk, &h, &stopped) == GT_OK && stopped);
    char p[GT_PATH_MAX + 1200];
    snprintf(p, sizeof p, "%s/table.json", k.out);
    CHECK(!exists(p));
    snprintf(p, sizeof p, "%s/runs/%s/sweep_done.json", k.out, pk.runs[0].name);
    CHECK(exists(p));
    snprintf(p, sizeof p, "%s/runs/%s/sweep_done.json", k.out, pk.runs[1].name);
    CHECK(!exists(p));
    snprintf(p, sizeof p, "%s/runs/%s/last.safetensors", k.out, pk.runs[1].name);
    CHECK(exists(p));
    CHECK(gt_sweep_run(&k, &pk, NULL, &stopped) == GT_OK && !stopped);
    CHECK(same_table(a.out, k.out));
    /* a restart with another grid or other seeds */
    gt_sweep_spec o;
    gt_sweep_plan po;
    make_spec(&o, "run_a");
    gt_sweep_set_seeds(&o, "0,4");
    CHECK(gt_sweep_plan_make(&o, &po) == GT_OK);
    CHECK(gt_sweep_check_restart(&o, &po) == GT_ERR_ARG && strstr(gt_last_error(), "--seeds differs"));
    CHECK(gt_sweep_open(&o, &po) == GT_ERR_ARG);
    gt_sweep_plan_free(&po);
    gt_sweep_plan_free(&pa);
    gt_sweep_plan_free(&pb);
    gt_sweep_plan_free(&pk);
}

int main(void) {
    setup();
    RUN(test_parse);
    RUN(test_plan);
    RUN(test_tables);
    RUN(test_run_resume);
    return gt_test_finish();
}
