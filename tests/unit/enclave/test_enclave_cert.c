/*  test_enclave_cert: platform certificates (proto_attest).
 *
 *  Issue and verify, the validity window at its edges, a foreign attestation service,
 *  every single-byte change of an encoded certificate (refused by the decoder or by the
 *  verifier, never accepted), and the decoder's limits: truncation at every length,
 *  trailing bytes, wrong arity, oversize, version, name length and content, empty window.
 *  Keys derive from a seed printed at start (GENIE_TEST_SEED=N replays it).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_attest.h"
#include "proto/proto_mp.h"
#include "enclave_testutil.h"
#include "testutil.h"

/* Writes a certificate-shaped array with every field free to be wrong. */
typedef struct {
    uint32_t arity;
    uint64_t version;
    size_t pk_len;
    const char *name;
    size_t name_len;
    uint64_t issued, expires;
    size_t sig_len;
} s_shape_t;

static uint8_t *s_shape(const s_shape_t *s, size_t *len)
{
    uint8_t zero[64] = {0};
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, s->arity);
    if (s->arity > 0)
        proto_wr_uint(&w, s->version);
    if (s->arity > 1)
        proto_wr_bin(&w, zero, s->pk_len);
    if (s->arity > 2)
        proto_wr_str(&w, s->name, s->name_len);
    if (s->arity > 3)
        proto_wr_bin(&w, zero, 32);
    if (s->arity > 4)
        proto_wr_uint(&w, s->issued);
    if (s->arity > 5)
        proto_wr_uint(&w, s->expires);
    if (s->arity > 6)
        proto_wr_bin(&w, zero, s->sig_len);
    for (uint32_t i = 7; i < s->arity; i++)
        proto_wr_nil(&w);
    return proto_wr_take(&w, len);
}

static int s_decode_shape(const s_shape_t *s)
{
    size_t len;
    uint8_t *b = s_shape(s, &len);
    proto_attest_cert_t c;
    int rc = b ? proto_attest_cert_decode(b, len, &c) : PROTO_E_NOMEM;
    free(b);
    return rc;
}

