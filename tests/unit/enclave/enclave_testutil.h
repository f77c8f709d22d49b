/*  enclave_testutil: what the enclave unit tests share: the printed, replayable test seed
 *  (GENIE_TEST_SEED=N) and the deterministic bytes and keys derived from it by label.
 *  Header-only, included once per test executable. */
#ifndef GENIE_ENCLAVE_TESTUTIL_H
#define GENIE_ENCLAVE_TESTUTIL_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_key.h"

/* This test's seed, set once by enclave_testutil_seed_init at the start of main. */
static uint8_t enclave_testutil_seed[randombytes_SEEDBYTES];

/* Takes the seed from GENIE_TEST_SEED or draws one, prints it so a failure replays, and
   returns it. */
static inline unsigned long long enclave_testutil_seed_init(void)
{
    const char *env = getenv("GENIE_TEST_SEED");
    unsigned long long v = env ? strtoull(env, NULL, 10) : (unsigned long long)randombytes_random();
    printf("test seed: GENIE_TEST_SEED=%llu\n", v);
    memset(enclave_testutil_seed, 0, sizeof enclave_testutil_seed);
    memcpy(enclave_testutil_seed, &v, sizeof v);
    return v;
}

/* Deterministic bytes for LABEL under the test seed. */
static inline void enclave_testutil_bytes(const char *label, uint8_t *out, size_t n)
{
    uint8_t seed[randombytes_SEEDBYTES];
    crypto_generichash(seed, sizeof seed, (const uint8_t *)label, strlen(label),
                       enclave_testutil_seed, sizeof enclave_testutil_seed);
    randombytes_buf_deterministic(out, n, seed);
}

/* A deterministic signing key for LABEL (the caller destroys it). */
static inline proto_key_t *enclave_testutil_key(const char *label)
{
    uint8_t seed[32];
    enclave_testutil_bytes(label, seed, sizeof seed);
    proto_key_t *k = proto_key_from_seed(seed);
    sodium_memzero(seed, sizeof seed);
    return k;
}

/* One signed format under test: decodes B (LEN bytes) and, with VERIFY, also verifies it
   with what CTX holds; returns the first failing code (PROTO_OK: accepted). */
typedef int (*enclave_testutil_take_fn)(const uint8_t *b, size_t len, bool verify, const void *ctx);

/* How many proper prefixes of B (LEN bytes) TAKE decodes: 0 for a strict decoder. */
static inline int enclave_testutil_prefixes_accepted(const uint8_t *b, size_t len,
                                                     enclave_testutil_take_fn take, const void *ctx)
{
    int accepted = 0;
    for (size_t n = 0; n < len; n++)
        accepted += take(b, n, false, ctx) == PROTO_OK;
    return accepted;
}

/* How many single-bit flips of B (LEN bytes) TAKE decodes and verifies (B is restored after
   each): 0 when the signature covers every byte. */
static inline int enclave_testutil_flips_accepted(uint8_t *b, size_t len,
                                                  enclave_testutil_take_fn take, const void *ctx)
{
    int accepted = 0;
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            accepted += take(b, len, true, ctx) == PROTO_OK;
            b[i] ^= (uint8_t)(1u << bit);
        }
    return accepted;
}

/* The decoder's codes for B (LEN bytes) with one zero byte appended (RC[0]; PROTO_E_TRAILING
   expected) and for MAX + 1 bytes starting with B (RC[1]; PROTO_E_TOO_BIG expected). */
static inline void enclave_testutil_bounds(const uint8_t *b, size_t len, size_t max,
                                           enclave_testutil_take_fn take, const void *ctx,
                                           int rc[2])
{
    uint8_t *big = calloc(1, (max > len ? max : len) + 2);
    rc[0] = rc[1] = PROTO_E_NOMEM;
    if (!big)
        return;
    memcpy(big, b, len);
    rc[0] = take(big, len + 1, false, ctx);
    rc[1] = take(big, max + 1, false, ctx);
    free(big);
}

#endif
