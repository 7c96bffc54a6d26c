/* gantry anycost-report: for an anycost checkpoint, every uniform sub-generator (channel ratio 1,
 * 0.75, 0.5, 0.25 at each resolution 8..R) against the full generator on the same N latents: its
 * consistency (the sub's images upsampled bilinearly to R: PSNR, SSIM, and for gray models the
 * mean L2 distance between the Fashion-MNIST classifier's features of the two images), its cost
 * (MACs, parameters) and its measured latency per image at batch 1 (the median of K timed calls
 * after a warm-up, the configs taken in turn so a busy machine slows them alike), with the
 * speed-up over the full generator. A markdown table on stdout, and DIR/report.md,
 * DIR/report.json and DIR/report.png (consistency vs MACs and vs latency). */
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
#include "gantry/plot.h"
#include "gantry/sampling.h"

#define GT__AR_MAX_ROWS (GT_AC_NRATIOS * 8)

typedef struct {
    gt_anycost_sub sub;
    char text[32]; /* "0.25@16" */
    int res;
    float ratio;
    int64_t macs, params;
    double psnr, ssim, fdist; /* means over the N images; fdist NAN when not computed */
    double lat_ms, lat_min_ms, speedup; /* median and fastest call */
} gt__ar_row;

typedef struct {
    const char *ckpt;
    gt_train_config cfg;
    bool used_ema;
    int n, reps, threads;
    uint64_t seed;
    const char *fnote; /* why the feature distance is missing, or NULL */
    char load[2][64];  /* /proc/loadavg before and after the timing ("" when unknown) */
    gt__ar_row rows[GT__AR_MAX_ROWS];
    int nrows;
} gt__ar;

static int gt__cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The sub's images for z, brought to R x R (bilinear, align_corners false) when smaller; no graph,
 * the fixed noise. A new tensor (n, C, R, R) in the current scope. */
static gt_tensor *gt__ar_images(gt_net *G, gt_tensor *z, const gt_anycost_sub *sub) {
    const int64_t n = z->shape[0], R = G->cfg.res, per = (int64_t)G->cfg.channels * R * R;
    gt_tensor *out = gt_empty(GT_SHAPE(n, G->cfg.channels, R, R));
    if (!out) return NULL;
    bool prev = gt_no_grad_begin(), ok = true;
    for (int64_t s = 0; s < n && ok; s += 64) {
        int m = gt_scope_begin();
        gt_tensor *x = gt_anycost_generate(G, gt_contiguous(gt_slice(z, 0, s, s + 64 < n ? s + 64 : n, 1)), sub, NULL);
        if (x && x->shape[2] != R) x = gt_upsample_bilinear2d(x, (int)R, (int)R);
        ok = x && gt_copy_to(x, gt_data(out) + s * per) == GT_OK;
        gt_scope_end(m);
    }
    gt_grad_mode_restore(prev);
    return ok ? out : NULL;
}

/* [-1, 1] floats -> uint8 as the sample grids convert them. */
static void gt__ar_u8(const float *x, int64_t n, uint8_t *out) {
    for (int64_t i = 0; i < n; i++) {
        float v = (x[i] + 1.0f) * 0.5f;
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        out[i] = (uint8_t)floorf(v * 255.0f + 0.5f);
    }
}

static gt_status gt__ar_features(gt_extractor *ex, const gt_tensor *x, float *feats) {
    const int64_t n = x->shape[0], per = x->shape[1] * x->shape[2] * x->shape[3];
    uint8_t *u = malloc((size_t)(n * per));
    if (!u) return gt_set_error(GT_ERR_OOM, "out of memory for %lld images", (long long)n);
    gt__ar_u8(gt_data((gt_tensor *)x), n * per, u);
    gt_status st = GT_OK;
    const int64_t b = ex->batch > 0 ? ex->batch : 50;
    for (int64_t s = 0; s < n && st == GT_OK; s += b) {
        gt_image_batch ib = {u + s * per, n - s < b ? n - s : b, (int)x->shape[1], (int)x->shape[2], (int)x->shape[3]};
        st = ex->extract(ex->ctx, &ib, feats + s * ex->dim, NULL);
    }
    free(u);
    return st;
}

