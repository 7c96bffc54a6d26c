/* The runs watcher (docs/DASHBOARD.md "Watching"): one thread and one inotify descriptor on the
 * runs folder, each run folder, its samples/ and checkpoints/. It adds and removes runs, keeps
 * each run's grid list (scanned once, on first use) and metrics cache current, marks summaries
 * stale and pushes the events (metrics, status, grid, checkpoint, removed) to the run's streams.
 * A runs folder that does not exist (yet, or any more) is looked for once a second; an inotify
 * queue overflow rescans everything. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runs_internal.h"

#define GT__DIR_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define GT__RUN_MASK                                                                                                  \
    (IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | \
     IN_ONLYDIR)
#define GT__SUB_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

enum { GT__PEND_METRICS = 1, GT__PEND_STATUS = 2 };

/* "step_" digits ext: the step, else -1. */
static int64_t gt__step_of(const char *name, const char *ext) {
    if (strncmp(name, "step_", 5) != 0) return -1;
    const char *p = name + 5;
    int64_t s = 0;
    int nd = 0;
    while (*p >= '0' && *p <= '9' && nd < 18) s = s * 10 + (*p++ - '0'), nd++;
    return nd && !strcmp(p, ext) ? s : -1;
}

/* ---- grids ------------------------------------------------------------------------------------- */

static int gt__i64_cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

bool gt__grids_load(gt__runs *R, gt__run *r) {
    if (r->grids_loaded) return true;
    r->ngrids = 0;
    char *p = gt__run_path(R, r->name, "samples");
    DIR *d = p ? opendir(p) : NULL;
    free(p);
    for (struct dirent *e; d && (e = readdir(d));) {
        int64_t s = gt__step_of(e->d_name, ".png");
        if (s < 0) continue;
        if (r->ngrids == r->gcap) {
            int64_t cap = r->gcap ? r->gcap * 2 : 256;
            int64_t *g = realloc(r->grids, (size_t)cap * sizeof *g);
            if (!g) {
                closedir(d);
                return false;
            }
            r->grids = g, r->gcap = cap;
        }
        r->grids[r->ngrids++] = s;
    }
    if (d) closedir(d);
    if (r->ngrids > 1) qsort(r->grids, (size_t)r->ngrids, sizeof *r->grids, gt__i64_cmp); /* grids NULL when none */
    int64_t k = 0;
    for (int64_t i = 0; i < r->ngrids; i++)
        if (!k || r->grids[k - 1] != r->grids[i]) r->grids[k++] = r->grids[i];
    r->ngrids = k;
    r->grids_loaded = true;
    return true;
}

static int64_t gt__lower(const gt__run *r, int64_t s) {
    int64_t lo = 0, hi = r->ngrids;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (r->grids[mid] < s) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void gt__grid_change(gt__run *r, int64_t s, bool add) {
    pthread_mutex_lock(&r->gmu);
    if (r->grids_loaded) {
        int64_t i = gt__lower(r, s);
        bool there = i < r->ngrids && r->grids[i] == s;
        if (add && !there) {
            if (r->ngrids == r->gcap) {
                int64_t cap = r->gcap ? r->gcap * 2 : 256;
                int64_t *g = realloc(r->grids, (size_t)cap * sizeof *g);
                if (!g) r->grids_loaded = false; /* scanned again on next use */
                else r->grids = g, r->gcap = cap;
            }
            if (r->grids_loaded) {
                memmove(r->grids + i + 1, r->grids + i, (size_t)(r->ngrids - i) * sizeof *r->grids);
                r->grids[i] = s;
                r->ngrids++;
            }
        } else if (!add && there && r->ngrids > 4096) { /* a mass removal would be quadratic: scan again later */
            r->grids_loaded = false;
            r->ngrids = 0;
        } else if (!add && there) {
            memmove(r->grids + i, r->grids + i + 1, (size_t)(r->ngrids - i - 1) * sizeof *r->grids);
            r->ngrids--;
        }
    }
    pthread_mutex_unlock(&r->gmu);
}

/* ---- runs come and go -------------------------------------------------------------------------- */

static int gt__add_watch(gt__runs *R, const char *name, const char *sub, uint32_t mask) {
    char *p = gt__run_path(R, name, sub);
    int wd = p ? inotify_add_watch(R->ifd, p, mask) : -1;
    free(p);
    return wd;
}

static bool gt__exists(gt__runs *R, const char *name, const char *rel) {
    char *p = gt__run_path(R, name, rel);
    struct stat sb;
    bool ok = p && stat(p, &sb) == 0;
    free(p);
    return ok;
}

static gt__run *gt__find(gt__runs *R, const char *name) {
    for (gt__run *r = R->head; r; r = r->next)
        if (!strcmp(r->name, name)) return r;
    return NULL;
}

static void gt__attach(gt__runs *R, const char *name) {
    if (!gt__run_name_ok(name)) return;
    pthread_mutex_lock(&R->mu);
    gt__run *had = gt__find(R, name);
    pthread_mutex_unlock(&R->mu);
    if (had) return;
    gt__run *r = gt__run_new(name);
    if (!r) return;
    r->wd_dir = gt__add_watch(R, name, NULL, GT__RUN_MASK);
    if (r->wd_dir < 0) {
        gt__run_free(r);
        return;
    }
    r->wd_samples = gt__add_watch(R, name, "samples", GT__SUB_MASK);
    r->wd_ckpt = gt__add_watch(R, name, "checkpoints", GT__SUB_MASK);
    bool listed = gt__exists(R, name, "config.json");
    pthread_mutex_lock(&R->mu);
    r->listed = listed;
    r->next = R->head;
    R->head = r;
    R->n++;
    if (listed) gt__run_touch(R, r);
    pthread_mutex_unlock(&R->mu);
}

static void gt__detach(gt__runs *R, gt__run *r) {
    pthread_mutex_lock(&R->mu);
    gt__run **pp = &R->head;
    while (*pp && *pp != r) pp = &(*pp)->next;
    if (!*pp) {
        pthread_mutex_unlock(&R->mu);
        return;
    }
    *pp = r->next;
    R->n--;
    r->dead = true;
    gt_buf b = {0};
    gt__buf_puts(&b, "{\"name\":");
    gt__buf_json_str(&b, r->name);
    gt__buf_puts(&b, "}");
    gt__run_push(R, r, gt__event_blob("removed", &b));
    gt__run_touch(R, r);
    int wds[3] = {r->wd_dir, r->wd_samples, r->wd_ckpt};
    r->wd_dir = r->wd_samples = r->wd_ckpt = -1;
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&R->mu);
    for (int i = 0; i < 3; i++)
        if (wds[i] >= 0) inotify_rm_watch(R->ifd, wds[i]);
    if (last) gt__run_free(r);
}

