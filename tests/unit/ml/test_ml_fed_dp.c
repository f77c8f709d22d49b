/*  test_ml_fed_dp: the differentially private aggregation of ml_fed (party-level DP at the
 *  aggregation enclave): the L2 sensitivity of each rule (ml_robust_sensitivity) holds
 *  against random and adversarial replacements of one party's update, however large its
 *  norm (clipping bounds a party's influence by the sensitivity); the noise is there (two
 *  seeds give different aggregates, one seed replays) and its empirical std over many
 *  draws matches z * sens; the accountant refuses a plan over budget up front, the
 *  coordinator spends within it, and the planner's z meets it; and a federated training
 *  with a poisoned party (labels flipped, most of the records) under the coordinate-wise
 *  median still reaches the clean parties' accuracy WITH the aggregation's noise at the
 *  default settings (ML_FED_AGG_CLIP_DEFAULT, ML_FED_AGG_EPS_DEFAULT). Seeds are printed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedsim.h"
#include "ml/ml_fed.h"
#include "testutil.h"

#define DIM 6
#define M_MAX 9

static const ml_robust_rule_t s_rules[] = {{ML_ROBUST_MEAN, 0, 0},
                                           {ML_ROBUST_MEDIAN, 0, 0},
                                           {ML_ROBUST_TRIMMED_MEAN, 0.2, 0},
                                           {ML_ROBUST_KRUM, 1, 0},
                                           {ML_ROBUST_MULTI_KRUM, 1, 0}};
#define N_RULES (sizeof s_rules / sizeof s_rules[0])

static double s_dist(const double *a, const double *b, size_t dim)
{
    double s = 0;
    for (size_t j = 0; j < dim; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return sqrt(s);
}

static void test_sensitivity_values(void)
{
    double s = -1;
    ml_robust_rule_t mean = {ML_ROBUST_MEAN, 0, 0}, med = {ML_ROBUST_MEDIAN, 0, 0},
                     tm = {ML_ROBUST_TRIMMED_MEAN, 0.2, 0}, krum = {ML_ROBUST_KRUM, 1, 0};
    CHECK(ml_robust_sensitivity(&mean, 4, 1.5, &s) == 0 && fabs(s - 0.75) < 1e-12);
    CHECK(ml_robust_sensitivity(&med, 3, 1.5, &s) == 0 && fabs(s - 3.0) < 1e-12);
    CHECK(ml_robust_sensitivity(&med, 4, 1.5, &s) == 0 && fabs(s - 1.5) < 1e-12);
    /* beta 0.2 of 10: 2 dropped at each end, 6 averaged */
    CHECK(ml_robust_sensitivity(&tm, 10, 1.5, &s) == 0 && fabs(s - 0.5) < 1e-12);
    CHECK(ml_robust_sensitivity(&krum, 5, 1.5, &s) == 0 && fabs(s - 3.0) < 1e-12);
    CHECK_EQ(ml_robust_sensitivity(&krum, 4, 1.5, &s), ML_E_SPEC); /* Krum f=1 needs 5 */
    CHECK_EQ(ml_robust_sensitivity(&mean, 4, 0.0, &s), ML_E_SPEC);
    CHECK_EQ(ml_robust_sensitivity(&mean, 4, INFINITY, &s), ML_E_SPEC);
    CHECK_EQ(ml_robust_sensitivity(&mean, 0, 1.0, &s), ML_E_SPEC);
}

/* Random vector of norm about SCALE into V. */
static void s_rand_vec(ml_sgd_rng_t *r, double scale, double *v, size_t dim)
{
    for (size_t j = 0; j < dim; j++)
        v[j] = scale * ml_sgd_rng_gauss(r);
}

/* For every rule: M parties' updates around GLOBAL, one replaced by random, huge,
   overflowing or adversarial (the opposite of its clipped self) updates; without noise the
   aggregate moves by at most the sensitivity. Reports the largest ratio seen. */
