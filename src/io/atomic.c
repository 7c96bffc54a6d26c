/* Atomic file writes (temporary file + fsync + rename + directory fsync) and
 * whole-file reads. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "gantry/io.h"
#include "io_internal.h"

/* dir ("." when path has no slash) and base of path; both malloc'd. */
static gt_status gt__split_path(const char *path, char **dir, char **base) {
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) : 0;
    *dir = malloc(dl + 2);
    *base = strdup(slash ? slash + 1 : path);
    if (!*dir || !*base) {
        free(*dir);
        free(*base);
        *dir = *base = NULL;
        return gt_set_error(GT_ERR_OOM, "out of memory for the path '%s'", path);
    }
    if (!slash) strcpy(*dir, ".");
    else if (dl == 0) strcpy(*dir, "/");
    else {
        memcpy(*dir, path, dl);
        (*dir)[dl] = 0;
    }
    return GT_OK;
}

/* Removes ".<base>.tmp.<pid>.*" files in dir whose writer process is gone. */
static void gt__remove_stale(const char *dir, const char *base) {
    DIR *d = opendir(dir);
    if (!d) return;
    size_t bl = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *nm = e->d_name;
        if (nm[0] != '.' || strncmp(nm + 1, base, bl) != 0 || strncmp(nm + 1 + bl, ".tmp.", 5) != 0) continue;
        char *end = NULL;
        long pid = strtol(nm + 1 + bl + 5, &end, 10);
        if (pid <= 0 || !end || *end != '.') continue;
        if (pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        size_t n = strlen(dir) + strlen(nm) + 2;
        char *full = malloc(n);
        if (!full) break;
        snprintf(full, n, "%s/%s", dir, nm);
        unlink(full);
        free(full);
    }
    closedir(d);
}

/* A rename to path is durable once path's directory is on disk. */
void gt__fsync_dir(const char *path) {
    char *dir, *base;
    if (gt__split_path(path, &dir, &base) != GT_OK) return;
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    free(base);
}

gt_status gt_atomic_open(gt_atomic_file *a, const char *path) {
    if (!a) return gt_set_error(GT_ERR_ARG, "gt_atomic_open: NULL handle");
    memset(a, 0, sizeof *a);
    if (!path || !path[0]) return gt_set_error(GT_ERR_ARG, "gt_atomic_open: empty path");
    char *dir, *base;
    gt_status st = gt__split_path(path, &dir, &base);
    if (st) return st;
    if (!base[0]) {
        free(dir);
        free(base);
        return gt_set_error(GT_ERR_ARG, "cannot write '%s': the path names a directory", path);
    }
    gt__remove_stale(dir, base);
    size_t n = strlen(dir) + strlen(base) + 48;
    a->tmp = malloc(n);
    a->path = strdup(path);
    if (!a->tmp || !a->path) {
        free(dir);
        free(base);
        gt_atomic_abort(a);
        return gt_set_error(GT_ERR_OOM, "out of memory writing '%s'", path);
    }
    snprintf(a->tmp, n, "%s/.%s.tmp.%ld.XXXXXX", dir, base, (long)getpid());
    free(dir);
    free(base);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int err = errno;
        free(a->tmp);
        a->tmp = NULL;
        gt_atomic_abort(a);
        return gt_set_error(GT_ERR_IO, "cannot create a temporary file next to '%s': %s", path, strerror(err));
    }
    fchmod(fd, 0644);
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int err = errno;
        close(fd);
        gt_atomic_abort(a);
        return gt_set_error(GT_ERR_IO, "cannot open a temporary file for '%s': %s", path, strerror(err));
    }
    return GT_OK;
}

gt_status gt_atomic_write(gt_atomic_file *a, const void *buf, size_t n) {
    if (!a || !a->f) return gt_set_error(GT_ERR_STATE, "gt_atomic_write: the file is not open");
    int err = gt__fault_hit(GT_FAULT_WRITE, a->path);
    if (!err && n && fwrite(buf, 1, n, a->f) != n) err = errno;
    if (err) {
        a->failed = true;
        return gt_set_error(GT_ERR_IO, "cannot write '%s' (temporary '%s'): %s", a->path, a->tmp, strerror(err));
    }
    return GT_OK;
}

