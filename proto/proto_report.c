/*  proto_report: validation reports, donation receipts and the salted data commitment
 *  (see proto_report.h for the formats). */
#include "proto/proto_report.h"

#include <sodium.h>
#include <string.h>

#include "proto/proto_codec.h"
#include "proto/proto_key.h"
#include "proto/proto_sigbatch.h"

#define REPORT_DOMAIN "genie/enclave/validation-report/v1"
#define RECEIPT_DOMAIN "genie/enclave/donation-receipt/v1"
#define COMMIT_DOMAIN "genie/data-commit/v1"
#define REPORT_FIELDS 9
#define RECEIPT_FIELDS 8

void proto_data_commit(const uint8_t salt[static 32], const uint8_t *data, size_t len,
                       uint8_t out[static 32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, salt, 32, 32);
    /* the domain with its NUL as separator */
    crypto_generichash_update(&st, (const uint8_t *)COMMIT_DOMAIN, sizeof COMMIT_DOMAIN);
    if (len)
        crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(&st, sizeof st); /* the state holds the salt */
}

/* Signs HASH with SIGN_SK; writes the signer's public key to PK. */
static void s_sign(const uint8_t sign_sk[static 64], const uint8_t hash[static 32],
                   uint8_t pk[static 32], uint8_t sig[static 64])
{
    crypto_sign_ed25519_sk_to_pk(pk, sign_sk);
    crypto_sign_detached(sig, NULL, hash, 32, sign_sk);
}

static int s_verify(const uint8_t pk[static 32], const uint8_t *want_pk,
                    const uint8_t hash[static 32], const uint8_t sig[static 64])
{
    if (want_pk && sodium_memcmp(pk, want_pk, 32) != 0)
        return ENCLAVE_E_SIGNER_MISMATCH;
    return proto_sig_check(pk, hash, 32, sig) ? PROTO_OK : ENCLAVE_E_REPORT_BAD_SIG;
}

/* ---- validation reports ---- */

static bool s_report_fields_ok(const proto_report_t *r)
{
    return (r->data_type == PROTO_DATA_GENOTYPE || r->data_type == PROTO_DATA_PHENOTYPE) &&
           r->checks_passed <= r->checks_run;
}

static void s_report_part(proto_wr_t *w, const proto_report_t *r, uint32_t n)
{
    proto_wr_array(w, n);
    proto_wr_uint(w, r->version);
    proto_wr_bin(w, r->enclave_pk, 32);
    proto_wr_bin(w, r->data_commitment, 32);
    proto_wr_uint(w, r->data_type);
    proto_wr_uint(w, r->record_count);
    proto_wr_uint(w, r->checks_run);
    proto_wr_uint(w, r->checks_passed);
    proto_wr_uint(w, r->time_ms);
}

/* The hash a report's signature covers; PROTO_E_NOMEM (OUT zeroed) on failure. */
static int s_report_hash(const proto_report_t *r, uint8_t out[static 32])
{
    proto_wr_t w;
    proto_wr_init(&w);
    s_report_part(&w, r, REPORT_FIELDS - 1);
    return proto_codec_hash(&w, REPORT_DOMAIN, out);
}

void proto_report_signing_hash(const proto_report_t *r, uint8_t out[static 32])
{
    (void)s_report_hash(r, out);
}

int proto_report_sign(proto_report_t *r, const uint8_t sign_sk[static 64])
{
    if (!s_report_fields_ok(r))
        return PROTO_E_INVALID;
    r->version = PROTO_REPORT_VERSION;
    crypto_sign_ed25519_sk_to_pk(r->enclave_pk, sign_sk);
    uint8_t hash[32];
    if (s_report_hash(r, hash) != PROTO_OK)
        return PROTO_E_NOMEM;
    s_sign(sign_sk, hash, r->enclave_pk, r->sig);
    return PROTO_OK;
}

void proto_report_write(proto_wr_t *w, const proto_report_t *r)
{
    s_report_part(w, r, REPORT_FIELDS);
    proto_wr_bin(w, r->sig, 64);
}

static void s_report_write(proto_wr_t *w, const void *r)
{
    proto_report_write(w, r);
}

int proto_report_encode(const proto_report_t *r, uint8_t **out, size_t *len)
{
    return proto_codec_encode(s_report_write, r, out, len);
}

int proto_report_read(proto_rd_t *rd, proto_report_t *out)
{
    uint64_t type, count, run, passed, time_ms;
    memset(out, 0, sizeof *out);
    if (proto_codec_read_head(rd, REPORT_FIELDS, PROTO_REPORT_VERSION))
        goto err;
    if (proto_rd_bin_exact(rd, 32, out->enclave_pk) ||
        proto_rd_bin_exact(rd, 32, out->data_commitment) || proto_rd_uint(rd, UINT8_MAX, &type) ||
        proto_rd_uint(rd, UINT64_MAX, &count) || proto_rd_uint(rd, UINT32_MAX, &run) ||
        proto_rd_uint(rd, UINT32_MAX, &passed) || proto_rd_uint(rd, UINT64_MAX, &time_ms) ||
        proto_rd_bin_exact(rd, 64, out->sig))
        goto err;
    out->version = PROTO_REPORT_VERSION;
    out->data_type = (uint8_t)type;
    out->record_count = count;
    out->checks_run = (uint32_t)run;
    out->checks_passed = (uint32_t)passed;
    out->time_ms = time_ms;
    if (!s_report_fields_ok(out)) {
        rd->err = PROTO_E_INVALID;
        goto err;
    }
    return PROTO_OK;
err:
    return proto_codec_fail(rd, out, sizeof *out);
}

