/*  test_ml_prs: polygenic risk scores.
 *  - Heritability: one synthetic population (ml_synth: N = 6,000 samples, M = 2,000 SNPs in
 *    LD blocks of 20, K = 10 causal SNPs, h2 = 0.5, seed printed) split into a training
 *    cohort of 4,000 and a separate target cohort of 2,000; the PRS trained on the first
 *    reaches on the second an R² within 0.05 of h2. Repeated at h2 = 0.2 (K = 10).
 *  - Application by hand: effect allele = ALT adds w * dosage, = REF adds w * (2 - dosage),
 *    other alleles and absent rsids are skipped and counted, a missing call takes the
 *    cohort mean; a trained PRS survives the model file and scores a cohort read back from
 *    VCF (ml_geno) exactly as the in-memory one.
 *  - The blocked, vectorised kernel against a naive sum: random cohorts with missing calls
 *    (none, 1%, 30%, all of one SNP), models over scattered, contiguous and repeated
 *    columns, more SNPs than one block of terms, effect alleles on both strands; and a bad
 *    dosage in any position is refused.
 *  - The scoring-file parser: PGS Catalog header, headerless, CRLF, and refusals naming
 *    the line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_metrics.h"
#include "ml/ml_prs.h"
#include "ml/ml_synth.h"
#include "testutil.h"

/* View of samples [from, from + n) of cohort C (rows are contiguous). */
static ml_dosage_view_t s_view(const ml_cohort_t *c, size_t from, size_t n)
{
    return (ml_dosage_view_t){.n = n,
                              .m = c->n_snps,
                              .dosage = c->dosage + from * c->n_snps,
                              .rsids = c->rsids,
                              .ref1 = c->ref,
                              .alt1 = c->alt};
}

static void test_heritability(double h2, uint64_t seed)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.n_samples = 6000;
    p.n_snps = 2000;
    p.n_causal = 10;
    p.h2 = h2;
    p.seed = seed;
    ml_cohort_t *c = NULL;
    char err[256] = "";
    CHECK_EQ(ml_synth_cohort(&p, &c, err, sizeof err), 0);
    if (!c)
        return;
    const size_t ntr = 4000, nte = 2000;
    ml_dosage_view_t tr = s_view(c, 0, ntr), te = s_view(c, ntr, nte);
    ml_model_t *m = NULL;
    CHECK_EQ(ml_prs_train(&tr, c->quant, NULL, &m, err, sizeof err), 0);
    if (!m) {
        printf("prs train: %s\n", err);
        ml_cohort_destroy(&c);
        return;
    }
    double *score = malloc(nte * sizeof *score);
    ml_prs_match_t mt;
    CHECK_EQ(ml_prs_apply(m, &te, score, &mt, err, sizeof err), 0);
    CHECK_EQ(mt.matched, ml_model_p(m));
    double r2 = -1, r2_train = -1, screened = 0;
    CHECK_EQ(ml_metric_r2(score, c->quant + ntr, nte, &r2), 0);
    double *st = malloc(ntr * sizeof *st);
    CHECK_EQ(ml_prs_apply(m, &tr, st, NULL, err, sizeof err), 0);
    CHECK_EQ(ml_metric_r2(st, c->quant, ntr, &r2_train), 0);
    CHECK(ml_model_metric_get(m, "n_snps_screened_in", &screened));
    printf("PRS h2 %.2f (seed %llu, N %zu train / %zu target, M %zu, K %zu): %zu SNPs in the "
           "model (%.0f passed the screen), R2 train %.3f, target %.3f\n",
           h2, (unsigned long long)seed, ntr, nte, p.n_snps, p.n_causal, ml_model_p(m), screened,
           r2_train, r2);
    CHECK(fabs(r2 - h2) <= 0.05);
    free(st);
    free(score);
    ml_model_destroy(&m);
    ml_cohort_destroy(&c);
}

