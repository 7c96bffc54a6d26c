/* libFuzzer harness: a run's config JSON (src/train/config.c). The input is given to
 * gt_train_config_from_json over the defaults; an accepted config is checked
 * (gt_train_config_check, which may refuse it with a message), written back with
 * gt_train_config_to_json, read again into fresh defaults and written again: the two JSON
 * texts must be the same (the round trip of config.json that resume relies on). */
#include <cjson/cJSON.h>

#include "fuzz_util.h"
#include "gantry/train.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    gt_fuzz_scratch();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char *json = malloc(n + 1);
    GT_FUZZ_CHECK(json, "malloc");
    memcpy(json, d, n);
    json[n] = 0;
    gt_train_config c = gt_train_config_default();
    if (gt_train_config_from_json(&c, json, "fuzz.json") != GT_OK) {
        GT_FUZZ_CHECK(gt_last_error()[0], "a refused config without a message");
        free(json);
        return 0;
    }
    for (int pass = 0; pass < 2; pass++) {
        char *j1 = gt_train_config_to_json(&c);
        GT_FUZZ_CHECK(j1, "to_json: %s", gt_last_error());
        gt_train_config c2 = gt_train_config_default();
        GT_FUZZ_CHECK(gt_train_config_from_json(&c2, j1, "again.json") == GT_OK, "read back: %s\n%s",
                      gt_last_error(), j1);
        char *j2 = gt_train_config_to_json(&c2);
        GT_FUZZ_CHECK(j2 && !strcmp(j1, j2), "the round trip changed the config:\n%s\n---\n%s", j1, j2 ? j2 : "");
        free(j1);
        free(j2);
        /* the second pass: the config as gt_train_config_check resolves it (what config.json holds) */
        if (pass == 0 && gt_train_config_check(&c) != GT_OK) {
            GT_FUZZ_CHECK(gt_last_error()[0], "a refused config without a message");
            break;
        }
    }
    free(json);
    return 0;
}
