/*  ml_join: genotypes + phenotype table -> ml_dataset_t (see ml_join.h). Plans the columns
 *  first (which SNPs, which covariates, how many one-hot columns), then the rows (which
 *  samples), then fills the matrix in one pass per row and imputes by column means.
 */
#include "ml/ml_join.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t col;   /* table column */
    bool onehot;  /* categorical */
    size_t first; /* first feature index */
    size_t width; /* features it produces */
} s_cov_t;

static char *s_dup(const char *s)
{
    return strdup(s ? s : "");
}

static int s_plan_snps(const ml_geno_t *g, const ml_join_opts_t *o, size_t **snp, size_t *n,
                       char *err, size_t err_cap)
{
    *n = o->rsids ? o->n_rsids : g->n_snps;
    *snp = malloc((*n + 1) * sizeof **snp);
    if (!*snp)
        return PROTO_E_NOMEM;
    if (!o->rsids) {
        for (size_t j = 0; j < *n; j++)
            (*snp)[j] = j;
        return 0;
    }
    for (size_t k = 0; k < *n; k++)
        if (!o->rsids[k] || !ml_geno_find_snp(g, o->rsids[k], &(*snp)[k]))
            return proto_err_fail(err, err_cap, ML_E_NOT_FOUND, "no SNP '%.64s' in the genotypes",
                                  o->rsids[k] ? o->rsids[k] : "(null)");
    return 0;
}

static int s_plan_covs(const ml_table_t *t, const ml_join_opts_t *o, size_t first, s_cov_t *cov,
                       size_t *p, char *err, size_t err_cap)
{
    size_t max_levels = o->max_levels ? o->max_levels : 64;
    *p = first;
    for (size_t k = 0; k < o->n_covariates; k++) {
        const char *name = o->covariates[k];
        if (!name || !ml_table_col_find(t, name, &cov[k].col))
            return proto_err_fail(err, err_cap, ML_E_NOT_FOUND, "no column '%.64s'",
                                  name ? name : "(null)");
        ml_coltype_t ty = ml_table_col_type(t, cov[k].col);
        if (ty == ML_COL_ID)
            return proto_err_fail(err, err_cap, ML_E_ARG, "'%.64s' is the id column", name);
        cov[k].onehot = ty == ML_COL_CATEGORICAL;
        cov[k].first = *p;
        cov[k].width = 1;
        if (cov[k].onehot) {
            size_t lv = ml_table_levels(t, cov[k].col);
            if (lv > max_levels)
                return proto_err_fail(err, err_cap, ML_E_ARG,
                                      "column '%.64s' has %zu levels (at most %zu)", name, lv,
                                      max_levels);
            cov[k].width = lv > 0 && o->drop_first ? lv - 1 : lv;
        }
        *p += cov[k].width;
    }
    return 0;
}

static int s_check_label(const ml_table_t *t, const ml_join_opts_t *o, size_t *lc, char *err,
                         size_t err_cap)
{
    if (!o->label || !ml_table_col_find(t, o->label, lc))
        return proto_err_fail(err, err_cap, ML_E_NOT_FOUND, "no label column '%.64s'",
                              o->label ? o->label : "(null)");
    if (ml_table_col_type(t, *lc) != ML_COL_NUMERIC)
        return proto_err_fail(err, err_cap, ML_E_ARG, "label column '%.64s' is not numeric",
                              o->label);
    return 0;
}

static int s_names(ml_dataset_t *d, const ml_geno_t *g, const ml_table_t *t, const size_t *snp,
                   size_t ns, const s_cov_t *cov, const ml_join_opts_t *o)
{
    for (size_t j = 0; j < ns; j++)
        if (!(d->feature_ids[j] = s_dup(g->rsids[snp[j]])))
            return PROTO_E_NOMEM;
    for (size_t k = 0; k < o->n_covariates; k++) {
        const char *name = ml_table_col_name(t, cov[k].col);
        if (!cov[k].onehot) {
            if (!(d->feature_ids[cov[k].first] = s_dup(name)))
                return PROTO_E_NOMEM;
            continue;
        }
        size_t skip = o->drop_first ? 1 : 0;
        for (size_t w = 0; w < cov[k].width; w++) {
            const char *lv = ml_table_level_name(t, cov[k].col, w + skip);
            size_t len = strlen(name) + strlen(lv) + 2;
            char *s = malloc(len);
            if (!s)
                return PROTO_E_NOMEM;
            snprintf(s, len, "%s=%s", name, lv);
            d->feature_ids[cov[k].first + w] = s;
        }
    }
    return 0;
}