static void test_apply_by_hand(void)
{
    /* 3 samples x 3 SNPs; SNP rs2 has one missing call (the mean of 1 and 0 is 0.5). */
    const int8_t g[9] = {0, 1, 2, 1, -1, 0, 2, 0, 1};
    char *rs[3] = {"rs1", "rs2", "rs3"};
    const char ref[3] = {'A', 'C', 'G'}, alt[3] = {'G', 'T', 'A'};
    ml_dosage_view_t v = {3, 3, g, rs, ref, alt, NULL, NULL};
    /* rs1 effect G (ALT) w 1; rs2 effect C (REF) w 10; rs3 effect T (neither) w 100;
       rs9 absent; intercept 0.5. */
    char *ids[4] = {"rs1:G", "rs2:C", "rs3:T", "rs9:A"};
    const double w[4] = {1, 10, 100, 1000};
    ml_model_t *m = ml_model_new(ML_MODEL_PRS, 4, ids, w, 0.5);
    double out[3];
    ml_prs_match_t mt;
    char err[256] = "";
    CHECK_EQ(ml_prs_apply(m, &v, out, &mt, err, sizeof err), 0);
    CHECK_EQ(mt.matched, 2u);
    CHECK_EQ(mt.ref_effect, 1u);
    CHECK_EQ(mt.absent, 1u);
    CHECK_EQ(mt.mismatched, 1u);
    /* sample 0: 0.5 + 1*0 + 10*(2-1) = 10.5; sample 1: 0.5 + 1 + 10*(2-0.5) (imputed) =
       16.5; sample 2: 0.5 + 2 + 10*(2-0) = 22.5 */
    CHECK(fabs(out[0] - 10.5) < 1e-12);
    CHECK(fabs(out[1] - 16.5) < 1e-12);
    CHECK(fabs(out[2] - 22.5) < 1e-12);
    /* String alleles give the same. */
    char *refs[3] = {"A", "C", "G"}, *alts[3] = {"G", "T", "A"};
    ml_dosage_view_t vs = {3, 3, g, rs, NULL, NULL, refs, alts};
    double out2[3];
    CHECK_EQ(ml_prs_apply(m, &vs, out2, NULL, err, sizeof err), 0);
    /* bit-for-bit equality is the point (determinism)
       NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
    CHECK(memcmp(out, out2, sizeof out) == 0);
    /* Nothing matching; a non-PRS model; a bad dosage. */
    char *none[1] = {"rs7:A"};
    ml_model_t *m0 = ml_model_new(ML_MODEL_PRS, 1, none, w, 0);
    CHECK_EQ(ml_prs_apply(m0, &v, out, NULL, err, sizeof err), ML_E_EMPTY);
    ml_model_t *lin = ml_model_new(ML_MODEL_LINEAR, 1, none, w, 0);
    CHECK_EQ(ml_prs_apply(lin, &v, out, NULL, err, sizeof err), ML_E_ARG);
    const int8_t bad[9] = {0, 1, 2, 1, 5, 0, 2, 0, 1};
    ml_dosage_view_t vb = v;
    vb.dosage = bad;
    CHECK_EQ(ml_prs_apply(m, &vb, out, NULL, err, sizeof err), ML_E_ARG);
    ml_model_destroy(&m0);
    ml_model_destroy(&lin);
    ml_model_destroy(&m);
}

/* xorshift64*: the test's own generator, so a seed replays the same cohort anywhere. */
static uint64_t s_rand(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return *st * 2685821657736338717ULL;
}

/* Naive score of sample I: intercept plus, per model SNP found, w * dosage (ALT effect) or
   w * (2 - dosage) (REF effect), a missing call taking the SNP's mean called dosage. */
static double s_naive(const ml_dosage_view_t *v, char *const *ids, const double *w, size_t p,
                      double b, size_t i)
{
    double s = b;
    for (size_t q = 0; q < p; q++) {
        size_t j = 0;
        while (j < v->m && strncmp(ids[q], v->rsids[j], strlen(v->rsids[j])) != 0)
            j++;
        if (j == v->m || ids[q][strlen(v->rsids[j])] != ':')
            continue;
        char allele = ids[q][strlen(v->rsids[j]) + 1];
        double sum = 0, called = 0;
        for (size_t k = 0; k < v->n; k++)
            if (v->dosage[k * v->m + j] >= 0) {
                sum += v->dosage[k * v->m + j];
                called++;
            }
        int8_t x = v->dosage[i * v->m + j];
        double d = x >= 0 ? x : (called ? sum / called : 0);
        if (allele == v->alt1[j])
            s += w[q] * d;
        else if (allele == v->ref1[j])
            s += w[q] * (2 - d);
    }
    return s;
}

