/*  ml_robust: weighted mean, coordinate-wise median, trimmed mean, Krum and multi-Krum
 *  (see ml_robust.h). */
#include "ml/ml_robust.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *ml_robust_kind_str(ml_robust_kind_t kind)
{
    switch (kind) {
    case ML_ROBUST_MEAN:
        return "mean";
    case ML_ROBUST_MEDIAN:
        return "median";
    case ML_ROBUST_TRIMMED_MEAN:
        return "trimmed-mean";
    case ML_ROBUST_KRUM:
        return "krum";
    case ML_ROBUST_MULTI_KRUM:
        return "multi-krum";
    }
    return "unknown";
}

int ml_robust_kind_parse(const char *name, ml_robust_kind_t *kind)
{
    for (int k = ML_ROBUST_MEAN; k <= ML_ROBUST_MULTI_KRUM; k++)
        if (name && strcmp(name, ml_robust_kind_str((ml_robust_kind_t)k)) == 0) {
            *kind = (ml_robust_kind_t)k;
            return 0;
        }
    return ML_E_SPEC;
}

/* f of Krum as a count, or SIZE_MAX when PARAM is not a whole number >= 0. */
static size_t s_krum_f(double param)
{
    if (!(param >= 0.0) || param > 1e6 || param != floor(param))
        return SIZE_MAX;
    return (size_t)param;
}

int ml_robust_check(const ml_robust_rule_t *r, size_t k, char *err, size_t err_cap)
{
    if (k == 0 || k > ML_ROBUST_K_MAX)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "%zu vectors: not in 1..%d", k,
                              ML_ROBUST_K_MAX);
    switch (r->kind) {
    case ML_ROBUST_MEAN:
    case ML_ROBUST_MEDIAN:
        return 0;
    case ML_ROBUST_TRIMMED_MEAN:
        if (!(r->param >= 0.0 && r->param < 0.5))
            return proto_err_fail(err, err_cap, ML_E_SPEC,
                                  "trimmed mean: fraction %g not in [0, 0.5)", r->param);
        return 0;
    case ML_ROBUST_KRUM:
    case ML_ROBUST_MULTI_KRUM: {
        size_t f = s_krum_f(r->param);
        if (f == SIZE_MAX)
            return proto_err_fail(err, err_cap, ML_E_SPEC, "krum: f %g is not a count", r->param);
        if (k < 2 * f + 3)
            return proto_err_fail(err, err_cap, ML_E_SPEC,
                                  "krum: %zu parties cannot tolerate f = %zu (needs 2f + 3)", k, f);
        if (r->kind == ML_ROBUST_MULTI_KRUM && r->m > k - f)
            return proto_err_fail(err, err_cap, ML_E_SPEC, "multi-krum: m = %zu above K - f = %zu",
                                  r->m, k - f);
        return 0;
    }
    }
    return proto_err_fail(err, err_cap, ML_E_SPEC, "unknown aggregation rule %d", (int)r->kind);
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Per coordinate: sort the K values, then the median or the mean of [lo, k - lo). */
static void s_coordinate(const double *const *v, size_t k, size_t dim, size_t lo, bool median,
                         double *col, double *out)
{
    for (size_t j = 0; j < dim; j++) {
        for (size_t i = 0; i < k; i++)
            col[i] = v[i][j];
        qsort(col, k, sizeof *col, s_cmp_double);
        if (median) {
            out[j] = (k % 2) ? col[k / 2] : 0.5 * (col[k / 2 - 1] + col[k / 2]);
            continue;
        }
        double s = 0.0;
        for (size_t i = lo; i < k - lo; i++)
            s += col[i];
        out[j] = s / (double)(k - 2 * lo);
    }
}

static double s_dist2(const double *a, const double *b, size_t dim)
{
    double s = 0.0;
    for (size_t j = 0; j < dim; j++) {
        double d = a[j] - b[j];
        s += d * d;
    }
    return s;
}

/* Krum scores of the candidates ALIVE[i] != 0 (N of them) against each other, with F
 * Byzantine: sum of the N - f - 2 smallest squared distances. Index of the lowest. */
