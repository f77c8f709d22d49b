/*  proto_attest: encode, decode and verify platform certificates and quotes (see
 *  proto_attest.h for the formats and PROTOCOL.md, "Attestation"). */
#include "proto/proto_attest.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_codec.h"
#include "proto/proto_sigbatch.h"

/* ---- platform certificates ---- */

#define CERT_DOMAIN "genie/enclave/cert/v1"
#define CERT_FIELDS 7

/* True if NAME (LEN bytes) is a runner name: not empty, no ASCII control characters
   (UTF-8 validity is the reader's job on decode and checked here on issue). */
static bool s_name_ok(const char *name, size_t len)
{
    return len > 0 && len <= PROTO_ATTEST_RUNNER_NAME_MAX && proto_codec_no_controls(name, len);
}

static void s_write_signed_part(proto_wr_t *w, const proto_attest_cert_t *c, uint32_t n)
{
    proto_wr_array(w, n);
    proto_wr_uint(w, c->version);
    proto_wr_bin(w, c->platform_pk, 32);
    proto_wr_str(w, c->runner_name, strnlen(c->runner_name, sizeof c->runner_name));
    proto_wr_bin(w, c->runner_account, 32);
    proto_wr_uint(w, c->issued_ms);
    proto_wr_uint(w, c->expires_ms);
}

void proto_attest_cert_signing_hash(const proto_attest_cert_t *cert, uint8_t out[static 32])
{
    proto_wr_t w;
    proto_wr_init(&w);
    s_write_signed_part(&w, cert, CERT_FIELDS - 1);
    (void)proto_codec_hash(&w, CERT_DOMAIN, out); /* on failure: a hash nothing signs */
}

int proto_attest_cert_issue(const proto_key_t *as_key, const uint8_t platform_pk[static 32],
                            const char *runner_name, const uint8_t runner_account[static 32],
                            uint64_t issued_ms, uint64_t expires_ms, proto_attest_cert_t *out,
                            char *err, size_t err_cap)
{
    memset(out, 0, sizeof *out);
    size_t nlen = runner_name ? strnlen(runner_name, PROTO_ATTEST_RUNNER_NAME_MAX + 1) : 0;
    if (!runner_name || !s_name_ok(runner_name, nlen) ||
        !proto_codec_utf8_ok(runner_name, nlen, PROTO_ATTEST_RUNNER_NAME_MAX))
        return proto_err_fail(err, err_cap, PROTO_E_INVALID,
                              "runner name must be 1..%d bytes of UTF-8 without controls",
                              PROTO_ATTEST_RUNNER_NAME_MAX);
    if (expires_ms <= issued_ms)
        return proto_err_fail(err, err_cap, PROTO_E_INVALID,
                              "expiry %llu not after issue time %llu",
                              (unsigned long long)expires_ms, (unsigned long long)issued_ms);
    out->version = PROTO_ATTEST_CERT_VERSION;
    memcpy(out->platform_pk, platform_pk, 32);
    memcpy(out->runner_name, runner_name, nlen);
    memcpy(out->runner_account, runner_account, 32);
    out->issued_ms = issued_ms;
    out->expires_ms = expires_ms;

    uint8_t hash[32];
    proto_wr_t w;
    proto_wr_init(&w);
    s_write_signed_part(&w, out, CERT_FIELDS - 1);
    if (proto_codec_hash(&w, CERT_DOMAIN, hash) != PROTO_OK) {
        memset(out, 0, sizeof *out);
        return proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");
    }
    proto_key_sign(as_key, hash, sizeof hash, out->sig);
    return PROTO_OK;
}

void proto_attest_cert_write(proto_wr_t *w, const proto_attest_cert_t *cert)
{
    s_write_signed_part(w, cert, CERT_FIELDS);
    proto_wr_bin(w, cert->sig, 64);
}

