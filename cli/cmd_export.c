/* gantry export: a checkpoint's generator as one dependency-free C file (gantry/compress.h,
 * gt_prog_export_c): the weights, and void <name>(const float *in, float *out) computing one
 * sample as `gantry sample` does (the EMA generator, batch norms recalibrated with the sampler's
 * seed, eval mode); --int8 quantizes it first on calibration latents (a translator: on the inputs
 * of calibration items, as gantry quantize does). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/compress.h"
#include "gantry/sampling.h"
#include "gantry/translate.h"

#define GT__RECAL_SEED 0x5EEDull /* as gantry sample */
#define GT__CALIB_SEED 0xCA11Bull

static int gt__fail(const char *what) {
    fprintf(stderr, "gantry export: %s%s%s\n", what ? what : "", what ? ": " : "", gt_last_error());
    return GT_EXIT_FAIL;
}

int gt_cmd_export(int argc, char **argv) {
    const char *ckpt = NULL, *out = NULL, *name = NULL, *calib_items = "fashion-mnist:train";
    int calib = 256, threads = 0;
    double pct = 100.0;
    bool int8 = false, ema = true;
    gt_arg spec[] = {
        {"--ckpt", GT_ARG_STR, &ckpt, 0, 0, false, "FILE", "a training checkpoint (runs/NAME/last.safetensors)", false},
        {"--out", GT_ARG_STR, &out, 0, 0, false, "FILE.c", "the C file to write", false},
        {"--name", GT_ARG_STR, &name, 0, 0, false, "FN",
         "the function's name (generate; a translator's: translate)", false},
        {"--int8", GT_ARG_TRUE, &int8, 0, 0, false, NULL, "int8 weights and activations (calibrated on --calib latents)",
         false},
        {"--calib", GT_ARG_INT, &calib, 1, 65536, false, "N", "calibration latents for --int8 (256; a fixed seed)", false},
        {"--calib-items", GT_ARG_STR, &calib_items, 0, 0, false, "SRC",
         "--int8 of a translator: the first --calib items' A (paired:DIR) or edges calibrate (fashion-mnist:train)",
         false},
        {"--pct", GT_ARG_DOUBLE, &pct, 0, 100, true, "P",
         "--int8: clip each layer's inputs at this percentile of |x| (100 = the max)", false},
        {"--ema", GT_ARG_TRUE, &ema, 0, 0, false, NULL, "use the EMA generator when the checkpoint has one (default)",
         false},
        {"--no-ema", GT_ARG_FALSE, &ema, 0, 0, false, NULL, "use the raw generator", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    int rc = gt_args_parse("export", spec, ns, argc, argv, 2, "--ckpt FILE --out FILE.c [--name FN] [--int8 [--calib N]]");
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    if (!ckpt) return gt_args_error("export", "--ckpt FILE is required");
    if (!out) return gt_args_error("export", "--out FILE.c is required");
    if (!int8 && (gt_args_find(spec, ns, "--calib")->given || gt_args_find(spec, ns, "--pct")->given ||
                  gt_args_find(spec, ns, "--calib-items")->given))
        return gt_args_error("export", "--calib, --calib-items and --pct go with --int8");
    bool ident = name && *name && strlen(name) <= 60 && (name[0] == '_' || ((name[0] | 32) >= 'a' && (name[0] | 32) <= 'z'));
    for (const char *c = name; ident && *c; c++)
        ident = *c == '_' || (*c >= '0' && *c <= '9') || ((*c | 32) >= 'a' && (*c | 32) <= 'z');
    if (name && (!ident || !strncmp(name, "gt_", 3) || !strncmp(name, "gv_", 3)))
        return gt_args_error("export", "--name must be a C identifier of up to 60 characters not starting with gt_ or "
                                       "gv_, got '%s'", name);
    if (gt_check_writable(out) != GT_OK) return gt__fail("--out");
    if (threads > 0) gt_set_num_threads(threads);

    gt_net G;
    gt_train_config cfg;
    bool used_ema = false;
    if (gt_load_generator(ckpt, ema, &G, &cfg, &used_ema) != GT_OK) return gt__fail(NULL);
    const gt_model_entry *e = gt_model_find(cfg.model.name);
    if (!e || !e->lower) {
        char names[512] = "";
        size_t k = 0;
        for (int i = 0; gt_model_at(i) && k < sizeof names; i++)
            if (gt_model_at(i)->lower)
                k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", k ? ", " : "", gt_model_at(i)->name);
        fprintf(stderr, "gantry export: %s holds a %s generator, which cannot be exported (families that can: %s)\n", ckpt,
                cfg.model.name, k ? names : "none");
        gt_net_free(&G);
        return GT_EXIT_FAIL;
    }
    if (gt_args_find(spec, ns, "--calib-items")->given && !e->translator) {
        gt_net_free(&G);
        return gt_args_error("export", "--calib-items is for translators; %s holds a %s generator (calibrated on latents)",
                             ckpt, cfg.model.name);
    }
    /* the generator as gantry sample runs it: running statistics from the sampler's latents */
    if (!e->translator && gt_recalibrate_bn(&G, GT__RECAL_SEED, 8, 64) != GT_OK) {
        gt_net_free(&G);
        return gt__fail("recalibrating batch norms");
    }
    gt_prog p;
    if (gt_prog_from_net(&G, &p) != GT_OK) {
        gt_net_free(&G);
        return gt__fail(ckpt);
    }
    gt_net_free(&G);
    int status = GT_EXIT_OK;
    if (int8) {
        int m = gt_scope_begin();
        gt_tensor *z = NULL;
        gt_status st = GT_OK;
        if (e->translator) /* the inputs of the first --calib items: paired A, else their edges */
            st = gt_translate_pair_open(calib_items, calib, cfg.model.res, cfg.model.channels, "--calib", &z, NULL);
        else
            z = gt_sample_z(&cfg.model, GT__CALIB_SEED, 0, false, calib, 0.0f);
        if (st == GT_OK) st = z ? gt_prog_quantize(&p, gt_data(z), calib, pct) : gt_last_status();
        gt_scope_end(m);
        if (st != GT_OK) status = gt__fail(e->translator ? "--calib-items" : "quantizing");
    }
    gt_export_opts o = {name, int8};
    if (status == GT_EXIT_OK && gt_prog_export_c(&p, out, &o) != GT_OK) status = gt__fail(out);
    if (status == GT_EXIT_OK) {
        struct stat sb;
        long long size = stat(out, &sb) == 0 ? (long long)sb.st_size : -1;
        const char *fn = name ? name : e->translator ? "translate" : "generate";
        printf("exported %s (%s %s generator%s) -> %s: void %s(const float *in, float *out)\n", ckpt, cfg.model.name,
               used_ema ? "EMA" : "raw", int8 ? ", int8" : "", out, fn);
        printf("  in %lld floats (%d x %d x %d), out %lld floats (%d x %d x %d)\n", (long long)gt_prog_in_numel(&p), p.in_c,
               p.in_h, p.in_w, (long long)gt_prog_out_numel(&p), p.out_c, p.out_h, p.out_w);
        printf("  MACs %.3f M, parameters %.3f M, file %.2f MB (compile: cc -O2 -std=c11 -c %s; link with -lm)\n",
               gt_prog_macs(&p) / 1e6, gt_prog_params(&p) / 1e6, size / 1e6, out);
    }
    gt_prog_free(&p);
    return status;
}
