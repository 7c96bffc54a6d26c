/* Channel pruning and the width search (gantry/prune.h) on small DCGAN generators: every channel
 * kept gives the teacher bit for bit; a pruned net equals the teacher with the dropped channels cut
 * off; importance orders (l1, bn); MACs; the search's budget and ranking; bad input. */
#include "../common/harness.h"
#include "gantry/prune.h"
#include "gantry/translate.h"

/* A 28 px DCGAN G (groups gw0..gw2 = 4 ngf, 2 ngf, ngf) with random BN statistics and scales. */
static void tiny_teacher(int ngf, uint64_t seed, gt_net *G) {
    gt_model_config c = gt_model_config_default("dcgan");
    c.res = 28, c.channels = 1, c.nz = 16;
    gt_model_opt_set(&c, "ngf", ngf);
    gt_rng r;
    gt_rng_init(&r, seed);
    CHECK(gt_model_build(&c, GT_NET_G, &r, G) == GT_OK);
    for (int i = 0; i < G->P.n; i++) {
        const char *nm = G->P.v[i].name;
        gt_tensor *t = G->P.v[i].t;
        float *d = gt_data(t);
        int64_t n = gt_numel(t);
        if (strstr(nm, "running_mean") || strstr(nm, "bias")) gt_rng_normal(&r, d, n, 0.0f, 0.3f);
        else if (strstr(nm, "running_var")) gt_rng_uniform(&r, d, n, 0.5f, 2.0f);
        else if (G->P.v[i].t->ndim == 1) gt_rng_uniform(&r, d, n, 0.3f, 1.5f); /* BN scales */
        else gt_rng_normal(&r, d, n, 0.0f, 0.1f);
    }
}

static gt_tensor *forward_eval(gt_net *G, uint64_t seed, int n) {
    gt_tensor *z = gt_test_randn(seed, GT_SHAPE(n, G->cfg.nz), 1.0f);
    return gt_generate(G, z);
}

static void test_all_kept_is_identity(void) {
    gt_net T, S;
    tiny_teacher(8, 1, &T);
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    int n = gt_prune_groups(&T, g, GT_PRUNE_GROUPS_MAX);
    CHECK(n == 3);
    int w[GT_PRUNE_GROUPS_MAX];
    for (int i = 0; i < n; i++) w[i] = g[i].size;
    CHECK(g[0].size == 32 && g[1].size == 16 && g[2].size == 8);
    for (int imp = 0; imp < GT_IMPORTANCE_COUNT; imp++) {
        CHECK(gt_prune(&T, w, (gt_importance)imp, &S) == GT_OK);
        CHECK(S.P.n == T.P.n);
        for (int i = 0; i < S.P.n && i < T.P.n; i++) {
            CHECK(!strcmp(S.P.v[i].name, T.P.v[i].name) && gt_same_shape(S.P.v[i].t, T.P.v[i].t));
            CHECK_MSG(!memcmp(gt_data(S.P.v[i].t), gt_data(T.P.v[i].t), (size_t)gt_numel(T.P.v[i].t) * sizeof(float)),
                      "%s differs", T.P.v[i].name);
        }
        CHECK(gt_model_opt(&S.cfg, "gw0") == 32 && gt_model_opt(&S.cfg, "gw2") == 8);
        gt_tensor *a = forward_eval(&T, 7, 5), *b = forward_eval(&S, 7, 5);
        CHECK(a && b && gt_numel(a) == gt_numel(b) &&
              !memcmp(gt_data(a), gt_data(b), (size_t)gt_numel(a) * sizeof(float)));
        gt_net_free(&S);
    }
    gt_net_free(&T);
}

/* The reference: T's copy with each dropped channel's BN scale and shift zeroed (its ReLU output is 0)
 * and the next layer's input slice of it zeroed. */
