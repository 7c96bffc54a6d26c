// ctest-labels: slow
/* Every shipped config (configs/NAME.json) trains 300 steps on Fashion-MNIST (resampled to its
 * resolution) through the trainer, as the config says (loss, n_critic, learning rates, betas, EMA,
 * regularizers), at a small width and batch so that all of them take a few minutes on 2 cores: every loss of every step is finite, and so are the weights,
 * the batch-norm statistics, spectral norm's u and v and the EMA generator at the end. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "../common/harness.h"

#include "gantry/train.h"

static bool all_finite(const gt_tensor *t, int64_t n) {
    const float *p = t ? gt_data(t) : NULL;
    for (int64_t i = 0; p && i < n; i++)
        if (!isfinite(p[i])) return false;
    return true;
}

static bool net_finite(const gt_net *n) {
    return all_finite(n->P.slab, n->P.numel) && all_finite(n->P.buffers, n->P.buffer_numel);
}

static void train_config(const char *name, const char *small) {
    char path[4400];
    snprintf(path, sizeof path, "%s/configs/%s.json", GT_SOURCE_DIR, name);
    char *text = NULL;
    size_t sz = 0;
    gt_train_config c = gt_train_config_default();
    gt_status st = gt_read_file(path, (void **)&text, &sz, 1 << 20);
    if (st == GT_OK) st = gt_train_config_from_json(&c, text, path);
    free(text);
    CHECK_MSG(st == GT_OK, "%s: %s", path, gt_last_error());
    if (st != GT_OK) return;
    CHECK_MSG(gt_model_opts_parse_list(&c.model, small) == GT_OK, "%s: %s", name, gt_last_error());
    c.out[0] = '\0';    /* no run folder */
    c.data_limit = 4096; /* enough for 300 steps' batches, quick to load */
    c.batch = 16, c.steps = 300, c.eval_every = 0, c.seed = 1;
    gt_trainer t;
    st = gt_trainer_init(&t, &c, NULL);
    CHECK_MSG(st == GT_OK, "%s: %s", name, gt_last_error());
    int bad = -1;
    gt_step_stats s = {0};
    for (int i = 0; i < 300 && st == GT_OK; i++) {
        st = gt_trainer_step(&t, &s);
        if (st == GT_OK && bad < 0 && !(isfinite(s.loss_d) && isfinite(s.loss_g))) bad = i;
    }
    CHECK_MSG(st == GT_OK, "%s: %s", name, gt_last_error());
    CHECK_MSG(bad < 0, "%s: a loss is not finite at step %d", name, bad);
    bool fin = st == GT_OK && net_finite(&t.G) && net_finite(&t.D) && (!t.has_ema || net_finite(&t.G_ema));
    CHECK_MSG(fin, "%s: a weight or buffer is not finite after 300 steps", name);
    fprintf(stderr, "  %-6s (%s, batch 16, n_critic %d, loss %s): 300 steps, last loss_d %.4g loss_g %.4g, %s\n", name,
            small, c.n_critic, gt_loss_name(c.loss), s.loss_d, s.loss_g, fin && bad < 0 ? "finite" : "NOT FINITE");
    gt_trainer_free(&t);
}

/* Every configs/NAME.json, each at a small width of its family (a config of a family missing here
 * fails the test: a new config gets its row). */
static void test_zoo_configs(void) {
    static const char *const small[][2] = {
        {"dcgan", "ngf=16,ndf=16"},         {"acgan", "ngf=32,ndf=8"},  {"infogan", "ngf=32,ndf=8"},
        {"began", "ngf=32,hidden=16"},      {"ebgan", "ngf=32,hidden=16"}, {"sngan", "ngf=32,ndf=32"},
        {"sagan", "ngf=32,ndf=32"},         {"cgan", "ngf=32,ndf=32"},  {"biggan", "ngf=32,ndf=32,shared_dim=32"},
        {"r3gan", "ngf=32,ndf=32"},         {"lsgan", "ngf=16,ndf=16"}, {"wgan", "ngf=16,ndf=16"},
        {"wgan_gp", "ngf=16,ndf=16"},
        /* both phases of the anycost scheme within the 300 steps */
        {"anycost", "ch=8,ch_max=16,dch=8,w_dim=16,ac_channels_at=150"},
        {"anycost_alone_050", "ch=4,ch_max=8,dch=8,w_dim=16"},
        {"anycost_alone_025", "ch=2,ch_max=4,dch=8,w_dim=16"},
        /* issue 15: the distillation student, the translator and its student */
        {"dcgan_student", "ngf=8,ndf=16"},
        {"pix2pix", "ngf=4,ndf=4,n_blocks=1"},
        {"pix2pix_student", "ngf=4,ndf=4,n_blocks=1"},
    };
    const int nsmall = (int)(sizeof small / sizeof small[0]);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/configs", GT_SOURCE_DIR);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    char names[64][64];
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) && n < 64;) {
        size_t len = strlen(e->d_name);
        if (len > 5 && len < 64 && !strcmp(e->d_name + len - 5, ".json")) {
            memcpy(names[n], e->d_name, len - 5);
            names[n++][len - 5] = '\0';
        }
    }
    if (d) closedir(d);
    qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    const char *only = getenv("GANTRY_ZOO_ONLY"); /* "a,b": just those configs (a quick local check) */
    for (int i = 0; i < n; i++) {
        char key[80];
        snprintf(key, sizeof key, ",%.64s,", names[i]);
        char list[1100];
        snprintf(list, sizeof list, ",%.1000s,", only ? only : "");
        if (only && !strstr(list, key)) continue;
        int k = 0;
        while (k < nsmall && strcmp(small[k][0], names[i])) k++;
        CHECK_MSG(k < nsmall, "configs/%s.json has no small width in this test", names[i]);
        if (k < nsmall) train_config(names[i], small[k][1]);
    }
    CHECK_MSG(n >= nsmall, "only %d configs in %s", n, dir);
}

int main(void) {
    gt_set_num_threads(2);
    RUN(test_zoo_configs);
    return gt_test_finish();
}
