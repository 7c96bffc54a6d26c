/* tests/dist/dist_util.h - running `mpirun -np N gantry train ...` from a test: whether mpirun and
 * the MPI plugin are here, a run with a hang guard (the whole process group is killed past it), and
 * checkpoint comparisons. */
#ifndef GT_TEST_DIST_UTIL_H
#define GT_TEST_DIST_UTIL_H

#include <math.h>

#include "../cli/cli_util.h"
#include "gantry/io.h"

static char gt_mpirun[PATH_MAX];

/* mpirun on PATH (or /usr/bin) and libgantry_mpi.so next to the gantry program; else a message and false. */
static inline bool gt_dist_ready(void) {
    if (!gt_cli_find()) {
        printf("  (skipped: the gantry program is not built)\n");
        return false;
    }
    char plugin[PATH_MAX + 32];
    snprintf(plugin, sizeof plugin, "%s", gt_cli_bin);
    char *slash = strrchr(plugin, '/');
    snprintf(slash ? slash + 1 : plugin, sizeof plugin - (size_t)(slash ? slash + 1 - plugin : 0), "libgantry_mpi.so");
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/bin", path ? path : "");
    gt_mpirun[0] = 0;
    for (char *d = strtok(dirs, ":"); d && !gt_mpirun[0]; d = strtok(NULL, ":")) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/mpirun", d);
        if (access(p, X_OK) == 0) snprintf(gt_mpirun, sizeof gt_mpirun, "%s", p);
    }
    if (!gt_mpirun[0] || access(plugin, R_OK) != 0) {
        printf("  (skipped: %s; install libopenmpi-dev openmpi-bin and rebuild)\n",
               !gt_mpirun[0] ? "mpirun is not installed" : "the MPI plugin libgantry_mpi.so was not built");
        return false;
    }
    return true;
}

/* Runs argv (NULL-terminated; argv[0] the program) with extra environment entries env (NAME=VALUE,
 * NULL-terminated or NULL) in a process group of its own; output into gt_cli_out. Past guard_s seconds
 * the group is killed and -2 returned (a hang). Else the exit status (128 + signal). */
static inline int gt_dist_exec(char *const *argv, char *const *env, int guard_s) {
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/dist_out.txt", gt_test_tmpdir());
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2), close(fd);
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1); /* CI runs as root */
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
        setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 1);
        setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 0); /* containers without ptrace (CMA) */
        setenv("OMP_NUM_THREADS", "1", 1);
        for (int i = 0; env && env[i]; i++) { /* NAME=VALUE */
            char kv[512];
            snprintf(kv, sizeof kv, "%s", env[i]);
            char *eq = strchr(kv, '=');
            if (eq) *eq = 0, setenv(kv, eq + 1, 1);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    if (pid < 0) return -1;
    setpgid(pid, pid);
    int ws = 0, rc = -2;
    for (int waited_ms = 0; waited_ms <= guard_s * 1000; waited_ms += 20) {
        pid_t w = waitpid(pid, &ws, WNOHANG);
        if (w == pid) {
            rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            break;
        }
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
    if (rc == -2) { /* a hang: the whole group goes */
        kill(-pid, SIGKILL);
        waitpid(pid, &ws, 0);
    }
    kill(-pid, SIGKILL); /* any straggler of the group (none when mpirun cleaned up) */
    size_t n = 0;
    unsigned char *b = gt_test_read_all(out, &n);
    n = b ? (n < sizeof gt_cli_out - 1 ? n : sizeof gt_cli_out - 1) : 0;
    if (b) memcpy(gt_cli_out, b, n);
    gt_cli_out[n] = '\0';
    free(b);
    return rc;
}

/* mpirun -np np gantry args... (NULL-terminated) with env (or NULL). */
static inline int gt_dist_run_env(int np, char *const *env, const char *first, ...) {
    char *argv[96], nps[16];
    int k = 0;
    snprintf(nps, sizeof nps, "%d", np);
    argv[k++] = gt_mpirun, argv[k++] = "-np", argv[k++] = nps, argv[k++] = "--oversubscribe";
    argv[k++] = "--bind-to", argv[k++] = "none", argv[k++] = gt_cli_bin;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && k < 95; a = va_arg(ap, const char *)) argv[k++] = (char *)a;
    va_end(ap);
    argv[k] = NULL;
    return gt_dist_exec(argv, env, 90);
}
#define gt_dist_run(np, ...) gt_dist_run_env(np, NULL, __VA_ARGS__)

/* Compares the float tensors of two checkpoints whose names start with one of prefixes: per tensor,
 * max |a - b| <= tol * max |a| (tol 0: bit-identical). Prints the worst tensor; false on a mismatch,
 * a missing tensor or an unreadable file. */
static inline bool gt_dist_ckpt_close(const char *pa, const char *pb, double tol, double *worst_out) {
    static const char *const prefixes[] = {"G.", "D.", "G_ema.", "opt_G.", "opt_D."};
    gt_safetensors a, b;
    gt_st_init(&a), gt_st_init(&b);
    bool ok = gt_st_load(&a, pa) == GT_OK && gt_st_load(&b, pb) == GT_OK;
    if (!ok) printf("  cannot load %s or %s: %s\n", pa, pb, gt_last_error());
    double worst = 0;
    const char *wname = "";
    int compared = 0;
    for (int i = 0; ok && i < a.n; i++) {
        const gt_st_tensor *x = &a.t[i];
        bool want = false;
        for (size_t p = 0; p < sizeof prefixes / sizeof *prefixes; p++)
            want = want || strncmp(x->name, prefixes[p], strlen(prefixes[p])) == 0;
        if (!want || x->dtype != GT_ST_F32) continue;
        const gt_st_tensor *y = gt_st_find(&b, x->name);
        if (!y || y->numel != x->numel || y->dtype != GT_ST_F32) {
            printf("  %s: %s missing or of another shape in %s\n", x->name, x->name, pb);
            ok = false;
            break;
        }
        const float *u = x->data, *v = y->data;
        double m = 0, d = 0;
        for (int64_t k = 0; k < x->numel; k++) {
            m = fmax(m, fabs((double)u[k]));
            d = fmax(d, fabs((double)u[k] - (double)v[k]));
            if (isnan(u[k]) != isnan(v[k])) d = INFINITY;
        }
        double r = d > 0 ? (m > 0 ? d / m : INFINITY) : 0;
        if (r > worst) worst = r, wname = x->name;
        compared++;
    }
    if (ok && compared < 8) printf("  only %d tensors compared\n", compared), ok = false;
    if (ok && (tol == 0 ? worst != 0 : worst > tol)) {
        printf("  %s vs %s: %s differs by %.3g of its largest value (tolerance %.3g)\n", pa, pb, wname, worst, tol);
        ok = false;
    }
    if (worst_out) *worst_out = worst;
    gt_st_free(&a), gt_st_free(&b);
    return ok;
}

#endif
