/*  test_ml_robust: the aggregation rules on small cases worked by hand, their refusals,
 *  and the done-when check of issue 14: with 1 of 5 federated parties poisoned, median
 *  and Krum keep the held-out AUC within 0.02 of the clean run while plain averaging
 *  degrades. Three attacks are run and printed: labels flipped, honest updates scaled
 *  x10, and both at once (flipped labels with the update boosted x10: the attack that
 *  moves a plain average furthest). Seeds are printed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedsim.h"
#include "ml/ml_robust.h"
#include "testutil.h"

#define SEED 4242u

static int s_agg(ml_robust_kind_t kind, double param, size_t m, const double *vals, const double *w,
                 size_t k, double *out, uint8_t *sel)
{
    const double *v[16];
    for (size_t i = 0; i < k; i++)
        v[i] = &vals[i];
    ml_robust_rule_t r = {kind, param, m};
    return ml_robust_aggregate(&r, v, w, k, 1, out, sel, NULL, 0);
}

static void test_rules(void)
{
    const double ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    double out;
    uint8_t sel[8];
    /* weighted mean */
    double a[3] = {1, 2, 4}, wa[3] = {1, 1, 2};
    CHECK_EQ(s_agg(ML_ROBUST_MEAN, 0, 0, a, wa, 3, &out, sel), 0);
    CHECK(fabs(out - 11.0 / 4) < 1e-12);
    /* median: odd, even (mean of the middle two); weights do not matter */
    double b[5] = {9, -3, 100, 2, 4};
    CHECK_EQ(s_agg(ML_ROBUST_MEDIAN, 0, 0, b, ones, 5, &out, sel), 0);
    CHECK(out == 4.0);
    CHECK_EQ(s_agg(ML_ROBUST_MEDIAN, 0, 0, b, ones, 4, &out, sel), 0);
    CHECK(out == 5.5);
    /* trimmed mean: beta 0.2 of 5 drops one each side: mean of 2, 4, 9 */
    CHECK_EQ(s_agg(ML_ROBUST_TRIMMED_MEAN, 0.2, 0, b, ones, 5, &out, sel), 0);
    CHECK(fabs(out - 5.0) < 1e-12);
    /* beta 0.19 of 5 drops none */
    CHECK_EQ(s_agg(ML_ROBUST_TRIMMED_MEAN, 0.19, 0, b, ones, 5, &out, sel), 0);
    CHECK(fabs(out - 112.0 / 5) < 1e-12);
    /* Krum, f = 1, on {0, 1, 2, 3, 100}: scores over 2 nearest: 5, 2, 2, 5, huge -> 1 */
    double c[5] = {0, 1, 2, 3, 100};
    CHECK_EQ(s_agg(ML_ROBUST_KRUM, 1, 0, c, ones, 5, &out, sel), 0);
    CHECK(out == 1.0);
    CHECK(sel[1] == 1 && sel[0] + sel[2] + sel[3] + sel[4] == 0);
    /* multi-Krum m = 3 picks 1, then 2, then 0 (see ml_robust.h: rescored after each) */
    CHECK_EQ(s_agg(ML_ROBUST_MULTI_KRUM, 1, 3, c, ones, 5, &out, sel), 0);
    CHECK(fabs(out - 1.0) < 1e-12);
    CHECK(sel[0] && sel[1] && sel[2] && !sel[3] && !sel[4]);
    /* m = 0: K - f = 4, the outlier still out; picks weighted by sample count */
    double wc[5] = {1, 1, 1, 3, 1};
    CHECK_EQ(s_agg(ML_ROBUST_MULTI_KRUM, 1, 0, c, wc, 5, &out, sel), 0);
    CHECK(fabs(out - (0 + 1 + 2 + 9) / 6.0) < 1e-12 && !sel[4]);
    /* refusals */
    CHECK_EQ(s_agg(ML_ROBUST_TRIMMED_MEAN, 0.5, 0, b, ones, 5, &out, sel), ML_E_SPEC);
    CHECK_EQ(s_agg(ML_ROBUST_KRUM, 2, 0, c, ones, 5, &out, sel), ML_E_SPEC); /* needs 7 */
    CHECK_EQ(s_agg(ML_ROBUST_KRUM, 0.5, 0, c, ones, 5, &out, sel), ML_E_SPEC);
    CHECK_EQ(s_agg(ML_ROBUST_MULTI_KRUM, 1, 5, c, ones, 5, &out, sel), ML_E_SPEC);
    double wz[3] = {1, 0, 1};
    CHECK_EQ(s_agg(ML_ROBUST_MEAN, 0, 0, a, wz, 3, &out, sel), ML_E_SPEC);
    CHECK_EQ(s_agg(ML_ROBUST_MEAN, 0, 0, a, ones, 0, &out, sel), ML_E_SPEC);
    ml_robust_rule_t bad = {(ml_robust_kind_t)9, 0, 0};
    char err[96] = "";
    CHECK_EQ(ml_robust_check(&bad, 3, err, sizeof err), ML_E_SPEC);
    CHECK(strstr(err, "unknown") != NULL);
    /* names */
    ml_robust_kind_t kd;
    CHECK(ml_robust_kind_parse("multi-krum", &kd) == 0 && kd == ML_ROBUST_MULTI_KRUM);
    CHECK(ml_robust_kind_parse("average", &kd) == ML_E_SPEC);
    /* several coordinates: median per coordinate */
    double v0[2] = {1, 10}, v1[2] = {2, 30}, v2[2] = {3, 20}, o2[2];
    const double *vv[3] = {v0, v1, v2};
    ml_robust_rule_t med = {ML_ROBUST_MEDIAN, 0, 0};
    CHECK_EQ(ml_robust_aggregate(&med, vv, ones, 3, 2, o2, NULL, NULL, 0), 0);
    CHECK(o2[0] == 2.0 && o2[1] == 20.0);
}

