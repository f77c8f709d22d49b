/*  ml_csv: a strict, bounded RFC 4180 reader for phenotype tables (see ml_csv.h).
 *
 *  One pass splits the input into fields, unescaping into one arena (each field's text
 *  NUL-terminated) and recording one offset per cell; a second pass per column types it,
 *  converts numbers and builds categorical levels; ids and levels are found through small
 *  open-addressing hash tables of arena offsets.
 */
#include "ml/ml_csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_MISSING UINT32_MAX
#define S_MAX_BYTES_CAP ((size_t)1 << 30)

typedef struct {
    uint32_t *slot; /* index + 1 of the entry, 0 = empty */
    size_t cap;     /* power of two */
} s_hash_t;

struct ml_table_t {
    size_t rows, cols, id_col;
    char *arena;
    size_t arena_len, arena_cap;
    uint32_t *cell; /* (rows + 1) * cols offsets; row 0 is the header */
    size_t cell_len, cell_cap;
    size_t *line; /* physical line of each data record */
    ml_coltype_t *type;
    double **num;       /* per numeric column: rows values */
    int32_t **lev;      /* per categorical column: rows level indices */
    uint32_t **lev_off; /* per categorical column: level name offsets */
    size_t *n_lev;
    size_t *n_missing;
    s_hash_t ids; /* over data rows */
};

ml_csv_opts_t ml_csv_opts_default(void)
{
    ml_csv_opts_t o = {
        .max_bytes = (size_t)64 << 20,
        .max_rows = 1000000,
        .max_cols = 1024,
        .max_field = 4096,
    };
    return o;
}

void ml_table_destroy(ml_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ml_table_t *t = *self_p;
    for (size_t j = 0; j < t->cols; j++) {
        if (t->num)
            free(t->num[j]);
        if (t->lev)
            free(t->lev[j]);
        if (t->lev_off)
            free(t->lev_off[j]);
    }
    free(t->num);
    free(t->lev);
    free(t->lev_off);
    free(t->n_lev);
    free(t->n_missing);
    free(t->type);
    free(t->line);
    free(t->cell);
    free(t->arena);
    free(t->ids.slot);
    free(t);
    *self_p = NULL;
}

/* ---- hashing of arena strings ---- */

static uint64_t s_fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    /* FNV's low bits (the table index) mix poorly: finish with murmur3's fmix64 */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static int s_hash_init(s_hash_t *h, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2)
        cap *= 2;
    h->slot = calloc(cap, sizeof *h->slot);
    h->cap = cap;
    return h->slot ? 0 : PROTO_E_NOMEM;
}

/* Looks KEY up among entries whose string is arena + OFFS[index]; returns the slot. */
static size_t s_hash_probe(const s_hash_t *h, const char *arena, const uint32_t *offs,
                           size_t stride, const char *key, bool *found)
{
    size_t mask = h->cap - 1, k = (size_t)s_fnv(key) & mask;
    for (;; k = (k + 1) & mask) {
        uint32_t e = h->slot[k];
        if (!e) {
            *found = false;
            return k;
        }
        if (strcmp(arena + offs[(size_t)(e - 1) * stride], key) == 0) {
            *found = true;
            return k;
        }
    }
}

/* ---- pass 1: fields ---- */

typedef struct {
    const uint8_t *d;
    size_t len, pos, line;
    const ml_csv_opts_t *o;
    ml_table_t *t;
    char *err;
    size_t err_cap;
} s_parser_t;

static int s_arena_reserve(ml_table_t *t, size_t extra)
{
    if (t->arena_cap - t->arena_len > extra)
        return 0;
    size_t cap = t->arena_cap ? t->arena_cap : 4096;
    while (cap - t->arena_len <= extra)
        cap *= 2;
    char *a = realloc(t->arena, cap);
    if (!a)
        return PROTO_E_NOMEM;
    t->arena = a;
    t->arena_cap = cap;
    return 0;
}

static int s_cell_push(ml_table_t *t, uint32_t off)
{
    if (t->cell_len == t->cell_cap) {
        size_t cap = t->cell_cap ? t->cell_cap * 2 : 1024;
        uint32_t *c = realloc(t->cell, cap * sizeof *c);
        if (!c)
            return PROTO_E_NOMEM;
        t->cell = c;
        t->cell_cap = cap;
    }
    t->cell[t->cell_len++] = off;
    return 0;
}