static void s_cert_write(proto_wr_t *w, const void *cert)
{
    proto_attest_cert_write(w, cert);
}

int proto_attest_cert_encode(const proto_attest_cert_t *cert, uint8_t **out, size_t *len)
{
    return proto_codec_encode(s_cert_write, cert, out, len);
}

int proto_attest_cert_read(proto_rd_t *r, proto_attest_cert_t *out)
{
    uint64_t issued, expires;
    memset(out, 0, sizeof *out);
    if (proto_codec_read_head(r, CERT_FIELDS, PROTO_ATTEST_CERT_VERSION))
        goto err;
    if (proto_rd_bin_exact(r, 32, out->platform_pk) ||
        proto_rd_str_copy(r, out->runner_name, sizeof out->runner_name) ||
        proto_rd_bin_exact(r, 32, out->runner_account) || proto_rd_uint(r, UINT64_MAX, &issued) ||
        proto_rd_uint(r, UINT64_MAX, &expires) || proto_rd_bin_exact(r, 64, out->sig))
        goto err;
    if (!s_name_ok(out->runner_name, strlen(out->runner_name)) || expires <= issued) {
        r->err = PROTO_E_INVALID;
        goto err;
    }
    out->version = PROTO_ATTEST_CERT_VERSION;
    out->issued_ms = issued;
    out->expires_ms = expires;
    return PROTO_OK;
err:
    return proto_codec_fail(r, out, sizeof *out);
}

static int s_cert_read(proto_rd_t *r, void *out)
{
    return proto_attest_cert_read(r, out);
}

int proto_attest_cert_decode(const uint8_t *buf, size_t len, proto_attest_cert_t *out)
{
    return proto_codec_decode(s_cert_read, buf, len, PROTO_ATTEST_CERT_MAX_BYTES, out, sizeof *out);
}

int proto_attest_cert_verify(const proto_attest_cert_t *cert, const uint8_t as_pk[static 32],
                             uint64_t now_ms, char *err, size_t err_cap)
{
    if (cert->version != PROTO_ATTEST_CERT_VERSION)
        return proto_err_fail(err, err_cap, PROTO_E_VERSION, "certificate version %u",
                              (unsigned)cert->version);
    size_t nlen = strnlen(cert->runner_name, sizeof cert->runner_name);
    if (nlen == sizeof cert->runner_name || !s_name_ok(cert->runner_name, nlen) ||
        cert->expires_ms <= cert->issued_ms)
        return proto_err_fail(err, err_cap, ENCLAVE_E_CERT_BAD_SIG,
                              "certificate field out of its domain");
    uint8_t hash[32];
    proto_attest_cert_signing_hash(cert, hash);
    if (!proto_sig_check(as_pk, hash, sizeof hash, cert->sig))
        return proto_err_fail(err, err_cap, ENCLAVE_E_CERT_BAD_SIG,
                              "certificate not signed by the attestation service");
    if (now_ms < cert->issued_ms)
        return proto_err_fail(err, err_cap, ENCLAVE_E_CERT_NOT_YET_VALID,
                              "certificate valid from %llu, now %llu",
                              (unsigned long long)cert->issued_ms, (unsigned long long)now_ms);
    if (now_ms >= cert->expires_ms)
        return proto_err_fail(err, err_cap, ENCLAVE_E_CERT_EXPIRED,
                              "certificate expired at %llu, now %llu",
                              (unsigned long long)cert->expires_ms, (unsigned long long)now_ms);
    return PROTO_OK;
}

/* ---- quotes ---- */

#define QUOTE_DOMAIN "genie/enclave/quote/v1"
#define QUOTE_FIELDS 10
#define SIGNED_FIELDS 8

