/*  test_proto_report: validation reports, donation receipts and the salted data
 *  commitment (proto_report).
 *
 *  Shows: a signed report and receipt verify, also against the expected enclave key, and
 *  not against another (ENCLAVE_E_SIGNER_MISMATCH); a change to any field of the struct,
 *  and any bit flipped in the encoding, fails (decoder or signature); a report's signature
 *  does not carry over to a receipt (domains differ); encode(decode(b)) == b; decoders
 *  refuse truncation at every length, trailing bytes, wrong arity, oversize, version and
 *  fields out of their domain. The commitment matches the documented keyed BLAKE2b, is not
 *  the plain hash, and changes with salt or data. Keys derive from a printed seed
 *  (GENIE_TEST_SEED=N replays it).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_report.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "enclave/enclave_testutil.h"
#include "testutil.h"

static void s_signer(const char *label, uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    enclave_testutil_bytes(label, seed, 32);
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof seed);
}

static void test_commit(void)
{
    uint8_t salt[32], salt2[32], c1[32], c2[32], plain[32], expect[32];
    enclave_testutil_bytes("salt", salt, 32);
    enclave_testutil_bytes("salt-2", salt2, 32);
    const char *data = "rs4477212\t1\t82154\tAA\nrs3094315\t1\t752566\tAG\n";
    size_t n = strlen(data);
    proto_data_commit(salt, (const uint8_t *)data, n, c1);
    proto_data_commit(salt, (const uint8_t *)data, n, c2);
    CHECK(memcmp(c1, c2, 32) == 0);
    /* the documented construction */
    uint8_t msg[256];
    memcpy(msg, "genie/data-commit/v1", 20);
    msg[20] = 0;
    memcpy(msg + 21, data, n);
    crypto_generichash(expect, 32, msg, 21 + n, salt, 32);
    CHECK(memcmp(c1, expect, 32) == 0);
    /* never the plain hash a guesser could recompute */
    crypto_generichash(plain, 32, (const uint8_t *)data, n, NULL, 0);
    CHECK(memcmp(c1, plain, 32) != 0);
    proto_data_commit(salt2, (const uint8_t *)data, n, c2);
    CHECK(memcmp(c1, c2, 32) != 0);
    proto_data_commit(salt, (const uint8_t *)data, n - 1, c2);
    CHECK(memcmp(c1, c2, 32) != 0);
    proto_data_commit(salt, NULL, 0, c2);
    CHECK(memcmp(c1, c2, 32) != 0);
}

/* Decodes a report; with VERIFY, verifies it as signed by the key CTX. */
static int s_take_report(const uint8_t *b, size_t len, bool verify, const void *ctx)
{
    proto_report_t d;
    int rc = proto_report_decode(b, len, &d);
    if (rc == PROTO_OK && verify)
        rc = proto_report_verify(&d, ctx);
    return rc;
}

/* Decodes a receipt; with VERIFY, verifies it as signed by the key CTX. */
static int s_take_receipt(const uint8_t *b, size_t len, bool verify, const void *ctx)
{
    proto_receipt_t d;
    int rc = proto_receipt_decode(b, len, &d);
    if (rc == PROTO_OK && verify)
        rc = proto_receipt_verify(&d, ctx);
    return rc;
}

static proto_report_t s_report(const uint8_t sk[64])
{
    proto_report_t r = {.data_type = PROTO_DATA_GENOTYPE,
                        .record_count = 638531,
                        .checks_run = 14,
                        .checks_passed = 13,
                        .time_ms = 1765000000000ull};
    uint8_t salt[32];
    enclave_testutil_bytes("salt", salt, 32);
    proto_data_commit(salt, (const uint8_t *)"data", 4, r.data_commitment);
    CHECK_EQ(proto_report_sign(&r, sk), PROTO_OK);
    return r;
}

