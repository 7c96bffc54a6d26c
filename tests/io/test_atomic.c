/* Atomic writes: a child process that writes multi-megabyte checkpoints in a
 * loop is killed with SIGKILL at random moments; after every kill the
 * checkpoint at the final path loads, validates and is whole. Temporaries
 * never take the final name and stale ones are cleaned up. */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/harness.h"
#include "io_test_util.h"

static const char *tpath(const char *name) { return gt_test_path(name); }

#define NW (1 << 20) /* 4 MB of float32 */

typedef struct {
    gt_params P;
    gt_tensor *w, *b; /* borrowed from P */
    uint64_t gen[2];  /* generation and a checksum of it */
} model;

/* Built by hand (no OpenMP): the child runs after fork. */
static void model_init(model *m) {
    gt_params_init(&m->P);
    int sc = gt_scope_begin();
    CHECK(gt_params_add(&m->P, "big.weight", gt_zeros(1, (const int64_t[]){NW}), false) == GT_OK);
    CHECK(gt_params_add(&m->P, "small.bias", gt_zeros(1, (const int64_t[]){7}), false) == GT_OK);
    gt_scope_end(sc);
    CHECK(gt_params_finalize(&m->P) == GT_OK);
    m->w = gt_params_get(&m->P, "big.weight");
    m->b = gt_params_get(&m->P, "small.bias");
    m->gen[0] = m->gen[1] = 0;
}

static void model_set(model *m, uint64_t g) {
    float *w = gt_data(m->w), *b = gt_data(m->b);
    for (int64_t i = 0; i < NW; i++) w[i] = (float)g + (float)(i % 7);
    for (int i = 0; i < 7; i++) b[i] = (float)g;
    m->gen[0] = g;
    m->gen[1] = ~g;
}

/* Whether m holds one whole generation; *g = which. */
static bool model_whole(model *m, uint64_t *g) {
    *g = m->gen[0];
    if (m->gen[1] != ~m->gen[0]) return false;
    const float *w = gt_data(m->w), *b = gt_data(m->b);
    for (int64_t i = 0; i < NW; i++)
        if (w[i] != (float)*g + (float)(i % 7)) return false;
    for (int i = 0; i < 7; i++)
        if (b[i] != (float)*g) return false;
    return true;
}

static void bind(model *m, gt_ckpt *c) {
    gt_ckpt_init(c);
    gt_ckpt_add_params(c, "M.", &m->P);
    gt_ckpt_add_u64(c, "gen", m->gen, 2);
}

static void test_kill_while_writing(void) {
    const char *path = tpath("ckpt.safetensors");
    model m, r;
    model_init(&m);
    model_init(&r);
    gt_ckpt cm, cr;
    bind(&m, &cm);
    bind(&r, &cr);
    model_set(&m, 1);
    CHECK(gt_ckpt_save(&cm, path) == GT_OK);
    uint64_t seed = (uint64_t)time(NULL), last = 1, next = 2;
    int rounds = 8, killed_mid = 0;
    for (int round = 0; round < rounds; round++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            /* the child writes generation after generation until it is killed */
            for (uint64_t g = next;; g++) {
                model_set(&m, g);
                if (gt_ckpt_save(&cm, path) != GT_OK) _exit(3);
            }
        }
        CHECK(pid > 0);
        if (pid < 0) break;
        struct timespec ts = {0, (long)(5 + io_rand(&seed) % 250) * 1000000L};
        nanosleep(&ts, NULL);
        CHECK(kill(pid, SIGKILL) == 0);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child ended otherwise (status %d)", status);
        /* the final path holds a whole checkpoint: the last one or a newer one */
        gt_status st = gt_ckpt_load(&cr, path, 0);
        CHECK_MSG(st == GT_OK, "round %d: %s", round, gt_last_error());
        uint64_t g = 0;
        CHECK_MSG(st == GT_OK && model_whole(&r, &g), "round %d: generation %llu not whole", round,
                  (unsigned long long)g);
        CHECK_MSG(g >= last, "round %d: generation went back from %llu to %llu", round, (unsigned long long)last,
                  (unsigned long long)g);
        int temps = io_count_temps(gt_test_tmpdir(), "ckpt.safetensors");
        CHECK_MSG(temps >= 0 && temps <= 1, "round %d: %d temporaries", round, temps);
        killed_mid += temps == 1;
        printf("  round %d: generation %llu at the final path, %d temporary left by the killed writer\n", round,
               (unsigned long long)g, temps);
        last = g;
        next = g + 1000; /* the next child's generations are new */
    }
    /* the next writer removes the dead writers' temporaries */
    model_set(&m, next);
    CHECK(gt_ckpt_save(&cm, path) == GT_OK);
    CHECK(io_count_temps(gt_test_tmpdir(), "ckpt.safetensors") == 0);
    CHECK(gt_ckpt_load(&cr, path, 0) == GT_OK);
    uint64_t g = 0;
    CHECK(model_whole(&r, &g) && g == next);
    printf("  %d of %d kills landed while a temporary was being written\n", killed_mid, rounds);
    gt_ckpt_free(&cm);
    gt_ckpt_free(&cr);
    gt_params_free(&m.P);
    gt_params_free(&r.P);
}

