/*  node_cli_ml: the offline 'genie ml' commands for people who prepare data and check models:
 *  validate a file as the validation enclave would, train a logistic / linear / PRS model on a
 *  seeded split and store it with its metrics, evaluate and apply a model file. No node, no
 *  RPC: the ml/ library runs in this process. Data loading is node_cli_ml_data.c.
 */
#include <htslib/bgzf.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_join.h"
#include "ml/ml_linear.h"
#include "ml/ml_metrics.h"
#include "ml/ml_scale.h"
#include "ml/ml_split.h"
#include "ml/ml_validate.h"
#include "node/cli/node_cli.h"

#define KV_WIDTH 14
#define MAX_LIST 100000u /* names in --features / --covariates */

/* ---------------------------------------------------------------- validate */

static const struct {
    uint32_t bit;
    const char *name;
} s_checks[] = {{ML_CHECK_FORMAT, "format"},       {ML_CHECK_ALLELES, "alleles"},
                {ML_CHECK_CALL_RATE, "call_rate"}, {ML_CHECK_HWE, "hwe"},
                {ML_CHECK_RANGES, "ranges"},       {ML_CHECK_SIZE, "size"}};

/*  Reads PATH (plain or BGZF/gzip, through htslib) into *BUF, at most MAX + 1 bytes. */
static int s_read_all(const char *path, size_t max, uint8_t **buf, size_t *len, char *err,
                      size_t cap)
{
    BGZF *fp = bgzf_open(path, "r");
    if (!fp)
        return proto_err_fail(err, cap, PROTO_E_IO, "cannot open %s", path);
    size_t have = 0, room = 1 << 16;
    uint8_t *b = malloc(room);
    int rc = 0;
    while (b) {
        if (have == room) {
            size_t grow = room * 2 > max + 1 ? max + 1 : room * 2;
            uint8_t *g = room <= max ? realloc(b, grow) : NULL;
            if (!g) {
                rc = room > max ? 0 : PROTO_E_NOMEM; /* past MAX: the validator refuses it */
                break;
            }
            b = g, room = grow;
        }
        ssize_t got = bgzf_read(fp, b + have, room - have);
        if (got < 0) {
            rc = proto_err_fail(err, cap, PROTO_E_IO, "cannot read %s", path);
            break;
        }
        if (got == 0)
            break;
        have += (size_t)got;
    }
    bgzf_close(fp);
    if (!b)
        return PROTO_E_NOMEM;
    if (rc) {
        free(b);
        return rc;
    }
    *buf = b, *len = have;
    return 0;
}

/*  A VCF header, or a 23andMe-style file ('#' comments, tab-separated records), else CSV. */
static ml_datatype_t s_guess_type(const uint8_t *b, size_t len)
{
    if (len >= 16 && memcmp(b, "##fileformat=VCF", 16) == 0)
        return ML_DATA_GENOTYPE;
    if (len > 0 && b[0] == '#')
        return ML_DATA_GENOTYPE;
    const uint8_t *nl = memchr(b, '\n', len);
    size_t line = nl ? (size_t)(nl - b) : len;
    return memchr(b, '\t', line) && !memchr(b, ',', line) ? ML_DATA_GENOTYPE : ML_DATA_PHENOTYPE;
}

