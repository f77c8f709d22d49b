/*  enclave_cert: issue, encode, decode and verify platform certificates
 *  (see enclave_cert.h for the format). */
#include "enclave/enclave_cert.h"

#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_codec.h"
#include "proto/proto_sigbatch.h"

#define DOMAIN "genie/enclave/cert/v1"
#define CERT_FIELDS 7

/* True if NAME (LEN bytes) is a runner name: not empty, no ASCII control characters
   (UTF-8 validity is the reader's job on decode and checked here on issue). */
static bool s_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > ENCLAVE_RUNNER_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* True if S (LEN bytes) is valid UTF-8 (the proto reader's rule, applied on issue). */
static bool s_utf8_ok(const char *s, size_t len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_str(&w, s, len);
    size_t n;
    const uint8_t *p = proto_wr_data(&w, &n);
    bool ok = false;
    if (p) {
        proto_rd_t r;
        const char *q;
        size_t qlen;
        proto_rd_init(&r, p, n);
        ok = proto_rd_str(&r, ENCLAVE_RUNNER_NAME_MAX, &q, &qlen) == PROTO_OK &&
             proto_rd_finish(&r) == PROTO_OK;
    }
    proto_wr_free(&w);
    return ok;
}

static void s_write_signed_part(proto_wr_t *w, const enclave_cert_t *c, uint32_t n)
{
    proto_wr_array(w, n);
    proto_wr_uint(w, c->version);
    proto_wr_bin(w, c->platform_pk, 32);
    proto_wr_str(w, c->runner_name, strnlen(c->runner_name, sizeof c->runner_name));
    proto_wr_bin(w, c->runner_account, 32);
    proto_wr_uint(w, c->issued_ms);
    proto_wr_uint(w, c->expires_ms);
}

void enclave_cert_signing_hash(const enclave_cert_t *cert, uint8_t out[static 32])
{
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    s_write_signed_part(&w, cert, CERT_FIELDS - 1);
    const uint8_t *data = proto_wr_data(&w, &len);
    if (data)
        proto_hash(DOMAIN, data, len, out);
    else
        memset(out, 0, 32); /* allocation failed: a hash nothing signs */
    proto_wr_free(&w);
}

int enclave_cert_issue(const proto_key_t *as_key, const uint8_t platform_pk[static 32],
                       const char *runner_name, const uint8_t runner_account[static 32],
                       uint64_t issued_ms, uint64_t expires_ms, enclave_cert_t *out, char *err,
                       size_t err_cap)
{
    memset(out, 0, sizeof *out);
    size_t nlen = runner_name ? strnlen(runner_name, ENCLAVE_RUNNER_NAME_MAX + 1) : 0;
    if (!runner_name || !s_name_ok(runner_name, nlen) || !s_utf8_ok(runner_name, nlen))
        return proto_err_fail(err, err_cap, PROTO_E_INVALID,
                              "runner name must be 1..%d bytes of UTF-8 without controls",
                              ENCLAVE_RUNNER_NAME_MAX);
    if (expires_ms <= issued_ms)
        return proto_err_fail(err, err_cap, PROTO_E_INVALID,
                              "expiry %llu not after issue time %llu",
                              (unsigned long long)expires_ms, (unsigned long long)issued_ms);
    out->version = ENCLAVE_CERT_VERSION;
    memcpy(out->platform_pk, platform_pk, 32);
    memcpy(out->runner_name, runner_name, nlen);
    memcpy(out->runner_account, runner_account, 32);
    out->issued_ms = issued_ms;
    out->expires_ms = expires_ms;

    uint8_t hash[32];
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    s_write_signed_part(&w, out, CERT_FIELDS - 1);
    const uint8_t *data = proto_wr_data(&w, &len);
    if (!data) {
        proto_wr_free(&w);
        memset(out, 0, sizeof *out);
        return proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");
    }
    proto_hash(DOMAIN, data, len, hash);
    proto_wr_free(&w);
    proto_key_sign(as_key, hash, sizeof hash, out->sig);
    return PROTO_OK;
}

void enclave_cert_write(proto_wr_t *w, const enclave_cert_t *cert)
{
    s_write_signed_part(w, cert, CERT_FIELDS);
    proto_wr_bin(w, cert->sig, 64);
}

static void s_cert_write(proto_wr_t *w, const void *cert)
{
    enclave_cert_write(w, cert);
}

int enclave_cert_encode(const enclave_cert_t *cert, uint8_t **out, size_t *len)
{
    return enclave_codec_encode(s_cert_write, cert, out, len);
}

int enclave_cert_read(proto_rd_t *r, enclave_cert_t *out)
{
    uint64_t issued, expires;
    memset(out, 0, sizeof *out);
    if (enclave_codec_read_head(r, CERT_FIELDS, ENCLAVE_CERT_VERSION))
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
    out->version = ENCLAVE_CERT_VERSION;
    out->issued_ms = issued;
    out->expires_ms = expires;
    return PROTO_OK;
err:
    return enclave_codec_fail(r, out, sizeof *out);
}

static int s_cert_read(proto_rd_t *r, void *out)
{
    return enclave_cert_read(r, out);
}

int enclave_cert_decode(const uint8_t *buf, size_t len, enclave_cert_t *out)
{
    return enclave_codec_decode(s_cert_read, buf, len, ENCLAVE_CERT_MAX_BYTES, out, sizeof *out);
}

int enclave_cert_verify(const enclave_cert_t *cert, const uint8_t as_pk[static 32], uint64_t now_ms,
                        char *err, size_t err_cap)
{
    if (cert->version != ENCLAVE_CERT_VERSION)
        return proto_err_fail(err, err_cap, PROTO_E_VERSION, "certificate version %u",
                              (unsigned)cert->version);
    size_t nlen = strnlen(cert->runner_name, sizeof cert->runner_name);
    if (nlen == sizeof cert->runner_name || !s_name_ok(cert->runner_name, nlen) ||
        cert->expires_ms <= cert->issued_ms)
        return proto_err_fail(err, err_cap, ENCLAVE_E_CERT_BAD_SIG,
                              "certificate field out of its domain");
    uint8_t hash[32];
    enclave_cert_signing_hash(cert, hash);
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
