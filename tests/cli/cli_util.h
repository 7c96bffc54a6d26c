/* tests/cli/cli_util.h - running the built `gantry` program from a test:
 * locate it, run it with arguments, capture its output, its exit status. */
#ifndef GT_TEST_CLI_UTIL_H
#define GT_TEST_CLI_UTIL_H

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/harness.h"
#include "../train/train_util.h"

static char gt_cli_bin[PATH_MAX + 16];
static char gt_cli_out[1 << 16]; /* the last run's stdout + stderr */

/* The gantry program beside this test executable (both are built into the
 * build tree's top folder), else GT_SOURCE_DIR/build/gantry. */
static inline bool gt_cli_find(void) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(gt_cli_bin, sizeof gt_cli_bin, "%s/gantry", self);
            if (access(gt_cli_bin, X_OK) == 0) return true;
        }
    }
    snprintf(gt_cli_bin, sizeof gt_cli_bin, "%s/build/gantry", GT_SOURCE_DIR);
    return access(gt_cli_bin, X_OK) == 0;
}

/* Starts gantry with args (NULL-terminated), output to the file out; returns the pid. */
static inline pid_t gt_cli_spawn(const char *out, char *const *args) {
    char *argv[64];
    int k = 0;
    argv[k++] = gt_cli_bin;
    for (int i = 0; args[i] && k < 63; i++) argv[k++] = args[i];
    argv[k] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        /* killed when this test process dies: a test that crashes (a failed assertion under a
         * sanitizer, a signal) leaves no training or server behind */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127); /* the test died before prctl */
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("OMP_NUM_THREADS", "2", 0);
        execv(gt_cli_bin, argv);
        _exit(127);
    }
    return pid;
}

/* Exit status, or 128 + signal for a process that died of a signal (a crash). */
static inline int gt_cli_wait(pid_t pid) {
    int ws = 0;
    if (waitpid(pid, &ws, 0) != pid) return -1;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* Runs gantry with the given arguments (NULL-terminated) to completion;
 * its output lands in gt_cli_out. */
static inline int gt_cli_run(const char *first, ...) {
    char *args[64];
    int k = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && k < 63; a = va_arg(ap, const char *)) args[k++] = (char *)a;
    va_end(ap);
    args[k] = NULL;
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/cli_out.txt", gt_test_tmpdir());
    int rc = gt_cli_wait(gt_cli_spawn(out, args));
    size_t n = 0;
    unsigned char *b = gt_test_read_all(out, &n);
    n = b ? (n < sizeof gt_cli_out - 1 ? n : sizeof gt_cli_out - 1) : 0;
    if (b) memcpy(gt_cli_out, b, n);
    gt_cli_out[n] = '\0';
    free(b);
    return rc;
}

/* needle is NULL or in the last output. */
static inline bool gt_cli_said(const char *needle) {
    return !needle || strstr(gt_cli_out, needle) != NULL;
}

/* rc == want and the output mentions needle (NULL: anything). */
#define CHECK_CLI(want, needle, ...)                                                                         \
    do {                                                                                                    \
        int rc_ = gt_cli_run(__VA_ARGS__, NULL);                                                            \
        CHECK_MSG(rc_ == (want) && gt_cli_said(needle),                             \
                  "gantry %s: rc %d (want %d), output lacks '%s':\n%s", #__VA_ARGS__, rc_, want,              \
                  (needle) ? (const char *)(needle) : "", gt_cli_out);                                      \
    } while (0)

#endif