static void gt__detach_all(gt__runs *R) {
    for (;;) {
        pthread_mutex_lock(&R->mu);
        gt__run *r = R->head;
        pthread_mutex_unlock(&R->mu);
        if (!r) break;
        gt__detach(R, r);
    }
}

/* The runs folder: watched and scanned (new runs attached, vanished ones detached). */
static void gt__scan(gt__runs *R) {
    if (R->dir_wd < 0) {
        R->dir_wd = inotify_add_watch(R->ifd, R->dir, GT__DIR_MASK);
        if (R->dir_wd < 0) return;
    }
    DIR *d = opendir(R->dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
        if (gt__run_name_ok(e->d_name)) gt__attach(R, e->d_name);
    }
    if (d) closedir(d);
    for (;;) { /* one vanished run at a time (the list changes under a detach) */
        gt__run *gone = NULL;
        pthread_mutex_lock(&R->mu);
        for (gt__run *r = R->head; r && !gone; r = r->next)
            if (!gt__exists(R, r->name, NULL)) gone = r;
        pthread_mutex_unlock(&R->mu);
        if (!gone) break;
        gt__detach(R, gone);
    }
}

/* ---- events -------------------------------------------------------------------------------------- */

static void gt__file_event(gt__runs *R, gt__run *r, const char *kind, const char *file, int64_t step, const char *rel) {
    gt_buf b = {0};
    gt__buf_puts(&b, "{\"file\":");
    gt__buf_json_str(&b, file);
    if (step >= 0) gt__buf_printf(&b, ",\"step\":%lld", (long long)step);
    else gt__buf_puts(&b, ",\"step\":null");
    if (rel) {
        char *p = gt__run_path(R, r->name, rel);
        struct stat sb;
        if (p && stat(p, &sb) == 0) gt__buf_printf(&b, ",\"bytes\":%lld", (long long)sb.st_size);
        free(p);
    }
    gt__buf_puts(&b, "}");
    gt__blob *ev = gt__event_blob(kind, &b);
    pthread_mutex_lock(&R->mu);
    gt__run_push(R, r, ev);
    gt__run_touch(R, r);
    pthread_mutex_unlock(&R->mu);
}

