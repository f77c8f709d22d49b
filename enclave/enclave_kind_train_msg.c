/*  enclave_kind_train_msg: the byte formats of federated training inside genie-enclave
 *  (see enclave_kind_train.h): the job config of TRAIN_PREPARE, the sealed and signed
 *  envelope of every enclave-to-enclave message, and the payloads inside it. Every decoder
 *  is strict (proto_mp's bounded reader; doubles only as float64 and finite) and runs on
 *  bytes a runner relays, so every size is bounded before anything is allocated.
 */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind_train.h"
#include "proto/proto_sigbatch.h"
#include "proto/proto_mp.h"

#define S_MSG_DOMAIN "genie/fed-msg/v1"

/* ---- float64 ---- */

static bool s_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

static void s_wr_f64s(proto_wr_t *w, const double *v, size_t n)
{
    proto_wr_array(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        proto_wr_f64(w, v[i]);
}

/* Reads an array of exactly N float64 into a new *OUT. */
static int s_rd_f64s(proto_rd_t *r, size_t n, double **out)
{
    if (proto_rd_array_exact(r, (uint32_t)n))
        return r->err;
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return r->err = PROTO_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (proto_rd_f64(r, &(*out)[i]))
            return r->err;
    return PROTO_OK;
}

/* ---- envelope ---- */

static void s_msg_hash(const uint8_t job_id[32], uint32_t from, uint32_t to, const uint8_t *payload,
                       size_t len, uint8_t out[32])
{
    static const uint8_t zero = 0;
    uint8_t head[40];
    memcpy(head, job_id, 32);
    for (int i = 0; i < 4; i++) {
        head[32 + i] = (uint8_t)(from >> (24 - 8 * i));
        head[36 + i] = (uint8_t)(to >> (24 - 8 * i));
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)S_MSG_DOMAIN, strlen(S_MSG_DOMAIN));
    crypto_generichash_update(&st, &zero, 1);
    crypto_generichash_update(&st, head, sizeof head);
    crypto_generichash_update(&st, payload, len);
    crypto_generichash_final(&st, out, 32);
}

int enclave_train_msg_seal(const uint8_t job_id[static 32], uint32_t from, uint32_t to,
                           const uint8_t *payload, size_t len, const uint8_t sign_sk[static 64],
                           const uint8_t to_box_pk[static 32], uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    uint8_t h[32], sig[64];
    s_msg_hash(job_id, from, to, payload, len, h);
    crypto_sign_detached(sig, NULL, h, sizeof h, sign_sk);
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 5);
    proto_wr_bin(&w, job_id, 32);
    proto_wr_uint(&w, from);
    proto_wr_uint(&w, to);
    proto_wr_bin(&w, payload, len);
    proto_wr_bin(&w, sig, 64);
    size_t plen = 0;
    const uint8_t *plain = proto_wr_data(&w, &plen);
    int rc = plain ? PROTO_OK : PROTO_E_NOMEM;
    if (rc == PROTO_OK && plen > ENCLAVE_WIRE_MAX_BLOB - crypto_box_SEALBYTES)
        rc = PROTO_E_TOO_BIG;
    if (rc == PROTO_OK && !(*out = malloc(plen + crypto_box_SEALBYTES)))
        rc = PROTO_E_NOMEM;
    if (rc == PROTO_OK && crypto_box_seal(*out, plain, plen, to_box_pk) != 0) {
        free(*out);
        *out = NULL;
        rc = PROTO_E_CRYPTO;
    }
    if (rc == PROTO_OK)
        *out_len = plen + crypto_box_SEALBYTES;
    proto_wr_free(&w); /* wipes */
    return rc;
}