static bool s_is_missing_token(const char *s)
{
    return !*s || !strcmp(s, "NA") || !strcmp(s, "N/A") || !strcmp(s, "NaN") || !strcmp(s, "nan") ||
           !strcmp(s, ".");
}

/* Parses one field at p->pos (column COL, 1-based) into the arena and the cell list. */
static int s_field(s_parser_t *p, size_t col, bool header)
{
    ml_table_t *t = p->t;
    size_t start = t->arena_len, field_line = p->line;
    const uint8_t *d = p->d;
    if (s_arena_reserve(t, 1)) /* room for the terminator, even of an empty field */
        return PROTO_E_NOMEM;
    if (p->pos < p->len && d[p->pos] == '"') {
        p->pos++;
        for (;;) {
            if (p->pos >= p->len)
                return proto_err_fail(p->err, p->err_cap, ML_E_PARSE,
                                      "line %zu, column %zu: unterminated quote", field_line, col);
            uint8_t c = d[p->pos];
            if (c == '"') {
                if (p->pos + 1 < p->len && d[p->pos + 1] == '"') {
                    p->pos++;
                } else {
                    p->pos++;
                    break;
                }
            } else if (c == 0) {
                return proto_err_fail(p->err, p->err_cap, ML_E_PARSE,
                                      "line %zu, column %zu: NUL byte", p->line, col);
            } else if (c == '\n') {
                p->line++;
            }
            if (t->arena_len - start >= p->o->max_field)
                return proto_err_fail(p->err, p->err_cap, ML_E_TOO_BIG,
                                      "line %zu, column %zu: field longer than %zu bytes",
                                      field_line, col, p->o->max_field);
            if (s_arena_reserve(t, 2))
                return PROTO_E_NOMEM;
            t->arena[t->arena_len++] = (char)c;
            p->pos++;
        }
        if (p->pos < p->len && d[p->pos] != ',' && d[p->pos] != '\n' && d[p->pos] != '\r')
            return proto_err_fail(p->err, p->err_cap, ML_E_PARSE,
                                  "line %zu, column %zu: character after closing quote", p->line,
                                  col);
    } else {
        size_t s = p->pos;
        while (p->pos < p->len) {
            uint8_t c = d[p->pos];
            if (c == ',' || c == '\n' || c == '\r')
                break;
            if (c == '"' || c == 0)
                return proto_err_fail(p->err, p->err_cap, ML_E_PARSE, "line %zu, column %zu: %s",
                                      p->line, col,
                                      c ? "quote inside an unquoted field" : "NUL byte");
            p->pos++;
        }
        size_t n = p->pos - s;
        if (n > p->o->max_field)
            return proto_err_fail(p->err, p->err_cap, ML_E_TOO_BIG,
                                  "line %zu, column %zu: field longer than %zu bytes", p->line, col,
                                  p->o->max_field);
        if (s_arena_reserve(t, n + 1))
            return PROTO_E_NOMEM;
        memcpy(t->arena + t->arena_len, d + s, n);
        t->arena_len += n;
    }
    if (s_arena_reserve(t, 1))
        return PROTO_E_NOMEM;
    t->arena[t->arena_len++] = 0;
    uint32_t off = (uint32_t)start;
    if (!header && s_is_missing_token(t->arena + start)) {
        t->arena_len = start; /* no text kept for a missing value */
        off = S_MISSING;
    }
    return s_cell_push(t, off);
}

/* Parses one record; *NF gets its field count. */
static int s_record(s_parser_t *p, bool header, size_t *nf)
{
    size_t n = 0, rec_line = p->line;
    size_t limit = header ? p->o->max_cols : p->t->cols;
    for (;;) {
        if (n == limit)
            return header ? proto_err_fail(p->err, p->err_cap, ML_E_TOO_BIG,
                                           "line %zu: more than %zu columns", rec_line, limit)
                          : proto_err_fail(p->err, p->err_cap, ML_E_PARSE,
                                           "line %zu, column %zu: more fields than the header's "
                                           "%zu",
                                           rec_line, n + 1, limit);
        int rc = s_field(p, n + 1, header);
        if (rc)
            return rc;
        n++;
        if (p->pos >= p->len)
            break;
        uint8_t c = p->d[p->pos];
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == '\r') {
            if (p->pos + 1 >= p->len || p->d[p->pos + 1] != '\n')
                return proto_err_fail(p->err, p->err_cap, ML_E_PARSE,
                                      "line %zu, column %zu: carriage return without line feed",
                                      p->line, n);
            p->pos++;
        }
        p->pos++; /* the '\n' */
        p->line++;
        break;
    }
    *nf = n;
    return 0;
}

