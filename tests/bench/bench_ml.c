/*  bench_ml: the ml/ benchmark, driven by scripts/bench_ml.sh (which runs scikit-learn,
 *  bcftools and plink2 on the same inputs and prints the ratios). Never run by ctest.
 *
 *  bench_ml logistic CSV OUTDIR [REPS]
 *      scikit-learn's breast-cancer CSV: stratified 70/30 split (seed 42, written to
 *      OUTDIR/train.txt and test.txt for the scikit-learn side), standardised on the
 *      training rows; times REPS (default 200) logistic fits (l2 = 1, i.e. C = 1) and prints
 *      the median fit time and the test AUC.
 *  bench_ml prs N M K OUTDIR
 *      a synthetic cohort (ml_synth, seed 1, h2 0.5, K causal SNPs): PRS training time and
 *      peak resident memory during training (VmHWM reset before it) against the int8
 *      dosage matrix (N * M bytes); then writes OUTDIR/cohort.vcf.gz (BGZF), the trained
 *      score as OUTDIR/prs_trained.tsv and a dense score over all M SNPs (seeded weights,
 *      effect allele REF for every other SNP) as OUTDIR/prs_dense.tsv, in plink2 --score's
 *      "ID A1 BETA" shape, times applying both to the cohort and writes the sums (without
 *      intercept) to OUTDIR/genie_trained.txt and genie_dense.txt (sample id, score).
 *  bench_ml vcf PATH
 *      times reading a VCF/BCF with ml_geno_read_vcf and prints genotypes/s.
 *  With no arguments it prints this usage and exits 0 (scripts/bench.sh runs every
 *  bench_* program bare; the ML benchmark itself is scripts/bench_ml.sh).
 *  Lines starting "RESULT " are key=value pairs the script parses.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ml/ml_geno.h"
#include "ml/ml_linear.h"
#include "ml/ml_metrics.h"
#include "ml/ml_prs.h"
#include "ml/ml_scale.h"
#include "ml/ml_split.h"
#include "ml/ml_synth.h"

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process (a busy machine stretches wall time, not this). */
static double s_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long s_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':')
            v = strtol(line + kl + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* Resets VmHWM to the current RSS (Linux: "5" to /proc/self/clear_refs). */
static int s_reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int s_cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static ml_dataset_t *s_load_bc(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = 0, p = 0;
    ml_dataset_t *d = NULL;
    if (fscanf(f, "%zu,%zu%*[^\n]\n", &n, &p) != 2 || n == 0 || p == 0 || n > 100000 || p > 1000)
        goto out;
    d = ml_dataset_new(n, p);
    for (size_t i = 0; d && i < n; i++)
        for (size_t j = 0; j <= p; j++) {
            double v;
            if (fscanf(f, j ? ",%lf" : "%lf", &v) != 1) {
                ml_dataset_destroy(&d);
                goto out;
            }
            if (j < p)
                d->x->v[i * p + j] = v;
            else
                d->y[i] = v;
        }
out:
    fclose(f);
    return d;
}

static int s_write_idx(const char *dir, const char *name, const size_t *v, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%zu\n", v[i]);
    return fclose(f);
}

static int s_logistic(const char *csv, const char *dir, int reps)
{
    int rc = 1;
    ml_dataset_t *d = s_load_bc(csv), *tr = NULL, *te = NULL;
    ml_split_t *s = NULL;
    ml_scale_t *sc = NULL;
    ml_model_t *m = NULL;
    double *t = malloc((size_t)reps * sizeof *t), *pr = NULL, cpu = 0;
    char err[256] = "";
    if (!d || !t) {
        fprintf(stderr, "bench_ml: cannot read %s\n", csv);
        goto out;
    }
    if (ml_split_new(d->x->rows, 0.0, 0.3, 42, d->y, &s) != 0 ||
        s_write_idx(dir, "train.txt", s->train, s->n_train) != 0 ||
        s_write_idx(dir, "test.txt", s->test, s->n_test) != 0)
        goto out;
    tr = ml_dataset_subset(d, s->train, s->n_train);
    te = ml_dataset_subset(d, s->test, s->n_test);
    if (!tr || !te || ml_scale_fit(tr->x, &sc) != 0 || ml_scale_apply(sc, tr->x) != 0)
        goto out;
    ml_fit_opts_t o = {.l2 = 1.0};
    for (int r = 0; r < reps; r++) {
        ml_model_destroy(&m);
        double t0 = s_now(), c0 = s_cpu();
        if (ml_logistic_fit(tr, &o, &m, err, sizeof err) != 0) {
            fprintf(stderr, "bench_ml: fit: %s\n", err);
            goto out;
        }
        t[r] = s_now() - t0;
        cpu += s_cpu() - c0;
    }
    qsort(t, (size_t)reps, sizeof *t, s_cmp_dbl);
    pr = malloc(s->n_test * sizeof *pr);
    double auc = 0;
    if (!pr || ml_model_set_scaling(m, sc) != 0 || ml_model_predict(m, te->x, pr) != 0 ||
        ml_metric_auc(pr, te->y, s->n_test, &auc) != 0)
        goto out;
    printf("genie logistic (L-BFGS, tol 1e-6): %zu x %zu training rows, median fit %.3f ms "
           "over %d fits (mean CPU %.3f ms), test AUC %.6f\n",
           tr->x->rows, tr->x->cols, t[reps / 2] * 1e3, reps, cpu / reps * 1e3, auc);
    printf("RESULT logistic_fit_ms=%.6f auc=%.6f\n", t[reps / 2] * 1e3, auc);
    rc = 0;
out:
    free(t);
    free(pr);
    ml_model_destroy(&m);
    ml_scale_destroy(&sc);
    ml_dataset_destroy(&tr);
    ml_dataset_destroy(&te);
    ml_split_destroy(&s);
    ml_dataset_destroy(&d);
    return rc;
}

/* Writes model M as "ID A1 BETA" (plink2 --score FILE 1 2 3 header). */
static int s_write_score(const ml_model_t *m, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "ID\tA1\tBETA\n");
    for (size_t i = 0; i < ml_model_p(m); i++) {
        const char *id = ml_model_feature_id(m, i), *c = strrchr(id, ':');
        fprintf(f, "%.*s\t%s\t%.17g\n", (int)(c - id), id, c + 1, ml_model_weights(m)[i]);
    }
    return fclose(f);
}