int node_cli_cmd_ml_validate(node_cli_t *cli, int argc, char **argv)
{
    const char *file = NULL, *type_name = NULL;
    int n = 0;
    const node_cli_opt_t opts[] = {{"--type", &type_name, NULL}, {NULL, NULL, NULL}};
    if (node_cli_opts("ml validate", argc, argv, opts, &file, 1, &n) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (!file)
        return node_cli_usage("'ml validate' needs a FILE");
    ml_datatype_t type = 0;
    if (type_name && ml_datatype_parse(type_name, &type) != 0)
        return node_cli_usage("--type must be genotype or phenotype (got '%s')", type_name);
    char err[512] = "";
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = s_read_all(file, ML_VALIDATE_MAX_BYTES, &buf, &len, err, sizeof err);
    if (rc)
        return node_cli_fail("%s", err);
    if (!type)
        type = s_guess_type(buf, len);
    ml_validation_t rep;
    rc = ml_validate_buffer(type, buf, len, &rep, err, sizeof err);
    free(buf);
    bool ok = rc == 0 && rep.checks_passed == rep.checks_run;
    const char *reason = rc ? (err[0] ? err : proto_err_str(rc)) : rep.reason;
    if (node_cli_json(cli)) {
        json_t *o = json_object(), *run = json_array(), *failed = json_array();
        for (size_t k = 0; k < sizeof s_checks / sizeof s_checks[0]; k++) {
            if (!(rep.checks_run & s_checks[k].bit))
                continue;
            json_array_append_new(run, json_string(s_checks[k].name));
            if (!(rep.checks_passed & s_checks[k].bit))
                json_array_append_new(failed, json_string(s_checks[k].name));
        }
        json_object_set_new(o, "file", json_string(file));
        json_object_set_new(o, "type", json_string(ml_datatype_name(type)));
        json_object_set_new(o, "ok", json_boolean(ok));
        json_object_set_new(o, "records", json_integer((json_int_t)rep.records));
        json_object_set_new(o, "call_rate", json_real(rep.call_rate));
        json_object_set_new(o, "hwe_failures", json_integer(rep.hwe_failures));
        json_object_set_new(o, "checks", run);
        json_object_set_new(o, "failed", failed);
        json_object_set_new(o, "reason", json_string(reason));
        node_cli_print_json(o);
        json_decref(o);
    } else {
        node_cli_print_kv(KV_WIDTH, "file", "%s", file);
        node_cli_print_kv(KV_WIDTH, "type", "%s", ml_datatype_name(type));
        node_cli_print_kv(KV_WIDTH, "records", "%llu", (unsigned long long)rep.records);
        node_cli_print_kv(KV_WIDTH, "call rate", "%.4f", rep.call_rate);
        node_cli_print_kv(KV_WIDTH, "hwe failures", "%u", rep.hwe_failures);
        for (size_t k = 0; k < sizeof s_checks / sizeof s_checks[0]; k++)
            if (rep.checks_run & s_checks[k].bit)
                node_cli_print_kv(KV_WIDTH, s_checks[k].name, "%s",
                                  rep.checks_passed & s_checks[k].bit ? "pass" : "FAIL");
        node_cli_print_kv(KV_WIDTH, "result", "%s", ok ? "ok" : reason);
    }
    return ok ? NODE_CLI_EXIT_OK : node_cli_fail("%s failed validation: %s", file, reason);
}

/* ---------------------------------------------------------------- shared options */

typedef struct {
    node_cli_ml_src_t src;
    const char *label, *model, *features, *features_file, *covariates, *out;
    double l2, test_frac, p_threshold;
    bool l2_set;
    uint64_t seed;
} s_opts_t;

static int s_parse_double(const char *name, const char *text, double lo, double hi, double *out)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (!text[0] || *end || !isfinite(v) || v < lo || v > hi)
        return node_cli_usage("%s must be a number in [%g, %g] (got '%s')", name, lo, hi, text);
    *out = v;
    return NODE_CLI_EXIT_OK;
}

/*  Parses ARGV into O. MODEL_FILE: the first positional argument (eval, predict) or NULL
 *  (none allowed). TRAIN: the training options are accepted. */
