/* cli/commands.h - the gantry subcommands. Each takes the full argv of the
 * program (argv[1] is the command name) and returns the process exit code:
 * 0 done, 1 failed (bad data, bad checkpoint, I/O: the message names the
 * file), 2 bad usage (unknown flag, missing or out-of-range value), 130
 * interrupted (after saving what it could). Only cli/ exits. */
#ifndef GANTRY_CLI_COMMANDS_H
#define GANTRY_CLI_COMMANDS_H

#include "gantry/train.h"

enum { GT_EXIT_OK = 0, GT_EXIT_FAIL = 1, GT_EXIT_USAGE = 2, GT_EXIT_INTERRUPTED = 130 };

int gt_cmd_train(int argc, char **argv);
int gt_cmd_sample(int argc, char **argv);
int gt_cmd_info(int argc, char **argv);
int gt_cmd_lab(int argc, char **argv);
/* Implemented in cli/cmd_eval.c (metrics); weak so the program links without it. */
int gt_cmd_eval(int argc, char **argv) __attribute__((weak));
/* The anycost family's commands (cli/cmd_project.c, cmd_edit.c, cmd_anycost_report.c); weak as eval. */
int gt_cmd_project(int argc, char **argv) __attribute__((weak));
int gt_cmd_edit(int argc, char **argv) __attribute__((weak));
int gt_cmd_anycost_report(int argc, char **argv) __attribute__((weak));
/* Compression (issue 15): cli/cmd_export.c, cmd_quantize.c, cmd_prune.c, cmd_distill.c,
 * cmd_compress_report.c; weak as eval. */
int gt_cmd_export(int argc, char **argv) __attribute__((weak));
int gt_cmd_quantize(int argc, char **argv) __attribute__((weak));
int gt_cmd_prune(int argc, char **argv) __attribute__((weak));
int gt_cmd_distill(int argc, char **argv) __attribute__((weak));
int gt_cmd_compress_report(int argc, char **argv) __attribute__((weak));
int gt_cmd_sweep(int argc, char **argv) __attribute__((weak)); /* cli/cmd_sweep.c (issue 16) */
int gt_cmd_truth_pr(int argc, char **argv) __attribute__((weak)); /* cli/cmd_truth_pr.c (issue 16) */

/* Their shared start (cli/anycost_load.c): G := ckpt's generator (EMA when ema and saved), GT_EXIT_OK;
 * or GT_EXIT_FAIL with the message printed ("gantry CMD: ...") and nothing to free, also when the
 * checkpoint is of another family (the message names it). */
int gt_cli_load_anycost(const char *cmd, const char *ckpt, bool ema, gt_net *G, gt_train_config *cfg,
                        bool *used_ema);

/* cli/cli_util.c: a long run's stop request (Ctrl-C; SIGTERM too with also_term), polled by
 * gt_cli_should_stop (a gt_train_hooks / gt_distill_opts should_stop); a number with an SI suffix
 * ("9.51M"; "-" when negative). */
void gt_cli_catch_stop(bool also_term);
bool gt_cli_should_stop(void *user);
void gt_cli_si(double v, char *buf, size_t n);
/* Before a --resume: tidies the run folder a killed run left (gt_train_recover: its temporary files,
 * last behind the newest checkpoint) and says what it did unless quiet. GT_EXIT_OK, or GT_EXIT_FAIL
 * with "gantry CMD: cannot resume: ..." printed. */
int gt_cli_recover(const char *cmd, const char *out, bool quiet);
/* cli/cli_device.c: --device SPEC (NULL: not given) applied with gt_device_use() before any tensor is
 * made: GT_EXIT_OK, GT_EXIT_USAGE (not cpu, cuda or cuda:N) or GT_EXIT_FAIL (the library's reason
 * printed). Under mpirun "cuda" is GPU local_rank mod count. The label: "cpu" or e.g. "cuda:0". */
int gt_cli_device(const char *cmd, const char *spec, bool quiet);
const char *gt_cli_device_label(void);
int gt_cli_info_devices(void); /* gantry info --devices */
#define GT_CLI_DEVICE_FLAG(dst)                                                                                        \
    {"--device", GT_ARG_STR, (dst), 0, 0, false, "D", "where tensors live and ops run: cpu (default), cuda, cuda:N",  \
     false}
/* A monotonic clock in milliseconds, for timings. */
double gt_cli_now_ms(void);
/* Prints "gantry CMD: WHAT: <the library's last error>" (WHAT may be NULL) and returns GT_EXIT_FAIL. */
int gt_cli_fail(const char *cmd, const char *what);

#endif