static void test_atomic_api(void) {
    const char *path = tpath("plain.txt");
    CHECK(gt_write_file_atomic(path, "first", 5) == GT_OK);
    /* an aborted write leaves the old file and no temporary */
    gt_atomic_file a;
    CHECK(gt_atomic_open(&a, path) == GT_OK);
    CHECK(gt_atomic_write(&a, "second, longer", 14) == GT_OK);
    CHECK(io_count_temps(gt_test_tmpdir(), "plain.txt") == 1);
    gt_atomic_abort(&a);
    gt_atomic_abort(&a); /* idempotent */
    CHECK(io_count_temps(gt_test_tmpdir(), "plain.txt") == 0);
    void *buf;
    size_t n;
    CHECK(gt_read_file(path, &buf, &n, 0) == GT_OK && n == 5 && memcmp(buf, "first", 5) == 0);
    CHECK(((char *)buf)[5] == 0);
    free(buf);
    /* a stale temporary of a dead process goes, one of a live process stays */
    char stale[600], live[600];
    snprintf(stale, sizeof stale, "%s/.plain.txt.tmp.%d.abcdef", gt_test_tmpdir(), 999999999);
    snprintf(live, sizeof live, "%s/.plain.txt.tmp.%d.ghijkl", gt_test_tmpdir(), (int)getppid());
    CHECK(io_write_bytes(stale, "x", 1) && io_write_bytes(live, "y", 1));
    CHECK(gt_write_file_atomic(path, "third", 5) == GT_OK);
    CHECK(access(stale, F_OK) != 0 && access(live, F_OK) == 0);
    unlink(live);
    CHECK(gt_read_file(path, &buf, &n, 0) == GT_OK && n == 5 && memcmp(buf, "third", 5) == 0);
    free(buf);
    /* a new file gets ordinary permissions, not mkstemp's 0600 */
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0444) == 0444);
    /* errors name the path */
    CHECK(gt_write_file_atomic("/nonexistent-dir/f", "x", 1) == GT_ERR_IO &&
          strstr(gt_last_error(), "/nonexistent-dir/f"));
    CHECK(gt_write_file_atomic(tpath(""), "x", 1) == GT_ERR_ARG);
    CHECK(gt_read_file(tpath("nope"), &buf, &n, 0) == GT_ERR_IO && strstr(gt_last_error(), "nope"));
    CHECK(gt_read_file(gt_test_tmpdir(), &buf, &n, 0) == GT_ERR_IO && strstr(gt_last_error(), "not a regular file"));
    CHECK(gt_read_file(path, &buf, &n, 3) == GT_ERR_FORMAT && strstr(gt_last_error(), "more than the 3"));
    /* a file name without a directory part */
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(gt_test_tmpdir()) == 0);
    CHECK(gt_write_file_atomic("here.txt", "h", 1) == GT_OK && access("here.txt", F_OK) == 0);
    CHECK(chdir(cwd) == 0);
}

int main(void) {
    RUN(test_atomic_api);
    RUN(test_kill_while_writing);
    return gt_test_finish();
}
