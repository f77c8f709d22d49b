/*  ml_prs: polygenic risk scores, a linear model over additive ALT dosages.
 *
 *  Training (ml_prs_train) is "screen, then fit jointly": one pass over the int8 dosages
 *  gives every SNP's marginal association with the phenotype (mean-imputed, standardised on
 *  the fly, never materialised as doubles); the SNPs with a two-sided p-value below a
 *  threshold (at most max_snps of them, smallest p first) are then fitted jointly by ridge
 *  regression on their standardised dosages, with the Gram matrix accumulated over blocks
 *  of rows (dsyrk), so neighbouring SNPs in LD share an effect instead of each claiming
 *  it. Memory: the caller's dosage matrix plus O(M + S²) doubles for S selected SNPs.
 *  The learned weights are per ALT allele on the raw dosage scale.
 *
 *  Published weights load from a PGS Catalog-shaped scoring file (ml_prs_parse_tsv).
 *
 *  A PRS model is an ml_model_t of kind ML_MODEL_PRS whose feature id i is
 *  "RSID:EFFECT_ALLELE" (split at the last ':'). Applying it (ml_prs_apply) matches SNPs by
 *  rsid, then alleles: effect allele = ALT adds w * dosage, effect allele = REF adds
 *  w * (2 - dosage); any other allele is skipped and counted. A missing call takes the
 *  cohort's mean dosage at that SNP (as plink2 --score does by default).
 */
#ifndef GENIE_ML_PRS_H
#define GENIE_ML_PRS_H

#include <stddef.h>
#include <stdint.h>

#include "ml/ml_geno.h"
#include "ml/ml_model.h"
#include "ml/ml_synth.h"
#include "proto/proto_err.h"

/*  A read-only view of a genotype matrix: N samples x M SNPs, row-major int8 dosages
 *  (0/1/2 ALT alleles, -1 missing), M rsids, and the alleles either as single letters
 *  (REF1/ALT1, e.g. ml_cohort_t's) or as strings (REF/ALT); set one pair. */
typedef struct {
    size_t n, m;
    const int8_t *dosage;
    char *const *rsids;
    const char *ref1, *alt1;
    char *const *ref, *const *alt;
} ml_dosage_view_t;

/*  Views of the two genotype holders of ml/ (the view borrows their arrays: keep the holder
 *  alive while the view is used). */
ml_dosage_view_t ml_dosage_view_geno(const ml_geno_t *g);
ml_dosage_view_t ml_dosage_view_cohort(const ml_cohort_t *c);

typedef struct {
    double p_threshold; /* marginal two-sided p-value to enter the joint fit; 0 = 5e-8 */
    size_t max_snps;    /* cap on the SNPs fitted jointly; 0 = 2000, at most 5000 (the
                           S x S Gram matrix is S² doubles: 200 MB at 5000) */
    double l2;          /* ridge penalty on standardised dosages, relative to N
                           (penalty = l2 * N); 0 = 0.01; negative = none */
} ml_prs_opts_t;

/*  Trains a PRS on G against the quantitative phenotype Y (N values) into a new *OUT (the
 *  caller's; kind ML_MODEL_PRS, ids "rsid:ALT"). O may be NULL (defaults). The model
 *  gets the metric "n_snps_screened_in" (how many SNPs passed the threshold before the cap).
 *  Errors: ML_E_ARG (N < 3, NULL, non-finite Y, a dosage outside -1..2), ML_E_NO_VARIANCE
 *  (Y constant), ML_E_EMPTY (no SNP passed the threshold), ML_E_SINGULAR, PROTO_E_NOMEM;
 *  detail in ERR. */
int ml_prs_train(const ml_dosage_view_t *g, const double *y, const ml_prs_opts_t *o,
                 ml_model_t **out, char *err, size_t cap) PROTO_WUR;

/*  What ml_prs_apply matched. */
typedef struct {
    size_t matched;    /* model SNPs found with the effect allele as ALT or REF */
    size_t ref_effect; /* of which the effect allele was REF */
    size_t absent;     /* model SNPs whose rsid is not in the view */
    size_t mismatched; /* rsid found but the effect allele is neither REF nor ALT */
} ml_prs_match_t;

/*  Scores the N samples of G with the PRS model M into OUT (N values; the intercept plus
 *  every matched SNP's contribution). MATCH may be NULL. Errors: ML_E_ARG (NULL, a model
 *  that is not PRS, an id without ':'), ML_E_EMPTY (no SNP matched), PROTO_E_NOMEM. */
int ml_prs_apply(const ml_model_t *m, const ml_dosage_view_t *g, double *out, ml_prs_match_t *match,
                 char *err, size_t cap) PROTO_WUR;

/*  Parses a scoring file BUF (LEN bytes, <= ML_MODEL_MAX_BYTES) into a new PRS model *OUT:
 *  '#' lines are skipped; tab-separated; either a header naming the columns (rsID / rsid /
 *  ID / SNP, effect_allele / A1, effect_weight / weight / BETA; others ignored, as in PGS
 *  Catalog files) or no header and exactly "rsid effect_allele weight". Alleles are
 *  A/C/G/T strings (upper or lower case, stored upper). CRLF accepted. Intercept 0.
 *  Errors: ML_E_WEIGHTS with "line N: ..." in ERR (bad number, missing column, empty or
 *  repeated rsid, bad allele), ML_E_EMPTY (no weights), ML_E_TOO_BIG, PROTO_E_NOMEM. */
int ml_prs_parse_tsv(const char *buf, size_t len, ml_model_t **out, char *err,
                     size_t cap) PROTO_WUR;
/*  Reads PATH and parses it as above. Errors: PROTO_E_IO and ml_prs_parse_tsv's. */
int ml_prs_load_tsv(const char *path, ml_model_t **out, char *err, size_t cap) PROTO_WUR;

#endif
