/* gantry distill: a student generator (a training config, or a pruned checkpoint) taught by a
 * trained teacher's checkpoint (gantry/distill.h). Every flag and file is checked before anything
 * is written; the run folder is a `gantry train` one of the student. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/compress.h"
#include "gantry/distill.h"

/* The library's messages start with the option they blame ("w_dcd: ..."): the flag's name instead. */
static int gt__usage_from_error(void) {
    static const struct {
        const char *key, *flag;
    } map[] = {{"teacher", "--teacher"}, {"student", "--student"}, {"init", "--init"},   {"layers", "--layers"},
               {"w_feat", "--w-feat"},   {"w_recon", "--w-recon"}, {"w_gan", "--w-gan"}, {"w_dcd", "--w-dcd"},
               {"w_crd", "--crd"},       {"steps", "--steps"},     {"batch", "--batch"}, {"out", "--out"},
               {"anneal", "--anneal"}, {"ofa", "--ofa"}};
    const char *msg = gt_last_error();
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        size_t n = strlen(map[i].key);
        if (strncmp(msg, map[i].key, n) == 0 && msg[n] == ':')
            return gt_args_error("distill", "%s%s", map[i].flag, msg + n);
    }
    return gt_args_error("distill", "%s", msg);
}

/* Multiply-accumulates per image of a checkpoint's generator (-1 when it cannot be lowered). */
static int64_t gt__macs(const char *ckpt) {
    gt_net G;
    if (gt_load_generator(ckpt, true, &G, NULL, NULL) != GT_OK) return -1;
    gt_prog p;
    int64_t m = gt_prog_from_net(&G, &p) == GT_OK ? gt_prog_macs(&p) : -1;
    gt_prog_free(&p);
    gt_net_free(&G);
    return m;
}

