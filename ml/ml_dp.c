/*  ml_dp: Renyi-DP accountant for the subsampled Gaussian mechanism (see ml_dp.h). */
#include "ml/ml_dp.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const double s_orders[ML_DP_ORDERS_N] = {
    1.25, 1.5, 1.75, 2,  2.25, 2.5, 2.75, 3,   3.5, 4,   4.5, 5,  6,  7,
    8,    9,   10,   11, 12,   13,  14,   16,  18,  20,  22,  24, 28, 32,
    36,   40,  48,   56, 64,   80,  96,   112, 128, 160, 192, 256};

struct ml_dp_acct_t {
    double delta, eps_max;
    uint64_t steps;             /* charged so far */
    double rdp[ML_DP_ORDERS_N]; /* spent so far, per order */
};

const double *ml_dp_orders(void)
{
    return s_orders;
}

/* log(exp(a) + exp(b)) */
static double s_log_add(double a, double b)
{
    if (a == -INFINITY)
        return b;
    if (b == -INFINITY)
        return a;
    double hi = a > b ? a : b, lo = a > b ? b : a;
    return hi + log1p(exp(lo - hi));
}

/* log(exp(a) - exp(b)), a >= b; -inf when they are equal (or b > a by rounding). */
static double s_log_sub(double a, double b)
{
    if (b == -INFINITY)
        return a;
    if (b >= a)
        return -INFINITY;
    return a + log1p(-exp(b - a));
}

/* log(erfc(x)) without underflow for large x (asymptotic series past x = 20). */
static double s_log_erfc(double x)
{
    if (x < 20.0)
        return log(erfc(x));
    double x2 = x * x, ix2 = 1.0 / x2;
    double series = 1.0 - 0.5 * ix2 + 0.75 * ix2 * ix2 - 1.875 * ix2 * ix2 * ix2;
    return -x2 - log(x) - 0.5 * log(M_PI) + log(series);
}

/* log A_alpha for integer alpha: the exact binomial expansion. */
static double s_log_a_int(double q, double sigma, unsigned alpha)
{
    double la = -INFINITY, lq = log(q), l1q = log1p(-q), s2 = 2.0 * sigma * sigma;
    double lga = lgamma((double)alpha + 1.0);
    for (unsigned k = 0; k <= alpha; k++) {
        double kd = (double)k;
        double lc = lga - lgamma(kd + 1.0) - lgamma((double)(alpha - k) + 1.0);
        double t = lc + kd * lq + (double)(alpha - k) * l1q + (kd * kd - kd) / s2;
        la = s_log_add(la, t);
    }
    return la;
}

/* log A_alpha for fractional alpha: the two series of Mironov et al. 2019, Section 3.3,
 * split at z0 = sigma^2 log(1/q - 1) + 1/2, summed until both terms are below e^-30. */
static double s_log_a_frac(double q, double sigma, double alpha)
{
    double la0 = -INFINITY, la1 = -INFINITY;
    double lq = log(q), l1q = log1p(-q), s2 = sigma * sigma;
    double z0 = s2 * log(1.0 / q - 1.0) + 0.5;
    double lcoef = 0.0; /* log |C(alpha, i)| */
    bool neg = false;   /* sign of C(alpha, i) */
    for (unsigned i = 0; i < 100000; i++) {
        double id = (double)i, j = alpha - id;
        double lt0 = lcoef + id * lq + j * l1q;
        double lt1 = lcoef + j * lq + id * l1q;
        double le0 = log(0.5) + s_log_erfc((id - z0) / (M_SQRT2 * sigma));
        double le1 = log(0.5) + s_log_erfc((z0 - j) / (M_SQRT2 * sigma));
        double ls0 = lt0 + (id * id - id) / (2.0 * s2) + le0;
        double ls1 = lt1 + (j * j - j) / (2.0 * s2) + le1;
        if (!neg) {
            la0 = s_log_add(la0, ls0);
            la1 = s_log_add(la1, ls1);
        } else {
            la0 = s_log_sub(la0, ls0);
            la1 = s_log_sub(la1, ls1);
        }
        if ((ls0 > ls1 ? ls0 : ls1) < -30.0)
            break;
        /* C(alpha, i+1) = C(alpha, i) (alpha - i) / (i + 1) */
        double f = alpha - id;
        if (f == 0.0)
            break;
        if (f < 0)
            neg = !neg;
        lcoef += log(fabs(f)) - log(id + 1.0);
    }
    return s_log_add(la0, la1);
}

int ml_dp_rdp(double q, double sigma, double alpha, double *rdp)
{
    if (!rdp || !(q >= 0.0 && q <= 1.0) || !(sigma > 0.0) || !isfinite(sigma) || !(alpha > 1.0) ||
        !(alpha <= 1e6))
        return ML_E_SPEC;
    if (q == 0.0) {
        *rdp = 0.0;
        return 0;
    }
    if (q == 1.0) {
        *rdp = alpha / (2.0 * sigma * sigma);
        return 0;
    }
    double la = (alpha == floor(alpha) && alpha <= 4096.0) ? s_log_a_int(q, sigma, (unsigned)alpha)
                                                           : s_log_a_frac(q, sigma, alpha);
    double r = la / (alpha - 1.0);
    *rdp = (isnan(r) || r < 0.0) ? (isnan(r) ? INFINITY : 0.0) : r;
    return 0;
}

