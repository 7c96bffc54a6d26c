/* Pieces the gantry commands share: stopping a long run on Ctrl-C (or SIGTERM) after a last
 * checkpoint, and numbers written with SI suffixes in report tables. */
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "commands.h"

static volatile sig_atomic_t gt__cli_stop;

static void gt__cli_on_signal(int sig) {
    (void)sig;
    if (gt__cli_stop) signal(SIGINT, SIG_DFL); /* a second Ctrl-C kills */
    gt__cli_stop = 1;
}

void gt_cli_catch_stop(bool also_term) {
    signal(SIGINT, gt__cli_on_signal);
    if (also_term) signal(SIGTERM, gt__cli_on_signal);
}

bool gt_cli_should_stop(void *user) {
    (void)user;
    return gt__cli_stop != 0;
}

void gt_cli_si(double v, char *buf, size_t n) {
    if (v < 0) snprintf(buf, n, "-");
    else if (v >= 1e9) snprintf(buf, n, "%.2fG", v / 1e9);
    else if (v >= 1e6) snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e3) snprintf(buf, n, "%.1fk", v / 1e3);
    else snprintf(buf, n, "%.0f", v);
}

double gt_cli_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

int gt_cli_fail(const char *cmd, const char *what) {
    fprintf(stderr, "gantry %s: %s%s%s\n", cmd, what ? what : "", what ? ": " : "", gt_last_error());
    return GT_EXIT_FAIL;
}

int gt_cli_recover(const char *cmd, const char *out, bool quiet) {
    int removed = 0; /* a killed run's temporary files; last behind the newest checkpoint */
    long long relinked = -1;
    if (gt_train_recover(out, &removed, &relinked) != GT_OK) {
        fprintf(stderr, "gantry %s: cannot resume: %s\n", cmd, gt_last_error());
        return GT_EXIT_FAIL;
    }
    if (!quiet && removed) fprintf(stderr, "gantry %s: removed %d temporary file(s) of a stopped run\n", cmd, removed);
    if (!quiet && relinked >= 0)
        fprintf(stderr, "gantry %s: last.safetensors now points at checkpoints/step_%06lld (the run stopped "
                        "between saving it and pointing last at it)\n", cmd, relinked);
    return GT_EXIT_OK;
}
