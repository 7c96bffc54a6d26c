/* gantry prune: a generator's channels pruned by importance (L1 of the producer's slice or |BN
 * scale|) to a keep ratio, to given per-group widths, or to the best widths a search finds under a
 * MAC budget (FID on held-out images); written as a training checkpoint of the smaller config,
 * optionally fine-tuned by distillation from the original (gantry/distill.h). */
#include <math.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/distill.h"
#include "gantry/prune.h"

#define GT__RECAL_SEED 0x5EEDull /* as `gantry sample` */

static int gt__fail(const char *what) {
    fprintf(stderr, "gantry prune: %s%s%s\n", what ? what : "", what ? ": " : "", gt_last_error());
    return GT_EXIT_FAIL;
}

static void gt__widths_text(const gt_channel_group *g, int n, const int *w, char *buf, size_t len) {
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%s=%d", i ? "," : "", g[i].opt_key, w[i]);
}

typedef struct {
    gt_prune_fid *fid;         /* opened at the first candidate (a budget below all reads no images) */
    int64_t n_img, n_real;
    uint64_t seed;
    bool quiet;
    const gt_channel_group *g;
    int n_groups;
} gt__search_ctx;

static void gt__progress(const gt_prune_candidate *c, int done, int total, void *user) {
    const gt__search_ctx *s = user;
    if (s->quiet) return;
    char w[512];
    gt__widths_text(s->g, s->n_groups, c->widths, w, sizeof w);
    fprintf(stderr, "  candidate %d/%d  %-40s  MACs %lld  FID %.2f\n", done, total, w, (long long)c->macs, c->score);
}

static gt_status gt__score(void *user, gt_net *G, double *score) {
    gt__search_ctx *s = user;
    if (!s->fid) {
        const gt_model_entry *e = gt_model_find(G->cfg.name);
        const bool tr = e && e->translator;
        if (!s->quiet)
            fprintf(stderr, "gantry prune: held-out set: Fashion-MNIST test items 0..%lld (fmnist extractor)%s\n",
                    (long long)s->n_real - 1, tr ? ", translated from their edges" : "");
        s->fid = gt_prune_fid_open("fashion-mnist:test", s->n_real, s->n_img, s->seed);
        if (!s->fid) {
            char msg[600];
            snprintf(msg, sizeof msg, "%s", gt_last_error());
            return gt_set_error(gt_last_status() ? gt_last_status() : GT_ERR_IO, "the held-out set: %s", msg);
        }
    }
    return gt_prune_fid_score(s->fid, G, score);
}

