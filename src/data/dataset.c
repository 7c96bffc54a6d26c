/* gt_dataset_open: reads the spec (fashion-mnist, IDX file, CIFAR-10 batches,
 * image folder) and hands it to the right reader; allocation and accessors. */
#include "data_internal.h"

#include <errno.h>
#include <sys/stat.h>

char *gt__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

gt_dataset *gt__dataset_new(const char *source) {
    gt_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->source = gt__strdup(source))) {
        free(ds);
        gt_set_error(GT_ERR_OOM, "dataset %s: out of memory", source);
        return NULL;
    }
    return ds;
}

void gt_dataset_free(gt_dataset *ds) {
    if (!ds) return;
    if (ds->class_names)
        for (int i = 0; i < ds->num_classes; i++) free(ds->class_names[i]);
    free(ds->class_names);
    free(ds->pixels);
    free(ds->pixels_a);
    free(ds->labels);
    free(ds->skipped_first);
    free(ds->source);
    free(ds);
}

gt_status gt__dataset_alloc(gt_dataset *ds, int64_t n, int c, int h, int w, bool with_labels, const char *what) {
    if (n < 1 || c < 1 || h < 1 || w < 1)
        return gt_set_error(GT_ERR_FORMAT, "%s: empty dataset (%lld images of %d x %d x %d)", what, (long long)n, c, h,
                            w);
    int64_t per = (int64_t)c * h * w;
    if (per > GT_DATA_MAX_BYTES || n > GT_DATA_MAX_BYTES / per)
        return gt_set_error(GT_ERR_ARG,
                            "%s: %lld images of %d x %d x %d would take more than %lld bytes; "
                            "use a lower resolution or a limit",
                            what, (long long)n, c, h, w, (long long)GT_DATA_MAX_BYTES);
    ds->n = n, ds->c = c, ds->h = h, ds->w = w;
    ds->pixels = malloc((size_t)(n * per));
    if (with_labels) ds->labels = malloc(sizeof(int32_t) * (size_t)n);
    if (!ds->pixels || (with_labels && !ds->labels))
        return gt_set_error(GT_ERR_OOM, "%s: out of memory for %lld images of %d x %d x %d", what, (long long)n, c, h,
                            w);
    return GT_OK;
}

gt_status gt__select(int64_t n, const gt_dataset_opts *o, const char *what, int64_t *first, int64_t *count) {
    int64_t off = o ? o->offset : 0, lim = o ? o->limit : 0;
    if (off < 0 || lim < 0)
        return gt_set_error(GT_ERR_ARG, "%s: offset %lld and limit %lld must be >= 0", what, (long long)off,
                            (long long)lim);
    if (off >= n)
        return gt_set_error(GT_ERR_ARG, "%s: offset %lld is past the %lld images", what, (long long)off, (long long)n);
    *first = off;
    *count = (lim == 0 || lim > n - off) ? n - off : lim;
    return GT_OK;
}

static bool gt__is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}
static bool gt__exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}
static bool gt__ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static gt_status gt__open_fashion(gt_dataset *ds, const char *split, int res, int ch, const gt_dataset_opts *o) {
    const char *dir = getenv("GANTRY_FASHION_MNIST_DIR");
    if (!dir || !*dir) dir = GT_FASHION_MNIST_DIR;
    const char *stem;
    if (!strcmp(split, "") || !strcmp(split, "train")) stem = "train";
    else if (!strcmp(split, "test") || !strcmp(split, "t10k")) stem = "t10k";
    else
        return gt_set_error(GT_ERR_ARG, "dataset fashion-mnist:%s: unknown split '%s' (use train or test)", split,
                            split);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, stem);
    if (!gt__exists(path)) {
        snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, stem);
        if (!gt__exists(path))
            return gt_set_error(GT_ERR_IO,
                                "dataset fashion-mnist: %s-images-idx3-ubyte[.gz] not found in %s; install it with "
                                "`sudo apt-get install dataset-fashion-mnist` (Debian) or set "
                                "GANTRY_FASHION_MNIST_DIR to the folder holding the IDX files",
                                stem, dir);
    }
    return gt__idx_load(ds, path, res, ch, o);
}

