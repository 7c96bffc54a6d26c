/* Class directions in an anycost generator's w space (gantry/anycost_edit.h): generated images
 * labelled by the shipped Fashion-MNIST classifier, one-vs-rest logistic regression on their w,
 * each class's normal as a unit vector; and the directions files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gantry/anycost_edit.h"
#include "gantry/checkpoint.h"
#include "gantry/fmnist.h"
#include "gantry/train.h"
#include "anycost_files.h"

#define GT__DIRS_CHUNK 256
#define GT__DIRS_ITERS 300
#define GT__DIRS_L2 1e-3 /* ridge on the standardized weights: finite normals on separable classes */

/* --- the linear classifier ------------------------------------------------------------------- */

/* Largest eigenvalue of the (d, d) symmetric positive semi-definite matrix a (power iteration). */
static double gt__dirs_lmax(const double *a, int d) {
    double *v = malloc((size_t)d * sizeof *v), *u = malloc((size_t)d * sizeof *u), lam = 0;
    if (!v || !u) {
        free(v);
        free(u);
        return -1;
    }
    for (int i = 0; i < d; i++) v[i] = 1.0 / sqrt((double)d) * (1.0 + 0.01 * (i % 7));
    for (int it = 0; it < 100; it++) {
        double nrm = 0;
        for (int i = 0; i < d; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += a[(size_t)i * d + j] * v[j];
            u[i] = s;
            nrm += s * s;
        }
        nrm = sqrt(nrm);
        lam = nrm;
        if (nrm <= 0) break;
        for (int i = 0; i < d; i++) v[i] = u[i] / nrm;
    }
    free(v);
    free(u);
    return lam;
}

gt_status gt_anycost_logreg_directions(const float *x, const int32_t *labels, int64_t n, int d, int K, int iters,
                                       float *dirs) {
    const char *fn = "gt_anycost_logreg_directions";
    if (!x || !labels || !dirs) return gt_set_error(GT_ERR_ARG, "%s: x, labels or dirs is NULL", fn);
    if (n < 1 || d < 1 || K < 1 || iters < 0 || K > 4096)
        return gt_set_error(GT_ERR_ARG, "%s: n %lld, d %d, K %d, iters %d out of range", fn, (long long)n, d, K, iters);
    gt_status st = GT_OK;
    double *mu = calloc((size_t)d, sizeof *mu), *sd = calloc((size_t)d, sizeof *sd),
           *cov = calloc((size_t)d * (size_t)d, sizeof *cov);
    float *xs = malloc((size_t)n * (size_t)d * sizeof *xs), *y = calloc((size_t)n * (size_t)K, sizeof *y);
    int64_t *cnt = calloc((size_t)K, sizeof *cnt);
    if (!mu || !sd || !cov || !xs || !y || !cnt) st = gt_set_error(GT_ERR_OOM, "%s: out of memory", fn);
    for (int64_t i = 0; i < n && st == GT_OK; i++) {
        for (int j = 0; j < d; j++) mu[j] += x[i * d + j];
        if (labels[i] >= 0 && labels[i] < K) {
            y[i * K + labels[i]] = 1.0f;
            cnt[labels[i]]++;
        }
    }
    if (st == GT_OK) {
        for (int j = 0; j < d; j++) mu[j] /= (double)n;
        for (int64_t i = 0; i < n; i++)
            for (int j = 0; j < d; j++) {
                double v = x[i * d + j] - mu[j];
                sd[j] += v * v;
            }
        for (int j = 0; j < d; j++) {
            sd[j] = sqrt(sd[j] / (double)n);
            if (!(sd[j] > 1e-12)) sd[j] = 1.0; /* a constant dimension: left as it is (all zero after centring) */
        }
        for (int64_t i = 0; i < n; i++)
            for (int j = 0; j < d; j++) xs[i * d + j] = (float)((x[i * d + j] - mu[j]) / sd[j]);
        /* step 1 / L, L = the logistic loss's curvature bound 0.25 lambda_max(X^T X / n) + ridge (+ the bias) */
        for (int64_t i = 0; i < n; i++)
            for (int a = 0; a < d; a++) {
                double va = xs[i * d + a];
                for (int b = a; b < d; b++) cov[(size_t)a * d + b] += va * xs[i * d + b];
            }
        for (int a = 0; a < d; a++)
            for (int b = a; b < d; b++) cov[(size_t)b * d + a] = cov[(size_t)a * d + b] /= (double)n;
    }
    double lmax = st == GT_OK ? gt__dirs_lmax(cov, d) : 0;
    if (st == GT_OK && lmax < 0) st = gt_set_error(GT_ERR_OOM, "%s: out of memory", fn);
    const float lr = (float)(1.0 / (0.25 * (lmax + 1.0) + GT__DIRS_L2));
    const float inv_n = (float)(1.0 / (double)n);
    int m = gt_scope_begin();
    bool prev = gt_no_grad_begin();
    gt_tensor *X = st == GT_OK ? gt_from_data(GT_SHAPE(n, d), xs) : NULL; // (n, d)
    gt_tensor *Y = st == GT_OK ? gt_from_data(GT_SHAPE(n, K), y) : NULL;  // (n, K)
    gt_tensor *W = st == GT_OK ? gt_zeros(GT_SHAPE(K, d)) : NULL;         // (K, d)
    gt_tensor *B = st == GT_OK ? gt_zeros(GT_SHAPE(1, K)) : NULL;         // (1, K)
    if (st == GT_OK && (!X || !Y || !W || !B)) st = gt_last_status();
    for (int it = 0; it < iters && st == GT_OK; it++) {
        int ms = gt_scope_begin();
        gt_tensor *g = gt_sub(gt_sigmoid(gt_add(gt_matmul(X, gt_transpose(W, 0, 1)), B)), Y); // (n, K)
        gt_tensor *gw = gt_contiguous(gt_matmul(gt_transpose(g, 0, 1), X));                   // (K, d)
        gt_tensor *gb = gt_contiguous(gt_sum(g, 1, (const int[]){0}, true));                   // (1, K)
        if (!gw || !gb) st = gt_last_status();
        else {
            float *w = gt_data(W), *b = gt_data(B);
            const float *pw = gt_data(gw), *pb = gt_data(gb);
            for (int64_t i = 0; i < (int64_t)K * d; i++) w[i] -= lr * (pw[i] * inv_n + (float)GT__DIRS_L2 * w[i]);
            for (int k = 0; k < K; k++) b[k] -= lr * pb[k] * inv_n;
        }
        gt_scope_end(ms);
    }
    /* the normal of class k's boundary in x's space: a_j / sd_j, unit length */
    for (int k = 0; k < K && st == GT_OK; k++) {
        float *o = dirs + (size_t)k * d;
        const float *a = gt_data(W) + (size_t)k * d;
        double nrm = 0;
        for (int j = 0; j < d; j++) {
            double v = a[j] / sd[j];
            nrm += v * v;
        }
        nrm = sqrt(nrm);
        bool none = cnt[k] == 0 || cnt[k] == n || !(nrm > 0) || !isfinite(nrm);
        for (int j = 0; j < d; j++) o[j] = none ? 0.0f : (float)(a[j] / sd[j] / nrm);
    }
    gt_grad_mode_restore(prev);
    gt_scope_end(m);
    free(mu);
    free(sd);
    free(cov);
    free(xs);
    free(y);
    free(cnt);
    return st;
}

