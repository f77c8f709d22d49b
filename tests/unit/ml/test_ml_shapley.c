/*  test_ml_shapley: valuations on games with known values (additive game: every method
 *  gives each party its own worth; efficiency: exact Shapley values sum to
 *  v(N) - v(empty)), the weights' clipping and normalisation, and the done-when check of
 *  issue 14 on trained models: five parties, where party 3 holds a copy of party 2's data
 *  and party 4 holds pure noise (features and labels independent), utility = held-out AUC
 *  of a logistic model trained on the coalition's pooled data. The noise party's weight is
 *  close to zero and the duplicated parties get equal shares, with exact and with
 *  truncated Monte-Carlo Shapley. Seeds are printed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedsim.h"
#include "ml/ml_shapley.h"
#include "testutil.h"

#define SEED 99u

typedef struct {
    double a[8];
    int calls;
} additive_t;

static int s_additive(void *ctx, uint64_t mask, double *u)
{
    additive_t *g = ctx;
    g->calls++;
    *u = 0.0;
    for (int i = 0; i < 8; i++)
        if (mask & ((uint64_t)1 << i))
            *u += g->a[i];
    return 0;
}

/* v(S) = |S|^2: every party is alike, all values equal (v(N) / k). */
static int s_square(void *ctx, uint64_t mask, double *u)
{
    (void)ctx;
    double c = (double)__builtin_popcountll(mask);
    *u = c * c;
    return 0;
}

static int s_failing(void *ctx, uint64_t mask, double *u)
{
    (void)ctx;
    *u = 0;
    return mask == 3 ? ML_E_FAILED : 0;
}

static void test_games(void)
{
    additive_t g = {.a = {0.5, -0.25, 1.0, 0.0, 2.0, 0.125, 0.3, 0.7}};
    double v[8], w[8];
    CHECK_EQ(ml_shapley_exact(6, s_additive, &g, v), 0);
    for (int i = 0; i < 6; i++)
        CHECK(fabs(v[i] - g.a[i]) < 1e-12);
    CHECK_EQ(g.calls, 64);
    CHECK_EQ(ml_shapley_loo(8, s_additive, &g, v), 0);
    for (int i = 0; i < 8; i++)
        CHECK(fabs(v[i] - g.a[i]) < 1e-12);
    ml_shapley_tmc_opts_t o = {.permutations = 7, .tolerance = 0.0, .seed = SEED};
    size_t evals;
    CHECK_EQ(ml_shapley_tmc(8, s_additive, &g, &o, v, &evals), 0);
    for (int i = 0; i < 8; i++)
        CHECK(fabs(v[i] - g.a[i]) < 1e-12);
    CHECK(evals <= 2 + 8 * 8);
    /* weights: -0.25 clipped to 0, the rest normalised */
    CHECK_EQ(ml_shapley_weights(g.a, 8, w), 0);
    double sum = 0;
    for (int i = 0; i < 8; i++)
        sum += w[i];
    CHECK(fabs(sum - 1.0) < 1e-12 && w[1] == 0.0 && fabs(w[4] - 2.0 / 4.625) < 1e-12);
    double neg[3] = {-1, -2, 0};
    CHECK_EQ(ml_shapley_weights(neg, 3, w), 0);
    CHECK(w[0] == 1.0 / 3 && w[2] == 1.0 / 3);
    double nan3[3] = {1, NAN, 0};
    CHECK_EQ(ml_shapley_weights(nan3, 3, w), ML_E_SPEC);
    /* symmetric game: equal values summing to v(N) - v(empty) */
    CHECK_EQ(ml_shapley_exact(5, s_square, NULL, v), 0);
    for (int i = 0; i < 5; i++)
        CHECK(fabs(v[i] - 5.0) < 1e-12);
    o.permutations = 20;
    CHECK_EQ(ml_shapley_tmc(5, s_square, NULL, &o, v, NULL), 0);
    for (int i = 0; i < 5; i++)
        CHECK(fabs(v[i] - 5.0) < 1e-12 * 25);
    /* errors propagate; bad sizes refused */
    CHECK_EQ(ml_shapley_exact(3, s_failing, NULL, v), ML_E_FAILED);
    CHECK_EQ(ml_shapley_exact(17, s_square, NULL, v), ML_E_SPEC);
    CHECK_EQ(ml_shapley_tmc(65, s_square, NULL, &o, v, NULL), ML_E_SPEC);
    CHECK_EQ(ml_shapley_loo(0, s_square, NULL, v), ML_E_SPEC);
}

