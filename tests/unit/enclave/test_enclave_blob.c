/*  test_enclave_blob: the data owner's encrypted blob (enclave_blob).
 *
 *  Shows: a round trip for 0, 1, 64 KiB - 1, 64 KiB, 64 KiB + 1 and 1,000 KiB bytes, each
 *  blob exactly enclave_blob_sealed_len long and two seals of the same data different;
 *  the address is BLAKE2b-256 of the blob. Refused, with their codes: every truncation
 *  of a small blob and a chunk-boundary truncation of a multi-chunk one (ENCLAVE_E_BLOB),
 *  trailing bytes, a changed declared length (with the size left or made to match), a
 *  changed magic or version, every single-bit flip of a small blob, a bit flip in each
 *  chunk of a multi-chunk blob, two chunks swapped, a chunk repeated, a chunk dropped with
 *  the length rewritten to match, a final tag on the first of two chunks or no final tag
 *  (hand-made streams), and another key. Keys and data derive from the printed seed.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_blob.h"
#include "proto/proto_bytes.h"
#include "enclave_testutil.h"
#include "testutil.h"

#define KiB 1024u

/* Opens B and returns its code, freeing any plaintext. */
static int s_open_rc(const uint8_t key[32], const uint8_t *b, size_t len)
{
    uint8_t *p = NULL;
    size_t n = 0;
    int rc = enclave_blob_open(key, b, len, &p, &n);
    if (rc != PROTO_OK)
        CHECK(p == NULL && n == 0);
    enclave_blob_plain_free(p);
    return rc;
}

static void test_round_trip(void)
{
    static const size_t sizes[] = {0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 1000 * KiB};
    uint8_t key[32];
    enclave_testutil_bytes("key", key, sizeof key);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s];
        uint8_t *data = malloc(len ? len : 1);
        REQUIRE(data != NULL);
        enclave_testutil_bytes("data", data, len);
        uint8_t *blob = NULL, *blob2 = NULL;
        size_t blen = 0, blen2 = 0;
        CHECK_EQ(enclave_blob_seal(key, data, len, &blob, &blen), PROTO_OK);
        CHECK_EQ(enclave_blob_seal(key, data, len, &blob2, &blen2), PROTO_OK);
        REQUIRE(blob != NULL && blob2 != NULL);
        CHECK_EQ(blen, enclave_blob_sealed_len(len));
        CHECK_EQ(blen, blen2);
        CHECK(memcmp(blob, blob2, blen) != 0); /* fresh stream header each time */
        uint64_t declared = 99;
        CHECK_EQ(enclave_blob_peek_len(blob, blen, &declared), PROTO_OK);
        CHECK_EQ(declared, (uint64_t)len);
        uint8_t *plain = NULL;
        size_t plen = 7;
        CHECK_EQ(enclave_blob_open(key, blob, blen, &plain, &plen), PROTO_OK);
        CHECK(plain != NULL);
        CHECK_EQ(plen, len);
        CHECK(plain && (len == 0 || memcmp(plain, data, len) == 0));
        enclave_blob_plain_free(plain);
        uint8_t addr[32], want[32];
        enclave_blob_address(blob, blen, addr);
        crypto_generichash(want, 32, blob, blen, NULL, 0);
        CHECK(memcmp(addr, want, 32) == 0);
        free(blob);
        free(blob2);
        free(data);
    }
    CHECK_EQ(enclave_blob_sealed_len(0), (size_t)(ENCLAVE_BLOB_HEADER_LEN + 17));
    CHECK_EQ(enclave_blob_sealed_len(64 * KiB + 1),
             (size_t)(ENCLAVE_BLOB_HEADER_LEN + 64 * KiB + 1 + 2 * 17));
    CHECK_EQ(enclave_blob_sealed_len(ENCLAVE_BLOB_MAX_PLAIN + 1), (size_t)0);
    uint8_t *out = (uint8_t *)1;
    size_t out_len = 1;
    CHECK_EQ(enclave_blob_seal(key, NULL, (size_t)ENCLAVE_BLOB_MAX_PLAIN + 1, &out, &out_len),
             ENCLAVE_E_BLOB);
    CHECK(out == NULL && out_len == 0);
    sodium_memzero(key, sizeof key);
}

