/*  ml_shapley: each party's value to a model, for splitting query revenue.
 *
 *  The caller supplies the utility of a coalition of parties (a bit mask: bit i = party i),
 *  typically the held-out AUC (or minus the log-loss) of the model trained on the union of
 *  the coalition's data; the empty coalition's utility is that of the untrained model.
 *  Three valuations:
 *  - leave-one-out: v(N) - v(N without i), K + 1 utility calls;
 *  - exact Shapley: the weighted average of i's marginal gains over all 2^K coalitions
 *    (K <= ML_SHAPLEY_EXACT_MAX);
 *  - truncated Monte-Carlo Shapley (Ghorbani and Zou, "Data Shapley", 2019): for seeded
 *    random permutations, walk the parties in order and credit each with its marginal
 *    gain; once the running utility is within `tolerance` of v(N), the rest of the walk
 *    is credited 0 without training. Permutations come in antithetic pairs (one and its
 *    reverse), which cancels much of the variance for parties that are alike. Utilities
 *    are cached per coalition.
 *  ml_shapley_weights turns values into revenue shares: negative values (a party that
 *  made the model worse) are clipped to 0, then the values are divided by their sum; if
 *  no value is positive every party gets 1/K (nothing distinguishes them).
 */
#ifndef GENIE_ML_SHAPLEY_H
#define GENIE_ML_SHAPLEY_H

#include <stddef.h>
#include <stdint.h>

#include "ml/ml_mat.h"
#include "ml/ml_sgd.h"
#include "proto/proto_err.h"

#define ML_SHAPLEY_EXACT_MAX 16
#define ML_SHAPLEY_K_MAX 64

/*  Utility of coalition MASK into *U; 0 or a negative code, which aborts the valuation
 *  and is returned by it. */
typedef int (*ml_shapley_utility_fn)(void *ctx, uint64_t mask, double *u);

/*  Leave-one-out values of K parties (1..ML_SHAPLEY_K_MAX) into VALUE[0..k). */
int ml_shapley_loo(size_t k, ml_shapley_utility_fn fn, void *ctx, double *value);

/*  Exact Shapley values of K parties (1..ML_SHAPLEY_EXACT_MAX) into VALUE[0..k).
 *  PROTO_E_NOMEM, ML_E_SPEC, or the utility's error. */
int ml_shapley_exact(size_t k, ml_shapley_utility_fn fn, void *ctx, double *value);

typedef struct {
    size_t permutations; /* >= 1 (rounded up to even: antithetic pairs) */
    double tolerance;    /* truncation: |v(N) - v(S)| below this stops a walk; >= 0 */
    uint64_t seed;       /* permutation stream */
} ml_shapley_tmc_opts_t;

/*  Truncated Monte-Carlo Shapley values of K parties (1..ML_SHAPLEY_K_MAX) into
 *  VALUE[0..k); the number of distinct utility calls into *EVALS (may be NULL). */
int ml_shapley_tmc(size_t k, ml_shapley_utility_fn fn, void *ctx, const ml_shapley_tmc_opts_t *opts,
                   double *value, size_t *evals);

/*  Revenue shares from VALUE[0..k) into WEIGHT[0..k) (may alias), summing to 1 (see above).
 *  ML_E_SPEC if K is 0 or a value is not finite. */
int ml_shapley_weights(const double *value, size_t k, double *weight);

/*  The utility the node uses: held-out ROC AUC (ml_metrics) of a logistic model trained
 *  by ml_sgd_train (plain SGD with OPTS, no DP: valuation runs on the training enclave's
 *  own copy) on the pooled rows of the coalition's parties, in party order, from zero
 *  weights and the stream SEED, so equal data gives equal utility. The empty coalition is
 *  worth 0.5 (a constant score). All data sets share the feature count; all are
 *  borrowed. */
typedef struct {
    const ml_dataset_t *const *party; /* K data sets */
    size_t k;
    const ml_dataset_t *holdout; /* with both classes */
    ml_sgd_opts_t sgd;
    uint64_t seed;
} ml_shapley_auc_ctx_t;

/*  ml_shapley_utility_fn over an ml_shapley_auc_ctx_t. Errors: ML_E_SPEC (mask beyond K,
 *  feature counts differ, bad options), ML_E_ONE_CLASS (holdout with one class),
 *  PROTO_E_NOMEM. */
int ml_shapley_auc_utility(void *ctx, uint64_t mask, double *u);

#endif
