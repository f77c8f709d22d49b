/*  ml_synth: seeded synthetic cohorts for tests, benchmarks and demos.
 *
 *  A cohort is N samples x M biallelic SNPs with realistic structure:
 *  - allele frequencies: the ALT allele is the minor one, its frequency drawn from a
 *    U-shaped Beta(0.5, 0.5) folded to [0, 0.5] with a floor (default 0.01);
 *  - linkage disequilibrium: SNPs fall into blocks; within a block each haplotype is a
 *    latent Gaussian AR(1) chain (neighbour correlation rho) thresholded at the quantile
 *    of each SNP's allele frequency (a Gaussian copula), so neighbouring alleles are
 *    correlated while every SNP keeps exactly its allele frequency; blocks are independent;
 *  - genotypes: the sum of two independent haplotypes (Hardy-Weinberg by construction),
 *    as an additive ALT dosage 0/1/2, optionally with missing calls (-1) at a chosen rate;
 *  - a quantitative phenotype from K causal SNPs: effects ~ N(0, 1), the genetic value
 *    centred and scaled to variance h2 in the sample, plus N(0, 1 - h2) noise;
 *  - a binary trait by liability threshold: 1 when the quantitative phenotype (the
 *    liability, variance ~1) exceeds the standard normal quantile 1 - prevalence;
 *  - covariates for the phenotype CSV: age (18..90), sex (M/F), BMI (some missing).
 *  The same parameters and seed always give the same cohort (a private xoshiro256**
 *  generator; no global state).
 */
#ifndef GENIE_ML_SYNTH_H
#define GENIE_ML_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

/*  Generation parameters. Start from ml_synth_params_default() and change fields. */
typedef struct {
    size_t n_samples;    /* N, 1 .. 1,000,000 */
    size_t n_snps;       /* M, 1 .. 10,000,000 (N * M <= 2^32) */
    size_t n_causal;     /* K <= M causal SNPs */
    double h2;           /* heritability in [0, 1] */
    double prevalence;   /* binary trait prevalence in (0, 1) */
    uint64_t seed;       /* generator seed */
    size_t n_chrom;      /* SNPs spread over chromosomes 1..n_chrom (1..22), default 1 */
    size_t block_len;    /* LD block length in SNPs (>= 1), default 20 */
    double ld_rho;       /* latent neighbour correlation within a block in [0, 1), default 0.95 */
    double maf_floor;    /* minimum minor allele frequency in (0, 0.5], default 0.01 */
    double missing_rate; /* fraction of genotype calls set missing in [0, 1), default 0 */
    double bmi_missing;  /* fraction of BMI values missing in the CSV, default 0.05 */
} ml_synth_params_t;

/*  A generated cohort. Plain struct: the fields are the contract; the cohort owns them all.
 *  Dosage of sample i at SNP j is dosage[i * n_snps + j]: 0, 1, 2 ALT alleles or -1 missing. */
typedef struct {
    size_t n_samples, n_snps, n_causal;
    uint64_t seed;
    double h2, prevalence;
    int8_t *dosage;      /* n_samples * n_snps */
    char **rsids;        /* n_snps strings "rs<number>" */
    uint8_t *chrom;      /* n_snps chromosome numbers 1..22 */
    uint32_t *pos;       /* n_snps 1-based positions, increasing within a chromosome */
    char *ref, *alt;     /* n_snps alleles, each one of 'A' 'C' 'G' 'T', ref != alt */
    double *alt_freq;    /* n_snps generating ALT allele frequencies (the population truth) */
    char **sample_ids;   /* n_samples strings "S000001"... */
    size_t *causal_idx;  /* n_causal SNP indices, increasing */
    double *causal_beta; /* n_causal effects per ALT allele on the quantitative phenotype */
    double *quant;       /* n_samples quantitative phenotype values (the liability) */
    uint8_t *trait;      /* n_samples binary trait values 0/1 */
    double *genetic;     /* n_samples genetic values (variance h2 in the sample) */
    uint8_t *age;        /* n_samples ages 18..90 */
    char *sex;           /* n_samples 'M' or 'F' */
    double *bmi;         /* n_samples BMI values; NAN when missing */
} ml_cohort_t;

