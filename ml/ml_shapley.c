/*  ml_shapley: leave-one-out, exact and truncated Monte-Carlo Shapley values
 *  (see ml_shapley.h). */
#include "ml/ml_shapley.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_metrics.h"
#include "ml/ml_sgd.h"

static uint64_t s_full(size_t k)
{
    return k >= 64 ? UINT64_MAX : ((uint64_t)1 << k) - 1;
}

int ml_shapley_loo(size_t k, ml_shapley_utility_fn fn, void *ctx, double *value)
{
    if (k == 0 || k > ML_SHAPLEY_K_MAX || !fn || !value)
        return ML_E_SPEC;
    double all;
    int rc = fn(ctx, s_full(k), &all);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < k; i++) {
        double u;
        rc = fn(ctx, s_full(k) & ~((uint64_t)1 << i), &u);
        if (rc != 0)
            return rc;
        value[i] = all - u;
    }
    return 0;
}

int ml_shapley_exact(size_t k, ml_shapley_utility_fn fn, void *ctx, double *value)
{
    if (k == 0 || k > ML_SHAPLEY_EXACT_MAX || !fn || !value)
        return ML_E_SPEC;
    size_t n = (size_t)1 << k;
    double *u = malloc(n * sizeof *u);
    double *coef = malloc(k * sizeof *coef); /* |S|! (k - |S| - 1)! / k! by |S| */
    int rc = 0;
    if (!u || !coef) {
        rc = PROTO_E_NOMEM;
        goto out;
    }
    for (size_t s = 0; s < k; s++)
        coef[s] = exp(lgamma((double)s + 1) + lgamma((double)(k - s)) - lgamma((double)k + 1));
    for (size_t m = 0; m < n; m++) {
        rc = fn(ctx, (uint64_t)m, &u[m]);
        if (rc != 0)
            goto out;
    }
    for (size_t i = 0; i < k; i++) {
        double v = 0.0;
        size_t bit = (size_t)1 << i;
        for (size_t m = 0; m < n; m++)
            if (!(m & bit))
                v += coef[__builtin_popcountll(m)] * (u[m | bit] - u[m]);
        value[i] = v;
    }
out:
    free(u);
    free(coef);
    return rc;
}

/* ---- utility cache: open addressing on the coalition mask ---- */

typedef struct {
    uint64_t *mask;
    double *u;
    uint8_t *used;
    size_t cap, n;
} s_cache_t;

static size_t s_slot(const s_cache_t *c, uint64_t mask)
{
    uint64_t h = mask * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 20) & (c->cap - 1);
    while (c->used[i] && c->mask[i] != mask)
        i = (i + 1) & (c->cap - 1);
    return i;
}

static int s_cache_init(s_cache_t *c, size_t cap)
{
    memset(c, 0, sizeof *c);
    c->cap = cap;
    c->mask = calloc(cap, sizeof *c->mask);
    c->u = calloc(cap, sizeof *c->u);
    c->used = calloc(cap, 1);
    return (c->mask && c->u && c->used) ? 0 : PROTO_E_NOMEM;
}

static void s_cache_free(s_cache_t *c)
{
    free(c->mask);
    free(c->u);
    free(c->used);
    memset(c, 0, sizeof *c);
}

static int s_cache_put(s_cache_t *c, uint64_t mask, double u)
{
    if (2 * (c->n + 1) > c->cap) {
        s_cache_t g;
        if (s_cache_init(&g, c->cap * 2) != 0) {
            s_cache_free(&g);
            return PROTO_E_NOMEM;
        }
        for (size_t i = 0; i < c->cap; i++)
            if (c->used[i]) {
                size_t j = s_slot(&g, c->mask[i]);
                g.used[j] = 1;
                g.mask[j] = c->mask[i];
                g.u[j] = c->u[i];
                g.n++;
            }
        s_cache_free(c);
        *c = g;
    }
    size_t i = s_slot(c, mask);
    if (!c->used[i]) {
        c->used[i] = 1;
        c->mask[i] = mask;
        c->n++;
    }
    c->u[i] = u;
    return 0;
}

static int s_utility(s_cache_t *c, ml_shapley_utility_fn fn, void *ctx, uint64_t mask, double *u)
{
    size_t i = s_slot(c, mask);
    if (c->used[i]) {
        *u = c->u[i];
        return 0;
    }
    int rc = fn(ctx, mask, u);
    return rc != 0 ? rc : s_cache_put(c, mask, *u);
}

