/*  fuzz_ml_csv: libFuzzer harness for the phenotype CSV reader (ml/ml_csv.h).
 *
 *  Any input must parse or be refused with one of the reader's codes and a message (a
 *  malformed one naming its line). A parsed table must be self-consistent (cells, types,
 *  numbers, levels, id lookup), and must survive a round trip: written back as RFC 4180
 *  CSV with every field quoted, it parses again to the same cells and column types. The
 *  same input is also read with tight bounds, which must refuse or agree. A broken
 *  invariant calls abort().
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ml_csv: invariant broken: %s\n", what);
        abort();
    }
}

static bool s_code_ok(int rc)
{
    return rc == ML_E_PARSE || rc == ML_E_TOO_BIG || rc == ML_E_EMPTY || rc == PROTO_E_NOMEM;
}

static void s_put(char **p, const char *s)
{
    size_t n = strlen(s);
    memcpy(*p, s, n);
    *p += n;
}

/* Every field quoted, missing cells empty; BUF is large enough (see caller). */
static size_t s_write(const ml_table_t *t, char *buf)
{
    char *p = buf;
    size_t rows = ml_table_rows(t), cols = ml_table_cols(t);
    for (size_t i = 0; i <= rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            const char *s = i == 0 ? ml_table_col_name(t, j) : ml_table_str(t, i - 1, j);
            if (j)
                s_put(&p, ",");
            if (!s)
                continue;
            *p++ = '"';
            for (; *s; s++) {
                if (*s == '"')
                    *p++ = '"';
                *p++ = *s;
            }
            *p++ = '"';
        }
        s_put(&p, "\r\n");
    }
    return (size_t)(p - buf);
}

static void s_check_table(const ml_table_t *t)
{
    size_t rows = ml_table_rows(t), cols = ml_table_cols(t), idc = ml_table_id_col(t);
    s_require(cols >= 1 && idc < cols, "columns");
    for (size_t j = 0; j < cols; j++) {
        ml_coltype_t ty = ml_table_col_type(t, j);
        size_t found = SIZE_MAX, missing = 0;
        s_require((ty == ML_COL_ID) == (j == idc), "one id column");
        s_require(ml_table_col_find(t, ml_table_col_name(t, j), &found) && found == j,
                  "column names unique and found");
        size_t levels = ml_table_levels(t, j);
        for (size_t i = 0; i < rows; i++) {
            const char *s = ml_table_str(t, i, j);
            missing += s == NULL;
            if (ty == ML_COL_NUMERIC)
                s_require(isnan(ml_table_num(t, i, j)) == (s == NULL), "numbers where text is");
            if (ty == ML_COL_CATEGORICAL) {
                int32_t lv = ml_table_level(t, i, j);
                s_require((lv < 0) == (s == NULL) && (lv < 0 || (size_t)lv < levels), "levels");
                s_require(lv < 0 || !strcmp(ml_table_level_name(t, j, (size_t)lv), s),
                          "level name is the cell");
            }
        }
        if (ty != ML_COL_ID)
            s_require(missing == ml_table_missing(t, j), "missing count");
    }
    for (size_t i = 0; i < rows; i++) {
        size_t r = SIZE_MAX;
        s_require(ml_table_id(t, i) && ml_table_row_find(t, ml_table_id(t, i), &r) && r == i,
                  "ids present, unique, found");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ml_table_t *t = NULL, *t2 = NULL;
    char err[256] = "";
    int rc = ml_csv_parse(data, size, NULL, &t, err, sizeof err);
    s_require(rc == 0 || s_code_ok(rc), "known code");
    s_require((rc == 0) == (t != NULL), "table iff success");
    s_require(rc == 0 || err[0], "message on error");
    s_require(rc != ML_E_PARSE || strstr(err, "line ") != NULL, "parse errors name a line");
    if (t) {
        s_check_table(t);
        /* each byte can at most double, plus quotes, commas and CRLFs per field */
        size_t cap = 2 * size + 4 * (ml_table_rows(t) + 1) * ml_table_cols(t) + 16;
        char *buf = malloc(cap);
        s_require(buf != NULL, "memory");
        size_t n = s_write(t, buf);
        s_require(n <= cap, "writer bound");
        ml_csv_opts_t o = ml_csv_opts_default();
        o.max_field = 4096;
        int rc2 = ml_csv_parse((const uint8_t *)buf, n, &o, &t2, err, sizeof err);
        s_require(rc2 == 0, "round trip parses");
        s_require(ml_table_rows(t2) == ml_table_rows(t) && ml_table_cols(t2) == ml_table_cols(t),
                  "round trip shape");
        for (size_t j = 0; j < ml_table_cols(t); j++) {
            s_require(ml_table_col_type(t, j) == ml_table_col_type(t2, j), "round trip types");
            for (size_t i = 0; i < ml_table_rows(t); i++) {
                const char *a = ml_table_str(t, i, j), *b = ml_table_str(t2, i, j);
                s_require((!a && !b) || (a && b && !strcmp(a, b)), "round trip cells");
            }
        }
        ml_table_destroy(&t2);
        free(buf);
    }
    /* tight bounds: refuse with TOO_BIG or agree */
    ml_csv_opts_t tight = ml_csv_opts_default();
    tight.max_field = 8;
    tight.max_rows = 4;
    tight.max_cols = 4;
    int rc3 = ml_csv_parse(data, size, &tight, &t2, err, sizeof err);
    s_require(rc3 == 0 || s_code_ok(rc3), "known code (tight)");
    s_require(!(rc3 == 0 && rc != 0), "tight bounds accept only what defaults accept");
    ml_table_destroy(&t2);
    ml_table_destroy(&t);
    return 0;
}
