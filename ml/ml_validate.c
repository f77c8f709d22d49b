/*  ml_validate: data checks for the validation enclave (see ml_validate.h). 23andMe buffers
 *  are checked in one allocation-free scan; VCF buffers are read into an ml_geno_t and
 *  tested per SNP; phenotype CSVs are parsed and their columns judged by name and content.
 */
#include "ml/ml_validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ml/ml_csv.h"
#include "ml/ml_geno.h"

const char *ml_datatype_name(ml_datatype_t type)
{
    switch (type) {
    case ML_DATA_GENOTYPE:
        return "genotype";
    case ML_DATA_PHENOTYPE:
        return "phenotype";
    default:
        return "unknown";
    }
}

int ml_datatype_parse(const char *name, ml_datatype_t *out)
{
    if (name && !strcmp(name, "genotype")) {
        *out = ML_DATA_GENOTYPE;
        return 0;
    }
    if (name && !strcmp(name, "phenotype")) {
        *out = ML_DATA_PHENOTYPE;
        return 0;
    }
    return ML_E_ARG;
}

/* ---- Hardy-Weinberg exact test ---- */

/* P-value with SCRATCH of at least 2 * min(hom) + het + 1 doubles. */
static double s_hwe_p(uint32_t hom1, uint32_t het, uint32_t hom2, double *probs)
{
    uint64_t homr = hom1 < hom2 ? hom1 : hom2, homc = hom1 < hom2 ? hom2 : hom1;
    uint64_t rare = 2 * homr + het, n = homr + homc + het;
    if (n == 0 || rare == 0)
        return 1.0;
    uint64_t mid = rare * (2 * n - rare) / (2 * n);
    if ((rare & 1) != (mid & 1))
        mid++;
    for (uint64_t k = 0; k <= rare; k++)
        probs[k] = 0.0;
    probs[mid] = 1.0;
    double sum = 1.0;
    /* rare and mid have the same parity: the halving is exact */
    double cr = (double)(rare - mid) / 2.0, cc = (double)n - (double)mid - cr;
    for (uint64_t h = mid; h > 1; h -= 2) {
        probs[h - 2] = probs[h] * (double)h * ((double)h - 1.0) / (4.0 * (cr + 1.0) * (cc + 1.0));
        sum += probs[h - 2];
        cr += 1.0;
        cc += 1.0;
    }
    cr = (double)(rare - mid) / 2.0;
    cc = (double)n - (double)mid - cr;
    for (uint64_t h = mid; h + 2 <= rare; h += 2) {
        probs[h + 2] = probs[h] * 4.0 * cr * cc / (((double)h + 2.0) * ((double)h + 1.0));
        sum += probs[h + 2];
        cr -= 1.0;
        cc -= 1.0;
    }
    double obs = probs[het], p = 0.0;
    for (uint64_t k = 0; k <= rare; k++)
        if (probs[k] <= obs * (1.0 + 1e-9))
            p += probs[k];
    p /= sum;
    return p > 1.0 ? 1.0 : p;
}

double ml_validate_hwe_p(uint32_t n_hom_ref, uint32_t n_het, uint32_t n_hom_alt)
{
    uint64_t rare = 2 * (uint64_t)(n_hom_ref < n_hom_alt ? n_hom_ref : n_hom_alt) + n_het;
    double *probs = malloc((rare + 1) * sizeof *probs);
    if (!probs)
        return NAN;
    double p = s_hwe_p(n_hom_ref, n_het, n_hom_alt, probs);
    free(probs);
    return p;
}

/* ---- report helpers ---- */

