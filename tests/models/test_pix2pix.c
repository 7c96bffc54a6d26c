/* The pix2pix family: G and D against PyTorch's ResnetGenerator / NLayerDiscriminator (forward
 * 1e-5, gradients of the pix2pix G loss w.r.t. every parameter), in instance and batch norm; the
 * reflection padding's values and gradient (finite differences); the edge map on handmade images
 * and against a PyTorch Sobel; the lowered program equals the eval forward; channel groups index
 * every tensor they name and permuting a group's channels leaves the output unchanged; taps; bad
 * input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/harness.h"
#include "gantry/compress.h"
#include "gantry/prune.h"
#include "gantry/translate.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

gt_tensor *gt__reflect_pad2d(gt_tensor *x, int p); /* src/models/pix2pix.c (internal) */

static gt_model_config cfg_of(int res, int ch, int ngf, int ndf, int nb, int nl, const char *norm) {
    gt_model_config c = gt_model_config_default("pix2pix");
    c.res = res, c.channels = ch;
    gt_model_opt_set(&c, "ngf", ngf);
    gt_model_opt_set(&c, "ndf", ndf);
    gt_model_opt_set(&c, "n_blocks", nb);
    gt_model_opt_set(&c, "n_layers", nl);
    gt_model_opt_parse(&c, "norm", norm);
    return c;
}

/* Every parameter random (scale 0.2; batch-norm weights around 1), running variances positive. */
static void randomize(gt_net *n, uint64_t seed) {
    for (int i = 0; i < n->P.n; i++) {
        gt_tensor *t = n->P.v[i].t;
        const char *nm = n->P.v[i].name;
        gt_tensor *r = gt_test_randn(seed + (uint64_t)i, t->ndim, t->shape, 0.2f);
        float *d = gt_data(r);
        bool bn_w = t->ndim == 1 && strstr(nm, "weight");
        for (int64_t k = 0; k < gt_numel(r); k++) {
            if (strstr(nm, "running_var")) d[k] = 1.0f + fabsf(d[k]);
            else if (bn_w) d[k] += 1.0f;
        }
        CHECK(gt_params_set(&n->P, nm, r) == GT_OK);
    }
}

typedef struct {
    const char *tag;
    gt_model_config c;
    int N;
} variant;

