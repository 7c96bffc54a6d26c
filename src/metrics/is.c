/* Inception Score as torch-fidelity computes it (metric_isc.py): optional
 * shuffle with NumPy's RandomState(seed).permutation, float64 softmax,
 * contiguous splits [i*n/s, (i+1)*n/s), per split exp(mean KL(p || mean p)),
 * mean and population std over splits. */
#include "metrics_internal.h"

gt_is_opts gt_is_default_opts(void) {
    gt_is_opts o = {.splits = 10, .shuffle = true, .seed = 2020};
    return o;
}

gt_status gt_metric_is(const float *logits, int64_t n, int64_t classes, const gt_is_opts *opts, double *mean,
                       double *std) {
    gt_is_opts o = opts ? *opts : gt_is_default_opts();
    if (!mean || !std) return gt_set_error(GT_ERR_ARG, "Inception Score: NULL output");
    *mean = *std = NAN;
    gt_status st = gt__check_features(logits, n, classes, "Inception Score", "the logits");
    if (st) return st;
    if (o.splits < 1)
        return gt_set_error(GT_ERR_ARG, "Inception Score: splits must be >= 1, got %d", o.splits);
    if (n < o.splits)
        return gt_set_error(GT_ERR_ARG, "Inception Score: %d splits need at least %d samples, got %lld", o.splits,
                            o.splits, (long long)n);
    if (classes < 2)
        return gt_set_error(GT_ERR_ARG, "Inception Score: needs at least 2 classes of logits, got %lld",
                            (long long)classes);
    int64_t *perm = malloc((size_t)n * sizeof(int64_t));
    double *logp = malloc((size_t)(n * classes) * sizeof(double)); // (n, classes): log softmax of row perm[i]
    double *q = malloc((size_t)classes * sizeof(double));          // (classes)
    double *scores = malloc((size_t)o.splits * sizeof(double));
    if (!perm || !logp || !q || !scores) {
        st = gt_set_error(GT_ERR_OOM, "Inception Score: out of memory for (%lld, %lld) logits", (long long)n,
                          (long long)classes);
        goto done;
    }
    if (o.shuffle) {
        gt__mt19937 mt;
        gt__mt_seed(&mt, o.seed);
        gt__mt_permutation(&mt, n, perm);
    } else {
        for (int64_t i = 0; i < n; i++) perm[i] = i;
    }
#pragma omp parallel for if (n * classes > GT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        const float *x = logits + perm[i] * classes;
        double *lp = logp + i * classes;
        double mx = -INFINITY, s = 0.0;
        for (int64_t c = 0; c < classes; c++) mx = GT_MAX(mx, (double)x[c]);
        for (int64_t c = 0; c < classes; c++) s += exp((double)x[c] - mx);
        double lse = mx + log(s);
        for (int64_t c = 0; c < classes; c++) lp[c] = (double)x[c] - lse;
    }
    for (int k = 0; k < o.splits; k++) {
        int64_t a = (int64_t)k * n / o.splits, b = (int64_t)(k + 1) * n / o.splits, m = b - a;
        for (int64_t c = 0; c < classes; c++) q[c] = 0.0;
        for (int64_t i = a; i < b; i++)
            for (int64_t c = 0; c < classes; c++) q[c] += exp(logp[i * classes + c]);
        for (int64_t c = 0; c < classes; c++) q[c] = log(q[c] / (double)m);
        double kl = 0.0;
#pragma omp parallel for reduction(+ : kl) if (m * classes > GT_PAR_MIN)
        for (int64_t i = a; i < b; i++) {
            const double *lp = logp + i * classes;
            double r = 0.0;
            for (int64_t c = 0; c < classes; c++) r += exp(lp[c]) * (lp[c] - q[c]);
            kl += r;
        }
        scores[k] = exp(kl / (double)m);
    }
    double mu = 0.0, var = 0.0;
    for (int k = 0; k < o.splits; k++) mu += scores[k];
    mu /= o.splits;
    for (int k = 0; k < o.splits; k++) var += (scores[k] - mu) * (scores[k] - mu);
    *mean = mu;
    *std = sqrt(var / o.splits);
done:
    free(perm);
    free(logp);
    free(q);
    free(scores);
    return st;
}