static void test_pruned_equals_zeroed_teacher(void) {
    gt_net T, S, R;
    tiny_teacher(8, 2, &T);
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    int n = gt_prune_groups(&T, g, GT_PRUNE_GROUPS_MAX);
    int w[3] = {11, 5, 3};
    for (int imp = 0; imp < GT_IMPORTANCE_COUNT; imp++) {
        CHECK(gt_prune(&T, w, (gt_importance)imp, &S) == GT_OK);
        gt_rng r;
        gt_rng_init(&r, 0);
        CHECK(gt_model_build(&T.cfg, GT_NET_G, &r, &R) == GT_OK);
        CHECK(gt_params_copy(&R.P, &T.P) == GT_OK);
        for (int i = 0; i < n; i++) {
            int keep[64];
            bool kept[64] = {false};
            CHECK(gt_prune_select(&T, &g[i], (gt_importance)imp, w[i], keep) == GT_OK);
            for (int k = 0; k < w[i]; k++) {
                kept[keep[k]] = true;
                CHECK(k == 0 || keep[k] > keep[k - 1]);
            }
            char bw[64], bb[64], next[64];
            snprintf(bw, sizeof bw, "main.%d.weight", 3 * i + 1);
            snprintf(bb, sizeof bb, "main.%d.bias", 3 * i + 1);
            snprintf(next, sizeof next, "main.%d.weight", 3 * (i + 1));
            gt_tensor *nx = gt_params_get(&R.P, next);
            int64_t per = gt_numel(nx) / nx->shape[0]; /* convT weight (cin, cout, k, k): dim 0 */
            for (int c = 0; c < g[i].size; c++) {
                if (kept[c]) continue;
                gt_data(gt_params_get(&R.P, bw))[c] = 0.0f;
                gt_data(gt_params_get(&R.P, bb))[c] = 0.0f;
                memset(gt_data(nx) + c * per, 0, (size_t)per * sizeof(float));
            }
        }
        gt_tensor *a = forward_eval(&R, 9, 6), *b = forward_eval(&S, 9, 6);
        CHECK(a && b && gt_same_shape(a, b));
        float md = 0;
        for (int64_t k = 0; a && b && k < gt_numel(a); k++) md = fmaxf(md, fabsf(gt_data(a)[k] - gt_data(b)[k]));
        CHECK_MSG(md < 1e-5f, "importance %s: max |pruned - zeroed teacher| = %g", gt_importance_name(imp), md);
        /* and the cut channels did matter: the teacher itself differs */
        gt_tensor *t = forward_eval(&T, 9, 6);
        float dt = 0;
        for (int64_t k = 0; t && b && k < gt_numel(t); k++) dt = fmaxf(dt, fabsf(gt_data(t)[k] - gt_data(b)[k]));
        CHECK(dt > 1e-3f);
        int64_t macs = 0;
        CHECK(gt_model_cost(&S.cfg, &macs, NULL) == GT_OK);
        CHECK(macs == 16LL * 11 * 9 + 9LL * 11 * 5 * 9 + 49LL * 5 * 3 * 16 + 196LL * 3 * 1 * 16);
        gt_net_free(&R);
        gt_net_free(&S);
    }
    gt_net_free(&T);
}

