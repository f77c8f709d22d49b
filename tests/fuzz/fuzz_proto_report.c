/*  fuzz_proto_report: libFuzzer harness for the validation report and donation receipt
 *  decoders (proto/proto_report.h).
 *
 *  The whole input is tried as a report and as a receipt (the two have different arities,
 *  so at most one decoder can accept it). Each decoder must not crash and must return
 *  PROTO_OK or a reader code, leaving a zeroed struct on error. When one succeeds: the
 *  input is at most PROTO_REPORT_MAX_BYTES; the report's fields are in their domains;
 *  re-encoding gives the input back byte for byte; and verification (with and without an
 *  expected signer) answers 0 or one of its documented codes. A broken invariant aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_report.h"
#include "proto/proto_key.h"
#include "tests/fuzz/fuzz_enclave_util.h"

static bool s_verify_code_ok(int rc)
{
    return rc == PROTO_OK || rc == ENCLAVE_E_REPORT_BAD_SIG || rc == ENCLAVE_E_SIGNER_MISMATCH;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();
    static const uint8_t other_pk[32] = {1, 2, 3};
    uint8_t *again = NULL;
    size_t n = 0;

    proto_report_t r;
    int rc = proto_report_decode(data, size, &r);
    fuzz_require(fuzz_enclave_decode_rc_ok(rc), "report decoder returned a stray code");
    bool report_ok = rc == PROTO_OK;
    fuzz_enclave_require_wiped(rc, &r, sizeof r);
    if (report_ok) {
        fuzz_require(size <= PROTO_REPORT_MAX_BYTES, "oversized report accepted");
        fuzz_require(r.data_type == PROTO_DATA_GENOTYPE || r.data_type == PROTO_DATA_PHENOTYPE,
                     "data type out of its domain");
        fuzz_require(r.checks_passed <= r.checks_run, "more checks passed than run");
        fuzz_require(proto_report_encode(&r, &again, &n) == PROTO_OK, "report re-encoding");
        fuzz_require_same(again, n, data, size);
        free(again);
        fuzz_require(s_verify_code_ok(proto_report_verify(&r, NULL)), "report verify code");
        fuzz_require(s_verify_code_ok(proto_report_verify(&r, r.enclave_pk)), "verify code");
        rc = proto_report_verify(&r, other_pk);
        fuzz_require(rc == ENCLAVE_E_SIGNER_MISMATCH ||
                         (rc == PROTO_OK && !memcmp(other_pk, r.enclave_pk, 32)),
                     "a report verified for another signer");
    }

    proto_receipt_t c;
    rc = proto_receipt_decode(data, size, &c);
    fuzz_require(fuzz_enclave_decode_rc_ok(rc), "receipt decoder returned a stray code");
    fuzz_enclave_require_wiped(rc, &c, sizeof c);
    if (rc != PROTO_OK)
        return 0;
    fuzz_require(!report_ok, "one input decoded as both a report and a receipt");
    fuzz_require(size <= PROTO_REPORT_MAX_BYTES, "oversized receipt accepted");
    fuzz_require(proto_receipt_encode(&c, &again, &n) == PROTO_OK, "receipt re-encoding");
    fuzz_require_same(again, n, data, size);
    free(again);
    fuzz_require(s_verify_code_ok(proto_receipt_verify(&c, NULL)), "receipt verify code");
    rc = proto_receipt_verify(&c, other_pk);
    fuzz_require(rc == ENCLAVE_E_SIGNER_MISMATCH ||
                     (rc == PROTO_OK && !memcmp(other_pk, c.enclave_pk, 32)),
                 "a receipt verified for another signer");
    return 0;
}
