/* A folder of PNG / JPEG images: found recursively (or flat), sorted by relative
 * path for determinism, decoded (in parallel), centre-cropped and resized to the
 * target size. First-level sub-folders are the classes. Paired folders (paired:DIR): each image
 * is A | B side by side, its halves resampled each on its own (A to ds->pixels_a, B to pixels). */
#include "data_internal.h"

#include <dirent.h>
#include <errno.h>
#include <strings.h>
#include <sys/stat.h>

#define GT_FOLDER_MAX_DEPTH 32
#define GT_FOLDER_MAX_FILE ((int64_t)512 << 20)

typedef struct {
    char **rel; /* paths relative to the root */
    int64_t n, cap;
} gt__list;

static bool gt__is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static gt_status gt__push(gt__list *l, const char *rel) {
    if (l->n == l->cap) {
        int64_t nc = l->cap ? l->cap * 2 : 256;
        char **nr = realloc(l->rel, sizeof *nr * (size_t)nc);
        if (!nr) return gt_set_error(GT_ERR_OOM, "image folder: out of memory listing files");
        l->rel = nr, l->cap = nc;
    }
    if (!(l->rel[l->n] = gt__strdup(rel))) return gt_set_error(GT_ERR_OOM, "image folder: out of memory listing files");
    l->n++;
    return GT_OK;
}

static gt_status gt__walk(const char *root, const char *rel, int depth, bool flat, gt__list *l) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) return gt_set_error(GT_ERR_IO, "%s: cannot read folder: %s", dir, strerror(errno));
    gt_status st = GT_OK;
    struct dirent *e;
    while (!st && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ., .., hidden files */
        char r[4096], full[8192];
        if (snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= (int)sizeof r) {
            st = gt_set_error(GT_ERR_IO, "%s/%s: path too long", dir, e->d_name);
            break;
        }
        snprintf(full, sizeof full, "%s/%s", root, r);
        struct stat sb;
        if (stat(full, &sb) != 0) continue; /* dangling link */
        if (S_ISDIR(sb.st_mode)) {
            if (!flat && depth < GT_FOLDER_MAX_DEPTH) st = gt__walk(root, r, depth + 1, flat, l);
        } else if (S_ISREG(sb.st_mode) && gt__is_image_name(e->d_name)) {
            st = gt__push(l, r);
        }
    }
    closedir(d);
    return st;
}

