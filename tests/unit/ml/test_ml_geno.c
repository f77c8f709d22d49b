/*  test_ml_geno: genotype readers (ml/ml_geno.h). A synthetic cohort written as VCF (plain
 *  and BGZF, file and buffer) reads back with the same dosages and SNP map; its 23andMe
 *  files read against its reference list (TSV, or the VCF's own SNPs) give the same rows,
 *  and stacked give the whole matrix; strand flips are fixed, A/T C/G SNPs flagged,
 *  foreign alleles counted; haploid and indel calls; DS dosages; and a table of malformed
 *  23andMe / reference / VCF inputs each refused with its code and line/column.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_geno.h"
#include "ml/ml_synth.h"
#include "testutil.h"

static const uint8_t *U(const char *s)
{
    return (const uint8_t *)s;
}

static size_t s_diff_cohort(const ml_geno_t *g, const ml_cohort_t *c)
{
    size_t bad = 0;
    if (g->n_samples != c->n_samples || g->n_snps != c->n_snps)
        return SIZE_MAX;
    bad += memcmp(g->dosage, c->dosage, c->n_samples * c->n_snps) != 0;
    for (size_t j = 0; j < c->n_snps; j++) {
        char chrom[8];
        snprintf(chrom, sizeof chrom, "%u", (unsigned)c->chrom[j]);
        bad += strcmp(g->rsids[j], c->rsids[j]) != 0 || strcmp(g->chrom[j], chrom) != 0 ||
               g->pos[j] != c->pos[j] || g->ref[j][0] != c->ref[j] || g->ref[j][1] != 0 ||
               g->alt[j][0] != c->alt[j] || g->alt[j][1] != 0;
    }
    for (size_t i = 0; i < c->n_samples; i++)
        bad += strcmp(g->sample_ids[i], c->sample_ids[i]) != 0;
    return bad;
}

static void test_vcf_round_trip(const ml_cohort_t *c, const char *dir)
{
    char path[512], err[256] = "";
    ml_geno_stats_t st;
    for (int bgzip = 0; bgzip < 2; bgzip++) {
        ml_geno_t *g = NULL;
        snprintf(path, sizeof path, "%s/c.vcf%s", dir, bgzip ? ".gz" : "");
        CHECK_EQ(ml_cohort_write_vcf(c, path, bgzip, err, sizeof err), 0);
        CHECK_EQ(ml_geno_read_vcf(path, NULL, &g, &st, err, sizeof err), 0);
        if (!g) {
            printf("  %s\n", err);
            continue;
        }
        CHECK_EQ(s_diff_cohort(g, c), 0u);
        CHECK(g->ds == NULL);
        CHECK_EQ(st.records, c->n_snps);
        CHECK_EQ(st.calls, (uint64_t)c->n_snps * c->n_samples);
        ml_geno_destroy(&g);
    }
    char *buf = NULL;
    size_t len = 0;
    ml_geno_t *g = NULL;
    CHECK_EQ(ml_cohort_format_vcf(c, &buf, &len), 0);
    CHECK_EQ(ml_geno_parse_vcf(U(buf), len, NULL, &g, &st, err, sizeof err), 0);
    if (g) {
        CHECK_EQ(s_diff_cohort(g, c), 0u);
        size_t miss = 0;
        for (size_t k = 0; k < c->n_samples * c->n_snps; k++)
            miss += c->dosage[k] < 0;
        CHECK_EQ(st.missing, miss);
        CHECK(fabs(ml_geno_call_rate(g) -
                   (1.0 - (double)miss / (double)(c->n_samples * c->n_snps))) < 1e-12);
    }
    ml_geno_destroy(&g);
    ml_geno_limits_t lim = ml_geno_limits_default();
    lim.max_samples = c->n_samples - 1;
    CHECK_EQ(ml_geno_parse_vcf(U(buf), len, &lim, &g, NULL, err, sizeof err), ML_E_TOO_BIG);
    lim = ml_geno_limits_default();
    lim.max_snps = 3;
    CHECK_EQ(ml_geno_parse_vcf(U(buf), len, &lim, &g, NULL, err, sizeof err), ML_E_TOO_BIG);
    free(buf);
    CHECK_EQ(ml_geno_read_vcf("/nonexistent.vcf", NULL, &g, NULL, err, sizeof err), ML_E_HTS);
}

static void test_23andme_round_trip(const ml_cohort_t *c, const char *dir)
{
    char *buf = NULL, err[256] = "";
    size_t len = 0;
    ml_snpref_t *ref = NULL, *ref2 = NULL;
    ml_geno_t *vcf = NULL;
    CHECK_EQ(ml_cohort_format_ref(c, &buf, &len), 0);
    CHECK_EQ(ml_snpref_parse(U(buf), len, NULL, &ref, err, sizeof err), 0);
    free(buf);
    CHECK_EQ(ml_cohort_format_vcf(c, &buf, &len), 0);
    CHECK_EQ(ml_geno_parse_vcf(U(buf), len, NULL, &vcf, NULL, err, sizeof err), 0);
    free(buf);
    if (vcf)
        CHECK_EQ(ml_snpref_from_geno(vcf, &ref2, err, sizeof err), 0);
    if (!ref || !ref2)
        goto out;
    CHECK_EQ(ml_snpref_count(ref), c->n_snps);
    /* an array of pointers: sizeof *rows is meant */
    ml_geno_t **rows = calloc(c->n_samples, sizeof *rows); /* NOLINT(bugprone-sizeof-expression) */
    size_t bad = 0;
    for (size_t i = 0; i < c->n_samples && rows; i++) {
        ml_geno_stats_t st;
        ml_geno_t *g2 = NULL;
        CHECK_EQ(ml_cohort_format_23andme(c, i, &buf, &len), 0);
        CHECK_EQ(ml_geno_parse_23andme(U(buf), len, ref, c->sample_ids[i], NULL, &rows[i], &st, err,
                                       sizeof err),
                 0);
        CHECK_EQ(ml_geno_parse_23andme(U(buf), len, ref2, c->sample_ids[i], NULL, &g2, NULL, err,
                                       sizeof err),
                 0);
        free(buf);
        if (!rows[i] || !g2) {
            printf("  %s\n", err);
            ml_geno_destroy(&g2);
            bad++;
            break;
        }
        bad += memcmp(rows[i]->dosage, c->dosage + i * c->n_snps, c->n_snps) != 0;
        bad += memcmp(g2->dosage, rows[i]->dosage, c->n_snps) != 0;
        bad += st.allele_errors + st.flipped + st.not_in_ref + st.duplicates;
        bad += st.records != c->n_snps;
        ml_geno_destroy(&g2);
    }
    CHECK_EQ(bad, 0u);
    /* the files on disk, stacked into the cohort's matrix */
    CHECK_EQ(ml_cohort_write_23andme(c, dir, err, sizeof err), 0);
    ml_geno_t *one = NULL, *all = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/%s.txt", dir, c->sample_ids[1]);
    CHECK_EQ(ml_geno_load_23andme(path, ref, c->sample_ids[1], NULL, &one, NULL, err, sizeof err),
             0);
    if (one)
        CHECK(memcmp(one->dosage, c->dosage + c->n_snps, c->n_snps) == 0);
    ml_geno_destroy(&one);
    if (rows && bad == 0) {
        CHECK_EQ(ml_geno_stack((const ml_geno_t *const *)rows, c->n_samples, &all, err, sizeof err),
                 0);
        if (all)
            CHECK_EQ(s_diff_cohort(all, c), 0u);
        ml_geno_destroy(&all);
        const ml_geno_t *mix[2] = {rows[0], vcf};
        CHECK_EQ(ml_geno_stack(mix, 2, &all, err, sizeof err), 0);
        ml_geno_destroy(&all);
    }
    for (size_t i = 0; rows && i < c->n_samples; i++)
        ml_geno_destroy(&rows[i]);
    free(rows);
