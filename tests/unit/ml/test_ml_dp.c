/*  test_ml_dp: the Renyi-DP accountant against exact and published values, the noise
 *  search, the budget refusals, per-example clipping, and the done-when check of issue
 *  14: federated DP-SGD at epsilon = 1, 2, 4, 8 (delta 1e-5) prints its AUC table and no
 *  party's accountant ever passes its budget.
 *
 *  Published values come from TensorFlow Privacy's accountant tests
 *  (tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py):
 *  compute_rdp(q=0.1, sigma=2, steps=10, order 5) = 0.07737; compute_rdp(q=0.01,
 *  sigma=2.5, steps=50, orders 1.5, 2.5, 5, 50, 100) = 0.00065, 0.001085, 0.00218075,
 *  0.023846, 167.416307; and test_check_composition (40000 steps at q=1e-4, sigma=0.4,
 *  then 100 at q=0.1, sigma=2, over their 21-order grid) = epsilon 8.509656 at delta 1e-5,
 *  best order 2.5, with the classic conversion eps = rdp + log(1/delta)/(alpha-1) that
 *  ml_dp uses. The no-subsampling case is exact: alpha / (2 sigma^2).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedsim.h"
#include "ml/ml_dp.h"
#include "ml/ml_sgd.h"
#include "testutil.h"

#define SEED 777u

static void test_rdp_values(void)
{
    double r;
    /* q = 1: the Gaussian mechanism, alpha / (2 sigma^2), exactly */
    const double al[] = {1.25, 1.5, 2, 2.5, 7, 32, 256};
    for (size_t i = 0; i < sizeof al / sizeof al[0]; i++) {
        CHECK_EQ(ml_dp_rdp(1.0, 1.7, al[i], &r), 0);
        CHECK(r == al[i] / (2.0 * 1.7 * 1.7));
    }
    CHECK_EQ(ml_dp_rdp(0.0, 1.0, 8, &r), 0);
    CHECK(r == 0.0);
    /* TF-Privacy's published values (see the file comment) */
    CHECK_EQ(ml_dp_rdp(0.1, 2.0, 5, &r), 0);
    printf("rdp(q 0.1, sigma 2, alpha 5) x 10 steps = %.6f (TF-Privacy 0.07737)\n", 10 * r);
    CHECK(fabs(10 * r - 0.07737) < 1e-5);
    const double orders[5] = {1.5, 2.5, 5, 50, 100};
    const double want[5] = {0.00065, 0.001085, 0.00218075, 0.023846, 167.416307};
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(ml_dp_rdp(0.01, 2.5, orders[i], &r), 0);
        printf("rdp(q 0.01, sigma 2.5, alpha %g) x 50 = %.8f (TF-Privacy %.8f)\n", orders[i],
               50 * r, want[i]);
        CHECK(fabs(50 * r - want[i]) < 1e-5 * (want[i] > 1 ? want[i] : 1));
    }
    /* composition of two mechanisms over TF-Privacy's grid */
    const double grid[21] = {1.25, 1.5, 1.75, 2.,  2.5, 3.,  4.,  5.,  6.,  7.,  8.,
                             10.,  12., 14.,  16., 20., 24., 28., 32., 64., 256.};
    double rdp[21];
    for (int i = 0; i < 21; i++) {
        double a, b;
        CHECK_EQ(ml_dp_rdp(1e-4, 0.4, grid[i], &a), 0);
        CHECK_EQ(ml_dp_rdp(0.1, 2.0, grid[i], &b), 0);
        rdp[i] = 40000 * a + 100 * b;
    }
    double eps, best;
    CHECK_EQ(ml_dp_eps_from_rdp(grid, rdp, 21, 1e-5, &eps, &best), 0);
    printf("composition: eps %.6f at order %g (TF-Privacy 8.509656 at 2.5)\n", eps, best);
    CHECK(fabs(eps - 8.509656) < 1e-4 && best == 2.5);
    /* refusals */
    CHECK_EQ(ml_dp_rdp(1.5, 1.0, 2, &r), ML_E_SPEC);
    CHECK_EQ(ml_dp_rdp(0.5, 0.0, 2, &r), ML_E_SPEC);
    CHECK_EQ(ml_dp_rdp(0.5, 1.0, 1.0, &r), ML_E_SPEC);
    CHECK_EQ(ml_dp_rdp(NAN, 1.0, 2, &r), ML_E_SPEC);
    CHECK_EQ(ml_dp_eps_from_rdp(grid, rdp, 21, 0.0, &eps, NULL), ML_E_SPEC);
    /* monotone: more steps cost more, more noise costs less */
    double e1, e2, e3;
    CHECK_EQ(ml_dp_eps(0.01, 1.0, 1000, 1e-5, &e1), 0);
    CHECK_EQ(ml_dp_eps(0.01, 1.0, 2000, 1e-5, &e2), 0);
    CHECK_EQ(ml_dp_eps(0.01, 1.5, 2000, 1e-5, &e3), 0);
    CHECK(e1 < e2 && e3 < e2);
}