static void s_check(ml_validation_t *r, uint32_t bit, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_check(ml_validation_t *r, uint32_t bit, bool ok, const char *fmt, ...)
{
    r->checks_run |= bit;
    if (ok) {
        r->checks_passed |= bit;
        return;
    }
    if (strcmp(r->reason, "ok") != 0)
        return; /* keep the first failure */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

static void s_check_size(ml_validation_t *r, uint64_t lo, uint64_t hi)
{
    s_check(r, ML_CHECK_SIZE, r->records >= lo && r->records <= hi,
            "size: %llu records, allowed %llu..%llu", (unsigned long long)r->records,
            (unsigned long long)lo, (unsigned long long)hi);
}

/* ---- genotypes ---- */

typedef struct {
    uint64_t bad_alleles;
    size_t first_bad_line;
} s_23_ctx_t;

static bool s_acgtdi(char a)
{
    return a == 'A' || a == 'C' || a == 'G' || a == 'T' || a == 'D' || a == 'I';
}

static int s_visit_23(void *arg, const ml_23_record_t *rec, size_t line)
{
    s_23_ctx_t *c = arg;
    if (rec->a1 && (!s_acgtdi(rec->a1) || (rec->a2 && !s_acgtdi(rec->a2)))) {
        if (!c->bad_alleles)
            c->first_bad_line = line;
        c->bad_alleles++;
    }
    return 0;
}

static int s_validate_23andme(const uint8_t *data, size_t len, ml_validation_t *r, char *err,
                              size_t err_cap)
{
    ml_geno_limits_t lim = ml_geno_limits_default();
    lim.max_bytes = ML_VALIDATE_MAX_BYTES;
    lim.max_snps = (size_t)ML_VALIDATE_GENO_MAX_RECORDS * 2; /* SIZE judges past the bound */
    lim.any_alleles = true;
    s_23_ctx_t c = {0};
    ml_geno_stats_t st;
    int rc = ml_geno_scan_23andme(data, len, &lim, s_visit_23, &c, &st, err, err_cap);
    if (rc)
        return rc;
    r->records = st.records;
    r->call_rate = st.calls ? 1.0 - (double)st.missing / (double)st.calls : 0.0;
    s_check(r, ML_CHECK_FORMAT, true, "format");
    s_check(r, ML_CHECK_ALLELES, c.bad_alleles == 0,
            "alleles: %llu calls outside A C G T D I (first on line %zu)",
            (unsigned long long)c.bad_alleles, c.first_bad_line);
    s_check(r, ML_CHECK_CALL_RATE, r->call_rate >= ML_VALIDATE_MIN_CALL_RATE,
            "call rate %.4f below %.2f", r->call_rate, ML_VALIDATE_MIN_CALL_RATE);
    s_check_size(r, ML_VALIDATE_GENO_MIN_RECORDS, ML_VALIDATE_GENO_MAX_RECORDS);
    return 0;
}

static bool s_allele_string_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s != 'A' && *s != 'C' && *s != 'G' && *s != 'T' && *s != 'N')
            return false;
    return true;
}

