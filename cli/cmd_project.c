/* gantry project: an image into an anycost checkpoint's latent space (w or w+), with Anycost
 * GAN's consistency loss across sub-generators (gantry/anycost_edit.h); or, with
 * --train-encoder, the small encoder that gives the projection its start point. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/anycost_edit.h"
#include "gantry/sampling.h"

static double gt__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int gt__fail(const char *what) {
    fprintf(stderr, "gantry project: %s%s%s\n", what ? what : "", what ? ": " : "", gt_last_error());
    return GT_EXIT_FAIL;
}

static void gt__progress(int step, double loss, void *ctx) {
    int steps = *(const int *)ctx;
    printf("  step %6d of %d   loss (MSE on w) %.6f\n", step, steps, loss);
    fflush(stdout);
}

/* The PNG at path as (1, C, R, R) in [-1, 1] for the model c, or NULL after a message naming both
 * sizes (the image must be the model's size and channels: no silent resizing). */
static gt_tensor *gt__load_image(const char *path, const gt_model_config *c, const char *ckpt) {
    gt_image im = {0};
    if (gt_image_load(path, &im) != GT_OK) {
        gt__fail("--image");
        return NULL;
    }
    gt_tensor *x = NULL;
    if (im.w != c->res || im.h != c->res || im.c != c->channels) {
        fprintf(stderr, "gantry project: --image %s is %dx%d %s; the model in %s makes %dx%d %s images (give an image "
                "of that size and channels)\n", path, im.w, im.h, im.c == 1 ? "gray" : "RGB", ckpt, c->res, c->res,
                c->channels == 1 ? "gray" : "RGB");
    } else {
        x = gt_empty(GT_SHAPE(1, im.c, im.h, im.w));
        if (x) {
            float *p = gt_data(x);
            for (int ch = 0; ch < im.c; ch++)
                for (int i = 0; i < im.h * im.w; i++) p[ch * im.h * im.w + i] = im.data[i * im.c + ch] / 127.5f - 1.0f;
        } else {
            gt__fail("--image");
        }
    }
    gt_image_free(&im);
    return x;
}

/* Each uniform config's error (ratios x resolutions) of w0 and w1 as a table. */
static void gt__config_table(gt_net *G, gt_tensor *w0, gt_tensor *w1, gt_tensor *img) {
    const gt_model_config *c = &G->cfg;
    printf("  %-10s %12s %12s %14s\n", "config", "start MSE", "final MSE", "MACs/image");
    for (int r = 8; r <= c->res; r *= 2)
        for (int a = 0; a < GT_AC_NRATIOS; a++) {
            gt_anycost_sub s = gt_anycost_uniform(gt_anycost_ratios[a], r);
            double e0 = NAN, e1 = NAN;
            char name[64];
            gt_anycost_recon_error(G, w0, img, &s, &e0);
            gt_anycost_recon_error(G, w1, img, &s, &e1);
            printf("  %-10s %12.5f %12.5f %14lld\n", gt_anycost_sub_text(c, &s, name, sizeof name), e0, e1,
                   (long long)gt_anycost_macs(c, &s));
        }
}

static int gt__train_encoder(gt_net *G, int steps, uint64_t seed, const char *out, const char *ckpt) {
    printf("training the encoder on %s's images: %d steps of 32 (seed %llu)\n", ckpt, steps, (unsigned long long)seed);
    gt_anycost_encoder *e = NULL;
    double t0 = gt__now();
    int every = steps >= 10 ? steps / 10 : 1;
    if (gt_anycost_encoder_train_ex(G, steps, seed, gt__progress, every, &steps, &e) != GT_OK)
        return gt__fail("training the encoder");
    gt_status st = gt_anycost_encoder_save(e, out);
    gt_anycost_encoder_free(e);
    if (st != GT_OK) return gt__fail("--out");
    printf("encoder: %d steps in %.1f s -> %s\n", steps, gt__now() - t0, out);
    return GT_EXIT_OK;
}