/* Consistency of every row against the full images. */
static gt_status gt__ar_consistency(gt__ar *A, gt_net *G, gt_tensor *z) {
    const int n = A->n, C = A->cfg.model.channels, R = A->cfg.model.res;
    gt_tensor *full = gt__ar_images(G, z, NULL);
    if (!full) return GT_ERR_STATE;
    gt_extractor ex = {0};
    float *ff = NULL, *fs = NULL;
    bool feats = false;
    if (C != 1) {
        A->fnote = "the Fashion-MNIST features need a 1-channel model";
    } else if (gt_fmnist_extractor_open(NULL, &ex) != GT_OK) {
        A->fnote = "the Fashion-MNIST classifier's weights were not found";
        fprintf(stderr, "gantry anycost-report: no feature distance: %s\n", gt_last_error());
    } else {
        ff = malloc((size_t)n * ex.dim * sizeof *ff);
        fs = malloc((size_t)n * ex.dim * sizeof *fs);
        feats = ff && fs && gt__ar_features(&ex, full, ff) == GT_OK;
        if (!feats) A->fnote = "the feature extraction failed";
    }
    double *v = malloc(2 * (size_t)n * sizeof *v);
    gt_status st = v ? GT_OK : gt_set_error(GT_ERR_OOM, "out of memory");
    for (int r = 0; r < A->nrows && st == GT_OK; r++) {
        gt__ar_row *row = &A->rows[r];
        int m = gt_scope_begin();
        gt_tensor *x = gt__ar_images(G, z, &row->sub);
        if (!x) {
            gt_scope_end(m);
            st = GT_ERR_STATE;
            break;
        }
        st = gt_metric_psnr(gt_data(x), gt_data(full), n, C, R, R, v);
        if (st == GT_OK) st = gt_metric_ssim(gt_data(x), gt_data(full), n, C, R, R, v + n);
        double sp = 0, ss = 0;
        for (int i = 0; i < n; i++) sp += v[i], ss += v[n + i];
        row->psnr = sp / n, row->ssim = ss / n, row->fdist = NAN;
        if (st == GT_OK && feats && gt__ar_features(&ex, x, fs) == GT_OK) {
            double d = 0;
            for (int i = 0; i < n; i++) {
                double q = 0;
                for (int64_t k = 0; k < ex.dim; k++) {
                    double e = (double)fs[i * ex.dim + k] - ff[i * ex.dim + k];
                    q += e * e;
                }
                d += sqrt(q);
            }
            row->fdist = d / n;
        }
        gt_scope_end(m);
    }
    free(v);
    free(ff);
    free(fs);
    gt_extractor_free(&ex);
    return st;
}

/* Latency per image at batch 1: a warm-up of 3 calls per config, then reps rounds, each timing
 * one call of every config in turn (mapping + synthesis, the scope's tensors freed: what a
 * caller pays per image). Median per config. */
/* The first three fields of /proc/loadavg into buf ("" when unreadable). */
static void gt__ar_loadavg(char *buf, size_t n) {
    buf[0] = '\0';
    FILE *f = fopen("/proc/loadavg", "r");
    double a = 0, b = 0, c = 0;
    if (f && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3) snprintf(buf, n, "%.2f %.2f %.2f", a, b, c);
    if (f) fclose(f);
}

