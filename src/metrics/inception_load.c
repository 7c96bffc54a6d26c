/* Loading the FID Inception weights from safetensors (written by
 * scripts/convert_inception.py), with messages that say what to do when the
 * file is missing, is the unconverted .pth, or is not the network's. */
#include <errno.h>
#include <sys/stat.h>

#include "inception_internal.h"

const char *gt_inception_weights_hint(void) {
    return "the FID Inception weights are the public file " GT_INCEPTION_WEIGHTS_PTH
           " (pytorch-fid's; torch-fidelity's weights-inception-2015-12-05-6726825d.pth is the same), "
           "downloaded on a machine with internet access from\n  " GT_INCEPTION_WEIGHTS_URL
           "\nand converted once to safetensors (needs python3-torch):\n"
           "  python3 scripts/convert_inception.py " GT_INCEPTION_WEIGHTS_PTH " " GT_INCEPTION_WEIGHTS_FILE "\n"
           "then passed as the weights file (gantry eval --inception " GT_INCEPTION_WEIGHTS_FILE ")\n"
           "(without Inception weights, --extractor fmnist works: the Fashion-MNIST classifier shipped with gantry)";
}

/* The first bytes of a zip archive: what torch.save writes. */
static bool gt__is_zip(const char *path) {
    FILE *f = fopen(path, "rb");
    unsigned char m[4] = {0};
    bool zip = f && fread(m, 1, 4, f) == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
    if (f) fclose(f);
    return zip;
}

gt_status gt_inception_load(gt_inception *net, const char *path) {
    if (!net || !path || !path[0]) return gt_set_error(GT_ERR_ARG, "gt_inception_load: net or path is NULL/empty");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return gt_set_error(GT_ERR_IO, "inception weights '%s' not found (%s): %s", path, strerror(errno),
                            gt_inception_weights_hint());
    if (!S_ISREG(sb.st_mode))
        return gt_set_error(GT_ERR_IO, "inception weights '%s' is not a regular file: %s", path,
                            gt_inception_weights_hint());
    if (gt__is_zip(path))
        return gt_set_error(GT_ERR_FORMAT,
                            "inception weights '%s' is a PyTorch .pth file, not safetensors: convert it first with\n"
                            "  python3 scripts/convert_inception.py %s " GT_INCEPTION_WEIGHTS_FILE,
                            path, path);
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt_st_load(&s, path);
    if (st) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_st_free(&s);
        return gt_set_error(st, "inception weights '%s' are not a valid safetensors file: %s\n(re-run "
                                "scripts/convert_inception.py on " GT_INCEPTION_WEIGHTS_PTH ")",
                            path, msg);
    }
    st = gt_st_load_params(&s, "", &net->P, true, false);
    if (st) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", gt_last_error());
        gt_st_free(&s);
        return gt_set_error(st, "inception weights '%s' do not fit the FID Inception-v3: %s", path, msg);
    }
    gt_st_free(&s);
    gt_inception_weights_changed(net);
    return GT_OK;
}
