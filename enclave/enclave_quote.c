/*  enclave_quote: encode, decode and verify quotes (see enclave_quote.h). */
#include "enclave/enclave_quote.h"

#include <sodium.h>
#include <string.h>

#include "enclave/enclave_codec.h"
#include "proto/proto_sigbatch.h"

#define DOMAIN "genie/enclave/quote/v1"
#define QUOTE_FIELDS 10
#define SIGNED_FIELDS 8

static void s_write_signed_part(proto_wr_t *w, const enclave_quote_t *q, uint32_t n)
{
    proto_wr_array(w, n);
    proto_wr_uint(w, q->version);
    proto_wr_bin(w, q->measurement, 32);
    proto_wr_bin(w, q->body.sign_pk, 32);
    proto_wr_bin(w, q->body.box_pk, 32);
    proto_wr_bin(w, q->body.report_data, ENCLAVE_REPORT_DATA_LEN);
    proto_wr_bin(w, q->body.nonce, ENCLAVE_NONCE_LEN);
    proto_wr_uint(w, q->time_ms);
    proto_wr_bin(w, q->platform_pk, 32);
}

void enclave_quote_signing_hash(const enclave_quote_t *q, uint8_t out[static 32])
{
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    s_write_signed_part(&w, q, SIGNED_FIELDS);
    const uint8_t *data = proto_wr_data(&w, &len);
    if (data)
        proto_hash(DOMAIN, data, len, out);
    else
        memset(out, 0, 32); /* allocation failed: a hash nothing signs */
    proto_wr_free(&w);
}

void enclave_quote_write(proto_wr_t *w, const enclave_quote_t *q)
{
    s_write_signed_part(w, q, QUOTE_FIELDS);
    proto_wr_bin(w, q->sig, 64);
    if (q->has_cert)
        enclave_cert_write(w, &q->cert);
    else
        proto_wr_nil(w);
}

static void s_quote_write(proto_wr_t *w, const void *q)
{
    enclave_quote_write(w, q);
}

int enclave_quote_encode(const enclave_quote_t *q, uint8_t **out, size_t *len)
{
    return enclave_codec_encode(s_quote_write, q, out, len);
}

int enclave_quote_read(proto_rd_t *r, enclave_quote_t *out)
{
    uint64_t time_ms;
    memset(out, 0, sizeof *out);
    if (enclave_codec_read_head(r, QUOTE_FIELDS, ENCLAVE_QUOTE_VERSION))
        goto err;
    if (proto_rd_bin_exact(r, 32, out->measurement) ||
        proto_rd_bin_exact(r, 32, out->body.sign_pk) ||
        proto_rd_bin_exact(r, 32, out->body.box_pk) ||
        proto_rd_bin_exact(r, ENCLAVE_REPORT_DATA_LEN, out->body.report_data) ||
        proto_rd_bin_exact(r, ENCLAVE_NONCE_LEN, out->body.nonce) ||
        proto_rd_uint(r, UINT64_MAX, &time_ms) || proto_rd_bin_exact(r, 32, out->platform_pk) ||
        proto_rd_bin_exact(r, 64, out->sig))
        goto err;
    if (proto_rd_peek_nil(r)) {
        if (proto_rd_nil(r))
            goto err;
        out->has_cert = false;
    } else {
        if (enclave_cert_read(r, &out->cert))
            goto err;
        out->has_cert = true;
    }
    out->version = ENCLAVE_QUOTE_VERSION;
    out->time_ms = time_ms;
    return PROTO_OK;
err:
    return enclave_codec_fail(r, out, sizeof *out);
}

static int s_quote_read(proto_rd_t *r, void *out)
{
    return enclave_quote_read(r, out);
}

int enclave_quote_decode(const uint8_t *buf, size_t len, enclave_quote_t *out)
{
    return enclave_codec_decode(s_quote_read, buf, len, ENCLAVE_QUOTE_MAX_BYTES, out, sizeof *out);
}

/* True if ID is in LIST (N entries) or the callback says so. */
static bool s_revoked(const enclave_quote_policy_t *pol, int what, const uint8_t id[static 32])
{
    const uint8_t(*list)[32] =
        what == ENCLAVE_REVOKED_PLATFORM ? pol->revoked_platforms : pol->revoked_measurements;
    size_t n =
        what == ENCLAVE_REVOKED_PLATFORM ? pol->n_revoked_platforms : pol->n_revoked_measurements;
    for (size_t i = 0; list && i < n; i++)
        if (sodium_memcmp(list[i], id, 32) == 0)
            return true;
    return pol->is_revoked && pol->is_revoked(pol->revoked_ctx, what, id);
}

int enclave_quote_verify(const enclave_quote_t *q, const uint8_t as_pk[static 32],
                         const enclave_quote_policy_t *pol, char *err, size_t err_cap)
{
    if (q->version != ENCLAVE_QUOTE_VERSION)
        return proto_err_fail(err, err_cap, PROTO_E_VERSION, "quote version %u",
                              (unsigned)q->version);
    if (!q->has_cert)
        return proto_err_fail(err, err_cap, ENCLAVE_E_UNCERTIFIED,
                              "quote carries no platform certificate");
    int rc = enclave_cert_verify(&q->cert, as_pk, pol->now_ms, err, err_cap);
    if (rc != PROTO_OK)
        return rc;
    if (memcmp(q->cert.platform_pk, q->platform_pk, 32) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PLATFORM_MISMATCH,
                              "quote signed by a platform key its certificate does not name");
    if (s_revoked(pol, ENCLAVE_REVOKED_PLATFORM, q->platform_pk))
        return proto_err_fail(err, err_cap, ENCLAVE_E_REVOKED_PLATFORM,
                              "platform key revoked (runner \"%s\")", q->cert.runner_name);
    uint8_t hash[32];
    enclave_quote_signing_hash(q, hash);
    if (!proto_sig_check(q->platform_pk, hash, sizeof hash, q->sig))
        return proto_err_fail(err, err_cap, ENCLAVE_E_BAD_SIG, "quote signature does not verify");
    if (s_revoked(pol, ENCLAVE_REVOKED_MEASUREMENT, q->measurement))
        return proto_err_fail(err, err_cap, ENCLAVE_E_REVOKED_MEASUREMENT, "measurement revoked");
    if (pol->want_measurement && memcmp(pol->want_measurement, q->measurement, 32) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_MEASUREMENT_MISMATCH,
                              "measurement is not the one wanted");
    if (pol->want_nonce && sodium_memcmp(pol->want_nonce, q->body.nonce, ENCLAVE_NONCE_LEN))
        return proto_err_fail(err, err_cap, ENCLAVE_E_NONCE_MISMATCH,
                              "quote answers another nonce");
    uint64_t limit =
        pol->now_ms > UINT64_MAX - pol->max_skew_ms ? UINT64_MAX : pol->now_ms + pol->max_skew_ms;
    if (q->time_ms > limit)
        return proto_err_fail(err, err_cap, ENCLAVE_E_FUTURE, "quote time %llu ahead of now %llu",
                              (unsigned long long)q->time_ms, (unsigned long long)pol->now_ms);
    if (pol->max_age_ms && pol->now_ms > q->time_ms && pol->now_ms - q->time_ms > pol->max_age_ms)
        return proto_err_fail(
            err, err_cap, ENCLAVE_E_STALE, "quote %llu ms old, at most %llu allowed",
            (unsigned long long)(pol->now_ms - q->time_ms), (unsigned long long)pol->max_age_ms);
    return PROTO_OK;
}
