/*  test_ml_model: the model file. Encode/decode round trips byte for byte (so the hash is
 *  stable), the hash changes with one ulp of one weight, the strict decoder refuses every
 *  prefix, trailing bytes and a table of hand-built faults (version, kind, float32 for
 *  float64, NaN, p mismatch, sd 0, repeated metric or hash, empty id, short hash,
 *  non-shortest integer, an array claiming more elements than the input holds); prediction
 *  applies the model's scaling; save/load round trip; accessors and setters.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_model.h"
#include "proto/proto_mp.h"
#include "testutil.h"

static ml_model_t *s_sample_model(void)
{
    char *ids[3] = {"rs1", "age", "bmi"};
    const double w[3] = {0.5, -1.25, 1e-300};
    ml_model_t *m = ml_model_new(ML_MODEL_LOGISTIC, 3, ids, w, 0.1);
    ml_scale_t *s = ml_scale_new(3);
    s->mean[0] = 1.0;
    s->mean[1] = 50.0;
    s->mean[2] = 25.0;
    s->sd[1] = 10.0;
    s->sd[2] = 4.0;
    CHECK_EQ(ml_model_set_scaling(m, s), 0);
    ml_scale_destroy(&s);
    CHECK_EQ(ml_model_add_metric(m, "auc_test", 0.8125), 0);
    CHECK_EQ(ml_model_add_metric(m, "n_train", 1000), 0);
    uint8_t h[32];
    memset(h, 0xab, sizeof h);
    CHECK_EQ(ml_model_add_data_hash(m, h), 0);
    h[0] = 1;
    CHECK_EQ(ml_model_add_data_hash(m, h), 0);
    CHECK_EQ(ml_model_add_data_hash(m, h), 0); /* already there: not added again */
    return m;
}

static void test_roundtrip_and_hash(void)
{
    ml_model_t *m = s_sample_model(), *d = NULL;
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    char err[200] = "";
    CHECK_EQ(ml_model_encode(m, &a, &la), 0);
    CHECK_EQ(ml_model_decode(a, la, &d, err, sizeof err), 0);
    CHECK(d != NULL);
    if (!d)
        goto out;
    CHECK_EQ(ml_model_encode(d, &b, &lb), 0);
    CHECK(la == lb && memcmp(a, b, la) == 0);
    CHECK_EQ(ml_model_kind(d), ML_MODEL_LOGISTIC);
    CHECK_EQ(ml_model_p(d), 3u);
    CHECK(strcmp(ml_model_feature_id(d, 1), "age") == 0);
    CHECK(ml_model_feature_id(d, 3) == NULL);
    CHECK_EQ(ml_model_weights(d)[2], 1e-300); /* bit-exact float64 */
    CHECK_EQ(ml_model_intercept(d), 0.1);
    const double *mean, *sd;
    CHECK(ml_model_scaling(d, &mean, &sd) && mean[1] == 50.0 && sd[2] == 4.0);
    double v = 0;
    CHECK(ml_model_metric_get(d, "auc_test", &v) && v == 0.8125);
    CHECK_EQ(ml_model_data_hash_count(d), 2u);
    CHECK_EQ(ml_model_data_hash(d, 1)[0], 1);

    uint8_t h1[32], h2[32], h3[32];
    ml_model_hash(m, h1);
    ml_model_hash(d, h2);
    CHECK(memcmp(h1, h2, 32) == 0);
    double w[3];
    memcpy(w, ml_model_weights(d), sizeof w);
    w[0] = nextafter(w[0], 1.0);
    CHECK_EQ(ml_model_set_params(d, w, ml_model_intercept(d)), 0);
    ml_model_hash(d, h3);
    CHECK(memcmp(h1, h3, 32) != 0);
    /* Every proper prefix is refused; so is one trailing byte. */
    bool all_refused = true;
    for (size_t k = 0; k < la; k++) {
        ml_model_t *t = NULL;
        if (ml_model_decode(a, k, &t, err, sizeof err) == 0) {
            all_refused = false;
            ml_model_destroy(&t);
        }
    }
    CHECK(all_refused);
    uint8_t *longer = malloc(la + 1);
    memcpy(longer, a, la);
    longer[la] = 0xc0;
    ml_model_t *t = NULL;
    CHECK_EQ(ml_model_decode(longer, la + 1, &t, err, sizeof err), PROTO_E_TRAILING);
    free(longer);
    /* A dup is equal. */
    ml_model_t *c = ml_model_dup(m);
    uint8_t h4[32];
    ml_model_hash(c, h4);
    CHECK(memcmp(h1, h4, 32) == 0);
    ml_model_destroy(&c);
out:
    free(a);
    free(b);
    ml_model_destroy(&m);
    ml_model_destroy(&d);
}