typedef enum { ATTACK_NONE, ATTACK_FLIP, ATTACK_SCALE, ATTACK_FLIP_SCALE } attack_t;
static const char *const s_attack_name[] = {"none", "labels flipped", "update x10",
                                            "flipped + x10"};

/* Replaces party 4's update u by g + 10 (u - g). */
static void s_boost(void *ctx, uint32_t party, const ml_fed_msg_t *g, uint8_t **buf, size_t *len)
{
    (void)ctx;
    if (party != 4)
        return;
    ml_fed_msg_t u;
    if (ml_fed_msg_decode(*buf, *len, ML_FED_DIM_MAX, &u) != 0 || u.dim != g->dim) {
        ml_fed_msg_clear(&u);
        return;
    }
    for (size_t j = 0; j < u.dim; j++)
        u.w[j] = g->w[j] + 10.0 * (u.w[j] - g->w[j]);
    uint8_t *nb;
    size_t nl;
    if (ml_fed_msg_encode(&u, &nb, &nl) == 0) {
        free(*buf);
        *buf = nb;
        *len = nl;
    }
    ml_fed_msg_clear(&u);
}

typedef struct {
    ml_dataset_t *share[5];
    ml_dataset_t *flipped; /* party 4's share with labels flipped */
    ml_dataset_t *test;
    uint64_t seed;
} world_t;

