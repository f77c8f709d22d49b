/*  fuzz_enclave_util: what the attestation format harnesses (fuzz_attest_cert, _quote,
 *  fuzz_proto_report) share on top of fuzz_util.h: the zeroed-after-error check and the set of
 * codes an enclave/ decoder may refuse input with. Header-only, included once per harness. */
#ifndef GENIE_FUZZ_ENCLAVE_UTIL_H
#define GENIE_FUZZ_ENCLAVE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "proto/proto_err.h"

/*  True when all N bytes at P are zero. */
static inline bool fuzz_enclave_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/*  An enclave/ decoder refuses input only with a reader code (a wrong version included:
 *  these formats check it), never with a signature, type or allocation failure. */
static inline bool fuzz_enclave_decode_rc_ok(int rc)
{
    return rc <= PROTO_OK && rc >= PROTO_E_INVALID && rc != PROTO_E_BAD_SIG &&
           rc != PROTO_E_UNKNOWN_TYPE && rc != PROTO_E_NOMEM;
}

/*  A decode that failed with RC left OUT (SIZE bytes) all zero. */
static inline void fuzz_enclave_require_wiped(int rc, const void *out, size_t size)
{
    fuzz_require(rc == PROTO_OK || fuzz_enclave_zero(out, size),
                 "fields left behind after an error");
}

#endif