static void gt__on_run_event(gt__runs *R, gt__run *r, const struct inotify_event *ev, int *pend) {
    const char *nm = ev->len ? ev->name : "";
    uint32_t m = ev->mask;
    if (ev->wd == r->wd_dir) {
        if (m & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
            gt__detach(R, r);
            return;
        }
        if (!strcmp(nm, "config.json")) {
            bool listed = gt__exists(R, r->name, "config.json");
            pthread_mutex_lock(&R->mu);
            r->listed = listed;
            gt__run_touch(R, r);
            pthread_mutex_unlock(&R->mu);
        } else if (!strcmp(nm, "status.json") && (m & (IN_MOVED_TO | IN_CLOSE_WRITE))) {
            *pend |= GT__PEND_STATUS;
        } else if (!strcmp(nm, "metrics.jsonl")) {
            *pend |= GT__PEND_METRICS;
        } else if (!strcmp(nm, "last.safetensors") && (m & (IN_MOVED_TO | IN_CLOSE_WRITE))) {
            gt__file_event(R, r, "checkpoint", "last.safetensors", -1, "last.safetensors");
        } else if ((m & IN_ISDIR) && (m & (IN_CREATE | IN_MOVED_TO))) {
            if (!strcmp(nm, "samples") && r->wd_samples < 0) {
                r->wd_samples = gt__add_watch(R, r->name, "samples", GT__SUB_MASK);
                pthread_mutex_lock(&r->gmu);
                r->grids_loaded = false;
                pthread_mutex_unlock(&r->gmu);
            } else if (!strcmp(nm, "checkpoints") && r->wd_ckpt < 0) {
                r->wd_ckpt = gt__add_watch(R, r->name, "checkpoints", GT__SUB_MASK);
            }
        }
        return;
    }
    bool samples = ev->wd == r->wd_samples;
    if (m & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        if (samples) {
            r->wd_samples = -1;
            pthread_mutex_lock(&r->gmu);
            r->grids_loaded = false;
            r->ngrids = 0;
            pthread_mutex_unlock(&r->gmu);
        } else {
            r->wd_ckpt = -1;
        }
        return;
    }
    int64_t s = gt__step_of(nm, samples ? ".png" : ".safetensors");
    if (s < 0) return;
    char file[96];
    snprintf(file, sizeof file, "%s/%s", samples ? "samples" : "checkpoints", nm);
    if (m & (IN_MOVED_TO | IN_CLOSE_WRITE)) {
        if (samples) gt__grid_change(r, s, true);
        gt__file_event(R, r, samples ? "grid" : "checkpoint", file, s, samples ? NULL : file);
    } else if (m & (IN_DELETE | IN_MOVED_FROM)) {
        if (samples) gt__grid_change(r, s, false);
        pthread_mutex_lock(&R->mu);
        gt__run_touch(R, r);
        pthread_mutex_unlock(&R->mu);
    }
}

static void gt__on_metrics(gt__runs *R, gt__run *r) {
    gt_buf b = {0};
    pthread_mutex_lock(&r->mmu);
    if (r->m.loaded) {
        int64_t l0 = 0, e0 = 0;
        gt__metrics_update(R, r, &l0, &e0);
        if (r->m.lines.n > l0 || r->m.eval.n > e0) gt__metrics_event_json(&r->m, &b, l0, e0);
    }
    pthread_mutex_unlock(&r->mmu);
    gt__blob *ev = b.p ? gt__event_blob("metrics", &b) : NULL;
    pthread_mutex_lock(&R->mu);
    gt__run_push(R, r, ev);
    gt__run_touch(R, r);
    pthread_mutex_unlock(&R->mu);
}

static void gt__on_status(gt__runs *R, gt__run *r) {
    pthread_mutex_lock(&R->mu);
    gt__run_touch(R, r);
    bool watched = r->viewers > 0; /* else the summary is made when someone asks */
    pthread_mutex_unlock(&R->mu);
    if (!watched) return;
    char *sum = gt__run_summary(R, r, NULL);
    if (!sum) return;
    gt_buf b = {0};
    gt__buf_puts(&b, sum);
    free(sum);
    gt__blob *ev = gt__event_blob("status", &b);
    pthread_mutex_lock(&R->mu);
    gt__run_push(R, r, ev);
    pthread_mutex_unlock(&R->mu);
}

/* Every run with work pending (pend[i] for the i-th of the list); the list may change meanwhile. */
typedef struct {
    gt__run *r;
    int pend;
} gt__pending;

