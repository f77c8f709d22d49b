/*  ml_synth: seeded synthetic cohorts (see ml_synth.h for the model). The generator is a
 *  private xoshiro256** seeded through splitmix64, so a seed names one cohort on every
 *  platform; normal deviates by Box-Muller, the U-shaped allele frequency spectrum by the
 *  arcsine law (Beta(0.5, 0.5) is sin^2 of a uniform angle).
 */
#include "ml/ml_synth.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <htslib/bgzf.h>
#include <stdarg.h>

/* A growable output buffer; every writer renders into one. */
typedef struct {
    char *data;
    size_t len, cap;
} s_buf_t;

static void s_buf_init(s_buf_t *b)
{
    memset(b, 0, sizeof *b);
}

static void s_buf_free(s_buf_t *b)
{
    free(b->data);
    s_buf_init(b);
}

static int s_buf_reserve(s_buf_t *b, size_t extra)
{
    if (b->data && b->cap - b->len > extra)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len <= extra) {
        if (cap > SIZE_MAX / 2)
            return PROTO_E_NOMEM;
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d)
        return PROTO_E_NOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

static int s_buf_put(s_buf_t *b, const char *s, size_t n)
{
    if (s_buf_reserve(b, n))
        return PROTO_E_NOMEM;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

static int s_buf_printf(s_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int s_buf_printf(s_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || s_buf_reserve(b, (size_t)n + 1))
        return PROTO_E_NOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* Hands the buffer to the caller on success (RC == 0), frees it otherwise. */
static int s_buf_finish(s_buf_t *b, int rc, char **out, size_t *len)
{
    if (!rc && !b->data)
        rc = s_buf_reserve(b, 1);
    if (rc) {
        s_buf_free(b);
        *out = NULL;
        *len = 0;
        return rc;
    }
    b->data[b->len] = 0;
    *out = b->data;
    *len = b->len;
    return 0;
}

typedef struct {
    uint64_t s[4];
    bool have_spare;
    double spare;
} s_rng_t;

static uint64_t s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void s_rng_seed(s_rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = s_splitmix(&seed);
    r->have_spare = false;
    r->spare = 0;
}

static uint64_t s_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t s_rng_next(s_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = s_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static double s_unif(s_rng_t *r)
{
    return (double)(s_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n > 0 (multiply-shift; bias below 2^-32 for our n). */
static size_t s_below(s_rng_t *r, size_t n)
{
    return (size_t)(((s_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double s_normal(s_rng_t *r)
{
    if (r->have_spare) {
        r->have_spare = false;
        return r->spare;
    }
    double u1 = s_unif(r), u2 = s_unif(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    double rad = sqrt(-2.0 * log(u1)), ang = 2.0 * M_PI * u2;
    r->spare = rad * sin(ang);
    r->have_spare = true;
    return rad * cos(ang);
}

/* Standard normal CDF and its inverse (bisection: called once per SNP, exact to 1e-12). */
static double s_phi(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

static double s_phi_inv(double p)
{
    double lo = -40.0, hi = 40.0;
    for (int i = 0; i < 200 && hi - lo > 1e-13; i++) {
        double mid = 0.5 * (lo + hi);
        if (s_phi(mid) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

ml_synth_params_t ml_synth_params_default(void)
{
    ml_synth_params_t p = {
        .n_samples = 100,
        .n_snps = 1000,
        .n_causal = 10,
        .h2 = 0.5,
        .prevalence = 0.1,
        .seed = 1,
        .n_chrom = 1,
        .block_len = 20,
        .ld_rho = 0.95,
        .maf_floor = 0.01,
        .missing_rate = 0.0,
        .bmi_missing = 0.05,
    };
    return p;
}

void ml_cohort_destroy(ml_cohort_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ml_cohort_t *c = *self_p;
    if (c->rsids)
        for (size_t j = 0; j < c->n_snps; j++)
            free(c->rsids[j]);
    if (c->sample_ids)
        for (size_t i = 0; i < c->n_samples; i++)
            free(c->sample_ids[i]);
    free(c->rsids);
    free(c->sample_ids);
    free(c->dosage);
    free(c->chrom);
    free(c->pos);
    free(c->ref);
    free(c->alt);
    free(c->alt_freq);
    free(c->causal_idx);
    free(c->causal_beta);
    free(c->quant);
    free(c->trait);
    free(c->genetic);
    free(c->age);
    free(c->sex);
    free(c->bmi);
    free(c);
    *self_p = NULL;
}

static int s_check_params(const ml_synth_params_t *p, char *err, size_t err_cap)
{
    if (p->n_samples < 1 || p->n_samples > 1000000)
        return proto_err_fail(err, err_cap, ML_E_ARG, "samples must be in 1..1000000");
    if (p->n_snps < 1 || p->n_snps > 10000000)
        return proto_err_fail(err, err_cap, ML_E_ARG, "snps must be in 1..10000000");
    if ((uint64_t)p->n_samples * p->n_snps > (1ull << 32))
        return proto_err_fail(err, err_cap, ML_E_ARG, "samples x snps exceeds 2^32");
    if (p->n_causal > p->n_snps)
        return proto_err_fail(err, err_cap, ML_E_ARG, "more causal SNPs than SNPs");
    if (!(p->h2 >= 0.0 && p->h2 <= 1.0))
        return proto_err_fail(err, err_cap, ML_E_ARG, "h2 must be in [0, 1]");
    if (!(p->prevalence > 0.0 && p->prevalence < 1.0))
        return proto_err_fail(err, err_cap, ML_E_ARG, "prevalence must be in (0, 1)");
    if (p->n_chrom < 1 || p->n_chrom > 22)
        return proto_err_fail(err, err_cap, ML_E_ARG, "chromosomes must be in 1..22");
    if (p->block_len < 1)
        return proto_err_fail(err, err_cap, ML_E_ARG, "LD block length must be >= 1");
    if (!(p->ld_rho >= 0.0 && p->ld_rho < 1.0))
        return proto_err_fail(err, err_cap, ML_E_ARG, "LD rho must be in [0, 1)");
    if (!(p->maf_floor > 0.0 && p->maf_floor <= 0.5))
        return proto_err_fail(err, err_cap, ML_E_ARG, "MAF floor must be in (0, 0.5]");
    if (!(p->missing_rate >= 0.0 && p->missing_rate < 1.0))
        return proto_err_fail(err, err_cap, ML_E_ARG, "missing rate must be in [0, 1)");
    if (!(p->bmi_missing >= 0.0 && p->bmi_missing <= 1.0))
        return proto_err_fail(err, err_cap, ML_E_ARG, "BMI missing rate must be in [0, 1]");
    return 0;
}

/* SNP map: chromosome, position, rsid, alleles, frequency. */
static int s_gen_snps(ml_cohort_t *c, const ml_synth_params_t *p, s_rng_t *r)
{
    static const char bases[4] = {'A', 'C', 'G', 'T'};
    size_t per_chrom = (c->n_snps + p->n_chrom - 1) / p->n_chrom;
    uint32_t pos = 0;
    for (size_t j = 0; j < c->n_snps; j++) {
        if (j % per_chrom == 0)
            pos = 10000;
        c->chrom[j] = (uint8_t)(1 + j / per_chrom);
        pos += 1 + (uint32_t)s_below(r, 2000);
        c->pos[j] = pos;
        char name[32];
        snprintf(name, sizeof name, "rs%zu", 1000 + j * 7 + s_below(r, 7));
        c->rsids[j] = strdup(name);
        if (!c->rsids[j])
            return PROTO_E_NOMEM;
        size_t a = s_below(r, 4), b = (a + 1 + s_below(r, 3)) % 4;
        c->ref[j] = bases[a];
        c->alt[j] = bases[b];
        double s = sin(M_PI_2 * s_unif(r));
        double f = s * s; /* Beta(0.5, 0.5) */
        if (f > 0.5)
            f = 1.0 - f;
        if (f < p->maf_floor)
            f = p->maf_floor;
        c->alt_freq[j] = f;
    }
    return 0;
}

/* Genotypes: two haplotypes per sample, each a thresholded AR(1) latent chain per block. */
static void s_gen_genotypes(ml_cohort_t *c, const ml_synth_params_t *p, s_rng_t *r,
                            const double *thr)
{
    double rho = p->ld_rho, innov = sqrt(1.0 - rho * rho);
    size_t m = c->n_snps;
    for (size_t i = 0; i < c->n_samples; i++) {
        int8_t *row = c->dosage + i * m;
        memset(row, 0, m);
        for (int h = 0; h < 2; h++) {
            double z = 0;
            for (size_t j = 0; j < m; j++) {
                bool restart = j == 0 || j % p->block_len == 0 || c->chrom[j] != c->chrom[j - 1];
                z = restart ? s_normal(r) : rho * z + innov * s_normal(r);
                if (z < thr[j])
                    row[j]++;
            }
        }
        if (p->missing_rate > 0)
            for (size_t j = 0; j < m; j++)
                if (s_unif(r) < p->missing_rate)
                    row[j] = -1;
    }
}

static int s_cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Causal SNPs, genetic values scaled to variance h2, phenotype, liability-threshold trait. */
static void s_gen_phenotype(ml_cohort_t *c, s_rng_t *r, size_t *perm)
{
    size_t n = c->n_samples, m = c->n_snps, k = c->n_causal;
    for (size_t j = 0; j < m; j++)
        perm[j] = j;
    for (size_t t = 0; t < k; t++) { /* partial Fisher-Yates */
        size_t u = t + s_below(r, m - t), tmp = perm[t];
        perm[t] = perm[u];
        perm[u] = tmp;
    }
    memcpy(c->causal_idx, perm, k * sizeof *perm);
    qsort(c->causal_idx, k, sizeof *c->causal_idx, s_cmp_size);
    for (size_t t = 0; t < k; t++)
        c->causal_beta[t] = s_normal(r);
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        double g = 0;
        for (size_t t = 0; t < k; t++) {
            int8_t d = c->dosage[i * m + c->causal_idx[t]];
            /* a missing call contributes the expected dosage */
            g += c->causal_beta[t] * (d < 0 ? 2.0 * c->alt_freq[c->causal_idx[t]] : (double)d);
        }
        c->genetic[i] = g;
        mean += g;
    }
    mean /= (double)n;
    double var = 0;
    for (size_t i = 0; i < n; i++)
        var += (c->genetic[i] - mean) * (c->genetic[i] - mean);
    var /= (double)n;
    double scale = var > 1e-12 ? sqrt(c->h2 / var) : 0.0;
    for (size_t t = 0; t < k; t++)
        c->causal_beta[t] *= scale;
    double noise_sd = sqrt(1.0 - c->h2);
    double thr = s_phi_inv(1.0 - c->prevalence);
    for (size_t i = 0; i < n; i++) {
        c->genetic[i] = (c->genetic[i] - mean) * scale;
        c->quant[i] = c->genetic[i] + noise_sd * s_normal(r);
        c->trait[i] = c->quant[i] > thr;
    }
}

static int s_gen_samples(ml_cohort_t *c, const ml_synth_params_t *p, s_rng_t *r)
{
    for (size_t i = 0; i < c->n_samples; i++) {
        char name[32];
        snprintf(name, sizeof name, "S%06zu", i + 1);
        c->sample_ids[i] = strdup(name);
        if (!c->sample_ids[i])
            return PROTO_E_NOMEM;
        c->age[i] = (uint8_t)(18 + s_below(r, 73));
        c->sex[i] = s_unif(r) < 0.5 ? 'F' : 'M';
        double b = 27.0 + 4.5 * s_normal(r) + 0.3 * c->genetic[i];
        b = b < 15.0 ? 15.0 : b > 60.0 ? 60.0 : b;
        c->bmi[i] = s_unif(r) < p->bmi_missing ? NAN : round(b * 10.0) / 10.0;
    }
    return 0;
}

int ml_synth_cohort(const ml_synth_params_t *params, ml_cohort_t **out, char *err, size_t err_cap)
{
    int rc = s_check_params(params, err, err_cap);
    double *thr = NULL;
    size_t *perm = NULL;
    ml_cohort_t *c = NULL;
    *out = NULL;
    if (rc)
        return rc;
    size_t n = params->n_samples, m = params->n_snps;
    rc = PROTO_E_NOMEM;
    c = calloc(1, sizeof *c);
    if (!c)
        goto err;
    c->n_samples = n;
    c->n_snps = m;
    c->n_causal = params->n_causal;
    c->seed = params->seed;
    c->h2 = params->h2;
    c->prevalence = params->prevalence;
    c->dosage = malloc(n * m);
    c->rsids = calloc(m, sizeof *c->rsids);
    c->chrom = calloc(m, 1);
    c->pos = calloc(m, sizeof *c->pos);
    c->ref = calloc(m + 1, 1);
    c->alt = calloc(m + 1, 1);
    c->alt_freq = calloc(m, sizeof *c->alt_freq);
    c->sample_ids = calloc(n, sizeof *c->sample_ids);
    c->causal_idx = calloc(c->n_causal + 1, sizeof *c->causal_idx);
    c->causal_beta = calloc(c->n_causal + 1, sizeof *c->causal_beta);
    c->quant = calloc(n, sizeof *c->quant);
    c->trait = calloc(n, 1);
    c->genetic = calloc(n, sizeof *c->genetic);
    c->age = calloc(n, 1);
    c->sex = calloc(n + 1, 1);
    c->bmi = calloc(n, sizeof *c->bmi);
    thr = calloc(m, sizeof *thr);
    perm = calloc(m, sizeof *perm);
    if (!c->dosage || !c->rsids || !c->chrom || !c->pos || !c->ref || !c->alt || !c->alt_freq ||
        !c->sample_ids || !c->causal_idx || !c->causal_beta || !c->quant || !c->trait ||
        !c->genetic || !c->age || !c->sex || !c->bmi || !thr || !perm)
        goto err;
    s_rng_t rng;
    s_rng_seed(&rng, params->seed);
    if ((rc = s_gen_snps(c, params, &rng)) != 0)
        goto err;
    for (size_t j = 0; j < m; j++)
        thr[j] = s_phi_inv(c->alt_freq[j]);
    s_gen_genotypes(c, params, &rng, thr);
    s_gen_phenotype(c, &rng, perm);
    if ((rc = s_gen_samples(c, params, &rng)) != 0)
        goto err;
    *out = c;
    c = NULL;
    rc = 0;
err:
    ml_cohort_destroy(&c);
    free(thr);
    free(perm);
    return rc;
}

/* ---- writers ---- */

static const char *s_gt_text(int8_t d)
{
    switch (d) {
    case 0:
        return "0/0";
    case 1:
        return "0/1";
    case 2:
        return "1/1";
    default:
        return "./.";
    }
}

static int s_vcf_header(const ml_cohort_t *c, s_buf_t *b)
{
    int rc = s_buf_printf(b, "##fileformat=VCFv4.2\n##source=genie-ml_synth seed=%llu\n",
                          (unsigned long long)c->seed);
    uint8_t last = 0;
    for (size_t j = 0; j < c->n_snps && !rc; j++)
        if (c->chrom[j] != last) {
            last = c->chrom[j];
            rc = s_buf_printf(b, "##contig=<ID=%u>\n", (unsigned)last);
        }
    if (!rc)
        rc = s_buf_printf(b, "##FILTER=<ID=PASS,Description=\"All filters passed\">\n"
                             "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
                             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT");
    for (size_t i = 0; i < c->n_samples && !rc; i++)
        rc = s_buf_printf(b, "\t%s", c->sample_ids[i]);
    if (!rc)
        rc = s_buf_put(b, "\n", 1);
    return rc;
}

static int s_vcf_line(const ml_cohort_t *c, size_t j, s_buf_t *b)
{
    int rc = s_buf_printf(b, "%u\t%u\t%s\t%c\t%c\t.\tPASS\t.\tGT", (unsigned)c->chrom[j],
                          (unsigned)c->pos[j], c->rsids[j], c->ref[j], c->alt[j]);
    for (size_t i = 0; i < c->n_samples && !rc; i++) {
        char cell[4] = {'\t', 0, 0, 0};
        memcpy(cell + 1, s_gt_text(c->dosage[i * c->n_snps + j]), 3);
        rc = s_buf_put(b, cell, 4);
    }
    if (!rc)
        rc = s_buf_put(b, "\n", 1);
    return rc;
}

int ml_cohort_format_vcf(const ml_cohort_t *c, char **buf, size_t *len)
{
    s_buf_t b;
    s_buf_init(&b);
    int rc = s_vcf_header(c, &b);
    for (size_t j = 0; j < c->n_snps && !rc; j++)
        rc = s_vcf_line(c, j, &b);
    return s_buf_finish(&b, rc, buf, len);
}

int ml_cohort_write_vcf(const ml_cohort_t *c, const char *path, int bgzip, char *err,
                        size_t err_cap)
{
    s_buf_t b;
    s_buf_init(&b);
    BGZF *fp = bgzf_open(path, bgzip ? "w" : "wu");
    if (!fp)
        return proto_err_fail(err, err_cap, ML_E_HTS, "cannot create %s", path);
    int rc = s_vcf_header(c, &b);
    for (size_t j = 0; j < c->n_snps && !rc; j++) {
        rc = s_vcf_line(c, j, &b);
        if (!rc && b.len >= 1u << 16) { /* stream in chunks */
            if (bgzf_write(fp, b.data, b.len) != (ssize_t)b.len)
                rc = proto_err_fail(err, err_cap, ML_E_HTS, "cannot write %s", path);
            b.len = 0;
        }
    }
    if (!rc && b.len && bgzf_write(fp, b.data, b.len) != (ssize_t)b.len)
        rc = proto_err_fail(err, err_cap, ML_E_HTS, "cannot write %s", path);
    if (bgzf_close(fp) != 0 && !rc)
        rc = proto_err_fail(err, err_cap, ML_E_HTS, "cannot close %s", path);
    s_buf_free(&b);
    return rc;
}

static char s_complement_free_order(char a, char b, int first) /* alphabetical pair */
{
    if ((a < b) == (first != 0))
        return a;
    return b;
}

int ml_cohort_format_23andme(const ml_cohort_t *c, size_t i, char **buf, size_t *len)
{
    if (i >= c->n_samples) {
        *buf = NULL;
        *len = 0;
        return ML_E_ARG;
    }
    s_buf_t b;
    s_buf_init(&b);
    int rc = s_buf_printf(&b,
                          "# This data file generated by genie ml_synth (seed %llu), "
                          "sample %s\n"
                          "# Genotypes are on the + strand of GRCh37; not for medical use.\n"
                          "#\n# rsid\tchromosome\tposition\tgenotype\n",
                          (unsigned long long)c->seed, c->sample_ids[i]);
    const int8_t *row = c->dosage + i * c->n_snps;
    for (size_t j = 0; j < c->n_snps && !rc; j++) {
        char g[3] = {'-', '-', 0};
        char r = c->ref[j], a = c->alt[j];
        if (row[j] == 0)
            g[0] = g[1] = r;
        else if (row[j] == 2)
            g[0] = g[1] = a;
        else if (row[j] == 1) {
            g[0] = s_complement_free_order(r, a, 1);
            g[1] = s_complement_free_order(r, a, 0);
        }
        rc = s_buf_printf(&b, "%s\t%u\t%u\t%s\n", c->rsids[j], (unsigned)c->chrom[j],
                          (unsigned)c->pos[j], g);
    }
    return s_buf_finish(&b, rc, buf, len);
}

static int s_write_file(const char *path, const char *data, size_t len, char *err, size_t err_cap)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return proto_err_fail(err, err_cap, PROTO_E_IO, "cannot create %s", path);
    bool ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : proto_err_fail(err, err_cap, PROTO_E_IO, "cannot write %s", path);
}

/* Writes TEXT (LEN bytes, made with first error RC) to PATH unless RC is set; frees TEXT
   either way and returns the first error. */
static int s_write_text(int rc, char *text, size_t len, const char *path, char *err, size_t err_cap)
{
    if (!rc)
        rc = s_write_file(path, text, len, err, err_cap);
    free(text);
    return rc;
}

int ml_cohort_write_23andme(const ml_cohort_t *c, const char *dir, char *err, size_t err_cap)
{
    int rc = 0;
    for (size_t i = 0; i < c->n_samples && !rc; i++) {
        char *text = NULL, path[4096];
        size_t len = 0;
        int n = snprintf(path, sizeof path, "%s/%s.txt", dir, c->sample_ids[i]);
        if (n < 0 || (size_t)n >= sizeof path)
            return proto_err_fail(err, err_cap, PROTO_E_IO, "path too long under %s", dir);
        rc = ml_cohort_format_23andme(c, i, &text, &len);
        rc = s_write_text(rc, text, len, path, err, err_cap);
    }
    return rc;
}

int ml_cohort_format_csv(const ml_cohort_t *c, char **buf, size_t *len)
{
    s_buf_t b;
    s_buf_init(&b);
    int rc = s_buf_printf(&b, "id,age,sex,bmi,trait,quant\n");
    for (size_t i = 0; i < c->n_samples && !rc; i++) {
        char bmi[32];
        if (isnan(c->bmi[i]))
            snprintf(bmi, sizeof bmi, "NA");
        else
            snprintf(bmi, sizeof bmi, "%.1f", c->bmi[i]);
        rc = s_buf_printf(&b, "%s,%u,%c,%s,%u,%.6f\n", c->sample_ids[i], (unsigned)c->age[i],
                          c->sex[i], bmi, (unsigned)c->trait[i], c->quant[i]);
    }
    return s_buf_finish(&b, rc, buf, len);
}

int ml_cohort_write_csv(const ml_cohort_t *c, const char *path, char *err, size_t err_cap)
{
    char *text = NULL;
    size_t len = 0;
    int rc = ml_cohort_format_csv(c, &text, &len);
    return s_write_text(rc, text, len, path, err, err_cap);
}

int ml_cohort_format_ref(const ml_cohort_t *c, char **buf, size_t *len)
{
    s_buf_t b;
    s_buf_init(&b);
    int rc = s_buf_printf(&b, "# rsid\tchrom\tpos\tref\talt\n");
    for (size_t j = 0; j < c->n_snps && !rc; j++)
        rc = s_buf_printf(&b, "%s\t%u\t%u\t%c\t%c\n", c->rsids[j], (unsigned)c->chrom[j],
                          (unsigned)c->pos[j], c->ref[j], c->alt[j]);
    return s_buf_finish(&b, rc, buf, len);
}

int ml_cohort_write_ref(const ml_cohort_t *c, const char *path, char *err, size_t err_cap)
{
    char *text = NULL;
    size_t len = 0;
    int rc = ml_cohort_format_ref(c, &text, &len);
    return s_write_text(rc, text, len, path, err, err_cap);
}
