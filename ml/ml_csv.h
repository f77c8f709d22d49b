/*  ml_csv: phenotype / clinical tables from CSV (RFC 4180), parsed from a buffer (the
 *  validation enclave has no files) or a path, into a read-only table.
 *
 *  Format accepted:
 *  - a header row of unique, non-empty column names; then one record per line, each with
 *    exactly as many fields as the header; records end with LF or CRLF (a bare CR outside
 *    quotes is refused); the last record may lack its line end; empty lines are skipped;
 *    a UTF-8 byte-order mark at the start is skipped; NUL bytes are refused;
 *  - fields separated by ','; a field that starts with '"' is quoted: it may hold commas,
 *    line ends and doubled quotes ("" is one "), and its closing quote must be followed by
 *    ',' or a line end; a '"' inside an unquoted field is refused;
 *  - missing values: "", NA, N/A, NaN, nan, "." (quoted or not);
 *  - an id column: named by the options, else the first; ids must be present and unique;
 *  - every other column is numeric (every present value a decimal number:
 *    [+-]digits[.digits][e[+-]digits], no inf/nan/hex) or categorical (anything else); a
 *    column's type is inferred, or declared in the options, and a value that does not fit
 *    a declared numeric column is refused.
 *  Errors carry the 1-based physical line and the 1-based column (field number), e.g.
 *  "line 12, column 3: unterminated quote". Bounds (bytes, rows, columns, field length)
 *  are options with safe defaults; past one is ML_E_TOO_BIG.
 *  Memory: one arena holds every field's text, one offset per cell; no per-field malloc.
 */
#ifndef GENIE_ML_CSV_H
#define GENIE_ML_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

typedef enum {
    ML_COL_AUTO = 0,        /* infer (options only) */
    ML_COL_NUMERIC = 1,     /* decimal numbers */
    ML_COL_CATEGORICAL = 2, /* strings, as levels */
    ML_COL_ID = 3           /* the sample id column */
} ml_coltype_t;

/*  Parser options. Start from ml_csv_opts_default(). Pointers are borrowed for the call. */
typedef struct {
    size_t max_bytes;           /* default 64 MiB, at most 1 GiB */
    size_t max_rows;            /* data records, default 1,000,000 */
    size_t max_cols;            /* default 1024 */
    size_t max_field;           /* bytes of one unescaped field, default 4096 */
    const char *id_column;      /* NULL: the first column */
    const char *const *numeric; /* columns declared numeric */
    size_t n_numeric;
    const char *const *categorical; /* columns declared categorical */
    size_t n_categorical;
} ml_csv_opts_t;

typedef struct ml_table_t ml_table_t;

ml_csv_opts_t ml_csv_opts_default(void);

/*  Parses LEN bytes of CSV at DATA (need not be NUL-terminated) with OPTS (NULL: defaults)
 *  into a new table *OUT the caller frees with ml_table_destroy. Errors: ML_E_PARSE
 *  (malformed; ERR says line and column), ML_E_TOO_BIG (a bound), ML_E_NOT_FOUND (the id
 *  column or a declared column is absent), ML_E_EMPTY (no header), ML_E_ARG,
 *  PROTO_E_NOMEM. *OUT is NULL on error. */
int ml_csv_parse(const uint8_t *data, size_t len, const ml_csv_opts_t *opts, ml_table_t **out,
                 char *err, size_t err_cap) PROTO_WUR;

/*  As ml_csv_parse on the contents of the file at PATH (refused past opts->max_bytes
 *  before reading it all). Extra error: PROTO_E_IO. */
int ml_csv_load(const char *path, const ml_csv_opts_t *opts, ml_table_t **out, char *err,
                size_t err_cap) PROTO_WUR;

/*  Frees the table; tolerates NULL; sets *self_p to NULL. */
void ml_table_destroy(ml_table_t **self_p);

/*  Data records (header excluded) and columns (id column included). */
size_t ml_table_rows(const ml_table_t *t);
size_t ml_table_cols(const ml_table_t *t);
/*  Index of the id column. */
size_t ml_table_id_col(const ml_table_t *t);
/*  Name and type of column J (J < cols); the name lives as long as the table. */
const char *ml_table_col_name(const ml_table_t *t, size_t j);
ml_coltype_t ml_table_col_type(const ml_table_t *t, size_t j);
/*  Finds the column named NAME: true and *J set, or false. */
bool ml_table_col_find(const ml_table_t *t, const char *name, size_t *j);
/*  Id of record I (I < rows). */
const char *ml_table_id(const ml_table_t *t, size_t i);
/*  Finds the record whose id is ID: true and *I set, or false (hash lookup). */
bool ml_table_row_find(const ml_table_t *t, const char *id, size_t *i);
/*  Unescaped text of cell (I, J), or NULL when missing. */
const char *ml_table_str(const ml_table_t *t, size_t i, size_t j);
/*  Numeric value of cell (I, J) of a numeric column; NAN when missing or not numeric. */
double ml_table_num(const ml_table_t *t, size_t i, size_t j);
/*  Categorical columns: number of distinct present values (levels, in order of first
 *  appearance), the name of level K, and the level of cell (I, J) (-1 when missing).
 *  0 levels / NULL / -1 for a column that is not categorical. */
size_t ml_table_levels(const ml_table_t *t, size_t j);
const char *ml_table_level_name(const ml_table_t *t, size_t j, size_t k);
int32_t ml_table_level(const ml_table_t *t, size_t i, size_t j);
/*  Number of missing cells in column J. */
size_t ml_table_missing(const ml_table_t *t, size_t j);

#endif