static gt_status gt__ar_latency(gt__ar *A, gt_net *G, gt_tensor *z) {
    const int K = A->reps, nr = A->nrows;
    gt__ar_loadavg(A->load[0], sizeof A->load[0]);
    double *t = malloc((size_t)K * nr * sizeof *t);
    if (!t) return gt_set_error(GT_ERR_OOM, "out of memory");
    bool prev = gt_no_grad_begin(), ok = true;
    for (int rep = -3; rep < K && ok; rep++)
        for (int r = 0; r < nr && ok; r++) {
            const int64_t i = ((rep + 3) * nr + r) % A->n;
            int m = gt_scope_begin();
            gt_tensor *zi = gt_contiguous(gt_slice(z, 0, i, i + 1, 1));
            const double t0 = gt_cli_now_ms();
            gt_tensor *x = gt_anycost_generate(G, zi, &A->rows[r].sub, NULL);
            ok = x != NULL;
            gt_scope_end(m);
            if (rep >= 0) t[(size_t)r * K + rep] = gt_cli_now_ms() - t0;
        }
    gt_grad_mode_restore(prev);
    for (int r = 0; r < nr && ok; r++) {
        qsort(t + (size_t)r * K, (size_t)K, sizeof *t, gt__cmp_double);
        const double *q = t + (size_t)r * K;
        A->rows[r].lat_ms = K % 2 ? q[K / 2] : 0.5 * (q[K / 2 - 1] + q[K / 2]);
        A->rows[r].lat_min_ms = q[0];
    }
    for (int r = 0; r < nr && ok; r++) A->rows[r].speedup = A->rows[0].lat_ms / A->rows[r].lat_ms;
    gt__ar_loadavg(A->load[1], sizeof A->load[1]);
    free(t);
    return ok ? GT_OK : GT_ERR_STATE;
}

/* --- output -------------------------------------------------------------------------------- */
/* The table (markdown) into a malloc'd string. */
static char *gt__ar_table(const gt__ar *A) {
    size_t cap = 4096 + (size_t)A->nrows * 256, k = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    k += (size_t)snprintf(s + k, cap - k,
                          "| config | res | ratio | MACs | params | latency (ms) | fastest (ms) | speed-up | "
                          "PSNR (dB) | SSIM | fmnist feature dist |\n"
                          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < A->nrows; r++) {
        const gt__ar_row *w = &A->rows[r];
        char mac[32], par[32], ps[32], fd[32];
        gt_cli_si((double)w->macs, mac, sizeof mac);
        gt_cli_si((double)w->params, par, sizeof par);
        if (isinf(w->psnr)) snprintf(ps, sizeof ps, "inf");
        else snprintf(ps, sizeof ps, "%.2f", w->psnr);
        if (isnan(w->fdist)) snprintf(fd, sizeof fd, "-");
        else snprintf(fd, sizeof fd, "%.4f", w->fdist);
        k += (size_t)snprintf(s + k, cap - k, "| %s | %d | %g | %s | %s | %.3f | %.3f | %.2fx | %s | %.4f | %s |\n",
                              w->text, w->res, (double)w->ratio, mac, par, w->lat_ms, w->lat_min_ms, w->speedup, ps,
                              w->ssim, fd);
    }
    return s;
}

/* The cheap preview the issue measures: 0.25 channels at half the resolution. */
static const gt__ar_row *gt__ar_half(const gt__ar *A) {
    for (int r = 0; r < A->nrows; r++)
        if (A->rows[r].ratio == 0.25f && A->rows[r].res == A->cfg.model.res / 2) return &A->rows[r];
    return NULL;
}

static gt_status gt__ar_write_md(const gt__ar *A, const char *path, const char *table) {
    size_t cap = strlen(table) + 4096, k = 0;
    char *s = malloc(cap);
    if (!s) return gt_set_error(GT_ERR_OOM, "out of memory");
    const gt_model_config *c = &A->cfg.model;
    k += (size_t)snprintf(s + k, cap - k,
                          "# anycost report\n\ncheckpoint `%s` (%s generator, %dx%d, %d channel%s); %d latents of seed "
                          "%llu; latency: batch 1, median (and fastest) of %d calls after a warm-up, %d thread%s, "
                          "load average %s before and %s after; speed-up: of the medians.\n\n",
                          A->ckpt, A->used_ema ? "EMA" : "raw", c->res, c->res, c->channels,
                          c->channels == 1 ? "" : "s", A->n, (unsigned long long)A->seed, A->reps, A->threads,
                          A->threads == 1 ? "" : "s",
                          A->load[0][0] ? A->load[0] : "?", A->load[1][0] ? A->load[1] : "?");
    k += (size_t)snprintf(s + k, cap - k, "%s\n", table);
    const gt__ar_row *h = gt__ar_half(A);
    if (h)
        k += (size_t)snprintf(s + k, cap - k, "%s vs %s: %.2fx faster per image, %.1fx fewer MACs.\n", h->text,
                              A->rows[0].text, h->speedup, (double)A->rows[0].macs / (double)h->macs);
    k += (size_t)snprintf(s + k, cap - k,
                          "\nConsistency: each sub-generator's images upsampled (bilinear) to %dx%d and compared with "
                          "the full generator's for the same latents and noise: PSNR and SSIM on [0, 1] images "
                          "(mean over the latents)%s%s.\n",
                          c->res, c->res, A->fnote ? "; no feature distance: " : ", and the mean L2 distance of "
                          "the Fashion-MNIST classifier's 128 features", A->fnote ? A->fnote : "");
    gt_status st = gt_write_file_atomic(path, s, k);
    free(s);
    return st;
}