static void test_sigma_search(void)
{
    const double targets[4] = {1, 2, 4, 8};
    for (int i = 0; i < 4; i++) {
        double sigma, e, e_less;
        CHECK_EQ(ml_dp_sigma_for(targets[i], 1e-5, 0.01, 5000, &sigma), 0);
        CHECK_EQ(ml_dp_eps(0.01, sigma, 5000, 1e-5, &e), 0);
        CHECK_EQ(ml_dp_eps(0.01, sigma * (1 - 1e-3), 5000, 1e-5, &e_less), 0);
        printf("sigma for eps %g (q 0.01, 5000 steps, delta 1e-5): %.4f -> eps %.4f\n", targets[i],
               sigma, e);
        CHECK(e <= targets[i] && e_less > targets[i]);
    }
    double s;
    CHECK_EQ(ml_dp_sigma_for(0.0, 1e-5, 0.01, 10, &s), ML_E_SPEC);
    CHECK_EQ(ml_dp_sigma_for(1.0, 1e-5, 0.0, 10, &s), ML_E_SPEC);
}

static void test_accountant(void)
{
    ml_dp_acct_t *a = ml_dp_acct_new(1e-5, 2.0);
    CHECK(a != NULL);
    CHECK(ml_dp_acct_eps(a) == 0.0);
    CHECK(ml_dp_acct_new(0.0, 1.0) == NULL && ml_dp_acct_new(1e-5, -1) == NULL);
    uint64_t steps = 0;
    int rc;
    double peek;
    while ((rc = ml_dp_acct_spend(a, 0.02, 1.1, 1)) == 0) {
        steps++;
        CHECK(ml_dp_acct_eps(a) <= 2.0);
    }
    CHECK_EQ(rc, ML_E_BUDGET);
    double spent = ml_dp_acct_eps(a);
    CHECK_EQ(ml_dp_acct_spend(a, 0.02, 1.1, 1), ML_E_BUDGET);
    CHECK(ml_dp_acct_eps(a) == spent); /* a refused step charges nothing */
    CHECK_EQ(ml_dp_acct_peek(a, 0.02, 1.1, 1, &peek), 0);
    CHECK(peek > 2.0 && spent <= 2.0);
    printf("accountant: %llu steps at q 0.02, sigma 1.1 fit eps 2 (spent %.4f)\n",
           (unsigned long long)steps, spent);
    double direct;
    CHECK_EQ(ml_dp_eps(0.02, 1.1, steps, 1e-5, &direct), 0);
    CHECK(fabs(direct - spent) < 1e-9);
    ml_dp_acct_destroy(&a);
    CHECK(a == NULL);
}

/* The per-example gradient against central finite differences of the loss, and one DP
 * step on one example moving the weights by exactly the clip norm. */