int gt_cmd_distill(int argc, char **argv) {
    gt_distill_opts o;
    gt_distill_opts_default(&o);
    const char *teacher = NULL, *student = NULL, *init = NULL, *out = NULL, *layers = NULL, *data = NULL;
    int64_t steps = 0, log_every = 0;
    int batch = 0, threads = 0;
    uint64_t seed = 0;
    bool quiet = false, resume = false;
    gt_arg spec[] = {
        {"--teacher", GT_ARG_STR, &teacher, 0, 0, false, "CKPT", "the teacher's training checkpoint (its G, D, config)",
         false},
        {"--student", GT_ARG_STR, &student, 0, 0, false, "CONFIG",
         "training config JSON of the student (configs/dcgan_student.json)", false},
        {"--init", GT_ARG_STR, &init, 0, 0, false, "CKPT",
         "start the student from this checkpoint's G (a pruned net); "
         "its config is the student's when --student is not given",
         false},
        {"--out", GT_ARG_STR, &out, 0, 0, false, "DIR", "run folder (as gantry train --out)", false},
        {"--steps", GT_ARG_I64, &steps, 1, 1e9, false, "N", "generator steps (default: the student config's)", false},
        {"--w-feat", GT_ARG_DOUBLE, &o.w_feat, 0, 1e6, false, "W", "feature distillation weight (1x1 convs, MSE; 1)",
         false},
        {"--w-recon", GT_ARG_DOUBLE, &o.w_recon, 0, 1e6, false, "W",
         "reconstruction weight (L1 to the teacher's output; 10)", false},
        {"--w-gan", GT_ARG_DOUBLE, &o.w_gan, 0, 1e6, false, "W", "GAN loss weight against the online teacher D (0.1)",
         false},
        {"--w-dcd", GT_ARG_DOUBLE, &o.w_dcd, 0, 1e6, false, "W", "DCD weight (D's features of both outputs, L1; 1)",
         false},
        {"--anneal", GT_ARG_I64, &o.anneal, 0, 1e12, false, "N",
         "the distillation weights (recon, feat, DCD, CRD) fall linearly to 0 at step N (0: constant)", false},
        {"--d-fresh", GT_ARG_TRUE, &o.d_fresh, 0, 0, false, NULL,
         "the student's D starts from its own initialization, not from the teacher's trained D", false},
        {"--ofa", GT_ARG_TRUE, &o.ofa, 0, 0, false, NULL,
         "train the student as a once-for-all supernet: each step a random sub-width of every channel group "
         "(then gantry prune --budget searches it)", false},
        {"--d-student-only", GT_ARG_TRUE, &o.d_student_only, 0, 0, false, NULL,
         "D learns to reject the student's outputs only (default: the student's and the teacher's, 1/2 each)", false},
        {"--crd", GT_ARG_DOUBLE, &o.w_crd, 0, 1e6, false, "W",
         "CRD relation losses' weight (distances + angles; 0 = off)", false},
        {"--layers", GT_ARG_STR, &layers, 0, 0, false, "S:T,..", "student tap -> teacher tap pairs (default: by size)",
         false},
        {"--seed", GT_ARG_U64, &seed, 0, 0, false, "S", "run seed (weights, latents, data order; 0)", false},
        {"--data", GT_ARG_STR, &data, 0, 0, false, "SPEC",
         "dataset (default: the student config's, else the teacher's)", false},
        {"--batch", GT_ARG_INT, &batch, 1, 1 << 16, false, "N", "batch size (default: the student config's)", false},
        {"--log-every", GT_ARG_I64, &log_every, 1, 1e9, false, "N", "steps per progress line (default: the config's)",
         false},
        {"--quiet", GT_ARG_TRUE, &quiet, 0, 0, false, NULL, "no progress output", false},
        {"--threads", GT_ARG_INT, &threads, 0, 1024, false, "N", "threads (0 = all cores)", false},
        {"--resume", GT_ARG_TRUE, &resume, 0, 0, false, NULL,
         "continue the distillation in --out from its last checkpoint (--steps may raise its length)", false},
    };
    const int ns = (int)(sizeof spec / sizeof *spec);
    const char *syn = "--teacher CKPT --student CONFIG --out DIR [--steps N] [--init CKPT] [--w-feat W] [--w-dcd W] "
                      "[--crd W] [--anneal N] [--d-fresh] [--d-student-only] [--ofa] [--layers s:t,..] [--seed S] [--threads N]  |  --resume --out DIR [--steps N] [--threads N]";
    int rc = gt_args_parse("distill", spec, ns, argc, argv, 2, syn);
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc != GT_ARGS_OK) return GT_EXIT_USAGE;
    if (!out) return gt_args_error("distill", "--out is required (the run folder)");
    char last[4200];
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    if (resume) { /* the run's own teacher, student, weights and data: only its length may change */
        for (int i = 0; i < ns; i++) {
            const char *f = spec[i].name;
            if (spec[i].given && strcmp(f, "--out") && strcmp(f, "--steps") && strcmp(f, "--quiet") &&
                strcmp(f, "--threads") && strcmp(f, "--resume"))
                return gt_args_error("distill",
                                     "%s does not go with --resume: a resumed distillation keeps its teacher, "
                                     "student, loss weights, pairs, seed and data (only --steps and --threads may change)",
                                     f);
        }
        if (gt_cli_recover("distill", out, quiet) != GT_EXIT_OK) return GT_EXIT_FAIL;
    } else {
        if (!teacher) return gt_args_error("distill", "--teacher is required (the trained model's checkpoint)");
        if (!student && !init)
            return gt_args_error("distill", "--student is required (a training config of the student)");
        struct stat sb;
        if (stat(last, &sb) == 0)
            return gt_args_error("distill", "--out: %s already holds a run (%s); add --resume to continue it or pick "
                                            "another folder", out, last);
    }
    o.teacher = teacher, o.student_config = student, o.init = init, o.out_dir = out, o.steps = steps;
    o.feat_layers = layers, o.seed = seed, o.data = data, o.batch = batch, o.log_every = log_every, o.quiet = quiet;
    o.resume = resume;
    if (threads > 0) gt_set_num_threads(threads);
    if (gt_distill_check(&o) != GT_OK) return gt__usage_from_error();
    if (!quiet && resume) fprintf(stderr, "gantry distill: resuming %s\n", last);
    else if (!quiet) fprintf(stderr, "gantry distill: %s -> %s, run folder %s\n", teacher, student ? student : init, out);
    o.should_stop = gt_cli_should_stop; /* Ctrl-C: a last checkpoint, exit 130 */
    gt_cli_catch_stop(false);
    gt_status st = gt_distill_run(&o);
    signal(SIGINT, SIG_DFL);
    if (st != GT_OK) {
        fprintf(stderr, "gantry distill: %s\n", gt_last_error());
        return GT_EXIT_FAIL;
    }
    if (gt_cli_should_stop(NULL)) {
        fprintf(stderr, "\ngantry distill: interrupted; checkpoint saved: %s\n", last);
        return GT_EXIT_INTERRUPTED;
    }
    int64_t mt = teacher ? gt__macs(teacher) : -1, ms = gt__macs(last);
    if (!quiet) {
        fprintf(stderr, "samples: %s/samples/last.png\ncheckpoint: %s\n", out, last);
        if (mt > 0 && ms > 0)
            fprintf(stderr, "generator MACs per image: teacher %.2fM, student %.2fM (%.1fx fewer)\n", mt / 1e6,
                    ms / 1e6, (double)mt / (double)ms);
    }
    return GT_EXIT_OK;
}
