/*  ml_metrics: AUC, accuracy, log-loss, R², calibration (see ml_metrics.h). */
#include "ml/ml_metrics.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    double s;
    size_t i;
} s_pair_t;

static int s_pair_cmp(const void *a, const void *b)
{
    const s_pair_t *x = a, *y = b;
    if (x->s < y->s)
        return -1;
    if (x->s > y->s)
        return 1;
    return (x->i > y->i) - (x->i < y->i);
}

int ml_metric_auc(const double *score, const double *y01, size_t n, double *auc)
{
    if (!score || !y01 || !auc || n == 0)
        return ML_E_ARG;
    s_pair_t *v = malloc(n * sizeof *v);
    if (!v)
        return PROTO_E_NOMEM;
    size_t npos = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(score[i])) {
            rc = ML_E_ARG;
            goto out;
        }
        v[i].s = score[i];
        v[i].i = i;
        npos += y01[i] != 0.0;
    }
    size_t nneg = n - npos;
    if (npos == 0 || nneg == 0) {
        rc = ML_E_ONE_CLASS;
        goto out;
    }
    qsort(v, n, sizeof *v, s_pair_cmp);
    /* Sum of the positives' ranks (1-based), tied runs getting their average rank. */
    double rank_sum = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        size_t pos_in_run = 0;
        while (j < n && v[j].s == v[i].s) {
            pos_in_run += y01[v[j].i] != 0.0;
            j++;
        }
        double avg_rank = ((double)(i + 1) + (double)j) / 2.0;
        rank_sum += avg_rank * (double)pos_in_run;
        i = j;
    }
    double u = rank_sum - (double)npos * ((double)npos + 1.0) / 2.0;
    *auc = u / ((double)npos * (double)nneg);
out:
    free(v);
    return rc;
}

double ml_metric_accuracy(const double *p, const double *y01, size_t n, double threshold)
{
    if (n == 0)
        return NAN;
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += (p[i] >= threshold) == (y01[i] != 0.0);
    return (double)ok / (double)n;
}

double ml_metric_logloss(const double *p, const double *y01, size_t n)
{
    if (n == 0)
        return NAN;
    const double eps = 1e-15;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double q = fmin(fmax(p[i], eps), 1.0 - eps);
        s -= y01[i] != 0.0 ? log(q) : log1p(-q);
    }
    return s / (double)n;
}

int ml_metric_r2(const double *pred, const double *y, size_t n, double *r2)
{
    if (!pred || !y || !r2 || n < 2)
        return ML_E_ARG;
    double mean = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += y[i];
    mean /= (double)n;
    double ss_tot = 0.0, ss_res = 0.0;
    for (size_t i = 0; i < n; i++) {
        ss_tot += (y[i] - mean) * (y[i] - mean);
        ss_res += (y[i] - pred[i]) * (y[i] - pred[i]);
    }
    if (!(ss_tot > 0.0))
        return ML_E_NO_VARIANCE;
    *r2 = 1.0 - ss_res / ss_tot;
    return 0;
}

int ml_metric_calibration(const double *p, const double *y01, size_t n, size_t k,
                          ml_calib_bin_t *bins)
{
    if (!p || !y01 || !bins || k == 0)
        return ML_E_ARG;
    for (size_t b = 0; b < k; b++) {
        bins[b].lo = (double)b / (double)k;
        bins[b].hi = (double)(b + 1) / (double)k;
        bins[b].mean_pred = 0.0;
        bins[b].obs_rate = 0.0;
        bins[b].count = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(p[i]))
            return ML_E_ARG;
        double q = fmin(fmax(p[i], 0.0), 1.0);
        size_t b = (size_t)(q * (double)k);
        if (b >= k)
            b = k - 1;
        bins[b].mean_pred += q;
        bins[b].obs_rate += y01[i] != 0.0;
        bins[b].count++;
    }
    for (size_t b = 0; b < k; b++) {
        if (bins[b].count) {
            bins[b].mean_pred /= (double)bins[b].count;
            bins[b].obs_rate /= (double)bins[b].count;
        } else {
            bins[b].mean_pred = NAN;
            bins[b].obs_rate = NAN;
        }
    }
    return 0;
}

double ml_metric_ece(const ml_calib_bin_t *bins, size_t k)
{
    size_t n = 0;
    double e = 0.0;
    for (size_t b = 0; b < k; b++) {
        if (!bins[b].count)
            continue;
        n += bins[b].count;
        e += (double)bins[b].count * fabs(bins[b].mean_pred - bins[b].obs_rate);
    }
    return n ? e / (double)n : NAN;
}
