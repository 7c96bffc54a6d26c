/* Exact resume: N steps, checkpoint, a fresh process-like trainer loads it and
 * runs N more steps == 2N steps straight, bit for bit (weights, BN buffers,
 * EMA, Adam moments and steps, latent generator, batcher), across an epoch
 * boundary; with the BCE loss and with WGAN-GP (n_critic 2, create_graph).
 * Also: the run folder (config.json, metrics.jsonl trimmed on resume,
 * periodic checkpoints pruned, sample grids), and loading errors. */
#include <sys/stat.h>
#include <unistd.h>

#include "../common/harness.h"
#include "gantry/train.h"
#include "train_util.h"

static char g_idx[600];

static const char *tp(const char *name) { return gt_test_path(name); }

static gt_train_config small_config(const char *out, int64_t steps) {
    gt_train_config c = gt_test_tiny_config(g_idx, out, steps);
    c.batch = 16; /* 96 images: 6 batches per epoch, so 2N = 10 steps cross an epoch */
    c.ema = 0.9;
    c.seed = 11;
    c.log_every = 2, c.sample_every = 4, c.ckpt_every = 3, c.keep_ckpts = 2;
    c.n_samples = 16;
    return c;
}

static bool same_slab(const char *what, gt_tensor *a, gt_tensor *b) {
    bool ok = a && b && gt_numel(a) == gt_numel(b) &&
              memcmp(gt_data(a), gt_data(b), (size_t)gt_numel(a) * sizeof(float)) == 0;
    CHECK_MSG(ok, "%s differs after resume", what);
    return ok;
}

static void compare_trainers(gt_trainer *a, gt_trainer *b) {
    CHECK(a->step == b->step);
    same_slab("G params", a->G.P.slab, b->G.P.slab);
    same_slab("G buffers", a->G.P.buffers, b->G.P.buffers);
    same_slab("D params", a->D.P.slab, b->D.P.slab);
    same_slab("D buffers", a->D.P.buffers, b->D.P.buffers);
    same_slab("G_ema params", a->G_ema.P.slab, b->G_ema.P.slab);
    same_slab("G_ema buffers", a->G_ema.P.buffers, b->G_ema.P.buffers);
    same_slab("Adam G m", a->opt_g.exp_avg, b->opt_g.exp_avg);
    same_slab("Adam G v", a->opt_g.exp_avg_sq, b->opt_g.exp_avg_sq);
    same_slab("Adam D m", a->opt_d.exp_avg, b->opt_d.exp_avg);
    same_slab("Adam D v", a->opt_d.exp_avg_sq, b->opt_d.exp_avg_sq);
    CHECK(a->opt_g.step == b->opt_g.step && a->opt_d.step == b->opt_d.step);
    CHECK(a->ema.updates == b->ema.updates);
    CHECK(a->rng.seed == b->rng.seed && a->rng.offset == b->rng.offset);
    gt_batcher_state sa = gt_batcher_get_state(a->batcher), sb = gt_batcher_get_state(b->batcher);
    CHECK(sa.epoch == sb.epoch && sa.position == sb.position && sa.seed == sb.seed);
}

