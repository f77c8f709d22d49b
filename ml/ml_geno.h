/*  ml_geno: genotypes from 23andMe-style raw files and from VCF/BCF, as one matrix type.
 *
 *  ml_geno_t is n_samples x n_snps additive dosages (int8: 0, 1, 2 copies of the ALT allele,
 *  -1 missing) with the SNP map (rsid, chromosome, position, REF, ALT) and sample ids.
 *  A haploid call (X, Y, MT in males; a VCF GT with one allele) is coded 0 or 2 (hemizygous
 *  as homozygous). When a VCF carries DS (imputed dosage), it is kept beside the rounded
 *  calls as a float matrix `ds` (NAN where absent); a call missing from GT but present in
 *  DS takes round(DS).
 *
 *  23andMe-style files (parsed from a buffer): '#' comment lines; an optional header line
 *  "rsid<TAB>chromosome<TAB>position<TAB>genotype"; records of exactly 4 tab-separated
 *  fields ending in LF or CRLF: an id ([A-Za-z0-9_.:-], at most 64 bytes, e.g. rs123 or
 *  i700), a chromosome (1..22, X, Y, XY, MT), a position (1 .. 2^32-1) and a genotype of
 *  one or two letters from A C G T D I, or "--" (no call; "-" too). Empty lines are
 *  skipped. Errors say line and column (field).
 *  A 23andMe file has no REF/ALT: its calls are read against a reference SNP list
 *  (ml_snpref_t: rsid -> chromosome, position, REF, ALT; from a TSV or from a VCF-read
 *  ml_geno_t), and the result is aligned to the list: one column per listed SNP, -1 where
 *  the file has no call. Strand: a call whose alleles are REF/ALT is read directly; one
 *  whose alleles are only the complements of REF/ALT is a strand flip, fixed and counted;
 *  anything else is an allele error (counted, the call set missing). A/T and C/G SNPs
 *  are strand-ambiguous (a flip cannot be seen): read directly, flagged and counted.
 *  Indel SNPs (REF and ALT of different lengths) match 23andMe's D (the shorter allele)
 *  and I (the longer one).
 */
#ifndef GENIE_ML_GENO_H
#define GENIE_ML_GENO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/ml_mat.h"
#include "proto/proto_err.h"

/* Per-SNP flags */
#define ML_GENO_AMBIGUOUS 0x01u /* REF/ALT are complements (A/T, C/G): strand undetectable */
#define ML_GENO_FLIPPED 0x02u   /* 23andMe: calls were on the other strand, complemented */
#define ML_GENO_INDEL 0x04u     /* REF and ALT differ in length */

/*  Genotypes. Plain struct (the fields are the contract); every member owned by it.
 *  Dosage of sample i at SNP j is dosage[i * n_snps + j]. */
typedef struct {
    size_t n_samples, n_snps;
    int8_t *dosage;    /* n_samples * n_snps; 0/1/2 ALT copies, -1 missing */
    float *ds;         /* NULL, or n_samples * n_snps VCF DS values (NAN where absent) */
    char **rsids;      /* n_snps ids ("." in a VCF becomes "chrom:pos") */
    char **chrom;      /* n_snps chromosome names as written ("1", "X", "chr2", ...) */
    uint32_t *pos;     /* n_snps 1-based positions */
    char **ref, **alt; /* n_snps allele strings */
    uint8_t *flags;    /* n_snps ML_GENO_* flags */
    char **sample_ids; /* n_samples ids */
    char *arena;       /* NULL, or one block the SNP-map strings (rsids, chrom, ref, alt)
                          point into; they are then not freed one by one */
} ml_geno_t;