static int s_parse(const char *cmd, int argc, char **argv, bool train, s_opts_t *o,
                   const char **model_file)
{
    memset(o, 0, sizeof *o);
    o->test_frac = 0.2, o->seed = 1;
    const char *v;
    for (int i = 0; i < argc;) {
        int got = node_cli_ml_src_opt(argc, argv, &i, &o->src);
        if (got < 0)
            return NODE_CLI_EXIT_USAGE;
        if (got > 0)
            continue;
        const char *names[] = {"--label",         "--out",        "--model", "--features",
                               "--features-file", "--covariates", "--l2",    "--test-frac",
                               "--seed",          "--p-threshold"};
        size_t k = 0;
        for (; k < sizeof names / sizeof names[0]; k++)
            if ((got = node_cli_opt_value(argc, argv, &i, names[k], &v)) != 0)
                break;
        if (got < 0)
            return NODE_CLI_EXIT_USAGE;
        if (got == 0) {
            if (argv[i][0] != '-' && model_file && !*model_file) {
                *model_file = argv[i++];
                continue;
            }
            return node_cli_usage("'%s': unexpected argument '%s'", cmd, argv[i]);
        }
        if (!train && k != 0 && k != 1)
            return node_cli_usage("'%s' does not take %s", cmd, names[k]);
        int rc = NODE_CLI_EXIT_OK;
        switch (k) {
        case 0:
            o->label = v;
            break;
        case 1:
            o->out = v;
            break;
        case 2:
            o->model = v;
            break;
        case 3:
            o->features = v;
            break;
        case 4:
            o->features_file = v;
            break;
        case 5:
            o->covariates = v;
            break;
        case 6:
            rc = s_parse_double("--l2", v, 0, 1e12, &o->l2), o->l2_set = true;
            break;
        case 7:
            rc = s_parse_double("--test-frac", v, 0, 0.9, &o->test_frac);
            break;
        case 8:
            if (node_cli_parse_u64(v, &o->seed) != 0)
                rc = node_cli_usage("--seed must be an unsigned integer (got '%s')", v);
            break;
        default:
            rc = s_parse_double("--p-threshold", v, 1e-300, 1, &o->p_threshold);
            break;
        }
        if (rc != NODE_CLI_EXIT_OK)
            return rc;
    }
    if (model_file && !*model_file)
        return node_cli_usage("'%s' needs a MODEL file", cmd);
    return NODE_CLI_EXIT_OK;
}

/*  Splits TEXT at commas (or, FROM_FILE, reads the file's lines; '#' comments) into *LIST of
 *  *N names pointing into *STORE (both the caller's to free). */
static int s_list(const char *text, bool from_file, char **store, const char ***list, size_t *n,
                  char *err, size_t cap)
{
    *n = 0, *list = NULL, *store = NULL;
    if (!text)
        return 0;
    if (from_file) {
        FILE *f = fopen(text, "rb");
        if (!f)
            return proto_err_fail(err, cap, PROTO_E_IO, "cannot open %s", text);
        char *b = malloc(16u << 20);
        size_t got = b ? fread(b, 1, (16u << 20) - 1, f) : 0;
        bool more = b && got == (16u << 20) - 1 && fgetc(f) != EOF;
        fclose(f);
        if (!b)
            return PROTO_E_NOMEM;
        if (more) {
            free(b);
            return proto_err_fail(err, cap, ML_E_TOO_BIG, "%s is over 16 MiB", text);
        }
        b[got] = '\0';
        *store = b;
    } else if (!(*store = strdup(text))) {
        return PROTO_E_NOMEM;
    }
    const char **l = malloc(MAX_LIST * sizeof *l);
    if (!l)
        return PROTO_E_NOMEM;
    *list = l;
    char *save = NULL;
    for (char *w = strtok_r(*store, from_file ? "\r\n" : ",", &save); w;
         w = strtok_r(NULL, from_file ? "\r\n" : ",", &save)) {
        w += strspn(w, " \t");
        if (!w[0] || w[0] == '#')
            continue;
        w[strcspn(w, " \t")] = '\0';
        if (*n >= MAX_LIST)
            return proto_err_fail(err, cap, ML_E_TOO_BIG, "over %u names", MAX_LIST);
        l[(*n)++] = w;
    }
    if (*n == 0)
        return proto_err_fail(err, cap, ML_E_EMPTY, "empty name list %s", text);
    return 0;
}

/*  Metrics of predictions PRED against labels Y (N samples) into M (names "<metric>_SUFFIX")
 *  and J (may be NULL). PROB: the predictions are probabilities (log-loss and accuracy). */
