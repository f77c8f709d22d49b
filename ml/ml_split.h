/*  ml_split: seeded train / validation / test splits of sample indices, optionally
 *  stratified by a binary label so each part keeps the class balance. The same (n, fractions,
 *  seed, labels) always gives the same split, on every machine (a local splitmix64
 *  generator, not the C library's rand()).
 */
#ifndef GENIE_ML_SPLIT_H
#define GENIE_ML_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

/*  Three disjoint index sets covering 0..n-1, each sorted ascending. Plain struct: the
 *  arrays are owned by the split and freed by ml_split_destroy. */
typedef struct {
    size_t n_train, n_val, n_test;
    size_t *train, *val, *test;
} ml_split_t;

/*  Splits N samples: round(TEST_FRAC * n) to test, round(VAL_FRAC * n) to validation, the
 *  rest to training (per class when Y01 is non-NULL: stratified on y != 0). The
 *  permutation comes from SEED. *OUT is the caller's (ml_split_destroy).
 *  Errors: ML_E_ARG (n = 0, fractions negative, NaN or summing over 1), PROTO_E_NOMEM. */
int ml_split_new(size_t n, double val_frac, double test_frac, uint64_t seed, const double *y01,
                 ml_split_t **out) PROTO_WUR;

/*  Frees the split; tolerates NULL; sets *self_p to NULL. */
void ml_split_destroy(ml_split_t **self_p);

/*  Deterministic generator shared by ml/ code that needs seeded shuffles: splitmix64. */
uint64_t ml_rng_next(uint64_t *state);
/*  Uniform integer in [0, bound) without modulo bias; bound > 0. */
uint64_t ml_rng_below(uint64_t *state, uint64_t bound);

#endif
