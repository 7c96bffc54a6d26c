/* gantry compress-report: teacher, students, pruned and int8 generators side by side - MACs,
 * parameters, weight bytes, latency at batch 1 and 64, FID (Fashion-MNIST extractor) - as a table
 * (Markdown, JSON) and a PNG plot of FID against MACs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "gantry/compress.h"
#include "gantry.h"
#include "gantry/plot.h"
#include "gantry/sampling.h"
#include "gantry/translate.h"
#include <cjson/cJSON.h>

#define GT__CR_MAX 16
#define GT__CR_RECAL_SEED 0x5EEDull /* as gantry sample */

typedef struct {
    char label[64], path[1024], family[GT_MODEL_NAME_MAX];
    bool int8;
    int64_t macs, params, bytes; /* macs -1: the family cannot be lowered */
    double lat1_ms, lat64_ms;    /* per image */
    double fid;
    const char *runs_on;
} gt__cr_row;

typedef struct {
    gt__cr_row rows[GT__CR_MAX];
    int n_rows, n, reps, calib, threads;
    double pct;
    uint64_t seed;
    const char *real, *calib_real; /* FID's real images (a translator's inputs: their edges); its calibration */
} gt__cr;

static int gt__cr_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The bytes of the weights as they run: float32 everywhere, or int8 weights with their float scales
 * and biases where the program is quantized. */
static int64_t gt__cr_bytes(const gt_prog *p) {
    int64_t b = 0;
    for (int i = 0; i < p->n; i++) {
        const gt_prog_op *o = &p->ops[i];
        const bool layer = o->kind == GT_PROG_LINEAR || o->kind == GT_PROG_CONV || o->kind == GT_PROG_CONVT;
        const int64_t wn = !layer ? (o->w ? 2 * (int64_t)o->cout : 0)
                                  : (int64_t)o->cin * o->cout * (o->kind == GT_PROG_LINEAR ? 1 : o->k * o->k);
        if (!layer) b += 4 * wn;
        else if (o->qw) b += wn + 4 * (int64_t)o->cout + (o->b ? 4 * (int64_t)o->cout : 0);
        else b += 4 * (wn + (o->b ? o->cout : 0));
    }
    return b;
}

/* G's images for inputs z (latents, or a translator's input images): gt_generate or gt_translate. */
static gt_tensor *gt__cr_gen(gt_net *G, gt_tensor *z) {
    const gt_model_entry *e = gt_model_find(G->cfg.name);
    return e && e->translator ? gt_translate(G, z) : gt_generate(G, z);
}

/* The images (n, C, H, W) of G (or of the program p when not NULL) for the n inputs z, into out. */
static gt_status gt__cr_images(gt_net *G, const gt_prog *p, gt_tensor *z, int64_t n, float *out) {
    if (p) return gt_prog_run(p, gt_data(z), out, (int)n);
    gt_status st = GT_OK;
    bool prev = gt_no_grad_begin();
    for (int64_t i = 0; i < n && st == GT_OK; i += 256) {
        int m = gt_scope_begin();
        const int64_t k = n - i < 256 ? n - i : 256;
        gt_tensor *x = gt__cr_gen(G, gt_contiguous(gt_slice(z, 0, i, i + k, 1)));
        if (!x) st = gt_last_status();
        else gt_copy_to(x, out + i * (gt_numel(x) / k));
        gt_scope_end(m);
    }
    gt_grad_mode_restore(prev);
    return st;
}

/* A translator's inputs: the A of the first n images of spec (n, C, res, res): paired data's own
 * (paired:DIR), else the edges of the images (of any image source). */