static void test_clipping_bounds_influence(uint64_t seed)
{
    ml_sgd_rng_t r;
    ml_sgd_rng_init(&r, seed, 1);
    const double clip = 0.5;
    double up[M_MAX][DIM], alt[DIM], g[DIM], a[DIM], b[DIM];
    for (size_t ri = 0; ri < N_RULES; ri++) {
        const ml_robust_rule_t *rule = &s_rules[ri];
        double worst = 0;
        for (int trial = 0; trial < 300; trial++) {
            size_t m = 5 + (size_t)ml_sgd_rng_below(&r, M_MAX - 4);
            s_rand_vec(&r, 1.0, g, DIM);
            for (size_t i = 0; i < m; i++) {
                s_rand_vec(&r, trial % 2 ? 0.1 : 2.0, up[i], DIM); /* inside / outside clip */
                for (size_t j = 0; j < DIM; j++)
                    up[i][j] += g[j];
            }
            const double *v[M_MAX];
            for (size_t i = 0; i < m; i++)
                v[i] = up[i];
            double sens = 0;
            REQUIRE(ml_fed_agg_dp(rule, g, v, m, DIM, clip, 0.0, NULL, a, &sens, NULL, 0) == 0);
            size_t who = (size_t)ml_sgd_rng_below(&r, m);
            switch (trial % 4) {
            case 0: /* huge norm */
                s_rand_vec(&r, 1e200, alt, DIM);
                break;
            case 1: /* overflows when the global weights are subtracted */
                for (size_t j = 0; j < DIM; j++)
                    alt[j] = j % 2 ? 1.7e308 : -1.7e308;
                break;
            case 2: /* the opposite of its own delta, far out */
                for (size_t j = 0; j < DIM; j++)
                    alt[j] = g[j] - 1e6 * (up[who][j] - g[j]);
                break;
            default:
                s_rand_vec(&r, 3.0, alt, DIM);
                for (size_t j = 0; j < DIM; j++)
                    alt[j] += g[j];
            }
            v[who] = alt;
            REQUIRE(ml_fed_agg_dp(rule, g, v, m, DIM, clip, 0.0, NULL, b, NULL, NULL, 0) == 0);
            for (size_t j = 0; j < DIM; j++)
                CHECK(isfinite(b[j]));
            double moved = s_dist(a, b, DIM);
            CHECK(moved <= sens * (1 + 1e-9) + 1e-12);
            worst = fmax(worst, moved / sens);
        }
        printf("  %s: one party replaced moves the aggregate by at most %.3f of sens\n",
               ml_robust_kind_str(rule->kind), worst);
    }
    /* the mean's bound 2S/m is reached: two opposite updates at the clip norm */
    ml_robust_rule_t mean = {ML_ROBUST_MEAN, 0, 0};
    double zero[2] = {0, 0}, p1[2] = {5, 0}, p2[2] = {-5, 0}, o1[2], o2[2], sens = 0;
    const double *v[2] = {p1, zero};
    REQUIRE(ml_fed_agg_dp(&mean, zero, v, 2, 2, 1.0, 0.0, NULL, o1, &sens, NULL, 0) == 0);
    v[0] = p2;
    REQUIRE(ml_fed_agg_dp(&mean, zero, v, 2, 2, 1.0, 0.0, NULL, o2, NULL, NULL, 0) == 0);
    CHECK(fabs(s_dist(o1, o2, 2) - sens) < 1e-12 && fabs(sens - 1.0) < 1e-12);
}

/* The noise: M identical updates (their clipped aggregate is exactly their delta), so
   OUT - (GLOBAL + delta) is the noise alone. */