int enclave_train_msg_open(const uint8_t *msg, size_t len, const uint8_t box_pk[static 32],
                           const uint8_t box_sk[static 32], const uint8_t job_id[static 32],
                           uint32_t from, uint32_t to, const uint8_t from_sign_pk[static 32],
                           uint8_t **plain, size_t *plain_len, const uint8_t **payload,
                           size_t *payload_len)
{
    *plain = NULL;
    *plain_len = 0;
    *payload = NULL;
    *payload_len = 0;
    if (len < crypto_box_SEALBYTES || len > ENCLAVE_WIRE_MAX_BLOB)
        return ENCLAVE_E_FED_MSG;
    size_t n = len - crypto_box_SEALBYTES;
    if (!(*plain = malloc(n ? n : 1)))
        return PROTO_E_NOMEM;
    *plain_len = n;
    if (crypto_box_seal_open(*plain, msg, len, box_pk, box_sk) != 0)
        return ENCLAVE_E_FED_MSG;
    proto_rd_t r;
    proto_rd_init(&r, *plain, n);
    uint8_t jid[32], sig[64], h[32];
    uint64_t f = 0, t = 0;
    if (proto_rd_array_exact(&r, 5) || proto_rd_bin_exact(&r, 32, jid) ||
        proto_rd_uint(&r, UINT32_MAX, &f) || proto_rd_uint(&r, UINT32_MAX, &t) ||
        proto_rd_bin(&r, ENCLAVE_WIRE_MAX_BLOB, payload, payload_len) ||
        proto_rd_bin_exact(&r, 64, sig) || proto_rd_finish(&r))
        return ENCLAVE_E_FED_MSG;
    if (sodium_memcmp(jid, job_id, 32) != 0 || f != from || t != to)
        return ENCLAVE_E_FED_MSG;
    s_msg_hash(job_id, from, to, *payload, *payload_len, h);
    if (!proto_sig_check(from_sign_pk, h, sizeof h, sig))
        return ENCLAVE_E_FED_MSG;
    return PROTO_OK;
}

/* ---- payloads ---- */

int enclave_train_payload_encode(const enclave_train_payload_t *p, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    proto_wr_t w;
    proto_wr_init(&w);
    bool ok = true;
    switch (p->kind) {
    case ENCLAVE_TRAIN_P_START:
        proto_wr_array(&w, 1);
        proto_wr_uint(&w, p->kind);
        break;
    case ENCLAVE_TRAIN_P_STATS:
        ok = s_finite(p->a, p->dim) && s_finite(p->b, p->dim);
        proto_wr_array(&w, 4);
        proto_wr_uint(&w, p->kind);
        proto_wr_uint(&w, p->n);
        s_wr_f64s(&w, p->a, p->dim);
        s_wr_f64s(&w, p->b, p->dim);
        break;
    case ENCLAVE_TRAIN_P_SCALE:
        ok = s_finite(p->a, p->dim) && s_finite(p->b, p->dim);
        proto_wr_array(&w, 3);
        proto_wr_uint(&w, p->kind);
        s_wr_f64s(&w, p->a, p->dim);
        s_wr_f64s(&w, p->b, p->dim);
        break;
    case ENCLAVE_TRAIN_P_FED:
        proto_wr_array(&w, 2);
        proto_wr_uint(&w, p->kind);
        proto_wr_bin(&w, p->fed, p->fed_len);
        break;
    case ENCLAVE_TRAIN_P_LOCAL:
        ok = s_finite(p->a, p->dim) && p->n_ids <= ENCLAVE_WIRE_IDS_MAX;
        proto_wr_array(&w, 3);
        proto_wr_uint(&w, p->kind);
        s_wr_f64s(&w, p->a, p->dim);
        proto_wr_array(&w, (uint32_t)p->n_ids);
        for (size_t i = 0; i < p->n_ids; i++)
            proto_wr_bin(&w, p->ids[i], 32);
        break;
    case ENCLAVE_TRAIN_P_EVAL:
        ok = p->n_models <= ENCLAVE_TRAIN_EVAL_MAX && s_finite(p->models, p->n_models * p->dim);
        proto_wr_array(&w, 2);
        proto_wr_uint(&w, p->kind);
        proto_wr_array(&w, (uint32_t)p->n_models);
        for (size_t i = 0; i < p->n_models; i++)
            s_wr_f64s(&w, p->models + i * p->dim, p->dim);
        break;
    case ENCLAVE_TRAIN_P_REPORT:
        ok = p->n_models <= ENCLAVE_TRAIN_EVAL_MAX && isfinite(p->loss) && isfinite(p->eps);
        proto_wr_array(&w, 5);
        proto_wr_uint(&w, p->kind);
        proto_wr_uint(&w, p->n);
        proto_wr_array(&w, (uint32_t)p->n_models);
        for (size_t i = 0; i < p->n_models; i++)
            proto_wr_uint(&w, p->correct[i]);
        proto_wr_f64(&w, p->loss);
        proto_wr_f64(&w, p->eps);
        break;
    default:
        ok = false;
    }
    if (!ok) {
        proto_wr_free(&w);
        return PROTO_E_INVALID;
    }
    *out = proto_wr_take(&w, len);
    int rc = *out ? PROTO_OK : (w.err ? w.err : PROTO_E_NOMEM);
    proto_wr_free(&w);
    return rc;
}