static void s_skip_empty_lines(s_parser_t *p)
{
    for (;;) {
        if (p->pos < p->len && p->d[p->pos] == '\n') {
            p->pos++;
            p->line++;
        } else if (p->pos + 1 < p->len && p->d[p->pos] == '\r' && p->d[p->pos + 1] == '\n') {
            p->pos += 2;
            p->line++;
        } else {
            return;
        }
    }
}

static int s_split(s_parser_t *p)
{
    ml_table_t *t = p->t;
    size_t line_cap = 0;
    if (p->len >= 3 && !memcmp(p->d, "\xEF\xBB\xBF", 3))
        p->pos = 3;
    s_skip_empty_lines(p);
    if (p->pos >= p->len)
        return proto_err_fail(p->err, p->err_cap, ML_E_EMPTY, "no header row");
    size_t nf = 0;
    int rc = s_record(p, true, &nf);
    if (rc)
        return rc;
    t->cols = nf;
    for (;;) {
        s_skip_empty_lines(p);
        if (p->pos >= p->len)
            return 0;
        if (t->rows == p->o->max_rows)
            return proto_err_fail(p->err, p->err_cap, ML_E_TOO_BIG,
                                  "line %zu: more than %zu records", p->line, p->o->max_rows);
        if (t->rows == line_cap) {
            line_cap = line_cap ? 2 * line_cap : 256;
            size_t *l = realloc(t->line, line_cap * sizeof *l);
            if (!l)
                return PROTO_E_NOMEM;
            t->line = l;
        }
        t->line[t->rows] = p->line;
        if ((rc = s_record(p, false, &nf)) != 0)
            return rc;
        if (nf != t->cols)
            return proto_err_fail(p->err, p->err_cap, ML_E_PARSE,
                                  "line %zu, column %zu: %zu fields, the header has %zu",
                                  t->line[t->rows], nf, nf, t->cols);
        t->rows++;
    }
}

/* ---- pass 2: columns ---- */

static const char *s_cell(const ml_table_t *t, size_t row1, size_t j)
{
    uint32_t off = t->cell[row1 * t->cols + j];
    return off == S_MISSING ? NULL : t->arena + off;
}

/* Strict decimal number: [+-]digits[.digits][(e|E)[+-]digits], or [+-].digits... */
static bool s_parse_number(const char *s, double *out)
{
    const char *q = s;
    size_t digits = 0;
    if (*q == '+' || *q == '-')
        q++;
    while (*q >= '0' && *q <= '9')
        q++, digits++;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9')
            q++, digits++;
    }
    if (!digits)
        return false;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (!(*q >= '0' && *q <= '9'))
            return false;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (*q)
        return false;
    errno = 0;
    double v = strtod(s, NULL);
    if (!isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool s_in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (list[k] && !strcmp(list[k], name))
            return true;
    return false;
}

static int s_levels(ml_table_t *t, size_t j)
{
    s_hash_t h = {0};
    int rc = PROTO_E_NOMEM;
    t->lev[j] = malloc((t->rows + 1) * sizeof *t->lev[j]);
    t->lev_off[j] = malloc((t->rows + 1) * sizeof *t->lev_off[j]);
    if (!t->lev[j] || !t->lev_off[j] || s_hash_init(&h, t->rows))
        goto out;
    for (size_t i = 0; i < t->rows; i++) {
        const char *s = s_cell(t, i + 1, j);
        if (!s) {
            t->lev[j][i] = -1;
            continue;
        }
        bool found = false;
        size_t k = s_hash_probe(&h, t->arena, t->lev_off[j], 1, s, &found);
        if (!found) {
            t->lev_off[j][t->n_lev[j]] = t->cell[(i + 1) * t->cols + j];
            h.slot[k] = (uint32_t)++t->n_lev[j];
        }
        t->lev[j][i] = (int32_t)h.slot[k] - 1;
    }
    rc = 0;
out:
    free(h.slot);
    return rc;
}

static int s_ids(ml_table_t *t, char *err, size_t err_cap)
{
    size_t j = t->id_col;
    if (s_hash_init(&t->ids, t->rows))
        return PROTO_E_NOMEM;
    for (size_t i = 0; i < t->rows; i++) {
        const char *s = s_cell(t, i + 1, j);
        if (!s)
            return proto_err_fail(err, err_cap, ML_E_PARSE, "line %zu, column %zu: missing id",
                                  t->line[i], j + 1);
        bool found = false;
        size_t k = s_hash_probe(&t->ids, t->arena, t->cell + t->cols + j, t->cols, s, &found);
        if (found)
            return proto_err_fail(err, err_cap, ML_E_PARSE,
                                  "line %zu, column %zu: duplicate id '%.64s'", t->line[i], j + 1,
                                  s);
        t->ids.slot[k] = (uint32_t)(i + 1);
    }
    return 0;
}

