/*  ml_prs_tsv: the PGS Catalog-shaped scoring-file parser behind ml_prs_parse_tsv and
 *  ml_prs_load_tsv (see ml_prs.h). Strict: every refused line is named in the error. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ml/ml_file.h"
#include "ml/ml_prs.h"

#define S_MAX_FIELDS 64
#define S_MAX_RSID 200
#define S_MAX_ALLELE 50

typedef struct {
    const char *p;
    size_t len;
} s_field_t;

typedef struct {
    size_t n, cap;
    char **ids;
    double *w;
} s_acc_t;

static void s_acc_free(s_acc_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->ids[i]);
    free(a->ids);
    free(a->w);
}

static bool s_is(const s_field_t *f, const char *name)
{
    return f->len == strlen(name) && strncasecmp(f->p, name, f->len) == 0;
}

/* Splits LINE (LEN bytes, no newline) at tabs into F; returns the count or -1 if more
   than S_MAX_FIELDS. */
static int s_split(const char *line, size_t len, s_field_t *f)
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == '\t') {
            if (k == S_MAX_FIELDS)
                return -1;
            f[k++] = (s_field_t){line + start, i - start};
            start = i + 1;
        }
    }
    return k;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "RSID:ALLELE" with weight W; checks the fields. */
static int s_add(s_acc_t *a, const s_field_t *rs, const s_field_t *ea, const s_field_t *wt,
                 size_t line, char *err, size_t cap)
{
    if (rs->len == 0 || rs->len > S_MAX_RSID)
        return proto_err_fail(err, cap, ML_E_WEIGHTS, "line %zu: rsid empty or too long", line);
    for (size_t i = 0; i < rs->len; i++)
        if (!isgraph((unsigned char)rs->p[i]) || rs->p[i] == ':')
            return proto_err_fail(err, cap, ML_E_WEIGHTS, "line %zu: bad character in rsid", line);
    if (ea->len == 0 || ea->len > S_MAX_ALLELE)
        return proto_err_fail(err, cap, ML_E_WEIGHTS, "line %zu: effect allele empty or too long",
                              line);
    char allele[S_MAX_ALLELE + 1];
    for (size_t i = 0; i < ea->len; i++) {
        char c = (char)toupper((unsigned char)ea->p[i]);
        if (!strchr("ACGT", c) || c == '\0')
            return proto_err_fail(err, cap, ML_E_WEIGHTS, "line %zu: effect allele is not A/C/G/T",
                                  line);
        allele[i] = c;
    }
    allele[ea->len] = '\0';
    char num[64];
    if (wt->len == 0 || wt->len >= sizeof num)
        return proto_err_fail(err, cap, ML_E_WEIGHTS, "line %zu: weight empty or too long", line);
    memcpy(num, wt->p, wt->len);
    num[wt->len] = '\0';
    char *end = NULL;
    errno = 0;
    double w = strtod(num, &end);
    if (end != num + wt->len || errno == ERANGE || !isfinite(w) || isspace((unsigned char)num[0]))
        return proto_err_fail(err, cap, ML_E_WEIGHTS, "line %zu: weight \"%s\" is not a number",
                              line, num);
    if (a->n == ML_MODEL_MAX_P)
        return proto_err_fail(err, cap, ML_E_TOO_BIG, "line %zu: more than %u weights", line,
                              ML_MODEL_MAX_P);
    if (a->n == a->cap) {
        size_t nc = a->cap ? 2 * a->cap : 64;
        char **ids = realloc(a->ids, nc * sizeof *ids);
        if (!ids)
            return proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        a->ids = ids;
        double *ws = realloc(a->w, nc * sizeof *ws);
        if (!ws)
            return proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        a->w = ws;
        a->cap = nc;
    }
    char *id = malloc(rs->len + ea->len + 2);
    if (!id)
        return proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
    memcpy(id, rs->p, rs->len);
    id[rs->len] = ':';
    memcpy(id + rs->len + 1, allele, ea->len + 1);
    a->ids[a->n] = id;
    a->w[a->n++] = w;
    return 0;
}