/* --- directions of a generator ----------------------------------------------------------------- */

gt_status gt_anycost_directions_ex(gt_net *G, int n, uint64_t seed, gt_tensor **dirs_out, int64_t *counts) {
    const char *fn = "gt_anycost_directions";
    if (dirs_out) *dirs_out = NULL;
    if (!G || !dirs_out) return gt_set_error(GT_ERR_ARG, "%s: G or dirs_out is NULL", fn);
    if (G->kind != GT_NET_G || !gt_anycost_is(G))
        return gt_set_error(GT_ERR_ARG, "%s: the network is %s, not an anycost generator", fn, G->cfg.name);
    const gt_model_config *c = &G->cfg;
    if (c->channels != 1)
        return gt_set_error(GT_ERR_ARG, "%s: class directions need a gray (1-channel) Fashion-MNIST model: the "
                            "fmnist classifier labels the images; this model makes %d-channel images", fn, c->channels);
    if (n < 10 || n > 1000000) return gt_set_error(GT_ERR_ARG, "%s: n must be in 10..1000000, got %d", fn, n);
    const int wd = (int)gt_model_opt(c, "w_dim"), K = GT_FMNIST_CLASSES;
    char path[4096];
    gt_status st = gt_fmnist_weights_path(NULL, path, sizeof path);
    gt_fmnist *fm = st == GT_OK ? gt_fmnist_new(0) : NULL;
    if (st == GT_OK && !fm) st = gt_last_status();
    if (st == GT_OK) st = gt_fmnist_load(fm, path);
    float *ws = malloc((size_t)n * (size_t)wd * sizeof *ws), *dirs = malloc((size_t)K * (size_t)wd * sizeof *dirs);
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    if (st == GT_OK && (!ws || !dirs || !lab)) st = gt_set_error(GT_ERR_OOM, "%s: out of memory (n %d)", fn, n);
    gt_rng r;
    gt_rng_init(&r, seed);
    bool prev = gt_no_grad_begin();
    for (int s = 0; s < n && st == GT_OK; s += GT__DIRS_CHUNK) {
        int b = n - s < GT__DIRS_CHUNK ? n - s : GT__DIRS_CHUNK, m = gt_scope_begin();
        gt_tensor *z = gt_randn(&r, GT_SHAPE(b, c->nz));
        gt_tensor *w = z ? gt_contiguous(gt_anycost_mapping(G, z)) : NULL;     // (b, w_dim)
        gt_tensor *x = w ? gt_anycost_synthesis(G, w, NULL, NULL, NULL) : NULL; // (b, 1, R, R)
        gt_tensor *in = gt_anycost_fmnist_input(x), *logits = NULL;
        if (!in || gt_fmnist_forward(fm, in, NULL, &logits) != GT_OK)
            st = gt_last_status() ? gt_last_status() : GT_ERR_STATE;
        else {
            gt_tensor *lc = gt_contiguous(logits);
            memcpy(ws + (size_t)s * wd, gt_data(w), (size_t)b * (size_t)wd * sizeof *ws);
            for (int i = 0; i < b; i++) {
                const float *l = gt_data(lc) + (size_t)i * K;
                int best = 0;
                for (int k = 1; k < K; k++)
                    if (l[k] > l[best]) best = k;
                lab[s + i] = best;
            }
        }
        gt_scope_end(m);
    }
    gt_grad_mode_restore(prev);
    if (st == GT_OK) st = gt_anycost_logreg_directions(ws, lab, n, wd, K, GT__DIRS_ITERS, dirs);
    if (st == GT_OK && counts) {
        for (int k = 0; k < K; k++) counts[k] = 0;
        for (int i = 0; i < n; i++) counts[lab[i]]++;
    }
    if (st == GT_OK) {
        int m = gt_scope_begin();
        gt_tensor *d = gt_from_data(GT_SHAPE(K, wd), dirs);
        if (d) *dirs_out = gt_retain(d);
        else st = gt_last_status();
        gt_scope_end(m);
    }
    free(ws);
    free(dirs);
    free(lab);
    gt_fmnist_free(fm);
    return st;
}

