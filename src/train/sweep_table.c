/* gantry sweep's files: sweep.json (the recorded arguments, compared on a restart), results.json
 * (every run x budget), the table of mean and standard deviation over seeds per config x grid point
 * (Markdown, CSV, JSON), and the two plots. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gantry/io.h"
#include "gantry/plot.h"
#include "gantry/sweep.h"

static bool gt__sw_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* --- the recorded arguments ---------------------------------------------------------- */

char *gt_sweep_spec_json(const gt_sweep_spec *s, const gt_sweep_plan *p) {
    cJSON *j = cJSON_CreateObject(), *cf = cJSON_AddArrayToObject(j, "configs");
    for (int i = 0; i < s->n_configs; i++) {
        cJSON *o = cJSON_CreateObject();
        char h[24];
        snprintf(h, sizeof h, "%016llx", (unsigned long long)p->config_hash[i]);
        cJSON_AddStringToObject(o, "name", s->config_name[i]);
        cJSON_AddStringToObject(o, "config_hash", h);
        cJSON_AddStringToObject(o, "eval_data", p->eval_data[i]);
        cJSON_AddItemToArray(cf, o);
    }
    cJSON *g = cJSON_AddArrayToObject(j, "grid");
    for (int a = 0; a < s->n_axes; a++) {
        cJSON *o = cJSON_CreateObject(), *v = cJSON_AddArrayToObject(o, "values");
        cJSON_AddStringToObject(o, "key", s->axes[a].key);
        for (int k = 0; k < s->axes[a].n; k++) cJSON_AddItemToArray(v, cJSON_CreateString(s->axes[a].values[k]));
        cJSON_AddItemToArray(g, o);
    }
    cJSON *sd = cJSON_AddArrayToObject(j, "seeds");
    for (int i = 0; i < s->n_seeds; i++) {
        char t[32];
        snprintf(t, sizeof t, "%llu", (unsigned long long)s->seeds[i]);
        cJSON_AddItemToArray(sd, cJSON_CreateString(t));
    }
    gt_json_add_number(j, "steps", (double)s->steps);
    cJSON *b = cJSON_AddArrayToObject(j, "budgets");
    for (int i = 0; i < s->n_budgets; i++) cJSON_AddItemToArray(b, cJSON_CreateNumber((double)s->budgets[i]));
    gt_json_add_number(j, "eval_n", (double)s->eval_n);
    cJSON_AddStringToObject(j, "extractor", s->extractor);
    cJSON_AddStringToObject(j, "metrics", s->metrics);
    cJSON_AddStringToObject(j, "data", s->data);
    char *out = cJSON_Print(j);
    cJSON_Delete(j);
    return out;
}

static const char *gt__sw_flag(const char *key) {
    return !strcmp(key, "configs") ? "--config (or a config file's content)"
           : !strcmp(key, "grid") ? "--grid" : !strcmp(key, "seeds") ? "--seeds" : !strcmp(key, "steps") ? "--steps"
           : !strcmp(key, "budgets") ? "--budgets" : !strcmp(key, "eval_n") ? "--eval-n"
           : !strcmp(key, "extractor") ? "--extractor" : !strcmp(key, "metrics") ? "--metrics"
           : !strcmp(key, "data") ? "--data" : key;
}