static double s_run(const world_t *wd, ml_robust_rule_t rule, attack_t attack)
{
    const size_t k = 5, p = wd->test->x->cols;
    const uint32_t rounds = 20;
    ml_fed_party_t *parties[5];
    ml_sgd_opts_t sgd = {.epochs = 1, .batch = 32, .lr = 0.05, .l2 = 1e-4};
    for (size_t j = 0; j < k; j++) {
        const ml_dataset_t *d = wd->share[j];
        if (j == 4 && (attack == ATTACK_FLIP || attack == ATTACK_FLIP_SCALE))
            d = wd->flipped;
        ml_fed_party_opts_t po = {
            .id = (uint32_t)j, .rounds = rounds, .sgd = sgd, .seed = wd->seed};
        parties[j] = ml_fed_party_new(&po, d->x, d->y);
    }
    ml_fed_spec_t spec = {.parties = 5,
                          .rounds = rounds,
                          .dim = p + 1,
                          .rule = rule,
                          .quorum = 5,
                          .round_timeout = 50,
                          .max_retries = 3};
    ml_fed_coord_t *c = ml_fed_coord_new(&spec);
    CHECK(c != NULL);
    fedsim_net_t net = {.loss = 0, .dup = 0.05, .max_lag = 8, .seed = wd->seed};
    bool boost = attack == ATTACK_SCALE || attack == ATTACK_FLIP_SCALE;
    double auc = NAN;
    if (c && fedsim_run(c, parties, k, &net, boost ? s_boost : NULL, NULL) == 0)
        auc = fedsim_model_auc(wd->test, ml_fed_coord_weights(c));
    ml_fed_coord_destroy(&c);
    for (size_t j = 0; j < k; j++)
        ml_fed_party_destroy(&parties[j]);
    return auc;
}

static void test_poisoning(void)
{
    world_t wd = {.seed = SEED};
    const size_t n = 5000, p = 20;
    printf("poisoning: seed %llu, 5 parties x 1000 samples, p %zu, 2000 held out, 20 rounds\n",
           (unsigned long long)wd.seed, p);
    ml_dataset_t *all = fedsim_cohort(n, p, wd.seed);
    wd.test = fedsim_cohort(2000, p, wd.seed + 1);
    int *owner = malloc(n * sizeof *owner);
    for (size_t i = 0; i < n; i++)
        owner[i] = (int)(i % 5);
    for (int j = 0; j < 5; j++)
        wd.share[j] = fedsim_share(all, owner, j);
    wd.flipped = fedsim_share(all, owner, 4);
    for (size_t i = 0; i < wd.flipped->x->rows; i++)
        wd.flipped->y[i] = 1.0 - wd.flipped->y[i];

    ml_robust_rule_t mean = {ML_ROBUST_MEAN, 0, 0};
    double clean = s_run(&wd, mean, ATTACK_NONE);
    printf("  clean run (mean): AUC %.4f\n", clean);
    CHECK(clean > 0.7);
    const ml_robust_rule_t rules[5] = {{ML_ROBUST_MEAN, 0, 0},
                                       {ML_ROBUST_MEDIAN, 0, 0},
                                       {ML_ROBUST_TRIMMED_MEAN, 0.2, 0},
                                       {ML_ROBUST_KRUM, 1, 0},
                                       {ML_ROBUST_MULTI_KRUM, 1, 0}};
    printf("  %-15s %8s %8s %8s %8s %8s\n", "attack", "mean", "median", "trim0.2", "krum", "mkrum");
    for (int a = ATTACK_FLIP; a <= ATTACK_FLIP_SCALE; a++) {
        double auc[5];
        for (int r = 0; r < 5; r++)
            auc[r] = s_run(&wd, rules[r], (attack_t)a);
        printf("  %-15s %8.4f %8.4f %8.4f %8.4f %8.4f\n", s_attack_name[a], auc[0], auc[1], auc[2],
               auc[3], auc[4]);
        /* median and Krum hold within 0.02 of the clean run under every attack */
        CHECK(fabs(auc[1] - clean) <= 0.02);
        CHECK(fabs(auc[3] - clean) <= 0.02);
        CHECK(fabs(auc[4] - clean) <= 0.02);
        if (a == ATTACK_FLIP_SCALE) /* ... where plain averaging is wrecked */
            CHECK(clean - auc[0] > 0.05);
    }
    for (int j = 0; j < 5; j++)
        ml_dataset_destroy(&wd.share[j]);
    ml_dataset_destroy(&wd.flipped);
    ml_dataset_destroy(&wd.test);
    ml_dataset_destroy(&all);
    free(owner);
}

int main(void)
{
    printf("test_ml_robust: seed %u\n", SEED);
    test_rules();
    test_poisoning();
    return testutil_done("test_ml_robust");
}