static void test_importance_order(void) {
    gt_net T;
    tiny_teacher(2, 3, &T); /* gw0 = 8 */
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    CHECK(gt_prune_groups(&T, g, GT_PRUNE_GROUPS_MAX) == 3);
    /* producer main.0.weight (nz 16, 8, 3, 3), dim 1: channel c's slice all = v[c] -> L1 = 144 |v[c]| */
    const float v[8] = {0.5f, -2.0f, 0.1f, 1.0f, -1.0f, 3.0f, 0.0f, 0.2f};
    gt_tensor *w = gt_params_get(&T.P, "main.0.weight");
    for (int64_t i = 0; i < gt_numel(w); i++) gt_data(w)[i] = v[(i / 9) % 8];
    const float bn[8] = {0.9f, 0.1f, -1.5f, 0.3f, 0.3f, 0.05f, 2.0f, -0.7f};
    memcpy(gt_data(gt_params_get(&T.P, "main.1.weight")), bn, sizeof bn);
    float imp[8];
    CHECK(gt_channel_importance(&T, &g[0], GT_IMPORTANCE_L1, imp) == GT_OK);
    for (int c = 0; c < 8; c++) CHECK_MSG(fabsf(imp[c] - 144.0f * fabsf(v[c])) < 1e-3f, "l1[%d] %g", c, imp[c]);
    int keep[8];
    CHECK(gt_prune_select(&T, &g[0], GT_IMPORTANCE_L1, 3, keep) == GT_OK);
    CHECK(keep[0] == 1 && keep[1] == 3 && keep[2] == 5); /* |v|: 3 (5), 2 (1), then 1 and 1: index 3 before 4 */
    CHECK(gt_channel_importance(&T, &g[0], GT_IMPORTANCE_BN, imp) == GT_OK);
    for (int c = 0; c < 8; c++) CHECK(imp[c] == fabsf(bn[c]));
    CHECK(gt_prune_select(&T, &g[0], GT_IMPORTANCE_BN, 4, keep) == GT_OK);
    CHECK(keep[0] == 0 && keep[1] == 2 && keep[2] == 6 && keep[3] == 7);
    CHECK(gt_prune_select(&T, &g[0], GT_IMPORTANCE_BN, 5, keep) == GT_OK); /* 0.3 tie: 3 before 4 */
    CHECK(keep[0] == 0 && keep[1] == 2 && keep[2] == 3 && keep[3] == 6 && keep[4] == 7);
    /* a group without a BN scale */
    gt_channel_group nobn = g[0];
    nobn.bn_weight[0] = '\0';
    CHECK(gt_channel_importance(&T, &nobn, GT_IMPORTANCE_BN, imp) == GT_ERR_ARG && strstr(gt_last_error(), "gw0"));
    CHECK(gt_importance_parse("bn") == GT_IMPORTANCE_BN && gt_importance_parse("l2") == -1);
    /* first (a supernet's): the first k, whatever the weights */
    CHECK(gt_importance_parse("first") == GT_IMPORTANCE_FIRST);
    CHECK(gt_prune_select(&T, &g[0], GT_IMPORTANCE_FIRST, 3, keep) == GT_OK);
    CHECK(keep[0] == 0 && keep[1] == 1 && keep[2] == 2);
    gt_net_free(&T);
}

/* sum(G(z) * r) in eval mode (batch norms with running statistics: a smooth function of the weights) */
static double probe_loss(gt_net *G, bool backward) {
    int m = gt_scope_begin();
    gt_tensor *z = gt_test_randn(21, GT_SHAPE(3, G->cfg.nz), 1.0f);
    gt_tensor *y = gt_net_forward(G, z, GT_BN_EVAL);
    gt_tensor *r = y ? gt_test_randn(22, 4, y->shape, 1.0f) : NULL;
    gt_tensor *l = r ? gt_sum_all(gt_mul(y, r)) : NULL;
    double v = l ? gt_item(l) : NAN;
    if (l && backward) CHECK(gt_backward(l) == GT_OK);
    gt_scope_end(m);
    return v;
}

/* The way back of a once-for-all supernet's step (gt_prune_scatter_back): the supernet's gradient of
 * a sub-network's loss matches central differences of that loss through the sub-network built from
 * the perturbed supernet (first channels kept), kept entries and dropped ones (exactly 0) alike; the
 * sub-network's running statistics are copied into the supernet's kept entries, the rest kept. */
