/* Loading the Inception weights (safetensors), with the hint for a missing file. */
#include <errno.h>

#include "inception_internal.h"

const char *gt_inception_weights_hint(void) {
    return "the FID Inception weights are the public file " GT_INCEPTION_WEIGHTS_PTH
           " (pytorch-fid's), downloaded on a machine with internet access from\n  " GT_INCEPTION_WEIGHTS_URL
           "\nand converted once to safetensors:\n  python3 scripts/convert_inception.py " GT_INCEPTION_WEIGHTS_PTH
           " " GT_INCEPTION_WEIGHTS_FILE "\nthen pass the .safetensors file (gantry eval --inception FILE)";
}

gt_status gt_inception_load(gt_inception *net, const char *path) {
    if (!net || !path) return gt_set_error(GT_ERR_ARG, "gt_inception_load: net or path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return gt_set_error(GT_ERR_IO, "inception weights '%s' cannot be opened (%s): %s", path, strerror(errno),
                                gt_inception_weights_hint());
    fclose(f);
    return gt_set_error(GT_ERR_STATE, "gt_inception_load: safetensors loading is not built yet");
}