static void test_issue_verify(void)
{
    proto_key_t *as = enclave_testutil_key("as"), *other = enclave_testutil_key("other-as");
    uint8_t platform[32], account[32];
    enclave_testutil_bytes("platform", platform, 32);
    enclave_testutil_bytes("account", account, 32);
    proto_attest_cert_t c;
    char err[128];
    CHECK_EQ(
        proto_attest_cert_issue(as, platform, "runner-α", account, 1000, 5000, &c, err, sizeof err),
        PROTO_OK);
    CHECK_EQ(c.version, PROTO_ATTEST_CERT_VERSION);
    CHECK(strcmp(c.runner_name, "runner-α") == 0);
    CHECK(memcmp(c.platform_pk, platform, 32) == 0);
    const uint8_t *as_pk = proto_key_public(as);
    CHECK_EQ(proto_attest_cert_verify(&c, as_pk, 1000, err, sizeof err), PROTO_OK);
    CHECK_EQ(proto_attest_cert_verify(&c, as_pk, 4999, err, sizeof err), PROTO_OK);
    CHECK_EQ(proto_attest_cert_verify(&c, as_pk, 999, err, sizeof err),
             ENCLAVE_E_CERT_NOT_YET_VALID);
    CHECK_EQ(proto_attest_cert_verify(&c, as_pk, 5000, err, sizeof err), ENCLAVE_E_CERT_EXPIRED);
    CHECK_EQ(proto_attest_cert_verify(&c, as_pk, UINT64_MAX, err, sizeof err),
             ENCLAVE_E_CERT_EXPIRED);
    CHECK(strstr(err, "expired") != NULL);
    CHECK_EQ(proto_attest_cert_verify(&c, proto_key_public(other), 2000, err, sizeof err),
             ENCLAVE_E_CERT_BAD_SIG);

    /* every field is covered by the signature */
    proto_attest_cert_t t = c;
    t.platform_pk[5] ^= 1;
    CHECK_EQ(proto_attest_cert_verify(&t, as_pk, 2000, NULL, 0), ENCLAVE_E_CERT_BAD_SIG);
    t = c;
    t.runner_name[0] = 'R';
    CHECK_EQ(proto_attest_cert_verify(&t, as_pk, 2000, NULL, 0), ENCLAVE_E_CERT_BAD_SIG);
    t = c;
    t.runner_account[31] ^= 0x80;
    CHECK_EQ(proto_attest_cert_verify(&t, as_pk, 2000, NULL, 0), ENCLAVE_E_CERT_BAD_SIG);
    t = c;
    t.issued_ms = 999;
    CHECK_EQ(proto_attest_cert_verify(&t, as_pk, 2000, NULL, 0), ENCLAVE_E_CERT_BAD_SIG);
    t = c;
    t.expires_ms = 9999999;
    CHECK_EQ(proto_attest_cert_verify(&t, as_pk, 2000, NULL, 0), ENCLAVE_E_CERT_BAD_SIG);
    t = c;
    t.sig[63] ^= 0x10;
    CHECK_EQ(proto_attest_cert_verify(&t, as_pk, 2000, NULL, 0), ENCLAVE_E_CERT_BAD_SIG);
    t = c;
    t.version = 2;
    CHECK_EQ(proto_attest_cert_verify(&t, as_pk, 2000, NULL, 0), PROTO_E_VERSION);

    /* issue refuses what could not be decoded */
    char name65[66];
    memset(name65, 'n', 65);
    name65[65] = 0;
    CHECK_EQ(proto_attest_cert_issue(as, platform, name65, account, 1, 2, &c, NULL, 0),
             PROTO_E_INVALID);
    name65[64] = 0;
    CHECK_EQ(proto_attest_cert_issue(as, platform, name65, account, 1, 2, &c, NULL, 0), PROTO_OK);
    CHECK_EQ(proto_attest_cert_issue(as, platform, "", account, 1, 2, &c, NULL, 0),
             PROTO_E_INVALID);
    CHECK_EQ(proto_attest_cert_issue(as, platform, "tab\there", account, 1, 2, &c, NULL, 0),
             PROTO_E_INVALID);
    CHECK_EQ(proto_attest_cert_issue(as, platform, "bad\xff", account, 1, 2, &c, NULL, 0),
             PROTO_E_INVALID);
    CHECK_EQ(proto_attest_cert_issue(as, platform, "r", account, 5, 5, &c, err, sizeof err),
             PROTO_E_INVALID);
    CHECK_EQ(proto_attest_cert_issue(as, platform, "r", account, 6, 5, &c, NULL, 0),
             PROTO_E_INVALID);
    proto_key_destroy(&as);
    proto_key_destroy(&other);
}

/* Decodes a certificate; with VERIFY, verifies it under the AS key CTX inside its window. */
static int s_take(const uint8_t *b, size_t len, bool verify, const void *ctx)
{
    proto_attest_cert_t d;
    int rc = proto_attest_cert_decode(b, len, &d);
    if (rc == PROTO_OK && verify)
        rc = proto_attest_cert_verify(&d, ctx, 1700000000001ull, NULL, 0);
    return rc;
}

static void test_encoding(void)
{
    proto_key_t *as = enclave_testutil_key("as");
    const uint8_t *as_pk = proto_key_public(as);
    uint8_t platform[32], account[32];
    enclave_testutil_bytes("platform", platform, 32);
    enclave_testutil_bytes("account", account, 32);
    proto_attest_cert_t c, d;
    CHECK_EQ(proto_attest_cert_issue(as, platform, "runner-1", account, 1700000000000ull,
                                     1700000000000ull + 86400000ull * 365, &c, NULL, 0),
             PROTO_OK);
    uint8_t *b = NULL;
    size_t len = 0;
    CHECK_EQ(proto_attest_cert_encode(&c, &b, &len), PROTO_OK);
    CHECK(len <= PROTO_ATTEST_CERT_MAX_BYTES);
    CHECK_EQ(proto_attest_cert_decode(b, len, &d), PROTO_OK);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    CHECK_EQ(proto_attest_cert_verify(&d, as_pk, 1700000000001ull, NULL, 0), PROTO_OK);

    /* truncation at every length */
    CHECK_EQ(enclave_testutil_prefixes_accepted(b, len, s_take, as_pk), 0);
    CHECK_EQ(proto_attest_cert_decode(b, 0, &d), PROTO_E_TRUNCATED);
    CHECK_EQ(proto_attest_cert_decode(b, len - 1, &d), PROTO_E_TRUNCATED);

    /* every single-byte change: refused by the decoder or the verifier */
    CHECK_EQ(enclave_testutil_flips_accepted(b, len, s_take, as_pk), 0);

    /* trailing bytes, oversize */
    int bounds[2];
    enclave_testutil_bounds(b, len, PROTO_ATTEST_CERT_MAX_BYTES, s_take, as_pk, bounds);
    CHECK_EQ(bounds[0], PROTO_E_TRAILING);
    CHECK_EQ(bounds[1], PROTO_E_TOO_BIG);
    free(b);
    proto_key_destroy(&as);
}

