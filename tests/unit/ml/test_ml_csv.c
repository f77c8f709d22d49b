/*  test_ml_csv: the phenotype CSV reader (ml/ml_csv.h): a table-driven list of malformed
 *  inputs each refused with its code and a "line L, column C" message; RFC 4180 quoting
 *  (commas, doubled quotes, line ends inside quotes, CRLF); missing tokens; type inference
 *  and declared types; id lookup; categorical levels; bounds; and the synthetic cohort's
 *  phenotype CSV read back with the values it was written from, from a buffer and a path.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_csv.h"
#include "ml/ml_synth.h"
#include "testutil.h"

static int s_parse(const char *text, const ml_csv_opts_t *o, ml_table_t **t, char *err, size_t cap)
{
    return ml_csv_parse((const uint8_t *)text, strlen(text), o, t, err, cap);
}

static void test_malformed(void)
{
    static const struct {
        const char *text;
        int code;
        const char *msg; /* expected substring of the error */
    } cases[] = {
        {"", ML_E_EMPTY, "no header"},
        {"\n\n", ML_E_EMPTY, "no header"},
        {"id,a\n1,\"x\n", ML_E_PARSE, "line 2, column 2: unterminated quote"},
        {"id,a\n1,2\n3,\"4\"x\n", ML_E_PARSE, "line 3, column 2: character after closing"},
        {"id,a\n1,a\"b\n", ML_E_PARSE, "line 2, column 2: quote inside"},
        {"id,a\n1,2\r3,4\n", ML_E_PARSE, "line 2, column 2: carriage return"},
        {"id,a,b\n1,2\n", ML_E_PARSE, "line 2, column 2: 2 fields, the header has 3"},
        {"id,a\n1,2,3\n", ML_E_PARSE, "line 2, column 3: more fields"},
        {"id,a\n1,2\n1,3\n", ML_E_PARSE, "line 3, column 1: duplicate id"},
        {"id,a\nNA,2\n", ML_E_PARSE, "line 2, column 1: missing id"},
        {"id,,b\n1,2,3\n", ML_E_PARSE, "line 1, column 2: empty column name"},
        {"id,a,a\n1,2,3\n", ML_E_PARSE, "line 1, column 3: duplicate column name"},
        {"id,a\n1,\"multi\nline\"\n2,x\"\n", ML_E_PARSE, "line 4, column 2: quote inside"},
        {"id,a\n1,2\n\"2\n", ML_E_PARSE, "line 3, column 1: unterminated quote"},
        {"id,a\n1,\"a\"\"\n", ML_E_PARSE, "line 2, column 2: unterminated quote"},
        {"\"\"", ML_E_PARSE, "line 1, column 1: empty column name"},
        {"id\n\"\"\n", ML_E_PARSE, "line 2, column 1: missing id"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ml_table_t *t = NULL;
        char err[160] = "";
        int rc = s_parse(cases[k].text, NULL, &t, err, sizeof err);
        bool ok = rc == cases[k].code && t == NULL && strstr(err, cases[k].msg) != NULL;
        if (!ok)
            printf("  case %zu: rc %d (%s) err '%s', want %d '%s'\n", k, rc, proto_err_str(rc), err,
                   cases[k].code, cases[k].msg);
        CHECK(ok);
        ml_table_destroy(&t);
    }
    /* a NUL byte (not expressible in the table's C strings) */
    ml_table_t *t = NULL;
    char err[160] = "";
    static const uint8_t nul[] = {'i', 'd', '\n', 'a', 0, 'b', '\n'};
    CHECK_EQ(ml_csv_parse(nul, sizeof nul, NULL, &t, err, sizeof err), ML_E_PARSE);
    CHECK(strstr(err, "line 2, column 1: NUL byte") != NULL);
}