static int s_rd_ids(proto_rd_t *r, enclave_train_payload_t *out)
{
    uint32_t n = 0;
    if (proto_rd_array_max(r, ENCLAVE_WIRE_IDS_MAX, &n))
        return r->err;
    out->ids = calloc(n ? n : 1, 32);
    if (!out->ids)
        return r->err = PROTO_E_NOMEM;
    out->n_ids = n;
    for (uint32_t i = 0; i < n; i++)
        if (proto_rd_bin_exact(r, 32, out->ids[i]))
            return r->err;
    return PROTO_OK;
}

static int s_rd_models(proto_rd_t *r, size_t dim, enclave_train_payload_t *out)
{
    uint32_t n = 0;
    if (proto_rd_array_max(r, ENCLAVE_TRAIN_EVAL_MAX, &n))
        return r->err;
    if (n == 0)
        return r->err = PROTO_E_RANGE;
    out->models = calloc((size_t)n * dim, sizeof *out->models);
    if (!out->models)
        return r->err = PROTO_E_NOMEM;
    out->n_models = n;
    for (uint32_t i = 0; i < n; i++) {
        if (proto_rd_array_exact(r, (uint32_t)dim))
            return r->err;
        for (size_t j = 0; j < dim; j++)
            if (proto_rd_f64(r, &out->models[i * dim + j]))
                return r->err;
    }
    return PROTO_OK;
}

static int s_rd_counts(proto_rd_t *r, enclave_train_payload_t *out)
{
    uint32_t n = 0;
    if (proto_rd_array_max(r, ENCLAVE_TRAIN_EVAL_MAX, &n))
        return r->err;
    out->correct = calloc(n ? n : 1, sizeof *out->correct);
    if (!out->correct)
        return r->err = PROTO_E_NOMEM;
    out->n_models = n;
    for (uint32_t i = 0; i < n; i++)
        if (proto_rd_uint(r, out->n, &out->correct[i]))
            return r->err;
    return PROTO_OK;
}

int enclave_train_payload_decode(const uint8_t *buf, size_t len, size_t p_dim,
                                 enclave_train_payload_t *out)
{
    memset(out, 0, sizeof *out);
    if (p_dim == 0 || p_dim > ENCLAVE_TRAIN_FEATURES_MAX)
        return PROTO_E_INVALID;
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint32_t arity = 0;
    uint64_t kind = 0;
    if (proto_rd_array_max(&r, 5, &arity) || proto_rd_uint(&r, ENCLAVE_TRAIN_P_REPORT, &kind))
        return r.err;
    static const uint32_t arities[] = {0, 1, 4, 3, 2, 3, 2, 5};
    if (kind == 0)
        return PROTO_E_UNKNOWN_TYPE;
    if (arity != arities[kind])
        return PROTO_E_ARITY;
    out->kind = (enclave_train_pkind_t)kind;
    switch (out->kind) {
    case ENCLAVE_TRAIN_P_START:
        break;
    case ENCLAVE_TRAIN_P_STATS:
        out->dim = p_dim;
        if (proto_rd_uint(&r, (uint64_t)1 << 40, &out->n) || s_rd_f64s(&r, p_dim, &out->a) ||
            s_rd_f64s(&r, p_dim, &out->b))
            return r.err;
        break;
    case ENCLAVE_TRAIN_P_SCALE:
        out->dim = p_dim;
        if (s_rd_f64s(&r, p_dim, &out->a) || s_rd_f64s(&r, p_dim, &out->b))
            return r.err;
        break;
    case ENCLAVE_TRAIN_P_FED:
        if (proto_rd_bin(&r, ENCLAVE_WIRE_MAX_BLOB, &out->fed, &out->fed_len))
            return r.err;
        break;
    case ENCLAVE_TRAIN_P_LOCAL:
        out->dim = p_dim + 1;
        if (s_rd_f64s(&r, p_dim + 1, &out->a) || s_rd_ids(&r, out))
            return r.err;
        break;
    case ENCLAVE_TRAIN_P_EVAL:
        out->dim = p_dim + 1;
        if (s_rd_models(&r, p_dim + 1, out))
            return r.err;
        break;
    case ENCLAVE_TRAIN_P_REPORT:
        if (proto_rd_uint(&r, (uint64_t)1 << 40, &out->n) || s_rd_counts(&r, out) ||
            proto_rd_f64(&r, &out->loss) || proto_rd_f64(&r, &out->eps))
            return r.err;
        break;
    }
    return proto_rd_finish(&r);
}

void enclave_train_payload_clear(enclave_train_payload_t *p)
{
    if (p->a)
        sodium_memzero(p->a, p->dim * sizeof *p->a);
    if (p->b)
        sodium_memzero(p->b, p->dim * sizeof *p->b);
    free(p->a);
    free(p->b);
    free(p->ids);
    free(p->models);
    free(p->correct);
    memset(p, 0, sizeof *p);
}