static int s_metrics(const double *pred, const double *y, size_t n, bool binary, bool prob,
                     const char *suffix, ml_model_t *m, json_t *j, char *err, size_t cap)
{
    struct {
        const char *name;
        double v;
        bool have;
    } r[4] = {{"auc", 0, false}, {"accuracy", 0, false}, {"logloss", 0, false}, {"r2", 0, false}};
    int rc = 0;
    if (binary) {
        rc = ml_metric_auc(pred, y, n, &r[0].v);
        r[0].have = rc == 0;
        if (rc == ML_E_ONE_CLASS)
            rc = 0;
        if (prob) {
            r[1].v = ml_metric_accuracy(pred, y, n, 0.5), r[1].have = true;
            r[2].v = ml_metric_logloss(pred, y, n), r[2].have = true;
        }
    }
    if (rc == 0 && (!binary || !prob)) {
        rc = ml_metric_r2(pred, y, n, &r[3].v);
        r[3].have = rc == 0;
        if (rc == ML_E_NO_VARIANCE || rc == ML_E_ARG)
            rc = 0;
    }
    if (rc)
        return proto_err_fail(err, cap, rc, "metrics: %s", proto_err_str(rc));
    for (size_t k = 0; k < 4; k++) {
        if (!r[k].have || !isfinite(r[k].v))
            continue;
        char name[64];
        snprintf(name, sizeof name, "%s_%s", r[k].name, suffix);
        if (m && (rc = ml_model_add_metric(m, name, r[k].v)) != 0)
            return proto_err_fail(err, cap, rc, "cannot store metric %s", name);
        if (j)
            json_object_set_new(j, name, json_real(r[k].v));
    }
    return 0;
}

/*  Predictions of model M for rows IDX[0..K) of R into PRED. */
static int s_predict(const ml_model_t *m, const node_cli_ml_data_t *d, const node_cli_ml_rows_t *r,
                     const size_t *idx, size_t k, double *pred, char *err, size_t cap)
{
    int rc;
    if (ml_model_kind(m) == ML_MODEL_PRS) {
        ml_dosage_view_t v;
        ml_prs_match_t mt = {0};
        bool whole = d->geno && !idx && k == d->geno->n_samples; /* every sample, in order */
        for (size_t i = 0; whole && i < k; i++)
            whole = r->gi[i] == i;
        if (whole) {
            v = ml_dosage_view_geno(d->geno); /* borrowed: no copy of the dosages */
            rc = ml_prs_apply(m, &v, pred, &mt, err, cap);
        } else {
            if ((rc = node_cli_ml_view(d, r, idx, k, NULL, 0, &v, err, cap)) != 0)
                return rc;
            rc = ml_prs_apply(m, &v, pred, &mt, err, cap);
            node_cli_ml_view_free(&v);
        }
        if (rc == 0 && (mt.absent || mt.mismatched))
            node_cli_ml_progress("PRS: %zu SNPs matched, %zu absent, %zu allele mismatches",
                                 mt.matched, mt.absent, mt.mismatched);
        return rc;
    }
    ml_mat_t *x = NULL;
    if ((rc = node_cli_ml_features(m, d, r, idx, k, &x, err, cap)) != 0)
        return rc;
    rc = ml_model_predict(m, x, pred);
    ml_mat_destroy(&x);
    return rc ? proto_err_fail(err, cap, rc, "prediction failed: %s", proto_err_str(rc)) : 0;
}

static void s_hex(const uint8_t h[32], char hex[65])
{
    sodium_bin2hex(hex, 65, h, 32);
}

/* ---------------------------------------------------------------- train */