out:
    ml_snpref_destroy(&ref);
    ml_snpref_destroy(&ref2);
    ml_geno_destroy(&vcf);
}

static void test_strand_and_calls(void)
{
    const char *reftsv = "# rsid\tchrom\tpos\tref\talt\n"
                         "rs1\t1\t100\tA\tG\n"  /* plain */
                         "rs2\t1\t200\tA\tC\n"  /* file on the other strand: TG */
                         "rs3\t1\t300\tA\tT\n"  /* ambiguous */
                         "rs4\t1\t400\tC\tG\n"  /* ambiguous */
                         "rs5\t1\t500\tA\tG\n"  /* foreign allele in the file */
                         "rs6\tX\t600\tC\tT\n"  /* haploid */
                         "rs7\t2\t700\tAT\tA\n" /* deletion: ALT shorter -> D */
                         "rs8\t2\t800\tD\tI\n"  /* given as D/I */
                         "rs9\t2\t900\tG\tA\n"; /* absent from the file */
    const char *file = "# header\r\n"
                       "rsid\tchromosome\tposition\tgenotype\r\n"
                       "rs1\t1\t100\tAG\r\n"
                       "rs2\t1\t200\tTG\r\n"
                       "rs3\t1\t300\tTT\r\n"
                       "rs4\t1\t400\tCG\r\n"
                       "rs5\t1\t500\tAC\r\n"
                       "rs6\tX\t600\tT\r\n"
                       "rs7\t2\t700\tID\r\n"
                       "rs8\t2\t800\tII\r\n"
                       "rs1\t1\t100\tGG\r\n"
                       "i7000\tMT\t10\t--\r\n"
                       "\r\n";
    ml_snpref_t *ref = NULL;
    ml_geno_t *g = NULL;
    ml_geno_stats_t st;
    char err[256] = "";
    CHECK_EQ(ml_snpref_parse(U(reftsv), strlen(reftsv), NULL, &ref, err, sizeof err), 0);
    if (!ref) {
        printf("  %s\n", err);
        return;
    }
    CHECK_EQ(
        ml_geno_parse_23andme(U(file), strlen(file), ref, "me", NULL, &g, &st, err, sizeof err), 0);
    if (g) {
        static const int8_t want[9] = {1, 1, 2, 1, -1, 2, 1, 2, -1};
        CHECK(memcmp(g->dosage, want, 9) == 0);
        for (int j = 0; j < 9; j++)
            if (g->dosage[j] != want[j])
                printf("  rs%d: dosage %d, want %d\n", j + 1, g->dosage[j], want[j]);
        CHECK(g->flags[1] & ML_GENO_FLIPPED);
        CHECK(g->flags[2] & ML_GENO_AMBIGUOUS);
        CHECK(g->flags[3] & ML_GENO_AMBIGUOUS);
        CHECK(g->flags[6] & ML_GENO_INDEL);
        CHECK(!(g->flags[0] & (ML_GENO_FLIPPED | ML_GENO_AMBIGUOUS)));
        CHECK_EQ(st.records, 10u);
        CHECK_EQ(st.missing, 1u);
        CHECK_EQ(st.flipped, 1u);
        CHECK_EQ(st.ambiguous, 2u);
        CHECK_EQ(st.allele_errors, 1u);
        CHECK_EQ(st.duplicates, 1u);
        CHECK_EQ(st.not_in_ref, 1u);
        CHECK(!strcmp(g->sample_ids[0], "me") && !strcmp(g->rsids[6], "rs7"));
        double mean[9];
        ml_geno_col_means(g, mean);
        CHECK(mean[0] == 1.0 && mean[4] == 0.0);
        size_t j = 0;
        CHECK(ml_geno_find_snp(g, "rs8", &j) && j == 7);
        CHECK(!ml_geno_find_snp(g, "rs10", &j));
    }
    ml_geno_destroy(&g);
    CHECK_EQ(
        ml_geno_parse_23andme(U(file), strlen(file), NULL, "me", NULL, &g, &st, err, sizeof err),
        ML_E_ARG);
    ml_snpref_destroy(&ref);
}

