/* --device cpu|cuda|cuda:N of train, sample and eval (gantry/device.h), applied before the command
 * makes any tensor; `gantry info --devices`. Under mpirun, `cuda` without an index is GPU
 * (local rank mod the GPUs of the machine), so the ranks of one machine spread over its GPUs. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"
#include "gantry/device.h"

/* "cpu", "cuda" or "cuda:N" (N digits) */
static bool gt__device_spec_ok(const char *s) {
    if (strcmp(s, "cpu") == 0 || strcmp(s, "cuda") == 0) return true;
    if (strncmp(s, "cuda:", 5) != 0 || !s[5] || strlen(s + 5) > 4) return false;
    for (const char *p = s + 5; *p; p++)
        if (!isdigit((unsigned char)*p)) return false;
    return true;
}

/* The GPUs gt_device_list names ("cuda:0: ..." lines); 0 when none (or no plugin). */
static int gt__gpu_count(void) {
    char buf[4096];
    if (gt_device_list(buf, sizeof buf) != GT_OK) return 0;
    int n = 0;
    for (const char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, "cuda:", 5) == 0 && isdigit((unsigned char)l[5])) n++;
    return n;
}

static char gt__picked[32] = "cpu"; /* the device in use, e.g. "cuda:1" */

int gt_cli_device(const char *cmd, const char *spec, bool quiet) {
    if (!spec) return GT_EXIT_OK;
    if (!gt__device_spec_ok(spec))
        return gt_args_error(cmd, "--device must be cpu, cuda or cuda:N (N a GPU index), got '%s'", spec);
    if (strcmp(spec, "cpu") == 0) return GT_EXIT_OK; /* the default: nothing changes */
    char pick[32];
    snprintf(pick, sizeof pick, "%s", strcmp(spec, "cuda") == 0 ? "cuda:0" : spec);
    if (strcmp(spec, "cuda") == 0 && gt_dist_active()) {
        int n = gt__gpu_count(); /* 0: gt_device_use below says why */
        if (n > 0) snprintf(pick, sizeof pick, "cuda:%d", gt_dist_local_rank() % n);
    }
    if (gt_device_use(pick) != GT_OK) {
        if (gt_dist_active())
            fprintf(stderr, "gantry %s: rank %d: --device %s: %s\n", cmd, gt_dist_rank(), spec, gt_last_error());
        else fprintf(stderr, "gantry %s: --device %s: %s\n", cmd, spec, gt_last_error());
        return GT_EXIT_FAIL;
    }
    snprintf(gt__picked, sizeof gt__picked, "%s", pick);
    if (!quiet && gt_dist_rank() == 0)
        fprintf(stderr, "gantry %s: on %s%s\n", cmd, pick,
                gt_dist_active() && strcmp(spec, "cuda") == 0 ? " (rank 0; each rank: GPU local rank mod GPUs)" : "");
    return GT_EXIT_OK;
}

const char *gt_cli_device_label(void) { return gt_device_current() == GT_DEVICE_CUDA ? gt__picked : "cpu"; }

int gt_cli_info_devices(void) {
    char buf[8192];
    if (gt_device_list(buf, sizeof buf) != GT_OK) return gt_cli_fail("info", "--devices");
    fputs(buf, stdout);
    return GT_EXIT_OK;
}