int ml_prs_parse_tsv(const char *buf, size_t len, ml_model_t **out, char *err, size_t cap)
{
    if (!buf || !out)
        return proto_err_fail(err, cap, ML_E_ARG, "NULL argument");
    if (len > ML_MODEL_MAX_BYTES)
        return proto_err_fail(err, cap, ML_E_TOO_BIG, "scoring file of %zu bytes", len);
    s_acc_t a = {0};
    s_field_t f[S_MAX_FIELDS];
    int col_rs = 0, col_ea = 1, col_w = 2, need = 3; /* headerless layout */
    bool first = true;
    int rc = 0;
    size_t line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        const char *s = buf + pos;
        size_t sl = end - pos;
        pos = nl ? end + 1 : len;
        line++;
        if (sl && s[sl - 1] == '\r')
            sl--;
        if (memchr(s, '\0', sl) || memchr(s, '\r', sl)) {
            rc = proto_err_fail(err, cap, ML_E_WEIGHTS, "line %zu: NUL or stray CR", line);
            goto err;
        }
        if (sl == 0 || s[0] == '#')
            continue;
        int k = s_split(s, sl, f);
        if (k < 0) {
            rc = proto_err_fail(err, cap, ML_E_WEIGHTS, "line %zu: more than %d columns", line,
                                S_MAX_FIELDS);
            goto err;
        }
        if (first) {
            first = false;
            int rs = -1, ea = -1, wt = -1;
            for (int i = 0; i < k; i++) {
                if (rs < 0 && (s_is(&f[i], "rsID") || s_is(&f[i], "ID") || s_is(&f[i], "SNP")))
                    rs = i;
                else if (ea < 0 && (s_is(&f[i], "effect_allele") || s_is(&f[i], "A1")))
                    ea = i;
                else if (wt < 0 && (s_is(&f[i], "effect_weight") || s_is(&f[i], "weight") ||
                                    s_is(&f[i], "BETA")))
                    wt = i;
            }
            if (rs >= 0 || ea >= 0 || wt >= 0) {
                if (rs < 0 || ea < 0 || wt < 0) {
                    rc = proto_err_fail(err, cap, ML_E_WEIGHTS,
                                        "line %zu: header lacks the rsid, effect allele or "
                                        "weight column",
                                        line);
                    goto err;
                }
                col_rs = rs;
                col_ea = ea;
                col_w = wt;
                need = k;
                continue;
            }
        }
        if (k != need) {
            rc = proto_err_fail(err, cap, ML_E_WEIGHTS, "line %zu: %d columns, expected %d", line,
                                k, need);
            goto err;
        }
        rc = s_add(&a, &f[col_rs], &f[col_ea], &f[col_w], line, err, cap);
        if (rc != 0)
            goto err;
    }
    if (a.n == 0) {
        rc = proto_err_fail(err, cap, ML_E_EMPTY, "no weights");
        goto err;
    }
    /* One weight per rsid: a sorted copy of the ids shows repeats side by side. */
    char **sorted = malloc(a.n * sizeof *sorted);
    if (!sorted) {
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        goto err;
    }
    memcpy(sorted, a.ids, a.n * sizeof *sorted);
    qsort(sorted, a.n, sizeof *sorted, s_cmp_str);
    for (size_t i = 1; i < a.n; i++) {
        size_t l0 = (size_t)(strrchr(sorted[i - 1], ':') - sorted[i - 1]);
        size_t l1 = (size_t)(strrchr(sorted[i], ':') - sorted[i]);
        if (l0 == l1 && memcmp(sorted[i - 1], sorted[i], l0) == 0) {
            rc = proto_err_fail(err, cap, ML_E_WEIGHTS, "rsid %.*s appears twice", (int)l0,
                                sorted[i]);
            free(sorted);
            goto err;
        }
    }
    free(sorted);
    *out = ml_model_new(ML_MODEL_PRS, a.n, a.ids, a.w, 0.0);
    if (!*out) {
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        goto err;
    }
    s_acc_free(&a);
    return 0;
err:
    s_acc_free(&a);
    return rc;
}

int ml_prs_load_tsv(const char *path, ml_model_t **out, char *err, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = ml_file_read(path, ML_MODEL_MAX_BYTES, ML_E_TOO_BIG, &buf, &len, err, cap);
    if (rc == 0)
        rc = ml_prs_parse_tsv((const char *)buf, len, out, err, cap);
    free(buf);
    return rc;
}