static void test_ds(void)
{
    const char *vcf = "##fileformat=VCFv4.2\n##contig=<ID=1>\n"
                      "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n"
                      "##FORMAT=<ID=DS,Number=1,Type=Float,Description=\"Dosage\">\n"
                      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ta\tb\tc\n"
                      "1\t10\trs1\tA\tG\t.\t.\t.\tGT:DS\t0/1:0.9\t./.:1.8\t1|1:2\n"
                      "1\t20\t.\tC\tT,A\t.\t.\t.\tGT\t0/1\t0/0\t1/2\n"
                      "1\t30\trs3\tC\tT\t.\t.\t.\tGT\t1\t0\t.\n";
    ml_geno_t *g = NULL;
    ml_geno_stats_t st;
    char err[256] = "";
    CHECK_EQ(ml_geno_parse_vcf(U(vcf), strlen(vcf), NULL, &g, &st, err, sizeof err), 0);
    if (!g) {
        printf("  %s\n", err);
        return;
    }
    CHECK_EQ(g->n_samples, 3u);
    CHECK_EQ(g->n_snps, 2u);
    CHECK_EQ(st.skipped, 1u);
    CHECK(g->ds != NULL);
    /* sample-major: a = (1, 2), b = (round(1.8) = 2, 0), c = (2, missing) */
    static const int8_t want[6] = {1, 2, 2, 0, 2, -1};
    CHECK(memcmp(g->dosage, want, 6) == 0);
    if (g->ds) {
        CHECK(fabsf(g->ds[0] - 0.9f) < 1e-6f && fabsf(g->ds[2] - 1.8f) < 1e-6f);
        CHECK(isnan(g->ds[1]) && isnan(g->ds[5]));
    }
    CHECK(!strcmp(g->rsids[1], "rs3"));
    ml_geno_destroy(&g);
}