/* Applies M to G three times; prints the best time; writes sums without intercept. */
static int s_apply(const char *what, const ml_model_t *m, const ml_dosage_view_t *g,
                   const ml_cohort_t *c, const char *path)
{
    double *out = malloc(g->n * sizeof *out), best = 1e30, best_cpu = 1e30;
    char err[256] = "";
    ml_prs_match_t mt;
    if (!out)
        return -1;
    for (int r = 0; r < 3; r++) {
        double t0 = s_now(), c0 = s_cpu();
        if (ml_prs_apply(m, g, out, &mt, err, sizeof err) != 0) {
            fprintf(stderr, "bench_ml: apply: %s\n", err);
            free(out);
            return -1;
        }
        best = fmin(best, s_now() - t0);
        best_cpu = fmin(best_cpu, s_cpu() - c0);
    }
    printf("genie PRS apply (%s, %zu SNPs, %zu with the effect allele on REF): %.3f ms wall, "
           "%.3f ms CPU for %zu samples\n",
           what, mt.matched, mt.ref_effect, best * 1e3, best_cpu * 1e3, g->n);
    printf("RESULT apply_%s_ms=%.6f apply_%s_cpu_ms=%.6f\n", what, best * 1e3, what,
           best_cpu * 1e3);
    FILE *f = fopen(path, "w");
    for (size_t i = 0; f && i < g->n; i++)
        fprintf(f, "%s\t%.10f\n", c->sample_ids[i], out[i] - ml_model_intercept(m));
    free(out);
    return f && fclose(f) == 0 ? 0 : -1;
}

