/*  ml_dp: the Renyi-DP accountant of DP-SGD (the subsampled Gaussian mechanism).
 *
 *  One DP-SGD step samples each example with probability q (Poisson sampling) and releases
 *  a sum of clipped gradients plus Gaussian noise of std sigma times the clip norm. Its RDP
 *  at order alpha is computed as in Mironov, Talwar and Zhang, "Renyi Differential Privacy
 *  of the Sampled Gaussian Mechanism" (2019): for integer alpha the exact binomial sum
 *  A_alpha = sum_k C(alpha,k) (1-q)^(alpha-k) q^k exp((k^2 - k) / (2 sigma^2)), for
 *  fractional alpha the two-sided series of their Section 3.3; RDP(alpha) = log(A_alpha) /
 *  (alpha - 1), all in log space. With q = 1 this is alpha / (2 sigma^2) exactly. Steps
 *  compose by adding RDP per order; the guarantee at delta is
 *      epsilon = min over alpha of  RDP(alpha) + log(1/delta) / (alpha - 1)
 *  (Mironov 2017, Prop. 3), over the order grid of ml_dp_orders.
 *
 *  Fixed-size batches are charged as Poisson sampling at q = batch / n, as Opacus and
 *  TF-Privacy do; the Poisson analysis is the proven one, so use Poisson sampling where
 *  the guarantee has to be exact.
 *
 *  The accountant (ml_dp_acct_t) holds the RDP spent so far and a budget epsilon_max at
 *  delta: the smallest budget among the donors' consents. Charging a step that would pass
 *  it is refused and leaves the accountant unchanged.
 */
#ifndef GENIE_ML_DP_H
#define GENIE_ML_DP_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

/*  The default order grid: 1.25 .. 256 (ML_DP_ORDERS_N orders, ascending). */
#define ML_DP_ORDERS_N 40
const double *ml_dp_orders(void);

/*  RDP of ONE step of the subsampled Gaussian mechanism with sampling rate Q in [0, 1] and
 *  noise multiplier SIGMA > 0, at order ALPHA > 1, into *RDP (may be +inf when it
 *  overflows). ML_E_SPEC if an argument is out of range. */
int ml_dp_rdp(double q, double sigma, double alpha, double *rdp) PROTO_WUR;

/*  Epsilon at DELTA in (0, 1) from RDP[i] at ORDERS[i] (N orders), into *EPS, and the
 *  order that gave it into *ALPHA (may be NULL). ML_E_SPEC on bad arguments. */
int ml_dp_eps_from_rdp(const double *orders, const double *rdp, size_t n, double delta, double *eps,
                       double *alpha) PROTO_WUR;

/*  Epsilon at DELTA after STEPS steps at (Q, SIGMA), over the default grid. */
int ml_dp_eps(double q, double sigma, uint64_t steps, double delta, double *eps) PROTO_WUR;

/*  The smallest noise multiplier (to within 1e-4 relative) whose STEPS steps at rate Q
 *  stay within (EPS, DELTA), by bisection over ml_dp_eps, into *SIGMA. ML_E_SPEC on bad
 *  arguments or when no sigma up to 1e4 meets the budget. */
int ml_dp_sigma_for(double eps, double delta, double q, uint64_t steps, double *sigma) PROTO_WUR;

typedef struct ml_dp_acct_t ml_dp_acct_t;

/*  New accountant with nothing spent, guarantee at DELTA in (0, 1), budget EPS_MAX > 0.
 *  NULL on bad arguments or out of memory. Free with ml_dp_acct_destroy. */
ml_dp_acct_t *ml_dp_acct_new(double delta, double eps_max);
void ml_dp_acct_destroy(ml_dp_acct_t **self_p);

/*  Epsilon that would be spent after STEPS more steps at (Q, SIGMA), into *EPS; the
 *  accountant is unchanged. 0, or ML_E_SPEC on bad arguments. */
int ml_dp_acct_peek(const ml_dp_acct_t *self, double q, double sigma, uint64_t steps,
                    double *eps) PROTO_WUR;
/*  Charges STEPS steps at (Q, SIGMA). ML_E_BUDGET (and nothing charged) if the epsilon
 *  after them would exceed the budget; ML_E_SPEC on bad arguments. */
int ml_dp_acct_spend(ml_dp_acct_t *self, double q, double sigma, uint64_t steps) PROTO_WUR;
/*  Epsilon spent so far at the accountant's delta (0 before any step). */
double ml_dp_acct_eps(const ml_dp_acct_t *self);
double ml_dp_acct_budget(const ml_dp_acct_t *self);
double ml_dp_acct_delta(const ml_dp_acct_t *self);

#endif
