/* `gantry train` when a checkpoint save fails (an injected fault,
 * GANTRY_FAULT in gantry/io.h): the program exits 1 with a message naming the
 * file and the error, the run's last checkpoint is still the previous one,
 * byte for byte, with no temporary file beside it, and --resume carries on
 * from it to the end. Three places of a periodic save: a write of the step
 * checkpoint (ENOSPC), its fsync (EIO), and the rename that makes it
 * last.safetensors (EIO). */
#include <dirent.h>

#include "cli_util.h"

static char g_idx[700];

static const char *tp(const char *name) { return gt_test_path(name); }

#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "8", "--n-samples", "4"

/* Files in dir whose name starts with '.' (temporaries of the file layer). */
static int hidden_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            fprintf(stderr, "  left in %s: %s\n", dir, e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

static void one_fault(const char *name, const char *fault, const char *says_file, const char *says_error) {
    char run[700], last[800], ckdir[800];
    snprintf(run, sizeof run, "%s", tp(name));
    snprintf(last, sizeof last, "%s/last.safetensors", run);
    snprintf(ckdir, sizeof ckdir, "%s/checkpoints", run);
    /* steps 1-2, checkpointed at 2 */
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "2", "--out", run, TINY, "--ckpt-every", "2",
              "--sample-every", "0", "--quiet");
    size_t n1 = 0;
    unsigned char *before = gt_test_read_all(last, &n1);
    CHECK_MSG(before != NULL, "%s: no last checkpoint after the first train", name);
    /* resumed to 4 with the fault at the save of step 4 */
    setenv("GANTRY_FAULT", fault, 1);
    int rc = gt_cli_run("train", "--out", run, "--resume", "--steps", "4", "--quiet", NULL);
    unsetenv("GANTRY_FAULT");
    CHECK_MSG(rc == 1 && gt_cli_said(says_file) && gt_cli_said(says_error),
              "%s (GANTRY_FAULT=%s): rc %d (want 1), the output should name '%s' and '%s':\n%s", name, fault, rc,
              says_file, says_error, gt_cli_out);
    CHECK_MSG(!gt_cli_said("ignoring"), "%s: GANTRY_FAULT=%s was not understood:\n%s", name, fault, gt_cli_out);
    size_t n2 = 0;
    unsigned char *after = gt_test_read_all(last, &n2);
    CHECK_MSG(after && n2 == n1 && memcmp(after, before, n1) == 0, "%s: last.safetensors changed", name);
    free(after);
    free(before);
    CHECK_MSG(hidden_files(run) == 0 && hidden_files(ckdir) == 0, "%s: temporary files were left", name);
    CHECK_CLI(0, "step         2 of 2", "info", "--ckpt", last);
    /* the previous checkpoint resumes and the run finishes */
    CHECK_CLI(0, NULL, "train", "--out", run, "--resume", "--steps", "4", "--quiet");
    CHECK_CLI(0, "step         4 of 4", "info", "--ckpt", last);
    CHECK(hidden_files(run) == 0 && hidden_files(ckdir) == 0);
}

static void test_faults_at_checkpoint(void) {
    /* the second write of checkpoints/step_000004.safetensors (its header) fails */
    one_fault("write", "write:2:ENOSPC:step_000004", "step_000004.safetensors", "No space left on device");
    one_fault("fsync", "fsync:1:EIO:step_000004", "step_000004.safetensors", "Input/output error");
    /* step_000004 is written; making it last.safetensors fails */
    one_fault("rename", "rename:1:EIO:last.safetensors", "last.safetensors", "Input/output error");
}

static void test_bad_fault_spec(void) {
    /* a malformed GANTRY_FAULT is said, and ignored */
    setenv("GANTRY_FAULT", "write:zero:ENOSPC", 1);
    CHECK_CLI(0, "ignoring 'write:zero:ENOSPC'", "train", "--data", g_idx, "--steps", "1", "--out", tp("bad"), TINY,
              "--sample-every", "0", "--quiet");
    unsetenv("GANTRY_FAULT");
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "gantry program not found (build the gantry_cli target)\n");
        return 1;
    }
    snprintf(g_idx, sizeof g_idx, "%s", tp("blobs-images-idx3-ubyte"));
    if (!gt_test_write_idx(g_idx, 32)) return 1;
    RUN(test_faults_at_checkpoint);
    RUN(test_bad_fault_spec);
    return gt_test_finish();
}
