/*  ml_split: seeded, optionally stratified index splits (see ml_split.h). */
#include "ml/ml_split.h"

#include <math.h>
#include <stdlib.h>

uint64_t ml_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t ml_rng_below(uint64_t *state, uint64_t bound)
{
    /* Rejection: draws below UINT64_MAX - (UINT64_MAX % bound) map evenly. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    uint64_t x;
    do
        x = ml_rng_next(state);
    while (x >= limit);
    return x % bound;
}

static void s_shuffle(size_t *v, size_t n, uint64_t *st)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ml_rng_below(st, i);
        size_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static int s_cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static size_t s_round_share(double frac, size_t n)
{
    double v = floor(frac * (double)n + 0.5);
    return v > (double)n ? n : (size_t)v;
}

/* Deals the shuffled group G (k indices) into the three parts. */
static void s_deal(ml_split_t *s, const size_t *g, size_t k, double val_frac, double test_frac)
{
    size_t nt = s_round_share(test_frac, k);
    size_t nv = s_round_share(val_frac, k);
    if (nt + nv > k)
        nv = k - nt;
    for (size_t i = 0; i < k; i++) {
        if (i < nt)
            s->test[s->n_test++] = g[i];
        else if (i < nt + nv)
            s->val[s->n_val++] = g[i];
        else
            s->train[s->n_train++] = g[i];
    }
}

int ml_split_new(size_t n, double val_frac, double test_frac, uint64_t seed, const double *y01,
                 ml_split_t **out)
{
    if (!out || n == 0 || !(val_frac >= 0.0) || !(test_frac >= 0.0) ||
        !(val_frac + test_frac <= 1.0))
        return ML_E_ARG;
    int rc = PROTO_E_NOMEM;
    size_t *perm = calloc(n ? n : 1, sizeof *perm);
    ml_split_t *s = calloc(1, sizeof *s);
    if (!perm || !s)
        goto err;
    s->train = malloc(n * sizeof *s->train);
    s->val = malloc(n * sizeof *s->val);
    s->test = malloc(n * sizeof *s->test);
    if (!s->train || !s->val || !s->test)
        goto err;
    uint64_t st = seed;
    if (y01) {
        /* Negatives first, then positives, each group shuffled and dealt on its own. */
        size_t k0 = 0;
        for (size_t i = 0; i < n; i++)
            if (y01[i] == 0.0)
                perm[k0++] = i;
        size_t k1 = k0;
        for (size_t i = 0; i < n; i++)
            if (y01[i] != 0.0)
                perm[k1++] = i;
        s_shuffle(perm, k0, &st);
        s_shuffle(perm + k0, n - k0, &st);
        s_deal(s, perm, k0, val_frac, test_frac);
        s_deal(s, perm + k0, n - k0, val_frac, test_frac);
    } else {
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        s_shuffle(perm, n, &st);
        s_deal(s, perm, n, val_frac, test_frac);
    }
    qsort(s->train, s->n_train, sizeof(size_t), s_cmp_size);
    qsort(s->val, s->n_val, sizeof(size_t), s_cmp_size);
    qsort(s->test, s->n_test, sizeof(size_t), s_cmp_size);
    free(perm);
    *out = s;
    return 0;
err:
    free(perm);
    ml_split_destroy(&s);
    return rc;
}

void ml_split_destroy(ml_split_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ml_split_t *s = *self_p;
    free(s->train);
    free(s->val);
    free(s->test);
    free(s);
    *self_p = NULL;
}