static gt_status gt__ar_write_json(const gt__ar *A, const char *path) {
    cJSON *o = cJSON_CreateObject(), *rows = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "checkpoint", A->ckpt);
    cJSON_AddStringToObject(o, "generator", A->used_ema ? "ema" : "raw");
    gt_json_add_number(o, "res", A->cfg.model.res);
    gt_json_add_number(o, "channels", A->cfg.model.channels);
    gt_json_add_number(o, "n", A->n);
    gt_json_add_number(o, "seed", (double)A->seed);
    gt_json_add_number(o, "reps", A->reps);
    gt_json_add_number(o, "threads", A->threads);
    if (A->load[0][0]) cJSON_AddStringToObject(o, "loadavg_before", A->load[0]);
    if (A->load[1][0]) cJSON_AddStringToObject(o, "loadavg_after", A->load[1]);
    for (int r = 0; r < A->nrows; r++) {
        const gt__ar_row *w = &A->rows[r];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "config", w->text);
        gt_json_add_number(j, "res", w->res);
        gt_json_add_number(j, "ratio", w->ratio);
        gt_json_add_number(j, "macs", (double)w->macs);
        gt_json_add_number(j, "params", (double)w->params);
        gt_json_add_number(j, "latency_ms", w->lat_ms);
        gt_json_add_number(j, "latency_min_ms", w->lat_min_ms);
        gt_json_add_number(j, "speedup", w->speedup);
        gt_json_add_number(j, "psnr", w->psnr); /* null when infinite */
        cJSON_AddBoolToObject(j, "identical", isinf(w->psnr));
        gt_json_add_number(j, "ssim", w->ssim);
        gt_json_add_number(j, "fmnist_feature_distance", w->fdist); /* null when not computed */
        cJSON_AddItemToArray(rows, j);
    }
    cJSON_AddItemToObject(o, "rows", rows);
    if (A->fnote) cJSON_AddStringToObject(o, "fmnist_feature_distance_missing", A->fnote);
    char *txt = cJSON_Print(o);
    cJSON_Delete(o);
    if (!txt) return gt_set_error(GT_ERR_OOM, "out of memory");
    gt_status st = gt_write_file_atomic(path, txt, strlen(txt));
    free(txt);
    return st;
}

/* Two panels: PSNR vs MACs (log) and PSNR vs latency (log); one series per resolution, joined
 * from the cheapest ratio up. The full config's infinite PSNR is drawn on a line above the rest. */