static int s_report_read(proto_rd_t *rd, void *out)
{
    return proto_report_read(rd, out);
}

int proto_report_decode(const uint8_t *buf, size_t len, proto_report_t *out)
{
    return proto_codec_decode(s_report_read, buf, len, PROTO_REPORT_MAX_BYTES, out, sizeof *out);
}

int proto_report_verify(const proto_report_t *r, const uint8_t *want_pk)
{
    if (r->version != PROTO_REPORT_VERSION)
        return PROTO_E_VERSION;
    if (!s_report_fields_ok(r))
        return ENCLAVE_E_REPORT_BAD_SIG;
    uint8_t hash[32];
    if (s_report_hash(r, hash) != PROTO_OK)
        return PROTO_E_NOMEM;
    return s_verify(r->enclave_pk, want_pk, hash, r->sig);
}

/* ---- donation receipts ---- */

static void s_receipt_part(proto_wr_t *w, const proto_receipt_t *r, uint32_t n)
{
    proto_wr_array(w, n);
    proto_wr_uint(w, r->version);
    proto_wr_bin(w, r->enclave_pk, 32);
    proto_wr_bin(w, r->spec_id, 32);
    proto_wr_bin(w, r->data_id, 32);
    proto_wr_bin(w, r->donor, 32);
    proto_wr_bin(w, r->data_commitment, 32);
    proto_wr_uint(w, r->time_ms);
}

/* The hash a receipt's signature covers; PROTO_E_NOMEM (OUT zeroed) on failure. */
static int s_receipt_hash(const proto_receipt_t *r, uint8_t out[static 32])
{
    proto_wr_t w;
    proto_wr_init(&w);
    s_receipt_part(&w, r, RECEIPT_FIELDS - 1);
    return proto_codec_hash(&w, RECEIPT_DOMAIN, out);
}

void proto_receipt_signing_hash(const proto_receipt_t *r, uint8_t out[static 32])
{
    (void)s_receipt_hash(r, out);
}

int proto_receipt_sign(proto_receipt_t *r, const uint8_t sign_sk[static 64])
{
    r->version = PROTO_RECEIPT_VERSION;
    crypto_sign_ed25519_sk_to_pk(r->enclave_pk, sign_sk);
    uint8_t hash[32];
    if (s_receipt_hash(r, hash) != PROTO_OK)
        return PROTO_E_NOMEM;
    s_sign(sign_sk, hash, r->enclave_pk, r->sig);
    return PROTO_OK;
}

void proto_receipt_write(proto_wr_t *w, const proto_receipt_t *r)
{
    s_receipt_part(w, r, RECEIPT_FIELDS);
    proto_wr_bin(w, r->sig, 64);
}

static void s_receipt_write(proto_wr_t *w, const void *r)
{
    proto_receipt_write(w, r);
}

int proto_receipt_encode(const proto_receipt_t *r, uint8_t **out, size_t *len)
{
    return proto_codec_encode(s_receipt_write, r, out, len);
}

int proto_receipt_read(proto_rd_t *rd, proto_receipt_t *out)
{
    uint64_t time_ms;
    memset(out, 0, sizeof *out);
    if (proto_codec_read_head(rd, RECEIPT_FIELDS, PROTO_RECEIPT_VERSION))
        goto err;
    if (proto_rd_bin_exact(rd, 32, out->enclave_pk) || proto_rd_bin_exact(rd, 32, out->spec_id) ||
        proto_rd_bin_exact(rd, 32, out->data_id) || proto_rd_bin_exact(rd, 32, out->donor) ||
        proto_rd_bin_exact(rd, 32, out->data_commitment) ||
        proto_rd_uint(rd, UINT64_MAX, &time_ms) || proto_rd_bin_exact(rd, 64, out->sig))
        goto err;
    out->version = PROTO_RECEIPT_VERSION;
    out->time_ms = time_ms;
    return PROTO_OK;
err:
    return proto_codec_fail(rd, out, sizeof *out);
}

static int s_receipt_read(proto_rd_t *rd, void *out)
{
    return proto_receipt_read(rd, out);
}

int proto_receipt_decode(const uint8_t *buf, size_t len, proto_receipt_t *out)
{
    return proto_codec_decode(s_receipt_read, buf, len, PROTO_REPORT_MAX_BYTES, out, sizeof *out);
}

int proto_receipt_verify(const proto_receipt_t *r, const uint8_t *want_pk)
{
    if (r->version != PROTO_RECEIPT_VERSION)
        return PROTO_E_VERSION;
    uint8_t hash[32];
    if (s_receipt_hash(r, hash) != PROTO_OK)
        return PROTO_E_NOMEM;
    return s_verify(r->enclave_pk, want_pk, hash, r->sig);
}