int ml_dp_eps_from_rdp(const double *orders, const double *rdp, size_t n, double delta, double *eps,
                       double *alpha)
{
    if (!orders || !rdp || !eps || n == 0 || !(delta > 0.0 && delta < 1.0))
        return ML_E_SPEC;
    double best = INFINITY, best_a = orders[0];
    for (size_t i = 0; i < n; i++) {
        if (!(orders[i] > 1.0))
            return ML_E_SPEC;
        double e = rdp[i] + log(1.0 / delta) / (orders[i] - 1.0);
        if (e < best) {
            best = e;
            best_a = orders[i];
        }
    }
    *eps = best < 0.0 ? 0.0 : best;
    if (alpha)
        *alpha = best_a;
    return 0;
}

/* Total RDP of STEPS steps at (Q, SIGMA) over the default grid, added into ACC. */
static int s_rdp_steps(double q, double sigma, uint64_t steps, double *acc)
{
    for (size_t i = 0; i < ML_DP_ORDERS_N; i++) {
        double r;
        int rc = ml_dp_rdp(q, sigma, s_orders[i], &r);
        if (rc != 0)
            return rc;
        acc[i] += r * (double)steps;
        if (isnan(acc[i]))
            acc[i] = INFINITY;
    }
    return 0;
}

int ml_dp_eps(double q, double sigma, uint64_t steps, double delta, double *eps)
{
    double rdp[ML_DP_ORDERS_N] = {0};
    int rc = s_rdp_steps(q, sigma, steps, rdp);
    if (rc != 0)
        return rc;
    return ml_dp_eps_from_rdp(s_orders, rdp, ML_DP_ORDERS_N, delta, eps, NULL);
}

int ml_dp_sigma_for(double eps, double delta, double q, uint64_t steps, double *sigma)
{
    if (!sigma || !(eps > 0.0) || !isfinite(eps) || !(delta > 0.0 && delta < 1.0) ||
        !(q > 0.0 && q <= 1.0) || steps == 0)
        return ML_E_SPEC;
    double lo = 0.0, hi = 0.25, e;
    for (;;) { /* grow HI until it meets the budget */
        int rc = ml_dp_eps(q, hi, steps, delta, &e);
        if (rc != 0)
            return rc;
        if (e <= eps)
            break;
        lo = hi;
        hi *= 2.0;
        if (hi > 1e4)
            return ML_E_SPEC;
    }
    while (hi - lo > 1e-4 * hi) {
        double mid = 0.5 * (lo + hi);
        int rc = ml_dp_eps(q, mid, steps, delta, &e);
        if (rc != 0)
            return rc;
        if (e <= eps)
            hi = mid;
        else
            lo = mid;
    }
    *sigma = hi;
    return 0;
}

ml_dp_acct_t *ml_dp_acct_new(double delta, double eps_max)
{
    if (!(delta > 0.0 && delta < 1.0) || !(eps_max > 0.0) || isnan(eps_max))
        return NULL;
    ml_dp_acct_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->delta = delta;
    a->eps_max = eps_max;
    return a;
}

void ml_dp_acct_destroy(ml_dp_acct_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

int ml_dp_acct_peek(const ml_dp_acct_t *self, double q, double sigma, uint64_t steps, double *eps)
{
    double rdp[ML_DP_ORDERS_N];
    memcpy(rdp, self->rdp, sizeof rdp);
    int rc = s_rdp_steps(q, sigma, steps, rdp);
    if (rc != 0)
        return rc;
    return ml_dp_eps_from_rdp(s_orders, rdp, ML_DP_ORDERS_N, self->delta, eps, NULL);
}

int ml_dp_acct_spend(ml_dp_acct_t *self, double q, double sigma, uint64_t steps)
{
    double rdp[ML_DP_ORDERS_N], eps;
    memcpy(rdp, self->rdp, sizeof rdp);
    int rc = s_rdp_steps(q, sigma, steps, rdp);
    if (rc == 0)
        rc = ml_dp_eps_from_rdp(s_orders, rdp, ML_DP_ORDERS_N, self->delta, &eps, NULL);
    if (rc != 0)
        return rc;
    if (eps > self->eps_max)
        return ML_E_BUDGET;
    memcpy(self->rdp, rdp, sizeof rdp);
    self->steps += steps;
    return 0;
}

double ml_dp_acct_eps(const ml_dp_acct_t *self)
{
    double eps = 0.0;
    if (self->steps == 0)
        return 0.0;
    if (ml_dp_eps_from_rdp(s_orders, self->rdp, ML_DP_ORDERS_N, self->delta, &eps, NULL) != 0)
        return INFINITY;
    return eps;
}

double ml_dp_acct_budget(const ml_dp_acct_t *self)
{
    return self->eps_max;
}

double ml_dp_acct_delta(const ml_dp_acct_t *self)
{
    return self->delta;
}
