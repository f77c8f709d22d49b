/*  bench_ml_data: how fast the data path runs on this machine, on synthetic cohorts.
 *
 *  Prints one line per measurement (best of five runs, CLOCK_MONOTONIC):
 *  - ml_validate_buffer on a ~1 MB 23andMe file (one sample, 40,000 SNPs): the validation
 *    enclave's common case, whose budget is well under 20 ms;
 *  - ml_geno_parse_23andme of the same file against its reference list;
 *  - ml_validate_buffer on a multi-sample VCF (500 samples x 2,000 SNPs, with HWE tests);
 *  - ml_csv_parse and ml_validate_buffer on a 100,000-row phenotype CSV;
 *  - ml_synth_cohort of 1,000 x 10,000.
 *  Usage: bench_ml_data [SEED] (default 1). Build without sanitizers for real numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ml/ml_csv.h"
#include "ml/ml_geno.h"
#include "ml/ml_synth.h"
#include "ml/ml_validate.h"

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define BEST_OF(label, bytes, stmt)                                                                \
    do {                                                                                           \
        double best_ = 1e9;                                                                        \
        for (int r_ = 0; r_ < 5; r_++) {                                                           \
            double t0_ = s_now();                                                                  \
            stmt;                                                                                  \
            double dt_ = s_now() - t0_;                                                            \
            if (dt_ < best_)                                                                       \
                best_ = dt_;                                                                       \
        }                                                                                          \
        printf("%-44s %9.3f ms  %8.1f MB/s\n", label, best_ * 1e3, (double)(bytes) / best_ / 1e6); \
    } while (0)

int main(int argc, char **argv)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    printf("bench_ml_data: seed %llu\n", (unsigned long long)p.seed);
    ml_cohort_t *c = NULL;
    ml_validation_t r;
    char err[256];
    int rc = 0;
    p.n_samples = 2;
    p.n_snps = 40000;
    p.missing_rate = 0.005;
    if (ml_synth_cohort(&p, &c, err, sizeof err))
        return 1;
    char *buf = NULL, *refbuf = NULL;
    size_t len = 0, reflen = 0;
    ml_snpref_t *ref = NULL;
    if (ml_cohort_format_23andme(c, 0, &buf, &len) || ml_cohort_format_ref(c, &refbuf, &reflen) ||
        ml_snpref_parse((const uint8_t *)refbuf, reflen, NULL, &ref, err, sizeof err))
        return 1;
    printf("23andMe file: %zu bytes, %zu SNPs\n", len, c->n_snps);
    BEST_OF("ml_validate_buffer 23andMe", len,
            rc |=
            ml_validate_buffer(ML_DATA_GENOTYPE, (const uint8_t *)buf, len, &r, err, sizeof err));
    BEST_OF("ml_geno_parse_23andme (against the list)", len, {
        ml_geno_t *g = NULL;
        rc |= ml_geno_parse_23andme((const uint8_t *)buf, len, ref, "s", NULL, &g, NULL, err,
                                    sizeof err);
        ml_geno_destroy(&g);
    });
    free(buf);
    free(refbuf);
    ml_snpref_destroy(&ref);
    ml_cohort_destroy(&c);

    p.n_samples = 500;
    p.n_snps = 2000;
    if (ml_synth_cohort(&p, &c, err, sizeof err) || ml_cohort_format_vcf(c, &buf, &len))
        return 1;
    printf("VCF: %zu bytes, %zu samples x %zu SNPs\n", len, c->n_samples, c->n_snps);
    ml_geno_hts_quiet();
    BEST_OF("ml_validate_buffer VCF (HWE)", len,
            rc |=
            ml_validate_buffer(ML_DATA_GENOTYPE, (const uint8_t *)buf, len, &r, err, sizeof err));
    free(buf);
    ml_cohort_destroy(&c);

    p.n_samples = 100000;
    p.n_snps = 10;
    if (ml_synth_cohort(&p, &c, err, sizeof err) || ml_cohort_format_csv(c, &buf, &len))
        return 1;
    printf("CSV: %zu bytes, %zu rows\n", len, c->n_samples);
    BEST_OF("ml_csv_parse", len, {
        ml_table_t *t = NULL;
        rc |= ml_csv_parse((const uint8_t *)buf, len, NULL, &t, err, sizeof err);
        ml_table_destroy(&t);
    });
    BEST_OF("ml_validate_buffer CSV", len,
            rc |=
            ml_validate_buffer(ML_DATA_PHENOTYPE, (const uint8_t *)buf, len, &r, err, sizeof err));
    free(buf);
    ml_cohort_destroy(&c);

    p.n_samples = 1000;
    p.n_snps = 10000;
    BEST_OF("ml_synth_cohort 1000 x 10000", p.n_samples * p.n_snps, {
        rc |= ml_synth_cohort(&p, &c, err, sizeof err);
        ml_cohort_destroy(&c);
    });
    if (rc)
        fprintf(stderr, "bench_ml_data: a call failed: %s\n", err);
    return rc ? 1 : 0;
}
