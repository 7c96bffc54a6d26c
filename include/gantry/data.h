/* gantry/data.h - datasets of 8-bit images and a deterministic batcher.
 *
 * A gt_dataset holds N images already brought to the model's size, (N, C, H, W)
 * uint8 in memory, plus optional int32 labels. Sources (the `spec` string):
 *
 *   fashion-mnist, fashion-mnist:train   Debian's dataset-fashion-mnist, 60000 train images
 *   fashion-mnist:test                   its 10000 test images
 *       (files under /usr/share/datasets/fashion-mnist, or $GANTRY_FASHION_MNIST_DIR)
 *   PATH/to/xxx-images-idx3-ubyte[.gz]   an IDX file (gzip or raw, MNIST family). Labels are
 *                                        read from the file beside it with "images-idx3"
 *                                        replaced by "labels-idx1" (.gz or not) when present.
 *   DIR with data_batch_*.bin            CIFAR-10 binary batches (all data_batch_*.bin, sorted);
 *   DIR:test, DIR:train                  test_batch.bin / the data batches of DIR
 *   FILE.bin                             one CIFAR-10 binary batch file
 *   DIR (anything else)                  a folder of .png / .jpg / .jpeg images (any case),
 *                                        searched recursively, sorted by relative path (byte
 *                                        order). If the images sit in sub-folders, the sorted
 *                                        first-level sub-folder names are the classes (labels
 *                                        0..K-1, like torchvision's ImageFolder); images
 *                                        directly in DIR then have label -1. A flat folder has
 *                                        no labels.
 *   paired:DIR                           a folder of paired images (pix2pix's convention): every
 *                                        image is A | B side by side, A the left half, B the right
 *                                        (an image of odd width is an error naming the file). Found,
 *                                        sorted, labelled and resampled as a folder (each half on its
 *                                        own, to the target size and channels); B is the dataset's
 *                                        images (pixels), A the same images' inputs (pixels_a), so an
 *                                        image-to-image translator learns A -> B (gantry/translate.h).
 *
 * Each image is centre-cropped to the target aspect ratio and resampled
 * (gt_crop_resize_u8: antialiased bilinear, PIL-compatible) to resolution x
 * resolution, and converted to `channels` (1: ITU-R 601 luma, 3: gray repeated).
 * Images of different sizes in a folder are all brought to the target size.
 *
 * Errors: gt_dataset_open returns NULL with gt_last_error() naming the file and
 * what was wrong (bad magic, dims, truncated data with expected vs found bytes,
 * absurd sizes, undecodable image, label count mismatch); a missing Fashion-MNIST
 * says "apt-get install dataset-fashion-mnist" and the directory it looked in.
 *
 * Example:
 *
 *     gt_dataset *ds = gt_dataset_open("fashion-mnist", 32, 1, NULL);
 *     if (!ds) { fprintf(stderr, "%s\n", gt_last_error()); return 1; }
 *     gt_batcher *b = gt_batcher_new(ds, 64, seed, NULL);
 *     for (int step = 0; step < steps; step++) {
 *         int m = gt_scope_begin();
 *         gt_tensor *x, *y;                 // (64, 1, 32, 32) in [-1, 1]; (64) int32
 *         if (gt_batcher_next(b, &x, &y) != GT_OK) ...;
 *         ... train ...
 *         gt_scope_end(m);                  // x, y belong to the scope
 *     }
 *     gt_batcher_state st = gt_batcher_get_state(b);   // save in a checkpoint
 *     gt_batcher_free(b);
 *     gt_dataset_free(ds);
 */
#ifndef GANTRY_DATA_H
#define GANTRY_DATA_H

#include "image.h"
#include "rng.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define GT_DATA_MAX_RESOLUTION 4096            /* largest accepted target resolution */
#define GT_DATA_MAX_BYTES ((int64_t)8 << 30)   /* largest dataset held in memory (8 GiB) */

typedef struct gt_dataset {
    char *source;       /* the spec as given (for messages) */
    int64_t n;          /* number of images */
    int c, h, w;        /* per image, after the transform */
    uint8_t *pixels;    /* (n, c, h, w) */
    int32_t *labels;    /* (n), or NULL when the source has none */
    int num_classes;    /* max label + 1 (0 without labels) */
    char **class_names; /* (num_classes) for folders with class sub-folders, else NULL */
    int src_c, src_h, src_w; /* size of the (first) source image before the transform */
    int64_t skipped;    /* folders with opts.skip_bad: unreadable images left out */
    char *skipped_first; /* the first of them and why (NULL when none) */
    uint8_t *pixels_a;  /* paired data (paired:DIR): (n, c, h, w), image i's input A (pixels[i] is its
                           B); NULL for unpaired data */
} gt_dataset;

typedef struct gt_dataset_opts {
    int64_t limit;      /* keep only the first `limit` images (in source order); 0 = all */
    int64_t offset;     /* skip this many images first; default 0 */
    bool flat;          /* folders: do not descend into sub-folders; default false */
    bool skip_bad;      /* folders: leave out images that cannot be decoded (counted in
                           ds->skipped) instead of failing; default false */
} gt_dataset_opts;

