/*  fuzz_proto_recruit: libFuzzer harness for the recruitment post decoder
 *  (proto/proto_recruit.h).
 *
 *  The whole input is decoded as a post. The decoder must not crash and must return
 *  PROTO_OK or a reader code, leaving a zeroed struct on error. When it succeeds: the input
 *  is at most PROTO_RECRUIT_MAX_BYTES; the note is acceptable text; re-encoding gives the
 *  input back byte for byte; verification answers 0 or PROTO_E_BAD_SIG, and a post that
 *  verifies no longer does once its time changes. Then the input's first bytes are tried
 *  as a note (up to the first NUL): a fixed key signs it exactly when proto_recruit_note_ok
 *  accepts it, and what it signs encodes, decodes and verifies. A broken invariant aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_key.h"
#include "proto/proto_recruit.h"
#include "tests/fuzz/fuzz_enclave_util.h"

static void s_as_note(const uint8_t *data, size_t size)
{
    static proto_key_t *key;
    if (!key) {
        uint8_t seed[32] = {7};
        key = proto_key_from_seed(seed);
        fuzz_require(key != NULL, "key");
    }
    proto_recruit_t r, d;
    memset(&r, 0, sizeof r);
    size_t n = size < PROTO_RECRUIT_NOTE_MAX ? size : PROTO_RECRUIT_NOTE_MAX;
    memcpy(r.note, data, n);
    size_t used = strlen(r.note); /* nothing after the note's end: a decoded post has none */
    memset(r.note + used, 0, sizeof r.note - used);
    r.time_ms = 1765000000000ull;
    /* the note is what comes before the first NUL, as the signer reads it */
    bool ok = proto_recruit_note_ok(r.note, strlen(r.note));
    int rc = proto_recruit_sign(&r, key);
    fuzz_require((rc == PROTO_OK) == ok, "signer and note_ok disagree");
    if (rc != PROTO_OK)
        return;
    uint8_t *b = NULL;
    size_t len = 0;
    fuzz_require(proto_recruit_encode(&r, &b, &len) == PROTO_OK, "encode a signed post");
    fuzz_require(len <= PROTO_RECRUIT_MAX_BYTES, "a signed post over the bound");
    fuzz_require(proto_recruit_decode(b, len, &d) == PROTO_OK, "a signed post does not decode");
    fuzz_require(proto_recruit_verify(&d) == PROTO_OK, "a signed post does not verify");
    fuzz_require(memcmp(&d, &r, sizeof d) == 0, "decode(encode(post)) != post");
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();
    proto_recruit_t r;
    int rc = proto_recruit_decode(data, size, &r);
    fuzz_require(fuzz_enclave_decode_rc_ok(rc), "decoder returned a stray code");
    fuzz_enclave_require_wiped(rc, &r, sizeof r);
    if (rc == PROTO_OK) {
        fuzz_require(size <= PROTO_RECRUIT_MAX_BYTES, "oversized post accepted");
        fuzz_require(proto_recruit_note_ok(r.note, strlen(r.note)), "a bad note accepted");
        uint8_t *again = NULL;
        size_t n = 0;
        fuzz_require(proto_recruit_encode(&r, &again, &n) == PROTO_OK, "re-encoding");
        fuzz_require_same(again, n, data, size);
        free(again);
        rc = proto_recruit_verify(&r);
        fuzz_require(rc == PROTO_OK || rc == PROTO_E_BAD_SIG, "verify code");
        if (rc == PROTO_OK) {
            r.time_ms ^= 1;
            fuzz_require(proto_recruit_verify(&r) == PROTO_E_BAD_SIG, "time not signed");
        }
    }
    s_as_note(data, size);
    return 0;
}