/* Names of the CIFAR-10 batch files in dir for a split, sorted (data_batch_2 before _10). */
static int gt__cifar_cmp(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

static gt_status gt__open_cifar_dir(gt_dataset *ds, const char *dir, const char *split, int res, int ch,
                                    const gt_dataset_opts *o) {
    char **files = NULL;
    int n = 0;
    gt_status st = GT_OK;
    char path[4096];
    if (!strcmp(split, "test")) {
        files = malloc(sizeof *files);
        snprintf(path, sizeof path, "%s/test_batch.bin", dir);
        if (files && (files[0] = gt__strdup(path))) n = 1;
        else st = gt_set_error(GT_ERR_OOM, "%s: out of memory", dir);
    } else {
        for (int i = 1; i <= 64 && !st; i++) {
            snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, i);
            if (!gt__exists(path)) continue;
            char **nf = realloc(files, sizeof *files * (size_t)(n + 1));
            if (!nf || !(nf[n] = gt__strdup(path))) {
                files = nf ? nf : files;
                st = gt_set_error(GT_ERR_OOM, "%s: out of memory", dir);
                break;
            }
            files = nf, n++;
        }
        if (!st && n == 0) {
            snprintf(path, sizeof path, "%s/test_batch.bin", dir);
            if (strcmp(split, "train") != 0 && gt__exists(path)) {
                files = malloc(sizeof *files);
                if (files && (files[0] = gt__strdup(path))) n = 1;
                else st = gt_set_error(GT_ERR_OOM, "%s: out of memory", dir);
            } else
                st = gt_set_error(GT_ERR_IO, "%s: no CIFAR-10 data_batch_*.bin files in this folder", dir);
        }
    }
    if (!st) {
        qsort(files, (size_t)n, sizeof *files, gt__cifar_cmp);
        st = gt__cifar_load(ds, (const char *const *)files, n, res, ch, o);
    }
    for (int i = 0; i < n; i++) free(files[i]);
    free(files);
    return st;
}

static bool gt__has_cifar(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/data_batch_1.bin", dir);
    if (gt__exists(path)) return true;
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    return gt__exists(path);
}

gt_dataset *gt_dataset_open(const char *spec, int resolution, int channels, const gt_dataset_opts *opts) {
    if (!spec || !*spec) {
        gt_set_error(GT_ERR_ARG, "gt_dataset_open: empty dataset name");
        return NULL;
    }
    if (resolution < 0 || resolution > GT_DATA_MAX_RESOLUTION) {
        gt_set_error(GT_ERR_ARG, "dataset %s: resolution %d out of range (0 = native, or 1..%d)", spec, resolution,
                     GT_DATA_MAX_RESOLUTION);
        return NULL;
    }
    if (channels != 0 && channels != 1 && channels != 3) {
        gt_set_error(GT_ERR_ARG, "dataset %s: channels %d not supported (0 = native, 1 or 3)", spec, channels);
        return NULL;
    }
    gt_dataset *ds = gt__dataset_new(spec);
    if (!ds) return NULL;
    gt_status st;
    char *base = gt__strdup(spec);
    if (!base) {
        gt_dataset_free(ds);
        gt_set_error(GT_ERR_OOM, "dataset %s: out of memory", spec);
        return NULL;
    }
    const char *colon = strrchr(spec, ':');
    const char *split = "";
    if (gt_dataset_spec_is_paired(spec)) { /* paired:DIR, A | B side by side */
        const char *dir = spec + strlen(GT__PAIRED);
        if (!*dir) st = gt_set_error(GT_ERR_ARG, "dataset %s: paired: needs a folder (paired:DIR)", spec);
        else if (!gt__is_dir(dir))
            st = gt_set_error(GT_ERR_IO, "dataset %s: %s is not a folder (paired:DIR is a folder of A|B images)", spec,
                              dir);
        else st = gt__folder_load(ds, dir, resolution, channels, opts, true);
        free(base);
        if (st) gt_dataset_free(ds);
        return st ? NULL : ds;
    }
    if (colon && !gt__exists(spec)) { /* NAME:split, unless the whole thing is a real path */
        base[colon - spec] = 0;
        split = colon + 1;
    }
    if (!strcmp(base, "fashion-mnist") || !strcmp(base, "fashion_mnist") || !strcmp(base, "fmnist")) {
        st = gt__open_fashion(ds, split, resolution, channels, opts);
    } else if (gt__is_dir(base)) {
        if (gt__has_cifar(base)) st = gt__open_cifar_dir(ds, base, split, resolution, channels, opts);
        else if (*split)
            st = gt_set_error(GT_ERR_ARG, "dataset %s: a split ':%s' only applies to CIFAR-10 folders and fashion-mnist",
                              spec, split);
        else st = gt__folder_load(ds, base, resolution, channels, opts, false);
    } else if (*split) {
        st = gt_set_error(GT_ERR_IO, "dataset %s: %s does not exist (and '%s' is not a known dataset name)", spec, base,
                          base);
    } else if (!gt__exists(base)) {
        st = gt_set_error(GT_ERR_IO,
                          "dataset %s: no such file or folder, and not a known name (known: fashion-mnist, "
                          "fashion-mnist:train, fashion-mnist:test)",
                          spec);
    } else {
        /* a file: what it holds decides, not its name (CIFAR-10 batches have no signature: .bin) */
        gt_file_kind k = gt_file_sniff(base);
        if (gt__ends_with(base, ".bin") && k == GT_FILE_UNKNOWN) {
            const char *one[1] = {base};
            st = gt__cifar_load(ds, one, 1, resolution, channels, opts);
        } else if (k == GT_FILE_IDX || k == GT_FILE_GZIP || k == GT_FILE_UNKNOWN || k == GT_FILE_EMPTY) {
            /* IDX, or something broken that can only have been meant as one: its reader says what is wrong */
            st = gt__idx_load(ds, base, resolution, channels, opts);
        } else if (k == GT_FILE_PNG || k == GT_FILE_JPEG)
            st = gt_set_error(GT_ERR_FORMAT,
                              "dataset %s: this is a single %s image; a dataset of images is a folder of PNG/JPEG "
                              "files (put the images in a folder and give the folder)",
                              spec, k == GT_FILE_PNG ? "PNG" : "JPEG");
        else
            st = gt_set_error(GT_ERR_FORMAT,
                              "dataset %s: this is %s; expected an IDX file (raw or gzip, MNIST family), a CIFAR-10 "
                              "binary batch (.bin), a folder of PNG/JPEG images, or fashion-mnist[:train|:test]%s",
                              spec, gt_file_kind_name(k),
                              k == GT_FILE_NPY || k == GT_FILE_ZIP ? " (uint8 image arrays in .npy/.npz are read by "
                                                                     "`gantry eval`)"
                                                                   : "");
    }
    free(base);
    if (st) {
        gt_dataset_free(ds);
        return NULL;
    }
    return ds;
}

