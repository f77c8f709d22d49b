/*  ml_scale: standardisation (x - mean) / sd per column, whose parameters travel with a
 *  model (ml_model_set_scaling) so prediction applies exactly what training applied.
 *  sd is the population standard deviation (divisor n), as scikit-learn's StandardScaler;
 *  a constant column is left centred with sd 1.
 */
#ifndef GENIE_ML_SCALE_H
#define GENIE_ML_SCALE_H

#include <stddef.h>

#include "ml/ml_mat.h"
#include "proto/proto_err.h"

/*  P means and P standard deviations (all sd > 0). Plain struct; owned by whoever got it
 *  from ml_scale_fit / ml_scale_new, freed with ml_scale_destroy. */
typedef struct {
    size_t p;
    double *mean, *sd;
} ml_scale_t;

/*  New scaling for P columns with mean 0 and sd 1 (the caller may fill them); NULL if
 *  memory ran out. */
ml_scale_t *ml_scale_new(size_t p);

/*  Column means and sds of X (rows >= 1) into a new *OUT (the caller's). Errors: ML_E_ARG
 *  (no rows, NULL), ML_E_ARG if a value is not finite, PROTO_E_NOMEM. */
int ml_scale_fit(const ml_mat_t *x, ml_scale_t **out) PROTO_WUR;

/*  Replaces every x(i, j) by (x(i, j) - mean[j]) / sd[j]. Errors: ML_E_SHAPE (x->cols !=
 *  s->p). */
int ml_scale_apply(const ml_scale_t *s, ml_mat_t *x) PROTO_WUR;

/*  Frees the scaling; tolerates NULL; sets *self_p to NULL. */
void ml_scale_destroy(ml_scale_t **self_p);

#endif