gt_status gt_anycost_directions(gt_net *G, int n, uint64_t seed, gt_tensor **dirs_out) {
    return gt_anycost_directions_ex(G, n, seed, dirs_out, NULL);
}

/* --- directions files -------------------------------------------------------------------------- */

gt_status gt_anycost_dirs_save(const char *path, gt_tensor *dirs, const int64_t *counts) {
    if (!path || !dirs) return gt_set_error(GT_ERR_ARG, "gt_anycost_dirs_save: path or dirs is NULL");
    if (dirs->ndim != 2 || dirs->shape[0] < 1) {
        char s[64];
        return gt_set_error(GT_ERR_SHAPE, "gt_anycost_dirs_save: dirs must be (K, w_dim), got %s",
                            gt_shape_str(dirs, s, sizeof s));
    }
    const int K = (int)dirs->shape[0];
    char wd[32], names[512] = "", cnt[512] = "";
    snprintf(wd, sizeof wd, "%lld", (long long)dirs->shape[1]);
    for (int k = 0; k < K && K <= 10; k++) {
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%s", k ? "," : "", gt_anycost_class_names[k]);
    }
    for (int k = 0; counts && k < K && strlen(cnt) < sizeof cnt - 32; k++) {
        size_t l = strlen(cnt);
        snprintf(cnt + l, sizeof cnt - l, "%s%lld", k ? "," : "", (long long)counts[k]);
    }
    gt_safetensors s;
    gt_st_init(&s);
    gt_status st = gt_st_add_tensor(&s, "dirs", dirs);
    if (st == GT_OK) st = gt_st_set_meta(&s, "format", "pt");
    if (st == GT_OK) st = gt_st_set_meta(&s, "gantry", "anycost-directions");
    if (st == GT_OK) st = gt_st_set_meta(&s, "w_dim", wd);
    if (st == GT_OK && K <= 10) st = gt_st_set_meta(&s, "classes", names);
    if (st == GT_OK && counts) st = gt_st_set_meta(&s, "counts", cnt);
    if (st == GT_OK) st = gt_st_save(&s, path);
    gt_st_free(&s);
    return st;
}

gt_status gt_anycost_dirs_load(const gt_model_config *c, const char *path, gt_tensor **dirs_out) {
    if (dirs_out) *dirs_out = NULL;
    if (!c || !path || !dirs_out) return gt_set_error(GT_ERR_ARG, "gt_anycost_dirs_load: c, path or dirs_out is NULL");
    gt_safetensors s;
    gt_status st = gt__ac_file_open(&s, path, "anycost-directions", "a directions file",
                                    "gantry edit --save-directions");
    const gt_st_tensor *t = st == GT_OK ? gt_st_find(&s, "dirs") : NULL;
    if (st == GT_OK && !t) st = gt_set_error(GT_ERR_FORMAT, "%s: no tensor \"dirs\"", path);
    const int64_t wd = (int64_t)gt_model_opt(c, "w_dim");
    if (st == GT_OK && (t->dtype != GT_ST_F32 || t->ndim != 2 || t->shape[0] < 1 || t->shape[1] != wd))
        st = gt_set_error(GT_ERR_FORMAT, "%s: \"dirs\" is %s (%lld, %lld); the model wants F32 (K, %lld) (w_dim %lld)",
                          path, gt_st_dtype_name(t->dtype), (long long)(t->ndim > 0 ? t->shape[0] : 0),
                          (long long)(t->ndim > 1 ? t->shape[1] : 0), (long long)wd, (long long)wd);
    if (st == GT_OK) {
        int m = gt_scope_begin();
        gt_tensor *d = gt_st_get_tensor(&s, "dirs");
        if (d) *dirs_out = gt_retain(d);
        else st = gt_last_status();
        gt_scope_end(m);
    }
    gt_st_free(&s);
    return st;
}
