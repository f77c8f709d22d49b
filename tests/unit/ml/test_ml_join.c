/*  test_ml_join: genotypes + phenotype table -> data set (ml/ml_join.h). A synthetic cohort
 *  (VCF + CSV, some samples only on one side, missing calls) joins into exactly the shared
 *  samples with the cohort's dosages, mean-imputed missing calls and its labels; an rsid
 *  list picks and orders SNPs; covariates come numeric (mean-imputed) and one-hot (with and
 *  without the first level); binary/numeric labels; and each refusal has its code.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_join.h"
#include "ml/ml_synth.h"
#include "testutil.h"

static const uint8_t *U(const char *s)
{
    return (const uint8_t *)s;
}

static void test_cohort_join(void)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.n_samples = 120;
    p.n_snps = 60;
    p.missing_rate = 0.03;
    p.seed = 31;
    printf("test_cohort_join: seed %llu\n", (unsigned long long)p.seed);
    ml_cohort_t *c = NULL;
    ml_geno_t *g = NULL;
    ml_table_t *t = NULL;
    ml_dataset_t *d = NULL;
    char *vcf = NULL, *csv = NULL, err[256] = "";
    size_t vlen = 0, clen = 0;
    CHECK_EQ(ml_synth_cohort(&p, &c, NULL, 0), 0);
    if (!c)
        return;
    CHECK_EQ(ml_cohort_format_vcf(c, &vcf, &vlen), 0);
    CHECK_EQ(ml_geno_parse_vcf(U(vcf), vlen, NULL, &g, NULL, err, sizeof err), 0);
    /* the table lacks the first 10 samples and has 5 strangers */
    CHECK_EQ(ml_cohort_format_csv(c, &csv, &clen), 0);
    char *body = strchr(csv, '\n') + 1;
    for (int k = 0; k < 10; k++)
        body = strchr(body, '\n') + 1;
    size_t blen = strlen(body);
    char *tab = malloc(blen + 512);
    int off = sprintf(tab, "id,age,sex,bmi,trait,quant\n");
    memcpy(tab + off, body, blen);
    off += (int)blen;
    for (int k = 0; k < 5; k++)
        off += sprintf(tab + off, "X%d,40,F,25,1,0.5\n", k);
    CHECK_EQ(ml_csv_parse(U(tab), (size_t)off, NULL, &t, err, sizeof err), 0);
    if (!g || !t)
        goto out;
    ml_join_opts_t o = {.label = "trait"};
    ml_join_stats_t st;
    CHECK_EQ(ml_join(g, t, &o, &d, &st, err, sizeof err), 0);
    if (!d)
        goto out;
    CHECK_EQ(st.joined, 110u);
    CHECK_EQ(st.geno_only, 10u);
    CHECK_EQ(st.table_only, 5u);
    CHECK(st.binary);
    CHECK_EQ(d->x->rows, 110u);
    CHECK_EQ(d->x->cols, c->n_snps);
    size_t bad = 0, missing = 0;
    double mean[64] = {0};
    for (size_t j = 0; j < c->n_snps; j++) {
        double s = 0;
        size_t cnt = 0;
        for (size_t i = 10; i < c->n_samples; i++)
            if (c->dosage[i * c->n_snps + j] >= 0)
                s += c->dosage[i * c->n_snps + j], cnt++;
        mean[j] = cnt ? s / (double)cnt : 0;
        bad += strcmp(d->feature_ids[j], c->rsids[j]) != 0;
    }
    for (size_t r = 0; r < 110; r++) {
        size_t i = r + 10;
        bad += strcmp(d->sample_ids[r], c->sample_ids[i]) != 0;
        bad += d->y[r] != c->trait[i];
        for (size_t j = 0; j < c->n_snps; j++) {
            int8_t v = c->dosage[i * c->n_snps + j];
            double want = v >= 0 ? v : mean[j];
            missing += v < 0;
            bad += fabs(ml_mat_row(d->x, r)[j] - want) > 1e-12;
        }
    }
    CHECK_EQ(bad, 0u);
    CHECK_EQ(st.imputed_calls, missing);
    CHECK(missing > 0);
    ml_dataset_destroy(&d);
    /* chosen SNPs, numeric label, covariates */
    const char *rs[2] = {c->rsids[7], c->rsids[3]};
    const char *cv[3] = {"age", "sex", "bmi"};
    o = (ml_join_opts_t){
        .label = "quant", .rsids = rs, .n_rsids = 2, .covariates = cv, .n_covariates = 3};
    CHECK_EQ(ml_join(g, t, &o, &d, &st, err, sizeof err), 0);
    if (d) {
        CHECK(!st.binary);
        CHECK_EQ(d->x->cols, 2u + 1 + 2 + 1);
        CHECK(!strcmp(d->feature_ids[0], c->rsids[7]) && !strcmp(d->feature_ids[1], c->rsids[3]));
        CHECK(!strcmp(d->feature_ids[2], "age"));
        CHECK(!strncmp(d->feature_ids[3], "sex=", 4) && !strncmp(d->feature_ids[4], "sex=", 4));
        CHECK(!strcmp(d->feature_ids[5], "bmi"));
        size_t bad2 = 0, nan_bmi = 0;
        for (size_t r = 0; r < d->x->rows; r++) {
            const double *x = ml_mat_row(d->x, r);
            size_t i = r + 10;
            bad2 += x[2] != c->age[i];
            bad2 += x[3] + x[4] != 1.0;
            bad2 += (x[3] == 1.0) != (c->sex[i] == d->feature_ids[3][4]);
            bad2 += fabs(d->y[r] - c->quant[i]) > 1e-6;
            bad2 += isnan(x[5]);
            nan_bmi += isnan(c->bmi[i]);
        }
        CHECK_EQ(bad2, 0u);
        CHECK_EQ(st.imputed_values, nan_bmi);
    }
    ml_dataset_destroy(&d);
    o.drop_first = true;
    CHECK_EQ(ml_join(g, t, &o, &d, &st, err, sizeof err), 0);
    if (d)
        CHECK_EQ(d->x->cols, 2u + 1 + 1 + 1);
    ml_dataset_destroy(&d);
    /* refusals */
    o = (ml_join_opts_t){.label = "quant", .kind = ML_LABEL_BINARY};
    CHECK_EQ(ml_join(g, t, &o, &d, NULL, err, sizeof err), ML_E_ARG);
    o = (ml_join_opts_t){.label = "nope"};
    CHECK_EQ(ml_join(g, t, &o, &d, NULL, err, sizeof err), ML_E_NOT_FOUND);
    o = (ml_join_opts_t){.label = "sex"};
    CHECK_EQ(ml_join(g, t, &o, &d, NULL, err, sizeof err), ML_E_ARG);
    const char *rs_bad[1] = {"rs0"};
    o = (ml_join_opts_t){.label = "trait", .rsids = rs_bad, .n_rsids = 1};
    CHECK_EQ(ml_join(g, t, &o, &d, NULL, err, sizeof err), ML_E_NOT_FOUND);
    const char *cv_bad[1] = {"id"};
    o = (ml_join_opts_t){.label = "trait", .covariates = cv_bad, .n_covariates = 1};
    CHECK_EQ(ml_join(g, t, &o, &d, NULL, err, sizeof err), ML_E_ARG);
    o = (ml_join_opts_t){
        .label = "trait", .covariates = cv + 1, .n_covariates = 1, .max_levels = 1};
    CHECK_EQ(ml_join(g, t, &o, &d, NULL, err, sizeof err), ML_E_ARG);
    CHECK(d == NULL);