static void s_quote_write_signed(proto_wr_t *w, const proto_attest_quote_t *q, uint32_t n)
{
    proto_wr_array(w, n);
    proto_wr_uint(w, q->version);
    proto_wr_bin(w, q->measurement, 32);
    proto_wr_bin(w, q->body.sign_pk, 32);
    proto_wr_bin(w, q->body.box_pk, 32);
    proto_wr_bin(w, q->body.report_data, PROTO_ATTEST_REPORT_DATA_LEN);
    proto_wr_bin(w, q->body.nonce, PROTO_ATTEST_NONCE_LEN);
    proto_wr_uint(w, q->time_ms);
    proto_wr_bin(w, q->platform_pk, 32);
}

void proto_attest_quote_signing_hash(const proto_attest_quote_t *q, uint8_t out[static 32])
{
    proto_wr_t w;
    proto_wr_init(&w);
    s_quote_write_signed(&w, q, SIGNED_FIELDS);
    (void)proto_codec_hash(&w, QUOTE_DOMAIN, out); /* on failure: a hash nothing signs */
}

void proto_attest_quote_write(proto_wr_t *w, const proto_attest_quote_t *q)
{
    s_quote_write_signed(w, q, QUOTE_FIELDS);
    proto_wr_bin(w, q->sig, 64);
    if (q->has_cert)
        proto_attest_cert_write(w, &q->cert);
    else
        proto_wr_nil(w);
}

static void s_quote_write(proto_wr_t *w, const void *q)
{
    proto_attest_quote_write(w, q);
}

int proto_attest_quote_encode(const proto_attest_quote_t *q, uint8_t **out, size_t *len)
{
    return proto_codec_encode(s_quote_write, q, out, len);
}

int proto_attest_quote_read(proto_rd_t *r, proto_attest_quote_t *out)
{
    uint64_t time_ms;
    memset(out, 0, sizeof *out);
    if (proto_codec_read_head(r, QUOTE_FIELDS, PROTO_ATTEST_QUOTE_VERSION))
        goto err;
    if (proto_rd_bin_exact(r, 32, out->measurement) ||
        proto_rd_bin_exact(r, 32, out->body.sign_pk) ||
        proto_rd_bin_exact(r, 32, out->body.box_pk) ||
        proto_rd_bin_exact(r, PROTO_ATTEST_REPORT_DATA_LEN, out->body.report_data) ||
        proto_rd_bin_exact(r, PROTO_ATTEST_NONCE_LEN, out->body.nonce) ||
        proto_rd_uint(r, UINT64_MAX, &time_ms) || proto_rd_bin_exact(r, 32, out->platform_pk) ||
        proto_rd_bin_exact(r, 64, out->sig))
        goto err;
    if (proto_rd_peek_nil(r)) {
        if (proto_rd_nil(r))
            goto err;
        out->has_cert = false;
    } else {
        if (proto_attest_cert_read(r, &out->cert))
            goto err;
        out->has_cert = true;
    }
    out->version = PROTO_ATTEST_QUOTE_VERSION;
    out->time_ms = time_ms;
    return PROTO_OK;
err:
    return proto_codec_fail(r, out, sizeof *out);
}

static int s_quote_read(proto_rd_t *r, void *out)
{
    return proto_attest_quote_read(r, out);
}

int proto_attest_quote_decode(const uint8_t *buf, size_t len, proto_attest_quote_t *out)
{
    return proto_codec_decode(s_quote_read, buf, len, PROTO_ATTEST_QUOTE_MAX_BYTES, out,
                              sizeof *out);
}

/* True if ID is in LIST (N entries) or the callback says so. */
static bool s_revoked(const proto_attest_policy_t *pol, int what, const uint8_t id[static 32])
{
    const uint8_t(*list)[32] =
        what == PROTO_ATTEST_REVOKED_PLATFORM ? pol->revoked_platforms : pol->revoked_measurements;
    size_t n = what == PROTO_ATTEST_REVOKED_PLATFORM ? pol->n_revoked_platforms
                                                     : pol->n_revoked_measurements;
    for (size_t i = 0; list && i < n; i++)
        if (sodium_memcmp(list[i], id, 32) == 0)
            return true;
    return pol->is_revoked && pol->is_revoked(pol->revoked_ctx, what, id);
}