static void test_apply_kernel(uint64_t seed)
{
    uint64_t st = seed | 1;
    const double rates[4] = {0, 0.01, 0.3, 0};
    for (int round = 0; round < 8; round++) {
        size_t n = 5 + s_rand(&st) % 40, m = round < 4 ? 40 + s_rand(&st) % 60 : 2500;
        int8_t *g = malloc(n * m);
        char **rs = calloc(m, sizeof *rs), **ids = calloc(2 * m, sizeof *ids);
        char *ref = malloc(m), *alt = malloc(m);
        double *w = malloc(2 * m * sizeof *w), *out = malloc(n * sizeof *out);
        double rate = rates[round % 4];
        for (size_t j = 0; j < m; j++) {
            rs[j] = malloc(16);
            snprintf(rs[j], 16, "rs%zu", 100000 + j); /* equal lengths: no prefix matches */
            ref[j] = "ACGT"[s_rand(&st) % 4];
            alt[j] = "ACGT"[(strchr("ACGT", ref[j]) - "ACGT" + 1) % 4];
        }
        for (size_t k = 0; k < n * m; k++)
            g[k] =
                (int8_t)((double)(s_rand(&st) % 10000) / 10000.0 < rate ? -1
                                                                        : (int)(s_rand(&st) % 3));
        if (round % 4 == 3) /* one SNP with every call missing */
            for (size_t k = 0; k < n; k++)
                g[k * m + m / 2] = -1;
        /* Model: a scattered subset (round 0, 1), everything (2, 3, and the big rounds), with
           some SNPs present twice (once per allele). */
        size_t p = 0;
        for (size_t j = 0; j < m; j++) {
            if (round < 2 && s_rand(&st) % 3 != 0)
                continue;
            int both = s_rand(&st) % 7 == 0;
            for (int a = 0; a <= both; a++) {
                ids[p] = malloc(24);
                /* once per allele when BOTH; otherwise either allele */
                int use_ref = both ? a : (int)(s_rand(&st) % 2);
                const char *allele = use_ref ? &ref[j] : &alt[j];
                snprintf(ids[p], 24, "%s:%c", rs[j], *allele);
                w[p] = ((double)(s_rand(&st) % 20001) - 10000.0) / 7919.0;
                p++;
            }
        }
        ml_dosage_view_t v = {n, m, g, rs, ref, alt, NULL, NULL};
        ml_model_t *model = ml_model_new(ML_MODEL_PRS, p, ids, w, 0.25);
        char err[256] = "";
        CHECK(model != NULL);
        CHECK_EQ(ml_prs_apply(model, &v, out, NULL, err, sizeof err), 0);
        double worst = 0;
        for (size_t i = 0; i < n; i++) {
            double want = s_naive(&v, ids, w, p, 0.25, i);
            worst = fmax(worst, fabs(out[i] - want) / fmax(1.0, fabs(want)));
        }
        if (worst > 1e-9)
            printf("round %d (n %zu, m %zu, p %zu, missing %.2f): worst relative error %g\n", round,
                   n, m, p, rate, worst);
        CHECK(worst <= 1e-9);
        /* A dosage outside -1..2 anywhere the model reads is refused. */
        size_t bq = (size_t)(s_rand(&st) % p), bj = (size_t)strtoul(ids[bq] + 2, NULL, 10) - 100000;
        size_t at = (size_t)(s_rand(&st) % n) * m + bj;
        int8_t keep = g[at];
        g[at] = (int8_t)(s_rand(&st) % 2 ? 3 : -2);
        CHECK_EQ(ml_prs_apply(model, &v, out, NULL, err, sizeof err), ML_E_ARG);
        CHECK(strstr(err, "dosage") != NULL);
        g[at] = keep;
        ml_model_destroy(&model);
        for (size_t q = 0; q < p; q++)
            free(ids[q]);
        for (size_t j = 0; j < m; j++)
            free(rs[j]);
        free(ids);
        free(rs);
        free(ref);
        free(alt);
        free(w);
        free(out);
        free(g);
    }
}