static void test_scatter_back(void) {
    gt_net T, S;
    tiny_teacher(4, 5, &T); /* groups 16, 8, 4 */
    const int w[3] = {5, 3, 2};
    static const int prefix[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const int *keep[3] = {prefix, prefix, prefix};
    for (int i = 0; i < T.P.n; i++) { /* live ReLUs: centred statistics, positive shifts */
        const char *nm = T.P.v[i].name;
        float *d = gt_data(T.P.v[i].t);
        for (int64_t k = 0; k < gt_numel(T.P.v[i].t); k++)
            if (strstr(nm, "running_mean")) d[k] = 0.0f;
            else if (strstr(nm, ".bias")) d[k] = 0.3f + 0.05f * (float)(k % 3);
    }
    CHECK(gt_prune_indices(&T, w, keep, &S) == GT_OK);
    CHECK(gt_params_zero_grad(&S.P) == GT_OK);
    probe_loss(&S, true);
    CHECK(gt_params_zero_grad(&T.P) == GT_OK);
    CHECK(gt_prune_scatter_back(&T, keep, &S) == GT_OK);
    gt_net_free(&S);
    /* entries of main.0.weight (nz, 16, 3, 3), main.3.weight (16, 8, 4, 4), main.1.weight (16) */
    const struct { const char *p; int64_t i; } at[] = {
        {"main.0.weight", 0}, {"main.0.weight", 4 * 9 + 5}, {"main.0.weight", 7 * 9 + 2}, /* channel 7: dropped */
        {"main.3.weight", (1 * 8 + 2) * 16 + 5}, {"main.3.weight", (12 * 8 + 1) * 16}, /* input 12: dropped */
        {"main.1.weight", 3}, {"main.1.weight", 9}, {"main.4.bias", 2}, {"main.4.bias", 6}};
    int nonzero = 0;
    for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
        gt_tensor *p = gt_params_get(&T.P, at[k].p);
        float *x = gt_data(p) + at[k].i, x0 = *x;
        const float g = gt_data(p->grad)[at[k].i], h = 2e-3f;
        double l[2];
        for (int s = 0; s < 2; s++) {
            *x = x0 + (s ? -h : h);
            CHECK(gt_prune_indices(&T, w, keep, &S) == GT_OK);
            l[s] = probe_loss(&S, false);
            gt_net_free(&S);
        }
        *x = x0;
        const double fd = (l[0] - l[1]) / (2.0 * h);
        CHECK_MSG(fabs(fd - g) <= 2e-2 * fabs(fd) + 1e-3, "%s[%lld]: gradient %g, central difference %g", at[k].p,
                  (long long)at[k].i, g, fd);
        fprintf(stderr, "  %s[%lld]: gradient %.6g, central difference %.6g\n", at[k].p, (long long)at[k].i, g, fd);
        nonzero += g != 0;
    }
    CHECK(nonzero >= 5);
    /* running statistics: the sub-network's into the kept entries */
    CHECK(gt_prune_indices(&T, w, keep, &S) == GT_OK);
    gt_tensor *rm = gt_params_get(&S.P, "main.1.running_mean");
    for (int c = 0; c < 5; c++) gt_data(rm)[c] = 100.0f + (float)c;
    CHECK(gt_prune_scatter_back(&T, keep, &S) == GT_OK);
    gt_net_free(&S);
    const float *trm = gt_data(gt_params_get(&T.P, "main.1.running_mean"));
    for (int c = 0; c < 16; c++) CHECK(c < 5 ? trm[c] == 100.0f + (float)c : trm[c] == 0.0f);
    gt_net_free(&T);
}