static void test_matches_pytorch(void) {
    variant v[2] = {{"in", cfg_of(28, 1, 4, 4, 2, 2, "instance"), 3}, {"bn", cfg_of(32, 3, 3, 4, 1, 3, "batch"), 4}};
    gt_model_opt_set(&v[0].c, "w_block0", 5); /* a width option: block 0's middle */
    gt_model_opt_set(&v[0].c, "w_up2", 6);
    gt_net G[2], D[2];
    enum { MAXT = 400 };
    const char *names[MAXT];
    char buf[MAXT][96];
    gt_tensor *ts[MAXT];
    int n = 0;
    for (int k = 0; k < 2; k++) {
        gt_rng r;
        gt_rng_init(&r, 7 + (uint64_t)k);
        CHECK(gt_model_build(&v[k].c, GT_NET_G, &r, &G[k]) == GT_OK);
        CHECK(gt_model_build(&v[k].c, GT_NET_D, &r, &D[k]) == GT_OK);
        randomize(&G[k], 100 + 1000 * (uint64_t)k);
        randomize(&D[k], 500 + 1000 * (uint64_t)k);
        const gt_model_config *c = &v[k].c;
        int ngf = (int)gt_model_opt(c, "ngf"), nb = (int)gt_model_opt(c, "n_blocks");
        float cf[5 + 3 + 9 + 2];
        int m = 0;
        cf[m++] = (float)c->channels, cf[m++] = (float)nb, cf[m++] = (float)gt_model_opt(c, "n_layers");
        cf[m++] = (float)gt_model_opt(c, "ndf"), cf[m++] = (float)gt_model_opt(c, "norm");
        /* widths as built: read from the weights */
        cf[m++] = (float)gt_params_get(&G[k].P, "model.1.weight")->shape[0];
        cf[m++] = (float)gt_params_get(&G[k].P, "model.4.weight")->shape[0];
        cf[m++] = (float)gt_params_get(&G[k].P, "model.7.weight")->shape[0];
        for (int b = 0; b < nb; b++) {
            char key[48];
            snprintf(key, sizeof key, "model.%d.conv_block.1.weight", 10 + b);
            cf[m++] = (float)gt_params_get(&G[k].P, key)->shape[0];
        }
        char key[48];
        snprintf(key, sizeof key, "model.%d.weight", 10 + nb);
        cf[m++] = (float)gt_params_get(&G[k].P, key)->shape[1];
        snprintf(key, sizeof key, "model.%d.weight", 13 + nb);
        cf[m++] = (float)gt_params_get(&G[k].P, key)->shape[1];
        CHECK(cf[m - 1] == (k == 0 ? 6 : ngf));
        snprintf(buf[n], 96, "%s.cfg", v[k].tag), names[n] = buf[n], ts[n++] = gt_from_data(S(m), cf);
        snprintf(buf[n], 96, "%s.a", v[k].tag), names[n] = buf[n];
        ts[n++] = gt_test_uniform(20 + (uint64_t)k, S(v[k].N, c->channels, c->res, c->res), -1, 1);
        snprintf(buf[n], 96, "%s.b", v[k].tag), names[n] = buf[n];
        ts[n++] = gt_test_uniform(30 + (uint64_t)k, S(v[k].N, c->channels, c->res, c->res), -1, 1);
        for (int pass = 0; pass < 2; pass++) {
            gt_net *net = pass ? &D[k] : &G[k];
            for (int i = 0; i < net->P.n && n < MAXT; i++) {
                snprintf(buf[n], 96, "%s.%s.%s", v[k].tag, pass ? "D" : "G", net->P.v[i].name);
                names[n] = buf[n], ts[n++] = net->P.v[i].t;
            }
        }
    }
    names[n] = "edges.x", ts[n++] = gt_test_uniform(77, S(2, 3, 9, 7), -1, 1);
    names[n] = "edges.thr", ts[n++] = gt_from_data(S(1), (float[]){GT_EDGE_THRESHOLD});
    char path[512];
    snprintf(path, sizeof path, "%s/p2p_in.gtb", gt_test_tmpdir());
    CHECK(gt_golden_write(path, n, names, ts));
    if (!gt_golden_run("pix2pix.py", path)) goto done;
    CHECK(gt_test_close("edges vs torch", gt_edges(ts[n - 2]), gt_golden("edges"), 0, 0));
    for (int k = 0; k < 2; k++) {
        const gt_model_config *c = &v[k].c;
        char nm[128];
        gt_tensor *a = ts[k == 0 ? 1 : 1 + 0], *b;
        /* find this variant's inputs again by name */
        for (int i = 0; i < n; i++) {
            snprintf(nm, sizeof nm, "%s.a", v[k].tag);
            if (strcmp(names[i], nm) == 0) a = ts[i];
        }
        snprintf(nm, sizeof nm, "%s.b", v[k].tag);
        b = NULL;
        for (int i = 0; i < n; i++)
            if (strcmp(names[i], nm) == 0) b = ts[i];
        int sc = gt_scope_begin();
        CHECK(gt_params_zero_grad(&G[k].P) == GT_OK && gt_params_zero_grad(&D[k].P) == GT_OK);
        gt_tensor *fake = gt_net_forward(&G[k], a, GT_BN_TRAIN);
        gt_tensor *d = gt_net_forward(&D[k], gt_concat(2, (gt_tensor *[]){a, fake}, 1), GT_BN_TRAIN);
        CHECK(d && d->ndim == 2 && d->shape[0] == v[k].N);
        gt_tensor *loss = gt_add(gt_bce_with_logits(d, gt_ones_like(d)), gt_mul_scalar(gt_l1_loss(fake, b), 100.0f));
        CHECK(loss && gt_backward(loss) == GT_OK);
        snprintf(nm, sizeof nm, "%s.fake", v[k].tag);
        CHECK(gt_test_close(nm, fake, gt_golden(nm), 1e-5f, 1e-5f));
        snprintf(nm, sizeof nm, "%s.d", v[k].tag);
        CHECK(gt_test_close(nm, d, gt_golden(nm), 1e-5f, 1e-5f));
        snprintf(nm, sizeof nm, "%s.loss", v[k].tag);
        CHECK(gt_test_close(nm, gt_reshape(loss, S(1)), gt_golden(nm), 1e-5f, 1e-5f));
        for (int pass = 0; pass < 2; pass++) {
            gt_net *net = pass ? &D[k] : &G[k];
            for (int i = 0; i < net->P.n; i++) {
                if (net->P.v[i].is_buffer) continue;
                snprintf(nm, sizeof nm, "%s.g%s.%s", v[k].tag, pass ? "D" : "G", net->P.v[i].name);
                gt_tensor *want = gt_golden(nm);
                CHECK_MSG(want != NULL, "golden %s missing", nm);
                if (want) CHECK(gt_test_close(nm, net->P.v[i].t->grad, want, 1e-4f, 1e-5f));
            }
        }
        if (gt_model_opt(c, "norm") == 1)
            for (int i = 0; i < G[k].P.n; i++)
                if (G[k].P.v[i].is_buffer && strstr(G[k].P.v[i].name, "running")) {
                    snprintf(nm, sizeof nm, "%s.sG.%s", v[k].tag, G[k].P.v[i].name);
                    CHECK(gt_test_close(nm, G[k].P.v[i].t, gt_golden(nm), 1e-5f, 1e-6f));
                }
        bool prev = gt_no_grad_begin();
        gt_tensor *ev = gt_net_forward(&G[k], a, GT_BN_EVAL);
        gt_grad_mode_restore(prev);
        snprintf(nm, sizeof nm, "%s.eval", v[k].tag);
        CHECK(gt_test_close(nm, ev, gt_golden(nm), 1e-5f, 1e-5f));
        /* the lowered program computes the eval forward */
        gt_prog p;
        CHECK(gt_prog_from_net(&G[k], &p) == GT_OK);
        if (p.n > 0) {
            CHECK(p.translator && p.out_c == c->channels && p.out_h == c->res && p.out_w == c->res);
            gt_tensor *ac = gt_contiguous(a);
            gt_tensor *o = gt_empty(4, a->shape);
            CHECK(gt_prog_run(&p, gt_data(ac), gt_data(o), (int)a->shape[0]) == GT_OK);
            snprintf(nm, sizeof nm, "%s.prog", v[k].tag);
            CHECK(gt_test_close(nm, o, ev, 1e-5f, 1e-5f));
            CHECK(gt_prog_macs(&p) > 0 && gt_prog_params(&p) == gt_net_num_params(&G[k]));
        }
        gt_prog_free(&p);
        gt_scope_end(sc);
    }
done:
    for (int k = 0; k < 2; k++) gt_net_free(&G[k]), gt_net_free(&D[k]);
}

