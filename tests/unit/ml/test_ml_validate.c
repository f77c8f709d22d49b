/*  test_ml_validate: the validation enclave's checks (ml/ml_validate.h). Synthetic 23andMe,
 *  VCF and CSV buffers pass every check they run; each check fails on data built to break
 *  it (foreign allele letters, low call rate, too few records, SNPs pushed out of
 *  Hardy-Weinberg, ages/BMI/sex out of range, a mostly-numeric column with strays);
 *  unparseable buffers return their code with a FORMAT-only report; and the exact HWE
 *  p-value agrees with a direct sum over the exact null distribution.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_geno.h"
#include "ml/ml_synth.h"
#include "ml/ml_validate.h"
#include "testutil.h"

#define GENO_ALL (ML_CHECK_FORMAT | ML_CHECK_ALLELES | ML_CHECK_CALL_RATE | ML_CHECK_SIZE)

static int s_val(ml_datatype_t ty, const char *s, size_t len, ml_validation_t *r)
{
    char err[256] = "";
    return ml_validate_buffer(ty, (const uint8_t *)s, len, r, err, sizeof err);
}

/* P(het = h) under HWE given n genotypes and nA copies of one allele (Levene 1949). */
static double s_lp(unsigned n, unsigned na, unsigned h)
{
    unsigned nb = 2 * n - na, aa = (na - h) / 2, bb = (nb - h) / 2;
    return lgamma(n + 1.0) - lgamma(aa + 1.0) - lgamma(h + 1.0) - lgamma(bb + 1.0) + h * log(2.0) +
           lgamma(na + 1.0) + lgamma(nb + 1.0) - lgamma(2.0 * n + 1.0);
}

static double s_hwe_direct(unsigned aa, unsigned ab, unsigned bb)
{
    unsigned n = aa + ab + bb, na = 2 * aa + ab;
    double obs = exp(s_lp(n, na, ab)), p = 0;
    unsigned minor = na < 2 * n - na ? na : 2 * n - na;
    for (unsigned h = minor % 2; h <= minor; h += 2) {
        double q = exp(s_lp(n, na, h));
        if (q <= obs * (1 + 1e-9))
            p += q;
    }
    return p > 1 ? 1 : p;
}

