/* gantry: the command-line program. Dispatches `gantry <command> [flags]`. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "gantry.h"

#define GANTRY_VERSION "0.1.0"

static void gt__usage(FILE *f) {
    fprintf(
        f,
        "gantry %s - train, sample and measure GANs on the CPU\n"
        "\n"
        "usage: gantry <command> [flags]   (gantry <command> --help for its flags)\n"
        "\n"
        "commands:\n"
        "  train    train a GAN:  gantry train --data fashion-mnist --model dcgan --steps 2000 --out runs/NAME\n"
        "  sample   images from a checkpoint:  gantry sample --ckpt runs/NAME/last.safetensors --n 64 --out grid.png\n"
        "  info     what a checkpoint holds:  gantry info --ckpt runs/NAME/last.safetensors\n"
        "  eval     metrics (FID, KID, IS, precision/recall) of a checkpoint against real data\n"
        "  lab      GAN Lab's toy experiments in the browser:  gantry lab [--port 8080]\n"
        "  version  print the version\n"
        "\n"
        "exit codes: 0 done, 1 failed (the message names the file), 2 bad usage, 130 interrupted\n",
        GANTRY_VERSION);
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
    if (strcmp(cmd, "train") == 0) return gt_cmd_train(argc, argv);
    if (strcmp(cmd, "sample") == 0) return gt_cmd_sample(argc, argv);
    if (strcmp(cmd, "info") == 0) return gt_cmd_info(argc, argv);
    if (strcmp(cmd, "lab") == 0) return gt_cmd_lab(argc, argv);
    if (strcmp(cmd, "eval") == 0) {
        if (!gt_cmd_eval) {
            fprintf(stderr, "gantry eval: eval is not built into this gantry\n");
            return GT_EXIT_FAIL;
        }
        return gt_cmd_eval(argc, argv);
    }
    fprintf(stderr, "gantry: unknown command '%s'\n\n", cmd);
    gt__usage(stderr);
    return GT_EXIT_USAGE;
}