/* x in ts[0]: reflection pad 2 */
static gt_tensor *pad_fn(gt_tensor *const *in, void *ctx) { return gt__reflect_pad2d(in[0], *(int *)ctx); }

static void test_reflect_pad(void) {
    /* (1, 1, 3, 4) rows 0..2, values 10 r + c; pad 1 -> 5 x 6 */
    float v[12];
    for (int i = 0; i < 12; i++) v[i] = (float)(10 * (i / 4) + i % 4);
    gt_tensor *x = gt_from_data(S(1, 1, 3, 4), v);
    gt_tensor *y = gt_contiguous(gt__reflect_pad2d(x, 1));
    CHECK(y && y->shape[2] == 5 && y->shape[3] == 6);
    static const int ri[5] = {1, 0, 1, 2, 1}, ci[6] = {1, 0, 1, 2, 3, 2};
    for (int r = 0; y && r < 5; r++)
        for (int c = 0; c < 6; c++) CHECK(gt_data(y)[r * 6 + c] == (float)(10 * ri[r] + ci[c]));
    int p = 2;
    gt_tensor *in[1] = {gt_test_randn(3, S(2, 2, 5, 6), 1.0f)};
    in[0]->requires_grad = true;
    gt_gradcheck_opts o = {.eps = 1e-2f, .rtol = 1e-2f, .atol = 1e-3f, .max_elems = 120};
    CHECK(gt_test_gradcheck("reflect_pad2d", pad_fn, 1, in, &p, &o));
    CHECK(gt__reflect_pad2d(gt_test_randn(4, S(1, 1, 2, 5), 1.0f), 2) == NULL); /* side 2 <= pad 2 */
}