static void test_bad_input(void) {
    gt_net T, S;
    tiny_teacher(4, 4, &T);
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    int n = gt_prune_groups(&T, g, GT_PRUNE_GROUPS_MAX);
    int w[3] = {16, 0, 4};
    CHECK(gt_prune(&T, w, GT_IMPORTANCE_L1, &S) == GT_ERR_ARG && strstr(gt_last_error(), "gw1"));
    gt_net_free(&S);
    w[1] = 9;
    CHECK(gt_prune(&T, w, GT_IMPORTANCE_L1, &S) == GT_ERR_ARG && strstr(gt_last_error(), "gw1"));
    gt_net_free(&S);
    CHECK(gt_prune_keep_widths(g, n, 0.0, w) == GT_ERR_ARG);
    CHECK(gt_prune_keep_widths(g, n, 1.5, w) == GT_ERR_ARG);
    CHECK(gt_prune_keep_widths(g, n, 0.1, w) == GT_OK && w[0] == 2 && w[1] == 1 && w[2] == 1); /* >= 1 */
    CHECK(gt_prune_parse_widths(g, n, "gw0=10,gw2=3", w) == GT_OK && w[0] == 10 && w[1] == 8 && w[2] == 3);
    CHECK(gt_prune_parse_widths(g, n, "gw7=3", w) == GT_ERR_ARG && strstr(gt_last_error(), "gw7") &&
          strstr(gt_last_error(), "gw0"));
    CHECK(gt_prune_parse_widths(g, n, "gw0=17", w) == GT_ERR_ARG && strstr(gt_last_error(), "1..16"));
    CHECK(gt_prune_parse_widths(g, n, "gw0=2,gw0=3", w) == GT_ERR_ARG);
    CHECK(gt_prune_parse_widths(g, n, "gw0", w) == GT_ERR_ARG);
    /* a family without channel groups */
    gt_model_config c = gt_model_config_default("r3gan");
    gt_net R;
    gt_rng r;
    gt_rng_init(&r, 0);
    if (gt_model_build(&c, GT_NET_G, &r, &R) == GT_OK) {
        CHECK(gt_prune_groups(&R, g, GT_PRUNE_GROUPS_MAX) == -1 && strstr(gt_last_error(), "r3gan") &&
              strstr(gt_last_error(), "dcgan"));
        CHECK(gt_prune(&R, w, GT_IMPORTANCE_L1, &S) == GT_ERR_ARG);
    }
    gt_net_free(&R);
    gt_net_free(&T);
}

/* A cheap scorer: mean squared distance of the candidate's eval output from the teacher's. */
typedef struct {
    gt_net *T;
    int calls;
} score_ctx;
static gt_status mse_score(void *user, gt_net *G, double *s) {
    score_ctx *c = user;
    c->calls++;
    int m = gt_scope_begin();
    gt_tensor *a = forward_eval(c->T, 11, 8), *b = forward_eval(G, 11, 8);
    double acc = 0;
    for (int64_t k = 0; a && b && k < gt_numel(a); k++) acc += pow(gt_data(a)[k] - gt_data(b)[k], 2);
    *s = a && b ? acc / (double)gt_numel(a) : NAN;
    gt_scope_end(m);
    return a && b ? GT_OK : gt_last_status();
}

static void check_result(const gt_prune_search_result *r, const char *what) {
    for (int k = 0; k < r->n; k++) {
        const gt_prune_candidate *c = &r->c[k];
        CHECK_MSG(c->macs <= r->budget_macs, "%s: candidate %d has %lld MACs > %lld", what, k, (long long)c->macs,
                  (long long)r->budget_macs);
        CHECK_MSG(k == 0 || c->score >= r->c[k - 1].score, "%s: not sorted at %d", what, k);
        gt_model_config cfg = gt_model_config_default("dcgan");
        cfg.res = 28, cfg.channels = 1, cfg.nz = 16;
        gt_model_opt_set(&cfg, "ngf", 8);
        for (int i = 0; i < c->n_groups; i++) gt_model_opt_set(&cfg, r->groups[i].opt_key, c->widths[i]);
        int64_t m = -1;
        CHECK(gt_model_cost(&cfg, &m, NULL) == GT_OK && m == c->macs);
        for (int j = 0; j < k; j++) CHECK(memcmp(c->widths, r->c[j].widths, sizeof c->widths) != 0);
    }
}

