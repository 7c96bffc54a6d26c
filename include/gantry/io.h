/* gantry/io.h - file formats: atomic file writes, safetensors, NumPy .npy /
 * .npz.
 *
 * Every reader validates the whole file before it hands anything back and
 * fails with GT_ERR_FORMAT (content), GT_ERR_IO (open/read/write) or
 * GT_ERR_SHAPE (a tensor that does not fit the model) and a message from
 * gt_last_error() that names the file, the tensor, what was expected and what
 * was found. Nothing here aborts or exits on bad input.
 *
 * Every writer is atomic: the bytes go to a temporary file in the target's
 * directory (".<name>.tmp.<pid>.XXXXXX"), which is fsynced, renamed over the
 * target and the directory fsynced. A process killed at any moment leaves
 * either the old file or the new one at the final path, never a mix.
 *
 * The binding of parameter registries, optimizers and training state to a
 * safetensors file (checkpoints) is gantry/checkpoint.h, one layer up: io
 * knows files and tensors, not modules.
 */
#ifndef GANTRY_IO_H
#define GANTRY_IO_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* =========================================================================
 * Numbers in JSON: every double gantry writes (eval --json, metrics.jsonl,
 * config.json) reads back bit-exactly.
 * ========================================================================= */
/* The shortest of %.15g, %.16g, %.17g that strtod reads back as exactly v;
 * "null" for NaN and infinities (JSON has no such numbers). n >= 32. */
const char *gt_fmt_double(double v, char *buf, size_t n);
struct cJSON;
/* cJSON_AddNumberToObject, but written with gt_fmt_double (cJSON itself
 * prints 15 digits whenever they read back within its own epsilon). */
struct cJSON *gt_json_add_number(struct cJSON *obj, const char *key, double v);

/* =========================================================================
 * What a file holds, from its first bytes (its name is not consulted)
 * ========================================================================= */
typedef enum {
    GT_FILE_UNREADABLE, /* cannot be opened or read (a folder, no permission, missing) */
    GT_FILE_UNKNOWN,    /* none of the below (CIFAR-10 .bin batches have no signature) */
    GT_FILE_EMPTY,
    GT_FILE_PNG,
    GT_FILE_JPEG,
    GT_FILE_GZIP,       /* e.g. a gzipped IDX file */
    GT_FILE_IDX,
    GT_FILE_NPY,
    GT_FILE_ZIP,        /* .npz, or torch.save's .pth */
    GT_FILE_SAFETENSORS,
    GT_FILE_JSON,
    GT_FILE_KIND_COUNT
} gt_file_kind;
gt_file_kind gt_file_sniff(const char *path);
gt_file_kind gt_file_sniff_bytes(const unsigned char *b, size_t n); /* n: up to the first 64 bytes */
/* "a PNG image", "an IDX file", ... (for messages). */
const char *gt_file_kind_name(gt_file_kind k);

/* =========================================================================
 * Atomic writes and whole-file reads
 * ========================================================================= */
typedef struct {
    FILE *f;     /* the temporary file, open for writing */
    char *path;  /* the final path (owned) */
    char *tmp;   /* the temporary path (owned) */
    bool failed; /* a write failed: commit refuses */
} gt_atomic_file;

/* Creates the temporary file next to path (and removes stale temporaries of
 * path left by processes that no longer exist). */
gt_status gt_atomic_open(gt_atomic_file *a, const char *path);
gt_status gt_atomic_write(gt_atomic_file *a, const void *buf, size_t n);
/* fflush + fsync + close + rename over path + fsync of the directory. On any
 * failure the temporary is removed and the old file at path is untouched.
 * a is released either way. */
gt_status gt_atomic_commit(gt_atomic_file *a);
/* Closes and removes the temporary; path untouched. NULL-safe, idempotent. */
void gt_atomic_abort(gt_atomic_file *a);
/* The three steps above for one buffer. */
gt_status gt_write_file_atomic(const char *path, const void *buf, size_t n);
/* Whether an atomic write to path can start: its folder exists and takes a
 * new file, path is not a folder. Nothing is left behind. Commands call it
 * on their output paths before the work, so a typo fails at once. */
gt_status gt_check_writable(const char *path);
/* Reads a whole regular file into a malloc'd buffer (*buf, freed by the
 * caller; one NUL byte is appended after the n bytes). Files larger than
 * max_bytes (0 = no limit) are refused with GT_ERR_FORMAT. */
gt_status gt_read_file(const char *path, void **buf, size_t *n, size_t max_bytes);

/* rename(from, to) and an fsync of to's folder (through the fault hook
 * below); a message naming both paths and the error on failure. */
gt_status gt_rename_durable(const char *from, const char *to);

