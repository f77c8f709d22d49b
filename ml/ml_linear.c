/*  ml_linear: logistic regression by L-BFGS and ridge by Cholesky (see ml_linear.h). */
#include "ml/ml_linear.h"

#include <cblas.h>
#include <lbfgs.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_log.h"

/* log(1 + exp(z)) without overflow. */
/* The log-loss term softplus(z) = log(1 + e^z) and the sigmoid 1 / (1 + e^-z) of Z, both
   from one e = exp(-|z|), so neither overflows. */
static void s_softplus_sigmoid(double z, double *softplus, double *sigmoid)
{
    double e = exp(-fabs(z));
    *softplus = (z > 0 ? z : 0.0) + log1p(e);
    *sigmoid = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

/* The loss and gradient with a caller workspace Z of n doubles. */
static void s_loss_grad(const ml_mat_t *x, const double *y, const double *w, double b, double l2,
                        double *gw, double *gb, double *loss, double *z)
{
    size_t n = x->rows, p = x->cols;
    for (size_t i = 0; i < n; i++)
        z[i] = b;
    if (p)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)p, 1.0, x->v, (int)p, w, 1, 1.0, z,
                    1);
    double f = 0.0, sr = 0.0;
    for (size_t i = 0; i < n; i++) {
        double sp, sg;
        s_softplus_sigmoid(z[i], &sp, &sg);
        f += sp - y[i] * z[i];
        z[i] = sg - y[i]; /* residual, reused for the gradient */
        sr += z[i];
    }
    if (p)
        f += 0.5 * l2 * cblas_ddot((int)p, w, 1, w, 1);
    if (gw && p) {
        /* gw = X' r + l2 w */
        memcpy(gw, w, p * sizeof *gw);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)p, 1.0, x->v, (int)p, z, 1, l2, gw, 1);
    }
    if (gb)
        *gb = sr;
    *loss = f;
}

int ml_logistic_loss_grad(const ml_mat_t *x, const double *y, const double *w, double b, double l2,
                          double *gw, double *gb, double *loss)
{
    if (!x || !y || (!w && x->cols) || !loss)
        return ML_E_ARG;
    double *z = malloc((x->rows ? x->rows : 1) * sizeof *z);
    if (!z)
        return PROTO_E_NOMEM;
    s_loss_grad(x, y, w, b, l2, gw, gb, loss, z);
    free(z);
    return 0;
}

typedef struct {
    const ml_mat_t *x;
    const double *y;
    double l2;
    size_t p;
    double *z;
} s_logit_ctx_t;

/* liblbfgs evaluate callback: variables are [w (p), b, zero padding]. */
static lbfgsfloatval_t s_evaluate(void *inst, const lbfgsfloatval_t *v, lbfgsfloatval_t *g,
                                  const int n, const lbfgsfloatval_t step)
{
    (void)step;
    s_logit_ctx_t *c = inst;
    double f;
    s_loss_grad(c->x, c->y, v, v[c->p], c->l2, g, &g[c->p], &f, c->z);
    for (size_t k = c->p + 1; k < (size_t)n; k++)
        g[k] = 0.0; /* padding variables never move */
    return f;
}

static int s_check_opts(const ml_fit_opts_t *o, double def_l2, ml_fit_opts_t *eff)
{
    eff->l2 = o ? o->l2 : def_l2;
    eff->max_iter = o && o->max_iter ? o->max_iter : 1000;
    eff->tol = o && o->tol > 0 ? o->tol : 1e-6;
    if (!(eff->l2 >= 0.0) || !isfinite(eff->l2) || !isfinite(eff->tol) ||
        eff->max_iter > (size_t)INT32_MAX)
        return ML_E_ARG;
    return 0;
}

int ml_logistic_fit(const ml_dataset_t *d, const ml_fit_opts_t *o, ml_model_t **out, char *err,
                    size_t cap)
{
    ml_fit_opts_t op;
    if (!d || !d->x || !d->y || !out)
        return proto_err_fail(err, cap, ML_E_ARG, "NULL argument");
    if (s_check_opts(o, 1.0, &op) != 0)
        return proto_err_fail(err, cap, ML_E_ARG, "invalid options (l2 must be >= 0)");
    size_t n = d->x->rows, p = d->x->cols;
    if (n == 0 || p > ML_MODEL_MAX_P)
        return proto_err_fail(err, cap, ML_E_ARG, "%zu rows, %zu features", n, p);
    size_t npos = 0;
    for (size_t i = 0; i < n; i++) {
        if (d->y[i] != 0.0 && d->y[i] != 1.0)
            return proto_err_fail(err, cap, ML_E_ARG, "label %zu is %g, not 0 or 1", i, d->y[i]);
        npos += d->y[i] == 1.0;
    }
    if (npos == 0 || npos == n)
        return proto_err_fail(err, cap, ML_E_ONE_CLASS, "all %zu labels are %d", n, npos != 0);
    for (size_t k = 0; k < n * p; k++)
        if (!isfinite(d->x->v[k]))
            return proto_err_fail(err, cap, ML_E_ARG, "feature value %zu is not finite", k);

    int rc = 0;
    /* liblbfgs' SSE builds want a multiple of 16 variables: pad with inert zeros. */
    size_t nv = (p + 1 + 15) / 16 * 16;
    lbfgsfloatval_t *v = lbfgs_malloc((int)nv);
    s_logit_ctx_t c = {d->x, d->y, op.l2, p, malloc(n * sizeof(double))};
    double *g = malloc(nv * sizeof *g);
    if (!v || !c.z || !g) {
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < nv; k++)
        v[k] = 0.0;
    v[p] = log((double)npos / (double)(n - npos)); /* start at the base rate */

    lbfgs_parameter_t param;
    lbfgs_parameter_init(&param);
    param.epsilon = op.tol;
    param.max_iterations = (int)op.max_iter;
    lbfgsfloatval_t fx = 0;
    int ret = lbfgs((int)nv, v, &fx, s_evaluate, NULL, &c, &param);
    /* liblbfgs also stops with a rounding or line-search error when it is already at the
       minimum to machine precision: accept those only if the gradient really is small. */
    if (ret < 0 && ret != LBFGSERR_MAXIMUMITERATION) {
        double f;
        s_loss_grad(d->x, d->y, v, v[p], op.l2, g, &g[p], &f, c.z);
        double gn = cblas_dnrm2((int)(p + 1), g, 1);
        double xn = cblas_dnrm2((int)(p + 1), v, 1);
        if (gn > 1e-3 * fmax(1.0, xn) * fmax(1.0, sqrt((double)n))) {
            rc = proto_err_fail(err, cap, ML_E_NOT_CONVERGED,
                                "L-BFGS stopped with code %d, |grad| %.3g", ret, gn);
            goto out;
        }
    }
    if (ret == LBFGSERR_MAXIMUMITERATION)
        GLOG(DEBUG, ML, "logistic fit: %zu iterations reached", op.max_iter);
    *out = ml_model_new(ML_MODEL_LOGISTIC, p, d->feature_ids, v, v[p]);
    if (!*out)
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "model: out of memory or bad feature ids");
out:
    free(g);
    free(c.z);
    lbfgs_free(v);
    return rc;
}

