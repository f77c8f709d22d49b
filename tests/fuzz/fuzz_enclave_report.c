/*  fuzz_enclave_report: libFuzzer harness for the validation report and donation receipt
 *  decoders (enclave/enclave_report.h).
 *
 *  The whole input is tried as a report and as a receipt (the two have different arities,
 *  so at most one decoder can accept it). Each decoder must not crash and must return
 *  PROTO_OK or a reader code, leaving a zeroed struct on error. When one succeeds: the
 *  input is at most ENCLAVE_REPORT_MAX_BYTES; the report's fields are in their domains;
 *  re-encoding gives the input back byte for byte; and verification (with and without an
 *  expected signer) answers 0 or one of its documented codes. A broken invariant aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_report.h"
#include "proto/proto_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_enclave_report: invariant broken: %s\n", what);
        abort();
    }
}

static bool s_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static bool s_decode_code_ok(int rc)
{
    return rc <= PROTO_OK && rc >= PROTO_E_INVALID && rc != PROTO_E_BAD_SIG &&
           rc != PROTO_E_UNKNOWN_TYPE && rc != PROTO_E_NOMEM;
}

static bool s_verify_code_ok(int rc)
{
    return rc == PROTO_OK || rc == ENCLAVE_E_REPORT_BAD_SIG || rc == ENCLAVE_E_SIGNER_MISMATCH;
}

static void s_check_bytes(const uint8_t *again, size_t n, const uint8_t *data, size_t size)
{
    s_require(again != NULL, "re-encoding failed");
    s_require(n == size && memcmp(again, data, size) == 0,
              "encode(decode(b)) != b: a non-canonical encoding was accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();
    static const uint8_t other_pk[32] = {1, 2, 3};
    uint8_t *again = NULL;
    size_t n = 0;

    enclave_report_t r;
    int rc = enclave_report_decode(data, size, &r);
    s_require(s_decode_code_ok(rc), "report decoder returned a stray code");
    bool report_ok = rc == PROTO_OK;
    if (!report_ok) {
        s_require(s_zero(&r, sizeof r), "report fields left behind after an error");
    } else {
        s_require(size <= ENCLAVE_REPORT_MAX_BYTES, "oversized report accepted");
        s_require(r.data_type == ENCLAVE_DATA_GENOTYPE || r.data_type == ENCLAVE_DATA_PHENOTYPE,
                  "data type out of its domain");
        s_require(r.checks_passed <= r.checks_run, "more checks passed than run");
        s_require(enclave_report_encode(&r, &again, &n) == PROTO_OK, "report re-encoding");
        s_check_bytes(again, n, data, size);
        free(again);
        s_require(s_verify_code_ok(enclave_report_verify(&r, NULL)), "report verify code");
        s_require(s_verify_code_ok(enclave_report_verify(&r, r.enclave_pk)), "verify code");
        rc = enclave_report_verify(&r, other_pk);
        s_require(rc == ENCLAVE_E_SIGNER_MISMATCH ||
                      (rc == PROTO_OK && !memcmp(other_pk, r.enclave_pk, 32)),
                  "a report verified for another signer");
    }

    enclave_receipt_t c;
    rc = enclave_receipt_decode(data, size, &c);
    s_require(s_decode_code_ok(rc), "receipt decoder returned a stray code");
    if (rc != PROTO_OK) {
        s_require(s_zero(&c, sizeof c), "receipt fields left behind after an error");
        return 0;
    }
    s_require(!report_ok, "one input decoded as both a report and a receipt");
    s_require(size <= ENCLAVE_REPORT_MAX_BYTES, "oversized receipt accepted");
    s_require(enclave_receipt_encode(&c, &again, &n) == PROTO_OK, "receipt re-encoding");
    s_check_bytes(again, n, data, size);
    free(again);
    s_require(s_verify_code_ok(enclave_receipt_verify(&c, NULL)), "receipt verify code");
    rc = enclave_receipt_verify(&c, other_pk);
    s_require(rc == ENCLAVE_E_SIGNER_MISMATCH ||
                  (rc == PROTO_OK && !memcmp(other_pk, c.enclave_pk, 32)),
              "a receipt verified for another signer");
    return 0;
}