int gt_cmd_prune(int argc, char **argv) {
    const char *ckpt = NULL, *out = NULL, *widths_s = NULL, *imp_s = "auto", *ft_out = NULL;
    double keep = 0, budget = 0;
    int64_t search_n = 1000, search_real = 5000, finetune = 0;
    int search_max = 64, top = 10, threads = 0;
    uint64_t search_seed = 0;
    bool ema = true, quiet = false;
    gt_arg spec[] = {
        {"--ckpt", GT_ARG_STR, &ckpt, 0, 0, false, "FILE", "the generator's training checkpoint", false},
        {"--keep", GT_ARG_DOUBLE, &keep, 0, 1, true, "R", "keep round(R * size) channels (>= 1) of every group", false},
        {"--widths", GT_ARG_STR, &widths_s, 0, 0, false, "K=N,...",
         "the width of each listed group (its option: gw0=96,gw1=40); the others keep theirs", false},
        {"--budget", GT_ARG_DOUBLE, &budget, 0, 1e18, true, "B",
         "search the widths under B MACs (B <= 1: a fraction of the teacher's) for the best FID", false},
        {"--importance", GT_ARG_STR, &imp_s, 0, 0, false, "l1|bn|first|auto",
         "channel importance: L1 norm of the producer's slice, |batch-norm scale|, the channels' order (first: a "
         "supernet's), or auto (default): first for a supernet (gantry distill --ofa), else bn when every group has "
         "a batch norm, else l1", false},
        {"--out", GT_ARG_STR, &out, 0, 0, false, "FILE", "the pruned training checkpoint (.safetensors)", false},
        {"--search-n", GT_ARG_I64, &search_n, 2, 100000, false, "N", "images per candidate's FID (1000)", false},
        {"--search-real", GT_ARG_I64, &search_real, 2, 10000, false, "N",
         "held-out images: Fashion-MNIST test items 0..N-1 (5000)", false},
        {"--search-max", GT_ARG_INT, &search_max, 1, 100000, false, "N",
         "candidates scored at most; more feasible ones: an evolutionary search (64)", false},
        {"--search-seed", GT_ARG_U64, &search_seed, 0, 0, false, "S", "latents of the FID and the search's draws (0)",
         false},
        {"--top", GT_ARG_INT, &top, 1, 100000, false, "K", "ranked candidates printed (10)", false},
        {"--finetune", GT_ARG_I64, &finetune, 1, 100000000, false, "STEPS",
         "then distill the pruned student from the original for STEPS steps (gantry distill)", false},
        {"--finetune-out", GT_ARG_STR, &ft_out, 0, 0, false, "DIR", "the fine-tuning's run folder", false},
        {"--ema", GT_ARG_TRUE, &ema, 0, 0, false, NULL, "prune the EMA generator when the checkpoint has one (default)",
         false},
        {"--no-ema", GT_ARG_FALSE, &ema, 0, 0, false, NULL, "prune the raw generator", false},
        {"--quiet", GT_ARG_TRUE, &quiet, 0, 0, false, NULL, "no progress lines", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
    };
    const int ns = (int)(sizeof spec / sizeof spec[0]);
    int rc = gt_args_parse("prune", spec, ns, argc, argv, 2,
                           "--ckpt FILE (--keep R | --widths gw0=N,... | --budget B) --out FILE [flags]\n\n"
                           "Channel pruning of a generator whose family lists channel groups (dcgan, pix2pix): each "
                           "group keeps its most important channels in their order. --budget scores candidates by FID "
                           "(fmnist extractor) against Fashion-MNIST test items 0..N-1 (a held-out set); an image "
                           "translator's by the FID of its translations of test items 0..N-1 (N = --search-n).");
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    if (!ckpt) return gt_args_error("prune", "--ckpt FILE is required");
    if (!out) return gt_args_error("prune", "--out FILE is required");
    const bool has_keep = gt_args_find(spec, ns, "--keep")->given;
    const bool has_budget = gt_args_find(spec, ns, "--budget")->given;
    if ((int)has_keep + (int)(widths_s != NULL) + (int)has_budget != 1)
        return gt_args_error("prune", "give exactly one of --keep R, --widths K=N,... and --budget B");
    const bool imp_auto = !strcmp(imp_s, "auto");
    int imp = imp_auto ? GT_IMPORTANCE_BN : gt_importance_parse(imp_s);
    if (imp < 0) return gt_args_error("prune", "--importance must be l1, bn, first or auto, got '%s'", imp_s);
    if (!has_budget) {
        static const char *const sflags[] = {"--search-n", "--search-real", "--search-max", "--search-seed", "--top"};
        for (int i = 0; i < 5; i++)
            if (gt_args_find(spec, ns, sflags[i])->given)
                return gt_args_error("prune", "%s goes with --budget", sflags[i]);
    }
    if ((finetune > 0) != (ft_out != NULL))
        return gt_args_error("prune", "--finetune STEPS and --finetune-out DIR go together");
    if (gt_check_writable(out)) return gt__fail("--out");
    if (threads > 0) gt_set_num_threads(threads);

    gt_net T;
    gt_train_config cfg;
    bool used_ema = false;
    if (gt_load_generator(ckpt, ema, &T, &cfg, &used_ema) != GT_OK) return gt__fail(ckpt);
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    const int n = gt_prune_groups(&T, g, GT_PRUNE_GROUPS_MAX);
    if (n < 0) {
        fprintf(stderr, "gantry prune: %s: %s\n", ckpt, gt_last_error());
        gt_net_free(&T);
        return GT_EXIT_FAIL;
    }
    char sn_teacher[GT_PATH_MAX];
    const bool is_sn = gt_distill_is_supernet(ckpt, sn_teacher, sizeof sn_teacher);
    const bool supernet = imp_auto && is_sn; /* trained so that its first k channels work on their own */
    if (supernet) imp = GT_IMPORTANCE_FIRST;
    for (int i = 0; imp_auto && !supernet && i < n; i++)
        if (!g[i].bn_weight[0]) imp = GT_IMPORTANCE_L1; /* a group without BN: its producer's L1 for all */
    int status = GT_EXIT_OK, w[GT_PRUNE_GROUPS_MAX];
    gt_prog p;
    int64_t t_macs = 0, t_params = 0;
    if (gt_prog_from_net(&T, &p) != GT_OK) {
        status = gt__fail(ckpt);
        goto done;
    }
    t_macs = gt_prog_macs(&p), t_params = gt_prog_params(&p);
    gt_prog_free(&p);
    if (has_keep && gt_prune_keep_widths(g, n, keep, w) != GT_OK) {
        status = gt_args_error("prune", "--keep: %s", gt_last_error());
        goto done;
    }
    if (widths_s && gt_prune_parse_widths(g, n, widths_s, w) != GT_OK) {
        status = gt_args_error("prune", "--%s", gt_last_error()); /* "widths: ..." */
        goto done;
    }
    if (has_budget) {
        const gt_model_entry *e = gt_model_find(cfg.model.name);
        const bool tr = e && e->translator;
        if (tr) search_real = search_n; /* a translator: FID of the translations of test items 0..N-1 vs them */
        gt__search_ctx sc = {.n_img = search_n, .n_real = search_real, .seed = search_seed, .quiet = quiet, .g = g,
                             .n_groups = n};
        gt_prune_search_opts o;
        gt_prune_search_opts_default(&o);
        o.budget = budget, o.max_evals = search_max, o.seed = search_seed, o.importance = (gt_importance)imp;
        o.score = gt__score, o.user = &sc, o.progress = gt__progress;
        gt_prune_search_result r;
        gt_status st = gt_prune_search(&T, &o, &r);
        gt_prune_fid_free(sc.fid);
        if (st != GT_OK) {
            if (st == GT_ERR_ARG && strstr(gt_last_error(), "smallest feasible"))
                status = gt_args_error("prune", "--budget: %s", gt_last_error());
            else
                status = gt__fail("search");
            goto done;
        }
        printf("search: %lld MACs allowed (%.4g of %lld); %s; %d candidate%s scored (%s), FID of %lld images vs "
               "Fashion-MNIST test 0..%lld\n",
               (long long)r.budget_macs, (double)r.budget_macs / (double)r.teacher_macs, (long long)r.teacher_macs,
               r.grid > 0 ? "grid of fractions 1/8..1 per group" : "a grid too large to count", r.n,
               r.n == 1 ? "" : "s", r.exhaustive ? "every feasible one" : "evolutionary", (long long)search_n,
               (long long)search_real - 1);
        printf("%4s  %-40s %12s %7s %10s %9s\n", "rank", "widths", "MACs", "x fewer", "params", "FID");
        for (int k = 0; k < r.n && k < top; k++) {
            char wt[512];
            gt__widths_text(g, n, r.c[k].widths, wt, sizeof wt);
            printf("%4d  %-40s %12lld %7.2f %10lld %9.3f\n", k + 1, wt, (long long)r.c[k].macs,
                   (double)t_macs / (double)r.c[k].macs, (long long)r.c[k].params, r.c[k].score);
        }
        for (int i = 0; i < n; i++) w[i] = r.c[0].widths[i];
        gt_prune_search_result_free(&r);
    }
    gt_net S;
    if (gt_prune(&T, w, (gt_importance)imp, &S) != GT_OK) {
        status = gt_last_status() == GT_ERR_ARG ? gt_args_error("prune", "%s", gt_last_error()) : gt__fail(NULL);
        goto done;
    }
    const gt_model_entry *fam = gt_model_find(S.cfg.name);
    /* the kept channels see other inputs than in the teacher: their BN statistics recalibrated */
    gt_status st = fam && !fam->translator ? gt_recalibrate_bn(&S, GT__RECAL_SEED, 8, 64) : GT_OK;
    int64_t s_macs = 0, s_params = 0;
    if (st == GT_OK && (st = gt_prog_from_net(&S, &p)) == GT_OK) {
        s_macs = gt_prog_macs(&p), s_params = gt_prog_params(&p);
        gt_prog_free(&p);
    }
    if (st == GT_OK) st = gt_prune_write_checkpoint(ckpt, &S, out);
    gt_net_free(&S);
    if (st != GT_OK) {
        status = gt__fail(NULL);
        goto done;
    }
    printf("pruned %s (%s generator, importance %s%s):\n", ckpt, used_ema ? "EMA" : "raw", gt_importance_name(imp),
           supernet ? ", auto: a once-for-all supernet" : imp_auto ? ", auto" : "");
    printf("  %-10s %6s -> %s\n", "group", "size", "kept");
    for (int i = 0; i < n; i++) printf("  %-10s %6d -> %d\n", g[i].opt_key, g[i].size, w[i]);
    printf("  MACs    %lld -> %lld (%.2fx fewer)\n", (long long)t_macs, (long long)s_macs,
           (double)t_macs / (double)s_macs);
    printf("  params  %lld -> %lld (%.2fx fewer)\n", (long long)t_params, (long long)s_params,
           (double)t_params / (double)s_params);
    printf("wrote %s (a training checkpoint; %s)\n", out,
           fam && !fam->translator ? "BN statistics recalibrated" : "a translator: norm statistics as pruned");
    if (finetune > 0) {
        gt_distill_opts d;
        gt_distill_opts_default(&d);
        /* a supernet's sub-network learns from the supernet's own teacher, as GAN Compression fine-tunes */
        const char *teacher = is_sn && sn_teacher[0] ? sn_teacher : ckpt;
        d.teacher = teacher, d.init = out, d.out_dir = ft_out, d.steps = finetune, d.quiet = quiet;
        fflush(stdout); /* the table before the distillation's progress */
        if (gt_distill_run(&d) != GT_OK) {
            status = gt__fail("--finetune");
            goto done;
        }
        printf("fine-tuned %lld steps by distillation from %s -> %s/last.safetensors\n", (long long)finetune, teacher,
               ft_out);
    }
done:
    gt_net_free(&T);
    return status;
}
