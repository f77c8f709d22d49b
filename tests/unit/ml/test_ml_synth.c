/*  test_ml_synth: the synthetic cohort generator (ml/ml_synth.h) is deterministic per seed
 *  and its cohorts have the structure it promises: allele frequencies near the generating
 *  ones with the MAF floor held, Hardy-Weinberg heterozygosity, LD between neighbours and
 *  none across blocks, genetic variance h2, liability-threshold prevalence, the missing
 *  rate asked for; and parameters out of range are refused.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_synth.h"
#include "testutil.h"

static double s_r2(const ml_cohort_t *c, size_t a, size_t b)
{
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = (double)c->n_samples;
    for (size_t i = 0; i < c->n_samples; i++) {
        double x = c->dosage[i * c->n_snps + a], y = c->dosage[i * c->n_snps + b];
        sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
    }
    double cov = sab / n - sa / n * sb / n, va = saa / n - sa / n * sa / n,
           vb = sbb / n - sb / n * sb / n;
    return va > 0 && vb > 0 ? cov * cov / (va * vb) : 0.0;
}

static double s_var(const double *v, size_t n)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i], ss += v[i] * v[i];
    return ss / (double)n - (s / (double)n) * (s / (double)n);
}

static void test_structure(void)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.n_samples = 2000;
    p.n_snps = 2000;
    p.n_causal = 20;
    p.h2 = 0.5;
    p.prevalence = 0.1;
    p.seed = 42;
    printf("test_structure: seed %llu\n", (unsigned long long)p.seed);
    ml_cohort_t *c = NULL;
    char err[128] = "";
    CHECK_EQ(ml_synth_cohort(&p, &c, err, sizeof err), 0);
    if (!c)
        return;
    size_t n = c->n_samples, m = c->n_snps;
    /* allele frequencies and heterozygosity */
    double abs_dev = 0, het_obs = 0, het_exp = 0;
    size_t below_floor = 0;
    for (size_t j = 0; j < m; j++) {
        size_t alt = 0, het = 0;
        for (size_t i = 0; i < n; i++) {
            alt += (size_t)c->dosage[i * m + j];
            het += c->dosage[i * m + j] == 1;
        }
        double f = (double)alt / (2.0 * (double)n), q = c->alt_freq[j];
        abs_dev += fabs(f - q);
        below_floor += q < 0.01 || q > 0.5;
        het_obs += (double)het / (double)n;
        het_exp += 2 * f * (1 - f);
    }
    printf("  mean |freq - target| %.4f, heterozygosity observed %.4f expected %.4f\n",
           abs_dev / (double)m, het_obs / (double)m, het_exp / (double)m);
    CHECK_EQ(below_floor, 0u);
    CHECK(abs_dev / (double)m < 0.01);
    CHECK(fabs(het_obs - het_exp) / het_exp < 0.02);
    /* LD: neighbours in a block correlated, SNPs in different blocks not */
    double near = 0, far = 0;
    size_t nn = 0, nf = 0;
    for (size_t j = 0; j + 40 < m; j += 20) {
        for (size_t t = 0; t < 19; t++, nn++)
            near += s_r2(c, j + t, j + t + 1);
        for (size_t t = 0; t < 19; t++, nf++)
            far += s_r2(c, j + t, j + t + 21);
    }
    near /= (double)nn;
    far /= (double)nf;
    printf("  mean r2 adjacent in block %.3f, across blocks %.4f\n", near, far);
    CHECK(near > 0.2);
    CHECK(far < 0.005);
    /* heritability and prevalence */
    double vg = s_var(c->genetic, n), vy = s_var(c->quant, n);
    size_t cases = 0;
    for (size_t i = 0; i < n; i++)
        cases += c->trait[i];
    printf("  var(g) %.4f, var(y) %.4f, h2 %.3f, prevalence %.4f\n", vg, vy, vg / vy,
           (double)cases / (double)n);
    CHECK(fabs(vg - 0.5) < 1e-9);
    CHECK(vg / vy > 0.44 && vg / vy < 0.56);
    CHECK(fabs((double)cases / (double)n - 0.1) < 0.025);
    for (size_t t = 1; t < c->n_causal; t++)
        CHECK(c->causal_idx[t - 1] < c->causal_idx[t]);
    /* the genetic value is the causal dosages times the effects, centred */
    double g0 = 0, g1 = 0;
    for (size_t t = 0; t < c->n_causal; t++) {
        size_t j = c->causal_idx[t];
        g0 += c->causal_beta[t] * c->dosage[0 * m + j];
        g1 += c->causal_beta[t] * c->dosage[1 * m + j];
    }
    CHECK(fabs((g0 - g1) - (c->genetic[0] - c->genetic[1])) < 1e-9);
    ml_cohort_destroy(&c);
    CHECK(c == NULL);
}