static void test_noise_statistics(uint64_t seed)
{
    enum { D = 20000, M = 3 };
    const double z = 0.7, clip = 0.25;
    double *g = calloc(D, sizeof *g), *u = calloc(D, sizeof *u), *o1 = calloc(D, sizeof *o1),
           *o2 = calloc(D, sizeof *o2), *o3 = calloc(D, sizeof *o3);
    REQUIRE(g && u && o1 && o2 && o3);
    for (size_t j = 0; j < D; j++) {
        g[j] = (double)(j % 7) - 3;
        u[j] = g[j] + (j == 0 ? 0.1 : 0.0); /* delta of norm 0.1, inside the clip */
    }
    const double *v[M] = {u, u, u};
    for (size_t ri = 0; ri < 3; ri++) { /* mean, median, trimmed mean */
        const ml_robust_rule_t *rule = &s_rules[ri];
        ml_sgd_rng_t r1, r2, r3;
        ml_sgd_rng_init(&r1, seed, 5);
        ml_sgd_rng_init(&r2, seed + 1, 5);
        ml_sgd_rng_init(&r3, seed, 5);
        double sens = 0;
        REQUIRE(ml_fed_agg_dp(rule, g, v, M, D, clip, z, &r1, o1, &sens, NULL, 0) == 0);
        REQUIRE(ml_fed_agg_dp(rule, g, v, M, D, clip, z, &r2, o2, NULL, NULL, 0) == 0);
        REQUIRE(ml_fed_agg_dp(rule, g, v, M, D, clip, z, &r3, o3, NULL, NULL, 0) == 0);
        double s1 = 0, s2 = 0, diff = 0;
        for (size_t j = 0; j < D; j++) {
            double e = o1[j] - u[j];
            s1 += e;
            s2 += e * e;
            diff = fmax(diff, fabs(o1[j] - o2[j]));
        }
        double mean = s1 / D, sd = sqrt(s2 / D - mean * mean), want = z * sens;
        printf("  %s: sens %.4f, noise std %.5f (z * sens %.5f), mean %.5f over %d draws\n",
               ml_robust_kind_str(rule->kind), sens, sd, want, mean, D);
        /* the std of a sample std of 20000 normals is about 0.5 %: 3 % is > 5 sigma */
        CHECK(fabs(sd / want - 1) < 0.03);
        CHECK(fabs(mean) < 5 * want / sqrt(D));
        CHECK(diff > 0.1 * want);                   /* another seed, another aggregate */
        CHECK(memcmp(o1, o3, D * sizeof *o1) == 0); /* the same seed replays */
    }
    /* without noise the aggregate is the exact clipped delta */
    ml_robust_rule_t mean = {ML_ROBUST_MEAN, 0, 0};
    REQUIRE(ml_fed_agg_dp(&mean, g, v, M, D, clip, 0.0, NULL, o1, NULL, NULL, 0) == 0);
    CHECK(memcmp(o1, u, D * sizeof *o1) == 0);
    free(g);
    free(u);
    free(o1);
    free(o2);
    free(o3);
}