/* Fills row r of D from genotype sample GI and table row TI; NAN marks what to impute. */
static void s_fill_row(ml_dataset_t *d, size_t r, const ml_geno_t *g, size_t gi,
                       const ml_table_t *t, size_t ti, const size_t *snp, size_t ns,
                       const s_cov_t *cov, const ml_join_opts_t *o)
{
    double *x = ml_mat_row(d->x, r);
    for (size_t j = 0; j < ns; j++) {
        size_t cell = gi * g->n_snps + snp[j];
        int8_t v = g->dosage[cell];
        double ds = g->ds ? (double)g->ds[cell] : NAN;
        x[j] = !isnan(ds) ? ds : v >= 0 ? (double)v : NAN;
    }
    size_t skip = o->drop_first ? 1 : 0;
    for (size_t k = 0; k < o->n_covariates; k++) {
        if (!cov[k].onehot) {
            x[cov[k].first] = ml_table_num(t, ti, cov[k].col);
            continue;
        }
        int32_t lv = ml_table_level(t, ti, cov[k].col);
        for (size_t w = 0; w < cov[k].width; w++)
            x[cov[k].first + w] = lv < 0 ? NAN : (size_t)lv == w + skip ? 1.0 : 0.0;
    }
}

/* Replaces NANs by their column's mean over the rows (0 if the column has none). */
static size_t s_impute(ml_mat_t *x, size_t from, size_t to)
{
    size_t imputed = 0;
    for (size_t j = from; j < to; j++) {
        double sum = 0;
        size_t cnt = 0;
        for (size_t i = 0; i < x->rows; i++) {
            double v = ml_mat_row(x, i)[j];
            if (!isnan(v))
                sum += v, cnt++;
        }
        double mean = cnt ? sum / (double)cnt : 0.0;
        for (size_t i = 0; i < x->rows; i++)
            if (isnan(ml_mat_row(x, i)[j])) {
                ml_mat_row(x, i)[j] = mean;
                imputed++;
            }
    }
    return imputed;
}

int ml_join(const ml_geno_t *g, const ml_table_t *t, const ml_join_opts_t *opts, ml_dataset_t **out,
            ml_join_stats_t *stats, char *err, size_t err_cap)
{
    ml_join_stats_t st = {0};
    size_t *snp = NULL, *gi = NULL, *ti = NULL, ns = 0, lc = 0, p = 0, n = 0;
    s_cov_t *cov = NULL;
    ml_dataset_t *d = NULL;
    *out = NULL;
    int rc = s_check_label(t, opts, &lc, err, err_cap);
    if (rc)
        goto out;
    rc = PROTO_E_NOMEM;
    cov = calloc(opts->n_covariates + 1, sizeof *cov);
    gi = malloc((g->n_samples + 1) * sizeof *gi);
    ti = malloc((g->n_samples + 1) * sizeof *ti);
    if (!cov || !gi || !ti)
        goto out;
    if ((rc = s_plan_snps(g, opts, &snp, &ns, err, err_cap)) != 0 ||
        (rc = s_plan_covs(t, opts, ns, cov, &p, err, err_cap)) != 0)
        goto out;
    /* rows */
    bool binary = true;
    for (size_t i = 0; i < g->n_samples; i++) {
        size_t r;
        if (!g->sample_ids[i] || !ml_table_row_find(t, g->sample_ids[i], &r)) {
            st.geno_only++;
            continue;
        }
        double y = ml_table_num(t, r, lc);
        if (isnan(y)) {
            st.label_missing++;
            continue;
        }
        binary = binary && (y == 0.0 || y == 1.0);
        gi[n] = i;
        ti[n++] = r;
    }
    st.table_only = ml_table_rows(t) - n - st.label_missing;
    if (opts->kind == ML_LABEL_BINARY && !binary) {
        rc = proto_err_fail(err, err_cap, ML_E_ARG, "label '%.64s' is not 0/1", opts->label);
        goto out;
    }
    st.binary = opts->kind == ML_LABEL_NUMERIC ? false : binary;
    if (n == 0) {
        rc = proto_err_fail(err, err_cap, ML_E_EMPTY, "no sample has both genotypes and a label");
        goto out;
    }
    rc = PROTO_E_NOMEM;
    if (!(d = ml_dataset_new(n, p)) || s_names(d, g, t, snp, ns, cov, opts))
        goto out;
    for (size_t r = 0; r < n; r++) {
        s_fill_row(d, r, g, gi[r], t, ti[r], snp, ns, cov, opts);
        d->y[r] = ml_table_num(t, ti[r], lc);
        if (!(d->sample_ids[r] = s_dup(g->sample_ids[gi[r]])))
            goto out;
    }
    st.imputed_calls = s_impute(d->x, 0, ns);
    st.imputed_values = s_impute(d->x, ns, p);
    st.joined = n;
    *out = d;
    d = NULL;
    rc = 0;
out:
    if (stats)
        *stats = st;
    ml_dataset_destroy(&d);
    free(snp);
    free(cov);
    free(gi);
    free(ti);
    return rc;
}