/* A hand-built version-1 encoding with one fault switched on. */
typedef enum {
    F_NONE,
    F_VERSION,
    F_KIND,
    F_FLOAT32,
    F_NAN,
    F_P_MISMATCH,
    F_SD_ZERO,
    F_DUP_METRIC,
    F_DUP_HASH,
    F_EMPTY_ID,
    F_SHORT_HASH,
    F_NONCANON_UINT,
    F_HUGE_ARRAY,
    F_INT_FOR_DOUBLE,
    F_COUNT
} s_fault_t;

static void s_f64(proto_wr_t *w, double v, bool f32)
{
    uint8_t b[9];
    if (f32) {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        b[0] = 0xca;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (uint8_t)(u >> (24 - 8 * i));
        proto_wr_raw(w, b, 5);
        return;
    }
    uint64_t u;
    memcpy(&u, &v, 8);
    b[0] = 0xcb;
    for (int i = 0; i < 8; i++)
        b[1 + i] = (uint8_t)(u >> (56 - 8 * i));
    proto_wr_raw(w, b, 9);
}

static uint8_t *s_build(s_fault_t f, size_t *len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 8);
    if (f == F_NONCANON_UINT) {
        const uint8_t one[2] = {0xcc, 0x01};
        proto_wr_raw(&w, one, 2);
    } else {
        proto_wr_uint(&w, f == F_VERSION ? 2 : 1);
    }
    proto_wr_uint(&w, f == F_KIND ? 4 : 2);
    if (f == F_HUGE_ARRAY) {
        const uint8_t big[5] = {0xdd, 0x00, 0x0f, 0xff, 0xff}; /* 1,048,575 ids */
        proto_wr_raw(&w, big, 5);
    } else {
        proto_wr_array(&w, 2);
    }
    proto_wr_str(&w, "x1", 2);
    proto_wr_str(&w, "x2", f == F_EMPTY_ID ? 0 : 2);
    proto_wr_array(&w, f == F_P_MISMATCH ? 3 : 2);
    s_f64(&w, 1.5, f == F_FLOAT32);
    if (f == F_INT_FOR_DOUBLE)
        proto_wr_uint(&w, 2);
    else
        s_f64(&w, f == F_NAN ? NAN : -2.0, false);
    if (f == F_P_MISMATCH)
        s_f64(&w, 3.0, false);
    s_f64(&w, 0.25, false);
    proto_wr_array(&w, 2);
    proto_wr_array(&w, 2);
    s_f64(&w, 0.0, false);
    s_f64(&w, 1.0, false);
    proto_wr_array(&w, 2);
    s_f64(&w, 1.0, false);
    s_f64(&w, f == F_SD_ZERO ? 0.0 : 2.0, false);
    proto_wr_array(&w, 2);
    proto_wr_array(&w, 2);
    proto_wr_str(&w, "r2", 2);
    s_f64(&w, 0.5, false);
    proto_wr_array(&w, 2);
    proto_wr_str(&w, f == F_DUP_METRIC ? "r2" : "n", f == F_DUP_METRIC ? 2 : 1);
    s_f64(&w, 10, false);
    uint8_t h[32] = {1};
    proto_wr_array(&w, 2);
    proto_wr_bin(&w, h, 32);
    if (f != F_DUP_HASH)
        h[1] = 2;
    proto_wr_bin(&w, h, f == F_SHORT_HASH ? 31 : 32);
    uint8_t *buf = proto_wr_take(&w, len);
    proto_wr_free(&w);
    return buf;
}

static void test_faults(void)
{
    const int expect[F_COUNT] = {
        [F_NONE] = 0,
        [F_VERSION] = PROTO_E_VERSION,
        [F_KIND] = ML_E_MODEL,
        [F_FLOAT32] = PROTO_E_TYPE,
        [F_NAN] = ML_E_MODEL,
        [F_P_MISMATCH] = PROTO_E_ARITY,
        [F_SD_ZERO] = ML_E_MODEL,
        [F_DUP_METRIC] = ML_E_MODEL,
        [F_DUP_HASH] = ML_E_MODEL,
        [F_EMPTY_ID] = ML_E_MODEL,
        [F_SHORT_HASH] = PROTO_E_INVALID,
        [F_NONCANON_UINT] = PROTO_E_NONCANONICAL,
        [F_HUGE_ARRAY] = PROTO_E_TRUNCATED,
        [F_INT_FOR_DOUBLE] = PROTO_E_TYPE,
    };
    for (int f = 0; f < F_COUNT; f++) {
        size_t len = 0;
        uint8_t *buf = s_build((s_fault_t)f, &len);
        ml_model_t *m = NULL;
        char err[200] = "";
        int rc = ml_model_decode(buf, len, &m, err, sizeof err);
        if (rc != expect[f])
            printf("fault %d: got %d (%s: %s), expected %d\n", f, rc, proto_err_str(rc), err,
                   expect[f]);
        CHECK_EQ(rc, expect[f]);
        CHECK((rc == 0) == (m != NULL));
        if (m) { /* the valid one is canonical: it encodes to the same bytes */
            uint8_t *again = NULL;
            size_t l2 = 0;
            CHECK_EQ(ml_model_encode(m, &again, &l2), 0);
            CHECK(l2 == len && memcmp(again, buf, len) == 0);
            free(again);
            CHECK_EQ(ml_model_kind(m), ML_MODEL_LINEAR);
        }
        ml_model_destroy(&m);
        free(buf);
    }
}

