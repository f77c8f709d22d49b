/*  enclave_kind_train_data: a training job's samples, built inside the training enclave
 *  from the donations it holds (see enclave_train_samples in enclave_kind_train.h).
 *
 *  The donations of the job's spec that the ledger no longer allows (their data ids are
 *  not in the job's eligible list: withdrawn, or consent revoked) are wiped first. The
 *  others are read with ml/'s parsers on the bytes in the enclave's memory: a phenotype
 *  CSV (ml_csv_parse) gives one sample per row with a 0/1 label and numeric features; a
 *  23andMe file (ml_geno_scan_23andme, no reference list needed) gives the donor's allele
 *  counts for the "RSID:ALLELE" features, joined to the donor's phenotype rows by donor
 *  account (the donation request names it). Everything built here is wiped by the caller
 *  (enclave_train_dataset_wipe).
 */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind_train.h"
#include "ml/ml_csv.h"
#include "ml/ml_geno.h"

#define S_ROWS_MAX 1000000u

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

void enclave_train_dataset_wipe(ml_dataset_t **d)
{
    if (!d || !*d)
        return;
    ml_dataset_t *s = *d;
    if (s->x && s->x->v)
        sodium_memzero(s->x->v, s->x->rows * s->x->cols * sizeof(double));
    if (s->y && s->x)
        sodium_memzero(s->y, s->x->rows * sizeof(double));
    ml_dataset_destroy(d);
}

/* A feature "RSID:ALLELE" (ALLELE one of A C G T D I): true, with the rsid's length. */
static bool s_snp_feature(const char *f, size_t *rsid_len)
{
    const char *c = strrchr(f, ':');
    if (!c || c == f || c[1] == '\0' || c[2] != '\0' || !strchr("ACGTDI", c[1]))
        return false;
    *rsid_len = (size_t)(c - f);
    return true;
}

typedef struct {
    const enclave_train_config_t *cfg;
    double *val; /* p: allele counts, NAN where no call */
} s_geno_ctx_t;

static int s_geno_visit(void *arg, const ml_23_record_t *rec, size_t line)
{
    (void)line;
    s_geno_ctx_t *g = arg;
    for (size_t j = 0; j < g->cfg->p; j++) {
        const char *f = g->cfg->features[j];
        size_t n = 0;
        if (!s_snp_feature(f, &n) || n != rec->rsid_len || memcmp(f, rec->rsid, n) != 0)
            continue;
        char a = f[n + 1];
        if (rec->a1 == 0)
            g->val[j] = NAN;
        else if (rec->a2 == 0)
            g->val[j] = rec->a1 == a ? 2.0 : 0.0; /* hemizygous as homozygous (ml_geno) */
        else
            g->val[j] = (double)((rec->a1 == a) + (rec->a2 == a));
    }
    return 0;
}

/* One usable donation of the spec. */
typedef struct {
    enclave_donation_view_t v;
    ml_table_t *table; /* phenotype */
    double *geno;      /* genotype: p allele counts (NAN: no call or not in the file) */
    bool used;
} s_item_t;

/* Reads donation IT as a phenotype table or a genotype file; neither: left unused. */
static void s_classify(s_item_t *it, const enclave_train_config_t *cfg)
{
    char err[128];
    ml_csv_opts_t o = ml_csv_opts_default();
    o.max_rows = S_ROWS_MAX;
    size_t j = 0;
    if (ml_csv_parse(it->v.data, it->v.len, &o, &it->table, err, sizeof err) == PROTO_OK) {
        if (ml_table_col_find(it->table, cfg->label, &j))
            return;
        ml_table_destroy(&it->table); /* a 23andMe file parses as a one-column CSV too */
    }
    double *val = calloc(cfg->p + 1, sizeof *val); /* p >= 1 (the config decoder) */
    if (!val)
        return;
    for (size_t k = 0; k < cfg->p; k++)
        val[k] = NAN;
    s_geno_ctx_t g = {cfg, val};
    if (ml_geno_scan_23andme(it->v.data, it->v.len, NULL, s_geno_visit, &g, NULL, err,
                             sizeof err) == PROTO_OK)
        it->geno = val;
    else
        free(val);
    sodium_memzero(err, sizeof err);
}

/* The genotype item of the donor of IT, or NULL. */
static s_item_t *s_geno_of(s_item_t *items, size_t n, const s_item_t *it)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].geno && memcmp(items[i].v.donor, it->v.donor, 32) == 0)
            return &items[i];
    return NULL;
}

/* Appends the samples of phenotype item IT (with genotype item G, may be NULL) to ROWS. */
static int s_rows(s_item_t *it, s_item_t *g, const enclave_train_config_t *cfg, bool need_geno,
                  double **rows, double **ys, size_t *n, size_t *cap)
{
    if (need_geno && !g)
        return PROTO_OK;
    size_t lab = 0, col[ENCLAVE_TRAIN_FEATURES_MAX] = {0};
    bool snp[ENCLAVE_TRAIN_FEATURES_MAX] = {false};
    (void)ml_table_col_find(it->table, cfg->label, &lab);
    for (size_t j = 0; j < cfg->p; j++) {
        size_t rl = 0;
        snp[j] = s_snp_feature(cfg->features[j], &rl);
        if (!snp[j] && !ml_table_col_find(it->table, cfg->features[j], &col[j]))
            return PROTO_OK; /* a table without the feature: not usable */
    }
    for (size_t i = 0; i < ml_table_rows(it->table); i++) {
        double y = ml_table_num(it->table, i, lab);
        if (y != 0.0 && y != 1.0)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            if (nc > S_ROWS_MAX)
                return ML_E_TOO_BIG;
            double *r2 = realloc(*rows, nc * (cfg->p + 1) * sizeof **rows);
            if (!r2)
                return PROTO_E_NOMEM;
            *rows = r2;
            double *y2 = realloc(*ys, nc * sizeof **ys);
            if (!y2)
                return PROTO_E_NOMEM;
            *ys = y2;
            *cap = nc;
        }
        double *row = *rows + *n * cfg->p;
        bool ok = true;
        for (size_t j = 0; j < cfg->p && ok; j++) {
            row[j] = snp[j] ? g->geno[j] : ml_table_num(it->table, i, col[j]);
            ok = snp[j] || isfinite(row[j]);
        }
        if (!ok)
            continue;
        (*ys)[*n] = y;
        (*n)++;
        it->used = true;
        if (g)
            g->used = true;
    }
    return PROTO_OK;
}

