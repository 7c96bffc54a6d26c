/* gantry eval: FID, KID, IS, precision/recall and density/coverage of a set
 * of images (a checkpoint's generator, a folder, an array, a dataset) against
 * real ones, with torch-fidelity's conventions (see gantry/metrics.h). */
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/translate.h"

#define GT__RECAL_SEED 0x5EEDull /* as `gantry sample`: eval of a checkpoint == eval of its samples */

enum { M_FID = GT_METRIC_FID, M_KID = GT_METRIC_KID, M_IS = GT_METRIC_IS, M_PR = GT_METRIC_PR, M_DC = GT_METRIC_DC };

static double gt__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "fid,kid,is,pr,dc" (or "all") -> mask (the metrics suite's parser); 0 after printing a usage error. */
static unsigned gt__parse_metrics(const char *s) {
    unsigned m = 0;
    if (gt_metrics_parse(s, &m) != GT_OK) {
        gt_args_error("eval", "--metrics: %s", gt_last_error());
        return 0;
    }
    return m;
}

/* --- progress ------------------------------------------------------------------ */
typedef struct {
    const char *label;
    double t0, last;
    bool tty;
    int64_t last_decile;
} gt__progress;

static void gt__fmt_time(double s, char *buf, size_t n) {
    if (!(s >= 0) || s > 1e7) snprintf(buf, n, "?");
    else if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else if (s >= 60) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, n, "%.0fs", s);
}

static void gt__progress_cb(int64_t done, int64_t total, void *user) {
    gt__progress *p = user;
    double now = gt__now(), el = now - p->t0, rate = el > 0 ? (double)done / el : 0;
    bool final = done >= total;
    int64_t decile = done * 10 / (total > 0 ? total : 1);
    if (!final && (p->tty ? now - p->last < 0.2 : decile == p->last_decile)) return;
    p->last = now;
    p->last_decile = decile;
    char t[32], bar[31];
    int fill = (int)(30 * done / (total > 0 ? total : 1));
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    if (final) {
        gt__fmt_time(el, t, sizeof t);
        fprintf(stderr, "%s  %-5s [%s] %lld images  %.1f img/s  took %s          \n", p->tty ? "\r" : "", p->label,
                bar, (long long)total, rate, t);
    } else {
        gt__fmt_time(rate > 0 ? (double)(total - done) / rate : -1, t, sizeof t);
        fprintf(stderr, "%s  %-5s [%s] %lld/%lld images  %.1f img/s  ETA %s   %s", p->tty ? "\r" : "", p->label, bar,
                (long long)done, (long long)total, rate, t, p->tty ? "" : "\n");
    }
    fflush(stderr);
}

/* --- a checkpoint's generator as an image source ---------------------------------- */
typedef struct {
    gt_net G;
    gt_tensor *z; // (n, nz), owned
    bool sub_on;        /* an anycost sub-generator (--channels / --res) */
    gt_anycost_sub sub;
    int R;              /* the model's res: a smaller sub's images are upsampled to it */
    gt_dataset *items;  /* a translator's: the items whose A (paired) or edges it translates (the --real images) */
} gt__gen_ctx;

/* The anycost sub-generator asked for (--channels / --res), checked against the checkpoint. */
typedef struct {
    bool on;
    gt_anycost_sub sub;
    char text[256];
    int64_t macs, params, full_macs;
} gt__sub_req;

static gt_status gt__gen_images(void *ctx, int64_t start, int64_t count, uint8_t *out) {
    gt__gen_ctx *g = ctx;
    int m = gt_scope_begin();
    gt_tensor *x;
    if (g->items) { /* a translator: G(A) of the items (paired data's A, else their edges) */
        gt_tensor *a = NULL;
        x = gt_translate_pair(g->items, start, count, &a, NULL) == GT_OK ? gt_translate(&g->G, a) : NULL;
    } else if (g->sub_on) { /* only the sub's slice runs; bilinear up to the model's res for the extractor */
        bool prev = gt_no_grad_begin();
        x = gt_anycost_generate(&g->G, gt_slice(g->z, 0, start, start + count, 1), &g->sub, NULL);
        if (x && x->shape[3] < g->R) x = gt_upsample_bilinear2d(x, g->R, g->R);
        gt_grad_mode_restore(prev);
    } else {
        x = gt_generate(&g->G, gt_slice(g->z, 0, start, start + count, 1));
    }
    gt_status st = x ? GT_OK : gt_last_status();
    if (x) {
        const float *p = gt_data(x); /* (count, C, res, res) in [-1, 1], contiguous */
        int64_t total = gt_numel(x);
        for (int64_t i = 0; i < total; i++) {
            float v = (p[i] + 1.0f) * 0.5f; /* torchvision's save_image conversion */
            v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
            out[i] = (uint8_t)floorf(v * 255.0f + 0.5f);
        }
    }
    gt_scope_end(m);
    return st;
}

