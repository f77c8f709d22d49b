/*  ml_join: genotypes + a phenotype table -> a labelled data set (ml_dataset_t), joined by
 *  sample id.
 *
 *  Rows: the genotype set's samples, in its order, that have a row in the table and a
 *  present label. Columns: the SNP dosages (all SNPs, or those named by an rsid list, in
 *  the list's order), then the covariates in the order given: a numeric column as itself,
 *  a categorical column one-hot (one 0/1 column per level, in order of first appearance,
 *  named "column=level"; with drop_first the first level is left out, for models with an
 *  intercept). Missing dosages and missing numeric covariates are imputed with the mean of
 *  the joined rows (a SNP or covariate with no value at all gets 0). A VCF DS dosage, when
 *  present, is used instead of the rounded call. Labels: a numeric column; binary labels
 *  must be 0/1. Standardisation is not done here (ml_scale does it).
 */
#ifndef GENIE_ML_JOIN_H
#define GENIE_ML_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/ml_csv.h"
#include "ml/ml_geno.h"
#include "ml/ml_mat.h"
#include "proto/proto_err.h"

typedef enum {
    ML_LABEL_AUTO = 0,   /* binary when every present label is 0 or 1, else numeric */
    ML_LABEL_BINARY = 1, /* every present label must be 0 or 1 */
    ML_LABEL_NUMERIC = 2 /* any finite number */
} ml_label_kind_t;

/*  Join options; zero-initialised means: every SNP, no covariates, kind AUTO. LABEL is
 *  required. Pointers are borrowed for the call. */
typedef struct {
    const char *label; /* the label column's name */
    ml_label_kind_t kind;
    const char *const *rsids; /* SNPs to keep, in this order; NULL: all */
    size_t n_rsids;
    const char *const *covariates; /* table columns to add as features */
    size_t n_covariates;
    bool drop_first;   /* one-hot without the first level */
    size_t max_levels; /* levels allowed per categorical covariate; 0: 64 */
} ml_join_opts_t;

/*  What the join did (counts of samples, calls and values). */
typedef struct {
    size_t joined;         /* rows of the data set */
    size_t geno_only;      /* genotyped samples without a table row */
    size_t table_only;     /* table rows without genotypes */
    size_t label_missing;  /* samples in both but with no label (dropped) */
    size_t imputed_calls;  /* missing dosages replaced by the SNP mean */
    size_t imputed_values; /* missing numeric covariates replaced by the column mean */
    bool binary;           /* the labels are 0/1 */
} ml_join_stats_t;

/*  Builds a new data set *OUT (free with ml_dataset_destroy) from G and T per OPTS; STATS
 *  may be NULL. Errors: ML_E_NOT_FOUND (label, covariate or rsid absent), ML_E_ARG (label
 *  column not numeric, a non-0/1 binary label, an id column as covariate, too many levels),
 *  ML_E_EMPTY (no sample joined), PROTO_E_NOMEM. *OUT is NULL on error. */
int ml_join(const ml_geno_t *g, const ml_table_t *t, const ml_join_opts_t *opts, ml_dataset_t **out,
            ml_join_stats_t *stats, char *err, size_t err_cap) PROTO_WUR;

#endif