static int s_validate_vcf(const uint8_t *data, size_t len, ml_validation_t *r, char *err,
                          size_t err_cap)
{
    ml_geno_limits_t lim = ml_geno_limits_default();
    lim.max_bytes = ML_VALIDATE_MAX_BYTES;
    lim.max_snps = (size_t)ML_VALIDATE_GENO_MAX_RECORDS * 2;
    ml_geno_t *g = NULL;
    ml_geno_stats_t st;
    double *probs = NULL;
    int rc = ml_geno_parse_vcf(data, len, &lim, &g, &st, err, err_cap);
    if (rc)
        return rc;
    size_t n = g->n_samples, m = g->n_snps, bad_alleles = 0, first_bad = 0, tested = 0;
    r->records = st.records;
    r->call_rate = st.calls ? 1.0 - (double)st.missing / (double)st.calls : 0.0;
    for (size_t j = 0; j < m; j++)
        if (!s_allele_string_ok(g->ref[j]) || !s_allele_string_ok(g->alt[j]))
            if (!bad_alleles++)
                first_bad = j;
    s_check(r, ML_CHECK_FORMAT, true, "format");
    s_check(r, ML_CHECK_ALLELES, bad_alleles == 0,
            "alleles: %zu SNPs with REF/ALT outside A C G T N (first %.40s)", bad_alleles,
            bad_alleles ? g->rsids[first_bad] : "");
    s_check(r, ML_CHECK_CALL_RATE, r->call_rate >= ML_VALIDATE_MIN_CALL_RATE,
            "call rate %.4f below %.2f", r->call_rate, ML_VALIDATE_MIN_CALL_RATE);
    if (n >= 2) {
        probs = malloc((2 * n + 2) * sizeof *probs);
        if (!probs) {
            rc = PROTO_E_NOMEM;
            goto out;
        }
        for (size_t j = 0; j < m; j++) {
            uint32_t cnt[3] = {0, 0, 0};
            for (size_t i = 0; i < n; i++) {
                int8_t d = g->dosage[i * m + j];
                if (d >= 0 && d <= 2)
                    cnt[d]++;
            }
            if (cnt[0] + cnt[1] + cnt[2] == 0)
                continue;
            tested++;
            if (s_hwe_p(cnt[0], cnt[1], cnt[2], probs) < ML_VALIDATE_HWE_P)
                r->hwe_failures++;
        }
        double allowed = ML_VALIDATE_HWE_MAX_FRACTION * (double)tested;
        s_check(r, ML_CHECK_HWE, (double)r->hwe_failures <= (allowed < 1.0 ? 1.0 : allowed),
                "HWE: %u of %zu SNPs with p < %g", r->hwe_failures, tested, ML_VALIDATE_HWE_P);
    }
    s_check_size(r, ML_VALIDATE_GENO_MIN_RECORDS, ML_VALIDATE_GENO_MAX_RECORDS);
out:
    free(probs);
    ml_geno_destroy(&g);
    return rc;
}

/* ---- phenotypes ---- */

typedef struct {
    const char *const *names; /* NULL-terminated */
    double lo, hi;
} s_range_t;

static const char *const s_age[] = {"age", "age_years", NULL};
static const char *const s_bmi[] = {"bmi", NULL};
static const char *const s_height[] = {"height", "height_cm", NULL};
static const char *const s_weight[] = {"weight", "weight_kg", NULL};
static const s_range_t s_ranges[] = {
    {s_age, 0, 130}, {s_bmi, 10, 80}, {s_height, 30, 250}, {s_weight, 1, 500}};

static bool s_name_in(const char *name, const char *const *names)
{
    for (; *names; names++)
        if (!strcasecmp(name, *names))
            return true;
    return false;
}

static bool s_sex_ok(const char *v)
{
    static const char *ok[] = {"m", "f", "male", "female", "0", "1"};
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
        if (!strcasecmp(v, ok[k]))
            return true;
    return false;
}

/* True when S looks like a number (a lenient test: to spot numeric columns with strays). */
static bool s_numberish(const char *s)
{
    char *end = NULL;
    if (!*s)
        return false;
    (void)strtod(s, &end);
    return end && *end == 0;
}

/* Judges column J; false with *WHY set on the first problem. */
static bool s_column_ok(const ml_table_t *t, size_t j, char *why, size_t cap)
{
    const char *name = ml_table_col_name(t, j);
    ml_coltype_t ty = ml_table_col_type(t, j);
    size_t rows = ml_table_rows(t);
    if (ty == ML_COL_ID)
        return true;
    for (size_t k = 0; k < sizeof s_ranges / sizeof s_ranges[0]; k++) {
        if (!s_name_in(name, s_ranges[k].names))
            continue;
        if (ty != ML_COL_NUMERIC) {
            snprintf(why, cap, "column '%.32s' is not numeric", name);
            return false;
        }
        for (size_t i = 0; i < rows; i++) {
            double v = ml_table_num(t, i, j);
            if (!isnan(v) && (v < s_ranges[k].lo || v > s_ranges[k].hi)) {
                snprintf(why, cap, "%.32s %g outside %g..%g (id %.24s)", name, v, s_ranges[k].lo,
                         s_ranges[k].hi, ml_table_id(t, i));
                return false;
            }
        }
        return true;
    }
    if (!strcasecmp(name, "sex") || !strcasecmp(name, "gender")) {
        for (size_t i = 0; i < rows; i++) {
            const char *v = ml_table_str(t, i, j);
            if (v && !s_sex_ok(v)) {
                snprintf(why, cap, "%.32s value '%.16s' not one of M F male female 0 1", name, v);
                return false;
            }
        }
        return true;
    }
    if (ty == ML_COL_CATEGORICAL) { /* mostly numbers with strays: inconsistent types */
        size_t present = 0, numeric = 0;
        for (size_t i = 0; i < rows; i++) {
            const char *v = ml_table_str(t, i, j);
            if (v) {
                present++;
                numeric += s_numberish(v);
            }
        }
        if (present && numeric < present && (double)numeric >= 0.9 * (double)present) {
            snprintf(why, cap, "column '%.32s' mixes numbers with %zu non-numbers", name,
                     present - numeric);
            return false;
        }
    }
    return true;
}

