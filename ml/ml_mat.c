/*  ml_mat: dense row-major matrices and labelled data sets (see ml_mat.h). */
#include "ml/ml_mat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ml_mat_t *ml_mat_new(size_t rows, size_t cols)
{
    if (cols && rows > SIZE_MAX / sizeof(double) / cols)
        return NULL;
    ml_mat_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->rows = rows;
    m->cols = cols;
    if (rows != 0 && cols != 0) {
        m->v = calloc(rows * cols, sizeof(double));
        if (!m->v) {
            free(m);
            return NULL;
        }
    }
    return m;
}

void ml_mat_destroy(ml_mat_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->v);
    free(*self_p);
    *self_p = NULL;
}

static void s_free_strings(char **s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

ml_dataset_t *ml_dataset_new(size_t n, size_t p)
{
    ml_dataset_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->x = ml_mat_new(n, p);
    d->y = calloc(n ? n : 1, sizeof(double));
    d->feature_ids = calloc(p ? p : 1, sizeof(char *));
    d->sample_ids = calloc(n ? n : 1, sizeof(char *));
    if (!d->x || !d->y || !d->feature_ids || !d->sample_ids)
        ml_dataset_destroy(&d);
    return d;
}

void ml_dataset_destroy(ml_dataset_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ml_dataset_t *d = *self_p;
    size_t n = d->x ? d->x->rows : 0, p = d->x ? d->x->cols : 0;
    s_free_strings(d->feature_ids, p);
    s_free_strings(d->sample_ids, n);
    free(d->y);
    ml_mat_destroy(&d->x);
    free(d);
    *self_p = NULL;
}

static char *s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

ml_dataset_t *ml_dataset_subset(const ml_dataset_t *src, const size_t *idx, size_t k)
{
    size_t p = src->x->cols;
    ml_dataset_t *d = ml_dataset_new(k, p);
    if (!d)
        return NULL;
    for (size_t j = 0; j < p; j++) {
        d->feature_ids[j] = s_dup(src->feature_ids[j]);
        if (src->feature_ids[j] && !d->feature_ids[j])
            goto err;
    }
    for (size_t i = 0; i < k; i++) {
        size_t r = idx[i];
        if (r >= src->x->rows)
            goto err;
        memcpy(ml_mat_row(d->x, i), ml_mat_row(src->x, r), p * sizeof(double));
        d->y[i] = src->y[r];
        if (src->sample_ids) {
            d->sample_ids[i] = s_dup(src->sample_ids[r]);
            if (src->sample_ids[r] && !d->sample_ids[i])
                goto err;
        }
    }
    return d;
err:
    ml_dataset_destroy(&d);
    return NULL;
}