static void test_accountant(void)
{
    const double delta = 1e-5, eps = 5.0;
    const uint32_t rounds = 10;
    double z = 0;
    REQUIRE(ml_fed_agg_noise_for(eps, delta, rounds, &z) == 0);
    double e = 0;
    REQUIRE(ml_fed_agg_eps(z, rounds, delta, &e) == 0);
    printf("  planner: %u rounds within epsilon %.1f at delta %g: z = %.4f (spends %.4f)\n", rounds,
           eps, delta, z, e);
    CHECK(e <= eps && e > 0.99 * eps);
    CHECK_EQ(ml_fed_agg_noise_for(eps, delta, 0, &z), ML_E_SPEC);
    REQUIRE(ml_fed_agg_noise_for(eps, delta, rounds, &z) == 0);
    ml_fed_spec_t spec = {.parties = 3,
                          .rounds = rounds,
                          .dim = 2,
                          .rule = {ML_ROBUST_MEDIAN, 0, 0},
                          .round_timeout = 10,
                          .clip = 1.0,
                          .noise = z,
                          .dp_delta = delta,
                          .dp_eps_max = eps,
                          .seed = 1};
    char err[200] = "";
    CHECK_EQ(ml_fed_spec_check(&spec, err, sizeof err), 0);
    /* over budget: less noise, or more rounds at the same noise */
    ml_fed_spec_t bad = spec;
    bad.noise = 0.9 * z;
    CHECK_EQ(ml_fed_spec_check(&bad, err, sizeof err), ML_E_BUDGET);
    printf("  refused: %s\n", err);
    CHECK(ml_fed_coord_new(&bad) == NULL);
    bad = spec;
    bad.rounds = rounds + 2;
    CHECK_EQ(ml_fed_spec_check(&bad, NULL, 0), ML_E_BUDGET);
    /* noise without a clip norm, a delta or a budget */
    bad = spec;
    bad.clip = 0;
    CHECK_EQ(ml_fed_spec_check(&bad, NULL, 0), ML_E_SPEC);
    bad = spec;
    bad.dp_delta = 0;
    CHECK_EQ(ml_fed_spec_check(&bad, NULL, 0), ML_E_SPEC);
    bad = spec;
    bad.dp_eps_max = 0;
    CHECK_EQ(ml_fed_spec_check(&bad, NULL, 0), ML_E_SPEC);
    bad = spec;
    bad.noise = NAN;
    CHECK_EQ(ml_fed_spec_check(&bad, NULL, 0), ML_E_SPEC);

    /* the coordinator charges each closed round: after all of them it spent e <= eps */
    ml_fed_coord_t *c = ml_fed_coord_new(&spec);
    REQUIRE(c != NULL);
    REQUIRE(ml_fed_coord_start(c, 0) == 0);
    CHECK(ml_fed_coord_eps(c) == 0);
    double w[2] = {0.3, -0.2};
    for (uint32_t rd = 1; rd <= rounds; rd++)
        for (uint32_t p = 0; p < 3; p++) {
            ml_fed_msg_t m = {
                .kind = ML_FED_UPDATE, .round = rd, .party = p, .n = 10, .dim = 2, .w = w};
            uint8_t *b = NULL;
            size_t len = 0;
            REQUIRE(ml_fed_msg_encode(&m, &b, &len) == 0);
            ml_fed_event_t ev;
            CHECK_EQ(ml_fed_coord_input(c, b, len, rd, &ev), 0);
            free(b);
        }
    CHECK(ml_fed_coord_done(c));
    CHECK(fabs(ml_fed_coord_eps(c) - e) < 1e-9);
    CHECK(fabs(ml_fed_coord_noise_std(c) - z * 2.0) < 1e-12); /* median of 3: 2S */
    printf("  coordinator: %u rounds spent party-level epsilon %.4f, noise std %.4f\n", rounds,
           ml_fed_coord_eps(c), ml_fed_coord_noise_std(c));
    ml_fed_coord_destroy(&c);
}

/* The sensitivity follows the parties that answered: the mean over 4 parties with quorum 3
   closes a round at its deadline with 3 updates, and the noise std is z * 2S / 3. */
