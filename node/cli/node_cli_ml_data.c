/*  node_cli_ml_data: the data the offline 'genie ml' commands read: the data options, loading a
 *  phenotype CSV and genotypes (VCF/BCF through htslib, or 23andMe files against a reference
 *  list), the hashes of the input files, the samples to score, a model's feature matrix and a
 *  PRS dosage view (see node_cli.h).
 */
#include <dirent.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ml/ml_csv.h"
#include "ml/ml_geno.h"
#include "node/cli/node_cli.h"

#define MAX_23_FILES 100000u /* 23andMe files over every --23andme directory */

const char *node_cli_ml_count(size_t v, char buf[static 32])
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%zu", v);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

void node_cli_ml_progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("genie: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int node_cli_ml_src_opt(int argc, char **argv, int *i, node_cli_ml_src_t *src)
{
    const char *v = NULL;
    int got;
    if ((got = node_cli_opt_value(argc, argv, i, "--data", &v)) != 0) {
        if (got > 0 && src->data)
            return node_cli_usage("--data given twice"), NODE_E_PARAMS;
        src->data = v;
    } else if ((got = node_cli_opt_value(argc, argv, i, "--id", &v)) != 0) {
        src->id_column = v;
    } else if ((got = node_cli_opt_value(argc, argv, i, "--genotypes", &v)) != 0) {
        if (got > 0 && src->genotypes)
            return node_cli_usage("--genotypes given twice"), NODE_E_PARAMS;
        src->genotypes = v;
    } else if ((got = node_cli_opt_value(argc, argv, i, "--ref", &v)) != 0) {
        src->ref = v;
    } else if ((got = node_cli_opt_value(argc, argv, i, "--23andme", &v)) != 0) {
        if (got > 0) {
            if (src->n_g23 >= NODE_CLI_ML_MAX_23)
                return node_cli_usage("--23andme given more than %d times", NODE_CLI_ML_MAX_23),
                       NODE_E_PARAMS;
            src->g23[src->n_g23++] = v;
        }
    }
    return got;
}

int node_cli_ml_src_check(const node_cli_ml_src_t *src, bool need_table)
{
    if (src->genotypes && (src->ref || src->n_g23))
        return node_cli_usage("give --genotypes VCF, or --ref TSV with --23andme, not both");
    if ((src->ref != NULL) != (src->n_g23 > 0))
        return node_cli_usage("23andMe files need both --ref TSV and --23andme FILE|DIR");
    if (need_table && !src->data)
        return node_cli_usage("--data CSV is required");
    if (!src->data && !src->genotypes && !src->n_g23)
        return node_cli_usage("no data given: use --data CSV (and/or --genotypes VCF)");
    return NODE_CLI_EXIT_OK;
}

/*  BLAKE2b-256 of the file at PATH, appended to D's hashes. */
static int s_hash_file(node_cli_ml_data_t *d, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return proto_err_fail(err, cap, PROTO_E_IO, "cannot open %s", path);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    uint8_t buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_generichash_update(&st, buf, got);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return proto_err_fail(err, cap, PROTO_E_IO, "cannot read %s", path);
    uint8_t(*h)[32] = realloc(d->hashes, (d->n_hashes + 1) * sizeof *h);
    if (!h)
        return PROTO_E_NOMEM;
    d->hashes = h;
    crypto_generichash_final(&st, h[d->n_hashes++], 32);
    return 0;
}

ml_geno_t *node_cli_ml_table_samples(const ml_table_t *t)
{
    ml_geno_t *g = ml_geno_new(ml_table_rows(t), 0);
    for (size_t i = 0; g && i < g->n_samples; i++)
        if (!(g->sample_ids[i] = strdup(ml_table_id(t, i))))
            ml_geno_destroy(&g);
    return g;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*  Appends PATH (a .txt file, or a directory's *.txt files sorted) to the list *FILES. */
static int s_list_23(const char *path, char ***files, size_t *n, char *err, size_t cap)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return proto_err_fail(err, cap, PROTO_E_IO, "cannot open %s", path);
    size_t start = *n;
    DIR *dir = S_ISDIR(sb.st_mode) ? opendir(path) : NULL;
    if (S_ISDIR(sb.st_mode) && !dir)
        return proto_err_fail(err, cap, PROTO_E_IO, "cannot read directory %s", path);
    struct dirent *e;
    int rc = 0;
    for (bool once = !dir; rc == 0 && (dir ? (e = readdir(dir)) != NULL : once); once = false) {
        char *full = NULL;
        if (dir) {
            size_t len = strlen(e->d_name);
            if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
                continue;
            size_t sz = strlen(path) + len + 2;
            if ((full = malloc(sz)))
                snprintf(full, sz, "%s/%s", path, e->d_name);
        } else {
            full = strdup(path);
        }
        char **grown =
            full && *n < MAX_23_FILES ? realloc(*files, (*n + 1) * sizeof **files) : NULL;
        if (!grown) {
            free(full);
            rc = *n >= MAX_23_FILES
                     ? proto_err_fail(err, cap, ML_E_TOO_BIG, "over %u 23andMe files", MAX_23_FILES)
                     : PROTO_E_NOMEM;
            break;
        }
        *files = grown;
        grown[(*n)++] = full;
    }
    if (dir)
        closedir(dir);
    if (rc == 0 && *n == start)
        rc = proto_err_fail(err, cap, ML_E_EMPTY, "no *.txt 23andMe file in %s", path);
    if (rc == 0)
        qsort(*files + start, *n - start, sizeof **files, s_cmp_str);
    return rc;
}

/*  The 23andMe files of SRC read against its reference list, stacked into D->geno; the
 *  sample id of each is its file name without ".txt". */
static int s_load_23(const node_cli_ml_src_t *src, node_cli_ml_data_t *d, char *err, size_t cap)
{
    ml_snpref_t *ref = NULL;
    char **files = NULL;
    ml_geno_t **parts = NULL;
    size_t n = 0, loaded = 0;
    ml_geno_stats_t st = {0};
    char c1[32], c2[32];
    int rc = ml_snpref_load(src->ref, NULL, &ref, err, cap);
    if (rc == 0)
        rc = s_hash_file(d, src->ref, err, cap);
    for (size_t i = 0; rc == 0 && i < src->n_g23; i++)
        rc = s_list_23(src->g23[i], &files, &n, err, cap);
    if (rc)
        goto out;
    node_cli_ml_progress("reading %zu 23andMe files against %zu reference SNPs...", n,
                         ml_snpref_count(ref));
    rc = PROTO_E_NOMEM;
    if (!(parts = calloc(n ? n : 1, sizeof *parts)))
        goto out;
    for (; loaded < n; loaded++) {
        const char *base = strrchr(files[loaded], '/');
        char id[256];
        snprintf(id, sizeof id, "%s", base ? base + 1 : files[loaded]);
        size_t il = strlen(id);
        if (il > 4 && strcmp(id + il - 4, ".txt") == 0)
            id[il - 4] = '\0';
        char e2[256];
        rc = ml_geno_load_23andme(files[loaded], ref, id, NULL, &parts[loaded], &st, e2, sizeof e2);
        if (rc == 0)
            rc = s_hash_file(d, files[loaded], err, cap);
        else
            proto_err_fail(err, cap, rc, "%s: %s", files[loaded], e2);
        if (rc)
            goto out;
    }
    rc = ml_geno_stack((const ml_geno_t *const *)parts, n, &d->geno, err, cap);
    if (rc == 0)
        node_cli_ml_progress("%s samples x %s SNPs (%llu strand flips, %llu allele errors)",
                             node_cli_ml_count(d->geno->n_samples, c1),
                             node_cli_ml_count(d->geno->n_snps, c2), (unsigned long long)st.flipped,
                             (unsigned long long)st.allele_errors);
out:
    for (size_t i = 0; parts && i < loaded; i++)
        ml_geno_destroy(&parts[i]);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(parts);
    free(files);
    ml_snpref_destroy(&ref);
    return rc;
}

int node_cli_ml_load(const node_cli_ml_src_t *src, node_cli_ml_data_t *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    char c1[32], c2[32];
    if (src->data) {
        ml_csv_opts_t o = ml_csv_opts_default();
        o.id_column = src->id_column;
        rc = ml_csv_load(src->data, &o, &out->table, err, cap);
        if (rc == 0)
            rc = s_hash_file(out, src->data, err, cap);
        if (rc == 0)
            node_cli_ml_progress("read %s: %s rows x %zu columns", src->data,
                                 node_cli_ml_count(ml_table_rows(out->table), c1),
                                 ml_table_cols(out->table));
    }
    if (rc == 0 && src->genotypes) {
        ml_geno_stats_t st = {0};
        node_cli_ml_progress("reading VCF %s...", src->genotypes);
        ml_geno_hts_quiet();
        rc = ml_geno_read_vcf(src->genotypes, NULL, &out->geno, &st, err, cap);
        if (rc == 0)
            rc = s_hash_file(out, src->genotypes, err, cap);
        if (rc == 0)
            node_cli_ml_progress("%s samples x %s SNPs (%llu records skipped)",
                                 node_cli_ml_count(out->geno->n_samples, c1),
                                 node_cli_ml_count(out->geno->n_snps, c2),
                                 (unsigned long long)st.skipped);
    }
    if (rc == 0 && src->n_g23)
        rc = s_load_23(src, out, err, cap);
    if (rc)
        node_cli_ml_data_free(out);
    return rc;
}

void node_cli_ml_data_free(node_cli_ml_data_t *d)
{
    ml_table_destroy(&d->table);
    ml_geno_destroy(&d->geno);
    free(d->hashes);
    memset(d, 0, sizeof *d);
}

int node_cli_ml_rows(const node_cli_ml_data_t *d, const char *label, node_cli_ml_rows_t *out,
                     char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    const ml_table_t *t = d->table;
    size_t lc = 0;
    if (label) {
        if (!t || !ml_table_col_find(t, label, &lc))
            return proto_err_fail(err, cap, ML_E_NOT_FOUND, "no label column '%.64s' in --data",
                                  label);
        if (ml_table_col_type(t, lc) != ML_COL_NUMERIC)
            return proto_err_fail(err, cap, ML_E_ARG, "label column '%.64s' is not numeric", label);
    }
    size_t total = d->geno ? d->geno->n_samples : ml_table_rows(t);
    out->gi = malloc((total + 1) * sizeof *out->gi);
    out->ti = malloc((total + 1) * sizeof *out->ti);
    out->ids = malloc((total + 1) * sizeof *out->ids);
    out->y = label ? malloc((total + 1) * sizeof *out->y) : NULL;
    if (!out->gi || !out->ti || !out->ids || (label && !out->y)) {
        node_cli_ml_rows_free(out);
        return PROTO_E_NOMEM;
    }
    out->binary = true;
    for (size_t i = 0; i < total; i++) {
        size_t g = d->geno ? i : SIZE_MAX, r = d->geno ? SIZE_MAX : i;
        const char *id = d->geno ? d->geno->sample_ids[i] : ml_table_id(t, i);
        if (d->geno && t && !ml_table_row_find(t, id, &r))
            continue;
        double y = label ? ml_table_num(t, r, lc) : 0;
        if (isnan(y))
            continue;
        out->binary = out->binary && (y == 0 || y == 1);
        out->gi[out->n] = g;
        out->ti[out->n] = r;
        out->ids[out->n] = id;
        if (label)
            out->y[out->n] = y;
        out->n++;
    }
    if (out->n == 0) {
        node_cli_ml_rows_free(out);
        return proto_err_fail(err, cap, ML_E_EMPTY, "no sample has %s",
                              label ? "genotypes and a label" : "genotypes and a table row");
    }
    return 0;
}

void node_cli_ml_rows_free(node_cli_ml_rows_t *r)
{
    free(r->gi);
    free(r->ti);
    free(r->ids);
    free(r->y);
    memset(r, 0, sizeof *r);
}

/*  A SNP's rsid and column, sorted by rsid for lookups by binary search. */
typedef struct {
    const char *id;
    size_t j;
} s_snp_t;

static int s_cmp_snp(const void *a, const void *b)
{
    return strcmp(((const s_snp_t *)a)->id, ((const s_snp_t *)b)->id);
}

/*  Where feature ID comes from: a SNP (*SNP; SNPS is the sorted index of D's SNPs), a numeric
 *  column (*COL, *LEVEL = -1) or a categorical level (*COL, *LEVEL, -2 when the data lacks
 *  the level). */
static bool s_feature_source(const node_cli_ml_data_t *d, const s_snp_t *snps, const char *id,
                             size_t *snp, size_t *col, int32_t *level)
{
    *snp = SIZE_MAX;
    s_snp_t key = {.id = id};
    const s_snp_t *hit =
        d->geno ? bsearch(&key, snps, d->geno->n_snps, sizeof *snps, s_cmp_snp) : NULL;
    if (hit) {
        *snp = hit->j;
        return true;
    }
    const ml_table_t *t = d->table;
    if (!t)
        return false;
    if (ml_table_col_find(t, id, col) && ml_table_col_type(t, *col) == ML_COL_NUMERIC) {
        *level = -1;
        return true;
    }
    char name[ML_MODEL_MAX_ID + 1];
    snprintf(name, sizeof name, "%s", id);
    for (char *eq = strchr(name, '='); eq; eq = strchr(eq + 1, '=')) {
        *eq = '\0';
        bool found =
            ml_table_col_find(t, name, col) && ml_table_col_type(t, *col) == ML_COL_CATEGORICAL;
        *eq = '=';
        if (!found)
            continue;
        *level = -2;
        for (size_t k = 0; k < ml_table_levels(t, *col); k++)
            if (strcmp(ml_table_level_name(t, *col, k), eq + 1) == 0)
                *level = (int32_t)k;
        return true;
    }
    return false;
}

int node_cli_ml_features(const ml_model_t *m, const node_cli_ml_data_t *d,
                         const node_cli_ml_rows_t *r, const size_t *idx, size_t k, ml_mat_t **x,
                         char *err, size_t cap)
{
    size_t p = ml_model_p(m);
    const double *mean = NULL, *sd = NULL;
    bool scaled = ml_model_scaling(m, &mean, &sd);
    size_t ns = d->geno ? d->geno->n_snps : 0;
    double *snp_mean = malloc((ns + 1) * sizeof *snp_mean);
    s_snp_t *snps = malloc((ns + 1) * sizeof *snps);
    *x = ml_mat_new(k, p);
    if (!*x || !snp_mean || !snps) {
        free(snp_mean);
        free(snps);
        ml_mat_destroy(x);
        return PROTO_E_NOMEM;
    }
    if (d->geno) {
        ml_geno_col_means(d->geno, snp_mean);
        for (size_t j = 0; j < ns; j++)
            snps[j] = (s_snp_t){.id = d->geno->rsids[j], .j = j};
        qsort(snps, ns, sizeof *snps, s_cmp_snp); /* a repeated rsid: either copy is used */
    }
    for (size_t j = 0; j < p; j++) {
        size_t snp, col = 0;
        int32_t level = -1;
        const char *id = ml_model_feature_id(m, j);
        if (!s_feature_source(d, snps, id, &snp, &col, &level)) {
            free(snp_mean);
            free(snps);
            ml_mat_destroy(x);
            return proto_err_fail(err, cap, ML_E_NOT_FOUND,
                                  "feature '%.64s' of the model is not in the data", id);
        }
        for (size_t a = 0; a < k; a++) {
            size_t i = idx ? idx[a] : a;
            double v;
            if (snp != SIZE_MAX) {
                size_t at = r->gi[i] * d->geno->n_snps + snp;
                int8_t c = d->geno->dosage[at];
                v = d->geno->ds && !isnan(d->geno->ds[at]) ? d->geno->ds[at]
                    : c >= 0                               ? c
                    : scaled                               ? mean[j]
                                                           : snp_mean[snp];
            } else if (r->ti[i] == SIZE_MAX) {
                v = scaled ? mean[j] : 0;
            } else if (level == -1) {
                v = ml_table_num(d->table, r->ti[i], col);
            } else {
                int32_t lv = ml_table_level(d->table, r->ti[i], col);
                v = lv < 0 ? NAN : lv == level ? 1.0 : 0.0;
            }
            ml_mat_row(*x, a)[j] = isnan(v) ? (scaled ? mean[j] : 0) : v;
        }
    }
    free(snp_mean);
    free(snps);
    return 0;
}

int node_cli_ml_view(const node_cli_ml_data_t *d, const node_cli_ml_rows_t *r, const size_t *idx,
                     size_t k, const size_t *cols, size_t m, ml_dosage_view_t *v, char *err,
                     size_t cap)
{
    memset(v, 0, sizeof *v);
    const ml_geno_t *g = d->geno;
    if (!g)
        return proto_err_fail(err, cap, ML_E_ARG,
                              "a PRS needs genotypes (--genotypes or --23andme)");
    if (!cols)
        m = g->n_snps;
    int8_t *dos = malloc(k * m + 1);
    char **rs = malloc((m + 1) * sizeof *rs), **ref = malloc((m + 1) * sizeof *ref),
         **alt = malloc((m + 1) * sizeof *alt);
    if (!dos || !rs || !ref || !alt) {
        free(dos), free(rs), free(ref), free(alt);
        return PROTO_E_NOMEM;
    }
    for (size_t j = 0; j < m; j++) {
        size_t s = cols ? cols[j] : j;
        rs[j] = g->rsids[s], ref[j] = g->ref[s], alt[j] = g->alt[s];
    }
    for (size_t a = 0; a < k; a++) {
        const int8_t *row = g->dosage + r->gi[idx ? idx[a] : a] * g->n_snps;
        for (size_t j = 0; j < m; j++)
            dos[a * m + j] = row[cols ? cols[j] : j];
    }
    v->n = k, v->m = m, v->dosage = dos, v->rsids = rs, v->ref = ref, v->alt = alt;
    return 0;
}

void node_cli_ml_view_free(ml_dosage_view_t *v)
{
    free((void *)(uintptr_t)v->dosage);
    free((void *)(uintptr_t)v->rsids);
    free((void *)(uintptr_t)v->ref);
    free((void *)(uintptr_t)v->alt);
    memset(v, 0, sizeof *v);
}
