/* CIFAR-10 binary batches: records of 1 label byte (0..9) + 3072 pixel bytes
 * (1024 R, 1024 G, 1024 B, each 32 x 32 row-major). */
#include "data_internal.h"

#include <errno.h>
#include <sys/stat.h>

#define GT_CIFAR_SIDE 32
#define GT_CIFAR_PIX (3 * GT_CIFAR_SIDE * GT_CIFAR_SIDE)
#define GT_CIFAR_REC (1 + GT_CIFAR_PIX)

gt_status gt__cifar_load(gt_dataset *ds, const char *const *files, int nfiles, int res, int ch,
                         const gt_dataset_opts *o) {
    if (nfiles < 1) return gt_set_error(GT_ERR_IO, "%s: no CIFAR-10 batch files", ds->source);
    int64_t *cnt = calloc((size_t)nfiles, sizeof *cnt), total = 0;
    if (!cnt) return gt_set_error(GT_ERR_OOM, "%s: out of memory", ds->source);
    gt_status st = GT_OK;
    for (int f = 0; f < nfiles && !st; f++) {
        struct stat sb;
        if (stat(files[f], &sb) != 0) st = gt_set_error(GT_ERR_IO, "%s: cannot open: %s", files[f], strerror(errno));
        else if (!S_ISREG(sb.st_mode)) st = gt_set_error(GT_ERR_IO, "%s: not a regular file", files[f]);
        else if (sb.st_size == 0 || sb.st_size % GT_CIFAR_REC != 0)
            st = gt_set_error(GT_ERR_FORMAT,
                              "%s: size %lld bytes is not a positive multiple of the CIFAR-10 record size %d "
                              "(1 label byte + 3072 pixel bytes): the file is truncated or not CIFAR-10 binary",
                              files[f], (long long)sb.st_size, GT_CIFAR_REC);
        else total += cnt[f] = sb.st_size / GT_CIFAR_REC;
    }
    int64_t first = 0, count = 0;
    if (!st) st = gt__select(total, o, ds->source, &first, &count);
    int h = res ? res : GT_CIFAR_SIDE, w = h, c = ch ? ch : 3;
    if (!st) st = gt__dataset_alloc(ds, count, c, h, w, true, ds->source);
    gt__resizer r;
    bool have_r = false;
    if (!st) have_r = !(st = gt__resizer_init(&r, GT_CIFAR_SIDE, GT_CIFAR_SIDE, h, w, true));
    ds->src_c = 3, ds->src_h = GT_CIFAR_SIDE, ds->src_w = GT_CIFAR_SIDE;
    int64_t base = 0, per = (int64_t)c * h * w;
    int mx = 0;
    for (int f = 0; f < nfiles && !st; base += cnt[f], f++) {
        int64_t lo = first > base ? first - base : 0, hi = first + count - base; /* records [lo, hi) of file f */
        if (hi > cnt[f]) hi = cnt[f];
        if (lo >= hi) continue;
        uint8_t *buf;
        size_t len;
        if ((st = gt__read_file(files[f], (int64_t)1 << 32, &buf, &len))) break;
        if ((int64_t)len != cnt[f] * GT_CIFAR_REC) { /* changed since stat */
            st = gt_set_error(GT_ERR_FORMAT, "%s: size changed while reading (%zu bytes)", files[f], len);
            free(buf);
            break;
        }
        for (int64_t k = lo; k < hi && !st; k++) {
            const uint8_t *rec = buf + k * GT_CIFAR_REC;
            if (rec[0] > 9)
                st = gt_set_error(GT_ERR_FORMAT,
                                  "%s: record %lld has label %d; CIFAR-10 labels are 0..9 (CIFAR-100 files, with two "
                                  "label bytes, are not supported): the file is corrupt or not CIFAR-10",
                                  files[f], (long long)k, rec[0]);
        }
        int64_t failed = 0;
#pragma omp parallel for schedule(static) reduction(+ : failed) if (!st && (hi - lo) * per > GT_PAR_MIN)
        for (int64_t k = lo; k < hi; k++) {
            if (st) continue;
            const uint8_t *rec = buf + k * GT_CIFAR_REC;
            int64_t i = base + k - first;
            if (gt__transform_into(&r, rec + 1, 3, ds->pixels + i * per, c) != GT_OK) failed++;
        }
        if (!st && failed) st = gt_set_error(GT_ERR_OOM, "%s: out of memory while resizing", files[f]);
        for (int64_t k = lo; k < hi && !st; k++) {
            int lab = buf[k * GT_CIFAR_REC];
            ds->labels[base + k - first] = lab;
            if (lab > mx) mx = lab;
        }
        free(buf);
    }
    if (have_r) gt__resizer_free(&r);
    if (!st) ds->num_classes = mx + 1;
    free(cnt);
    return st;
}