static void test_gradient_and_clipping(void)
{
    ml_dataset_t *d = fedsim_cohort(1, 6, SEED);
    double w[7] = {0.3, -0.2, 0.1, 0.5, -0.4, 0.2, 0.05}, g[7], gl[7], loss;
    ml_sgd_grad_one(ml_mat_row(d->x, 0), d->y[0], w, 6, g);
    ml_sgd_loss(d->x, d->y, w, 0.0, &loss, gl);
    for (int j = 0; j < 7; j++) {
        double wp[7], wm[7], lp, lm, h = 1e-6;
        memcpy(wp, w, sizeof w);
        memcpy(wm, w, sizeof w);
        wp[j] += h;
        wm[j] -= h;
        ml_sgd_loss(d->x, d->y, wp, 0.0, &lp, NULL);
        ml_sgd_loss(d->x, d->y, wm, 0.0, &lm, NULL);
        CHECK(fabs((lp - lm) / (2 * h) - g[j]) < 1e-6);
        CHECK(fabs(gl[j] - g[j]) < 1e-12);
    }
    double before[7];
    memcpy(before, w, sizeof w);
    ml_sgd_opts_t o = {.epochs = 1,
                       .batch = 1,
                       .lr = 1.0,
                       .dp = true,
                       .clip = 0.01,
                       .noise = 1e-4,
                       .sampling = ML_SGD_SAMPLE_POISSON};
    ml_dp_acct_t *a = ml_dp_acct_new(1e-5, 1e12);
    ml_sgd_rng_t r;
    ml_sgd_rng_init(&r, SEED, 0);
    CHECK_EQ(ml_sgd_train(d->x, d->y, w, &o, &r, a, NULL, 0), 0);
    double moved = 0.0;
    for (int j = 0; j < 7; j++)
        moved += (w[j] - before[j]) * (w[j] - before[j]);
    CHECK(fabs(sqrt(moved) - 0.01) < 2e-5);
    /* DP without an accountant, bad labels: refused */
    CHECK_EQ(ml_sgd_train(d->x, d->y, w, &o, &r, NULL, NULL, 0), ML_E_SPEC);
    d->y[0] = 0.5;
    CHECK_EQ(ml_sgd_train(d->x, d->y, w, &o, &r, a, NULL, 0), ML_E_SPEC);
    ml_dp_acct_destroy(&a);
    ml_sgd_rng_wipe(&r);
    ml_dataset_destroy(&d);

    /* fixed-size batches: trains, and is charged as Poisson at q = batch / n per step */
    d = fedsim_cohort(500, 6, SEED);
    ml_sgd_opts_t f = {.epochs = 2,
                       .batch = 50,
                       .lr = 0.5,
                       .dp = true,
                       .clip = 1.0,
                       .noise = 1.0,
                       .sampling = ML_SGD_SAMPLE_FIXED};
    double wf[7] = {0}, q, want;
    uint64_t steps = ml_sgd_steps(&f, 500, &q);
    CHECK(steps == 20 && q == 0.1);
    a = ml_dp_acct_new(1e-5, 100.0);
    ml_sgd_rng_init(&r, SEED, 1);
    CHECK_EQ(ml_sgd_train(d->x, d->y, wf, &f, &r, a, NULL, 0), 0);
    CHECK_EQ(ml_dp_eps(q, 1.0, steps, 1e-5, &want), 0);
    CHECK(fabs(ml_dp_acct_eps(a) - want) < 1e-12);
    printf("fixed-size DP-SGD: %llu steps at q %.2f, sigma 1: eps %.4f, train AUC %.4f\n",
           (unsigned long long)steps, q, ml_dp_acct_eps(a), fedsim_model_auc(d, wf));
    CHECK(fedsim_model_auc(d, wf) > 0.6);
    ml_dp_acct_destroy(&a);
    ml_dataset_destroy(&d);
}