static void gt__gen_free(void *ctx) {
    gt__gen_ctx *g = ctx;
    gt_release(g->z);
    gt_net_free(&g->G);
    gt_dataset_free(g->items);
    free(g);
}

static gt_image_source *gt__open_checkpoint(const char *path, int64_t n, uint64_t seed, bool ema,
                                            const gt__sub_req *sub, const char *items) {
    gt__gen_ctx *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    gt_train_config cfg;
    bool used_ema = false;
    gt_status st = gt_load_generator(path, ema, &g->G, &cfg, &used_ema);
    const gt_model_entry *fam = st == GT_OK ? gt_model_find(cfg.model.name) : NULL;
    if (fam && fam->translator) { /* translations of the edges of the --real items (their test split) */
        gt_dataset_opts o = {.limit = n};
        g->items = gt_dataset_open(items ? items : "fashion-mnist:test", cfg.model.res, cfg.model.channels, &o);
        if (!g->items) st = gt_last_status();
        else n = g->items->n;
    } else if (st == GT_OK) {
        st = gt_recalibrate_bn(&g->G, GT__RECAL_SEED, 8, 64);
    }
    if (st != GT_OK) {
        gt_dataset_free(g->items);
        gt_net_free(&g->G);
        free(g);
        return NULL;
    }
    if (sub && sub->on) g->sub_on = true, g->sub = sub->sub, g->R = cfg.model.res;
    g->z = gt_sample_latents_for(&cfg.model, seed, n, 0.0f);
    if (!g->z) {
        gt__gen_free(g);
        return NULL;
    }
    if (gt_scope_depth() > 0) gt_retain(g->z); /* ours, past the scope's end */
    char name[1200];
    snprintf(name, sizeof name, "%s (%s %s generator%s%s)", path, cfg.model.name, used_ema ? "EMA" : "raw",
             g->items ? (g->items->pixels_a ? ", translating the A of " : ", translating the edges of ") : g->sub_on ? ", sub-generator " : "",
             g->items ? g->items->source : g->sub_on ? sub->text : "");
    gt_image_source *s = gt_image_source_from_fn(name, n, cfg.model.channels, cfg.model.res, cfg.model.res,
                                                 gt__gen_images, g, gt__gen_free);
    if (!s) gt__gen_free(g);
    return s;
}

static bool gt__ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* --- one side (real or fake) -------------------------------------------------------- */
typedef struct {
    const char *label, *spec;
    gt_image_source *src;
    gt_fid_stats stats;       /* from a file, the cache, or computed */
    bool have_stats, from_file, from_cache;
    gt_feature_set fs;
    int64_t n;
} gt__side;

/* --- the ranks of an MPI job (gantry/dist.h): failures are told at agreement points ------------- */
static char gt__err_msg[2048]; /* this rank's first failure, printed by gt__agree */
static int gt__err_rc;         /* its exit code (0: none) */
static bool gt__broken;        /* a collective failed: the ranks cannot agree any more (main aborts the job) */

/* Records this rank's failure: "WHAT: <the library's last error>" (WHAT may be NULL). */
static void gt__defer(int rc, const char *what) {
    if (gt__err_rc) return;
    snprintf(gt__err_msg, sizeof gt__err_msg, "%s%s%s", what ? what : "", what ? ": " : "", gt_last_error());
    gt__err_rc = rc;
}

static void gt__deferf(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gt__deferf(int rc, const char *fmt, ...) {
    if (gt__err_rc) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gt__err_msg, sizeof gt__err_msg, fmt, ap);
    va_end(ap);
    gt__err_rc = rc;
}

/* Collective: 0 when no rank failed, else the largest exit code of the ranks, after one message: rank 0's
 * failure, else that of the first rank that failed (named). One process: its own failure, as it was. */
