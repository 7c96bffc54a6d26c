/* src/data/data_internal.h - what the dataset readers share: the precomputed
 * resampler, dataset allocation, and small file helpers. */
#ifndef GANTRY_DATA_INTERNAL_H
#define GANTRY_DATA_INTERNAL_H

#include "../internal.h"
#include "../io/image.h"

/* Byte -> float conversion is memory-bound: threads only pay for large copies
 * (and cost a lot on a loaded machine). */
#define GT_DATA_PAR_COPY ((int64_t)1 << 21)

/* One axis of a separable resampling: output i reads src[start[i] .. start[i]+len[i])
 * with weights w[i * taps .. i * taps + len[i]). */
typedef struct gt__axis {
    int out, taps;
    int *start, *len; /* (out) */
    float *w;         /* (out, taps) */
} gt__axis;

/* Resampler from (sh, sw) crop boxes to (dh, dw): crop offsets y0, x0 and size ch x cw
 * inside the sh x sw source. */
typedef struct gt__resizer {
    int sh, sw, y0, x0, ch, cw, dh, dw;
    bool identity; /* crop == source and same size: a copy */
    gt__axis ax, ay;
} gt__resizer;

/* Plans resampling of the centred crop with aspect dh:dw of sh x sw to dh x dw. */
gt_status gt__resizer_init(gt__resizer *r, int sh, int sw, int dh, int dw, bool crop);
void gt__resizer_free(gt__resizer *r);
/* src planar (c, sh, sw) -> dst planar (c, dh, dw). tmp: (c, ch, dw) floats or NULL
 * (then allocated). */
gt_status gt__resizer_run_u8(const gt__resizer *r, const uint8_t *src, int c, uint8_t *dst, float *tmp);

/* Brings one planar image (sc, sh, sw) into the dataset's slot (ds->c, ds->h, ds->w):
 * crop-resize then channel conversion. r must be planned for (sh, sw) -> (h, w). */
gt_status gt__transform_into(const gt__resizer *r, const uint8_t *src, int sc, uint8_t *dst, int dc);

/* Allocates ds->pixels (and labels when with_labels) for n images of (c, h, w),
 * checking sizes against GT_DATA_MAX_BYTES. `what` names the source in errors. */
gt_status gt__dataset_alloc(gt_dataset *ds, int64_t n, int c, int h, int w, bool with_labels, const char *what);
gt_dataset *gt__dataset_new(const char *source);

/* Readers (each fills a dataset made by gt__dataset_new). */
gt_status gt__idx_load(gt_dataset *ds, const char *images_path, int res, int ch, const gt_dataset_opts *o);
gt_status gt__cifar_load(gt_dataset *ds, const char *const *files, int nfiles, int res, int ch,
                         const gt_dataset_opts *o);
/* paired: every image is A | B side by side (ds->pixels_a gets A, ds->pixels B). */
gt_status gt__folder_load(gt_dataset *ds, const char *dir, int res, int ch, const gt_dataset_opts *o, bool paired);
#define GT__PAIRED "paired:" /* the spec prefix of paired folders */

/* The window [first, first+count) of n images selected by opts (offset, limit). */
gt_status gt__select(int64_t n, const gt_dataset_opts *o, const char *what, int64_t *first, int64_t *count);

char *gt__strdup(const char *s);

#endif