static void gt__release(gt_atomic_file *a) {
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

void gt_atomic_abort(gt_atomic_file *a) {
    if (!a) return;
    if (a->f) fclose(a->f);
    if (a->tmp) unlink(a->tmp);
    gt__release(a);
}

gt_status gt_atomic_commit(gt_atomic_file *a) {
    if (!a || !a->f) return gt_set_error(GT_ERR_STATE, "gt_atomic_commit: the file is not open");
    if (a->failed) {
        gt_status st = gt_set_error(GT_ERR_IO, "not writing '%s': an earlier write failed", a->path);
        gt_atomic_abort(a);
        return st;
    }
    const char *what = NULL;
    int err = 0;
    if (fflush(a->f) != 0) what = "flush", err = errno;
    else if ((err = gt__fault_hit(GT_FAULT_FSYNC, a->path)) != 0 || fsync(fileno(a->f)) != 0) {
        what = "fsync";
        if (!err) err = errno;
    }
    if (fclose(a->f) != 0 && !what) {
        what = "close";
        err = errno;
    }
    a->f = NULL;
    if (!what && ((err = gt__fault_hit(GT_FAULT_RENAME, a->path)) != 0 || rename(a->tmp, a->path) != 0)) {
        what = "rename";
        if (!err) err = errno;
    }
    if (what) {
        gt_status st = gt_set_error(GT_ERR_IO, "cannot write '%s' (%s of the temporary '%s' failed: %s)", a->path,
                                    what, a->tmp, strerror(err));
        gt_atomic_abort(a);
        return st;
    }
    gt__fsync_dir(a->path);
    gt__release(a);
    return GT_OK;
}

gt_status gt_write_file_atomic(const char *path, const void *buf, size_t n) {
    gt_atomic_file a;
    gt_status st = gt_atomic_open(&a, path);
    if (st) return st;
    st = gt_atomic_write(&a, buf, n);
    if (st) {
        gt_atomic_abort(&a);
        return st;
    }
    return gt_atomic_commit(&a);
}

gt_status gt_read_file(const char *path, void **buf, size_t *n, size_t max_bytes) {
    if (!buf || !n) return gt_set_error(GT_ERR_ARG, "gt_read_file: NULL output");
    *buf = NULL;
    *n = 0;
    if (!path || !path[0]) return gt_set_error(GT_ERR_ARG, "gt_read_file: empty path");
    int fd = open(path, O_RDONLY);
    if (fd < 0) return gt_set_error(GT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int err = errno;
        close(fd);
        return gt_set_error(GT_ERR_IO, "cannot stat '%s': %s", path, strerror(err));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return gt_set_error(GT_ERR_IO, "'%s' is not a regular file", path);
    }
    uint64_t size = (uint64_t)sb.st_size;
    if ((max_bytes && size > max_bytes) || size > (uint64_t)SIZE_MAX - 1) {
        close(fd);
        return gt_set_error(GT_ERR_FORMAT, "'%s' is %llu bytes, more than the %zu allowed", path,
                            (unsigned long long)size, max_bytes);
    }
    char *p = malloc((size_t)size + 1);
    if (!p) {
        close(fd);
        return gt_set_error(GT_ERR_OOM, "out of memory reading '%s' (%llu bytes)", path, (unsigned long long)size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, p + got, (size_t)size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int err = r < 0 ? errno : 0;
            free(p);
            close(fd);
            return gt_set_error(GT_ERR_IO, "cannot read '%s': %s", path,
                                err ? strerror(err) : "the file shrank while being read");
        }
        got += (size_t)r;
    }
    close(fd);
    p[size] = 0;
    *buf = p;
    *n = (size_t)size;
    return GT_OK;
}

gt_status gt_check_writable(const char *path) {
    if (!path || !path[0]) return gt_set_error(GT_ERR_ARG, "an empty output path");
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return gt_set_error(GT_ERR_ARG, "cannot write '%s': it is a folder (give a file name)", path);
    char *dir, *base;
    gt_status st = gt__split_path(path, &dir, &base);
    if (st) return st;
    if (!base[0]) st = gt_set_error(GT_ERR_ARG, "cannot write '%s': the path names a folder", path);
    else if (stat(dir, &sb) != 0)
        st = gt_set_error(GT_ERR_IO, "cannot write '%s': the folder '%s' does not exist", path, dir);
    else if (!S_ISDIR(sb.st_mode))
        st = gt_set_error(GT_ERR_IO, "cannot write '%s': '%s' is not a folder", path, dir);
    else if (access(dir, W_OK | X_OK) != 0)
        st = gt_set_error(GT_ERR_IO, "cannot write '%s': cannot create files in '%s': %s", path, dir, strerror(errno));
    if (!st) { /* what the atomic write will do: a temporary file beside the target */
        gt_atomic_file a;
        if (!(st = gt_atomic_open(&a, path))) gt_atomic_abort(&a);
    }
    free(dir);
    free(base);
    return st;
}
