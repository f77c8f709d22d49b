/*  ml_sgd: seeded random stream, logistic gradients and the (DP-)SGD local trainer
 *  (see ml_sgd.h). */
#include "ml/ml_sgd.h"

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- random stream ---- */

void ml_sgd_rng_init(ml_sgd_rng_t *r, uint64_t seed, uint64_t stream)
{
    uint8_t in[16 + 16] = "genie-ml-sgd-rng";
    for (int i = 0; i < 8; i++) {
        in[16 + i] = (uint8_t)(seed >> (8 * i));
        in[24 + i] = (uint8_t)(stream >> (8 * i));
    }
    crypto_generichash(r->key, sizeof r->key, in, sizeof in, NULL, 0);
    r->block = 0;
    r->pos = sizeof r->buf;
}

static void s_refill(ml_sgd_rng_t *r)
{
    uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
    for (int i = 0; i < 8; i++)
        nonce[i] = (uint8_t)(r->block >> (8 * i));
    crypto_stream_chacha20(r->buf, sizeof r->buf, nonce, r->key);
    r->block++;
    r->pos = 0;
}

uint64_t ml_sgd_rng_u64(ml_sgd_rng_t *r)
{
    if (r->pos + 8 > sizeof r->buf)
        s_refill(r);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->buf[r->pos + (size_t)i] << (8 * i);
    r->pos += 8;
    return v;
}