static int gt__agree(void) {
    int size = gt_dist_size(), rank = gt_dist_rank();
    int64_t mine = gt__err_rc, *all = calloc((size_t)size, sizeof *all);
    if (!all || gt_dist_allgather(&mine, sizeof mine, all)) {
        fprintf(stderr, "gantry eval: rank %d of %d: %s%s%s\n", rank, size, gt__err_rc ? gt__err_msg : "",
                gt__err_rc ? "; then " : "", all ? gt_last_error() : "out of memory");
        free(all);
        gt__broken = true;
        return GT_EXIT_FAIL;
    }
    int first = -1, worst = 0;
    for (int r = 0; r < size; r++)
        if (all[r]) {
            if (first < 0) first = r;
            if (all[r] > worst) worst = (int)all[r];
        }
    free(all);
    if (first == rank) {
        if (rank > 0) fprintf(stderr, "gantry eval: rank %d of %d: %s\n", rank, size, gt__err_msg);
        else fprintf(stderr, "gantry eval: %s\n", gt__err_msg);
    }
    return worst;
}

/* Threads: --threads, else, under mpirun, this rank's share of the machine: the cores it is bound to, or
 * the cores / the ranks on this machine; said by rank 0 at the start. */
static void gt__threads(int threads, bool quiet) {
    if (!gt_dist_active()) {
        if (threads > 0) gt_set_num_threads(threads);
        return;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int bound = omp_get_num_procs(), local = gt_dist_local_size() > 0 ? gt_dist_local_size() : 1;
    int per = threads > 0 ? threads : bound > 0 && bound < cores ? bound : cores / local > 1 ? (int)(cores / local) : 1;
    gt_set_num_threads(per);
    if (gt_dist_rank() == 0 && !quiet)
        fprintf(stderr, "gantry eval: %d ranks (%d on this machine of %ld cores), %d thread%s per rank%s; %s\n",
                gt_dist_size(), local, cores, per, per == 1 ? "" : "s", threads > 0 ? " (--threads)" : "",
                gt_dist_library());
}

/* Collective: every rank must have been started with the same arguments; refused if not. */
static int gt__same_args(int argc, char **argv) {
    if (!gt_dist_active()) return 0;
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the arguments, 0-separated */
    for (int i = 0; i < argc; i++)
        for (const char *c = argv[i];; c++) {
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
            if (!*c) break;
        }
    int64_t v[2] = {(int64_t)(h >> 2), -(int64_t)(h >> 2)};
    if (gt_dist_allreduce(v, 2, GT_DIST_I64, GT_DIST_MAX)) gt__defer(GT_EXIT_FAIL, "comparing the ranks' arguments");
    else if (v[0] != -v[1] && gt_dist_rank() == 0)
        gt__deferf(GT_EXIT_FAIL, "the ranks were started with different arguments (every rank must run the same "
                   "`gantry eval ...`)");
    return gt__agree();
}

/* Collective: every rank must see the same inputs (the same image counts, the same kinds); refused if not. */
static int gt__same_inputs(const gt__side *F, const gt__side *R) {
    if (!gt_dist_active()) return 0;
    int64_t v[8] = {F->n, R->n, F->from_file, R->from_file, -F->n, -R->n, -F->from_file, -R->from_file};
    if (gt_dist_allreduce(v, 8, GT_DIST_I64, GT_DIST_MAX)) {
        gt__defer(GT_EXIT_FAIL, "checking that the ranks see the same inputs");
        return gt__agree();
    }
    for (int i = 0; i < 4; i++)
        if (v[i] != -v[i + 4] && gt_dist_rank() == 0)
            gt__deferf(GT_EXIT_FAIL, "the ranks see different inputs: --%s %s is %s over the ranks (from %lld to "
                       "%lld); every rank must read the same data", i % 2 ? "real" : "fake", i % 2 ? R->spec : F->spec,
                       i < 2 ? "a different number of images" : "statistics on some, images on others",
                       (long long)-v[i + 4], (long long)v[i]);
    return gt__agree();
}

static bool gt__is_ckpt(const char *spec) {
    return gt__ends_with(spec, ".safetensors") || gt_file_sniff(spec) == GT_FILE_SAFETENSORS;
}

/* --channels / --res for the checkpoint at path: exit 1 when it is not anycost (or unreadable),
 * 2 for a ratio or resolution the model does not have; 0 with *r filled. */
static int gt__sub_request(const char *path, const char *channels, int res, bool ema, gt__sub_req *r) {
    gt_net G;
    gt_train_config cfg;
    bool used = false;
    if (gt_load_generator(path, ema, &G, &cfg, &used) != GT_OK) {
        fprintf(stderr, "gantry eval: --ckpt %s: %s\n", path, gt_last_error());
        return GT_EXIT_FAIL;
    }
    bool any = gt_anycost_is(&G);
    gt_net_free(&G);
    if (!any) {
        fprintf(stderr, "gantry eval: %s is a %s checkpoint; --channels and --res need an anycost one\n", path,
                cfg.model.name);
        return GT_EXIT_FAIL;
    }
    if (res > cfg.model.res) {
        fprintf(stderr, "gantry eval: --res %d is above the model's resolution %d (levels 8..%d)\n", res,
                cfg.model.res, cfg.model.res);
        return GT_EXIT_USAGE;
    }
    if (gt_anycost_sub_parse(&cfg.model, channels ? channels : "1", res, &r->sub) != GT_OK) {
        fprintf(stderr, "gantry eval: %s: %s\n", channels ? "--channels" : "--res", gt_last_error());
        return GT_EXIT_USAGE;
    }
    r->on = true;
    gt_anycost_sub_text(&cfg.model, &r->sub, r->text, sizeof r->text);
    gt_anycost_sub full = gt_anycost_uniform(1.0f, 0);
    r->macs = gt_anycost_macs(&cfg.model, &r->sub), r->params = gt_anycost_params(&cfg.model, &r->sub);
    r->full_macs = gt_anycost_macs(&cfg.model, &full);
    return GT_EXIT_OK;
}

static gt_status gt__open_side(gt__side *s, int64_t n_flag, uint64_t seed, bool ema, bool skip_bad,
                               const gt__sub_req *sub, const char *items) {
    if (gt__is_ckpt(s->spec)) {
        s->src = gt__open_checkpoint(s->spec, n_flag > 0 ? n_flag : 10000, seed, ema, sub, items);
        return s->src ? GT_OK : gt_last_status();
    }
    gt_dataset_opts o = {.limit = n_flag > 0 ? n_flag : 0, .skip_bad = skip_bad};
    gt_status st = gt_eval_input_open(s->spec, &o, &s->src, &s->stats);
    if (!st && !s->src) s->have_stats = s->from_file = true;
    return st;
}

static bool gt__cacheable(const char *spec) {
    return strcmp(spec, "fashion-mnist") == 0 || strcmp(spec, "fashion-mnist:train") == 0 ||
           strcmp(spec, "fashion-mnist:test") == 0;
}

static cJSON *gt__side_json(const gt__side *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "input", s->spec);
    cJSON_AddStringToObject(o, "kind", s->from_file ? "statistics" : "images");
    if (s->n > 0) gt_json_add_number(o, "n", (double)s->n);
    if (s->from_cache) cJSON_AddBoolToObject(o, "cached_statistics", true);
    return o;
}

