/* gantry sample: images from a checkpoint's generator - a grid (--out), one
 * PNG each (--outdir), truncated latents, an interpolation strip (--interp);
 * for an anycost checkpoint a sub-generator's images (--channels, --res). */
#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/sampling.h"
#include "gantry/translate.h"

#define GT__RECAL_SEED 0x5EEDull /* the trainer's: samples/last.png == `sample --seed <train seed>` */

/* "A,B" -> two seeds. */
static bool gt__parse_pair(const char *s, uint64_t *a, uint64_t *b) {
    char *end = NULL;
    if (!s || s[0] < '0' || s[0] > '9') return false;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end != ',' || end[1] < '0' || end[1] > '9') return false;
    unsigned long long y = strtoull(end + 1, &end, 10);
    if (errno || *end) return false;
    *a = x, *b = y;
    return true;
}

static int gt__fail(const char *what) {
    fprintf(stderr, "gantry sample: %s%s%s\n", what ? what : "", what ? ": " : "", gt_last_error());
    return GT_EXIT_FAIL;
}

/* x as a grid (nrow per row, padding px), each pixel scale x scale (gantry/sampling.h). */
static gt_status gt__save(const char *path, gt_tensor *x, int nrow, int padding, int scale) {
    gt_image g = {0};
    gt_status st = gt_grid_image(x, nrow, padding, scale, &g);
    if (st == GT_OK) st = gt_png_write(path, g.data, g.w, g.h, g.c);
    gt_image_free(&g);
    return st;
}

/* One PNG per image: DIR/000000.png ... */
static gt_status gt__write_each(const char *dir, gt_tensor *x, int scale) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return gt_set_error(GT_ERR_IO, "cannot create folder %s: %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return gt_set_error(GT_ERR_IO, "%s is not a folder", dir);
    gt_status st = GT_OK;
    for (int64_t i = 0; i < x->shape[0] && st == GT_OK; i++) {
        int m = gt_scope_begin();
        char p[4096];
        snprintf(p, sizeof p, "%s/%06lld.png", dir, (long long)i);
        st = gt__save(p, gt_slice(x, 0, i, i + 1, 1), 1, 0, scale);
        gt_scope_end(m);
    }
    return st;
}

/* --code cat=K,c0=V,...: InfoGAN's codes written into every latent (its layout: noise | one-hot
 * category | continuous codes). 0 or a usage error. */
static int gt__set_codes(const gt_model_config *c, gt_tensor *z, const char *spec) {
    double n_cat = gt_model_opt(c, "n_cat"), n_cont = gt_model_opt(c, "n_cont");
    if (isnan(n_cat) || isnan(n_cont))
        return gt_args_error("sample", "--code: model %s has no latent codes (InfoGAN has)", c->name);
    const int nn = c->nz - (int)n_cat - (int)n_cont, nz = c->nz;
    char item[64];
    for (const char *p = spec; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= sizeof item) return gt_args_error("sample", "--code: '%.30s...' is too long", p);
        memcpy(item, p, len);
        item[len] = '\0';
        p += len + (e ? 1 : 0);
        char *eq = strchr(item, '='), *end = NULL;
        double v = eq ? strtod(eq + 1, &end) : NAN;
        if (!eq || !end || *end || eq[1] == '\0' || !isfinite(v))
            return gt_args_error("sample", "--code takes cat=K and cN=V items, got '%s'", item);
        *eq = '\0';
        float *d = gt_data(z);
        if (!strcmp(item, "cat")) {
            if (v != floor(v) || v < 0 || v >= n_cat)
                return gt_args_error("sample", "--code cat must be in 0..%d, got %g", (int)n_cat - 1, v);
            for (int64_t i = 0; i < z->shape[0]; i++)
                for (int j = 0; j < (int)n_cat; j++) d[i * nz + nn + j] = j == (int)v ? 1.0f : 0.0f;
        } else if (item[0] == 'c' && item[1] >= '0' && item[1] <= '9') {
            int k = atoi(item + 1);
            if (k >= (int)n_cont || !(v >= -1 && v <= 1))
                return gt_args_error("sample", "--code %s: the model has continuous codes c0..c%d, each in [-1, 1]",
                                     item, (int)n_cont - 1);
            for (int64_t i = 0; i < z->shape[0]; i++) d[i * nz + nn + (int)n_cat + k] = (float)v;
        } else {
            return gt_args_error("sample", "--code: unknown code '%s' (cat, c0, c1, ...)", item);
        }
    }
    return 0;
}

/* An anycost sub-generator's images for z (no graph, the fixed noise: deterministic), 64 at a time. */
static gt_tensor *gt__sub_generate(gt_net *G, gt_tensor *z, const gt_anycost_sub *sub) {
    const int64_t n = z->shape[0], r = sub->res ? sub->res : G->cfg.res, per = (int64_t)G->cfg.channels * r * r;
    gt_tensor *out = gt_empty(GT_SHAPE(n, G->cfg.channels, r, r));
    if (!out) return NULL;
    bool prev = gt_no_grad_begin(), ok = true;
    for (int64_t s = 0; s < n && ok; s += 64) {
        int m = gt_scope_begin();
        gt_tensor *x = gt_anycost_generate(G, gt_contiguous(gt_slice(z, 0, s, s + 64 < n ? s + 64 : n, 1)), sub, NULL);
        ok = x && gt_copy_to(x, gt_data(out) + s * per) == GT_OK;
        gt_scope_end(m);
    }
    gt_grad_mode_restore(prev);
    return ok ? out : NULL;
}