static void test_malformed(void)
{
    static const struct {
        const char *text;
        int code;
        const char *msg;
    } t23[] = {
        {"", ML_E_EMPTY, "no genotype records"},
        {"# only comments\n\n", ML_E_EMPTY, "no genotype records"},
        {"rs1\t1\t100\n", ML_E_PARSE, "line 1, column 3: expected 4"},
        {"rs1\t1\t100\tAG\tx\n", ML_E_PARSE, "line 1, column 5: expected 4"},
        {"#c\nrs1 1 100 AG\n", ML_E_PARSE, "line 2, column 1: expected 4"},
        {"rs1\t1\t100\tAG\nrs 2\t1\t100\tAG\n", ML_E_PARSE, "line 2, column 1: bad SNP id"},
        {"rs1\t23\t100\tAG\n", ML_E_PARSE, "line 1, column 2: bad chromosome"},
        {"rs1\tchr1\t100\tAG\n", ML_E_PARSE, "line 1, column 2: bad chromosome"},
        {"rs1\t1\t0\tAG\n", ML_E_PARSE, "line 1, column 3: bad position"},
        {"rs1\t1\t4294967296\tAG\n", ML_E_PARSE, "line 1, column 3: bad position"},
        {"rs1\t1\t1x\tAG\n", ML_E_PARSE, "line 1, column 3: bad position"},
        {"rs1\t1\t5\tAX\n", ML_E_PARSE, "line 1, column 4: bad genotype"},
        {"rs1\t1\t5\tAGT\n", ML_E_PARSE, "line 1, column 4: bad genotype"},
        {"rs1\t1\t5\t\n", ML_E_PARSE, "line 1, column 4: bad genotype"},
        {"rs1\t1\t5\tA-\n", ML_E_PARSE, "line 1, column 4: bad genotype"},
        {"rs1\t1\t5\tag\n", ML_E_PARSE, "line 1, column 4: bad genotype"},
    };
    for (size_t k = 0; k < sizeof t23 / sizeof t23[0]; k++) {
        char err[256] = "";
        int rc = ml_geno_scan_23andme(U(t23[k].text), strlen(t23[k].text), NULL, NULL, NULL, NULL,
                                      err, sizeof err);
        bool ok = rc == t23[k].code && strstr(err, t23[k].msg);
        if (!ok)
            printf("  23andme case %zu: rc %d err '%s'\n", k, rc, err);
        CHECK(ok);
    }
    static const struct {
        const char *text;
        int code;
        const char *msg;
    } tref[] = {
        {"#x\n", ML_E_EMPTY, "no SNPs"},
        {"rs1\t1\t100\tA\n", ML_E_PARSE, "line 1, column 4: expected 5"},
        {"rs1\t1\t100\tA\tA\n", ML_E_PARSE, "line 1, column 5: bad ALT"},
        {"rs1\t1\t100\tX\tA\n", ML_E_PARSE, "line 1, column 4: bad REF"},
        {"rs1\t1\t-3\tC\tA\n", ML_E_PARSE, "line 1, column 3: bad position"},
        {"rs1\t1\t3\tC\tA\nrs1\t1\t4\tC\tA\n", ML_E_PARSE, "duplicate rsid"},
    };
    for (size_t k = 0; k < sizeof tref / sizeof tref[0]; k++) {
        char err[256] = "";
        ml_snpref_t *r = NULL;
        int rc = ml_snpref_parse(U(tref[k].text), strlen(tref[k].text), NULL, &r, err, sizeof err);
        bool ok = rc == tref[k].code && strstr(err, tref[k].msg) && !r;
        if (!ok)
            printf("  ref case %zu: rc %d err '%s'\n", k, rc, err);
        CHECK(ok);
    }
    static const char *bad_vcf[] = {
        "",
        "not a vcf at all\n",
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t1\t.\tA\tG\t.\t."
        "\t.\n",
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts\n"
        "1\tx\t.\tA\tG\t.\t.\t.\tGT\t0/1\n",
    };
    for (size_t k = 0; k < sizeof bad_vcf / sizeof bad_vcf[0]; k++) {
        char err[256] = "";
        ml_geno_t *g = NULL;
        int rc =
            ml_geno_parse_vcf(U(bad_vcf[k]), strlen(bad_vcf[k]), NULL, &g, NULL, err, sizeof err);
        if (rc >= 0)
            printf("  vcf case %zu accepted\n", k);
        CHECK(rc == ML_E_HTS || rc == ML_E_EMPTY);
        CHECK(g == NULL && err[0]);
    }
    ml_geno_limits_t lim = ml_geno_limits_default();
    lim.max_snps = 1;
    const char *two = "rs1\t1\t1\tAA\nrs2\t1\t2\tAA\n";
    CHECK_EQ(ml_geno_scan_23andme(U(two), strlen(two), &lim, NULL, NULL, NULL, NULL, 0),
             ML_E_TOO_BIG);
}

int main(void)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.n_samples = 40;
    p.n_snps = 300;
    p.n_chrom = 2;
    p.missing_rate = 0.02;
    p.seed = 77;
    printf("cohort seed %llu\n", (unsigned long long)p.seed);
    ml_cohort_t *c = NULL;
    CHECK_EQ(ml_synth_cohort(&p, &c, NULL, 0), 0);
    const char *dir = testutil_tmpdir();
    if (c) {
        test_vcf_round_trip(c, dir);
        test_23andme_round_trip(c, dir);
    }
    ml_cohort_destroy(&c);
    testutil_rmtree(dir);
    test_strand_and_calls();
    test_ds();
    test_malformed();
    return testutil_done("test_ml_geno");
}
