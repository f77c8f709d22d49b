/*  ml_sgd: the local trainer of federated learning, with and without differential privacy.
 *
 *  A logistic-regression model over P features is a vector of P + 1 doubles: P weights,
 *  then the intercept (w[P]). ml_sgd_train runs E epochs of minibatch SGD on one party's
 *  data. With DP on it is DP-SGD (Abadi et al. 2016): every step samples a batch (Poisson
 *  with rate q = batch / n, or a fixed-size batch without replacement), clips each
 *  example's gradient to L2 norm C, adds N(0, (sigma C)^2) to every coordinate of the sum,
 *  divides by the expected batch size and steps; the privacy accountant (ml_dp.h) is
 *  charged before each step and refuses the step that would pass the budget. The L2
 *  penalty is added after the noise: it does not depend on the data, so it costs no
 *  privacy.
 *
 *  Randomness comes from ml_sgd_rng_t, a seeded ChaCha20 stream (libsodium), so a run is
 *  replayed exactly from its seed; a production caller seeds it from randombytes_buf so
 *  that the DP noise is unpredictable.
 */
#ifndef GENIE_ML_SGD_H
#define GENIE_ML_SGD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/ml_dp.h"
#include "ml/ml_mat.h"
#include "proto/proto_err.h"

/*  A seeded random stream. A plain struct so it can live on the stack; wipe it with
 *  ml_sgd_rng_wipe when its output protected something (DP noise). */
typedef struct {
    uint8_t key[32];
    uint64_t block;
    uint8_t buf[256];
    size_t pos;
} ml_sgd_rng_t;

/*  Starts the stream for (SEED, STREAM): different streams of one seed are independent. */
void ml_sgd_rng_init(ml_sgd_rng_t *r, uint64_t seed, uint64_t stream);
uint64_t ml_sgd_rng_u64(ml_sgd_rng_t *r);
/*  Uniform double in [0, 1) with 53 random bits. */
double ml_sgd_rng_uniform(ml_sgd_rng_t *r);
/*  Uniform integer in [0, N) without modulo bias; N > 0. */
uint64_t ml_sgd_rng_below(ml_sgd_rng_t *r, uint64_t n);
/*  Standard normal deviate (Box-Muller on two uniforms). */
double ml_sgd_rng_gauss(ml_sgd_rng_t *r);
/*  Fisher-Yates shuffle of IDX[0..n). */
void ml_sgd_rng_shuffle(ml_sgd_rng_t *r, size_t *idx, size_t n);
/*  Wipes the stream's key and buffer. */
void ml_sgd_rng_wipe(ml_sgd_rng_t *r);

/*  How a DP-SGD step picks its batch. */
typedef enum {
    ML_SGD_SAMPLE_POISSON = 0, /* each example independently with rate q = batch / n */
    ML_SGD_SAMPLE_FIXED = 1    /* exactly `batch` examples without replacement */
} ml_sgd_sampling_t;

typedef struct {
    size_t epochs;              /* passes over the data (steps = epochs * ceil(n / batch)) */
    size_t batch;               /* batch size (the expected one under Poisson sampling); >= 1 */
    double lr;                  /* step size, > 0 */
    double l2;                  /* L2 penalty on the weights (not the intercept), >= 0 */
    bool dp;                    /* DP-SGD on */
    double clip;                /* DP: per-example gradient norm bound C, > 0 */
    double noise;               /* DP: noise multiplier sigma (noise std = sigma * C), > 0 */
    ml_sgd_sampling_t sampling; /* DP: batch sampling (plain SGD shuffles per epoch) */
} ml_sgd_opts_t;

/*  Checks OPTS for a data set of N examples; ML_E_SPEC with a detail in ERR if invalid. */
int ml_sgd_opts_check(const ml_sgd_opts_t *opts, size_t n, char *err, size_t err_cap);
/*  Steps one call of ml_sgd_train makes on N examples, and the sampling rate the
 *  accountant charges for each (batch / n, at most 1). */
uint64_t ml_sgd_steps(const ml_sgd_opts_t *opts, size_t n, double *q);

/*  sigmoid(z), computed without overflow. */
double ml_sgd_sigmoid(double z);
/*  Margin w . x + w[p] of one example X (P features) under W (P + 1). */
double ml_sgd_margin(const double *x, const double *w, size_t p);
/*  Log-loss gradient of one example (X, Y in {0,1}) at W into G (P + 1 doubles):
 *  (sigmoid(margin) - y) * [x, 1]. */
void ml_sgd_grad_one(const double *x, double y, const double *w, size_t p, double *g);
/*  Mean log-loss over the rows of X plus L2/2 |w|^2 (intercept excluded) into *LOSS, and
 *  its gradient into G (P + 1, may be NULL). X has at least one row. */
void ml_sgd_loss(const ml_mat_t *x, const double *y, const double *w, double l2, double *loss,
                 double *g);
/*  Scores (margins) of every row of X under W into SCORE (x->rows doubles). */
void ml_sgd_scores(const ml_mat_t *x, const double *w, double *score);

/*  Trains W (x->cols + 1 doubles, in and out) on the rows of X with 0/1 labels Y.
 *  ACCT must be non-NULL when opts->dp; it is charged one step at a time and the run stops
 *  with ML_E_BUDGET (W holding the last step that fit) when the next step would pass its
 *  budget. Errors: ML_E_SPEC (bad options or labels), PROTO_E_NOMEM, ML_E_BUDGET. */
int ml_sgd_train(const ml_mat_t *x, const double *y, double *w, const ml_sgd_opts_t *opts,
                 ml_sgd_rng_t *rng, ml_dp_acct_t *acct, char *err, size_t err_cap);

#endif