static void test_edges_handmade(void) {
    /* 6 x 6: left three columns -1, right three 1 -> edges in columns 2 and 3, every row */
    float img[36], flat[36], small[36];
    for (int i = 0; i < 36; i++) {
        img[i] = i % 6 < 3 ? -1.0f : 1.0f;
        flat[i] = 0.3f;
        small[i] = i % 6 < 3 ? 0.0f : 0.2f; /* |gx| = 4 * 0.2 = 0.8: below the threshold */
    }
    float out[36];
    CHECK(gt_edges_f32(img, 1, 1, 6, 6, out) == GT_OK);
    for (int i = 0; i < 36; i++) CHECK(out[i] == ((i % 6 == 2 || i % 6 == 3) ? 1.0f : -1.0f));
    CHECK(gt_edges_f32(flat, 1, 1, 6, 6, out) == GT_OK);
    for (int i = 0; i < 36; i++) CHECK(out[i] == -1.0f);
    CHECK(gt_edges_f32(small, 1, 1, 6, 6, out) == GT_OK);
    for (int i = 0; i < 36; i++) CHECK(out[i] == -1.0f);
    for (int i = 0; i < 36; i++) small[i] = i % 6 < 3 ? 0.0f : 0.3f; /* 1.2 > 1 */
    CHECK(gt_edges_f32(small, 1, 1, 6, 6, out) == GT_OK);
    for (int i = 0; i < 36; i++) CHECK(out[i] == ((i % 6 == 2 || i % 6 == 3) ? 1.0f : -1.0f));
    /* a single bright pixel in the middle of 5 x 5 (value 1 on -1): its 8 neighbours are edges
       (|g| >= 2 * 2 = 4), itself not (the Sobel of a symmetric peak is 0), the corners of 5x5 not */
    float dot[25];
    for (int i = 0; i < 25; i++) dot[i] = i == 12 ? 1.0f : -1.0f;
    CHECK(gt_edges_f32(dot, 1, 1, 5, 5, out) == GT_OK);
    for (int i = 0; i < 25; i++) {
        int r = i / 5, c = i % 5;
        bool ring = abs(r - 2) <= 1 && abs(c - 2) <= 1 && i != 12;
        CHECK_MSG(out[i] == (ring ? 1.0f : -1.0f), "dot pixel %d", i);
    }
    /* channels: mean then replicated; a tensor call */
    gt_tensor *x = gt_test_uniform(5, S(2, 3, 8, 8), -1, 1);
    gt_tensor *e = gt_edges(x);
    CHECK(e && e->shape[1] == 3);
    for (int64_t i = 0; e && i < 2 * 64; i++) {
        int64_t nn = i / 64, p = i % 64;
        const float *d = gt_data(e) + nn * 192;
        CHECK(d[p] == d[64 + p] && d[p] == d[128 + p] && (d[p] == 1.0f || d[p] == -1.0f));
    }
    CHECK(gt_edges(gt_test_randn(1, S(3, 8), 1.0f)) == NULL);
}

/* Groups: every ref exists and has the group's size along its dim; permuting each group's channels
 * (the same permutation in every tensor it names) leaves the eval output unchanged; a "pruned" copy
 * with every group's width set to its size (all channels kept) equals the original exactly. */
