/*  ml_metrics: how good a model's predictions are. ROC AUC (ties by average ranks, the
 *  Mann-Whitney U statistic), accuracy at a threshold, log-loss, R² and calibration bins.
 *  Pure functions over caller arrays; nothing is kept between calls.
 */
#ifndef GENIE_ML_METRICS_H
#define GENIE_ML_METRICS_H

#include <stddef.h>

#include "proto/proto_err.h"

/*  ROC AUC of SCORE against binary labels Y01 (0 or 1; any non-zero counts as 1), N
 *  samples, into *AUC. Tied scores get their average rank, so a tie between a positive and
 *  a negative counts one half. O(n log n), allocates n indices.
 *  Errors: ML_E_ARG (n = 0, NULL, a NaN score), ML_E_ONE_CLASS (all labels equal),
 *  PROTO_E_NOMEM. */
int ml_metric_auc(const double *score, const double *y01, size_t n, double *auc) PROTO_WUR;

/*  Share of samples whose prediction (P >= THRESHOLD) equals the label; NaN if n = 0. */
double ml_metric_accuracy(const double *p, const double *y01, size_t n, double threshold);

/*  Mean binary cross-entropy -[y log p + (1-y) log(1-p)], P clipped to [1e-15, 1-1e-15]
 *  as scikit-learn does; NaN if n = 0. */
double ml_metric_logloss(const double *p, const double *y01, size_t n);

/*  Coefficient of determination 1 - SS_res / SS_tot of PRED against Y into *R2.
 *  Errors: ML_E_ARG (n < 2, NULL), ML_E_NO_VARIANCE (Y constant). */
int ml_metric_r2(const double *pred, const double *y, size_t n, double *r2) PROTO_WUR;

/*  One calibration bin: predictions in [lo, hi). */
typedef struct {
    double lo, hi;
    double mean_pred; /* mean predicted probability in the bin (NaN if empty) */
    double obs_rate;  /* observed share of positives in the bin (NaN if empty) */
    size_t count;
} ml_calib_bin_t;

/*  Fills K equal-width bins over [0, 1] (the last bin includes 1) with the mean predicted
 *  probability, the observed positive rate and the count. Probabilities outside [0, 1]
 *  are clamped into the end bins. Errors: ML_E_ARG (k = 0, NULL, a NaN probability). */
int ml_metric_calibration(const double *p, const double *y01, size_t n, size_t k,
                          ml_calib_bin_t *bins) PROTO_WUR;

/*  Expected calibration error: sum over BINS of count/n * |mean_pred - obs_rate|. */
double ml_metric_ece(const ml_calib_bin_t *bins, size_t k);

#endif