typedef struct {
    ml_dataset_t *party[5];
    ml_dataset_t *test;
    size_t p;
    int calls;
    ml_shapley_auc_ctx_t auc; /* ml_shapley's own AUC utility over the parties above */
} world_t;

/* Counts the calls, then ml_shapley_auc_utility. */
static int s_auc_utility(void *ctx, uint64_t mask, double *u)
{
    world_t *wd = ctx;
    wd->calls++;
    return ml_shapley_auc_utility(&wd->auc, mask, u);
}

static void test_parties(void)
{
    world_t wd = {.p = 20};
    printf("shapley on models: seed %u, parties 0-2 real (300 each), 3 = copy of 2, 4 = noise "
           "(300), p %zu, 2000 held out\n",
           SEED, wd.p);
    ml_dataset_t *all = fedsim_cohort(900, wd.p, SEED);
    wd.test = fedsim_cohort(2000, wd.p, SEED + 1);
    int *owner = malloc(900 * sizeof *owner);
    for (int i = 0; i < 900; i++)
        owner[i] = i % 3;
    for (int j = 0; j < 3; j++)
        wd.party[j] = fedsim_share(all, owner, j);
    wd.party[3] = fedsim_share(all, owner, 2);
    wd.party[4] = fedsim_cohort(300, wd.p, SEED + 2);
    wd.auc = (ml_shapley_auc_ctx_t){.party = (const ml_dataset_t *const *)wd.party,
                                    .k = 5,
                                    .holdout = wd.test,
                                    .sgd = {.epochs = 8, .batch = 32, .lr = 0.05, .l2 = 1e-4},
                                    .seed = SEED};
    ml_sgd_rng_t r;
    ml_sgd_rng_init(&r, SEED, 3);
    for (size_t i = 0; i < 300; i++) /* labels independent of the features */
        wd.party[4]->y[i] = ml_sgd_rng_uniform(&r) < 0.4 ? 1.0 : 0.0;

    double v[5], w[5], all_u, empty_u;
    CHECK_EQ(s_auc_utility(&wd, 31, &all_u), 0);
    CHECK_EQ(s_auc_utility(&wd, 0, &empty_u), 0);
    CHECK_EQ(ml_shapley_exact(5, s_auc_utility, &wd, v), 0);
    CHECK_EQ(ml_shapley_weights(v, 5, w), 0);
    double sum = 0;
    printf("  exact:  ");
    for (int j = 0; j < 5; j++) {
        printf(" %d: %+.4f (w %.3f)", j, v[j], w[j]);
        sum += v[j];
    }
    printf("\n");
    CHECK(fabs(sum - (all_u - empty_u)) < 1e-9); /* efficiency */
    CHECK(fabs(v[2] - v[3]) < 1e-12);            /* duplicated parties: equal shares */
    CHECK(w[4] < 0.03);                          /* the noise party: close to zero */
    CHECK(w[0] > 0.15 && w[1] > 0.15 && w[2] > 0.1);

    ml_shapley_tmc_opts_t o = {.permutations = 4000, .tolerance = 0.001, .seed = SEED};
    size_t evals;
    wd.calls = 0;
    CHECK_EQ(ml_shapley_tmc(5, s_auc_utility, &wd, &o, v, &evals), 0);
    CHECK_EQ(ml_shapley_weights(v, 5, w), 0);
    printf("  tmc(4000):");
    for (int j = 0; j < 5; j++)
        printf(" %d: %+.4f (w %.3f)", j, v[j], w[j]);
    printf("  [%zu utilities]\n", evals);
    CHECK_EQ((size_t)wd.calls, evals);
    CHECK(fabs(w[2] - w[3]) < 0.02);
    CHECK(w[4] < 0.05);

    CHECK_EQ(ml_shapley_loo(5, s_auc_utility, &wd, v), 0);
    printf("  loo:    ");
    for (int j = 0; j < 5; j++)
        printf(" %d: %+.4f", j, v[j]);
    printf("  (a copy makes leave-one-out undervalue both copies)\n");
    CHECK(fabs(v[2] - v[3]) < 1e-12);
    double bad;
    CHECK_EQ(ml_shapley_auc_utility(&wd.auc, 32, &bad), ML_E_SPEC); /* no party 5 */

    for (int j = 0; j < 5; j++)
        ml_dataset_destroy(&wd.party[j]);
    ml_dataset_destroy(&wd.test);
    ml_dataset_destroy(&all);
    free(owner);
}

int main(void)
{
    printf("test_ml_shapley: seed %u\n", SEED);
    test_games();
    test_parties();
    return testutil_done("test_ml_shapley");
}
