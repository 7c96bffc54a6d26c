/* gantry/checkpoint.h - parameter registries, optimizers and training state
 * in safetensors files: a registry's entries as tensors (gt_st_add_params,
 * gt_st_load_params) and GAN training checkpoints (gt_ckpt). Below train and
 * metrics, above io (the file format) and nn / optim (what is bound), so io
 * knows no modules and metrics loads its extractors' weights without train.
 *
 * A checkpoint (typical trainer use; the same binding saves and loads):
 *
 *     gt_ckpt c; gt_ckpt_init(&c);
 *     gt_ckpt_add_params(&c, "G.", &PG);            // G.<name> for every entry
 *     gt_ckpt_add_params(&c, "D.", &PD);
 *     gt_ckpt_add_ema(&c, "G_ema.", &ema);           // values + update count (add_params of its dst: values only)
 *     gt_ckpt_add_adam(&c, "opt_G.", &optG);         // opt_G.exp_avg.<name>, .exp_avg_sq.<name>, opt_G.step
 *     gt_ckpt_add_adam(&c, "opt_D.", &optD);
 *     gt_ckpt_add_u64(&c, "train.step", &step, 1);
 *     gt_ckpt_add_rng(&c, "rng.train", &rng);        // [seed, offset]
 *     gt_ckpt_add_u64(&c, "data.batcher", state, n_state);
 *     gt_ckpt_set_meta(&c, "config", config_json);
 *     gt_ckpt_save(&c, "runs/x/last.safetensors");   // atomic
 *     ...
 *     gt_ckpt_load(&c, "runs/x/last.safetensors", 0); // all or nothing
 *     gt_ckpt_free(&c);                              // frees the binding only
 */
#ifndef GANTRY_CHECKPOINT_H
#define GANTRY_CHECKPOINT_H

#include "io.h"
#include "nn.h"
#include "optim.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every entry of P (params and, when with_buffers, buffers) as F32 tensors
 * named prefix + entry name, borrowing P's data (P must stay alive until the
 * save). prefix NULL = "". */
gt_status gt_st_add_params(gt_safetensors *s, const char *prefix, const gt_params *P, bool with_buffers);
/* Loading into a registry: for every entry of P (buffers too when
 * with_buffers) the tensor prefix + name must exist, be F32 and have exactly
 * the entry's shape; errors name the tensor, the file, the expected and the
 * found shape / dtype. All entries are checked before any value is written
 * (all or nothing). With strict, a tensor in the file whose name starts with
 * prefix but that P does not have is an error too. */
gt_status gt_st_load_params(const gt_safetensors *s, const char *prefix, gt_params *P, bool with_buffers,
                            bool strict);

/* =========================================================================
 * GAN training checkpoints (a safetensors file)
 *
 * A gt_ckpt is a binding: a list of live objects and the names they take in
 * the file. gt_ckpt_save writes them; gt_ckpt_load validates the file against
 * every one of them (presence, dtype, shape, optimizer step, u64 lengths) and
 * only then overwrites them all, so a failed load leaves the model untouched.
 *
 * Tensor names in the file (prefix as given, e.g. "G."):
 *   params:  <prefix><entry name>                           F32, entry's shape
 *   adam:    <prefix>exp_avg.<entry name>, <prefix>exp_avg_sq.<entry name>
 *            (+ <prefix>max_exp_avg_sq.<entry name> when amsgrad)  F32
 *            <prefix>step                                   I64, shape ()
 *   ema:     <prefix><entry name> (src's names; params and buffers) F32
 *            <prefix>updates                                I64, shape ()
 *   u64:     <name>                                         U64, shape (n)
 *   rng:     <name>                                         U64, shape (2): seed, offset
 * __metadata__: "format": "pt", "gantry": "checkpoint-1", plus gt_ckpt_set_meta's.
 * Hyper-parameters (lr, betas, decay) are not state: they come from the
 * config and are not overwritten by a load.
 * ========================================================================= */
typedef enum { GT_CKPT_PARAMS, GT_CKPT_ADAM, GT_CKPT_EMA, GT_CKPT_U64, GT_CKPT_RNG } gt_ckpt_kind;

typedef struct {
    gt_ckpt_kind kind;
    char *name;          /* prefix (params/adam/ema) or tensor name (u64/rng); owned */
    gt_params *P;        /* GT_CKPT_PARAMS */
    gt_adam *adam;       /* GT_CKPT_ADAM */
    gt_ema *ema;         /* GT_CKPT_EMA */
    uint64_t *u64;       /* GT_CKPT_U64: (n) */
    int64_t n;
    gt_rng *rng;         /* GT_CKPT_RNG */
} gt_ckpt_item;

typedef struct {
    gt_ckpt_item *items; /* (n_items) not owned objects */
    int n_items, cap_items;
    gt_safetensors meta; /* metadata only (its tensor list stays empty) */
} gt_ckpt;

void gt_ckpt_init(gt_ckpt *c);
void gt_ckpt_free(gt_ckpt *c); /* frees the binding, never the bound objects */

/* Binds objects (not owned; they must outlive the calls that use them).
 * P, the Adam's and the EMA's registries must be finalized. A prefix is
 * used as given ("G." gives "G.net.0.weight"); NULL = "". */
gt_status gt_ckpt_add_params(gt_ckpt *c, const char *prefix, gt_params *P);
gt_status gt_ckpt_add_adam(gt_ckpt *c, const char *prefix, gt_adam *o);
gt_status gt_ckpt_add_ema(gt_ckpt *c, const char *prefix, gt_ema *e);
gt_status gt_ckpt_add_u64(gt_ckpt *c, const char *name, uint64_t *values, int64_t n);
gt_status gt_ckpt_add_rng(gt_ckpt *c, const char *name, gt_rng *r);
/* Metadata written by the next save (e.g. "config" = the resolved config
 * JSON). After a load, gt_ckpt_get_meta returns the file's metadata. */
gt_status gt_ckpt_set_meta(gt_ckpt *c, const char *key, const char *value);
const char *gt_ckpt_get_meta(const gt_ckpt *c, const char *key);

/* Writes every bound object atomically. */
gt_status gt_ckpt_save(const gt_ckpt *c, const char *path);

enum {
    GT_CKPT_ALLOW_EXTRA = 1u << 0, /* tensors in the file no binding claims are fine (e.g. sampling
                                      loads only G_ema from a full training checkpoint) */
};
/* Loads path into the bound objects (flags: GT_CKPT_*). Without
 * GT_CKPT_ALLOW_EXTRA every tensor in the file must belong to a binding. */
gt_status gt_ckpt_load(gt_ckpt *c, const char *path, unsigned flags);
/* The same from an already loaded file (e.g. after reading its "config"
 * metadata to build the model). */
gt_status gt_ckpt_apply(gt_ckpt *c, const gt_safetensors *s, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
