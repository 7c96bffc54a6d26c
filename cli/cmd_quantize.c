/* gantry quantize: a checkpoint's generator lowered to a program of plain layers (gantry/compress.h),
 * quantized to int8 (per-output-channel weight scales, input scales calibrated on latents, or for a
 * translator on the edges of training items), and compared with the float program on other
 * inputs: errors, PSNR, FID of both (the fmnist extractor against the Fashion-MNIST test split, or
 * a translator's items; 1-channel 28 px models), weight bytes and time per image. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/compress.h"
#include "gantry/translate.h"

#define GT__RECAL_SEED 0x5EEDull            /* as gantry sample */
#define GT__CALIB_SEED 0x9E3779B97F4A7C15ull /* added to --seed: the calibration latents are other ones */

static int gt__qfail(const char *what) {
    fprintf(stderr, "gantry quantize: %s%s%s\n", what ? what : "", what ? ": " : "", gt_last_error());
    return GT_EXIT_FAIL;
}

static double gt__now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Bytes of the program's parameters: all float, or int8 where quantized (the int8 weights, one float
 * scale per output channel, the input scale, the float bias). */
static int64_t gt__weight_bytes(const gt_prog *p, bool int8) {
    int64_t b = 0;
    for (int i = 0; i < p->n; i++) {
        const gt_prog_op *o = &p->ops[i];
        const bool layer = o->kind == GT_PROG_LINEAR || o->kind == GT_PROG_CONV || o->kind == GT_PROG_CONVT;
        if (layer) {
            const int64_t wn = (int64_t)o->cin * o->cout * (o->kind == GT_PROG_LINEAR ? 1 : o->k * o->k);
            const int64_t bias = o->b ? 4 * (int64_t)o->cout : 0;
            b += int8 && o->qw ? wn + 4 * (int64_t)o->cout + 4 + bias : 4 * wn + bias;
        } else if ((o->kind == GT_PROG_AFFINE || o->kind == GT_PROG_INORM) && o->w) {
            b += 8 * (int64_t)o->cout;
        }
    }
    return b;
}

/* A translator's inputs: the A of the first n items of spec (paired data's A, else their edges),
 * (n, C, res, res) in the current scope. */
static gt_tensor *gt__edge_inputs(const gt_model_config *m, const char *spec, int n, const char *flag) {
    gt_tensor *a;
    return gt_translate_pair_open(spec, n, m->res, m->channels, flag, &a, NULL) == GT_OK ? a : NULL;
}

static cJSON *gt__num_or_null(cJSON *o, const char *key, double v) {
    if (isfinite(v)) return gt_json_add_number(o, key, v);
    return cJSON_AddNullToObject(o, key);
}

typedef struct {
    double max_err, mean_err, psnr, fid_f, fid_q, ms_f, ms_q;
    int64_t bytes_f, bytes_q, macs, params;
    int n_quant;
    char fid_note[256];
} gt__qreport;

static gt_status gt__write_json(const char *path, const char *ckpt, const gt_model_config *m, bool used_ema, int n,
                                int calib, double pct, uint64_t seed, const char *items, const char *calib_items,
                                const gt__qreport *r) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "ckpt", ckpt);
    cJSON_AddStringToObject(j, "model", m->name);
    cJSON_AddStringToObject(j, "inputs", !items ? "latents" : gt_dataset_spec_is_paired(items) ? "paired" : "edges");
    if (items) cJSON_AddStringToObject(j, "items", items), cJSON_AddStringToObject(j, "calib_items", calib_items);
    cJSON_AddBoolToObject(j, "ema", used_ema);
    gt_json_add_number(j, "n", n);
    gt_json_add_number(j, "calib", calib);
    gt_json_add_number(j, "pct", pct);
    gt_json_add_number(j, "seed", (double)seed);
    gt_json_add_number(j, "macs", (double)r->macs);
    gt_json_add_number(j, "params", (double)r->params);
    gt_json_add_number(j, "layers_int8", r->n_quant);
    gt_json_add_number(j, "weight_bytes_float", (double)r->bytes_f);
    gt_json_add_number(j, "weight_bytes_int8", (double)r->bytes_q);
    gt__num_or_null(j, "max_abs_error", r->max_err);
    gt__num_or_null(j, "mean_abs_error", r->mean_err);
    gt__num_or_null(j, "psnr_db", r->psnr);
    gt__num_or_null(j, "fid_float", r->fid_f);
    gt__num_or_null(j, "fid_int8", r->fid_q);
    if (r->fid_note[0]) cJSON_AddStringToObject(j, "fid_note", r->fid_note);
    gt__num_or_null(j, "ms_per_image_float", r->ms_f);
    gt__num_or_null(j, "ms_per_image_int8", r->ms_q);
    char *txt = cJSON_Print(j);
    cJSON_Delete(j);
    if (!txt) return gt_set_error(GT_ERR_OOM, "out of memory");
    size_t len = strlen(txt);
    txt[len] = '\n'; /* cJSON_Print's NUL becomes the newline; write len + 1 bytes */
    gt_status st = gt_write_file_atomic(path, txt, len + 1);
    free(txt);
    return st;
}

