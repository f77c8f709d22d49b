/*  test_ml_sklearn: genie's logistic regression against scikit-learn's LogisticRegression
 *  on scikit-learn's breast-cancer table (569 samples, 30 features, a Debian package's
 *  data file), on the same stratified split (70% train / 30% test, seed printed), both
 *  standardised by the training rows' mean and population sd, both with C = 1 / l2 = 1.
 *  The test AUCs must agree within 0.005 (they agree to ~1e-6 when both converge).
 *  Needs a python3 that imports sklearn (GENIE_PYTHON, /usr/bin/python3, python3 tried in
 *  that order); without one it prints SKIP and passes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_linear.h"
#include "ml/ml_metrics.h"
#include "ml/ml_scale.h"
#include "ml/ml_split.h"
#include "testutil.h"

/* The first candidate python3 that imports sklearn; its breast-cancer CSV path into PATH. */
static const char *s_find_python(char *path, size_t cap)
{
    static const char *cands[] = {NULL, "/usr/bin/python3", "python3"};
    cands[0] = getenv("GENIE_PYTHON");
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        if (!cands[i])
            continue;
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "%s -c 'import os, sklearn.datasets as d; print(os.path.join("
                 "os.path.dirname(d.__file__), \"data\", \"breast_cancer.csv\"))' 2>/dev/null",
                 cands[i]);
        /* the reference is the system python3 with scikit-learn, run by design */
        FILE *pp = popen(cmd, "r"); /* NOLINT(cert-env33-c) */
        if (!pp)
            continue;
        bool ok = fgets(path, (int)cap, pp) != NULL;
        if (pclose(pp) == 0 && ok) {
            path[strcspn(path, "\n")] = '\0';
            return cands[i];
        }
    }
    return NULL;
}

/* Reads scikit-learn's CSV ("n,p,names..." then rows of p features and a 0/1 target). */
static ml_dataset_t *s_load_bc(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = 0, p = 0;
    ml_dataset_t *d = NULL;
    /* match count checked; sizes bounded below */
    if (fscanf(f, "%zu,%zu", &n, &p) != 2 || /* NOLINT(cert-err34-c) */
        n == 0 || p == 0 || n > 100000 || p > 1000)
        goto out;
    fscanf(f, "%*[^\n]\n");
    d = ml_dataset_new(n, p);
    for (size_t i = 0; d && i < n; i++) {
        for (size_t j = 0; j <= p; j++) {
            double v;
            if (fscanf(f, j ? ",%lf" : "%lf", &v) != 1) {
                ml_dataset_destroy(&d);
                goto out;
            }
            if (j < p)
                d->x->v[i * p + j] = v;
            else
                d->y[i] = v;
        }
    }
out:
    fclose(f);
    return d;
}

static const char s_script[] =
    "import sys, numpy as np\n"
    "from sklearn.datasets import load_breast_cancer\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "from sklearn.preprocessing import StandardScaler\n"
    "from sklearn.metrics import roc_auc_score\n"
    "X, y = load_breast_cancer(return_X_y=True)\n"
    "tr = np.loadtxt(sys.argv[1], dtype=int); te = np.loadtxt(sys.argv[2], dtype=int)\n"
    "sc = StandardScaler().fit(X[tr])\n"
    "m = LogisticRegression(C=1.0, max_iter=100000, tol=1e-10).fit(sc.transform(X[tr]), y[tr])\n"
    "print('%.10f' % roc_auc_score(y[te], m.predict_proba(sc.transform(X[te]))[:, 1]))\n"
    "print(' '.join('%.10f' % w for w in m.coef_[0]))\n";