static void gt__handle(gt__runs *R, const char *buf, ssize_t len) {
    gt__pending pend[64];
    int np = 0;
    bool overflow = false;
    for (const char *p = buf; p < buf + len;) {
        const struct inotify_event *ev = (const struct inotify_event *)p;
        p += sizeof *ev + ev->len;
        if (ev->mask & IN_Q_OVERFLOW) {
            overflow = true;
            continue;
        }
        if (ev->wd == R->dir_wd) {
            if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) inotify_rm_watch(R->ifd, R->dir_wd);
                R->dir_wd = -1;
                for (int i = 0; i < np; i++) gt__run_unref(R, pend[i].r);
                np = 0;
                gt__detach_all(R);
            } else if (ev->len && (ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
                gt__attach(R, ev->name);
            } else if (ev->len && (ev->mask & IN_ISDIR) && (ev->mask & (IN_DELETE | IN_MOVED_FROM))) {
                pthread_mutex_lock(&R->mu);
                gt__run *r = gt__find(R, ev->name);
                pthread_mutex_unlock(&R->mu);
                if (r) {
                    for (int i = 0; i < np; i++)
                        if (pend[i].r == r) {
                            gt__run_unref(R, pend[i].r);
                            pend[i--] = pend[--np];
                        }
                    gt__detach(R, r);
                }
            }
            continue;
        }
        pthread_mutex_lock(&R->mu);
        gt__run *r = R->head;
        while (r && r->wd_dir != ev->wd && r->wd_samples != ev->wd && r->wd_ckpt != ev->wd) r = r->next;
        if (r) r->refs++;
        pthread_mutex_unlock(&R->mu);
        if (!r) continue;
        int i = 0;
        while (i < np && pend[i].r != r) i++;
        int flags = 0;
        gt__on_run_event(R, r, ev, &flags);
        bool dead;
        pthread_mutex_lock(&R->mu);
        dead = r->dead;
        pthread_mutex_unlock(&R->mu);
        if (dead) {
            if (i < np) {
                gt__run_unref(R, pend[i].r);
                pend[i] = pend[--np];
            }
        } else if (flags) {
            if (i == np && np < 64) {
                pthread_mutex_lock(&R->mu);
                r->refs++; /* dropped below */
                pthread_mutex_unlock(&R->mu);
                pend[np++] = (gt__pending){r, 0};
            }
            if (i < np) pend[i].pend |= flags;
        }
        gt__run_unref(R, r);
    }
    for (int i = 0; i < np; i++) {
        if (pend[i].pend & GT__PEND_METRICS) gt__on_metrics(R, pend[i].r);
        if (pend[i].pend & GT__PEND_STATUS) gt__on_status(R, pend[i].r);
        gt__run_unref(R, pend[i].r);
    }
    if (overflow) { /* events were lost: every list is read again */
        gt__scan(R);
        pthread_mutex_lock(&R->mu);
        int n = 0;
        gt__run *rs[1024];
        for (gt__run *r = R->head; r && n < 1024; r = r->next) r->refs++, rs[n++] = r;
        pthread_mutex_unlock(&R->mu);
        for (int i = 0; i < n; i++) {
            pthread_mutex_lock(&rs[i]->gmu);
            rs[i]->grids_loaded = false;
            pthread_mutex_unlock(&rs[i]->gmu);
            gt__on_metrics(R, rs[i]);
            gt__on_status(R, rs[i]);
            gt__run_unref(R, rs[i]);
        }
    }
}

static void *gt__watch_main(void *arg) {
    gt__runs *R = arg;
    char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (!atomic_load(&R->stop)) {
        struct pollfd pf[2] = {{R->ifd, POLLIN, 0}, {R->wake[0], POLLIN, 0}};
        int k = poll(pf, 2, 1000);
        if (atomic_load(&R->stop)) break;
        if (k == 0 && R->dir_wd < 0) gt__scan(R); /* the runs folder (re)appears */
        if (k <= 0 || !(pf[0].revents & POLLIN)) continue;
        ssize_t len = read(R->ifd, buf, sizeof buf);
        if (len > 0) gt__handle(R, buf, len);
        if (R->dir_wd < 0) gt__scan(R);
    }
    return NULL;
}

gt_status gt__watch_start(gt__runs *R) {
    R->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (R->ifd < 0) return gt_set_error(GT_ERR_IO, "inotify: %s", strerror(errno));
    if (pipe2(R->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        close(R->ifd);
        return gt_set_error(GT_ERR_IO, "pipe: %s", strerror(errno));
    }
    gt__scan(R);
    if (pthread_create(&R->th, NULL, gt__watch_main, R) != 0) {
        gt__detach_all(R);
        close(R->ifd);
        close(R->wake[0]);
        close(R->wake[1]);
        return gt_set_error(GT_ERR_IO, "cannot start the runs watcher thread");
    }
    R->th_started = true;
    return GT_OK;
}

void gt__watch_stop(gt__runs *R) {
    if (R->th_started) {
        atomic_store(&R->stop, true);
        ssize_t w = write(R->wake[1], "x", 1);
        (void)w;
        pthread_join(R->th, NULL);
        R->th_started = false;
    }
    if (R->ifd >= 0) close(R->ifd);
    if (R->wake[0] >= 0) close(R->wake[0]);
    if (R->wake[1] >= 0) close(R->wake[1]);
    R->ifd = R->wake[0] = R->wake[1] = -1;
}