/* The eligible ids sorted, or NULL when out of memory. */
static uint8_t (*s_sorted(const enclave_wire_ids_t *l))[32]
{
    uint8_t(*ids)[32] = calloc(l->n ? l->n : 1, 32);
    if (!ids)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        enclave_wire_ids_get(l, i, ids[i]);
    qsort(ids, l->n, 32, s_id_cmp);
    return ids;
}

/* Fills the missing allele counts of column J of X (N rows) with the column's mean. */
static void s_impute(double *x, size_t n, size_t p, size_t j)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i * p + j])) {
            sum += x[i * p + j];
            k++;
        }
    double mean = k ? sum / (double)k : 0.0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i * p + j]))
            x[i * p + j] = mean;
}

int enclave_train_samples(enclave_train_t *t, const uint8_t spec_id[static 32],
                          const enclave_wire_ids_t *eligible, const enclave_train_config_t *cfg,
                          ml_dataset_t **out, uint8_t (**used)[32], size_t *n_used,
                          uint32_t *dropped, char *err, size_t err_cap)
{
    *out = NULL;
    *used = NULL;
    *n_used = 0;
    *dropped = 0;
    uint8_t(*ok_ids)[32] = s_sorted(eligible);
    if (!ok_ids)
        return PROTO_E_NOMEM;
    /* wipe what the ledger no longer allows */
    for (size_t i = 0; i < enclave_train_count(t);) {
        enclave_donation_view_t v;
        enclave_train_view(t, i, &v);
        if (memcmp(v.spec_id, spec_id, 32) != 0 ||
            bsearch(v.data_id, ok_ids, eligible->n, 32, s_id_cmp)) {
            i++;
            continue;
        }
        (void)enclave_train_wipe(t, v.spec_id, v.data_id);
        (*dropped)++;
    }
    free(ok_ids);

    size_t n_items = 0, n = 0, cap = 0;
    double *rows = NULL, *ys = NULL;
    bool need_geno = false;
    int rc = PROTO_OK;
    for (size_t j = 0; j < cfg->p; j++) {
        size_t rl = 0;
        need_geno |= s_snp_feature(cfg->features[j], &rl);
    }
    s_item_t *items = calloc(enclave_train_count(t) + 1, sizeof *items);
    if (!items)
        return PROTO_E_NOMEM;
    for (size_t i = 0; i < enclave_train_count(t); i++) {
        enclave_donation_view_t v;
        enclave_train_view(t, i, &v);
        if (memcmp(v.spec_id, spec_id, 32) != 0)
            continue;
        items[n_items].v = v;
        s_classify(&items[n_items], cfg);
        n_items++;
    }
    for (size_t i = 0; i < n_items && rc == PROTO_OK; i++)
        if (items[i].table)
            rc = s_rows(&items[i], s_geno_of(items, n_items, &items[i]), cfg, need_geno, &rows, &ys,
                        &n, &cap);
    if (rc == PROTO_OK && n == 0)
        rc = proto_err_fail(err, err_cap, ML_E_EMPTY, "no usable sample among %zu donations",
                            n_items);
    if (rc == PROTO_OK) {
        for (size_t j = 0; j < cfg->p; j++)
            s_impute(rows, n, cfg->p, j);
        *out = ml_dataset_new(n, cfg->p);
        size_t k = 0;
        for (size_t i = 0; i < n_items; i++)
            k += items[i].used;
        *used = calloc(k ? k : 1, 32);
        if (!*out || !*used)
            rc = PROTO_E_NOMEM;
    }
    if (rc == PROTO_OK) {
        memcpy((*out)->x->v, rows, n * cfg->p * sizeof *rows);
        memcpy((*out)->y, ys, n * sizeof *ys);
        for (size_t i = 0; i < n_items; i++)
            if (items[i].used)
                memcpy((*used)[(*n_used)++], items[i].v.data_id, 32);
        qsort(*used, *n_used, 32, s_id_cmp);
    } else {
        enclave_train_dataset_wipe(out);
        free(*used);
        *used = NULL;
        *n_used = 0;
    }
    for (size_t i = 0; i < n_items; i++) {
        ml_table_destroy(&items[i].table);
        if (items[i].geno)
            sodium_memzero(items[i].geno, cfg->p * sizeof(double));
        free(items[i].geno);
    }
    free(items);
    if (rows)
        sodium_memzero(rows, n * cfg->p * sizeof *rows);
    if (ys)
        sodium_memzero(ys, n * sizeof *ys);
    free(rows);
    free(ys);
    return rc;
}