static void test_hwe_p(void)
{
    static const unsigned cases[][3] = {{25, 50, 25}, {0, 100, 0}, {50, 0, 50}, {81, 18, 1},
                                        {60, 20, 20}, {10, 1, 0},  {3, 9, 1},   {400, 150, 50},
                                        {0, 0, 7},    {1, 0, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double p = ml_validate_hwe_p(cases[k][0], cases[k][1], cases[k][2]);
        double q = s_hwe_direct(cases[k][0], cases[k][1], cases[k][2]);
        bool ok = fabs(p - q) <= 1e-9 * (q > 1e-300 ? 1 : 0) + 1e-6 * q + 1e-300;
        if (!ok)
            printf("  hwe(%u,%u,%u): %.6g vs direct %.6g\n", cases[k][0], cases[k][1], cases[k][2],
                   p, q);
        CHECK(ok);
    }
    CHECK(ml_validate_hwe_p(25, 50, 25) > 0.5);
    CHECK(ml_validate_hwe_p(0, 100, 0) < 1e-20);
    CHECK(ml_validate_hwe_p(0, 0, 0) == 1.0);
    CHECK(ml_validate_hwe_p(81, 18, 1) == ml_validate_hwe_p(1, 18, 81));
}

static void test_genotypes(void)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.n_samples = 200;
    p.n_snps = 400;
    p.seed = 5150;
    p.missing_rate = 0.01;
    printf("test_genotypes: seed %llu\n", (unsigned long long)p.seed);
    ml_cohort_t *c = NULL;
    ml_validation_t r;
    char *buf = NULL;
    size_t len = 0;
    CHECK_EQ(ml_synth_cohort(&p, &c, NULL, 0), 0);
    if (!c)
        return;
    /* 23andMe: one sample, no HWE */
    CHECK_EQ(ml_cohort_format_23andme(c, 0, &buf, &len), 0);
    CHECK_EQ(s_val(ML_DATA_GENOTYPE, buf, len, &r), 0);
    CHECK_EQ(r.checks_run, GENO_ALL);
    CHECK_EQ(r.checks_passed, r.checks_run);
    CHECK_EQ(r.records, c->n_snps);
    CHECK(r.call_rate > 0.95 && !strcmp(r.reason, "ok") && r.type == ML_DATA_GENOTYPE);
    /* a foreign letter */
    char *bad = strdup(buf);
    char *line = strstr(bad, "\n"
                             "rs");
    char *gt = strchr(strchr(strchr(line + 1, '\t') + 1, '\t') + 1, '\t') + 1;
    gt[0] = 'X';
    CHECK_EQ(s_val(ML_DATA_GENOTYPE, bad, len, &r), 0);
    CHECK_EQ(r.checks_passed, GENO_ALL & ~ML_CHECK_ALLELES);
    CHECK(strstr(r.reason, "alleles") != NULL);
    free(bad);
    free(buf);
    /* low call rate: 20% of the sample's calls missing */
    ml_cohort_t *c2 = NULL;
    ml_synth_params_t p2 = p;
    p2.missing_rate = 0.2;
    CHECK_EQ(ml_synth_cohort(&p2, &c2, NULL, 0), 0);
    if (c2) {
        CHECK_EQ(ml_cohort_format_23andme(c2, 0, &buf, &len), 0);
        CHECK_EQ(s_val(ML_DATA_GENOTYPE, buf, len, &r), 0);
        CHECK_EQ(r.checks_passed, GENO_ALL & ~ML_CHECK_CALL_RATE);
        CHECK(r.call_rate < 0.9 && strstr(r.reason, "call rate"));
        free(buf);
        CHECK_EQ(ml_cohort_format_vcf(c2, &buf, &len), 0);
        CHECK_EQ(s_val(ML_DATA_GENOTYPE, buf, len, &r), 0);
        CHECK(!(r.checks_passed & ML_CHECK_CALL_RATE));
        free(buf);
        ml_cohort_destroy(&c2);
    }
    /* too few records */
    const char *tiny = "rs1\t1\t100\tAG\nrs2\t1\t200\tCC\n";
    CHECK_EQ(s_val(ML_DATA_GENOTYPE, tiny, strlen(tiny), &r), 0);
    CHECK_EQ(r.checks_passed, GENO_ALL & ~ML_CHECK_SIZE);
    CHECK(strstr(r.reason, "size") != NULL);
    /* VCF: every check including HWE passes */
    CHECK_EQ(ml_cohort_format_vcf(c, &buf, &len), 0);
    CHECK_EQ(s_val(ML_DATA_GENOTYPE, buf, len, &r), 0);
    CHECK_EQ(r.checks_run, GENO_ALL | ML_CHECK_HWE);
    CHECK_EQ(r.checks_passed, r.checks_run);
    printf("  cohort VCF: %u HWE failures of %zu SNPs\n", r.hwe_failures, c->n_snps);
    CHECK(r.hwe_failures <= 1);
    free(buf);
    /* distort 20 SNPs: every call heterozygous, then every call homozygous */
    for (int mode = 0; mode < 2; mode++) {
        for (size_t j = 0; j < 20; j++)
            for (size_t i = 0; i < c->n_samples; i++)
                c->dosage[i * c->n_snps + j * 17] = (int8_t)(mode == 0 ? 1 : (i % 2) * 2);
        CHECK_EQ(ml_cohort_format_vcf(c, &buf, &len), 0);
        CHECK_EQ(s_val(ML_DATA_GENOTYPE, buf, len, &r), 0);
        CHECK(r.hwe_failures >= 20);
        CHECK_EQ(r.checks_passed, GENO_ALL);
        CHECK(strstr(r.reason, "HWE") != NULL);
        free(buf);
    }
    ml_cohort_destroy(&c);
}

