/*  fuzz_attest_quote: libFuzzer harness for the quote decoder (proto/proto_attest.h)
 *  and the certificate reader it embeds.
 *
 *  The whole input is a quote. For any input the decoder must not crash and must return
 *  PROTO_OK or a reader code, leaving a zeroed quote on error. When it succeeds: the input
 *  is at most PROTO_ATTEST_QUOTE_MAX_BYTES; re-encoding gives the input back byte for byte
 *  (only canonical encodings are accepted); the embedded certificate, if any, re-encodes
 *  alone too; and the quote runs through proto_attest_quote_verify under a fixed AS key and two
 *  policies (one wanting nothing, one wanting a measurement and nonce with revocation
 *  lists and a callback), which must answer 0 or one of the documented codes. A broken
 *  invariant calls abort(), which libFuzzer (and tests/fuzz/replay_main.c) report.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "tests/fuzz/fuzz_enclave_util.h"

static bool s_verify_code_ok(int rc)
{
    return rc == PROTO_OK || rc == PROTO_E_VERSION ||
           (rc <= ENCLAVE_E_BAD_SIG && rc >= ENCLAVE_E_STALE);
}

static bool s_revoked_cb(void *ctx, int what, const uint8_t id[static 32])
{
    (void)ctx;
    return what == PROTO_ATTEST_REVOKED_MEASUREMENT && id[0] == 0xee;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();
    proto_attest_quote_t q;
    int rc = proto_attest_quote_decode(data, size, &q);
    fuzz_require(fuzz_enclave_decode_rc_ok(rc), "decoder returned a stray code");
    fuzz_enclave_require_wiped(rc, &q, sizeof q);
    if (rc != PROTO_OK)
        return 0;
    fuzz_require(size <= PROTO_ATTEST_QUOTE_MAX_BYTES, "oversized quote accepted");
    fuzz_require(q.version == PROTO_ATTEST_QUOTE_VERSION, "unknown version accepted");

    uint8_t *again = NULL;
    size_t n = 0;
    fuzz_require(proto_attest_quote_encode(&q, &again, &n) == PROTO_OK, "re-encoding failed");
    fuzz_require_same(again, n, data, size);
    free(again);
    if (q.has_cert) {
        proto_attest_cert_t c;
        fuzz_require(proto_attest_cert_encode(&q.cert, &again, &n) == PROTO_OK, "cert re-encoding");
        fuzz_require(proto_attest_cert_decode(again, n, &c) == PROTO_OK &&
                         memcmp(&c, &q.cert, sizeof c) == 0,
                     "certificate does not round-trip");
        free(again);
    }

    static const uint8_t as_pk[32] = {0x3b, 0x6a, 0x27, 0xbc, 0xce, 0xb6, 0xa4, 0x2d,
                                      0x62, 0xa3, 0xa8, 0xd0, 0x2a, 0x6f, 0x0d, 0x73,
                                      0x65, 0x32, 0x15, 0x77, 0x1d, 0xe2, 0x43, 0xa6,
                                      0x3a, 0xc0, 0x48, 0xa1, 0x8b, 0x59, 0xda, 0x29};
    char err[160];
    proto_attest_policy_t any = {.now_ms = q.time_ms};
    rc = proto_attest_quote_verify(&q, as_pk, &any, err, sizeof err);
    fuzz_require(s_verify_code_ok(rc), "verify returned a stray code");
    if (q.has_cert)
        rc = proto_attest_quote_verify(&q, q.cert.platform_pk, &any, err, sizeof err);
    fuzz_require(s_verify_code_ok(rc), "verify returned a stray code");

    uint8_t revoked[2][32];
    memset(revoked, 0xab, sizeof revoked);
    uint8_t want[32] = {0};
    proto_attest_policy_t strict = {.want_measurement = want,
                                    .want_nonce = q.body.nonce,
                                    .now_ms = q.cert.issued_ms,
                                    .max_age_ms = 1000,
                                    .max_skew_ms = 10,
                                    .revoked_platforms = (const uint8_t(*)[32])revoked,
                                    .n_revoked_platforms = 2,
                                    .revoked_measurements = (const uint8_t(*)[32])revoked,
                                    .n_revoked_measurements = 2,
                                    .is_revoked = s_revoked_cb};
    rc = proto_attest_quote_verify(&q, as_pk, &strict, err, sizeof err);
    fuzz_require(s_verify_code_ok(rc), "verify returned a stray code");
    uint8_t h[32];
    proto_attest_quote_signing_hash(&q, h);
    return 0;
}