static gt_tensor *gt__cr_edges(const char *spec, int64_t n, const gt_model_config *c) {
    if (gt_dataset_spec_is_paired(spec)) {
        gt_tensor *a;
        return gt_translate_pair_open(spec, n, c->res, c->channels, "n =", &a, NULL) == GT_OK ? a : NULL;
    }
    gt_image_source *s = gt_image_source_open(spec, n);
    if (!s) return NULL;
    int ic, ih, iw;
    gt_image_source_dims(s, &ic, &ih, &iw);
    gt_tensor *x = NULL;
    if (gt_image_source_count(s) < n || ic != c->channels || ih != c->res || iw != c->res) {
        gt_set_error(GT_ERR_SHAPE, "%s: need %lld images of (%d, %d, %d), it has %lld of (%d, %d, %d)", spec,
                     (long long)n, c->channels, c->res, c->res, (long long)gt_image_source_count(s), ic, ih, iw);
    } else if ((x = gt_empty(GT_SHAPE(n, ic, ih, iw)))) {
        const int64_t total = n * ic * ih * iw;
        uint8_t *u = malloc((size_t)total);
        float *f = gt_data(x);
        if (!u || gt_image_source_read(s, 0, n, u) != GT_OK) {
            if (!u) gt_set_error(GT_ERR_OOM, "out of memory");
            x = NULL;
        } else {
            for (int64_t i = 0; i < total; i++) f[i] = u[i] / 127.5f - 1.0f;
            x = gt_translate_input(x, NULL); /* not paired: the edges */
        }
        free(u);
    }
    gt_image_source_free(s);
    return x;
}

/* Median per-image latency at batch b (reps calls after 2 warm-ups). */
static gt_status gt__cr_latency(gt_net *G, const gt_prog *p, gt_tensor *z, int b, int reps, double *ms) {
    double *t = malloc((size_t)reps * sizeof *t);
    const int64_t per_out = p ? gt_prog_out_numel(p) : 0;
    float *buf = p ? malloc((size_t)(b * per_out) * sizeof *buf) : NULL;
    if (!t || (p && !buf)) {
        free(t), free(buf);
        return gt_set_error(GT_ERR_OOM, "out of memory");
    }
    gt_status st = GT_OK;
    bool prev = gt_no_grad_begin();
    for (int r = -2; r < reps && st == GT_OK; r++) {
        int m = gt_scope_begin();
        gt_tensor *zb = gt_contiguous(gt_slice(z, 0, 0, b, 1));
        const double t0 = gt_cli_now_ms();
        if (p) st = gt_prog_run(p, gt_data(zb), buf, b);
        else if (!gt__cr_gen(G, zb)) st = gt_last_status();
        if (r >= 0) t[r] = (gt_cli_now_ms() - t0) / b;
        gt_scope_end(m);
    }
    gt_grad_mode_restore(prev);
    if (st == GT_OK) {
        qsort(t, (size_t)reps, sizeof *t, gt__cr_cmp);
        *ms = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    }
    free(t), free(buf);
    return st;
}

/* The row's FID; NAN with a note when the extractor does not fit (not 28 px grayscale). */
static void gt__cr_fid(const gt__cr *R, gt__cr_row *row, const float *img, int C, int H, int64_t n_real) {
    if (gt_fid_images(NULL, img, R->n, C, H, H, R->real, n_real, &row->fid) != GT_OK) {
        fprintf(stderr, "gantry compress-report: %s: no FID (%s)\n", row->label, gt_last_error());
        row->fid = NAN;
    }
}