static void test_train_refusals_and_file(uint64_t seed)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.n_samples = 600;
    p.n_snps = 300;
    p.n_causal = 5;
    p.h2 = 0.6;
    p.seed = seed;
    ml_cohort_t *c = NULL;
    char err[256] = "";
    CHECK_EQ(ml_synth_cohort(&p, &c, err, sizeof err), 0);
    if (!c)
        return;
    ml_dosage_view_t v = ml_dosage_view_cohort(c);
    ml_model_t *m = NULL;
    double *flat = calloc(c->n_samples, sizeof *flat);
    CHECK_EQ(ml_prs_train(&v, flat, NULL, &m, err, sizeof err), ML_E_NO_VARIANCE);
    ml_prs_opts_t strict = {.p_threshold = 1e-300};
    CHECK_EQ(ml_prs_train(&v, c->quant, &strict, &m, err, sizeof err), ML_E_EMPTY);
    CHECK(m == NULL);
    ml_prs_opts_t loose = {.p_threshold = 1e-4, .max_snps = 50};
    CHECK_EQ(ml_prs_train(&v, c->quant, &loose, &m, err, sizeof err), 0);
    if (m) {
        CHECK(ml_model_p(m) <= 50);
        uint8_t *buf = NULL;
        size_t len = 0;
        ml_model_t *d = NULL;
        CHECK_EQ(ml_model_encode(m, &buf, &len), 0);
        CHECK_EQ(ml_model_decode(buf, len, &d, err, sizeof err), 0);
        double *s1 = malloc(v.n * sizeof *s1), *s2 = malloc(v.n * sizeof *s2);
        CHECK_EQ(ml_prs_apply(m, &v, s1, NULL, err, sizeof err), 0);
        CHECK_EQ(ml_prs_apply(d, &v, s2, NULL, err, sizeof err), 0);
        CHECK(memcmp(s1, s2, v.n * sizeof *s1) == 0);
        /* The same cohort written as VCF and read back by ml_geno scores the same. */
        const char *dir = testutil_tmpdir();
        char path[512];
        snprintf(path, sizeof path, "%s/c.vcf.gz", dir);
        ml_geno_t *geno = NULL;
        CHECK_EQ(ml_cohort_write_vcf(c, path, 1, err, sizeof err), 0);
        CHECK_EQ(ml_geno_read_vcf(path, NULL, &geno, NULL, err, sizeof err), 0);
        if (geno) {
            ml_dosage_view_t vg = ml_dosage_view_geno(geno);
            CHECK_EQ(ml_prs_apply(m, &vg, s2, NULL, err, sizeof err), 0);
            double worst = 0;
            for (size_t i = 0; i < v.n; i++)
                worst = fmax(worst, fabs(s1[i] - s2[i]));
            CHECK(worst < 1e-12);
        }
        ml_geno_destroy(&geno);
        testutil_rmtree(dir);
        free(s1);
        free(s2);
        free(buf);
        ml_model_destroy(&d);
    }
    ml_model_destroy(&m);
    free(flat);
    ml_cohort_destroy(&c);
}

static void test_tsv(void)
{
    char err[256] = "";
    ml_model_t *m = NULL;
    const char *pgs = "###PGS CATALOG SCORING FILE\n#pgs_id=PGS000000\n"
                      "rsID\tchr_name\teffect_allele\tother_allele\teffect_weight\n"
                      "rs1\t1\ta\tG\t0.5\nrs2\t2\tT\tC\t-1e-2\n";
    CHECK_EQ(ml_prs_parse_tsv(pgs, strlen(pgs), &m, err, sizeof err), 0);
    if (m) {
        CHECK_EQ(ml_model_p(m), 2u);
        CHECK(strcmp(ml_model_feature_id(m, 0), "rs1:A") == 0);
        CHECK_EQ(ml_model_weights(m)[1], -1e-2);
        CHECK_EQ(ml_model_kind(m), ML_MODEL_PRS);
    }
    ml_model_destroy(&m);
    const char *plain = "rs5\tG\t2\r\nrs6\tCA\t-3\r\n";
    CHECK_EQ(ml_prs_parse_tsv(plain, strlen(plain), &m, err, sizeof err), 0);
    if (m)
        CHECK(strcmp(ml_model_feature_id(m, 1), "rs6:CA") == 0);
    ml_model_destroy(&m);
    struct {
        const char *text;
        int rc;
        const char *msg;
    } bad[] = {
        {"rs1\tA\tx\n", ML_E_WEIGHTS, "line 1"},
        {"rs1\tA\t1\nrs2\tN\t1\n", ML_E_WEIGHTS, "line 2"},
        {"rs1\tA\t1\nrs2\tA\n", ML_E_WEIGHTS, "line 2"},
        {"rs1\tA\t1\nrs1\tC\t2\n", ML_E_WEIGHTS, "twice"},
        {"rsID\teffect_allele\n", ML_E_WEIGHTS, "header"},
        {"# nothing\n", ML_E_EMPTY, "no weights"},
        {"rs1\tA\t1e999\n", ML_E_WEIGHTS, "line 1"},
        {"rs1\tA\tnan\n", ML_E_WEIGHTS, "line 1"},
        {"rs1\tA\t 1\n", ML_E_WEIGHTS, "line 1"},
        {"r:s\tA\t1\n", ML_E_WEIGHTS, "line 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = ml_prs_parse_tsv(bad[i].text, strlen(bad[i].text), &m, err, sizeof err);
        if (rc != bad[i].rc || !strstr(err, bad[i].msg))
            printf("tsv case %zu: rc %d, err \"%s\"\n", i, rc, err);
        CHECK_EQ(rc, bad[i].rc);
        CHECK(strstr(err, bad[i].msg) != NULL);
        CHECK(m == NULL);
    }
}

int main(void)
{
    uint64_t seed = 7;
    printf("test_ml_prs: seed %llu\n", (unsigned long long)seed);
    test_apply_by_hand();
    test_apply_kernel(seed);
    test_tsv();
    test_train_refusals_and_file(seed);
    test_heritability(0.5, seed);
    test_heritability(0.2, seed + 1);
    return testutil_done("test_ml_prs");
}