/* A translator: the first n items of spec, their inputs A (paired data's A, else their edges) and G's
 * translations, as a (3n) batch of triplets A | translation | truth (grid), or the translations alone
 * (one PNG each). */
static gt_tensor *gt__translate_items(gt_net *G, const char *spec, int n, bool triplets) {
    gt_tensor *a, *b;
    if (gt_translate_pair_open(spec, n, G->cfg.res, G->cfg.channels, "--n", &a, &b) != GT_OK) return NULL;
    gt_tensor *y = gt_translate(G, a);
    if (!y || !triplets) return y;
    gt_tensor *parts[3] = {gt_unsqueeze(a, 1), gt_unsqueeze(y, 1), gt_unsqueeze(b, 1)}; /* (n, 1, C, H, W) */
    gt_tensor *t = gt_concat(3, parts, 1);
    return t ? gt_reshape(t, GT_SHAPE(3 * (int64_t)n, G->cfg.channels, G->cfg.res, G->cfg.res)) : NULL;
}

int gt_cmd_sample(int argc, char **argv) {
    const char *ckpt = NULL, *out = NULL, *outdir = NULL, *interp = NULL, *code = NULL, *channels = NULL;
    const char *items = "fashion-mnist:test", *device = NULL;
    int n = 64, nrow = 0, threads = 0, scale = 1, klass = -1, res = 0;
    uint64_t seed = 0;
    double trunc = 0;
    bool ema = true;
    gt_arg spec[] = {
        {"--ckpt", GT_ARG_STR, &ckpt, 0, 0, false, "FILE", "a training checkpoint (runs/NAME/last.safetensors)", false},
        {"--n", GT_ARG_INT, &n, 1, 4096, false, "N", "images (64), or frames of an --interp strip (10)", false},
        {"--out", GT_ARG_STR, &out, 0, 0, false, "FILE.png", "write one grid PNG", false},
        {"--outdir", GT_ARG_STR, &outdir, 0, 0, false, "DIR", "write one PNG per image (DIR/000000.png ...)", false},
        {"--seed", GT_ARG_U64, &seed, 0, 0, false, "S", "latent seed (0; the run's seed gives its sample grid)", false},
        {"--truncation", GT_ARG_DOUBLE, &trunc, 0, 100, false, "T", "redraw latents with |z| > T (0 = off)", false},
        {"--interp", GT_ARG_STR, &interp, 0, 0, false, "A,B",
         "interpolation strip between the latents of seeds A and B", false},
        {"--nrow", GT_ARG_INT, &nrow, 0, 4096, false, "N", "images per grid row (0 = square)", false},
        {"--scale", GT_ARG_INT, &scale, 1, 16, false, "K", "draw each pixel K x K (1)", false},
        {"--ema", GT_ARG_TRUE, &ema, 0, 0, false, NULL, "use the EMA generator when the checkpoint has one (default)",
         false},
        {"--no-ema", GT_ARG_FALSE, &ema, 0, 0, false, NULL, "use the raw generator", false},
        {"--class", GT_ARG_INT, &klass, 0, 100000, false, "K",
         "conditional models: every image of class K (default: the classes in turn)", false},
        {"--code", GT_ARG_STR, &code, 0, 0, false, "cat=K,c0=V,...",
         "InfoGAN: fix the categorical code to K and continuous code i to V (in [-1, 1]) in every image", false},
        {"--channels", GT_ARG_STR, &channels, 0, 0, false, "R|R,R,...",
         "anycost: the sub-generator's channel ratio (0.25, 0.5, 0.75, 1), one for all convs or one per conv", false},
        {"--res", GT_ARG_INT, &res, 1, 4096, false, "PX",
         "anycost: the sub-generator's resolution (one of the model's levels 8..res)", false},
        {"--items", GT_ARG_STR, &items, 0, 0, false, "SRC",
         "translators: the items translated, the first --n: their A (paired:DIR) or edges (fashion-mnist:test; "
         "the training data when it was paired)", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
        GT_CLI_DEVICE_FLAG(&device),
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    int rc = gt_args_parse("sample", spec, ns, argc, argv, 2, "--ckpt FILE (--out FILE.png | --outdir DIR) [flags]");
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    if (!ckpt) return gt_args_error("sample", "--ckpt FILE is required");
    if (!out && !outdir) return gt_args_error("sample", "give --out FILE.png (a grid) or --outdir DIR (one PNG each)");
    if (out && outdir) return gt_args_error("sample", "give --out or --outdir, not both");
    if (trunc > 0 && trunc < 0.05)
        return gt_args_error("sample", "--truncation must be 0 (off) or >= 0.05, got %g", trunc);
    uint64_t sa = 0, sb = 0;
    if (interp && !gt__parse_pair(interp, &sa, &sb))
        return gt_args_error("sample", "--interp must be two seeds A,B (e.g. 3,17), got '%s'", interp);
    if (interp && !gt_args_find(spec, ns, "--n")->given) n = 10;
    if (interp && n < 2) return gt_args_error("sample", "--interp needs --n >= 2 frames");
    if ((rc = gt_cli_device("sample", device, true)) != 0) return rc; /* before any tensor is made */
    if (out && gt_check_writable(out)) return gt__fail("--out");
    if (threads > 0) gt_set_num_threads(threads);

    gt_net G;
    gt_train_config cfg;
    bool used_ema = false;
    if (gt_load_generator(ckpt, ema, &G, &cfg, &used_ema) != GT_OK) return gt__fail(NULL);
    if (klass >= 0 && (cfg.model.n_classes == 0 || klass >= cfg.model.n_classes)) {
        if (cfg.model.n_classes == 0)
            gt_args_error("sample", "--class: model %s in %s is unconditional (it has no classes)", cfg.model.name, ckpt);
        else
            gt_args_error("sample", "--class must be in 0..%d for this model, got %d", cfg.model.n_classes - 1, klass);
        gt_net_free(&G);
        return GT_EXIT_USAGE;
    }
    const gt_model_entry *fam = gt_model_find(cfg.model.name);
    if (fam && fam->translator) { /* a grid of triplets edges | translation | truth, or the translations */
        if (interp || code || klass >= 0 || trunc > 0 || channels || res) {
            gt_args_error("sample", "model %s translates images (--items): --interp, --code, --class, "
                          "--truncation, --channels and --res do not apply", cfg.model.name);
            gt_net_free(&G);
            return GT_EXIT_USAGE;
        }
        if (!gt_args_find(spec, ns, "--items")->given && gt_dataset_spec_is_paired(cfg.data))
            items = cfg.data; /* trained on paired data: its own pairs */
        const bool paired = gt_dataset_spec_is_paired(items);
        int m = gt_scope_begin();
        gt_tensor *x = gt__translate_items(&G, items, n, out != NULL);
        int k = 1; /* triplets per grid row: about as many rows as columns */
        while (3 * k * k < n) k++;
        gt_status st = !x ? gt_last_status() : out ? gt__save(out, x, nrow ? nrow : 3 * k, 2, scale)
                                                   : gt__write_each(outdir, x, scale);
        int status = st == GT_OK ? GT_EXIT_OK : gt__fail("translating");
        if (st == GT_OK)
            printf("translations: %d item%s of %s (%s | %s %s translation | item%s) -> %s\n", n, n == 1 ? "" : "s",
                   items, paired ? "A" : "edges", cfg.model.name, used_ema ? "EMA" : "raw",
                   out ? "" : "; the translations only", out ? out : outdir);
        gt_scope_end(m);
        gt_net_free(&G);
        return status;
    }
    const bool want_sub = channels || res;
    gt_anycost_sub sub;
    char subtxt[160] = "";
    if (want_sub) {
        if (!gt_anycost_is(&G)) {
            fprintf(stderr, "gantry sample: --channels and --res need an anycost checkpoint; %s holds a %s model\n",
                    ckpt, cfg.model.name);
            gt_net_free(&G);
            return GT_EXIT_FAIL;
        }
        if (gt_anycost_sub_parse(&cfg.model, channels, res, &sub) != GT_OK) {
            gt_args_error("sample", "%s", gt_last_error());
            gt_net_free(&G);
            return GT_EXIT_USAGE;
        }
        gt_anycost_sub_text(&cfg.model, &sub, subtxt, sizeof subtxt);
    }
    int status = GT_EXIT_OK;
    int m = gt_scope_begin();
    gt_tensor *z = gt_sample_z(&cfg.model, interp ? sa : seed, sb, interp != NULL, n, (float)trunc);
    if (interp && !nrow) nrow = n;
    gt_tensor *x = NULL;
    if (z && code && gt__set_codes(&cfg.model, z, code) != 0) {
        gt_scope_end(m);
        gt_net_free(&G);
        return GT_EXIT_USAGE;
    }
    if (z && want_sub) x = gt__sub_generate(&G, z, &sub);
    else if (z && gt_recalibrate_bn(&G, GT__RECAL_SEED, 8, 64) == GT_OK)
        x = gt_sample_generate(&G, &cfg.model, z, klass);
    if (!x) {
        status = gt__fail("generating");
    } else {
        if (!nrow) {
            nrow = 1;
            while (nrow * nrow < n) nrow++;
        }
        gt_status st = out ? gt__save(out, x, nrow, 2, scale) : gt__write_each(outdir, x, scale);
        if (st != GT_OK) status = gt__fail(NULL);
        else
            printf("%s: %d image%s from %s (%s %s generator%s%s) -> %s\n", interp ? "interpolation" : "samples", n,
                   n == 1 ? "" : "s", ckpt, cfg.model.name, used_ema ? "EMA" : "raw",
                   want_sub ? ", sub-generator " : "", subtxt, out ? out : outdir);
    }
    gt_scope_end(m);
    gt_net_free(&G);
    return status;
}