out:
    ml_dataset_destroy(&d);
    ml_table_destroy(&t);
    ml_geno_destroy(&g);
    ml_cohort_destroy(&c);
    free(tab);
    free(vcf);
    free(csv);
}

static void test_small(void)
{
    /* 23andMe-style single samples stacked, a missing label, no overlap */
    const char *ref = "r1\t1\t1\tA\tG\nr2\t1\t2\tC\tT\n";
    const char *f1 = "r1\t1\t1\tAG\nr2\t1\t2\t--\n", *f2 = "r1\t1\t1\tGG\nr2\t1\t2\tTT\n",
               *f3 = "r1\t1\t1\tAA\nr2\t1\t2\tCC\n";
    const char *csv = "sample,y,grp\nb,2.5,u\na,1.5,v\nc,NA,u\n";
    ml_snpref_t *r = NULL;
    ml_geno_t *g1 = NULL, *g2 = NULL, *g3 = NULL, *g = NULL;
    ml_table_t *t = NULL;
    ml_dataset_t *d = NULL;
    char err[256] = "";
    CHECK_EQ(ml_snpref_parse(U(ref), strlen(ref), NULL, &r, err, sizeof err), 0);
    if (!r)
        return;
    CHECK_EQ(ml_geno_parse_23andme(U(f1), strlen(f1), r, "a", NULL, &g1, NULL, err, sizeof err), 0);
    CHECK_EQ(ml_geno_parse_23andme(U(f2), strlen(f2), r, "b", NULL, &g2, NULL, err, sizeof err), 0);
    CHECK_EQ(ml_geno_parse_23andme(U(f3), strlen(f3), r, "c", NULL, &g3, NULL, err, sizeof err), 0);
    const ml_geno_t *parts[3] = {g1, g2, g3};
    CHECK_EQ(ml_geno_stack(parts, 3, &g, err, sizeof err), 0);
    CHECK_EQ(ml_csv_parse(U(csv), strlen(csv), NULL, &t, err, sizeof err), 0);
    if (g && t) {
        ml_join_stats_t st;
        ml_join_opts_t o = {.label = "y"};
        CHECK_EQ(ml_join(g, t, &o, &d, &st, err, sizeof err), 0);
        if (d) {
            CHECK_EQ(st.joined, 2u);
            CHECK_EQ(st.label_missing, 1u);
            CHECK(!st.binary);
            /* rows a, b (genotype order); a's r2 is missing: imputed with b's 2 */
            CHECK(!strcmp(d->sample_ids[0], "a") && d->y[0] == 1.5 && d->y[1] == 2.5);
            CHECK(ml_mat_row(d->x, 0)[0] == 1.0 && ml_mat_row(d->x, 0)[1] == 2.0);
            CHECK(ml_mat_row(d->x, 1)[0] == 2.0 && ml_mat_row(d->x, 1)[1] == 2.0);
            CHECK_EQ(st.imputed_calls, 1u);
        }
        ml_dataset_destroy(&d);
        ml_table_t *t2 = NULL;
        const char *csv2 = "id,y\nzz,1\n";
        CHECK_EQ(ml_csv_parse(U(csv2), strlen(csv2), NULL, &t2, err, sizeof err), 0);
        if (t2) {
            CHECK_EQ(ml_join(g, t2, &o, &d, NULL, err, sizeof err), ML_E_EMPTY);
            ml_table_destroy(&t2);
        }
    }
    ml_table_destroy(&t);
    ml_geno_destroy(&g);
    ml_geno_destroy(&g1);
    ml_geno_destroy(&g2);
    ml_geno_destroy(&g3);
    ml_snpref_destroy(&r);
}

int main(void)
{
    test_cohort_join();
    test_small();
    return testutil_done("test_ml_join");
}