int ml_linear_solve_spd(double *a, size_t p, double *b)
{
    if ((!a || !b) && p)
        return ML_E_ARG;
    /* In-place Cholesky A = L L' with L in the lower triangle, read from the upper one. */
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < i; j++)
            a[i * p + j] = a[j * p + i];
    for (size_t j = 0; j < p; j++) {
        double *lj = a + j * p;
        double diag = lj[j];
        double dd = diag - (j ? cblas_ddot((int)j, lj, 1, lj, 1) : 0.0);
        if (!(dd > 1e-12 * fabs(diag)) || !isfinite(dd))
            return ML_E_SINGULAR;
        double ljj = sqrt(dd);
        lj[j] = ljj;
        for (size_t i = j + 1; i < p; i++) {
            double *li = a + i * p;
            li[j] = (li[j] - (j ? cblas_ddot((int)j, li, 1, lj, 1) : 0.0)) / ljj;
        }
    }
    /* L y = b, then L' x = y. */
    for (size_t i = 0; i < p; i++) {
        const double *li = a + i * p;
        b[i] = (b[i] - (i ? cblas_ddot((int)i, li, 1, b, 1) : 0.0)) / li[i];
    }
    for (size_t i = p; i-- > 0;) {
        double s = b[i];
        for (size_t k = i + 1; k < p; k++)
            s -= a[k * p + i] * b[k];
        b[i] = s / a[i * p + i];
    }
    return 0;
}

int ml_linear_fit(const ml_dataset_t *d, const ml_fit_opts_t *o, ml_model_t **out, char *err,
                  size_t cap)
{
    ml_fit_opts_t op;
    if (!d || !d->x || !d->y || !out)
        return proto_err_fail(err, cap, ML_E_ARG, "NULL argument");
    if (s_check_opts(o, 0.0, &op) != 0)
        return proto_err_fail(err, cap, ML_E_ARG, "invalid options (l2 must be >= 0)");
    size_t n = d->x->rows, p = d->x->cols;
    if (n == 0 || p > 8192)
        return proto_err_fail(err, cap, ML_E_ARG, "%zu rows, %zu features (max 8192)", n, p);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(d->y[i]))
            return proto_err_fail(err, cap, ML_E_ARG, "label %zu is not finite", i);
    int rc = 0;
    double *g = malloc((p ? p * p : 1) * sizeof *g);
    double *xbar = calloc(p ? p : 1, sizeof *xbar);
    double *w = malloc((p ? p : 1) * sizeof *w);
    if (!g || !xbar || !w) {
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        goto out;
    }
    double ybar = 0.0;
    for (size_t i = 0; i < n; i++) {
        ybar += d->y[i];
        cblas_daxpy((int)p, 1.0, ml_mat_row(d->x, i), 1, xbar, 1);
    }
    ybar /= (double)n;
    cblas_dscal((int)p, 1.0 / (double)n, xbar, 1);
    if (p) {
        /* Upper triangle of X'X - n x̄ x̄' + l2 I, and X'y - n x̄ ȳ. */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)p, (int)n, 1.0, d->x->v, (int)p,
                    0.0, g, (int)p);
        cblas_dsyr(CblasRowMajor, CblasUpper, (int)p, -(double)n, xbar, 1, g, (int)p);
        for (size_t j = 0; j < p; j++)
            g[j * p + j] += op.l2;
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)p, 1.0, d->x->v, (int)p, d->y, 1, 0.0,
                    w, 1);
        cblas_daxpy((int)p, -(double)n * ybar, xbar, 1, w, 1);
        rc = ml_linear_solve_spd(g, p, w);
        if (rc != 0) {
            rc = proto_err_fail(err, cap, rc, "X'X + %g I is not positive definite", op.l2);
            goto out;
        }
    }
    double b = ybar - (p ? cblas_ddot((int)p, xbar, 1, w, 1) : 0.0);
    *out = ml_model_new(ML_MODEL_LINEAR, p, d->feature_ids, w, b);
    if (!*out)
        rc = proto_err_fail(err, cap, ML_E_ARG, "model: non-finite fit, bad ids or no memory");
out:
    free(w);
    free(xbar);
    free(g);
    return rc;
}