static int s_prs(size_t n, size_t m, size_t k, const char *dir)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.n_samples = n;
    p.n_snps = m;
    p.n_causal = k;
    p.h2 = 0.5;
    p.seed = 1;
    ml_cohort_t *c = NULL;
    ml_model_t *model = NULL, *dense = NULL;
    char err[256] = "", path[1024];
    int rc = 1;
    double t0 = s_now();
    if (ml_synth_cohort(&p, &c, err, sizeof err) != 0) {
        fprintf(stderr, "bench_ml: synth: %s\n", err);
        return 1;
    }
    printf("cohort: %zu samples x %zu SNPs, %zu causal, h2 0.5, seed 1 (generated in %.2f s)\n", n,
           m, k, s_now() - t0);
    ml_dosage_view_t g = {n, m, c->dosage, c->rsids, c->ref, c->alt, NULL, NULL};
    long before = s_status_kb("VmRSS");
    int reset = s_reset_peak();
    t0 = s_now();
    double c0 = s_cpu();
    if (ml_prs_train(&g, c->quant, NULL, &model, err, sizeof err) != 0) {
        fprintf(stderr, "bench_ml: train: %s\n", err);
        goto out;
    }
    double tt = s_now() - t0, tc = s_cpu() - c0;
    long peak = s_status_kb("VmHWM");
    double dos_mb = (double)n * (double)m / 1048576.0;
    printf("genie PRS training: %.2f s wall (%.2f s CPU), %zu SNPs kept; peak RSS %.1f MiB%s (RSS "
           "before %.1f "
           "MiB) vs int8 dosage matrix %.1f MiB: ratio %.2f\n",
           tt, tc, ml_model_p(model), (double)peak / 1024.0,
           reset ? " (could not reset the peak: whole run)" : "", (double)before / 1024.0, dos_mb,
           (double)peak / 1024.0 / dos_mb);
    printf("RESULT prs_train_s=%.4f peak_mib=%.1f dosage_mib=%.1f mem_ratio=%.3f\n", tt,
           (double)peak / 1024.0, dos_mb, (double)peak / 1024.0 / dos_mb);

    /* A dense score: every SNP, seeded weights, effect allele REF on odd SNPs. */
    char **ids = calloc(m, sizeof *ids);
    double *w = malloc(m * sizeof *w);
    uint64_t st = 99;
    for (size_t j = 0; ids && w && j < m; j++) {
        ids[j] = malloc(strlen(c->rsids[j]) + 3);
        if (!ids[j])
            break;
        sprintf(ids[j], "%s:%c", c->rsids[j], j % 2 ? c->ref[j] : c->alt[j]);
        w[j] = ((double)(ml_rng_next(&st) >> 11) * 0x1.0p-53 - 0.5) * 0.1;
    }
    dense = ids && w && ids[m - 1] ? ml_model_new(ML_MODEL_PRS, m, ids, w, 0.0) : NULL;
    for (size_t j = 0; ids && j < m; j++)
        free(ids[j]);
    free(ids);
    free(w);
    if (!dense)
        goto out;
    snprintf(path, sizeof path, "%s/prs_trained.tsv", dir);
    if (s_write_score(model, path) != 0)
        goto out;
    snprintf(path, sizeof path, "%s/prs_dense.tsv", dir);
    if (s_write_score(dense, path) != 0)
        goto out;
    snprintf(path, sizeof path, "%s/genie_trained.txt", dir);
    if (s_apply("trained", model, &g, c, path) != 0)
        goto out;
    snprintf(path, sizeof path, "%s/genie_dense.txt", dir);
    if (s_apply("dense", dense, &g, c, path) != 0)
        goto out;
    snprintf(path, sizeof path, "%s/cohort.vcf.gz", dir);
    t0 = s_now();
    if (ml_cohort_write_vcf(c, path, 1, err, sizeof err) != 0) {
        fprintf(stderr, "bench_ml: vcf: %s\n", err);
        goto out;
    }
    printf("wrote %s in %.2f s\n", path, s_now() - t0);
    rc = 0;
out:
    ml_model_destroy(&model);
    ml_model_destroy(&dense);
    ml_cohort_destroy(&c);
    return rc;
}

/* Times ml_geno_read_vcf (htslib underneath) on PATH. */
static int s_vcf(const char *path)
{
    ml_geno_t *g = NULL;
    ml_geno_stats_t st;
    char err[256] = "";
    ml_geno_hts_quiet();
    double t0 = s_now();
    if (ml_geno_read_vcf(path, NULL, &g, &st, err, sizeof err) != 0) {
        fprintf(stderr, "bench_ml: read vcf: %s\n", err);
        return 1;
    }
    double t = s_now() - t0;
    double calls = (double)g->n_samples * (double)g->n_snps;
    printf("genie ml_geno_read_vcf: %zu samples x %zu SNPs in %.2f s, %.3g genotypes/s\n",
           g->n_samples, g->n_snps, t, calls / t);
    printf("RESULT vcf_s=%.4f vcf_rate=%.6g\n", t, calls / t);
    ml_geno_destroy(&g);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines reach the script (and tee) as they happen */
    if (argc == 3 && strcmp(argv[1], "vcf") == 0)
        return s_vcf(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "logistic") == 0)
        return s_logistic(argv[2], argv[3],
                          argc > 4 ? atoi(argv[4]) > 0 ? atoi(argv[4]) : 200 : 200);
    if (argc == 6 && strcmp(argv[1], "prs") == 0)
        return s_prs(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10),
                     strtoul(argv[4], NULL, 10), argv[5]);
    printf("bench_ml: run through scripts/bench_ml.sh (usage: bench_ml logistic CSV OUTDIR "
           "[REPS] | bench_ml prs N M K OUTDIR | bench_ml vcf PATH)\n");
    return argc == 1 ? 0 : 2;
}