/*  Fits a logistic or linear model on rows TR of R (through ml_join for the features). */
static int s_fit_linear(const s_opts_t *o, ml_model_kind_t kind, const node_cli_ml_data_t *d,
                        const node_cli_ml_rows_t *r, const char **feat, size_t n_feat,
                        const char **cov, size_t n_cov, const ml_split_t *sp, ml_model_t **out,
                        char *err, size_t cap)
{
    ml_geno_t *own = d->geno ? NULL : node_cli_ml_table_samples(d->table);
    const ml_geno_t *g = d->geno ? d->geno : own;
    const char **all = NULL;
    ml_dataset_t *ds = NULL, *tr = NULL;
    ml_scale_t *sc = NULL;
    int rc = PROTO_E_NOMEM;
    if (!g)
        goto out;
    if (!d->geno && n_cov == 0) { /* a CSV alone: every column but the id and the label */
        if (!(all = malloc(ml_table_cols(d->table) * sizeof *all)))
            goto out;
        for (size_t j = 0; j < ml_table_cols(d->table); j++)
            if (j != ml_table_id_col(d->table) && strcmp(ml_table_col_name(d->table, j), o->label))
                all[n_cov++] = ml_table_col_name(d->table, j);
        cov = all;
    }
    ml_join_opts_t jo = {.label = o->label,
                         .kind = kind == ML_MODEL_LOGISTIC ? ML_LABEL_BINARY : ML_LABEL_NUMERIC,
                         .rsids = n_feat ? feat : NULL,
                         .n_rsids = n_feat,
                         .covariates = cov,
                         .n_covariates = n_cov,
                         .drop_first = true};
    ml_join_stats_t js;
    if ((rc = ml_join(g, d->table, &jo, &ds, &js, err, cap)) != 0)
        goto out;
    bool same = ds->x->rows == r->n;
    for (size_t i = 0; same && i < r->n; i++)
        same = ds->sample_ids && ds->sample_ids[i] && strcmp(ds->sample_ids[i], r->ids[i]) == 0;
    if (!same) { /* the split indexes R's samples: the join must have kept exactly those */
        rc = proto_err_fail(err, cap, ML_E_FAILED, "joined %zu samples, expected %zu", ds->x->rows,
                            r->n);
        goto out;
    }
    char c1[32], c2[32];
    node_cli_ml_progress("fitting %s on %s samples x %s features...", ml_model_kind_name(kind),
                         node_cli_ml_count(sp->n_train, c1), node_cli_ml_count(ds->x->cols, c2));
    rc = PROTO_E_NOMEM;
    if (!(tr = ml_dataset_subset(ds, sp->train, sp->n_train)))
        goto out;
    if ((rc = ml_scale_fit(tr->x, &sc)) != 0 || (rc = ml_scale_apply(sc, tr->x)) != 0) {
        proto_err_fail(err, cap, rc, "cannot standardise the features");
        goto out;
    }
    ml_fit_opts_t fo = {.l2 = o->l2_set ? o->l2 : 1.0};
    rc = kind == ML_MODEL_LOGISTIC ? ml_logistic_fit(tr, &fo, out, err, cap)
                                   : ml_linear_fit(tr, &fo, out, err, cap);
    if (rc == 0 && (rc = ml_model_set_scaling(*out, sc)) != 0)
        ml_model_destroy(out);
out:
    ml_scale_destroy(&sc);
    ml_dataset_destroy(&tr);
    ml_dataset_destroy(&ds);
    ml_geno_destroy(&own);
    free(all);
    return rc;
}