static int gt__strcmp_p(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Decodes root/rel into a planar (c, h, w) buffer; paired: into (2, c, h, w / 2), the left half A
 * then the right half B (*pw: the width of each part, img->w for unpaired images). */
static gt_status gt__load_planar(const char *root, const char *rel, bool paired, gt_image *img, uint8_t **planar,
                                 int *pw) {
    char full[8192];
    snprintf(full, sizeof full, "%s/%s", root, rel);
    uint8_t *buf;
    size_t len;
    *planar = NULL;
    gt_status st = gt__read_file(full, GT_FOLDER_MAX_FILE, &buf, &len);
    if (st) return st;
    st = gt_image_decode(buf, len, full, img);
    free(buf);
    if (st) return st;
    if (paired && (img->w % 2 != 0 || img->w < 2)) {
        st = gt_set_error(GT_ERR_FORMAT,
                          "%s: %d x %d, an odd width: a paired image is A | B side by side, two halves of the same "
                          "size (an even width)",
                          full, img->w, img->h);
        gt_image_free(img);
        return st;
    }
    *pw = paired ? img->w / 2 : img->w;
    *planar = malloc((size_t)img->w * img->h * img->c);
    uint8_t *whole = paired ? malloc((size_t)img->w * img->h * img->c) : NULL;
    if (!*planar || (paired && !whole)) {
        free(*planar), free(whole);
        *planar = NULL;
        gt_image_free(img);
        return gt_set_error(GT_ERR_OOM, "%s: out of memory (%d x %d image)", full, img->w, img->h);
    }
    gt_hwc_to_chw_u8(img->data, paired ? whole : *planar, img->h, img->w, img->c);
    if (paired) { /* rows of each channel: the left half to A, the right half to B */
        const int64_t hw = (int64_t)img->h * *pw, part = (int64_t)img->c * hw;
        for (int64_t r = 0; r < (int64_t)img->c * img->h; r++) {
            memcpy(*planar + r * *pw, whole + r * img->w, (size_t)*pw);
            memcpy(*planar + part + r * *pw, whole + r * img->w + *pw, (size_t)*pw);
        }
        free(whole);
    }
    return GT_OK;
}

/* Brings a decoded planar image (or both parts of a paired one) into slot i of ds. */
static gt_status gt__place(const gt_dataset *ds, const gt_image *img, const uint8_t *planar, int pw, int64_t i) {
    const int64_t per = (int64_t)ds->c * ds->h * ds->w, part = (int64_t)img->c * img->h * pw;
    gt__resizer r;
    gt_status st = gt__resizer_init(&r, img->h, pw, ds->h, ds->w, true);
    if (st) return st;
    if (ds->pixels_a) st = gt__transform_into(&r, planar, img->c, ds->pixels_a + i * per, ds->c);
    if (!st) st = gt__transform_into(&r, planar + (ds->pixels_a ? part : 0), img->c, ds->pixels + i * per, ds->c);
    gt__resizer_free(&r);
    return st;
}

static gt_status gt__load_one(const char *root, const char *rel, const gt_dataset *ds, int64_t i) {
    gt_image img;
    uint8_t *planar;
    int pw;
    gt_status st = gt__load_planar(root, rel, ds->pixels_a != NULL, &img, &planar, &pw);
    if (st) return st;
    st = gt__place(ds, &img, planar, pw, i);
    if (st) {
        char why[768];
        snprintf(why, sizeof why, "%s", gt_last_error());
        gt_set_error(st, "%s/%s: %s", root, rel, why);
    }
    free(planar);
    gt_image_free(&img);
    return st;
}

/* Classes: sorted distinct first path components of files in sub-folders. */
static gt_status gt__classes(gt_dataset *ds, char **rel, int64_t first, int64_t count) {
    int64_t nsub = 0;
    for (int64_t i = 0; i < count; i++) nsub += strchr(rel[first + i], '/') != NULL;
    if (nsub == 0) return GT_OK;
    ds->labels = malloc(sizeof(int32_t) * (size_t)count);
    ds->class_names = calloc((size_t)nsub, sizeof(char *));
    if (!ds->labels || !ds->class_names) return gt_set_error(GT_ERR_OOM, "%s: out of memory", ds->source);
    int k = 0;
    for (int64_t i = 0; i < count; i++) { /* rel is sorted, so each class's files are contiguous */
        const char *p = rel[first + i], *sl = strchr(p, '/');
        if (!sl) {
            ds->labels[i] = -1;
            continue;
        }
        size_t len = (size_t)(sl - p);
        if (k == 0 || strlen(ds->class_names[k - 1]) != len || strncmp(ds->class_names[k - 1], p, len) != 0) {
            if (!(ds->class_names[k] = malloc(len + 1))) return gt_set_error(GT_ERR_OOM, "%s: out of memory", ds->source);
            memcpy(ds->class_names[k], p, len);
            ds->class_names[k][len] = 0;
            ds->num_classes = ++k;
        }
        ds->labels[i] = k - 1;
    }
    return GT_OK;
}

#define GT__SKIP_HINT "; --skip-bad-images leaves unreadable images out (and counts them)"

gt_status gt__folder_load(gt_dataset *ds, const char *root, int res, int ch, const gt_dataset_opts *o, bool paired) {
    bool skip = o && o->skip_bad;
    gt__list l = {0};
    gt_status st = gt__walk(root, "", 0, o && o->flat, &l);
    int64_t first = 0, count = 0;
    if (!st && l.n == 0)
        st = gt_set_error(GT_ERR_IO, "%s: no .png / .jpg / .jpeg images in this folder%s", root,
                          o && o->flat ? "" : " or its sub-folders");
    if (!st) {
        qsort(l.rel, (size_t)l.n, sizeof *l.rel, gt__strcmp_p);
        st = gt__select(l.n, o, root, &first, &count);
    }
    uint8_t *ok = NULL;
    char **kept = NULL;
    int64_t bad = count, nbad = 0; /* the first unreadable image (index in the selection), how many */
    char bad_msg[1024] = "";
    if (!st && (!(ok = calloc((size_t)count, 1)) || !(kept = malloc(sizeof *kept * (size_t)count))))
        st = gt_set_error(GT_ERR_OOM, "%s: out of memory", root);
    /* the first image that decodes fixes the native size */
    gt_image img0 = {0};
    uint8_t *planar0 = NULL;
    int pw0 = 0;
    int64_t i0 = 0;
    for (; !st && i0 < count; i0++) {
        gt_status s = gt__load_planar(root, l.rel[first + i0], paired, &img0, &planar0, &pw0);
        if (!s) break;
        if (!nbad++) bad = i0, snprintf(bad_msg, sizeof bad_msg, "%s", gt_last_error());
        if (!skip) {
            st = gt_set_error(s, "%s" GT__SKIP_HINT, bad_msg); /* (the message is copied first) */
            break;
        }
    }
    if (!st && i0 == count)
        st = gt_set_error(GT_ERR_FORMAT, "%s: none of its %lld images could be read (the first: %s)", root,
                          (long long)count, bad_msg);
    if (!st) {
        int h = res ? res : img0.h, w = res ? res : pw0, c = ch ? ch : img0.c;
        ds->src_c = img0.c, ds->src_h = img0.h, ds->src_w = pw0;
        st = gt__dataset_alloc(ds, count, c, h, w, false, root);
        /* A as much again: the size check on twice the images */
        if (!st && paired && (count > GT_DATA_MAX_BYTES / 2 / ((int64_t)c * h * w)))
            st = gt_set_error(GT_ERR_ARG, "%s: %lld paired images of 2 x %d x %d x %d would take more than %lld bytes",
                              root, (long long)count, c, h, w, (long long)GT_DATA_MAX_BYTES);
        if (!st && paired && !(ds->pixels_a = malloc((size_t)(count * c * h * w))))
            st = gt_set_error(GT_ERR_OOM, "%s: out of memory for %lld paired images", root, (long long)count);
    }
    int64_t per = (int64_t)ds->c * ds->h * ds->w;
    if (!st) {
        st = gt__place(ds, &img0, planar0, pw0, i0);
        if (!st) ok[i0] = 1;
    }
    free(planar0);
    gt_image_free(&img0);
    if (!st && i0 + 1 < count) { /* the rest in parallel; the first failing file (in order) is reported */
        int64_t stop = count;     /* without skip_bad: nothing past the first bad file is needed */
        gt_status bad_st = GT_OK;
#pragma omp parallel for schedule(dynamic, 8)
        for (int64_t i = i0 + 1; i < count; i++) {
            int64_t cur;
#pragma omp atomic read
            cur = stop;
            if (i > cur) continue;
            gt_status s = gt__load_one(root, l.rel[first + i], ds, i);
            if (!s) {
                ok[i] = 1;
                continue;
            }
#pragma omp critical(gt_folder_error)
            {
                nbad++;
                if (i < bad) {
                    bad = i, bad_st = s;
                    snprintf(bad_msg, sizeof bad_msg, "%s", gt_last_error());
                    if (!skip) {
#pragma omp atomic write
                        stop = i;
                    }
                }
            }
        }
        if (!skip && bad_st) st = gt_set_error(bad_st, "%s" GT__SKIP_HINT, bad_msg);
    }
    int64_t n = 0;
    if (!st) { /* close the gaps the unreadable images left */
        for (int64_t i = 0; i < count; i++) {
            if (!ok[i]) continue;
            if (n != i) memmove(ds->pixels + n * per, ds->pixels + i * per, (size_t)per);
            if (n != i && ds->pixels_a) memmove(ds->pixels_a + n * per, ds->pixels_a + i * per, (size_t)per);
            kept[n++] = l.rel[first + i];
        }
        ds->n = n;
        ds->skipped = count - n;
        if (ds->skipped && !(ds->skipped_first = gt__strdup(bad_msg)))
            st = gt_set_error(GT_ERR_OOM, "%s: out of memory", root);
    }
    if (!st) st = gt__classes(ds, kept, 0, n);
    free(ok);
    free(kept);
    for (int64_t i = 0; i < l.n; i++) free(l.rel[i]);
    free(l.rel);
    return st;
}