static void test_noise_follows_answers(void)
{
    ml_fed_spec_t spec = {.parties = 4,
                          .rounds = 2,
                          .dim = 3,
                          .rule = {ML_ROBUST_MEAN, 0, 0},
                          .quorum = 3,
                          .round_timeout = 10,
                          .max_retries = 1,
                          .clip = 0.5,
                          .noise = 2.0,
                          .dp_delta = 1e-5,
                          .dp_eps_max = 50,
                          .seed = 3};
    ml_fed_coord_t *c = ml_fed_coord_new(&spec);
    REQUIRE(c != NULL);
    REQUIRE(ml_fed_coord_start(c, 0) == 0);
    double w[3] = {1, 2, 3};
    ml_fed_event_t ev = ML_FED_EV_NONE;
    for (uint32_t p = 0; p < 3; p++) {
        ml_fed_msg_t m = {.kind = ML_FED_UPDATE, .round = 1, .party = p, .n = 5, .dim = 3, .w = w};
        uint8_t *b = NULL;
        size_t len = 0;
        REQUIRE(ml_fed_msg_encode(&m, &b, &len) == 0);
        CHECK_EQ(ml_fed_coord_input(c, b, len, 1, &ev), 0);
        free(b);
    }
    CHECK(ev == ML_FED_EV_NONE && ml_fed_coord_noise_std(c) == 0);
    CHECK_EQ(ml_fed_coord_tick(c, 10, &ev), 0);
    CHECK(ev == ML_FED_EV_ROUND);
    CHECK(fabs(ml_fed_coord_noise_std(c) - 2.0 * 2 * 0.5 / 3) < 1e-12);
    double e1 = 0;
    REQUIRE(ml_fed_agg_eps(2.0, 1, 1e-5, &e1) == 0);
    CHECK(fabs(ml_fed_coord_eps(c) - e1) < 1e-9);
    /* the weights moved by clipped delta + noise: finite, not the raw update */
    const double *g = ml_fed_coord_weights(c);
    CHECK(isfinite(g[0]) && isfinite(g[1]) && isfinite(g[2]) && g[0] != 1.0);
    ml_fed_coord_destroy(&c);
}

/* N people like those of test_enclave_fed, standardised: 4 features, logit 1.0 x0 + 0.7 x1
   + 1.5 x2 + 0.65 x3. */
static ml_dataset_t *s_cohort(size_t n, uint64_t seed)
{
    static const double beta[4] = {1.0, 0.7, 1.5, 0.65};
    ml_dataset_t *d = ml_dataset_new(n, 4);
    REQUIRE(d != NULL);
    ml_sgd_rng_t r;
    ml_sgd_rng_init(&r, seed, 2);
    for (size_t i = 0; i < n; i++) {
        double *x = ml_mat_row(d->x, i), z = 0;
        for (size_t j = 0; j < 4; j++) {
            x[j] = ml_sgd_rng_gauss(&r);
            z += beta[j] * x[j];
        }
        d->y[i] = ml_sgd_rng_uniform(&r) < ml_sgd_sigmoid(z) ? 1.0 : 0.0;
    }
    return d;
}

/* Flips party 2's labels (it holds most of the records). */
static void s_flip(ml_dataset_t *d)
{
    for (size_t i = 0; i < d->x->rows; i++)
        d->y[i] = 1.0 - d->y[i];
}

/* Accuracy of weights W (p + 1) on D. */
static double s_acc(const ml_dataset_t *d, const double *w)
{
    size_t p = d->x->cols, ok = 0;
    for (size_t i = 0; i < d->x->rows; i++) {
        const double *x = ml_mat_row(d->x, i);
        double z = w[p];
        for (size_t j = 0; j < p; j++)
            z += w[j] * x[j];
        ok += (z > 0) == (d->y[i] > 0.5);
    }
    return (double)ok / (double)d->x->rows;
}

/* One federated training of 3 parties (party 2 poisoned when POISON), RULE, the
   aggregation's DP at CLIP and EPS (0: none) over ROUNDS; the final model's accuracy on
   TEST into *ACC. Returns the coordinator's error. */
