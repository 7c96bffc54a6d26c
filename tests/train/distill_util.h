/* tests/train/distill_util.h - the fixtures the distillation tests share: the tiny DCGAN config
 * they train (train_util.h's, batch 16, lr 1e-3 so that a few steps go somewhere), a config
 * written as JSON (a student config file), and a tiny teacher trained on disc images. */
#ifndef GT_TEST_DISTILL_UTIL_H
#define GT_TEST_DISTILL_UTIL_H

#include "gantry/distill.h"
#include "train_util.h"

static inline gt_train_config gt_test_distill_config(const char *idx, const char *out, int64_t steps, int ngf) {
    gt_train_config c = gt_test_tiny_config(idx, out, steps);
    gt_model_opt_set(&c.model, "ngf", ngf);
    c.batch = 16, c.n_samples = 4, c.log_every = 5, c.sample_every = 0, c.ckpt_every = 0, c.ema = 0.9;
    c.lr_g = c.lr_d = 1e-3;
    return c;
}

static inline bool gt_test_write_config(const char *path, const gt_train_config *c) {
    char *json = gt_train_config_to_json(c);
    FILE *f = json ? fopen(path, "w") : NULL;
    bool ok = f && fputs(json, f) >= 0;
    if (f) ok = fclose(f) == 0 && ok;
    free(json);
    return ok;
}

/* 96 disc images into idx (the test folder's disc.idx) and a teacher (ngf 8) trained steps steps on
 * them, its checkpoint path into teacher; false with the reason printed. */
static inline bool gt_test_distill_teacher(char *idx, size_t ni, char *teacher, size_t nt, int64_t steps) {
    snprintf(idx, ni, "%s", gt_test_path("disc.idx"));
    if (!gt_test_write_idx(idx, 96)) {
        fprintf(stderr, "cannot write %s\n", idx);
        return false;
    }
    gt_train_config tc = gt_test_distill_config(idx, gt_test_path("teacher"), steps, 8);
    gt_trainer t;
    gt_status st = gt_trainer_init(&t, &tc, NULL);
    if (st == GT_OK) st = gt_train_run(&t, NULL);
    gt_trainer_free(&t);
    snprintf(teacher, nt, "%s/last.safetensors", gt_test_path("teacher"));
    if (st != GT_OK) fprintf(stderr, "teacher: %s\n", gt_last_error());
    return st == GT_OK;
}

#endif