/*  Trains a PRS on the training rows of R over the SNPs FEAT (NULL: all). */
static int s_fit_prs(const s_opts_t *o, const node_cli_ml_data_t *d, const node_cli_ml_rows_t *r,
                     const char **feat, size_t n_feat, const ml_split_t *sp, ml_model_t **out,
                     char *err, size_t cap)
{
    size_t *cols = NULL;
    double *y = malloc((sp->n_train + 1) * sizeof *y);
    ml_dosage_view_t v = {0};
    int rc = PROTO_E_NOMEM;
    if (!y || !d->geno || (n_feat && !(cols = malloc(n_feat * sizeof *cols)))) {
        if (!d->geno)
            rc = proto_err_fail(err, cap, ML_E_ARG, "a PRS needs --genotypes or --23andme");
        goto out;
    }
    for (size_t j = 0; j < n_feat; j++)
        if (!ml_geno_find_snp(d->geno, feat[j], &cols[j])) {
            rc = proto_err_fail(err, cap, ML_E_NOT_FOUND, "no SNP '%.64s' in the genotypes",
                                feat[j]);
            goto out;
        }
    for (size_t a = 0; a < sp->n_train; a++)
        y[a] = r->y[sp->train[a]];
    if ((rc = node_cli_ml_view(d, r, sp->train, sp->n_train, cols, n_feat, &v, err, cap)) != 0)
        goto out;
    char c1[32], c2[32];
    node_cli_ml_progress("training PRS on %s samples x %s SNPs...", node_cli_ml_count(v.n, c1),
                         node_cli_ml_count(v.m, c2));
    ml_prs_opts_t po = {.p_threshold = o->p_threshold, .l2 = o->l2_set ? o->l2 : 0};
    rc = ml_prs_train(&v, y, &po, out, err, cap);
out:
    node_cli_ml_view_free(&v);
    free(cols);
    free(y);
    return rc;
}