static gt_status gt__ar_write_png(const gt__ar *A, const char *path) {
    double top = -INFINITY;
    for (int r = 0; r < A->nrows; r++)
        if (isfinite(A->rows[r].psnr)) top = fmax(top, A->rows[r].psnr);
    top = isfinite(top) ? ceil(top + 3) : 40;
    enum { MAXS = 8 };
    double mx[MAXS][GT_AC_NRATIOS], lx[MAXS][GT_AC_NRATIOS], py[MAXS][GT_AC_NRATIOS];
    const char *lab[MAXS][GT_AC_NRATIOS];
    char labs[MAXS][GT_AC_NRATIOS][48], names[MAXS][24];
    gt_plot_series sm[MAXS], sl[MAXS];
    int ns = 0;
    for (int res = A->cfg.model.res; res >= 8 && ns < MAXS; res /= 2, ns++) {
        int k = 0;
        for (int j = 0; j < GT_AC_NRATIOS; j++) /* ratios ascending */
            for (int r = 0; r < A->nrows; r++) {
                const gt__ar_row *w = &A->rows[r];
                if (w->res != res || w->ratio != gt_anycost_ratios[j]) continue;
                mx[ns][k] = (double)w->macs, lx[ns][k] = w->lat_ms;
                py[ns][k] = isinf(w->psnr) ? top : w->psnr;
                snprintf(labs[ns][k], sizeof labs[ns][k], "%s%s", w->text, isinf(w->psnr) ? " (full: inf)" : "");
                lab[ns][k] = labs[ns][k];
                k++;
            }
        snprintf(names[ns], sizeof names[ns], "res %d", res);
        sm[ns] = (gt_plot_series){.x = mx[ns], .y = py[ns], .n = k, .labels = lab[ns], .name = names[ns], .line = true};
        sl[ns] = sm[ns];
        sl[ns].x = lx[ns];
    }
    char t2[96];
    snprintf(t2, sizeof t2, "PSNR vs latency (batch 1, %d thread%s)", A->threads, A->threads == 1 ? "" : "s");
    gt_plot_axes am = {.title = "anycost: PSNR vs MACs", .xlabel = "MACs per image (log)",
                       .ylabel = "PSNR vs the full output (dB)", .xlog = true};
    gt_plot_axes al = {.title = t2, .xlabel = "ms per image (log)", .ylabel = "PSNR vs the full output (dB)",
                       .xlog = true};
    gt_image img;
    gt_status st = gt_plot_canvas(1200, 500, &img);
    if (st == GT_OK) st = gt_plot_draw(&img, 0, 0, 600, 500, &am, sm, ns);
    if (st == GT_OK) st = gt_plot_draw(&img, 600, 0, 600, 500, &al, sl, ns);
    if (st == GT_OK) st = gt_png_write(path, img.data, img.w, img.h, 3);
    gt_image_free(&img);
    return st;
}

/* DIR (made when missing) + "/" + name into buf. */
static gt_status gt__ar_path(const char *dir, const char *name, char *buf, size_t n) {
    if ((size_t)snprintf(buf, n, "%s/%s", dir, name) >= n) return gt_set_error(GT_ERR_ARG, "path too long: %s", dir);
    return GT_OK;
}