int main(void)
{
    char path[1024] = "";
    char cmd[4096];
    const char *py = s_find_python(path, sizeof path);
    if (!py) {
        printf("SKIP: no python3 with scikit-learn (apt-get install python3-sklearn)\n");
        return testutil_done("test_ml_sklearn");
    }
    ml_dataset_t *d = s_load_bc(path);
    CHECK(d != NULL);
    if (!d)
        return testutil_done("test_ml_sklearn");
    size_t n = d->x->rows, p = d->x->cols;
    CHECK(n == 569 && p == 30);

    uint64_t seed = 42;
    printf("test_ml_sklearn: split seed %llu, python %s, data %s\n", (unsigned long long)seed, py,
           path);
    ml_split_t *s = NULL;
    CHECK_EQ(ml_split_new(n, 0.0, 0.3, seed, d->y, &s), 0);
    ml_dataset_t *tr = ml_dataset_subset(d, s->train, s->n_train);
    ml_dataset_t *te = ml_dataset_subset(d, s->test, s->n_test);
    ml_scale_t *sc = NULL;
    CHECK_EQ(ml_scale_fit(tr->x, &sc), 0);
    CHECK_EQ(ml_scale_apply(sc, tr->x), 0);
    ml_fit_opts_t o = {.l2 = 1.0, .max_iter = 10000, .tol = 1e-10};
    ml_model_t *m = NULL;
    char err[256] = "";
    CHECK_EQ(ml_logistic_fit(tr, &o, &m, err, sizeof err), 0);
    CHECK_EQ(ml_model_set_scaling(m, sc), 0);
    double *pr = malloc(s->n_test * sizeof *pr);
    CHECK_EQ(ml_model_predict(m, te->x, pr), 0); /* te is raw: the model scales it */
    double auc = 0;
    CHECK_EQ(ml_metric_auc(pr, te->y, s->n_test, &auc), 0);

    /* The same split for scikit-learn. */
    const char *dir = testutil_tmpdir();
    char ftr[600], fte[600], fpy[600];
    snprintf(ftr, sizeof ftr, "%s/train.txt", dir);
    snprintf(fte, sizeof fte, "%s/test.txt", dir);
    snprintf(fpy, sizeof fpy, "%s/fit.py", dir);
    FILE *f1 = fopen(ftr, "w"), *f2 = fopen(fte, "w"), *f3 = fopen(fpy, "w");
    for (size_t i = 0; i < s->n_train; i++)
        fprintf(f1, "%zu\n", s->train[i]);
    for (size_t i = 0; i < s->n_test; i++)
        fprintf(f2, "%zu\n", s->test[i]);
    fputs(s_script, f3);
    fclose(f1);
    fclose(f2);
    fclose(f3);
    snprintf(cmd, sizeof cmd, "%s %s %s %s", py, fpy, ftr, fte);
    FILE *pp = popen(cmd, "r"); /* NOLINT(cert-env33-c): scikit-learn reference, see above */
    double sk_auc = -1;
    double skw[30] = {0};
    CHECK(pp && fscanf(pp, "%lf", &sk_auc) == 1); /* NOLINT(cert-err34-c): count checked */
    bool have_w = true;
    for (size_t j = 0; pp && j < 30; j++)
        have_w = have_w && fscanf(pp, "%lf", &skw[j]) == 1; /* NOLINT(cert-err34-c) */
    if (pp)
        CHECK_EQ(pclose(pp), 0);
    double dw = 0;
    for (size_t j = 0; have_w && j < 30; j++)
        dw = fmax(dw, fabs(skw[j] - ml_model_weights(m)[j]));
    printf("breast cancer test AUC: genie %.6f, scikit-learn %.6f (difference %.2e); max "
           "|weight difference| %.2e\n",
           auc, sk_auc, fabs(auc - sk_auc), dw);
    CHECK(fabs(auc - sk_auc) <= 0.005);
    CHECK(auc > 0.95);

    testutil_rmtree(dir);
    free(pr);
    ml_model_destroy(&m);
    ml_scale_destroy(&sc);
    ml_dataset_destroy(&tr);
    ml_dataset_destroy(&te);
    ml_split_destroy(&s);
    ml_dataset_destroy(&d);
    return testutil_done("test_ml_sklearn");
}