/*  Counters filled by the readers (every field a count of records or calls). */
typedef struct {
    uint64_t records;       /* data lines / VCF records read */
    uint64_t calls;         /* sample x SNP calls examined */
    uint64_t missing;       /* no-calls ("--", "./.") */
    uint64_t not_in_ref;    /* 23andMe records whose rsid the reference list lacks */
    uint64_t allele_errors; /* 23andMe calls matching neither REF/ALT nor their complement */
    uint64_t flipped;       /* 23andMe calls read on the other strand */
    uint64_t ambiguous;     /* 23andMe calls at A/T or C/G SNPs */
    uint64_t duplicates;    /* 23andMe records repeating an rsid (the first is kept) */
    uint64_t skipped;       /* VCF records skipped: not biallelic, or no GT/DS */
} ml_geno_stats_t;

/*  Limits on what a reader accepts. Start from ml_geno_limits_default(). */
typedef struct {
    size_t max_bytes;   /* buffer / file size, default 256 MiB */
    size_t max_snps;    /* records kept, default 2,000,000 */
    size_t max_samples; /* VCF samples, default 100,000 */
    bool any_alleles;   /* 23andMe scan: let a genotype of 1-2 printable characters through
                           (the visitor judges the alphabet; ml_validate counts them) */
} ml_geno_limits_t;

ml_geno_limits_t ml_geno_limits_default(void);

/*  New empty N x M genotype set: dosages -1, every string NULL, no ds. NULL on overflow or
 *  out of memory. Free with ml_geno_destroy. */
ml_geno_t *ml_geno_new(size_t n_samples, size_t n_snps);
/*  Frees the set and everything it owns; tolerates NULL; sets *self_p to NULL. */
void ml_geno_destroy(ml_geno_t **self_p);

/* ---- 23andMe ---- */

/*  One 23andMe record as seen by the scanner: pointers into the caller's buffer (not
 *  NUL-terminated), alleles as letters ('\0' when absent). */
typedef struct {
    const char *rsid;
    size_t rsid_len;
    const char *chrom;
    size_t chrom_len;
    uint32_t pos;
    char a1, a2; /* a1 == 0: no call; a2 == 0 with a1 set: a haploid call */
} ml_23_record_t;

/*  Called for each record with its 1-based line; a nonzero return stops the scan and is
 *  returned by it. */
typedef int (*ml_23_visit_fn)(void *arg, const ml_23_record_t *rec, size_t line);

/*  Checks and walks a 23andMe buffer without allocating: every line is validated (format,
 *  allele alphabet, chromosome, position), each record handed to VISIT (may be NULL),
 *  STATS (may be NULL) gets records, calls and missing. Errors: ML_E_PARSE (ERR says line
 *  and column), ML_E_TOO_BIG (past LIMITS, NULL: defaults), ML_E_EMPTY (no records), or
 *  VISIT's return. */
int ml_geno_scan_23andme(const uint8_t *data, size_t len, const ml_geno_limits_t *limits,
                         ml_23_visit_fn visit, void *arg, ml_geno_stats_t *stats, char *err,
                         size_t err_cap) PROTO_WUR;

/*  A reference SNP list: rsid -> chromosome, position, REF, ALT. Opaque. */
typedef struct ml_snpref_t ml_snpref_t;

/*  Parses a reference list from a TSV buffer: '#' comment lines, then
 *  "rsid<TAB>chrom<TAB>pos<TAB>ref<TAB>alt" lines (alleles of A C G T, or D/I). Unique rsids.
 *  New list in *OUT (free with ml_snpref_destroy). Errors: ML_E_PARSE (line, column),
 *  ML_E_TOO_BIG, ML_E_EMPTY, PROTO_E_NOMEM. */
int ml_snpref_parse(const uint8_t *data, size_t len, const ml_geno_limits_t *limits,
                    ml_snpref_t **out, char *err, size_t err_cap) PROTO_WUR;
/*  As ml_snpref_parse on the file at PATH. Extra error: PROTO_E_IO. */
int ml_snpref_load(const char *path, const ml_geno_limits_t *limits, ml_snpref_t **out, char *err,
                   size_t err_cap) PROTO_WUR;
/*  A reference list of G's SNPs (e.g. a cohort VCF read with ml_geno_read_vcf). Errors:
 *  ML_E_PARSE (a duplicate rsid), PROTO_E_NOMEM. */