/* Issue 14: the DP table, and the refusals at the budget. */
static void test_federated_dp(void)
{
    const size_t k = 4, n = 1600, p = 20;
    const uint32_t rounds = 8;
    const double delta = 1e-5;
    printf("federated DP-SGD: seed %u, 4 parties x 400, p %zu, %u rounds x 1 epoch, batch "
           "64 (Poisson), clip 1, delta %g\n",
           SEED, p, rounds, delta);
    ml_dataset_t *all = fedsim_cohort(n, p, SEED);
    ml_dataset_t *test = fedsim_cohort(2000, p, SEED + 1);
    int *owner = malloc(n * sizeof *owner);
    for (size_t i = 0; i < n; i++)
        owner[i] = (int)(i % k);
    ml_dataset_t *share[4];
    for (size_t j = 0; j < k; j++)
        share[j] = fedsim_share(all, owner, (int)j);
    ml_sgd_opts_t base = {.epochs = 1,
                          .batch = 64,
                          .lr = 0.5,
                          .l2 = 1e-4,
                          .dp = true,
                          .clip = 1.0,
                          .sampling = ML_SGD_SAMPLE_POISSON};
    double q;
    uint64_t steps = ml_sgd_steps(&base, share[0]->x->rows, &q) * rounds;
    const double eps_t[5] = {1, 2, 4, 8, 0};
    printf("  %8s %8s %10s %8s\n", "eps", "sigma", "spent", "AUC");
    for (int e = 0; e < 5; e++) {
        ml_sgd_opts_t o = base;
        double sigma = 0;
        if (eps_t[e] > 0)
            CHECK_EQ(ml_dp_sigma_for(eps_t[e], delta, q, steps, &sigma), 0);
        else
            o.dp = false; /* the reference row without DP */
        o.noise = sigma;
        ml_fed_party_t *parties[4];
        for (size_t j = 0; j < k; j++) {
            ml_fed_party_opts_t po = {.id = (uint32_t)j,
                                      .rounds = rounds,
                                      .sgd = o,
                                      .dp_delta = delta,
                                      .dp_eps_max = eps_t[e],
                                      .seed = SEED + (uint64_t)e};
            parties[j] = ml_fed_party_new(&po, share[j]->x, share[j]->y);
            CHECK(parties[j] != NULL);
        }
        ml_fed_spec_t spec = {.parties = 4,
                              .rounds = rounds,
                              .dim = p + 1,
                              .rule = {ML_ROBUST_MEAN, 0, 0},
                              .round_timeout = 50,
                              .max_retries = 3};
        ml_fed_coord_t *c = ml_fed_coord_new(&spec);
        fedsim_net_t net = {.loss = 0.05, .dup = 0.05, .max_lag = 8, .seed = SEED};
        CHECK_EQ(fedsim_run(c, parties, k, &net, NULL, NULL), 0);
        double spent = 0;
        for (size_t j = 0; j < k; j++) {
            double pe = ml_fed_party_eps(parties[j]);
            spent = pe > spent ? pe : spent;
            if (eps_t[e] > 0)
                CHECK(pe <= eps_t[e] && pe > 0.9 * eps_t[e]);
        }
        double auc = fedsim_model_auc(test, ml_fed_coord_weights(c));
        if (eps_t[e] > 0)
            printf("  %8g %8.4f %10.4f %8.4f\n", eps_t[e], sigma, spent, auc);
        else
            printf("  %8s %8s %10s %8.4f\n", "no DP", "-", "-", auc);
        CHECK(auc > 0.6);
        ml_fed_coord_destroy(&c);
        for (size_t j = 0; j < k; j++)
            ml_fed_party_destroy(&parties[j]);
    }

    /* a plan past the smallest consent is refused before training */
    ml_sgd_opts_t o = base;
    CHECK_EQ(ml_dp_sigma_for(2.0, delta, q, steps, &o.noise), 0);
    ml_fed_party_opts_t po = {
        .id = 0, .rounds = rounds, .sgd = o, .dp_delta = delta, .dp_eps_max = 1.0, .seed = 1};
    double planned;
    char err[160] = "";
    CHECK_EQ(ml_fed_party_check(&po, share[0]->x->rows, &planned, err, sizeof err), ML_E_BUDGET);
    printf("  refused: %s\n", err);
    CHECK(planned > 1.0 && planned <= 2.0);
    CHECK(ml_fed_party_new(&po, share[0]->x, share[0]->y) == NULL);
    /* a party whose plan fits but whose coordinator asks for more rounds stops at the
     * budget: round 2 is refused whole, nothing sent, nothing spent */
    po.rounds = 1;
    double eps1;
    CHECK_EQ(ml_dp_eps(q, o.noise, steps / rounds, delta, &eps1), 0);
    po.dp_eps_max = eps1 * 1.2;
    ml_fed_party_t *pt = ml_fed_party_new(&po, share[0]->x, share[0]->y);
    CHECK(pt != NULL);
    double g[21] = {0};
    for (uint32_t round = 1; round <= 2; round++) {
        ml_fed_msg_t m = {.kind = ML_FED_GLOBAL, .round = round, .party = 0, .dim = 21, .w = g};
        uint8_t *b, *out = NULL;
        size_t len, ol;
        CHECK_EQ(ml_fed_msg_encode(&m, &b, &len), 0);
        int rc = ml_fed_party_step(pt, b, len, &out, &ol, err, sizeof err);
        CHECK(round == 1 ? (rc == 0 && out != NULL) : (rc == ML_E_BUDGET && out == NULL));
        free(out);
        free(b);
    }
    printf("  round 2 refused: %s (spent %.4f of %.4f)\n", err, ml_fed_party_eps(pt),
           po.dp_eps_max);
    CHECK(fabs(ml_fed_party_eps(pt) - eps1) < 1e-9);
    ml_fed_party_destroy(&pt);

    for (size_t j = 0; j < k; j++)
        ml_dataset_destroy(&share[j]);
    free(owner);
    ml_dataset_destroy(&all);
    ml_dataset_destroy(&test);
}

int main(void)
{
    printf("test_ml_dp: seed %u\n", SEED);
    test_rdp_values();
    test_sigma_search();
    test_accountant();
    test_gradient_and_clipping();
    test_federated_dp();
    return testutil_done("test_ml_dp");
}