static void test_predict_scaling(void)
{
    ml_model_t *m = s_sample_model();
    ml_mat_t *x = ml_mat_new(2, 3);
    const double v[6] = {2, 60, 29, 0, 40, 21};
    memcpy(x->v, v, sizeof v);
    double out[2];
    CHECK_EQ(ml_model_predict(m, x, out), 0);
    for (int i = 0; i < 2; i++) {
        double z = 0.1 + 0.5 * (v[3 * i] - 1.0) / 1.0 - 1.25 * (v[3 * i + 1] - 50.0) / 10.0 +
                   1e-300 * (v[3 * i + 2] - 25.0) / 4.0;
        CHECK(fabs(out[i] - 1.0 / (1.0 + exp(-z))) < 1e-14);
    }
    ml_mat_t *bad = ml_mat_new(2, 2);
    CHECK_EQ(ml_model_predict(m, bad, out), ML_E_SHAPE);
    ml_scale_t *s2 = ml_scale_new(2);
    CHECK_EQ(ml_model_set_scaling(m, s2), ML_E_SHAPE);
    s2->p = 3; /* same shape now, but an sd of 0 is refused */
    ml_scale_destroy(&s2);
    ml_mat_destroy(&bad);
    ml_mat_destroy(&x);
    ml_model_destroy(&m);
}

static void test_setters(void)
{
    ml_model_t *m = ml_model_new(ML_MODEL_PRS, 2, NULL, NULL, 0);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(strcmp(ml_model_feature_id(m, 1), "f1") == 0);
    CHECK_EQ(ml_model_add_metric(m, "a", 1), 0);
    CHECK_EQ(ml_model_add_metric(m, "a", 2), 0);
    CHECK_EQ(ml_model_metric_count(m), 1u);
    CHECK_EQ(ml_model_add_metric(m, "", 2), ML_E_ARG);
    CHECK_EQ(ml_model_add_metric(m, "b", INFINITY), ML_E_ARG);
    int rc = 0;
    for (int i = 0; i < 70 && rc == 0; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", i);
        rc = ml_model_add_metric(m, name, i);
    }
    CHECK_EQ(rc, PROTO_E_TOO_LONG);
    const double bad[2] = {1, NAN};
    CHECK_EQ(ml_model_set_params(m, bad, 0), ML_E_ARG);
    CHECK(ml_model_new((ml_model_kind_t)9, 1, NULL, NULL, 0) == NULL);
    char *empty[1] = {""};
    CHECK(ml_model_new(ML_MODEL_LINEAR, 1, empty, NULL, 0) == NULL);
    CHECK(ml_model_new(ML_MODEL_LINEAR, 0, NULL, NULL, NAN) == NULL);
    ml_model_destroy(&m);
    ml_model_destroy(&m);
    CHECK(m == NULL);
}

static void test_save_load(void)
{
    const char *dir = testutil_tmpdir();
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/model.bin", dir);
    ml_model_t *m = s_sample_model(), *l = NULL;
    CHECK_EQ(ml_model_save(m, path, err, sizeof err), 0);
    CHECK_EQ(ml_model_load(path, &l, err, sizeof err), 0);
    if (l) {
        uint8_t h1[32], h2[32];
        ml_model_hash(m, h1);
        ml_model_hash(l, h2);
        CHECK(memcmp(h1, h2, 32) == 0);
    }
    char missing[512];
    snprintf(missing, sizeof missing, "%s/none", dir);
    ml_model_t *x = NULL;
    CHECK_EQ(ml_model_load(missing, &x, err, sizeof err), PROTO_E_IO);
    FILE *f = fopen(missing, "wb");
    fputs("not a model", f);
    fclose(f);
    CHECK(ml_model_load(missing, &x, err, sizeof err) < 0);
    CHECK(x == NULL);
    ml_model_destroy(&m);
    ml_model_destroy(&l);
    testutil_rmtree(dir);
}

int main(void)
{
    test_roundtrip_and_hash();
    test_faults();
    test_predict_scaling();
    test_setters();
    test_save_load();
    return testutil_done("test_ml_model");
}