/*  Defaults: 100 samples, 1000 SNPs, 10 causal, h2 0.5, prevalence 0.1, seed 1, one
 *  chromosome, blocks of 20, rho 0.95, MAF floor 0.01, no missing calls, 5% BMI missing. */
ml_synth_params_t ml_synth_params_default(void);

/*  Generates a cohort from PARAMS into *OUT (a new cohort the caller frees with
 *  ml_cohort_destroy). Errors: ML_E_ARG (a parameter out of range; detail in ERR),
 *  PROTO_E_NOMEM. *OUT is NULL on error. */
int ml_synth_cohort(const ml_synth_params_t *params, ml_cohort_t **out, char *err,
                    size_t err_cap) PROTO_WUR;

/*  Frees the cohort and everything it owns; tolerates NULL; sets *self_p to NULL. */
void ml_cohort_destroy(ml_cohort_t **self_p);

/*  Renders the cohort as VCF 4.2 text (all samples, GT only, unphased, "./." for missing)
 *  into a new malloc'd buffer *BUF of *LEN bytes (NUL-terminated; the caller frees it).
 *  Errors: PROTO_E_NOMEM. */
int ml_cohort_format_vcf(const ml_cohort_t *c, char **buf, size_t *len) PROTO_WUR;

/*  Writes the VCF to PATH, BGZF-compressed through htslib when BGZIP is nonzero (a .vcf.gz
 *  that bcftools and tabix read), plain text otherwise. Errors: ML_E_HTS, PROTO_E_NOMEM. */
int ml_cohort_write_vcf(const ml_cohort_t *c, const char *path, int bgzip, char *err,
                        size_t err_cap) PROTO_WUR;

/*  Renders sample I (I < n_samples) as a 23andMe-style raw file: '#' comment header, then
 *  "rsid<TAB>chromosome<TAB>position<TAB>genotype" lines; the genotype's two letters are on
 *  the + strand in alphabetical order, "--" when missing. New malloc'd buffer as above.
 *  Errors: ML_E_ARG, PROTO_E_NOMEM. */
int ml_cohort_format_23andme(const ml_cohort_t *c, size_t i, char **buf, size_t *len) PROTO_WUR;

/*  Writes every sample's 23andMe file as DIR/<sample id>.txt. Errors: PROTO_E_IO (detail in
 *  ERR), PROTO_E_NOMEM. */
int ml_cohort_write_23andme(const ml_cohort_t *c, const char *dir, char *err,
                            size_t err_cap) PROTO_WUR;

/*  Renders the phenotype table as CSV: header "id,age,sex,bmi,trait,quant", one row per
 *  sample, missing BMI as "NA". New malloc'd buffer as above. Errors: PROTO_E_NOMEM. */
int ml_cohort_format_csv(const ml_cohort_t *c, char **buf, size_t *len) PROTO_WUR;

/*  Writes the phenotype CSV to PATH. Errors: PROTO_E_IO, PROTO_E_NOMEM. */
int ml_cohort_write_csv(const ml_cohort_t *c, const char *path, char *err,
                        size_t err_cap) PROTO_WUR;

/*  Writes a reference SNP list to PATH, the TSV ml_geno reads to give 23andMe files their
 *  alleles: "rsid<TAB>chrom<TAB>pos<TAB>ref<TAB>alt" per line after a '#' header.
 *  Errors: PROTO_E_IO, PROTO_E_NOMEM. */
int ml_cohort_write_ref(const ml_cohort_t *c, const char *path, char *err,
                        size_t err_cap) PROTO_WUR;

/*  Renders the reference SNP list as above into a new malloc'd buffer. */
int ml_cohort_format_ref(const ml_cohort_t *c, char **buf, size_t *len) PROTO_WUR;

#endif