static void test_phenotypes(void)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.seed = 8;
    ml_cohort_t *c = NULL;
    ml_validation_t r;
    char *buf = NULL;
    size_t len = 0;
    printf("test_phenotypes: seed %llu\n", (unsigned long long)p.seed);
    CHECK_EQ(ml_synth_cohort(&p, &c, NULL, 0), 0);
    if (!c)
        return;
    const uint32_t all = ML_CHECK_FORMAT | ML_CHECK_RANGES | ML_CHECK_SIZE;
    CHECK_EQ(ml_cohort_format_csv(c, &buf, &len), 0);
    CHECK_EQ(s_val(ML_DATA_PHENOTYPE, buf, len, &r), 0);
    CHECK_EQ(r.checks_run, all);
    CHECK_EQ(r.checks_passed, all);
    CHECK_EQ(r.records, c->n_samples);
    CHECK(r.call_rate < 1.0 && r.call_rate > 0.95);
    free(buf);
    static const struct {
        const char *csv;
        uint32_t passed;
        const char *reason;
    } cases[] = {
        {"id,age\na,30\nb,150\n", ML_CHECK_FORMAT | ML_CHECK_SIZE, "age 150 outside"},
        {"id,AGE\na,-1\n", ML_CHECK_FORMAT | ML_CHECK_SIZE, "AGE -1 outside"},
        {"id,bmi\na,22\nb,5\n", ML_CHECK_FORMAT | ML_CHECK_SIZE, "bmi 5 outside"},
        {"id,bmi\na,22\nb,fat\n", ML_CHECK_FORMAT | ML_CHECK_SIZE, "'bmi' is not numeric"},
        {"id,sex\na,M\nb,female\nc,X\n", ML_CHECK_FORMAT | ML_CHECK_SIZE, "'X' not one of"},
        {"id,sex\na,0\nb,1\n", all, "ok"},
        {"id,ldl\na,1\nb,2\nc,3\nd,4\ne,5\nf,6\ng,7\nh,8\ni,9\nj,10\nk,oops\n",
         ML_CHECK_FORMAT | ML_CHECK_SIZE, "mixes numbers"},
        {"id,smoker\na,yes\nb,no\n", all, "ok"},
        {"id,age\n", ML_CHECK_FORMAT | ML_CHECK_RANGES, "size: 0 records"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        CHECK_EQ(s_val(ML_DATA_PHENOTYPE, cases[k].csv, strlen(cases[k].csv), &r), 0);
        bool ok = r.checks_run == all && r.checks_passed == cases[k].passed &&
                  strstr(r.reason, cases[k].reason);
        if (!ok)
            printf("  csv case %zu: passed 0x%x reason '%s'\n", k, r.checks_passed, r.reason);
        CHECK(ok);
    }
    ml_cohort_destroy(&c);
}

static void test_refusals(void)
{
    ml_validation_t r;
    char err[256] = "";
    const char *garbage = "rs1\t1\t100\tAG\nthis is not a genotype line\n";
    CHECK_EQ(ml_validate_buffer(ML_DATA_GENOTYPE, (const uint8_t *)garbage, strlen(garbage), &r,
                                err, sizeof err),
             ML_E_PARSE);
    CHECK_EQ(r.checks_run, ML_CHECK_FORMAT);
    CHECK_EQ(r.checks_passed, 0u);
    CHECK(strstr(err, "line 2") && strstr(r.reason, "line 2"));
    const char *badcsv = "id,a\n1,\"x\n";
    CHECK_EQ(ml_validate_buffer(ML_DATA_PHENOTYPE, (const uint8_t *)badcsv, strlen(badcsv), &r, err,
                                sizeof err),
             ML_E_PARSE);
    CHECK(strstr(r.reason, "unterminated quote") != NULL);
    const char *badvcf = "##fileformat=VCFv4.2\nnot a header\n";
    CHECK_EQ(ml_validate_buffer(ML_DATA_GENOTYPE, (const uint8_t *)badvcf, strlen(badvcf), &r, err,
                                sizeof err),
             ML_E_HTS);
    CHECK_EQ(ml_validate_buffer(ML_DATA_GENOTYPE, NULL, 0, &r, err, sizeof err), ML_E_EMPTY);
    CHECK_EQ(ml_validate_buffer((ml_datatype_t)7, (const uint8_t *)"x", 1, &r, err, sizeof err),
             ML_E_ARG);
    CHECK_EQ(r.checks_passed, 0u);
    uint8_t *big = calloc(ML_VALIDATE_MAX_BYTES + 1, 1);
    if (big) {
        CHECK_EQ(ml_validate_buffer(ML_DATA_PHENOTYPE, big, ML_VALIDATE_MAX_BYTES + 1, &r, err,
                                    sizeof err),
                 ML_E_TOO_BIG);
        free(big);
    }
    ml_datatype_t t = 0;
    CHECK_EQ(ml_datatype_parse("genotype", &t), 0);
    CHECK_EQ(t, ML_DATA_GENOTYPE);
    CHECK_EQ(ml_datatype_parse("phenotype", &t), 0);
    CHECK_EQ(t, ML_DATA_PHENOTYPE);
    CHECK_EQ(ml_datatype_parse("Genotype", &t), ML_E_ARG);
    CHECK_EQ(ml_datatype_parse(NULL, &t), ML_E_ARG);
    CHECK(!strcmp(ml_datatype_name(ML_DATA_GENOTYPE), "genotype"));
    CHECK(!strcmp(ml_datatype_name(ML_DATA_PHENOTYPE), "phenotype"));
    CHECK(!strcmp(ml_datatype_name((ml_datatype_t)0), "unknown"));
}

int main(void)
{
    ml_geno_hts_quiet();
    test_hwe_p();
    test_genotypes();
    test_phenotypes();
    test_refusals();
    return testutil_done("test_ml_validate");
}