int gt_cmd_project(int argc, char **argv) {
    const char *ckpt = NULL, *image = NULL, *out = NULL, *encoder = NULL, *recon = NULL;
    int steps = -1, n_sub = -1, threads = 0, train_enc = -1;
    double lr = NAN, consistency = NAN, feat = NAN;
    uint64_t seed = 0;
    bool wplus = false, ema = true;
    gt_arg spec[] = {
        {"--ckpt", GT_ARG_STR, &ckpt, 0, 0, false, "FILE", "an anycost training checkpoint", false},
        {"--image", GT_ARG_STR, &image, 0, 0, false, "FILE.png", "the image: the model's size and channels", false},
        {"--out", GT_ARG_STR, &out, 0, 0, false, "FILE",
         "where to write w (w.safetensors), or the encoder with --train-encoder", false},
        {"--steps", GT_ARG_INT, &steps, 0, 1000000, false, "N", "Adam steps on w (300)", false},
        {"--lr", GT_ARG_DOUBLE, &lr, 0, 10, true, "F", "Adam's learning rate (0.05)", false},
        {"--wplus", GT_ARG_TRUE, &wplus, 0, 0, false, NULL, "optimize one w per convolution (w+)", false},
        {"--consistency", GT_ARG_DOUBLE, &consistency, 0, 1000, false, "F",
         "weight of the sub-generators' reconstruction terms (1; 0 = off)", false},
        {"--n-sub", GT_ARG_INT, &n_sub, 1, 64, false, "N", "sub-generators drawn per step for it (2)", false},
        {"--feat", GT_ARG_DOUBLE, &feat, 0, 1000, false, "F",
         "weight of the fmnist-feature distance, gray models (0.1; 0 = pixels only)", false},
        {"--seed", GT_ARG_U64, &seed, 0, 0, false, "S", "the sub-generators' draws, the start point's latents (0)",
         false},
        {"--encoder", GT_ARG_STR, &encoder, 0, 0, false, "FILE", "start from this encoder's w (--train-encoder)",
         false},
        {"--recon", GT_ARG_STR, &recon, 0, 0, false, "FILE.png", "also write the full generator's reconstruction",
         false},
        {"--train-encoder", GT_ARG_INT, &train_enc, 1, 10000000, false, "STEPS",
         "train the encoder for STEPS steps of 32 images and write it to --out", false},
        {"--ema", GT_ARG_TRUE, &ema, 0, 0, false, NULL, "use the EMA generator when the checkpoint has one (default)",
         false},
        {"--no-ema", GT_ARG_FALSE, &ema, 0, 0, false, NULL, "use the raw generator", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    int rc = gt_args_parse("project", spec, ns, argc, argv, 2,
                           "--ckpt FILE --image FILE.png --out w.safetensors [flags]\n"
                           "       gantry project --train-encoder STEPS --ckpt FILE --out enc.safetensors");
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    if (!ckpt) return gt_args_error("project", "--ckpt FILE is required");
    if (!out) return gt_args_error("project", "--out FILE is required");
    if (train_enc > 0 && (image || encoder || recon))
        return gt_args_error("project", "--train-encoder writes an encoder; --image, --encoder and --recon are for "
                                        "projecting");
    if (train_enc < 0 && !image) return gt_args_error("project", "give --image FILE.png (or --train-encoder STEPS)");
    if (gt_check_writable(out)) return gt__fail("--out");
    if (recon && gt_check_writable(recon)) return gt__fail("--recon");
    if (threads > 0) gt_set_num_threads(threads);

    gt_net G;
    gt_train_config cfg;
    bool used_ema = false;
    if (gt_cli_load_anycost("project", ckpt, ema, &G, &cfg, &used_ema) != GT_EXIT_OK) return GT_EXIT_FAIL;
    if (train_enc > 0) {
        int st = gt__train_encoder(&G, train_enc, seed, out, ckpt);
        gt_net_free(&G);
        return st;
    }
    int status = GT_EXIT_FAIL;
    gt_anycost_encoder *enc = NULL;
    gt_tensor *w0 = NULL, *w = NULL;
    int m = gt_scope_begin();
    gt_tensor *img = gt__load_image(image, &G.cfg, ckpt);
    if (!img) goto done;
    if (encoder && gt_anycost_encoder_load(&G.cfg, encoder, &enc) != GT_OK) {
        gt__fail("--encoder");
        goto done;
    }
    gt_anycost_project_opts o = gt_anycost_project_default();
    if (steps >= 0) o.steps = steps;
    if (!isnan(lr)) o.lr = (float)lr;
    if (!isnan(consistency)) o.consistency = (float)consistency;
    if (!isnan(feat)) o.feat = (float)feat;
    if (n_sub > 0) o.n_sub = n_sub;
    o.wplus = wplus, o.seed = seed;
    gt_anycost_project_opts o0 = o;
    o0.steps = 0;
    double before = NAN, after = NAN, t0 = gt__now();
    if (gt_anycost_project(&G, img, &o0, enc, &w0, NULL, NULL) != GT_OK ||
        gt_anycost_project(&G, img, &o, enc, &w, &before, &after) != GT_OK) {
        gt__fail("projecting");
        goto done;
    }
    double dt = gt__now() - t0;
    printf("projected %s into %s (%s %s generator): %s, %d steps, start %s, consistency %g over %d subs/step%s\n",
           image, ckpt, cfg.model.name, used_ema ? "EMA" : "raw", wplus ? "w+" : "w", o.steps,
           enc ? "the encoder's w" : "the mean w", o.consistency, o.n_sub,
           G.cfg.channels == 1 && o.feat > 0 ? ", fmnist features" : "");
    printf("reconstruction MSE (full generator): before %.5f  after %.5f  (%.1f s)\n", before, after, dt);
    gt__config_table(&G, w0, w, img);
    if (gt_anycost_w_save(out, w) != GT_OK) {
        gt__fail("--out");
        goto done;
    }
    printf("w -> %s\n", out);
    if (recon) {
        bool prev = gt_no_grad_begin();
        gt_tensor *x = gt_anycost_synthesis(&G, w, NULL, NULL, NULL);
        gt_grad_mode_restore(prev);
        if (!x || gt_save_grid(recon, x, 1, 0) != GT_OK) {
            gt__fail("--recon");
            goto done;
        }
        printf("reconstruction -> %s\n", recon);
    }
    status = GT_EXIT_OK;
done:
    gt_scope_end(m);
    gt_release(w0);
    gt_release(w);
    gt_anycost_encoder_free(enc);
    gt_net_free(&G);
    return status;
}