/* Opens `spec` (see above). resolution: target H = W, or 0 for the source's own
 * size (folders: the first image's H x W). channels: 1, 3, or 0 for the source's
 * own (IDX 1, CIFAR 3, folder: the first image's). opts may be NULL.
 * Returns NULL on error (gt_last_error() says why, naming the file). */
gt_dataset *gt_dataset_open(const char *spec, int resolution, int channels, const gt_dataset_opts *opts);
void gt_dataset_free(gt_dataset *ds); /* NULL-safe */

/* Pixels of image i: (c, h, w) uint8. */
static inline const uint8_t *gt_dataset_image(const gt_dataset *ds, int64_t i) {
    return ds->pixels + i * (int64_t)ds->c * ds->h * ds->w;
}
/* Images [start, start+count) as floats in [-1, 1] (p / 127.5 - 1), in order:
 * out (count, c, h, w). Errors on a range outside the dataset. */
gt_status gt_dataset_read_f32(const gt_dataset *ds, int64_t start, int64_t count, float *out);
/* The same as a new tensor (count, c, h, w) (owned by the current scope, if any). */
gt_tensor *gt_dataset_slice(const gt_dataset *ds, int64_t start, int64_t count);
/* Paired data: the inputs A of images [start, start+count) (from pixels_a), as gt_dataset_slice;
 * NULL + GT_ERR_ARG when ds is not paired. */
gt_tensor *gt_dataset_slice_a(const gt_dataset *ds, int64_t start, int64_t count);
/* Whether spec names paired data ("paired:..."), without opening it. */
bool gt_dataset_spec_is_paired(const char *spec);

/* --- the batcher ----------------------------------------------------------- *
 * Epoch e visits the images in the order of a Fisher-Yates permutation drawn
 * from Philox with key = seed and counters (e + 1, i), so the order depends only
 * on (seed, epoch): restoring (seed, epoch, position) resumes exactly. With
 * drop_last (default) each epoch yields floor(n / batch) full batches and the
 * remainder is skipped; otherwise the last batch of an epoch is smaller. */
typedef struct gt_batcher_state {
    uint64_t seed;
    int64_t epoch;      /* epochs completed */
    int64_t position;   /* images of the current epoch already returned */
} gt_batcher_state;

typedef struct gt_batcher_opts {
    bool no_shuffle;    /* identity order every epoch; default false (shuffle) */
    bool keep_last;     /* yield the short last batch; default false (drop it) */
} gt_batcher_opts;

typedef struct gt_batcher gt_batcher;

/* The batcher keeps a pointer to ds: ds must outlive it. batch >= 1 and, with
 * drop_last, batch <= ds->n. opts may be NULL. NULL on error. */
gt_batcher *gt_batcher_new(const gt_dataset *ds, int64_t batch, uint64_t seed, const gt_batcher_opts *opts);
void gt_batcher_free(gt_batcher *b); /* NULL-safe */

/* Next batch: *images (B, c, h, w) f32 in [-1, 1]; *labels (B) int32, or NULL when
 * the dataset has no labels (labels may be passed as NULL). New references owned by
 * the current scope if one is open, else by the caller. Crosses epochs by itself. */
gt_status gt_batcher_next(gt_batcher *b, gt_tensor **images, gt_tensor **labels);
/* The same, with *a the inputs A of the same images (B, c, h, w) when the dataset is paired, NULL
 * otherwise: the order and the state are those of gt_batcher_next (A and B stay paired). */
gt_status gt_batcher_next_pair(gt_batcher *b, gt_tensor **images, gt_tensor **labels, gt_tensor **a);
/* The same into caller buffers: images (B, c, h, w), labels (B) (may be NULL);
 * *count receives B (the batch size, or less for a kept short last batch). */
gt_status gt_batcher_next_into(gt_batcher *b, float *images, int32_t *labels, int64_t *count);

/* Data-parallel shards: from now on each batch is images [start, start + count) of the whole batch
 * the batcher would yield (only those are decoded), and the state advances by the whole batch, so the
 * state (and a checkpoint of it) does not depend on the shard. count 0: the whole batch again. Full
 * batches only (not with keep_last). */
gt_status gt_batcher_set_shard(gt_batcher *b, int64_t start, int64_t count);
gt_batcher_state gt_batcher_get_state(const gt_batcher *b);
/* Restores a saved state (validated: epoch >= 0, 0 <= position <= n). */
gt_status gt_batcher_set_state(gt_batcher *b, gt_batcher_state st);
int64_t gt_batcher_batches_per_epoch(const gt_batcher *b);
/* The permutation of epoch `epoch` for (n, seed): perm[n] (exposed for tests). */
void gt_data_permutation(uint64_t seed, int64_t epoch, int64_t n, int64_t *perm);

#ifdef __cplusplus
}
#endif
#endif
