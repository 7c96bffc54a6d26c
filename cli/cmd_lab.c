/* gantry lab: serves GAN Lab's interactive toy experiments (docs/LAB.md) until Ctrl-C.
 * Prints "gantry lab: http://HOST:PORT/" (flushed: scripts and the browser tests read it), then
 * waits for SIGINT or SIGTERM and stops the server (open event streams included): exit 0.
 * The page comes from --web DIR, else the installed share/gantry/web/ next to the program, else
 * the source tree's web/ (GT_SOURCE_WEB, set by cmake/install.cmake). */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/serve.h"

static bool gt__has_index(const char *dir) {
    char p[PATH_MAX + 16];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/index.html", dir) >= (int)sizeof p) return false;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The page's folder when --web is not given: an installed program's PREFIX/share/gantry/web
 * (the prefix may have moved), else the source tree this program was built from. */
static const char *gt__default_web(char *buf, size_t n) {
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            if (snprintf(buf, n, "%s/../share/gantry/web", exe) < (int)n && gt__has_index(buf)) return buf;
        }
    }
#ifdef GT_SOURCE_WEB
    snprintf(buf, n, "%s", GT_SOURCE_WEB);
#else
    snprintf(buf, n, "web");
#endif
    return buf;
}

int gt_cmd_lab(int argc, char **argv) {
    int port = 8080;
    const char *host = "127.0.0.1", *web = NULL, *runs = "runs";
    bool quiet = false;
    gt_arg spec[] = {
        {"--port", GT_ARG_INT, &port, 0, 65535, false, "P", "port to listen on (0: any free one; default 8080)", false},
        {"--host", GT_ARG_STR, &host, 0, 0, false, "H",
         "address to listen on (default 127.0.0.1; 0.0.0.0 opens it to the network)", false},
        {"--web", GT_ARG_STR, &web, 0, 0, false, "DIR", "the page's folder (default: the installed or source web/)",
         false},
        {"--runs", GT_ARG_STR, &runs, 0, 0, false, "DIR",
         "the runs dashboard's folder (default runs; it may appear later)", false},
        {"--quiet", GT_ARG_TRUE, &quiet, 0, 0, false, NULL, "print only the URL line", false},
    };
    const char *synopsis = "[--port P] [--host H] [--web DIR] [--runs DIR] [--quiet]";
    int rc = gt_args_parse("lab", spec, 5, argc, argv, 2, synopsis);
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    if (!host[0] || strlen(host) > 255) return gt_args_error("lab", "--host must be an address or a host name");
    if (web && !web[0]) return gt_args_error("lab", "--web must be a folder");
    if (!runs[0]) return gt_args_error("lab", "--runs must be a folder");

    char def[PATH_MAX];
    const char *dir = web ? web : gt__default_web(def, sizeof def);
    if (!gt__has_index(dir)) {
        fprintf(stderr,
                "gantry lab: no page in %s (index.html is missing): run scripts/setup.sh to set up the page, "
                "or pass --web DIR\n",
                dir);
        return GT_EXIT_FAIL;
    }

    /* Ctrl-C and SIGTERM are taken by sigwait below: blocked here, before any thread starts, so
     * every thread (libmicrohttpd's, the worker, OpenMP's) inherits the mask */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl; /* a connection is a descriptor: the server takes as many as the soft limit allows */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    gt_lab_server_opts o = {.host = host, .port = port, .web_dir = dir, .quiet = quiet, .runs_dir = runs};
    gt_lab_server *S = NULL;
    if (gt_lab_server_start(&o, &S) != GT_OK) {
        fprintf(stderr, "gantry lab: %s\n", gt_last_error());
        return gt_last_status() == GT_ERR_ARG ? GT_EXIT_USAGE : GT_EXIT_FAIL;
    }
    bool v6 = strchr(host, ':') != NULL;
    printf("gantry lab: http://%s%s%s:%d/\n", v6 ? "[" : "", host, v6 ? "]" : "", gt_lab_server_port(S));
    fflush(stdout);
    if (!quiet) fprintf(stderr, "gantry lab: serving %s, runs from %s (Ctrl-C stops)\n", dir, runs);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {
    }
    if (!quiet) fprintf(stderr, "gantry lab: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    gt_lab_server_stop(S);
    return GT_EXIT_OK;
}