bool gt_dataset_spec_is_paired(const char *spec) {
    return spec && strncmp(spec, GT__PAIRED, strlen(GT__PAIRED)) == 0;
}

/* Images [start, start+count) of px (ds->pixels or ds->pixels_a) as floats. */
static gt_status gt__read_f32(const gt_dataset *ds, const uint8_t *px, int64_t start, int64_t count, float *out) {
    if (!ds || !out || start < 0 || count < 0 || start > ds->n || count > ds->n - start)
        return gt_set_error(GT_ERR_ARG, "gt_dataset_read_f32: range [%lld, %lld) outside the %lld images",
                            (long long)start, (long long)(start + count), ds ? (long long)ds->n : 0LL);
    int64_t per = (int64_t)ds->c * ds->h * ds->w, tot = count * per;
    const uint8_t *p = px + start * per;
    float lut[256];
    for (int v = 0; v < 256; v++) lut[v] = (float)v / 127.5f - 1.0f;
#pragma omp parallel for schedule(static) if (tot > GT_DATA_PAR_COPY)
    for (int64_t i = 0; i < tot; i++) out[i] = lut[p[i]];
    return GT_OK;
}

gt_status gt_dataset_read_f32(const gt_dataset *ds, int64_t start, int64_t count, float *out) {
    return gt__read_f32(ds, ds ? ds->pixels : NULL, start, count, out);
}

static gt_tensor *gt__slice(const gt_dataset *ds, bool a, int64_t start, int64_t count) {
    if (!ds || count < 1) return gt__fail(GT_ERR_ARG, "gt_dataset_slice: need a dataset and count >= 1");
    if (a && !ds->pixels_a)
        return gt__fail(GT_ERR_ARG, "dataset %s is not paired: it has no inputs A (paired:DIR is)", ds->source);
    if (start < 0 || start > ds->n || count > ds->n - start)
        return gt__fail(GT_ERR_ARG, "gt_dataset_slice: range [%lld, %lld) outside the %lld images", (long long)start,
                        (long long)(start + count), (long long)ds->n);
    gt_tensor *t = gt__new(GT_F32, 4, (const int64_t[]){count, ds->c, ds->h, ds->w});
    if (!t) return NULL;
    gt__read_f32(ds, a ? ds->pixels_a : ds->pixels, start, count, gt_data(t));
    return t;
}

gt_tensor *gt_dataset_slice(const gt_dataset *ds, int64_t start, int64_t count) {
    return gt__slice(ds, false, start, count);
}
gt_tensor *gt_dataset_slice_a(const gt_dataset *ds, int64_t start, int64_t count) {
    return gt__slice(ds, true, start, count);
}
