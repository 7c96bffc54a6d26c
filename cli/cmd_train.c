/* gantry train: flags -> gt_train_config, progress line on stderr, Ctrl-C
 * saves a checkpoint, --resume continues a run exactly. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/device.h"

typedef struct {
    bool tty, quiet, ada;
    double last_draw;
    int width;
    const char *device_json; /* --device on a GPU: RUN/device.json, written at the run's first file */
} gt__ui;

/* RUN/device.json: the device a GPU run trains on (a CPU run writes none: nothing changes there). */
static void gt__record_device(gt__ui *ui) {
    if (!ui->device_json) return;
    char js[128];
    int k = snprintf(js, sizeof js, "{\"device\": \"%s\"}\n", gt_cli_device_label());
    if (gt_write_file_atomic(ui->device_json, js, (size_t)k) != GT_OK && !ui->quiet)
        fprintf(stderr, "gantry train: note: %s not written: %s\n", ui->device_json, gt_last_error());
    gt_clear_error();
    ui->device_json = NULL;
}

static double gt__wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void gt__dur(double s, char *buf, size_t n) {
    long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

static void gt__progress(const gt_train_progress *p, bool interval, void *user) {
    gt__ui *ui = user;
    if (ui->quiet) return;
    double now = gt__wall();
    if (!interval && (!ui->tty || now - ui->last_draw < 0.25)) return;
    if (!interval && p->it_s <= 0) return;
    ui->last_draw = now;
    char eta[32], line[256];
    gt__dur(p->eta_s, eta, sizeof eta);
    int n = snprintf(line, sizeof line, "step %llu/%llu  %.2f it/s  %.0f img/s  ETA %s  loss D %.4f G %.4f",
                     (unsigned long long)p->step, (unsigned long long)p->steps, p->it_s, p->img_s, eta, p->mean.loss_d,
                     p->mean.loss_g);
    if (n > 0 && (size_t)n < sizeof line && p->mean.gp > 0)
        n += snprintf(line + n, sizeof line - (size_t)n, "  gp %.4f", p->mean.gp);
    if (n > 0 && (size_t)n < sizeof line && p->mean.loss_measure > 0) /* BEGAN's k_t and M */
        n += snprintf(line + n, sizeof line - (size_t)n, "  k %.4f M %.4f", p->mean.loss_state, p->mean.loss_measure);
    if (n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "  D(x) %.3f D(G(z)) %.3f", p->mean.d_real, p->mean.d_fake);
    if (n > 0 && (size_t)n < sizeof line && ui->ada) /* ADA's p and r_t (nan before its first update) */
        n += snprintf(line + n, sizeof line - (size_t)n, "  p %.3f rt %.2f", p->mean.aug_p, p->mean.ada_rt);
    if (ui->tty) {
        fprintf(stderr, "\r%-*s", ui->width, line);
        ui->width = n > ui->width ? n : ui->width;
        if (interval && p->final) fputc('\n', stderr);
    } else if (interval) {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

/* mpirun: a stop (Ctrl-C) that every rank takes at the same step. */
static bool gt__should_stop_all(void *user) { return gt_ddp_any(gt_cli_should_stop(user)); }

static void gt__wrote(const char *what, const char *path, void *user) {
    gt__ui *ui = user;
    gt__record_device(ui); /* the run folder exists now */
    if (ui->quiet || ui->tty) return; /* a tty shows the progress line only */
    fprintf(stderr, "wrote %s: %s\n", what, path);
}

/* Flags that fix the model and the training setup: a resumed run keeps them. */
static const char *const gt__fixed[] = {"--model", "--res",  "--channels", "--nz",   "--ngf",  "--ndf",
                                        "--batch", "--seed", "--loss",     "--gp",   "--ema",  "--n-critic",
                                        "--data",  "--data-limit", "--n-samples", "--clip", "--d-norm",
                                        "--model-opts", "--dragan", "--r1", "--r2", "--reg-every", "--label-smooth",
                                        "--augment", "--ada-target", "--ada-kimg", "--ada-interval", "--ada-p", "--cr",
                                        "--bcr-real", "--bcr-fake", "--zcr-dis", "--zcr-gen", "--zcr-sigma", "--lecam",
                                        "--lecam-decay"};

/* The flags that set a family's options (--ngf, --ndf, --d-norm: DCGAN's, kept as flags; --model-opts
 * KEY=VALUE,... any family's) onto mc. only: just that flag (NULL: all given). 0 or a usage error. */
static int gt__model_flags(gt_model_config *mc, gt_arg *spec, int ns, const char *only, int ngf, int ndf,
                           const char *d_norm, const char *opts) {
    struct {
        const char *flag, *key;
        double v;
    } num[] = {{"--ngf", "ngf", ngf}, {"--ndf", "ndf", ndf}};
    for (int i = 0; i < 2; i++) {
        if (!gt_args_find(spec, ns, num[i].flag)->given || (only && strcmp(only, num[i].flag))) continue;
        if (gt_model_opt_set(mc, num[i].key, num[i].v) != GT_OK)
            return gt_args_error("train", "%s: %s", num[i].flag, gt_last_error());
    }
    if (d_norm && (!only || !strcmp(only, "--d-norm"))) {
        int dn = gt_norm_parse(d_norm);
        if (dn <= GT_NORM_DEFAULT) return gt_args_error("train", "--d-norm must be batch, layer or none, got '%s'", d_norm);
        if (gt_model_opt_set(mc, "d_norm", dn) != GT_OK) return gt_args_error("train", "--d-norm: %s", gt_last_error());
    }
    if (opts && (!only || !strcmp(only, "--model-opts")) && gt_model_opts_parse_list(mc, opts) != GT_OK)
        return gt_args_error("train", "--model-opts: %s", gt_last_error());
    return 0;
}

/* Reads a training config file (--config: the JSON of a run's config.json) over c. */
static int gt__read_config(const char *path, gt_train_config *c) {
    size_t n = 0;
    void *buf = NULL;
    char *text = gt_read_file(path, &buf, &n, 1 << 20) == GT_OK ? buf : NULL; /* NUL-terminated */
    if (!text) {
        fprintf(stderr, "gantry train: --config %s: %s\n", path, gt_last_error());
        return GT_EXIT_FAIL;
    }
    gt_status st = gt_train_config_from_json(c, text, path);
    free(text);
    if (st != GT_OK) {
        fprintf(stderr, "gantry train: %s\n", gt_last_error());
        return GT_EXIT_FAIL;
    }
    return 0;
}

/* "wgan-gp", "hinge with --gp", "ns", ...: the loss as the user named it. */
static const char *gt__loss_label(const gt_train_config *c) {
    if (c->gp > 0) return c->loss == GT_LOSS_WGAN ? "wgan-gp" : c->loss == GT_LOSS_HINGE ? "hinge with --gp" : "--gp";
    return gt_loss_name(c->loss);
}

/* The checks of the WGAN-specific flags against the resolved loss. */
static int gt__check_wgan_flags(const gt_train_config *c, bool clip_given) {
    if (c->gp > 0 && gt_model_opt(&c->model, "d_norm") == GT_NORM_BATCH)
        return gt_args_error("train",
                             "--d-norm batch does not go with a gradient penalty (%s): batch norm makes each sample's "
                             "critic output and input gradient depend on the rest of the batch, so the penalty is not "
                             "per-sample; use --d-norm layer (the default with a penalty, as in the WGAN-GP paper) or "
                             "none",
                             gt__loss_label(c));
    if (clip_given && !(c->loss == GT_LOSS_WGAN && c->gp == 0))
        return gt_args_error("train",
                             "--clip is the weight clipping of the original WGAN (--loss wgan); it does not go with "
                             "--loss %s",
                             gt__loss_label(c));
    return 0;
}

int gt_cmd_train(int argc, char **argv) {
    gt_train_config c = gt_train_config_default();
    const char *data = NULL, *model = "dcgan", *out = NULL, *loss = NULL, *eval_ex = "fmnist", *eval_metrics = "fid";
    const char *d_norm = NULL, *model_opts = NULL, *config = NULL, *augment = NULL, *device = NULL;
    const char *precision = NULL;
    int ngf = 0, ndf = 0;
    double lr = 0;
    bool resume = false, quiet = false, list_models = false, list_losses = false;
    gt_model_config *m = &c.model;
    gt_arg spec[] = {
        {"--data", GT_ARG_STR, &data, 0, 0, false, "SPEC",
         "fashion-mnist[:test], an IDX file, a CIFAR-10 folder, an image folder, or paired:DIR (A|B images)", false},
        {"--config", GT_ARG_STR, &config, 0, 0, false, "FILE",
         "a training config (JSON, as a run's config.json; configs/*.json); the flags given override it", false},
        {"--model", GT_ARG_STR, &model, 0, 0, false, "NAME", "model family (dcgan; --list-models)", false},
        {"--model-opts", GT_ARG_STR, &model_opts, 0, 0, false, "K=V,...",
         "the family's own options (--list-models shows them), e.g. ngf=32,d_norm=layer", false},
        {"--steps", GT_ARG_I64, &c.steps, 0, 1e12, false, "N",
         "generator steps to reach (a resumed run continues to N)", false},
        {"--out", GT_ARG_STR, &out, 0, 0, false, "DIR", "run folder: config.json, metrics.jsonl, samples/, checkpoints",
         false},
        {"--batch", GT_ARG_INT, &c.batch, 1, 65536, false, "B", "batch size (64)", false},
        {"--lr", GT_ARG_DOUBLE, &lr, 0, 10, true, "LR", "learning rate of both G and D", false},
        {"--lr-g", GT_ARG_DOUBLE, &c.lr_g, 0, 10, true, "LR", "generator learning rate (2e-4)", false},
        {"--lr-d", GT_ARG_DOUBLE, &c.lr_d, 0, 10, true, "LR", "discriminator learning rate (2e-4)", false},
        {"--beta1", GT_ARG_DOUBLE, &c.beta1, 0, 0.9999, false, "B1", "Adam beta1 (0.5)", false},
        {"--beta2", GT_ARG_DOUBLE, &c.beta2, 0, 0.99999, false, "B2", "Adam beta2 (0.999)", false},
        {"--n-critic", GT_ARG_INT, &c.n_critic, 1, 64, false, "K", "discriminator steps per generator step (1)", false},
        {"--ema", GT_ARG_DOUBLE, &c.ema, 0, 0.99999, false, "DECAY", "EMA decay of the generator (0.999; 0 = off)",
         false},
        {"--seed", GT_ARG_U64, &c.seed, 0, 0, false, "S", "seed of weights, data order and latents (0)", false},
        {"--res", GT_ARG_INT, &m->res, 28, 64, false, "PX", "image size: 28, 32 or 64 (32)", false},
        {"--channels", GT_ARG_INT, &m->channels, 1, 3, false, "C", "1 (gray) or 3 (RGB) (3; 1 for Fashion-MNIST)",
         false},
        {"--nz", GT_ARG_INT, &m->nz, 1, 4096, false, "N", "latent size (100)", false},
        {"--ngf", GT_ARG_INT, &ngf, 1, 1024, false, "N", "dcgan: generator width (64)", false},
        {"--ndf", GT_ARG_INT, &ndf, 1, 1024, false, "N", "dcgan: discriminator width (64)", false},
        {"--loss", GT_ARG_STR, &loss, 0, 0, false, "L",
         "ns (default), minimax, ls, hinge, wgan (weight clipping: --clip), wgan-gp (gradient penalty: --gp), rpgan "
         "(--list-losses)",
         false},
        {"--gp", GT_ARG_DOUBLE, &c.gp, 0, 1e6, false, "W", "gradient-penalty weight (10 with wgan-gp)", false},
        {"--dragan", GT_ARG_DOUBLE, &c.dragan, 0, 1e6, false, "W", "DRAGAN penalty weight (0 = off; 10 in the paper)",
         false},
        {"--r1", GT_ARG_DOUBLE, &c.r1, 0, 1e6, false, "GAMMA", "R1 penalty on the reals: GAMMA/2 E||grad D(x)||^2 (0)",
         false},
        {"--r2", GT_ARG_DOUBLE, &c.r2, 0, 1e6, false, "GAMMA", "R2 penalty on the fakes (0)", false},
        {"--reg-every", GT_ARG_INT, &c.reg_every, 1, 1e6, false, "K",
         "lazy regularization: the penalties every K D steps, weighted K times (1)", false},
        {"--label-smooth", GT_ARG_DOUBLE, &c.label_smooth, 0, 0.49, false, "S",
         "one-sided label smoothing: real target 1-S of the BCE losses (0)", false},
        {"--clip", GT_ARG_DOUBLE, &c.clip, 0, 100, false, "C",
         "--loss wgan: every D weight clipped to [-C, C] after each D step (0.01; 0 = off)\n"
         "                         (the WGAN paper also used RMSProp with lr 5e-5 and --n-critic 5; gantry trains with "
         "Adam)",
         false},
        {"--d-norm", GT_ARG_STR, &d_norm, 0, 0, false, "N",
         "dcgan: discriminator normalization: batch, layer or none (batch; layer with a gradient penalty)", false},
        {"--sample-every", GT_ARG_I64, &c.sample_every, 0, 1e12, false, "K",
         "steps between sample grids (500; 0 = end)", false},
        {"--ckpt-every", GT_ARG_I64, &c.ckpt_every, 0, 1e12, false, "K", "steps between checkpoints (1000; 0 = end)",
         false},
        {"--log-every", GT_ARG_I64, &c.log_every, 1, 1e12, false, "K", "steps between metrics lines (50)", false},
        {"--keep-ckpts", GT_ARG_INT, &c.keep_ckpts, 0, 1e6, false, "N", "step checkpoints kept (2; 0 = all)", false},
        {"--n-samples", GT_ARG_INT, &c.n_samples, 1, 1024, false, "N", "images in the sample grid (64)", false},
        {"--data-limit", GT_ARG_I64, &c.data_limit, 0, 1e12, false, "N", "use only the first N images (0 = all)",
         false},
        {"--skip-bad-images", GT_ARG_TRUE, &c.skip_bad_images, 0, 0, false, NULL,
         "image folders: leave out files that cannot be decoded (counted) instead of stopping", false},
        {"--threads", GT_ARG_INT, &c.threads, 0, 1024, false, "N",
         "threads (0 = all cores; under mpirun: cores / ranks on the machine)", false},
        {"--sync-bn", GT_ARG_TRUE, &c.sync_bn, 0, 0, false, NULL,
         "mpirun: batch norm with the whole batch's statistics over the ranks (default: per rank)", false},
        {"--check-sync", GT_ARG_I64, &c.check_sync, 0, 1e12, false, "K",
         "mpirun: check every K steps that the ranks' weights are identical (0 = at start only)", false},
        {"--bucket-mb", GT_ARG_DOUBLE, &c.bucket_mb, 0, 1024, false, "MB",
         "mpirun: gradient allreduce buckets started during backward (1; 0 = one blocking allreduce)", false},
        {"--augment", GT_ARG_STR, &augment, 0, 0, false, "SPEC",
         "augmentation of what D sees (reals and fakes): none (default), diffaug:color,translation,cutout, "
         "ada[:GROUPS][+aa] (groups of b, g, c; +aa: the reference's anti-aliased resampling)",
         false},
        {"--ada-target", GT_ARG_DOUBLE, &c.ada_target, 0, 1, true, "T", "ADA: r_t's target (0.6)", false},
        {"--ada-kimg", GT_ARG_DOUBLE, &c.ada_kimg, 0, 1e9, true, "K",
         "ADA: thousands of real images for p to go from 0 to 1 (500)", false},
        {"--ada-interval", GT_ARG_INT, &c.ada_interval, 1, 1e6, false, "K", "ADA: D steps between p's updates (4)",
         false},
        {"--ada-p", GT_ARG_DOUBLE, &c.ada_p, 0, 1, false, "P", "ADA: the initial p (0)", false},
        {"--cr", GT_ARG_DOUBLE, &c.cr, 0, 1e6, false, "W", "consistency regularization on the reals (0 = off; 10)",
         false},
        {"--bcr-real", GT_ARG_DOUBLE, &c.bcr_real, 0, 1e6, false, "W", "balanced CR, the reals' weight (0; 10)", false},
        {"--bcr-fake", GT_ARG_DOUBLE, &c.bcr_fake, 0, 1e6, false, "W", "balanced CR, the fakes' weight (0; 10)", false},
        {"--zcr-dis", GT_ARG_DOUBLE, &c.zcr_dis, 0, 1e6, false, "W", "latent CR, D's weight (0; 10)", false},
        {"--zcr-gen", GT_ARG_DOUBLE, &c.zcr_gen, 0, 1e6, false, "W", "latent CR, G's weight (0; 0.5)", false},
        {"--zcr-sigma", GT_ARG_DOUBLE, &c.zcr_sigma, 0, 100, true, "S", "latent CR: the latents' noise (0.05)", false},
        {"--lecam", GT_ARG_DOUBLE, &c.lecam, 0, 1e6, false, "W", "LeCam regularizer weight (0 = off; 0.3)", false},
        {"--lecam-decay", GT_ARG_DOUBLE, &c.lecam_decay, 0, 0.999999, false, "D",
         "LeCam: the decay of D's output EMAs (0.99)", false},
        {"--eval-every", GT_ARG_I64, &c.eval_every, 0, 1e12, false, "K",
         "steps between FID evaluations recorded in metrics.jsonl (0 = off)", false},
        {"--eval-n", GT_ARG_I64, &c.eval_n, 2, 1e6, false, "N", "images per side of each evaluation (2000)", false},
        {"--eval-extractor", GT_ARG_STR, &eval_ex, 0, 0, false, "NAME",
         "features for it: fmnist (default, shipped) or inception", false},
        {"--eval-metrics", GT_ARG_STR, &eval_metrics, 0, 0, false, "LIST",
         "what it logs: comma list of fid, kid, is, pr, dc, or all (fid)", false},
        {"--resume", GT_ARG_TRUE, &resume, 0, 0, false, NULL, "continue the run in --out from its last checkpoint",
         false},
        {"--quiet", GT_ARG_TRUE, &quiet, 0, 0, false, NULL, "no progress output", false},
        GT_CLI_DEVICE_FLAG(&device),
        {"--precision", GT_ARG_STR, &precision, 0, 0, false, "P",
         "fp32 (default) or bf16: mixed precision, convolutions and matrix products on bfloat16 operands\n"
         "                         with float accumulation; weights, optimizer, norms, losses stay float (no loss "
         "scaling needed);\n                         sample grids, evaluations, gantry sample and eval run fp32",
         false},
        {"--list-models", GT_ARG_TRUE, &list_models, 0, 0, false, NULL, "print the model families and exit", false},
        {"--list-losses", GT_ARG_TRUE, &list_losses, 0, 0, false, NULL, "print the losses and exit", false},
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    const char *syn = "--data SPEC --steps N --out DIR [flags]   (or --config FILE --out DIR [flags])";
    int rc = gt_args_parse("train", spec, ns, argc, argv, 2, syn);
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    if (config) {
        /* the file, then the flags again over it: the spec's fields of c point into the file's config */
        if (resume) return gt_args_error("train", "--config does not go with --resume (a resumed run keeps its config)");
        gt_train_config fc = gt_train_config_default();
        if ((rc = gt__read_config(config, &fc)) != 0) return rc;
        for (int i = 0; i < ns; i++) {
            char *d = spec[i].dst;
            if (d >= (char *)&c && d < (char *)(&c + 1)) spec[i].dst = (char *)&fc + (d - (char *)&c);
            spec[i].given = false;
        }
        if (gt_args_parse("train", spec, ns, argc, argv, 2, syn) != GT_ARGS_OK) return GT_EXIT_USAGE;
        c = fc;
        if (!gt_args_find(spec, ns, "--model")->given) model = c.model.name;
    }
    if (list_models || list_losses) {
        for (int i = 0; list_models && gt_model_at(i); i++) {
            const gt_model_entry *e = gt_model_at(i);
            printf("%-10s %s\n", e->name, e->summary);
            for (int k = 0; k < e->n_opts; k++) { /* its options, for --model-opts and configs */
                const gt_model_opt_def *d = &e->opts[k];
                char def[64] = "";
                if (d->type == GT_OPT_ENUM) snprintf(def, sizeof def, "%s", d->choices[(int)d->def]);
                else if (d->type == GT_OPT_BOOL) snprintf(def, sizeof def, "%s", d->def != 0 ? "true" : "false");
                else snprintf(def, sizeof def, "%g", d->def);
                printf("           %-12s %s%s%s%s\n", d->key, d->help, strcmp(def, "default") ? " (default " : "",
                       strcmp(def, "default") ? def : "", strcmp(def, "default") ? ")" : "");
            }
        }
        for (int k = 0; list_losses && k < GT_LOSS_COUNT; k++)
            printf("%-10s %s\n", gt_loss_def_get((gt_loss_kind)k)->name, gt_loss_def_get((gt_loss_kind)k)->summary);
        if (list_losses) printf("%-10s %s\n", "wgan-gp", "wgan with a gradient penalty (--gp 10) and a layer-norm critic");
        return GT_EXIT_OK;
    }
    if (!out) return gt_args_error("train", "--out DIR is required (the run folder)");
    if (strlen(out) >= sizeof c.out) return gt_args_error("train", "--out path is too long");
    char last[GT_PATH_MAX + 32];
    snprintf(c.out, sizeof c.out, "%s", out);
    gt_train_last_ckpt(&c, last, sizeof last);
    if (gt_args_find(spec, ns, "--steps")->given && c.steps == 0)
        return gt_args_error("train", "--steps 0 trains nothing: give the generator steps to reach (at least 1)");
    bool clip_given = gt_args_find(spec, ns, "--clip")->given;
    if (precision) {
        gt_precision pv;
        if (gt_precision_parse(precision, &pv) != GT_OK)
            return gt_args_error("train", "--precision must be fp32 or bf16, got '%s'", precision);
        c.precision = (int)pv;
    }

    if (resume) {
        /* the run's own config, then the flags that may change */
        if (gt_cli_recover("train", out, quiet) != GT_EXIT_OK) return GT_EXIT_FAIL;
        gt_safetensors s;
        gt_st_init(&s);
        if (access(last, F_OK) != 0) {
            fprintf(stderr, "gantry train: no checkpoint to resume in %s (expected %s)\n", out, last);
            return GT_EXIT_FAIL;
        }
        if (gt_st_load(&s, last) != GT_OK || !gt_st_get_meta(&s, "config")) {
            fprintf(stderr, "gantry train: cannot resume from %s: %s\n", last,
                    gt_st_get_meta(&s, "config") || gt_last_error()[0] == 0 ? "no training config in it"
                                                                            : gt_last_error());
            gt_st_free(&s);
            return GT_EXIT_FAIL;
        }
        gt_train_config saved = gt_train_config_default();
        gt_status st = gt_train_config_from_json(&saved, gt_st_get_meta(&s, "config"), last);
        uint64_t at = 0; /* the checkpoint's step (loading checks it again) */
        const gt_st_tensor *ts = gt_st_find(&s, "train.step");
        bool have_at = ts && ts->dtype == GT_ST_U64 && ts->numel == 1;
        if (have_at) memcpy(&at, ts->data, sizeof at);
        gt_st_free(&s);
        if (st == GT_OK) st = gt_train_config_check(&saved);
        if (st != GT_OK) {
            fprintf(stderr, "gantry train: cannot resume: %s\n", gt_last_error());
            return GT_EXIT_FAIL;
        }
        /* a fixed flag may be repeated with the run's value, not changed */
        gt_train_config want = c;
        if (loss) {
            int k = gt_loss_parse(loss, &want.gp);
            if (k < 0) {
                char names[256];
                return gt_args_error("train", "--loss must be one of %s, got '%s'", gt_loss_names(names, sizeof names),
                                     loss);
            }
            want.loss = (gt_loss_kind)k;
        }
        if (data) snprintf(want.data, sizeof want.data, "%s", data);
        snprintf(want.model.name, sizeof want.model.name, "%s", model);
        for (size_t i = 0; i < sizeof gt__fixed / sizeof gt__fixed[0]; i++) {
            gt_arg *a = gt_args_find(spec, ns, gt__fixed[i]);
            if (!a || !a->given) continue;
            const char *f = a->name;
            bool same = true;
            if (!strcmp(f, "--model")) same = !strcmp(want.model.name, saved.model.name);
            else if (!strcmp(f, "--res")) same = want.model.res == saved.model.res;
            else if (!strcmp(f, "--channels")) same = want.model.channels == saved.model.channels;
            else if (!strcmp(f, "--nz")) same = want.model.nz == saved.model.nz;
            else if (!strcmp(f, "--ngf") || !strcmp(f, "--ndf") || !strcmp(f, "--d-norm") || !strcmp(f, "--model-opts")) {
                gt_model_config mc = saved.model; /* the run's model with this flag applied: the same? */
                if ((rc = gt__model_flags(&mc, spec, ns, f, ngf, ndf, d_norm, model_opts)) != 0) return rc;
                same = gt_model_config_same(&mc, &saved.model);
            }
            else if (!strcmp(f, "--batch")) same = want.batch == saved.batch;
            else if (!strcmp(f, "--seed")) same = want.seed == saved.seed;
            else if (!strcmp(f, "--loss")) same = want.loss == saved.loss;
            else if (!strcmp(f, "--gp")) same = want.gp == saved.gp;
            else if (!strcmp(f, "--ema")) same = want.ema == saved.ema;
            else if (!strcmp(f, "--n-critic")) same = want.n_critic == saved.n_critic;
            else if (!strcmp(f, "--data")) same = !strcmp(want.data, saved.data);
            else if (!strcmp(f, "--data-limit")) same = want.data_limit == saved.data_limit;
            else if (!strcmp(f, "--skip-bad-images")) same = want.skip_bad_images == saved.skip_bad_images;
            else if (!strcmp(f, "--n-samples")) same = want.n_samples == saved.n_samples;
            else if (!strcmp(f, "--clip")) same = want.clip == saved.clip;
            else if (!strcmp(f, "--dragan")) same = want.dragan == saved.dragan;
            else if (!strcmp(f, "--r1")) same = want.r1 == saved.r1;
            else if (!strcmp(f, "--r2")) same = want.r2 == saved.r2;
            else if (!strcmp(f, "--reg-every")) same = want.reg_every == saved.reg_every;
            else if (!strcmp(f, "--label-smooth")) same = want.label_smooth == saved.label_smooth;
            else if (!strcmp(f, "--augment")) same = !strcmp(augment, saved.augment);
            else if (!strcmp(f, "--ada-target")) same = want.ada_target == saved.ada_target;
            else if (!strcmp(f, "--ada-kimg")) same = want.ada_kimg == saved.ada_kimg;
            else if (!strcmp(f, "--ada-interval")) same = want.ada_interval == saved.ada_interval;
            else if (!strcmp(f, "--ada-p")) same = want.ada_p == saved.ada_p;
            else if (!strcmp(f, "--cr")) same = want.cr == saved.cr;
            else if (!strcmp(f, "--bcr-real")) same = want.bcr_real == saved.bcr_real;
            else if (!strcmp(f, "--bcr-fake")) same = want.bcr_fake == saved.bcr_fake;
            else if (!strcmp(f, "--zcr-dis")) same = want.zcr_dis == saved.zcr_dis;
            else if (!strcmp(f, "--zcr-gen")) same = want.zcr_gen == saved.zcr_gen;
            else if (!strcmp(f, "--zcr-sigma")) same = want.zcr_sigma == saved.zcr_sigma;
            else if (!strcmp(f, "--lecam")) same = want.lecam == saved.lecam;
            else if (!strcmp(f, "--lecam-decay")) same = want.lecam_decay == saved.lecam_decay;
            if (!same)
                return gt_args_error("train",
                                     "%s differs from the run being resumed (%s); a resumed run keeps its model, "
                                     "data and training setup",
                                     f, last);
        }
        /* flags that may change on resume: steps, rates, intervals, threads */
        gt_train_config r = saved;
        snprintf(r.out, sizeof r.out, "%s", out);
        const char *changeable[] = {"--steps", "--lr", "--lr-g", "--lr-d", "--beta1", "--beta2", "--sample-every",
                                    "--ckpt-every", "--log-every", "--keep-ckpts", "--threads", "--eval-every",
                                    "--eval-n", "--eval-extractor", "--eval-metrics", "--sync-bn", "--check-sync",
                                    "--bucket-mb", "--precision"};
        for (size_t i = 0; i < sizeof changeable / sizeof changeable[0]; i++) {
            gt_arg *a = gt_args_find(spec, ns, changeable[i]);
            if (!a->given) continue;
            const char *f = a->name;
            if (!strcmp(f, "--steps")) r.steps = c.steps;
            else if (!strcmp(f, "--lr")) r.lr_g = r.lr_d = lr;
            else if (!strcmp(f, "--lr-g")) r.lr_g = c.lr_g;
            else if (!strcmp(f, "--lr-d")) r.lr_d = c.lr_d;
            else if (!strcmp(f, "--beta1")) r.beta1 = c.beta1;
            else if (!strcmp(f, "--beta2")) r.beta2 = c.beta2;
            else if (!strcmp(f, "--sample-every")) r.sample_every = c.sample_every;
            else if (!strcmp(f, "--ckpt-every")) r.ckpt_every = c.ckpt_every;
            else if (!strcmp(f, "--log-every")) r.log_every = c.log_every;
            else if (!strcmp(f, "--keep-ckpts")) r.keep_ckpts = c.keep_ckpts;
            else if (!strcmp(f, "--threads")) r.threads = c.threads;
            else if (!strcmp(f, "--sync-bn")) r.sync_bn = c.sync_bn; /* data parallelism may change on resume */
            else if (!strcmp(f, "--check-sync")) r.check_sync = c.check_sync;
            else if (!strcmp(f, "--bucket-mb")) r.bucket_mb = c.bucket_mb;
            else if (!strcmp(f, "--precision")) r.precision = c.precision; /* the weights are float either way */
            else if (!strcmp(f, "--eval-every")) r.eval_every = c.eval_every;
            else if (!strcmp(f, "--eval-n")) r.eval_n = c.eval_n;
            else if (!strcmp(f, "--eval-extractor")) snprintf(r.eval_extractor, sizeof r.eval_extractor, "%s", eval_ex);
            else if (!strcmp(f, "--eval-metrics")) {
                if (strlen(eval_metrics) >= sizeof r.eval_metrics)
                    return gt_args_error("train", "--eval-metrics: the list is too long");
                snprintf(r.eval_metrics, sizeof r.eval_metrics, "%s", eval_metrics);
            }
        }
        c = r;
        if (gt_train_config_check(&c) != GT_OK) return gt_args_error("train", "%s", gt_last_error());
        if (have_at && at >= (uint64_t)c.steps) {
            /* a finished run asked again: nothing to do is not a failure, and nothing is touched */
            fprintf(stderr,
                    "gantry train: the run in %s is already at step %llu (target %lld): nothing to train, nothing "
                    "written; give --steps above %llu to continue it\n",
                    out, (unsigned long long)at, (long long)c.steps, (unsigned long long)at);
            return GT_EXIT_OK;
        }
    } else {
        if (!data && !c.data[0]) return gt_args_error("train", "--data SPEC is required (e.g. --data fashion-mnist)");
        if (!gt_args_find(spec, ns, "--steps")->given && !config) return gt_args_error("train", "--steps N is required");
        if (data && strlen(data) >= sizeof c.data) return gt_args_error("train", "--data path is too long");
        if (data) snprintf(c.data, sizeof c.data, "%s", data);
        if (!gt_model_find(model)) return gt_args_error("train", "--model: %s", gt_last_error());
        gt_model_config keep = c.model; /* the defaults or the config file, and the flags given */
        if (strcmp(model, keep.name) != 0) { /* another family: its defaults, and the common flags given */
            c.model = gt_model_config_default(model);
            if (gt_args_find(spec, ns, "--res")->given) c.model.res = keep.res;
            if (gt_args_find(spec, ns, "--channels")->given) c.model.channels = keep.channels;
            if (gt_args_find(spec, ns, "--nz")->given) c.model.nz = keep.nz;
            /* a penalty's layer-norm critic is resolved by the config check */
            if (!isnan(gt_model_opt(&c.model, "d_norm"))) gt_model_opt_set(&c.model, "d_norm", GT_NORM_DEFAULT);
        }
        if (!gt_args_find(spec, ns, "--channels")->given && !config &&
            (strncmp(c.data, "fashion-mnist", 13) == 0 || strstr(c.data, "idx3")))
            c.model.channels = 1;
        if ((rc = gt__model_flags(&c.model, spec, ns, NULL, ngf, ndf, d_norm, model_opts)) != 0) return rc;
        if (gt_args_find(spec, ns, "--lr")->given) {
            if (gt_args_find(spec, ns, "--lr-g")->given || gt_args_find(spec, ns, "--lr-d")->given)
                return gt_args_error("train", "--lr sets both rates: give it or --lr-g/--lr-d, not both");
            c.lr_g = c.lr_d = lr;
        }
        if (loss) {
            double gp = 0;
            int k = gt_loss_parse(loss, &gp);
            if (k < 0) {
                char names[256];
                return gt_args_error("train", "--loss must be one of %s, got '%s'", gt_loss_names(names, sizeof names),
                                     loss);
            }
            c.loss = (gt_loss_kind)k;
            if (gp > 0 && !gt_args_find(spec, ns, "--gp")->given) c.gp = gp;
        }
        if (strlen(eval_ex) >= sizeof c.eval_extractor)
            return gt_args_error("train", "--eval-extractor must be fmnist or inception, got '%s'", eval_ex);
        if (!config || gt_args_find(spec, ns, "--eval-extractor")->given)
            snprintf(c.eval_extractor, sizeof c.eval_extractor, "%s", eval_ex);
        if (strlen(eval_metrics) >= sizeof c.eval_metrics)
            return gt_args_error("train", "--eval-metrics: the list is too long");
        if (!config || gt_args_find(spec, ns, "--eval-metrics")->given)
            snprintf(c.eval_metrics, sizeof c.eval_metrics, "%s", eval_metrics);
        if (augment) {
            if (strlen(augment) >= sizeof c.augment) return gt_args_error("train", "--augment: the spec is too long");
            snprintf(c.augment, sizeof c.augment, "%s", augment);
        }
        if (c.gp > 0 && c.loss != GT_LOSS_WGAN && c.loss != GT_LOSS_HINGE)
            return gt_args_error("train", "--gp is a gradient penalty for --loss wgan / wgan-gp / hinge");
        if (gt__check_wgan_flags(&c, clip_given)) return GT_EXIT_USAGE;
        if (gt_train_config_check(&c) != GT_OK) return gt_args_error("train", "%s", gt_last_error());
        if (access(last, F_OK) == 0)
            return gt_args_error(
                "train", "%s already holds a run (%s); add --resume to continue it or choose another --out", out, last);
    }

    gt_trainer t;
    quiet = quiet || gt_dist_rank() != 0; /* mpirun: rank 0 reports (every rank reports its errors) */
    if ((rc = gt_cli_device("train", device, quiet)) != 0) return rc; /* before any tensor is made */
    if (!quiet) fprintf(stderr, "gantry train: loading %s ...\n", c.data);
    gt_status st = gt_trainer_init(&t, &c, NULL);
    if (st == GT_OK && resume) st = gt_trainer_load(&t, last);
    char group[512] = "";
    if (st == GT_OK) st = gt_ddp_setup(&t, group, sizeof group); /* mpirun: join the ranks (gantry/ddp.h) */
    if (st == GT_OK && group[0] && !quiet) fprintf(stderr, "gantry train: %s\n", group);
    if (st != GT_OK) {
        fprintf(stderr, "gantry train: %s\n", gt_last_error());
        gt_trainer_free(&t);
        return GT_EXIT_FAIL;
    }
    if (t.ds && t.ds->skipped) /* even with --quiet: the data is not all the folder holds */
        fprintf(stderr, "gantry train: skipped %lld unreadable image%s in %s (the first: %s)\n",
                (long long)t.ds->skipped, t.ds->skipped == 1 ? "" : "s", c.data, t.ds->skipped_first);
    if (!quiet)
        fprintf(stderr,
                "gantry train: %s %dpx x%d on %s (%lld images), G %lld / D %lld parameters, %s from "
                "step %llu to %lld -> %s\n",
                c.model.name, c.model.res, c.model.channels, c.data, (long long)(t.ds ? t.ds->n : 0),
                (long long)gt_net_num_params(&t.G), (long long)gt_net_num_params(&t.D),
                resume ? "resuming" : "training", (unsigned long long)t.step, (long long)c.steps, c.out);
    char device_json[GT_PATH_MAX + 32];
    snprintf(device_json, sizeof device_json, "%s/device.json", c.out);
    gt__ui ui = {.tty = isatty(2) != 0, .quiet = quiet, .ada = t.aug && gt_augment_adaptive(t.aug),
                 .device_json = gt_device_current() == GT_DEVICE_CUDA && gt_dist_rank() == 0 ? device_json : NULL};
    gt_train_hooks hooks = {gt__progress, t.ddp ? gt__should_stop_all : gt_cli_should_stop, gt__wrote, &ui};
    gt_cli_catch_stop(true);
    st = gt_train_run(&t, &hooks);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    uint64_t done = t.step;
    /* stopped before the target: Ctrl-C here, or (mpirun) on another rank, which every rank follows */
    const bool stopped = st == GT_OK && done < (uint64_t)c.steps;
    gt_ddp_stats ds;
    if (!quiet && gt_ddp_get_stats(&t, &ds) == GT_OK && ds.steps > 0) /* mpirun: the communication, for bench/ */
        fprintf(stderr, "gantry train: ddp: %lld steps, %.0f gradient bytes allreduced per step, %.3f ms per step "
                        "waiting for them, %.0f of %.0f buckets started during backward, %.0f%% of the bytes reduced when "
                        "backward ended\n",
                (long long)ds.steps, ds.bytes / (double)ds.steps, 1e3 * ds.wait_s / (double)ds.steps, ds.buckets_early,
                ds.buckets, ds.bytes > 0 ? 100.0 * ds.bytes_early / ds.bytes : 0.0);
    gt_trainer_free(&t);
    if (st != GT_OK) {
        if (ui.tty && !quiet) fputc('\n', stderr);
        if (gt_dist_active() && strncmp(gt_last_error(), "rank ", 5) != 0) /* mpirun: which rank, which step */
            fprintf(stderr, "gantry train: rank %d: step %llu: %s\n", gt_dist_rank(), (unsigned long long)done + 1,
                    gt_last_error());
        else
            fprintf(stderr, "gantry train: %s\n", gt_last_error());
        return GT_EXIT_FAIL;
    }
    if (!quiet) {
        if (stopped) fprintf(stderr, "\ngantry train: interrupted at step %llu; checkpoint saved: %s\n",
                              (unsigned long long)done, last);
        fprintf(stderr, "samples: %s/samples/last.png\ncheckpoint: %s\n", c.out, last);
    }
    return stopped ? GT_EXIT_INTERRUPTED : GT_EXIT_OK;
}
