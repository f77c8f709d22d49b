/*  genie-cohort: writes a seeded synthetic cohort (ml/ml_synth.h) to a directory, for demos,
 *  integration tests and benchmarks of the data path (validation, joining, training).
 *
 *  Output under --out DIR: cohort.vcf.gz (BGZF, with --vcf; plus cohort.vcf with
 *  --vcf-plain), 23andme/<sample>.txt per sample and reference.tsv (rsid, chrom, pos, ref,
 *  alt: the allele list 23andMe files are read against) with --23andme, phenotypes.csv with
 *  --csv. With none of --vcf/--vcf-plain/--23andme/--csv, all of them are written.
 *  Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ml/ml_synth.h"

static const char s_usage_text[] =
    "usage: genie-cohort --out DIR [--samples N] [--snps M] [--causal K] [--h2 H]\n"
    "                    [--prevalence P] [--seed S] [--chrom C] [--block L] [--rho R]\n"
    "                    [--missing F] [--vcf] [--vcf-plain] [--23andme] [--csv]\n"
    "  --samples N      samples (default 100)\n"
    "  --snps M         SNPs (default 1000)\n"
    "  --causal K       causal SNPs of the quantitative phenotype (default 10)\n"
    "  --h2 H           heritability in [0, 1] (default 0.5)\n"
    "  --prevalence P   binary trait prevalence in (0, 1) (default 0.1)\n"
    "  --seed S         generator seed (default 1; printed)\n"
    "  --chrom C        chromosomes 1..22 the SNPs are spread over (default 1)\n"
    "  --block L        LD block length in SNPs (default 20)\n"
    "  --rho R          latent correlation of neighbouring SNPs in a block (default 0.95)\n"
    "  --missing F      fraction of genotype calls missing (default 0)\n"
    "  --vcf            write DIR/cohort.vcf.gz (BGZF)\n"
    "  --vcf-plain      write DIR/cohort.vcf (plain text)\n"
    "  --23andme        write DIR/23andme/<sample>.txt and DIR/reference.tsv\n"
    "  --csv            write DIR/phenotypes.csv\n"
    "  --help           this text\n";

static int s_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "genie-cohort: error: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fputs(s_usage_text, stderr);
    return 2;
}

static bool s_parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *out = (size_t)v;
    return (unsigned long long)*out == v;
}

static bool s_parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtod(s, &end);
    return !errno && end != s && !*end;
}

static int s_mkdir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "genie-cohort: error: cannot create %s: %s\n", path, strerror(errno));
    return -1;
}

static int s_write_all(const ml_cohort_t *c, const char *out, bool vcf, bool vcf_plain, bool t23,
                       bool csv)
{
    char path[4096], err[256] = "";
    int rc = 0;
    if (vcf && !rc) {
        snprintf(path, sizeof path, "%s/cohort.vcf.gz", out);
        rc = ml_cohort_write_vcf(c, path, 1, err, sizeof err);
    }
    if (vcf_plain && !rc) {
        snprintf(path, sizeof path, "%s/cohort.vcf", out);
        rc = ml_cohort_write_vcf(c, path, 0, err, sizeof err);
    }
    if (t23 && !rc) {
        snprintf(path, sizeof path, "%s/23andme", out);
        if (s_mkdir(path))
            return -1;
        rc = ml_cohort_write_23andme(c, path, err, sizeof err);
        if (!rc) {
            snprintf(path, sizeof path, "%s/reference.tsv", out);
            rc = ml_cohort_write_ref(c, path, err, sizeof err);
        }
    }
    if (csv && !rc) {
        snprintf(path, sizeof path, "%s/phenotypes.csv", out);
        rc = ml_cohort_write_csv(c, path, err, sizeof err);
    }
    if (rc)
        fprintf(stderr, "genie-cohort: error: %s (%s)\n", err, proto_err_str(rc));
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"samples", required_argument, NULL, 'n'},
                                         {"snps", required_argument, NULL, 'm'},
                                         {"causal", required_argument, NULL, 'k'},
                                         {"h2", required_argument, NULL, 'h'},
                                         {"prevalence", required_argument, NULL, 'p'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"chrom", required_argument, NULL, 'c'},
                                         {"block", required_argument, NULL, 'b'},
                                         {"rho", required_argument, NULL, 'r'},
                                         {"missing", required_argument, NULL, 'x'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"vcf", no_argument, NULL, 'V'},
                                         {"vcf-plain", no_argument, NULL, 'P'},
                                         {"23andme", no_argument, NULL, 'T'},
                                         {"csv", no_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, '?' + 256},
                                         {NULL, 0, NULL, 0}};
    ml_synth_params_t p = ml_synth_params_default();
    const char *out = NULL;
    bool vcf = false, vcf_plain = false, t23 = false, csv = false;
    int opt;
    size_t seed = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 'n':
            ok = s_parse_size(optarg, &p.n_samples);
            break;
        case 'm':
            ok = s_parse_size(optarg, &p.n_snps);
            break;
        case 'k':
            ok = s_parse_size(optarg, &p.n_causal);
            break;
        case 'h':
            ok = s_parse_double(optarg, &p.h2);
            break;
        case 'p':
            ok = s_parse_double(optarg, &p.prevalence);
            break;
        case 's':
            ok = s_parse_size(optarg, &seed);
            break;
        case 'c':
            ok = s_parse_size(optarg, &p.n_chrom);
            break;
        case 'b':
            ok = s_parse_size(optarg, &p.block_len);
            break;
        case 'r':
            ok = s_parse_double(optarg, &p.ld_rho);
            break;
        case 'x':
            ok = s_parse_double(optarg, &p.missing_rate);
            break;
        case 'o':
            out = optarg;
            break;
        case 'V':
            vcf = true;
            break;
        case 'P':
            vcf_plain = true;
            break;
        case 'T':
            t23 = true;
            break;
        case 'C':
            csv = true;
            break;
        case '?' + 256:
            fputs(s_usage_text, stdout);
            return 0;
        default:
            return s_usage("unknown option", NULL);
        }
        if (!ok)
            return s_usage("bad number", optarg);
    }
    if (optind < argc)
        return s_usage("unexpected argument", argv[optind]);
    if (!out)
        return s_usage("--out DIR is required", NULL);
    if (!vcf && !vcf_plain && !t23 && !csv)
        vcf = vcf_plain = t23 = csv = true;
    p.seed = seed;
    char err[256] = "";
    ml_cohort_t *c = NULL;
    int rc = ml_synth_cohort(&p, &c, err, sizeof err);
    if (rc) {
        fprintf(stderr, "genie-cohort: error: %s\n", err);
        return rc == ML_E_ARG ? 2 : 1;
    }
    printf("genie-cohort: seed %zu: %zu samples, %zu SNPs, %zu causal, h2 %.3f, "
           "prevalence %.3f -> %s\n",
           seed, p.n_samples, p.n_snps, p.n_causal, p.h2, p.prevalence, out);
    rc = s_mkdir(out) ? -1 : s_write_all(c, out, vcf, vcf_plain, t23, csv);
    ml_cohort_destroy(&c);
    return rc ? 1 : 0;
}