static int s_train(uint64_t seed, const ml_dataset_t *const sh[3], const ml_dataset_t *test,
                   ml_robust_kind_t rule, double clip, double eps, uint32_t rounds, double *acc,
                   double *spent)
{
    size_t p = test->x->cols;
    ml_sgd_opts_t sgd = {.epochs = 2, .batch = 16, .lr = 0.1, .l2 = 0.001};
    ml_fed_party_t *parties[3];
    for (uint32_t j = 0; j < 3; j++) {
        ml_fed_party_opts_t po = {.id = j, .rounds = rounds, .sgd = sgd, .seed = seed};
        parties[j] = ml_fed_party_new(&po, sh[j]->x, sh[j]->y);
        REQUIRE(parties[j] != NULL);
    }
    ml_fed_spec_t spec = {.parties = 3,
                          .rounds = rounds,
                          .dim = p + 1,
                          .rule = {rule, 0, 0},
                          .round_timeout = 40,
                          .max_retries = 3,
                          .clip = clip,
                          .dp_delta = 1e-5,
                          .dp_eps_max = eps,
                          .seed = seed ^ 0xabcdef};
    if (eps > 0)
        REQUIRE(ml_fed_agg_noise_for(eps, 1e-5, rounds, &spec.noise) == 0);
    ml_fed_coord_t *c = ml_fed_coord_new(&spec);
    REQUIRE(c != NULL);
    fedsim_net_t net = {.seed = seed};
    int rc = fedsim_run(c, parties, 3, &net, NULL, NULL);
    *acc = rc == 0 ? s_acc(test, ml_fed_coord_weights(c)) : 0;
    *spent = ml_fed_coord_eps(c);
    ml_fed_coord_destroy(&c);
    for (int j = 0; j < 3; j++)
        ml_fed_party_destroy(&parties[j]);
    return rc;
}

static void test_poisoned_with_noise(uint64_t seed)
{
    const uint32_t rounds = 10;
    ml_dataset_t *sh[3] = {s_cohort(112, seed), s_cohort(112, seed + 1), s_cohort(300, seed + 2)};
    ml_dataset_t *test = s_cohort(4000, seed + 3);
    REQUIRE(sh[0] && sh[1] && sh[2] && test);
    s_flip(sh[2]);
    const ml_dataset_t *const csh[3] = {sh[0], sh[1], sh[2]};
    double ref = 0, acc = 0, acc_mean = 0, spent = 0, none = 0;
    /* the reference: the median without the aggregation's DP */
    REQUIRE(s_train(seed, csh, test, ML_ROBUST_MEDIAN, 0, 0, rounds, &ref, &none) == 0);
    /* the cost of a meaningful party-level epsilon with 3 parties (printed), then the
       default (checked), each over 5 noise seeds */
    const double eps_list[] = {10.0, 100.0, ML_FED_AGG_EPS_DEFAULT};
    const double clip = ML_FED_AGG_CLIP_DEFAULT;
    const int reps = 5;
    double sum = 0, lo = 1;
    for (size_t e = 0; e < 3; e++) {
        sum = 0;
        lo = 1;
        for (int rep = 0; rep < reps; rep++) {
            REQUIRE(s_train(seed + 100 + (uint64_t)rep, csh, test, ML_ROBUST_MEDIAN, clip,
                            eps_list[e], rounds, &acc, &spent) == 0);
            CHECK(spent > 0.99 * eps_list[e] && spent <= eps_list[e]);
            sum += acc;
            lo = fmin(lo, acc);
        }
        printf("  poisoned party, median, clip %.2f, party-level epsilon %.0f over %u rounds: "
               "accuracy mean %.4f, lowest %.4f over %d seeds\n",
               clip, eps_list[e], rounds, sum / reps, lo, reps);
    }
    REQUIRE(s_train(seed, csh, test, ML_ROBUST_MEAN, 0, 0, rounds, &acc_mean, &none) == 0);
    printf("  poisoned party without the aggregation's DP: median %.4f, sample-weighted mean "
           "%.4f\n",
           ref, acc_mean);
    CHECK(lo >= ref - 0.05);
    CHECK(acc_mean < ref - 0.05);
    for (int j = 0; j < 3; j++)
        ml_dataset_destroy(&sh[j]);
    ml_dataset_destroy(&test);
}

int main(void)
{
    uint64_t seed = testutil_seed("test_ml_fed_dp");
    test_sensitivity_values();
    test_clipping_bounds_influence(seed);
    test_noise_statistics(seed);
    test_accountant();
    test_noise_follows_answers();
    test_poisoned_with_noise(seed);
    return testutil_done("test_ml_fed_dp");
}