static void resume_case(const char *tag, gt_loss_kind loss, double gp, int n_critic) {
    const int64_t N = 5;
    char da[64], db[64];
    snprintf(da, sizeof da, "straight_%s", tag);
    snprintf(db, sizeof db, "halves_%s", tag);
    gt_train_config ca = small_config(tp(da), 2 * N), cb = small_config(tp(db), N);
    ca.loss = cb.loss = loss, ca.gp = cb.gp = gp, ca.n_critic = cb.n_critic = n_critic;

    gt_trainer a, b;
    CHECK_MSG(gt_trainer_init(&a, &ca, NULL) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(gt_train_run(&a, NULL) == GT_OK, "%s", gt_last_error());
    CHECK(a.step == (uint64_t)(2 * N));
    CHECK(gt_batcher_get_state(a.batcher).epoch >= 1); /* crossed an epoch */

    CHECK_MSG(gt_trainer_init(&b, &cb, NULL) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(gt_train_run(&b, NULL) == GT_OK, "%s", gt_last_error());
    gt_trainer_free(&b);
    /* a new trainer (as a new process would build) continues to 2N */
    cb.steps = 2 * N;
    CHECK(gt_trainer_init(&b, &cb, NULL) == GT_OK);
    char last[800];
    CHECK_MSG(gt_trainer_load(&b, gt_train_last_ckpt(&cb, last, sizeof last)) == GT_OK, "%s", gt_last_error());
    CHECK(b.step == (uint64_t)N);
    CHECK_MSG(gt_train_run(&b, NULL) == GT_OK, "%s", gt_last_error());
    compare_trainers(&a, &b);
    gt_trainer_free(&a);
    gt_trainer_free(&b);
}

static void test_resume_bce(void) {
    resume_case("bce", GT_LOSS_NS, 0, 1);
}

static void test_resume_wgan_gp(void) {
    resume_case("wgangp", GT_LOSS_WGAN, 10, 2);
}

static void test_run_folder(void) {
    /* the "halves" run of the BCE case: 10 steps written in two runs */
    const char *d = tp("halves_bce");
    struct stat sb;
    char p[800];
    snprintf(p, sizeof p, "%s/config.json", d);
    size_t n = 0;
    unsigned char *cfg = gt_test_read_all(p, &n);
    CHECK(cfg != NULL);
    if (cfg) {
        gt_train_config c = gt_train_config_default();
        cfg[n] = 0;
        CHECK(gt_train_config_from_json(&c, (char *)cfg, p) == GT_OK);
        CHECK(c.steps == 10 && c.model.res == 28 && gt_model_opt(&c.model, "ngf") == 8 && c.seed == 11 && c.ema == 0.9);
        free(cfg);
    }
    /* metrics: one line per log interval, steps 2,4,...,10 once each (the first
     * run's final line at step 5 is trimmed away... it is <= 5, so it stays) */
    snprintf(p, sizeof p, "%s/metrics.jsonl", d);
    unsigned char *m = gt_test_read_all(p, &n);
    CHECK(m != NULL);
    if (m) {
        m[n] = 0;
        int lines = 0;
        for (size_t i = 0; i < n; i++) lines += m[i] == '\n';
        CHECK_MSG(lines == 6, "metrics.jsonl has %d lines, want 6 (2 4 5 | 6 8 10)", lines);
        CHECK(strstr((char *)m, "\"step\":10,") && strstr((char *)m, "\"it_s\":"));
        free(m);
    }
    /* checkpoints at 3, 6, 9; two kept; last = the end */
    snprintf(p, sizeof p, "%s/checkpoints/step_000003.safetensors", d);
    CHECK(stat(p, &sb) != 0);
    snprintf(p, sizeof p, "%s/checkpoints/step_000006.safetensors", d);
    CHECK(stat(p, &sb) == 0);
    snprintf(p, sizeof p, "%s/checkpoints/step_000009.safetensors", d);
    CHECK(stat(p, &sb) == 0);
    snprintf(p, sizeof p, "%s/last.safetensors", d);
    CHECK(stat(p, &sb) == 0);
    snprintf(p, sizeof p, "%s/samples/step_000008.png", d);
    CHECK(stat(p, &sb) == 0);
    snprintf(p, sizeof p, "%s/samples/last.png", d);
    CHECK(stat(p, &sb) == 0);

    /* the last checkpoint's generator gives the run's last grid from the same latents */
    gt_net G;
    gt_train_config c;
    bool ema = false;
    snprintf(p, sizeof p, "%s/last.safetensors", d);
    CHECK_MSG(gt_load_generator(p, true, &G, &c, &ema) == GT_OK, "%s", gt_last_error());
    CHECK(ema && c.model.nz == 16);
    gt_tensor *z = gt_sample_latents(c.seed, 4, c.model.nz, 0);
    CHECK(gt_recalibrate_bn(&G, 0x5EED, 8, 64) == GT_OK);
    gt_tensor *x = gt_generate(&G, z);
    CHECK(x && x->shape[0] == 4 && x->shape[1] == 1 && x->shape[2] == 28);
    gt_net_free(&G);
    /* truncation keeps every |z| <= T; latents do not depend on n */
    gt_tensor *zt = gt_sample_latents(5, 50, 16, 0.5f);
    float mx = 0;
    for (int64_t i = 0; zt && i < gt_numel(zt); i++) mx = fmaxf(mx, fabsf(gt_data(zt)[i]));
    CHECK(zt && mx <= 0.5f);
    gt_tensor *z1 = gt_sample_latents(5, 3, 16, 0), *z2 = gt_sample_latents(5, 7, 16, 0);
    CHECK(z1 && z2 && memcmp(gt_data(z1), gt_data(z2), 3 * 16 * sizeof(float)) == 0);
    CHECK(gt_slerp_latents(z1, z1, 3) == NULL); /* a and b must be (nz) vectors */
    gt_tensor *s;
    gt_tensor *a0 = gt_slice(z1, 0, 0, 1, 1), *a1 = gt_slice(z1, 0, 1, 2, 1);
    s = gt_slerp_latents(gt_reshape(a0, GT_SHAPE(-1)), gt_reshape(a1, GT_SHAPE(-1)), 5);
    CHECK(s && s->shape[0] == 5 && fabsf(gt_data(s)[0] - gt_data(z1)[0]) < 1e-5f &&
          fabsf(gt_data(s)[4 * 16 + 3] - gt_data(z1)[16 + 3]) < 1e-5f);
}

/* A step leaves no tensor behind: memory is constant over a run. */
static void test_constant_memory(void) {
    gt_train_config c = small_config("", 0);
    c.n_critic = 2, c.loss = GT_LOSS_WGAN, c.gp = 10;
    gt_trainer t;
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_OK);
    CHECK(gt_trainer_step(&t, NULL) == GT_OK);
    int64_t live = gt_live_tensors();
    for (int i = 0; i < 4; i++) CHECK(gt_trainer_step(&t, NULL) == GT_OK);
    CHECK_MSG(gt_live_tensors() == live, "%lld tensors after 4 more steps, %lld before",
              (long long)gt_live_tensors(), (long long)live);
    int m = gt_scope_begin();
    CHECK(gt_trainer_sample(&t, t.fixed_z) != NULL);
    gt_scope_end(m);
    CHECK(gt_live_tensors() == live);
    gt_trainer_free(&t);
}

static void test_load_errors(void) {
    gt_train_config c = small_config(tp("errs"), 2);
    gt_trainer t;
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_OK);
    CHECK(gt_trainer_load(&t, tp("does-not-exist.safetensors")) != GT_OK &&
          strstr(gt_last_error(), "does-not-exist"));
    /* a checkpoint of another architecture: shapes that do not fit */
    gt_train_config c2 = small_config(tp("other"), 1);
    gt_model_opt_set(&c2.model, "ngf", 12);
    gt_trainer o;
    CHECK(gt_trainer_init(&o, &c2, NULL) == GT_OK);
    CHECK(gt_train_run(&o, NULL) == GT_OK);
    char last[800];
    gt_train_last_ckpt(&c2, last, sizeof last);
    float before = gt_data(t.G.P.slab)[0];
    CHECK(gt_trainer_load(&t, last) != GT_OK && strstr(gt_last_error(), "G.main.0.weight"));
    CHECK(gt_data(t.G.P.slab)[0] == before); /* all or nothing */
    gt_trainer_free(&o);
    /* a truncated checkpoint */
    size_t n = 0;
    unsigned char *buf = gt_test_read_all(last, &n);
    CHECK(buf && gt_test_write_all(tp("cut.safetensors"), buf, n / 2));
    CHECK(gt_trainer_load(&t, tp("cut.safetensors")) != GT_OK && strstr(gt_last_error(), "cut.safetensors"));
    gt_net G;
    CHECK(gt_load_generator(tp("cut.safetensors"), true, &G, NULL, NULL) != GT_OK);
    gt_net_free(&G);
    free(buf);
    gt_trainer_free(&t);
    /* a dataset smaller than a batch; a missing one */
    c.batch = 200;
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_ERR_ARG && strstr(gt_last_error(), "batch"));
    gt_trainer_free(&t);
    c.batch = 16;
    snprintf(c.data, sizeof c.data, "%s", tp("nothing-here-images-idx3-ubyte"));
    CHECK(gt_trainer_init(&t, &c, NULL) != GT_OK && strstr(gt_last_error(), "nothing-here"));
    gt_trainer_free(&t);
}

