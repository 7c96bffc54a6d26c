/* src/lab/lab_export.c - an experiment's weights as safetensors: "G.<i>.weight" (out, in) and
 * "G.<i>.bias" for G's linear layers in order (the last one's output goes through tanh), the same
 * for "D.<i>" (the last one gives the logit); metadata "gantry.lab.config" (the config as JSON,
 * the API's CONFIG) and "gantry.lab.epoch". */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "gantry/checkpoint.h"
#include "gantry/io.h"
#include "lab_internal.h"

static gt_status collect(const gt_lab *L, gt_safetensors *s) {
    gt_st_init(s);
    gt_status st = gt_st_add_params(s, NULL, &L->G.P, false);
    if (st == GT_OK) st = gt_st_add_params(s, NULL, &L->D.P, false);
    if (st != GT_OK) return st;
    char *json = gt__lab_config_json(&L->cfg);
    if (!json) return gt_set_error(GT_ERR_OOM, "lab export: out of memory");
    st = gt_st_set_meta(s, "gantry.lab.config", json);
    free(json);
    char ep[32];
    snprintf(ep, sizeof ep, "%" PRId64, L->epoch);
    if (st == GT_OK) st = gt_st_set_meta(s, "gantry.lab.epoch", ep);
    return st;
}

gt_status gt_lab_export(const gt_lab *L, const char *path) {
    if (!L || !path) return gt_set_error(GT_ERR_ARG, "gt_lab_export: NULL argument");
    gt_safetensors s;
    gt_status st = collect(L, &s);
    if (st == GT_OK) st = gt_st_save(&s, path);
    gt_st_free(&s);
    return st;
}

gt_status gt_lab_export_mem(const gt_lab *L, uint8_t **buf, size_t *len) {
    if (!L || !buf || !len) return gt_set_error(GT_ERR_ARG, "gt_lab_export_mem: NULL argument");
    *buf = NULL;
    *len = 0;
    gt_safetensors s;
    void *b = NULL;
    gt_status st = collect(L, &s);
    if (st == GT_OK) st = gt_st_serialize(&s, &b, len);
    gt_st_free(&s);
    if (st == GT_OK) *buf = b;
    return st;
}
