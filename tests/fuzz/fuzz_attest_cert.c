/*  fuzz_attest_cert: libFuzzer harness for the platform certificate decoder
 *  (proto/proto_attest.h).
 *
 *  The whole input is a certificate. For any input the decoder must not crash and must
 *  return PROTO_OK or a reader code, leaving a zeroed certificate on error. When it
 *  succeeds: the input is at most PROTO_ATTEST_CERT_MAX_BYTES; the name is 1..64 bytes without
 *  control characters; expires_ms > issued_ms; re-encoding gives the input back byte for
 *  byte; and verification under a fixed AS key at several times answers 0 or one of its
 *  documented codes. A broken invariant calls abort().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "tests/fuzz/fuzz_enclave_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();
    proto_attest_cert_t c;
    int rc = proto_attest_cert_decode(data, size, &c);
    fuzz_require(fuzz_enclave_decode_rc_ok(rc), "decoder returned a stray code");
    fuzz_enclave_require_wiped(rc, &c, sizeof c);
    if (rc != PROTO_OK)
        return 0;
    fuzz_require(size <= PROTO_ATTEST_CERT_MAX_BYTES, "oversized certificate accepted");
    size_t nlen = strnlen(c.runner_name, sizeof c.runner_name);
    fuzz_require(nlen >= 1 && nlen <= PROTO_ATTEST_RUNNER_NAME_MAX, "name length");
    for (size_t i = 0; i < nlen; i++)
        fuzz_require((unsigned char)c.runner_name[i] >= 0x20 && c.runner_name[i] != 0x7f,
                     "control character in name");
    fuzz_require(c.expires_ms > c.issued_ms, "empty validity window accepted");

    uint8_t *again = NULL;
    size_t n = 0;
    fuzz_require(proto_attest_cert_encode(&c, &again, &n) == PROTO_OK, "re-encoding failed");
    fuzz_require_same(again, n, data, size);
    free(again);

    static const uint8_t as_pk[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
                                      0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
                                      0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
                                      0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    const uint64_t times[] = {0, c.issued_ms, c.expires_ms - 1, c.expires_ms, UINT64_MAX};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        rc = proto_attest_cert_verify(&c, as_pk, times[i], NULL, 0);
        fuzz_require(rc == ENCLAVE_E_CERT_BAD_SIG || rc == ENCLAVE_E_CERT_EXPIRED ||
                         rc == ENCLAVE_E_CERT_NOT_YET_VALID || rc == PROTO_OK,
                     "verify returned a stray code");
    }
    return 0;
}
