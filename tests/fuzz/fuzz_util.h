/*  fuzz_util: what every harness under tests/fuzz/ shares: the invariant check that aborts
 *  (how a harness reports a bug to libFuzzer and to the corpus replay), the round-trip
 *  check for canonical decoders, the decoder-return check, and the dispatch of one input to
 *  one of several decoders by its first byte. Header-only, included once per harness.
 */
#ifndef GENIE_FUZZ_UTIL_H
#define GENIE_FUZZ_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*  Aborts with WHAT when OK is false: an invariant of the code under test broke. */
static inline void fuzz_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz: invariant broken: %s\n", what);
        abort();
    }
}

/*  A strict proto decoder may refuse input only with a wire-format code, and never with
 *  one it has no cause for (a bad signature, a version or a type it did not check). */
static inline void fuzz_require_decoder_rc(int rc)
{
    fuzz_require(rc <= PROTO_OK && rc >= PROTO_E_INVALID, "decoder returned a stray value");
    fuzz_require(rc != PROTO_E_BAD_SIG && rc != PROTO_E_VERSION && rc != PROTO_E_UNKNOWN_TYPE,
                 "decoder returned an error it has no cause for");
}

/*  AGAIN[0..N) (a re-encoding of what was decoded from BODY) must be BODY itself:
 *  a decoder that accepts a non-canonical encoding would let two byte strings mean one
 *  signed value. */
static inline void fuzz_require_same(const uint8_t *again, size_t n, const uint8_t *body,
                                     size_t len)
{
    fuzz_require(again != NULL, "re-encoding failed");
    fuzz_require(n == len && (len == 0 || memcmp(again, body, len) == 0),
                 "encode(decode(b)) != b: a non-canonical encoding was accepted");
}

/*  One decoder under test: returns PROTO_OK or the decoder's error code. */
typedef int(fuzz_case_fn)(const uint8_t *body, size_t len);

/*  Hands DATA[1..SIZE) to CASES[DATA[0] % N] and returns its code (PROTO_OK for an empty
 *  input). */
static inline int fuzz_dispatch(const uint8_t *data, size_t size, fuzz_case_fn *const *cases,
                                size_t n)
{
    if (size == 0 || n == 0)
        return PROTO_OK;
    return cases[data[0] % n](data + 1, size - 1);
}

#endif
