/*  enclave_kind_query: the query kind (answers sealed inputs with a model's score, sealed to
 *  the asker), and the askers' helpers that seal an input and open a result (see
 *  enclave_prog.h for the formats).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind.h"
#include "enclave/enclave_prog.h"
#include "enclave/enclave_seal.h"

static const char s_query_ctx[] = "genie/query/1";
static const char s_result_ctx[] = "genie/query-result/1";
#define S_QUERY_PLAIN (32u + 1u + 8u * ENCLAVE_QUERY_FEATURES)

static void s_put_f64(uint8_t *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (8 * i));
}

static double s_get_f64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[i] << (8 * i);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

int enclave_prog_query_seal(const uint8_t box_pk[static 32], const uint8_t reply_pk[static 32],
                            const double features[static ENCLAVE_QUERY_FEATURES], uint8_t *out,
                            size_t out_cap, size_t *out_len)
{
    uint8_t plain[S_QUERY_PLAIN];
    memcpy(plain, reply_pk, 32);
    plain[32] = ENCLAVE_QUERY_FEATURES;
    for (size_t i = 0; i < ENCLAVE_QUERY_FEATURES; i++)
        s_put_f64(plain + 33 + 8 * i, features[i]);
    int rc = enclave_seal_to(box_pk, (const uint8_t *)s_query_ctx, sizeof s_query_ctx - 1, plain,
                             sizeof plain, out, out_cap, out_len);
    sodium_memzero(plain, sizeof plain);
    return rc;
}

int enclave_prog_query_open(const uint8_t reply_pk[static 32], const uint8_t reply_sk[static 32],
                            const uint8_t *sealed, size_t len, double *score)
{
    uint8_t plain[8];
    size_t n = 0;
    if (enclave_seal_open_len(len) != sizeof plain)
        return len < ENCLAVE_SEAL_TO_OVERHEAD ? PROTO_E_TRUNCATED : PROTO_E_INVALID;
    int rc = enclave_seal_open(reply_pk, reply_sk, (const uint8_t *)s_result_ctx,
                               sizeof s_result_ctx - 1, sealed, len, plain, sizeof plain, &n);
    if (rc == PROTO_OK)
        *score = s_get_f64(plain);
    sodium_memzero(plain, sizeof plain);
    return rc;
}

/* ---- the query kind ---- */

/* The fixed-weight linear model of the query kind. The trained model arrives with the ML
   issue (a query enclave will then load weights sealed to it); until then the weights are
   fixed here, and part of the measured binary. */
static const double s_weights[ENCLAVE_QUERY_FEATURES] = {0.42,  -0.17, 0.08, 0.31,
                                                         -0.25, 0.12,  0.05, -0.09};
static const double s_bias = 0.1;

int enclave_prog_query_score(const double features[static ENCLAVE_QUERY_FEATURES], double *score)
{
    double sum = s_bias;
    for (size_t i = 0; i < ENCLAVE_QUERY_FEATURES; i++) {
        double x = features[i];
        if (x != x || x > 1e12 || x < -1e12) /* NaN or absurd: refused, not computed */
            return PROTO_E_RANGE;
        sum += s_weights[i] * x;
    }
    *score = sum;
    return PROTO_OK;
}

int enclave_kind_query(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                       uint8_t **blob, char *err, size_t err_cap)
{
    uint8_t plain[S_QUERY_PLAIN];
    size_t n = 0;
    if (enclave_seal_open_len(req->u.query.sealed_len) != sizeof plain)
        return proto_err_fail(err, err_cap, PROTO_E_INVALID, "query input of wrong length");
    int rc = enclave_seal_open(st->box_pk, st->secrets->box_sk, (const uint8_t *)s_query_ctx,
                               sizeof s_query_ctx - 1, req->u.query.sealed, req->u.query.sealed_len,
                               plain, sizeof plain, &n);
    if (rc)
        return proto_err_fail(err, err_cap, rc, "query input does not open");
    if (plain[32] != ENCLAVE_QUERY_FEATURES) {
        rc = proto_err_fail(err, err_cap, PROTO_E_INVALID, "query has %u features, model %u",
                            plain[32], ENCLAVE_QUERY_FEATURES);
        goto out;
    }
    double x[ENCLAVE_QUERY_FEATURES], score = 0;
    for (size_t i = 0; i < ENCLAVE_QUERY_FEATURES; i++)
        x[i] = s_get_f64(plain + 33 + 8 * i);
    rc = enclave_prog_query_score(x, &score);
    sodium_memzero(x, sizeof x);
    if (rc) {
        rc = proto_err_fail(err, err_cap, rc, "a feature is out of range");
        goto out;
    }
    uint8_t result[8];
    s_put_f64(result, score);
    size_t cap = enclave_seal_to_len(sizeof result), out_len = 0;
    *blob = malloc(cap);
    if (!*blob) {
        rc = PROTO_E_NOMEM;
        goto out;
    }
    rc = enclave_seal_to(plain, (const uint8_t *)s_result_ctx, sizeof s_result_ctx - 1, result,
                         sizeof result, *blob, cap, &out_len);
    sodium_memzero(result, sizeof result);
    if (rc) {
        rc = proto_err_fail(err, err_cap, rc, "reply key refused");
        goto out;
    }
    ans->type = ENCLAVE_ANS_QUERY;
    ans->u.blob.bytes = *blob;
    ans->u.blob.len = out_len;
out:
    sodium_memzero(plain, sizeof plain);
    return rc;
}