int gt_cmd_quantize(int argc, char **argv) {
    const char *ckpt = NULL, *json = NULL, *items = "fashion-mnist:test", *calib_items = "fashion-mnist:train";
    int calib = 256, n = 1000, threads = 0;
    double pct = 99.99;
    uint64_t seed = 0;
    bool ema = true, fid = true;
    gt_arg spec[] = {
        {"--ckpt", GT_ARG_STR, &ckpt, 0, 0, false, "FILE", "a training checkpoint whose family can be lowered (dcgan)", false},
        {"--calib", GT_ARG_INT, &calib, 1, 8192, false, "N", "calibration latents or translator inputs (256; at most 8192)", false},
        {"--pct", GT_ARG_DOUBLE, &pct, 0, 100, true, "P",
         "input scales from the P-th percentile of |activation| (99.99; 100 = the max)", false},
        {"--n", GT_ARG_INT, &n, 2, 100000, false, "N", "evaluation latents (or items), other than the calibration ones (1000)",
         false},
        {"--seed", GT_ARG_U64, &seed, 0, 0, false, "S", "the evaluation latents' seed (0: gantry sample's)", false},
        {"--json", GT_ARG_STR, &json, 0, 0, false, "FILE", "write the report as JSON", false},
        {"--ema", GT_ARG_TRUE, &ema, 0, 0, false, NULL, "use the EMA generator when the checkpoint has one (default)", false},
        {"--no-ema", GT_ARG_FALSE, &ema, 0, 0, false, NULL, "use the raw generator", false},
        {"--no-fid", GT_ARG_FALSE, &fid, 0, 0, false, NULL, "skip the FIDs (fmnist extractor, 1-channel 28 px models)", false},
        {"--items", GT_ARG_STR, &items, 0, 0, false, "SRC",
         "translators: the first --n items' A (paired:DIR) or edges are the evaluation inputs, the items the FID's reals (fashion-mnist:test)",
         false},
        {"--calib-items", GT_ARG_STR, &calib_items, 0, 0, false, "SRC",
         "translators: the first --calib items' A (paired:DIR) or edges calibrate (fashion-mnist:train)", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    int rc = gt_args_parse("quantize", spec, ns, argc, argv, 2, "--ckpt FILE [--calib 256] [--pct 99.99] [--n 1000] [flags]");
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    if (!ckpt) return gt_args_error("quantize", "--ckpt FILE is required");
    if (json && gt_check_writable(json) != GT_OK) return gt__qfail("--json");
    if (threads > 0) gt_set_num_threads(threads);

    gt_net G;
    gt_train_config cfg;
    bool used_ema = false;
    if (gt_load_generator(ckpt, ema, &G, &cfg, &used_ema) != GT_OK) return gt__qfail(NULL);
    gt_prog p;
    memset(&p, 0, sizeof p);
    const gt_model_entry *fam = gt_model_find(cfg.model.name);
    const bool tr = fam && fam->translator;
    if (!tr && (gt_args_find(spec, ns, "--items")->given || gt_args_find(spec, ns, "--calib-items")->given)) {
        gt_args_error("quantize", "--items and --calib-items are for translators; %s holds a %s generator (latents)",
                      ckpt, cfg.model.name);
        gt_net_free(&G);
        return GT_EXIT_USAGE;
    }
    gt_status st = tr ? GT_OK : gt_recalibrate_bn(&G, GT__RECAL_SEED, 8, 64); /* as gantry sample */
    if (st == GT_OK) st = gt_prog_from_net(&G, &p);
    gt_net_free(&G);
    if (st != GT_OK) {
        gt_prog_free(&p);
        return gt__qfail(ckpt);
    }
    int status = GT_EXIT_OK;
    const int64_t no = gt_prog_out_numel(&p);
    gt__qreport r = {.fid_f = NAN, .fid_q = NAN, .macs = gt_prog_macs(&p), .params = gt_prog_params(&p)};
    float *yf = malloc((size_t)(no * n) * sizeof *yf), *yq = malloc((size_t)(no * n) * sizeof *yq);
    int m = gt_scope_begin();
    gt_tensor *zc = tr ? gt__edge_inputs(&cfg.model, calib_items, calib, "--calib")
                       : gt_sample_latents_for(&cfg.model, seed + GT__CALIB_SEED, calib, 0.0f);
    gt_tensor *ze = !zc ? NULL : tr ? gt__edge_inputs(&cfg.model, items, n, "--n") : gt_sample_latents_for(&cfg.model, seed, n, 0.0f);
    if (!yf || !yq || !zc || !ze) {
        status = gt__qfail(!yf || !yq ? "out of memory" : tr ? "inputs" : "latents");
        goto done;
    }
    zc = gt_contiguous(zc), ze = gt_contiguous(ze);
    double t0 = gt__now();
    if (gt_prog_run(&p, gt_data(ze), yf, n) != GT_OK) {
        status = gt__qfail("float program");
        goto done;
    }
    r.ms_f = 1e3 * (gt__now() - t0) / n;
    if (gt_prog_quantize(&p, gt_data(zc), calib, pct) != GT_OK) {
        status = gt__qfail("calibration");
        goto done;
    }
    t0 = gt__now();
    if (gt_prog_run(&p, gt_data(ze), yq, n) != GT_OK) {
        status = gt__qfail("int8 program");
        goto done;
    }
    r.ms_q = 1e3 * (gt__now() - t0) / n;
    double se = 0, ae = 0;
    for (int64_t i = 0; i < no * n; i++) {
        const double d = fabs((double)yq[i] - yf[i]);
        se += d * d, ae += d, r.max_err = d > r.max_err ? d : r.max_err;
    }
    r.mean_err = ae / (double)(no * n);
    /* PSNR of the images mapped from [-1, 1] to [0, 1] (peak 1), over all pixels (gt_metric_psnr's scale) */
    r.psnr = se > 0 ? 10.0 * log10(4.0 * (double)(no * n) / se) : INFINITY;
    for (int i = 0; i < p.n; i++) r.n_quant += p.ops[i].qw != NULL;
    r.bytes_f = gt__weight_bytes(&p, false), r.bytes_q = gt__weight_bytes(&p, true);
    if (!fid) {
        snprintf(r.fid_note, sizeof r.fid_note, "skipped (--no-fid)");
    } else if (p.out_c != 1 || p.out_h != 28 || p.out_w != 28) {
        snprintf(r.fid_note, sizeof r.fid_note, "skipped: the fmnist extractor compares 1-channel 28 px images; this model "
                 "makes %d x %d x %d", p.out_c, p.out_h, p.out_w);
    } else if (gt_fid_images("fmnist", yf, n, 1, 28, 28, tr ? items : "fashion-mnist:test", tr ? n : 0, &r.fid_f) != GT_OK ||
               gt_fid_images("fmnist", yq, n, 1, 28, 28, tr ? items : "fashion-mnist:test", tr ? n : 0, &r.fid_q) != GT_OK) {
        snprintf(r.fid_note, sizeof r.fid_note, "skipped: %s", gt_last_error());
        r.fid_f = r.fid_q = NAN;
    }

    printf("quantize: %s (%s %s generator): %.2f M MACs, %lld parameters; %d layers in int8\n", ckpt, cfg.model.name,
           used_ema ? "EMA" : "raw", (double)r.macs / 1e6, (long long)r.params, r.n_quant);
    if (tr)
        printf("  calibration: the %s of the first %d items of %s, input scales at the %g percentile of |x|\n",
               gt_dataset_spec_is_paired(calib_items) ? "A" : "edges", calib, calib_items, pct);
    else
        printf("  calibration: %d latents (seed %llu + 0x9E3779B97F4A7C15), input scales at the %g percentile of |x|\n",
               calib, (unsigned long long)seed, pct);
    printf("  %-24s %12s %12s\n", "", "float", "int8");
    printf("  %-24s %12.3f %12.3f\n", "weight MB", (double)r.bytes_f / 1e6, (double)r.bytes_q / 1e6);
    if (isfinite(r.fid_f)) printf("  %-24s %12.3f %12.3f\n", tr ? "FID (fmnist, items)" : "FID (fmnist, test split)", r.fid_f, r.fid_q);
    printf("  %-24s %12.3f %12.3f\n", "ms per image (program)", r.ms_f, r.ms_q);
    char from[300];
    if (tr)
        snprintf(from, sizeof from, "the %s of the first %d items of %s", gt_dataset_spec_is_paired(items) ? "A" : "edges",
                 n, items);
    else snprintf(from, sizeof from, "%d images (seed %llu)", n, (unsigned long long)seed);
    printf("  int8 vs float on %s: max |err| %.4g, mean |err| %.4g, PSNR %.2f dB\n", from, r.max_err, r.mean_err, r.psnr);
    if (r.fid_note[0]) printf("  FID %s\n", r.fid_note);
    if (json) {
        if (gt__write_json(json, ckpt, &cfg.model, used_ema, n, calib, pct, seed, tr ? items : NULL, calib_items, &r) != GT_OK) status = gt__qfail("--json");
        else printf("  report -> %s\n", json);
    }
done:
    gt_scope_end(m);
    free(yf), free(yq);
    gt_prog_free(&p);
    return status;
}
