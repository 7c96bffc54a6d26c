/* The harness's temporary folders (gt_test_tmpdir) go when a test ends:
 * passed, failed, or killed by a fatal signal; GANTRY_KEEP_TMP=1 keeps a
 * folder and says where; a forked child never removes its parent's folder.
 * Each case runs as a child process that is a test of its own (this process
 * makes no folder before forking) and reports its folder through a pipe. */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/harness.h"

enum { PASS, FAIL, CRASH, ABORT, KEEP, FORK };

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Runs case k in a child; its folder's path lands in dir. Returns the raw wait status. */
static int run_case(int k, char *dir, size_t n) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        if (k == KEEP) setenv("GANTRY_KEEP_TMP", "1", 1);
        else unsetenv("GANTRY_KEEP_TMP");
        const char *d = gt_test_tmpdir();
        char f[600];
        snprintf(f, sizeof f, "%s/sub", d);
        mkdir(f, 0700);
        snprintf(f, sizeof f, "%s/sub/file.bin", d);
        FILE *o = fopen(f, "wb");
        if (o) fputs("data", o), fclose(o);
        if (write(fd[1], d, strlen(d) + 1) < 0) _exit(99);
        close(fd[1]);
        switch (k) {
        case CRASH: raise(SIGSEGV); break;
        case ABORT: abort();
        case FAIL:
        case KEEP: gt_test_failures++; break; /* what a failed CHECK does */
        case FORK: { /* a grandchild that exits must leave this folder alone */
            pid_t g = fork();
            if (g == 0) exit(0);
            waitpid(g, NULL, 0);
            if (!is_dir(d)) _exit(42);
            break;
        }
        default: break;
        }
        exit(gt_test_failures ? 1 : 0);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], dir, n - 1);
    dir[got > 0 ? got : 0] = 0;
    close(fd[0]);
    int ws = 0;
    waitpid(pid, &ws, 0);
    return ws;
}

static void rm_tree(const char *d) { /* the kept folder: d/sub/file.bin */
    char p[700];
    snprintf(p, sizeof p, "%s/sub/file.bin", d);
    unlink(p);
    snprintf(p, sizeof p, "%s/sub", d);
    rmdir(p);
    rmdir(d);
}

static void test_cleanup(void) {
    char dir[600];
    int ws = run_case(PASS, dir, sizeof dir);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && strstr(dir, "gantry-test-") && !is_dir(dir));
    ws = run_case(FAIL, dir, sizeof dir);
    CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 1 && dir[0] && !is_dir(dir), "failed test: %s left", dir);
    ws = run_case(CRASH, dir, sizeof dir);
    CHECK_MSG(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSEGV && dir[0] && !is_dir(dir), "crashed test: %s left", dir);
    ws = run_case(ABORT, dir, sizeof dir);
    CHECK_MSG(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGABRT && dir[0] && !is_dir(dir), "aborted test: %s left", dir);
    ws = run_case(FORK, dir, sizeof dir);
    CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && dir[0] && !is_dir(dir), "forking test: status %d", ws);
    ws = run_case(KEEP, dir, sizeof dir);
    CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 1 && is_dir(dir), "GANTRY_KEEP_TMP=1 did not keep %s", dir);
    if (dir[0] && strstr(dir, "gantry-test-")) rm_tree(dir);
    CHECK(!is_dir(dir));
}

int main(void) {
    RUN(test_cleanup);
    return gt_test_finish();
}
