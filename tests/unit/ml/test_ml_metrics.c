/*  test_ml_metrics: AUC, accuracy, log-loss, R² and calibration against values worked out
 *  by hand on small cases (ties included), AUC against brute-force pair counting on random
 *  tied scores, seeded stratified splits, and standardisation (ml_scale).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_metrics.h"
#include "ml/ml_scale.h"
#include "ml/ml_split.h"
#include "testutil.h"

static bool s_near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

static void test_auc_by_hand(void)
{
    double auc = -1;
    /* Pairs (pos, neg): 0.35>0.1 yes, 0.35>0.4 no, 0.8 beats both: 3 of 4. */
    const double s1[] = {0.1, 0.4, 0.35, 0.8}, y1[] = {0, 0, 1, 1};
    CHECK_EQ(ml_metric_auc(s1, y1, 4, &auc), 0);
    CHECK(s_near(auc, 0.75, 1e-15));
    /* All tied: every pair counts one half. */
    const double s2[] = {0.5, 0.5, 0.5, 0.5}, y2[] = {0, 1, 0, 1};
    CHECK_EQ(ml_metric_auc(s2, y2, 4, &auc), 0);
    CHECK(s_near(auc, 0.5, 1e-15));
    /* Positives {2, 3}, negatives {1, 2}: 1 + 0.5 + 1 + 1 = 3.5 of 4. */
    const double s3[] = {1, 2, 2, 3}, y3[] = {0, 0, 1, 1};
    CHECK_EQ(ml_metric_auc(s3, y3, 4, &auc), 0);
    CHECK(s_near(auc, 0.875, 1e-15));
    /* Perfectly reversed. */
    const double s4[] = {3, 2, 1}, y4[] = {0, 0, 1};
    CHECK_EQ(ml_metric_auc(s4, y4, 3, &auc), 0);
    CHECK(s_near(auc, 0.0, 1e-15));
    /* Positives {5, 1, 3}, negatives {2, 3}: 5 beats 2: 1+1, 1: 0+0, 3: 1+0.5 => 3.5 / 6. */
    const double s5[] = {5, 2, 1, 3, 3}, y5[] = {1, 0, 1, 1, 0};
    CHECK_EQ(ml_metric_auc(s5, y5, 5, &auc), 0);
    CHECK(s_near(auc, 3.5 / 6.0, 1e-15));
    /* Refusals. */
    const double one[] = {1, 1, 1};
    CHECK_EQ(ml_metric_auc(s4, one, 3, &auc), ML_E_ONE_CLASS);
    const double nan_s[] = {NAN, 1, 2};
    CHECK_EQ(ml_metric_auc(nan_s, y4, 3, &auc), ML_E_ARG);
    CHECK_EQ(ml_metric_auc(s4, y4, 0, &auc), ML_E_ARG);
}

static void test_auc_random_ties(void)
{
    uint64_t seed = 20261207;
    printf("test_auc_random_ties: seed %llu\n", (unsigned long long)seed);
    uint64_t st = seed;
    for (int rep = 0; rep < 20; rep++) {
        size_t n = 2 + (size_t)ml_rng_below(&st, 300);
        double *s = malloc(n * sizeof *s), *y = malloc(n * sizeof *y);
        for (size_t i = 0; i < n; i++) {
            s[i] = (double)ml_rng_below(&st, 7); /* many ties */
            y[i] = (double)ml_rng_below(&st, 2);
        }
        y[0] = 0;
        y[1] = 1;
        double num = 0, pairs = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                if (y[i] == 1 && y[j] == 0) {
                    pairs++;
                    num += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
                }
        double auc = -1;
        CHECK_EQ(ml_metric_auc(s, y, n, &auc), 0);
        CHECK(s_near(auc, num / pairs, 1e-12));
        free(s);
        free(y);
    }
}

static void test_others_by_hand(void)
{
    const double p[] = {0.2, 0.6, 0.5, 0.9}, y[] = {0, 1, 0, 0};
    CHECK(s_near(ml_metric_accuracy(p, y, 4, 0.5), 0.5, 1e-15));
    CHECK(isnan(ml_metric_accuracy(p, y, 0, 0.5)));
    const double p2[] = {0.8, 0.3}, y2[] = {1, 0};
    CHECK(s_near(ml_metric_logloss(p2, y2, 2), -(log(0.8) + log(0.7)) / 2, 1e-15));
    const double p3[] = {0.0, 1.0}, y3[] = {1, 0}; /* clipped, finite */
    double ll = ml_metric_logloss(p3, y3, 2);
    CHECK(isfinite(ll) && ll > 34.0 && ll < 35.0); /* about -log(1e-15) each */

    /* R²: SS_res 1, mean 2.5, SS_tot 5. */
    const double t[] = {1, 2, 3, 4}, f[] = {1, 2, 3, 5}, mean[] = {2.5, 2.5, 2.5, 2.5};
    double r2 = -1;
    CHECK_EQ(ml_metric_r2(f, t, 4, &r2), 0);
    CHECK(s_near(r2, 0.8, 1e-15));
    CHECK_EQ(ml_metric_r2(mean, t, 4, &r2), 0);
    CHECK(s_near(r2, 0.0, 1e-15));
    const double flat[] = {2, 2, 2, 2};
    CHECK_EQ(ml_metric_r2(f, flat, 4, &r2), ML_E_NO_VARIANCE);
    CHECK_EQ(ml_metric_r2(f, t, 1, &r2), ML_E_ARG);

    /* Calibration, two bins: [0.1, 0.2] -> mean 0.15 rate 0.5; [0.7, 1.0] -> 0.85, 1. */
    const double pc[] = {0.1, 0.2, 0.7, 1.0}, yc[] = {0, 1, 1, 1};
    ml_calib_bin_t b[2];
    CHECK_EQ(ml_metric_calibration(pc, yc, 4, 2, b), 0);
    CHECK_EQ(b[0].count, 2u);
    CHECK_EQ(b[1].count, 2u);
    CHECK(s_near(b[0].mean_pred, 0.15, 1e-15) && s_near(b[0].obs_rate, 0.5, 1e-15));
    CHECK(s_near(b[1].mean_pred, 0.85, 1e-15) && s_near(b[1].obs_rate, 1.0, 1e-15));
    CHECK(s_near(ml_metric_ece(b, 2), 0.25, 1e-15));
    ml_calib_bin_t b3[3];
    CHECK_EQ(ml_metric_calibration(pc, yc, 4, 3, b3), 0);
    CHECK_EQ(b3[1].count, 0u);
    CHECK(isnan(b3[1].mean_pred));
    CHECK_EQ(ml_metric_calibration(pc, yc, 4, 0, b3), ML_E_ARG);
}

