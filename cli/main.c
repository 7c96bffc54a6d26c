/* gantry: the command-line program. Dispatches `gantry <command> [flags]`. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "gantry.h"

#define GANTRY_VERSION "0.1.0"

/* The commands: a new one is its cli/cmd_*.c file and one row here (and its declaration in commands.h). */
static const struct {
    const char *name, *help;
    int (*run)(int argc, char **argv);
} gt__commands[] = {
    {"train", "train a GAN:  gantry train --data fashion-mnist --model dcgan --steps 2000 --out runs/NAME", gt_cmd_train},
    {"sample", "images from a checkpoint:  gantry sample --ckpt runs/NAME/last.safetensors --n 64 --out grid.png",
     gt_cmd_sample},
    {"info", "what a checkpoint holds:  gantry info --ckpt runs/NAME/last.safetensors", gt_cmd_info},
    {"eval", "metrics (FID, KID, IS, precision/recall) of a checkpoint against real data", gt_cmd_eval},
    {"lab", "GAN Lab's toy experiments in the browser:  gantry lab [--port 8080]", gt_cmd_lab},
    {"project", "an image into an anycost generator's latent space:  gantry project --ckpt FILE --image x.png --out w.safetensors",
     gt_cmd_project},
    {"edit", "an anycost image moved along a class direction:  gantry edit --ckpt FILE --seed 1 --direction 3 --strength 2",
     gt_cmd_edit},
    {"anycost-report", "every anycost sub-generator's cost and consistency:  gantry anycost-report --ckpt FILE --out DIR",
     gt_cmd_anycost_report},
    {"distill", "a small generator taught by a trained one:  gantry distill --teacher CKPT --student CONFIG --out DIR",
     gt_cmd_distill},
    {"prune", "a generator's least important channels removed:  gantry prune --ckpt FILE --keep 0.25 --out FILE",
     gt_cmd_prune},
    {"quantize", "a generator in int8, compared with float:  gantry quantize --ckpt FILE", gt_cmd_quantize},
    {"export", "a generator as one dependency-free C file:  gantry export --ckpt FILE --out gen.c", gt_cmd_export},
    {"compress-report", "generators side by side (MACs, size, latency, FID):  gantry compress-report --models "
     "teacher=A,student=B --out DIR",
     gt_cmd_compress_report},
    {"sweep", "configs x grid x seeds, FID at fixed budgets:  gantry sweep --config FILE --grid lr_g=1e-4,2e-4 "
     "--seeds 0,1,2 --steps N --out DIR", gt_cmd_sweep},
    {"truth-pr", "exact vs k-NN precision/recall on a known mixture:  gantry truth-pr --dist ring8 --out DIR",
     gt_cmd_truth_pr},
};
#define GT__NCOMMANDS ((int)(sizeof gt__commands / sizeof gt__commands[0]))
/* The commands that run on the ranks of an MPI job (mpirun -np N gantry ...). */
static const char *const gt__dist_commands[] = {"train", "eval"};

static void gt__usage(FILE *f) {
    fprintf(f,
            "gantry %s - train, sample and measure GANs on the CPU\n"
            "\n"
            "usage: gantry <command> [flags]   (gantry <command> --help for its flags)\n"
            "\n"
            "commands:\n",
            GANTRY_VERSION);
    for (int i = 0; i < GT__NCOMMANDS; i++) fprintf(f, "  %-15s %s\n", gt__commands[i].name, gt__commands[i].help);
    fprintf(f, "  %-15s %s\n", "version", "print the version");
    fprintf(f, "\nexit codes: 0 done, 1 failed (the message names the file), 2 bad usage, 130 interrupted\n");
}

/* OpenMP threads that spin while they wait (libgomp's default) steal the
 * cores from the BLAS threads and from everything else on a 2-core machine:
 * a small model trained 100x slower on a busy machine. libgomp reads
 * OMP_WAIT_POLICY once, when it loads, so the program sets it and starts
 * itself again (same pid, same arguments) unless the user chose a policy. */
static void gt__passive_openmp(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* no /proc: carry on with the default policy */
}

/* A training step frees and re-allocates the same large activations each
 * step; glibc returns blocks over its mmap threshold to the kernel and gets
 * them back as fresh zeroed pages (page faults were ~8% of a small model's
 * step). Keep them in the heap instead: the peak stays what it was. */
static void gt__keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

/* A command under an MPI launcher: the ranks join the group first (gantry/dist.h), and a rank that
 * fails ends the whole job (the others would wait for it in their next collective). A command that
 * does not run on several processes refuses, instead of N copies each doing the whole job. */
static int gt__run(const char *cmd, int (*run)(int, char **), int argc, char **argv) {
    bool dist = false;
    for (size_t i = 0; i < sizeof gt__dist_commands / sizeof *gt__dist_commands; i++)
        dist = dist || strcmp(cmd, gt__dist_commands[i]) == 0;
    long n = gt_dist_announced();
    if (n > 1 && !dist) {
        fprintf(stderr, "gantry %s: started by an MPI launcher with %ld processes, but %s runs in one process "
                        "(train and eval run on several)\n", cmd, n, cmd);
        return GT_EXIT_USAGE;
    }
    if (dist && gt_dist_init(&argc, &argv) != GT_OK) {
        fprintf(stderr, "gantry %s: %s\n", cmd, gt_last_error());
        return GT_EXIT_FAIL;
    }
    int rc = run(argc, argv);
    /* an interrupted train stops on every rank at the same step (the ranks agree on it): no abort */
    if (rc != GT_EXIT_OK && rc != GT_EXIT_INTERRUPTED && gt_dist_active()) {
        fflush(stdout), fflush(stderr);
        gt_dist_abort_fn end_job = gt_dist_aborter();
        if (end_job) end_job(rc); /* MPI_Abort: every rank ends, this one too */
    }
    gt_dist_finalize();
    return rc;
}

int main(int argc, char **argv) {
    gt__passive_openmp(argv);
    gt__keep_freed_memory();
    if (argc < 2) {
        gt__usage(stderr);
        return GT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        gt__usage(stdout);
        return GT_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("gantry %s\n", GANTRY_VERSION);
        return GT_EXIT_OK;
    }
    for (int i = 0; i < GT__NCOMMANDS; i++) {
        if (strcmp(cmd, gt__commands[i].name) != 0) continue;
        int (*run)(int, char **) = gt__commands[i].run; /* NULL: a weak command not linked in */
        if (!run) {
            fprintf(stderr, "gantry %s: %s is not built into this gantry\n", cmd, cmd);
            return GT_EXIT_FAIL;
        }
        return gt__run(cmd, run, argc, argv);
    }
    fprintf(stderr, "gantry: unknown command '%s'\n\n", cmd);
    gt__usage(stderr);
    return GT_EXIT_USAGE;
}
