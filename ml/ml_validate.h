/*  ml_validate: the checks the validation enclave runs on a donated buffer before data is
 *  accepted for training. Pure computation on memory: no file, no network, no clock.
 *
 *  Genotype buffers: a VCF text (it starts with "##fileformat=VCF") or else a 23andMe-style
 *  raw file (one sample). Checks, each a bit of checks_run / checks_passed:
 *    FORMAT     the buffer parses (otherwise the call returns its ML_E_* code)
 *    ALLELES    23andMe: every genotype letter is A C G T D I (or "--" for no call);
 *               VCF: every REF/ALT of a kept record is a string of A C G T N
 *    CALL_RATE  non-missing calls / calls >= ML_VALIDATE_MIN_CALL_RATE (0.90)
 *    HWE        VCF with at least 2 samples only: a Hardy-Weinberg exact test per SNP
 *               (Wigginton, Cutler & Abecasis 2005); p < ML_VALIDATE_HWE_P (1e-6) is a
 *               failure, and the check fails when failures exceed
 *               ML_VALIDATE_HWE_MAX_FRACTION (1%) of the SNPs tested (at least 1)
 *    SIZE       records within [ML_VALIDATE_GENO_MIN_RECORDS (100),
 *               ML_VALIDATE_GENO_MAX_RECORDS (2,000,000)]
 *  Phenotype buffers: a CSV (ml_csv.h). Checks:
 *    FORMAT     the CSV parses
 *    RANGES     columns with known names hold plausible values: age 0..130, bmi 10..80,
 *               height (cm) 30..250, weight (kg) 1..500, sex one of M F male female 0 1
 *               (any case); those numeric columns must be numeric; and no column is
 *               "mostly numbers" (>= 90% of its values) with some non-numbers
 *    SIZE       data rows within [1, ML_VALIDATE_PHENO_MAX_RECORDS (1,000,000)]
 *  call_rate is the fraction of non-missing calls (genotypes) or non-missing non-id cells
 *  (phenotypes). reason names the first failed check ("ok" when all passed).
 */
#ifndef GENIE_ML_VALIDATE_H
#define GENIE_ML_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

typedef enum { ML_DATA_GENOTYPE = 1, ML_DATA_PHENOTYPE = 2 } ml_datatype_t;

#define ML_CHECK_FORMAT 0x01u    /* parses */
#define ML_CHECK_ALLELES 0x02u   /* allele alphabet (ACGT, -, D/I) */
#define ML_CHECK_CALL_RATE 0x04u /* call rate >= threshold */
#define ML_CHECK_HWE 0x08u       /* genotype frequencies vs Hardy-Weinberg (multi-sample only) */
#define ML_CHECK_RANGES 0x10u    /* phenotype values in plausible ranges, types consistent */
#define ML_CHECK_SIZE 0x20u      /* record count within bounds */

#define ML_VALIDATE_MAX_BYTES ((size_t)64 << 20)
#define ML_VALIDATE_MIN_CALL_RATE 0.90
#define ML_VALIDATE_HWE_P 1e-6
#define ML_VALIDATE_HWE_MAX_FRACTION 0.01
#define ML_VALIDATE_GENO_MIN_RECORDS 100u
#define ML_VALIDATE_GENO_MAX_RECORDS 2000000u
#define ML_VALIDATE_PHENO_MAX_RECORDS 1000000u

typedef struct {
    ml_datatype_t type;
    uint64_t records; /* SNP records (genotypes) or data rows (phenotypes) */
    uint32_t checks_run, checks_passed;
    double call_rate;
    uint32_t hwe_failures; /* SNPs with HWE p below the threshold */
    char reason[128];
} ml_validation_t;

/*  Validates LEN bytes at DATA as TYPE and fills REPORT (always, also on error: then
 *  checks_run is FORMAT, checks_passed 0 and reason the parse error). Returns 0 when the
 *  data parsed (acceptable iff checks_passed == checks_run), or ML_E_TOO_BIG (over
 *  ML_VALIDATE_MAX_BYTES), ML_E_ARG (unknown TYPE), or the parser's code (ML_E_PARSE,
 *  ML_E_EMPTY, ML_E_HTS, ML_E_TOO_BIG...) with the detail in ERR; PROTO_E_NOMEM. */
int ml_validate_buffer(ml_datatype_t type, const uint8_t *data, size_t len, ml_validation_t *report,
                       char *err, size_t err_cap) PROTO_WUR;

/*  "genotype" / "phenotype"; "unknown" for anything else. */
const char *ml_datatype_name(ml_datatype_t type);
/*  Parses "genotype" or "phenotype" into *OUT. Errors: ML_E_ARG. */
int ml_datatype_parse(const char *name, ml_datatype_t *out) PROTO_WUR;

/*  Hardy-Weinberg exact test p-value (two-sided, Wigginton et al. 2005) for the genotype
 *  counts of one biallelic SNP; 1 when there is no call or no minor allele; NAN if memory
 *  ran out. */
double ml_validate_hwe_p(uint32_t n_hom_ref, uint32_t n_het, uint32_t n_hom_alt);

#endif
