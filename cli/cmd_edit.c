/* gantry edit: move a latent (a projected w file or a seed's) along a class direction of an
 * anycost checkpoint and render it with any sub-generator; or compute the class directions
 * (the fmnist classifier labels generated images, logistic regression on w) and save them. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/anycost_edit.h"
#include "gantry/fmnist.h"
#include "gantry/sampling.h"

static double gt__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int gt__fail(const char *what) {
    fprintf(stderr, "gantry edit: %s%s%s\n", what ? what : "", what ? ": " : "", gt_last_error());
    return GT_EXIT_FAIL;
}

/* "3" or a class name ("trouser", "Ankle boot", "ankle-boot", "t-shirt") -> 0..9, or -1. */
static int gt__parse_direction(const char *s) {
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end != s && !*end) return v >= 0 && v < GT_FMNIST_CLASSES ? (int)v : -1;
    for (int k = 0; k < GT_FMNIST_CLASSES; k++) {
        const char *a = gt_anycost_class_names[k], *b = s;
        while (*a && *b && (tolower((unsigned char)*a) == tolower((unsigned char)*b) ||
                            (*a == ' ' && (*b == '-' || *b == '_'))))
            a++, b++;
        if (!*b && (!*a || *a == '/')) return k;
    }
    return -1;
}