static void test_small_blob_refusals(void)
{
    uint8_t key[32], other[32], data[100];
    enclave_testutil_bytes("key", key, sizeof key);
    enclave_testutil_bytes("other key", other, sizeof other);
    enclave_testutil_bytes("small", data, sizeof data);
    uint8_t *blob = NULL;
    size_t blen = 0;
    REQUIRE(enclave_blob_seal(key, data, sizeof data, &blob, &blen) == PROTO_OK);
    CHECK_EQ(s_open_rc(key, blob, blen), PROTO_OK);
    CHECK_EQ(s_open_rc(other, blob, blen), ENCLAVE_E_BLOB_DECRYPT);

    int truncated_ok = 0;
    for (size_t n = 0; n < blen; n++)
        truncated_ok += s_open_rc(key, blob, n) != ENCLAVE_E_BLOB;
    CHECK_EQ(truncated_ok, 0);
    CHECK_EQ(s_open_rc(key, NULL, 0), ENCLAVE_E_BLOB);

    uint8_t *longer = malloc(blen + 1);
    REQUIRE(longer != NULL);
    memcpy(longer, blob, blen);
    longer[blen] = 0;
    CHECK_EQ(s_open_rc(key, longer, blen + 1), ENCLAVE_E_BLOB); /* trailing byte */
    /* declared length raised by one, and the size made to match: the header is the first
       chunk's additional data, so the chunk no longer authenticates */
    proto_be64_put(longer + 5, sizeof data + 1);
    CHECK_EQ(s_open_rc(key, longer, blen + 1), ENCLAVE_E_BLOB_DECRYPT);
    free(longer);

    REQUIRE(blen == enclave_blob_sealed_len(sizeof data));
    uint8_t *copy = malloc(blen ? blen : 1);
    REQUIRE(copy != NULL);
    memcpy(copy, blob, blen);
    proto_be64_put(copy + 5, sizeof data - 1); /* wrong declared length, size unchanged */
    CHECK_EQ(s_open_rc(key, copy, blen), ENCLAVE_E_BLOB);
    memcpy(copy, blob, blen);
    copy[4] = 2; /* version */
    CHECK_EQ(s_open_rc(key, copy, blen), ENCLAVE_E_BLOB);
    memcpy(copy, blob, blen);
    copy[0] = 'X'; /* magic */
    CHECK_EQ(s_open_rc(key, copy, blen), ENCLAVE_E_BLOB);

    /* every single-bit flip is refused (a flip in the magic, version or length is a
       format error; anywhere else the chunk fails to authenticate) */
    int flips_ok = 0, wrong_code = 0;
    memcpy(copy, blob, blen);
    for (size_t i = 0; i < blen; i++)
        for (int bit = 0; bit < 8; bit++) {
            copy[i] ^= (uint8_t)(1u << bit);
            int rc = s_open_rc(key, copy, blen);
            flips_ok += rc == PROTO_OK;
            wrong_code += rc != ENCLAVE_E_BLOB && rc != ENCLAVE_E_BLOB_DECRYPT;
            copy[i] ^= (uint8_t)(1u << bit);
        }
    CHECK_EQ(flips_ok, 0);
    CHECK_EQ(wrong_code, 0);
    free(copy);
    free(blob);
    sodium_memzero(key, sizeof key);
}

static void test_multi_chunk_refusals(void)
{
    uint8_t key[32];
    enclave_testutil_bytes("key", key, sizeof key);
    const size_t len = 3 * 64 * KiB + 100; /* four chunks: three full, one of 100 bytes */
    const size_t full = 64 * KiB + 17;
    uint8_t *data = malloc(len);
    REQUIRE(data != NULL);
    enclave_testutil_bytes("multi", data, len);
    uint8_t *blob = NULL;
    size_t blen = 0;
    REQUIRE(enclave_blob_seal(key, data, len, &blob, &blen) == PROTO_OK);
    CHECK_EQ(s_open_rc(key, blob, blen), PROTO_OK);
    uint8_t *copy = malloc(blen);
    REQUIRE(copy != NULL);
    uint8_t *c[4];
    for (int i = 0; i < 4; i++)
        c[i] = copy + ENCLAVE_BLOB_HEADER_LEN + (size_t)i * full;

    /* truncations at each chunk boundary and one byte either side */
    for (int i = 1; i <= 4; i++) {
        size_t at = ENCLAVE_BLOB_HEADER_LEN + (size_t)i * full;
        if (at > blen)
            at = blen;
        CHECK_EQ(s_open_rc(key, blob, at - 1), ENCLAVE_E_BLOB);
        if (at < blen) {
            CHECK_EQ(s_open_rc(key, blob, at), ENCLAVE_E_BLOB);
            CHECK_EQ(s_open_rc(key, blob, at + 1), ENCLAVE_E_BLOB);
        }
    }

    /* swapped full chunks (1 <-> 2, 2 <-> 3) and a repeated chunk */
    uint8_t *tmp = malloc(full);
    REQUIRE(tmp != NULL);
    for (int i = 0; i < 2; i++) {
        memcpy(copy, blob, blen);
        memcpy(tmp, c[i], full);
        memcpy(c[i], c[i + 1], full);
        memcpy(c[i + 1], tmp, full);
        CHECK_EQ(s_open_rc(key, copy, blen), ENCLAVE_E_BLOB_DECRYPT);
    }
    memcpy(copy, blob, blen);
    memcpy(c[2], c[1], full);
    CHECK_EQ(s_open_rc(key, copy, blen), ENCLAVE_E_BLOB_DECRYPT);
    free(tmp);

    /* the third full chunk dropped and the declared length rewritten to match */
    memcpy(copy, blob, blen);
    memmove(c[2], c[3], 100 + 17);
    proto_be64_put(copy + 5, len - 64 * KiB);
    CHECK_EQ(s_open_rc(key, copy, blen - full), ENCLAVE_E_BLOB_DECRYPT);
    /* the same, but dropping the last chunk (so chunk 3 is now last, tagged MESSAGE) */
    memcpy(copy, blob, blen);
    proto_be64_put(copy + 5, 3 * 64 * KiB);
    CHECK_EQ(s_open_rc(key, copy, blen - (100 + 17)), ENCLAVE_E_BLOB_DECRYPT);

    /* a bit flip in the header and in each chunk */
    size_t where[] = {20,
                      ENCLAVE_BLOB_HEADER_LEN - 1,
                      ENCLAVE_BLOB_HEADER_LEN + 5,
                      ENCLAVE_BLOB_HEADER_LEN + full + 77,
                      ENCLAVE_BLOB_HEADER_LEN + 2 * full,
                      ENCLAVE_BLOB_HEADER_LEN + 3 * full + 50,
                      blen - 1};
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        memcpy(copy, blob, blen);
        copy[where[w]] ^= 0x10;
        CHECK_EQ(s_open_rc(key, copy, blen), ENCLAVE_E_BLOB_DECRYPT);
    }
    free(copy);
    free(blob);
    free(data);
    sodium_memzero(key, sizeof key);
}