/* One checkpoint: its float row and, when asked, its int8 row. */
static gt_status gt__cr_model(gt__cr *R, gt__cr_row *row, gt__cr_row *q) {
    gt_net G;
    gt_train_config cfg;
    gt_prog p;
    memset(&p, 0, sizeof p);
    gt_status st = gt_load_generator(row->path, true, &G, &cfg, NULL);
    if (st != GT_OK) return st;
    const gt_model_entry *e = gt_model_find(cfg.model.name);
    const bool tr = e && e->translator;
    snprintf(row->family, sizeof row->family, "%s", cfg.model.name);
    st = tr ? GT_OK : gt_recalibrate_bn(&G, GT__CR_RECAL_SEED, 8, 64); /* a translator keeps its statistics */
    const bool lowered = st == GT_OK && gt_prog_from_net(&G, &p) == GT_OK;
    if (q && !lowered) {
        gt_net_free(&G);
        return st != GT_OK ? st : gt_set_error(GT_ERR_ARG, "--int8 %s: %s", row->label, gt_last_error());
    }
    row->macs = lowered ? gt_prog_macs(&p) : -1;
    row->params = gt_net_num_params(&G);
    row->bytes = 4 * row->params;
    row->runs_on = "library";
    const int C = cfg.model.channels, H = cfg.model.res;
    const int64_t per = (int64_t)C * H * H;
    float *img = malloc((size_t)(R->n * per) * sizeof *img);
    int m = gt_scope_begin();
    /* inputs: latents of the seed (calibration: another seed's), or a translator's edges of the real
       items (calibration: the training split's) */
    const int64_t nz = R->n > 64 ? R->n : 64;
    gt_tensor *z = st != GT_OK ? NULL
                   : tr        ? gt__cr_edges(R->real, nz, &cfg.model)
                               : gt_sample_latents_for(&cfg.model, R->seed, nz, 0);
    gt_tensor *zc = !z ? NULL
                    : tr ? gt__cr_edges(R->calib_real, R->calib, &cfg.model)
                         : gt_sample_latents_for(&cfg.model, R->seed + 0x9E3779B9ull, R->calib, 0);
    if (st == GT_OK && (!z || !zc || !img)) st = img ? gt_last_status() : gt_set_error(GT_ERR_OOM, "out of memory");
    if (st == GT_OK) st = gt__cr_latency(&G, NULL, z, 1, R->reps, &row->lat1_ms);
    if (st == GT_OK) st = gt__cr_latency(&G, NULL, z, 64, R->reps > 5 ? 5 : R->reps, &row->lat64_ms);
    if (st == GT_OK) st = gt__cr_images(&G, NULL, z, R->n, img);
    const int64_t n_real = tr ? R->n : 0; /* a translation is compared with the items it came from */
    if (st == GT_OK) gt__cr_fid(R, row, img, C, H, n_real);
    if (st == GT_OK && q) {
        *q = *row;
        q->int8 = true;
        q->runs_on = "program, int8";
        snprintf(q->label, sizeof q->label, "%.48s int8", row->label);
        st = gt_prog_quantize(&p, gt_data(zc), R->calib, R->pct);
        if (st == GT_OK) q->bytes = gt__cr_bytes(&p);
        if (st == GT_OK) st = gt__cr_latency(NULL, &p, z, 1, R->reps, &q->lat1_ms);
        if (st == GT_OK) st = gt__cr_latency(NULL, &p, z, 64, R->reps > 5 ? 5 : R->reps, &q->lat64_ms);
        if (st == GT_OK) st = gt__cr_images(NULL, &p, z, R->n, img);
        if (st == GT_OK) gt__cr_fid(R, q, img, C, H, n_real);
    }
    gt_scope_end(m);
    free(img);
    gt_prog_free(&p);
    gt_net_free(&G);
    return st;
}

