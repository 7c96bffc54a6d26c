/* cli/args.h - a small strict flag parser for the gantry commands.
 *
 * Flags are "--name value" or "--name=value"; booleans take no value. Every
 * mistake (unknown flag, missing value, a value that is not a number, out of
 * range, a positional argument) prints one message naming the flag to stderr
 * and the parse returns GT_ARGS_USAGE (the command exits 2). "-h"/"--help"
 * prints the usage and returns GT_ARGS_HELP (exit 0). */
#ifndef GANTRY_CLI_ARGS_H
#define GANTRY_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    GT_ARG_INT,    /* int */
    GT_ARG_I64,    /* int64_t */
    GT_ARG_U64,    /* uint64_t (seeds) */
    GT_ARG_DOUBLE, /* double */
    GT_ARG_STR,    /* const char * (points into argv) */
    GT_ARG_TRUE,   /* bool set to true, no value */
    GT_ARG_FALSE,  /* bool set to false, no value ("--no-ema") */
} gt_arg_type;

typedef struct {
    const char *name;    /* "--steps" */
    gt_arg_type type;
    void *dst;
    double lo, hi;       /* numbers: allowed range, inclusive */
    bool lo_open;        /* lo itself not allowed (lr > 0) */
    const char *metavar; /* "N" */
    const char *help;    /* one line */
    bool given;          /* set by the parse */
} gt_arg;

enum { GT_ARGS_OK = 0, GT_ARGS_HELP = 1, GT_ARGS_USAGE = 2 };

/* Parses argv[first..argc) against spec[n]. */
int gt_args_parse(const char *cmd, gt_arg *spec, int n, int argc, char **argv, int first, const char *synopsis);
void gt_args_usage(FILE *f, const char *cmd, const char *synopsis, const gt_arg *spec, int n);
/* The spec entry named name (for ->given), or NULL. */
gt_arg *gt_args_find(gt_arg *spec, int n, const char *name);
/* Prints "gantry CMD: <message>\n(run 'gantry CMD --help')" and returns GT_ARGS_USAGE. */
int gt_args_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