static void test_search(void) {
    gt_net T;
    tiny_teacher(8, 5, &T);
    score_ctx sc = {&T, 0};
    gt_prune_search_opts o;
    gt_prune_search_opts_default(&o);
    o.score = mse_score, o.user = &sc, o.budget = 0.3, o.max_evals = 500, o.recal_batch = 16, o.recal_batches = 2;
    gt_prune_search_result r;
    CHECK(gt_prune_search(&T, &o, &r) == GT_OK);
    CHECK(r.grid == 216 && r.exhaustive && r.n == r.feasible && r.n > 5 && r.n < 216 && sc.calls == r.n);
    CHECK(r.teacher_macs == 16LL * 32 * 9 + 9LL * 32 * 16 * 9 + 49LL * 16 * 8 * 16 + 196LL * 8 * 16);
    CHECK(r.budget_macs == (int64_t)floor(0.3 * (double)r.teacher_macs));
    check_result(&r, "exhaustive");
    /* the grid's feasible count, by hand */
    static const double f[] = {0.125, 0.25, 0.375, 0.5, 0.75, 1.0};
    int64_t feas = 0;
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++)
            for (int c = 0; c < 6; c++) {
                int64_t x = (int64_t)floor(32 * f[a] + 0.5), y = (int64_t)floor(16 * f[b] + 0.5);
                int64_t z = (int64_t)floor(8 * f[c] + 0.5);
                feas += 16 * x * 9 + 81 * x * y + 784 * y * z + 3136 * z <= r.budget_macs;
            }
    CHECK_MSG(feas == r.feasible, "feasible %lld, by hand %lld", (long long)r.feasible, (long long)feas);
    double best = r.c[0].score;
    gt_prune_search_result_free(&r);
    /* more feasible points than max_evals: the evolutionary search, reproducible from its seed */
    o.max_evals = 20, sc.calls = 0;
    CHECK(gt_prune_search(&T, &o, &r) == GT_OK);
    CHECK(!r.exhaustive && r.n == 20 && sc.calls == 20 && r.c[0].score >= best);
    check_result(&r, "evolutionary");
    gt_prune_search_result r2;
    CHECK(gt_prune_search(&T, &o, &r2) == GT_OK && r2.n == r.n);
    for (int k = 0; k < r.n && k < r2.n; k++) CHECK(!memcmp(r.c[k].widths, r2.c[k].widths, sizeof r.c[k].widths));
    gt_prune_search_result_free(&r2);
    gt_prune_search_result_free(&r);
    /* a budget below every candidate, absolute or as a fraction */
    o.budget = 2000;
    CHECK(gt_prune_search(&T, &o, &r) == GT_ERR_ARG && strstr(gt_last_error(), "smallest feasible budget is 5928"));
    o.budget = 0.001;
    CHECK(gt_prune_search(&T, &o, &r) == GT_ERR_ARG && strstr(gt_last_error(), "smallest feasible"));
    gt_net_free(&T);
}

/* The pruned checkpoint loads as a generator with the student's config and weights. */
static void test_checkpoint(void) {
    gt_train_config c = gt_train_config_default();
    c.model = gt_model_config_default("dcgan");
    c.model.res = 28, c.model.channels = 1, c.model.nz = 16;
    gt_model_opt_set(&c.model, "ngf", 4);
    c.batch = 8;
    gt_trainer t;
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_OK);
    const char *tp = gt_test_path("teacher.safetensors"), *sp = gt_test_path("pruned.safetensors");
    CHECK(gt_trainer_save(&t, tp) == GT_OK);
    gt_net T, S, L;
    gt_train_config lc;
    bool ema = false;
    CHECK(gt_load_generator(tp, true, &T, NULL, &ema) == GT_OK && ema);
    int w[3] = {5, 3, 2};
    CHECK(gt_prune(&T, w, GT_IMPORTANCE_BN, &S) == GT_OK);
    CHECK(gt_prune_write_checkpoint(tp, &S, sp) == GT_OK);
    for (int raw = 0; raw < 2; raw++) {
        CHECK(gt_load_generator(sp, !raw, &L, &lc, &ema) == GT_OK && ema == !raw);
        CHECK(gt_model_opt(&lc.model, "gw0") == 5 && gt_model_opt(&lc.model, "gw2") == 2);
        CHECK(gt_params_same_layout(&L.P, &S.P));
        for (int i = 0; i < L.P.n; i++)
            CHECK(!memcmp(gt_data(L.P.v[i].t), gt_data(S.P.v[i].t), (size_t)gt_numel(S.P.v[i].t) * sizeof(float)));
        gt_net_free(&L);
    }
    /* the teacher's D came along */
    gt_trainer t2;
    gt_train_config c2 = c;
    c2.model = S.cfg;
    CHECK(gt_trainer_init(&t2, &c2, NULL) == GT_OK && gt_trainer_load(&t2, sp) == GT_OK);
    CHECK(!memcmp(gt_data(t2.D.P.slab), gt_data(t.D.P.slab), (size_t)t.D.P.numel * sizeof(float)));
    gt_trainer_free(&t2);
    gt_net_free(&S);
    gt_net_free(&T);
    gt_trainer_free(&t);
}