/* =========================================================================
 * Testing hook: injected file faults. The k-th (1-based) write
 * (gt_atomic_write), fsync (of the temporary, in gt_atomic_commit) or rename
 * (gt_atomic_commit, gt_rename_durable) counted after arming fails with errno
 * err, once; the file layer then behaves as for a real failure (message,
 * temporary removed, old file untouched). path_part (NULL = any) restricts
 * counting to final paths containing it. The environment variable
 *   GANTRY_FAULT="write:3:ENOSPC"   (or "fsync:1:EIO", "rename:2:EIO:last.safetensors")
 * entries "op:k:ERRNO[:path-part]" separated by commas, ERRNO a name (ENOSPC,
 * EIO, EDQUOT, EFBIG, EROFS, EACCES, EPERM, ...) or a number, arms the same
 * in any gantry program, read at its first file operation. Arm before
 * starting threads that write.
 * ========================================================================= */
typedef enum { GT_FAULT_WRITE, GT_FAULT_FSYNC, GT_FAULT_RENAME, GT_FAULT_OP_COUNT } gt_fault_op;
/* Arms op (k <= 0 disarms it) and restarts its counter at 0. */
void gt_fault_set(gt_fault_op op, long k, int err, const char *path_part);
/* Disarms every op and sets the counters to 0. */
void gt_fault_reset(void);
/* How many ops of this kind were counted since it was armed / reset. */
long gt_fault_count(gt_fault_op op);
const char *gt_fault_op_name(gt_fault_op op); /* "write", "fsync", "rename" */

/* =========================================================================
 * safetensors (https://github.com/huggingface/safetensors)
 *   8 bytes: N, little-endian u64 = header length
 *   N bytes: JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
 *                  ..., "__metadata__": {"k": "v"}}  (padded with spaces to 8 bytes)
 *   rest:    the data; offsets relative to its start, tensors back to back,
 *            no gaps, no overlap, covering it exactly.
 * Values are little-endian (this machine's order).
 * ========================================================================= */
typedef enum {
    GT_ST_BOOL, GT_ST_U8, GT_ST_I8, GT_ST_I16, GT_ST_U16, GT_ST_F16, GT_ST_BF16,
    GT_ST_I32, GT_ST_U32, GT_ST_F32, GT_ST_F64, GT_ST_I64, GT_ST_U64,
    GT_ST_DTYPE_COUNT
} gt_st_dtype;

const char *gt_st_dtype_name(gt_st_dtype d); /* "F32" ... */
size_t gt_st_dtype_size(gt_st_dtype d);      /* bytes per element */
/* -1 for a name the format does not define. */
int gt_st_dtype_parse(const char *name);

#define GT_ST_MAX_DIMS 8
#define GT_ST_MAX_HEADER (100u << 20) /* larger headers are refused (as the reference) */

typedef struct {
    char *name;                     /* owned */
    gt_st_dtype dtype;
    int ndim;                       /* 0 = scalar */
    int64_t shape[GT_ST_MAX_DIMS];
    int64_t numel;
    size_t nbytes;                  /* numel * dtype size */
    const void *data;               /* (nbytes) borrowed, owned (own) or inside the loaded file */
    bool own;                       /* data was copied and is freed with the set */
} gt_st_tensor;

/* A set of named tensors and a string->string metadata map: what one file
 * holds. Built by hand (gt_st_add*) to write, or by gt_st_load to read. */
typedef struct {
    gt_st_tensor *t;     /* (n) in insertion / file order */
    int n, cap;
    char **meta_key;     /* (n_meta) owned */
    char **meta_val;     /* (n_meta) owned */
    int n_meta, cap_meta;
    void *file;          /* the loaded file's bytes (owned), or NULL */
    char *path;          /* the file it was loaded from (owned), or NULL */
} gt_safetensors;

void gt_st_init(gt_safetensors *s);
void gt_st_free(gt_safetensors *s); /* s can be initialised again */

/* Adds a tensor. data: (numel * dtype size) bytes in row-major order; copied
 * when copy is true, else borrowed (must outlive the save). Names must be
 * unique, non-empty and not "__metadata__". */
gt_status gt_st_add(gt_safetensors *s, const char *name, gt_st_dtype dtype, int ndim, const int64_t *shape,
                    const void *data, bool copy);
/* A float32 gt_tensor (any strides: a non-contiguous one is copied). */
gt_status gt_st_add_tensor(gt_safetensors *s, const char *name, const gt_tensor *t);
/* Sets (or replaces) a metadata entry; both strings copied. */
gt_status gt_st_set_meta(gt_safetensors *s, const char *key, const char *value);
const char *gt_st_get_meta(const gt_safetensors *s, const char *key); /* NULL when absent */

/* Writes s atomically: __metadata__ first, then the tensors in data order:
 * larger element sizes first (8-byte dtypes, then 4, 2, 1), by name within a
 * size, so every tensor is aligned to its element size in the file; the
 * header is padded with spaces to a multiple of 8 bytes. */
gt_status gt_st_save(const gt_safetensors *s, const char *path);
/* Serialises into a malloc'd buffer (for tests and in-memory use). */
gt_status gt_st_serialize(const gt_safetensors *s, void **buf, size_t *n);