/* --eval-every: FID lines in metrics.jsonl at each interval, finite and
 * positive; evaluating leaves the training trajectory bit-identical. */
static void test_eval_every(void) {
    gt_train_config ca = small_config(tp("eval_on"), 6), cb = small_config(tp("eval_off"), 6);
    ca.eval_every = 2, ca.eval_n = 40; /* fmnist features of 40 generated vs 40 training images */
    gt_trainer a, b;
    CHECK_MSG(gt_trainer_init(&a, &ca, NULL) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(gt_train_run(&a, NULL) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(gt_trainer_init(&b, &cb, NULL) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(gt_train_run(&b, NULL) == GT_OK, "%s", gt_last_error());
    compare_trainers(&a, &b);
    gt_trainer_free(&a);
    gt_trainer_free(&b);
    char path[GT_PATH_MAX + 32], line[512];
    snprintf(path, sizeof path, "%s/metrics.jsonl", ca.out);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    int evals = 0;
    while (f && fgets(line, sizeof line, f)) {
        const char *e = strstr(line, "\"eval\":{\"fid\":");
        if (!e) continue;
        double fid = strtod(e + strlen("\"eval\":{\"fid\":"), NULL);
        unsigned long long step = strtoull(line + strlen("{\"step\":"), NULL, 10);
        CHECK_MSG(isfinite(fid) && fid > 0, "eval line: %s", line);
        CHECK(step == (unsigned long long)(2 * (evals + 1)));
        CHECK(strstr(line, "\"extractor\":\"fmnist\",\"n\":40") != NULL);
        evals++;
    }
    if (f) fclose(f);
    CHECK_MSG(evals == 3, "%d eval lines, want 3", evals);
    /* --eval-metrics all: every metric on the same trajectory and the same fixed latents, so the FID
     * equals the FID-only run's at each step; the others finite and in range */
    gt_train_config cc = small_config(tp("eval_all"), 6);
    cc.eval_every = 2, cc.eval_n = 40;
    snprintf(cc.eval_metrics, sizeof cc.eval_metrics, "all");
    gt_trainer t3;
    CHECK_MSG(gt_trainer_init(&t3, &cc, NULL) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(gt_train_run(&t3, NULL) == GT_OK, "%s", gt_last_error());
    gt_trainer_free(&t3);
    char pa[GT_PATH_MAX + 32], la[1024], lb[1024];
    snprintf(pa, sizeof pa, "%s/metrics.jsonl", cc.out);
    FILE *fa = fopen(pa, "r"), *fb = fopen(path, "r");
    CHECK(fa && fb);
    int matched = 0;
    while (fa && fb && fgets(la, sizeof la, fa)) {
        const char *e = strstr(la, "\"eval\":{");
        if (!e) continue;
        while (fgets(lb, sizeof lb, fb) && !strstr(lb, "\"eval\":{")) {}
        double fa_fid = strtod(strstr(la, "\"fid\":") + 6, NULL), fb_fid = strtod(strstr(lb, "\"fid\":") + 6, NULL);
        CHECK_MSG(fabs(fa_fid - fb_fid) <= 1e-5 * fb_fid, "FID %g with all metrics vs %g alone", fa_fid, fb_fid);
        const char *keys[] = {"\"kid\":", "\"kid_std\":", "\"is\":", "\"is_std\":", "\"precision\":",
                              "\"recall\":", "\"f_score\":", "\"density\":", "\"coverage\":"};
        for (int k = 0; k < 9; k++) {
            const char *q = strstr(la, keys[k]);
            CHECK_MSG(q != NULL, "no %s in %s", keys[k], la);
            if (!q) continue;
            double v = strtod(q + strlen(keys[k]), NULL);
            bool unit = k >= 4 && k != 7; /* precision, recall, f_score, coverage in [0, 1]; density >= 0 */
            CHECK_MSG(isfinite(v) && (!unit || (v >= 0 && v <= 1)) && (k != 2 || v >= 1), "%s%g", keys[k], v);
        }
        matched++;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    CHECK_MSG(matched == 3, "%d eval lines with all metrics, want 3", matched);
    unsigned mask = 0;
    CHECK(gt_eval_metrics_parse("kid,fid", &mask) == GT_OK && mask == (GT_EVAL_KID | GT_EVAL_FID));
    CHECK(gt_eval_metrics_parse("fid,lpips", &mask) == GT_ERR_ARG && strstr(gt_last_error(), "'lpips'"));
    CHECK(gt_eval_metrics_parse("", &mask) == GT_ERR_ARG);
    gt_train_config badm = small_config(tp("eval_badm"), 2);
    snprintf(badm.eval_metrics, sizeof badm.eval_metrics, "fid,,x");
    CHECK(gt_train_config_check(&badm) == GT_ERR_ARG && strstr(gt_last_error(), "eval-metrics"));
    /* a bad extractor name is refused before any training */
    gt_train_config bad = small_config(tp("eval_bad"), 2);
    snprintf(bad.eval_extractor, sizeof bad.eval_extractor, "vgg");
    CHECK(gt_train_config_check(&bad) == GT_ERR_ARG);
}

int main(void) {
    gt_set_num_threads(2);
    snprintf(g_idx, sizeof g_idx, "%s", tp("blobs-images-idx3-ubyte"));
    if (!gt_test_write_idx(g_idx, 96)) {
        fprintf(stderr, "cannot write %s\n", g_idx);
        return 1;
    }
    RUN(test_resume_bce);
    RUN(test_resume_wgan_gp);
    RUN(test_run_folder);
    RUN(test_constant_memory);
    RUN(test_load_errors);
    RUN(test_eval_every);
    int rc = gt_test_finish();
    return rc;
}