gt_status gt_sweep_check_restart(const gt_sweep_spec *s, const gt_sweep_plan *p) {
    char path[GT_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/sweep.json", s->out);
    if (!gt__sw_exists(path)) {
        struct stat sb;
        if (stat(s->out, &sb) == 0 && !S_ISDIR(sb.st_mode))
            return gt_set_error(GT_ERR_ARG, "out: %s exists and is not a folder", s->out);
        return GT_OK;
    }
    void *buf = NULL;
    size_t n = 0;
    gt_status st = gt_read_file(path, &buf, &n, 1 << 22);
    if (st != GT_OK) return st;
    cJSON *old = cJSON_Parse(buf);
    free(buf);
    char *mine = gt_sweep_spec_json(s, p);
    cJSON *now = mine ? cJSON_Parse(mine) : NULL;
    free(mine);
    if (!old || !now) {
        cJSON_Delete(old);
        cJSON_Delete(now);
        return gt_set_error(GT_ERR_FORMAT, "%s is not a sweep record (JSON); remove the folder or choose another --out",
                            path);
    }
    st = GT_OK;
    for (cJSON *it = now->child; it && st == GT_OK; it = it->next) {
        cJSON *o = cJSON_GetObjectItemCaseSensitive(old, it->string);
        if (o && cJSON_Compare(o, it, true)) continue;
        char *a = o ? cJSON_PrintUnformatted(o) : NULL, *b = cJSON_PrintUnformatted(it);
        st = gt_set_error(GT_ERR_ARG,
                          "%s already holds a sweep with other arguments: %s differs (recorded %s: %s; given: %s). "
                          "Restart it with the same command, or choose another --out",
                          s->out, gt__sw_flag(it->string), it->string, a ? a : "(none)", b ? b : "?");
        free(a);
        free(b);
    }
    cJSON_Delete(old);
    cJSON_Delete(now);
    return st;
}

static gt_status gt__sw_mkdir(const char *p) {
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return gt_set_error(GT_ERR_IO, "cannot create %s: %s", p, strerror(errno));
    return GT_OK;
}

gt_status gt_sweep_open(const gt_sweep_spec *s, const gt_sweep_plan *p) {
    gt_status st = gt_sweep_check_restart(s, p);
    if (st != GT_OK) return st;
    char path[GT_PATH_MAX + 32];
    /* mkdir -p of the sweep folder */
    snprintf(path, sizeof path, "%s", s->out);
    for (char *c = path + 1; *c; c++) {
        if (*c != '/') continue;
        *c = 0;
        st = gt__sw_mkdir(path);
        *c = '/';
        if (st != GT_OK) return st;
    }
    if ((st = gt__sw_mkdir(s->out)) != GT_OK) return st;
    snprintf(path, sizeof path, "%s/runs", s->out);
    if ((st = gt__sw_mkdir(path)) != GT_OK) return st;
    snprintf(path, sizeof path, "%s/sweep.json", s->out);
    if (gt__sw_exists(path)) return GT_OK;
    char *j = gt_sweep_spec_json(s, p);
    if (!j) return gt_set_error(GT_ERR_OOM, "out of memory");
    size_t n = strlen(j);
    j[n] = '\n';
    st = gt_write_file_atomic(path, j, n + 1);
    free(j);
    return st;
}

typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
} gt__sb;