static void test_quoting_and_types(void)
{
    const char *text = "\xEF\xBB\xBFid,age,sex,note,bmi\r\n"
                       "p1,34,M,\"hello, world\",22.5\r\n"
                       "\r\n"
                       "\"p2\",NA,F,\"she said \"\"hi\"\"\",.\r\n"
                       "p3,-1.5e1,,\"two\nlines\",NaN\r\n"
                       "p4,7,M,plain,\"30\"";
    ml_table_t *t = NULL;
    char err[160] = "";
    CHECK_EQ(s_parse(text, NULL, &t, err, sizeof err), 0);
    if (!t) {
        printf("  %s\n", err);
        return;
    }
    CHECK_EQ(ml_table_rows(t), 4u);
    CHECK_EQ(ml_table_cols(t), 5u);
    CHECK_EQ(ml_table_id_col(t), 0u);
    CHECK(!strcmp(ml_table_col_name(t, 0), "id"));
    CHECK_EQ(ml_table_col_type(t, 0), ML_COL_ID);
    CHECK_EQ(ml_table_col_type(t, 1), ML_COL_NUMERIC);
    CHECK_EQ(ml_table_col_type(t, 2), ML_COL_CATEGORICAL);
    CHECK_EQ(ml_table_col_type(t, 3), ML_COL_CATEGORICAL);
    CHECK_EQ(ml_table_col_type(t, 4), ML_COL_NUMERIC);
    CHECK(!strcmp(ml_table_id(t, 1), "p2"));
    CHECK(!strcmp(ml_table_str(t, 0, 3), "hello, world"));
    CHECK(!strcmp(ml_table_str(t, 1, 3), "she said \"hi\""));
    CHECK(!strcmp(ml_table_str(t, 2, 3), "two\nlines"));
    CHECK(ml_table_num(t, 0, 1) == 34.0);
    CHECK(isnan(ml_table_num(t, 1, 1)));
    CHECK(ml_table_num(t, 2, 1) == -15.0);
    CHECK(ml_table_num(t, 3, 4) == 30.0);
    CHECK(isnan(ml_table_num(t, 1, 4)) && isnan(ml_table_num(t, 2, 4)));
    CHECK_EQ(ml_table_missing(t, 4), 2u);
    CHECK_EQ(ml_table_missing(t, 2), 1u);
    CHECK_EQ(ml_table_levels(t, 2), 2u);
    CHECK(!strcmp(ml_table_level_name(t, 2, 0), "M"));
    CHECK(!strcmp(ml_table_level_name(t, 2, 1), "F"));
    CHECK_EQ(ml_table_level(t, 3, 2), 0);
    CHECK_EQ(ml_table_level(t, 2, 2), -1);
    CHECK(ml_table_str(t, 2, 2) == NULL);
    size_t i = 99, j = 99;
    CHECK(ml_table_row_find(t, "p3", &i) && i == 2);
    CHECK(!ml_table_row_find(t, "p5", &i));
    CHECK(ml_table_col_find(t, "bmi", &j) && j == 4);
    CHECK(!ml_table_col_find(t, "BMI", &j));
    ml_table_destroy(&t);
    CHECK(t == NULL);
    ml_table_destroy(&t);

    /* declared types and a named id column */
    const char *t2 = "code,patient,score\nA,x1,1\nB,x2,zz\n";
    const char *num[] = {"score"}, *cat[] = {"code"};
    ml_csv_opts_t o = ml_csv_opts_default();
    o.id_column = "patient";
    o.numeric = num;
    o.n_numeric = 1;
    CHECK_EQ(s_parse(t2, &o, &t, err, sizeof err), ML_E_PARSE);
    CHECK(strstr(err, "line 3, column 3: 'zz' is not a number") != NULL);
    o.numeric = NULL;
    o.n_numeric = 0;
    o.categorical = cat;
    o.n_categorical = 1;
    CHECK_EQ(s_parse(t2, &o, &t, err, sizeof err), 0);
    if (t) {
        CHECK_EQ(ml_table_id_col(t), 1u);
        CHECK(!strcmp(ml_table_id(t, 0), "x1"));
        CHECK_EQ(ml_table_col_type(t, 0), ML_COL_CATEGORICAL);
        CHECK_EQ(ml_table_col_type(t, 2), ML_COL_CATEGORICAL);
        CHECK(isnan(ml_table_num(t, 0, 2)));
    }
    ml_table_destroy(&t);
    o.id_column = "nope";
    CHECK_EQ(s_parse(t2, &o, &t, err, sizeof err), ML_E_NOT_FOUND);
    /* strict numbers: inf, hex and trailing text make a column categorical */
    CHECK_EQ(s_parse("id,a,b,c\n1,inf,0x10,1e\n2,1,2,3\n", NULL, &t, err, sizeof err), 0);
    if (t)
        for (size_t c = 1; c < 4; c++)
            CHECK_EQ(ml_table_col_type(t, c), ML_COL_CATEGORICAL);
    ml_table_destroy(&t);
    /* a comma at the very end is one more (missing) field */
    CHECK_EQ(s_parse("id,a\n1,", NULL, &t, err, sizeof err), 0);
    if (t)
        CHECK(ml_table_rows(t) == 1 && ml_table_missing(t, 1) == 1);
    ml_table_destroy(&t);
}