int gt_cmd_edit(int argc, char **argv) {
    const char *ckpt = NULL, *wfile = NULL, *dfile = NULL, *save_dirs = NULL, *out = NULL, *direction = NULL,
               *channels = NULL;
    int res = 0, n = 2000, strip = 0, scale = 1, threads = 0;
    uint64_t seed = 0, dir_seed = 0;
    double strength = NAN;
    bool ema = true;
    gt_arg spec[] = {
        {"--ckpt", GT_ARG_STR, &ckpt, 0, 0, false, "FILE", "an anycost training checkpoint", false},
        {"--w", GT_ARG_STR, &wfile, 0, 0, false, "FILE", "the latent to edit: a w file (gantry project --out)", false},
        {"--seed", GT_ARG_U64, &seed, 0, 0, false, "S", "the latent to edit: mapping of seed S's z", false},
        {"--directions", GT_ARG_STR, &dfile, 0, 0, false, "FILE",
         "class directions (--save-directions); without it they are computed", false},
        {"--n", GT_ARG_INT, &n, 10, 1000000, false, "N", "generated images that computed directions use (2000)",
         false},
        {"--dir-seed", GT_ARG_U64, &dir_seed, 0, 0, false, "S", "their latents' seed (0)", false},
        {"--save-directions", GT_ARG_STR, &save_dirs, 0, 0, false, "FILE", "write the computed directions", false},
        {"--direction", GT_ARG_STR, &direction, 0, 0, false, "K",
         "the class: 0..9 or a name (trouser, bag, ankle-boot, ...)", false},
        {"--strength", GT_ARG_DOUBLE, &strength, -1000, 1000, false, "F", "w += F x the unit direction", false},
        {"--strip", GT_ARG_INT, &strip, 2, 64, false, "N", "N images with strengths evenly from -F to F", false},
        {"--channels", GT_ARG_STR, &channels, 0, 0, false, "R",
         "render with the sub-generator of channel ratio R (0.25, 0.5, 0.75, 1 or one per conv)", false},
        {"--res", GT_ARG_INT, &res, 0, 4096, false, "N", "render at resolution N (8 .. the model's)", false},
        {"--out", GT_ARG_STR, &out, 0, 0, false, "FILE.png", "the edited image (or strip)", false},
        {"--scale", GT_ARG_INT, &scale, 1, 16, false, "K", "draw each pixel K x K (1)", false},
        {"--ema", GT_ARG_TRUE, &ema, 0, 0, false, NULL, "use the EMA generator when the checkpoint has one (default)",
         false},
        {"--no-ema", GT_ARG_FALSE, &ema, 0, 0, false, NULL, "use the raw generator", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    int rc = gt_args_parse("edit", spec, ns, argc, argv, 2,
                           "--ckpt FILE (--w w.safetensors | --seed S) [--directions FILE] --direction K "
                           "--strength F [--channels R --res N] [--strip N] --out FILE.png\n"
                           "       gantry edit --ckpt FILE --save-directions dirs.safetensors [--n N]");
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    if (!ckpt) return gt_args_error("edit", "--ckpt FILE is required");
    const bool editing = direction || out || wfile || !isnan(strength);
    if (!editing && !save_dirs)
        return gt_args_error("edit", "give --direction K --strength F --out FILE.png (an edit) or --save-directions "
                                     "FILE");
    int k = -1;
    if (editing) {
        if (!direction) return gt_args_error("edit", "--direction K is required for an edit");
        if ((k = gt__parse_direction(direction)) < 0)
            return gt_args_error("edit", "--direction must be a class 0..9 or its name (t-shirt, trouser, pullover, "
                                         "dress, coat, sandal, shirt, sneaker, bag, ankle-boot), got '%s'", direction);
        if (isnan(strength)) return gt_args_error("edit", "--strength F is required for an edit");
        if (!out) return gt_args_error("edit", "--out FILE.png is required for an edit");
        if (wfile && gt_args_find(spec, ns, "--seed")->given)
            return gt_args_error("edit", "give --w FILE or --seed S, not both");
    }
    if (dfile && save_dirs)
        return gt_args_error("edit", "--save-directions writes computed directions; drop --directions");
    if (out && gt_check_writable(out)) return gt__fail("--out");
    if (save_dirs && gt_check_writable(save_dirs)) return gt__fail("--save-directions");
    if (threads > 0) gt_set_num_threads(threads);

    gt_net G;
    gt_train_config cfg;
    bool used_ema = false;
    if (gt_cli_load_anycost("edit", ckpt, ema, &G, &cfg, &used_ema) != GT_EXIT_OK) return GT_EXIT_FAIL;
    int status = GT_EXIT_FAIL;
    gt_tensor *dirs = NULL, *w = NULL;
    gt_anycost_sub sub = {0};
    int m = gt_scope_begin();
    if (editing && (channels || res) && gt_anycost_sub_parse(&G.cfg, channels ? channels : "1", res, &sub) != GT_OK) {
        gt_args_error("edit", "--channels/--res: %s", gt_last_error());
        status = GT_EXIT_USAGE;
        goto done;
    }
    if (editing && wfile && gt_anycost_w_load(&G.cfg, wfile, &w) != GT_OK) {
        gt__fail("--w");
        goto done;
    }
    if (dfile) {
        if (gt_anycost_dirs_load(&G.cfg, dfile, &dirs) != GT_OK) {
            gt__fail("--directions");
            goto done;
        }
        if (k >= dirs->shape[0]) {
            fprintf(stderr, "gantry edit: --directions %s has %lld directions; --direction %d is not one of them\n",
                    dfile, (long long)dirs->shape[0], k);
            status = GT_EXIT_USAGE;
            goto done;
        }
    } else {
        int64_t counts[GT_FMNIST_CLASSES];
        double t0 = gt__now();
        if (gt_anycost_directions_ex(&G, n, dir_seed, &dirs, counts) != GT_OK) {
            gt__fail("computing the directions");
            goto done;
        }
        printf("directions from %d generated images (%.1f s), labelled by the fmnist classifier:\n", n, gt__now() - t0);
        for (int c = 0; c < GT_FMNIST_CLASSES; c++)
            printf("  %d %-12s %6lld image%s%s\n", c, gt_anycost_class_names[c], (long long)counts[c],
                   counts[c] == 1 ? "" : "s", counts[c] == 0 || counts[c] == n ? "  (no direction: zero)" : "");
        if (save_dirs) {
            if (gt_anycost_dirs_save(save_dirs, dirs, counts) != GT_OK) {
                gt__fail("--save-directions");
                goto done;
            }
            printf("directions -> %s\n", save_dirs);
        }
    }
    if (!editing) {
        status = GT_EXIT_OK;
        goto done;
    }
    if (!w) {
        bool prev = gt_no_grad_begin();
        gt_tensor *z = gt_sample_latents(seed, 1, G.cfg.nz, 0);
        gt_tensor *wm = z ? gt_anycost_mapping(&G, z) : NULL;
        gt_grad_mode_restore(prev);
        if (!wm) {
            gt__fail("mapping the seed's latent");
            goto done;
        }
        w = gt_retain(wm);
    }
    if (w->shape[0] != 1) printf("note: %s holds %lld latents; editing the first\n", wfile, (long long)w->shape[0]);
    {
        const int frames = strip ? strip : 1;
        gt_tensor *rows[64] = {0};
        bool ok = true;
        double t0 = gt__now();
        bool prev = gt_no_grad_begin();
        gt_tensor *w1 = gt_slice(w, 0, 0, 1, 1);
        for (int i = 0; i < frames; i++) {
            double s = strip ? -strength + 2.0 * strength * i / (frames - 1) : strength;
            rows[i] = gt_anycost_synthesis(&G, gt_anycost_edit(w1, dirs, k, (float)s), &sub, NULL, NULL);
            if (!rows[i]) {
                ok = false;
                break;
            }
        }
        gt_grad_mode_restore(prev);
        gt_tensor *x = ok ? gt_concat(frames, rows, 0) : NULL;
        double dt = gt__now() - t0;
        gt_image g = {0};
        if (!x || gt_grid_image(x, frames, strip ? 2 : 0, scale, &g) != GT_OK ||
            gt_png_write(out, g.data, g.w, g.h, g.c) != GT_OK) {
            gt_image_free(&g);
            gt__fail("rendering");
            goto done;
        }
        gt_image_free(&g);
        char sb[64], src[600];
        const char *st = gt_anycost_sub_text(&G.cfg, &sub, sb, sizeof sb);
        if (wfile) snprintf(src, sizeof src, "w of %s", wfile);
        else snprintf(src, sizeof src, "seed %llu", (unsigned long long)seed);
        printf("edit: %s, direction %d (%s), strength %s%g -> %s (%d image%s at %dx%d, sub-generator %s, %.1f ms "
               "each)\n", src, k, gt_anycost_class_names[k], strip ? "-+" : "",
               strength, out, frames, frames == 1 ? "" : "s", (int)x->shape[2], (int)x->shape[3], st,
               1e3 * dt / frames);
    }
    status = GT_EXIT_OK;
done:
    gt_scope_end(m);
    gt_release(dirs);
    gt_release(w);
    gt_net_free(&G);
    return status;
}
