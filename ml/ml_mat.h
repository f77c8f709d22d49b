/*  ml_mat: the dense matrix every ml/ module passes around, and the labelled data set built
 *  from it. Row-major doubles, so a row is one sample and BLAS (CblasRowMajor) takes it as
 *  it is. Plain structs on purpose: the fields are the contract between the readers (CSV,
 *  genotypes), the models and the federated code; ownership is by the _new/_destroy pairs.
 */
#ifndef GENIE_ML_MAT_H
#define GENIE_ML_MAT_H

#include <stddef.h>

#include "proto/proto_err.h"

/*  ROWS x COLS doubles, row-major: element (i, j) is v[i * cols + j]. */
typedef struct {
    size_t rows, cols;
    double *v;
} ml_mat_t;

/*  New zero-filled ROWS x COLS matrix; NULL if memory ran out or ROWS * COLS overflows.
 *  A 0 x 0 matrix is allowed (v is NULL). Free with ml_mat_destroy. */
ml_mat_t *ml_mat_new(size_t rows, size_t cols);
/*  Frees the matrix; tolerates NULL; sets *self_p to NULL. */
void ml_mat_destroy(ml_mat_t **self_p);
/*  Pointer to row I (I < rows). */
static inline double *ml_mat_row(const ml_mat_t *m, size_t i)
{
    return m->v + i * m->cols;
}

/*  A labelled data set: X (n x p features), y (n labels: 0/1 for a binary trait, real for a
 *  quantitative one), the feature ids (p strings, e.g. rsids or CSV column names) and the
 *  sample ids (n strings). Every member is owned by the data set. */
typedef struct {
    ml_mat_t *x;
    double *y;
    char **feature_ids; /* p strings */
    char **sample_ids;  /* n strings, may be NULL */
} ml_dataset_t;

/*  New data set with an N x P zero matrix, n zero labels and NULL ids (the caller fills
 *  them with strdup'd strings, which the data set then owns). NULL if memory ran out. */
ml_dataset_t *ml_dataset_new(size_t n, size_t p);
/*  Frees the data set and everything it owns; tolerates NULL; sets *self_p to NULL. */
void ml_dataset_destroy(ml_dataset_t **self_p);
/*  New data set holding rows IDX[0..k) of SRC (deep copy); NULL if memory ran out. */
ml_dataset_t *ml_dataset_subset(const ml_dataset_t *src, const size_t *idx, size_t k);

#endif
