/* The metrics suite (gantry/metrics.h): the one list of metric names, their
 * parser, and the computation from features, shared by `gantry eval` and
 * `gantry train --eval-every`, so both compute each metric the same way
 * (KID's first set is the fake one, as torch-fidelity's input1). */
#include <math.h>
#include <string.h>

#include "gantry/metrics.h"

static const struct {
    const char *name;
    unsigned bit;
} gt__metric_names[] = {{"fid", GT_METRIC_FID}, {"kid", GT_METRIC_KID}, {"is", GT_METRIC_IS},
                        {"pr", GT_METRIC_PR},   {"dc", GT_METRIC_DC}};

gt_status gt_metrics_parse(const char *list, unsigned *mask) {
    if (!list || !mask) return gt_set_error(GT_ERR_ARG, "gt_metrics_parse: NULL argument");
    unsigned m = 0;
    const char *p = list;
    while (*p) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        bool known = false;
        if (len == 3 && !strncmp(p, "all", 3)) m |= GT_METRIC_ALL, known = true;
        for (size_t i = 0; !known && i < sizeof gt__metric_names / sizeof *gt__metric_names; i++)
            if (strlen(gt__metric_names[i].name) == len && !strncmp(p, gt__metric_names[i].name, len))
                m |= gt__metric_names[i].bit, known = true;
        if (!known)
            return gt_set_error(GT_ERR_ARG, "unknown metric '%.*s' (expected a comma list of fid, kid, is, pr, dc, "
                                "or all)", (int)len, p);
        p += len;
        if (*p == ',') p++;
    }
    if (!m) return gt_set_error(GT_ERR_ARG, "no metric given (expected a comma list of fid, kid, is, pr, dc, or all)");
    *mask = m;
    return GT_OK;
}

gt_metrics_opts gt_metrics_default_opts(void) {
    gt_metrics_opts o = {gt_kid_default_opts(), gt_is_default_opts(), gt_prdc_default_opts()};
    return o;
}

gt_status gt_metrics_compute(unsigned mask, const gt_metrics_opts *opts, const gt_fid_stats *real_stats,
                             const gt_feature_set *real, const gt_fid_stats *fake_stats, const gt_feature_set *fake,
                             gt_metrics_result *r) {
    if (!r) return gt_set_error(GT_ERR_ARG, "gt_metrics_compute: NULL result");
    r->mask = mask;
    for (double *d = &r->fid; d <= &r->coverage; d++) *d = NAN;
    gt_metrics_opts o = opts ? *opts : gt_metrics_default_opts();
    const bool need_feats = mask & (GT_METRIC_KID | GT_METRIC_PR | GT_METRIC_DC);
    if (((mask & GT_METRIC_FID) && (!real_stats || !fake_stats)) || (need_feats && (!real || !fake)) ||
        ((mask & GT_METRIC_IS) && !fake))
        return gt_set_error(GT_ERR_ARG, "gt_metrics_compute: the inputs the chosen metrics need are missing");
    gt_status st = GT_OK;
    if (mask & GT_METRIC_FID) st = gt_metric_fid(real_stats, fake_stats, &r->fid);
    if (!st && (mask & GT_METRIC_KID))
        st = gt_metric_kid(fake->feats, fake->n, real->feats, real->n, fake->dim, &o.kid, &r->kid, &r->kid_std);
    if (!st && (mask & GT_METRIC_IS)) st = gt_metric_is(fake->logits, fake->n, fake->logits_dim, &o.is, &r->is, &r->is_std);
    if (!st && (mask & (GT_METRIC_PR | GT_METRIC_DC))) {
        gt_prdc_opts po = o.prdc;
        po.pr = mask & GT_METRIC_PR, po.dc = mask & GT_METRIC_DC;
        gt_prdc_result pr;
        st = gt_metric_prdc(real->feats, real->n, fake->feats, fake->n, real->dim, &po, &pr);
        if (!st) {
            r->precision = pr.precision, r->recall = pr.recall, r->f_score = pr.f_score;
            r->density = pr.density, r->coverage = pr.coverage;
        }
    }
    return st;
}