static void test_report(void)
{
    uint8_t pk[32], sk[64], pk2[32], sk2[64];
    s_signer("enclave", pk, sk);
    s_signer("other-enclave", pk2, sk2);
    proto_report_t r = s_report(sk), t, d;
    CHECK_EQ(r.version, PROTO_REPORT_VERSION);
    CHECK(memcmp(r.enclave_pk, pk, 32) == 0);
    CHECK_EQ(proto_report_verify(&r, NULL), PROTO_OK);
    CHECK_EQ(proto_report_verify(&r, pk), PROTO_OK);
    CHECK_EQ(proto_report_verify(&r, pk2), ENCLAVE_E_SIGNER_MISMATCH);

    /* each field changed */
    t = r;
    t.enclave_pk[0] ^= 1;
    CHECK_EQ(proto_report_verify(&t, NULL), ENCLAVE_E_REPORT_BAD_SIG);
    t = r;
    t.data_commitment[31] ^= 1;
    CHECK_EQ(proto_report_verify(&t, pk), ENCLAVE_E_REPORT_BAD_SIG);
    t = r;
    t.data_type = PROTO_DATA_PHENOTYPE;
    CHECK_EQ(proto_report_verify(&t, pk), ENCLAVE_E_REPORT_BAD_SIG);
    t = r;
    t.record_count++;
    CHECK_EQ(proto_report_verify(&t, pk), ENCLAVE_E_REPORT_BAD_SIG);
    t = r;
    t.checks_run++;
    CHECK_EQ(proto_report_verify(&t, pk), ENCLAVE_E_REPORT_BAD_SIG);
    t = r;
    t.checks_passed++;
    CHECK_EQ(proto_report_verify(&t, pk), ENCLAVE_E_REPORT_BAD_SIG);
    t = r;
    t.time_ms--;
    CHECK_EQ(proto_report_verify(&t, pk), ENCLAVE_E_REPORT_BAD_SIG);
    t = r;
    t.sig[10] ^= 4;
    CHECK_EQ(proto_report_verify(&t, pk), ENCLAVE_E_REPORT_BAD_SIG);
    t = r;
    t.version = 2;
    CHECK_EQ(proto_report_verify(&t, pk), PROTO_E_VERSION);
    /* re-signed by another enclave: verifies, but not as the expected one */
    t = r;
    CHECK_EQ(proto_report_sign(&t, sk2), PROTO_OK);
    CHECK_EQ(proto_report_verify(&t, NULL), PROTO_OK);
    CHECK_EQ(proto_report_verify(&t, pk), ENCLAVE_E_SIGNER_MISMATCH);
    /* signing refuses fields out of their domain */
    t = r;
    t.data_type = 3;
    CHECK_EQ(proto_report_sign(&t, sk), PROTO_E_INVALID);
    t.data_type = 0;
    CHECK_EQ(proto_report_sign(&t, sk), PROTO_E_INVALID);
    t = r;
    t.checks_passed = t.checks_run + 1;
    CHECK_EQ(proto_report_sign(&t, sk), PROTO_E_INVALID);

    /* encoding: identity, truncation, every bit flip, trailing, oversize */
    uint8_t *b = NULL, *again = NULL;
    size_t len = 0, alen = 0;
    CHECK_EQ(proto_report_encode(&r, &b, &len), PROTO_OK);
    CHECK(len <= PROTO_REPORT_MAX_BYTES);
    CHECK_EQ(proto_report_decode(b, len, &d), PROTO_OK);
    CHECK(memcmp(&d, &r, sizeof d) == 0);
    CHECK_EQ(proto_report_encode(&d, &again, &alen), PROTO_OK);
    CHECK(alen == len && memcmp(again, b, len) == 0);
    free(again);
    CHECK_EQ(enclave_testutil_prefixes_accepted(b, len, s_take_report, pk), 0);
    CHECK_EQ(enclave_testutil_flips_accepted(b, len, s_take_report, pk), 0);
    int bounds[2];
    enclave_testutil_bounds(b, len, PROTO_REPORT_MAX_BYTES, s_take_report, pk, bounds);
    CHECK_EQ(bounds[0], PROTO_E_TRAILING);
    CHECK_EQ(bounds[1], PROTO_E_TOO_BIG);
    free(b);

    /* arity, version, domains (written by hand: the signer refuses them) */
    struct {
        uint32_t arity;
        uint64_t version, type, run, passed;
        int want;
    } cases[] = {
        {9, 1, 1, 5, 5, PROTO_OK},
        {8, 1, 1, 5, 5, PROTO_E_ARITY},
        {10, 1, 1, 5, 5, PROTO_E_ARITY},
        {9, 2, 1, 5, 5, PROTO_E_VERSION},
        {9, 1, 0, 5, 5, PROTO_E_INVALID},
        {9, 1, 3, 5, 5, PROTO_E_INVALID},
        {9, 1, 256, 5, 5, PROTO_E_RANGE},
        {9, 1, 2, 5, 6, PROTO_E_INVALID},
        {9, 1, 2, 1ull << 32, 0, PROTO_E_RANGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proto_wr_t w;
        proto_wr_init(&w);
        proto_wr_array(&w, cases[i].arity);
        proto_wr_uint(&w, cases[i].version);
        proto_wr_bin(&w, pk, 32);
        proto_wr_bin(&w, pk, 32);
        proto_wr_uint(&w, cases[i].type);
        proto_wr_uint(&w, 7);
        proto_wr_uint(&w, cases[i].run);
        proto_wr_uint(&w, cases[i].passed);
        proto_wr_uint(&w, 1);
        if (cases[i].arity >= 9)
            proto_wr_bin(&w, sk, 64); /* any 64 bytes */
        for (uint32_t k = 9; k < cases[i].arity; k++)
            proto_wr_nil(&w);
        size_t n;
        const uint8_t *p = proto_wr_data(&w, &n);
        int rc = proto_report_decode(p, n, &d);
        CHECK_EQ(rc, cases[i].want);
        if (rc != cases[i].want)
            fprintf(stderr, "  case %zu: got %d (%s)\n", i, rc, proto_err_str(rc));
        proto_wr_free(&w);
    }
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(sk2, sizeof sk2);
}

static void test_receipt(void)
{
    uint8_t pk[32], sk[64], pk2[32], sk2[64];
    s_signer("enclave", pk, sk);
    s_signer("other-enclave", pk2, sk2);
    proto_receipt_t r = {.time_ms = 1765000000123ull}, t, d;
    enclave_testutil_bytes("spec", r.spec_id, 32);
    enclave_testutil_bytes("data-id", r.data_id, 32);
    enclave_testutil_bytes("donor", r.donor, 32);
    enclave_testutil_bytes("commitment", r.data_commitment, 32);
    CHECK_EQ(proto_receipt_sign(&r, sk), PROTO_OK);
    CHECK(memcmp(r.enclave_pk, pk, 32) == 0 && r.version == PROTO_RECEIPT_VERSION);
    CHECK_EQ(proto_receipt_verify(&r, pk), PROTO_OK);
    CHECK_EQ(proto_receipt_verify(&r, NULL), PROTO_OK);
    CHECK_EQ(proto_receipt_verify(&r, pk2), ENCLAVE_E_SIGNER_MISMATCH);

    uint8_t *fields[] = {r.enclave_pk, r.spec_id, r.data_id, r.donor, r.data_commitment};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        t = r;
        uint8_t *tf = (uint8_t *)&t + (fields[f] - (uint8_t *)&r);
        for (size_t i = 0; i < 32; i += 13) {
            tf[i] ^= 0x40;
            CHECK_EQ(proto_receipt_verify(&t, NULL), ENCLAVE_E_REPORT_BAD_SIG);
            tf[i] ^= 0x40;
        }
    }
    t = r;
    t.time_ms++;
    CHECK_EQ(proto_receipt_verify(&t, pk), ENCLAVE_E_REPORT_BAD_SIG);
    t = r;
    t.sig[0] ^= 1;
    CHECK_EQ(proto_receipt_verify(&t, pk), ENCLAVE_E_REPORT_BAD_SIG);
    t = r;
    t.version = 0;
    CHECK_EQ(proto_receipt_verify(&t, pk), PROTO_E_VERSION);

    /* domain separation: a report's signature over the same bytes is not a receipt's */
    uint8_t hr[32], hc[32];
    proto_report_t rep = s_report(sk);
    proto_report_signing_hash(&rep, hr);
    proto_receipt_signing_hash(&r, hc);
    CHECK(memcmp(hr, hc, 32) != 0);
    t = r;
    memcpy(t.sig, rep.sig, 64);
    CHECK_EQ(proto_receipt_verify(&t, pk), ENCLAVE_E_REPORT_BAD_SIG);

    uint8_t *b = NULL, *again = NULL;
    size_t len = 0, alen = 0;
    CHECK_EQ(proto_receipt_encode(&r, &b, &len), PROTO_OK);
    CHECK(len <= PROTO_REPORT_MAX_BYTES);
    CHECK_EQ(proto_receipt_decode(b, len, &d), PROTO_OK);
    CHECK(memcmp(&d, &r, sizeof d) == 0);
    CHECK_EQ(proto_receipt_encode(&d, &again, &alen), PROTO_OK);
    CHECK(alen == len && memcmp(again, b, len) == 0);
    free(again);
    proto_report_t as_report;
    CHECK_EQ(proto_report_decode(b, len, &as_report), PROTO_E_ARITY);
    CHECK_EQ(enclave_testutil_prefixes_accepted(b, len, s_take_receipt, pk), 0);
    CHECK_EQ(enclave_testutil_flips_accepted(b, len, s_take_receipt, pk), 0);
    int bounds[2];
    enclave_testutil_bounds(b, len, PROTO_REPORT_MAX_BYTES, s_take_receipt, pk, bounds);
    CHECK_EQ(bounds[0], PROTO_E_TRAILING);
    CHECK_EQ(bounds[1], PROTO_E_TOO_BIG);
    /* wrong arity, version, a short id */
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 7);
    proto_wr_uint(&w, 1);
    for (int i = 0; i < 5; i++)
        proto_wr_bin(&w, pk, 32);
    proto_wr_uint(&w, 1);
    size_t n;
    const uint8_t *p = proto_wr_data(&w, &n);
    CHECK_EQ(proto_receipt_decode(p, n, &d), PROTO_E_ARITY);
    proto_wr_free(&w);
    b[1] = 0x02; /* version 2 (fixarray, then the version as a fixint) */
    CHECK_EQ(proto_receipt_decode(b, len, &d), PROTO_E_VERSION);
    b[1] = 0x01;
    proto_wr_init(&w);
    proto_wr_array(&w, 8);
    proto_wr_uint(&w, 1);
    proto_wr_bin(&w, pk, 32);
    proto_wr_bin(&w, pk, 31);
    p = proto_wr_data(&w, &n);
    CHECK(proto_receipt_decode(p, n, &d) != PROTO_OK);
    proto_wr_free(&w);
    free(b);

    /* the reader form inside a larger message */
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_receipt_write(&w, &r);
    proto_report_write(&w, &rep);
    p = proto_wr_data(&w, &n);
    proto_rd_t rd;
    proto_rd_init(&rd, p, n);
    CHECK_EQ(proto_rd_array_exact(&rd, 2), PROTO_OK);
    CHECK_EQ(proto_receipt_read(&rd, &d), PROTO_OK);
    CHECK_EQ(proto_report_read(&rd, &as_report), PROTO_OK);
    CHECK_EQ(proto_rd_finish(&rd), PROTO_OK);
    CHECK(memcmp(&d, &r, sizeof d) == 0 && memcmp(&as_report, &rep, sizeof rep) == 0);
    proto_wr_free(&w);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(sk2, sizeof sk2);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    enclave_testutil_seed_init();
    test_commit();
    test_report();
    test_receipt();
    return testutil_done("test_proto_report");
}
