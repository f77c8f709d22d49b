/*  test_ml_linear: the logistic loss gradient against central finite differences, logistic
 *  fits that recover the weights that generated the data and stop at a zero gradient, ridge
 *  against the closed-form simple-regression answer (with and without penalty), exact
 *  recovery of noiseless weights, collinear columns refused without a penalty, and the
 *  Cholesky solver on a 2 x 2 case by hand; and that the BLAS those calls ran on started no
 *  thread (the serial OpenBLAS build: the pthread build's workers spin at every start).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_linear.h"
#include "ml/ml_split.h"
#include "testutil.h"

static double s_unif(uint64_t *st)
{
    return (double)(ml_rng_next(st) >> 11) * 0x1.0p-53;
}

static double s_normal(uint64_t *st)
{
    double u = s_unif(st), v = s_unif(st);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* N x P standard normal features and 0/1 labels drawn from a logistic model (W, B). */
static ml_dataset_t *s_logit_data(size_t n, size_t p, const double *w, double b, uint64_t *st)
{
    ml_dataset_t *d = ml_dataset_new(n, p);
    for (size_t i = 0; i < n; i++) {
        double z = b;
        for (size_t j = 0; j < p; j++) {
            double x = s_normal(st);
            d->x->v[i * p + j] = x;
            z += w[j] * x;
        }
        d->y[i] = s_unif(st) < 1.0 / (1.0 + exp(-z)) ? 1.0 : 0.0;
    }
    return d;
}

static void test_gradient_fd(uint64_t seed)
{
    uint64_t st = seed;
    const size_t n = 60, p = 5;
    double w[5] = {0.3, -1.2, 0.8, 0.0, 2.0};
    ml_dataset_t *d = s_logit_data(n, p, w, 0.4, &st);
    double w0[5], gw[5], gb, f;
    for (size_t j = 0; j < p; j++)
        w0[j] = s_normal(&st);
    double b0 = 0.3, l2 = 0.7;
    CHECK_EQ(ml_logistic_loss_grad(d->x, d->y, w0, b0, l2, gw, &gb, &f), 0);
    const double h = 1e-5;
    double worst = 0;
    for (size_t j = 0; j <= p; j++) {
        double wp[5], wm[5], fp, fm;
        memcpy(wp, w0, sizeof wp);
        memcpy(wm, w0, sizeof wm);
        double bp = b0, bm = b0;
        if (j < p) {
            wp[j] += h;
            wm[j] -= h;
        } else {
            bp += h;
            bm -= h;
        }
        CHECK_EQ(ml_logistic_loss_grad(d->x, d->y, wp, bp, l2, NULL, NULL, &fp), 0);
        CHECK_EQ(ml_logistic_loss_grad(d->x, d->y, wm, bm, l2, NULL, NULL, &fm), 0);
        double fd = (fp - fm) / (2 * h), an = j < p ? gw[j] : gb;
        double rel = fabs(fd - an) / fmax(1.0, fabs(an));
        worst = fmax(worst, rel);
    }
    printf("gradient vs finite differences: worst relative error %.2e\n", worst);
    CHECK(worst < 1e-6);
    /* Loss by hand at w = 0, b = 0: n log 2. */
    double z[5] = {0};
    CHECK_EQ(ml_logistic_loss_grad(d->x, d->y, z, 0.0, l2, NULL, NULL, &f), 0);
    CHECK(fabs(f - (double)n * log(2.0)) < 1e-9);
    ml_dataset_destroy(&d);
}

static void test_logistic_fit(uint64_t seed)
{
    uint64_t st = seed;
    const size_t n = 4000, p = 4;
    const double w[4] = {1.0, -2.0, 0.5, 0.0}, b = -0.5;
    ml_dataset_t *d = s_logit_data(n, p, w, b, &st);
    ml_fit_opts_t o = {.l2 = 1e-3, .max_iter = 500, .tol = 1e-8};
    ml_model_t *m = NULL;
    char err[200] = "";
    CHECK_EQ(ml_logistic_fit(d, &o, &m, err, sizeof err), 0);
    CHECK(m != NULL);
    if (!m)
        printf("fit: %s\n", err);
    if (!m)
        goto out;
    CHECK_EQ(ml_model_kind(m), ML_MODEL_LOGISTIC);
    const double *fw = ml_model_weights(m);
    printf("logistic fit: w = %.3f %.3f %.3f %.3f b = %.3f\n", fw[0], fw[1], fw[2], fw[3],
           ml_model_intercept(m));
    for (size_t j = 0; j < p; j++)
        CHECK(fabs(fw[j] - w[j]) < 0.15);
    CHECK(fabs(ml_model_intercept(m) - b) < 0.15);
    /* At the optimum the penalised gradient vanishes. */
    double gw[4], gb, f;
    CHECK_EQ(ml_logistic_loss_grad(d->x, d->y, fw, ml_model_intercept(m), o.l2, gw, &gb, &f), 0);
    double gn = fabs(gb);
    for (size_t j = 0; j < p; j++)
        gn = fmax(gn, fabs(gw[j]));
    printf("logistic fit: max |gradient| at the optimum %.2e (loss %.3f)\n", gn, f);
    CHECK(gn < 1e-4);
    /* A heavier penalty shrinks the weights. */
    ml_model_t *m2 = NULL;
    o.l2 = 1000;
    CHECK_EQ(ml_logistic_fit(d, &o, &m2, err, sizeof err), 0);
    if (m2)
        CHECK(fabs(ml_model_weights(m2)[1]) < fabs(fw[1]) * 0.8);
    /* Predictions are probabilities. */
    double *pr = malloc(n * sizeof *pr);
    CHECK_EQ(ml_model_predict(m, d->x, pr), 0);
    double z0 = ml_model_intercept(m);
    for (size_t j = 0; j < p; j++)
        z0 += fw[j] * d->x->v[j];
    CHECK(fabs(pr[0] - 1.0 / (1.0 + exp(-z0))) < 1e-12);
    free(pr);
    ml_model_destroy(&m2);
out:
    ml_model_destroy(&m);
    ml_dataset_destroy(&d);
}