static size_t s_krum_pick(const double *d2, const uint8_t *alive, size_t k, size_t f, double *row)
{
    size_t n = 0;
    for (size_t i = 0; i < k; i++)
        n += alive[i] != 0;
    size_t nn = n >= f + 2 ? n - f - 2 : 0;
    if (nn == 0)
        nn = 1;
    size_t best = SIZE_MAX;
    double best_s = INFINITY;
    for (size_t i = 0; i < k; i++) {
        if (!alive[i])
            continue;
        size_t c = 0;
        for (size_t j = 0; j < k; j++)
            if (alive[j] && j != i)
                row[c++] = d2[i * k + j];
        qsort(row, c, sizeof *row, s_cmp_double);
        double s = 0.0;
        for (size_t t = 0; t < nn && t < c; t++)
            s += row[t];
        if (best == SIZE_MAX || s < best_s) {
            best = i;
            best_s = s;
        }
    }
    return best;
}

int ml_robust_aggregate(const ml_robust_rule_t *r, const double *const *v, const double *w,
                        size_t k, size_t dim, double *out, uint8_t *selected, char *err,
                        size_t err_cap)
{
    int rc = ml_robust_check(r, k, err, err_cap);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < k; i++)
        if (!(w[i] > 0.0) || !isfinite(w[i]))
            return proto_err_fail(err, err_cap, ML_E_SPEC, "weight %zu is not positive", i);
    double *scratch = NULL, *d2 = NULL;
    uint8_t *pick = calloc(k, 1);
    if (!pick)
        return proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");
    if (r->kind == ML_ROBUST_MEAN) {
        memset(pick, 1, k);
    } else if (r->kind == ML_ROBUST_MEDIAN || r->kind == ML_ROBUST_TRIMMED_MEAN) {
        scratch = malloc(k * sizeof *scratch);
        if (!scratch)
            goto nomem;
        size_t lo = r->kind == ML_ROBUST_TRIMMED_MEAN ? (size_t)floor(r->param * (double)k) : 0;
        s_coordinate(v, k, dim, lo, r->kind == ML_ROBUST_MEDIAN, scratch, out);
        memset(pick, 1, k);
    } else {
        size_t f = s_krum_f(r->param);
        size_t m = r->kind == ML_ROBUST_KRUM ? 1 : (r->m ? r->m : k - f);
        scratch = malloc(k * sizeof *scratch);
        d2 = malloc(k * k * sizeof *d2);
        uint8_t *alive = malloc(k);
        if (!scratch || !d2 || !alive) {
            free(alive);
            goto nomem;
        }
        for (size_t i = 0; i < k; i++)
            for (size_t j = i; j < k; j++)
                d2[i * k + j] = d2[j * k + i] = i == j ? 0.0 : s_dist2(v[i], v[j], dim);
        memset(alive, 1, k);
        for (size_t t = 0; t < m; t++) {
            size_t b = s_krum_pick(d2, alive, k, f, scratch);
            pick[b] = 1;
            alive[b] = 0;
        }
        free(alive);
    }
    if (r->kind == ML_ROBUST_MEAN || r->kind == ML_ROBUST_KRUM || r->kind == ML_ROBUST_MULTI_KRUM) {
        double tw = 0.0;
        memset(out, 0, dim * sizeof *out);
        for (size_t i = 0; i < k; i++) {
            if (!pick[i])
                continue;
            tw += w[i];
            for (size_t j = 0; j < dim; j++)
                out[j] += w[i] * v[i][j];
        }
        for (size_t j = 0; j < dim; j++)
            out[j] /= tw;
    }
    if (selected)
        memcpy(selected, pick, k);
    goto out;
nomem:
    rc = proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");
out:
    free(pick);
    free(scratch);
    free(d2);
    return rc;
}

int ml_robust_sensitivity(const ml_robust_rule_t *rule, size_t m, double clip, double *sens)
{
    *sens = 0.0;
    if (!(clip > 0.0) || !isfinite(clip) || ml_robust_check(rule, m, NULL, 0) != 0)
        return ML_E_SPEC;
    size_t ranks = 1; /* order statistics averaged per coordinate */
    switch (rule->kind) {
    case ML_ROBUST_MEAN:
        ranks = m;
        break;
    case ML_ROBUST_MEDIAN:
        ranks = m % 2 ? 1 : 2;
        break;
    case ML_ROBUST_TRIMMED_MEAN:
        ranks = m - 2 * (size_t)floor(rule->param * (double)m);
        break;
    case ML_ROBUST_KRUM:
    case ML_ROBUST_MULTI_KRUM:
        ranks = 1;
        break;
    }
    *sens = 2.0 * clip / (double)ranks;
    return 0;
}
