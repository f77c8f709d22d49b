/*  ml_linear: L2-penalised logistic regression (minimised with liblbfgs) and linear / ridge
 *  regression (normal equations solved by Cholesky), over an ml_dataset_t.
 *
 *  Penalty convention (the same as scikit-learn's, with C = 1 / l2 and alpha = l2):
 *      logistic: sum_i [log(1 + exp(z_i)) - y_i z_i] + l2/2 ||w||²,  z = X w + b
 *      ridge:    sum_i (y_i - x_i·w - b)² + l2 ||w||²
 *  The intercept b is never penalised. Losses are SUMS over samples (not means), so a
 *  federated party's gradient is added, not averaged, before the penalty.
 *  Fits use the data as given: standardise first (ml_scale) and attach the scaling to the
 *  model (ml_model_set_scaling) so prediction repeats it.
 */
#ifndef GENIE_ML_LINEAR_H
#define GENIE_ML_LINEAR_H

#include <stddef.h>

#include "ml/ml_mat.h"
#include "ml/ml_model.h"
#include "proto/proto_err.h"

typedef struct {
    double l2;       /* penalty >= 0 (see above) */
    size_t max_iter; /* L-BFGS iterations (logistic); 0 means 1000 */
    double tol;      /* L-BFGS stop: ||grad|| < tol * max(1, ||w||); 0 means 1e-6 */
} ml_fit_opts_t;

/*  Fits a logistic model on D (labels 0/1) into a new *OUT (the caller's; kind
 *  ML_MODEL_LOGISTIC, feature ids from D, no scaling). O may be NULL (l2 = 1).
 *  Errors: ML_E_ARG (no rows, a label not 0/1, l2 < 0 or not finite), ML_E_ONE_CLASS,
 *  ML_E_NOT_CONVERGED (L-BFGS stopped with a gradient far from zero), PROTO_E_NOMEM;
 *  detail in ERR. */
int ml_logistic_fit(const ml_dataset_t *d, const ml_fit_opts_t *o, ml_model_t **out, char *err,
                    size_t cap) PROTO_WUR;

/*  The penalised logistic loss above at (W, B) for X (n x p) and Y (n labels 0/1) into
 *  *LOSS, and its gradient into GW (p values) and *GB when they are non-NULL. Computed with
 *  two dgemv calls and a stable log(1 + exp) per sample. Errors: ML_E_ARG (NULL X, Y, W or
 *  LOSS), PROTO_E_NOMEM. */
int ml_logistic_loss_grad(const ml_mat_t *x, const double *y, const double *w, double b, double l2,
                          double *gw, double *gb, double *loss) PROTO_WUR;

/*  Fits ridge regression (l2 >= 0; 0 is ordinary least squares) on D into a new *OUT
 *  (kind ML_MODEL_LINEAR). The centred Gram matrix X'X - n x̄x̄' + l2 I is built with dsyrk
 *  and solved by Cholesky (p <= 8192: the Gram matrix is p² doubles). O may be NULL
 *  (l2 = 0). Errors: ML_E_ARG (also p > 8192), ML_E_SINGULAR (X'X
 *  + l2 I not positive definite, e.g. collinear columns with l2 = 0), PROTO_E_NOMEM. */
int ml_linear_fit(const ml_dataset_t *d, const ml_fit_opts_t *o, ml_model_t **out, char *err,
                  size_t cap) PROTO_WUR;

/*  Solves A x = B in place for a symmetric positive definite P x P row-major A (only the
 *  upper triangle is read; A is overwritten by its Cholesky factor, B by x).
 *  Errors: ML_E_SINGULAR (a pivot <= 1e-12 times its diagonal), ML_E_ARG. */
int ml_linear_solve_spd(double *a, size_t p, double *b) PROTO_WUR;

#endif