static void test_logistic_refusals(void)
{
    ml_dataset_t *d = ml_dataset_new(4, 1);
    ml_model_t *m = NULL;
    char err[200] = "";
    CHECK_EQ(ml_logistic_fit(d, NULL, &m, err, sizeof err), ML_E_ONE_CLASS);
    d->y[1] = 2;
    CHECK_EQ(ml_logistic_fit(d, NULL, &m, err, sizeof err), ML_E_ARG);
    CHECK(strstr(err, "label 1") != NULL);
    d->y[1] = 1;
    ml_fit_opts_t o = {.l2 = -1};
    CHECK_EQ(ml_logistic_fit(d, &o, &m, err, sizeof err), ML_E_ARG);
    d->x->v[0] = NAN;
    CHECK_EQ(ml_logistic_fit(d, NULL, &m, err, sizeof err), ML_E_ARG);
    CHECK(m == NULL);
    ml_dataset_destroy(&d);
}

static void test_ridge(uint64_t seed)
{
    /* Simple regression by hand: x = 1..5, y = (1.1, 1.9, 3.2, 3.8, 5.3): xbar 3, Sxx 10,
       Sxy = sum (x - 3)(y - ybar) with ybar 3.06 = 10.3; slope Sxy / (Sxx + l2). */
    ml_dataset_t *d = ml_dataset_new(5, 1);
    const double y[] = {1.1, 1.9, 3.2, 3.8, 5.3};
    for (size_t i = 0; i < 5; i++) {
        d->x->v[i] = (double)(i + 1);
        d->y[i] = y[i];
    }
    char err[200] = "";
    for (int k = 0; k < 2; k++) {
        ml_fit_opts_t o = {.l2 = k ? 2.0 : 0.0};
        ml_model_t *m = NULL;
        CHECK_EQ(ml_linear_fit(d, &o, &m, err, sizeof err), 0);
        if (!m) {
            printf("ridge: %s\n", err);
            continue;
        }
        double slope = 10.3 / (10.0 + o.l2);
        CHECK(fabs(ml_model_weights(m)[0] - slope) < 1e-12);
        CHECK(fabs(ml_model_intercept(m) - (3.06 - 3.0 * slope)) < 1e-12);
        CHECK_EQ(ml_model_kind(m), ML_MODEL_LINEAR);
        ml_model_destroy(&m);
    }
    ml_dataset_destroy(&d);

    /* Noiseless multivariate data: least squares gives the generating weights back. */
    uint64_t st = seed;
    const size_t n = 200, p = 6;
    const double w[6] = {1.5, -0.25, 3.0, 0.0, -2.0, 0.75};
    d = ml_dataset_new(n, p);
    for (size_t i = 0; i < n; i++) {
        d->y[i] = 4.0;
        for (size_t j = 0; j < p; j++) {
            d->x->v[i * p + j] = s_normal(&st) + (double)j;
            d->y[i] += w[j] * d->x->v[i * p + j];
        }
    }
    ml_model_t *m = NULL;
    CHECK_EQ(ml_linear_fit(d, NULL, &m, err, sizeof err), 0);
    if (m) {
        for (size_t j = 0; j < p; j++)
            CHECK(fabs(ml_model_weights(m)[j] - w[j]) < 1e-9);
        CHECK(fabs(ml_model_intercept(m) - 4.0) < 1e-9);
        ml_model_destroy(&m);
    }
    /* Two identical columns: singular without a penalty, solvable with one. */
    for (size_t i = 0; i < n; i++)
        d->x->v[i * p + 1] = d->x->v[i * p + 0];
    CHECK_EQ(ml_linear_fit(d, NULL, &m, err, sizeof err), ML_E_SINGULAR);
    ml_fit_opts_t o = {.l2 = 1.0};
    CHECK_EQ(ml_linear_fit(d, &o, &m, err, sizeof err), 0);
    if (m) /* the shared effect splits evenly */
        CHECK(fabs(ml_model_weights(m)[0] - ml_model_weights(m)[1]) < 1e-9);
    ml_model_destroy(&m);
    ml_dataset_destroy(&d);
}

static void test_solve_spd(void)
{
    double a[4] = {4, 2, 2, 3}, b[2] = {2, 1};
    CHECK_EQ(ml_linear_solve_spd(a, 2, b), 0);
    CHECK(fabs(b[0] - 0.5) < 1e-15 && fabs(b[1]) < 1e-15);
    double s[4] = {1, 2, 2, 4}, c[2] = {1, 1};
    CHECK_EQ(ml_linear_solve_spd(s, 2, c), ML_E_SINGULAR);
    double neg[1] = {-1}, d[1] = {1};
    CHECK_EQ(ml_linear_solve_spd(neg, 1, d), ML_E_SINGULAR);
}

/* The process's threads (/proc/self/task), -1 when unreadable. */
static int s_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Run after the fits: their dgemv, dsyrk and ddot calls ran in this thread alone. */
static void test_blas_no_threads(void)
{
    CHECK_EQ(s_threads(), 1);
}

int main(void)
{
    uint64_t seed = 424242;
    printf("test_ml_linear: seed %llu\n", (unsigned long long)seed);
    test_gradient_fd(seed);
    test_logistic_fit(seed + 1);
    test_logistic_refusals();
    test_ridge(seed + 2);
    test_solve_spd();
    test_blas_no_threads();
    return testutil_done("test_ml_linear");
}