static char *gt__cr_table(const gt__cr *R) {
    size_t cap = 512 + (size_t)R->n_rows * 320, k = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    k += (size_t)snprintf(s + k, cap - k,
                          "| generator | family | runs on | MACs | MACs vs first | params | weights | batch 1 (ms) | "
                          "batch 64 (ms/img) | FID | FID vs first |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    const gt__cr_row *f = &R->rows[0];
    for (int i = 0; i < R->n_rows; i++) {
        const gt__cr_row *r = &R->rows[i];
        char macs[32], params[32], bytes[32], ratio[32] = "-", fid[32] = "-", fr[32] = "-";
        gt_cli_si((double)r->macs, macs, sizeof macs);
        gt_cli_si((double)r->params, params, sizeof params);
        snprintf(bytes, sizeof bytes, "%.1f KiB", r->bytes / 1024.0);
        if (r->macs > 0 && f->macs > 0) snprintf(ratio, sizeof ratio, "%.1fx fewer", (double)f->macs / r->macs);
        if (isfinite(r->fid)) snprintf(fid, sizeof fid, "%.2f", r->fid);
        if (isfinite(r->fid) && isfinite(f->fid)) snprintf(fr, sizeof fr, "%+.1f%%", 100.0 * (r->fid / f->fid - 1));
        k += (size_t)snprintf(s + k, cap - k, "| %s | %s | %s | %s | %s | %s | %s | %.3f | %.3f | %s | %s |\n", r->label,
                              r->family, r->runs_on, macs, i ? ratio : "1x", params, bytes, r->lat1_ms, r->lat64_ms,
                              fid, i ? fr : "-");
    }
    return s;
}

static gt_status gt__cr_write_json(const gt__cr *R, const char *path) {
    cJSON *o = cJSON_CreateObject(), *rows = cJSON_CreateArray();
    gt_json_add_number(o, "n", R->n);
    gt_json_add_number(o, "seed", (double)R->seed);
    gt_json_add_number(o, "reps", R->reps);
    gt_json_add_number(o, "threads", R->threads);
    gt_json_add_number(o, "calib", R->calib);
    gt_json_add_number(o, "pct", R->pct);
    cJSON_AddStringToObject(o, "real", R->real);
    cJSON_AddStringToObject(o, "extractor", "fmnist");
    for (int i = 0; i < R->n_rows; i++) {
        const gt__cr_row *r = &R->rows[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "label", r->label);
        cJSON_AddStringToObject(j, "checkpoint", r->path);
        cJSON_AddStringToObject(j, "family", r->family);
        cJSON_AddBoolToObject(j, "int8", r->int8);
        cJSON_AddStringToObject(j, "runs_on", r->runs_on);
        gt_json_add_number(j, "macs", r->macs >= 0 ? (double)r->macs : NAN); /* null: not lowered */
        gt_json_add_number(j, "params", (double)r->params);
        gt_json_add_number(j, "weight_bytes", (double)r->bytes);
        gt_json_add_number(j, "latency_b1_ms", r->lat1_ms);
        gt_json_add_number(j, "latency_b64_ms_per_image", r->lat64_ms);
        gt_json_add_number(j, "fid", r->fid); /* null when not computed */
        cJSON_AddItemToArray(rows, j);
    }
    cJSON_AddItemToObject(o, "rows", rows);
    char *txt = cJSON_Print(o);
    cJSON_Delete(o);
    if (!txt) return gt_set_error(GT_ERR_OOM, "out of memory");
    gt_status st = gt_write_file_atomic(path, txt, strlen(txt));
    free(txt);
    return st;
}

/* FID against MACs (log): the float generators as one series, the int8 ones as another. */
static gt_status gt__cr_write_png(const gt__cr *R, const char *path) {
    double x[2][GT__CR_MAX], y[2][GT__CR_MAX];
    const char *lab[2][GT__CR_MAX];
    int n[2] = {0, 0};
    for (int i = 0; i < R->n_rows; i++) {
        const gt__cr_row *r = &R->rows[i];
        int s = r->int8 ? 1 : 0;
        x[s][n[s]] = r->macs > 0 ? (double)r->macs : NAN, y[s][n[s]] = r->fid, lab[s][n[s]] = r->label, n[s]++;
    }
    gt_plot_series ser[2] = {{.x = x[0], .y = y[0], .n = n[0], .labels = lab[0], .name = "float32"},
                             {.x = x[1], .y = y[1], .n = n[1], .labels = lab[1], .name = "int8"}};
    gt_plot_axes a = {.title = "compression: FID against cost", .xlabel = "MACs per image", .ylabel = "FID (fmnist)",
                      .xlog = true};
    return gt_plot_png(path, 720, 480, &a, ser, n[1] ? 2 : 1);
}

static gt_status gt__cr_write_md(const gt__cr *R, const char *path, const char *table) {
    size_t cap = strlen(table) + 2048, k = 0;
    char *s = malloc(cap);
    if (!s) return gt_set_error(GT_ERR_OOM, "out of memory");
    k += (size_t)snprintf(s + k, cap - k,
                          "# compression report\n\nFID: %d images (latents of seed %llu; a translator: the inputs A of the "
                          "first %d real images, paired data's own or their edges) against %s, Fashion-MNIST extractor. Latency per image: median of %d calls at batch 1 (5 at batch 64) after two "
                          "warm-ups, %d thread%s; float generators run through the library (gt_generate, EMA weights, "
                          "BN recalibrated as `gantry sample`), int8 ones through the program runner (calibrated on "
                          "%d other latents, percentile %g). Weights: the bytes as they run (float32, or int8 with "
                          "float scales and biases).\n\n",
                          R->n, (unsigned long long)R->seed, R->n, R->real, R->reps, R->threads, R->threads == 1 ? "" : "s",
                          R->calib, R->pct);
    k += (size_t)snprintf(s + k, cap - k, "%s\n![FID against MACs](compress_report.png)\n", table);
    gt_status st = gt_write_file_atomic(path, s, k);
    free(s);
    return st;
}

/* "a=x.safetensors,b=y.safetensors" into rows; int8 "a,b" marks labels. */
static int gt__cr_parse(gt__cr *R, char *models) {
    for (char *tok = strtok(models, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1])
            return gt_args_error("compress-report", "--models wants LABEL=CHECKPOINT entries, got '%s'", tok);
        if (R->n_rows == GT__CR_MAX / 2)
            return gt_args_error("compress-report", "--models: at most %d checkpoints", GT__CR_MAX / 2);
        gt__cr_row *r = &R->rows[R->n_rows++];
        *eq = '\0';
        if (strlen(tok) >= 48 || strlen(eq + 1) >= sizeof r->path)
            return gt_args_error("compress-report", "--models: label or path too long ('%s')", tok);
        snprintf(r->label, sizeof r->label, "%s", tok);
        snprintf(r->path, sizeof r->path, "%s", eq + 1);
    }
    return 0;
}