int ml_snpref_from_geno(const ml_geno_t *g, ml_snpref_t **out, char *err, size_t err_cap) PROTO_WUR;
void ml_snpref_destroy(ml_snpref_t **self_p);
size_t ml_snpref_count(const ml_snpref_t *r);

/*  Reads one sample's 23andMe buffer against REF into a new 1 x ml_snpref_count(REF)
 *  genotype set *OUT (SNP map copied from REF, sample id SAMPLE_ID) and fills STATS (may
 *  be NULL). Errors: as ml_geno_scan_23andme, plus ML_E_ARG, PROTO_E_NOMEM. */
int ml_geno_parse_23andme(const uint8_t *data, size_t len, const ml_snpref_t *ref,
                          const char *sample_id, const ml_geno_limits_t *limits, ml_geno_t **out,
                          ml_geno_stats_t *stats, char *err, size_t err_cap) PROTO_WUR;
/*  As ml_geno_parse_23andme on the file at PATH. Extra error: PROTO_E_IO. */
int ml_geno_load_23andme(const char *path, const ml_snpref_t *ref, const char *sample_id,
                         const ml_geno_limits_t *limits, ml_geno_t **out, ml_geno_stats_t *stats,
                         char *err, size_t err_cap) PROTO_WUR;

/*  Stacks the samples of N genotype sets with the same SNPs (same rsids in the same order,
 *  e.g. 23andMe files read against one list) into a new set *OUT. Errors: ML_E_ARG (SNP
 *  lists differ, or N == 0), PROTO_E_NOMEM. */
int ml_geno_stack(const ml_geno_t *const *parts, size_t n, ml_geno_t **out, char *err,
                  size_t err_cap) PROTO_WUR;

/* ---- VCF / BCF (htslib) ---- */

/*  Reads a VCF (plain or bgzip) or BCF file at PATH through htslib: every biallelic record
 *  with GT or DS becomes a SNP (others are counted in stats->skipped). Errors: ML_E_HTS
 *  (cannot open / not a VCF / a record htslib refuses), ML_E_TOO_BIG, ML_E_EMPTY (no
 *  samples), PROTO_E_NOMEM. */
int ml_geno_read_vcf(const char *path, const ml_geno_limits_t *limits, ml_geno_t **out,
                     ml_geno_stats_t *stats, char *err, size_t err_cap) PROTO_WUR;
/*  As ml_geno_read_vcf from LEN bytes of VCF text at DATA (not BGZF or BCF), with no file
 *  access at all (for the validation enclave): the '#' lines build the header through
 *  htslib's bcf_hdr_append / bcf_hdr_add_sample, each record goes through vcf_parse.
 *  Errors as ml_geno_read_vcf; the header's errors carry their line. */
int ml_geno_parse_vcf(const uint8_t *data, size_t len, const ml_geno_limits_t *limits,
                      ml_geno_t **out, ml_geno_stats_t *stats, char *err, size_t err_cap) PROTO_WUR;

/*  Silences htslib's own stderr messages (warnings about undeclared FILTER/contig lines,
 *  refused records), process-wide: htslib's log level is global. For processes that must
 *  not print what a peer's data triggers (the validation enclave, fuzzers); errors still
 *  come back as codes and err text. */
void ml_geno_hts_quiet(void);

/* ---- helpers ---- */

/*  Mean ALT dosage of each SNP over its non-missing calls, into MEAN (n_snps doubles;
 *  0 for a SNP with no call): what missing calls are imputed with. */
void ml_geno_col_means(const ml_geno_t *g, double *mean);
/*  Index of the SNP with rsid RSID (linear scan): true and *J set, or false. */
bool ml_geno_find_snp(const ml_geno_t *g, const char *rsid, size_t *j);
/*  Fraction of non-missing calls of the whole matrix (1 for an empty one). */
double ml_geno_call_rate(const ml_geno_t *g);

#endif