static int s_type_column(ml_table_t *t, size_t j, const ml_csv_opts_t *o, char *err, size_t err_cap)
{
    const char *name = s_cell(t, 0, j);
    bool want_num = s_in_list(name, o->numeric, o->n_numeric);
    bool want_cat = s_in_list(name, o->categorical, o->n_categorical);
    if (want_num && want_cat)
        return proto_err_fail(err, err_cap, ML_E_ARG, "column '%s' declared twice", name);
    bool numeric = !want_cat;
    for (size_t i = 0; i < t->rows && numeric; i++) {
        const char *s = s_cell(t, i + 1, j);
        double v;
        if (!s) {
            t->n_missing[j]++;
            continue;
        }
        if (!s_parse_number(s, &v)) {
            if (want_num)
                return proto_err_fail(err, err_cap, ML_E_PARSE,
                                      "line %zu, column %zu: '%.32s' is not a number (column "
                                      "'%.64s' is numeric)",
                                      t->line[i], j + 1, s, name);
            numeric = false;
        }
    }
    if (!numeric) {
        t->n_missing[j] = 0;
        for (size_t i = 0; i < t->rows; i++)
            t->n_missing[j] += s_cell(t, i + 1, j) == NULL;
        t->type[j] = ML_COL_CATEGORICAL;
        return s_levels(t, j);
    }
    t->type[j] = ML_COL_NUMERIC;
    t->num[j] = malloc((t->rows + 1) * sizeof *t->num[j]);
    if (!t->num[j])
        return PROTO_E_NOMEM;
    for (size_t i = 0; i < t->rows; i++) {
        const char *s = s_cell(t, i + 1, j);
        double v = NAN;
        if (s && !s_parse_number(s, &v))
            v = NAN;
        t->num[j][i] = v;
    }
    return 0;
}

static int s_columns(ml_table_t *t, const ml_csv_opts_t *o, char *err, size_t err_cap)
{
    size_t c = t->cols;
    size_t ca = c ? c : 1; /* calloc(0) may return NULL: never ask for 0 */
    t->type = calloc(ca, sizeof *t->type);
    t->num = calloc(ca, sizeof *t->num);
    t->lev = calloc(ca, sizeof *t->lev);
    t->lev_off = calloc(ca, sizeof *t->lev_off);
    t->n_lev = calloc(ca, sizeof *t->n_lev);
    t->n_missing = calloc(ca, sizeof *t->n_missing);
    if (!t->type || !t->num || !t->lev || !t->lev_off || !t->n_lev || !t->n_missing)
        return PROTO_E_NOMEM;
    for (size_t j = 0; j < c; j++) {
        const char *name = s_cell(t, 0, j);
        if (!*name)
            return proto_err_fail(err, err_cap, ML_E_PARSE, "line 1, column %zu: empty column name",
                                  j + 1);
        for (size_t k = 0; k < j; k++)
            if (!strcmp(name, s_cell(t, 0, k)))
                return proto_err_fail(err, err_cap, ML_E_PARSE,
                                      "line 1, column %zu: duplicate column name '%.64s'", j + 1,
                                      name);
    }
    t->id_col = 0;
    if (o->id_column && !ml_table_col_find(t, o->id_column, &t->id_col))
        return proto_err_fail(err, err_cap, ML_E_NOT_FOUND, "no id column '%.64s'", o->id_column);
    const char *const *lists[2] = {o->numeric, o->categorical};
    size_t counts[2] = {o->n_numeric, o->n_categorical};
    for (int l = 0; l < 2; l++)
        for (size_t k = 0; k < counts[l]; k++) {
            size_t j;
            if (!lists[l][k] || !ml_table_col_find(t, lists[l][k], &j))
                return proto_err_fail(err, err_cap, ML_E_NOT_FOUND, "no column '%.64s'",
                                      lists[l][k] ? lists[l][k] : "(null)");
        }
    t->type[t->id_col] = ML_COL_ID;
    int rc = s_ids(t, err, err_cap);
    for (size_t j = 0; j < c && !rc; j++)
        if (j != t->id_col)
            rc = s_type_column(t, j, o, err, err_cap);
    return rc;
}