int proto_attest_quote_verify(const proto_attest_quote_t *q, const uint8_t as_pk[static 32],
                              const proto_attest_policy_t *pol, char *err, size_t err_cap)
{
    if (q->version != PROTO_ATTEST_QUOTE_VERSION)
        return proto_err_fail(err, err_cap, PROTO_E_VERSION, "quote version %u",
                              (unsigned)q->version);
    if (!q->has_cert)
        return proto_err_fail(err, err_cap, ENCLAVE_E_UNCERTIFIED,
                              "quote carries no platform certificate");
    /* a lagging clock: check the window at the issue time when that is at most
       cert_skew_ms ahead (expiry is still checked: expires_ms > issued_ms) */
    uint64_t cert_now = pol->now_ms;
    if (q->cert.issued_ms > cert_now && q->cert.issued_ms - cert_now <= pol->cert_skew_ms)
        cert_now = q->cert.issued_ms;
    int rc = proto_attest_cert_verify(&q->cert, as_pk, cert_now, err, err_cap);
    if (rc != PROTO_OK)
        return rc;
    if (memcmp(q->cert.platform_pk, q->platform_pk, 32) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PLATFORM_MISMATCH,
                              "quote signed by a platform key its certificate does not name");
    if (s_revoked(pol, PROTO_ATTEST_REVOKED_PLATFORM, q->platform_pk))
        return proto_err_fail(err, err_cap, ENCLAVE_E_REVOKED_PLATFORM,
                              "platform key revoked (runner \"%s\")", q->cert.runner_name);
    uint8_t hash[32];
    proto_attest_quote_signing_hash(q, hash);
    if (!proto_sig_check(q->platform_pk, hash, sizeof hash, q->sig))
        return proto_err_fail(err, err_cap, ENCLAVE_E_BAD_SIG, "quote signature does not verify");
    if (s_revoked(pol, PROTO_ATTEST_REVOKED_MEASUREMENT, q->measurement))
        return proto_err_fail(err, err_cap, ENCLAVE_E_REVOKED_MEASUREMENT, "measurement revoked");
    if (pol->want_measurement && memcmp(pol->want_measurement, q->measurement, 32) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_MEASUREMENT_MISMATCH,
                              "measurement is not the one wanted");
    if (pol->want_nonce && sodium_memcmp(pol->want_nonce, q->body.nonce, PROTO_ATTEST_NONCE_LEN))
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

/* ---- kinds ---- */

const char *proto_attest_kind_name(uint32_t kind)
{
    switch (kind) {
    case PROTO_ATTEST_KIND_VALIDATION:
        return "validation";
    case PROTO_ATTEST_KIND_TRAINING:
        return "training";
    case PROTO_ATTEST_KIND_QUERY:
        return "query";
    default:
        return NULL;
    }
}

void proto_attest_report_data(uint32_t kind,
                              const uint8_t chain_id[static PROTO_ATTEST_CHAIN_ID_LEN],
                              uint8_t out[static PROTO_ATTEST_REPORT_DATA_LEN])
{
    static const char tag[] = "genie-enclave report data v2";
    const char *name = proto_attest_kind_name(kind);
    uint8_t version = (uint8_t)PROTO_ATTEST_REPORT_DATA_VERSION;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, PROTO_ATTEST_REPORT_DATA_LEN);
    crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag);
    if (name)
        crypto_generichash_update(&st, (const uint8_t *)name, strlen(name) + 1);
    crypto_generichash_update(&st, &version, 1);
    crypto_generichash_update(&st, chain_id, PROTO_ATTEST_CHAIN_ID_LEN);
    crypto_generichash_final(&st, out, PROTO_ATTEST_REPORT_DATA_LEN);
}