int gt_cmd_eval(int argc, char **argv) {
    const char *real = NULL, *fake = NULL, *metrics = "fid", *exname = "inception", *resize = "tf1";
    const char *weights = NULL, *json = NULL, *save_real = NULL, *save_fake = NULL;
    const char *ckpt = NULL, *channels = NULL, *device = NULL;
    int sub_res = 0;
    int64_t n = 0, batch = 0, kid_subset = 1000;
    int threads = 0, kid_subsets = 100, splits = 10, k_pr = 3, k_dc = 5;
    uint64_t seed = 0, rng_seed = 2020;
    bool ema = true, no_cache = false, quiet = false, skip_bad = false;
    gt_arg spec[] = {
        {"--real", GT_ARG_STR, &real, 0, 0, false, "SRC", "real images or their statistics (.npz mu/sigma)", false},
        {"--fake", GT_ARG_STR, &fake, 0, 0, false, "SRC", "generated images: a checkpoint (.safetensors), folder, "
         ".npy/.npz, dataset", false},
        {"--ckpt", GT_ARG_STR, &ckpt, 0, 0, false, "FILE", "a checkpoint to evaluate (= --fake FILE)", false},
        {"--channels", GT_ARG_STR, &channels, 0, 0, false, "R", "anycost checkpoint: the sub-generator's channel "
         "ratio (0.25, 0.5, 0.75, 1, or one per conv: 1,0.5,...)", false},
        {"--res", GT_ARG_INT, &sub_res, 8, 4096, false, "N", "anycost checkpoint: the sub-generator's resolution "
         "(a level 8..R; upsampled bilinearly to R for the extractor)", false},
        {"--metrics", GT_ARG_STR, &metrics, 0, 0, false, "LIST", "comma list of fid, kid, is, pr, dc, all (fid)",
         false},
        {"--extractor", GT_ARG_STR, &exname, 0, 0, false, "NAME", "inception (default), fmnist or pixels", false},
        {"--resize", GT_ARG_STR, &resize, 0, 0, false, "MODE", "tf1 (torch-fidelity, default), clean (clean-fid) or pytorch-fid",
         false},
        {"--inception", GT_ARG_STR, &weights, 0, 0, false, "FILE", "Inception-v3 weights (converted .safetensors)",
         false},
        {"--json", GT_ARG_STR, &json, 0, 0, false, "FILE", "also write the results as JSON", false},
        {"--n", GT_ARG_I64, &n, 1, 1e9, false, "N", "images per input (all; a checkpoint generates 10000)", false},
        {"--batch", GT_ARG_I64, &batch, 1, 4096, false, "B", "images per extractor call (the extractor's, 50)",
         false},
        {"--seed", GT_ARG_U64, &seed, 0, 0, false, "S", "latent seed for a checkpoint (0)", false},
        {"--rng-seed", GT_ARG_U64, &rng_seed, 0, 4294967295.0, false, "S", "IS shuffle / KID subsets seed (2020)",
         false},
        {"--kid-subsets", GT_ARG_INT, &kid_subsets, 1, 100000, false, "N", "KID subsets (100)", false},
        {"--kid-subset-size", GT_ARG_I64, &kid_subset, 2, 1e9, false, "M", "KID subset size (1000, at most n)", false},
        {"--is-splits", GT_ARG_INT, &splits, 1, 100000, false, "N", "Inception Score splits (10)", false},
        {"--pr-k", GT_ARG_INT, &k_pr, 1, 1000, false, "K", "precision/recall neighbourhood (3)", false},
        {"--dc-k", GT_ARG_INT, &k_dc, 1, 1000, false, "K", "density/coverage neighbourhood (5)", false},
        {"--save-real-stats", GT_ARG_STR, &save_real, 0, 0, false, "FILE", "write the real FID statistics (.npz)",
         false},
        {"--save-fake-stats", GT_ARG_STR, &save_fake, 0, 0, false, "FILE", "write the fake FID statistics (.npz)",
         false},
        {"--skip-bad-images", GT_ARG_TRUE, &skip_bad, 0, 0, false, NULL,
         "image folders: leave out files that cannot be decoded (counted) instead of stopping", false},
        {"--no-cache", GT_ARG_TRUE, &no_cache, 0, 0, false, NULL, "do not read or write cached real statistics", false},
        {"--no-ema", GT_ARG_FALSE, &ema, 0, 0, false, NULL, "a checkpoint's raw generator, not its EMA", false},
        {"--quiet", GT_ARG_TRUE, &quiet, 0, 0, false, NULL, "no progress output", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
        GT_CLI_DEVICE_FLAG(&device),
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    int rc = gt_args_parse("eval", spec, ns, argc, argv, 2,
                           "--fake SRC [--real SRC] [--metrics fid,kid,is,pr,dc] [flags]\n\n"
                           "SRC: fashion-mnist:train | fashion-mnist:test | a folder of PNG/JPEG | FILE.npy / "
                           "FILE.npz (uint8 images)\n     | FILE.npz (FID statistics mu, sigma) | "
                           "CHECKPOINT.safetensors (generates --n images)\n"
                           "An anycost checkpoint's sub-generator: --ckpt FILE --channels 0.5 --res 16");
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    unsigned want = gt__parse_metrics(metrics);
    if (!want) return GT_EXIT_USAGE;
    if (ckpt && fake) return gt_args_error("eval", "give --ckpt FILE or --fake SRC, not both");
    if (ckpt) fake = ckpt;
    if (!fake) return gt_args_error("eval", "--fake SRC (or --ckpt FILE) is required");
    if ((rc = gt_cli_device("eval", device, quiet)) != 0) return rc; /* before any tensor is made */
    gt__sub_req sub = {0};
    if (channels || sub_res) {
        if (!gt__is_ckpt(fake))
            return gt_args_error("eval", "--channels and --res take a checkpoint (--ckpt FILE), not '%s'", fake);
        int rs = gt__sub_request(fake, channels, sub_res, ema, &sub);
        if (rs) return rs;
    }
    if (!real && (want & ~(unsigned)M_IS)) return gt_args_error("eval", "--real SRC is required for fid, kid, pr, dc");
    int rmode = 0;
    gt_resize_mode rm;
    if (gt_resize_mode_parse(resize, &rm))
        return gt_args_error("eval", "--resize must be tf1, clean or pytorch-fid, got '%s'", resize);
    rmode = (int)rm;
    if (strcmp(exname, "inception") && strcmp(exname, "fmnist") && strcmp(exname, "pixels"))
        return gt_args_error("eval", "--extractor must be inception, fmnist or pixels, got '%s'", exname);
    /* under mpirun: one rank per slice of the images; rank 0 reports (gt__agree prints one failure) */
    const int rank = gt_dist_rank(), nranks = gt_dist_size();
    const bool lead = rank == 0;
    gt__threads(threads, quiet);
    /* output paths are checked before the work, so a typo costs nothing */
    const char *outs[][2] = {{"--json", json}, {"--save-real-stats", save_real}, {"--save-fake-stats", save_fake}};
    for (int i = 0; i < 3 && lead; i++)
        if (outs[i][1] && gt_check_writable(outs[i][1])) gt__defer(GT_EXIT_FAIL, outs[i][0]);
    double t_start = gt__now();

    gt__side R = {.label = "real", .spec = real}, F = {.label = "fake", .spec = fake};
    gt_extractor ex = {0};
    int status = gt__agree();
    if (!status) status = gt__same_args(argc, argv);
    const char *rkey = strcmp(exname, "inception") == 0 ? resize : "none";
    /* what each side needs: features (kid, pr, dc; is: logits of the fake) or just FID statistics */
    bool need_feats = want & (M_KID | M_PR | M_DC);
    gt__side *sides[2] = {&F, &R};
    for (int i = 0; i < 2 && !status; i++) {
        gt__side *s = sides[i];
        if (!s->spec) continue;
        if (gt__open_side(s, n, seed, ema, skip_bad, s == &F ? &sub : NULL, R.spec)) {
            char what[300];
            snprintf(what, sizeof what, "--%s %s", s->label, s->spec);
            gt__defer(GT_EXIT_FAIL, what);
            break;
        }
        if (s->from_file && (need_feats || (s == &F && (want & M_IS)))) {
            gt__deferf(GT_EXIT_USAGE, "--%s %s is a statistics file (mu, sigma): it serves FID only; kid, is, pr and "
                       "dc need images", s->label, s->spec);
            break;
        }
        if (s->src) s->n = gt_image_source_count(s->src);
        const char *first_bad = NULL;
        int64_t skipped = s->src ? gt_image_source_skipped(s->src, &first_bad) : 0;
        if (skipped && lead)
            fprintf(stderr, "gantry eval: --%s %s: skipped %lld unreadable image%s (the first: %s); using the other "
                    "%lld\n", s->label, s->spec, (long long)skipped, skipped == 1 ? "" : "s", first_bad,
                    (long long)s->n);
    }
    if (!status && !(status = gt__agree())) status = gt__same_inputs(&F, &R);
    /* cached real statistics: enough when the real side only feeds FID (rank 0 reads them) */
    if (!status && R.src && !no_cache && !need_feats && gt__cacheable(real) && strcmp(exname, "pixels") != 0) {
        /* the extractor's name (with its weights fingerprint) is part of the key: open it first */
        gt_extractor_opts eo = {.weights = weights, .resize = rmode};
        if (gt_extractor_open(exname, &eo, &ex)) gt__defer(GT_EXIT_FAIL, "the feature extractor");
        int64_t hit = lead && ex.extract && gt_stats_cache_load(real, ex.name, rkey, R.n, &R.stats) == GT_OK;
        if (gt_dist_bcast(&hit, sizeof hit, 0)) gt__defer(GT_EXIT_FAIL, "the cache's answer from rank 0");
        if (hit) {
            R.have_stats = R.from_cache = true;
            if (!quiet && lead)
                fprintf(stderr, "  real  statistics from the cache (%s, %lld images)\n", real, (long long)R.n);
        }
    }
    if (!status && !ex.extract && !gt__err_rc && (R.src || F.src)) {
        int c, h, w;
        gt_image_source_dims(F.src ? F.src : R.src, &c, &h, &w);
        gt_extractor_opts eo = {.weights = weights, .resize = rmode, .c = c, .h = h, .w = w};
        if (gt_extractor_open(exname, &eo, &ex)) gt__defer(GT_EXIT_FAIL, "the feature extractor");
    }
    if (batch > 0) ex.batch = batch;
    if (!status && (want & M_IS) && ex.extract && ex.logits_dim <= 0)
        gt__deferf(GT_EXIT_USAGE, "the Inception Score needs class logits, which the %s extractor does not have (use "
                   "--extractor inception)", ex.name);
    if (!status) status = gt__agree();
    const int64_t unit = ex.batch > 0 ? ex.batch : 50; /* slices of whole batches: the batches of one process */
    for (int i = 1; i >= 0 && !status; i--) { /* real first: its statistics may be reused from the cache next time */
        gt__side *s = sides[i];
        bool needed = need_feats || (want & M_FID) || (s == &F && (want & M_IS)) || (s == &R && save_real) ||
                      (s == &F && save_fake);
        if (!s->src || !needed || (s->have_stats && !need_feats)) continue;
        bool logits = s == &F && (want & M_IS);
        gt__progress p = {.label = s->label, .t0 = gt__now(), .tty = isatty(2), .last_decile = -1};
        int64_t start, count;
        gt_shard_range(s->n, unit, rank, nranks, &start, &count);
        char what[300];
        snprintf(what, sizeof what, "features of --%s %s", s->label, s->spec);
        if (count > 0 && gt_features_extract_range(&ex, s->src, start, count, logits, quiet || !lead ? NULL :
                                                   gt__progress_cb, &p, &s->fs))
            gt__defer(GT_EXIT_FAIL, what);
        if (count == 0) /* more ranks than batches: this one has none */
            s->fs = (gt_feature_set){.dim = ex.dim, .logits_dim = logits ? ex.logits_dim : 0};
        if ((status = gt__agree())) break;
        double took = gt__now() - p.t0; /* the agreement waited for the slowest rank */
        if (gt_dist_active() && lead && !quiet)
            fprintf(stderr, "  %-5s %lld images on %d ranks in %.2f s: %.1f img/s\n", s->label, (long long)s->n,
                    nranks, took, took > 0 ? (double)s->n / took : 0.0);
        if ((want & M_FID) || (s == &R && save_real) || (s == &F && save_fake)) {
            snprintf(what, sizeof what, "FID statistics of --%s %s", s->label, s->spec);
            if (gt_fid_stats_compute_dist(s->fs.feats, s->fs.n, s->fs.dim, &s->stats)) gt__defer(GT_EXIT_FAIL, what);
            if ((status = gt__agree())) break;
            s->have_stats = true;
            if (lead && s == &R && !no_cache && gt__cacheable(real) && strcmp(exname, "pixels") != 0 &&
                gt_stats_cache_store(real, ex.name, rkey, R.n, &R.stats) && !quiet)
                fprintf(stderr, "  (statistics not cached: %s)\n", gt_last_error());
        }
        if (need_feats || logits) { /* KID, PR, DC and IS need the features themselves: to rank 0 */
            snprintf(what, sizeof what, "gathering the features of --%s %s", s->label, s->spec);
            if (gt_feature_set_gather(&s->fs, s->n, unit, 0)) gt__defer(GT_EXIT_FAIL, what);
            if ((status = gt__agree())) break;
        }
    }
    if (status) goto done;
    if (!lead) goto agreed; /* the others wait for rank 0's report and its outcome */
    status = GT_EXIT_FAIL; /* until the report is out */
    if (save_real && R.have_stats && gt_fid_stats_save(save_real, &R.stats)) {
        gt__defer(GT_EXIT_FAIL, "--save-real-stats");
        goto agreed;
    }
    if (save_fake && F.have_stats && gt_fid_stats_save(save_fake, &F.stats)) {
        gt__defer(GT_EXIT_FAIL, "--save-fake-stats");
        goto agreed;
    }

    cJSON *res = cJSON_CreateObject();
    printf("gantry eval: fake %s (%lld) vs real %s (%lld); extractor %s%s%s\n",
           F.src ? gt_image_source_name(F.src) : fake, (long long)F.n, R.src ? gt_image_source_name(R.src) : "-",
           (long long)R.n, ex.extract ? ex.name : "-", strcmp(rkey, "none") ? ", resize " : "",
           strcmp(rkey, "none") ? rkey : "");
    /* the metrics suite, as `gantry train --eval-metrics` computes them */
    gt_metrics_opts mo = gt_metrics_default_opts();
    mo.kid.subsets = kid_subsets;
    mo.kid.subset_size = gt_args_find(spec, ns, "--kid-subset-size")->given ? kid_subset : 0;
    mo.kid.seed = (uint32_t)rng_seed;
    mo.is.splits = splits, mo.is.shuffle = true, mo.is.seed = (uint32_t)rng_seed;
    mo.prdc.k_pr = k_pr, mo.prdc.k_dc = k_dc;
    if (!quiet && (want & (M_PR | M_DC)))
        fprintf(stderr, "  nearest neighbours of %lld real and %lld fake samples...\n", (long long)R.fs.n,
                (long long)F.fs.n);
    gt_metrics_result mr;
    cJSON *anyj = NULL; /* the sub-generator's description, for --json */
    bool ok = gt_metrics_compute(want, &mo, &R.stats, &R.fs, &F.stats, &F.fs, &mr) == GT_OK;
    if (ok && sub.on) {
        printf("  sub-generator    %s: %lld MACs per image (%.3f of the full %lld), %lld parameters\n", sub.text,
               (long long)sub.macs, sub.full_macs > 0 ? (double)sub.macs / (double)sub.full_macs : 0.0,
               (long long)sub.full_macs, (long long)sub.params);
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "sub", sub.text);
        gt_json_add_number(a, "macs", (double)sub.macs);
        gt_json_add_number(a, "full_macs", (double)sub.full_macs);
        gt_json_add_number(a, "params", (double)sub.params);
        anyj = a;
    }
    if (ok && (want & M_FID)) {
        printf("  FID              %.6f\n", mr.fid);
        gt_json_add_number(res, "frechet_inception_distance", mr.fid);
    }
    if (ok && (want & M_KID)) {
        int64_t mm = mo.kid.subset_size ? mo.kid.subset_size : (F.fs.n < R.fs.n ? F.fs.n : R.fs.n);
        mm = mm > 1000 && !mo.kid.subset_size ? 1000 : mm;
        printf("  KID              %.8f +- %.8f  (%d subsets of %lld)\n", mr.kid, mr.kid_std, mo.kid.subsets,
               (long long)mm);
        gt_json_add_number(res, "kernel_inception_distance_mean", mr.kid);
        gt_json_add_number(res, "kernel_inception_distance_std", mr.kid_std);
    }
    if (ok && (want & M_IS)) {
        printf("  IS               %.6f +- %.6f  (%d splits)\n", mr.is, mr.is_std, splits);
        gt_json_add_number(res, "inception_score_mean", mr.is);
        gt_json_add_number(res, "inception_score_std", mr.is_std);
    }
    if (ok && (want & M_PR)) {
        printf("  precision        %.6f  (k = %d)\n  recall           %.6f\n  f_score          %.6f\n", mr.precision,
               k_pr, mr.recall, mr.f_score);
        gt_json_add_number(res, "precision", mr.precision);
        gt_json_add_number(res, "recall", mr.recall);
        gt_json_add_number(res, "f_score", mr.f_score);
    }
    if (ok && (want & M_DC)) {
        printf("  density          %.6f  (k = %d)\n  coverage         %.6f\n", mr.density, k_dc, mr.coverage);
        gt_json_add_number(res, "density", mr.density);
        gt_json_add_number(res, "coverage", mr.coverage);
    }
    if (!ok) {
        cJSON_Delete(anyj);
        cJSON_Delete(res);
        gt__defer(GT_EXIT_FAIL, NULL);
        goto agreed;
    }
    double took = gt__now() - t_start;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "metrics", res);
        cJSON_AddItemToObject(root, "fake", gt__side_json(&F));
        if (real) cJSON_AddItemToObject(root, "real", gt__side_json(&R));
        if (ex.extract) cJSON_AddStringToObject(root, "extractor", ex.name);
        if (anyj) cJSON_AddItemToObject(root, "anycost", anyj), anyj = NULL;
        cJSON_AddStringToObject(root, "resize", rkey);
        gt_json_add_number(root, "time_s", took);
        char *text = cJSON_Print(root);
        cJSON_Delete(root);
        gt_status st = text ? gt_write_file_atomic(json, text, strlen(text)) : GT_ERR_OOM;
        free(text);
        if (st) {
            gt__defer(GT_EXIT_FAIL, "--json");
            goto agreed;
        }
    } else {
        cJSON_Delete(res);
    }
    cJSON_Delete(anyj);
    if (!quiet) fprintf(stderr, "  done in %.1f s\n", took);
agreed:
    status = gt__agree(); /* rank 0's outcome is every rank's */
done:
    if (status && gt_dist_active() && !gt__broken) gt_dist_finalize(); /* all agreed to stop: leave cleanly */
    for (int i = 0; i < 2; i++) {
        gt_image_source_free(sides[i]->src);
        gt_fid_stats_free(&sides[i]->stats);
        gt_feature_set_free(&sides[i]->fs);
    }
    gt_extractor_free(&ex);
    return status;
}
