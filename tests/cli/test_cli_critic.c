/* gantry train's WGAN flags end to end: --steps 0 is refused before anything
 * is written; a resumed run already at its target says so and touches
 * nothing; --loss wgan clips every D weight (--clip, kept on resume);
 * --loss wgan-gp trains a layer-norm critic that info, sample and resume
 * read back; --d-norm batch with a penalty and --clip with another loss are
 * refused. */
#include "cli_util.h"
#include "gantry/train.h"

static char g_idx[700];

static const char *tp(const char *name) { return gt_test_path(name); }

#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "4", "--quiet"

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* Largest |w| over the checkpoint's D parameters (D.*, not the BN running
 * statistics); -1 when unreadable. */
static float ckpt_d_max(const char *ckpt, int *nd) {
    gt_safetensors s;
    gt_st_init(&s);
    float m = -1;
    *nd = 0;
    if (gt_st_load(&s, ckpt) == GT_OK) {
        m = 0;
        for (int i = 0; i < s.n; i++) {
            const gt_st_tensor *t = &s.t[i];
            if (strncmp(t->name, "D.", 2) != 0 || strstr(t->name, "running_") || t->dtype != GT_ST_F32) continue;
            (*nd)++;
            const float *v = t->data;
            for (int64_t k = 0; k < t->numel; k++) m = fabsf(v[k]) > m ? fabsf(v[k]) : m;
        }
    }
    gt_st_free(&s);
    return m;
}

/* buf (n bytes, room for one more) holds "key": value, with any spacing. */
static bool json_has(unsigned char *buf, size_t n, const char *key, const char *value) {
    if (!buf) return false;
    buf[n] = 0;
    const char *k = strstr((char *)buf, key);
    if (!k) return false;
    k += strlen(key);
    while (*k == ' ' || *k == '\t' || *k == ':') k++;
    return strncmp(k, value, strlen(value)) == 0;
}

static void test_steps_zero(void) {
    CHECK_CLI(2, "--steps 0 trains nothing", "train", "--data", g_idx, "--steps", "0", "--out", tp("zero"), TINY);
    CHECK(!exists(tp("zero")));
    /* a finished run asked again: a message, exit 0, nothing rewritten */
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "2", "--out", tp("done"), TINY);
    char last[800], cfg[800];
    snprintf(last, sizeof last, "%s/last.safetensors", tp("done"));
    snprintf(cfg, sizeof cfg, "%s/config.json", tp("done"));
    size_t n1 = 0, c1 = 0, n2 = 0, c2 = 0;
    unsigned char *a = gt_test_read_all(last, &n1), *ca = gt_test_read_all(cfg, &c1);
    CHECK_CLI(0, "already at step 2 (target 2)", "train", "--out", tp("done"), "--resume");
    CHECK_CLI(0, "already at step 2 (target 1)", "train", "--out", tp("done"), "--resume", "--steps", "1");
    CHECK_CLI(2, "--steps 0 trains nothing", "train", "--out", tp("done"), "--resume", "--steps", "0");
    unsigned char *b = gt_test_read_all(last, &n2), *cb = gt_test_read_all(cfg, &c2);
    CHECK(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
    CHECK(ca && cb && c1 == c2 && memcmp(ca, cb, c1) == 0 && json_has(cb, c2, "\"steps\"", "2"));
    free(a), free(b), free(ca), free(cb);
}

static void test_wgan_clip(void) {
    char last[800];
    int nd = 0;
    /* the default clip 0.01: every D parameter inside, and some at the bound */
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "3", "--out", tp("wgan"), "--loss", "wgan", TINY);
    snprintf(last, sizeof last, "%s/last.safetensors", tp("wgan"));
    float m = ckpt_d_max(last, &nd);
    CHECK_MSG(m == 0.01f && nd == 8, "wgan: max |w| of D %g over %d tensors, want 0.01 over 8", m, nd);
    CHECK_CLI(0, "wgan (weight clipping 0.01)", "info", "--ckpt", last);
    /* resume keeps it; another value is refused */
    CHECK_CLI(2, "--clip differs from the run being resumed", "train", "--out", tp("wgan"), "--resume", "--steps", "5",
              "--clip", "0.05");
    CHECK_CLI(0, NULL, "train", "--out", tp("wgan"), "--resume", "--steps", "5", "--clip", "0.01", "--quiet");
    m = ckpt_d_max(last, &nd);
    CHECK_MSG(m == 0.01f, "wgan resumed: max |w| of D %g", m);
    CHECK_CLI(0, "step         5 of 5", "info", "--ckpt", last);
    /* --clip 0.05 is the bound used */
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "3", "--out", tp("wgan5"), "--loss", "wgan", "--clip",
              "0.05", TINY);
    snprintf(last, sizeof last, "%s/last.safetensors", tp("wgan5"));
    m = ckpt_d_max(last, &nd);
    CHECK_MSG(m == 0.05f, "wgan --clip 0.05: max |w| of D %g", m);
    /* the control: without clipping (hinge; wgan --clip 0) D's weights are outside */
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "3", "--out", tp("hinge"), "--loss", "hinge", TINY);
    snprintf(last, sizeof last, "%s/last.safetensors", tp("hinge"));
    m = ckpt_d_max(last, &nd);
    CHECK_MSG(m > 0.5f, "hinge: max |w| of D %g", m);
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "3", "--out", tp("wgan0"), "--loss", "wgan", "--clip", "0",
              TINY);
    snprintf(last, sizeof last, "%s/last.safetensors", tp("wgan0"));
    m = ckpt_d_max(last, &nd);
    CHECK_MSG(m > 0.5f, "wgan --clip 0: max |w| of D %g", m);
    /* --clip belongs to plain wgan */
    CHECK_CLI(2, "--clip is the weight clipping of the original WGAN", "train", "--data", g_idx, "--steps", "3",
              "--out", tp("bad"), "--clip", "0.01", TINY);
    CHECK_CLI(2, "does not go with --loss wgan-gp", "train", "--data", g_idx, "--steps", "3", "--out", tp("bad"),
              "--loss", "wgan-gp", "--clip", "0.01", TINY);
    CHECK(!exists(tp("bad")));
    CHECK_CLI(0, "RMSProp", "train", "--help");
}