static int s_validate_csv(const uint8_t *data, size_t len, ml_validation_t *r, char *err,
                          size_t err_cap)
{
    ml_csv_opts_t o = ml_csv_opts_default();
    o.max_bytes = ML_VALIDATE_MAX_BYTES;
    o.max_rows = (size_t)ML_VALIDATE_PHENO_MAX_RECORDS * 2; /* SIZE judges past the bound */
    ml_table_t *t = NULL;
    int rc = ml_csv_parse(data, len, &o, &t, err, err_cap);
    if (rc)
        return rc;
    size_t rows = ml_table_rows(t), cols = ml_table_cols(t), missing = 0;
    r->records = rows;
    for (size_t j = 0; j < cols; j++)
        if (j != ml_table_id_col(t))
            missing += ml_table_missing(t, j);
    size_t cells = rows * (cols - 1);
    r->call_rate = cells ? 1.0 - (double)missing / (double)cells : 1.0;
    s_check(r, ML_CHECK_FORMAT, true, "format");
    char why[256] = "";
    bool ok = true;
    for (size_t j = 0; j < cols && ok; j++)
        ok = s_column_ok(t, j, why, sizeof why);
    s_check(r, ML_CHECK_RANGES, ok, "ranges: %s", why);
    s_check_size(r, 1, ML_VALIDATE_PHENO_MAX_RECORDS);
    ml_table_destroy(&t);
    return 0;
}

/* ---- entry ---- */

static bool s_is_vcf(const uint8_t *data, size_t len)
{
    static const char magic[] = "##fileformat=VCF";
    return len >= sizeof magic - 1 && !memcmp(data, magic, sizeof magic - 1);
}

int ml_validate_buffer(ml_datatype_t type, const uint8_t *data, size_t len, ml_validation_t *report,
                       char *err, size_t err_cap)
{
    ml_validation_t r = {.type = type};
    snprintf(r.reason, sizeof r.reason, "ok");
    int rc;
    char detail[128] = "";
    if (type != ML_DATA_GENOTYPE && type != ML_DATA_PHENOTYPE)
        rc = proto_err_fail(detail, sizeof detail, ML_E_ARG, "unknown data type %d", (int)type);
    else if (!data && len)
        rc = proto_err_fail(detail, sizeof detail, ML_E_ARG, "no data");
    else if (len > ML_VALIDATE_MAX_BYTES)
        rc = proto_err_fail(detail, sizeof detail, ML_E_TOO_BIG, "%zu bytes exceed %zu", len,
                            ML_VALIDATE_MAX_BYTES);
    else if (type == ML_DATA_PHENOTYPE)
        rc = s_validate_csv(data, len, &r, detail, sizeof detail);
    else if (s_is_vcf(data, len))
        rc = s_validate_vcf(data, len, &r, detail, sizeof detail);
    else
        rc = s_validate_23andme(data, len, &r, detail, sizeof detail);
    if (rc) {
        ml_validation_t f = {.type = type, .checks_run = ML_CHECK_FORMAT};
        snprintf(f.reason, sizeof f.reason, "format: %s", detail[0] ? detail : proto_err_str(rc));
        r = f;
        proto_err_fail(err, err_cap, rc, "%s", detail[0] ? detail : proto_err_str(rc));
    }
    if (report)
        *report = r;
    return rc;
}