int gt_cmd_compress_report(int argc, char **argv) {
    const char *models = NULL, *int8 = NULL, *outdir = "compress-report";
    gt__cr *R = calloc(1, sizeof *R);
    if (!R) return gt_cli_fail("compress-report", "out of memory");
    R->n = 10000, R->reps = 31, R->calib = 256, R->pct = 99.99, R->real = "fashion-mnist:test";
    R->calib_real = "fashion-mnist:train";
    int threads = 0;
    gt_arg spec[] = {
        {"--models", GT_ARG_STR, &models, 0, 0, false, "L=CKPT,..",
         "generators to compare, labelled (the first is the reference: teacher=runs/t/last.safetensors,...)", false},
        {"--int8", GT_ARG_STR, &int8, 0, 0, false, "L,..", "labels whose int8 program is added as a row", false},
        {"--n", GT_ARG_INT, &R->n, 2, 100000, false, "N", "images per FID (10000)", false},
        {"--real", GT_ARG_STR, &R->real, 0, 0, false, "SPEC", "the real images of FID (fashion-mnist:test)", false},
        {"--calib-real", GT_ARG_STR, &R->calib_real, 0, 0, false, "SPEC",
         "a translator's int8 calibration images (fashion-mnist:train)", false},
        {"--seed", GT_ARG_U64, &R->seed, 0, 0, false, "S", "latent seed (0)", false},
        {"--reps", GT_ARG_INT, &R->reps, 1, 100000, false, "K", "timed batch-1 calls; the median counts (31)", false},
        {"--calib", GT_ARG_INT, &R->calib, 1, 100000, false, "N", "int8 calibration latents (256)", false},
        {"--pct", GT_ARG_DOUBLE, &R->pct, 0, 100, true, "P", "int8 activation range percentile (99.99)", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
        {"--out", GT_ARG_STR, &outdir, 0, 0, false, "DIR",
         "folder for compress_report.md/.json/.png (compress-report)", false},
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    int rc = gt_args_parse("compress-report", spec, ns, argc, argv, 2,
                           "--models L=CKPT[,L=CKPT..] [--int8 L,..] [--n N] [--out DIR] [flags]");
    if (rc) {
        free(R);
        return rc == GT_ARGS_HELP ? GT_EXIT_OK : GT_EXIT_USAGE;
    }
    char *mbuf = NULL, *ibuf = NULL;
    rc = GT_EXIT_USAGE;
    if (!models) {
        gt_args_error("compress-report", "--models L=CKPT[,L=CKPT..] is required");
        goto usage;
    }
    mbuf = strdup(models), ibuf = int8 ? strdup(int8) : NULL;
    if (!mbuf || (int8 && !ibuf) || gt__cr_parse(R, mbuf)) goto usage;
    bool want_q[GT__CR_MAX] = {false};
    for (char *tok = ibuf ? strtok(ibuf, ",") : NULL; tok; tok = strtok(NULL, ",")) {
        int i = 0;
        while (i < R->n_rows && strcmp(R->rows[i].label, tok) != 0) i++;
        if (i == R->n_rows) {
            gt_args_error("compress-report", "--int8 %s: no such label in --models", tok);
            goto usage;
        }
        want_q[i] = true;
    }
    for (int i = 0; i < R->n_rows; i++)
        if (gt_file_sniff(R->rows[i].path) != GT_FILE_SAFETENSORS) {
            fprintf(stderr, "gantry compress-report: %s=%s is not a checkpoint (a missing or other file)\n",
                    R->rows[i].label, R->rows[i].path);
            rc = GT_EXIT_FAIL;
            goto usage;
        }
    char pmd[4200], pjs[4200], ppng[4200];
    if (snprintf(pmd, sizeof pmd, "%s/compress_report.md", outdir) >= (int)sizeof pmd) {
        gt_args_error("compress-report", "--out path too long");
        goto usage;
    }
    snprintf(pjs, sizeof pjs, "%s/compress_report.json", outdir);
    snprintf(ppng, sizeof ppng, "%s/compress_report.png", outdir);
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gantry compress-report: cannot create folder %s: %s\n", outdir, strerror(errno));
        rc = GT_EXIT_FAIL;
        goto usage;
    }
    if (gt_check_writable(pmd) != GT_OK) {
        rc = gt_cli_fail("compress-report", "--out");
        goto usage;
    }
    if (threads > 0) gt_set_num_threads(threads);
    R->threads = gt_get_num_threads();
    /* the rows: each model, then its int8 program right after it */
    const int n_models = R->n_rows;
    gt__cr_row in[GT__CR_MAX];
    memcpy(in, R->rows, sizeof in);
    R->n_rows = 0;
    for (int i = 0; i < n_models; i++) {
        gt__cr_row *row = &R->rows[R->n_rows++];
        *row = in[i];
        gt__cr_row *q = want_q[i] ? &R->rows[R->n_rows++] : NULL;
        fprintf(stderr, "  %s (%s)...\n", row->label, row->path);
        if (gt__cr_model(R, row, q) != GT_OK) {
            char what[1200];
            snprintf(what, sizeof what, "%s=%s", row->label, row->path);
            rc = gt_cli_fail("compress-report", what);
            goto usage;
        }
    }
    char *table = gt__cr_table(R);
    rc = GT_EXIT_OK;
    if (!table) rc = gt_cli_fail("compress-report", "out of memory");
    else {
        printf("compression report: FID on %d images vs %s; latency per image, %d thread%s\n\n%s", R->n, R->real,
               R->threads, R->threads == 1 ? "" : "s", table);
        if (gt__cr_write_md(R, pmd, table) != GT_OK || gt__cr_write_json(R, pjs) != GT_OK ||
            gt__cr_write_png(R, ppng) != GT_OK)
            rc = gt_cli_fail("compress-report", NULL);
        else
            printf("wrote %s, %s, %s\n", pmd, pjs, ppng);
        free(table);
    }
usage:
    free(mbuf), free(ibuf);
    free(R);
    return rc;
}