/* A hand-made two-chunk blob of 64 KiB + 1 bytes whose tags are TAG1, TAG2 (a well-formed
   one has MESSAGE, FINAL). */
static uint8_t *s_hand_blob(const uint8_t key[32], const uint8_t *data, uint8_t tag1, uint8_t tag2,
                            size_t *blen)
{
    const size_t len = 64 * KiB + 1;
    *blen = enclave_blob_sealed_len(len);
    uint8_t *b = malloc(*blen);
    if (!b)
        return NULL;
    crypto_secretstream_xchacha20poly1305_state st;
    memcpy(b, "GNDB", 4);
    b[4] = 1;
    proto_be64_put(b + 5, len);
    crypto_secretstream_xchacha20poly1305_init_push(&st, b + 13, key);
    uint8_t *at = b + ENCLAVE_BLOB_HEADER_LEN;
    crypto_secretstream_xchacha20poly1305_push(&st, at, NULL, data, 64 * KiB, b,
                                               ENCLAVE_BLOB_HEADER_LEN, tag1);
    at += 64 * KiB + 17;
    crypto_secretstream_xchacha20poly1305_push(&st, at, NULL, data + 64 * KiB, 1, NULL, 0, tag2);
    return b;
}

static void test_tags(void)
{
    uint8_t key[32];
    enclave_testutil_bytes("key", key, sizeof key);
    const size_t len = 64 * KiB + 1;
    uint8_t *data = malloc(len);
    REQUIRE(data != NULL);
    enclave_testutil_bytes("tags", data, len);
    const uint8_t M = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    const uint8_t F = crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    size_t blen = 0;
    uint8_t *good = s_hand_blob(key, data, M, F, &blen);
    REQUIRE(good != NULL);
    /* the hand-made reference is what the opener accepts: the format is as documented */
    uint8_t *p = NULL;
    size_t n = 0;
    CHECK_EQ(enclave_blob_open(key, good, blen, &p, &n), PROTO_OK);
    CHECK(p && n == len && memcmp(p, data, len) == 0);
    enclave_blob_plain_free(p);
    free(good);
    uint8_t *early = s_hand_blob(key, data, F, F, &blen);
    REQUIRE(early != NULL);
    CHECK_EQ(s_open_rc(key, early, blen), ENCLAVE_E_BLOB_DECRYPT);
    free(early);
    uint8_t *nofinal = s_hand_blob(key, data, M, M, &blen);
    REQUIRE(nofinal != NULL);
    CHECK_EQ(s_open_rc(key, nofinal, blen), ENCLAVE_E_BLOB_DECRYPT);
    free(nofinal);
    free(data);
    sodium_memzero(key, sizeof key);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    enclave_testutil_seed_init();
    test_round_trip();
    test_small_blob_refusals();
    test_multi_chunk_refusals();
    test_tags();
    return testutil_done("test_enclave_blob");
}