static void check_groups(const char *norm, int nb) {
    gt_model_config c = cfg_of(28, 1, 4, 4, nb, 2, norm);
    gt_net G, P;
    gt_rng r;
    gt_rng_init(&r, 3);
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK);
    randomize(&G, 900);
    gt_channel_group g[32];
    const gt_model_entry *e = gt_model_find("pix2pix");
    int ng = e->channel_groups(&G, g, 32);
    CHECK_MSG(ng == 3 + nb + 2, "%s: %d groups", norm, ng);
    gt_model_config pc = c;
    for (int i = 0; i < ng; i++) {
        CHECK(gt_model_opt_set(&pc, g[i].opt_key, g[i].size) == GT_OK);
        for (int k = 0; k < g[i].n_refs; k++) {
            gt_tensor *t = gt_params_get(&G.P, g[i].refs[k].param);
            CHECK_MSG(t && t->shape[g[i].refs[k].dim] == g[i].size, "%s: %s dim %d", g[i].opt_key, g[i].refs[k].param,
                      g[i].refs[k].dim);
        }
        CHECK(gt_params_get(&G.P, g[i].producer.param) != NULL);
        CHECK(strcmp(norm, "batch") != 0 || gt_params_get(&G.P, g[i].bn_weight) != NULL);
    }
    int sc = gt_scope_begin();
    gt_tensor *a = gt_test_uniform(8, S(2, 1, 28, 28), -1, 1);
    bool prev = gt_no_grad_begin();
    gt_tensor *y0 = gt_contiguous(gt_net_forward(&G, a, GT_BN_EVAL));
    gt_rng_init(&r, 3);
    CHECK(gt_model_build(&pc, GT_NET_G, &r, &P) == GT_OK && gt_params_copy(&P.P, &G.P) == GT_OK);
    CHECK(gt_test_close("all channels kept", gt_net_forward(&P, a, GT_BN_EVAL), y0, 0, 0));
    /* the pruning code's own checks of the groups (no tensor dim listed twice), and its student with
       every channel kept */
    gt_channel_group g2[32];
    CHECK_MSG(gt_prune_groups(&G, g2, 32) == ng, "%s", gt_last_error());
    int widths[32];
    for (int i = 0; i < ng; i++) widths[i] = g[i].size;
    gt_net S;
    CHECK_MSG(gt_prune(&G, widths, GT_IMPORTANCE_L1, &S) == GT_OK, "%s", gt_last_error());
    CHECK(gt_test_close("gt_prune, all kept", gt_net_forward(&S, a, GT_BN_EVAL), y0, 0, 0));
    gt_net_free(&S);
    for (int i = 0; i < ng; i++) widths[i] = g[i].size > 1 ? g[i].size - 1 : 1;
    CHECK_MSG(gt_prune(&G, widths, GT_IMPORTANCE_L1, &S) == GT_OK, "%s", gt_last_error());
    gt_tensor *ys = gt_net_forward(&S, a, GT_BN_EVAL);
    CHECK(ys && ys->shape[1] == 1 && ys->shape[2] == 28);
    gt_net_free(&S);
    /* reverse every group's channels in every tensor it names */
    for (int i = 0; i < ng; i++)
        for (int k = 0; k < g[i].n_refs; k++) {
            gt_tensor *t = gt_params_get(&G.P, g[i].refs[k].param);
            int dim = g[i].refs[k].dim, sz = g[i].size;
            int64_t outer = 1, inner = 1;
            for (int d = 0; d < dim; d++) outer *= t->shape[d];
            for (int d = dim + 1; d < t->ndim; d++) inner *= t->shape[d];
            float *w = gt_data(t);
            for (int64_t o = 0; o < outer; o++)
                for (int j = 0; j < sz / 2; j++)
                    for (int64_t q = 0; q < inner; q++) {
                        float *x1 = &w[(o * sz + j) * inner + q], *x2 = &w[(o * sz + sz - 1 - j) * inner + q];
                        float tmp = *x1;
                        *x1 = *x2, *x2 = tmp;
                    }
        }
    char what[64];
    snprintf(what, sizeof what, "%s: channels permuted", norm);
    CHECK(gt_test_close(what, gt_net_forward(&G, a, GT_BN_EVAL), y0, 1e-4f, 1e-5f));
    gt_grad_mode_restore(prev);
    gt_scope_end(sc);
    gt_net_free(&G), gt_net_free(&P);
}

static void test_groups(void) {
    check_groups("instance", 2);
    check_groups("batch", 1);
    /* batch norm with 9 blocks: the residual stream's references (GT_GROUP_REFS_MAX 64) all fit */
    gt_model_config c = cfg_of(28, 1, 2, 2, 9, 2, "batch");
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 1);
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK);
    gt_channel_group g[32];
    const int n = gt_model_find("pix2pix")->channel_groups(&G, g, 32);
    CHECK_MSG(n > 0, "%s", gt_last_error());
    int most = 0;
    for (int i = 0; i < n; i++) most = g[i].n_refs > most ? g[i].n_refs : most;
    CHECK_MSG(most > 48 && most <= GT_GROUP_REFS_MAX, "largest group %d references", most);
    gt_net_free(&G);
}