int ml_csv_parse(const uint8_t *data, size_t len, const ml_csv_opts_t *opts, ml_table_t **out,
                 char *err, size_t err_cap)
{
    ml_csv_opts_t o = opts ? *opts : ml_csv_opts_default();
    *out = NULL;
    if ((!data && len) || o.max_bytes > S_MAX_BYTES_CAP || !o.max_cols || !o.max_field)
        return proto_err_fail(err, err_cap, ML_E_ARG, "bad CSV options");
    if (len > o.max_bytes)
        return proto_err_fail(err, err_cap, ML_E_TOO_BIG, "CSV of %zu bytes exceeds %zu", len,
                              o.max_bytes);
    ml_table_t *t = calloc(1, sizeof *t);
    if (!t)
        return PROTO_E_NOMEM;
    s_parser_t p = {
        .d = data, .len = len, .line = 1, .o = &o, .t = t, .err = err, .err_cap = err_cap};
    int rc = s_split(&p);
    if (!rc)
        rc = s_columns(t, &o, err, err_cap);
    if (rc) {
        ml_table_destroy(&t);
        return rc;
    }
    *out = t;
    return 0;
}

int ml_csv_load(const char *path, const ml_csv_opts_t *opts, ml_table_t **out, char *err,
                size_t err_cap)
{
    ml_csv_opts_t o = opts ? *opts : ml_csv_opts_default();
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return proto_err_fail(err, err_cap, PROTO_E_IO, "cannot open %s: %s", path,
                              strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            if (cap > o.max_bytes) {
                rc = proto_err_fail(err, err_cap, ML_E_TOO_BIG, "%s exceeds %zu bytes", path,
                                    o.max_bytes);
                break;
            }
            cap = cap ? cap * 2 : 65536;
            uint8_t *b = realloc(buf, cap);
            if (!b) {
                rc = PROTO_E_NOMEM;
                break;
            }
            buf = b;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                rc = proto_err_fail(err, err_cap, PROTO_E_IO, "cannot read %s", path);
            break;
        }
    }
    fclose(f);
    if (!rc)
        rc = ml_csv_parse(buf, len, &o, out, err, err_cap);
    free(buf);
    return rc;
}

/* ---- accessors ---- */

size_t ml_table_rows(const ml_table_t *t)
{
    return t->rows;
}
size_t ml_table_cols(const ml_table_t *t)
{
    return t->cols;
}
size_t ml_table_id_col(const ml_table_t *t)
{
    return t->id_col;
}
const char *ml_table_col_name(const ml_table_t *t, size_t j)
{
    return s_cell(t, 0, j);
}
ml_coltype_t ml_table_col_type(const ml_table_t *t, size_t j)
{
    return t->type[j];
}

bool ml_table_col_find(const ml_table_t *t, const char *name, size_t *j)
{
    for (size_t k = 0; k < t->cols; k++)
        if (!strcmp(s_cell(t, 0, k), name)) {
            *j = k;
            return true;
        }
    return false;
}

const char *ml_table_id(const ml_table_t *t, size_t i)
{
    return s_cell(t, i + 1, t->id_col);
}

bool ml_table_row_find(const ml_table_t *t, const char *id, size_t *i)
{
    bool found = false;
    if (!t->ids.slot)
        return false;
    size_t k = s_hash_probe(&t->ids, t->arena, t->cell + t->cols + t->id_col, t->cols, id, &found);
    if (found)
        *i = t->ids.slot[k] - 1;
    return found;
}

const char *ml_table_str(const ml_table_t *t, size_t i, size_t j)
{
    return s_cell(t, i + 1, j);
}

double ml_table_num(const ml_table_t *t, size_t i, size_t j)
{
    return t->num[j] ? t->num[j][i] : NAN;
}

size_t ml_table_levels(const ml_table_t *t, size_t j)
{
    return t->lev[j] ? t->n_lev[j] : 0;
}

const char *ml_table_level_name(const ml_table_t *t, size_t j, size_t k)
{
    return t->lev[j] && k < t->n_lev[j] ? t->arena + t->lev_off[j][k] : NULL;
}

int32_t ml_table_level(const ml_table_t *t, size_t i, size_t j)
{
    return t->lev[j] ? t->lev[j][i] : -1;
}

size_t ml_table_missing(const ml_table_t *t, size_t j)
{
    return t->n_missing[j];
}