static void test_wgan_gp_critic(void) {
    char last[800];
    CHECK_CLI(2, "batch norm makes each sample's critic output and input gradient depend on the rest of the batch",
              "train", "--data", g_idx, "--steps", "3", "--out", tp("bad"), "--loss", "wgan-gp", "--d-norm", "batch",
              TINY);
    CHECK_CLI(2, "--d-norm batch does not go with a gradient penalty", "train", "--data", g_idx, "--steps", "3",
              "--out", tp("bad"), "--loss", "hinge", "--gp", "1", "--d-norm", "batch", TINY);
    CHECK_CLI(2, "--d-norm must be batch, layer or none, got 'group'", "train", "--data", g_idx, "--steps", "3",
              "--out", tp("bad"), "--d-norm", "group", TINY);
    CHECK(!exists(tp("bad")));

    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "3", "--out", tp("gp"), "--loss", "wgan-gp", TINY);
    snprintf(last, sizeof last, "%s/last.safetensors", tp("gp"));
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_load(&s, last) == GT_OK);
    const gt_st_tensor *w = gt_st_find(&s, "D.main.3.weight");
    CHECK(w && w->ndim == 1 && w->shape[0] == 16 && !gt_st_find(&s, "D.main.3.running_mean"));
    gt_st_free(&s);
    CHECK_CLI(0, "d_norm       layer", "info", "--ckpt", last);
    CHECK(gt_cli_said("wgan + gp"));
    CHECK_CLI(0, "4 images", "sample", "--ckpt", last, "--n", "4", "--out", tp("gp.png"));
    CHECK_CLI(2, "--d-norm differs from the run being resumed", "train", "--out", tp("gp"), "--resume", "--steps",
              "5", "--d-norm", "none");
    CHECK_CLI(0, NULL, "train", "--out", tp("gp"), "--resume", "--steps", "5", "--d-norm", "layer", "--quiet");
    CHECK_CLI(0, "step         5 of 5", "info", "--ckpt", last);
    CHECK(gt_cli_said("d_norm       layer"));
    char cfg[800];
    snprintf(cfg, sizeof cfg, "%s/config.json", tp("gp"));
    size_t n = 0;
    unsigned char *c = gt_test_read_all(cfg, &n);
    CHECK(json_has(c, n, "\"d_norm\"", "\"layer\""));
    free(c);

    /* none with a penalty, layer without: the user's choice */
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "2", "--out", tp("gp_none"), "--loss", "wgan-gp",
              "--d-norm", "none", TINY);
    snprintf(last, sizeof last, "%s/last.safetensors", tp("gp_none"));
    CHECK_CLI(0, "d_norm       none", "info", "--ckpt", last);
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--steps", "2", "--out", tp("ns_layer"), "--d-norm", "layer", TINY);
    snprintf(last, sizeof last, "%s/last.safetensors", tp("ns_layer"));
    CHECK_CLI(0, "d_norm       layer", "info", "--ckpt", last);
    /* the default elsewhere stays batch */
    snprintf(last, sizeof last, "%s/last.safetensors", tp("hinge"));
    CHECK_CLI(0, "d_norm       batch", "info", "--ckpt", last);
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built (looked for %s)\n", gt_cli_bin);
        return 1;
    }
    snprintf(g_idx, sizeof g_idx, "%s/tiny-images-idx3-ubyte", gt_test_tmpdir());
    if (!gt_test_write_idx(g_idx, 48)) return 1;
    RUN(test_steps_zero);
    RUN(test_wgan_clip);
    RUN(test_wgan_gp_critic);
    return gt_test_finish();
}