double ml_sgd_rng_uniform(ml_sgd_rng_t *r)
{
    return (double)(ml_sgd_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t ml_sgd_rng_below(ml_sgd_rng_t *r, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n; /* accept [0, lim) */
    uint64_t v;
    do
        v = ml_sgd_rng_u64(r);
    while (v >= lim);
    return v % n;
}

double ml_sgd_rng_gauss(ml_sgd_rng_t *r)
{
    double u1;
    do
        u1 = ml_sgd_rng_uniform(r);
    while (u1 <= 0.0);
    double u2 = ml_sgd_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void ml_sgd_rng_shuffle(ml_sgd_rng_t *r, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ml_sgd_rng_below(r, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

void ml_sgd_rng_wipe(ml_sgd_rng_t *r)
{
    sodium_memzero(r, sizeof *r);
}

/* ---- logistic model ---- */

double ml_sgd_sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

double ml_sgd_margin(const double *x, const double *w, size_t p)
{
    double z = w[p];
    for (size_t j = 0; j < p; j++)
        z += w[j] * x[j];
    return z;
}

void ml_sgd_grad_one(const double *x, double y, const double *w, size_t p, double *g)
{
    double r = ml_sgd_sigmoid(ml_sgd_margin(x, w, p)) - y;
    for (size_t j = 0; j < p; j++)
        g[j] = r * x[j];
    g[p] = r;
}

/* log(1 + exp(z)) without overflow */
static double s_softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

void ml_sgd_loss(const ml_mat_t *x, const double *y, const double *w, double l2, double *loss,
                 double *g)
{
    size_t n = x->rows, p = x->cols;
    double sum = 0.0;
    if (g)
        memset(g, 0, (p + 1) * sizeof *g);
    for (size_t i = 0; i < n; i++) {
        const double *xi = ml_mat_row(x, i);
        double z = ml_sgd_margin(xi, w, p);
        sum += s_softplus(z) - y[i] * z;
        if (g) {
            double r = ml_sgd_sigmoid(z) - y[i];
            for (size_t j = 0; j < p; j++)
                g[j] += r * xi[j];
            g[p] += r;
        }
    }
    double reg = 0.0;
    for (size_t j = 0; j < p; j++)
        reg += w[j] * w[j];
    *loss = sum / (double)n + 0.5 * l2 * reg;
    if (g) {
        for (size_t j = 0; j <= p; j++)
            g[j] /= (double)n;
        for (size_t j = 0; j < p; j++)
            g[j] += l2 * w[j];
    }
}

void ml_sgd_scores(const ml_mat_t *x, const double *w, double *score)
{
    for (size_t i = 0; i < x->rows; i++)
        score[i] = ml_sgd_margin(ml_mat_row(x, i), w, x->cols);
}

/* ---- trainer ---- */

int ml_sgd_opts_check(const ml_sgd_opts_t *o, size_t n, char *err, size_t err_cap)
{
    if (n == 0)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "no training examples");
    if (o->epochs == 0 || o->epochs > 100000)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "epochs %zu not in 1..100000", o->epochs);
    if (o->batch == 0 || o->batch > n)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "batch %zu not in 1..%zu", o->batch, n);
    if (!(o->lr > 0.0) || !isfinite(o->lr))
        return proto_err_fail(err, err_cap, ML_E_SPEC, "learning rate must be > 0");
    if (!(o->l2 >= 0.0) || !isfinite(o->l2))
        return proto_err_fail(err, err_cap, ML_E_SPEC, "l2 must be >= 0");
    if (o->dp) {
        if (!(o->clip > 0.0) || !isfinite(o->clip))
            return proto_err_fail(err, err_cap, ML_E_SPEC, "dp clip norm must be > 0");
        if (!(o->noise > 0.0) || !isfinite(o->noise))
            return proto_err_fail(err, err_cap, ML_E_SPEC, "dp noise multiplier must be > 0");
        if (o->sampling != ML_SGD_SAMPLE_POISSON && o->sampling != ML_SGD_SAMPLE_FIXED)
            return proto_err_fail(err, err_cap, ML_E_SPEC, "unknown dp sampling %d",
                                  (int)o->sampling);
    }
    return 0;
}

uint64_t ml_sgd_steps(const ml_sgd_opts_t *o, size_t n, double *q)
{
    size_t b = o->batch ? o->batch : 1;
    if (q)
        *q = n ? (b >= n ? 1.0 : (double)b / (double)n) : 1.0;
    return (uint64_t)o->epochs * (uint64_t)((n + b - 1) / b);
}

typedef struct {
    double *g;   /* p + 1: one example's gradient */
    double *sum; /* p + 1: the batch's summed gradient */
} s_scratch_t;

/* Picks one DP batch into IDX, its size in *K. */
static size_t s_dp_batch(const ml_sgd_opts_t *o, size_t n, double q, ml_sgd_rng_t *rng, size_t *idx)
{
    size_t k = 0;
    if (o->sampling == ML_SGD_SAMPLE_POISSON) {
        for (size_t i = 0; i < n; i++)
            if (ml_sgd_rng_uniform(rng) < q)
                idx[k++] = i;
        return k;
    }
    /* fixed size: partial Fisher-Yates over the identity */
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (k = 0; k < o->batch; k++) {
        size_t j = k + (size_t)ml_sgd_rng_below(rng, n - k);
        size_t t = idx[k];
        idx[k] = idx[j];
        idx[j] = t;
    }
    return k;
}

/* One step over the examples IDX[0..k): SUM of (clipped) gradients, noise when DP, then
 * w -= lr * (sum / denom + l2 w). */
static void s_step(const ml_mat_t *x, const double *y, double *w, const ml_sgd_opts_t *o,
                   ml_sgd_rng_t *rng, const size_t *idx, size_t k, double denom, s_scratch_t *s)
{
    size_t p = x->cols;
    memset(s->sum, 0, (p + 1) * sizeof(double));
    for (size_t t = 0; t < k; t++) {
        ml_sgd_grad_one(ml_mat_row(x, idx[t]), y[idx[t]], w, p, s->g);
        double scale = 1.0;
        if (o->dp) {
            double nrm = 0.0;
            for (size_t j = 0; j <= p; j++)
                nrm += s->g[j] * s->g[j];
            nrm = sqrt(nrm);
            if (nrm > o->clip)
                scale = o->clip / nrm;
        }
        for (size_t j = 0; j <= p; j++)
            s->sum[j] += scale * s->g[j];
    }
    if (o->dp)
        for (size_t j = 0; j <= p; j++)
            s->sum[j] += o->noise * o->clip * ml_sgd_rng_gauss(rng);
    for (size_t j = 0; j <= p; j++) {
        double reg = j < p ? o->l2 * w[j] : 0.0;
        w[j] -= o->lr * (s->sum[j] / denom + reg);
    }
}

int ml_sgd_train(const ml_mat_t *x, const double *y, double *w, const ml_sgd_opts_t *o,
                 ml_sgd_rng_t *rng, ml_dp_acct_t *acct, char *err, size_t err_cap)
{
    size_t n = x->rows, p = x->cols;
    int rc = ml_sgd_opts_check(o, n, err, err_cap);
    if (rc != 0)
        return rc;
    if (o->dp && !acct)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "dp training needs an accountant");
    for (size_t i = 0; i < n; i++)
        if (y[i] != 0.0 && y[i] != 1.0)
            return proto_err_fail(err, err_cap, ML_E_SPEC, "label %zu is not 0 or 1", i);
    s_scratch_t s = {0};
    size_t *idx = malloc(n * sizeof *idx); /* n: permutation / sampling scratch */
    s.g = malloc((p + 1) * sizeof *s.g);
    s.sum = malloc((p + 1) * sizeof *s.sum);
    if (!idx || !s.g || !s.sum) {
        rc = proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");
        goto out;
    }
    double q;
    uint64_t per_epoch = ml_sgd_steps(o, n, &q) / o->epochs;
    for (size_t e = 0; e < o->epochs; e++) {
        if (!o->dp) {
            for (size_t i = 0; i < n; i++)
                idx[i] = i;
            ml_sgd_rng_shuffle(rng, idx, n);
            for (size_t b = 0; b < n; b += o->batch) {
                size_t k = n - b < o->batch ? n - b : o->batch;
                s_step(x, y, w, o, rng, idx + b, k, (double)k, &s);
            }
            continue;
        }
        for (uint64_t t = 0; t < per_epoch; t++) {
            rc = ml_dp_acct_spend(acct, q, o->noise, 1);
            if (rc != 0) {
                rc = proto_err_fail(err, err_cap, rc,
                                    "privacy budget: the next step would pass epsilon %.4g",
                                    ml_dp_acct_budget(acct));
                goto out;
            }
            size_t k = s_dp_batch(o, n, q, rng, idx);
            /* dividing by the expected batch size keeps the sensitivity at C / (q n) */
            s_step(x, y, w, o, rng, idx, k, q * (double)n, &s);
        }
    }
    for (size_t j = 0; j <= p; j++)
        if (!isfinite(w[j])) {
            rc = proto_err_fail(err, err_cap, ML_E_SPEC, "training diverged (lr too large)");
            goto out;
        }
out:
    free(idx);
    free(s.g);
    free(s.sum);
    return rc;
}