static void gt__sb_printf(gt__sb *b, const char *fmt, ...) {
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->oom = true;
        return;
    }
    if (b->n + (size_t)k + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + (size_t)k + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q, b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

static gt_status gt__sb_write(gt__sb *b, const char *dir, const char *name) {
    char path[GT_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gt_status st = b->oom ? gt_set_error(GT_ERR_OOM, "out of memory writing %s", path)
                          : gt_write_file_atomic(path, b->p ? b->p : "", b->n);
    free(b->p);
    memset(b, 0, sizeof *b);
    return st;
}

static gt_status gt__json_write(cJSON *j, const char *dir, const char *name) {
    char *t = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!t) return gt_set_error(GT_ERR_OOM, "out of memory writing %s", name);
    gt__sb b = {t, strlen(t), strlen(t) + 1, false};
    gt__sb_printf(&b, "\n");
    return gt__sb_write(&b, dir, name);
}

static gt_status gt__plot_to(const char *dir, const char *name, const gt_plot_axes *a, const gt_plot_series *s,
                                  int n) {
    char path[GT_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return gt_plot_png(path, 800, 560, a, s, n);
}

/* One row's statistics at each budget: mean and standard deviation (n - 1) of the finite FIDs over
 * the seeds; n of them. */
typedef struct {
    double mean[GT_SWEEP_MAX_BUDGETS], std[GT_SWEEP_MAX_BUDGETS];
    int n[GT_SWEEP_MAX_BUDGETS];
} gt__row;

static void gt__row_stats(const gt_sweep_spec *s, const gt_sweep_plan *p, const double *fid, int row, gt__row *o) {
    for (int b = 0; b < s->n_budgets; b++) {
        double sum = 0, sq = 0;
        int n = 0;
        for (int r = 0; r < s->n_seeds; r++) {
            double v = fid[((size_t)row * (size_t)s->n_seeds + (size_t)r) * (size_t)s->n_budgets + (size_t)b];
            if (isfinite(v)) sum += v, n++;
        }
        double m = n ? sum / n : NAN;
        for (int r = 0; r < s->n_seeds && n; r++) {
            double v = fid[((size_t)row * (size_t)s->n_seeds + (size_t)r) * (size_t)s->n_budgets + (size_t)b];
            if (isfinite(v)) sq += (v - m) * (v - m);
        }
        o->mean[b] = m;
        o->std[b] = n > 1 ? sqrt(sq / (n - 1)) : NAN;
        o->n[b] = n;
    }
    (void)p;
}

static cJSON *gt__grid_obj(const gt_sweep_spec *s, const gt_sweep_plan *p, int point) {
    cJSON *g = cJSON_CreateObject();
    for (int a = 0; a < s->n_axes; a++)
        cJSON_AddStringToObject(g, s->axes[a].key, s->axes[a].values[p->point_value[point][a]]);
    return g;
}

/* "lr_g=1e-4 n_critic=5" (or "" without a grid). */
static void gt__grid_label(const gt_sweep_spec *s, const gt_sweep_plan *p, int point, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (int a = 0; a < s->n_axes && k < n; a++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s=%s", a ? " " : "", s->axes[a].key,
                              s->axes[a].values[p->point_value[point][a]]);
}

static void gt__cell(char *buf, size_t n, double m, double sd) {
    if (!isfinite(m)) snprintf(buf, n, "-");
    else if (isfinite(sd)) snprintf(buf, n, "%.2f ± %.2f", m, sd);
    else snprintf(buf, n, "%.2f", m);
}

gt_status gt_sweep_write_tables(const gt_sweep_spec *s, const gt_sweep_plan *p, const double *fid,
                                const double *seconds) {
    const int nb = s->n_budgets, nrows = s->n_configs * p->n_points;
    gt__row *rows = calloc((size_t)nrows, sizeof *rows);
    if (!rows) return gt_set_error(GT_ERR_OOM, "out of memory");
    for (int r = 0; r < nrows; r++) gt__row_stats(s, p, fid, r, &rows[r]);
    double total = 0;
    for (int i = 0; i < p->n_runs; i++) total += seconds[i];

    /* results.json: every run x budget, with times */
    cJSON *res = cJSON_CreateObject(), *ra = cJSON_AddArrayToObject(res, "runs");
    for (int i = 0; i < p->n_runs; i++) {
        const gt_sweep_run_def *d = &p->runs[i];
        cJSON *o = cJSON_CreateObject(), *f = NULL;
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seeds[d->seed_index]);
        cJSON_AddStringToObject(o, "name", d->name);
        cJSON_AddStringToObject(o, "config", s->config_name[d->config]);
        cJSON_AddItemToObject(o, "grid", gt__grid_obj(s, p, d->point));
        cJSON_AddStringToObject(o, "seed", seed);
        gt_json_add_number(o, "time_s", seconds[i]);
        f = cJSON_AddArrayToObject(o, "fid");
        for (int b = 0; b < nb; b++) {
            cJSON *e = cJSON_CreateObject();
            gt_json_add_number(e, "step", (double)s->budgets[b]);
            gt_json_add_number(e, "fid", fid[(size_t)i * (size_t)nb + (size_t)b]);
            cJSON_AddItemToArray(f, e);
        }
        cJSON_AddItemToArray(ra, o);
    }
    gt_json_add_number(res, "time_s", total);
    gt_status st = gt__json_write(res, s->out, "results.json");

    /* table.json: no times (an interrupted and resumed sweep writes the same bytes) */
    cJSON *tj = cJSON_CreateObject();
    cJSON_AddStringToObject(tj, "metric", "fid");
    cJSON_AddStringToObject(tj, "extractor", s->extractor);
    gt_json_add_number(tj, "eval_n", (double)s->eval_n);
    cJSON *sa = cJSON_AddArrayToObject(tj, "seeds"), *ba = cJSON_AddArrayToObject(tj, "budgets");
    for (int i = 0; i < s->n_seeds; i++) {
        char t[32];
        snprintf(t, sizeof t, "%llu", (unsigned long long)s->seeds[i]);
        cJSON_AddItemToArray(sa, cJSON_CreateString(t));
    }
    for (int b = 0; b < nb; b++) cJSON_AddItemToArray(ba, cJSON_CreateNumber((double)s->budgets[b]));
    cJSON *rj = cJSON_AddArrayToObject(tj, "rows");
    for (int r = 0; r < nrows; r++) {
        cJSON *o = cJSON_CreateObject(), *f;
        cJSON_AddStringToObject(o, "config", s->config_name[r / p->n_points]);
        cJSON_AddItemToObject(o, "grid", gt__grid_obj(s, p, r % p->n_points));
        f = cJSON_AddArrayToObject(o, "fid");
        for (int b = 0; b < nb; b++) {
            cJSON *e = cJSON_CreateObject();
            gt_json_add_number(e, "step", (double)s->budgets[b]);
            gt_json_add_number(e, "mean", rows[r].mean[b]);
            gt_json_add_number(e, "std", rows[r].std[b]);
            gt_json_add_number(e, "n", rows[r].n[b]);
            cJSON_AddItemToArray(f, e);
        }
        cJSON_AddItemToArray(rj, o);
    }
    /* the best grid point of each config at each budget (the lowest mean FID) */
    int(*best)[GT_SWEEP_MAX_BUDGETS] = calloc((size_t)s->n_configs, sizeof *best);
    if (!best) {
        free(rows);
        cJSON_Delete(tj);
        return gt_set_error(GT_ERR_OOM, "out of memory");
    }
    cJSON *bj = cJSON_AddArrayToObject(tj, "best");
    for (int c = 0; c < s->n_configs; c++) {
        cJSON *o = cJSON_CreateObject(), *f;
        cJSON_AddStringToObject(o, "config", s->config_name[c]);
        f = cJSON_AddArrayToObject(o, "fid");
        for (int b = 0; b < nb; b++) {
            int bi = -1;
            for (int q = 0; q < p->n_points; q++) {
                double m = rows[c * p->n_points + q].mean[b];
                if (isfinite(m) && (bi < 0 || m < rows[c * p->n_points + bi].mean[b])) bi = q;
            }
            best[c][b] = bi;
            cJSON *e = cJSON_CreateObject();
            gt_json_add_number(e, "step", (double)s->budgets[b]);
            gt_json_add_number(e, "mean", bi >= 0 ? rows[c * p->n_points + bi].mean[b] : NAN);
            cJSON_AddItemToObject(e, "grid", bi >= 0 ? gt__grid_obj(s, p, bi) : cJSON_CreateNull());
            cJSON_AddItemToArray(f, e);
        }
        cJSON_AddItemToArray(bj, o);
    }
    if (st == GT_OK) st = gt__json_write(tj, s->out, "table.json");
    else cJSON_Delete(tj);

    /* table.csv: one row per config x grid point, mean, std and n at each budget */
    gt__sb csv = {0};
    gt__sb_printf(&csv, "config");
    for (int a = 0; a < s->n_axes; a++) gt__sb_printf(&csv, ",%s", s->axes[a].key);
    for (int b = 0; b < nb; b++) {
        long long v = (long long)s->budgets[b];
        gt__sb_printf(&csv, ",fid_mean_%lld,fid_std_%lld,n_%lld", v, v, v);
    }
    gt__sb_printf(&csv, "\n");
    for (int r = 0; r < nrows; r++) {
        gt__sb_printf(&csv, "%s", s->config_name[r / p->n_points]);
        for (int a = 0; a < s->n_axes; a++)
            gt__sb_printf(&csv, ",%s", s->axes[a].values[p->point_value[r % p->n_points][a]]);
        for (int b = 0; b < nb; b++) {
            char m[40], d[40];
            gt_fmt_double(rows[r].mean[b], m, sizeof m);
            gt_fmt_double(rows[r].std[b], d, sizeof d);
            gt__sb_printf(&csv, ",%s,%s,%d", isfinite(rows[r].mean[b]) ? m : "", isfinite(rows[r].std[b]) ? d : "",
                          rows[r].n[b]);
        }
        gt__sb_printf(&csv, "\n");
    }
    if (st == GT_OK) st = gt__sb_write(&csv, s->out, "table.csv");
    else free(csv.p);

    /* table.md */
    gt__sb md = {0};
    gt__sb_printf(&md,
                  "FID (%s features, %lld generated images against %s; mean ± standard deviation over %d seed%s)\n\n",
                  s->extractor, (long long)s->eval_n, p->eval_data[0], s->n_seeds, s->n_seeds == 1 ? "" : "s");
    gt__sb_printf(&md, "| config |");
    for (int a = 0; a < s->n_axes; a++) gt__sb_printf(&md, " %s |", s->axes[a].key);
    for (int b = 0; b < nb; b++) gt__sb_printf(&md, " FID @ %lld |", (long long)s->budgets[b]);
    gt__sb_printf(&md, "\n|---|");
    for (int a = 0; a < s->n_axes; a++) gt__sb_printf(&md, "---|");
    for (int b = 0; b < nb; b++) gt__sb_printf(&md, "---:|");
    gt__sb_printf(&md, "\n");
    for (int r = 0; r < nrows; r++) {
        gt__sb_printf(&md, "| %s |", s->config_name[r / p->n_points]);
        for (int a = 0; a < s->n_axes; a++)
            gt__sb_printf(&md, " %s |", s->axes[a].values[p->point_value[r % p->n_points][a]]);
        for (int b = 0; b < nb; b++) {
            char cell[64];
            gt__cell(cell, sizeof cell, rows[r].mean[b], rows[r].std[b]);
            gt__sb_printf(&md, " %s |", cell);
        }
        gt__sb_printf(&md, "\n");
    }
    gt__sb_printf(&md, "\nBest mean FID per config at each budget (its grid point)\n\n| config |");
    for (int b = 0; b < nb; b++) gt__sb_printf(&md, " %lld steps |", (long long)s->budgets[b]);
    gt__sb_printf(&md, "\n|---|");
    for (int b = 0; b < nb; b++) gt__sb_printf(&md, "---|");
    gt__sb_printf(&md, "\n");
    for (int c = 0; c < s->n_configs; c++) {
        gt__sb_printf(&md, "| %s |", s->config_name[c]);
        for (int b = 0; b < nb; b++) {
            char lab[512] = "";
            if (best[c][b] >= 0) gt__grid_label(s, p, best[c][b], lab, sizeof lab);
            if (best[c][b] < 0) gt__sb_printf(&md, " - |");
            else gt__sb_printf(&md, " %.2f%s%s%s |", rows[c * p->n_points + best[c][b]].mean[b], lab[0] ? " (" : "",
                               lab, lab[0] ? ")" : "");
        }
        gt__sb_printf(&md, "\n");
    }
    gt__sb_printf(&md,
                  "\n%d runs (%d config%s x %d grid point%s x %d seed%s), %lld steps each; training and evaluation "
                  "took %.0f s (%.1f min) in all.\n",
                  p->n_runs, s->n_configs, s->n_configs == 1 ? "" : "s", p->n_points, p->n_points == 1 ? "" : "s",
                  s->n_seeds, s->n_seeds == 1 ? "" : "s", (long long)s->steps, total, total / 60);
    if (st == GT_OK) st = gt__sb_write(&md, s->out, "table.md");
    else free(md.p);

    /* the plots */
    gt_plot_series *ser = calloc((size_t)(nrows + s->n_configs), sizeof *ser);
    char(*names)[160] = calloc((size_t)(nrows + s->n_configs), sizeof *names);
    double *xs = calloc((size_t)nb, sizeof *xs), *bys = calloc((size_t)(s->n_configs * nb), sizeof *bys);
    if (!ser || !names || !xs || !bys) st = st == GT_OK ? gt_set_error(GT_ERR_OOM, "out of memory") : st;
    if (st == GT_OK) {
        for (int b = 0; b < nb; b++) xs[b] = (double)s->budgets[b];
        for (int r = 0; r < nrows; r++) {
            char lab[140];
            gt__grid_label(s, p, r % p->n_points, lab, sizeof lab);
            snprintf(names[r], sizeof names[r], "%s%s%s", s->config_name[r / p->n_points], lab[0] ? " " : "", lab);
            ser[r] = (gt_plot_series){.x = xs, .y = rows[r].mean, .n = nb, .name = names[r], .line = true};
        }
        gt_plot_axes ax = {.title = "mean FID over seeds against steps", .xlabel = "generator steps", .ylabel = "FID"};
        st = gt__plot_to(s->out, "fid_vs_steps.png", &ax, ser, nrows);
        for (int c = 0; c < s->n_configs; c++) {
            for (int b = 0; b < nb; b++)
                bys[c * nb + b] = best[c][b] >= 0 ? rows[c * p->n_points + best[c][b]].mean[b] : NAN;
            snprintf(names[nrows + c], sizeof names[0], "%s", s->config_name[c]);
            ser[nrows + c] =
                (gt_plot_series){.x = xs, .y = bys + c * nb, .n = nb, .name = names[nrows + c], .line = true};
        }
        gt_plot_axes bx = {.title = "best mean FID per config against the budget", .xlabel = "budget (generator steps)",
                           .ylabel = "best mean FID"};
        if (st == GT_OK) st = gt__plot_to(s->out, "best_vs_budget.png", &bx, ser + nrows, s->n_configs);
    }
    free(ser);
    free(names);
    free(xs);
    free(bys);
    free(best);
    free(rows);
    return st;
}