static void test_bounds(void)
{
    ml_table_t *t = NULL;
    char err[160] = "";
    ml_csv_opts_t o = ml_csv_opts_default();
    o.max_bytes = 10;
    CHECK_EQ(s_parse("id,a\n1,2\n3,4\n", &o, &t, err, sizeof err), ML_E_TOO_BIG);
    o = ml_csv_opts_default();
    o.max_rows = 1;
    CHECK_EQ(s_parse("id,a\n1,2\n3,4\n", &o, &t, err, sizeof err), ML_E_TOO_BIG);
    CHECK(strstr(err, "line 3") != NULL);
    o = ml_csv_opts_default();
    o.max_cols = 2;
    CHECK_EQ(s_parse("id,a,b\n1,2,3\n", &o, &t, err, sizeof err), ML_E_TOO_BIG);
    o = ml_csv_opts_default();
    o.max_field = 3;
    CHECK_EQ(s_parse("id,a\n1,1234\n", &o, &t, err, sizeof err), ML_E_TOO_BIG);
    CHECK(strstr(err, "line 2, column 2") != NULL);
    CHECK_EQ(s_parse("id,a\n1,\"1234\"\n", &o, &t, err, sizeof err), ML_E_TOO_BIG);
    CHECK_EQ(s_parse("id,a\n1,123\n", &o, &t, err, sizeof err), 0);
    ml_table_destroy(&t);
    CHECK(t == NULL);
}

static void test_cohort_round_trip(void)
{
    ml_synth_params_t p = ml_synth_params_default();
    p.n_samples = 500;
    p.n_snps = 50;
    p.seed = 1234;
    p.bmi_missing = 0.1;
    printf("test_cohort_round_trip: seed %llu\n", (unsigned long long)p.seed);
    ml_cohort_t *c = NULL;
    char *buf = NULL, err[160] = "";
    size_t len = 0;
    ml_table_t *t = NULL, *t2 = NULL;
    CHECK_EQ(ml_synth_cohort(&p, &c, NULL, 0), 0);
    if (!c)
        return;
    CHECK_EQ(ml_cohort_format_csv(c, &buf, &len), 0);
    CHECK_EQ(ml_csv_parse((const uint8_t *)buf, len, NULL, &t, err, sizeof err), 0);
    const char *dir = testutil_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/pheno.csv", dir);
    CHECK_EQ(ml_cohort_write_csv(c, path, err, sizeof err), 0);
    CHECK_EQ(ml_csv_load(path, NULL, &t2, err, sizeof err), 0);
    ml_table_t *t3 = NULL;
    CHECK_EQ(ml_csv_load("/nonexistent/x.csv", NULL, &t3, err, sizeof err), PROTO_E_IO);
    CHECK(t3 == NULL);
    if (t && t2) {
        size_t ja = 0, js = 0, jb = 0, jt = 0, jq = 0;
        CHECK(ml_table_col_find(t, "age", &ja) && ml_table_col_find(t, "sex", &js) &&
              ml_table_col_find(t, "bmi", &jb) && ml_table_col_find(t, "trait", &jt) &&
              ml_table_col_find(t, "quant", &jq));
        CHECK_EQ(ml_table_col_type(t, jb), ML_COL_NUMERIC);
        CHECK_EQ(ml_table_col_type(t, js), ML_COL_CATEGORICAL);
        CHECK_EQ(ml_table_rows(t), c->n_samples);
        CHECK_EQ(ml_table_rows(t2), c->n_samples);
        size_t bad = 0, missing = 0;
        for (size_t i = 0; i < c->n_samples; i++) {
            bad += strcmp(ml_table_id(t, i), c->sample_ids[i]) != 0;
            bad += ml_table_num(t, i, ja) != c->age[i];
            bad += ml_table_str(t, i, js)[0] != c->sex[i];
            bad += ml_table_num(t, i, jt) != c->trait[i];
            bad += fabs(ml_table_num(t, i, jq) - c->quant[i]) > 1e-6;
            double b = ml_table_num(t, i, jb);
            bad += isnan(b) != isnan(c->bmi[i]) || (!isnan(b) && fabs(b - c->bmi[i]) > 1e-9);
            missing += isnan(c->bmi[i]);
            bad += ml_table_num(t2, i, jq) != ml_table_num(t, i, jq);
        }
        CHECK_EQ(bad, 0u);
        CHECK_EQ(ml_table_missing(t, jb), missing);
    }
    ml_table_destroy(&t);
    ml_table_destroy(&t2);
    testutil_rmtree(dir);
    free(buf);
    ml_cohort_destroy(&c);
}

int main(void)
{
    test_malformed();
    test_quoting_and_types();
    test_bounds();
    test_cohort_round_trip();
    return testutil_done("test_ml_csv");
}
