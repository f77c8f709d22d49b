/*  fuzz_enclave_blob: libFuzzer harness for the data blob opener (enclave/enclave_blob.h),
 *  which runs inside a training enclave on bytes a runner fetched from a data owner.
 *
 *  The first input byte picks the case, the rest is BODY:
 *  - even: BODY is a blob opened under a fixed key. The opener must not crash and must
 *    return 0, ENCLAVE_E_BLOB or ENCLAVE_E_BLOB_DECRYPT (nothing else), leave nothing behind
 *    on error, agree with enclave_blob_peek_len on the size rule, and, when it opens,
 *    give exactly the declared length; that plaintext sealed again must open again to
 *    itself (the corpus holds real blobs under the fixed key, so libFuzzer starts from
 *    authentic streams and mutates them).
 *  - odd: round-trip property. BODY's first two bytes (if any) choose a length up to
 *    3 chunks and a flip position; the plaintext is BODY repeated to that length. Sealing
 *    then opening gives the plaintext back, and the blob with one bit flipped, one byte cut
 *    or one byte added is refused.
 *  A broken invariant calls abort().
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_blob.h"
#include "tests/fuzz/fuzz_util.h"

/* The fixed key of the corpus (tests/fuzz/gen_keyed_corpus.c writes blobs under it). */
static const uint8_t s_key[32] = {'g', 'e', 'n', 'i', 'e', '-', 'f', 'u', 'z', 'z', '-',
                                  'b', 'l', 'o', 'b', '-', 'k', 'e', 'y', '-', '0', '0',
                                  '0', '0', '0', '0', '0', '0', '0', '0', '0', '1'};

static void s_reseal(const uint8_t *plain, size_t len)
{
    uint8_t *blob = NULL, *again = NULL;
    size_t blen = 0, alen = 0;
    fuzz_require(enclave_blob_seal(s_key, plain, len, &blob, &blen) == PROTO_OK, "seal failed");
    fuzz_require(blen == enclave_blob_sealed_len(len), "sealed length");
    fuzz_require(enclave_blob_open(s_key, blob, blen, &again, &alen) == PROTO_OK,
                 "own blob does not open");
    fuzz_require(alen == len && (len == 0 || memcmp(again, plain, len) == 0), "round trip");
    enclave_blob_plain_free(again);
    free(blob);
}

static void s_open_case(const uint8_t *body, size_t len)
{
    uint8_t *plain = (uint8_t *)1;
    size_t plen = 1;
    uint64_t declared = 0;
    int prc = enclave_blob_peek_len(body, len, &declared);
    int rc = enclave_blob_open(s_key, body, len, &plain, &plen);
    fuzz_require(rc == PROTO_OK || rc == ENCLAVE_E_BLOB || rc == ENCLAVE_E_BLOB_DECRYPT,
                 "opener returned a stray code");
    fuzz_require((prc == PROTO_OK) == (rc != ENCLAVE_E_BLOB), "peek and open disagree on format");
    if (rc != PROTO_OK) {
        fuzz_require(plain == NULL && plen == 0, "left behind after an error");
        return;
    }
    fuzz_require(plain != NULL && (uint64_t)plen == declared, "length not the declared one");
    s_reseal(plain, plen);
    enclave_blob_plain_free(plain);
}

static void s_round_trip_case(const uint8_t *body, size_t len)
{
    size_t want = len;
    size_t flip = 0;
    if (len >= 2) {
        want = ((size_t)body[0] * 257u + body[1]) * 3u; /* up to ~197 KB: 4 chunks */
        flip = (size_t)body[1] * 131u + body[0];
        body += 2;
        len -= 2;
    }
    if (len == 0)
        want = 0;
    uint8_t *plain = malloc(want ? want : 1);
    fuzz_require(plain != NULL, "out of memory");
    for (size_t i = 0; i < want; i++)
        plain[i] = body[i % len];
    s_reseal(plain, want);

    uint8_t *blob = NULL, *out = NULL;
    size_t blen = 0, olen = 0;
    fuzz_require(enclave_blob_seal(s_key, plain, want, &blob, &blen) == PROTO_OK, "seal");
    size_t at = flip % blen;
    blob[at] ^= (uint8_t)(1u << (flip % 8));
    fuzz_require(enclave_blob_open(s_key, blob, blen, &out, &olen) != PROTO_OK && out == NULL,
                 "a flipped bit was accepted");
    blob[at] ^= (uint8_t)(1u << (flip % 8));
    fuzz_require(enclave_blob_open(s_key, blob, blen - 1, &out, &olen) == ENCLAVE_E_BLOB,
                 "a truncated blob was accepted");
    uint8_t *longer = realloc(blob, blen + 1);
    fuzz_require(longer != NULL, "out of memory");
    blob = longer;
    blob[blen] = 0x5a;
    fuzz_require(enclave_blob_open(s_key, blob, blen + 1, &out, &olen) == ENCLAVE_E_BLOB,
                 "trailing bytes were accepted");
    free(blob);
    free(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        abort();
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        s_open_case(data + 1, size - 1);
    else
        s_round_trip_case(data + 1, size - 1);
    return 0;
}
