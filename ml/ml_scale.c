/*  ml_scale: column standardisation (see ml_scale.h). */
#include "ml/ml_scale.h"

#include <math.h>
#include <stdlib.h>

ml_scale_t *ml_scale_new(size_t p)
{
    ml_scale_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = p;
    s->mean = calloc(p ? p : 1, sizeof *s->mean);
    s->sd = malloc((p ? p : 1) * sizeof *s->sd);
    if (!s->mean || !s->sd) {
        ml_scale_destroy(&s);
        return NULL;
    }
    for (size_t j = 0; j < p; j++)
        s->sd[j] = 1.0;
    return s;
}

int ml_scale_fit(const ml_mat_t *x, ml_scale_t **out)
{
    if (!x || !out || x->rows == 0)
        return ML_E_ARG;
    ml_scale_t *s = ml_scale_new(x->cols);
    if (!s)
        return PROTO_E_NOMEM;
    size_t n = x->rows, p = x->cols;
    /* Two passes over the rows (mean, then squared deviations): row-major friendly and
       free of the cancellation of a one-pass sum of squares. */
    for (size_t i = 0; i < n; i++) {
        const double *r = ml_mat_row(x, i);
        for (size_t j = 0; j < p; j++)
            s->mean[j] += r[j];
    }
    for (size_t j = 0; j < p; j++) {
        if (!isfinite(s->mean[j])) {
            ml_scale_destroy(&s);
            return ML_E_ARG;
        }
        s->mean[j] /= (double)n;
        s->sd[j] = 0.0;
    }
    for (size_t i = 0; i < n; i++) {
        const double *r = ml_mat_row(x, i);
        for (size_t j = 0; j < p; j++) {
            double d = r[j] - s->mean[j];
            s->sd[j] += d * d;
        }
    }
    for (size_t j = 0; j < p; j++) {
        double sd = sqrt(s->sd[j] / (double)n);
        /* A constant column (up to rounding) is only centred. */
        s->sd[j] = sd > 1e-12 * (fabs(s->mean[j]) + 1.0) ? sd : 1.0;
    }
    *out = s;
    return 0;
}

int ml_scale_apply(const ml_scale_t *s, ml_mat_t *x)
{
    if (!s || !x || x->cols != s->p)
        return ML_E_SHAPE;
    for (size_t i = 0; i < x->rows; i++) {
        double *r = ml_mat_row(x, i);
        for (size_t j = 0; j < s->p; j++)
            r[j] = (r[j] - s->mean[j]) / s->sd[j];
    }
    return 0;
}

void ml_scale_destroy(ml_scale_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->mean);
    free((*self_p)->sd);
    free(*self_p);
    *self_p = NULL;
}