/* The same code on a translator with many groups (pix2pix: a residual stream listed by every block):
 * all channels kept is the teacher bit for bit; its grid (6^11 points) is searched evolutionarily. */
static gt_tensor *translate_eval(gt_net *G) {
    gt_tensor *a = gt_test_uniform(13, GT_SHAPE(2, G->cfg.channels, G->cfg.res, G->cfg.res), -1.0f, 1.0f);
    return gt_translate(G, a);
}
typedef struct {
    gt_tensor *ref;
    int calls;
} tr_ctx;
static gt_status tr_score(void *user, gt_net *G, double *s) {
    tr_ctx *c = user;
    c->calls++;
    int m = gt_scope_begin();
    gt_tensor *b = translate_eval(G);
    double acc = 0;
    for (int64_t k = 0; b && k < gt_numel(b); k++) acc += fabs(gt_data(b)[k] - gt_data(c->ref)[k]);
    *s = acc;
    gt_scope_end(m);
    return b ? GT_OK : gt_last_status();
}

static void test_translator(void) {
    gt_model_config c = gt_model_config_default("pix2pix");
    if (!c.name[0]) {
        fprintf(stderr, "  (no pix2pix family in this build: skipped)\n");
        return;
    }
    gt_net T, S;
    gt_rng r;
    gt_rng_init(&r, 21);
    CHECK(gt_model_build(&c, GT_NET_G, &r, &T) == GT_OK);
    gt_channel_group g[GT_PRUNE_GROUPS_MAX];
    int n = gt_prune_groups(&T, g, GT_PRUNE_GROUPS_MAX), w[GT_PRUNE_GROUPS_MAX];
    CHECK(n > 3);
    for (int i = 0; i < n; i++) w[i] = g[i].size;
    CHECK(gt_prune(&T, w, GT_IMPORTANCE_L1, &S) == GT_OK && S.P.n == T.P.n);
    for (int i = 0; i < S.P.n && i < T.P.n; i++)
        CHECK(!memcmp(gt_data(S.P.v[i].t), gt_data(T.P.v[i].t), (size_t)gt_numel(T.P.v[i].t) * sizeof(float)));
    tr_ctx tc = {translate_eval(&T), 0};
    gt_tensor *b = translate_eval(&S);
    CHECK(tc.ref && b && !memcmp(gt_data(tc.ref), gt_data(b), (size_t)gt_numel(b) * sizeof(float)));
    gt_net_free(&S);
    gt_prune_search_opts o;
    gt_prune_search_opts_default(&o);
    o.score = tr_score, o.user = &tc, o.budget = 0.5, o.max_evals = 4, o.seed = 3;
    gt_prune_search_result res;
    CHECK(gt_prune_search(&T, &o, &res) == GT_OK);
    CHECK(res.grid == -1 && res.feasible == -1 && !res.exhaustive && res.n == 4 && tc.calls == 4);
    for (int k = 0; k < res.n; k++) {
        CHECK(res.c[k].macs <= res.budget_macs && res.c[k].macs > 0);
        CHECK(k == 0 || res.c[k].score >= res.c[k - 1].score);
        for (int j = 0; j < k; j++) CHECK(memcmp(res.c[k].widths, res.c[j].widths, sizeof res.c[k].widths) != 0);
    }
    gt_prune_search_result_free(&res);
    gt_net_free(&T);
}

int main(void) {
    RUN(test_all_kept_is_identity);
    RUN(test_pruned_equals_zeroed_teacher);
    RUN(test_importance_order);
    RUN(test_scatter_back);
    RUN(test_bad_input);
    RUN(test_search);
    RUN(test_checkpoint);
    RUN(test_translator);
    return gt_test_finish();
}