/* Reads and validates a whole file into s (which must be initialised and is
 * reset first). Checks: the file is at least 8 bytes; header length <= the
 * rest of the file and <= GT_ST_MAX_HEADER; the header is a JSON object
 * (UTF-8, starts with '{'); each entry has a known dtype, a shape of
 * non-negative integers, data_offsets [b, e] with b <= e within the data and
 * e - b == numel * dtype size; names unique; the tensors do not overlap and
 * cover the data exactly; __metadata__, if present, maps strings to strings.
 * Tensor data then points into s->file (not aligned beyond 1 byte). */
gt_status gt_st_load(gt_safetensors *s, const char *path);
/* The same on bytes in memory (copied); label names them in messages. */
gt_status gt_st_parse(gt_safetensors *s, const void *buf, size_t n, const char *label);

/* The tensor named name, or NULL. */
const gt_st_tensor *gt_st_find(const gt_safetensors *s, const char *name);
/* name as a new float32 gt_tensor (new reference, scope rules apply); NULL
 * with GT_ERR_ARG when absent, GT_ERR_FORMAT when not F32. */
gt_tensor *gt_st_get_tensor(const gt_safetensors *s, const char *name);
/* Copies name's values into out[n]: dtype must be dtype and numel n, else
 * GT_ERR_FORMAT / GT_ERR_SHAPE naming the tensor, file, expected and found. */
gt_status gt_st_read(const gt_safetensors *s, const char *name, gt_st_dtype dtype, void *out, int64_t n);

/* =========================================================================
 * NumPy .npy / .npz (np.save, np.savez, np.savez_compressed; pytorch-fid and
 * clean-fid statistics files: "mu" (2048,) and "sigma" (2048, 2048) float64)
 *
 * Reading: .npy format 1.0 / 2.0 / 3.0, little-endian '<f8', '<f4', '|u1'
 * (also '<i8', '<i4'), fortran_order False only; .npz = ZIP (also ZIP64, as
 * numpy writes it) with stored or deflated members, CRC-32 checked. Writing:
 * .npy 1.0; .npz stored or deflated; atomic.
 * ========================================================================= */
typedef enum { GT_NPY_F8, GT_NPY_F4, GT_NPY_U1, GT_NPY_I8, GT_NPY_I4, GT_NPY_DTYPE_COUNT } gt_npy_dtype;

const char *gt_npy_dtype_descr(gt_npy_dtype d); /* "<f8", "<f4", "|u1", "<i8", "<i4" */
size_t gt_npy_dtype_size(gt_npy_dtype d);

#define GT_NPY_MAX_DIMS 8

typedef struct {
    char *name;                      /* owned: the member name without ".npy" ("mu") */
    gt_npy_dtype dtype;
    int ndim;                        /* 0 = scalar */
    int64_t shape[GT_NPY_MAX_DIMS];
    int64_t numel;
    void *data;                      /* owned, (numel) values of dtype: double* for F8, float* for F4, ... */
} gt_npy_array;

typedef struct {
    gt_npy_array *a; /* (n) in file order */
    int n, cap;
    char *path;      /* the file it was loaded from (owned), or NULL */
} gt_npz;

void gt_npy_array_free(gt_npy_array *a);
/* A single .npy file (name set to NULL). */
gt_status gt_npy_load(gt_npy_array *a, const char *path);
gt_status gt_npy_save(const char *path, gt_npy_dtype dtype, int ndim, const int64_t *shape, const void *data);
/* Converts any numeric dtype to double into out[a->numel]. */
void gt_npy_to_f64(const gt_npy_array *a, double *out);

void gt_npz_init(gt_npz *z);
void gt_npz_free(gt_npz *z); /* z can be initialised again */
/* Adds an array (copied); data holds numel values of dtype's C type
 * (double for F8, float for F4, uint8_t for U1, int64_t, int32_t). */
gt_status gt_npz_add(gt_npz *z, const char *name, gt_npy_dtype dtype, int ndim, const int64_t *shape,
                     const void *data);
/* Writes atomically: ZIP with "<name>.npy" members, deflated when compress
 * (np.savez_compressed) else stored (np.savez). */
gt_status gt_npz_save(const gt_npz *z, const char *path, bool compress);
gt_status gt_npz_load(gt_npz *z, const char *path);
gt_status gt_npz_parse(gt_npz *z, const void *buf, size_t n, const char *label);
const gt_npy_array *gt_npz_find(const gt_npz *z, const char *name); /* NULL when absent */
/* The values of name as doubles into a new malloc'd buffer (*out, freed by the
 * caller), checking the number of dimensions (ndim < 0: any) and, where
 * shape is given and shape[i] >= 0, each size. Errors name the file, the
 * array, expected and found. ndim_out / shape_out may be NULL. */
gt_status gt_npz_get_f64(const gt_npz *z, const char *name, int ndim, const int64_t *shape, double **out,
                         int *ndim_out, int64_t *shape_out);

#ifdef __cplusplus
}
#endif
#endif
