/* gantry info: what a training checkpoint holds - model, resolution, step,
 * parameter counts of G and D - after checking that it fits that model. */
#include <string.h>

#include "args.h"
#include "commands.h"
#include "gantry.h"

static int gt__fail(const char *path) {
    fprintf(stderr, "gantry info: %s%s%s\n", strstr(gt_last_error(), path) ? "" : path,
            strstr(gt_last_error(), path) ? "" : ": ", gt_last_error());
    return GT_EXIT_FAIL;
}

int gt_cmd_info(int argc, char **argv) {
    const char *ckpt = NULL;
    bool json = false, devices = false;
    gt_arg spec[] = {
        {"--ckpt", GT_ARG_STR, &ckpt, 0, 0, false, "FILE", "a training checkpoint", false},
        {"--json", GT_ARG_TRUE, &json, 0, 0, false, NULL, "print the stored config as JSON too", false},
        {"--devices", GT_ARG_TRUE, &devices, 0, 0, false, NULL, "list the devices (cpu, the CUDA GPUs or why none)",
         false},
    };
    int rc = gt_args_parse("info", spec, 3, argc, argv, 2, "--ckpt FILE | --devices");
    if (rc == GT_ARGS_HELP) return GT_EXIT_OK;
    if (rc) return GT_EXIT_USAGE;
    if (devices && ckpt) return gt_args_error("info", "give --ckpt FILE or --devices, not both");
    if (devices) return gt_cli_info_devices();
    if (!ckpt) return gt_args_error("info", "--ckpt FILE is required");

    gt_safetensors s;
    gt_st_init(&s);
    if (gt_st_load(&s, ckpt) != GT_OK) return gt__fail(ckpt);
    const char *cj = gt_st_get_meta(&s, "config");
    if (!cj) {
        gt_set_error(GT_ERR_FORMAT, "not a gantry training checkpoint (no \"config\" in its metadata)");
        gt_st_free(&s);
        return gt__fail(ckpt);
    }
    gt_train_config c = gt_train_config_default();
    gt_status st = gt_train_config_from_json(&c, cj, ckpt);
    if (st == GT_OK) st = gt_train_config_check(&c);
    gt_net G, D, E;
    memset(&G, 0, sizeof G), memset(&D, 0, sizeof D), memset(&E, 0, sizeof E);
    bool has_ema = false;
    uint64_t step = 0;
    if (st == GT_OK) {
        gt_rng r;
        gt_rng_init(&r, 0);
        st = gt_model_build(&c.model, GT_NET_G, &r, &G);
        if (st == GT_OK) st = gt_model_build(&c.model, GT_NET_D, &r, &D);
        if (st == GT_OK) st = gt_model_build(&c.model, GT_NET_G, &r, &E);
    }
    if (st == GT_OK) {
        /* loading checks that every tensor is there with the model's shapes */
        char first[300];
        snprintf(first, sizeof first, "G_ema.%s", E.P.v[0].name);
        has_ema = gt_st_find(&s, first) != NULL;
        gt_ckpt k;
        gt_ckpt_init(&k);
        st = gt_ckpt_add_params(&k, "G.", &G.P);
        if (st == GT_OK) st = gt_ckpt_add_params(&k, "D.", &D.P);
        if (st == GT_OK && has_ema) st = gt_ckpt_add_params(&k, "G_ema.", &E.P);
        if (st == GT_OK) st = gt_ckpt_add_u64(&k, "train.step", &step, 1);
        if (st == GT_OK) st = gt_ckpt_apply(&k, &s, GT_CKPT_ALLOW_EXTRA);
        gt_ckpt_free(&k);
    }
    int status = GT_EXIT_OK;
    if (st != GT_OK) {
        status = gt__fail(ckpt);
    } else {
        int64_t gb = 0, db = 0;
        for (int i = 0; i < G.P.n; i++) gb += G.P.v[i].is_buffer ? gt_numel(G.P.v[i].t) : 0;
        for (int i = 0; i < D.P.n; i++) db += D.P.v[i].is_buffer ? gt_numel(D.P.v[i].t) : 0;
        printf("checkpoint   %s\n", ckpt);
        printf("model        %s\n", c.model.name);
        printf("resolution   %dx%d, %d channel%s\n", c.model.res, c.model.res, c.model.channels,
               c.model.channels == 1 ? "" : "s");
        printf("latent       %d%s\n", c.model.nz, c.model.n_classes ? "" : ", unconditional");
        if (c.model.n_classes) printf("classes      %d\n", c.model.n_classes);
        const gt_model_entry *fam = gt_model_find(c.model.name);
        for (int i = 0; fam && i < fam->n_opts; i++) { /* the family's own options */
            char v[64];
            printf("%-12s %s\n", fam->opts[i].key, gt_model_opt_text(&c.model, fam->opts[i].key, v, sizeof v));
        }
        printf("step         %llu of %lld\n", (unsigned long long)step, (long long)c.steps);
        printf("G parameters %lld (+ %lld buffer values)\n", (long long)gt_net_num_params(&G), (long long)gb);
        printf("D parameters %lld (+ %lld buffer values)\n", (long long)gt_net_num_params(&D), (long long)db);
        printf("EMA          %s\n", has_ema ? "yes" : "no");
        printf("data         %s\n", c.data[0] ? c.data : "(none)");
        char clip[48] = "";
        if (c.clip > 0) snprintf(clip, sizeof clip, " (weight clipping %g)", c.clip);
        printf("loss         %s%s%s, batch %d, lr G %g D %g, n_critic %d, seed %llu\n", gt_loss_name(c.loss),
               c.gp > 0 ? " + gp" : "", clip, c.batch, c.lr_g, c.lr_d, c.n_critic, (unsigned long long)c.seed);
        if (json) printf("%s\n", cj);
    }
    gt_net_free(&G);
    gt_net_free(&D);
    gt_net_free(&E);
    gt_st_free(&s);
    return status;
}