int gt_cmd_anycost_report(int argc, char **argv) {
    const char *ckpt = NULL, *outdir = NULL;
    gt__ar *A = calloc(1, sizeof *A);
    if (!A) return gt_cli_fail("anycost-report", "out of memory");
    int n = 64, reps = 21, threads = 0;
    uint64_t seed = 0;
    bool ema = true;
    gt_arg spec[] = {
        {"--ckpt", GT_ARG_STR, &ckpt, 0, 0, false, "FILE", "an anycost checkpoint (runs/NAME/last.safetensors)", false},
        {"--n", GT_ARG_INT, &n, 1, 4096, false, "N", "latents the consistency is averaged over (64)", false},
        {"--seed", GT_ARG_U64, &seed, 0, 0, false, "S", "latent seed (0)", false},
        {"--out", GT_ARG_STR, &outdir, 0, 0, false, "DIR",
         "folder for report.md, report.json, report.png (default: anycost-report beside the checkpoint)", false},
        {"--reps", GT_ARG_INT, &reps, 1, 100000, false, "K", "timed calls per config, batch 1 (21); the median counts",
         false},
        {"--ema", GT_ARG_TRUE, &ema, 0, 0, false, NULL, "use the EMA generator when the checkpoint has one (default)",
         false},
        {"--no-ema", GT_ARG_FALSE, &ema, 0, 0, false, NULL, "use the raw generator", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    int rc = gt_args_parse("anycost-report", spec, ns, argc, argv, 2, "--ckpt FILE [--n N] [--out DIR] [flags]");
    if (rc) {
        free(A);
        return rc == GT_ARGS_HELP ? GT_EXIT_OK : GT_EXIT_USAGE;
    }
    if (!ckpt) {
        free(A);
        return gt_args_error("anycost-report", "--ckpt FILE is required");
    }
    char dir[4096], pmd[4200], pjs[4200], ppng[4200];
    if (outdir) snprintf(dir, sizeof dir, "%s", outdir);
    else {
        const char *sl = strrchr(ckpt, '/');
        snprintf(dir, sizeof dir, "%.*s%sanycost-report", sl ? (int)(sl - ckpt) : 0, ckpt, sl ? "/" : "");
    }
    if (threads > 0) gt_set_num_threads(threads);
    A->ckpt = ckpt, A->n = n, A->reps = reps, A->seed = seed, A->threads = gt_get_num_threads();

    gt_net G;
    if (gt_cli_load_anycost("anycost-report", ckpt, ema, &G, &A->cfg, &A->used_ema) != GT_EXIT_OK) {
        free(A);
        return GT_EXIT_FAIL;
    }
    int status = GT_EXIT_OK;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gantry anycost-report: cannot create folder %s: %s\n", dir, strerror(errno));
        status = GT_EXIT_FAIL;
        goto done;
    }
    if (gt__ar_path(dir, "report.md", pmd, sizeof pmd) || gt__ar_path(dir, "report.json", pjs, sizeof pjs) ||
        gt__ar_path(dir, "report.png", ppng, sizeof ppng) || gt_check_writable(pmd) != GT_OK) {
        status = gt_cli_fail("anycost-report", "--out");
        goto done;
    }
    /* the configs: the full one first, then by resolution and ratio, descending */
    for (int res = A->cfg.model.res; res >= 8; res /= 2)
        for (int j = GT_AC_NRATIOS - 1; j >= 0 && A->nrows < GT__AR_MAX_ROWS; j--) {
            gt__ar_row *w = &A->rows[A->nrows++];
            w->ratio = gt_anycost_ratios[j], w->res = res;
            w->sub = gt_anycost_uniform(w->ratio, res);
            gt_anycost_sub_text(&A->cfg.model, &w->sub, w->text, sizeof w->text);
            w->macs = gt_anycost_macs(&A->cfg.model, &w->sub);
            w->params = gt_anycost_params(&A->cfg.model, &w->sub);
        }
    int m = gt_scope_begin();
    gt_tensor *z = gt_sample_z(&A->cfg.model, seed, 0, false, n, 0);
    gt_status st = z ? gt__ar_consistency(A, &G, z) : GT_ERR_STATE;
    if (st == GT_OK) st = gt__ar_latency(A, &G, z);
    gt_scope_end(m);
    if (st != GT_OK) {
        status = gt_cli_fail("anycost-report", "measuring");
        goto done;
    }
    char *table = gt__ar_table(A);
    if (!table) {
        status = gt_cli_fail("anycost-report", "out of memory");
        goto done;
    }
    printf("anycost report: %s (%s generator, %dx%d), %d latents, batch-1 latency: median of %d, %d thread%s, "
           "load average %s -> %s\n\n%s",
           ckpt, A->used_ema ? "EMA" : "raw", A->cfg.model.res, A->cfg.model.res, n, reps, A->threads,
           A->threads == 1 ? "" : "s", A->load[0][0] ? A->load[0] : "?", A->load[1][0] ? A->load[1] : "?", table);
    const gt__ar_row *h = gt__ar_half(A);
    if (h)
        printf("\n%s vs %s: %.2fx faster per image (batch 1), %.1fx fewer MACs\n", h->text, A->rows[0].text,
               h->speedup, (double)A->rows[0].macs / (double)h->macs);
    if (gt__ar_write_md(A, pmd, table) != GT_OK || gt__ar_write_json(A, pjs) != GT_OK ||
        gt__ar_write_png(A, ppng) != GT_OK)
        status = gt_cli_fail("anycost-report", NULL);
    else
        printf("wrote %s, %s, %s\n", pmd, pjs, ppng);
    free(table);
done:
    gt_net_free(&G);
    free(A);
    return status;
}