static void test_decoder_limits(void)
{
    char name64[65];
    memset(name64, 'x', 64);
    name64[64] = 0;
    s_shape_t ok = {7, 1, 32, "runner", 6, 1, 2, 64};
    CHECK_EQ(s_decode_shape(&ok), PROTO_OK);
    s_shape_t s = ok;
    s.arity = 6;
    CHECK_EQ(s_decode_shape(&s), PROTO_E_ARITY);
    s.arity = 8;
    CHECK_EQ(s_decode_shape(&s), PROTO_E_ARITY);
    s = ok;
    s.version = 2;
    CHECK_EQ(s_decode_shape(&s), PROTO_E_VERSION);
    s.version = 0;
    CHECK_EQ(s_decode_shape(&s), PROTO_E_VERSION);
    s = ok;
    s.pk_len = 31;
    CHECK(s_decode_shape(&s) != PROTO_OK);
    s.pk_len = 33;
    CHECK(s_decode_shape(&s) != PROTO_OK);
    s = ok;
    s.sig_len = 63;
    CHECK(s_decode_shape(&s) != PROTO_OK);
    s = ok;
    s.name = name64;
    s.name_len = 64;
    CHECK_EQ(s_decode_shape(&s), PROTO_OK);
    char name65[66];
    memset(name65, 'x', 65);
    s.name = name65;
    s.name_len = 65;
    CHECK_EQ(s_decode_shape(&s), PROTO_E_TOO_LONG);
    s = ok;
    s.name = "";
    s.name_len = 0;
    CHECK_EQ(s_decode_shape(&s), PROTO_E_INVALID);
    s.name = "a\nb";
    s.name_len = 3;
    CHECK_EQ(s_decode_shape(&s), PROTO_E_INVALID);
    s.name = "a\0b";
    s.name_len = 3;
    CHECK(s_decode_shape(&s) != PROTO_OK);
    s.name = "\xc3\x28";
    s.name_len = 2;
    CHECK(s_decode_shape(&s) != PROTO_OK);
    s = ok;
    s.issued = s.expires = 7;
    CHECK_EQ(s_decode_shape(&s), PROTO_E_INVALID);
    s.issued = 8;
    CHECK_EQ(s_decode_shape(&s), PROTO_E_INVALID);
    s = ok;
    s.expires = UINT64_MAX;
    CHECK_EQ(s_decode_shape(&s), PROTO_OK);

    /* a wrong type where the array should be; a non-canonical integer */
    proto_attest_cert_t c;
    const uint8_t not_array[] = {0x07};
    CHECK_EQ(proto_attest_cert_decode(not_array, sizeof not_array, &c), PROTO_E_TYPE);
    size_t len;
    uint8_t *b = s_shape(&ok, &len);
    CHECK(b != NULL && b[1] == 0x01); /* fixarray, then version 1 as a positive fixint */
    uint8_t *wide = malloc(len + 1);
    wide[0] = b[0];
    wide[1] = 0xcc; /* uint8 1: not the shortest form */
    wide[2] = 0x01;
    memcpy(wide + 3, b + 2, len - 2);
    CHECK_EQ(proto_attest_cert_decode(wide, len + 1, &c), PROTO_E_NONCANONICAL);
    free(wide);
    free(b);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    enclave_testutil_seed_init();
    test_issue_verify();
    test_encoding();
    test_decoder_limits();
    return testutil_done("test_enclave_cert");
}