static void test_taps_and_bad_input(void) {
    gt_model_config c = cfg_of(32, 3, 2, 2, 3, 2, "instance");
    gt_net G, D;
    gt_rng r;
    gt_rng_init(&r, 2);
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK && gt_model_build(&c, GT_NET_D, &r, &D) == GT_OK);
    int sc = gt_scope_begin();
    G.tap_on = D.tap_on = true;
    gt_tensor *a = gt_test_uniform(1, S(2, 3, 32, 32), -1, 1);
    gt_tensor *y = gt_net_forward(&G, a, GT_BN_TRAIN);
    CHECK(y && y->shape[1] == 3 && y->shape[2] == 32);
    CHECK_MSG(G.n_taps == 3 + 3 + 2, "G taps %d", G.n_taps);
    CHECK(G.n_taps == 8 && G.taps[2]->shape[1] == 8 && G.taps[2]->shape[2] == 8 && G.taps[7]->shape[1] == 2 &&
          G.taps[7]->shape[2] == 32);
    gt_tensor *d = gt_net_forward(&D, gt_concat(2, (gt_tensor *[]){a, y}, 1), GT_BN_TRAIN);
    CHECK(d && d->ndim == 2 && d->shape[1] == 36 && D.n_taps == 3); /* 32 -> 16 -> 8 -> 7 -> 6 */
    /* bad input: the wrong size, the wrong channels, latents, D without the concatenation */
    CHECK(gt_net_forward(&G, gt_test_uniform(1, S(2, 3, 28, 28), -1, 1), GT_BN_TRAIN) == NULL);
    CHECK(strstr(gt_last_error(), "(N, 3, 32, 32)") != NULL);
    CHECK(gt_net_forward(&G, gt_test_uniform(1, S(2, 1, 32, 32), -1, 1), GT_BN_TRAIN) == NULL);
    CHECK(gt_net_forward(&G, gt_test_randn(1, S(2, 100), 1), GT_BN_TRAIN) == NULL);
    CHECK(gt_net_forward(&D, a, GT_BN_TRAIN) == NULL);
    CHECK(gt_translate(&G, gt_test_uniform(1, S(2, 3, 16, 16), -1, 1)) == NULL);
    gt_scope_end(sc);
    gt_net_free(&G), gt_net_free(&D);
    /* unsupported configs */
    gt_net X;
    c = cfg_of(64, 3, 2, 2, 1, 2, "instance");
    CHECK(gt_model_build(&c, GT_NET_G, &r, &X) == GT_ERR_ARG && strstr(gt_last_error(), "resolution 64"));
    gt_net_free(&X);
    c = cfg_of(28, 2, 2, 2, 1, 2, "instance");
    CHECK(gt_model_build(&c, GT_NET_G, &r, &X) == GT_ERR_ARG && strstr(gt_last_error(), "channels"));
    gt_net_free(&X);
    c = cfg_of(28, 1, 2, 2, 2, 2, "instance");
    CHECK(gt_model_opt_set(&c, "w_block5", 4) == GT_OK);
    CHECK(gt_model_build(&c, GT_NET_G, &r, &X) == GT_ERR_ARG && strstr(gt_last_error(), "w_block5"));
    gt_net_free(&X);
    CHECK(gt_model_opt_set(&c, "n_blocks", 10) == GT_ERR_ARG);
    CHECK(gt_model_opt_parse(&c, "norm", "layer") == GT_ERR_ARG);
    /* a translator is not a latent generator: gt_translate refuses dcgan */
    gt_model_config dc = gt_model_config_default("dcgan");
    CHECK(gt_model_build(&dc, GT_NET_G, &r, &X) == GT_OK);
    sc = gt_scope_begin();
    CHECK(gt_translate(&X, gt_test_uniform(1, S(1, 3, 32, 32), -1, 1)) == NULL &&
          strstr(gt_last_error(), "not an image-to-image translator"));
    gt_scope_end(sc);
    gt_net_free(&X);
}

int main(void) {
    RUN(test_reflect_pad);
    RUN(test_edges_handmade);
    RUN(test_matches_pytorch);
    RUN(test_groups);
    RUN(test_taps_and_bad_input);
    return gt_test_finish();
}