int ml_shapley_tmc(size_t k, ml_shapley_utility_fn fn, void *ctx, const ml_shapley_tmc_opts_t *o,
                   double *value, size_t *evals)
{
    if (k == 0 || k > ML_SHAPLEY_K_MAX || !fn || !value || !o || o->permutations == 0 ||
        !(o->tolerance >= 0.0))
        return ML_E_SPEC;
    size_t perms = o->permutations + (o->permutations & 1);
    size_t perm[ML_SHAPLEY_K_MAX];
    s_cache_t cache;
    ml_sgd_rng_t rng;
    ml_sgd_rng_init(&rng, o->seed, 0x5a5a);
    int rc = s_cache_init(&cache, 64);
    double v_all, v_empty;
    if (rc == 0)
        rc = s_utility(&cache, fn, ctx, s_full(k), &v_all);
    if (rc == 0)
        rc = s_utility(&cache, fn, ctx, 0, &v_empty);
    if (rc != 0)
        goto out;
    memset(value, 0, k * sizeof *value);
    for (size_t t = 0; t < perms; t++) {
        if (t % 2 == 0) {
            for (size_t i = 0; i < k; i++)
                perm[i] = i;
            ml_sgd_rng_shuffle(&rng, perm, k);
        } else {
            for (size_t i = 0; i < k / 2; i++) { /* the antithetic partner: reversed */
                size_t tmp = perm[i];
                perm[i] = perm[k - 1 - i];
                perm[k - 1 - i] = tmp;
            }
        }
        uint64_t mask = 0;
        double prev = v_empty;
        for (size_t j = 0; j < k; j++) {
            if (fabs(v_all - prev) < o->tolerance)
                break; /* truncated: the rest of the walk adds 0 */
            mask |= (uint64_t)1 << perm[j];
            double u;
            rc = s_utility(&cache, fn, ctx, mask, &u);
            if (rc != 0)
                goto out;
            value[perm[j]] += u - prev;
            prev = u;
        }
    }
    for (size_t i = 0; i < k; i++)
        value[i] /= (double)perms;
    if (evals)
        *evals = cache.n;
out:
    s_cache_free(&cache);
    return rc;
}

int ml_shapley_weights(const double *value, size_t k, double *weight)
{
    if (k == 0 || !value || !weight)
        return ML_E_SPEC;
    double sum = 0.0;
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(value[i]))
            return ML_E_SPEC;
        sum += value[i] > 0.0 ? value[i] : 0.0;
    }
    for (size_t i = 0; i < k; i++)
        weight[i] = sum > 0.0 ? (value[i] > 0.0 ? value[i] / sum : 0.0) : 1.0 / (double)k;
    return 0;
}

int ml_shapley_auc_utility(void *ctx, uint64_t mask, double *u)
{
    const ml_shapley_auc_ctx_t *c = ctx;
    if (!c || !u || !c->party || !c->holdout || c->k == 0 || c->k > ML_SHAPLEY_K_MAX ||
        (c->k < 64 && (mask >> c->k) != 0))
        return ML_E_SPEC;
    size_t p = c->holdout->x->cols, n = 0;
    for (size_t j = 0; j < c->k; j++) {
        if (c->party[j]->x->cols != p)
            return ML_E_SPEC;
        if (mask & ((uint64_t)1 << j))
            n += c->party[j]->x->rows;
    }
    if (n == 0) {
        *u = 0.5;
        return 0;
    }
    ml_mat_t *x = ml_mat_new(n, p);
    double *y = malloc(n * sizeof *y);
    double *w = calloc(p + 1, sizeof *w);
    double *score = malloc(c->holdout->x->rows * sizeof *score);
    int rc = 0;
    if (!x || !y || !w || !score) {
        rc = PROTO_E_NOMEM;
        goto out;
    }
    size_t at = 0;
    for (size_t j = 0; j < c->k; j++) {
        if (!(mask & ((uint64_t)1 << j)))
            continue;
        const ml_dataset_t *d = c->party[j];
        size_t rows = d->x->rows;
        if (rows) {
            memcpy(ml_mat_row(x, at), d->x->v, rows * p * sizeof(double));
            memcpy(y + at, d->y, rows * sizeof(double));
        }
        at += rows;
    }
    ml_sgd_opts_t o = c->sgd;
    o.dp = false;
    if (o.batch > n)
        o.batch = n;
    ml_sgd_rng_t rng;
    ml_sgd_rng_init(&rng, c->seed, 0x5348);
    rc = ml_sgd_train(x, y, w, &o, &rng, NULL, NULL, 0);
    ml_sgd_rng_wipe(&rng);
    if (rc != 0)
        goto out;
    ml_sgd_scores(c->holdout->x, w, score);
    rc = ml_metric_auc(score, c->holdout->y, c->holdout->x->rows, u);
out:
    ml_mat_destroy(&x);
    free(y);
    free(w);
    free(score);
    return rc;
}