int node_cli_cmd_ml_train(node_cli_t *cli, int argc, char **argv)
{
    s_opts_t o;
    int rc = s_parse("ml train", argc, argv, true, &o, NULL);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if ((rc = node_cli_ml_src_check(&o.src, true)) != NODE_CLI_EXIT_OK)
        return rc;
    if (!o.label || !o.model || !o.out)
        return node_cli_usage("'ml train' needs --label COL, --model KIND and --out MODEL");
    ml_model_kind_t kind = strcmp(o.model, "logistic") == 0 ? ML_MODEL_LOGISTIC
                           : strcmp(o.model, "linear") == 0 ? ML_MODEL_LINEAR
                           : strcmp(o.model, "prs") == 0    ? ML_MODEL_PRS
                                                            : 0;
    if (!kind)
        return node_cli_usage("--model must be logistic, linear or prs (got '%s')", o.model);
    if (o.features && o.features_file)
        return node_cli_usage("give --features or --features-file, not both");
    if (kind == ML_MODEL_PRS && (o.covariates || !(o.src.genotypes || o.src.n_g23)))
        return node_cli_usage("--model prs needs genotypes and takes no --covariates");
    char err[512] = "", *fstore = NULL, *cstore = NULL, hex[65];
    const char **feat = NULL, **cov = NULL;
    size_t n_feat = 0, n_cov = 0;
    node_cli_ml_data_t d = {0};
    node_cli_ml_rows_t r = {0};
    ml_split_t *sp = NULL;
    ml_model_t *m = NULL;
    double *pred = NULL;
    json_t *j = json_object();
    if (!j ||
        (rc = s_list(o.features ? o.features : o.features_file, !o.features, &fstore, &feat,
                     &n_feat, err, sizeof err)) != 0 ||
        (rc = s_list(o.covariates, false, &cstore, &cov, &n_cov, err, sizeof err)) != 0 ||
        (rc = node_cli_ml_load(&o.src, &d, err, sizeof err)) != 0 ||
        (rc = node_cli_ml_rows(&d, o.label, &r, err, sizeof err)) != 0)
        goto out;
    if (kind == ML_MODEL_LOGISTIC && !r.binary) {
        rc = proto_err_fail(err, sizeof err, ML_E_ARG, "--model logistic needs a 0/1 label");
        goto out;
    }
    if ((rc = ml_split_new(r.n, 0, o.test_frac, o.seed, r.binary ? r.y : NULL, &sp)) != 0) {
        proto_err_fail(err, sizeof err, rc, "cannot split %zu samples", r.n);
        goto out;
    }
    if (sp->n_train < 2) {
        rc = proto_err_fail(err, sizeof err, ML_E_EMPTY, "only %zu training samples", sp->n_train);
        goto out;
    }
    rc = kind == ML_MODEL_PRS
             ? s_fit_prs(&o, &d, &r, feat, n_feat, sp, &m, err, sizeof err)
             : s_fit_linear(&o, kind, &d, &r, feat, n_feat, cov, n_cov, sp, &m, err, sizeof err);
    if (rc)
        goto out;
    /* evaluate on the held-out split (the training split when --test-frac 0) */
    const size_t *ev = sp->n_test ? sp->test : sp->train;
    size_t n_ev = sp->n_test ? sp->n_test : sp->n_train;
    double *yev = malloc((n_ev + 1) * sizeof *yev);
    if (!(pred = malloc((n_ev + 1) * sizeof *pred)) || !yev) {
        free(yev);
        rc = PROTO_E_NOMEM;
        goto out;
    }
    for (size_t a = 0; a < n_ev; a++)
        yev[a] = r.y[ev[a]];
    if ((rc = ml_model_add_metric(m, "n_train", (double)sp->n_train)) == 0 &&
        (rc = ml_model_add_metric(m, "n_test", (double)sp->n_test)) == 0 &&
        (rc = s_predict(m, &d, &r, ev, n_ev, pred, err, sizeof err)) == 0)
        rc = s_metrics(pred, yev, n_ev, r.binary, kind == ML_MODEL_LOGISTIC,
                       sp->n_test ? "test" : "train", m, j, err, sizeof err);
    free(yev);
    for (size_t k = 0; rc == 0 && k < d.n_hashes; k++)
        rc = ml_model_add_data_hash(m, d.hashes[k]);
    if (rc || (rc = ml_model_save(m, o.out, err, sizeof err)) != 0)
        goto out;
    uint8_t h[32];
    ml_model_hash(m, h);
    s_hex(h, hex);
    if (node_cli_json(cli)) {
        json_object_set_new(j, "model", json_string(o.out));
        json_object_set_new(j, "kind", json_string(ml_model_kind_name(kind)));
        json_object_set_new(j, "hash", json_string(hex));
        json_object_set_new(j, "features", json_integer((json_int_t)ml_model_p(m)));
        json_object_set_new(j, "n_train", json_integer((json_int_t)sp->n_train));
        json_object_set_new(j, "n_test", json_integer((json_int_t)sp->n_test));
        json_object_set_new(j, "seed", json_integer((json_int_t)o.seed));
        node_cli_print_json(j);
    } else {
        node_cli_print_kv(KV_WIDTH, "model", "%s", o.out);
        node_cli_print_kv(KV_WIDTH, "kind", "%s", ml_model_kind_name(kind));
        node_cli_print_kv(KV_WIDTH, "hash", "%s", hex);
        node_cli_print_kv(KV_WIDTH, "features", "%zu", ml_model_p(m));
        node_cli_print_kv(KV_WIDTH, "train / test", "%zu / %zu (seed %llu)", sp->n_train,
                          sp->n_test, (unsigned long long)o.seed);
        const char *key;
        json_t *val;
        json_object_foreach(j, key, val)
            node_cli_print_kv(KV_WIDTH, key, "%.4f", json_real_value(val));
    }
out:
    free(pred);
    json_decref(j);
    ml_model_destroy(&m);
    ml_split_destroy(&sp);
    node_cli_ml_rows_free(&r);
    node_cli_ml_data_free(&d);
    free(feat), free(cov), free(fstore), free(cstore);
    if (rc)
        return node_cli_fail("ml train: %s", err[0] ? err : proto_err_str(rc));
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- eval, predict */

/*  Shared body of eval (LABEL required, metrics) and predict (scores, optionally to OUT). */
static int s_apply(node_cli_t *cli, const char *cmd, int argc, char **argv, bool eval)
{
    s_opts_t o;
    const char *model_file = NULL;
    int rc = s_parse(cmd, argc, argv, false, &o, &model_file);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if ((rc = node_cli_ml_src_check(&o.src, eval)) != NODE_CLI_EXIT_OK)
        return rc;
    if (eval && (!o.label || o.out))
        return node_cli_usage("'%s' needs --label COL (and takes no --out)", cmd);
    char err[512] = "";
    node_cli_ml_data_t d = {0};
    node_cli_ml_rows_t r = {0};
    ml_model_t *m = NULL;
    double *pred = NULL;
    json_t *j = json_object();
    FILE *f = NULL;
    if (!j || (rc = ml_model_load(model_file, &m, err, sizeof err)) != 0 ||
        (rc = node_cli_ml_load(&o.src, &d, err, sizeof err)) != 0 ||
        (rc = node_cli_ml_rows(&d, eval ? o.label : NULL, &r, err, sizeof err)) != 0)
        goto out;
    rc = PROTO_E_NOMEM;
    if (!(pred = malloc((r.n + 1) * sizeof *pred)))
        goto out;
    if ((rc = s_predict(m, &d, &r, NULL, r.n, pred, err, sizeof err)) != 0)
        goto out;
    uint8_t h[32];
    char hex[65];
    ml_model_hash(m, h);
    s_hex(h, hex);
    json_object_set_new(j, "model", json_string(model_file));
    json_object_set_new(j, "hash", json_string(hex));
    json_object_set_new(j, "kind", json_string(ml_model_kind_name(ml_model_kind(m))));
    json_object_set_new(j, "samples", json_integer((json_int_t)r.n));
    if (eval) {
        json_t *met = json_object();
        json_object_set_new(j, "metrics", met);
        rc = s_metrics(pred, r.y, r.n, r.binary, ml_model_kind(m) == ML_MODEL_LOGISTIC, "eval",
                       NULL, met, err, sizeof err);
        if (rc)
            goto out;
        if (node_cli_json(cli)) {
            node_cli_print_json(j);
        } else {
            node_cli_print_kv(KV_WIDTH, "model", "%s", model_file);
            node_cli_print_kv(KV_WIDTH, "hash", "%s", hex);
            node_cli_print_kv(KV_WIDTH, "samples", "%zu", r.n);
            const char *key;
            json_t *val;
            json_object_foreach(met, key, val)
                node_cli_print_kv(KV_WIDTH, key, "%.4f", json_real_value(val));
        }
        goto out;
    }
    if (o.out && !(f = fopen(o.out, "w"))) {
        rc = proto_err_fail(err, sizeof err, PROTO_E_IO, "cannot write %s", o.out);
        goto out;
    }
    json_t *scores = json_array();
    json_object_set_new(j, "predictions", scores);
    for (size_t i = 0; i < r.n; i++) {
        if (f || !node_cli_json(cli))
            fprintf(f ? f : stdout, "%s\t%.17g\n", r.ids[i], pred[i]);
        if (!f && node_cli_json(cli)) {
            json_t *p = json_object();
            json_object_set_new(p, "id", json_string(r.ids[i]));
            json_object_set_new(p, "score", json_real(pred[i]));
            json_array_append_new(scores, p);
        }
    }
    if (f && fclose(f) != 0) {
        f = NULL;
        rc = proto_err_fail(err, sizeof err, PROTO_E_IO, "cannot write %s", o.out);
        goto out;
    }
    if (f) {
        f = NULL;
        json_object_set_new(j, "out", json_string(o.out));
        if (!node_cli_json(cli))
            node_cli_ml_progress("wrote %zu scores to %s", r.n, o.out);
    }
    if (node_cli_json(cli))
        node_cli_print_json(j);
out:
    if (f)
        fclose(f);
    free(pred);
    json_decref(j);
    ml_model_destroy(&m);
    node_cli_ml_rows_free(&r);
    node_cli_ml_data_free(&d);
    if (rc)
        return node_cli_fail("%s: %s", cmd, err[0] ? err : proto_err_str(rc));
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_ml_eval(node_cli_t *cli, int argc, char **argv)
{
    return s_apply(cli, "ml eval", argc, argv, true);
}

int node_cli_cmd_ml_predict(node_cli_t *cli, int argc, char **argv)
{
    return s_apply(cli, "ml predict", argc, argv, false);
}