static void test_determinism_and_missing(void)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.seed = 9;
    p.missing_rate = 0.05;
    p.n_chrom = 3;
    printf("test_determinism_and_missing: seed %llu\n", (unsigned long long)p.seed);
    ml_cohort_t *a = NULL, *b = NULL, *c = NULL;
    CHECK_EQ(ml_synth_cohort(&p, &a, NULL, 0), 0);
    CHECK_EQ(ml_synth_cohort(&p, &b, NULL, 0), 0);
    p.seed = 10;
    CHECK_EQ(ml_synth_cohort(&p, &c, NULL, 0), 0);
    if (!a || !b || !c)
        goto out;
    size_t cells = a->n_samples * a->n_snps, missing = 0;
    CHECK(memcmp(a->dosage, b->dosage, cells) == 0);
    CHECK(memcmp(a->quant, b->quant, a->n_samples * sizeof(double)) == 0);
    CHECK(memcmp(a->dosage, c->dosage, cells) != 0);
    for (size_t k = 0; k < cells; k++)
        missing += a->dosage[k] < 0;
    CHECK(fabs((double)missing / (double)cells - 0.05) < 0.01);
    CHECK_EQ(a->chrom[0], 1);
    CHECK_EQ(a->chrom[a->n_snps - 1], 3);
    for (size_t j = 1; j < a->n_snps; j++) {
        CHECK(a->chrom[j] > a->chrom[j - 1] || a->pos[j] > a->pos[j - 1]);
        CHECK(a->ref[j] != a->alt[j]);
    }
out:
    ml_cohort_destroy(&a);
    ml_cohort_destroy(&b);
    ml_cohort_destroy(&c);
}

static void test_bad_params(void)
{
    ml_synth_params_t p;
    ml_cohort_t *c = NULL;
    char err[128];
#define BAD(field, value)                                                                          \
    do {                                                                                           \
        p = ml_synth_params_default();                                                             \
        p.field = value;                                                                           \
        err[0] = 0;                                                                                \
        CHECK_EQ(ml_synth_cohort(&p, &c, err, sizeof err), ML_E_ARG);                              \
        CHECK(c == NULL && err[0] != 0);                                                           \
    } while (0)
    BAD(n_samples, 0);
    BAD(n_snps, 0);
    BAD(n_causal, 1001);
    BAD(h2, 1.5);
    BAD(h2, NAN);
    BAD(prevalence, 0.0);
    BAD(prevalence, 1.0);
    BAD(n_chrom, 23);
    BAD(block_len, 0);
    BAD(ld_rho, 1.0);
    BAD(maf_floor, 0.0);
    BAD(missing_rate, 1.0);
#undef BAD
    p = ml_synth_params_default();
    p.n_samples = 3;
    p.n_snps = 5;
    p.n_causal = 0;
    p.h2 = 0;
    CHECK_EQ(ml_synth_cohort(&p, &c, NULL, 0), 0);
    if (c) {
        char *buf = NULL;
        size_t len = 0;
        CHECK_EQ(ml_cohort_format_23andme(c, 3, &buf, &len), ML_E_ARG);
        CHECK(buf == NULL);
        CHECK_EQ(ml_cohort_format_csv(c, &buf, &len), 0);
        CHECK(buf && strncmp(buf, "id,age,sex,bmi,trait,quant\n", 27) == 0);
        free(buf);
        for (size_t i = 0; i < c->n_samples; i++)
            CHECK(c->genetic[i] == 0.0);
    }
    ml_cohort_destroy(&c);
}

int main(void)
{
    test_structure();
    test_determinism_and_missing();
    test_bad_params();
    return testutil_done("test_ml_synth");
}