static void test_split(void)
{
    const size_t n = 1000;
    double *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++)
        y[i] = (i % 10) < 3; /* 30% positives */
    ml_split_t *s = NULL, *s2 = NULL, *s3 = NULL;
    CHECK_EQ(ml_split_new(n, 0.2, 0.2, 7, y, &s), 0);
    CHECK_EQ(s->n_train + s->n_val + s->n_test, n);
    CHECK_EQ(s->n_test, 200u);
    CHECK_EQ(s->n_val, 200u);
    char *seen = calloc(n, 1);
    size_t pos_test = 0;
    for (size_t i = 0; i < s->n_train; i++)
        seen[s->train[i]]++;
    for (size_t i = 0; i < s->n_val; i++)
        seen[s->val[i]]++;
    for (size_t i = 0; i < s->n_test; i++) {
        seen[s->test[i]]++;
        pos_test += y[s->test[i]] != 0;
        if (i)
            CHECK(s->test[i] > s->test[i - 1]);
    }
    bool once = true;
    for (size_t i = 0; i < n; i++)
        once = once && seen[i] == 1;
    CHECK(once);
    CHECK_EQ(pos_test, 60u); /* stratified: exactly 30% of 200 */
    CHECK_EQ(ml_split_new(n, 0.2, 0.2, 7, y, &s2), 0);
    CHECK(memcmp(s->test, s2->test, s->n_test * sizeof(size_t)) == 0);
    CHECK_EQ(ml_split_new(n, 0.2, 0.2, 8, NULL, &s3), 0);
    CHECK(memcmp(s->test, s3->test, s->n_test * sizeof(size_t)) != 0);
    CHECK_EQ(s3->n_test, 200u);
    ml_split_t *bad = NULL;
    CHECK_EQ(ml_split_new(n, 0.6, 0.5, 1, NULL, &bad), ML_E_ARG);
    CHECK_EQ(ml_split_new(0, 0.1, 0.1, 1, NULL, &bad), ML_E_ARG);
    CHECK_EQ(ml_split_new(n, NAN, 0.1, 1, NULL, &bad), ML_E_ARG);
    CHECK(bad == NULL);
    ml_split_destroy(&s);
    ml_split_destroy(&s2);
    ml_split_destroy(&s3);
    ml_split_destroy(&s);
    CHECK(s == NULL);
    free(seen);
    free(y);
}

static void test_scale(void)
{
    ml_mat_t *x = ml_mat_new(4, 3);
    const double v[] = {1, 5, 10, 2, 5, 20, 3, 5, 30, 4, 5, 40};
    memcpy(x->v, v, sizeof v);
    ml_scale_t *s = NULL;
    CHECK_EQ(ml_scale_fit(x, &s), 0);
    CHECK(s_near(s->mean[0], 2.5, 1e-15) && s_near(s->mean[2], 25, 1e-12));
    CHECK(s_near(s->sd[0], sqrt(1.25), 1e-15)); /* population sd */
    CHECK_EQ(s->sd[1], 1.0);                    /* constant column: centred only */
    CHECK_EQ(ml_scale_apply(s, x), 0);
    for (size_t j = 0; j < 3; j++) {
        double m = 0, q = 0;
        for (size_t i = 0; i < 4; i++) {
            m += x->v[i * 3 + j];
            q += x->v[i * 3 + j] * x->v[i * 3 + j];
        }
        CHECK(s_near(m, 0, 1e-12));
        CHECK(s_near(q / 4, j == 1 ? 0.0 : 1.0, 1e-12));
    }
    ml_mat_t *y = ml_mat_new(2, 2);
    CHECK_EQ(ml_scale_apply(s, y), ML_E_SHAPE);
    ml_mat_t *e = ml_mat_new(0, 3);
    ml_scale_t *s2 = NULL;
    CHECK_EQ(ml_scale_fit(e, &s2), ML_E_ARG);
    ml_scale_destroy(&s);
    ml_scale_destroy(&s);
    CHECK(s == NULL);
    ml_mat_destroy(&x);
    ml_mat_destroy(&y);
    ml_mat_destroy(&e);
}

int main(void)
{
    test_auc_by_hand();
    test_auc_random_ties();
    test_others_by_hand();
    test_split();
    test_scale();
    return testutil_done("test_ml_metrics");
}
